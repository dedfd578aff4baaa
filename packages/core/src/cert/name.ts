/**
 * @module
 * X.501 Names: strict parsing into the model's {@link Name}, the RFC 5280 §7.1 comparison key, the
 * RFC 4514 string form and the attribute list of the public identity. Internal.
 *
 * Comparison (`Name.key`): two names are equal iff they have the same number of RDNs, in order, and
 * each RDN holds the same set of (type, value) pairs. Values of string types (UTF8String,
 * PrintableString, IA5String, BMPString, UniversalString, TeletexString, NumericString,
 * VisibleString) compare by their text after the basics of the RFC 4518 LDAP StringPrep profile:
 * Unicode NFKC, case folding, leading/trailing spaces removed and internal runs of whitespace
 * collapsed to one space. So PrintableString "Foo  Bar" equals UTF8String "foo bar". Values of other
 * types compare by their DER.
 */
import { DerError, DerReader, Tag, decodeOid, decodeString, isStringTag, toHex } from '../der/reader.js';
import type { NameAttribute } from '../types.js';
import type { Attribute, Name } from './model.js';
import { Attr } from './oids.js';

/** Upper bound on RDNs in one Name and attributes in one RDN (hostile input). */
const MAX_RDNS = 128;
const MAX_ATTRS_PER_RDN = 64;

/** Parse one AttributeTypeAndValue from `r`. */
function readAttribute(r: DerReader, what: string): Attribute {
  const atv = r.enter(Tag.SEQUENCE, what);
  const oid = decodeOid(atv.read(Tag.OID, `${what} type`), `${what} type`);
  const v = atv.readAny(`${what} value`);
  atv.end(what);
  return { oid, tag: v.tag, valueDer: v.full, text: decodeString(v.tag, v.value, `${what} value`) };
}

/** Parse a RelativeDistinguishedName (SET SIZE (1..MAX) OF AttributeTypeAndValue) from its SET contents. */
export function readRdnContents(set: DerReader, what: string): Attribute[] {
  const attrs: Attribute[] = [];
  while (!set.atEnd) {
    if (attrs.length >= MAX_ATTRS_PER_RDN) throw new DerError(`${what}: too many attributes in one RDN`);
    attrs.push(readAttribute(set, `${what} attribute`));
  }
  if (attrs.length === 0) throw new DerError(`${what}: an RDN must hold at least one attribute`);
  return attrs;
}

/** Parse a Name from `r` (the next element must be the Name's SEQUENCE). */
export function readName(r: DerReader, what: string): Name {
  const seq = r.enter(Tag.SEQUENCE, what);
  return parseNameContents(seq, r.lastFull(), what);
}

/** Parse a whole Name TLV. */
export function parseName(der: Uint8Array, what = 'Name'): Name {
  const r = new DerReader(der);
  const n = readName(r, what);
  r.end(what);
  return n;
}

function parseNameContents(seq: DerReader, der: Uint8Array, what: string): Name {
  const rdns: Attribute[][] = [];
  while (!seq.atEnd) {
    if (rdns.length >= MAX_RDNS) throw new DerError(`${what}: more than ${MAX_RDNS} RDNs`);
    rdns.push(readRdnContents(seq.enter(Tag.SET, `${what} RDN`), `${what} RDN`));
  }
  return { der, rdns, key: nameKey(rdns), empty: rdns.length === 0 };
}

