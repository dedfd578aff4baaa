/**
 * @module
 * Strict DER parser for X.509 CRLs (RFC 5280 §5) producing the internal {@link ParsedCrl} model, on
 * the same bounded {@link DerReader} as the certificate parser (no ASN.1 library on this path).
 *
 * The revoked-certificate list is parsed once into compact tables indexed by serial number, so a lookup
 * is O(1) after the parse whatever the CRL's size (a CRL with a million entries parses in well under a
 * second; see `bench/`). Parse results are cached per CRL bytes (SHA-256) in a small bounded cache.
 *
 * What is malformed (throws {@link MalformedCrlError}): any DER violation; a version other than v1
 * (absent) or v2; extensions or entry extensions in a v1 CRL; an inner signature algorithm that is not
 * byte-identical to the outer one; a duplicate CRL or entry extension; a known extension whose value does
 * not decode; an empty extensions list. Rules that do not stop the CRL from being parsed but stop it from
 * being *used* go to `problems` (a missing or critical cRLNumber, a non-critical deltaCRLIndicator or
 * issuingDistributionPoint); unknown critical CRL extensions and unknown critical entry extensions are
 * listed separately (RFC 5280 §5.2, §5.3: such a CRL must not be used).
 */
import { sha256Hex } from '../hash.js';
import { LruMap } from '../lru.js';
import {
  DerError,
  DerReader,
  Tag,
  bytesEqual,
  checkInteger,
  ctx,
  ctxCons,
  decodeBoolean,
  decodeNamedBits,
  decodeOid,
  decodeUint,
  integerIsNegative,
  readTime,
  decodeGeneralizedTime,
  decodeUtcTime,
} from '../der/reader.js';
import type { AlgorithmIdentifier, Attribute, AuthorityKeyIdentifier, DistributionPoint, GeneralName, Name } from './model.js';
import { readName } from './name.js';
import {
  type ExtensionListNames,
  decodeAki,
  decodeDistributionPoints,
  decodeGeneralNames,
  readAlgorithmIdentifier,
  readDistributionPointName,
  readExtensions,
  readSignatureValue,
  single,
  singlePrimitive,
} from './parse.js';

/** The CRL cannot be parsed; `message` is a sentence naming the field and the rule. */
export class MalformedCrlError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MalformedCrlError';
  }
}

/** Upper bound on the DER size of one CRL: 64 MiB (a million entries with 20-octet serials is about 45 MiB). */
export const MAX_CRL_SIZE = 64 * 1024 * 1024;
/** Upper bound on the number of entries of one CRL. */
export const MAX_CRL_ENTRIES = 4_000_000;
const MAX_EXTENSIONS = 64;
/** A CRL's freshestCRL holds at most this many distribution points. */
const MAX_DISTRIBUTION_POINTS = 256;
const CRL_EXTENSIONS: ExtensionListNames = { list: 'crlExtensions', item: 'crlExtensions', section: '§5.2' };
const ENTRY_EXTENSIONS: ExtensionListNames = { list: 'crlEntryExtensions', item: 'crlEntryExtensions', section: '§5.3' };

/** CRL extension OIDs (RFC 5280 §5.2) and entry extension OIDs (§5.3). */
export const CrlExt = {
  authorityKeyIdentifier: '2.5.29.35',
  issuerAltName: '2.5.29.18',
  cRLNumber: '2.5.29.20',
  deltaCRLIndicator: '2.5.29.27',
  issuingDistributionPoint: '2.5.29.28',
  freshestCRL: '2.5.29.46',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  // entry extensions
  reasonCode: '2.5.29.21',
  holdInstructionCode: '2.5.29.23',
  invalidityDate: '2.5.29.24',
  certificateIssuer: '2.5.29.29',
} as const;

/** CRLReason names (RFC 5280 §5.3.1), by code; 7 is unused. */
export const CRL_REASONS: Readonly<Record<number, string>> = Object.freeze({
  0: 'unspecified',
  1: 'keyCompromise',
  2: 'cACompromise',
  3: 'affiliationChanged',
  4: 'superseded',
  5: 'cessationOfOperation',
  6: 'certificateHold',
  8: 'removeFromCRL',
  9: 'privilegeWithdrawn',
  10: 'aACompromise',
});

/** The reason code of removeFromCRL (only meaningful in delta CRLs). */
export const REMOVE_FROM_CRL = 8;

