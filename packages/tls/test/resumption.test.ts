/**
 * TLS session resumption never carries a verdict across a settings change, with Node's client and
 * with `openssl s_client` (-sess_out / -sess_in), for TLS 1.2 session IDs, TLS 1.2 tickets and
 * TLS 1.3 tickets: a session obtained while `optional` without a certificate is not resumed after
 * `enforce` (new session-ID context, new ticket keys, flushed cache) and the full handshake that
 * follows is denied. Within one epoch a resumed session is decided on what it shows: no certificate
 * is "no certificate" even where Node reports the socket authorized (nodejs/node#35317), and a
 * restored leaf gets back the intermediates its full handshake sent.
 */
import { constants } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Controller } from '@certgate/core';
import { attachController, decideSocket } from '@certgate/tls';
import {
  TempFiles,
  connectLine,
  createPki,
  decisionLine,
  newController,
  sClient,
  sClientReused,
  save,
  startLineServer,
  type LineServer,
  type Pki,
} from './helpers.js';

let pki: Pki;
let controller: Controller;
let srv: LineServer; // Node clients (keeps connections open)
let once1: LineServer; // s_client (ends after the first line)
let files: TempFiles;

beforeAll(async () => {
  pki = await createPki();
  controller = await newController();
  srv = await startLineServer(pki, controller, { attach: { sessionCache: true } });
  once1 = await startLineServer(pki, controller, { attach: { sessionCache: true }, endAfterFirst: true });
  files = new TempFiles();
});
afterAll(async () => {
  await srv?.close();
  await once1?.close();
  controller?.close();
  files?.remove();
});

const optional = () => save(controller, { enabled: true, enforce: false, caPem: pki.caA.pem });
const enforce = () => save(controller, { enabled: true, enforce: true, caPem: pki.caA.pem }, [pki.alice.der]);

const NODE_VARIANTS = [
  ['TLS 1.2 session ID', { maxVersion: 'TLSv1.2', secureOptions: constants.SSL_OP_NO_TICKET }],
  ['TLS 1.2 ticket', { maxVersion: 'TLSv1.2' }],
  ['TLS 1.3 ticket', { minVersion: 'TLSv1.3' }],
] as const satisfies readonly (readonly [string, tls.ConnectionOptions])[];

/** The session of a connection: the TLS 1.3 ticket arrives after the handshake; TLS 1.2 has it at once. */
async function sessionOf(c: Awaited<ReturnType<typeof connectLine>>): Promise<Buffer> {
  if (c.socket.getProtocol() === 'TLSv1.3') return c.session;
  return c.socket.getSession() ?? c.session;
}

describe.each(NODE_VARIANTS)("Node's client, %s", (_name, variant) => {
  it('a session from `optional` without a certificate: resumes before the change, not after; the full handshake is denied', async () => {
    await optional();
    const first = await connectLine(srv.port, pki, variant);
    expect(first.line).toBe(`allow-unverified ${controller.epoch} -`);
    const session = await sessionOf(first);
    first.socket.destroy();

    // sanity: the same epoch resumes it (the session cache / ticket keys work)
    const again = await connectLine(srv.port, pki, { ...variant, session });
    expect(again.socket.isSessionReused()).toBe(true);
    expect(srv.seen.at(-1)!.reused).toBe(true);
    expect(again.line).toBe(`allow-unverified ${controller.epoch} -`);
    again.socket.destroy();

    await enforce();
    const after = await connectLine(srv.port, pki, { ...variant, session });
    expect(after.socket.isSessionReused()).toBe(false); // not resumed at all: a full handshake
    expect(srv.seen.at(-1)!.reused).toBe(false);
    expect(after.line).toBe(`deny ${controller.epoch} CLIENT_CERT_MISSING`);
    after.socket.destroy();

    // the full handshake asks for a certificate again, so a client that has one gets in
    const withCert = await connectLine(srv.port, pki, { ...variant, session, cert: pki.alice.pem, key: pki.alice.keyPem });
    expect(withCert.socket.isSessionReused()).toBe(false);
    expect(withCert.line).toBe(`allow ${controller.epoch} -`);
    withCert.socket.destroy();
  });
});

