/**
 * CRLs fetched from the distribution points of a validated path (`createCrlFetcher` + verifyChain's
 * `crlFetcher`), from a real HTTP server on 127.0.0.1: revoked and good leaves, soft and hard failure,
 * caching until nextUpdate, shared fetches, bounds (size, time, redirects), and no fetch at all for a
 * chain that does not reach a trust anchor.
 */
import 'reflect-metadata';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrustStore, createCrlFetcher, createVerdictCache, verifyChain } from '@certgate/core';
import { createCa, type TestCa, type TestCertificate } from '@certgate/core/testing';

let server: http.Server;
let base: string;
/** path → [status, body, extra headers]; a function answers itself. */
const routes = new Map<string, [number, Uint8Array | string, Record<string, string>?] | ((res: http.ServerResponse) => void)>();
const hits = new Map<string, number>();
let ca: TestCa;
let other: TestCa;
let good: TestCertificate;
let revoked: TestCertificate;
let noCdp: TestCertificate;
let stranger: TestCertificate;
const HOUR = 3_600_000;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits.set(req.url!, (hits.get(req.url!) ?? 0) + 1);
    const r = routes.get(req.url!);
    if (!r) return void res.writeHead(404).end();
    if (typeof r === 'function') return r(res);
    res.writeHead(r[0], r[2] ?? {});
    res.end(r[1]);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  ca = await createCa({ subject: 'CN=Fetching CA' });
  other = await createCa({ subject: 'CN=Other CA' });
  good = await ca.issue({ subject: 'CN=good', crlDistributionPoints: [`${base}/ca.crl`] });
  revoked = await ca.issue({ subject: 'CN=revoked', crlDistributionPoints: [`${base}/ca.crl`] });
  noCdp = await ca.issue({ subject: 'CN=no cdp' });
  stranger = await other.issue({ subject: 'CN=stranger', crlDistributionPoints: [`${base}/ssrf`] });
  const crl = await ca.createCrl({ thisUpdate: new Date(Date.now() - HOUR), nextUpdate: new Date(Date.now() + 24 * HOUR), revoked: [{ serialNumber: revoked }] });
  routes.set('/ca.crl', [200, crl.der, { 'content-type': 'application/pkix-crl' }]);
  routes.set('/ca.pem.crl', [200, crl.pem]);
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const store = () => TrustStore.fromPem(ca.pem);

