import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCertificate, parseSpki, readAlgorithmIdentifier } from '../src/cert/parse.js';
import { DerReader, Tag, decodeBitString } from '../src/der/reader.js';
import {
  MAX_KEYS_IMPORTED_AHEAD,
  clearKeyCache,
  dsaNeedsParams,
  importKeysAhead,
  dsaParamsOf,
  keySizeBits,
  spkiWithParams,
  verifySignature,
} from '../src/cert/signature.js';
import { type KeyKind, NULL, algs, explicit, keyPair, makeCert, oid, pssAlg, seq } from './der-fixtures.js';

const STRICT = { allowWeak: false };
const WEAK = { allowWeak: true };

interface Case {
  name: string;
  key: KeyKind;
  alg: Uint8Array;
  how: { hash: string | null; pssSalt?: number };
}

const CASES: Case[] = [
  { name: 'RSA 2048 PKCS#1 v1.5 SHA-256', key: 'rsa2048', alg: algs.sha256Rsa, how: { hash: 'sha256' } },
  { name: 'RSA 2048 PKCS#1 v1.5 SHA-384', key: 'rsa2048', alg: algs.sha384Rsa, how: { hash: 'sha384' } },
  { name: 'RSA 2048 PKCS#1 v1.5 SHA-256, parameters absent', key: 'rsa2048', alg: seq(oid('1.2.840.113549.1.1.11')), how: { hash: 'sha256' } },
  { name: 'RSA 2048 PSS SHA-256 salt 32', key: 'rsa2048', alg: pssAlg('sha256', 32), how: { hash: 'sha256', pssSalt: 32 } },
  { name: 'RSA 2048 PSS SHA-512 salt 64', key: 'rsa2048', alg: pssAlg('sha512', 64), how: { hash: 'sha512', pssSalt: 64 } },
  { name: 'id-RSASSA-PSS key, PSS SHA-256 salt 32', key: 'rsa-pss', alg: pssAlg('sha256', 32), how: { hash: 'sha256', pssSalt: 32 } },
  { name: 'ECDSA P-256 SHA-256', key: 'p256', alg: algs.ecdsa256, how: { hash: 'sha256' } },
  { name: 'ECDSA P-384 SHA-384', key: 'p384', alg: algs.ecdsa384, how: { hash: 'sha384' } },
  { name: 'ECDSA P-521 SHA-512', key: 'p521', alg: algs.ecdsa512, how: { hash: 'sha512' } },
  { name: 'ECDSA P-256 SHA-384 (hash need not match the curve)', key: 'p256', alg: algs.ecdsa384, how: { hash: 'sha384' } },
  { name: 'Ed25519', key: 'ed25519', alg: algs.ed25519, how: { hash: null } },
  { name: 'Ed448', key: 'ed448', alg: algs.ed448, how: { hash: null } },
];

function build(c: Case) {
  const issuer = keyPair(c.key);
  const { der } = makeCert({ subject: undefined }, issuer.privateKey, c.alg, c.how);
  return { cert: parseCertificate(der), issuerSpki: parseSpki(issuer.spki) };
}

describe('verifySignature: every supported algorithm', () => {
  for (const c of CASES) {
    it(`${c.name}: verifies, and a tampered signature or TBS is BAD_SIGNATURE`, () => {
      const { cert, issuerSpki } = build(c);
      expect(verifySignature(cert, issuerSpki, STRICT)).toEqual({ ok: true });

      const sig = Uint8Array.from(cert.signature);
      sig[sig.length - 5]! ^= 0x01;
      const r1 = verifySignature({ ...cert, signature: sig }, issuerSpki, STRICT);
      expect(r1.ok).toBe(false);
      expect(r1.ok === false && r1.code).toBe('BAD_SIGNATURE');

      const tbs = Uint8Array.from(cert.tbs);
      tbs[tbs.length - 3]! ^= 0x01;
      const r2 = verifySignature({ ...cert, tbs }, issuerSpki, STRICT);
      expect(r2.ok === false && r2.code).toBe('BAD_SIGNATURE');
    });
  }

  it('a signature by a different key of the same type is BAD_SIGNATURE', () => {
    const { cert } = build(CASES[6]!);
    const other = parseSpki(keyPair('p384').spki);
    const r = verifySignature(cert, other, STRICT);
    expect(r).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
  });

  it('an empty signature (a BIT STRING with unused bits) is BAD_SIGNATURE', () => {
    const { cert, issuerSpki } = build(CASES[0]!);
    expect(verifySignature({ ...cert, signature: new Uint8Array(0) }, issuerSpki, STRICT)).toMatchObject({
      ok: false,
      code: 'BAD_SIGNATURE',
    });
  });
});

