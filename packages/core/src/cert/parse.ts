/**
 * @module
 * Strict X.509 certificate parser (RFC 5280 §4, DER per X.690) producing the internal
 * {@link ParsedCertificate} model. No ASN.1 library on this path: the {@link DerReader} walks the
 * bytes directly and every field is a view into the input. `node:crypto` is used only for SHA-256.
 *
 * What is malformed (throws {@link MalformedCertificateError}): any DER violation; a wrong version
 * (an explicitly encoded v1, unique identifiers in v1, extensions before v3, an empty extensions
 * list); outer and inner signature algorithms that are not byte-identical; a duplicate extension;
 * an extension whose value does not decode, or whose SIZE (1..MAX) list is empty; name-constraint
 * subtrees with a minimum other than 0 or a maximum (RFC 5280 §4.2.1.10: MUST be 0 / absent);
 * duplicate policy OIDs; an empty policyConstraints. An unknown critical extension is *not*
 * malformed: its OID is listed in `unknownCriticalExtensions` for validation to refuse.
 * Profile rules that do not prevent parsing go to `profileProblems` (see the model).
 */
import { sha256Hex } from '../hash.js';
import {
  DerError,
  DerReader,
  Tag,
  bytesEqual,
  checkInteger,
  decodeBitString,
  ctx,
  ctxCons,
  decodeBoolean,
  decodeIa5,
  decodeNamedBits,
  decodeOctetAlignedBitString,
  decodeOid,
  decodeUint,
  describeTag,
  integerIsNegative,
  readTime,
} from '../der/reader.js';
import type {
  AccessDescription,
  AlgorithmIdentifier,
  AuthorityKeyIdentifier,
  BasicConstraints,
  DistributionPoint,
  Extension,
  GeneralName,
  NameConstraints,
  ParsedCertificate,
  PolicyConstraints,
  PolicyInformation,
  PolicyMapping,
  SubjectPublicKeyInfo,
} from './model.js';
import { readName, readRdnContents } from './name.js';
import { ANY_POLICY, Ext } from './oids.js';

/** The certificate cannot be parsed; `message` is a sentence naming the field and the rule. */
export class MalformedCertificateError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MalformedCertificateError';
  }
}

/** What {@link parseCertificate} returns: the model with `profileProblems` always present. */
export type Parsed = ParsedCertificate & { profileProblems: string[] };

/** Upper bound on the size of one certificate (hostile input): 1 MiB. */
export const MAX_CERTIFICATE_SIZE = 1024 * 1024;
/** Upper bounds on list lengths inside one certificate. */
const MAX_EXTENSIONS = 256;
const MAX_LIST = 4096;
const CERT_EXTENSIONS: ExtensionListNames = { list: 'extensions', item: 'extension', section: '§4.2' };

/** Read an AlgorithmIdentifier (SEQUENCE { algorithm OID, parameters ANY OPTIONAL }). */
export function readAlgorithmIdentifier(r: DerReader, what: string): { alg: AlgorithmIdentifier; full: Uint8Array } {
  const s = r.enter(Tag.SEQUENCE, what);
  const full = r.lastFull();
  const oid = decodeOid(s.read(Tag.OID, what), what);
  const params = s.atEnd ? null : s.readAnyFull(what);
  s.end(what);
  return { alg: { oid, params }, full };
}

/** Read a SubjectPublicKeyInfo. */
export function readSpki(r: DerReader, what = 'subjectPublicKeyInfo'): SubjectPublicKeyInfo {
  const s = r.enter(Tag.SEQUENCE, what);
  const der = r.lastFull();
  const { alg } = readAlgorithmIdentifier(s, `${what} algorithm`);
  const publicKey = decodeOctetAlignedBitString(s.read(Tag.BIT_STRING, `${what} subjectPublicKey`), `${what} subjectPublicKey`);
  s.end(what);
  return { der, algorithm: alg, publicKey };
}

/**
 * Read a signatureValue BIT STRING (certificates, CRLs). Every signature algorithm yields whole
 * octets; a signatureValue with unused bits (PKITS 4.1.2, 4.1.6 and BadCRLSignatureCACRL corrupt
 * exactly that octet) can never verify, so it is returned as an empty signature, which
 * verifySignature reports as BAD_SIGNATURE, and the structure stays parseable.
 */
export function readSignatureValue(r: DerReader, what = 'signatureValue'): Uint8Array {
  const b = decodeBitString(r.read(Tag.BIT_STRING, what), what);
  return b.unusedBits === 0 ? b.bytes : b.bytes.subarray(0, 0);
}

