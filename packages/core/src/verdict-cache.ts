/**
 * @module
 * `createVerdictCache`: a bounded LRU cache of {@link verifyChain} results, keyed by the chain's
 * bytes, the trust store's generation and the options, so a chain seen before is decided again in
 * microseconds.
 *
 * Rules (each one keeps a cached verdict equal to what `verifyChain` would answer now):
 * - The key is SHA-256 over every chain element with its type and length (a collision-resistant
 *   hash: a forged chain must never find a trusted chain's entry), plus the store generation and a
 *   canonical form of the options.
 * - Only "now" is cached: a call with `options.time` goes straight to `verifyChain`.
 * - An entry expires at the first instant its verdict could change with time: the earliest
 *   notBefore/notAfter (with the clock tolerance) of the validated path and of the store's
 *   certificates (for a failure, of every certificate the client sent too), and a CRL's
 *   thisUpdate/nextUpdate where the store or the result reports one; and after `ttlMs`.
 * - A newer store generation invalidates every entry of older ones (they are dropped and can never
 *   be returned); a call with an older store than the newest seen is answered but not cached.
 * - Options the validator would refuse, malformed chains and over-limit inputs are never cached
 *   (they go straight to `verifyChain`, which answers or throws as usual).
 *
 * Cached results are shared between callers: they are deep-frozen (their DER bytes are private
 * copies), so treat them as read-only.
 */
import { hash as cryptoHash } from 'node:crypto';
import { parseCertificate } from './cert/parse.js';
import { CertgateOptionError } from './errors.js';
import { LruMap } from './lru.js';
import { readPemBlocks } from './pem.js';
import { storeInternals, type TrustStore } from './trust-store.js';
import type { CertificateInput, CertificateSummary, VerifyOptions, VerifyResult } from './types.js';
import { INPUT_LIMITS, VERIFY_OPTION_KEYS, verifyChain } from './verify.js';

/** Options of {@link createVerdictCache}. */
export interface VerdictCacheOptions {
  /** Most entries kept (least recently used evicted first). Default 10 000; 1 to 10 000 000. */
  maxEntries?: number;
  /** Longest an entry lives, in milliseconds, whatever the certificates say. Default: no limit. */
  ttlMs?: number;
  /**
   * The clock, in milliseconds since the epoch. Default `Date.now`. It is also the validation
   * instant passed to `verifyChain` on a miss, so cache and validator agree on "now".
   */
  now?: () => number;
}

/** What {@link createVerdictCache} returns. */
export interface VerdictCache {
  /**
   * Same contract as {@link verifyChain} (never throws for anything about the chain; throws
   * `ERR_CERTGATE_INVALID_OPTION` for bad options or a store that is not a TrustStore), answered
   * from the cache when the same chain was decided under the same store and options and the answer
   * cannot have changed since.
   */
  verify(chain: readonly CertificateInput[], store: TrustStore, options?: VerifyOptions): Promise<VerifyResult>;
  /** Drops every entry (counters are kept). Results still being computed are not stored. */
  clear(): void;
  /** Entries held now (expired ones are dropped lazily, so this may count some). */
  readonly size: number;
  /** Calls answered from the cache (or from an identical call still in flight). */
  readonly hits: number;
  /** Calls that looked the key up, found nothing usable and ran `verifyChain`. */
  readonly misses: number;
  /** Calls that were not cacheable (`time` given, bad options, malformed or over-limit chains). */
  readonly bypasses: number;
}

interface Entry {
  generation: number;
  expiresAt: number;
  result: VerifyResult;
}

const OPTION_SET = new Set<string>(VERIFY_OPTION_KEYS);

const MAX_ENTRIES_LIMIT = 10_000_000;

function bad(message: string): never {
  throw new CertgateOptionError(`createVerdictCache: ${message}`);
}

function isStringArray(v: unknown): v is string[] {
  if (!Array.isArray(v) || v.length > 64) return false;
  for (const s of v) if (typeof s !== 'string' || s.length > 256) return false;
  return true;
}

/**
 * A snapshot of the options (each value read once) and its canonical key; null when the call must
 * not be cached (time given, unknown keys, values of a type the validator refuses).
 */
