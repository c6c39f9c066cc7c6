/**
 * The metaindex block: named handles of optional blocks, so that later features (range tombstones, blob
 * file references, other filter kinds) add blocks without a format-version bump. Same layout as a data
 * block (./block-builder.ts), restart interval 1:
 *
 * ```
 * metaindex entry := key: block name, UTF-8 | seqno: 0 | kind: 0 | value: offset: varint | size: varint
 * ```
 *
 * Names are unique and sorted bytewise. A name starting with "!" marks a block that changes what reads
 * return: a reader that does not know it must refuse the table (UNSUPPORTED_FORMAT) rather than answer
 * wrongly. Other unknown names are ignored. Known blocks: `!range-tombstones` (../range-tombstone/block.ts). Named blocks live between the data end and the footer, framed like every block.
 *
 * @module
 */
import { ByteReader, DecodeError } from "../coding/byte-reader.ts";
import { ByteWriter } from "../coding/byte-writer.ts";
import { LsmError } from "../errors.ts";
import { BlockBuilder } from "./block-builder.ts";
import { DataBlock, decodeEntry, entry } from "./data-block.ts";
import { compareBytes } from "./keys.ts";
import type { BlockHandle } from "./format.ts";
import { RANGE_TOMBSTONE_BLOCK } from "../range-tombstone/block.ts";

/** Names of "!"-blocks this build understands. */
const KNOWN_REQUIRED_BLOCKS: ReadonlySet<string> = new Set([RANGE_TOMBSTONE_BLOCK]);

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function encodeMetaindex(blocks: ReadonlyMap<string, BlockHandle>): Uint8Array {
  const builder = new BlockBuilder(1);
  const names = [...blocks.keys()].map((name) => encoder.encode(name)).sort((a, b) => compareBytes(a, 0, a.length, b, 0, b.length));
  const value = new ByteWriter(32);
  for (const name of names) {
    const handle = blocks.get(decoder.decode(name)) as BlockHandle;
    value.reset();
    value.varint(handle.offset).varint(handle.size);
    builder.add(name, 0, 0, value.bytes());
  }
  return builder.finish().slice();
}

/** Decodes the metaindex contents; `file` and `offset` name it in errors. */
export function decodeMetaindex(contents: Uint8Array, file: string, offset: number): Map<string, BlockHandle> {
  const block = new DataBlock(contents, file, offset, "metaindex");
  const blocks = new Map<string, BlockHandle>();
  let previous: Uint8Array | null = null;
  for (let i = 0; i < block.restartCount; i++) {
    const at = block.restartAt(i);
    const end = decodeEntry(block, at);
    if (entry.shared !== 0 || end !== (i + 1 < block.restartCount ? block.restartAt(i + 1) : block.restartsStart)) {
      throw block.corrupt(`entry ${i} is malformed`);
    }
    const nameBytes = contents.subarray(entry.keyStart, entry.keyStart + entry.unshared);
    if (previous !== null && compareBytes(previous, 0, previous.length, nameBytes, 0, nameBytes.length) >= 0) throw block.corrupt(`entry ${i} is out of order`);
    previous = nameBytes;
    let name: string;
    let handle: BlockHandle;
    try {
      name = decoder.decode(nameBytes);
      const reader = new ByteReader(contents, entry.keyStart + entry.unshared, end);
      handle = { offset: reader.varint(), size: reader.varint() };
    } catch (error) {
      if (error instanceof DecodeError || error instanceof TypeError) throw block.corrupt(`entry ${i}: ${error.message}`);
      throw error;
    }
    if (name.startsWith("!") && !KNOWN_REQUIRED_BLOCKS.has(name)) {
      throw new LsmError("UNSUPPORTED_FORMAT", `file ${file}: the table needs block "${name}", which this build does not understand`);
    }
    blocks.set(name, handle);
  }
  return blocks;
}
