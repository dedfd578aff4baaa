import { describe, expect, it } from 'vitest';
import { readPemBlocks, toPem } from '@certgate/core';

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
});
