/**
 * Shared vitest settings for every workspace project.
 *
 * By default tests import the *built* packages (`dist/`, through each package's `exports` map), exactly
 * as a user would; `pnpm test` builds first. For quick iteration set `CERTGATE_SRC=1` (or run
 * `pnpm test:src`) and the `@certgate/*` imports resolve to the TypeScript sources instead.
 */
import { fileURLToPath } from 'node:url';
import { defineProject, type UserWorkspaceConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

const sourceAliases = [
  { find: /^@certgate\/core\/testing$/, replacement: `${root}packages/core/src/testing/index.ts` },
  { find: /^@certgate\/core\/metrics$/, replacement: `${root}packages/core/src/metrics/index.ts` },
  { find: /^@certgate\/core$/, replacement: `${root}packages/core/src/index.ts` },
  { find: /^@certgate\/tls$/, replacement: `${root}packages/tls/src/index.ts` },
  { find: /^@certgate\/express$/, replacement: `${root}packages/express/src/index.ts` },
  { find: /^@certgate\/koa$/, replacement: `${root}packages/koa/src/index.ts` },
];

export function certgateProject(name: string, extra: UserWorkspaceConfig['test'] = {}): UserWorkspaceConfig {
  return defineProject({
    resolve: process.env.CERTGATE_SRC ? { alias: sourceAliases } : {},
    test: {
      name,
      include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      ...extra,
    },
  });
}
