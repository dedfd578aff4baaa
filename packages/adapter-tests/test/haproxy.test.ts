/**
 * A real HAProxy in front (Debian's haproxy 2.6, started by this test on 127.0.0.1): HAProxy terminates
 * TLS, asks for a client certificate and lets any through (`verify optional` with `ca-ignore-err all
 * crt-ignore-err all`), and forwards the leaf with `http-request set-header X-SSL-Client-DER
 * %[ssl_c_der,base64] if { ssl_c_used }` after deleting whatever the client sent under that name;
 * Express 5 behind it decides with `mtls(controller, { forwarded })`, trusting 127.0.0.1 only. The
 * stranger that connects straight to the app does so over ::1, with a forged header.
 *
 * HAProxy 2.6's `ssl_c_der` is the leaf only, so the client certificates here are issued directly by
 * the CA (no intermediate to forward).
 *
 * A second listener, `strict`, has `verify optional` alone, to pin down why the ignore-err options are
 * needed: without them HAProxy itself refuses a certificate it cannot verify.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express5 from 'express5';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createController, createForwardedCertificates, createMemorySettingsStore, type Controller, type ForwardedCertificates } from '@certgate/core';
import { createCa, issueExpired, issueWrongEku, type TestCa, type TestCertificate } from '@certgate/core/testing';
import { mtls } from '@certgate/express';
import { request } from './request.js';

const HAPROXY = process.env.CERTGATE_HAPROXY ?? '/usr/sbin/haproxy';

let dir: string;
let haproxy: ChildProcess;
let haproxyOutput = '';
let haproxyPort: number;
let strictPort: number;
let appPort: number;
let appPort6: number;
const servers: http.Server[] = [];
let serverCa: TestCa;
let ca: TestCa;
let admin: TestCertificate;
let other: TestCertificate;
let stranger: TestCertificate;
let expired: TestCertificate;
let wrongEku: TestCertificate;
let controller: Controller;
let forwarded: ForwardedCertificates;
/** What the app received in the forwarded header, per request (undefined: no header). */
const seen: (string | undefined)[] = [];

async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

const viaHaproxy = (path: string, o: { cert?: TestCertificate; headers?: Record<string, string>; port?: number } = {}) =>
  request({ tls: true, host: '127.0.0.1', port: o.port ?? haproxyPort, path, ca: serverCa.pem, servername: 'localhost', headers: { accept: 'application/json', ...o.headers }, ...(o.cert ? { cert: o.cert.pem, key: o.cert.keyPem } : {}) });

const direct6 = (path: string, headers: Record<string, string>) => request({ host: '::1', port: appPort6, path, headers: { accept: 'application/json', ...headers } });

const b64 = (c: TestCertificate) => Buffer.from(c.der).toString('base64');

