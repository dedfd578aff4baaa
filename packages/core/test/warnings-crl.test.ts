/**
 * CRL expiry warnings: crlExpiryWarnings / settingsWarnings at fixed instants (mode, revocation
 * setting, delta and superseded CRLs, thresholds), and Settings.warnings of a real controller with
 * real CRLs as its injected clock moves past nextUpdate — including that the CRL_EXPIRED message is
 * true: while enforced the admin's own certificate is then refused with REVOCATION_UNKNOWN, and a
 * fresh CRL is accepted by the lock-out check unless it revokes the admin.
 */
import 'reflect-metadata';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createController,
  createMemorySettingsStore,
  crlExpiryWarnings,
  settingsWarnings,
  DEFAULT_CRL_EXPIRY_WARNING_DAYS,
  type Controller,
  type CrlDates,
  type CrlExpiryWarning,
} from '@certgate/core';
import { createCa, type TestCa, type TestCertificate } from '@certgate/core/testing';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const NOW = new Date('2026-06-01T00:00:00.000Z');
const crl = (issuer: string, nextUpdate: string | null, delta = false): CrlDates => ({ issuer, fingerprint256: `FP:${issuer}:${nextUpdate}`, nextUpdate, delta });
const at = (ms: number) => new Date(NOW.getTime() + ms).toISOString();

