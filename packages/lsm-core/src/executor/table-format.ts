/**
 * How a table is written, decided in one place for every thread: the main thread's flushes and
 * merges and a worker's jobs both turn a {@link JobTableFormat} (plain data a job can carry) into the
 * table writer's options here, which is what makes both executors write the same bytes.
 *
 * @module
 */
import type { Comparator } from "../key/comparator.ts";
import type { PrefixExtractor } from "../table/bloom-filter.ts";
import { codecByName, type TableWriterOptions } from "../table/index.ts";
import type { JobTableFormat } from "./merge-job.ts";

/**
 * Tables are synced in the background every this many bytes while being written (where the filesystem
 * has non-blocking syncs), so a finished 64 MiB table does not wait for all of it at its final sync.
 */
export const BACKGROUND_SYNC_BYTES = 4 * 1024 * 1024;

/** The per-level settings of the tree's options that a table of `level` (the policy level) is written with. */
export function tableFormatOf(
  o: { readonly blockSize: readonly number[]; readonly restartInterval: readonly number[]; readonly codec: readonly { readonly name: string }[]; readonly filterBitsPerKey: readonly number[] },
  level: number,
  createdAtMs?: number,
): JobTableFormat {
  return {
    blockSize: o.blockSize[level] as number,
    restartInterval: o.restartInterval[level] as number,
    codec: (o.codec[level] as { readonly name: string }).name,
    filterBitsPerKey: o.filterBitsPerKey[level] as number,
    backgroundSyncBytes: BACKGROUND_SYNC_BYTES,
    ...(createdAtMs === undefined ? {} : { createdAtMs }),
  };
}

/** What a table writer needs beyond the format: the tree's callbacks as this thread has them. */
export interface WriterCallbacks {
  readonly comparator: Comparator;
  readonly mergeOperatorName: string | undefined;
  readonly prefixExtractor: PrefixExtractor | undefined;
}

/** The writer options of table `tableId` in `format`. */
export function writerOptionsOf(format: JobTableFormat, tableId: number, callbacks: WriterCallbacks): TableWriterOptions {
  return {
    tableId,
    comparator: callbacks.comparator,
    blockSize: format.blockSize,
    restartInterval: format.restartInterval,
    codec: codecByName(format.codec),
    filterBitsPerKey: format.filterBitsPerKey,
    backgroundSyncBytes: format.backgroundSyncBytes,
    ...(format.createdAtMs === undefined ? {} : { createdAtMs: format.createdAtMs }),
    ...(callbacks.mergeOperatorName === undefined ? {} : { mergeOperator: callbacks.mergeOperatorName }),
    ...(callbacks.prefixExtractor === undefined ? {} : { prefixExtractor: callbacks.prefixExtractor }),
  };
}
