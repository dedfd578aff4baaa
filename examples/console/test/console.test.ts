/** The seed flow (./flow.ts) through the Express console. */
import { startConsole } from '../src/app.js';
import { consoleFlow } from './flow.js';

consoleFlow('console seed flow over HTTPS (Express)', startConsole);
