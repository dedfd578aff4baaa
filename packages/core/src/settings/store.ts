/**
 * @module
 * The `SettingsStore` contract (get / compare-and-set / watch), the state validator every store
 * uses, and the in-memory store.
 */
import { CertgateError } from '../errors.js';
import { INITIAL_STATE, MODES, type Mode, type MtlsState } from '../mode/machine.js';

/** The answer of {@link SettingsStore.compareAndSet}. */
export type CompareAndSetResult = { ok: true; state: MtlsState } | { ok: false; current: MtlsState };

/** What a watcher is told: the new state, or that the store became unreadable. */
export type StoreEvent = { state: MtlsState; error?: undefined } | { state?: undefined; error: CertgateError };

/**
 * Where the mTLS state lives. Implementations: {@link createMemorySettingsStore} (tests, single
 * process) and `createFileSettingsStore` (atomic file writes, survives restarts).
 *
 * - `get()` throws a {@link CertgateError} `ERR_CERTGATE_STORE_CORRUPT` when the stored data does not
 *   validate and `ERR_CERTGATE_STORE_UNAVAILABLE` when it cannot be read; a store never replaces
 *   unreadable data with a default on its own.
 * - `compareAndSet(expectedVersion, next)` writes `next` only if the stored version is still
 *   `expectedVersion` (and `next.version === expectedVersion + 1`); otherwise it returns the current state.
 * - `watch(listener)` reports every change, including those made by other processes where the
 *   store can see them; it returns an unsubscribe function.
 */
export interface SettingsStore {
  get(): Promise<MtlsState>;
  compareAndSet(expectedVersion: number, next: MtlsState): Promise<CompareAndSetResult>;
  watch(listener: (event: StoreEvent) => void): () => void;
  /**
   * Break-glass only: replaces unreadable data with `next`, keeping the unreadable data aside
   * (never deleting it). Optional; the file store implements it.
   */
  repair?(next: MtlsState): Promise<{ keptAs: string | null }>;
  close?(): void;
}

const MAX_CA_PEM = 1024 * 1024;
/** Largest stored CRL text (PEM). The console's request body limit (default 1 MiB) applies first. */
export const MAX_CRL_PEM = 32 * 1024 * 1024;
const MAX_TEXT = 4096;

/**
 * Checks that `value` is a well-formed {@link MtlsState}; returns it (a fresh copy) or a sentence
 * saying what is wrong.
 */
export function validateState(value: unknown): { ok: true; state: MtlsState } | { ok: false; message: string } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, message: 'the state is not an object' };
  const v = value as Record<string, unknown>;
  const known = new Set(['version', 'mode', 'caPem', 'unavailableReason', 'host', 'updatedAt', 'updatedBy', 'pendingConfirmation', 'crlPem']);
  for (const k of Object.keys(v)) if (!known.has(k)) return { ok: false, message: `unknown field "${k.slice(0, 40)}"` };
  if (typeof v.version !== 'number' || !Number.isSafeInteger(v.version) || v.version < 0) return { ok: false, message: '"version" is not a non-negative integer' };
  if (typeof v.mode !== 'string' || !(MODES as readonly string[]).includes(v.mode)) return { ok: false, message: '"mode" is not one of disabled, optional, enforced' };
  if (v.caPem !== null && (typeof v.caPem !== 'string' || v.caPem.length > MAX_CA_PEM)) return { ok: false, message: '"caPem" is not null or a PEM string' };
  if (v.mode !== 'disabled' && v.caPem === null) return { ok: false, message: `mode "${v.mode}" without a CA` };
  if (v.crlPem !== undefined && (typeof v.crlPem !== 'string' || v.crlPem.length === 0 || v.crlPem.length > MAX_CRL_PEM)) return { ok: false, message: '"crlPem" is not absent or a PEM string' };
  if (v.crlPem !== undefined && v.caPem === null) return { ok: false, message: '"crlPem" without a CA' };
  const nullableText = (k: string): boolean => v[k] === null || (typeof v[k] === 'string' && (v[k] as string).length <= MAX_TEXT);
  for (const k of ['unavailableReason', 'updatedAt', 'updatedBy']) if (!nullableText(k)) return { ok: false, message: `"${k}" is not null or a short string` };
  if (v.host === null || typeof v.host !== 'object' || Array.isArray(v.host)) return { ok: false, message: '"host" is not an object' };
  const host: Record<string, string> = {};
  const entries = Object.entries(v.host as Record<string, unknown>);
  if (entries.length > 64) return { ok: false, message: '"host" has too many entries' };
  for (const [k, x] of entries) {
    if (typeof x !== 'string' || x.length > MAX_TEXT || k.length > 128) return { ok: false, message: `"host.${k.slice(0, 40)}" is not a short string` };
    host[k] = x;
  }
  const pending = validatePendingConfirmation(v.pendingConfirmation, v.mode as Mode);
  if (typeof pending === 'string') return { ok: false, message: pending };
  return {
    ok: true,
    state: {
      version: v.version,
      mode: v.mode as Mode,
      caPem: v.caPem as string | null,
      ...(v.crlPem !== undefined ? { crlPem: v.crlPem as string } : {}),
      unavailableReason: v.unavailableReason as string | null,
      host,
      updatedAt: v.updatedAt as string | null,
      updatedBy: v.updatedBy as string | null,
      ...(pending ? { pendingConfirmation: pending } : {}),
    },
  };
}

