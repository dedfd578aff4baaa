/**
 * lintCrls: what a settings upload of CRLs is checked for, with generated CRLs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CRL_LINT_MAX, MAX_CRL_SIZE, lintCrls } from '@certgate/core';
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

  it('CRL_TOO_MANY over CRL_LINT_MAX CRLs, CRL_TOO_LARGE over the size limit (DER or PEM text), without parsing them', async () => {
    const crl = await pki.root.createCrl({ thisUpdate: hoursAgo(1) });
    const atLimit = lintCrls(crl.pem.repeat(CRL_LINT_MAX), pki.root.pem);
    expect(atLimit.problems.map((p) => p.code)).not.toContain('CRL_TOO_MANY');
    expect(atLimit.crls).toHaveLength(CRL_LINT_MAX);
    const over = lintCrls(crl.pem.repeat(CRL_LINT_MAX + 1), pki.root.pem);
    expect(over).toMatchObject({ ok: false, crls: [] });
    expect(over.problems).toEqual([{ code: 'CRL_TOO_MANY', message: `The upload holds ${CRL_LINT_MAX + 1} CRLs; at most ${CRL_LINT_MAX} are accepted.` }]);
    // The same count over a list of DER CRLs.
    expect(lintCrls(Array.from({ length: CRL_LINT_MAX + 1 }, () => crl.der), pki.root.pem).problems.map((p) => p.code)).toEqual(['CRL_TOO_MANY']);

    const huge = new Uint8Array(MAX_CRL_SIZE + 1);
    const big = lintCrls([crl.der, huge], pki.root.pem);
    expect(big.ok).toBe(false);
    expect(big.problems).toEqual([{ code: 'CRL_TOO_LARGE', index: 1, message: `CRL 2 is ${MAX_CRL_SIZE + 1} bytes; CRLs of at most 64 MiB are accepted.` }]);
    expect(big.crls).toHaveLength(1); // the good one is still summarised
    const longText = lintCrls(`${crl.pem}${' '.repeat(Math.ceil(MAX_CRL_SIZE * 1.4))}`, pki.root.pem);
    expect(longText.problems.map((p) => [p.code, p.index])).toEqual([['CRL_TOO_LARGE', 0]]);
    expect(longText.problems[0]!.message).toMatch(/larger than \d+ characters/);
  });
});
