/**
 * @module
 * RFC 5280 §6.1 validation of one candidate path (built by `path.ts`), plus the certificate-profile
 * rules of RFC 5280 §4 that certgate enforces on every certificate of the path.
 *
 * Path order here is RFC order: `path[0]` is issued by the trust anchor, `path[n - 1]` is the leaf.
 * Failures carry `certIndex` counted leaf first (0 = the leaf, n = the trust anchor).
 */
import type { ParsedCertificate } from './model.js';
import { KeyUsageBit } from './model.js';
import { formatName } from './name.js';
import { dnsSyntaxProblem } from './parse.js';
import { checkNameConstraints } from './name-constraints.js';
import { processPolicies } from './policy.js';
import { keySizeBits, verifySignature } from './signature.js';
import { ANY_EKU, Ext, KeyAlg } from './oids.js';
import type { KeyUsageName, VerificationCode } from '../types.js';

/** An internal failure. */
export interface Failure {
  code: VerificationCode;
  message: string;
  certIndex?: number;
  /** For `REVOKED`. */
  revocation?: { reason: string; revokedAt: Date };
}

/** Options after defaulting (see `VerifyOptions`). */
export interface ResolvedVerifyOptions {
  timeMs: number;
  requiredEkuOid: string | null;
  requiredKeyUsage: number;
  initialPolicySet: string[];
  explicitPolicy: boolean;
  policyMappingInhibit: boolean;
  anyPolicyInhibit: boolean;
  maxDepth: number;
  clockToleranceMs: number;
  allowWeakAlgorithms: boolean;
}


export const KEY_USAGE_BITS: Record<KeyUsageName, number> = {
  digitalSignature: KeyUsageBit.digitalSignature,
  nonRepudiation: KeyUsageBit.nonRepudiation,
  keyEncipherment: KeyUsageBit.keyEncipherment,
  dataEncipherment: KeyUsageBit.dataEncipherment,
  keyAgreement: KeyUsageBit.keyAgreement,
  keyCertSign: KeyUsageBit.keyCertSign,
  cRLSign: KeyUsageBit.cRLSign,
  encipherOnly: KeyUsageBit.encipherOnly,
  decipherOnly: KeyUsageBit.decipherOnly,
};

export type Role = 'leaf' | 'intermediate' | 'anchor';

/** "the client certificate "CN=alice"" and the like, for messages. */
export function describe(cert: ParsedCertificate, role: Role): string {
  const name = cert.subject.empty ? '(empty subject)' : formatName(cert.subject);
  if (role === 'leaf') return `the client certificate "${name}"`;
  if (role === 'anchor') return `the trusted CA certificate "${name}"`;
  return `the intermediate CA certificate "${name}"`;
}

function ext(cert: ParsedCertificate, oid: string) {
  return cert.extensions.find((e) => e.oid === oid);
}

// --- SAN syntax the parser does not check (RFC 5280 §4.2.1.6) --------------------------------------

/** An rfc822Name mailbox: exactly one `@`, a non-empty local part of visible ASCII, a valid domain. */
export function isValidEmail(addr: string): boolean {
  const at = addr.indexOf('@');
  if (at <= 0 || at !== addr.lastIndexOf('@')) return false;
  if (!/^[\x21-\x7e]+$/.test(addr)) return false;
  return dnsSyntaxProblem(addr.slice(at + 1)) === null;
}

function sanProblem(cert: ParsedCertificate): string | null {
  for (const n of cert.subjectAltName ?? []) {
    if (n.type === 'email' && !isValidEmail(n.value)) return `has an email subject alternative name "${n.value.slice(0, 80)}" that is not a valid address`;
    if (n.type === 'uri' && !/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(n.value)) return `has a URI subject alternative name "${n.value.slice(0, 80)}" that is not an absolute URI`;
  }
  return null;
}

/**
 * Certificate-profile rules (RFC 5280 §4) certgate enforces on a certificate in the given role.
 * Trust anchors are held to the conforming-CA profile (basicConstraints critical, keyCertSign, SKI):
 * they are what the administrator uploaded, and the upload lint refuses the same things.
 */
