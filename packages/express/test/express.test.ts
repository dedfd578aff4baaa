/**
 * @certgate/express over real HTTPS on 127.0.0.1: the gate attaches `req.clientCertificate`, denies
 * with JSON or HTML (escaped, no stack), supports `onDenied`; the settings router works when mounted
 * without the gate and leaves other paths alone; plain HTTP counts as "no certificate".
 */
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { allowCommonNames, allowIssuers, createController, createMemorySettingsStore, type Controller, type Decision } from '@certgate/core';
import { createCa, type TestCa, type TestCertificate } from '@certgate/core/testing';
import { attachController } from '@certgate/tls';
import { mtls, settingsRouter, type ClientCertificate } from '@certgate/express';

const APP = 'Shop <script>alert(1)</script>';
let serverCa: TestCa;
let serverCert: TestCertificate;
let ca: TestCa;
let alice: TestCertificate;
let bob: TestCertificate;
let controller: Controller;
let server: https.Server;
let plain: http.Server;
let port: number;
let plainPort: number;

function get(path: string, o: { cert?: TestCertificate; accept?: string; tls?: boolean; auth?: string } = {}) {
  return new Promise<{ status: number; type: string; text: string }>((resolve, reject) => {
    const headers: Record<string, string> = { accept: o.accept ?? 'application/json' };
    if (o.auth) headers.authorization = `Basic ${Buffer.from(`admin:${o.auth}`).toString('base64')}`;
    const done = (res: http.IncomingMessage) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), text }));
    };
    const req = o.tls === false
      ? http.request({ host: '127.0.0.1', port: plainPort, path, headers, agent: false }, done)
      : https.request({ host: '127.0.0.1', port, path, headers, agent: false, ca: serverCa.pem, servername: 'localhost', ...(o.cert ? { cert: o.cert.pem, key: o.cert.keyPem } : {}) }, done);
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  serverCa = await createCa();
  serverCert = await serverCa.issueServer();
  ca = await createCa({ subject: 'CN=Express CA' });
  alice = await ca.issue({ subject: 'CN=alice' });
  bob = await ca.issue({ subject: 'CN=bob' });
  controller = await createController({ store: createMemorySettingsStore(), appName: APP });
  const app = express();
  app.use('/custom', mtls(controller, { onDenied: (d, _req, res) => void res.status(451).json({ custom: d.denial?.code }) }));
  app.use(mtls(controller));
  app.use(settingsRouter(controller, { authenticate: (_u, p) => p === 'pw' }));
  app.get('/me', (req, res) => {
    const cc = req.clientCertificate;
    res.json({ action: cc?.action, subject: cc?.identity?.subject ?? null });
  });
  app.get('/custom/x', (_req, res) => void res.json({ ok: true }));
  const echo = (req: express.Request, res: express.Response) =>
    void res.json({ subject: req.clientCertificate?.identity?.subject ?? null, authorized: req.clientCertificate?.authorization?.allowed ?? null });
  app.get('/alice-only', mtls(controller, { rules: allowCommonNames('alice') }), echo);
  app.get('/alice-from-other-ca', mtls(controller, { rules: allowCommonNames('alice') }), mtls(controller, { rules: allowIssuers('CN=Other CA') }), echo);
  server = https.createServer({ key: serverCert.keyPem, cert: serverCert.pem }, app);
  attachController(server, controller);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
  plain = http.createServer(app);
  plain.listen(0, '127.0.0.1');
  await once(plain, 'listening');
  plainPort = (plain.address() as AddressInfo).port;
  // enforce with alice (enable first: a connection made while disabled is not asked for a certificate)
  await controller.save({ enabled: true, enforce: false, caPem: ca.pem }, { actor: 'test', peerChain: null });
  const r = await controller.save({ enabled: true, enforce: true }, { actor: 'test', peerChain: [alice.der] });
  expect(r.ok && r.state.mode).toBe('enforced');
});

afterAll(async () => {
  controller?.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await new Promise((r) => plain?.close(r));
});

