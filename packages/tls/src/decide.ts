/**
 * @module
 * Per-connection decisions: validated once per TLS connection and settings epoch, re-decided when
 * the controller's epoch moved on (a keep-alive request or an HTTP/2 stream on a connection decided
 * under older settings is decided again under the current ones).
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ServerHttp2Stream } from 'node:http2';
import type { Controller, Decision, ForwardedCertificates } from '@certgate/core';
import { connectionState, isTlsSocket, peerChainFromSocket, readPeerChain, type SocketEntry } from './peer.js';

/**
 * The controller's decision for the connection `socket`, computed once per connection and settings
 * epoch: keep-alive requests reuse it; after a settings change the next request decides again.
 * The chain comes from what the connection shows, never from `socket.authorized` (a resumed TLS 1.3
 * session without a certificate is reported authorized by Node, nodejs/node#35317): no certificate
 * visible is "no certificate". A socket that is not TLS is decided as presenting no certificate.
 *
 * @example
 * const decision = await decideSocket(controller, req.socket);
 * if (decision.action === 'deny') { res.statusCode = 403; res.end(decision.denial?.message); }
 */
export function decideSocket(controller: Controller, socket: Socket | TLSSocket | null | undefined): Promise<Decision> {
  if (!socket || !isTlsSocket(socket)) return controller.decide(null);
  const state = connectionState(socket, true);
  if (!state) return controller.decide(null); // an HTTP/2 proxy whose session is gone: no certificate
  const epoch = controller.epoch;
  const entry = state.decisions.get(controller);
  if (entry && entry.epoch === epoch) return entry.decision;
  // Read once per connection (attached servers read it at the end of the handshake already).
  if (state.chain === undefined) state.chain = readPeerChain(socket);
  const decision = controller.decide(state.chain ?? null);
  const fresh: SocketEntry = { epoch, decision };
  state.decisions.set(controller, fresh);
  decision.then(
    (d) => {
      fresh.settled = d;
    },
    () => {
      if (state.decisions.get(controller) === fresh) state.decisions.delete(controller);
    },
  );
  return decision;
}

/**
 * The connection's decision when it is already made under the controller's current epoch, without
 * waiting: a keep-alive request can then go on synchronously. `undefined` when {@link decideSocket}
 * must be awaited (first request, a settings change since, or a decision still in progress).
 */
export function settledDecision(controller: Controller, socket: Socket | TLSSocket | null | undefined): Decision | undefined {
  if (!socket || !isTlsSocket(socket)) return undefined;
  const entry = connectionState(socket, false)?.decisions.get(controller);
  return entry && entry.epoch === controller.epoch ? entry.settled : undefined;
}

/**
 * The decision for an HTTP/2 stream: the decision of its session's connection ({@link decideSocket}),
 * so every stream of one session shares one validation, and a stream of a session decided under
 * older settings is decided again. A stream whose session is already gone is "no certificate".
 *
 * @example
 * server.on('stream', async (stream, headers) => {
 *   const d = await decideStream(controller, stream);
 * });
 */
export function decideStream(controller: Controller, stream: ServerHttp2Stream): Promise<Decision> {
  let socket: TLSSocket | undefined;
  try {
    socket = stream.session?.socket as TLSSocket | undefined;
  } catch {
    socket = undefined;
  }
  return decideSocket(controller, socket ?? null);
}

/** A request, as {@link decideRequest} and {@link requestPeerChain} need it. */
export interface RequestLike {
  socket: Socket | TLSSocket | null | undefined;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * The decision for one HTTP request: with `forwarded` (core `createForwardedCertificates`) and the
 * request coming from a trusted proxy, the chain the proxy forwarded is decided (per request: one
 * proxy connection carries many clients); otherwise the request's own connection ({@link decideSocket}),
 * and a forwarding header from anyone else is ignored (and counted by the source).
 *
 * @example
 * const forwarded = createForwardedCertificates({ trustedProxies: ['127.0.0.1'], format: 'nginx' });
 * const d = await decideRequest(controller, req, forwarded);
 */
export function decideRequest(controller: Controller, req: RequestLike, forwarded?: ForwardedCertificates): Promise<Decision> {
  if (forwarded) {
    const r = forwarded.read({ remoteAddress: remoteAddressOf(req.socket), headers: req.headers });
    if (r.trusted) return controller.decide(r.chain);
  }
  return decideSocket(controller, req.socket);
}

/** The client chain of one HTTP request: forwarded by a trusted proxy, else its connection's (leaf first, DER), or null. */
export function requestPeerChain(req: RequestLike, forwarded?: ForwardedCertificates): Uint8Array[] | null {
  if (forwarded) {
    const r = forwarded.read({ remoteAddress: remoteAddressOf(req.socket), headers: req.headers });
    if (r.trusted) return r.chain;
  }
  return peerChainFromSocket(req.socket);
}

function remoteAddressOf(socket: Socket | TLSSocket | null | undefined): string | undefined {
  try {
    return socket?.remoteAddress;
  } catch {
    return undefined; // an HTTP/2 proxy whose session is gone
  }
}
