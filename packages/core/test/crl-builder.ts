/**
 * A raw DER CRL builder for the revocation tests: everything `ca.createCrl` of `@certgate/core/testing`
 * does not offer (issuingDistributionPoint, indirect CRLs with certificateIssuer entries, delta CRLs,
 * critical or missing cRLNumber, unknown critical extensions, a signature by another key, v1 CRLs, a
 * million entries). Signs with node:crypto; test-only.
 */
import { sign, type KeyObject } from 'node:crypto';
import { concat, ctx, int, octets, oid, seq, tlv } from '../src/testing/der.js';
import type { TestCertificate } from '@certgate/core/testing';
import { parseCertificate } from '../src/cert/parse.js';

export interface BuiltEntry {
  /** Hex serial (as `TestCertificate.serialNumber`) or the certificate. */
  serial: string | TestCertificate;
  date?: Date;
  reason?: number;
  /** DER of a Name: a certificateIssuer entry extension (critical) naming that issuer. */
  certificateIssuer?: Uint8Array;
  /** Extra entry extensions. */
  extensions?: RawExt[];
}

export interface RawExt {
  oid: string;
  critical: boolean;
  value: Uint8Array;
}

export interface IdpSpec {
  /** fullName directory names (Name DER) and/or URIs. */
  dn?: Uint8Array[];
  uri?: string[];
  onlyContainsUserCerts?: boolean;
  onlyContainsCACerts?: boolean;
  /** ReasonFlags as bit numbers (1 keyCompromise, 2 cACompromise, … 8 aACompromise). */
  onlySomeReasons?: number[];
  indirectCRL?: boolean;
  critical?: boolean;
}

export interface BuildCrlOptions {
  thisUpdate: Date;
  /** null leaves it out. Default thisUpdate + 7 days. */
  nextUpdate?: Date | null;
  entries?: BuiltEntry[];
  /** null leaves cRLNumber out. Default 1. */
  crlNumber?: number | bigint | null;
  crlNumberCritical?: boolean;
  /** Makes it a delta CRL with this BaseCRLNumber (critical deltaCRLIndicator). */
  deltaBase?: number;
  idp?: IdpSpec;
  /** freshestCRL pointing at the issuer's name. */
  freshest?: boolean;
  extensions?: RawExt[];
  /** Sign with another key (the "wrong key" case); the issuer name stays. */
  signingKey?: KeyObject;
  /** Issuer name DER override (default: the issuer certificate's subject). */
  issuerName?: Uint8Array;
  /** v1 CRL: no version field and no extensions at all. */
  v1?: boolean;
  /** AKI from the issuer's SKI. Default true. */
  aki?: boolean;
}

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));
const SHA256_RSA = seq(oid('1.2.840.113549.1.1.11'), new Uint8Array([0x05, 0x00]));

function time(d: Date): Uint8Array {
  const iso = d.toISOString();
  const y = d.getUTCFullYear();
  const body = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  if (y >= 1950 && y < 2050) return tlv(0x17, new TextEncoder().encode(body.slice(2)));
  return tlv(0x18, new TextEncoder().encode(body));
}

function ext(e: RawExt): Uint8Array {
  return seq(oid(e.oid), ...(e.critical ? [new Uint8Array([0x01, 0x01, 0xff])] : []), octets(e.value));
}

