/**
 * @module
 * Expiry warnings (DESIGN §1 "expiry warnings"): `Settings.warnings` for CA bundle certificates that
 * expire soon or have expired and for stored CRLs whose nextUpdate is near or has passed, and the
 * `expiresInDays` of a client certificate shown in whoami and in the enforcement preview. Pure
 * functions of the dates, the mode and an injected instant.
 */
import { CertgateError } from './errors.js';
import type { CaCertificateInfo } from './lint.js';
import type { Mode } from './mode/machine.js';
import type { RevocationMode } from './types.js';

/** One day in milliseconds. */
export const DAY_MS = 86_400_000;

/** Default of the controller's `expiryWarningDays`: warn 30 days before a CA certificate expires. */
export const DEFAULT_EXPIRY_WARNING_DAYS = 30;

/**
 * Default of the controller's `crlExpiryWarningDays`: warn 3 days before a stored CRL's nextUpdate.
 * Shorter than the CA window on purpose: CRLs are short-lived (typically a week, re-published daily),
 * so a 30-day window would warn about every CRL all the time.
 */
export const DEFAULT_CRL_EXPIRY_WARNING_DAYS = 3;

/** Codes of `Settings.warnings`. Public API. */
export type SettingsWarningCode = 'CA_EXPIRES_SOON' | 'CA_EXPIRED' | 'CRL_EXPIRES_SOON' | 'CRL_EXPIRED';

/** A `Settings.warnings` entry about a CA certificate. Identifies it by subject and fingerprint, never by its bytes. */
export interface CaExpiryWarning {
  code: 'CA_EXPIRES_SOON' | 'CA_EXPIRED';
  /** A sentence for the admin. */
  message: string;
  /** RFC 4514 subject of the CA certificate. */
  subject: string;
  fingerprint256: string;
  /** ISO 8601. */
  notAfter: string;
  /** Whole days left (negative once expired); see {@link expiresInDays}. */
  expiresInDays: number;
}

/** A `Settings.warnings` entry about a stored CRL. Identifies it by issuer and fingerprint (as in `ca.crls`). */
export interface CrlExpiryWarning {
  code: 'CRL_EXPIRES_SOON' | 'CRL_EXPIRED';
  /** A sentence for the admin: what happens (depends on the mode and the revocation setting) and what to do. */
  message: string;
  /** RFC 4514 issuer of the CRL. */
  issuer: string;
  /** SHA-256 of the CRL's DER, as in `ca.crls[].fingerprint256`. */
  fingerprint256: string;
  /** ISO 8601. */
  nextUpdate: string;
  /** Whole days until nextUpdate (negative once passed); see {@link expiresInDays}. */
  expiresInDays: number;
}

/** One entry of `Settings.warnings`: narrow on `code` (`CA_*` carry `subject`/`notAfter`, `CRL_*` carry `issuer`/`nextUpdate`). */
export type SettingsWarning = CaExpiryWarning | CrlExpiryWarning;

/**
 * Whole days from `now` until `notAfter`, rounded down: 0 means it expires within a day, a negative
 * number that it has expired (−1: within the last day). Rounding down never overstates the time left.
 * Returns null for a date that does not parse.
 */
export function expiresInDays(notAfter: Date | string, now: Date): number | null {
  const t = typeof notAfter === 'string' ? Date.parse(notAfter) : notAfter.getTime();
  if (!Number.isFinite(t)) return null;
  return Math.floor((t - now.getTime()) / DAY_MS);
}

/** Checks an `expiryWarningDays` (or `crlExpiryWarningDays`, named by `option`) option: an integer 0…3650 (0 turns the "expires soon" warning off). Throws `ERR_CERTGATE_INVALID_OPTION` otherwise. */
export function checkExpiryWarningDays(days: unknown, where: string, option = 'expiryWarningDays'): number {
  if (typeof days !== 'number' || !Number.isSafeInteger(days) || days < 0 || days > 3650) {
    throw new CertgateError('ERR_CERTGATE_INVALID_OPTION', `${where}: "${option}" must be an integer 0…3650 (days)`);
  }
  return days;
}

/**
 * The warnings for a CA bundle's certificates at `now`: `CA_EXPIRED` for each expired certificate,
 * `CA_EXPIRES_SOON` for each that expires within `withinDays` days (0 disables that one). Soonest first.
 *
 * @example
 * caExpiryWarnings(settings.ca?.certificates ?? [], new Date(), 30);
 * // [{ code: 'CA_EXPIRES_SOON', message: 'The CA "CN=Admin CA" expires in 10 days (…)', expiresInDays: 10, … }]
 */
