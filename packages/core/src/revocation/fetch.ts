/**
 * @module
 * CRLs fetched from the CRL distribution points of a validated path (DESIGN §2: "optionally fetched
 * from the CRL distribution point with caching"). `verifyChain` asks the fetcher only for the
 * `http:`/`https:` distribution points of certificates on a path whose signatures already chain to a
 * trust anchor, so the addresses come from the CA, never from a client's unsigned input. Every fetch is
 * bounded (time, bytes, no redirects), every answer is cached until the CRL's nextUpdate (a failure for
 * `failureRetryMs`), identical fetches in flight are shared, and a fetched CRL is only input: it must
 * verify like an uploaded one before it counts.
 */
import type { ParsedCrl } from '../cert/crl.js';
import { MAX_CRL_SIZE, parseCrlCached, readCrlPemBlocks } from '../cert/crl.js';
import { LruMap } from '../lru.js';
import { askableUrl, boundedExchange, optionReader, remoteOptions } from './http.js';

/** Options of {@link createCrlFetcher}. */
export interface CrlFetcherOptions {
  /** Per fetch, milliseconds. Default 5000 (100 to 60000). */
  timeoutMs?: number;
  /** Largest CRL accepted, bytes. Default 16 MiB (at most 64 MiB). */
  maxBytes?: number;
  /** Distribution points kept. Default 64 (1 to 4096). */
  maxEntries?: number;
  /** How long a failed fetch is not retried, milliseconds. Default 60000. */
  failureRetryMs?: number;
  /** How long a CRL without nextUpdate is kept, milliseconds. Default 1 hour. */
  defaultTtlMs?: number;
  /** Which distribution points may be fetched at all (e.g. only your CA's host). Default: every http/https URL. */
  allowUrl?: (url: URL) => boolean;
  /** The clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** The fetch implementation. Default the global `fetch`. */
  fetch?: typeof fetch;
}

/** What one distribution point gave. */
export type CrlFetchResult = { ok: true; crl: ParsedCrl; url: string } | { ok: false; url: string; error: string };

/** Fetches and caches CRLs by distribution point URL. */
export interface CrlFetcher {
  /** The CRL at `url` (from the cache while it is current). Never rejects. */
  get(url: string): Promise<CrlFetchResult>;
  /** Network fetches made (cache hits and shared fetches not counted). */
  readonly fetches: number;
  /** Fetches that failed. */
  readonly failures: number;
  /** Distribution points cached now. */
  readonly size: number;
  /** Forgets every cached answer. */
  clear(): void;
}

/** Distribution points fetched per verification, at most. */
export const MAX_FETCHED_CRLS_PER_VERIFICATION = 4;

const reader = optionReader('createCrlFetcher');
const { invalid, int: intOption } = reader;

type Entry = { result: CrlFetchResult; until: number };

/** The fetchers {@link createCrlFetcher} made: verifyChain takes no other (their answers are parsed CRLs it can trust to be well-formed). */
const made = new WeakSet<object>();

/** @internal Whether `x` is a fetcher made by {@link createCrlFetcher}. */
export function isCrlFetcher(x: unknown): x is CrlFetcher {
  return typeof x === 'object' && x !== null && made.has(x);
}

/**
 * Creates a CRL fetcher for `verifyChain`'s `crlFetcher` option. Throws `ERR_CERTGATE_INVALID_OPTION`
 * for bad options.
 *
 * @example
 * const crlFetcher = createCrlFetcher({ allowUrl: (u) => u.hostname === 'crl.example.com' });
 * const r = await verifyChain(chain, store, { crlFetcher, revocation: 'hard' });
 */
export function createCrlFetcher(options: CrlFetcherOptions = {}): CrlFetcher {
  if (options === null || typeof options !== 'object') invalid('"options" must be an object');
  const { timeoutMs, failureRetryMs, now, fetch: doFetch } = remoteOptions(reader, options);
  const maxBytes = intOption('maxBytes', options.maxBytes, 16 * 1024 * 1024, 1024, MAX_CRL_SIZE);
  const maxEntries = intOption('maxEntries', options.maxEntries, 64, 1, 4096);
  const defaultTtlMs = intOption('defaultTtlMs', options.defaultTtlMs, 3_600_000, 1000, 7 * 86_400_000);
  const cache = new LruMap<string, Entry>(maxEntries);
  const inFlight = new Map<string, Promise<CrlFetchResult>>();
  let fetches = 0;
  let failures = 0;

  async function load(url: string): Promise<CrlFetchResult> {
    const fail = (error: string): CrlFetchResult => {
      failures++;
      return { ok: false, url, error };
    };
    const u = askableUrl(url, options.allowUrl);
    if (!(u instanceof URL)) {
      const error = u.refused === 'not-a-url' ? 'not a URL' : u.refused === 'scheme' ? `${u.protocol} distribution points are not fetched` : 'not allowed by allowUrl';
      return { ok: false, url, error };
    }
    fetches++;
    const got = await boundedExchange(u, { fetch: doFetch, timeoutMs, maxBytes, headers: { accept: 'application/pkix-crl, application/x-pkcs7-crl, */*' } });
    if (!got.ok) {
      switch (got.failed) {
        case 'request':
          return fail(`fetching failed: ${got.detail}`);
        case 'status':
          return fail(`HTTP ${got.status}`);
        case 'too-large':
          return fail(`larger than ${maxBytes} bytes`);
        case 'no-body':
          return fail('no body');
        case 'read':
          return fail(`reading failed: ${got.detail}`);
      }
    }
    const bytes = got.bytes;
    let der: Uint8Array = bytes;
    if (bytes[0] !== 0x30) {
      const blocks = readCrlPemBlocks(bytes.toString('latin1'));
      const first = blocks.find((b) => b.der);
      if (!first?.der) return fail('neither a DER CRL nor a PEM X509 CRL block');
      der = first.der;
    }
    try {
      return { ok: true, url, crl: parseCrlCached(der) };
    } catch (err) {
      return fail(`not a CRL: ${(err as Error).message}`);
    }
  }

  const fetcher: CrlFetcher = {
    get(url) {
      const t = now();
      const hit = cache.get(url);
      if (hit && t < hit.until) return Promise.resolve(hit.result);
      const pending = inFlight.get(url);
      if (pending) return pending;
      const p = load(url).catch((err: unknown): CrlFetchResult => ({ ok: false, url, error: `fetching failed: ${(err as Error)?.message ?? String(err)}` })).then((result) => {
        const t = now();
        // A CRL already past its nextUpdate (a stale one at the distribution point) is kept like a failure,
        // for failureRetryMs: otherwise every verification would fetch it again.
        const next = result.ok ? (result.crl.nextUpdate ?? t + defaultTtlMs) : t;
        const until = next > t ? next : t + failureRetryMs;
        cache.set(url, { result, until });
        return result;
      });
      inFlight.set(url, p);
      const done = () => {
        if (inFlight.get(url) === p) inFlight.delete(url);
      };
      p.then(done, done);
      return p;
    },
    get fetches() {
      return fetches;
    },
    get failures() {
      return failures;
    },
    get size() {
      return cache.size;
    },
    clear() {
      cache.clear();
    },
  };
  made.add(fetcher);
  return fetcher;
}
