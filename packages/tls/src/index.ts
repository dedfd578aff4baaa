/**
 * @module
 * `@certgate/tls`: attaches a certgate controller to a node `tls.Server` / `https.Server` / HTTP/2
 * secure server, and decides connections for every adapter.
 *
 * - {@link attachController}: `requestCert` per mode (none in `disabled`), `rejectUnauthorized: false`
 *   so certgate decides (never `socket.authorized`: Node reports a resumed TLS 1.3 session without a
 *   certificate as authorized, nodejs/node#35317), the CA in force as CertificateRequest hints, a hot
 *   swap of the secure context on every change with fresh session-ID context and ticket keys, the
 *   chain read once per connection, TLS 1.2 renegotiation refused, optional handshake-level refusal
 *   for raw TLS services and a bounded session cache flushed on every change.
 * - {@link decideSocket} / {@link decideStream}: the decision for a connection (or an HTTP/2 stream's
 *   session), once per connection and settings epoch: a request on a connection decided under older
 *   settings is decided again.
 * - {@link http2Gate}: admits or denies HTTP/2 streams (`'stream'` and compat `'request'` listeners).
 * - {@link peerChainFromSocket}: the client's chain, leaf first, DER — the one extraction every adapter uses.
 *
 * docs/tls.md explains each hole and how it is closed. Named re-exports only.
 */
export { MAX_PEER_CHAIN, peerChainFromSocket } from './peer.js';
export { decideRequest, decideSocket, decideStream, requestPeerChain, settledDecision, type RequestLike } from './decide.js';
export {
  attachController,
  caOptionFromPem,
  DEFAULT_SESSION_CACHE_ENTRIES,
  MAX_CACHED_SESSION_BYTES,
  DEFAULT_RESUMPTION_INTERMEDIATES,
  MAX_REMEMBERED_INTERMEDIATE_BYTES,
  DENIED_FLUSH_MS,
  type AttachOptions,
  type AppliedSettings,
  type Attachment,
} from './attach.js';
export { http2Gate, type Http2Gate, type Http2GateOptions } from './http2.js';
