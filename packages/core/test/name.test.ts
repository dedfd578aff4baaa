import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  attributeValues,
  emailAddresses,
  escapeValue,
  formatName,
  nameAttributes,
  namesEqual,
  normalizeValue,
  parseName,
} from '../src/cert/name.js';
import { parseCertificate } from '../src/cert/parse.js';
import {
  algs,
  bmp,
  certificate,
  ia5,
  int,
  keyPair,
  name,
  octets,
  oid,
  printable,
  seq,
  set,
  signWith,
  str,
  tbsCertificate,
  utf8,
} from './der-fixtures.js';

const CN = '2.5.4.3';
const O = '2.5.4.10';
const C = '2.5.4.6';
const DC = '0.9.2342.19200300.100.1.25';
const EMAIL = '1.2.840.113549.1.9.1';

const n = (...rdns: [string, Uint8Array][][]) => parseName(name(...rdns));

describe('RFC 5280 §7.1 name comparison', () => {
  it('ignores case, leading/trailing spaces and internal whitespace runs', () => {
    const a = n([[C, printable('US')]], [[O, utf8('Example  Corp')]], [[CN, utf8('Alice')]]);
    const b = n([[C, printable('us')]], [[O, utf8(' example corp ')]], [[CN, utf8('ALICE')]]);
    expect(namesEqual(a, b)).toBe(true);
    expect(a.key).toBe(b.key);
  });

  it('PrintableString, UTF8String, BMPString, UniversalString and TeletexString of the same text compare equal', () => {
    const uni = (s: string) => {
      const cps = [...s].map((c) => c.codePointAt(0)!);
      const b = new Uint8Array(cps.length * 4);
      cps.forEach((cp, i) => new DataView(b.buffer).setUint32(i * 4, cp));
      return Uint8Array.of(0x1c, b.length, ...b);
    };
    const forms = [printable('Test CA'), utf8('test ca'), bmp('TEST CA'), uni('Test Ca'), str(0x14, 'test CA')];
    const keys = forms.map((v) => n([[CN, v]]).key);
    expect(new Set(keys).size).toBe(1);
  });

  it('compares non-ASCII text after NFKC and case folding', () => {
    expect(namesEqual(n([[CN, utf8('Straße')]]), n([[CN, utf8('STRASSE')]]))).toBe(true);
    expect(namesEqual(n([[CN, utf8('Ｆｕｌｌ')]]), n([[CN, utf8('full')]]))).toBe(true); // fullwidth → NFKC
    expect(namesEqual(n([[CN, utf8('e\u0301')]]), n([[CN, utf8('\u00e9')]]))).toBe(true); // combining acute
    expect(namesEqual(n([[CN, utf8('a\u00adb')]]), n([[CN, utf8('ab')]]))).toBe(true); // soft hyphen mapped to nothing
    expect(namesEqual(n([[CN, utf8('a\tb')]]), n([[CN, utf8('a b')]]))).toBe(true);
    expect(namesEqual(n([[CN, utf8('Zürich')]]), n([[CN, utf8('Zurich')]]))).toBe(false);
  });

  it('keeps RDN order and count; sorts the members of a multi-valued RDN', () => {
    const ab = n([[C, printable('US')]], [[O, utf8('X')]]);
    const ba = n([[O, utf8('X')]], [[C, printable('US')]]);
    expect(namesEqual(ab, ba)).toBe(false);
    const multi1 = parseName(seq(set(seq(oid(CN), utf8('a')), seq(oid(O), utf8('b')))));
    const multi2 = parseName(seq(set(seq(oid(O), utf8('B')), seq(oid(CN), utf8('A')))));
    expect(namesEqual(multi1, multi2)).toBe(true);
    const split = n([[CN, utf8('a')]], [[O, utf8('b')]]);
    expect(namesEqual(multi1, split)).toBe(false);
    expect(namesEqual(n([[CN, utf8('a')]]), n([[CN, utf8('a')]], [[CN, utf8('a')]]))).toBe(false);
  });

  it('distinguishes attribute types and values, and compares non-string values by DER', () => {
    expect(namesEqual(n([[CN, utf8('x')]]), n([[O, utf8('x')]]))).toBe(false);
    expect(namesEqual(n([[CN, utf8('x')]]), n([[CN, utf8('y')]]))).toBe(false);
    expect(namesEqual(n([['2.5.4.45', octets(Uint8Array.of(1))]]), n([['2.5.4.45', octets(Uint8Array.of(1))]]))).toBe(true);
    expect(namesEqual(n([['2.5.4.45', octets(Uint8Array.of(1))]]), n([['2.5.4.45', octets(Uint8Array.of(2))]]))).toBe(false);
    // A string value never equals a non-string one with the same bytes.
    expect(namesEqual(n([[CN, utf8('A')]]), n([[CN, Uint8Array.of(0x04, 0x01, 0x41)]]))).toBe(false);
  });

  it('no value can forge a separator in the key', () => {
    const tricky = n([[CN, utf8('a;1:b')]]);
    const twoRdns = n([[CN, utf8('a')]], [[CN, utf8('b')]]);
    expect(tricky.key).not.toBe(twoRdns.key);
    const plus = parseName(seq(set(seq(oid(CN), utf8('a')), seq(oid(CN), utf8('b')))));
    expect(n([[CN, utf8('a+2.5.4.3:2:sb')]]).key).not.toBe(plus.key);
  });

  it('the empty name is empty and equals only itself', () => {
    const e = parseName(seq());
    expect(e.empty).toBe(true);
    expect(namesEqual(e, parseName(seq()))).toBe(true);
    expect(namesEqual(e, n([[CN, utf8('')]]))).toBe(false);
  });

  it('normalizeValue applies the RFC 4518 basics', () => {
    expect(normalizeValue('  Hello   World  ')).toBe('hello world');
    expect(normalizeValue('\u00a0Caf\u00e9\u2003Bar ')).toBe('café bar');
    expect(normalizeValue('')).toBe('');
    expect(normalizeValue('   ')).toBe('');
  });
});

