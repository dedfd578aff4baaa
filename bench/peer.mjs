#!/usr/bin/env node
/**
 * Benchmark: what reading the client's certificate off a TLS socket costs, per call, on a live
 * connection over 127.0.0.1 (the work `@certgate/tls` does once per connection and settings epoch).
 *
 *   node bench/peer.mjs [out.json]
 *
 * Rows: `peerChainFromSocket` (`@certgate/tls`, uses `getPeerCertificate(true)`), node's
 * `getPeerCertificate(true)` and `(false)`, `getPeerX509Certificate()` (+ `.raw`): the first call on
 * a fresh connection (each call type on connections of its own, interleaved) and repeated calls on
 * one connection; and `controller.decide` for the chain (a repeat: its verdict cache hits).
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import tls from 'node:tls';
import { createController, createMemorySettingsStore } from '@certgate/core';
import { createCa } from '@certgate/core/testing';
import { peerChainFromSocket } from '@certgate/tls';
import { machine, median, nowNs, usSince } from './lib/common.mjs';

const out = process.argv[2];
const ROUNDS = process.env.BENCH_QUICK === '1' ? 3 : 7;
const N = 1000;

const root = await createCa({ subject: 'CN=bench peer root' });
const inter = await root.issueIntermediate({ subject: 'CN=bench peer intermediate' });
const server = await inter.issueServer();
const client = await inter.issue({ subject: 'CN=bench peer client' });
const controller = await createController({ store: createMemorySettingsStore(), appName: 'bench', onProblem: () => {} });
await controller.save({ enabled: true, enforce: true, caPem: root.pem }, { actor: 'bench', peerChain: [client.der, inter.der] });

const srv = tls.createServer({ key: server.keyPem, cert: server.pem + inter.pem, requestCert: true, rejectUnauthorized: false, ca: root.pem });
const accepted = [];
let wake = null;
srv.on('secureConnection', (s) => {
  accepted.push(s);
  wake?.();
});
await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
const clients = [];
/** A fresh server-side TLS socket with the client's certificate. */
async function freshSocket() {
  const c = tls.connect({ port: srv.address().port, host: '127.0.0.1', cert: client.pem + inter.pem, key: client.keyPem, rejectUnauthorized: false });
  c.on('error', () => {});
  clients.push(c);
  while (accepted.length === 0) await new Promise((r) => (wake = r));
  return accepted.shift();
}

let socket = await freshSocket();
const chain = peerChainFromSocket(socket);
// OpenSSL completes the chain with the trusted root from `ca`, so 3 certificates come back for 2 sent.
if (!chain || chain.length < 2) throw new Error(`peer chain of ${chain?.length}`);
const d = await controller.decide(chain);
if (d.action !== 'allow') throw new Error(`decide: ${d.action}`);

const rows = {
  'peerChainFromSocket (@certgate/tls)': (s) => peerChainFromSocket(s),
  'getPeerCertificate(true)': (s) => s.getPeerCertificate(true),
  'getPeerCertificate(false)': (s) => s.getPeerCertificate(false),
  'getPeerX509Certificate().raw': (s) => s.getPeerX509Certificate().raw,
};
// First call on a fresh connection (what a new connection pays), interleaved over connections.
const first = Object.fromEntries(Object.keys(rows).map((k) => [k, []]));
const CONNS = process.env.BENCH_QUICK === '1' ? 20 : 60;
for (let i = 0; i < CONNS; i++) {
  for (const [k, fn] of Object.entries(rows)) {
    const s = await freshSocket();
    const t0 = nowNs();
    fn(s);
    first[k].push(usSince(t0));
    s.destroy();
  }
}
// Repeated calls on one connection.
const res = Object.fromEntries(Object.keys(rows).map((k) => [k, []]));
res['controller.decide (repeat)'] = [];
for (let r = 0; r < ROUNDS; r++) {
  for (const [k, fn] of Object.entries(rows)) {
    const t0 = nowNs();
    for (let i = 0; i < N; i++) fn(socket);
    res[k].push(usSince(t0, N));
  }
  const t0 = nowNs();
  for (let i = 0; i < N; i++) await controller.decide(chain);
  res['controller.decide (repeat)'].push(usSince(t0, N));
}
const result = {
  machine: machine(),
  rounds: ROUNDS,
  perCall: N,
  connections: CONNS,
  firstCallUs: Object.fromEntries(Object.entries(first).map(([k, v]) => [k, median(v)])),
  us: Object.fromEntries(Object.entries(res).map(([k, v]) => [k, median(v)])),
};
for (const [k, v] of Object.entries(result.firstCallUs)) console.error(`[peer] first call on a new connection: ${k.padEnd(36)} ${v.toFixed(1).padStart(8)} µs`);
for (const [k, v] of Object.entries(result.us)) console.error(`[peer] repeated on one connection:   ${k.padEnd(36)} ${v.toFixed(1).padStart(8)} µs`);
socket.destroy();
for (const c of clients) c.destroy();
srv.close();
controller.close();
if (out) writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
else console.log(JSON.stringify(result, null, 2));
process.exit(0);
