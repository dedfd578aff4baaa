/**
 * @module
 * Path building: from the leaf up to any trust anchor, trying alternative issuers (cross-signed
 * CAs, key rollover, an expired first candidate) depth first, with hard bounds on depth and work so a
 * hostile chain (cycles, wide fan-out, thousands of certificates) ends quickly with a code.
 *
 * Each edge's signature is checked when the edge is first tried (so only cryptographically linked
 * paths are validated in full); every complete path is then validated by `validatePath`, and the
 * first that passes wins.
 */
import type { ParsedCertificate } from './model.js';
import { verifySignature, type SignatureCheck } from './signature.js';
import { describe, validatePath, type DeferredSignature, type Failure, type ResolvedVerifyOptions } from './validate.js';
import { formatName } from './name.js';
import { KeyAlg } from './oids.js';

/** Hard bounds on the work one verification may do. */
export const PATH_LIMITS = Object.freeze({
  /** Certificates in a path, self-issued ones included (the leaf and the anchor included). */
  maxPathCertificates: 34,
  /** Signature verifications while building. */
  maxSignatureChecks: 64,
  /** Complete candidate paths validated in full. */
  maxCompletePaths: 16,
  /** Issuer candidates considered (edges), in total. */
  maxCandidates: 512,
});

export interface BuildInput<T = never> {
  leaf: ParsedCertificate;
  /** Untrusted candidates: what the client sent (without the leaf) plus the store's intermediates. */
  pool: readonly ParsedCertificate[];
  anchorsBySubject: ReadonlyMap<string, readonly ParsedCertificate[]>;
  anchorHashes: ReadonlySet<string>;
  /** Signature checks shared across verifications (the trust store's), keyed by child SHA-256, issuer SHA-256 and `:0`/`:1` (allowWeak). */
  edgeCache?: { get(key: string): SignatureCheck | undefined; set(key: string, value: SignatureCheck): void };
  /**
   * A last check of a path that passed §6.1 (revocation): a failure makes the builder try the next
   * alternative; anything else is kept with the result as `extra`.
   */
  accept?: (path: ParsedCertificate[], anchor: ParsedCertificate) => { failure: Failure } | { extra: T };
}

export type BuildResult<T = never> =
  | { ok: true; path: ParsedCertificate[]; anchor: ParsedCertificate; policies: string[]; extra?: T }
  | { ok: false; failure: Failure };

/** Failure ranking when no path validates: a complete path's failure says the most. */
const enum Rank {
  UnknownIssuer = 1,
  TooLong = 2,
  Edge = 3,
  Complete = 4,
}

