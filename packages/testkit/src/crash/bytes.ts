/**
 * A growable byte array: the contents of one file, current or durable.
 *
 * Capacity doubles so that a log written in small appends costs amortised O(bytes), never a copy of
 * the whole file per write. Everything past `size` is kept zero, so extending a file (by `setLen` or
 * by writing past its end) exposes zeros without a separate fill.
 */
export class ByteBuffer {
  #bytes: Uint8Array;
  #size: number;

  constructor(initial?: Uint8Array) {
    this.#bytes = new Uint8Array(initial?.length ?? 0);
    if (initial !== undefined) this.#bytes.set(initial);
    this.#size = this.#bytes.length;
  }

  get size(): number {
    return this.#size;
  }

  /** Copies bytes from `position` into `into`; fill-or-EOF like `pread`. */
  read(into: Uint8Array, position: number): number {
    if (position >= this.#size) return 0;
    const count = Math.min(into.length, this.#size - position);
    into.set(this.#bytes.subarray(position, position + count));
    return count;
  }

  write(position: number, source: Uint8Array): void {
    const end = position + source.length;
    this.#reserve(end);
    this.#bytes.set(source, position);
    if (end > this.#size) this.#size = end;
  }

  setLen(length: number): void {
    if (length < this.#size) this.#bytes.fill(0, length, this.#size);
    else this.#reserve(length);
    this.#size = length;
  }

  clone(): ByteBuffer {
    return new ByteBuffer(this.#bytes.subarray(0, this.#size));
  }

  /** A copy of the contents. */
  toBytes(): Uint8Array {
    return this.#bytes.slice(0, this.#size);
  }

  #reserve(needed: number): void {
    if (needed <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(needed, this.#bytes.length * 2, 64));
    grown.set(this.#bytes.subarray(0, this.#size));
    this.#bytes = grown;
  }
}
