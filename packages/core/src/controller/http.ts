/**
 * @module
 * The console's settings API (DESIGN §5.2) without a framework: request-body reading with a limit,
 * body validation, Basic auth, the `Settings` / whoami views, the error bodies and their statuses,
 * and the 403 denial (JSON or HTML). Adapters (Express, Koa) only translate their request into an
 * {@link ApiRequest} and write the {@link HttpResponse} back.
 */
import type { ForwardedCertificates } from '../forwarded.js';
import { timingSafeEqual } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DENIAL_PAGE_CSP, renderDenialPage } from '../denial-page.js';
import { CertgateError } from '../errors.js';
import { CONFIRM_WINDOW_LIMITS, type Refusal } from '../mode/machine.js';
import { EXTENSION_ROUTES, handleExtensionRoute, metricsResponse } from '../preview/console-routes.js';
import { expiresInDays } from '../warnings.js';
import type { ChangeOutcome, Controller, ControllerRefusal, Decision, SaveRequest, SettingsView } from './index.js';
import { parseJsonObject, type Parsed } from './json-body.js';

/** A response to write: status, headers and the body text. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Request headers as node:http gives them (lower-case names). */
export type HttpHeaders = Record<string, string | string[] | undefined>;

/** The result of reading a request body. */
export type BodyResult = { ok: true; text: string } | { ok: false; code: 'PAYLOAD_TOO_LARGE' | 'BODY_UNREADABLE'; message: string };

/** One API request, as an adapter hands it over. */
export interface ApiRequest {
  method: string;
  /** The path without the query string, e.g. `/api/settings/mtls`. */
  path: string;
  headers: HttpHeaders;
  /** The controller's decision for this request's connection (the adapter's gate made it). */
  decision: Decision;
  /** The peer chain of this request's connection (leaf first, DER), or null. */
  peerChain: readonly Uint8Array[] | null;
  /** Reads the body; called at most once, only after authentication succeeded. */
  readBody(limitBytes: number): Promise<BodyResult>;
  /** The query string without `?` (e.g. `limit=10` for `GET /api/audit?limit=10`). Default none. */
  query?: string;
}

/** One value of a request header (the first when it is repeated), or null. */
function headerText(v: string | string[] | undefined): string | null {
  const x = Array.isArray(v) ? v[0] : v;
  return typeof x === 'string' ? x : null;
}

/** `scheme://host[:port]` exactly, as browsers send it in `Origin`. */
function isOrigin(o: string): boolean {
  try {
    const u = new URL(o);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.origin === o.toLowerCase();
  } catch {
    return false;
  }
}

/** Options of {@link createConsoleApi}. */
export interface ConsoleApiOptions {
  /** Checks the Basic-auth password of user `admin`. Compare in constant time (e.g. scrypt + timingSafeEqual). */
  authenticate(user: string, password: string): boolean | Promise<boolean>;
  /** The Basic-auth realm. Default `certgate`. */
  realm?: string;
  /** Largest accepted request body in bytes; larger gets 413 `PAYLOAD_TOO_LARGE`. Default 1 MiB. */
  bodyLimitBytes?: number;
  /** The path prefix of the API. Default `/api`. */
  prefix?: string;
  /**
   * `GET /metrics` (served when the controller has a `metrics` sink): its path (default `/metrics`) and
   * who may read it: `admin` (default: Basic auth like `/api/`) or `public`. In `enforced` the
   * certificate gate applies first either way. `false`: not served.
   */
  metrics?: { path?: string; access?: 'admin' | 'public' } | false;
  /**
   * Origins (`https://host[:port]`) besides the console's own whose pages may send state-changing
   * requests (PUT, POST …) from a browser, e.g. when a proxy serves the console under another name.
   * Default none: a browser request that says it comes from another site (`Sec-Fetch-Site:
   * cross-site` / `same-site`; without that header, an `Origin` whose host is not the request's `Host`) gets 403
   * `CROSS_SITE_REQUEST` before any password check. Clients that are not browsers (curl, scripts)
   * send neither header and are not affected.
   */
  allowedOrigins?: readonly string[];
  /**
   * Behind a TLS-terminating proxy: where the adapters take the requester's certificate from (core
   * {@link createForwardedCertificates}); the same source as their `mtls()` gate's. Default: the
   * request's own connection.
   */
  forwarded?: ForwardedCertificates;
}

