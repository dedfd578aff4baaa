/**
 * @module
 * The controller that every adapter calls. It holds the current mTLS state and the TrustStore built
 * from it (rebuilt on every change it sees in the store), decides each connection
 * (`allow` / `allow-unverified` / `deny`, with the verdict attached) and performs the settings
 * changes through the pure mode machine and the store's compare-and-set, auditing every attempt.
 *
 * Fail closed: when the store cannot be read (corrupt file, I/O error) the controller denies every
 * request with `SETTINGS_UNAVAILABLE` until the store is readable again or an operator repairs it.
 */
import { createHash } from 'node:crypto';
import type { AuditEvent, AuditLog, AuditOutcome } from '../audit/log.js';
import { CertgateError } from '../errors.js';
import { identityOf } from '../identity.js';
import { parseCertificate } from '../cert/parse.js';
import { lintCaBundle } from '../lint.js';
import { lintCrls } from '../revocation/lint.js';
import {
  INITIAL_STATE,
  CONFIRM_WINDOW_LIMITS,
  caKeyOf,
  confirmationDue,
  crlInvalid,
  transition,
  type CaProblem,
  type Mode,
  type MtlsState,
  type Refusal,
  type RefusalCode,
  type RequesterVerdict,
  type SettingsChange,
} from '../mode/machine.js';
import type { Authorization } from '../rules/index.js';
import { createConfirmTimer, pendingConfirmationView, revertIfDue } from '../confirm/index.js';
import { decisionMetricCode, type ControllerMetrics } from '../metrics/sink.js';
import { createEnforcementPreview, type PreviewOptions, type PreviewReport } from '../preview/index.js';
import { checkExpiryWarningDays, settingsWarnings, DEFAULT_CRL_EXPIRY_WARNING_DAYS, DEFAULT_EXPIRY_WARNING_DAYS, type SettingsWarning, type SettingsWarningOptions } from '../warnings.js';
import { MAX_CRL_PEM, type SettingsStore, type StoreEvent } from '../settings/store.js';
import { TrustStore } from '../trust-store.js';
import type { ClientIdentity, SubjectAltNames, VerificationCode, VerifyOptions, VerifyResult } from '../types.js';
import { verifyChain } from '../verify.js';
import { createVerdictCache } from '../verdict-cache.js';

/** What the adapter should do with the request. */
export type DecisionAction = 'allow' | 'allow-unverified' | 'deny';

/** Codes of a denial. Public API. */
export type DenialCode = 'CLIENT_CERT_MISSING' | 'CLIENT_CERT_UNTRUSTED' | 'NOT_ALLOWED' | 'SETTINGS_UNAVAILABLE';

/** What a presented leaf certificate says about itself (whether or not it validated). Never its bytes. */
export interface PresentedCertificate {
  subject: string;
  issuer: string;
  serialNumber: string;
  fingerprint256: string;
  notBefore: string;
  notAfter: string;
  san: SubjectAltNames;
}

/** The controller's answer for one connection or request. */
export interface Decision {
  action: DecisionAction;
  /** The mode the decision was made under (`enforced` while the store is unreadable: fail closed). */
  mode: Mode;
  /** Changes whenever the controller's state changes; a decision with an older epoch is stale. */
  epoch: number;
  /** The store version the decision was made under, null while the store is unreadable. */
  settingsVersion: number | null;
  /** The presented leaf, null when no certificate was presented. */
  certificate: PresentedCertificate | null;
  /** The validation result, null when no certificate was presented or the mode is `disabled`. */
  verdict: VerifyResult | null;
  /** The validated identity (when `verdict.ok`). */
  identity: ClientIdentity | null;
  /** Why the request is denied (only for `deny`). `NOT_ALLOWED` comes from a route's rules ({@link authorize}). */
  denial?: { code: DenialCode; message: string; reason?: VerificationCode };
  /** Set by `authorize` (a route's `rules`): whether the validated identity passed them. */
  authorization?: Authorization;
}

/** One stored CRL as the settings view shows it (from the trust store's `CrlSummary`). */
export interface CrlView {
  issuer: string;
  thisUpdate: string;
  nextUpdate: string | null;
  entryCount: number;
  crlNumber: string | null;
  delta: boolean;
  fingerprint256: string;
}

/** The `Settings` view of DESIGN §5.2. */
export interface SettingsView {
  mode: Mode;
  version: number;
  available: boolean;
  unavailableReason: string | null;
  ca: null | {
    certificates: { subject: string; issuer: string; serialNumber: string; notBefore: string; notAfter: string; fingerprint256: string }[];
    /** The uploaded CRLs (empty for none): issuer, thisUpdate, nextUpdate (ISO 8601), entry count, cRLNumber, delta, fingerprint. */
    crls: CrlView[];
  };
  updatedAt: string | null;
  updatedBy: string | null;
  /** A confirm window in progress (issue #9): the mode reverts to `optional` at `deadline` unless confirmed. */
  pendingConfirmation: null | { deadline: string; secondsLeft: number };
  /** CA certificates that expire soon or have expired (`CA_EXPIRES_SOON`, `CA_EXPIRED`), stored CRLs near or past nextUpdate (`CRL_EXPIRES_SOON`, `CRL_EXPIRED`); soonest first. */
  warnings: SettingsWarning[];
}

