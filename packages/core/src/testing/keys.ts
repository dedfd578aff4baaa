/**
 * @module
 * Key pairs for the test PKI: generated with node:crypto's WebCrypto, kept both as `CryptoKey`s (for
 * @peculiar/x509) and as node:crypto `KeyObject`s (for `tls`, `sign`, …).
 */
import { createPrivateKey, createPublicKey, webcrypto, type KeyObject } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type RsaHashedKeyGenParams = webcrypto.RsaHashedKeyGenParams;
type EcKeyGenParams = webcrypto.EcKeyGenParams;
type Algorithm = webcrypto.Algorithm;
type RsaHashedKeyAlgorithm = webcrypto.RsaHashedKeyAlgorithm;

/**
 * Key algorithms the test PKI can generate. `rsa-1024` exists only to produce deliberately weak
 * certificates (lint `WEAK_KEY`, validator `WEAK_ALGORITHM`).
 */
export type KeySpec =
  | 'ec-p256'
  | 'ec-p384'
  | 'ec-p521'
  | 'rsa-1024'
  | 'rsa-2048'
  | 'rsa-3072'
  | 'rsa-4096'
  | 'ed25519';

/** Every {@link KeySpec}, for table-driven tests. */
export const KEY_SPECS: readonly KeySpec[] = Object.freeze([
  'ec-p256',
  'ec-p384',
  'ec-p521',
  'rsa-1024',
  'rsa-2048',
  'rsa-3072',
  'rsa-4096',
  'ed25519',
] as const);

/** Hash algorithms a test certificate can be signed with (ignored for Ed25519 signers). */
export type SignatureHash = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

/** A generated key pair in both WebCrypto and node:crypto form. */
export interface TestKey {
  spec: KeySpec;
  /** The WebCrypto pair (private key extractable). */
  cryptoKeys: CryptoKeyPair;
  /** node:crypto private key. */
  privateKey: KeyObject;
  /** node:crypto public key. */
  publicKey: KeyObject;
  /** PKCS#8 DER of the private key. */
  pkcs8: Uint8Array;
  /** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). */
  pkcs8Pem: string;
  /** DER SubjectPublicKeyInfo. */
  spki: Uint8Array;
}

type KeyAlgorithmParams = RsaHashedKeyGenParams | EcKeyGenParams | { name: 'Ed25519' };

function algorithmFor(spec: KeySpec): KeyAlgorithmParams {
  switch (spec) {
    case 'ec-p256':
      return { name: 'ECDSA', namedCurve: 'P-256' };
    case 'ec-p384':
      return { name: 'ECDSA', namedCurve: 'P-384' };
    case 'ec-p521':
      return { name: 'ECDSA', namedCurve: 'P-521' };
    case 'rsa-1024':
    case 'rsa-2048':
    case 'rsa-3072':
    case 'rsa-4096':
      return {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: Number(spec.slice(4)),
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      };
    case 'ed25519':
      return { name: 'Ed25519' };
    default:
      throw new TypeError(`@certgate/core/testing: unknown key spec ${JSON.stringify(spec)}; use one of ${KEY_SPECS.join(', ')}`);
  }
}

/** Generate a fresh key pair. RSA generation takes tens to hundreds of milliseconds; reuse keys where a test allows. */
export async function generateTestKey(spec: KeySpec = 'ec-p256'): Promise<TestKey> {
  const alg = algorithmFor(spec);
  const cryptoKeys = (await webcrypto.subtle.generateKey(alg as RsaHashedKeyGenParams, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const pkcs8 = new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', cryptoKeys.privateKey));
  const spki = new Uint8Array(await webcrypto.subtle.exportKey('spki', cryptoKeys.publicKey));
  const privateKey = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  const pkcs8Pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  return { spec, cryptoKeys, privateKey, publicKey, pkcs8, pkcs8Pem, spki };
}

/** The default signature hash for a signer key: SHA-384 for P-384, SHA-512 for P-521, else SHA-256. */
export function defaultHashFor(spec: KeySpec): SignatureHash {
  if (spec === 'ec-p384') return 'SHA-384';
  if (spec === 'ec-p521') return 'SHA-512';
  return 'SHA-256';
}

/**
 * The WebCrypto signing key and algorithm to sign with `key` using `hash`. RSA keys carry their hash
 * in WebCrypto, so another hash needs the PKCS#8 re-imported.
 */
export async function signerFor(
  key: TestKey,
  hash: SignatureHash,
): Promise<{ signingKey: CryptoKey; signingAlgorithm: Algorithm & { hash?: string } }> {
  const name = key.cryptoKeys.privateKey.algorithm.name;
  if (name === 'ECDSA') return { signingKey: key.cryptoKeys.privateKey, signingAlgorithm: { name, hash } };
  if (name === 'RSASSA-PKCS1-v1_5') {
    const current = (key.cryptoKeys.privateKey.algorithm as RsaHashedKeyAlgorithm).hash.name;
    const signingKey =
      current === hash
        ? key.cryptoKeys.privateKey
        : await webcrypto.subtle.importKey('pkcs8', key.pkcs8, { name, hash }, false, ['sign']);
    return { signingKey, signingAlgorithm: { name, hash } };
  }
  return { signingKey: key.cryptoKeys.privateKey, signingAlgorithm: { name } };
}

/**
 * Import an existing private key (PEM or DER PKCS#8, PKCS#1 or SEC1, unencrypted) as a {@link TestKey}.
 * Throws a TypeError naming the problem for keys the test PKI cannot use.
 */
export async function importTestKey(keyPem: string | Uint8Array): Promise<TestKey> {
  let privateKey: KeyObject;
  try {
    privateKey =
      typeof keyPem === 'string'
        ? createPrivateKey(keyPem)
        : createPrivateKey({ key: Buffer.from(keyPem), format: 'der', type: 'pkcs8' });
  } catch (err) {
    throw new TypeError(`@certgate/core/testing: the private key could not be read (${(err as Error).message})`);
  }
  const details = privateKey.asymmetricKeyDetails ?? {};
  let spec: KeySpec;
  switch (privateKey.asymmetricKeyType) {
    case 'ec': {
      const curves: Record<string, KeySpec> = { prime256v1: 'ec-p256', secp384r1: 'ec-p384', secp521r1: 'ec-p521' };
      const s = curves[details.namedCurve ?? ''];
      if (!s) throw new TypeError(`@certgate/core/testing: unsupported EC curve ${details.namedCurve ?? '(unknown)'}`);
      spec = s;
      break;
    }
    case 'rsa': {
      const s = `rsa-${details.modulusLength ?? 0}` as KeySpec;
      if (!KEY_SPECS.includes(s)) throw new TypeError(`@certgate/core/testing: unsupported RSA key size ${details.modulusLength ?? 0}`);
      spec = s;
      break;
    }
    case 'ed25519':
      spec = 'ed25519';
      break;
    default:
      throw new TypeError(`@certgate/core/testing: unsupported key type ${privateKey.asymmetricKeyType ?? '(unknown)'}`);
  }
  const alg = algorithmFor(spec);
  const pkcs8 = new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs8' }));
  const publicKey = createPublicKey(privateKey);
  const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  const cryptoKeys: CryptoKeyPair = {
    privateKey: await webcrypto.subtle.importKey('pkcs8', pkcs8, alg as RsaHashedKeyGenParams, true, ['sign']),
    publicKey: await webcrypto.subtle.importKey('spki', spki, alg as RsaHashedKeyGenParams, true, ['verify']),
  };
  const pkcs8Pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  return { spec, cryptoKeys, privateKey: createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' }), publicKey, pkcs8, pkcs8Pem, spki };
}
