/**
 * Every certificate of the vendored PKITS and x509-limbo corpora either parses or fails with a
 * sentence; the ones that parse agree with node:crypto (OpenSSL) on serial, validity, fingerprint,
 * public key, and on subject/issuer/SAN text wherever both render them the same way.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readPemBlocks } from '@certgate/core';
import { MalformedCertificateError, parseCertificate, serialHex } from '../src/cert/parse.js';
import { nameAttributes } from '../src/cert/name.js';
import type { Name, ParsedCertificate } from '../src/cert/model.js';

const dir = fileURLToPath(new URL('./conformance/', import.meta.url));

interface Item {
  label: string;
  der: Uint8Array;
}

function pkitsItems(): Item[] {
  return readdirSync(`${dir}pkits/certs`)
    .filter((f) => f.endsWith('.crt'))
    .map((f) => ({ label: `pkits/${f}`, der: new Uint8Array(readFileSync(`${dir}pkits/certs/${f}`)) }));
}

interface LimboCase {
  id: string;
  trusted_certs: string[];
  untrusted_intermediates: string[];
  peer_certificate: string;
}

function limboItems(): Item[] {
  const limbo = JSON.parse(readFileSync(`${dir}limbo/limbo.json`, 'utf8')) as { testcases: LimboCase[] };
  const out: Item[] = [];
  for (const t of limbo.testcases) {
    const pems = [...t.trusted_certs, ...t.untrusted_intermediates, t.peer_certificate];
    pems.forEach((pem, i) => {
      for (const b of readPemBlocks(pem)) if (b.der) out.push({ label: `limbo/${t.id}#${i}`, der: b.der });
    });
  }
  return out;
}

/** The certificates whose parse failure is expected, with the reason's key phrase. */
const EXPECTED_FAILURES: Record<string, RegExp> = {
  'limbo/pathological::nc-dos-1#1': /more than 128 RDNs/,
  'limbo/pathological::nc-dos-3#1': /more than 128 RDNs/,
  'limbo/rfc5280::eku::ee-eku-empty#1': /extKeyUsage: must hold at least one purpose/,
  'limbo/rfc5280::nc::invalid-ipv4-address#0': /must be 8 or 32 octets/,
  'limbo/rfc5280::nc::invalid-ipv6-address#0': /must be 8 or 32 octets/,
  'limbo/rfc5280::nc::nc-permits-invalid-ip-san#2': /must be 4 or 16 octets/,
  'limbo/rfc5280::san::malformed#1': /subjectAltName/,
  'limbo/rfc5280::root-inconsistent-ca-extensions#0': /keyUsage: at least one bit must be set/,
  'limbo/rfc5280::duplicate-extensions#1': /appears more than once/,
  'limbo/rfc5280::mismatching-signature-algorithm#2': /signatureAlgorithm differs/,
  'limbo/webpki::nc::intermediate-permitted-excluded-subtrees-both-null#1': /nameConstraints/,
  'limbo/webpki::nc::intermediate-permitted-excluded-subtrees-both-empty-sequences#1': /GeneralSubtrees must hold at least one subtree/,
  'limbo/webpki::san::unicode-emoji-san#1': /dNSName: IA5String contains a non-ASCII octet/,
  'limbo/webpki::malformed-aia#1': /authorityInfoAccess/,
};

