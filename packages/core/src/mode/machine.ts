/**
 * @module
 * The mTLS mode machine: `disabled → optional → enforced`, as one pure function over
 * (the stored state, the requested change, the facts the caller established: the CA lint and the
 * requester's certificate verdict against the CA that would be in force) → the next state or a
 * refusal with a stable code. No I/O, no clock (the instant is an input), no exceptions for
 * expected outcomes.
 *
 * The one rule the whole machine exists for: the result is `enforced` only when the requester's
 * certificate validated against the CA that is in force *after* the change (DESIGN §1 "enforce",
 * "replace CA while enforced"). The verdict carries the key of the CA it was computed against, and
 * a verdict for any other CA is refused (`VERDICT_MISMATCH`), so a caller cannot pass a verdict
 * computed against the old CA when the change uploads a new one.
 */
import { createHash } from 'node:crypto';
import type { VerificationCode, VerifyResult } from '../types.js';

/** The three modes (DESIGN §1). */
export type Mode = 'disabled' | 'optional' | 'enforced';

/** Every mode, weakest first. */
export const MODES: readonly Mode[] = Object.freeze(['disabled', 'optional', 'enforced'] as const);

/**
 * The persisted mTLS state: what a {@link SettingsStore} holds. Plain JSON data.
 * `version` is 0 before the first save and bumps by exactly one on every change.
 */
export interface MtlsState {
  version: number;
  mode: Mode;
  /** The uploaded CA bundle (PEM), kept while `disabled` for later. */
  caPem: string | null;
  /** The uploaded CRLs (PEM, one or more `X509 CRL` blocks) for the CA bundle; absent for none. Only with a CA. */
  crlPem?: string;
  /** Non-null when the host app declared mTLS unavailable (e.g. its login uses smartcards); the reason shown to admins. */
  unavailableReason: string | null;
  /** Host-app settings written atomically with the availability (e.g. `{ loginMethod: 'smartcard' }`). */
  host: Readonly<Record<string, string>>;
  /** ISO 8601 instant of the last change, null before the first. */
  updatedAt: string | null;
  /** Who made the last change (the actor given to the controller), null before the first. */
  updatedBy: string | null;
  /** A confirm window in progress (only while `enforced`): reverts to `optional` at the deadline unless confirmed. */
  pendingConfirmation?: PendingConfirmation;
}

/** An enforce that reverts to `optional` at `deadline` (ISO 8601) unless a valid certificate confirms it ("commit confirmed"). */
export interface PendingConfirmation {
  deadline: string;
}

/** Bounds of `confirmWithinSec` (seconds). */
export const CONFIRM_WINDOW_LIMITS = Object.freeze({ minSec: 30, maxSec: 3600 });

/** The state of a store that was never written. */
export const INITIAL_STATE: MtlsState = Object.freeze({
  version: 0,
  mode: 'disabled',
  caPem: null,
  unavailableReason: null,
  host: Object.freeze({}),
  updatedAt: null,
  updatedBy: null,
});

/** A change requested of the machine. */
export type SettingsChange =
  /** The settings API's save (§5.2 `PUT /api/settings/mtls`). */
  /** `crlPem`: new CRLs (a string), none (`null`), or unchanged (absent). */
  | { type: 'save'; enabled: boolean; enforce: boolean; caPem?: string; crlPem?: string | null; expectedVersion?: number; confirmWithinSec?: number }
  /** Confirms a pending confirm window (the requester's certificate must validate against the CA in force). */
  | { type: 'confirm'; expectedVersion?: number }
  /** The confirm window's deadline passed without a confirmation: back to `optional`. */
  | { type: 'revert-unconfirmed'; expectedVersion?: number }
  /** The host app declares mTLS (un)available and stores its own settings with it. */
  | { type: 'host'; unavailableReason: string | null; host: Readonly<Record<string, string>>; expectedVersion?: number }
  /** Break-glass by an operator with shell access: lowers the mode to `mode`, never refused. */
  | { type: 'break-glass'; mode: 'optional' | 'disabled' };

