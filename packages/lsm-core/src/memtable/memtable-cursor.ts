/**
 * The memtable's {@link EntryCursor}. Its position is a node index (0, the head, means "not on an
 * entry"); node indices are stable and every step reads the skiplist's current arrays, so entries
 * inserted between steps never disturb it.
 *
 * `key()`/`value()` views are made on first request at each position and reused until the cursor
 * moves. They point into arena bytes that are never rewritten, so unlike the protocol's general promise
 * they stay valid after the cursor moves too; callers should not rely on that (other cursors differ).
 *
 * @module
 */
import { LsmError } from "../errors.ts";
import type { EntryCursor } from "../iter/cursor.ts";
import type { ValueKind } from "../key/value-kind.ts";
import { SEQNO_MAX } from "../seqno.ts";
import type { SkipList } from "./skiplist.ts";

export class MemtableCursor implements EntryCursor {
  readonly #list: SkipList;
  #node = 0;
  #closed = false;
  #key: Uint8Array | undefined = undefined;
  #value: Uint8Array | undefined = undefined;

  constructor(list: SkipList) {
    this.#list = list;
  }

  valid(): boolean {
    return this.#node !== 0;
  }

  key(): Uint8Array {
    return (this.#key ??= this.#list.key(this.#current()));
  }

  seqno(): number {
    return this.#list.seqno(this.#current());
  }

  kind(): ValueKind {
    return this.#list.kind(this.#current());
  }

  value(): Uint8Array {
    return (this.#value ??= this.#list.value(this.#current()));
  }

  seekToFirst(): void {
    this.#open();
    this.#moveTo(this.#list.first());
  }

  seekToLast(): void {
    this.#open();
    this.#moveTo(this.#list.last());
  }

  seek(key: Uint8Array, seqno: number = SEQNO_MAX): void {
    this.#open();
    this.#moveTo(this.#list.seek(key, seqno));
  }

  seekForPrev(key: Uint8Array): void {
    this.#open();
    this.#moveTo(this.#list.seekForPrev(key));
  }

  next(): void {
    this.#moveTo(this.#list.next(this.#current()));
  }

  prev(): void {
    this.#moveTo(this.#list.prev(this.#current()));
  }

  close(): void {
    this.#closed = true;
    this.#moveTo(0);
  }

  #moveTo(node: number): void {
    this.#node = node;
    this.#key = undefined;
    this.#value = undefined;
  }

  /** The current node; throws when there is none, because node 0 would silently read the head. */
  #current(): number {
    const node = this.#node;
    if (node === 0) {
      this.#open();
      throw new RangeError("memtable cursor is not on an entry");
    }
    return node;
  }

  #open(): void {
    if (this.#closed) throw new LsmError("CLOSED", "memtable cursor is closed");
  }
}