/** The confirm window's field: absent, or `{ deadline }` (an ISO 8601 instant) while `enforced`; a string says what is wrong. */
function validatePendingConfirmation(p: unknown, mode: Mode): { deadline: string } | null | string {
  if (p === undefined) return null;
  if (p === null || typeof p !== 'object' || Array.isArray(p)) return '"pendingConfirmation" is not an object';
  const keys = Object.keys(p);
  const deadline = (p as { deadline?: unknown }).deadline;
  if (keys.length !== 1 || typeof deadline !== 'string' || deadline.length > 40 || !Number.isFinite(Date.parse(deadline))) {
    return '"pendingConfirmation" must be { deadline: <ISO 8601 instant> }';
  }
  if (mode !== 'enforced') return '"pendingConfirmation" outside mode "enforced"';
  return { deadline };
}

/** @internal Shared argument check of `compareAndSet`. */
export function checkNext(expectedVersion: number, next: MtlsState): MtlsState {
  if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
    throw new CertgateError('ERR_CERTGATE_INVALID_OPTION', 'compareAndSet: "expectedVersion" must be a non-negative integer');
  }
  const checked = validateState(next);
  if (!checked.ok) throw new CertgateError('ERR_CERTGATE_INVALID_OPTION', `compareAndSet: "next" is not a valid state: ${checked.message}`);
  if (checked.state.version !== expectedVersion + 1) {
    throw new CertgateError('ERR_CERTGATE_INVALID_OPTION', 'compareAndSet: "next.version" must be expectedVersion + 1');
  }
  return checked.state;
}

/** Options of {@link createMemorySettingsStore}. */
export interface MemorySettingsStoreOptions {
  /** The starting state (validated). Default: {@link INITIAL_STATE}. */
  initial?: MtlsState;
}

/**
 * A settings store in memory: for tests and single-process apps that configure mTLS at start.
 * Its state is lost on restart.
 *
 * @example
 * const controller = await createController({ store: createMemorySettingsStore() });
 */
export function createMemorySettingsStore(options: MemorySettingsStoreOptions = {}): SettingsStore {
  let state: MtlsState = INITIAL_STATE;
  if (options.initial) {
    const checked = validateState(options.initial);
    if (!checked.ok) throw new CertgateError('ERR_CERTGATE_INVALID_OPTION', `createMemorySettingsStore: "initial" is not a valid state: ${checked.message}`);
    state = checked.state;
  }
  const listeners = new Set<(e: StoreEvent) => void>();
  return {
    async get() {
      return structuredClone(state);
    },
    async compareAndSet(expectedVersion, next) {
      const checked = checkNext(expectedVersion, next);
      if (state.version !== expectedVersion) return { ok: false, current: structuredClone(state) };
      state = checked;
      for (const l of [...listeners]) l({ state: structuredClone(state) });
      return { ok: true, state: structuredClone(state) };
    },
    watch(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