/** Stable codes of a refused (or partially applied) change. Public API. */
export type RefusalCode =
  | 'VERSION_CONFLICT'
  | 'MTLS_UNAVAILABLE'
  | 'MTLS_ENABLED'
  | 'CA_REQUIRED'
  | 'CA_INVALID'
  | 'CRL_INVALID'
  | 'CLIENT_CERT_MISSING'
  | 'CLIENT_CERT_UNTRUSTED'
  | 'VERDICT_MISMATCH'
  | 'NO_PENDING_CONFIRMATION'
  | 'CONFIRMATION_EXPIRED'
  | 'CONFIRMATION_NOT_DUE';

/** One problem of a CA upload, as the lint reports it. */
export interface CaProblem {
  code: string;
  severity: 'error' | 'warning';
  message: string;
  index?: number;
  subject?: string;
}

/** Why a change was refused (or why the enforce part of a save was not applied). */
export interface Refusal {
  code: RefusalCode;
  message: string;
  /** For `CLIENT_CERT_UNTRUSTED`: the verification code (`EXPIRED`, `EKU_MISMATCH`, `UNKNOWN_ISSUER`, …). */
  reason?: VerificationCode;
  /** For `CA_INVALID` / `CRL_INVALID`: the lint's problems. */
  problems?: CaProblem[];
}

/**
 * The requester's certificate against the CA (and CRLs) that would be in force after the change.
 * `caKey` is {@link caKeyOf} of that CA's PEM and CRLs (null when no CA would be in force);
 * `result` is null when the request's connection presented no certificate.
 */
export interface RequesterVerdict {
  caKey: string | null;
  result: VerifyResult | null;
}

/** What the caller established before calling {@link transition}. */
export interface TransitionContext {
  /** Who asks (recorded as `updatedBy`). */
  actor: string;
  /** The instant of the change (recorded as `updatedAt`). */
  now: Date;
  /** The `{app}` of the `CLIENT_CERT_MISSING` text. */
  appName: string;
  /** The lint of `change.caPem`; required when the change carries one. */
  caCheck?: { ok: boolean; problems: CaProblem[] };
  /**
   * The lint (`lintCrls`) of the CRLs that would be in force against the CA that would be in force;
   * required when the change carries `crlPem`, or a new `caPem` while CRLs are stored.
   */
  crlCheck?: { ok: boolean; problems: CaProblem[] };
  /** Required when the change asks to enforce. */
  requester?: RequesterVerdict;
}

/**
 * The machine's answer. `ok: true` carries the state to write (its version is the current + 1);
 * a `refusal` beside it means the save was applied *partially*: enable went through, enforce did not,
 * and the mode is `optional` (DESIGN §1 "enable + enforce in one save").
 */
export type TransitionResult =
  | { ok: true; next: MtlsState; refusal?: Refusal }
  | { ok: false; refusal: Refusal };

/** The two contract texts of DESIGN §1 / §5.2, word for word. */
export function clientCertMissingMessage(appName: string): string {
  return `Client certificate not found in request. Please make sure your client uses a certificate to access ${appName}.`;
}
export const CLIENT_CERT_UNTRUSTED_MESSAGE = 'Current client certificate can not be validated by the uploaded CA.';

/**
 * The key that names one trust configuration: SHA-256 (hex) of the CA PEM text without surrounding
 * whitespace, and of the CRL PEM text when there is one (so a verdict against other CRLs never counts).
 */
export function caKeyOf(caPem: string, crlPem?: string | null): string {
  const h = createHash('sha256').update(caPem.trim(), 'utf8');
  if (crlPem !== undefined && crlPem !== null) h.update('\0crl\0').update(crlPem.trim(), 'utf8');
  return h.digest('hex');
}

/** The refusal for a requester whose certificate did not validate (or was absent), or null when it validated. */
export function requesterRefusal(result: VerifyResult | null, appName: string): Refusal | null {
  if (result === null) return { code: 'CLIENT_CERT_MISSING', message: clientCertMissingMessage(appName) };
  if (result.ok) return null;
  return { code: 'CLIENT_CERT_UNTRUSTED', message: CLIENT_CERT_UNTRUSTED_MESSAGE, reason: result.code };
}

