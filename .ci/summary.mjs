// Prints the plain "N passed, N failed" line from vitest's JSON reporter output (one or more runs).
// Usage: node .ci/summary.mjs <typecheckExitStatus> <label>=<results.json> [<label>=<results.json> ...]
import { existsSync, readFileSync } from 'node:fs';

const [typecheckStatus = '0', ...runs] = process.argv.slice(2);
let passed = 0;
let failed = 0;
for (const run of runs) {
  const eq = run.indexOf('=');
  const label = eq > 0 ? run.slice(0, eq) : run;
  const file = eq > 0 ? run.slice(eq + 1) : run;
  let p = 0;
  let f = 0;
  if (!existsSync(file)) {
    console.log(`${label}: no vitest results at ${file}: the build, the download or the test run failed before any test ran`);
    f += 1;
  } else {
    const report = JSON.parse(readFileSync(file, 'utf8'));
    p = report.numPassedTests ?? 0;
    f = report.numFailedTests ?? 0;
    // A test file that fails to load has no test results but is a failure.
    const brokenSuites = (report.testResults ?? []).filter((s) => s.status === 'failed' && (s.assertionResults ?? []).length === 0);
    for (const s of brokenSuites) console.log(`${label}: test file failed to run: ${s.name}: ${(s.message ?? '').split('\n')[0]}`);
    f += brokenSuites.length;
    const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    if (skipped > 0) console.log(`${label}: ${skipped} tests skipped or todo`);
  }
  console.log(`${label}: ${p} passed, ${f} failed`);
  passed += p;
  failed += f;
}
if (runs.length === 0) {
  console.log('no test run was given');
  failed += 1;
}
if (typecheckStatus !== '0') {
  console.log('typecheck failed (counted as one failure)');
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
