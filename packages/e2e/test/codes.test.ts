/**
 * docs/codes.md is the one table of every code certgate gives out. This test keeps it honest:
 * the table lists exactly the codes the sources define, each kind's codes have their rows, and every
 * row names a test file that exists, has that test and mentions the code. It also reaches the codes
 * no other test reached (NOT_CHECKED, NOT_FOUND, METHOD_NOT_ALLOWED, ERR_CERTGATE_INVALID_INPUT,
 * AUDIT_FAILED, LISTENER_FAILED, AUDIT_UNAVAILABLE, METRICS_FAILED, CONFIRM_REVERT_FAILED).
 */
import 'reflect-metadata';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CertgateError,
  LINT_CODES,
  TrustStore,
  VERIFICATION_CODES,
  createConsoleApi,
  createController,
  createMemoryAuditLog,
  createMemorySettingsStore,
  type ApiRequest,
  type AuditLog,
  type Controller,
  type ControllerMetrics,
  type SettingsStore,
} from '@certgate/core';
import { createTestPki, type TestPki } from '@certgate/core/testing';
import { REPO, startConsoleProcess, type RunningConsole } from './helpers.js';

/** Codes that have a row but no test yet (each one is a known gap, reported; a new gap fails). */
const NOT_YET_REACHED: string[] = [];

interface Row {
  code: string;
  kind: string;
  status: string;
  file: string | null;
  title: string | null;
}

const table: Row[] = readFileSync(join(REPO, 'docs/codes.md'), 'utf8')
  .split('\n')
  .filter((l) => /^\| `[A-Z0-9_]+` \|/.test(l))
  .map((l) => {
    const cells = l.split(' | ').map((c) => c.replace(/^\| ?| ?\|$/g, '').trim());
    const ref = /^`([^`]+)` — "(.+)"$/.exec(cells[4] ?? '');
    return { code: cells[0]!.replace(/`/g, ''), kind: cells[1]!, status: cells[2]!, file: ref ? ref[1]! : null, title: ref ? ref[2]! : null };
  });

const src = (p: string) => readFileSync(join(REPO, p), 'utf8');

/** The string literals of `export type <name> = | 'A' | 'B' …;` in a source file. */
function unionOf(file: string, name: string): string[] {
  const m = new RegExp(`export type ${name} =([^;]+);`).exec(src(file));
  if (!m) throw new Error(`${name} not found in ${file}`);
  return [...m[1]!.matchAll(/'([A-Z0-9_]+)'/g)].map((x) => x[1]!);
}

/** Every `code: 'X'` literal in the files of a directory (or in one file). */
function codeLiterals(dir: string, ext: RegExp): string[] {
  const out: string[] = [];
  const files = ext.test(dir) ? [dir] : readdirSync(join(REPO, dir)).filter((f) => ext.test(f)).map((f) => join(dir, f));
  for (const f of files) {
    for (const m of src(f).matchAll(/code: '([A-Z0-9_]+)'/g)) out.push(m[1]!);
  }
  return out;
}

const defined = {
  verify: [...VERIFICATION_CODES, 'NOT_CHECKED'],
  caLint: [...LINT_CODES],
  crlLint: unionOf('packages/core/src/revocation/lint.ts', 'CrlLintCode'),
  refusal: unionOf('packages/core/src/mode/machine.ts', 'RefusalCode'),
  denial: unionOf('packages/core/src/controller/index.ts', 'DenialCode'),
  thrown: unionOf('packages/core/src/errors.ts', 'CertgateErrorCode'),
  warning: unionOf('packages/core/src/warnings.ts', 'SettingsWarningCode'),
  literals: [
    ...codeLiterals('packages/core/src/controller', /\.ts$/),
    ...codeLiterals('packages/core/src/mode', /\.ts$/),
    ...codeLiterals('packages/core/src/preview', /\.ts$/),
    ...codeLiterals('packages/core/src/confirm', /\.ts$/),
    ...codeLiterals('packages/core/src/warnings.ts', /\.ts$/),
    ...codeLiterals('examples/console/src', /\.js$/),
    ...codeLiterals('examples/koa-console/src', /\.js$/),
    ...codeLiterals('packages/express/src', /\.ts$/),
    ...codeLiterals('packages/koa/src', /\.ts$/),
    ...codeLiterals('packages/tls/src', /\.ts$/),
  ],
};

