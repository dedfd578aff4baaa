/**
 * The seed flow clicked through the console page in a real Chromium (Debian's `chromium`, driven by
 * playwright-core), against the real console process over HTTPS on 127.0.0.1:
 * sign in → enable + upload the CA (file picker) → a bad CA refused with its problems → enforce
 * refused without a certificate (the exact contract text) → enforce from a browser that presents the
 * admin certificate (a PKCS#12, as a person imports it) → a browser without a certificate denied with
 * the 403 page, one with another CA's certificate denied with the reason → the admin admitted.
 * Then: a concurrent change (409, reload), the smartcard-unavailable state, and the page on a phone.
 * Then issue #9 against a second, fresh console: a CA expiring in 10 days shows its warning, the
 * enforcement preview while optional (who would be locked out, also against a CA in the upload box),
 * enforce with a confirm window shows the countdown, and Confirm clears it. Last, a form on a page of
 * another origin posting to the API (the browser holding the admin certificate and the password) is
 * refused with 403 CROSS_SITE_REQUEST.
 *
 * Playwright's `clientCertificates` presents the certificate through its own TLS proxy; when that
 * TLS connection fails it answers with a 503 page instead of throwing, so every navigation's status
 * is checked.
 */
import 'reflect-metadata';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { createCa, createTestPki, pemBundle, toPkcs12, type TestCa, type TestPki } from '@certgate/core/testing';
import { launchChromium, screenshotDir, startConsoleProcess, type RunningConsole } from './helpers.js';

const PASSWORD = 'e2e correct horse battery';
const APP = 'certgate console';
const MISSING = `Client certificate not found in request. Please make sure your client uses a certificate to access ${APP}.`;
const UNTRUSTED = 'Current client certificate can not be validated by the uploaded CA.';
const P12_PASSWORD = 'import me';

let consoleProc: RunningConsole;
let browser: Browser;
let pki: TestPki;
let otherCa: TestCa;
let adminP12: Buffer;
let strangerP12: Buffer;
let shots: string;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

/** A fresh browser profile; `p12` makes it present that certificate to the console (`proc`, default the first one). */
async function newContext(p12?: Buffer, extra: BrowserContextOptions = {}, proc: RunningConsole = consoleProc): Promise<BrowserContext> {
  const ctx = await browser.newContext({
    // The console's server certificate comes from its own generated dev CA, which this fresh
    // profile does not trust; the E2E is about client certificates.
    ignoreHTTPSErrors: true,
    viewport: { width: 1100, height: 900 },
    ...(p12 ? { clientCertificates: [{ origin: proc.origin, pfx: p12, passphrase: P12_PASSWORD }] } : {}),
    ...extra,
  });
  contexts.push(ctx);
  return ctx;
}

async function openPage(ctx: BrowserContext, expectStatus = 200, url = consoleProc.url): Promise<Page> {
  const page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) pageErrors.push(m.text());
  });
  const res = await page.goto(url);
  expect(res, 'navigation response').not.toBeNull();
  expect(res!.status()).toBe(expectStatus);
  return page;
}

/** Signs in with the keyboard only: the password field has focus on load, Enter submits. */
async function signIn(page: Page): Promise<void> {
  await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('password');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.locator('#console').waitFor({ state: 'visible' });
}

const modeOf = (page: Page) => page.locator('#mode').textContent();
const shot = (page: Page, name: string) => page.screenshot({ path: join(shots, name), fullPage: true });

beforeAll(async () => {
  shots = screenshotDir();
  [consoleProc, browser, pki, otherCa] = await Promise.all([
    startConsoleProcess({ CERTGATE_ADMIN_PASSWORD: PASSWORD, CERTGATE_APP_NAME: APP }),
    launchChromium(),
    createTestPki({ clientSubject: 'CN=admin, O=Example' }),
    createCa({ subject: 'CN=Some Other CA, O=Elsewhere' }),
  ]);
  adminP12 = Buffer.from(toPkcs12(pki.client, [pki.intermediate], P12_PASSWORD, { friendlyName: 'admin' }));
  const stranger = await otherCa.issue({ subject: 'CN=stranger, O=Elsewhere' });
  strangerP12 = Buffer.from(toPkcs12(stranger, [], P12_PASSWORD));
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await consoleProc?.stop();
});

