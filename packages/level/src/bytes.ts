/**
 * Bytes in the private API's format: abstract-level asks for keys and values as `"view"` (any
 * Uint8Array) or `"buffer"` (a Buffer); a Buffer is made as a view of the same memory, never a copy.
 *
 * @module
 */

/** A Buffer over the memory of `bytes` (no copy). */
export function bufferView(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** `bytes` as the private API wants them: a Buffer view when `asBuffer` (encoding `"buffer"`), else as they are. */
export function format(bytes: Uint8Array, asBuffer: boolean): Uint8Array {
  return asBuffer ? bufferView(bytes) : bytes;
}
