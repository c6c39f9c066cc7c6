/**
 * The index block: one entry per data block, in the block layout of ./block-builder.ts with restart
 * interval 1 (every key stored whole, so it is binary-searched in place):
 *
 * ```
 * index entry := key: last user key of the data block | seqno: seqno of that last entry | kind: 0
 *                | value: block offset: varint | block size: varint
 * ```
 *
 * Keys are internal keys (user key + seqno) because versions of one user key may span data blocks: a seek
 * for `(key, seqno)` must land in the block holding that version, not in the first block holding `key`.
 * On load the index is decoded once into flat arrays (no object per entry) and validated: entries in
 * strictly ascending internal-key order, data blocks contiguous from the end of the file header to the
 * end of the data region.
 *
 * @module
 */
import { ByteReader, DecodeError } from "../coding/byte-reader.ts";
import { ByteWriter } from "../coding/byte-writer.ts";
import { BlockBuilder } from "./block-builder.ts";
import { DataBlock, decodeEntry, entry } from "./data-block.ts";
import { BLOCK_TRAILER_SIZE, FILE_HEADER_SIZE, MAX_BLOCK_BYTES } from "./format.ts";
import { BEFORE_ALL, commonPrefixLength, fingerprintAt, placeAgainstPrefix, WITHIN } from "./key-fingerprint.ts";
import type { KeyOrder } from "./keys.ts";

/** Accumulates index entries while data blocks are written. */
export class IndexBlockBuilder {
  readonly #builder = new BlockBuilder(1);
  readonly #handle = new ByteWriter(32);

  get entryCount(): number {
    return this.#builder.entryCount;
  }

  get estimatedSize(): number {
    return this.#builder.estimatedSize;
  }

  /** Registers a data block whose last entry is `(lastKey, lastSeqno)`. */
  add(lastKey: Uint8Array, lastSeqno: number, offset: number, size: number): void {
    this.#handle.reset();
    this.#handle.varint(offset).varint(size);
    this.#builder.add(lastKey, lastSeqno, 0, this.#handle.bytes());
  }

  finish(): Uint8Array {
    return this.#builder.finish();
  }
}

/** A decoded, validated index. Immutable; pinned in the table or shared through the block cache. */
export class IndexBlock {
  readonly count: number;
  readonly #data: Uint8Array;
  readonly #keyStart: Uint32Array;
  readonly #keyEnd: Uint32Array;
  readonly #seqnos: Float64Array;
  readonly #offsets: Float64Array;
  readonly #sizes: Float64Array;
  readonly #order: KeyOrder;
  /**
   * Bytewise order only: the length of the prefix every key shares and each entry's fingerprint
   * (./key-fingerprint.ts). Null under a custom comparator.
   */
  readonly #sharedPrefix: number;
  readonly #fingerprints: Int32Array | null;