describe('the console in Chromium: the seed flow', () => {
  let plain: Page; // a browser without any client certificate

  it('serves the page with a strict CSP, signs in with the keyboard, a wrong password is an error', async () => {
    const ctx = await newContext();
    plain = await openPage(ctx);
    const res = await plain.request.get(consoleProc.url);
    expect(res.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers()['content-security-policy']).not.toContain('unsafe-inline');
    expect(await plain.title()).toBe('certgate console');

    await plain.locator('#password').fill('not the password');
    await plain.locator('#signin-button').click();
    await expect.poll(() => plain.locator('#error-title').textContent()).toBe('Wrong password');
    expect(await plain.locator('#console').isHidden()).toBe(true);

    await plain.reload();
    await signIn(plain);
    expect(await modeOf(plain)).toBe('disabled');
    expect(await plain.locator('#cert-verdict').textContent()).toBe('No client certificate presented on this connection.');
    expect(await plain.locator('#enforce').isDisabled()).toBe(true);
  });

  it('enable + upload the CA with the file picker → optional, the CA shown', async () => {
    await plain.locator('#enabled').check();
    await plain.locator('#ca-file').setInputFiles({ name: 'ca.pem', mimeType: 'application/x-pem-file', buffer: Buffer.from(pki.caPem) });
    await expect.poll(() => plain.locator('#ca-pem').inputValue()).toContain('BEGIN CERTIFICATE');
    await plain.locator('#save-button').click();
    await expect.poll(() => modeOf(plain)).toBe('optional');
    expect(await plain.locator('#notice').textContent()).toBe('Saved: mode optional (version 1).');
    const ca = await plain.locator('#ca-list').textContent();
    expect(ca).toContain('O=certgate,CN=certgate test root');
    expect(await plain.locator('#ca-pem').inputValue()).toBe('');
    await shot(plain, 'console-optional.png');
  });

  it('a pasted private key is refused: 400, the lint problems listed, nothing changed', async () => {
    await plain.locator('#ca-pem').fill(pki.client.keyPem);
    await plain.locator('#save-button').click();
    await plain.locator('#error').waitFor({ state: 'visible' });
    expect(await plain.locator('#error-title').textContent()).toBe('CA refused');
    expect(await plain.locator('#error-problems li[data-code="PRIVATE_KEY"]').count()).toBe(1);
    expect(await plain.evaluate(() => document.activeElement?.id)).toBe('error'); // focus moves to the error
    expect(await modeOf(plain)).toBe('optional');
    await shot(plain, 'ca-refused.png');
    await plain.locator('#ca-pem').fill('');
  });

  it('enforce without a certificate is refused with the exact text; the mode stays optional', async () => {
    await plain.locator('#enforce').check();
    await plain.locator('#save-button').click();
    await plain.locator('#error').waitFor({ state: 'visible' });
    expect(await plain.locator('#error-title').textContent()).toBe('Enforcement refused');
    expect(await plain.locator('#error-message').textContent()).toBe(MISSING);
    expect(await plain.locator('#error').getAttribute('role')).toBe('alert');
    expect(await modeOf(plain)).toBe('optional');
    expect(await plain.locator('#enforce').isChecked()).toBe(false); // the form shows the stored state again
    await shot(plain, 'enforce-refused.png');
  });

  let admin: Page;

  it('enforce from a browser that presents the admin certificate → enforced', async () => {
    admin = await openPage(await newContext(adminP12));
    await signIn(admin);
    expect(await modeOf(admin)).toBe('optional');
    await expect.poll(() => admin.locator('#cert-verdict').getAttribute('data-verdict')).toBe('ok');
    expect(await admin.locator('#cert-subject').textContent()).toBe('O=Example,CN=admin');
    await admin.locator('#enforce').check();
    await admin.locator('#save-button').click();
    await expect.poll(() => modeOf(admin)).toBe('enforced');
    expect(await admin.locator('#error').isHidden()).toBe(true);
    await shot(admin, 'console-enforced.png');
  });

  it('a browser without a certificate is denied with the 403 page (also the tab opened while optional)', async () => {
    const denied = await openPage(await newContext(), 403);
    expect(await denied.title()).toBe('Access denied');
    expect(await denied.locator('h1').textContent()).toBe('Access denied');
    const body = (await denied.locator('body').textContent()) ?? '';
    expect(body).toContain(MISSING);
    expect(body).toContain('Code: CLIENT_CERT_MISSING');
    expect(body).toContain('What to do');
    expect(body).not.toMatch(/"error"|at .*\.js:\d+/); // not JSON, no stack trace
    await shot(denied, 'denied.png');

    const again = await plain.reload();
    expect(again!.status()).toBe(403);
    expect(await plain.locator('h1').textContent()).toBe('Access denied');
  });

  it("another CA's certificate is denied with the reason and the presented certificate", async () => {
    const page = await openPage(await newContext(strangerP12), 403);
    const body = (await page.locator('body').textContent()) ?? '';
    expect(body).toContain(UNTRUSTED);
    expect(body).toContain('Reason: UNKNOWN_ISSUER');
    expect(body).toContain('Code: CLIENT_CERT_UNTRUSTED');
    expect(body).toContain('O=Elsewhere,CN=stranger');
    await shot(page, 'denied-untrusted.png');
  });

  it('the admin is admitted (same browser after a reload, and a new tab)', async () => {
    const r = await admin.reload();
    expect(r!.status()).toBe(200);
    await signIn(admin);
    expect(await modeOf(admin)).toBe('enforced');
    const tab = await openPage(admin.context());
    await signIn(tab);
    expect(await modeOf(tab)).toBe('enforced');
    await tab.close();
  });
});

