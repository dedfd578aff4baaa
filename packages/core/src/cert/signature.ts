/**
 * @module
 * Signature verification for certificates (and CRLs: anything with signed bytes, an
 * AlgorithmIdentifier and a signature) against an issuer's SubjectPublicKeyInfo, with node:crypto.
 * Internal.
 *
 * Supported: RSA PKCS#1 v1.5 (SHA-1/224/256/384/512; parameters NULL or absent, RFC 4055 §5),
 * RSASSA-PSS (RFC 4055 §3.1: hash SHA-1/224/256/384/512, MGF1 with the same hash, trailerField 1; also
 * id-RSASSA-PSS keys, whose parameters then restrict the signature), ECDSA with SHA-1/224/256/384/512
 * on named curves P-256, P-384 and P-521 (explicit curve parameters are refused, RFC 5480 §2.1.1),
 * Ed25519 and Ed448 (RFC 8410), and DSA with SHA-1/224/256 including parameter inheritance
 * (RFC 5280 §6.1.4 (k)/(l)).
 *
 * Policy: MD2 and MD5 are always `WEAK_ALGORITHM`; SHA-1 and RSA or DSA keys under 2048 bits are
 * `WEAK_ALGORITHM` unless `allowWeak`. Unknown algorithms are `UNSUPPORTED_ALGORITHM`. A key that
 * does not fit the algorithm, or a signature that does not verify, is `BAD_SIGNATURE`.
 * {@link verifySignature} never throws.
 */
import { type JsonWebKey, KeyObject, createPublicKey, verify as cryptoVerify, constants, webcrypto } from 'node:crypto';
import { DerError, DerReader, Tag, checkInteger, checkNull, ctxCons, decodeOid, decodeUint, encodeOid } from '../der/reader.js';
import { tlv } from '../der/writer.js';
import { LruMap } from '../lru.js';
import type { AlgorithmIdentifier, SubjectPublicKeyInfo } from './model.js';
import { Curve, Hash, KeyAlg, MGF1, SigAlg } from './oids.js';

/** Bytes covered by a signature, the algorithm and the signature value (a certificate or a CRL fits). */
export interface SignedData {
  /** The DER that was signed (tbsCertificate, tbsCertList). */
  tbs: Uint8Array;
  signatureAlgorithm: AlgorithmIdentifier;
  /** The signature value (BIT STRING contents without the unused-bits octet). */
  signature: Uint8Array;
}

export interface VerifySignatureOptions {
  /** Accept SHA-1 and RSA/DSA keys under 2048 bits. MD2/MD5 never pass. */
  allowWeak: boolean;
  /**
   * DSA domain parameters (the DER of the Dss-Parms SEQUENCE) inherited from up the path, used when
   * the issuer's DSA key has none (RFC 5280 §6.1.4 (k)/(l)). See {@link dsaParamsOf}.
   */
  inheritedDsaParams?: Uint8Array | null;
}

/** The outcome of {@link verifySignature}. */
export type SignatureCheck =
  | { ok: true }
  | { ok: false; code: 'BAD_SIGNATURE' | 'WEAK_ALGORITHM' | 'UNSUPPORTED_ALGORITHM'; message: string };

type HashName = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

const HASH_BY_OID: Record<string, HashName> = {
  [Hash.sha1]: 'sha1',
  [Hash.sha224]: 'sha224',
  [Hash.sha256]: 'sha256',
  [Hash.sha384]: 'sha384',
  [Hash.sha512]: 'sha512',
};

type Scheme = 'rsa' | 'pss' | 'ecdsa' | 'ed25519' | 'ed448' | 'dsa';

