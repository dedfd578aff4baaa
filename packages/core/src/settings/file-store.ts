/**
 * @module
 * A settings store in one JSON file, safe against crashes and concurrent writers:
 *
 * - every write goes to a temp file in the same directory, is fsynced, renamed over the store file
 *   (atomic on POSIX file systems) and the directory is fsynced, so a crash at any instant leaves
 *   either the old or the new content, never a mix;
 * - the content carries a SHA-256 of the state, so a file damaged by anything else is detected;
 * - compare-and-set holds an exclusive lock file (`O_EXCL`) across read-compare-write, so two
 *   processes sharing the directory cannot both win; a lock left by a dead process is taken over;
 * - an unreadable or corrupt file is reported as an error (the controller fails closed) and is
 *   never replaced by a default: only {@link SettingsStore.repair} (break-glass) replaces it, and
 *   it keeps the old bytes aside.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp, watchFile, unwatchFile, type Stats } from 'node:fs';
import { join, basename } from 'node:path';
import { CertgateError } from '../errors.js';
import { INITIAL_STATE, type MtlsState } from '../mode/machine.js';
import { checkNext, validateState, type SettingsStore, type StoreEvent } from './store.js';

/** The settings file's name inside the store's directory when `fileName` is not given. */
export const DEFAULT_SETTINGS_FILE = 'mtls-settings.json';

/** Options of {@link createFileSettingsStore}. */
export interface FileSettingsStoreOptions {
  /** The data directory (created if missing, mode 0700). */
  dir: string;
  /** File name inside `dir`. Default `mtls-settings.json`. */
  fileName?: string;
  /**
   * How often (milliseconds) to look for changes made by other processes (for example the
   * `reset-mode` break-glass script). Default 1000; 0 disables polling (in-process changes are
   * always reported at once).
   */
  pollIntervalMs?: number;
  /** How long (milliseconds) compare-and-set waits for the lock held by another live process. Default 10000. */
  lockTimeoutMs?: number;
}

const FORMAT = 'certgate.mtls-settings.v1';
/** Upper bound on the store file we read (a CA bundle is at most 1 MiB). */
const MAX_FILE = 4 * 1024 * 1024;

function digest(state: MtlsState): string {
  return createHash('sha256').update(JSON.stringify(state), 'utf8').digest('hex');
}

/** Serialises a state with its checksum (the exact bytes the file holds). */
export function encodeStateFile(state: MtlsState): string {
  return `${JSON.stringify({ format: FORMAT, sha256: digest(state), state }, null, 2)}\n`;
}

/** Parses the bytes of a store file; throws `ERR_CERTGATE_STORE_CORRUPT` with a reason. */
export function decodeStateFile(text: string, where: string): MtlsState {
  const corrupt = (why: string): never => {
    throw new CertgateError('ERR_CERTGATE_STORE_CORRUPT', `The mTLS settings file ${where} is corrupt (${why}); it was left untouched.`);
  };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return corrupt('not valid JSON');
  }
  if (doc === null || typeof doc !== 'object') return corrupt('not a JSON object');
  const d = doc as Record<string, unknown>;
  if (d.format !== FORMAT) return corrupt(`unknown format, expected "${FORMAT}"`);
  const checked = validateState(d.state);
  if (!checked.ok) return corrupt(checked.message);
  if (d.sha256 !== digest(checked.state)) return corrupt('checksum mismatch');
  return checked.state;
}

function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Creates (or opens) a file settings store in `options.dir`.
 *
 * @example
 * const store = await createFileSettingsStore({ dir: './data' });
 */