describe('the console in Chromium: conflicts, unavailability, phone', () => {
  it('a change made elsewhere meanwhile: 409 explained, reload shows the new state', async () => {
    const ctx = await newContext(adminP12);
    const a = await openPage(ctx);
    const b = await openPage(ctx);
    await signIn(a);
    await signIn(b);
    await b.locator('#enforce').uncheck();
    await b.locator('#save-button').click();
    await expect.poll(() => modeOf(b)).toBe('optional');

    await a.locator('#enabled').uncheck(); // a still shows the older version
    await a.locator('#save-button').click();
    await a.locator('#error').waitFor({ state: 'visible' });
    expect(await a.locator('#error-title').textContent()).toBe('Changed by someone else');
    expect(await a.locator('#error-message').textContent()).toMatch(/changed by someone else/);
    await a.locator('#reload-button').click();
    await expect.poll(() => a.locator('#notice').textContent()).toMatch(/^Reloaded: version \d+, mode optional\.$/);
    expect(await modeOf(a)).toBe('optional');
  });

  it('smartcard login makes mTLS unavailable: the reason shown, enabling refused', async () => {
    const page = await openPage(await newContext(adminP12));
    await signIn(page);
    await page.locator('#login-smartcard').check();
    await page.locator('#login-save-button').click();
    await page.locator('#error').waitFor({ state: 'visible' });
    expect(await page.locator('#error-message').textContent()).toMatch(/disable mTLS first/);

    await page.locator('#enabled').uncheck();
    await page.locator('#save-button').click();
    await expect.poll(() => modeOf(page)).toBe('disabled');
    await page.locator('#login-smartcard').check();
    await page.locator('#login-save-button').click();
    await page.locator('#unavailable').waitFor({ state: 'visible' });
    expect(await page.locator('#unavailable-reason').textContent()).toMatch(/login method is set to smartcard/);
    expect(await page.locator('#enabled').isDisabled()).toBe(true);
    await shot(page, 'smartcard-unavailable.png');

    await page.locator('#login-password').check();
    await page.locator('#login-save-button').click();
    await page.locator('#unavailable').waitFor({ state: 'hidden' });
    expect(await page.locator('#enabled').isDisabled()).toBe(false);
  });

  it('usable on a phone: no horizontal scrolling, controls large enough to tap', async () => {
    const page = await openPage(await newContext(adminP12, { viewport: { width: 375, height: 760 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }));
    await signIn(page);
    const layout = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      width: window.innerWidth,
      save: document.getElementById('save-button')!.getBoundingClientRect().height,
    }));
    expect(layout.scroll).toBeLessThanOrEqual(layout.width);
    expect(layout.save).toBeGreaterThanOrEqual(40);
    await shot(page, 'console-phone.png');
  });
});

