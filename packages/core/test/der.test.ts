import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DerError,
  DerReader,
  MAX_DEPTH,
  Tag,
  checkInteger,
  decodeBigInt,
  decodeBitString,
  decodeBoolean,
  decodeGeneralizedTime,
  decodeNamedBits,
  decodeOid,
  decodeString,
  decodeUint,
  decodeUtcTime,
  encodeOid,
  readTime,
  tagNumber,
} from '../src/der/reader.js';
import { tlv as writeTlv } from '../src/der/writer.js';
import { hex } from './der-fixtures.js';

const ascii = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));
const reader = (s: string) => new DerReader(hex(s));

describe('DER reader: tags and lengths', () => {
  it('reads a TLV as zero-copy views', () => {
    const buf = hex('30 03 02 01 05');
    const r = new DerReader(buf);
    const t = r.readAny('x');
    expect(t.tag).toBe(0x30);
    expect([...t.value]).toEqual([2, 1, 5]);
    expect(t.full.buffer).toBe(buf.buffer);
    expect(t.value.byteOffset).toBe(2);
    expect(r.atEnd).toBe(true);
  });

  it('checks the expected tag and names the field', () => {
    expect(() => reader('02 01 00').read(Tag.SEQUENCE, 'tbsCertificate')).toThrow(
      /tbsCertificate: expected SEQUENCE, found INTEGER/,
    );
  });

  it('rejects indefinite length', () => {
    expect(() => reader('30 80 02 01 00 00 00').readAny('v')).toThrow(/indefinite length/);
  });

  it('rejects the long form for lengths under 128', () => {
    expect(() => reader('04 81 05 0102030405').readAny('v')).toThrow(/short form/);
  });

  it('rejects a leading zero length octet', () => {
    const body = 'aa'.repeat(200);
    expect(() => reader(`04 82 00 c8 ${body}`).readAny('v')).toThrow(/leading zero/);
    expect(reader(`04 81 c8 ${body}`).readAny('v').value.length).toBe(200);
  });

  it('rejects lengths longer than the input and truncated lengths', () => {
    expect(() => reader('04 05 0102').readAny('v')).toThrow(/longer than the 2 bytes/);
    expect(() => reader('04 82 01').readAny('v')).toThrow(/truncated length/);
    expect(() => reader('04').readAny('v')).toThrow(/truncated length/);
    expect(() => reader('').readAny('v')).toThrow(/missing/);
  });

  it('rejects length fields longer than 4 octets', () => {
    expect(() => reader('04 85 0100000000').readAny('v')).toThrow(/too large/);
  });

  it('reads the high-tag-number form and rejects non-minimal forms', () => {
    const t = reader('9f 1f 01 aa').readAny('v'); // [31] primitive
    expect(tagNumber(t.tag)).toBe(31);
    expect(t.tag & 0xff).toBe(0x9f);
    expect(tagNumber(reader('bf 81 00 00').readAny('v').tag)).toBe(128);
    expect(() => reader('9f 1e 01 aa').readAny('v')).toThrow(/low-tag-number form/);
    expect(() => reader('9f 80 1f 01 aa').readAny('v')).toThrow(/not minimally encoded/);
    expect(() => reader('9f 81').readAny('v')).toThrow(/truncated tag/);
  });

  it('rejects trailing bytes where a structure ends', () => {
    const r = reader('30 03 02 01 05 00');
    const inner = r.enter(Tag.SEQUENCE, 'outer');
    inner.read(Tag.INTEGER, 'n');
    inner.end('outer');
    expect(() => r.end('Certificate')).toThrow(/Certificate: 1 unexpected trailing byte/);
  });

  it('bounds the nesting depth', () => {
    let der: Uint8Array = Uint8Array.of(0x05, 0x00);
    for (let i = 0; i < MAX_DEPTH + 2; i++) der = writeTlv(0x30, der);
    let r = new DerReader(der);
    expect(() => {
      for (;;) r = r.enter(Tag.SEQUENCE, 'nested');
    }).toThrow(/deeper than 32/);
  });

  it('readOptional / enterOptional consume nothing when the tag differs', () => {
    const r = reader('02 01 05');
    expect(r.readOptional(Tag.BOOLEAN, 'b')).toBeNull();
    expect(r.enterOptional(0xa0, 'v')).toBeNull();
    expect(decodeUint(r.read(Tag.INTEGER, 'n'), 'n')).toBe(5);
    expect(r.peekTag()).toBe(-1);
  });

  it('never throws anything but DerError on random input (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const walk = (r: DerReader): void => {
          while (!r.atEnd) {
            const t = r.readAny('fuzz');
            if ((t.tag & 0x20) !== 0) walk(r.child(t.value));
          }
        };
        try {
          walk(new DerReader(bytes));
        } catch (e) {
          expect(e).toBeInstanceOf(DerError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('DER reader: INTEGER and BOOLEAN', () => {
  it('accepts minimal two’s complement and decodes values', () => {
    expect(decodeUint(hex('00'), 'n')).toBe(0);
    expect(decodeUint(hex('7f'), 'n')).toBe(127);
    expect(decodeUint(hex('0080'), 'n')).toBe(128);
    expect(decodeBigInt(hex('ff'), 'n')).toBe(-1n);
    expect(decodeBigInt(hex('ff7f'), 'n')).toBe(-129n);
    expect(decodeBigInt(hex('00ffffffffffffffffff'), 'n')).toBe(2n ** 72n - 1n);
  });

  it('rejects empty and non-minimal INTEGERs', () => {
    expect(() => checkInteger(hex(''), 'serialNumber')).toThrow(/serialNumber: INTEGER has no content octets/);
    expect(() => checkInteger(hex('0001'), 'n')).toThrow(/not minimally encoded/);
    expect(() => checkInteger(hex('ff80'), 'n')).toThrow(/not minimally encoded/);
    expect(() => checkInteger(hex('00'), 'n')).not.toThrow();
    expect(() => checkInteger(hex('0080'), 'n')).not.toThrow();
  });

  it('bounds decoded integers, or clamps when asked', () => {
    expect(() => decodeUint(hex('ff'), 'pathLen')).toThrow(/must not be negative/);
    expect(() => decodeUint(hex('0100000000'), 'n')).toThrow(/larger than/);
    expect(decodeUint(hex('00ffffffffffffffffffff'), 'n', 100, true)).toBe(100);
  });

  it('BOOLEAN is exactly 0x00 or 0xFF', () => {
    expect(decodeBoolean(hex('ff'), 'b')).toBe(true);
    expect(decodeBoolean(hex('00'), 'b')).toBe(false);
    expect(() => decodeBoolean(hex('01'), 'critical')).toThrow(/critical: BOOLEAN must be 0x00 or 0xFF/);
    expect(() => decodeBoolean(hex(''), 'b')).toThrow(/exactly one/);
    expect(() => decodeBoolean(hex('ffff'), 'b')).toThrow(/exactly one/);
  });
});

describe('DER reader: BIT STRING', () => {
  it('applies the unused-bits rules', () => {
    expect(decodeBitString(hex('00'), 'b').bytes.length).toBe(0);
    expect(() => decodeBitString(hex(''), 'b')).toThrow(/no content/);
    expect(() => decodeBitString(hex('08 00'), 'b')).toThrow(/larger than 7/);
    expect(() => decodeBitString(hex('03'), 'b')).toThrow(/empty BIT STRING must have 0 unused bits/);
    expect(() => decodeBitString(hex('01 81'), 'b')).toThrow(/padding bits must be zero/);
    expect(decodeBitString(hex('01 80'), 'b').unusedBits).toBe(1);
  });

  it('decodes named bit lists as a bitmask, first bit = 1 << 0', () => {
    // keyUsage digitalSignature + keyCertSign + cRLSign: 1000 0110, 1 unused bit
    expect(decodeNamedBits(hex('01 86'), 'keyUsage', 9)).toBe((1 << 0) | (1 << 5) | (1 << 6));
    // decipherOnly (bit 8) in the second octet
    expect(decodeNamedBits(hex('07 00 80'), 'keyUsage', 9)).toBe(1 << 8);
    expect(() => decodeNamedBits(hex('06 00 40'), 'keyUsage', 9)).toThrow(/bit 9 is not defined/);
  });
});

describe('DER reader: OBJECT IDENTIFIER', () => {
  it('decodes arcs, including the first-octet split and large arcs', () => {
    expect(decodeOid(hex('2a864886f70d01010b'), 'o')).toBe('1.2.840.113549.1.1.11');
    expect(decodeOid(hex('550403'), 'o')).toBe('2.5.4.3');
    expect(decodeOid(hex('00'), 'o')).toBe('0.0');
    expect(decodeOid(hex('8837'), 'o')).toBe('2.999');
    expect(decodeOid(encodeOid('1.3.6.1.4.1.2147483648.9007199254740991'), 'o')).toBe('1.3.6.1.4.1.2147483648.9007199254740991');
  });

  it('rejects empty, non-minimal, truncated and overflowing OIDs', () => {
    expect(() => decodeOid(hex(''), 'extnID')).toThrow(/extnID: OBJECT IDENTIFIER has no content/);
    expect(() => decodeOid(hex('2a 80 01'), 'o')).toThrow(/not minimally encoded/);
    expect(() => decodeOid(hex('80 01'), 'o')).toThrow(/not minimally encoded/);
    expect(() => decodeOid(hex('2a 86'), 'o')).toThrow(/truncated/);
    expect(() => decodeOid(hex('2a ffffffffffffffff7f'), 'o')).toThrow(/too large/);
  });

  it('keeps decoded texts by content octets, never by position: a changed buffer decodes afresh, a bad OID throws every time', () => {
    const v = hex('550403');
    expect(decodeOid(v, 'o')).toBe('2.5.4.3');
    expect(decodeOid(hex('550403'), 'o')).toBe('2.5.4.3');
    v[2] = 0x0a; // the same buffer now holds 2.5.4.10
    expect(decodeOid(v, 'o')).toBe('2.5.4.10');
    for (let i = 0; i < 2; i++) expect(() => decodeOid(hex('2a 80 01'), 'o')).toThrow(/not minimally encoded/);
    // More distinct OIDs than the cache holds still decode right (the cache is bounded, not a limit).
    for (let i = 0; i < 2000; i++) expect(decodeOid(encodeOid(`1.3.6.1.4.1.${i}`), 'o')).toBe(`1.3.6.1.4.1.${i}`);
    for (let i = 0; i < 2000; i += 97) expect(decodeOid(encodeOid(`1.3.6.1.4.1.${i}`), 'o')).toBe(`1.3.6.1.4.1.${i}`);
  });

  it('round-trips random OIDs (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 0, max: 39 }),
        fc.array(fc.maxSafeNat(), { maxLength: 8 }),
        (a, b, rest) => {
          const s = [a, b, ...rest].join('.');
          expect(decodeOid(encodeOid(s), 'o')).toBe(s);
        },
      ),
    );
  });
});

describe('DER reader: times', () => {
  it('UTCTime: YY 50–99 → 19YY, 00–49 → 20YY', () => {
    expect(decodeUtcTime(ascii('500101000000Z'), 't')).toBe(Date.UTC(1950, 0, 1));
    expect(decodeUtcTime(ascii('491231235959Z'), 't')).toBe(Date.UTC(2049, 11, 31, 23, 59, 59));
    expect(decodeUtcTime(ascii('240229120000Z'), 't')).toBe(Date.UTC(2024, 1, 29, 12));
  });

  it('UTCTime: refuses missing seconds, offsets, fractions and impossible dates', () => {
    for (const s of ['2401011200Z', '240101120000+0100', '240101120000', '240101120000.5Z', '241301000000Z', '230229000000Z', '240101240000Z', '2401011260 0Z', '240101126000Z', '2401011200 0Z']) {
      expect(() => decodeUtcTime(ascii(s), 'notBefore'), s).toThrow(DerError);
    }
    expect(() => decodeUtcTime(ascii('24010112000aZ'), 'notBefore')).toThrow(/notBefore: time contains a non-digit/);
  });

  it('GeneralizedTime: YYYYMMDDHHMMSSZ only, no fractional seconds', () => {
    expect(decodeGeneralizedTime(ascii('20500101000000Z'), 't')).toBe(Date.UTC(2050, 0, 1));
    expect(decodeGeneralizedTime(ascii('99991231235959Z'), 't')).toBe(Date.UTC(9999, 11, 31, 23, 59, 59));
    // Years 0000–0099 are those years, not 1900–1999 (Date.UTC's two-digit-year rule); 0004 was a leap year.
    expect(new Date(decodeGeneralizedTime(ascii('00500101000000Z'), 't')).toISOString()).toBe('0050-01-01T00:00:00.000Z');
    expect(new Date(decodeGeneralizedTime(ascii('00000101000000Z'), 't')).toISOString()).toBe('0000-01-01T00:00:00.000Z');
    expect(new Date(decodeGeneralizedTime(ascii('00040229120000Z'), 't')).toISOString()).toBe('0004-02-29T12:00:00.000Z');
    expect(new Date(decodeGeneralizedTime(ascii('00991231235959Z'), 't')).toISOString()).toBe('0099-12-31T23:59:59.000Z');
    expect(() => decodeGeneralizedTime(ascii('20240101000000.5Z'), 't')).toThrow(/no fractional seconds/);
    expect(() => decodeGeneralizedTime(ascii('20240101000000'), 't')).toThrow(DerError);
    expect(() => decodeGeneralizedTime(ascii('202401010000Z'), 't')).toThrow(DerError);
    expect(() => decodeGeneralizedTime(ascii('20000230000000Z'), 't')).toThrow(/day 30/);
  });

  it('readTime accepts only the two Time types', () => {
    expect(readTime(new DerReader(writeTlv(0x17, ascii('240101000000Z'))), 't')).toBe(Date.UTC(2024, 0, 1));
    expect(() => readTime(new DerReader(writeTlv(0x0c, ascii('240101000000Z'))), 'notAfter')).toThrow(
      /notAfter: expected UTCTime or GeneralizedTime/,
    );
  });
});

describe('DER reader: string types', () => {
  it('UTF8String is strict UTF-8', () => {
    expect(decodeString(Tag.UTF8String, Uint8Array.from(Buffer.from('Zürich ✓')), 's')).toBe('Zürich ✓');
    expect(() => decodeString(Tag.UTF8String, hex('c0 af'), 'CN')).toThrow(/CN: UTF8String is not valid UTF-8/); // overlong '/'
    expect(() => decodeString(Tag.UTF8String, hex('ed a0 80'), 's')).toThrow(/not valid UTF-8/); // surrogate
    expect(() => decodeString(Tag.UTF8String, hex('e2 82'), 's')).toThrow(/not valid UTF-8/); // truncated
  });

  it('PrintableString, IA5String, NumericString and VisibleString check their alphabets', () => {
    expect(decodeString(Tag.PrintableString, ascii("Acme (UK) Ltd. 1-2/3:4=5?'+,"), 's')).toBe("Acme (UK) Ltd. 1-2/3:4=5?'+,");
    for (const bad of ['a@b', 'a*b', 'a&b', 'a_b', 'é']) {
      expect(() => decodeString(Tag.PrintableString, Uint8Array.from(Buffer.from(bad)), 's'), bad).toThrow(/PrintableString/);
    }
    expect(decodeString(Tag.IA5String, ascii('user@example.com'), 's')).toBe('user@example.com');
    expect(() => decodeString(Tag.IA5String, hex('61 80'), 's')).toThrow(/IA5String contains a non-ASCII/);
    expect(decodeString(Tag.NumericString, ascii('0123 456'), 's')).toBe('0123 456');
    expect(() => decodeString(Tag.NumericString, ascii('12a'), 's')).toThrow(/NumericString/);
    expect(decodeString(Tag.VisibleString, ascii('a~b'), 's')).toBe('a~b');
    expect(() => decodeString(Tag.VisibleString, hex('61 0a'), 's')).toThrow(/VisibleString/);
  });

  it('BMPString is UCS-2 big-endian; UniversalString UCS-4', () => {
    expect(decodeString(Tag.BMPString, hex('00 41 00 e9 4e 2d'), 's')).toBe('Aé中');
    expect(() => decodeString(Tag.BMPString, hex('00 41 00'), 's')).toThrow(/odd number/);
    expect(() => decodeString(Tag.BMPString, hex('d8 00 00 41'), 's')).toThrow(/unpaired surrogate/);
    expect(() => decodeString(Tag.BMPString, hex('dc 00'), 's')).toThrow(/unpaired surrogate/);
    expect(decodeString(Tag.BMPString, hex('d8 3d de 00'), 's')).toBe('😀');
    expect(decodeString(Tag.UniversalString, hex('00000041 0001f600'), 's')).toBe('A😀');
    expect(() => decodeString(Tag.UniversalString, hex('000041'), 's')).toThrow(/multiple of 4/);
    expect(() => decodeString(Tag.UniversalString, hex('00110000'), 's')).toThrow(/invalid code point/);
    expect(() => decodeString(Tag.UniversalString, hex('0000d800'), 's')).toThrow(/invalid code point/);
  });

  it('TeletexString is read as ISO 8859-1; other tags are not strings', () => {
    expect(decodeString(Tag.TeletexString, hex('4d fc 6e'), 's')).toBe('Mün');
    expect(decodeString(Tag.INTEGER, hex('01'), 's')).toBeNull();
    expect(decodeString(Tag.GeneralString, ascii('x'), 's')).toBeNull();
  });
});
