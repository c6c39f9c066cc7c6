/**
 * A bounds-checked little-endian decoder over a byte range. Every read that would run past the end, and
 * every varint longer than 8 bytes or above 2^53 - 1, throws {@link DecodeError}; decoders of on-disk
 * structures catch it and report `CORRUPTION` with the file's name. Random bytes must never crash
 * the process or decode into something silently wrong-sized.
 *
 * @module
 */

/** Raised by {@link ByteReader} on malformed input; callers turn it into a CORRUPTION error naming the file. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DecodeError";
  }
}

export class ByteReader {
  readonly data: Uint8Array;
  #view: DataView;
  #pos: number;
  readonly #end: number;

  constructor(data: Uint8Array, start = 0, end = data.length) {
    if (start < 0 || end > data.length || start > end) throw new DecodeError(`range [${start}, ${end}) outside ${data.length} bytes`);
    this.data = data;
    this.#view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.#pos = start;
    this.#end = end;
  }

  get position(): number {
    return this.#pos;
  }

  get remaining(): number {
    return this.#end - this.#pos;
  }

  atEnd(): boolean {
    return this.#pos >= this.#end;
  }

  u8(): number {
    this.#need(1);
    return this.data[this.#pos++] as number;
  }

  u16(): number {
    this.#need(2);
    const v = this.#view.getUint16(this.#pos, true);
    this.#pos += 2;
    return v;
  }

  u32(): number {
    this.#need(4);
    const v = this.#view.getUint32(this.#pos, true);
    this.#pos += 4;
    return v;
  }

  u64(): number {
    this.#need(8);
    const low = this.#view.getUint32(this.#pos, true);
    const high = this.#view.getUint32(this.#pos + 4, true);
    if (high > 0x1f_ffff) throw new DecodeError(`u64 at ${this.#pos} exceeds 2^53`);
    this.#pos += 8;
    return high * 0x1_0000_0000 + low;
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      this.#need(1);
      const byte = this.data[this.#pos++] as number;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (result > Number.MAX_SAFE_INTEGER) throw new DecodeError("varint exceeds 2^53");
        return result;
      }
      scale *= 0x80;
    }
    throw new DecodeError(`varint at ${this.#pos} longer than 8 bytes`);
  }

  /** A view (not a copy) of the next `length` bytes. */
  bytes(length: number): Uint8Array {
    this.#need(length);
    const out = this.data.subarray(this.#pos, this.#pos + length);
    this.#pos += length;
    return out;
  }

  lengthPrefixed(): Uint8Array {
    return this.bytes(this.varint());
  }

  skip(length: number): void {
    this.#need(length);
    this.#pos += length;
  }

  #need(n: number): void {
    if (n < 0 || this.#pos + n > this.#end) throw new DecodeError(`need ${n} bytes at ${this.#pos}, only ${this.#end - this.#pos} left`);
  }
}
