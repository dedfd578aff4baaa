/**
 * @module
 * `lintCrls`: checks an uploaded CRL set against the CA bundle it is meant for, before a settings save
 * accepts it (the CRL counterpart of `lintCaBundle`): parse errors, size, a signature by a certificate of
 * the bundle (or of the given intermediates) that may sign CRLs, validity at `time`, and the rules that
 * would make `verifyChain` ignore the CRL (missing or critical cRLNumber, unknown critical extensions).
 */
import { MAX_CRL_SIZE, parseCrlCached, readCrlPemBlocks, type ParsedCrl } from '../cert/crl.js';
import type { ParsedCertificate } from '../cert/model.js';
import { KeyUsageBit } from '../cert/model.js';
import { formatName } from '../cert/name.js';
import { parseCertificate } from '../cert/parse.js';
import { verifySignature } from '../cert/signature.js';
import { readPemBlocks } from '../pem.js';
import { crlSummary, type CrlSummary } from '../trust-store.js';

/** Codes of {@link lintCrls} problems. Public API. */
export type CrlLintCode =
  | 'CRL_EMPTY'
  | 'CRL_TOO_MANY'
  | 'CRL_TOO_LARGE'
  | 'CRL_PARSE_ERROR'
  | 'CRL_UNKNOWN_ISSUER'
  | 'CRL_BAD_SIGNATURE'
  | 'CRL_ISSUER_NO_CRLSIGN'
  | 'CRL_EXPIRED'
  | 'CRL_NOT_YET_VALID'
  | 'CRL_UNUSABLE';

export interface CrlLintProblem {
  code: CrlLintCode;
  /** 0-based index of the CRL (PEM block or array element) the problem is about; absent for the set. */
  index?: number;
  message: string;
}

export interface CrlLintResult {
  /** True when there is no problem. */
  ok: boolean;
  problems: CrlLintProblem[];
  /** Summaries of the CRLs that parsed, in input order. */
  crls: CrlSummary[];
}

export interface CrlLintOptions {
  /** Default: now. */
  time?: Date;
  /** More certificates (PEM) that may sign CRLs: separate CRL-signing certificates, indirect CRL issuers. */
  intermediatesPem?: string;
}

/** At most this many CRLs per upload (as a trust store holds). */
export const CRL_LINT_MAX = 256;

function certsOf(pem: string): ParsedCertificate[] {
  const out: ParsedCertificate[] = [];
  for (const b of readPemBlocks(pem)) {
    if (b.label !== 'CERTIFICATE' || !b.der) continue;
    try {
      out.push(parseCertificate(b.der));
    } catch {
      // lintCaBundle reports certificates that do not parse.
    }
  }
  return out;
}

/**
 * Lints CRLs (PEM text with one or more `X509 CRL` blocks, or a list of PEM strings / DER bytes) against
 * the CA bundle they belong to. Never throws for bad input.
 *
 * @example
 * const r = lintCrls(body.crlPem, caPem);
 * if (!r.ok) return res.status(400).json({ error: { code: 'CRL_INVALID', message: r.problems[0].message, problems: r.problems } });
 */
export function lintCrls(crls: string | readonly (string | Uint8Array)[], caBundlePem: string, options: CrlLintOptions = {}): CrlLintResult {
  const time = options.time?.getTime() ?? Date.now();
  const problems: CrlLintProblem[] = [];
  const out: CrlSummary[] = [];
  const ders: { der: Uint8Array; index: number }[] = [];
  const inputs = typeof crls === 'string' ? [crls] : Array.isArray(crls) ? crls : [];
  let index = 0;
  for (const item of inputs) {
    if (item instanceof Uint8Array) {
      ders.push({ der: item, index: index++ });
    } else if (typeof item === 'string') {
      for (const b of readCrlPemBlocks(item)) {
        const i = index++;
        if (b.der) ders.push({ der: b.der, index: i });
        else problems.push({ code: b.problem?.includes('larger') ? 'CRL_TOO_LARGE' : 'CRL_PARSE_ERROR', index: i, message: `CRL ${i + 1}: ${b.problem ?? 'not valid PEM.'}` });
      }
    }
  }
  if (index === 0) {
    problems.push({ code: 'CRL_EMPTY', message: 'No CRL was found: the upload must hold at least one PEM "X509 CRL" block.' });
    return { ok: false, problems, crls: out };
  }
  if (index > CRL_LINT_MAX) {
    problems.push({ code: 'CRL_TOO_MANY', message: `The upload holds ${index} CRLs; at most ${CRL_LINT_MAX} are accepted.` });
    return { ok: false, problems, crls: out };
  }
  const signers = [...(typeof caBundlePem === 'string' ? certsOf(caBundlePem) : []), ...(options.intermediatesPem ? certsOf(options.intermediatesPem) : [])];
  for (const { der, index: i } of ders) {
    const n = `CRL ${i + 1}`;
    if (der.length > MAX_CRL_SIZE) {
      problems.push({ code: 'CRL_TOO_LARGE', index: i, message: `${n} is ${der.length} bytes; CRLs of at most 64 MiB are accepted.` });
      continue;
    }
    let crl: ParsedCrl;
    try {
      crl = parseCrlCached(der);
    } catch (err) {
      problems.push({ code: 'CRL_PARSE_ERROR', index: i, message: `${n} could not be parsed: ${(err as Error).message}` });
      continue;
    }
    out.push(crlSummary(crl));
    const who = `${n} (issuer "${formatName(crl.issuer)}")`;
    const named = signers.filter((c) => c.subject.key === crl.issuer.key);
    if (named.length === 0) {
      problems.push({ code: 'CRL_UNKNOWN_ISSUER', index: i, message: `${who} is not issued by a CA of the uploaded bundle.` });
    } else {
      const signer = named.find((c) => verifySignature(crl, c.spki, { allowWeak: true, inheritedDsaParams: null }).ok);
      if (!signer) {
        problems.push({ code: 'CRL_BAD_SIGNATURE', index: i, message: `${who} has a signature that does not verify with the key of any CA of that name in the bundle.` });
      } else if (signer.keyUsage !== undefined && !(signer.keyUsage & KeyUsageBit.cRLSign)) {
        problems.push({ code: 'CRL_ISSUER_NO_CRLSIGN', index: i, message: `${who} is signed by a CA whose keyUsage does not include cRLSign, so certgate will not use it.` });
      }
    }
    if (crl.nextUpdate !== null && crl.nextUpdate < time) {
      problems.push({ code: 'CRL_EXPIRED', index: i, message: `${who} is out of date: its nextUpdate ${new Date(crl.nextUpdate).toISOString()} has passed; upload a current CRL.` });
    }
    if (crl.thisUpdate > time) {
      problems.push({ code: 'CRL_NOT_YET_VALID', index: i, message: `${who} is not valid before ${new Date(crl.thisUpdate).toISOString()}.` });
    }
    const unusable = [
      ...crl.problems,
      ...(crl.unknownCriticalExtensions.length ? [`it has critical extensions certgate does not process (${crl.unknownCriticalExtensions.join(', ')})`] : []),
      ...(crl.unknownCriticalEntryExtensions.length ? [`it has critical entry extensions certgate does not process (${crl.unknownCriticalEntryExtensions.join(', ')})`] : []),
    ];
    if (unusable.length > 0) problems.push({ code: 'CRL_UNUSABLE', index: i, message: `${who} would not be used: ${unusable.join('; ')}.` });
  }
  return { ok: problems.length === 0, problems, crls: out };
}
