// @ts-check
/**
 * What the Express console (`src/app.js`, `src/main.js`) and the Koa console
 * (`examples/koa-console`) share at start-up: reading the environment, the first start (data
 * directory, development certificates, a generated admin password printed once), the controller with
 * its file store, audit log and Prometheus metrics, break-glass at start, and listening / closing the
 * HTTPS server. Each console adds only its framework's app.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseUrl } from 'node:url';
import { createController, createCrlFetcher, createFileAuditLog, createOcspClient, createFileSettingsStore, createForwardedCertificates } from '@certgate/core';
import { createPrometheusMetrics } from '@certgate/core/metrics';
import { attachController } from '@certgate/tls';
import { ensureServerCertificate } from './dev-certs.js';
import { adminPassword } from './password.js';

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
 * @property {string[]} [trustedProxies] Behind a TLS-terminating proxy: its addresses (IPs / CIDRs). Unset: client certificates come from the console's own TLS connections only.
 * @property {import('@certgate/core').ForwardedFormat} [forwardedFormat] How that proxy forwards the certificate (docs/proxies.md). Default `nginx`.
 * @property {boolean} [fetchCrls] Also fetch CRLs from the http(s) distribution points of validated paths (core `createCrlFetcher`; 'soft' unless CRLs are uploaded). Default false.
 * @property {boolean} [ocsp] Also ask the http(s) OCSP responders named in the authorityInfoAccess of validated paths (core `createOcspClient`; 'soft' unless CRLs are uploaded). Default false.
 */

/**
 * The first part of a console's start: data directory, development TLS material, admin password
 * (a generated one is logged once), store, audit log, metrics, controller, break-glass (throws for a
 * value other than `optional` / `disabled`) and a warning when the store is unavailable.
 * @param {ConsoleOptions} options
 */
export async function prepareConsole(options) {
  const log = options.log ?? ((line) => console.log(line));
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const appName = options.appName || 'certgate console';
  const host = options.host || '127.0.0.1';
  const port = options.port ?? 8443;

  // Throws ERR_CERTGATE_INVALID_OPTION for a bad proxy list or format, before anything is written.
  const forwarded =
    options.trustedProxies && options.trustedProxies.length > 0
      ? createForwardedCertificates({ trustedProxies: options.trustedProxies, format: options.forwardedFormat ?? 'nginx' })
      : undefined;

  const tlsMaterial = await ensureServerCertificate(dataDir);
  if (tlsMaterial.generated) log(`Generated a development CA and a server certificate for localhost in ${dataDir}`);
  const password = await adminPassword(dataDir, options.adminPassword);
  if (password.generated) log(`Admin password (shown once; only its hash is stored): ${password.generated}`);

  const store = await createFileSettingsStore({ dir: dataDir, pollIntervalMs: options.pollIntervalMs ?? 1000 });
  const audit = createFileAuditLog({ path: join(dataDir, 'audit.jsonl') });
  const metrics = createPrometheusMetrics();
  const controller = await createController({
    store,
    audit,
    appName,
    metrics,
    ...(options.now ? { now: options.now } : {}),
    ...(options.fetchCrls || options.ocsp
      ? { verifyOptions: { ...(options.fetchCrls ? { crlFetcher: createCrlFetcher() } : {}), ...(options.ocsp ? { ocspClient: createOcspClient() } : {}) } }
      : {}),
  });

  if (options.breakGlass !== undefined && options.breakGlass !== '') {
    const mode = options.breakGlass;
    if (mode !== 'optional' && mode !== 'disabled') {
      controller.close();
      store.close?.();
      throw new Error(`CERTGATE_BREAK_GLASS must be "optional" or "disabled", not ${JSON.stringify(mode)}`);
    }
    const r = await controller.breakGlass(mode, 'break-glass (CERTGATE_BREAK_GLASS)');
    if (r.ok) log(`Break-glass: mTLS mode is now ${r.state.mode} (version ${r.state.version}).`);
    else log(`Break-glass failed: ${r.refusal.message}`);
  }
  const status = controller.status();
  if (!status.ok) log(`WARNING: ${status.message} Every request is denied; see docs/console.md (break-glass).`);

  if (forwarded) log(`Client certificates forwarded by ${options.trustedProxies?.join(', ')} (${forwarded.format}) are believed; see docs/proxies.md.`);
  return { log, dataDir, appName, host, port, tlsMaterial, password, store, controller, status, metricsAccess: options.metricsAccess ?? 'admin', forwarded };
}

/** @typedef {Awaited<ReturnType<typeof prepareConsole>>} PreparedConsole */

/**
 * The last part: attaches the controller to `server` (an https.Server over `prepared.tlsMaterial`),
 * listens, logs `<name> listening on <url>` and returns the console handle.
 * @param {import('node:https').Server} server
 * @param {PreparedConsole} prepared
 * @param {string} name e.g. `certgate console`.
 */
