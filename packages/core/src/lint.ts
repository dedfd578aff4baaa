/**
 * @module
 * `lintCaBundle`: checks an uploaded CA bundle (PEM text) before it is accepted, and says in plain
 * sentences what is wrong with it: not PEM, a private key or a CSR instead of a certificate,
 * certificates that do not parse, that are not CAs, that are expired or expire soon, duplicates,
 * and a bundle whose CA names do not fit in a TLS CertificateRequest.
 *
 * Exported from `@certgate/core`. It never throws for anything about the text (only for bad
 * options), never echoes key or PEM material, and bounds its work by {@link LINT_MAX_BYTES} and
 * {@link LINT_MAX_BLOCKS}.
 *
 * @example
 * import { lintCaBundle } from '@certgate/core';
 * const lint = lintCaBundle(uploadedPem, { time: new Date() });
 * if (!lint.ok) return res.status(400).json({ error: { code: 'CA_INVALID', message: lint.problems[0].message, problems: lint.problems } });
 */
import { createPublicKey } from 'node:crypto';
import type { ParsedCertificate } from './cert/model.js';
import { formatName } from './cert/name.js';
import { parseCertificate, serialHex } from './cert/parse.js';
import { CertgateOptionError } from './errors.js';
import { readPemBlocks } from './pem.js';
import { colonHex } from './identity.js';

/** Stable lint codes. Public API (the settings API returns them in its 400 body). */
export type LintCode =
  | 'EMPTY'
  | 'NOT_PEM'
  | 'PRIVATE_KEY'
  | 'CSR'
  | 'NOT_A_CERTIFICATE'
  | 'PARSE_ERROR'
  | 'NOT_A_CA'
  | 'NO_KEY_CERT_SIGN'
  | 'EXPIRED'
  | 'NOT_YET_VALID'
  | 'EXPIRES_SOON'
  | 'DUPLICATE'
  | 'WEAK_KEY'
  | 'HINTS_TOO_LARGE'
  | 'TOO_LARGE'
  | 'TOO_MANY_BLOCKS';

/** Every lint code, in a stable order (docs, exhaustive tests). */
export const LINT_CODES: readonly LintCode[] = Object.freeze([
  'EMPTY',
  'NOT_PEM',
  'PRIVATE_KEY',
  'CSR',
  'NOT_A_CERTIFICATE',
  'PARSE_ERROR',
  'NOT_A_CA',
  'NO_KEY_CERT_SIGN',
  'EXPIRED',
  'NOT_YET_VALID',
  'EXPIRES_SOON',
  'DUPLICATE',
  'WEAK_KEY',
  'HINTS_TOO_LARGE',
  'TOO_LARGE',
  'TOO_MANY_BLOCKS',
] as const);

/** One finding of the lint. */
export interface LintProblem {
  code: LintCode;
  /** `error` makes the bundle unacceptable (`ok: false`); `warning` is advice. */
  severity: 'error' | 'warning';
  /** A sentence a person can act on. Never contains key or PEM material. */
  message: string;
  /** 0-based index of the PEM block the problem is about; absent for problems of the whole bundle. */
  index?: number;
  /** RFC 4514 subject of the certificate the problem is about, when it parsed. */
  subject?: string;
}

/** A CA certificate of the bundle, as the settings API shows it. */
export interface CaCertificateInfo {
  /** RFC 4514 string. */
  subject: string;
  /** RFC 4514 string. */
  issuer: string;
  /** Upper-case hex without separators (as node:crypto prints it). */
  serialNumber: string;
  /** ISO 8601 (UTC). */
  notBefore: string;
  /** ISO 8601 (UTC). */
  notAfter: string;
  /** SHA-256 of the DER, upper-case hex pairs with colons (as node:crypto prints it). */
  fingerprint256: string;
}

/** What {@link lintCaBundle} returns. */
export interface LintResult {
  /** True when no problem has severity `error`. */
  ok: boolean;
  /**
   * The bundle's CA certificates (parsed, basicConstraints cA=TRUE, duplicates removed), in bundle
   * order. Time-dependent problems (expired, not yet valid) do not remove a certificate from this list.
   */
  certificates: CaCertificateInfo[];
  /** Every finding, in bundle order; problems of the whole bundle last. */
  problems: LintProblem[];
}

