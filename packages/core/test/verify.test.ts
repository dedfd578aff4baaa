/**
 * verifyChain on generated chains (fixed instants): one test or more per rule and per verification code,
 * plus hostile input (garbage, truncation, huge and cyclic chains) and the option checks.
 */
import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CertgateError,
  TrustStore,
  VERIFICATION_CODES,
  verifyChain,
  type VerificationCode,
  type VerifyOptions,
  type VerifyResult,
} from '@certgate/core';
import { createCa, issueUnknownCriticalExtension, type TestCa, type TestCertificate } from '@certgate/core/testing';

const T0 = new Date('2030-01-01T00:00:00Z');
const NB = new Date('2029-01-01T00:00:00Z');
const NA = new Date('2031-01-01T00:00:00Z');
const at: VerifyOptions = { time: T0 };
const validity = { notBefore: NB, notAfter: NA };

const reached = new Set<VerificationCode>();
function expectCode(r: VerifyResult, code: VerificationCode, certIndex?: number): void {
  expect(r.ok, r.ok ? 'expected a failure' : r.message).toBe(false);
  if (r.ok) return;
  expect(r.code, r.message).toBe(code);
  if (certIndex !== undefined) expect(r.certIndex).toBe(certIndex);
  expect(r.message.length).toBeGreaterThan(20);
  reached.add(code);
}

let root: TestCa;
let inter: TestCa;
let leaf: TestCertificate;
let store: TrustStore;

beforeAll(async () => {
  root = await createCa({ subject: 'CN=Verify Root, O=certgate', ...validity });
  inter = await root.issueIntermediate({ subject: 'CN=Verify Issuing CA, O=certgate', ...validity });
  leaf = await inter.issue({
    subject: 'CN=alice, OU=admins, O=certgate',
    san: { email: ['alice@example.com'], uri: ['spiffe://example.org/admin/alice'], dns: ['alice.example.com'], ip: ['192.0.2.7', '2001:db8::7'] },
    ...validity,
  });
  store = TrustStore.fromPem(root.pem);
});