function canonicalOptions(options: VerifyOptions | undefined): { key: string; snapshot: VerifyOptions } | null {
  if (options === undefined) return { key: '', snapshot: {} };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) return null;
  const keys = Object.keys(options);
  if (keys.length === 0) return { key: '', snapshot: {} };
  const src = options as Record<string, unknown>;
  const snap: Record<string, unknown> = {};
  for (const k of keys) {
    if (k === 'time') {
      if (src[k] !== undefined) return null; // a fixed instant: not "now", never cached
      continue;
    }
    if (!OPTION_SET.has(k)) return null;
    const v = src[k];
    if (v === undefined) continue;
    if (k === 'initialPolicySet' || k === 'requiredKeyUsage') {
      if (!isStringArray(v)) return null;
      snap[k] = [...v];
    } else if (k === 'requiredEku') {
      if (v !== null && (typeof v !== 'string' || v.length > 256)) return null;
      snap[k] = v;
    } else if (k === 'revocation') {
      if (typeof v !== 'string' || v.length > 16) return null;
      snap[k] = v;
    } else if (k === 'maxDepth' || k === 'clockToleranceSec') {
      if (typeof v !== 'number' || !Number.isFinite(v)) return null;
      snap[k] = v;
    } else {
      if (typeof v !== 'boolean') return null;
      snap[k] = v;
    }
  }
  let key = '';
  for (const k of VERIFY_OPTION_KEYS) if (k in snap) key += `${k}=${JSON.stringify(snap[k])};`;
  return { key, snapshot: snap as VerifyOptions };
}

/**
 * SHA-256 over `tag length ':' bytes` for every element (`d` DER, `s` PEM text as UTF-16LE, which
 * is lossless even for lone surrogates). Null when the chain is not cacheable.
 */
function chainDigest(chain: readonly CertificateInput[]): string | null {
  if (!Array.isArray(chain) || chain.length === 0 || chain.length > INPUT_LIMITS.maxCertificates) return null;
  let total = 0;
  for (const c of chain) {
    if (c instanceof Uint8Array) total += 16 + c.byteLength;
    else if (typeof c === 'string') total += 16 + 2 * c.length;
    else return null;
  }
  if (total > 2 * INPUT_LIMITS.maxTotalBytes + 16 * chain.length) return null;
  const buf = Buffer.allocUnsafe(total);
  let o = 0;
  for (const c of chain) {
    if (c instanceof Uint8Array) {
      buf[o++] = 0x64; // 'd'
      buf.writeUInt32BE(c.byteLength, o);
      o += 4;
      buf.set(c, o);
      o += c.byteLength;
    } else {
      const s = c as string;
      buf[o++] = 0x73; // 's'
      buf.writeUInt32BE(s.length, o);
      o += 4;
      o += buf.write(s, o, 'utf16le');
    }
  }
  return cryptoHash('sha256', buf.subarray(0, o), 'base64');
}

/**
 * Instants (ms) from which a certificate's validity may differ, given the clock tolerance: the
 * validator accepts `notBefore − tol ≤ t ≤ notAfter + tol`, so the first instant of a change is
 * `notBefore − tol` and `notAfter + tol + 1`; the untolerated bounds are added to end entries early
 * rather than late.
 */
function pushBoundaries(out: number[], notBefore: number, notAfter: number, tolMs: number): void {
  out.push(notBefore - tolMs, notBefore, notAfter, notAfter + tolMs + 1);
}

/** A CRL time whose comparison may be strict or not: both the instant and the next one. */
function pushInstant(out: number[], t: number): void {
  out.push(t, t + 1);
}

function nextAfter(points: readonly number[], now: number): number {
  let best = Infinity;
  for (const p of points) if (p > now && p < best) best = p;
  return best;
}

function timeOf(v: unknown): number | null {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  return null;
}