describe('verifySignature: weak and unsupported algorithms', () => {
  it('SHA-1 is WEAK_ALGORITHM unless allowWeak', () => {
    const rsa = keyPair('rsa2048');
    const { der } = makeCert({}, rsa.privateKey, algs.sha1Rsa, { hash: 'sha1' });
    const cert = parseCertificate(der);
    const spki = parseSpki(rsa.spki);
    const r = verifySignature(cert, spki, STRICT);
    expect(r).toMatchObject({ ok: false, code: 'WEAK_ALGORITHM' });
    expect(r.ok === false && r.message).toMatch(/SHA-1/);
    expect(verifySignature(cert, spki, WEAK)).toEqual({ ok: true });

    const ec = keyPair('p256');
    const e = parseCertificate(makeCert({}, ec.privateKey, algs.ecdsa1, { hash: 'sha1' }).der);
    expect(verifySignature(e, parseSpki(ec.spki), STRICT)).toMatchObject({ ok: false, code: 'WEAK_ALGORITHM' });
    expect(verifySignature(e, parseSpki(ec.spki), WEAK)).toEqual({ ok: true });

    const pss = parseCertificate(makeCert({}, rsa.privateKey, pssAlg('sha1', 20), { hash: 'sha1', pssSalt: 20 }).der);
    expect(verifySignature(pss, spki, STRICT)).toMatchObject({ ok: false, code: 'WEAK_ALGORITHM' });
    expect(verifySignature(pss, spki, WEAK)).toEqual({ ok: true });
  });

  it('RSA keys under 2048 bits are WEAK_ALGORITHM unless allowWeak', () => {
    const rsa = keyPair('rsa1024');
    const cert = parseCertificate(makeCert({}, rsa.privateKey, algs.sha256Rsa, { hash: 'sha256' }).der);
    const spki = parseSpki(rsa.spki);
    expect(keySizeBits(spki)).toBe(1024);
    const r = verifySignature(cert, spki, STRICT);
    expect(r).toMatchObject({ ok: false, code: 'WEAK_ALGORITHM' });
    expect(r.ok === false && r.message).toMatch(/1024-bit RSA key/);
    expect(verifySignature(cert, spki, WEAK)).toEqual({ ok: true });
  });

  it('MD5 and MD2 are always WEAK_ALGORITHM', () => {
    const rsa = keyPair('rsa2048');
    const spki = parseSpki(rsa.spki);
    const md5 = parseCertificate(makeCert({}, rsa.privateKey, algs.md5Rsa, { hash: 'md5' }).der);
    expect(verifySignature(md5, spki, WEAK)).toMatchObject({ ok: false, code: 'WEAK_ALGORITHM' });
    const md2 = { ...md5, signatureAlgorithm: { oid: '1.2.840.113549.1.1.2', params: NULL } };
    expect(verifySignature(md2, spki, WEAK)).toMatchObject({ ok: false, code: 'WEAK_ALGORITHM' });
  });

  it('unknown signature OIDs are UNSUPPORTED_ALGORITHM', () => {
    const { cert, issuerSpki } = build(CASES[0]!);
    const r = verifySignature({ ...cert, signatureAlgorithm: { oid: '1.2.3.4', params: null } }, issuerSpki, WEAK);
    expect(r).toMatchObject({ ok: false, code: 'UNSUPPORTED_ALGORITHM' });
    expect(r.ok === false && r.message).toMatch(/1\.2\.3\.4/);
  });

  it('a key that does not fit the algorithm is BAD_SIGNATURE, never a throw', () => {
    const { cert } = build(CASES[0]!); // RSA signature
    for (const k of ['p256', 'ed25519', 'ed448'] as const) {
      const r = verifySignature(cert, parseSpki(keyPair(k).spki), STRICT);
      expect(r).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
      expect(r.ok === false && r.message).toMatch(/does not fit/);
    }
    const ec = build(CASES[6]!).cert; // ECDSA signature with an RSA key
    expect(verifySignature(ec, parseSpki(keyPair('rsa2048').spki), STRICT)).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
    const ed = build(CASES[10]!).cert; // Ed25519 signature with an Ed448 key
    expect(verifySignature(ed, parseSpki(keyPair('ed448').spki), STRICT)).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
    // PKCS#1 v1.5 with an id-RSASSA-PSS key is not allowed (RFC 4055 §1.2)
    expect(verifySignature(cert, parseSpki(keyPair('rsa-pss').spki), STRICT)).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
  });

  it('garbage key bytes are BAD_SIGNATURE, never a throw', () => {
    const { cert } = build(CASES[6]!);
    const spki = parseSpki(keyPair('p256').spki);
    // The point's bytes overwritten (the parsed fields and the DER agree, as parseSpki makes them).
    const broken = parseSpki(Uint8Array.from(spki.der).fill(0x41, 30, 40));
    expect(verifySignature(cert, broken, STRICT)).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
    const rsa = parseSpki(keyPair('rsa2048').spki);
    const r = verifySignature(build(CASES[0]!).cert, { ...rsa, publicKey: Uint8Array.of(1, 2, 3) }, STRICT);
    expect(r).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
  });
});