describe.each([
  ['TLS 1.2 session ID', ['-tls1_2', '-no_ticket']],
  ['TLS 1.2 ticket', ['-tls1_2']],
  ['TLS 1.3 ticket', ['-tls1_3']],
])('openssl s_client, %s', (name, args) => {
  it('-sess_out while `optional`, -sess_in after `enforce`: a new session, denied', async () => {
    const sess = files.path(`${name.replace(/\W+/g, '-')}.sess`);
    await optional();
    const first = await sClient(once1.port, [...args, '-ign_eof', '-sess_out', sess]);
    expect(sClientReused(first)).toBe(false);
    expect(decisionLine(first)).toBe(`allow-unverified ${controller.epoch} -`);

    const again = await sClient(once1.port, [...args, '-ign_eof', '-sess_in', sess]);
    expect(sClientReused(again)).toBe(true); // sanity: resumable within the epoch
    expect(decisionLine(again)).toBe(`allow-unverified ${controller.epoch} -`);

    await enforce();
    const after = await sClient(once1.port, [...args, '-ign_eof', '-sess_in', sess]);
    expect(sClientReused(after)).toBe(false);
    expect(decisionLine(after)).toBe(`deny ${controller.epoch} CLIENT_CERT_MISSING`);

    const cert = files.write('alice.pem', pki.alice.pem);
    const key = files.write('alice-key.pem', pki.alice.keyPem);
    const withCert = await sClient(once1.port, [...args, '-ign_eof', '-sess_in', sess, '-cert', cert, '-key', key]);
    expect(sClientReused(withCert)).toBe(false);
    expect(decisionLine(withCert)).toBe(`allow ${controller.epoch} -`);
  });
});

