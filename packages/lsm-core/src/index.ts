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
export { Fifo, Leveled, SizeTiered, type CompactionChoice, type CompactionStrategy } from "./compaction/strategies/index.ts";
export { BlockCache, FileDescriptorCache } from "./cache/index.ts";
export { codecByName, type CompressionCodec } from "./table/index.ts";
export {
  DeletionPause,
  LEVEL_COUNT,
  persistVersion,
  versionToRecord,
  type PauseGuard,
  type Version,
  type VersionRecord,
} from "./version/index.ts";
