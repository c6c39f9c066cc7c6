/**
 * Opening a tree directory: create a new tree, or recover the one that is there.
 *
 * Recovery reads `current` and the version it names, finds every table that version lists in the
 * tables folders (the tree's own and every routed one), opens each and checks it is the file the version
 * recorded (size and checksum), then deletes what no version references: orphan tables left by a crash
 * between writing a table and publishing the version that names it, and stale version files.
 *
 * A directory without `current` that may hold data is refused (`INVALID_DATA`), never overwritten: a
 * half-written checkpoint, or a tree whose pointer was lost. Only the leftovers of an interrupted
 * creation, which cannot hold data (see `classifyTreeDir`), are removed and the tree created again.
 *
 * @module
 */
import type { TreeVersion } from "./tree-version.ts";
import { hasCode, type Fs } from "@talus/fs";
import { corruption, LsmError } from "../errors.ts";
import {
  classifyTreeDir,
  joinPath,
  loadLatestVersion,
  persistVersion,
  removeQuietly,
  removeStaleVersionFiles,
  Version,
  versionFromRecord,
  versionToRecord,
  type BlobFileRecord,
  type TreeKind,
  type VersionTableRecord,
} from "../version/index.ts";
import type { TablesFolder, TableStore } from "./table-store.ts";
import type { TableFile } from "./table-file.ts";
import type { BlobFile } from "./blob-file.ts";
import { dirname } from "node:path";

/** What `describeTable` writes for a table in a version file. */
export function tableRecord(table: TableFile): VersionTableRecord {
  return { id: table.id, globalSeqno: table.globalSeqno, fileSize: table.size, fileChecksum: table.table.meta.fileChecksum };
}

/** What a version file lists of a blob file. */
export function blobFileRecord(blob: BlobFile): BlobFileRecord {
  return { id: blob.id, fileSize: blob.info.fileSize, fileChecksum: blob.info.fileChecksum };
}

/** Writes `version` as the tree's new version file and points `current` at it. */
export function publishVersion(fs: Fs, dir: string, version: TreeVersion): void {
  persistVersion(fs, dir, versionToRecord(version, tableRecord, blobFileRecord));
}

/** What opening a tree directory found: its current version, and the journal floor that version records. */
export interface OpenedVersion {
  readonly version: TreeVersion;
  /** Journal files numbered below this are flushed (0: none known to be). */
  readonly journalFloor: number;
}

/** Opens (creating if needed) the tree in `store.options.path` and returns its current version. */
export function openVersion(store: TableStore, treeKind: TreeKind): OpenedVersion {
  const { fs, path, comparator, readOnly } = store.options;
  const state = classifyTreeDir(fs, path);
  if (state !== "tree") {
    if (readOnly) throw new LsmError("INVALID_DATA", `${path} holds no tree (opened readOnly, nothing is created)`);
    if (state === "interrupted") discardInterruptedCreation(store);
    return { version: createTree(store, treeKind), journalFloor: 0 };
  }
  const loaded = loadLatestVersion(fs, path);
  if (loaded === undefined) throw new LsmError("INVALID_DATA", `${path}: \`current\` disappeared while opening`);
  const { record } = loaded;
  if (record.treeKind !== treeKind) {
    throw new LsmError("UNRECOVERABLE", `${path} holds a ${record.treeKind} tree; it cannot be opened as a ${treeKind} tree`);
  }
  if (record.comparatorName !== comparator.name) {
    throw new LsmError("COMPARATOR_MISMATCH", `${path} was written with comparator "${record.comparatorName}", opened with "${comparator.name}"`);
  }

  const wanted = new Map<number, number>();
  record.levels.forEach((runs, level) => runs.forEach((tables) => tables.forEach((t) => wanted.set(t.id, level))));
  const found = new Map<number, TablesFolder>();
  const orphans: Array<{ folder: TablesFolder; name: string }> = [];
  let maxId = -1;
  for (const folder of store.allFolders()) {
    // Read-only: a missing folder holds no table (reportMissing names what the version lacks).
    if (readOnly) {
      if (!folder.fs.exists(folder.dir)) continue;
    } else {
      ensureFolder(folder);
    }
    for (const entry of folder.fs.readDir(folder.dir)) {
      const id = parseTableFileName(entry.fileName);
      // Directories and foreign files are not ours to judge: leave them alone.
      if (entry.isDir || id === undefined) continue;
      maxId = Math.max(maxId, id);
      if (wanted.has(id) && !found.has(id)) found.set(id, folder);
      else if (!wanted.has(id)) orphans.push({ folder, name: entry.fileName });
    }
  }
  reportMissing(store, wanted, found, path);

  const blobs = store.blobs?.recover(record.blobFiles, readOnly) ?? new Map<number, BlobFile>();
  if (store.blobs === undefined && record.blobFiles.length > 0) throw new LsmError("UNRECOVERABLE", `${path} lists blob files but is not a blob tree`);
  const opened: TableFile[] = [];
  let version: TreeVersion;
  try {
    version = versionFromRecord<TableFile, BlobFile>(record, comparator, loaded.path, (t, level) => {
      const table = store.open(t.id, found.get(t.id) as TablesFolder, level);
      opened.push(table);
      if (t.globalSeqno > 0) table.setGlobalSeqno(t.globalSeqno);
      if (table.size !== t.fileSize || table.table.meta.fileChecksum !== t.fileChecksum) {
        throw corruption(table.path, `the file does not match the version (size ${table.size}, expected ${t.fileSize}; checksum differs: ${table.table.meta.fileChecksum !== t.fileChecksum})`);
      }
      return table;
    }, (b) => blobs.get(b.id) as BlobFile);
  } catch (error) {
    for (const table of opened) table.closeReader();
    throw error;
  }

  if (!readOnly) {
    for (const { folder, name } of orphans) removeQuietly(folder.fs, joinPath(folder.dir, name));
    removeStaleVersionFiles(fs, path, record.id);
  }
  store.nextTableId = maxId + 1;
  return { version, journalFloor: record.journalFloor ?? 0 };
}

