/**
 * HTTPS keep-alive on 127.0.0.1: one validation per TLS connection (not per request), and a
 * connection opened without a certificate while `optional` is denied (a readable 403) on its next
 * request after `enforce` — on the same connection, with no reconnect.
 */
import { once } from 'node:events';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Controller, Decision } from '@certgate/core';
import { attachController, decideSocket, settledDecision, type Attachment } from '@certgate/tls';
import { countingController, createPki, newController, save, type Pki } from './helpers.js';

let pki: Pki;
let controller: Controller;
let counted: ReturnType<typeof countingController>;
let server: https.Server;
let attachment: Attachment;
let port: number;
let handshakes = 0;
/** Per request: settledDecision before and after awaiting decideSocket, and the awaited decision. */
const seen: { before: Decision | undefined; awaited: Decision; after: Decision | undefined }[] = [];

beforeAll(async () => {
  pki = await createPki();
  controller = await newController();
  counted = countingController(controller);
  server = https.createServer({ key: pki.server.keyPem, cert: pki.server.pem }, async (req, res) => {
    const before = settledDecision(counted.controller, req.socket);
    const d = await decideSocket(counted.controller, req.socket);
    seen.push({ before, awaited: d, after: settledDecision(counted.controller, req.socket) });
    res.statusCode = d.action === 'deny' ? 403 : 200;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ action: d.action, epoch: d.epoch, code: d.denial?.code ?? null, subject: d.identity?.subject ?? null }));
  });
  server.on('secureConnection', () => handshakes++);
  attachment = attachController(server, controller);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  attachment?.detach();
  controller?.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
});

function get(agent: https.Agent): Promise<{ status: number; body: { action: string; epoch: number; code: string | null; subject: string | null }; localPort: number }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/', agent, servername: 'localhost' }, (res) => {
      let t = '';
      const localPort = res.socket.localPort!;
      res.on('data', (d) => (t += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(t), localPort }));
    });
    req.on('error', reject);
  });
}

describe('keep-alive', () => {
  it('validates once per connection, and re-decides the same connection after enforce (403)', async () => {
    await save(controller, { enabled: true, enforce: false, caPem: pki.caA.pem });
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: pki.serverCa.pem });
    const h0 = handshakes;
    const calls0 = counted.calls();
    const r1 = await get(agent);
    const r2 = await get(agent);
    const r3 = await get(agent);
    for (const r of [r1, r2, r3]) expect(r).toMatchObject({ status: 200, body: { action: 'allow-unverified', code: null } });
    expect(new Set([r1.localPort, r2.localPort, r3.localPort]).size).toBe(1);
    expect(handshakes - h0).toBe(1);
    expect(counted.calls() - calls0).toBe(1); // one decision for three requests

    await save(controller, { enabled: true, enforce: true, caPem: pki.caA.pem }, [pki.alice.der]);
    const r4 = await get(agent);
    expect(r4.localPort).toBe(r1.localPort); // the same TLS connection …
    expect(handshakes - h0).toBe(1);
    expect(r4).toMatchObject({ status: 403, body: { action: 'deny', epoch: controller.epoch, code: 'CLIENT_CERT_MISSING' } }); // … now denied
    expect(counted.calls() - calls0).toBe(2);
    const r5 = await get(agent);
    expect(r5.status).toBe(403);
    expect(counted.calls() - calls0).toBe(2); // the new verdict is reused too
    agent.destroy();
  });

  it('a connection with a valid certificate stays allowed across a CA swap that still trusts it', async () => {
    await save(controller, { enabled: true, enforce: true, caPem: pki.caA.pem }, [pki.alice.der]);
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: pki.serverCa.pem, cert: pki.alice.pem, key: pki.alice.keyPem });
    const r1 = await get(agent);
    expect(r1).toMatchObject({ status: 200, body: { action: 'allow', subject: 'CN=alice' } });
    await save(controller, { enabled: true, enforce: true, caPem: pki.caB.pem + pki.caA.pem }, [pki.alice.der]);
    const r2 = await get(agent);
    expect(r2.localPort).toBe(r1.localPort);
    expect(r2).toMatchObject({ status: 200, body: { action: 'allow', epoch: controller.epoch, subject: 'CN=alice' } });
    await save(controller, { enabled: true, enforce: true, caPem: pki.caB.pem }, [pki.bob.der]);
    const r3 = await get(agent);
    expect(r3.localPort).toBe(r1.localPort);
    expect(r3).toMatchObject({ status: 403, body: { code: 'CLIENT_CERT_UNTRUSTED' } });
    agent.destroy();
  });

  it('settledDecision: the decision without waiting, only once made under the current epoch', async () => {
    await save(controller, { enabled: true, enforce: false, caPem: pki.caA.pem });
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: pki.serverCa.pem });
    const n = seen.length;
    expect((await get(agent)).body.action).toBe('allow-unverified');
    expect((await get(agent)).body.action).toBe('allow-unverified');
    await save(controller, { enabled: false, enforce: false });
    expect((await get(agent)).body.action).toBe('allow');
    agent.destroy();
    const [a, b, c] = seen.slice(n);
    expect(a!.before).toBeUndefined(); // first request on a new connection
    expect(a!.after).toBe(a!.awaited);
    expect(b!.before).toBe(a!.awaited); // same connection, same epoch: no wait
    expect(c!.before).toBeUndefined(); // the settings changed: decided again
    expect(c!.awaited.mode).toBe('disabled');
  });
});
