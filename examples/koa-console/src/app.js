// @ts-check
/**
 * The certgate settings console on Koa over HTTPS: DESIGN §5.2, the same API and web page as the
 * Express console (`examples/console`), whose page files (`public/`) and start-up (`src/startup.js`:
 * environment, development certificates, password, controller with metrics, break-glass) it uses as
 * they are. `startConsole()` is what `src/main.js` and the tests call.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Koa from 'koa';
import { mtls, settingsRouter } from '@certgate/koa';
import { guardRequestTarget, listenConsole, prepareConsole } from '@certgate/example-console/src/startup.js';

/** The Express console's page (served, not copied): read once at start, strict CSP. */
const PUBLIC_DIR = join(dirname(createRequire(import.meta.url).resolve('@certgate/example-console/package.json')), 'public');
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
/** @type {Record<string, { type: string, body: Buffer }>} */
const PAGE_FILES = {
  '/': { type: 'text/html; charset=utf-8', body: readFileSync(join(PUBLIC_DIR, 'index.html')) },
  '/app.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(join(PUBLIC_DIR, 'app.js')) },
  '/style.css': { type: 'text/css; charset=utf-8', body: readFileSync(join(PUBLIC_DIR, 'style.css')) },
};

/** @typedef {import('@certgate/example-console/src/startup.js').ConsoleOptions} ConsoleOptions */

/**
 * Starts the Koa console. Resolves once it listens.
 * @param {ConsoleOptions} options
 */
export async function startConsole(options) {
  const prepared = await prepareConsole(options);
  const { controller, password } = prepared;

  const app = new Koa();
  app.silent = true;
  // Errors: a JSON 500 without details (the reason goes to the log only).
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      console.error('[koa-console] request failed:', err instanceof Error ? err.message : err);
      ctx.status = 500;
      ctx.body = { error: { code: 'INTERNAL', message: 'The request failed.' } };
    }
  });
  const { forwarded } = prepared;
  app.use(mtls(controller, { forwarded }));
  app.use(settingsRouter(controller, { authenticate: (_user, pw) => password.check(pw), metrics: { access: prepared.metricsAccess }, forwarded }));
  app.use(async (ctx) => {
    const file = ctx.method === 'GET' || ctx.method === 'HEAD' ? PAGE_FILES[ctx.path] : undefined;
    if (!file) {
      ctx.status = 404;
      ctx.body = { error: { code: 'NOT_FOUND', message: 'Not found.' } };
      return;
    }
    ctx.set({ 'content-type': file.type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    ctx.set({ 'content-security-policy': PAGE_CSP, 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' });
    ctx.body = file.body;
  });

  const server = https.createServer({ key: prepared.tlsMaterial.key, cert: prepared.tlsMaterial.cert, minVersion: 'TLSv1.2' }, guardRequestTarget(app.callback()));
  return listenConsole(server, prepared, 'certgate console (Koa)');
}
