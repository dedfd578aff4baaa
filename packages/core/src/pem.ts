/**
 * @module
 * PEM armour (RFC 7468): find blocks by label, decode their base64 strictly.
 */

/** One PEM block found in a text. */
export interface PemBlock {
  /** The label between `BEGIN ` and the dashes, e.g. `CERTIFICATE`, `PRIVATE KEY`. */
  label: string;
  /** Decoded bytes, or null when the base64 body is not valid. */
  der: Uint8Array | null;
  /** 0-based index of the block in the text. */
  index: number;
}

const BEGIN_LINE = /-----BEGIN ([A-Z0-9 ]{1,64})-----/g;
const END_LINE = /-----END ([A-Z0-9 ]{1,64})-----/g;
const BASE64_BODY = /^[A-Za-z0-9+/]*={0,2}$/;

/** Upper bound on the PEM text certgate will scan (16 MiB). */
export const MAX_PEM_TEXT = 16 * 1024 * 1024;

/**
 * Every PEM block of `text`, in order. A block whose END label differs from its BEGIN label has `der: null`.
 * Linear in the length of the text: a block is a BEGIN line and the first END line after it, and once a
 * BEGIN line has no END line after it no later one can have either, so the scan stops there (one regular
 * expression with a lazy body would rescan the rest of the text from every such BEGIN line).
 */
export function readPemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  if (text.length > MAX_PEM_TEXT) return blocks;
  BEGIN_LINE.lastIndex = 0;
  for (let b = BEGIN_LINE.exec(text); b !== null; b = BEGIN_LINE.exec(text)) {
    END_LINE.lastIndex = BEGIN_LINE.lastIndex;
    const e = END_LINE.exec(text);
    if (e === null) break;
    const label = b[1]!;
    const body = text.slice(BEGIN_LINE.lastIndex, e.index).replace(/[\s]+/g, '');
    let der: Uint8Array | null = null;
    if (e[1] === label && body.length > 0 && body.length % 4 === 0 && BASE64_BODY.test(body)) {
      const buf = Buffer.from(body, 'base64');
      der = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    blocks.push({ label, der, index: blocks.length });
    BEGIN_LINE.lastIndex = END_LINE.lastIndex;
  }
  return blocks;
}

/** PEM text → DER for one block (`CERTIFICATE` by default). */
export function toPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
