/**
 * Iterators: abstract-level's `iterator()`, `keys()` and `values()` over `Tree.range` at one seqno.
 *
 * A {@link Cursor} is created synchronously with the iterator and fixes what it reads: the seqno of the
 * explicit snapshot it was given, or else of a tree snapshot it takes there and then (and releases on
 * close), so writes made after the iterator was created are never seen and automatic maintenance keeps
 * what it reads (implicit snapshots). The tree range is opened lazily at the first read and again after
 * each `seek()`, at the same seqno, with the remaining `limit`.
 *
 * @module
 */
import { AbstractIterator, AbstractKeyIterator, AbstractValueIterator } from "abstract-level";
import type { EntryIterator, Snapshot, Tree } from "@talus/lsm-core";
import { format } from "./bytes.ts";
import { abortError, toLevelError } from "./errors.ts";
import { fromTreeKey, isEmptyRange, rangeOptions, seekRange, treeRange, type LevelRangeOptions, type TreeRange } from "./keys.ts";

/** What the private API passes to `_iterator`, `_keys` and `_values` (range options encoded). */
export interface PrivateIteratorOptions extends LevelRangeOptions {
  readonly reverse: boolean;
  readonly limit: number;
  readonly keys?: boolean;
  readonly values?: boolean;
  readonly keyEncoding: string;
  readonly valueEncoding: string;
  readonly signal?: AbortSignal | null;
  readonly snapshot?: unknown;
}

/** Reads a range of a tree at one seqno, with seeks. */
export class Cursor {
  readonly #tree: Tree;
  readonly #seqno: number;
  /** The tree snapshot this cursor took (none when it reads at an explicit snapshot's seqno). */
  readonly #hold: Snapshot | undefined;
  readonly #range: TreeRange;
  readonly #reverse: boolean;
  /** Entries still allowed by `limit` (Infinity: no limit). */
  #remaining: number;
  #current: TreeRange;
  #entries: EntryIterator | undefined;
  #done = false;
  #closed = false;

  constructor(tree: Tree, seqno: number | undefined, options: PrivateIteratorOptions) {
    // Bounds first: a bad one throws before a snapshot is taken.
    this.#range = treeRange(options);
    this.#current = this.#range;
    this.#reverse = options.reverse;
    this.#remaining = options.limit >= 0 ? options.limit : Infinity;
    this.#tree = tree;
    if (seqno === undefined) {
      this.#hold = tree.snapshot();
      this.#seqno = this.#hold.seqno;
    } else {
      this.#hold = undefined;
      this.#seqno = seqno;
    }
  }