export function caExpiryWarnings(
  certificates: readonly Pick<CaCertificateInfo, 'subject' | 'fingerprint256' | 'notAfter'>[],
  now: Date,
  withinDays: number = DEFAULT_EXPIRY_WARNING_DAYS,
): CaExpiryWarning[] {
  const out: CaExpiryWarning[] = [];
  const t = now.getTime();
  for (const c of certificates) {
    const end = Date.parse(c.notAfter);
    if (!Number.isFinite(end)) continue;
    const days = Math.floor((end - t) / DAY_MS);
    const base = { subject: c.subject, fingerprint256: c.fingerprint256, notAfter: c.notAfter, expiresInDays: days };
    const day = c.notAfter.slice(0, 10);
    if (end <= t) {
      out.push({
        code: 'CA_EXPIRED',
        message: `The CA "${c.subject}" expired on ${day}: client certificates it issued no longer validate. Upload its successor.`,
        ...base,
      });
    } else if (withinDays > 0 && end - t <= withinDays * DAY_MS) {
      const left = days === 0 ? 'within a day' : `in ${days} day${days === 1 ? '' : 's'}`;
      out.push({
        code: 'CA_EXPIRES_SOON',
        message: `The CA "${c.subject}" expires ${left} (${day}). Upload its successor before then, or clients will be refused once it has expired.`,
        ...base,
      });
    }
  }
  return out.sort((a, b) => Date.parse(a.notAfter) - Date.parse(b.notAfter));
}

/** What {@link crlExpiryWarnings} needs of a stored CRL (a `ca.crls` entry of the settings view). */
export interface CrlDates {
  issuer: string;
  fingerprint256: string;
  /** ISO 8601, or null for a CRL without nextUpdate (never warned about). */
  nextUpdate: string | null;
  /** A delta CRL (RFC 5280 §5.2.4): its expiry only hides the revocations since its base CRL. */
  delta: boolean;
}

/** Options of {@link crlExpiryWarnings}. */
export interface CrlExpiryWarningOptions {
  /** Warn this many days before nextUpdate; 0: only once it has passed. Default {@link DEFAULT_CRL_EXPIRY_WARNING_DAYS}. */
  withinDays?: number;
  /** The mode in force: the message says what happens now (`enforced`) or would happen on enforcing. Default `enforced`. */
  mode?: Mode;
  /** The controller's `verifyOptions.revocation`; undefined means `hard` (the default with CRLs stored). `off`: no CRL warnings (CRLs are not used). */
  revocation?: RevocationMode;
}

/**
 * The warnings for the stored CRLs at `now`: `CRL_EXPIRED` for each CRL whose nextUpdate has passed
 * (certgate no longer uses it, so with `revocation: 'hard'` the certificates it covers are refused
 * with `REVOCATION_UNKNOWN`), `CRL_EXPIRES_SOON` for each whose nextUpdate is within `withinDays`
 * days. A complete CRL that is out of date while another complete CRL of the same issuer is still
 * current gets its own wording (the current one may cover the same certificates). Soonest first.
 *
 * @example
 * crlExpiryWarnings(settings.ca?.crls ?? [], new Date(), { mode: settings.mode });
 * // [{ code: 'CRL_EXPIRES_SOON', issuer: 'CN=Admin CA', nextUpdate: '…', expiresInDays: 2, message: 'The CRL of "CN=Admin CA" …' }]
 */
