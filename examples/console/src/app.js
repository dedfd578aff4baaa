// @ts-check
/**
 * The certgate settings console (Express over HTTPS): DESIGN §5.2. `startConsole()` is what
 * `src/main.js` (the `pnpm start` entry) and the tests call.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import https from 'node:https';
import { join, resolve } from 'node:path';
import express from 'express';
import { createController, createFileAuditLog, createFileSettingsStore } from '@certgate/core';
import { createPrometheusMetrics } from '@certgate/core/metrics';
import { attachController } from '@certgate/tls';
import { mtls, settingsRouter } from '@certgate/express';
import { ensureServerCertificate } from './dev-certs.js';
import { adminPassword } from './password.js';

/**
 * The console's web page (`public/`): plain HTML/CSS/JS, read once at start, served with a strict
 * CSP (no inline script or style). Loaded without the password; the certificate gate still applies.
 */
const PUBLIC_DIR = new URL('../public/', import.meta.url);
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
/** @type {Record<string, { type: string, body: Buffer }>} */
const PAGE_FILES = {
  '/': { type: 'text/html; charset=utf-8', body: readFileSync(new URL('index.html', PUBLIC_DIR)) },
  '/app.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('app.js', PUBLIC_DIR)) },
  '/style.css': { type: 'text/css; charset=utf-8', body: readFileSync(new URL('style.css', PUBLIC_DIR)) },
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
 * @property {() => Date} [now] The controller's clock (tests move it to pass a confirm window's deadline). Default the system clock.
 * @property {'admin' | 'public'} [metricsAccess] Who may read `GET /metrics`: `admin` (Basic auth, default) or `public`. The certificate gate applies in `enforced` either way.
 */

/**
 * Starts the console. Resolves once it listens.
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
  if (password.generated) {
    log(`Admin password (shown once; only its hash is stored): ${password.generated}`);
  }

  const store = await createFileSettingsStore({ dir: dataDir, pollIntervalMs: options.pollIntervalMs ?? 1000 });
  const audit = createFileAuditLog({ path: join(dataDir, 'audit.jsonl') });
  const metrics = createPrometheusMetrics();
  const controller = await createController({ store, audit, appName, metrics, ...(options.now ? { now: options.now } : {}) });

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

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(mtls(controller));
  app.use(settingsRouter(controller, { authenticate: (_user, pw) => password.check(pw), metrics: { access: options.metricsAccess ?? 'admin' } }));
  for (const [path, file] of Object.entries(PAGE_FILES)) {
    app.get(path, (_req, res) => {
      res.set({ 'content-type': file.type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      res.set({ 'content-security-policy': PAGE_CSP, 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' });
      res.send(file.body);
    });
  }
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'NOT_FOUND', message: 'Not found.' } });
  });
  app.use(
    /** @type {import('express').ErrorRequestHandler} */
    (err, _req, res, _next) => {
      console.error('[console] request failed:', err instanceof Error ? err.message : err);
      if (res.headersSent) return void res.end();
      res.status(500).json({ error: { code: 'INTERNAL', message: 'The request failed.' } });
    },
  );

  const server = https.createServer({ key: tlsMaterial.key, cert: tlsMaterial.cert, minVersion: 'TLSv1.2' }, app);
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  const attachment = attachController(server, controller);
  await new Promise((res, rej) => {
    server.once('error', rej);
    server.listen(port, host, () => res(undefined));
  });
  const addr = /** @type {import('node:net').AddressInfo} */ (server.address());
  const url = `https://${host}:${addr.port}/`;
  log(`certgate console listening on ${url} (mTLS ${status.ok ? status.state.mode : 'UNAVAILABLE'})`);

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
