/**
 * @module
 * A small, strict, bounded DER reader (ITU-T X.690 §10 distinguished encoding), in the spirit of Go's
 * `cryptobyte` and rustls-webpki's `untrusted`: every read names the field it expects, returns a
 * zero-copy `Uint8Array` view, and throws a {@link DerError} naming that field on any violation.
 *
 * Tags are numbers: for the low-tag-number form (tag number < 31) the tag is the identifier octet
 * itself (`0x30` SEQUENCE, `0xa0` `[0]` constructed, …). For the high-tag-number form it is
 * `number * 256 + identifierOctet` (the identifier octet then has its low five bits set), so
 * `tag & 0xff` is always the first identifier octet and the two forms never collide.
 *
 * Internal; not exported from the package.
 */
import { LruMap } from '../lru.js';

/** A DER encoding rule was broken. `message` names the field and the rule. */
export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

/** Universal tags (identifier octets) used by certificates. */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8String: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  NumericString: 0x12,
  PrintableString: 0x13,
  TeletexString: 0x14,
  VideotexString: 0x15,
  IA5String: 0x16,
  UTCTime: 0x17,
  GeneralizedTime: 0x18,
  GraphicString: 0x19,
  VisibleString: 0x1a,
  GeneralString: 0x1b,
  UniversalString: 0x1c,
  BMPString: 0x1e,
} as const;

/** Context-specific primitive tag `[n]` (n < 31). */
export function ctx(n: number): number {
  return 0x80 | n;
}
/** Context-specific constructed tag `[n]` (n < 31). */
export function ctxCons(n: number): number {
  return 0xa0 | n;
}

/** The tag number (without class and constructed bit). */
export function tagNumber(tag: number): number {
  return (tag & 0x1f) === 0x1f ? Math.floor(tag / 256) : tag & 0x1f;
}

/** Human-readable description of a tag for error messages. */
export function describeTag(tag: number): string {
  const cls = (tag & 0xc0) >> 6;
  const num = tagNumber(tag);
  const cons = (tag & 0x20) !== 0 ? ' constructed' : '';
  if (cls === 0) {
    const names: Record<number, string> = {
      1: 'BOOLEAN', 2: 'INTEGER', 3: 'BIT STRING', 4: 'OCTET STRING', 5: 'NULL', 6: 'OBJECT IDENTIFIER',
      10: 'ENUMERATED', 12: 'UTF8String', 16: 'SEQUENCE', 17: 'SET', 18: 'NumericString',
      19: 'PrintableString', 20: 'TeletexString', 22: 'IA5String', 23: 'UTCTime', 24: 'GeneralizedTime',
      26: 'VisibleString', 28: 'UniversalString', 30: 'BMPString',
    };
    return `${names[num] ?? `universal ${num}`}${num === 16 || num === 17 ? '' : cons}`;
  }
  const prefix = cls === 2 ? '' : cls === 1 ? 'APPLICATION ' : 'PRIVATE ';
  return `[${prefix}${num}]${cons}`;
}

/** Maximum nesting depth of {@link DerReader.enter}. Certificates need about 10. */
export const MAX_DEPTH = 32;

/** One decoded TLV: its tag, the content octets and the whole encoding. */
export interface Tlv {
  tag: number;
  /** Content octets (a view). */
  value: Uint8Array;
  /** The whole TLV (a view). */
  full: Uint8Array;
}

/**
 * A cursor over a DER byte range. Readers never copy: every returned `Uint8Array` is a subarray of the
 * input. A reader for a constructed value's contents is obtained with {@link enter}; call
 * {@link end} when a structure is done to reject trailing bytes.
 */
export class DerReader {
  private pos: number;
  private readonly limit: number;
  // The TLV most recently read: tag, start of the TLV, start of its contents.
  private lastTag = -1;
  private lastStart = 0;
  private lastValue = 0;

  /** A reader over `buf[start, end)`; `depth` is the nesting level (bounded by {@link MAX_DEPTH}). */
  constructor(
    private readonly buf: Uint8Array,
    readonly depth = 0,
    start = 0,
    end = buf.length,
  ) {
    if (depth > MAX_DEPTH) throw new DerError(`DER nesting is deeper than ${MAX_DEPTH} levels`);
    this.pos = start;
    this.limit = end;
  }

  /** True when every byte has been read. */
  get atEnd(): boolean {
    return this.pos >= this.limit;
  }

