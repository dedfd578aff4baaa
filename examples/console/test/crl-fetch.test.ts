/**
 * The Express console with CERTGATE_FETCH_CRLS: a client whose certificate the CA revoked on the CRL at
 * its distribution point (a real HTTP server on 127.0.0.1) is denied once enforced, though no CRL was
 * uploaded; the admin, whose certificate names no distribution point, gets in.
 */
import { describe, expect, it } from 'vitest';
import { createCa } from '@certgate/core/testing';
import { startConsole } from '../src/app.js';
import { consoleOptionsFromEnv } from '../src/startup.js';
import { consoleFixture, localHttpServer } from './helpers.js';

const { call, start } = consoleFixture(startConsole, { adminPassword: 'crl fetch test password', appName: 'CRL console', fetchCrls: true }, 'certgate-crl-fetch-console-');
const crlServer = localHttpServer();

describe('the console fetching CRLs', () => {
  it('reads CERTGATE_FETCH_CRLS (1 or 0, nothing else)', () => {
    expect(consoleOptionsFromEnv({ CERTGATE_FETCH_CRLS: '1' }, '/tmp/x')).toMatchObject({ fetchCrls: true });
    expect(consoleOptionsFromEnv({ CERTGATE_FETCH_CRLS: '0' }, '/tmp/x')).toMatchObject({ fetchCrls: false });
    expect(() => consoleOptionsFromEnv({ CERTGATE_FETCH_CRLS: 'yes' }, '/tmp/x')).toThrow(/CERTGATE_FETCH_CRLS must be 1 or 0/);
  });

  it('denies a client revoked on the CRL at its distribution point; the admin gets in', async () => {
    const url = crlServer.url('/ca.crl');
    const ca = await createCa({ subject: 'CN=Fetched CRL CA' });
    const admin = await ca.issue({ subject: 'CN=admin' });
    const revoked = await ca.issue({ subject: 'CN=revoked', crlDistributionPoints: [url] });
    const crl = await ca.createCrl({ revoked: [{ serialNumber: revoked }] });
    await start();
    let requests = 0;
    crlServer.on((_req, res) => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(crl.der);
    });
    expect((await call('PUT', '/api/settings/mtls', { body: { enabled: true, enforce: false, caPem: ca.pem } })).status).toBe(200);
    const enforced = await call('PUT', '/api/settings/mtls', { body: { enabled: true, enforce: true }, cert: admin });
    expect(enforced.status, JSON.stringify(enforced.json)).toBe(200);
    const denied = await call('GET', '/api/whoami', { cert: revoked });
    expect(denied.status).toBe(403);
    expect(denied.json.error).toMatchObject({ code: 'CLIENT_CERT_UNTRUSTED', reason: 'REVOKED' });
    expect(requests).toBe(1);
    expect((await call('GET', '/api/whoami', { cert: admin })).status).toBe(200);
  });
});