/** Parse a DER SubjectPublicKeyInfo on its own. */
export function parseSpki(der: Uint8Array): SubjectPublicKeyInfo {
  const r = new DerReader(der);
  const spki = readSpki(r);
  r.end('subjectPublicKeyInfo');
  return spki;
}

/**
 * Read one GeneralName (RFC 5280 §4.2.1.6). `context` selects the iPAddress form: 'san' (4 or 16
 * octets) or 'nc' (8 or 32 octets: address then a contiguous mask).
 */
export function readGeneralName(r: DerReader, what: string, context: 'san' | 'nc' = 'san'): GeneralName {
  const t = r.readAny(what);
  switch (t.tag) {
    case 0xa0: {
      // otherName ::= SEQUENCE { type-id OID, value [0] EXPLICIT ANY }
      const s = r.child(t.value);
      const oid = decodeOid(s.read(Tag.OID, `${what} otherName type-id`), `${what} otherName type-id`);
      const v = s.enter(ctxCons(0), `${what} otherName value`);
      v.readAny(`${what} otherName value`);
      v.end(`${what} otherName value`);
      s.end(`${what} otherName`);
      return { type: 'other', tag: 0, oid, der: t.full };
    }
    case 0x81:
      return { type: 'email', value: decodeIa5(t.value, `${what} rfc822Name`) };
    case 0x82:
      return { type: 'dns', value: decodeIa5(t.value, `${what} dNSName`) };
    case 0xa3:
      return { type: 'other', tag: 3, der: t.full };
    case 0xa4: {
      const s = r.child(t.value);
      const name = readName(s, `${what} directoryName`);
      s.end(`${what} directoryName`);
      return { type: 'dn', value: name };
    }
    case 0xa5:
      return { type: 'other', tag: 5, der: t.full };
    case 0x86:
      return { type: 'uri', value: decodeIa5(t.value, `${what} uniformResourceIdentifier`) };
    case 0x87: {
      const n = t.value.length;
      if (context === 'san') {
        if (n !== 4 && n !== 16) throw new DerError(`${what} iPAddress: must be 4 or 16 octets, not ${n}`);
      } else {
        if (n !== 8 && n !== 32) throw new DerError(`${what} iPAddress constraint: must be 8 or 32 octets, not ${n}`);
        checkMask(t.value.subarray(n / 2), `${what} iPAddress constraint`);
      }
      return { type: 'ip', value: t.value };
    }
    case 0x88:
      return { type: 'other', tag: 8, oid: decodeOid(t.value, `${what} registeredID`), der: t.full };
    default:
      throw new DerError(`${what}: ${describeTag(t.tag)} is not a GeneralName`);
  }
}

function checkMask(mask: Uint8Array, what: string): void {
  let zero = false;
  for (let i = 0; i < mask.length; i++) {
    const b = mask[i]!;
    for (let bit = 7; bit >= 0; bit--) {
      const set = (b >> bit) & 1;
      if (set && zero) throw new DerError(`${what}: the mask is not contiguous`);
      if (!set) zero = true;
    }
  }
}

/** Read GeneralNames (SEQUENCE SIZE (1..MAX) OF GeneralName) from the contents of its SEQUENCE. */
export function readGeneralNamesContents(s: DerReader, what: string, context: 'san' | 'nc' = 'san'): GeneralName[] {
  const out: GeneralName[] = [];
  while (!s.atEnd) {
    if (out.length >= MAX_LIST) throw new DerError(`${what}: more than ${MAX_LIST} names`);
    out.push(readGeneralName(s, what, context));
  }
  if (out.length === 0) throw new DerError(`${what}: must hold at least one name`);
  return out;
}

/** A reader over the contents of an extension value that must be exactly one TLV with `tag` (nested one level deep). */
export function single(value: Uint8Array, tag: number, what: string): DerReader {
  const r = new DerReader(value, 1);
  const inner = r.enter(tag, what);
  r.end(what);
  return inner;
}

/** The contents of an extension value that must be exactly one primitive TLV with `tag`. */
export function singlePrimitive(value: Uint8Array, tag: number, what: string): Uint8Array {
  const r = new DerReader(value, 1);
  const v = r.read(tag, what);
  r.end(what);
  return v;
}

