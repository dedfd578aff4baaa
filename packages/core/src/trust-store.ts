/**
 * @module
 * The trust store: the uploaded CA bundle (every certificate of it can be a trust anchor), optional
 * server-side intermediates, and caches that live as long as the store (one "generation").
 */
import { parseCertificate } from './cert/parse.js';
import type { ParsedCertificate } from './cert/model.js';
import type { SignatureCheck } from './cert/signature.js';
import { LruMap } from './lru.js';
import { parseCrlCached, readCrlPemBlocks, type ParsedCrl } from './cert/crl.js';
import { formatName } from './cert/name.js';
import { CrlSet } from './revocation/crl-set.js';
import { colonHex, summarize } from './identity.js';
import { MAX_PEM_TEXT, readPemBlocks } from './pem.js';
import { CertgateInputError, CertgateOptionError } from './errors.js';
import type { CertificateSummary } from './types.js';

/** A PEM block of the bundle that was left out of the store, and why. */
export interface TrustStoreProblem {
  /** `anchors`, `intermediates` or `crls`: which input the block came from. */
  source: 'anchors' | 'intermediates' | 'crls';
  /** 0-based index of the PEM block in that input (for `crls`: the index of the element of the `crls` array). */
  index: number;
  /** The block's PEM label (`DER` for a CRL given as bytes). */
  label: string;
  message: string;
}

/** A summary of one CRL of the store (what a settings page shows). */
export interface CrlSummary {
  /** RFC 4514 string of the CRL issuer. */
  issuer: string;
  thisUpdate: Date;
  /** null when the CRL has no nextUpdate. */
  nextUpdate: Date | null;
  /** Number of revoked-certificate entries. */
  entryCount: number;
  /** cRLNumber in decimal, or null when absent. */
  crlNumber: string | null;
  /** True for a delta CRL (deltaCRLIndicator). */
  delta: boolean;
  /** SHA-256 of the DER, upper-case hex pairs separated by colons. */
  fingerprint256: string;
}

/** Upper bound on the CRLs of one store. Each CRL may be up to `MAX_CRL_SIZE` (64 MiB) of DER. */
export const MAX_STORE_CRLS = 256;

/** Options of {@link TrustStore.fromPem}. */
export interface TrustStoreOptions {
  /**
   * CRLs: each element PEM text (one or more `X509 CRL` blocks) or DER bytes. A CRL that does not parse
   * is left out and listed in {@link TrustStore.problems}. With at least one CRL, `verifyChain` checks
   * revocation by default (`revocation: 'hard'`). At most 256 CRLs of at most 64 MiB each.
   */
  crls?: (string | Uint8Array)[];
  /** Intermediate certificates (PEM) that the server adds to every client's pool of path-building candidates. */
  intermediates?: string;
}

/** @internal The store's parsed content, shared with the validator only. */
export interface TrustStoreInternals {
  anchors: ParsedCertificate[];
  anchorsBySubject: Map<string, ParsedCertificate[]>;
  anchorHashes: Set<string>;
  intermediates: ParsedCertificate[];
  crls: CrlSet;
  /** Parsed chain certificates by SHA-256 of their DER (intermediates clients send again and again). */
  parsed: LruMap<string, ParsedCertificate>;
  /** Signature checks by `${child.sha256}:${issuer.sha256}:${allowWeak}` (a pure function of those bytes). */
  edges: LruMap<string, SignatureCheck>;
}

/** Bounds of the per-store caches. */
export const STORE_CACHE_LIMITS = Object.freeze({ parsedCertificates: 2048, signatureChecks: 8192 });

function newCaches(): Pick<TrustStoreInternals, 'parsed' | 'edges'> {
  return { parsed: new LruMap(STORE_CACHE_LIMITS.parsedCertificates), edges: new LruMap(STORE_CACHE_LIMITS.signatureChecks) };
}

const internals = new WeakMap<TrustStore, TrustStoreInternals>();
let nextGeneration = 1;

/** @internal */
export function storeInternals(store: TrustStore): TrustStoreInternals {
  const i = internals.get(store);
  if (!i) throw new CertgateOptionError('verifyChain: "store" must be a TrustStore created by TrustStore.fromPem()');
  return i;
}

