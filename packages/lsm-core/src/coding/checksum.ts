/**
 * The checksum of every block, file and pointer Talus writes: CRC-32 (IEEE), computed natively by
 * node:zlib. 32 bits detect every burst error up to 32 bits and random corruption with probability
 * 1 - 2^-32 per checked unit, which is what a storage checksum is for (it is not a hash table hash).
 *
 * @module
 */
import { crc32 } from "node:zlib";

/** CRC-32 of `data`, continuing from `previous` when given (so a file can be checksummed in pieces). */
export function checksum(data: Uint8Array, previous = 0): number {
  return crc32(data, previous) >>> 0;
}
