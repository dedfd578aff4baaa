/**
 * The settings router (DESIGN §5.2) through Express 4, Express 5, Koa 2, Koa 3 and a raw `https`
 * handler (core `createConsoleApi` directly), over real TLS on 127.0.0.1: the same requests must get
 * the same status and body everywhere — auth, views, body validation, a save, the lock-out guard.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createController, createMemorySettingsStore, type Controller } from '@certgate/core';
import { createCa, type TestCa, type TestCertificate } from '@certgate/core/testing';
import { allowCommonNames } from '@certgate/core';
import { ADAPTERS, startApp, type RunningApp } from './apps.js';
import { request } from './request.js';

let serverCa: TestCa;
let ca: TestCa;
let admin: TestCertificate;
let other: TestCertificate;
let controller: Controller;
const apps: RunningApp[] = [];

async function call(app: RunningApp, method: string, path: string, o: { cert?: TestCertificate; password?: string | false; body?: string } = {}): Promise<{ status: number; json: unknown }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (o.password !== false) headers.authorization = `Basic ${Buffer.from(`admin:${o.password ?? 'pw'}`).toString('base64')}`;
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  const r = await request({ tls: true, host: '127.0.0.1', port: app.port, method, path, headers, ca: serverCa.pem, servername: 'localhost', ...(o.cert ? { cert: o.cert.pem, key: o.cert.keyPem } : {}) }, o.body);
  return { status: r.status, json: r.json === undefined ? r.text : r.json }; // a body that is not JSON is compared as text
}

/**
 * The same request through every adapter; returns the first answer after checking they all equal it
 * (through `view`, for answers that carry per-request data such as a bumped version).
 */
async function same(method: string, path: string, o: Parameters<typeof call>[3] = {}, view = (r: { status: number; json: any }): unknown => r) {
  const got: Record<string, unknown> = {};
  for (const app of apps) got[app.name] = view(await call(app, method, path, o));
  const first = got[apps[0]!.name];
  expect(got).toEqual(Object.fromEntries(ADAPTERS.map((a) => [a, first])));
  return first as { status: number; json: any };
}

async function sameRaw(method: string, path: string, o: Parameters<typeof call>[3]) {
  const answers = [];
  for (const app of apps) answers.push(await call(app, method, path, o));
  return answers;
}

beforeAll(async () => {
  serverCa = await createCa();
  const server = await serverCa.issueServer();
  ca = await createCa({ subject: 'CN=Settings Parity CA' });
  admin = await ca.issue({ subject: 'CN=alice' });
  other = await (await createCa()).issue({ subject: 'CN=intruder' });
  controller = await createController({ store: createMemorySettingsStore(), appName: 'Parity' });
  for (const name of ADAPTERS) apps.push(await startApp(name, controller, allowCommonNames('alice'), { key: server.keyPem, cert: server.pem }, { authenticate: (_u, p) => p === 'pw' }));
  expect((await controller.save({ enabled: true, enforce: false, caPem: ca.pem }, { actor: 't', peerChain: null })).ok).toBe(true);
});

afterAll(async () => {
  for (const a of apps) await a.close();
  controller?.close();
});

