/**
 * createForwardedCertificates: certificates a TLS-terminating proxy forwards in a header, believed only
 * from trusted proxy addresses, decoded per format, bounded, and validated like any other chain.
 */
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { FORWARDED_HEADERS, FORWARDED_LIMITS, TrustStore, createForwardedCertificates, verifyChain, type ForwardedFormat } from '@certgate/core';
import { createTestPki, type TestPki } from '@certgate/core/testing';

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});

const b64 = (der: Uint8Array) => Buffer.from(der).toString('base64');
/** nginx's $ssl_client_escaped_cert and AWS ALB: the PEM, percent-encoded. */
const escaped = (pem: string) => encodeURIComponent(pem);
/** Envoy's Hash: the SHA-256 of the client's certificate, hex. */
const sha256 = (der: Uint8Array) => createHash('sha256').update(der).digest('hex');
const same = (a: Uint8Array[] | null, b: Uint8Array[]) => expect(a?.map(b64)).toEqual(b.map(b64));

/** How each proxy writes leaf + intermediate (nginx forwards the leaf only; so do HAProxy and Cloudflare here). */
function encoded(format: ForwardedFormat): { headers: Record<string, string>; chain: 'leaf' | 'both' } {
  const leaf = pki.client;
  const inter = pki.intermediate;
  switch (format) {
    case 'nginx':
      return { headers: { 'x-ssl-client-cert': escaped(leaf.pem) }, chain: 'leaf' };
    case 'aws-alb':
      return { headers: { 'x-amzn-mtls-clientcert': escaped(leaf.pem + inter.pem) }, chain: 'both' };
    case 'envoy-xfcc':
      return {
        headers: {
          // an element added by a proxy further out, then ours (the last)
          'x-forwarded-client-cert': `By=spiffe://outer;Hash=00,By=spiffe://edge;Hash=${sha256(leaf.der)};Subject="CN=x, O=a;b";Chain="${escaped(leaf.pem + inter.pem)}";URI=spiffe://client`,
        },
        chain: 'both',
      };
    case 'rfc9440':
      return { headers: { 'client-cert': `:${b64(leaf.der)}:`, 'client-cert-chain': `:${b64(inter.der)}:` }, chain: 'both' };
    case 'traefik':
      return { headers: { 'x-forwarded-tls-client-cert': `${encodeURIComponent(b64(leaf.der))},${encodeURIComponent(b64(inter.der))}` }, chain: 'both' };
    case 'haproxy':
      return { headers: { 'x-ssl-client-der': b64(leaf.der) }, chain: 'leaf' };
    case 'cloudflare':
      return { headers: { 'cf-client-cert-der-base64': b64(leaf.der) }, chain: 'leaf' };
  }
}

