/**
 * @module
 * Digests used as cache keys and fingerprints. Internal.
 */
import * as nodeCrypto from 'node:crypto';

const oneShotHash = (nodeCrypto as { hash?: (alg: string, data: Uint8Array, enc: 'hex') => string }).hash;

/** SHA-256 of `data`, lower-case hex. `crypto.hash` (Node ≥ 20.12) is several times cheaper than createHash for small inputs. */
export function sha256Hex(data: Uint8Array): string {
  if (oneShotHash !== undefined) return oneShotHash('sha256', data, 'hex');
  return nodeCrypto.createHash('sha256').update(data).digest('hex');
}
