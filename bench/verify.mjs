#!/usr/bin/env node
/**
 * Benchmark 1 and 2: cold chain validation and repeat decisions, in one process, interleaved.
 *
 *   node bench/verify.mjs [out.json]      (run by `pnpm bench`; needs the packages built)
 *
 * For EC P-256 and RSA-2048, and for two kinds of distinct chains (new leaves under one CA; a new
 * leaf and a new intermediate under one root), every contender validates the same 3-certificate
 * chains (leaf + intermediate sent, root trusted and pre-parsed), each chain once per contender:
 *
 * - `certgate`: `verifyChain([leafDer, interDer], store)` (the built package).
 * - `signatures`: the floor: the same two `crypto.verify` calls on pre-parsed TBS bytes with
 *   pre-imported keys.
 * - `node:crypto loop`: `new X509Certificate` for leaf and intermediate, `checkIssued`, `verify`
 *   with the issuer's public key, validity dates and the intermediate's CA flag.
 * - `@peculiar/x509`: parse both, `X509ChainBuilder.build` (it verifies each link's signature),
 *   the root at the end is the trusted one, validity dates.
 * - `pkijs`: parse both with `Certificate.fromBER`, `CertificateChainValidationEngine.verify()`.
 *
 * Before each set, every contender validates 600 other distinct chains once (a warm-up set of new
 * leaves under its own CA, same key type), so the figures are steady state, not a JIT compiling.
 * Rounds are interleaved (every round runs every contender, in a rotating order); a round's figure
 * is the median time of its operations; the result is the median over rounds (min–max shown).
 * Every operation's outcome is checked (a contender that fails a valid chain is reported).
 *
 * Then: repeat decisions through `createVerdictCache` (hit), a cache miss (cold through the cache),
 * the cost of the cache key (SHA-256 variants), the controller's repeat `decide`, and a per-step
 * breakdown of a cold validation through the internal modules plus a CPU profile of the cold loop.
 */
import 'reflect-metadata';
import { X509Certificate as NodeX509, createPublicKey, hash as cryptoHash, createHash, verify as cryptoVerify } from 'node:crypto';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { TrustStore, verifyChain, createVerdictCache, createController, createMemorySettingsStore } from '@certgate/core';
import * as x509 from '@peculiar/x509';
import * as pkijs from 'pkijs';
import { loadInternals, machine, median, nowNs, usSince, sig } from './lib/common.mjs';
import { makeChains } from './lib/chains.mjs';

const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = QUICK ? 3 : 7;
const COUNT = QUICK ? 120 : 300; // distinct chains per set (measured)
const WARM = 20; // extra distinct chains per set, for warm-up only
// Steady state, not a JIT still compiling: before each set every contender validates JIT_WARM other
// distinct chains (new leaves under their own CA, same key type), each once.
const JIT_WARM = QUICK ? 100 : 600;
const OPS = { certgate: 40, signatures: 40, 'node:crypto loop': 40, '@peculiar/x509': 8, pkijs: 8 };
if (QUICK) for (const k of Object.keys(OPS)) OPS[k] = Math.max(4, Math.floor(OPS[k] / 2));

const out = process.argv[2];
const log = (...a) => console.error(...a);

const internals = await loadInternals();

function hashOf(oid) {
  return { '1.2.840.10045.4.3.2': 'sha256', '1.2.840.113549.1.1.11': 'sha256' }[oid] ?? null;
}

/** What every contender needs for one chain, prepared before timing. */
function prepare(set) {
  const rootParsed = internals.parseCertificate(set.root.der);
  const rootKey = createPublicKey({ key: Buffer.from(rootParsed.spki.der), format: 'der', type: 'spki' });
  const rootNode = new NodeX509(set.root.der);
  const rootPeculiar = new x509.X509Certificate(set.root.der);
  const rootPkijs = pkijs.Certificate.fromBER(set.root.der);
  const store = TrustStore.fromPem(set.caPem);
  const chains = set.chains.map((c) => {
    const leaf = internals.parseCertificate(c.leafDer);
    const inter = internals.parseCertificate(c.interDer);
    return {
      ...c,
      floor: {
        leafTbs: Buffer.from(leaf.tbs),
        leafSig: Buffer.from(leaf.signature),
        leafHash: hashOf(leaf.signatureAlgorithm.oid),
        interTbs: Buffer.from(inter.tbs),
        interSig: Buffer.from(inter.signature),
        interHash: hashOf(inter.signatureAlgorithm.oid),
        interKey: createPublicKey({ key: Buffer.from(inter.spki.der), format: 'der', type: 'spki' }),
      },
    };
  });
  return { set, store, rootKey, rootNode, rootPeculiar, rootPkijs, rootThumb: null, chains };
}

