/**
 * settledDecision: the connection's decision without waiting, only once it is made under the
 * current settings epoch (real HTTPS keep-alive on 127.0.0.1).
 */
import { once } from 'node:events';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Controller, Decision } from '@certgate/core';
import { attachController, decideSocket, settledDecision, type Attachment } from '@certgate/tls';
import { createPki, newController, save, type Pki } from './helpers.js';

let pki: Pki;
let controller: Controller;
let server: https.Server;
let attachment: Attachment;
let port: number;
const seen: { before: Decision | undefined; awaited: Decision; after: Decision | undefined }[] = [];

beforeAll(async () => {
  pki = await createPki();
  controller = await newController();
  server = https.createServer({ key: pki.server.keyPem, cert: pki.server.pem }, async (req, res) => {
    const before = settledDecision(controller, req.socket);
    const awaited = await decideSocket(controller, req.socket);
    seen.push({ before, awaited, after: settledDecision(controller, req.socket) });
    res.end(awaited.action);
  });
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

function get(agent: https.Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port, path: '/', agent, servername: 'localhost' }, (res) => {
        let t = '';
        res.on('data', (d) => (t += d));
        res.on('end', () => resolve(t));
      })
      .on('error', reject);
  });
}

it('is undefined before the first decision and after a settings change, the decision otherwise', async () => {
  await save(controller, { enabled: true, enforce: false, caPem: pki.caA.pem });
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: pki.serverCa.pem });
  expect(await get(agent)).toBe('allow-unverified');
  expect(await get(agent)).toBe('allow-unverified');
  await save(controller, { enabled: false, enforce: false });
  expect(await get(agent)).toBe('allow');
  agent.destroy();
  expect(seen).toHaveLength(3);
  expect(seen[0]!.before).toBeUndefined();
  expect(seen[0]!.after).toBe(seen[0]!.awaited);
  expect(seen[1]!.before).toBe(seen[0]!.awaited); // same connection, same epoch: no wait
  expect(seen[2]!.before).toBeUndefined(); // the settings changed: decided again
  expect(seen[2]!.awaited.mode).toBe('disabled');
});
