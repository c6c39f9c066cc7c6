/**
 * Between the in-memory {@link Version} and its persisted {@link VersionRecord}. The version model only
 * knows ids, key bounds and sizes, so the caller supplies what the record needs of each table (global
 * seqno, file size and CRC) and, on recovery, the opened table for each record.
 *
 * @module
 */
import { corruption, LsmError } from "../errors.ts";
import type { Comparator } from "../key/comparator.ts";
import type { TableHandle } from "./run.ts";
import { Version, type BlobFileHandle } from "./version.ts";
import type { BlobFileRecord, VersionRecord, VersionTableRecord } from "./version-record.ts";

/** The record of `version`, runs in memory order (L0 newest first), tables in key order. */
export function versionToRecord<T extends TableHandle, B extends BlobFileHandle>(
  version: Version<T, B>,
  describeTable: (table: T) => VersionTableRecord,
  describeBlobFile: (blob: B) => BlobFileRecord = (blob) => {
    throw new RangeError(`no describeBlobFile given for blob file ${blob.id}`);
  },
): VersionRecord {
  return {
    id: version.id,
    treeKind: version.treeKind,
    comparatorName: version.comparator.name,
    levels: version.levels.map((level) => level.runs.map((run) => run.tables.map(describeTable))),
    blobFiles: version.blobFiles.map(describeBlobFile),
  };
}

/**
 * Rebuilds the version of `record` with the tables `resolveTable` opened (runs in persisted order, not
 * re-packed). Throws `COMPARATOR_MISMATCH` when the record was written under another comparator name,
 * before any table is resolved, and `CORRUPTION` naming `fileName` when the opened tables break a run's
 * invariants (their keys overlap although the file put them in one run).
 */
export function versionFromRecord<T extends TableHandle, B extends BlobFileHandle = BlobFileHandle>(
  record: VersionRecord,
  comparator: Comparator,
  fileName: string,
  resolveTable: (table: VersionTableRecord, level: number) => T,
  resolveBlobFile: (blob: BlobFileRecord) => B = (blob) => {
    throw new RangeError(`no resolveBlobFile given for blob file ${blob.id}`);
  },
): Version<T, B> {
  if (record.comparatorName !== comparator.name) {
    throw new LsmError(
      "COMPARATOR_MISMATCH",
      `${fileName} was written with comparator "${record.comparatorName}", opened with "${comparator.name}"`,
    );
  }
  const levels = record.levels.map((runs, level) => runs.map((tables) => tables.map((table) => resolveTable(table, level))));
  const blobFiles = record.blobFiles.map(resolveBlobFile);
  try {
    return Version.fromLevels<T, B>(record.id, record.treeKind, comparator, levels, blobFiles);
  } catch (error) {
    if (error instanceof RangeError) throw corruption(fileName, error.message);
    throw error;
  }
}
