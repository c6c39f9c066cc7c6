/**
 * The checksums of blob files: CRC-32 (IEEE) computed natively by node:zlib, the same function
 * `@talus/lsm-core` uses for tables and version files (its helper is not part of its public API, so the
 * two lines live here too).
 *
 * @module
 */
import { crc32 } from "node:zlib";

/** CRC-32 of `data`, continuing from `previous` when given (so a file can be checksummed in pieces). */
export function checksum(data: Uint8Array, previous = 0): number {
  return crc32(data, previous) >>> 0;
}

/**
 * The stored form of a record CRC: `((c >>> 15) | (c << 17)) + 0xa282ead8`, LevelDB's mask, as table
 * blocks use it. Why: the CRC-32 of a message followed by its own CRC is a constant, so unmasked record
 * CRCs would add the same to the file checksum whatever the record holds, and the file checksum could
 * not catch a record replaced together with a matching CRC.
 */
export function maskChecksum(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}