  /**
   * Decodes `contents` (the index block's decoded payload) and checks it against `dataEnd`, the end of
   * the data region from the footer. `file` and `offset` name the block in errors.
   */
  constructor(contents: Uint8Array, file: string, offset: number, order: KeyOrder, dataEnd: number) {
    const block = new DataBlock(contents, file, offset, "index");
    const count = block.restartCount;
    if (count === 0) throw block.corrupt("no entries");
    this.count = count;
    this.#data = contents;
    this.#order = order;
    this.#keyStart = new Uint32Array(count);
    this.#keyEnd = new Uint32Array(count);
    this.#seqnos = new Float64Array(count);
    this.#offsets = new Float64Array(count);
    this.#sizes = new Float64Array(count);
    let expectedOffset = FILE_HEADER_SIZE;
    for (let i = 0; i < count; i++) {
      const at = block.restartAt(i);
      const end = decodeEntry(block, at);
      if (entry.shared !== 0) throw block.corrupt(`entry ${i} is prefix-compressed`);
      if (end !== (i + 1 < count ? block.restartAt(i + 1) : block.restartsStart)) throw block.corrupt(`entry ${i} does not end at the next restart point`);
      const keyStart = entry.keyStart;
      const keyEnd = keyStart + entry.unshared;
      this.#keyStart[i] = keyStart;
      this.#keyEnd[i] = keyEnd;
      this.#seqnos[i] = entry.seqno;
      let handleOffset: number;
      let handleSize: number;
      try {
        const reader = new ByteReader(contents, keyEnd, end);
        handleOffset = reader.varint();
        handleSize = reader.varint();
        if (!reader.atEnd()) throw new DecodeError("trailing bytes after the block handle");
      } catch (error) {
        if (error instanceof DecodeError) throw block.corrupt(`entry ${i}: ${error.message}`);
        throw error;
      }
      if (handleOffset !== expectedOffset || handleSize > MAX_BLOCK_BYTES + 16) {
        throw block.corrupt(`entry ${i} points at (${handleOffset}, ${handleSize}); data blocks must be contiguous from ${expectedOffset}`);
      }
      this.#offsets[i] = handleOffset;
      this.#sizes[i] = handleSize;
      expectedOffset = handleOffset + handleSize + BLOCK_TRAILER_SIZE;
      if (i > 0 && this.#compareEntries(i - 1, i) >= 0) throw block.corrupt(`entry ${i} is not after entry ${i - 1}`);
    }
    if (expectedOffset !== dataEnd) throw block.corrupt(`data blocks end at ${expectedOffset}, the footer says ${dataEnd}`);
    if (order.bytewise) {
      const last = count - 1;
      const firstStart = this.#keyStart[0] as number;
      const firstEnd = this.#keyEnd[0] as number;
      const shared = commonPrefixLength(contents, firstStart, firstEnd, contents, this.#keyStart[last] as number, this.#keyEnd[last] as number);
      this.#sharedPrefix = shared;
      const fingerprints = new Int32Array(count);
      for (let i = 0; i < count; i++) fingerprints[i] = fingerprintAt(contents, (this.#keyStart[i] as number) + shared, this.#keyEnd[i] as number);
      this.#fingerprints = fingerprints;
    } else {
      this.#sharedPrefix = 0;
      this.#fingerprints = null;
    }
  }

  /** Decoded bytes plus the arrays, for cache accounting. */
  get byteSize(): number {
    return this.#data.length + this.count * 40;
  }

  blockOffset(i: number): number {
    return this.#offsets[i] as number;
  }

  blockSize(i: number): number {
    return this.#sizes[i] as number;
  }

  /** The last user key of data block `i` (a view). */
  lastKey(i: number): Uint8Array {
    return this.#data.subarray(this.#keyStart[i], this.#keyEnd[i]);
  }

  lastSeqno(i: number): number {
    return this.#seqnos[i] as number;
  }

  /** The first block whose last internal key is `>= (key, seqno)`: the only block that can hold that position. `count` if none. */
  lowerBound(key: Uint8Array, seqno: number): number {
    const fingerprints = this.#fingerprints;
    if (fingerprints !== null) return this.#lowerBoundBytewise(fingerprints, key, seqno);
    let low = 0;
    let high = this.count;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const c = this.#order.compareInternalAt(this.#data, this.#keyStart[mid] as number, this.#keyEnd[mid] as number, this.#seqnos[mid] as number, key, seqno);
      if (c < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  #lowerBoundBytewise(fingerprints: Int32Array, key: Uint8Array, seqno: number): number {
    const data = this.#data;
    const shared = this.#sharedPrefix;
    const place = placeAgainstPrefix(data, this.#keyStart[0] as number, shared, key);
    if (place !== WITHIN) return place === BEFORE_ALL ? 0 : this.count;
    const target = fingerprintAt(key, shared, key.length);
    const keyStart = this.#keyStart;
    const keyEnd = this.#keyEnd;
    let low = 0;
    let high = this.count;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const f = fingerprints[mid] as number;
      let c: number;
      if (f !== target) c = f < target ? -1 : 1;
      else c = this.#order.compareInternalAt(data, keyStart[mid] as number, keyEnd[mid] as number, this.#seqnos[mid] as number, key, seqno);
      if (c < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** The first block whose last user key is `> key`; `count` if none. */
  upperBound(key: Uint8Array): number {
    let low = 0;
    let high = this.count;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.#order.compareAt(this.#data, this.#keyStart[mid] as number, this.#keyEnd[mid] as number, key) <= 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  #compareEntries(a: number, b: number): number {
    const bKey = this.lastKey(b);
    return this.#order.compareInternalAt(this.#data, this.#keyStart[a] as number, this.#keyEnd[a] as number, this.#seqnos[a] as number, bKey, this.#seqnos[b] as number);
  }
}