/** Options of {@link lintCaBundle}. */
export interface LintOptions {
  /** The instant validity is judged at. Default: now. */
  time?: Date;
  /** Warn (`EXPIRES_SOON`) when a CA expires within this many days of `time`. Default 30; 0 disables. */
  expiryWarningDays?: number;
  /** Largest accepted bundle, in UTF-8 bytes. Default (and maximum) {@link LINT_MAX_BYTES}. */
  maxBytes?: number;
}

/** Default and maximum size of a bundle: 1 MiB. */
export const LINT_MAX_BYTES = 1024 * 1024;
/** At most this many PEM blocks are examined; more is `TOO_MANY_BLOCKS`. */
export const LINT_MAX_BLOCKS = 1000;
/**
 * TLS 1.2/1.3 CertificateRequest `certificate_authorities` is a vector of DistinguishedName with a
 * 2-byte length (at most 2^16 − 1 bytes), each name carrying its own 2-byte length prefix.
 */
export const CA_HINTS_MAX_BYTES = 0xffff;
/** RSA and DSA keys below this many bits are refused by the validator by default (`WEAK_ALGORITHM`). */
const MIN_RSA_BITS = 2048;
const DAY_MS = 24 * 3600_000;
const MAX_SUBJECT_IN_MESSAGE = 200;

const KEY_LABEL = /PRIVATE KEY$/;
const CSR_LABELS = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);

/** A subject fit for a message: control characters replaced, length capped. */
function shown(subject: string): string {
  const clean = subject.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  const text = clean.length > MAX_SUBJECT_IN_MESSAGE ? `${clean.slice(0, MAX_SUBJECT_IN_MESSAGE)}…` : clean;
  return text === '' ? '(empty subject)' : `"${text}"`;
}

function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

function day(ms: number): string {
  return iso(ms).slice(0, 10);
}

function resolveOptions(options: LintOptions | undefined): { time: number; warnMs: number; maxBytes: number } {
  const o = options ?? {};
  if (typeof o !== 'object') throw new CertgateOptionError('lintCaBundle: "options" must be an object');
  const time = o.time ?? new Date();
  if (!(time instanceof Date) || Number.isNaN(time.getTime())) {
    throw new CertgateOptionError('lintCaBundle: "time" must be a valid Date');
  }
  const days = o.expiryWarningDays ?? 30;
  if (typeof days !== 'number' || !Number.isFinite(days) || days < 0) {
    throw new CertgateOptionError('lintCaBundle: "expiryWarningDays" must be a non-negative number of days');
  }
  const maxBytes = o.maxBytes ?? LINT_MAX_BYTES;
  if (!Number.isInteger(maxBytes) || maxBytes < 1 || maxBytes > LINT_MAX_BYTES) {
    throw new CertgateOptionError(`lintCaBundle: "maxBytes" must be an integer from 1 to ${LINT_MAX_BYTES}`);
  }
  return { time: time.getTime(), warnMs: days * DAY_MS, maxBytes };
}

/** Why a text with no PEM block is not PEM, in words. */
function notPemMessage(text: string): string {
  const head = text.trimStart().slice(0, 64);
  // A DER certificate starts with SEQUENCE (0x30) followed by a long-form length (0x82, 0x83).
  if (/^0[\u0080-\u00ff\ufffd]/.test(head) || /[\u0000-\u0008\u000e-\u001f\ufffd]/.test(head)) {
    return 'The CA file looks like binary (DER) data, not PEM text. Convert it with `openssl x509 -inform der -in ca.der -out ca.pem` and upload the PEM file.';
  }
  if (/^MII[A-Za-z0-9+/]{8}/.test(head)) {
    return 'The CA text looks like base64 without the "-----BEGIN CERTIFICATE-----" and "-----END CERTIFICATE-----" lines. Upload the complete PEM file, including those lines.';
  }
  return 'The CA text contains no PEM block. Upload the CA certificate as a PEM file: text starting with "-----BEGIN CERTIFICATE-----".';
}

