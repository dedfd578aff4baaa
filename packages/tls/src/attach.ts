/**
 * @module
 * {@link attachController}: keeps a `tls.Server`, `https.Server` or HTTP/2 secure server in step with
 * a certgate controller. See docs/tls.md for each hole this closes and how.
 */
import { X509Certificate, createHash, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { SecureContextOptions, Server as TlsServer, TLSSocket } from 'node:tls';
import { CertgateError, LruMap, readPemBlocks, toPem, type Controller, type Decision, type Mode } from '@certgate/core';
import { decideSocket } from './decide.js';
import { MAX_PEER_CHAIN, connectionState, readPeerChain } from './peer.js';

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

/** Default bound of {@link AttachOptions.sessionCache} when it is `true`. */
export const DEFAULT_SESSION_CACHE_ENTRIES = 1000;
/** Largest serialized TLS session the session cache keeps (bytes); larger ones are not cached. */
export const MAX_CACHED_SESSION_BYTES = 16 * 1024;
/** Default bound of {@link AttachOptions.resumptionIntermediates} (leaves remembered). */
export const DEFAULT_RESUMPTION_INTERMEDIATES = 1000;
/** Most bytes of intermediates remembered for resumed sessions, over all leaves. */
export const MAX_REMEMBERED_INTERMEDIATE_BYTES = 4 * 1024 * 1024;
/** How long a refused connection may take to flush what `onHandshakeDenied` wrote before it is destroyed (ms). */
export const DENIED_FLUSH_MS = 1000;

/** Options of {@link attachController}. */
export interface AttachOptions {
  /**
   * The server's own secure-context options (`key`, `cert`, `pfx`, `ciphers`, …) to rebuild the
   * context from on every change. Default: what the server was created with (read from the server).
   * `ca`, `sessionIdContext` and `ticketKeys` are always certgate's.
   */
  secureContext?: SecureContextOptions;
  /** Called when a context swap fails (the server keeps the previous context) or a decision throws. Default: `console.error`. */
  onError?: (error: Error) => void;
  /**
   * For raw TLS services: a connection certgate denies (in `enforced`: no certificate, or one that does
   * not validate; or the settings cannot be read) is never handed to the application — the server's
   * `secureConnection` listeners (and so `tls.createServer`'s connection listener, HTTP, HTTP/2) only
   * see connections certgate admitted. The verdict is certgate's, not OpenSSL's (`socket.authorized`
   * is ignored). Default false: HTTP apps get a readable 403 per request instead.
   */
  rejectInHandshake?: boolean;
  /**
   * Called for every connection certgate refuses (with `rejectInHandshake`, or closed after a change
   * with `closeDeniedOnChange`), before it is ended: e.g. write one line saying why. The connection is
   * ended right after and destroyed at the latest {@link DENIED_FLUSH_MS} later. Default: none (the
   * connection is destroyed at once, no byte is sent).
   */
  onHandshakeDenied?: (socket: TLSSocket, decision: Decision) => void;
  /**
   * After every settings change, re-decide every open connection of the server and close those now
   * denied (connections still trusted stay open). Default: the value of `rejectInHandshake`. For HTTP
   * servers the per-request re-decision ({@link decideSocket}) already answers 403 on the next request.
   */
  closeDeniedOnChange?: boolean;
  /**
   * A bounded in-memory TLS session-ID cache (the server's `newSession` / `resumeSession` events), flushed
   * on every settings change, so TLS 1.2 clients without tickets can resume. `true` keeps up to
   * {@link DEFAULT_SESSION_CACHE_ENTRIES}; a number sets the bound. Default false: Node servers keep no
   * session-ID cache of their own. Refused when the server already has `newSession`/`resumeSession`
   * listeners (your own cache: certgate's per-change session-ID context still keeps its old sessions from resuming).
   */
  sessionCache?: boolean | number;
  /**
   * A resumed session shows only the client's leaf (Node/OpenSSL restore the leaf from the session, not
   * the intermediates it sent). certgate remembers, per leaf, the intermediates it sent in its full
   * handshake (untrusted path-building hints, like any the client sends) and adds them back, so a
   * client whose chain needs them is not refused on resumption. Bound: leaves remembered (and at most
   * {@link MAX_REMEMBERED_INTERMEDIATE_BYTES}); forgotten on every settings change. `0` turns it off.
   * Default {@link DEFAULT_RESUMPTION_INTERMEDIATES}.
   */
  resumptionIntermediates?: number;
}

/** What {@link attachController} has applied to the server. */
export interface AppliedSettings {
  /** The controller epoch applied. */
  epoch: number;
  /** The mode applied (`enforced` while the settings cannot be read: fail closed). */
  mode: Mode;
  /** Whether new handshakes send a CertificateRequest. */
  requestCert: boolean;
  /** The CA certificates whose subject names go out as hints (PEM), empty for none. */
  ca: string[];
}

/** What {@link attachController} returns. */
export interface Attachment {
  /** Re-applies the controller's current settings to the server (done automatically on every change). */
  apply(): void;
  /** The decision for one connection (same as {@link decideSocket} with this controller). */
  decide(socket: Socket | TLSSocket): Promise<Decision>;
  /** What is applied now. */
  applied(): AppliedSettings;
  /** Open TLS connections of the server (handshake finished, not closed). */
  connectionCount(): number;
  /** Stops following the controller (the server keeps its last context). */
  detach(): void;
}

type ServerFields = TlsServer & { requestCert?: boolean; rejectUnauthorized?: boolean } & Record<string, unknown>;

function invalid(message: string): CertgateError {
  return new CertgateError('ERR_CERTGATE_INVALID_OPTION', `attachController: ${message}`);
}

function boundOption(name: string, value: unknown, whenUndefined: number, whenTrue: number): number {
  if (value === undefined) return whenUndefined;
  if (value === false) return 0;
  if (value === true) return whenTrue;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 1_000_000) {
    throw invalid(`"${name}" must be a boolean or an integer from 0 to 1000000`);
  }
  return value;
}

