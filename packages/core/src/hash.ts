/**
 * @module
 * Digests used as cache keys and fingerprints. Internal.
 */
import * as nodeCrypto from 'node:crypto';

const oneShotHash = (nodeCrypto as { hash?: (alg: string, data: Uint8Array, enc: 'hex' | 'base64') => string }).hash;

/** SHA-256 of `data`, lower-case hex. `crypto.hash` (Node ≥ 20.12) is several times cheaper than createHash for small inputs. */
export function sha256Hex(data: Uint8Array): string {
  if (oneShotHash !== undefined) return oneShotHash('sha256', data, 'hex');
  return nodeCrypto.createHash('sha256').update(data).digest('hex');
}

/** SHA-256 of `data`, base64 (the `pin-sha256` form). */
export function sha256Base64(data: Uint8Array): string {
  if (oneShotHash !== undefined) return oneShotHash('sha256', data, 'base64');
  return nodeCrypto.createHash('sha256').update(data).digest('base64');
}