/** The answer of {@link Controller.preview}. */
export type PreviewOutcome =
  | { ok: true; preview: PreviewReport }
  | { ok: false; refusal: { code: 'CA_INVALID' | 'CRL_INVALID' | 'CA_REQUIRED' | 'PREVIEW_DISABLED' | 'SETTINGS_UNAVAILABLE'; message: string; problems?: CaProblem[] } };

/** A refusal of the controller: the machine's codes plus `SETTINGS_UNAVAILABLE` (store unreadable or unwritable). */
export interface ControllerRefusal extends Omit<Refusal, 'code'> {
  code: RefusalCode | 'SETTINGS_UNAVAILABLE';
}

/** The outcome of a change. A `refusal` beside `ok: true` means the save was applied partially (enforce failed). */
export type ChangeOutcome =
  | { ok: true; state: MtlsState; settings: SettingsView; refusal?: Refusal }
  | { ok: false; refusal: ControllerRefusal; settings: SettingsView | null };

/** The §5.2 save: `{ enabled, enforce, caPem?, crlPem?, version? }`. */
export interface SaveRequest {
  enabled: boolean;
  enforce: boolean;
  caPem?: string;
  /** New CRLs (PEM, one or more `X509 CRL` blocks), `null` to remove the stored ones; absent keeps them. */
  crlPem?: string | null;
  version?: number;
  /** With `enabled` and `enforce`: enforce with a confirm window of this many seconds (30…3600), reverting to `optional` unless confirmed. */
  confirmWithinSec?: number;
}

/** Who asks for a change: a name for the audit log and the peer chain of the request's connection. */
export interface Requester {
  actor: string;
  /** The chain the request's TLS connection presented (leaf first, DER), or null for none. */
  peerChain: readonly Uint8Array[] | null;
}

/** Options of {@link createController}. */
export interface ControllerOptions {
  store: SettingsStore;
  /** Where audit events go. Default: none (events are dropped). */
  audit?: AuditLog;
  /** The `{app}` of the missing-certificate text. Default `this application`. */
  appName?: string;
  /** Options for every `verifyChain` call (the instant comes from `now`). */
  verifyOptions?: Omit<VerifyOptions, 'time'>;
  /** Server-side intermediates (PEM) added to every trust store. */
  intermediatesPem?: string;
  /** The clock. Default `() => new Date()`. */
  now?: () => Date;
  /**
   * Called when something needs an operator's attention (store unreadable, audit not written).
   * Default: `console.error`.
   */
  onProblem?: (problem: { code: string; message: string }) => void;
  /** Verdicts cached per (trust store, chain); entries live at most `verdictCacheTtlMs`. Default 1000 entries. */
  verdictCacheSize?: number;
  /** Default 60000 ms. */
  verdictCacheTtlMs?: number;
  /** `Settings.warnings` warns this many days before a CA certificate expires. Default 30; 0: only once expired. */
  expiryWarningDays?: number;
  /** `Settings.warnings` warns this many days before a stored CRL's nextUpdate (`CRL_EXPIRES_SOON`). Default 3 (CRLs are short-lived); 0: only once passed. */
  crlExpiryWarningDays?: number;
  /** The enforcement preview's bounds (decisions made while `optional` are recorded), or false for none. Default `{}` (1000 chains, 24 h). */
  preview?: PreviewOptions | false;
  /** Where decisions, validation latency, cache lookups and the state are reported (e.g. `createPrometheusMetrics()` of `@certgate/core/metrics`). */
  metrics?: ControllerMetrics;
  /** How often a pending confirm window is checked against the clock, in ms. Default 1000. */
  confirmCheckIntervalMs?: number;
}

