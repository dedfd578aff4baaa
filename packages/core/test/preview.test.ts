/**
 * The enforcement preview: the recorder's bounds (distinct chains, bytes, window, oversized chains),
 * counts and ordering, reuse of recorded verdicts vs re-verification, and the controller's
 * preview() against the CA in force and against a CA that is not uploaded. Real certificates and
 * validation; the clock is injected.
 */
import { describe, expect, it, beforeAll, afterEach } from 'vitest';
import {
  createController,
  createEnforcementPreview,
  createMemorySettingsStore,
  describeLeaf,
  verifyChain,
  TrustStore,
  type Controller,
  type VerifyResult,
} from '@certgate/core';
import { createCa, issueExpired, type TestCa, type TestCertificate } from '@certgate/core/testing';

let ca: TestCa;
let other: TestCa;
let alice: TestCertificate;
let bob: TestCertificate;
let mallory: TestCertificate;
let expired: TestCertificate;
const many: TestCertificate[] = [];

beforeAll(async () => {
  ca = await createCa({ subject: 'CN=Preview CA' });
  other = await createCa({ subject: 'CN=Preview Other CA' });
  alice = await ca.issue({ subject: 'CN=alice' });
  bob = await ca.issue({ subject: 'CN=bob' });
  mallory = await other.issue({ subject: 'CN=mallory' });
  expired = await issueExpired(ca);
  for (let i = 0; i < 6; i++) many.push(await other.issue({ subject: `CN=many ${i}` }));
});

const controllers: Controller[] = [];
afterEach(() => {
  for (const c of controllers.splice(0)) c.close();
});

function clock(start = Date.now()) {
  let t = start;
  return { now: () => new Date(t), advance: (ms: number) => (t += ms) };
}

function verifier(caPem: string, trustKey: string | null = null) {
  const trust = TrustStore.fromPem(caPem);
  const calls: number[] = [];
  return {
    calls,
    v: {
      trustKey,
      async verify(chain: Uint8Array[]): Promise<VerifyResult> {
        calls.push(chain.length);
        return verifyChain(chain, trust);
      },
    },
  };
}

const rec = (p: ReturnType<typeof createEnforcementPreview>, cert: TestCertificate | null) => p.record(cert ? [cert.der] : null, cert ? describeLeaf(cert.der) : null);

