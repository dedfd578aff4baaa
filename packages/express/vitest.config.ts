import { certgateProject } from '../../vitest.shared.js';

// Type tests (test/*.test-d.ts) run with the unit tests; they resolve @certgate/* through dist types.
export default certgateProject('express', { typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' } });
