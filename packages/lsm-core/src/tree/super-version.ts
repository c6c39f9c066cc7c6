/**
 * Snapshots of the tree's structure, so a read at an old seqno keeps seeing the data it would have seen.
 *
 * A super version is `{ active memtable, sealed memtables, version (tables), stamp }`. Every version
 * change (flush, compaction, drop, clear) takes a seqno as its stamp. A read at `S` uses the newest
 * super version whose stamp is `< S` (`S = 0`: the oldest kept), so a reader at an old seqno is not
 * affected by a later clear or by a compaction that garbage-collected versions it needed.
 *
 * The history only grows with changes that could alter what an old read returns. A change that keeps
 * every read at `S > previous stamp` answering the same (a rotation, a flush or compaction with GC
 * watermark at or below that stamp, a trivial move) replaces the newest entry instead of adding one,
 * taking over its stamp; this keeps the history, and the obsolete files it pins, from growing without
 * bound when callers pass watermark 0 (the reference engine's history grows forever then).
 * `prune(watermark)` drops entries no read at `S >= watermark` can select.
 *
 * @module
 */
import type { Memtable } from "../memtable/index.ts";
import type { TreeVersion } from "./tree-version.ts";

export class SuperVersion {
  readonly active: Memtable;
  /** Sealed memtables, oldest first. */
  readonly sealed: readonly Memtable[];
  readonly version: TreeVersion;
  readonly stamp: number;
  /** The largest seqno in any table (-1 when none): a memtable hit at or above it cannot be beaten. */
  readonly maxTableSeqno: number;
  /** Whether a sealed memtable or a table holds range tombstones (both are fixed for this snapshot). */
  readonly #tombstonesBelowActive: boolean;
  /** Pins by open iterators and running jobs. */
  #pins = 0;
  #inHistory = true;
  #released = false;

  constructor(active: Memtable, sealed: readonly Memtable[], version: TreeVersion, stamp: number) {
    this.active = active;
    this.sealed = sealed;
    this.version = version;
    this.stamp = stamp;
    active.ref();
    for (const m of sealed) m.ref();
    let tombstones = sealed.some((m) => m.rangeTombstoneCount() > 0);
    let maxTableSeqno = -1;
    for (const table of version.tables()) {
      table.ref();
      if (table.rangeTombstones.length > 0) tombstones = true;
      if (table.maxSeqno > maxTableSeqno) maxTableSeqno = table.maxSeqno;
    }
    for (const blob of version.blobFiles) blob.ref();
    this.maxTableSeqno = maxTableSeqno;
    this.#tombstonesBelowActive = tombstones;
  }

  /** Whether any source may hold a range tombstone: reads skip all range tombstone work when not. */
  hasRangeTombstones(): boolean {
    return this.#tombstonesBelowActive || this.active.rangeTombstoneCount() > 0;
  }

  /** Keeps this snapshot's tables and memtables alive until the returned release function is called. */
  pin(): () => void {
    this.#pins++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#pins--;
      this.#releaseIfUnused();
    };
  }

  /** Removed from the history: its tables go when the last pin does. */
  retire(): void {
    this.#inHistory = false;
    this.#releaseIfUnused();
  }

  #releaseIfUnused(): void {
    if (this.#inHistory || this.#pins > 0 || this.#released) return;
    this.#released = true;
    // Each table was ref'd once by this super version's constructor.
    for (const table of this.version.tables()) table.unref();
    for (const blob of this.version.blobFiles) blob.unref();
    // The last super version to let a memtable go recycles its arena (../memtable/chunk-pool.ts).
    this.active.unref();
    for (const m of this.sealed) m.unref();
  }
}

export class SuperVersionHistory {
  /** Oldest first; never empty. */
  readonly #entries: SuperVersion[];

  constructor(initial: SuperVersion) {
    this.#entries = [initial];
  }

  get latest(): SuperVersion {
    return this.#entries[this.#entries.length - 1] as SuperVersion;
  }

  get length(): number {
    return this.#entries.length;
  }

  /** The super version a read at `readSeqno` uses: the newest whose stamp is below it. */
  forRead(readSeqno: number): SuperVersion {
    for (let i = this.#entries.length - 1; i > 0; i--) {
      const entry = this.#entries[i] as SuperVersion;
      if (entry.stamp < readSeqno) return entry;
    }
    return this.#entries[0] as SuperVersion;
  }

  /** Adds a change that may alter old reads. */
  push(next: SuperVersion): void {
    this.#entries.push(next);
  }

  /**
   * Replaces the newest entry by `next` (a change that keeps every read answering the same). `next`
   * must carry the replaced entry's stamp.
   */
  replaceLatest(next: SuperVersion): void {
    const previous = this.#entries.pop() as SuperVersion;
    this.#entries.push(next);
    previous.retire();
  }

  /** Drops entries that no read at `S >= watermark` selects (watermark 0 keeps everything). */
  prune(watermark: number): void {
    if (watermark <= 0) return;
    // The newest entry with stamp < watermark still serves reads just above it; everything older goes.
    let keepFrom = 0;
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      if ((this.#entries[i] as SuperVersion).stamp < watermark) {
        keepFrom = i;
        break;
      }
    }
    for (const retired of this.#entries.splice(0, keepFrom)) retired.retire();
  }

  /** Retires everything (the tree is closing). */
  retireAll(): void {
    for (const entry of this.#entries.splice(0)) entry.retire();
  }
}