describe('createEnforcementPreview', () => {
  it('counts distinct chains by verdict, connections without a certificate, and lists the locked-out first', async () => {
    const clk = clock();
    const p = createEnforcementPreview({ now: clk.now });
    for (const c of [alice, mallory, alice, expired, null, null, null, bob]) {
      rec(p, c);
      clk.advance(1000);
    }
    const { v } = verifier(ca.pem);
    const r = await p.report(v);
    expect(r).toMatchObject({ wouldPass: 2, noCertificate: 3, wouldFail: { UNKNOWN_ISSUER: 1, EXPIRED: 1 }, total: 7, evicted: 0, unrecorded: 0, windowSec: 86_400 });
    expect(r.clients.map((c) => c.fingerprint256)).toEqual([expired, mallory, bob, alice].map((x) => x.fingerprint256));
    const a = r.clients.find((c) => c.fingerprint256 === alice.fingerprint256)!;
    expect(a).toMatchObject({ count: 2, verdict: { ok: true }, subject: 'CN=alice', issuer: 'CN=Preview CA' });
    expect(Date.parse(a.lastSeen) - Date.parse(a.firstSeen)).toBe(2000);
    expect(a.expiresInDays).toBe(Math.floor((alice.notAfter.getTime() - clk.now().getTime()) / 86_400_000));
    expect(r.clients.find((c) => c.fingerprint256 === expired.fingerprint256)!.expiresInDays).toBeLessThan(0);
  });

  it('the same chains against another CA', async () => {
    const p = createEnforcementPreview();
    for (const c of [alice, bob, mallory]) rec(p, c);
    const r = await p.report(verifier(other.pem).v);
    expect(r).toMatchObject({ wouldPass: 1, wouldFail: { UNKNOWN_ISSUER: 2 } });
    expect(r.clients.find((c) => c.verdict.ok)!.fingerprint256).toBe(mallory.fingerprint256);
  });

  it('keeps at most maxClients chains, evicting the least recently seen, and says so', async () => {
    const clk = clock();
    const p = createEnforcementPreview({ now: clk.now, maxClients: 3 });
    for (const c of many.slice(0, 3)) {
      rec(p, c);
      clk.advance(10);
    }
    rec(p, many[0]!); // many 0 is now the most recent
    clk.advance(10);
    rec(p, many[3]!); // evicts many 1
    clk.advance(10);
    rec(p, many[4]!); // evicts many 2
    expect(p.size).toBe(3);
    const r = await p.report(verifier(other.pem).v);
    expect(r.clients.map((c) => c.subject).sort()).toEqual(['CN=many 0', 'CN=many 3', 'CN=many 4']);
    expect(r.evicted).toBe(2);
  });

  it('bounds the DER kept in all (maxTotalBytes) and drops chains over maxChainBytes', async () => {
    const p = createEnforcementPreview({ maxTotalBytes: 64 * 1024, maxChainBytes: 1024 });
    const big = new Uint8Array(2000);
    p.record([big], null);
    p.record([big], null);
    rec(p, alice);
    const r = await p.report(verifier(ca.pem).v);
    expect(r.unrecorded).toBe(2);
    expect(r.clients).toHaveLength(1);
    // 64 KiB of ~500-byte chains: never more than that kept
    const q = createEnforcementPreview({ maxTotalBytes: 64 * 1024 });
    const size = alice.der.byteLength;
    for (let i = 0; i < 400; i++) {
      const der = Uint8Array.from(alice.der);
      der[der.length - 1] = i & 0xff;
      der[der.length - 2] = i >> 8;
      q.record([der], null);
    }
    expect(q.size).toBeLessThanOrEqual(Math.floor((64 * 1024) / size));
    expect(q.size).toBeGreaterThan(Math.floor((64 * 1024) / size) - 2);
    const qr = await q.report(verifier(ca.pem).v);
    expect(qr.evicted).toBe(400 - q.size);
    expect(qr.wouldFail.BAD_SIGNATURE ?? 0).toBe(q.size); // the altered signatures fail, but are counted
  });

  it('forgets what is older than the window (chains exactly, no-certificate counts to 1/24 of the window)', async () => {
    const clk = clock(Date.UTC(2026, 5, 1)); // on a bucket boundary: 150 s buckets for a 1 h window
    const p = createEnforcementPreview({ now: clk.now, windowSec: 3600 });
    rec(p, alice);
    rec(p, null);
    clk.advance(30 * 60_000);
    rec(p, bob);
    rec(p, null);
    clk.advance(33 * 60_000); // the first no-certificate bucket (0…150 s) is now wholly outside the window
    const r = await p.report(verifier(ca.pem).v);
    expect(r.clients.map((c) => c.subject)).toEqual(['CN=bob']);
    expect(r.noCertificate).toBe(1);
    expect(Date.parse(r.since)).toBe(clk.now().getTime() - 3600_000);
    clk.advance(3600_000);
    expect(await p.report(verifier(ca.pem).v)).toMatchObject({ total: 0, clients: [], noCertificate: 0 });
    expect(p.size).toBe(0);
  });

  it('reuses a verdict recorded under the same trust store for a minute, re-verifies otherwise', async () => {
    const clk = clock();
    const p = createEnforcementPreview({ now: clk.now });
    const trust = TrustStore.fromPem(ca.pem);
    const result = await verifyChain([alice.der], trust);
    p.record([alice.der], describeLeaf(alice.der), { trustKey: 'g1', result });
    const same = verifier(ca.pem, 'g1');
    await p.report(same.v);
    expect(same.calls).toHaveLength(0);
    const otherStore = verifier(ca.pem, 'g2');
    expect((await p.report(otherStore.v)).wouldPass).toBe(1);
    expect(otherStore.calls).toHaveLength(1);
    clk.advance(61_000);
    const later = verifier(ca.pem, 'g2');
    await p.report(later.v);
    expect(later.calls).toHaveLength(1);
  });

  it('refuses bad options', () => {
    for (const o of [{ maxClients: 0 }, { windowSec: 10 }, { maxChainBytes: 1.5 }, { maxTotalBytes: -1 }]) {
      expect(() => createEnforcementPreview(o)).toThrow(expect.objectContaining({ code: 'ERR_CERTGATE_INVALID_OPTION' }));
    }
  });
});

