/**
 * The public `Tree`: an LSM tree with MVCC reads at caller-given sequence numbers.
 *
 * Writes and reads are synchronous; flush, compaction, drop, clear and close are async jobs that run
 * alongside them. Without a journal a write is durable once flushed: after a crash everything flushed
 * is there and nothing else. With one (`journal`), a write is durable once a `persist()` made after it
 * resolved. Without `maintenance` the caller flushes and compacts; with it the tree does (./maintenance.ts).
 *
 * @module
 */
import type { TreeVersion } from "./tree-version.ts";
import { LsmError } from "../errors.ts";
import type { Fs } from "@talus/fs";
import { assertSeqno, SEQNO_MAX, type SequenceNumberCounter } from "../seqno.ts";
import { MAX_KEY_BYTES, toKey, toValue, type Bytes } from "../key/validate.ts";
import { MAX_BLOCK_BYTES } from "../table/index.ts";
import { ValueKind } from "../key/value-kind.ts";
import { isBytewise } from "../key/comparator.ts";
import { copyBytes } from "../key/copy.ts";
import { WriteBatch } from "../batch/write-batch.ts";
import type { MergeOperator } from "../merge/merge-operator.ts";
import { scanPrefix } from "../prefix/prefix-extractor.ts";
import { Ingestion } from "./ingestion.ts";
import { startsWith } from "../key/bytewise.ts";
import { planBatch } from "../batch/plan.ts";
import { UNBOUNDED } from "../range-tombstone/fragments.ts";
import { FULL_RANGE, normalizeRange, prefixSuccessor, type KeyRange, type RangeOptions } from "../iter/bounds.ts";
import type { VisibleRangeIterator } from "../iter/visible-range.ts";
import { dropRangeChoice, majorCompaction, type CompactionStrategy } from "../compaction/strategies/index.ts";
import { DeletionPause, type Version } from "../version/index.ts";
import { MAX_TABLE_VALUE_BYTES, resolveOptions, type TreeOptions } from "./options.ts";
import { lockTreeDirs, type DirLock } from "./dir-lock.ts";
import { openVersion, publishVersion } from "./recovery.ts";
import { clear, executeChoice, flush, type CompactionResult } from "./jobs.ts";
import { PointReader, rangeIterator, scanRange, type ScanOptions } from "./reads.ts";
import { blobResolver, KEYS_ONLY } from "../separation/resolvers.ts";
import { isStale, staleBlobBytes } from "./blob-usage.ts";
import type { ValueResolver } from "../iter/visible-range.ts";
import type { ValueLog } from "../separation/value-log.ts";
import type { TableFile } from "./table-file.ts";
import { TableStore } from "./table-store.ts";
import { TreeState } from "./tree-state.ts";
import { Maintenance } from "./maintenance.ts";
import { JournalSet } from "./journal-set.ts";
import { SnapshotList, type Snapshot } from "./snapshots.ts";
import type { SuperVersion } from "./super-version.ts";
import type { Memtable } from "../memtable/index.ts";

export type { CompactionResult } from "./jobs.ts";
export type { Snapshot } from "./snapshots.ts";

/** How {@link Tree.close} ends the tree. */
export interface CloseOptions {
  /**
   * Drop what the memtables hold instead of flushing it (the writes since the last flush are lost,
   * unless a journal has them). Default false: a clean close loses no write.
   */
  readonly discard?: boolean;
}

export { MAX_TABLE_VALUE_BYTES } from "./options.ts";

/** An iterable of `[key, value]` pairs that releases what it holds when the loop ends or breaks. */
export type EntryIterator = VisibleRangeIterator;

/**
 * An LSM tree.
 *
 * @example
 * ```ts
 * import { MemFs } from "@talus/fs";
 * import { SequenceNumberCounter, Tree, Leveled } from "@talus/lsm-core";
 *
 * const seqno = new SequenceNumberCounter();
 * const tree = await Tree.open({ path: "/db", fs: new MemFs(), seqno });
 * tree.insert("hello", "world", seqno.next());
 * tree.get("hello", seqno.get()); // Uint8Array of "world"
 * await tree.flushActiveMemtable(0);
 * await tree.compact(new Leveled(), 0);
 * for (const [key, value] of tree.range({ gte: "a" }, seqno.get())) console.log(key, value);
 * await tree.close();
 * ```
 */
