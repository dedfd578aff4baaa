/** One HTTP(S) request on a fresh connection (127.0.0.1 / ::1 only), its answer read whole. */
import http from 'node:http';
import https from 'node:https';

export interface Answer {
  status: number;
  text: string;
  /** The body parsed as JSON; undefined when it is not JSON (e.g. a proxy's own HTML error page). */
  json: any;
}

/** `options` as for `http.request` / `https.request` (`tls: true` picks HTTPS); `agent: false` unless given. */
export function request(options: https.RequestOptions & { tls?: boolean }, body?: string): Promise<Answer> {
  const { tls, ...rest } = options;
  return new Promise((resolve, reject) => {
    const done = (res: http.IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, text, json });
      });
    };
    const req = tls ? https.request({ agent: false, ...rest }, done) : http.request({ agent: false, ...rest }, done);
    req.on('error', reject);
    req.end(body);
  });
}
