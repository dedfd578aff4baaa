/**
 * @module
 * Deliberately broken certificates for negative tests. Each helper takes the issuing CA and the
 * usual {@link IssueOptions} (which win over the helper's own settings) plus `now`, the instant the
 * certificate is broken *at* (default: the current time). Pass a fixed `now` and validate at that
 * same instant.
 */
import { unknownExtension } from './extensions.js';
import { asIssuer, createSelfSignedLeaf, type IssueOptions, type TestCa, type TestCertificate } from './pki.js';

export interface BrokenOptions extends IssueOptions {
  /** Reference instant. Default: now. */
  now?: Date;
}

const DAY = 24 * 3600_000;

function split(opts: BrokenOptions): { now: Date; rest: IssueOptions } {
  const { now, ...rest } = opts;
  return { now: now ?? new Date(), rest };
}

/** A client leaf that expired one day before `now` (valid from `now` − 1 year to `now` − 1 day). */
export function issueExpired(ca: TestCa, opts: BrokenOptions = {}): Promise<TestCertificate> {
  const { now, rest } = split(opts);
  return ca.issue({ notBefore: new Date(now.getTime() - 365 * DAY), notAfter: new Date(now.getTime() - DAY), ...rest });
}

/** A client leaf that becomes valid one day after `now` (valid from `now` + 1 day to `now` + 1 year). */
export function issueNotYetValid(ca: TestCa, opts: BrokenOptions = {}): Promise<TestCertificate> {
  const { now, rest } = split(opts);
  return ca.issue({ notBefore: new Date(now.getTime() + DAY), notAfter: new Date(now.getTime() + 365 * DAY), ...rest });
}

/** A leaf whose EKU allows only serverAuth (not clientAuth). */
export function issueWrongEku(ca: TestCa, opts: BrokenOptions = {}): Promise<TestCertificate> {
  const { rest } = split(opts);
  return ca.issue({ extKeyUsage: ['serverAuth'], ...rest });
}

/** A subordinate CA certificate (cA=TRUE, keyCertSign, no EKU) to present as if it were a client leaf. */
export function issueCaAsLeaf(ca: TestCa, opts: BrokenOptions = {}): Promise<TestCa> {
  const { rest } = split(opts);
  return ca.issueIntermediate(rest);
}

/**
 * A leaf (basicConstraints cA=FALSE) that is then used as an issuer: `notCa` is that leaf, `leaf` a
 * client certificate it signed. A chain `leaf → notCa → ca` must fail with NOT_A_CA. So that
 * basicConstraints is the *only* defect, `notCa` gets keyUsage digitalSignature + keyCertSign by
 * default (pass `keyUsage` to change that).
 */
export async function issueLeafAsCa(
  ca: TestCa,
  opts: BrokenOptions = {},
): Promise<{ notCa: TestCa; leaf: TestCertificate }> {
  const { rest } = split(opts);
  const notCa = asIssuer(await ca.issue({ keyUsage: ['digitalSignature', 'keyCertSign'], ...rest }));
  const leaf = await notCa.issue({
    ...(rest.notBefore ? { notBefore: rest.notBefore } : {}),
    ...(rest.notAfter ? { notAfter: rest.notAfter } : {}),
  });
  return { notCa, leaf };
}

/** A client leaf carrying a critical extension with an OID nobody recognises (1.3.6.1.4.1.55555.1.1). */
export function issueUnknownCriticalExtension(ca: TestCa, opts: BrokenOptions = {}): Promise<TestCertificate> {
  const { rest } = split(opts);
  return ca.issue({ ...rest, extensions: [...(rest.extensions ?? []), unknownExtension(true)] });
}

/** A self-signed client certificate (no CA at all). */
export function issueSelfSignedLeaf(opts: BrokenOptions = {}): Promise<TestCertificate> {
  const { rest } = split(opts);
  return createSelfSignedLeaf(rest);
}
