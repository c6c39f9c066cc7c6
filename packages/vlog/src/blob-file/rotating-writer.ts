/**
 * Writes a stream of values into as many blob files as it takes: a new file is started once the current
 * one reaches the target size, so a flush of a large memtable (or a garbage-collection pass) produces
 * files of a bounded size that can later be collected one by one. A blob tree writes into
 * `<tree>/blobs/`, taking ids from the tree's own id counter.
 *
 * @module
 */
import type { Fs } from "@talus/fs";
import type { BlobHandle } from "../handle.ts";
import { BlobFileWriter, checkBlobRecordArguments, checkStoredBlob, type StoredBlob } from "./blob-writer.ts";
import type { BlobCodecName } from "./codecs.ts";
import type { BlobFileMeta } from "./footer.ts";

/** Default {@link RotatingBlobWriterOptions.targetFileSize}: 64 MiB. */
export const DEFAULT_BLOB_FILE_SIZE = 64 * 1024 * 1024;

/** Options of a {@link RotatingBlobWriter}. */
export interface RotatingBlobWriterOptions {
  /**
   * Hands out the id of each new file, called when the file's first record arrives (never for a file
   * that would stay empty). Ids must be unused in the directory: a file is created exclusively.
   */
  readonly nextId: () => number;
  /**
   * A file is finished once it holds at least this many bytes, and the next record starts a new one.
   * Records are never split, so a file exceeds it by up to one record. Default {@link DEFAULT_BLOB_FILE_SIZE}.
   */
  readonly targetFileSize?: number;
  /** Codec tried on every value; default `"none"`. */
  readonly codec?: BlobCodecName;
}

/** The path of blob file `id` in `directory`: `<directory>/<id>`, in decimal. */
export function blobFilePath(directory: string, id: number): string {
  return directory.endsWith("/") || directory.endsWith("\\") ? `${directory}${id}` : `${directory}/${id}`;
}

/**
 * Writes values into blob files in one directory, rotating to a new file at a target size.
 *
 * Files are created lazily and finished (synced) as they fill; `finish()` finishes the last one, syncs
 * the directory once, and returns every file written, in order. Any failure of the filesystem fails the
 * whole writer, since handles already given out may point into the file that failed: `abort()` then
 * removes every file it wrote. Bad arguments throw `TypeError` / `RangeError` and change nothing.
 *
 * @example
 * ```ts
 * let id = 0;
 * const blobs = new RotatingBlobWriter(fs, "/db/blobs", { nextId: () => ++id, targetFileSize: 8 << 20, codec: "lz4" });
 * const handles = values.map(([key, value]) => blobs.write(key, seqno, value));
 * const files = blobs.finish(); // BlobFileMeta of /db/blobs/1, /db/blobs/2, ...; all durable
 * ```
 */
export class RotatingBlobWriter {
  /** The directory the blob files are created in (`<dir>/<id>`). */
  readonly directory: string;
  readonly #fs: Fs;
  readonly #options: RotatingBlobWriterOptions;
  readonly #target: number;
  #current: BlobFileWriter | undefined;
  readonly #finished: BlobFileMeta[] = [];
  #state: "open" | "finishing" | "failed" | "finished" | "aborted" = "open";

  /** `directory` must exist. */
  constructor(fs: Fs, directory: string, options: RotatingBlobWriterOptions) {
    const target = options.targetFileSize ?? DEFAULT_BLOB_FILE_SIZE;
    if (!Number.isSafeInteger(target) || target < 1) throw new RangeError(`targetFileSize must be a positive integer, got ${target}`);
    if (typeof options.nextId !== "function") throw new TypeError("nextId must be a function returning the id of the next blob file");
    this.directory = directory;
    this.#fs = fs;
    this.#options = options;
    this.#target = target;
  }

  /** The files finished so far (full ones rotated away from; after `finish()`, all of them). */
  get finishedFiles(): readonly BlobFileMeta[] {
    return this.#finished;
  }

  /** Bytes written so far: the finished files whole, the current one without its footer. */
  get bytesWritten(): number {
    return this.#finished.reduce((sum, meta) => sum + meta.fileSize, 0) + (this.#current?.bytesWritten ?? 0);
  }

