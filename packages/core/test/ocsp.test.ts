/**
 * OCSP (`createOcspClient` + verifyChain's `ocspClient`) against real HTTP responders on 127.0.0.1 written
 * here (and one run of `openssl ocsp`): good, revoked and unknown answers signed by the CA or by a delegated
 * responder; every kind of hostile or broken answer leading to an unknown status (soft passes, hard
 * refuses); no request for a chain that does not reach a trust anchor, for `revocation: 'off'` or against
 * `allowUrl`; caching, failure caching, shared requests and nonces; the interplay with CRLs; options.
 */
import 'reflect-metadata';
import { execFile, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrustStore, createCrlFetcher, createOcspClient, createVerdictCache, verifyChain, type VerifyOptions } from '@certgate/core';
import { createCa, type TestCa, type TestCertificate } from '@certgate/core/testing';
import { buildCrl, crlPem, type BuiltEntry } from './crl-builder.js';
import { buildOcspResponse, OCSP_OID, readOcspRequest, serialKey, statusOnly, type OcspResponseSpec, type ReadRequest } from './ocsp-builder.js';

type Handler = (req: ReadRequest | null, res: http.ServerResponse, body: Buffer) => void;

let server: http.Server;
let base: string;
const routes = new Map<string, Handler>();
const hits = new Map<string, number>();
const seen: { path: string; method: string; type: string | undefined; req: ReadRequest | null }[] = [];
let ca: TestCa;
let other: TestCa;
let responder: TestCertificate;
const HOUR = 3_600_000;
const NOCHECK = { oid: OCSP_OID.noCheck, critical: false, der: new Uint8Array([0x05, 0x00]) };

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url!;
      hits.set(path, (hits.get(path) ?? 0) + 1);
      const body = Buffer.concat(chunks);
      let parsed: ReadRequest | null = null;
      try {
        parsed = readOcspRequest(body);
      } catch {
        parsed = null;
      }
      seen.push({ path, method: req.method!, type: req.headers['content-type'], req: parsed });
      const h = routes.get(path);
      if (!h) return void res.writeHead(404).end();
      h(parsed, res, body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  ca = await createCa({ subject: 'CN=OCSP CA' });
  other = await createCa({ subject: 'CN=Other CA' });
  responder = await ca.issue({ subject: 'CN=OCSP Responder', extKeyUsage: [OCSP_OID.ocspSigning], keyUsage: ['digitalSignature'], extensions: [NOCHECK] });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const store = (opts?: { crls?: string[] }) => TrustStore.fromPem(ca.pem, opts);

/** A handler answering 200 with the DER of `make(request)`. */
function answer(make: (req: ReadRequest | null) => Uint8Array): Handler {
  return (req, res) => {
    const body = make(req);
    res.writeHead(200, { 'content-type': 'application/ocsp-response', 'content-length': String(body.length) }).end(body);
  };
}

/** A leaf of `ca` whose AIA names `${base}${path}`, and the route answering for it with `spec` (about that leaf). */
async function leafWith(path: string, spec: Partial<OcspResponseSpec> | ((leaf: TestCertificate, req: ReadRequest | null) => Uint8Array), issuer: TestCa = ca): Promise<TestCertificate> {
  const leaf = await issuer.issue({ subject: `CN=leaf ${path}`, ocspResponders: [`${base}${path}`] });
  routes.set(path, answer((req) => (typeof spec === 'function' ? spec(leaf, req) : buildOcspResponse({ issuer, cert: leaf, status: 'good', ...spec }))));
  return leaf;
}

const soft = { revocation: 'soft' } as const;
const hard = { revocation: 'hard' } as const;

describe('verifyChain with an ocspClient: answers that count', () => {
  it('a good answer signed by the CA: ok with revocation good; the request is a POST of application/ocsp-request for the leaf', async () => {
    const leaf = await leafWith('/good', {});
    const ocspClient = createOcspClient();
    const r = await verifyChain([leaf.der], store(), { ocspClient });
    expect(r).toMatchObject({ ok: true, revocation: { status: 'good' } });
    expect(ocspClient.requests).toBe(1);
    const s = seen.filter((x) => x.path === '/good').at(-1)!;
    expect(s).toMatchObject({ method: 'POST', type: 'application/ocsp-request' });
    expect(s.req).toMatchObject({ hashAlg: '1.3.14.3.2.26', serial: serialKey(leaf), nonce: null, requests: 1 });
  });

  it('a revoked answer: REVOKED with the reason and revocation time from the response, in soft mode too', async () => {
    const revokedAt = new Date(Date.UTC(2024, 4, 1, 12, 0, 0));
    const leaf = await leafWith('/revoked', { status: 'revoked', revokedAt, reason: 1 });
    for (const mode of [soft, hard, {}]) {
      const r = await verifyChain([leaf.der], store(), { ocspClient: createOcspClient(), ...mode });
      expect(r).toMatchObject({ ok: false, code: 'REVOKED', certIndex: 0, revocation: { reason: 'keyCompromise', revokedAt } });
      if (!r.ok) expect(r.message).toMatch(/according to the OCSP responder at http:\/\/127\.0\.0\.1:\d+\/revoked; the client needs a new certificate/);
    }
    const noReason = await leafWith('/revoked-no-reason', { status: 'revoked', revokedAt });
    expect(await verifyChain([noReason.der], store(), { ocspClient: createOcspClient() })).toMatchObject({ code: 'REVOKED', revocation: { reason: 'unspecified' } });
  });

  it('an unknown answer: soft (the default with a client) passes with status unknown, hard refuses', async () => {
    const leaf = await leafWith('/unknown', { status: 'unknown' });
    const ocspClient = createOcspClient();
    const r = await verifyChain([leaf.der], store(), { ocspClient });
    expect(r).toMatchObject({ ok: true, revocation: { status: 'unknown', certIndex: 0, reason: expect.stringMatching(/does not know the certificate \(status unknown\)/) } });
    const h = await verifyChain([leaf.der], store(), { ocspClient, ...hard });
    expect(h).toMatchObject({ ok: false, code: 'REVOCATION_UNKNOWN', certIndex: 0 });
    if (!h.ok) expect(h.message).toMatch(/cannot be decided by OCSP or from the configured CRLs/);
  });

  it('a delegated responder (OCSPSigning, issued by the CA, nocheck) in certs, named by key or by name; a SHA-256 CertID', async () => {
    for (const [path, spec] of [
      ['/delegated-key', { signer: responder, certs: [responder] }],
      ['/delegated-name', { signer: responder, certs: [responder], responderId: 'name' as const }],
      ['/ca-name', { responderId: 'name' as const }],
      ['/sha256', { hash: 'sha256' as const }],
    ] as const) {
      const leaf = await leafWith(path, spec);
      expect(await verifyChain([leaf.der], store(), { ocspClient: createOcspClient(), ...hard }), path).toMatchObject({ ok: true, revocation: { status: 'good' } });
    }
    const leaf = await leafWith('/delegated-revoked', { signer: responder, certs: [responder], status: 'revoked', reason: 4 });
    expect(await verifyChain([leaf.der], store(), { ocspClient: createOcspClient() })).toMatchObject({ code: 'REVOKED', revocation: { reason: 'superseded' } });
  });

  it('only the first 4 elements of certs are examined as responders, parsing or not (4th counts, 5th not); thousands of non-certificates after them are not parsed', async () => {
    const junk = { der: new Uint8Array([0x30, 0x00]) } as TestCertificate; // a SEQUENCE that is no certificate
    const fourth = await leafWith('/certs-4th', { signer: responder, certs: [junk, junk, junk, responder] });
    expect(await verifyChain([fourth.der], store(), { ocspClient: createOcspClient(), ...hard })).toMatchObject({ ok: true, revocation: { status: 'good' } });
    const fifth = await leafWith('/certs-5th', { signer: responder, certs: [junk, junk, junk, junk, responder] });
    const r = await verifyChain([fifth.der], store(), { ocspClient: createOcspClient(), ...hard });
    expect(r).toMatchObject({ ok: false, code: 'REVOCATION_UNKNOWN' });
    if (!r.ok) expect(r.message).toMatch(/neither "CN=OCSP CA" nor a certificate in the response/);
    // 60 KiB of them (each was a failed certificate parse before: half a second of event loop per response)
    const padded = await leafWith('/certs-padded', { certs: Array.from({ length: 30_000 }, () => junk) });
    expect(await verifyChain([padded.der], store(), { ocspClient: createOcspClient(), ...hard })).toMatchObject({ ok: true, revocation: { status: 'good' } });
  });

  it('a responder that signs on demand stamps thisUpdate with the second it answers, after the verification began: good, without a clock tolerance', async () => {
    // As `openssl ocsp` does: thisUpdate = the current second. Here the answer is always made in a later
    // second than the verification's time, which a check against that time alone took for "in the future".
    const leaf = await leafWith('/on-demand', {});
    routes.set('/on-demand', (_req, res) => {
      const next = Math.floor(Date.now() / 1000) * 1000 + 1000;
      const wait = () => {
        if (Date.now() < next + 20) return void setTimeout(wait, next + 20 - Date.now());
        const body = buildOcspResponse({ issuer: ca, cert: leaf, status: 'good', thisUpdate: new Date(Math.floor(Date.now() / 1000) * 1000) });
        res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(body);
      };
      wait();
    });
    for (const explicit of [false, true]) {
      // an explicit time (as the controller passes) is the instant the verification is asked for
      const r = await verifyChain([leaf.der], store(), { ocspClient: createOcspClient(), ...hard, ...(explicit ? { time: new Date() } : {}) });
      expect(r, `explicit time: ${explicit}`).toMatchObject({ ok: true, revocation: { status: 'good' } });
    }
  });

  it('clockToleranceSec allows a thisUpdate slightly ahead; a SHA-1 signature is WEAK unless allowWeakAlgorithms', async () => {
    const ahead = await leafWith('/ahead', { thisUpdate: new Date(Date.now() + 30_000) });
    expect(await verifyChain([ahead.der], store(), { ocspClient: createOcspClient(), ...hard })).toMatchObject({ ok: false, code: 'REVOCATION_UNKNOWN' });
    expect(await verifyChain([ahead.der], store(), { ocspClient: createOcspClient(), clockToleranceSec: 60, ...hard })).toMatchObject({ ok: true, revocation: { status: 'good' } });
    const sha1 = await leafWith('/sha1-signed', { signatureHash: 'sha1' });
    const w = await verifyChain([sha1.der], store(), { ocspClient: createOcspClient(), ...hard });
    expect(w).toMatchObject({ ok: false, code: 'REVOCATION_UNKNOWN' });
    if (!w.ok) expect(w.message).toMatch(/its signature is not accepted: .*SHA-1 signatures are refused unless weak algorithms are allowed/);
    expect(await verifyChain([sha1.der], store(), { ocspClient: createOcspClient(), allowWeakAlgorithms: true, ...hard })).toMatchObject({ ok: true, revocation: { status: 'good' } });
  });

  it('a delegated responder without nocheck counts only when the CRLs say it is good (its own status is never asked of OCSP)', async () => {
    // The uploaded CRL covers the distribution point of the responder's certificate, not the leaf's: only OCSP can decide the leaf.
    const dpLeaf = `${base}/dp-leaf.crl`;
    const dpResponder = `${base}/dp-responder.crl`;
    const plain = await ca.issue({ subject: 'CN=Plain Responder', extKeyUsage: [OCSP_OID.ocspSigning], crlDistributionPoints: [dpResponder] });
    const leaf = await ca.issue({ subject: 'CN=leaf no-nocheck', ocspResponders: [`${base}/no-nocheck`], crlDistributionPoints: [dpLeaf] });
    routes.set('/no-nocheck', answer(() => buildOcspResponse({ issuer: ca, cert: leaf, status: 'good', signer: plain, certs: [plain] })));
    const crl = (entries: BuiltEntry[]) => crlPem(buildCrl(ca, { thisUpdate: new Date(Date.now() - HOUR), idp: { uri: [dpResponder] }, entries }));
    const r = await verifyChain([leaf.der], store(), { ocspClient: createOcspClient() });
    expect(r).toMatchObject({ ok: true, revocation: { status: 'unknown', reason: expect.stringMatching(/delegated responder "CN=Plain Responder" has no id-pkix-ocsp-nocheck/) } });
    const good = await verifyChain([leaf.der], store({ crls: [crl([])] }), { ocspClient: createOcspClient() });
    expect(good).toMatchObject({ ok: true, revocation: { status: 'good' } });
    const h = await verifyChain([leaf.der], store({ crls: [crl([{ serial: plain, reason: 1 }])] }), { ocspClient: createOcspClient() });
    expect(h).toMatchObject({ ok: false, code: 'REVOCATION_UNKNOWN' });
    if (!h.ok) expect(h.message).toMatch(/delegated responder "CN=Plain Responder" was revoked \(keyCompromise\)/);
    expect(hits.get('/no-nocheck')).toBe(3);

    // Its "revoked" counts whatever its own status (refusing is the safe side): REVOKED with no CRL at hand.
    const revokedLeaf = await ca.issue({ subject: 'CN=leaf no-nocheck revoked', ocspResponders: [`${base}/no-nocheck-revoked`], crlDistributionPoints: [dpLeaf] });
    routes.set('/no-nocheck-revoked', answer(() => buildOcspResponse({ issuer: ca, cert: revokedLeaf, status: 'revoked', signer: plain, certs: [plain] })));
    const rv = await verifyChain([revokedLeaf.der], store(), { ocspClient: createOcspClient() });
    expect(rv).toMatchObject({ ok: false, code: 'REVOKED', certIndex: 0 });
    if (!rv.ok) expect(rv.message).toMatch(/according to the OCSP responder at .*\/no-nocheck-revoked/);
  });

  it('every non-anchor certificate of the path is asked, leaf first, at most 4 per verification; a revoked intermediate is REVOKED at its index', async () => {
    let issuer: TestCa = ca;
    const chain: TestCertificate[] = [];
    for (let i = 1; i <= 4; i++) {
      issuer = await issuer.issueIntermediate({ subject: `CN=Level ${i}`, ocspResponders: [`${base}/level${i}`] });
      chain.unshift(issuer);
    }
    const leaf = await issuer.issue({ subject: 'CN=deep leaf', ocspResponders: [`${base}/level5`] });
    // The responder of level i answers for the certificate issued by level i - 1.
    const issuers = [ca, ...chain.slice().reverse()];
    for (let i = 1; i <= 5; i++) routes.set(`/level${i}`, answer(() => buildOcspResponse({ issuer: issuers[i - 1]!, cert: i === 5 ? leaf : issuers[i]!, status: 'good' })));
    const before = [1, 2, 3, 4, 5].map((i) => hits.get(`/level${i}`) ?? 0);
    const ocspClient = createOcspClient();
    const r = await verifyChain([leaf.der, ...chain.map((c) => c.der)], store(), { ocspClient });
    expect(ocspClient.requests).toBe(4);
    expect([1, 2, 3, 4, 5].map((i, k) => (hits.get(`/level${i}`) ?? 0) - before[k]!)).toEqual([0, 1, 1, 1, 1]);
    // Level 1's answer was not asked for: soft passes with that certificate's status unknown (no CRL either).
    expect(r).toMatchObject({ ok: true, revocation: { status: 'unknown', certIndex: 4 } });

    routes.set('/level3', answer(() => buildOcspResponse({ issuer: issuers[2]!, cert: issuers[3]!, status: 'revoked', reason: 2 })));
    const rev = await verifyChain([leaf.der, ...chain.map((c) => c.der)], store(), { ocspClient: createOcspClient() });
    expect(rev).toMatchObject({ ok: false, code: 'REVOKED', certIndex: 2, revocation: { reason: 'cACompromise' } });
  });
});

describe('answers that do not count: each is an unknown status (soft passes, hard refuses)', () => {
  const cases: [string, string, Partial<OcspResponseSpec> | ((leaf: TestCertificate, req: ReadRequest | null) => Uint8Array) | 'handler', RegExp][] = [
    ['bad signature', '/bad-sig', { corruptSignature: true }, /signature does not verify with the key of "CN=OCSP CA"/],
    ['signed by a key that is not the CA’s', '/wrong-key', 'handler', /signature does not verify/],
    ['responder without OCSPSigning', '/no-eku', 'handler', /lacks the id-kp-OCSPSigning extended key usage/],
    ['responder issued by another CA', '/other-ca', 'handler', /issued by "CN=Other CA", not by "CN=OCSP CA"/],
    ['expired responder', '/expired-responder', 'handler', /its certificate expired on/],
    ['responder keyUsage without digitalSignature', '/ku-responder', 'handler', /keyUsage does not include digitalSignature/],
    ['responderID names nobody in the response', '/no-responder', 'handler', /neither "CN=OCSP CA" nor a certificate in the response/],
    ['an answer for another serial', '/other-serial', { cert: '0123456789' }, /no answer for the certificate asked about \(CertID mismatch\)/],
    ['an answer about another CA’s key', '/other-issuer', 'handler', /CertID mismatch/],
    ['stale (nextUpdate passed)', '/stale', { thisUpdate: new Date(Date.now() - 3 * HOUR), nextUpdate: new Date(Date.now() - HOUR) }, /out of date \(its nextUpdate .* has passed\)/],
    ['thisUpdate in the future', '/future', { thisUpdate: new Date(Date.now() + HOUR) }, /thisUpdate .* is in the future/],
    ['no nextUpdate and more than a day old', '/old', { thisUpdate: new Date(Date.now() - 2 * 86_400_000), nextUpdate: null }, /no nextUpdate and its thisUpdate .* is more than a day old/],
    ['unknown critical response extension', '/crit', { extensions: [{ oid: '1.3.6.1.4.1.55555.9', critical: true, value: new Uint8Array([5, 0]) }] }, /critical extension certgate does not process \(1\.3\.6\.1\.4\.1\.55555\.9\)/],
    ['unknown critical single extension', '/crit-single', { singleExtensions: [{ oid: '1.3.6.1.4.1.55555.8', critical: true, value: new Uint8Array([5, 0]) }] }, /its answer has a critical extension/],
    ['tryLater', '/try-later', () => statusOnly(3), /answered "tryLater" \(responseStatus 3\)/],
    ['unauthorized', '/unauthorized', () => statusOnly(6), /answered "unauthorized"/],
    ['junk bytes', '/junk', () => new TextEncoder().encode('<html>hello</html>'), /not a valid OCSP response/],
    ['truncated DER', '/truncated', (leaf) => buildOcspResponse({ issuer: ca, cert: leaf, status: 'good' }).subarray(0, 100), /not a valid OCSP response/],
    ['trailing bytes', '/trailing', (leaf) => Buffer.concat([buildOcspResponse({ issuer: ca, cert: leaf, status: 'good' }), Buffer.from([0])]), /not a valid OCSP response .*trailing/],
    ['a v1 version field encoded (not DER)', '/v1', { version: 0 }, /not a valid OCSP response \(version: v1 is the DEFAULT/],
    ['an unknown response version', '/v3', { version: 2 }, /version: 3 is not a known response version/],
    ['too large', '/large', 'handler', /larger than 1024 bytes/],
    ['too large, without a content-length', '/large-chunked', 'handler', /larger than 1024 bytes/],
    ['too slow', '/slow', 'handler', /no answer within 300 ms/],
    ['a body that stalls', '/slow-body', 'handler', /could not be read: no answer within 300 ms/],
    ['an empty body', '/empty', () => new Uint8Array(0), /not a valid OCSP response/],
    ['a redirect', '/redirect', 'handler', /could not be asked/],
    ['HTTP 500', '/500', 'handler', /answered HTTP 500/],
  ];

  beforeAll(async () => {
    const noEku = await ca.issue({ subject: 'CN=No EKU Responder', extKeyUsage: ['clientAuth'], extensions: [NOCHECK] });
    const foreign = await other.issue({ subject: 'CN=Foreign Responder', extKeyUsage: [OCSP_OID.ocspSigning], extensions: [NOCHECK] });
    const expired = await ca.issue({ subject: 'CN=Expired Responder', extKeyUsage: [OCSP_OID.ocspSigning], extensions: [NOCHECK], notBefore: new Date(Date.now() - 3 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
    const kuResponder = await ca.issue({ subject: 'CN=KU Responder', extKeyUsage: [OCSP_OID.ocspSigning], keyUsage: ['keyEncipherment'], extensions: [NOCHECK] });
    const delegated = (signer: TestCertificate) => (leaf: TestCertificate) => buildOcspResponse({ issuer: ca, cert: leaf, status: 'good', signer, certs: [signer] });
    const special: Record<string, (leaf: TestCertificate) => Handler> = {
      '/wrong-key': (leaf) => answer(() => buildOcspResponse({ issuer: ca, cert: leaf, status: 'good', signingKey: other.key })),
      '/no-eku': (leaf) => answer(() => delegated(noEku)(leaf)),
      '/other-ca': (leaf) => answer(() => delegated(foreign)(leaf)),
      '/expired-responder': (leaf) => answer(() => delegated(expired)(leaf)),
      '/ku-responder': (leaf) => answer(() => delegated(kuResponder)(leaf)),
      '/no-responder': (leaf) => answer(() => buildOcspResponse({ issuer: ca, cert: leaf, status: 'good', signer: responder })),
      '/other-issuer': (leaf) => answer(() => buildOcspResponse({ issuer: other, cert: leaf.serialNumber, status: 'good', signer: ca })),
      '/large': (leaf) => answer(() => buildOcspResponse({ issuer: ca, cert: leaf, status: 'good', certs: [responder, responder, responder] })),
      '/slow': () => () => {},
      '/large-chunked': (leaf) => (_req, res) => {
        const body = buildOcspResponse({ issuer: ca, cert: leaf, status: 'good', certs: [responder, responder, responder] });
        res.writeHead(200, { 'content-type': 'application/ocsp-response' });
        res.write(body.subarray(0, 600));
        res.end(body.subarray(600));
      },
      '/slow-body': (leaf) => (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/ocsp-response' });
        res.write(buildOcspResponse({ issuer: ca, cert: leaf, status: 'good' }).subarray(0, 50)); // and nothing more
      },
      '/redirect': () => (_req, res) => void res.writeHead(302, { location: `${base}/good` }).end(),
      '/500': () => (_req, res) => void res.writeHead(500).end('oops'),
    };
    for (const c of cases) {
      const [, path, spec] = c;
      const leaf = await leafWith(path, spec === 'handler' ? {} : spec);
      if (spec === 'handler') routes.set(path, special[path]!(leaf));
      leaves.set(path, leaf);
    }
  });
  const leaves = new Map<string, TestCertificate>();

  it.each(cases)('%s', async (_name, path, _spec, reason) => {
    const leaf = leaves.get(path)!;
    const ocspClient = createOcspClient({ timeoutMs: 300, maxResponseBytes: 1024 });
    const r = await verifyChain([leaf.der], store(), { ocspClient, ...soft });
    expect(r).toMatchObject({ ok: true, revocation: { status: 'unknown', certIndex: 0 } });
    if (r.ok) expect(r.revocation!.reason).toMatch(reason);
    const h = await verifyChain([leaf.der], store(), { ocspClient, ...hard });
    expect(h).toMatchObject({ ok: false, code: 'REVOCATION_UNKNOWN', certIndex: 0 });
    if (!h.ok) expect(h.message).toMatch(reason);
    expect(ocspClient.failures).toBe(1); // counted once, and not asked again within failureRetryMs
    expect(ocspClient.requests).toBe(1);
  });
});

describe('who is asked, and when', () => {
  it('a chain that does not reach a trust anchor asks nobody (its AIA address is nobody’s word)', async () => {
    const stranger = await other.issue({ subject: 'CN=stranger', ocspResponders: [`${base}/ssrf`] });
    const selfMade = await createCa({ subject: 'CN=OCSP CA', ocspResponders: [`${base}/ssrf`] }); // same name as the anchor, another key
    const forged = await selfMade.issue({ subject: 'CN=forged', ocspResponders: [`${base}/ssrf`] });
    const ocspClient = createOcspClient();
    expect(await verifyChain([stranger.der], store(), { ocspClient, ...hard })).toMatchObject({ ok: false, code: 'UNKNOWN_ISSUER' });
    expect(await verifyChain([forged.der, selfMade.der], store(), { ocspClient, ...hard })).toMatchObject({ ok: false });
    expect(hits.get('/ssrf') ?? 0).toBe(0);
    expect(ocspClient.requests).toBe(0);
  });

  it("revocation 'off' asks nobody; allowUrl refusing asks nobody and leaves the status unknown; a certificate without AIA is unknown", async () => {
    const leaf = await leafWith('/guarded', {});
    const ocspClient = createOcspClient({ allowUrl: (u) => u.pathname !== '/guarded' });
    expect(await verifyChain([leaf.der], store(), { ocspClient, revocation: 'off' })).toMatchObject({ ok: true });
    const r = await verifyChain([leaf.der], store(), { ocspClient });
    expect(r).toMatchObject({ ok: true, revocation: { status: 'unknown', reason: expect.stringMatching(/is not allowed by allowUrl/) } });
    expect(hits.get('/guarded') ?? 0).toBe(0);
    expect(ocspClient.failures).toBe(0); // nothing was asked
    const noAia = await ca.issue({ subject: 'CN=no aia' });
    expect(await verifyChain([noAia.der], store(), { ocspClient, ...hard })).toMatchObject({ ok: false, code: 'REVOCATION_UNKNOWN' });
    const ldap = await ca.issue({ subject: 'CN=ldap aia', ocspResponders: ['ldap://127.0.0.1/cn=ocsp'] });
    expect(await verifyChain([ldap.der], store(), { ocspClient })).toMatchObject({ ok: true, revocation: { status: 'unknown' } });
    expect(ocspClient.requests).toBe(0);
  });

  it('caches until nextUpdate, then asks again; identical requests in flight are one', async () => {
    const leaf = await leafWith('/cached', { nextUpdate: new Date(Date.now() + 2 * HOUR) });
    let t = Date.now();
    const ocspClient = createOcspClient({ now: () => t });
    const before = hits.get('/cached') ?? 0;
    const rs = await Promise.all([1, 2, 3].map(() => verifyChain([leaf.der], store(), { ocspClient })));
    for (const r of rs) expect(r).toMatchObject({ ok: true, revocation: { status: 'good' } });
    expect((hits.get('/cached') ?? 0) - before).toBe(1);
    t += HOUR;
    await verifyChain([leaf.der], store(), { ocspClient });
    expect((hits.get('/cached') ?? 0) - before).toBe(1);
    expect(ocspClient.size).toBe(1);
    t += 2 * HOUR; // past nextUpdate
    expect(await verifyChain([leaf.der], store(), { ocspClient })).toMatchObject({ ok: true, revocation: { status: 'good' } });
    expect((hits.get('/cached') ?? 0) - before).toBe(2);
    ocspClient.clear();
    expect(ocspClient.size).toBe(0);
  });

  it('without nextUpdate an answer is kept defaultTtlMs (1 h)', async () => {
    const leaf = await leafWith('/no-next', { nextUpdate: null });
    let t = Date.now();
    const ocspClient = createOcspClient({ now: () => t });
    const before = hits.get('/no-next') ?? 0;
    await verifyChain([leaf.der], store(), { ocspClient });
    t += 59 * 60_000;
    expect(await verifyChain([leaf.der], store(), { ocspClient })).toMatchObject({ ok: true, revocation: { status: 'good' } });
    expect((hits.get('/no-next') ?? 0) - before).toBe(1);
    t += 2 * 60_000;
    await verifyChain([leaf.der], store(), { ocspClient });
    expect((hits.get('/no-next') ?? 0) - before).toBe(2);
  });

  it('a failure is not retried for failureRetryMs (60 s), then it is; an answer that cannot be used likewise', async () => {
    let status = 500;
    const leaf = await ca.issue({ subject: 'CN=flaky', ocspResponders: [`${base}/flaky`] });
    routes.set('/flaky', (_req, res) => {
      if (status === 500) return void res.writeHead(500).end();
      const body = buildOcspResponse({ issuer: ca, cert: leaf, status: 'good', corruptSignature: status === 1 });
      res.writeHead(200).end(body);
    });
    let t = Date.now();
    const ocspClient = createOcspClient({ now: () => t });
    const before = hits.get('/flaky') ?? 0;
    const ask = () => verifyChain([leaf.der], store(), { ocspClient });
    expect(await ask()).toMatchObject({ ok: true, revocation: { status: 'unknown' } });
    status = 1; // answers now, with a bad signature
    t += 30_000;
    expect(await ask()).toMatchObject({ ok: true, revocation: { status: 'unknown', reason: expect.stringMatching(/HTTP 500/) } });
    expect((hits.get('/flaky') ?? 0) - before).toBe(1);
    t += 31_000;
    expect(await ask()).toMatchObject({ ok: true, revocation: { status: 'unknown', reason: expect.stringMatching(/signature does not verify/) } });
    expect((hits.get('/flaky') ?? 0) - before).toBe(2);
    status = 2; // a good answer now; the bad one (nextUpdate in an hour) is still dropped after 60 s
    t += 30_000;
    await ask();
    expect((hits.get('/flaky') ?? 0) - before).toBe(2);
    t += 31_000;
    expect(await ask()).toMatchObject({ ok: true, revocation: { status: 'good' } });
    expect((hits.get('/flaky') ?? 0) - before).toBe(3);
    expect(ocspClient.failures).toBe(2);
  });

  it('nonce: sent when asked for, echoed back accepted, another refused, a missing one accepted', async () => {
    const echo = await leafWith('/nonce-echo', (leaf, req) => buildOcspResponse({ issuer: ca, cert: leaf, status: 'good', ...(req?.nonce ? { nonce: req.nonce } : {}) }));
    const wrong = await leafWith('/nonce-wrong', (leaf) => buildOcspResponse({ issuer: ca, cert: leaf, status: 'good', nonce: new Uint8Array([0x04, 0x02, 1, 2]) }));
    const none = await leafWith('/nonce-none', {});
    const ocspClient = createOcspClient({ nonce: true });
    expect(await verifyChain([echo.der], store(), { ocspClient, ...hard })).toMatchObject({ ok: true, revocation: { status: 'good' } });
    const sent = seen.filter((s) => s.path === '/nonce-echo').at(-1)!.req!.nonce!;
    expect(sent.length).toBe(34); // an OCTET STRING of 32 random octets
    expect(sent[0]).toBe(0x04);
    const w = await verifyChain([wrong.der], store(), { ocspClient, ...soft });
    expect(w).toMatchObject({ ok: true, revocation: { status: 'unknown', reason: expect.stringMatching(/nonce other than the one sent/) } });
    expect(await verifyChain([none.der], store(), { ocspClient, ...hard })).toMatchObject({ ok: true, revocation: { status: 'good' } });
    // Without the option no nonce is sent, and an echoed one is not checked.
    expect(await verifyChain([wrong.der], store(), { ocspClient: createOcspClient(), ...hard })).toMatchObject({ ok: true, revocation: { status: 'good' } });
    expect(seen.filter((s) => s.path === '/nonce-wrong').at(-1)!.req!.nonce).toBeNull();
  });
});

describe('OCSP with CRLs', () => {
  it('revoked by a CRL and good by OCSP is REVOKED; good by CRL and revoked by OCSP is REVOKED; either good decides good', async () => {
    const a = await leafWith('/crl-revoked-ocsp-good', {});
    const b = await leafWith('/crl-good-ocsp-revoked', { status: 'revoked', reason: 1 });
    const c = await leafWith('/crl-good-ocsp-unknown', { status: 'unknown' });
    const crl = await ca.createCrl({ revoked: [{ serialNumber: a, reason: 1 }] });
    const s = store({ crls: [crl.pem] });
    const ocspClient = createOcspClient();
    const ra = await verifyChain([a.der], s, { ocspClient });
    expect(ra).toMatchObject({ ok: false, code: 'REVOKED', revocation: { reason: 'keyCompromise' } });
    if (!ra.ok) expect(ra.message).toMatch(/according to the CRL of "CN=OCSP CA"/);
    expect(await verifyChain([b.der], s, { ocspClient })).toMatchObject({ ok: false, code: 'REVOKED' });
    expect(await verifyChain([c.der], s, { ocspClient })).toMatchObject({ ok: true, revocation: { status: 'good' } });
    // With a crlFetcher too: a fetched CRL that cannot be had, OCSP good → good.
    const d = await leafWith('/with-fetcher', {});
    expect(await verifyChain([d.der], store(), { ocspClient, crlFetcher: createCrlFetcher(), ...hard })).toMatchObject({ ok: true, revocation: { status: 'good' } });
  });

  it('an unknown OCSP status and no CRL: the reason names both', async () => {
    const leaf = await leafWith('/both-unknown', { status: 'unknown' });
    const r = await verifyChain([leaf.der], store(), { ocspClient: createOcspClient() });
    expect(r).toMatchObject({ ok: true, revocation: { status: 'unknown', reason: expect.stringMatching(/status unknown\); and no CRL issued by "CN=OCSP CA" is configured/) } });
  });
});

describe('options', () => {
  it('refuses bad options and clients not made by createOcspClient; a verdict cache does not cache calls with a client', async () => {
    for (const o of [null, 5, { timeoutMs: 0 }, { timeoutMs: 1.5 }, { maxResponseBytes: 10 }, { maxResponseBytes: 2 ** 30 }, { cacheEntries: 0 }, { nonce: 'yes' }, { failureRetryMs: -1 }, { defaultTtlMs: 0 }, { allowUrl: 'x' }, { fetch: 42 }, { now: 1 }]) {
      expect(() => createOcspClient(o as never), JSON.stringify(o)).toThrow(expect.objectContaining({ code: 'ERR_CERTGATE_INVALID_OPTION', message: expect.stringMatching(/^createOcspClient: /) }));
    }
    const leaf = await leafWith('/options', {});
    const fake = { requests: 0, failures: 0, size: 0, clear() {} };
    await expect(verifyChain([leaf.der], store(), { ocspClient: fake as never })).rejects.toMatchObject({ code: 'ERR_CERTGATE_INVALID_OPTION', message: expect.stringMatching(/"ocspClient" must be a client made by createOcspClient/) });
    await expect(verifyChain([leaf.der], store(), { ocspclient: createOcspClient() } as VerifyOptions)).rejects.toMatchObject({ message: expect.stringMatching(/did you mean "ocspClient"/) });
    const cache = createVerdictCache();
    const ocspClient = createOcspClient();
    const s = store();
    await cache.verify([leaf.der], s, { ocspClient });
    await cache.verify([leaf.der], s, { ocspClient });
    expect(cache.bypasses).toBe(2);
    expect(cache.size).toBe(0);
  });
});

describe('interoperability with openssl ocsp', () => {
  let dir: string;
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // `openssl ocsp -port` listens on every interface; the tests talk to 127.0.0.1 only, so the HTTP side is
  // this file's server and each request is answered by `openssl ocsp -reqin … -respout …` (the same
  // responder code: index lookup, CertID matching, signing, nonce copying), run as a child process.
  it('good, revoked and unknown answers of `openssl ocsp -index` (delegated responder, SHA-256 signature, nonce) are understood, and openssl reads our requests', async () => {
    dir = mkdtempSync(join(tmpdir(), 'certgate-ocsp-'));
    const url = `${base}/openssl`;
    const opensslCa = await createCa({ subject: 'CN=OpenSSL OCSP CA' });
    const rsigner = await opensslCa.issue({ subject: 'CN=OpenSSL Responder', extKeyUsage: [OCSP_OID.ocspSigning], extensions: [NOCHECK] });
    const good = await opensslCa.issue({ subject: 'CN=openssl good', ocspResponders: [url] });
    const revoked = await opensslCa.issue({ subject: 'CN=openssl revoked', ocspResponders: [url] });
    const unlisted = await opensslCa.issue({ subject: 'CN=openssl unlisted', ocspResponders: [url] });
    const stamp = (d: Date) => `${d.toISOString().replace(/[-:T]/g, '').slice(2, 14)}Z`;
    const hex = (c: TestCertificate) => serialKey(c).toUpperCase().replace(/^00/, '');
    const line = (c: TestCertificate, rev: string | null) => [rev ? 'R' : 'V', stamp(c.notAfter), rev ?? '', hex(c), 'unknown', `/${c.subject}`].join('\t');
    const revokedAt = new Date(Math.floor((Date.now() - HOUR) / 1000) * 1000);
    writeFileSync(join(dir, 'index.txt'), `${line(good, null)}\n${line(revoked, `${stamp(revokedAt)},keyCompromise`)}\n`);
    writeFileSync(join(dir, 'ca.pem'), opensslCa.pem);
    writeFileSync(join(dir, 'rsigner.pem'), rsigner.pem);
    writeFileSync(join(dir, 'rkey.pem'), rsigner.keyPem);
    let n = 0;
    const problems: string[] = [];
    routes.set('/openssl', (_req, res, body) => {
      const k = n++;
      const reqFile = join(dir, `req${k}.der`);
      const respFile = join(dir, `resp${k}.der`);
      writeFileSync(reqFile, body);
      const args = ['ocsp', '-index', join(dir, 'index.txt'), '-CA', join(dir, 'ca.pem'), '-rsigner', join(dir, 'rsigner.pem'), '-rkey', join(dir, 'rkey.pem'), '-rmd', 'sha256', '-nmin', '10', '-reqin', reqFile, '-respout', respFile];
      execFile('openssl', args, (err, _stdout, stderr) => {
        if (err) {
          problems.push(`${err.message} ${stderr}`);
          return void res.writeHead(500).end();
        }
        res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(readFileSync(respFile));
      });
    });
    const s = TrustStore.fromPem(opensslCa.pem);
    const ocspClient = createOcspClient({ nonce: true });
    expect(await verifyChain([good.der], s, { ocspClient, ...hard })).toMatchObject({ ok: true, revocation: { status: 'good' } });
    expect(await verifyChain([revoked.der], s, { ocspClient, ...hard })).toMatchObject({ ok: false, code: 'REVOKED', revocation: { reason: 'keyCompromise', revokedAt } });
    const u = await verifyChain([unlisted.der], s, { ocspClient, ...soft });
    expect(u).toMatchObject({ ok: true, revocation: { status: 'unknown', reason: expect.stringMatching(/does not know the certificate/) } });
    expect(problems).toEqual([]);
    expect(ocspClient.requests).toBe(3);
    expect(ocspClient.failures).toBe(0);
    // openssl echoed the nonce certgate sent (the client would have refused another one).
    const reqText = execFileSync('openssl', ['ocsp', '-reqin', join(dir, 'req0.der'), '-req_text', '-noverify'], { encoding: 'utf8' });
    expect(reqText).toMatch(/OCSP Nonce/);
    const respText = execFileSync('openssl', ['ocsp', '-respin', join(dir, 'resp0.der'), '-resp_text', '-noverify'], { encoding: 'utf8' });
    expect(respText).toMatch(/OCSP Nonce/);
    expect(respText).toMatch(/Responder Id: CN ?= ?OpenSSL Responder/);
  });
});