async function waitForPort(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await new Promise<void>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => {
          s.destroy();
          resolve();
        });
        s.on('error', reject);
      });
      return;
    } catch (err) {
      if (haproxy.exitCode !== null || Date.now() > deadline) throw new Error(`haproxy did not start: ${String(err)}\n${haproxyOutput}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'certgate-haproxy-'));
  serverCa = await createCa({ subject: 'CN=haproxy test server CA' });
  const server = await serverCa.issueServer();
  ca = await createCa({ subject: 'CN=Behind haproxy CA' });
  admin = await ca.issue({ subject: 'CN=admin' });
  other = await ca.issue({ subject: 'CN=someone else' });
  expired = await issueExpired(ca, { subject: 'CN=admin' });
  wrongEku = await issueWrongEku(ca, { subject: 'CN=admin' });
  stranger = await (await createCa({ subject: 'CN=Elsewhere' })).issue({ subject: 'CN=admin' });

  controller = await createController({ store: createMemorySettingsStore(), appName: 'Behind haproxy' });
  await controller.save({ enabled: true, enforce: false, caPem: ca.pem }, { actor: 'test', peerChain: null });
  const r = await controller.save({ enabled: true, enforce: true }, { actor: 'test', peerChain: [admin.der] });
  expect(r.ok && !('refusal' in r && r.refusal) && r.state.mode).toBe('enforced');

  forwarded = createForwardedCertificates({ trustedProxies: ['127.0.0.1'], format: 'haproxy' });
  const app = express5();
  app.use((req, _res, next) => {
    const h = req.headers['x-ssl-client-der'];
    seen.push(Array.isArray(h) ? h.join(',') : h);
    next();
  });
  app.use(mtls(controller, { forwarded }));
  app.get('/me', (req, res) => void res.json({ action: req.clientCertificate?.action, subject: req.clientCertificate?.identity?.subject ?? null, fingerprint: req.clientCertificate?.identity?.fingerprint256 ?? null }));
  for (const host of ['127.0.0.1', '::1']) {
    const s = http.createServer(app);
    s.listen(0, host);
    await once(s, 'listening');
    servers.push(s);
  }
  appPort = (servers[0]!.address() as AddressInfo).port;
  appPort6 = (servers[1]!.address() as AddressInfo).port;

  haproxyPort = await freePort();
  strictPort = await freePort();
  // crt: the server certificate, its chain and its key in one PEM file.
  writeFileSync(join(dir, 'server.pem'), server.pem + serverCa.pem + server.keyPem);
  writeFileSync(join(dir, 'client-ca.pem'), ca.pem);
  writeFileSync(
    join(dir, 'haproxy.cfg'),
    `global
  maxconn 64
  log stderr format raw local0 notice

defaults
  mode http
  log global
  timeout connect 5s
  timeout client 30s
  timeout server 30s

frontend certgate
  bind 127.0.0.1:${haproxyPort} ssl crt ${dir}/server.pem ca-file ${dir}/client-ca.pem verify optional ca-ignore-err all crt-ignore-err all
  # del-header first: set-header alone would replace a client's value, but with no client certificate
  # the condition is false and the client's own X-SSL-Client-DER would reach the app.
  http-request del-header X-SSL-Client-DER
  http-request set-header X-SSL-Client-DER %[ssl_c_der,base64] if { ssl_c_used }
  default_backend app

frontend strict
  bind 127.0.0.1:${strictPort} ssl crt ${dir}/server.pem ca-file ${dir}/client-ca.pem verify optional
  http-request del-header X-SSL-Client-DER
  http-request set-header X-SSL-Client-DER %[ssl_c_der,base64] if { ssl_c_used }
  default_backend app

backend app
  server app 127.0.0.1:${appPort}
`,
  );
  // -db: in the foreground, no daemon and no master process: SIGTERM stops it.
  haproxy = spawn(HAPROXY, ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'pipe', 'pipe'] });
  haproxy.stdout!.on('data', (d) => (haproxyOutput += d));
  haproxy.stderr!.on('data', (d) => (haproxyOutput += d));
  haproxy.on('error', (err) => (haproxyOutput += `spawn ${HAPROXY}: ${err.message}\n`));
  haproxy.on('exit', (code) => {
    if (code !== null && code !== 0) console.error(`haproxy exited with ${code}: ${haproxyOutput}`);
  });
  await waitForPort(haproxyPort);
  await waitForPort(strictPort);
}, 30_000);

afterAll(async () => {
  if (haproxy && haproxy.exitCode === null && haproxy.signalCode === null) {
    haproxy.kill('SIGTERM');
    await once(haproxy, 'exit');
  }
  for (const s of servers) await new Promise((r) => s.close(r));
  controller?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A request HAProxy refuses in the TLS handshake: the error the client sees; throws if it got an answer. */
async function refused(o: { cert: TestCertificate; port: number }): Promise<string> {
  let r: Awaited<ReturnType<typeof viaHaproxy>>;
  try {
    r = await viaHaproxy('/me', o);
  } catch (err) {
    return String((err as NodeJS.ErrnoException).code);
  }
  throw new Error(`expected HAProxy to refuse the handshake, got ${r.status}: ${r.text.slice(0, 200)}`);
}

describe('Express behind a real HAProxy (enforced)', () => {
  it('the client certificate HAProxy forwards (the leaf, base64 DER) is validated and attached', async () => {
    const r = await viaHaproxy('/me', { cert: admin });
    expect({ status: r.status, json: r.json }).toEqual({ status: 200, json: { action: 'allow', subject: 'CN=admin', fingerprint: admin.fingerprint256 } });
    expect(seen.at(-1)).toBe(b64(admin)); // ssl_c_der: the leaf alone
  });

  it('no certificate through HAProxy: CLIENT_CERT_MISSING, and no header reaches the app', async () => {
    const r = await viaHaproxy('/me');
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('CLIENT_CERT_MISSING');
    expect(seen.at(-1)).toBeUndefined(); // `if { ssl_c_used }`: not even an empty header
  });

  it('HAProxy does not check the certificate (ca-ignore-err / crt-ignore-err all); certgate does: another CA, expired, wrong EKU denied with the reason', async () => {
    const otherCa = await viaHaproxy('/me', { cert: stranger });
    expect(otherCa.status).toBe(403);
    expect(otherCa.json.error).toMatchObject({ code: 'CLIENT_CERT_UNTRUSTED', reason: 'UNKNOWN_ISSUER' });
    // Unlike nginx's optional_no_ca (its own 400 page), crt-ignore-err all lets an expired leaf through too.
    const old = await viaHaproxy('/me', { cert: expired });
    expect(old.status).toBe(403);
    expect(old.json.error).toMatchObject({ code: 'CLIENT_CERT_UNTRUSTED', reason: 'EXPIRED' });
    const eku = await viaHaproxy('/me', { cert: wrongEku });
    expect(eku.status).toBe(403);
    expect(eku.json.error).toMatchObject({ code: 'CLIENT_CERT_UNTRUSTED', reason: 'EKU_MISMATCH' });
  });

  it('a header the client sets itself is deleted or overwritten by HAProxy: the app decides on the real certificate', async () => {
    const smuggled = { 'x-ssl-client-der': b64(admin) };
    const none = await viaHaproxy('/me', { headers: smuggled });
    expect(none.status).toBe(403);
    expect(none.json.error.code).toBe('CLIENT_CERT_MISSING');
    expect(seen.at(-1)).toBeUndefined();

    const withStranger = await viaHaproxy('/me', { cert: stranger, headers: smuggled });
    expect(withStranger.status).toBe(403);
    expect(withStranger.json.error).toMatchObject({ code: 'CLIENT_CERT_UNTRUSTED', reason: 'UNKNOWN_ISSUER' });
    expect(seen.at(-1)).toBe(b64(stranger));

    const withOther = await viaHaproxy('/me', { cert: other, headers: smuggled });
    expect({ status: withOther.status, json: withOther.json }).toEqual({ status: 200, json: { action: 'allow', subject: 'CN=someone else', fingerprint: other.fingerprint256 } });
    expect(seen.at(-1)).toBe(b64(other));
  });

  it('without the ignore-err options (`verify optional` alone) HAProxy itself refuses what it cannot verify, in the handshake', async () => {
    const before = seen.length;
    // The server reports the failure with a TLS alert after the client's Finished (TLS 1.3), i.e. while
    // the client's request may already be on its way: the client reads the alert, or, if HAProxy closed
    // with that request unread, a reset.
    // The alert's name, or a reset; OpenSSL's prefix differs by version (SSLV3_ / TLSV1_ on Node 20's, SSL/TLS_ on Node 22's).
    const alertOrClosed = (name: string) => new RegExp(`^(ECONNRESET|EPIPE|ERR_SSL_(SSLV3|TLSV1|SSL/TLS)_ALERT_${name})$`);
    expect(await refused({ cert: stranger, port: strictPort })).toMatch(alertOrClosed('UNKNOWN_CA'));
    expect(await refused({ cert: expired, port: strictPort })).toMatch(alertOrClosed('CERTIFICATE_EXPIRED'));
    expect(await refused({ cert: wrongEku, port: strictPort })).toMatch(alertOrClosed('UNSUPPORTED_CERTIFICATE'));
    expect(seen.length).toBe(before); // none of them reached the app
    // A good certificate and none at all go through as on the main listener.
    expect((await viaHaproxy('/me', { cert: admin, port: strictPort })).json.subject).toBe('CN=admin');
    expect((await viaHaproxy('/me', { port: strictPort })).json.error.code).toBe('CLIENT_CERT_MISSING');
  });

  it('straight to the app from an address that is not the proxy, with a forged header: ignored and counted', async () => {
    const before = forwarded.ignored;
    const r = await direct6('/me', { 'x-ssl-client-der': b64(admin) });
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('CLIENT_CERT_MISSING');
    expect(forwarded.ignored).toBe(before + 1);
  });
});
