/**
 * What a reader at snapshot `S` sees of a key range: from a merged cursor over every source, the newest
 * version of each key with seqno `< S`, with deletions hiding the key, in key order forward or reverse.
 *
 * Forward, the versions of a key arrive newest first, so the first visible one decides. Backward they
 * arrive oldest first, so the iterator remembers the last visible one until the key changes.
 *
 * Yielded keys and values are copies the caller owns. The iterator releases what it holds (the cursor,
 * and through `release` the snapshot's table pins) when it is exhausted, when a `for...of` loop breaks
 * or throws (`return()`), or when it is garbage-collected without either, so an abandoned iterator never
 * pins files forever.
 *
 * With `prefetch` (for small limits: a seek, a short prefix scan) the constructor reads every entry the
 * limit allows and releases at once, so the iterator holds nothing and needs no finalization
 * registration (whose cost is that of the whole read for a one-entry seek). A read error met while
 * prefetching is thrown by `next()` after the entries before it, as a lazy iterator would.
 *
 * @module
 */
import type { Comparator } from "../key/comparator.ts";
import { isTombstone, type ValueKind } from "../key/value-kind.ts";
import type { EntryCursor } from "./cursor.ts";
import { aboveLower, belowUpper, type KeyRange } from "./bounds.ts";
import { copyForCaller } from "../key/copy.ts";
import type { ScanCover } from "../range-tombstone/scan-cover.ts";
import { runMerge, type MergeOperator } from "../merge/merge-operator.ts";
import { ValueKind as Kind } from "../key/value-kind.ts";

/**
 * Turns the newest visible entry of a key (a value, merge operand or indirection) into the value a
 * reader gets, or `undefined` to hide the key. Without merge operator or blobs the bytes pass through;
 * blob trees resolve indirections here.
 */
export interface ValueResolver {
  resolve(key: Uint8Array, kind: ValueKind, value: Uint8Array): Uint8Array | undefined;
}

/** Values (and, until a merge operator is configured, the newest merge operand) as stored. */
export const RAW_VALUES: ValueResolver = {
  resolve: (_key, _kind, value) => value,
};

interface Held {
  cursor: EntryCursor | undefined;
  release: (() => void) | undefined;
}

function releaseHeld(held: Held): void {
  const { cursor, release } = held;
  held.cursor = undefined;
  held.release = undefined;
  try {
    cursor?.close();
  } finally {
    release?.();
  }
}

const abandoned = new FinalizationRegistry<Held>(releaseHeld);

const EMPTY_VALUE = new Uint8Array(0);

/** Stands in for a prefetched entry already handed out. */
const DONE_ENTRY: [Uint8Array, Uint8Array] = [new Uint8Array(0), new Uint8Array(0)];

export class VisibleRangeIterator implements IterableIterator<[Uint8Array, Uint8Array]> {
  readonly #comparator: Comparator;
  readonly #readSeqno: number;
  readonly #range: KeyRange;
  readonly #resolver: ValueResolver;
  readonly #keyFilter: ((key: Uint8Array) => boolean) | undefined;
  readonly #cover: ScanCover | undefined;
  readonly #skipCovered: ((seqno: number, to: Uint8Array) => void) | undefined;
  readonly #merge: MergeOperator | undefined;
  readonly #held: Held;
  #started = false;
  /** Set once a key at or above the lower bound was seen: every later key is too. */
  #pastLower = false;
  #emitted = 0;
  /** Prefetched entries (null when reading lazily), handed out from `#prefetchedAt`. */
  readonly #prefetched: [Uint8Array, Uint8Array][] | null = null;
  #prefetchedAt = 0;
  /** What prefetching threw, for `next()` to throw after the prefetched entries; then cleared. */
  #prefetchError: { readonly error: unknown } | null = null;

