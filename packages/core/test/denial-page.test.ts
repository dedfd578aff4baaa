/**
 * The 403 page for browsers (renderDenialPage / denialResponse) and the console API's 401 without
 * a Basic challenge for the console page's own requests.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DENIAL_PAGE_CSP,
  VERIFICATION_CODES,
  VERIFICATION_REASON_TEXT,
  createConsoleApi,
  createController,
  createMemorySettingsStore,
  denialResponse,
  renderDenialPage,
  type Decision,
} from '@certgate/core';

const MISSING = 'Client certificate not found in request. Please make sure your client uses a certificate to access Shop.';
const UNTRUSTED = 'Current client certificate can not be validated by the uploaded CA.';

function denied(denial: NonNullable<Decision['denial']>, certificate: Decision['certificate'] = null): Decision {
  return { action: 'deny', mode: 'enforced', epoch: 1, settingsVersion: 3, certificate, verdict: null, identity: null, denial };
}

const hostile = {
  subject: 'CN=<script>alert(1)</script>',
  issuer: 'O="Evil" & Co',
  serialNumber: '01',
  fingerprint256: 'AA:BB',
  notBefore: '2026-01-01T00:00:00.000Z',
  notAfter: '2027-01-01T00:00:00.000Z',
  san: { dns: [], email: [], uri: [], ip: [], spiffeId: null },
};

describe('renderDenialPage', () => {
  it('missing certificate: the contract text, how to import a certificate and reopen the browser', () => {
    const html = renderDenialPage(denied({ code: 'CLIENT_CERT_MISSING', message: MISSING }));
    expect(html).toContain('<h1>Access denied</h1>');
    expect(html).toContain(`<p class="lead">${MISSING}</p>`);
    expect(html).toContain('A client certificate is required');
    expect(html).toContain('Manage certificates');
    expect(html).toContain('Close every window of the browser');
    expect(html).toContain('Code: <code>CLIENT_CERT_MISSING</code>');
    expect(html).not.toContain('<script');
  });

  it('untrusted: the reason explained and the presented certificate, escaped', () => {
    const html = renderDenialPage(denied({ code: 'CLIENT_CERT_UNTRUSTED', message: UNTRUSTED, reason: 'EXPIRED' }, hostile));
    expect(html).toContain(UNTRUSTED);
    expect(html).toContain(`Reason: <code>EXPIRED</code> — ${VERIFICATION_REASON_TEXT.EXPIRED}`);
    expect(html).toContain('CN=&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('O=&quot;Evil&quot; &amp; Co');
    expect(html).not.toContain('<script');
  });

  it('settings unavailable: says it is not the certificate, points at break-glass', () => {
    const html = renderDenialPage(denied({ code: 'SETTINGS_UNAVAILABLE', message: 'Access is denied because the mTLS settings cannot be read; an administrator must repair them.' }));
    expect(html).toContain('Access is paused');
    expect(html).toContain('not a problem with your certificate');
    expect(html).toContain('break-glass');
  });

  it('every verification code has an explanation', () => {
    expect(Object.keys(VERIFICATION_REASON_TEXT).sort()).toEqual([...VERIFICATION_CODES].sort());
  });

  it('the CSP allows exactly the inline style block, by hash', () => {
    const html = renderDenialPage(denied({ code: 'CLIENT_CERT_MISSING', message: MISSING }));
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    const hash = createHash('sha256').update(style).digest('base64');
    expect(DENIAL_PAGE_CSP).toContain(`style-src 'sha256-${hash}'`);
    expect(DENIAL_PAGE_CSP).toMatch(/^default-src 'none'/);
    const r = denialResponse(denied({ code: 'CLIENT_CERT_MISSING', message: MISSING }), { path: '/', headers: { accept: 'text/html' } });
    expect(r.status).toBe(403);
    expect(r.headers['content-security-policy']).toBe(DENIAL_PAGE_CSP);
    expect(r.body).toBe(html);
  });
});

describe('console API 401', () => {
  it('challenges with Basic, except requests marked X-Requested-With: XMLHttpRequest (the page)', async () => {
    const controller = await createController({ store: createMemorySettingsStore(), onProblem: () => {} });
    const api = createConsoleApi(controller, { authenticate: (_u, p) => p === 'right' });
    const decision = await controller.decide(null);
    const base = { method: 'GET', path: '/api/settings/mtls', decision, peerChain: null, readBody: async () => ({ ok: true as const, text: '' }) };
    const wrong = `Basic ${Buffer.from('admin:wrong').toString('base64')}`;
    const plain = await api.handle({ ...base, headers: { authorization: wrong } });
    expect(plain!.status).toBe(401);
    expect(plain!.headers['www-authenticate']).toBe('Basic realm="certgate", charset="UTF-8"');
    const page = await api.handle({ ...base, headers: { authorization: wrong, 'x-requested-with': 'XMLHttpRequest' } });
    expect(page!.status).toBe(401);
    expect(page!.headers['www-authenticate']).toBeUndefined();
    expect(JSON.parse(page!.body)).toEqual(JSON.parse(plain!.body));
    controller.close();
  });
});