export class Tree {
  readonly #state: TreeState;
  readonly #reader: PointReader;
  /** A blob tree's: reads resolve indirections through the value log. */
  readonly #resolver: ValueResolver | undefined;
  /** The `LOCK` files of the tree's directory and its level-route directories, held until close. */
  readonly #dirLock: DirLock;
  readonly #snapshots = new SnapshotList();
  /** Automatic flushes and compactions, when the tree was opened with `maintenance`. */
  readonly #maintenance: Maintenance | undefined;
  #closing: Promise<void> | undefined;

  private constructor(state: TreeState, dirLock: DirLock) {
    this.#state = state;
    this.#dirLock = dirLock;
    const maintenance = state.options.maintenance;
    this.#maintenance =
      maintenance === undefined
        ? undefined
        : new Maintenance(
            {
              state,
              watermark: () => this.#gcWatermark(),
              flush: (watermark) => flush(state, watermark),
              compactStep: (strategy, watermark) => this.#compactStep(strategy, watermark),
            },
            maintenance,
          );
    this.#maintenance?.start();
    this.#reader = new PointReader(state.options.comparator, state.options.mergeOperator, state.options.valueLog);
    this.#resolver = state.options.valueLog === undefined ? undefined : blobResolver(state.options.valueLog);
  }

  /**
   * Opens the tree at `options.path`, creating it if the directory is missing or empty. First of all
   * it locks `<path>/LOCK` and `<route.path>/LOCK` of every level route: a directory open in another
   * tree (in this process or another) is refused with `LsmError("LOCKED")` before anything is read or
   * cleaned. The locks are held until {@link close}.
   */
  static async open(options: TreeOptions): Promise<Tree> {
    const resolved = resolveOptions(options);
    const dirLock = lockTreeDirs(resolved);
    try {
      const pause = new DeletionPause();
      const store = new TableStore(resolved, pause);
      const kind = resolved.valueLog === undefined ? "standard" : "blob";
      const { version, journalFloor } = openVersion(store, kind);
      const state = new TreeState(resolved, kind, store, pause, version);
      // Writes a journal holds that no table does yet go back into the first memtable.
      const { journal, replay } = JournalSet.open(resolved.fs, resolved.path, journalFloor, resolved.journal, state.latest.active, resolved.readOnly);
      state.journal = journal;
      // Writers that reopen with fresh counters must not write below what is already on disk.
      let highest = replay.maxSeqno ?? -1;
      for (const table of version.tables()) highest = Math.max(highest, table.maxSeqno);
      resolved.seqno.fetchMax(highest + 1);
      resolved.visibleSeqno.fetchMax(highest + 1);
      return new Tree(state, dirLock);
    } catch (error) {
      dirLock.release();
      throw error;
    }
  }

  // ---- writes (synchronous) -------------------------------------------------------------------

  /** Writes `value` under `key` at `seqno`. Returns the active memtable's approximate size in bytes. */
  insert(key: Bytes, value: Bytes, seqno: number): number {
    return this.#write(toKey(key), ValueKind.Value, toValue(value), seqno);
  }

  /** Deletes `key` at `seqno`: hides every older version. */
  remove(key: Bytes, seqno: number): number {
    return this.#write(toKey(key), ValueKind.Tombstone, EMPTY, seqno);
  }

  /**
   * Deletes `key` at `seqno` with a weak tombstone ("single delete"): reads treat it as a deletion, and
   * compaction annihilates it with the value directly under it, so older versions may resurface. Only
   * for keys written once.
   */
  removeWeak(key: Bytes, seqno: number): number {
    return this.#write(toKey(key), ValueKind.WeakTombstone, EMPTY, seqno);
  }

  /**
   * Adds a merge operand for `key` at `seqno`. Reads combine the operands with the value under them
   * through the tree's `mergeOperator` (see {@link MergeOperator}); without one they return the newest
   * operand as stored.
   */
  merge(key: Bytes, operand: Bytes, seqno: number): number {
    return this.#write(toKey(key), ValueKind.MergeOperand, toValue(operand, "operand"), seqno);
  }