function stamp(current: MtlsState, patch: Partial<MtlsState>, ctx: TransitionContext, keepPending = false): MtlsState {
  // A confirm window ends with any change of the mode's owner (save, break-glass, confirm, revert); only host changes keep it.
  const { pendingConfirmation, ...rest } = current;
  const next: MtlsState = {
    ...rest,
    ...(keepPending && pendingConfirmation ? { pendingConfirmation: { ...pendingConfirmation } } : {}),
    ...patch,
    host: { ...(patch.host ?? current.host) },
    version: current.version + 1,
    updatedAt: ctx.now.toISOString(),
    updatedBy: ctx.actor,
  };
  if (next.crlPem === undefined) delete next.crlPem; // absent, never `undefined`: the state is plain JSON
  return next;
}

/** The `CRL_INVALID` refusal for lint problems: `stored`, the CRLs are the stored ones checked against a new CA. */
export function crlInvalid(problems: CaProblem[], stored: boolean): Refusal {
  const first = problems.find((p) => p.severity === 'error')?.message ?? 'The CRLs are not usable.';
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
  const hint = stored ? ' Upload CRLs for the new CA (crlPem) or remove the stored ones (crlPem: null).' : '';
  return { code: 'CRL_INVALID', message: `${stored ? 'The stored CRLs do not fit the new CA' : 'The uploaded CRLs were refused'}: ${first}${more}${hint}`, problems };
}

