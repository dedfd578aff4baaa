/**
 * `rejectInHandshake` for raw TLS services, on 127.0.0.1 with Node's client and `openssl s_client`:
 * a connection certgate denies never reaches the server's connection listener, the verdict is
 * certgate's and not OpenSSL's (a certificate OpenSSL accepts but certgate refuses is refused; one
 * OpenSSL cannot verify but certgate validates is admitted), and after a change the open
 * connections now denied are closed while the trusted ones stay (`closeDeniedOnChange`).
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Controller, Decision } from '@certgate/core';
import { attachController, decideSocket, type AttachOptions, type Attachment } from '@certgate/tls';
import { TempFiles, connectLine, createPki, firstLineOrClosed, newController, nextLine, sClient, save, type Pki } from './helpers.js';

const CUSTOM_EKU = '1.3.6.1.4.1.55555.7';

let pki: Pki;
let files: TempFiles;

interface Service {
  server: tls.Server;
  attachment: Attachment;
  port: number;
  /** Connections the application's listener received, with what Node said about them. */
  reached: { authorized: boolean; authorizationError: string | null; decision: Decision }[];
  /** Connections certgate refused, with what Node said about them. */
  refused: { authorized: boolean; decision: Decision }[];
  close(): Promise<void>;
}

async function startService(controller: Controller, attach: AttachOptions): Promise<Service> {
  const reached: Service['reached'] = [];
  const refused: Service['refused'] = [];
  const open = new Set<tls.TLSSocket>();
  const server = tls.createServer({ key: pki.server.keyPem, cert: pki.server.pem }, async (socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => {});
    const decision = await decideSocket(controller, socket);
    reached.push({ authorized: socket.authorized, authorizationError: socket.authorizationError === undefined ? null : String(socket.authorizationError), decision });
    socket.write(`${decision.action} ${decision.identity?.subject ?? '-'}\n`);
    socket.on('data', async (chunk: Buffer) => {
      if (chunk.toString().includes('bye')) return void socket.end();
      const d = await decideSocket(controller, socket);
      if (!socket.destroyed) socket.write(`${d.action} ${d.identity?.subject ?? '-'}\n`);
    });
  });
  const userHook = attach.onHandshakeDenied;
  const attachment = attachController(server, controller, {
    rejectInHandshake: true,
    onError: (e) => {
      throw e;
    },
    ...attach,
    onHandshakeDenied: (socket, decision) => {
      refused.push({ authorized: socket.authorized, decision });
      userHook?.(socket, decision);
    },
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    attachment,
    port: (server.address() as AddressInfo).port,
    reached,
    refused,
    async close() {
      attachment.detach();
      for (const s of open) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

beforeAll(async () => {
  pki = await createPki();
  files = new TempFiles();
});
afterAll(() => files?.remove());

describe('rejectInHandshake', () => {
  let controller: Controller;
  let svc: Service; // writes one line before closing a refused connection
  let silent: Service; // default: a refused connection is destroyed without a byte
  beforeAll(async () => {
    controller = await newController();
    svc = await startService(controller, { onHandshakeDenied: (socket, d) => socket.write(`refused ${d.denial?.code}\n`) });
    silent = await startService(controller, {});
  });
  afterAll(async () => {
    await svc?.close();
    await silent?.close();
    controller?.close();
  });

  it('optional: every connection reaches the application (a certificate is only requested)', async () => {
    await save(controller, { enabled: true, enforce: false, caPem: pki.caA.pem });
    const none = await connectLine(svc.port, pki);
    expect(none.line).toBe('allow-unverified -');
    none.socket.destroy();
    expect(svc.reached).toHaveLength(1);
    expect(svc.refused).toHaveLength(0);
  });

  it('enforced without a certificate: the application never sees the connection', async () => {
    await save(controller, { enabled: true, enforce: true, caPem: pki.caA.pem }, [pki.alice.der]);
    const reachedBefore = svc.reached.length;

    const r = await firstLineOrClosed(svc.port, pki);
    expect(r.result).toBe('refused CLIENT_CERT_MISSING');
    const q = await firstLineOrClosed(silent.port, pki);
    expect(q.handshake).toBe(true); // TLS itself completed: Node has no hook inside the handshake
    expect(q.result).toBe('closed'); // … but not one application byte came back
    expect(svc.reached.length).toBe(reachedBefore);
    expect(silent.reached).toHaveLength(0);
    expect(svc.refused.at(-1)!.decision).toMatchObject({ action: 'deny', denial: { code: 'CLIENT_CERT_MISSING' } });

    for (const v of ['-tls1_2', '-tls1_3']) {
      const out = await sClient(svc.port, [v, '-ign_eof']);
      expect(out).toContain('refused CLIENT_CERT_MISSING');
      expect(out).not.toMatch(/^allow/m);
    }
    expect(svc.reached.length).toBe(reachedBefore);
  });

  it('enforced with a valid certificate: admitted and greeted (Node and s_client)', async () => {
    const alice = await connectLine(svc.port, pki, { cert: pki.alice.pem, key: pki.alice.keyPem });
    expect(alice.line).toBe('allow CN=alice');
    alice.socket.destroy();
    const out = await sClient(svc.port, ['-tls1_3', '-cert', files.write('alice.pem', pki.alice.pem), '-key', files.write('alice.key', pki.alice.keyPem), '-ign_eof'], 'bye\n');
    expect(out).toContain('allow CN=alice');
  });

  it('enforced with a certificate of another CA: refused with the untrusted reason', async () => {
    const r = await firstLineOrClosed(svc.port, pki, { cert: pki.bob.pem, key: pki.bob.keyPem });
    expect(r.result).toBe('refused CLIENT_CERT_UNTRUSTED');
    expect(svc.refused.at(-1)!.decision.verdict).toMatchObject({ ok: false, code: 'UNKNOWN_ISSUER' });
  });
});

describe("the verdict is certgate's, not OpenSSL's", () => {
  it('a certificate OpenSSL accepts (socket.authorized) but certgate refuses is refused', async () => {
    // certgate is configured to require an EKU OpenSSL knows nothing about
    const c = await newController({ verifyOptions: { requiredEku: CUSTOM_EKU } });
    const admin = await pki.caA.issue({ subject: 'CN=admin', extKeyUsage: ['clientAuth', CUSTOM_EKU] });
    const dave = await pki.caA.issue({ subject: 'CN=dave' }); // clientAuth only
    const svc = await startService(c, {});
    try {
      await save(c, { enabled: true, enforce: true, caPem: pki.caA.pem }, [admin.der]);
      const r = await firstLineOrClosed(svc.port, pki, { cert: dave.pem, key: dave.keyPem });
      expect(r.result).toBe('closed');
      expect(svc.refused).toHaveLength(1);
      expect(svc.refused[0]!.authorized).toBe(true); // OpenSSL would have let dave in
      expect(svc.refused[0]!.decision).toMatchObject({ action: 'deny', denial: { code: 'CLIENT_CERT_UNTRUSTED', reason: 'EKU_MISMATCH' } });
      expect(svc.reached).toHaveLength(0);

      const ok = await connectLine(svc.port, pki, { cert: admin.pem, key: admin.keyPem });
      expect(ok.line).toBe('allow CN=admin');
      ok.socket.destroy();
    } finally {
      await svc.close();
      c.close();
    }
  });

  it('a certificate OpenSSL cannot verify but certgate validates is admitted (an intermediate as the trust anchor)', async () => {
    const c = await newController();
    const svc = await startService(c, {});
    try {
      // the upload is the issuing intermediate alone: OpenSSL wants a self-signed root, certgate does not
      await save(c, { enabled: true, enforce: true, caPem: pki.interA.pem }, [pki.carol.der]);
      const carol = await connectLine(svc.port, pki, { cert: pki.carol.pem, key: pki.carol.keyPem });
      expect(carol.line).toBe('allow CN=carol');
      carol.socket.destroy();
      expect(svc.reached).toHaveLength(1);
      expect(svc.reached[0]!.authorized).toBe(false);
      expect(svc.reached[0]!.authorizationError).toMatch(/ISSUER|VERIFY/);
      expect(svc.refused).toHaveLength(0);
    } finally {
      await svc.close();
      c.close();
    }
  });
});

describe('closeDeniedOnChange (on by default with rejectInHandshake)', () => {
  it('enforce closes the open connection without a certificate; the one with a valid certificate stays', async () => {
    const c = await newController();
    const svc = await startService(c, { onHandshakeDenied: (socket, d) => socket.write(`closing ${d.denial?.code}\n`) });
    try {
      await save(c, { enabled: true, enforce: false, caPem: pki.caA.pem });
      const guest = await connectLine(svc.port, pki);
      expect(guest.line).toBe('allow-unverified -');
      const alice = await connectLine(svc.port, pki, { cert: pki.alice.pem, key: pki.alice.keyPem });
      expect(alice.line).toBe('allow CN=alice');
      expect(svc.attachment.connectionCount()).toBe(2);

      const guestGone = new Promise<string>((resolve) => {
        let buf = '';
        guest.socket.on('data', (d) => (buf += d.toString()));
        guest.socket.once('close', () => resolve(buf));
      });
      await save(c, { enabled: true, enforce: true, caPem: pki.caA.pem }, [pki.alice.der]);
      expect(await guestGone).toBe('closing CLIENT_CERT_MISSING\n');
      expect(await nextLine(alice.socket)).toBe('allow CN=alice');
      expect(alice.socket.destroyed).toBe(false);
      expect(svc.attachment.connectionCount()).toBe(1);
      alice.socket.destroy();
    } finally {
      await svc.close();
      c.close();
    }
  });

  it('is off for HTTP-style servers by default: the connection stays and its next message is re-decided', async () => {
    const c = await newController();
    const svc = await startService(c, { rejectInHandshake: false });
    try {
      await save(c, { enabled: true, enforce: false, caPem: pki.caA.pem });
      const guest = await connectLine(svc.port, pki);
      await save(c, { enabled: true, enforce: true, caPem: pki.caA.pem }, [pki.alice.der]);
      expect(await nextLine(guest.socket)).toBe('deny -');
      guest.socket.destroy();
    } finally {
      await svc.close();
      c.close();
    }
  });
});

describe('attachController options', () => {
  it('refuses what is not a TLS server, a controller or a valid option, with a clear message', async () => {
    const c = await newController();
    const server = tls.createServer({ key: pki.server.keyPem, cert: pki.server.pem });
    expect(() => attachController({} as tls.Server, c)).toThrow(/"server" must be a tls.Server/);
    expect(() => attachController(server, {} as Controller)).toThrow(/"controller" must be a certgate Controller/);
    expect(() => attachController(server, c, { rejectInHandshake: 'yes' as unknown as boolean })).toThrow(/"rejectInHandshake" must be a boolean/);
    expect(() => attachController(server, c, { sessionCache: -1 })).toThrow(/"sessionCache" must be a boolean or an integer/);
    expect(() => attachController(server, c, { resumptionIntermediates: 1.5 })).toThrow(/"resumptionIntermediates"/);
    c.close();
  });

  it('detach restores the server: no gate, no renegotiation hook, no more context swaps', async () => {
    const c = await newController();
    const server = tls.createServer({ key: pki.server.keyPem, cert: pki.server.pem });
    const listeners = server.listenerCount('secureConnection');
    const emit = server.emit;
    const att = attachController(server, c, { rejectInHandshake: true, sessionCache: 10 });
    expect(server.emit).not.toBe(emit);
    expect(server.listenerCount('newSession')).toBe(1);
    att.detach();
    expect(server.emit).toBe(emit);
    expect(server.listenerCount('secureConnection')).toBe(listeners);
    expect(server.listenerCount('newSession')).toBe(0);
    const before = att.applied();
    await save(c, { enabled: true, enforce: false, caPem: pki.caA.pem });
    expect(att.applied()).toEqual(before);
    c.close();
  });
});

describe('rejectInHandshake on HTTPS and HTTP/2 servers', () => {
  it('the request a client sends right after the handshake waits for the decision and is served; a denied client gets no response', async () => {
    const https = await import('node:https');
    const http2 = await import('node:http2');
    const c = await newController();
    await save(c, { enabled: true, enforce: true, caPem: pki.caA.pem }, [pki.alice.der]);
    const h1 = https.createServer({ key: pki.server.keyPem, cert: pki.server.pem }, async (req, res) => {
      const d = await decideSocket(c, req.socket);
      res.end(`${d.action} ${d.identity?.subject ?? '-'}`);
    });
    const h2 = http2.createSecureServer({ key: pki.server.keyPem, cert: pki.server.pem }, async (req, res) => {
      const d = await decideSocket(c, req.socket);
      res.end(`${d.action} ${d.identity?.subject ?? '-'}`);
    });
    const atts = [attachController(h1, c, { rejectInHandshake: true }), attachController(h2, c, { rejectInHandshake: true })];
    for (const s of [h1, h2]) {
      s.listen(0, '127.0.0.1');
      await once(s, 'listening');
    }
    const p1 = (h1.address() as AddressInfo).port;
    const p2 = (h2.address() as AddressInfo).port;
    const get1 = (o: { cert?: string; key?: string }) =>
      new Promise<string>((resolve) => {
        const req = https.get({ host: '127.0.0.1', port: p1, path: '/', ca: pki.serverCa.pem, servername: 'localhost', agent: false, ...o }, (res) => {
          let t = '';
          res.on('data', (d) => (t += d));
          res.on('end', () => resolve(`${res.statusCode} ${t}`));
        });
        req.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? e.message}`));
      });
    const get2 = (o: { cert?: string; key?: string }) =>
      new Promise<string>((resolve) => {
        const client = http2.connect(`https://127.0.0.1:${p2}`, { ca: pki.serverCa.pem, servername: 'localhost', ...o });
        client.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? e.message}`));
        const r = client.request({ ':path': '/' });
        let t = '';
        let status = 0;
        r.on('response', (h) => (status = Number(h[':status'])));
        r.on('data', (d) => (t += d));
        r.on('end', () => {
          client.close();
          resolve(status === 0 ? 'no response' : `${status} ${t}`); // the session closed under the stream
        });
        r.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? e.message}`));
        r.end();
      });
    try {
      expect(await get1({ cert: pki.alice.pem, key: pki.alice.keyPem })).toBe('200 allow CN=alice');
      expect(await get1({})).toMatch(/^error /);
      expect(await get2({ cert: pki.alice.pem, key: pki.alice.keyPem })).toBe('200 allow CN=alice');
      expect(await get2({})).toMatch(/^(error |no response$)/);
    } finally {
      for (const a of atts) a.detach();
      c.close();
      await Promise.all([new Promise((r) => h1.close(r)), new Promise((r) => h2.close(r))]);
    }
  });
});
