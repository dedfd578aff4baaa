/**
 * @module
 * The enforcement preview (DESIGN §1): while `optional`, the controller records the chains recent
 * clients presented (distinct chains over a sliding window, keyed by the SHA-256 of the chain, with
 * counts and last-seen) and the connections that presented none. A report re-verifies the recorded
 * chains against the CA in force (or a CA that is not uploaded yet) and says how many would pass,
 * fail (by verification code) or have no certificate, i.e. who would be locked out by `enforced`.
 *
 * Bounded: at most `maxClients` distinct chains and `maxTotalBytes` of DER (least recently seen
 * evicted first, counted in `evicted`), a chain larger than `maxChainBytes` is counted in
 * `unrecorded` but not kept, entries older than the window are dropped. The DER is kept only in
 * memory, for re-verification; it is never logged or returned (clients show subject and fingerprint).
 */
import { createHash } from 'node:crypto';
import type { PresentedCertificate } from '../controller/index.js';
import { CertgateError } from '../errors.js';
import type { VerifyResult } from '../types.js';
import { expiresInDays } from '../warnings.js';

/** Options of {@link createEnforcementPreview}. */
export interface PreviewOptions {
  /** Distinct chains kept. Default 1000 (1…100000). */
  maxClients?: number;
  /** The sliding window, in seconds. Default 86400 (24 h; 60…2592000). */
  windowSec?: number;
  /** Largest chain kept for re-verification, in DER bytes. Default 65536. */
  maxChainBytes?: number;
  /** DER bytes kept in all. Default 16 MiB. */
  maxTotalBytes?: number;
  /** The clock. Default `() => new Date()`. */
  now?: () => Date;
}

/** One recorded client in a {@link PreviewReport}. */
export interface PreviewClient {
  /** RFC 4514 subject of the leaf ('' when it does not parse). */
  subject: string;
  issuer: string;
  /** SHA-256 of the leaf DER, upper-case hex pairs with colons. */
  fingerprint256: string;
  /** The chain against the CA of the report. */
  verdict: { ok: boolean; code?: string };
  /** Connections that presented this chain in the window (since `firstSeen`). */
  count: number;
  /** ISO 8601. */
  firstSeen: string;
  /** ISO 8601. */
  lastSeen: string;
  /** Whole days until the leaf expires (negative: expired), null when it does not parse. */
  expiresInDays: number | null;
}

/** `GET|POST /api/settings/mtls/preview`. */
export interface PreviewReport {
  /** ISO 8601: the start of the data (the window's start, or when recording began if later). */
  since: string;
  /** The window, in seconds. */
  windowSec: number;
  /** `wouldPass + Σ wouldFail + noCertificate`: distinct chains plus connections without a certificate. */
  total: number;
  /** Distinct chains that validate against the CA of the report. */
  wouldPass: number;
  /** Connections without a certificate in the window (they cannot be told apart); counted in buckets of 1/24 of the window, so the window's edge is that coarse. */
  noCertificate: number;
  /** Distinct chains that do not validate, by verification code. */
  wouldFail: Record<string, number>;
  /** Failing clients first, then the most recently seen. */
  clients: PreviewClient[];
  /** Distinct chains dropped since recording began to stay within the bounds (the report may miss clients when > 0). */
  evicted: number;
  /** Connections whose chain exceeded `maxChainBytes` (not kept, not in `clients`). */
  unrecorded: number;
}

/** How a report verifies: a key naming the trust store (verdicts recorded under the same key are reused) and the verifier. */
export interface PreviewVerifier {
  /** Names the trust store; null never matches a recorded verdict. */
  trustKey: string | null;
  verify(chain: Uint8Array[]): Promise<VerifyResult>;
}

