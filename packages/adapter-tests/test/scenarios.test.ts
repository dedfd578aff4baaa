/**
 * The shared scenario table (team issue #6): modes × clients × routes, through Express 4, Express 5,
 * Koa 2, Koa 3, a raw `https` server and a raw HTTP/2 server (`http2Gate`, real h2 streams), all over
 * real TLS on 127.0.0.1 and one controller. For every
 * cell, each adapter's verdict (status, denial code + reason, action, attached identity fingerprint,
 * rule outcome) must equal the expected one — and so each other.
 *
 * "Settings changed mid-connection": a keep-alive connection is opened while `optional` (one
 * request), the mode is then changed to the row's mode, and the next request on the *same*
 * connection must get the row's verdict. Over HTTP/2 the connection is the session: the next request is
 * a new stream of the same session.
 */
import http2 from 'node:http2';
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowCommonNames, createController, createMemorySettingsStore, type Controller, type Mode } from '@certgate/core';
import { createCa, issueExpired, issueWrongEku, type TestCa, type TestCertificate } from '@certgate/core/testing';
import { GATES, startApp, type AdapterName, type RunningApp } from './apps.js';

const APP = 'Scenario App';
const rules = allowCommonNames('alice');

interface Verdict {
  status: number;
  code: string | null;
  reason: string | null;
  action: string | null;
  fingerprint: string | null;
  authorized: boolean | null;
}

let serverCa: TestCa;
let server: TestCertificate;
let ca: TestCa;
let otherCa: TestCa;
const clients: Record<string, TestCertificate> = {};
let controller: Controller;
const apps: RunningApp[] = [];

/** A connection kept open between requests: an HTTP/1.1 keep-alive agent, or an HTTP/2 session. */
type Kept = https.Agent | http2.ClientHttp2Session;
const streamsOn = new WeakMap<http2.ClientHttp2Session, number>();

function parseVerdict(status: number, text: string, reused: boolean): Verdict & { reused: boolean } {
  let j: Record<string, any> = {};
  try {
    j = JSON.parse(text);
  } catch {
    // compared as an empty body
  }
  return {
    status,
    code: j.error?.code ?? null,
    reason: j.error?.reason ?? null,
    action: j.action ?? null,
    fingerprint: j.fingerprint ?? null,
    authorized: j.authorized ?? null,
    reused,
  };
}

function connectH2(app: RunningApp, cert: TestCertificate | null): http2.ClientHttp2Session {
  return http2.connect(`https://127.0.0.1:${app.port}`, { ca: serverCa.pem, servername: 'localhost', ...(cert ? { cert: cert.pem, key: cert.keyPem } : {}) });
}

/** One HTTP/2 request: on `session` (a new stream of it) or on a session of its own, closed after. */
function requestH2(app: RunningApp, path: string, cert: TestCertificate | null, session?: http2.ClientHttp2Session): Promise<Verdict & { reused: boolean }> {
  return new Promise((resolve, reject) => {
    const s = session ?? connectH2(app, cert);
    const reused = (streamsOn.get(s) ?? 0) > 0;
    streamsOn.set(s, (streamsOn.get(s) ?? 0) + 1);
    const fail = (e: Error) => {
      if (!session) s.destroy();
      reject(e);
    };
    s.once('error', fail);
    const req = s.request({ ':path': path, accept: 'application/json' });
    let status = 0;
    let text = '';
    req.setEncoding('utf8');
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', (d: string) => (text += d));
    req.on('error', fail);
    req.on('end', () => {
      s.off('error', fail);
      if (!session) s.close();
      resolve(parseVerdict(status, text, reused));
    });
    req.end();
  });
}

