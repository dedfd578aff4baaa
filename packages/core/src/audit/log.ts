/**
 * @module
 * Audit events: one per attempt to change the mTLS settings (applied, partially applied, refused,
 * conflicting or failed), plus break-glass and store failures. Two logs: in memory (bounded) and an
 * append-only JSONL file (bounded by rotation).
 */
import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import { CertgateError } from '../errors.js';
import type { Mode } from '../mode/machine.js';

/** What happened to the attempt. */
export type AuditOutcome = 'applied' | 'partial' | 'refused' | 'error';

/** One audit event (plain JSON). */
export interface AuditEvent {
  /** ISO 8601 instant. */
  time: string;
  /** Who asked (e.g. `admin`, `break-glass (CERTGATE_BREAK_GLASS)`). */
  actor: string;
  /** `save`, `host`, `break-glass`, `store-unreadable`, `store-recovered`. */
  action: string;
  outcome: AuditOutcome;
  from: { mode: Mode; version: number } | null;
  to: { mode: Mode; version: number } | null;
  /** The refusal or error code, when not plainly applied. */
  code?: string;
  /** Why it was refused, for a person. */
  reason?: string;
  /** The requester's certificate (never its bytes): SHA-256 fingerprint and subject. */
  client?: { fingerprint256: string; subject: string } | null;
  /** Anything else worth keeping (short strings). */
  detail?: Record<string, string>;
}

/** Where audit events go. `append` never throws for a bad event; it rejects only when the log cannot be written. */
export interface AuditLog {
  append(event: AuditEvent): Promise<void>;
  /** The most recent events, oldest first (at most `limit`). */
  recent(limit?: number): Promise<AuditEvent[]>;
}

const MAX_FIELD = 512;

function clip(s: string): string {
  return s.length > MAX_FIELD ? `${s.slice(0, MAX_FIELD - 1)}…` : s;
}

/** @internal Bounds every string of an event so one attempt cannot bloat the log. */
export function boundEvent(e: AuditEvent): AuditEvent {
  const out: AuditEvent = {
    time: clip(String(e.time)),
    actor: clip(String(e.actor)),
    action: clip(String(e.action)),
    outcome: e.outcome,
    from: e.from ? { mode: e.from.mode, version: e.from.version } : null,
    to: e.to ? { mode: e.to.mode, version: e.to.version } : null,
  };
  if (e.code !== undefined) out.code = clip(String(e.code));
  if (e.reason !== undefined) out.reason = clip(String(e.reason));
  if (e.client !== undefined) out.client = e.client ? { fingerprint256: clip(e.client.fingerprint256), subject: clip(e.client.subject) } : null;
  if (e.detail) {
    const d: Record<string, string> = {};
    for (const [k, v] of Object.entries(e.detail).slice(0, 16)) d[clip(k)] = clip(String(v));
    out.detail = d;
  }
  return out;
}

/** A bounded in-memory audit log (default: the last 1000 events). */
export function createMemoryAuditLog(options: { max?: number } = {}): AuditLog {
  const max = options.max ?? 1000;
  if (!Number.isSafeInteger(max) || max < 1) throw new CertgateError('ERR_CERTGATE_INVALID_OPTION', 'createMemoryAuditLog: "max" must be a positive integer');
  const events: AuditEvent[] = [];
  return {
    async append(event) {
      events.push(boundEvent(event));
      if (events.length > max) events.splice(0, events.length - max);
    },
    async recent(limit = max) {
      return events.slice(-limit).map((e) => structuredClone(e));
    },
  };
}

/** Options of {@link createFileAuditLog}. */
export interface FileAuditLogOptions {
  /** The JSONL file (its directory is created if missing). */
  path: string;
  /** Rotate when the file would grow past this many bytes. Default 5 MiB. */
  maxBytes?: number;
  /** Rotated files kept (`path.1` … `path.N`). Default 2. Total size is bounded by (keep + 1) × maxBytes. */
  keep?: number;
}

/**
 * An append-only JSONL audit log, one event a line, bounded by rotation. Appends from one process
 * are serialised; each line is written with a single `O_APPEND` write.
 */
export function createFileAuditLog(options: FileAuditLogOptions): AuditLog {
  if (!options || typeof options.path !== 'string' || options.path === '') {
    throw new CertgateError('ERR_CERTGATE_INVALID_OPTION', 'createFileAuditLog: "path" must be a file path');
  }
  const { path } = options;
  const maxBytes = options.maxBytes ?? 5 * 1024 * 1024;
  const keep = options.keep ?? 2;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 4096) throw new CertgateError('ERR_CERTGATE_INVALID_OPTION', 'createFileAuditLog: "maxBytes" must be an integer ≥ 4096');
  if (!Number.isSafeInteger(keep) || keep < 0 || keep > 100) throw new CertgateError('ERR_CERTGATE_INVALID_OPTION', 'createFileAuditLog: "keep" must be an integer 0…100');
  let queue: Promise<unknown> = Promise.resolve();
  let dirReady = false;

  async function rotate(): Promise<void> {
    if (keep === 0) {
      await fsp.rm(path, { force: true });
      return;
    }
    await fsp.rm(`${path}.${keep}`, { force: true });
    for (let i = keep - 1; i >= 1; i--) await fsp.rename(`${path}.${i}`, `${path}.${i + 1}`).catch(() => {});
    await fsp.rename(path, `${path}.1`).catch(() => {});
  }

  return {
    append(event) {
      const line = `${JSON.stringify(boundEvent(event))}\n`;
      const run = queue.then(async () => {
        if (!dirReady) {
          await fsp.mkdir(dirname(path), { recursive: true, mode: 0o700 });
          dirReady = true;
        }
        const size = await fsp.stat(path).then((s) => s.size, () => 0);
        if (size > 0 && size + Buffer.byteLength(line) > maxBytes) await rotate();
        await fsp.appendFile(path, line, { encoding: 'utf8', mode: 0o600, flag: 'a' });
      });
      queue = run.catch(() => {});
      return run;
    },
    async recent(limit = 1000) {
      await queue;
      const files = [path, ...Array.from({ length: keep }, (_, i) => `${path}.${i + 1}`)];
      const out: AuditEvent[] = [];
      for (const f of files) {
        if (out.length >= limit) break;
        const text = await fsp.readFile(f, 'utf8').catch(() => '');
        const lines = text.split('\n').filter((l) => l.length > 0);
        const events: AuditEvent[] = [];
        for (const l of lines) {
          try {
            events.push(JSON.parse(l) as AuditEvent);
          } catch {
            // a torn last line after a crash: skip it
          }
        }
        out.unshift(...events.slice(-(limit - out.length)));
      }
      return out;
    },
  };
}
