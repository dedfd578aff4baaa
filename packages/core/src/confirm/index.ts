/**
 * @module
 * The confirm window's clock work (DESIGN §1 "commit confirmed"): a timer that runs only while a
 * confirmation is pending and, once the deadline has passed by the controller's clock, reverts the
 * state to `optional` with compare-and-set. Several processes sharing a store may all try; the
 * compare-and-set lets exactly one write win, the others re-read, find nothing pending, and stop
 * without writing or auditing anything.
 */
import type { AuditEvent } from '../audit/log.js';
import { confirmationDue, transition, type MtlsState } from '../mode/machine.js';
import type { SettingsStore } from '../settings/store.js';

/** The `Settings.pendingConfirmation` view: the deadline and the whole seconds left at `now` (0 once due), or null. */
export function pendingConfirmationView(state: MtlsState, now: Date): { deadline: string; secondsLeft: number } | null {
  const p = state.pendingConfirmation;
  if (!p) return null;
  const left = Math.ceil((Date.parse(p.deadline) - now.getTime()) / 1000);
  return { deadline: p.deadline, secondsLeft: Number.isFinite(left) ? Math.max(0, left) : 0 };
}

/** The audit actor of an automatic revert. */
export const CONFIRM_REVERT_ACTOR = 'certgate (confirm window)';

/** What {@link revertIfDue} needs from the controller. */
export interface RevertDeps {
  store: SettingsStore;
  now: () => Date;
  appName: string;
  /** Installs a state the controller wrote. */
  install(state: MtlsState): void;
  record(event: Omit<AuditEvent, 'time'>): Promise<void>;
  onProblem(problem: { code: string; message: string }): void;
}

/**
 * Reverts an unconfirmed enforcement whose deadline has passed. Resolves true when this call wrote
 * the revert, false when there was nothing (or nothing due) to revert or another writer did it.
 * Never throws: a store failure is reported (once per deadline) and retried at the next tick.
 */
export async function revertIfDue(deps: RevertDeps, reported: Set<string> = new Set()): Promise<boolean> {
  for (let attempt = 0; attempt < 8; attempt++) {
    let current: MtlsState;
    try {
      current = await deps.store.get();
    } catch {
      return false; // the controller is failed closed already and says why
    }
    const t = deps.now();
    if (!confirmationDue(current, t)) return false;
    const deadline = current.pendingConfirmation!.deadline;
    const result = transition(current, { type: 'revert-unconfirmed' }, { actor: CONFIRM_REVERT_ACTOR, now: t, appName: deps.appName });
    if (!result.ok) return false;
    const from = { mode: current.mode, version: current.version };
    let cas;
    try {
      cas = await deps.store.compareAndSet(current.version, result.next);
    } catch (err) {
      if (!reported.has(deadline)) {
        reported.add(deadline);
        const message = `The unconfirmed enforcement (deadline ${deadline}) could not be reverted: ${(err as Error)?.message ?? String(err)}; retrying.`;
        deps.onProblem({ code: 'CONFIRM_REVERT_FAILED', message });
        await deps.record({ actor: CONFIRM_REVERT_ACTOR, action: 'revert', outcome: 'error', from, to: null, code: 'SETTINGS_UNAVAILABLE', reason: message });
      }
      return false;
    }
    if (!cas.ok) continue; // another writer (maybe another process's revert) got in first: look again
    deps.install(cas.state);
    await deps.record({
      actor: CONFIRM_REVERT_ACTOR,
      action: 'revert',
      outcome: 'applied',
      from,
      to: { mode: cas.state.mode, version: cas.state.version },
      code: 'NOT_CONFIRMED',
      reason: `No request with a valid client certificate confirmed the enforcement before ${deadline}; the mode is back to optional.`,
      detail: { deadline },
    });
    return true;
  }
  return false;
}

/** A timer that ticks every `intervalMs` while `running(true)` (until `stop()`, for good); unref'd, so it never keeps a process alive. */
export function createConfirmTimer(intervalMs: number, tick: () => Promise<unknown>): { running(on: boolean): void; stop(): void } {
  let timer: ReturnType<typeof setInterval> | null = null;
  let busy = false;
  let stopped = false;
  const run = (): void => {
    if (busy) return;
    busy = true;
    tick().finally(() => {
      busy = false;
    });
  };
  return {
    running(on) {
      if (on && timer === null && !stopped) {
        timer = setInterval(run, intervalMs);
        timer.unref?.();
      } else if (!on && timer !== null) {
        clearInterval(timer);
        timer = null;
      }
    },
    stop() {
      stopped = true;
      if (timer !== null) clearInterval(timer);
      timer = null;
    },
  };
}
