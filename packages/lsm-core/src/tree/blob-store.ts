/**
 * Where a blob tree's blob files live (`<path>/blobs/<id>`, always under the tree's own directory: level
 * routes move tables, not blobs), their ids, and turning what a {@link ValueLog} wrote or describes into
 * {@link BlobFile}s the versions list.
 *
 * @module
 */
import { hasCode } from "@talus/fs";
import { corruption, LsmError } from "../errors.ts";
import type { BlobFileInfo, BlobWriter, ValueLog } from "../separation/value-log.ts";
import { BLOBS_DIR_NAME, joinPath, removeQuietly, type BlobFileRecord, type DeletionPause } from "../version/index.ts";
import { BlobFile } from "./blob-file.ts";
import type { ResolvedOptions } from "./options.ts";

export class BlobStore {
  readonly log: ValueLog;
  readonly dir: string;
  readonly #options: ResolvedOptions;
  readonly #pause: DeletionPause;
  #nextId = 0;

  constructor(options: ResolvedOptions, pause: DeletionPause, log: ValueLog) {
    this.#options = options;
    this.#pause = pause;
    this.log = log;
    this.dir = joinPath(options.path, BLOBS_DIR_NAME);
  }

  /** A writer for one job's blob files (ids from this store). */
  newWriter(): BlobWriter {
    return this.log.newWriter(() => this.#nextId++);
  }

  /** The files a finished writer made, as the version lists them. */
  adopt(infos: readonly BlobFileInfo[]): BlobFile[] {
    return infos.map((info) => this.#file(info));
  }

  /**
   * Recovery: makes sure the folder exists, opens every blob file `records` lists (checking it is the
   * file recorded), removes the files no record names (orphans of a job that never got installed), and
   * sets the next id past every id seen.
   */
  recover(records: readonly BlobFileRecord[], readOnly = false): Map<number, BlobFile> {
    const { fs } = this.#options;
    if (readOnly && !fs.exists(this.dir)) {
      if (records.length > 0) throw new LsmError("UNRECOVERABLE", `${this.#options.path}: the current version lists blob files but ${this.dir} is missing`);
      return new Map();
    }
    if (!fs.exists(this.dir)) {
      fs.createDirAll(this.dir);
      fs.syncDirectory(this.dir);
      fs.syncDirectory(this.#options.path);
    }
    const wanted = new Map(records.map((r) => [r.id, r]));
    let maxId = -1;
    const seen = new Set<number>();
    for (const entry of fs.readDir(this.dir)) {
      const id = parseBlobFileName(entry.fileName);
      if (entry.isDir || id === undefined) continue;
      maxId = Math.max(maxId, id);
      seen.add(id);
    }
    const missing = records.filter((r) => !seen.has(r.id)).map((r) => r.id);
    if (missing.length > 0) {
      const paths = missing.map((id) => this.#pathOf(id)).join(", ");
      throw new LsmError("UNRECOVERABLE", `${this.#options.path}: the current version lists ${missing.length === 1 ? "a blob file that is" : "blob files that are"} missing: ${paths}`);
    }
    const out = new Map<number, BlobFile>();
    for (const record of records) {
      let info: BlobFileInfo;
      try {
        info = this.log.describe(record.id);
      } catch (error) {
        if (hasCode(error, "ENOENT")) throw new LsmError("UNRECOVERABLE", `blob file ${this.#pathOf(record.id)} listed by the current version is missing`);
        throw error;
      }
      if (info.fileSize !== record.fileSize || info.fileChecksum !== record.fileChecksum) {
        throw corruption(this.#pathOf(record.id), `the blob file does not match the version (size ${info.fileSize}, expected ${record.fileSize}; checksum differs: ${info.fileChecksum !== record.fileChecksum})`);
      }
      out.set(record.id, this.#file(info));
    }
    if (!readOnly) for (const id of seen) if (!wanted.has(id)) removeQuietly(fs, this.#pathOf(id));
    this.#nextId = maxId + 1;
    return out;
  }

  #file(info: BlobFileInfo): BlobFile {
    return new BlobFile(info, this.#options.fs, this.#pathOf(info.id), this.#pause, this.log);
  }

  #pathOf(id: number): string {
    return joinPath(this.dir, String(id));
  }
}

/** Blob files are named by their decimal id, like tables. */
function parseBlobFileName(name: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(name)) return undefined;
  const id = Number(name);
  return Number.isSafeInteger(id) ? id : undefined;
}
