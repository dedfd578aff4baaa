// @ts-check
/**
 * First-start TLS material of the console: a development CA and a server certificate for
 * `localhost` / 127.0.0.1 signed by it, written to the data directory (keys mode 0600). Generated
 * once; later starts reuse the files. Replace them with your own certificate for real use.
 */
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

const crypto = /** @type {Crypto} */ (/** @type {unknown} */ (webcrypto));
x509.cryptoProvider.set(crypto);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY = 24 * 3600 * 1000;

/** @param {CryptoKey} key */
async function keyPem(key) {
  const der = Buffer.from(await crypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').match(/.{1,64}/g)?.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

/** A positive random serial number (hex). */
function serial() {
  const b = randomBytes(16);
  b[0] = (b[0] ?? 0) & 0x7f;
  return b.toString('hex');
}

/**
 * The file names inside the data directory.
 * @param {string} dataDir
 */
export function certPaths(dataDir) {
  return {
    devCa: join(dataDir, 'dev-ca.pem'),
    serverCert: join(dataDir, 'server-cert.pem'),
    serverKey: join(dataDir, 'server-key.pem'),
  };
}

/**
 * Returns the server's key and certificate chain, generating a dev CA and a server certificate on
 * the first start.
 * @param {string} dataDir
 * @returns {Promise<{ key: string, cert: string, devCaPem: string, generated: boolean }>}
 */
export async function ensureServerCertificate(dataDir) {
  const p = certPaths(dataDir);
  if (existsSync(p.serverCert) && existsSync(p.serverKey)) {
    return {
      key: await fsp.readFile(p.serverKey, 'utf8'),
      cert: await fsp.readFile(p.serverCert, 'utf8'),
      devCaPem: existsSync(p.devCa) ? await fsp.readFile(p.devCa, 'utf8') : '',
      generated: false,
    };
  }
  const now = Date.now();
  const caKeys = /** @type {CryptoKeyPair} */ (await crypto.subtle.generateKey(ALG, true, ['sign', 'verify']));
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=certgate console development CA',
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 3650 * DAY),
    keys: caKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
    ],
  });
  const serverKeys = /** @type {CryptoKeyPair} */ (await crypto.subtle.generateKey(ALG, true, ['sign', 'verify']));
  const server = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: 'CN=localhost',
    issuer: ca.subject,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 397 * DAY),
    signingKey: caKeys.privateKey,
    publicKey: serverKeys.publicKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(ca, false, crypto),
    ],
  });
  const devCaPem = ca.toString('pem') + '\n';
  const cert = server.toString('pem') + '\n' + devCaPem;
  const key = await keyPem(serverKeys.privateKey);
  await fsp.writeFile(p.devCa, devCaPem, { mode: 0o644 });
  await fsp.writeFile(p.serverKey, key, { mode: 0o600 });
  await fsp.writeFile(p.serverCert, cert, { mode: 0o644 });
  return { key, cert, devCaPem, generated: true };
}
