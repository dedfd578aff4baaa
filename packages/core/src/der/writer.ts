/**
 * @module
 * Minimal DER encoding (definite, minimal lengths) for the few structures certgate must build itself,
 * e.g. a DSA SubjectPublicKeyInfo with inherited parameters. Internal.
 */

/** Encode one TLV with a low-tag-number identifier octet. */
export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const head: number[] = [tag];
  if (len < 0x80) {
    head.push(len);
  } else {
    const bytes: number[] = [];
    for (let x = len; x > 0; x = Math.floor(x / 256)) bytes.unshift(x & 0xff);
    head.push(0x80 | bytes.length, ...bytes);
  }
  const out = new Uint8Array(head.length + len);
  out.set(head, 0);
  let o = head.length;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