describe('formatName (RFC 4514)', () => {
  it('reverses the RDN order and uses the short names', () => {
    const nm = n([[DC, ia5('net')]], [[DC, ia5('example')]], [[O, utf8('Example')]], [['2.5.4.11', utf8('Eng')]], [[CN, utf8('Alice')]]);
    expect(formatName(nm)).toBe('CN=Alice,OU=Eng,O=Example,DC=example,DC=net');
  });

  it('escapes per RFC 4514 §2.4 (the RFC’s own examples)', () => {
    expect(formatName(n([[DC, ia5('net')]], [[DC, ia5('example')]], [[CN, utf8('James "Jim" Smith, III')]]))).toBe(
      'CN=James \\"Jim\\" Smith\\, III,DC=example,DC=net',
    );
    expect(formatName(n([[DC, ia5('net')]], [[DC, ia5('example')]], [[CN, utf8('Before\rAfter')]]))).toBe(
      'CN=Before\\0DAfter,DC=example,DC=net',
    );
    expect(formatName(n([[CN, utf8('Lu\u010di\u0107')]]))).toBe('CN=Lu\u010di\u0107');
    expect(escapeValue('#leading and trailing ')).toBe('\\#leading and trailing\\ ');
    expect(escapeValue(' a+b;c<d>e\\')).toBe('\\ a\\+b\\;c\\<d\\>e\\\\');
  });

  it('leaves a value without special characters as it is, and escapes each special character wherever it is', () => {
    for (const plain of ['', 'bench client 1', 'a#b', 'a b', 'Lu\u010di\u0107', 'x=y']) expect(escapeValue(plain)).toBe(plain);
    for (const c of ['"', '+', ',', ';', '<', '>', '\\']) {
      expect(escapeValue(`a${c}b`)).toBe(`a\\${c}b`);
      expect(escapeValue(`${c}b`)).toBe(`\\${c}b`);
      expect(escapeValue(`a${c}`)).toBe(`a\\${c}`);
    }
    expect(escapeValue('a\u0001b\u007f')).toBe('a\\01b\\7F');
    expect(escapeValue('#x')).toBe('\\#x');
    expect(escapeValue(' x')).toBe('\\ x');
    expect(escapeValue('x ')).toBe('x\\ ');
  });

  it('writes a dotted-OID type or a non-string value as #hex of its DER', () => {
    // RFC 4514 §4 example: 1.3.6.1.4.1.1466.0=#04024869
    expect(formatName(n([[DC, ia5('com')]], [[DC, ia5('example')]], [['1.3.6.1.4.1.1466.0', octets(Uint8Array.from(Buffer.from('Hi')))]]))).toBe(
      '1.3.6.1.4.1.1466.0=#04024869,DC=example,DC=com',
    );
    expect(formatName(n([[CN, octets(Uint8Array.of(1))]]))).toBe('CN=#040101');
  });

  it('joins multi-valued RDN members with + and prints the empty name as ""', () => {
    expect(formatName(parseName(seq(set(seq(oid(CN), utf8('a')), seq(oid(O), utf8('b'))))))).toBe('CN=a+O=b');
    expect(formatName(parseName(seq()))).toBe('');
  });

  it('names the same attributes node:crypto does, in the reverse order', () => {
    const subject = name([[C, printable('DE')]], [['2.5.4.8', utf8('Berlin')]], [['2.5.4.7', utf8('Mitte')]], [[O, utf8('Acme')]], [[EMAIL, ia5('ops@acme.example')]], [['2.5.4.5', printable('42')]], [[CN, utf8('ops')]]);
    const tbs = tbsCertificate({ spki: keyPair('p256').spki, subject, serial: int(7) });
    const der = certificate(tbs, algs.sha256Rsa, signWith(tbs, keyPair('rsa2048').privateKey, { hash: 'sha256' }));
    const c = parseCertificate(der);
    const node = new X509Certificate(der);
    expect(formatName(c.subject).split(',').reverse()).toEqual(node.subject.split('\n'));
    expect(formatName(c.subject)).toBe('CN=ops,serialNumber=42,emailAddress=ops@acme.example,O=Acme,L=Mitte,ST=Berlin,C=DE');
  });
});

describe('nameAttributes, emailAddresses, attributeValues', () => {
  const nm = n([[C, printable('US')]], [[EMAIL, ia5('a@example.com')]], [[CN, utf8('one')]], [[CN, utf8('two')]], [['2.5.4.45', octets(Uint8Array.of(9))]]);

  it('lists attributes in encoded order with short names or dotted OIDs', () => {
    expect(nameAttributes(nm)).toEqual([
      { oid: C, type: 'C', value: 'US' },
      { oid: EMAIL, type: 'emailAddress', value: 'a@example.com' },
      { oid: CN, type: 'CN', value: 'one' },
      { oid: CN, type: 'CN', value: 'two' },
      { oid: '2.5.4.45', type: '2.5.4.45', value: '#040109' },
    ]);
  });

  it('extracts PKCS#9 emailAddress values and values by type', () => {
    expect(emailAddresses(nm)).toEqual(['a@example.com']);
    expect(attributeValues(nm, CN)).toEqual(['one', 'two']);
    expect(emailAddresses(n([[CN, utf8('x')]]))).toEqual([]);
  });
});
