/**
 * A growable little-endian byte buffer for encoders. Capacity doubles, so appending n bytes costs
 * amortised O(n) and encoders never build intermediate arrays.
 *
 * Varints are unsigned LEB128 (7 bits per byte, high bit = "more"), valid for integers up to 2^53 - 1:
 * they are built with arithmetic, not bit operators, because JS bit operators truncate to 32 bits.
 *
 * @module
 */
export class ByteWriter {
  #buffer: Uint8Array;
  #view: DataView;
  #length = 0;

  constructor(initialCapacity = 256) {
    this.#buffer = new Uint8Array(Math.max(16, initialCapacity));
    this.#view = new DataView(this.#buffer.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#length;
  }

  /** A view of the bytes written so far (valid until the next write). */
  bytes(): Uint8Array {
    return this.#buffer.subarray(0, this.#length);
  }

  /** A copy of the bytes written so far, detached from this writer. */
  toBytes(): Uint8Array {
    return this.#buffer.slice(0, this.#length);
  }

  /** Forgets the contents, keeping the capacity. */
  reset(): void {
    this.#length = 0;
  }

  u8(value: number): this {
    this.#reserve(1);
    this.#buffer[this.#length++] = value;
    return this;
  }

  u16(value: number): this {
    this.#reserve(2);
    this.#view.setUint16(this.#length, value, true);
    this.#length += 2;
    return this;
  }

  u32(value: number): this {
    this.#reserve(4);
    this.#view.setUint32(this.#length, value >>> 0, true);
    this.#length += 4;
    return this;
  }

  /** A 64-bit little-endian unsigned integer holding a safe JS integer. */
  u64(value: number): this {
    this.#reserve(8);
    this.#view.setUint32(this.#length, value % 0x1_0000_0000, true);
    this.#view.setUint32(this.#length + 4, Math.floor(value / 0x1_0000_0000), true);
    this.#length += 8;
    return this;
  }

  varint(value: number): this {
    this.#reserve(8);
    let v = value;
    while (v >= 0x80) {
      this.#buffer[this.#length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.#buffer[this.#length++] = v;
    return this;
  }

  raw(data: Uint8Array): this {
    this.#reserve(data.length);
    this.#buffer.set(data, this.#length);
    this.#length += data.length;
    return this;
  }

  /** A varint length followed by the bytes. */
  lengthPrefixed(data: Uint8Array): this {
    return this.varint(data.length).raw(data);
  }

  #reserve(extra: number): void {
    const needed = this.#length + extra;
    if (needed <= this.#buffer.length) return;
    let capacity = this.#buffer.length * 2;
    while (capacity < needed) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = next;
    this.#view = new DataView(next.buffer);
  }
}

/** Bytes a varint of `value` takes. */
export function varintLength(value: number): number {
  let n = 1;
  let v = value;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}