  /** Bytes not yet read. */
  get remaining(): number {
    return this.limit - this.pos;
  }

  /** The tag of the next element, or -1 at the end. Validates the identifier octets. */
  peekTag(): number {
    if (this.pos >= this.limit) return -1;
    const first = this.buf[this.pos]!;
    if ((first & 0x1f) !== 0x1f) return first;
    return this.readHighTag(this.pos, 'element').tag;
  }

  private readHighTag(at: number, what: string): { tag: number; next: number } {
    const first = this.buf[at]!;
    let p = at + 1;
    let num = 0;
    for (let i = 0; ; i++) {
      if (p >= this.limit) throw new DerError(`${what}: truncated tag`);
      const b = this.buf[p++]!;
      if (i === 0 && b === 0x80) throw new DerError(`${what}: tag number is not minimally encoded`);
      if (i >= 3) throw new DerError(`${what}: tag number is too large`);
      num = num * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
    if (num < 31) throw new DerError(`${what}: tag number ${num} must use the low-tag-number form`);
    return { tag: num * 256 + first, next: p };
  }

  /** Parse the identifier and length octets of the next TLV and step over it. Returns its tag. */
  private next(what: string): number {
    const start = this.pos;
    const limit = this.limit;
    const buf = this.buf;
    if (start >= limit) throw new DerError(`${what}: missing (end of data)`);
    let tag = buf[start]!;
    let p = start + 1;
    if ((tag & 0x1f) === 0x1f) {
      const h = this.readHighTag(start, what);
      tag = h.tag;
      p = h.next;
    }
    if (p >= limit) throw new DerError(`${what}: truncated length`);
    let len = buf[p++]!;
    if (len >= 0x80) {
      if (len === 0x80) throw new DerError(`${what}: indefinite length is not allowed in DER`);
      const n = len & 0x7f;
      if (n > 4) throw new DerError(`${what}: length is too large`);
      if (p + n > limit) throw new DerError(`${what}: truncated length`);
      if (buf[p] === 0) throw new DerError(`${what}: length has a leading zero octet`);
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
      if (len < 0x80) throw new DerError(`${what}: length ${len} must use the short form`);
    }
    if (len > limit - p) {
      throw new DerError(`${what}: length ${len} is longer than the ${limit - p} bytes that remain`);
    }
    this.lastTag = tag;
    this.lastStart = start;
    this.lastValue = p;
    this.pos = p + len;
    return tag;
  }

  private expect(tag: number, what: string): void {
    if (this.next(what) !== tag) throw wrongTag(what, tag, this.lastTag);
  }

  /** Read the next TLV whatever its tag. */
  readAny(what: string): Tlv {
    const tag = this.next(what);
    return { tag, value: this.buf.subarray(this.lastValue, this.pos), full: this.buf.subarray(this.lastStart, this.pos) };
  }

  /** Read the next TLV whatever its tag; returns the whole TLV (its tag is {@link lastTagRead}). */
  readAnyFull(what: string): Uint8Array {
    this.next(what);
    return this.buf.subarray(this.lastStart, this.pos);
  }

  /** Read the next TLV, which must have `tag`; returns its content octets. */
  read(tag: number, what: string): Uint8Array {
    this.expect(tag, what);
    return this.buf.subarray(this.lastValue, this.pos);
  }

  /** Read the next TLV, which must have `tag`; returns the whole TLV. */
  readFull(tag: number, what: string): Uint8Array {
    this.expect(tag, what);
    return this.buf.subarray(this.lastStart, this.pos);
  }

  /** The whole encoding of the TLV read last (after {@link enter}, {@link read} …). */
  lastFull(): Uint8Array {
    return this.buf.subarray(this.lastStart, this.pos);
  }

  /** Like {@link read} but returns null (consuming nothing) when the next tag is not `tag`. */
  readOptional(tag: number, what: string): Uint8Array | null {
    if (this.peekTag() !== tag) return null;
    return this.read(tag, what);
  }

  /** Read a constructed element with `tag` and return a reader over its contents (no copy, no view). */
  enter(tag: number, what: string): DerReader {
    this.expect(tag, what);
    return new DerReader(this.buf, this.depth + 1, this.lastValue, this.pos);
  }

  /** Read the next element whatever its tag and return a reader over its contents; its tag is {@link lastTagRead}. */
  enterAny(what: string): DerReader {
    this.next(what);
    return new DerReader(this.buf, this.depth + 1, this.lastValue, this.pos);
  }

  /** The tag of the TLV read last. */
  get lastTagRead(): number {
    return this.lastTag;
  }

  /** Like {@link enter} but returns null when the next tag is not `tag`. */
  enterOptional(tag: number, what: string): DerReader | null {
    if (this.peekTag() !== tag) return null;
    return this.enter(tag, what);
  }

  /** A reader over `bytes` one level deeper than this one (for contents obtained with {@link read}). */
  child(bytes: Uint8Array): DerReader {
    return new DerReader(bytes, this.depth + 1);
  }

  /** Throw unless every byte has been read. */
  end(what: string): void {
    if (this.pos !== this.limit) {
      throw new DerError(`${what}: ${this.limit - this.pos} unexpected trailing byte(s)`);
    }
  }
}

function wrongTag(what: string, expected: number, found: number): DerError {
  return new DerError(`${what}: expected ${describeTag(expected)}, found ${describeTag(found)}`);
}

/** A reader over a complete DER value: `bytes` must hold exactly one TLV with `tag`. Returns its contents. */
export function readSingle(bytes: Uint8Array, tag: number, what: string): DerReader {
  const r = new DerReader(bytes);
  const inner = r.enter(tag, what);
  r.end(what);
  return inner;
}

// ---------------------------------------------------------------------------------------------
// Primitive value decoders. Each takes the content octets of a primitive TLV.

/** Check INTEGER content octets: non-empty, minimal two's complement (X.690 §8.3.2). */
export function checkInteger(v: Uint8Array, what: string): void {
  if (v.length === 0) throw new DerError(`${what}: INTEGER has no content octets`);
  if (v.length > 1) {
    const a = v[0]!;
    const b = v[1]! & 0x80;
    if ((a === 0x00 && b === 0) || (a === 0xff && b !== 0)) {
      throw new DerError(`${what}: INTEGER is not minimally encoded`);
    }
  }
}

/** True when the (checked) INTEGER content is negative. */
export function integerIsNegative(v: Uint8Array): boolean {
  return (v[0]! & 0x80) !== 0;
}

/**
 * Decode a non-negative INTEGER that must fit in a safe JS integer. Values above `max` (default
 * 2^31-1) throw unless `clamp` is set, in which case `max` is returned.
 */
export function decodeUint(v: Uint8Array, what: string, max = 0x7fffffff, clamp = false): number {
  checkInteger(v, what);
  if (integerIsNegative(v)) throw new DerError(`${what}: must not be negative`);
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    n = n * 256 + v[i]!;
    if (n > max) {
      if (clamp) return max;
      throw new DerError(`${what}: value is larger than ${max}`);
    }
  }
  return n;
}

