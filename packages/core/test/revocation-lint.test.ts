/**
 * lintCrls: what a settings upload of CRLs is checked for, with generated CRLs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { lintCrls } from '@certgate/core';
import { createCa, createTestPki, type TestPki } from '@certgate/core/testing';
import { buildCrl, crlPem } from './crl-builder.js';

const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000);
let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});

describe('lintCrls', () => {
  it('accepts current CRLs signed by CAs of the bundle (PEM text with two blocks, or DER) and summarises them', async () => {
    const a = await pki.root.createCrl({ thisUpdate: hoursAgo(1), crlNumber: 3, revoked: [{ serialNumber: pki.intermediate }] });
    const b = await pki.intermediate.createCrl({ thisUpdate: hoursAgo(1) });
    const bundle = pki.root.pem + pki.intermediate.pem;
    const r = lintCrls(a.pem + b.pem, bundle);
    expect(r).toMatchObject({ ok: true, problems: [] });
    expect(r.crls.map((c) => [c.issuer, c.entryCount, c.crlNumber])).toEqual([
      ['O=certgate,CN=certgate test root', 1, '3'],
      ['O=certgate,CN=certgate test intermediate', 0, '1'],
    ]);
    expect(lintCrls([a.der], pki.root.pem).ok).toBe(true);
  });

  it('reports each problem with a code and the CRL it is about', async () => {
    const other = await createCa();
    const stale = await pki.root.createCrl({ thisUpdate: hoursAgo(48), nextUpdate: hoursAgo(24) });
    const future = await pki.root.createCrl({ thisUpdate: new Date(Date.now() + 3_600_000) });
    const forged = crlPem(buildCrl(pki.root, { thisUpdate: hoursAgo(1), signingKey: other.key }));
    const foreign = (await other.createCrl({ thisUpdate: hoursAgo(1) })).pem;
    const noNumber = crlPem(buildCrl(pki.root, { thisUpdate: hoursAgo(1), crlNumber: null }));
    const garbage = '-----BEGIN X509 CRL-----\nMAMCAQA=\n-----END X509 CRL-----\n';
    const r = lintCrls([stale.pem, future.pem, forged, foreign, noNumber, garbage], pki.root.pem);
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => [p.code, p.index])).toEqual([
      ['CRL_EXPIRED', 0],
      ['CRL_NOT_YET_VALID', 1],
      ['CRL_BAD_SIGNATURE', 2],
      ['CRL_UNKNOWN_ISSUER', 3],
      ['CRL_UNUSABLE', 4],
      ['CRL_PARSE_ERROR', 5],
    ]);
    expect(r.problems[0]!.message).toMatch(/out of date/);
    expect(r.crls).toHaveLength(5);
  });

  it('a CA without cRLSign; an empty upload; not PEM at all', async () => {
    const noCrlSign = await pki.root.issueIntermediate({ keyUsage: ['keyCertSign'] });
    const crl = crlPem(buildCrl(noCrlSign, { thisUpdate: hoursAgo(1) }));
    expect(lintCrls(crl, noCrlSign.pem).problems.map((p) => p.code)).toEqual(['CRL_ISSUER_NO_CRLSIGN']);
    expect(lintCrls('', pki.root.pem).problems.map((p) => p.code)).toEqual(['CRL_EMPTY']);
    expect(lintCrls(pki.root.pem, pki.root.pem).problems.map((p) => p.code)).toEqual(['CRL_EMPTY']);
    expect(lintCrls(42 as unknown as string, pki.root.pem).problems.map((p) => p.code)).toEqual(['CRL_EMPTY']);
  });
});
