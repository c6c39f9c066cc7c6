/**
 * Writes one blob file, record after record, through an `Fs`:
 *
 * ```
 * +-------------+----------+-----+--------------+------------------------+
 * | file header | record 0 | ... | record n-1   | footer (properties, tail) |
 * +-------------+----------+-----+--------------+------------------------+
 *   12 B          ./format.ts                      ./footer.ts
 * ```
 *
 * Records go through a 256 KiB buffer (a value at least half that size is written straight from the
 * caller's bytes instead of being copied), and the footer's file checksum, the CRC-32 of the file header
 * and of every record header in order, is computed on the way (each record header carries its record's
 * data CRC, so the checksum stands for every byte without a second pass over the values). `finish()` writes the footer, syncs and closes the file; making
 * its directory entry durable is the caller's job ({@link RotatingBlobWriter} syncs the directory once
 * for all its files). Until `finish()` returns, the file has no footer and every reader refuses it: a
 * crash mid-write leaves a torn file, never a short one that reads as whole.
 *
 * @module
 */
import type { Fs, FsFile } from "@talus/fs";
import { BYTEWISE_COMPARATOR, type CompressionCodec } from "@talus/lsm-core";
import { checksum } from "../coding/checksum.ts";
import type { BlobHandle } from "../handle.ts";
import { blobCodecById, blobCodecByName, type BlobCodecName } from "./codecs.ts";
import { encodeBlobFooter, type BlobFileMeta } from "./footer.ts";
import { BLOB_FORMAT_VERSION, encodeBlobFileHeader, encodeRecordHeader, MAX_BLOB_KEY_BYTES, MAX_BLOB_VALUE_BYTES, RECORD_HEADER_SIZE, recordDataChecksum } from "./format.ts";
import { encodeStoredValue } from "./stored-value.ts";

/** Options of a {@link BlobFileWriter}. */
export interface BlobFileWriterOptions {
  /** The file's id, recorded in its footer and in every handle to it. */
  readonly blobFileId: number;
  /** Codec tried on every value; default `"none"`. */
  readonly codec?: BlobCodecName;
  /** Creation time recorded in the footer; default `Date.now()` at `finish()`. */
  readonly createdAtMs?: number;
}

/**
 * A record as it is stored, for copying it to another file without recompressing it: what
 * `BlobFile.scan()` yields (../blob-file/blob-reader.ts) is one.
 */
export interface StoredBlob {
  /** The key the value was written under. */
  readonly key: Uint8Array;
  /** The seqno the value was written at. */
  readonly seqno: number;
  /** 0: `stored` is the value as is; else the id of the codec that compressed it. */
  readonly codecId: number;
  /** The value's bytes as the file holds them (compressed when `codecId` is not 0). */
  readonly stored: Uint8Array;
  /** The value's length once decompressed. */
  readonly uncompressedSize: number;
  /**
   * The record's data checksum as read, and checked, from the file it comes from: a copy of the record
   * (same key, same stored bytes) reuses it instead of computing it again. Only a reader that verified
   * it may set it; a record whose bytes were changed must not carry it.
   */
  readonly dataChecksum?: number;
}

const WRITE_BUFFER_BYTES = 256 * 1024;
/** What the footer adds besides the two keys, for the size estimate. */
const FOOTER_ESTIMATE = 49 + 20;

/**
 * Checks the arguments of a record before anything is written: `TypeError` for a key or value that is
 * not a `Uint8Array`, `RangeError` for an empty or too long key, a bad seqno or a value over
 * {@link MAX_BLOB_VALUE_BYTES}.
 */
export function checkBlobRecordArguments(key: unknown, seqno: unknown, value: unknown): void {
  if (!(key instanceof Uint8Array)) throw new TypeError(`key must be a Uint8Array, got ${key === null ? "null" : typeof key}`);
  if (key.length === 0 || key.length > MAX_BLOB_KEY_BYTES) throw new RangeError(`key must be 1..${MAX_BLOB_KEY_BYTES} bytes, got ${key.length}`);
  if (typeof seqno !== "number" || !Number.isSafeInteger(seqno) || seqno < 0) throw new RangeError(`seqno must be an integer in [0, 2^53), got ${String(seqno)}`);
  if (!(value instanceof Uint8Array)) throw new TypeError(`value must be a Uint8Array, got ${value === null ? "null" : typeof value}`);
  if (value.length > MAX_BLOB_VALUE_BYTES) throw new RangeError(`value is ${value.length} bytes; a blob file holds values up to ${MAX_BLOB_VALUE_BYTES}`);
}

