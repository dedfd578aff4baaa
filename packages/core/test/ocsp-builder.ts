/**
 * A raw DER OCSP builder for the OCSP tests: real BasicOCSPResponses signed with node:crypto by the CA or
 * a delegated responder, and everything a hostile or broken responder may send instead (another serial, a
 * wrong key, stale or future times, critical extensions, non-successful statuses, nonces). Also reads the
 * requests the client sends. Test-only.
 */
import { createHash, sign, type KeyObject } from 'node:crypto';
import type { TestCertificate } from '@certgate/core/testing';
import { parseCertificate } from '../src/cert/parse.js';
import { DerReader, Tag, ctxCons, decodeOid } from '../src/der/reader.js';
import { concat, ctx, int, octets, oid, seq, tlv } from '../src/testing/der.js';

export const OCSP_OID = {
  nonce: '1.3.6.1.5.5.7.48.1.2',
  noCheck: '1.3.6.1.5.5.7.48.1.5',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
};

export interface RawExt {
  oid: string;
  critical: boolean;
  value: Uint8Array;
}

export interface OcspResponseSpec {
  /** The CA whose certificate's status is answered (CertID issuer name and key). */
  issuer: TestCertificate;
  /** The certificate answered about (its serial and issuer name), or a hex serial. */
  cert: TestCertificate | string;
  status: 'good' | 'revoked' | 'unknown';
  revokedAt?: Date;
  /** CRLReason code. */
  reason?: number;
  /** Default now − 1 minute. */
  thisUpdate?: Date;
  /** Default thisUpdate + 1 hour; null leaves it out. */
  nextUpdate?: Date | null;
  /** Default now. */
  producedAt?: Date;
  /** Whose key signs (and whom responderID names). Default the issuer. */
  signer?: TestCertificate;
  /** Sign with this key instead of the signer's (a forged signature), responderID unchanged. */
  signingKey?: KeyObject;
  /** responderID form. Default 'key'. */
  responderId?: 'name' | 'key';
  /** The certs field. */
  certs?: readonly TestCertificate[];
  /** CertID hash. Default sha1. */
  hash?: 'sha1' | 'sha256';
  /** The nonce extension's extnValue contents (normally an OCTET STRING holding the nonce). */
  nonce?: Uint8Array;
  extensions?: RawExt[];
  singleExtensions?: RawExt[];
  /** Encode a version field (v1 = 0 is the DEFAULT: encoding it is not DER). */
  version?: number;
  /** Signature hash. Default sha256. */
  signatureHash?: 'sha1' | 'sha256';
  /** Flip a bit of the signature. */
  corruptSignature?: boolean;
}

const HASH_OIDS = { sha1: '1.3.14.3.2.26', sha256: '2.16.840.1.101.3.4.2.1' } as const;

function generalizedTime(d: Date): Uint8Array {
  const iso = d.toISOString();
  const body = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return tlv(0x18, new TextEncoder().encode(body));
}

function ext(e: RawExt): Uint8Array {
  return seq(oid(e.oid), ...(e.critical ? [new Uint8Array([0x01, 0x01, 0xff])] : []), octets(e.value));
}

function h(alg: 'sha1' | 'sha256', data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(alg).update(data).digest());
}

/** SHA-1 of the certificate's subjectPublicKey bits (the KeyHash of RFC 6960). */
export function keyHashOf(cert: TestCertificate, alg: 'sha1' | 'sha256' = 'sha1'): Uint8Array {
  return h(alg, parseCertificate(cert.der).spki.publicKey);
}

function algFor(key: KeyObject, hash: 'sha1' | 'sha256'): Uint8Array {
  if (key.asymmetricKeyType === 'ec') return seq(oid(hash === 'sha1' ? '1.2.840.10045.4.1' : '1.2.840.10045.4.3.2'));
  return seq(oid(hash === 'sha1' ? '1.2.840.113549.1.1.5' : '1.2.840.113549.1.1.11'), new Uint8Array([0x05, 0x00]));
}

/** The ResponseData of a BasicOCSPResponse (what is signed). */
export function responseData(o: OcspResponseSpec): Uint8Array {
  const hashAlg = o.hash ?? 'sha1';
  const issuerParsed = parseCertificate(o.issuer.der);
  const certParsed = typeof o.cert === 'string' ? null : parseCertificate(o.cert.der);
  const issuerNameDer = certParsed ? certParsed.issuer.der : issuerParsed.subject.der;
  const serial = certParsed ? int(certParsed.serialNumber) : int(Uint8Array.from(Buffer.from((o.cert as string).length % 2 ? `0${o.cert as string}` : (o.cert as string), 'hex')));
  const certId = seq(seq(oid(HASH_OIDS[hashAlg]), new Uint8Array([0x05, 0x00])), octets(h(hashAlg, issuerNameDer)), octets(h(hashAlg, issuerParsed.spki.publicKey)), serial);
  let status: Uint8Array;
  if (o.status === 'good') status = new Uint8Array([0x80, 0x00]);
  else if (o.status === 'unknown') status = new Uint8Array([0x82, 0x00]);
  else status = ctx(1, concat([generalizedTime(o.revokedAt ?? new Date(Date.now() - 86_400_000)), ...(o.reason !== undefined ? [ctx(0, tlv(0x0a, new Uint8Array([o.reason])))] : [])]));
  const thisUpdate = o.thisUpdate ?? new Date(Date.now() - 60_000);
  const nextUpdate = o.nextUpdate === undefined ? new Date(thisUpdate.getTime() + 3_600_000) : o.nextUpdate;
  const single = seq(
    certId,
    status,
    generalizedTime(thisUpdate),
    ...(nextUpdate ? [ctx(0, generalizedTime(nextUpdate))] : []),
    ...(o.singleExtensions?.length ? [ctx(1, seq(...o.singleExtensions.map(ext)))] : []),
  );
  const signer = o.signer ?? o.issuer;
  const responderId = (o.responderId ?? 'key') === 'name' ? ctx(1, parseCertificate(signer.der).subject.der) : ctx(2, octets(keyHashOf(signer)));
  const exts = [...(o.nonce ? [{ oid: OCSP_OID.nonce, critical: false, value: o.nonce }] : []), ...(o.extensions ?? [])];
  return seq(...(o.version !== undefined ? [ctx(0, int(o.version))] : []), responderId, generalizedTime(o.producedAt ?? new Date()), seq(single), ...(exts.length ? [ctx(1, seq(...exts.map(ext)))] : []));
}

