import { certgateProject } from '../../vitest.shared.js';

export default certgateProject('adapter-tests');