/** Decode an INTEGER to a bigint (for serials and RSA/DSA parameters where needed). */
export function decodeBigInt(v: Uint8Array, what: string): bigint {
  checkInteger(v, what);
  let n = 0n;
  for (let i = 0; i < v.length; i++) n = (n << 8n) | BigInt(v[i]!);
  if (integerIsNegative(v)) n -= 1n << BigInt(v.length * 8);
  return n;
}

/** BOOLEAN: exactly one octet, 0x00 or 0xFF (X.690 §11.1). */
export function decodeBoolean(v: Uint8Array, what: string): boolean {
  if (v.length !== 1) throw new DerError(`${what}: BOOLEAN must have exactly one content octet`);
  if (v[0] === 0xff) return true;
  if (v[0] === 0x00) return false;
  throw new DerError(`${what}: BOOLEAN must be 0x00 or 0xFF in DER`);
}

/** NULL: no content octets. */
export function checkNull(v: Uint8Array, what: string): void {
  if (v.length !== 0) throw new DerError(`${what}: NULL must have no content octets`);
}

/** A decoded BIT STRING. */
export interface BitString {
  /** Number of unused bits in the last octet (0..7). */
  unusedBits: number;
  /** The bit octets (a view, without the unused-bits octet). */
  bytes: Uint8Array;
}

/**
 * BIT STRING (X.690 §8.6, §11.2): first octet = unused bits 0..7, 0 when there are no bits, and the
 * unused (padding) bits of the last octet are zero.
 */
