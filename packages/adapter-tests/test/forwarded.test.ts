/**
 * Behind a TLS-terminating proxy: the gate and the settings API of Express 4/5 and Koa 2/3 decide the
 * certificate a trusted proxy forwards (core `createForwardedCertificates`, nginx's
 * `$ssl_client_escaped_cert` format), and ignore the same header from anyone else. Real HTTP servers:
 * the "proxy" is whoever connects over 127.0.0.1 (trusted), the stranger connects over ::1 (not).
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express4 from 'express4';
import express5 from 'express5';
import koa2 from 'koa2';
import koa3 from 'koa3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createController, createForwardedCertificates, createMemorySettingsStore, type Controller, type ForwardedCertificates } from '@certgate/core';
import { createCa, type TestCa, type TestCertificate } from '@certgate/core/testing';
import { mtls as expressMtls, settingsRouter as expressSettings } from '@certgate/express';
import { mtls as koaMtls, settingsRouter as koaSettings } from '@certgate/koa';
import { request } from './request.js';

type Framework = 'express4' | 'express5' | 'koa2' | 'koa3';
const FRAMEWORKS: Framework[] = ['express4', 'express5', 'koa2', 'koa3'];
const HEADER = 'x-ssl-client-cert';

let ca: TestCa;
let otherCa: TestCa;
let admin: TestCertificate;
let stranger: TestCertificate;
let controller: Controller;
const servers: http.Server[] = [];

const escaped = (c: TestCertificate) => encodeURIComponent(c.pem);

function app(fw: Framework, forwarded: ForwardedCertificates): http.RequestListener {
  const settings = { authenticate: (_u: string, p: string) => p === 'pw', forwarded };
  if (fw === 'express4' || fw === 'express5') {
    const a = (fw === 'express4' ? express4 : express5)();
    a.use(expressMtls(controller, { forwarded }), expressSettings(controller, settings));
    a.get('/me', (req, res) => void res.json({ action: req.clientCertificate?.action, fingerprint: req.clientCertificate?.identity?.fingerprint256 ?? null }));
    return a as unknown as http.RequestListener;
  }
  const k = new (fw === 'koa2' ? koa2 : koa3)();
  k.use(koaMtls(controller, { forwarded }) as never);
  k.use(koaSettings(controller, settings) as never);
  k.use(async (ctx) => {
    if (ctx.path !== '/me') return;
    ctx.body = { action: ctx.state.clientCertificate?.action, fingerprint: ctx.state.clientCertificate?.identity?.fingerprint256 ?? null };
  });
  return k.callback() as unknown as http.RequestListener;
}

async function listen(handler: http.RequestListener, host: string): Promise<number> {
  const s = http.createServer(handler);
  s.listen(0, host);
  await once(s, 'listening');
  servers.push(s);
  return (s.address() as AddressInfo).port;
}

function call(host: string, port: number, path: string, o: { header?: string; method?: string; body?: string } = {}) {
  const headers: Record<string, string> = { accept: 'application/json', authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` };
  if (o.header !== undefined) headers[HEADER] = o.header;
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  return request({ host, port, path, method: o.method ?? 'GET', headers }, o.body);
}

beforeAll(async () => {
  ca = await createCa({ subject: 'CN=Proxy Client CA' });
  otherCa = await createCa({ subject: 'CN=Elsewhere' });
  admin = await ca.issue({ subject: 'CN=admin' });
  stranger = await otherCa.issue({ subject: 'CN=admin' });
  controller = await createController({ store: createMemorySettingsStore(), appName: 'Proxied' });
});

afterAll(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
  controller?.close();
});

for (const fw of FRAMEWORKS) {
  describe(`${fw} behind a proxy`, () => {
    let forwarded: ForwardedCertificates;
    let viaProxy: number;
    let direct: number;
    beforeAll(async () => {
      forwarded = createForwardedCertificates({ trustedProxies: ['127.0.0.1'], format: 'nginx' });
      const handler = app(fw, forwarded);
      viaProxy = await listen(handler, '127.0.0.1');
      direct = await listen(handler, '::1');
      // optional, then enforce from "behind the proxy": the lock-out check uses the forwarded certificate
      const opt = await call('127.0.0.1', viaProxy, '/api/settings/mtls', { method: 'PUT', body: JSON.stringify({ enabled: true, enforce: false, caPem: ca.pem }) });
      expect(opt.status).toBe(200);
      const refused = await call('127.0.0.1', viaProxy, '/api/settings/mtls', { method: 'PUT', body: JSON.stringify({ enabled: true, enforce: true }) });
      expect(refused.status).toBe(422);
      expect(refused.json.error.code).toBe('CLIENT_CERT_MISSING');
      const enforced = await call('127.0.0.1', viaProxy, '/api/settings/mtls', { method: 'PUT', header: escaped(admin), body: JSON.stringify({ enabled: true, enforce: true }) });
      expect(enforced.status, JSON.stringify(enforced.json)).toBe(200);
      expect(enforced.json.mode).toBe('enforced');
    });
    afterAll(async () => {
      await controller.save({ enabled: false, enforce: false }, { actor: 'test', peerChain: null });
    });

    it('the forwarded certificate is decided and attached; whoami shows it', async () => {
      const r = await call('127.0.0.1', viaProxy, '/me', { header: escaped(admin) });
      expect({ status: r.status, json: r.json }).toEqual({ status: 200, json: { action: 'allow', fingerprint: admin.fingerprint256 } });
      const who = await call('127.0.0.1', viaProxy, '/api/whoami', { header: escaped(admin) });
      expect(who.json.clientCertificate).toMatchObject({ verdict: { ok: true }, fingerprint256: admin.fingerprint256 });
    });

    it('from the proxy: none forwarded, another CA, a garbled header — each denied with its reason', async () => {
      expect((await call('127.0.0.1', viaProxy, '/me')).json.error.code).toBe('CLIENT_CERT_MISSING');
      const other = await call('127.0.0.1', viaProxy, '/me', { header: escaped(stranger) });
      expect(other.status).toBe(403);
      expect(other.json.error).toMatchObject({ code: 'CLIENT_CERT_UNTRUSTED', reason: 'UNKNOWN_ISSUER' });
      const garbled = await call('127.0.0.1', viaProxy, '/me', { header: 'not-a-certificate' });
      expect(garbled.json.error).toMatchObject({ code: 'CLIENT_CERT_UNTRUSTED', reason: 'MALFORMED' });
      expect(forwarded.malformed).toBe(1);
    });

    it('from anyone else the header is ignored (and counted): the request is decided on its own connection', async () => {
      const before = forwarded.ignored;
      const r = await call('::1', direct, '/me', { header: escaped(admin) });
      expect(r.status).toBe(403);
      expect(r.json.error.code).toBe('CLIENT_CERT_MISSING');
      expect(forwarded.ignored).toBe(before + 1);
    });
  });
}