function sameBytes(a: Uint8Array | null | undefined, b: Uint8Array | null | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Orders issuer candidates: AKI/SKI match first, then currently valid, then the rest (stable). */
function rankCandidates(child: ParsedCertificate, candidates: readonly ParsedCertificate[], timeMs: number): readonly ParsedCertificate[] {
  if (candidates.length < 2) return candidates;
  const aki = child.authorityKeyIdentifier?.keyIdentifier ?? null;
  const score = (c: ParsedCertificate) =>
    (aki && c.subjectKeyIdentifier ? (sameBytes(aki, c.subjectKeyIdentifier) ? 0 : 4) : 2) +
    (timeMs >= c.notBefore && timeMs <= c.notAfter ? 0 : 1);
  return candidates
    .map((c, i) => ({ c, i, s: score(c) }))
    .sort((a, b) => a.s - b.s || a.i - b.i)
    .map((x) => x.c);
}

export function buildAndValidate<T = never>(input: BuildInput<T>, opts: ResolvedVerifyOptions): BuildResult<T> {
  const poolBySubject = new Map<string, ParsedCertificate[]>();
  const seen = new Set<string>([input.leaf.sha256]);
  for (const c of input.pool) {
    if (seen.has(c.sha256) || input.anchorHashes.has(c.sha256)) continue;
    seen.add(c.sha256);
    const list = poolBySubject.get(c.subject.key);
    if (list) list.push(c);
    else poolBySubject.set(c.subject.key, [c]);
  }

  let signatureChecks = 0;
  let completePaths = 0;
  let candidatesSeen = 0;
  let best: { rank: Rank; depth: number; failure: Failure } | null = null;
  let limitHit: Failure | null = null;
  const edgeCache = new Map<string, ReturnType<typeof verifySignature> | 'deferred'>();

  const record = (rank: Rank, depth: number, failure: Failure) => {
    if (!best || rank > best.rank || (rank === best.rank && depth > best.depth)) best = { rank, depth, failure };
  };

  // `chain` is leaf first: chain[0] = leaf, chain[k] = the k-th issuer found so far.
  const chain: ParsedCertificate[] = [input.leaf];
  const deferredEdges: number[] = []; // leaf-first indices whose signature check is deferred
  let nonSelfIssuedIntermediates = 0;

  const weak = opts.allowWeakAlgorithms ? ':1' : ':0';
  const edge = (child: ParsedCertificate, issuer: ParsedCertificate) => {
    // One key for both caches (allowWeakAlgorithms is the same throughout one build).
    const key = child.sha256 + issuer.sha256 + weak;
    const cached = edgeCache.get(key);
    if (cached) return cached;
    let r: ReturnType<typeof verifySignature> | 'deferred';
    if (issuer.spki.algorithm.oid === KeyAlg.dsa && !issuer.spki.algorithm.params) {
      r = 'deferred';
    } else {
      const shared = input.edgeCache?.get(key);
      if (shared) {
        r = shared;
      } else {
        signatureChecks++;
        r = verifySignature(child, issuer.spki, { allowWeak: opts.allowWeakAlgorithms, inheritedDsaParams: null });
        input.edgeCache?.set(key, r);
      }
    }
    edgeCache.set(key, r);
    return r;
  };

  const complete = (anchor: ParsedCertificate): BuildResult<T> | null => {
    completePaths++;
    const rfcPath = chain.slice().reverse();
    const n = rfcPath.length;
    const deferred: DeferredSignature[] = deferredEdges.map((leafFirst) => ({ index: n - 1 - leafFirst }));
    const r = validatePath(rfcPath, anchor, deferred, opts);
    if (!('policies' in r)) {
      record(Rank.Complete, chain.length, r);
      return null;
    }
    if (!input.accept) return { ok: true, path: rfcPath, anchor, policies: r.policies };
    const a = input.accept(rfcPath, anchor);
    if ('failure' in a) {
      record(Rank.Complete, chain.length, a.failure);
      return null;
    }
    return { ok: true, path: rfcPath, anchor, policies: r.policies, extra: a.extra };
  };

  const search = (): BuildResult<T> | null => {
    const child = chain[chain.length - 1]!;
    const depth = chain.length - 1; // leaf-first index of `child`
    const anchors = input.anchorsBySubject.get(child.issuer.key) ?? [];
    const pooled = (poolBySubject.get(child.issuer.key) ?? []).filter(
      (c) => !chain.some((p) => p.sha256 === c.sha256 || (p.subject.key === c.subject.key && sameBytes(p.spki.der, c.spki.der))),
    );
    if (anchors.length === 0 && pooled.length === 0) {
      record(Rank.UnknownIssuer, depth, {
        code: 'UNKNOWN_ISSUER',
        message: `The issuer "${formatName(child.issuer)}" of ${describe(child, depth === 0 ? 'leaf' : 'intermediate')} is not among the trusted CA certificates, and no certificate for it was sent in the chain.`,
        certIndex: depth,
      });
      return null;
    }
    const candidates = [
      ...rankCandidates(child, anchors, opts.timeMs).map((c) => ({ c, anchor: true })),
      ...rankCandidates(child, pooled, opts.timeMs).map((c) => ({ c, anchor: false })),
    ];
    for (const { c, anchor } of candidates) {
      if (++candidatesSeen > PATH_LIMITS.maxCandidates || signatureChecks >= PATH_LIMITS.maxSignatureChecks || completePaths >= PATH_LIMITS.maxCompletePaths) {
        limitHit ??= {
          code: 'PATH_BUILDING_LIMIT',
          message: 'Building a path to a trusted CA took more work than certgate allows (too many candidate issuers or cross-certificates); the client must send a simpler chain.',
        };
        return null;
      }
      const sig = edge(child, c);
      if (sig !== 'deferred' && !sig.ok) {
        record(Rank.Edge, depth, { code: sig.code, message: `The signature on ${describe(child, depth === 0 ? 'leaf' : 'intermediate')} by "${formatName(c.subject)}": ${sig.message}`, certIndex: depth });
        continue;
      }
      if (sig === 'deferred') deferredEdges.push(depth);
      if (anchor) {
        const done = complete(c);
        if (done) return done;
      } else {
        const counts = !c.selfIssued;
        if (chain.length + 2 > PATH_LIMITS.maxPathCertificates || (counts && nonSelfIssuedIntermediates + 1 > opts.maxDepth)) {
          record(Rank.TooLong, depth + 1, {
            code: 'CHAIN_TOO_LONG',
            message: `The path to a trusted CA needs more intermediate CA certificates than allowed (at most ${opts.maxDepth}).`,
            certIndex: depth + 1,
          });
        } else {
          chain.push(c);
          if (counts) nonSelfIssuedIntermediates++;
          const done = search();
          if (done) return done;
          if (counts) nonSelfIssuedIntermediates--;
          chain.pop();
        }
      }
      if (sig === 'deferred') deferredEdges.pop();
      if (limitHit) return null;
    }
    return null;
  };

  const found = search();
  if (found) return found;
  const b = best as { rank: Rank; failure: Failure } | null;
  if (limitHit && (!b || b.rank !== Rank.Complete)) return { ok: false, failure: limitHit };
  return { ok: false, failure: b ? b.failure : { code: 'UNKNOWN_ISSUER', message: 'No path to a trusted CA certificate could be built.', certIndex: 0 } };
}
