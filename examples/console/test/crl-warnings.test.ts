/**
 * CRL expiry warnings over real HTTPS on 127.0.0.1 against the Express console, with a CA, an admin
 * certificate and CRLs generated here. The console's clock is injected (`now`) and moved forward:
 * a CRL whose nextUpdate is 2 days away shows CRL_EXPIRES_SOON; past it, CRL_EXPIRED — while
 * enforced the admin is then refused with REVOCATION_UNKNOWN (as the warning says), break-glass
 * gets back in, and a fresh CRL clears the warning and re-enforces.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, type TestCa, type TestCertificate, type TestCrl } from '@certgate/core/testing';
import { startConsole } from '../src/app.js';
import { makeCaller } from './helpers.js';

const PASSWORD = 'crl warnings password';
const DAY = 86_400_000;
const HOUR = 3_600_000;

type Console = Awaited<ReturnType<typeof startConsole>>;
let c: Console;
let dataDir: string;
let offsetMs = 0;
let ca: TestCa;
let admin: TestCertificate;
let shortCrl: TestCrl;
const call = makeCaller(() => ({ port: c.port, ca: c.devCaPem }), PASSWORD);

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'certgate-crl-warnings-'));
  ca = await createCa({ subject: 'CN=CRL Console CA, O=certgate' });
  admin = await ca.issue({ subject: 'CN=admin, O=certgate' });
  shortCrl = await ca.createCrl({ thisUpdate: new Date(Date.now() - HOUR), nextUpdate: new Date(Date.now() + 2 * DAY + HOUR), crlNumber: 1 });
  c = await startConsole({ dataDir, port: 0, adminPassword: PASSWORD, appName: 'CRL warnings', pollIntervalMs: 50, log: () => {}, now: () => new Date(Date.now() + offsetMs) });
});

afterAll(async () => {
  await c?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function warnings(): Promise<{ code: string; message: string; expiresInDays: number }[]> {
  const r = await call('GET', '/api/settings/mtls', { cert: admin });
  expect(r.status).toBe(200);
  return r.json.warnings;
}

describe('CRL expiry warnings over HTTPS (Express console)', () => {
  it('a CRL whose nextUpdate is in 2 days shows CRL_EXPIRES_SOON (optional, then enforced)', async () => {
    const r = await call('PUT', '/api/settings/mtls', { cert: admin, body: { enabled: true, enforce: false, caPem: ca.pem, crlPem: shortCrl.pem } });
    expect(r.status).toBe(200);
    expect(r.json.mode).toBe('optional');
    expect(r.json.ca.crls[0].issuer).toBe('O=certgate,CN=CRL Console CA');
    expect(r.json.warnings).toEqual([
      {
        code: 'CRL_EXPIRES_SOON',
        message: expect.stringContaining(`The CRL of "${r.json.ca.crls[0].issuer}" is out of date in 2 days`),
        issuer: r.json.ca.crls[0].issuer,
        fingerprint256: r.json.ca.crls[0].fingerprint256,
        nextUpdate: shortCrl.x509.nextUpdate!.toISOString(),
        expiresInDays: 2,
      },
    ]);
    expect(r.json.warnings[0].message).toContain('enforcing would be refused');

    const e = await call('PUT', '/api/settings/mtls', { cert: admin, body: { enabled: true, enforce: true, version: r.json.version } });
    expect(e.status).toBe(200);
    expect(e.json.mode).toBe('enforced');
    const w = await warnings();
    expect(w.map((x) => x.code)).toEqual(['CRL_EXPIRES_SOON']);
    expect(w[0]!.message).toContain('yours included, will be refused with REVOCATION_UNKNOWN');
  });

  it('past nextUpdate: the admin is refused REVOCATION_UNKNOWN; after break-glass GET shows CRL_EXPIRED; a fresh CRL clears it', async () => {
    offsetMs = 3 * DAY;
    const locked = await call('GET', '/api/settings/mtls', { cert: admin });
    expect(locked.status).toBe(403);
    expect(locked.json.error).toMatchObject({ code: 'CLIENT_CERT_UNTRUSTED', reason: 'REVOCATION_UNKNOWN' });
    // Seen from the server side while enforced (what an operator's status check reads).
    const s = c.controller.status();
    expect(s.ok && s.settings.warnings.map((x) => [x.code, x.expiresInDays])).toEqual([['CRL_EXPIRED', -1]]);
    expect(s.ok && s.settings.warnings[0]!.message).toContain('while enforced every client with one, yours included, is now refused with REVOCATION_UNKNOWN');

    const bg = await c.controller.breakGlass('optional', 'break-glass (test)');
    expect(bg.ok).toBe(true);
    const w = await warnings();
    expect(w).toEqual([expect.objectContaining({ code: 'CRL_EXPIRED', expiresInDays: -1, nextUpdate: shortCrl.x509.nextUpdate!.toISOString() })]);
    expect(w[0]!.message).toContain('expired on ');
    expect(w[0]!.message).toContain('enforcing now would refuse every client with one, yours included');
    // Enforcing is indeed refused by the lock-out check until a fresh CRL is there.
    const refused = await call('PUT', '/api/settings/mtls', { cert: admin, body: { enabled: true, enforce: true } });
    expect(refused.status).toBe(422);
    expect(refused.json.error).toMatchObject({ code: 'CLIENT_CERT_UNTRUSTED', reason: 'REVOCATION_UNKNOWN' });

    const t = Date.now() + offsetMs;
    const fresh = await ca.createCrl({ thisUpdate: new Date(t - HOUR), nextUpdate: new Date(t + 7 * DAY), crlNumber: 2 });
    const ok = await call('PUT', '/api/settings/mtls', { cert: admin, body: { enabled: true, enforce: true, crlPem: fresh.pem } });
    expect(ok.status).toBe(200);
    expect(ok.json.mode).toBe('enforced');
    expect(ok.json.warnings).toEqual([]);
    expect(await warnings()).toEqual([]);
  });

  it('the page heading of the warnings box names CRLs', async () => {
    const r = await call('GET', '/', { cert: admin, accept: 'text/html' });
    expect(r.status).toBe(200);
    expect(r.text).toContain('CA certificates and CRLs that need attention');
  });
});