function decodeBasicConstraints(v: Uint8Array): BasicConstraints {
  const s = single(v, Tag.SEQUENCE, 'basicConstraints');
  let ca = false;
  const b = s.readOptional(Tag.BOOLEAN, 'basicConstraints cA');
  if (b !== null) {
    ca = decodeBoolean(b, 'basicConstraints cA');
    if (!ca) throw new DerError('basicConstraints cA: FALSE is the DEFAULT and must be omitted in DER');
  }
  let pathLen: number | null = null;
  const p = s.readOptional(Tag.INTEGER, 'basicConstraints pathLenConstraint');
  if (p !== null) pathLen = decodeUint(p, 'basicConstraints pathLenConstraint', Number.MAX_SAFE_INTEGER, true);
  s.end('basicConstraints');
  return { ca, pathLen };
}

function decodeKeyUsage(v: Uint8Array): number {
  const bits = decodeNamedBits(singlePrimitive(v, Tag.BIT_STRING, 'keyUsage'), 'keyUsage', 9);
  if (bits === 0) throw new DerError('keyUsage: at least one bit must be set (RFC 5280 §4.2.1.3)');
  return bits;
}

function decodeOidList(v: Uint8Array, what: string): string[] {
  const s = single(v, Tag.SEQUENCE, what);
  const out: string[] = [];
  while (!s.atEnd) {
    if (out.length >= MAX_LIST) throw new DerError(`${what}: too many entries`);
    out.push(decodeOid(s.read(Tag.OID, what), what));
  }
  if (out.length === 0) throw new DerError(`${what}: must hold at least one purpose`);
  return out;
}

/** GeneralNames as a whole extension value (subjectAltName, issuerAltName, certificateIssuer). */
export function decodeGeneralNames(v: Uint8Array, what: string): GeneralName[] {
  return readGeneralNamesContents(single(v, Tag.SEQUENCE, what), what);
}

function readSubtrees(s: DerReader, what: string): GeneralName[] {
  const out: GeneralName[] = [];
  while (!s.atEnd) {
    if (out.length >= MAX_LIST) throw new DerError(`${what}: more than ${MAX_LIST} subtrees`);
    const st = s.enter(Tag.SEQUENCE, `${what} GeneralSubtree`);
    out.push(readGeneralName(st, `${what} base`, 'nc'));
    const min = st.readOptional(ctx(0), `${what} minimum`);
    if (min !== null) {
      // DEFAULT 0 must be omitted in DER, and RFC 5280 §4.2.1.10 says minimum MUST be zero.
      throw new DerError(`${what} minimum: must be absent (RFC 5280 §4.2.1.10 allows only the default 0)`);
    }
    if (st.readOptional(ctx(1), `${what} maximum`) !== null) {
      throw new DerError(`${what} maximum: must be absent (RFC 5280 §4.2.1.10)`);
    }
    st.end(`${what} GeneralSubtree`);
  }
  if (out.length === 0) throw new DerError(`${what}: GeneralSubtrees must hold at least one subtree`);
  return out;
}

function decodeNameConstraints(v: Uint8Array): NameConstraints {
  const s = single(v, Tag.SEQUENCE, 'nameConstraints');
  const p = s.enterOptional(ctxCons(0), 'nameConstraints permittedSubtrees');
  const permitted = p === null ? null : readSubtrees(p, 'nameConstraints permittedSubtrees');
  const e = s.enterOptional(ctxCons(1), 'nameConstraints excludedSubtrees');
  const excluded = e === null ? null : readSubtrees(e, 'nameConstraints excludedSubtrees');
  s.end('nameConstraints');
  if (permitted === null && excluded === null) {
    throw new DerError('nameConstraints: must hold permittedSubtrees or excludedSubtrees (RFC 5280 §4.2.1.10)');
  }
  return { permitted, excluded };
}

