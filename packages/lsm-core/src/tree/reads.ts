/**
 * The read path: point lookups and range iterators over one super version.
 *
 * Point reads search newest to oldest and stop at the first source that holds the key: the active
 * memtable, sealed memtables (newest first), every L0 run (keeping the highest seqno: L0 runs overlap),
 * then each deeper level, where at most one table per run can hold the key (binary search on key
 * ranges) and the first level with a hit ends the search.
 *
 * @module
 */
import { isTombstone, ValueKind } from "../key/value-kind.ts";
import { runMerge, type MergeOperator } from "../merge/merge-operator.ts";
import { newPointLookup, type EntryCursor, type PointLookup } from "../iter/cursor.ts";
import { MergingCursor } from "../iter/merging-cursor.ts";
import { RunCursor } from "../iter/run-cursor.ts";
import { RAW_VALUES, VisibleRangeIterator, type ValueResolver } from "../iter/visible-range.ts";
import { scanVisible, type ScanVisitor } from "../iter/visible-scan.ts";
import type { ValueLog } from "../separation/value-log.ts";
import { FULL_RANGE, type KeyRange } from "../iter/bounds.ts";
import type { Comparator } from "../key/comparator.ts";
import type { SuperVersion } from "./super-version.ts";
import type { TreeVersion } from "./tree-version.ts";
import { copyForCaller } from "../key/copy.ts";
import { coverSeqno, type Fragment } from "../range-tombstone/fragments.ts";
import { ScanCover } from "../range-tombstone/scan-cover.ts";
import { Table, type FetchedBlocks } from "../table/table.ts";
import { BatchedSeekCursor } from "./batched-seek.ts";
import type { TableFile } from "./table-file.ts";

/** A reusable pair of lookup slots, so a point read allocates nothing but its result copy. */
export class PointReader {
  readonly #comparator: Comparator;
  readonly #merge: MergeOperator | undefined;
  readonly #log: ValueLog | undefined;
  readonly #hit: PointLookup = newPointLookup();
  readonly #probe: PointLookup = newPointLookup();
  /** Whether the last `find` left a copy in `#hit.value` rather than a view. */
  #hitIsCopy = false;

  constructor(comparator: Comparator, mergeOperator: MergeOperator | undefined, valueLog: ValueLog | undefined = undefined) {
    this.#comparator = comparator;
    this.#merge = mergeOperator;
    this.#log = valueLog;
  }

  /**
   * The newest entry of `key` visible at `readSeqno` (tombstones included), or undefined. Its value is a
   * view valid until the next read: a data block's memory is recycled once the block cache drops it.
   */
  find(sv: SuperVersion, key: Uint8Array, readSeqno: number): PointLookup | undefined {
    const hit = this.#hit;
    this.#hitIsCopy = false;
    let inMemtable = sv.active.get(key, readSeqno, hit);
    for (let i = sv.sealed.length - 1; i >= 0 && !inMemtable; i--) inMemtable = sv.sealed[i]?.get(key, readSeqno, hit) === true;
    if (inMemtable) {
      // Memtables hold the newest writes, except when a table got a seqno above them (an ingestion).
      if (hit.seqno >= sv.maxTableSeqno || hit.seqno + 1 === readSeqno) return hit;
      const { kind, seqno, value } = hit;
      const inTable = this.#findInTables(sv, key, readSeqno);
      if (inTable !== undefined && inTable.seqno > seqno) return inTable;
      this.#hitIsCopy = false;
      hit.kind = kind;
      hit.seqno = seqno;
      // A memtable view: arena bytes never move.
      hit.value = value;
      return hit;
    }
    return this.#findInTables(sv, key, readSeqno);
  }

