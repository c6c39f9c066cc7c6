/**
 * `@talus/lsm-core`: the Talus LSM-tree engine.
 *
 * Start with {@link Tree}: `Tree.open({ path })`, then synchronous `insert` / `get` / `range` at sequence
 * numbers, and async `flushActiveMemtable` / `compact` / `close`.
 *
 * @module
 */
export { LsmError, type LsmErrorCode } from "./errors.ts";
export { SEQNO_MAX, SequenceNumberCounter } from "./seqno.ts";
export { BYTEWISE_COMPARATOR, type Comparator } from "./key/comparator.ts";
export { MAX_KEY_BYTES, MAX_VALUE_BYTES, type Bytes } from "./key/validate.ts";
export { copyForCaller } from "./key/copy.ts";
export { ValueKind } from "./key/value-kind.ts";
export type { RangeOptions } from "./iter/bounds.ts";
export { WriteBatch, type BatchOperation } from "./batch/write-batch.ts";
export { appendMerge, counterMerge, type MergeOperator } from "./merge/merge-operator.ts";
export type { PrefixExtractor } from "./prefix/prefix-extractor.ts";
export { fromModule, type WorkerExport } from "./executor/worker-export.ts";
export { Ingestion, type IngestionResult } from "./tree/ingestion.ts";
export type { CompactionFilter, CompactionFilterItem, CompactionFilterRun, CompactionVerdict } from "./compaction/compaction-filter.ts";
export { BLOBS_DIR_NAME } from "./version/index.ts";
export { readTreeKind } from "./version/read-tree-kind.ts";
export type { TreeKind } from "./version/version.ts";
export { MAX_TABLE_VALUE_BYTES, Tree, type CloseOptions, type CompactionResult, type EntryIterator, type Snapshot } from "./tree/tree.ts";
export type { MaintenanceOptions } from "./tree/maintenance.ts";
export { JOURNAL_DIR_NAME, type JournalOptions } from "./tree/journal-set.ts";
export * from "./journal/index.ts";
export type { LevelRoute, PerLevel, TreeOptions } from "./tree/options.ts";
export type { BlobFileInfo, BlobReference, BlobWriter, ValueLog } from "./separation/value-log.ts";
export type { TableFile } from "./tree/table-file.ts";
export {
  Fifo,
  Leveled,
  SizeTiered,
  type CompactionChoice,
  type CompactionContext,
  type CompactionStrategy,
  type CompactionTable,
  type DropChoice,
  type MergeChoice,
  type MoveChoice,
  type NothingChoice,
} from "./compaction/strategies/index.ts";
/** Options of {@link Fifo} compaction: the size limit and optional TTL under which it drops the oldest L0 tables. */
export type { FifoOptions } from "./compaction/strategies/index.ts";
/** Options of {@link Leveled} compaction (each optional, with the default it names). */
export type { LeveledOptions } from "./compaction/strategies/index.ts";
/**
 * {@link LeveledOptions} with every default filled in: what a {@link Leveled} strategy runs with (its `options`).
 *
 * @property l0Threshold - L0 table count at which L0 is merged into L1.
 * @property tableTargetSize - Output table size in bytes.
 * @property levelRatio - Growth factor from L(n) to L(n+1), from L1→L2 on; the last value repeats.
 * @property dynamicLevelBytes - Whether levels are sized from the actual size of the last one.
 * @property multiLevel - Whether L0 and an over-target L1 merge straight into L2 in one job.
 */
export type { ResolvedLeveledOptions } from "./compaction/strategies/index.ts";
/** Options of {@link SizeTiered} compaction (each optional, with the default it names). */
export type { SizeTieredOptions } from "./compaction/strategies/index.ts";
/**
 * {@link SizeTieredOptions} with every default filled in: what a {@link SizeTiered} strategy runs with (its `options`).
 *
 * @property sizeRatio - Two runs are similar when `larger / smaller <= 1 + sizeRatio`.
 * @property minMergeWidth - Fewest similar runs worth a merge.
 * @property maxMergeWidth - Most runs merged at once (`Infinity` for no cap).
 * @property maxSpaceAmplificationPercent - Space amplification at which every run is merged (`Infinity`: never).
 * @property tableTargetSize - Output table size in bytes.
 */
export type { ResolvedSizeTieredOptions } from "./compaction/strategies/index.ts";
export { BlockCache, FileDescriptorCache } from "./cache/index.ts";
export { codecByName, type CompressionCodec } from "./table/index.ts";
/**
 * The open reader of one table file (a {@link TableFile}'s `table`): its metadata, range tombstones, filter
 * probes and `verify()`. Reads go through the tree ({@link Tree.get}, {@link Tree.range}), which merges
 * every table with the memtables at a seqno.
 *
 * @property path - The table file's path.
 * @property meta - What the table's properties block and footer say (entry counts, key range, seqnos, sizes).
 * @property tableId - The table's id (`meta.tableId`).
 */
export { Table } from "./table/index.ts";
export { READ_AHEAD_BYTES } from "./table/table.ts";
export type { TableBlobReference, TableMeta } from "./table/meta.ts";
export {
  DeletionPause,
  LEVEL_COUNT,
  type Level,
  type Run,
  persistVersion,
  versionToRecord,
  type BlobFileHandle,
  type BlobFileRecord,
  type PauseGuard,
  type PersistedVersion,
  type TableHandle,
  type Version,
  type VersionRecord,
  type VersionTableRecord,
  versionFileChecksum,
} from "./version/index.ts";
/** Options of a {@link DeletionPause}: where the failures of its deferred file removals are reported. */
export type { DeletionPauseOptions } from "./version/index.ts";
/**
 * The iterator `range`, `iter` and `prefix` return (an {@link EntryIterator}): `[key, value]` pairs, copies,
 * in key order (or reversed), visible at the read seqno.
 *
 * @property next - The next visible entry, or `done` once the range is exhausted.
 */
export type { VisibleRangeIterator } from "./iter/visible-range.ts";
export type { Fragment } from "./range-tombstone/fragments.ts";
/** The version type of a tree ({@link Tree.currentVersion}): its tables are {@link TableFile}s, its blob files {@link BlobFile}s. */
export type { TreeVersion } from "./tree/tree-version.ts";
/**
 * A blob file as a blob tree's version holds it: what the value log told of it, how much of it is garbage, and
 * how many snapshots still reference it (deleted once obsolete and unreferenced).
 *
 * @property id - The blob file's id, unique in its tree (also its file name).
 * @property info - What the value log reported when the file was written.
 * @property fs - The filesystem the file is on.
 * @property path - The file's path.
 * @property ref - Takes a reference: the file is not deleted until it is given back.
 * @property unref - Gives a reference back; the last one of an obsolete file deletes it.
 * @property isDeleted - Whether the file has been deleted (obsolete and unreferenced).
 */
export type { BlobFile } from "./tree/blob-file.ts";
