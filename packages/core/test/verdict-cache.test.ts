/**
 * createVerdictCache on generated chains with an injected clock: hits and misses, what is never
 * cached, generation invalidation, the LRU bound, expiry at the first validity boundary (leaf and
 * intermediate notAfter, a future notBefore, the clock tolerance), ttl, concurrent calls, and that
 * cached results cannot be altered through the caller's buffers or objects.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CertgateError, TrustStore, createVerdictCache, verifyChain, type VerifyResult } from '@certgate/core';
import { createCa, type TestCa, type TestCertificate } from '@certgate/core/testing';

const HOUR = 3600_000;
const T0 = Date.UTC(2030, 0, 1);
const NB = new Date(T0 - 365 * 24 * HOUR);
const NA = new Date(T0 + 365 * 24 * HOUR);
const validity = { notBefore: NB, notAfter: NA };

let root: TestCa;
let inter: TestCa;
let leaf: TestCertificate;
let store: TrustStore;

function clock(start = T0): { now: () => number; set(t: number): void } {
  let t = start;
  return { now: () => t, set: (v) => void (t = v) };
}

function okOrFail(r: VerifyResult): string {
  return r.ok ? 'ok' : `${r.code}: ${r.message}`;
}

beforeAll(async () => {
  root = await createCa({ subject: 'CN=Cache Root, O=certgate', ...validity });
  inter = await root.issueIntermediate({ subject: 'CN=Cache Intermediate, O=certgate', ...validity });
  leaf = await inter.issue({ subject: 'CN=cache client', ...validity });
  store = TrustStore.fromPem(root.pem);
});

describe('createVerdictCache: hits and misses', () => {
  it('answers a repeat of the same chain from the cache, with the same verdict verifyChain gives', async () => {
    const c = clock();
    const cache = createVerdictCache({ now: c.now });
    const chain = [leaf.der, inter.der];
    const first = await cache.verify(chain, store);
    expect(okOrFail(first)).toBe('ok');
    expect(cache.misses).toBe(1);
    expect(cache.hits).toBe(0);
    expect(cache.size).toBe(1);
    const second = await cache.verify([new Uint8Array(leaf.der), new Uint8Array(inter.der)], store);
    expect(second).toBe(first);
    expect(cache.hits).toBe(1);
    expect(cache.misses).toBe(1);
    const direct = await verifyChain(chain, store, { time: new Date(T0) });
    expect(direct.ok && first.ok && first.identity.fingerprint256).toBe(direct.ok && direct.identity.fingerprint256);
    expect(first.ok && first.chain.map((s) => s.fingerprint256)).toEqual(direct.ok && direct.chain.map((s) => s.fingerprint256));
  });

  it('keys PEM and DER input, element order and option sets apart', async () => {
    const cache = createVerdictCache({ now: clock().now });
    await cache.verify([leaf.der, inter.der], store);
    await cache.verify([leaf.pem, inter.pem], store);
    await cache.verify([leaf.der, inter.der], store, { requiredEku: null });
    await cache.verify([leaf.der, inter.der], store, { requiredEku: 'clientAuth' });
    await cache.verify([leaf.der, inter.der], store, { requiredKeyUsage: [] });
    expect(cache.misses).toBe(5);
    expect(cache.hits).toBe(0);
    await cache.verify([leaf.pem, inter.pem], store);
    await cache.verify([leaf.der, inter.der], store, { requiredEku: null });
    await cache.verify([leaf.der, inter.der], store, { requiredEku: undefined });
    expect(cache.hits).toBe(3);
    expect(cache.size).toBe(5);
  });

  it('never returns a verdict made under another option set', async () => {
    const serverLeaf = await inter.issueServer({ ...validity });
    const cache = createVerdictCache({ now: clock().now });
    const asServer = await cache.verify([serverLeaf.der, inter.der], store, { requiredEku: 'serverAuth' });
    expect(okOrFail(asServer)).toBe('ok');
    const asClient = await cache.verify([serverLeaf.der, inter.der], store);
    expect(asClient.ok).toBe(false);
    expect(!asClient.ok && asClient.code).toBe('EKU_MISMATCH');
    const again = await cache.verify([serverLeaf.der, inter.der], store, { requiredEku: 'serverAuth' });
    expect(again).toBe(asServer);
  });

  it('does not cache a fixed time, bad options, or a malformed chain, and still answers as verifyChain does', async () => {
    const cache = createVerdictCache({ now: clock().now });
    const past = await cache.verify([leaf.der, inter.der], store, { time: new Date(NB.getTime() - HOUR) });
    expect(!past.ok && past.code).toBe('NOT_YET_VALID');
    await expect(cache.verify([leaf.der, inter.der], store, { requiredEku: 42 as unknown as string })).rejects.toMatchObject({ code: 'ERR_CERTGATE_INVALID_OPTION' });
    await expect(cache.verify([leaf.der, inter.der], store, { bogus: true } as never)).rejects.toMatchObject({ code: 'ERR_CERTGATE_INVALID_OPTION' });
    // A function where a string belongs is refused, not taken for the default key.
    await cache.verify([leaf.der, inter.der], store);
    await expect(cache.verify([leaf.der, inter.der], store, { requiredEku: (() => 'clientAuth') as unknown as string })).rejects.toBeInstanceOf(CertgateError);
    const m = await cache.verify([42 as unknown as Uint8Array], store);
    expect(!m.ok && m.code).toBe('MALFORMED');
    const empty = await cache.verify([], store);
    expect(!empty.ok && empty.code).toBe('MALFORMED');
    expect(cache.size).toBe(1);
    expect(cache.bypasses).toBe(6);
    expect(cache.misses).toBe(1);
  });

  it('the same contract for options and chains that throw when read: a typed option error, a MALFORMED result', async () => {
    const cache = createVerdictCache({ now: clock().now });
    const throwing = [leaf.der, inter.der];
    Object.defineProperty(throwing, 1, { get() { throw new Error('boom'); } });
    const r = await cache.verify(throwing, store);
    expect(!r.ok && r.code).toBe('MALFORMED');
    const proxy = new Proxy([leaf.der], { get(t, k) { if (k === '0') throw new Error('boom'); return Reflect.get(t, k); } });
    expect(await cache.verify(proxy, store)).toMatchObject({ ok: false, code: 'MALFORMED' });
    await expect(cache.verify([leaf.der, inter.der], store, { get requiredEku(): string { throw new Error('boom'); } })).rejects.toMatchObject({ code: 'ERR_CERTGATE_INVALID_OPTION' });
    // An element that changes between reads: the key and the verification see the same (first) value.
    let reads = 0;
    const shifty = [leaf.der];
    Object.defineProperty(shifty, 1, { enumerable: true, get: () => (reads++ === 0 ? inter.der : new Uint8Array(300_000)) });
    const s = await cache.verify(shifty, store);
    expect(okOrFail(s)).toBe('ok');
    expect(reads).toBe(1);
    expect(cache.size).toBe(1);
  });

  it('refuses a store that is not a TrustStore, even one with a matching generation', async () => {
    const cache = createVerdictCache({ now: clock().now });
    await cache.verify([leaf.der, inter.der], store);
    const fake = { generation: store.generation, anchors: [], intermediates: [] } as unknown as TrustStore;
    await expect(cache.verify([leaf.der, inter.der], fake)).rejects.toMatchObject({ code: 'ERR_CERTGATE_INVALID_OPTION' });
  });

  it('caches failures too (a rejected client retrying costs no validation)', async () => {
    const other = await createCa({ subject: 'CN=Other Root', ...validity });
    const stranger = await other.issue({ ...validity });
    const cache = createVerdictCache({ now: clock().now });
    const r1 = await cache.verify([stranger.der], store);
    expect(!r1.ok && r1.code).toBe('UNKNOWN_ISSUER');
    const r2 = await cache.verify([stranger.der], store);
    expect(r2).toBe(r1);
    expect(cache.hits).toBe(1);
  });

  it('shares one validation between identical concurrent calls', async () => {
    const cache = createVerdictCache({ now: clock().now });
    const rs = await Promise.all([1, 2, 3, 4].map(() => cache.verify([leaf.der, inter.der], store)));
    expect(cache.misses).toBe(1);
    expect(cache.hits).toBe(3);
    for (const r of rs) expect(r).toBe(rs[0]);
  });
});

describe('createVerdictCache: generations', () => {
  it('a new store generation invalidates every entry of the old one (a CA swap is never answered from the cache)', async () => {
    const cache = createVerdictCache({ now: clock().now });
    const chain = [leaf.der, inter.der];
    expect(okOrFail(await cache.verify(chain, store))).toBe('ok');
    const other = await createCa({ subject: 'CN=Replacement Root', ...validity });
    const swapped = TrustStore.fromPem(other.pem);
    expect(swapped.generation).toBeGreaterThan(store.generation);
    const r = await cache.verify(chain, swapped);
    expect(!r.ok && r.code).toBe('UNKNOWN_ISSUER');
    expect(cache.hits).toBe(0);
    expect(cache.size).toBe(1); // the old generation's entry was dropped
    // The old store is still answered correctly, but never from (or into) the cache.
    const old = await cache.verify(chain, store);
    expect(okOrFail(old)).toBe('ok');
    const old2 = await cache.verify(chain, store);
    expect(old2).not.toBe(old);
    expect(cache.hits).toBe(0);
    expect(cache.size).toBe(1);
  });

  it('the same PEM loaded again is a new generation: a miss, then cached under it', async () => {
    const cache = createVerdictCache({ now: clock().now });
    const chain = [leaf.der, inter.der];
    await cache.verify(chain, store);
    const reloaded = TrustStore.fromPem(root.pem);
    await cache.verify(chain, reloaded);
    await cache.verify(chain, reloaded);
    expect(cache.misses).toBe(2);
    expect(cache.hits).toBe(1);
    expect(cache.size).toBe(1);
  });

  it('clear() drops everything, including a validation in flight', async () => {
    const reloaded = TrustStore.fromPem(root.pem);
    const cache = createVerdictCache({ now: clock().now });
    const p = cache.verify([leaf.der, inter.der], reloaded);
    cache.clear();
    expect(okOrFail(await p)).toBe('ok');
    expect(cache.size).toBe(0);
    await cache.verify([leaf.der, inter.der], reloaded);
    expect(cache.misses).toBe(2);
    expect(cache.size).toBe(1);
  });
});

describe('createVerdictCache: bound', () => {
  it('holds at most maxEntries, evicting the least recently used', async () => {
    const s = TrustStore.fromPem(root.pem);
    const leaves = await Promise.all([0, 1, 2, 3, 4].map(() => inter.issue({ ...validity })));
    const cache = createVerdictCache({ maxEntries: 3, now: clock().now });
    for (const l of leaves.slice(0, 3)) await cache.verify([l.der, inter.der], s);
    expect(cache.size).toBe(3);
    await cache.verify([leaves[0]!.der, inter.der], s); // 0 is now the most recent; 1 is the oldest
    expect(cache.hits).toBe(1);
    await cache.verify([leaves[3]!.der, inter.der], s); // evicts 1
    await cache.verify([leaves[4]!.der, inter.der], s); // evicts 2
    expect(cache.size).toBe(3);
    const before = cache.misses;
    await cache.verify([leaves[0]!.der, inter.der], s);
    expect(cache.misses).toBe(before);
    await cache.verify([leaves[1]!.der, inter.der], s);
    expect(cache.misses).toBe(before + 1);
    expect(cache.size).toBe(3);
  });

  it('stays bounded over many distinct chains', async () => {
    const s = TrustStore.fromPem(root.pem);
    const cache = createVerdictCache({ maxEntries: 16, now: clock().now });
    for (let i = 0; i < 64; i++) {
      // distinct chains with the same verdict: the leaf plus i copies of the intermediate
      await cache.verify([leaf.der, ...Array.from({ length: 1 + (i % 32) }, () => inter.der), ...(i >= 32 ? [root.der] : [])], s);
      expect(cache.size).toBeLessThanOrEqual(16);
    }
    expect(cache.size).toBe(16);
    expect(cache.misses).toBe(64);
  });

  it('refuses bad factory options', () => {
    for (const o of [{ maxEntries: 0 }, { maxEntries: 1.5 }, { maxEntries: -1 }, { maxEntries: Number.NaN }, { ttlMs: 0 }, { ttlMs: Infinity }, { now: 5 }]) {
      expect(() => createVerdictCache(o as never), JSON.stringify(o)).toThrow(expect.objectContaining({ code: 'ERR_CERTGATE_INVALID_OPTION' }));
    }
    expect(() => createVerdictCache(null as never)).toThrow(CertgateError);
  });
});

describe('createVerdictCache: expiry', () => {
  it('an entry does not outlive the leaf notAfter: after it the chain is decided again (EXPIRED)', async () => {
    const s = TrustStore.fromPem(root.pem);
    const shortLeaf = await inter.issue({ notBefore: NB, notAfter: new Date(T0 + HOUR) });
    const c = clock();
    const cache = createVerdictCache({ now: c.now });
    const chain = [shortLeaf.der, inter.der];
    expect(okOrFail(await cache.verify(chain, s))).toBe('ok');
    c.set(T0 + HOUR - 1);
    expect(okOrFail(await cache.verify(chain, s))).toBe('ok');
    expect(cache.hits).toBe(1);
    c.set(T0 + HOUR);
    expect(okOrFail(await cache.verify(chain, s))).toBe('ok'); // still valid at notAfter itself, but decided again
    expect(cache.misses).toBe(2);
    c.set(T0 + HOUR + 1000);
    const r = await cache.verify(chain, s);
    expect(!r.ok && r.code).toBe('EXPIRED');
    expect(cache.misses).toBe(3);
  });

  it('the earliest notAfter in the chain counts (an intermediate that expires first)', async () => {
    const shortInter = await root.issueIntermediate({ notBefore: NB, notAfter: new Date(T0 + 2 * HOUR) });
    const l = await shortInter.issue({ ...validity });
    const s = TrustStore.fromPem(root.pem);
    const c = clock();
    const cache = createVerdictCache({ now: c.now });
    await cache.verify([l.der, shortInter.der], s);
    c.set(T0 + 2 * HOUR - 1);
    await cache.verify([l.der, shortInter.der], s);
    expect(cache.hits).toBe(1);
    c.set(T0 + 2 * HOUR + 1000); // certificate times have one-second resolution
    const r = await cache.verify([l.der, shortInter.der], s);
    expect(!r.ok && r.code).toBe('EXPIRED');
    expect(!r.ok && r.certIndex).toBe(1);
    expect(cache.hits).toBe(1);
  });

  it('a cached failure expires when a certificate becomes valid (NOT_YET_VALID, then ok)', async () => {
    const s = TrustStore.fromPem(root.pem);
    const future = await inter.issue({ notBefore: new Date(T0 + HOUR), notAfter: NA });
    const c = clock();
    const cache = createVerdictCache({ now: c.now });
    const chain = [future.der, inter.der];
    const r1 = await cache.verify(chain, s);
    expect(!r1.ok && r1.code).toBe('NOT_YET_VALID');
    c.set(T0 + HOUR - 1);
    expect(await cache.verify(chain, s)).toBe(r1);
    c.set(T0 + HOUR);
    expect(okOrFail(await cache.verify(chain, s))).toBe('ok');
  });

  it('with a clock tolerance the entry still ends no later than the tolerated boundary', async () => {
    const s = TrustStore.fromPem(root.pem);
    const shortLeaf = await inter.issue({ notBefore: NB, notAfter: new Date(T0 + HOUR) });
    const c = clock();
    const cache = createVerdictCache({ now: c.now });
    const chain = [shortLeaf.der, inter.der];
    const opts = { clockToleranceSec: 60 };
    await cache.verify(chain, s, opts);
    c.set(T0 + HOUR + 30_000);
    expect(okOrFail(await cache.verify(chain, s, opts))).toBe('ok'); // within tolerance: still ok
    expect(cache.misses).toBe(2); // but decided again past notAfter
    c.set(T0 + HOUR + 61_000);
    const r = await cache.verify(chain, s, opts);
    expect(!r.ok && r.code).toBe('EXPIRED');
  });

  it('an anchor that expires ends the entry too', async () => {
    const shortRoot = await createCa({ notBefore: NB, notAfter: new Date(T0 + 3 * HOUR) });
    const l = await shortRoot.issue({ notBefore: NB, notAfter: new Date(T0 + 2 * 3 * HOUR) });
    const s = TrustStore.fromPem(shortRoot.pem);
    const c = clock();
    const cache = createVerdictCache({ now: c.now });
    await cache.verify([l.der], s);
    c.set(T0 + 3 * HOUR + 1000);
    const r = await cache.verify([l.der], s);
    expect(!r.ok && r.code).toBe('EXPIRED');
    expect(cache.hits).toBe(0);
  });

  it('ttlMs bounds an entry whatever the certificates say', async () => {
    const s = TrustStore.fromPem(root.pem);
    const c = clock();
    const cache = createVerdictCache({ now: c.now, ttlMs: 1000 });
    await cache.verify([leaf.der, inter.der], s);
    c.set(T0 + 999);
    await cache.verify([leaf.der, inter.der], s);
    expect(cache.hits).toBe(1);
    c.set(T0 + 1000);
    await cache.verify([leaf.der, inter.der], s);
    expect(cache.misses).toBe(2);
  });
});

describe('createVerdictCache: cached results are private', () => {
  it('reusing the input buffer does not change a cached result, and results are frozen', async () => {
    const s = TrustStore.fromPem(root.pem);
    const cache = createVerdictCache({ now: clock().now });
    const buf = new Uint8Array(leaf.der);
    const r = await cache.verify([buf, inter.der], s);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    buf.fill(0);
    expect(Buffer.from(r.chain[0]!.der).equals(Buffer.from(leaf.der))).toBe(true);
    expect(Object.isFrozen(r)).toBe(true);
    expect(Object.isFrozen(r.identity)).toBe(true);
    expect(Object.isFrozen(r.chain)).toBe(true);
    expect(() => {
      (r as { ok: boolean }).ok = false;
    }).toThrow(TypeError);
    // The zeroed buffer is a different chain now: a miss, and MALFORMED, not the cached ok.
    const z = await cache.verify([buf, inter.der], s);
    expect(!z.ok && z.code).toBe('MALFORMED');
  });

  it('entries share the frozen summaries of their issuers (memory per entry stays small), never the leaf', async () => {
    const s = TrustStore.fromPem(root.pem);
    const cache = createVerdictCache({ now: clock().now });
    const other = await inter.issue({ ...validity });
    const a = await cache.verify([leaf.der, inter.der], s);
    const b = await cache.verify([other.der, inter.der], s);
    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    expect(b.chain[1]).toBe(a.chain[1]);
    expect(b.chain[2]).toBe(a.chain[2]);
    expect(b.chain[0]).not.toBe(a.chain[0]);
    expect(b.chain[0]!.fingerprint256).toBe(other.fingerprint256);
    expect(b.identity.chainFingerprints256).toEqual([other.fingerprint256, inter.fingerprint256, root.fingerprint256]);
    expect(Object.isFrozen(b.chain[1])).toBe(true);
    expect(Object.isFrozen(b.identity.chainFingerprints256)).toBe(true);
  });
});
