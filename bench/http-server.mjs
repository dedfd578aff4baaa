#!/usr/bin/env node
/**
 * One HTTPS server for the HTTP benchmark, in its own process (so the load generator and the
 * server each get a core). Listens on 127.0.0.1 only, on a free port, and prints
 * `{"port": N}` on stdout once it listens; answers `stats` messages (CPU time, requests served) on
 * its IPC channel; ends when the channel closes.
 *
 *   node bench/http-server.mjs <kind> <material.json>
 *
 * Kinds (every one answers `ok` to any request that gets through):
 * - `https-openssl`: bare node `https`, `requestCert: true, rejectUnauthorized: true, ca` (OpenSSL
 *   verifies the client chain; certgate not involved).
 * - `express-openssl`: the same TLS settings with an Express app in front of the handler.
 * - `express-openssl-mw`: the same plus one no-op `app.use` middleware (the price of an Express layer).
 * - `express-certgate`: Express + `mtls(controller)` from `@certgate/express`, the TLS server
 *   attached with `attachController` from `@certgate/tls`, the controller in `enforced` with the CA;
 *   the time spent inside `mtls()` is measured in the server (hrtime) and reported with the stats.
 * - `https-certgate`: bare node `https` + `attachController`, the handler calls `decideSocket`
 *   (certgate without Express).
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import express from 'express';
import { createController, createMemorySettingsStore } from '@certgate/core';
import { attachController, decideSocket } from '@certgate/tls';
import { mtls } from '@certgate/express';

const [kind, materialPath] = process.argv.slice(2);
const m = JSON.parse(readFileSync(materialPath, 'utf8'));
const tlsBase = { key: m.serverKeyPem, cert: m.serverChainPem };

function ok(_req, res) {
  res.statusCode = 200;
  res.setHeader('content-type', 'text/plain');
  res.end('ok');
}

async function enforcedController() {
  const controller = await createController({ store: createMemorySettingsStore(), appName: 'bench', onProblem: () => {} });
  const peerChain = m.clientChainDer.map((b64) => new Uint8Array(Buffer.from(b64, 'base64')));
  const r = await controller.save({ enabled: true, enforce: true, caPem: m.caPem }, { actor: 'bench', peerChain });
  if (!r.ok || r.refusal || r.state.mode !== 'enforced') throw new Error(`cannot enforce: ${JSON.stringify(r.refusal ?? r)}`);
  return controller;
}

let server;
const mtlsTimed = { ns: 0n, count: 0 };
if (kind === 'https-openssl') {
  server = https.createServer({ ...tlsBase, ca: m.caPem, requestCert: true, rejectUnauthorized: true }, ok);
} else if (kind === 'express-openssl') {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/', ok);
  server = https.createServer({ ...tlsBase, ca: m.caPem, requestCert: true, rejectUnauthorized: true }, app);
} else if (kind === 'express-openssl-mw') {
  // As express-openssl plus one no-op middleware: the price of an Express layer, for comparing with
  // express-certgate (whose mtls() is one such layer).
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((req, res, next) => next());
  app.get('/', ok);
  server = https.createServer({ ...tlsBase, ca: m.caPem, requestCert: true, rejectUnauthorized: true }, app);
} else if (kind === 'express-certgate') {
  const controller = await enforcedController();
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const gate = mtls(controller);
  // mtls() timed in the server: from the call to its next() when it decides synchronously (a request on
  // a connection already decided, keep-alive's case); a request it decides asynchronously (the first of
  // a connection) is not counted. The wrapper's own cost (two hrtime calls, one closure) is included.
  app.use((req, res, next) => {
    const t0 = process.hrtime.bigint();
    let returned = false;
    gate(req, res, (err) => {
      if (!returned) {
        mtlsTimed.ns += process.hrtime.bigint() - t0;
        mtlsTimed.count++;
      }
      next(err);
    });
    returned = true;
  });
  app.get('/', ok);
  server = https.createServer(tlsBase, app);
  attachController(server, controller);
} else if (kind === 'https-certgate') {
  const controller = await enforcedController();
  server = https.createServer(tlsBase, (req, res) => {
    decideSocket(controller, req.socket).then(
      (d) => {
        if (d.action === 'deny') {
          res.statusCode = 403;
          res.end(d.denial?.code ?? 'denied');
        } else ok(req, res);
      },
      () => {
        res.statusCode = 500;
        res.end();
      },
    );
  });
  attachController(server, controller);
} else {
  console.error(`unknown server kind ${kind}`);
  process.exit(2);
}

let requests = 0;
server.on('request', () => requests++);
// The driver asks for this process's CPU time and request count around each run (IPC).
process.on('message', (msg) => {
  if (msg === 'stats') process.send({ cpu: process.cpuUsage(), requests, memory: process.memoryUsage().rss, mtlsNs: Number(mtlsTimed.ns), mtlsCount: mtlsTimed.count });
});

server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('disconnect', () => process.exit(0));
