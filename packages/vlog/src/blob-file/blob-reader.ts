/**
 * Reads a finished blob file: values by handle (one positional read each), records in file order for
 * garbage collection, and a full verification. Opening checks the footer, so a torn file (its writer
 * never finished) or a damaged footer is refused at once, and every read checks the record it lands
 * on. Whatever is wrong, the answer is an `LsmError` naming the file, never wrong bytes.
 *
 * @module
 */
import type { Fs, FsFile } from "@talus/fs";
import { BYTEWISE_COMPARATOR, copyForCaller, LsmError } from "@talus/lsm-core";
import { checksum } from "../coding/checksum.ts";
import { blobCorruption } from "../errors.ts";
import { checkBlobHandle, type BlobHandle } from "../handle.ts";
import type { StoredBlob } from "./blob-writer.ts";
import { ReadAheadWindow, readExactly } from "./file-reads.ts";
import { BLOB_FOOTER_TAIL_SIZE, blobFooterOffset, decodeBlobFooter, decodeBlobFooterTail, type BlobFileMeta } from "./footer.ts";
import { BLOB_FILE_HEADER_SIZE, checkBlobFileHeader, decodeRecordHeader, RECORD_HEADER_SIZE, recordDataChecksum, recordSize, type RecordHeader } from "./format.ts";
import { decodeStoredValue } from "./stored-value.ts";

/** Window of a {@link BlobFile.sequentialReader}: 32 records of 4 KiB per system call. */
export const SEQUENTIAL_WINDOW_BYTES = 128 * 1024;

/** What the caller knows the file must be (from a version file), checked at open. */
export interface BlobFileOpenOptions {
  /** The blob file id its footer must record; another is `CORRUPTION`. */
  readonly expectedId?: number;
  /** The file's length in bytes; another is `CORRUPTION`. */
  readonly expectedFileSize?: number;
  /** The footer's {@link BlobFileMeta.fileChecksum}; another is `CORRUPTION` (a swapped or rewritten file). */
  readonly expectedFileChecksum?: number;
  /**
   * Serve {@link BlobFile.read} from a memory map of the file where the filesystem offers one
   * (`Fs.mapReadOnly`): the record is checked in place and only the value copied out, with no system
   * call. Default false. Only for finished files, which never change (a blob file is written once,
   * then only read or removed).
   */
  readonly map?: boolean;
}

/**
 * One record, as {@link BlobFile.scan} yields it: what relocation copies (a {@link StoredBlob}: key,
 * seqno and stored bytes, its CRC already checked), the handle that points at it, and its value on demand.
 * Its byte arrays are the caller's own.
 */
export interface BlobRecord extends StoredBlob {
  /** The handle that points at this record (what a table stores for it). */
  readonly handle: BlobHandle;
  /** The value, decompressed when stored compressed (a fresh buffer then; else `stored` itself). */
  value(): Uint8Array;
}

/**
 * A finished blob file, open for reading.
 *
 * @example
 * ```ts
 * import { BlobFile, decodeBlobHandle } from "@talus/vlog";
 *
 * const file = BlobFile.open(fs, "/db/blobs/7", { expectedId: 7 });
 * const value = file.read(decodeBlobHandle(tableValue), key); // CORRUPTION naming the file if anything is off
 * for (const record of file.scan()) console.log(record.key, record.seqno, record.handle.offset);
 * file.close();
 * ```
 */
