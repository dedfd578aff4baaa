/**
 * @module
 * A minimal DER *encoder* for the test PKI (extensions that @peculiar/x509 has no class for, CRL
 * numbers, PKCS#12). Test-only: it builds well-formed DER from trusted inputs and does no parsing.
 */

/** A DER TLV with the given tag byte and content. */
export function tlv(tag: number, content: Uint8Array): Uint8Array {
  const len = content.length;
  let header: number[];
  if (len < 0x80) header = [tag, len];
  else {
    const bytes: number[] = [];
    for (let n = len; n > 0; n >>>= 8) bytes.unshift(n & 0xff);
    header = [tag, 0x80 | bytes.length, ...bytes];
  }
  const out = new Uint8Array(header.length + len);
  out.set(header, 0);
  out.set(content, header.length);
  return out;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export const seq = (...items: Uint8Array[]): Uint8Array => tlv(0x30, concat(items));
/** SET OF, sorted as DER requires. */
export const set = (...items: Uint8Array[]): Uint8Array =>
  tlv(0x31, concat([...items].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))));
export const octets = (b: Uint8Array): Uint8Array => tlv(0x04, b);
export const nul = (): Uint8Array => new Uint8Array([0x05, 0x00]);
export const bool = (v: boolean): Uint8Array => new Uint8Array([0x01, 0x01, v ? 0xff : 0x00]);
export const utf8 = (s: string): Uint8Array => tlv(0x0c, new TextEncoder().encode(s));
export const ia5 = (s: string): Uint8Array => tlv(0x16, new TextEncoder().encode(s));
/** BMPString (UTF-16BE), as PKCS#12 friendlyName uses. */
export const bmp = (s: string): Uint8Array => {
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    out[2 * i] = s.charCodeAt(i) >> 8;
    out[2 * i + 1] = s.charCodeAt(i) & 0xff;
  }
  return tlv(0x1e, out);
};
/** Context-specific tag: `[n]` constructed (explicit / constructed implicit) or primitive. */
export const ctx = (n: number, content: Uint8Array, constructed = true): Uint8Array =>
  tlv((constructed ? 0xa0 : 0x80) | n, content);

/** A non-negative INTEGER. */
export function int(value: number | bigint | Uint8Array): Uint8Array {
  let bytes: number[];
  if (value instanceof Uint8Array) bytes = [...value];
  else {
    let v = BigInt(value);
    if (v < 0n) throw new RangeError('int(): negative values are not supported');
    bytes = [];
    do {
      bytes.unshift(Number(v & 0xffn));
      v >>= 8n;
    } while (v > 0n);
  }
  while (bytes.length > 1 && bytes[0] === 0 && bytes[1]! < 0x80) bytes.shift();
  if (bytes.length === 0) bytes = [0];
  if (bytes[0]! >= 0x80) bytes.unshift(0);
  return tlv(0x02, new Uint8Array(bytes));
}

/** OBJECT IDENTIFIER from dotted text. */
export function oid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((a) => {
    if (!/^\d+$/.test(a)) throw new RangeError(`oid(): not a dotted OID: ${dotted}`);
    return BigInt(a);
  });
  if (arcs.length < 2) throw new RangeError(`oid(): not a dotted OID: ${dotted}`);
  const out: number[] = [];
  const push = (v: bigint): void => {
    const chunk: number[] = [Number(v & 0x7fn)];
    for (v >>= 7n; v > 0n; v >>= 7n) chunk.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...chunk);
  };
  push(arcs[0]! * 40n + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  return tlv(0x06, new Uint8Array(out));
}

/** BIT STRING of whole bytes (0 unused bits). */
export const bits = (b: Uint8Array): Uint8Array => tlv(0x03, concat([new Uint8Array([0]), b]));