describe('verifyChain with a crlFetcher', () => {
  it('fetches the CRL of the validated path: the revoked leaf is REVOKED, the good one passes with revocation good', async () => {
    const crlFetcher = createCrlFetcher();
    const r1 = await verifyChain([revoked.der], store(), { crlFetcher });
    expect(r1).toMatchObject({ ok: false, code: 'REVOKED' });
    const r2 = await verifyChain([good.der], store(), { crlFetcher });
    expect(r2).toMatchObject({ ok: true, revocation: { status: 'good' } });
    expect(crlFetcher.fetches).toBe(1); // the second verification used the cached CRL
  });

  it('a chain that does not reach a trust anchor fetches nothing (its addresses are nobody’s word)', async () => {
    const crlFetcher = createCrlFetcher();
    const before = hits.get('/ssrf') ?? 0;
    expect(await verifyChain([stranger.der], store(), { crlFetcher })).toMatchObject({ ok: false, code: 'UNKNOWN_ISSUER' });
    expect(hits.get('/ssrf') ?? 0).toBe(before);
    expect(crlFetcher.fetches).toBe(0);
  });

  it('nothing to fetch or a failed fetch: soft (the default with a fetcher) passes with status unknown, hard refuses', async () => {
    const crlFetcher = createCrlFetcher();
    expect(await verifyChain([noCdp.der], store(), { crlFetcher })).toMatchObject({ ok: true, revocation: { status: 'unknown' } });
    const gone = await ca.issue({ subject: 'CN=gone', crlDistributionPoints: [`${base}/missing.crl`] });
    expect(await verifyChain([gone.der], store(), { crlFetcher })).toMatchObject({ ok: true, revocation: { status: 'unknown' } });
    expect(await verifyChain([gone.der], store(), { crlFetcher, revocation: 'hard' })).toMatchObject({ ok: false, code: 'REVOCATION_UNKNOWN' });
    expect(crlFetcher.failures).toBe(1); // the 404, not retried within failureRetryMs
  });

  it('a PEM CRL is accepted too; identical fetches in flight are one', async () => {
    const crlFetcher = createCrlFetcher();
    const pemLeaf = await ca.issue({ subject: 'CN=pem', crlDistributionPoints: [`${base}/ca.pem.crl`] });
    const before = hits.get('/ca.pem.crl') ?? 0;
    const rs = await Promise.all([1, 2, 3].map(() => verifyChain([pemLeaf.der], store(), { crlFetcher })));
    for (const r of rs) expect(r).toMatchObject({ ok: true, revocation: { status: 'good' } });
    expect((hits.get('/ca.pem.crl') ?? 0) - before).toBe(1);
  });

  it('the cache lasts until nextUpdate, then the CRL is fetched again', async () => {
    let t = Date.now();
    const crlFetcher = createCrlFetcher({ now: () => t });
    const before = hits.get('/ca.crl') ?? 0;
    await crlFetcher.get(`${base}/ca.crl`);
    await crlFetcher.get(`${base}/ca.crl`);
    expect((hits.get('/ca.crl') ?? 0) - before).toBe(1);
    t += 25 * HOUR;
    await crlFetcher.get(`${base}/ca.crl`);
    expect((hits.get('/ca.crl') ?? 0) - before).toBe(2);
  });

  it('a CRL already past its nextUpdate at the distribution point is fetched again only after failureRetryMs, not on every verification', async () => {
    let t = Date.now();
    const crlFetcher = createCrlFetcher({ now: () => t, failureRetryMs: 60_000 });
    const stale = await ca.createCrl({ thisUpdate: new Date(Date.now() - 48 * HOUR), nextUpdate: new Date(Date.now() - 24 * HOUR), revoked: [] });
    routes.set('/stale.crl', [200, stale.der]);
    const leaf = await ca.issue({ subject: 'CN=stale dp', crlDistributionPoints: [`${base}/stale.crl`] });
    for (let i = 0; i < 3; i++) {
      expect(await verifyChain([leaf.der], store(), { crlFetcher, revocation: 'hard' })).toMatchObject({ ok: false, code: 'REVOCATION_UNKNOWN' });
    }
    expect(hits.get('/stale.crl')).toBe(1);
    expect(crlFetcher.fetches).toBe(1);
    t += 61_000;
    await verifyChain([leaf.der], store(), { crlFetcher });
    expect(hits.get('/stale.crl')).toBe(2);
  });

  it('bounded: too large, too slow, a redirect, not a CRL, a scheme other than http(s), allowUrl', async () => {
    routes.set('/big', [200, new Uint8Array(4096)]);
    routes.set('/slow', () => {}); // never answers
    routes.set('/redirect', [302, '', { location: `${base}/ca.crl` }]);
    routes.set('/junk', [200, 'hello']);
    const f = createCrlFetcher({ maxBytes: 1024, timeoutMs: 300, allowUrl: (u) => u.pathname !== '/forbidden' });
    expect(await f.get(`${base}/big`)).toMatchObject({ ok: false, error: expect.stringMatching(/larger than 1024 bytes/) });
    expect(await f.get(`${base}/slow`)).toMatchObject({ ok: false, error: expect.stringMatching(/no answer within 300 ms/) });
    expect(await f.get(`${base}/redirect`)).toMatchObject({ ok: false, error: expect.stringMatching(/fetching failed/) });
    expect(await f.get(`${base}/junk`)).toMatchObject({ ok: false, error: expect.stringMatching(/neither a DER CRL nor a PEM/) });
    expect(await f.get('ldap://127.0.0.1/cn=crl')).toMatchObject({ ok: false, error: expect.stringMatching(/ldap: distribution points are not fetched/) });
    expect(await f.get(`${base}/forbidden`)).toMatchObject({ ok: false, error: 'not allowed by allowUrl' });
    expect(hits.get('/forbidden') ?? 0).toBe(0);
  });

  it('refuses bad options; a verdict cache does not cache calls with a fetcher', async () => {
    for (const o of [{ timeoutMs: 0 }, { maxBytes: 10 }, { maxEntries: 0 }, { fetch: 42 }, { allowUrl: 'x' }]) {
      expect(() => createCrlFetcher(o as never)).toThrow(expect.objectContaining({ code: 'ERR_CERTGATE_INVALID_OPTION' }));
    }
    await expect(verifyChain([good.der], store(), { crlFetcher: {} as never })).rejects.toMatchObject({ code: 'ERR_CERTGATE_INVALID_OPTION' });
    const cache = createVerdictCache();
    const crlFetcher = createCrlFetcher();
    const s = store();
    await cache.verify([good.der], s, { crlFetcher });
    await cache.verify([good.der], s, { crlFetcher });
    expect(cache.bypasses).toBe(2);
  });
});
