/**
 * Block compression codecs, found by the one-byte id each block's trailer carries. The ids are written
 * into every table: DO NOT RENUMBER. 0–127 are Talus' own; 128–255 are free for applications that
 * {@link registerCodec} their own (a table using one can only be read where it is registered).
 *
 * | id | name    | what                                                     |
 * |----|---------|----------------------------------------------------------|
 * | 0  | none    | stored as is                                             |
 * | 1  | lz4     | LZ4 block format (./lz4.ts)                              |
 * | 2  | deflate | raw DEFLATE (RFC 1951) through node:zlib, for cold data  |
 *
 * @module
 */
import { deflateRawSync, inflateRawSync } from "node:zlib";
import { lz4CompressReusingBuffer, lz4Decompress } from "./lz4.ts";

/**
 * A block compressor. `decompress` must return exactly what `compress` was given, and must throw (never
 * return garbage or exceed `maxLength` bytes) on input it did not produce.
 */
export interface CompressionCodec {
  /** Written into every block compressed with it: 1..255, never reused for another algorithm. */
  readonly id: number;
  /** The codec's name, as the `compression` option and `codecByName` take it ("none", "lz4", "deflate"). */
  readonly name: string;
  /** May return a view of a buffer it reuses on its next call (LZ4 does): use or copy it before then. */
  compress(data: Uint8Array): Uint8Array;
  /** Returns exactly the bytes `compress` was given; throws on input it did not produce or that would exceed `maxLength` bytes. */
  decompress(data: Uint8Array, maxLength: number): Uint8Array;
}

export const NONE_CODEC: CompressionCodec = {
  id: 0,
  name: "none",
  compress: (data) => data,
  decompress: (data) => data,
};

export const LZ4_CODEC: CompressionCodec = {
  id: 1,
  name: "lz4",
  compress: lz4CompressReusingBuffer,
  decompress: lz4Decompress,
};

export const DEFLATE_CODEC: CompressionCodec = {
  id: 2,
  name: "deflate",
  compress: (data) => deflateRawSync(data),
  // maxOutputLength makes zlib stop (and throw) instead of inflating a bomb.
  decompress: (data, maxLength) => inflateRawSync(data, { maxOutputLength: Math.max(1, maxLength) }),
};

const registry = new Map<number, CompressionCodec>([
  [NONE_CODEC.id, NONE_CODEC],
  [LZ4_CODEC.id, LZ4_CODEC],
  [DEFLATE_CODEC.id, DEFLATE_CODEC],
]);

/** Makes `codec` readable and writable by id. Throws if its id is taken by another codec or out of range. */
export function registerCodec(codec: CompressionCodec): void {
  if (!Number.isInteger(codec.id) || codec.id < 1 || codec.id > 255) throw new RangeError(`codec id must be in 1..255, got ${codec.id}`);
  const existing = registry.get(codec.id);
  if (existing !== undefined && existing !== codec) throw new Error(`codec id ${codec.id} is already registered as "${existing.name}"`);
  registry.set(codec.id, codec);
}

/** The codec with `id`, or undefined when this process does not know it. */
export function codecById(id: number): CompressionCodec | undefined {
  return registry.get(id);
}

/** The registered codec called `name` ("none", "lz4", "deflate", ...); throws a RangeError for an unknown name. */
export function codecByName(name: string): CompressionCodec {
  for (const codec of registry.values()) if (codec.name === name) return codec;
  throw new RangeError(`unknown compression codec "${name}"; known: ${[...registry.values()].map((c) => c.name).join(", ")}`);
}

/** Short name of {@link CompressionCodec}. */
export type Codec = CompressionCodec;
