/**
 * A real copy of some bytes. `Buffer#slice` returns a view of the same memory (unlike
 * `Uint8Array#slice`), and callers hand us Buffers, so "copy with slice()" silently aliases their
 * memory; every copy the engine means to own goes through here.
 *
 * @module
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
