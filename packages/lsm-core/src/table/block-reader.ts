/**
 * A cursor over one decoded block (layout in ./block-builder.ts), in internal-key order. The current key
 * is rebuilt from its prefix-compressed delta into one growable buffer owned by the cursor; values are
 * views into the block. Nothing is allocated per entry except the views `value()` hands out: `key()`
 * returns the buffer itself while the key fills it (always, with keys of one length) and otherwise
 * reuses one view while the key length stays the same.
 *
 * Seeks binary-search the restart points (whose keys are stored whole, so they are compared in place),
 * then decode forward. `prev()` re-decodes from the restart point before the current entry, which
 * costs at most one restart interval.
 *
 * Invariants: when valid, `#current` is the offset of the current entry, `#next` the offset just past it,
 * `#key[0, #keyLength)` its user key, `#restartIndex` the last restart point at or before `#current` and
 * `#nextRestart` the offset of the one after it. Decoding forward checks that entries meet every restart
 * point exactly and that restart entries store whole keys.
 *
 * @module
 */
import { EMPTY } from "../iter/cursor.ts";
import type { ValueKind } from "../key/value-kind.ts";
import { DataBlock, decodeEntry, entry } from "./data-block.ts";
import { compareBytes, type KeyOrder } from "./keys.ts";

const EMPTY_BLOCK = new DataBlock(new Uint8Array(4), "(none)", 0);

export class BlockCursor {
  readonly #order: KeyOrder;
  #block: DataBlock = EMPTY_BLOCK;
  #current = -1;
  #next = 0;
  #restartIndex = 0;
  /** Sized to the first key, so that with keys of one length `key()` hands out the buffer itself, no view. */
  #key: Uint8Array = EMPTY;
  #keyLength = 0;
  #keyView: Uint8Array = EMPTY;
  #seqno = 0;
  #kind: ValueKind = 0;
  #valueStart = 0;
  #valueLength = 0;
  #restartSeqno = 0;
  /** Offset of restart point `#restartIndex + 1` (the end of the entries after the last one). */
  #nextRestart = 0;

  constructor(order: KeyOrder) {
    this.#order = order;
  }

  /** Moves onto `block`, unpositioned. */
  reset(block: DataBlock): void {
    this.#block = block;
    this.#current = -1;
  }

  get block(): DataBlock {
    return this.#block;
  }

  valid(): boolean {
    return this.#current >= 0;
  }