describe('controller.preview()', () => {
  async function make(extra: Partial<Parameters<typeof createController>[0]> = {}) {
    const c = await createController({ store: createMemorySettingsStore(), appName: 'Preview', onProblem: () => {}, ...extra });
    controllers.push(c);
    return c;
  }

  it('records decisions made while optional only, and reports against the CA in force', async () => {
    const c = await make();
    expect(await c.preview()).toMatchObject({ ok: false, refusal: { code: 'CA_REQUIRED' } });
    await c.decide([mallory.der]); // disabled: not recorded
    await c.save({ enabled: true, enforce: false, caPem: ca.pem }, { actor: 'admin', peerChain: null });
    for (const x of [alice, mallory, bob, null]) await c.decide(x ? [x.der] : null);
    await c.save({ enabled: true, enforce: true }, { actor: 'admin', peerChain: [alice.der] });
    await c.decide([mallory.der]); // enforced: not recorded
    const r = await c.preview();
    expect(r).toMatchObject({ ok: true, preview: { wouldPass: 2, wouldFail: { UNKNOWN_ISSUER: 1 }, noCertificate: 1, total: 4 } });
    expect(r.ok && r.preview.clients.find((x) => x.subject === 'CN=mallory')!.count).toBe(1);
  });

  it('against an uploaded CA: linted first (CA_INVALID with problems), nothing stored', async () => {
    const c = await make();
    await c.save({ enabled: true, enforce: false, caPem: ca.pem }, { actor: 'admin', peerChain: null });
    for (const x of [alice, mallory]) await c.decide([x.der]);
    const r = await c.preview({ caPem: other.pem });
    expect(r).toMatchObject({ ok: true, preview: { wouldPass: 1, wouldFail: { UNKNOWN_ISSUER: 1 } } });
    for (const bad of [alice.pem, 'garbage', '']) {
      const x = await c.preview({ caPem: bad });
      expect(x).toMatchObject({ ok: false, refusal: { code: 'CA_INVALID', problems: expect.any(Array) } });
    }
    expect(c.status()).toMatchObject({ ok: true, state: { caPem: ca.pem } });
  });

  it('with CRLs: those sent (null: none), else the stored ones, linted against the CA exactly as a save would', async () => {
    const c = await make();
    const hour = 3_600_000;
    const revokingBob = (await ca.createCrl({ thisUpdate: new Date(Date.now() - hour), revoked: [{ serialNumber: bob }] })).pem;
    await c.save({ enabled: true, enforce: false, caPem: ca.pem }, { actor: 'admin', peerChain: null });
    for (const x of [alice, bob]) await c.decide([x.der]);
    expect(await c.preview()).toMatchObject({ ok: true, preview: { wouldPass: 2 } });
    // A CRL in the upload box: bob would be locked out, nothing stored.
    expect(await c.preview({ crlPem: revokingBob })).toMatchObject({ ok: true, preview: { wouldPass: 1, wouldFail: { REVOKED: 1 } } });
    expect(c.status()).toMatchObject({ ok: true, state: { caPem: ca.pem } });
    expect(c.status().ok && c.status()).not.toHaveProperty('state.crlPem');
    // Stored CRLs count for a preview of the same CA, and a new CA the stored CRLs do not fit is refused as the save would be.
    await c.save({ enabled: true, enforce: false, crlPem: revokingBob }, { actor: 'admin', peerChain: null });
    expect(await c.preview({ caPem: ca.pem })).toMatchObject({ ok: true, preview: { wouldPass: 1, wouldFail: { REVOKED: 1 } } });
    expect(await c.preview({ caPem: ca.pem, crlPem: null })).toMatchObject({ ok: true, preview: { wouldPass: 2 } });
    expect(await c.preview({ caPem: other.pem })).toMatchObject({ ok: false, refusal: { code: 'CRL_INVALID', message: expect.stringMatching(/stored CRLs do not fit/), problems: [expect.objectContaining({ code: 'CRL_UNKNOWN_ISSUER' })] } });
    expect(await c.preview({ crlPem: 'garbage' })).toMatchObject({ ok: false, refusal: { code: 'CRL_INVALID', problems: expect.any(Array) } });
  });

  it('preview: false turns recording off', async () => {
    const c = await make({ preview: false });
    await c.save({ enabled: true, enforce: false, caPem: ca.pem }, { actor: 'admin', peerChain: null });
    await c.decide([alice.der]);
    expect(await c.preview()).toMatchObject({ ok: false, refusal: { code: 'PREVIEW_DISABLED' } });
  });
});
