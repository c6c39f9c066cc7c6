/**
 * Versions: the immutable in-memory model of which tables form the tree (levels → runs → tables), its
 * persisted form (`v<id>` files and the `current` pointer), the crash-safe publication of a new
 * version, the open-time classification of a tree directory, and the {@link DeletionPause}.
 *
 * @module
 */
export { Run, lowerBound, type TableHandle } from "./run.ts";
export { Level, optimizeRuns } from "./level.ts";
export { LEVEL_COUNT, Version, type BlobFileHandle, type TreeKind } from "./version.ts";
export {
  VERSION_FILE_FORMAT,
  VERSION_FILE_MAGIC,
  decodeVersionRecord,
  encodeVersionRecord,
  type BlobFileRecord,
  type VersionRecord,
  type VersionTableRecord,
} from "./version-record.ts";
export { versionFromRecord, versionToRecord } from "./record-mapping.ts";
export {
  CURRENT_FILE_NAME,
  CURRENT_FORMAT,
  CURRENT_MAGIC,
  CURRENT_TMP_PREFIX,
  decodeCurrent,
  encodeCurrent,
  readCurrent,
  writeCurrent,
  type CurrentPointer,
  type PointerProgress,
} from "./current.ts";
export {
  loadLatestVersion,
  parseVersionFileName,
  persistVersion,
  persistVersionAsync,
  versionFileChecksum,
  versionFileName,
  type LoadedVersion,
  type PersistedVersion,
} from "./persist.ts";
export {
  BLOBS_DIR_NAME,
  JOURNAL_DIR_NAME,
  TABLES_DIR_NAME,
  classifyTreeDir,
  listVersionFiles,
  removeStaleVersionFiles,
  type TreeDirState,
  type VersionFileEntry,
} from "./tree-dir.ts";
export { DeletionPause, type DeletionPauseOptions, type PauseGuard } from "./deletion-pause.ts";
export { joinPath, removeQuietly } from "./file-io.ts";