/** Validity boundaries of the store's anchors, intermediates and CRLs (raw, without tolerance). */
const storePointsCache = new WeakMap<TrustStore, { certs: [number, number][]; crl: number[] }>();
function storePoints(store: TrustStore): { certs: [number, number][]; crl: number[] } {
  let p = storePointsCache.get(store);
  if (p) return p;
  const certs: [number, number][] = [];
  for (const s of [...store.anchors, ...store.intermediates]) certs.push([s.notBefore.getTime(), s.notAfter.getTime()]);
  const crl: number[] = [];
  // CRLs, when the store holds them (duck-typed, so this keeps working as revocation lands).
  const inner = storeInternals(store) as unknown as { crls?: unknown };
  if (Array.isArray(inner.crls)) {
    for (const c of inner.crls as Record<string, unknown>[]) {
      const t = timeOf(c?.thisUpdate);
      const n = timeOf(c?.nextUpdate);
      if (t !== null) pushInstant(crl, t);
      if (n !== null) pushInstant(crl, n);
    }
  }
  p = { certs, crl };
  storePointsCache.set(store, p);
  return p;
}

/** Validity windows of every certificate the client sent that parses (failures only). */
function inputPoints(chain: readonly CertificateInput[]): [number, number][] {
  const out: [number, number][] = [];
  for (const c of chain) {
    const ders = typeof c === 'string' ? readPemBlocks(c).filter((b) => b.label === 'CERTIFICATE' && b.der).map((b) => b.der!) : [c];
    for (const der of ders) {
      try {
        const p = parseCertificate(der);
        out.push([p.notBefore, p.notAfter]);
      } catch {
        // does not parse: no time boundary (a parse failure does not change with time)
      }
    }
  }
  return out;
}

/** The first instant after `now` at which `result` could differ. */
function expiryOf(result: VerifyResult, chain: readonly CertificateInput[], store: TrustStore, tolMs: number, now: number): number {
  const points: number[] = [];
  const sp = storePoints(store);
  for (const [nb, na] of sp.certs) pushBoundaries(points, nb, na, tolMs);
  points.push(...sp.crl);
  if (result.ok) {
    for (const s of result.chain) pushBoundaries(points, s.notBefore.getTime(), s.notAfter.getTime(), tolMs);
  } else {
    for (const [nb, na] of inputPoints(chain)) pushBoundaries(points, nb, na, tolMs);
  }
  const rev = (result as { revocation?: Record<string, unknown> }).revocation;
  if (rev && typeof rev === 'object') {
    for (const f of ['thisUpdate', 'nextUpdate']) {
      const t = timeOf(rev[f]);
      if (t !== null) pushInstant(points, t);
    }
  }
  return nextAfter(points, now);
}

/** A private, deep-frozen copy of a result (DER views copied: the caller's buffers may be reused). */
function freezeCopy<T>(value: T): T {
  if (value instanceof Uint8Array) return new Uint8Array(value) as T;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (Array.isArray(value)) return Object.freeze(value.map((v) => freezeCopy(v))) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = freezeCopy(v);
    return Object.freeze(out) as T;
  }
  return value;
}

/**
 * Creates a verdict cache. One cache per trust-store lineage (the store in force, replaced on every
 * settings change): a newer store generation drops the entries of older ones.
 *
 * @throws CertgateOptionError (`ERR_CERTGATE_INVALID_OPTION`) for bad options.
 * @example
 * const cache = createVerdictCache({ maxEntries: 10_000 });
 * const r = await cache.verify(peerChain, store); // a repeat of the same chain costs microseconds
 */