describe('valid chains', () => {
  it('validates leaf → intermediate → root and reports the identity', async () => {
    const r = await verifyChain([leaf.pem, inter.pem], store, at);
    expect(r.ok, r.ok ? '' : r.message).toBe(true);
    if (!r.ok) return;
    expect(r.chain.map((c) => c.fingerprint256)).toEqual([leaf.fingerprint256, inter.fingerprint256, root.fingerprint256]);
    const node = new X509Certificate(leaf.pem);
    expect(r.identity.fingerprint256).toBe(node.fingerprint256);
    expect(r.identity.serialNumber).toBe(node.serialNumber);
    expect(r.identity.commonName).toBe('alice');
    // RFC 4514 writes the RDNs last first; the test PKI encodes them in the order given (CN first).
    expect(r.identity.subject).toBe('O=certgate,OU=admins,CN=alice');
    expect(r.identity.subjectAttributes.map((a) => [a.type, a.value])).toEqual([['CN', 'alice'], ['OU', 'admins'], ['O', 'certgate']]);
    expect(r.identity.san).toEqual({
      dns: ['alice.example.com'],
      email: ['alice@example.com'],
      uri: ['spiffe://example.org/admin/alice'],
      ip: ['192.0.2.7', '2001:db8::7'],
      spiffeId: 'spiffe://example.org/admin/alice',
    });
    expect(r.identity.spkiSha256).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(r.identity.notAfter.toISOString()).toBe(NA.toISOString());
    expect(r.policies).toEqual([]); // no certificate asserts a policy (RFC 5280 §6.1.5: a NULL policy graph)
  });

  it('accepts DER input, strays and any order of the intermediates', async () => {
    const stray = await createCa({ ...validity });
    const r = await verifyChain([leaf.der, stray.der, inter.der, stray.pem], store, at);
    expect(r.ok).toBe(true);
  });

  it('lets any certificate of the bundle be the anchor (an issuing intermediate alone)', async () => {
    const r = await verifyChain([leaf.pem], TrustStore.fromPem(inter.pem), at);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.chain).toHaveLength(2);
  });

  it('uses server-side intermediates from the store', async () => {
    const r = await verifyChain([leaf.pem], TrustStore.fromPem(root.pem, { intermediates: inter.pem }), at);
    expect(r.ok).toBe(true);
  });

  it('tries another issuer when the first candidate is expired (cross-signed CA)', async () => {
    const oldRoot = await createCa({ subject: 'CN=Old Root', notBefore: new Date('2020-01-01Z'), notAfter: new Date('2025-01-01Z') });
    const newRoot = await createCa({ subject: 'CN=New Root', ...validity });
    // The issuing CA is certified twice: by the expired old root and by the new one.
    const ica = await oldRoot.issueIntermediate({ subject: 'CN=Shared ICA', notBefore: new Date('2020-01-01Z'), notAfter: new Date('2025-01-01Z') });
    const icaByNew = await newRoot.crossSign(ica, validity);
    const l = await ica.issue(validity);
    const both = TrustStore.fromPem(oldRoot.pem + newRoot.pem);
    const r = await verifyChain([l.pem, ica.pem, icaByNew.pem], both, at);
    expect(r.ok, r.ok ? '' : r.message).toBe(true);
    if (r.ok) expect(r.chain[2]!.fingerprint256).toBe(newRoot.fingerprint256);
    // With only the expired path available the failure names the expired certificate.
    expectCode(await verifyChain([l.pem, ica.pem], both, at), 'EXPIRED', 1);
  });

  it('tries another path when a CA on the first one is revoked', async () => {
    const ica = await root.issueIntermediate({ subject: 'CN=Rollover ICA', ...validity });
    const icaAgain = await root.crossSign(ica, validity); // same subject and key, another serial
    const l = await ica.issue(validity);
    const rootCrl = await root.createCrl({ revoked: [{ serialNumber: ica }], thisUpdate: NB, nextUpdate: NA });
    const icaCrl = await ica.createCrl({ thisUpdate: NB, nextUpdate: NA });
    const withCrls = TrustStore.fromPem(root.pem, { crls: [rootCrl.pem, icaCrl.pem] });
    const r = await verifyChain([l.pem, ica.pem, icaAgain.pem], withCrls, at);
    expect(r.ok, r.ok ? '' : r.message).toBe(true);
    if (r.ok) {
      expect(r.chain[1]!.fingerprint256).toBe(icaAgain.fingerprint256);
      expect(r.revocation).toEqual({ status: 'good' });
    }
    const only = await verifyChain([l.pem, ica.pem], withCrls, at);
    expectCode(only, 'REVOKED', 1);
  });

  it('accepts a leaf without EKU, and any EKU with requiredEku: null', async () => {
    const noEku = await inter.issue({ extKeyUsage: null, ...validity });
    expect((await verifyChain([noEku.pem, inter.pem], store, at)).ok).toBe(true);
    const serverOnly = await inter.issue({ extKeyUsage: ['serverAuth'], ...validity });
    expect((await verifyChain([serverOnly.pem, inter.pem], store, { ...at, requiredEku: null })).ok).toBe(true);
    expect((await verifyChain([serverOnly.pem, inter.pem], store, { ...at, requiredEku: 'serverAuth' })).ok).toBe(true);
  });

  it('applies clockToleranceSec to notBefore/notAfter', async () => {
    const r = await verifyChain([leaf.pem, inter.pem], store, { time: new Date(NA.getTime() + 30_000), clockToleranceSec: 60 });
    expect(r.ok).toBe(true);
  });

  it('validates every supported key type', async () => {
    for (const key of ['ec-p384', 'ec-p521', 'rsa-2048', 'ed25519'] as const) {
      const ca = await createCa({ key, ...validity });
      const l = await ca.issue({ key, ...validity });
      const r = await verifyChain([l.pem], TrustStore.fromPem(ca.pem), at);
      expect(r.ok, `${key}: ${r.ok ? '' : r.message}`).toBe(true);
    }
  });
});

