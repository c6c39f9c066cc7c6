/**
 * The {@link EntryCursor} over a whole table: a position in the index plus a {@link BlockCursor} on the
 * data block it names. Blocks are fetched lazily, through the block cache, only when the cursor enters
 * them; moving past a block's end or start steps to the neighbouring block.
 *
 * Invariant: when valid, `#blockIndex` names the data block the block cursor is on, and the block cursor
 * is valid. A seek lands in the one block whose index entry (its last internal key) is the first at or
 * after the target, so versions of one user key spread over several blocks are found in order.
 *
 * A closed cursor may be reopened for a new owner by its source ({@link TableCursor.reopen}), so its
 * previous owner must drop it once closed.
 *
 * @module
 */
import { LsmError } from "../errors.ts";
import type { EntryCursor } from "../iter/cursor.ts";
import { SEQNO_MAX } from "../seqno.ts";
import type { ValueKind } from "../key/value-kind.ts";
import { BlockCursor } from "./block-reader.ts";
import type { DataBlock } from "./data-block.ts";
import type { IndexBlock } from "./index-block.ts";
import type { KeyOrder } from "./keys.ts";
import type { ReadAheadWindow } from "./read-ahead-window.ts";

/** What a table cursor needs from its table. */
export interface TableBlockSource {
  readonly order: KeyOrder;
  /** The index (pinned, or fetched through the block cache). */
  index(): IndexBlock;
  /** Data block `i` of `index`, through the block cache (inserting it when `fillCache`). */
  dataBlock(index: IndexBlock, i: number, fillCache: boolean): DataBlock;
  /** Data block `i` of `index` out of `window`, refilled when it does not hold it (never through the cache). */
  dataBlockAhead?(index: IndexBlock, i: number, window: ReadAheadWindow): DataBlock;
  /** Told once when a cursor closes, so the source may hand it out again ({@link TableCursor.reopen}). */
  cursorClosed?(cursor: TableCursor): void;
}

export class TableCursor implements EntryCursor {
  readonly #source: TableBlockSource;
  readonly #index: IndexBlock;
  readonly #blocks: BlockCursor;
  readonly #fillCache: boolean;
  /** Where blocks come from when the cursor reads ahead (its source must then have `dataBlockAhead`). */
  readonly #window: ReadAheadWindow | null;
  #blockIndex = -1;
  /** The block counted in `cursors` for this cursor (see DataBlock.cursors), null when none. */
  #held: DataBlock | null = null;
  #closed = false;

  constructor(source: TableBlockSource, fillCache: boolean, window?: ReadAheadWindow) {
    this.#source = source;
    this.#index = source.index();
    this.#blocks = new BlockCursor(source.order);
    this.#fillCache = fillCache;
    if (window !== undefined && source.dataBlockAhead === undefined) throw new TypeError("this block source cannot read ahead");
    this.#window = window ?? null;
  }

  valid(): boolean {
    return this.#blockIndex >= 0 && this.#blocks.valid();
  }

  key(): Uint8Array {
    return this.#blocks.key();
  }

  seqno(): number {
    return this.#blocks.seqno();
  }

  kind(): ValueKind {
    return this.#blocks.kind();
  }

  value(): Uint8Array {
    return this.#blocks.value();
  }

  seekToFirst(): void {
    this.#checkOpen();
    this.#enter(0);
    this.#blocks.seekToFirst();
    this.#skipForward();
  }

  seekToLast(): void {
    this.#checkOpen();
    this.#enter(this.#index.count - 1);
    this.#blocks.seekToLast();
    this.#skipBackward();
  }

  seek(key: Uint8Array, seqno: number = SEQNO_MAX): void {
    this.#checkOpen();
    const i = this.#index.lowerBound(key, seqno);
    if (i >= this.#index.count) {
      this.#blockIndex = -1;
      return;
    }
    this.#enter(i);
    this.#blocks.seek(key, seqno);
    this.#skipForward();
  }

  seekForPrev(key: Uint8Array): void {
    this.#checkOpen();
    const i = this.#index.upperBound(key);
    if (i >= this.#index.count) {
      this.seekToLast();
      return;
    }
    this.#enter(i);
    this.#blocks.seekForPrev(key);
    this.#skipBackward();
  }

  next(): void {
    this.#checkOpen();
    this.#blocks.next();
    this.#skipForward();
  }

  prev(): void {
    this.#checkOpen();
    this.#blocks.prev();
    this.#skipBackward();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#blockIndex = -1;
    this.#hold(null);
    this.#window?.release();
    this.#source.cursorClosed?.(this);
  }

  /** Whether it inserts the blocks it reads into the block cache. */
  get fillsCache(): boolean {
    return this.#fillCache;
  }

  /**
   * Makes a closed cursor usable again, unpositioned, for a new owner: its source's to call, on a cursor
   * whose previous owner closed it (and so, by the cursor contract, calls nothing on it any more).
   */
  reopen(): void {
    this.#closed = false;
    this.#blockIndex = -1;
  }

  #enter(i: number): void {
    this.#blockIndex = i;
    const window = this.#window;
    const block = window === null ? this.#source.dataBlock(this.#index, i, this.#fillCache) : (this.#source.dataBlockAhead as NonNullable<TableBlockSource["dataBlockAhead"]>)(this.#index, i, window);
    this.#hold(block);
    this.#blocks.reset(block);
  }

  /** Moves this cursor's count from the block it held to `block`: the views it hands out point into it. */
  #hold(block: DataBlock | null): void {
    const held = this.#held;
    if (held === block) return;
    if (held !== null) held.cursors--;
    if (block !== null) block.cursors++;
    this.#held = block;
  }

  /** Past the end of a block: on to the first entry of the next non-empty one, or invalid. */
  #skipForward(): void {
    while (!this.#blocks.valid()) {
      if (this.#blockIndex < 0 || this.#blockIndex + 1 >= this.#index.count) {
        this.#blockIndex = -1;
        return;
      }
      this.#enter(this.#blockIndex + 1);
      this.#blocks.seekToFirst();
    }
  }

  /** Before the start of a block: back to the last entry of the previous non-empty one, or invalid. */
  #skipBackward(): void {
    while (!this.#blocks.valid()) {
      if (this.#blockIndex <= 0) {
        this.#blockIndex = -1;
        return;
      }
      this.#enter(this.#blockIndex - 1);
      this.#blocks.seekToLast();
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new LsmError("CLOSED", "the table cursor is closed");
  }
}