  /** The next `[treeKey, value]`, or undefined at the end. */
  next(): [Uint8Array, Uint8Array] | undefined {
    if (this.#done) return undefined;
    if (this.#remaining <= 0) return this.#end();
    let entries = this.#entries;
    if (entries === undefined) {
      if (isEmptyRange(this.#current)) return this.#end();
      try {
        entries = this.#tree.range(rangeOptions(this.#current, this.#reverse, this.#remaining), this.#seqno);
      } catch (error) {
        throw toLevelError(error);
      }
      this.#entries = entries;
    }
    let result: IteratorResult<[Uint8Array, Uint8Array]>;
    try {
      result = entries.next();
    } catch (error) {
      throw toLevelError(error);
    }
    if (result.done === true) return this.#end();
    this.#remaining--;
    return result.value;
  }

  /** Continues at `target` (an encoded level key): the keys at or after it, at or before it in reverse. */
  seek(target: Uint8Array): void {
    if (this.#closed) return;
    this.#dropEntries();
    this.#current = seekRange(this.#range, target, this.#reverse);
    this.#done = false;
  }

  /** Releases the tree range and the snapshot. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#done = true;
    this.#dropEntries();
    this.#hold?.release();
  }

  #end(): undefined {
    this.#done = true;
    this.#dropEntries();
    return undefined;
  }

  /** Ends the open tree range, if any (the next read opens another). */
  #dropEntries(): void {
    this.#entries?.return();
    this.#entries = undefined;
  }
}

/**
 * Waits one microtask and fails if the iterator's signal was aborted meanwhile. Reads are synchronous
 * in Talus, so this is the one point where an abort can land "during" a read, as abstract-level's
 * `signals.iterators` asks; iterators without a signal skip it.
 */
async function checkSignal(signal: AbortSignal): Promise<void> {
  await undefined;
  if (signal.aborted) throw abortError();
}

type Db = ConstructorParameters<typeof AbstractIterator>[0];
type Entry = [Uint8Array | undefined, Uint8Array | undefined];

/**
 * What the three iterator classes share: reads through the cursor, in batches, behind the abort check.
 * abstract-level has one base class per kind of iterator, so each class below is a thin shell over this.
 */
class Reads<T> {
  readonly #cursor: Cursor;
  readonly #signal: AbortSignal | undefined;
  readonly #shape: (entry: [Uint8Array, Uint8Array]) => T;

  constructor(cursor: Cursor, options: PrivateIteratorOptions, shape: (entry: [Uint8Array, Uint8Array]) => T) {
    this.#cursor = cursor;
    this.#signal = options.signal ?? undefined;
    this.#shape = shape;
  }

  async next(): Promise<T | undefined> {
    if (this.#signal !== undefined) await checkSignal(this.#signal);
    return this.#read();
  }

  /** Up to `size` items (`Infinity`: all). */
  async many(size: number): Promise<T[]> {
    if (this.#signal !== undefined) await checkSignal(this.#signal);
    const out: T[] = [];
    while (out.length < size) {
      const item = this.#read();
      if (item === undefined) break;
      out.push(item);
    }
    return out;
  }

  seek(target: Uint8Array): void {
    this.#cursor.seek(target);
  }

  close(): void {
    this.#cursor.close();
  }

  #read(): T | undefined {
    const entry = this.#cursor.next();
    return entry === undefined ? undefined : this.#shape(entry);
  }
}

/** `db.iterator()`: entries. */
export class TalusIterator extends AbstractIterator<Db, unknown, unknown> {
  readonly #reads: Reads<Entry>;

  constructor(db: Db, options: PrivateIteratorOptions, cursor: Cursor) {
    super(db, options as never);
    const keys = options.keys !== false;
    const values = options.values !== false;
    const keyBuffer = options.keyEncoding === "buffer";
    const valueBuffer = options.valueEncoding === "buffer";
    // Tree.range hands each pair over to the caller (a new array per entry): reshaped in place, not copied.
    this.#reads = new Reads(cursor, options, (entry): Entry => {
      const out: Entry = entry;
      out[0] = keys ? format(fromTreeKey(entry[0]), keyBuffer) : undefined;
      out[1] = values ? format(entry[1], valueBuffer) : undefined;
      return out;
    });
  }

  async _next(): Promise<Entry | undefined> {
    return this.#reads.next();
  }

  async _nextv(size: number): Promise<Entry[]> {
    return this.#reads.many(size);
  }

  async _all(): Promise<Entry[]> {
    return this.#reads.many(Infinity);
  }

  _seek(target: Uint8Array): void {
    this.#reads.seek(target);
  }

  async _close(): Promise<void> {
    this.#reads.close();
  }
}

/** `db.keys()`. */
export class TalusKeyIterator extends AbstractKeyIterator<Db, unknown> {
  readonly #reads: Reads<Uint8Array>;

  constructor(db: Db, options: PrivateIteratorOptions, cursor: Cursor) {
    super(db, options as never);
    const keyBuffer = options.keyEncoding === "buffer";
    this.#reads = new Reads(cursor, options, (entry) => format(fromTreeKey(entry[0]), keyBuffer));
  }

  async _next(): Promise<Uint8Array | undefined> {
    return this.#reads.next();
  }

  async _nextv(size: number): Promise<Uint8Array[]> {
    return this.#reads.many(size);
  }

  async _all(): Promise<Uint8Array[]> {
    return this.#reads.many(Infinity);
  }

  _seek(target: Uint8Array): void {
    this.#reads.seek(target);
  }

  async _close(): Promise<void> {
    this.#reads.close();
  }
}

/** `db.values()`. */
export class TalusValueIterator extends AbstractValueIterator<Db, unknown, unknown> {
  readonly #reads: Reads<Uint8Array>;

  constructor(db: Db, options: PrivateIteratorOptions, cursor: Cursor) {
    super(db, options as never);
    const valueBuffer = options.valueEncoding === "buffer";
    this.#reads = new Reads(cursor, options, (entry) => format(entry[1], valueBuffer));
  }

  async _next(): Promise<Uint8Array | undefined> {
    return this.#reads.next();
  }

  async _nextv(size: number): Promise<Uint8Array[]> {
    return this.#reads.many(size);
  }

  async _all(): Promise<Uint8Array[]> {
    return this.#reads.many(Infinity);
  }

  _seek(target: Uint8Array): void {
    this.#reads.seek(target);
  }

  async _close(): Promise<void> {
    this.#reads.close();
  }
}
