/**
 * @module
 * The internal certificate model: what the strict DER parser (`cert/parse.ts`) produces and what
 * path building and validation (`cert/path.ts`, `cert/validate.ts`, `cert/policy.ts`,
 * `cert/name-constraints.ts`) consume. Not exported from the package.
 *
 * Conventions:
 * - Byte fields are `Uint8Array` views into the certificate's DER (no copies).
 * - OIDs are dotted strings.
 * - A decoded extension field is `undefined` when the extension is absent.
 * - Times are milliseconds since the epoch (UTC).
 */

/** An AlgorithmIdentifier. */
export interface AlgorithmIdentifier {
  oid: string;
  /** DER of the parameters element (the full TLV), or null when absent. */
  params: Uint8Array | null;
}

/** One AttributeTypeAndValue of a Name. */
export interface Attribute {
  oid: string;
  /** ASN.1 tag number of the value (12 UTF8String, 19 PrintableString, 22 IA5String, 30 BMPString, 28 UniversalString, 20 TeletexString, …). */
  tag: number;
  /** DER of the whole value TLV. */
  valueDer: Uint8Array;
  /** The value decoded to text for string types, else null. */
  text: string | null;
}

/** An X.501 Name (RDNSequence). */
export interface Name {
  /** DER of the whole Name (SEQUENCE TLV). */
  der: Uint8Array;
  /** RDNs in encoded order; each RDN is a set of attributes. */
  rdns: Attribute[][];
  /**
   * Canonical key for RFC 5280 §7.1 comparison: two names are equal iff their keys are equal
   * (RDN count and order kept, attributes of a multi-valued RDN sorted, string values
   * case-folded and whitespace-normalised per RFC 4518 basics; non-string values compared as DER).
   */
  key: string;
  /** True when the Name has no RDNs. */
  empty: boolean;
}

/** A GeneralName (RFC 5280 §4.2.1.6). */
export type GeneralName =
  | { type: 'dns'; value: string }
  | { type: 'email'; value: string }
  | { type: 'uri'; value: string }
  /** 4 or 16 bytes in a SAN; 8 or 32 bytes (address then mask) in a name constraint. */
  | { type: 'ip'; value: Uint8Array }
  | { type: 'dn'; value: Name }
  /** otherName (tag 0) with its type-id, x400Address (3), ediPartyName (5), registeredID (8). */
  | { type: 'other'; tag: number; oid?: string; der: Uint8Array };

export interface BasicConstraints {
  ca: boolean;
  /** null when absent. */
  pathLen: number | null;
}

/** keyUsage bits as a bitmask: bit 0 (digitalSignature) = 1 << 0, …, decipherOnly = 1 << 8. */
export const enum KeyUsageBit {
  digitalSignature = 1 << 0,
  nonRepudiation = 1 << 1,
  keyEncipherment = 1 << 2,
  dataEncipherment = 1 << 3,
  keyAgreement = 1 << 4,
  keyCertSign = 1 << 5,
  cRLSign = 1 << 6,
  encipherOnly = 1 << 7,
  decipherOnly = 1 << 8,
}

export interface NameConstraints {
  /** null when the permittedSubtrees field is absent. */
  permitted: GeneralName[] | null;
  /** null when the excludedSubtrees field is absent. */
  excluded: GeneralName[] | null;
}

export interface PolicyInformation {
  oid: string;
  /** DER of the policyQualifiers SEQUENCE, or null. */
  qualifiers: Uint8Array | null;
}

export interface PolicyMapping {
  issuerDomainPolicy: string;
  subjectDomainPolicy: string;
}

export interface PolicyConstraints {
  requireExplicitPolicy: number | null;
  inhibitPolicyMapping: number | null;
}

export interface AuthorityKeyIdentifier {
  keyIdentifier: Uint8Array | null;
  authorityCertIssuer: GeneralName[] | null;
  /** Content octets of the serial INTEGER. */
  authorityCertSerialNumber: Uint8Array | null;
}

export interface DistributionPoint {
  /** fullName, or nameRelativeToCRLIssuer as `{ relative: Attribute[] }`; null when absent. */
  name: { full: GeneralName[] } | { relative: Attribute[] } | null;
  /** ReasonFlags bitmask (bit 0 unused … bit 8 aACompromise), null when absent. */
  reasons: number | null;
  cRLIssuer: GeneralName[] | null;
}