describe('each verification code', () => {
  it('EXPIRED and NOT_YET_VALID', async () => {
    expectCode(await verifyChain([leaf.pem, inter.pem], store, { time: new Date('2032-01-01Z') }), 'EXPIRED', 0);
    expectCode(await verifyChain([leaf.pem, inter.pem], store, { time: new Date('2028-01-01Z') }), 'NOT_YET_VALID', 0);
    const expiredLeaf = await inter.issue({ notBefore: NB, notAfter: new Date('2029-06-01Z') });
    expectCode(await verifyChain([expiredLeaf.pem, inter.pem], store, at), 'EXPIRED', 0);
  });

  it('UNKNOWN_ISSUER: another CA, and a missing intermediate', async () => {
    const other = await createCa(validity);
    const o = await other.issue(validity);
    expectCode(await verifyChain([o.pem], store, at), 'UNKNOWN_ISSUER', 0);
    expectCode(await verifyChain([leaf.pem], store, at), 'UNKNOWN_ISSUER', 0);
  });

  it('BAD_SIGNATURE: a tampered signature', async () => {
    const der = new Uint8Array(leaf.der);
    der[der.length - 3] ^= 0x01;
    expectCode(await verifyChain([der, inter.pem], store, at), 'BAD_SIGNATURE', 0);
  });

  it('NOT_A_CA: a leaf used as an issuer', async () => {
    const notCa = await inter.issue(validity);
    const { asIssuer } = await import('@certgate/core/testing');
    const below = await asIssuer(notCa).issue(validity);
    expectCode(await verifyChain([below.pem, notCa.pem, inter.pem], store, at), 'NOT_A_CA', 1);
  });

  it('PATH_LENGTH_EXCEEDED', async () => {
    const pl0 = await root.issueIntermediate({ pathLen: 0, ...validity });
    const sub = await pl0.issueIntermediate(validity);
    const l = await sub.issue(validity);
    expectCode(await verifyChain([l.pem, sub.pem, pl0.pem], store, at), 'PATH_LENGTH_EXCEEDED', 1);
  });

  it('KEY_USAGE: an issuer without keyCertSign, and a leaf without digitalSignature', async () => {
    const noSign = await root.issueIntermediate({ keyUsage: ['cRLSign'], ...validity });
    const l = await noSign.issue(validity);
    expectCode(await verifyChain([l.pem, noSign.pem], store, at), 'KEY_USAGE', 1);
    const encOnly = await inter.issue({ keyUsage: ['keyEncipherment'], key: 'rsa-2048', ...validity });
    expectCode(await verifyChain([encOnly.pem, inter.pem], store, at), 'KEY_USAGE', 0);
    expect((await verifyChain([encOnly.pem, inter.pem], store, { ...at, requiredKeyUsage: [] })).ok).toBe(true);
  });

  it('EKU_MISMATCH', async () => {
    const serverOnly = await inter.issue({ extKeyUsage: ['serverAuth'], ...validity });
    expectCode(await verifyChain([serverOnly.pem, inter.pem], store, at), 'EKU_MISMATCH', 0);
  });

  it('NAME_CONSTRAINTS', async () => {
    const constrained = await root.issueIntermediate({ nameConstraints: { permitted: { email: ['example.org'] } }, ...validity });
    const bad = await constrained.issue({ san: { email: ['mallory@example.com'] }, ...validity });
    expectCode(await verifyChain([bad.pem, constrained.pem], store, at), 'NAME_CONSTRAINTS', 0);
    const good = await constrained.issue({ san: { email: ['bob@example.org'] }, ...validity });
    expect((await verifyChain([good.pem, constrained.pem], store, at)).ok).toBe(true);
  });

  it('POLICY: explicit policy required and none asserted', async () => {
    expectCode(await verifyChain([leaf.pem, inter.pem], store, { ...at, explicitPolicy: true }), 'POLICY');
  });

  it('UNKNOWN_CRITICAL_EXTENSION', async () => {
    const l = await issueUnknownCriticalExtension(inter, validity);
    expectCode(await verifyChain([l.pem, inter.pem], store, at), 'UNKNOWN_CRITICAL_EXTENSION', 0);
  });

  it('MALFORMED: garbage, truncation, an empty chain, a non-certificate element', async () => {
    expectCode(await verifyChain([new Uint8Array([1, 2, 3])], store, at), 'MALFORMED', 0);
    expectCode(await verifyChain([leaf.der.subarray(0, leaf.der.length - 10)], store, at), 'MALFORMED', 0);
    expectCode(await verifyChain([], store, at), 'MALFORMED');
    expectCode(await verifyChain(['not a pem'], store, at), 'MALFORMED', 0);
    expectCode(await verifyChain([42 as unknown as string], store, at), 'MALFORMED', 0);
    // Deep nesting: 10,000 nested SEQUENCE headers.
    const deep = new Uint8Array(20_000);
    for (let i = 0; i < 10_000; i++) { deep[2 * i] = 0x30; deep[2 * i + 1] = 0x80; }
    expectCode(await verifyChain([deep], store, at), 'MALFORMED', 0);
    // A huge declared length.
    expectCode(await verifyChain([new Uint8Array([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x00])], store, at), 'MALFORMED', 0);
  });

  it('MALFORMED: the only intermediate does not parse', async () => {
    expectCode(await verifyChain([leaf.pem, inter.der.subarray(0, 50)], store, at), 'MALFORMED', 1);
  });

  it('WEAK_ALGORITHM: SHA-1 signatures unless allowWeakAlgorithms', async () => {
    const l = await inter.issue({ signatureHash: 'SHA-1', ...validity });
    expectCode(await verifyChain([l.pem, inter.pem], store, at), 'WEAK_ALGORITHM', 0);
    expect((await verifyChain([l.pem, inter.pem], store, { ...at, allowWeakAlgorithms: true })).ok).toBe(true);
  });

  it('UNSUPPORTED_ALGORITHM: an unknown signature algorithm', async () => {
    // ecdsa-with-SHA256 (1.2.840.10045.4.3.2) → 1.2.840.10045.4.3.9 in both AlgorithmIdentifiers.
    const oid = Buffer.from('06082a8648ce3d040302', 'hex');
    const der = Buffer.from(leaf.der);
    let n = 0;
    for (let i = der.indexOf(oid); i >= 0; i = der.indexOf(oid, i + 1)) { der[i + oid.length - 1] = 0x09; n++; }
    expect(n).toBe(2);
    expectCode(await verifyChain([new Uint8Array(der), inter.pem], store, at), 'UNSUPPORTED_ALGORITHM', 0);
  });

  it('CHAIN_TOO_LONG: maxDepth and a 10,000-certificate chain', async () => {
    expectCode(await verifyChain([leaf.pem, inter.pem], store, { ...at, maxDepth: 0 }), 'CHAIN_TOO_LONG');
    expect((await verifyChain([leaf.pem, inter.pem], store, { ...at, maxDepth: 1 })).ok).toBe(true);
    const huge = Array.from({ length: 10_000 }, () => inter.der);
    expectCode(await verifyChain([leaf.der, ...huge], store, at), 'CHAIN_TOO_LONG');
  });

  it('PATH_BUILDING_LIMIT: wide fan-out of same-name issuers with other keys', async () => {
    // 70 certificates named like the leaf's issuer but with other keys: each costs a signature check.
    const decoys: string[] = [];
    for (let i = 0; i < 70; i++) {
      const d = await root.issueIntermediate({ subject: 'CN=Verify Issuing CA, O=certgate', ...validity });
      decoys.push(d.pem);
    }
    // As server-side intermediates (a client may send at most 64 certificates).
    const elsewhere = TrustStore.fromPem((await createCa(validity)).pem, { intermediates: decoys.join('') });
    expectCode(await verifyChain([leaf.pem, inter.pem], elsewhere, at), 'PATH_BUILDING_LIMIT');
  });

  it('a cycle of cross-signed CAs without a trusted root ends with UNKNOWN_ISSUER', async () => {
    const a = await createCa({ subject: 'CN=Cycle A', ...validity });
    const b = await createCa({ subject: 'CN=Cycle B', ...validity });
    const aByB = await b.crossSign(a, validity);
    const bByA = await a.crossSign(b, validity);
    const l = await aByB.issue(validity);
    const unrelated = TrustStore.fromPem((await createCa(validity)).pem);
    expectCode(await verifyChain([l.pem, aByB.pem, bByA.pem, a.pem, b.pem], unrelated, at), 'UNKNOWN_ISSUER');
  });

  it('REVOCATION_UNKNOWN in hard mode without CRLs; soft mode accepts and says so', async () => {
    expectCode(await verifyChain([leaf.pem, inter.pem], store, { ...at, revocation: 'hard' }), 'REVOCATION_UNKNOWN', 0);
    const soft = await verifyChain([leaf.pem, inter.pem], store, { ...at, revocation: 'soft' });
    expect(soft.ok).toBe(true);
    if (soft.ok) expect(soft.revocation).toMatchObject({ status: 'unknown', certIndex: 0 });
  });

  it('reaches every verification code', () => {
    const missing = VERIFICATION_CODES.filter((c) => !reached.has(c));
    expect(missing).toEqual([]);
  });
});