/** The console API. `handle` returns null for paths outside the prefix. */
export interface ConsoleApi {
  readonly bodyLimitBytes: number;
  handle(request: ApiRequest): Promise<HttpResponse | null>;
}

/** The reason shown while the host app's login uses smartcards. */
export const SMARTCARD_UNAVAILABLE_REASON =
  'mTLS is unavailable because the login method is set to smartcard, which also uses client certificates. Switch the login method to password to use mTLS.';

const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

/** A JSON response with certgate's standard headers. */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** `{ error: { code, message, … } }` with the given status. */
export function errorResponse(status: number, error: { code: string; message: string; [k: string]: unknown }, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): HttpResponse {
  return jsonResponse(status, { error, ...extra }, headers);
}

/** The HTTP status of each refusal code (one table, used by every adapter). */
export function statusForRefusal(code: ControllerRefusal['code'] | string): number {
  switch (code) {
    case 'VERSION_CONFLICT':
    case 'NO_PENDING_CONFIRMATION':
    case 'CONFIRMATION_EXPIRED':
    case 'CONFIRMATION_NOT_DUE':
    case 'MTLS_UNAVAILABLE':
    case 'MTLS_ENABLED':
      return 409;
    case 'CLIENT_CERT_MISSING':
    case 'CLIENT_CERT_UNTRUSTED':
      return 422;
    case 'CA_REQUIRED':
    case 'CA_INVALID':
    case 'CRL_INVALID':
    case 'INVALID_JSON':
    case 'INVALID_BODY':
    case 'INVALID_QUERY':
      return 400;
    case 'PAYLOAD_TOO_LARGE':
      return 413;
    case 'SETTINGS_UNAVAILABLE':
      return 503;
    default:
      return 500;
  }
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** True when the denial should be JSON: API paths and clients that accept JSON rather than HTML. */
export function wantsJson(path: string, headers: HttpHeaders, apiPrefix = '/api'): boolean {
  if (path === apiPrefix || path.startsWith(`${apiPrefix}/`)) return true;
  const accept = String(headers.accept ?? '').toLowerCase();
  if (accept.includes('text/html')) return false;
  return accept.includes('application/json') || accept.includes('+json');
}

/**
 * The 403 response for a denied decision: `{ error: { code, message, reason? } }` for API paths and
 * JSON clients, the readable HTML page of {@link renderDenialPage} for browsers (with its own CSP).
 * Nothing of the request is echoed.
 */
export function denialResponse(decision: Decision, request: { path: string; headers: HttpHeaders }, apiPrefix = '/api'): HttpResponse {
  const d = decision.denial ?? { code: 'CLIENT_CERT_UNTRUSTED' as const, message: 'Access denied.' };
  if (wantsJson(request.path, request.headers, apiPrefix)) {
    return errorResponse(403, { code: d.code, message: d.message, ...(d.reason ? { reason: d.reason } : {}) });
  }
  return {
    status: 403,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'content-security-policy': DENIAL_PAGE_CSP },
    body: renderDenialPage(decision),
  };
}

/**
 * Reads a request body up to `limitBytes`. A larger body (by `content-length` or as it streams) is
 * refused as soon as that is known and the rest is discarded, never buffered.
 */
export function readRequestBody(req: Readable & { headers: HttpHeaders }, limitBytes: number): Promise<BodyResult> {
  const tooLarge: BodyResult = { ok: false, code: 'PAYLOAD_TOO_LARGE', message: `The request body is larger than ${limitBytes} bytes.` };
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    req.resume(); // discard, so the connection can still carry the response
    return Promise.resolve(tooLarge);
  }
  if ((req as { readableEnded?: boolean }).readableEnded) {
    // Another body parser consumed the stream first; never wait for data that will not come.
    return Promise.resolve({ ok: false, code: 'BODY_UNREADABLE', message: 'The request body was already read by another handler.' });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (r: BodyResult): void => {
      if (done) return;
      done = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      if (!r.ok) {
        req.on('error', () => {});
        req.resume();
      }
      resolve(r);
    };
    const onData = (chunk: Buffer | string): void => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += b.length;
      if (size > limitBytes) return finish(tooLarge);
      chunks.push(b);
    };
    const onEnd = (): void => {
      const text = new TextDecoder('utf-8', { fatal: true });
      try {
        finish({ ok: true, text: text.decode(Buffer.concat(chunks)) });
      } catch {
        finish({ ok: false, code: 'BODY_UNREADABLE', message: 'The request body is not valid UTF-8.' });
      }
    };
    const onError = (): void => finish({ ok: false, code: 'BODY_UNREADABLE', message: 'The request body could not be read.' });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/**
 * The body for a request that a framework body parser (express.json(), koa-bodyparser, …) may have
 * read already: when the stream has ended and `parsed` is an object, that object serialised (still
 * limited to `limitBytes`); otherwise {@link readRequestBody}.
 */
