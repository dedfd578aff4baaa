/**
 * Break-glass: an operator with shell access gets back in, through the store (version bump) and on
 * the audit log: CERTGATE_BREAK_GLASS at start, the reset-mode script against a running console, and
 * the reset-mode script on an unreadable (corrupt) settings file (kept aside, never silently reset).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCa, type TestCa, type TestCertificate } from '@certgate/core/testing';
import { startConsole } from '../src/app.js';
import { consoleFixture } from './helpers.js';

const PASSWORD = 'break-glass test password';
const here = fileURLToPath(new URL('.', import.meta.url));
const resetScript = join(here, '..', 'src', 'reset-mode.js');

const { call, start, tempDir } = consoleFixture(startConsole, { adminPassword: PASSWORD, appName: 'BG' }, 'certgate-breakglass-');
let ca: TestCa;
let admin: TestCertificate;

beforeAll(async () => {
  ca = await createCa({ subject: 'CN=Break-glass CA' });
  admin = await ca.issue({ subject: 'CN=admin' });
});

async function enforceWithAdmin(): Promise<number> {
  // From disabled the request's own connection was not asked for a certificate, so enable first;
  // the next connection is asked for one and can enforce.
  expect((await call('PUT', '/api/settings/mtls', { body: { enabled: true, enforce: false, caPem: ca.pem } })).status).toBe(200);
  const r1 = await call('PUT', '/api/settings/mtls', { body: { enabled: true, enforce: true }, cert: admin });
  expect(r1.status).toBe(200);
  expect(r1.json.mode).toBe('enforced');
  expect((await call('GET', '/api/whoami')).status).toBe(403); // the operator without the certificate is locked out
  return r1.json.version;
}

function runReset(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [resetScript, ...args], { timeout: 30_000, ...opts }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}
const auditEvents = (dir: string) => readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`not reached: ${what}`);
}

describe('break-glass', () => {
  it('CERTGATE_BREAK_GLASS=optional at start: enforced → optional with a version bump, audited', async () => {
    const dir = tempDir();
    let c = await start(dir);
    const version = await enforceWithAdmin();
    await c.close();
    const lines: string[] = [];
    c = await start(dir, { breakGlass: 'optional', log: (l) => lines.push(l) });
    expect(lines.join('\n')).toMatch(/Break-glass: mTLS mode is now optional \(version \d+\)/);
    const who = await call('GET', '/api/whoami');
    expect(who.status).toBe(200);
    const s = await call('GET', '/api/settings/mtls');
    expect(s.json).toMatchObject({ mode: 'optional', version: version + 1, updatedBy: 'break-glass (CERTGATE_BREAK_GLASS)' });
    expect(auditEvents(dir).at(-1)).toMatchObject({ action: 'break-glass', actor: 'break-glass (CERTGATE_BREAK_GLASS)', outcome: 'applied', from: { mode: 'enforced' }, to: { mode: 'optional' } });
  });

  it('an invalid CERTGATE_BREAK_GLASS value refuses to start', async () => {
    await expect(start(tempDir(), { breakGlass: 'enforced' })).rejects.toThrow(/CERTGATE_BREAK_GLASS must be "optional" or "disabled"/);
  });

  it('reset-mode script against a running console: the console picks it up without a restart', async () => {
    const dir = tempDir();
    await start(dir);
    const version = await enforceWithAdmin();
    const r = await runReset(['--data-dir', dir]);
    expect(r.out).toMatch(/mTLS mode is now optional/);
    expect(r.code).toBe(0);
    await eventually(async () => (await call('GET', '/api/whoami')).status === 200, 'console sees the reset');
    const s = await call('GET', '/api/settings/mtls');
    expect(s.json).toMatchObject({ mode: 'optional', version: version + 1, updatedBy: 'break-glass (reset-mode)' });
    expect(auditEvents(dir).at(-1)).toMatchObject({ action: 'break-glass', actor: 'break-glass (reset-mode)', to: { mode: 'optional' } });

    const off = await runReset(['--data-dir', dir, '--mode', 'disabled']);
    expect(off.code).toBe(0);
    await eventually(async () => (await call('GET', '/api/settings/mtls')).json?.mode === 'disabled', 'disabled');
    expect((await runReset(['--data-dir', dir, '--mode', 'enforced'])).code).toBe(2);
  });

  it('reset-mode resolves a relative --data-dir from where the command was typed (INIT_CWD), and refuses a directory without console settings', async () => {
    const dir = tempDir();
    await start(dir);
    await enforceWithAdmin();
    // As pnpm runs it: inside examples/console, INIT_CWD = the operator's directory.
    const scriptDir = join(here, '..');
    const env = { ...process.env, INIT_CWD: dirname(dir) };
    delete env.CERTGATE_DATA_DIR;
    const r = await runReset(['--data-dir', basename(dir)], { cwd: scriptDir, env });
    expect(r.out).toContain(`mTLS mode is now optional`);
    expect(r.out).toContain(dir);
    expect(r.code).toBe(0);
    await eventually(async () => (await call('GET', '/api/settings/mtls')).json?.mode === 'optional', 'reset seen');

    // A mistyped directory: refused, nothing written there.
    const wrong = join(dirname(dir), `${basename(dir)}-typo`);
    const bad = await runReset(['--data-dir', basename(wrong)], { cwd: scriptDir, env });
    expect(bad.code).toBe(1);
    expect(bad.out).toContain(`${wrong} holds no console settings (mtls-settings.json); nothing was changed`);
    expect(existsSync(wrong)).toBe(false);
  });

  it('a corrupt settings file: the console fails closed (403 for everyone); reset-mode repairs it and keeps the old file', async () => {
    const dir = tempDir();
    let c = await start(dir);
    await enforceWithAdmin();
    await c.close();
    writeFileSync(join(dir, 'mtls-settings.json'), '{"format":"certgate.mtls-settings.v1","state":');
    const lines: string[] = [];
    c = await start(dir, { log: (l) => lines.push(l) });
    expect(lines.join('\n')).toMatch(/WARNING: .*corrupt.*Every request is denied/);
    for (const cert of [null, admin]) {
      const r = await call('GET', '/api/settings/mtls', { cert });
      expect(r.status).toBe(403);
      expect(r.json.error.code).toBe('SETTINGS_UNAVAILABLE');
    }
    // never silently reset: the file is still the corrupt one
    expect(readFileSync(join(dir, 'mtls-settings.json'), 'utf8')).toContain('"state":');
    const r = await runReset(['--data-dir', dir]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/mTLS mode is now disabled/);
    await eventually(async () => (await call('GET', '/api/whoami')).status === 200, 'repaired store is picked up');
    const kept = readdirSync(dir).filter((n) => n.startsWith('mtls-settings.json.unreadable-'));
    expect(kept).toHaveLength(1);
    expect(readFileSync(join(dir, kept[0]!), 'utf8')).toBe('{"format":"certgate.mtls-settings.v1","state":');
    const repairedAt = (events: { action: string; code?: string; actor: string }[]) =>
      events.findIndex((e) => e.action === 'break-glass' && e.code === 'STORE_REPAIRED' && e.actor === 'break-glass (reset-mode)');
    // the running console noticed the store is readable again (its audit append is asynchronous
    // and may land before or after the script's own event)
    await eventually(async () => {
      const events = auditEvents(dir);
      return repairedAt(events) > 0 && events.some((e) => e.action === 'store-recovered');
    }, 'store-recovered after the repair');
    expect(auditEvents(dir).some((e) => e.action === 'store-unreadable')).toBe(true);
    expect(existsSync(join(dir, 'mtls-settings.json'))).toBe(true);
  });
});
