/**
 * The compression codecs a blob file may use: lsm-core's own, found through its public `codecByName`.
 * The one-byte ids are lsm-core's (written into tables and blob files alike; never renumbered):
 *
 * | id | name | |
 * |----|------|---|
 * | 0  | none | stored as is |
 * | 1  | lz4  | LZ4 block format |
 *
 * Only these two for now: a reader must be able to resolve every id a writer can produce, and lsm-core
 * resolves ids only internally, so the set is fixed here rather than open to `registerCodec`.
 *
 * @module
 */
import { codecByName, type CompressionCodec } from "@talus/lsm-core";

/** The names of the codecs blob files can be written with. */
export type BlobCodecName = "none" | "lz4";

const NAMES: readonly BlobCodecName[] = ["none", "lz4"];

let byId: ReadonlyMap<number, CompressionCodec> | undefined;

function codecsById(): ReadonlyMap<number, CompressionCodec> {
  byId ??= new Map(NAMES.map((name) => [codecByName(name).id, codecByName(name)]));
  return byId;
}

/** The codec called `name`; a `RangeError` for a name blob files do not support. */
export function blobCodecByName(name: string): CompressionCodec {
  if (!(NAMES as readonly string[]).includes(name)) throw new RangeError(`blob files support the codecs ${NAMES.map((n) => `"${n}"`).join(", ")}, got "${name}"`);
  return codecByName(name);
}

/** The codec with `id`, or undefined when blob files do not know it. */
export function blobCodecById(id: number): CompressionCodec | undefined {
  return codecsById().get(id);
}

/** The name of a codec id read from a blob file, or undefined when unknown. */
export function blobCodecName(id: number): BlobCodecName | undefined {
  const name = blobCodecById(id)?.name;
  return NAMES.find((known) => known === name);
}
