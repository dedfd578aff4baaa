/**
 * @module
 * The in-memory test PKI: self-signed roots, intermediates, client and server leaves and CRLs,
 * generated with @peculiar/x509 on node:crypto's WebCrypto. Test-only; never use these for production keys.
 */
import { randomBytes, X509Certificate as NodeX509Certificate, webcrypto, type KeyObject } from 'node:crypto';
import 'reflect-metadata';
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  CertificatePolicyExtension,
  CRLDistributionPointsExtension,
  ExtendedKeyUsageExtension,
  Extension,
  KeyUsagesExtension,
  Name,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate as PeculiarX509Certificate,
  X509CertificateGenerator,
  X509CrlGenerator,
  type JsonGeneralName,
  type X509Certificate,
  type X509Crl,
} from '@peculiar/x509';
import type { KeyUsageName } from '../types.js';
import {
  crlNumberExtension,
  inhibitAnyPolicyExtension,
  nameConstraintsExtension,
  ocspAccessExtension,
  OID,
  policyConstraintsExtension,
  policyMappingsExtension,
  type NameConstraintsSpec,
  type RawExtension,
} from './extensions.js';
import { defaultHashFor, generateTestKey, importTestKey, signerFor, type KeySpec, type SignatureHash, type TestKey } from './keys.js';

const crypto = webcrypto as unknown as webcrypto.Crypto;

/** Subject alternative names to put in a certificate. */
export interface SanSpec {
  dns?: string[];
  email?: string[];
  uri?: string[];
  /** IPv4 or IPv6 text. */
  ip?: string[];
}

/** Options of every issuing function. Every option is optional; defaults are listed per option. */
export interface IssueOptions {
  /**
   * Subject DN as a string (`'CN=Alice, O=Example'`, as @peculiar/x509 parses it; `''` for an empty
   * subject) or as the DER of a Name (to reuse an exact encoding, e.g. for cross-signing).
   * Default: a unique `CN=certgate-test-<n>-<random>`.
   */
  subject?: string | Uint8Array;
  /** A key to generate (default `'ec-p256'`) or an existing key to certify again (key rollover, cross-signing). */
  key?: KeySpec | TestKey;
  /** Default: now − 1 hour. */
  notBefore?: Date;
  /** Default: `notBefore` + 1 year (+ 1 hour, so "now + 1 year" with the default notBefore). */
  notAfter?: Date;
  /** Serial number as hex. Default: 16 random bytes (positive). */
  serialNumber?: string;
  /**
   * basicConstraints cA. Default true for CAs (createCa, issueIntermediate), false for leaves.
   * `null` leaves the basicConstraints extension out. CAs get it critical; leaves get a critical cA=FALSE.
   */
  ca?: boolean | null;
  /** pathLenConstraint (only with `ca: true`). Default: absent. */
  pathLen?: number;
  /**
   * keyUsage bits (critical). Default `['keyCertSign', 'cRLSign']` for CAs, `['digitalSignature']` for
   * leaves. `null` leaves the extension out.
   */
  keyUsage?: KeyUsageName[] | null;
  /**
   * extendedKeyUsage purposes: `'clientAuth'`, `'serverAuth'` or dotted OIDs. Default `['clientAuth']`
   * for `issue`, `['serverAuth']` for `issueServer`, absent for CAs. `null` leaves the extension out.
   */
  extKeyUsage?: string[] | null;
  /** Whether extendedKeyUsage is critical. Default false. */
  extKeyUsageCritical?: boolean;
  /** subjectAltName. Default: absent (issueServer: `dns: ['localhost'], ip: ['127.0.0.1']`). Critical when the subject is empty. */
  san?: SanSpec;
  /** nameConstraints (critical). Default: absent. */
  nameConstraints?: NameConstraintsSpec;
  /** certificatePolicies OIDs (non-critical). Default: absent. */
  policies?: string[];
  /** policyMappings pairs `[issuerDomainPolicy, subjectDomainPolicy]` (critical). Default: absent. */
  policyMappings?: [string, string][];
  /** policyConstraints (critical). Default: absent. */
  policyConstraints?: { requireExplicitPolicy?: number; inhibitPolicyMapping?: number };
  /** inhibitAnyPolicy skipCerts (critical). Default: absent. */
  inhibitAnyPolicy?: number;
  /** cRLDistributionPoints URIs. Default: absent. */
  crlDistributionPoints?: string[];
  /** OCSP responder URIs: an authorityInfoAccess extension (non-critical) with one id-ad-ocsp entry each. Default: absent. */
  ocspResponders?: string[];
  /** subjectKeyIdentifier (SHA-1 of the public key). Default true. */
  subjectKeyIdentifier?: boolean;
  /** authorityKeyIdentifier from the issuer's SKI. Default true when the issuer has an SKI and the certificate is not self-signed. */
  authorityKeyIdentifier?: boolean;
  /** Extra extensions, appended after the ones above (e.g. an unknown critical one). */
  extensions?: RawExtension[];
  /** Signature hash of the issuer's signature. Default SHA-256 (SHA-384 for a P-384 issuer, SHA-512 for P-521); ignored for Ed25519 issuers. */
  signatureHash?: SignatureHash;
}

