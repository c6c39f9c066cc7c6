export { ByteReader, DecodeError } from "./byte-reader.ts";
export { ByteWriter, varintLength } from "./byte-writer.ts";
export { checksum } from "./checksum.ts";