export class BlobFile {
  /** The file's path. */
  readonly path: string;
  /** What the footer says about the file (id, sizes, counts, key bounds, codec). */
  readonly meta: BlobFileMeta;
  readonly #file: FsFile;
  /** Where the records end and the footer begins. */
  readonly #recordsEnd: number;
  #closed = false;
  /** The whole file mapped read-only, or null (reads go through `readAt`). */
  readonly #map: Uint8Array | null;
  /** One positional read of exactly the bytes asked for, into a fresh buffer (made once: every blob read goes through it). */
  readonly #readExactly = (position: number, length: number, what: string): Uint8Array => readExactly(this.#file, this.path, position, length, what);
  /**
   * A view of the map, for reads that check bytes in place and copy out only what they return: the map
   * is read-only memory, and a caller writing into a view it was handed would crash the process.
   */
  readonly #mapView = (position: number, length: number, what: string): Uint8Array => {
    const map = this.#map as Uint8Array;
    if (position + length > map.length) throw blobCorruption(this.path, `${what} at offset ${position} is truncated (the file ends at ${map.length})`);
    return map.subarray(position, position + length);
  };

  private constructor(path: string, file: FsFile, meta: BlobFileMeta, recordsEnd: number, map: Uint8Array | null) {
    this.path = path;
    this.#file = file;
    this.meta = meta;
    this.#recordsEnd = recordsEnd;
    this.#map = map;
  }

  /**
   * Opens the blob file at `path` and checks its footer and header, and what `options` expect of it.
   * A torn, truncated or damaged file is `LsmError` `CORRUPTION` naming it; a file of another format
   * version or codec is `UNSUPPORTED_FORMAT`; a missing one is the filesystem's `ENOENT`.
   */
  static open(fs: Fs, path: string, options: BlobFileOpenOptions = {}): BlobFile {
    const file = fs.open(path, { read: true });
    try {
      const size = file.len();
      const tail = size >= BLOB_FOOTER_TAIL_SIZE ? readExactly(file, path, size - BLOB_FOOTER_TAIL_SIZE, BLOB_FOOTER_TAIL_SIZE, "footer tail") : new Uint8Array(0);
      const propertiesSize = decodeBlobFooterTail(tail, size, path);
      const footerOffset = blobFooterOffset(size, propertiesSize);
      const meta = decodeBlobFooter(readExactly(file, path, footerOffset, propertiesSize + BLOB_FOOTER_TAIL_SIZE, "footer"), size, path);
      checkBlobFileHeader(readExactly(file, path, 0, BLOB_FILE_HEADER_SIZE, "file header"), path);
      const expect = (name: string, expected: number | undefined, found: number): void => {
        if (expected !== undefined && expected !== found) throw blobCorruption(path, `${name} is ${found}, expected ${expected}`);
      };
      expect("blob file id", options.expectedId, meta.id);
      expect("file size", options.expectedFileSize, meta.fileSize);
      expect("file checksum", options.expectedFileChecksum, meta.fileChecksum);
      return new BlobFile(path, file, meta, footerOffset, options.map === true ? mapBlobFile(fs, path, size) : null);
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /** The blob file id, from its footer (what handles into it carry as `blobFileId`). */
  get id(): number {
    return this.meta.id;
  }

  /**
   * The value `handle` points at. With `key`, also checks that the record holds that key (and reads it
   * in one positional read instead of two). Checks that the handle lies inside the records, the record
   * header's CRC, that its sizes are the handle's, and the CRC of key and stored value; decompresses.
   * Any mismatch is `LsmError` `CORRUPTION` naming the file: wrong bytes are never returned. The
   * result is a buffer the caller owns. `RangeError` for a handle with non-integer fields.
   *
   * @example
   * ```ts
   * const value = blobFile.read(handle, key);
   * ```
   */
  read(handle: BlobHandle, key?: Uint8Array): Uint8Array {
    const map = this.#map;
    const record = this.#readStored(handle, key, map === null ? this.#readExactly : this.#mapView);
    const value = decodeStoredValue(record.stored, record.codecId, record.uncompressedSize, this.path, handle.offset);
    // A value stored as is, read from the map, is a view of the map: the caller gets a copy.
    return value === record.stored && map !== null ? copyForCaller(value) : value;
  }

  /**
   * The record `handle` points at as stored (checked like {@link read}, not decompressed): what a
   * relocation copies into another file with `copyRecord`.
   */
  readStored(handle: BlobHandle, key?: Uint8Array): StoredBlob {
    return this.#readStored(handle, key, this.#readExactly);
  }

  /**
   * A reader for records asked for in increasing offset order (a relocation walks a file's live records
   * in key order, which is the order a flush or a relocation wrote them): each positional read fills a
   * window of `windowBytes`, so a run of small records costs one system call. Its `readStored` checks
   * what {@link readStored} checks; the stored bytes it returns are a view into the window, valid until
   * its next call: copy them, or write them out, before asking for the next record. Records out of
   * order are still read correctly, at the cost of a window fill each.
   */
  sequentialReader(windowBytes = SEQUENTIAL_WINDOW_BYTES): {
    /** {@link BlobFile.readStored} through the window: the stored bytes are valid until the next call. */
    readStored(handle: BlobHandle, key?: Uint8Array): StoredBlob;
  } {
    this.#checkOpen();
    const window = new ReadAheadWindow(this.#file, this.path, this.#recordsEnd, windowBytes);
    return { readStored: (handle, key) => this.#readStored(handle, key, (position, length, what) => window.view(position, length, what)) };
  }

  #readStored(handle: BlobHandle, key: Uint8Array | undefined, fetch: (position: number, length: number, what: string) => Uint8Array): StoredBlob {
    this.#checkOpen();
    checkBlobHandle(handle);
    if (key !== undefined && !(key instanceof Uint8Array)) throw new TypeError(`key must be a Uint8Array, got ${key === null ? "null" : typeof key}`);
    const { offset, storedSize } = handle;
    if (handle.blobFileId !== this.id) throw blobCorruption(this.path, `${describeHandle(handle)} names blob file ${handle.blobFileId}, this is blob file ${this.id}`);
    // A record holds a key of at least one byte.
    const knownKeyLength = key?.length ?? 1;
    if (offset + recordSize(knownKeyLength, storedSize) > this.#recordsEnd) {
      throw blobCorruption(this.path, `${describeHandle(handle)} points past the last record (records end at ${this.#recordsEnd})`);
    }
    let header: RecordHeader;
    let body: Uint8Array;
    if (key !== undefined) {
      const bytes = fetch(offset, recordSize(key.length, storedSize), "record");
      header = this.#headerFor(handle, bytes);
      if (header.keyLength !== key.length) throw blobCorruption(this.path, `record at offset ${offset} holds a key of ${header.keyLength} bytes, not the ${key.length}-byte key asked for`);
      body = bytes.subarray(RECORD_HEADER_SIZE);
    } else {
      header = this.#headerFor(handle, fetch(offset, RECORD_HEADER_SIZE, "record header"));
      if (offset + recordSize(header.keyLength, storedSize) > this.#recordsEnd) {
        throw blobCorruption(this.path, `record at offset ${offset} runs past the last record (records end at ${this.#recordsEnd})`);
      }
      body = fetch(offset + RECORD_HEADER_SIZE, header.keyLength + storedSize, "record");
    }
    const recordKey = body.subarray(0, header.keyLength);
    const stored = body.subarray(header.keyLength);
    const dataChecksum = recordDataChecksum(recordKey, stored);
    if (dataChecksum !== header.dataChecksum) throw blobCorruption(this.path, `record at offset ${offset}: data checksum mismatch`);
    if (key !== undefined && BYTEWISE_COMPARATOR.compare(recordKey, key) !== 0) throw blobCorruption(this.path, `record at offset ${offset} holds another key than the one asked for`);
    return { key: recordKey, seqno: header.seqno, codecId: header.codecId, stored, uncompressedSize: header.uncompressedSize, dataChecksum };
  }

  /**
   * Every record in file order, each checked (header and data CRC) before it is yielded. Reads ahead a
   * megabyte at a time. Damage anywhere stops the scan with `CORRUPTION` naming the file and offset.
   *
   * @example
   * ```ts
   * for (const record of blobFile.scan()) {
   *   if (isLive(record.key, record.seqno, record.handle)) relocated.set(record.key, target.copyRecord(record));
   * }
   * ```
   */
  scan(): Generator<BlobRecord, void, undefined> {
    return this.#records(undefined);
  }

  /** {@link scan}, handing each record header's bytes to `onHeader` before the record is checked further. */
  *#records(onHeader: ((header: Uint8Array) => void) | undefined): Generator<BlobRecord, void, undefined> {
    this.#checkOpen();
    const path = this.path;
    const end = this.#recordsEnd;
    const window = new ReadAheadWindow(this.#file, path, end);
    let offset = BLOB_FILE_HEADER_SIZE;
    let count = 0;
    while (offset < end) {
      this.#checkOpen();
      if (offset + RECORD_HEADER_SIZE > end) throw blobCorruption(path, `record at offset ${offset}: header runs past the last record (records end at ${end})`);
      const headerBytes = window.view(offset, RECORD_HEADER_SIZE, "record header");
      const header = decodeRecordHeader(headerBytes, 0, path, offset);
      onHeader?.(headerBytes);
      const size = recordSize(header.keyLength, header.storedSize);
      if (offset + size > end) throw blobCorruption(path, `record at offset ${offset} (${size} bytes) runs past the last record (records end at ${end})`);
      const body = window.copy(offset + RECORD_HEADER_SIZE, size - RECORD_HEADER_SIZE, "record");
      const key = body.subarray(0, header.keyLength);
      const stored = body.subarray(header.keyLength);
      const dataChecksum = recordDataChecksum(key, stored);
      if (dataChecksum !== header.dataChecksum) throw blobCorruption(path, `record at offset ${offset}: data checksum mismatch`);
      const recordOffset = offset;
      yield {
        key,
        dataChecksum,
        seqno: header.seqno,
        codecId: header.codecId,
        stored,
        uncompressedSize: header.uncompressedSize,
        handle: { blobFileId: this.id, offset: recordOffset, storedSize: header.storedSize, uncompressedSize: header.uncompressedSize },
        value: () => decodeStoredValue(stored, header.codecId, header.uncompressedSize, path, recordOffset),
      };
      offset += size;
      count++;
    }
    if (count !== this.meta.recordCount) throw blobCorruption(path, `the footer counts ${this.meta.recordCount} records, the file holds ${count}`);
  }

  /**
   * Rereads the whole file: the file checksum, every record (CRCs, decoding, lengths), and that the
   * footer's counts, sizes and key range are those of the records. Throws `CORRUPTION` naming the file
   * on the first mismatch.
   */
  verify(): void {
    this.#checkOpen();
    const path = this.path;
    // The file checksum chains the file header and the record headers (each holding its data CRC).
    let crc = checksum(readExactly(this.#file, path, 0, BLOB_FILE_HEADER_SIZE, "file header"));
    let uncompressed = 0;
    let stored = 0;
    let minKey: Uint8Array | undefined;
    let maxKey: Uint8Array | undefined;
    for (const record of this.#records((header) => (crc = checksum(header, crc)))) {
      record.value();
      uncompressed += record.uncompressedSize;
      stored += record.stored.length;
      if (minKey === undefined || BYTEWISE_COMPARATOR.compare(record.key, minKey) < 0) minKey = record.key;
      if (maxKey === undefined || BYTEWISE_COMPARATOR.compare(record.key, maxKey) > 0) maxKey = record.key;
    }
    const meta = this.meta;
    if (crc !== meta.fileChecksum) throw blobCorruption(path, "file checksum mismatch");
    if (uncompressed !== meta.uncompressedBytes || stored !== meta.storedBytes) {
      throw blobCorruption(path, `the records hold ${uncompressed} value bytes stored in ${stored}, the footer says ${meta.uncompressedBytes} in ${meta.storedBytes}`);
    }
    const same = (a: Uint8Array | undefined, b: Uint8Array): boolean => a !== undefined && BYTEWISE_COMPARATOR.compare(a, b) === 0;
    if (!same(minKey, meta.minKey) || !same(maxKey, meta.maxKey)) throw blobCorruption(path, "the footer's key range is not the records'");
  }

  /** Releases the file. Idempotent; reads after it throw `LsmError` `CLOSED`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#file.close();
  }

  /** Decodes the header at the front of `bytes` and checks it against `handle`. */
  #headerFor(handle: BlobHandle, bytes: Uint8Array): RecordHeader {
    const header = decodeRecordHeader(bytes, 0, this.path, handle.offset);
    if (header.storedSize !== handle.storedSize || header.uncompressedSize !== handle.uncompressedSize) {
      throw blobCorruption(this.path, `${describeHandle(handle)} does not match the record there (stored size ${header.storedSize}, value size ${header.uncompressedSize})`);
    }
    return header;
  }

  #checkOpen(): void {
    if (this.#closed) throw new LsmError("CLOSED", `blob file ${this.path} is closed`);
  }
}

/**
 * `path` memory-mapped when `fs` maps files and the map has the size the footer was read at; null
 * otherwise, also when mapping fails (address space, descriptors): reads then use `readAt`.
 */
function mapBlobFile(fs: Fs, path: string, size: number): Uint8Array | null {
  if (fs.mapReadOnly === undefined) return null;
  try {
    const map = fs.mapReadOnly(path);
    return map !== undefined && map.length === size ? map : null;
  } catch {
    return null;
  }
}

/** A handle in an error message. */
function describeHandle(handle: BlobHandle): string {
  return `handle (offset ${handle.offset}, stored size ${handle.storedSize}, value size ${handle.uncompressedSize})`;
}
