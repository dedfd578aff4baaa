// @ts-check
/**
 * `pnpm --filter @certgate/example-koa-console start`: the certgate console on Koa over HTTPS. The
 * same environment as the Express console (DESIGN §5.2; `examples/console/src/startup.js`): PORT
 * (8443), HOST (127.0.0.1), CERTGATE_DATA_DIR (./data of this example), CERTGATE_ADMIN_PASSWORD
 * (unset: generated once and printed), CERTGATE_APP_NAME, CERTGATE_BREAK_GLASS (optional | disabled).
 */
import { fileURLToPath } from 'node:url';
import { runConsoleMain } from '@certgate/example-console/src/startup.js';
import { startConsole } from './app.js';

await runConsoleMain(startConsole, { name: 'certgate console (Koa)', defaultDataDir: fileURLToPath(new URL('../data', import.meta.url)) });