export function decodeBitString(v: Uint8Array, what: string): BitString {
  if (v.length === 0) throw new DerError(`${what}: BIT STRING has no content octets`);
  const unused = v[0]!;
  if (unused > 7) throw new DerError(`${what}: BIT STRING unused-bits count ${unused} is larger than 7`);
  if (v.length === 1 && unused !== 0) throw new DerError(`${what}: empty BIT STRING must have 0 unused bits`);
  if (unused !== 0 && (v[v.length - 1]! & ((1 << unused) - 1)) !== 0) {
    throw new DerError(`${what}: BIT STRING padding bits must be zero in DER`);
  }
  return { unusedBits: unused, bytes: v.subarray(1) };
}

/** A BIT STRING that must be octet-aligned (keys, signatures): returns the octets. */
export function decodeOctetAlignedBitString(v: Uint8Array, what: string): Uint8Array {
  const b = decodeBitString(v, what);
  if (b.unusedBits !== 0) throw new DerError(`${what}: BIT STRING must be a whole number of octets`);
  return b.bytes;
}

/**
 * A named-bit-list BIT STRING (keyUsage, ReasonFlags) as a bitmask: bit 0 (the first, most
 * significant bit) = 1 << 0. Bits beyond `maxBits` must not be set. Padding bits must be zero.
 */
export function decodeNamedBits(v: Uint8Array, what: string, maxBits: number): number {
  const b = decodeBitString(v, what);
  let mask = 0;
  const bits = b.bytes.length * 8 - b.unusedBits;
  for (let i = 0; i < bits; i++) {
    if ((b.bytes[i >> 3]! & (0x80 >> (i & 7))) !== 0) {
      if (i >= maxBits) throw new DerError(`${what}: bit ${i} is not defined`);
      mask |= 1 << i;
    }
  }
  return mask;
}

/**
 * OBJECT IDENTIFIER to dotted text (X.690 §8.19): non-empty, each arc minimal base-128 (no leading
 * 0x80), the last octet ends an arc, and every arc fits a safe integer.
 */
export function decodeOid(v: Uint8Array, what: string): string {
  const n = v.length;
  // The same few dozen OIDs are in every certificate: their text is kept (by content octets).
  const h = n > 0 && n <= MAX_CACHED_OID_OCTETS ? oidHash(v) : -1;
  if (h >= 0) {
    const hit = oidCache.get(h);
    if (hit !== undefined && bytesEqual(hit.octets, v)) return hit.text;
  }
  const text = decodeOidText(v, what);
  if (h >= 0) oidCache.set(h, { octets: v.slice(), text });
  return text;
}

const MAX_CACHED_OID_OCTETS = 24;
const oidCache = new LruMap<number, { octets: Uint8Array; text: string }>(512);

/** FNV-1a over the octets, with the length folded in (a cache key; equality is checked on the octets). */
function oidHash(v: Uint8Array): number {
  let h = 0x811c9dc5 ^ v.length;
  for (let i = 0; i < v.length; i++) h = Math.imul(h ^ v[i]!, 0x01000193);
  return h >>> 0;
}

function decodeOidText(v: Uint8Array, what: string): string {
  const n = v.length;
  if (n === 0) throw new DerError(`${what}: OBJECT IDENTIFIER has no content octets`);
  if ((v[n - 1]! & 0x80) !== 0) throw new DerError(`${what}: OBJECT IDENTIFIER is truncated`);
  let out = '';
  let arc = 0;
  let first = true;
  let start = true;
  for (let i = 0; i < n; i++) {
    const b = v[i]!;
    if (start && b === 0x80) throw new DerError(`${what}: OBJECT IDENTIFIER arc is not minimally encoded`);
    start = false;
    if (arc > 0x3fffffffffff) throw new DerError(`${what}: OBJECT IDENTIFIER arc is too large`);
    arc = arc * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (first) {
        if (arc < 40) out = `0.${arc}`;
        else if (arc < 80) out = `1.${arc - 40}`;
        else out = `2.${arc - 80}`;
        first = false;
      } else {
        out += `.${arc}`;
      }
      arc = 0;
      start = true;
    }
  }
  return out;
}

