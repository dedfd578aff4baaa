/**
 * The consoles' last-resort error handler (`INTERNAL`), shared by the Express and the Koa console's
 * tests: a fault nobody planned for (here the controller's clock throws) is a 500 with a fixed body —
 * nothing of the error reaches the client — and the console keeps serving.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { ConsoleOptions } from '../src/startup.js';
import { makeCaller } from './helpers.js';

export function internalErrorTests(name: string, startConsole: (o: ConsoleOptions) => Promise<{ port: number; devCaPem: string; close(): Promise<void> }>): void {
  describe(`${name}: an unexpected fault`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'certgate-internal-'));
    let c: Awaited<ReturnType<typeof startConsole>> | null = null;
    afterAll(async () => {
      await c?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('is a 500 INTERNAL with a fixed message (no detail of the error), logged on the server; the console keeps serving', async () => {
      let broken = false;
      c = await startConsole({
        dataDir: dir,
        port: 0,
        adminPassword: 'pw',
        log: () => {},
        now: () => {
          if (broken) throw new Error('clock failed: SECRET-DETAIL');
          return new Date();
        },
      });
      const call = makeCaller(() => ({ port: c!.port, ca: c!.devCaPem }), 'pw');
      expect((await call('GET', '/api/whoami')).status).toBe(200);
      const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
      broken = true;
      const r = await call('GET', '/api/whoami');
      broken = false;
      expect(r.status).toBe(500);
      expect(r.json).toEqual({ error: { code: 'INTERNAL', message: 'The request failed.' } });
      expect(r.text).not.toContain('SECRET-DETAIL');
      expect(logged.mock.calls.map((a) => a.join(' ')).join('\n')).toContain('SECRET-DETAIL');
      logged.mockRestore();
      expect((await call('GET', '/api/whoami')).status).toBe(200);
    });
  });
}
