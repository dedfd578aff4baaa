/**
 * @module
 * Public types of the validator: the options of {@link verifyChain}, its result union, the stable
 * verification codes and the normalised client identity.
 */
import type { CrlFetcher } from './revocation/fetch.js';
import type { OcspClient } from './revocation/ocsp.js';

/**
 * Stable verification codes. They are public API: renaming one is a breaking change.
 * Every code is listed with its meaning in `docs/codes.md`.
 */
export type VerificationCode =
  | 'EXPIRED'
  | 'NOT_YET_VALID'
  | 'UNKNOWN_ISSUER'
  | 'BAD_SIGNATURE'
  | 'NOT_A_CA'
  | 'PATH_LENGTH_EXCEEDED'
  | 'KEY_USAGE'
  | 'EKU_MISMATCH'
  | 'NAME_CONSTRAINTS'
  | 'POLICY'
  | 'REVOKED'
  | 'REVOCATION_UNKNOWN'
  | 'UNKNOWN_CRITICAL_EXTENSION'
  | 'MALFORMED'
  | 'WEAK_ALGORITHM'
  | 'UNSUPPORTED_ALGORITHM'
  | 'CHAIN_TOO_LONG'
  | 'PATH_BUILDING_LIMIT';

/** Every verification code, in a stable order (for docs, metrics and exhaustive tests). */
export const VERIFICATION_CODES: readonly VerificationCode[] = Object.freeze([
  'EXPIRED',
  'NOT_YET_VALID',
  'UNKNOWN_ISSUER',
  'BAD_SIGNATURE',
  'NOT_A_CA',
  'PATH_LENGTH_EXCEEDED',
  'KEY_USAGE',
  'EKU_MISMATCH',
  'NAME_CONSTRAINTS',
  'POLICY',
  'REVOKED',
  'REVOCATION_UNKNOWN',
  'UNKNOWN_CRITICAL_EXTENSION',
  'MALFORMED',
  'WEAK_ALGORITHM',
  'UNSUPPORTED_ALGORITHM',
  'CHAIN_TOO_LONG',
  'PATH_BUILDING_LIMIT',
] as const);

/** One element of the chain given to {@link verifyChain}: a PEM string or DER bytes. */
export type CertificateInput = string | Uint8Array;

/** Revocation checking mode. */
export type RevocationMode = 'off' | 'soft' | 'hard';

/** Options of {@link verifyChain}. All are optional. */
export interface VerifyOptions {
  /** Validation instant. Default: now. */
  time?: Date;
  /**
   * Extended key usage the leaf must allow when it has an EKU extension (a leaf without EKU is
   * unrestricted). `'clientAuth'`, `'serverAuth'` or a dotted OID; `null` disables the check.
   * Default `'clientAuth'`.
   */
  requiredEku?: 'clientAuth' | 'serverAuth' | string | null;
  /** Default `'hard'` when the store holds CRLs, else `'soft'` with a `crlFetcher` or an `ocspClient`, else `'off'`. */
  revocation?: RevocationMode;
  /**
   * Fetch CRLs from the `http:`/`https:` CRL distribution points of the path (core `createCrlFetcher`),
   * in addition to the store's CRLs. Asked only after the path's signatures chain to a trust anchor.
   * Calls with a fetcher are not answered from a verdict cache.
   */
  crlFetcher?: CrlFetcher;
  /**
   * Ask OCSP responders (RFC 6960; core `createOcspClient`) at the `http:`/`https:` id-ad-ocsp address of
   * each path certificate's authorityInfoAccess, leaf first, at most 4 per verification, in addition to
   * CRLs. Asked only after the path's signatures chain to a trust anchor. Calls with a client are not
   * answered from a verdict cache.
   */
  ocspClient?: OcspClient;
  /** RFC 5280 §6.1.1 (c) user-initial-policy-set. Default `['2.5.29.32.0']` (anyPolicy). */
  initialPolicySet?: string[];
  /** RFC 5280 §6.1.1 (f) initial-explicit-policy. Default false. */
  explicitPolicy?: boolean;
  /** RFC 5280 §6.1.1 (e) initial-policy-mapping-inhibit. Default false. */
  policyMappingInhibit?: boolean;
  /** RFC 5280 §6.1.1 (g) initial-any-policy-inhibit. Default false. */
  anyPolicyInhibit?: boolean;
  /**
   * Maximum number of intermediate certificates between the leaf and the trust anchor
   * (x509-limbo's `max_chain_depth`). Default 8; an integer from 0 to 255 (a path holds at most 34
   * certificates whatever the value, so above 32 it changes nothing).
   */
  maxDepth?: number;
  /** Clock-skew allowance applied to notBefore/notAfter, in seconds. Default 0; at most 86400 (one day). */
  clockToleranceSec?: number;
  /**
   * Accept SHA-1 signatures and RSA/DSA keys under 2048 bits. Default false (they give
   * `WEAK_ALGORITHM`). MD5 and MD2 never pass.
   */
  allowWeakAlgorithms?: boolean;
  /**
   * Key usage bits the leaf must assert when it has a keyUsage extension. Default
   * `['digitalSignature']` (a TLS client signs the handshake). An empty list disables the check.
   */
  requiredKeyUsage?: KeyUsageName[];
}

