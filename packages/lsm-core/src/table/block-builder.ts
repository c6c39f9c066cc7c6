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
/** Copies below this many bytes go through a byte loop: TypedArray#set costs more than the loop for them. */
const SMALL_COPY_BYTES = 16;
/** The most a varint of an entry's header takes: shared and unshared (< 2^16), value length (< 2^32), seqno (< 2^53). */
const MAX_HEADER_BYTES = 3 + 3 + 5 + 8 + 1;

/**
 * The block's bytes go straight into one growing buffer, with the varints and small copies inlined:
 * this is the inner loop of every flush and compaction, and a general byte writer's per-call checks and
 * per-copy `subarray` views cost about a third of it.
 */
export class BlockBuilder {
  readonly restartInterval: number;
  #buffer = new Uint8Array(4096);
  #length = 0;
  #restarts = new Uint32Array(64);
  #restartCount = 0;
  #sinceRestart = 0;
  #entryCount = 0;
  #lastKey = new Uint8Array(64);
  #lastKeyLength = 0;
  /** `#lastKey[0, #lastKeyLength)`, made anew only when the length or the buffer changes. */
  #lastKeyView: Uint8Array = this.#lastKey.subarray(0, 0);

  constructor(restartInterval: number) {
    if (!Number.isInteger(restartInterval) || restartInterval < 1) throw new RangeError(`restartInterval must be a positive integer, got ${restartInterval}`);
    this.restartInterval = restartInterval;
  }

  get entryCount(): number {
    return this.#entryCount;
  }

  /**
   * The last key added, valid until the next {@link add}. It survives {@link reset}: a table writer
   * keeps using it as "the previous key" across block boundaries, so the key is copied once per entry
   * (and only its unshared bytes), not once here and once more by the writer.
   */
  get lastKey(): Uint8Array {
    return this.#lastKeyView;
  }

  /** The size of the contents if finished now. */
  get estimatedSize(): number {
    return this.#length + 4 * this.#restartCount + 4;
  }

  /** Appends an entry; REQUIRES: it sorts after the previous one (the caller checks the order). */
  add(key: Uint8Array, seqno: number, kind: number, value: Uint8Array): void {
    const keyLength = key.length;
    // The prefix shared with the previous key (of this block or the one before): stored as a delta
    // unless this entry is a restart point, and copied into #lastKey either way only past it.
    let common = 0;
    const last = this.#lastKey;
    const limit = this.#lastKeyLength < keyLength ? this.#lastKeyLength : keyLength;
    while (common < limit && last[common] === key[common]) common++;
    let shared = common;
    if (this.#sinceRestart === this.restartInterval || this.#entryCount === 0) {
      this.#sinceRestart = 0;
      this.#pushRestart(this.#length);
      shared = 0;
    }
    const unshared = keyLength - shared;
    const valueLength = value.length;
    if (this.#length + MAX_HEADER_BYTES + unshared + valueLength > this.#buffer.length) this.#grow(MAX_HEADER_BYTES + unshared + valueLength);
    const out = this.#buffer;
    let p = putVarint32(out, this.#length, shared);
    p = putVarint32(out, p, unshared);
    p = putVarint32(out, p, valueLength);
    p = seqno < 0x8000_0000 ? putVarint32(out, p, seqno) : putVarint53(out, p, seqno);
    out[p++] = kind;
    if (unshared < SMALL_COPY_BYTES) {
      for (let i = shared; i < keyLength; i++) out[p++] = key[i] as number;
    } else {
      out.set(shared === 0 ? key : key.subarray(shared), p);
      p += unshared;
    }
    if (valueLength < SMALL_COPY_BYTES) {
      for (let i = 0; i < valueLength; i++) out[p++] = value[i] as number;
    } else {
      out.set(value, p);
      p += valueLength;
    }
    this.#length = p;
    this.#rememberKey(key, common);
    this.#sinceRestart++;
    this.#entryCount++;
  }

  /** The finished contents: a view valid until {@link reset} or the next {@link add}. */
  finish(): Uint8Array {
    const count = this.#restartCount;
    if (this.#length + 4 * count + 4 > this.#buffer.length) this.#grow(4 * count + 4);
    const out = this.#buffer;
    let p = this.#length;
    for (let i = 0; i < count; i++) p = putU32(out, p, this.#restarts[i] as number);
    p = putU32(out, p, count);
    this.#length = p;
    return out.subarray(0, p);
  }

  reset(): void {
    this.#length = 0;
    this.#restartCount = 0;
    this.#sinceRestart = 0;
    this.#entryCount = 0;
  }

  #grow(extra: number): void {
    let capacity = this.#buffer.length * 2;
    while (capacity < this.#length + extra) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = next;
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
    const keyLength = key.length;
    if (keyLength > this.#lastKey.length) {
      const grown = new Uint8Array(Math.max(keyLength, this.#lastKey.length * 2));
      grown.set(this.#lastKey.subarray(0, shared));
      this.#lastKey = grown;
      this.#lastKeyView = grown.subarray(0, 0);
    }
    const last = this.#lastKey;
    if (keyLength - shared < SMALL_COPY_BYTES) {
      for (let i = shared; i < keyLength; i++) last[i] = key[i] as number;
    } else {
      last.set(shared === 0 ? key : key.subarray(shared), shared);
    }
    this.#lastKeyLength = keyLength;
    if (this.#lastKeyView.length !== keyLength) this.#lastKeyView = last.subarray(0, keyLength);
  }
}

/** Writes `value` (an integer in [0, 2^32)) as a varint at `p`; returns the position after it. */
function putVarint32(out: Uint8Array, p: number, value: number): number {
  let v = value;
  while (v >= 0x80) {
    out[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[p++] = v;
  return p;
}

/** Writes `value` (an integer in [0, 2^53)) as a varint at `p`; returns the position after it. */
function putVarint53(out: Uint8Array, p: number, value: number): number {
  let v = value;
  while (v >= 0x80) {
    out[p++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  out[p++] = v;
  return p;
}

function putU32(out: Uint8Array, p: number, value: number): number {
  out[p] = value & 0xff;
  out[p + 1] = (value >>> 8) & 0xff;
  out[p + 2] = (value >>> 16) & 0xff;
  out[p + 3] = value >>> 24;
  return p + 4;
}
