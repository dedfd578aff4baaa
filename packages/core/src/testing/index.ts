/**
 * @module
 * `@certgate/core/testing`: an in-memory test PKI (roots, intermediates, client and server leaves,
 * CRLs, deliberately broken certificates, PKCS#12 export) built on @peculiar/x509 and node:crypto.
 *
 * This subpath imports the `reflect-metadata` polyfill that @peculiar/x509 needs; `@certgate/core`
 * itself does not. Test and development use only: keys are generated in memory and never protected.
 *
 * @example
 * import { createTestPki } from '@certgate/core/testing';
 * const pki = await createTestPki();
 * // pki.caPem is the CA bundle to upload, pki.client.pem / pki.client.keyPem the client credentials,
 * // pki.clientChain the chain a TLS client sends, pki.serverChainPem + pki.server.keyPem a server's.
 */
import 'reflect-metadata';

export {
  createCa,
  createSelfSignedLeaf,
  createTestPki,
  loadCa,
  asIssuer,
  pemBundle,
  type IssueOptions,
  type SanSpec,
  type TestCertificate,
  type TestCa,
  type TestCrl,
  type CrlEntry,
  type CrlOptions,
  type TestPki,
  type TestPkiOptions,
} from './pki.js';
export {
  issueExpired,
  issueNotYetValid,
  issueWrongEku,
  issueCaAsLeaf,
  issueLeafAsCa,
  issueUnknownCriticalExtension,
  issueSelfSignedLeaf,
  type BrokenOptions,
} from './broken.js';
export {
  nameConstraintsExtension,
  policyMappingsExtension,
  policyConstraintsExtension,
  inhibitAnyPolicyExtension,
  unknownExtension,
  crlNumberExtension,
  ocspAccessExtension,
  nameDer,
  encodeName,
  ipToBytes,
  OID,
  type RawExtension,
  type NameSubtrees,
  type NameConstraintsSpec,
} from './extensions.js';
export { generateTestKey, importTestKey, KEY_SPECS, type KeySpec, type SignatureHash, type TestKey } from './keys.js';
export { toPkcs12, type Pkcs12Options } from './pkcs12.js';
