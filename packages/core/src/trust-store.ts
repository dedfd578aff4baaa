/**
 * @module
 * The trust store: the uploaded CA bundle (every certificate of it can be a trust anchor), optional
 * server-side intermediates, and caches that live as long as the store (one "generation").
 */
import { parseCertificate } from './cert/parse.js';
import type { ParsedCertificate } from './cert/model.js';
import { summarize } from './identity.js';
import { readPemBlocks } from './pem.js';
import { CertgateInputError, CertgateOptionError } from './errors.js';
import type { CertificateSummary } from './types.js';

/** A PEM block of the bundle that was left out of the store, and why. */
export interface TrustStoreProblem {
  /** `anchors` or `intermediates`: which input the block came from. */
  source: 'anchors' | 'intermediates';
  /** 0-based index of the PEM block in that input. */
  index: number;
  /** The block's PEM label. */
  label: string;
  message: string;
}

/** Options of {@link TrustStore.fromPem}. */
export interface TrustStoreOptions {
  /** CRLs (PEM). Revocation checking is not implemented yet: a non-empty list is refused. */
  crls?: string[];
  /** Intermediate certificates (PEM) that the server adds to every client's pool of path-building candidates. */
  intermediates?: string;
}

/** @internal The store's parsed content, shared with the validator only. */
export interface TrustStoreInternals {
  anchors: ParsedCertificate[];
  anchorsBySubject: Map<string, ParsedCertificate[]>;
  anchorHashes: Set<string>;
  intermediates: ParsedCertificate[];
}

const internals = new WeakMap<TrustStore, TrustStoreInternals>();
let nextGeneration = 1;

/** @internal */
export function storeInternals(store: TrustStore): TrustStoreInternals {
  const i = internals.get(store);
  if (!i) throw new CertgateOptionError('verifyChain: "store" must be a TrustStore created by TrustStore.fromPem()');
  return i;
}

function parseBlocks(
  text: string,
  source: TrustStoreProblem['source'],
  problems: TrustStoreProblem[],
): ParsedCertificate[] {
  const out: ParsedCertificate[] = [];
  const seen = new Set<string>();
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
  /** PEM blocks that were left out, with the reason. Use `lintCaBundle` to refuse a bad upload. */
  readonly problems: readonly TrustStoreProblem[];
  /** A number unique to this store instance within the process (cache keys, metrics). */
  readonly generation: number;

  private constructor(i: TrustStoreInternals, problems: TrustStoreProblem[]) {
    internals.set(this, i);
    this.anchors = Object.freeze(i.anchors.map(summarize));
    this.intermediates = Object.freeze(i.intermediates.map(summarize));
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
    if (options.intermediates !== undefined && typeof options.intermediates !== 'string') {
      throw new CertgateOptionError('TrustStore.fromPem: "intermediates" must be a string of PEM text');
    }
    if (options.crls !== undefined) {
      if (!Array.isArray(options.crls) || options.crls.some((c) => typeof c !== 'string')) {
        throw new CertgateOptionError('TrustStore.fromPem: "crls" must be an array of PEM strings');
      }
      if (options.crls.length > 0) {
        throw new CertgateOptionError('TrustStore.fromPem: "crls" is not supported yet (revocation checking is not implemented); pass no CRLs');
      }
    }
    if (!readPemBlocks(pem).some((b) => b.label === 'CERTIFICATE')) {
      throw new CertgateInputError('TrustStore.fromPem: the text holds no PEM CERTIFICATE block');
    }
    const problems: TrustStoreProblem[] = [];
    const anchors = parseBlocks(pem, 'anchors', problems);
    const intermediates = options.intermediates ? parseBlocks(options.intermediates, 'intermediates', problems) : [];
    const anchorsBySubject = new Map<string, ParsedCertificate[]>();
    for (const a of anchors) {
      const list = anchorsBySubject.get(a.subject.key);
      if (list) list.push(a);
      else anchorsBySubject.set(a.subject.key, [a]);
    }
    return new TrustStore(
      { anchors, anchorsBySubject, anchorHashes: new Set(anchors.map((a) => a.sha256)), intermediates },
      problems,
    );
  }
}