function request(app: RunningApp, path: string, cert: TestCertificate | null, kept?: Kept): Promise<Verdict & { reused: boolean }> {
  if (app.protocol === 'h2') return requestH2(app, path, cert, kept as http2.ClientHttp2Session | undefined);
  const agent = (kept as https.Agent | undefined) ?? false;
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: app.port,
        path,
        headers: { accept: 'application/json' },
        ca: serverCa.pem,
        servername: 'localhost',
        agent,
        ...(cert ? { cert: cert.pem, key: cert.keyPem } : {}),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve(parseVerdict(res.statusCode ?? 0, text, req.reusedSocket)));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function setMode(mode: Mode): Promise<void> {
  const admin = { actor: 'table', peerChain: [clients.alice!.der] };
  const r =
    mode === 'disabled' ? await controller.save({ enabled: false, enforce: false }, admin)
    : mode === 'optional' ? await controller.save({ enabled: true, enforce: false, caPem: ca.pem }, admin)
    : await controller.save({ enabled: true, enforce: true, caPem: ca.pem }, admin);
  expect(r.ok && !('refusal' in r && r.refusal) && r.state.mode).toBe(mode);
}

beforeAll(async () => {
  serverCa = await createCa({ subject: 'CN=Scenario Server CA' });
  server = await serverCa.issueServer();
  ca = await createCa({ subject: 'CN=Scenario Client CA' });
  otherCa = await createCa({ subject: 'CN=Scenario Other CA' });
  clients.alice = await ca.issue({ subject: 'CN=alice' });
  clients.bob = await ca.issue({ subject: 'CN=bob' });
  clients.expired = await issueExpired(ca, { subject: 'CN=alice' });
  clients.otherCa = await otherCa.issue({ subject: 'CN=alice' });
  clients.wrongEku = await issueWrongEku(ca, { subject: 'CN=alice' });
  controller = await createController({ store: createMemorySettingsStore(), appName: APP });
  for (const name of GATES) apps.push(await startApp(name, controller, rules, { key: server.keyPem, cert: server.pem }));
});

afterAll(async () => {
  for (const a of apps) await a.close();
  controller?.close();
});

type Client = 'none' | 'valid' | 'expired' | 'otherCa' | 'wrongEku' | 'notAllowed';
const CLIENT_CERT: Record<Client, string | null> = { none: null, valid: 'alice', expired: 'expired', otherCa: 'otherCa', wrongEku: 'wrongEku', notAllowed: 'bob' };

const ok = (action: string, fingerprint: 'alice' | 'bob' | null, authorized: boolean | null): Verdict => ({ status: 200, code: null, reason: null, action, fingerprint, authorized });
const denied = (code: string, reason: string | null = null): Verdict => ({ status: 403, code, reason, action: null, fingerprint: null, authorized: null });