/** Signature OIDs: scheme and hash (null for EdDSA and for PSS, whose hash is in the parameters). */
const SIG: Record<string, { scheme: Scheme; hash: HashName | null; name: string }> = {
  [SigAlg.sha1WithRSA]: { scheme: 'rsa', hash: 'sha1', name: 'sha1WithRSAEncryption' },
  [SigAlg.sha224WithRSA]: { scheme: 'rsa', hash: 'sha224', name: 'sha224WithRSAEncryption' },
  [SigAlg.sha256WithRSA]: { scheme: 'rsa', hash: 'sha256', name: 'sha256WithRSAEncryption' },
  [SigAlg.sha384WithRSA]: { scheme: 'rsa', hash: 'sha384', name: 'sha384WithRSAEncryption' },
  [SigAlg.sha512WithRSA]: { scheme: 'rsa', hash: 'sha512', name: 'sha512WithRSAEncryption' },
  [SigAlg.rsassaPss]: { scheme: 'pss', hash: null, name: 'RSASSA-PSS' },
  [SigAlg.ecdsaWithSHA1]: { scheme: 'ecdsa', hash: 'sha1', name: 'ecdsa-with-SHA1' },
  [SigAlg.ecdsaWithSHA224]: { scheme: 'ecdsa', hash: 'sha224', name: 'ecdsa-with-SHA224' },
  [SigAlg.ecdsaWithSHA256]: { scheme: 'ecdsa', hash: 'sha256', name: 'ecdsa-with-SHA256' },
  [SigAlg.ecdsaWithSHA384]: { scheme: 'ecdsa', hash: 'sha384', name: 'ecdsa-with-SHA384' },
  [SigAlg.ecdsaWithSHA512]: { scheme: 'ecdsa', hash: 'sha512', name: 'ecdsa-with-SHA512' },
  [SigAlg.ed25519]: { scheme: 'ed25519', hash: null, name: 'Ed25519' },
  [SigAlg.ed448]: { scheme: 'ed448', hash: null, name: 'Ed448' },
  [SigAlg.dsaWithSHA1]: { scheme: 'dsa', hash: 'sha1', name: 'dsa-with-SHA1' },
  [SigAlg.dsaWithSHA224]: { scheme: 'dsa', hash: 'sha224', name: 'dsa-with-SHA224' },
  [SigAlg.dsaWithSHA256]: { scheme: 'dsa', hash: 'sha256', name: 'dsa-with-SHA256' },
};

const NEVER: Record<string, string> = {
  [SigAlg.md2WithRSA]: 'md2WithRSAEncryption',
  [SigAlg.md5WithRSA]: 'md5WithRSAEncryption',
};

const CURVES: Record<string, string> = {
  [Curve.p256]: 'P-256',
  [Curve.p384]: 'P-384',
  [Curve.p521]: 'P-521',
};

/** A readable name of a signature algorithm OID (for messages). */
export function signatureAlgorithmName(oid: string): string {
  return SIG[oid]?.name ?? NEVER[oid] ?? oid;
}

function fail(code: 'BAD_SIGNATURE' | 'WEAK_ALGORITHM' | 'UNSUPPORTED_ALGORITHM', message: string): SignatureCheck {
  return { ok: false, code, message };
}

function paramsAbsentOrNull(params: Uint8Array | null): boolean {
  return params === null || (params.length === 2 && params[0] === Tag.NULL && params[1] === 0);
}

// ---------------------------------------------------------------------------------------------
// Imported keys, cached by SPKI bytes (bounded; oldest entries evicted first).

const KEY_CACHE_MAX = 512;
const keyCache = new LruMap<string, KeyObject | null>(KEY_CACHE_MAX);

function keyFor(spkiDer: Uint8Array, spki: SubjectPublicKeyInfo | null): KeyObject | null {
  const buf = Buffer.from(spkiDer.buffer, spkiDer.byteOffset, spkiDer.byteLength);
  const id = buf.toString('base64');
  const hit = keyCache.get(id);
  if (hit !== undefined) return hit;
  let key: KeyObject | null;
  try {
    // OpenSSL 3's DER decoders are slow (~100 µs a key); the JWK path is 3-30× faster for these types.
    const jwk = spki ? jwkOf(spki) : null;
    key = jwk ? createPublicKey({ key: jwk, format: 'jwk' }) : createPublicKey({ key: buf, format: 'der', type: 'spki' });
  } catch {
    key = null;
  }
  keyCache.set(id, key);
  return key;
}

const P256_PARAMS = Buffer.from('06082a8648ce3d030107', 'hex');

/**
 * The same public key as a JWK, for the key types whose JWK import is cheaper than DER: RSA
 * (rsaEncryption, NULL parameters), Ed25519, Ed448, and P-256 with an uncompressed point (OpenSSL
 * checks the point is on the curve either way). Null for anything else, which is imported from DER.
 */
