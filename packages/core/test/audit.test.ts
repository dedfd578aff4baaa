import { mkdtempSync, readFileSync, rmSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileAuditLog, createMemoryAuditLog, type AuditEvent } from '@certgate/core';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'certgate-audit-'));
  dirs.push(d);
  return d;
}

const event = (i: number, extra: Partial<AuditEvent> = {}): AuditEvent => ({
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  actor: 'admin',
  action: 'save',
  outcome: 'applied',
  from: { mode: 'disabled', version: i },
  to: { mode: 'optional', version: i + 1 },
  ...extra,
});

describe('audit logs', () => {
  it('memory log keeps the last N events, oldest first', async () => {
    const log = createMemoryAuditLog({ max: 3 });
    for (let i = 0; i < 5; i++) await log.append(event(i));
    expect((await log.recent()).map((e) => e.from?.version)).toEqual([2, 3, 4]);
    expect((await log.recent(1)).map((e) => e.from?.version)).toEqual([4]);
  });

  it('file log appends one JSON line per event, in order, including concurrent appends', async () => {
    const path = join(tempDir(), 'sub', 'audit.jsonl');
    const log = createFileAuditLog({ path });
    await Promise.all(Array.from({ length: 20 }, (_, i) => log.append(event(i, { code: i % 2 ? 'VERSION_CONFLICT' : undefined }))));
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(20);
    const parsed = lines.map((l) => JSON.parse(l) as AuditEvent);
    expect(parsed.map((e) => e.from?.version)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(parsed[1]!.code).toBe('VERSION_CONFLICT');
    expect(parsed[0]).not.toHaveProperty('code');
    expect((await log.recent(5)).map((e) => e.from?.version)).toEqual([15, 16, 17, 18, 19]);
  });

  it('is bounded: rotates past maxBytes and keeps at most `keep` old files', async () => {
    const dir = tempDir();
    const path = join(dir, 'audit.jsonl');
    const log = createFileAuditLog({ path, maxBytes: 4096, keep: 2 });
    for (let i = 0; i < 200; i++) await log.append(event(i, { reason: 'x'.repeat(100) }));
    expect(statSync(path).size).toBeLessThanOrEqual(4096);
    expect(existsSync(`${path}.1`)).toBe(true);
    expect(existsSync(`${path}.2`)).toBe(true);
    expect(existsSync(`${path}.3`)).toBe(false);
    const recent = await log.recent(1000);
    expect(recent.at(-1)!.from?.version).toBe(199);
    // consecutive, nothing lost inside the kept window
    const versions = recent.map((e) => e.from!.version);
    expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => 200 - versions.length + i));
  });

  it('clips oversized fields so one attempt cannot bloat the log', async () => {
    const log = createMemoryAuditLog();
    await log.append(event(0, { reason: 'r'.repeat(100_000), actor: 'a'.repeat(10_000) }));
    const [e] = await log.recent();
    expect(e!.reason!.length).toBeLessThanOrEqual(512);
    expect(e!.actor.length).toBeLessThanOrEqual(512);
  });
});
