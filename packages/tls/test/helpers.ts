/**
 * Shared fixtures of the @certgate/tls tests: a test PKI, a raw TLS "line" server that reports the
 * decision of its connection, Node client helpers and an `openssl s_client` runner. Everything runs
 * on 127.0.0.1.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { createController, createMemorySettingsStore, type Controller, type ControllerOptions, type Decision } from '@certgate/core';
import { createCa, type TestCa, type TestCertificate } from '@certgate/core/testing';
import { attachController, decideSocket, peerChainFromSocket, type AttachOptions, type Attachment } from '@certgate/tls';

export interface Pki {
  serverCa: TestCa;
  server: TestCertificate;
  caA: TestCa;
  caB: TestCa;
  interA: TestCa;
  alice: TestCertificate; // issued by A
  bob: TestCertificate; // issued by B
  carol: TestCertificate; // issued by an intermediate of A
}

export async function createPki(): Promise<Pki> {
  const serverCa = await createCa({ subject: 'CN=Server CA' });
  const server = await serverCa.issueServer();
  const caA = await createCa({ subject: 'CN=Hint CA A, O=certgate' });
  const caB = await createCa({ subject: 'CN=Hint CA B, O=certgate' });
  const interA = await caA.issueIntermediate({ subject: 'CN=Intermediate A, O=certgate' });
  return {
    serverCa,
    server,
    caA,
    caB,
    interA,
    alice: await caA.issue({ subject: 'CN=alice' }),
    bob: await caB.issue({ subject: 'CN=bob' }),
    carol: await interA.issue({ subject: 'CN=carol' }),
  };
}

export function newController(opts: Partial<ControllerOptions> = {}): Promise<Controller> {
  return createController({ store: createMemorySettingsStore(), appName: 'TLS test', onProblem: () => {}, ...opts });
}

/** What the line server saw on one connection. */
export interface Seen {
  socket: tls.TLSSocket;
  decision: Decision;
  reused: boolean;
  /** Node's `socket.authorized` (reported only, never used by certgate). */
  authorized: boolean;
  /** What Node shows: the CNs along `getPeerCertificate(true).issuerCertificate`. */
  nodeChain: string[];
  /** What certgate decided on: `peerChainFromSocket` (leaf first, DER). */
  chain: Uint8Array[] | null;
}

/** The CNs along `getPeerCertificate(true).issuerCertificate` (non-destructive, unlike getPeerX509Certificate). */
export function nodeChainOf(socket: tls.TLSSocket): string[] {
  const out: string[] = [];
  let c: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (c && c.raw && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    out.push(String(c.subject?.CN ?? '?'));
    c = c.issuerCertificate;
  }
  return out;
}

/** A line for a decision: `action epoch code|-`. */
export function lineOf(d: Decision): string {
  return `${d.action} ${d.epoch} ${d.denial?.code ?? '-'}`;
}

export interface LineServer {
  server: tls.Server;
  attachment: Attachment;
  port: number;
  seen: Seen[];
  close(): Promise<void>;
}

/**
 * A raw TLS server attached to `controller`. On connect it writes the connection's decision line,
 * and again for every chunk received; with `endAfterFirst` it ends the connection after the first
 * line (for `openssl s_client`, which then exits).
 */
export async function startLineServer(
  pki: Pki,
  controller: Controller,
  opts: { attach?: AttachOptions; tls?: tls.TlsOptions; endAfterFirst?: boolean } = {},
): Promise<LineServer> {
  const seen: Seen[] = [];
  const open = new Set<tls.TLSSocket>();
  const server = tls.createServer({ key: pki.server.keyPem, cert: pki.server.pem, minVersion: 'TLSv1.2', ...opts.tls }, async (socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => {});
    const decision = await decideSocket(controller, socket);
    seen.push({ socket, decision, reused: socket.isSessionReused(), authorized: socket.authorized, nodeChain: nodeChainOf(socket), chain: peerChainFromSocket(socket) });
    if (opts.endAfterFirst) {
      socket.end(`${lineOf(decision)}\n`);
      return;
    }
    socket.on('data', async () => {
      const again = await decideSocket(controller, socket);
      if (!socket.destroyed) socket.write(`${lineOf(again)}\n`);
    });
    socket.write(`${lineOf(decision)}\n`);
  });
  const attachment = attachController(server, controller, { onError: (e) => { throw e; }, ...opts.attach });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    attachment,
    port: (server.address() as AddressInfo).port,
    seen,
    async close() {
      attachment.detach();
      for (const s of open) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

export interface Connected {
  socket: tls.TLSSocket;
  line: string;
  /** Resolves with the session the server issued (a ticket in TLS 1.3 arrives after the handshake). */
  session: Promise<Buffer>;
}

/** Connects with Node's client and resolves with the first line the server writes. */
export function connectLine(port: number, pki: Pki, opts: tls.ConnectionOptions = {}): Promise<Connected> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: pki.serverCa.pem, servername: 'localhost', ...opts });
    const session = new Promise<Buffer>((res) => {
      socket.once('session', res);
    });
    socket.once('error', reject);
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) {
        socket.off('data', onData);
        socket.off('error', reject);
        socket.on('error', () => {});
        resolve({ socket, line: buf.slice(0, i), session });
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`closed before a line (got ${JSON.stringify(buf)})`)));
  });
}

