/**
 * @module
 * The console API routes of issue #9, framework-free like the rest of the console API (both
 * consoles get them through `createConsoleApi`):
 *
 * - `GET /api/settings/mtls/preview` and `POST /api/settings/mtls/preview` `{ caPem?, crlPem? }`: the enforcement preview;
 * - `POST /api/settings/mtls/confirm` `{ version? }` (or an empty body): confirm a pending confirm window;
 * - `GET /api/audit?limit=N`: the newest audit events first;
 * - `GET /metrics`: Prometheus text (when the controller has a `metrics` sink).
 */
import type { AuditEvent } from '../audit/log.js';
import type { ChangeOutcome, Controller, PreviewOutcome, Requester } from '../controller/index.js';
import type { ApiRequest, HttpResponse } from '../controller/http.js';
import { parseJsonObject, type Parsed } from '../controller/json-body.js';

/** The routes (below the API prefix) and their methods. */
export const EXTENSION_ROUTES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  '/settings/mtls/preview': ['GET', 'POST'],
  '/settings/mtls/confirm': ['POST'],
  '/audit': ['GET'],
});

/** Default and largest `limit` of `GET /api/audit`. */
export const AUDIT_LIMITS = Object.freeze({ default: 50, max: 1000 });

/** One event of `GET /api/audit`. */
export interface AuditEventView {
  /** ISO 8601. */
  at: string;
  actor: string;
  action: string;
  from: { mode: string; version: number } | null;
  to: { mode: string; version: number } | null;
  outcome: string;
  code?: string;
  reason?: string;
  /** The requester's certificate: fingerprint and subject only. */
  client?: { fingerprint256: string; subject: string } | null;
}

/** The API view of an audit event (`time` is shown as `at`; `detail` is left out). */
export function auditEventView(e: AuditEvent): AuditEventView {
  const v: AuditEventView = { at: e.time, actor: e.actor, action: e.action, from: e.from, to: e.to, outcome: e.outcome };
  if (e.code !== undefined) v.code = e.code;
  if (e.reason !== undefined) v.reason = e.reason;
  if (e.client !== undefined) v.client = e.client;
  return v;
}

/** Parses `limit` of a query string (without `?`): default 50, an integer 1…1000; a string says what is wrong. */
export function parseAuditLimit(query: string | undefined): number | string {
  const values = new URLSearchParams(query ?? '').getAll('limit');
  if (values.length === 0) return AUDIT_LIMITS.default;
  const raw = values[0]!;
  if (values.length > 1 || !/^[0-9]{1,7}$/.test(raw)) return `"limit" must be an integer 1…${AUDIT_LIMITS.max}.`;
  const n = Number(raw);
  return n >= 1 && n <= AUDIT_LIMITS.max ? n : `"limit" must be an integer 1…${AUDIT_LIMITS.max}.`;
}

/**
 * Validates the body of `POST /api/settings/mtls/preview`: `{ caPem?: string, crlPem?: string | null }`,
 * at least one of them (the same meaning as in a save: `crlPem` absent keeps the stored CRLs, null none).
 */
export function parsePreviewBody(text: string): Parsed<{ caPem?: string; crlPem?: string | null }> {
  const p = parseJsonObject(text, false);
  if (!p.ok) return p;
  const extra = Object.keys(p.value).filter((k) => k !== 'caPem' && k !== 'crlPem');
  if (extra.length > 0) return { ok: false, code: 'INVALID_BODY', message: `Unknown field ${JSON.stringify(extra[0]!.slice(0, 40))}; allowed: caPem, crlPem.` };
  const { caPem, crlPem } = p.value;
  if (caPem === undefined && crlPem === undefined) return { ok: false, code: 'INVALID_BODY', message: 'Send "caPem" and/or "crlPem" to preview against them (GET previews the settings in force).' };
  if (caPem !== undefined && typeof caPem !== 'string') return { ok: false, code: 'INVALID_BODY', message: '"caPem" must be a string of PEM text.' };
  if (crlPem !== undefined && crlPem !== null && typeof crlPem !== 'string') return { ok: false, code: 'INVALID_BODY', message: '"crlPem" must be a string of PEM text (X509 CRL blocks), or null for none.' };
  return { ok: true, value: { ...(caPem !== undefined ? { caPem: caPem as string } : {}), ...(crlPem !== undefined ? { crlPem: crlPem as string | null } : {}) } };
}

