/**
 * @certgate/koa over real HTTPS on 127.0.0.1: the gate attaches `ctx.state.clientCertificate`, denies
 * with JSON or HTML (escaped), supports `onDenied` and per-mount `rules`; the settings router answers
 * §5.2 routes (also behind a body parser that consumed the stream) and leaves other paths alone;
 * plain HTTP counts as "no certificate".
 */
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowCommonNames, createController, createMemorySettingsStore, type Controller } from '@certgate/core';
import { createCa, type TestCa, type TestCertificate } from '@certgate/core/testing';
import { attachController } from '@certgate/tls';
import { mtls, settingsRouter } from '@certgate/koa';

const APP = 'Shop <script>alert(1)</script>';
let serverCa: TestCa;
let serverCert: TestCertificate;
let ca: TestCa;
let alice: TestCertificate;
let bob: TestCertificate;
let controller: Controller;
const servers: (http.Server | https.Server)[] = [];
let port: number;
let plainPort: number;

interface Res {
  status: number;
  type: string;
  text: string;
  json: any;
}

function call(method: string, path: string, o: { cert?: TestCertificate; accept?: string; tls?: boolean; auth?: string; body?: string; port?: number } = {}) {
  return new Promise<Res>((resolve, reject) => {
    const headers: Record<string, string> = { accept: o.accept ?? 'application/json' };
    if (o.auth) headers.authorization = `Basic ${Buffer.from(`admin:${o.auth}`).toString('base64')}`;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const done = (res: http.IncomingMessage) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode!, type: String(res.headers['content-type']), text, json });
      });
    };
    const req =
      o.tls === false
        ? http.request({ host: '127.0.0.1', port: plainPort, method, path, headers, agent: false }, done)
        : https.request({ host: '127.0.0.1', port: o.port ?? port, method, path, headers, agent: false, ca: serverCa.pem, servername: 'localhost', ...(o.cert ? { cert: o.cert.pem, key: o.cert.keyPem } : {}) }, done);
    req.on('error', reject);
    req.end(o.body);
  });
}

async function listen(app: Koa, secure = true): Promise<number> {
  const srv = secure ? https.createServer({ key: serverCert.keyPem, cert: serverCert.pem }, app.callback()) : http.createServer(app.callback());
  if (secure) attachController(srv as https.Server, controller);
  servers.push(srv);
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return (srv.address() as AddressInfo).port;
}

beforeAll(async () => {
  serverCa = await createCa();
  serverCert = await serverCa.issueServer();
  ca = await createCa({ subject: 'CN=Koa CA' });
  alice = await ca.issue({ subject: 'CN=alice' });
  bob = await ca.issue({ subject: 'CN=bob' });
  controller = await createController({ store: createMemorySettingsStore(), appName: APP });
  const app = new Koa();
  const custom = mtls(controller, { onDenied: (d, ctx) => { ctx.status = 451; ctx.body = { custom: d.denial?.code }; } });
  const aliceOnly = mtls(controller, { rules: allowCommonNames('alice') });
  app.use(async (ctx, next) => (ctx.path.startsWith('/custom') ? custom(ctx as never, next) : next()));
  app.use(async (ctx, next) => (ctx.path === '/alice-only' ? aliceOnly(ctx as never, next) : next()));
  app.use(mtls(controller));
  app.use(settingsRouter(controller, { authenticate: (_u, p) => p === 'pw' }));
  app.use((ctx) => {
    const cc = ctx.state.clientCertificate;
    ctx.body = { action: cc?.action, subject: cc?.identity?.subject ?? null, authorized: cc?.authorization?.allowed ?? null };
  });
  port = await listen(app);
  plainPort = await listen(app, false);
  await controller.save({ enabled: true, enforce: false, caPem: ca.pem }, { actor: 'test', peerChain: null });
  const r = await controller.save({ enabled: true, enforce: true }, { actor: 'test', peerChain: [alice.der] });
  expect(r.ok && r.state.mode).toBe('enforced');
});

