/**
 * @module
 * `@certgate/tls`: attaches a certgate controller to a node `tls.Server` / `https.Server`.
 *
 * - Per mode: `requestCert` is false in `disabled` and true otherwise; `rejectUnauthorized` is always
 *   false, because certgate decides (never `socket.authorized`, which OpenSSL computes against its own
 *   idea of trust and which Node reports as true for resumed TLS 1.3 sessions, nodejs/node#35317).
 * - The CA in force is the secure context's `ca`, so its subject names go out as CertificateRequest
 *   hints.
 * - Every settings change swaps the secure context in place (`server.setSecureContext`), without a
 *   restart, with a fresh session-ID context and fresh ticket keys so no TLS session made under the
 *   old settings can be resumed.
 * - Each connection's decision is stamped with the controller's epoch; a request on a connection
 *   decided under older settings is decided again ({@link decideSocket}). Renegotiation (TLS 1.2)
 *   is refused, so a connection cannot swap its certificate under a decision.
 *
 * Peer-chain extraction ({@link peerChainFromSocket}) lives here, once, for every adapter.
 */
import { X509Certificate, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { TLSSocket, type DetailedPeerCertificate, type SecureContextOptions, type Server as TlsServer } from 'node:tls';
import { CertgateError, readPemBlocks, toPem, type Controller, type Decision } from '@certgate/core';

/** Most certificates taken from a peer's chain (leaf included). */
export const MAX_PEER_CHAIN = 10;

/**
 * The chain the peer of `socket` presented, leaf first, as DER; null when it presented none (or the
 * socket is not TLS). Walks `getPeerCertificate(true).issuerCertificate` until a self-issued
 * certificate, a repeat, or {@link MAX_PEER_CHAIN} certificates.
 */
export function peerChainFromSocket(socket: Socket | TLSSocket | null | undefined, max = MAX_PEER_CHAIN): Uint8Array[] | null {
  if (!(socket instanceof TLSSocket)) return null;
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

interface SocketEntry {
  epoch: number;
  chain: Uint8Array[] | null;
  decision: Promise<Decision>;
}
const socketDecisions = new WeakMap<object, WeakMap<Controller, SocketEntry>>();

/**
 * The controller's decision for the connection `socket`, computed once per connection and settings
 * epoch: keep-alive requests reuse it; after a settings change the next request decides again.
 * A socket that is not TLS is decided as presenting no certificate.
 */
export function decideSocket(controller: Controller, socket: Socket | TLSSocket | null | undefined): Promise<Decision> {
  if (!socket) return controller.decide(null);
  let perController = socketDecisions.get(socket);
  if (!perController) {
    perController = new WeakMap();
    socketDecisions.set(socket, perController);
  }
  const entry = perController.get(controller);
  if (entry && entry.epoch === controller.epoch) return entry.decision;
  const chain = entry ? entry.chain : peerChainFromSocket(socket);
  const epoch = controller.epoch;
  const decision = controller.decide(chain);
  perController.set(controller, { epoch, chain, decision });
  decision.catch(() => perController!.delete(controller));
  return decision;
}

/** The `ca` option for a CA bundle: each CERTIFICATE block node can load, as PEM. */
export function caOptionFromPem(caPem: string | null): string[] | undefined {
  if (caPem === null) return undefined;
  const out: string[] = [];
  for (const b of readPemBlocks(caPem)) {
    if (b.label !== 'CERTIFICATE' || !b.der) continue;
    try {
      new X509Certificate(b.der);
      out.push(toPem(b.der));
    } catch {
      // a block node cannot load is left out of the hints (the lint reports it)
    }
  }
  return out.length > 0 ? out : undefined;
}

/** Secure-context fields `tls.Server#setSecureContext` keeps on the server (Node's own names). */
const CONTEXT_FIELDS = [
  'pfx', 'key', 'passphrase', 'cert', 'clientCertEngine', 'minVersion', 'maxVersion', 'secureProtocol', 'crl',
  'sigalgs', 'ciphers', 'ecdhCurve', 'dhparam', 'honorCipherOrder', 'secureOptions', 'sessionTimeout',
  'privateKeyIdentifier', 'privateKeyEngine',
] as const;

/** Options of {@link attachController}. */
export interface AttachOptions {
  /**
   * The server's own secure-context options (`key`, `cert`, `pfx`, `ciphers`, …) to rebuild the
   * context from on every change. Default: what the server was created with (read from the server).
   * `ca`, `sessionIdContext` and `ticketKeys` are always certgate's.
   */
  secureContext?: SecureContextOptions;
  /** Called when a context swap fails (the server keeps the previous context). Default: `console.error`. */
  onError?: (error: Error) => void;
}

/** What {@link attachController} returns. */
export interface Attachment {
  /** Re-applies the controller's current settings to the server (done automatically on every change). */
  apply(): void;
  /** The decision for one connection (same as {@link decideSocket} with this controller). */
  decide(socket: Socket | TLSSocket): Promise<Decision>;
  /** Stops following the controller (the server keeps its last context). */
  detach(): void;
}

type ServerFields = TlsServer & { requestCert?: boolean; rejectUnauthorized?: boolean } & Record<string, unknown>;

/**
 * Attaches `controller` to `server` (a `tls.Server`, `https.Server` or HTTP/2 secure server) and
 * keeps it in step with every settings change.
 *
 * @example
 * const server = https.createServer({ key, cert }, app);
 * attachController(server, controller);
 */
export function attachController(server: TlsServer, controller: Controller, options: AttachOptions = {}): Attachment {
  if (!server || typeof (server as { setSecureContext?: unknown }).setSecureContext !== 'function') {
    throw new CertgateError('ERR_CERTGATE_INVALID_OPTION', 'attachController: "server" must be a tls.Server, https.Server or http2 secure server');
  }
  const s = server as ServerFields;
  const base: Record<string, unknown> = {};
  if (options.secureContext) Object.assign(base, options.secureContext);
  else for (const f of CONTEXT_FIELDS) if (s[f] !== undefined) base[f] = s[f];
  delete base.ca;
  delete base.sessionIdContext;
  delete base.ticketKeys;
  const onError = options.onError ?? ((e: Error) => console.error(`[certgate] cannot update the TLS context: ${e.message}`));

  function apply(): void {
    const status = controller.status();
    const mode = status.ok ? status.state.mode : 'enforced';
    const ca = caOptionFromPem(controller.caPemInForce());
    try {
      s.setSecureContext({
        ...(base as SecureContextOptions),
        ...(ca ? { ca } : {}),
        // A new session-ID context and new ticket keys: sessions made under old settings cannot resume.
        sessionIdContext: randomBytes(16).toString('hex'),
        ticketKeys: randomBytes(48),
      });
    } catch (err) {
      onError(err as Error);
    }
    s.requestCert = mode !== 'disabled';
    s.rejectUnauthorized = false;
  }

  // A connection's certificate is decided once per settings epoch; TLS 1.2 renegotiation could
  // swap the certificate underneath that decision, so certgate's connections refuse it.
  const onSecure = (socket: TLSSocket): void => {
    socket.disableRenegotiation();
    // Node only reports the attempt as an error; end the connection so it cannot go on.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err?.code === 'ERR_TLS_RENEGOTIATION_DISABLED') socket.destroy();
    });
  };
  server.on('secureConnection', onSecure);

  apply();
  const off = controller.onChange(() => apply());
  return {
    apply,
    decide: (socket) => decideSocket(controller, socket),
    detach() {
      off();
      server.off('secureConnection', onSecure);
    },
  };
}
