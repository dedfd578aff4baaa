/**
 * Property tests of the matching rules of checkNameConstraints against independent formulations:
 * iPAddress subtrees against node's net.BlockList, dNSName subtrees against a label-array suffix
 * check, excluded-wins and the comparison bound.
 */
import { BlockList } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GeneralName } from '../src/cert/model.js';
import { checkNameConstraints } from '../src/cert/name-constraints.js';
import { modelCert } from './policy-model.js';

function maskBytes(len: number, prefix: number): number[] {
  const m = new Array<number>(len).fill(0);
  for (let i = 0; i < prefix; i++) m[i >> 3]! |= 0x80 >> (i & 7);
  return m;
}
const v4text = (b: number[]) => b.join('.');
const v6text = (b: number[]) => Array.from({ length: 8 }, (_, i) => ((b[2 * i]! << 8) | b[2 * i + 1]!).toString(16)).join(':');

function nc(kind: 'permitted' | 'excluded', names: GeneralName[]) {
  return modelCert({ subject: 'root', nameConstraints: kind === 'permitted' ? { permitted: names, excluded: null } : { permitted: null, excluded: names } });
}

describe('iPAddress matching agrees with net.BlockList', () => {
  for (const family of [4, 16] as const) {
    it(`IPv${family === 4 ? 4 : 6}`, () => {
      const bytes = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: family, maxLength: family });
      fc.assert(
        fc.property(bytes, bytes, fc.integer({ min: 0, max: family * 8 }), fc.boolean(), (addr, base, prefix, nearby) => {
          // Half the time, put the address inside the base's /prefix on purpose so both outcomes occur.
          if (nearby) addr = addr.map((b, i) => (b & ~maskBytes(family, prefix)[i]!) | (base[i]! & maskBytes(family, prefix)[i]!));
          const list = new BlockList();
          const type = family === 4 ? 'ipv4' : 'ipv6';
          const text = family === 4 ? v4text : v6text;
          list.addSubnet(text(base), prefix, type);
          const expected = list.check(text(addr), type);
          const constraint: GeneralName = { type: 'ip', value: new Uint8Array([...base, ...maskBytes(family, prefix)]) };
          const leaf = modelCert({ subject: 'leaf', san: [{ type: 'ip', value: new Uint8Array(addr) }] });
          expect(checkNameConstraints([leaf], nc('permitted', [constraint])).ok).toBe(expected);
          expect(checkNameConstraints([leaf], nc('excluded', [constraint])).ok).toBe(!expected);
        }),
        { numRuns: 1500, seed: 7 },
      );
    });
  }
});

describe('dNSName matching is a label-wise suffix match', () => {
  const label = fc.constantFrom('a', 'b', 'ab', 'x-1', 'example', 'com', 'EXAMPLE');
  const domain = fc.array(label, { minLength: 1, maxLength: 4 });
  it('agrees with comparing label arrays', () => {
    fc.assert(
      fc.property(domain, domain, fc.boolean(), (name, constraint, nest) => {
        if (nest) name = [...name, ...constraint];
        const lower = (xs: string[]) => xs.map((x) => x.toLowerCase());
        const n = lower(name);
        const c = lower(constraint);
        const expected = c.length <= n.length && c.every((l, i) => l === n[n.length - c.length + i]);
        const leaf = modelCert({ subject: 'leaf', san: [{ type: 'dns', value: name.join('.') }] });
        const cons: GeneralName = { type: 'dns', value: constraint.join('.') };
        expect(checkNameConstraints([leaf], nc('permitted', [cons])).ok).toBe(expected);
        expect(checkNameConstraints([leaf], nc('excluded', [cons])).ok).toBe(!expected);
        // Excluded wins: the same subtree both permitted and excluded never admits the name.
        const both = modelCert({ subject: 'root', nameConstraints: { permitted: [cons], excluded: [cons] } });
        if (expected) expect(checkNameConstraints([leaf], both).ok).toBe(false);
      }),
      { numRuns: 2000, seed: 11 },
    );
  });
});

describe('the comparison bound', () => {
  it('is never exceeded silently: ok results stay within it, larger inputs are refused with PATH_BUILDING_LIMIT', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 2000 }), (names, constraints, max) => {
        const root = nc('excluded', Array.from({ length: constraints }, (_, i) => ({ type: 'dns', value: `c${i}.test` })));
        const leaf = modelCert({ subject: 'leaf', san: Array.from({ length: names }, (_, i) => ({ type: 'dns', value: `n${i}.example` })) });
        const r = checkNameConstraints([leaf], root, { maxComparisons: max });
        if (names * constraints <= max) expect(r).toEqual({ ok: true });
        else expect(r).toMatchObject({ ok: false, code: 'PATH_BUILDING_LIMIT' });
      }),
      { numRuns: 300, seed: 3 },
    );
  });
});