export function readRequestBodyOrParsed(req: Readable & { headers: HttpHeaders }, parsed: unknown, limitBytes: number): Promise<BodyResult> {
  if ((req as { readableEnded?: boolean }).readableEnded && typeof parsed === 'object' && parsed !== null) {
    const text = JSON.stringify(parsed);
    return Promise.resolve(
      Buffer.byteLength(text) > limitBytes ? { ok: false, code: 'PAYLOAD_TOO_LARGE', message: `The request body is larger than ${limitBytes} bytes.` } : { ok: true, text },
    );
  }
  return readRequestBody(req, limitBytes);
}

function unknownFields(o: Record<string, unknown>, allowed: readonly string[]): string | null {
  const extra = Object.keys(o).filter((k) => !allowed.includes(k));
  if (extra.length === 0) return null;
  const names = extra.slice(0, 5).map((k) => JSON.stringify(k.slice(0, 40))).join(', ');
  return `Unknown field${extra.length > 1 ? 's' : ''} ${names}; allowed: ${allowed.join(', ')}.`;
}

function checkVersion(o: Record<string, unknown>): string | null {
  if (o.version === undefined) return null;
  return typeof o.version === 'number' && Number.isSafeInteger(o.version) && o.version >= 0 ? null : '"version" must be a non-negative integer.';
}

/** Validates the body of `PUT /api/settings/mtls`: `{ enabled: boolean, enforce: boolean, caPem?: string, crlPem?: string | null, version?: number }`. */
export function parseMtlsSaveBody(text: string): Parsed<SaveRequest> {
  const p = parseJsonObject(text);
  if (!p.ok) return p;
  const o = p.value;
  const bad = (message: string): Parsed<SaveRequest> => ({ ok: false, code: 'INVALID_BODY', message });
  const unknown = unknownFields(o, ['enabled', 'enforce', 'caPem', 'crlPem', 'version', 'confirmWithinSec']);
  if (unknown) return bad(unknown);
  if (typeof o.enabled !== 'boolean') return bad('"enabled" must be true or false.');
  if (typeof o.enforce !== 'boolean') return bad('"enforce" must be true or false.');
  if (o.caPem !== undefined && typeof o.caPem !== 'string') return bad('"caPem" must be a string of PEM text.');
  if (o.crlPem !== undefined && o.crlPem !== null && typeof o.crlPem !== 'string') return bad('"crlPem" must be a string of PEM text (one or more X509 CRL blocks), or null to remove the stored CRLs.');
  const v = checkVersion(o);
  if (v) return bad(v);
  const w = o.confirmWithinSec;
  const { minSec, maxSec } = CONFIRM_WINDOW_LIMITS;
  if (w !== undefined && (typeof w !== 'number' || !Number.isSafeInteger(w) || w < minSec || w > maxSec)) return bad(`"confirmWithinSec" must be an integer ${minSec}…${maxSec} (seconds).`);
  if (w !== undefined && !(o.enabled && o.enforce)) return bad('"confirmWithinSec" goes with "enabled": true and "enforce": true.');
  return {
    ok: true,
    value: {
      enabled: o.enabled,
      enforce: o.enforce,
      ...(o.caPem !== undefined ? { caPem: o.caPem as string } : {}),
      ...(o.crlPem !== undefined ? { crlPem: o.crlPem as string | null } : {}),
      ...(o.version !== undefined ? { version: o.version as number } : {}),
      ...(w !== undefined ? { confirmWithinSec: w as number } : {}),
    },
  };
}

