import { certgateProject } from '../../vitest.shared.js';

export default certgateProject('example-tls-service');
