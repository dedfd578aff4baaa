#!/usr/bin/env node
/**
 * Benchmark 3: HTTP requests/s and p99 latency with a valid client certificate, over 127.0.0.1 only.
 *
 *   node bench/http.mjs [out.json]     (env BENCH_HTTP_SECONDS, BENCH_HTTP_ROUNDS, BENCH_HTTP_CONNECTIONS)
 *
 * Four servers (bench/http-server.mjs, one process each) — bare `https` and Express, each once with
 * OpenSSL verifying (`requestCert` + `rejectUnauthorized` + `ca`) and once with certgate deciding
 * (controller in `enforced`) — are loaded by autocannon from this process, with the client's chain
 * (leaf + intermediate, EC P-256) and key, in two ways:
 * - keep-alive: N connections, each sends requests back to back;
 * - new connection per request: autocannon's `reconnectRate: 1` (a full TLS handshake each time,
 *   no session resumption).
 * Rounds are interleaved (every round runs every server in both ways, in a rotating order) and each
 * run is bounded in time; the figures are medians over rounds. Before the load, each server is
 * checked to answer 200 to the valid client and to refuse a client without a certificate and one
 * from another CA.
 */
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createCa } from '@certgate/core/testing';
import { machine, median } from './lib/common.mjs';
import { runLoad } from './lib/load.mjs';

const SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_HTTP_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_HTTP_CONNECTIONS ?? 10);
const KINDS = ['https-openssl', 'express-openssl', 'express-openssl-mw', 'express-certgate', 'https-certgate'];
const out = process.argv[2];
const log = (...a) => console.error(...a);

const root = await createCa({ subject: 'CN=bench http root, O=certgate bench' });
const inter = await root.issueIntermediate({ subject: 'CN=bench http intermediate, O=certgate bench' });
const server = await inter.issueServer();
const client = await inter.issue({ subject: 'CN=bench http client, O=certgate bench' });
const strangerCa = await createCa({ subject: 'CN=another root' });
const stranger = await strangerCa.issue({ subject: 'CN=stranger' });

const tmp = mkdtempSync(join(tmpdir(), 'certgate-bench-http-'));
const materialPath = join(tmp, 'material.json');
writeFileSync(
  materialPath,
  JSON.stringify({
    caPem: root.pem,
    serverKeyPem: server.keyPem,
    serverChainPem: server.pem + inter.pem,
    clientChainDer: [client.der, inter.der].map((d) => Buffer.from(d).toString('base64')),
  }),
);
const serverScript = fileURLToPath(new URL('./http-server.mjs', import.meta.url));

function startServer(kind, nodeArgs = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, serverScript, kind, materialPath], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${kind} did not start`)), 20_000);
    child.stdout.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve({ kind, child, port: JSON.parse(buf.slice(0, nl)).port });
      }
    });
    child.on('exit', (code) => reject(new Error(`${kind} exited with ${code}`)));
  });
}

const clientTls = { cert: client.pem + inter.pem, key: client.keyPem, ca: root.pem, rejectUnauthorized: true };

/** One GET: { status } or { error }. */
function probe(port, tlsOpts) {
  return new Promise((resolve) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/', agent: false, ca: root.pem, ...tlsOpts, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ error: e.code ?? e.message }));
  });
}

/** The server process's CPU time (µs) and requests served so far. */
function stats(s) {
  return new Promise((resolve) => {
    s.child.once('message', (m) => resolve({ cpuUs: m.cpu.user + m.cpu.system, requests: m.requests, rss: m.memory, mtlsNs: m.mtlsNs, mtlsCount: m.mtlsCount }));
    s.child.send('stats');
  });
}

function loadAutocannon(port, seconds = SECONDS) {
  return new Promise((resolve, reject) => {
    autocannon({ url: `https://127.0.0.1:${port}/`, connections: CONNECTIONS, pipelining: 1, duration: seconds, tlsOptions: clientTls }, (err, r) =>
      err
        ? reject(err)
        : resolve({ requests: r.requests.total, rps: r.requests.total / r.duration, p50ms: r.latency.p50, p99ms: r.latency.p99, non2xx: r.non2xx, errors: r.errors + r.timeouts }),
    );
  });
}

/** One bounded run: the load, and the server process's CPU time per request over it. */
async function measure(s, run, seconds = SECONDS) {
  const before = await stats(s);
  const res =
    run.tool === 'autocannon'
      ? await loadAutocannon(s.port, seconds)
      : await runLoad({ port: s.port, connections: CONNECTIONS, seconds, newConnection: run.mode === 'new-connection', tlsOptions: clientTls });
  const after = await stats(s);
  const served = after.requests - before.requests;
  const timed = after.mtlsCount - before.mtlsCount;
  return {
    ...res,
    serverCpuUsPerRequest: served > 0 ? (after.cpuUs - before.cpuUs) / served : NaN,
    serverCpuShare: (after.cpuUs - before.cpuUs) / 1e6 / (res.seconds ?? seconds),
    ...(timed > 0 ? { mtlsUsPerRequest: (after.mtlsNs - before.mtlsNs) / 1000 / timed, mtlsTimedShare: timed / served } : {}),
  };
}