/** The login methods of `PUT /api/settings/login`. */
export type LoginMethod = 'password' | 'smartcard';

/** Validates the body of `PUT /api/settings/login`: `{ method: 'password' | 'smartcard', version?: number }`. */
export function parseLoginBody(text: string): Parsed<{ method: LoginMethod; version?: number }> {
  const p = parseJsonObject(text);
  if (!p.ok) return p;
  const o = p.value;
  const unknown = unknownFields(o, ['method', 'version']);
  if (unknown) return { ok: false, code: 'INVALID_BODY', message: unknown };
  if (o.method !== 'password' && o.method !== 'smartcard') return { ok: false, code: 'INVALID_BODY', message: '"method" must be "password" or "smartcard".' };
  const v = checkVersion(o);
  if (v) return { ok: false, code: 'INVALID_BODY', message: v };
  return { ok: true, value: { method: o.method, ...(o.version !== undefined ? { version: o.version as number } : {}) } };
}

/** The whoami view of §5.2. */
export interface WhoamiView {
  user: string;
  clientCertificate: null | {
    verdict: { ok: boolean; code?: string; message?: string };
    subject: string;
    issuer: string;
    serialNumber: string;
    fingerprint256: string;
    notAfter: string;
    /** Whole days until `notAfter` (negative: expired), null when unknown. */
    expiresInDays: number | null;
    san: { dns: string[]; email: string[]; uri: string[]; ip: string[]; spiffeId: string | null };
  };
}

/** `GET /api/whoami` from a decision. A certificate that was presented but not checked (mode `disabled`) has `verdict.code: 'NOT_CHECKED'`. */
export function whoamiView(user: string, decision: Decision, now: Date = new Date()): WhoamiView {
  const c = decision.certificate;
  const v = decision.verdict;
  if (!c && !v) return { user, clientCertificate: null };
  const verdict = v === null ? { ok: false, code: 'NOT_CHECKED', message: 'mTLS is disabled; the certificate was not validated.' } : v.ok ? { ok: true } : { ok: false, code: v.code, message: v.message };
  const empty = { dns: [], email: [], uri: [], ip: [], spiffeId: null };
  return {
    user,
    clientCertificate: {
      verdict,
      subject: c?.subject ?? '',
      issuer: c?.issuer ?? '',
      serialNumber: c?.serialNumber ?? '',
      fingerprint256: c?.fingerprint256 ?? '',
      notAfter: c?.notAfter ?? '',
      expiresInDays: c ? expiresInDays(c.notAfter, now) : null,
      san: c?.san ?? empty,
    },
  };
}

/** The response of a settings change (`PUT /api/settings/mtls`), per §5.2. */
export function changeResponse(outcome: ChangeOutcome): HttpResponse {
  if (outcome.ok && !outcome.refusal) return jsonResponse(200, outcome.settings);
  const refusal: Refusal | ControllerRefusal = outcome.refusal!;
  const settings: SettingsView | null = outcome.settings;
  const error: { code: string; message: string; reason?: string; problems?: unknown } = { code: refusal.code, message: refusal.message };
  if (refusal.reason) error.reason = refusal.reason;
  if (refusal.problems) error.problems = refusal.problems;
  const status = statusForRefusal(refusal.code);
  return errorResponse(status, error as { code: string; message: string }, status === 422 ? { settings } : {});
}

function parseBasic(header: string | string[] | undefined): { user: string; password: string } | null {
  if (typeof header !== 'string' || header.length > 4096) return null;
  const m = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header);
  if (!m) return null;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = text.indexOf(':');
  if (i < 0) return null;
  return { user: text.slice(0, i), password: text.slice(i + 1) };
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The console API over a controller (§5.2). Order per request: the certificate gate (a denied
 * decision gets 403 before any password check), Basic auth (401 with `WWW-Authenticate`; without it for
 * requests marked `X-Requested-With: XMLHttpRequest`, so a page that asks for the password itself gets
 * no browser dialog), the route,
 * then the body (limited).
 *
 * @example
 * const api = createConsoleApi(controller, { authenticate: (u, p) => checkPassword(p) });
 * const res = await api.handle({ method, path, headers, decision, peerChain, readBody: (n) => readRequestBody(req, n) });
 */
