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
 * @module
 */
import type { Comparator } from "../key/comparator.ts";
import { isTombstone, type ValueKind } from "../key/value-kind.ts";
import type { EntryCursor } from "./cursor.ts";
import { aboveLower, belowUpper, type KeyRange } from "./bounds.ts";
import { copyBytes } from "../key/copy.ts";

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

export class VisibleRangeIterator implements IterableIterator<[Uint8Array, Uint8Array]> {
  readonly #comparator: Comparator;
  readonly #readSeqno: number;
  readonly #range: KeyRange;
  readonly #resolver: ValueResolver;
  readonly #keyFilter: ((key: Uint8Array) => boolean) | undefined;
  readonly #held: Held;
  #started = false;
  #emitted = 0;

  constructor(options: {
    comparator: Comparator;
    cursor: EntryCursor;
    readSeqno: number;
    range: KeyRange;
    resolver?: ValueResolver;
    release?: () => void;
    /** Only keys it accepts are yielded (and counted against the limit). */
    keyFilter?: (key: Uint8Array) => boolean;
  }) {
    this.#keyFilter = options.keyFilter;
    this.#comparator = options.comparator;
    this.#readSeqno = options.readSeqno;
    this.#range = options.range;
    this.#resolver = options.resolver ?? RAW_VALUES;
    this.#held = { cursor: options.cursor, release: options.release };
    abandoned.register(this, this.#held, this.#held);
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(): IteratorResult<[Uint8Array, Uint8Array]> {
    const cursor = this.#held.cursor;
    if (cursor === undefined || this.#emitted >= this.#range.limit) return this.#finish();
    let entry: [Uint8Array, Uint8Array] | undefined;
    try {
      entry = this.#range.reverse ? this.#backward(cursor) : this.#forward(cursor);
    } catch (error) {
      this.#finish();
      throw error;
    }
    if (entry === undefined) return this.#finish();
    this.#emitted++;
    return { done: false, value: entry };
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
    if (this.#held.cursor !== undefined || this.#held.release !== undefined) {
      abandoned.unregister(this.#held);
      releaseHeld(this.#held);
    }
    return { done: true, value: undefined };
  }

  #forward(c: EntryCursor): [Uint8Array, Uint8Array] | undefined {
    const cmp = this.#comparator;
    const range = this.#range;
    if (!this.#started) {
      this.#started = true;
      if (range.lower === undefined) c.seekToFirst();
      else c.seek(range.lower);
    }
    while (c.valid()) {
      const key = copyBytes(c.key());
      if (!belowUpper(cmp, range, key)) return undefined;
      if (!aboveLower(cmp, range, key) || (this.#keyFilter !== undefined && !this.#keyFilter(key))) {
        skipForward(cmp, c, key);
        continue;
      }
      while (c.valid() && c.seqno() >= this.#readSeqno && cmp.compare(c.key(), key) === 0) c.next();
      if (!c.valid() || cmp.compare(c.key(), key) !== 0) continue;
      const kind = c.kind();
      const value = isTombstone(kind) ? undefined : this.#resolver.resolve(key, kind, copyBytes(c.value()));
      skipForward(cmp, c, key);
      if (value !== undefined) return [key, value];
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
      const key = copyBytes(c.key());
      if (!aboveLower(cmp, range, key)) return undefined;
      const inRange = belowUpper(cmp, range, key) && (this.#keyFilter === undefined || this.#keyFilter(key));
      // Going backward the versions of `key` arrive oldest first; the last visible one is the newest.
      let newestKind = -1;
      let newestValue: Uint8Array | undefined;
      while (c.valid() && cmp.compare(c.key(), key) === 0) {
        if (inRange && c.seqno() < this.#readSeqno) {
          newestKind = c.kind();
          newestValue = isTombstone(newestKind) ? undefined : copyBytes(c.value());
        }
        c.prev();
      }
      if (newestValue !== undefined) {
        const resolved = this.#resolver.resolve(key, newestKind as ValueKind, newestValue);
        if (resolved !== undefined) return [key, resolved];
      }
    }
    return undefined;
  }
}

/** Moves `c` past every version of `key`. */
function skipForward(cmp: Comparator, c: EntryCursor, key: Uint8Array): void {
  while (c.valid() && cmp.compare(c.key(), key) === 0) c.next();
}
