/**
 * A decoded block in the layout of ./block-builder.ts (data, index and metaindex blocks), with its
 * restart array validated once, and the bounds-checked decoder of one entry header. Every read from the
 * block is checked against the block's bounds: random bytes end in CORRUPTION naming the file and the
 * block offset, never in an out-of-range read, a RangeError or a loop.
 *
 * @module
 */
import { corruption, type LsmError } from "../errors.ts";
import { MAX_KEY_BYTES } from "../key/validate.ts";
import { MAX_VALUE_KIND } from "../key/value-kind.ts";
import type { BlockPointIndex } from "./block-point-index.ts";

/** The fields of the entry last decoded by {@link decodeEntry}; one shared record, so decoding allocates nothing. */
export const entry = {
  shared: 0,
  unshared: 0,
  valueLength: 0,
  seqno: 0,
  kind: 0,
  /** Offset of the key delta; the value follows it. */
  keyStart: 0,
};

/** Where {@link readVarint} stopped; a module variable instead of a result object. */
let varintEnd = 0;

/** An immutable decoded block: contents plus the validated restart array. Shared through the block cache. */
export class DataBlock {
  readonly data: Uint8Array;
  /** End of the entries (start of the restart array). */
  readonly restartsStart: number;
  readonly restartCount: number;
  readonly file: string;
  readonly offset: number;
  readonly what: string;
  /**
   * The capacity of the block buffer pool's piece (./block-buffers.ts) that `data` starts, which may go
   * back to the pool; 0 when `data` is not pooled memory.
   */
  readonly pooledCapacity: number;
  /**
   * Table cursors positioned in this block, and batches of lookups holding it: while any is, its memory
   * must not be recycled. Counted by ./table-cursor.ts and `Table.fetchBlocks` (./table.ts). This and the two point-lookup fields below are the only mutable parts of a block,
   * and no part of its contents.
   */
  cursors = 0;
  /** Point lookups made in this block before it got a {@link pointIndex} (see `layoutFor`). */
  pointLookups = 0;
  /** The layout of ./block-point-index.ts, once built. */
  pointIndex: BlockPointIndex | null = null;

  /**
   * Validates the trailer and the restart array of `data`; `file`, `offset` and `what` name the block in
   * errors.
   */
  constructor(data: Uint8Array, file: string, offset: number, what = "data", pooledCapacity = 0) {
    this.data = data;
    this.pooledCapacity = pooledCapacity;
    this.file = file;
    this.offset = offset;
    this.what = what;
    if (data.length < 4) throw this.corrupt(`${data.length} bytes cannot hold a restart count`);
    const count = readU32(data, data.length - 4);
    if (count > (data.length - 4) / 4) throw this.corrupt(`restart count ${count} does not fit in ${data.length} bytes`);
    this.restartCount = count;
    this.restartsStart = data.length - 4 - 4 * count;
    if (count === 0 && this.restartsStart !== 0) throw this.corrupt("entries without restart points");
    let previous = -1;
    for (let i = 0; i < count; i++) {
      const restart = readU32(data, this.restartsStart + 4 * i);
      if (i === 0 ? restart !== 0 : restart <= previous || restart >= this.restartsStart) {
        throw this.corrupt(`restart point ${i} at ${restart} is out of order or range`);
      }
      previous = restart;
    }
  }

  /** Offset of restart point `i`. REQUIRES: 0 <= i < restartCount. */
  restartAt(i: number): number {
    return readU32(this.data, this.restartsStart + 4 * i);
  }

  /** A CORRUPTION error naming the file and this block. */
  corrupt(detail: string): LsmError {
    return corruption(this.file, `${this.what} block at offset ${this.offset}: ${detail}`);
  }

  /** Whether `data` is pooled memory that may go back to the pool. */
  get pooled(): boolean {
    return this.pooledCapacity > 0;
  }

  /** Bytes this block holds in a cache (a pooled piece is a little larger than its block). */
  get byteSize(): number {
    return this.pooledCapacity > 0 ? this.pooledCapacity : this.data.length;
  }
}