function decodeCertificatePolicies(v: Uint8Array): PolicyInformation[] {
  const s = single(v, Tag.SEQUENCE, 'certificatePolicies');
  const out: PolicyInformation[] = [];
  const seen = new Set<string>();
  while (!s.atEnd) {
    if (out.length >= MAX_LIST) throw new DerError('certificatePolicies: too many policies');
    const pi = s.enter(Tag.SEQUENCE, 'certificatePolicies PolicyInformation');
    const oid = decodeOid(pi.read(Tag.OID, 'certificatePolicies policyIdentifier'), 'certificatePolicies policyIdentifier');
    if (seen.has(oid)) throw new DerError(`certificatePolicies: policy ${oid} appears more than once (RFC 5280 §4.2.1.4)`);
    seen.add(oid);
    let qualifiers: Uint8Array | null = null;
    if (!pi.atEnd) {
      const t = pi.readAny('certificatePolicies policyQualifiers');
      if (t.tag !== Tag.SEQUENCE) throw new DerError('certificatePolicies policyQualifiers: expected SEQUENCE');
      const q = pi.child(t.value);
      let n = 0;
      while (!q.atEnd) {
        const qi = q.enter(Tag.SEQUENCE, 'certificatePolicies PolicyQualifierInfo');
        decodeOid(qi.read(Tag.OID, 'certificatePolicies policyQualifierId'), 'certificatePolicies policyQualifierId');
        qi.readAny('certificatePolicies qualifier');
        qi.end('certificatePolicies PolicyQualifierInfo');
        n++;
      }
      if (n === 0) throw new DerError('certificatePolicies policyQualifiers: must hold at least one qualifier');
      qualifiers = t.full;
    }
    pi.end('certificatePolicies PolicyInformation');
    out.push({ oid, qualifiers });
  }
  if (out.length === 0) throw new DerError('certificatePolicies: must hold at least one policy');
  return out;
}

function decodePolicyMappings(v: Uint8Array): PolicyMapping[] {
  const s = single(v, Tag.SEQUENCE, 'policyMappings');
  const out: PolicyMapping[] = [];
  while (!s.atEnd) {
    if (out.length >= MAX_LIST) throw new DerError('policyMappings: too many mappings');
    const m = s.enter(Tag.SEQUENCE, 'policyMappings mapping');
    const issuerDomainPolicy = decodeOid(m.read(Tag.OID, 'policyMappings issuerDomainPolicy'), 'policyMappings issuerDomainPolicy');
    const subjectDomainPolicy = decodeOid(m.read(Tag.OID, 'policyMappings subjectDomainPolicy'), 'policyMappings subjectDomainPolicy');
    m.end('policyMappings mapping');
    out.push({ issuerDomainPolicy, subjectDomainPolicy });
  }
  if (out.length === 0) throw new DerError('policyMappings: must hold at least one mapping');
  return out;
}

function decodePolicyConstraints(v: Uint8Array): PolicyConstraints {
  const s = single(v, Tag.SEQUENCE, 'policyConstraints');
  const r = s.readOptional(ctx(0), 'policyConstraints requireExplicitPolicy');
  const i = s.readOptional(ctx(1), 'policyConstraints inhibitPolicyMapping');
  s.end('policyConstraints');
  if (r === null && i === null) {
    throw new DerError('policyConstraints: must not be an empty sequence (RFC 5280 §4.2.1.11)');
  }
  return {
    requireExplicitPolicy: r === null ? null : decodeUint(r, 'policyConstraints requireExplicitPolicy', Number.MAX_SAFE_INTEGER, true),
    inhibitPolicyMapping: i === null ? null : decodeUint(i, 'policyConstraints inhibitPolicyMapping', Number.MAX_SAFE_INTEGER, true),
  };
}

/** authorityKeyIdentifier (RFC 5280 §4.2.1.1; also a CRL extension, §5.2.1). */
export function decodeAki(v: Uint8Array): AuthorityKeyIdentifier {
  const s = single(v, Tag.SEQUENCE, 'authorityKeyIdentifier');
  const keyIdentifier = s.readOptional(ctx(0), 'authorityKeyIdentifier keyIdentifier');
  const gn = s.enterOptional(ctxCons(1), 'authorityKeyIdentifier authorityCertIssuer');
  const authorityCertIssuer = gn === null ? null : readGeneralNamesContents(gn, 'authorityKeyIdentifier authorityCertIssuer');
  const serial = s.readOptional(ctx(2), 'authorityKeyIdentifier authorityCertSerialNumber');
  if (serial !== null) checkInteger(serial, 'authorityKeyIdentifier authorityCertSerialNumber');
  s.end('authorityKeyIdentifier');
  return { keyIdentifier, authorityCertIssuer, authorityCertSerialNumber: serial };
}

/** DistributionPointName (a CHOICE, so the tag inside `[0]` is explicit) from the reader over `[0]`'s contents. */
export function readDistributionPointName(dpn: DerReader, what: string): NonNullable<DistributionPoint['name']> {
  const t = dpn.peekTag();
  let name: NonNullable<DistributionPoint['name']>;
  if (t === ctxCons(0)) {
    name = { full: readGeneralNamesContents(dpn.enter(ctxCons(0), `${what} fullName`), `${what} fullName`) };
  } else if (t === ctxCons(1)) {
    name = { relative: readRdnContents(dpn.enter(ctxCons(1), `${what} nameRelativeToCRLIssuer`), `${what} nameRelativeToCRLIssuer`) };
  } else {
    throw new DerError(`${what}: expected fullName [0] or nameRelativeToCRLIssuer [1]`);
  }
  dpn.end(what);
  return name;
}