/**
 * Checks a record to be copied: its key, seqno and stored bytes as {@link checkBlobRecordArguments}
 * does, a codec blob files support, and sizes the format allows for it (stored as is: the value's size;
 * compressed: smaller). `TypeError` / `RangeError` otherwise.
 */
export function checkStoredBlob(record: StoredBlob): void {
  const { key, seqno, codecId, stored, uncompressedSize } = record;
  checkBlobRecordArguments(key, seqno, stored);
  if (!Number.isSafeInteger(uncompressedSize) || uncompressedSize < 0 || uncompressedSize > MAX_BLOB_VALUE_BYTES) {
    throw new RangeError(`uncompressedSize must be an integer in 0..${MAX_BLOB_VALUE_BYTES}, got ${uncompressedSize}`);
  }
  if (codecId !== 0 && blobCodecById(codecId) === undefined) throw new RangeError(`codec ${codecId} is not one blob files support`);
  const { dataChecksum } = record;
  if (dataChecksum !== undefined && !(Number.isInteger(dataChecksum) && dataChecksum >= 0 && dataChecksum <= 0xffffffff)) {
    throw new RangeError(`dataChecksum must be a 32-bit unsigned integer, got ${String(dataChecksum)}`);
  }
  const sizesOk = codecId === 0 ? stored.length === uncompressedSize : stored.length > 0 && stored.length < uncompressedSize;
  if (!sizesOk) throw new RangeError(`a record of codec ${codecId} cannot store ${uncompressedSize} bytes in ${stored.length}`);
}

/**
 * Appends records to one new blob file and hands out a {@link BlobHandle} per record.
 *
 * @example
 * ```ts
 * import { MemFs } from "@talus/fs";
 * import { BlobFile, BlobFileWriter } from "@talus/vlog";
 *
 * const fs = new MemFs();
 * fs.createDirAll("/db/blobs");
 * const writer = new BlobFileWriter(fs, "/db/blobs/1", { blobFileId: 1, codec: "lz4" });
 * const handle = writer.add(new TextEncoder().encode("photo:1"), 42, jpegBytes);
 * const meta = writer.finish(); // footer written, file synced and closed
 * fs.syncDirectory("/db/blobs");
 * BlobFile.open(fs, "/db/blobs/1").read(handle); // jpegBytes
 * ```
 */
export class BlobFileWriter {
  /** The file being written. */
  readonly path: string;
  /** The blob file id (`blobFileId` of the options), recorded in the footer and in every handle. */
  readonly id: number;
  /** The codec tried on every value (`"none"` unless the options say otherwise). */
  readonly codec: BlobCodecName;
  readonly #fs: Fs;
  readonly #file: FsFile;
  readonly #codec: CompressionCodec;
  readonly #createdAtMs: number | undefined;
  readonly #buffer = new Uint8Array(WRITE_BUFFER_BYTES);
  readonly #header = new Uint8Array(RECORD_HEADER_SIZE);
  #buffered = 0;
  /** Bytes handed to the file so far. */
  #written = 0;
  /** CRC-32 of those bytes. */
  #crc = 0;
  /** "failed": a write or sync threw; the file's contents are unknown and only abort() is left. */
  #state: "open" | "failed" | "finished" | "aborted" = "open";
  #recordCount = 0;
  #uncompressedBytes = 0;
  #storedBytes = 0;
  #minKey: Uint8Array | undefined;
  #maxKey: Uint8Array | undefined;