describe('mtls() middleware', () => {
  it('admits a valid certificate and attaches the decision as req.clientCertificate', async () => {
    const r = await get('/me', { cert: alice });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ action: 'allow', subject: 'CN=alice' });
  });

  it('denies JSON clients with { error: { code, message } }', async () => {
    const r = await get('/me');
    expect(r.status).toBe(403);
    expect(JSON.parse(r.text)).toEqual({
      error: { code: 'CLIENT_CERT_MISSING', message: `Client certificate not found in request. Please make sure your client uses a certificate to access ${APP}.` },
    });
  });

  it('denies browsers with a readable HTML page; the app name is escaped, nothing else echoed', async () => {
    const r = await get('/me?<b>x</b>', { accept: 'text/html' });
    expect(r.status).toBe(403);
    expect(r.type).toMatch(/^text\/html/);
    expect(r.text).toContain('Shop &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(r.text).not.toContain('<script>');
    expect(r.text).not.toContain('<b>x</b>');
  });

  it('onDenied replaces the default response', async () => {
    const r = await get('/custom/x');
    expect(r.status).toBe(451);
    expect(JSON.parse(r.text)).toEqual({ custom: 'CLIENT_CERT_MISSING' });
  });

  it('per-route rules: NOT_ALLOWED for a valid certificate the rule refuses; mounts compose; other routes unaffected', async () => {
    const ok = await get('/alice-only', { cert: alice });
    expect(JSON.parse(ok.text)).toEqual({ subject: 'CN=alice', authorized: true });
    const no = await get('/alice-only', { cert: bob });
    expect(no.status).toBe(403);
    expect(JSON.parse(no.text).error.code).toBe('NOT_ALLOWED');
    const html = await get('/alice-only', { cert: bob, accept: 'text/html' });
    expect(html.status).toBe(403);
    expect(html.text).toContain('not allowed here');
    // the second mount's rule fails for alice too: both must pass
    expect(JSON.parse((await get('/alice-from-other-ca', { cert: alice })).text).error.code).toBe('NOT_ALLOWED');
    expect((await get('/me', { cert: bob })).status).toBe(200);
  });

  it('plain HTTP (no TLS socket) is "no certificate": denied in enforced mode', async () => {
    const r = await get('/me', { tls: false });
    expect(r.status).toBe(403);
  });

  it('the settings router answers /api routes and leaves others to the app', async () => {
    const s = await get('/api/settings/mtls', { cert: alice, auth: 'pw' });
    expect(s.status).toBe(200);
    expect(JSON.parse(s.text).mode).toBe('enforced');
    expect((await get('/api/settings/mtls', { cert: alice, auth: 'nope' })).status).toBe(401);
    expect((await get('/me', { cert: alice })).status).toBe(200);
  });

  it('works behind express.json() too (the body is not read twice, the request does not hang)', async () => {
    const app = express();
    app.use(express.json());
    app.use(mtls(controller));
    app.use(settingsRouter(controller, { authenticate: (_u, p) => p === 'pw' }));
    const srv = https.createServer({ key: serverCert.keyPem, cert: serverCert.pem }, app);
    attachController(srv, controller);
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const p = (srv.address() as AddressInfo).port;
    const put = (body: string) =>
      new Promise<{ status: number; json: any }>((resolve, reject) => {
        const req = https.request(
          { host: '127.0.0.1', port: p, method: 'PUT', path: '/api/settings/mtls', agent: false, ca: serverCa.pem, servername: 'localhost', cert: alice.pem, key: alice.keyPem,
            headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` } },
          (res) => {
            let t = '';
            res.on('data', (d) => (t += d));
            res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(t) }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const bad = await put(JSON.stringify({ enabled: true, enforce: true, extra: 1 }));
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('INVALID_BODY');
    const ok = await put(JSON.stringify({ enabled: true, enforce: true }));
    expect(ok.status).toBe(200);
    expect(ok.json.mode).toBe('enforced');
    srv.closeAllConnections();
    await new Promise((r) => srv.close(r));
  });

  it('types: req.clientCertificate is the core Decision', () => {
    expectTypeOf<ClientCertificate>().toEqualTypeOf<Decision>();
    expectTypeOf<express.Request['clientCertificate']>().toEqualTypeOf<Decision | undefined>();
  });
});
