/**
 * CertificateRequest per mode and CA hints, read with `openssl s_client -msg` over TLS 1.2 and 1.3
 * on 127.0.0.1, and a CA hot swap on the same listening server: the hints follow with no restart,
 * and a connection that the new bundle still trusts keeps working without reconnecting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Controller } from '@certgate/core';
import {
  acceptableCaNames,
  connectLine,
  createPki,
  newController,
  nextLine,
  sawCertificateRequest,
  sClient,
  save,
  startLineServer,
  type LineServer,
  type Pki,
} from './helpers.js';

let pki: Pki;
let controller: Controller;
let srv: LineServer;

beforeAll(async () => {
  pki = await createPki();
  controller = await newController();
  srv = await startLineServer(pki, controller, { endAfterFirst: true });
});
afterAll(async () => {
  await srv?.close();
  controller?.close();
});

describe.each([['-tls1_2'], ['-tls1_3']])('openssl s_client %s', (version) => {
  it('disabled: no CertificateRequest at all; s_client says "No client certificate CA names sent"', async () => {
    await save(controller, { enabled: false, enforce: false });
    expect(srv.attachment.applied()).toMatchObject({ mode: 'disabled', requestCert: false, ca: [] });
    const out = await sClient(srv.port, [version, '-msg', '-ign_eof']);
    expect(out).toContain(version === '-tls1_2' ? 'New, TLSv1.2' : 'New, TLSv1.3');
    expect(sawCertificateRequest(out)).toBe(false);
    // s_client prints the same sentence for a CertificateRequest without names; what tells them
    // apart is the missing handshake message (and no "Requested Signature Algorithms" section).
    expect(out).toContain('No client certificate CA names sent');
    expect(out).not.toContain('Requested Signature Algorithms');
    expect(out).toMatch(/^allow \d+ -$/m);
  });

  it('optional: a CertificateRequest naming the uploaded CA (and only it)', async () => {
    await save(controller, { enabled: true, enforce: false, caPem: pki.caA.pem });
    const out = await sClient(srv.port, [version, '-msg', '-ign_eof']);
    expect(sawCertificateRequest(out)).toBe(true);
    expect(acceptableCaNames(out)).toEqual(['CN = Hint CA A, O = certgate']);
    expect(out).toMatch(/^allow-unverified \d+ -$/m); // requested, not required
  });

  it('a bundle of two CAs: both names are hints', async () => {
    await save(controller, { enabled: true, enforce: false, caPem: pki.caA.pem + pki.caB.pem });
    const out = await sClient(srv.port, [version, '-msg', '-ign_eof']);
    expect(acceptableCaNames(out).sort()).toEqual(['CN = Hint CA A, O = certgate', 'CN = Hint CA B, O = certgate']);
  });

  it('enforced: still requested, not required by OpenSSL, so certgate answers with its own denial', async () => {
    await save(controller, { enabled: true, enforce: true, caPem: pki.caB.pem }, [pki.bob.der]);
    const out = await sClient(srv.port, [version, '-msg', '-ign_eof']);
    expect(sawCertificateRequest(out)).toBe(true);
    expect(acceptableCaNames(out)).toEqual(['CN = Hint CA B, O = certgate']);
    expect(out).toMatch(/^deny \d+ CLIENT_CERT_MISSING$/m);
  });
});

describe('CA hot swap on a running server', () => {
  let live: LineServer;
  let c: Controller;
  beforeAll(async () => {
    c = await newController();
    live = await startLineServer(pki, c);
  });
  afterAll(async () => {
    await live?.close();
    c?.close();
  });

  it('changes the hints with no restart; a connection the new bundle still trusts keeps working', async () => {
    const port = live.port;
    await save(c, { enabled: true, enforce: true, caPem: pki.caA.pem }, [pki.alice.der]);
    expect(acceptableCaNames(await sClient(port, ['-tls1_3']))).toEqual(['CN = Hint CA A, O = certgate']);

    const alice = await connectLine(port, pki, { cert: pki.alice.pem, key: pki.alice.keyPem });
    expect(alice.line).toMatch(/^allow /);
    const before = c.epoch;

    // swap to A + B: alice is still trusted; her connection is re-decided, not dropped
    await save(c, { enabled: true, enforce: true, caPem: pki.caA.pem + pki.caB.pem }, [pki.alice.der]);
    expect(c.epoch).toBeGreaterThan(before);
    expect(live.server.listening).toBe(true);
    expect((live.server.address() as { port: number }).port).toBe(port); // same listener
    expect(acceptableCaNames(await sClient(port, ['-tls1_2'])).sort()).toEqual(['CN = Hint CA A, O = certgate', 'CN = Hint CA B, O = certgate']);
    expect(await nextLine(alice.socket)).toBe(`allow ${c.epoch} -`);
    expect(alice.socket.destroyed).toBe(false);

    // swap to B only (bob enforces): alice's open connection is now denied on its next message
    await save(c, { enabled: true, enforce: true, caPem: pki.caB.pem }, [pki.bob.der]);
    expect(acceptableCaNames(await sClient(port, ['-tls1_3']))).toEqual(['CN = Hint CA B, O = certgate']);
    expect(await nextLine(alice.socket)).toBe(`deny ${c.epoch} CLIENT_CERT_UNTRUSTED`);
    alice.socket.destroy();

    const bob = await connectLine(port, pki, { cert: pki.bob.pem, key: pki.bob.keyPem });
    expect(bob.line).toBe(`allow ${c.epoch} -`);
    bob.socket.destroy();
  });
});
