/**
 * The end-to-end scrub behind `Table.verify()`: everything a reader trusts, re-read from the file and
 * checked, without the block cache. Any single flipped bit is caught: bytes before the footer by the file
 * checksum, footer bytes by the footer checksum (or its magic / version checks).
 *
 * @module
 */
import type { FsFile } from "@talus/fs";
import { checksum } from "../coding/checksum.ts";
import { corruption } from "../errors.ts";
import { ValueKind } from "../key/value-kind.ts";
import { readBlockAt, readExactly } from "./block-framing.ts";
import { BlockCursor } from "./block-reader.ts";
import { BloomFilter } from "./bloom-filter.ts";
import { DataBlock } from "./data-block.ts";
import { decodeFooter, encodeFooter, FOOTER_SIZE, type Footer } from "./footer.ts";
import { FILE_HEADER_SIZE, isMagicAt } from "./format.ts";
import { IndexBlock } from "./index-block.ts";
import type { KeyOrder } from "./keys.ts";
import { decodeProperties, type TableMeta } from "./meta.ts";
import { decodeMetaindex } from "./metaindex.ts";
import { decodeFragments, RANGE_TOMBSTONE_BLOCK } from "../range-tombstone/block.ts";
import { seqnoSpan } from "../range-tombstone/fragments.ts";

const CHUNK_BYTES = 1024 * 1024;