const contenders = {
  certgate: async (p, c) => {
    const r = await verifyChain([c.leafDer, c.interDer], p.store);
    return r.ok || `${r.code}: ${r.message}`;
  },
  signatures: async (p, c) => {
    const f = c.floor;
    const a = cryptoVerify(f.leafHash, f.leafTbs, f.interKey, f.leafSig);
    const b = cryptoVerify(f.interHash, f.interTbs, p.rootKey, f.interSig);
    return (a && b) || 'signature did not verify';
  },
  'node:crypto loop': async (p, c) => {
    const leaf = new NodeX509(c.leafDer);
    const inter = new NodeX509(c.interDer);
    const now = Date.now();
    const valid = (x) => Date.parse(x.validFrom) <= now && now <= Date.parse(x.validTo);
    const ok =
      leaf.checkIssued(inter) && leaf.verify(inter.publicKey) && inter.checkIssued(p.rootNode) && inter.verify(p.rootNode.publicKey) && inter.ca && valid(leaf) && valid(inter) && valid(p.rootNode);
    return ok || 'node:crypto loop rejected the chain';
  },
  '@peculiar/x509': async (p, c) => {
    const leaf = new x509.X509Certificate(c.leafDer);
    const inter = new x509.X509Certificate(c.interDer);
    const chain = await new x509.X509ChainBuilder({ certificates: [inter, p.rootPeculiar] }).build(leaf);
    const now = new Date();
    const ok = chain.length === 3 && chain[2] === p.rootPeculiar && chain.every((x) => x.notBefore <= now && now <= x.notAfter);
    return ok || `x509 chain of ${chain.length}`;
  },
  pkijs: async (p, c) => {
    const leaf = pkijs.Certificate.fromBER(c.leafDer);
    const inter = pkijs.Certificate.fromBER(c.interDer);
    const engine = new pkijs.CertificateChainValidationEngine({ trustedCerts: [p.rootPkijs], certs: [leaf, inter], checkDate: new Date() });
    const r = await engine.verify();
    return r.result || `pkijs: ${r.resultMessage}`;
  },
};

/** Every contender validates each chain of a separate warm-up set once (outcomes checked, times not kept). */
async function warmUp(prepared) {
  for (const [n, f] of Object.entries(contenders)) {
    for (const c of prepared.chains) {
      const ok = await f(prepared, c);
      if (ok !== true) throw new Error(`warm-up: ${n} rejected a valid chain: ${ok}`);
    }
  }
}

/**
 * No forced collection inside the measured rounds: a `gc()` slows the JavaScript-heavy contenders for
 * the next few hundred operations (measured with certgate: +20-25 % per operation after one `gc()` per
 * round, with other contenders' work in between), which no server sees. The heap is collected once
 * before each set's warm-up; the batch medians are robust to the scavenges another contender's
 * garbage causes.
 */
async function runSet(prepared) {
  const names = Object.keys(contenders);
  const cursor = Object.fromEntries(names.map((n) => [n, WARM]));
  const failures = Object.fromEntries(names.map((n) => [n, []]));
  const roundMedians = Object.fromEntries(names.map((n) => [n, []]));
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  let wrapped = false;
  // Warm-up on chains that are not measured.
  for (const n of names) for (let i = 0; i < Math.min(WARM, OPS[n] * 2); i++) await contenders[n](prepared, prepared.chains[i % WARM]);
  for (let r = 0; r < ROUNDS; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length]);
    for (const n of order) {
      const times = [];
      for (let i = 0; i < OPS[n]; i++) {
        if (cursor[n] >= prepared.chains.length) {
          cursor[n] = WARM;
          wrapped = true;
        }
        const c = prepared.chains[cursor[n]++];
        const t0 = nowNs();
        const ok = await contenders[n](prepared, c);
        times.push(usSince(t0));
        if (ok !== true && failures[n].length < 3) failures[n].push(String(ok));
      }
      roundMedians[n].push(median(times));
      samples[n].push(...times);
    }
  }
  const res = {};
  for (const n of names) {
    res[n] = {
      medianUs: median(roundMedians[n]),
      minRoundUs: Math.min(...roundMedians[n]),
      maxRoundUs: Math.max(...roundMedians[n]),
      ops: samples[n].length,
      failures: failures[n],
    };
  }
  return { results: res, wrapped };
}

