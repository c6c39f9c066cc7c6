/**
 * The range tombstone block of a table: its fragments (./fragments.ts), named `!range-tombstones` in the
 * metaindex (the "!" makes a build that does not know the block refuse the table instead of answering
 * without its deletions). Framed and checksummed like every block, never compressed.
 *
 * ```
 * block    := count: varint | fragment{count}
 * fragment := start_len: varint | start | end_len: varint | end | seqno_count: varint | seqno: varint{seqno_count}
 * ```
 *
 * `end_len = 0` is an unbounded end. Fragments are sorted by start and disjoint (`end <= next start`),
 * `start < end`, seqnos strictly descending and at least one per fragment: the decoder checks every
 * one of these and reports CORRUPTION naming the file otherwise.
 *
 * @module
 */
import { ByteReader, DecodeError } from "../coding/byte-reader.ts";
import { ByteWriter } from "../coding/byte-writer.ts";
import { corruption } from "../errors.ts";
import { copyBytes } from "../key/copy.ts";
import type { Comparator } from "../key/comparator.ts";
import { compareEnd, type Fragment } from "./fragments.ts";

/** The metaindex name of the block. */
export const RANGE_TOMBSTONE_BLOCK = "!range-tombstones";

export function encodeFragments(list: readonly Fragment[]): Uint8Array {
  let size = 8;
  for (const f of list) size += f.start.length + f.end.length + 12 + 9 * f.seqnos.length;
  const out = new ByteWriter(size);
  out.varint(list.length);
  for (const f of list) {
    out.lengthPrefixed(f.start).lengthPrefixed(f.end).varint(f.seqnos.length);
    for (const s of f.seqnos) out.varint(s);
  }
  return out.toBytes();
}

/** Decodes and validates the block's contents; `file` and `offset` name it in errors. Keys are copies. */
export function decodeFragments(contents: Uint8Array, cmp: Comparator, file: string, offset: number): Fragment[] {
  const bad = (what: string): never => {
    throw corruption(file, `range tombstone block at offset ${offset}: ${what}`);
  };
  const list: Fragment[] = [];
  try {
    const reader = new ByteReader(contents);
    const count = reader.varint();
    // Every fragment takes at least 4 bytes: a cheap bound before trusting the count.
    if (count > contents.length / 4) bad(`${count} fragments cannot fit in ${contents.length} bytes`);
    for (let i = 0; i < count; i++) {
      // Copies (a Buffer's slice() would be a view of the block's memory).
      const start = copyBytes(reader.lengthPrefixed());
      const end = copyBytes(reader.lengthPrefixed());
      const n = reader.varint();
      if (n === 0 || n > reader.remaining) bad(`fragment ${i} has ${n} seqnos`);
      const seqnos: number[] = [];
      for (let j = 0; j < n; j++) {
        const s = reader.varint();
        if (j > 0 && s >= (seqnos[j - 1] as number)) bad(`fragment ${i}: seqnos are not strictly descending`);
        seqnos.push(s);
      }
      if (start.length === 0) bad(`fragment ${i} has an empty start`);
      if (compareEnd(cmp, end, start) <= 0) bad(`fragment ${i} is empty (end <= start)`);
      const previous = list[list.length - 1];
      if (previous !== undefined && (previous.end.length === 0 || cmp.compare(previous.end, start) > 0)) bad(`fragment ${i} overlaps the one before`);
      list.push({ start, end, seqnos });
    }
    if (!reader.atEnd()) bad("trailing bytes");
  } catch (error) {
    if (error instanceof DecodeError) bad(error.message);
    throw error;
  }
  return list;
}
