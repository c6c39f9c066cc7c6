/**
 * `kvSeparation`: how a {@link BlobTree} separates values, with the reference engine's defaults.
 *
 * @module
 */
import { MAX_TABLE_VALUE_BYTES } from "@talus/lsm-core";
import { DEFAULT_BLOB_FILE_SIZE } from "../blob-file/index.ts";
import type { BlobCodecName } from "../blob-file/index.ts";

/**
 * The `kvSeparation` option of {@link BlobTree.open}: which values go to blob files, how big the files get,
 * when their garbage is collected and whether values are compressed. Every field is optional.
 *
 * @example
 * ```ts
 * const tree = await BlobTree.open({
 *   path: "/photos",
 *   kvSeparation: { separationThreshold: 4096, stalenessThreshold: 0.5, compression: "lz4" },
 * });
 * ```
 */
export interface KvSeparationOptions {
  /** Values of at least this many bytes go to blob files (default 1024). */
  readonly separationThreshold?: number;
  /** A blob file is finished once it reaches this size (default 64 MiB). */
  readonly fileTargetSize?: number;
  /**
   * A blob file with at least this fraction of its value bytes garbage is stale: merge compactions
   * relocate its live values (default 0.25).
   */
  readonly stalenessThreshold?: number;
  /** The oldest fraction of a compaction's stale candidates it relocates, rounded up (default 0.25). */
  readonly ageCutoff?: number;
  /** Blob value compression: `"none"` (default) or `"lz4"`, tried per value, kept only when smaller. */
  readonly compression?: BlobCodecName;
}

export interface ResolvedKvSeparation {
  readonly separationThreshold: number;
  readonly fileTargetSize: number;
  readonly stalenessThreshold: number;
  readonly ageCutoff: number;
  readonly compression: BlobCodecName;
}

/** Default {@link KvSeparationOptions.separationThreshold}: values of 1 KiB or more are separated. */
export const DEFAULT_SEPARATION_THRESHOLD = 1024;
/** Default {@link KvSeparationOptions.stalenessThreshold}: a blob file a quarter garbage is stale. */
export const DEFAULT_STALENESS_THRESHOLD = 0.25;
/** Default {@link KvSeparationOptions.ageCutoff}: a compaction relocates the oldest quarter of its stale candidates. */
export const DEFAULT_AGE_CUTOFF = 0.25;

/** Fills in defaults and validates; a bad option throws `TypeError` / `RangeError` before anything is opened. */
export function resolveKvSeparation(options: KvSeparationOptions | undefined): ResolvedKvSeparation {
  const o = options ?? {};
  if (typeof o !== "object" || o === null) throw new TypeError("kvSeparation must be an object");
  const threshold = o.separationThreshold ?? DEFAULT_SEPARATION_THRESHOLD;
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > MAX_TABLE_VALUE_BYTES) {
    throw new RangeError(`kvSeparation.separationThreshold must be an integer in 1..${MAX_TABLE_VALUE_BYTES}, got ${String(threshold)}`);
  }
  const fileTargetSize = o.fileTargetSize ?? DEFAULT_BLOB_FILE_SIZE;
  if (!Number.isSafeInteger(fileTargetSize) || fileTargetSize < 1) throw new RangeError(`kvSeparation.fileTargetSize must be a positive integer, got ${String(fileTargetSize)}`);
  const fraction = (name: string, value: unknown): number => {
    if (typeof value !== "number" || !(value > 0 && value <= 1)) throw new RangeError(`kvSeparation.${name} must be a number in (0, 1], got ${String(value)}`);
    return value;
  };
  const compression = o.compression ?? "none";
  if (compression !== "none" && compression !== "lz4") throw new RangeError(`kvSeparation.compression must be "none" or "lz4", got ${String(compression)}`);
  return {
    separationThreshold: threshold,
    fileTargetSize,
    stalenessThreshold: fraction("stalenessThreshold", o.stalenessThreshold ?? DEFAULT_STALENESS_THRESHOLD),
    ageCutoff: fraction("ageCutoff", o.ageCutoff ?? DEFAULT_AGE_CUTOFF),
    compression,
  };
}