describe('verifySignature: parameters', () => {
  it('rejects RSA PKCS#1 parameters other than NULL/absent, and ECDSA/EdDSA parameters', () => {
    const { cert, issuerSpki } = build(CASES[0]!);
    const r = verifySignature({ ...cert, signatureAlgorithm: { oid: '1.2.840.113549.1.1.11', params: Uint8Array.of(0x02, 0x01, 0x00) } }, issuerSpki, STRICT);
    expect(r).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
    const ec = build(CASES[6]!);
    expect(verifySignature({ ...ec.cert, signatureAlgorithm: { oid: '1.2.840.10045.4.3.2', params: NULL } }, ec.issuerSpki, STRICT)).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
    const ed = build(CASES[10]!);
    expect(verifySignature({ ...ed.cert, signatureAlgorithm: { oid: '1.3.101.112', params: NULL } }, ed.issuerSpki, STRICT)).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
  });

  it('RSA-PSS: wrong salt length, MGF1 hash mismatch, trailerField ≠ 1, missing parameters', () => {
    const rsa = keyPair('rsa2048');
    const spki = parseSpki(rsa.spki);
    // Signed with salt 32 but the parameters claim 20 → does not verify.
    const wrongSalt = parseCertificate(makeCert({}, rsa.privateKey, pssAlg('sha256', 20), { hash: 'sha256', pssSalt: 32 }).der);
    expect(verifySignature(wrongSalt, spki, STRICT)).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
    const mgf = parseCertificate(makeCert({}, rsa.privateKey, pssAlg('sha256', 32, 'sha384'), { hash: 'sha256', pssSalt: 32 }).der);
    expect(verifySignature(mgf, spki, STRICT)).toMatchObject({ ok: false, code: 'UNSUPPORTED_ALGORITHM' });
    const trailer = parseCertificate(makeCert({}, rsa.privateKey, pssAlg('sha256', 32, 'sha256', 2), { hash: 'sha256', pssSalt: 32 }).der);
    const t = verifySignature(trailer, spki, STRICT);
    expect(t).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
    expect(t.ok === false && t.message).toMatch(/trailerField/);
    const { cert } = build(CASES[3]!);
    expect(verifySignature({ ...cert, signatureAlgorithm: { oid: '1.2.840.113549.1.1.10', params: null } }, spki, STRICT)).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
    // Parameters that are not RSASSA-PSS-params at all.
    expect(verifySignature({ ...cert, signatureAlgorithm: { oid: '1.2.840.113549.1.1.10', params: NULL } }, spki, STRICT)).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
  });

  it('RSA-PSS: a signature outside an id-RSASSA-PSS key’s restrictions is BAD_SIGNATURE', () => {
    const k = keyPair('rsa-pss'); // restricted to SHA-256, salt ≥ 32
    const spki = parseSpki(k.spki);
    expect(spki.algorithm.params).not.toBeNull();
    // OpenSSL will not sign outside the key's restrictions, so the signature is made with the allowed
    // parameters and the AlgorithmIdentifier claims other ones: the check must refuse before crypto.
    const sha384 = parseCertificate(makeCert({}, k.privateKey, pssAlg('sha384', 48), { hash: 'sha256', pssSalt: 32 }).der);
    const r = verifySignature(sha384, spki, STRICT);
    expect(r).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
    expect(r.ok === false && r.message).toMatch(/restrictions/);
    const shortSalt = parseCertificate(makeCert({}, k.privateKey, pssAlg('sha256', 20), { hash: 'sha256', pssSalt: 32 }).der);
    const s = verifySignature(shortSalt, spki, STRICT);
    expect(s.ok === false && s.message).toMatch(/restrictions/);
  });

  it('explicit EC curve parameters are UNSUPPORTED_ALGORITHM (RFC 5480 §2.1.1)', () => {
    const ec = build(CASES[6]!);
    const explicitParams = seq(Uint8Array.of(0x02, 0x01, 0x01), seq(oid('1.2.840.10045.1.1')));
    const spki = { ...ec.issuerSpki, algorithm: { oid: '1.2.840.10045.2.1', params: explicitParams } };
    const r = verifySignature(ec.cert, spki, STRICT);
    expect(r).toMatchObject({ ok: false, code: 'UNSUPPORTED_ALGORITHM' });
    expect(r.ok === false && r.message).toMatch(/RFC 5480/);
    const unknownCurve = { ...ec.issuerSpki, algorithm: { oid: '1.2.840.10045.2.1', params: oid('1.3.132.0.10') } };
    expect(verifySignature(ec.cert, unknownCurve, STRICT)).toMatchObject({ ok: false, code: 'UNSUPPORTED_ALGORITHM' });
  });

  it('keySizeBits reports every key type', () => {
    expect(keySizeBits(parseSpki(keyPair('rsa2048').spki))).toBe(2048);
    expect(keySizeBits(parseSpki(keyPair('rsa-pss').spki))).toBe(2048);
    expect(keySizeBits(parseSpki(keyPair('p256').spki))).toBe(256);
    expect(keySizeBits(parseSpki(keyPair('p384').spki))).toBe(384);
    expect(keySizeBits(parseSpki(keyPair('p521').spki))).toBe(521);
    expect(keySizeBits(parseSpki(keyPair('ed25519').spki))).toBe(255);
    expect(keySizeBits(parseSpki(keyPair('ed448').spki))).toBe(448);
  });

  it('never throws on hostile inputs', () => {
    const { cert, issuerSpki } = build(CASES[3]!);
    const junk = [Uint8Array.of(0x30, 0x80), Uint8Array.of(0xff), explicit(0, seq(oid('1.2.3')))];
    for (const params of junk) {
      expect(() => verifySignature({ ...cert, signatureAlgorithm: { oid: '1.2.840.113549.1.1.10', params } }, issuerSpki, STRICT)).not.toThrow();
      expect(() => verifySignature(cert, { ...issuerSpki, algorithm: { oid: '1.2.840.10045.2.1', params } }, STRICT)).not.toThrow();
      expect(() => verifySignature(cert, { ...issuerSpki, algorithm: { oid: '1.2.840.10040.4.1', params } }, STRICT)).not.toThrow();
    }
  });
});

