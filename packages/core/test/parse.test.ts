import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MalformedCertificateError, parseCertificate, serialHex } from '../src/cert/parse.js';
import { formatName } from '../src/cert/name.js';
import {
  NULL,
  algs,
  bits,
  bool,
  certificate,
  cn,
  concat,
  explicit,
  ext,
  genTime,
  hex,
  ia5,
  implicit,
  int,
  keyPair,
  name,
  octets,
  oid,
  printable,
  seq,
  sha256hex,
  signWith,
  tbsCertificate,
  tlv,
  type TbsOptions,
  utcTime,
  utf8,
} from './der-fixtures.js';

const rsa = keyPair('rsa2048');

/** A certificate signed with RSA-2048/SHA-256 by `rsa`, with the given TBS fields. */
function cert(o: Partial<TbsOptions> = {}): Uint8Array {
  const tbs = tbsCertificate({ spki: keyPair('p256').spki, ...o, sigAlg: o.sigAlg ?? algs.sha256Rsa });
  return certificate(tbs, o.sigAlg ?? algs.sha256Rsa, signWith(tbs, rsa.privateKey, { hash: 'sha256' }));
}

function malformed(der: Uint8Array, re: RegExp): void {
  let err: unknown;
  try {
    parseCertificate(der);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(MalformedCertificateError);
  expect((err as Error).message).toMatch(re);
  expect((err as Error).message).toMatch(/\.$/); // a sentence
}

const withExt = (...e: Uint8Array[]) => cert({ extensions: e });

describe('parseCertificate: the basic fields', () => {
  it('fills every field of a v3 certificate, agreeing with node:crypto', () => {
    const der = cert({
      serial: int(0x00c0ffeen),
      issuer: name([['2.5.4.6', printable('US')]], [['2.5.4.10', utf8('Acme')]], [['2.5.4.3', utf8('Acme Root')]]),
      subject: name([['2.5.4.3', utf8('alice')]]),
      notBefore: utcTime(new Date('2024-03-01T12:00:00Z')),
      notAfter: genTime(new Date('2051-01-01T00:00:00Z')),
      extensions: [ext('2.5.29.19', true, seq())],
    });
    const c = parseCertificate(der);
    const node = new X509Certificate(der);
    expect(c.version).toBe(3);
    expect(serialHex(c.serialNumber)).toBe(node.serialNumber);
    expect(c.notBefore).toBe(Date.parse(node.validFrom));
    expect(c.notAfter).toBe(Date.UTC(2051, 0, 1));
    expect(c.notAfter).toBe(Date.parse(node.validTo));
    expect(c.sha256).toBe(node.fingerprint256.replace(/:/g, '').toLowerCase());
    expect(c.sha256).toBe(sha256hex(der));
    expect(formatName(c.issuer)).toBe('CN=Acme Root,O=Acme,C=US');
    expect(node.issuer.split('\n')).toEqual(['C=US', 'O=Acme', 'CN=Acme Root']);
    expect(c.subject.rdns[0]![0]).toMatchObject({ oid: '2.5.4.3', tag: 0x0c, text: 'alice' });
    expect(c.tbsSignatureAlgorithm).toEqual({ oid: '1.2.840.113549.1.1.11', params: NULL });
    expect(c.signatureAlgorithm).toEqual(c.tbsSignatureAlgorithm);
    expect(c.signature.length).toBe(256);
    expect(c.spki.algorithm.oid).toBe('1.2.840.10045.2.1');
    expect(Buffer.from(c.spki.der).equals(Buffer.from(keyPair('p256').spki))).toBe(true);
    expect(Buffer.from(c.spki.der).equals(node.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
    expect(c.basicConstraints).toEqual({ ca: false, pathLen: null });
    expect(c.extensions).toHaveLength(1);
    expect(c.unknownCriticalExtensions).toEqual([]);
    expect(c.profileProblems).toEqual([]);
    expect(c.selfIssued).toBe(false);
    // zero-copy: tbs is a view into der
    expect(c.tbs.buffer).toBe(der.buffer);
  });

  it('selfIssued follows RFC 5280 §7.1 (case and spacing differences still match)', () => {
    const c = parseCertificate(cert({ issuer: cn('Example  CA', printable), subject: cn(' example ca') }));
    expect(c.selfIssued).toBe(true);
  });

  it('parses v1 (version omitted) and v2 with unique identifiers', () => {
    expect(parseCertificate(cert({ version: 1 })).version).toBe(1);
    const v2 = parseCertificate(cert({ version: 2, trailing: concat(implicit(1, hex('00 aa')), implicit(2, hex('00 bb'))) }));
    expect(v2.version).toBe(2);
    expect([...v2.issuerUniqueId!]).toEqual([0xaa]);
    expect([...v2.subjectUniqueId!]).toEqual([0xbb]);
  });

  it('lists serial-number profile problems without refusing the certificate', () => {
    expect(parseCertificate(cert({ serial: int(0) })).profileProblems.join()).toMatch(/zero/);
    expect(parseCertificate(cert({ serial: int(-5) })).profileProblems.join()).toMatch(/negative/);
    expect(parseCertificate(cert({ serial: int(2n ** 160n) })).profileProblems.join()).toMatch(/longer than 20 octets/);
    // 20 value octets with the top bit set need a 21st sign octet: still fine.
    expect(parseCertificate(cert({ serial: int(2n ** 160n - 1n) })).profileProblems).toEqual([]);
  });

  it('an unused-bits signature BIT STRING gives an empty signature (so it fails as BAD_SIGNATURE)', () => {
    const tbs = tbsCertificate({ spki: keyPair('p256').spki });
    const sig = signWith(tbs, rsa.privateKey, { hash: 'sha256' });
    sig[sig.length - 1]! &= 0xfe;
    const c = parseCertificate(certificate(tbs, algs.sha256Rsa, sig, 1));
    expect(c.signature.length).toBe(0);
  });
});

describe('parseCertificate: structural rules', () => {
  it('refuses an explicitly encoded v1 (DEFAULT must be omitted)', () => {
    malformed(cert({ version: 'explicit-v1' }), /version: v1 is the DEFAULT/);
  });

  it('refuses unknown versions, unique IDs in v1 and extensions before v3', () => {
    const v4 = concat(explicit(0, int(3)));
    const tbs = tbsCertificate({ spki: keyPair('p256').spki, version: 1 });
    // splice an explicit version 4 in front of the serial
    const body = concat(v4, tbs.subarray(2));
    malformed(certificate(tlv(0x30, body.subarray(0)), algs.sha256Rsa, new Uint8Array(8)), /version: 4 is not a known/);
    malformed(cert({ version: 1, trailing: implicit(1, hex('00aa')) }), /issuerUniqueID: not allowed in a version 1/);
    malformed(cert({ version: 2, extensions: [ext('2.5.29.19', true, seq())] }), /extensions: only allowed in a version 3/);
    malformed(cert({ extensions: [] }), /must hold at least one extension/);
  });

  it('refuses outer/inner signature algorithms that are not byte-identical', () => {
    const tbs = tbsCertificate({ spki: keyPair('p256').spki, sigAlg: algs.sha256Rsa });
    const der = certificate(tbs, seq(oid('1.2.840.113549.1.1.11')), signWith(tbs, rsa.privateKey, { hash: 'sha256' }));
    malformed(der, /signatureAlgorithm differs from the signature field/);
  });

  it('refuses trailing bytes after the certificate and inside the TBS', () => {
    const good = cert();
    malformed(concat(good, hex('00')), /Certificate: 1 unexpected trailing byte/);
    malformed(cert({ trailing: NULL }), /tbsCertificate: 2 unexpected trailing byte/);
  });

  it('refuses truncated input at every length with a sentence', () => {
    const good = cert({ extensions: [ext('2.5.29.17', false, seq(tlv(0x82, Buffer.from('a.example'))))] });
    for (let n = 0; n < good.length; n += 7) malformed(good.subarray(0, n), /^The certificate is malformed: /);
  });

  it('refuses bad times and bad names', () => {
    malformed(cert({ notBefore: tlv(0x17, Buffer.from('2401010000Z')) }), /validity notBefore: UTCTime must be YYMMDDHHMMSSZ/);
    malformed(cert({ notAfter: tlv(0x18, Buffer.from('20240101000000.1Z')) }), /GeneralizedTime/);
    malformed(cert({ subject: name([['2.5.4.3', tlv(0x13, Buffer.from('a@b'))]]) }), /subject RDN attribute value: PrintableString/);
    malformed(cert({ subject: seq(tlv(0x31)) }), /an RDN must hold at least one attribute/);
    malformed(cert({ subject: seq(tlv(0x31, seq(oid('2.5.4.3')))) }), /subject RDN attribute value: missing/);
  });

  it('refuses a non-octet-aligned public key', () => {
    const spki = seq(seq(oid('1.3.101.112')), bits(new Uint8Array(32).fill(0x10), 4));
    malformed(cert({ spki }), /subjectPublicKey: BIT STRING must be a whole number of octets/);
  });

  it('never throws anything but MalformedCertificateError on mutated certificates (fuzz)', () => {
    const good = cert({
      extensions: [
        ext('2.5.29.19', true, seq(bool(true), int(3))),
        ext('2.5.29.15', true, bits(hex('06'), 1)),
        ext('2.5.29.17', false, seq(tlv(0x82, Buffer.from('a.example')), tlv(0x87, hex('7f000001')))),
        ext('2.5.29.32', false, seq(seq(oid('2.5.29.32.0')))),
      ],
    });
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(good.length), (at, byte, cut) => {
        const m = Uint8Array.from(good);
        m[at] = byte;
        for (const input of [m, m.subarray(0, cut)]) {
          try {
            parseCertificate(input);
          } catch (e) {
            expect(e).toBeInstanceOf(MalformedCertificateError);
            // A DER violation, never an internal error caught by the last-resort wrapper.
            expect((e as Error).cause ?? e).not.toBeInstanceOf(TypeError);
            expect((e as Error).message).not.toBe('The certificate could not be parsed.');
          }
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('parseCertificate: extensions', () => {
  it('decodes basicConstraints and keyUsage', () => {
    const c = parseCertificate(withExt(ext('2.5.29.19', true, seq(bool(true), int(2))), ext('2.5.29.15', true, bits(hex('06'), 1))));
    expect(c.basicConstraints).toEqual({ ca: true, pathLen: 2 });
    expect(c.keyUsage).toBe((1 << 5) | (1 << 6)); // keyCertSign | cRLSign
    expect(parseCertificate(withExt(ext('2.5.29.19', true, seq(bool(true), int(2n ** 70n))))).basicConstraints!.pathLen).toBe(Number.MAX_SAFE_INTEGER);
    malformed(withExt(ext('2.5.29.19', true, seq(bool(false)))), /cA: FALSE is the DEFAULT/);
    malformed(withExt(ext('2.5.29.19', true, seq(bool(true), int(-1)))), /pathLenConstraint: must not be negative/);
    malformed(withExt(ext('2.5.29.15', true, bits(hex('00')))), /keyUsage: at least one bit/);
    malformed(withExt(ext('2.5.29.15', true, bits(hex('07'), 1))), /padding bits must be zero/);
  });

  it('refuses an explicit critical FALSE, duplicates and undecodable values', () => {
    malformed(withExt(seq(oid('2.5.29.19'), bool(false), octets(seq()))), /^.*extension 2\.5\.29\.19 critical: FALSE is the DEFAULT/);
    // The extension's OID is in the message of every error inside one Extension, and nothing else stands in for it.
    malformed(withExt(seq(oid('2.5.29.19'), bool(true), NULL)), /extension 2\.5\.29\.19 extnValue: expected OCTET STRING/);
    malformed(withExt(seq(oid('2.5.29.19'), octets(seq()), NULL)), /^[^\u0000]*extension 2\.5\.29\.19: [^\u0000]*$/);
    malformed(withExt(ext('2.5.29.14', false, octets(hex('01'))), ext('2.5.29.14', false, octets(hex('02')))), /extension 2\.5\.29\.14 appears more than once/);
    malformed(withExt(ext('2.5.29.17', false, Buffer.from('example.com') as unknown as Uint8Array)), /subjectAltName/);
    malformed(withExt(ext('2.5.29.19', true, concat(seq(), NULL))), /basicConstraints: 2 unexpected trailing/);
  });

  it('collects unknown critical extensions instead of throwing; ignores unknown non-critical ones', () => {
    const c = parseCertificate(withExt(ext('1.3.6.1.4.1.55738.666.1', true, NULL), ext('1.3.6.1.4.1.55738.666.2', false, NULL)));
    expect(c.unknownCriticalExtensions).toEqual(['1.3.6.1.4.1.55738.666.1']);
    expect(c.extensions.map((e) => [e.oid, e.critical])).toEqual([
      ['1.3.6.1.4.1.55738.666.1', true],
      ['1.3.6.1.4.1.55738.666.2', false],
    ]);
  });

  it('decodes extKeyUsage (SIZE 1..MAX)', () => {
    expect(parseCertificate(withExt(ext('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.2'), oid('1.3.6.1.5.5.7.3.1'))))).extKeyUsage).toEqual([
      '1.3.6.1.5.5.7.3.2',
      '1.3.6.1.5.5.7.3.1',
    ]);
    malformed(withExt(ext('2.5.29.37', false, seq())), /extKeyUsage: must hold at least one/);
  });

  it('decodes every GeneralName form in subjectAltName and issuerAltName', () => {
    const otherName = tlv(0xa0, oid('1.3.6.1.4.1.311.20.2.3'), explicit(0, utf8('upn@example.com')));
    const c = parseCertificate(
      withExt(
        ext('2.5.29.17', false, seq(
          otherName,
          tlv(0x81, Buffer.from('alice@example.com')),
          tlv(0x82, Buffer.from('*.example.com')),
          tlv(0xa4, cn('Alice')),
          tlv(0x86, Buffer.from('spiffe://example.org/ns/a')),
          tlv(0x87, hex('c0000201')),
          tlv(0x87, hex('00000000000000000000000000000001')),
          tlv(0x88, oid('1.2.3.4').subarray(2)),
        )),
        ext('2.5.29.18', false, seq(tlv(0x81, Buffer.from('ca@example.com')))),
      ),
    );
    const san = c.subjectAltName!;
    expect(san[0]).toMatchObject({ type: 'other', tag: 0, oid: '1.3.6.1.4.1.311.20.2.3' });
    expect(san[1]).toEqual({ type: 'email', value: 'alice@example.com' });
    expect(san[2]).toEqual({ type: 'dns', value: '*.example.com' });
    expect(san[3]!.type === 'dn' && formatName(san[3]!.value)).toBe('CN=Alice');
    expect(san[4]).toEqual({ type: 'uri', value: 'spiffe://example.org/ns/a' });
    expect(san[5]!.type === 'ip' && [...san[5]!.value]).toEqual([192, 0, 2, 1]);
    expect(san[6]!.type === 'ip' && san[6]!.value.length).toBe(16);
    expect(san[7]).toMatchObject({ type: 'other', tag: 8, oid: '1.2.3.4' });
    expect(c.issuerAltName).toEqual([{ type: 'email', value: 'ca@example.com' }]);
    expect(c.profileProblems).toEqual([]);
    malformed(withExt(ext('2.5.29.17', false, seq())), /subjectAltName: must hold at least one name/);
    malformed(withExt(ext('2.5.29.17', false, seq(tlv(0x87, hex('c00002'))))), /iPAddress: must be 4 or 16 octets/);
    malformed(withExt(ext('2.5.29.17', false, seq(tlv(0x82, hex('c3a9'))))), /dNSName: IA5String contains a non-ASCII/);
    malformed(withExt(ext('2.5.29.17', false, seq(tlv(0x89, hex('00'))))), /\[9\] is not a GeneralName/);
  });

  it('lists SAN dNSName syntax problems (underscore, IP address as DNS name)', () => {
    const p = (dns: string) => parseCertificate(withExt(ext('2.5.29.17', false, seq(tlv(0x82, Buffer.from(dns)))))).profileProblems;
    expect(p('foo_bar.example.com').join()).toMatch(/character other than a letter/);
    expect(p('8.8.8.8').join()).toMatch(/looks like an IP address/);
    expect(p('.example.com').join()).toMatch(/empty label/);
    expect(p('xn--bcher-kva.example')).toEqual([]);
    expect(p('*.example.com')).toEqual([]);
    expect(p('3com.example')).toEqual([]);
  });

  it('decodes nameConstraints and applies RFC 5280 §4.2.1.10', () => {
    const subtree = (gn: Uint8Array, ...rest: Uint8Array[]) => seq(gn, ...rest);
    const c = parseCertificate(
      withExt(ext('2.5.29.30', true, seq(
        explicit(0, subtree(tlv(0x82, Buffer.from('example.com'))), subtree(tlv(0x87, hex('c0000200 ffffff00')))),
        explicit(1, subtree(tlv(0xa4, cn('Evil'))), subtree(tlv(0x81, Buffer.from('.example.org')))),
      ))),
    );
    expect(c.nameConstraints!.permitted).toHaveLength(2);
    expect(c.nameConstraints!.permitted![1]!.type === 'ip' && [...c.nameConstraints!.permitted![1]!.value]).toEqual([192, 0, 2, 0, 255, 255, 255, 0]);
    expect(c.nameConstraints!.excluded!.map((g) => g.type)).toEqual(['dn', 'email']);
    expect(parseCertificate(withExt(ext('2.5.29.30', true, seq(explicit(1, subtree(tlv(0x82, Buffer.from('x.test')))))))).nameConstraints!.permitted).toBeNull();

    malformed(withExt(ext('2.5.29.30', true, seq())), /must hold permittedSubtrees or excludedSubtrees/);
    malformed(withExt(ext('2.5.29.30', true, seq(explicit(0)))), /GeneralSubtrees must hold at least one subtree/);
    malformed(withExt(ext('2.5.29.30', true, seq(explicit(0, NULL)))), /GeneralSubtree: expected SEQUENCE/);
    malformed(withExt(ext('2.5.29.30', true, seq(explicit(0, subtree(tlv(0x82, Buffer.from('a.test')), implicit(0, hex('00'))))))), /minimum: must be absent/);
    malformed(withExt(ext('2.5.29.30', true, seq(explicit(0, subtree(tlv(0x82, Buffer.from('a.test')), implicit(1, hex('02'))))))), /maximum: must be absent/);
    malformed(withExt(ext('2.5.29.30', true, seq(explicit(0, subtree(tlv(0x87, hex('c0000201'))))))), /must be 8 or 32 octets/);
    malformed(withExt(ext('2.5.29.30', true, seq(explicit(0, subtree(tlv(0x87, hex('c0000200 ff00ff00'))))))), /mask is not contiguous/);
    expect(parseCertificate(withExt(ext('2.5.29.30', false, seq(explicit(0, subtree(tlv(0x82, Buffer.from('a.test')))))))).profileProblems.join()).toMatch(/nameConstraints is not marked critical/);
  });

  it('decodes certificatePolicies, refusing duplicates', () => {
    const cps = seq(seq(oid('1.3.6.1.5.5.7.2.1'), ia5('https://cps.example')));
    const c = parseCertificate(withExt(ext('2.5.29.32', false, seq(seq(oid('2.16.840.1.101.3.2.1.48.1'), cps), seq(oid('2.5.29.32.0'))))));
    expect(c.certificatePolicies!.map((p) => p.oid)).toEqual(['2.16.840.1.101.3.2.1.48.1', '2.5.29.32.0']);
    expect(Buffer.from(c.certificatePolicies![0]!.qualifiers!).equals(Buffer.from(cps))).toBe(true);
    expect(c.certificatePolicies![1]!.qualifiers).toBeNull();
    malformed(withExt(ext('2.5.29.32', false, seq(seq(oid('1.2.3')), seq(oid('1.2.3'))))), /policy 1\.2\.3 appears more than once/);
    malformed(withExt(ext('2.5.29.32', false, seq())), /certificatePolicies: must hold at least one policy/);
    malformed(withExt(ext('2.5.29.32', false, seq(seq(oid('1.2.3'), seq())))), /at least one qualifier/);
  });

  it('decodes policyMappings (flagging anyPolicy), policyConstraints and inhibitAnyPolicy', () => {
    const c = parseCertificate(
      withExt(
        ext('2.5.29.33', true, seq(seq(oid('1.2.3'), oid('1.2.4')))),
        ext('2.5.29.36', true, seq(implicit(0, hex('00')), implicit(1, hex('02')))),
        ext('2.5.29.54', true, int(1)),
      ),
    );
    expect(c.policyMappings).toEqual([{ issuerDomainPolicy: '1.2.3', subjectDomainPolicy: '1.2.4' }]);
    expect(c.policyMappingsHasAnyPolicy).toBe(false);
    expect(c.policyConstraints).toEqual({ requireExplicitPolicy: 0, inhibitPolicyMapping: 2 });
    expect(c.inhibitAnyPolicy).toBe(1);
    const any = parseCertificate(withExt(ext('2.5.29.33', true, seq(seq(oid('2.5.29.32.0'), oid('1.2.4'))))));
    expect(any.policyMappingsHasAnyPolicy).toBe(true);
    expect(parseCertificate(withExt(ext('2.5.29.36', true, seq(implicit(1, hex('00')))))).policyConstraints).toEqual({ requireExplicitPolicy: null, inhibitPolicyMapping: 0 });
    malformed(withExt(ext('2.5.29.36', true, seq())), /policyConstraints: must not be an empty sequence/);
    malformed(withExt(ext('2.5.29.33', true, seq())), /policyMappings: must hold at least one mapping/);
    malformed(withExt(ext('2.5.29.54', true, int(-1))), /inhibitAnyPolicy: must not be negative/);
  });

  it('decodes AKI and SKI, listing criticality problems', () => {
    const c = parseCertificate(
      withExt(
        ext('2.5.29.35', false, seq(implicit(0, hex('0102')), tlv(0xa1, tlv(0xa4, cn('Root'))), implicit(2, hex('05')))),
        ext('2.5.29.14', false, octets(hex('0a0b'))),
      ),
    );
    expect([...c.authorityKeyIdentifier!.keyIdentifier!]).toEqual([1, 2]);
    expect(c.authorityKeyIdentifier!.authorityCertIssuer![0]!.type).toBe('dn');
    expect([...c.authorityKeyIdentifier!.authorityCertSerialNumber!]).toEqual([5]);
    expect([...c.subjectKeyIdentifier!]).toEqual([10, 11]);
    expect(c.profileProblems).toEqual([]);
    const crit = parseCertificate(withExt(ext('2.5.29.35', true, seq(implicit(0, hex('01')))), ext('2.5.29.14', true, octets(hex('01')))));
    expect(crit.profileProblems).toEqual([
      'authorityKeyIdentifier is marked critical (RFC 5280 §4.2.1.1 forbids it).',
      'subjectKeyIdentifier is marked critical (RFC 5280 §4.2.1.2 forbids it).',
    ]);
  });

  it('decodes cRLDistributionPoints and freshestCRL', () => {
    const dp1 = seq(explicit(0, tlv(0xa0, tlv(0x86, Buffer.from('http://crl.example/ca.crl')))), implicit(1, hex('0560')));
    const dp2 = seq(explicit(0, tlv(0xa1, seq(oid('2.5.4.3'), utf8('CRL1')))), tlv(0xa2, tlv(0xa4, cn('Indirect'))));
    const c = parseCertificate(withExt(ext('2.5.29.31', false, seq(dp1, dp2)), ext('2.5.29.46', false, seq(dp1))));
    const [a, b] = c.crlDistributionPoints!;
    expect(a!.name).toEqual({ full: [{ type: 'uri', value: 'http://crl.example/ca.crl' }] });
    expect(a!.reasons).toBe((1 << 1) | (1 << 2)); // keyCompromise | cACompromise
    expect(b!.name && 'relative' in b!.name && b!.name.relative[0]!.text).toBe('CRL1');
    expect(b!.cRLIssuer![0]!.type).toBe('dn');
    expect(c.freshestCrl).toHaveLength(1);
    malformed(withExt(ext('2.5.29.31', false, seq(seq(implicit(1, hex('0560')))))), /must hold distributionPoint or cRLIssuer/);
    malformed(withExt(ext('2.5.29.31', false, seq())), /must hold at least one distribution point/);
  });

  it('decodes authorityInfoAccess / subjectInfoAccess (SIZE 1..MAX)', () => {
    const ad = seq(oid('1.3.6.1.5.5.7.48.2'), tlv(0x86, Buffer.from('http://ca.example/ca.crt')));
    const c = parseCertificate(withExt(ext('1.3.6.1.5.5.7.1.1', false, seq(ad)), ext('1.3.6.1.5.5.7.1.11', false, seq(ad))));
    expect(c.authorityInfoAccess).toEqual([{ method: '1.3.6.1.5.5.7.48.2', location: { type: 'uri', value: 'http://ca.example/ca.crt' } }]);
    expect(c.subjectInfoAccess).toHaveLength(1);
    malformed(withExt(ext('1.3.6.1.5.5.7.1.1', false, seq())), /authorityInfoAccess: must hold at least one AccessDescription/);
    expect(parseCertificate(withExt(ext('1.3.6.1.5.5.7.1.1', true, seq(ad)))).profileProblems.join()).toMatch(/authorityInfoAccess is marked critical/);
  });

  it('lists empty-name and keyUsage/cA profile problems', () => {
    expect(parseCertificate(cert({ issuer: seq() })).profileProblems.join()).toMatch(/issuer name is empty/);
    expect(parseCertificate(cert({ subject: seq() })).profileProblems.join()).toMatch(/no subjectAltName/);
    const sanOk = parseCertificate(cert({ subject: seq(), extensions: [ext('2.5.29.17', true, seq(tlv(0x82, Buffer.from('a.example'))))] }));
    expect(sanOk.subject.empty).toBe(true);
    expect(sanOk.profileProblems).toEqual([]);
    const sanNonCrit = parseCertificate(cert({ subject: seq(), extensions: [ext('2.5.29.17', false, seq(tlv(0x82, Buffer.from('a.example'))))] }));
    expect(sanNonCrit.profileProblems.join()).toMatch(/subjectAltName is not marked critical/);
    const caEmpty = parseCertificate(cert({ subject: seq(), extensions: [ext('2.5.29.19', true, seq(bool(true))), ext('2.5.29.17', true, seq(tlv(0x82, Buffer.from('a.example'))))] }));
    expect(caEmpty.profileProblems.join()).toMatch(/subject name of a CA certificate is empty/);
    const ku = parseCertificate(withExt(ext('2.5.29.15', true, bits(hex('04'), 2))));
    expect(ku.profileProblems.join()).toMatch(/keyCertSign but basicConstraints does not assert cA/);
  });

  it('bounds hostile sizes', () => {
    malformed(new Uint8Array(1024 * 1024 + 1), /larger than 1048576 bytes/);
    const many = Array.from({ length: 300 }, (_, i) => ext(`1.2.3.${i}`, false, NULL));
    malformed(withExt(...many), /more than 256/);
    const rdns = Array.from({ length: 200 }, () => [['2.5.4.3', utf8('x')]] as [string, Uint8Array][]);
    malformed(cert({ subject: name(...rdns) }), /more than 128 RDNs/);
  });
});
