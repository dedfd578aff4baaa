/**
 * @module
 * OCSP (RFC 6960) for the certificates of a validated path (DESIGN §2: "and OCSP (optional)").
 * `verifyChain` asks the client only about certificates on a path whose signatures already chain to a
 * trust anchor, at the `http:`/`https:` id-ad-ocsp address of their authorityInfoAccess, so the address
 * comes from the CA, never from a client's unsigned input. Every request is bounded (time, bytes, no
 * redirects), a POST of `application/ocsp-request` (RFC 6960 A.1); every answer is parsed with the strict
 * DER reader and cached per (responder URL, CertID) until the response's nextUpdate, a failure for
 * `failureRetryMs`; identical requests in flight are shared.
 *
 * An answer is only input. It counts after the BasicOCSPResponse signature verifies with the issuer's key
 * or with a delegated responder certificate (from the response's `certs`) that the issuer signed, that
 * carries id-kp-OCSPSigning and is valid at the verification time; its responderID names the signer; one
 * SingleResponse is for exactly the CertID asked about; its times are current; it has no critical
 * extension certgate does not process. Anything else is an `unknown` status with a reason, never an
 * exception.
 */
import { randomBytes, createHash } from 'node:crypto';
import type { AlgorithmIdentifier, Name, ParsedCertificate } from '../cert/model.js';
import { formatName, readName } from '../cert/name.js';
import { Eku } from '../cert/oids.js';
import { parseCertificate, readAlgorithmIdentifier, readExtensions, readSignatureValue } from '../cert/parse.js';
import { verifySignature, type SignatureCheck } from '../cert/signature.js';
import { CRL_REASONS } from '../cert/crl.js';
import { DerError, DerReader, Tag, bytesEqual, checkInteger, checkNull, ctxCons, ctx, decodeGeneralizedTime, decodeOid, decodeUint, encodeOid, toHex } from '../der/reader.js';
import { tlv } from '../der/writer.js';
import { LruMap } from '../lru.js';
import { askableUrl, boundedExchange, optionReader, remoteOptions } from './http.js';

/** Options of {@link createOcspClient}. */
export interface OcspClientOptions {
  /** Per request, milliseconds. Default 5000 (100 to 60000). */
  timeoutMs?: number;
  /** Largest response accepted, bytes. Default 64 KiB (1 KiB to 1 MiB). */
  maxResponseBytes?: number;
  /** Answers kept, one per (responder URL, certificate). Default 10000 (1 to 1000000). */
  cacheEntries?: number;
  /** Send a random 32-octet nonce (id-pkix-ocsp-nonce) and refuse a response that echoes another one. Default false. */
  nonce?: boolean;
  /** How long a failed request (or an answer that cannot be used) is not retried, milliseconds. Default 60000. */
  failureRetryMs?: number;
  /** How long a response without nextUpdate is kept, milliseconds. Default 1 hour (1 s to 24 h). */
  defaultTtlMs?: number;
  /** Which responders may be asked at all (e.g. only your CA's host). Default: every http/https URL. */
  allowUrl?: (url: URL) => boolean;
  /** The clock of the cache, ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** The fetch implementation. Default the global `fetch`. */
  fetch?: typeof fetch;
}

/** Asks OCSP responders and caches their answers; made by {@link createOcspClient}, used through `verifyChain`'s `ocspClient`. */
export interface OcspClient {
  /** Network requests made (cache hits and shared requests not counted). */
  readonly requests: number;
  /** Requests that failed or whose answer could not be used (each cached failure counted once; refusals by scheme or `allowUrl` are not requests). */
  readonly failures: number;
  /** Answers cached now. */
  readonly size: number;
  /** Forgets every cached answer. */
  clear(): void;
}

/** OCSP requests per verification, at most (the leaf's first). */
export const MAX_OCSP_REQUESTS_PER_VERIFICATION = 4;