describe('crlExpiryWarnings', () => {
  it('CRL_EXPIRES_SOON within 3 days by default, CRL_EXPIRED once nextUpdate has passed, soonest first; no nextUpdate or far away: nothing', () => {
    expect(DEFAULT_CRL_EXPIRY_WARNING_DAYS).toBe(3);
    const w = crlExpiryWarnings(
      [crl('CN=week', at(7 * DAY)), crl('CN=two', at(2 * DAY + HOUR)), crl('CN=never', null), crl('CN=gone', at(-HOUR)), crl('CN=edge', at(3 * DAY))],
      NOW,
    );
    expect(w.map((x) => [x.code, x.issuer, x.expiresInDays])).toEqual([
      ['CRL_EXPIRED', 'CN=gone', -1],
      ['CRL_EXPIRES_SOON', 'CN=two', 2],
      ['CRL_EXPIRES_SOON', 'CN=edge', 3],
    ]);
    expect(w[1]).toEqual({
      code: 'CRL_EXPIRES_SOON',
      issuer: 'CN=two',
      fingerprint256: `FP:CN=two:${at(2 * DAY + HOUR)}`,
      nextUpdate: at(2 * DAY + HOUR),
      expiresInDays: 2,
      message: expect.stringContaining('The CRL of "CN=two" is out of date in 2 days (nextUpdate 2026-06-03T01:00:00.000Z)'),
    });
    // Exactly at nextUpdate the CRL is still current (verifyChain and lintCrls use nextUpdate < now).
    expect(crlExpiryWarnings([crl('CN=now', NOW.toISOString())], NOW).map((x) => [x.code, x.expiresInDays])).toEqual([['CRL_EXPIRES_SOON', 0]]);
    expect(crlExpiryWarnings([crl('CN=now', NOW.toISOString())], NOW)[0]!.message).toContain('out of date within a day');
    expect(crlExpiryWarnings([crl('CN=one', at(DAY + HOUR))], NOW)[0]!.message).toContain('out of date in 1 day (');
  });

  it('CRL_EXPIRED while enforced: every client refused with REVOCATION_UNKNOWN; what to do (fresh CRL, lock-out check, relax)', () => {
    const [e] = crlExpiryWarnings([crl('CN=Admin CA', '2026-05-30T12:00:00.000Z')], NOW, { mode: 'enforced' });
    expect(e).toMatchObject({ code: 'CRL_EXPIRED', issuer: 'CN=Admin CA', nextUpdate: '2026-05-30T12:00:00.000Z', expiresInDays: -2 });
    expect(e!.message).toBe(
      'The CRL of "CN=Admin CA" expired on 2026-05-30: certgate cannot tell whether certificates issued by "CN=Admin CA" are revoked, ' +
        'so while enforced every client with one, yours included, is now refused with REVOCATION_UNKNOWN (break-glass gets an admin back in). ' +
        'Upload a fresh CRL from "CN=Admin CA" (the lock-out check refuses it only if it revokes your own certificate), or relax: switch to optional, or remove the CRLs (crlPem: null).',
    );
    // The default mode of the pure function is the strict one.
    expect(crlExpiryWarnings([crl('CN=Admin CA', '2026-05-30T12:00:00.000Z')], NOW)[0]!.message).toBe(e!.message);
    const [soon] = crlExpiryWarnings([crl('CN=Admin CA', at(2 * DAY + HOUR))], NOW, { mode: 'enforced' });
    expect(soon!.message).toContain('every client with a certificate issued by "CN=Admin CA", yours included, will be refused with REVOCATION_UNKNOWN');
  });

  it('optional and disabled: the message says what enforcing would do, not that clients are refused now', () => {
    for (const mode of ['optional', 'disabled'] as const) {
      const [e] = crlExpiryWarnings([crl('CN=Admin CA', at(-DAY))], NOW, { mode });
      expect(e!.code).toBe('CRL_EXPIRED');
      expect(e!.message).toContain('no longer validate (REVOCATION_UNKNOWN), so enforcing now would refuse every client with one, yours included');
      expect(e!.message).not.toContain('is now refused');
      const [s] = crlExpiryWarnings([crl('CN=Admin CA', at(DAY))], NOW, { mode });
      expect(s!.message).toContain('will no longer validate (REVOCATION_UNKNOWN) and enforcing would be refused');
    }
  });

  it("revocation 'soft' says certificates are accepted unchecked; 'off' gives no CRL warnings", () => {
    const crls = [crl('CN=A', at(-DAY)), crl('CN=B', at(DAY))];
    const soft = crlExpiryWarnings(crls, NOW, { revocation: 'soft', mode: 'enforced' });
    expect(soft.map((x) => x.code)).toEqual(['CRL_EXPIRED', 'CRL_EXPIRES_SOON']);
    expect(soft[0]!.message).toContain("accepted without a revocation check (revocation 'soft')");
    expect(soft[0]!.message).not.toContain('REVOCATION_UNKNOWN');
    expect(soft[1]!.message).toContain('will be accepted without a revocation check');
    expect(crlExpiryWarnings(crls, NOW, { revocation: 'off' })).toEqual([]);
    expect(crlExpiryWarnings(crls, NOW, { revocation: 'hard' }).map((x) => x.code)).toEqual(['CRL_EXPIRED', 'CRL_EXPIRES_SOON']);
  });

  it('a delta CRL and a CRL superseded by a current one of the same issuer get their own wording', () => {
    const w = crlExpiryWarnings([crl('CN=A', at(5 * DAY)), crl('CN=A', at(-HOUR), true), crl('CN=A', at(-2 * DAY)), crl('CN=B', at(HOUR), true)], NOW, { mode: 'enforced' });
    expect(w.map((x) => x.code)).toEqual(['CRL_EXPIRED', 'CRL_EXPIRED', 'CRL_EXPIRES_SOON']);
    expect(w[0]!.message).toMatch(/^A CRL of "CN=A" expired on 2026-05-30; another stored CRL of "CN=A" is still current/);
    expect(w[0]!.message).not.toContain('every client');
    expect(w[1]!.message).toMatch(/^The delta CRL of "CN=A" expired on 2026-05-31: revocations published since its base CRL are no longer seen/);
    expect(w[2]!.message).toMatch(/^The delta CRL of "CN=B" is out of date within a day .*revocations published since its base CRL will no longer be seen/);
    // A delta alone does not count as the "current CRL" of its issuer.
    const lone = crlExpiryWarnings([crl('CN=C', at(5 * DAY), true), crl('CN=C', at(-HOUR))], NOW, { mode: 'enforced' });
    expect(lone[0]!.message).toContain('is now refused with REVOCATION_UNKNOWN');
  });

  it('withinDays: 0 keeps only CRL_EXPIRED; a wider window (30) warns earlier; bad dates are skipped', () => {
    const crls = [crl('CN=A', at(10 * DAY)), crl('CN=B', at(DAY)), crl('CN=C', at(-DAY)), crl('CN=D', 'not a date')];
    expect(crlExpiryWarnings(crls, NOW, { withinDays: 0 }).map((x) => x.issuer)).toEqual(['CN=C']);
    expect(crlExpiryWarnings(crls, NOW, { withinDays: 30 }).map((x) => x.issuer)).toEqual(['CN=C', 'CN=B', 'CN=A']);
    expect(crlExpiryWarnings(crls, NOW).map((x) => x.issuer)).toEqual(['CN=C', 'CN=B']);
  });
});

