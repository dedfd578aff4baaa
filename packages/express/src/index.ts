/**
 * @module
 * `@certgate/express`: the Express adapter. Two handlers, both thin translations of core:
 *
 * - {@link mtls}: decides each request's connection (through `@certgate/tls`, once per connection and
 *   settings epoch), attaches the decision as `req.clientCertificate`, and denies with 403 (JSON for
 *   `/api/` and JSON clients, a readable HTML page for browsers).
 * - {@link settingsRouter}: the console's settings API of DESIGN §5.2 (`/api/settings/mtls`,
 *   `/api/whoami`, `/api/settings/login`), Basic auth user `admin`.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import {
  createConsoleApi,
  denialResponse,
  readRequestBody,
  type ConsoleApiOptions,
  type Controller,
  type Decision,
  type HttpResponse,
} from '@certgate/core';
import { decideSocket, peerChainFromSocket } from '@certgate/tls';

/** What `req.clientCertificate` holds: the controller's decision for this request's connection. */
export type ClientCertificate = Decision;

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by `mtls()`: the decision (action, mode, verdict, identity, presented certificate). */
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
  /** Replaces the default 403 response for denied requests. */
  onDenied?: (decision: Decision, req: Request, res: Response, next: NextFunction) => void;
  /** API path prefix (JSON denials). Default `/api`. */
  apiPrefix?: string;
}

/**
 * The certificate gate. Mount it before anything it protects.
 *
 * @example
 * app.use(mtls(controller));
 * app.get('/me', (req, res) => res.json(req.clientCertificate?.identity ?? null));
 */
export function mtls(controller: Controller, options: MtlsMiddlewareOptions = {}): RequestHandler {
  const apiPrefix = options.apiPrefix ?? '/api';
  return async function mtlsMiddleware(req: Request, res: Response, next: NextFunction): Promise<void> {
    try {
      const decision = await decideSocket(controller, req.socket);
      req.clientCertificate = decision;
      if (decision.action !== 'deny') return next();
      if (options.onDenied) return options.onDenied(decision, req, res, next);
      send(res, denialResponse(decision, { path: req.path, headers: req.headers }, apiPrefix));
    } catch (err) {
      next(err);
    }
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
      const decision = req.clientCertificate ?? (await decideSocket(controller, req.socket));
      const r = await api.handle({
        method: req.method,
        path: req.path,
        headers: req.headers,
        decision,
        peerChain: peerChainFromSocket(req.socket),
        readBody: (limit) => {
          // A JSON body parser mounted in front (express.json()) already consumed the stream: use its result.
          if (req.readableEnded && req.body !== undefined && typeof req.body === 'object' && req.body !== null) {
            const text = JSON.stringify(req.body);
            return Promise.resolve(
              Buffer.byteLength(text) > limit
                ? { ok: false as const, code: 'PAYLOAD_TOO_LARGE' as const, message: `The request body is larger than ${limit} bytes.` }
                : { ok: true as const, text },
            );
          }
          return readRequestBody(req, limit);
        },
      });
      if (r === null) return next();
      send(res, r);
    } catch (err) {
      next(err);
    }
  };
}
