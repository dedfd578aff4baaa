import { describe, expect, it } from 'vitest';
import { TrustStore, lintCaBundle, readPemBlocks, toPem } from '@certgate/core';

describe('PEM armour', () => {
  it('round-trips bytes through toPem/readPemBlocks', () => {
    const der = new Uint8Array(200).map((_, i) => (i * 7) & 0xff);
    const blocks = readPemBlocks(`junk before\n${toPem(der)}junk after\n${toPem(der, 'PRIVATE KEY')}`);
    expect(blocks.map((b) => b.label)).toEqual(['CERTIFICATE', 'PRIVATE KEY']);
    expect(Buffer.from(blocks[0]!.der!).equals(Buffer.from(der))).toBe(true);
  });

  it('gives der: null for a bad base64 body or a mismatched END label', () => {
    const blocks = readPemBlocks(
      '-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n' +
        '-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n',
    );
    expect(blocks).toHaveLength(2);
    expect(blocks.every((b) => b.der === null)).toBe(true);
  });

  // A BEGIN line without an END line after it used to make the scan go through the rest of the text
  // again from every such line: 1 MiB of them (a PUT /api/settings/mtls body) cost 3.5 s of CPU, 2 MiB in
  // one chain element 13 s, 16 MiB hours. Now linear: milliseconds. No timing is asserted (the bench
  // measures, tests do not time); the old scan does not finish within the test timeout.
  it('reads BEGIN lines without END lines in one pass (hostile uploads and chain elements)', () => {
    const bomb = '-----BEGIN CERTIFICATE-----\n'.repeat(150_000); // 4.2 MB
    expect(readPemBlocks(bomb.slice(0, 2 * 1024 * 1024))).toEqual([]);
    expect(lintCaBundle(bomb.slice(0, 1024 * 1024 - 1)).problems.map((p) => p.code)).toEqual(['NOT_PEM']);
    expect(() => TrustStore.fromPem(bomb)).toThrow(/no PEM CERTIFICATE block/);
  });

  it('a block is a BEGIN line and the first END line after it, as before', () => {
    const good = toPem(new Uint8Array([1, 2, 3]));
    // An unterminated BEGIN swallows the next block up to its END line (label mismatch: der null).
    expect(readPemBlocks(`-----BEGIN X509 CRL-----\n${good}`).map((b) => [b.label, b.der === null])).toEqual([['X509 CRL', true]]);
    // A BEGIN without any END after it ends the scan; the blocks before it are kept.
    expect(readPemBlocks(`${good}${good}-----BEGIN CERTIFICATE-----\nAAAA\n`).map((b) => b.index)).toEqual([0, 1]);
    // A label over 64 characters is not a BEGIN line; an END line right after the BEGIN line is an empty body.
    expect(readPemBlocks(`-----BEGIN ${'A'.repeat(65)}-----\nAAAA\n-----END ${'A'.repeat(65)}-----\n-----BEGIN CERTIFICATE----------END CERTIFICATE-----`)).toEqual([
      { label: 'CERTIFICATE', der: null, index: 0 },
    ]);
  });
});
