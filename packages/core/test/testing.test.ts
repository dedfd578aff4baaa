import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KEY_SPECS,
  createCa,
  createTestPki,
  issueCaAsLeaf,
  issueExpired,
  issueLeafAsCa,
  issueNotYetValid,
  issueSelfSignedLeaf,
  issueUnknownCriticalExtension,
  issueWrongEku,
  loadCa,
  importTestKey,
  encodeName,
  pemBundle,
  toPkcs12,
  type TestPki,
} from '@certgate/core/testing';

const dir = mkdtempSync(join(tmpdir(), 'certgate-testing-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** Run openssl; returns { status, out } (stdout + stderr). */
function openssl(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function text(pem: string): string {
  return execFileSync('openssl', ['x509', '-noout', '-text'], { input: pem, encoding: 'utf8' });
}

/** A real TLS handshake on 127.0.0.1; resolves with what the server saw of the client. */
async function handshake(
  server: tls.SecureContextOptions,
  client: tls.ConnectionOptions,
): Promise<{ authorized: boolean; error: string | null; peerSubjectCn: string | undefined; clientAuthorized: boolean }> {
  const srv = tls.createServer({ ...server, requestCert: true, rejectUnauthorized: false });
  const seen = new Promise<{ authorized: boolean; error: string | null; peerSubjectCn: string | undefined }>((resolve) => {
    srv.on('secureConnection', (sock) => {
      const peer = sock.getPeerCertificate();
      resolve({
        authorized: sock.authorized,
        error: sock.authorizationError ? String(sock.authorizationError) : null,
        peerSubjectCn: peer && 'subject' in peer && peer.subject ? (peer.subject.CN as string | undefined) : undefined,
      });
      sock.end('ok');
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  try {
    const clientAuthorized = await new Promise<boolean>((resolve, reject) => {
      const sock = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ...client }, () => {
        resolve(sock.authorized);
        sock.on('data', () => sock.end());
      });
      sock.on('error', reject);
    });
    return { ...(await seen), clientAuthorized };
  } finally {
    srv.close();
  }
}

describe('createTestPki', () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await createTestPki();
  });

  it('produces certificates node:crypto parses, with the documented defaults', () => {
    const root = new X509Certificate(pki.root.pem);
    const int = new X509Certificate(pki.intermediate.pem);
    const client = new X509Certificate(pki.client.pem);
    const server = new X509Certificate(pki.server.pem);
    expect(root.ca).toBe(true);
    expect(int.ca).toBe(true);
    expect(client.ca).toBe(false);
    expect(server.ca).toBe(false);
    // node:crypto's `keyUsage` is the extended key usage list.
    expect(client.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(server.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(server.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(client.subjectAltName).toBe('email:client@example.test');
    expect(client.subject).toBe('CN=certgate test client\nO=certgate');
    expect(pki.client.subject).toBe('CN=certgate test client, O=certgate');
    expect(pki.client.fingerprint256).toBe(client.fingerprint256);
    expect(pki.client.serialNumber).toBe(client.serialNumber.toUpperCase());
    expect(Buffer.from(pki.client.der).equals(client.raw)).toBe(true);
    expect(pki.caPem).toBe(pki.root.pem);
    expect(pki.clientChain).toEqual([pki.client.pem, pki.intermediate.pem]);
  });

  it('chains: checkIssued and verify agree at every link', () => {
    const root = new X509Certificate(pki.root.pem);
    const int = new X509Certificate(pki.intermediate.pem);
    const client = new X509Certificate(pki.client.pem);
    expect(root.checkIssued(root)).toBe(true);
    expect(root.verify(root.publicKey)).toBe(true);
    expect(int.checkIssued(root)).toBe(true);
    expect(int.verify(root.publicKey)).toBe(true);
    expect(client.checkIssued(int)).toBe(true);
    expect(client.verify(int.publicKey)).toBe(true);
    expect(client.checkIssued(root)).toBe(false);
    expect(client.verify(root.publicKey)).toBe(false);
    expect(client.checkPrivateKey(pki.client.key)).toBe(true);
    expect(client.checkPrivateKey(pki.intermediate.key)).toBe(false);
  });

  it('has the extensions a TLS stack expects (openssl -text)', () => {
    const rootText = text(pki.root.pem);
    expect(rootText).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    expect(rootText).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(rootText).toContain('Subject Key Identifier');
    expect(rootText).not.toContain('Authority Key Identifier');
    const clientText = text(pki.client.pem);
    expect(clientText).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(clientText).toMatch(/Key Usage: critical\s+Digital Signature/);
    expect(clientText).toMatch(/Extended Key Usage:\s+TLS Web Client Authentication/);
    expect(clientText).toContain('Authority Key Identifier');
  });

  it('openssl verify accepts the generated chains for their purposes', () => {
    const ca = file('root.pem', pki.root.pem);
    const untrusted = file('int.pem', pki.intermediate.pem);
    const client = openssl('verify', '-CAfile', ca, '-untrusted', untrusted, '-purpose', 'sslclient', file('c.pem', pki.client.pem));
    expect(client.out).toContain(': OK');
    expect(client.status).toBe(0);
    const server = openssl('verify', '-CAfile', ca, '-untrusted', untrusted, '-purpose', 'sslserver', file('s.pem', pki.server.pem));
    expect(server.status).toBe(0);
    // …and refuses the client certificate for server use, and without the intermediate.
    expect(openssl('verify', '-CAfile', ca, '-untrusted', untrusted, '-purpose', 'sslserver', file('c2.pem', pki.client.pem)).status).not.toBe(0);
    expect(openssl('verify', '-CAfile', ca, file('c3.pem', pki.client.pem)).status).not.toBe(0);
  });

  it('completes a real mutual TLS handshake on 127.0.0.1', async () => {
    const r = await handshake(
      { key: pki.server.keyPem, cert: pki.serverChainPem, ca: pki.caPem },
      { key: pki.client.keyPem, cert: pemBundle(...pki.clientChain), ca: pki.caPem },
    );
    expect(r).toEqual({ authorized: true, error: null, peerSubjectCn: 'certgate test client', clientAuthorized: true });
  });

  it('PKCS#12: openssl reads it (MAC checked), node loads it, and it authenticates a TLS client', async () => {
    const p12 = toPkcs12(pki.client, [pki.intermediate, pki.root], 's3cret pässword', { friendlyName: 'test client' });
    const path = file('client.p12', p12);
    const info = openssl('pkcs12', '-info', '-in', path, '-passin', 'pass:s3cret pässword', '-nokeys');
    expect(info.status).toBe(0);
    expect(info.out).toContain('MAC: sha256');
    expect(info.out).toContain('friendlyName: test client');
    expect(info.out.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(3);
    const keys = openssl('pkcs12', '-info', '-in', path, '-passin', 'pass:s3cret pässword', '-nocerts', '-nodes');
    expect(keys.status).toBe(0);
    expect(keys.out).toContain('PBES2, PBKDF2, AES-256-CBC');
    expect(keys.out).toContain('-----BEGIN PRIVATE KEY-----');
    expect(openssl('pkcs12', '-info', '-in', path, '-passin', 'pass:wrong', '-noout').status).not.toBe(0);

    expect(() => tls.createSecureContext({ pfx: Buffer.from(p12), passphrase: 'wrong' })).toThrow();
    const r = await handshake(
      { key: pki.server.keyPem, cert: pki.serverChainPem, ca: pki.caPem },
      { pfx: Buffer.from(p12), passphrase: 's3cret pässword', ca: pki.caPem },
    );
    expect(r.authorized).toBe(true);
    expect(r.peerSubjectCn).toBe('certgate test client');
    expect(() => toPkcs12(pki.client, [], '')).toThrow(/non-empty password/);
  });

  // NSS is the certificate library of Firefox and of Chromium on Linux; pk12util is its import tool
  // (Debian package libnss3-tools). Where it is not installed this test is reported as skipped.
  const hasPk12util = spawnSync('pk12util', ['-h'], { encoding: 'utf8' }).error === undefined;
  it.runIf(hasPk12util)('PKCS#12: NSS (pk12util) imports the key and both certificates, and refuses a wrong password', () => {
    const p12 = file('nss.p12', toPkcs12(pki.client, [pki.intermediate], 'nss-pw', { friendlyName: 'nss client' }));
    const db = join(dir, 'nssdb');
    execFileSync('mkdir', ['-p', db]);
    execFileSync('certutil', ['-N', '-d', `sql:${db}`, '--empty-password']);
    const wrong = spawnSync('pk12util', ['-i', p12, '-d', `sql:${db}`, '-W', 'wrong'], { encoding: 'utf8' });
    expect(wrong.status).not.toBe(0);
    expect(`${wrong.stdout}${wrong.stderr}`).toContain('SEC_ERROR_PKCS12_INVALID_MAC');
    const ok = spawnSync('pk12util', ['-i', p12, '-d', `sql:${db}`, '-W', 'nss-pw'], { encoding: 'utf8' });
    expect(`${ok.stdout}${ok.stderr}`).toContain('PKCS12 IMPORT SUCCESSFUL');
    expect(ok.status).toBe(0);
    const certs = execFileSync('certutil', ['-L', '-d', `sql:${db}`], { encoding: 'utf8' });
    expect(certs).toMatch(/nss client\s+u,u,u/);
    expect(certs).toContain('certgate test intermediate');
    const keys = execFileSync('certutil', ['-K', '-d', `sql:${db}`], { encoding: 'utf8' });
    expect(keys).toContain('nss client');
  });

  it('CRLs: openssl checks the signature and refuses the revoked certificate', async () => {
    const thisUpdate = new Date(Date.now() - 60_000);
    const crl = await pki.intermediate.createCrl({
      revoked: [{ serialNumber: pki.client, reason: 1, date: thisUpdate }],
      thisUpdate,
      crlNumber: 7,
    });
    const crlText = openssl('crl', '-in', file('crl.pem', crl.pem), '-noout', '-text', '-CAfile', file('int-ca.pem', pki.intermediate.pem));
    expect(crlText.out).toContain('verify OK');
    expect(crlText.out).toContain(`Serial Number: ${pki.client.serialNumber}`);
    expect(crlText.out).toContain('Key Compromise');
    expect(crlText.out).toMatch(/CRL Number:\s+7/);
    const rootCrl = await pki.root.createCrl({ thisUpdate });
    const bundle = file('crls.pem', crl.pem + rootCrl.pem);
    const args = ['verify', '-crl_check_all', '-CAfile', file('r.pem', pki.root.pem), '-CRLfile', bundle, '-untrusted', file('i.pem', pki.intermediate.pem)];
    const revoked = openssl(...args, file('cl.pem', pki.client.pem));
    expect(revoked.status).not.toBe(0);
    expect(revoked.out).toContain('certificate revoked');
    expect(openssl(...args, file('sv.pem', pki.server.pem)).status).toBe(0);
  });
});

describe('createCa / issue options', () => {
  it.each(KEY_SPECS)('%s keys sign and verify', async (spec) => {
    const ca = await createCa({ key: spec });
    const leaf = await ca.issue({ key: spec });
    const node = new X509Certificate(leaf.pem);
    expect(node.checkIssued(new X509Certificate(ca.pem))).toBe(true);
    expect(node.verify(ca.publicKey)).toBe(true);
    expect(node.checkPrivateKey(leaf.key)).toBe(true);
    const expectedType = spec.startsWith('rsa') ? 'rsa' : spec === 'ed25519' ? 'ed25519' : 'ec';
    expect(leaf.publicKey.asymmetricKeyType).toBe(expectedType);
  });

  it('honours subject, serial, validity, pathLen, SAN, policies, name constraints and signature hash', async () => {
    const notBefore = new Date(Date.UTC(2030, 0, 1));
    const notAfter = new Date(Date.UTC(2031, 0, 1));
    const ca = await createCa({
      subject: 'CN=Options CA, O=Example, C=DE',
      serialNumber: '0a1b2c',
      notBefore,
      notAfter,
      pathLen: 0,
      policies: ['1.3.6.1.4.1.55555.2.1'],
      nameConstraints: { permitted: { dns: ['example.test'], ip: ['10.0.0.0/8'] }, excluded: { email: ['bad.example.test'] } },
      signatureHash: 'SHA-512',
    });
    const t = text(ca.pem);
    expect(ca.serialNumber).toBe('0A1B2C');
    expect(ca.notBefore.getTime()).toBe(notBefore.getTime());
    expect(ca.notAfter.getTime()).toBe(notAfter.getTime());
    expect(t).toContain('Subject: CN = Options CA, O = Example, C = DE');
    expect(t).toMatch(/CA:TRUE, pathlen:0/);
    expect(t).toContain('Policy: 1.3.6.1.4.1.55555.2.1');
    expect(t).toMatch(/Name Constraints: critical\s+Permitted:\s+DNS:example.test\s+IP:10.0.0.0\/255.0.0.0\s+Excluded:\s+email:bad.example.test/);
    expect(t).toContain('ecdsa-with-SHA512');

    const leaf = await ca.issue({
      subject: 'CN=Alice',
      san: { dns: ['a.example.test'], email: ['alice@example.test'], uri: ['spiffe://example.test/alice'], ip: ['10.1.2.3', '::1'] },
      extKeyUsage: ['clientAuth', '1.3.6.1.5.5.7.3.4'],
      keyUsage: ['digitalSignature', 'keyEncipherment'],
      notBefore,
      notAfter,
    });
    const node = new X509Certificate(leaf.pem);
    expect(node.subjectAltName).toBe(
      'DNS:a.example.test, email:alice@example.test, URI:spiffe://example.test/alice, IP Address:10.1.2.3, IP Address:0:0:0:0:0:0:0:1',
    );
    expect(node.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.4']);
    expect(text(leaf.pem)).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
  });

  it('can leave extensions out (null) and sign with SHA-1 for weak-algorithm tests', async () => {
    const ca = await createCa({ key: 'rsa-2048' });
    const bare = await ca.issue({ ca: null, keyUsage: null, extKeyUsage: null, subjectKeyIdentifier: false, authorityKeyIdentifier: false, signatureHash: 'SHA-1' });
    const t = text(bare.pem);
    expect(t).not.toContain('Basic Constraints');
    expect(t).not.toContain('Key Usage');
    expect(t).not.toContain('Key Identifier');
    expect(t).toContain('sha1WithRSAEncryption');
    expect(new X509Certificate(bare.pem).verify(ca.publicKey)).toBe(true);
  });

  it('gives unique default subjects and random serials', async () => {
    const ca = await createCa();
    const a = await ca.issue();
    const b = await ca.issue();
    expect(a.subject).toMatch(/^CN=certgate-test-/);
    expect(a.subject).not.toBe(b.subject);
    expect(a.serialNumber).not.toBe(b.serialNumber);
    expect(a.notAfter.getTime() - a.notBefore.getTime()).toBe(365 * 24 * 3600_000 + 3600_000);
  });

  it('cross-signs: the cross certificate carries the other CA subject and key', async () => {
    const oldRoot = await createCa({ subject: 'CN=Old Root' });
    const newRoot = await createCa({ subject: 'CN=New Root' });
    const cross = await oldRoot.crossSign(newRoot);
    expect(cross.subject).toBe('CN=New Root');
    expect(cross.issuer).toBe('CN=Old Root');
    expect(cross.publicKey.export({ format: 'der', type: 'spki' }).equals(newRoot.publicKey.export({ format: 'der', type: 'spki' }))).toBe(true);
    const leaf = await newRoot.issue();
    // The leaf validates through the cross certificate up to the old root.
    const res = openssl('verify', '-CAfile', file('old.pem', oldRoot.pem), '-untrusted', file('cross.pem', cross.pem), file('xl.pem', leaf.pem));
    expect(res.status).toBe(0);
  });

  it('loadCa: re-creates an issuer from PEM files (every key type), refuses a foreign key', async () => {
    for (const spec of ['ec-p256', 'ec-p384', 'rsa-2048', 'ed25519'] as const) {
      const ca = await createCa({ key: spec });
      const loaded = await loadCa(ca.pem, ca.keyPem);
      expect(loaded.fingerprint256).toBe(ca.fingerprint256);
      expect(loaded.testKey.spec).toBe(spec);
      const leaf = await loaded.issue();
      expect(new X509Certificate(leaf.pem).verify(ca.publicKey)).toBe(true);
      expect(new X509Certificate(leaf.pem).checkIssued(new X509Certificate(ca.pem))).toBe(true);
    }
    const a = await createCa();
    const b = await createCa();
    await expect(loadCa(a.pem, b.keyPem)).rejects.toThrow(/does not belong/);
    await expect(loadCa('not a cert', a.keyPem)).rejects.toThrow(/could not be read/);
    await expect(importTestKey('nope')).rejects.toThrow(/could not be read/);
  });

  it('encodeName takes values literally (commas, plus signs, non-ASCII) in the given order', async () => {
    const ca = await createCa({
      subject: encodeName([
        { type: 'C', value: 'DE' },
        { type: 'O', value: 'Müller + Söhne, GmbH' },
        { type: 'emailAddress', value: 'ca@example.test' },
        { type: 'CN', value: 'Smith, John' },
      ]),
    });
    const t = text(ca.pem);
    expect(t).toContain('Subject: C = DE, O = "M\\C3\\BCller + S\\C3\\B6hne, GmbH", emailAddress = ca@example.test, CN = "Smith, John"');
    expect(new X509Certificate(ca.pem).subject).toBe('C=DE\nO=Müller \\+ Söhne\\, GmbH\nemailAddress=ca@example.test\nCN=Smith\\, John');
    expect(() => encodeName([{ type: 'XX', value: 'x' }])).toThrow(/unknown name attribute type "XX"/);
  });

  it('rejects an unknown key spec with a clear error', async () => {
    await expect(createCa({ key: 'dsa-1024' as never })).rejects.toThrow(/unknown key spec "dsa-1024"/);
  });
});

describe('broken certificates', () => {
  const now = new Date(Date.UTC(2030, 5, 15, 12));
  let pki: TestPki;
  beforeAll(async () => {
    pki = await createTestPki({ notBefore: new Date(Date.UTC(2029, 0, 1)), notAfter: new Date(Date.UTC(2032, 0, 1)) });
  });
  const verifyAt = (leafPem: string, untrusted: string[] = [pki.intermediate.pem]) =>
    openssl(
      'verify',
      '-attime',
      String(Math.floor(now.getTime() / 1000)),
      '-purpose',
      'sslclient',
      '-CAfile',
      file('broot.pem', pki.root.pem),
      ...(untrusted.length ? ['-untrusted', file(`bu-${untrusted.length}.pem`, untrusted.join(''))] : []),
      file('bleaf.pem', leafPem),
    );

  it('the good client passes at the same instant (control)', () => {
    expect(verifyAt(pki.client.pem).status).toBe(0);
  });

  it('expired and not-yet-valid are relative to `now`', async () => {
    const expired = await issueExpired(pki.intermediate, { now });
    expect(expired.notAfter.getTime()).toBeLessThan(now.getTime());
    expect(verifyAt(expired.pem).out).toContain('certificate has expired');
    const future = await issueNotYetValid(pki.intermediate, { now });
    expect(future.notBefore.getTime()).toBeGreaterThan(now.getTime());
    expect(verifyAt(future.pem).out).toContain('certificate is not yet valid');
  });

  it('wrong EKU, CA used as leaf, leaf used as CA, unknown critical extension, self-signed leaf', async () => {
    const validity = { notBefore: pki.client.notBefore, notAfter: pki.client.notAfter };
    const wrongEku = await issueWrongEku(pki.intermediate, validity);
    expect(new X509Certificate(wrongEku.pem).keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(verifyAt(wrongEku.pem).out).toContain('unsuitable certificate purpose');

    const caLeaf = await issueCaAsLeaf(pki.intermediate, validity);
    expect(new X509Certificate(caLeaf.pem).ca).toBe(true);

    const { notCa, leaf } = await issueLeafAsCa(pki.intermediate, validity);
    expect(new X509Certificate(notCa.pem).ca).toBe(false);
    expect(new X509Certificate(leaf.pem).checkIssued(new X509Certificate(notCa.pem))).toBe(true);
    expect(new X509Certificate(leaf.pem).verify(notCa.publicKey)).toBe(true);
    expect(verifyAt(leaf.pem, [notCa.pem, pki.intermediate.pem]).out).toContain('invalid CA certificate');

    const unknown = await issueUnknownCriticalExtension(pki.intermediate, validity);
    expect(text(unknown.pem)).toMatch(/1\.3\.6\.1\.4\.1\.55555\.1\.1: critical/);
    expect(verifyAt(unknown.pem).out).toContain('unhandled critical extension');

    const self = await issueSelfSignedLeaf(validity);
    const node = new X509Certificate(self.pem);
    expect(node.subject).toBe(node.issuer);
    expect(node.verify(self.publicKey)).toBe(true);
    expect(node.ca).toBe(false);
    expect(verifyAt(self.pem, []).status).not.toBe(0);
  });
});
