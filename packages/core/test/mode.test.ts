/**
 * The mode machine as a table: every (mode × change × requester verdict) → next state or refusal.
 * The verdicts here are inputs of a pure function (values of the VerifyResult union), not stand-ins
 * for validation; the controller and console tests run the same paths with real certificates.
 */
import { describe, expect, it } from 'vitest';
import {
  CLIENT_CERT_UNTRUSTED_MESSAGE,
  INITIAL_STATE,
  caKeyOf,
  clientCertMissingMessage,
  transition,
  type Mode,
  type MtlsState,
  type RequesterVerdict,
  type TransitionContext,
  type VerifyResult,
} from '@certgate/core';

const CA_A = '-----BEGIN CERTIFICATE-----\nQUFB\n-----END CERTIFICATE-----\n';
const CA_B = '-----BEGIN CERTIFICATE-----\nQkJC\n-----END CERTIFICATE-----\n';
const NOW = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
const APP = 'Test Console';

const passed = { ok: true } as unknown as VerifyResult; // only `ok` is read by the machine
const expired: VerifyResult = { ok: false, code: 'EXPIRED', message: 'expired', certIndex: 0 };

function state(mode: Mode, caPem: string | null = mode === 'disabled' ? null : CA_A, version = 3): MtlsState {
  return { ...INITIAL_STATE, host: {}, mode, caPem, version };
}
function ctx(extra: Partial<TransitionContext> = {}): TransitionContext {
  return { actor: 'admin', now: NOW, appName: APP, ...extra };
}
const verdict = (caPem: string, result: VerifyResult | null): RequesterVerdict => ({ caKey: caKeyOf(caPem), result });
const lintOk = { ok: true, problems: [] };