/** The controller. Create it with {@link createController}. */
export interface Controller {
  readonly appName: string;
  /** Changes whenever the state changes (settings saved here or elsewhere, store failed or recovered). */
  readonly epoch: number;
  /** The current state, or the reason it is unavailable. */
  status(): { ok: true; state: MtlsState; settings: SettingsView } | { ok: false; code: 'SETTINGS_UNAVAILABLE'; message: string };
  /** The CA PEM in force (null while disabled or unreadable), for TLS CertificateRequest hints. */
  caPemInForce(): string | null;
  /** Decides one connection from its peer chain (leaf first, DER; null or empty for none). */
  decide(peerChain: readonly Uint8Array[] | null): Promise<Decision>;
  /** The §5.2 save. */
  save(request: SaveRequest, requester: Requester): Promise<ChangeOutcome>;
  /** The host app declares mTLS (un)available, with its own settings written atomically alongside. */
  setHost(request: { unavailableReason: string | null; host: Record<string, string>; version?: number }, requester: Requester): Promise<ChangeOutcome>;
  /** Break-glass: lowers the mode (never refused). On an unreadable store it repairs it (keeping the old file) to `disabled`. */
  breakGlass(mode: 'optional' | 'disabled', actor: string): Promise<ChangeOutcome>;
  /**
   * Audits a settings attempt that an adapter refused before it reached the machine (a body that is
   * not JSON, of the wrong shape, or too large), so every attempt is on the audit log.
   */
  recordRefused(action: string, requester: Requester, refusal: { code: string; message: string }): Promise<void>;
  /** Re-reads the store. */
  refresh(): Promise<void>;
  /** The controller's clock (`options.now`). */
  now(): Date;
  /** Confirms a pending confirm window: the requester's certificate must validate against the CA in force. Audited (`confirm`), versioned. */
  confirm(requester: Requester, options?: { version?: number }): Promise<ChangeOutcome>;
  /** Reverts an unconfirmed enforcement whose deadline has passed (the controller also does this by itself); true when this call wrote it. */
  revertIfDue(): Promise<boolean>;
  /** The enforcement preview against the CA in force, or against `caPem` (linted first) when given. */
  preview(options?: { caPem?: string; crlPem?: string | null }): Promise<PreviewOutcome>;
  /** The newest audit events first (at most `limit`); empty without an audit log. Rejects when the log cannot be read. */
  recentAudit(limit: number): Promise<AuditEvent[]>;
  /** The metrics sink given in the options, or null. */
  readonly metrics: ControllerMetrics | null;
  /** Called after every state change, with the new epoch. Returns an unsubscribe function. */
  onChange(listener: (epoch: number) => void): () => void;
  /** Stops watching the store. */
  close(): void;
}

type Loaded =
  | { ok: true; state: MtlsState; trust: TrustStore | null; caKey: string | null; view: SettingsView; fingerprint: string }
  | { ok: false; error: CertgateError; fingerprint: string };

const MAX_ATTEMPTS = 8;
const MAX_CHAIN = 16;

function stateFingerprint(s: MtlsState): string {
  return createHash('sha256').update(JSON.stringify(s)).digest('hex');
}

function presentedOf(id: ClientIdentity): PresentedCertificate {
  return {
    subject: id.subject,
    issuer: id.issuer,
    serialNumber: id.serialNumber,
    fingerprint256: id.fingerprint256,
    notBefore: id.notBefore.toISOString(),
    notAfter: id.notAfter.toISOString(),
    san: id.san,
  };
}

/** Leaf summary for display; null when the leaf does not even parse. */
export function describeLeaf(der: Uint8Array): PresentedCertificate | null {
  try {
    const leaf = parseCertificate(der);
    return presentedOf(identityOf(leaf, [leaf]));
  } catch {
    return null;
  }
}

/** The §5.2 `Settings` view of a state. */
export function settingsViewOf(state: MtlsState, now: Date = new Date(), options: SettingsWarningOptions = {}): SettingsView {
  let ca: SettingsView['ca'] = null;
  if (state.caPem !== null) {
    const lint = lintCaBundle(state.caPem, { time: now });
    const crls = state.crlPem === undefined ? [] : lintCrls(state.crlPem, state.caPem, { time: now }).crls;
    ca = {
      certificates: lint.certificates.map((c) => ({ ...c })),
      crls: crls.map((c) => ({
        issuer: c.issuer,
        thisUpdate: c.thisUpdate.toISOString(),
        nextUpdate: c.nextUpdate === null ? null : c.nextUpdate.toISOString(),
        entryCount: c.entryCount,
        crlNumber: c.crlNumber,
        delta: c.delta,
        fingerprint256: c.fingerprint256,
      })),
    };
  }
  return {
    mode: state.mode,
    version: state.version,
    available: state.unavailableReason === null,
    unavailableReason: state.unavailableReason,
    ca,
    updatedAt: state.updatedAt,
    updatedBy: state.updatedBy,
    pendingConfirmation: pendingConfirmationView(state, now),
    warnings: settingsWarnings(ca, state.mode, now, options),
  };
}