/** A generated certificate with its private key. */
export interface TestCertificate {
  /** PEM (`-----BEGIN CERTIFICATE-----`, trailing newline). */
  pem: string;
  der: Uint8Array;
  /** PKCS#8 PEM of the private key. */
  keyPem: string;
  /** node:crypto private key. */
  key: KeyObject;
  /** node:crypto public key. */
  publicKey: KeyObject;
  /** The key pair in all forms (pass as `key` to certify the same key again). */
  testKey: TestKey;
  /** Subject as @peculiar/x509 prints it (`CN=Alice, O=Example`). */
  subject: string;
  /** Issuer as @peculiar/x509 prints it. */
  issuer: string;
  /** Serial number, upper-case hex without separators (as node:crypto prints it). */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 of the DER, upper-case hex pairs with colons (as node:crypto prints it). */
  fingerprint256: string;
  /** The @peculiar/x509 object. */
  x509: X509Certificate;
  /** The node:crypto object. */
  nodeCert: NodeX509Certificate;
}

/** One revoked certificate in a CRL. */
export interface CrlEntry {
  /** Hex serial (any case, as `TestCertificate.serialNumber`), or the certificate itself. */
  serialNumber: string | TestCertificate;
  /** Revocation date. Default: `thisUpdate`. */
  date?: Date;
  /** CRLReason code (RFC 5280 §5.3.1): 0 unspecified, 1 keyCompromise, 2 cACompromise, 3 affiliationChanged, 4 superseded, 5 cessationOfOperation, 6 certificateHold, 9 privilegeWithdrawn, 10 aACompromise. Default: no reason extension. */
  reason?: number;
}

export interface CrlOptions {
  revoked?: CrlEntry[];
  /** Default: now − 1 hour. */
  thisUpdate?: Date;
  /** Default: thisUpdate + 7 days. `null` leaves nextUpdate out. */
  nextUpdate?: Date | null;
  /** cRLNumber. Default 1. */
  crlNumber?: number;
  /** Default: as for certificates. */
  signatureHash?: SignatureHash;
}

/** A generated CRL. */
export interface TestCrl {
  pem: string;
  der: Uint8Array;
  x509: X509Crl;
}

/** A certificate whose key can sign: a CA (or, for negative tests, anything made into an issuer by {@link asIssuer}). */
export interface TestCa extends TestCertificate {
  /** Issue an end-entity certificate (defaults: EKU clientAuth, keyUsage digitalSignature, cA=FALSE). */
  issue(opts?: IssueOptions): Promise<TestCertificate>;
  /** Issue a TLS server certificate (defaults: EKU serverAuth, SAN `localhost` + `127.0.0.1`, CN=localhost). */
  issueServer(opts?: IssueOptions): Promise<TestCertificate>;
  /** Issue a subordinate CA (defaults: cA=TRUE critical, keyUsage keyCertSign+cRLSign, no EKU). */
  issueIntermediate(opts?: IssueOptions): Promise<TestCa>;
  /** Certify another CA's subject and key under this CA (a cross-certificate): the result is a CA that can issue as `other`. */
  crossSign(other: TestCertificate, opts?: Omit<IssueOptions, 'subject' | 'key'>): Promise<TestCa>;
  /** An RFC 5280 v2 CRL signed by this CA (AKI and cRLNumber included). */
  createCrl(opts?: CrlOptions): Promise<TestCrl>;
}

let counter = 0;
function uniqueCn(): string {
  counter += 1;
  return `CN=certgate-test-${counter}-${randomBytes(4).toString('hex')}`;
}

const HOUR = 3600_000;
const YEAR = 365 * 24 * HOUR;