// What is measured: keep-alive with autocannon and with the raw-TLS loader (a cross-check), and a
// new connection per request with the raw-TLS loader (autocannon's reconnectRate does not count).
const RUNS = [
  { id: 'keep-alive', mode: 'keep-alive', tool: 'autocannon' },
  { id: 'keep-alive (raw TLS loader)', mode: 'keep-alive', tool: 'raw' },
  { id: 'new-connection', mode: 'new-connection', tool: 'raw' },
];

const servers = [];
try {
  for (const k of KINDS) servers.push(await startServer(k));
  const checks = {};
  for (const s of servers) {
    checks[s.kind] = {
      validClient: await probe(s.port, clientTls),
      noCertificate: await probe(s.port, {}),
      otherCa: await probe(s.port, { cert: stranger.pem, key: stranger.keyPem }),
    };
    log(`[http] ${s.kind} on 127.0.0.1:${s.port}: valid ${JSON.stringify(checks[s.kind].validClient)}, none ${JSON.stringify(checks[s.kind].noCertificate)}, other CA ${JSON.stringify(checks[s.kind].otherCa)}`);
    if (checks[s.kind].validClient.status !== 200) throw new Error(`${s.kind} does not accept the valid client`);
  }
  const runs = Object.fromEntries(RUNS.map((r) => [r.id, Object.fromEntries(KINDS.map((k) => [k, []]))]));
  // Warm-up: one short run per server and kind of run.
  for (const run of RUNS) for (const s of servers) await measure(s, run, 1);
  for (let r = 0; r < ROUNDS; r++) {
    for (const run of RUNS) {
      const order = servers.map((_, i) => servers[(i + r) % servers.length]);
      for (const s of order) {
        const row = await measure(s, run);
        runs[run.id][s.kind].push(row);
        log(`[http] round ${r + 1} ${run.id.padEnd(27)} ${s.kind.padEnd(17)} ${row.rps.toFixed(0).padStart(6)} req/s  p99 ${row.p99ms.toFixed(1)} ms  server ${row.serverCpuUsPerRequest.toFixed(1)} µs CPU/request (${(100 * row.serverCpuShare).toFixed(0)}% of a core)${row.non2xx || row.errors ? `  non2xx ${row.non2xx} errors ${row.errors}` : ''}`);
      }
    }
  }
  const summary = {};
  for (const run of RUNS) {
    const sm = {};
    for (const k of KINDS) {
      const rs = runs[run.id][k];
      sm[k] = {
        rps: median(rs.map((x) => x.rps)),
        p99ms: median(rs.map((x) => x.p99ms)),
        p50ms: median(rs.map((x) => x.p50ms)),
        serverCpuUsPerRequest: median(rs.map((x) => x.serverCpuUsPerRequest)),
        serverCpuShare: median(rs.map((x) => x.serverCpuShare)),
        ...(rs.some((x) => x.mtlsUsPerRequest !== undefined) ? { mtlsUsPerRequest: median(rs.map((x) => x.mtlsUsPerRequest ?? NaN)), mtlsTimedShare: median(rs.map((x) => x.mtlsTimedShare ?? 0)) } : {}),
        requests: rs.reduce((a, x) => a + x.requests, 0),
        non2xx: rs.reduce((a, x) => a + x.non2xx, 0),
        errors: rs.reduce((a, x) => a + x.errors, 0),
      };
    }
    sm.ratios = {
      expressCertgateOverHttpsOpenssl: sm['express-certgate'].rps / sm['https-openssl'].rps,
      expressCertgateOverExpressOpenssl: sm['express-certgate'].rps / sm['express-openssl'].rps,
      expressCertgateOverExpressOpensslMw: sm['express-certgate'].rps / sm['express-openssl-mw'].rps,
      httpsCertgateOverHttpsOpenssl: sm['https-certgate'].rps / sm['https-openssl'].rps,
    };
    summary[run.id] = sm;
  }
  const result = { machine: machine(), seconds: SECONDS, rounds: ROUNDS, connections: CONNECTIONS, client: 'EC P-256 leaf + intermediate, TLS as negotiated by default (TLS 1.3)', checks, runs, summary };
  if (out) writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  else console.log(JSON.stringify(result, null, 2));
} finally {
  for (const s of servers) {
    s.child.removeAllListeners('exit');
    s.child.disconnect();
    s.child.kill();
  }
  rmSync(tmp, { recursive: true, force: true });
}