/** The recorder. Create it with {@link createEnforcementPreview}. */
export interface EnforcementPreview {
  /**
   * Records one connection's chain (null: no certificate) and, when known, its verdict against the
   * trust store named `trustKey` (reused by a report against the same store for up to a minute).
   */
  record(chain: readonly Uint8Array[] | null, certificate: PresentedCertificate | null, verdict?: { trustKey: string; result: VerifyResult }): void;
  /** The report against `verifier`'s CA. */
  report(verifier: PreviewVerifier): Promise<PreviewReport>;
  /** Distinct chains kept now. */
  readonly size: number;
  clear(): void;
}

interface Entry {
  chain: Uint8Array[];
  bytes: number;
  subject: string;
  issuer: string;
  fingerprint256: string;
  notAfter: number | null;
  count: number;
  firstSeen: number;
  lastSeen: number;
  memo: { trustKey: string; at: number; result: { ok: boolean; code?: string } } | null;
}

/** A verdict recorded under the same trust store is reused for this long (ms of the injected clock). */
const MEMO_MS = 60_000;
const BUCKETS = 24;

function intOption(v: number | undefined, def: number, min: number, max: number, name: string): number {
  if (v === undefined) return def;
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new CertgateError('ERR_CERTGATE_INVALID_OPTION', `createEnforcementPreview: "${name}" must be an integer ${min}…${max}`);
  }
  return v;
}

function fingerprintOf(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:');
}

function chainKey(chain: readonly Uint8Array[]): string {
  const h = createHash('sha256');
  for (const c of chain) h.update(`${c.byteLength}:`).update(c);
  return h.digest('hex');
}

function short(result: VerifyResult): { ok: boolean; code?: string } {
  return result.ok ? { ok: true } : { ok: false, code: result.code };
}

/**
 * Creates an enforcement-preview recorder. The controller creates one (its `preview` option) and
 * records every decision made while `optional`.
 *
 * @example
 * const preview = createEnforcementPreview({ maxClients: 1000, windowSec: 86_400 });
 * preview.record(peerChain, describeLeaf(peerChain[0]), { trustKey: '7', result });
 * const report = await preview.report({ trustKey: '7', verify: (chain) => verifyChain(chain, trust) });
 */