function jwkOf(spki: SubjectPublicKeyInfo): JsonWebKey | null {
  const pk = spki.publicKey;
  const b64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
  switch (spki.algorithm.oid) {
    case KeyAlg.rsaEncryption: {
      if (!paramsAbsentOrNull(spki.algorithm.params)) return null;
      const r = new DerReader(pk);
      const s = r.enter(Tag.SEQUENCE, 'RSAPublicKey');
      let n = s.read(Tag.INTEGER, 'RSAPublicKey modulus');
      let e = s.read(Tag.INTEGER, 'RSAPublicKey publicExponent');
      s.end('RSAPublicKey');
      r.end('RSAPublicKey');
      checkInteger(n, 'RSAPublicKey modulus');
      checkInteger(e, 'RSAPublicKey publicExponent');
      if (n[0]! & 0x80 || e[0]! & 0x80) return null; // negative: let the DER import refuse it
      if (n[0] === 0) n = n.subarray(1);
      if (e[0] === 0) e = e.subarray(1);
      if (n.length === 0 || e.length === 0) return null;
      return { kty: 'RSA', n: b64(n), e: b64(e) };
    }
    case KeyAlg.ed25519:
      return spki.algorithm.params === null && pk.length === 32 ? { kty: 'OKP', crv: 'Ed25519', x: b64(pk) } : null;
    case KeyAlg.ed448:
      return spki.algorithm.params === null && pk.length === 57 ? { kty: 'OKP', crv: 'Ed448', x: b64(pk) } : null;
    case KeyAlg.ecPublicKey: {
      const p = spki.algorithm.params;
      if (!p || !P256_PARAMS.equals(p) || pk.length !== 65 || pk[0] !== 4) return null;
      return { kty: 'EC', crv: 'P-256', x: b64(pk.subarray(1, 33)), y: b64(pk.subarray(33)) };
    }
    default:
      return null;
  }
}

// Key sizes per parsed SPKI object (issuers stay in memory: anchors and cached intermediates).
const keyBits = new WeakMap<SubjectPublicKeyInfo, number | null>();
function cachedKeySizeBits(spki: SubjectPublicKeyInfo): number | null {
  let b = keyBits.get(spki);
  if (b === undefined) {
    b = keySizeBits(spki);
    keyBits.set(spki, b);
  }
  return b;
}

// Imported keys per parsed SPKI object, in front of the cache by SPKI bytes (no base64 key to build).
let keyByObject = new WeakMap<SubjectPublicKeyInfo, KeyObject | null>();

// EC keys by WebCrypto's 'raw' import: OpenSSL builds the key from the point directly, about 35 µs
// cheaper than the JWK import (which assembles a legacy EC_KEY that the first verification must then
// convert). Asynchronous only, so it runs ahead of path building, for the keys it will probably need.
const EC_RAW: Record<string, { namedCurve: string; pointBytes: number }> = {
  [Curve.p256]: { namedCurve: 'P-256', pointBytes: 65 },
  [Curve.p384]: { namedCurve: 'P-384', pointBytes: 97 },
  [Curve.p521]: { namedCurve: 'P-521', pointBytes: 133 },
};
const CURVE_PARAMS = new Map(Object.keys(EC_RAW).map((oid) => [Buffer.from(tlv(Tag.OID, encodeOid(oid))).toString('latin1'), oid]));

/** At most this many keys are imported ahead per call (the rest, if needed, on first use). */
export const MAX_KEYS_IMPORTED_AHEAD = 8;

/**
 * Imports ahead, into the key caches, the EC public keys (P-256/384/521, uncompressed point) of
 * `spkis` that are not cached yet, through WebCrypto's cheaper 'raw' import; at most
 * {@link MAX_KEYS_IMPORTED_AHEAD}. Anything else, and any key this import refuses, is left to the
 * synchronous import on first use, which decides as before (so a key refused here is not refused
 * for that reason alone).
 */