/**
 * Decodes the header of the entry at `pos` into {@link entry} and returns the offset just past the
 * entry. Checks every field against the block: lengths inside the entry area, key length within
 * {@link MAX_KEY_BYTES}, a known kind.
 */
export function decodeEntry(block: DataBlock, pos: number): number {
  const data = block.data;
  const limit = block.restartsStart;
  let shared: number;
  let unshared: number;
  let valueLength: number;
  let seqno: number;

  // Fast path: the three lengths fit in one byte each (keys and values under 128 bytes) and the seqno
  // in at most three (below 2^21), with the kind byte inside the entries too.
  const a = data[pos] as number;
  const b = data[pos + 1] as number;
  const c = data[pos + 2] as number;
  if (pos + 6 < limit && (a | b | c) < 0x80) {
    shared = a;
    unshared = b;
    valueLength = c;
    const s0 = data[pos + 3] as number;
    if (s0 < 0x80) {
      seqno = s0;
      varintEnd = pos + 4;
    } else {
      const s1 = data[pos + 4] as number;
      if (s1 < 0x80) {
        seqno = (s0 & 0x7f) | (s1 << 7);
        varintEnd = pos + 5;
      } else {
        const s2 = data[pos + 5] as number;
        if (s2 < 0x80) {
          seqno = (s0 & 0x7f) | ((s1 & 0x7f) << 7) | (s2 << 14);
          varintEnd = pos + 6;
        } else {
          seqno = readVarint(data, pos + 3, limit);
        }
      }
    }
  } else if (pos + 3 < limit && (a | b | c) < 0x80) {
    shared = a;
    unshared = b;
    valueLength = c;
    seqno = readVarint(data, pos + 3, limit);
  } else {
    shared = readVarint(data, pos, limit);
    unshared = readVarint(data, varintEnd, limit);
    valueLength = readVarint(data, varintEnd, limit);
    seqno = readVarint(data, varintEnd, limit);
  }
  if (seqno < 0) throw block.corrupt(`malformed entry header at ${pos}`);
  const kindAt = varintEnd;
  if (kindAt >= limit) throw block.corrupt(`entry at ${pos} runs past the entries`);
  const kind = data[kindAt] as number;
  // A byte is an integer >= 0: isValueKind without the checks a byte cannot fail.
  if (kind > MAX_VALUE_KIND) throw block.corrupt(`entry at ${pos} has unknown kind ${kind}`);
  const keyStart = kindAt + 1;
  if (shared + unshared > MAX_KEY_BYTES) throw block.corrupt(`entry at ${pos} has a ${shared + unshared}-byte key`);
  const end = keyStart + unshared + valueLength;
  if (end > limit) throw block.corrupt(`entry at ${pos} runs past the entries`);
  entry.shared = shared;
  entry.unshared = unshared;
  entry.valueLength = valueLength;
  entry.seqno = seqno;
  entry.kind = kind;
  entry.keyStart = keyStart;
  return end;
}

/**
 * An unsigned LEB128 varint of at most 8 bytes (2^53 - 1 at most) at `pos`, below `limit`; -1 when
 * malformed (the caller's check of the last field catches a -1 in any earlier one, see below).
 */
function readVarint(data: Uint8Array, pos: number, limit: number): number {
  if (pos < 0) {
    varintEnd = -1;
    return -1;
  }
  let result = 0;
  let scale = 1;
  let p = pos;
  for (let i = 0; i < 8 && p < limit; i++) {
    const byte = data[p++] as number;
    result += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      varintEnd = p;
      return result <= Number.MAX_SAFE_INTEGER ? result : poison();
    }
    scale *= 0x80;
  }
  return poison();
}

/** Marks a malformed varint: -1 as value and as end position, so every later read in the header fails too. */
function poison(): number {
  varintEnd = -1;
  return -1;
}

function readU32(data: Uint8Array, pos: number): number {
  return ((data[pos] as number) | ((data[pos + 1] as number) << 8) | ((data[pos + 2] as number) << 16) | ((data[pos + 3] as number) << 24)) >>> 0;
}