describe('transition: save', () => {
  it('enable from disabled with a CA → optional, version + 1, who and when recorded', () => {
    const r = transition(state('disabled'), { type: 'save', enabled: true, enforce: false, caPem: CA_A }, ctx({ caCheck: lintOk }));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.refusal).toBeUndefined();
    expect(r.next).toMatchObject({ mode: 'optional', caPem: CA_A, version: 4, updatedAt: NOW.toISOString(), updatedBy: 'admin' });
  });

  it('enable without a CA and none stored → CA_REQUIRED', () => {
    const r = transition(state('disabled'), { type: 'save', enabled: true, enforce: false }, ctx());
    expect(r).toMatchObject({ ok: false, refusal: { code: 'CA_REQUIRED' } });
  });

  it('enable without caPem reuses the stored CA', () => {
    const r = transition(state('disabled', CA_B), { type: 'save', enabled: true, enforce: false }, ctx());
    expect(r).toMatchObject({ ok: true, next: { mode: 'optional', caPem: CA_B } });
  });

  it('a CA that fails the lint → CA_INVALID with the problems, whatever the mode', () => {
    const problems = [{ code: 'PRIVATE_KEY', severity: 'error' as const, message: 'This is a private key, not a certificate.' }];
    for (const mode of ['disabled', 'optional', 'enforced'] as Mode[]) {
      const r = transition(state(mode), { type: 'save', enabled: true, enforce: false, caPem: 'x' }, ctx({ caCheck: { ok: false, problems } }));
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.refusal.code).toBe('CA_INVALID');
      expect(r.refusal.problems).toEqual(problems);
      expect(r.refusal.message).toContain('private key');
    }
  });

  it('a stale expectedVersion → VERSION_CONFLICT before anything else', () => {
    const r = transition(state('optional'), { type: 'save', enabled: false, enforce: false, expectedVersion: 2 }, ctx());
    expect(r).toMatchObject({ ok: false, refusal: { code: 'VERSION_CONFLICT' } });
    const same = transition(state('optional'), { type: 'save', enabled: false, enforce: false, expectedVersion: 3 }, ctx());
    expect(same).toMatchObject({ ok: true, next: { mode: 'disabled', version: 4 } });
  });

  it('enabled while unavailable → MTLS_UNAVAILABLE with the reason as message', () => {
    const s = { ...state('disabled', CA_A), unavailableReason: 'Login uses smartcards.' };
    const r = transition(s, { type: 'save', enabled: true, enforce: false }, ctx());
    expect(r).toEqual({ ok: false, refusal: { code: 'MTLS_UNAVAILABLE', message: 'Login uses smartcards.' } });
    // disabling stays possible
    expect(transition(s, { type: 'save', enabled: false, enforce: false }, ctx()).ok).toBe(true);
  });

  it('enforce from optional with a validating certificate → enforced', () => {
    const r = transition(state('optional'), { type: 'save', enabled: true, enforce: true }, ctx({ requester: verdict(CA_A, passed) }));
    expect(r).toMatchObject({ ok: true, next: { mode: 'enforced', caPem: CA_A, version: 4 } });
    if (r.ok) expect(r.refusal).toBeUndefined();
  });

  it('enforce without a certificate → stays optional, CLIENT_CERT_MISSING with the exact text (partial success)', () => {
    const r = transition(state('optional'), { type: 'save', enabled: true, enforce: true }, ctx({ requester: verdict(CA_A, null) }));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.next.mode).toBe('optional');
    expect(r.refusal).toEqual({
      code: 'CLIENT_CERT_MISSING',
      message: 'Client certificate not found in request. Please make sure your client uses a certificate to access Test Console.',
    });
    expect(clientCertMissingMessage(APP)).toBe(r.refusal!.message);
  });

  it('enforce with an untrusted certificate → stays optional, CLIENT_CERT_UNTRUSTED + reason', () => {
    const r = transition(state('optional'), { type: 'save', enabled: true, enforce: true }, ctx({ requester: verdict(CA_A, expired) }));
    expect(r.ok && r.refusal).toEqual({ code: 'CLIENT_CERT_UNTRUSTED', message: 'Current client certificate can not be validated by the uploaded CA.', reason: 'EXPIRED' });
    expect(CLIENT_CERT_UNTRUSTED_MESSAGE).toBe('Current client certificate can not be validated by the uploaded CA.');
  });

  it('enable + enforce in one save from disabled: enable applied, failed enforce reported', () => {
    const r = transition(state('disabled'), { type: 'save', enabled: true, enforce: true, caPem: CA_B }, ctx({ caCheck: lintOk, requester: verdict(CA_B, null) }));
    expect(r).toMatchObject({ ok: true, next: { mode: 'optional', caPem: CA_B }, refusal: { code: 'CLIENT_CERT_MISSING' } });
    const ok = transition(state('disabled'), { type: 'save', enabled: true, enforce: true, caPem: CA_B }, ctx({ caCheck: lintOk, requester: verdict(CA_B, passed) }));
    expect(ok).toMatchObject({ ok: true, next: { mode: 'enforced', caPem: CA_B } });
  });

  it('replacing the CA while enforced needs the certificate to validate against the NEW CA; else nothing changes', () => {
    const s = state('enforced', CA_A);
    const bad = transition(s, { type: 'save', enabled: true, enforce: true, caPem: CA_B }, ctx({ caCheck: lintOk, requester: verdict(CA_B, expired) }));
    expect(bad).toMatchObject({ ok: false, refusal: { code: 'CLIENT_CERT_UNTRUSTED', reason: 'EXPIRED' } });
    const missing = transition(s, { type: 'save', enabled: true, enforce: true, caPem: CA_B }, ctx({ caCheck: lintOk, requester: verdict(CA_B, null) }));
    expect(missing).toMatchObject({ ok: false, refusal: { code: 'CLIENT_CERT_MISSING' } });
    const good = transition(s, { type: 'save', enabled: true, enforce: true, caPem: CA_B }, ctx({ caCheck: lintOk, requester: verdict(CA_B, passed) }));
    expect(good).toMatchObject({ ok: true, next: { mode: 'enforced', caPem: CA_B } });
  });

  it('a verdict computed against another CA than the one that would be in force is refused (VERDICT_MISMATCH)', () => {
    // the new CA is B, but the verdict was computed against the stored CA A
    const r = transition(state('enforced', CA_A), { type: 'save', enabled: true, enforce: true, caPem: CA_B }, ctx({ caCheck: lintOk, requester: verdict(CA_A, passed) }));
    expect(r).toMatchObject({ ok: false, refusal: { code: 'VERDICT_MISMATCH' } });
    const none = transition(state('optional'), { type: 'save', enabled: true, enforce: true }, ctx());
    expect(none).toMatchObject({ ok: false, refusal: { code: 'VERDICT_MISMATCH' } });
  });

  it('relax (enforced → optional) and disable are always allowed, without a certificate', () => {
    const relax = transition(state('enforced'), { type: 'save', enabled: true, enforce: false }, ctx());
    expect(relax).toMatchObject({ ok: true, next: { mode: 'optional', caPem: CA_A } });
    for (const mode of ['optional', 'enforced'] as Mode[]) {
      const off = transition(state(mode), { type: 'save', enabled: false, enforce: true }, ctx());
      expect(off).toMatchObject({ ok: true, next: { mode: 'disabled', caPem: CA_A } }); // the CA is kept for later
    }
  });

  it('replacing the CA while optional needs no certificate', () => {
    const r = transition(state('optional', CA_A), { type: 'save', enabled: true, enforce: false, caPem: CA_B }, ctx({ caCheck: lintOk }));
    expect(r).toMatchObject({ ok: true, next: { mode: 'optional', caPem: CA_B } });
  });

  it('never mutates its input', () => {
    const s = state('optional');
    const copy = structuredClone(s);
    transition(s, { type: 'save', enabled: true, enforce: true }, ctx({ requester: verdict(CA_A, passed) }));
    expect(s).toEqual(copy);
  });
});

