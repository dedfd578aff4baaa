/**
 * @module
 * DER encoders for the X.509 extensions @peculiar/x509 has no builder for (name constraints, policy
 * mappings and constraints, inhibitAnyPolicy, CRL number). Each returns a {@link RawExtension} that
 * `IssueOptions.extensions` accepts, so tests can also build odd variants (non-critical name
 * constraints, …) on purpose.
 */
import { isIPv4, isIPv6 } from 'node:net';
import 'reflect-metadata';
import { Name } from '@peculiar/x509';
import { concat, ctx, ia5, int, oid, seq, set, tlv, utf8 } from './der.js';

/** An extension given as raw DER: `der` is the extnValue contents (the extension's own value). */
export interface RawExtension {
  oid: string;
  critical: boolean;
  der: Uint8Array;
}

/** Subtrees of a name constraint. `ip` entries are CIDRs (`10.0.0.0/8`, `fd00::/8`); `dn` entries are DN strings. */
export interface NameSubtrees {
  dns?: string[];
  email?: string[];
  uri?: string[];
  ip?: string[];
  dn?: string[];
}

export interface NameConstraintsSpec {
  permitted?: NameSubtrees;
  excluded?: NameSubtrees;
}

export const OID = Object.freeze({
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  cRLNumber: '2.5.29.20',
  nameConstraints: '2.5.29.30',
  crlDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  authorityKeyIdentifier: '2.5.29.35',
  policyConstraints: '2.5.29.36',
  extKeyUsage: '2.5.29.37',
  inhibitAnyPolicy: '2.5.29.54',
  anyPolicy: '2.5.29.32.0',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  /** A private-enterprise OID no validator knows; used for "unknown critical extension" certificates. */
  unknownTestExtension: '1.3.6.1.4.1.55555.1.1',
});

/** authorityInfoAccess (non-critical) with one id-ad-ocsp uniformResourceIdentifier per URL. */
export function ocspAccessExtension(urls: string[]): RawExtension {
  const ad = (u: string) => seq(oid('1.3.6.1.5.5.7.48.1'), tlv(0x86, new TextEncoder().encode(u)));
  return { oid: '1.3.6.1.5.5.7.1.1', critical: false, der: seq(...urls.map(ad)) };
}

