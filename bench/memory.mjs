#!/usr/bin/env node
/**
 * Benchmark 4: heap after validating N (default 100 000) distinct client certificates, through
 * `createVerdictCache` (default bound 10 000 entries) and through the controller's `decide` (its own
 * verdict cache), with `global.gc()` before every reading (run with `--expose-gc`).
 *
 *   node --expose-gc bench/memory.mjs [out.json]     (env BENCH_MEMORY_N)
 *
 * The leaves are made on the fly from one template issued by `@certgate/core/testing`: the serial
 * number is replaced and the TBS re-signed by the intermediate's key (node:crypto), so every
 * certificate is distinct and valid, and none is kept by the benchmark itself.
 */
import 'reflect-metadata';
import { sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { TrustStore, createController, createMemorySettingsStore, createVerdictCache, verifyChain } from '@certgate/core';
import { createCa } from '@certgate/core/testing';
import { machine } from './lib/common.mjs';

const N = Number(process.env.BENCH_MEMORY_N ?? 100_000);
const STEP = Math.max(1, Math.floor(N / 10));
const out = process.argv[2];
const log = (...a) => console.error(...a);
if (typeof global.gc !== 'function') {
  console.error('run with node --expose-gc');
  process.exit(2);
}

/** DER TLV header length and content length at `o`. */
function tlvAt(b, o) {
  let len = b[o + 1];
  let hdr = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[o + 2 + i];
    hdr = 2 + n;
  }
  return { hdr, len, end: o + hdr + len };
}

function encLen(n) {
  if (n < 0x80) return Buffer.from([n]);
  const bytes = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag, content) => Buffer.concat([Buffer.from([tag]), encLen(content.length), content]);

/** A factory of distinct certificates: the template with serial `i`, signed again by `issuerKey`. */
function leafFactory(templateDer, issuerKey) {
  const der = Buffer.from(templateDer);
  const outer = tlvAt(der, 0);
  const tbsStart = outer.hdr;
  const tbs = tlvAt(der, tbsStart);
  const tbsBytes = Buffer.from(der.subarray(tbsStart, tbs.end));
  const sigAlg = der.subarray(tbs.end, tlvAt(der, tbs.end).end);
  // tbs: SEQUENCE { [0] version, INTEGER serial, ... }
  let o = tlvAt(tbsBytes, 0).hdr;
  if (tbsBytes[o] === 0xa0) o = tlvAt(tbsBytes, o).end;
  if (tbsBytes[o] !== 0x02) throw new Error('template: no serial INTEGER');
  const serial = tlvAt(tbsBytes, o);
  const sStart = o + serial.hdr;
  if (serial.len < 8) throw new Error('template: serial too short');
  return (i) => {
    const t = Buffer.from(tbsBytes);
    t[sStart] = 0x40; // positive, non-zero first octet
    t.writeUIntBE(i + 1, sStart + serial.len - 6, 6);
    const sig = sign('sha256', t, issuerKey);
    return new Uint8Array(tlv(0x30, Buffer.concat([t, sigAlg, tlv(0x03, Buffer.concat([Buffer.from([0]), sig]))])));
  };
}

function heapMb() {
  global.gc();
  global.gc();
  const m = process.memoryUsage();
  return { heapUsedMb: m.heapUsed / 2 ** 20, rssMb: m.rss / 2 ** 20, externalMb: m.external / 2 ** 20, arrayBuffersMb: m.arrayBuffers / 2 ** 20 };
}

const root = await createCa({ subject: 'CN=bench memory root' });
const inter = await root.issueIntermediate({ subject: 'CN=bench memory intermediate' });
const template = await inter.issue({ subject: 'CN=bench memory client, O=certgate bench', san: { email: ['client@bench.test'] } });
const makeLeaf = leafFactory(template.der, inter.key);
const store = TrustStore.fromPem(root.pem);
for (const i of [0, 1, N - 1]) {
  const r = await verifyChain([makeLeaf(i), inter.der], store);
  if (!r.ok) throw new Error(`generated leaf ${i} does not validate: ${r.code} ${r.message}`);
}
if (Buffer.from(makeLeaf(0)).equals(Buffer.from(makeLeaf(1)))) throw new Error('leaves are not distinct');

async function phase(name, decideOne, extra = () => ({})) {
  const t0 = Date.now();
  const base = heapMb();
  const samples = [{ n: 0, ...base, ...extra() }];
  let failures = 0;
  for (let i = 0; i < N; i++) {
    if (!(await decideOne(makeLeaf(i)))) failures++;
    if ((i + 1) % STEP === 0) samples.push({ n: i + 1, ...heapMb(), ...extra() });
  }
  const end = samples[samples.length - 1];
  const half = samples.find((s) => s.n >= N / 2) ?? end;
  const res = {
    name,
    n: N,
    seconds: (Date.now() - t0) / 1000,
    failures,
    heapUsedBeforeMb: base.heapUsedMb,
    heapUsedAfterMb: end.heapUsedMb,
    heapGrowthMb: end.heapUsedMb - base.heapUsedMb,
    heapGrowthSecondHalfMb: end.heapUsedMb - half.heapUsedMb,
    samples,
  };
  log(`[memory] ${name}: heapUsed ${base.heapUsedMb.toFixed(1)} → ${end.heapUsedMb.toFixed(1)} MB after ${N} distinct certificates (second half +${res.heapGrowthSecondHalfMb.toFixed(1)} MB), ${res.seconds.toFixed(0)} s, ${failures} not allowed`);
  return res;
}

const cache = createVerdictCache();
const viaCache = await phase(
  'createVerdictCache (maxEntries 10000)',
  async (leaf) => (await cache.verify([leaf, inter.der], store)).ok,
  () => ({ entries: cache.size }),
);
cache.clear();

const controller = await createController({ store: createMemorySettingsStore(), appName: 'bench', onProblem: () => {} });
const saved = await controller.save({ enabled: true, enforce: true, caPem: root.pem }, { actor: 'bench', peerChain: [template.der, inter.der] });
if (!saved.ok || saved.refusal) throw new Error('controller setup failed');
const viaController = await phase('controller.decide (enforced; its own verdict cache)', async (leaf) => (await controller.decide([leaf, inter.der])).action === 'allow');
controller.close();

const result = { machine: machine(), n: N, phases: [viaCache, viaController] };
if (out) writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
else console.log(JSON.stringify(result, null, 2));
