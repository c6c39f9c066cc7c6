/**
 * A run: tables of one level whose key ranges do not overlap, sorted by min key, so a point read needs
 * one binary search instead of a look at every table. The model is generic over the table type so that
 * it depends on nothing but ids, key bounds, sizes and seqnos ({@link TableHandle}).
 *
 * Invariants (checked by {@link Run.of}, relied on by every query):
 * - the run is not empty;
 * - every table has `minKey <= maxKey`;
 * - tables are sorted by `minKey` and consecutive ranges are disjoint (`prev.maxKey < next.minKey`),
 *   which makes the `maxKey`s sorted too.
 *
 * @module
 */
import type { Comparator } from "../key/comparator.ts";

/** What the version model needs to know of a table. Key ranges are inclusive. */
export interface TableHandle {
  /** The table's id, unique in its tree: a version holds a table at most once, and choices name tables by it. */
  readonly id: number;
  /** The smallest user key the table covers (inclusive; range tombstones included). */
  readonly minKey: Uint8Array;
  /** The largest user key the table covers (inclusive, `>= minKey`; range tombstones included). */
  readonly maxKey: Uint8Array;
  /** Bytes the table accounts for (level sizes are sums of these). */
  readonly size: number;
  /** The lowest seqno of the table's entries and range tombstones (an ingested table's global seqno). */
  readonly minSeqno: number;
  /** The highest seqno of the table's entries and range tombstones (an ingested table's global seqno). */
  readonly maxSeqno: number;
}

/** An immutable, non-empty, key-disjoint sequence of tables sorted by min key. */
export class Run<T extends TableHandle> {
  /** The run's tables, sorted by `minKey`, with disjoint key ranges; never empty. */
  readonly tables: readonly T[];
  /** The tree's key order, by which the tables are sorted and searched. */
  readonly comparator: Comparator;
  /** Sum of the tables' sizes. */
  readonly size: number;

  private constructor(tables: readonly T[], comparator: Comparator) {
    this.tables = tables;
    this.comparator = comparator;
    let size = 0;
    for (const table of tables) size += table.size;
    this.size = size;
  }

  /**
   * Builds a run from tables in any order. Throws `RangeError` if the list is empty, a table's range is
   * inverted, or two ranges overlap: a caller that gets here with such tables has a bug, and a run that
   * broke the invariants would answer point reads wrongly.
   */
  static of<T extends TableHandle>(tables: readonly T[], comparator: Comparator): Run<T> {
    if (tables.length === 0) throw new RangeError("a run needs at least one table");
    const sorted = [...tables].sort((a, b) => comparator.compare(a.minKey, b.minKey));
    for (const table of sorted) {
      if (comparator.compare(table.minKey, table.maxKey) > 0) throw new RangeError(`table ${table.id} has minKey > maxKey`);
    }
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1] as T;
      const next = sorted[i] as T;
      if (comparator.compare(prev.maxKey, next.minKey) >= 0) {
        throw new RangeError(`tables ${prev.id} and ${next.id} overlap and cannot share a run`);
      }
    }
    return new Run(sorted, comparator);
  }

  /** Builds a run from tables already known to keep the invariants (internal fast path). */
  static trusted<T extends TableHandle>(tables: readonly T[], comparator: Comparator): Run<T> {
    return new Run(tables, comparator);
  }

  /** How many tables the run holds (at least 1). */
  get length(): number {
    return this.tables.length;
  }

  /** The smallest key of the run: its first table's `minKey` (inclusive). */
  get minKey(): Uint8Array {
    return (this.tables[0] as T).minKey;
  }

  /** The largest key of the run: its last table's `maxKey` (inclusive). */
  get maxKey(): Uint8Array {
    return (this.tables[this.tables.length - 1] as T).maxKey;
  }

  /** The tables in key order (as {@link tables}). */
  [Symbol.iterator](): IterableIterator<T> {
    return this.tables[Symbol.iterator]();
  }

  /** The one table whose range contains `key`, if any. */
  getForKey(key: Uint8Array): T | undefined {
    const index = this.#firstMaxAtLeast(key);
    const table = this.tables[index];
    return table !== undefined && this.comparator.compare(table.minKey, key) <= 0 ? table : undefined;
  }

  /** Tables whose range intersects the inclusive range `[min, max]`, in key order. */
  overlapping(min: Uint8Array, max: Uint8Array): readonly T[] {
    const [lo, hi] = this.#overlapBounds(min, max);
    return lo < hi ? this.tables.slice(lo, hi) : [];
  }

  /** Whether any table intersects `[min, max]`. */
  overlaps(min: Uint8Array, max: Uint8Array): boolean {
    const [lo, hi] = this.#overlapBounds(min, max);
    return lo < hi;
  }

  /** Tables lying entirely inside `[min, max]`, in key order. */
  containedIn(min: Uint8Array, max: Uint8Array): readonly T[] {
    const cmp = this.comparator;
    const lo = lowerBound(this.tables, (t) => cmp.compare(t.minKey, min) < 0);
    const hi = lowerBound(this.tables, (t) => cmp.compare(t.maxKey, max) <= 0);
    return lo < hi ? this.tables.slice(lo, hi) : [];
  }

  /** This run without the tables whose id is in `ids`; `undefined` when nothing is left. */
  without(ids: ReadonlySet<number>): Run<T> | undefined {
    const kept = this.tables.filter((table) => !ids.has(table.id));
    if (kept.length === this.tables.length) return this;
    return kept.length === 0 ? undefined : new Run(kept, this.comparator);
  }

  #firstMaxAtLeast(key: Uint8Array): number {
    const cmp = this.comparator;
    return lowerBound(this.tables, (t) => cmp.compare(t.maxKey, key) < 0);
  }

  // Because maxKeys are sorted like minKeys, the intersecting tables form one contiguous slice.
  #overlapBounds(min: Uint8Array, max: Uint8Array): [number, number] {
    const cmp = this.comparator;
    const lo = this.#firstMaxAtLeast(min);
    const hi = lowerBound(this.tables, (t) => cmp.compare(t.minKey, max) <= 0);
    return [lo, hi];
  }
}

/**
 * The first index at which `before` turns false, for an array in which it is true on a prefix and false
 * after (a partition point).
 */
export function lowerBound<T>(items: readonly T[], before: (item: T) => boolean): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(items[mid] as T)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