/** @internal The {@link CrlSummary} of a parsed CRL (TrustStore.crls, lintCrls). */
export function crlSummary(c: ParsedCrl): CrlSummary {
  return {
    issuer: formatName(c.issuer),
    thisUpdate: new Date(c.thisUpdate),
    nextUpdate: c.nextUpdate === null ? null : new Date(c.nextUpdate),
    entryCount: c.entryCount,
    crlNumber: c.crlNumber === null ? null : c.crlNumber.toString(),
    delta: c.deltaBase !== null,
    fingerprint256: colonHex(c.sha256),
  };
}

/** A copy of the `crls` option (each element read once), or the typed option error (also when reading it throws: a getter, a Proxy). */
function checkCrlOption(crls: unknown, fn: string): (string | Uint8Array)[] {
  let list: unknown[] | null = null;
  try {
    list = Array.isArray(crls) ? Array.from(crls as unknown[]) : null;
  } catch {
    list = null;
  }
  if (list === null || list.some((c) => typeof c !== 'string' && !(c instanceof Uint8Array))) {
    throw new CertgateOptionError(`${fn}: "crls" must be an array of PEM strings or DER bytes (Uint8Array)`);
  }
  return list as (string | Uint8Array)[];
}

/** Parses the CRL inputs (PEM texts or DER); what does not parse goes to `problems`. */
function parseCrls(crls: readonly (string | Uint8Array)[], problems: TrustStoreProblem[]): ParsedCrl[] {
  const out: ParsedCrl[] = [];
  const add = (der: Uint8Array, index: number, label: string, what: string) => {
    if (out.length >= MAX_STORE_CRLS) {
      problems.push({ source: 'crls', index, label, message: `${what} was ignored: a store holds at most ${MAX_STORE_CRLS} CRLs.` });
      return;
    }
    try {
      out.push(parseCrlCached(der));
    } catch (err) {
      problems.push({ source: 'crls', index, label, message: `${what} could not be parsed: ${(err as Error).message}` });
    }
  };
  for (let i = 0; i < crls.length; i++) {
    const item = crls[i]!;
    if (item instanceof Uint8Array) {
      add(item, i, 'DER', `CRL ${i + 1}`);
      continue;
    }
    const blocks = readCrlPemBlocks(item);
    if (blocks.length === 0) {
      problems.push({ source: 'crls', index: i, label: 'X509 CRL', message: `CRL ${i + 1} holds no PEM "X509 CRL" block; it was ignored.` });
    }
    for (const b of blocks) {
      const what = blocks.length > 1 ? `PEM block ${b.index + 1} of CRL ${i + 1}` : `CRL ${i + 1}`;
      if (!b.der) problems.push({ source: 'crls', index: i, label: 'X509 CRL', message: `${what} was ignored: ${b.problem ?? 'it is not valid PEM.'}` });
      else add(b.der, i, 'X509 CRL', what);
    }
  }
  return out;
}

function parseBlocks(
  text: string,
  source: TrustStoreProblem['source'],
  problems: TrustStoreProblem[],
): ParsedCertificate[] {
  const out: ParsedCertificate[] = [];
  const seen = new Set<string>();
  if (text.length > MAX_PEM_TEXT) {
    problems.push({ source, index: 0, label: 'CERTIFICATE', message: `The PEM text is ${text.length} characters long, more than the ${MAX_PEM_TEXT} certgate reads; none of its blocks was used.` });
    return out;
  }
  for (const block of readPemBlocks(text)) {
    if (block.label !== 'CERTIFICATE') {
      problems.push({ source, index: block.index, label: block.label, message: `PEM block ${block.index + 1} is a ${block.label}, not a CERTIFICATE; it was ignored.` });
      continue;
    }
    if (!block.der) {
      problems.push({ source, index: block.index, label: block.label, message: `PEM block ${block.index + 1} is not valid base64 (or its END line does not match); it was ignored.` });
      continue;
    }
    let cert: ParsedCertificate;
    try {
      cert = parseCertificate(block.der);
    } catch (err) {
      problems.push({ source, index: block.index, label: block.label, message: `Certificate ${block.index + 1} could not be parsed: ${(err as Error).message}` });
      continue;
    }
    if (seen.has(cert.sha256)) continue;
    seen.add(cert.sha256);
    out.push(cert);
  }
  return out;
}

/**
 * A set of trust anchors (the uploaded CA bundle) plus optional server-side intermediates.
 * Immutable: a settings change builds a new store (with a new {@link TrustStore.generation}).
 */