export async function importKeysAhead(spkis: readonly SubjectPublicKeyInfo[]): Promise<void> {
  let imported = 0;
  for (const spki of spkis) {
    if (imported >= MAX_KEYS_IMPORTED_AHEAD) return;
    if (spki.algorithm.oid !== KeyAlg.ecPublicKey || keyByObject.has(spki)) continue;
    const p = spki.algorithm.params;
    const curve = p ? EC_RAW[CURVE_PARAMS.get(Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('latin1')) ?? ''] : undefined;
    const point = spki.publicKey;
    if (!curve || point.length !== curve.pointBytes || point[0] !== 4) continue;
    const id = Buffer.from(spki.der.buffer, spki.der.byteOffset, spki.der.byteLength).toString('base64');
    const hit = keyCache.get(id);
    if (hit !== undefined) {
      keyByObject.set(spki, hit);
      continue;
    }
    imported++;
    try {
      const key = KeyObject.from(await webcrypto.subtle.importKey('raw', point, { name: 'ECDSA', namedCurve: curve.namedCurve }, false, ['verify']));
      keyCache.set(id, key);
      keyByObject.set(spki, key);
    } catch {
      // Left to the synchronous import, which gives the verdict on this key.
    }
  }
}

/** Empty the imported-key cache (for tests and long-running processes that want to drop keys). */
export function clearKeyCache(): void {
  keyCache.clear();
  keyByObject = new WeakMap();
}

// ---------------------------------------------------------------------------------------------
// DSA parameter inheritance.

/** The DSA domain parameters (Dss-Parms SEQUENCE DER) of a DSA key, or null when absent / not DSA. */
export function dsaParamsOf(spki: SubjectPublicKeyInfo): Uint8Array | null {
  if (spki.algorithm.oid !== KeyAlg.dsa) return null;
  const p = spki.algorithm.params;
  if (p === null || paramsAbsentOrNull(p)) return null;
  return p;
}

/** True when the key is DSA and carries no parameters (it must inherit them). */
export function dsaNeedsParams(spki: SubjectPublicKeyInfo): boolean {
  return spki.algorithm.oid === KeyAlg.dsa && dsaParamsOf(spki) === null;
}

/**
 * The SubjectPublicKeyInfo DER of `spki` with `params` (a Dss-Parms DER) as its algorithm
 * parameters: the key that RFC 5280 §6.1.4 (k) says to verify with when a DSA key inherits.
 */
export function spkiWithParams(spki: SubjectPublicKeyInfo, params: Uint8Array): Uint8Array {
  const oid = tlv(Tag.OID, encodeOid(spki.algorithm.oid));
  const alg = tlv(Tag.SEQUENCE, oid, params);
  const key = tlv(Tag.BIT_STRING, Uint8Array.of(0), spki.publicKey);
  return tlv(Tag.SEQUENCE, alg, key);
}

// ---------------------------------------------------------------------------------------------
// Key sizes.

/**
 * The size of a public key in bits: the RSA modulus, the DSA prime p, the EC field size (256, 384,
 * 521), 255 / 448 for Ed25519 / Ed448. Null when the key cannot be read.
 */
export function keySizeBits(spki: SubjectPublicKeyInfo, inheritedDsaParams?: Uint8Array | null): number | null {
  try {
    switch (spki.algorithm.oid) {
      case KeyAlg.rsaEncryption:
      case KeyAlg.rsassaPss:
        return rsaModulusBits(spki.publicKey);
      case KeyAlg.dsa: {
        const params = dsaParamsOf(spki) ?? inheritedDsaParams ?? null;
        return params === null ? null : dsaPrimeBits(params);
      }
      case KeyAlg.ecPublicKey: {
        const p = spki.algorithm.params;
        if (p === null || p[0] !== Tag.OID) return null;
        const curve = decodeOid(p.subarray(2), 'namedCurve');
        return curve === Curve.p256 ? 256 : curve === Curve.p384 ? 384 : curve === Curve.p521 ? 521 : null;
      }
      case KeyAlg.ed25519:
        return 255;
      case KeyAlg.ed448:
        return 448;
      default:
        return null;
    }
  } catch {
    return null;
  }
}

function integerBits(v: Uint8Array): number {
  let i = 0;
  while (i < v.length - 1 && v[i] === 0) i++;
  const first = v[i]!;
  return (v.length - i - 1) * 8 + (first === 0 ? 0 : 32 - Math.clz32(first));
}