/**
 * CRLDistributionPoints syntax (RFC 5280 §4.2.1.13), used by cRLDistributionPoints and freshestCRL in
 * certificates and CRLs; at most `max` distribution points.
 */
export function decodeDistributionPoints(v: Uint8Array, what: string, max = MAX_LIST): DistributionPoint[] {
  const s = single(v, Tag.SEQUENCE, what);
  const out: DistributionPoint[] = [];
  while (!s.atEnd) {
    if (out.length >= max) throw new DerError(`${what}: too many distribution points`);
    const dp = s.enter(Tag.SEQUENCE, `${what} DistributionPoint`);
    const dpn = dp.enterOptional(ctxCons(0), `${what} distributionPoint`);
    const name = dpn === null ? null : readDistributionPointName(dpn, `${what} distributionPoint`);
    const rf = dp.readOptional(ctx(1), `${what} reasons`);
    const reasons = rf === null ? null : decodeNamedBits(rf, `${what} reasons`, 9);
    const ci = dp.enterOptional(ctxCons(2), `${what} cRLIssuer`);
    const cRLIssuer = ci === null ? null : readGeneralNamesContents(ci, `${what} cRLIssuer`);
    dp.end(`${what} DistributionPoint`);
    if (name === null && cRLIssuer === null) {
      throw new DerError(`${what}: a DistributionPoint must hold distributionPoint or cRLIssuer (RFC 5280 §4.2.1.13)`);
    }
    out.push({ name, reasons, cRLIssuer });
  }
  if (out.length === 0) throw new DerError(`${what}: must hold at least one distribution point`);
  return out;
}

/** How {@link readExtensions} names what it reads in errors, and which RFC 5280 section forbids duplicates. */
export interface ExtensionListNames {
  /** The list (`extensions`, `crlExtensions`, `crlEntryExtensions`). */
  list: string;
  /** The prefix of one extension's fields (`extension`, `crlExtensions`). */
  item: string;
  /** e.g. `§4.2`. */
  section: string;
}

/**
 * Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension (certificates, CRLs, CRL entries), from the reader
 * over the SEQUENCE's contents: at most `max`, no OID twice, `critical` FALSE not encoded (DER). An empty
 * list throws unless `allowEmpty`.
 */
export function readExtensions(list: DerReader, names: ExtensionListNames, max: number, allowEmpty = false): Extension[] {
  const { item } = names;
  const label = extensionLabels(item);
  const out: Extension[] = [];
  while (!list.atEnd) {
    if (out.length >= max) throw new DerError(`${names.list}: more than ${max}`);
    const e = list.enter(Tag.SEQUENCE, label.extension);
    const oid = decodeOid(e.read(Tag.OID, label.extnId), label.extnId);
    let critical = false;
    let value: Uint8Array;
    try {
      // Labels with the OID in them are only spelled out when something is wrong (OID_MARK below).
      const c = e.readOptional(Tag.BOOLEAN, label.critical);
      if (c !== null) {
        critical = decodeBoolean(c, label.critical);
        if (!critical) throw new DerError(`${label.critical}: FALSE is the DEFAULT and must be omitted in DER`);
      }
      value = e.read(Tag.OCTET_STRING, label.extnValue);
      e.end(label.whole);
    } catch (err) {
      if (err instanceof DerError) throw new DerError(err.message.split(OID_MARK).join(oid));
      throw err;
    }
    for (let i = 0; i < out.length; i++) {
      if (out[i]!.oid === oid) throw new DerError(`${names.list}: extension ${oid} appears more than once (RFC 5280 ${names.section})`);
    }
    out.push({ oid, critical, value });
  }
  if (out.length === 0 && !allowEmpty) throw new DerError(`${names.list}: must hold at least one extension when present`);
  return out;
}

/** Stands for the extension's OID in the labels of {@link extensionLabels}; replaced when an error is thrown. */
const OID_MARK = '\u0000oid\u0000';
const labelsByItem = new Map<string, { extension: string; extnId: string; critical: string; extnValue: string; whole: string }>();