describe('verifySignature: DSA from PKITS (4.1.4, 4.1.5, 4.1.6)', () => {
  const dir = fileURLToPath(new URL('./conformance/pkits/certs/', import.meta.url));
  const load = (n: string) => parseCertificate(new Uint8Array(readFileSync(`${dir}${n}.crt`)));
  const root = load('TrustAnchorRootCertificate');
  const dsaCa = load('DSACACert');
  const inheritedCa = load('DSAParametersInheritedCACert');
  const ee4 = load('ValidDSASignaturesTest4EE');
  const ee5 = load('ValidDSAParameterInheritanceTest5EE');
  const ee6 = load('InvalidDSASignatureTest6EE');

  it('the DSA CA (signed by the RSA root) verifies', () => {
    expect(verifySignature(dsaCa, root.spki, WEAK)).toEqual({ ok: true });
  });

  it('4.1.4: a DSA-signed end entity verifies, and is WEAK_ALGORITHM by default (1024-bit DSA, SHA-1)', () => {
    expect(dsaCa.spki.algorithm.oid).toBe('1.2.840.10040.4.1');
    expect(keySizeBits(dsaCa.spki)).toBe(1024);
    expect(verifySignature(ee4, dsaCa.spki, WEAK)).toEqual({ ok: true });
    expect(verifySignature(ee4, dsaCa.spki, STRICT)).toMatchObject({ ok: false, code: 'WEAK_ALGORITHM' });
  });

  it('4.1.5: a DSA key without parameters inherits them from its issuer', () => {
    expect(dsaNeedsParams(inheritedCa.spki)).toBe(true);
    expect(dsaParamsOf(inheritedCa.spki)).toBeNull();
    const params = dsaParamsOf(dsaCa.spki);
    expect(params).not.toBeNull();
    expect(verifySignature(inheritedCa, dsaCa.spki, WEAK)).toEqual({ ok: true });
    expect(verifySignature(ee5, inheritedCa.spki, { allowWeak: true, inheritedDsaParams: params })).toEqual({ ok: true });
    const without = verifySignature(ee5, inheritedCa.spki, WEAK);
    expect(without).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
    expect(without.ok === false && without.message).toMatch(/inherited/);
    // The rebuilt SPKI is a well-formed DSA key with the parameters.
    const rebuilt = parseSpki(spkiWithParams(inheritedCa.spki, params!));
    expect(dsaParamsOf(rebuilt)).toEqual(params);
    expect(rebuilt.publicKey).toEqual(inheritedCa.spki.publicKey);
  });

  it('4.1.6: the invalid DSA signature is BAD_SIGNATURE', () => {
    expect(verifySignature(ee6, dsaCa.spki, WEAK)).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
  });

  it('PKITS 4.1.2/4.1.3: the bad RSA signatures are BAD_SIGNATURE; 4.1.1 verifies', () => {
    const good = load('GoodCACert');
    expect(verifySignature(good, root.spki, STRICT)).toEqual({ ok: true });
    expect(verifySignature(load('ValidCertificatePathTest1EE'), good.spki, STRICT)).toEqual({ ok: true });
    expect(verifySignature(load('BadSignedCACert'), root.spki, STRICT)).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
    expect(verifySignature(load('InvalidEESignatureTest3EE'), good.spki, STRICT)).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
  });
});