afterAll(async () => {
  controller?.close();
  for (const s of servers) {
    (s as https.Server).closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('mtls() middleware', () => {
  it('admits a valid certificate and attaches the decision as ctx.state.clientCertificate', async () => {
    const r = await call('GET', '/me', { cert: alice });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ action: 'allow', subject: 'CN=alice', authorized: null });
  });

  it('denies JSON clients with { error: { code, message } }', async () => {
    const r = await call('GET', '/me');
    expect(r.status).toBe(403);
    expect(r.type).toMatch(/^application\/json/);
    expect(r.json).toEqual({
      error: { code: 'CLIENT_CERT_MISSING', message: `Client certificate not found in request. Please make sure your client uses a certificate to access ${APP}.` },
    });
  });

  it('denies browsers with a readable HTML page; the app name is escaped, nothing else echoed', async () => {
    const r = await call('GET', '/me?<b>x</b>', { accept: 'text/html' });
    expect(r.status).toBe(403);
    expect(r.type).toMatch(/^text\/html/);
    expect(r.text).toContain('Shop &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(r.text).not.toContain('<script>');
    expect(r.text).not.toContain('<b>x</b>');
  });

  it('onDenied replaces the default response', async () => {
    const r = await call('GET', '/custom/x');
    expect(r.status).toBe(451);
    expect(r.json).toEqual({ custom: 'CLIENT_CERT_MISSING' });
  });

  it('per-mount rules: NOT_ALLOWED for a valid certificate the rule refuses; the same certificate passes elsewhere', async () => {
    const ok = await call('GET', '/alice-only', { cert: alice });
    expect(ok.json).toEqual({ action: 'allow', subject: 'CN=alice', authorized: true });
    const no = await call('GET', '/alice-only', { cert: bob });
    expect(no.status).toBe(403);
    expect(no.json.error.code).toBe('NOT_ALLOWED');
    const html = await call('GET', '/alice-only', { cert: bob, accept: 'text/html' });
    expect(html.text).toContain('not allowed here');
    expect((await call('GET', '/elsewhere', { cert: bob })).json).toEqual({ action: 'allow', subject: 'CN=bob', authorized: null });
  });

  it('plain HTTP (no TLS socket) is "no certificate": denied in enforced mode', async () => {
    expect((await call('GET', '/me', { tls: false })).status).toBe(403);
  });

  it('the settings router answers /api routes and leaves others to the app', async () => {
    const s = await call('GET', '/api/settings/mtls', { cert: alice, auth: 'pw' });
    expect(s.status).toBe(200);
    expect(s.json.mode).toBe('enforced');
    expect((await call('GET', '/api/settings/mtls', { cert: alice, auth: 'nope' })).status).toBe(401);
    const who = await call('GET', '/api/whoami', { cert: alice, auth: 'pw' });
    expect(who.json.clientCertificate).toMatchObject({ verdict: { ok: true }, subject: 'CN=alice', fingerprint256: alice.fingerprint256 });
    expect((await call('GET', '/me', { cert: alice })).status).toBe(200);
  });

  it('works behind a body parser that consumed the stream (uses ctx.request.body, does not hang)', async () => {
    const app = new Koa();
    app.use(async (ctx, next) => {
      // a minimal JSON body parser, as koa-bodyparser would set ctx.request.body
      if (ctx.is('application/json')) {
        let t = '';
        for await (const chunk of ctx.req) t += chunk;
        (ctx.request as { body?: unknown }).body = JSON.parse(t);
      }
      await next();
    });
    app.use(mtls(controller));
    app.use(settingsRouter(controller, { authenticate: (_u, p) => p === 'pw' }));
    const p = await listen(app);
    const bad = await call('PUT', '/api/settings/mtls', { port: p, cert: alice, auth: 'pw', body: JSON.stringify({ enabled: true, enforce: true, extra: 1 }) });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('INVALID_BODY');
    const ok = await call('PUT', '/api/settings/mtls', { port: p, cert: alice, auth: 'pw', body: JSON.stringify({ enabled: true, enforce: true }) });
    expect(ok.status).toBe(200);
    expect(ok.json.mode).toBe('enforced');
  });
});
