/**
 * Shared helpers of the benchmarks: statistics, the machine description, and the internal-module
 * bundle (sources bundled with tsup's esbuild, for sub-step timings of code that is not exported).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const nowNs = () => process.hrtime.bigint();
export const usSince = (t0, ops = 1) => Number(process.hrtime.bigint() - t0) / 1000 / ops;

export function machine() {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    const m = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m);
    if (m) cpu = m[1].trim();
  } catch {
    // not Linux
  }
  let nproc = cpus().length;
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
  } catch {
    // no nproc
  }
  let openssl = process.versions.openssl;
  return { nproc, cpu, node: process.version, openssl, platform: `${process.platform} ${process.arch}`, date: new Date().toISOString() };
}

/** Rounds `x` for display: 3 significant digits. */
export function sig(x, digits = 3) {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const mag = Math.floor(Math.log10(Math.abs(x)));
  const dec = Math.max(0, digits - 1 - mag);
  return x.toFixed(dec);
}

const internalsPromises = new Map();
/**
 * The internal modules of @certgate/core (parser, signature, path building, trust store, verify,
 * identity) bundled from the TypeScript sources into one ES module, so sub-steps can be timed.
 * They are a separate copy from `@certgate/core`'s dist: use its TrustStore with its verifyChain only.
 * Each `tag` is a separate instance (its own module-level caches, e.g. imported keys).
 */
export function loadInternals(tag = 'default') {
  if (!internalsPromises.has(tag)) internalsPromises.set(tag, (async () => {
    const core = join(ROOT, 'packages/core');
    const require = createRequire(join(core, 'package.json'));
    const esbuild = createRequire(require.resolve('tsup'))('esbuild');
    const tmp = mkdtempSync(join(tmpdir(), 'certgate-bench-'));
    const entry = join(tmp, 'entry.ts');
    const src = (p) => JSON.stringify(join(core, 'src', p));
    writeFileSync(
      entry,
      [
        `export { parseCertificate } from ${src('cert/parse.ts')};`,
        `export { verifySignature, importKeysAhead } from ${src('cert/signature.ts')};`,
        `export { buildAndValidate } from ${src('cert/path.ts')};`,
        `export { validatePath } from ${src('cert/validate.ts')};`,
        `export { TrustStore, storeInternals } from ${src('trust-store.ts')};`,
        `export { verifyChain, resolveVerifyOptions } from ${src('verify.ts')};`,
        `export { identityOf, summarize } from ${src('identity.ts')};`,
        `export { readPemBlocks } from ${src('pem.ts')};`,
      ].join('\n'),
    );
    const out = join(tmp, 'bundle.mjs');
    await esbuild.build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'error', target: 'node20' });
    const mod = await import(pathToFileURL(out).href);
    rmSync(tmp, { recursive: true, force: true });
    return mod;
  })());
  return internalsPromises.get(tag);
}

/** Writes a JSON file with a trailing newline. */
export function writeJson(path, value) {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}
