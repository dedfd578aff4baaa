/**
 * Test helper: builds `ParsedCertificate` model objects by hand (only the fields policy and
 * name-constraints processing read), so those functions can be tested without DER.
 */
import type { Attribute, GeneralName, Name, NameConstraints, ParsedCertificate, PolicyConstraints } from '../src/cert/model.js';

const enc = new TextEncoder();

/** A Name from `[oid, text]` pairs, one attribute per RDN, most significant first. */
export function modelName(attrs: [string, string][]): Name {
  const rdns: Attribute[][] = attrs.map(([oid, text]) => [{ oid, tag: 12, valueDer: enc.encode(text), text }]);
  return {
    der: enc.encode(JSON.stringify(attrs)),
    rdns,
    key: JSON.stringify(attrs.map(([o, t]) => [o, t.toLowerCase().trim().replace(/\s+/g, ' ')])),
    empty: attrs.length === 0,
  };
}

export const cn = (text: string): Name => modelName([['2.5.4.3', text]]);

export interface ModelSpec {
  subject?: Name | string;
  issuer?: Name | string;
  policies?: string[];
  mappings?: [string, string][];
  pc?: Partial<PolicyConstraints>;
  inhibitAnyPolicy?: number;
  selfIssued?: boolean;
  san?: GeneralName[];
  nameConstraints?: NameConstraints;
  ca?: boolean;
  extensions?: ParsedCertificate['extensions'];
}

let serial = 0;

export function modelCert(spec: ModelSpec): ParsedCertificate {
  const subject = typeof spec.subject === 'string' ? cn(spec.subject) : (spec.subject ?? cn(`cert ${++serial}`));
  const issuer = spec.selfIssued ? subject : typeof spec.issuer === 'string' ? cn(spec.issuer) : (spec.issuer ?? cn('issuer'));
  const cert: ParsedCertificate = {
    der: new Uint8Array(),
    tbs: new Uint8Array(),
    version: 3,
    serialNumber: new Uint8Array([++serial & 0x7f]),
    tbsSignatureAlgorithm: { oid: '1.2.840.10045.4.3.2', params: null },
    signatureAlgorithm: { oid: '1.2.840.10045.4.3.2', params: null },
    signature: new Uint8Array(),
    issuer,
    subject,
    notBefore: 0,
    notAfter: 1e13,
    spki: { der: new Uint8Array(), algorithm: { oid: '1.2.840.10045.2.1', params: null }, publicKey: new Uint8Array() },
    issuerUniqueId: null,
    subjectUniqueId: null,
    extensions: spec.extensions ?? [],
    unknownCriticalExtensions: [],
    selfIssued: spec.selfIssued ?? subject.key === issuer.key,
    sha256: String(serial),
  };
  if (spec.ca !== undefined) cert.basicConstraints = { ca: spec.ca, pathLen: null };
  if (spec.policies) cert.certificatePolicies = spec.policies.map((oid) => ({ oid, qualifiers: null }));
  if (spec.mappings) cert.policyMappings = spec.mappings.map(([a, b]) => ({ issuerDomainPolicy: a, subjectDomainPolicy: b }));
  if (spec.pc) cert.policyConstraints = { requireExplicitPolicy: spec.pc.requireExplicitPolicy ?? null, inhibitPolicyMapping: spec.pc.inhibitPolicyMapping ?? null };
  if (spec.inhibitAnyPolicy !== undefined) cert.inhibitAnyPolicy = spec.inhibitAnyPolicy;
  if (spec.san) cert.subjectAltName = spec.san;
  if (spec.nameConstraints) {
    cert.nameConstraints = spec.nameConstraints;
    if (!spec.extensions) cert.extensions = [{ oid: '2.5.29.30', critical: true, value: new Uint8Array() }];
  }
  return cert;
}
