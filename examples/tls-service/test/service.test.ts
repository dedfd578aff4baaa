/**
 * The raw TLS line service over real TLS on 127.0.0.1, with Node's client and `openssl s_client`:
 * greets a valid client by its certificate subject, closes the door on the others (in the
 * handshake's wake: the service code never sees them), and closes open connections that a settings
 * change now denies. The `start` script (src/main.js) is started as its own process too.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createController, createFileSettingsStore, createMemorySettingsStore, type Controller } from '@certgate/core';
import { createCa, type TestCa, type TestCertificate } from '@certgate/core/testing';
// @ts-expect-error -- plain JavaScript example without type declarations
import { createTlsService, MAX_LINE } from '../src/service.js';

let serverCa: TestCa;
let server: TestCertificate;
let ca: TestCa;
let other: TestCa;
let alice: TestCertificate;
let mallory: TestCertificate;
let controller: Controller;
let svc: { server: tls.Server; attachment: { detach(): void }; served: () => number };
let port: number;
let dir: string;
const clients = new Set<tls.TLSSocket>();

beforeAll(async () => {
  serverCa = await createCa({ subject: 'CN=service server CA' });
  server = await serverCa.issueServer();
  ca = await createCa({ subject: 'CN=Service Client CA, O=certgate' });
  other = await createCa({ subject: 'CN=Other CA' });
  alice = await ca.issue({ subject: 'CN=alice, O=certgate' });
  mallory = await other.issue({ subject: 'CN=mallory' });
  controller = await createController({ store: createMemorySettingsStore(), appName: 'the TLS service', onProblem: () => {} });
  svc = createTlsService({ controller, key: server.keyPem, cert: server.pem });
  svc.server.listen(0, '127.0.0.1');
  await once(svc.server, 'listening');
  port = (svc.server.address() as AddressInfo).port;
  dir = mkdtempSync(join(tmpdir(), 'certgate-tls-service-'));
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  svc?.attachment.detach();
  controller?.close();
  await new Promise((r) => svc?.server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

/** A line-protocol client: `next()` resolves with the next line, or `null` when the server closed. */
function client(opts: tls.ConnectionOptions = {}, p = port): { socket: tls.TLSSocket; next(): Promise<string | null>; send(line: string): void } {
  const socket = tls.connect({ host: '127.0.0.1', port: p, ca: serverCa.pem, servername: 'localhost', ...opts });
  clients.add(socket);
  socket.setEncoding('utf8');
  socket.on('error', () => {});
  const lines: string[] = [];
  const waiting: ((l: string | null) => void)[] = [];
  let buf = '';
  let closed = false;
  socket.on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiting.shift();
      if (w) w(l);
      else lines.push(l);
    }
  });
  socket.on('close', () => {
    closed = true;
    for (const w of waiting.splice(0)) w(null);
  });
  return {
    socket,
    next: () => new Promise((resolve) => (lines.length > 0 ? resolve(lines.shift()!) : closed ? resolve(null) : waiting.push(resolve))),
    send: (line) => socket.write(`${line}\n`),
  };
}

function sClient(args: string[], input: string): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-quiet', '-ign_eof', ...args], { timeout: 15_000 }, (_e, out, err) =>
      resolve(`${out}\n${err}`),
    );
    child.stdin?.end(input);
  });
}

const save = async (req: Parameters<Controller['save']>[0], chain: Uint8Array[] | null = null) => {
  const r = await controller.save(req, { actor: 'admin', peerChain: chain });
  expect(r.ok && !r.refusal).toBe(true);
};

