// @ts-check
/**
 * The certgate settings console (Express over HTTPS): DESIGN §5.2. `startConsole()` is what
 * `src/main.js` (the `pnpm start` entry) and the tests call.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import express from 'express';
import { mtls, settingsRouter } from '@certgate/express';
import { guardRequestTarget, listenConsole, prepareConsole } from './startup.js';

/**
 * The console's web page (`public/`): plain HTML/CSS/JS, read once at start, served with a strict
 * CSP (no inline script or style). Loaded without the password; the certificate gate still applies.
 */
const PUBLIC_DIR = new URL('../public/', import.meta.url);
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
/** @type {Record<string, { type: string, body: Buffer }>} */
const PAGE_FILES = {
  '/': { type: 'text/html; charset=utf-8', body: readFileSync(new URL('index.html', PUBLIC_DIR)) },
  '/app.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('app.js', PUBLIC_DIR)) },
  '/style.css': { type: 'text/css; charset=utf-8', body: readFileSync(new URL('style.css', PUBLIC_DIR)) },
};

/** @typedef {import('./startup.js').ConsoleOptions} ConsoleOptions */

/**
 * Starts the console. Resolves once it listens.
 * @param {ConsoleOptions} options
 */
export async function startConsole(options) {
  const prepared = await prepareConsole(options);
  const { controller, password } = prepared;

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // The page's paths exactly, as the Koa console serves them: /APP.JS or /app.js/ are 404s, not the script.
  app.set('case sensitive routing', true);
  app.set('strict routing', true);
  const { forwarded } = prepared;
  app.use(mtls(controller, { forwarded }));
  app.use(settingsRouter(controller, { authenticate: (_user, pw) => password.check(pw), metrics: { access: prepared.metricsAccess }, forwarded }));
  for (const [path, file] of Object.entries(PAGE_FILES)) {
    app.get(path, (_req, res) => {
      res.set({ 'content-type': file.type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      res.set({ 'content-security-policy': PAGE_CSP, 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' });
      res.send(file.body);
    });
  }
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'NOT_FOUND', message: 'Not found.' } });
  });
  app.use(
    /** @type {import('express').ErrorRequestHandler} */
    (err, _req, res, _next) => {
      console.error('[console] request failed:', err instanceof Error ? err.message : err);
      if (res.headersSent) return void res.end();
      res.status(500).json({ error: { code: 'INTERNAL', message: 'The request failed.' } });
    },
  );

  const server = https.createServer({ key: prepared.tlsMaterial.key, cert: prepared.tlsMaterial.cert, minVersion: 'TLSv1.2' }, guardRequestTarget(app));
  return listenConsole(server, prepared, 'certgate console');
}