function caInvalid(problems: CaProblem[]): Refusal {
  const errors = problems.filter((p) => p.severity === 'error');
  const first = errors[0]?.message ?? 'The uploaded CA is not usable.';
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? 's' : ''})` : '';
  return { code: 'CA_INVALID', message: `The uploaded CA was refused: ${first}${more}`, problems };
}

/**
 * Applies `change` to `current`. Pure: the same inputs give the same answer.
 *
 * @example
 * const r = transition(state, { type: 'save', enabled: true, enforce: true },
 *   { actor: 'admin', now: new Date(), appName: 'Console', requester: { caKey: caKeyOf(state.caPem!), result } });
 */
export function transition(current: MtlsState, change: SettingsChange, ctx: TransitionContext): TransitionResult {
  if (change.type === 'break-glass') {
    // Lowers, never raises: `optional` from `disabled` would need a CA the operator did not choose.
    const mode: Mode = change.mode === 'disabled' || current.mode === 'disabled' || current.caPem === null ? 'disabled' : 'optional';
    return { ok: true, next: stamp(current, { mode }, ctx) };
  }

  if (change.expectedVersion !== undefined && change.expectedVersion !== current.version) {
    return {
      ok: false,
      refusal: {
        code: 'VERSION_CONFLICT',
        message: `The settings were changed by someone else (version ${current.version}, this save was based on version ${change.expectedVersion}). Reload them and try again.`,
      },
    };
  }

  if (change.type === 'host') {
    if (change.unavailableReason !== null && current.mode !== 'disabled') {
      return {
        ok: false,
        refusal: { code: 'MTLS_ENABLED', message: `mTLS is ${current.mode}; disable it before making it unavailable.` },
      };
    }
    return { ok: true, next: stamp(current, { unavailableReason: change.unavailableReason, host: change.host }, ctx, true) };
  }

  if (change.type === 'confirm' || change.type === 'revert-unconfirmed') return confirmWindow(current, change, ctx);

  // type 'save'
  let caPem = current.caPem;
  if (change.caPem !== undefined) {
    if (!ctx.caCheck) throw new TypeError('transition: a change with caPem needs ctx.caCheck (the lint of that CA)');
    if (!ctx.caCheck.ok) return { ok: false, refusal: caInvalid(ctx.caCheck.problems) };
    caPem = change.caPem;
  }
  // CRLs: replaced, removed or kept; linted against the CA that would be in force whenever either changes.
  const crlPem = change.crlPem === null ? undefined : (change.crlPem ?? current.crlPem);
  if (crlPem !== undefined && (change.crlPem !== undefined || change.caPem !== undefined)) {
    if (caPem === null) return { ok: false, refusal: { code: 'CA_REQUIRED', message: 'Upload a CA (caPem) before CRLs for it; none is stored yet.' } };
    if (!ctx.crlCheck) throw new TypeError('transition: a change with crlPem (or a new caPem while CRLs are stored) needs ctx.crlCheck');
    if (!ctx.crlCheck.ok) return { ok: false, refusal: crlInvalid(ctx.crlCheck.problems, change.crlPem === undefined) };
  }

  if (!change.enabled) return { ok: true, next: stamp(current, { mode: 'disabled', caPem, crlPem }, ctx) };

  if (current.unavailableReason !== null) {
    return { ok: false, refusal: { code: 'MTLS_UNAVAILABLE', message: current.unavailableReason } };
  }
  if (caPem === null) {
    return { ok: false, refusal: { code: 'CA_REQUIRED', message: 'Upload a CA (caPem) to enable mTLS; none is stored yet.' } };
  }
  if (!change.enforce) return { ok: true, next: stamp(current, { mode: 'optional', caPem, crlPem }, ctx) };

  const requester = ctx.requester;
  if (!requester || requester.caKey !== caKeyOf(caPem, crlPem)) {
    return {
      ok: false,
      refusal: {
        code: 'VERDICT_MISMATCH',
        message: 'The requester\'s certificate was not checked against the CA that would be in force; nothing was changed.',
      },
    };
  }
  const refusal = requesterRefusal(requester.result, ctx.appName);
  if (refusal === null) {
    const next = stamp(current, { mode: 'enforced', caPem, crlPem }, ctx);
    if (change.confirmWithinSec !== undefined) next.pendingConfirmation = { deadline: confirmDeadline(ctx.now, change.confirmWithinSec) };
    return { ok: true, next };
  }
  // From enforced nothing changes (replacing the CA must not lock the admin out); from
  // disabled/optional the rest of the save applies and the mode is optional.
  if (current.mode === 'enforced') return { ok: false, refusal };
  return { ok: true, next: stamp(current, { mode: 'optional', caPem, crlPem }, ctx), refusal };
}

/** The deadline of a confirm window of `seconds` from `now`; throws a TypeError outside {@link CONFIRM_WINDOW_LIMITS}. */
export function confirmDeadline(now: Date, seconds: number): string {
  if (!Number.isSafeInteger(seconds) || seconds < CONFIRM_WINDOW_LIMITS.minSec || seconds > CONFIRM_WINDOW_LIMITS.maxSec) {
    throw new TypeError(`transition: "confirmWithinSec" must be an integer ${CONFIRM_WINDOW_LIMITS.minSec}…${CONFIRM_WINDOW_LIMITS.maxSec}`);
  }
  return new Date(now.getTime() + seconds * 1000).toISOString();
}

/** True when the pending confirm window of `state` (if any) is past its deadline at `now`. */
export function confirmationDue(state: MtlsState, now: Date): boolean {
  const p = state.pendingConfirmation;
  return p !== undefined && !(now.getTime() < Date.parse(p.deadline));
}

function confirmWindow(current: MtlsState, change: { type: 'confirm' | 'revert-unconfirmed' }, ctx: TransitionContext): TransitionResult {
  if (!current.pendingConfirmation || current.mode !== 'enforced' || current.caPem === null) {
    return { ok: false, refusal: { code: 'NO_PENDING_CONFIRMATION', message: 'There is no enforcement waiting for confirmation.' } };
  }
  const due = confirmationDue(current, ctx.now);
  if (change.type === 'revert-unconfirmed') {
    if (!due) return { ok: false, refusal: { code: 'CONFIRMATION_NOT_DUE', message: `The confirm window runs until ${current.pendingConfirmation.deadline}.` } };
    return { ok: true, next: stamp(current, { mode: 'optional' }, ctx) };
  }
  if (due) {
    return { ok: false, refusal: { code: 'CONFIRMATION_EXPIRED', message: `The confirm window ended at ${current.pendingConfirmation.deadline}; enforcement is being reverted to optional.` } };
  }
  const requester = ctx.requester;
  if (!requester || requester.caKey !== caKeyOf(current.caPem, current.crlPem)) {
    return { ok: false, refusal: { code: 'VERDICT_MISMATCH', message: 'The requester\'s certificate was not checked against the CA in force; nothing was changed.' } };
  }
  const refusal = requesterRefusal(requester.result, ctx.appName);
  if (refusal !== null) return { ok: false, refusal };
  return { ok: true, next: stamp(current, {}, ctx) };
}
