#!/usr/bin/env node
/**
 * @module
 * The `certgate` executable: runs {@link run} on the process arguments and exits with its code.
 */
import { run } from './main.js';

const code = await run(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  cwd: process.cwd(),
});
process.exitCode = code;