describe('createForwardedCertificates: formats', () => {
  for (const format of Object.keys(FORWARDED_HEADERS) as ForwardedFormat[]) {
    it(`${format}: the forwarded chain, validated like any other`, async () => {
      const src = createForwardedCertificates({ trustedProxies: ['127.0.0.1'], format });
      const { headers, chain } = encoded(format);
      const r = src.read({ remoteAddress: '127.0.0.1', headers });
      expect(r).toMatchObject({ trusted: true, problem: null });
      const want = chain === 'both' ? [pki.client.der, pki.intermediate.der] : [pki.client.der];
      same(r.trusted ? r.chain : null, want);
      // The chain is only input: it is validated against the CA (with the intermediate the store may need).
      const store = TrustStore.fromPem(pki.root.pem, { intermediates: pki.intermediate.pem });
      const v = await verifyChain(r.trusted ? r.chain! : [], store);
      expect(v.ok).toBe(true);
      // No header from the trusted proxy: the client sent no certificate.
      expect(src.read({ remoteAddress: '127.0.0.1', headers: {} })).toEqual({ trusted: true, chain: null, problem: null });
    });
  }

  it('Envoy: the nearest element without Cert/Chain means no client certificate; Cert alone is the leaf; a Cert without its Hash is MALFORMED', () => {
    const src = createForwardedCertificates({ trustedProxies: ['127.0.0.1'], format: 'envoy-xfcc' });
    const r1 = src.read({ remoteAddress: '127.0.0.1', headers: { 'x-forwarded-client-cert': `Cert="${escaped(pki.client.pem)}",By=spiffe://edge;Hash=abc` } });
    expect(r1).toEqual({ trusted: true, chain: null, problem: null });
    const r2 = src.read({ remoteAddress: '127.0.0.1', headers: { 'x-forwarded-client-cert': `By=spiffe://edge;Hash=${sha256(pki.client.der)};Cert="${escaped(pki.client.pem)}"` } });
    same(r2.trusted ? r2.chain : null, [pki.client.der]);
    // Envoy always sends the Hash with a certificate: without it, a Chain injected through a SAN could not be told apart.
    const r3 = src.read({ remoteAddress: '127.0.0.1', headers: { 'x-forwarded-client-cert': `By=spiffe://edge;Cert="${escaped(pki.client.pem)}"` } });
    expect(r3.trusted && r3.problem).toMatch(/an element with a Cert must carry the certificate's Hash/);
    expect(r3.trusted && r3.chain).toEqual([new Uint8Array(0)]);
  });

  it('Envoy: fields injected through an unescaped URI/DNS SAN (a repeated Cert/Chain/Hash/Subject, a Chain that is not the hashed certificate) are MALFORMED, never the chain', () => {
    const src = createForwardedCertificates({ trustedProxies: ['127.0.0.1'], format: 'envoy-xfcc' });
    const mine = escaped(pki.client.pem);
    const victim = escaped(pki.intermediate.pem); // any certificate the attacker has a copy of
    const read = (xfcc: string) => src.read({ remoteAddress: '127.0.0.1', headers: { 'x-forwarded-client-cert': xfcc } });
    // What Envoy writes for a client certificate whose URI SAN is 'spiffe://x;Cert="<victim>"' (or ';Chain=…', ';Hash=…'):
    for (const xfcc of [
      `Hash=${sha256(pki.client.der)};Cert="${mine}";URI=spiffe://x;Cert="${victim}"`,
      `Hash=${sha256(pki.client.der)};Cert="${mine}";URI=spiffe://x;Hash=${sha256(pki.intermediate.der)};Chain="${victim}"`,
      `Hash=${sha256(pki.client.der)};Cert="${mine}";URI=spiffe://x;Chain="${victim}"`,
      `Hash=${sha256(pki.client.der)};Subject="CN=a";Subject="CN=b";Cert="${mine}"`,
    ]) {
      const r = read(xfcc);
      expect(r.trusted && r.problem, xfcc.slice(0, 120)).toMatch(/appears twice in one element|Hash is not the SHA-256/);
      expect(r.trusted && r.chain).toEqual([new Uint8Array(0)]);
    }
    expect(src.malformed).toBe(4);
    // Repeated URI and DNS fields are Envoy's own (one per SAN); an upper-case Hash is the same hash.
    const ok = read(`Hash=${sha256(pki.client.der).toUpperCase()};Cert="${mine}";URI=spiffe://a;URI=spiffe://b;DNS=a.example;DNS=b.example`);
    same(ok.trusted ? ok.chain : null, [pki.client.der]);
  });

  it('a header name of your own (nginx, HAProxy …) and repeated header lines', () => {
    const src = createForwardedCertificates({ trustedProxies: ['127.0.0.1'], format: 'nginx', header: 'X-Client-Cert' });
    const r = src.read({ remoteAddress: '127.0.0.1', headers: { 'x-client-cert': escaped(pki.client.pem) } });
    same(r.trusted ? r.chain : null, [pki.client.der]);
    const rfc = createForwardedCertificates({ trustedProxies: ['127.0.0.1'], format: 'rfc9440' });
    const r2 = rfc.read({ remoteAddress: '127.0.0.1', headers: { 'client-cert': `:${b64(pki.client.der)}:`, 'client-cert-chain': [`:${b64(pki.intermediate.der)}:`, `:${b64(pki.root.der)}:`] } });
    same(r2.trusted ? r2.chain : null, [pki.client.der, pki.intermediate.der, pki.root.der]);
  });
});

describe('createForwardedCertificates: who is believed', () => {
  it('only the trusted addresses and CIDRs (IPv4-mapped IPv6 included); anyone else is ignored and counted', () => {
    const src = createForwardedCertificates({ trustedProxies: ['10.1.0.0/16', '::1', 'fd00::/8', '192.0.2.7'], format: 'haproxy' });
    const headers = { 'x-ssl-client-der': b64(pki.client.der) };
    for (const a of ['10.1.2.3', '::ffff:10.1.255.255', '::1', 'fd12:3456::1', '192.0.2.7']) {
      expect(src.read({ remoteAddress: a, headers: { ...headers } }).trusted, a).toBe(true);
    }
    for (const a of ['10.2.0.1', '192.0.2.8', '127.0.0.1', 'fe80::1', 'fe80::1%eth0', '::ffff:192.0.2.8', '', 'not an ip', undefined, null]) {
      expect(src.read({ remoteAddress: a, headers: { ...headers } }), String(a)).toEqual({ trusted: false, ignored: true });
    }
    expect(src.ignored).toBe(10);
    // Without the header from an untrusted peer: nothing to ignore.
    expect(src.read({ remoteAddress: '10.2.0.1', headers: {} })).toEqual({ trusted: false, ignored: false });
    expect(src.ignored).toBe(10);
  });

  it('an IPv4-mapped CIDR is an IPv6 prefix (::ffff:10.0.0.0/104 is 10.0.0.0/8), never reread as an IPv4 one', () => {
    const src = createForwardedCertificates({ trustedProxies: ['::ffff:10.0.0.0/104', '::ffff:192.0.2.0/128'], format: 'haproxy' });
    const headers = { 'x-ssl-client-der': b64(pki.client.der) };
    const trusted = (a: string) => src.read({ remoteAddress: a, headers: { ...headers } }).trusted;
    expect(['10.200.0.1', '::ffff:10.0.0.9', '192.0.2.0'].map(trusted)).toEqual([true, true, true]);
    expect(['11.0.0.1', '192.0.2.1', '::1'].map(trusted)).toEqual([false, false, false]);
    // Under 96 it would cover more than the IPv4 space (or not what was meant): refused, as is a zone id.
    for (const c of ['::ffff:127.0.0.1/8', '::ffff:10.0.0.0/95', '::ffff:10.0.0.0/129', 'fe80::1%eth0', 'fe80::%eth0/64']) {
      expect(() => createForwardedCertificates({ trustedProxies: [c], format: 'nginx' }), c).toThrow(expect.objectContaining({ code: 'ERR_CERTGATE_INVALID_OPTION' }));
    }
  });

  it('a header option naming an Object.prototype member, or a value that is not text, is read as data, never thrown on', () => {
    for (const header of ['constructor', '__proto__', 'toString']) {
      const src = createForwardedCertificates({ trustedProxies: ['127.0.0.1'], format: 'haproxy', header });
      expect(src.read({ remoteAddress: '127.0.0.1', headers: {} }), header).toEqual({ trusted: true, chain: null, problem: null });
      expect(src.read({ remoteAddress: '10.0.0.1', headers: {} }), header).toEqual({ trusted: false, ignored: false });
    }
    const src = createForwardedCertificates({ trustedProxies: ['127.0.0.1'], format: 'haproxy' });
    for (const v of [42, {}, [null, 7]]) {
      const r = src.read({ remoteAddress: '127.0.0.1', headers: { 'x-ssl-client-der': v as never } });
      expect(r.trusted && r.problem, JSON.stringify(v)).toMatch(/not base64/);
    }
    expect(src.malformed).toBe(3);
  });

  it('one answer and one count per request, however many handlers ask', () => {
    const src = createForwardedCertificates({ trustedProxies: ['127.0.0.1'], format: 'haproxy' });
    const request = { remoteAddress: '10.9.9.9', headers: { 'x-ssl-client-der': b64(pki.client.der) } };
    expect(src.read(request)).toBe(src.read(request));
    expect(src.ignored).toBe(1);
  });
});

describe('createForwardedCertificates: bad headers from a trusted proxy', () => {
  const cases: [ForwardedFormat, Record<string, string | string[]>, RegExp][] = [
    ['nginx', { 'x-ssl-client-cert': '%E0%A4%A' }, /percent-encoded/],
    ['nginx', { 'x-ssl-client-cert': 'hello' }, /no PEM certificate/],
    ['nginx', { 'x-ssl-client-cert': escaped('-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n') }, /base64 is not valid/],
    ['haproxy', { 'x-ssl-client-der': 'not base64!' }, /not base64/],
    ['rfc9440', { 'client-cert': 'MIIB' }, /byte sequence/],
    ['rfc9440', { 'client-cert': ':QUJD:, :QUJD:' }, /exactly one/],
    ['rfc9440', { 'client-cert-chain': ':QUJD:' }, /without client-cert/],
    ['envoy-xfcc', { 'x-forwarded-client-cert': 'By=spiffe://x;Cert="unterminated' }, /unterminated/],
    ['envoy-xfcc', { 'x-forwarded-client-cert': 'ByNoValue' }, /has no value/],
    // A trailing "," ends in an element with no field: garbled, not "the nearest proxy saw no certificate".
    ['envoy-xfcc', { 'x-forwarded-client-cert': `Hash=abc;Cert="${encodeURIComponent('x')}",` }, /an empty element/],
    ['traefik', { 'x-forwarded-tls-client-cert': 'a b' }, /not base64/],
  ];
  for (const [format, headers, message] of cases) {
    it(`${format} ${JSON.stringify(headers).slice(0, 60)} → a problem, and a chain that validates as MALFORMED`, async () => {
      const src = createForwardedCertificates({ trustedProxies: ['127.0.0.1'], format });
      const r = src.read({ remoteAddress: '127.0.0.1', headers });
      if (!r.trusted) throw new Error('expected trusted');
      expect(r.problem).toMatch(message);
      expect(src.malformed).toBe(1);
      const v = await verifyChain(r.chain!, TrustStore.fromPem(pki.root.pem));
      expect(v).toMatchObject({ ok: false, code: 'MALFORMED' });
    });
  }

  it('bounded: over 10 certificates or 64 Ki characters is malformed, not decoded', () => {
    const src = createForwardedCertificates({ trustedProxies: ['127.0.0.1'], format: 'traefik' });
    const many = Array.from({ length: FORWARDED_LIMITS.maxCertificates + 1 }, () => encodeURIComponent(b64(pki.client.der))).join(',');
    const r = src.read({ remoteAddress: '127.0.0.1', headers: { 'x-forwarded-tls-client-cert': many } });
    expect(r.trusted && r.problem).toMatch(/more than 10 certificates/);
    const long = src.read({ remoteAddress: '127.0.0.1', headers: { 'x-forwarded-tls-client-cert': 'A'.repeat(FORWARDED_LIMITS.maxHeaderChars + 4) } });
    expect(long.trusted && long.problem).toMatch(/longer than 65536 characters/);
  });
});

describe('createForwardedCertificates: any header text', () => {
  it('never throws: a trusted proxy\'s header either decodes or is a problem (property, every format)', () => {
    const pieces = fc.oneof(fc.string(), fc.constantFrom('"', ';', ',', '=', ':', '%', '%ZZ', 'Cert=', 'Chain="', '-----BEGIN CERTIFICATE-----', '\\', ' '));
    for (const format of Object.keys(FORWARDED_HEADERS) as ForwardedFormat[]) {
      const src = createForwardedCertificates({ trustedProxies: ['127.0.0.1'], format });
      fc.assert(
        fc.property(fc.array(pieces, { maxLength: 30 }), fc.array(pieces, { maxLength: 10 }), (a, b) => {
          const headers = { [FORWARDED_HEADERS[format]]: a.join(''), 'client-cert-chain': b.join('') };
          const r = src.read({ remoteAddress: '127.0.0.1', headers });
          expect(r.trusted).toBe(true);
          if (r.trusted && r.problem === null && r.chain !== null) expect(r.chain.length).toBeGreaterThan(0);
        }),
        { numRuns: 300 },
      );
    }
  });
});

describe('createForwardedCertificates: options', () => {
  it('refuses what would make a header believed by mistake', () => {
    const bad: unknown[] = [
      undefined,
      { format: 'nginx' },
      { format: 'nginx', trustedProxies: [] },
      { format: 'nginx', trustedProxies: ['10.0.0.0/33'] },
      { format: 'nginx', trustedProxies: ['example.com'] },
      { format: 'nginx', trustedProxies: ['10.0.0.0/8/8'] },
      { format: 'nginx', trustedProxies: [42] },
      { format: 'squid', trustedProxies: ['10.0.0.1'] },
      { format: 'rfc9440', trustedProxies: ['10.0.0.1'], header: 'x-cert' },
      { format: 'nginx', trustedProxies: ['10.0.0.1'], header: 'bad header' },
    ];
    for (const o of bad) expect(() => createForwardedCertificates(o as never), JSON.stringify(o)).toThrow(expect.objectContaining({ code: 'ERR_CERTGATE_INVALID_OPTION' }));
  });
});