/** Fixed bounds of OCSP processing. */
export const OCSP_LIMITS = Object.freeze({
  /** Certificates of a response's `certs` examined as delegated responders. */
  maxResponderCandidates: 4,
  /** SingleResponses of one response examined. */
  maxSingleResponses: 64,
  /** A response without nextUpdate is refused once its thisUpdate is older than this, milliseconds (1 day). */
  maxAgeWithoutNextUpdateMs: 86_400_000,
  /** A response is never cached longer than this after it was fetched, whatever its nextUpdate, milliseconds (1 day). */
  maxCacheMs: 86_400_000,
});

const OID = {
  ocsp: '1.3.6.1.5.5.7.48.1',
  basic: '1.3.6.1.5.5.7.48.1.1',
  nonce: '1.3.6.1.5.5.7.48.1.2',
  noCheck: '1.3.6.1.5.5.7.48.1.5',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
} as const;

const HASHES: Record<string, 'sha1' | 'sha256'> = { [OID.sha1]: 'sha1', [OID.sha256]: 'sha256' };

const RESPONSE_STATUS: Record<number, string> = {
  1: 'malformedRequest',
  2: 'internalError',
  3: 'tryLater',
  5: 'sigRequired',
  6: 'unauthorized',
};

/** What one OCSP query decided about one certificate. @internal */
export type OcspAnswer =
  | {
      status: 'good';
      url: string;
      /** A delegated responder without id-pkix-ocsp-nocheck: its own status must come from the CRLs (checkPathRevocation). */
      responder?: ParsedCertificate;
    }
  | { status: 'revoked'; url: string; reason: string; revokedAt: number; responder?: ParsedCertificate }
  | {
      status: 'unknown';
      url: string;
      reason: string;
      /** The response could not be used (as opposed to a responder that answered "unknown"): cached for failureRetryMs only. */
      failed?: boolean;
    };

/** One certificate to ask about. @internal */
export interface OcspQuery {
  cert: ParsedCertificate;
  issuer: ParsedCertificate;
  url: string;
  timeMs: number;
  clockToleranceMs: number;
  allowWeak: boolean;
  /**
   * The real clock when the verification began. A responder that signs on demand stamps thisUpdate with the
   * moment it answers, after `timeMs`: the time since then is allowed on top of the clock tolerance.
   */
  startedMs?: number;
}

interface SingleResponse {
  hashAlg: string;
  issuerNameHash: Uint8Array;
  issuerKeyHash: Uint8Array;
  serial: Uint8Array;
  status: { kind: 'good' } | { kind: 'revoked'; at: number; reason: number | null } | { kind: 'unknown' };
  thisUpdate: number;
  nextUpdate: number | null;
  unknownCritical: string[];
}

/** A successful BasicOCSPResponse, parsed (not yet authenticated). @internal */
export interface ParsedOcspResponse {
  tbs: Uint8Array;
  signatureAlgorithm: AlgorithmIdentifier;
  signature: Uint8Array;
  responderId: { byName: Name } | { byKey: Uint8Array };
  producedAt: number;
  responses: SingleResponse[];
  /** extnValue contents of the nonce extension, or null. */
  nonce: Uint8Array | null;
  unknownCritical: string[];
  /** Those of the first {@link OCSP_LIMITS}.maxResponderCandidates elements of `certs` that parse. */
  certs: ParsedCertificate[];
}

// ---------------------------------------------------------------------------------------------
// Encoding the request (RFC 6960 §4.1.1).

function digest(alg: 'sha1' | 'sha256', data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(alg).update(data).digest());
}

/** SHA-1 of the issuer's subjectPublicKey BIT STRING contents (without the unused-bits octet), as CertID and ResponderID byKey use. */
function keyHash(cert: ParsedCertificate, alg: 'sha1' | 'sha256' = 'sha1'): Uint8Array {
  return digest(alg, cert.spki.publicKey);
}

/** The cache key of a certificate's OCSP status: the certificate, its issuer's name and key (what a CertID identifies). @internal */
export function ocspKey(cert: ParsedCertificate, issuer: ParsedCertificate): string {
  return `${cert.sha256}/${toHex(keyHash(issuer))}/${toHex(digest('sha1', cert.issuer.der))}`;
}