describe('verifySignature: the signed shape fits a CRL', () => {
  const dir = fileURLToPath(new URL('./conformance/pkits/', import.meta.url));
  /** CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue } */
  function signedCrl(name: string) {
    const r = new DerReader(new Uint8Array(readFileSync(`${dir}crls/${name}.crl`)));
    const list = r.enter(Tag.SEQUENCE, 'CertificateList');
    list.enter(Tag.SEQUENCE, 'tbsCertList');
    const tbs = list.lastFull();
    const { alg } = readAlgorithmIdentifier(list, 'signatureAlgorithm');
    const bitsRead = decodeBitString(list.read(Tag.BIT_STRING, 'signatureValue'), 'signatureValue');
    // As the certificate parser does: PKITS corrupts the unused-bits octet of its bad signatures.
    const signature = bitsRead.unusedBits === 0 ? bitsRead.bytes : new Uint8Array(0);
    return { tbs, signatureAlgorithm: alg, signature };
  }

  it('verifies PKITS GoodCACRL with GoodCACert, and refuses BadCRLSignatureCACRL', () => {
    const good = parseCertificate(new Uint8Array(readFileSync(`${dir}certs/GoodCACert.crt`)));
    expect(verifySignature(signedCrl('GoodCACRL'), good.spki, STRICT)).toEqual({ ok: true });
    const badCa = parseCertificate(new Uint8Array(readFileSync(`${dir}certs/BadCRLSignatureCACert.crt`)));
    expect(verifySignature(signedCrl('BadCRLSignatureCACRL'), badCa.spki, STRICT)).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
  });
});

describe('importKeysAhead (EC keys through the asynchronous raw import)', () => {
  const EC: Case[] = CASES.filter((c) => c.key === 'p256' || c.key === 'p384' || c.key === 'p521');

  for (const c of EC) {
    it(`${c.name}: a key imported ahead verifies the signature, and rejects a tampered one`, async () => {
      clearKeyCache();
      const { cert, issuerSpki } = build(c);
      await importKeysAhead([issuerSpki]);
      expect(verifySignature(cert, issuerSpki, STRICT)).toEqual({ ok: true });
      const sig = Uint8Array.from(cert.signature);
      sig[sig.length - 5]! ^= 0x01;
      const r = verifySignature({ ...cert, signature: sig }, issuerSpki, STRICT);
      expect(r.ok === false && r.code).toBe('BAD_SIGNATURE');
    });
  }

  it('a point that is not on the curve is not imported: the signature check still refuses the key', async () => {
    clearKeyCache();
    const { cert, issuerSpki } = build(EC[0]!);
    const der = Uint8Array.from(issuerSpki.der);
    der[der.length - 1]! ^= 0x01; // the point's last y octet
    const offCurve = parseSpki(der);
    await expect(importKeysAhead([offCurve])).resolves.toBeUndefined();
    const r = verifySignature(cert, offCurve, STRICT);
    expect(r).toEqual({ ok: false, code: 'BAD_SIGNATURE', message: "The issuer's EC public key could not be read." });
  });

  it('keys it does not handle (RSA, Ed25519, more than the bound) are left to the import on first use', async () => {
    clearKeyCache();
    const others = CASES.filter((c) => c.key === 'rsa2048' || c.key === 'ed25519').map(build);
    const many = Array.from({ length: MAX_KEYS_IMPORTED_AHEAD + 2 }, () => build(EC[0]!));
    await importKeysAhead([...others, ...many].map((b) => b.issuerSpki));
    for (const b of [...others, ...many]) expect(verifySignature(b.cert, b.issuerSpki, STRICT)).toEqual({ ok: true });
  });
});
