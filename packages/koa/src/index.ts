/**
 * @module
 * `@certgate/koa`: the Koa (2 and 3) adapter. Two middlewares, both thin translations of core:
 *
 * - {@link mtls}: decides each request's connection (through `@certgate/tls`, once per connection and
 *   settings epoch), applies the route's `rules` (core `authorize`), attaches the decision as
 *   `ctx.state.clientCertificate`, and denies with 403 (JSON for `/api/` and JSON clients, a readable
 *   HTML page for browsers) or calls `onDenied`.
 * - {@link settingsRouter}: the console's settings API of DESIGN §5.2 (`/api/settings/mtls`,
 *   `/api/whoami`, `/api/settings/login`), Basic auth user `admin`.
 */
import type { Context, Middleware, Next } from 'koa';
import {
  authorize,
  createConsoleApi,
  denialResponse,
  readRequestBodyOrParsed,
  resolveRules,
  type ConsoleApiOptions,
  type Controller,
  type Decision,
  type ForwardedCertificates,
  type HttpResponse,
  type Rule,
} from '@certgate/core';
import { decideRequest, requestPeerChain } from '@certgate/tls';

/** What `ctx.state.clientCertificate` holds: the controller's decision for this request (after the route's rules). */
export type ClientCertificate = Decision;

/** The state `mtls()` sets: use as `Koa<CertgateState>` / `ParameterizedContext<CertgateState>`. */
export interface CertgateState {
  /** Set by `mtls()`: the decision (action, mode, verdict, identity, authorization, presented certificate). */
  clientCertificate?: ClientCertificate;
}

declare module 'koa' {
  interface DefaultState {
    /** Set by `mtls()` of `@certgate/koa`. */
    clientCertificate?: ClientCertificate;
  }
}

/** Writes a core {@link HttpResponse} to the context (headers first, so Koa keeps our content-type). */
export function send(ctx: Context, r: HttpResponse): void {
  ctx.status = r.status;
  ctx.set(r.headers);
  ctx.body = r.body;
}

/** Options of {@link mtls}. */
export interface MtlsMiddlewareOptions {
  /** Authorization rules of this mount (a Rule, or a list meaning all of them). See core `authorize`. */
  rules?: Rule | readonly Rule[];
  /** Replaces the default 403 response for denied requests. */
  onDenied?: (decision: Decision, ctx: Context, next: Next) => unknown;
  /** API path prefix (JSON denials). Default `/api`. */
  apiPrefix?: string;
  /**
   * Behind a TLS-terminating proxy: decide the certificate it forwards in a header (core
   * `createForwardedCertificates`), believed only from its configured addresses. Then every request is
   * decided on its own (one proxy connection carries many clients).
   */
  forwarded?: ForwardedCertificates;
}

/**
 * The certificate gate. Mount it before anything it protects; mount it again on a route (e.g. with
 * `@koa/router`) with that route's `rules`.
 *
 * @example
 * app.use(mtls(controller));
 * router.get('/admin', mtls(controller, { rules: allowOrganizationalUnits('Admins') }), handler);
 */
export function mtls(controller: Controller, options: MtlsMiddlewareOptions = {}): Middleware<CertgateState> {
  const rules = resolveRules(options.rules, 'mtls');
  const apiPrefix = options.apiPrefix ?? '/api';
  return async function mtlsMiddleware(ctx, next) {
    // An earlier mount's decision (and its rules) carries on: the rules of every mount apply.
    const decision = await authorize(ctx.state.clientCertificate ?? (await decideRequest(controller, ctx.req, options.forwarded)), rules, controller.appName);
    ctx.state.clientCertificate = decision;
    if (decision.action !== 'deny') return next();
    if (options.onDenied) return options.onDenied(decision, ctx as unknown as Context, next);
    send(ctx as unknown as Context, denialResponse(decision, { path: ctx.path, headers: ctx.headers }, apiPrefix));
  };
}

/**
 * The settings API of DESIGN §5.2 as one middleware: mount it after {@link mtls}. Paths outside the
 * prefix (default `/api`) pass through. It reads the body itself; behind a body parser that already
 * consumed the stream it uses `ctx.request.body` instead.
 *
 * @example
 * app.use(mtls(controller));
 * app.use(settingsRouter(controller, { authenticate: (user, password) => verifyPassword(password) }));
 */
export function settingsRouter(controller: Controller, options: ConsoleApiOptions): Middleware<CertgateState> {
  const api = createConsoleApi(controller, options);
  return async function certgateSettings(ctx, next) {
    const decision = ctx.state.clientCertificate ?? (await decideRequest(controller, ctx.req, options.forwarded));
    const r = await api.handle({
      method: ctx.method,
      path: ctx.path,
      headers: ctx.headers,
      decision,
      peerChain: requestPeerChain(ctx.req, options.forwarded),
      query: ctx.querystring,
      readBody: (limit) => readRequestBodyOrParsed(ctx.req, (ctx.request as { body?: unknown }).body, limit),
    });
    if (r === null) return next();
    send(ctx as unknown as Context, r);
  };
}
