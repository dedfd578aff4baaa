/**
 * @module
 * `@certgate/core`: RFC 5280 client-certificate validation, the optional→enforced mode machine,
 * settings stores and the controller that the adapters call. Named re-exports only.
 */
export * from './types.js';
export * from './errors.js';
export { readPemBlocks, toPem, type PemBlock } from './pem.js';