const SHA1_ALG = tlv(Tag.SEQUENCE, tlv(Tag.OID, encodeOid(OID.sha1)), tlv(Tag.NULL));

/** DER of an OCSPRequest for one certificate, without a signature, with an optional nonce. @internal */
export function encodeOcspRequest(cert: ParsedCertificate, issuer: ParsedCertificate, nonce: Uint8Array | null): Uint8Array {
  const certId = tlv(
    Tag.SEQUENCE,
    SHA1_ALG,
    tlv(Tag.OCTET_STRING, digest('sha1', cert.issuer.der)),
    tlv(Tag.OCTET_STRING, keyHash(issuer)),
    tlv(Tag.INTEGER, cert.serialNumber),
  );
  const request = tlv(Tag.SEQUENCE, certId);
  const parts = [tlv(Tag.SEQUENCE, request)];
  if (nonce) {
    const ext = tlv(Tag.SEQUENCE, tlv(Tag.OID, encodeOid(OID.nonce)), tlv(Tag.OCTET_STRING, tlv(Tag.OCTET_STRING, nonce)));
    parts.push(tlv(ctxCons(2), tlv(Tag.SEQUENCE, ext)));
  }
  return tlv(Tag.SEQUENCE, tlv(Tag.SEQUENCE, ...parts));
}

// ---------------------------------------------------------------------------------------------
// Parsing the response (RFC 6960 §4.2.1).

/** A response that is well-formed but not `successful`. */
class OcspStatusError extends Error {}

const RESPONSE_EXTENSIONS = { list: 'responseExtensions', item: 'responseExtensions', section: '§4.2' };
const SINGLE_EXTENSIONS = { list: 'singleExtensions', item: 'singleExtensions', section: '§4.2' };

/**
 * Parses an OCSPResponse (strict DER). Throws a DerError for anything malformed and an error naming the
 * responseStatus when it is not successful. @internal
 */
export function parseOcspResponse(der: Uint8Array): ParsedOcspResponse {
  const top = new DerReader(der);
  const resp = top.enter(Tag.SEQUENCE, 'OCSPResponse');
  top.end('OCSPResponse');
  const status = decodeUint(resp.read(Tag.ENUMERATED, 'responseStatus'), 'responseStatus', 255);
  if (status !== 0) {
    if (!resp.atEnd) resp.readAny('responseBytes');
    resp.end('OCSPResponse');
    throw new OcspStatusError(`the responder answered ${RESPONSE_STATUS[status] ? `"${RESPONSE_STATUS[status]}"` : 'an undefined status'} (responseStatus ${status}) instead of a response`);
  }
  const rbWrap = resp.enter(ctxCons(0), 'responseBytes');
  resp.end('OCSPResponse');
  const rb = rbWrap.enter(Tag.SEQUENCE, 'responseBytes');
  rbWrap.end('responseBytes');
  const type = decodeOid(rb.read(Tag.OID, 'responseType'), 'responseType');
  if (type !== OID.basic) throw new DerError(`responseType: ${type} is not id-pkix-ocsp-basic`);
  const inner = rb.read(Tag.OCTET_STRING, 'response');
  rb.end('responseBytes');
  return parseBasic(rbWrap.child(inner));
}

