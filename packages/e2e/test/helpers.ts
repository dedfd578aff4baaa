/**
 * E2E helpers: start the real console (`node examples/console/src/main.js`, what `pnpm start` runs)
 * as a child process on 127.0.0.1 with a free port and a temporary data directory, and launch
 * Debian's Chromium through playwright-core.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

export const REPO = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const CHROMIUM = process.env.CERTGATE_CHROMIUM ?? '/usr/bin/chromium';

export interface RunningConsole {
  url: string;
  origin: string;
  port: number;
  dataDir: string;
  /** Everything the console printed (stdout + stderr). */
  output(): string;
  stop(): Promise<void>;
}

/** Starts the console and resolves once it prints its listening line. */
export async function startConsoleProcess(env: Record<string, string>): Promise<RunningConsole> {
  const dataDir = mkdtempSync(join(tmpdir(), 'certgate-e2e-'));
  const child: ChildProcess = spawn(process.execPath, [join(REPO, 'examples/console/src/main.js')], {
    cwd: join(REPO, 'examples/console'),
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', CERTGATE_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`the console did not start:\n${out}`)), 60_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /listening on (https:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`the console exited with ${code}:\n${out}`));
    });
  });
  const port = Number(new URL(url).port);
  return {
    url,
    origin: `https://127.0.0.1:${port}`,
    port,
    dataDir,
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless, with the flags a CI container needs. */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (.ci/run installs it)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Where screenshots go: `CERTGATE_SCREENSHOTS` (relative to the repository; the `screenshots` script
 * of this package sets it to docs/images), else a temporary directory, so an ordinary test run leaves the committed images alone.
 */
export function screenshotDir(): string {
  const dir = process.env.CERTGATE_SCREENSHOTS ? resolve(REPO, process.env.CERTGATE_SCREENSHOTS) : mkdtempSync(join(tmpdir(), 'certgate-shots-'));
  mkdirSync(dir, { recursive: true });
  return dir;
}
