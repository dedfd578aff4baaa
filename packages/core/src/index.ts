/**
 * @module
 * `@certgate/core`: RFC 5280 client-certificate validation, the optional→enforced mode machine,
 * settings stores and the controller that the adapters call. Named re-exports only.
 */
export * from './types.js';
export * from './errors.js';
export { readPemBlocks, toPem, type PemBlock } from './pem.js';
export { TrustStore, MAX_STORE_CRLS, type TrustStoreOptions, type TrustStoreProblem, type CrlSummary } from './trust-store.js';
export { MAX_CRL_SIZE } from './cert/crl.js';
export { REVOCATION_LIMITS } from './revocation/check.js';
export { lintCrls, CRL_LINT_MAX, type CrlLintCode, type CrlLintProblem, type CrlLintResult, type CrlLintOptions } from './revocation/lint.js';
export { verifyChain, INPUT_LIMITS } from './verify.js';
export { PATH_LIMITS } from './cert/path.js';
export * from './mode/machine.js';
export * from './settings/store.js';
export { DEFAULT_SETTINGS_FILE, createFileSettingsStore, encodeStateFile, decodeStateFile, type FileSettingsStoreOptions } from './settings/file-store.js';
export * from './audit/log.js';
export * from './controller/index.js';
export * from './controller/http.js';
export { lintCaBundle, LINT_CODES, LINT_MAX_BYTES, LINT_MAX_BLOCKS, CA_HINTS_MAX_BYTES, type LintCode, type LintProblem, type LintResult, type LintOptions, type CaCertificateInfo } from './lint.js';
export { createVerdictCache, type VerdictCache, type VerdictCacheOptions } from './verdict-cache.js';
export { renderDenialPage, DENIAL_PAGE_CSP, VERIFICATION_REASON_TEXT } from './denial-page.js';
export {
  allowSubjects,
  allowCommonNames,
  allowOrganizations,
  allowOrganizationalUnits,
  allowDnsNames,
  allowEmails,
  allowUris,
  allowSpiffeIds,
  allowIps,
  allowFingerprints,
  allowSpkiPins,
  allowIssuers,
  allowIssuingCas,
  allOf,
  anyOf,
  predicate,
  evaluateRule,
  authorize,
  resolveRules,
  notAllowedMessage,
  type Rule,
  type RuleResult,
  type Matcher,
  type Authorization,
} from './rules/index.js';
export { createEnforcementPreview, type EnforcementPreview, type PreviewOptions, type PreviewReport, type PreviewClient, type PreviewVerifier } from './preview/index.js';
export { EXTENSION_ROUTES, AUDIT_LIMITS, auditEventView, parseAuditLimit, parsePreviewBody, parseConfirmBody, type AuditEventView } from './preview/console-routes.js';
export {
  caExpiryWarnings,
  crlExpiryWarnings,
  settingsWarnings,
  expiresInDays,
  DEFAULT_EXPIRY_WARNING_DAYS,
  DEFAULT_CRL_EXPIRY_WARNING_DAYS,
  DAY_MS,
  type CaExpiryWarning,
  type CrlExpiryWarning,
  type CrlDates,
  type CrlExpiryWarningOptions,
  type SettingsWarning,
  type SettingsWarningCode,
  type SettingsWarningOptions,
} from './warnings.js';
export { CONFIRM_REVERT_ACTOR, pendingConfirmationView } from './confirm/index.js';
export { decisionMetricCode, type ControllerMetrics, type DecisionMetricCode } from './metrics/sink.js';
export { LruMap } from './lru.js';
export {
  createForwardedCertificates,
  FORWARDED_HEADERS,
  FORWARDED_LIMITS,
  type ForwardedCertificates,
  type ForwardedCertificatesOptions,
  type ForwardedFormat,
  type ForwardedRead,
  type ForwardedRequest,
} from './forwarded.js';
export {
  createOcspClient,
  MAX_OCSP_REQUESTS_PER_VERIFICATION,
  OCSP_LIMITS,
  type OcspClient,
  type OcspClientOptions,
} from './revocation/ocsp.js';
export { createCrlFetcher, MAX_FETCHED_CRLS_PER_VERIFICATION, type CrlFetcher, type CrlFetcherOptions, type CrlFetchResult } from './revocation/fetch.js';
