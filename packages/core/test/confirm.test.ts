/**
 * The confirm window ("commit confirmed"): the pure transitions, the state validation of
 * `pendingConfirmation`, and the controller's revert (by its timer, at start, and by two controllers
 * sharing one file store, where compare-and-set lets exactly one revert win). Real certificates,
 * real validation; the controllers' clock is injected and moved forward.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CONFIRM_REVERT_ACTOR,
  CONFIRM_WINDOW_LIMITS,
  INITIAL_STATE,
  caKeyOf,
  createController,
  createFileAuditLog,
  createFileSettingsStore,
  createMemoryAuditLog,
  createMemorySettingsStore,
  transition,
  validateState,
  verifyChain,
  TrustStore,
  type Controller,
  type MtlsState,
  type SettingsStore,
} from '@certgate/core';
import { createCa, type TestCa, type TestCertificate } from '@certgate/core/testing';

let ca: TestCa;
let other: TestCa;
let admin: TestCertificate;
let intruder: TestCertificate;
const T0 = new Date('2026-06-01T12:00:00.000Z');

beforeAll(async () => {
  ca = await createCa({ subject: 'CN=Confirm CA' });
  other = await createCa({ subject: 'CN=Confirm Other CA' });
  admin = await ca.issue({ subject: 'CN=admin' });
  intruder = await other.issue({ subject: 'CN=intruder' });
});

const dirs: string[] = [];
const controllers: Controller[] = [];
afterEach(() => {
  for (const c of controllers.splice(0)) c.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function clock(start = Date.now()) {
  let t = start;
  return { now: () => new Date(t), advance: (ms: number) => (t += ms) };
}

async function make(store: SettingsStore, now: () => Date, audit = createMemoryAuditLog()) {
  const c = await createController({ store, audit, appName: 'Confirm', now, confirmCheckIntervalMs: 10, onProblem: () => {} });
  controllers.push(c);
  return { c, audit };
}

const as = (cert: TestCertificate | null) => ({ actor: 'admin', peerChain: cert ? [cert.der] : null });

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('mode machine: the confirm window', () => {
  const optional = (): MtlsState => ({ ...INITIAL_STATE, host: {}, version: 3, mode: 'optional', caPem: ca.pem });
  async function verdictFor(cert: TestCertificate | null, caPem = ca.pem) {
    return { caKey: caKeyOf(caPem), result: cert ? await verifyChain([cert.der], TrustStore.fromPem(caPem), { time: new Date() }) : null };
  }
  const ctx = (extra: object = {}) => ({ actor: 'admin', now: T0, appName: 'Confirm', ...extra });

  it('enforce with confirmWithinSec sets pendingConfirmation.deadline = now + seconds', async () => {
    const r = transition(optional(), { type: 'save', enabled: true, enforce: true, confirmWithinSec: 90 }, ctx({ requester: await verdictFor(admin) }));
    expect(r).toMatchObject({ ok: true, next: { mode: 'enforced', version: 4, pendingConfirmation: { deadline: '2026-06-01T12:01:30.000Z' } } });
    expect(r.ok && r.refusal).toBeFalsy();
  });

  it('a failed enforce with a window applies optional without a window (partial, as without one)', async () => {
    const r = transition(optional(), { type: 'save', enabled: true, enforce: true, confirmWithinSec: 90 }, ctx({ requester: await verdictFor(intruder) }));
    expect(r).toMatchObject({ ok: true, next: { mode: 'optional' }, refusal: { code: 'CLIENT_CERT_UNTRUSTED', reason: 'UNKNOWN_ISSUER' } });
    expect(r.ok && 'pendingConfirmation' in r.next).toBe(false);
  });

  it('confirmWithinSec outside 30…3600 is a programming error (TypeError)', async () => {
    const v = await verdictFor(admin);
    for (const s of [CONFIRM_WINDOW_LIMITS.minSec - 1, CONFIRM_WINDOW_LIMITS.maxSec + 1, 1.5, Number.NaN]) {
      expect(() => transition(optional(), { type: 'save', enabled: true, enforce: true, confirmWithinSec: s }, ctx({ requester: v }))).toThrow(TypeError);
    }
  });

  it('confirm: only while pending, before the deadline, with a certificate valid against the CA in force', async () => {
    const pending: MtlsState = { ...optional(), mode: 'enforced', pendingConfirmation: { deadline: '2026-06-01T12:05:00.000Z' } };
    const ok = transition(pending, { type: 'confirm' }, ctx({ requester: await verdictFor(admin) }));
    expect(ok).toMatchObject({ ok: true, next: { mode: 'enforced', version: 4, updatedBy: 'admin' } });
    expect(ok.ok && 'pendingConfirmation' in ok.next).toBe(false);
    expect(transition(pending, { type: 'confirm' }, ctx({ requester: await verdictFor(null) }))).toMatchObject({ ok: false, refusal: { code: 'CLIENT_CERT_MISSING' } });
    expect(transition(pending, { type: 'confirm' }, ctx({ requester: await verdictFor(intruder) }))).toMatchObject({ ok: false, refusal: { code: 'CLIENT_CERT_UNTRUSTED', reason: 'UNKNOWN_ISSUER' } });
    // a verdict against another CA is never accepted
    expect(transition(pending, { type: 'confirm' }, ctx({ requester: await verdictFor(intruder, other.pem) }))).toMatchObject({ ok: false, refusal: { code: 'VERDICT_MISMATCH' } });
    expect(transition(pending, { type: 'confirm' }, ctx())).toMatchObject({ ok: false, refusal: { code: 'VERDICT_MISMATCH' } });
    expect(transition(pending, { type: 'confirm', expectedVersion: 2 }, ctx({ requester: await verdictFor(admin) }))).toMatchObject({ ok: false, refusal: { code: 'VERSION_CONFLICT' } });
    const late = ctx({ now: new Date('2026-06-01T12:05:00.000Z'), requester: await verdictFor(admin) });
    expect(transition(pending, { type: 'confirm' }, late)).toMatchObject({ ok: false, refusal: { code: 'CONFIRMATION_EXPIRED' } });
    expect(transition(optional(), { type: 'confirm' }, ctx({ requester: await verdictFor(admin) }))).toMatchObject({ ok: false, refusal: { code: 'NO_PENDING_CONFIRMATION' } });
  });

  it('revert-unconfirmed: only at or after the deadline; lands on optional without a window', () => {
    const pending: MtlsState = { ...optional(), mode: 'enforced', pendingConfirmation: { deadline: '2026-06-01T12:05:00.000Z' } };
    expect(transition(pending, { type: 'revert-unconfirmed' }, ctx())).toMatchObject({ ok: false, refusal: { code: 'CONFIRMATION_NOT_DUE' } });
    const r = transition(pending, { type: 'revert-unconfirmed' }, ctx({ now: new Date('2026-06-01T12:05:00.000Z') }));
    expect(r).toMatchObject({ ok: true, next: { mode: 'optional', caPem: ca.pem, version: 4 } });
    expect(r.ok && 'pendingConfirmation' in r.next).toBe(false);
    expect(transition(optional(), { type: 'revert-unconfirmed' }, ctx({ now: new Date('2030-01-01') }))).toMatchObject({ ok: false, refusal: { code: 'NO_PENDING_CONFIRMATION' } });
  });

  it('any save or break-glass ends the window; a host change keeps it', async () => {
    const pending: MtlsState = { ...optional(), mode: 'enforced', pendingConfirmation: { deadline: '2026-06-01T12:05:00.000Z' } };
    const relax = transition(pending, { type: 'save', enabled: true, enforce: false }, ctx());
    const enforceAgain = transition(pending, { type: 'save', enabled: true, enforce: true }, ctx({ requester: await verdictFor(admin) }));
    const glass = transition(pending, { type: 'break-glass', mode: 'optional' }, ctx());
    for (const r of [relax, enforceAgain, glass]) expect(r.ok && 'pendingConfirmation' in r.next).toBe(false);
    const host = transition(pending, { type: 'host', unavailableReason: null, host: { loginMethod: 'password' } }, ctx());
    expect(host).toMatchObject({ ok: true, next: { mode: 'enforced', pendingConfirmation: { deadline: '2026-06-01T12:05:00.000Z' } } });
  });

  it('validateState: pendingConfirmation only as { deadline: ISO } and only while enforced', () => {
    const base = { ...optional(), mode: 'enforced' as const };
    expect(validateState({ ...base, pendingConfirmation: { deadline: '2026-06-01T12:05:00.000Z' } })).toMatchObject({ ok: true, state: { pendingConfirmation: { deadline: '2026-06-01T12:05:00.000Z' } } });
    expect(validateState(base)).toMatchObject({ ok: true });
    expect('pendingConfirmation' in (validateState(base) as { state: object }).state).toBe(false);
    for (const p of [null, 'soon', { deadline: 'tomorrow' }, { deadline: 5 }, { deadline: '2026-06-01T12:05:00.000Z', by: 'x' }, []]) {
      expect(validateState({ ...base, pendingConfirmation: p }).ok, JSON.stringify(p)).toBe(false);
    }
    expect(validateState({ ...optional(), pendingConfirmation: { deadline: '2026-06-01T12:05:00.000Z' } })).toMatchObject({ ok: false, message: expect.stringContaining('outside mode "enforced"') });
  });
});

describe('controller: the confirm window', () => {
  async function enforcedWithWindow(c: Controller, sec = 60) {
    expect((await c.save({ enabled: true, enforce: false, caPem: ca.pem }, as(null))).ok).toBe(true);
    const r = await c.save({ enabled: true, enforce: true, confirmWithinSec: sec }, as(admin));
    expect(r).toMatchObject({ ok: true, settings: { mode: 'enforced', pendingConfirmation: { secondsLeft: sec } } });
    return r;
  }

  it('reverts by itself once the deadline passes (by the injected clock), audited', async () => {
    const clk = clock();
    const { c, audit } = await make(createMemorySettingsStore(), clk.now);
    const r = await enforcedWithWindow(c);
    const version = r.ok ? r.state.version : -1;
    clk.advance(59_000);
    await new Promise((res) => setTimeout(res, 50));
    expect(c.status()).toMatchObject({ ok: true, state: { mode: 'enforced' }, settings: { pendingConfirmation: { secondsLeft: 1 } } });
    expect((await c.decide(null)).action).toBe('deny');
    clk.advance(1000);
    await until(() => c.status().ok && (c.status() as { state: MtlsState }).state.mode === 'optional', 'revert');
    expect(c.status()).toMatchObject({ ok: true, state: { mode: 'optional', version: version + 1, updatedBy: CONFIRM_REVERT_ACTOR }, settings: { pendingConfirmation: null } });
    expect((await c.decide(null)).action).toBe('allow-unverified');
    const events = await audit.recent();
    expect(events.filter((e) => e.action === 'revert')).toEqual([
      expect.objectContaining({ actor: CONFIRM_REVERT_ACTOR, outcome: 'applied', code: 'NOT_CONFIRMED', from: { mode: 'enforced', version }, to: { mode: 'optional', version: version + 1 } }),
    ]);
    expect(await c.revertIfDue()).toBe(false); // nothing left to revert
  });

  it('a confirm by a validating requester keeps enforced; others are refused and audited', async () => {
    const clk = clock();
    const { c, audit } = await make(createMemorySettingsStore(), clk.now);
    const r = await enforcedWithWindow(c);
    const v = r.ok ? r.state.version : -1;
    expect(await c.confirm(as(null))).toMatchObject({ ok: false, refusal: { code: 'CLIENT_CERT_MISSING' } });
    expect(await c.confirm(as(intruder))).toMatchObject({ ok: false, refusal: { code: 'CLIENT_CERT_UNTRUSTED', reason: 'UNKNOWN_ISSUER' } });
    expect(await c.confirm(as(admin), { version: v - 1 })).toMatchObject({ ok: false, refusal: { code: 'VERSION_CONFLICT' } });
    const ok = await c.confirm(as(admin), { version: v });
    expect(ok).toMatchObject({ ok: true, state: { mode: 'enforced', version: v + 1 }, settings: { pendingConfirmation: null } });
    clk.advance(3_600_000);
    await new Promise((res) => setTimeout(res, 60));
    expect(c.status()).toMatchObject({ ok: true, state: { mode: 'enforced', version: v + 1 } });
    expect(await c.confirm(as(admin))).toMatchObject({ ok: false, refusal: { code: 'NO_PENDING_CONFIRMATION' } });
    const confirms = (await audit.recent()).filter((e) => e.action === 'confirm').map((e) => `${e.outcome}:${e.code ?? ''}`);
    expect(confirms).toEqual(['refused:CLIENT_CERT_MISSING', 'refused:CLIENT_CERT_UNTRUSTED', 'refused:VERSION_CONFLICT', 'applied:', 'refused:NO_PENDING_CONFIRMATION']);
    expect((await audit.recent()).some((e) => e.action === 'revert')).toBe(false);
  });

  it('a confirm after the deadline is refused CONFIRMATION_EXPIRED and the revert still happens', async () => {
    const clk = clock();
    const { c } = await make(createMemorySettingsStore(), clk.now);
    c.close(); // no timer: the revert below is the explicit one
    await enforcedWithWindow(c, 30);
    clk.advance(30_000);
    expect(await c.confirm(as(admin))).toMatchObject({ ok: false, refusal: { code: 'CONFIRMATION_EXPIRED' } });
    expect(await c.revertIfDue()).toBe(true);
    expect(c.status()).toMatchObject({ ok: true, state: { mode: 'optional' } });
  });

  it('save() refuses a bad confirmWithinSec as an invalid option', async () => {
    const { c } = await make(createMemorySettingsStore(), () => new Date());
    await c.save({ enabled: true, enforce: false, caPem: ca.pem }, as(null));
    await expect(c.save({ enabled: true, enforce: true, confirmWithinSec: 10 }, as(admin))).rejects.toMatchObject({ code: 'ERR_CERTGATE_INVALID_OPTION' });
    await expect(c.save({ enabled: true, enforce: false, confirmWithinSec: 60 }, as(admin))).rejects.toMatchObject({ code: 'ERR_CERTGATE_INVALID_OPTION' });
  });

  it('the deadline survives a restart; a controller started past it reverts before it returns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'certgate-confirm-'));
    dirs.push(dir);
    const clk = clock();
    const audit = createFileAuditLog({ path: join(dir, 'audit.jsonl') });
    const store1 = await createFileSettingsStore({ dir, pollIntervalMs: 0 });
    const first = await make(store1, clk.now, audit as never);
    const r = await enforcedWithWindow(first.c, 120);
    const deadline = r.ok ? r.state.pendingConfirmation?.deadline : undefined;
    expect(deadline).toBe(new Date(clk.now().getTime() + 120_000).toISOString());
    first.c.close();
    store1.close?.();
    // Restart before the deadline: still pending.
    const store2 = await createFileSettingsStore({ dir, pollIntervalMs: 0 });
    const second = await make(store2, clk.now, audit as never);
    expect(second.c.status()).toMatchObject({ ok: true, state: { mode: 'enforced', pendingConfirmation: { deadline } } });
    second.c.close();
    store2.close?.();
    // Restart after it: reverted before createController resolves.
    clk.advance(121_000);
    const store3 = await createFileSettingsStore({ dir, pollIntervalMs: 0 });
    const third = await make(store3, clk.now, audit as never);
    expect(third.c.status()).toMatchObject({ ok: true, state: { mode: 'optional' }, settings: { pendingConfirmation: null } });
    expect((await third.c.decide(null)).action).toBe('allow-unverified');
    const reverts = (await audit.recent()).filter((e) => e.action === 'revert');
    expect(reverts).toHaveLength(1);
    store3.close?.();
  });

  it('two controllers on one file store: both try to revert, exactly one write wins, one audit event', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'certgate-confirm-'));
    dirs.push(dir);
    const clk = clock();
    const audit = createMemoryAuditLog();
    const storeA = await createFileSettingsStore({ dir, pollIntervalMs: 0 });
    const storeB = await createFileSettingsStore({ dir, pollIntervalMs: 0 });
    const a = await make(storeA, clk.now, audit);
    const b = await make(storeB, clk.now, audit);
    a.c.close(); // timers off: the two reverts below race explicitly
    b.c.close();
    const r = await enforcedWithWindow(a.c, 30);
    const v = r.ok ? r.state.version : -1;
    await b.c.refresh();
    expect(b.c.status()).toMatchObject({ ok: true, state: { mode: 'enforced', pendingConfirmation: { deadline: expect.any(String) } } });
    clk.advance(31_000);
    const results = await Promise.all([a.c.revertIfDue(), b.c.revertIfDue(), a.c.revertIfDue(), b.c.revertIfDue()]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const state = await storeA.get();
    expect(state).toMatchObject({ mode: 'optional', version: v + 1 });
    expect('pendingConfirmation' in state).toBe(false);
    expect((await audit.recent()).filter((e) => e.action === 'revert')).toHaveLength(1);
    expect((await audit.recent()).filter((e) => e.outcome !== 'applied')).toEqual([]);
    storeA.close?.();
    storeB.close?.();
  });
});
