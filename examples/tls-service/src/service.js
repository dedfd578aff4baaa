// @ts-check
/**
 * A raw TLS line service behind certgate (`tls.createServer` + `attachController` with
 * `rejectInHandshake`). The protocol, one command per line (UTF-8, at most 1024 bytes):
 *
 *   server → `HELLO <certificate subject>` for a validated client, `HELLO guest` for one admitted
 *            without a validated certificate (`disabled`, or `optional`)
 *   WHOAMI → `YOU <subject> <sha256 fingerprint>` or `YOU guest`
 *   PING   → `PONG`
 *   QUIT   → `BYE`, then the server closes
 *   other  → `ERR unknown command`
 *
 * Doors: in `enforced`, a client without a certificate that validates against the uploaded CA never
 * reaches this code — certgate writes `DENIED <code>: <message>` and closes the connection. After a
 * settings change, connections that are now denied are closed the same way; every command is also
 * decided under the current settings before it is answered.
 */
import tls from 'node:tls';
import { attachController, decideSocket } from '@certgate/tls';

/** Longest line the service reads; a longer one ends the connection. */
export const MAX_LINE = 1024;

/**
 * @param {import('@certgate/core').Decision} d
 * @returns {string}
 */
function deniedLine(d) {
  const code = d.denial?.code ?? 'DENIED';
  const message = (d.denial?.message ?? 'Access denied.').replace(/[\r\n]+/g, ' ');
  return `DENIED ${code}: ${message}\n`;
}

/**
 * @param {import('@certgate/core').Decision} d
 * @returns {string} the client's name for the greeting
 */
function nameOf(d) {
  return d.action === 'allow' && d.identity ? d.identity.subject : 'guest';
}

/**
 * Creates the service (not listening yet).
 *
 * @param {{ controller: import('@certgate/core').Controller, key: string | Buffer, cert: string | Buffer,
 *   onError?: (e: Error) => void }} options
 * @returns {{ server: tls.Server, attachment: import('@certgate/tls').Attachment, served: () => number }}
 *   `served`: how many connections reached the service code (refused ones never do)
 */
export function createTlsService(options) {
  const { controller } = options;
  let served = 0;
  const server = tls.createServer({ key: options.key, cert: options.cert, minVersion: 'TLSv1.2' }, (socket) => {
    served++;
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    let buffer = '';
    let busy = Promise.resolve();

    /** @param {string} line */
    async function answer(line) {
      const d = await decideSocket(controller, socket);
      if (socket.destroyed) return;
      if (d.action === 'deny') {
        socket.end(deniedLine(d));
        return;
      }
      const cmd = line.trim().toUpperCase();
      if (cmd === 'QUIT') socket.end('BYE\n');
      else if (cmd === 'PING') socket.write('PONG\n');
      else if (cmd === 'WHOAMI') socket.write(d.action === 'allow' && d.identity ? `YOU ${d.identity.subject} ${d.identity.fingerprint256}\n` : 'YOU guest\n');
      else socket.write('ERR unknown command\n');
    }

    socket.on('data', (chunk) => {
      buffer += chunk;
      let i;
      while ((i = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        busy = busy.then(() => answer(line)); // answers keep the order of the commands
      }
      if (Buffer.byteLength(buffer) > MAX_LINE) {
        buffer = '';
        socket.end('ERR line too long\n');
      }
    });

    decideSocket(controller, socket).then((d) => {
      // rejectInHandshake already refused denied connections; decide again only to name the client
      if (!socket.destroyed) socket.write(d.action === 'deny' ? deniedLine(d) : `HELLO ${nameOf(d)}\n`);
      if (d.action === 'deny') socket.end();
    });
  });
  const attachment = attachController(server, controller, {
    rejectInHandshake: true,
    onHandshakeDenied: (socket, d) => socket.write(deniedLine(d)),
    ...(options.onError ? { onError: options.onError } : {}),
  });
  return { server, attachment, served: () => served };
}
