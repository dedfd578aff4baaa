/**
 * @module
 * Client certificates forwarded by a TLS-terminating proxy in a request header (DESIGN §3): one small
 * source that adapters ask instead of the socket when the server sits behind nginx, Envoy, Traefik,
 * HAProxy, AWS ALB, Cloudflare or any proxy that speaks RFC 9440.
 *
 * A header is believed only from the configured proxy addresses (CIDRs). From anyone else it is
 * ignored — the request is decided on its own connection, as if the header were not there — and
 * counted. What a trusted proxy forwards is only the *chain*: it is validated against the CA like any
 * other, never taken on the proxy's word (no "verified" flag is read). A header that cannot be decoded
 * is a malformed certificate (denied in `enforced`), not "no certificate".
 */
import { createHash } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { CertgateError } from './errors.js';
import { readPemBlocks } from './pem.js';

/** The header formats understood. */
export type ForwardedFormat = 'nginx' | 'envoy-xfcc' | 'rfc9440' | 'aws-alb' | 'traefik' | 'haproxy' | 'cloudflare';

/** Where each format is read from by default (header names are case-insensitive; Node lower-cases them). */
export const FORWARDED_HEADERS: Readonly<Record<ForwardedFormat, string>> = Object.freeze({
  nginx: 'x-ssl-client-cert', // proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;
  'envoy-xfcc': 'x-forwarded-client-cert',
  rfc9440: 'client-cert', // and client-cert-chain
  'aws-alb': 'x-amzn-mtls-clientcert',
  traefik: 'x-forwarded-tls-client-cert',
  haproxy: 'x-ssl-client-der', // http-request set-header X-SSL-Client-DER %[ssl_c_der,base64]
  cloudflare: 'cf-client-cert-der-base64',
});

/** Bounds on what one request's header may make certgate decode. */
export const FORWARDED_LIMITS = Object.freeze({
  /** Characters of the header value(s) read. */
  maxHeaderChars: 64 * 1024,
  /** Certificates taken from one request (leaf included). */
  maxCertificates: 10,
});

/** Options of {@link createForwardedCertificates}. */
export interface ForwardedCertificatesOptions {
  /** The proxies' addresses, as IPs or CIDRs (`10.0.0.0/8`, `::1`, `fd00::/8`). At least one. */
  trustedProxies: readonly string[];
  /** How the proxy writes the certificate. */
  format: ForwardedFormat;
  /** The header to read instead of the format's default ({@link FORWARDED_HEADERS}). Not for `rfc9440`. */
  header?: string;
}

/** What one request says about its client certificate. */
export type ForwardedRead =
  /** The request did not come from a trusted proxy: decide it on its own connection. `ignored`: it carried the header anyway. */
  | { trusted: false; ignored: boolean }
  /**
   * It came from a trusted proxy: `chain` is what the proxy forwarded (leaf first, DER), null when it
   * forwarded none. A header that does not decode gives `problem` and a chain that validates as
   * `MALFORMED`.
   */
  | { trusted: true; chain: Uint8Array[] | null; problem: string | null };

/** A request as the source needs it. */
export interface ForwardedRequest {
  /** The peer address of the request's connection (`req.socket.remoteAddress`). */
  remoteAddress: string | null | undefined;
  headers: Record<string, string | string[] | undefined>;
}

/** The source: reads requests and counts what it refused to believe. */
export interface ForwardedCertificates {
  readonly format: ForwardedFormat;
  read(request: ForwardedRequest): ForwardedRead;
  /** Requests from untrusted peers that carried the header (ignored). */
  readonly ignored: number;
  /** Requests from trusted proxies whose header did not decode. */
  readonly malformed: number;
}

function invalid(message: string): never {
  throw new CertgateError('ERR_CERTGATE_INVALID_OPTION', `createForwardedCertificates: ${message}`);
}

