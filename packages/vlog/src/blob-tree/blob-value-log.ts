/**
 * The {@link ValueLog} a blob tree hands to lsm-core: blob files in `<tree>/blobs/` in this package's
 * format, handles encoded as in ../handle.ts. lsm-core decides when to separate, which files a version
 * lists and when one is deleted; this decides how values are stored and read.
 *
 * Open files are cached (at most {@link MAX_OPEN_BLOB_FILES}, least recently used closed first): a read
 * is then one positional read of the record.
 *
 * @module
 */
import type { Fs } from "@talus/fs";
import type { BlobFileInfo, BlobReference, BlobWriter, ValueLog } from "@talus/lsm-core";
import { BlobFile, blobFilePath, MAX_BLOB_VALUE_BYTES, RotatingBlobWriter, type BlobFileMeta } from "../blob-file/index.ts";
import { decodeBlobHandle, encodeBlobHandle } from "../handle.ts";
import type { ResolvedKvSeparation } from "./options.ts";

/** The most blob files a {@link BlobValueLog} keeps open for reads; the least recently used one is closed beyond it. */
export const MAX_OPEN_BLOB_FILES = 128;

/**
 * The lsm-core `ValueLog` of a blob tree: writes values into blob files in `dir` (rotating at
 * `fileTargetSize`), reads them back by handle, and describes and verifies the files for recovery and
 * garbage collection. `BlobTree.open` makes one; build one yourself only to pass `valueLog` to `Tree.open`
 * directly, with every option given (no defaults are filled in, nothing is checked).
 *
 * @example
 * ```ts
 * import { StdFs } from "@talus/fs";
 * import { Tree } from "@talus/lsm-core";
 * import { BlobValueLog } from "@talus/vlog";
 *
 * const fs = new StdFs();
 * const valueLog = new BlobValueLog(fs, "/db/blobs", {
 *   separationThreshold: 1024,
 *   fileTargetSize: 64 * 1024 * 1024,
 *   stalenessThreshold: 0.25,
 *   ageCutoff: 0.25,
 *   compression: "none",
 * }, true); // true: read through memory maps, as BlobTree.open does unless `mapTables: false`
 * const tree = await Tree.open({ path: "/db", fs, valueLog }); // a blob tree, like BlobTree.open({ path: "/db" })
 * ```
 */
export class BlobValueLog implements ValueLog {
  readonly separationThreshold: number;
  readonly maxValueBytes = MAX_BLOB_VALUE_BYTES;
  readonly stalenessThreshold: number;
  readonly ageCutoff: number;
  /** The directory of the blob files (`<tree>/blobs`). */
  readonly dir: string;
  readonly #fs: Fs;
  readonly #options: ResolvedKvSeparation;
  /** Insertion order is recency order: a hit moves the file to the end. */
  readonly #open = new Map<number, BlobFile>();

  /** Whether reads go through memory maps of the blob files (the tree's `mapTables`). */
  readonly #mapFiles: boolean;

  constructor(fs: Fs, dir: string, options: ResolvedKvSeparation, mapFiles = false) {
    this.#fs = fs;
    this.#mapFiles = mapFiles;
    this.dir = dir;
    this.#options = options;
    this.separationThreshold = options.separationThreshold;
    this.stalenessThreshold = options.stalenessThreshold;
    this.ageCutoff = options.ageCutoff;
  }

  newWriter(nextId: () => number): BlobWriter {
    const writer = new RotatingBlobWriter(this.#fs, this.dir, { nextId, targetFileSize: this.#options.fileTargetSize, codec: this.#options.compression });
    // A job relocates the live records of a file in key order, the order they were written in: read
    // through a window per source file rather than one system call per record.
    const sources = new Map<number, ReturnType<BlobFile["sequentialReader"]>>();
    return {
      get bytesWritten() {
        return writer.bytesWritten;
      },
      add: (key, seqno, value) => encodeBlobHandle(writer.write(key, seqno, value)),
      relocate: (key, seqno, handle) => {
        const decoded = decodeBlobHandle(handle, "a relocated value's handle");
        let source = sources.get(decoded.blobFileId);
        if (source === undefined) {
          source = this.#file(decoded.blobFileId).sequentialReader();
          sources.set(decoded.blobFileId, source);
        }
        // A view into the window: copyRecord writes it out before the next read. The record keeps its
        // key and data checksum (verified as read); the seqno is the entry's (an ingested entry reads as
        // its global one).
        const stored = source.readStored(decoded, key);
        return encodeBlobHandle(writer.copyRecord({ ...stored, seqno }));
      },
      finish: async () => (await writer.finishAsync()).map(toInfo),
      abort: () => writer.abort(),
    };
  }

  read(key: Uint8Array, handle: Uint8Array): Uint8Array {
    const decoded = decodeBlobHandle(handle, "a table's value handle");
    return this.#file(decoded.blobFileId).read(decoded, key);
  }

  valueSize(handle: Uint8Array): number {
    return decodeBlobHandle(handle, "a table's value handle").uncompressedSize;
  }

  reference(handle: Uint8Array): BlobReference {
    const decoded = decodeBlobHandle(handle, "a table's value handle");
    return { blobFileId: decoded.blobFileId, valueBytes: decoded.uncompressedSize, storedBytes: decoded.storedSize };
  }

  describe(id: number): BlobFileInfo {
    return toInfo(this.#file(id).meta);
  }

  verifyFile(id: number): void {
    this.#file(id).verify();
  }

  forget(id: number): void {
    const file = this.#open.get(id);
    this.#open.delete(id);
    file?.close();
  }

  close(): void {
    for (const file of this.#open.values()) file.close();
    this.#open.clear();
  }

  #file(id: number): BlobFile {
    const cached = this.#open.get(id);
    if (cached !== undefined) {
      this.#open.delete(id);
      this.#open.set(id, cached);
      return cached;
    }
    const file = BlobFile.open(this.#fs, blobFilePath(this.dir, id), { expectedId: id, map: this.#mapFiles });
    this.#open.set(id, file);
    if (this.#open.size > MAX_OPEN_BLOB_FILES) {
      const [oldestId, oldest] = this.#open.entries().next().value as [number, BlobFile];
      this.#open.delete(oldestId);
      oldest.close();
    }
    return file;
  }
}

function toInfo(meta: BlobFileMeta): BlobFileInfo {
  return {
    id: meta.id,
    fileSize: meta.fileSize,
    fileChecksum: meta.fileChecksum,
    itemCount: meta.recordCount,
    valueBytes: meta.uncompressedBytes,
    storedBytes: meta.storedBytes,
  };
}