function labelProblem(label: string, index: number): LintProblem {
  const n = index + 1;
  if (KEY_LABEL.test(label)) {
    return {
      code: 'PRIVATE_KEY',
      severity: 'error',
      index,
      message: `PEM block ${n} is a private key (${label}). Never upload a private key: the CA bundle needs only the CA's certificate (a BEGIN CERTIFICATE block). Remove the key from the file, and treat the key as exposed if it was shared.`,
    };
  }
  if (CSR_LABELS.has(label)) {
    return {
      code: 'CSR',
      severity: 'error',
      index,
      message: `PEM block ${n} is a certificate signing request (CSR), not a certificate. Upload the CA's certificate (a BEGIN CERTIFICATE block) instead.`,
    };
  }
  const hints: Record<string, string> = {
    'TRUSTED CERTIFICATE':
      'It is in OpenSSL\'s "trusted certificate" format; convert it with `openssl x509 -in ca.pem -out plain.pem` and upload the result.',
    'X509 CRL': 'It is a certificate revocation list (CRL); upload the CA certificate itself.',
    PKCS7: 'It is a PKCS#7 bundle; extract the certificates with `openssl pkcs7 -print_certs -in bundle.p7b` and upload those.',
    'PUBLIC KEY': 'It is a bare public key; upload the CA certificate that contains it.',
  };
  return {
    code: 'NOT_A_CERTIFICATE',
    severity: 'error',
    index,
    message: `PEM block ${n} is a "${label}" block, not a certificate. ${hints[label] ?? 'Upload the CA certificate (a BEGIN CERTIFICATE block).'}`,
  };
}

const RSA_DSA_KEY_OIDS = new Set(['1.2.840.113549.1.1.1', '1.2.840.113549.1.1.10', '1.2.840.10040.4.1']);

