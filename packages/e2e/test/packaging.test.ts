/**
 * Packaging checks on what `pnpm pack` produces for each published package (`packages/*` that are
 * not private), after `pnpm build`:
 * - publint (strict: warnings fail) on every tarball;
 * - Are the Types Wrong? (profile node16: Node's ESM and CJS resolution; node10 is out of scope,
 *   engines say Node ≥ 20.19) on every tarball that ships types;
 * - the tarballs installed with npm into three fresh projects outside the workspace (ESM, CJS,
 *   TypeScript `module: nodenext` with `tsc --noEmit`), each importing `@certgate/core` (doing a real
 *   validation) and the adapters. Their third-party dependencies come from the npm registry.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from './helpers.js';

const run = promisify(execFile);
const BIN = join(REPO, 'node_modules/.bin');

interface Pkg {
  dir: string;
  name: string;
  version: string;
  hasTypes: boolean;
  tarball: string;
  json: Record<string, any>;
}

const publishable: Omit<Pkg, 'tarball'>[] = readdirSync(join(REPO, 'packages'))
  .filter((d) => existsSync(join(REPO, 'packages', d, 'package.json')))
  .map((d) => {
    const json = JSON.parse(readFileSync(join(REPO, 'packages', d, 'package.json'), 'utf8'));
    return { dir: join(REPO, 'packages', d), name: json.name as string, version: json.version as string, hasTypes: Boolean(json.types || json.exports?.['.']?.import?.types), json, private: json.private === true };
  })
  .filter((p) => !p.private);

let work: string;
const pkgs = new Map<string, Pkg>();

async function sh(cmd: string, args: string[], cwd: string, timeout = 240_000): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(cmd, args, { cwd, timeout, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, npm_config_yes: 'true', npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' } });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'certgate-pack-'));
  const dest = join(work, 'tarballs');
  mkdirSync(dest);
  for (const p of publishable) {
    expect(existsSync(join(p.dir, 'dist')), `${p.name} is built (pnpm build)`).toBe(true);
    const before = new Set(readdirSync(dest));
    await sh('pnpm', ['pack', '--pack-destination', dest], p.dir);
    const made = readdirSync(dest).filter((f) => !before.has(f));
    expect(made).toHaveLength(1);
    pkgs.set(p.name, { ...p, tarball: join(dest, made[0]!) });
  }
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('packages', () => {
  it('the published packages are the ones expected', () => {
    expect(publishable.map((p) => p.name)).toEqual(expect.arrayContaining(['@certgate/core', '@certgate/tls', '@certgate/express', '@certgate/cli']));
  });

  it('every library package builds ESM + CJS + .d.ts and lists them in exports (types first)', () => {
    for (const p of pkgs.values()) {
      if (!p.hasTypes) continue; // the CLI is a bin, not a library
      for (const [sub, entry] of Object.entries(p.json.exports as Record<string, any>)) {
        if (sub === './package.json') continue;
        expect(Object.keys(entry), `${p.name} ${sub}`).toEqual(['import', 'require']);
        for (const cond of ['import', 'require']) {
          expect(Object.keys(entry[cond]), `${p.name} ${sub} ${cond}`).toEqual(['types', 'default']);
          for (const f of Object.values(entry[cond]) as string[]) expect(existsSync(join(p.dir, f)), `${p.name}: ${f}`).toBe(true);
        }
      }
    }
  });

  it('pnpm pack replaced workspace: ranges with real versions', async () => {
    for (const p of pkgs.values()) {
      const dir = join(work, 'unpacked', p.name);
      mkdirSync(dir, { recursive: true });
      await sh('tar', ['-xzf', p.tarball, '-C', dir], work);
      const packed = readFileSync(join(dir, 'package', 'package.json'), 'utf8');
      expect(packed, p.name).not.toContain('workspace:');
    }
  });

  it.each(publishable.map((p) => p.name))('publint --strict: %s', async (name) => {
    const { stdout } = await sh(join(BIN, 'publint'), ['run', pkgs.get(name)!.tarball, '--strict', '--pack', 'false'], work);
    expect(stdout).toContain('All good!');
  });

  it.each(publishable.filter((p) => p.hasTypes).map((p) => p.name))('attw (node16 ESM + CJS): %s', async (name) => {
    // Exits non-zero on a problem the profile counts (sh throws then); the JSON lists node10 ones too.
    const { stdout } = await sh(join(BIN, 'attw'), [pkgs.get(name)!.tarball, '--profile', 'node16', '--format', 'json'], work);
    const report = JSON.parse(stdout);
    const problems = (report.analysis.problems ?? []).filter((p: { resolutionKind?: string }) => p.resolutionKind !== 'node10');
    expect(problems).toEqual([]);
  });
});

describe('pack, install and import in fresh projects', () => {
  const libs = () => [...pkgs.values()].filter((p) => p.hasTypes);
  const adapters = () => libs().filter((p) => p.name !== '@certgate/core').map((p) => p.name);

  async function project(kind: string, pkgJson: Record<string, unknown>, extraDeps: string[] = []): Promise<string> {
    const dir = join(work, kind);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `certgate-smoke-${kind}`, version: '1.0.0', private: true, ...pkgJson }, null, 2));
    // Local tarballs for @certgate/*; their third-party dependencies (and the peers) from the registry.
    await sh('npm', ['install', '--no-package-lock', '--loglevel=error', ...[...pkgs.values()].map((p) => p.tarball), ...extraDeps], dir, 480_000);
    return dir;
  }

  const VALIDATE = `
    const pki = await createTestPki();
    const store = TrustStore.fromPem(pki.caPem);
    const ok = await verifyChain(pki.clientChain, store);
    const stranger = await (await createCa({ subject: 'CN=Some Other CA' })).issue({ subject: 'CN=stranger' });
    const bad = await verifyChain([stranger.pem], store);
  `;

  it('ESM ("type": "module") imports every package and validates a chain', async () => {
    const dir = await project('esm', { type: 'module' });
    writeFileSync(
      join(dir, 'index.js'),
      `import { verifyChain, TrustStore, createController, createMemorySettingsStore, VERIFICATION_CODES } from '@certgate/core';
import { createCa, createTestPki } from '@certgate/core/testing';
${adapters().map((n, i) => `import * as adapter${i} from '${n}';`).join('\n')}
${VALIDATE}
const controller = await createController({ store: createMemorySettingsStore() });
console.log(JSON.stringify({ ok: ok.ok, subject: ok.ok ? ok.identity.subject : null, bad: bad.ok ? null : bad.code, mode: controller.status().state.mode,
  codes: VERIFICATION_CODES.length, adapters: [${adapters().map((_, i) => `Object.keys(adapter${i}).sort()`).join(', ')}] }));
controller.close();
`,
    );
    const out = JSON.parse((await sh('node', ['index.js'], dir)).stdout);
    expect(out).toMatchObject({ ok: true, subject: 'O=certgate,CN=certgate test client', bad: 'UNKNOWN_ISSUER', mode: 'disabled' });
    expect(out.codes).toBeGreaterThan(10);
    expectAdapterExports(out.adapters);
  });

  it('CJS (require) loads every package and validates a chain', async () => {
    const dir = await project('cjs', { type: 'commonjs' });
    writeFileSync(
      join(dir, 'index.js'),
      `'use strict';
const { verifyChain, TrustStore } = require('@certgate/core');
const { createCa, createTestPki } = require('@certgate/core/testing');
const adapters = [${adapters().map((n) => `require('${n}')`).join(', ')}];
(async () => {
  ${VALIDATE}
  console.log(JSON.stringify({ ok: ok.ok, bad: bad.ok ? null : bad.code, resolved: require.resolve('@certgate/core'), adapters: adapters.map((a) => Object.keys(a).sort()) }));
})().catch((e) => { console.error(e); process.exit(1); });
`,
    );
    const out = JSON.parse((await sh('node', ['index.js'], dir)).stdout);
    expect(out).toMatchObject({ ok: true, bad: 'UNKNOWN_ISSUER' });
    expect(out.resolved).toMatch(/index\.cjs$/);
    expectAdapterExports(out.adapters);
  });

  it('TypeScript (module nodenext, strict) type-checks ESM and CJS consumers with tsc --noEmit', async () => {
    const dir = await project('ts', { type: 'module' }, ['@types/node@20', '@types/express@5.0.6']);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, verbatimModuleSyntax: true, types: ['node'] }, include: ['*.ts', '*.cts'] }),
    );
    writeFileSync(
      join(dir, 'index.ts'),
      `import { verifyChain, TrustStore, type VerifyResult, type Mode } from '@certgate/core';
import { createTestPki } from '@certgate/core/testing';
import { attachController } from '@certgate/tls';
import { mtls, type ClientCertificate } from '@certgate/express';
const pki = await createTestPki();
const r: VerifyResult = await verifyChain(pki.clientChain, TrustStore.fromPem(pki.caPem));
if (r.ok) { const s: string = r.identity.subject; void s; } else { const c: string = r.code; void c; }
const m: Mode = 'enforced';
const f: typeof attachController = attachController;
const d: ClientCertificate | undefined = undefined;
void m; void f; void d; void mtls;
// @ts-expect-error: not a mode
const wrong: Mode = 'sometimes';
void wrong;
`,
    );
    writeFileSync(
      join(dir, 'legacy.cts'),
      `import core = require('@certgate/core');
const mode: core.Mode = 'optional';
const codes: readonly core.VerificationCode[] = core.VERIFICATION_CODES;
export = { mode, codes };
`,
    );
    await sh('node', [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], dir);
    // And a deliberate type error is reported, so the check above is not vacuous.
    writeFileSync(join(dir, 'broken.ts'), `import { verifyChain } from '@certgate/core';\nawait verifyChain(42, 'not a store');\n`);
    await expect(sh('node', [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], dir)).rejects.toThrow(/broken\.ts.*error TS2345/s);
  });

  function expectAdapterExports(lists: string[][]): void {
    const names = adapters();
    expect(lists).toHaveLength(names.length);
    names.forEach((n, i) => {
      if (n === '@certgate/tls') expect(lists[i]).toEqual(expect.arrayContaining(['attachController', 'decideSocket', 'peerChainFromSocket']));
      if (n === '@certgate/express') expect(lists[i]).toEqual(expect.arrayContaining(['mtls', 'settingsRouter']));
      expect(lists[i]!.length, n).toBeGreaterThan(0);
    });
  }
});
