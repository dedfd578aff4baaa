// @ts-check
/**
 * `pnpm --filter @certgate/example-koa-console start`: the certgate console on Koa over HTTPS. Environment (DESIGN §5.2): PORT (8443), HOST
 * (127.0.0.1), CERTGATE_DATA_DIR (./data of this example), CERTGATE_ADMIN_PASSWORD (unset: generated
 * once and printed), CERTGATE_APP_NAME, CERTGATE_BREAK_GLASS (optional | disabled: lower the stored
 * mode at start — for an operator locked out).
 */
import { fileURLToPath } from 'node:url';
import { startConsole } from './app.js';

const env = process.env;
const port = env.PORT === undefined || env.PORT === '' ? 8443 : Number(env.PORT);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, not ${JSON.stringify(env.PORT)}`);
  process.exit(2);
}

try {
  const c = await startConsole({
    dataDir: env.CERTGATE_DATA_DIR || fileURLToPath(new URL('../data', import.meta.url)),
    port,
    host: env.HOST || '127.0.0.1',
    adminPassword: env.CERTGATE_ADMIN_PASSWORD,
    appName: env.CERTGATE_APP_NAME,
    breakGlass: env.CERTGATE_BREAK_GLASS,
  });
  const stop = () => {
    c.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (err) {
  console.error(`certgate console (Koa) failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
