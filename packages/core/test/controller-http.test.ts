/**
 * The framework-free console API pieces: body reading with a limit, body validation, Basic auth,
 * the gate-before-password order, denial bodies (JSON / escaped HTML), the status table.
 */
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createConsoleApi,
  createController,
  createMemoryAuditLog,
  createMemorySettingsStore,
  denialResponse,
  escapeHtml,
  parseLoginBody,
  parseMtlsSaveBody,
  readRequestBody,
  statusForRefusal,
  wantsJson,
  type ApiRequest,
  type Controller,
  type Decision,
} from '@certgate/core';
import { createCa, type TestCa, type TestCertificate } from '@certgate/core/testing';

function stream(chunks: (string | Buffer)[], headers: Record<string, string> = {}) {
  const s = Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))) as Readable & { headers: Record<string, string> };
  s.headers = headers;
  return s;
}

describe('readRequestBody', () => {
  it('reads a body within the limit', async () => {
    expect(await readRequestBody(stream(['{"a":', '1}']), 1024)).toEqual({ ok: true, text: '{"a":1}' });
  });
  it('refuses by content-length before reading', async () => {
    expect(await readRequestBody(stream(['x'], { 'content-length': '999999' }), 1024)).toMatchObject({ ok: false, code: 'PAYLOAD_TOO_LARGE' });
  });
  it('refuses a streamed (chunked) body as soon as it passes the limit, without buffering the rest', async () => {
    let produced = 0;
    const endless = new Readable({
      read() {
        produced += 64 * 1024;
        this.push(Buffer.alloc(64 * 1024, 0x61));
        if (produced > 64 * 1024 * 1024) this.push(null); // a hard stop for the test itself
      },
    }) as Readable & { headers: Record<string, string> };
    endless.headers = {};
    const r = await readRequestBody(endless, 1024 * 1024);
    expect(r).toMatchObject({ ok: false, code: 'PAYLOAD_TOO_LARGE' });
    endless.destroy();
  });
  it('refuses a body that is not UTF-8', async () => {
    expect(await readRequestBody(stream([Buffer.from([0xff, 0xfe, 0x00])]), 1024)).toMatchObject({ ok: false, code: 'BODY_UNREADABLE' });
  });
});

describe('body validation', () => {
  it('PUT /api/settings/mtls', () => {
    expect(parseMtlsSaveBody('{"enabled":true,"enforce":false}')).toEqual({ ok: true, value: { enabled: true, enforce: false } });
    expect(parseMtlsSaveBody('{"enabled":true,"enforce":true,"caPem":"x","version":3}')).toEqual({ ok: true, value: { enabled: true, enforce: true, caPem: 'x', version: 3 } });
    expect(parseMtlsSaveBody('{"enabled":true,"enforce":true,"crlPem":"y"}')).toEqual({ ok: true, value: { enabled: true, enforce: true, crlPem: 'y' } });
    expect(parseMtlsSaveBody('{"enabled":true,"enforce":true,"crlPem":null}')).toEqual({ ok: true, value: { enabled: true, enforce: true, crlPem: null } });
    for (const [text, code] of [
      ['', 'INVALID_JSON'],
      ['{', 'INVALID_JSON'],
      ['null', 'INVALID_BODY'],
      ['"x"', 'INVALID_BODY'],
      ['[]', 'INVALID_BODY'],
      ['{"enabled":1,"enforce":false}', 'INVALID_BODY'],
      ['{"enabled":true}', 'INVALID_BODY'],
      ['{"enabled":true,"enforce":false,"version":1.5}', 'INVALID_BODY'],
      ['{"enabled":true,"enforce":false,"version":"1"}', 'INVALID_BODY'],
      ['{"enabled":true,"enforce":false,"caPem":null}', 'INVALID_BODY'],
      ['{"enabled":true,"enforce":false,"crlPem":42}', 'INVALID_BODY'],
      ['{"enabled":true,"enforce":false,"crlPem":["x"]}', 'INVALID_BODY'],
      ['{"enabled":true,"enforce":false,"__proto__":{"x":1}}', 'INVALID_BODY'],
      ['{"enabled":true,"enforce":false,"mode":"enforced"}', 'INVALID_BODY'],
    ] as const) {
      const r = parseMtlsSaveBody(text);
      expect(r.ok, text).toBe(false);
      if (!r.ok) expect(r.code, text).toBe(code);
    }
    const unknown = parseMtlsSaveBody('{"enabled":true,"enforce":false,"mode":"x"}');
    expect(!unknown.ok && unknown.message).toMatch(/Unknown field "mode"; allowed: enabled, enforce, caPem, crlPem, version/);
  });
  it('PUT /api/settings/login', () => {
    expect(parseLoginBody('{"method":"smartcard"}')).toEqual({ ok: true, value: { method: 'smartcard' } });
    expect(parseLoginBody('{"method":"retina"}')).toMatchObject({ ok: false, code: 'INVALID_BODY' });
    expect(parseLoginBody('{"method":"password","x":1}')).toMatchObject({ ok: false, code: 'INVALID_BODY' });
  });
});