describe('transition: host availability and break-glass', () => {
  it('making mTLS unavailable is refused while it is enabled (MTLS_ENABLED), allowed when disabled', () => {
    for (const mode of ['optional', 'enforced'] as Mode[]) {
      const r = transition(state(mode), { type: 'host', unavailableReason: 'smartcard', host: { loginMethod: 'smartcard' } }, ctx());
      expect(r).toMatchObject({ ok: false, refusal: { code: 'MTLS_ENABLED' } });
    }
    const r = transition(state('disabled'), { type: 'host', unavailableReason: 'smartcard', host: { loginMethod: 'smartcard' } }, ctx());
    expect(r).toMatchObject({ ok: true, next: { unavailableReason: 'smartcard', host: { loginMethod: 'smartcard' }, version: 4 } });
    const back = transition(state('enforced'), { type: 'host', unavailableReason: null, host: { loginMethod: 'password' } }, ctx());
    expect(back).toMatchObject({ ok: true, next: { mode: 'enforced', unavailableReason: null } });
  });

  it('break-glass lowers enforced to the requested mode, never raises, and always bumps the version', () => {
    expect(transition(state('enforced'), { type: 'break-glass', mode: 'optional' }, ctx())).toMatchObject({ ok: true, next: { mode: 'optional', version: 4 } });
    expect(transition(state('enforced'), { type: 'break-glass', mode: 'disabled' }, ctx())).toMatchObject({ ok: true, next: { mode: 'disabled' } });
    expect(transition(state('optional'), { type: 'break-glass', mode: 'optional' }, ctx())).toMatchObject({ ok: true, next: { mode: 'optional', version: 4 } });
    expect(transition(state('disabled', CA_A), { type: 'break-glass', mode: 'optional' }, ctx())).toMatchObject({ ok: true, next: { mode: 'disabled' } });
  });
});