export function createConsoleApi(controller: Controller, options: ConsoleApiOptions): ConsoleApi {
  if (!options || typeof options.authenticate !== 'function') {
    throw new CertgateError('ERR_CERTGATE_INVALID_OPTION', 'createConsoleApi: "authenticate" must be a function (user, password) => boolean');
  }
  const realm = options.realm ?? 'certgate';
  if (!/^[\x20-\x7e]{1,100}$/.test(realm) || realm.includes('"')) {
    throw new CertgateError('ERR_CERTGATE_INVALID_OPTION', 'createConsoleApi: "realm" must be 1–100 printable ASCII characters without quotes');
  }
  const bodyLimitBytes = options.bodyLimitBytes ?? 1024 * 1024;
  if (!Number.isSafeInteger(bodyLimitBytes) || bodyLimitBytes < 1024) {
    throw new CertgateError('ERR_CERTGATE_INVALID_OPTION', 'createConsoleApi: "bodyLimitBytes" must be an integer ≥ 1024');
  }
  const origins = options.allowedOrigins ?? [];
  if (!Array.isArray(origins) || !origins.every((o) => typeof o === 'string' && isOrigin(o))) {
    throw new CertgateError('ERR_CERTGATE_INVALID_OPTION', 'createConsoleApi: "allowedOrigins" must be an array of origins such as "https://console.example.com:8443"');
  }
  const prefix = options.prefix ?? '/api';
  const unauthorizedBody = { code: 'UNAUTHORIZED', message: 'Sign in as admin with the console password.' };
  const challenged = errorResponse(401, unauthorizedBody, {}, { 'www-authenticate': `Basic realm="${realm}", charset="UTF-8"` });
  // A page that asks for the password itself marks its requests `X-Requested-With: XMLHttpRequest`
  // (the usual convention); a challenge would make the browser open its own password dialog.
  const unchallenged = errorResponse(401, unauthorizedBody);
  const unauthorizedFor = (headers: HttpHeaders): HttpResponse =>
    String(headers['x-requested-with'] ?? '').toLowerCase() === 'xmlhttprequest' ? unchallenged : challenged;

  const routes: Record<string, readonly string[]> = {
    '/settings/mtls': ['GET', 'PUT'],
    '/settings/login': ['GET', 'PUT'],
    '/whoami': ['GET'],
    ...EXTENSION_ROUTES,
  };
  const metricsPath = options.metrics === false ? null : (options.metrics?.path ?? '/metrics');
  const metricsPublic = options.metrics !== false && options.metrics?.access === 'public';

  /** Reads and parses a PUT body; a refusal here is audited like any other attempt. */
  async function body<T>(
    request: ApiRequest,
    action: string | null,
    requester: { actor: string; peerChain: readonly Uint8Array[] | null },
    parse: (text: string) => { ok: true; value: T } | { ok: false; code: string; message: string },
  ): Promise<{ ok: true; value: T } | { ok: false; response: HttpResponse }> {
    const b = await request.readBody(bodyLimitBytes);
    if (!b.ok) {
      if (action !== null) await controller.recordRefused(action, requester, b);
      const status = b.code === 'PAYLOAD_TOO_LARGE' ? 413 : 400;
      return { ok: false, response: errorResponse(status, { code: b.code, message: b.message }, {}, status === 413 ? { connection: 'close' } : {}) };
    }
    const parsed = parse(b.text);
    if (!parsed.ok) {
      if (action !== null) await controller.recordRefused(action, requester, parsed);
      return { ok: false, response: errorResponse(400, { code: parsed.code, message: parsed.message }) };
    }
    return parsed;
  }

  const allowedOrigins = new Set(origins.map((o) => o.toLowerCase()));
  /**
   * A browser's state-changing request from a page of another site (CSRF): Basic credentials a browser
   * has cached would otherwise ride along with a form or fetch another site's page makes.
   */
  function crossSite(request: ApiRequest): boolean {
    const method = request.method.toUpperCase();
    if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return false;
    const origin = headerText(request.headers.origin);
    if (origin !== null && allowedOrigins.has(origin.toLowerCase())) return false;
    const site = headerText(request.headers['sec-fetch-site']);
    if (site !== null) {
      const v = site.toLowerCase();
      if (v === 'cross-site' || v === 'same-site') return true;
      if (v === 'same-origin' || v === 'none') return false;
    }
    // No Origin, or the opaque "null" without a Sec-Fetch-Site (some non-browser clients send it): nothing to go by.
    if (origin === null || origin === 'null') return false;
    const host = headerText(request.headers.host);
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      return true; // not an origin at all
    }
    return host === null || originHost.toLowerCase() !== host.toLowerCase();
  }

  function unavailable(): HttpResponse {
    const s = controller.status();
    return errorResponse(503, { code: 'SETTINGS_UNAVAILABLE', message: s.ok ? 'The settings are unavailable.' : s.message });
  }

  return {
    bodyLimitBytes,
    async handle(request) {
      const { path } = request;
      const isMetrics = path === metricsPath && controller.metrics !== null && request.method.toUpperCase() === 'GET';
      if (!isMetrics && path !== prefix && !path.startsWith(`${prefix}/`)) return null;
      if (request.decision.action === 'deny') return denialResponse(request.decision, request, prefix);
      if (isMetrics && metricsPublic) return metricsResponse(controller, errorResponse);

      if (crossSite(request)) {
        return errorResponse(403, {
          code: 'CROSS_SITE_REQUEST',
          message: 'A page of another site cannot change these settings (cross-site request refused). Use the console itself, or list that origin in allowedOrigins.',
        });
      }
      const creds = parseBasic(request.headers.authorization);
      if (!creds || !sameText(creds.user, 'admin')) return unauthorizedFor(request.headers);
      let ok = false;
      try {
        ok = (await options.authenticate(creds.user, creds.password)) === true;
      } catch {
        ok = false;
      }
      if (!ok) return unauthorizedFor(request.headers);
      if (isMetrics) return metricsResponse(controller, errorResponse);

      const sub = path.slice(prefix.length);
      const methods = routes[sub];
      if (!methods) return errorResponse(404, { code: 'NOT_FOUND', message: 'No such API route.' });
      const method = request.method.toUpperCase();
      if (!methods.includes(method)) return errorResponse(405, { code: 'METHOD_NOT_ALLOWED', message: `Use ${methods.join(' or ')}.` }, {}, { allow: methods.join(', ') });
      const requester = { actor: creds.user, peerChain: request.peerChain };

      if (sub === '/whoami') return jsonResponse(200, whoamiView(creds.user, request.decision, controller.now()));
      const extension = await handleExtensionRoute(sub, method, {
        controller,
        request,
        requester,
        json: jsonResponse,
        error: (status, e) => errorResponse(status, e),
        body: (action, parse) => body(request, action, requester, parse),
        change: changeResponse,
      });
      if (extension) return extension;

      if (sub === '/settings/mtls') {
        if (method === 'GET') {
          const s = controller.status();
          return s.ok ? jsonResponse(200, s.settings) : unavailable();
        }
        const parsed = await body(request, 'save', requester, parseMtlsSaveBody);
        if (!parsed.ok) return parsed.response;
        return changeResponse(await controller.save(parsed.value, requester));
      }

      // /settings/login
      if (method === 'GET') {
        const s = controller.status();
        if (!s.ok) return unavailable();
        return jsonResponse(200, { method: s.state.host.loginMethod === 'smartcard' ? 'smartcard' : 'password', version: s.state.version });
      }
      const parsed = await body(request, 'host', requester, parseLoginBody);
      if (!parsed.ok) return parsed.response;
      const { method: login, version } = parsed.value;
      const outcome = await controller.setHost(
        {
          unavailableReason: login === 'smartcard' ? SMARTCARD_UNAVAILABLE_REASON : null,
          host: { loginMethod: login },
          ...(version !== undefined ? { version } : {}),
        },
        requester,
      );
      if (!outcome.ok) {
        const r = outcome.refusal;
        const message = r.code === 'MTLS_ENABLED' ? `The login method cannot be set to smartcard while mTLS is enabled (${outcome.settings?.mode ?? 'enabled'}); disable mTLS first.` : r.message;
        return errorResponse(statusForRefusal(r.code), { code: r.code, message });
      }
      return jsonResponse(200, { method: login, version: outcome.state.version, mtls: outcome.settings });
    },
  };
}
