// Prints the plain "N passed, N failed" line from vitest's JSON reporter output.
// Usage: node .ci/summary.mjs <results.json> [typecheckExitStatus]
import { existsSync, readFileSync } from 'node:fs';

const [file, typecheckStatus = '0'] = process.argv.slice(2);
let passed = 0;
let failed = 0;
if (!file || !existsSync(file)) {
  console.log(`no vitest results at ${file ?? '(none)'}: the build or the test run failed before any test ran`);
  failed += 1;
} else {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed = report.numPassedTests ?? 0;
  failed = report.numFailedTests ?? 0;
  // A test file that fails to load has no test results but is a failure.
  const brokenSuites = (report.testResults ?? []).filter(
    (s) => s.status === 'failed' && (s.assertionResults ?? []).length === 0,
  );
  for (const s of brokenSuites) console.log(`test file failed to run: ${s.name}: ${(s.message ?? '').split('\n')[0]}`);
  failed += brokenSuites.length;
  const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  if (skipped > 0) console.log(`${skipped} tests skipped or todo`);
}
if (typecheckStatus !== '0') {
  console.log('typecheck failed (counted as one failure)');
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
