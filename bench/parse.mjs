#!/usr/bin/env node
/**
 * Benchmark: certgate's strict DER certificate parser and signature verification.
 *
 *   node bench/parse.mjs [iterations]
 *
 * The parser is internal (not exported from @certgate/core), so this script bundles the TypeScript
 * sources with esbuild (tsup's copy) into a temporary file first. Reports the median and p90 time per
 * operation over batches, for real certificates from the vendored corpora, and node:crypto's
 * X509Certificate constructor on the same bytes for scale.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const core = join(root, 'packages/core');
const iterations = Number(process.argv[2] ?? 5000);

const require = createRequire(join(core, 'package.json'));
const esbuild = createRequire(require.resolve('tsup'))('esbuild');

const tmp = mkdtempSync(join(tmpdir(), 'certgate-bench-'));
const entry = join(tmp, 'entry.ts');
writeFileSync(
  entry,
  `export { parseCertificate } from ${JSON.stringify(join(core, 'src/cert/parse.ts'))};
   export { verifySignature } from ${JSON.stringify(join(core, 'src/cert/signature.ts'))};
   export { readPemBlocks } from ${JSON.stringify(join(core, 'src/pem.ts'))};`,
);
const out = join(tmp, 'bundle.mjs');
await esbuild.build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'error' });
const { parseCertificate, verifySignature, readPemBlocks } = await import(pathToFileURL(out).href);
rmSync(tmp, { recursive: true, force: true });

const pkits = (n) => new Uint8Array(readFileSync(join(core, `test/conformance/pkits/certs/${n}.crt`)));
const limbo = JSON.parse(readFileSync(join(core, 'test/conformance/limbo/limbo.json'), 'utf8'));
const byId = new Map(limbo.testcases.map((t) => [t.id, t]));
const cio = byId.get('webpki::cryptographydotio-chain');
const cioLeaf = readPemBlocks(cio.peer_certificate)[0].der;
const cioInter = readPemBlocks(cio.untrusted_intermediates[0])[0].der;
const limboEc = byId.get('rfc5280::nc::permitted-dns-match');
const ecLeaf = readPemBlocks(limboEc.peer_certificate)[0].der;
const ecRoot = readPemBlocks(limboEc.trusted_certs[0])[0].der;

/** Median and p90 of per-op microseconds over batches of `batch` calls. */
function measure(fn, n = iterations, batch = 50) {
  for (let i = 0; i < Math.min(n, 2000); i++) fn(); // warm up
  const samples = [];
  for (let done = 0; done < n; done += batch) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1000 / batch);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(samples.length / 2)], p90: samples[Math.floor(samples.length * 0.9)] };
}

const fmt = (r) => `median ${r.median.toFixed(2).padStart(7)} µs   p90 ${r.p90.toFixed(2).padStart(7)} µs`;
const rows = [];
function row(label, fn) {
  const r = measure(fn);
  rows.push({ label, ...r });
  console.log(`${label.padEnd(58)} ${fmt(r)}`);
}

console.log(`node ${process.version}, ${iterations} iterations per row\n`);
console.log('parseCertificate');
const certs = {
  'PKITS GoodCACert (RSA-2048, 6 extensions)': pkits('GoodCACert'),
  'PKITS ValidCertificatePathTest1EE (RSA-2048)': pkits('ValidCertificatePathTest1EE'),
  'cryptography.io leaf (real-world, SCTs, 10 extensions)': cioLeaf,
  'cryptography.io intermediate (real-world)': cioInter,
  'limbo EC P-256 leaf with SAN': ecLeaf,
};
for (const [label, der] of Object.entries(certs)) {
  console.log(`  (${der.length} bytes)`);
  row(`  certgate  ${label}`, () => parseCertificate(der));
  row(`  node:crypto new X509Certificate (same bytes)`, () => new X509Certificate(der));
}

console.log('\nverifySignature (imported keys cached)');
const anchor = parseCertificate(pkits('TrustAnchorRootCertificate'));
const good = parseCertificate(pkits('GoodCACert'));
row('  RSA-2048 PKCS#1 v1.5 SHA-256 (PKITS GoodCACert)', () => verifySignature(good, anchor.spki, { allowWeak: false }));
const ecl = parseCertificate(ecLeaf);
const ecr = parseCertificate(ecRoot);
const sigAlg = ecl.signatureAlgorithm.oid;
row(`  ${sigAlg === '1.2.840.10045.4.3.2' ? 'ECDSA P-256 SHA-256' : sigAlg} (limbo leaf)`, () => verifySignature(ecl, ecr.spki, { allowWeak: false }));
const dsaCa = parseCertificate(pkits('DSACACert'));
const dsaEe = parseCertificate(pkits('ValidDSASignaturesTest4EE'));
row('  DSA-1024 SHA-1 (PKITS 4.1.4, allowWeak)', () => verifySignature(dsaEe, dsaCa.spki, { allowWeak: true }));

if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(rows, null, 2));