export function createVerdictCache(options: VerdictCacheOptions = {}): VerdictCache {
  if (options === null || typeof options !== 'object') bad('"options" must be an object');
  const maxEntries = options.maxEntries ?? 10_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1 || maxEntries > MAX_ENTRIES_LIMIT) {
    bad(`"maxEntries" must be an integer from 1 to ${MAX_ENTRIES_LIMIT} (got ${String(options.maxEntries)})`);
  }
  const ttlMs = options.ttlMs;
  if (ttlMs !== undefined && (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0)) {
    bad(`"ttlMs" must be a positive number of milliseconds (got ${String(ttlMs)})`);
  }
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') bad('"now" must be a function returning milliseconds since the epoch');

  const entries = new LruMap<string, Entry>(maxEntries);
  const inFlight = new Map<string, Promise<VerifyResult>>();
  let newestGeneration = 0;
  let clears = 0;
  let hits = 0;
  let misses = 0;
  let bypasses = 0;

  function dropOlderThan(generation: number): void {
    summaries.clear();
    entries.deleteWhere((e) => e.generation < generation);
    for (const k of inFlight.keys()) if (Number(k.slice(0, k.indexOf('|'))) < generation) inFlight.delete(k);
  }

  // Frozen summaries of issuing certificates, shared by every entry whose path holds them (a summary
  // is a function of the certificate's DER, which its SHA-256 fingerprint names). Bounded; an evicted
  // summary stays referenced by the entries that hold it, and later entries get their own copy.
  const summaries = new LruMap<string, CertificateSummary>(1024);

  function freezeResult(r: VerifyResult): VerifyResult {
    if (!r.ok) return freezeCopy(r);
    const chainOut = r.chain.map((s, i) => {
      if (i === 0) return freezeCopy(s);
      const shared = summaries.get(s.fingerprint256);
      if (shared) return shared;
      const own = freezeCopy(s);
      summaries.set(s.fingerprint256, own);
      return own;
    });
    const fps = r.identity.chainFingerprints256.map((f, i) => chainOut[i]?.fingerprint256 === f ? chainOut[i]!.fingerprint256 : f);
    const copy = freezeCopy({ ...r, chain: [], identity: { ...r.identity, chainFingerprints256: [] } });
    return Object.freeze({ ...copy, chain: Object.freeze(chainOut), identity: Object.freeze({ ...copy.identity, chainFingerprints256: Object.freeze(fps) }) }) as VerifyResult;
  }

  async function compute(key: string, chain: readonly CertificateInput[], store: TrustStore, snapshot: VerifyOptions, t: number, clearsAtStart: number): Promise<VerifyResult> {
    const result = freezeResult(await verifyChain(chain, store, { ...snapshot, time: new Date(t) }));
    if (clears === clearsAtStart && store.generation === newestGeneration) {
      const tolMs = Math.round((snapshot.clockToleranceSec ?? 0) * 1000);
      let expiresAt = expiryOf(result, chain, store, tolMs, t);
      if (ttlMs !== undefined) expiresAt = Math.min(expiresAt, t + ttlMs);
      if (expiresAt > t) {
        entries.set(key, { generation: store.generation, expiresAt, result });
      }
    }
    return result;
  }

  async function verify(chain: readonly CertificateInput[], store: TrustStore, verifyOptions?: VerifyOptions): Promise<VerifyResult> {
    storeInternals(store); // throws ERR_CERTGATE_INVALID_OPTION for anything but a real TrustStore
    // Options or a chain that cannot be read without throwing (a getter, a Proxy trap) are not cached:
    // verifyChain gives its typed option error or a MALFORMED result for them. The chain is copied
    // once, so the key and the verification see the same elements.
    let opts: ReturnType<typeof canonicalOptions> = null;
    let input: readonly CertificateInput[] | null = null;
    try {
      opts = canonicalOptions(verifyOptions);
      if (opts && Array.isArray(chain) && chain.length <= INPUT_LIMITS.maxCertificates) input = Array.from(chain);
    } catch {
      opts = null;
    }
    const digest = opts && input ? chainDigest(input) : null;
    if (!opts || !input || digest === null) {
      bypasses++;
      return verifyChain(chain, store, verifyOptions);
    }
    chain = input;
    const generation = store.generation;
    if (generation > newestGeneration) {
      newestGeneration = generation;
      dropOlderThan(generation);
    }
    const t = now();
    if (typeof t !== 'number' || !Number.isFinite(t)) throw new CertgateOptionError('createVerdictCache: "now" returned something other than a finite number of milliseconds');
    const key = `${generation}|${opts.key}|${digest}`;
    const hit = entries.get(key);
    if (hit) {
      if (hit.generation === newestGeneration && t < hit.expiresAt) {
        hits++;
        return hit.result;
      }
      entries.delete(key);
    }
    const pending = inFlight.get(key);
    if (pending) {
      hits++;
      return pending;
    }
    misses++;
    const p = compute(key, chain, store, opts.snapshot, t, clears);
    inFlight.set(key, p);
    const done = () => {
      if (inFlight.get(key) === p) inFlight.delete(key);
    };
    p.then(done, done);
    return p;
  }

  return {
    verify,
    clear() {
      entries.clear();
      summaries.clear();
      inFlight.clear();
      clears++;
    },
    get size() {
      return entries.size;
    },
    get hits() {
      return hits;
    },
    get misses() {
      return misses;
    },
    get bypasses() {
      return bypasses;
    },
  };
}
