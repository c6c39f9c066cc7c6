/**
 * Constants and small shared pieces of the table (SST) file format. The full specification, with every
 * byte drawn, is docs/FORMAT.md; each module that writes a region repeats its layout.
 *
 * A table file:
 *
 * ```
 * +-------------+--------------+-----+----------------+----------------+-------------+------------+-----------------+----------+
 * | file header | data block 0 | ... | data block n-1 | [filter block] | index block | meta block | metaindex block |  footer  |
 * |    12 B     |              |     |                |                |             |            |                 |   76 B   |
 * +-------------+--------------+-----+----------------+----------------+-------------+------------+-----------------+----------+
 * 0             12                                    ^ data end                                                    ^ footer offset
 *
 * file header := magic "TALUSSST" (8 B) | format version: u32 LE (= 1)
 * ```
 *
 * The format version is written twice, at the first and the last bytes, so that a reader can tell the
 * generation of a file from either end; the footer's copy is authoritative and both must agree.
 *
 * @module
 */

/** "TALUSSST" in ASCII: the first and the last 8 bytes of every table file. */
export const TABLE_MAGIC: Uint8Array = new Uint8Array([0x54, 0x41, 0x4c, 0x55, 0x53, 0x53, 0x53, 0x54]);

/**
 * The table format this build writes and reads. Bump it for any change an older reader would misread;
 * additions an older reader may ignore go into the meta block (new tags) or the metaindex (new blocks).
 */
export const TABLE_FORMAT_VERSION = 1;

/** magic (8) + format version (4). */
export const FILE_HEADER_SIZE = 8 + 4;

/** codec id (1) + CRC-32 of payload and codec id (4). */
export const BLOCK_TRAILER_SIZE = 1 + 4;

/**
 * The largest decoded block a reader accepts (and a writer produces). A length field above it can only be
 * corruption; values too large for it belong in blob files.
 */
export const MAX_BLOCK_BYTES = 256 * 1024 * 1024;

/** Where a block lives: `size` counts its payload only, the 5-byte trailer follows it. */
export interface BlockHandle {
  readonly offset: number;
  readonly size: number;
}

/** The file header bytes. */
export function encodeFileHeader(): Uint8Array {
  const out = new Uint8Array(FILE_HEADER_SIZE);
  out.set(TABLE_MAGIC, 0);
  new DataView(out.buffer).setUint32(8, TABLE_FORMAT_VERSION, true);
  return out;
}

/** Whether `data[start, start + 8)` is the table magic. */
export function isMagicAt(data: Uint8Array, start: number): boolean {
  for (let i = 0; i < TABLE_MAGIC.length; i++) {
    if (data[start + i] !== TABLE_MAGIC[i]) return false;
  }
  return true;
}
