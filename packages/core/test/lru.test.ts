import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LruMap } from '../src/lru.js';

/** The obvious reference: an array in use order, least recently used first. */
class ReferenceLru {
  items: [number, number][] = [];
  constructor(readonly max: number) {}
  get(k: number): number | undefined {
    const i = this.items.findIndex(([x]) => x === k);
    if (i < 0) return undefined;
    const [e] = this.items.splice(i, 1);
    this.items.push(e!);
    return e![1];
  }
  set(k: number, v: number): void {
    const i = this.items.findIndex(([x]) => x === k);
    if (i >= 0) this.items.splice(i, 1);
    this.items.push([k, v]);
    if (this.items.length > this.max) this.items.shift();
  }
  delete(k: number): boolean {
    const i = this.items.findIndex(([x]) => x === k);
    if (i >= 0) this.items.splice(i, 1);
    return i >= 0;
  }
}

describe('LruMap', () => {
  it('evicts the least recently used entry; get counts as a use, peek does not', () => {
    const m = new LruMap<string, number>(3);
    m.set('a', 1);
    m.set('b', 2);
    m.set('c', 3);
    expect(m.get('a')).toBe(1); // a is now the most recent; b the oldest
    expect(m.peek('b')).toBe(2); // no use
    m.set('d', 4); // evicts b
    expect(m.has('b')).toBe(false);
    expect(m.entries()).toEqual([
      ['c', 3],
      ['a', 1],
      ['d', 4],
    ]);
    m.set('c', 30); // an update is a use
    m.set('e', 5); // evicts a
    expect(m.entries().map(([k]) => k)).toEqual(['d', 'c', 'e']);
    expect(m.size).toBe(3);
  });

  it('deletes, clears and deletes by predicate in one walk', () => {
    const m = new LruMap<number, number>(10);
    for (let i = 0; i < 10; i++) m.set(i, i * i);
    expect(m.delete(3)).toBe(true);
    expect(m.delete(3)).toBe(false);
    m.deleteWhere((v) => v % 2 === 0);
    expect(m.entries()).toEqual([
      [1, 1],
      [5, 25],
      [7, 49],
      [9, 81],
    ]);
    expect(m.oldest()).toEqual([1, 1]);
    m.get(1); // a use: 5 is now the oldest
    expect(m.oldest()).toEqual([5, 25]);
    m.clear();
    expect(m.oldest()).toBeUndefined();
    expect(m.size).toBe(0);
    expect(m.entries()).toEqual([]);
    m.set(1, 1);
    expect(m.entries()).toEqual([[1, 1]]);
  });

  it('with a weight bound: the least recently used go until the total fits; the entry just set stays even when heavier alone', () => {
    const m = new LruMap<string, string>(10, { of: (v) => v.length, max: 6 });
    m.set('a', 'xx');
    m.set('b', 'xx');
    m.set('c', 'xx');
    expect(m.weight).toBe(6);
    m.get('a'); // b is now the oldest
    m.set('d', 'xxx'); // 9 > 6: b goes, then c
    expect(m.entries().map(([k]) => k)).toEqual(['a', 'd']);
    expect(m.weight).toBe(5);
    m.set('a', 'x'); // an update re-weighs
    expect(m.weight).toBe(4);
    m.set('huge', 'xxxxxxxxxx'); // alone over the bound: kept, everything else goes
    expect(m.entries()).toEqual([['huge', 'xxxxxxxxxx']]);
    m.delete('huge');
    expect(m.weight).toBe(0);
    m.set('e', 'x');
    m.clear();
    expect(m.weight).toBe(0);
  });

  it('refuses a bound that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => new LruMap(bad)).toThrow(RangeError);
  });

  it('behaves like a reference LRU under any sequence of operations', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('get' as const), k: fc.integer({ min: 0, max: 12 }) }),
      fc.record({ kind: fc.constant('set' as const), k: fc.integer({ min: 0, max: 12 }), v: fc.integer() }),
      fc.record({ kind: fc.constant('delete' as const), k: fc.integer({ min: 0, max: 12 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 200 }), (max, ops) => {
        const m = new LruMap<number, number>(max);
        const ref = new ReferenceLru(max);
        for (const o of ops) {
          if (o.kind === 'get') expect(m.get(o.k)).toBe(ref.get(o.k));
          else if (o.kind === 'set') {
            m.set(o.k, o.v);
            ref.set(o.k, o.v);
          } else expect(m.delete(o.k)).toBe(ref.delete(o.k));
          expect(m.size).toBeLessThanOrEqual(max);
        }
        expect(m.entries()).toEqual(ref.items);
      }),
      { numRuns: 500 },
    );
  });
});
