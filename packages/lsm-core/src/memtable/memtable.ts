/**
 * The memtable: the in-memory write buffer, an ordered multimap of `(userKey, seqno, kind, value)`
 * in internal-key order (user key ascending by the comparator, seqno descending).
 *
 * It is an arena skiplist (layout drawn in `skiplist.ts`): node records packed in one `Int32Array`, key
 * and value bytes copied into append-only arena chunks (`arena.ts`), so an insert allocates no object.
 *
 * Invariants callers rely on:
 * - Every inserted entry is kept, including repeats of the same `(key, seqno)` (a batch writing one key
 *   twice); a repeat sorts after the entries it repeats. Nothing is ever overwritten or removed.
 * - Views handed out (`PointLookup.value`, cursor keys and values) stay valid and unchanged for as long
 *   as they are referenced: arena bytes are never moved or rewritten. A key/value never straddles
 *   chunks; an entry over 256 KiB that does not fit the current chunk gets a chunk of its own.
 * - Cursors stay on their entry while entries are inserted between their steps; an entry inserted
 *   meanwhile is seen if the cursor later moves across its position.
 * - Seqnos are integers in [0, SEQNO_MAX] (the tree validates them); reads are strict: a read at `S`
 *   sees seqnos `< S`.
 *
 * @module
 */
import type { ArenaChunkPool } from "./chunk-pool.ts";
import type { Comparator } from "../key/comparator.ts";
import type { ValueKind } from "../key/value-kind.ts";
import type { EntryCursor, PointLookup } from "../iter/cursor.ts";
import { MemtableCursor } from "./memtable-cursor.ts";
import { SkipList, type SkipListSnapshot } from "./skiplist.ts";
import { copyBytes } from "../key/copy.ts";
import { coverSeqno, firstEndingAfter, insertTombstone, type Fragment } from "../range-tombstone/fragments.ts";

/**
 * Bytes charged per entry on top of its key and value: the node record (8 fixed 4-byte slots, plus 4/3
 * tower links of 4 bytes on average, ≈ 37.3 bytes), rounded up. Spare capacity of the doubling node
 * array and abandoned arena chunk tails are not counted: the figure is for flush decisions, not an
 * exact heap size.
 */
export const MEMTABLE_ENTRY_OVERHEAD = 40;

export class Memtable {
  readonly id: number;
  readonly comparator: Comparator;
  readonly #list: SkipList;
  #size = 0;
  #highest = -1;
  #lowest = -1;
  /** Range tombstones, fragmented (../range-tombstone/fragments.ts). */
  #tombstones: Fragment[] = [];
  /**
   * Whether {@link rangeTombstones} handed the array out: the next insert then copies it first, so a
   * reader (an iterator, a flush) keeps the list it was given, unchanged.
   */
  #tombstonesShared = false;
  #tombstoneCount = 0;

  /** Super versions listing this memtable (see {@link ref}). */
  #refs = 0;
  #retired = false;

  /** With a pool, the arena's full-size chunks come from it and return to it once the memtable is retired. */
  /** With a shared pool, the memtable lives in shared memory: a worker thread can flush it once sealed. */
  constructor(comparator: Comparator, id: number, pool?: ArenaChunkPool, list?: SkipList) {
    this.comparator = comparator;
    this.id = id;
    this.#list = list ?? new SkipList(comparator, pool, pool?.shared ?? false);
  }

  /** Whether a worker thread can read it (see {@link snapshot}). */
  get shared(): boolean {
    return this.#list.shared;
  }

  /**
   * Its entries as another thread reads them, without a copy. REQUIRES: the memtable is sealed (no
   * insert follows) and stays referenced until the reader is done. Range tombstones are not included.
   */
  snapshot(): SkipListSnapshot {
    return this.#list.snapshot();
  }

  /** A read-only memtable over a {@link snapshot} (a worker thread's view): cursors work, inserts fail. */
  static fromSnapshot(snapshot: SkipListSnapshot, comparator: Comparator, id = 0): Memtable {
    return new Memtable(comparator, id, undefined, SkipList.fromSnapshot(snapshot, comparator));
  }

