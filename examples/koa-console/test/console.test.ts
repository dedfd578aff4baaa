/** The Express console's seed flow (examples/console/test/flow.ts), unchanged, through the Koa console. */
import { consoleFlow } from '../../console/test/flow.js';
import { startConsole } from '../src/app.js';

consoleFlow('console seed flow over HTTPS (Koa)', startConsole);
