/**
 * The Express console behind a TLS-terminating proxy (CERTGATE_TRUSTED_PROXIES): the certificate the
 * proxy forwards is what the gate, whoami and the lock-out check see; without the variable a header
 * is only a header.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createCa, type TestCa, type TestCertificate } from '@certgate/core/testing';
import { startConsole } from '../src/app.js';
import { consoleOptionsFromEnv } from '../src/startup.js';
import { consoleFixture } from './helpers.js';

const fixture = consoleFixture(startConsole, { adminPassword: 'proxy test password', appName: 'Proxied console' }, 'certgate-proxy-console-');
const { call } = fixture;
const start = (extra: Parameters<typeof fixture.start>[1]) => fixture.start(undefined, extra);
let ca: TestCa;
let admin: TestCertificate;
const forwardedAs = (cert: TestCertificate) => ({ 'x-ssl-client-cert': encodeURIComponent(cert.pem) });

beforeAll(async () => {
  ca = await createCa({ subject: 'CN=Proxy console CA' });
  admin = await ca.issue({ subject: 'CN=admin' });
});

describe('the console behind a proxy', () => {
  it('reads CERTGATE_TRUSTED_PROXIES and CERTGATE_FORWARDED_FORMAT', () => {
    expect(consoleOptionsFromEnv({ CERTGATE_TRUSTED_PROXIES: '10.0.0.5, fd00::/8', CERTGATE_FORWARDED_FORMAT: 'envoy-xfcc' }, '/tmp/x')).toMatchObject({
      trustedProxies: ['10.0.0.5', 'fd00::/8'],
      forwardedFormat: 'envoy-xfcc',
    });
    expect(consoleOptionsFromEnv({}, '/tmp/x')).not.toHaveProperty('trustedProxies');
  });

  it('refuses to start with a proxy list or format that does not parse', async () => {
    await expect(start({ trustedProxies: ['not-an-ip'] })).rejects.toMatchObject({ code: 'ERR_CERTGATE_INVALID_OPTION' });
    await expect(start({ trustedProxies: ['127.0.0.1'], forwardedFormat: 'squid' as never })).rejects.toMatchObject({ code: 'ERR_CERTGATE_INVALID_OPTION' });
  });

  it('enforces on the forwarded certificate: whoami shows it, the lock-out check uses it, requests without it are denied', async () => {
    await start({ trustedProxies: ['127.0.0.1'], forwardedFormat: 'nginx' });
    expect((await call('PUT', '/api/settings/mtls', { body: { enabled: true, enforce: false, caPem: ca.pem } })).status).toBe(200);
    const who = await call('GET', '/api/whoami', { headers: forwardedAs(admin) });
    expect(who.json.clientCertificate).toMatchObject({ verdict: { ok: true }, fingerprint256: admin.fingerprint256 });
    const refused = await call('PUT', '/api/settings/mtls', { body: { enabled: true, enforce: true } });
    expect(refused.status).toBe(422);
    expect(refused.json.error.code).toBe('CLIENT_CERT_MISSING');
    const ok = await call('PUT', '/api/settings/mtls', { body: { enabled: true, enforce: true }, headers: forwardedAs(admin) });
    expect(ok.status).toBe(200);
    expect(ok.json.mode).toBe('enforced');
    // The console's own TLS certificate request does not matter behind the proxy: the header does.
    expect((await call('GET', '/api/settings/mtls', { cert: admin })).status).toBe(403);
    expect((await call('GET', '/api/settings/mtls', { headers: forwardedAs(admin) })).status).toBe(200);
  });

  it('without CERTGATE_TRUSTED_PROXIES the header is not believed', async () => {
    await start({});
    expect((await call('PUT', '/api/settings/mtls', { body: { enabled: true, enforce: false, caPem: ca.pem } })).status).toBe(200);
    const who = await call('GET', '/api/whoami', { headers: forwardedAs(admin) });
    expect(who.json.clientCertificate).toBeNull();
  });
});
