/**
 * @module
 * What the CRL fetcher and the OCSP client share: reading their options (typed
 * `ERR_CERTGATE_INVALID_OPTION` errors), deciding whether a URL may be asked at all, and one bounded
 * HTTP exchange (a timeout over the request and the body, no redirects, a size limit checked against
 * Content-Length and while reading). Internal.
 */
import { CertgateError } from '../errors.js';

/** Option readers whose errors name the function they belong to (`createCrlFetcher: "timeoutMs" must be …`). */
export function optionReader(fnName: string): {
  invalid(message: string): never;
  int(name: string, v: unknown, def: number, min: number, max: number): number;
} {
  const invalid = (message: string): never => {
    throw new CertgateError('ERR_CERTGATE_INVALID_OPTION', `${fnName}: ${message}`);
  };
  return {
    invalid,
    int(name, v, def, min, max) {
      if (v === undefined) return def;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) invalid(`"${name}" must be an integer from ${min} to ${max}`);
      return v as number;
    },
  };
}

/** The options the CRL fetcher and the OCSP client have alike. */
export interface RemoteOptionsInput {
  timeoutMs?: number;
  failureRetryMs?: number;
  allowUrl?: (url: URL) => boolean;
  now?: () => number;
  fetch?: typeof fetch;
}

/** Reads and checks {@link RemoteOptionsInput} (timeout 5000 ms, 100…60000; failures kept 60000 ms, 0…1 day). */
export function remoteOptions(
  r: ReturnType<typeof optionReader>,
  options: RemoteOptionsInput,
): { timeoutMs: number; failureRetryMs: number; allowUrl: ((url: URL) => boolean) | undefined; now: () => number; fetch: typeof fetch } {
  const timeoutMs = r.int('timeoutMs', options.timeoutMs, 5000, 100, 60_000);
  const failureRetryMs = r.int('failureRetryMs', options.failureRetryMs, 60_000, 0, 86_400_000);
  for (const k of ['allowUrl', 'now', 'fetch'] as const) {
    if (options[k] !== undefined && typeof options[k] !== 'function') r.invalid(`"${k}" must be a function`);
  }
  const doFetch = options.fetch ?? globalThis.fetch;
  if (typeof doFetch !== 'function') r.invalid('no fetch implementation: pass "fetch"');
  return { timeoutMs, failureRetryMs, allowUrl: options.allowUrl, now: options.now ?? Date.now, fetch: doFetch };
}

/** Why a URL is not asked: not a URL, a scheme other than http/https, or `allowUrl` said no. */
export type UrlRefusal = { refused: 'not-a-url' } | { refused: 'scheme'; protocol: string } | { refused: 'not-allowed' };

/** The URL to ask, or why it is not asked (nothing is sent then). */
export function askableUrl(url: string, allowUrl: ((u: URL) => boolean) | undefined): URL | UrlRefusal {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { refused: 'not-a-url' };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return { refused: 'scheme', protocol: u.protocol };
  if (allowUrl && allowUrl(u) !== true) return { refused: 'not-allowed' };
  return u;
}

/** How a bounded exchange failed, for the caller to word: `detail` is the timeout or the error's message. */
export type ExchangeFailure =
  | { failed: 'request'; detail: string }
  | { failed: 'status'; status: number }
  | { failed: 'too-large' }
  | { failed: 'no-body' }
  | { failed: 'read'; detail: string };

export interface ExchangeOptions {
  fetch: typeof fetch;
  timeoutMs: number;
  maxBytes: number;
  method?: 'GET' | 'POST';
  body?: Uint8Array;
  headers: Record<string, string>;
}

function errorDetail(err: unknown, timeoutMs: number): string {
  return (err as Error)?.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : ((err as Error)?.message ?? String(err));
}

/**
 * One HTTP exchange with `url`: the whole body of a 200 answer, at most `maxBytes` (a larger one, by its
 * Content-Length or as read, is refused and its stream cancelled); redirects fail; `timeoutMs` covers
 * the request and the body. Never rejects.
 */
export async function boundedExchange(url: URL, o: ExchangeOptions): Promise<{ ok: true; bytes: Buffer } | ({ ok: false } & ExchangeFailure)> {
  let res: Response;
  try {
    res = await o.fetch(url, {
      method: o.method ?? 'GET',
      ...(o.body ? { body: o.body } : {}),
      redirect: 'error',
      signal: AbortSignal.timeout(o.timeoutMs),
      headers: o.headers,
    });
  } catch (err) {
    return { ok: false, failed: 'request', detail: errorDetail(err, o.timeoutMs) };
  }
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => {});
    return { ok: false, failed: 'status', status: res.status };
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > o.maxBytes) {
    await res.body?.cancel().catch(() => {});
    return { ok: false, failed: 'too-large' };
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    const reader = res.body?.getReader();
    if (!reader) return { ok: false, failed: 'no-body' };
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > o.maxBytes) {
        await reader.cancel().catch(() => {});
        return { ok: false, failed: 'too-large' };
      }
      chunks.push(value);
    }
  } catch (err) {
    return { ok: false, failed: 'read', detail: errorDetail(err, o.timeoutMs) };
  }
  return { ok: true, bytes: Buffer.concat(chunks) };
}
