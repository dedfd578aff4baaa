/**
 * @module
 * PKCS#12 (RFC 7292) export of a test certificate, its key and its chain, for importing into
 * browsers and OS key stores. The key is a pkcs8ShroudedKeyBag encrypted with PBES2
 * (PBKDF2-HMAC-SHA256, AES-256-CBC; node:crypto/OpenSSL produce it); certificates are plain certBags;
 * integrity is an HMAC-SHA256 MAC keyed by the RFC 7292 Appendix B KDF. These are the algorithms
 * OpenSSL 3 writes by default, which NSS (Firefox/Chromium on Linux), macOS and Windows import.
 */
import { createHash, createHmac, randomBytes, type KeyObject } from 'node:crypto';
import { bmp, concat, ctx, int, nul, octets, oid, seq, set } from './der.js';

const OIDS = {
  data: '1.2.840.113549.1.7.1',
  keyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  sha256: '2.16.840.1.101.3.4.2.1',
} as const;

/** Options of {@link toPkcs12}. */
export interface Pkcs12Options {
  /** friendlyName of the key and the leaf (what a browser shows). Default: none. */
  friendlyName?: string;
  /** PBKDF2 and MAC iteration count. Default 2048 (OpenSSL's default). */
  iterations?: number;
}

type CertLike = { der: Uint8Array; key?: KeyObject } | Uint8Array | string;

function certDer(c: CertLike): Uint8Array {
  if (c instanceof Uint8Array) return c;
  if (typeof c === 'string') {
    const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(c);
    if (!m) throw new TypeError('@certgate/core/testing: toPkcs12 needs certificates as DER or PEM CERTIFICATE blocks');
    return new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
  }
  return c.der;
}

/** RFC 7292 Appendix B.2 key derivation with SHA-256 (u = 32, v = 64). */
export function pkcs12Kdf(password: string, salt: Uint8Array, id: 1 | 2 | 3, iterations: number, n: number): Uint8Array {
  const u = 32;
  const v = 64;
  // The password is a BMPString with a two-byte NUL terminator.
  const pw = new Uint8Array(password.length * 2 + 2);
  for (let i = 0; i < password.length; i++) {
    pw[2 * i] = password.charCodeAt(i) >> 8;
    pw[2 * i + 1] = password.charCodeAt(i) & 0xff;
  }
  const fill = (src: Uint8Array): Uint8Array => {
    const len = v * Math.ceil(src.length / v);
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const D = new Uint8Array(v).fill(id);
  const I = concat([salt.length ? fill(salt) : new Uint8Array(0), fill(pw)]);
  const out: Uint8Array[] = [];
  for (let produced = 0; produced < n; produced += u) {
    let A = createHash('sha256').update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = createHash('sha256').update(A).digest();
    out.push(A);
    const B = fill(A);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k]! + B[k]! + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return concat(out).subarray(0, n);
}

function attributes(friendlyName: string | undefined, localKeyId: Uint8Array): Uint8Array {
  const attrs = [seq(oid(OIDS.localKeyId), set(octets(localKeyId)))];
  if (friendlyName !== undefined) attrs.push(seq(oid(OIDS.friendlyName), set(bmp(friendlyName))));
  return set(...attrs);
}

/**
 * A password-protected PKCS#12 file holding `cert`'s private key, `cert` and `chain` (e.g. the
 * intermediate and root). `cert` must carry its key (every {@link TestCertificate} does).
 *
 * @example
 * const p12 = toPkcs12(pki.client, [pki.intermediate, pki.root], 'changeit', { friendlyName: 'alice' });
 * https.request({ pfx: Buffer.from(p12), passphrase: 'changeit', … });
 */
export function toPkcs12(
  cert: { der: Uint8Array; key: KeyObject },
  chain: CertLike[],
  password: string,
  opts: Pkcs12Options = {},
): Uint8Array {
  if (typeof password !== 'string' || password.length === 0) {
    throw new TypeError('@certgate/core/testing: toPkcs12 needs a non-empty password');
  }
  const iterations = opts.iterations ?? 2048;
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > 10_000_000) {
    throw new TypeError('@certgate/core/testing: toPkcs12 "iterations" must be an integer from 1 to 10000000');
  }
  const leafDer = certDer(cert);
  const localKeyId = new Uint8Array(createHash('sha1').update(leafDer).digest());
  const bagAttrs = attributes(opts.friendlyName, localKeyId);

  const encryptedKey = new Uint8Array(
    cert.key.export({ format: 'der', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: password }),
  );
  const keyBag = seq(oid(OIDS.keyBag), ctx(0, encryptedKey), bagAttrs);
  const certBag = (der: Uint8Array, attrs?: Uint8Array): Uint8Array =>
    seq(oid(OIDS.certBag), ctx(0, seq(oid(OIDS.x509Certificate), ctx(0, octets(der)))), ...(attrs ? [attrs] : []));

  const dataInfo = (content: Uint8Array): Uint8Array => seq(oid(OIDS.data), ctx(0, octets(content)));
  const keyContents = seq(keyBag);
  const certContents = seq(certBag(leafDer, bagAttrs), ...chain.map((c) => certBag(certDer(c))));
  const authSafe = seq(dataInfo(certContents), dataInfo(keyContents));

  const macSalt = new Uint8Array(randomBytes(16));
  const macKey = pkcs12Kdf(password, macSalt, 3, iterations, 32);
  const mac = new Uint8Array(createHmac('sha256', macKey).update(authSafe).digest());
  const macData = seq(seq(seq(oid(OIDS.sha256), nul()), octets(mac)), octets(macSalt), int(iterations));

  return seq(int(3), dataInfo(authSafe), macData);
}