function chainBytes(chain: readonly Uint8Array[]): number {
  return chain.reduce((n, c) => n + c.byteLength, 0);
}

function sha256(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

/**
 * Attaches `controller` to `server` (a `tls.Server`, `https.Server` or HTTP/2 secure server) and
 * keeps it in step with every settings change:
 *
 * - `requestCert` per mode (no CertificateRequest in `disabled`; requested, never required, otherwise)
 *   and `rejectUnauthorized: false`, so certgate — not OpenSSL — decides;
 * - the CA in force is the context's `ca`, so its subject names go out as CertificateRequest hints;
 * - every change swaps the secure context in place (`setSecureContext`: no restart, open connections
 *   untouched) with a fresh session-ID context and fresh ticket keys, and flushes certgate's session
 *   cache, so no TLS session made under older settings resumes;
 * - each connection's chain is read once, when its handshake finishes, before any application
 *   listener; renegotiation (TLS 1.2) is refused so it cannot change under a decision.
 *
 * Throws `ERR_CERTGATE_INVALID_OPTION` for a server that is not a TLS server or bad options.
 *
 * @example
 * const server = https.createServer({ key, cert }, app);
 * attachController(server, controller);
 *
 * @example
 * // a raw TLS service: denied connections never reach the listener
 * const server = tls.createServer({ key, cert }, (socket) => greet(socket));
 * attachController(server, controller, { rejectInHandshake: true });
 */
export function attachController(server: TlsServer, controller: Controller, options: AttachOptions = {}): Attachment {
  if (!server || typeof (server as { setSecureContext?: unknown }).setSecureContext !== 'function') {
    throw invalid('"server" must be a tls.Server, https.Server or http2 secure server');
  }
  if (!controller || typeof controller.decide !== 'function' || typeof controller.onChange !== 'function') {
    throw invalid('"controller" must be a certgate Controller (createController)');
  }
  if (options === null || typeof options !== 'object') throw invalid('"options" must be an object');
  for (const k of ['rejectInHandshake', 'closeDeniedOnChange'] as const) {
    if (options[k] !== undefined && typeof options[k] !== 'boolean') throw invalid(`"${k}" must be a boolean`);
  }
  for (const k of ['onError', 'onHandshakeDenied'] as const) {
    if (options[k] !== undefined && typeof options[k] !== 'function') throw invalid(`"${k}" must be a function`);
  }
  const sessionMax = boundOption('sessionCache', options.sessionCache, 0, DEFAULT_SESSION_CACHE_ENTRIES);
  const rememberMax = boundOption('resumptionIntermediates', options.resumptionIntermediates, DEFAULT_RESUMPTION_INTERMEDIATES, DEFAULT_RESUMPTION_INTERMEDIATES);
  if (sessionMax > 0 && (server.listenerCount('newSession') > 0 || server.listenerCount('resumeSession') > 0)) {
    throw invalid('"sessionCache" cannot be used on a server that already has newSession/resumeSession listeners');
  }
  const rejectInHandshake = options.rejectInHandshake === true;
  const closeDeniedOnChange = options.closeDeniedOnChange ?? rejectInHandshake;
  const onDeniedHook = options.onHandshakeDenied;

  const s = server as ServerFields;
  const base: Record<string, unknown> = {};
  if (options.secureContext) Object.assign(base, options.secureContext);
  else for (const f of CONTEXT_FIELDS) if (s[f] !== undefined) base[f] = s[f];
  delete base.ca;
  delete base.sessionIdContext;
  delete base.ticketKeys;
  const onError = options.onError ?? ((e: Error) => console.error(`[certgate] TLS attachment: ${e.message}`));
  const report = (err: unknown): void => {
    try {
      onError(err instanceof Error ? err : new Error(String(err)));
    } catch {
      // a throwing error hook must not take the server down
    }
  };

  let applied: AppliedSettings = { epoch: -1, mode: 'enforced', requestCert: true, ca: [] };
  /** Session-ID cache: id (hex) → serialized session, least recently used evicted first. */
  const sessions = new LruMap<string, Buffer>(Math.max(1, sessionMax));
  /** Leaf SHA-256 → intermediates it sent in a full handshake, bounded by count and bytes. */
  const remembered = new LruMap<string, Uint8Array[]>(Math.max(1, rememberMax), { of: chainBytes, max: MAX_REMEMBERED_INTERMEDIATE_BYTES });
  const open = new Set<TLSSocket>();

  function apply(): void {
    const epoch = controller.epoch;
    const status = controller.status();
    const mode: Mode = status.ok ? status.state.mode : 'enforced';
    const ca = caOptionFromPem(controller.caPemInForce()) ?? [];
    try {
      s.setSecureContext({
        ...(base as SecureContextOptions),
        ...(ca.length > 0 ? { ca } : {}),
        // A new session-ID context and new ticket keys: sessions made under old settings cannot resume
        // (OpenSSL refuses a session whose context differs, whichever cache it came from).
        sessionIdContext: randomBytes(16).toString('hex'),
        ticketKeys: randomBytes(48),
      });
    } catch (err) {
      report(err);
    }
    s.requestCert = mode !== 'disabled';
    s.rejectUnauthorized = false;
    sessions.clear();
    remembered.clear();
    applied = { epoch, mode, requestCert: s.requestCert, ca };
  }

  function remember(leaf: string, intermediates: Uint8Array[]): void {
    if (chainBytes(intermediates) > MAX_REMEMBERED_INTERMEDIATE_BYTES / 16) return; // an outsized chain is not worth keeping
    remembered.set(leaf, intermediates);
  }

  /** Reads the chain once, completes a resumed one, refuses renegotiation, tracks the connection. */
  function onSecure(socket: TLSSocket): void {
    const state = connectionState(socket, true);
    if (!state || state.pinned) return;
    try {
      socket.disableRenegotiation();
    } catch {
      // not a TLS socket after all; the chain read below finds nothing
    }
    // Node only reports a renegotiation attempt as an error; end the connection so it cannot go on.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err?.code === 'ERR_TLS_RENEGOTIATION_DISABLED') socket.destroy();
    });
    let chain = readPeerChain(socket);
    if (chain && rememberMax > 0) {
      const leaf = sha256(chain[0]!);
      if (socket.isSessionReused()) {
        const extra = remembered.get(leaf);
        if (extra) {
          const have = new Set(chain.map(sha256));
          for (const c of extra) if (chain.length < MAX_PEER_CHAIN && !have.has(sha256(c))) chain.push(c);
        }
      } else if (chain.length > 1) {
        remember(leaf, chain.slice(1));
      }
    }
    state.chain = chain;
    state.pinned = true;
    if (!socket.destroyed) {
      open.add(socket);
      socket.once('close', () => open.delete(socket));
    }
  }

  /** A decision made under the settings in force when it resolves (re-decided if they moved on meanwhile). */
  async function decideCurrent(socket: TLSSocket): Promise<Decision> {
    let d = await decideSocket(controller, socket);
    for (let i = 0; i < 3 && d.epoch !== controller.epoch; i++) d = await decideSocket(controller, socket);
    return d;
  }

  function refuse(socket: TLSSocket, decision: Decision): void {
    open.delete(socket);
    if (socket.destroyed) return;
    if (!onDeniedHook) {
      socket.destroy();
      return;
    }
    socket.pause();
    try {
      onDeniedHook(socket, decision);
    } catch (err) {
      report(err);
    }
    const timer = setTimeout(() => socket.destroy(), DENIED_FLUSH_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    socket.end();
  }

  function recheckOpenConnections(): void {
    for (const socket of [...open]) {
      if (socket.destroyed) {
        open.delete(socket);
        continue;
      }
      decideCurrent(socket).then(
        (d) => {
          if (d.action === 'deny') refuse(socket, d);
        },
        (err) => {
          report(err);
          socket.destroy(); // fail closed
        },
      );
    }
  }

  // Session-ID cache (TLS 1.2 without tickets): bounded, flushed on every change in apply().
  const onNewSession = (id: Buffer, data: Buffer, cb: () => void): void => {
    if (data.length <= MAX_CACHED_SESSION_BYTES) {
      const key = id.toString('hex');
      sessions.set(key, data); // evicts the least recently used beyond sessionMax
    }
    cb();
  };
  const onResumeSession = (id: Buffer, cb: (err: Error | null, data?: Buffer | null) => void): void => {
    cb(null, sessions.get(id.toString('hex')) ?? null);
  };

  const hadOwnEmit = Object.prototype.hasOwnProperty.call(server, 'emit');
  const ownEmit = hadOwnEmit ? server.emit : undefined;
  const originalEmit = server.emit as (this: TlsServer, event: string | symbol, ...args: unknown[]) => boolean;
  let gateEmit: typeof server.emit | undefined;
  const onSecureListener = (socket: TLSSocket): void => onSecure(socket);

  if (rejectInHandshake) {
    // Hold `secureConnection` until certgate has decided: listeners (the app, http, http2) only see
    // admitted connections. Data the client sends meanwhile waits in the socket's buffer.
    gateEmit = function certgateGate(this: TlsServer, event: string | symbol, ...args: unknown[]): boolean {
      if (event !== 'secureConnection') return originalEmit.call(this, event, ...args);
      const socket = args[0] as TLSSocket;
      onSecure(socket);
      decideCurrent(socket).then(
        (d) => {
          if (d.action === 'deny') return refuse(socket, d);
          if (!socket.destroyed) originalEmit.call(this, event, ...args);
        },
        (err) => {
          report(err);
          socket.destroy();
        },
      );
      return true;
    } as unknown as typeof server.emit;
    server.emit = gateEmit;
  } else {
    server.prependListener('secureConnection', onSecureListener);
  }
  if (sessionMax > 0) {
    server.on('newSession', onNewSession);
    server.on('resumeSession', onResumeSession);
  }

  apply();
  const off = controller.onChange(() => {
    apply();
    if (closeDeniedOnChange) recheckOpenConnections();
  });
  let detached = false;
  return {
    apply,
    decide: (socket) => decideSocket(controller, socket),
    applied: () => ({ ...applied, ca: [...applied.ca] }),
    connectionCount: () => open.size,
    detach() {
      if (detached) return;
      detached = true;
      off();
      server.off('secureConnection', onSecureListener);
      if (sessionMax > 0) {
        server.off('newSession', onNewSession);
        server.off('resumeSession', onResumeSession);
      }
      if (gateEmit && server.emit === gateEmit) {
        if (hadOwnEmit) server.emit = ownEmit!;
        else delete (server as { emit?: unknown }).emit;
      }
    },
  };
}