const EKU_NAMES: Record<string, string> = { clientAuth: OID.clientAuth, serverAuth: OID.serverAuth };
const KU_BITS: Record<KeyUsageName, number> = {
  digitalSignature: 1,
  nonRepudiation: 2,
  keyEncipherment: 4,
  dataEncipherment: 8,
  keyAgreement: 16,
  keyCertSign: 32,
  cRLSign: 64,
  encipherOnly: 128,
  decipherOnly: 256,
};

function toName(subject: string | Uint8Array): Name {
  return typeof subject === 'string' ? new Name(subject) : new Name(toArrayBuffer(subject));
}

function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

function raw(e: RawExtension): Extension {
  return new Extension(e.oid, e.critical, e.der);
}

interface Role {
  isCa: boolean;
  eku: string[] | null;
  ku: KeyUsageName[];
  san?: SanSpec;
  subject?: string;
}

async function buildExtensions(
  opts: IssueOptions,
  role: Role,
  key: TestKey,
  issuer: { skiHex: string | null } | null,
  subjectEmpty: boolean,
): Promise<Extension[]> {
  const exts: Extension[] = [];
  const ca = opts.ca === undefined ? role.isCa : opts.ca;
  if (ca !== null) {
    exts.push(new BasicConstraintsExtension(ca, ca ? opts.pathLen : undefined, true));
  }
  const ku = opts.keyUsage === undefined ? role.ku : opts.keyUsage;
  if (ku !== null) {
    exts.push(new KeyUsagesExtension(ku.reduce((m, n) => m | KU_BITS[n], 0), true));
  }
  const eku = opts.extKeyUsage === undefined ? role.eku : opts.extKeyUsage;
  if (eku !== null) {
    exts.push(new ExtendedKeyUsageExtension(eku.map((u) => EKU_NAMES[u] ?? u), opts.extKeyUsageCritical ?? false));
  }
  if (opts.subjectKeyIdentifier ?? true) {
    exts.push(await SubjectKeyIdentifierExtension.create(key.cryptoKeys.publicKey, false, crypto));
  }
  if (issuer && issuer.skiHex && (opts.authorityKeyIdentifier ?? true)) {
    exts.push(new AuthorityKeyIdentifierExtension(issuer.skiHex, false));
  }
  const san = opts.san ?? role.san;
  if (san) {
    const names: JsonGeneralName[] = [
      ...(san.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
      ...(san.email ?? []).map((value) => ({ type: 'email' as const, value })),
      ...(san.uri ?? []).map((value) => ({ type: 'url' as const, value })),
      ...(san.ip ?? []).map((value) => ({ type: 'ip' as const, value })),
    ];
    if (names.length > 0) exts.push(new SubjectAlternativeNameExtension(names, subjectEmpty));
  }
  if (opts.nameConstraints) exts.push(raw(nameConstraintsExtension(opts.nameConstraints)));
  if (opts.policies) exts.push(new CertificatePolicyExtension(opts.policies, false));
  if (opts.policyMappings) exts.push(raw(policyMappingsExtension(opts.policyMappings)));
  if (opts.policyConstraints) exts.push(raw(policyConstraintsExtension(opts.policyConstraints)));
  if (opts.inhibitAnyPolicy !== undefined) exts.push(raw(inhibitAnyPolicyExtension(opts.inhibitAnyPolicy)));
  if (opts.crlDistributionPoints) exts.push(new CRLDistributionPointsExtension(opts.crlDistributionPoints, false));
  if (opts.ocspResponders) exts.push(raw(ocspAccessExtension(opts.ocspResponders)));
  for (const e of opts.extensions ?? []) exts.push(raw(e));
  return exts;
}

function skiHexOf(cert: X509Certificate): string | null {
  const ext = cert.getExtension(SubjectKeyIdentifierExtension);
  return ext ? ext.keyId : null;
}

async function makeCertificate(
  opts: IssueOptions,
  role: Role,
  signer: TestCertificate | null,
): Promise<TestCertificate> {
  const key = typeof opts.key === 'object' ? opts.key : await generateTestKey(opts.key ?? 'ec-p256');
  const subjectInput = opts.subject ?? role.subject ?? uniqueCn();
  const subjectName = toName(subjectInput);
  const subjectEmpty = new Uint8Array(subjectName.toArrayBuffer()).length <= 2;
  const notBefore = opts.notBefore ?? new Date(Date.now() - HOUR);
  const notAfter = opts.notAfter ?? new Date(notBefore.getTime() + YEAR + HOUR);
  const signingTestKey = signer ? signer.testKey : key;
  const { signingKey, signingAlgorithm } = await signerFor(
    signingTestKey,
    opts.signatureHash ?? defaultHashFor(signingTestKey.spec),
  );
  const extensions = await buildExtensions(
    opts,
    role,
    key,
    signer ? { skiHex: skiHexOf(signer.x509) } : null,
    subjectEmpty,
  );
  const x509 = await X509CertificateGenerator.create(
    {
      ...(opts.serialNumber !== undefined ? { serialNumber: opts.serialNumber } : {}),
      subject: subjectName,
      issuer: signer ? signer.x509.subjectName : subjectName,
      notBefore,
      notAfter,
      publicKey: key.cryptoKeys.publicKey,
      signingKey,
      signingAlgorithm,
      extensions,
    },
    crypto,
  );
  return wrap(x509, key);
}

function wrap(x509: X509Certificate, key: TestKey): TestCertificate {
  const der = new Uint8Array(x509.rawData);
  const nodeCert = new NodeX509Certificate(Buffer.from(der));
  return {
    pem: nodeCert.toString(),
    der,
    keyPem: key.pkcs8Pem,
    key: key.privateKey,
    publicKey: key.publicKey,
    testKey: key,
    subject: x509.subject,
    issuer: x509.issuer,
    serialNumber: nodeCert.serialNumber.toUpperCase(),
    notBefore: x509.notBefore,
    notAfter: x509.notAfter,
    fingerprint256: nodeCert.fingerprint256,
    x509,
    nodeCert,
  };
}

const CA_ROLE: Role = { isCa: true, eku: null, ku: ['keyCertSign', 'cRLSign'] };
const CLIENT_ROLE: Role = { isCa: false, eku: ['clientAuth'], ku: ['digitalSignature'] };
const SERVER_ROLE: Role = {
  isCa: false,
  eku: ['serverAuth'],
  ku: ['digitalSignature'],
  san: { dns: ['localhost'], ip: ['127.0.0.1'] },
  subject: 'CN=localhost',
};

/**
 * Make any certificate an issuer: its key signs what `issue*` produce. For CAs this is what
 * {@link createCa} returns; for a leaf it builds the "leaf used as a CA" negative case.
 */
export function asIssuer(cert: TestCertificate): TestCa {
  const self: TestCa = {
    ...cert,
    issue: (opts = {}) => makeCertificate(opts, CLIENT_ROLE, cert),
    issueServer: (opts = {}) => makeCertificate(opts, SERVER_ROLE, cert),
    issueIntermediate: async (opts = {}) => asIssuer(await makeCertificate(opts, CA_ROLE, cert)),
    crossSign: async (other, opts = {}) =>
      asIssuer(
        await makeCertificate(
          { ...opts, subject: new Uint8Array(other.x509.subjectName.toArrayBuffer()), key: other.testKey },
          CA_ROLE,
          cert,
        ),
      ),
    createCrl: (opts = {}) => makeCrl(cert, opts),
  };
  return self;
}

/** A self-signed root CA (defaults: cA=TRUE critical, keyUsage keyCertSign+cRLSign, SKI, no AKI). */
export async function createCa(opts: IssueOptions = {}): Promise<TestCa> {
  return asIssuer(await makeCertificate(opts, CA_ROLE, null));
}

/**
 * An issuer from an existing certificate and its private key (PEM), e.g. a dev CA written to disk
 * by the `certgate dev-ca` CLI. Throws a TypeError when the text holds no certificate or the key
 * does not belong to it. Does not check that the certificate is a CA (see {@link asIssuer}).
 */
export async function loadCa(certPem: string, keyPem: string): Promise<TestCa> {
  let nodeCert: NodeX509Certificate;
  try {
    nodeCert = new NodeX509Certificate(certPem);
  } catch (err) {
    throw new TypeError(`@certgate/core/testing: the CA certificate could not be read (${(err as Error).message})`);
  }
  const key = await importTestKey(keyPem);
  if (!nodeCert.checkPrivateKey(key.privateKey)) {
    throw new TypeError('@certgate/core/testing: the private key does not belong to the CA certificate');
  }
  return asIssuer(wrap(new PeculiarX509Certificate(new Uint8Array(nodeCert.raw)), key));
}

/**
 * A self-signed certificate with leaf defaults (cA=FALSE, EKU clientAuth): the "self-signed client
 * certificate" negative case.
 */
export async function createSelfSignedLeaf(opts: IssueOptions = {}): Promise<TestCertificate> {
  return makeCertificate(opts, CLIENT_ROLE, null);
}

async function makeCrl(issuer: TestCertificate, opts: CrlOptions): Promise<TestCrl> {
  const thisUpdate = opts.thisUpdate ?? new Date(Date.now() - HOUR);
  const nextUpdate = opts.nextUpdate === undefined ? new Date(thisUpdate.getTime() + 7 * 24 * HOUR) : opts.nextUpdate;
  const { signingKey, signingAlgorithm } = await signerFor(
    issuer.testKey,
    opts.signatureHash ?? defaultHashFor(issuer.testKey.spec),
  );
  const extensions: Extension[] = [raw(crlNumberExtension(opts.crlNumber ?? 1))];
  const ski = skiHexOf(issuer.x509);
  if (ski) extensions.unshift(new AuthorityKeyIdentifierExtension(ski, false));
  const x509 = await X509CrlGenerator.create(
    {
      issuer: issuer.x509.subjectName,
      thisUpdate,
      ...(nextUpdate ? { nextUpdate } : {}),
      signingKey,
      signingAlgorithm,
      extensions,
      entries: (opts.revoked ?? []).map((e) => ({
        serialNumber: typeof e.serialNumber === 'string' ? e.serialNumber : e.serialNumber.serialNumber,
        revocationDate: e.date ?? thisUpdate,
        ...(e.reason !== undefined ? { reason: e.reason } : {}),
      })),
    },
    crypto,
  );
  const der = new Uint8Array(x509.rawData);
  const b64 = Buffer.from(der).toString('base64').match(/.{1,64}/g)!.join('\n');
  return { der, pem: `-----BEGIN X509 CRL-----\n${b64}\n-----END X509 CRL-----\n`, x509 };
}

/** Options of {@link createTestPki}. */
export interface TestPkiOptions {
  /** Key for every certificate. Default `'ec-p256'`. */
  key?: KeySpec;
  /** notBefore of every certificate. Default now − 1 hour. */
  notBefore?: Date;
  /** notAfter of every certificate. Default notBefore + 1 year. */
  notAfter?: Date;
  /** Subject of the client leaf. Default `'CN=certgate test client, O=certgate'`. */
  clientSubject?: string;
}

/** A ready root → intermediate → {client, server} hierarchy. */
export interface TestPki {
  root: TestCa;
  intermediate: TestCa;
  /** Client leaf issued by the intermediate (EKU clientAuth, SAN email). */
  client: TestCertificate;
  /** Server leaf issued by the intermediate (EKU serverAuth, SAN localhost + 127.0.0.1). */
  server: TestCertificate;
  /** The root's PEM: what an admin uploads as the CA bundle. */
  caPem: string;
  /** Client leaf then intermediate, as PEM strings (what a TLS client sends). */
  clientChain: string[];
  /** Server leaf then intermediate, as one PEM text (the `cert` option of a TLS server). */
  serverChainPem: string;
}

/** A root → intermediate → client/server PKI in one call. */
export async function createTestPki(opts: TestPkiOptions = {}): Promise<TestPki> {
  const common: IssueOptions = {
    ...(opts.key ? { key: opts.key } : {}),
    ...(opts.notBefore ? { notBefore: opts.notBefore } : {}),
    ...(opts.notAfter ? { notAfter: opts.notAfter } : {}),
  };
  const root = await createCa({ ...common, subject: 'CN=certgate test root, O=certgate' });
  const intermediate = await root.issueIntermediate({ ...common, subject: 'CN=certgate test intermediate, O=certgate' });
  const client = await intermediate.issue({
    ...common,
    subject: opts.clientSubject ?? 'CN=certgate test client, O=certgate',
    san: { email: ['client@example.test'] },
  });
  const server = await intermediate.issueServer(common);
  return {
    root,
    intermediate,
    client,
    server,
    caPem: root.pem,
    clientChain: [client.pem, intermediate.pem],
    serverChainPem: server.pem + intermediate.pem,
  };
}

/** Join certificates into one PEM text (a bundle or a `cert` chain). */
export function pemBundle(...certs: (TestCertificate | string)[]): string {
  return certs.map((c) => (typeof c === 'string' ? c : c.pem)).join('');
}
