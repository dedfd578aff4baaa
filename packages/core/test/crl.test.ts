/**
 * The strict DER CRL parser (`cert/crl.ts`): every field against @peculiar/x509's reading of the same
 * bytes, the PKITS CRL corpus, malformed encodings, PEM handling, the parse cache, the size limit and a
 * generated CRL with a million entries.
 */
import 'reflect-metadata';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { X509Crl } from '@peculiar/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { TrustStore, MAX_CRL_SIZE } from '@certgate/core';
import { createCa, type TestCa } from '@certgate/core/testing';
import {
  MalformedCrlError,
  clearCrlCache,
  crlCacheSize,
  parseCrl,
  parseCrlCached,
  readCrlPemBlocks,
  serialKey,
} from '../src/cert/crl.js';
import { formatName } from '../src/cert/name.js';
import { parseCertificate } from '../src/cert/parse.js';
import { buildCrl, crlPem, encodeEntries, subjectDer, type BuiltEntry } from './crl-builder.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const T0 = new Date(Date.UTC(2025, 0, 1));
const hexOf = (u: Uint8Array) => Buffer.from(u).toString('hex');

let ca: TestCa;
beforeAll(async () => {
  ca = await createCa({ subject: 'CN=CRL Test CA, O=certgate' });
});

