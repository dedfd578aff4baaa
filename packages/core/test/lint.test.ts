import 'reflect-metadata';
import { X509Certificate, generateKeyPairSync, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CA_HINTS_MAX_BYTES,
  CertgateOptionError,
  LINT_CODES,
  LINT_MAX_BLOCKS,
  LINT_MAX_BYTES,
  lintCaBundle,
  toPem,
  type LintResult,
} from '@certgate/core';
import { createCa, createTestPki, pemBundle, type TestPki } from '@certgate/core/testing';

const T = new Date(Date.UTC(2030, 5, 1));
const validity = { notBefore: new Date(Date.UTC(2029, 0, 1)), notAfter: new Date(Date.UTC(2035, 0, 1)) };

/** Every message is a sentence and carries none of the uploaded text's base64 bodies. */
function expectClean(result: LintResult, input: string): void {
  const bodies = [...input.matchAll(/-----BEGIN [A-Z0-9 ]+-----([\s\S]*?)-----END/g)].map((m) => m[1]!.replace(/\s+/g, ''));
  for (const p of result.problems) {
    expect(p.message).toMatch(/[.!]$/);
    expect(p.message).not.toContain('-----BEGIN');
    for (const body of bodies) {
      for (let i = 0; i + 16 <= body.length; i += 16) expect(p.message).not.toContain(body.slice(i, i + 16));
    }
  }
}

function codes(r: LintResult): string[] {
  return r.problems.map((p) => p.code);
}

/** RFC 4514 form of node:crypto's one-attribute-per-line subject (simple names only). */
function rfc4514(nodeSubject: string): string {
  return nodeSubject.split('\n').reverse().join(',');
}