export function createEnforcementPreview(options: PreviewOptions = {}): EnforcementPreview {
  const maxClients = intOption(options.maxClients, 1000, 1, 100_000, 'maxClients');
  const windowSec = intOption(options.windowSec, 86_400, 60, 30 * 86_400, 'windowSec');
  const maxChainBytes = intOption(options.maxChainBytes, 64 * 1024, 1024, 1024 * 1024, 'maxChainBytes');
  const maxTotalBytes = intOption(options.maxTotalBytes, 16 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024, 'maxTotalBytes');
  const now = options.now ?? (() => new Date());
  const windowMs = windowSec * 1000;
  const bucketMs = Math.ceil(windowMs / BUCKETS);
  let startedAt = now().getTime();

  // Insertion order = least recently seen first (an entry is re-inserted on every hit).
  const entries = new Map<string, Entry>();
  let totalBytes = 0;
  let evicted = 0;
  // Connections without a certificate (and unrecorded ones), counted per bucket of the window.
  let noCert: { start: number; count: number }[] = [];
  let unrecorded: { start: number; count: number }[] = [];

  function drop(key: string, e: Entry): void {
    entries.delete(key);
    totalBytes -= e.bytes;
  }

  function prune(t: number): void {
    const cutoff = t - windowMs;
    for (const [k, e] of entries) {
      if (e.lastSeen >= cutoff) break;
      drop(k, e);
    }
    noCert = noCert.filter((b) => b.start + bucketMs > cutoff);
    unrecorded = unrecorded.filter((b) => b.start + bucketMs > cutoff);
  }

  function bump(buckets: { start: number; count: number }[], t: number): void {
    const start = t - (t % bucketMs);
    const last = buckets[buckets.length - 1];
    if (last && last.start === start) last.count++;
    else buckets.push({ start, count: 1 });
  }

  const sum = (buckets: { start: number; count: number }[], cutoff: number): number =>
    buckets.reduce((n, b) => (b.start + bucketMs > cutoff ? n + b.count : n), 0);

  return {
    record(chain, certificate, verdict) {
      const t = now().getTime();
      prune(t);
      if (!chain || chain.length === 0) {
        bump(noCert, t);
        return;
      }
      const bytes = chain.reduce((n, c) => n + c.byteLength, 0);
      if (bytes > maxChainBytes) {
        bump(unrecorded, t);
        return;
      }
      const key = chainKey(chain);
      const memo = verdict ? { trustKey: verdict.trustKey, at: t, result: short(verdict.result) } : null;
      const hit = entries.get(key);
      if (hit) {
        entries.delete(key);
        hit.count++;
        hit.lastSeen = Math.max(hit.lastSeen, t);
        if (memo) hit.memo = memo;
        entries.set(key, hit);
        return;
      }
      const notAfter = certificate ? Date.parse(certificate.notAfter) : NaN;
      const e: Entry = {
        chain: chain.map((c) => Uint8Array.from(c)),
        bytes,
        subject: certificate?.subject ?? '',
        issuer: certificate?.issuer ?? '',
        fingerprint256: certificate?.fingerprint256 ?? fingerprintOf(chain[0]!),
        notAfter: Number.isFinite(notAfter) ? notAfter : null,
        count: 1,
        firstSeen: t,
        lastSeen: t,
        memo,
      };
      entries.set(key, e);
      totalBytes += bytes;
      for (const [k, old] of entries) {
        if (entries.size <= maxClients && totalBytes <= maxTotalBytes) break;
        drop(k, old);
        evicted++;
      }
    },

    async report(verifier) {
      const nowDate = now();
      const t = nowDate.getTime();
      prune(t);
      const cutoff = t - windowMs;
      const wouldFail: Record<string, number> = {};
      let wouldPass = 0;
      const clients: PreviewClient[] = [];
      // A snapshot: recording may go on while the verifier awaits.
      for (const e of [...entries.values()]) {
        if (e.lastSeen < cutoff) continue;
        let v: { ok: boolean; code?: string };
        const m = e.memo;
        if (m && verifier.trustKey !== null && m.trustKey === verifier.trustKey && t - m.at < MEMO_MS && t >= m.at && (e.notAfter === null || t < e.notAfter)) {
          v = m.result;
        } else {
          v = short(await verifier.verify(e.chain.map((c) => c)));
          if (verifier.trustKey !== null) e.memo = { trustKey: verifier.trustKey, at: t, result: v };
        }
        if (v.ok) wouldPass++;
        else wouldFail[v.code ?? 'UNKNOWN'] = (wouldFail[v.code ?? 'UNKNOWN'] ?? 0) + 1;
        clients.push({
          subject: e.subject,
          issuer: e.issuer,
          fingerprint256: e.fingerprint256,
          verdict: v,
          count: e.count,
          firstSeen: new Date(e.firstSeen).toISOString(),
          lastSeen: new Date(e.lastSeen).toISOString(),
          expiresInDays: e.notAfter === null ? null : expiresInDays(new Date(e.notAfter), nowDate),
        });
      }
      clients.sort((a, b) => Number(a.verdict.ok) - Number(b.verdict.ok) || Date.parse(b.lastSeen) - Date.parse(a.lastSeen));
      const noCertificate = sum(noCert, cutoff);
      const failed = Object.values(wouldFail).reduce((n, x) => n + x, 0);
      return {
        since: new Date(Math.max(startedAt, cutoff)).toISOString(),
        windowSec,
        total: wouldPass + failed + noCertificate,
        wouldPass,
        noCertificate,
        wouldFail,
        clients,
        evicted,
        unrecorded: sum(unrecorded, cutoff),
      };
    },

    get size() {
      return entries.size;
    },

    clear() {
      startedAt = now().getTime();
      entries.clear();
      totalBytes = 0;
      noCert = [];
      unrecorded = [];
    },
  };
}
