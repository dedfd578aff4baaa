import { spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'certgate-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function certgate(args: string[], env: Record<string, string> = {}): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: work,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function openssl(...args: string[]): Run {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectNoStack(r: Run): void {
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).not.toMatch(/\n\s+at /);
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build the CLI first (pnpm build, or pnpm --filter @certgate/cli build)`);
});

describe('certgate CLI (built)', () => {
  const ca = join(work, 'ca');

  it('dev-ca writes a CA certificate and a 0600 key', () => {
    const r = certgate(['dev-ca', '--out', 'ca', '--name', 'My Dev CA', '--days', '30']);
    expectNoStack(r);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`wrote ${join(ca, 'ca.pem')}`);
    expect(mode(join(ca, 'ca-key.pem'))).toBe(0o600);
    expect(mode(join(ca, 'ca.pem'))).toBe(0o644);
    const cert = new X509Certificate(readFileSync(join(ca, 'ca.pem')));
    expect(cert.ca).toBe(true);
    expect(cert.subject).toBe('O=certgate development\nCN=My Dev CA');
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(readFileSync(join(ca, 'ca-key.pem'))))).toBe(true);
    const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86400_000;
    expect(Math.round(days * 24)).toBe(30 * 24 + 1);
    const text = openssl('x509', '-in', join(ca, 'ca.pem'), '-noout', '-text').stdout;
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(text).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(r.stdout).toContain(cert.fingerprint256);
  });

  it('dev-ca refuses to replace a CA without --force', () => {
    const before = readFileSync(join(ca, 'ca.pem'), 'utf8');
    const r = certgate(['dev-ca', '--out', 'ca']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('already holds a CA');
    expect(r.stderr).toContain('--force');
    expect(readFileSync(join(ca, 'ca.pem'), 'utf8')).toBe(before);
    expectNoStack(r);
  });

  it('issue-client writes PEM, key and a PKCS#12 that openssl reads with the CA inside', () => {
    const r = certgate(['issue-client', '--ca-dir', 'ca', '--name', 'Smith, John', '--email', 'john@example.test', '--email', 'j@example.test', '--p12', '--password', 'hunter2', '--out', 'alice-out']);
    expectNoStack(r);
    expect(r.status).toBe(0);
    const out = join(work, 'alice-out');
    const pem = join(out, 'Smith_John.pem');
    const key = join(out, 'Smith_John-key.pem');
    const p12 = join(out, 'Smith_John.p12');
    expect(mode(key)).toBe(0o600);
    expect(mode(p12)).toBe(0o600);
    const cert = new X509Certificate(readFileSync(pem));
    expect(cert.subject).toBe('CN=Smith\\, John'); // node:crypto escapes the comma
    expect(cert.subjectAltName).toBe('email:john@example.test, email:j@example.test');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(cert.ca).toBe(false);
    expect(cert.checkPrivateKey(createPrivateKey(readFileSync(key)))).toBe(true);

    const v = openssl('verify', '-CAfile', join(ca, 'ca.pem'), '-purpose', 'sslclient', pem);
    expect(v.stdout).toContain(': OK');
    expect(v.status).toBe(0);

    const info = openssl('pkcs12', '-info', '-in', p12, '-passin', 'pass:hunter2', '-nokeys');
    expect(info.status).toBe(0);
    expect(`${info.stdout}${info.stderr}`).toContain('MAC: sha256');
    expect(info.stdout).toContain('friendlyName: Smith, John');
    expect(info.stdout.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2);
    expect(info.stdout).toContain('subject=O = certgate development, CN = My Dev CA');
    expect(openssl('pkcs12', '-info', '-in', p12, '-passin', 'pass:wrong', '-noout').status).not.toBe(0);
  });

  it('issue-server: default SANs localhost + 127.0.0.1, chain file, serverAuth', () => {
    const r = certgate(['issue-server', '--ca-dir', 'ca']);
    expectNoStack(r);
    expect(r.status).toBe(0);
    const pem = readFileSync(join(ca, 'localhost.pem'), 'utf8');
    expect(pem.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2);
    const cert = new X509Certificate(pem);
    expect(cert.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(mode(join(ca, 'localhost-key.pem'))).toBe(0o600);
    expect(openssl('verify', '-CAfile', join(ca, 'ca.pem'), '-purpose', 'sslserver', join(ca, 'localhost.pem')).status).toBe(0);

    const custom = certgate(['issue-server', '--ca-dir', 'ca', '--dns', 'app.test', '--dns', '*.app.test', '--ip', '::1', '--key', 'rsa-2048', '--out', 'srv']);
    expect(custom.status).toBe(0);
    const c2 = new X509Certificate(readFileSync(join(work, 'srv', 'app.test.pem')));
    expect(c2.subjectAltName).toBe('DNS:app.test, DNS:*.app.test, IP Address:0:0:0:0:0:0:0:1');
    expect(c2.publicKey.asymmetricKeyType).toBe('rsa');
  });

  it('the issued client (.p12) and server certificates complete a mutual TLS handshake on 127.0.0.1', async () => {
    const caPem = readFileSync(join(ca, 'ca.pem'));
    const server = tls.createServer({
      cert: readFileSync(join(ca, 'localhost.pem')),
      key: readFileSync(join(ca, 'localhost-key.pem')),
      ca: caPem,
      requestCert: true,
      rejectUnauthorized: true,
    });
    const seen = new Promise<{ authorized: boolean; cn: unknown }>((resolve) => {
      server.on('secureConnection', (s) => {
        resolve({ authorized: s.authorized, cn: s.getPeerCertificate().subject?.CN });
        s.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const clientAuthorized = await new Promise<boolean>((resolve, reject) => {
        const s = tls.connect(
          { host: '127.0.0.1', port, servername: 'localhost', ca: caPem, pfx: readFileSync(join(work, 'alice-out', 'Smith_John.p12')), passphrase: 'hunter2' },
          () => resolve(s.authorized),
        );
        s.on('error', reject);
        s.on('data', () => undefined);
      });
      expect(clientAuthorized).toBe(true);
      expect(await seen).toEqual({ authorized: true, cn: 'Smith, John' });
    } finally {
      server.close();
    }
  });

  it('takes the PKCS#12 password from CERTGATE_P12_PASSWORD; refuses to overwrite without --force', () => {
    const r = certgate(['issue-client', '--ca-dir', 'ca', '--name', 'bob', '--p12'], { CERTGATE_P12_PASSWORD: 'from-env' });
    expect(r.status).toBe(0);
    expect(openssl('pkcs12', '-info', '-in', join(ca, 'bob.p12'), '-passin', 'pass:from-env', '-noout').status).toBe(0);
    const again = certgate(['issue-client', '--ca-dir', 'ca', '--name', 'bob']);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('already exist');
    expectNoStack(again);
    const forced = certgate(['issue-client', '--ca-dir', 'ca', '--name', 'bob', '--force']);
    expect(forced.status).toBe(0);
  });

  it('keeps file names inside the output directory', () => {
    const r = certgate(['issue-client', '--ca-dir', 'ca', '--name', '../../evil']);
    expect(r.status).toBe(0);
    expect(existsSync(join(ca, 'evil.pem'))).toBe(true);
    expect(new X509Certificate(readFileSync(join(ca, 'evil.pem'))).subject).toBe('CN=../../evil');
  });

  it('--help, --version and no arguments', () => {
    const help = certgate(['--help']);
    expect(help.status).toBe(0);
    for (const c of ['dev-ca', 'issue-client', 'issue-server']) expect(help.stdout).toContain(`certgate ${c}`);
    const sub = certgate(['issue-client', '--help']);
    expect(sub.status).toBe(0);
    expect(sub.stdout).toMatch(/^usage: certgate issue-client/);
    const version = certgate(['--version']);
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
    const none = certgate([]);
    expect(none.status).toBe(2);
    expect(none.stdout).toContain('Commands:');
  });

  it.each([
    [['frob'], 'unknown command "frob"', 'usage: certgate <dev-ca'],
    [['--out', 'x'], 'a command must come first', 'usage: certgate <dev-ca'],
    [['dev-ca'], '--out <dir> is required', 'usage: certgate dev-ca'],
    [['dev-ca', '--out', 'x', '--days', 'ten'], '--days must be a whole number', 'usage: certgate dev-ca'],
    [['dev-ca', '--out', 'x', '--days', '0'], '--days must be a whole number', 'usage: certgate dev-ca'],
    [['dev-ca', '--out', 'x', '--key', 'rsa-1024'], 'too weak', 'usage: certgate dev-ca'],
    [['dev-ca', '--out', 'x', '--key', 'dsa'], '--key must be one of', 'usage: certgate dev-ca'],
    [['dev-ca', '--out', 'x', 'extra'], 'nexpected argument', 'usage: certgate dev-ca'],
    [['issue-client', '--ca-dir', 'ca'], '--name <CN> is required', 'usage: certgate issue-client'],
    [['issue-client', '--ca-dir', 'ca', '--name', 'x', '--bogus'], "Unknown option '--bogus'", 'usage: certgate issue-client'],
    [['issue-client', '--ca-dir', 'ca', '--name', 'x', '--p12'], '--p12 needs a password', 'usage: certgate issue-client'],
    [['issue-client', '--ca-dir', 'ca', '--name', 'x', '--password', 'p'], '--password is only used with --p12', 'usage: certgate issue-client'],
    [['issue-client', '--ca-dir', 'ca', '--name', 'x', '--email', 'nope'], 'is not an email address', 'usage: certgate issue-client'],
    [['issue-client', '--ca-dir', 'ca', '--name', 'x'.repeat(65)], 'at most 64 characters', 'usage: certgate issue-client'],
    [['issue-client', '--ca-dir', 'ca', '--name', 'a\u0007b'], 'control characters', 'usage: certgate issue-client'],
    [['issue-client', '--ca-dir'], "argument missing", 'usage: certgate issue-client'],
    [['issue-server', '--ca-dir', 'ca', '--ip', '300.1.1.1'], 'is not an IP address', 'usage: certgate issue-server'],
    [['issue-server', '--ca-dir', 'ca', '--dns', 'bad name'], 'is not a DNS name', 'usage: certgate issue-server'],
  ])('exit 2 with a usage line: %j', (args, message, usage) => {
    const r = certgate(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain(usage);
    expect(r.stderr).toMatch(/^certgate: /);
    expectNoStack(r);
  });

  it('exit 1 with a clear message for a missing, broken or mismatched CA', () => {
    const missing = certgate(['issue-client', '--ca-dir', 'nowhere', '--name', 'x']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('no dev CA in');
    expect(missing.stderr).toContain('certgate dev-ca --out');

    const broken = join(work, 'broken');
    expect(certgate(['dev-ca', '--out', 'broken']).status).toBe(0);
    writeFileSync(join(broken, 'ca-key.pem'), 'not a key');
    const b = certgate(['issue-client', '--ca-dir', 'broken', '--name', 'x']);
    expect(b.status).toBe(1);
    expect(b.stderr).toContain('cannot be used: the private key could not be read');
    expectNoStack(b);

    expect(certgate(['dev-ca', '--out', 'other']).status).toBe(0);
    writeFileSync(join(broken, 'ca-key.pem'), readFileSync(join(work, 'other', 'ca-key.pem')));
    const m = certgate(['issue-client', '--ca-dir', 'broken', '--name', 'x']);
    expect(m.status).toBe(1);
    expect(m.stderr).toContain('does not belong to the CA certificate');
    expectNoStack(m);

    writeFileSync(join(broken, 'ca.pem'), readFileSync(join(ca, 'evil.pem')));
    writeFileSync(join(broken, 'ca-key.pem'), readFileSync(join(ca, 'evil-key.pem')));
    const leaf = certgate(['issue-client', '--ca-dir', 'broken', '--name', 'x']);
    expect(leaf.status).toBe(1);
    expect(leaf.stderr).toContain('is not a CA certificate');
  });

  it('caps a leaf at the CA expiry and says so', () => {
    const r = certgate(['issue-client', '--ca-dir', 'ca', '--name', 'long', '--days', '400']);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("validity shortened to the CA's expiry");
    const leaf = new X509Certificate(readFileSync(join(ca, 'long.pem')));
    const caCert = new X509Certificate(readFileSync(join(ca, 'ca.pem')));
    expect(Date.parse(leaf.validTo)).toBe(Date.parse(caCert.validTo));
  });
});