export function crlExpiryWarnings(crls: readonly CrlDates[], now: Date, options: CrlExpiryWarningOptions = {}): CrlExpiryWarning[] {
  const revocation = options.revocation ?? 'hard';
  if (revocation === 'off') return [];
  const withinDays = options.withinDays ?? DEFAULT_CRL_EXPIRY_WARNING_DAYS;
  const enforced = (options.mode ?? 'enforced') === 'enforced';
  const t = now.getTime();
  const endOf = (c: CrlDates) => (c.nextUpdate === null ? Infinity : Date.parse(c.nextUpdate));
  const out: CrlExpiryWarning[] = [];
  for (const c of crls) {
    if (c.nextUpdate === null) continue;
    const end = endOf(c);
    if (!Number.isFinite(end)) continue;
    const days = Math.floor((end - t) / DAY_MS);
    const base = { issuer: c.issuer, fingerprint256: c.fingerprint256, nextUpdate: c.nextUpdate, expiresInDays: days };
    const day = c.nextUpdate.slice(0, 10);
    const who = `"${c.issuer}"`;
    const kind = c.delta ? 'delta CRL' : 'CRL';
    if (end < t) {
      let message: string;
      if (c.delta) {
        message = `The delta CRL of ${who} expired on ${day}: revocations published since its base CRL are no longer seen (the base CRL alone is used while it is current). Upload a fresh delta CRL or a fresh base CRL from ${who}.`;
      } else if (crls.some((o) => o !== c && !o.delta && o.issuer === c.issuer && endOf(o) >= t)) {
        message = `A CRL of ${who} expired on ${day}; another stored CRL of ${who} is still current, so only certificates that the expired one alone covers lose their revocation check (REVOCATION_UNKNOWN, refused while enforced with revocation 'hard'). Upload the current CRLs without the expired one (crlPem replaces the whole set).`;
      } else if (revocation === 'soft') {
        message = `The CRL of ${who} expired on ${day}: certificates issued by ${who} are now accepted without a revocation check (revocation 'soft'). Upload a fresh CRL from ${who}.`;
      } else if (enforced) {
        message = `The CRL of ${who} expired on ${day}: certgate cannot tell whether certificates issued by ${who} are revoked, so while enforced every client with one, yours included, is now refused with REVOCATION_UNKNOWN (break-glass gets an admin back in). Upload a fresh CRL from ${who} (the lock-out check refuses it only if it revokes your own certificate), or relax: switch to optional, or remove the CRLs (crlPem: null).`;
      } else {
        message = `The CRL of ${who} expired on ${day}: certificates issued by ${who} no longer validate (REVOCATION_UNKNOWN), so enforcing now would refuse every client with one, yours included (the lock-out check refuses it). Upload a fresh CRL from ${who}, or remove the CRLs (crlPem: null).`;
      }
      out.push({ code: 'CRL_EXPIRED', message, ...base });
    } else if (withinDays > 0 && end - t <= withinDays * DAY_MS) {
      const left = days === 0 ? 'within a day' : `in ${days} day${days === 1 ? '' : 's'}`;
      let then: string;
      if (c.delta) then = 'revocations published since its base CRL will no longer be seen';
      else if (revocation === 'soft') then = `certificates issued by ${who} will be accepted without a revocation check`;
      else if (enforced) then = `every client with a certificate issued by ${who}, yours included, will be refused with REVOCATION_UNKNOWN`;
      else then = `certificates issued by ${who} will no longer validate (REVOCATION_UNKNOWN) and enforcing would be refused`;
      out.push({
        code: 'CRL_EXPIRES_SOON',
        message: `The ${kind} of ${who} is out of date ${left} (nextUpdate ${c.nextUpdate}). Upload a fresh one from ${who} before then; after that ${then}.`,
        ...base,
      });
    }
  }
  return out.sort((a, b) => Date.parse(a.nextUpdate) - Date.parse(b.nextUpdate));
}

/** Options of {@link settingsWarnings}: the controller's thresholds and revocation setting. */
export interface SettingsWarningOptions {
  /** CA certificates: default {@link DEFAULT_EXPIRY_WARNING_DAYS}. */
  expiryWarningDays?: number;
  /** CRLs: default {@link DEFAULT_CRL_EXPIRY_WARNING_DAYS}. */
  crlExpiryWarningDays?: number;
  revocation?: RevocationMode;
}

/**
 * `Settings.warnings`: the CA and CRL warnings of a settings view's `ca` at `now`, soonest first
 * (by notAfter / nextUpdate).
 */
export function settingsWarnings(
  ca: null | { certificates: readonly Pick<CaCertificateInfo, 'subject' | 'fingerprint256' | 'notAfter'>[]; crls: readonly CrlDates[] },
  mode: Mode,
  now: Date,
  options: SettingsWarningOptions = {},
): SettingsWarning[] {
  if (ca === null) return [];
  const all: SettingsWarning[] = [
    ...caExpiryWarnings(ca.certificates, now, options.expiryWarningDays ?? DEFAULT_EXPIRY_WARNING_DAYS),
    ...crlExpiryWarnings(ca.crls, now, {
      withinDays: options.crlExpiryWarningDays ?? DEFAULT_CRL_EXPIRY_WARNING_DAYS,
      mode,
      ...(options.revocation !== undefined ? { revocation: options.revocation } : {}),
    }),
  ];
  const at = (w: SettingsWarning) => Date.parse('notAfter' in w ? w.notAfter : w.nextUpdate);
  return all.sort((a, b) => at(a) - at(b));
}