/** keyUsage bit names (RFC 5280 §4.2.1.3). */
export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';

/** One attribute of a distinguished name, in RDN order (most significant first). */
export interface NameAttribute {
  /** Dotted OID of the attribute type. */
  oid: string;
  /** RFC 4514 short name (`CN`, `O`, …) where one exists, else the dotted OID. */
  type: string;
  /** The attribute value as text; for values that are not strings, `#` + hex of the DER. */
  value: string;
}

/** A summary of one certificate of a validated path. */
export interface CertificateSummary {
  /** RFC 4514 string of the subject. */
  subject: string;
  /** RFC 4514 string of the issuer. */
  issuer: string;
  /** Serial number, upper-case hex without separators (as node:crypto prints it). */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 of the DER, upper-case hex pairs separated by colons (as node:crypto prints it). */
  fingerprint256: string;
  /** The certificate's DER encoding. */
  der: Uint8Array;
}

/** Subject alternative names by type. */
export interface SubjectAltNames {
  dns: string[];
  email: string[];
  uri: string[];
  /** IP addresses in their usual text form (dotted quad, RFC 5952 IPv6). */
  ip: string[];
  /** The SPIFFE ID, when exactly one `spiffe://` URI SAN is present; else null. */
  spiffeId: string | null;
}

/** The normalised identity of a validated client (the leaf certificate). */
export interface ClientIdentity {
  subject: string;
  subjectAttributes: NameAttribute[];
  issuer: string;
  issuerAttributes: NameAttribute[];
  /** The subject's (last) commonName, or null. */
  commonName: string | null;
  san: SubjectAltNames;
  serialNumber: string;
  fingerprint256: string;
  /** SHA-256 of the DER SubjectPublicKeyInfo, base64 (the `pin-sha256` form). */
  spkiSha256: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 fingerprints of the validated path, leaf first, trust anchor last. */
  chainFingerprints256: string[];
}

/** Revocation status that was not decided, reported in soft mode. */
export interface RevocationInfo {
  status: 'good' | 'unknown';
  /** Leaf-first index of the certificate whose status is unknown. */
  certIndex?: number;
  reason?: string;
}

/** A successful validation. */
export interface VerifySuccess {
  ok: true;
  /** The validated path, leaf first, trust anchor last. */
  chain: CertificateSummary[];
  identity: ClientIdentity;
  /** RFC 5280 §6.1.6 user-constrained-policy-set (dotted OIDs; may contain anyPolicy). */
  policies: string[];
  /** Present when revocation was checked. */
  revocation?: RevocationInfo;
}

/** A failed validation. */
export interface VerifyFailure {
  ok: false;
  code: VerificationCode;
  /** A sentence that says what is wrong and what a person can do about it. */
  message: string;
  /**
   * The certificate the failure is about, as an index into the candidate path leaf first
   * (0 = the leaf). Absent when the failure is about the path as a whole.
   */
  certIndex?: number;
  /** For `REVOKED`: when and why. */
  revocation?: { reason: string; revokedAt: Date };
}

export type VerifyResult = VerifySuccess | VerifyFailure;