function rsaBits(cert: ParsedCertificate): number | null {
  if (!RSA_DSA_KEY_OIDS.has(cert.spki.algorithm.oid)) return null;
  try {
    const key = createPublicKey({ key: Buffer.from(cert.spki.der), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss' || key.asymmetricKeyType === 'dsa') {
      return key.asymmetricKeyDetails?.modulusLength ?? null;
    }
  } catch {
    // A key node:crypto cannot read is the validator's business (UNSUPPORTED_ALGORITHM), not the lint's.
  }
  return null;
}

function certProblems(cert: ParsedCertificate, index: number, t: number, warnMs: number): LintProblem[] {
  const out: LintProblem[] = [];
  const subject = formatName(cert.subject);
  const who = `Certificate ${index + 1} (${shown(subject)})`;
  const p = (code: LintCode, severity: LintProblem['severity'], message: string): void => {
    out.push({ code, severity, message, index, subject });
  };
  if (!cert.basicConstraints?.ca) {
    if (cert.version < 3 || cert.basicConstraints === undefined) {
      const looksLeaf = cert.extKeyUsage !== undefined || cert.subjectAltName !== undefined;
      p(
        'NOT_A_CA',
        'error',
        `${who} is not marked as a CA (it has no basicConstraints extension with cA=TRUE)${looksLeaf ? ' and looks like a client or server certificate' : ''}. Upload the certificate of the CA that issues your client certificates.`,
      );
    } else {
      p(
        'NOT_A_CA',
        'error',
        `${who} is not a CA certificate (basicConstraints cA=FALSE): it is a client or server certificate, uploaded by mistake. Upload the certificate of the CA that issued it instead.`,
      );
    }
  } else if (cert.keyUsage !== undefined && (cert.keyUsage & (1 << 5)) === 0) {
    p(
      'NO_KEY_CERT_SIGN',
      'error',
      `${who} is a CA certificate whose keyUsage does not allow signing certificates (keyCertSign), so no client certificate can validate against it. Upload the CA certificate that actually signs your client certificates, or reissue this CA with keyCertSign.`,
    );
  }
  if (cert.notAfter < t) {
    p('EXPIRED', 'error', `${who} expired on ${day(cert.notAfter)}. Renew the CA (or upload its successor) before using it.`);
  } else if (cert.notBefore > t) {
    p(
      'NOT_YET_VALID',
      'error',
      `${who} is not valid until ${iso(cert.notBefore)}. Check the CA's dates and the server's clock, or upload it once it is valid.`,
    );
  } else if (warnMs > 0 && cert.notAfter - t < warnMs) {
    const days = Math.max(0, Math.floor((cert.notAfter - t) / DAY_MS));
    p(
      'EXPIRES_SOON',
      'warning',
      `${who} expires on ${day(cert.notAfter)} (in ${days} day${days === 1 ? '' : 's'}). Plan its renewal: client certificates stop validating when it expires.`,
    );
  }
  const bits = rsaBits(cert);
  if (bits !== null && bits < MIN_RSA_BITS) {
    p(
      'WEAK_KEY',
      'error',
      `${who} has a ${bits}-bit key; keys under ${MIN_RSA_BITS} bits are refused. Use a CA with an RSA key of at least ${MIN_RSA_BITS} bits or an EC key.`,
    );
  }
  return out;
}

/**
 * Lint a CA bundle (PEM text with one or more certificates) before accepting it as the trust store.
 * `ok` is false when any problem is an `error`. Throws {@link CertgateOptionError} only for bad options.
 */
export function lintCaBundle(pem: string, options?: LintOptions): LintResult {
  const { time, warnMs, maxBytes } = resolveOptions(options);
  const problems: LintProblem[] = [];
  const certificates: CaCertificateInfo[] = [];
  const done = (): LintResult => ({ ok: !problems.some((p) => p.severity === 'error'), certificates, problems });

  if (typeof pem !== 'string') {
    problems.push({ code: 'NOT_PEM', severity: 'error', message: 'The CA must be given as PEM text.' });
    return done();
  }
  // A string's UTF-8 size is at most 3 bytes per UTF-16 unit; measure exactly only when it matters.
  if (pem.length > maxBytes || (pem.length * 3 > maxBytes && Buffer.byteLength(pem, 'utf8') > maxBytes)) {
    problems.push({
      code: 'TOO_LARGE',
      severity: 'error',
      message: `The CA bundle is larger than ${maxBytes} bytes. Upload only the CA certificates that issue your client certificates.`,
    });
    return done();
  }
  if (pem.trim() === '') {
    problems.push({ code: 'EMPTY', severity: 'error', message: 'The CA file is empty. Upload the CA certificate as PEM text.' });
    return done();
  }
  const blocks = readPemBlocks(pem);
  if (blocks.length === 0) {
    problems.push({ code: 'NOT_PEM', severity: 'error', message: notPemMessage(pem) });
    return done();
  }
  if (blocks.length > LINT_MAX_BLOCKS) {
    problems.push({
      code: 'TOO_MANY_BLOCKS',
      severity: 'error',
      message: `The CA bundle has ${blocks.length} PEM blocks; at most ${LINT_MAX_BLOCKS} are accepted. Upload only the CA certificates that issue your client certificates.`,
    });
    return done();
  }

  const seen = new Map<string, number>();
  let hintBytes = 0;
  for (const block of blocks) {
    const n = block.index + 1;
    if (block.label !== 'CERTIFICATE') {
      problems.push(labelProblem(block.label, block.index));
      continue;
    }
    if (block.der === null) {
      problems.push({
        code: 'PARSE_ERROR',
        severity: 'error',
        index: block.index,
        message: `PEM block ${n} is not valid base64, or its END line does not match its BEGIN line. Export the certificate again (PEM format) and upload that file unmodified.`,
      });
      continue;
    }
    let cert: ParsedCertificate;
    try {
      cert = parseCertificate(block.der);
    } catch (err) {
      const reason = err instanceof Error ? err.message.replace(/\.$/, '') : 'unknown error';
      problems.push({
        code: 'PARSE_ERROR',
        severity: 'error',
        index: block.index,
        message: `Certificate ${n} could not be parsed (${reason}). Export it again from the CA as a PEM certificate.`,
      });
      continue;
    }
    const first = seen.get(cert.sha256);
    if (first !== undefined) {
      problems.push({
        code: 'DUPLICATE',
        severity: 'warning',
        index: block.index,
        subject: formatName(cert.subject),
        message: `Certificate ${n} (${shown(formatName(cert.subject))}) is the same certificate as certificate ${first + 1}; the copy is ignored.`,
      });
      continue;
    }
    seen.set(cert.sha256, block.index);
    problems.push(...certProblems(cert, block.index, time, warnMs));
    if (cert.basicConstraints?.ca) {
      hintBytes += cert.subject.der.length + 2;
      certificates.push({
        subject: formatName(cert.subject),
        issuer: formatName(cert.issuer),
        serialNumber: serialHex(cert.serialNumber),
        notBefore: iso(cert.notBefore),
        notAfter: iso(cert.notAfter),
        fingerprint256: colonHex(cert.sha256),
      });
    }
  }
  if (hintBytes > CA_HINTS_MAX_BYTES) {
    problems.push({
      code: 'HINTS_TOO_LARGE',
      severity: 'error',
      message: `The CA names of this bundle take ${hintBytes} bytes, more than the ${CA_HINTS_MAX_BYTES} bytes a TLS CertificateRequest can carry, so the server could not ask clients for a certificate. Upload fewer CA certificates (only those that issue your client certificates).`,
    });
  }
  return done();
}
