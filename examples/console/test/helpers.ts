/**
 * Helpers for the console tests: an HTTPS client (real TLS on 127.0.0.1, a fresh connection per call
 * unless an agent is given) and consoles started on throw-away data directories.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { TestCertificate } from '@certgate/core/testing';
import type { ConsoleOptions } from '../src/startup.js';

export interface CallOptions {
  cert?: TestCertificate | null;
  /** A JSON value (serialised) or a raw string / Buffer body. */
  body?: unknown;
  raw?: string | Buffer;
  /** Basic-auth password for user admin; false for none. */
  password?: string | false;
  user?: string;
  accept?: string;
  agent?: https.Agent;
  /** Extra request headers. */
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
  reusedSocket: boolean;
}

export function makeCaller(getTarget: () => { port: number; ca: string }, defaultPassword: string) {
  return function call(method: string, path: string, o: CallOptions = {}): Promise<CallResult> {
    const { port, ca } = getTarget();
    const headers: Record<string, string> = { accept: o.accept ?? 'application/json', ...o.headers };
    const password = o.password === undefined ? defaultPassword : o.password;
    if (password !== false) headers.authorization = `Basic ${Buffer.from(`${o.user ?? 'admin'}:${password}`).toString('base64')}`;
    let payload: Buffer | undefined;
    if (o.raw !== undefined) payload = Buffer.isBuffer(o.raw) ? o.raw : Buffer.from(o.raw);
    else if (o.body !== undefined) payload = Buffer.from(JSON.stringify(o.body));
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    }
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port,
          method,
          path,
          headers,
          ca,
          servername: 'localhost',
          ...(o.cert ? { cert: o.cert.pem, key: o.cert.keyPem } : {}),
          ...(o.agent ? { agent: o.agent } : { agent: false }),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown = undefined;
            try {
              json = JSON.parse(text);
            } catch {
              // not JSON
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json, reusedSocket: req.reusedSocket });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (payload) req.end(payload);
      else req.end();
    });
  };
}

/** The value of one sample of the Prometheus text (0 when absent). */
export function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (Object.keys(labels).length === 0 && line.startsWith(`${name} `)) return Number(line.slice(name.length + 1));
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.indexOf('}'));
    const got = Object.fromEntries(body.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 2, -1)]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(line.slice(line.indexOf('}') + 2));
  }
  return 0;
}

/** What a console's start returns, as far as {@link consoleFixture} needs it. */
export interface StartedConsole {
  port: number;
  devCaPem: string;
  close(): Promise<void>;
}

/**
 * Consoles a test file starts one at a time on throw-away data directories (the Express and the Koa
 * console alike): `start` makes the console it starts the current one, which `call` talks to; after
 * each test the current console is closed and the directories are removed.
 */
export function consoleFixture<C extends StartedConsole>(
  startConsole: (options: ConsoleOptions) => Promise<C>,
  defaults: Omit<ConsoleOptions, 'dataDir'> & { adminPassword: string },
  dirPrefix: string,
) {
  let current: C | null = null;
  const dirs: string[] = [];
  afterEach(async () => {
    const c = current;
    current = null;
    await c?.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const tempDir = (): string => {
    const d = mkdtempSync(join(tmpdir(), dirPrefix));
    dirs.push(d);
    return d;
  };
  return {
    tempDir,
    call: makeCaller(() => {
      if (!current) throw new Error('consoleFixture: no console started');
      return { port: current.port, ca: current.devCaPem };
    }, defaults.adminPassword),
    /** Starts a console on `dataDir` (default: a fresh one) with the defaults and `extra`; it becomes the current one. */
    async start(dataDir: string = tempDir(), extra: Partial<ConsoleOptions> = {}): Promise<C> {
      current = await startConsole({ port: 0, pollIntervalMs: 50, log: () => {}, ...defaults, ...extra, dataDir });
      return current;
    },
  };
}

/**
 * A plain HTTP server on 127.0.0.1 for the file's tests (a CRL distribution point, an OCSP responder),
 * started before them and closed after them: `on(handler)` serves requests with `handler`, `url(path)`
 * is its address.
 */
export function localHttpServer(): { on(handler: http.RequestListener): void; url(path: string): string } {
  let server: http.Server;
  beforeAll(async () => {
    server = http.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return {
    on: (handler) => void server.on('request', handler),
    url: (path) => `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
  };
}