/** The expected verdict of every cell: mode → route → client. `fingerprint` names the client whose fingerprint is attached. */
const TABLE: Record<Mode, Record<'/check' | '/open', Record<Client | 'midConnection', Verdict>>> = {
  disabled: {
    // no certificate is even requested: nothing validated, rules not evaluated
    '/check': { none: ok('allow', null, null), valid: ok('allow', null, null), expired: ok('allow', null, null), otherCa: ok('allow', null, null), wrongEku: ok('allow', null, null), notAllowed: ok('allow', null, null), midConnection: ok('allow', null, null) },
    '/open': { none: ok('allow', null, null), valid: ok('allow', null, null), expired: ok('allow', null, null), otherCa: ok('allow', null, null), wrongEku: ok('allow', null, null), notAllowed: ok('allow', null, null), midConnection: ok('allow', null, null) },
  },
  optional: {
    // never denied; a failure is reported on the request
    '/check': {
      none: ok('allow-unverified', null, false),
      valid: ok('allow', 'alice', true),
      expired: ok('allow-unverified', null, false),
      otherCa: ok('allow-unverified', null, false),
      wrongEku: ok('allow-unverified', null, false),
      notAllowed: ok('allow-unverified', 'bob', false),
      midConnection: ok('allow-unverified', null, false),
    },
    '/open': {
      none: ok('allow-unverified', null, null),
      valid: ok('allow', 'alice', null),
      expired: ok('allow-unverified', null, null),
      otherCa: ok('allow-unverified', null, null),
      wrongEku: ok('allow-unverified', null, null),
      notAllowed: ok('allow', 'bob', null),
      midConnection: ok('allow-unverified', null, null),
    },
  },
  enforced: {
    '/check': {
      none: denied('CLIENT_CERT_MISSING'),
      valid: ok('allow', 'alice', true),
      expired: denied('CLIENT_CERT_UNTRUSTED', 'EXPIRED'),
      otherCa: denied('CLIENT_CERT_UNTRUSTED', 'UNKNOWN_ISSUER'),
      wrongEku: denied('CLIENT_CERT_UNTRUSTED', 'EKU_MISMATCH'),
      notAllowed: denied('NOT_ALLOWED'),
      midConnection: denied('CLIENT_CERT_MISSING'),
    },
    '/open': {
      none: denied('CLIENT_CERT_MISSING'),
      valid: ok('allow', 'alice', null),
      expired: denied('CLIENT_CERT_UNTRUSTED', 'EXPIRED'),
      otherCa: denied('CLIENT_CERT_UNTRUSTED', 'UNKNOWN_ISSUER'),
      wrongEku: denied('CLIENT_CERT_UNTRUSTED', 'EKU_MISMATCH'),
      notAllowed: ok('allow', 'bob', null),
      midConnection: denied('CLIENT_CERT_MISSING'),
    },
  },
};

function expected(v: Verdict): Verdict {
  const fp = v.fingerprint === null ? null : clients[v.fingerprint]!.fingerprint256;
  return { ...v, fingerprint: fp };
}

const MODES: Mode[] = ['disabled', 'optional', 'enforced'];
const ROUTES = ['/check', '/open'] as const;
const CLIENTS = Object.keys(CLIENT_CERT) as Client[];

for (const mode of MODES) {
  describe(`mode ${mode}`, () => {
    // keep-alive connections without a certificate, opened while optional, one per adapter and route
    const kept = new Map<string, Kept>();
    beforeAll(async () => {
      await setMode('optional');
      for (const app of apps) {
        for (const route of ROUTES) {
          const conn: Kept = app.protocol === 'h2' ? connectH2(app, null) : new https.Agent({ keepAlive: true, maxSockets: 1 });
          kept.set(`${app.name} ${route}`, conn);
          const first = await request(app, route, null, conn);
          expect(first.status, `${app.name} ${route} first request`).toBe(200);
        }
      }
      await setMode(mode);
    });
    afterAll(() => {
      for (const k of kept.values()) k.destroy();
    });

    for (const route of ROUTES) {
      it(`${route}: settings changed mid-connection (keep-alive opened in optional) → same verdict everywhere`, async () => {
        const got: Record<string, Verdict> = {};
        for (const app of apps) {
          const { reused, ...v } = await request(app, route, null, kept.get(`${app.name} ${route}`)!);
          expect(reused, `${app.name}: the request must reuse the connection opened while optional`).toBe(true);
          got[app.name] = v;
        }
        const want = expected(TABLE[mode][route].midConnection);
        expect(got).toEqual(Object.fromEntries(GATES.map((a) => [a, want])));
      });

      it.each(CLIENTS)(`${route}: client %s → same verdict through every adapter`, async (client) => {
        const certName = CLIENT_CERT[client];
        const cert = certName === null ? null : clients[certName]!;
        const got: Partial<Record<AdapterName, Verdict>> = {};
        for (const app of apps) {
          const { reused: _r, ...v } = await request(app, route, cert);
          got[app.name] = v;
        }
        const want = expected(TABLE[mode][route][client]);
        expect(got).toEqual(Object.fromEntries(GATES.map((a) => [a, want])));
      });
    }
  });
}