/** Dotted OID text to DER content octets (constants, tests, and re-encoding a decoded OID, as signature.ts does). */
export function encodeOid(oid: string): Uint8Array {
  const parts = oid.split('.').map((p) => Number(p));
  if (parts.length < 2 || parts.some((p) => !Number.isSafeInteger(p) || p < 0)) throw new Error(`bad OID ${oid}`);
  const arcs = [parts[0]! * 40 + parts[1]!, ...parts.slice(2)];
  const out: number[] = [];
  for (const a of arcs) {
    const tmp: number[] = [];
    let x = a;
    do {
      tmp.unshift(x % 128);
      x = Math.floor(x / 128);
    } while (x > 0);
    for (let i = 0; i < tmp.length - 1; i++) tmp[i]! |= 0x80;
    out.push(...tmp);
  }
  return Uint8Array.from(out);
}

function digits(v: Uint8Array, from: number, count: number, what: string): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const c = v[i]! - 0x30;
    if (c < 0 || c > 9) throw new DerError(`${what}: time contains a non-digit`);
    n = n * 10 + c;
  }
  return n;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function toMillis(year: number, month: number, day: number, hh: number, mm: number, ss: number, what: string): number {
  if (month < 1 || month > 12) throw new DerError(`${what}: month ${month} is out of range`);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const dim = month === 2 && leap ? 29 : DAYS[month - 1]!;
  if (day < 1 || day > dim) throw new DerError(`${what}: day ${day} is out of range`);
  if (hh > 23) throw new DerError(`${what}: hour ${hh} is out of range`);
  if (mm > 59) throw new DerError(`${what}: minute ${mm} is out of range`);
  if (ss > 59) throw new DerError(`${what}: second ${ss} is out of range`);
  if (year >= 100) return Date.UTC(year, month - 1, day, hh, mm, ss);
  // Date.UTC reads a year 0–99 as 1900–1999; a GeneralizedTime year 0050 is the year 50.
  const d = new Date(Date.UTC(2000, month - 1, day, hh, mm, ss));
  d.setUTCFullYear(year);
  return d.getTime();
}

/**
 * UTCTime in the RFC 5280 §4.1.2.5.1 profile: exactly `YYMMDDHHMMSSZ`; YY 50–99 → 19YY, 00–49 → 20YY.
 * Returns milliseconds since the epoch.
 */
export function decodeUtcTime(v: Uint8Array, what: string): number {
  if (v.length !== 13 || v[12] !== 0x5a) {
    throw new DerError(`${what}: UTCTime must be YYMMDDHHMMSSZ (seconds present, UTC "Z")`);
  }
  const yy = digits(v, 0, 2, what);
  const year = yy >= 50 ? 1900 + yy : 2000 + yy;
  return toMillis(year, digits(v, 2, 2, what), digits(v, 4, 2, what), digits(v, 6, 2, what),
    digits(v, 8, 2, what), digits(v, 10, 2, what), what);
}

/**
 * GeneralizedTime in the RFC 5280 §4.1.2.5.2 profile: exactly `YYYYMMDDHHMMSSZ`. Fractional seconds
 * are refused: RFC 5280 says they MUST NOT be included, and no x509-limbo case encodes one (its
 * `validity::*-fractional` cases put the fraction in the validation time, not in the certificate).
 */
export function decodeGeneralizedTime(v: Uint8Array, what: string): number {
  if (v.length !== 15 || v[14] !== 0x5a) {
    throw new DerError(`${what}: GeneralizedTime must be YYYYMMDDHHMMSSZ (no fractional seconds, UTC "Z")`);
  }
  return toMillis(digits(v, 0, 4, what), digits(v, 4, 2, what), digits(v, 6, 2, what), digits(v, 8, 2, what),
    digits(v, 10, 2, what), digits(v, 12, 2, what), what);
}

