#!/usr/bin/env node
/**
 * CRL benchmark: parsing CRLs of 1 000, 100 000 and 1 000 000 entries into a store (cold, then from the
 * parse cache), and the cost of revocation checking in `verifyChain` (root → intermediate → leaf, with
 * small CRLs and with the intermediate's CRL holding a million entries) against `revocation: 'off'`.
 *
 *   pnpm build && node bench/crl.mjs      (uses the built @certgate/core)
 */
import { sign } from 'node:crypto';
import { TrustStore, verifyChain } from '@certgate/core';
import { createTestPki } from '@certgate/core/testing';
import { machine, median, nowNs, usSince, sig } from './lib/common.mjs';

// --- a minimal DER CRL encoder (ECDSA P-256 issuer) ------------------------------------------------
function tlv(tag, content) {
  const n = content.length;
  const head = n < 0x80 ? [tag, n] : (() => { const b = []; for (let x = n; x > 0; x = Math.floor(x / 256)) b.unshift(x & 0xff); return [tag, 0x80 | b.length, ...b]; })();
  const out = new Uint8Array(head.length + n);
  out.set(head, 0);
  out.set(content, head.length);
  return out;
}
function cat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
const seq = (...p) => tlv(0x30, cat(p));
const utc = (d) => tlv(0x17, new TextEncoder().encode(d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'));
const intBytes = (n) => { const b = []; let x = BigInt(n); do { b.unshift(Number(x & 0xffn)); x >>= 8n; } while (x > 0n); if (b[0] >= 0x80) b.unshift(0); return tlv(0x02, Uint8Array.from(b)); };
const ALG = seq(tlv(0x06, Uint8Array.from([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02])));
const CRL_NUMBER = (n) => seq(tlv(0x06, Uint8Array.from([0x55, 0x1d, 0x14])), tlv(0x04, intBytes(n)));
const REASON = seq(seq(tlv(0x06, Uint8Array.from([0x55, 0x1d, 0x15])), tlv(0x04, Uint8Array.from([0x0a, 0x01, 0x01]))));

function subjectDer(certDer) {
  // Certificate → tbsCertificate → [version, serial, sigAlg, issuer, validity, subject]
  const read = (b, p) => { let len = b[p + 1]; let h = 2; if (len & 0x80) { const k = len & 0x7f; len = 0; for (let i = 0; i < k; i++) len = len * 256 + b[p + 2 + i]; h += k; } return { start: p, hdr: h, end: p + h + len }; };
  const cert = read(certDer, 0);
  const tbs = read(certDer, cert.start + cert.hdr);
  let p = tbs.start + tbs.hdr;
  const fields = [];
  while (p < tbs.end && fields.length < 6) { const f = read(certDer, p); fields.push(f); p = f.end; }
  const subj = fields[0] && certDer[fields[0].start] === 0xa0 ? fields[5] : fields[4];
  return certDer.subarray(subj.start, subj.end);
}

function makeCrl(ca, entries, { thisUpdate, nextUpdate, number }) {
  const list = [];
  for (let i = 0; i < entries; i++) list.push(seq(intBytes(0x1000000 + i * 3), utc(thisUpdate), ...(i % 2 ? [REASON] : [])));
  const tbs = seq(
    tlv(0x02, Uint8Array.from([1])),
    ALG,
    subjectDer(ca.der),
    utc(thisUpdate),
    utc(nextUpdate),
    ...(entries > 0 ? [tlv(0x30, cat(list))] : []),
    tlv(0xa0, seq(CRL_NUMBER(number))),
  );
  return seq(tbs, ALG, tlv(0x03, cat([Uint8Array.from([0]), new Uint8Array(sign('sha256', tbs, ca.key))])));
}

const log = (...a) => console.log(...a);
const m = machine();
log(`# CRL benchmark — ${m.cpu} (${m.nproc} CPUs), Node ${m.node}, ${m.date}`);
const pki = await createTestPki();
const tu = new Date(Date.now() - 3600_000);
const nu = new Date(Date.now() + 7 * 86_400_000);
const rootCrl = makeCrl(pki.root, 0, { thisUpdate: tu, nextUpdate: nu, number: 1 });

log('\n| entries | DER MiB | store from CRL (cold parse) | store again (cache hit) |');
log('|---:|---:|---:|---:|');
const big = {};
for (const n of [1_000, 100_000, 1_000_000]) {
  const crl = makeCrl(pki.intermediate, n, { thisUpdate: tu, nextUpdate: nu, number: 2 });
  big[n] = crl;
  const t0 = nowNs();
  const store = TrustStore.fromPem(pki.caPem, { crls: [rootCrl, crl] });
  const cold = usSince(t0) / 1000;
  const t1 = nowNs();
  TrustStore.fromPem(pki.caPem, { crls: [rootCrl, crl] });
  const warm = usSince(t1) / 1000;
  if (store.crls[1].entryCount !== n) throw new Error('entry count');
  log(`| ${n} | ${sig(crl.length / 1048576)} | ${sig(cold)} ms | ${sig(warm)} ms |`);
}

async function timeVerify(store, options, chain, ops = 400, rounds = 7) {
  const per = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = nowNs();
    for (let i = 0; i < ops; i++) {
      const res = await verifyChain(chain, store, options);
      if (!res.ok) throw new Error(`unexpected ${res.code}: ${res.message}`);
    }
    per.push(usSince(t0, ops));
  }
  return median(per);
}
const chain = [pki.client.der, pki.intermediate.der];
const small = TrustStore.fromPem(pki.caPem, { crls: [rootCrl, makeCrl(pki.intermediate, 10, { thisUpdate: tu, nextUpdate: nu, number: 3 })] });
const million = TrustStore.fromPem(pki.caPem, { crls: [rootCrl, big[1_000_000]] });
for (const [s, o] of [[small, { revocation: 'off' }], [small, {}], [million, {}]]) await timeVerify(s, o, chain, 200, 2); // warm-up
const off = await timeVerify(small, { revocation: 'off' }, chain);
const hardSmall = await timeVerify(small, {}, chain);
const hardMillion = await timeVerify(million, {}, chain);
log('\n| verifyChain (leaf + intermediate, EC P-256) | µs per call (median of 7 rounds) |');
log('|---|---:|');
log(`| revocation 'off' | ${sig(off)} |`);
log(`| 'hard', two small CRLs | ${sig(hardSmall)} |`);
log(`| 'hard', the intermediate's CRL has 1 000 000 entries | ${sig(hardMillion)} |`);
