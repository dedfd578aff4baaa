/**
 * @module
 * RFC 5280 §6.3 CRL processing over a validated path: for every certificate of the path (the trust
 * anchor excluded) decide `good`, `revoked` or `unknown` from the CRLs of the store. Internal.
 *
 * Per certificate (§6.3.3): the distribution points of its cRLDistributionPoints extension (or, when it
 * has none, one implied point named after its issuer) are processed in turn until the reasons mask covers
 * all reasons or the certificate is found revoked. For each point the candidate complete CRLs (issued by
 * the certificate's issuer, or by the point's cRLIssuer when the CRL is indirect) are checked for scope
 * (issuingDistributionPoint: names, onlyContainsUserCerts / CACerts / AttributeCerts, onlySomeReasons),
 * freshness (thisUpdate/nextUpdate at `time`), unknown critical extensions and required fields, then
 * authenticated: the CRL signer is the certificate's issuer or another certificate with the CRL issuer's
 * name whose path leads to the *same* trust anchor (separate CRL-signing keys, self-issued key rollover,
 * indirect CRLs), must have cRLSign when it has a keyUsage, and is itself checked for revocation. Delta
 * CRLs with the same scope and a base number the complete CRL covers are applied first (removeFromCRL).
 *
 * With OCSP answers (`RevocationInput.ocsp`, asked by verifyChain before path building), each path
 * certificate's CRL status is combined with its answer: revoked by either source is revoked, else good when
 * either says good, else unknown. A delegated OCSP responder without id-pkix-ocsp-nocheck is checked here
 * against the CRLs (never by OCSP again).
 *
 * The work is bounded ({@link REVOCATION_LIMITS}); past a bound the status is `unknown`, never a hang.
 */
import { CRL_REASONS, REMOVE_FROM_CRL, type CrlEntryInfo, type ParsedCrl } from '../cert/crl.js';
import type { Attribute, DistributionPoint, GeneralName, Name, ParsedCertificate } from '../cert/model.js';
import { KeyUsageBit } from '../cert/model.js';
import { formatName, parseName } from '../cert/name.js';
import { buildAndValidate } from '../cert/path.js';
import { dsaParamsOf } from '../cert/signature.js';
import { describe, type ResolvedVerifyOptions } from '../cert/validate.js';
import { DerReader, Tag, bytesEqual, encodeOid } from '../der/reader.js';
import { tlv } from '../der/writer.js';
import type { CrlSet } from './crl-set.js';
import { ocspKey, type OcspAnswer } from './ocsp.js';

const DSA = '1.2.840.10040.4.1';

/** Hard bounds on the revocation work of one verification. */
export const REVOCATION_LIMITS = Object.freeze({
  /** Candidate CRLs (complete and delta) examined, in total. */
  maxCrlsConsidered: 64,
  /** CRL signature verifications (cached ones included), in total. */
  maxSignatureChecks: 64,
  /** Signer certificates tried per CRL. */
  maxSignerCandidates: 8,
  /** Paths built for CRL signers that are not on the validated path, in total. */
  maxSignerPaths: 8,
  /** Nesting of CRL-signer paths (a signer whose own CRL has a separate signer, …). */
  maxSignerDepth: 3,
});

/** ReasonFlags bit mask of all reasons (bits 1 keyCompromise … 8 aACompromise; bit 0 is unused). */
export const ALL_REASONS = 0x1fe;

/** The revocation status of one certificate. */
export type CertStatus =
  | { status: 'good' }
  | { status: 'revoked'; reason: string; revokedAt: number; crl: ParsedCrl }
  | { status: 'unknown'; reason: string };

/** A path certificate's status from every source: CRLs, and OCSP when it was asked. */
type CombinedStatus = CertStatus | { status: 'revoked'; reason: string; revokedAt: number; ocspUrl: string };

/** The outcome for a whole path (leaf-first indices). */
export type PathRevocation =
  | { status: 'good' }
  | { status: 'revoked'; certIndex: number; reason: string; revokedAt: Date; message: string }
  | { status: 'unknown'; certIndex: number; reason: string; message: string };

