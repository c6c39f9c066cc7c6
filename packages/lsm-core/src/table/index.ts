/**
 * Tables (SSTs): the immutable sorted files a tree's levels are made of. Format: docs/FORMAT.md.
 *
 * @module
 */
export { BloomFilter, BloomFilterBuilder, keyHash, prefixHash, type PrefixExtractor } from "./bloom-filter.ts";
export { codecById, codecByName, DEFLATE_CODEC, LZ4_CODEC, NONE_CODEC, registerCodec, type Codec, type CompressionCodec } from "./codec.ts";
export { FOOTER_SIZE } from "./footer.ts";
export { BLOCK_TRAILER_SIZE, FILE_HEADER_SIZE, MAX_BLOCK_BYTES, TABLE_FORMAT_VERSION, TABLE_MAGIC, type BlockHandle } from "./format.ts";
export { murmur3 } from "./hash.ts";
export type { TableMeta, TableProperties } from "./meta.ts";
export { Table, type TableCursorOptions, type TableOpenOptions } from "./table.ts";
export { TableWriter, type PausePoint, type TableWriterOptions, type WrittenTable } from "./table-writer.ts";