describe('settingsWarnings', () => {
  it('merges CA and CRL warnings soonest first, each with its own shape; none without a CA', () => {
    const ca = {
      certificates: [{ subject: 'CN=CA', fingerprint256: 'FP:CA', notAfter: at(10 * DAY) }],
      crls: [crl('CN=CA', at(2 * DAY)), crl('CN=CA', at(-DAY))],
    };
    const w = settingsWarnings(ca, 'optional', NOW);
    expect(w.map((x) => x.code)).toEqual(['CRL_EXPIRED', 'CRL_EXPIRES_SOON', 'CA_EXPIRES_SOON']);
    expect(w[2]).toMatchObject({ subject: 'CN=CA', notAfter: at(10 * DAY), expiresInDays: 10 });
    expect(w[0]).toMatchObject({ issuer: 'CN=CA', nextUpdate: at(-DAY), expiresInDays: -1 });
    expect(Object.keys(w[0]!).sort()).toEqual(['code', 'expiresInDays', 'fingerprint256', 'issuer', 'message', 'nextUpdate']);
    expect(settingsWarnings(ca, 'optional', NOW, { expiryWarningDays: 5, crlExpiryWarningDays: 1 }).map((x) => x.code)).toEqual(['CRL_EXPIRED']);
    expect(settingsWarnings(null, 'enforced', NOW)).toEqual([]);
  });
});