export interface RevocationInput {
  /** The validated path, leaf first, trust anchor last. */
  path: readonly ParsedCertificate[];
  /** Other certificates known to the verification (the client's chain, the store's intermediates): CRL-signer candidates. */
  pool: readonly ParsedCertificate[];
  crls: CrlSet;
  opts: ResolvedVerifyOptions;
  /** OCSP answers by {@link ocspKey} (certificate and issuer), when an OCSP client was asked. */
  ocsp?: ReadonlyMap<string, OcspAnswer>;
}

interface Dp {
  /** Distribution point names (already made absolute), or null when the point has none. */
  names: GeneralName[] | null;
  reasons: number | null;
  /** cRLIssuer directory names (null when absent). */
  crlIssuer: GeneralName[] | null;
}

interface Ctx {
  input: RevocationInput;
  anchor: ParsedCertificate;
  /** Every known certificate by subject key (path, pool, anchor). */
  bySubject: Map<string, ParsedCertificate[]>;
  memo: Map<string, CertStatus>;
  /** Certificates whose status some caller is already deciding (the path, signer paths in progress). */
  scheduled: Set<string>;
  crlsConsidered: number;
  signatureChecks: number;
  signerPaths: number;
  signerOpts: ResolvedVerifyOptions;
}

const ROLE = (i: number, n: number) => (i === 0 ? 'leaf' : i === n ? 'anchor' : 'intermediate') as 'leaf' | 'intermediate' | 'anchor';

/** Checks every certificate of the path except the anchor. REVOKED anywhere wins over unknown. */
export function checkPathRevocation(input: RevocationInput): PathRevocation {
  const path = input.path;
  const n = path.length - 1; // index of the anchor
  const anchor = path[n]!;
  const bySubject = new Map<string, ParsedCertificate[]>();
  const seen = new Set<string>();
  for (const c of [...path, ...input.pool]) {
    if (seen.has(c.sha256)) continue;
    seen.add(c.sha256);
    const l = bySubject.get(c.subject.key);
    if (l) l.push(c);
    else bySubject.set(c.subject.key, [c]);
  }
  const ctx: Ctx = {
    input,
    anchor,
    bySubject,
    memo: new Map(),
    scheduled: new Set(path.slice(0, n).map((c) => c.sha256)),
    crlsConsidered: 0,
    signatureChecks: 0,
    signerPaths: 0,
    signerOpts: {
      ...input.opts,
      requiredEkuOid: null,
      requiredKeyUsage: KeyUsageBit.cRLSign,
      initialPolicySet: ['2.5.29.32.0'],
      explicitPolicy: false,
      policyMappingInhibit: false,
      anyPolicyInhibit: false,
    },
  };
  let unknown: { certIndex: number; reason: string; ocsp: boolean } | null = null;
  for (let i = 0; i < n; i++) {
    const crl = certStatus(ctx, path[i]!, path.slice(i + 1), 0);
    const answer = input.ocsp?.get(ocspKey(path[i]!, path[i + 1]!));
    const s = answer ? withOcsp(ctx, crl, answer, path.slice(i + 1)) : crl;
    const who = describe(path[i]!, ROLE(i, n));
    if (s.status === 'revoked') {
      const at = new Date(s.revokedAt);
      const source = 'crl' in s ? `the CRL of "${formatName(s.crl.issuer)}"` : `the OCSP responder at ${s.ocspUrl}`;
      return {
        status: 'revoked',
        certIndex: i,
        reason: s.reason,
        revokedAt: at,
        message: `${cap(who)} was revoked on ${at.toISOString()} (reason: ${s.reason}), according to ${source}${i === 0 ? '; the client needs a new certificate' : ''}.`,
      };
    }
    if (s.status === 'unknown' && !unknown) unknown = { certIndex: i, reason: s.reason, ocsp: answer !== undefined };
  }
  if (unknown) {
    const who = describe(path[unknown.certIndex]!, ROLE(unknown.certIndex, n));
    return {
      status: 'unknown',
      certIndex: unknown.certIndex,
      reason: unknown.reason,
      message: `The revocation status of ${who} cannot be decided ${unknown.ocsp ? 'by OCSP or ' : ''}from the configured CRLs: ${unknown.reason}.`,
    };
  }
  return { status: 'good' };
}

