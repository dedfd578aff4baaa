/**
 * @module
 * Reading the client's certificate chain off a TLS connection, once, and the per-connection state
 * that the decisions are cached in.
 *
 * Why once: on Node 20 `socket.getPeerX509Certificate()` hands the SSL's own peer-chain stack to
 * the `X509Certificate` it returns and empties it, so after the first call both
 * `getPeerX509Certificate().issuerCertificate` and `getPeerCertificate(true).issuerCertificate` are
 * gone (measured on Node 20.20, see docs/tls.md). certgate therefore reads the chain with the
 * non-destructive `getPeerCertificate(true)`, as soon as the handshake is done (on attached
 * servers, before any application listener runs), and keeps the result on the connection.
 *
 * The state lives under a module-private symbol on the real `TLSSocket`. HTTP/2 hands out proxies
 * of the socket (`session.socket`, and a proxy per stream for the compat `req.socket`) whose
 * property reads and writes go through to the socket, so every proxy of one connection finds the
 * same state: the verdict belongs to the connection, not to the proxy or the stream.
 */
import type { Socket } from 'node:net';
import { TLSSocket, type DetailedPeerCertificate } from 'node:tls';
import type { Controller, Decision } from '@certgate/core';

/** Most certificates taken from a peer's chain (leaf included). */
export const MAX_PEER_CHAIN = 10;

/** One controller's decision for one connection, stamped with the epoch it was made under. */
export interface SocketEntry {
  epoch: number;
  decision: Promise<Decision>;
  /** The decision once the promise has settled (a keep-alive request can then go on synchronously). */
  settled?: Decision;
}

/** What certgate keeps on one TLS connection. */
export interface ConnectionState {
  /** The chain read once (leaf first, DER), null for none; `undefined` until read. */
  chain: Uint8Array[] | null | undefined;
  /**
   * True when the chain can no longer change for this connection (renegotiation refused, i.e. the
   * server is attached): then `chain` is reused for every request. Otherwise it is read again.
   */
  pinned: boolean;
  decisions: WeakMap<Controller, SocketEntry>;
}

const kState = Symbol('certgate.tls.connection');

type Holder = { [kState]?: ConnectionState };

/** True when `socket` is (a proxy of) a TLS socket; never throws (an unbound HTTP/2 proxy throws on access). */
export function isTlsSocket(socket: unknown): socket is TLSSocket {
  try {
    return socket instanceof TLSSocket;
  } catch {
    return false;
  }
}

/** The connection state of `socket`, created when `create` is true; null when it cannot hold one. */
export function connectionState(socket: object, create: boolean): ConnectionState | null {
  try {
    const h = socket as Holder;
    const existing = h[kState];
    if (existing) return existing;
    if (!create) return null;
    const state: ConnectionState = { chain: undefined, pinned: false, decisions: new WeakMap() };
    h[kState] = state;
    // Through an HTTP/2 proxy the write lands on the socket; read it back so all proxies agree.
    return h[kState] ?? state;
  } catch {
    return null;
  }
}

/**
 * Reads the chain the peer presented, leaf first, as DER (never cached). Walks
 * `getPeerCertificate(true).issuerCertificate` until a self-issued certificate, a repeat, or
 * `max` certificates. On a server Node appends issuers it finds in the server's own CA store
 * (the uploaded CA); they are harmless to path building. Null when no certificate was presented.
 */
export function readPeerChain(socket: TLSSocket, max = MAX_PEER_CHAIN): Uint8Array[] | null {
  let leaf: DetailedPeerCertificate | null;
  try {
    leaf = socket.getPeerCertificate(true);
  } catch {
    return null;
  }
  if (!leaf || !leaf.raw || leaf.raw.length === 0) return null;
  const out: Uint8Array[] = [];
  const seen = new Set<string>();
  let cur: DetailedPeerCertificate | undefined = leaf;
  while (cur && cur.raw && out.length < max) {
    const fp = cur.fingerprint256 ?? cur.raw.toString('base64');
    if (seen.has(fp)) break;
    seen.add(fp);
    out.push(new Uint8Array(cur.raw.buffer, cur.raw.byteOffset, cur.raw.byteLength));
    const next: DetailedPeerCertificate | undefined = cur.issuerCertificate;
    if (!next || next === cur) break;
    cur = next;
  }
  return out;
}

/**
 * The chain the peer of `socket` presented, leaf first, as DER; null when it presented none (or the
 * socket is not TLS). On a server attached with `attachController` the chain was read once when the
 * handshake finished (and, for a resumed session, completed with the intermediates the same client
 * sent in its full handshake); this returns that reading. Elsewhere it reads the socket each call.
 */
export function peerChainFromSocket(socket: Socket | TLSSocket | null | undefined, max = MAX_PEER_CHAIN): Uint8Array[] | null {
  if (!socket || !isTlsSocket(socket)) return null;
  const state = connectionState(socket, false);
  if (state?.pinned && state.chain !== undefined) return state.chain === null ? null : state.chain.slice(0, max);
  try {
    return readPeerChain(socket, max);
  } catch {
    return null;
  }
}