describe('bad options and stores', () => {
  it('throws ERR_CERTGATE_INVALID_OPTION for bad options', async () => {
    const bads: unknown[] = [
      { time: 'yesterday' },
      { time: new Date('nope') },
      { requiredEku: 'emailProtection' },
      { revocation: 'maybe' },
      { maxDepth: -1 },
      { maxDepth: 1.5 },
      { clockToleranceSec: Number.NaN },
      { allowWeakAlgorithms: 'yes' },
      { initialPolicySet: [] },
      { requiredKeyUsage: ['signing'] },
      { requiredEKU: 'clientAuth' },
      null,
    ];
    for (const o of bads) {
      await expect(verifyChain([leaf.pem], store, o as VerifyOptions), JSON.stringify(o)).rejects.toSatisfy(
        (e: unknown) => e instanceof CertgateError && e.code === 'ERR_CERTGATE_INVALID_OPTION',
      );
    }
    await expect(verifyChain([leaf.pem], {} as TrustStore)).rejects.toThrow(/TrustStore/);
  });

  it('an option that cannot be read, or a name inherited from Object.prototype, is a typed option error too', async () => {
    const date = new Date(T0);
    const bads: [string, unknown][] = [
      ['a getter that throws', { get time() { throw new Error('boom'); } }],
      ['a Proxy whose ownKeys trap throws', new Proxy({}, { ownKeys() { throw new Error('boom'); } })],
      ['a Proxy whose get trap throws', new Proxy({ time: date }, { get() { throw new Error('boom'); } })],
      ['a Date-like object that is not a Date', { time: Object.create(Date.prototype) }],
      ['a Proxy of a Date', { time: new Proxy(date, {}) }],
      ['a getter that throws a non-Error without toString', { get time() { throw Object.create(null); } }],
      ['requiredEku: "toString"', { requiredEku: 'toString' }],
      ['requiredEku: "__proto__"', { requiredEku: '__proto__' }],
      ['requiredKeyUsage: ["toString"]', { requiredKeyUsage: ['toString'] }],
      ['requiredKeyUsage: ["constructor"]', { requiredKeyUsage: ['constructor'] }],
    ];
    for (const [what, o] of bads) {
      await expect(verifyChain([leaf.pem, inter.pem], store, o as VerifyOptions), what).rejects.toSatisfy(
        (e: unknown) => e instanceof CertgateError && e.code === 'ERR_CERTGATE_INVALID_OPTION',
      );
    }
    // A Date whose own getTime lies is validated at its real instant; a Date subclass is a Date.
    const lying = Object.assign(new Date(T0), { getTime: () => Number.NaN });
    expect((await verifyChain([leaf.pem, inter.pem], store, { time: lying })).ok).toBe(true);
    expect((await verifyChain([leaf.pem, inter.pem], store, { time: new (class extends Date {})(T0) })).ok).toBe(true);
  });

  it('TrustStore.fromPem / withCrls: options that are wrong or throw when read are ERR_CERTGATE_INVALID_OPTION', () => {
    const throwingList = new Proxy([] as string[], { get(t, k) { if (k === 'length') throw new Error('boom'); return Reflect.get(t, k); } });
    const bads: [string, () => unknown][] = [
      ['a getter that throws', () => TrustStore.fromPem(root.pem, { get crls(): string[] { throw new Error('boom'); } })],
      ['a Proxy whose get trap throws', () => TrustStore.fromPem(root.pem, new Proxy({}, { get() { throw new Error('boom'); } }))],
      ['crls a Proxy that throws', () => TrustStore.fromPem(root.pem, { crls: throwingList })],
      ['withCrls a Proxy that throws', () => store.withCrls(throwingList)],
      ['crls not an array', () => TrustStore.fromPem(root.pem, { crls: 'x' as unknown as string[] })],
      ['intermediates not a string', () => TrustStore.fromPem(root.pem, { intermediates: 1 as unknown as string })],
    ];
    for (const [what, f] of bads) {
      expect(f, what).toThrow(expect.objectContaining({ code: 'ERR_CERTGATE_INVALID_OPTION' }));
    }
  });

  it('TrustStore.fromPem throws only without any PEM certificate block; bad blocks become problems', () => {
    expect(() => TrustStore.fromPem('garbage')).toThrow(CertgateError);
    const s = TrustStore.fromPem(`${root.pem}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n${inter.keyPem}`);
    expect(s.anchors).toHaveLength(1);
    expect(s.problems.map((p) => p.label)).toEqual(['CERTIFICATE', 'PRIVATE KEY']);
    expect(s.generation).not.toBe(store.generation);
  });
});

