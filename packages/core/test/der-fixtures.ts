/**
 * DER building blocks for the parser, name and signature tests: certificates are assembled field by
 * field and signed with node:crypto, so each test controls exactly the bytes it is about.
 */
import { type KeyObject, createHash, generateKeyPairSync, sign as cryptoSign, constants } from 'node:crypto';

export function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const body = concat(...parts);
  const len = body.length;
  let head: number[];
  if (len < 0x80) head = [len];
  else {
    const b: number[] = [];
    for (let x = len; x > 0; x = Math.floor(x / 256)) b.unshift(x & 0xff);
    head = [0x80 | b.length, ...b];
  }
  return concat(Uint8Array.of(tag, ...head), body);
}

export const seq = (...p: Uint8Array[]) => tlv(0x30, ...p);
export const set = (...p: Uint8Array[]) => tlv(0x31, ...p);
export const octets = (b: Uint8Array) => tlv(0x04, b);
export const NULL = Uint8Array.of(0x05, 0x00);
export const bool = (v: boolean) => Uint8Array.of(0x01, 0x01, v ? 0xff : 0x00);
export const str = (tag: number, s: string) => tlv(tag, Uint8Array.from(Buffer.from(s, tag === 0x14 ? 'latin1' : 'utf8')));
export const utf8 = (s: string) => str(0x0c, s);
export const printable = (s: string) => str(0x13, s);
export const ia5 = (s: string) => str(0x16, s);
export const bmp = (s: string) => tlv(0x1e, Uint8Array.from(Buffer.from(s, 'utf16le').swap16()));
export const bits = (b: Uint8Array, unused = 0) => tlv(0x03, Uint8Array.of(unused), b);
export const explicit = (n: number, ...p: Uint8Array[]) => tlv(0xa0 | n, ...p);
export const implicit = (n: number, content: Uint8Array) => tlv(0x80 | n, content);

export function int(v: number | bigint): Uint8Array {
  let x = BigInt(v);
  const out: number[] = [];
  if (x === 0n) out.push(0);
  else if (x > 0n) {
    while (x > 0n) {
      out.unshift(Number(x & 0xffn));
      x >>= 8n;
    }
    if (out[0]! & 0x80) out.unshift(0);
  } else {
    let n = 1;
    while (x < -(1n << BigInt(8 * n - 1))) n++;
    let y = (1n << BigInt(8 * n)) + x;
    for (let i = 0; i < n; i++) {
      out.unshift(Number(y & 0xffn));
      y >>= 8n;
    }
  }
  return tlv(0x02, Uint8Array.from(out));
}

export function oid(dotted: string): Uint8Array {
  const parts = dotted.split('.').map(Number);
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
  return tlv(0x06, Uint8Array.from(out));
}

export function utcTime(d: Date): Uint8Array {
  const s = d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  return str(0x17, s);
}
export function genTime(d: Date): Uint8Array {
  const s = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  return str(0x18, s);
}

/** A Name from RDNs; each RDN is a list of [oid, value TLV]. */
export function name(...rdns: [string, Uint8Array][][]): Uint8Array {
  return seq(...rdns.map((rdn) => set(...rdn.map(([o, v]) => seq(oid(o), v)))));
}
export const cn = (s: string, enc: (s: string) => Uint8Array = utf8) => name([['2.5.4.3', enc(s)]]);

export function ext(extOid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? seq(oid(extOid), bool(true), octets(value)) : seq(oid(extOid), octets(value));
}

export const algs = {
  sha256Rsa: seq(oid('1.2.840.113549.1.1.11'), NULL),
  sha1Rsa: seq(oid('1.2.840.113549.1.1.5'), NULL),
  md5Rsa: seq(oid('1.2.840.113549.1.1.4'), NULL),
  sha384Rsa: seq(oid('1.2.840.113549.1.1.12'), NULL),
  ecdsa256: seq(oid('1.2.840.10045.4.3.2')),
  ecdsa384: seq(oid('1.2.840.10045.4.3.3')),
  ecdsa512: seq(oid('1.2.840.10045.4.3.4')),
  ecdsa1: seq(oid('1.2.840.10045.4.1')),
  ed25519: seq(oid('1.3.101.112')),
  ed448: seq(oid('1.3.101.113')),
};

const HASH_OIDS: Record<string, string> = {
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
};

/** RSASSA-PSS AlgorithmIdentifier with explicit parameters. */
export function pssAlg(hash: 'sha1' | 'sha256' | 'sha384' | 'sha512', saltLength: number, mgfHash = hash, trailer = 1): Uint8Array {
  const h = seq(oid(HASH_OIDS[hash]!), NULL);
  const mh = seq(oid(HASH_OIDS[mgfHash]!), NULL);
  const parts: Uint8Array[] = [];
  if (hash !== 'sha1') parts.push(explicit(0, h));
  if (mgfHash !== 'sha1') parts.push(explicit(1, seq(oid('1.2.840.113549.1.1.8'), mh)));
  if (saltLength !== 20) parts.push(explicit(2, int(saltLength)));
  if (trailer !== 1) parts.push(explicit(3, int(trailer)));
  return seq(oid('1.2.840.113549.1.1.10'), seq(...parts));
}