/** A JSON API call made from inside `page` (its connection, so its certificate), signed in as admin. */
async function apiFrom(page: Page, path: string): Promise<{ status: number; body: any }> {
  return page.evaluate(
    async ([p, pw]) => {
      const bytes = new TextEncoder().encode('admin:' + pw);
      const auth = 'Basic ' + btoa(String.fromCharCode(...bytes));
      const r = await fetch(p!, { headers: { accept: 'application/json', authorization: auth, 'x-requested-with': 'XMLHttpRequest' }, cache: 'no-store' });
      return { status: r.status, body: await r.json() };
    },
    [path, PASSWORD],
  );
}

describe('the console in Chromium: preview, confirm window, expiry warnings (issue #9)', () => {
  const DAY = 86_400_000;
  let second: RunningConsole; // a fresh console, so the preview counts only what happens here
  let soonCa: TestCa;
  let admin: Page;
  let plain: Page;

  beforeAll(async () => {
    [second, soonCa] = await Promise.all([
      startConsoleProcess({ CERTGATE_ADMIN_PASSWORD: PASSWORD, CERTGATE_APP_NAME: APP }),
      createCa({ subject: 'CN=E2E Soon CA, O=certgate', notBefore: new Date(Date.now() - 300 * DAY), notAfter: new Date(Date.now() + 10 * DAY + 3_600_000) }),
    ]);
  });
  afterAll(async () => {
    await second?.stop();
  });

  it('a CA bundle with a certificate expiring in 10 days: saved, its warning shown', async () => {
    plain = await openPage(await newContext(undefined, {}, second), 200, second.url);
    await signIn(plain);
    expect(await modeOf(plain)).toBe('disabled');
    expect(await plain.locator('#warnings').isHidden()).toBe(true);
    expect(await plain.locator('#preview').isHidden()).toBe(true); // only while optional
    await plain.locator('#enabled').check();
    await plain.locator('#ca-pem').fill(pemBundle(pki.caPem, soonCa));
    await plain.locator('#save-button').click();
    await expect.poll(() => modeOf(plain)).toBe('optional');
    await plain.locator('#warnings').waitFor({ state: 'visible' });
    const items = plain.locator('#warnings li');
    expect(await items.count()).toBe(1);
    expect(await items.first().getAttribute('data-code')).toBe('CA_EXPIRES_SOON');
    const warning = (await items.first().textContent()) ?? '';
    expect(warning).toContain('CA_EXPIRES_SOON');
    expect(warning).toContain('O=certgate,CN=E2E Soon CA');
    expect(warning).toContain('expires in 10 days');
    // The CA list marks it too.
    expect(await plain.locator('#ca-list .expiring').allTextContents()).toEqual(['(in 10 days)']);
  });

  it('while optional the preview says who would be locked out: counts by reason and the recent clients', async () => {
    // Another CA's certificate and (above) a browser without one use the console while optional.
    const stranger = await openPage(await newContext(strangerP12, {}, second), 200, second.url);
    expect(await stranger.title()).toBe('certgate console');
    admin = await openPage(await newContext(adminP12, {}, second), 200, second.url);
    await signIn(admin);
    await admin.locator('#preview').waitFor({ state: 'visible' });

    // The numbers the API gives now, then the page refreshed: the page must say the same.
    const api = await apiFrom(admin, '/api/settings/mtls/preview');
    expect(api.status).toBe(200);
    expect(api.body.wouldPass).toBe(1); // the admin
    expect(api.body.wouldFail).toEqual({ UNKNOWN_ISSUER: 1 }); // the stranger
    expect(api.body.noCertificate).toBeGreaterThanOrEqual(1); // the plain browser's connections
    const locked = api.body.total - api.body.wouldPass;
    expect(locked).toBe(1 + api.body.noCertificate);
    await admin.locator('#preview-refresh').click();
    await expect.poll(() => admin.locator('#preview-summary').textContent()).toBe(`${locked} clients would be locked out.`);
    expect(await admin.locator('#preview-summary').getAttribute('data-locked')).toBe(String(locked));
    expect(await admin.locator('#preview-reasons li[data-code="UNKNOWN_ISSUER"]').textContent()).toBe('1 client refused: UNKNOWN_ISSUER');
    const n = api.body.noCertificate;
    expect(await admin.locator('#preview-reasons li[data-code="NO_CERTIFICATE"]').textContent()).toBe(`${n} connection${n === 1 ? '' : 's'} without a certificate`);

    const rows = admin.locator('#preview-rows tr');
    expect(await rows.count()).toBe(2);
    // Locked-out first.
    expect(await rows.nth(0).getAttribute('data-verdict')).toBe('bad');
    expect(await rows.nth(0).locator('td').allTextContents()).toEqual([
      'O=Elsewhere,CN=stranger',
      'locked out: UNKNOWN_ISSUER',
      String(api.body.clients[0].count),
      expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/),
    ]);
    expect(await rows.nth(1).getAttribute('data-verdict')).toBe('ok');
    expect((await rows.nth(1).locator('td').allTextContents()).slice(0, 2)).toEqual(['O=Example,CN=admin', 'would get in']);

    // This browser's certificate: days left as whoami computes them.
    const days = Math.floor((pki.client.notAfter.getTime() - Date.now()) / DAY);
    expect(await admin.locator('#cert-days').textContent()).toBe(`${days} days`);
    await shot(admin, 'preview.png');

    // On a phone the client table becomes a list: still no horizontal scrolling.
    const phone = await openPage(await newContext(adminP12, { viewport: { width: 375, height: 760 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }, second), 200, second.url);
    await signIn(phone);
    await phone.locator('#preview-clients').waitFor({ state: 'visible' });
    const layout = await phone.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth, display: getComputedStyle(document.querySelector('#preview-rows td')!).display }));
    expect(layout.scroll).toBeLessThanOrEqual(layout.width);
    expect(layout.display).toBe('block');
    await phone.context().close();
  });

  it('"check against the CA in the upload box" previews a CA that is not uploaded; nothing is saved', async () => {
    const version = await admin.locator('#version').textContent();
    await admin.locator('#ca-pem').fill(otherCa.pem);
    await admin.locator('#preview-ca-button').click();
    await expect.poll(() => admin.locator('#preview-basis').textContent()).toContain('the CA in the upload box');
    // Against the other CA the stranger gets in and the admin does not.
    const rows = admin.locator('#preview-rows tr');
    const byVerdict = async (v: string) => (await rows.locator(`xpath=self::*[@data-verdict="${v}"]`).allTextContents()).join(' ');
    expect(await byVerdict('ok')).toContain('O=Elsewhere,CN=stranger');
    expect(await byVerdict('bad')).toContain('O=Example,CN=admin');
    expect(await admin.locator('#preview-reasons li[data-code="UNKNOWN_ISSUER"]').textContent()).toBe('1 client refused: UNKNOWN_ISSUER');
    expect(await admin.locator('#version').textContent()).toBe(version);
    const s = await apiFrom(admin, '/api/settings/mtls');
    expect(s.body.ca.certificates).toHaveLength(2); // still the uploaded bundle
    // A leaf in the box is refused with the lint problems, like an upload.
    await admin.locator('#ca-pem').fill(pki.client.pem);
    await admin.locator('#preview-ca-button').click();
    await admin.locator('#error').waitFor({ state: 'visible' });
    expect(await admin.locator('#error-title').textContent()).toBe('Preview not possible');
    expect(await admin.locator('#error-problems li[data-code="NOT_A_CA"]').count()).toBe(1);
    await admin.locator('#ca-pem').fill('');
  });

  it('enforce with a confirm window: the countdown runs; Confirm clears it and enforcement stays', async () => {
    const before = Number(await admin.locator('#version').textContent());
    await admin.locator('#enforce').check();
    await admin.locator('#confirm-options').waitFor({ state: 'visible' });
    await admin.locator('#confirm-window').check();
    await admin.locator('#confirm-minutes').fill('2');
    await admin.locator('#save-button').click();
    await expect.poll(() => modeOf(admin)).toBe('enforced');
    await admin.locator('#pending').waitFor({ state: 'visible' });
    expect(await admin.locator('#preview').isHidden()).toBe(true);

    const s = await apiFrom(admin, '/api/settings/mtls');
    expect(s.body.mode).toBe('enforced');
    expect(s.body.pendingConfirmation.secondsLeft).toBeGreaterThan(100);
    expect(s.body.pendingConfirmation.secondsLeft).toBeLessThanOrEqual(120);
    const seconds = async () => Number(await admin.locator('#pending-countdown').getAttribute('data-seconds'));
    const first = await seconds();
    expect(first).toBeGreaterThan(100);
    expect(first).toBeLessThanOrEqual(120);
    expect(await admin.locator('#pending-countdown').textContent()).toMatch(/^[12] min \d\d s$/);
    await expect.poll(seconds, { timeout: 5000 }).toBeLessThan(first); // it counts down
    expect(await admin.locator('#pending-deadline').textContent()).toBe(new Date(s.body.pendingConfirmation.deadline).toISOString().slice(0, 19).replace('T', ' ') + ' UTC');
    // The audit list shows the save.
    await expect.poll(() => admin.locator('#audit-list li').first().getAttribute('data-action')).toBe('save');
    expect(await admin.locator('#audit-list li').first().textContent()).toContain(`admin · save · applied · optional v${before} → enforced v${before + 1}`);
    await shot(admin, 'confirm-pending.png');

    await admin.locator('#confirm-button').click();
    await admin.locator('#pending').waitFor({ state: 'hidden' });
    expect(await admin.locator('#notice').textContent()).toBe(`Confirmed: the mode stays enforced (version ${before + 2}).`);
    expect(await modeOf(admin)).toBe('enforced');
    const after = await apiFrom(admin, '/api/settings/mtls');
    expect(after.body).toMatchObject({ mode: 'enforced', pendingConfirmation: null, version: before + 2 });
    await expect.poll(() => admin.locator('#audit-list li').first().getAttribute('data-action')).toBe('confirm');
    expect(await admin.locator('#audit-list li').first().getAttribute('data-outcome')).toBe('applied');
    // The browser without a certificate is now turned away.
    expect((await plain.reload())!.status()).toBe(403);
  });
});

