/**
 * Break-glass on the Koa console: CERTGATE_BREAK_GLASS at start lowers an enforced state (version
 * bump, audited), an invalid value refuses to start, and a request denied in enforced gets the HTML
 * page in a browser and a JSON 404 for unknown paths once admitted.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCa, type TestCa, type TestCertificate } from '@certgate/core/testing';
import { consoleFixture } from '../../console/test/helpers.js';
import { startConsole } from '../src/app.js';

const PASSWORD = 'koa break-glass password';
const { call, start, tempDir } = consoleFixture(startConsole, { adminPassword: PASSWORD, appName: 'Koa BG' }, 'certgate-koa-breakglass-');
let ca: TestCa;
let admin: TestCertificate;

beforeAll(async () => {
  ca = await createCa({ subject: 'CN=Koa Break-glass CA' });
  admin = await ca.issue({ subject: 'CN=admin' });
});

describe('Koa console break-glass', () => {
  it('CERTGATE_BREAK_GLASS=optional at start: enforced → optional with a version bump, audited', async () => {
    const dir = tempDir();
    const c = await start(dir);
    expect((await call('PUT', '/api/settings/mtls', { body: { enabled: true, enforce: false, caPem: ca.pem } })).status).toBe(200);
    const enforced = await call('PUT', '/api/settings/mtls', { body: { enabled: true, enforce: true }, cert: admin });
    expect(enforced.json.mode).toBe('enforced');
    const page = await call('GET', '/', { accept: 'text/html', password: false });
    expect(page.status).toBe(403);
    expect(page.text).toContain('<h1>Access denied</h1>');
    expect((await call('GET', '/nope', { cert: admin })).json).toEqual({ error: { code: 'NOT_FOUND', message: 'Not found.' } });
    await c.close();
    const lines: string[] = [];
    await start(dir, { breakGlass: 'optional', log: (l) => lines.push(l) });
    expect(lines.join('\n')).toMatch(/Break-glass: mTLS mode is now optional \(version \d+\)/);
    expect((await call('GET', '/api/whoami')).status).toBe(200);
    const s = await call('GET', '/api/settings/mtls');
    expect(s.json).toMatchObject({ mode: 'optional', version: enforced.json.version + 1, updatedBy: 'break-glass (CERTGATE_BREAK_GLASS)' });
    const events = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(events.at(-1)).toMatchObject({ action: 'break-glass', outcome: 'applied', from: { mode: 'enforced' }, to: { mode: 'optional' } });
  });

  it('an invalid CERTGATE_BREAK_GLASS value refuses to start', async () => {
    await expect(start(tempDir(), { breakGlass: 'enforced' })).rejects.toThrow(/CERTGATE_BREAK_GLASS must be "optional" or "disabled"/);
  });
});
