/**
 * A real nginx in front (Debian's nginx, started by this test on 127.0.0.1): nginx terminates TLS,
 * asks for a client certificate without checking it (`ssl_verify_client optional_no_ca`) and forwards
 * it with `proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert`; Express 5 behind it decides
 * with `mtls(controller, { forwarded })`, trusting 127.0.0.1 only. The stranger that connects straight
 * to the app does so over ::1, with a forged header.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

const NGINX = process.env.CERTGATE_NGINX ?? '/usr/sbin/nginx';

let dir: string;
let nginx: ChildProcess;
let nginxPort: number;
let appPort: number;
let appPort6: number;
const servers: http.Server[] = [];
let serverCa: TestCa;
let ca: TestCa;
let admin: TestCertificate;
let stranger: TestCertificate;
let expired: TestCertificate;
let wrongEku: TestCertificate;
let controller: Controller;
let forwarded: ForwardedCertificates;

async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

const viaNginx = (path: string, o: { cert?: TestCertificate; headers?: Record<string, string> } = {}) =>
  request({ tls: true, host: '127.0.0.1', port: nginxPort, path, ca: serverCa.pem, servername: 'localhost', headers: { accept: 'application/json', ...o.headers }, ...(o.cert ? { cert: o.cert.pem, key: o.cert.keyPem } : {}) });

const direct6 = (path: string, headers: Record<string, string>) => request({ host: '::1', port: appPort6, path, headers: { accept: 'application/json', ...headers } });

async function waitForNginx(): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await new Promise<void>((resolve, reject) => {
        const s = net.connect(nginxPort, '127.0.0.1', () => {
          s.destroy();
          resolve();
        });
        s.on('error', reject);
      });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`nginx did not start: ${String(err)}\n${readFileSync(join(dir, 'error.log'), 'utf8')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'certgate-nginx-'));
  serverCa = await createCa({ subject: 'CN=nginx test server CA' });
  const server = await serverCa.issueServer();
  ca = await createCa({ subject: 'CN=Behind nginx CA' });
  admin = await ca.issue({ subject: 'CN=admin' });
  expired = await issueExpired(ca, { subject: 'CN=admin' });
  wrongEku = await issueWrongEku(ca, { subject: 'CN=admin' });
  stranger = await (await createCa({ subject: 'CN=Elsewhere' })).issue({ subject: 'CN=admin' });

  controller = await createController({ store: createMemorySettingsStore(), appName: 'Behind nginx' });
  await controller.save({ enabled: true, enforce: false, caPem: ca.pem }, { actor: 'test', peerChain: null });
  const r = await controller.save({ enabled: true, enforce: true }, { actor: 'test', peerChain: [admin.der] });
  expect(r.ok && !('refusal' in r && r.refusal) && r.state.mode).toBe('enforced');

  forwarded = createForwardedCertificates({ trustedProxies: ['127.0.0.1'], format: 'nginx' });
  const app = express5();
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

  nginxPort = await freePort();
  writeFileSync(join(dir, 'server.pem'), server.pem + serverCa.pem);
  writeFileSync(join(dir, 'server-key.pem'), server.keyPem);
  writeFileSync(
    join(dir, 'nginx.conf'),
    `user root;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${nginxPort} ssl;
    ssl_certificate ${dir}/server.pem;
    ssl_certificate_key ${dir}/server-key.pem;
    ssl_verify_client optional_no_ca;
    location / {
      proxy_pass http://127.0.0.1:${appPort};
      proxy_set_header Host $host;
      proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;
    }
  }
}
`,
  );
  nginx = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  nginx.stderr!.on('data', (d) => (stderr += d));
  nginx.on('exit', (code) => {
    if (code !== null && code !== 0) console.error(`nginx exited with ${code}: ${stderr}`);
  });
  await waitForNginx();
}, 30_000);

afterAll(async () => {
  nginx?.kill('SIGTERM');
  if (nginx && nginx.exitCode === null) await once(nginx, 'exit');
  for (const s of servers) await new Promise((r) => s.close(r));
  controller?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Express behind a real nginx (enforced)', () => {
  it('the client certificate nginx forwards is validated and attached', async () => {
    const r = await viaNginx('/me', { cert: admin });
    expect({ status: r.status, json: r.json }).toEqual({ status: 200, json: { action: 'allow', subject: 'CN=admin', fingerprint: admin.fingerprint256 } });
  });

  it('no certificate through nginx: CLIENT_CERT_MISSING — and a header the client sets itself does not get through', async () => {
    expect((await viaNginx('/me')).json.error.code).toBe('CLIENT_CERT_MISSING');
    const smuggled = await viaNginx('/me', { headers: { 'x-ssl-client-cert': encodeURIComponent(admin.pem) } });
    expect(smuggled.status).toBe(403);
    expect(smuggled.json.error.code).toBe('CLIENT_CERT_MISSING');
  });

  it('nginx does not check the certificate; certgate does: another CA and a wrong EKU are denied with the reason', async () => {
    const other = await viaNginx('/me', { cert: stranger });
    expect(other.status).toBe(403);
    expect(other.json.error).toMatchObject({ code: 'CLIENT_CERT_UNTRUSTED', reason: 'UNKNOWN_ISSUER' });
    const eku = await viaNginx('/me', { cert: wrongEku });
    expect(eku.json.error).toMatchObject({ code: 'CLIENT_CERT_UNTRUSTED', reason: 'EKU_MISMATCH' });
    // One thing nginx does check even with optional_no_ca: validity dates. It answers with its own 400
    // page, so the request never reaches the app (nothing is let through either way).
    const old = await viaNginx('/me', { cert: expired });
    expect(old.status).toBe(400);
    expect(old.text).toMatch(/SSL certificate error/); // nginx's own HTML page
  });

  it('straight to the app from an address that is not the proxy, with a forged header: ignored and counted', async () => {
    const before = forwarded.ignored;
    const r = await direct6('/me', { 'x-ssl-client-cert': encodeURIComponent(admin.pem) });
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('CLIENT_CERT_MISSING');
    expect(forwarded.ignored).toBe(before + 1);
  });
});
