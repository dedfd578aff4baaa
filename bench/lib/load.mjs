/**
 * A small HTTPS load generator over raw TLS sockets (127.0.0.1 only), for the runs autocannon cannot
 * count: a new TLS connection per request (autocannon's `reconnectRate` drops the response of the
 * request that triggers the reconnect from its counts). Also usable for keep-alive.
 *
 * `connections` loops run concurrently until `seconds` have passed; each sends `GET /` and reads
 * one response (status line, Content-Length body). Bounded in time, and in requests by `maxRequests`.
 */
import tls from 'node:tls';
import { percentile } from './common.mjs';

const REQUEST_KEEP = Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
const REQUEST_CLOSE = Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');

/** Reads HTTP/1.1 responses from a socket; calls `onResponse(status)` for each complete one. */
function responseReader(onResponse) {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      const status = Number(head.slice(9, 12));
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const len = m ? Number(m[1]) : 0;
      if (buf.length < end + 4 + len) return;
      buf = buf.subarray(end + 4 + len);
      onResponse(status);
    }
  };
}

/**
 * @param {{ port: number, connections: number, seconds: number, newConnection: boolean, tlsOptions: object, maxRequests?: number }} o
 * @returns {Promise<{ requests: number, rps: number, p50ms: number, p99ms: number, non2xx: number, errors: number, seconds: number }>}
 */
export async function runLoad({ port, connections, seconds, newConnection, tlsOptions, maxRequests = 5_000_000 }) {
  const latencies = [];
  let non2xx = 0;
  let errors = 0;
  let requests = 0;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const more = () => performance.now() < deadline && requests < maxRequests;
  const connect = () => tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...tlsOptions });

  const record = (start, status) => {
    requests++;
    latencies.push(performance.now() - start);
    if (status < 200 || status > 299) non2xx++;
  };

  async function keepAliveLoop() {
    while (more()) {
      await new Promise((resolve) => {
        const sock = connect();
        let start = 0;
        let open = true;
        const finish = () => {
          if (!open) return;
          open = false;
          sock.destroy();
          resolve();
        };
        sock.on(
          'data',
          responseReader((status) => {
            record(start, status);
            if (!more()) return finish();
            start = performance.now();
            sock.write(REQUEST_KEEP);
          }),
        );
        sock.on('secureConnect', () => {
          start = performance.now();
          sock.write(REQUEST_KEEP);
        });
        sock.on('error', () => {
          errors++;
          finish();
        });
        sock.on('close', finish);
      });
    }
  }

  async function newConnectionLoop() {
    while (more()) {
      await new Promise((resolve) => {
        const start = performance.now();
        const sock = connect();
        let done = false;
        const finish = (ok) => {
          if (done) return;
          done = true;
          if (!ok) errors++;
          sock.destroy();
          resolve();
        };
        sock.on(
          'data',
          responseReader((status) => {
            record(start, status);
            finish(true);
          }),
        );
        sock.on('secureConnect', () => sock.write(REQUEST_CLOSE));
        sock.on('error', () => finish(false));
        sock.on('close', () => finish(true));
      });
    }
  }

  await Promise.all(Array.from({ length: connections }, () => (newConnection ? newConnectionLoop() : keepAliveLoop())));
  const elapsed = (performance.now() - t0) / 1000;
  return {
    requests,
    rps: requests / elapsed,
    p50ms: percentile(latencies, 50),
    p99ms: percentile(latencies, 99),
    non2xx,
    errors,
    seconds: elapsed,
  };
}
