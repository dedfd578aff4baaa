/**
 * GET /metrics on the Koa console over real HTTPS on 127.0.0.1 (as the Express console's issue #9
 * test checks it): Prometheus text for the admin (Basic auth by default), the deny counters move when
 * requests are denied in enforced, the certificate gate applies to /metrics, and `metricsAccess:
 * 'public'` serves it without the password.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCa, type TestCa, type TestCertificate } from '@certgate/core/testing';
import { makeCaller, sample } from '../../console/test/helpers.js';
import { startConsole } from '../src/app.js';

const PASSWORD = 'koa metrics password';
type Console = Awaited<ReturnType<typeof startConsole>>;
let c: Console | null = null;
const dirs: string[] = [];
let adminCa: TestCa;
let admin: TestCertificate;
let intruder: TestCertificate;
const call = makeCaller(() => ({ port: c!.port, ca: c!.devCaPem }), PASSWORD);

beforeAll(async () => {
  adminCa = await createCa({ subject: 'CN=Koa Metrics Admin CA' });
  const otherCa = await createCa({ subject: 'CN=Koa Metrics Other CA' });
  admin = await adminCa.issue({ subject: 'CN=admin' });
  intruder = await otherCa.issue({ subject: 'CN=intruder' });
});
afterEach(async () => {
  await c?.close();
  c = null;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function start(extra: Partial<Parameters<typeof startConsole>[0]> = {}): Promise<Console> {
  const dataDir = mkdtempSync(join(tmpdir(), 'certgate-koa-metrics-'));
  dirs.push(dataDir);
  return startConsole({ dataDir, port: 0, adminPassword: PASSWORD, appName: 'Koa Metrics', pollIntervalMs: 50, log: () => {}, ...extra });
}

async function scrape(o: { password?: false } = {}): Promise<string> {
  const r = await call('GET', '/metrics', { cert: admin, accept: 'text/plain', ...o });
  expect(r.status).toBe(200);
  expect(String(r.headers['content-type'])).toMatch(/^text\/plain/);
  return r.text;
}

describe('Koa console GET /metrics', () => {
  it('admin auth; mode and version; the deny counters move when requests are denied; the gate applies', async () => {
    c = await start();
    expect((await call('GET', '/metrics', { cert: admin, password: false })).status).toBe(401);
    expect(sample(await scrape(), 'certgate_mode', { mode: 'disabled' })).toBe(1);

    expect((await call('PUT', '/api/settings/mtls', { body: { enabled: true, enforce: false, caPem: adminCa.pem } })).status).toBe(200);
    const r = await call('PUT', '/api/settings/mtls', { cert: admin, body: { enabled: true, enforce: true } });
    expect(r.status).toBe(200);
    expect(r.json.mode).toBe('enforced');

    const before = await scrape();
    expect(sample(before, 'certgate_mode', { mode: 'enforced' })).toBe(1);
    expect(sample(before, 'certgate_mode', { mode: 'disabled' })).toBe(0);
    expect(sample(before, 'certgate_settings_version', {})).toBe(r.json.version);
    const denyMissing = sample(before, 'certgate_decisions_total', { mode: 'enforced', action: 'deny', code: 'NO_CERTIFICATE' });
    const denyUnknown = sample(before, 'certgate_decisions_total', { mode: 'enforced', action: 'deny', code: 'UNKNOWN_ISSUER' });

    expect((await call('GET', '/api/whoami')).status).toBe(403);
    expect((await call('GET', '/api/whoami', { cert: intruder })).status).toBe(403);
    expect((await call('GET', '/metrics', { accept: 'text/plain' })).status).toBe(403); // the gate applies to /metrics too

    const after = await scrape();
    expect(sample(after, 'certgate_decisions_total', { mode: 'enforced', action: 'deny', code: 'NO_CERTIFICATE' })).toBe(denyMissing + 2);
    expect(sample(after, 'certgate_decisions_total', { mode: 'enforced', action: 'deny', code: 'UNKNOWN_ISSUER' })).toBe(denyUnknown + 1);
    expect(sample(after, 'certgate_decisions_total', { mode: 'enforced', action: 'allow', code: 'OK' })).toBeGreaterThan(0);
    expect(sample(after, 'certgate_validation_duration_seconds_count', { result: 'fail' })).toBeGreaterThan(0);
  });

  it("metricsAccess 'public': served without the password", async () => {
    c = await start({ metricsAccess: 'public' });
    const text = await scrape({ password: false });
    expect(sample(text, 'certgate_mode', { mode: 'disabled' })).toBe(1);
    expect((await call('GET', '/api/settings/mtls', { password: false })).status).toBe(401); // the rest of the API still wants it
  });
});