export interface TbsOptions {
  version?: 1 | 2 | 3 | 'explicit-v1';
  serial?: Uint8Array;
  sigAlg?: Uint8Array;
  issuer?: Uint8Array;
  subject?: Uint8Array;
  notBefore?: Uint8Array;
  notAfter?: Uint8Array;
  spki: Uint8Array;
  extensions?: Uint8Array[];
  /** Raw bytes appended at the end of the TBS SEQUENCE contents. */
  trailing?: Uint8Array;
}

export function tbsCertificate(o: TbsOptions): Uint8Array {
  const parts: Uint8Array[] = [];
  const v = o.version ?? 3;
  if (v === 'explicit-v1') parts.push(explicit(0, int(0)));
  else if (v !== 1) parts.push(explicit(0, int(v - 1)));
  parts.push(o.serial ?? int(0x1234));
  parts.push(o.sigAlg ?? algs.sha256Rsa);
  parts.push(o.issuer ?? cn('Test CA'));
  parts.push(seq(o.notBefore ?? utcTime(new Date('2024-01-01T00:00:00Z')), o.notAfter ?? utcTime(new Date('2034-01-01T00:00:00Z'))));
  parts.push(o.subject ?? cn('Test Leaf'));
  parts.push(o.spki);
  if (o.extensions !== undefined) parts.push(explicit(3, seq(...o.extensions)));
  if (o.trailing) parts.push(o.trailing);
  return seq(...parts);
}

export function certificate(tbs: Uint8Array, sigAlg: Uint8Array, signature: Uint8Array, unused = 0): Uint8Array {
  return seq(tbs, sigAlg, bits(signature, unused));
}

export type KeyKind = 'rsa2048' | 'rsa1024' | 'rsa-pss' | 'p256' | 'p384' | 'p521' | 'ed25519' | 'ed448';

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  spki: Uint8Array;
}

const keyCache = new Map<KeyKind, KeyPair>();

export function keyPair(kind: KeyKind): KeyPair {
  const hit = keyCache.get(kind);
  if (hit) return hit;
  let kp: { privateKey: KeyObject; publicKey: KeyObject };
  switch (kind) {
    case 'rsa2048':
      kp = generateKeyPairSync('rsa', { modulusLength: 2048 });
      break;
    case 'rsa1024':
      kp = generateKeyPairSync('rsa', { modulusLength: 1024 });
      break;
    case 'rsa-pss':
      // @types/node 20 types saltLength as a string; node wants the number of bytes.
      kp = generateKeyPairSync('rsa-pss', { modulusLength: 2048, hashAlgorithm: 'sha256', mgf1HashAlgorithm: 'sha256', saltLength: 32 as unknown as string });
      break;
    case 'p256':
      kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      break;
    case 'p384':
      kp = generateKeyPairSync('ec', { namedCurve: 'P-384' });
      break;
    case 'p521':
      kp = generateKeyPairSync('ec', { namedCurve: 'P-521' });
      break;
    case 'ed25519':
      kp = generateKeyPairSync('ed25519');
      break;
    case 'ed448':
      kp = generateKeyPairSync('ed448');
      break;
  }
  const spki = new Uint8Array(kp.publicKey.export({ format: 'der', type: 'spki' }));
  const out = { ...kp, spki };
  keyCache.set(kind, out);
  return out;
}

/** Sign `tbs` the way `sigAlg` says (the caller picks a matching pair). */
export function signWith(
  tbs: Uint8Array,
  key: KeyObject,
  how: { hash: string | null; pssSalt?: number },
): Uint8Array {
  if (how.pssSalt !== undefined) {
    return new Uint8Array(cryptoSign(how.hash, tbs, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: how.pssSalt }));
  }
  if (how.hash === null) return new Uint8Array(cryptoSign(null, tbs, key));
  return new Uint8Array(cryptoSign(how.hash, tbs, { key, dsaEncoding: 'der' }));
}

/** A complete signed certificate: subject key `subjectKey`, signed by `issuerKey` with `sigAlg`. */
export function makeCert(
  o: Omit<TbsOptions, 'spki' | 'sigAlg'> & { spki?: Uint8Array },
  issuerKey: KeyObject,
  sigAlg: Uint8Array,
  how: { hash: string | null; pssSalt?: number },
): { der: Uint8Array; tbs: Uint8Array } {
  const tbs = tbsCertificate({ ...o, spki: o.spki ?? keyPair('p256').spki, sigAlg });
  return { der: certificate(tbs, sigAlg, signWith(tbs, issuerKey, how)), tbs };
}

export function sha256hex(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}
