/**
 * @module
 * The CRLs of one trust store, indexed for RFC 5280 §6.3 processing: complete and delta CRLs by issuer
 * name (RFC 5280 §7.1 key), plus a bounded cache of CRL signature checks that lives as long as the store.
 * Internal.
 */
import type { ParsedCrl } from '../cert/crl.js';
import type { ParsedCertificate } from '../cert/model.js';
import { verifySignature, type SignatureCheck } from '../cert/signature.js';
import { toHex } from '../der/reader.js';
import { LruMap } from '../lru.js';

/** Upper bound on cached signature checks per store. */
const MAX_SIGNATURE_CACHE = 4096;

export class CrlSet {
  /** Complete CRLs (no deltaCRLIndicator) by issuer key, newest thisUpdate first. */
  readonly complete = new Map<string, ParsedCrl[]>();
  /** Delta CRLs by issuer key, highest cRLNumber first. */
  readonly deltas = new Map<string, ParsedCrl[]>();
  /** Every CRL, in input order (duplicates removed). */
  readonly all: readonly ParsedCrl[];
  private readonly signatures = new LruMap<string, SignatureCheck>(MAX_SIGNATURE_CACHE);

  constructor(crls: readonly ParsedCrl[]) {
    const seen = new Set<string>();
    const all: ParsedCrl[] = [];
    for (const c of crls) {
      if (seen.has(c.sha256)) continue;
      seen.add(c.sha256);
      all.push(c);
      const map = c.deltaBase === null ? this.complete : this.deltas;
      const list = map.get(c.issuer.key);
      if (list) list.push(c);
      else map.set(c.issuer.key, [c]);
    }
    for (const list of this.complete.values()) list.sort((a, b) => b.thisUpdate - a.thisUpdate || cmp(b.crlNumber, a.crlNumber));
    for (const list of this.deltas.values()) list.sort((a, b) => cmp(b.crlNumber, a.crlNumber) || b.thisUpdate - a.thisUpdate);
    this.all = Object.freeze(all);
  }

  get size(): number {
    return this.all.length;
  }

  /**
   * Whether `signer`'s key (with inherited DSA parameters when its key has none) verifies the CRL's
   * signature. Cached per (CRL, signer, parameters, weak-algorithm policy).
   */
  verify(crl: ParsedCrl, signer: ParsedCertificate, inheritedDsaParams: Uint8Array | null, allowWeak: boolean): SignatureCheck {
    const key = `${crl.sha256}:${signer.sha256}:${allowWeak ? 1 : 0}:${inheritedDsaParams ? toHex(inheritedDsaParams) : ''}`;
    const hit = this.signatures.get(key);
    if (hit) return hit;
    const r = verifySignature(crl, signer.spki, { allowWeak, inheritedDsaParams });
    this.signatures.set(key, r);
    return r;
  }
}

function cmp(a: bigint | null, b: bigint | null): number {
  const x = a ?? -1n;
  const y = b ?? -1n;
  return x > y ? 1 : x < y ? -1 : 0;
}
