/**
 * What the real-proxy tests (nginx.test.ts, haproxy.test.ts) share: an Express 5 app on 127.0.0.1 and
 * ::1 deciding with `mtls(controller, { forwarded })` (controller `enforced` with the test CA, the
 * forwarded header believed from 127.0.0.1 only), the certificates the tests present, a scratch
 * directory for the proxy's files, free ports and a wait for the proxy to listen.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express5 from 'express5';
import { expect } from 'vitest';
import { createController, createForwardedCertificates, createMemorySettingsStore, type Controller, type ForwardedCertificates, type ForwardedFormat } from '@certgate/core';
import { createCa, issueExpired, issueWrongEku, type TestCa, type TestCertificate } from '@certgate/core/testing';
import { mtls } from '@certgate/express';
import { request, type Answer } from './request.js';

/** A port free on 127.0.0.1 now (for a proxy to listen on). */
export async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * Waits (at most 10 s) until something listens on 127.0.0.1:`port`; throws with `details()` (the
 * proxy's log) when the time is up or `gone()` says the proxy exited.
 */
export async function waitForPort(port: number, what: string, details: () => string, gone: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await new Promise<void>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => {
          s.destroy();
          resolve();
        });
        s.on('error', reject);
      });
      return;
    } catch (err) {
      if (gone() || Date.now() > deadline) throw new Error(`${what} did not start: ${String(err)}\n${details()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export interface ProxiedApp {
  /** Scratch directory for the proxy's configuration and files (removed by `close`). */
  dir: string;
  /** The CA of the proxy's server certificate, and that certificate. */
  serverCa: TestCa;
  server: TestCertificate;
  /** The CA the controller enforces, and certificates from it: valid, expired, without clientAuth. */
  ca: TestCa;
  admin: TestCertificate;
  expired: TestCertificate;
  wrongEku: TestCertificate;
  /** A certificate from another CA. */
  stranger: TestCertificate;
  controller: Controller;
  forwarded: ForwardedCertificates;
  /** The app's ports on 127.0.0.1 (the proxy's upstream) and on ::1 (a peer that is not trusted). */
  appPort: number;
  appPort6: number;
  /** A request through the proxy's TLS listener on 127.0.0.1:`port`. */
  via(port: number, path: string, o?: { cert?: TestCertificate; headers?: Record<string, string> }): Promise<Answer>;
  /** A request straight to the app over ::1 (not a trusted proxy). */
  direct6(path: string, headers: Record<string, string>): Promise<Answer>;
  close(): Promise<void>;
}

/**
 * Starts the app behind a proxy of `format`; `name` goes into the certificates' and the app's names.
 * `before` runs in front of `mtls()` (e.g. to record the header the app received). `GET /me` answers
 * the decision: `{ action, subject, fingerprint }`.
 */
export async function startProxiedApp(
  name: string,
  format: ForwardedFormat,
  before?: (req: http.IncomingMessage, res: http.ServerResponse, next: () => void) => void,
): Promise<ProxiedApp> {
  const dir = mkdtempSync(join(tmpdir(), `certgate-${name}-`));
  const serverCa = await createCa({ subject: `CN=${name} test server CA` });
  const server = await serverCa.issueServer();
  const ca = await createCa({ subject: `CN=Behind ${name} CA` });
  const admin = await ca.issue({ subject: 'CN=admin' });
  const expired = await issueExpired(ca, { subject: 'CN=admin' });
  const wrongEku = await issueWrongEku(ca, { subject: 'CN=admin' });
  const stranger = await (await createCa({ subject: 'CN=Elsewhere' })).issue({ subject: 'CN=admin' });

  const controller = await createController({ store: createMemorySettingsStore(), appName: `Behind ${name}` });
  await controller.save({ enabled: true, enforce: false, caPem: ca.pem }, { actor: 'test', peerChain: null });
  const r = await controller.save({ enabled: true, enforce: true }, { actor: 'test', peerChain: [admin.der] });
  expect(r.ok && !('refusal' in r && r.refusal) && r.state.mode).toBe('enforced');

  const forwarded = createForwardedCertificates({ trustedProxies: ['127.0.0.1'], format });
  const app = express5();
  if (before) app.use(before);
  app.use(mtls(controller, { forwarded }));
  app.get('/me', (req, res) => void res.json({ action: req.clientCertificate?.action, subject: req.clientCertificate?.identity?.subject ?? null, fingerprint: req.clientCertificate?.identity?.fingerprint256 ?? null }));
  const servers: http.Server[] = [];
  for (const host of ['127.0.0.1', '::1']) {
    const s = http.createServer(app);
    s.listen(0, host);
    await once(s, 'listening');
    servers.push(s);
  }
  const appPort6 = (servers[1]!.address() as AddressInfo).port;
  return {
    dir,
    serverCa,
    server,
    ca,
    admin,
    expired,
    wrongEku,
    stranger,
    controller,
    forwarded,
    appPort: (servers[0]!.address() as AddressInfo).port,
    appPort6,
    via: (port, path, o = {}) =>
      request({ tls: true, host: '127.0.0.1', port, path, ca: serverCa.pem, servername: 'localhost', headers: { accept: 'application/json', ...o.headers }, ...(o.cert ? { cert: o.cert.pem, key: o.cert.keyPem } : {}) }),
    direct6: (path, headers) => request({ host: '::1', port: appPort6, path, headers: { accept: 'application/json', ...headers } }),
    async close() {
      for (const s of servers) await new Promise((r) => s.close(r));
      controller.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
