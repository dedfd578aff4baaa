/**
 * @module
 * `verifyChain`: RFC 5280 path building and validation of a client's chain against a {@link TrustStore}.
 */
import type { ParsedCertificate } from './cert/model.js';
import { parseCertificate } from './cert/parse.js';
import { buildAndValidate } from './cert/path.js';
import { importKeysAhead } from './cert/signature.js';
import { KEY_USAGE_BITS, type Failure, type ResolvedVerifyOptions } from './cert/validate.js';
import { CertgateOptionError } from './errors.js';
import { identityOf, summarize } from './identity.js';
import { sha256Hex } from './hash.js';
import { readPemBlocks } from './pem.js';
import { checkPathRevocation } from './revocation/check.js';
import { CrlSet } from './revocation/crl-set.js';
import { MAX_FETCHED_CRLS_PER_VERIFICATION, isCrlFetcher, type CrlFetcher } from './revocation/fetch.js';
import { MAX_OCSP_REQUESTS_PER_VERIFICATION, isOcspClient, ocspKey, queryOcsp, type OcspAnswer, type OcspClient } from './revocation/ocsp.js';
import { storeInternals, type TrustStore } from './trust-store.js';
import type { CertificateInput, KeyUsageName, RevocationInfo, VerifyFailure, VerifyOptions, VerifyResult } from './types.js';

/** Bounds on the input of one verification. */
export const INPUT_LIMITS = Object.freeze({
  /** Certificates in the chain given to verifyChain. */
  maxCertificates: 64,
  /** Bytes of one DER certificate. */
  maxCertificateBytes: 256 * 1024,
  /** Bytes of all certificates together. */
  maxTotalBytes: 1024 * 1024,
});

const EKU_NAMES: Record<string, string> = {
  clientAuth: '1.3.6.1.5.5.7.3.2',
  serverAuth: '1.3.6.1.5.5.7.3.1',
};
const OID_RE = /^[0-2](\.(0|[1-9][0-9]*))+$/;
/**
 * @internal The keys of {@link VerifyOptions} other than `time`, in a fixed order: what verifyChain
 * accepts (with `time`) and the canonical key order of the verdict cache.
 */
export const VERIFY_OPTION_KEYS = [
  'requiredEku',
  'revocation',
  'initialPolicySet',
  'explicitPolicy',
  'policyMappingInhibit',
  'anyPolicyInhibit',
  'maxDepth',
  'clockToleranceSec',
  'allowWeakAlgorithms',
  'requiredKeyUsage',
  'crlFetcher',
  'ocspClient',
] as const satisfies readonly (keyof VerifyOptions)[];
// Compile-time check that the list names every option: this fails to type-check if VerifyOptions grows a key.
const everyOptionListed: Record<Exclude<keyof VerifyOptions, 'time' | (typeof VERIFY_OPTION_KEYS)[number]>, never> = {};
void everyOptionListed;
const OPTION_KEYS = new Set<string>(['time', ...VERIFY_OPTION_KEYS]);

/** What an exception from the caller's own objects says, without letting it throw again (a throwing toString, a Proxy). */
function errorText(err: unknown): string {
  try {
    return (err instanceof Error ? err.message : String(err)).slice(0, 200);
  } catch {
    return 'an exception that cannot be shown';
  }
}

function bad(message: string): never {
  throw new CertgateOptionError(`verifyChain: ${message}`);
}

function bool(o: VerifyOptions, key: keyof VerifyOptions): boolean {
  const v = o[key];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') bad(`"${key}" must be a boolean`);
  return v;
}

type ResolvedOptions = ResolvedVerifyOptions & {
  revocation: 'off' | 'soft' | 'hard' | undefined;
  crlFetcher: CrlFetcher | undefined;
  ocspClient: OcspClient | undefined;
  /** The real clock when the options were read: how long OCSP requests took is measured from it. */
  startedMs: number;
};

/**
 * Validates and defaults the options once (throws `ERR_CERTGATE_INVALID_OPTION`, also when reading them
 * throws: a getter or a Proxy trap that throws, a Date-like object that is not a Date).
 */
