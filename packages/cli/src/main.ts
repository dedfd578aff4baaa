/**
 * @module
 * The `certgate` dev-PKI command line: a development CA, client certificates (PEM and PKCS#12 for
 * browsers) and server certificates for trying certgate locally. `run(argv, io)` is the whole
 * program; `cli.ts` only wires it to the process. Development use only: the CA key sits unencrypted
 * on disk (mode 0600).
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  KEY_SPECS,
  createCa,
  encodeName,
  loadCa,
  toPkcs12,
  type KeySpec,
  type TestCa,
} from '@certgate/core/testing';

/** Where the program writes; injectable for tests. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
}

/** A bad command line: exit code 2 with the command's usage line. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: CommandName,
  ) {
    super(message);
  }
}

/** A failure while doing the work (missing CA, file exists, …): exit code 1. */
class CliError extends Error {}

type CommandName = 'dev-ca' | 'issue-client' | 'issue-server';

const USAGE: Record<CommandName, string> = {
  'dev-ca': 'certgate dev-ca --out <dir> [--name "certgate dev CA"] [--days 3650] [--key ec-p256] [--force]',
  'issue-client':
    'certgate issue-client --ca-dir <dir> --name <CN> [--out <dir>] [--email <addr>]... [--days 365] [--key ec-p256] [--p12 --password <pw>] [--force]',
  'issue-server':
    'certgate issue-server --ca-dir <dir> [--dns <name>]... [--ip <addr>]... [--name <CN>] [--out <dir>] [--days 365] [--key ec-p256] [--force]',
};

const HELP = `certgate: development PKI for trying mutual TLS with certgate (never for production keys).

Commands:
  ${USAGE['dev-ca']}
      Create a self-signed development CA: <dir>/ca.pem (upload this as the CA) and
      <dir>/ca-key.pem (its private key, mode 0600; keep it out of version control).

  ${USAGE['issue-client']}
      Issue a client certificate signed by the CA in --ca-dir: <out>/<name>.pem, <out>/<name>-key.pem
      and, with --p12, <out>/<name>.p12 (key + certificate + CA, for importing into a browser).
      The PKCS#12 password may also come from the CERTGATE_P12_PASSWORD environment variable.

  ${USAGE['issue-server']}
      Issue a TLS server certificate (default SANs: localhost and 127.0.0.1): <out>/<name>.pem
      (certificate then CA) and <out>/<name>-key.pem. <name> defaults to the first --dns, else localhost.

Options:
  --days N      validity in days (CA default 3650, certificates default 365; at most 36500)
  --key K       key type: ${KEY_SPECS.filter((k) => k !== 'rsa-1024').join(', ')} (default ec-p256)
  --out <dir>   output directory (issue-*: default the --ca-dir)
  --force       overwrite existing files
  -h, --help    this help;  --version  the version

Exit codes: 0 done, 1 failed (message on stderr), 2 bad command line.
`;