/** A complete, signed OCSPResponse (DER). */
export function buildOcspResponse(o: OcspResponseSpec): Uint8Array {
  const tbs = responseData(o);
  const key = o.signingKey ?? (o.signer ?? o.issuer).key;
  const hash = o.signatureHash ?? 'sha256';
  const alg = algFor(key, hash);
  const sig = new Uint8Array(sign(hash, tbs, key));
  if (o.corruptSignature) sig[sig.length - 4]! ^= 0x01;
  const basic = seq(tbs, alg, tlv(0x03, concat([new Uint8Array([0]), sig])), ...(o.certs?.length ? [ctx(0, seq(...o.certs.map((c) => c.der)))] : []));
  return wrapBasic(basic);
}

/** OCSPResponse { successful, responseBytes { id-pkix-ocsp-basic, basic } }. */
export function wrapBasic(basic: Uint8Array): Uint8Array {
  return seq(tlv(0x0a, new Uint8Array([0])), ctx(0, seq(oid('1.3.6.1.5.5.7.48.1.1'), octets(basic))));
}

/** An OCSPResponse with a non-successful responseStatus and no responseBytes. */
export function statusOnly(status: number): Uint8Array {
  return seq(tlv(0x0a, new Uint8Array([status])));
}

/** A certificate's serial as {@link readOcspRequest} reports it. */
export function serialKey(cert: TestCertificate): string {
  return Buffer.from(parseCertificate(cert.der).serialNumber).toString('hex');
}

/** What an OCSPRequest asks (one Request expected). */
export interface ReadRequest {
  hashAlg: string;
  issuerNameHash: Uint8Array;
  issuerKeyHash: Uint8Array;
  /** The serialNumber INTEGER's content octets, lower-case hex (as {@link serialKey}). */
  serial: string;
  /** The nonce extension's extnValue contents, or null. */
  nonce: Uint8Array | null;
  requests: number;
}

/** Reads an OCSPRequest (as the client sends it) with the strict DER reader. */
export function readOcspRequest(der: Uint8Array): ReadRequest {
  const top = new DerReader(der);
  const req = top.enter(Tag.SEQUENCE, 'OCSPRequest');
  top.end('OCSPRequest');
  const tbs = req.enter(Tag.SEQUENCE, 'tbsRequest');
  req.end('OCSPRequest');
  const list = tbs.enter(Tag.SEQUENCE, 'requestList');
  let first: Omit<ReadRequest, 'nonce' | 'requests'> | null = null;
  let requests = 0;
  while (!list.atEnd) {
    requests++;
    const r = list.enter(Tag.SEQUENCE, 'Request');
    const id = r.enter(Tag.SEQUENCE, 'CertID');
    const alg = id.enter(Tag.SEQUENCE, 'hashAlgorithm');
    const hashAlg = decodeOid(alg.read(Tag.OID, 'hashAlgorithm'), 'hashAlgorithm');
    const issuerNameHash = id.read(Tag.OCTET_STRING, 'issuerNameHash');
    const issuerKeyHash = id.read(Tag.OCTET_STRING, 'issuerKeyHash');
    const serialBytes = id.read(Tag.INTEGER, 'serialNumber');
    id.end('CertID');
    const hex = Buffer.from(serialBytes).toString('hex');
    first ??= { hashAlg, issuerNameHash, issuerKeyHash, serial: hex };
  }
  let nonce: Uint8Array | null = null;
  const exts = tbs.enterOptional(ctxCons(2), 'requestExtensions');
  if (exts) {
    const l = exts.enter(Tag.SEQUENCE, 'Extensions');
    while (!l.atEnd) {
      const e = l.enter(Tag.SEQUENCE, 'Extension');
      const o = decodeOid(e.read(Tag.OID, 'extnID'), 'extnID');
      if (e.peekTag() === Tag.BOOLEAN) e.read(Tag.BOOLEAN, 'critical');
      const v = e.read(Tag.OCTET_STRING, 'extnValue');
      if (o === OCSP_OID.nonce) nonce = v;
    }
  }
  tbs.end('tbsRequest');
  return { ...first!, nonce, requests };
}