function rsaModulusBits(publicKey: Uint8Array): number {
  const r = new DerReader(publicKey);
  const s = r.enter(Tag.SEQUENCE, 'RSAPublicKey');
  const n = s.read(Tag.INTEGER, 'RSAPublicKey modulus');
  s.read(Tag.INTEGER, 'RSAPublicKey publicExponent');
  s.end('RSAPublicKey');
  r.end('RSAPublicKey');
  return integerBits(n);
}

function dsaPrimeBits(params: Uint8Array): number {
  const r = new DerReader(params);
  const s = r.enter(Tag.SEQUENCE, 'Dss-Parms');
  const p = s.read(Tag.INTEGER, 'Dss-Parms p');
  s.read(Tag.INTEGER, 'Dss-Parms q');
  s.read(Tag.INTEGER, 'Dss-Parms g');
  s.end('Dss-Parms');
  r.end('Dss-Parms');
  return integerBits(p);
}

// ---------------------------------------------------------------------------------------------
// RSASSA-PSS parameters (RFC 4055 §3.1).

interface PssParams {
  hash: string;
  mgfHash: string;
  saltLength: number;
}

function readHashAlg(r: DerReader, what: string): string {
  const s = r.enter(Tag.SEQUENCE, what);
  const oid = decodeOid(s.read(Tag.OID, what), what);
  if (!s.atEnd) checkNull(s.read(Tag.NULL, `${what} parameters`), `${what} parameters`);
  s.end(what);
  return oid;
}

/** Decode RSASSA-PSS-params; throws DerError on bad encoding. */
function decodePssParams(params: Uint8Array): PssParams {
  const r = new DerReader(params);
  const s = r.enter(Tag.SEQUENCE, 'RSASSA-PSS-params');
  r.end('RSASSA-PSS-params');
  let hash: string = Hash.sha1;
  let mgfHash: string = Hash.sha1;
  let saltLength = 20;
  const h = s.enterOptional(ctxCons(0), 'RSASSA-PSS-params hashAlgorithm');
  if (h !== null) {
    hash = readHashAlg(h, 'RSASSA-PSS-params hashAlgorithm');
    h.end('RSASSA-PSS-params hashAlgorithm');
  }
  const m = s.enterOptional(ctxCons(1), 'RSASSA-PSS-params maskGenAlgorithm');
  if (m !== null) {
    const mg = m.enter(Tag.SEQUENCE, 'RSASSA-PSS-params maskGenAlgorithm');
    m.end('RSASSA-PSS-params maskGenAlgorithm');
    const mgfOid = decodeOid(mg.read(Tag.OID, 'maskGenAlgorithm'), 'maskGenAlgorithm');
    if (mgfOid !== MGF1) throw new DerError(`RSASSA-PSS-params maskGenAlgorithm: ${mgfOid} is not MGF1`);
    mgfHash = readHashAlg(mg, 'MGF1 hash');
    mg.end('maskGenAlgorithm');
  }
  const sl = s.enterOptional(ctxCons(2), 'RSASSA-PSS-params saltLength');
  if (sl !== null) {
    saltLength = decodeUint(sl.read(Tag.INTEGER, 'RSASSA-PSS-params saltLength'), 'RSASSA-PSS-params saltLength', 4096);
    sl.end('RSASSA-PSS-params saltLength');
  }
  const tf = s.enterOptional(ctxCons(3), 'RSASSA-PSS-params trailerField');
  if (tf !== null) {
    const t = decodeUint(tf.read(Tag.INTEGER, 'RSASSA-PSS-params trailerField'), 'RSASSA-PSS-params trailerField', 255);
    tf.end('RSASSA-PSS-params trailerField');
    if (t !== 1) throw new DerError('RSASSA-PSS-params trailerField: must be 1 (trailerFieldBC)');
  }
  s.end('RSASSA-PSS-params');
  return { hash, mgfHash, saltLength };
}

// ---------------------------------------------------------------------------------------------

const KEY_NAMES: Record<string, string> = {
  [KeyAlg.rsaEncryption]: 'RSA',
  [KeyAlg.rsassaPss]: 'RSASSA-PSS',
  [KeyAlg.ecPublicKey]: 'EC',
  [KeyAlg.dsa]: 'DSA',
  [KeyAlg.ed25519]: 'Ed25519',
  [KeyAlg.ed448]: 'Ed448',
};