function asCertgateError(err: unknown): CertgateError {
  if (err instanceof CertgateError) return err;
  return new CertgateError('ERR_CERTGATE_STORE_UNAVAILABLE', `The mTLS settings store failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/**
 * Creates a controller over `options.store`, reads the store once and watches it.
 * Never throws for an unreadable store: the controller starts failed closed and says why.
 *
 * @example
 * const controller = await createController({ store: await createFileSettingsStore({ dir: './data' }), appName: 'My app' });
 * const decision = await controller.decide(peerChain);
 */
export async function createController(options: ControllerOptions): Promise<Controller> {
  if (!options || typeof options !== 'object' || !options.store) {
    throw new CertgateError('ERR_CERTGATE_INVALID_OPTION', 'createController: "store" must be a SettingsStore');
  }
  const store = options.store;
  const audit = options.audit;
  const appName = options.appName ?? 'this application';
  if (typeof appName !== 'string' || appName.length === 0 || appName.length > 200) {
    throw new CertgateError('ERR_CERTGATE_INVALID_OPTION', 'createController: "appName" must be a non-empty string of at most 200 characters');
  }
  const now = options.now ?? (() => new Date());
  const onProblem = options.onProblem ?? ((p) => console.error(`[certgate] ${p.code}: ${p.message}`));
  const verifyOptions = options.verifyOptions ?? {};
  const cacheSize = options.verdictCacheSize ?? 1000;
  const cacheTtl = options.verdictCacheTtlMs ?? 60_000;
  const expiryWarningDays = checkExpiryWarningDays(options.expiryWarningDays ?? DEFAULT_EXPIRY_WARNING_DAYS, 'createController');
  const crlExpiryWarningDays = checkExpiryWarningDays(options.crlExpiryWarningDays ?? DEFAULT_CRL_EXPIRY_WARNING_DAYS, 'createController', 'crlExpiryWarningDays');
  const viewOptions: SettingsWarningOptions = {
    expiryWarningDays,
    crlExpiryWarningDays,
    ...(options.verifyOptions?.revocation !== undefined ? { revocation: options.verifyOptions.revocation } : {}),
  };
  const metrics = options.metrics ?? null;
  const preview = options.preview === false ? null : createEnforcementPreview({ now, ...(options.preview ?? {}) });
  const confirmTimer = createConfirmTimer(options.confirmCheckIntervalMs ?? 1000, async () => {
    if (loaded.ok && confirmationDue(loaded.state, now())) await revertUnconfirmed();
  });
  const revertErrors = new Set<string>();

  // Assigned by the first refresh() below, before the controller is returned.
  let loaded!: Loaded;
  let epoch = 0;
  const listeners = new Set<(epoch: number) => void>();
  // Verdicts per (trust store generation, chain bytes, options); an entry never outlives the first
  // validity boundary of its path (nor a CRL's nextUpdate), nor `verdictCacheTtlMs`.
  const verdictCache = cacheSize > 0 ? createVerdictCache({ maxEntries: cacheSize, ttlMs: cacheTtl, now: () => now().getTime() }) : null;

  function buildTrust(caPem: string, crlPem?: string | null): TrustStore {
    return TrustStore.fromPem(caPem, {
      ...(options.intermediatesPem !== undefined ? { intermediates: options.intermediatesPem } : {}),
      ...(crlPem !== undefined && crlPem !== null ? { crls: [crlPem] } : {}),
    });
  }

  function install(next: Loaded): void {
    if (loaded && loaded.fingerprint === next.fingerprint) return;
    const wasFailed = loaded !== undefined && !loaded.ok;
    loaded = next;
    epoch++;
    verdictCache?.clear();
    metrics?.state(next.ok ? { mode: next.state.mode, version: next.state.version, confirmDeadline: next.state.pendingConfirmation?.deadline ?? null } : { mode: null, version: null, confirmDeadline: null });
    confirmTimer.running(next.ok && next.state.pendingConfirmation !== undefined);
    if (!next.ok) {
      onProblem({ code: next.error.code, message: `${next.error.message} All requests are denied until this is fixed (see break-glass).` });
      void record({ actor: 'certgate', action: 'store-unreadable', outcome: 'error', from: null, to: null, code: 'SETTINGS_UNAVAILABLE', reason: next.error.message });
    } else if (wasFailed) {
      void record({ actor: 'certgate', action: 'store-recovered', outcome: 'applied', from: null, to: { mode: next.state.mode, version: next.state.version } });
    }
    for (const l of [...listeners]) {
      try {
        l(epoch);
      } catch (err) {
        onProblem({ code: 'LISTENER_FAILED', message: `A settings-change listener threw: ${(err as Error)?.message}` });
      }
    }
  }

  function loadState(state: MtlsState): Loaded {
    const fingerprint = stateFingerprint(state);
    if (state.mode === 'disabled' || state.caPem === null) {
      return { ok: true, state, trust: null, caKey: state.caPem === null ? null : caKeyOf(state.caPem, state.crlPem), view: settingsViewOf(state, now(), viewOptions), fingerprint };
    }
    try {
      return { ok: true, state, trust: buildTrust(state.caPem, state.crlPem), caKey: caKeyOf(state.caPem, state.crlPem), view: settingsViewOf(state, now(), viewOptions), fingerprint };
    } catch (err) {
      return { ok: false, error: new CertgateError('ERR_CERTGATE_STORE_CORRUPT', `The stored CA cannot be loaded: ${(err as Error).message}`, { cause: err }), fingerprint: `bad:${fingerprint}` };
    }
  }

  function loadError(err: unknown): Loaded {
    const e = asCertgateError(err);
    return { ok: false, error: e, fingerprint: `error:${e.code}:${e.message}` };
  }

  async function refresh(): Promise<void> {
    try {
      const state = await store.get();
      // A watch event may have delivered a newer state while this read was in flight.
      if (!(loaded?.ok && loaded.state.version > state.version)) install(loadState(state));
    } catch (err) {
      install(loadError(err));
    }
  }

  async function record(e: Omit<AuditEvent, 'time'>): Promise<void> {
    if (!audit) return;
    try {
      await audit.append({ time: now().toISOString(), ...e });
    } catch (err) {
      onProblem({ code: 'AUDIT_FAILED', message: `An audit event could not be written: ${(err as Error)?.message}` });
    }
  }

  // Watch first, then read: a change landing in between is not missed.
  const unwatch = store.watch((event: StoreEvent) => {
    if (event.error) install(loadError(event.error));
    else install(loadState(event.state));
  });
  await refresh();
  // A confirm window whose deadline passed while no process was running reverts at start.
  if (loaded.ok && confirmationDue(loaded.state, now())) await revertUnconfirmed();

  async function verify(chain: readonly Uint8Array[], trust: TrustStore, useCache: boolean): Promise<VerifyResult> {
    const started = metrics ? process.hrtime.bigint() : 0n;
    let result: VerifyResult;
    if (useCache && verdictCache) {
      const missesBefore = verdictCache.misses;
      result = await verdictCache.verify(chain, trust, verifyOptions);
      const hit = verdictCache.misses === missesBefore;
      metrics?.cache(hit);
      if (hit) return result;
    } else {
      result = await verifyChain([...chain], trust, { ...verifyOptions, time: now() });
    }
    if (metrics) metrics.validation({ seconds: Number(process.hrtime.bigint() - started) / 1e9, ok: result.ok });
    return result;
  }

  function normaliseChain(peerChain: readonly Uint8Array[] | null): Uint8Array[] | null {
    if (!peerChain || peerChain.length === 0) return null;
    return peerChain.slice(0, MAX_CHAIN);
  }

  async function decide(peerChain: readonly Uint8Array[] | null): Promise<Decision> {
    const current = loaded;
    const e = epoch;
    const chain = normaliseChain(peerChain);
    if (!current.ok) {
      return {
        certificate: chain ? describeLeaf(chain[0]!) : null,
        action: 'deny',
        mode: 'enforced',
        epoch: e,
        settingsVersion: null,
        verdict: null,
        identity: null,
        denial: { code: 'SETTINGS_UNAVAILABLE', message: 'Access is denied because the mTLS settings cannot be read; an administrator must repair them.' },
      };
    }
    const { state, trust } = current;
    const base = { mode: state.mode, epoch: e, settingsVersion: state.version, certificate: null };
    if (!chain) {
      if (state.mode === 'disabled' || trust === null) return { ...base, action: 'allow', verdict: null, identity: null };
      if (state.mode === 'optional') return { ...base, action: 'allow-unverified', verdict: null, identity: null };
      return {
        ...base,
        action: 'deny',
        verdict: null,
        identity: null,
        denial: { code: 'CLIENT_CERT_MISSING', message: `Client certificate not found in request. Please make sure your client uses a certificate to access ${appName}.` },
      };
    }
    if (state.mode === 'disabled' || trust === null) {
      return { ...base, certificate: describeLeaf(chain[0]!), action: 'allow', verdict: null, identity: null };
    }
    const verdict = await verify(chain, trust, true);
    // A validated leaf is described from its identity; only an unvalidated one is parsed again.
    if (verdict.ok) return { ...base, certificate: presentedOf(verdict.identity), action: 'allow', verdict, identity: verdict.identity };
    const certificate = describeLeaf(chain[0]!);
    if (state.mode === 'optional') return { ...base, certificate, action: 'allow-unverified', verdict, identity: null };
    return {
      ...base,
      certificate,
      action: 'deny',
      verdict,
      identity: null,
      denial: { code: 'CLIENT_CERT_UNTRUSTED', message: 'Current client certificate can not be validated by the uploaded CA.', reason: verdict.code },
    };
  }

  /** decide() plus its observers: metrics, and the enforcement preview for decisions made while `optional`. */
  async function observedDecide(peerChain: readonly Uint8Array[] | null): Promise<Decision> {
    const d = await decide(peerChain);
    metrics?.decision({ mode: d.mode, action: d.action, code: decisionMetricCode(d) });
    if (preview && d.mode === 'optional') {
      const l = loaded;
      const same = d.verdict && l.ok && l.trust && l.state.version === d.settingsVersion;
      preview.record(normaliseChain(peerChain), d.certificate, same ? { trustKey: String(l.trust!.generation), result: d.verdict! } : undefined);
    }
    return d;
  }

  function revertUnconfirmed(): Promise<boolean> {
    const installWritten = (st: MtlsState): void => {
      if (!(loaded.ok && loaded.state.version > st.version)) install(loadState(st));
    };
    return revertIfDue({ store, now, appName, install: installWritten, record, onProblem }, revertErrors);
  }

  /** `lintCrls` of `crlPem` against `caPem` (and the configured intermediates), its problems as errors of a CA upload. */
  function crlLint(crlPem: string, caPem: string, time: Date): { ok: boolean; problems: CaProblem[] } {
    // The store keeps at most MAX_CRL_PEM characters: a longer text that lints would fail the write itself.
    if (crlPem.length > MAX_CRL_PEM) {
      return { ok: false, problems: [{ code: 'CRL_TOO_LARGE', severity: 'error', message: `The CRL text is ${crlPem.length} characters long; at most ${MAX_CRL_PEM} are stored.` }] };
    }
    const lint = lintCrls(crlPem, caPem, { time, ...(options.intermediatesPem !== undefined ? { intermediatesPem: options.intermediatesPem } : {}) });
    return { ok: lint.ok, problems: lint.problems.map((p) => ({ code: p.code, severity: 'error' as const, message: p.message, ...(p.index !== undefined ? { index: p.index } : {}) })) };
  }

  async function previewReport(opts: { caPem?: string; crlPem?: string | null } = {}): Promise<PreviewOutcome> {
    if (!preview) return { ok: false, refusal: { code: 'PREVIEW_DISABLED', message: 'The enforcement preview is turned off (controller option preview: false).' } };
    const time = now();
    const verifyWith = (trust: TrustStore) => (chain: Uint8Array[]) => verifyChain(chain, trust, { ...verifyOptions, time });
    if (opts.caPem !== undefined || opts.crlPem !== undefined) {
      // What a save with the same caPem / crlPem would put in force: the CRLs given (null: none), else the
      // stored ones, linted against that CA exactly as the save lints them.
      const stored = loaded.ok ? loaded.state : null;
      const caPem = opts.caPem ?? stored?.caPem ?? null;
      if (caPem === null) return { ok: false, refusal: { code: 'CA_REQUIRED', message: 'No CA is stored yet; send a caPem to preview against a CA before uploading it.' } };
      if (opts.caPem !== undefined) {
        const lint = lintCaBundle(opts.caPem, { time });
        const first = lint.problems.find((p) => p.severity === 'error');
        if (!lint.ok || lint.certificates.length === 0) {
          return { ok: false, refusal: { code: 'CA_INVALID', message: `The CA was refused: ${first?.message ?? 'it holds no usable CA certificate.'}`, problems: lint.problems.map((p) => ({ ...p })) } };
        }
      }
      const crlPem = opts.crlPem === null ? undefined : (opts.crlPem ?? stored?.crlPem);
      if (crlPem !== undefined) {
        const lint = crlLint(crlPem, caPem, time);
        if (!lint.ok) {
          const r = crlInvalid(lint.problems, opts.crlPem === undefined);
          return { ok: false, refusal: { code: 'CRL_INVALID', message: r.message, problems: lint.problems } };
        }
      }
      return { ok: true, preview: await preview.report({ trustKey: null, verify: verifyWith(buildTrust(caPem, crlPem)) }) };
    }
    const l = loaded;
    if (!l.ok) return { ok: false, refusal: { code: 'SETTINGS_UNAVAILABLE', message: l.error.message } };
    if (l.state.caPem === null) return { ok: false, refusal: { code: 'CA_REQUIRED', message: 'No CA is stored yet; send a caPem to preview against a CA before uploading it.' } };
    const trust = l.trust ?? buildTrust(l.state.caPem, l.state.crlPem);
    return { ok: true, preview: await preview.report({ trustKey: l.trust ? String(l.trust.generation) : null, verify: verifyWith(trust) }) };
  }

  async function confirm(requester: Requester, opts: { version?: number } = {}): Promise<ChangeOutcome> {
    const chain = normaliseChain(requester.peerChain);
    const detail = opts.version !== undefined ? { expectedVersion: String(opts.version) } : undefined;
    return change('confirm', requester, async (current) => {
      let requesterVerdict: RequesterVerdict | undefined;
      if (current.caPem !== null) {
        const key = caKeyOf(current.caPem, current.crlPem);
        let result: VerifyResult | null = null;
        if (chain) {
          // As for enforce: never a cached verdict; this check is what keeps the enforcement.
          const trust = loaded.ok && loaded.trust && loaded.caKey === key ? loaded.trust : buildTrust(current.caPem, current.crlPem);
          result = await verify(chain, trust, false);
        }
        requesterVerdict = { caKey: key, result };
      }
      return {
        change: { type: 'confirm', ...(opts.version !== undefined ? { expectedVersion: opts.version } : {}) },
        ctx: { actor: requester.actor, now: now(), appName, ...(requesterVerdict ? { requester: requesterVerdict } : {}) },
      };
    }, detail);
  }

  function clientOf(requester: Requester): { fingerprint256: string; subject: string } | null {
    const chain = normaliseChain(requester.peerChain);
    const leaf = chain ? describeLeaf(chain[0]!) : null;
    return leaf ? { fingerprint256: leaf.fingerprint256, subject: leaf.subject } : null;
  }

  function currentView(): SettingsView | null {
    return loaded.ok ? loaded.view : null;
  }

  /** Runs one change through the machine with compare-and-set, retrying on a conflict it did not ask about. */
  async function change(
    action: string,
    requester: Requester,
    build: (current: MtlsState) => Promise<{ change: SettingsChange; ctx: Parameters<typeof transition>[2] }>,
    detail?: Record<string, string>,
  ): Promise<ChangeOutcome> {
    const client = clientOf(requester);
    let from: MtlsState | null = null;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      let current: MtlsState;
      try {
        current = await store.get();
      } catch (err) {
        const e = asCertgateError(err);
        install(loadError(e));
        const refusal: ControllerRefusal = { code: 'SETTINGS_UNAVAILABLE', message: `${e.message} Nothing was changed.` };
        await record({ actor: requester.actor, action, outcome: 'error', from: null, to: null, code: refusal.code, reason: refusal.message, client, ...(detail ? { detail } : {}) });
        return { ok: false, refusal, settings: null };
      }
      from = current;
      const { change: ch, ctx } = await build(current);
      const result = transition(current, ch, ctx);
      const fromRef = { mode: current.mode, version: current.version };
      if (!result.ok) {
        await record({ actor: requester.actor, action, outcome: 'refused', from: fromRef, to: null, code: result.refusal.code, reason: result.refusal.message, client, ...(detail ? { detail } : {}) });
        return { ok: false, refusal: result.refusal, settings: settingsViewOf(current, now(), viewOptions) };
      }
      let cas;
      try {
        cas = await store.compareAndSet(current.version, result.next);
      } catch (err) {
        const e = asCertgateError(err);
        const refusal: ControllerRefusal = { code: 'SETTINGS_UNAVAILABLE', message: `${e.message} Nothing was changed.` };
        await record({ actor: requester.actor, action, outcome: 'error', from: fromRef, to: null, code: refusal.code, reason: refusal.message, client, ...(detail ? { detail } : {}) });
        return { ok: false, refusal, settings: currentView() };
      }
      if (!cas.ok) continue; // someone else wrote in between: decide again on their state
      // The store's watch already reported this write (in order); a concurrent save may even have
      // installed a newer state since — never go back to this one.
      if (!(loaded.ok && loaded.state.version > cas.state.version)) install(loadState(cas.state));
      const outcome: AuditOutcome = result.refusal ? 'partial' : 'applied';
      await record({
        actor: requester.actor,
        action,
        outcome,
        from: fromRef,
        to: { mode: cas.state.mode, version: cas.state.version },
        ...(result.refusal ? { code: result.refusal.code, reason: result.refusal.message } : {}),
        client,
        ...(detail ? { detail } : {}),
      });
      const settings = settingsViewOf(cas.state, now(), viewOptions);
      return result.refusal ? { ok: true, state: cas.state, settings, refusal: result.refusal } : { ok: true, state: cas.state, settings };
    }
    const refusal: ControllerRefusal = { code: 'VERSION_CONFLICT', message: 'The settings are being changed by someone else right now; reload them and try again.' };
    await record({ actor: requester.actor, action, outcome: 'refused', from: from ? { mode: from.mode, version: from.version } : null, to: null, code: refusal.code, reason: refusal.message, client });
    return { ok: false, refusal, settings: currentView() };
  }

  async function save(request: SaveRequest, requester: Requester): Promise<ChangeOutcome> {
    const t = now();
    let caCheck: { ok: boolean; problems: CaProblem[] } | undefined;
    if (request.caPem !== undefined) {
      const lint = lintCaBundle(request.caPem, { time: t });
      caCheck = { ok: lint.ok, problems: lint.problems.map((p) => ({ ...p })) };
    }
    const chain = normaliseChain(requester.peerChain);
    const detail: Record<string, string> = { enabled: String(request.enabled), enforce: String(request.enforce), caUploaded: String(request.caPem !== undefined) };
    if (request.crlPem !== undefined) detail.crls = request.crlPem === null ? 'removed' : 'uploaded';
    if (request.version !== undefined) detail.expectedVersion = String(request.version);
    if (request.confirmWithinSec !== undefined) {
      const sec = request.confirmWithinSec;
      if (!request.enabled || !request.enforce || !Number.isSafeInteger(sec) || sec < CONFIRM_WINDOW_LIMITS.minSec || sec > CONFIRM_WINDOW_LIMITS.maxSec) {
        throw new CertgateError('ERR_CERTGATE_INVALID_OPTION', `save: "confirmWithinSec" must be an integer ${CONFIRM_WINDOW_LIMITS.minSec}…${CONFIRM_WINDOW_LIMITS.maxSec}, with enabled and enforce true`);
      }
      detail.confirmWithinSec = String(sec);
    }
    return change('save', requester, async (current) => {
      const ch: SettingsChange = {
        type: 'save',
        enabled: request.enabled,
        enforce: request.enforce,
        ...(request.caPem !== undefined ? { caPem: request.caPem } : {}),
        ...(request.crlPem !== undefined ? { crlPem: request.crlPem } : {}),
        ...(request.version !== undefined ? { expectedVersion: request.version } : {}),
        ...(request.confirmWithinSec !== undefined ? { confirmWithinSec: request.confirmWithinSec } : {}),
      };
      let requesterVerdict: RequesterVerdict | undefined;
      const target = request.caPem !== undefined && caCheck?.ok ? request.caPem : current.caPem;
      // The CRLs that would be in force, linted against the CA that would be in force whenever either changes.
      const targetCrl = request.crlPem === null ? undefined : (request.crlPem ?? current.crlPem);
      let crlCheck: { ok: boolean; problems: CaProblem[] } | undefined;
      if (target !== null && targetCrl !== undefined && (request.crlPem !== undefined || request.caPem !== undefined)) {
        crlCheck = crlLint(targetCrl, target, t);
      }
      if (request.enabled && request.enforce && target !== null && (request.caPem === undefined || caCheck?.ok) && (crlCheck === undefined || crlCheck.ok)) {
        const key = caKeyOf(target, targetCrl);
        let result: VerifyResult | null = null;
        if (chain) {
          // Never trust a cached verdict here: this check is what guards against lock-out (a new CA or new CRLs).
          const trust = loaded.ok && loaded.trust && loaded.caKey === key ? loaded.trust : buildTrust(target, targetCrl);
          result = await verify(chain, trust, false);
        }
        requesterVerdict = { caKey: key, result };
      }
      return {
        change: ch,
        ctx: {
          actor: requester.actor,
          now: t,
          appName,
          ...(caCheck ? { caCheck } : {}),
          ...(crlCheck ? { crlCheck } : {}),
          ...(requesterVerdict ? { requester: requesterVerdict } : {}),
        },
      };
    }, detail);
  }

  async function setHost(request: { unavailableReason: string | null; host: Record<string, string>; version?: number }, requester: Requester): Promise<ChangeOutcome> {
    return change('host', requester, async () => ({
      change: { type: 'host', unavailableReason: request.unavailableReason, host: { ...request.host }, ...(request.version !== undefined ? { expectedVersion: request.version } : {}) },
      ctx: { actor: requester.actor, now: now(), appName },
    }), { ...request.host, unavailable: String(request.unavailableReason !== null) });
  }

  async function breakGlass(mode: 'optional' | 'disabled', actor: string): Promise<ChangeOutcome> {
    const requester: Requester = { actor, peerChain: null };
    try {
      await store.get();
    } catch (err) {
      const e = asCertgateError(err);
      if (!store.repair) {
        return { ok: false, refusal: { code: 'SETTINGS_UNAVAILABLE', message: `${e.message} This store cannot be repaired in place.` }, settings: null };
      }
      const t = now();
      const next: MtlsState = { ...INITIAL_STATE, host: {}, version: 1, updatedAt: t.toISOString(), updatedBy: actor };
      try {
        const { keptAs } = await store.repair(next);
        install(loadState(next));
        await record({ actor, action: 'break-glass', outcome: 'applied', from: null, to: { mode: next.mode, version: next.version }, code: 'STORE_REPAIRED', reason: e.message, detail: { requestedMode: mode, keptAs: keptAs ?? '' } });
        return { ok: true, state: next, settings: settingsViewOf(next, t, viewOptions) };
      } catch (err2) {
        const e2 = asCertgateError(err2);
        await record({ actor, action: 'break-glass', outcome: 'error', from: null, to: null, code: 'SETTINGS_UNAVAILABLE', reason: e2.message });
        return { ok: false, refusal: { code: 'SETTINGS_UNAVAILABLE', message: e2.message }, settings: null };
      }
    }
    return change('break-glass', requester, async () => ({ change: { type: 'break-glass', mode }, ctx: { actor, now: now(), appName } }), { requestedMode: mode });
  }

  return {
    appName,
    get epoch() {
      return epoch;
    },
    status() {
      const l = loaded;
      if (!l.ok) return { ok: false, code: 'SETTINGS_UNAVAILABLE', message: l.error.message };
      const t = now();
      const live = { pendingConfirmation: pendingConfirmationView(l.state, t), warnings: settingsWarnings(l.view.ca, l.state.mode, t, viewOptions) };
      return { ok: true, state: structuredClone(l.state), settings: structuredClone({ ...l.view, ...live }) };
    },
    caPemInForce() {
      const l = loaded;
      return l.ok && l.state.mode !== 'disabled' ? l.state.caPem : null;
    },
    decide: observedDecide,
    save,
    setHost,
    breakGlass,
    async recordRefused(action, requester, refusal) {
      const l = loaded;
      await record({
        actor: requester.actor,
        action,
        outcome: 'refused',
        from: l.ok ? { mode: l.state.mode, version: l.state.version } : null,
        to: null,
        code: refusal.code,
        reason: refusal.message,
        client: clientOf(requester),
      });
    },
    refresh,
    now: () => now(),
    confirm,
    revertIfDue: () => revertUnconfirmed(),
    preview: previewReport,
    async recentAudit(limit) {
      return audit ? (await audit.recent(limit)).reverse() : [];
    },
    get metrics() {
      return metrics;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      unwatch();
      confirmTimer.stop();
      listeners.clear();
    },
  };
}