const WS = /[\s\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/g;
// RFC 4518 §2.2 "mapped to nothing": soft hyphen, zero-width and joiner characters, variation
// selectors, BOM; and the C0/C1 controls other than whitespace.
const NOTHING = /[\u00ad\u034f\u1806\u180b-\u180d\u200b-\u200d\u2060\ufe00-\ufe0f\ufeff\u0000-\u0008\u000e-\u001f\u007f-\u0084\u0086-\u009f]/g;
// eslint-disable-next-line no-control-regex
const PLAIN_ASCII = /^[\x20-\x7e]*$/;

/** RFC 4518 basics: map, NFKC, case fold, insignificant-space handling. */
export function normalizeValue(text: string): string {
  if (PLAIN_ASCII.test(text)) {
    // Fast path (most certificates): only spaces and case.
    let s = text.toLowerCase();
    if (s.indexOf('  ') >= 0) s = s.replace(/ {2,}/g, ' ');
    if (s.length > 0 && (s.charCodeAt(0) === 0x20 || s.charCodeAt(s.length - 1) === 0x20)) s = s.trim();
    return s;
  }
  // toUpperCase→toLowerCase approximates full case folding (ß → ss, ς → σ …).
  return text
    .replace(NOTHING, '')
    .normalize('NFKC')
    .toUpperCase()
    .toLowerCase()
    .normalize('NFKC')
    .replace(WS, ' ')
    .trim();
}

function attributeKey(a: Attribute): string {
  const v = a.text !== null && isStringTag(a.tag) ? `s${normalizeValue(a.text)}` : `d${toHex(a.valueDer)}`;
  // Length-prefixed so that no value can forge a separator.
  return `${a.oid}:${v.length}:${v}`;
}

function nameKey(rdns: Attribute[][]): string {
  let key = '';
  for (const rdn of rdns) {
    let k: string;
    if (rdn.length === 1) {
      k = attributeKey(rdn[0]!);
    } else {
      const parts = rdn.map(attributeKey).sort();
      k = parts.join('+');
    }
    key += `${k.length};${k}`;
  }
  return key;
}

/** RFC 5280 §7.1 equality of two names. */
export function namesEqual(a: Name, b: Name): boolean {
  return a.key === b.key;
}

/**
 * Short names for the string forms. The RFC 4514 §3 table (CN, L, ST, O, OU, C, STREET, DC, UID),
 * plus descriptors registered for LDAP (RFC 4519, RFC 2985) that OpenSSL — and so `node:crypto` —
 * print the same way: emailAddress, serialNumber, SN, GN, title, ….
 */
const SHORT_NAMES: Record<string, string> = {
  [Attr.commonName]: 'CN',
  [Attr.locality]: 'L',
  [Attr.stateOrProvince]: 'ST',
  [Attr.organization]: 'O',
  [Attr.organizationalUnit]: 'OU',
  [Attr.country]: 'C',
  [Attr.street]: 'STREET',
  [Attr.domainComponent]: 'DC',
  [Attr.userId]: 'UID',
  [Attr.emailAddress]: 'emailAddress',
  [Attr.serialNumber]: 'serialNumber',
  [Attr.surname]: 'SN',
  [Attr.givenName]: 'GN',
  [Attr.title]: 'title',
  [Attr.initials]: 'initials',
  [Attr.generationQualifier]: 'generationQualifier',
  [Attr.dnQualifier]: 'dnQualifier',
  [Attr.pseudonym]: 'pseudonym',
  [Attr.postalCode]: 'postalCode',
  [Attr.businessCategory]: 'businessCategory',
  [Attr.organizationIdentifier]: 'organizationIdentifier',
  [Attr.name]: 'name',
};

/** The short name of an attribute type, or its dotted OID. */
export function attributeTypeName(oid: string): string {
  return SHORT_NAMES[oid] ?? oid;
}

// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["+,;<>\\\x00-\x1f\x7f]|^[# ]| $/;

/** RFC 4514 §2.4 escaping of a string value. */
export function escapeValue(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s; // most values: nothing to escape
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const code = s.charCodeAt(i);
    if (c === '"' || c === '+' || c === ',' || c === ';' || c === '<' || c === '>' || c === '\\') {
      out += `\\${c}`;
    } else if ((c === '#' && i === 0) || (c === ' ' && (i === 0 || i === s.length - 1))) {
      out += `\\${c}`;
    } else if (code < 0x20 || code === 0x7f) {
      out += `\\${code.toString(16).padStart(2, '0').toUpperCase()}`;
    } else {
      out += c;
    }
  }
  return out;
}

function attributeString(a: Attribute): string {
  const type = SHORT_NAMES[a.oid];
  // RFC 4514 §2.4: a dotted-OID type, or a value that is not a string, is written as #hex of its BER.
  if (type === undefined || a.text === null) return `${type ?? a.oid}=#${toHex(a.valueDer)}`;
  return `${type}=${escapeValue(a.text)}`;
}

/**
 * RFC 4514 string of a Name: RDNs in *reverse* encoded order (the most specific, e.g. CN, first),
 * separated by `,`, multi-valued RDN members joined by `+`. `node:crypto`'s `X509Certificate.subject`
 * lists the attributes in encoded order, one per line, and @peculiar/x509 in encoded order with `, `;
 * certgate follows RFC 4514 (the form LDAP, Go's `pkix.Name.String()` and Java's RFC2253 output use).
 * The empty Name is the empty string.
 */
export function formatName(name: Name): string {
  const parts: string[] = [];
  for (let i = name.rdns.length - 1; i >= 0; i--) parts.push(name.rdns[i]!.map(attributeString).join('+'));
  return parts.join(',');
}

/** The Name's attributes in encoded order (most significant first), for the public identity. */
export function nameAttributes(name: Name): NameAttribute[] {
  const out: NameAttribute[] = [];
  for (const rdn of name.rdns) {
    for (const a of rdn) {
      out.push({
        oid: a.oid,
        type: attributeTypeName(a.oid),
        value: a.text !== null ? a.text : `#${toHex(a.valueDer)}`,
      });
    }
  }
  return out;
}

/** The PKCS#9 emailAddress attribute values of a Name (RFC 5280 §4.2.1.10 applies rfc822Name constraints to them). */
export function emailAddresses(name: Name): string[] {
  const out: string[] = [];
  for (const rdn of name.rdns) for (const a of rdn) if (a.oid === Attr.emailAddress && a.text !== null) out.push(a.text);
  return out;
}

/** The values of every attribute with `oid`, in encoded order (e.g. commonName). */
export function attributeValues(name: Name, oid: string): string[] {
  const out: string[] = [];
  for (const rdn of name.rdns) for (const a of rdn) if (a.oid === oid && a.text !== null) out.push(a.text);
  return out;
}