/**
 * The CRL status combined with an OCSP answer: revoked by either is revoked; else good when either says
 * good; else unknown (both reasons). A "good" from a delegated OCSP responder without id-pkix-ocsp-nocheck
 * counts only when the CRLs say the responder is good (its own status is never asked of OCSP: no
 * recursion); its "revoked" counts as it is.
 */
function withOcsp(ctx: Ctx, crl: CertStatus, answer: OcspAnswer, above: readonly ParsedCertificate[]): CombinedStatus {
  if (crl.status === 'revoked') return crl;
  let o: OcspAnswer = answer;
  // Only a "good" needs the responder's own status: a "revoked" from an authorised responder (signed
  // by it, issued by the CA, id-kp-OCSPSigning) is taken whatever its status, since refusing is the
  // safe side (its key, if compromised, can only deny).
  if (o.status === 'good' && o.responder) {
    const r = certStatus(ctx, o.responder, above, 0);
    const name = `"${formatName(o.responder.subject)}"`;
    if (r.status === 'revoked') o = { status: 'unknown', url: o.url, reason: `the OCSP response from ${o.url} cannot be used: its delegated responder ${name} was revoked (${r.reason})` };
    else if (r.status === 'unknown') {
      o = { status: 'unknown', url: o.url, reason: `the OCSP response from ${o.url} cannot be used: its delegated responder ${name} has no id-pkix-ocsp-nocheck, and the CRLs do not decide its own status (${r.reason})` };
    }
  }
  if (o.status === 'revoked') return { status: 'revoked', reason: o.reason, revokedAt: o.revokedAt, ocspUrl: o.url };
  if (o.status === 'good' || crl.status === 'good') return { status: 'good' };
  return { status: 'unknown', reason: `${o.reason}; and ${crl.reason}` };
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function reasonName(code: number | null): string {
  return code === null ? 'unspecified' : CRL_REASONS[code] ?? `reason ${code}`;
}

/**
 * The status of `cert`, whose issuer chain up to the anchor is `above` (issuer first, anchor last).
 * `depth` is the CRL-signer nesting level.
 */
function certStatus(ctx: Ctx, cert: ParsedCertificate, above: readonly ParsedCertificate[], depth: number): CertStatus {
  const hit = ctx.memo.get(cert.sha256);
  if (hit) return hit;
  const s = decide(ctx, cert, above, depth);
  ctx.memo.set(cert.sha256, s);
  return s;
}

function decide(ctx: Ctx, cert: ParsedCertificate, above: readonly ParsedCertificate[], depth: number): CertStatus {
  const problems: string[] = [];
  const note = (p: string) => {
    if (!problems.includes(p) && problems.length < 4) problems.push(p);
  };
  const dps = distributionPoints(cert);
  let reasonsMask = 0;
  const isCa = cert.basicConstraints?.ca === true;
  const t = ctx.input.opts.timeMs;
  const tol = ctx.input.opts.clockToleranceMs;
  let considered = 0;

  for (const dp of dps) {
    if (reasonsMask === ALL_REASONS) break;
    for (const crl of candidateCrls(ctx, cert, dp)) {
      if (reasonsMask === ALL_REASONS) break;
      considered++;
      if (++ctx.crlsConsidered > REVOCATION_LIMITS.maxCrlsConsidered) {
        return { status: 'unknown', reason: 'checking revocation took more work than certgate allows (too many candidate CRLs)' };
      }
      const who = `the CRL of "${formatName(crl.issuer)}" (thisUpdate ${new Date(crl.thisUpdate).toISOString()})`;
      const unusable = crlUnusable(crl);
      if (unusable) {
        note(`${who} cannot be used: ${unusable}`);
        continue;
      }
      // (b)(2) scope of the issuingDistributionPoint.
      const scope = scopeProblem(crl, cert, dp, isCa);
      if (scope) {
        note(`${who} ${scope}`);
        continue;
      }
      if (crl.thisUpdate > t + tol) {
        note(`${who} is not valid yet`);
        continue;
      }
      // (d), (e): the reasons this CRL can add.
      const idpReasons = crl.idp?.onlySomeReasons ?? null;
      let interim = ALL_REASONS;
      if (idpReasons !== null && dp.reasons !== null) interim = idpReasons & dp.reasons;
      else if (idpReasons !== null) interim = idpReasons;
      else if (dp.reasons !== null) interim = dp.reasons;
      interim &= ALL_REASONS;
      if ((interim & ~reasonsMask) === 0) continue;

      // (f), (g): the CRL signer and the signature.
      const signer = findSigner(ctx, crl, cert, above, depth);
      if (!signer.ok) {
        note(`${who} ${signer.problem}`);
        if (signer.fatal) return { status: 'unknown', reason: signer.problem };
        continue;
      }
      // (a), (c), (h): a delta CRL with the same scope, fresh, signed by the same key.
      const delta = findDelta(ctx, crl, signer);
      const stale = crl.nextUpdate !== null && crl.nextUpdate < t - tol;
      if (stale && !(delta && (cert.freshestCrl || crl.freshestCrl))) {
        note(`${who} is out of date (its nextUpdate ${new Date(crl.nextUpdate!).toISOString()} has passed)`);
        continue;
      }
      // (i), (j), (k): the entries.
      let entry: CrlEntryInfo | null = null;
      let from: ParsedCrl = crl;
      if (delta) {
        entry = findEntry(delta, cert);
        from = delta;
      }
      if (!entry) {
        entry = findEntry(crl, cert);
        from = crl;
      }
      if (entry && entry.reason !== REMOVE_FROM_CRL) {
        return { status: 'revoked', reason: reasonName(entry.reason), revokedAt: entry.revocationDate, crl: from };
      }
      // (l)
      reasonsMask |= interim;
    }
  }
  if (reasonsMask === ALL_REASONS) return { status: 'good' };
  if (problems.length > 0) return { status: 'unknown', reason: problems.join('; ') };
  if (considered > 0) {
    return { status: 'unknown', reason: 'the CRLs at hand do not cover every revocation reason for it (onlySomeReasons)' };
  }
  const named = dps.flatMap((d) => (d.crlIssuer ? dnsOf(d.crlIssuer) : [cert.issuer]));
  if (named.length === 0) return { status: 'unknown', reason: 'its cRLDistributionPoints names CRL issuers only by names other than directory names, and no CRL from them is configured' };
  return { status: 'unknown', reason: `no CRL issued by ${[...new Set(named.map((x) => `"${formatName(x)}"`))].join(' or ')} is configured` };
}

/** Why a CRL cannot be used at all, or null. */
function crlUnusable(crl: ParsedCrl): string | null {
  if (crl.unknownCriticalExtensions.length > 0) return `it has a critical extension certgate does not process (${crl.unknownCriticalExtensions.join(', ')})`;
  if (crl.unknownCriticalEntryExtensions.length > 0) return `it has a critical entry extension certgate does not process (${crl.unknownCriticalEntryExtensions.join(', ')})`;
  if (crl.problems.length > 0) return crl.problems[0]!;
  return null;
}

/** The certificate's distribution points with absolute names; the implied one when it has none. */
function distributionPoints(cert: ParsedCertificate): Dp[] {
  if (!cert.crlDistributionPoints) {
    // RFC 5280 §6.3.3: a point with no reasons and no cRLIssuer, named after the certificate issuer.
    return [{ names: [{ type: 'dn', value: cert.issuer }, ...(cert.issuerAltName ?? [])], reasons: null, crlIssuer: null }];
  }
  return cert.crlDistributionPoints.map((dp) => ({
    names: dpNames(dp.name, dp.cRLIssuer ? dnsOf(dp.cRLIssuer) : [cert.issuer]),
    reasons: dp.reasons,
    crlIssuer: dp.cRLIssuer,
  }));
}

function dnsOf(names: readonly GeneralName[]): Name[] {
  const out: Name[] = [];
  for (const g of names) if (g.type === 'dn') out.push(g.value);
  return out;
}

/** A DistributionPointName as full names: nameRelativeToCRLIssuer is appended to each base name. */
function dpNames(name: DistributionPoint['name'], bases: readonly Name[]): GeneralName[] | null {
  if (name === null) return null;
  if ('full' in name) return name.full;
  const out: GeneralName[] = [];
  for (const base of bases) {
    const n = appendRdn(base, name.relative);
    if (n) out.push({ type: 'dn', value: n });
  }
  return out;
}

function appendRdn(base: Name, rdn: readonly Attribute[]): Name | null {
  try {
    const contents = new DerReader(base.der).read(Tag.SEQUENCE, 'Name');
    const set = tlv(Tag.SET, ...rdn.map((a) => tlv(Tag.SEQUENCE, tlv(Tag.OID, encodeOid(a.oid)), a.valueDer)));
    return parseName(tlv(Tag.SEQUENCE, contents, set));
  } catch {
    return null;
  }
}

function generalNameEqual(a: GeneralName, b: GeneralName): boolean {
  switch (a.type) {
    case 'dn':
      return b.type === 'dn' && a.value.key === b.value.key;
    case 'dns':
      return b.type === 'dns' && a.value.toLowerCase() === b.value.toLowerCase();
    case 'email':
      return b.type === 'email' && a.value.toLowerCase() === b.value.toLowerCase();
    case 'uri':
      return b.type === 'uri' && a.value === b.value;
    case 'ip':
      return b.type === 'ip' && bytesEqual(a.value, b.value);
    case 'other':
      return b.type === 'other' && bytesEqual(a.der, b.der);
  }
}

function anyNameMatch(a: readonly GeneralName[], b: readonly GeneralName[]): boolean {
  for (const x of a) for (const y of b) if (generalNameEqual(x, y)) return true;
  return false;
}

/** (a), (b)(1): complete CRLs that may cover `cert` through `dp`. */
function candidateCrls(ctx: Ctx, cert: ParsedCertificate, dp: Dp): ParsedCrl[] {
  if (dp.crlIssuer) {
    const out: ParsedCrl[] = [];
    for (const name of dnsOf(dp.crlIssuer)) {
      // Every CRL of that issuer: scopeProblem() says why one without the indirectCRL flag cannot be used.
      for (const crl of ctx.input.crls.complete.get(name.key) ?? []) if (!out.includes(crl)) out.push(crl);
    }
    return out;
  }
  return ctx.input.crls.complete.get(cert.issuer.key) ?? [];
}

/** (b)(1) indirect flag and (b)(2) IDP scope; null when in scope. */
function scopeProblem(crl: ParsedCrl, cert: ParsedCertificate, dp: Dp, isCa: boolean): string | null {
  const idp = crl.idp;
  if (dp.crlIssuer && crl.issuer.key !== cert.issuer.key && !idp?.indirectCRL) {
    return 'is not an indirect CRL, so it cannot cover certificates of another issuer';
  }
  if (!idp) return null;
  if (idp.name) {
    const idpNames = dpNames(idp.name, [crl.issuer]) ?? [];
    if (dp.names) {
      if (!anyNameMatch(idpNames, dp.names)) return 'is for a different distribution point than the certificate names';
    } else if (!dp.crlIssuer || !anyNameMatch(idpNames, dp.crlIssuer)) {
      return 'is for a distribution point the certificate does not name';
    }
  }
  if (idp.onlyContainsUserCerts && isCa) return 'covers only end-entity certificates (onlyContainsUserCerts), and this one is a CA';
  if (idp.onlyContainsCACerts && !isCa) return 'covers only CA certificates (onlyContainsCACerts)';
  if (idp.onlyContainsAttributeCerts) return 'covers only attribute certificates (onlyContainsAttributeCerts)';
  return null;
}

/** RFC 5280 §5.3.3: the entry for the certificate's serial whose certificate issuer is the certificate's issuer. */
function findEntry(crl: ParsedCrl, cert: ParsedCertificate): CrlEntryInfo | null {
  for (const e of crl.lookup(cert.serialNumber)) {
    if (e.certificateIssuer === null ? crl.issuer.key === cert.issuer.key : e.certificateIssuer.some((g) => g.type === 'dn' && g.value.key === cert.issuer.key)) {
      return e;
    }
  }
  return null;
}

interface Signer {
  ok: true;
  cert: ParsedCertificate;
  params: Uint8Array | null;
}

/** DSA parameters a key without them inherits from the chain above it (nearest first), RFC 5280 §6.1.4 (k)/(l). */
function inheritedParams(cert: ParsedCertificate, chainAbove: readonly ParsedCertificate[]): Uint8Array | null {
  if (cert.spki.algorithm.oid !== DSA || dsaParamsOf(cert.spki) !== null) return null;
  for (const c of chainAbove) {
    if (c.spki.algorithm.oid !== DSA) return null;
    const p = dsaParamsOf(c.spki);
    if (p) return p;
  }
  return null;
}

/**
 * (f), (g): a certificate whose key verifies the CRL, named as the CRL issuer, with cRLSign when it has a
 * keyUsage, on a valid path to the same trust anchor, and not itself revoked or of unknown status.
 * `fatal` stops the certificate's processing (a work bound was hit).
 */
function findSigner(
  ctx: Ctx,
  crl: ParsedCrl,
  cert: ParsedCertificate,
  above: readonly ParsedCertificate[],
  depth: number,
): Signer | { ok: false; problem: string; fatal?: boolean } {
  const allowWeak = ctx.input.opts.allowWeakAlgorithms;
  const named = ctx.bySubject.get(crl.issuer.key) ?? [];
  // Candidates: the certificate's own chain first (its issuer, then the CAs above), then the rest, those
  // whose SKI matches the CRL's AKI first.
  const aki = crl.authorityKeyIdentifier?.keyIdentifier ?? null;
  // -2 marks the certificate itself: allowed only for a separate CRL signer (depth ≥ 1) whose own status is
  // given by the indirect CRL it signs (PKITS 4.14.30); its path was validated by the caller.
  const inChain = (c: ParsedCertificate) => (c.sha256 === cert.sha256 ? -2 : above.findIndex((a) => a.sha256 === c.sha256));
  const candidates = named
    .filter((c) => c.sha256 !== cert.sha256 || depth >= 1)
    .map((c, i) => ({ c, i, chainAt: inChain(c), akiMatch: aki && c.subjectKeyIdentifier ? bytesEqual(aki, c.subjectKeyIdentifier) : null }))
    .sort((a, b) => rank(a) - rank(b) || a.i - b.i)
    .slice(0, REVOCATION_LIMITS.maxSignerCandidates);
  let problem = `is not signed by any certificate named "${formatName(crl.issuer)}" that chains to the same trusted CA`;
  if (candidates.length === 0) problem = `was signed by "${formatName(crl.issuer)}", but no certificate of that name is known`;
  for (const { c, chainAt } of candidates) {
    if (++ctx.signatureChecks > REVOCATION_LIMITS.maxSignatureChecks) {
      return { ok: false, problem: 'checking revocation took more work than certgate allows (too many CRL signature checks)', fatal: true };
    }
    const chainAbove = chainAt >= 0 ? above.slice(chainAt + 1) : chainAt === -2 ? above : null;
    const params = chainAbove ? inheritedParams(c, chainAbove) : null;
    // A DSA key without parameters off the chain inherits them from its own path: check after building it.
    const deferSig = chainAbove === null && c.spki.algorithm.oid === DSA && dsaParamsOf(c.spki) === null;
    if (!deferSig) {
      const sig = ctx.input.crls.verify(crl, c, params, allowWeak);
      if (!sig.ok) {
        if (sig.code !== 'BAD_SIGNATURE') problem = `has a signature certgate does not accept: ${sig.message}`;
        else if (candidates.length === 1) problem = `has a signature that does not verify with the key of "${formatName(c.subject)}"`;
        continue;
      }
    }
    if (c.keyUsage !== undefined && !(c.keyUsage & KeyUsageBit.cRLSign)) {
      problem = `is signed by "${formatName(c.subject)}", whose keyUsage does not include cRLSign (RFC 5280 §6.3.3 (f))`;
      continue;
    }
    if (c.sha256 === ctx.anchor.sha256) return { ok: true, cert: c, params };
    if (chainAt >= 0 || chainAt === -2) {
      // On the certificate's own validated chain: that chain's revocation is checked by whoever checks it.
      return { ok: true, cert: c, params };
    }
    // A separate CRL signer: build and validate its path to the same trust anchor, then check it.
    if (depth + 1 > REVOCATION_LIMITS.maxSignerDepth) {
      problem = 'is signed by a separate CRL signer nested deeper than certgate follows';
      continue;
    }
    if (++ctx.signerPaths > REVOCATION_LIMITS.maxSignerPaths) {
      return { ok: false, problem: 'checking revocation took more work than certgate allows (too many CRL signer paths)', fatal: true };
    }
    const built = buildAndValidate(
      {
        leaf: c,
        pool: [...ctx.bySubject.values()].flat().filter((x) => x.sha256 !== ctx.anchor.sha256),
        anchorsBySubject: new Map([[ctx.anchor.subject.key, [ctx.anchor]]]),
        anchorHashes: new Set([ctx.anchor.sha256]),
      },
      ctx.signerOpts,
    );
    if (!built.ok) {
      problem = `is signed by "${formatName(c.subject)}", whose certificate does not validate to the same trusted CA (${built.failure.message})`;
      continue;
    }
    // built.path is RFC order (anchor's subordinate first, the signer last).
    const signerChain = built.path.slice().reverse(); // signer first
    const full = [...signerChain, built.anchor];
    const sigParams = inheritedParams(c, full.slice(1));
    if (deferSig && !ctx.input.crls.verify(crl, c, sigParams, allowWeak).ok) continue;
    let bad: string | null = null;
    const toCheck: number[] = [];
    for (let k = 0; k < signerChain.length; k++) {
      if (!ctx.scheduled.has(signerChain[k]!.sha256)) {
        ctx.scheduled.add(signerChain[k]!.sha256);
        toCheck.push(k);
      }
    }
    for (const k of toCheck) {
      const s = certStatus(ctx, signerChain[k]!, full.slice(k + 1), depth + 1);
      if (s.status === 'revoked') {
        bad = `is signed by "${formatName(c.subject)}", but the certificate ${k === 0 ? 'of that CRL signer' : 'of a CA above that CRL signer'} was revoked (${s.reason})`;
        break;
      }
      if (s.status === 'unknown') {
        bad = `is signed by "${formatName(c.subject)}", but the revocation status of ${k === 0 ? 'that CRL signer' : 'a CA above that CRL signer'} is unknown (${s.reason})`;
        break;
      }
    }
    if (bad) {
      problem = bad;
      continue;
    }
    return { ok: true, cert: c, params: sigParams };
  }
  return { ok: false, problem };
}

/** The certificate's own chain first (nearest issuer first), then SKI = AKI, then no key identifier, then a mismatch. */
function rank(x: { chainAt: number; akiMatch: boolean | null }): number {
  if (x.chainAt >= 0) return x.chainAt;
  if (x.chainAt === -2) return 500;
  return 1000 + (x.akiMatch === true ? 0 : x.akiMatch === null ? 1 : 2);
}

/** (c), (h): the newest delta CRL that updates `base`, signed by the same key and fresh at `time`. */
function findDelta(ctx: Ctx, base: ParsedCrl, signer: Signer): ParsedCrl | null {
  const t = ctx.input.opts.timeMs;
  const tol = ctx.input.opts.clockToleranceMs;
  for (const d of ctx.input.crls.deltas.get(base.issuer.key) ?? []) {
    if (++ctx.crlsConsidered > REVOCATION_LIMITS.maxCrlsConsidered) return null;
    if (crlUnusable(d)) continue;
    if (base.crlNumber === null || d.deltaBase === null || d.crlNumber === null) continue;
    // RFC 5280 §5.2.4: the base CRL's number must be at least the delta's BaseCRLNumber, and the delta newer.
    if (d.deltaBase > base.crlNumber || d.crlNumber <= base.crlNumber) continue;
    if ((base.idp === null) !== (d.idp === null)) continue;
    if (base.idp && d.idp && !bytesEqual(base.idp.der, d.idp.der)) continue;
    const ba = base.authorityKeyIdentifier?.keyIdentifier ?? null;
    const da = d.authorityKeyIdentifier?.keyIdentifier ?? null;
    if (ba && (!da || !bytesEqual(ba, da))) continue;
    if (d.thisUpdate > t + tol) continue;
    if (d.nextUpdate !== null && d.nextUpdate < t - tol) continue;
    if (++ctx.signatureChecks > REVOCATION_LIMITS.maxSignatureChecks) return null;
    if (!ctx.input.crls.verify(d, signer.cert, signer.params, ctx.input.opts.allowWeakAlgorithms).ok) continue;
    return d;
  }
  return null;
}