/** issuingDistributionPoint (RFC 5280 §5.2.5). */
export interface IssuingDistributionPoint {
  /** fullName, or nameRelativeToCRLIssuer as `{ relative }`; null when absent. */
  name: { full: GeneralName[] } | { relative: Attribute[] } | null;
  onlyContainsUserCerts: boolean;
  onlyContainsCACerts: boolean;
  /** ReasonFlags bitmask (bit 1 keyCompromise … bit 8 aACompromise), null when absent. */
  onlySomeReasons: number | null;
  indirectCRL: boolean;
  onlyContainsAttributeCerts: boolean;
  /** The extension's value bytes (a delta CRL's IDP must equal its base CRL's). */
  der: Uint8Array;
}

/** One revoked-certificate entry, as {@link ParsedCrl.lookup} returns it. */
export interface CrlEntryInfo {
  /** Revocation date, ms since the epoch. */
  revocationDate: number;
  /** CRLReason code, or null when the entry has no reasonCode extension. */
  reason: number | null;
  /**
   * The certificate issuer of the entry (RFC 5280 §5.3.3): null = the CRL issuer; else the names of
   * the entry's (or a preceding entry's) certificateIssuer extension.
   */
  certificateIssuer: GeneralName[] | null;
}

/** A parsed X.509 CRL. Byte fields are views into `der`. */
export interface ParsedCrl {
  der: Uint8Array;
  /** DER of tbsCertList (what the signature covers). */
  tbs: Uint8Array;
  version: 1 | 2;
  signatureAlgorithm: AlgorithmIdentifier;
  /** signatureValue contents; empty when the BIT STRING is not octet-aligned (then it never verifies). */
  signature: Uint8Array;
  issuer: Name;
  thisUpdate: number;
  /** null when absent (RFC 5280 requires it; certgate then treats the CRL as never stale). */
  nextUpdate: number | null;
  authorityKeyIdentifier: AuthorityKeyIdentifier | null;
  issuerAltName: GeneralName[] | null;
  /** cRLNumber, or null when absent. */
  crlNumber: bigint | null;
  /** deltaCRLIndicator's BaseCRLNumber: set only for delta CRLs. */
  deltaBase: bigint | null;
  idp: IssuingDistributionPoint | null;
  freshestCrl: DistributionPoint[] | null;
  /** OIDs of critical CRL extensions certgate does not process (the CRL must then not be used). */
  unknownCriticalExtensions: string[];
  /** OIDs of critical entry extensions certgate does not process (the CRL must then not be used). */
  unknownCriticalEntryExtensions: string[];
  /** Sentences: rules the CRL breaks that stop certgate from using it (e.g. no cRLNumber). */
  problems: string[];
  /** Number of revoked-certificate entries. */
  entryCount: number;
  /** SHA-256 of `der`, lower-case hex. */
  sha256: string;
  /**
   * The entries for a serial number (the INTEGER content octets, as in a certificate), in CRL order.
   * More than one only in an indirect CRL that lists the same serial for several certificate issuers.
   */
  lookup(serial: Uint8Array): CrlEntryInfo[];
}


/** A serial number's content octets as a Map key (one UTF-16 unit per octet). */
export function serialKey(v: Uint8Array): string {
  const n = v.length;
  if (n <= 24) {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(v[i]!);
    return s;
  }
  return String.fromCharCode.apply(null, v as unknown as number[]);
}

function decodeCrlNumber(v: Uint8Array, what: string): bigint {
  const c = singlePrimitive(v, Tag.INTEGER, what);
  checkInteger(c, what);
  if (integerIsNegative(c)) throw new DerError(`${what}: must not be negative`);
  if (c.length - (c[0] === 0 ? 1 : 0) > 20) throw new DerError(`${what}: longer than 20 octets (RFC 5280 §5.2.3)`);
  let n = 0n;
  for (let i = 0; i < c.length; i++) n = (n << 8n) | BigInt(c[i]!);
  return n;
}

function idpBoolean(s: DerReader, n: number, what: string): boolean {
  const b = s.readOptional(ctx(n), what);
  if (b === null) return false;
  if (!decodeBoolean(b, what)) throw new DerError(`${what}: FALSE is the DEFAULT and must be omitted in DER`);
  return true;
}