  constructor(options: {
    comparator: Comparator;
    cursor: EntryCursor;
    readSeqno: number;
    range: KeyRange;
    resolver?: ValueResolver;
    release?: () => void;
    /** Only keys it accepts are yielded (and counted against the limit). */
    keyFilter?: (key: Uint8Array) => boolean;
    /** The range tombstones to honour (none when undefined). */
    cover?: ScanCover | undefined;
    /**
     * Going forward, told that every entry with seqno below `seqno` from the current key up to `to` is
     * deleted by a range tombstone: the cursor may skip those it can tell apart (see
     * `MergingCursor.skipOlderThan`).
     */
    skipCovered?: ((seqno: number, to: Uint8Array) => void) | undefined;
    /** Resolves merge operands (without one, the newest operand is the value). */
    mergeOperator?: MergeOperator | undefined;
    /** Read every entry now and release at once (meant for small limits). */
    prefetch?: boolean;
  }) {
    this.#keyFilter = options.keyFilter;
    this.#cover = options.cover;
    this.#skipCovered = options.skipCovered;
    this.#merge = options.mergeOperator;
    this.#comparator = options.comparator;
    this.#readSeqno = options.readSeqno;
    this.#range = options.range;
    this.#resolver = options.resolver ?? RAW_VALUES;
    this.#held = { cursor: options.cursor, release: options.release };
    if (options.prefetch === true) {
      const entries: [Uint8Array, Uint8Array][] = [];
      try {
        for (let entry = this.#read(); entry !== undefined; entry = this.#read()) entries.push(entry);
      } catch (error) {
        this.#prefetchError = { error };
      }
      releaseHeld(this.#held);
      this.#prefetched = entries;
    } else {
      abandoned.register(this, this.#held, this.#held);
    }
  }

  /** The iterator itself, so that it can be consumed by `for...of` and spread (once: it is not restartable). */
  [Symbol.iterator](): this {
    return this;
  }

  next(): IteratorResult<[Uint8Array, Uint8Array]> {
    const prefetched = this.#prefetched;
    if (prefetched !== null) {
      const entry = prefetched[this.#prefetchedAt];
      if (entry !== undefined) {
        // Dropped as handed out: the iterator keeps no reference to what the caller now owns.
        prefetched[this.#prefetchedAt++] = DONE_ENTRY;
        return { done: false, value: entry };
      }
      const failure = this.#prefetchError;
      this.#prefetchedAt = prefetched.length;
      if (failure !== null) {
        this.#prefetchError = null;
        throw failure.error;
      }
      return { done: true, value: undefined };
    }
    let entry: [Uint8Array, Uint8Array] | undefined;
    try {
      entry = this.#read();
    } catch (error) {
      this.#finish();
      throw error;
    }
    if (entry === undefined) return this.#finish();
    return { done: false, value: entry };
  }

  /** The next entry within the limit, or undefined at the end (releasing nothing). */
  #read(): [Uint8Array, Uint8Array] | undefined {
    const cursor = this.#held.cursor;
    if (cursor === undefined || this.#emitted >= this.#range.limit) return undefined;
    const entry = this.#range.reverse ? this.#backward(cursor) : this.#forward(cursor, this.#emitted + 1 >= this.#range.limit);
    if (entry !== undefined) this.#emitted++;
    return entry;
  }

  /** Ends the iteration early and releases everything (what `break` in a for...of loop calls). */
  return(): IteratorResult<[Uint8Array, Uint8Array]> {
    return this.#finish();
  }

  /** Same as {@link return}, for explicit resource management (`using`). */
  [Symbol.dispose](): void {
    this.#finish();
  }

  #finish(): IteratorResult<[Uint8Array, Uint8Array]> {
    if (this.#prefetched !== null) {
      this.#prefetchedAt = this.#prefetched.length;
      this.#prefetchError = null;
    } else if (this.#held.cursor !== undefined || this.#held.release !== undefined) {
      abandoned.unregister(this.#held);
      releaseHeld(this.#held);
    }
    return { done: true, value: undefined };
  }

  /** The next visible entry; with `last` (the limit allows no more) the cursor stays on it rather than reading on past its key. */
  #forward(c: EntryCursor, last: boolean): [Uint8Array, Uint8Array] | undefined {
    const cmp = this.#comparator;
    const range = this.#range;
    const readSeqno = this.#readSeqno;
    const keyFilter = this.#keyFilter;
    if (!this.#started) {
      this.#started = true;
      if (range.lower === undefined) c.seekToFirst();
      else c.seek(range.lower);
    }
    while (c.valid()) {
      const key = copyForCaller(c.key());
      if (range.upper !== undefined && !belowUpper(cmp, range, key)) return undefined;
      // The seek landed at or after the lower bound, so only keys before the first one above it (an
      // exclusive bound's own key) need the check.
      if (!this.#pastLower) {
        if (!aboveLower(cmp, range, key)) {
          skipForward(cmp, c, key);
          continue;
        }
        this.#pastLower = true;
      }
      if (keyFilter !== undefined && !keyFilter(key)) {
        skipForward(cmp, c, key);
        continue;
      }
      if (!toNewestVisible(cmp, c, key, readSeqno)) continue;
      const kind = c.kind();
      const cover = this.#cover;
      const covered = cover === undefined ? -1 : cover.forward(key);
      const deleted = isTombstone(kind) || c.seqno() < covered;
      let value: Uint8Array | undefined;
      // Whether `c` is still on a version of `key` (collecting merge operands may have moved it on).
      let onKey = true;
      if (!deleted) {
        if (kind === Kind.MergeOperand && this.#merge !== undefined) {
          value = mergeForward(this.#merge, cmp, c, key, covered, this.#resolver);
          onKey = c.valid() && cmp.compare(c.key(), key) === 0;
        } else {
          value = this.#resolver.resolve(key, kind, copyForCaller(c.value()));
        }
      }
      if (value !== undefined && last) return [key, value];
      if (onKey) skipForward(cmp, c, key);
      if (value !== undefined) return [key, value];
      // A deleted stretch: sources holding nothing newer than the tombstone jump past it.
      if (covered >= 0 && this.#skipCovered !== undefined && cover !== undefined) {
        const end = cover.coverEnd();
        if (end.length > 0) this.#skipCovered(covered, end);
      }
    }
    return undefined;
  }

  #backward(c: EntryCursor): [Uint8Array, Uint8Array] | undefined {
    const cmp = this.#comparator;
    const range = this.#range;
    if (!this.#started) {
      this.#started = true;
      if (range.upper === undefined) c.seekToLast();
      else c.seekForPrev(range.upper);
    }
    while (c.valid()) {
      const key = copyForCaller(c.key());
      if (!aboveLower(cmp, range, key)) return undefined;
      const inRange = belowUpper(cmp, range, key) && (this.#keyFilter === undefined || this.#keyFilter(key));
      // Going backward the versions of `key` arrive oldest first; the last visible one is the newest.
      if (this.#merge !== undefined) {
        const covered = inRange && this.#cover !== undefined ? this.#cover.backward(key) : -1;
        // A key outside the range is only stepped over: at read seqno 0 none of its versions is visible.
        const merged = mergeBackward(this.#merge, cmp, c, key, inRange ? this.#readSeqno : 0, covered, this.#resolver);
        if (merged !== undefined) return [key, merged];
        continue;
      }
      let newestKind = -1;
      let newestSeqno = -1;
      let newestValue: Uint8Array | undefined;
      while (c.valid() && cmp.compare(c.key(), key) === 0) {
        if (inRange && c.seqno() < this.#readSeqno) {
          newestKind = c.kind();
          newestSeqno = c.seqno();
          newestValue = isTombstone(newestKind) ? undefined : copyForCaller(c.value());
        }
        c.prev();
      }
      if (newestValue !== undefined && this.#cover !== undefined && newestSeqno < this.#cover.backward(key)) newestValue = undefined;
      if (newestValue !== undefined) {
        const resolved = this.#resolver.resolve(key, newestKind as ValueKind, newestValue);
        if (resolved !== undefined) return [key, resolved];
      }
    }
    return undefined;
  }
}

/**
 * Resolves the merge operand `c` is on: collects it and the older versions of `key` until a value (the
 * base), a deletion, or a version below `covered` (hidden by a range tombstone: no base). Leaves `c` on
 * the first entry not collected.
 */
export function mergeForward(operator: MergeOperator, cmp: Comparator, c: EntryCursor, key: Uint8Array, covered: number, resolver: ValueResolver): Uint8Array {
  const operands: Uint8Array[] = [];
  let base: Uint8Array | undefined;
  while (c.valid() && cmp.compare(c.key(), key) === 0 && c.seqno() >= covered) {
    const kind = c.kind();
    if (kind === Kind.MergeOperand) {
      operands.push(copyForCaller(c.value()));
      c.next();
      continue;
    }
    // A separated base (an indirection) merges as the value it stands for.
    if (!isTombstone(kind)) base = resolver.resolve(key, kind, copyForCaller(c.value()));
    break;
  }
  return runMerge(operator, key, base, operands.reverse());
}

/**
 * The backward form of {@link mergeForward} (versions arrive oldest first): the value of `key` from the
 * versions below `readSeqno` and at or above `covered`, or undefined when the newest of them is a
 * deletion or there is none. Leaves `c` before the key.
 */
export function mergeBackward(
  operator: MergeOperator,
  cmp: Comparator,
  c: EntryCursor,
  key: Uint8Array,
  readSeqno: number,
  covered: number,
  resolver: ValueResolver,
): Uint8Array | undefined {
  // Oldest first; only what the reader can see and no range tombstone hides.
  const kinds: number[] = [];
  const values: Uint8Array[] = [];
  while (c.valid() && cmp.compare(c.key(), key) === 0) {
    const seqno = c.seqno();
    if (seqno < readSeqno && seqno >= covered) {
      kinds.push(c.kind());
      values.push(isTombstone(c.kind()) ? EMPTY_VALUE : copyForCaller(c.value()));
    }
    c.prev();
  }
  const newest = kinds.length - 1;
  if (newest < 0 || isTombstone(kinds[newest] as number)) return undefined;
  if (kinds[newest] !== Kind.MergeOperand) return resolver.resolve(key, kinds[newest] as ValueKind, values[newest] as Uint8Array);
  let i = newest;
  while (i >= 0 && kinds[i] === Kind.MergeOperand) i--;
  const base = i >= 0 && !isTombstone(kinds[i] as number) ? resolver.resolve(key, kinds[i] as ValueKind, values[i] as Uint8Array) : undefined;
  return runMerge(operator, key, base, values.slice(i + 1));
}

/**
 * Steps `c`, standing on the newest version of `key`, over the versions a read at `readSeqno` cannot see
 * (they arrive newest first). True when it stands on a visible version of `key`; false when it left the
 * key (none of its versions is visible, and the new key starts over) or the input ended.
 */
export function toNewestVisible(cmp: Comparator, c: EntryCursor, key: Uint8Array, readSeqno: number): boolean {
  while (c.seqno() >= readSeqno) {
    c.next();
    if (!c.valid() || cmp.compare(c.key(), key) !== 0) return false;
  }
  return true;
}

/** Moves `c` past every version of `key`. REQUIRES: `c` is on a version of `key`. */
export function skipForward(cmp: Comparator, c: EntryCursor, key: Uint8Array): void {
  do c.next();
  while (c.valid() && cmp.compare(c.key(), key) === 0);
}
