/**
 * Issue #9 over real HTTPS on 127.0.0.1 against the Express console, with certificates generated here:
 * CA expiry warnings, the enforcement preview (against the CA in force and a CA not uploaded yet),
 * the confirm window (reverts unconfirmed, stays when confirmed, reverts at a restart past its
 * deadline), the audit API and metrics that move on denials. The console's clock is injected
 * (`now`) and moved forward, so no test waits for a real deadline.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, pemBundle, type TestCa, type TestCertificate } from '@certgate/core/testing';
import { startConsole } from '../src/app.js';
import { makeCaller, sample } from './helpers.js';

const PASSWORD = 'issue nine password';
const DAY = 86_400_000;

type Console = Awaited<ReturnType<typeof startConsole>>;
let c: Console;
let dataDir: string;
let offsetMs = 0;
let adminCa: TestCa;
let soonCa: TestCa;
let otherCa: TestCa;
let admin: TestCertificate;
let intruder1: TestCertificate;
let intruder2: TestCertificate;
const call = makeCaller(() => ({ port: c.port, ca: c.devCaPem }), PASSWORD);

function start(): Promise<Console> {
  return startConsole({ dataDir, port: 0, adminPassword: PASSWORD, appName: 'Issue 9', pollIntervalMs: 50, log: () => {}, now: () => new Date(Date.now() + offsetMs) });
}

async function settings() {
  const r = await call('GET', '/api/settings/mtls', { cert: admin });
  expect(r.status).toBe(200);
  return r.json;
}

async function eventually(check: () => Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function scrape(): Promise<string> {
  const r = await call('GET', '/metrics', { cert: admin, accept: 'text/plain' });
  expect(r.status).toBe(200);
  expect(String(r.headers['content-type'])).toMatch(/^text\/plain/);
  return r.text;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'certgate-issue9-'));
  adminCa = await createCa({ subject: 'CN=Issue9 Admin CA, O=certgate' });
  soonCa = await createCa({ subject: 'CN=Issue9 Soon CA', notBefore: new Date(Date.now() - 300 * DAY), notAfter: new Date(Date.now() + 10 * DAY + 3_600_000) });
  otherCa = await createCa({ subject: 'CN=Issue9 Other CA' });
  admin = await adminCa.issue({ subject: 'CN=admin, O=certgate' });
  intruder1 = await otherCa.issue({ subject: 'CN=intruder one' });
  intruder2 = await otherCa.issue({ subject: 'CN=intruder two' });
  c = await start();
});

afterAll(async () => {
  await c?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('issue #9 over HTTPS (Express console)', () => {
  it('a CA expiring in 10 days is accepted with a CA_EXPIRES_SOON warning in Settings', async () => {
    const r = await call('PUT', '/api/settings/mtls', { body: { enabled: true, enforce: false, caPem: pemBundle(adminCa, soonCa) } });
    expect(r.status).toBe(200);
    expect(r.json.mode).toBe('optional');
    expect(r.json.pendingConfirmation).toBeNull();
    expect(r.json.warnings).toEqual([
      {
        code: 'CA_EXPIRES_SOON',
        message: expect.stringContaining('expires in 10 days'),
        subject: 'CN=Issue9 Soon CA',
        fingerprint256: soonCa.fingerprint256,
        notAfter: soonCa.notAfter.toISOString(),
        expiresInDays: 10,
      },
    ]);
    expect((await settings()).warnings.map((w: { code: string }) => w.code)).toEqual(['CA_EXPIRES_SOON']);
  });

  it('whoami shows the client certificate\'s expiresInDays', async () => {
    const r = await call('GET', '/api/whoami', { cert: admin });
    expect(r.json.clientCertificate.verdict).toEqual({ ok: true });
    expect(r.json.clientCertificate.expiresInDays).toBe(Math.floor((admin.notAfter.getTime() - Date.now()) / DAY));
    expect((await call('GET', '/api/whoami')).json.clientCertificate).toBeNull();
  });

  it('the preview counts two unknown-CA clients, one valid client and the connections without a certificate', async () => {
    // Every call is its own TLS connection (one decision each). Since the enable above, only the
    // calls below (and the admin's own, with its certificate) were made; two had no certificate.
    for (const cert of [intruder1, intruder2, intruder1]) expect((await call('GET', '/api/whoami', { cert })).status).toBe(200);
    const r = await call('GET', '/api/settings/mtls/preview', { cert: admin });
    expect(r.status).toBe(200);
    const p = r.json;
    expect(p.wouldPass).toBe(1);
    expect(p.wouldFail).toEqual({ UNKNOWN_ISSUER: 2 });
    expect(p.noCertificate).toBe(1); // the whoami without a certificate in the test above
    expect(p.total).toBe(4);
    expect(Date.parse(p.since)).toBeLessThanOrEqual(Date.now());
    expect(p.clients).toHaveLength(3);
    const byName = Object.fromEntries(p.clients.map((x: { subject: string }) => [x.subject, x]));
    expect(byName['CN=intruder one']).toMatchObject({ fingerprint256: intruder1.fingerprint256, verdict: { ok: false, code: 'UNKNOWN_ISSUER' }, count: 2 });
    expect(byName['CN=intruder two']).toMatchObject({ fingerprint256: intruder2.fingerprint256, verdict: { ok: false, code: 'UNKNOWN_ISSUER' }, count: 1 });
    expect(byName['O=certgate,CN=admin']).toMatchObject({ fingerprint256: admin.fingerprint256, verdict: { ok: true } });
    expect(byName['O=certgate,CN=admin'].count).toBeGreaterThanOrEqual(2);
    expect(byName['O=certgate,CN=admin'].expiresInDays).toBeGreaterThan(300);
    expect(p.clients.slice(0, 2).every((x: { verdict: { ok: boolean } }) => !x.verdict.ok)).toBe(true); // locked-out first
    expect(JSON.stringify(p)).not.toContain('BEGIN CERTIFICATE');
  });

  it('the preview against a CA that is not uploaded yet: the recorded chains re-verified against it', async () => {
    const r = await call('POST', '/api/settings/mtls/preview', { cert: admin, body: { caPem: otherCa.pem } });
    expect(r.status).toBe(200);
    expect(r.json.wouldPass).toBe(2);
    expect(r.json.wouldFail).toEqual({ UNKNOWN_ISSUER: 1 });
    const admins = r.json.clients.filter((x: { fingerprint256: string }) => x.fingerprint256 === admin.fingerprint256);
    expect(admins[0].verdict).toEqual({ ok: false, code: 'UNKNOWN_ISSUER' });
    // The CA is linted first; bad bodies are 400; nothing was stored.
    const leaf = await call('POST', '/api/settings/mtls/preview', { cert: admin, body: { caPem: admin.pem } });
    expect(leaf.status).toBe(400);
    expect(leaf.json.error.code).toBe('CA_INVALID');
    expect(leaf.json.error.problems.map((x: { code: string }) => x.code)).toContain('NOT_A_CA');
    expect((await call('POST', '/api/settings/mtls/preview', { cert: admin, raw: '{"caPem":' })).json.error.code).toBe('INVALID_JSON');
    expect((await call('POST', '/api/settings/mtls/preview', { cert: admin, body: { caPem: otherCa.pem, x: 1 } })).json.error.code).toBe('INVALID_BODY');
    for (const body of [{}, { crlPem: 5 }, { caPem: 5 }]) {
      expect((await call('POST', '/api/settings/mtls/preview', { cert: admin, body })).json.error.code, JSON.stringify(body)).toBe('INVALID_BODY');
    }
    const badCrl = await call('POST', '/api/settings/mtls/preview', { cert: admin, body: { crlPem: 'not a CRL' } });
    expect(badCrl.status).toBe(400);
    expect(badCrl.json.error.code).toBe('CRL_INVALID');
    expect((await settings()).ca.certificates).toHaveLength(2);
  });

  it('confirmWithinSec is validated (integer 30…3600, only with enforce) → 400, nothing changes', async () => {
    const before = (await settings()).version;
    for (const body of [
      { enabled: true, enforce: true, confirmWithinSec: 29 },
      { enabled: true, enforce: true, confirmWithinSec: 3601 },
      { enabled: true, enforce: true, confirmWithinSec: 60.5 },
      { enabled: true, enforce: true, confirmWithinSec: '60' },
      { enabled: true, enforce: false, confirmWithinSec: 60 },
    ]) {
      const r = await call('PUT', '/api/settings/mtls', { cert: admin, body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error.code).toBe('INVALID_BODY');
    }
    expect((await settings()).version).toBe(before);
  });

  it('metrics: admin auth; the deny counters move when requests are denied', async () => {
    expect((await call('GET', '/metrics', { cert: admin, password: false })).status).toBe(401);
    const r = await call('PUT', '/api/settings/mtls', { cert: admin, body: { enabled: true, enforce: true } });
    expect(r.status).toBe(200);
    expect(r.json.mode).toBe('enforced');
    const before = await scrape();
    expect(sample(before, 'certgate_mode', { mode: 'enforced' })).toBe(1);
    expect(sample(before, 'certgate_settings_version', {})).toBe(r.json.version);
    const denyMissing = sample(before, 'certgate_decisions_total', { mode: 'enforced', action: 'deny', code: 'NO_CERTIFICATE' });
    const denyUnknown = sample(before, 'certgate_decisions_total', { mode: 'enforced', action: 'deny', code: 'UNKNOWN_ISSUER' });
    expect((await call('GET', '/api/whoami')).status).toBe(403);
    expect((await call('GET', '/api/whoami', { cert: intruder1 })).status).toBe(403);
    expect((await call('GET', '/api/whoami', { cert: intruder2 })).status).toBe(403);
    expect((await call('GET', '/metrics', { accept: 'text/plain' })).status).toBe(403); // the gate applies to /metrics too
    const after = await scrape();
    expect(sample(after, 'certgate_decisions_total', { mode: 'enforced', action: 'deny', code: 'NO_CERTIFICATE' })).toBe(denyMissing + 2);
    expect(sample(after, 'certgate_decisions_total', { mode: 'enforced', action: 'deny', code: 'UNKNOWN_ISSUER' })).toBe(denyUnknown + 2);
    expect(sample(after, 'certgate_decisions_total', { mode: 'enforced', action: 'allow', code: 'OK' })).toBeGreaterThan(0);
    expect(sample(after, 'certgate_validation_duration_seconds_count', { result: 'fail' })).toBeGreaterThan(0);
    expect(after).toMatch(/^certgate_verdict_cache_lookups_total\{result="hit"\} \d+$/m);
    // back to optional for the confirm-window tests
    expect((await call('PUT', '/api/settings/mtls', { cert: admin, body: { enabled: true, enforce: false } })).status).toBe(200);
  });

  it('confirm window: reverts to optional by itself when nobody confirms', async () => {
    const r = await call('PUT', '/api/settings/mtls', { cert: admin, body: { enabled: true, enforce: true, confirmWithinSec: 60 } });
    expect(r.status).toBe(200);
    expect(r.json.mode).toBe('enforced');
    const deadline = Date.parse(r.json.pendingConfirmation.deadline);
    expect(deadline - (Date.now() + offsetMs)).toBeGreaterThan(55_000);
    expect(r.json.pendingConfirmation.secondsLeft).toBeGreaterThan(55);
    expect((await call('GET', '/api/whoami')).status).toBe(403); // really enforced meanwhile
    const enforcedVersion = r.json.version;
    offsetMs += 61_000;
    await eventually(async () => (await settings()).mode === 'optional', 'the unconfirmed enforcement reverts');
    const s = await settings();
    expect(s).toMatchObject({ mode: 'optional', pendingConfirmation: null, version: enforcedVersion + 1, updatedBy: 'certgate (confirm window)' });
    expect((await call('GET', '/api/whoami')).status).toBe(200);
    const audit = await call('GET', '/api/audit?limit=5', { cert: admin });
    expect(audit.json.events[0]).toMatchObject({
      actor: 'certgate (confirm window)',
      action: 'revert',
      outcome: 'applied',
      code: 'NOT_CONFIRMED',
      from: { mode: 'enforced', version: enforcedVersion },
      to: { mode: 'optional', version: enforcedVersion + 1 },
    });
  });

  it('confirm window: stays enforced when a request with a valid certificate confirms', async () => {
    const r = await call('PUT', '/api/settings/mtls', { cert: admin, body: { enabled: true, enforce: true, confirmWithinSec: 120 } });
    expect(r.json.pendingConfirmation).not.toBeNull();
    expect((await call('POST', '/api/settings/mtls/confirm')).status).toBe(403); // no certificate: the gate
    expect((await call('POST', '/api/settings/mtls/confirm', { cert: intruder1 })).status).toBe(403);
    expect((await call('POST', '/api/settings/mtls/confirm', { cert: admin, body: { version: r.json.version - 1 } })).json.error.code).toBe('VERSION_CONFLICT');
    const ok = await call('POST', '/api/settings/mtls/confirm', { cert: admin });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ mode: 'enforced', pendingConfirmation: null, version: r.json.version + 1, updatedBy: 'admin' });
    offsetMs += 180_000;
    await new Promise((res) => setTimeout(res, 1500)); // more than one check interval of the console's confirm timer
    expect(await settings()).toMatchObject({ mode: 'enforced', pendingConfirmation: null, version: r.json.version + 1 });
    const again = await call('POST', '/api/settings/mtls/confirm', { cert: admin, body: {} });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('NO_PENDING_CONFIRMATION');
  });

  it('confirm window: a console that comes back after the deadline reverts at start', async () => {
    const r = await call('PUT', '/api/settings/mtls', { cert: admin, body: { enabled: true, enforce: true, confirmWithinSec: 300 } });
    expect(r.json).toMatchObject({ mode: 'enforced', pendingConfirmation: { deadline: expect.any(String) } });
    await c.close();
    offsetMs += 3_600_000;
    c = await start();
    // The very first request after the restart already sees optional.
    const who = await call('GET', '/api/whoami');
    expect(who.status).toBe(200);
    expect(await settings()).toMatchObject({ mode: 'optional', pendingConfirmation: null, version: r.json.version + 1 });
    const events = (await call('GET', '/api/audit?limit=3', { cert: admin })).json.events;
    expect(events[0]).toMatchObject({ action: 'revert', outcome: 'applied', code: 'NOT_CONFIRMED', from: { mode: 'enforced', version: r.json.version } });
  });

  it('the audit API: newest first, accepted and refused saves, limit validated', async () => {
    const refused = await call('PUT', '/api/settings/mtls', { cert: admin, body: { enabled: true, enforce: false, version: 0 } });
    expect(refused.json.error.code).toBe('VERSION_CONFLICT');
    const bad = await call('PUT', '/api/settings/mtls', { cert: admin, raw: 'not json' });
    expect(bad.status).toBe(400);
    const r = await call('GET', '/api/audit?limit=2', { cert: admin });
    expect(r.status).toBe(200);
    expect(r.json.events).toHaveLength(2);
    expect(r.json.events[0]).toMatchObject({ actor: 'admin', action: 'save', outcome: 'refused', code: 'INVALID_JSON' });
    expect(r.json.events[1]).toMatchObject({ actor: 'admin', action: 'save', outcome: 'refused', code: 'VERSION_CONFLICT', to: null });
    const all = (await call('GET', '/api/audit', { cert: admin })).json.events as { at: string; action: string; outcome: string; code?: string }[];
    expect(all.length).toBeGreaterThan(10);
    expect(all.length).toBeLessThanOrEqual(50);
    for (let i = 1; i < all.length; i++) expect(Date.parse(all[i - 1]!.at)).toBeGreaterThanOrEqual(Date.parse(all[i]!.at));
    expect(all.some((e) => e.action === 'save' && e.outcome === 'applied')).toBe(true);
    expect(all.some((e) => e.action === 'confirm' && e.outcome === 'applied')).toBe(true);
    expect(all.some((e) => e.action === 'confirm' && e.outcome === 'refused' && e.code === 'NO_PENDING_CONFIRMATION')).toBe(true);
    expect(all.some((e) => e.action === 'save' && e.outcome === 'refused' && e.code === 'INVALID_BODY')).toBe(true);
    for (const q of ['limit=0', 'limit=1001', 'limit=abc', 'limit=5&limit=6', 'limit=-1']) {
      const x = await call('GET', `/api/audit?${q}`, { cert: admin });
      expect(x.status, q).toBe(400);
      expect(x.json.error.code).toBe('INVALID_QUERY');
    }
    expect((await call('GET', '/api/audit', { cert: admin, password: false })).status).toBe(401);
  });
});