describe('Settings.warnings of a controller with real CRLs', () => {
  let ca: TestCa;
  let admin: TestCertificate;
  const controllers: Controller[] = [];
  afterEach(() => {
    for (const c of controllers.splice(0)) c.close();
  });
  beforeAll(async () => {
    ca = await createCa({ subject: 'CN=CRL Warn CA' });
    admin = await ca.issue({ subject: 'CN=admin' });
  });

  it('CRL_EXPIRES_SOON two days ahead; past nextUpdate CRL_EXPIRED and the admin really is refused REVOCATION_UNKNOWN; break-glass, then a fresh CRL clears it', async () => {
    const t0 = Date.now();
    let t = t0;
    const c = await createController({ store: createMemorySettingsStore(), now: () => new Date(t), onProblem: () => {} });
    controllers.push(c);
    const me = { actor: 'admin', peerChain: [admin.der] };
    const first = await ca.createCrl({ thisUpdate: new Date(t0 - HOUR), nextUpdate: new Date(t0 + 2 * DAY + HOUR), crlNumber: 1 });
    const r = await c.save({ enabled: true, enforce: true, caPem: ca.pem, crlPem: first.pem }, me);
    expect(r.ok && !r.refusal && r.state.mode).toBe('enforced');
    const fp = r.ok ? r.settings.ca!.crls[0]!.fingerprint256 : '';
    expect(r.ok && r.settings.warnings).toEqual([
      { code: 'CRL_EXPIRES_SOON', issuer: 'CN=CRL Warn CA', fingerprint256: fp, nextUpdate: first.x509.nextUpdate!.toISOString(), expiresInDays: 2, message: expect.stringContaining('in 2 days') },
    ]);
    expect((await c.decide([admin.der])).action).toBe('allow');

    t = t0 + 3 * DAY;
    const s = c.status();
    expect(s.ok && s.settings.warnings.map((w) => [w.code, w.expiresInDays])).toEqual([['CRL_EXPIRED', -1]]);
    const expired = (s.ok ? s.settings.warnings[0] : undefined) as CrlExpiryWarning;
    expect(expired.message).toContain('while enforced every client with one, yours included, is now refused with REVOCATION_UNKNOWN');
    // What the warning says is what happens.
    const d = await c.decide([admin.der]);
    expect(d.action).toBe('deny');
    expect(d.denial?.reason).toBe('REVOCATION_UNKNOWN');

    const bg = await c.breakGlass('optional', 'operator');
    expect(bg.ok && bg.settings.warnings.map((w) => w.code)).toEqual(['CRL_EXPIRED']);
    expect(bg.ok && bg.settings.warnings[0]!.message).toContain('enforcing now would refuse every client with one');

    // The lock-out check refuses a fresh CRL that revokes the admin, and accepts one that does not.
    const revoking = await ca.createCrl({ thisUpdate: new Date(t - HOUR), nextUpdate: new Date(t + 7 * DAY), crlNumber: 2, revoked: [{ serialNumber: admin }] });
    const no = await c.save({ enabled: true, enforce: true, crlPem: revoking.pem }, me);
    expect(no.ok && no.refusal?.code).toBe('CLIENT_CERT_UNTRUSTED');
    const fresh = await ca.createCrl({ thisUpdate: new Date(t - HOUR), nextUpdate: new Date(t + 7 * DAY), crlNumber: 3 });
    const yes = await c.save({ enabled: true, enforce: true, crlPem: fresh.pem }, me);
    expect(yes.ok && !yes.refusal && yes.state.mode).toBe('enforced');
    expect(yes.ok && yes.settings.warnings).toEqual([]);
    expect((await c.decide([admin.der])).action).toBe('allow');
    t += 5 * DAY;
    const later = c.status();
    expect(later.ok && later.settings.warnings.map((w) => [w.code, w.expiresInDays])).toEqual([['CRL_EXPIRES_SOON', 1]]);
  });

  it('crlExpiryWarningDays is an option (0…3650), separate from expiryWarningDays; revocation off silences CRL warnings', async () => {
    const t0 = Date.now();
    const crl10 = await ca.createCrl({ thisUpdate: new Date(t0 - HOUR), nextUpdate: new Date(t0 + 10 * DAY + HOUR) });
    const wide = await createController({ store: createMemorySettingsStore(), crlExpiryWarningDays: 14, onProblem: () => {} });
    controllers.push(wide);
    const w = await wide.save({ enabled: true, enforce: false, caPem: ca.pem, crlPem: crl10.pem }, { actor: 'admin', peerChain: null });
    expect(w.ok && w.settings.warnings.map((x) => [x.code, x.expiresInDays])).toEqual([['CRL_EXPIRES_SOON', 10]]);

    const dflt = await createController({ store: createMemorySettingsStore(), expiryWarningDays: 3650, onProblem: () => {} });
    controllers.push(dflt);
    const d = await dflt.save({ enabled: true, enforce: false, caPem: ca.pem, crlPem: crl10.pem }, { actor: 'admin', peerChain: null });
    expect(d.ok && d.settings.warnings.map((x) => x.code)).toEqual(['CA_EXPIRES_SOON']); // the CA window does not widen the CRL one

    const off = await createController({ store: createMemorySettingsStore(), crlExpiryWarningDays: 14, verifyOptions: { revocation: 'off' }, onProblem: () => {} });
    controllers.push(off);
    const o = await off.save({ enabled: true, enforce: false, caPem: ca.pem, crlPem: crl10.pem }, { actor: 'admin', peerChain: null });
    expect(o.ok && o.settings.warnings).toEqual([]);

    for (const bad of [-1, 1.5, 3651, '3']) {
      await expect(createController({ store: createMemorySettingsStore(), crlExpiryWarningDays: bad as number })).rejects.toMatchObject({
        code: 'ERR_CERTGATE_INVALID_OPTION',
        message: 'createController: "crlExpiryWarningDays" must be an integer 0…3650 (days)',
      });
    }
  });
});
