/**
 * Settings stores: compare-and-set, versions, watch, corrupt/unreadable files (fail, never reset),
 * repair keeping the old bytes, concurrent writers in two store instances, and kill -9 mid-save.
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CertgateError,
  INITIAL_STATE,
  createFileSettingsStore,
  createMemorySettingsStore,
  decodeStateFile,
  encodeStateFile,
  type MtlsState,
  type SettingsStore,
  type StoreEvent,
} from '@certgate/core';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'certgate-settings-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const PEM = '-----BEGIN CERTIFICATE-----\nQUFB\n-----END CERTIFICATE-----\n';
function next(cur: MtlsState, patch: Partial<MtlsState> = {}): MtlsState {
  return { ...cur, version: cur.version + 1, updatedAt: new Date().toISOString(), updatedBy: 'test', ...patch };
}

function contract(name: string, make: () => Promise<SettingsStore>) {
  describe(`${name}: SettingsStore contract`, () => {
    it('starts at version 0, disabled', async () => {
      const s = await make();
      expect(await s.get()).toEqual(INITIAL_STATE);
    });

    it('compare-and-set bumps the version; a stale version loses with the current state', async () => {
      const s = await make();
      const a = await s.compareAndSet(0, next(INITIAL_STATE, { mode: 'optional', caPem: PEM }));
      expect(a.ok).toBe(true);
      const stale = await s.compareAndSet(0, next(INITIAL_STATE, { mode: 'disabled' }));
      expect(stale.ok).toBe(false);
      if (!stale.ok) expect(stale.current).toMatchObject({ version: 1, mode: 'optional' });
      expect(await s.get()).toMatchObject({ version: 1, mode: 'optional', caPem: PEM });
    });

    it('refuses a next state that is not expectedVersion + 1 or not valid', async () => {
      const s = await make();
      await expect(s.compareAndSet(0, { ...INITIAL_STATE, version: 5 })).rejects.toMatchObject({ code: 'ERR_CERTGATE_INVALID_OPTION' });
      await expect(s.compareAndSet(0, { ...INITIAL_STATE, version: 1, mode: 'enforced' })).rejects.toThrow(/without a CA/);
      expect((await s.get()).version).toBe(0);
    });

    it('concurrent compare-and-sets on the same version: exactly one wins', async () => {
      const s = await make();
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => s.compareAndSet(0, next(INITIAL_STATE, { updatedBy: `w${i}` }))),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect((await s.get()).version).toBe(1);
    });

    it('watch reports every change; unsubscribe stops it', async () => {
      const s = await make();
      const seen: StoreEvent[] = [];
      const off = s.watch((e) => seen.push(e));
      await s.compareAndSet(0, next(INITIAL_STATE));
      await s.compareAndSet(1, next({ ...INITIAL_STATE, version: 1 }, { mode: 'optional', caPem: PEM }));
      off();
      await s.compareAndSet(2, next({ ...INITIAL_STATE, version: 2, mode: 'optional', caPem: PEM }));
      expect(seen.map((e) => e.state?.version)).toEqual([1, 2]);
      s.close?.();
    });
  });
}

contract('memory store', async () => createMemorySettingsStore());
contract('file store', async () => createFileSettingsStore({ dir: tempDir(), pollIntervalMs: 0 }));

describe('file store', () => {
  it('survives a restart (a new instance reads what the old one wrote)', async () => {
    const dir = tempDir();
    const a = await createFileSettingsStore({ dir, pollIntervalMs: 0 });
    await a.compareAndSet(0, next(INITIAL_STATE, { mode: 'optional', caPem: PEM, host: { loginMethod: 'password' } }));
    const b = await createFileSettingsStore({ dir, pollIntervalMs: 0 });
    expect(await b.get()).toMatchObject({ version: 1, mode: 'optional', caPem: PEM, host: { loginMethod: 'password' } });
  });

  it('two instances on one directory serialise: no lost update across 40 racing increments', async () => {
    const dir = tempDir();
    const stores = await Promise.all([0, 1].map(() => createFileSettingsStore({ dir, pollIntervalMs: 0 })));
    let wins = 0;
    await Promise.all(
      stores.map(async (s, k) => {
        for (let i = 0; i < 20; ) {
          const cur = await s.get();
          const r = await s.compareAndSet(cur.version, next(cur, { updatedBy: `store-${k}` }));
          if (r.ok) {
            wins++;
            i++;
          }
        }
      }),
    );
    expect(wins).toBe(40);
    expect((await stores[0]!.get()).version).toBe(40);
  });

  it('a corrupt file makes get() fail with ERR_CERTGATE_STORE_CORRUPT, and writes refuse; the file is never reset', async () => {
    const dir = tempDir();
    const s = await createFileSettingsStore({ dir, pollIntervalMs: 0 });
    await s.compareAndSet(0, next(INITIAL_STATE, { mode: 'optional', caPem: PEM }));
    const bad = '{"format":"certgate.mtls-settings.v1","sha256":"00","state":{"version":1';
    writeFileSync(s.path, bad);
    await expect(s.get()).rejects.toMatchObject({ code: 'ERR_CERTGATE_STORE_CORRUPT' });
    await expect(s.compareAndSet(1, next({ ...INITIAL_STATE, version: 1 }))).rejects.toBeInstanceOf(CertgateError);
    const reopened = await createFileSettingsStore({ dir, pollIntervalMs: 0 });
    await expect(reopened.get()).rejects.toMatchObject({ code: 'ERR_CERTGATE_STORE_CORRUPT' });
    expect(readFileSync(s.path, 'utf8')).toBe(bad);
  });

  it('detects a tampered state by its checksum', () => {
    const text = encodeStateFile({ ...INITIAL_STATE, version: 3, mode: 'enforced', caPem: PEM });
    expect(decodeStateFile(text, 'x')).toMatchObject({ version: 3, mode: 'enforced' });
    const tampered = text.replace('"enforced"', '"disabled"');
    expect(() => decodeStateFile(tampered, 'x')).toThrow(/checksum mismatch/);
    expect(() => decodeStateFile('[]', 'x')).toThrow(/corrupt/);
    expect(() => decodeStateFile(text.replace('certgate.mtls-settings.v1', 'v0'), 'x')).toThrow(/unknown format/);
  });

  it('an unreadable path (a directory where the file should be) is ERR_CERTGATE_STORE_UNAVAILABLE', async () => {
    const dir = tempDir();
    const s = await createFileSettingsStore({ dir, fileName: 'settings.json', pollIntervalMs: 0 });
    rmSync(s.path, { force: true });
    execFileSync('mkdir', [s.path]);
    await expect(s.get()).rejects.toMatchObject({ code: 'ERR_CERTGATE_STORE_UNAVAILABLE' });
  });

  it('repair() replaces an unreadable file and keeps the old bytes aside', async () => {
    const dir = tempDir();
    const s = await createFileSettingsStore({ dir, pollIntervalMs: 0 });
    writeFileSync(s.path, 'garbage');
    const { keptAs } = await s.repair!({ ...INITIAL_STATE, version: 1, updatedBy: 'operator' });
    expect(keptAs).not.toBeNull();
    expect(readFileSync(keptAs!, 'utf8')).toBe('garbage');
    expect(await s.get()).toMatchObject({ version: 1, mode: 'disabled', updatedBy: 'operator' });
  });

  it('polling sees a change written by another instance (another process in real life)', async () => {
    const dir = tempDir();
    const watcher = await createFileSettingsStore({ dir, pollIntervalMs: 20 });
    const writer = await createFileSettingsStore({ dir, pollIntervalMs: 0 });
    const got = new Promise<StoreEvent>((resolve) => watcher.watch(resolve));
    await writer.compareAndSet(0, next(INITIAL_STATE, { mode: 'optional', caPem: PEM }));
    const e = await got;
    expect(e.state).toMatchObject({ version: 1, mode: 'optional' });
    watcher.close?.();
  });

  it('polling reports a file that became corrupt as an error event', async () => {
    const dir = tempDir();
    const watcher = await createFileSettingsStore({ dir, pollIntervalMs: 20 });
    await watcher.compareAndSet(0, next(INITIAL_STATE));
    const got = new Promise<StoreEvent>((resolve) => watcher.watch((e) => e.error && resolve(e)));
    writeFileSync(watcher.path, '{"broken":');
    const e = await got;
    expect(e.error?.code).toBe('ERR_CERTGATE_STORE_CORRUPT');
    watcher.close?.();
  });
});

describe('file store: kill -9 during saves', () => {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const coreDir = join(here, '..');
  beforeAll(() => {
    // The child imports the built package; build it when running against sources.
    if (!existsSync(join(coreDir, 'dist', 'index.js'))) execFileSync('pnpm', ['run', 'build'], { cwd: coreDir, stdio: 'ignore' });
  }, 120_000);

  it('never leaves a corrupt or half-written store (25 kills at random instants)', async () => {
    const dir = tempDir();
    let lastVersion = 0;
    let totalSaved = 0;
    for (let round = 0; round < 25; round++) {
      const child = spawn(process.execPath, [join(here, 'fixtures', 'settings-writer.mjs'), dir], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      await new Promise<void>((resolve, reject) => {
        const t = setInterval(() => {
          if (out.includes('ready')) {
            clearInterval(t);
            resolve();
          }
        }, 2);
        child.once('exit', (code) => {
          clearInterval(t);
          reject(new Error(`writer exited early (${code}): ${err}`));
        });
      });
      // let it save for a random while (each save writes ~256 KiB + fsync), then kill it mid-flight
      await new Promise((r) => setTimeout(r, 5 + Math.floor(Math.random() * 40)));
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      totalSaved += (out.match(/saved /g) ?? []).length;

      // The file is either absent (no save finished yet) or a complete, checksummed state.
      const store = await createFileSettingsStore({ dir, pollIntervalMs: 0 });
      const state = await store.get();
      expect(state.version).toBeGreaterThanOrEqual(lastVersion);
      const confirmed = [...out.matchAll(/saved (\d+)/g)].map((m) => Number(m[1]));
      if (confirmed.length > 0) expect(state.version).toBeGreaterThanOrEqual(Math.max(...confirmed));
      lastVersion = state.version;
      // No temp file of the dead writer survives a new store's start.
      expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
    }
    // A fresh writer can still take the lock (a lock left by a killed writer is taken over) and save.
    const store = await createFileSettingsStore({ dir, pollIntervalMs: 0, lockTimeoutMs: 2000 });
    const cur = await store.get();
    const r = await store.compareAndSet(cur.version, next(cur));
    expect(r.ok).toBe(true);
    // the writers really were saving when they were killed
    expect(totalSaved).toBeGreaterThan(0);
    expect(lastVersion).toBeGreaterThan(0);
  }, 120_000);
});