function decodeIdp(v: Uint8Array): IssuingDistributionPoint {
  const what = 'issuingDistributionPoint';
  const s = single(v, Tag.SEQUENCE, what);
  const dpn = s.enterOptional(ctxCons(0), `${what} distributionPoint`);
  const name = dpn === null ? null : readDistributionPointName(dpn, `${what} distributionPoint`);
  const onlyContainsUserCerts = idpBoolean(s, 1, `${what} onlyContainsUserCerts`);
  const onlyContainsCACerts = idpBoolean(s, 2, `${what} onlyContainsCACerts`);
  const rf = s.readOptional(ctx(3), `${what} onlySomeReasons`);
  const onlySomeReasons = rf === null ? null : decodeNamedBits(rf, `${what} onlySomeReasons`, 9);
  const indirectCRL = idpBoolean(s, 4, `${what} indirectCRL`);
  const onlyContainsAttributeCerts = idpBoolean(s, 5, `${what} onlyContainsAttributeCerts`);
  s.end(what);
  if ([onlyContainsUserCerts, onlyContainsCACerts, onlyContainsAttributeCerts].filter(Boolean).length > 1) {
    throw new DerError(`${what}: at most one of onlyContainsUserCerts, onlyContainsCACerts and onlyContainsAttributeCerts may be TRUE (RFC 5280 §5.2.5)`);
  }
  return { name, onlyContainsUserCerts, onlyContainsCACerts, onlySomeReasons, indirectCRL, onlyContainsAttributeCerts, der: v };
}

function decodeReason(v: Uint8Array): number {
  const r = decodeUint(v, 'reasonCode', 255);
  if (r > 10 || r === 7) throw new DerError(`reasonCode: ${r} is not a CRLReason`);
  return r;
}

function sameBytes(b: Uint8Array, x: number, y: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (b[x + i] !== b[y + i]) return false;
  return true;
}

/** Compact storage of the revoked-certificate list, indexed by serial. */
class EntryTable {
  readonly index = new Map<string, number | number[]>();
  dates: number[] = [];
  reasons: number[] = [];
  /** Index into `issuers`, or -1 for the CRL issuer. */
  groups: number[] = [];
  readonly issuers: GeneralName[][] = [];

  add(k: string, date: number, reason: number, group: number): void {
    const i = this.dates.length;
    this.dates.push(date);
    this.reasons.push(reason);
    this.groups.push(group);
    const prev = this.index.get(k);
    if (prev === undefined) this.index.set(k, i);
    else if (typeof prev === 'number') this.index.set(k, [prev, i]);
    else prev.push(i);
  }

  get(serial: Uint8Array): CrlEntryInfo[] {
    const hit = this.index.get(serialKey(serial));
    if (hit === undefined) return [];
    const ids = typeof hit === 'number' ? [hit] : hit;
    return ids.map((i) => ({
      revocationDate: this.dates[i]!,
      reason: this.reasons[i]! < 0 ? null : this.reasons[i]!,
      certificateIssuer: this.groups[i]! < 0 ? null : this.issuers[this.groups[i]!]!,
    }));
  }
}