/** The error labels of one extension, made once per list kind (no strings built per extension). */
function extensionLabels(item: string): { extension: string; extnId: string; critical: string; extnValue: string; whole: string } {
  let l = labelsByItem.get(item);
  if (l === undefined) {
    l = {
      extension: `${item} Extension`,
      extnId: `${item} extnID`,
      critical: `${item} ${OID_MARK} critical`,
      extnValue: `${item} ${OID_MARK} extnValue`,
      whole: `${item} ${OID_MARK}`,
    };
    if (labelsByItem.size < 16) labelsByItem.set(item, l);
  }
  return l;
}

function decodeAccessDescriptions(v: Uint8Array, what: string): AccessDescription[] {
  const s = single(v, Tag.SEQUENCE, what);
  const out: AccessDescription[] = [];
  while (!s.atEnd) {
    if (out.length >= MAX_LIST) throw new DerError(`${what}: too many access descriptions`);
    const ad = s.enter(Tag.SEQUENCE, `${what} AccessDescription`);
    const method = decodeOid(ad.read(Tag.OID, `${what} accessMethod`), `${what} accessMethod`);
    const location = readGeneralName(ad, `${what} accessLocation`);
    ad.end(`${what} AccessDescription`);
    out.push({ method, location });
  }
  if (out.length === 0) throw new DerError(`${what}: must hold at least one AccessDescription (RFC 5280 §4.2.2.1)`);
  return out;
}

/** RFC 1034 §3.5 preferred name syntax (with RFC 1123 digit-first labels), plus a leading `*` label. */
/** Why `name` is not a dNSName in preferred name syntax (optionally `*.`-prefixed), or null. */
export function dnsSyntaxProblem(name: string): string | null {
  if (name.length === 0) return 'is empty';
  if (name.length > 253) return 'is longer than 253 characters';
  const labels = name.split('.');
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (i === 0 && l === '*' && labels.length > 1) continue;
    if (l.length === 0) return 'has an empty label';
    if (l.length > 63) return 'has a label longer than 63 characters';
    if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/.test(l)) return 'has a character other than a letter, digit or hyphen in a label';
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return 'looks like an IP address (its last label is numeric); IP addresses belong in iPAddress';
  return null;
}

/**
 * Parse one DER certificate. Throws {@link MalformedCertificateError} (with the underlying
 * {@link DerError} as `cause` for encoding errors) when it is not a well-formed X.509 certificate.
 *
 * @example
 * const cert = parseCertificate(readPemBlocks(pem)[0].der);
 * cert.subject.key === issuer.subject.key; // RFC 5280 §7.1 name match
 */
export function parseCertificate(der: Uint8Array): Parsed {
  if (!(der instanceof Uint8Array)) throw new MalformedCertificateError('The certificate is not a byte array.');
  if (der.length > MAX_CERTIFICATE_SIZE) {
    throw new MalformedCertificateError(`The certificate is larger than ${MAX_CERTIFICATE_SIZE} bytes.`);
  }
  try {
    return parseInner(der);
  } catch (e) {
    if (e instanceof DerError) throw new MalformedCertificateError(`The certificate is malformed: ${e.message}.`, { cause: e });
    if (e instanceof MalformedCertificateError) throw e;
    /* c8 ignore next */
    throw new MalformedCertificateError('The certificate could not be parsed.', { cause: e });
  }
}