export function resolveVerifyOptions(options: VerifyOptions | undefined): ResolvedOptions {
  try {
    return resolveOptions(options);
  } catch (err) {
    if (err instanceof CertgateOptionError) throw err;
    bad(`the options could not be read (${errorText(err)})`);
  }
}

function resolveOptions(options: VerifyOptions | undefined): ResolvedOptions {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) bad('"options" must be an object');
  for (const k of Object.keys(options)) {
    if (!OPTION_KEYS.has(k)) {
      const hint = [...OPTION_KEYS].find((o) => o.toLowerCase() === k.toLowerCase());
      bad(`unknown option "${k}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
    }
  }
  const o = options;
  const startedMs = Date.now();
  let timeMs = startedMs;
  if (o.time !== undefined) {
    // The intrinsic getTime, read once: a Date whose own getTime was replaced cannot pass one instant to the check and another to the validation.
    timeMs = o.time instanceof Date ? Date.prototype.getTime.call(o.time) : Number.NaN;
    if (Number.isNaN(timeMs)) bad('"time" must be a valid Date');
  }
  let requiredEkuOid: string | null = EKU_NAMES.clientAuth!;
  if (o.requiredEku !== undefined) {
    if (o.requiredEku === null) requiredEkuOid = null;
    else if (typeof o.requiredEku === 'string' && Object.hasOwn(EKU_NAMES, o.requiredEku)) requiredEkuOid = EKU_NAMES[o.requiredEku]!;
    else if (typeof o.requiredEku === 'string' && OID_RE.test(o.requiredEku)) requiredEkuOid = o.requiredEku;
    else bad(`"requiredEku" must be 'clientAuth', 'serverAuth', a dotted OID or null (got ${JSON.stringify(o.requiredEku)})`);
  }
  if (o.revocation !== undefined && o.revocation !== 'off' && o.revocation !== 'soft' && o.revocation !== 'hard') {
    bad(`"revocation" must be 'off', 'soft' or 'hard' (got ${JSON.stringify(o.revocation)})`);
  }
  let initialPolicySet = ['2.5.29.32.0'];
  if (o.initialPolicySet !== undefined) {
    if (!Array.isArray(o.initialPolicySet) || o.initialPolicySet.length === 0 || !o.initialPolicySet.every((p) => typeof p === 'string' && OID_RE.test(p))) {
      bad('"initialPolicySet" must be a non-empty array of dotted OIDs');
    }
    initialPolicySet = [...new Set(o.initialPolicySet)];
  }
  let maxDepth = 8;
  if (o.maxDepth !== undefined) {
    if (!Number.isInteger(o.maxDepth) || o.maxDepth < 0 || o.maxDepth > 255) bad('"maxDepth" must be an integer from 0 to 255');
    maxDepth = o.maxDepth;
  }
  let clockToleranceMs = 0;
  if (o.clockToleranceSec !== undefined) {
    if (typeof o.clockToleranceSec !== 'number' || !Number.isFinite(o.clockToleranceSec) || o.clockToleranceSec < 0 || o.clockToleranceSec > 86_400) {
      bad('"clockToleranceSec" must be a number of seconds from 0 to 86400');
    }
    clockToleranceMs = Math.round(o.clockToleranceSec * 1000);
  }
  let requiredKeyUsage = KEY_USAGE_BITS.digitalSignature;
  if (o.requiredKeyUsage !== undefined) {
    if (!Array.isArray(o.requiredKeyUsage) || !o.requiredKeyUsage.every((k) => typeof k === 'string' && Object.hasOwn(KEY_USAGE_BITS, k))) {
      bad(`"requiredKeyUsage" must be an array of keyUsage names (${Object.keys(KEY_USAGE_BITS).join(', ')})`);
    }
    requiredKeyUsage = (o.requiredKeyUsage as KeyUsageName[]).reduce((m, k) => m | KEY_USAGE_BITS[k], 0);
  }
  if (o.crlFetcher !== undefined && !isCrlFetcher(o.crlFetcher)) bad('"crlFetcher" must be a fetcher made by createCrlFetcher');
  if (o.ocspClient !== undefined && !isOcspClient(o.ocspClient)) bad('"ocspClient" must be a client made by createOcspClient');
  return {
    crlFetcher: o.crlFetcher,
    ocspClient: o.ocspClient,
    startedMs,
    timeMs,
    requiredEkuOid,
    requiredKeyUsage,
    initialPolicySet,
    explicitPolicy: bool(o, 'explicitPolicy'),
    policyMappingInhibit: bool(o, 'policyMappingInhibit'),
    anyPolicyInhibit: bool(o, 'anyPolicyInhibit'),
    maxDepth,
    clockToleranceMs,
    allowWeakAlgorithms: bool(o, 'allowWeakAlgorithms'),
    revocation: o.revocation,
  };
}

function malformed(message: string, certIndex?: number): VerifyFailure {
  return certIndex === undefined ? { ok: false, code: 'MALFORMED', message } : { ok: false, code: 'MALFORMED', message, certIndex };
}

/** The chain's elements as DER, with their input index; or a failure (also when reading the chain throws: a getter or Proxy trap). */
function toDerList(chain: unknown): { der: Uint8Array; index: number }[] | VerifyFailure {
  try {
    return readDerList(chain);
  } catch (err) {
    return malformed(`The chain could not be read (${errorText(err)}); give an array of PEM strings or DER bytes, leaf first.`);
  }
}

function readDerList(chain: unknown): { der: Uint8Array; index: number }[] | VerifyFailure {
  if (!Array.isArray(chain)) return malformed('The chain must be an array of certificates (PEM strings or DER bytes), leaf first.');
  if (chain.length === 0) return malformed('No certificate was given: the chain is empty.');
  if (chain.length > INPUT_LIMITS.maxCertificates) {
    return { ok: false, code: 'CHAIN_TOO_LONG', message: `The chain holds ${chain.length} certificates; certgate accepts at most ${INPUT_LIMITS.maxCertificates}.` };
  }
  const out: { der: Uint8Array; index: number }[] = [];
  let total = 0;
  for (let i = 0; i < chain.length; i++) {
    const item: unknown = chain[i];
    const ders: Uint8Array[] = [];
    if (typeof item === 'string') {
      if (item.length > INPUT_LIMITS.maxTotalBytes * 2) return malformed(`Certificate ${i + 1} of the chain is too large.`, i);
      const blocks = readPemBlocks(item).filter((b) => b.label === 'CERTIFICATE');
      if (blocks.length === 0) return malformed(`Element ${i + 1} of the chain is a string without a PEM CERTIFICATE block.`, i);
      for (const b of blocks) {
        if (!b.der) return malformed(`Element ${i + 1} of the chain has a PEM block whose base64 is not valid.`, i);
        ders.push(b.der);
      }
    } else if (item instanceof Uint8Array) {
      ders.push(item);
    } else {
      return malformed(`Element ${i + 1} of the chain is neither a PEM string nor DER bytes.`, i);
    }
    for (const der of ders) {
      if (der.length > INPUT_LIMITS.maxCertificateBytes) return malformed(`Certificate ${i + 1} of the chain is ${der.length} bytes; certgate accepts at most ${INPUT_LIMITS.maxCertificateBytes}.`, i);
      total += der.length;
      if (total > INPUT_LIMITS.maxTotalBytes) return malformed(`The chain is larger than ${INPUT_LIMITS.maxTotalBytes} bytes.`);
      out.push({ der, index: i });
    }
  }
  if (out.length > INPUT_LIMITS.maxCertificates) {
    return { ok: false, code: 'CHAIN_TOO_LONG', message: `The chain holds ${out.length} certificates; certgate accepts at most ${INPUT_LIMITS.maxCertificates}.` };
  }
  return out;
}

/** The http(s) CRL distribution points (and freshest-CRL points) of `certs`, in order, deduplicated, bounded. */
function distributionUrls(certs: readonly ParsedCertificate[]): string[] {
  const out: string[] = [];
  for (const c of certs) {
    for (const dp of [...(c.crlDistributionPoints ?? []), ...(c.freshestCrl ?? [])]) {
      if (!dp.name || !('full' in dp.name)) continue;
      for (const gn of dp.name.full) {
        if (gn.type === 'uri' && /^https?:\/\//i.test(gn.value) && !out.includes(gn.value)) out.push(gn.value);
        if (out.length >= MAX_FETCHED_CRLS_PER_VERIFICATION) return out;
      }
    }
  }
  return out;
}

/** The path that validates without revocation, leaf first, trust anchor last; null when there is none. */
function prevalidatedPath(leaf: ParsedCertificate, pool: ParsedCertificate[], inner: ReturnType<typeof storeInternals>, opts: ResolvedVerifyOptions): ParsedCertificate[] | null {
  const pre = buildAndValidate({ leaf, pool, anchorsBySubject: inner.anchorsBySubject, anchorHashes: inner.anchorHashes, edgeCache: inner.edges }, opts);
  return pre.ok ? [...pre.path.slice().reverse(), pre.anchor] : null;
}

/**
 * The store's CRLs plus those fetched from the distribution points of the path that validates without
 * revocation (so every address comes from a certificate that chains to a trust anchor). The store's set
 * when nothing new was fetched.
 */
async function withFetchedCrls(fetcher: CrlFetcher, full: readonly ParsedCertificate[], inner: ReturnType<typeof storeInternals>): Promise<CrlSet> {
  const urls = distributionUrls(full.slice(0, -1)); // the leaf's first
  if (urls.length === 0) return inner.crls;
  const fetched = (await Promise.all(urls.map((u) => fetcher.get(u)))).flatMap((r) => (r.ok ? [r.crl] : []));
  return fetched.length === 0 ? inner.crls : new CrlSet([...inner.crls.all, ...fetched]);
}

/** The first http(s) id-ad-ocsp address of the certificate's authorityInfoAccess, or null. */
function ocspUrl(cert: ParsedCertificate): string | null {
  for (const ad of cert.authorityInfoAccess ?? []) {
    if (ad.method === '1.3.6.1.5.5.7.48.1' && ad.location.type === 'uri' && /^https?:\/\//i.test(ad.location.value)) return ad.location.value;
  }
  return null;
}

/**
 * OCSP answers for the certificates of the path that validates without revocation (leaf first, the
 * anchor excluded), each asked at its own authorityInfoAccess address, at most
 * {@link MAX_OCSP_REQUESTS_PER_VERIFICATION}; keyed by {@link ocspKey}.
 */
async function ocspAnswers(client: OcspClient, full: readonly ParsedCertificate[], opts: ResolvedOptions): Promise<Map<string, OcspAnswer>> {
  const asks: Promise<[string, OcspAnswer]>[] = [];
  for (let i = 0; i + 1 < full.length && asks.length < MAX_OCSP_REQUESTS_PER_VERIFICATION; i++) {
    const cert = full[i]!;
    const issuer = full[i + 1]!;
    const url = ocspUrl(cert);
    if (url === null) continue;
    const q = { cert, issuer, url, timeMs: opts.timeMs, clockToleranceMs: opts.clockToleranceMs, allowWeak: opts.allowWeakAlgorithms, startedMs: opts.startedMs };
    asks.push(queryOcsp(client, q).then((a): [string, OcspAnswer] => [ocspKey(cert, issuer), a]));
  }
  return new Map(await Promise.all(asks));
}

/**
 * Validates a client's certificate chain against the trust store (RFC 5280 §6.1 with path building).
 *
 * `chain` is leaf first, then whatever the client sent, in any order (strays are ignored); each
 * element a PEM string or DER bytes. Never throws for anything about the chain: every outcome is a
 * {@link VerifyResult}. Throws `ERR_CERTGATE_INVALID_OPTION` for bad options or a store that is not
 * a {@link TrustStore}.
 *
 * @example
 * const store = TrustStore.fromPem(caPem);
 * const r = await verifyChain([leafPem, intermediatePem], store, { requiredEku: 'clientAuth' });
 * if (!r.ok) console.log(r.code, r.message);
 */
export async function verifyChain(chain: readonly CertificateInput[], store: TrustStore, options?: VerifyOptions): Promise<VerifyResult> {
  const opts = resolveVerifyOptions(options);
  const inner = storeInternals(store);
  const ders = toDerList(chain);
  if (!Array.isArray(ders)) return ders;

  let leaf: ParsedCertificate;
  try {
    leaf = parseCertificate(ders[0]!.der);
  } catch (err) {
    return malformed(`The client certificate could not be parsed: ${(err as Error).message}`, 0);
  }
  const pool: ParsedCertificate[] = [];
  let firstBad: { index: number; message: string } | null = null;
  for (let k = 1; k < ders.length; k++) {
    try {
      const der = ders[k]!.der;
      const h = sha256Hex(der);
      let c = inner.parsed.get(h);
      if (!c) {
        c = parseCertificate(der);
        inner.parsed.set(h, c);
      }
      pool.push(c);
    } catch (err) {
      firstBad ??= { index: ders[k]!.index, message: (err as Error).message };
    }
  }
  // The keys of the CA certificates sent that can have signed the leaf or another certificate sent, imported
  // ahead through the cheaper asynchronous import (a new intermediate's key; cached ones are skipped).
  const issuerNames = new Set([leaf.issuer.key]);
  for (const c of pool) issuerNames.add(c.issuer.key);
  const ahead = pool.filter((c) => c.basicConstraints?.ca && issuerNames.has(c.subject.key)).map((c) => c.spki);
  if (ahead.length > 0) await importKeysAhead(ahead);
  pool.push(...inner.intermediates);

  // RFC 5280 §6.3 over each path that passes §6.1 (the trust anchor excluded), inside path building so
  // that a revoked CA on one path does not hide a valid alternative. REVOKED wins in every mode but 'off'.
  const revocation = opts.revocation ?? (inner.crls.size > 0 ? 'hard' : opts.crlFetcher || opts.ocspClient ? 'soft' : 'off');
  let crls = inner.crls;
  let ocsp: Map<string, OcspAnswer> | undefined;
  if (revocation !== 'off' && (opts.crlFetcher || opts.ocspClient)) {
    // Addresses are read only from a path whose signatures chain to a trust anchor.
    const pre = prevalidatedPath(leaf, pool, inner, opts);
    if (pre) {
      [crls, ocsp] = await Promise.all([
        opts.crlFetcher ? withFetchedCrls(opts.crlFetcher, pre, inner) : inner.crls,
        opts.ocspClient ? ocspAnswers(opts.ocspClient, pre, opts) : undefined,
      ]);
    }
  }
  const accept =
    revocation === 'off'
      ? undefined
      : (rfcPath: ParsedCertificate[], anchor: ParsedCertificate): { failure: Failure } | { extra: RevocationInfo } => {
          const r = checkPathRevocation({ path: [...rfcPath.slice().reverse(), anchor], pool, crls, opts, ...(ocsp ? { ocsp } : {}) });
          if (r.status === 'revoked') {
            return { failure: { code: 'REVOKED', message: r.message, certIndex: r.certIndex, revocation: { reason: r.reason, revokedAt: r.revokedAt } } };
          }
          if (r.status === 'unknown') {
            if (revocation === 'hard') return { failure: { code: 'REVOCATION_UNKNOWN', message: r.message, certIndex: r.certIndex } };
            return { extra: { status: 'unknown', certIndex: r.certIndex, reason: r.reason } };
          }
          return { extra: { status: 'good' } };
        };

  const built = buildAndValidate(
    { leaf, pool, anchorsBySubject: inner.anchorsBySubject, anchorHashes: inner.anchorHashes, edgeCache: inner.edges, ...(accept ? { accept } : {}) },
    opts,
  );
  if (!built.ok) {
    if (built.failure.code === 'UNKNOWN_ISSUER' && firstBad) {
      return malformed(
        `Certificate ${firstBad.index + 1} of the chain could not be parsed (${firstBad.message}), and without it no path to a trusted CA could be built.`,
        firstBad.index,
      );
    }
    const f = built.failure;
    return {
      ok: false,
      code: f.code,
      message: f.message,
      ...(f.certIndex === undefined ? {} : { certIndex: f.certIndex }),
      ...(f.revocation ? { revocation: f.revocation } : {}),
    };
  }

  const leafFirst = built.path.slice().reverse();
  const full = [...leafFirst, built.anchor];
  // The leaf is the client's (not kept); the CA certificates' summaries are cached with them.
  const summaries = full.map((c, i) => summarize(c, full[i + 1], i > 0));
  const result: VerifyResult = {
    ok: true,
    chain: summaries,
    identity: identityOf(leaf, full, summaries[0]),
    policies: built.policies,
    ...(built.extra ? { revocation: built.extra } : {}),
  };
  return result;
}