  /** Appends a record for `key`'s version `seqno` holding `value`; returns its handle. */
  write(key: Uint8Array, seqno: number, value: Uint8Array): BlobHandle {
    checkBlobRecordArguments(key, seqno, value);
    return this.#run((writer) => writer.add(key, seqno, value));
  }

  /** Appends a record copied from another blob file, without recompressing when possible (see {@link BlobFileWriter.copyRecord}). */
  copyRecord(record: StoredBlob): BlobHandle {
    checkStoredBlob(record);
    return this.#run((writer) => writer.copyRecord(record));
  }

  /**
   * Finishes the current file (or removes it, if it ended up empty), syncs the directory when any file
   * was written, and returns every file written, in the order written.
   */
  finish(): BlobFileMeta[] {
    this.#checkOpen();
    try {
      this.#finishCurrent();
      if (this.#finished.length > 0) this.#fs.syncDirectory(this.directory);
    } catch (error) {
      this.#state = "failed";
      throw error;
    }
    this.#state = "finished";
    return [...this.#finished];
  }

  /** {@link finish} with non-blocking syncs where the filesystem offers them. */
  async finishAsync(): Promise<BlobFileMeta[]> {
    this.#checkOpen();
    // No write may slip in while the last file is being synced.
    this.#state = "finishing";
    try {
      const current = this.#current;
      if (current !== undefined) {
        if (current.recordCount === 0) current.abort();
        else this.#finished.push(await current.finishAsync());
        this.#current = undefined;
      }
      if (this.#finished.length > 0) {
        const fs = this.#fs;
        if (fs.syncDirectoryAsync !== undefined) await fs.syncDirectoryAsync(this.directory);
        else fs.syncDirectory(this.directory);
      }
    } catch (error) {
      this.#state = "failed";
      throw error;
    }
    this.#state = "finished";
    return [...this.#finished];
  }

  /**
   * Removes every file this writer wrote (none of them can be referenced yet: the caller publishes them
   * only after `finish()`). A no-op once finished or aborted.
   */
  abort(): void {
    if (this.#state === "finished" || this.#state === "aborted") return;
    if (this.#state === "finishing") throw new Error(`RotatingBlobWriter for ${this.directory} is finishing; abort() it after finishAsync() settles`);
    this.#state = "aborted";
    const current = this.#current;
    this.#current = undefined;
    let firstError: unknown;
    try {
      current?.abort();
    } catch (error) {
      firstError = error;
    }
    for (const meta of this.#finished.splice(0)) {
      try {
        this.#fs.removeFile(blobFilePath(this.directory, meta.id));
      } catch (error) {
        if ((error as { code?: unknown }).code !== "ENOENT") firstError ??= error;
      }
    }
    if (firstError !== undefined) throw firstError;
  }

  /** Runs `append` on the current file (starting one if needed), then rotates if it is full. */
  #run(append: (writer: BlobFileWriter) => BlobHandle): BlobHandle {
    this.#checkOpen();
    try {
      const writer = (this.#current ??= this.#open());
      const handle = append(writer);
      if (writer.estimatedSize >= this.#target) this.#finishCurrent();
      return handle;
    } catch (error) {
      // Arguments were checked before: whatever threw here was the filesystem (or nextId).
      this.#state = "failed";
      throw error;
    }
  }

  #open(): BlobFileWriter {
    const id = this.#options.nextId();
    const codec = this.#options.codec;
    return new BlobFileWriter(this.#fs, blobFilePath(this.directory, id), codec === undefined ? { blobFileId: id } : { blobFileId: id, codec });
  }

  /** Finishes the current file, or removes it if it ended up empty. On failure it stays current, for abort(). */
  #finishCurrent(): void {
    const current = this.#current;
    if (current === undefined) return;
    if (current.recordCount === 0) current.abort();
    else this.#finished.push(current.finish());
    this.#current = undefined;
  }

  #checkOpen(): void {
    if (this.#state === "open") return;
    const why = this.#state === "failed" ? "failed (a write, sync or nextId() threw); abort() it" : this.#state;
    throw new Error(`RotatingBlobWriter for ${this.directory} is ${why}`);
  }
}
