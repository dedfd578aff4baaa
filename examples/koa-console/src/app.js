// @ts-check
/**
 * The certgate settings console on Koa over HTTPS: DESIGN §5.2, the same API and web page as the
 * Express console (`examples/console`), whose page files (`public/`), development certificates and
 * password handling it uses as they are. `startConsole()` is what `src/main.js` and the tests call.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import https from 'node:https';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import Koa from 'koa';
import { createController, createFileAuditLog, createFileSettingsStore } from '@certgate/core';
import { attachController } from '@certgate/tls';
import { mtls, settingsRouter } from '@certgate/koa';
import { ensureServerCertificate } from '@certgate/example-console/src/dev-certs.js';
import { adminPassword } from '@certgate/example-console/src/password.js';

/** The Express console's page (served, not copied): read once at start, strict CSP. */
const PUBLIC_DIR = join(dirname(createRequire(import.meta.url).resolve('@certgate/example-console/package.json')), 'public');
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
/** @type {Record<string, { type: string, body: Buffer }>} */
const PAGE_FILES = {
  '/': { type: 'text/html; charset=utf-8', body: readFileSync(join(PUBLIC_DIR, 'index.html')) },
  '/app.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(join(PUBLIC_DIR, 'app.js')) },
  '/style.css': { type: 'text/css; charset=utf-8', body: readFileSync(join(PUBLIC_DIR, 'style.css')) },
};

/**
 * @typedef {object} ConsoleOptions
 * @property {string} dataDir File store, audit log, server certificate, password hash.
 * @property {number} [port] Default 8443; 0 picks a free port.
 * @property {string} [host] Default 127.0.0.1.
 * @property {string} [adminPassword] Unset: generated on the first start, printed once, only its hash stored.
 * @property {string} [appName] The `{app}` of the missing-certificate text. Default `certgate console`.
 * @property {string} [breakGlass] `optional` or `disabled`: lower the stored mode at start (audited).
 * @property {number} [pollIntervalMs] How often the store looks for changes by other processes. Default 1000.
 * @property {(line: string) => void} [log] Default console.log.
 */

/**
 * Starts the Koa console. Resolves once it listens.
 * @param {ConsoleOptions} options
 */
export async function startConsole(options) {
  const log = options.log ?? ((line) => console.log(line));
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const appName = options.appName || 'certgate console';
  const host = options.host || '127.0.0.1';
  const port = options.port ?? 8443;

  const tlsMaterial = await ensureServerCertificate(dataDir);
  if (tlsMaterial.generated) log(`Generated a development CA and a server certificate for localhost in ${dataDir}`);
  const password = await adminPassword(dataDir, options.adminPassword);
  if (password.generated) log(`Admin password (shown once; only its hash is stored): ${password.generated}`);

  const store = await createFileSettingsStore({ dir: dataDir, pollIntervalMs: options.pollIntervalMs ?? 1000 });
  const audit = createFileAuditLog({ path: join(dataDir, 'audit.jsonl') });
  const controller = await createController({ store, audit, appName });

  if (options.breakGlass !== undefined && options.breakGlass !== '') {
    const mode = options.breakGlass;
    if (mode !== 'optional' && mode !== 'disabled') {
      throw new Error(`CERTGATE_BREAK_GLASS must be "optional" or "disabled", not ${JSON.stringify(mode)}`);
    }
    const r = await controller.breakGlass(mode, 'break-glass (CERTGATE_BREAK_GLASS)');
    if (r.ok) log(`Break-glass: mTLS mode is now ${r.state.mode} (version ${r.state.version}).`);
    else log(`Break-glass failed: ${r.refusal.message}`);
  }
  const status = controller.status();
  if (!status.ok) log(`WARNING: ${status.message} Every request is denied; see docs/console.md (break-glass).`);

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
  app.use(mtls(controller));
  app.use(settingsRouter(controller, { authenticate: (_user, pw) => password.check(pw) }));
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

  const server = https.createServer({ key: tlsMaterial.key, cert: tlsMaterial.cert, minVersion: 'TLSv1.2' }, app.callback());
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  const attachment = attachController(server, controller);
  await new Promise((res, rej) => {
    server.once('error', rej);
    server.listen(port, host, () => res(undefined));
  });
  const addr = /** @type {import('node:net').AddressInfo} */ (server.address());
  const url = `https://${host}:${addr.port}/`;
  log(`certgate console (Koa) listening on ${url} (mTLS ${status.ok ? status.state.mode : 'UNAVAILABLE'})`);

  return {
    server,
    controller,
    url,
    port: addr.port,
    dataDir,
    devCaPem: tlsMaterial.devCaPem,
    generatedPassword: password.generated,
    /** Stops listening, closes open connections and the store watch. */
    async close() {
      attachment.detach();
      controller.close();
      store.close?.();
      await new Promise((res) => {
        server.close(() => res(undefined));
        server.closeAllConnections();
      });
    },
  };
}
