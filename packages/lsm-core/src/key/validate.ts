/**
 * Argument checks at the public boundary. Every write validates everything before it changes anything,
 * so a bad argument throws and writes nothing.
 *
 * @module
 */

/** Longest user key: key lengths are stored in 16 bits. */
export const MAX_KEY_BYTES = 65_535;
/** Longest value: value lengths are stored in 32 bits. */
export const MAX_VALUE_BYTES = 0xffff_ffff;

const encoder = new TextEncoder();

/** Keys and values are accepted as bytes (a Buffer is a Uint8Array) or as strings, stored as UTF-8. */
export type Bytes = Uint8Array | string;

/** Converts a key to bytes and checks its length; throws `TypeError` / `RangeError`. */
export function toKey(key: unknown, name = "key"): Uint8Array {
  const bytes = toBytes(key, name);
  if (bytes.length === 0) throw new RangeError(`${name} must not be empty`);
  if (bytes.length > MAX_KEY_BYTES) throw new RangeError(`${name} is ${bytes.length} bytes; the limit is ${MAX_KEY_BYTES}`);
  return bytes;
}

/** Converts a value to bytes and checks its length; throws `TypeError` / `RangeError`. */
export function toValue(value: unknown, name = "value"): Uint8Array {
  const bytes = toBytes(value, name);
  if (bytes.length > MAX_VALUE_BYTES) throw new RangeError(`${name} is ${bytes.length} bytes; the limit is ${MAX_VALUE_BYTES}`);
  return bytes;
}

function toBytes(input: unknown, name: string): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (typeof input === "string") return encoder.encode(input);
  throw new TypeError(`${name} must be a Uint8Array, Buffer or string, got ${input === null ? "null" : typeof input}`);
}