describe('denials and statuses', () => {
  const denied: Decision = {
    action: 'deny',
    mode: 'enforced',
    epoch: 1,
    settingsVersion: 2,
    certificate: null,
    verdict: null,
    identity: null,
    denial: { code: 'CLIENT_CERT_UNTRUSTED', message: 'No <b>way</b> & "never"', reason: 'EXPIRED' },
  };
  it('JSON for /api/ and JSON clients, HTML for browsers, everything escaped', () => {
    const api = denialResponse(denied, { path: '/api/x', headers: { accept: 'text/html' } });
    expect(api.status).toBe(403);
    expect(JSON.parse(api.body)).toEqual({ error: { code: 'CLIENT_CERT_UNTRUSTED', message: 'No <b>way</b> & "never"', reason: 'EXPIRED' } });
    const json = denialResponse(denied, { path: '/page', headers: { accept: 'application/json' } });
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    const html = denialResponse(denied, { path: '/page', headers: { accept: 'text/html,*/*' } });
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.body).toContain('No &lt;b&gt;way&lt;/b&gt; &amp; &quot;never&quot;');
    expect(html.body).toContain('<code>EXPIRED</code>');
    expect(wantsJson('/', {})).toBe(false);
    expect(wantsJson('/api', {})).toBe(true);
    expect(escapeHtml(`<'&">`)).toBe('&lt;&#39;&amp;&quot;&gt;');
  });
  it('one status per code', () => {
    const table = Object.fromEntries(
      ['VERSION_CONFLICT', 'MTLS_UNAVAILABLE', 'MTLS_ENABLED', 'CLIENT_CERT_MISSING', 'CLIENT_CERT_UNTRUSTED', 'CA_REQUIRED', 'CA_INVALID', 'INVALID_JSON', 'INVALID_BODY', 'PAYLOAD_TOO_LARGE', 'SETTINGS_UNAVAILABLE', 'VERDICT_MISMATCH'].map((c) => [c, statusForRefusal(c)]),
    );
    expect(table).toEqual({
      VERSION_CONFLICT: 409, MTLS_UNAVAILABLE: 409, MTLS_ENABLED: 409, CLIENT_CERT_MISSING: 422, CLIENT_CERT_UNTRUSTED: 422,
      CA_REQUIRED: 400, CA_INVALID: 400, INVALID_JSON: 400, INVALID_BODY: 400, PAYLOAD_TOO_LARGE: 413, SETTINGS_UNAVAILABLE: 503, VERDICT_MISMATCH: 500,
    });
  });
});

