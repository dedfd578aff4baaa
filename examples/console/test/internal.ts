/**
 * The consoles' last-resort error handler (`INTERNAL`), shared by the Express and the Koa console's
 * tests: a fault nobody planned for (here the controller's clock throws) is a 500 with a fixed body —
 * nothing of the error reaches the client — and the console keeps serving.
 */
import { describe, expect, it, vi } from 'vitest';
import type { ConsoleOptions } from '../src/startup.js';
import { consoleFixture, type StartedConsole } from './helpers.js';

export function internalErrorTests(name: string, startConsole: (o: ConsoleOptions) => Promise<StartedConsole>): void {
  describe(`${name}: an unexpected fault`, () => {
    const { call, start } = consoleFixture(startConsole, { adminPassword: 'pw' }, 'certgate-internal-');

    it('is a 500 INTERNAL with a fixed message (no detail of the error), logged on the server; the console keeps serving', async () => {
      let broken = false;
      await start(undefined, {
        now: () => {
          if (broken) throw new Error('clock failed: SECRET-DETAIL');
          return new Date();
        },
      });
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
