/**
 * The whole seed flow over real HTTPS on 127.0.0.1, with client certificates generated here:
 * disabled → bad uploads refused → optional → failed enforces (422) → stale version (409) → enforced
 * → gate (403) → CA replacement refused → restart → CRLs (bad refused, good listed, revoked denied,
 * one revoking the admin refused) → relax → disable → smartcard → 401.
 *
 * One function, parameterised by the console's start function, so every console example (Express
 * here, Koa in examples/koa-console) runs the same flow.
 */
import 'reflect-metadata';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, issueExpired, type TestCa, type TestCertificate } from '@certgate/core/testing';
import { makeCaller } from './helpers.js';

const APP = 'Flow Console';
const PASSWORD = 'correct horse battery staple';
const MISSING = `Client certificate not found in request. Please make sure your client uses a certificate to access ${APP}.`;
const UNTRUSTED = 'Current client certificate can not be validated by the uploaded CA.';

/** What the flow needs of a console: the options it starts one with and what it reads back. */
export interface FlowConsole {
  port: number;
  devCaPem: string;
  close(): Promise<void>;
}
export type StartConsole = (options: { dataDir: string; port: number; adminPassword: string; appName: string; pollIntervalMs: number; log: (line: string) => void }) => Promise<FlowConsole>;

export function consoleFlow(title: string, startConsole: StartConsole): void {
  type Console = FlowConsole;
  let c: Console;
  let dataDir: string;
  let adminCa: TestCa;
  let otherCa: TestCa;
  let admin: TestCertificate;
  let other: TestCertificate;
  let expired: TestCertificate;
  let expiredCa: TestCa;
  let csrPem: string;
  const call = makeCaller(() => ({ port: c.port, ca: c.devCaPem }), PASSWORD);

  async function start(): Promise<Console> {
    return startConsole({ dataDir, port: 0, adminPassword: PASSWORD, appName: APP, pollIntervalMs: 50, log: () => {} });
  }
  async function settings() {
    const r = await call('GET', '/api/settings/mtls', { cert: admin });
    expect(r.status).toBe(200);
    return r.json;
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'certgate-console-'));
    adminCa = await createCa({ subject: 'CN=Console Admin CA, O=certgate' });
    otherCa = await createCa({ subject: 'CN=Some Other CA' });
    admin = await adminCa.issue({ subject: 'CN=admin, O=certgate', san: { email: ['admin@example.test'] } });
    other = await otherCa.issue({ subject: 'CN=intruder' });
    expired = await issueExpired(adminCa, { subject: 'CN=admin (expired)' } as never);
    expiredCa = await createCa({ subject: 'CN=Expired CA', notBefore: new Date(Date.UTC(2019, 0, 1)), notAfter: new Date(Date.UTC(2020, 0, 1)) });
    const crypto = webcrypto as unknown as Crypto;
    x509.cryptoProvider.set(crypto);
    const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    csrPem = (await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=csr', keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } })).toString('pem');
    c = await start();
  });

  afterAll(async () => {
    await c?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe(title, () => {
    it('first start: HTTPS with a generated server certificate; the page loads without a password', async () => {
      expect(c.devCaPem).toContain('BEGIN CERTIFICATE');
      const page = await call('GET', '/', { password: false, accept: 'text/html' });
      expect(page.status).toBe(200);
      expect(page.text).toContain('<title>certgate console</title>');
    });

    it('the page\'s paths are exact, the same on every console: another case or a trailing slash is a 404', async () => {
      expect((await call('GET', '/app.js', { password: false })).status).toBe(200);
      for (const path of ['/APP.JS', '/App.js', '/app.js/', '/style.css/', '/STYLE.CSS', '/index.html']) {
        const r = await call('GET', path, { password: false });
        expect(r.status, path).toBe(404);
        expect(r.json, path).toEqual({ error: { code: 'NOT_FOUND', message: 'Not found.' } });
      }
    });

    it('a request target that is not a URL (absolute form with a broken host) → 404 NOT_FOUND as JSON, not a framework page or a 500', async () => {
      for (const target of ['http://[::1/api/settings/mtls', 'https://a:b@[x/', 'http://[::1/']) {
        for (const password of [undefined, false as const]) {
          const r = await call('GET', target, { password });
          expect(r.status, target).toBe(404);
          expect(r.headers['content-type'], target).toBe('application/json; charset=utf-8');
          expect(r.json, target).toEqual({ error: { code: 'NOT_FOUND', message: 'Not found.' } });
        }
      }
      // An absolute-form target that parses is served as its path.
      expect((await call('GET', 'https://localhost/api/settings/mtls')).status).toBe(200);
    });

    it('API without or with a wrong password → 401 with WWW-Authenticate', async () => {
      for (const o of [{ password: false as const }, { password: 'wrong' }, { user: 'root' }]) {
        const r = await call('GET', '/api/settings/mtls', o);
        expect(r.status).toBe(401);
        expect(r.headers['www-authenticate']).toMatch(/^Basic realm="certgate"/);
        expect(r.json.error.code).toBe('UNAUTHORIZED');
      }
    });

    it('starts disabled', async () => {
      expect(await settings()).toEqual({ mode: 'disabled', version: 0, available: true, unavailableReason: null, ca: null, updatedAt: null, updatedBy: null, pendingConfirmation: null, warnings: [] });
    });

    it('bad uploads are refused with 400 and the lint problems; nothing changes', async () => {
      const cases: [string, string, string][] = [
        ['a private key', admin.keyPem, 'PRIVATE_KEY'],
        ['a CSR', csrPem, 'CSR'],
        ['garbage', 'hello, this is not a certificate', 'NOT_PEM'],
        ['an empty file', '', 'EMPTY'],
        ['an expired CA', expiredCa.pem, 'EXPIRED'],
        ['a leaf as the CA', admin.pem, 'NOT_A_CA'],
        // ~1 MiB of BEGIN lines without END lines: refused at once (the PEM scan once took seconds of CPU on it).
        ['BEGIN lines without END lines', '-----BEGIN CERTIFICATE-----\n'.repeat(35_000), 'NOT_PEM'],
      ];
      for (const [, caPem, code] of cases) {
        const r = await call('PUT', '/api/settings/mtls', { body: { enabled: true, enforce: false, caPem } });
        expect(r.status, code).toBe(400);
        expect(r.json.error.code).toBe('CA_INVALID');
        expect(r.json.error.problems.map((p: { code: string }) => p.code)).toContain(code);
        expect(r.json.error.message).not.toContain('PRIVATE KEY-----');
      }
      expect((await settings()).version).toBe(0);
    });

    it('bad bodies: invalid JSON, wrong types, unknown fields, missing fields → 400; a 50 MB body → 413', async () => {
      const bad: [string | undefined, unknown, string][] = [
        ['{"enabled": tru', undefined, 'INVALID_JSON'],
        [undefined, { enabled: 'yes', enforce: false }, 'INVALID_BODY'],
        [undefined, { enabled: true, enforce: false, caPem: 42 }, 'INVALID_BODY'],
        [undefined, { enabled: true, enforce: false, version: -1 }, 'INVALID_BODY'],
        [undefined, { enabled: true, enforce: false, admin: true }, 'INVALID_BODY'],
        [undefined, { enabled: true }, 'INVALID_BODY'],
        [undefined, [true, false], 'INVALID_BODY'],
      ];
      for (const [raw, body, code] of bad) {
        const r = await call('PUT', '/api/settings/mtls', raw !== undefined ? { raw } : { body });
        expect(r.status, JSON.stringify(body ?? raw)).toBe(400);
        expect(r.json.error.code).toBe(code);
      }
      const huge = await call('PUT', '/api/settings/mtls', { raw: Buffer.alloc(50 * 1024 * 1024, 0x20) });
      expect(huge.status).toBe(413);
      expect(huge.json.error.code).toBe('PAYLOAD_TOO_LARGE');
      expect((await settings()).version).toBe(0);
      // the server is still fine
      expect((await call('GET', '/api/whoami')).status).toBe(200);
    });

    it('enable with the admin CA → optional; the CA is listed', async () => {
      const r = await call('PUT', '/api/settings/mtls', { body: { enabled: true, enforce: false, caPem: adminCa.pem } });
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ mode: 'optional', version: 1, available: true, updatedBy: 'admin' });
      expect(r.json.ca.certificates).toEqual([
        expect.objectContaining({ subject: 'O=certgate,CN=Console Admin CA', fingerprint256: adminCa.fingerprint256, serialNumber: adminCa.serialNumber }),
      ]);
    });

    it('optional: no certificate and another CA\'s certificate are both admitted; the verdict shows in whoami', async () => {
      const none = await call('GET', '/api/whoami');
      expect(none.status).toBe(200);
      expect(none.json).toEqual({ user: 'admin', clientCertificate: null });
      const o = await call('GET', '/api/whoami', { cert: other });
      expect(o.status).toBe(200);
      expect(o.json.clientCertificate).toMatchObject({ verdict: { ok: false, code: 'UNKNOWN_ISSUER' }, subject: 'CN=intruder', fingerprint256: other.fingerprint256 });
      const a = await call('GET', '/api/whoami', { cert: admin });
      expect(a.json.clientCertificate).toMatchObject({ verdict: { ok: true }, subject: 'O=certgate,CN=admin', serialNumber: admin.serialNumber, san: { email: ['admin@example.test'] } });
      expect(a.json.clientCertificate.notAfter).toBe(admin.notAfter.toISOString());
    });

    it('enforce without a certificate → 422 CLIENT_CERT_MISSING with the exact text; stays optional', async () => {
      const r = await call('PUT', '/api/settings/mtls', { body: { enabled: true, enforce: true } });
      expect(r.status).toBe(422);
      expect(r.json.error).toEqual({ code: 'CLIENT_CERT_MISSING', message: MISSING });
      expect(r.json.settings.mode).toBe('optional');
    });

    it('enforce with another CA\'s certificate → 422 CLIENT_CERT_UNTRUSTED (+ reason)', async () => {
      const r = await call('PUT', '/api/settings/mtls', { cert: other, body: { enabled: true, enforce: true } });
      expect(r.status).toBe(422);
      expect(r.json.error).toEqual({ code: 'CLIENT_CERT_UNTRUSTED', message: UNTRUSTED, reason: 'UNKNOWN_ISSUER' });
      expect(r.json.settings.mode).toBe('optional');
    });

    it('enforce with an expired certificate → 422 CLIENT_CERT_UNTRUSTED, reason EXPIRED', async () => {
      const r = await call('PUT', '/api/settings/mtls', { cert: expired, body: { enabled: true, enforce: true } });
      expect(r.status).toBe(422);
      expect(r.json.error).toMatchObject({ code: 'CLIENT_CERT_UNTRUSTED', message: UNTRUSTED, reason: 'EXPIRED' });
    });

    let keepAlive: https.Agent;
    it('a stale version → 409 VERSION_CONFLICT, nothing changes', async () => {
      const before = await settings();
      // a keep-alive connection without a certificate, opened while optional (checked after enforce)
      keepAlive = new https.Agent({ keepAlive: true, maxSockets: 1 });
      expect((await call('GET', '/api/whoami', { agent: keepAlive })).status).toBe(200);
      const r = await call('PUT', '/api/settings/mtls', { cert: admin, body: { enabled: true, enforce: true, version: before.version - 1 } });
      expect(r.status).toBe(409);
      expect(r.json.error.code).toBe('VERSION_CONFLICT');
      expect(await settings()).toEqual(before);
    });

    it('enforce with the admin\'s certificate → enforced', async () => {
      const before = await settings();
      const r = await call('PUT', '/api/settings/mtls', { cert: admin, body: { enabled: true, enforce: true, version: before.version } });
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ mode: 'enforced', version: before.version + 1 });
    });

    it('enforced: no certificate / another CA denied with 403 (before any password check); the admin admitted', async () => {
      const none = await call('GET', '/api/settings/mtls', { password: false });
      expect(none.status).toBe(403);
      expect(none.json.error).toEqual({ code: 'CLIENT_CERT_MISSING', message: MISSING });
      const o = await call('GET', '/api/settings/mtls', { cert: other });
      expect(o.status).toBe(403);
      expect(o.json.error).toEqual({ code: 'CLIENT_CERT_UNTRUSTED', message: UNTRUSTED, reason: 'UNKNOWN_ISSUER' });
      const browser = await call('GET', '/', { accept: 'text/html,application/xhtml+xml', password: false });
      expect(browser.status).toBe(403);
      expect(browser.headers['content-type']).toMatch(/^text\/html/);
      expect(browser.text).toContain('<h1>Access denied</h1>');
      expect(browser.text).toContain(MISSING);
      expect(browser.text).not.toMatch(/at .*\.js:\d+/); // no stack trace
      expect((await call('GET', '/', { cert: admin, accept: 'text/html', password: false })).status).toBe(200);
      const a = await call('GET', '/api/settings/mtls', { cert: admin, password: false });
      expect(a.status).toBe(401); // gate passed, password still required
      expect((await call('GET', '/api/settings/mtls', { cert: admin })).json.mode).toBe('enforced');
    });

    it('a keep-alive connection opened while optional is re-decided after enforce', async () => {
      const r = await call('GET', '/api/whoami', { agent: keepAlive });
      expect(r.reusedSocket).toBe(true);
      expect(r.status).toBe(403);
      keepAlive.destroy();
    });

    it('replacing the CA with one that does not validate the admin → 422, unchanged', async () => {
      const before = await settings();
      const r = await call('PUT', '/api/settings/mtls', { cert: admin, body: { enabled: true, enforce: true, caPem: otherCa.pem } });
      expect(r.status).toBe(422);
      expect(r.json.error).toMatchObject({ code: 'CLIENT_CERT_UNTRUSTED', reason: 'UNKNOWN_ISSUER' });
      expect(r.json.settings).toEqual(before);
      expect(await settings()).toEqual(before);
    });

    it('restart → still enforced', async () => {
      const before = await settings();
      await c.close();
      c = await start();
      expect(await settings()).toEqual(before);
      expect((await call('GET', '/api/whoami')).status).toBe(403);
    });

    it('CRLs (crlPem) while enforced: a bad one → 400 CRL_INVALID; a good one is listed in GET and its revoked certificate is denied', async () => {
      const revoked = await adminCa.issue({ subject: 'CN=revoked user' });
      expect((await call('GET', '/api/whoami', { cert: revoked })).status).toBe(200);
      const before = await settings();
      const bad = await call('PUT', '/api/settings/mtls', { cert: admin, body: { enabled: true, enforce: true, crlPem: (await otherCa.createCrl()).pem } });
      expect(bad.status).toBe(400);
      expect(bad.json.error.code).toBe('CRL_INVALID');
      expect(bad.json.error.problems.map((p: { code: string }) => p.code)).toContain('CRL_UNKNOWN_ISSUER');
      expect(await settings()).toEqual(before);
      const crl = await adminCa.createCrl({ revoked: [{ serialNumber: revoked, reason: 1 }], crlNumber: 7 });
      const r = await call('PUT', '/api/settings/mtls', { cert: admin, body: { enabled: true, enforce: true, crlPem: crl.pem, version: before.version } });
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ mode: 'enforced', version: before.version + 1 });
      expect(r.json.ca.crls).toEqual([
        {
          issuer: 'O=certgate,CN=Console Admin CA',
          thisUpdate: crl.x509.thisUpdate.toISOString(),
          nextUpdate: crl.x509.nextUpdate!.toISOString(),
          entryCount: 1,
          crlNumber: '7',
          delta: false,
          fingerprint256: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/),
        },
      ]);
      expect((await settings()).ca.crls).toEqual(r.json.ca.crls);
      const denied = await call('GET', '/api/whoami', { cert: revoked });
      expect(denied.status).toBe(403);
      expect(denied.json.error).toEqual({ code: 'CLIENT_CERT_UNTRUSTED', message: UNTRUSTED, reason: 'REVOKED' });
      expect((await call('GET', '/api/whoami', { cert: admin })).status).toBe(200);
    });

    it('a CRL that revokes the requesting admin while enforced → 422 REVOKED, nothing changes', async () => {
      const before = await settings();
      const crl = await adminCa.createCrl({ revoked: [{ serialNumber: admin }], crlNumber: 8 });
      const r = await call('PUT', '/api/settings/mtls', { cert: admin, body: { enabled: true, enforce: true, crlPem: crl.pem } });
      expect(r.status).toBe(422);
      expect(r.json.error).toEqual({ code: 'CLIENT_CERT_UNTRUSTED', message: UNTRUSTED, reason: 'REVOKED' });
      expect(r.json.settings).toEqual(before);
      expect(await settings()).toEqual(before);
    });

    it('smartcard login while mTLS is enabled → 409', async () => {
      const r = await call('PUT', '/api/settings/login', { cert: admin, body: { method: 'smartcard' } });
      expect(r.status).toBe(409);
      expect(r.json.error.code).toBe('MTLS_ENABLED');
      expect((await call('GET', '/api/settings/login', { cert: admin })).json.method).toBe('password');
    });

    it('relax → optional (no certificate needed afterwards)', async () => {
      const r = await call('PUT', '/api/settings/mtls', { cert: admin, body: { enabled: true, enforce: false } });
      expect(r.status).toBe(200);
      expect(r.json.mode).toBe('optional');
      expect((await call('GET', '/api/whoami')).status).toBe(200);
    });

    it('disable → disabled, the CA kept for later', async () => {
      const r = await call('PUT', '/api/settings/mtls', { body: { enabled: false, enforce: false } });
      expect(r.status).toBe(200);
      expect(r.json.mode).toBe('disabled');
      expect(r.json.ca.certificates).toHaveLength(1);
    });

    it('smartcard makes mTLS unavailable; enabling is refused with 409 MTLS_UNAVAILABLE', async () => {
      const r = await call('PUT', '/api/settings/login', { body: { method: 'smartcard' } });
      expect(r.status).toBe(200);
      expect(r.json.method).toBe('smartcard');
      const s = await settings();
      expect(s.available).toBe(false);
      expect(s.unavailableReason).toMatch(/smartcard/);
      const e = await call('PUT', '/api/settings/mtls', { body: { enabled: true, enforce: false } });
      expect(e.status).toBe(409);
      expect(e.json.error).toEqual({ code: 'MTLS_UNAVAILABLE', message: s.unavailableReason });
      const bad = await call('PUT', '/api/settings/login', { body: { method: 'retina' } });
      expect(bad.status).toBe(400);
      const back = await call('PUT', '/api/settings/login', { body: { method: 'password' } });
      expect(back.status).toBe(200);
      expect((await settings()).available).toBe(true);
    });

    it('no password → 401', async () => {
      const r = await call('PUT', '/api/settings/mtls', { password: false, body: { enabled: true, enforce: false } });
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toBeDefined();
      expect((await settings()).mode).toBe('disabled');
    });

    it('unknown API routes → 404, wrong methods → 405 (after auth)', async () => {
      expect((await call('GET', '/api/nope')).status).toBe(404);
      const m = await call('DELETE', '/api/settings/mtls');
      expect(m.status).toBe(405);
      expect(m.headers.allow).toBe('GET, PUT');
    });

    it('every attempt is in the audit log (JSONL in the data dir)', () => {
      const events = readFileSync(join(dataDir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const outcomes = events.map((e) => `${e.action}:${e.outcome}:${e.code ?? ''}`);
      expect(outcomes.filter((o) => o === 'save:refused:CA_INVALID')).toHaveLength(7);
      expect(outcomes).toContain('save:partial:CLIENT_CERT_MISSING');
      expect(outcomes).toContain('save:refused:INVALID_JSON');
      expect(outcomes.filter((o) => o === 'save:refused:INVALID_BODY')).toHaveLength(6);
      expect(outcomes).toContain('save:refused:PAYLOAD_TOO_LARGE');
      expect(outcomes).toContain('host:refused:INVALID_BODY');
      expect(outcomes).toContain('save:refused:VERSION_CONFLICT');
      expect(outcomes).toContain('save:refused:CLIENT_CERT_UNTRUSTED');
      expect(outcomes).toContain('host:refused:MTLS_ENABLED');
      expect(outcomes).toContain('save:refused:MTLS_UNAVAILABLE');
      const enforced = events.find((e) => e.to?.mode === 'enforced');
      expect(enforced).toMatchObject({ actor: 'admin', outcome: 'applied', client: { fingerprint256: admin.fingerprint256 } });
      // never certificate or key material, only fingerprints and subjects
      const text = JSON.stringify(events);
      for (const pem of [adminCa.pem, admin.keyPem, admin.pem]) expect(text).not.toContain(pem.split('\n')[1]);
    });
  });
}
