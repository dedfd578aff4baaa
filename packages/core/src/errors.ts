/**
 * @module
 * Errors certgate throws. Expected outcomes (an untrusted certificate, a refused transition) are
 * values, never exceptions; these are for misconfiguration, bugs and broken infrastructure.
 */

/** Codes of thrown errors. Public API. */
export type CertgateErrorCode =
  | 'ERR_CERTGATE_INVALID_OPTION'
  | 'ERR_CERTGATE_INVALID_INPUT'
  | 'ERR_CERTGATE_STORE_UNAVAILABLE'
  | 'ERR_CERTGATE_STORE_CORRUPT';

/** Base class of every error certgate throws; `code` is on the class and on the instance. */
export class CertgateError extends Error {
  static code: CertgateErrorCode = 'ERR_CERTGATE_INVALID_INPUT';
  readonly code: CertgateErrorCode;

  constructor(code: CertgateErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A bad option passed to a certgate function; the message names the option and what was expected. */
export class CertgateOptionError extends CertgateError {
  static override code: CertgateErrorCode = 'ERR_CERTGATE_INVALID_OPTION';
  constructor(message: string) {
    super('ERR_CERTGATE_INVALID_OPTION', message);
  }
}

/** Input that cannot be used at all (for example a trust bundle without a single PEM certificate). */
export class CertgateInputError extends CertgateError {
  static override code: CertgateErrorCode = 'ERR_CERTGATE_INVALID_INPUT';
  constructor(message: string) {
    super('ERR_CERTGATE_INVALID_INPUT', message);
  }
}