  /**
   * Deletes every key `k` with `start <= k < end` (by the tree's comparator) as of `seqno`: a range
   * tombstone. Reads at seqnos above `seqno` no longer see the versions below it; a key written again
   * later (with a higher seqno) is visible. `start >= end` deletes nothing. Returns the active
   * memtable's approximate size in bytes.
   *
   * @example
   * ```ts
   * tree.removeRange("user:1:", "user:1;", seqno.next()); // every key of user 1
   * ```
   */
  removeRange(start: Bytes, end: Bytes, seqno: number): number {
    const s = toKey(start, "start");
    const e = toKey(end, "end");
    assertSeqno(seqno);
    this.#checkWritable();
    const active = this.#state.latest.active;
    if (this.#state.options.comparator.compare(s, e) < 0) {
      this.#state.journal?.writer?.appendRange(seqno, s, e);
      active.insertRangeTombstone(s, e, seqno);
    }
    return this.#wrote(active);
  }

  /**
   * Deletes every key that starts with `prefix` as of `seqno` (one range tombstone up to the prefix's
   * bytewise successor; an all-0xff prefix deletes to the end of the key space). Only for trees in
   * bytewise order: under a custom comparator the keys of a prefix need not form one range, so this
   * throws `TypeError` there (use `removeRange`).
   */
  removePrefix(prefix: Bytes, seqno: number): number {
    const p = toKey(prefix, "prefix");
    assertSeqno(seqno);
    if (!isBytewise(this.#state.options.comparator)) {
      throw new TypeError("removePrefix needs a tree in bytewise order: under a custom comparator the keys of a prefix are not one range (use removeRange)");
    }
    this.#checkWritable();
    const active = this.#state.latest.active;
    const end = prefixSuccessor(p) ?? UNBOUNDED;
    this.#state.journal?.writer?.appendRange(seqno, p, end);
    active.insertRangeTombstone(p, end, seqno);
    return this.#wrote(active);
  }

  /**
   * Applies every operation of `batch` at `seqno`, all visible together (see {@link WriteBatch}).
   * Everything is checked first: a key named by operations of different kinds throws `LsmError`
   * `MIXED_OPERATION_BATCH`, a value too large for a table throws `RangeError`, and then nothing is
   * applied. An empty batch is a no-op. Returns the active memtable's approximate size in bytes.
   */
  applyBatch(batch: WriteBatch, seqno: number): number {
    if (!(batch instanceof WriteBatch)) throw new TypeError("applyBatch needs a WriteBatch");
    assertSeqno(seqno);
    this.#checkWritable();
    const plan = planBatch(batch, this.#state.options.comparator);
    for (const op of plan.points) this.#checkValue(op.kind, op.value);
    if (plan.points.length + plan.ranges.length === 0) return this.#state.latest.active.approximateSize();
    // One journal record: replay applies the batch whole or not at all.
    this.#state.journal?.writer?.appendGroup(seqno, plan.points, plan.ranges);
    const active = this.#state.latest.active;
    // From here nothing throws and nothing yields: the batch lands whole.
    for (const op of plan.points) active.insert(op.key, seqno, op.kind, op.value);
    for (const op of plan.ranges) active.insertRangeTombstone(op.start, op.end, seqno);
    return this.#wrote(active);
  }

  /** For every change of the tree: open, and not opened `readOnly`. */
  #checkWritable(): void {
    this.#state.checkOpen();
    if (this.#state.options.readOnly) throw new LsmError("READ_ONLY", `${this.#state.options.path} is open readOnly`);
  }

  /** After a write into `active`: its size, and the maintenance's chance to seal it. */
  #wrote(active: Memtable): number {
    const size = active.approximateSize();
    this.#maintenance?.afterWrite(size);
    return size;
  }

  #checkValue(kind: ValueKind, value: Uint8Array): void {
    checkValue(this.#state.options.valueLog, kind, value);
  }

  #write(key: Uint8Array, kind: ValueKind, value: Uint8Array, seqno: number): number {
    assertSeqno(seqno);
    this.#checkValue(kind, value);
    this.#checkWritable();
    // Journaled first: a write the journal refuses (it failed) is not applied either.
    this.#state.journal?.writer?.appendPoint(seqno, kind, key, value);
    const active = this.#state.latest.active;
    active.insert(key, seqno, kind, value);
    return this.#wrote(active);
  }

  // ---- reads (synchronous) --------------------------------------------------------------------

  /** The value of `key` as of `seqno` (entries with seqno `< seqno`), or undefined. */
  get(key: Bytes, seqno: number): Uint8Array | undefined {
    const k = toKey(key);
    assertSeqno(seqno);
    this.#state.checkOpen();
    return this.#reader.get(this.#state.history.forRead(seqno), k, seqno);
  }

