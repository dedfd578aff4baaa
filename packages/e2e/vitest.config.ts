import { certgateProject } from '../../vitest.shared.js';

export default certgateProject('e2e', { testTimeout: 120_000, hookTimeout: 300_000 });
