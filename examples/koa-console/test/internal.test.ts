/** The last-resort error handler of the Koa console (examples/console/test/internal.ts). */
import { internalErrorTests } from '../../console/test/internal.js';
import { startConsole } from '../src/app.js';

internalErrorTests('Koa console', startConsole);
