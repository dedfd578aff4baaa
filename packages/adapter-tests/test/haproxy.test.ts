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
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCa, TestCertificate } from '@certgate/core/testing';
import { freePort, startProxiedApp, waitForPort, type ProxiedApp } from './behind-proxy.js';

const HAPROXY = process.env.CERTGATE_HAPROXY ?? '/usr/sbin/haproxy';

let p: ProxiedApp;
let haproxy: ChildProcess;
let haproxyOutput = '';
let haproxyPort: number;
let strictPort: number;
let ca: TestCa;
let admin: TestCertificate;
let other: TestCertificate;
let stranger: TestCertificate;
let expired: TestCertificate;
let wrongEku: TestCertificate;
/** What the app received in the forwarded header, per request (undefined: no header). */
const seen: (string | undefined)[] = [];

const viaHaproxy = (path: string, o: { cert?: TestCertificate; headers?: Record<string, string>; port?: number } = {}) => p.via(o.port ?? haproxyPort, path, o);
const direct6 = (path: string, headers: Record<string, string>) => p.direct6(path, headers);

const b64 = (c: TestCertificate) => Buffer.from(c.der).toString('base64');

const waitForHaproxy = (port: number) => waitForPort(port, 'haproxy', () => haproxyOutput, () => haproxy.exitCode !== null);

beforeAll(async () => {
  p = await startProxiedApp('haproxy', 'haproxy', (req, _res, next) => {
    const h = req.headers['x-ssl-client-der'];
    seen.push(Array.isArray(h) ? h.join(',') : h);
    next();
  });
  ({ ca, admin, stranger, expired, wrongEku } = p);
  other = await ca.issue({ subject: 'CN=someone else' });
  const { dir, server, serverCa, appPort } = p;

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
  await waitForHaproxy(haproxyPort);
  await waitForHaproxy(strictPort);
}, 30_000);

afterAll(async () => {
  if (haproxy && haproxy.exitCode === null && haproxy.signalCode === null) {
    haproxy.kill('SIGTERM');
    await once(haproxy, 'exit');
  }
  await p?.close();
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
    const before = p.forwarded.ignored;
    const r = await direct6('/me', { 'x-ssl-client-der': b64(admin) });
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('CLIENT_CERT_MISSING');
    expect(p.forwarded.ignored).toBe(before + 1);
  });
});