export async function listenConsole(server, prepared, name) {
  const { controller, store, host, port, status, tlsMaterial, password, dataDir } = prepared;
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  const attachment = attachController(server, controller);
  await new Promise((res, rej) => {
    server.once('error', rej);
    server.listen(port, host, () => res(undefined));
  });
  const addr = /** @type {import('node:net').AddressInfo} */ (server.address());
  const url = `https://${host}:${addr.port}/`;
  prepared.log(`${name} listening on ${url} (mTLS ${status.ok ? status.state.mode : 'UNAVAILABLE'})`);

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

/** The 404 body of both consoles for what they do not serve. */
const NOT_FOUND_BODY = JSON.stringify({ error: { code: 'NOT_FOUND', message: 'Not found.' } });

/**
 * Wraps a console's request handler (the Express app, Koa's `app.callback()`): a request whose target
 * cannot be parsed as a URL (an absolute-form target with a broken host, `GET http://[::1/api/… HTTP/1.1`)
 * is answered 404 NOT_FOUND as JSON, like any other path neither console serves. Without this, Express's
 * router gives up on it with its own HTML 404 page and Koa's `ctx.path` throws (a 500 INTERNAL and a log
 * line per request). Origin-form targets (`/…`, every browser and client) are not looked at.
 * @param {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void} handler
 * @returns {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void}
 */
export function guardRequestTarget(handler) {
  return (req, res) => {
    if (readableTarget(req.url)) return handler(req, res);
    req.resume();
    res.writeHead(404, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.end(NOT_FOUND_BODY);
  };
}

/** @param {string | undefined} url */
function readableTarget(url) {
  if (typeof url !== 'string') return false;
  if (url.startsWith('/')) return true;
  try {
    parseUrl(url); // what Express's router and Koa's ctx.path use (through parseurl)
    return true;
  } catch {
    return false;
  }
}

/**
 * A 0/1 environment flag.
 * @param {string} name
 * @param {string} value
 */
function flag(name, value) {
  if (value === '1' || value === 'true') return true;
  if (value === '0' || value === 'false') return false;
  throw new RangeError(`${name} must be 1 or 0, not ${JSON.stringify(value)}`);
}

/**
 * The console options from the environment (DESIGN §5.2): PORT (8443), HOST (127.0.0.1),
 * CERTGATE_DATA_DIR (`defaultDataDir`), CERTGATE_ADMIN_PASSWORD, CERTGATE_APP_NAME,
 * CERTGATE_BREAK_GLASS; behind a proxy CERTGATE_TRUSTED_PROXIES (comma-separated IPs / CIDRs) and
 * CERTGATE_FORWARDED_FORMAT (default `nginx`); CERTGATE_FETCH_CRLS=1 to fetch CRLs from distribution
 * points; CERTGATE_OCSP=1 to ask OCSP responders. Throws for a PORT that is not a port number, or a
 * CERTGATE_FETCH_CRLS or CERTGATE_OCSP other than 0/1.
 * @param {NodeJS.ProcessEnv} env
 * @param {string} defaultDataDir
 * @returns {ConsoleOptions}
 */
export function consoleOptionsFromEnv(env, defaultDataDir) {
  const port = env.PORT === undefined || env.PORT === '' ? 8443 : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`PORT must be a port number, not ${JSON.stringify(env.PORT)}`);
  return {
    dataDir: env.CERTGATE_DATA_DIR || defaultDataDir,
    port,
    host: env.HOST || '127.0.0.1',
    adminPassword: env.CERTGATE_ADMIN_PASSWORD,
    appName: env.CERTGATE_APP_NAME,
    breakGlass: env.CERTGATE_BREAK_GLASS,
    ...(env.CERTGATE_TRUSTED_PROXIES ? { trustedProxies: env.CERTGATE_TRUSTED_PROXIES.split(',').map((x) => x.trim()).filter(Boolean) } : {}),
    ...(env.CERTGATE_FETCH_CRLS ? { fetchCrls: flag('CERTGATE_FETCH_CRLS', env.CERTGATE_FETCH_CRLS) } : {}),
    ...(env.CERTGATE_OCSP ? { ocsp: flag('CERTGATE_OCSP', env.CERTGATE_OCSP) } : {}),
    ...(env.CERTGATE_FORWARDED_FORMAT ? { forwardedFormat: /** @type {import('@certgate/core').ForwardedFormat} */ (env.CERTGATE_FORWARDED_FORMAT) } : {}),
  };
}

/**
 * A console's `main`: options from `process.env`, start, stop on SIGINT / SIGTERM. Exits 2 for a bad
 * PORT and 1 when the console fails to start (the reason on stderr, `<name> failed to start: …`).
 * @param {(options: ConsoleOptions) => Promise<{ close(): Promise<void> }>} startConsole
 * @param {{ name: string, defaultDataDir: string }} how
 */
export async function runConsoleMain(startConsole, how) {
  let options;
  try {
    options = consoleOptionsFromEnv(process.env, how.defaultDataDir);
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(2);
  }
  try {
    const c = await startConsole(options);
    const stop = () => {
      c.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } catch (err) {
    console.error(`${how.name} failed to start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