describe('the console in Chromium: a page of another site cannot change the settings (CSRF)', () => {
  it('a form on another origin posting with the browser\'s stored credentials and the admin certificate gets 403 CROSS_SITE_REQUEST', async () => {
    // The worst case: the browser holds the admin's certificate and answers the Basic challenge itself.
    const ctx = await newContext(adminP12, { httpCredentials: { username: 'admin', password: PASSWORD } });
    const target = `${consoleProc.origin}/api/settings/mtls/preview`;
    const evil = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><form method="POST" action="${target}" enctype="text/plain"><input name='{"caPem":"x","pad":"' value='"}'></form><script>document.forms[0].submit()</script>`);
    });
    evil.listen(0, '127.0.0.1');
    await once(evil, 'listening');
    try {
      const page = await ctx.newPage();
      const landed = page.waitForResponse((r) => r.url() === target);
      await page.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
      const res = await landed;
      expect(res.status()).toBe(403);
      expect(JSON.parse(await res.text()).error.code).toBe('CROSS_SITE_REQUEST');
      expect((await res.request().allHeaders())['sec-fetch-site']).toMatch(/^(cross-site|same-site)$/);
      // The same browser on the console's own page is let through (same-origin): the password check answers.
      const own = await ctx.newPage();
      expect((await own.goto(consoleProc.url))!.status()).toBe(200);
      const status = await own.evaluate(async (url) => (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, target);
      expect(status).not.toBe(403);
    } finally {
      evil.close();
    }
  });
});

describe('the console in Chromium: all pages', () => {
  it('no script errors and no CSP violations on any page', () => {
    expect(pageErrors).toEqual([]);
  });
});