function parseBasic(r: DerReader): ParsedOcspResponse {
  const basic = r.enter(Tag.SEQUENCE, 'BasicOCSPResponse');
  r.end('BasicOCSPResponse');
  const tbsR = basic.enter(Tag.SEQUENCE, 'tbsResponseData');
  const tbs = basic.lastFull();
  const { alg: signatureAlgorithm } = readAlgorithmIdentifier(basic, 'signatureAlgorithm');
  const signature = readSignatureValue(basic, 'signature');
  const certs: ParsedCertificate[] = [];
  const certsR = basic.enterOptional(ctxCons(0), 'certs');
  if (certsR) {
    const list = certsR.enter(Tag.SEQUENCE, 'certs');
    certsR.end('certs');
    // Only the first few elements are parsed (the documented bound): counting only those that parse let a
    // response of 64 KiB of tiny non-certificates cost tens of thousands of failed parses.
    let examined = 0;
    while (!list.atEnd) {
      const c = list.readFull(Tag.SEQUENCE, 'certs Certificate');
      if (examined++ >= OCSP_LIMITS.maxResponderCandidates) continue;
      try {
        certs.push(parseCertificate(c));
      } catch {
        // A certificate that does not parse cannot be an authorised responder; the others still can.
      }
    }
  }
  basic.end('BasicOCSPResponse');

  const ver = tbsR.enterOptional(ctxCons(0), 'version');
  if (ver) {
    const v = decodeUint(ver.read(Tag.INTEGER, 'version'), 'version', 255);
    ver.end('version');
    throw new DerError(v === 0 ? 'version: v1 is the DEFAULT and must be omitted in DER' : `version: ${v + 1} is not a known response version`);
  }
  let responderId: ParsedOcspResponse['responderId'];
  if (tbsR.peekTag() === ctxCons(1)) {
    const n = tbsR.enter(ctxCons(1), 'responderID byName');
    responderId = { byName: readName(n, 'responderID byName') };
    n.end('responderID byName');
  } else {
    const k = tbsR.enter(ctxCons(2), 'responderID byKey');
    responderId = { byKey: k.read(Tag.OCTET_STRING, 'responderID byKey') };
    k.end('responderID byKey');
  }
  const producedAt = decodeGeneralizedTime(tbsR.read(Tag.GeneralizedTime, 'producedAt'), 'producedAt');
  const list = tbsR.enter(Tag.SEQUENCE, 'responses');
  const responses: SingleResponse[] = [];
  while (!list.atEnd) {
    if (responses.length >= OCSP_LIMITS.maxSingleResponses) throw new DerError(`responses: more than ${OCSP_LIMITS.maxSingleResponses}`);
    responses.push(parseSingle(list));
  }
  let nonce: Uint8Array | null = null;
  const unknownCritical: string[] = [];
  const extsR = tbsR.enterOptional(ctxCons(1), 'responseExtensions');
  if (extsR) {
    const exts = readExtensions(extsR.enter(Tag.SEQUENCE, 'responseExtensions'), RESPONSE_EXTENSIONS, 64);
    extsR.end('responseExtensions');
    for (const e of exts) {
      if (e.oid === OID.nonce) nonce = e.value;
      else if (e.critical) unknownCritical.push(e.oid);
    }
  }
  tbsR.end('tbsResponseData');
  return { tbs, signatureAlgorithm, signature, responderId, producedAt, responses, nonce, unknownCritical, certs };
}