export function checkProfile(cert: ParsedCertificate, role: Role): Omit<Failure, 'certIndex'> | null {
  // The subject is formatted only for a failure's message (this runs for every certificate of every path).
  const Who = () => capitalize(describe(cert, role));
  const malformed = (what: string): Omit<Failure, 'certIndex'> => ({ code: 'MALFORMED', message: `${Who()} ${what}.` });
  if (cert.unknownCriticalExtensions.length > 0) {
    return { code: 'UNKNOWN_CRITICAL_EXTENSION', message: `${Who()} has a critical extension certgate does not know (${cert.unknownCriticalExtensions.join(', ')}); it must be rejected (RFC 5280 §4.2).` };
  }
  // Serial number, empty names, critical AKI/SKI/AIA, non-critical nameConstraints, keyCertSign
  // without cA, dNSName syntax: found by the parser.
  const pp = cert.profileProblems;
  if (pp && pp.length > 0) return malformed(`breaks the RFC 5280 certificate profile: ${pp[0]!.replace(/\.$/, '')}`);
  const isCa = cert.basicConstraints?.ca === true;
  if (cert.version === 3) {
    if (!cert.authorityKeyIdentifier && !isSelfSigned(cert)) return malformed('has no authorityKeyIdentifier extension, which RFC 5280 §4.2.1.1 requires in every certificate that is not self-signed');
    if (cert.nameConstraints && !isCa) {
      return { code: 'NAME_CONSTRAINTS', message: `${Who()} carries a nameConstraints extension but is not a CA (RFC 5280 §4.2.1.10 allows it only in CA certificates).` };
    }
    // A non-critical policyConstraints breaks RFC 5280 §4.2.1.11's CA profile, but PKITS 4.8–4.12 (and
    // OpenSSL) process it as usual, so certgate does too (x509-limbo's rfc5280::pc::ica-noncritical-pc differs).
    const sp = sanProblem(cert);
    if (sp) return malformed(sp);
  }
  if (role === 'leaf') return null;
  // CA roles.
  if (cert.version !== 3) {
    if (role === 'anchor') return null; // v1 trust anchors are legacy but allowed (RFC 5280 §6.1.1 (d)).
    return { code: 'NOT_A_CA', message: `${Who()} is a version ${cert.version} certificate, which cannot be verified as a CA (RFC 5280 §6.1.4 (k)).` };
  }
  if (!isCa) {
    return { code: 'NOT_A_CA', message: `${Who()} is not a CA (its basicConstraints extension is missing or cA is FALSE), so it cannot issue certificates.` };
  }
  if (role === 'anchor' && !ext(cert, Ext.basicConstraints)?.critical) {
    return { code: 'NOT_A_CA', message: `${Who()} has a non-critical basicConstraints extension; a CA certificate must mark it critical (RFC 5280 §4.2.1.9).` };
  }
  if (cert.keyUsage !== undefined && !(cert.keyUsage & KeyUsageBit.keyCertSign)) {
    return { code: 'KEY_USAGE', message: `${Who()} has a keyUsage extension without keyCertSign, so it may not sign certificates (RFC 5280 §4.2.1.3).` };
  }
  if (!cert.subjectKeyIdentifier) return malformed('has no subjectKeyIdentifier extension, which RFC 5280 §4.2.1.2 requires in CA certificates');
  return null;
}

const selfSigned = new WeakMap<ParsedCertificate, boolean>();

