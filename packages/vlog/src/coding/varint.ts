/**
 * Unsigned LEB128 varints, as everywhere in the Talus format: 7 bits per byte, high bit = "more
 * follows", at most 8 bytes and at most 2^53 - 1 (a JS number holds it exactly).
 *
 * @module
 */

/** Longest varint a Talus reader accepts. */
export const MAX_VARINT_BYTES = 8;

/** Bytes a varint of `value` takes. */
export function varintLength(value: number): number {
  let n = 1;
  for (let v = value; v >= 0x80; v = Math.floor(v / 0x80)) n++;
  return n;
}

/** Writes `value` (a safe non-negative integer) at `out[at]`; returns the position after it. */
export function putVarint(out: Uint8Array, at: number, value: number): number {
  let v = value;
  let pos = at;
  while (v >= 0x80) {
    out[pos++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  out[pos++] = v;
  return pos;
}

/** A varint read by {@link getVarint}: its value and the position after it. */
export interface DecodedVarint {
  readonly value: number;
  readonly next: number;
}

/**
 * Reads the varint at `data[at]`, or returns a sentence saying why it is malformed: it runs past the
 * end, is longer than 8 bytes, exceeds 2^53 - 1, or is not in its shortest form (a final 0x00 byte after
 * the first), which no Talus writer produces.
 */
export function getVarint(data: Uint8Array, at: number): DecodedVarint | string {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    const byte = data[at + i];
    if (byte === undefined) return `varint at byte ${at} runs past the end (${data.length} bytes)`;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      if (byte === 0 && i > 0) return `varint at byte ${at} is not in its shortest form`;
      if (value > Number.MAX_SAFE_INTEGER) return `varint at byte ${at} exceeds 2^53 - 1`;
      return { value, next: at + i + 1 };
    }
    scale *= 0x80;
  }
  return `varint at byte ${at} is longer than ${MAX_VARINT_BYTES} bytes`;
}