export class TrustStore {
  /** Summaries of the trust anchors, in bundle order (duplicates removed). */
  readonly anchors: readonly CertificateSummary[];
  /** Summaries of the server-side intermediates. */
  readonly intermediates: readonly CertificateSummary[];
  /** Summaries of the CRLs (duplicates removed), in input order. */
  readonly crls: readonly CrlSummary[];
  /** PEM blocks that were left out, with the reason. Use `lintCaBundle` to refuse a bad upload. */
  readonly problems: readonly TrustStoreProblem[];
  /** A number unique to this store instance within the process (cache keys, metrics). */
  readonly generation: number;

  private constructor(i: TrustStoreInternals, problems: TrustStoreProblem[]) {
    internals.set(this, i);
    this.anchors = Object.freeze(i.anchors.map((c) => summarize(c)));
    this.intermediates = Object.freeze(i.intermediates.map((c) => summarize(c)));
    this.crls = Object.freeze(i.crls.all.map(crlSummary));
    this.problems = Object.freeze(problems);
    this.generation = nextGeneration++;
    Object.freeze(this);
  }

  /**
   * Builds a store from a PEM bundle. Every CERTIFICATE block that parses becomes a trust anchor; a
   * block that does not parse is left out and listed in {@link TrustStore.problems}.
   *
   * @throws CertgateInputError (`ERR_CERTGATE_INVALID_INPUT`) when the text holds no PEM CERTIFICATE block at all.
   * @throws CertgateOptionError (`ERR_CERTGATE_INVALID_OPTION`) for options of the wrong type.
   * @example
   * const store = TrustStore.fromPem(fs.readFileSync('ca.pem', 'utf8'));
   */
  static fromPem(pem: string, options: TrustStoreOptions = {}): TrustStore {
    if (typeof pem !== 'string') throw new CertgateOptionError('TrustStore.fromPem: "pem" must be a string of PEM text');
    if (options === null || typeof options !== 'object') throw new CertgateOptionError('TrustStore.fromPem: "options" must be an object');
    let intermediatesPem: unknown;
    let crlsOption: unknown;
    try {
      intermediatesPem = options.intermediates;
      crlsOption = options.crls;
    } catch {
      throw new CertgateOptionError('TrustStore.fromPem: the options could not be read (a getter or Proxy trap threw)');
    }
    if (intermediatesPem !== undefined && typeof intermediatesPem !== 'string') {
      throw new CertgateOptionError('TrustStore.fromPem: "intermediates" must be a string of PEM text');
    }
    const crlInputs = crlsOption === undefined ? [] : checkCrlOption(crlsOption, 'TrustStore.fromPem');
    // A text too long to read (readPemBlocks gives nothing for it) is not "no block": it goes to problems.
    if (!(pem.length > MAX_PEM_TEXT ? pem.includes('-----BEGIN CERTIFICATE-----') : readPemBlocks(pem).some((b) => b.label === 'CERTIFICATE'))) {
      throw new CertgateInputError('TrustStore.fromPem: the text holds no PEM CERTIFICATE block');
    }
    const problems: TrustStoreProblem[] = [];
    const anchors = parseBlocks(pem, 'anchors', problems);
    const intermediates = intermediatesPem ? parseBlocks(intermediatesPem as string, 'intermediates', problems) : [];
    const crls = new CrlSet(parseCrls(crlInputs, problems));
    const anchorsBySubject = new Map<string, ParsedCertificate[]>();
    for (const a of anchors) {
      const list = anchorsBySubject.get(a.subject.key);
      if (list) list.push(a);
      else anchorsBySubject.set(a.subject.key, [a]);
    }
    return new TrustStore(
      { anchors, anchorsBySubject, anchorHashes: new Set(anchors.map((a) => a.sha256)), intermediates, crls, ...newCaches() },
      problems,
    );
  }

  /**
   * A new store with the same anchors and intermediates and these CRLs instead of the current ones (a
   * new {@link TrustStore.generation}). CRL problems of this store are replaced by those of the new CRLs.
   *
   * @throws CertgateOptionError (`ERR_CERTGATE_INVALID_OPTION`) when `crls` is not an array of strings / bytes.
   * @example
   * store = store.withCrls([fs.readFileSync('ca.crl')]);
   */
  withCrls(crls: (string | Uint8Array)[]): TrustStore {
    const list = checkCrlOption(crls, 'TrustStore.withCrls');
    const i = storeInternals(this);
    const problems = this.problems.filter((p) => p.source !== 'crls');
    const set = new CrlSet(parseCrls(list, problems));
    return new TrustStore({ ...i, crls: set, ...newCaches() }, problems);
  }
}