/** Sends one byte and resolves with the next line (or `closed` if the server closes instead). */
export function nextLine(socket: tls.TLSSocket): Promise<string> {
  return new Promise((resolve) => {
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) {
        socket.off('data', onData);
        resolve(buf.slice(0, i));
      }
    };
    socket.on('data', onData);
    socket.once('close', () => resolve('closed'));
    socket.write('x');
  });
}

/** What happens to a connection: the first line, or `closed` when the server closes without one. */
export function firstLineOrClosed(port: number, pki: Pki, opts: tls.ConnectionOptions = {}): Promise<{ result: string; socket: tls.TLSSocket; handshake: boolean }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: pki.serverCa.pem, servername: 'localhost', ...opts });
    let handshake = false;
    let buf = '';
    socket.once('secureConnect', () => (handshake = true));
    socket.on('error', () => {});
    socket.on('data', (d) => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) resolve({ result: buf.slice(0, i), socket, handshake });
    });
    socket.once('close', () => resolve({ result: buf.length > 0 ? buf : 'closed', socket, handshake }));
  });
}

/** Files for s_client (`-cert`, `-key`, `-sess_out`…) in a fresh temporary directory. */
export class TempFiles {
  readonly dir = mkdtempSync(join(tmpdir(), 'certgate-tls-'));
  write(name: string, content: string): string {
    const p = join(this.dir, name);
    writeFileSync(p, content, { mode: 0o600 });
    return p;
  }
  path(name: string): string {
    return join(this.dir, name);
  }
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs `openssl s_client -connect 127.0.0.1:port` with `args`, writes `input` and closes its stdin; resolves with stdout + stderr. */
export function sClient(port: number, args: string[], input = ''): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...args],
      { timeout: 15_000 },
      (_err, stdout, stderr) => resolve(`${stdout}\n${stderr}`),
    );
    child.stdin?.end(input);
  });
}

/** The names s_client lists under "Acceptable client certificate CA names" (empty when it prints none). */
export function acceptableCaNames(out: string): string[] {
  const m = /---\nAcceptable client certificate CA names\n([\s\S]*?)\n(?:Client Certificate Types|Requested Signature Algorithms|---)/.exec(out);
  return m ? m[1]!.split('\n').map((l) => l.trim()).filter(Boolean) : [];
}

/** Whether s_client (run with `-msg`) received a CertificateRequest handshake message. */
export function sawCertificateRequest(out: string): boolean {
  return /^<<< TLS 1\.[23], Handshake \[length [0-9a-f]+\], CertificateRequest$/m.test(out);
}

/** s_client's "New, …" / "Reused, …" line: whether the session was resumed. */
export function sClientReused(out: string): boolean | null {
  if (/^Reused, TLSv1\.[23]/m.test(out)) return true;
  if (/^New, TLSv1\.[23]/m.test(out)) return false;
  return null;
}

/** The decision line the line server wrote to s_client (`allow …`, `deny …`), or null. */
export function decisionLine(out: string): string | null {
  const m = /^(allow|allow-unverified|deny) \d+ \S+$/m.exec(out);
  return m ? m[0] : null;
}

/** Saves the controller's settings as `admin`, failing the test when the save is refused. */
export async function save(controller: Controller, request: Parameters<Controller['save']>[0], peerChain: Uint8Array[] | null = null): Promise<void> {
  const r = await controller.save(request, { actor: 'admin', peerChain });
  if (!r.ok || r.refusal) throw new Error(`save refused: ${JSON.stringify(r.ok ? r.refusal : r.refusal)}`);
}

/** A controller proxy counting `decide` calls (decisions are cached per controller object). */
export function countingController(controller: Controller): { controller: Controller; calls: () => number } {
  let n = 0;
  const proxy = new Proxy(controller, {
    get(target, prop, receiver) {
      if (prop === 'decide') {
        return (chain: Parameters<Controller['decide']>[0]) => {
          n++;
          return target.decide(chain);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { controller: proxy, calls: () => n };
}
