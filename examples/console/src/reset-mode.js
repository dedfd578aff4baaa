// @ts-check
/**
 * Break-glass for an operator with shell access:
 *
 *   pnpm --filter @certgate/example-console reset-mode -- [--data-dir DIR] [--mode optional|disabled]
 *
 * Lowers the stored mTLS mode (default `optional`) through the settings store (a version bump and an
 * audit event, actor "break-glass (reset-mode)"). A running console picks the change up within a
 * second. When the settings file is unreadable, it is kept aside and replaced by `disabled`.
 *
 * A relative `--data-dir` (or CERTGATE_DATA_DIR) is resolved from the directory the command was typed
 * in (`INIT_CWD`, which pnpm and npm set: they run the script inside examples/console), else from the
 * current directory. A directory without a settings file is refused (exit 1): there is nothing to
 * reset there, and writing a fresh state would let a mistyped path look like a successful reset.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SETTINGS_FILE, createController, createFileAuditLog, createFileSettingsStore } from '@certgate/core';

/** @param {string[]} argv */
export async function resetMode(argv) {
  let dataDir = process.env.CERTGATE_DATA_DIR || fileURLToPath(new URL('../data', import.meta.url));
  const base = process.env.INIT_CWD || process.cwd();
  let mode = 'optional';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') continue;
    else if (a === '--data-dir' && argv[i + 1]) dataDir = /** @type {string} */ (argv[++i]);
    else if (a === '--mode' && argv[i + 1]) mode = /** @type {string} */ (argv[++i]);
    else if (a === '--help' || a === '-h') {
      return { code: 0, message: 'usage: reset-mode [--data-dir DIR] [--mode optional|disabled]' };
    } else return { code: 2, message: `unknown argument ${JSON.stringify(a)}; usage: reset-mode [--data-dir DIR] [--mode optional|disabled]` };
  }
  if (mode !== 'optional' && mode !== 'disabled') return { code: 2, message: '--mode must be optional or disabled' };
  const dir = isAbsolute(dataDir) ? dataDir : resolve(base, dataDir);
  if (!existsSync(join(dir, DEFAULT_SETTINGS_FILE))) {
    return { code: 1, message: `reset-mode: ${dir} holds no console settings (${DEFAULT_SETTINGS_FILE}); nothing was changed. Give the console's data directory with --data-dir (or CERTGATE_DATA_DIR).` };
  }
  const store = await createFileSettingsStore({ dir, pollIntervalMs: 0 });
  const controller = await createController({ store, audit: createFileAuditLog({ path: join(dir, 'audit.jsonl') }), onProblem: () => {} });
  try {
    const r = await controller.breakGlass(mode, 'break-glass (reset-mode)');
    if (!r.ok) return { code: 1, message: `reset-mode failed: ${r.refusal.message}` };
    return { code: 0, message: `mTLS mode is now ${r.state.mode} (version ${r.state.version}) in ${dir}` };
  } finally {
    controller.close();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await resetMode(process.argv.slice(2));
  (r.code === 0 ? console.log : console.error)(r.message);
  process.exit(r.code);
}