function parseInner(der: Uint8Array): ParsedCrl {
  const top = new DerReader(der);
  const cl = top.enter(Tag.SEQUENCE, 'CertificateList');
  top.end('CertificateList');
  const tbs = cl.enter(Tag.SEQUENCE, 'tbsCertList');
  const tbsDer = cl.lastFull();
  const outerAlg = readAlgorithmIdentifier(cl, 'signatureAlgorithm');
  const signature = readSignatureValue(cl);
  cl.end('CertificateList');

  let version: 1 | 2 = 1;
  const ver = tbs.readOptional(Tag.INTEGER, 'version');
  if (ver !== null) {
    const v = decodeUint(ver, 'version', 255);
    if (v === 0) throw new DerError('version: v1 is indicated by omitting the version (RFC 5280 §5.1.2.1)');
    if (v !== 1) throw new DerError(`version: ${v + 1} is not a known CRL version`);
    version = 2;
  }
  const innerAlg = readAlgorithmIdentifier(tbs, 'signature');
  if (!bytesEqual(innerAlg.full, outerAlg.full)) {
    throw new MalformedCrlError('The CRL is malformed: its signatureAlgorithm differs from the signature field inside tbsCertList (RFC 5280 §5.1.1.2).');
  }
  const issuer = readName(tbs, 'issuer');
  const thisUpdate = readTime(tbs, 'thisUpdate');
  let nextUpdate: number | null = null;
  const nt = tbs.peekTag();
  if (nt === Tag.UTCTime || nt === Tag.GeneralizedTime) nextUpdate = readTime(tbs, 'nextUpdate');

  const table = new EntryTable();
  const unknownCriticalEntry = new Set<string>();
  let entryCount = 0;
  const revoked = tbs.readOptional(Tag.SEQUENCE, 'revokedCertificates');
  if (revoked !== null) {
    let group = -1;
    // The general, strict path for one entry (any extensions).
    const general = (from: number, to: number): void => {
      const r = new DerReader(revoked, 2, from, to);
      const e = r.enter(Tag.SEQUENCE, 'revokedCertificates entry');
      r.end('revokedCertificates entry');
      const serial = e.read(Tag.INTEGER, 'revokedCertificates userCertificate');
      checkInteger(serial, 'revokedCertificates userCertificate');
      const date = readTime(e, 'revokedCertificates revocationDate');
      let reason = -1;
      if (!e.atEnd) {
        if (version !== 2) throw new DerError('crlEntryExtensions: only allowed in a version 2 CRL');
        // An empty crlEntryExtensions breaks SIZE (1..MAX) but is what @peculiar/x509 (and other
        // generators) write for an entry without extensions; it carries nothing, so it is accepted.
        const exts = readExtensions(e.enter(Tag.SEQUENCE, 'crlEntryExtensions'), ENTRY_EXTENSIONS, MAX_EXTENSIONS, true);
        for (const x of exts) {
          switch (x.oid) {
            case CrlExt.reasonCode:
              reason = decodeReason(singlePrimitive(x.value, Tag.ENUMERATED, 'reasonCode'));
              break;
            case CrlExt.invalidityDate:
              decodeGeneralizedTime(singlePrimitive(x.value, Tag.GeneralizedTime, 'invalidityDate'), 'invalidityDate');
              break;
            case CrlExt.holdInstructionCode:
              decodeOid(singlePrimitive(x.value, Tag.OID, 'holdInstructionCode'), 'holdInstructionCode');
              break;
            case CrlExt.certificateIssuer: {
              const names = decodeGeneralNames(x.value, 'certificateIssuer');
              table.issuers.push(names);
              group = table.issuers.length - 1;
              break;
            }
            default:
              if (x.critical && unknownCriticalEntry.size < 16) unknownCriticalEntry.add(x.oid);
          }
        }
      }
      e.end('revokedCertificates entry');
      table.add(serialKey(serial), date, reason, group);
    };
    // A fast path for the common shapes (no extension, or only a reasonCode), reading the bytes
    // directly; anything else goes through the general path, which applies every rule.
    const b = revoked;
    const n = b.length;
    let p = 0;
    let lastTime = -1;
    let lastTimeAt = -1;
    while (p < n) {
      if (entryCount >= MAX_CRL_ENTRIES) throw new DerError(`revokedCertificates: more than ${MAX_CRL_ENTRIES} entries`);
      if (b[p] !== 0x30 || p + 1 >= n) throw new DerError('revokedCertificates entry: expected SEQUENCE');
      let len = b[p + 1]!;
      let q = p + 2;
      if (len === 0x81 && q < n && b[q]! >= 0x80) len = b[q++]!;
      else if (len === 0x82 && q + 1 < n && b[q] !== 0) { len = (b[q]! << 8) | b[q + 1]!; q += 2; if (len < 0x100) len = -1; }
      else if (len >= 0x80) len = -1;
      const end = q + len;
      entryCount++;
      if (len < 0 || end > n) {
        // A long-form length the fast path does not read: the reader finds the entry's end (or throws).
        const r = new DerReader(b, 2, p, n);
        r.readAny('revokedCertificates entry');
        const e2 = n - r.remaining;
        general(p, e2);
        p = e2;
        continue;
      }
      const sl = b[q + 1]!;
      const ts = q + 2 + sl;
      if (b[q] !== Tag.INTEGER || sl === 0 || sl > 0x7f || ts + 15 > end || b[ts] !== Tag.UTCTime || b[ts + 1] !== 13 ||
          (sl > 1 && ((b[q + 2] === 0 && b[q + 3]! < 0x80) || (b[q + 2] === 0xff && b[q + 3]! >= 0x80)))) {
        general(p, end);
        p = end;
        continue;
      }
      let reason = -1;
      const after = ts + 15;
      if (after !== end) {
        // Exactly: SEQUENCE { SEQUENCE { OID 2.5.29.21, OCTET STRING { ENUMERATED r } } }
        if (version !== 2 || end - after !== 14 || b[after] !== 0x30 || b[after + 1] !== 12 || b[after + 2] !== 0x30 || b[after + 3] !== 10 ||
            b[after + 4] !== 0x06 || b[after + 5] !== 3 || b[after + 6] !== 0x55 || b[after + 7] !== 0x1d || b[after + 8] !== 0x15 ||
            b[after + 9] !== 0x04 || b[after + 10] !== 3 || b[after + 11] !== Tag.ENUMERATED || b[after + 12] !== 1) {
          general(p, end);
          p = end;
          continue;
        }
        reason = decodeReason(b.subarray(after + 13, after + 14));
      }
      let time: number;
      if (lastTimeAt >= 0 && sameBytes(b, lastTimeAt, ts + 2, 13)) time = lastTime;
      else {
        time = decodeUtcTime(b.subarray(ts + 2, ts + 15), 'revokedCertificates revocationDate');
        lastTime = time;
        lastTimeAt = ts + 2;
      }
      let key = '';
      for (let i = q + 2; i < ts; i++) key += String.fromCharCode(b[i]!);
      table.add(key, time, reason, group);
      p = end;
    }
  }

  const out: ParsedCrl = {
    der,
    tbs: tbsDer,
    version,
    signatureAlgorithm: outerAlg.alg,
    signature,
    issuer,
    thisUpdate,
    nextUpdate,
    authorityKeyIdentifier: null,
    issuerAltName: null,
    crlNumber: null,
    deltaBase: null,
    idp: null,
    freshestCrl: null,
    unknownCriticalExtensions: [],
    unknownCriticalEntryExtensions: [...unknownCriticalEntry],
    problems: [],
    entryCount,
    sha256: sha256Hex(der),
    lookup: (serial) => table.get(serial),
  };

  const extWrap = tbs.enterOptional(ctxCons(0), 'crlExtensions');
  if (extWrap !== null) {
    if (version !== 2) throw new DerError('crlExtensions: only allowed in a version 2 CRL');
    const exts = readExtensions(extWrap.enter(Tag.SEQUENCE, 'crlExtensions'), CRL_EXTENSIONS, MAX_EXTENSIONS);
    extWrap.end('crlExtensions');
    for (const x of exts) {
      switch (x.oid) {
        case CrlExt.authorityKeyIdentifier:
          out.authorityKeyIdentifier = decodeAki(x.value);
          break;
        case CrlExt.issuerAltName:
          out.issuerAltName = decodeGeneralNames(x.value, 'issuerAltName');
          break;
        case CrlExt.cRLNumber:
          out.crlNumber = decodeCrlNumber(x.value, 'cRLNumber');
          if (x.critical) out.problems.push('its cRLNumber extension is marked critical (RFC 5280 §5.2.3: it MUST be non-critical)');
          break;
        case CrlExt.deltaCRLIndicator:
          out.deltaBase = decodeCrlNumber(x.value, 'deltaCRLIndicator');
          if (!x.critical) out.problems.push('its deltaCRLIndicator extension is not marked critical (RFC 5280 §5.2.4)');
          break;
        case CrlExt.issuingDistributionPoint:
          out.idp = decodeIdp(x.value);
          if (!x.critical) out.problems.push('its issuingDistributionPoint extension is not marked critical (RFC 5280 §5.2.5)');
          break;
        case CrlExt.freshestCRL:
          out.freshestCrl = decodeDistributionPoints(x.value, 'freshestCRL', MAX_DISTRIBUTION_POINTS);
          break;
        case CrlExt.authorityInfoAccess:
          break;
        default:
          if (x.critical) out.unknownCriticalExtensions.push(x.oid);
      }
    }
  }
  tbs.end('tbsCertList');
  if (out.crlNumber === null) out.problems.push('it has no cRLNumber extension (RFC 5280 §5.2.3: conforming CRL issuers MUST include it)');
  if (out.deltaBase !== null && out.crlNumber !== null && out.deltaBase >= out.crlNumber) {
    out.problems.push('its BaseCRLNumber is not lower than its own cRLNumber');
  }
  if (out.nextUpdate !== null && out.nextUpdate < out.thisUpdate) out.problems.push('its nextUpdate is before its thisUpdate');
  return out;
}

