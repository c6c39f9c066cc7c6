/**
 * Builds the contents of a data block (and of index and metaindex blocks, which share the layout):
 *
 * ```
 * block    := entry[n] | restart[r]: u32 LE | r: u32 LE
 * entry    := shared: varint | unshared: varint | value length: varint | seqno: varint | kind: u8
 *             | key delta: unshared bytes | value: value length bytes
 * ```
 *
 * `shared` is the length of the prefix the entry's user key has in common with the previous entry's;
 * the key delta is the rest. Every `restartInterval`-th entry (the 0th, the Rth, ...) is a restart point:
 * it stores its whole key (`shared = 0`) and its offset is listed in the restart array, so a reader can
 * binary-search restart points and decode forward from any of them. Entries are in internal-key order
 * (user key ascending, seqno descending). Seqnos are varints up to 2^53 - 1. A non-empty block has
 * `r >= 1` and `restart[0] = 0`; the empty block is the 4 bytes `r = 0`.
 *
 * @module
 */
import { ByteWriter } from "../coding/byte-writer.ts";

export class BlockBuilder {
  readonly restartInterval: number;
  readonly #out = new ByteWriter(4096);
  #restarts = new Uint32Array(64);
  #restartCount = 0;
  #sinceRestart = 0;
  #entryCount = 0;
  #lastKey = new Uint8Array(64);
  #lastKeyLength = 0;

  constructor(restartInterval: number) {
    if (!Number.isInteger(restartInterval) || restartInterval < 1) throw new RangeError(`restartInterval must be a positive integer, got ${restartInterval}`);
    this.restartInterval = restartInterval;
  }

  get entryCount(): number {
    return this.#entryCount;
  }

  /** The size of the contents if finished now. */
  get estimatedSize(): number {
    return this.#out.length + 4 * this.#restartCount + 4;
  }

  /** Appends an entry; REQUIRES: it sorts after the previous one (the caller checks the order). */
  add(key: Uint8Array, seqno: number, kind: number, value: Uint8Array): void {
    let shared = 0;
    if (this.#sinceRestart === this.restartInterval || this.#entryCount === 0) {
      this.#sinceRestart = 0;
      this.#pushRestart(this.#out.length);
    } else {
      const last = this.#lastKey;
      const limit = Math.min(this.#lastKeyLength, key.length);
      while (shared < limit && last[shared] === key[shared]) shared++;
    }
    const out = this.#out;
    out.varint(shared).varint(key.length - shared).varint(value.length).varint(seqno).u8(kind);
    out.raw(shared === 0 ? key : key.subarray(shared));
    out.raw(value);
    this.#rememberKey(key, shared);
    this.#sinceRestart++;
    this.#entryCount++;
  }

  /** The finished contents: a view valid until {@link reset} or the next {@link add}. */
  finish(): Uint8Array {
    const out = this.#out;
    for (let i = 0; i < this.#restartCount; i++) out.u32(this.#restarts[i] as number);
    out.u32(this.#restartCount);
    return out.bytes();
  }

  reset(): void {
    this.#out.reset();
    this.#restartCount = 0;
    this.#sinceRestart = 0;
    this.#entryCount = 0;
    this.#lastKeyLength = 0;
  }

  #pushRestart(offset: number): void {
    if (this.#restartCount === this.#restarts.length) {
      const grown = new Uint32Array(this.#restarts.length * 2);
      grown.set(this.#restarts);
      this.#restarts = grown;
    }
    this.#restarts[this.#restartCount++] = offset;
  }

  #rememberKey(key: Uint8Array, shared: number): void {
    if (key.length > this.#lastKey.length) {
      const grown = new Uint8Array(Math.max(key.length, this.#lastKey.length * 2));
      grown.set(this.#lastKey.subarray(0, shared));
      this.#lastKey = grown;
    }
    this.#lastKey.set(shared === 0 ? key : key.subarray(shared), shared);
    this.#lastKeyLength = key.length;
  }
}
