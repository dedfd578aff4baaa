/**
 * The Express console with CERTGATE_OCSP: a client whose certificate the OCSP responder named in its
 * authorityInfoAccess (a real HTTP server on 127.0.0.1) says is revoked is denied once enforced, though no
 * CRL was uploaded; the admin, whose certificate the responder says is good, gets in.
 */
import { describe, expect, it } from 'vitest';
import { createCa } from '@certgate/core/testing';
import { buildOcspResponse, readOcspRequest, serialKey } from '../../../packages/core/test/ocsp-builder.js';
import { startConsole } from '../src/app.js';
import { consoleOptionsFromEnv } from '../src/startup.js';
import { consoleFixture, localHttpServer } from './helpers.js';

const { call, start } = consoleFixture(startConsole, { adminPassword: 'ocsp test password', appName: 'OCSP console', ocsp: true }, 'certgate-ocsp-console-');
const ocspServer = localHttpServer();

describe('the console asking OCSP responders', () => {
  it('reads CERTGATE_OCSP (1 or 0, nothing else)', () => {
    expect(consoleOptionsFromEnv({ CERTGATE_OCSP: '1' }, '/tmp/x')).toMatchObject({ ocsp: true });
    expect(consoleOptionsFromEnv({ CERTGATE_OCSP: '0' }, '/tmp/x')).toMatchObject({ ocsp: false });
    expect(consoleOptionsFromEnv({}, '/tmp/x')).not.toHaveProperty('ocsp');
    expect(() => consoleOptionsFromEnv({ CERTGATE_OCSP: 'yes' }, '/tmp/x')).toThrow(/CERTGATE_OCSP must be 1 or 0/);
  });

  it('denies a client the responder says is revoked; the admin (good) gets in', async () => {
    const url = ocspServer.url('/ocsp');
    const ca = await createCa({ subject: 'CN=OCSP Console CA' });
    const admin = await ca.issue({ subject: 'CN=admin', ocspResponders: [url] });
    const revoked = await ca.issue({ subject: 'CN=revoked', ocspResponders: [url] });
    await start();
    let requests = 0;
    ocspServer.on((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        requests++;
        const asked = readOcspRequest(Buffer.concat(chunks)).serial;
        const cert = asked === serialKey(revoked) ? revoked : admin;
        const body = buildOcspResponse({ issuer: ca, cert, status: cert === revoked ? 'revoked' : 'good', reason: 1 });
        res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(body);
      });
    });
    expect((await call('PUT', '/api/settings/mtls', { body: { enabled: true, enforce: false, caPem: ca.pem } })).status).toBe(200);
    const enforced = await call('PUT', '/api/settings/mtls', { body: { enabled: true, enforce: true }, cert: admin });
    expect(enforced.status, JSON.stringify(enforced.json)).toBe(200);
    const denied = await call('GET', '/api/whoami', { cert: revoked });
    expect(denied.status).toBe(403);
    expect(denied.json.error).toMatchObject({ code: 'CLIENT_CERT_UNTRUSTED', reason: 'REVOKED' });
    expect((await call('GET', '/api/whoami', { cert: admin })).status).toBe(200);
    expect(requests).toBeGreaterThanOrEqual(2);
  });
});