/**
 * Parse one DER CRL. Throws {@link MalformedCrlError} (with the underlying DER error as `cause`) when it
 * is not a well-formed X.509 CRL or is larger than {@link MAX_CRL_SIZE}.
 */
export function parseCrl(der: Uint8Array): ParsedCrl {
  if (!(der instanceof Uint8Array)) throw new MalformedCrlError('The CRL is not a byte array.');
  if (der.length > MAX_CRL_SIZE) throw new MalformedCrlError(`The CRL is ${der.length} bytes; certgate accepts CRLs of at most ${MAX_CRL_SIZE} bytes (64 MiB).`);
  try {
    return parseInner(der);
  } catch (e) {
    if (e instanceof DerError) throw new MalformedCrlError(`The CRL is malformed: ${e.message}.`, { cause: e });
    if (e instanceof MalformedCrlError) throw e;
    /* c8 ignore next */
    throw new MalformedCrlError('The CRL could not be parsed.', { cause: e });
  }
}

/** Bounds of the parse cache: entries and total DER bytes held. */
export const CRL_CACHE_LIMITS = Object.freeze({ maxEntries: 64, maxBytes: 256 * 1024 * 1024 });

const cache = new LruMap<string, ParsedCrl>(CRL_CACHE_LIMITS.maxEntries, { of: (c) => c.der.length, max: CRL_CACHE_LIMITS.maxBytes });