function serialBytes(s: string | TestCertificate): Uint8Array {
  const hex = typeof s === 'string' ? s : s.serialNumber;
  return int(Uint8Array.from(Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex')));
}

function reasonFlags(bitsSet: number[]): Uint8Array {
  let max = 0;
  for (const b of bitsSet) max = Math.max(max, b);
  const nbytes = Math.floor(max / 8) + 1;
  const bytes = new Uint8Array(nbytes);
  for (const b of bitsSet) bytes[b >> 3]! |= 0x80 >> (b & 7);
  const unused = nbytes * 8 - (max + 1);
  return concat([new Uint8Array([unused]), bytes]);
}

/** A DistributionPointName [0] with a fullName of these names. */
export function fullName(dn: Uint8Array[] = [], uri: string[] = []): Uint8Array {
  return ctx(0, ctx(0, concat([...dn.map((d) => ctx(4, d)), ...uri.map((u) => tlv(0x86, new TextEncoder().encode(u)))])));
}

/** A cRLDistributionPoints extension value: one point with optional name, cRLIssuer (Name DER) and reasons. */
export function crlDpValue(points: { dn?: Uint8Array[]; uri?: string[]; crlIssuer?: Uint8Array; reasons?: number[] }[]): Uint8Array {
  return seq(
    ...points.map((p) =>
      seq(
        ...(p.dn || p.uri ? [fullName(p.dn, p.uri)] : []),
        ...(p.reasons ? [tlv(0x81, reasonFlags(p.reasons))] : []),
        ...(p.crlIssuer ? [ctx(2, ctx(4, p.crlIssuer))] : []),
      ),
    ),
  );
}

function idpValue(s: IdpSpec): Uint8Array {
  const parts: Uint8Array[] = [];
  if (s.dn || s.uri) parts.push(fullName(s.dn, s.uri));
  if (s.onlyContainsUserCerts) parts.push(new Uint8Array([0x81, 0x01, 0xff]));
  if (s.onlyContainsCACerts) parts.push(new Uint8Array([0x82, 0x01, 0xff]));
  if (s.onlySomeReasons) parts.push(tlv(0x83, reasonFlags(s.onlySomeReasons)));
  if (s.indirectCRL) parts.push(new Uint8Array([0x84, 0x01, 0xff]));
  return seq(...parts);
}

/** The Name DER of a certificate's subject. */
export function subjectDer(cert: TestCertificate): Uint8Array {
  return parseCertificate(cert.der).subject.der;
}

/** Entries encoded once; for the large-CRL test. */
export function encodeEntries(entries: BuiltEntry[]): Uint8Array {
  const out: Uint8Array[] = [];
  for (const e of entries) {
    const exts: RawExt[] = [];
    if (e.reason !== undefined) exts.push({ oid: '2.5.29.21', critical: false, value: tlv(0x0a, new Uint8Array([e.reason])) });
    if (e.certificateIssuer) exts.push({ oid: '2.5.29.29', critical: true, value: seq(ctx(4, e.certificateIssuer)) });
    exts.push(...(e.extensions ?? []));
    out.push(seq(serialBytes(e.serial), time(e.date ?? new Date(0)), ...(exts.length ? [seq(...exts.map(ext))] : [])));
  }
  return tlv(0x30, concat(out));
}

/** Builds and signs a CRL as `issuer` (DER). */
export function buildCrl(issuer: TestCertificate, o: BuildCrlOptions, encodedEntries?: Uint8Array): Uint8Array {
  const parsed = parseCertificate(issuer.der);
  const key = o.signingKey ?? issuer.key;
  const isEc = key.asymmetricKeyType === 'ec';
  const alg = isEc ? ECDSA_SHA256 : SHA256_RSA;
  const exts: RawExt[] = [];
  if (!o.v1) {
    if (o.aki !== false && parsed.subjectKeyIdentifier) exts.push({ oid: '2.5.29.35', critical: false, value: seq(tlv(0x80, parsed.subjectKeyIdentifier)) });
    if (o.crlNumber !== null) exts.push({ oid: '2.5.29.20', critical: o.crlNumberCritical ?? false, value: int(BigInt(o.crlNumber ?? 1)) });
    if (o.deltaBase !== undefined) exts.push({ oid: '2.5.29.27', critical: true, value: int(o.deltaBase) });
    if (o.idp) exts.push({ oid: '2.5.29.28', critical: o.idp.critical ?? true, value: idpValue(o.idp) });
    if (o.freshest) exts.push({ oid: '2.5.29.46', critical: false, value: seq(seq(fullName([parsed.subject.der]))) });
    exts.push(...(o.extensions ?? []));
  }
  const entries = o.entries && o.entries.length > 0 ? (encodedEntries ?? encodeEntries(o.entries)) : encodedEntries;
  const next = o.nextUpdate === undefined ? new Date(o.thisUpdate.getTime() + 7 * 86_400_000) : o.nextUpdate;
  const tbs = seq(
    ...(o.v1 ? [] : [int(1)]),
    alg,
    o.issuerName ?? parsed.subject.der,
    time(o.thisUpdate),
    ...(next ? [time(next)] : []),
    ...(entries ? [entries] : []),
    ...(exts.length ? [ctx(0, seq(...exts.map(ext)))] : []),
  );
  const sig = sign(isEc ? 'sha256' : 'sha256', tbs, key);
  return seq(tbs, alg, tlv(0x03, concat([new Uint8Array([0]), new Uint8Array(sig)])));
}

/** PEM of a DER CRL. */
export function crlPem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').match(/.{1,64}/g)!.join('\n');
  return `-----BEGIN X509 CRL-----\n${b64}\n-----END X509 CRL-----\n`;
}
