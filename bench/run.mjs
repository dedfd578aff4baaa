#!/usr/bin/env node
/**
 * `pnpm bench`: builds the packages (the script does), then runs every benchmark, each in a child
 * process of its own (a clean heap and no module caches shared between them), writes
 * `bench/results/latest.json` and regenerates `docs/benchmarks.md`.
 *
 *   node --expose-gc bench/run.mjs [--quick] [--only verify,peer,http,memory,parse] [--no-docs]
 *   node bench/run.mjs --render      (re-evaluates the targets of bench/results/latest.json and
 *                                     regenerates docs/benchmarks.md from it; runs nothing)
 *
 * `--quick` (or BENCH_QUICK=1) shortens every part for a smoke run; its results are not written to
 * bench/results/latest.json or the docs unless `--write` is given too.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, machine, writeJson } from './lib/common.mjs';
import { renderMarkdown, evaluateTargets } from './lib/report.mjs';
import { writeFileSync } from 'node:fs';

const args = process.argv.slice(2);
if (args.includes('--render')) {
  const result = JSON.parse(readFileSync(join(ROOT, 'bench/results/latest.json'), 'utf8'));
  result.targets = evaluateTargets(result);
  writeJson(join(ROOT, 'bench/results/latest.json'), result);
  writeFileSync(join(ROOT, 'docs/benchmarks.md'), renderMarkdown(result));
  console.error('re-rendered docs/benchmarks.md (and the targets in bench/results/latest.json) from bench/results/latest.json');
  process.exit(0);
}
const quick = args.includes('--quick') || process.env.BENCH_QUICK === '1';
const onlyArg = args.find((a) => a.startsWith('--only'));
const only = onlyArg ? (onlyArg.includes('=') ? onlyArg.split('=')[1] : args[args.indexOf(onlyArg) + 1]).split(',') : null;
const write = !quick || args.includes('--write');
const docs = !args.includes('--no-docs');

const env = { ...process.env, ...(quick ? { BENCH_QUICK: '1', BENCH_HTTP_SECONDS: '2', BENCH_HTTP_ROUNDS: '1', BENCH_MEMORY_N: '20000' } : {}) };
const tmp = mkdtempSync(join(tmpdir(), 'certgate-bench-run-'));
const parts = [
  { name: 'verify', script: 'bench/verify.mjs', nodeArgs: ['--expose-gc'] },
  { name: 'peer', script: 'bench/peer.mjs', nodeArgs: [] },
  { name: 'http', script: 'bench/http.mjs', nodeArgs: [] },
  { name: 'memory', script: 'bench/memory.mjs', nodeArgs: ['--expose-gc'] },
  { name: 'parse', script: 'bench/parse.mjs', nodeArgs: [], jsonEnv: 'BENCH_JSON', extra: [quick ? '1000' : '5000'] },
];

const previous = (() => {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'bench/results/latest.json'), 'utf8'));
  } catch {
    return null;
  }
})();

const result = { machine: machine(), quick, parts: {}, load: {} };
for (const part of parts) {
  if (only && !only.includes(part.name)) {
    if (previous?.parts?.[part.name]) {
      result.parts[part.name] = previous.parts[part.name];
      result.load[part.name] = { ...(previous.load?.[part.name] ?? {}), reused: true };
    }
    continue;
  }
  const outFile = join(tmp, `${part.name}.json`);
  const before = loadavg();
  const t0 = Date.now();
  console.error(`\n== bench ${part.name}`);
  const r = spawnSync(process.execPath, [...part.nodeArgs, join(ROOT, part.script), ...(part.jsonEnv ? (part.extra ?? []) : [outFile])], {
    cwd: ROOT,
    env: part.jsonEnv ? { ...env, [part.jsonEnv]: outFile } : env,
    stdio: ['ignore', part.jsonEnv ? 'ignore' : 'inherit', 'inherit'],
  });
  if (r.status !== 0) {
    console.error(`bench ${part.name} failed (exit ${r.status}${r.signal ? `, ${r.signal}` : ''})`);
    process.exitCode = 1;
    continue;
  }
  result.parts[part.name] = JSON.parse(readFileSync(outFile, 'utf8'));
  result.load[part.name] = { seconds: (Date.now() - t0) / 1000, loadavgBefore: before, loadavgAfter: loadavg() };
}
rmSync(tmp, { recursive: true, force: true });

result.targets = evaluateTargets(result);
console.error('\n== targets');
for (const t of result.targets) console.error(`  ${t.met === null ? 'n/a ' : t.met ? 'MET ' : 'MISS'}  ${t.target}: ${t.measured}`);

if (write) {
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeJson(join(ROOT, 'bench/results/latest.json'), result);
  console.error('\nwrote bench/results/latest.json');
  if (docs) {
    writeFileSync(join(ROOT, 'docs/benchmarks.md'), renderMarkdown(result));
    console.error('wrote docs/benchmarks.md');
  }
} else {
  console.error('\n(quick run: results not written; add --write to write them)');
}