/** An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`) as its IPv4 address; anything else unchanged. */
function unmapped(address: string): string {
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return m ? m[1]! : address;
}

function trustList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const c of cidrs) {
    if (typeof c !== 'string') invalid('"trustedProxies" must be an array of IP addresses or CIDRs');
    const [addrRaw, prefixRaw, extra] = c.trim().split('/');
    if (addrRaw?.includes('%')) invalid(`"${c}": an IPv6 zone id (%...) is not supported (BlockList ignores it, so it would trust the address on every interface)`);
    const addr = unmapped(addrRaw ?? '');
    const mapped = addr !== addrRaw;
    const family = isIP(addr);
    if (family === 0 || extra !== undefined) invalid(`"${c}" is not an IP address or CIDR`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefixRaw === undefined) {
      list.addAddress(addr, type);
      continue;
    }
    // An IPv4-mapped CIDR is an IPv6 prefix: ::ffff:10.0.0.0/104 is 10.0.0.0/8.
    const [min, max] = mapped ? [96, 128] : [0, family === 4 ? 32 : 128];
    if (!/^\d{1,3}$/.test(prefixRaw) || Number(prefixRaw) < min || Number(prefixRaw) > max) invalid(`"${c}": the prefix length must be ${min} to ${max}`);
    list.addSubnet(addr, Number(prefixRaw) - (mapped ? 96 : 0), type);
  }
  return list;
}

/** The header's value(s) as one string (repeated headers joined by `,`, as HTTP folds them), or null. */
function headerValue(headers: ForwardedRequest['headers'], name: string): string | null {
  // Own properties only: a header option such as "constructor" must not read Object.prototype.
  const v: unknown = Object.prototype.hasOwnProperty.call(headers, name) ? headers[name] : undefined;
  if (v === undefined || v === null) return null;
  // Anything but text (not from Node's parser, but a hand-built request may hold it) is undecodable: "?".
  const s = typeof v === 'string' ? v : Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x : '?')).join(',') : '?';
  return s.trim() === '' ? null : s;
}

class Malformed extends Error {}

function pemChain(text: string, what: string): Uint8Array[] {
  const blocks = readPemBlocks(text).filter((b) => b.label === 'CERTIFICATE');
  if (blocks.length === 0) throw new Malformed(`${what} holds no PEM certificate`);
  return blocks.map((b) => {
    if (!b.der) throw new Malformed(`${what} has a PEM block whose base64 is not valid`);
    return b.der;
  });
}

/** Percent-decoding that leaves `+` a plus (nginx, Envoy and AWS ALB escape with %XX only). */
function percentDecoded(s: string, what: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new Malformed(`${what} is not validly percent-encoded`);
  }
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

function base64Der(s: string, what: string): Uint8Array {
  const t = s.trim();
  if (!B64.test(t) || t.length % 4 !== 0) throw new Malformed(`${what} is not base64`);
  return new Uint8Array(Buffer.from(t, 'base64'));
}

/** RFC 8941 sf-binary items (`:base64:`) of an sf-list. */
function sfBinaryList(s: string, what: string): Uint8Array[] {
  return s.split(',').map((item) => {
    const m = /^\s*:([A-Za-z0-9+/]*={0,2}):\s*$/.exec(item);
    if (!m || m[1]!.length % 4 !== 0) throw new Malformed(`${what} is not a structured-field byte sequence (:base64:)`);
    return new Uint8Array(Buffer.from(m[1]!, 'base64'));
  });
}

/**
 * Envoy's XFCC: comma-separated elements, one per proxy (the nearest last); each `key=value` pairs
 * separated by `;`, values optionally double-quoted (quotes may hold `,` and `;`, `\"` escapes).
 */
const XFCC_ONCE = new Set(['hash', 'cert', 'chain', 'subject']);