/** The certificate's signature verifies with its own key (RFC 5280's "self-signed"; the names may differ). */
export function isSelfSigned(cert: ParsedCertificate): boolean {
  let v = selfSigned.get(cert);
  if (v === undefined) {
    v = verifySignature(cert, cert.spki, { allowWeak: true, inheritedDsaParams: null }).ok;
    selfSigned.set(cert, v);
  }
  return v;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function checkValidity(cert: ParsedCertificate, role: Role, opts: ResolvedVerifyOptions): Omit<Failure, 'certIndex'> | null {
  // Certificate times have one-second resolution: compare the validation instant truncated to the second.
  const t = Math.floor(opts.timeMs / 1000) * 1000;
  const who = () => describe(cert, role);
  if (t + opts.clockToleranceMs < cert.notBefore) {
    return { code: 'NOT_YET_VALID', message: `${capitalize(who())} is not valid before ${new Date(cert.notBefore).toISOString()}.` };
  }
  if (t - opts.clockToleranceMs > cert.notAfter) {
    return { code: 'EXPIRED', message: `${capitalize(who())} expired on ${new Date(cert.notAfter).toISOString()}; ${role === 'leaf' ? 'issue a new client certificate' : 'the CA must be renewed'}.` };
  }
  return null;
}

function ekuAllows(cert: ParsedCertificate, oid: string): boolean {
  return cert.extKeyUsage === undefined || cert.extKeyUsage.includes(oid) || cert.extKeyUsage.includes(ANY_EKU);
}

/** A signature check left for validation time (a DSA issuer key that inherits its parameters). */
export interface DeferredSignature {
  /** RFC-order index of the signed certificate (`path.length` is never deferred). */
  index: number;
}

/**
 * Validates one complete candidate path. Signatures have been checked by the path builder except
 * those listed in `deferred` (DSA parameter inheritance needs the whole path).
 * Returns the user-constrained policy set on success.
 */
export function validatePath(
  path: readonly ParsedCertificate[],
  anchor: ParsedCertificate,
  deferred: readonly DeferredSignature[],
  opts: ResolvedVerifyOptions,
): Failure | { policies: string[] } {
  const n = path.length;
  const leafIndex = (i: number) => n - 1 - i; // RFC index → leaf-first index
  const roleOf = (i: number): Role => (i === n - 1 ? 'leaf' : 'intermediate');

  // 1. Profile of every certificate, leaf first, then the anchor.
  for (let i = n - 1; i >= 0; i--) {
    const f = checkProfile(path[i]!, roleOf(i));
    if (f) return { ...f, certIndex: leafIndex(i) };
  }
  const af = checkProfile(anchor, 'anchor');
  if (af) return { ...af, certIndex: n };

  // 2. Validity at the validation time (RFC 5280 §6.1.3 (a)(2)), leaf first; the anchor too.
  for (let i = n - 1; i >= 0; i--) {
    const f = checkValidity(path[i]!, roleOf(i), opts);
    if (f) return { ...f, certIndex: leafIndex(i) };
  }
  const av = checkValidity(anchor, 'anchor', opts);
  if (av) return { ...av, certIndex: n };

  // 3. Deferred signatures with DSA parameter inheritance (RFC 5280 §6.1.4 (k)/(l) working_public_key_parameters).
  if (deferred.length > 0) {
    let params = anchor.spki.algorithm.oid === KeyAlg.dsa ? anchor.spki.algorithm.params : null;
    const paramsAt: (Uint8Array | null)[] = [];
    for (let i = 0; i < n; i++) {
      paramsAt.push(params);
      const c = path[i]!;
      if (c.spki.algorithm.oid !== KeyAlg.dsa) params = null;
      else if (c.spki.algorithm.params) params = c.spki.algorithm.params;
    }
    for (const d of deferred) {
      const issuer = d.index === 0 ? anchor : path[d.index - 1]!;
      const r = verifySignature(path[d.index]!, issuer.spki, {
        allowWeak: opts.allowWeakAlgorithms,
        inheritedDsaParams: d.index === 0 ? null : paramsAt[d.index - 1] ?? null,
      });
      if (!r.ok) return { code: r.code, message: r.message, certIndex: leafIndex(d.index) };
    }
  }

  // 4. CA certificates: basicConstraints, pathLenConstraint, keyUsage (RFC 5280 §6.1.4 (k)–(n)).
  let maxPathLength = n;
  const anchorPathLen = anchor.basicConstraints?.pathLen;
  if (anchorPathLen !== null && anchorPathLen !== undefined) maxPathLength = Math.min(maxPathLength, anchorPathLen);
  for (let i = 0; i < n - 1; i++) {
    const c = path[i]!;
    if (!c.selfIssued) {
      if (maxPathLength <= 0) {
        return {
          code: 'PATH_LENGTH_EXCEEDED',
          message: `${capitalize(describe(c, 'intermediate'))} exceeds the path length constraint of a CA above it (pathLenConstraint allows no further intermediate CAs).`,
          certIndex: leafIndex(i),
        };
      }
      maxPathLength--;
    }
    const pl = c.basicConstraints?.pathLen;
    if (pl !== null && pl !== undefined && pl < maxPathLength) maxPathLength = pl;
  }

  // 5. Extended key usage: the leaf, and CA certificates that restrict it (as OpenSSL's purpose check does).
  if (opts.requiredEkuOid) {
    const leaf = path[n - 1]!;
    if (!ekuAllows(leaf, opts.requiredEkuOid)) {
      return {
        code: 'EKU_MISMATCH',
        message: `${capitalize(describe(leaf, 'leaf'))} is not issued for this purpose: its extendedKeyUsage does not include ${opts.requiredEkuOid === '1.3.6.1.5.5.7.3.2' ? 'clientAuth (TLS client authentication)' : opts.requiredEkuOid}.`,
        certIndex: 0,
      };
    }
    for (let i = n - 2; i >= -1; i--) {
      const c = i === -1 ? anchor : path[i]!;
      if (!ekuAllows(c, opts.requiredEkuOid)) {
        return {
          code: 'EKU_MISMATCH',
          message: `${capitalize(describe(c, i === -1 ? 'anchor' : 'intermediate'))} restricts its extendedKeyUsage to purposes that do not include the required one (${opts.requiredEkuOid}).`,
          certIndex: leafIndex(i),
        };
      }
    }
  }

  // 6. The leaf's keyUsage and key strength.
  const leaf = path[n - 1]!;
  if (leaf.keyUsage !== undefined && opts.requiredKeyUsage !== 0 && (leaf.keyUsage & opts.requiredKeyUsage) !== opts.requiredKeyUsage) {
    const names = Object.entries(KEY_USAGE_BITS).filter(([, bit]) => opts.requiredKeyUsage & bit).map(([k]) => k);
    return { code: 'KEY_USAGE', message: `${capitalize(describe(leaf, 'leaf'))} has a keyUsage extension without ${names.join(', ')}, which a TLS client certificate needs.`, certIndex: 0 };
  }
  if (!opts.allowWeakAlgorithms) {
    const alg = leaf.spki.algorithm.oid;
    const bits = alg === KeyAlg.rsaEncryption || alg === KeyAlg.rsassaPss || alg === KeyAlg.dsa ? keySizeBits(leaf.spki) : null;
    if (bits !== null && bits < 2048) {
      return { code: 'WEAK_ALGORITHM', message: `${capitalize(describe(leaf, 'leaf'))} has a ${bits}-bit key; certgate refuses RSA and DSA keys under 2048 bits.`, certIndex: 0 };
    }
  }

  // 7. Name constraints (RFC 5280 §6.1.3 (b)(c), §6.1.4 (g)).
  const nc = checkNameConstraints(path as ParsedCertificate[], anchor);
  if (!nc.ok) return { code: nc.code, message: nc.message, certIndex: nc.certIndex };

  // 8. Certificate policies (RFC 5280 §6.1.3 (d)–(f), §6.1.4 (a)(b)(g)–(j), §6.1.5).
  const pol = processPolicies(path as ParsedCertificate[], {
    initialPolicySet: opts.initialPolicySet,
    explicitPolicy: opts.explicitPolicy,
    policyMappingInhibit: opts.policyMappingInhibit,
    anyPolicyInhibit: opts.anyPolicyInhibit,
  });
  if (!pol.ok) return { code: 'POLICY', message: pol.message, ...(pol.certIndex !== undefined ? { certIndex: pol.certIndex } : {}) };
  return { policies: pol.userConstrainedPolicySet };
}
