/**
 * Revocation (RFC 5280 §6.3) through the public API with generated PKIs and CRLs: revoked leaf and
 * intermediate, stale CRLs under hard and soft, a CRL signed by the wrong key, indirect CRLs, delta CRLs,
 * separate CRL-signing keys, cRLSign, cRLNumber rules, modes, the store's CRL API and the work bounds.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { REVOCATION_LIMITS, TrustStore, verifyChain, type VerifyFailure, type VerifyResult } from '@certgate/core';
import { createCa, createTestPki, type TestCa, type TestCertificate, type TestPki } from '@certgate/core/testing';
import { buildCrl, crlDpValue, crlPem, subjectDer } from './crl-builder.js';

const HOUR = 3_600_000;
const now = () => new Date();
const hoursAgo = (h: number) => new Date(Date.now() - h * HOUR);

function failure(r: VerifyResult): VerifyFailure {
  expect(r.ok, r.ok ? 'expected a failure' : '').toBe(false);
  return r as VerifyFailure;
}

let pki: TestPki;
let rootCrl: string; // the root's CRL: nothing revoked (covers the intermediate)
let intCrl: string; // the intermediate's CRL: nothing revoked (covers the client)

beforeAll(async () => {
  pki = await createTestPki();
  rootCrl = (await pki.root.createCrl({ thisUpdate: hoursAgo(1) })).pem;
  intCrl = (await pki.intermediate.createCrl({ thisUpdate: hoursAgo(1) })).pem;
});

describe('a path whose certificates are all covered by fresh CRLs', () => {
  it('is valid, revocation is on by default when the store holds CRLs, and the result says "good"', async () => {
    const store = TrustStore.fromPem(pki.caPem, { crls: [rootCrl, intCrl] });
    const r = await verifyChain(pki.clientChain, store);
    expect(r).toMatchObject({ ok: true, revocation: { status: 'good' } });
  });

  it('without CRLs revocation is off by default and the result has no revocation field', async () => {
    const r = await verifyChain(pki.clientChain, TrustStore.fromPem(pki.caPem));
    expect(r.ok).toBe(true);
    expect(r.ok && r.revocation).toBeUndefined();
  });

  it('accepts DER CRLs and PEM texts with several CRLs in one string', async () => {
    const rootDer = (await pki.root.createCrl({ thisUpdate: hoursAgo(1) })).der;
    const store = TrustStore.fromPem(pki.caPem, { crls: [rootDer, intCrl + rootCrl] });
    expect(store.problems).toEqual([]);
    expect(store.crls).toHaveLength(3);
    expect((await verifyChain(pki.clientChain, store)).ok).toBe(true);
  });
});

describe('revoked certificates', () => {
  it('a revoked leaf is REVOKED with certIndex 0, the reason and the date, in hard and in soft mode', async () => {
    const revokedAt = new Date(Math.floor((Date.now() - 30 * 60_000) / 1000) * 1000);
    const crl = await pki.intermediate.createCrl({ thisUpdate: hoursAgo(1), revoked: [{ serialNumber: pki.client, reason: 1, date: revokedAt }] });
    const store = TrustStore.fromPem(pki.caPem, { crls: [rootCrl, crl.pem] });
    for (const revocation of [undefined, 'hard', 'soft'] as const) {
      const f = failure(await verifyChain(pki.clientChain, store, revocation ? { revocation } : {}));
      expect(f.code).toBe('REVOKED');
      expect(f.certIndex).toBe(0);
      expect(f.revocation).toEqual({ reason: 'keyCompromise', revokedAt });
      expect(f.message).toMatch(/client certificate .* was revoked on .* \(reason: keyCompromise\)/);
    }
    // 'off' skips the check entirely.
    const off = await verifyChain(pki.clientChain, store, { revocation: 'off' });
    expect(off.ok).toBe(true);
    expect(off.ok && off.revocation).toBeUndefined();
  });

  it('a revoked intermediate is REVOKED with certIndex 1; an entry without reasonCode is "unspecified"', async () => {
    const crl = await pki.root.createCrl({ thisUpdate: hoursAgo(1), revoked: [{ serialNumber: pki.intermediate }] });
    const store = TrustStore.fromPem(pki.caPem, { crls: [crl.pem, intCrl] });
    const f = failure(await verifyChain(pki.clientChain, store));
    expect(f).toMatchObject({ code: 'REVOKED', certIndex: 1, revocation: { reason: 'unspecified' } });
    expect(f.message).toMatch(/intermediate CA certificate/);
  });

  it('REVOKED wins over an unknown status elsewhere in the path, even in soft mode', async () => {
    const crl = await pki.intermediate.createCrl({ thisUpdate: hoursAgo(1), revoked: [{ serialNumber: pki.client, reason: 4 }] });
    const store = TrustStore.fromPem(pki.caPem, { crls: [crl.pem] }); // no CRL for the intermediate
    const f = failure(await verifyChain(pki.clientChain, store, { revocation: 'soft' }));
    expect(f).toMatchObject({ code: 'REVOKED', certIndex: 0, revocation: { reason: 'superseded' } });
  });

  it('certificateHold counts as revoked; another serial on the CRL does not affect the client', async () => {
    const other = await pki.intermediate.issue();
    const held = await pki.intermediate.createCrl({ thisUpdate: hoursAgo(1), revoked: [{ serialNumber: pki.client, reason: 6 }] });
    const f = failure(await verifyChain(pki.clientChain, TrustStore.fromPem(pki.caPem, { crls: [rootCrl, held.pem] })));
    expect(f.revocation?.reason).toBe('certificateHold');
    const r = await verifyChain([other.pem, pki.intermediate.pem], TrustStore.fromPem(pki.caPem, { crls: [rootCrl, held.pem] }));
    expect(r.ok).toBe(true);
  });
});

describe('status that cannot be decided', () => {
  it('a stale CRL (nextUpdate passed): hard → REVOCATION_UNKNOWN, soft → accepted with status unknown', async () => {
    const stale = await pki.intermediate.createCrl({ thisUpdate: hoursAgo(24 * 10), nextUpdate: hoursAgo(24) });
    const store = TrustStore.fromPem(pki.caPem, { crls: [rootCrl, stale.pem] });
    const f = failure(await verifyChain(pki.clientChain, store));
    expect(f.code).toBe('REVOCATION_UNKNOWN');
    expect(f.certIndex).toBe(0);
    expect(f.message).toMatch(/out of date \(its nextUpdate .* has passed\)/);
    const soft = await verifyChain(pki.clientChain, store, { revocation: 'soft' });
    expect(soft).toMatchObject({ ok: true, revocation: { status: 'unknown', certIndex: 0, reason: expect.stringMatching(/out of date/) } });
  });

  it('a stale CRL that revokes the client still cannot prove "good", and a revocation in it is not trusted as current either', async () => {
    const stale = await pki.intermediate.createCrl({ thisUpdate: hoursAgo(48), nextUpdate: hoursAgo(24), revoked: [{ serialNumber: pki.client }] });
    const f = failure(await verifyChain(pki.clientChain, TrustStore.fromPem(pki.caPem, { crls: [rootCrl, stale.pem] })));
    expect(f.code).toBe('REVOCATION_UNKNOWN');
  });

  it('a CRL that is not valid yet (thisUpdate in the future) is not used', async () => {
    const future = await pki.intermediate.createCrl({ thisUpdate: new Date(Date.now() + 2 * HOUR) });
    const f = failure(await verifyChain(pki.clientChain, TrustStore.fromPem(pki.caPem, { crls: [rootCrl, future.pem] })));
    expect(f.code).toBe('REVOCATION_UNKNOWN');
    expect(f.message).toMatch(/not valid yet/);
  });

  it('no CRL for the intermediate: hard → REVOCATION_UNKNOWN naming it (certIndex 1)', async () => {
    const f = failure(await verifyChain(pki.clientChain, TrustStore.fromPem(pki.caPem, { crls: [intCrl] })));
    expect(f).toMatchObject({ code: 'REVOCATION_UNKNOWN', certIndex: 1 });
    expect(f.message).toMatch(/no CRL issued by .*certgate test root/);
  });

  it('a CRL signed by the wrong key is not used, even when it "revokes" the client', async () => {
    const attacker = await createCa({ subject: 'CN=attacker' });
    const forged = buildCrl(pki.intermediate, { thisUpdate: hoursAgo(1), signingKey: attacker.key, entries: [{ serial: pki.client, reason: 1 }] });
    const store = TrustStore.fromPem(pki.caPem, { crls: [rootCrl, crlPem(forged)] });
    const f = failure(await verifyChain(pki.clientChain, store));
    expect(f.code).toBe('REVOCATION_UNKNOWN');
    expect(f.message).toMatch(/signature that does not verify/);
    const soft = await verifyChain(pki.clientChain, store, { revocation: 'soft' });
    expect(soft).toMatchObject({ ok: true, revocation: { status: 'unknown', certIndex: 0 } });
    // And a forged "good" CRL cannot hide a real revocation either: the genuine one still decides.
    const genuine = await pki.intermediate.createCrl({ thisUpdate: hoursAgo(2), revoked: [{ serialNumber: pki.client }] });
    const forgedGood = buildCrl(pki.intermediate, { thisUpdate: hoursAgo(1), signingKey: attacker.key });
    const g = failure(await verifyChain(pki.clientChain, TrustStore.fromPem(pki.caPem, { crls: [rootCrl, genuine.pem, crlPem(forgedGood)] })));
    expect(g.code).toBe('REVOKED');
  });

  it('a CRL issuer whose keyUsage lacks cRLSign cannot sign CRLs (RFC 5280 §6.3.3 (f))', async () => {
    const noCrlSign = await pki.root.issueIntermediate({ keyUsage: ['keyCertSign'] });
    const leaf = await noCrlSign.issue();
    const crl = buildCrl(noCrlSign, { thisUpdate: hoursAgo(1) });
    const f = failure(await verifyChain([leaf.pem, noCrlSign.pem], TrustStore.fromPem(pki.caPem, { crls: [rootCrl, crlPem(crl)] })));
    expect(f.code).toBe('REVOCATION_UNKNOWN');
    expect(f.message).toMatch(/cRLSign/);
  });

  it('cRLNumber missing or critical, an unknown critical CRL or entry extension: the CRL is not used (hard fails, soft says why)', async () => {
    const variants: [string, Uint8Array][] = [
      ['no cRLNumber', buildCrl(pki.intermediate, { thisUpdate: hoursAgo(1), crlNumber: null })],
      ['cRLNumber extension is marked critical', buildCrl(pki.intermediate, { thisUpdate: hoursAgo(1), crlNumberCritical: true })],
      ['critical extension certgate does not process', buildCrl(pki.intermediate, { thisUpdate: hoursAgo(1), extensions: [{ oid: '1.3.6.1.4.1.55555.1', critical: true, value: new Uint8Array([5, 0]) }] })],
      ['critical entry extension', buildCrl(pki.intermediate, { thisUpdate: hoursAgo(1), entries: [{ serial: '7F', extensions: [{ oid: '1.3.6.1.4.1.55555.2', critical: true, value: new Uint8Array([5, 0]) }] }] })],
    ];
    for (const [why, der] of variants) {
      const store = TrustStore.fromPem(pki.caPem, { crls: [rootCrl, crlPem(der)] });
      const f = failure(await verifyChain(pki.clientChain, store));
      expect(f.code, why).toBe('REVOCATION_UNKNOWN');
      expect(f.message, why).toContain(why);
      const soft = await verifyChain(pki.clientChain, store, { revocation: 'soft' });
      expect(soft, why).toMatchObject({ ok: true, revocation: { status: 'unknown', reason: expect.stringContaining(why) } });
    }
    // An unknown *non-critical* extension is ignored.
    const ok = buildCrl(pki.intermediate, { thisUpdate: hoursAgo(1), extensions: [{ oid: '1.3.6.1.4.1.55555.1', critical: false, value: new Uint8Array([5, 0]) }] });
    expect((await verifyChain(pki.clientChain, TrustStore.fromPem(pki.caPem, { crls: [rootCrl, crlPem(ok)] }))).ok).toBe(true);
  });
});

describe('issuing distribution points', () => {
  it('onlyContainsCACerts does not cover a leaf; onlyContainsUserCerts does not cover a CA', async () => {
    const caOnly = buildCrl(pki.intermediate, { thisUpdate: hoursAgo(1), idp: { onlyContainsCACerts: true } });
    const f = failure(await verifyChain(pki.clientChain, TrustStore.fromPem(pki.caPem, { crls: [rootCrl, crlPem(caOnly)] })));
    expect(f.message).toMatch(/onlyContainsCACerts/);
    const userOnly = buildCrl(pki.root, { thisUpdate: hoursAgo(1), idp: { onlyContainsUserCerts: true } });
    const g = failure(await verifyChain(pki.clientChain, TrustStore.fromPem(pki.caPem, { crls: [crlPem(userOnly), intCrl] })));
    expect(g).toMatchObject({ code: 'REVOCATION_UNKNOWN', certIndex: 1 });
  });

  it('onlySomeReasons CRLs must together cover every reason', async () => {
    const compromise = buildCrl(pki.intermediate, { thisUpdate: hoursAgo(1), crlNumber: 1, idp: { uri: ['http://crl/c'], onlySomeReasons: [1, 2] } });
    const others = buildCrl(pki.intermediate, { thisUpdate: hoursAgo(1), crlNumber: 2, idp: { uri: ['http://crl/c'], onlySomeReasons: [3, 4, 5, 6, 7, 8] } });
    const leaf = await pki.intermediate.issue({ extensions: [{ oid: '2.5.29.31', critical: false, der: crlDpValue([{ uri: ['http://crl/c'] }]) }] });
    const chain = [leaf.pem, pki.intermediate.pem];
    const one = failure(await verifyChain(chain, TrustStore.fromPem(pki.caPem, { crls: [rootCrl, crlPem(compromise)] })));
    expect(one.message).toMatch(/do not cover every revocation reason/);
    expect((await verifyChain(chain, TrustStore.fromPem(pki.caPem, { crls: [rootCrl, crlPem(compromise), crlPem(others)] }))).ok).toBe(true);
    // A distribution point name that differs from the certificate's is out of scope.
    const elsewhere = buildCrl(pki.intermediate, { thisUpdate: hoursAgo(1), idp: { uri: ['http://crl/other'] } });
    const f = failure(await verifyChain(chain, TrustStore.fromPem(pki.caPem, { crls: [rootCrl, crlPem(elsewhere)] })));
    expect(f.message).toMatch(/different distribution point/);
  });
});

describe('indirect CRLs', () => {
  let root: TestCa;
  let ca: TestCa;
  let crlIssuer: TestCa;
  let leaf: TestCertificate;
  let leaf2: TestCertificate;
  let rootCrlPem: string;
  beforeAll(async () => {
    root = await createCa({ subject: 'CN=Indirect Root' });
    ca = await root.issueIntermediate({ subject: 'CN=Issuing CA' });
    crlIssuer = await root.issueIntermediate({ subject: 'CN=CRL Issuer', keyUsage: ['cRLSign'] });
    const dp = { oid: '2.5.29.31', critical: false, der: crlDpValue([{ crlIssuer: subjectDer(crlIssuer) }]) };
    leaf = await ca.issue({ extensions: [dp] });
    leaf2 = await ca.issue({ extensions: [dp] });
    rootCrlPem = (await root.createCrl({ thisUpdate: hoursAgo(1) })).pem;
  });
  const store = (...crls: Uint8Array[]) => TrustStore.fromPem(root.pem, { crls: [rootCrlPem, ...crls.map(crlPem)], intermediates: crlIssuer.pem });

  it('an entry with a certificateIssuer of the issuing CA revokes the leaf; another serial does not', async () => {
    const indirect = buildCrl(crlIssuer, {
      thisUpdate: hoursAgo(1),
      idp: { indirectCRL: true },
      entries: [{ serial: leaf, reason: 1, certificateIssuer: subjectDer(ca) }],
    });
    const f = failure(await verifyChain([leaf.pem, ca.pem], store(indirect)));
    expect(f).toMatchObject({ code: 'REVOKED', certIndex: 0, revocation: { reason: 'keyCompromise' } });
    expect(f.message).toMatch(/CRL of "CN=CRL Issuer"/);
    expect(await verifyChain([leaf2.pem, ca.pem], store(indirect))).toMatchObject({ ok: true, revocation: { status: 'good' } });
  });

  it('the same serial listed for another certificate issuer does not revoke the leaf', async () => {
    const indirect = buildCrl(crlIssuer, {
      thisUpdate: hoursAgo(1),
      idp: { indirectCRL: true },
      entries: [{ serial: leaf, reason: 1, certificateIssuer: subjectDer(root) }],
    });
    expect((await verifyChain([leaf.pem, ca.pem], store(indirect))).ok).toBe(true);
  });

  it('a CRL from the cRLIssuer without the indirectCRL flag, or with an unknown signer, is not used', async () => {
    const direct = buildCrl(crlIssuer, { thisUpdate: hoursAgo(1) });
    const f = failure(await verifyChain([leaf.pem, ca.pem], store(direct)));
    expect(f.message).toMatch(/not an indirect CRL/);
    const indirect = buildCrl(crlIssuer, { thisUpdate: hoursAgo(1), idp: { indirectCRL: true } });
    const unknownSigner = TrustStore.fromPem(root.pem, { crls: [rootCrlPem, crlPem(indirect)] }); // CRL issuer certificate not known
    const g = failure(await verifyChain([leaf.pem, ca.pem], unknownSigner));
    expect(g.message).toMatch(/no certificate of that name is known/);
  });

  it('the CRL issuer\'s own certificate must not be revoked', async () => {
    const indirect = buildCrl(crlIssuer, { thisUpdate: hoursAgo(1), idp: { indirectCRL: true } });
    const rootRevokes = (await root.createCrl({ thisUpdate: hoursAgo(1), revoked: [{ serialNumber: crlIssuer, reason: 1 }] })).pem;
    const s = TrustStore.fromPem(root.pem, { crls: [rootRevokes, crlPem(indirect)], intermediates: crlIssuer.pem });
    const f = failure(await verifyChain([leaf.pem, ca.pem], s));
    expect(f.code).toBe('REVOCATION_UNKNOWN');
    expect(f.message).toMatch(/certificate of that CRL signer was revoked/);
  });
});

describe('separate CRL-signing key (same CA name, another certificate)', () => {
  it('a CRL signed by a CRL-signing certificate of the same name and anchor is used; when that certificate is revoked it is not', async () => {
    const root = await createCa({ subject: 'CN=Sep Root' });
    const ca = await root.issueIntermediate({ subject: 'CN=Sep CA', keyUsage: ['keyCertSign'] });
    const crlSigner = await root.issueIntermediate({ subject: 'CN=Sep CA', keyUsage: ['cRLSign'] });
    const leaf = await ca.issue();
    const caCrl = buildCrl(crlSigner, { thisUpdate: hoursAgo(1), entries: [{ serial: '01' }] });
    const rootOk = (await root.createCrl({ thisUpdate: hoursAgo(1) })).pem;
    const good = await verifyChain([leaf.pem, ca.pem, crlSigner.pem], TrustStore.fromPem(root.pem, { crls: [rootOk, crlPem(caCrl)] }));
    expect(good).toMatchObject({ ok: true, revocation: { status: 'good' } });
    const revokes = buildCrl(crlSigner, { thisUpdate: hoursAgo(1), entries: [{ serial: leaf, reason: 1 }] });
    const f = failure(await verifyChain([leaf.pem, ca.pem, crlSigner.pem], TrustStore.fromPem(root.pem, { crls: [rootOk, crlPem(revokes)] })));
    expect(f.code).toBe('REVOKED');
    const rootRevokesSigner = (await root.createCrl({ thisUpdate: hoursAgo(1), revoked: [{ serialNumber: crlSigner }] })).pem;
    const g = failure(await verifyChain([leaf.pem, ca.pem, crlSigner.pem], TrustStore.fromPem(root.pem, { crls: [rootRevokesSigner, crlPem(caCrl)] })));
    expect(g.code).toBe('REVOCATION_UNKNOWN');
    // A CRL signer of the same name under *another* trust anchor is not accepted.
    const otherRoot = await createCa({ subject: 'CN=Other Root' });
    const foreignSigner = await otherRoot.issueIntermediate({ subject: 'CN=Sep CA', keyUsage: ['cRLSign'] });
    const foreignCrl = buildCrl(foreignSigner, { thisUpdate: hoursAgo(1) });
    const h = failure(
      await verifyChain([leaf.pem, ca.pem, foreignSigner.pem], TrustStore.fromPem(`${root.pem}${otherRoot.pem}`, { crls: [rootOk, crlPem(foreignCrl)] })),
    );
    expect(h.code).toBe('REVOCATION_UNKNOWN');
    expect(h.message).toMatch(/does not validate to the same trusted CA/);
  });
});

describe('delta CRLs', () => {
  it('a delta CRL revokes on top of its base; removeFromCRL lifts a hold; a delta for a newer base is not applied', async () => {
    const base = buildCrl(pki.intermediate, { thisUpdate: hoursAgo(2), crlNumber: 10, freshest: true });
    const delta = buildCrl(pki.intermediate, { thisUpdate: hoursAgo(1), crlNumber: 11, deltaBase: 10, entries: [{ serial: pki.client, reason: 1 }] });
    const store = TrustStore.fromPem(pki.caPem, { crls: [rootCrl, crlPem(base), crlPem(delta)] });
    expect(store.crls.map((c) => [c.crlNumber, c.delta])).toEqual([['1', false], ['10', false], ['11', true]]);
    expect(failure(await verifyChain(pki.clientChain, store))).toMatchObject({ code: 'REVOKED', certIndex: 0, revocation: { reason: 'keyCompromise' } });
    // Without the delta the base alone says "good".
    expect((await verifyChain(pki.clientChain, TrustStore.fromPem(pki.caPem, { crls: [rootCrl, crlPem(base)] }))).ok).toBe(true);

    const heldBase = buildCrl(pki.intermediate, { thisUpdate: hoursAgo(2), crlNumber: 20, entries: [{ serial: pki.client, reason: 6 }] });
    const release = buildCrl(pki.intermediate, { thisUpdate: hoursAgo(1), crlNumber: 21, deltaBase: 20, entries: [{ serial: pki.client, reason: 8 }] });
    expect(failure(await verifyChain(pki.clientChain, TrustStore.fromPem(pki.caPem, { crls: [rootCrl, crlPem(heldBase)] }))).revocation?.reason).toBe('certificateHold');
    expect((await verifyChain(pki.clientChain, TrustStore.fromPem(pki.caPem, { crls: [rootCrl, crlPem(heldBase), crlPem(release)] }))).ok).toBe(true);

    const forNewerBase = buildCrl(pki.intermediate, { thisUpdate: hoursAgo(1), crlNumber: 31, deltaBase: 30, entries: [{ serial: pki.client, reason: 1 }] });
    expect((await verifyChain(pki.clientChain, TrustStore.fromPem(pki.caPem, { crls: [rootCrl, crlPem(base), crlPem(forNewerBase)] }))).ok).toBe(true);
    // A delta signed by another key is ignored.
    const other = await createCa();
    const forgedDelta = buildCrl(pki.intermediate, { thisUpdate: hoursAgo(1), crlNumber: 12, deltaBase: 10, signingKey: other.key, entries: [{ serial: pki.client, reason: 1 }] });
    expect((await verifyChain(pki.clientChain, TrustStore.fromPem(pki.caPem, { crls: [rootCrl, crlPem(base), crlPem(forgedDelta)] }))).ok).toBe(true);
  });

  it('a delta CRL alone (no base) cannot decide', async () => {
    const delta = buildCrl(pki.intermediate, { thisUpdate: hoursAgo(1), crlNumber: 11, deltaBase: 10 });
    const f = failure(await verifyChain(pki.clientChain, TrustStore.fromPem(pki.caPem, { crls: [rootCrl, crlPem(delta)] })));
    expect(f.code).toBe('REVOCATION_UNKNOWN');
  });

  it('a stale base with a fresh delta is usable when the base announces deltas (freshestCRL), not otherwise', async () => {
    const staleBase = buildCrl(pki.intermediate, { thisUpdate: hoursAgo(48), nextUpdate: hoursAgo(24), crlNumber: 40, freshest: true });
    const delta = buildCrl(pki.intermediate, { thisUpdate: hoursAgo(1), crlNumber: 41, deltaBase: 40 });
    expect((await verifyChain(pki.clientChain, TrustStore.fromPem(pki.caPem, { crls: [rootCrl, crlPem(staleBase), crlPem(delta)] }))).ok).toBe(true);
    const staleQuiet = buildCrl(pki.intermediate, { thisUpdate: hoursAgo(48), nextUpdate: hoursAgo(24), crlNumber: 50 });
    const delta2 = buildCrl(pki.intermediate, { thisUpdate: hoursAgo(1), crlNumber: 51, deltaBase: 50 });
    expect(failure(await verifyChain(pki.clientChain, TrustStore.fromPem(pki.caPem, { crls: [rootCrl, crlPem(staleQuiet), crlPem(delta2)] }))).code).toBe('REVOCATION_UNKNOWN');
  });
});

describe('the store\'s CRL API', () => {
  it('summaries, problems, withCrls (a new store and generation; the old one is unchanged)', async () => {
    const revoking = await pki.intermediate.createCrl({ thisUpdate: hoursAgo(1), crlNumber: 5, revoked: [{ serialNumber: pki.client }, { serialNumber: '0102' }] });
    const s1 = TrustStore.fromPem(pki.caPem, { crls: [rootCrl, intCrl, 'not a crl', '-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n'] });
    expect(s1.crls).toHaveLength(2);
    expect(s1.crls[0]).toEqual({
      issuer: 'O=certgate,CN=certgate test root',
      thisUpdate: expect.any(Date),
      nextUpdate: expect.any(Date),
      entryCount: 0,
      crlNumber: '1',
      delta: false,
      fingerprint256: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/),
    });
    expect(s1.problems.map((p) => [p.source, p.index])).toEqual([['crls', 2], ['crls', 3]]);
    expect(s1.problems[0]!.message).toMatch(/holds no PEM "X509 CRL" block/);
    expect(s1.problems[1]!.message).toMatch(/could not be parsed/);
    expect((await verifyChain(pki.clientChain, s1)).ok).toBe(true);

    const s2 = s1.withCrls([rootCrl, revoking.pem]);
    expect(s2.generation).toBeGreaterThan(s1.generation);
    expect(s2.anchors).toEqual(s1.anchors);
    expect(s2.problems).toEqual([]);
    expect(s2.crls[1]).toMatchObject({ entryCount: 2, crlNumber: '5' });
    expect(failure(await verifyChain(pki.clientChain, s2)).code).toBe('REVOKED');
    expect((await verifyChain(pki.clientChain, s1)).ok).toBe(true);
    // Dropping every CRL turns the default back to 'off'.
    const s3 = s2.withCrls([]);
    expect(s3.crls).toEqual([]);
    expect((await verifyChain(pki.clientChain, s3)).ok).toBe(true);
  });

  it('bad option types throw ERR_CERTGATE_INVALID_OPTION', () => {
    expect(() => TrustStore.fromPem(pki.caPem, { crls: 'x' as unknown as string[] })).toThrow(expect.objectContaining({ code: 'ERR_CERTGATE_INVALID_OPTION' }));
    expect(() => TrustStore.fromPem(pki.caPem, { crls: [42 as unknown as string] })).toThrow(/array of PEM strings or DER bytes/);
    expect(() => TrustStore.fromPem(pki.caPem).withCrls(null as unknown as string[])).toThrow(/TrustStore.withCrls/);
  });
});

describe('bounded work', () => {
  it('many in-scope CRLs with bad signatures end in REVOCATION_UNKNOWN with the limit named, never a throw', async () => {
    const attacker = await createCa();
    const crls: string[] = [];
    for (let i = 0; i < 200; i++) crls.push(crlPem(buildCrl(pki.intermediate, { thisUpdate: hoursAgo(1), crlNumber: 1000 + i, signingKey: attacker.key })));
    const store = TrustStore.fromPem(pki.caPem, { crls: [rootCrl, ...crls] });
    expect(store.crls).toHaveLength(201);
    const f = failure(await verifyChain(pki.clientChain, store));
    expect(f.code).toBe('REVOCATION_UNKNOWN');
    expect(f.message).toMatch(/more work than certgate allows/);
    expect(REVOCATION_LIMITS.maxCrlsConsidered).toBeLessThan(200);
  });

  it('more than 256 CRLs: the rest are listed as problems', async () => {
    const one = intCrl;
    const crls = Array.from({ length: 258 }, (_, i) => crlPem(buildCrl(pki.intermediate, { thisUpdate: hoursAgo(1), crlNumber: 5000 + i })));
    const store = TrustStore.fromPem(pki.caPem, { crls: [one, ...crls] });
    expect(store.crls).toHaveLength(256);
    expect(store.problems).toHaveLength(3);
    expect(store.problems[0]!.message).toMatch(/at most 256 CRLs/);
  });
});

describe('modes are validated', () => {
  it('an unknown revocation mode throws', async () => {
    await expect(verifyChain(pki.clientChain, TrustStore.fromPem(pki.caPem), { revocation: 'strict' as 'hard' })).rejects.toThrow(/"revocation" must be/);
  });
  it('hard with no CRLs at all: REVOCATION_UNKNOWN for the leaf first', async () => {
    const f = failure(await verifyChain(pki.clientChain, TrustStore.fromPem(pki.caPem), { revocation: 'hard', time: now() }));
    expect(f).toMatchObject({ code: 'REVOCATION_UNKNOWN', certIndex: 0 });
  });
});
