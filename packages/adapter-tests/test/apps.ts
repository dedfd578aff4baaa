/**
 * The same two routes in every framework under test, each on its own HTTPS server on 127.0.0.1 with
 * the controller attached through `@certgate/tls`:
 * - `GET /check`: the gate with the route's rules (`rules` below), then a handler that echoes what
 *   was attached;
 * - `GET /open`: the gate without rules, same handler.
 * The handler's body: `{ action, fingerprint, authorized }` from the attached decision.
 * With `settings` options, the settings router (DESIGN §5.2) is mounted too (raw: core `createConsoleApi`).
 */
import { once } from 'node:events';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express4 from 'express4';
import express5 from 'express5';
import koa2 from 'koa2';
import koa3 from 'koa3';
import { authorize, createConsoleApi, denialResponse, readRequestBody, type ConsoleApiOptions, type Controller, type Decision, type Rule } from '@certgate/core';
import { attachController, decideSocket, http2Gate, peerChainFromSocket } from '@certgate/tls';
import { mtls as expressMtls, settingsRouter as expressSettings } from '@certgate/express';
import { mtls as koaMtls, settingsRouter as koaSettings } from '@certgate/koa';

export type AdapterName = 'express4' | 'express5' | 'koa2' | 'koa3' | 'raw-https' | 'raw-http2';
/** Every adapter with the settings router too (HTTP/1.1). */
export const ADAPTERS: readonly AdapterName[] = ['express4', 'express5', 'koa2', 'koa3', 'raw-https'];
/** Every way to gate a request: the adapters, plus HTTP/2 streams through `http2Gate` (no settings router there). */
export const GATES: readonly AdapterName[] = [...ADAPTERS, 'raw-http2'];

export interface RunningApp {
  name: AdapterName;
  /** The protocol clients must speak: HTTP/1.1 over TLS, or HTTP/2 (ALPN h2 only). */
  protocol: 'h1' | 'h2';
  port: number;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

function echo(d: Decision | undefined): { action: string | null; fingerprint: string | null; authorized: boolean | null } {
  return { action: d?.action ?? null, fingerprint: d?.identity?.fingerprint256 ?? null, authorized: d?.authorization?.allowed ?? null };
}

function expressApp(make: typeof express5, controller: Controller, rules: Rule, settings?: ConsoleApiOptions): Handler {
  const app = make();
  // the gate app-wide, then the router (it passes other paths on); the routes' own gates compose with it
  if (settings) app.use(expressMtls(controller), expressSettings(controller, settings));
  const handler = (req: express5.Request, res: express5.Response): void => void res.json(echo(req.clientCertificate));
  app.get('/check', expressMtls(controller, { rules }), handler);
  app.get('/open', expressMtls(controller), handler);
  return app as unknown as Handler;
}

function koaApp(Make: typeof koa3, controller: Controller, rules: Rule, settings?: ConsoleApiOptions): Handler {
  const app = new Make();
  if (settings) {
    app.use(koaMtls(controller) as never);
    app.use(koaSettings(controller, settings) as never);
  }
  const ruled = koaMtls(controller, { rules });
  const open = koaMtls(controller);
  // Koa has no router of its own: mount the gate per path, as @koa/router would.
  app.use(async (ctx, next) => {
    const gate = ctx.path === '/check' ? ruled : ctx.path === '/open' ? open : null;
    if (!gate) return next();
    await gate(ctx as never, async () => {
      ctx.body = echo(ctx.state.clientCertificate);
    });
  });
  return app.callback() as unknown as Handler;
}

/** No framework: `decideSocket` + core `authorize` + `denialResponse`, written by hand. */
function rawApp(controller: Controller, rules: Rule, settings?: ConsoleApiOptions): Handler {
  const api = settings ? createConsoleApi(controller, settings) : null;
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (api && path.startsWith('/api')) {
      decideSocket(controller, req.socket)
        .then((decision) => api.handle({ method: req.method ?? 'GET', path, headers: req.headers, decision, peerChain: peerChainFromSocket(req.socket), readBody: (n) => readRequestBody(req, n) }))
        .then((r) => (r ? res.writeHead(r.status, r.headers).end(r.body) : res.writeHead(404).end()))
        .catch(() => res.writeHead(500).end());
      return;
    }
    if (path !== '/check' && path !== '/open') {
      res.writeHead(404).end();
      return;
    }
    decideSocket(controller, req.socket)
      .then((d) => authorize(d, path === '/check' ? rules : undefined, controller.appName))
      .then((d) => {
        if (d.action === 'deny') {
          const r = denialResponse(d, { path, headers: req.headers });
          res.writeHead(r.status, r.headers).end(r.body);
        } else {
          res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(echo(d)));
        }
      })
      .catch(() => res.writeHead(500).end());
  };
}

/**
 * HTTP/2 without a framework: `http2Gate` denies a stream whose connection's decision is a denial;
 * the route's rules are then applied with core `authorize`, as the raw https app does.
 */
async function startHttp2(controller: Controller, rules: Rule, tls: { key: string; cert: string }): Promise<RunningApp> {
  const server = http2.createSecureServer({ key: tls.key, cert: tls.cert });
  const attachment = attachController(server, controller);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  const gate = http2Gate(controller);
  server.on(
    'stream',
    gate.stream((stream, headers, decision) => {
      const path = String(headers[':path'] ?? '/').split('?')[0]!;
      if (path !== '/check' && path !== '/open') {
        stream.respond({ ':status': 404 });
        stream.end();
        return;
      }
      authorize(decision, path === '/check' ? rules : undefined, controller.appName).then(
        (d) => {
          if (stream.destroyed) return;
          if (d.action === 'deny') {
            const r = denialResponse(d, { path, headers });
            stream.respond({ ':status': r.status, ...r.headers });
            stream.end(r.body);
          } else {
            stream.respond({ ':status': 200, 'content-type': 'application/json; charset=utf-8' });
            stream.end(JSON.stringify(echo(d)));
          }
        },
        () => {
          if (!stream.destroyed) stream.respond({ ':status': 500 });
          stream.end();
        },
      );
    }),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    name: 'raw-http2',
    protocol: 'h2',
    port: (server.address() as AddressInfo).port,
    async close() {
      attachment.detach();
      for (const s of sessions) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Starts `name` on 127.0.0.1 (port 0) with the given TLS server credentials. */
export async function startApp(name: AdapterName, controller: Controller, rules: Rule, tls: { key: string; cert: string }, settings?: ConsoleApiOptions): Promise<RunningApp> {
  if (name === 'raw-http2') {
    if (settings) throw new Error('the HTTP/2 app has no settings router');
    return startHttp2(controller, rules, tls);
  }
  const handler =
    name === 'express4' ? expressApp(express4, controller, rules, settings)
    : name === 'express5' ? expressApp(express5, controller, rules, settings)
    : name === 'koa2' ? koaApp(koa2, controller, rules, settings)
    : name === 'koa3' ? koaApp(koa3, controller, rules, settings)
    : rawApp(controller, rules, settings);
  const server = https.createServer({ key: tls.key, cert: tls.cert }, handler);
  const attachment = attachController(server, controller);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    name,
    protocol: 'h1',
    port: (server.address() as AddressInfo).port,
    async close() {
      attachment.detach();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