  /** The newest version of `key` visible at `readSeqno` in the tables of `sv`, into `#hit`. */
  #findInTables(sv: SuperVersion, key: Uint8Array, readSeqno: number): PointLookup | undefined {
    const hit = this.#hit;
    this.#hitIsCopy = false;
    const probe = this.#probe;
    const levels = sv.version.levels;
    for (let l = 0; l < levels.length; l++) {
      let found = false;
      const runs = (levels[l] as (typeof levels)[number]).runs;
      for (let r = 0; r < runs.length; r++) {
        const table = (runs[r] as (typeof runs)[number]).getForKey(key);
        if (table === undefined || !table.get(key, readSeqno, probe)) continue;
        // Runs of one level may overlap (L0), so the newest hit across them wins; a hit just below the
        // read seqno cannot be beaten.
        const last = probe.seqno + 1 === readSeqno || r + 1 === runs.length;
        if (!found || probe.seqno > hit.seqno) {
          hit.kind = probe.kind;
          hit.seqno = probe.seqno;
          // Probing on reads blocks, which may recycle the memory the view points into: keep a copy.
          this.#hitIsCopy = !last;
          hit.value = last ? probe.value : copyForCaller(probe.value);
          found = true;
        }
        if (hit.seqno + 1 === readSeqno) break;
      }
      if (found) return hit;
    }
    return undefined;
  }

  /** The value of `key` at `readSeqno` (a copy the caller owns), or undefined when absent or deleted. */
  get(sv: SuperVersion, key: Uint8Array, readSeqno: number): Uint8Array | undefined {
    const hit = this.find(sv, key, readSeqno);
    if (hit === undefined || isTombstone(hit.kind)) return undefined;
    const merging = hit.kind === ValueKind.MergeOperand && this.#merge !== undefined;
    // Merging looks below the newest version, where older tombstones matter too.
    const cover = sv.hasRangeTombstones() ? rangeTombstoneCover(sv, key, readSeqno, merging ? -1 : hit.seqno) : -1;
    if (hit.seqno < cover) return undefined;
    if (merging) return mergedValue(this.#comparator, this.#merge as MergeOperator, sv, key, readSeqno, cover, this.#log);
    if (hit.kind === ValueKind.Indirection) return (this.#log as ValueLog).read(key, hit.value);
    return this.#hitIsCopy ? hit.value : copyForCaller(hit.value);
  }

  /**
   * {@link get} for each key of `keys`, against one super version. The data blocks the lookups will need
   * from files are read first, together: one `Fs.readMany` per filesystem (see {@link fetchFor}); the
   * lookups then find them in memory. Same answers and errors as a loop of `get`.
   */
  multiGet(sv: SuperVersion, keys: readonly Uint8Array[], readSeqno: number): Array<Uint8Array | undefined> {
    const fetched = keys.length > 1 ? this.fetchFor(sv, keys, readSeqno) : undefined;
    try {
      return keys.map((key) => this.get(sv, key, readSeqno));
    } finally {
      fetched?.release();
    }
  }

  /**
   * Holds the data blocks that looking up `keys` at `readSeqno` will need from tables that are not
   * memory-mapped until the result is released, reading those not in the block cache in one batch per
   * filesystem (`Table.fetchBlocks`); undefined when no such table is involved.
   *
   * Which blocks: the search of {@link find} without reading data blocks. A key answered by a memtable
   * needs none; otherwise, level by level, every run's table that may hold the key (seqno and key range,
   * filter, index) names one block, and the search stops after the first level with one, as `find` stops
   * at the first level with a hit (a filter's false positive there leaves the deeper block to the
   * lookup's own read). In a level whose runs overlap (L0), runs after a table that may hold the read's
   * newest version are left out too: a hit there ends `find`'s walk of the level. So the batch reads
   * only blocks the lookups read anyway, and none twice. When every table is mapped, or every block
   * needed is in the cache already, there is nothing to batch: undefined, and the lookups run as `get`.
   */
  fetchFor(sv: SuperVersion, keys: readonly Uint8Array[], readSeqno: number): FetchedBlocks | undefined {
    if (!hasUnmappedTables(sv.version)) return undefined;
    const probe = this.#probe;
    let reads = 0;
    // Repeats are left in: fetchBlocks skips them.
    const wanted: { table: Table; block: number }[] = [];
    const memtables = sv.active.entryCount() > 0 || sv.sealed.length > 0;
    const levels = sv.version.levels;
    for (const key of keys) {
      if (memtables) {
        let inMemtable = sv.active.get(key, readSeqno, probe);
        for (let i = sv.sealed.length - 1; i >= 0 && !inMemtable; i--) inMemtable = sv.sealed[i]?.get(key, readSeqno, probe) === true;
        if (inMemtable && (probe.seqno >= sv.maxTableSeqno || probe.seqno + 1 === readSeqno)) continue;
      }
      for (let l = 0; l < levels.length; l++) {
        let maybe = false;
        const runs = (levels[l] as (typeof levels)[number]).runs;
        for (let r = 0; r < runs.length; r++) {
          const file = (runs[r] as (typeof runs)[number]).getForKey(key);
          if (file === undefined) continue;
          const block = file.pointBlock(key, readSeqno);
          if (block < 0) continue;
          maybe = true;
          const table = file.table;
          if (!table.mapped) {
            wanted.push({ table, block });
            if (!table.hasBlock(block)) reads++;
          }
          if (file.maxSeqno + 1 >= readSeqno) break;
        }
        if (maybe) break;
      }
    }
    // Nothing to read: the lookups store nothing in the cache that could push their blocks out.
    return reads === 0 ? undefined : Table.fetchBlocks(wanted);
  }

  /**
   * The length of `key`'s value at `readSeqno`, or undefined when absent or deleted. A separated value
   * is measured from its handle: the blob is not read.
   */
  sizeOf(sv: SuperVersion, key: Uint8Array, readSeqno: number): number | undefined {
    const hit = this.find(sv, key, readSeqno);
    if (hit === undefined || isTombstone(hit.kind)) return undefined;
    if (hit.kind !== ValueKind.Indirection) return this.get(sv, key, readSeqno)?.length;
    if (sv.hasRangeTombstones() && hit.seqno < rangeTombstoneCover(sv, key, readSeqno, hit.seqno)) return undefined;
    return (this.#log as ValueLog).valueSize(hit.value);
  }
}

/** Per version: whether any of its tables is read without a memory map (computed once; versions never change). */
const UNMAPPED_TABLES = new WeakMap<TreeVersion, boolean>();

/** Whether `version` has a table whose blocks are read from its file (not memory-mapped): one multiGet can batch. */
function hasUnmappedTables(version: TreeVersion): boolean {
  let unmapped = UNMAPPED_TABLES.get(version);
  if (unmapped === undefined) {
    unmapped = false;
    for (const table of version.tables()) {
      if (!table.table.mapped) {
        unmapped = true;
        break;
      }
    }
    UNMAPPED_TABLES.set(version, unmapped);
  }
  return unmapped;
}

/**
 * The value of `key` at `readSeqno` whose newest visible version is a merge operand: that operand and
 * the older ones down to the first value (the base), deletion, or version below `cover` (deleted by a
 * range tombstone: no base), merged by `operator`.
 */
function mergedValue(
  comparator: Comparator,
  operator: MergeOperator,
  sv: SuperVersion,
  key: Uint8Array,
  readSeqno: number,
  cover: number,
  log: ValueLog | undefined,
): Uint8Array {
  // Every source that may hold a version of the key: memtables, and per run the one table whose range
  // has the key and whose filter does not rule it out (a merged cursor over all runs would read a block
  // of every run).
  const children: EntryCursor[] = [];
  if (sv.active.entryCount() > 0) children.push(sv.active.cursor());
  for (let i = sv.sealed.length - 1; i >= 0; i--) {
    const sealed = sv.sealed[i] as SuperVersion["active"];
    if (sealed.entryCount() > 0) children.push(sealed.cursor());
  }
  for (const level of sv.version.levels) {
    for (const run of level.runs) {
      const table = run.getForKey(key);
      if (table !== undefined && table.minSeqno < readSeqno && table.table.mayContain(key)) children.push(table.cursor());
    }
  }
  const cursor = new MergingCursor(comparator, children);
  try {
    cursor.seek(key, readSeqno - 1);
    const operands: Uint8Array[] = [];
    let base: Uint8Array | undefined;
    while (cursor.valid() && comparator.compare(cursor.key(), key) === 0 && cursor.seqno() >= cover) {
      const kind = cursor.kind();
      if (kind === ValueKind.MergeOperand) {
        operands.push(copyForCaller(cursor.value()));
        cursor.next();
        continue;
      }
      if (kind === ValueKind.Indirection) base = (log as ValueLog).read(key, cursor.value());
      else if (!isTombstone(kind)) base = copyForCaller(cursor.value());
      break;
    }
    return runMerge(operator, key, base, operands.reverse());
  } finally {
    cursor.close();
  }
}

/**
 * The newest range tombstone seqno visible at `readSeqno` that covers `key`, from every source of `sv`
 * (-1: none). Sources whose seqnos are all at or below `above` are skipped: nothing there can delete a
 * version with seqno `above`.
 */
export function rangeTombstoneCover(sv: SuperVersion, key: Uint8Array, readSeqno: number, above: number): number {
  let cover = sv.active.rangeTombstoneCover(key, readSeqno);
  for (const sealed of sv.sealed) cover = Math.max(cover, sealed.rangeTombstoneCover(key, readSeqno));
  for (const level of sv.version.levels) {
    for (const run of level.runs) {
      const table = run.getForKey(key);
      if (table === undefined || table.rangeTombstones.length === 0 || table.maxSeqno <= above) continue;
      cover = Math.max(cover, coverSeqno(table.table.order.comparator, table.rangeTombstones, key, readSeqno));
    }
  }
  return cover;
}

/** The range tombstones a scan of `range` at `readSeqno` must honour, or undefined when there are none. */
function scanCover(comparator: Comparator, sv: SuperVersion, range: KeyRange, readSeqno: number): ScanCover | undefined {
  if (!sv.hasRangeTombstones()) return undefined;
  const lists: (readonly Fragment[])[] = [];
  for (const m of [sv.active, ...sv.sealed]) {
    if (m.rangeTombstoneCount() === 0) continue;
    const fragments = m.rangeTombstonesBetween(range.lower, range.upper);
    if (fragments.length > 0) lists.push(fragments);
  }
  for (const level of sv.version.levels) {
    for (const run of level.runs) {
      // Only the tables whose key range meets the scan's (a binary search, not a walk over the run).
      for (const table of run.overlapping(range.lower ?? run.minKey, range.upper ?? run.maxKey)) {
        if (table.rangeTombstones.length > 0 && !outsideRange(comparator, table.minKey, table.maxKey, range)) lists.push(table.rangeTombstones);
      }
    }
  }
  return lists.length === 0 ? undefined : new ScanCover(comparator, lists, readSeqno);
}

/** Whether the inclusive key span `[min, max]` lies wholly outside `range`. */
function outsideRange(comparator: Comparator, min: Uint8Array, max: Uint8Array, range: KeyRange): boolean {
  const { lower, upper } = range;
  if (lower !== undefined) {
    const c = comparator.compare(max, lower);
    if (c < 0 || (c === 0 && !range.lowerInclusive)) return true;
  }
  if (upper !== undefined) {
    const c = comparator.compare(min, upper);
    if (c > 0 || (c === 0 && !range.upperInclusive)) return true;
  }
  return false;
}

/**
 * One cursor over every source of `sv` that may hold a key of `range`, newest source first. Memtables
 * empty when it is made are left out (an iterator is not promised the writes made after it), and so are
 * runs whose key range lies wholly outside `range`: the iterator never moves outside `range`, so such a
 * run could only cost its seeks. With `prefixProbe`, tables whose prefix filter rules it out are left out
 * too. A single source is read directly, without a merge around it, unless
 * `skippable` asks for a merging cursor that knows each source's newest seqno (so that a forward scan
 * can jump over stretches a range tombstone deletes: `MergingCursor.skipOlderThan`).
 */
export function mergedCursor(
  comparator: Comparator,
  sv: SuperVersion,
  range: KeyRange = FULL_RANGE,
  skippable = false,
  prefixProbe: Uint8Array | undefined = undefined,
): EntryCursor {
  const children: EntryCursor[] = [];
  // Only built for a skippable cursor: a plain seek should not pay for closures it never calls.
  const maxSeqnos: (() => number)[] | undefined = skippable ? [] : undefined;
  // The runs' tables, for seeks that read their first blocks together (batched-seek.ts); only where some
  // table is read from its file, and not for a skippable cursor, whose caller needs the MergingCursor itself.
  const runs: (readonly TableFile[])[] | undefined = !skippable && hasUnmappedTables(sv.version) ? [] : undefined;
  if (sv.active.entryCount() > 0) {
    children.push(sv.active.cursor());
    maxSeqnos?.push(memtableMax(sv.active));
  }
  for (let i = sv.sealed.length - 1; i >= 0; i--) {
    const sealed = sv.sealed[i] as SuperVersion["active"];
    if (sealed.entryCount() === 0) continue;
    children.push(sealed.cursor());
    maxSeqnos?.push(memtableMax(sealed));
  }
  for (const level of sv.version.levels) {
    for (const run of level.runs) {
      if (outsideRange(comparator, run.minKey, run.maxKey, range)) continue;
      // A run is a sorted, disjoint list: any subset of it is one too.
      const tables = prefixProbe === undefined ? run.tables : run.tables.filter((t) => t.table.mayContainPrefix(prefixProbe));
      if (tables.length === 0) continue;
      children.push(new RunCursor(comparator, tables));
      runs?.push(tables);
      if (maxSeqnos !== undefined) {
        let max = -1;
        for (const table of tables) max = Math.max(max, table.maxSeqno);
        maxSeqnos.push(() => max);
      }
    }
  }
  if (children.length === 1 && !skippable) return children[0] as EntryCursor;
  const merged = new MergingCursor(comparator, children, maxSeqnos);
  return runs !== undefined && runs.length >= 2 ? new BatchedSeekCursor(merged, comparator, runs) : merged;
}

/** A memtable's newest seqno, asked when needed: the active memtable may still grow. */
function memtableMax(m: SuperVersion["active"]): () => number {
  return () => m.highestSeqno() ?? -1;
}

/**
 * Limits up to which a range is read in full when the iterator is made (see `prefetch` in
 * ../iter/visible-range.ts): a seek or a short scan then never needs a finalization registration.
 */
const PREFETCH_MAX_LIMIT = 16;

/** How a range iterator reads, besides its snapshot, range and seqno. */
export interface ScanOptions {
  readonly comparator: Comparator;
  /** Only keys it accepts are yielded. */
  readonly keyFilter?: ((key: Uint8Array) => boolean) | undefined;
  readonly mergeOperator?: MergeOperator | undefined;
  /** A prefix every key of the scan has as its extracted prefix: tables whose filter rules it out are skipped. */
  readonly prefixProbe?: Uint8Array | undefined;
  /** Turns stored values into what readers get (a blob tree resolves indirections). */
  readonly resolver?: ValueResolver | undefined;
}

/** An iterator over `range` at `readSeqno` that pins `sv` until it ends. */
export function rangeIterator(sv: SuperVersion, range: KeyRange, readSeqno: number, options: ScanOptions): VisibleRangeIterator {
  const { comparator, keyFilter, mergeOperator, prefixProbe, resolver } = options;
  const release = sv.pin();
  try {
    const cover = scanCover(comparator, sv, range, readSeqno);
    const skippable = cover !== undefined && !range.reverse;
    const cursor = mergedCursor(comparator, sv, range, skippable, prefixProbe);
    return new VisibleRangeIterator({
      comparator,
      cursor,
      readSeqno,
      range,
      release,
      cover,
      mergeOperator,
      skipCovered: skippable && cursor instanceof MergingCursor ? (seqno, to) => cursor.skipOlderThan(seqno, to) : undefined,
      prefetch: range.limit <= PREFETCH_MAX_LIMIT,
      ...(keyFilter === undefined ? {} : { keyFilter }),
      ...(resolver === undefined ? {} : { resolver }),
    });
  } catch (error) {
    release();
    throw error;
  }
}

/**
 * Calls `visit` with each visible entry of `range` at `readSeqno` as views (see ../iter/visible-scan.ts),
 * pinning `sv` for the scan's duration only: it is released however the scan ends, a throwing `visit`
 * included. Returns the entries visited.
 */
export function scanRange(sv: SuperVersion, range: KeyRange, readSeqno: number, options: ScanOptions, visit: ScanVisitor): number {
  if (range.limit === 0) return 0;
  const { comparator, keyFilter, mergeOperator, prefixProbe, resolver } = options;
  const release = sv.pin();
  let cursor: EntryCursor | undefined;
  try {
    const cover = scanCover(comparator, sv, range, readSeqno);
    const skippable = cover !== undefined && !range.reverse;
    const merging = mergedCursor(comparator, sv, range, skippable, prefixProbe);
    cursor = merging;
    return scanVisible(
      {
        comparator,
        cursor: merging,
        readSeqno,
        range,
        resolver: resolver ?? RAW_VALUES,
        keyFilter,
        cover,
        skipCovered: skippable && merging instanceof MergingCursor ? (seqno, to) => merging.skipOlderThan(seqno, to) : undefined,
        mergeOperator,
      },
      visit,
    );
  } finally {
    try {
      cursor?.close();
    } finally {
      release();
    }
  }
}