  /** Counts a super version that lists this memtable. */
  ref(): void {
    if (this.#retired) throw new Error(`memtable ${this.id} was retired; it cannot be listed again`);
    this.#refs++;
  }

  /**
   * Drops a super version's count. The last one retires the memtable: its arena chunks go back to the
   * pool for the next memtables. A super version drops its counts only once it has left the history
   * and its last pin (iterators, jobs) is gone, so nothing can read the memtable any more; point reads
   * are synchronous and copy what they return.
   */
  unref(): void {
    if (--this.#refs > 0 || this.#retired) return;
    this.#retired = true;
    this.#list.recycleArena();
  }

  /**
   * Adds an entry, copying `key` and `value` (the caller may reuse its buffers afterwards). Returns the
   * bytes charged for it: `key.length + value.length + MEMTABLE_ENTRY_OVERHEAD`.
   */
  insert(key: Uint8Array, seqno: number, kind: ValueKind, value: Uint8Array): number {
    this.#list.insert(key, seqno, kind, value);
    if (seqno > this.#highest) this.#highest = seqno;
    if (this.#lowest < 0 || seqno < this.#lowest) this.#lowest = seqno;
    const charged = key.length + value.length + MEMTABLE_ENTRY_OVERHEAD;
    this.#size += charged;
    return charged;
  }

  /**
   * Adds the range tombstone `[start, end) @ seqno` (copying the bytes; an empty `end` is unbounded).
   * REQUIRES `start < end` by the comparator. Returns the bytes charged for it.
   */
  insertRangeTombstone(start: Uint8Array, end: Uint8Array, seqno: number): number {
    if (this.#tombstonesShared) {
      this.#tombstones = [...this.#tombstones];
      this.#tombstonesShared = false;
    }
    insertTombstone(this.comparator, this.#tombstones, copyBytes(start), end.length === 0 ? end : copyBytes(end), seqno);
    this.#tombstoneCount++;
    if (seqno > this.#highest) this.#highest = seqno;
    if (this.#lowest < 0 || seqno < this.#lowest) this.#lowest = seqno;
    const charged = start.length + end.length + MEMTABLE_ENTRY_OVERHEAD;
    this.#size += charged;
    return charged;
  }

  /** The range tombstones, fragmented. The list never changes afterwards (a later insert copies it). */
  rangeTombstones(): readonly Fragment[] {
    this.#tombstonesShared = true;
    return this.#tombstones;
  }

  /**
   * A copy of the fragments that may meet the keys from `lower` to `upper` (inclusive; undefined =
   * unbounded): what a scan needs, without marking the list shared (a scan after every insert would
   * otherwise copy the whole list each time).
   */
  rangeTombstonesBetween(lower: Uint8Array | undefined, upper: Uint8Array | undefined): Fragment[] {
    const list = this.#tombstones;
    const cmp = this.comparator;
    const from = lower === undefined ? 0 : firstEndingAfter(cmp, list, lower);
    let to = from;
    while (to < list.length && (upper === undefined || cmp.compare((list[to] as Fragment).start, upper) <= 0)) to++;
    return list.slice(from, to);
  }

  /** The newest range tombstone seqno below `readSeqno` covering `key`, or -1. */
  rangeTombstoneCover(key: Uint8Array, readSeqno: number): number {
    return coverSeqno(this.comparator, this.#tombstones, key, readSeqno);
  }

  /** Range tombstones inserted (each counted once, however it was fragmented). */
  rangeTombstoneCount(): number {
    return this.#tombstoneCount;
  }

  /**
   * The newest entry of `key` with seqno `< readSeqno`, written into `out` (its value a view into the
   * arena). Tombstones are answered like values; the caller reads `out.kind`. Returns false if none.
   */
  get(key: Uint8Array, readSeqno: number, out: PointLookup): boolean {
    if (readSeqno <= 0) return false;
    const list = this.#list;
    const node = list.seekExact(key, readSeqno - 1);
    if (node === 0) return false;
    out.kind = list.kind(node);
    out.seqno = list.seqno(node);
    out.value = list.value(node);
    return true;
  }

  /** A cursor over every entry, unpositioned until a seek. */
  cursor(): EntryCursor {
    return new MemtableCursor(this.#list);
  }

  /** The sum of what {@link insert} returned. */
  approximateSize(): number {
    return this.#size;
  }

  /** Bytes of arena chunks allocated for key and value bytes (the node arrays are not included). */
  arenaBytes(): number {
    return this.#list.arenaBytes();
  }

  entryCount(): number {
    return this.#list.count();
  }

  /** No entries and no range tombstones. */
  isEmpty(): boolean {
    return this.#list.count() === 0 && this.#tombstoneCount === 0;
  }

  /** The largest seqno inserted, or undefined when empty. */
  highestSeqno(): number | undefined {
    return this.#highest < 0 ? undefined : this.#highest;
  }

  /** The smallest seqno inserted, or undefined when empty. */
  lowestSeqno(): number | undefined {
    return this.#lowest < 0 ? undefined : this.#lowest;
  }
}
