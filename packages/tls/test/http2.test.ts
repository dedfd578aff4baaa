/**
 * HTTP/2 on 127.0.0.1 (node `http2.connect`): the verdict belongs to the session — one validation
 * for all its streams, through the `'stream'` API and the compat `'request'` API alike — and a
 * session opened without a certificate while `optional` gets 403 on its next stream after
 * `enforce`, on the same session. A session whose certificate the new CA still trusts keeps working.
 */
import { once } from 'node:events';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Controller } from '@certgate/core';
import { attachController, decideStream, http2Gate, type Attachment } from '@certgate/tls';
import { countingController, createPki, newController, save, type Pki } from './helpers.js';

let pki: Pki;

beforeAll(async () => {
  pki = await createPki();
});

interface H2 {
  server: http2.Http2SecureServer;
  attachment: Attachment;
  port: number;
  controller: Controller;
  calls: () => number;
  sessions: () => number;
  close(): Promise<void>;
}

async function startH2(api: 'stream' | 'request'): Promise<H2> {
  const controller = await newController();
  const counted = countingController(controller);
  const gate = http2Gate(counted.controller);
  const server =
    api === 'stream'
      ? http2.createSecureServer({ key: pki.server.keyPem, cert: pki.server.pem })
      : http2.createSecureServer(
          { key: pki.server.keyPem, cert: pki.server.pem },
          gate.request((_req, res, d) => {
            res.setHeader('content-type', 'application/json');
            res.end(JSON.stringify({ action: d.action, subject: d.identity?.subject ?? null, epoch: d.epoch }));
          }),
        );
  if (api === 'stream') {
    server.on(
      'stream',
      gate.stream((stream, _headers, d) => {
        stream.respond({ ':status': 200, 'content-type': 'application/json' });
        stream.end(JSON.stringify({ action: d.action, subject: d.identity?.subject ?? null, epoch: d.epoch }));
      }),
    );
  }
  let sessions = 0;
  server.on('session', () => sessions++);
  const attachment = attachController(server, controller, { onError: (e) => { throw e; } });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    attachment,
    port: (server.address() as AddressInfo).port,
    controller,
    calls: counted.calls,
    sessions: () => sessions,
    async close() {
      attachment.detach();
      controller.close();
      await new Promise((r) => server.close(r));
    },
  };
}

function request(client: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders = {}): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const r = client.request({ ':path': '/', ...headers });
    let status = 0;
    let type = '';
    let body = '';
    r.on('response', (h) => {
      status = Number(h[':status']);
      type = String(h['content-type'] ?? '');
    });
    r.on('data', (d) => (body += d));
    r.on('end', () => resolve({ status, type, body }));
    r.on('error', reject);
    r.end();
  });
}

describe.each([['stream'], ['request']] as const)("HTTP/2 '%s' API", (api) => {
  let h: H2;
  beforeAll(async () => {
    h = await startH2(api);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('one validation per session; after enforce the same session gets 403 on its next stream', async () => {
    await save(h.controller, { enabled: true, enforce: false, caPem: pki.caA.pem });
    const client = http2.connect(`https://127.0.0.1:${h.port}`, { ca: pki.serverCa.pem, servername: 'localhost' });
    client.on('error', () => {});
    const c0 = h.calls();
    const results = await Promise.all([request(client), request(client), request(client)]);
    for (const r of results) expect(JSON.parse(r.body)).toMatchObject({ action: 'allow-unverified', subject: null });
    expect(h.calls() - c0).toBe(1); // three streams, one decision
    expect(h.sessions()).toBe(1);

    await save(h.controller, { enabled: true, enforce: true, caPem: pki.caA.pem }, [pki.alice.der]);
    const json = await request(client, { ':path': '/api/thing', accept: 'application/json' });
    expect(json.status).toBe(403);
    expect(JSON.parse(json.body)).toMatchObject({ error: { code: 'CLIENT_CERT_MISSING' } });
    expect(JSON.parse(json.body).error.message).toMatch(/Client certificate not found in request/);
    const page = await request(client, { ':path': '/', accept: 'text/html' });
    expect(page.status).toBe(403);
    expect(page.type).toMatch(/^text\/html/);
    expect(h.calls() - c0).toBe(2);
    expect(h.sessions()).toBe(1); // the same session
    expect(client.closed || client.destroyed).toBe(false);
    client.close();
  });

  it('a session with a valid certificate keeps working across a CA swap that still trusts it', async () => {
    await save(h.controller, { enabled: true, enforce: true, caPem: pki.caA.pem }, [pki.alice.der]);
    const client = http2.connect(`https://127.0.0.1:${h.port}`, { ca: pki.serverCa.pem, servername: 'localhost', cert: pki.alice.pem, key: pki.alice.keyPem });
    client.on('error', () => {});
    expect(JSON.parse((await request(client)).body)).toMatchObject({ action: 'allow', subject: 'CN=alice' });
    await save(h.controller, { enabled: true, enforce: true, caPem: pki.caA.pem + pki.caB.pem }, [pki.alice.der]);
    const after = await request(client);
    expect(after.status).toBe(200);
    expect(JSON.parse(after.body)).toMatchObject({ action: 'allow', subject: 'CN=alice', epoch: h.controller.epoch });
    client.close();
  });
});

describe('decideStream', () => {
  it('is the decision of the stream’s session connection (shared by its streams)', async () => {
    const controller = await newController();
    const server = http2.createSecureServer({ key: pki.server.keyPem, cert: pki.server.pem });
    const decisions: unknown[] = [];
    server.on('stream', async (stream) => {
      decisions.push(await decideStream(controller, stream));
      stream.respond({ ':status': 200 });
      stream.end();
    });
    const att = attachController(server, controller);
    await save(controller, { enabled: true, enforce: false, caPem: pki.caA.pem });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = http2.connect(`https://127.0.0.1:${(server.address() as AddressInfo).port}`, { ca: pki.serverCa.pem, servername: 'localhost', cert: pki.carol.pem + pki.interA.pem, key: pki.carol.keyPem });
    client.on('error', () => {});
    await Promise.all([request(client), request(client)]);
    expect(decisions).toHaveLength(2);
    expect(decisions[0]).toBe(decisions[1]); // the very same decision object
    expect(decisions[0]).toMatchObject({ action: 'allow', identity: { subject: 'CN=carol' } });
    client.close();
    att.detach();
    controller.close();
    await new Promise((r) => server.close(r));
  });
});