  /** Whether `key` has a value as of `seqno`; answered like `sizeOf`, so a separated value is not read. */
  containsKey(key: Bytes, seqno: number): boolean {
    return this.sizeOf(key, seqno) !== undefined;
  }

  /** The length of the value of `key`, or undefined. */
  sizeOf(key: Bytes, seqno: number): number | undefined {
    const k = toKey(key);
    assertSeqno(seqno);
    this.#state.checkOpen();
    return this.#reader.sizeOf(this.#state.history.forRead(seqno), k, seqno);
  }

  /**
   * `get` for many keys against one snapshot. The data blocks the lookups need from table files that are
   * not memory-mapped (`mapTables: false`, or a filesystem without maps) and not in the block cache are
   * read first in one batch per filesystem (`Fs.readMany`: one submission on `IoUringFs`); the answers
   * are those of a loop of `get`.
   */
  multiGet(keys: readonly Bytes[], seqno: number): Array<Uint8Array | undefined> {
    const ks = keys.map((k) => toKey(k));
    assertSeqno(seqno);
    this.#state.checkOpen();
    const sv = this.#state.history.forRead(seqno);
    return this.#reader.multiGet(sv, ks, seqno);
  }

  /** Every visible entry in key order. */
  iter(seqno: number, options?: { reverse?: boolean; limit?: number }): EntryIterator {
    return this.range(options ?? {}, seqno);
  }