const DAY = 24 * 3600_000;

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function parse(command: CommandName, args: string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false })
      .values as Record<string, string | string[] | boolean | undefined>;
  } catch (err) {
    // node's messages are long and mention internals; keep the first sentence.
    const msg = (err as Error).message.split('. ')[0]!.replace(/\.$/, '');
    throw new UsageError(msg, command);
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function list(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function days(v: unknown, dflt: number, command: CommandName): number {
  if (v === undefined) return dflt;
  const s = String(v);
  if (!/^\d{1,5}$/.test(s) || Number(s) < 1 || Number(s) > 36500) {
    throw new UsageError(`--days must be a whole number of days from 1 to 36500, not "${s}"`, command);
  }
  return Number(s);
}

function keySpec(v: unknown, command: CommandName): KeySpec {
  if (v === undefined) return 'ec-p256';
  const s = String(v);
  if (s === 'rsa-1024') throw new UsageError('--key rsa-1024 is too weak; use rsa-2048 or larger, or an EC key', command);
  if (!(KEY_SPECS as readonly string[]).includes(s)) {
    throw new UsageError(`--key must be one of ${KEY_SPECS.filter((k) => k !== 'rsa-1024').join(', ')}, not "${s}"`, command);
  }
  return s as KeySpec;
}

function commonName(v: unknown, what: string, command: CommandName): string {
  const s = str(v);
  if (s === undefined || s.trim() === '') throw new UsageError(`${what} is required`, command);
  if (/[\u0000-\u001f\u007f]/.test(s)) throw new UsageError(`${what} must not contain control characters`, command);
  if (s.length > 64) throw new UsageError(`${what} must be at most 64 characters (the X.509 limit for a common name)`, command);
  return s;
}

/** A file name from a common name: letters, digits, `.`, `_`, `-`; never a path. */
function fileStem(name: string): string {
  const stem = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 64);
  return stem === '' ? 'cert' : stem;
}

function dir(v: unknown, flag: string, io: Io, command: CommandName): string {
  const s = str(v);
  if (s === undefined || s === '') throw new UsageError(`${flag} <dir> is required`, command);
  return resolve(io.cwd, s);
}

interface OutFile {
  path: string;
  content: string | Uint8Array;
  secret: boolean;
  what: string;
}

function writeAll(files: OutFile[], force: boolean, io: Io): void {
  const existing = files.filter((f) => existsSync(f.path));
  if (existing.length > 0 && !force) {
    throw new CliError(`${existing.map((f) => f.path).join(', ')} already exist${existing.length === 1 ? 's' : ''}; pass --force to overwrite`);
  }
  for (const f of files) {
    writeFileSync(f.path, f.content, { mode: f.secret ? 0o600 : 0o644 });
    // writeFileSync keeps the mode of a file that already existed.
    chmodSync(f.path, f.secret ? 0o600 : 0o644);
    io.stdout(`wrote ${f.path} (${f.what}${f.secret ? ', mode 0600' : ''})\n`);
  }
}

function ensureDir(path: string): void {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new CliError(`cannot create directory ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function readCaFiles(caDir: string): { certPem: string; keyPem: string } {
  const certPath = join(caDir, 'ca.pem');
  const keyPath = join(caDir, 'ca-key.pem');
  if (!existsSync(certPath) || !existsSync(keyPath)) {
    throw new CliError(
      `no dev CA in ${caDir} (${!existsSync(certPath) ? 'ca.pem' : 'ca-key.pem'} is missing); create one with: certgate dev-ca --out ${caDir}`,
    );
  }
  try {
    return { certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') };
  } catch (err) {
    throw new CliError(`cannot read the CA in ${caDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

async function openCa(caDir: string, now: number): Promise<TestCa> {
  const { certPem, keyPem } = readCaFiles(caDir);
  let ca: TestCa;
  try {
    ca = await loadCa(certPem, keyPem);
  } catch (err) {
    throw new CliError(`the CA in ${caDir} cannot be used: ${(err as Error).message.replace(/^@certgate\/core\/testing: /, '')}`);
  }
  if (!new X509Certificate(ca.pem).ca) throw new CliError(`${join(caDir, 'ca.pem')} is not a CA certificate`);
  if (ca.notAfter.getTime() <= now) throw new CliError(`the CA in ${caDir} expired on ${ca.notAfter.toISOString()}; create a new one with dev-ca`);
  return ca;
}

/** Leaf validity: from an hour ago (clock skew) for `d` days, but never past the CA's notAfter. */
function leafValidity(ca: TestCa, d: number, now: number, io: Io): { notBefore: Date; notAfter: Date } {
  const notBefore = new Date(Math.max(now - 3600_000, ca.notBefore.getTime()));
  let notAfter = new Date(now + d * DAY);
  if (notAfter > ca.notAfter) {
    notAfter = ca.notAfter;
    io.stderr(`certgate: note: validity shortened to the CA's expiry, ${notAfter.toISOString()}\n`);
  }
  return { notBefore, notAfter };
}

async function devCa(args: string[], io: Io): Promise<void> {
  const v = parse('dev-ca', args, {
    out: { type: 'string' },
    name: { type: 'string' },
    days: { type: 'string' },
    key: { type: 'string' },
    force: { type: 'boolean' },
  });
  if (v.help) return void io.stdout(`usage: ${USAGE['dev-ca']}\n`);
  const out = dir(v.out, '--out', io, 'dev-ca');
  const name = v.name === undefined ? 'certgate dev CA' : commonName(v.name, '--name', 'dev-ca');
  const d = days(v.days, 3650, 'dev-ca');
  const key = keySpec(v.key, 'dev-ca');
  const now = Date.now();
  ensureDir(out);
  const certPath = join(out, 'ca.pem');
  const keyPath = join(out, 'ca-key.pem');
  if (!v.force && (existsSync(certPath) || existsSync(keyPath))) {
    throw new CliError(`${out} already holds a CA (ca.pem / ca-key.pem); pass --force to replace it (certificates it issued will no longer validate)`);
  }
  const ca = await createCa({
    subject: encodeName([
      { type: 'O', value: 'certgate development' },
      { type: 'CN', value: name },
    ]),
    key,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + d * DAY),
    pathLen: 0,
  });
  writeAll(
    [
      { path: certPath, content: ca.pem, secret: false, what: 'CA certificate' },
      { path: keyPath, content: ca.keyPem, secret: true, what: 'CA private key' },
    ],
    true,
    io,
  );
  io.stdout(
    `CA "${name}" SHA-256 ${ca.fingerprint256}, valid until ${ca.notAfter.toISOString()}\n` +
      `Upload ${certPath} as the CA in the console. Next: certgate issue-client --ca-dir ${out} --name <you> --p12 --password <pw>\n`,
  );
}

async function issueClient(args: string[], io: Io): Promise<void> {
  const v = parse('issue-client', args, {
    'ca-dir': { type: 'string' },
    name: { type: 'string' },
    out: { type: 'string' },
    email: { type: 'string', multiple: true },
    days: { type: 'string' },
    key: { type: 'string' },
    p12: { type: 'boolean' },
    password: { type: 'string' },
    force: { type: 'boolean' },
  });
  if (v.help) return void io.stdout(`usage: ${USAGE['issue-client']}\n`);
  const caDir = dir(v['ca-dir'], '--ca-dir', io, 'issue-client');
  const name = commonName(v.name, '--name <CN>', 'issue-client');
  const out = v.out === undefined ? caDir : dir(v.out, '--out', io, 'issue-client');
  const emails = list(v.email);
  for (const e of emails) {
    if (!/^[^\s@]+@[^\s@]+$/.test(e) || e.length > 254) throw new UsageError(`--email "${e}" is not an email address`, 'issue-client');
  }
  const d = days(v.days, 365, 'issue-client');
  const key = keySpec(v.key, 'issue-client');
  const password = str(v.password) ?? io.env.CERTGATE_P12_PASSWORD;
  if (str(v.password) !== undefined && !v.p12) throw new UsageError('--password is only used with --p12', 'issue-client');
  if (v.p12 && (password === undefined || password === '')) {
    throw new UsageError('--p12 needs a password: --password <pw> or the CERTGATE_P12_PASSWORD environment variable', 'issue-client');
  }
  const now = Date.now();
  const ca = await openCa(caDir, now);
  ensureDir(out);
  const cert = await ca.issue({
    subject: encodeName([{ type: 'CN', value: name }]),
    key,
    ...leafValidity(ca, d, now, io),
    ...(emails.length ? { san: { email: emails } } : {}),
  });
  const stem = fileStem(name);
  const files: OutFile[] = [
    { path: join(out, `${stem}.pem`), content: cert.pem, secret: false, what: 'client certificate' },
    { path: join(out, `${stem}-key.pem`), content: cert.keyPem, secret: true, what: 'client private key' },
  ];
  if (v.p12) {
    files.push({
      path: join(out, `${stem}.p12`),
      content: toPkcs12(cert, [ca], password!, { friendlyName: name }),
      secret: true,
      what: 'PKCS#12 for browsers: key, certificate and CA',
    });
  }
  writeAll(files, v.force === true, io);
  io.stdout(`client "${name}" SHA-256 ${cert.fingerprint256}, valid until ${cert.notAfter.toISOString()}\n`);
}

async function issueServer(args: string[], io: Io): Promise<void> {
  const v = parse('issue-server', args, {
    'ca-dir': { type: 'string' },
    name: { type: 'string' },
    out: { type: 'string' },
    dns: { type: 'string', multiple: true },
    ip: { type: 'string', multiple: true },
    days: { type: 'string' },
    key: { type: 'string' },
    force: { type: 'boolean' },
  });
  if (v.help) return void io.stdout(`usage: ${USAGE['issue-server']}\n`);
  const caDir = dir(v['ca-dir'], '--ca-dir', io, 'issue-server');
  let dns = list(v.dns);
  let ips = list(v.ip);
  for (const n of dns) {
    if (n.length > 253 || !/^(\*\.)?[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(n)) {
      throw new UsageError(`--dns "${n}" is not a DNS name`, 'issue-server');
    }
  }
  for (const ip of ips) if (isIP(ip) === 0) throw new UsageError(`--ip "${ip}" is not an IP address`, 'issue-server');
  if (dns.length === 0 && ips.length === 0) {
    dns = ['localhost'];
    ips = ['127.0.0.1'];
  }
  const name = v.name === undefined ? (dns[0] ?? ips[0]!) : commonName(v.name, '--name', 'issue-server');
  const out = v.out === undefined ? caDir : dir(v.out, '--out', io, 'issue-server');
  const d = days(v.days, 365, 'issue-server');
  const key = keySpec(v.key, 'issue-server');
  const now = Date.now();
  const ca = await openCa(caDir, now);
  ensureDir(out);
  const cert = await ca.issueServer({
    subject: encodeName([{ type: 'CN', value: name }]),
    key,
    ...leafValidity(ca, d, now, io),
    san: { dns, ip: ips },
    // TLS 1.2 RSA key exchange needs keyEncipherment; ECDHE suites need only digitalSignature.
    keyUsage: key.startsWith('rsa') ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'],
  });
  const stem = fileStem(name);
  writeAll(
    [
      { path: join(out, `${stem}.pem`), content: cert.pem + ca.pem, secret: false, what: 'server certificate, then the CA' },
      { path: join(out, `${stem}-key.pem`), content: cert.keyPem, secret: true, what: 'server private key' },
    ],
    v.force === true,
    io,
  );
  io.stdout(`server "${name}" (${[...dns, ...ips].join(', ')}) SHA-256 ${cert.fingerprint256}, valid until ${cert.notAfter.toISOString()}\n`);
}

const COMMANDS: Record<CommandName, (args: string[], io: Io) => Promise<void>> = {
  'dev-ca': devCa,
  'issue-client': issueClient,
  'issue-server': issueServer,
};

/** Run the CLI with `argv` (without `node` and the script). Resolves with the exit code; never throws. */
export async function run(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
      if (command === 'help' && rest[0] && rest[0] in USAGE) io.stdout(`usage: ${USAGE[rest[0] as CommandName]}\n`);
      else io.stdout(HELP);
      return command === undefined ? 2 : 0;
    }
    if (command === '--version' || command === '-v') {
      io.stdout(`${version()}\n`);
      return 0;
    }
    if (!(command in COMMANDS)) {
      throw new UsageError(
        command.startsWith('-') ? `a command must come first, not the option "${command}"` : `unknown command "${command}"`,
      );
    }
    await COMMANDS[command as CommandName](rest, io);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`certgate: ${err.message}\n`);
      if (err.command) io.stderr(`usage: ${USAGE[err.command]}\n`);
      else io.stderr(`usage: certgate <dev-ca | issue-client | issue-server> [options]   (certgate --help)\n`);
      return 2;
    }
    if (err instanceof CliError) {
      io.stderr(`certgate: ${err.message}\n`);
      return 1;
    }
    const e = err as NodeJS.ErrnoException;
    io.stderr(`certgate: failed: ${e.code ? `${e.code} ` : ''}${e.message ?? String(err)}\n`);
    if (io.env.CERTGATE_DEBUG) io.stderr(`${e.stack ?? ''}\n`);
    return 1;
  }
}
