/**
 * A real nginx in front (Debian's nginx, started by this test on 127.0.0.1): nginx terminates TLS,
 * asks for a client certificate without checking it (`ssl_verify_client optional_no_ca`) and forwards
 * it with `proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert`; Express 5 behind it decides
 * with `mtls(controller, { forwarded })`, trusting 127.0.0.1 only. The stranger that connects straight
 * to the app does so over ::1, with a forged header.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCertificate } from '@certgate/core/testing';
import { freePort, startProxiedApp, waitForPort, type ProxiedApp } from './behind-proxy.js';

const NGINX = process.env.CERTGATE_NGINX ?? '/usr/sbin/nginx';

let p: ProxiedApp;
let nginx: ChildProcess;
let nginxPort: number;
let admin: TestCertificate;
let stranger: TestCertificate;
let expired: TestCertificate;
let wrongEku: TestCertificate;

const viaNginx = (path: string, o: { cert?: TestCertificate; headers?: Record<string, string> } = {}) => p.via(nginxPort, path, o);
const direct6 = (path: string, headers: Record<string, string>) => p.direct6(path, headers);

beforeAll(async () => {
  p = await startProxiedApp('nginx', 'nginx');
  ({ admin, stranger, expired, wrongEku } = p);
  const { dir, server, serverCa, appPort } = p;

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
  await waitForPort(nginxPort, 'nginx', () => readFileSync(join(dir, 'error.log'), 'utf8'));
}, 30_000);

afterAll(async () => {
  nginx?.kill('SIGTERM');
  if (nginx && nginx.exitCode === null) await once(nginx, 'exit');
  await p?.close();
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
    const before = p.forwarded.ignored;
    const r = await direct6('/me', { 'x-ssl-client-cert': encodeURIComponent(admin.pem) });
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('CLIENT_CERT_MISSING');
    expect(p.forwarded.ignored).toBe(before + 1);
  });
});