function parseSingle(list: DerReader): SingleResponse {
  const s = list.enter(Tag.SEQUENCE, 'SingleResponse');
  const id = s.enter(Tag.SEQUENCE, 'certID');
  const { alg } = readAlgorithmIdentifier(id, 'certID hashAlgorithm');
  if (alg.params !== null) checkNull(new DerReader(alg.params).read(Tag.NULL, 'certID hashAlgorithm parameters'), 'certID hashAlgorithm parameters');
  const issuerNameHash = id.read(Tag.OCTET_STRING, 'certID issuerNameHash');
  const issuerKeyHash = id.read(Tag.OCTET_STRING, 'certID issuerKeyHash');
  const serial = id.read(Tag.INTEGER, 'certID serialNumber');
  checkInteger(serial, 'certID serialNumber');
  id.end('certID');

  let status: SingleResponse['status'];
  const tag = s.peekTag();
  if (tag === ctx(0)) {
    checkNull(s.read(ctx(0), 'certStatus good'), 'certStatus good');
    status = { kind: 'good' };
  } else if (tag === ctx(2)) {
    checkNull(s.read(ctx(2), 'certStatus unknown'), 'certStatus unknown');
    status = { kind: 'unknown' };
  } else {
    const rev = s.enter(ctxCons(1), 'certStatus revoked');
    const at = decodeGeneralizedTime(rev.read(Tag.GeneralizedTime, 'revocationTime'), 'revocationTime');
    let reason: number | null = null;
    const rr = rev.enterOptional(ctxCons(0), 'revocationReason');
    if (rr) {
      reason = decodeUint(rr.read(Tag.ENUMERATED, 'revocationReason'), 'revocationReason', 255);
      rr.end('revocationReason');
    }
    rev.end('certStatus revoked');
    status = { kind: 'revoked', at, reason };
  }
  const thisUpdate = decodeGeneralizedTime(s.read(Tag.GeneralizedTime, 'thisUpdate'), 'thisUpdate');
  let nextUpdate: number | null = null;
  const nu = s.enterOptional(ctxCons(0), 'nextUpdate');
  if (nu) {
    nextUpdate = decodeGeneralizedTime(nu.read(Tag.GeneralizedTime, 'nextUpdate'), 'nextUpdate');
    nu.end('nextUpdate');
  }
  const unknownCritical: string[] = [];
  const ex = s.enterOptional(ctxCons(1), 'singleExtensions');
  if (ex) {
    for (const e of readExtensions(ex.enter(Tag.SEQUENCE, 'singleExtensions'), SINGLE_EXTENSIONS, 64)) if (e.critical) unknownCritical.push(e.oid);
    ex.end('singleExtensions');
  }
  s.end('SingleResponse');
  return { hashAlg: alg.oid, issuerNameHash, issuerKeyHash, serial, status, thisUpdate, nextUpdate, unknownCritical };
}

// ---------------------------------------------------------------------------------------------
// Checking a response against the question.

/** The SingleResponses for the certificate (CertID recomputed with the response's hash: SHA-1 or SHA-256). */
function matching(resp: ParsedOcspResponse, cert: ParsedCertificate, issuer: ParsedCertificate): SingleResponse[] {
  const out: SingleResponse[] = [];
  for (const sr of resp.responses) {
    const h = HASHES[sr.hashAlg];
    if (!h || !bytesEqual(sr.serial, cert.serialNumber)) continue;
    if (bytesEqual(sr.issuerNameHash, digest(h, cert.issuer.der)) && bytesEqual(sr.issuerKeyHash, keyHash(issuer, h))) out.push(sr);
  }
  return out;
}