  /** The visible entries within `bounds` (`gt`, `gte`, `lt`, `lte`, `reverse`, `limit`). */
  range(bounds: RangeOptions, seqno: number): EntryIterator {
    const range = normalizeRange(this.#state.options.comparator, bounds);
    assertSeqno(seqno);
    this.#state.checkOpen();
    return rangeIterator(this.#state.history.forRead(seqno), range, seqno, this.#rangeScanOptions(range));
  }

  /**
   * Calls `visit(key, value)` once for each visible entry within `bounds`, in the order `range(bounds,
   * seqno)` yields them, and returns how many it visited. The scan stops early when `visit` returns
   * `false` or after `bounds.limit` entries. Everything else is as with `range`: the same entries (MVCC at
   * `seqno`, deletions, range tombstones, merge operands merged, a blob tree's values read from its blob
   * files), the same errors for bad bounds or seqno, `CLOSED` once the tree is closed.
   *
   * This is the fast way to read many entries: it copies nothing per entry. `key` and `value` are views of
   * the tree's own memory (memtables, decoded table blocks, buffers the scan reuses), valid only while
   * `visit` runs. Reading them after `visit` returns is undefined behaviour: their bytes may have changed
   * or been reused for another entry. To keep one, copy it inside `visit` (`key.slice()`). Writing into
   * them corrupts what later reads return. `range`, `iter` and `prefix` never hand out views: every key and
   * value they yield is a copy of the caller's.
   *
   * The scan holds its snapshot only while it runs. An error thrown by `visit` ends the scan, releases
   * what it held and propagates to the caller.
   *
   * @example
   * ```ts
   * // Sums the value lengths under "user:" without copying an entry.
   * let bytes = 0;
   * tree.scan({ gte: "user:", lt: "user;" }, seqno.get(), (_key, value) => {
   *   bytes += value.length;
   * });
   *
   * // Keeps the first 10 keys: copies, because the views die with the call.
   * const keys: Uint8Array[] = [];
   * tree.scan({ limit: 10 }, seqno.get(), (key) => {
   *   keys.push(key.slice());
   * });
   * ```
   */
  scan(bounds: RangeOptions, seqno: number, visit: (key: Uint8Array, value: Uint8Array) => boolean | void): number {
    const range = normalizeRange(this.#state.options.comparator, bounds);
    assertSeqno(seqno);
    if (typeof visit !== "function") throw new TypeError("scan needs a visit function");
    this.#state.checkOpen();
    return scanRange(this.#state.history.forRead(seqno), range, seqno, this.#rangeScanOptions(range), visit);
  }

  /** How `range` and `scan` read `range`: its prefix, if the extractor finds one, picks the tables to read. */
  #rangeScanOptions(range: KeyRange): ScanOptions {
    const o = this.#state.options;
    const prefixProbe = o.prefixExtractor === undefined ? undefined : scanPrefix(o.prefixExtractor, range.lower, range.upper);
    return { comparator: o.comparator, mergeOperator: o.mergeOperator, prefixProbe, resolver: this.#resolver };
  }

  /**
   * The visible entries whose key starts with `prefix` (bytewise). Under the bytewise order these form
   * one key range; under a custom comparator they need not, so the scan filters every key.
   */
  prefix(prefix: Bytes, seqno: number, options?: { reverse?: boolean; limit?: number }): EntryIterator {
    const p = copyBytes(toKey(prefix, "prefix"));
    const comparator = this.#state.options.comparator;
    if (!isBytewise(comparator)) {
      const range = normalizeRange(comparator, options ?? {});
      assertSeqno(seqno);
      this.#state.checkOpen();
      const o = this.#state.options;
      return rangeIterator(this.#state.history.forRead(seqno), range, seqno, {
        comparator,
        keyFilter: (key) => startsWith(key, p),
        mergeOperator: o.mergeOperator,
        prefixProbe: o.prefixExtractor?.extract(p),
        resolver: this.#resolver,
      });
    }
    const upper = prefixSuccessor(p);
    const bounds: RangeOptions = upper === undefined ? { gte: p, ...options } : { gte: p, lt: upper, ...options };
    const range = normalizeRange(comparator, bounds);
    assertSeqno(seqno);
    this.#state.checkOpen();
    const o = this.#state.options;
    // Every key starting with `p` starts with (so extracts) the extractor's prefix of `p`.
    const prefixProbe = o.prefixExtractor?.extract(p);
    return rangeIterator(this.#state.history.forRead(seqno), range, seqno, { comparator, mergeOperator: o.mergeOperator, prefixProbe, resolver: this.#resolver });
  }

  /** The smallest key visible at `seqno` and its value, or undefined when nothing is visible. */
  firstKeyValue(seqno: number): [Uint8Array, Uint8Array] | undefined {
    return first(this.range({ limit: 1 }, seqno));
  }

  /** The largest key visible at `seqno` and its value, or undefined when nothing is visible. */
  lastKeyValue(seqno: number): [Uint8Array, Uint8Array] | undefined {
    return first(this.range({ reverse: true, limit: 1 }, seqno));
  }

  /** Counts visible entries (a full scan). */
  len(seqno: number): number {
    assertSeqno(seqno);
    this.#state.checkOpen();
    const o = this.#state.options;
    // Counting needs no values: a blob tree's separated values are not read.
    const resolver = this.#resolver === undefined ? undefined : KEYS_ONLY;
    let n = 0;
    for (const _ of rangeIterator(this.#state.history.forRead(seqno), FULL_RANGE, seqno, { comparator: o.comparator, mergeOperator: o.mergeOperator, resolver })) n++;
    return n;
  }

  /** Whether no key is visible at `seqno` (reads at most one entry). */
  isEmpty(seqno: number): boolean {
    return this.firstKeyValue(seqno) === undefined;
  }

  // ---- structure ------------------------------------------------------------------------------

  /** Seals the active memtable behind a fresh one (no seqno consumed). False if it was empty. */
  rotateMemtable(): boolean {
    this.#checkWritable();
    return this.#state.rotate();
  }

  /**
   * Seals the active memtable and writes every sealed memtable into L0 tables, dropping versions shadowed
   * below `evictionSeqno` (0 keeps every version). Resolves to the flushed bytes (0: nothing to flush).
   */
  flushActiveMemtable(evictionSeqno: number): Promise<number> {
    assertSeqno(evictionSeqno, "evictionSeqno");
    this.#checkWritable();
    // Sealed here, at the call: writes after it go to a fresh memtable, not into the one being flushed.
    this.#state.rotate();
    return this.#state.track(flush(this.#state, evictionSeqno));
  }

  /**
   * Starts a bulk load: entries written in key order straight into new tables, all made visible at once
   * by `finish()` with one new seqno above everything written before (see {@link Ingestion}).
   */
  ingestion(): Ingestion {
    this.#checkWritable();
    return new Ingestion(this.#state, (value) => this.#checkValue(ValueKind.Value, value));
  }

  /** Runs one compaction step chosen by `strategy`, with GC watermark `seqnoThreshold`. */
  compact(strategy: CompactionStrategy, seqnoThreshold: number): Promise<CompactionResult> {
    assertSeqno(seqnoThreshold, "seqnoThreshold");
    this.#checkWritable();
    if (typeof strategy?.choose !== "function") throw new TypeError("compact needs a compaction strategy (Leveled, SizeTiered, Fifo)");
    return this.#state.track(this.#compactStep(strategy, seqnoThreshold));
  }

  /** One compaction step chosen by `strategy` now, for a job already accepted (not checked, not tracked). */
  #compactStep(strategy: CompactionStrategy, seqnoThreshold: number): Promise<CompactionResult> {
    const state = this.#state;
    const version = state.latest.version;
    const blobBytes = version.blobFiles.reduce((sum, blob) => sum + blob.info.storedBytes, 0);
    const choice = strategy.choose(version, { busy: state.busy, nowMs: Date.now(), blobBytes });
    return executeChoice(state, choice, seqnoThreshold);
  }

  /** Merges every table into the last level, in tables of `targetSize` bytes. */
  majorCompact(targetSize: number, seqnoThreshold: number): Promise<CompactionResult> {
    if (!Number.isInteger(targetSize) && targetSize !== Number.POSITIVE_INFINITY) throw new RangeError("targetSize must be an integer or Infinity");
    if (targetSize < 1) throw new RangeError("targetSize must be positive");
    return this.#state.track(this.#majorCompact(targetSize, seqnoThreshold));
  }

  async #majorCompact(targetSize: number, seqnoThreshold: number): Promise<CompactionResult> {
    const first = await this.compact(majorCompaction(targetSize), seqnoThreshold);
    const log = this.#state.options.valueLog;
    if (log === undefined || first.action !== "merged") return first;
    // What this pass dropped is known only now: blob files it left stale are relocated by a second
    // pass, so one major compaction leaves no stale blob file. The second pass rewrites only tables
    // (small: they hold handles) besides the live values it moves. It is part of this job, accepted
    // before any close() began, so it runs even once close() has (which waits for it): not through
    // compact(), which refuses new work then.
    const version = this.#state.latest.version;
    if (!version.blobFiles.some((blob) => isStale(version, blob, log.stalenessThreshold))) return first;
    const second = await this.#compactStep(majorCompaction(targetSize), seqnoThreshold);
    return second.action === "merged" ? { ...second, tablesIn: first.tablesIn } : first;
  }

  /** Drops every table whose whole key range lies within `bounds` (memtables and partly covered tables stay). */
  dropRange(bounds: RangeOptions): Promise<CompactionResult> {
    const range = normalizeRange(this.#state.options.comparator, bounds);
    this.#checkWritable();
    const state = this.#state;
    const choice = dropRangeChoice(state.latest.version, range, state.options.comparator, state.busy);
    return state.track(executeChoice(state, choice, 0));
  }

  /** Removes everything: memtables and tables. Reads at seqnos from before the clear still see the old data. */
  clear(): Promise<void> {
    this.#checkWritable();
    return this.#state.track(clear(this.#state));
  }

  /**
   * Refuses new work, waits for running jobs, flushes what the memtables hold (unless `discard`), then
   * releases files, and last the directory locks. A clean close loses no write. Idempotent (later calls
   * return the first call's promise, whatever their options); every other call afterwards throws
   * `CLOSED`. If the final flush fails, the tree is closed all the same and the error is rethrown: the
   * unflushed writes are lost (unless a journal has them).
   *
   * @example
   * ```ts
   * await tree.close(); // everything written is in tables now
   * await other.close({ discard: true }); // the memtables' contents are dropped
   * ```
   */
  close(options?: CloseOptions): Promise<void> {
    this.#closing ??= this.#close(options?.discard === true);
    return this.#closing;
  }

  async #close(discard: boolean): Promise<void> {
    const state = this.#state;
    let flushError: { readonly error: unknown } | undefined;
    try {
      state.closing = true;
      this.#maintenance?.stop();
      while (state.jobs.size > 0) await Promise.allSettled([...state.jobs]);
      // A read-only tree changes nothing, not even at close: what it replayed stays in the journal.
      if (!discard && !state.options.readOnly) {
        try {
          state.rotate();
          await flush(state, 0);
        } catch (error) {
          flushError = { error };
        }
      }
      const current = state.latest.version;
      // Even when the flush failed: the journal then is what still has those writes.
      try {
        await state.journal?.close(!discard && flushError === undefined && !state.options.readOnly);
      } catch (error) {
        flushError ??= { error };
      }
      state.history.retireAll();
      state.chunkPool.clear();
      for (const table of current.tables()) table.closeReader();
      await state.pause.idle();
      await state.journal?.idle();
      state.options.valueLog?.close();
      state.closed = true;
    } finally {
      // Last: until every job, reader and deferred deletion is done, the directory is still ours.
      this.#dirLock.release();
    }
    if (flushError !== undefined) throw flushError.error;
  }

  /**
   * Resolves when every write made before the call is durable. With a journal: its group commit (one
   * fsync shared by every caller waiting at that moment; none with `journal: { sync: "none" }`, which
   * only hands the writes to the operating system). Without one: a flush of the memtables.
   *
   * @example
   * ```ts
   * tree.insert("order:17", payload, seqno.next());
   * await tree.persist(); // now it survives a crash
   * ```
   */
  persist(): Promise<void> {
    const state = this.#state;
    try {
      this.#checkWritable();
    } catch (error) {
      return Promise.reject(error);
    }
    if (state.journal?.writer !== undefined) return state.track(state.journal.persist());
    state.rotate();
    return state.track(flush(state, 0)).then(() => undefined);
  }

  // ---- snapshots and automatic maintenance ----------------------------------------------------

  /**
   * A snapshot of the tree as of now: reads at `snapshot.seqno` keep their answers while it is held,
   * whatever flushes and compactions the automatic maintenance runs (its GC watermark never passes the
   * oldest live snapshot). `release()` it when done (or `using`); one dropped without `release()` stops
   * pinning once garbage-collected. Trees driven by hand keep passing their own watermarks: a snapshot
   * changes nothing for them.
   *
   * @example
   * ```ts
   * using snapshot = tree.snapshot();
   * for (const [key, value] of tree.range({ gte: "a" }, snapshot.seqno)) console.log(key, value);
   * ```
   */
  snapshot(): Snapshot {
    this.#state.checkOpen();
    return this.#snapshots.take(this.#currentSeqno());
  }

  /**
   * Whether writers should wait for {@link drained} before writing more: sealed memtables or L0 runs
   * have piled up past the maintenance's thresholds. Writes are never refused; a writer that honours
   * this keeps memory bounded. Always false without `maintenance`.
   */
  get writeStall(): boolean {
    return this.#maintenance?.writeStall ?? false;
  }

  /**
   * Resolves once the pile-up behind {@link writeStall} has gone (sealed memtables flushed, L0 below
   * `l0SlowdownRuns`), at once when there is none or without `maintenance`. Rejects with a background
   * flush's or compaction's error.
   *
   * @example
   * ```ts
   * tree.insert(key, value, seqno.next());
   * if (tree.writeStall) await tree.drained();
   * ```
   */
  drained(): Promise<void> {
    return this.#maintenance?.drained() ?? Promise.resolve();
  }

  /**
   * Resolves when no flush or compaction is pending or running: with `maintenance`, once its strategy
   * has nothing left to do; without, once every job started by hand has finished. For tests,
   * benchmarks and graceful shutdown. Rejects with the first background error since the last report.
   */
  async settle(): Promise<void> {
    if (this.#maintenance !== undefined) return this.#maintenance.settle();
    while (this.#state.jobs.size > 0) await Promise.allSettled([...this.#state.jobs]);
  }

  /** The GC watermark of automatic maintenance: the oldest live snapshot, else what reads see now. */
  #gcWatermark(): number {
    const current = this.#currentSeqno();
    const oldest = this.#snapshots.oldest();
    return oldest === undefined ? current : Math.min(oldest, current);
  }

  /** The seqno a read sees everything at: past every seqno the tree's counters have handed out. */
  #currentSeqno(): number {
    const o = this.#state.options;
    return Math.max(o.seqno.get(), o.visibleSeqno.get());
  }

  // ---- introspection --------------------------------------------------------------------------

  /** Tables in the current version, all levels. */
  tableCount(): number {
    return this.#version().tableCount;
  }

  /** Tables in `level` (0..6), or undefined for a level that does not exist. */
  levelTableCount(level: number): number | undefined {
    return Number.isInteger(level) && level >= 0 && level < 7 ? this.#version().levelTableCount(level) : undefined;
  }

  /** Sorted runs in L0 of the current version: each flush adds one, compactions merge them; maintenance stalls writers by this count. */
  l0RunCount(): number {
    return this.#version().l0RunCount;
  }

  /** Blob files in the current version (a blob tree's value log; 0 for a standard tree). */
  blobFileCount(): number {
    return this.#version().blobFiles.length;
  }

  /** Stored bytes of blob files that no table references any more (garbage; 0 for a standard tree). */
  staleBlobBytes(): number {
    return staleBlobBytes(this.#version());
  }

  /** Entries in memtables plus entries in tables (old versions and tombstones included). */
  approximateLen(): number {
    const latest = this.#latest();
    let n = latest.active.entryCount();
    for (const m of latest.sealed) n += m.entryCount();
    for (const t of latest.version.tables()) n += t.table.meta.entryCount;
    return n;
  }

  /** Bytes of the current version's table files and, for a blob tree, its blob files. */
  diskSpace(): number {
    const version = this.#version();
    let n = 0;
    for (const t of version.tables()) n += t.size;
    for (const blob of version.blobFiles) n += blob.size;
    return n;
  }

  /** Sealed memtables waiting for a flush. */
  sealedMemtableCount(): number {
    return this.#latest().sealed.length;
  }

  /** The highest seqno in memtables or tables, or undefined for an empty tree. */
  highestSeqno(): number | undefined {
    const latest = this.#latest();
    let highest = -1;
    for (const m of [latest.active, ...latest.sealed]) highest = Math.max(highest, m.highestSeqno() ?? -1);
    for (const t of latest.version.tables()) highest = Math.max(highest, t.maxSeqno);
    return highest < 0 ? undefined : highest;
  }

  /** Checks every table file end to end (checksums, structure); throws `CORRUPTION` naming the file. */
  verify(): void {
    this.#state.checkOpen();
    const version = this.#version();
    for (const t of version.tables()) t.table.verify();
    const log = this.#state.options.valueLog;
    if (log !== undefined) for (const blob of version.blobFiles) log.verifyFile(blob.id);
  }

  /** The tree's directory. */
  get path(): string {
    return this.#state.options.path;
  }

  /** The filesystem of the tree's directory (version files, and tables of levels without a route). */
  get fs(): Fs {
    return this.#state.options.fs;
  }

  /** The counter version changes take their stamps from. */
  get seqnoCounter(): SequenceNumberCounter {
    return this.#state.options.seqno;
  }

  /** The visible watermark version changes raise; what "everything published so far" means to readers. */
  get visibleSeqnoCounter(): SequenceNumberCounter {
    return this.#state.options.visibleSeqno;
  }

  /**
   * Writes `version` (normally a captured {@link currentVersion}) into `dir` on `fs` as a version file
   * plus `current`, from memory: nothing is read from the tree's own version files, which a concurrent
   * change may replace. The tables must be placed into `dir/tables/` by the caller, first.
   */
  writeVersionInto(fs: Fs, dir: string, version: TreeVersion): void {
    publishVersion(fs, dir, version);
  }

  /** The tree's deletion pause: while a guard is held, obsolete files are kept (checkpoints use it). */
  get deletionPause(): DeletionPause {
    return this.#state.pause;
  }

  /** The current version (tables by level). For checkpoints and tools; treat as read-only. */
  currentVersion(): TreeVersion {
    return this.#version();
  }

  #version(): TreeVersion {
    return this.#latest().version;
  }

  /** The newest super version, for introspection: refused with CLOSED once the tree is closed. */
  #latest(): SuperVersion {
    this.#state.checkNotClosed();
    return this.#state.latest;
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Refused at the write, not at flush: a memtable holding an unwritable entry would fail every flush after.
 * A blob tree takes values up to what its value log holds (they are separated when written out); merge
 * operands always stay in tables.
 */
function checkValue(log: ValueLog | undefined, kind: ValueKind, value: Uint8Array): void {
  if (log !== undefined && kind === ValueKind.Value) {
    if (value.length > log.maxValueBytes) throw new RangeError(`a value of ${value.length} bytes is larger than a blob file holds (${log.maxValueBytes})`);
    return;
  }
  if (value.length > MAX_TABLE_VALUE_BYTES) {
    throw new RangeError(`a value of ${value.length} bytes is larger than a table holds (${MAX_TABLE_VALUE_BYTES}); store it in a blob tree`);
  }
}

function first(it: EntryIterator): [Uint8Array, Uint8Array] | undefined {
  const result = it.next();
  it.return();
  return result.done === true ? undefined : result.value;
}

export { SEQNO_MAX, LsmError };