function createTree(store: TableStore, treeKind: TreeKind): TreeVersion {
  const { fs, path, comparator } = store.options;
  fs.createDirAll(path);
  syncParent(fs, path);
  // The version and `current` come first: once `current` exists this is a tree, and recovery creates
  // any missing tables folder. The other order would leave `tables/` without `current` after a crash,
  // which open must refuse.
  const version = Version.empty<TableFile, BlobFile>(treeKind, comparator, 0);
  publishVersion(fs, path, version);
  for (const folder of store.allFolders()) ensureFolder(folder);
  store.blobs?.recover([]);
  store.nextTableId = 0;
  return version;
}

/**
 * Removes what a creation cut short by a crash left (`v0`, temp pointers), so that creating the tree
 * again can write `v0` afresh (exclusive create). Tree.open never resolved on that directory, so no
 * write was ever acknowledged; `classifyTreeDir` has checked the tree directory holds nothing else of
 * ours. Level-route folders are checked here, being the only ones that know them: creation makes them
 * after `current`, so a table file in one is data of some tree, and the directory stays refused.
 * The removals need no sync of their own: until the new `v0` and `current` are durable, a crash leaves
 * an interrupted creation again.
 */
function discardInterruptedCreation(store: TableStore): void {
  const { fs, path } = store.options;
  for (const folder of store.allFolders()) {
    if (!folder.fs.exists(folder.dir)) continue;
    const tables = folder.fs.readDir(folder.dir).filter((entry) => !entry.isDir && parseTableFileName(entry.fileName) !== undefined);
    if (tables.length > 0) {
      throw new LsmError(
        "INVALID_DATA",
        `${path}: the \`current\` pointer is missing, and ${folder.dir} holds table files (${tables.map((e) => e.fileName).join(", ")}); ` +
          "refusing to create a tree over them: delete them (or restore the tree's `current`) and retry.",
      );
    }
  }
  // No version is kept: every version file and temp pointer goes.
  removeStaleVersionFiles(fs, path, -1);
}

function ensureFolder(folder: TablesFolder): void {
  if (folder.fs.exists(folder.dir)) return;
  folder.fs.createDirAll(folder.dir);
  folder.fs.syncDirectory(folder.dir);
  syncParent(folder.fs, folder.dir);
}

function syncParent(fs: Fs, path: string): void {
  const parent = dirname(path);
  if (parent === path) return;
  try {
    fs.syncDirectory(parent);
  } catch (error) {
    // A parent we may not open (e.g. EACCES on a shared directory) cannot be synced by anyone.
    if (!hasCode(error, "EACCES") && !hasCode(error, "EPERM")) throw error;
  }
}

function reportMissing(store: TableStore, wanted: Map<number, number>, found: Map<number, TablesFolder>, path: string): void {
  const missing = [...wanted].filter(([id]) => !found.has(id));
  if (missing.length === 0) return;
  const list = missing.map(([id, level]) => `${id} (L${level})`).join(", ");
  const folders = store.allFolders().map((f) => f.dir).join(", ");
  const routes = store.options.routes;
  const uncovered = missing.every(([, level]) => !routes.some((r) => level >= r.levels[0] && level < r.levels[1]));
  if (routes.length > 0 && uncovered) {
    throw new LsmError("ROUTE_MISMATCH", `${path}: tables ${list} are in none of ${folders}; were the level routes changed since the tree was written?`);
  }
  throw new LsmError("UNRECOVERABLE", `${path}: tables ${list} listed by the current version are missing from ${folders}`);
}

/** Table files are named by their decimal id, nothing else. */
function parseTableFileName(name: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(name)) return undefined;
  const id = Number(name);
  return Number.isSafeInteger(id) ? id : undefined;
}