/**
 * {@link parseCrl} with a bounded LRU cache keyed by the SHA-256 of the bytes, so the same CRL given to
 * several stores (every settings change builds a new store) is parsed once. Failures are not cached.
 */
export function parseCrlCached(der: Uint8Array): ParsedCrl {
  if (!(der instanceof Uint8Array)) throw new MalformedCrlError('The CRL is not a byte array.');
  if (der.length > MAX_CRL_SIZE) throw new MalformedCrlError(`The CRL is ${der.length} bytes; certgate accepts CRLs of at most ${MAX_CRL_SIZE} bytes (64 MiB).`);
  const key = sha256Hex(der);
  const hit = cache.get(key);
  if (hit) return hit;
  const parsed = parseCrl(der);
  cache.set(key, parsed);
  return parsed;
}

/** @internal For tests: empties the parse cache. */
export function clearCrlCache(): void {
  cache.clear();
}

/** @internal For tests: the number of cached parse results. */
export function crlCacheSize(): number {
  return cache.size;
}

/** One CRL found in a text: its DER, or why not. */
export interface CrlBlock {
  index: number;
  der: Uint8Array | null;
  /** Set when `der` is null. */
  problem?: string;
}

const BEGIN = '-----BEGIN X509 CRL-----';
const END = '-----END X509 CRL-----';
/** Largest PEM text scanned for CRLs: enough for a {@link MAX_CRL_SIZE} CRL in base64 with line breaks. */
export const MAX_CRL_PEM_TEXT = Math.ceil((MAX_CRL_SIZE * 4) / 3) + MAX_CRL_SIZE / 32 + 4096;
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The `X509 CRL` blocks of a PEM text (RFC 7468 §5), decoded strictly. Scans by `indexOf`, so a
 * 60 MiB PEM CRL is handled without a regular expression over the whole text.
 */
export function readCrlPemBlocks(text: string): CrlBlock[] {
  const out: CrlBlock[] = [];
  if (text.length > MAX_CRL_PEM_TEXT) {
    return [{ index: 0, der: null, problem: `The PEM text is larger than ${MAX_CRL_PEM_TEXT} characters (CRLs of at most 64 MiB are accepted).` }];
  }
  let from = 0;
  for (;;) {
    const b = text.indexOf(BEGIN, from);
    if (b < 0) break;
    const bodyStart = b + BEGIN.length;
    const e = text.indexOf(END, bodyStart);
    const index = out.length;
    if (e < 0) {
      out.push({ index, der: null, problem: `PEM block ${index + 1} has no "${END}" line.` });
      break;
    }
    const body = text.slice(bodyStart, e).replace(/\s+/g, '');
    if (body.length === 0 || body.length % 4 !== 0 || !B64.test(body) || body.includes('-----')) {
      out.push({ index, der: null, problem: `PEM block ${index + 1} is not valid base64.` });
    } else {
      const buf = Buffer.from(body, 'base64');
      out.push({ index, der: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) });
    }
    from = e + END.length;
  }
  return out;
}