describe('settings API: identical answers through every adapter', () => {
  it('401 without or with a wrong password; 404 / 405 after auth', async () => {
    expect((await same('GET', '/api/settings/mtls', { password: false })).status).toBe(401);
    expect((await same('GET', '/api/settings/mtls', { password: 'nope' })).status).toBe(401);
    expect((await same('GET', '/api/nope')).status).toBe(404);
    expect((await same('DELETE', '/api/settings/mtls')).status).toBe(405);
  });

  it('GET views: settings, whoami (with and without a certificate), login', async () => {
    const s = await same('GET', '/api/settings/mtls');
    expect(s.status).toBe(200);
    expect(s.json).toMatchObject({ mode: 'optional', version: 1 });
    const w = await same('GET', '/api/whoami', { cert: admin });
    expect(w.json).toMatchObject({ user: 'admin', clientCertificate: { verdict: { ok: true }, fingerprint256: admin.fingerprint256 } });
    expect((await same('GET', '/api/whoami')).json).toEqual({ user: 'admin', clientCertificate: null });
    expect((await same('GET', '/api/settings/login')).json).toMatchObject({ method: 'password' });
  });

  it('bad bodies: 400 INVALID_JSON / INVALID_BODY / CA_INVALID; nothing changes', async () => {
    expect((await same('PUT', '/api/settings/mtls', { body: '{"enabled": tru' })).json).toMatchObject({ error: { code: 'INVALID_JSON' } });
    expect((await same('PUT', '/api/settings/mtls', { body: '{"enabled":true,"enforce":false,"x":1}' })).json).toMatchObject({ error: { code: 'INVALID_BODY' } });
    expect((await same('PUT', '/api/settings/mtls', { body: JSON.stringify({ enabled: true, enforce: false, caPem: admin.pem }) })).json).toMatchObject({ error: { code: 'CA_INVALID' } });
    expect((await same('GET', '/api/settings/mtls')).json).toMatchObject({ version: 1 });
  });

  it('hostile PUT bodies: the same status and error shape through every adapter; nothing changes', async () => {
    const save = (extra: Record<string, unknown>): string => JSON.stringify({ enabled: true, enforce: false, ...extra });
    const cases: [string, string, number, string][] = [
      ['empty', '', 400, 'INVALID_JSON'],
      ['truncated', '{"enabled":true,', 400, 'INVALID_JSON'],
      ['null', 'null', 400, 'INVALID_BODY'],
      ['an array', '[true,false]', 400, 'INVALID_BODY'],
      ['a string', '"enabled"', 400, 'INVALID_BODY'],
      ['a number', '1', 400, 'INVALID_BODY'],
      ['{}', '{}', 400, 'INVALID_BODY'],
      ['__proto__', '{"enabled":true,"enforce":false,"__proto__":{"enforce":true}}', 400, 'INVALID_BODY'],
      ['constructor', save({ constructor: {} }), 400, 'INVALID_BODY'],
      ['enabled "true"', JSON.stringify({ enabled: 'true', enforce: false }), 400, 'INVALID_BODY'],
      ['enforce 1', JSON.stringify({ enabled: true, enforce: 1 }), 400, 'INVALID_BODY'],
      ['version "1"', save({ version: '1' }), 400, 'INVALID_BODY'],
      ['version 1.5', save({ version: 1.5 }), 400, 'INVALID_BODY'],
      ['version -1', save({ version: -1 }), 400, 'INVALID_BODY'],
      ['version 1e400', '{"enabled":true,"enforce":false,"version":1e400}', 400, 'INVALID_BODY'],
      ['version 2^53', save({ version: 2 ** 53 }), 400, 'INVALID_BODY'],
      ['version null', save({ version: null }), 400, 'INVALID_BODY'],
      ['caPem null', save({ caPem: null }), 400, 'INVALID_BODY'],
      ['caPem a number', save({ caPem: 1 }), 400, 'INVALID_BODY'],
      ['confirmWithinSec without enforce', save({ confirmWithinSec: 60 }), 400, 'INVALID_BODY'],
      ['caPem empty', save({ caPem: '' }), 400, 'CA_INVALID'],
      ['caPem a private key', save({ caPem: admin.keyPem }), 400, 'CA_INVALID'],
      ['caPem a leaf', save({ caPem: admin.pem }), 400, 'CA_INVALID'],
      ['caPem BEGIN lines without END lines', save({ caPem: '-----BEGIN CERTIFICATE-----\n'.repeat(30_000) }), 400, 'CA_INVALID'],
      ['a stale version', save({ version: 999 }), 409, 'VERSION_CONFLICT'],
    ];
    for (const [what, body, status, code] of cases) {
      const r = await same('PUT', '/api/settings/mtls', { body });
      expect([what, r.status, r.json?.error?.code]).toEqual([what, status, code]);
      expect(Object.keys(r.json), what).toEqual(['error']);
      expect(typeof r.json.error.message, what).toBe('string');
      expect(Object.keys(r.json.error).filter((k) => !['code', 'message', 'problems'].includes(k)), what).toEqual([]);
    }
    expect((await same('GET', '/api/settings/mtls')).json).toMatchObject({ mode: 'optional', version: 1 });
  });

  it('the lock-out guard: enforce with another CA\'s certificate → 422 (same body); then the admin enforces through one adapter and every adapter sees it', async () => {
    // a 422 from optional still applies the rest of the save (a version bump per request): compare status, error and mode
    const r = await same('PUT', '/api/settings/mtls', { cert: other, body: JSON.stringify({ enabled: true, enforce: true }) }, (x) => ({ status: x.status, error: x.json.error, mode: x.json.settings?.mode }));
    expect(r).toEqual({ status: 422, error: { code: 'CLIENT_CERT_UNTRUSTED', message: 'Current client certificate can not be validated by the uploaded CA.', reason: 'UNKNOWN_ISSUER' }, mode: 'optional' });
    const missing = await sameRaw('PUT', '/api/settings/mtls', { body: JSON.stringify({ enabled: true, enforce: true }) });
    expect(new Set(missing.map((m) => JSON.stringify([m.status, (m.json as any).error])))).toEqual(new Set([JSON.stringify([422, { code: 'CLIENT_CERT_MISSING', message: 'Client certificate not found in request. Please make sure your client uses a certificate to access Parity.' }])]));
    // the 422 applied the rest of the save (optional, version bumped) once per adapter: read the current version
    const v = ((await same('GET', '/api/settings/mtls')).json as { version: number }).version;
    const ok = await call(apps[0]!, 'PUT', '/api/settings/mtls', { cert: admin, body: JSON.stringify({ enabled: true, enforce: true, version: v }) });
    expect(ok.status).toBe(200);
    expect((await same('GET', '/api/settings/mtls', { cert: admin })).json).toMatchObject({ mode: 'enforced', version: v + 1 });
    expect((await same('GET', '/api/settings/mtls', { password: false })).json).toMatchObject({ error: { code: 'CLIENT_CERT_MISSING' } });
    expect((await same('GET', '/api/settings/mtls', { cert: other })).json).toMatchObject({ error: { code: 'CLIENT_CERT_UNTRUSTED', reason: 'UNKNOWN_ISSUER' } });
  });
});