describe('hostile chains: always a result, never an exception', () => {
  const throwingElement = (): unknown[] => {
    const a: unknown[] = [leaf.pem];
    Object.defineProperty(a, 0, { get() { throw new Error('boom'); } });
    return a;
  };
  const der = (): Uint8Array => leaf.der;
  const cases: [string, () => unknown, VerificationCode | 'ok', number?][] = [
    ['null', () => null, 'MALFORMED'],
    ['undefined', () => undefined, 'MALFORMED'],
    ['a number', () => 42, 'MALFORMED'],
    ['one PEM string instead of an array', () => leaf.pem, 'MALFORMED'],
    ['an array-like object', () => ({ length: 2, 0: leaf.pem, 1: inter.pem }), 'MALFORMED'],
    ['a sparse array', () => [, inter.pem], 'MALFORMED', 0],
    ['[null]', () => [null], 'MALFORMED', 0],
    ['an object with toString', () => [{ toString: () => leaf.pem }, inter.pem], 'MALFORMED', 0],
    ['a String object', () => [new String(leaf.pem), inter.pem], 'MALFORMED', 0],
    ['a DataView', () => [new DataView(der().buffer, der().byteOffset, der().byteLength), inter.pem], 'MALFORMED', 0],
    ['an ArrayBuffer', () => [der().slice().buffer, inter.pem], 'MALFORMED', 0],
    ['a Uint16Array', () => [new Uint16Array(8), inter.pem], 'MALFORMED', 0],
    ['a Symbol', () => [Symbol('x')], 'MALFORMED', 0],
    ['an element whose getter throws', throwingElement, 'MALFORMED'],
    ['a Proxy whose get trap throws', () => new Proxy([leaf.pem], { get(t, k) { if (k === '0') throw new Error('boom'); return Reflect.get(t, k); } }), 'MALFORMED'],
    ['10,000 elements', () => new Array(10_000).fill(leaf.pem), 'CHAIN_TOO_LONG'],
    ['length 2^32 - 1', () => { const a: unknown[] = []; a.length = 2 ** 32 - 1; return a; }, 'CHAIN_TOO_LONG'],
    ['70 certificates in one PEM string', () => [leaf.pem, inter.pem.repeat(70)], 'CHAIN_TOO_LONG'],
    ['2 MiB of BEGIN lines without END lines', () => ['-----BEGIN CERTIFICATE-----\n'.repeat(74_000)], 'MALFORMED', 0],
    ['a string over 2 MiB', () => ['A'.repeat(2 * 1024 * 1024 + 1)], 'MALFORMED', 0],
    ['an empty Uint8Array', () => [new Uint8Array(0)], 'MALFORMED', 0],
    ['trailing bytes after the DER', () => [Buffer.concat([der(), Buffer.from([0, 0])]), inter.pem], 'MALFORMED', 0],
    ['junk around the PEM, CRLF line ends', () => [`junk\r\n${leaf.pem.replace(/\n/g, '\r\n')}junk`, inter.pem.replace(/\n/g, '\r\n')], 'ok'],
    ['leaf and intermediate in one PEM string', () => [leaf.pem + inter.pem], 'ok'],
    ['Buffer and Uint8Array', () => [Buffer.from(der()), new Uint8Array(inter.der)], 'ok'],
    ['a frozen array', () => Object.freeze([leaf.pem, inter.pem]), 'ok'],
  ];
  it.each(cases)('%s', async (_what, chain, code, certIndex) => {
    const r = await verifyChain(chain() as string[], store, at);
    if (code === 'ok') {
      expect(r.ok, r.ok ? '' : r.message).toBe(true);
      return;
    }
    expect(Object.keys(r).sort()).toEqual(certIndex === undefined ? ['code', 'message', 'ok'] : ['certIndex', 'code', 'message', 'ok']);
    expectCode(r, code, certIndex);
  });

  it('a text over 16 MiB is not read but is not "no block" either: TrustStore.fromPem lists it in problems', () => {
    const big = root.pem.repeat(Math.ceil((16 * 1024 * 1024 + 1) / root.pem.length));
    const s = TrustStore.fromPem(big);
    expect(s.anchors).toHaveLength(0);
    expect(s.problems).toEqual([{ source: 'anchors', index: 0, label: 'CERTIFICATE', message: expect.stringMatching(/more than the 16777216 certgate reads/) }]);
    expect(() => TrustStore.fromPem('x'.repeat(16 * 1024 * 1024 + 1))).toThrow(/no PEM CERTIFICATE block/);
  });
});
