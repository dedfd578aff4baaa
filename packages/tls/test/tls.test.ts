/**
 * @certgate/tls over real TLS on 127.0.0.1: requestCert per mode, CA hints in the CertificateRequest
 * (read with openssl s_client), hot swap without restart, no session resumption across a change,
 * per-connection decisions re-made after a change, peer-chain extraction.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createController, createMemorySettingsStore, type Controller, type Decision } from '@certgate/core';
import { createCa, type TestCa, type TestCertificate } from '@certgate/core/testing';
import { attachController, caOptionFromPem, decideSocket, peerChainFromSocket, type Attachment } from '@certgate/tls';

let serverCa: TestCa;
let server: TestCertificate;
let caA: TestCa;
let caB: TestCa;
let interA: TestCa;
let alice: TestCertificate;
let bob: TestCertificate;
let carol: TestCertificate; // issued by an intermediate of A
let controller: Controller;
let tlsServer: tls.Server;
let attachment: Attachment;
let port: number;
const seen: { chain: Uint8Array[] | null; decision: Decision }[] = [];
const open = new Set<tls.TLSSocket>();

beforeAll(async () => {
  serverCa = await createCa({ subject: 'CN=Server CA' });
  server = await serverCa.issueServer();
  caA = await createCa({ subject: 'CN=Hint CA A, O=certgate' });
  caB = await createCa({ subject: 'CN=Hint CA B, O=certgate' });
  interA = await caA.issueIntermediate({ subject: 'CN=Intermediate A' });
  alice = await caA.issue({ subject: 'CN=alice' });
  bob = await caB.issue({ subject: 'CN=bob' });
  carol = await interA.issue({ subject: 'CN=carol' });
  controller = await createController({ store: createMemorySettingsStore(), appName: 'TLS test' });
  tlsServer = tls.createServer({ key: server.keyPem, cert: server.pem, minVersion: 'TLSv1.2' }, async (socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => {});
    const chain = peerChainFromSocket(socket);
    const decision = await decideSocket(controller, socket);
    seen.push({ chain, decision });
    socket.on('data', async () => {
      const again = await decideSocket(controller, socket);
      socket.write(`${again.action} ${again.epoch}\n`);
    });
    socket.write(`${decision.action} ${decision.epoch}\n`);
  });
  attachment = attachController(tlsServer, controller, { onError: (e) => { throw e; } });
  tlsServer.listen(0, '127.0.0.1');
  await once(tlsServer, 'listening');
  port = (tlsServer.address() as AddressInfo).port;
});

afterAll(async () => {
  attachment?.detach();
  controller?.close();
  for (const s of open) s.destroy();
  await new Promise((r) => tlsServer?.close(r));
});

function connect(opts: tls.ConnectionOptions = {}): Promise<{ socket: tls.TLSSocket; line: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: serverCa.pem, servername: 'localhost', ...opts });
    socket.once('error', reject);
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) {
        socket.removeAllListeners('data');
        resolve({ socket, line: buf.slice(0, i) });
      }
    });
  });
}
function nextLine(socket: tls.TLSSocket, send = 'x'): Promise<string> {
  return new Promise((resolve) => {
    socket.once('data', (d) => resolve(d.toString().trim()));
    socket.write(send);
  });
}

function acceptableCaNames(extra: string[] = []): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-tls1_2', ...extra],
      { timeout: 10_000 },
      (_err, stdout, stderr) => resolve(`${stdout}\n${stderr}`),
    );
    child.stdin?.end('');
  });
}

describe('attachController', () => {
  it('disabled: no certificate is requested, so a client certificate is never sent', async () => {
    expect((tlsServer as unknown as { requestCert: boolean }).requestCert).toBe(false);
    const { socket, line } = await connect({ cert: alice.pem, key: alice.keyPem });
    expect(line).toMatch(/^allow /);
    expect(seen.at(-1)!.chain).toBeNull();
    socket.destroy();
  });

  it('optional: a certificate is requested, not required; the CA names go out as hints', async () => {
    await controller.save({ enabled: true, enforce: false, caPem: caA.pem }, { actor: 'admin', peerChain: null });
    expect((tlsServer as unknown as { requestCert: boolean; rejectUnauthorized: boolean }).requestCert).toBe(true);
    expect((tlsServer as unknown as { rejectUnauthorized: boolean }).rejectUnauthorized).toBe(false);

    const none = await connect();
    expect(none.line).toMatch(/^allow-unverified /);
    none.socket.destroy();

    const withCert = await connect({ cert: alice.pem, key: alice.keyPem });
    expect(withCert.line).toMatch(/^allow /);
    expect(seen.at(-1)!.decision.identity?.subject).toBe('CN=alice');
    withCert.socket.destroy();

    const out = await acceptableCaNames();
    expect(out).toMatch(/Acceptable client certificate CA names\s+[^\n]*Hint CA A/);
    expect(out).not.toContain('Hint CA B');
  });

  it('the chain a client sends is extracted leaf first (leaf + intermediate)', async () => {
    const { socket, line } = await connect({ cert: carol.pem + interA.pem, key: carol.keyPem });
    expect(line).toMatch(/^allow /);
    const chain = seen.at(-1)!.chain!;
    expect(Buffer.from(chain[0]!).equals(Buffer.from(carol.der))).toBe(true);
    expect(chain.some((c) => Buffer.from(c).equals(Buffer.from(interA.der)))).toBe(true);
    expect(chain.length).toBeLessThanOrEqual(10);
    socket.destroy();
  });

  it('a CA swap takes effect for new handshakes without a restart (hints follow)', async () => {
    await controller.save({ enabled: true, enforce: false, caPem: caB.pem }, { actor: 'admin', peerChain: null });
    const out = await acceptableCaNames();
    expect(out).toMatch(/Acceptable client certificate CA names\s+[^\n]*Hint CA B/);
    expect(out).not.toContain('Hint CA A');
  });

  it('an open connection is re-decided after a change (keep-alive must not stay open-door)', async () => {
    const { socket, line } = await connect(); // no certificate, optional → admitted
    expect(line).toMatch(/^allow-unverified /);
    expect(await nextLine(socket)).toMatch(/^allow-unverified /);
    // enforce (bob validates against B)
    const r = await controller.save({ enabled: true, enforce: true }, { actor: 'admin', peerChain: [bob.der] });
    expect(r).toMatchObject({ ok: true, state: { mode: 'enforced' } });
    expect(await nextLine(socket)).toMatch(new RegExp(`^deny ${controller.epoch}$`));
    socket.destroy();
  });

  it('no TLS session made before a change is resumed after it', async () => {
    const first = await connect({ cert: bob.pem, key: bob.keyPem, maxVersion: 'TLSv1.2' });
    const session = await new Promise<Buffer>((resolve) => {
      const s = first.socket.getSession();
      if (s) resolve(s);
      else first.socket.once('session', resolve);
    });
    first.socket.destroy();
    // sanity: without a change the session resumes
    const again = await connect({ cert: bob.pem, key: bob.keyPem, maxVersion: 'TLSv1.2', session });
    expect(again.socket.isSessionReused()).toBe(true);
    again.socket.destroy();
    await controller.save({ enabled: true, enforce: true, caPem: caB.pem }, { actor: 'admin', peerChain: [bob.der] });
    const after = await connect({ cert: bob.pem, key: bob.keyPem, maxVersion: 'TLSv1.2', session });
    expect(after.socket.isSessionReused()).toBe(false);
    expect(after.line).toMatch(/^allow /);
    after.socket.destroy();
  });

  it('TLS 1.3: a resumed session is decided on what it shows (a missing certificate is "no certificate"), and never resumes across a change', async () => {
    const first = await connect({ cert: bob.pem, key: bob.keyPem, minVersion: 'TLSv1.3' });
    expect(first.line).toMatch(/^allow /);
    const session = await new Promise<Buffer>((resolve) => first.socket.once('session', resolve));
    first.socket.destroy();
    const resumed = await connect({ minVersion: 'TLSv1.3', session });
    expect(resumed.socket.isSessionReused()).toBe(true);
    const last = seen.at(-1)!;
    // Never socket.authorized (nodejs/node#35317): the decision follows the certificate the session
    // shows. Node 20 restores the leaf from the session (not the intermediates: resumption.test.ts).
    expect(last.chain).not.toBeNull();
    expect(Buffer.from(last.chain![0]!).equals(Buffer.from(bob.der))).toBe(true);
    expect(resumed.line).toMatch(/^allow /);
    resumed.socket.destroy();
    await controller.save({ enabled: true, enforce: true, caPem: caB.pem }, { actor: 'admin', peerChain: [bob.der] });
    const after = await connect({ minVersion: 'TLSv1.3', session });
    expect(after.socket.isSessionReused()).toBe(false);
    expect(after.line).toMatch(/^deny /);
    after.socket.destroy();
  });

  it('TLS 1.2 renegotiation is refused (a connection cannot swap its certificate under a decision)', async () => {
    const { socket, line } = await connect({ cert: bob.pem, key: bob.keyPem, maxVersion: 'TLSv1.2' });
    expect(line).toMatch(/^allow /);
    const outcome = await new Promise<string>((resolve) => {
      socket.once('error', () => resolve('error'));
      socket.once('close', () => resolve('closed'));
      socket.renegotiate({ rejectUnauthorized: false }, (err) => {
        if (!err) {
          // a renegotiation the server accepted would show up as a working socket
          socket.write('x');
          socket.once('data', () => resolve('renegotiated'));
        }
      });
    });
    expect(outcome).not.toBe('renegotiated');
    socket.destroy();
  });

  it('disable: requestCert goes back to false', async () => {
    await controller.save({ enabled: false, enforce: false }, { actor: 'admin', peerChain: null });
    expect((tlsServer as unknown as { requestCert: boolean }).requestCert).toBe(false);
    const { socket, line } = await connect({ cert: alice.pem, key: alice.keyPem });
    expect(line).toMatch(/^allow /);
    socket.destroy();
  });
});

describe('caOptionFromPem', () => {
  it('keeps loadable certificates and drops other blocks', () => {
    expect(caOptionFromPem(null)).toBeUndefined();
    const out = caOptionFromPem(`${caA.pem}-----BEGIN PRIVATE KEY-----\nQUFB\n-----END PRIVATE KEY-----\n${caB.pem}`);
    expect(out).toHaveLength(2);
    expect(caOptionFromPem('-----BEGIN CERTIFICATE-----\nQUFB\n-----END CERTIFICATE-----\n')).toBeUndefined();
  });
});

describe('HTTP/2 secure server', () => {
  it('the same attachment and per-connection decision work for http2.createSecureServer', async () => {
    const http2 = await import('node:http2');
    const c = await createController({ store: createMemorySettingsStore(), appName: 'h2' });
    const srv = http2.createSecureServer({ key: server.keyPem, cert: server.pem }, async (req, res) => {
      const d = await decideSocket(c, req.socket);
      res.end(`${d.action} ${d.identity?.subject ?? '-'}`);
    });
    const att = attachController(srv, c);
    await c.save({ enabled: true, enforce: false, caPem: caA.pem }, { actor: 'admin', peerChain: null });
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const h2port = (srv.address() as AddressInfo).port;
    const get = (opts: { cert?: string; key?: string }) =>
      new Promise<string>((resolve, reject) => {
        const client = http2.connect(`https://127.0.0.1:${h2port}`, { ca: serverCa.pem, servername: 'localhost', ...opts });
        client.on('error', reject);
        const r = client.request({ ':path': '/' });
        let t = '';
        r.on('data', (d) => (t += d));
        r.on('end', () => {
          client.close();
          resolve(t);
        });
      });
    expect(await get({ cert: alice.pem, key: alice.keyPem })).toBe('allow CN=alice');
    expect(await get({})).toBe('allow-unverified -');
    await c.save({ enabled: true, enforce: true }, { actor: 'admin', peerChain: [alice.der] });
    expect(await get({})).toBe('deny -');
    att.detach();
    c.close();
    await new Promise((r) => srv.close(r));
  });
});