/** Validates the body of `POST /api/settings/mtls/confirm`: empty, `{}` or `{ version: number }`. */
export function parseConfirmBody(text: string): Parsed<{ version?: number }> {
  const p = parseJsonObject(text, true);
  if (!p.ok) return p;
  const extra = Object.keys(p.value).filter((k) => k !== 'version');
  if (extra.length > 0) return { ok: false, code: 'INVALID_BODY', message: `Unknown field ${JSON.stringify(extra[0]!.slice(0, 40))}; allowed: version.` };
  const v = p.value.version;
  if (v === undefined) return { ok: true, value: {} };
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return { ok: false, code: 'INVALID_BODY', message: '"version" must be a non-negative integer.' };
  return { ok: true, value: { version: v } };
}

const PREVIEW_STATUS: Record<string, number> = { CA_INVALID: 400, CRL_INVALID: 400, CA_REQUIRED: 400, PREVIEW_DISABLED: 404, SETTINGS_UNAVAILABLE: 503 };

/** What {@link handleExtensionRoute} needs from the console API. */
export interface ExtensionContext {
  controller: Controller;
  request: ApiRequest;
  requester: Requester;
  json(status: number, body: unknown): HttpResponse;
  error(status: number, error: { code: string; message: string; [k: string]: unknown }): HttpResponse;
  /** Reads and parses the body; `action` non-null audits a refused body as that action. */
  body<T>(action: string | null, parse: (text: string) => Parsed<T>): Promise<{ ok: true; value: T } | { ok: false; response: HttpResponse }>;
  /** The §5.2 change response (200 Settings, 4xx `{ error }`, 422 with `settings`). */
  change(outcome: ChangeOutcome): HttpResponse;
}

function previewResponse(ctx: ExtensionContext, outcome: PreviewOutcome): HttpResponse {
  if (outcome.ok) return ctx.json(200, outcome.preview);
  const r = outcome.refusal;
  return ctx.error(PREVIEW_STATUS[r.code] ?? 500, { code: r.code, message: r.message, ...(r.problems ? { problems: r.problems } : {}) });
}

/**
 * Handles one of {@link EXTENSION_ROUTES} (`sub` is the path below the prefix, the method already
 * checked against the table); null for any other path.
 */
export async function handleExtensionRoute(sub: string, method: string, ctx: ExtensionContext): Promise<HttpResponse | null> {
  const { controller } = ctx;
  if (sub === '/settings/mtls/preview') {
    if (method === 'GET') return previewResponse(ctx, await controller.preview());
    const parsed = await ctx.body(null, parsePreviewBody);
    if (!parsed.ok) return parsed.response;
    return previewResponse(ctx, await controller.preview(parsed.value));
  }
  if (sub === '/settings/mtls/confirm') {
    const parsed = await ctx.body('confirm', parseConfirmBody);
    if (!parsed.ok) return parsed.response;
    return ctx.change(await controller.confirm(ctx.requester, parsed.value));
  }
  if (sub === '/audit') {
    const limit = parseAuditLimit(ctx.request.query);
    if (typeof limit === 'string') return ctx.error(400, { code: 'INVALID_QUERY', message: limit });
    try {
      const events = await controller.recentAudit(limit);
      return ctx.json(200, { events: events.map(auditEventView) });
    } catch (err) {
      return ctx.error(503, { code: 'AUDIT_UNAVAILABLE', message: `The audit log cannot be read: ${(err as Error)?.message ?? String(err)}` });
    }
  }
  return null;
}

/** `GET /metrics`: the controller's metrics sink rendered, or 404 when it has none. */
export async function metricsResponse(controller: Controller, error: ExtensionContext['error']): Promise<HttpResponse> {
  const m = controller.metrics;
  if (!m) return error(404, { code: 'NOT_FOUND', message: 'Metrics are not enabled (controller option metrics).' });
  try {
    const r = await m.render();
    return { status: 200, headers: { 'content-type': r.contentType, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }, body: r.body };
  } catch (err) {
    return error(500, { code: 'METRICS_FAILED', message: `The metrics could not be rendered: ${(err as Error)?.message ?? String(err)}` });
  }
}