/** Repeat decisions through the verdict cache, the controller's decide, and cache misses. */
async function repeatDecisions(prepared) {
  const cache = createVerdictCache({ maxEntries: 10_000 });
  const chains = prepared.chains.slice(WARM, WARM + 100).map((c) => [c.leafDer, c.interDer]);
  for (const ch of chains) {
    const r = await cache.verify(ch, prepared.store);
    if (!r.ok) throw new Error(`repeat setup: ${r.code}`);
  }
  const rounds = [];
  const N = 20_000;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = nowNs();
    for (let i = 0; i < N; i++) await cache.verify(chains[i % chains.length], prepared.store);
    rounds.push(usSince(t0, N));
  }
  const hitUs = median(rounds);
  // A single chain, again and again (the same bytes: what a keep-alive-less client sends each time).
  const one = chains[0];
  const rounds1 = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = nowNs();
    for (let i = 0; i < N; i++) await cache.verify(one, prepared.store);
    rounds1.push(usSince(t0, N));
  }
  // Cache misses: distinct chains never seen by this cache (cold validation through the cache).
  const missCache = createVerdictCache({ maxEntries: 10_000 });
  const missRounds = [];
  let k = WARM + 100;
  for (let r = 0; r < ROUNDS; r++) {
    const times = [];
    for (let i = 0; i < 20 && k < prepared.chains.length; i++, k++) {
      const c = prepared.chains[k];
      const t0 = nowNs();
      await missCache.verify([c.leafDer, c.interDer], prepared.store);
      times.push(usSince(t0));
    }
    if (times.length) missRounds.push(median(times));
  }
  // The controller (enforced, this CA): a repeat decide() of a chain it has seen.
  const store = createMemorySettingsStore();
  const controller = await createController({ store, appName: 'bench', onProblem: () => {} });
  const first = prepared.chains[0];
  const saved = await controller.save({ enabled: true, enforce: true, caPem: prepared.set.caPem }, { actor: 'bench', peerChain: [first.leafDer, first.interDer] });
  if (!saved.ok || saved.refusal) throw new Error(`controller setup: ${JSON.stringify(saved.refusal ?? saved)}`);
  const d0 = await controller.decide(one);
  if (d0.action !== 'allow') throw new Error(`controller decide: ${d0.action}`);
  const cRounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const M = 5000;
    const t0 = nowNs();
    for (let i = 0; i < M; i++) await controller.decide(one);
    cRounds.push(usSince(t0, M));
  }
  controller.close();
  return {
    verdictCacheHitUs: hitUs,
    verdictCacheHitRangeUs: [Math.min(...rounds), Math.max(...rounds)],
    verdictCacheHitSameChainUs: median(rounds1),
    verdictCacheMissUs: median(missRounds),
    controllerDecideRepeatUs: median(cRounds),
    cacheStats: { hits: cache.hits, misses: cache.misses, size: cache.size },
  };
}

/** What the cache key costs: SHA-256 variants over the same chain bytes. */
function keyCost(prepared) {
  const chain = [prepared.chains[0].leafDer, prepared.chains[0].interDer];
  const variants = {
    'crypto.hash one buffer (used)': () => {
      let n = 0;
      for (const c of chain) n += 5 + c.byteLength;
      const b = Buffer.allocUnsafe(n);
      let o = 0;
      for (const c of chain) {
        b[o++] = 0x64;
        b.writeUInt32BE(c.byteLength, o);
        o += 4;
        b.set(c, o);
        o += c.byteLength;
      }
      return cryptoHash('sha256', b, 'base64');
    },
    'createHash, update per element': () => {
      const h = createHash('sha256');
      for (const c of chain) {
        h.update(`${c.byteLength}:`);
        h.update(c);
      }
      return h.digest('base64');
    },
    'crypto.hash of Buffer.concat': () => cryptoHash('sha256', Buffer.concat(chain.flatMap((c) => [Buffer.from(`${c.byteLength}:`), c])), 'base64'),
  };
  const res = {};
  const N = 50_000;
  for (const [name, f] of Object.entries(variants)) res[name] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, f] of Object.entries(variants)) {
      for (let i = 0; i < 2000; i++) f();
      const t0 = nowNs();
      for (let i = 0; i < N; i++) f();
      res[name].push(usSince(t0, N));
    }
  }
  return { bytes: chain.reduce((a, c) => a + c.byteLength, 0), us: Object.fromEntries(Object.entries(res).map(([k, v]) => [k, median(v)])) };
}

