/**
 * Metrics: createPrometheusMetrics (`@certgate/core/metrics`) fed by a real controller with real
 * validation, and GET /metrics through the framework-free console API (access admin / public / off,
 * the certificate gate first). The main entry never loads prom-client.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleApi, createController, createMemorySettingsStore, decisionMetricCode, type ApiRequest, type Controller, type Decision } from '@certgate/core';
import { createPrometheusMetrics } from '@certgate/core/metrics';
import { createCa, type TestCa, type TestCertificate } from '@certgate/core/testing';

let ca: TestCa;
let other: TestCa;
let admin: TestCertificate;
let intruder: TestCertificate;
beforeAll(async () => {
  ca = await createCa({ subject: 'CN=Metrics CA' });
  other = await createCa({ subject: 'CN=Metrics Other CA' });
  admin = await ca.issue({ subject: 'CN=admin' });
  intruder = await other.issue({ subject: 'CN=intruder' });
});
const controllers: Controller[] = [];
afterEach(() => {
  for (const c of controllers.splice(0)) c.close();
});

function value(text: string, line: RegExp): number {
  const m = text.split('\n').find((l) => line.test(l));
  return m === undefined ? 0 : Number(m.slice(m.lastIndexOf(' ') + 1));
}

async function setup() {
  const metrics = createPrometheusMetrics();
  const c = await createController({ store: createMemorySettingsStore(), metrics, onProblem: () => {} });
  controllers.push(c);
  return { c, metrics };
}

describe('createPrometheusMetrics with a controller', () => {
  it('decisions by mode/action/code, validation histogram, cache hits, mode and version gauges', async () => {
    const { c, metrics } = await setup();
    let text = (await metrics.render()).body;
    expect(value(text, /^certgate_mode\{mode="disabled"\}/)).toBe(1);
    expect(value(text, /^certgate_settings_version /)).toBe(0);
    await c.decide(null);
    await c.save({ enabled: true, enforce: false, caPem: ca.pem }, { actor: 'admin', peerChain: null });
    await c.decide([admin.der]);
    await c.decide([admin.der]); // a verdict-cache hit
    await c.decide([intruder.der]);
    await c.decide(null);
    await c.save({ enabled: true, enforce: true }, { actor: 'admin', peerChain: [admin.der] });
    await c.decide([intruder.der]);
    await c.decide(null);
    text = (await metrics.render()).body;
    expect(value(text, /^certgate_decisions_total\{mode="disabled",action="allow",code="NOT_CHECKED"\}/)).toBe(1);
    expect(value(text, /^certgate_decisions_total\{mode="optional",action="allow",code="OK"\}/)).toBe(2);
    expect(value(text, /^certgate_decisions_total\{mode="optional",action="allow-unverified",code="UNKNOWN_ISSUER"\}/)).toBe(1);
    expect(value(text, /^certgate_decisions_total\{mode="optional",action="allow-unverified",code="NO_CERTIFICATE"\}/)).toBe(1);
    expect(value(text, /^certgate_decisions_total\{mode="enforced",action="deny",code="UNKNOWN_ISSUER"\}/)).toBe(1);
    expect(value(text, /^certgate_decisions_total\{mode="enforced",action="deny",code="NO_CERTIFICATE"\}/)).toBe(1);
    expect(value(text, /^certgate_verdict_cache_lookups_total\{result="hit"\}/)).toBeGreaterThanOrEqual(1);
    expect(value(text, /^certgate_verdict_cache_lookups_total\{result="miss"\}/)).toBeGreaterThanOrEqual(2);
    expect(value(text, /^certgate_validation_duration_seconds_count\{result="pass"\}/)).toBeGreaterThanOrEqual(2); // decide + the enforce check
    expect(value(text, /^certgate_validation_duration_seconds_count\{result="fail"\}/)).toBeGreaterThanOrEqual(1);
    expect(value(text, /^certgate_validation_duration_seconds_sum\{result="pass"\}/)).toBeGreaterThan(0);
    expect(value(text, /^certgate_mode\{mode="enforced"\}/)).toBe(1);
    expect(value(text, /^certgate_mode\{mode="disabled"\}/)).toBe(0);
    expect(value(text, /^certgate_settings_version /)).toBe(2);
    expect(value(text, /^certgate_confirm_deadline_seconds /)).toBe(0);
    const w = await c.save({ enabled: true, enforce: true, confirmWithinSec: 60 }, { actor: 'admin', peerChain: [admin.der] });
    text = (await metrics.render()).body;
    expect(value(text, /^certgate_confirm_deadline_seconds /)).toBe(Date.parse(w.ok ? w.state.pendingConfirmation!.deadline : '') / 1000);
  });

  it('decisionMetricCode', () => {
    const base = { certificate: null, verdict: null } as Pick<Decision, 'mode' | 'certificate' | 'verdict' | 'denial'>;
    expect(decisionMetricCode({ ...base, mode: 'disabled' })).toBe('NOT_CHECKED');
    expect(decisionMetricCode({ ...base, mode: 'enforced', denial: { code: 'SETTINGS_UNAVAILABLE', message: '' } })).toBe('SETTINGS_UNAVAILABLE');
    expect(decisionMetricCode({ ...base, mode: 'optional' })).toBe('NO_CERTIFICATE');
  });

  it('a separate registry per instance; a bad prefix is refused', async () => {
    const a = createPrometheusMetrics();
    const b = createPrometheusMetrics();
    a.decision({ mode: 'optional', action: 'allow', code: 'OK' });
    expect((await b.render()).body).not.toMatch(/code="OK"/);
    expect(() => createPrometheusMetrics({ prefix: 'bad-prefix' })).toThrow(TypeError);
  });

  it('the main entry of @certgate/core never imports prom-client', () => {
    for (const f of ['../src/index.ts', '../src/controller/index.ts', '../src/controller/http.ts', '../src/metrics/sink.ts']) {
      expect(readFileSync(new URL(f, import.meta.url), 'utf8')).not.toMatch(/from 'prom-client'/);
    }
  });
});

describe('GET /metrics through the console API', () => {
  const auth = `Basic ${Buffer.from('admin:pw').toString('base64')}`;
  async function get(c: Controller, options: Parameters<typeof createConsoleApi>[1], headers: Record<string, string>, decision?: Decision) {
    const api = createConsoleApi(c, options);
    const req: ApiRequest = { method: 'GET', path: '/metrics', headers, decision: decision ?? (await c.decide(null)), peerChain: null, readBody: async () => ({ ok: true, text: '' }) };
    return api.handle(req);
  }
  const authenticate = (_u: string, p: string) => p === 'pw';

  it('admin access by default: 401 without the password, 200 text/plain with it', async () => {
    const { c } = await setup();
    expect((await get(c, { authenticate }, {}))?.status).toBe(401);
    const r = await get(c, { authenticate }, { authorization: auth });
    expect(r?.status).toBe(200);
    expect(r?.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(r?.body).toContain('# TYPE certgate_decisions_total counter');
  });

  it('public access needs no password; the certificate gate still applies', async () => {
    const { c } = await setup();
    expect((await get(c, { authenticate, metrics: { access: 'public' } }, {}))?.status).toBe(200);
    await c.save({ enabled: true, enforce: false, caPem: ca.pem }, { actor: 'admin', peerChain: null });
    await c.save({ enabled: true, enforce: true }, { actor: 'admin', peerChain: [admin.der] });
    const denied = await get(c, { authenticate, metrics: { access: 'public' } }, { accept: 'application/json' }, await c.decide([intruder.der]));
    expect(denied?.status).toBe(403);
    expect(JSON.parse(denied!.body).error.code).toBe('CLIENT_CERT_UNTRUSTED');
  });

  it('another path, off, or a controller without metrics: not handled here (null)', async () => {
    const { c } = await setup();
    expect((await get(c, { authenticate, metrics: { path: '/internal/metrics', access: 'public' } }, {}))).toBeNull();
    expect((await get(c, { authenticate, metrics: false }, { authorization: auth }))).toBeNull();
    const plain = await createController({ store: createMemorySettingsStore(), onProblem: () => {} });
    controllers.push(plain);
    expect(plain.metrics).toBeNull();
    expect((await get(plain, { authenticate }, { authorization: auth }))).toBeNull();
  });
});