  key(): Uint8Array {
    const key = this.#key;
    if (this.#keyLength === key.length) return key;
    const view = this.#keyView;
    if (view.length !== this.#keyLength || view.buffer !== this.#key.buffer) this.#keyView = this.#key.subarray(0, this.#keyLength);
    return this.#keyView;
  }

  seqno(): number {
    return this.#seqno;
  }

  kind(): ValueKind {
    return this.#kind;
  }

  value(): Uint8Array {
    if (this.#valueLength === 0) return EMPTY;
    return this.#block.data.subarray(this.#valueStart, this.#valueStart + this.#valueLength);
  }

  /** Compares the current user key with `key`. REQUIRES: valid(). */
  compareKey(key: Uint8Array): number {
    const order = this.#order;
    // A custom comparator needs a view: the cached one from key() avoids a new view per entry.
    return order.bytewise ? compareBytes(this.#key, 0, this.#keyLength, key, 0, key.length) : order.comparator.compare(this.key(), key);
  }

  seekToFirst(): void {
    if (this.#block.restartCount === 0) {
      this.#current = -1;
      return;
    }
    this.#toRestart(0);
    this.#parseNext();
  }

  seekToLast(): void {
    const count = this.#block.restartCount;
    if (count === 0) {
      this.#current = -1;
      return;
    }
    this.#toRestart(count - 1);
    while (this.#parseNext() && this.#next < this.#block.restartsStart);
  }

  /** Moves to the first entry at or after `(key, seqno)` in internal order; invalid if there is none in this block. */
  seek(key: Uint8Array, seqno: number): void {
    const block = this.#block;
    if (block.restartCount === 0) {
      this.#current = -1;
      return;
    }
    this.#toRestart(this.#lastRestartBefore(key, seqno));
    if (!this.#order.bytewise) {
      while (this.#parseNext()) {
        const c = this.compareKey(key);
        if (c > 0 || (c === 0 && this.#seqno <= seqno)) return;
      }
      return;
    }
    // `matched` is how many leading bytes the last key had in common with `key`; the next key shares
    // `entry.shared` bytes with the last one, so the first min(shared, matched) bytes need no comparing.
    let matched = 0;
    while (this.#parseNext()) {
      const current = this.#key;
      const length = this.#keyLength;
      const n = length < key.length ? length : key.length;
      let i = entry.shared < matched ? entry.shared : matched;
      while (i < n && current[i] === key[i]) i++;
      matched = i;
      const c = i < n ? (current[i] as number) - (key[i] as number) : length - key.length;
      if (c > 0 || (c === 0 && this.#seqno <= seqno)) return;
    }
  }

  /** Moves to the last entry whose user key is `<= key`; invalid if there is none in this block. */
  seekForPrev(key: Uint8Array): void {
    const block = this.#block;
    if (block.restartCount === 0) {
      this.#current = -1;
      return;
    }
    // Seqno -1 sorts after every version of `key`, so this finds the last restart whose key is <= key.
    this.#toRestart(this.#lastRestartBefore(key, -1));
    if (!this.#parseNext()) return;
    if (this.compareKey(key) > 0) {
      this.#current = -1;
      return;
    }
    for (;;) {
      if (this.#next >= block.restartsStart) return;
      this.#parseNext();
      if (this.compareKey(key) > 0) {
        this.#backTo(this.#current);
        return;
      }
    }
  }

  next(): void {
    this.#parseNext();
  }

  prev(): void {
    const original = this.#current;
    if (original <= 0) {
      this.#current = -1;
      return;
    }
    this.#backTo(original);
  }

  /** Positions on the entry just before the one at `offset`. REQUIRES: `offset` is an entry boundary > 0. */
  #backTo(offset: number): void {
    const block = this.#block;
    let r = this.#restartIndex;
    while (r > 0 && block.restartAt(r) >= offset) r--;
    this.#toRestart(r);
    while (this.#parseNext() && this.#next < offset);
    if (this.#current >= 0 && this.#next !== offset) throw block.corrupt(`entries do not chain at ${offset}`);
  }

  /**
   * The last restart point whose entry sorts before the internal key `(key, seqno)` (restart 0 when none
   * does): the place a forward scan for that key starts. Requires restartCount > 0.
   */
  #lastRestartBefore(key: Uint8Array, seqno: number): number {
    let left = 0;
    let right = this.#block.restartCount - 1;
    while (left < right) {
      const mid = (left + right + 1) >>> 1;
      const c = this.#compareRestart(mid, key);
      if (c < 0 || (c === 0 && this.#restartSeqno > seqno)) left = mid;
      else right = mid - 1;
    }
    return left;
  }

  #toRestart(index: number): void {
    const block = this.#block;
    this.#restartIndex = index;
    this.#next = block.restartAt(index);
    this.#nextRestart = index + 1 < block.restartCount ? block.restartAt(index + 1) : block.restartsStart;
    this.#keyLength = 0;
  }

  /** Decoding forward reached the next restart point: it must start exactly there, with a whole key. */
  #passRestart(offset: number, shared: number): void {
    const block = this.#block;
    if (offset !== this.#nextRestart) throw block.corrupt(`entry at ${offset} straddles restart point ${this.#nextRestart}`);
    if (shared !== 0) throw block.corrupt(`restart entry at ${offset} is prefix-compressed`);
    this.#restartIndex++;
    const index = this.#restartIndex;
    this.#nextRestart = index + 1 < block.restartCount ? block.restartAt(index + 1) : block.restartsStart;
  }

  /** Decodes the entry at `#next`; false (and invalid) at the end of the entries. */
  #parseNext(): boolean {
    const block = this.#block;
    const offset = this.#next;
    if (offset >= block.restartsStart || offset < 0) {
      this.#current = -1;
      return false;
    }
    this.#next = decodeEntry(block, offset);
    const shared = entry.shared;
    const unshared = entry.unshared;
    if (shared > this.#keyLength) throw block.corrupt(`entry at ${offset} shares ${shared} bytes of a ${this.#keyLength}-byte key`);
    if (offset >= this.#nextRestart) this.#passRestart(offset, shared);
    const length = shared + unshared;
    if (length > this.#key.length) this.#growKey(length);
    const data = block.data;
    const src = entry.keyStart;
    if (unshared <= 32) {
      const key = this.#key;
      for (let i = 0; i < unshared; i++) key[shared + i] = data[src + i] as number;
    } else {
      this.#key.set(data.subarray(src, src + unshared), shared);
    }
    this.#keyLength = length;
    this.#current = offset;
    this.#seqno = entry.seqno;
    this.#kind = entry.kind as ValueKind;
    this.#valueStart = src + unshared;
    this.#valueLength = entry.valueLength;
    return true;
  }

  /** Compares the whole key stored at restart point `index` with `key`; leaves its seqno in `#restartSeqno`. */
  #compareRestart(index: number, key: Uint8Array): number {
    const block = this.#block;
    const offset = block.restartAt(index);
    decodeEntry(block, offset);
    if (entry.shared !== 0) throw block.corrupt(`restart entry at ${offset} is prefix-compressed`);
    this.#restartSeqno = entry.seqno;
    return this.#order.compareAt(block.data, entry.keyStart, entry.keyStart + entry.unshared, key);
  }

  #growKey(length: number): void {
    const grown = new Uint8Array(Math.max(length, this.#key.length * 2));
    grown.set(this.#key.subarray(0, this.#keyLength));
    this.#key = grown;
  }
}