/** Sub-steps of one cold validation, through the internal modules (a separate bundled copy). */
async function warmInternals(I, warm) {
  const store = I.TrustStore.fromPem(warm.set.caPem);
  for (const c of warm.chains) await I.verifyChain([c.leafDer, c.interDer], store);
}

async function breakdown(prepared, warm) {
  const I = await loadInternals(`breakdown-${prepared.set.key}-${prepared.set.variant}`);
  await warmInternals(I, warm);
  const store = I.TrustStore.fromPem(prepared.set.caPem);
  const inner = I.storeInternals(store);
  const opts = I.resolveVerifyOptions({});
  const steps = { parseLeaf: [], parseIntermediate: [], sigIntermediateByRoot: [], sigLeafFirst: [], sigLeafKeyCached: [], validatePath: [], identity: [], buildAndValidate: [], verifyChainTotal: [] };
  const chains = prepared.chains;
  const n = Math.min(chains.length - WARM, QUICK ? 60 : 140);
  for (let i = 0; i < n; i++) {
    const c = chains[WARM + i];
    let t = nowNs();
    const leaf = I.parseCertificate(c.leafDer);
    steps.parseLeaf.push(usSince(t));
    t = nowNs();
    const inter = I.parseCertificate(c.interDer);
    steps.parseIntermediate.push(usSince(t));
    const anchor = inner.anchors[0];
    t = nowNs();
    I.verifySignature(inter, anchor.spki, { allowWeak: false, inheritedDsaParams: null });
    steps.sigIntermediateByRoot.push(usSince(t));
    // The key's first use as verifyChain makes it: imported ahead (EC keys; the others on first use).
    t = nowNs();
    await I.importKeysAhead([inter.spki]);
    I.verifySignature(leaf, inter.spki, { allowWeak: false, inheritedDsaParams: null });
    steps.sigLeafFirst.push(usSince(t));
    t = nowNs();
    I.verifySignature(leaf, inter.spki, { allowWeak: false, inheritedDsaParams: null });
    steps.sigLeafKeyCached.push(usSince(t));
    t = nowNs();
    I.validatePath([inter, leaf], anchor, [], opts);
    steps.validatePath.push(usSince(t));
    t = nowNs();
    const full = [leaf, inter, anchor];
    full.map((x, i) => I.summarize(x, full[i + 1], i > 0));
    I.identityOf(leaf, full);
    steps.identity.push(usSince(t));
    // Fresh parses so that nothing parsed above is reused.
    const leaf2 = I.parseCertificate(c.leafDer);
    const inter2 = I.parseCertificate(c.interDer);
    t = nowNs();
    I.buildAndValidate({ leaf: leaf2, pool: [inter2], anchorsBySubject: inner.anchorsBySubject, anchorHashes: inner.anchorHashes }, opts);
    steps.buildAndValidate.push(usSince(t));
  }
  // verifyChain of the bundled copy on chains it has not seen (its key cache is cold for new intermediates).
  const store2 = I.TrustStore.fromPem(prepared.set.caPem);
  for (let i = 0; i < n; i++) {
    const c = chains[chains.length - 1 - i];
    const t = nowNs();
    await I.verifyChain([c.leafDer, c.interDer], store2);
    steps.verifyChainTotal.push(usSince(t));
  }
  return Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, median(v)]));
}

/**
 * A CPU profile of the cold loop (a fresh instance of the internal bundle, so imported-key caches are
 * cold): self time by function, top entries. One pass over the chains for `intermediates` (every
 * intermediate key is new), four for `leaves`.
 */