describe('parseCrl on generated CRLs', () => {
  it('reads every field of a CRL from @certgate/core/testing, as @peculiar/x509 does', async () => {
    const leaf = await ca.issue();
    const crl = await ca.createCrl({
      thisUpdate: T0,
      nextUpdate: new Date(T0.getTime() + 86_400_000),
      crlNumber: 42,
      revoked: [
        { serialNumber: leaf, reason: 1, date: new Date(T0.getTime() - 1000) },
        { serialNumber: '0A0B0C' },
      ],
    });
    const p = parseCrl(crl.der);
    const ref = new X509Crl(crl.der);
    expect(p.version).toBe(2);
    expect(p.issuer.der).toEqual(new Uint8Array(ref.issuerName.toArrayBuffer()));
    expect(formatName(p.issuer)).toBe('O=certgate,CN=CRL Test CA');
    expect(p.thisUpdate).toBe(ref.thisUpdate.getTime());
    expect(p.nextUpdate).toBe(ref.nextUpdate!.getTime());
    expect(p.crlNumber).toBe(42n);
    expect(p.deltaBase).toBeNull();
    expect(p.idp).toBeNull();
    expect(p.problems).toEqual([]);
    expect(p.entryCount).toBe(ref.entries.length);
    expect(hexOf(p.authorityKeyIdentifier!.keyIdentifier!)).toBe(
      Buffer.from(ca.x509.getExtension('2.5.29.14')!.value).toString('hex').slice(4),
    );
    const leafSerial = parseCertificate(leaf.der).serialNumber; // the certificate's own INTEGER content octets
    expect(hexOf(leafSerial).replace(/^00/, '')).toBe(ref.entries[0]!.serialNumber.toLowerCase());
    const hit = p.lookup(leafSerial);
    expect(hit).toHaveLength(1);
    expect(hit[0]!.reason).toBe(1);
    expect(hit[0]!.revocationDate).toBe(ref.entries[0]!.revocationDate.getTime());
    expect(hit[0]!.certificateIssuer).toBeNull();
    expect(p.lookup(Uint8Array.from([0x0a, 0x0b, 0x0c]))[0]!.reason).toBeNull();
    expect(p.lookup(Uint8Array.from([0x0a, 0x0b, 0x0d]))).toEqual([]);
    expect(p.tbs.length).toBeLessThan(p.der.length);
    expect(p.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reads IDP, delta indicator, freshestCRL, certificateIssuer entries and a v1 CRL', () => {
    const other = Uint8Array.from(subjectDer(ca));
    const der = buildCrl(ca, {
      thisUpdate: T0,
      crlNumber: 7,
      deltaBase: 5,
      idp: { dn: [other], indirectCRL: true, onlySomeReasons: [1, 2] },
      freshest: true,
      entries: [
        { serial: '01', reason: 6 },
        { serial: '02', certificateIssuer: other },
        { serial: '03' },
      ],
    });
    const p = parseCrl(der);
    expect(p.deltaBase).toBe(5n);
    expect(p.crlNumber).toBe(7n);
    expect(p.idp).toMatchObject({ indirectCRL: true, onlyContainsUserCerts: false, onlyContainsCACerts: false, onlySomeReasons: (1 << 1) | (1 << 2) });
    expect(p.idp!.name && 'full' in p.idp!.name && p.idp!.name.full[0]!.type).toBe('dn');
    expect(p.freshestCrl).toHaveLength(1);
    expect(p.lookup(Uint8Array.from([1]))[0]).toMatchObject({ reason: 6, certificateIssuer: null });
    // RFC 5280 §5.3.3: an entry without certificateIssuer inherits the preceding entry's.
    expect(p.lookup(Uint8Array.from([2]))[0]!.certificateIssuer![0]!.type).toBe('dn');
    expect(p.lookup(Uint8Array.from([3]))[0]!.certificateIssuer).toBe(p.lookup(Uint8Array.from([2]))[0]!.certificateIssuer);

    const v1 = parseCrl(buildCrl(ca, { thisUpdate: T0, v1: true, entries: [{ serial: '05' }] }));
    expect(v1.version).toBe(1);
    expect(v1.crlNumber).toBeNull();
    expect(v1.problems.join()).toMatch(/no cRLNumber/);
  });

  it('records rules that make a CRL unusable without refusing to parse it', () => {
    expect(parseCrl(buildCrl(ca, { thisUpdate: T0, crlNumber: null })).problems.join()).toMatch(/no cRLNumber/);
    expect(parseCrl(buildCrl(ca, { thisUpdate: T0, crlNumberCritical: true })).problems.join()).toMatch(/cRLNumber extension is marked critical/);
    expect(parseCrl(buildCrl(ca, { thisUpdate: T0, idp: { indirectCRL: true, critical: false } })).problems.join()).toMatch(/issuingDistributionPoint extension is not marked critical/);
    expect(parseCrl(buildCrl(ca, { thisUpdate: T0, crlNumber: 3, deltaBase: 3 })).problems.join()).toMatch(/BaseCRLNumber/);
    const unknown = parseCrl(buildCrl(ca, { thisUpdate: T0, extensions: [{ oid: '1.2.3.4', critical: true, value: new Uint8Array([5, 0]) }] }));
    expect(unknown.unknownCriticalExtensions).toEqual(['1.2.3.4']);
    const nonCritical = parseCrl(buildCrl(ca, { thisUpdate: T0, extensions: [{ oid: '1.2.3.4', critical: false, value: new Uint8Array([5, 0]) }] }));
    expect(nonCritical.unknownCriticalExtensions).toEqual([]);
    const entry = parseCrl(buildCrl(ca, { thisUpdate: T0, entries: [{ serial: '01', extensions: [{ oid: '1.2.3.5', critical: true, value: new Uint8Array([5, 0]) }] }] }));
    expect(entry.unknownCriticalEntryExtensions).toEqual(['1.2.3.5']);
  });
});

describe('malformed CRLs are refused with a message naming the field', () => {
  const good = () => buildCrl(ca, { thisUpdate: T0, entries: [{ serial: '01', reason: 1 }] });
  const refuse = (der: Uint8Array, re: RegExp) => {
    expect(() => parseCrl(der)).toThrow(MalformedCrlError);
    expect(() => parseCrl(der)).toThrow(re);
  };

  it('truncations and trailing bytes, at every length', () => {
    const der = good();
    for (let n = 0; n < der.length; n++) expect(() => parseCrl(der.subarray(0, n)), `truncated to ${n}`).toThrow(MalformedCrlError);
    refuse(Uint8Array.from([...der, 0]), /trailing/);
  });

  it('single-byte corruption never crashes: it parses or throws MalformedCrlError', () => {
    const der = good();
    for (let i = 0; i < der.length; i++) {
      for (const x of [0x00, 0xff, der[i]! ^ 0x01]) {
        const c = Uint8Array.from(der);
        c[i] = x;
        try {
          parseCrl(c);
        } catch (e) {
          expect(e, `byte ${i} = ${x}`).toBeInstanceOf(MalformedCrlError);
        }
      }
    }
  });

  it('version, algorithms, extensions, reason codes', () => {
    // An explicit v1 (INTEGER 0) is not DER for the default.
    const v2 = good();
    const explicitV1 = Uint8Array.from(v2);
    const at = findSeq(explicitV1, [0x02, 0x01, 0x01]);
    explicitV1[at + 2] = 0x00;
    refuse(explicitV1, /version/);
    const v3 = Uint8Array.from(v2);
    v3[at + 2] = 0x02;
    refuse(v3, /version/);
    // Duplicate extension.
    refuse(buildCrl(ca, { thisUpdate: T0, extensions: [{ oid: '2.5.29.20', critical: false, value: Uint8Array.from([2, 1, 1]) }] }), /more than once/);
    // Reason code 7 does not exist.
    refuse(buildCrl(ca, { thisUpdate: T0, entries: [{ serial: '01', reason: 7 }] }), /reasonCode/);
    // A bad IDP: two "only" flags.
    refuse(buildCrl(ca, { thisUpdate: T0, idp: { onlyContainsUserCerts: true, onlyContainsCACerts: true } }), /at most one/);
    // A mismatched inner/outer algorithm.
    const mismatch = Uint8Array.from(v2);
    const alg = findSeq(mismatch, [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]);
    mismatch[alg + 9] = 0x03; // ecdsa-with-SHA384 in the tbs only
    refuse(mismatch, /signatureAlgorithm differs/);
    expect(() => parseCrl('x' as unknown as Uint8Array)).toThrow(/byte array/);
  });

  it('refuses a CRL over the documented size limit without reading it, and the store lists it as a problem', async () => {
    expect(MAX_CRL_SIZE).toBe(64 * 1024 * 1024);
    const big = new Uint8Array(MAX_CRL_SIZE + 1);
    expect(() => parseCrl(big)).toThrow(/at most 67108864 bytes/);
    const store = TrustStore.fromPem(ca.pem, { crls: [big] });
    expect(store.crls).toEqual([]);
    expect(store.problems).toEqual([expect.objectContaining({ source: 'crls', index: 0, label: 'DER', message: expect.stringMatching(/64 MiB/) })]);
  });
});

describe('the PKITS CRL corpus', () => {
  const dir = here('./conformance/pkits/crls');
  const files = readdirSync(dir).filter((f) => f.endsWith('.crl'));

  it('parses all 173 CRLs, and agrees with @peculiar/x509 on issuer, times and every entry', () => {
    expect(files).toHaveLength(173);
    for (const f of files) {
      const der = new Uint8Array(readFileSync(`${dir}/${f}`));
      const p = parseCrl(der);
      const ref = new X509Crl(der);
      expect(p.issuer.der, f).toEqual(new Uint8Array(ref.issuerName.toArrayBuffer()));
      expect(p.thisUpdate, f).toBe(ref.thisUpdate.getTime());
      expect(p.nextUpdate, f).toBe(ref.nextUpdate?.getTime() ?? null);
      expect(p.entryCount, f).toBe(ref.entries.length);
      for (const e of ref.entries) {
        const hits = p.lookup(Uint8Array.from(Buffer.from(e.serialNumber, 'hex')));
        expect(hits.length, `${f} serial ${e.serialNumber}`).toBeGreaterThan(0);
        expect(hits.some((h) => h.revocationDate === e.revocationDate.getTime()), `${f} serial ${e.serialNumber}`).toBe(true);
      }
    }
  });
});

describe('PEM, DER and the cache', () => {
  it('reads X509 CRL blocks strictly and ignores other labels', () => {
    const a = buildCrl(ca, { thisUpdate: T0, crlNumber: 1 });
    const b = buildCrl(ca, { thisUpdate: T0, crlNumber: 2 });
    const text = `junk\n${crlPem(a)}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n${crlPem(b)}`;
    const blocks = readCrlPemBlocks(text);
    expect(blocks.map((x) => x.der && hexOf(x.der))).toEqual([hexOf(a), hexOf(b)]);
    expect(readCrlPemBlocks('-----BEGIN X509 CRL-----\n@@@@\n-----END X509 CRL-----')[0]!.problem).toMatch(/base64/);
    expect(readCrlPemBlocks('-----BEGIN X509 CRL-----\nAAAA')[0]!.problem).toMatch(/END/);
    expect(readCrlPemBlocks('no pem here')).toEqual([]);
  });

  it('caches parse results per CRL bytes, bounded', () => {
    clearCrlCache();
    const der = buildCrl(ca, { thisUpdate: T0, crlNumber: 9 });
    const first = parseCrlCached(der);
    expect(parseCrlCached(Uint8Array.from(der))).toBe(first); // same bytes, another buffer
    expect(crlCacheSize()).toBe(1);
    for (let i = 0; i < 70; i++) parseCrlCached(buildCrl(ca, { thisUpdate: T0, crlNumber: 100 + i }));
    expect(crlCacheSize()).toBe(64);
    expect(parseCrlCached(der)).not.toBe(first); // evicted, parsed again
  });

  it('serial keys are distinct for distinct encodings', () => {
    expect(serialKey(Uint8Array.from([0, 0x80]))).not.toBe(serialKey(Uint8Array.from([0x80])));
    expect(serialKey(new Uint8Array(30).fill(7))).toHaveLength(30);
  });
});

describe('a CRL with a million entries', () => {
  it('parses once and looks entries up by serial (PEM and DER); the timing is printed, not asserted', () => {
    const n = 1_000_000;
    const entries: BuiltEntry[] = [];
    for (let i = 0; i < n; i++) {
      const serial = (0x100000 + i * 7).toString(16);
      entries.push(i % 2 ? { serial, reason: 1 } : { serial });
    }
    const encoded = encodeEntries(entries);
    const der = buildCrl(ca, { thisUpdate: T0, entries }, encoded);
    const t0 = performance.now();
    const p = parseCrl(der);
    const parseMs = performance.now() - t0;
    expect(p.entryCount).toBe(n);
    const serial = (i: number) => Uint8Array.from(Buffer.from((0x100000 + i * 7).toString(16).padStart(6, '0'), 'hex'));
    const t1 = performance.now();
    let found = 0;
    for (let i = 0; i < n; i += 997) if (p.lookup(serial(i)).length === 1) found++;
    const lookups = Math.ceil(n / 997);
    const lookupUs = ((performance.now() - t1) * 1000) / lookups;
    expect(found).toBe(lookups);
    expect(p.lookup(serial(3))[0]!.reason).toBe(1);
    expect(p.lookup(serial(4))[0]!.reason).toBeNull();
    expect(p.lookup(Uint8Array.from([0x0f, 0xff, 0xff]))).toEqual([]);
    // The same CRL as PEM text through the store.
    const store = TrustStore.fromPem(ca.pem, { crls: [crlPem(der)] });
    expect(store.problems).toEqual([]);
    expect(store.crls[0]).toMatchObject({ entryCount: n, issuer: 'O=certgate,CN=CRL Test CA', crlNumber: '1', delta: false });
    console.log(`[crl bench] ${n} entries, ${(der.length / 1048576).toFixed(1)} MiB DER: parse ${parseMs.toFixed(0)} ms, lookup ${lookupUs.toFixed(2)} µs`);
  }, 120_000);
});

function findSeq(hay: Uint8Array, needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error('needle not found');
}