function lastXfccElement(s: string): Map<string, string> {
  const elements: Map<string, string>[] = [];
  let cur = new Map<string, string>();
  let i = 0;
  const n = s.length;
  while (i < n) {
    while (i < n && (s[i] === ' ' || s[i] === '\t')) i++;
    let key = '';
    while (i < n && s[i] !== '=' && s[i] !== ';' && s[i] !== ',') key += s[i++];
    if (s[i] !== '=') throw new Malformed(`x-forwarded-client-cert: "${key.slice(0, 40)}" has no value`);
    i++;
    let value = '';
    if (s[i] === '"') {
      i++;
      while (i < n && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < n) i++;
        value += s[i++];
      }
      if (s[i] !== '"') throw new Malformed('x-forwarded-client-cert: an unterminated quoted value');
      i++;
    } else {
      while (i < n && s[i] !== ';' && s[i] !== ',') value += s[i++];
    }
    const k = key.trim().toLowerCase();
    // Envoy writes the client's URI and DNS SANs unescaped: a SAN holding ';Cert="..."' would add a field.
    // These fields appear once per element; a repeat is an injection (or garbage), never a second answer.
    if (XFCC_ONCE.has(k) && cur.has(k)) throw new Malformed(`x-forwarded-client-cert: "${key.trim().slice(0, 40)}" appears twice in one element`);
    cur.set(k, value.trim());
    while (i < n && (s[i] === ' ' || s[i] === '\t')) i++;
    if (s[i] === ';') i++;
    else if (s[i] === ',') {
      elements.push(cur);
      cur = new Map();
      i++;
    } else if (i < n) throw new Malformed('x-forwarded-client-cert: expected ";" or "," between fields');
  }
  // A trailing "," leaves an element with no field: garbled, not "the proxy saw no certificate".
  if (cur.size === 0) throw new Malformed('x-forwarded-client-cert: an empty element (a trailing ",")');
  elements.push(cur);
  return elements[elements.length - 1]!;
}

/**
 * Creates a forwarded-certificate source. Throws `ERR_CERTGATE_INVALID_OPTION` for bad options.
 *
 * @example
 * const forwarded = createForwardedCertificates({ trustedProxies: ['10.0.0.5'], format: 'nginx' });
 * app.use(mtls(controller, { forwarded })); // nginx: proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;
 */