function parseInner(der: Uint8Array): Parsed {
  const top = new DerReader(der);
  const cert = top.enter(Tag.SEQUENCE, 'Certificate');
  top.end('Certificate');

  const tbs = cert.enter(Tag.SEQUENCE, 'tbsCertificate');
  const tbsDer = cert.lastFull();
  const outerAlg = readAlgorithmIdentifier(cert, 'signatureAlgorithm');
  const signature = readSignatureValue(cert);
  cert.end('Certificate');

  let version: 1 | 2 | 3 = 1;
  const ver = tbs.enterOptional(ctxCons(0), 'version');
  if (ver !== null) {
    const v = decodeUint(ver.read(Tag.INTEGER, 'version'), 'version', 255);
    ver.end('version');
    if (v === 0) throw new DerError('version: v1 is the DEFAULT and must be omitted in DER');
    if (v !== 1 && v !== 2) throw new DerError(`version: ${v + 1} is not a known certificate version`);
    version = (v + 1) as 2 | 3;
  }
  const profileProblems: string[] = [];

  const serialNumber = tbs.read(Tag.INTEGER, 'serialNumber');
  checkInteger(serialNumber, 'serialNumber');
  if (integerIsNegative(serialNumber)) {
    profileProblems.push('The serial number is negative (RFC 5280 §4.1.2.2 requires a positive integer).');
  } else if (serialNumber.length === 1 && serialNumber[0] === 0) {
    profileProblems.push('The serial number is zero (RFC 5280 §4.1.2.2 requires a positive integer).');
  } else if (serialNumber.length - (serialNumber[0] === 0 ? 1 : 0) > 20) {
    profileProblems.push('The serial number is longer than 20 octets (RFC 5280 §4.1.2.2).');
  }

  const innerAlg = readAlgorithmIdentifier(tbs, 'signature');
  if (!bytesEqual(innerAlg.full, outerAlg.full)) {
    throw new MalformedCertificateError(
      'The certificate is malformed: its signatureAlgorithm differs from the signature field inside tbsCertificate (RFC 5280 §4.1.1.2).',
    );
  }
  const issuer = readName(tbs, 'issuer');
  const validity = tbs.enter(Tag.SEQUENCE, 'validity');
  const notBefore = readTime(validity, 'validity notBefore');
  const notAfter = readTime(validity, 'validity notAfter');
  validity.end('validity');
  const subject = readName(tbs, 'subject');
  const spki = readSpki(tbs);

  let issuerUniqueId: Uint8Array | null = null;
  let subjectUniqueId: Uint8Array | null = null;
  const iu = tbs.readOptional(ctx(1), 'issuerUniqueID');
  if (iu !== null) {
    if (version === 1) throw new DerError('issuerUniqueID: not allowed in a version 1 certificate');
    issuerUniqueId = decodeBitString(iu, 'issuerUniqueID').bytes;
  }
  const su = tbs.readOptional(ctx(2), 'subjectUniqueID');
  if (su !== null) {
    if (version === 1) throw new DerError('subjectUniqueID: not allowed in a version 1 certificate');
    subjectUniqueId = decodeBitString(su, 'subjectUniqueID').bytes;
  }

  const out: Parsed = {
    der,
    tbs: tbsDer,
    version,
    serialNumber,
    tbsSignatureAlgorithm: innerAlg.alg,
    signatureAlgorithm: outerAlg.alg,
    signature,
    issuer,
    subject,
    notBefore,
    notAfter,
    spki,
    issuerUniqueId,
    subjectUniqueId,
    extensions: [],
    unknownCriticalExtensions: [],
    selfIssued: issuer.key === subject.key,
    sha256: sha256Hex(der),
    profileProblems,
  };

  const extWrap = tbs.enterOptional(ctxCons(3), 'extensions');
  if (extWrap !== null) {
    if (version !== 3) throw new DerError('extensions: only allowed in a version 3 certificate');
    const list = extWrap.enter(Tag.SEQUENCE, 'extensions');
    extWrap.end('extensions');
    out.extensions = readExtensions(list, CERT_EXTENSIONS, MAX_EXTENSIONS);
    for (const x of out.extensions) decodeExtension(out, x.oid, x.critical, x.value);
  }
  tbs.end('tbsCertificate');

  checkProfile(out);
  return out;
}

