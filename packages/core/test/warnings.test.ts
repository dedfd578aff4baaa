/**
 * Expiry warnings: caExpiryWarnings / expiresInDays at fixed instants, and Settings.warnings of the
 * controller (configurable threshold, recomputed as the injected clock moves).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { caExpiryWarnings, createController, createMemorySettingsStore, expiresInDays, settingsViewOf, INITIAL_STATE, type Controller } from '@certgate/core';
import { createCa, pemBundle, type TestCa } from '@certgate/core/testing';

const DAY = 86_400_000;
const NOW = new Date('2026-06-01T00:00:00.000Z');
const cert = (subject: string, notAfter: string) => ({ subject, fingerprint256: `FP:${subject}`, notAfter });

describe('expiresInDays', () => {
  it('whole days left, rounded down; negative once expired; null for a bad date', () => {
    expect(expiresInDays('2026-06-11T00:00:00.000Z', NOW)).toBe(10);
    expect(expiresInDays('2026-06-10T23:59:59.999Z', NOW)).toBe(9);
    expect(expiresInDays(new Date(NOW.getTime() + 1), NOW)).toBe(0);
    expect(expiresInDays(NOW, NOW)).toBe(0);
    expect(expiresInDays(new Date(NOW.getTime() - 1), NOW)).toBe(-1);
    expect(expiresInDays('2026-05-01T00:00:00.000Z', NOW)).toBe(-31);
    expect(expiresInDays('not a date', NOW)).toBeNull();
  });
});

describe('caExpiryWarnings', () => {
  it('CA_EXPIRES_SOON within the threshold, CA_EXPIRED once past notAfter, soonest first, nothing for the rest', () => {
    const w = caExpiryWarnings(
      [cert('CN=fine', '2027-01-01T00:00:00.000Z'), cert('CN=ten', '2026-06-11T00:00:00.000Z'), cert('CN=gone', '2026-05-31T12:00:00.000Z'), cert('CN=edge', '2026-07-01T00:00:00.000Z')],
      NOW,
      30,
    );
    expect(w.map((x) => [x.code, x.subject, x.expiresInDays])).toEqual([
      ['CA_EXPIRED', 'CN=gone', -1],
      ['CA_EXPIRES_SOON', 'CN=ten', 10],
      ['CA_EXPIRES_SOON', 'CN=edge', 30],
    ]);
    expect(w[0]!.message).toBe('The CA "CN=gone" expired on 2026-05-31: client certificates it issued no longer validate. Upload its successor.');
    expect(w[1]!.message).toContain('expires in 10 days (2026-06-11)');
    expect(w[1]).toMatchObject({ fingerprint256: 'FP:CN=ten', notAfter: '2026-06-11T00:00:00.000Z' });
  });

  it('a threshold of 0 keeps only CA_EXPIRED; "within a day" and "1 day" wording', () => {
    const certs = [cert('CN=a', '2026-06-01T05:00:00.000Z'), cert('CN=b', '2026-06-02T05:00:00.000Z'), cert('CN=c', '2026-05-01T00:00:00.000Z')];
    expect(caExpiryWarnings(certs, NOW, 0).map((x) => x.code)).toEqual(['CA_EXPIRED']);
    const w = caExpiryWarnings(certs, NOW, 30);
    expect(w.find((x) => x.subject === 'CN=a')!.message).toContain('expires within a day');
    expect(w.find((x) => x.subject === 'CN=b')!.message).toContain('expires in 1 day (');
  });
});

describe('Settings.warnings from the controller', () => {
  let longCa: TestCa;
  let soonCa: TestCa;
  const controllers: Controller[] = [];
  afterEach(() => {
    for (const c of controllers.splice(0)) c.close();
  });
  beforeAll(async () => {
    longCa = await createCa({ subject: 'CN=Long CA' });
    soonCa = await createCa({ subject: 'CN=Soon CA', notBefore: new Date(Date.now() - 100 * DAY), notAfter: new Date(Date.now() + 10 * DAY + 3_600_000) });
  });

  it('a CA expiring in 10 days warns; the warning follows the clock to CA_EXPIRED; the threshold is an option', async () => {
    let t = Date.now();
    const c = await createController({ store: createMemorySettingsStore(), now: () => new Date(t), onProblem: () => {} });
    controllers.push(c);
    const r = await c.save({ enabled: true, enforce: false, caPem: pemBundle(longCa, soonCa) }, { actor: 'admin', peerChain: null });
    expect(r.ok && r.settings.warnings).toEqual([expect.objectContaining({ code: 'CA_EXPIRES_SOON', subject: 'CN=Soon CA', expiresInDays: 10, fingerprint256: soonCa.fingerprint256 })]);
    t += 11 * DAY;
    const s = c.status();
    expect(s.ok && s.settings.warnings).toEqual([expect.objectContaining({ code: 'CA_EXPIRED', subject: 'CN=Soon CA', expiresInDays: -1 })]);

    const quiet = await createController({ store: createMemorySettingsStore(), expiryWarningDays: 5, onProblem: () => {} });
    controllers.push(quiet);
    const q = await quiet.save({ enabled: true, enforce: false, caPem: soonCa.pem }, { actor: 'admin', peerChain: null });
    expect(q.ok && q.settings.warnings).toEqual([]);
    await expect(createController({ store: createMemorySettingsStore(), expiryWarningDays: -1 })).rejects.toMatchObject({ code: 'ERR_CERTGATE_INVALID_OPTION' });
  });

  it('settingsViewOf without a CA has no warnings and no pending confirmation', () => {
    expect(settingsViewOf(INITIAL_STATE, NOW)).toMatchObject({ warnings: [], pendingConfirmation: null });
  });
});