/** Read a Time CHOICE (UTCTime | GeneralizedTime) from `r`. */
export function readTime(r: DerReader, what: string): number {
  const t = r.readAny(what);
  if (t.tag === Tag.UTCTime) return decodeUtcTime(t.value, what);
  if (t.tag === Tag.GeneralizedTime) return decodeGeneralizedTime(t.value, what);
  throw new DerError(`${what}: expected UTCTime or GeneralizedTime, found ${describeTag(t.tag)}`);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const latin1 = new TextDecoder('latin1');

function ascii(v: Uint8Array): string {
  // Callers have checked every octet is < 0x80, and ASCII decodes the same as UTF-8: the native
  // decoder is the cheapest way to a string (about 60 ns for a 16-octet value, 150 ns char by char).
  return utf8.decode(v);
}

// PrintableString (X.680 §41.4): A–Z a–z 0–9 space ' ( ) + , - . / : = ?
const PRINTABLE = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?") PRINTABLE[c.charCodeAt(0)] = 1;

/** True when `tag` is one of the string types {@link decodeString} understands. */
export function isStringTag(tag: number): boolean {
  switch (tag) {
    case Tag.UTF8String:
    case Tag.PrintableString:
    case Tag.IA5String:
    case Tag.BMPString:
    case Tag.UniversalString:
    case Tag.TeletexString:
    case Tag.NumericString:
    case Tag.VisibleString:
      return true;
    default:
      return false;
  }
}

/**
 * Decode the content octets of a string type to text, checking its character set:
 * UTF8String strict UTF-8; PrintableString, NumericString, VisibleString and IA5String their
 * X.680 alphabets; BMPString UCS-2 big-endian (well-formed surrogate pairs are accepted as UTF-16,
 * unpaired surrogates are not); UniversalString UCS-4 big-endian (no surrogates, ≤ U+10FFFF);
 * TeletexString as ISO 8859-1 (what OpenSSL, Go and browsers do in practice — T.61 proper is never
 * used). Returns null for any other tag.
 */
export function decodeString(tag: number, v: Uint8Array, what: string): string | null {
  switch (tag) {
    case Tag.UTF8String:
      try {
        return utf8.decode(v);
      } catch {
        throw new DerError(`${what}: UTF8String is not valid UTF-8`);
      }
    case Tag.PrintableString:
      for (let i = 0; i < v.length; i++) {
        const c = v[i]!;
        if (c >= 128 || PRINTABLE[c] !== 1) throw new DerError(`${what}: PrintableString contains a character outside its alphabet`);
      }
      return ascii(v);
    case Tag.IA5String:
      for (let i = 0; i < v.length; i++) {
        if (v[i]! >= 0x80) throw new DerError(`${what}: IA5String contains a non-ASCII octet`);
      }
      return ascii(v);
    case Tag.NumericString:
      for (let i = 0; i < v.length; i++) {
        const c = v[i]!;
        if (c !== 0x20 && (c < 0x30 || c > 0x39)) throw new DerError(`${what}: NumericString contains a character other than a digit or space`);
      }
      return ascii(v);
    case Tag.VisibleString:
      for (let i = 0; i < v.length; i++) {
        const c = v[i]!;
        if (c < 0x20 || c > 0x7e) throw new DerError(`${what}: VisibleString contains a non-printable character`);
      }
      return ascii(v);
    case Tag.TeletexString:
      return latin1.decode(v);
    case Tag.BMPString: {
      if (v.length % 2 !== 0) throw new DerError(`${what}: BMPString has an odd number of octets`);
      let s = '';
      for (let i = 0; i < v.length; i += 2) {
        const u = (v[i]! << 8) | v[i + 1]!;
        if (u >= 0xd800 && u <= 0xdbff) {
          const lo = i + 3 < v.length ? (v[i + 2]! << 8) | v[i + 3]! : -1;
          if (lo < 0xdc00 || lo > 0xdfff) throw new DerError(`${what}: BMPString contains an unpaired surrogate`);
          s += String.fromCharCode(u, lo);
          i += 2;
        } else if (u >= 0xdc00 && u <= 0xdfff) {
          throw new DerError(`${what}: BMPString contains an unpaired surrogate`);
        } else {
          s += String.fromCharCode(u);
        }
      }
      return s;
    }
    case Tag.UniversalString: {
      if (v.length % 4 !== 0) throw new DerError(`${what}: UniversalString length is not a multiple of 4`);
      let s = '';
      for (let i = 0; i < v.length; i += 4) {
        const cp = v[i]! * 0x1000000 + ((v[i + 1]! << 16) | (v[i + 2]! << 8) | v[i + 3]!);
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new DerError(`${what}: UniversalString contains an invalid code point`);
        s += String.fromCodePoint(cp);
      }
      return s;
    }
    default:
      return null;
  }
}

/** Decode an IA5String's content octets (SAN dNSName, rfc822Name, URI). */
export function decodeIa5(v: Uint8Array, what: string): string {
  return decodeString(Tag.IA5String, v, what)!;
}

/** Lower-case hex of bytes. */
export function toHex(v: Uint8Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
}

/** Byte equality. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