export function createForwardedCertificates(options: ForwardedCertificatesOptions): ForwardedCertificates {
  if (!options || typeof options !== 'object') invalid('"options" must be an object');
  const format = options.format;
  if (!Object.prototype.hasOwnProperty.call(FORWARDED_HEADERS, format)) {
    invalid(`"format" must be one of ${Object.keys(FORWARDED_HEADERS).join(', ')} (got ${JSON.stringify(format)})`);
  }
  if (!Array.isArray(options.trustedProxies) || options.trustedProxies.length === 0) {
    invalid('"trustedProxies" must list at least one proxy address or CIDR: a header is believed only from them');
  }
  const trusted = trustList(options.trustedProxies);
  if (options.header !== undefined) {
    if (format === 'rfc9440') invalid('"header" cannot be changed for rfc9440 (Client-Cert and Client-Cert-Chain)');
    if (typeof options.header !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(options.header)) invalid('"header" must be an HTTP header name');
  }
  const header = (options.header ?? FORWARDED_HEADERS[format]).toLowerCase();
  let ignored = 0;
  let malformed = 0;

  function isTrusted(address: string | null | undefined): boolean {
    if (typeof address !== 'string') return false;
    const a = unmapped(address);
    const family = isIP(a);
    if (family === 0) return false;
    try {
      return trusted.check(a, family === 4 ? 'ipv4' : 'ipv6');
    } catch {
      return false; // an address BlockList cannot read (e.g. with a zone id) is nobody's proxy
    }
  }

  /** The chain in the header(s), null when none is there; throws Malformed. */
  function decode(headers: ForwardedRequest['headers']): Uint8Array[] | null {
    const value = headerValue(headers, header);
    const chainValue = format === 'rfc9440' ? headerValue(headers, 'client-cert-chain') : null;
    if (value === null) {
      if (chainValue !== null) throw new Malformed('client-cert-chain without client-cert');
      return null;
    }
    if (value.length + (chainValue?.length ?? 0) > FORWARDED_LIMITS.maxHeaderChars) throw new Malformed(`${header} is longer than ${FORWARDED_LIMITS.maxHeaderChars} characters`);
    switch (format) {
      case 'nginx':
        return pemChain(percentDecoded(value, header), header);
      case 'aws-alb':
        return pemChain(percentDecoded(value, header), header);
      case 'envoy-xfcc': {
        const el = lastXfccElement(value);
        const chain = el.get('chain');
        const cert = el.get('cert');
        const what = chain ? 'x-forwarded-client-cert Chain' : 'x-forwarded-client-cert Cert';
        const certs = chain || cert ? pemChain(percentDecoded((chain || cert)!, what), what) : null;
        // Envoy's Hash is the SHA-256 of the client's certificate: a Chain (or Cert) that is not the one
        // hashed was not written by Envoy (e.g. a Chain field injected through a SAN next to Envoy's Cert).
        // Envoy always sends Hash with a certificate; without it an injected Chain could not be told apart.
        const hash = el.get('hash');
        if (certs && hash === undefined) throw new Malformed(`x-forwarded-client-cert: an element with a ${chain ? 'Chain' : 'Cert'} must carry the certificate's Hash (Envoy always sends it)`);
        if (certs && hash!.toLowerCase() !== createHash('sha256').update(certs[0]!).digest('hex')) {
          throw new Malformed(`x-forwarded-client-cert: its Hash is not the SHA-256 of the certificate in its ${chain ? 'Chain' : 'Cert'}`);
        }
        return certs; // null: the proxy's element carries no certificate, the client sent none
      }
      case 'rfc9440': {
        const leaf = sfBinaryList(value, 'client-cert');
        if (leaf.length !== 1) throw new Malformed('client-cert must hold exactly one certificate');
        return chainValue === null ? leaf : [...leaf, ...sfBinaryList(chainValue, 'client-cert-chain')];
      }
      case 'traefik':
        return value.split(',').map((part) => base64Der(percentDecoded(part.trim(), header), header));
      case 'haproxy':
      case 'cloudflare':
        return [base64Der(value, header)];
    }
  }

  // One answer (and one count) per request, however many handlers ask (the gate, then the settings API).
  const answered = new WeakMap<object, ForwardedRead>();

  return {
    format,
    read(request) {
      const headers = request?.headers ?? {};
      const known = typeof headers === 'object' && headers !== null ? answered.get(headers) : undefined;
      if (known) return known;
      const r = readOnce(request, headers);
      if (typeof headers === 'object' && headers !== null) answered.set(headers, r);
      return r;
    },
    get ignored() {
      return ignored;
    },
    get malformed() {
      return malformed;
    },
  };

  function readOnce(request: ForwardedRequest, headers: ForwardedRequest['headers']): ForwardedRead {
    const present = headerValue(headers, header) !== null || (format === 'rfc9440' && headerValue(headers, 'client-cert-chain') !== null);
    if (!isTrusted(request?.remoteAddress)) {
      if (present) ignored++;
      return { trusted: false, ignored: present };
    }
    try {
      const chain = decode(headers);
      if (chain !== null && chain.length > FORWARDED_LIMITS.maxCertificates) throw new Malformed(`more than ${FORWARDED_LIMITS.maxCertificates} certificates forwarded`);
      return { trusted: true, chain, problem: null };
    } catch (err) {
      if (!(err instanceof Malformed)) throw err;
      malformed++;
      // Validates as MALFORMED: a header a trusted proxy garbled is never "no certificate".
      return { trusted: true, chain: [new Uint8Array(0)], problem: err.message };
    }
  }
}