export function verifyTable(file: FsFile, path: string, meta: TableMeta, footer: Footer, order: KeyOrder): void {
  const size = file.len();
  if (size !== meta.fileSize) throw corruption(path, `file is ${size} bytes, it was ${meta.fileSize} when opened`);
  const onDisk = decodeFooter(readExactly(file, path, size - FOOTER_SIZE, FOOTER_SIZE, "footer"), size, path);
  if (Buffer.compare(encodeFooter(onDisk), encodeFooter(footer)) !== 0) throw corruption(path, "the footer changed since the table was opened");
  verifyFileChecksum(file, path, size - FOOTER_SIZE, footer.fileChecksum);
  if (!isMagicAt(readExactly(file, path, 0, FILE_HEADER_SIZE, "file header"), 0)) throw corruption(path, "bad magic in the file header");

  const props = decodeProperties(readBlockAt(file, path, footer.meta, "meta"), path, footer.meta.offset);
  const named = decodeMetaindex(readBlockAt(file, path, footer.metaindex, "metaindex"), path, footer.metaindex.offset);
  const rtHandle = named.get(RANGE_TOMBSTONE_BLOCK);
  const fragments = rtHandle === undefined ? [] : decodeFragments(readBlockAt(file, path, rtHandle, "range tombstone"), order.comparator, path, rtHandle.offset);
  const filter = footer.filter === null ? null : new BloomFilter(readBlockAt(file, path, footer.filter, "filter"), path, footer.filter.offset);
  const index = new IndexBlock(readBlockAt(file, path, footer.index, "index"), path, footer.index.offset, order, footer.dataEnd);

  const check = (ok: boolean, what: string): void => {
    if (!ok) throw corruption(path, what);
  };
  const cursor = new BlockCursor(order);
  let previous = new Uint8Array(64);
  let previousLength = -1;
  let previousSeqno = 0;
  let previousKind = -1;
  const counts = { entries: 0, distinct: 0, tombstones: 0, weak: 0, merges: 0, indirections: 0, dataSize: 0 };
  let minSeqno = Number.MAX_SAFE_INTEGER;
  let maxSeqno = 0;
  for (let i = 0; i < index.count; i++) {
    const offset = index.blockOffset(i);
    const block = new DataBlock(readBlockAt(file, path, { offset, size: index.blockSize(i) }, "data"), path, offset);
    counts.dataSize += block.data.length;
    cursor.reset(block);
    cursor.seekToFirst();
    check(cursor.valid(), `data block at offset ${offset} is empty`);
    for (; cursor.valid(); cursor.next()) {
      const key = cursor.key();
      const seqno = cursor.seqno();
      let newKey = true;
      if (previousLength >= 0) {
        const c = order.compareAt(previous, 0, previousLength, key);
        // Merge operands of one key may share a seqno (a write batch merging a key twice).
        const sameSeqnoOk = previousSeqno === seqno && previousKind === ValueKind.MergeOperand && cursor.kind() === ValueKind.MergeOperand;
        check(c < 0 || (c === 0 && (previousSeqno > seqno || sameSeqnoOk)), `data block at offset ${offset}: entries out of order`);
        newKey = c !== 0;
      } else {
        // Range tombstones may reach below the first entry, widening the key range.
        const first = fragments[0];
        const min = first !== undefined && order.compare(first.start, key) < 0 ? first.start : key;
        check(order.compare(min, props.minKey) === 0, "the first key is not the meta block's min key");
      }
      if (newKey) {
        counts.distinct++;
        check(filter === null || filter.mayContainKey(key), `the filter misses a key of data block at offset ${offset}`);
      }
      const kind = cursor.kind();
      if (kind === ValueKind.Tombstone) counts.tombstones++;
      else if (kind === ValueKind.WeakTombstone) counts.weak++;
      else if (kind === ValueKind.MergeOperand) counts.merges++;
      else if (kind === ValueKind.Indirection) counts.indirections++;
      counts.entries++;
      minSeqno = Math.min(minSeqno, seqno);
      maxSeqno = Math.max(maxSeqno, seqno);
      if (key.length > previous.length) previous = new Uint8Array(key.length * 2);
      previous.set(key);
      previousLength = key.length;
      previousSeqno = seqno;
      previousKind = cursor.kind();
    }
    const last = index.lastKey(i);
    check(order.compareAt(previous, 0, previousLength, last) === 0 && previousSeqno === index.lastSeqno(i), `index entry ${i} does not name the last entry of its block`);
  }
  // Range tombstones may reach past the last entry: the max key then lies at or after it and after
  // every tombstone's start (how far depends on the table's neighbours; see ../tree/table-store.ts).
  const maxVsLast = order.compareAt(previous, 0, previousLength, props.maxKey);
  check(fragments.length === 0 ? maxVsLast === 0 : maxVsLast <= 0, "the last key is not the meta block's max key");
  const lastFragment = fragments[fragments.length - 1];
  check(lastFragment === undefined || order.compare(lastFragment.start, props.maxKey) <= 0, "a range tombstone starts after the meta block's max key");
  check(fragments.length === props.rangeTombstoneCount, "the range tombstone block and the meta block disagree");
  const span = seqnoSpan(fragments);
  if (span !== undefined) {
    minSeqno = Math.min(minSeqno, span.min);
    maxSeqno = Math.max(maxSeqno, span.max);
  }
  check(
    counts.entries === props.entryCount &&
      counts.distinct === props.distinctKeyCount &&
      counts.tombstones === props.tombstoneCount &&
      counts.weak === props.weakTombstoneCount &&
      counts.merges === props.mergeOperandCount &&
      counts.indirections === props.indirectionCount &&
      counts.dataSize === props.dataSize &&
      minSeqno === props.minSeqno &&
      maxSeqno === props.maxSeqno,
    "the meta block's counts do not match the entries",
  );
}

function verifyFileChecksum(file: FsFile, path: string, end: number, expected: number): void {
  const chunk = new Uint8Array(Math.min(CHUNK_BYTES, end));
  let crc = 0;
  for (let position = 0; position < end; position += chunk.length) {
    const view = chunk.subarray(0, Math.min(chunk.length, end - position));
    const n = file.readAt(view, position);
    if (n !== view.length) throw corruption(path, `file is truncated at ${position + n}`);
    crc = checksum(view, crc);
  }
  if (crc !== expected) throw corruption(path, `file checksum mismatch: computed ${hex(crc)}, the footer says ${hex(expected)}`);
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}
