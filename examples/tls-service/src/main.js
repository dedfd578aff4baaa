// @ts-check
/**
 * `pnpm start`: the raw TLS line service. Environment: PORT (default 8444; 0 picks a free port),
 * HOST (127.0.0.1), CERTGATE_DATA_DIR (./data of this example), CERTGATE_APP_NAME.
 *
 * The mTLS settings are read from the file store in the data directory and followed while running.
 * Point CERTGATE_DATA_DIR at the console's data directory (examples/console/data) and the console's
 * settings drive this service: upload a CA and enforce there, and this service closes the door on
 * clients without a valid certificate at once — open connections included.
 *
 * The server certificate: `server-cert.pem` / `server-key.pem` of the data directory (the console's
 * when you share its directory); when missing, a development CA and certificate for localhost are
 * generated there once (`tls-service-dev-ca.pem`, `tls-service-cert.pem`, `tls-service-key.pem`).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createController, createFileSettingsStore } from '@certgate/core';
import { createTlsService } from './service.js';

const env = process.env;
const port = env.PORT === undefined || env.PORT === '' ? 8444 : Number(env.PORT);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, not ${JSON.stringify(env.PORT)}`);
  process.exit(2);
}
const host = env.HOST || '127.0.0.1';
const dataDir = env.CERTGATE_DATA_DIR || fileURLToPath(new URL('../data', import.meta.url));

/** @returns {Promise<{ key: string, cert: string }>} */
async function serverCertificate() {
  const shared = { cert: join(dataDir, 'server-cert.pem'), key: join(dataDir, 'server-key.pem') };
  if (existsSync(shared.cert) && existsSync(shared.key)) return { cert: readFileSync(shared.cert, 'utf8'), key: readFileSync(shared.key, 'utf8') };
  const own = { ca: join(dataDir, 'tls-service-dev-ca.pem'), cert: join(dataDir, 'tls-service-cert.pem'), key: join(dataDir, 'tls-service-key.pem') };
  if (existsSync(own.cert) && existsSync(own.key)) return { cert: readFileSync(own.cert, 'utf8'), key: readFileSync(own.key, 'utf8') };
  // Development only: the test PKI of @certgate/core (keys in memory, written unprotected but 0600).
  const { createCa } = await import('@certgate/core/testing');
  const ca = await createCa({ subject: 'CN=certgate tls-service dev CA' });
  const server = await ca.issueServer();
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(own.ca, ca.pem);
  writeFileSync(own.cert, server.pem);
  writeFileSync(own.key, server.keyPem, { mode: 0o600 });
  console.log(`generated a development server certificate; its CA is ${own.ca}`);
  return { cert: server.pem, key: server.keyPem };
}

try {
  const { key, cert } = await serverCertificate();
  const store = await createFileSettingsStore({ dir: dataDir });
  const controller = await createController({ store, appName: env.CERTGATE_APP_NAME || 'the TLS service' });
  const { server, attachment } = createTlsService({ controller, key, cert });
  server.listen(port, host, () => {
    const a = /** @type {import('node:net').AddressInfo} */ (server.address());
    const mode = attachment.applied().mode;
    console.log(`certgate tls-service listening on ${a.address}:${a.port} (mode ${mode})`);
    console.log(`try: openssl s_client -connect ${a.address}:${a.port} -quiet [-cert client.pem -key client-key.pem]`);
  });
  const stop = () => {
    attachment.detach();
    controller.close();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (err) {
  console.error(`certgate tls-service failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