describe('createConsoleApi', () => {
  let ca: TestCa;
  let admin: TestCertificate;
  let controller: Controller;
  const audit = createMemoryAuditLog();
  const calls: string[] = [];
  const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
  beforeAll(async () => {
    ca = await createCa();
    admin = await ca.issue();
    controller = await createController({ store: createMemorySettingsStore(), audit, appName: 'API' });
  });
  function request(o: Partial<ApiRequest> & { body?: string }, decision?: Decision): Promise<ApiRequest> {
    return (async () => ({
      method: 'GET',
      path: '/api/settings/mtls',
      headers: {},
      decision: decision ?? (await controller.decide(null)),
      peerChain: null,
      readBody: async () => {
        calls.push('readBody');
        return { ok: true as const, text: o.body ?? '' };
      },
      ...o,
    }))();
  }
  const api = () => createConsoleApi(controller, { authenticate: (u, p) => { calls.push(`auth:${u}`); if (p === 'boom') throw new Error('x'); return p === 'pw'; } });

  it('validates its options', () => {
    expect(() => createConsoleApi(controller, {} as never)).toThrow(/authenticate/);
    expect(() => createConsoleApi(controller, { authenticate: () => true, realm: 'a"b' })).toThrow(/realm/);
    expect(() => createConsoleApi(controller, { authenticate: () => true, bodyLimitBytes: 10 })).toThrow(/bodyLimitBytes/);
  });

  it('paths outside the prefix are not handled', async () => {
    expect(await api().handle(await request({ path: '/other' }))).toBeNull();
    expect(await api().handle(await request({ path: '/apix' }))).toBeNull();
  });

  it('malformed or wrong credentials → 401; an authenticate that throws is a 401, not a crash; the body is never read', async () => {
    calls.length = 0;
    for (const authorization of [undefined, 'Bearer x', 'Basic !!!', basic('admin'), basic('root:pw'), basic('admin:nope'), basic('admin:boom'), `Basic ${'A'.repeat(5000)}`]) {
      const r = await api().handle(await request({ method: 'PUT', headers: authorization ? { authorization } : {} }));
      expect(r!.status, String(authorization)).toBe(401);
      expect(r!.headers['www-authenticate']).toBe('Basic realm="certgate", charset="UTF-8"');
    }
    expect(calls).not.toContain('readBody');
    expect(calls.filter((c) => c.startsWith('auth:'))).toEqual(['auth:admin', 'auth:admin']); // only well-formed admin attempts reach the check
  });

  it('a denied decision gets 403 before any password check', async () => {
    await controller.save({ enabled: true, enforce: false, caPem: ca.pem }, { actor: 'admin', peerChain: null });
    await controller.save({ enabled: true, enforce: true }, { actor: 'admin', peerChain: [admin.der] });
    calls.length = 0;
    const r = await api().handle(await request({ headers: { authorization: basic('admin:pw') } }));
    expect(r!.status).toBe(403);
    expect(JSON.parse(r!.body).error.code).toBe('CLIENT_CERT_MISSING');
    expect(calls).toEqual([]);
    const ok = await api().handle(await request({ headers: { authorization: basic('admin:pw') }, peerChain: [admin.der] }, await controller.decide([admin.der])));
    expect(ok!.status).toBe(200);
  });

  it('CROSS_SITE_REQUEST: a browser request from another site cannot change anything (checked before the password; reads and non-browser clients unaffected)', async () => {
    const d = await controller.decide([admin.der]);
    const put = (headers: Record<string, string>, o: { method?: string; api?: ReturnType<typeof api> } = {}) =>
      (async () => (o.api ?? api()).handle(await request({ method: o.method ?? 'PUT', headers: { authorization: basic('admin:nope'), host: 'console.test:8443', ...headers }, peerChain: [admin.der], body: '{"enabled":false,"enforce":false}' }, d)))();
    calls.length = 0;
    for (const h of [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { 'sec-fetch-site': 'cross-site', origin: 'https://console.test:8443' }, // the browser's own word wins
      { origin: 'https://evil.test' },
      { origin: 'https://console.test:9443' },
      { 'sec-fetch-site': 'cross-site', origin: 'null' }, // a sandboxed frame of another site
      { origin: 'not an origin' },
    ] as Record<string, string>[]) {
      const r = await put(h);
      expect(r!.status, JSON.stringify(h)).toBe(403);
      expect(JSON.parse(r!.body).error).toMatchObject({ code: 'CROSS_SITE_REQUEST', message: expect.stringMatching(/another site/) });
    }
    const post = await put({ 'sec-fetch-site': 'cross-site' }, { method: 'POST' });
    expect(JSON.parse(post!.body).error.code).toBe('CROSS_SITE_REQUEST');
    expect(calls).toEqual([]); // neither the password check nor the body
    // Not refused (so they reach the password check, which says 401 to 'nope'):
    // (an opaque Origin without Sec-Fetch-Site: what some non-browser clients send; every current browser sends Sec-Fetch-Site)
    for (const h of [{}, { 'sec-fetch-site': 'same-origin' }, { 'sec-fetch-site': 'none' }, { origin: 'https://console.test:8443' }, { 'sec-fetch-site': 'same-origin', origin: 'https://console.test:8443' }, { origin: 'null' }] as Record<string, string>[]) {
      expect((await put(h))!.status, JSON.stringify(h)).toBe(401);
    }
    expect((await put({ 'sec-fetch-site': 'cross-site' }, { method: 'GET' }))!.status).toBe(401); // a read: the browser will not let the other site see it
    const listed = createConsoleApi(controller, { authenticate: () => false, allowedOrigins: ['https://proxy.test'] });
    expect((await put({ 'sec-fetch-site': 'cross-site', origin: 'https://proxy.test' }, { api: listed }))!.status).toBe(401);
    expect((await put({ 'sec-fetch-site': 'cross-site', origin: 'https://other.test' }, { api: listed }))!.status).toBe(403);
    for (const bad of [['proxy.test'], ['https://proxy.test/path'], 'https://proxy.test', [42]]) {
      expect(() => createConsoleApi(controller, { authenticate: () => true, allowedOrigins: bad as never })).toThrow(/allowedOrigins/);
    }
  });

  it('a refused body is audited like any other attempt', async () => {
    const d = await controller.decide([admin.der]);
    const r = await api().handle(await request({ method: 'PUT', headers: { authorization: basic('admin:pw') }, peerChain: [admin.der], body: '{"enabled":' }, d));
    expect(r!.status).toBe(400);
    expect((await audit.recent()).at(-1)).toMatchObject({ action: 'save', outcome: 'refused', code: 'INVALID_JSON', client: { fingerprint256: admin.fingerprint256 } });
  });
});