  /** Creates `path` exclusively (`EEXIST` if it exists); its directory must exist. */
  constructor(fs: Fs, path: string, options: BlobFileWriterOptions) {
    if (!Number.isSafeInteger(options.blobFileId) || options.blobFileId < 0) throw new RangeError(`blobFileId must be a non-negative safe integer, got ${options.blobFileId}`);
    const createdAt = options.createdAtMs;
    if (createdAt !== undefined && !(Number.isSafeInteger(createdAt) && createdAt >= 0)) throw new RangeError(`createdAtMs must be a non-negative integer, got ${createdAt}`);
    const codec = blobCodecByName(options.codec ?? "none");
    this.path = path;
    this.id = options.blobFileId;
    this.codec = options.codec ?? "none";
    this.#codec = codec;
    this.#createdAtMs = createdAt;
    this.#fs = fs;
    this.#file = fs.open(path, { write: true, createNew: true });
    const fileHeader = encodeBlobFileHeader();
    this.#crc = checksum(fileHeader);
    this.#put(fileHeader);
  }

  /** Records added so far. */
  get recordCount(): number {
    return this.#recordCount;
  }

  /** Bytes of header and records written so far (buffered ones included; the footer is not). */
  get bytesWritten(): number {
    return this.#written + this.#buffered;
  }

  /** About the size the file would have if finished now: for rotating to a new file at a target size. */
  get estimatedSize(): number {
    return this.#written + this.#buffered + FOOTER_ESTIMATE + (this.#minKey?.length ?? 0) + (this.#maxKey?.length ?? 0);
  }

