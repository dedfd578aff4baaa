/**
 * CRLs in the settings (issue #3, settings part): `crlPem` beside `caPem` in a save, linted with
 * `lintCrls` against the CA that would be in force (400-shaped `CRL_INVALID` with problems), stored in
 * the state (validated, survives the file store), the trust store built with them, the view listing
 * each CRL, and CRL replacement while enforced lock-out-checked like a CA replacement. Real
 * certificates and CRLs generated here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  caKeyOf,
  changeResponse,
  createController,
  createFileSettingsStore,
  createMemoryAuditLog,
  createMemorySettingsStore,
  transition,
  validateState,
  INITIAL_STATE,
  type Controller,
  type SettingsStore,
} from '@certgate/core';
import { createCa, type TestCa, type TestCertificate, type TestCrl } from '@certgate/core/testing';
import { MAX_CRL_PEM } from '../src/settings/store.js';

const HOUR = 3600_000;
let ca: TestCa;
let otherCa: TestCa;
let admin: TestCertificate;
let user: TestCertificate;
let crlRevokingUser: TestCrl;
let crlRevokingAdmin: TestCrl;
let crlEmpty: TestCrl;
let crlOtherCa: TestCrl;
let crlExpired: TestCrl;
const dirs: string[] = [];
const controllers: Controller[] = [];
const as = (cert: TestCertificate | null) => ({ actor: 'admin', peerChain: cert ? [cert.der] : null });

beforeAll(async () => {
  ca = await createCa({ subject: 'CN=CRL Settings CA, O=certgate' });
  otherCa = await createCa({ subject: 'CN=CRL Other CA' });
  admin = await ca.issue({ subject: 'CN=admin' });
  user = await ca.issue({ subject: 'CN=user' });
  crlRevokingUser = await ca.createCrl({ revoked: [{ serialNumber: user, reason: 1 }], crlNumber: 2 });
  crlRevokingAdmin = await ca.createCrl({ revoked: [{ serialNumber: admin, reason: 3 }, { serialNumber: user }], crlNumber: 3 });
  crlEmpty = await ca.createCrl({ crlNumber: 1 });
  crlOtherCa = await otherCa.createCrl();
  crlExpired = await ca.createCrl({ thisUpdate: new Date(Date.now() - 10 * 24 * HOUR), nextUpdate: new Date(Date.now() - 3 * 24 * HOUR) });
});

afterAll(() => {
  for (const c of controllers) c.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function make(store: SettingsStore = createMemorySettingsStore()) {
  const audit = createMemoryAuditLog();
  const c = await createController({ store, audit, appName: 'CRL App', onProblem: () => {} });
  controllers.push(c);
  return { c, audit, store };
}

describe('crlPem in a save', () => {
  it('optional: upload CA + CRL; the view lists issuer, thisUpdate, nextUpdate, entry count; a revoked client is reported REVOKED', async () => {
    const { c, store } = await make();
    const r = await c.save({ enabled: true, enforce: false, caPem: ca.pem, crlPem: crlRevokingUser.pem }, as(null));
    expect(r).toMatchObject({ ok: true, state: { mode: 'optional', crlPem: crlRevokingUser.pem } });
    expect(r.ok && r.settings.ca?.crls).toEqual([
      {
        issuer: 'O=certgate,CN=CRL Settings CA',
        thisUpdate: crlRevokingUser.x509.thisUpdate.toISOString(),
        nextUpdate: crlRevokingUser.x509.nextUpdate!.toISOString(),
        entryCount: 1,
        crlNumber: '2',
        delta: false,
        fingerprint256: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/),
      },
    ]);
    expect((await store.get()).crlPem).toBe(crlRevokingUser.pem);
    const s = c.status();
    expect(s.ok && s.settings.ca?.crls.map((x) => x.entryCount)).toEqual([1]);
    expect(await c.decide([user.der])).toMatchObject({ action: 'allow-unverified', verdict: { ok: false, code: 'REVOKED' } });
    expect(await c.decide([admin.der])).toMatchObject({ action: 'allow' });
  });

  it('bad CRLs are refused with CRL_INVALID (400) and the lint problems; nothing changes', async () => {
    const { c, audit } = await make();
    expect((await c.save({ enabled: true, enforce: false, caPem: ca.pem }, as(null))).ok).toBe(true);
    const cases: [string, string][] = [
      ['garbage', 'CRL_EMPTY'],
      ['', 'CRL_EMPTY'],
      [crlOtherCa.pem, 'CRL_UNKNOWN_ISSUER'],
      [crlExpired.pem, 'CRL_EXPIRED'],
      ['-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n', 'CRL_PARSE_ERROR'],
    ];
    for (const [crlPem, code] of cases) {
      const r = await c.save({ enabled: true, enforce: false, crlPem }, as(null));
      expect(r.ok, code).toBe(false);
      if (r.ok) continue;
      expect(r.refusal.code).toBe('CRL_INVALID');
      expect(r.refusal.message).toMatch(/^The uploaded CRLs were refused: /);
      expect(r.refusal.problems?.map((p) => p.code)).toContain(code);
      const res = changeResponse(r);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body).error).toMatchObject({ code: 'CRL_INVALID', problems: expect.arrayContaining([expect.objectContaining({ code })]) });
    }
    const s = c.status();
    expect(s.ok && s.state.version).toBe(1);
    expect(s.ok && s.state.crlPem).toBeUndefined();
    expect((await audit.recent()).filter((e) => e.code === 'CRL_INVALID')).toHaveLength(cases.length);
  });

  it('a CRL text longer than the store keeps (MAX_CRL_PEM) is CRL_TOO_LARGE in a save and a preview, not a failed write (SETTINGS_UNAVAILABLE)', async () => {
    const { c, store } = await make();
    expect((await c.save({ enabled: true, enforce: false, caPem: ca.pem }, as(null))).ok).toBe(true);
    const big = crlEmpty.pem + ' '.repeat(MAX_CRL_PEM); // lints fine: text around the block is ignored
    const r = await c.save({ enabled: true, enforce: false, crlPem: big }, as(null));
    expect(r).toMatchObject({ ok: false, refusal: { code: 'CRL_INVALID', problems: [expect.objectContaining({ code: 'CRL_TOO_LARGE' })] } });
    if (!r.ok) expect(changeResponse(r).status).toBe(400);
    expect((await store.get()).version).toBe(1);
    expect(await c.preview({ crlPem: big })).toMatchObject({ ok: false, refusal: { code: 'CRL_INVALID' } });
  });

  it('CRLs without any CA → CA_REQUIRED', async () => {
    const { c } = await make();
    const r = await c.save({ enabled: false, enforce: false, crlPem: crlEmpty.pem }, as(null));
    expect(r).toMatchObject({ ok: false, refusal: { code: 'CA_REQUIRED' } });
  });

  it('enforced: replacing the CRLs is lock-out-checked — a CRL that revokes the requesting admin is refused (422 REVOKED), unchanged', async () => {
    const { c } = await make();
    expect((await c.save({ enabled: true, enforce: true, caPem: ca.pem, crlPem: crlEmpty.pem }, as(admin))).ok).toBe(true);
    const before = c.status();
    const r = await c.save({ enabled: true, enforce: true, crlPem: crlRevokingAdmin.pem }, as(admin));
    expect(r).toMatchObject({ ok: false, refusal: { code: 'CLIENT_CERT_UNTRUSTED', reason: 'REVOKED' } });
    if (!r.ok) {
      const res = changeResponse(r);
      expect(res.status).toBe(422);
      expect(JSON.parse(res.body).settings).toEqual(before.ok && JSON.parse(JSON.stringify(before.settings)));
    }
    expect(c.status()).toEqual(before);
    expect(await c.decide([admin.der])).toMatchObject({ action: 'allow' });
    // without a certificate the replacement is refused as well (nothing changes from enforced)
    expect(await c.save({ enabled: true, enforce: true, crlPem: crlRevokingUser.pem }, as(null))).toMatchObject({ ok: false, refusal: { code: 'CLIENT_CERT_MISSING' } });
    // a CRL that revokes someone else goes through; the revoked user is denied from then on
    const ok = await c.save({ enabled: true, enforce: true, crlPem: crlRevokingUser.pem }, as(admin));
    expect(ok).toMatchObject({ ok: true, state: { mode: 'enforced', crlPem: crlRevokingUser.pem } });
    expect(await c.decide([user.der])).toMatchObject({ action: 'deny', denial: { code: 'CLIENT_CERT_UNTRUSTED', reason: 'REVOKED' } });
    expect(await c.decide([admin.der])).toMatchObject({ action: 'allow' });
  });

  it('a new CA while CRLs are stored: the stored CRLs must fit it (CRL_INVALID with a hint), or be removed with crlPem: null', async () => {
    const { c } = await make();
    const otherAdmin = await otherCa.issue({ subject: 'CN=admin' });
    expect((await c.save({ enabled: true, enforce: false, caPem: ca.pem, crlPem: crlEmpty.pem }, as(null))).ok).toBe(true);
    const r = await c.save({ enabled: true, enforce: false, caPem: otherCa.pem }, as(null));
    expect(r).toMatchObject({ ok: false, refusal: { code: 'CRL_INVALID', message: expect.stringMatching(/^The stored CRLs do not fit the new CA: .*crlPem: null/) } });
    const both = await c.save({ enabled: true, enforce: true, caPem: otherCa.pem, crlPem: crlOtherCa.pem }, as(otherAdmin));
    expect(both).toMatchObject({ ok: true, state: { mode: 'enforced', caPem: otherCa.pem, crlPem: crlOtherCa.pem } });
    const removed = await c.save({ enabled: true, enforce: true, caPem: ca.pem, crlPem: null }, as(admin));
    expect(removed).toMatchObject({ ok: true, state: { mode: 'enforced', caPem: ca.pem } });
    expect(removed.ok && 'crlPem' in removed.state).toBe(false);
    expect(removed.ok && removed.settings.ca?.crls).toEqual([]);
  });

  it('the file store keeps the CRLs across a restart; disable keeps them for later', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'certgate-crl-'));
    dirs.push(dir);
    const first = await make(await createFileSettingsStore({ dir, pollIntervalMs: 0 }));
    expect((await first.c.save({ enabled: true, enforce: true, caPem: ca.pem, crlPem: crlRevokingUser.pem }, as(admin))).ok).toBe(true);
    expect((await first.c.save({ enabled: false, enforce: false }, as(admin))).ok).toBe(true);
    first.c.close();
    first.store.close?.();
    const second = await make(await createFileSettingsStore({ dir, pollIntervalMs: 0 }));
    const s = second.c.status();
    expect(s.ok && s.state).toMatchObject({ mode: 'disabled', crlPem: crlRevokingUser.pem });
    expect((await second.c.save({ enabled: true, enforce: false }, as(null))).ok).toBe(true);
    expect(await second.c.decide([user.der])).toMatchObject({ verdict: { code: 'REVOKED' } });
    second.store.close?.();
  });
});

describe('the machine and the state', () => {
  it('the requester verdict must be for the CA *and* CRLs that would be in force', () => {
    const state = { ...INITIAL_STATE, host: {}, version: 1, mode: 'enforced' as const, caPem: ca.pem };
    const ctx = { actor: 'a', now: new Date(), appName: 'x', crlCheck: { ok: true, problems: [] } };
    const okResult = { ok: true } as never;
    const stale = transition(state, { type: 'save', enabled: true, enforce: true, crlPem: crlEmpty.pem }, { ...ctx, requester: { caKey: caKeyOf(ca.pem), result: okResult } });
    expect(stale).toMatchObject({ ok: false, refusal: { code: 'VERDICT_MISMATCH' } });
    const fresh = transition(state, { type: 'save', enabled: true, enforce: true, crlPem: crlEmpty.pem }, { ...ctx, requester: { caKey: caKeyOf(ca.pem, crlEmpty.pem), result: okResult } });
    expect(fresh).toMatchObject({ ok: true, next: { mode: 'enforced', crlPem: crlEmpty.pem } });
    expect(caKeyOf(ca.pem, undefined)).toBe(caKeyOf(ca.pem));
    expect(caKeyOf(ca.pem, crlEmpty.pem)).not.toBe(caKeyOf(ca.pem, crlRevokingUser.pem));
    expect(() => transition(state, { type: 'save', enabled: true, enforce: false, crlPem: 'x' }, { actor: 'a', now: new Date(), appName: 'x' })).toThrow(/crlCheck/);
  });

  it('validateState: crlPem is absent or a non-empty string, and only with a CA', () => {
    const base = { ...INITIAL_STATE, host: {}, caPem: ca.pem };
    expect(validateState({ ...base, crlPem: crlEmpty.pem })).toMatchObject({ ok: true, state: { crlPem: crlEmpty.pem } });
    expect(validateState(base)).toMatchObject({ ok: true });
    expect(validateState({ ...base, crlPem: 42 })).toMatchObject({ ok: false, message: expect.stringMatching(/crlPem/) });
    expect(validateState({ ...base, crlPem: '' })).toMatchObject({ ok: false });
    expect(validateState({ ...base, crlPem: null })).toMatchObject({ ok: false });
    expect(validateState({ ...base, caPem: null, crlPem: crlEmpty.pem })).toMatchObject({ ok: false, message: '"crlPem" without a CA' });
  });
});
