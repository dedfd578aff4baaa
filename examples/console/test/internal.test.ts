/** The last-resort error handler of the Express console (./internal.ts). */
import { startConsole } from '../src/app.js';
import { internalErrorTests } from './internal.js';

internalErrorTests('Express console', startConsole);
