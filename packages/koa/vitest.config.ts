import { certgateProject } from '../../vitest.shared.js';

export default certgateProject('koa', { typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' } });