/** IPv4/IPv6 text → 4 or 16 bytes. Throws on anything else. */
export function ipToBytes(ip: string): Uint8Array {
  if (isIPv4(ip)) return new Uint8Array(ip.split('.').map(Number));
  if (!isIPv6(ip) || ip.includes('.')) throw new TypeError(`@certgate/core/testing: not an IP address: ${ip}`);
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

function cidrToBytes(cidr: string): Uint8Array {
  const [addr, lenText] = cidr.split('/');
  const bytes = ipToBytes(addr ?? '');
  const len = lenText === undefined ? bytes.length * 8 : Number(lenText);
  if (!Number.isInteger(len) || len < 0 || len > bytes.length * 8) {
    throw new TypeError(`@certgate/core/testing: bad CIDR prefix in ${cidr}`);
  }
  const mask = new Uint8Array(bytes.length);
  for (let i = 0; i < len; i++) mask[i >> 3]! |= 0x80 >> (i & 7);
  return concat([bytes.map((b, i) => b & mask[i]!), mask]);
}

/** DER of an X.501 Name from a DN string (`CN=x, O=y`), as @peculiar/x509 encodes it. */
export function nameDer(dn: string): Uint8Array {
  return new Uint8Array(new Name(dn).toArrayBuffer());
}

const NAME_TYPES: Record<string, string> = {
  CN: '2.5.4.3',
  SN: '2.5.4.4',
  SERIALNUMBER: '2.5.4.5',
  C: '2.5.4.6',
  L: '2.5.4.7',
  ST: '2.5.4.8',
  STREET: '2.5.4.9',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  DC: '0.9.2342.19200300.100.1.25',
  UID: '0.9.2342.19200300.100.1.1',
  E: '1.2.840.113549.1.9.1',
  emailAddress: '1.2.840.113549.1.9.1',
};

/**
 * DER of a Name built attribute by attribute, one RDN each, in the given (encoded) order, most
 * significant first: `[{ type: 'O', value: 'Example' }, { type: 'CN', value: 'Smith, John' }]`.
 * Values are taken literally (no DN-string escaping), so any text is safe. Strings are UTF8String,
 * except C (PrintableString) and emailAddress / DC (IA5String). `type` is a short name or a dotted OID.
 */
export function encodeName(attributes: { type: string; value: string }[]): Uint8Array {
  return seq(
    ...attributes.map(({ type, value }) => {
      const attrOid = NAME_TYPES[type] ?? (/^\d+(\.\d+)+$/.test(type) ? type : undefined);
      if (!attrOid) throw new TypeError(`@certgate/core/testing: unknown name attribute type ${JSON.stringify(type)}`);
      const v =
        attrOid === '2.5.4.6'
          ? tlv(0x13, new TextEncoder().encode(value))
          : attrOid === NAME_TYPES.E || attrOid === NAME_TYPES.DC
            ? ia5(value)
            : utf8(value);
      return set(seq(oid(attrOid), v));
    }),
  );
}

function subtrees(s: NameSubtrees): Uint8Array {
  const enc = new TextEncoder();
  const names: Uint8Array[] = [
    ...(s.email ?? []).map((v) => tlv(0x81, enc.encode(v))),
    ...(s.dns ?? []).map((v) => tlv(0x82, enc.encode(v))),
    ...(s.dn ?? []).map((v) => ctx(4, nameDer(v))),
    ...(s.uri ?? []).map((v) => tlv(0x86, enc.encode(v))),
    ...(s.ip ?? []).map((v) => tlv(0x87, cidrToBytes(v))),
  ];
  return concat(names.map((n) => seq(n)));
}

/** nameConstraints (RFC 5280 §4.2.1.10), critical by default as the RFC requires. */
export function nameConstraintsExtension(spec: NameConstraintsSpec, critical = true): RawExtension {
  const parts: Uint8Array[] = [];
  if (spec.permitted) parts.push(ctx(0, subtrees(spec.permitted)));
  if (spec.excluded) parts.push(ctx(1, subtrees(spec.excluded)));
  return { oid: OID.nameConstraints, critical, der: seq(...parts) };
}

/** policyMappings (§4.2.1.5): pairs of [issuerDomainPolicy, subjectDomainPolicy]. Critical by default. */
export function policyMappingsExtension(mappings: [string, string][], critical = true): RawExtension {
  return { oid: OID.policyMappings, critical, der: seq(...mappings.map(([i, s]) => seq(oid(i), oid(s)))) };
}

/** policyConstraints (§4.2.1.11). Critical by default (the RFC says MUST). */
export function policyConstraintsExtension(
  spec: { requireExplicitPolicy?: number; inhibitPolicyMapping?: number },
  critical = true,
): RawExtension {
  const parts: Uint8Array[] = [];
  // IMPLICIT INTEGER: keep the INTEGER's content octets, replace its tag.
  if (spec.requireExplicitPolicy !== undefined) parts.push(tlv(0x80, int(spec.requireExplicitPolicy).subarray(2)));
  if (spec.inhibitPolicyMapping !== undefined) parts.push(tlv(0x81, int(spec.inhibitPolicyMapping).subarray(2)));
  return { oid: OID.policyConstraints, critical, der: seq(...parts) };
}

/** inhibitAnyPolicy (§4.2.1.14). Critical by default (MUST). */
export function inhibitAnyPolicyExtension(skipCerts: number, critical = true): RawExtension {
  return { oid: OID.inhibitAnyPolicy, critical, der: int(skipCerts) };
}

/** An extension with an OID nobody knows; critical by default, so RFC 5280 validators must reject the certificate. */
export function unknownExtension(critical = true, extnOid: string = OID.unknownTestExtension): RawExtension {
  return { oid: extnOid, critical, der: new Uint8Array([0x05, 0x00]) };
}

/** cRLNumber (RFC 5280 §5.2.3), non-critical. */
export function crlNumberExtension(n: number | bigint): RawExtension {
  return { oid: OID.cRLNumber, critical: false, der: int(n) };
}
