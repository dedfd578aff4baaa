/**
 * @module
 * HTTP/2: the verdict belongs to the session (the TLS connection); every stream is answered under
 * the current settings — a stream of a session decided under older settings is decided again,
 * exactly like a keep-alive request. Denials are core's `denialResponse` (JSON for `/api/` and JSON
 * clients, a readable HTML page for browsers), so HTTP/2 clients see the same 403 as HTTP/1.1 ones.
 */
import type { IncomingHttpHeaders, Http2ServerRequest, Http2ServerResponse, ServerHttp2Stream } from 'node:http2';
import { denialResponse, type Controller, type Decision } from '@certgate/core';
import { decideSocket, decideStream } from './decide.js';

/** Options of {@link http2Gate}. */
export interface Http2GateOptions {
  /** API path prefix (JSON denials). Default `/api`. */
  apiPrefix?: string;
  /** Called when a decision fails unexpectedly (the stream is then answered 500). Default `console.error`. */
  onError?: (error: Error) => void;
}

/** Wrappers for an HTTP/2 server's handlers that admit or deny each stream. */
export interface Http2Gate {
  /**
   * Wraps a `'stream'` listener: denied streams get the 403 and never reach `handler`; admitted ones
   * reach it with the decision.
   */
  stream(handler: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, decision: Decision) => void): (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;
  /** The same for the compatibility API's `'request'` listener (`http2.createSecureServer(opts, listener)`). */
  request(handler: (req: Http2ServerRequest, res: Http2ServerResponse, decision: Decision) => void): (req: Http2ServerRequest, res: Http2ServerResponse) => void;
}

function pathOf(headers: IncomingHttpHeaders): string {
  const p = headers[':path'];
  const s = typeof p === 'string' ? p : '/';
  const q = s.indexOf('?');
  return q >= 0 ? s.slice(0, q) : s;
}

/**
 * Gates HTTP/2 streams with `controller`.
 *
 * @example
 * const gate = http2Gate(controller);
 * const server = http2.createSecureServer({ key, cert });
 * attachController(server, controller);
 * server.on('stream', gate.stream((stream, headers, decision) => {
 *   stream.respond({ ':status': 200 });
 *   stream.end(`hello ${decision.identity?.subject ?? 'guest'}`);
 * }));
 */
export function http2Gate(controller: Controller, options: Http2GateOptions = {}): Http2Gate {
  const apiPrefix = options.apiPrefix ?? '/api';
  const onError = options.onError ?? ((e: Error) => console.error(`[certgate] HTTP/2 gate: ${e.message}`));
  return {
    stream(handler) {
      return function certgateStream(stream, headers) {
        decideStream(controller, stream).then(
          (d) => {
            if (stream.destroyed || stream.closed) return;
            if (d.action !== 'deny') return handler(stream, headers, d);
            const r = denialResponse(d, { path: pathOf(headers), headers }, apiPrefix);
            if (!stream.headersSent) stream.respond({ ':status': r.status, ...r.headers });
            stream.end(r.body);
          },
          (err) => {
            onError(err as Error);
            if (!stream.destroyed && !stream.headersSent) {
              stream.respond({ ':status': 500 });
              stream.end();
            }
          },
        );
      };
    },
    request(handler) {
      return function certgateRequest(req, res) {
        let socket;
        try {
          socket = req.stream?.session?.socket;
        } catch {
          socket = undefined;
        }
        decideSocket(controller, socket ?? null).then(
          (d) => {
            if (res.destroyed || res.writableEnded) return;
            if (d.action !== 'deny') return handler(req, res, d);
            const r = denialResponse(d, { path: pathOf(req.headers), headers: req.headers }, apiPrefix);
            res.writeHead(r.status, r.headers);
            res.end(r.body);
          },
          (err) => {
            onError(err as Error);
            if (!res.headersSent) res.writeHead(500);
            res.end();
          },
        );
      };
    },
  };
}