function decodeExtension(out: Parsed, oid: string, critical: boolean, value: Uint8Array): void {
  switch (oid) {
    case Ext.basicConstraints:
      out.basicConstraints = decodeBasicConstraints(value);
      return;
    case Ext.keyUsage:
      out.keyUsage = decodeKeyUsage(value);
      return;
    case Ext.extKeyUsage:
      out.extKeyUsage = decodeOidList(value, 'extKeyUsage');
      return;
    case Ext.subjectAltName:
      out.subjectAltName = decodeGeneralNames(value, 'subjectAltName');
      return;
    case Ext.issuerAltName:
      out.issuerAltName = decodeGeneralNames(value, 'issuerAltName');
      return;
    case Ext.nameConstraints:
      out.nameConstraints = decodeNameConstraints(value);
      if (!critical) out.profileProblems.push('nameConstraints is not marked critical (RFC 5280 §4.2.1.10 requires it).');
      return;
    case Ext.certificatePolicies:
      out.certificatePolicies = decodeCertificatePolicies(value);
      return;
    case Ext.policyMappings: {
      const m = decodePolicyMappings(value);
      out.policyMappings = m;
      out.policyMappingsHasAnyPolicy = m.some((x) => x.issuerDomainPolicy === ANY_POLICY || x.subjectDomainPolicy === ANY_POLICY);
      return;
    }
    case Ext.policyConstraints:
      // RFC 5280 §4.2.1.11 says CAs MUST mark it critical, but PKITS (4.8, 4.10) relies on
      // non-critical policyConstraints in valid paths, so that is not a profile problem here.
      out.policyConstraints = decodePolicyConstraints(value);
      return;
    case Ext.inhibitAnyPolicy:
      out.inhibitAnyPolicy = decodeUint(singlePrimitive(value, Tag.INTEGER, 'inhibitAnyPolicy'), 'inhibitAnyPolicy', Number.MAX_SAFE_INTEGER, true);
      return;
    case Ext.authorityKeyIdentifier:
      out.authorityKeyIdentifier = decodeAki(value);
      if (critical) out.profileProblems.push('authorityKeyIdentifier is marked critical (RFC 5280 §4.2.1.1 forbids it).');
      return;
    case Ext.subjectKeyIdentifier:
      out.subjectKeyIdentifier = singlePrimitive(value, Tag.OCTET_STRING, 'subjectKeyIdentifier');
      if (critical) out.profileProblems.push('subjectKeyIdentifier is marked critical (RFC 5280 §4.2.1.2 forbids it).');
      return;
    case Ext.cRLDistributionPoints:
      out.crlDistributionPoints = decodeDistributionPoints(value, 'cRLDistributionPoints');
      return;
    case Ext.freshestCRL:
      out.freshestCrl = decodeDistributionPoints(value, 'freshestCRL');
      return;
    case Ext.authorityInfoAccess:
      out.authorityInfoAccess = decodeAccessDescriptions(value, 'authorityInfoAccess');
      if (critical) out.profileProblems.push('authorityInfoAccess is marked critical (RFC 5280 §4.2.2.1 forbids it).');
      return;
    case Ext.subjectInfoAccess:
      out.subjectInfoAccess = decodeAccessDescriptions(value, 'subjectInfoAccess');
      if (critical) out.profileProblems.push('subjectInfoAccess is marked critical (RFC 5280 §4.2.2.2 forbids it).');
      return;
    default:
      if (critical) out.unknownCriticalExtensions.push(oid);
  }
}

function checkProfile(c: Parsed): void {
  const p = c.profileProblems;
  if (c.issuer.empty) p.push('The issuer name is empty (RFC 5280 §4.1.2.4 requires a non-empty issuer).');
  const isCa = c.basicConstraints?.ca === true;
  if (c.subject.empty) {
    if (isCa) p.push('The subject name of a CA certificate is empty (RFC 5280 §4.1.2.6).');
    const san = c.extensions.find((e) => e.oid === Ext.subjectAltName);
    if (san === undefined) p.push('The subject name is empty and there is no subjectAltName (RFC 5280 §4.1.2.6).');
    else if (!san.critical) p.push('The subject name is empty but subjectAltName is not marked critical (RFC 5280 §4.2.1.6).');
  }
  // A CA's basicConstraints that is not critical is not listed: PKITS 4.6.4 expects such an
  // intermediate to validate. (x509-limbo's root-non-critical-basic-constraints concerns a trust anchor.)
  if (c.keyUsage !== undefined && (c.keyUsage & (1 << 5)) !== 0 && !isCa) {
    p.push('keyUsage asserts keyCertSign but basicConstraints does not assert cA (RFC 5280 §4.2.1.3).');
  }
  if (c.subjectAltName !== undefined) {
    for (const gn of c.subjectAltName) {
      if (gn.type === 'dns') {
        const why = dnsSyntaxProblem(gn.value);
        if (why !== null) p.push(`The subjectAltName dNSName "${gn.value.slice(0, 80)}" ${why} (RFC 5280 §4.2.1.6).`);
      }
    }
  }
  if (c.notAfter < c.notBefore) p.push('notAfter is before notBefore.');
}

/**
 * The serial number as node:crypto (OpenSSL `BN_bn2hex`) prints a non-negative one: upper-case hex of
 * the value's octets, without the sign-only leading zero octet; zero is "0". A negative serial is
 * printed as its two's-complement content octets (node would print a minus sign).
 */
export function serialHex(serial: Uint8Array): string {
  let s = serial;
  if (s.length > 1 && s[0] === 0) s = s.subarray(1);
  if (s.length === 1 && s[0] === 0) return '0';
  return Buffer.from(s.buffer, s.byteOffset, s.byteLength).toString('hex').toUpperCase();
}