describe('tls-service', () => {
  it('disabled: everyone is a guest; the commands work', async () => {
    const c = client({ cert: alice.pem, key: alice.keyPem });
    expect(await c.next()).toBe('HELLO guest'); // no certificate is even requested
    c.send('PING');
    expect(await c.next()).toBe('PONG');
    c.send('WHOAMI');
    expect(await c.next()).toBe('YOU guest');
    c.send('nonsense');
    expect(await c.next()).toBe('ERR unknown command');
    c.send('QUIT');
    expect(await c.next()).toBe('BYE');
    expect(await c.next()).toBeNull();
  });

  it('optional: a valid client is greeted by its subject; the others are guests', async () => {
    await save({ enabled: true, enforce: false, caPem: ca.pem });
    const a = client({ cert: alice.pem, key: alice.keyPem });
    expect(await a.next()).toBe('HELLO O=certgate,CN=alice');
    a.send('WHOAMI');
    expect(await a.next()).toMatch(/^YOU O=certgate,CN=alice [0-9A-F:]{95}$/i);
    a.socket.destroy();
    const g = client();
    expect(await g.next()).toBe('HELLO guest');
    g.socket.destroy();
    const m = client({ cert: mallory.pem, key: mallory.keyPem });
    expect(await m.next()).toBe('HELLO guest');
    m.socket.destroy();
  });

  it('enforce closes the door on an open guest connection and keeps the valid one', async () => {
    const guest = client();
    expect(await guest.next()).toBe('HELLO guest');
    const a = client({ cert: alice.pem, key: alice.keyPem });
    expect(await a.next()).toBe('HELLO O=certgate,CN=alice');
    await save({ enabled: true, enforce: true, caPem: ca.pem }, [alice.der]);
    expect(await guest.next()).toMatch(/^DENIED CLIENT_CERT_MISSING: Client certificate not found in request\. Please make sure your client uses a certificate to access the TLS service\.$/);
    expect(await guest.next()).toBeNull();
    a.send('PING');
    expect(await a.next()).toBe('PONG');
    a.socket.destroy();
  });

  it('enforced: no certificate or an untrusted one is refused before the service sees it (Node and s_client)', async () => {
    const servedBefore = svc.served();
    const none = client();
    expect(await none.next()).toMatch(/^DENIED CLIENT_CERT_MISSING: /);
    expect(await none.next()).toBeNull();
    const m = client({ cert: mallory.pem, key: mallory.keyPem });
    expect(await m.next()).toBe('DENIED CLIENT_CERT_UNTRUSTED: Current client certificate can not be validated by the uploaded CA.');
    expect(await m.next()).toBeNull();

    for (const v of ['-tls1_2', '-tls1_3']) {
      const out = await sClient([v], 'PING\n');
      expect(out).toMatch(/DENIED CLIENT_CERT_MISSING/);
      expect(out).not.toContain('HELLO');
      expect(out).not.toContain('PONG');
    }
    expect(svc.served()).toBe(servedBefore); // the DENIED lines came from certgate's refusal, not the service
    const certFile = join(dir, 'alice.pem');
    const keyFile = join(dir, 'alice-key.pem');
    writeFileSync(certFile, alice.pem);
    writeFileSync(keyFile, alice.keyPem, { mode: 0o600 });
    const ok = await sClient(['-tls1_3', '-cert', certFile, '-key', keyFile], 'PING\nQUIT\n');
    expect(ok).toContain('HELLO O=certgate,CN=alice');
    expect(ok).toContain('PONG');
    expect(ok).toContain('BYE');
  });

  it('a line longer than the limit ends the connection', async () => {
    const a = client({ cert: alice.pem, key: alice.keyPem });
    expect(await a.next()).toBe('HELLO O=certgate,CN=alice');
    a.socket.write('x'.repeat(MAX_LINE + 10));
    expect(await a.next()).toBe('ERR line too long');
    expect(await a.next()).toBeNull();
  });
});

describe('the start script', () => {
  it('starts on a data directory, follows its settings file and closes the door after enforce', async () => {
    const data = mkdtempSync(join(tmpdir(), 'certgate-tls-service-data-'));
    const main = fileURLToPath(new URL('../src/main.js', import.meta.url));
    const child = spawn(process.execPath, [main], { env: { ...process.env, PORT: '0', HOST: '127.0.0.1', CERTGATE_DATA_DIR: data }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      child.stderr.on('data', (d) => (out += d));
      const listening = await new Promise<number>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          out += d;
          const m = /listening on 127\.0\.0\.1:(\d+) \(mode disabled\)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      const { readFileSync } = await import('node:fs');
      const devCa = readFileSync(join(data, 'tls-service-dev-ca.pem'), 'utf8');
      const connect = (o: tls.ConnectionOptions = {}) => client({ ca: devCa, ...o }, listening);
      const g = connect();
      expect(await g.next()).toBe('HELLO guest');

      // another process (here: this test) changes the settings file; the service follows it
      const store = await createFileSettingsStore({ dir: data, pollIntervalMs: 0 });
      const admin = await createController({ store, onProblem: () => {} });
      const r = await admin.save({ enabled: true, enforce: true, caPem: ca.pem }, { actor: 'test', peerChain: [alice.der] });
      expect(r.ok).toBe(true);
      expect(await g.next()).toMatch(/^DENIED CLIENT_CERT_MISSING: .*the TLS service\.$/);
      const a = connect({ cert: alice.pem, key: alice.keyPem });
      expect(await a.next()).toBe('HELLO O=certgate,CN=alice');
      a.socket.destroy();
      admin.close();
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit').catch(() => {});
      rmSync(data, { recursive: true, force: true });
    }
  });
});
