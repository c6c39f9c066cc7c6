/**
 * A blob tree's garbage accounting, derived from the version rather than kept beside it: every table
 * records in its meta block what its indirections reference in each blob file (../table/meta.ts, tag
 * 25), so a blob file's live part is the sum over the tables of the version, and the rest of it is
 * garbage (values overwritten, deleted, filtered, merged or relocated, and records no table ever
 * referenced). Derived, the map cannot drift from the tables, needs no version-file field, and needs no
 * callback from each place that drops an entry (compaction, filters, FIFO, drop range, clear).
 *
 * @module
 */
import { addBlobReference, type BlobReferenceSums, type TableBlobReference } from "../table/meta.ts";
import type { BlobFile, BlobGarbage } from "./blob-file.ts";
import type { TreeVersion } from "./tree-version.ts";

type Live = ReadonlyMap<number, TableBlobReference>;

const liveByVersion = new WeakMap<TreeVersion, Live>();

/** What the tables of `version` reference, per blob file id (memoized: versions are immutable). */
export function liveBlobReferences(version: TreeVersion): Live {
  let live = liveByVersion.get(version);
  if (live !== undefined) return live;
  const sums: BlobReferenceSums = new Map();
  for (const table of version.tables()) {
    for (const ref of table.table.meta.blobReferences) addBlobReference(sums, ref.blobFileId, ref.count, ref.valueBytes, ref.storedBytes);
  }
  live = sums;
  liveByVersion.set(version, live);
  return live;
}

/** The part of `blob` no table of `version` references. */
export function blobGarbage(version: TreeVersion, blob: BlobFile): BlobGarbage {
  const live = liveBlobReferences(version).get(blob.id);
  const { itemCount, valueBytes, storedBytes } = blob.info;
  return {
    count: Math.max(0, itemCount - (live?.count ?? 0)),
    valueBytes: Math.max(0, valueBytes - (live?.valueBytes ?? 0)),
    storedBytes: Math.max(0, storedBytes - (live?.storedBytes ?? 0)),
  };
}

/** Stored bytes of blob files that no table of `version` references any more. */
export function staleBlobBytes(version: TreeVersion): number {
  let sum = 0;
  for (const blob of version.blobFiles) sum += blobGarbage(version, blob).storedBytes;
  return sum;
}

/** Blob files no table of `version` references: nothing can read them through this version. */
export function deadBlobFiles(version: TreeVersion): BlobFile[] {
  const live = liveBlobReferences(version);
  return version.blobFiles.filter((blob) => (live.get(blob.id)?.count ?? 0) === 0);
}

/**
 * Whether `blob` is stale in `version`: at least `threshold` of its value bytes are garbage (and not all
 * of it: a dead file is simply dropped).
 */
export function isStale(version: TreeVersion, blob: BlobFile, threshold: number): boolean {
  const total = blob.info.valueBytes;
  if (total === 0) return false;
  const garbage = blobGarbage(version, blob).valueBytes;
  return garbage < total && garbage / total >= threshold;
}
