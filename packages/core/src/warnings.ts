/**
 * @module
 * Expiry warnings (DESIGN §1 "expiry warnings"): `Settings.warnings` for CA bundle certificates that
 * expire soon or have expired, and the `expiresInDays` of a client certificate shown in whoami and
 * in the enforcement preview. Pure functions of the certificate dates and an injected instant.
 */
import { CertgateError } from './errors.js';
import type { CaCertificateInfo } from './lint.js';

/** One day in milliseconds. */
export const DAY_MS = 86_400_000;

/** Default of the controller's `expiryWarningDays`: warn 30 days before a CA certificate expires. */
export const DEFAULT_EXPIRY_WARNING_DAYS = 30;

/** Codes of `Settings.warnings`. Public API. */
export type SettingsWarningCode = 'CA_EXPIRES_SOON' | 'CA_EXPIRED';

/** One entry of `Settings.warnings`. Identifies the certificate by subject and fingerprint, never by its bytes. */
export interface SettingsWarning {
  code: SettingsWarningCode;
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

/** Checks an `expiryWarningDays` option: an integer 0…3650 (0 turns the "expires soon" warning off). Throws `ERR_CERTGATE_INVALID_OPTION` otherwise. */
export function checkExpiryWarningDays(days: unknown, where: string): number {
  if (typeof days !== 'number' || !Number.isSafeInteger(days) || days < 0 || days > 3650) {
    throw new CertgateError('ERR_CERTGATE_INVALID_OPTION', `${where}: "expiryWarningDays" must be an integer 0…3650 (days)`);
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
): SettingsWarning[] {
  const out: SettingsWarning[] = [];
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