function keyName(oid: string): string {
  return KEY_NAMES[oid] ?? oid;
}

/**
 * Verify `signed` with the issuer's public key. Never throws.
 *
 * @example
 * const r = verifySignature(cert, issuer.spki, { allowWeak: false });
 * if (!r.ok) console.log(r.code, r.message);
 */
export function verifySignature(
  signed: SignedData,
  issuerSpki: SubjectPublicKeyInfo,
  options: VerifySignatureOptions,
): SignatureCheck {
  try {
    return verifyInner(signed, issuerSpki, options);
  } catch {
    return fail('BAD_SIGNATURE', 'The signature could not be checked against the issuer key (malformed key or signature).');
  }
}

function verifyInner(signed: SignedData, spki: SubjectPublicKeyInfo, options: VerifySignatureOptions): SignatureCheck {
  const algOid = signed.signatureAlgorithm.oid;
  const never = NEVER[algOid];
  if (never !== undefined) return fail('WEAK_ALGORITHM', `The signature uses ${never}, which is broken and never accepted.`);
  const alg = SIG[algOid];
  if (alg === undefined) return fail('UNSUPPORTED_ALGORITHM', `The signature algorithm ${algOid} is not supported.`);

  const keyOid = spki.algorithm.oid;
  const params = signed.signatureAlgorithm.params;
  let hash: HashName | null = alg.hash;
  let pss: PssParams | null = null;
  let keyDer: Uint8Array = spki.der;

  switch (alg.scheme) {
    case 'rsa':
      if (keyOid !== KeyAlg.rsaEncryption) return mismatch(alg.name, keyOid);
      if (!paramsAbsentOrNull(params)) return fail('BAD_SIGNATURE', `The ${alg.name} parameters must be NULL or absent (RFC 4055 §5).`);
      break;
    case 'pss': {
      if (keyOid !== KeyAlg.rsaEncryption && keyOid !== KeyAlg.rsassaPss) return mismatch(alg.name, keyOid);
      if (params === null) return fail('BAD_SIGNATURE', 'An RSASSA-PSS signature must carry RSASSA-PSS-params (RFC 4055 §3.1).');
      try {
        pss = decodePssParams(params);
      } catch (e) {
        return fail('BAD_SIGNATURE', `The RSASSA-PSS parameters are malformed: ${(e as Error).message}.`);
      }
      const h = HASH_BY_OID[pss.hash];
      if (pss.hash === Hash.md5 || pss.hash === Hash.md2) return fail('WEAK_ALGORITHM', 'The RSASSA-PSS signature uses MD5 or MD2, which is never accepted.');
      if (h === undefined) return fail('UNSUPPORTED_ALGORITHM', `The RSASSA-PSS hash ${pss.hash} is not supported.`);
      if (pss.mgfHash !== pss.hash) {
        return fail('UNSUPPORTED_ALGORITHM', 'RSASSA-PSS with an MGF1 hash different from the message hash is not supported.');
      }
      hash = h;
      if (keyOid === KeyAlg.rsassaPss && spki.algorithm.params !== null) {
        // An id-RSASSA-PSS key with parameters restricts its signatures (RFC 4055 §3.1).
        let kp: PssParams;
        try {
          kp = decodePssParams(spki.algorithm.params);
        } catch (e) {
          return fail('BAD_SIGNATURE', `The issuer's RSASSA-PSS key parameters are malformed: ${(e as Error).message}.`);
        }
        if (kp.hash !== pss.hash || kp.mgfHash !== pss.mgfHash || pss.saltLength < kp.saltLength) {
          return fail('BAD_SIGNATURE', "The RSASSA-PSS signature parameters do not match the restrictions of the issuer's RSASSA-PSS key.");
        }
      }
      break;
    }
    case 'ecdsa': {
      if (keyOid !== KeyAlg.ecPublicKey) return mismatch(alg.name, keyOid);
      if (params !== null) return fail('BAD_SIGNATURE', `The ${alg.name} parameters must be absent (RFC 5758 §3.2).`);
      const kp = spki.algorithm.params;
      if (kp === null || kp[0] !== Tag.OID) {
        return fail('UNSUPPORTED_ALGORITHM', "The issuer's EC key does not name its curve; explicit or implicit curve parameters are refused (RFC 5480 §2.1.1).");
      }
      let curve: string;
      try {
        const r = new DerReader(kp);
        curve = decodeOid(r.read(Tag.OID, 'namedCurve'), 'namedCurve');
        r.end('namedCurve');
      } catch {
        return fail('BAD_SIGNATURE', "The issuer's EC key parameters are malformed.");
      }
      if (CURVES[curve] === undefined) return fail('UNSUPPORTED_ALGORITHM', `The issuer's EC curve ${curve} is not supported (P-256, P-384 and P-521 are).`);
      break;
    }
    case 'ed25519':
    case 'ed448':
      if (keyOid !== (alg.scheme === 'ed25519' ? KeyAlg.ed25519 : KeyAlg.ed448)) return mismatch(alg.name, keyOid);
      if (params !== null) return fail('BAD_SIGNATURE', `The ${alg.name} parameters must be absent (RFC 8410 §3).`);
      if (spki.algorithm.params !== null) return fail('BAD_SIGNATURE', `The issuer's ${alg.name} key parameters must be absent (RFC 8410 §3).`);
      break;
    case 'dsa': {
      if (keyOid !== KeyAlg.dsa) return mismatch(alg.name, keyOid);
      if (params !== null) return fail('BAD_SIGNATURE', `The ${alg.name} parameters must be absent (RFC 3279 §2.2.2).`);
      if (dsaNeedsParams(spki)) {
        const inherited = options.inheritedDsaParams ?? null;
        if (inherited === null) {
          return fail('BAD_SIGNATURE', "The issuer's DSA key has no parameters and none were inherited from up the path (RFC 5280 §6.1.4 (k)).");
        }
        keyDer = spkiWithParams(spki, inherited);
      }
      break;
    }
  }

  if (hash === 'sha1' && !options.allowWeak) {
    return fail('WEAK_ALGORITHM', `The signature uses ${alg.scheme === 'pss' ? 'RSASSA-PSS with SHA-1' : alg.name}; SHA-1 signatures are refused unless weak algorithms are allowed.`);
  }
  if (!options.allowWeak && (alg.scheme === 'rsa' || alg.scheme === 'pss' || alg.scheme === 'dsa')) {
    const bits = options.inheritedDsaParams ? keySizeBits(spki, options.inheritedDsaParams) : cachedKeySizeBits(spki);
    if (bits === null) return fail('BAD_SIGNATURE', `The issuer's ${keyName(keyOid)} key is malformed.`);
    if (bits < 2048) {
      return fail('WEAK_ALGORITHM', `The issuer's ${bits}-bit ${keyName(keyOid)} key is weak (under 2048 bits); such keys are refused unless weak algorithms are allowed.`);
    }
  }

  if (signed.signature.length === 0) return fail('BAD_SIGNATURE', 'The signature value is empty or not a whole number of octets.');
  let key: KeyObject | null | undefined;
  if (keyDer === spki.der) {
    key = keyByObject.get(spki);
    if (key === undefined) {
      key = keyFor(keyDer, spki);
      keyByObject.set(spki, key);
    }
  } else {
    key = keyFor(keyDer, null);
  }
  if (key === null) return fail('BAD_SIGNATURE', `The issuer's ${keyName(keyOid)} public key could not be read.`);

  const data = signed.tbs;
  const sig = signed.signature;
  let ok: boolean;
  switch (alg.scheme) {
    case 'rsa':
      ok = cryptoVerify(hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, sig);
      break;
    case 'pss':
      ok = cryptoVerify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: pss!.saltLength }, sig);
      break;
    case 'ecdsa':
    case 'dsa':
      ok = cryptoVerify(hash, data, { key, dsaEncoding: 'der' }, sig);
      break;
    default:
      ok = cryptoVerify(null, data, key, sig);
  }
  return ok ? { ok: true } : fail('BAD_SIGNATURE', "The signature does not verify with the issuer's public key.");
}

function mismatch(algName: string, keyOid: string): SignatureCheck {
  return fail('BAD_SIGNATURE', `The signature algorithm ${algName} does not fit the issuer's ${keyName(keyOid)} key.`);
}