function nameOf(c: ParsedCertificate): string {
  return formatName(c.subject);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

type SignerResult = { ok: true; delegated: ParsedCertificate | null; noCheck: boolean } | { ok: false; problem: string };

/** A signature check of the response with `signer`'s key, remembered on the response (the key and the weak-algorithm policy). */
function signatureBy(resp: ParsedOcspResponse & { sigMemo?: Map<string, SignatureCheck> }, signer: ParsedCertificate, allowWeak: boolean): SignatureCheck {
  resp.sigMemo ??= new Map();
  const k = `${signer.sha256}:${allowWeak ? 1 : 0}`;
  let r = resp.sigMemo.get(k);
  if (!r) {
    r = verifySignature(resp, signer.spki, { allowWeak });
    if (resp.sigMemo.size < 16) resp.sigMemo.set(k, r);
  }
  return r;
}

/** Whether `c` is who the responderID names. */
function isResponder(resp: ParsedOcspResponse, c: ParsedCertificate): boolean {
  const id = resp.responderId;
  return 'byName' in id ? id.byName.key === c.subject.key : bytesEqual(id.byKey, keyHash(c));
}

/** Why `c` may not answer for `issuer`'s certificates (RFC 6960 §4.2.2.2), or null. */
function notAuthorised(c: ParsedCertificate, q: OcspQuery): string | null {
  const issuer = q.issuer;
  if (c.issuer.key !== issuer.subject.key) return `it was issued by "${formatName(c.issuer)}", not by "${nameOf(issuer)}"`;
  const sig = verifySignature(c, issuer.spki, { allowWeak: q.allowWeak });
  if (!sig.ok) return `its certificate is not signed by the key of "${nameOf(issuer)}" (${sig.message})`;
  if (!c.extKeyUsage?.includes(Eku.ocspSigning)) return 'its certificate lacks the id-kp-OCSPSigning extended key usage';
  if (c.keyUsage !== undefined && !(c.keyUsage & 1)) return 'its keyUsage does not include digitalSignature';
  const t = q.timeMs;
  const tol = q.clockToleranceMs;
  if (c.notBefore > t + tol) return `its certificate is not valid before ${iso(c.notBefore)}`;
  if (c.notAfter < t - tol) return `its certificate expired on ${iso(c.notAfter)}`;
  const critical = c.unknownCriticalExtensions.filter((o) => o !== OID.noCheck);
  if (critical.length > 0) return `its certificate has a critical extension certgate does not process (${critical.join(', ')})`;
  return null;
}

/** The key that signed the response: the issuer's, or a delegated responder's from `certs`. */
function findSigner(resp: ParsedOcspResponse, q: OcspQuery): SignerResult {
  let problem = `it is signed by a responder that is neither "${nameOf(q.issuer)}" nor a certificate in the response (responderID does not match)`;
  if (isResponder(resp, q.issuer)) {
    const sig = signatureBy(resp, q.issuer, q.allowWeak);
    if (sig.ok) return { ok: true, delegated: null, noCheck: true };
    problem = sig.code === 'BAD_SIGNATURE' ? `its signature does not verify with the key of "${nameOf(q.issuer)}"` : `its signature is not accepted: ${sig.message}`;
  }
  for (const c of resp.certs) {
    if (c.sha256 === q.issuer.sha256 || !isResponder(resp, c)) continue;
    const sig = signatureBy(resp, c, q.allowWeak);
    if (!sig.ok) {
      problem = sig.code === 'BAD_SIGNATURE' ? `its signature does not verify with the key of "${nameOf(c)}"` : `its signature is not accepted: ${sig.message}`;
      continue;
    }
    const why = notAuthorised(c, q);
    if (why) {
      problem = `it is signed by "${nameOf(c)}", which may not answer for "${nameOf(q.issuer)}": ${why}`;
      continue;
    }
    return { ok: true, delegated: c, noCheck: c.extensions.some((e) => e.oid === OID.noCheck) };
  }
  return { ok: false, problem };
}

/** Decides what a parsed response says about the query (fail closed: anything wrong is `unknown`). @internal */
export function evaluateOcspResponse(resp: ParsedOcspResponse, q: OcspQuery): OcspAnswer {
  const url = q.url;
  const unknown = (why: string): OcspAnswer => ({ status: 'unknown', url, reason: `the OCSP response from ${url} cannot be used: ${why}`, failed: true });
  const signer = findSigner(resp, q);
  if (!signer.ok) return unknown(signer.problem);
  if (resp.unknownCritical.length > 0) return unknown(`it has a critical extension certgate does not process (${resp.unknownCritical.join(', ')})`);
  const srs = matching(resp, q.cert, q.issuer);
  if (srs.length === 0) return unknown('it holds no answer for the certificate asked about (CertID mismatch)');
  if (srs.length > 1) return unknown('it holds more than one answer for the certificate asked about');
  const sr = srs[0]!;
  if (sr.unknownCritical.length > 0) return unknown(`its answer has a critical extension certgate does not process (${sr.unknownCritical.join(', ')})`);
  const t = q.timeMs;
  const tol = q.clockToleranceMs;
  const elapsed = q.startedMs === undefined ? 0 : Math.max(0, Date.now() - q.startedMs);
  if (sr.thisUpdate > t + tol + elapsed) return unknown(`its thisUpdate ${iso(sr.thisUpdate)} is in the future`);
  if (sr.nextUpdate !== null && sr.nextUpdate < t - tol) return unknown(`it is out of date (its nextUpdate ${iso(sr.nextUpdate)} has passed)`);
  if (sr.nextUpdate === null && sr.thisUpdate < t - tol - OCSP_LIMITS.maxAgeWithoutNextUpdateMs) {
    return unknown(`it has no nextUpdate and its thisUpdate ${iso(sr.thisUpdate)} is more than a day old`);
  }
  const responder = signer.delegated && !signer.noCheck ? { responder: signer.delegated } : {};
  switch (sr.status.kind) {
    case 'good':
      return { status: 'good', url, ...responder };
    case 'revoked': {
      const code = sr.status.reason;
      return { status: 'revoked', url, reason: code === null ? 'unspecified' : (CRL_REASONS[code] ?? `reason ${code}`), revokedAt: sr.status.at, ...responder };
    }
    default:
      return { status: 'unknown', url, reason: `the OCSP responder at ${url} does not know the certificate (status unknown)` };
  }
}

// ---------------------------------------------------------------------------------------------
// The client.

const reader = optionReader('createOcspClient');
const { invalid, int: intOption } = reader;

/** What one request gave; `refused`: nothing was sent (not a URL, a scheme other than http/https, allowUrl). */
type Fetched = { ok: true; response: ParsedOcspResponse } | { ok: false; error: string; refused?: true };
interface Entry {
  fetched: Fetched;
  fetchedAt: number;
  until: number;
  /** A failure was counted for this entry (its answer could not be used). */
  counted: boolean;
}

interface ClientState {
  lookup(q: OcspQuery): Promise<OcspAnswer>;
}

/** The clients {@link createOcspClient} made, with their internals. */
const made = new WeakMap<object, ClientState>();

/** @internal Whether `x` is a client made by {@link createOcspClient}. */
export function isOcspClient(x: unknown): x is OcspClient {
  return typeof x === 'object' && x !== null && made.has(x);
}

/** @internal The status of `q.cert` according to the responder at `q.url`. Never rejects. */
export function queryOcsp(client: OcspClient, q: OcspQuery): Promise<OcspAnswer> {
  return made.get(client)!.lookup(q);
}

/**
 * Creates an OCSP client for `verifyChain`'s `ocspClient` option. Throws `ERR_CERTGATE_INVALID_OPTION`
 * for bad options.
 *
 * @example
 * const ocspClient = createOcspClient({ allowUrl: (u) => u.hostname === 'ocsp.example.com' });
 * const r = await verifyChain(chain, store, { ocspClient, revocation: 'hard' });
 */
export function createOcspClient(options: OcspClientOptions = {}): OcspClient {
  if (options === null || typeof options !== 'object') invalid('"options" must be an object');
  const { timeoutMs, failureRetryMs, now, fetch: doFetch } = remoteOptions(reader, options);
  const maxBytes = intOption('maxResponseBytes', options.maxResponseBytes, 64 * 1024, 1024, 1024 * 1024);
  const cacheEntries = intOption('cacheEntries', options.cacheEntries, 10_000, 1, 1_000_000);
  const defaultTtlMs = intOption('defaultTtlMs', options.defaultTtlMs, 3_600_000, 1000, 86_400_000);
  if (options.nonce !== undefined && typeof options.nonce !== 'boolean') invalid('"nonce" must be a boolean');
  const useNonce = options.nonce === true;
  const cache = new LruMap<string, Entry>(cacheEntries);
  const inFlight = new Map<string, Promise<Entry>>();
  let requests = 0;
  let failures = 0;

  async function load(q: OcspQuery): Promise<Fetched> {
    const fail = (error: string): Fetched => ({ ok: false, error: `the OCSP responder at ${q.url} ${error}` });
    const refuse = (error: string): Fetched => ({ ok: false, error: `the OCSP responder at ${q.url} ${error}`, refused: true });
    const u = askableUrl(q.url, options.allowUrl);
    if (!(u instanceof URL)) {
      return refuse(u.refused === 'not-a-url' ? 'is not a URL' : u.refused === 'scheme' ? `is not asked: ${u.protocol} responders are not supported` : 'is not allowed by allowUrl');
    }
    const nonce = useNonce ? new Uint8Array(randomBytes(32)) : null;
    const body = encodeOcspRequest(q.cert, q.issuer, nonce);
    requests++;
    const got = await boundedExchange(u, {
      fetch: doFetch,
      timeoutMs,
      maxBytes,
      method: 'POST',
      body,
      headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
    });
    if (!got.ok) {
      switch (got.failed) {
        case 'request':
          return fail(`could not be asked: ${got.detail}`);
        case 'status':
          return fail(`answered HTTP ${got.status}`);
        case 'too-large':
          return fail(`sent a response larger than ${maxBytes} bytes`);
        case 'no-body':
          return fail('sent no body');
        case 'read':
          return fail(`could not be read: ${got.detail}`);
      }
    }
    let response: ParsedOcspResponse;
    try {
      response = parseOcspResponse(got.bytes);
    } catch (err) {
      if (err instanceof OcspStatusError) return fail(err.message.replace(/^the responder /, ''));
      return fail(`sent something that is not a valid OCSP response (${(err as Error).message})`);
    }
    // The nonce extension's value is an OCTET STRING holding the nonce (RFC 8954); a bare nonce is taken too.
    if (nonce && response.nonce && !bytesEqual(response.nonce, tlv(Tag.OCTET_STRING, nonce)) && !bytesEqual(response.nonce, nonce)) {
      return fail('answered with a nonce other than the one sent (a replayed or misdirected response)');
    }
    return { ok: true, response };
  }

  /** When a fetched answer goes stale in the cache. */
  function untilOf(fetched: Fetched, q: OcspQuery, t: number): number {
    if (!fetched.ok) return t + failureRetryMs;
    const sr = matching(fetched.response, q.cert, q.issuer)[0];
    if (!sr) return t + failureRetryMs;
    const until = Math.min(sr.nextUpdate ?? t + defaultTtlMs, t + OCSP_LIMITS.maxCacheMs);
    return until > t ? until : t + failureRetryMs;
  }

  function fetchEntry(key: string, q: OcspQuery): Promise<Entry> {
    const pending = inFlight.get(key);
    if (pending) return pending;
    const p = load(q)
      .catch((err: unknown): Fetched => ({ ok: false, error: `the OCSP responder at ${q.url} could not be asked: ${(err as Error)?.message ?? String(err)}` }))
      .then((fetched) => {
        const t = now();
        const entry: Entry = { fetched, fetchedAt: t, until: untilOf(fetched, q, t), counted: !fetched.ok };
        if (!fetched.ok && !fetched.refused) failures++;
        cache.set(key, entry);
        return entry;
      });
    inFlight.set(key, p);
    const done = () => {
      if (inFlight.get(key) === p) inFlight.delete(key);
    };
    p.then(done, done);
    return p;
  }

  async function lookup(q: OcspQuery): Promise<OcspAnswer> {
    const key = `${q.url} ${ocspKey(q.cert, q.issuer)}`;
    const hit = cache.get(key);
    const entry = hit && now() < hit.until ? hit : await fetchEntry(key, q);
    if (!entry.fetched.ok) return { status: 'unknown', url: q.url, reason: entry.fetched.error, failed: true };
    let answer: OcspAnswer;
    try {
      answer = evaluateOcspResponse(entry.fetched.response, q);
    } catch (err) {
      answer = { status: 'unknown', url: q.url, reason: `the OCSP response from ${q.url} could not be checked: ${(err as Error)?.message ?? String(err)}`, failed: true };
    }
    if (answer.status === 'unknown' && answer.failed) {
      // An answer that cannot be used is asked for again after failureRetryMs, not at its nextUpdate.
      entry.until = Math.min(entry.until, entry.fetchedAt + failureRetryMs);
      if (!entry.counted) {
        entry.counted = true;
        failures++;
      }
    }
    return answer;
  }

  const client: OcspClient = {
    get requests() {
      return requests;
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
  made.set(client, { lookup });
  return client;
}
