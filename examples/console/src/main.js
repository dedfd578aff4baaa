// @ts-check
/**
 * `pnpm start`: the certgate console over HTTPS. Environment (DESIGN §5.2): PORT (8443), HOST
 * (127.0.0.1), CERTGATE_DATA_DIR (./data of this example), CERTGATE_ADMIN_PASSWORD (unset: generated
 * once and printed), CERTGATE_APP_NAME, CERTGATE_BREAK_GLASS (optional | disabled: lower the stored
 * mode at start — for an operator locked out). See `src/startup.js`.
 */
import { fileURLToPath } from 'node:url';
import { startConsole } from './app.js';
import { runConsoleMain } from './startup.js';

await runConsoleMain(startConsole, { name: 'certgate console', defaultDataDir: fileURLToPath(new URL('../data', import.meta.url)) });