  /**
   * Appends a record for `key`'s version `seqno` holding `value`, compressed with the file's codec when
   * that makes it smaller, and returns its handle. Throws `TypeError` / `RangeError` for bad arguments
   * (nothing is written); a failed write leaves the writer failed, to be {@link abort}ed.
   */
  add(key: Uint8Array, seqno: number, value: Uint8Array): BlobHandle {
    checkBlobRecordArguments(key, seqno, value);
    this.#checkOpen();
    const { codecId, stored } = encodeStoredValue(value, this.#codec);
    return this.#append(key, seqno, codecId, stored, value.length);
  }

  /**
   * Appends a record copied from another blob file (garbage collection relocating live values). Its
   * stored bytes are copied as they are when stored uncompressed or with this file's codec; otherwise
   * they are decompressed and stored anew. The bytes are trusted to be what the source record's CRC
   * checked (`BlobFile.scan()` checks it): a copy carries a fresh CRC over them.
   */
  copyRecord(record: StoredBlob): BlobHandle {
    checkStoredBlob(record);
    const { key, seqno, codecId, stored, uncompressedSize } = record;
    if (codecId === 0 || codecId === this.#codec.id) {
      this.#checkOpen();
      return this.#append(key, seqno, codecId, stored, uncompressedSize, record.dataChecksum);
    }
    const sourceCodec = blobCodecById(codecId) as CompressionCodec; // checkStoredBlob made sure it exists
    const value = sourceCodec.decompress(stored, uncompressedSize);
    if (value.length !== uncompressedSize) throw new RangeError(`the stored bytes decode to ${value.length} bytes, not ${uncompressedSize}`);
    return this.add(key, seqno, value);
  }

  /**
   * Writes the footer, syncs and closes the file, and returns its metadata. Throws if no record was
   * added ({@link abort} the writer instead: a blob file holds at least one record). On failure the
   * writer is failed and left for {@link abort}.
   */
  finish(): BlobFileMeta {
    const meta = this.#seal();
    this.#guard(() => this.#file.sync());
    return this.#close(meta);
  }

  /**
   * {@link finish} with the sync through `FsFile.syncAsync` where the filesystem offers it, so a long
   * writeback does not block the event loop.
   *
   * @example
   * ```ts
   * const meta = await writer.finishAsync();
   * ```
   */
  async finishAsync(): Promise<BlobFileMeta> {
    const meta = this.#seal();
    const file = this.#file;
    try {
      if (file.syncAsync !== undefined) await file.syncAsync();
      else file.sync();
    } catch (error) {
      this.#state = "failed";
      throw error;
    }
    return this.#close(meta);
  }

  /** Closes and removes the partial file. Safe after any failure; a no-op once finished or aborted. */
  abort(): void {
    if (this.#state === "finished" || this.#state === "aborted") return;
    this.#state = "aborted";
    try {
      this.#file.close();
    } finally {
      try {
        this.#fs.removeFile(this.path);
      } catch (error) {
        if ((error as { code?: unknown }).code !== "ENOENT") throw error;
      }
    }
  }

  #append(key: Uint8Array, seqno: number, codecId: number, stored: Uint8Array, uncompressedSize: number, dataChecksum = recordDataChecksum(key, stored)): BlobHandle {
    const offset = this.#written + this.#buffered;
    encodeRecordHeader({ seqno, keyLength: key.length, codecId, uncompressedSize, storedSize: stored.length, dataChecksum }, this.#header, 0);
    this.#crc = checksum(this.#header, this.#crc);
    this.#put(this.#header);
    this.#put(key);
    this.#put(stored);
    this.#recordCount++;
    this.#uncompressedBytes += uncompressedSize;
    this.#storedBytes += stored.length;
    // Copies: `slice()` of a caller's Buffer would be a view of memory the caller reuses.
    if (this.#minKey === undefined || BYTEWISE_COMPARATOR.compare(key, this.#minKey) < 0) this.#minKey = new Uint8Array(key);
    if (this.#maxKey === undefined || BYTEWISE_COMPARATOR.compare(key, this.#maxKey) > 0) this.#maxKey = new Uint8Array(key);
    return { blobFileId: this.id, offset, storedSize: stored.length, uncompressedSize };
  }

  /** Writes everything up to the footer; returns the metadata. The file is not synced yet. */
  #seal(): BlobFileMeta {
    this.#checkOpen();
    const minKey = this.#minKey;
    const maxKey = this.#maxKey;
    if (minKey === undefined || maxKey === undefined) throw new Error(`BlobFileWriter.finish: no records were added to ${this.path}; abort() the writer instead`);
    this.#drain();
    const properties = {
      id: this.id,
      fileChecksum: this.#crc,
      recordCount: this.#recordCount,
      uncompressedBytes: this.#uncompressedBytes,
      storedBytes: this.#storedBytes,
      minKey,
      maxKey,
      codec: this.codec,
      createdAtMs: this.#createdAtMs ?? Date.now(),
    };
    const footer = encodeBlobFooter(properties, this.#codec.id);
    // Outside the file checksum: the footer holds it and has a CRC of its own.
    this.#guard(() => this.#file.write(footer));
    return { ...properties, formatVersion: BLOB_FORMAT_VERSION, fileSize: this.#written + footer.length };
  }

  #close(meta: BlobFileMeta): BlobFileMeta {
    this.#guard(() => this.#file.close());
    this.#state = "finished";
    return meta;
  }

  /** Appends `bytes` to the file through the buffer, or straight from `bytes` when they are large. */
  #put(bytes: Uint8Array): void {
    if (this.#buffered + bytes.length <= this.#buffer.length) {
      this.#buffer.set(bytes, this.#buffered);
      this.#buffered += bytes.length;
      return;
    }
    this.#drain();
    if (bytes.length >= this.#buffer.length / 2) {
      this.#writeOut(bytes);
    } else {
      this.#buffer.set(bytes, 0);
      this.#buffered = bytes.length;
    }
  }

  #drain(): void {
    if (this.#buffered === 0) return;
    const bytes = this.#buffer.subarray(0, this.#buffered);
    this.#buffered = 0;
    this.#writeOut(bytes);
  }

  /** Writes `bytes` to the file. */
  #writeOut(bytes: Uint8Array): void {
    this.#guard(() => this.#file.write(bytes));
    this.#written += bytes.length;
  }

  /** Runs a file operation; if it throws, the writer is failed (what reached the file is unknown). */
  #guard(operation: () => void): void {
    try {
      operation();
    } catch (error) {
      this.#state = "failed";
      throw error;
    }
  }

  #checkOpen(): void {
    if (this.#state === "open") return;
    const why = this.#state === "failed" ? "failed (an earlier write or sync threw); abort() it" : this.#state;
    throw new Error(`BlobFileWriter for ${this.path} is ${why}`);
  }
}
