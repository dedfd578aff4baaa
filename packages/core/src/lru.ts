/**
 * @module
 * A bounded map with least-recently-used eviction, O(1) per operation. Exported from the package for
 * certgate's own packages (`@certgate/tls` keeps its session caches in it); the API is small and stable.
 *
 * A `Map` from key to a node of a doubly linked list in use order. Why not one `Map` with
 * delete-the-oldest (its insertion order as the use order): V8 leaves a deleted entry's slot in the
 * table until the next rehash, and `keys().next()` walks over every such slot from the start; with
 * thousands of entries each eviction then costs microseconds (measured here: 5 µs at 10,000
 * entries), on every insertion into a full cache — the steady state of a busy server.
 */
interface Node<K, V> {
  key: K;
  value: V;
  /** Towards the most recently used. */
  newer: Node<K, V> | null;
  /** Towards the least recently used. */
  older: Node<K, V> | null;
}

/** A second bound of an {@link LruMap}: the total weight of its values (e.g. bytes). */
export interface LruWeight<V> {
  /** The weight of one value (a non-negative number). */
  of(value: V): number;
  /** Most total weight kept; the entry just set is kept even when it alone is heavier. */
  max: number;
}

export class LruMap<K, V> {
  readonly #map = new Map<K, Node<K, V>>();
  /** Most recently used. */
  #newest: Node<K, V> | null = null;
  /** Least recently used: evicted first. */
  #oldest: Node<K, V> | null = null;
  readonly max: number;
  readonly #weigh: LruWeight<V> | undefined;
  #weight = 0;

  /** At most `max` entries and, with `weight`, at most `weight.max` of total weight (least recently used evicted first). */
  constructor(max: number, weight?: LruWeight<V>) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`LruMap: max must be a positive integer (got ${String(max)})`);
    this.max = max;
    this.#weigh = weight;
  }

  get size(): number {
    return this.#map.size;
  }

  /** The total weight of the values (0 without a weight bound). */
  get weight(): number {
    return this.#weight;
  }

  /** The value, which becomes the most recently used. */
  get(key: K): V | undefined {
    const n = this.#map.get(key);
    if (n === undefined) return undefined;
    this.#touch(n);
    return n.value;
  }

  /** The value without counting as a use. */
  peek(key: K): V | undefined {
    return this.#map.get(key)?.value;
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  /** Sets the value (the most recently used); evicts the least recently used beyond the bounds. */
  set(key: K, value: V): void {
    const n = this.#map.get(key);
    if (n !== undefined) {
      if (this.#weigh) this.#weight += this.#weigh.of(value) - this.#weigh.of(n.value);
      n.value = value;
      this.#touch(n);
    } else {
      const node: Node<K, V> = { key, value, newer: null, older: this.#newest };
      if (this.#newest) this.#newest.newer = node;
      this.#newest = node;
      this.#oldest ??= node;
      this.#map.set(key, node);
      if (this.#weigh) this.#weight += this.#weigh.of(value);
    }
    while (this.#oldest && (this.#map.size > this.max || (this.#weigh && this.#weight > this.#weigh.max && this.#map.size > 1))) this.delete(this.#oldest.key);
  }

  delete(key: K): boolean {
    const n = this.#map.get(key);
    if (n === undefined) return false;
    this.#map.delete(key);
    this.#unlink(n);
    if (this.#weigh) this.#weight -= this.#weigh.of(n.value);
    return true;
  }

  clear(): void {
    this.#map.clear();
    this.#newest = null;
    this.#oldest = null;
    this.#weight = 0;
  }

  /** The least recently used entry (the next to be evicted), without counting as a use. */
  oldest(): [K, V] | undefined {
    return this.#oldest ? [this.#oldest.key, this.#oldest.value] : undefined;
  }

  /** Every entry, least recently used first (a snapshot: the map may be changed while it is walked). */
  entries(): [K, V][] {
    const out: [K, V][] = [];
    for (let n = this.#oldest; n; n = n.newer) out.push([n.key, n.value]);
    return out;
  }

  /** Deletes every entry for which `drop` is true (in one walk, without a snapshot). */
  deleteWhere(drop: (value: V, key: K) => boolean): void {
    for (let n = this.#oldest; n; ) {
      const next = n.newer;
      if (drop(n.value, n.key)) this.delete(n.key);
      n = next;
    }
  }

  #unlink(n: Node<K, V>): void {
    if (n.newer) n.newer.older = n.older;
    else this.#newest = n.older;
    if (n.older) n.older.newer = n.newer;
    else this.#oldest = n.newer;
    n.newer = null;
    n.older = null;
  }

  #touch(n: Node<K, V>): void {
    if (this.#newest === n) return;
    this.#unlink(n);
    n.older = this.#newest;
    if (this.#newest) this.#newest.newer = n;
    this.#newest = n;
    this.#oldest ??= n;
  }
}