/** OpenSSL short names that equal ours; values needing no escaping in either form. */
const SAME_SHORT_NAME = new Set(['CN', 'O', 'OU', 'C', 'L', 'ST', 'DC', 'UID', 'emailAddress', 'serialNumber', 'SN', 'GN', 'title']);
const PLAIN = /^[A-Za-z0-9 ._@:/()'=?-]*$/;

/** Our attributes as node:crypto prints a Name (encoded order, one per line), or null when not comparable. */
function nodeStyle(name: Name): string | null {
  if (name.rdns.some((rdn) => rdn.length !== 1)) return null;
  const attrs = nameAttributes(name);
  if (!attrs.every((a) => SAME_SHORT_NAME.has(a.type) && PLAIN.test(a.value) && !/^ | $/.test(a.value))) return null;
  return attrs.map((a) => `${a.type}=${a.value}`).join('\n');
}

function sanDns(c: ParsedCertificate): string[] {
  return (c.subjectAltName ?? []).flatMap((g) => (g.type === 'dns' ? [g.value] : []));
}

const items = [...pkitsItems(), ...limboItems()];

describe('parseCertificate on the conformance corpora', () => {
  it('loads the corpora', () => {
    expect(items.filter((i) => i.label.startsWith('pkits/')).length).toBe(405);
    expect(items.length).toBeGreaterThan(1200);
  });

  it('parses every certificate, except the listed malformed ones, which fail with a sentence', () => {
    const failures: Record<string, string> = {};
    for (const { label, der } of items) {
      try {
        parseCertificate(der);
      } catch (e) {
        expect(e, label).toBeInstanceOf(MalformedCertificateError);
        const msg = (e as Error).message;
        expect(msg, label).toMatch(/^The certificate is malformed: .+\.$/);
        failures[label] = msg;
      }
    }
    expect(Object.keys(failures).sort()).toEqual(Object.keys(EXPECTED_FAILURES).sort());
    for (const [label, re] of Object.entries(EXPECTED_FAILURES)) expect(failures[label], label).toMatch(re);
  });

  it('agrees with node:crypto on serial, validity, fingerprint, key and (where comparable) names and DNS SANs', () => {
    let compared = 0;
    let namesCompared = 0;
    let sansCompared = 0;
    for (const { label, der } of items) {
      if (EXPECTED_FAILURES[label]) continue;
      const c = parseCertificate(der);
      let node: X509Certificate;
      try {
        node = new X509Certificate(der);
      } catch {
        continue; // OpenSSL refuses it; nothing to compare
      }
      compared++;
      if ((c.serialNumber[0]! & 0x80) === 0) expect(serialHex(c.serialNumber), label).toBe(node.serialNumber);
      expect(c.notBefore, label).toBe(Date.parse(node.validFrom));
      expect(c.notAfter, label).toBe(Date.parse(node.validTo));
      expect(c.sha256, label).toBe(node.fingerprint256.replace(/:/g, '').toLowerCase());
      let nodeSpki: Buffer | null = null;
      try {
        nodeSpki = node.publicKey.export({ type: 'spki', format: 'der' });
      } catch {
        nodeSpki = null; // a key type OpenSSL cannot load
      }
      if (nodeSpki !== null && c.spki.algorithm.oid !== '1.2.840.10045.2.1') {
        expect(Buffer.from(c.spki.der).equals(nodeSpki), label).toBe(true);
      }
      for (const [mine, theirs] of [
        [c.subject, node.subject],
        [c.issuer, node.issuer],
      ] as const) {
        const s = nodeStyle(mine);
        if (s !== null && theirs !== undefined) {
          expect(s, label).toBe(theirs);
          namesCompared++;
        }
      }
      const dns = sanDns(c);
      if (node.subjectAltName && dns.length > 0 && dns.every((d) => /^[A-Za-z0-9.*-]+$/.test(d))) {
        const nodeDns = node.subjectAltName.split(', ').filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4));
        expect(dns, label).toEqual(nodeDns);
        sansCompared++;
      }
      expect(c.selfIssued, label).toBe(node.checkIssued(node) || c.issuer.key === c.subject.key);
    }
    expect(compared).toBeGreaterThan(1200);
    expect(namesCompared).toBeGreaterThan(2000);
    expect(sansCompared).toBeGreaterThan(300);
  });

  it('PKITS: decodes the extensions its tests are about', () => {
    const load = (n: string) => parseCertificate(new Uint8Array(readFileSync(`${dir}pkits/certs/${n}.crt`)));
    expect(load('pathLenConstraint0CACert').basicConstraints).toEqual({ ca: true, pathLen: 0 });
    expect(load('keyUsageCriticalkeyCertSignFalseCACert').keyUsage).toBe(1 << 6); // cRLSign only
    expect(load('requireExplicitPolicy0CACert').policyConstraints).toEqual({ requireExplicitPolicy: 0, inhibitPolicyMapping: null });
    expect(load('inhibitAnyPolicy0CACert').inhibitAnyPolicy).toBe(0);
    expect(load('Mapping1to2CACert').policyMappings).toEqual([
      { issuerDomainPolicy: '2.16.840.1.101.3.2.1.48.1', subjectDomainPolicy: '2.16.840.1.101.3.2.1.48.2' },
    ]);
    const nc = load('nameConstraintsDN1CACert').nameConstraints!;
    expect(nc.permitted![0]!.type).toBe('dn');
    expect(load('InvalidUnknownCriticalCertificateExtensionTest2EE').unknownCriticalExtensions).toHaveLength(1);
    expect(load('InvalidNegativeSerialNumberTest15EE').profileProblems.join()).toMatch(/negative/);
    expect(load('DSAParametersInheritedCACert').spki.algorithm.params).toBeNull();
    // 4.2.x validity encodings
    expect(load('Validpre2000UTCnotBeforeDateTest3EE').notBefore).toBe(Date.UTC(1950, 0, 1, 12, 1)); // openssl: Jan  1 12:01:00 1950 GMT
    expect(load('ValidGeneralizedTimenotAfterDateTest8EE').notAfter).toBe(Date.UTC(2050, 0, 1, 12, 1)); // openssl: Jan  1 12:01:00 2050 GMT
  });
});