async function profile(prepared, warm) {
  const I = await loadInternals(`profile-${prepared.set.key}-${prepared.set.variant}`);
  await warmInternals(I, warm);
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  const store = I.TrustStore.fromPem(prepared.set.caPem);
  const passes = prepared.set.variant === 'intermediates' ? 1 : 4;
  globalThis.gc?.();
  await session.post('Profiler.start');
  const t0 = nowNs();
  let ops = 0;
  for (let rep = 0; rep < passes; rep++) {
    for (const c of prepared.chains) {
      await I.verifyChain([c.leafDer, c.interDer], store);
      ops++;
    }
  }
  const wall = usSince(t0);
  const { profile: prof } = await session.post('Profiler.stop');
  session.disconnect();
  const byId = new Map(prof.nodes.map((nd) => [nd.id, nd]));
  const self = new Map();
  const total = prof.samples.length;
  const counts = new Map();
  for (const s of prof.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
  const nativeNames = { run: 'crypto.verify (native SignJob.run)', init: 'createPublicKey (native KeyObject init)', oneShotDigest: 'crypto.hash (native)' };
  for (const [id, cnt] of counts) {
    const cf = byId.get(id).callFrame;
    const file = cf.url ? cf.url.replace(/^.*\/(src|packages|node_modules)\//, '$1/').replace(/^file:.*\/bundle\.mjs$/, 'core (bundled src)') : '';
    const name = !cf.url && nativeNames[cf.functionName] ? nativeNames[cf.functionName] : cf.functionName || '(anonymous)';
    const key = file ? `${name} (${file})` : name;
    self.set(key, (self.get(key) ?? 0) + cnt);
  }
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15);
  return { ops, passes, usPerOp: wall / ops, top: top.map(([fn, cnt]) => ({ fn, selfPct: (100 * cnt) / total, usPerOp: ((cnt / total) * wall) / ops })) };
}

// ---------------------------------------------------------------------------------------------

const result = { machine: machine(), rounds: ROUNDS, chainsPerSet: COUNT, opsPerRound: OPS, jitWarmChains: JIT_WARM, sets: [] };
for (const key of ['ec-p256', 'rsa-2048']) {
  const warmSet = prepare(await makeChains({ key, variant: 'leaves', count: JIT_WARM }));
  for (const variant of ['leaves', 'intermediates']) {
    const t = Date.now();
    const set = await makeChains({ key, variant, count: COUNT + WARM });
    log(`[verify] ${key} ${variant}: ${set.chains.length} chains generated in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    const prepared = prepare(set);
    const tw = Date.now();
    globalThis.gc?.();
    await warmUp(warmSet);
    log(`[verify] ${key} ${variant}: warm-up on ${JIT_WARM} other chains per contender, ${((Date.now() - tw) / 1000).toFixed(1)} s`);
    const { results, wrapped } = await runSet(prepared);
    const entry = { key, variant, wrapped, results };
    const cg = results.certgate.medianUs;
    entry.ratios = {
      certgateOverSignatures: cg / results.signatures.medianUs,
      pkijsOverCertgate: results.pkijs.medianUs / cg,
      peculiarOverCertgate: results['@peculiar/x509'].medianUs / cg,
      nodeLoopOverCertgate: results['node:crypto loop'].medianUs / cg,
    };
    for (const [n, r] of Object.entries(results)) log(`  ${n.padEnd(18)} ${sig(r.medianUs).padStart(8)} µs  [${sig(r.minRoundUs)}–${sig(r.maxRoundUs)}]${r.failures.length ? `  FAILURES: ${r.failures.join('; ')}` : ''}`);
    log(`  certgate / signatures = ${entry.ratios.certgateOverSignatures.toFixed(2)}×, pkijs / certgate = ${entry.ratios.pkijsOverCertgate.toFixed(1)}×`);
    if (variant === 'leaves') {
      entry.repeat = await repeatDecisions(prepared);
      log(`  repeat: verdict cache hit ${sig(entry.repeat.verdictCacheHitUs)} µs (same chain ${sig(entry.repeat.verdictCacheHitSameChainUs)} µs), miss ${sig(entry.repeat.verdictCacheMissUs)} µs, controller.decide repeat ${sig(entry.repeat.controllerDecideRepeatUs)} µs`);
      if (key === 'ec-p256') {
        entry.keyCost = keyCost(prepared);
        log(`  cache key (${entry.keyCost.bytes} bytes): ${Object.entries(entry.keyCost.us).map(([k, v]) => `${k} ${sig(v)} µs`).join(', ')}`);
      }
    }
    entry.breakdownUs = await breakdown(prepared, warmSet);
    log(`  breakdown: ${Object.entries(entry.breakdownUs).map(([k, v]) => `${k} ${sig(v)}`).join(', ')}`);
    entry.profile = await profile(prepared, warmSet);
    log(`  profile (${sig(entry.profile.usPerOp)} µs/op under the profiler): ${entry.profile.top.slice(0, 6).map((e) => `${e.fn} ${e.selfPct.toFixed(1)}%`).join(', ')}`);
    result.sets.push(entry);
  }
}

if (out) writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
else console.log(JSON.stringify(result, null, 2));