describe('lintCaBundle', () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await createTestPki(validity);
  });

  it('accepts a root and reports it as node:crypto sees it', () => {
    const r = lintCaBundle(pki.root.pem, { time: T });
    expect(r).toMatchObject({ ok: true, problems: [] });
    const node = new X509Certificate(pki.root.pem);
    expect(r.certificates).toEqual([
      {
        subject: rfc4514(node.subject),
        issuer: rfc4514(node.issuer),
        serialNumber: node.serialNumber.toUpperCase(),
        notBefore: validity.notBefore.toISOString(),
        notAfter: validity.notAfter.toISOString(),
        fingerprint256: node.fingerprint256,
      },
    ]);
    expect(r.certificates[0]!.subject).toBe('O=certgate,CN=certgate test root');
  });

  it('accepts a bundle (root + intermediate, text around the blocks, CRLF) and keeps the order', () => {
    const text = `# my CAs\r\n${pki.intermediate.pem.replace(/\n/g, '\r\n')}subject=whatever\n${pki.root.pem}`;
    const r = lintCaBundle(text, { time: T });
    expect(r.ok).toBe(true);
    expect(r.certificates.map((c) => c.fingerprint256)).toEqual([pki.intermediate.fingerprint256, pki.root.fingerprint256]);
  });

  it('EMPTY for empty or whitespace-only text', () => {
    for (const text of ['', '   \n\t\r\n']) {
      const r = lintCaBundle(text, { time: T });
      expect(r.ok).toBe(false);
      expect(codes(r)).toEqual(['EMPTY']);
      expect(r.certificates).toEqual([]);
    }
  });

  it('NOT_PEM for garbage, DER pasted as text, and base64 without armour', () => {
    const garbage = lintCaBundle('hello, this is my CA', { time: T });
    expect(codes(garbage)).toEqual(['NOT_PEM']);
    expect(garbage.problems[0]!.message).toContain('-----BEGIN CERTIFICATE-----"');

    const derAsLatin1 = Buffer.from(pki.root.der).toString('latin1');
    const der = lintCaBundle(derAsLatin1, { time: T });
    expect(codes(der)).toEqual(['NOT_PEM']);
    expect(der.problems[0]!.message).toMatch(/binary \(DER\).*openssl x509 -inform der/);
    const derAsUtf8 = lintCaBundle(Buffer.from(pki.root.der).toString('utf8'), { time: T });
    expect(derAsUtf8.problems[0]!.message).toContain('binary (DER)');

    const bare = Buffer.from(pki.root.der).toString('base64');
    const b64 = lintCaBundle(bare, { time: T });
    expect(codes(b64)).toEqual(['NOT_PEM']);
    expect(b64.problems[0]!.message).toContain('without the "-----BEGIN CERTIFICATE-----"');
    expect(b64.problems[0]!.message).not.toContain(bare.slice(0, 16));
  });

  it('PRIVATE_KEY for every private-key label, and never echoes the key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keys = [
      pki.client.keyPem,
      rsa.privateKey.export({ format: 'pem', type: 'pkcs1' }).toString(),
      ec.privateKey.export({ format: 'pem', type: 'sec1' }).toString(),
      ec.privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'x' }).toString(),
    ];
    expect(keys.map((k) => /BEGIN ([A-Z ]+)-----/.exec(k)![1])).toEqual([
      'PRIVATE KEY',
      'RSA PRIVATE KEY',
      'EC PRIVATE KEY',
      'ENCRYPTED PRIVATE KEY',
    ]);
    for (const key of keys) {
      const r = lintCaBundle(key, { time: T });
      expect(r.ok).toBe(false);
      expect(codes(r)).toEqual(['PRIVATE_KEY']);
      expect(r.problems[0]).toMatchObject({ severity: 'error', index: 0 });
      expect(r.problems[0]!.message).toContain('Never upload a private key');
      expectClean(r, key);
    }
    // A CA certificate with its key in the same file: the certificate is fine, the key is refused.
    const combined = pki.root.pem + pki.root.keyPem;
    const r = lintCaBundle(combined, { time: T });
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([expect.objectContaining({ code: 'PRIVATE_KEY', index: 1 })]);
    expect(r.certificates).toHaveLength(1);
    expectClean(r, combined);
  });

  it('CSR for a certificate request; NOT_A_CERTIFICATE with a hint for other labels', async () => {
    const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as never;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create(
      { name: 'CN=csr', keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } },
      webcrypto as never,
    );
    const csrPem = csr.toString('pem');
    expect(csrPem).toContain('BEGIN CERTIFICATE REQUEST');
    const r = lintCaBundle(csrPem, { time: T });
    expect(codes(r)).toEqual(['CSR']);
    expect(r.problems[0]!.message).toContain('certificate signing request');
    expectClean(r, csrPem);

    const crl = await pki.root.createCrl({ thisUpdate: validity.notBefore });
    const others = [
      [crl.pem, 'certificate revocation list'],
      [pki.root.publicKey.export({ format: 'pem', type: 'spki' }).toString(), 'bare public key'],
      [pki.root.pem.replace(/CERTIFICATE/g, 'TRUSTED CERTIFICATE'), 'openssl x509 -in ca.pem'],
      [toPem(new Uint8Array([1, 2, 3]), 'PKCS7'), 'openssl pkcs7 -print_certs'],
      [toPem(new Uint8Array([1, 2, 3]), 'SOMETHING ELSE'), '"SOMETHING ELSE" block'],
    ] as const;
    for (const [text, hint] of others) {
      const o = lintCaBundle(text, { time: T });
      expect(codes(o)).toEqual(['NOT_A_CERTIFICATE']);
      expect(o.problems[0]!.message).toContain(hint);
      expectClean(o, text);
    }
  });

  it('PARSE_ERROR for bad base64, a mismatched END line, truncated or trailing-garbage DER', () => {
    const body = Buffer.from(pki.root.der);
    const cases = [
      '-----BEGIN CERTIFICATE-----\n!!!notbase64!!!\n-----END CERTIFICATE-----\n',
      pki.root.pem.replace('-----END CERTIFICATE-----', '-----END X509 CRL-----'),
      toPem(body.subarray(0, body.length - 10)),
      toPem(Buffer.concat([body, Buffer.from([0, 0])])),
      toPem(new Uint8Array(64).fill(0x41)),
    ];
    for (const text of cases) {
      const r = lintCaBundle(text, { time: T });
      expect(r.ok).toBe(false);
      expect(codes(r)).toEqual(['PARSE_ERROR']);
      expect(r.problems[0]!.index).toBe(0);
      expect(r.certificates).toEqual([]);
      expectClean(r, text);
    }
  });

  it('NOT_A_CA for a leaf uploaded by mistake (cA=FALSE, or no basicConstraints)', async () => {
    const r = lintCaBundle(pki.client.pem, { time: T });
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([
      expect.objectContaining({ code: 'NOT_A_CA', severity: 'error', index: 0, subject: 'O=certgate,CN=certgate test client' }),
    ]);
    expect(r.problems[0]!.message).toContain('client or server certificate, uploaded by mistake');
    expect(r.certificates).toEqual([]);

    const noBc = await pki.root.issue({ ...validity, ca: null, subject: 'CN=no bc' });
    const r2 = lintCaBundle(noBc.pem, { time: T });
    expect(codes(r2)).toEqual(['NOT_A_CA']);
    expect(r2.problems[0]!.message).toContain('no basicConstraints extension with cA=TRUE');

    // A server's full chain (leaf + intermediate): the intermediate is usable, the leaf is not.
    const full = lintCaBundle(pki.serverChainPem, { time: T });
    expect(full.ok).toBe(false);
    expect(full.problems.map((p) => [p.code, p.index])).toEqual([['NOT_A_CA', 0]]);
    expect(full.certificates.map((c) => c.fingerprint256)).toEqual([pki.intermediate.fingerprint256]);
  });

  it('NO_KEY_CERT_SIGN for a CA whose keyUsage cannot sign certificates', async () => {
    const ca = await createCa({ ...validity, keyUsage: ['cRLSign', 'digitalSignature'] });
    const r = lintCaBundle(ca.pem, { time: T });
    expect(codes(r)).toEqual(['NO_KEY_CERT_SIGN']);
    expect(r.ok).toBe(false);
    const noKu = await createCa({ ...validity, keyUsage: null });
    expect(lintCaBundle(noKu.pem, { time: T }).ok).toBe(true);
  });

  it('EXPIRED and NOT_YET_VALID are errors, EXPIRES_SOON a warning, all judged at `time`', () => {
    const before = lintCaBundle(pki.root.pem, { time: new Date(Date.UTC(2028, 0, 1)) });
    expect(codes(before)).toEqual(['NOT_YET_VALID']);
    expect(before.ok).toBe(false);
    expect(before.problems[0]!.message).toContain('2029-01-01T00:00:00.000Z');

    const after = lintCaBundle(pki.root.pem, { time: new Date(Date.UTC(2035, 0, 2)) });
    expect(codes(after)).toEqual(['EXPIRED']);
    expect(after.problems[0]!.message).toContain('expired on 2035-01-01');
    expect(after.certificates).toHaveLength(1);

    const soon = lintCaBundle(pki.root.pem, { time: new Date(Date.UTC(2034, 11, 22)) });
    expect(soon.ok).toBe(true);
    expect(soon.problems).toEqual([expect.objectContaining({ code: 'EXPIRES_SOON', severity: 'warning', index: 0 })]);
    expect(soon.problems[0]!.message).toContain('in 10 days');
    expect(lintCaBundle(pki.root.pem, { time: new Date(Date.UTC(2034, 11, 22)), expiryWarningDays: 0 }).problems).toEqual([]);
    expect(lintCaBundle(pki.root.pem, { time: new Date(Date.UTC(2034, 11, 22)), expiryWarningDays: 5 }).problems).toEqual([]);
    expect(codes(lintCaBundle(pki.root.pem, { time: new Date(Date.UTC(2034, 6, 1)), expiryWarningDays: 365 }))).toEqual(['EXPIRES_SOON']);
  });

  it('DUPLICATE is a warning and the copy is left out', () => {
    const r = lintCaBundle(pemBundle(pki.root, pki.intermediate, pki.root), { time: T });
    expect(r.ok).toBe(true);
    expect(r.problems).toEqual([expect.objectContaining({ code: 'DUPLICATE', severity: 'warning', index: 2 })]);
    expect(r.problems[0]!.message).toContain('same certificate as certificate 1');
    expect(r.certificates).toHaveLength(2);
  });

  it('WEAK_KEY for an RSA CA key under 2048 bits', async () => {
    const weak = await createCa({ ...validity, key: 'rsa-1024' });
    const r = lintCaBundle(weak.pem, { time: T });
    expect(r.problems).toEqual([expect.objectContaining({ code: 'WEAK_KEY', severity: 'error' })]);
    expect(r.problems[0]!.message).toContain('1024-bit key');
  });

  it('HINTS_TOO_LARGE when the CA names exceed the TLS CertificateRequest limit', async () => {
    // 40 CAs with ~1.7 KiB subjects: about 68 KiB of names.
    const ous = Array.from({ length: 26 }, (_, i) => `OU=${String.fromCharCode(97 + i).repeat(60)}`).join(', ');
    const cas = await Promise.all(Array.from({ length: 40 }, (_, i) => createCa({ ...validity, subject: `CN=CA ${i}, ${ous}` })));
    const subjectBytes = cas.map((c) => new Uint8Array(c.x509.subjectName.toArrayBuffer()).length + 2);
    const total = subjectBytes.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(CA_HINTS_MAX_BYTES);
    const r = lintCaBundle(pemBundle(...cas), { time: T });
    expect(r.ok).toBe(false);
    expect(codes(r)).toEqual(['HINTS_TOO_LARGE']);
    expect(r.problems[0]!.message).toContain(`take ${total} bytes`);
    expect(r.problems[0]!.index).toBeUndefined();
    // One fewer CA than needed to cross the limit is fine.
    let n = 0;
    for (let sum = 0; n < cas.length && sum + subjectBytes[n]! <= CA_HINTS_MAX_BYTES; n++) sum += subjectBytes[n]!;
    expect(lintCaBundle(pemBundle(...cas.slice(0, n)), { time: T }).ok).toBe(true);
    expect(codes(lintCaBundle(pemBundle(...cas.slice(0, n + 1)), { time: T }))).toEqual(['HINTS_TOO_LARGE']);
  });

  it('TOO_LARGE over maxBytes (default 1 MiB), without looking at the content', () => {
    const big = pki.root.pem + ' '.repeat(LINT_MAX_BYTES);
    expect(codes(lintCaBundle(big, { time: T }))).toEqual(['TOO_LARGE']);
    expect(codes(lintCaBundle(pki.root.pem, { time: T, maxBytes: 100 }))).toEqual(['TOO_LARGE']);
    // Multi-byte characters count as their UTF-8 size.
    const wide = '€'.repeat(400_000); // 400 000 UTF-16 units, 1 200 000 UTF-8 bytes
    expect(codes(lintCaBundle(wide, { time: T }))).toEqual(['TOO_LARGE']);
  });

  it('TOO_MANY_BLOCKS over the block limit', () => {
    const text = '-----BEGIN X-----\nAAAA\n-----END X-----\n'.repeat(LINT_MAX_BLOCKS + 1);
    expect(codes(lintCaBundle(text, { time: T }))).toEqual(['TOO_MANY_BLOCKS']);
  });

  it('reports every problem of a mixed bundle in block order', async () => {
    const expired = await createCa({ notBefore: new Date(Date.UTC(2020, 0, 1)), notAfter: new Date(Date.UTC(2021, 0, 1)) });
    const text = pemBundle(pki.root, pki.client.keyPem, pki.client, expired, pki.root);
    const r = lintCaBundle(text, { time: T });
    expect(r.problems.map((p) => [p.code, p.index])).toEqual([
      ['PRIVATE_KEY', 1],
      ['NOT_A_CA', 2],
      ['EXPIRED', 3],
      ['DUPLICATE', 4],
    ]);
    expect(r.certificates.map((c) => c.fingerprint256)).toEqual([pki.root.fingerprint256, expired.fingerprint256]);
    expectClean(r, text);
  });

  it('keeps control characters and huge subjects out of messages', async () => {
    const ca = await createCa({ ...validity, subject: `CN=evil\u0007name${'x'.repeat(500)}`, keyUsage: ['cRLSign'] });
    const r = lintCaBundle(ca.pem, { time: T });
    expect(codes(r)).toEqual(['NO_KEY_CERT_SIGN']);
    expect(r.problems[0]!.message).not.toContain('\u0007');
    expect(r.problems[0]!.message.length).toBeLessThan(600);
  });

  it('refuses bad options with CertgateOptionError, bad input with a problem', () => {
    expect(() => lintCaBundle(pki.root.pem, { time: new Date('nope') })).toThrow(CertgateOptionError);
    expect(() => lintCaBundle(pki.root.pem, { expiryWarningDays: -1 })).toThrow(/expiryWarningDays/);
    expect(() => lintCaBundle(pki.root.pem, { maxBytes: LINT_MAX_BYTES + 1 })).toThrow(/maxBytes/);
    expect(codes(lintCaBundle(42 as unknown as string))).toEqual(['NOT_PEM']);
    expect(codes(lintCaBundle(null as unknown as string))).toEqual(['NOT_PEM']);
  });

  it('every LintCode is reachable (the list is the contract)', () => {
    expect(new Set(LINT_CODES).size).toBe(LINT_CODES.length);
    expect(LINT_CODES).toEqual([
      'EMPTY', 'NOT_PEM', 'PRIVATE_KEY', 'CSR', 'NOT_A_CERTIFICATE', 'PARSE_ERROR', 'NOT_A_CA', 'NO_KEY_CERT_SIGN',
      'EXPIRED', 'NOT_YET_VALID', 'EXPIRES_SOON', 'DUPLICATE', 'WEAK_KEY', 'HINTS_TOO_LARGE', 'TOO_LARGE', 'TOO_MANY_BLOCKS',
    ]);
  });

  it('never throws and never accepts junk (property test)', () => {
    const good = pki.root.pem;
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), (s) => {
        const r = lintCaBundle(s, { time: T });
        expect(r.ok).toBe(false);
        expect(r.certificates).toEqual([]);
      }),
      { numRuns: 300 },
    );
    // Flip one byte of the certificate's DER: never a throw; if it still parses it is still reported.
    const der = Buffer.from(pki.root.der);
    fc.assert(
      fc.property(fc.nat(der.length - 1), fc.integer({ min: 1, max: 255 }), (pos, x) => {
        const mutated = Buffer.from(der);
        mutated[pos]! ^= x;
        const r = lintCaBundle(toPem(mutated), { time: T });
        expect(r.ok || r.problems.length > 0).toBe(true);
        for (const p of r.problems) expect(typeof p.message).toBe('string');
      }),
      { numRuns: 300 },
    );
    expect(lintCaBundle(good, { time: T }).ok).toBe(true);
  });
});