describe('docs/codes.md', () => {
  it('lists exactly the codes the sources define', () => {
    const expected = new Set(Object.values(defined).flat());
    const listed = new Set(table.map((r) => r.code));
    expect([...listed].filter((c) => !expected.has(c)), 'listed but not defined').toEqual([]);
    expect([...expected].filter((c) => !listed.has(c)), 'defined in the sources but missing from docs/codes.md: add a row').toEqual([]);
  });

  it('each kind has its rows: verify, CA lint, CRL lint, settings, denial, thrown, warning', () => {
    const rows = (kind: string) => table.filter((r) => r.kind === kind).map((r) => r.code).sort();
    expect(rows('verify')).toEqual([...defined.verify].sort());
    expect(rows('CA lint')).toEqual([...defined.caLint].sort());
    expect(rows('CRL lint')).toEqual([...defined.crlLint].sort());
    expect(rows('denial')).toEqual([...defined.denial].sort());
    expect(rows('thrown')).toEqual([...defined.thrown].sort());
    expect(rows('warning')).toEqual([...defined.warning].sort());
    for (const c of defined.refusal) expect(rows('settings'), c).toContain(c);
    expect(new Set(table.map((r) => `${r.code}/${r.kind}`)).size).toBe(table.length); // no row twice
  });

  it('every row names a test that exists and mentions the code; the gaps are exactly the known ones', () => {
    const gaps: string[] = [];
    for (const r of table) {
      if (r.file === null) {
        gaps.push(r.code);
        continue;
      }
      expect(existsSync(join(REPO, r.file)), `${r.code}: ${r.file}`).toBe(true);
      const text = src(r.file);
      expect(text, `${r.code}: ${r.file} has the test "${r.title}"`).toContain(r.title!);
      expect(text, `${r.code}: ${r.file} mentions it`).toContain(r.code);
    }
    expect(gaps.sort()).toEqual([...NOT_YET_REACHED].sort());
  });

  it('the settings rows give the status the API uses', async () => {
    const { statusForRefusal } = await import('@certgate/core');
    for (const r of table.filter((x) => x.kind === 'settings' && x.status !== '—' && defined.refusal.includes(x.code))) {
      expect(String(statusForRefusal(r.code)), r.code).toBe(r.status);
    }
  });
});

// ---- codes no other test reaches -------------------------------------------------------------

interface Res {
  status: number;
  json: any;
  headers: Record<string, string | string[] | undefined>;
}

let consoleProc: RunningConsole;
let pki: TestPki;
const PASSWORD = 'codes test password';

