/**
 * @module
 * The normalised identity of a certificate: RFC 4514 names, SANs by type, serial, fingerprints.
 */
import type { GeneralName, Name, ParsedCertificate } from './cert/model.js';
import { sha256Base64 } from './hash.js';
import { formatName, nameAttributes } from './cert/name.js';
import { serialHex } from './cert/parse.js';
import type { CertificateSummary, ClientIdentity, NameAttribute, SubjectAltNames } from './types.js';

const CN_OID = '2.5.4.3';

const HEX_UPPER = Array.from('0123456789ABCDEF', (c) => c.charCodeAt(0));
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;
  HEX_VALUE['0123456789ABCDEF'.charCodeAt(i)] = i;
}

/** Upper-case hex pairs joined by colons, as node:crypto prints fingerprints (`hex`: an even number of hex digits). */
export function colonHex(hex: string): string {
  const n = hex.length;
  if (n < 2) return hex.toUpperCase();
  // One byte buffer and one string: fingerprints are formatted for every validated leaf.
  const out = Buffer.allocUnsafe(n + (n >> 1) - 1);
  let o = 0;
  for (let i = 0; i + 1 < n; i += 2) {
    if (i > 0) out[o++] = 0x3a;
    out[o++] = HEX_UPPER[HEX_VALUE[hex.charCodeAt(i)] ?? 0]!;
    out[o++] = HEX_UPPER[HEX_VALUE[hex.charCodeAt(i + 1)] ?? 0]!;
  }
  return out.toString('latin1', 0, o);
}

// Names and summaries of certificates that stay in memory (anchors, cached intermediates) are
// computed once; the validator never mutates a parsed certificate.
const nameText = new WeakMap<Name, string>();
const summaries = new WeakMap<ParsedCertificate, Readonly<CertificateSummary>>();

const nameAttrs = new WeakMap<Name, readonly NameAttribute[]>();

function attributesOf(name: Name): readonly NameAttribute[] {
  let a = nameAttrs.get(name);
  if (a === undefined) {
    a = nameAttributes(name);
    nameAttrs.set(name, a);
  }
  return a;
}

function nameString(name: Name): string {
  let s = nameText.get(name);
  if (s === undefined) {
    s = formatName(name);
    nameText.set(name, s);
  }
  return s;
}

/** IPv4 dotted quad or RFC 5952 IPv6 text for 4 or 16 address bytes. */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) return `#${Buffer.from(bytes).toString('hex')}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  // RFC 5952 §4.2: compress the longest run (≥ 2) of zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** SANs of a certificate, by type. */
export function subjectAltNames(names: readonly GeneralName[] | undefined): SubjectAltNames {
  const san: SubjectAltNames = { dns: [], email: [], uri: [], ip: [], spiffeId: null };
  for (const n of names ?? []) {
    if (n.type === 'dns') san.dns.push(n.value);
    else if (n.type === 'email') san.email.push(n.value);
    else if (n.type === 'uri') san.uri.push(n.value);
    else if (n.type === 'ip') san.ip.push(formatIp(n.value));
  }
  const spiffe = san.uri.filter((u) => u.toLowerCase().startsWith('spiffe://'));
  san.spiffeId = spiffe.length === 1 ? spiffe[0]! : null;
  return san;
}

/**
 * The public summary of one certificate. `remember: false` for a certificate that is not kept (a
 * client's leaf): its texts are not cached (weak maps of short-lived objects cost the GC more than
 * they save).
 */
export function summarize(cert: ParsedCertificate, issuer?: ParsedCertificate, remember = true): CertificateSummary {
  let c = remember ? summaries.get(cert) : undefined;
  if (c === undefined) {
    c = {
      subject: remember ? nameString(cert.subject) : formatName(cert.subject),
      issuer: issuer && sameName(cert.issuer, issuer.subject) ? nameString(issuer.subject) : remember ? nameString(cert.issuer) : formatName(cert.issuer),
      serialNumber: serialHex(cert.serialNumber),
      notBefore: new Date(cert.notBefore),
      notAfter: new Date(cert.notAfter),
      fingerprint256: colonHex(cert.sha256),
      der: cert.der,
    };
    if (!remember) return c;
    summaries.set(cert, c);
  }
  // A fresh object per result (callers may change it), with its own Dates.
  return {
    subject: c.subject,
    issuer: c.issuer,
    serialNumber: c.serialNumber,
    notBefore: new Date(cert.notBefore),
    notAfter: new Date(cert.notAfter),
    fingerprint256: c.fingerprint256,
    der: c.der,
  };
}

/** The same encoded Name (so the same text). */
function sameName(a: Name, b: Name): boolean {
  const x = a.der;
  const y = b.der;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/**
 * The identity of a validated leaf; `path` is leaf first, trust anchor last. `leafSummary`: the
 * leaf's {@link summarize} when the caller has it already.
 */
export function identityOf(leaf: ParsedCertificate, path: readonly ParsedCertificate[], leafSummary: CertificateSummary = summarize(leaf, path[1], false)): ClientIdentity {
  const subjectAttributes = nameAttributes(leaf.subject);
  const cns = subjectAttributes.filter((a) => a.oid === CN_OID);
  return {
    subject: leafSummary.subject,
    subjectAttributes,
    issuer: leafSummary.issuer,
    // The issuer's attributes are those of its certificate's subject when the encodings are the same (computed once).
    issuerAttributes: path[1] && sameName(leaf.issuer, path[1].subject) ? attributesOf(path[1].subject).map((x) => ({ ...x })) : nameAttributes(leaf.issuer),
    commonName: cns.length > 0 ? cns[cns.length - 1]!.value : null,
    san: subjectAltNames(leaf.subjectAltName),
    serialNumber: serialHex(leaf.serialNumber),
    fingerprint256: leafSummary.fingerprint256,
    spkiSha256: sha256Base64(leaf.spki.der),
    notBefore: new Date(leaf.notBefore),
    notAfter: new Date(leaf.notAfter),
    chainFingerprints256: path.map((c, i) => (i === 0 ? leafSummary.fingerprint256 : summarize(c).fingerprint256)),
  };
}