export async function createFileSettingsStore(options: FileSettingsStoreOptions): Promise<SettingsStore & { readonly path: string }> {
  if (!options || typeof options.dir !== 'string' || options.dir === '') {
    throw new CertgateError('ERR_CERTGATE_INVALID_OPTION', 'createFileSettingsStore: "dir" must be a directory path');
  }
  const fileName = options.fileName ?? DEFAULT_SETTINGS_FILE;
  if (basename(fileName) !== fileName) throw new CertgateError('ERR_CERTGATE_INVALID_OPTION', 'createFileSettingsStore: "fileName" must be a plain file name');
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
  const dir = options.dir;
  const path = join(dir, fileName);
  const lockPath = `${path}.lock`;
  const tmpPrefix = `${fileName}.tmp-`;

  try {
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new CertgateError('ERR_CERTGATE_STORE_UNAVAILABLE', `Cannot create the data directory ${dir}: ${(err as Error).message}`, { cause: err });
  }
  // Temp files of writers that died mid-save are garbage (the rename never happened).
  for (const name of await fsp.readdir(dir).catch(() => [] as string[])) {
    let rest: string;
    if (name.startsWith(tmpPrefix)) rest = name.slice(tmpPrefix.length);
    else if (name.startsWith(`${fileName}.lock.`)) rest = name.slice(fileName.length + 6).replace(/^stale-/, '');
    else continue;
    const pid = Number(rest.split('-')[0]);
    if (!pidAlive(pid)) await fsp.rm(join(dir, name), { force: true }).catch(() => {});
  }

  async function read(): Promise<MtlsState> {
    let text: string;
    try {
      const fh = await fsp.open(path, 'r');
      try {
        const st = await fh.stat();
        if (st.size > MAX_FILE) throw new CertgateError('ERR_CERTGATE_STORE_CORRUPT', `The mTLS settings file ${path} is corrupt (larger than ${MAX_FILE} bytes); it was left untouched.`);
        text = await fh.readFile('utf8');
      } finally {
        await fh.close();
      }
    } catch (err) {
      if (err instanceof CertgateError) throw err;
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return structuredClone(INITIAL_STATE) as MtlsState;
      throw new CertgateError('ERR_CERTGATE_STORE_UNAVAILABLE', `The mTLS settings file ${path} cannot be read: ${(err as Error).message}`, { cause: err });
    }
    return decodeStateFile(text, path);
  }

  async function writeAtomically(text: string): Promise<void> {
    const tmp = join(dir, `${tmpPrefix}${process.pid}-${randomBytes(6).toString('hex')}`);
    const fh = await fsp.open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await fsp.rename(tmp, path);
    } catch (err) {
      await fsp.rm(tmp, { force: true }).catch(() => {});
      throw err;
    }
    // fsync the directory so the rename itself is durable.
    const dh = await fsp.open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }

  async function acquireLock(): Promise<() => Promise<void>> {
    const deadline = Date.now() + lockTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      // The lock's content (our pid) is complete before the lock exists: write a private file,
      // then hard-link it as the lock (link fails with EEXIST when the lock is held).
      const mine = `${lockPath}.${process.pid}-${randomBytes(4).toString('hex')}`;
      try {
        await fsp.writeFile(mine, String(process.pid), { mode: 0o600, flag: 'wx' });
        await fsp.link(mine, lockPath);
        return () => fsp.rm(lockPath, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new CertgateError('ERR_CERTGATE_STORE_UNAVAILABLE', `Cannot lock the mTLS settings file ${path}: ${(err as Error).message}`, { cause: err });
        }
      } finally {
        await fsp.rm(mine, { force: true }).catch(() => {});
      }
      const holder = Number(await fsp.readFile(lockPath, 'utf8').catch(() => ''));
      if (holder !== process.pid && !pidAlive(holder)) {
        // A lock of a dead process (killed mid-save). Take it over by renaming it away first, so two
        // processes noticing at once do not both remove a lock the other one just took.
        const stale = `${lockPath}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
        const moved = await fsp.rename(lockPath, stale).then(() => true, () => false);
        if (moved) {
          const again = Number(await fsp.readFile(stale, 'utf8').catch(() => ''));
          if (again !== holder && pidAlive(again)) {
            // Between our read and our rename a live process took the lock: put its lock back
            // (link fails if a third one already created a new lock; then that one holds it).
            await fsp.link(stale, lockPath).catch(() => {});
          }
          await fsp.rm(stale, { force: true }).catch(() => {});
        }
        continue;
      }
      if (Date.now() > deadline) {
        throw new CertgateError('ERR_CERTGATE_STORE_UNAVAILABLE', `The mTLS settings file ${path} is locked by process ${holder}; try again.`);
      }
      await sleep(Math.min(5 + attempt * 5, 50));
    }
  }

  // In-process serialisation; the lock file covers other processes.
  let queue: Promise<unknown> = Promise.resolve();
  function serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = queue.then(fn, fn);
    queue = run.catch(() => {});
    return run;
  }

  const listeners = new Set<(e: StoreEvent) => void>();
  let lastSeen: string | null = null; // "version" or "error:<message>" last reported
  function emit(event: StoreEvent): void {
    const key = event.error ? `error:${event.error.message}` : `v${event.state.version}:${digest(event.state)}`;
    if (key === lastSeen) return;
    lastSeen = key;
    for (const l of [...listeners]) l(event);
  }

  const onPoll = (curr: Stats, prev: Stats): void => {
    if (curr.mtimeMs === prev.mtimeMs && curr.size === prev.size && curr.ino === prev.ino) return;
    // Through the same queue as compare-and-set, so a poll that read the old file cannot report it
    // after this process's newer write.
    serial(read).then(
      (state) => emit({ state }),
      (err: unknown) => emit({ error: err instanceof CertgateError ? err : new CertgateError('ERR_CERTGATE_STORE_UNAVAILABLE', String(err)) }),
    );
  };
  let polling = false;

  return {
    path,
    get: read,
    async compareAndSet(expectedVersion, next) {
      const checked = checkNext(expectedVersion, next);
      return serial(async () => {
        const release = await acquireLock();
        try {
          const current = await read();
          if (current.version !== expectedVersion) return { ok: false as const, current };
          try {
            await writeAtomically(encodeStateFile(checked));
          } catch (err) {
            throw new CertgateError('ERR_CERTGATE_STORE_UNAVAILABLE', `Cannot write the mTLS settings file ${path}: ${(err as Error).message}`, { cause: err });
          }
        } finally {
          await release();
        }
        emit({ state: structuredClone(checked) });
        return { ok: true as const, state: structuredClone(checked) };
      });
    },
    repair(next) {
      const checked = validateState(next);
      if (!checked.ok) return Promise.reject(new CertgateError('ERR_CERTGATE_INVALID_OPTION', `repair: "next" is not a valid state: ${checked.message}`));
      return serial(async () => {
        const release = await acquireLock();
        let keptAs: string | null = null;
        try {
          const exists = await fsp.stat(path).then(() => true, () => false);
          if (exists) {
            keptAs = `${path}.unreadable-${new Date().toISOString().replace(/[:.]/g, '-')}`;
            await fsp.copyFile(path, keptAs);
          }
          await writeAtomically(encodeStateFile(checked.state));
        } finally {
          await release();
        }
        emit({ state: structuredClone(checked.state) });
        return { keptAs };
      });
    },
    watch(listener) {
      listeners.add(listener);
      if (!polling && pollIntervalMs > 0) {
        polling = true;
        watchFile(path, { interval: pollIntervalMs, persistent: false }, onPoll);
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && polling) {
          polling = false;
          unwatchFile(path, onPoll);
        }
      };
    },
    close() {
      listeners.clear();
      if (polling) {
        polling = false;
        unwatchFile(path, onPoll);
      }
    },
  };
}
