/**
 * @module
 * `@certgate/express`: the Express adapter. Two handlers, both thin translations of core:
 *
 * - {@link mtls}: decides each request's connection (through `@certgate/tls`, once per connection and
 *   settings epoch), applies the mount's `rules` (core `authorize`), attaches the decision as
 *   `req.clientCertificate`, and denies with 403 (JSON for `/api/` and JSON clients, a readable HTML
 *   page for browsers) or calls `onDenied`. Express 4 and 5.
 * - {@link settingsRouter}: the console's settings API of DESIGN §5.2 (`/api/settings/mtls`,
 *   `/api/whoami`, `/api/settings/login`), Basic auth user `admin`.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
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
import { decideRequest, requestPeerChain, settledDecision } from '@certgate/tls';

/** What `req.clientCertificate` holds: the controller's decision for this request (after the mount's rules). */
export type ClientCertificate = Decision;

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by `mtls()`: the decision (action, mode, verdict, identity, authorization, presented certificate). */
      clientCertificate?: ClientCertificate;
    }
  }
}

/** Writes a core {@link HttpResponse}. */
export function send(res: Response, r: HttpResponse): void {
  res.status(r.status);
  for (const [k, v] of Object.entries(r.headers)) res.setHeader(k, v);
  res.end(r.body);
}

/** Options of {@link mtls}. */
export interface MtlsMiddlewareOptions {
  /** Authorization rules of this mount (a Rule, or a list meaning all of them). See core `authorize`. */
  rules?: Rule | readonly Rule[];
  /** Replaces the default 403 response for denied requests. */
  onDenied?: (decision: Decision, req: Request, res: Response, next: NextFunction) => void;
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
 * The certificate gate. Mount it before anything it protects; mount it again on a route with that
 * route's `rules`.
 *
 * @example
 * app.use(mtls(controller));
 * app.get('/admin', mtls(controller, { rules: allowOrganizationalUnits('Admins') }), handler);
 * app.get('/me', (req, res) => res.json(req.clientCertificate?.identity ?? null));
 */
export function mtls(controller: Controller, options: MtlsMiddlewareOptions = {}): RequestHandler {
  const rules = resolveRules(options.rules, 'mtls');
  const apiPrefix = options.apiPrefix ?? '/api';
  async function decideAndGate(req: Request, res: Response, next: NextFunction): Promise<void> {
    try {
      // An earlier mount's decision (and its rules) carries on: the rules of every mount apply.
      const decision = await authorize(req.clientCertificate ?? (await decideRequest(controller, req, options.forwarded)), rules, controller.appName);
      req.clientCertificate = decision;
      if (decision.action !== 'deny') return next();
      if (options.onDenied) return options.onDenied(decision, req, res, next);
      send(res, denialResponse(decision, { path: req.path, headers: req.headers }, apiPrefix));
    } catch (err) {
      next(err);
    }
  }
  return function mtlsMiddleware(req: Request, res: Response, next: NextFunction): void {
    // Keep-alive fast path: the connection was decided under the current settings and this mount has
    // no rules, so the request goes on synchronously (no promise for Express to wait on).
    const settled = !rules && !req.clientCertificate && !options.forwarded ? settledDecision(controller, req.socket) : undefined;
    if (settled && settled.action !== 'deny') {
      req.clientCertificate = settled;
      next();
      return;
    }
    void decideAndGate(req, res, next);
  };
}

/**
 * The settings API of DESIGN §5.2 as one handler: mount it at the app's root, after {@link mtls}.
 * Paths outside the prefix (default `/api`) pass through. Bodies over `bodyLimitBytes` (default 1 MiB)
 * get 413 `PAYLOAD_TOO_LARGE`. It reads the body itself; with `express.json()` in front it uses that
 * parser's result instead (then that parser's own limit and error responses apply first).
 *
 * @example
 * app.use(mtls(controller));
 * app.use(settingsRouter(controller, { authenticate: (user, password) => verifyPassword(password) }));
 */
export function settingsRouter(controller: Controller, options: ConsoleApiOptions): RequestHandler {
  const api = createConsoleApi(controller, options);
  return async function certgateSettings(req: Request, res: Response, next: NextFunction): Promise<void> {
    try {
      const decision = req.clientCertificate ?? (await decideRequest(controller, req, options.forwarded));
      const r = await api.handle({
        method: req.method,
        path: req.path,
        headers: req.headers,
        decision,
        peerChain: requestPeerChain(req, options.forwarded),
        query: req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '',
        // A JSON body parser mounted in front (express.json()) may have consumed the stream already.
        readBody: (limit) => readRequestBodyOrParsed(req, req.body, limit),
      });
      if (r === null) return next();
      send(res, r);
    } catch (err) {
      next(err);
    }
  };
}