function request(method: string, path: string, o: { body?: unknown; agent?: https.Agent; cert?: boolean } = {}): Promise<Res> {
  const payload = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: consoleProc.port,
        method,
        path,
        servername: 'localhost',
        ca: readFileSync(join(consoleProc.dataDir, 'dev-ca.pem')),
        headers: {
          accept: 'application/json',
          authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`,
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
        },
        ...(o.cert ? { cert: pki.clientChain.join(''), key: pki.client.keyPem } : {}),
        agent: o.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString() || 'null'), headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('codes reached here', () => {
  beforeAll(async () => {
    [consoleProc, pki] = await Promise.all([startConsoleProcess({ CERTGATE_ADMIN_PASSWORD: PASSWORD }), createTestPki()]);
  });
  afterAll(async () => {
    await consoleProc?.stop();
  });

  it('NOT_FOUND and METHOD_NOT_ALLOWED from the console API', async () => {
    const nf = await request('GET', '/api/no-such-route');
    expect(nf.status).toBe(404);
    expect(nf.json.error.code).toBe('NOT_FOUND');
    const page = await request('GET', '/no-such-page');
    expect(page.status).toBe(404);
    expect(page.json.error.code).toBe('NOT_FOUND');
    const m = await request('DELETE', '/api/settings/mtls');
    expect(m.status).toBe(405);
    expect(m.json.error.code).toBe('METHOD_NOT_ALLOWED');
    expect(m.headers.allow).toBe('GET, PUT');
  });

  it('NOT_CHECKED: a certificate presented while optional, seen after disable', async () => {
    expect((await request('PUT', '/api/settings/mtls', { body: { enabled: true, enforce: false, caPem: pki.caPem } })).json.mode).toBe('optional');
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const before = await request('GET', '/api/whoami', { agent, cert: true });
      expect(before.json.clientCertificate.verdict).toEqual({ ok: true });
      expect((await request('PUT', '/api/settings/mtls', { body: { enabled: false, enforce: false } })).json.mode).toBe('disabled');
      // The same keep-alive connection, decided again under the new settings.
      const after = await request('GET', '/api/whoami', { agent, cert: true });
      expect(after.json.clientCertificate.subject).toBe(before.json.clientCertificate.subject);
      expect(after.json.clientCertificate.verdict.code).toBe('NOT_CHECKED');
    } finally {
      agent.destroy();
    }
  });

  it('ERR_CERTGATE_INVALID_INPUT: a trust bundle without a certificate', () => {
    let thrown: unknown;
    try {
      TrustStore.fromPem('no PEM here');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(CertgateError);
    expect((thrown as CertgateError).code).toBe('ERR_CERTGATE_INVALID_INPUT');
  });

  it('AUDIT_FAILED and LISTENER_FAILED reach onProblem', async () => {
    const problems: string[] = [];
    const audit: AuditLog = { append: async () => Promise.reject(new Error('disk full')) } as unknown as AuditLog;
    const controller = await createController({ store: createMemorySettingsStore(), audit, onProblem: (p) => problems.push(p.code) });
    controller.onChange(() => {
      throw new Error('listener bug');
    });
    const r = await controller.save({ enabled: true, enforce: false, caPem: pki.caPem }, { actor: 'admin', peerChain: null });
    expect(r.ok).toBe(true); // the change stands
    expect(problems).toContain('LISTENER_FAILED');
    expect(problems).toContain('AUDIT_FAILED');
    controller.close();
  });

  /** One request through the framework-free console API, signed in as admin. */
  async function apiGet(controller: Controller, path: string, query?: string) {
    const api = createConsoleApi(controller, { authenticate: (u, p) => u === 'admin' && p === 'pw' });
    const req: ApiRequest = {
      method: 'GET',
      path,
      ...(query ? { query } : {}),
      headers: { accept: 'application/json', authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` },
      decision: await controller.decide(null),
      peerChain: null,
      readBody: async () => ({ ok: true, text: '' }),
    };
    const r = await api.handle(req);
    expect(r, path).not.toBeNull();
    return { status: r!.status, json: JSON.parse(String(r!.body)) };
  }

  it('AUDIT_UNAVAILABLE: GET /api/audit while the audit log cannot be read (503)', async () => {
    const audit: AuditLog = { append: async () => {}, recent: async () => Promise.reject(new Error('EIO: i/o error')) };
    const controller = await createController({ store: createMemorySettingsStore(), audit, onProblem: () => {} });
    try {
      const r = await apiGet(controller, '/api/audit', 'limit=5');
      expect(r.status).toBe(503);
      expect(r.json.error.code).toBe('AUDIT_UNAVAILABLE');
      expect(r.json.error.message).toContain('EIO: i/o error');
    } finally {
      controller.close();
    }
  });

  it('METRICS_FAILED: GET /metrics when the metrics sink cannot render (500)', async () => {
    const metrics: ControllerMetrics = {
      decision() {},
      validation() {},
      cache() {},
      state() {},
      render: async () => Promise.reject(new Error('registry broken')),
    };
    const controller = await createController({ store: createMemorySettingsStore(), metrics, onProblem: () => {} });
    try {
      const r = await apiGet(controller, '/metrics');
      expect(r.status).toBe(500);
      expect(r.json.error.code).toBe('METRICS_FAILED');
      expect(r.json.error.message).toContain('registry broken');
    } finally {
      controller.close();
    }
  });

  it('CONFIRM_REVERT_FAILED and NOT_CONFIRMED: the revert at the deadline fails to write, is reported, then succeeds', async () => {
    const inner = createMemorySettingsStore();
    let failWrites = false;
    const store: SettingsStore = {
      get: () => inner.get(),
      compareAndSet: (v, next) => (failWrites ? Promise.reject(new Error('disk full')) : inner.compareAndSet(v, next)),
      watch: (l) => inner.watch(l),
    };
    let t = Date.now();
    const problems: { code: string; message: string }[] = [];
    const audit = createMemoryAuditLog();
    const controller = await createController({ store, audit, now: () => new Date(t), onProblem: (p) => problems.push(p) });
    controller.close(); // no timer: the reverts below are the explicit ones
    try {
      expect((await controller.save({ enabled: true, enforce: false, caPem: pki.caPem }, { actor: 'admin', peerChain: null })).ok).toBe(true);
      const peerChain = [pki.client, pki.intermediate].map((c) => c.der);
      const r = await controller.save({ enabled: true, enforce: true, confirmWithinSec: 30 }, { actor: 'admin', peerChain });
      expect(r).toMatchObject({ ok: true, settings: { mode: 'enforced', pendingConfirmation: { secondsLeft: 30 } } });
      t += 31_000;
      failWrites = true;
      expect(await controller.revertIfDue()).toBe(false);
      expect(await controller.revertIfDue()).toBe(false); // reported once per deadline
      expect(problems.filter((p) => p.code === 'CONFIRM_REVERT_FAILED')).toHaveLength(1);
      expect(problems[0]!.message).toContain('disk full');
      expect(controller.status()).toMatchObject({ ok: true, state: { mode: 'enforced' } });
      failWrites = false;
      expect(await controller.revertIfDue()).toBe(true);
      expect(controller.status()).toMatchObject({ ok: true, state: { mode: 'optional' } });
      const reverts = (await audit.recent()).filter((e) => e.action === 'revert').map((e) => `${e.outcome}:${e.code}`);
      expect(reverts).toEqual(['error:SETTINGS_UNAVAILABLE', 'applied:NOT_CONFIRMED']);
    } finally {
      controller.close();
    }
  });
});