/** An AccessDescription of authorityInfoAccess / subjectInfoAccess (RFC 5280 §4.2.2.1). */
export interface AccessDescription {
  /** accessMethod OID (e.g. id-ad-caIssuers 1.3.6.1.5.5.7.48.2, id-ad-ocsp 1.3.6.1.5.5.7.48.1). */
  method: string;
  location: GeneralName;
}

/** One extension as encoded. */
export interface Extension {
  oid: string;
  critical: boolean;
  /** Contents of extnValue (the DER of the extension's own value). */
  value: Uint8Array;
}

export interface SubjectPublicKeyInfo {
  /** DER of the whole SubjectPublicKeyInfo. */
  der: Uint8Array;
  algorithm: AlgorithmIdentifier;
  /** subjectPublicKey BIT STRING contents, without the unused-bits octet. */
  publicKey: Uint8Array;
}

/** A parsed X.509 v1/v2/v3 certificate. */
export interface ParsedCertificate {
  der: Uint8Array;
  /** DER of tbsCertificate (what the signature covers). */
  tbs: Uint8Array;
  version: 1 | 2 | 3;
  /** Content octets of the serialNumber INTEGER (two's complement, as encoded). */
  serialNumber: Uint8Array;
  /** tbsCertificate.signature. */
  tbsSignatureAlgorithm: AlgorithmIdentifier;
  /** Certificate.signatureAlgorithm (must equal the tbs one; the parser checks). */
  signatureAlgorithm: AlgorithmIdentifier;
  /**
   * signatureValue BIT STRING contents, without the unused-bits octet. Empty when the BIT STRING is
   * not a whole number of octets (no algorithm produces that, so it fails as BAD_SIGNATURE).
   */
  signature: Uint8Array;
  issuer: Name;
  subject: Name;
  notBefore: number;
  notAfter: number;
  spki: SubjectPublicKeyInfo;
  issuerUniqueId: Uint8Array | null;
  subjectUniqueId: Uint8Array | null;
  /** Every extension, in encoded order. */
  extensions: Extension[];

  basicConstraints?: BasicConstraints;
  keyUsage?: number;
  extKeyUsage?: string[];
  subjectAltName?: GeneralName[];
  issuerAltName?: GeneralName[];
  nameConstraints?: NameConstraints;
  certificatePolicies?: PolicyInformation[];
  policyMappings?: PolicyMapping[];
  policyConstraints?: PolicyConstraints;
  inhibitAnyPolicy?: number;
  authorityKeyIdentifier?: AuthorityKeyIdentifier;
  subjectKeyIdentifier?: Uint8Array;
  crlDistributionPoints?: DistributionPoint[];
  freshestCrl?: DistributionPoint[];
  /** authorityInfoAccess (SIZE(1..MAX); an empty one is malformed). */
  authorityInfoAccess?: AccessDescription[];
  /** subjectInfoAccess. */
  subjectInfoAccess?: AccessDescription[];
  /**
   * Set with policyMappings: true when anyPolicy appears as an issuerDomainPolicy or a
   * subjectDomainPolicy (RFC 5280 §6.1.4 (a): the path is then invalid).
   */
  policyMappingsHasAnyPolicy?: boolean;

  /**
   * RFC 5280 profile rules the certificate breaks that do not stop it from being parsed, one sentence
   * each (empty when none): a serial number that is zero, negative or longer than 20 octets; an empty
   * issuer; an empty subject in a CA certificate, or without a critical subjectAltName; AKI, SKI or
   * AIA/SIA marked critical; nameConstraints not critical; keyUsage keyCertSign without cA; a SAN
   * dNSName that is not in preferred name syntax; notAfter before notBefore. Validation treats a path
   * certificate with any of these as `MALFORMED`. Always set by `parseCertificate` (optional only so
   * hand-built test models need not spell it out).
   */
  profileProblems?: string[];

  /** OIDs of critical extensions that the parser does not recognise. */
  unknownCriticalExtensions: string[];
  /** Subject and issuer are the same Name (RFC 5280 §6.1: self-issued). */
  selfIssued: boolean;
  /** SHA-256 of `der`, lower-case hex (cache key; not the display form). */
  sha256: string;
}