describe('within one epoch, a resumed session is decided on what it shows', () => {
  it.each(NODE_VARIANTS)('%s without a certificate while `enforced`: "no certificate", whatever socket.authorized says', async (name, variant) => {
    await enforce();
    const first = await connectLine(srv.port, pki, variant);
    expect(first.line).toBe(`deny ${controller.epoch} CLIENT_CERT_MISSING`);
    expect(srv.seen.at(-1)!.authorized).toBe(false);
    const session = await sessionOf(first);
    first.socket.destroy();

    const resumed = await connectLine(srv.port, pki, { ...variant, session });
    expect(resumed.socket.isSessionReused()).toBe(true);
    const seen = srv.seen.at(-1)!;
    expect(seen.reused).toBe(true);
    expect(seen.nodeChain).toEqual([]);
    expect(seen.chain).toBeNull();
    // nodejs/node#35317: Node 20 reports a resumed TLS 1.3 session without a certificate as
    // authorized (TLS 1.2 keeps the stored verify result). certgate never reads it.
    expect(seen.authorized).toBe(name === 'TLS 1.3 ticket');
    expect(resumed.line).toBe(`deny ${controller.epoch} CLIENT_CERT_MISSING`);
    resumed.socket.destroy();
  });

  it.each(NODE_VARIANTS)('%s that presented leaf + intermediate: Node restores only the leaf; certgate adds back the intermediate', async (_name, variant) => {
    await enforce();
    const creds = { cert: pki.carol.pem + pki.interA.pem, key: pki.carol.keyPem };
    const first = await connectLine(srv.port, pki, { ...variant, ...creds });
    expect(first.line).toBe(`allow ${controller.epoch} -`);
    // full handshake: what carol sent, plus the root Node finds in the server's CA store
    expect(srv.seen.at(-1)!.nodeChain).toEqual(['carol', 'Intermediate A', 'Hint CA A']);
    const session = await sessionOf(first);
    first.socket.destroy();

    const resumed = await connectLine(srv.port, pki, { ...variant, session });
    expect(resumed.socket.isSessionReused()).toBe(true);
    const seen = srv.seen.at(-1)!;
    expect(seen.reused).toBe(true);
    expect(seen.nodeChain).toEqual(['carol']); // restored from the session; the intermediates are not
    expect(Buffer.from(seen.chain![0]!).equals(Buffer.from(pki.carol.der))).toBe(true);
    expect(seen.chain!.some((c) => Buffer.from(c).equals(Buffer.from(pki.interA.der)))).toBe(true);
    expect(resumed.line).toBe(`allow ${controller.epoch} -`);
    expect(seen.decision.identity?.subject).toBe('CN=carol');
    // what the leaf alone would get: this is why certgate keeps the intermediates
    const leafOnly = await controller.decide([pki.carol.der]);
    expect(leafOnly).toMatchObject({ action: 'deny', denial: { code: 'CLIENT_CERT_UNTRUSTED', reason: 'UNKNOWN_ISSUER' } });
    resumed.socket.destroy();
  });

  it('with resumptionIntermediates: 0 the restored leaf alone is decided (and refused for want of its issuer)', async () => {
    const bare = await startLineServer(pki, controller, { attach: { resumptionIntermediates: 0 } });
    try {
      await enforce();
      const v = { maxVersion: 'TLSv1.2' } as const;
      const first = await connectLine(bare.port, pki, { ...v, cert: pki.carol.pem + pki.interA.pem, key: pki.carol.keyPem });
      expect(first.line).toBe(`allow ${controller.epoch} -`);
      const session = first.socket.getSession()!;
      first.socket.destroy();
      const resumed = await connectLine(bare.port, pki, { ...v, session });
      expect(resumed.socket.isSessionReused()).toBe(true);
      expect(bare.seen.at(-1)!.chain).toHaveLength(1);
      expect(resumed.line).toBe(`deny ${controller.epoch} CLIENT_CERT_UNTRUSTED`);
      resumed.socket.destroy();
    } finally {
      await bare.close();
    }
  });
});

describe("the application's own session-ID cache", () => {
  it('is never flushed, yet a session from before a change does not resume after it (session-ID context)', async () => {
    const store = new Map<string, Buffer>();
    const server = tls.createServer({ key: pki.server.keyPem, cert: pki.server.pem }, async (socket) => {
      socket.on('error', () => {});
      const d = await decideSocket(controller, socket);
      socket.write(`${d.action} ${d.epoch} ${d.denial?.code ?? '-'}\n`);
    });
    // a naive external cache, as many apps write it: it keeps everything forever
    server.on('newSession', (id: Buffer, data: Buffer, cb: () => void) => {
      store.set(id.toString('hex'), data);
      cb();
    });
    server.on('resumeSession', (id: Buffer, cb: (e: Error | null, d: Buffer | null) => void) => cb(null, store.get(id.toString('hex')) ?? null));
    const att = attachController(server, controller, { onError: (e) => { throw e; } });
    expect(() => attachController(server, controller, { sessionCache: true })).toThrow(/sessionCache/);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    try {
      await optional();
      const v = { maxVersion: 'TLSv1.2', secureOptions: constants.SSL_OP_NO_TICKET } as const;
      const first = await connectLine(port, pki, v);
      const session = first.socket.getSession()!;
      first.socket.destroy();
      const again = await connectLine(port, pki, { ...v, session });
      expect(again.socket.isSessionReused()).toBe(true);
      again.socket.destroy();
      expect(store.size).toBeGreaterThan(0);

      await enforce();
      const after = await connectLine(port, pki, { ...v, session });
      expect(after.socket.isSessionReused()).toBe(false);
      expect(after.line).toBe(`deny ${controller.epoch} CLIENT_CERT_MISSING`);
      after.socket.destroy();
    } finally {
      att.detach();
      await new Promise((r) => server.close(r));
    }
  });
});
