/**
 * A cursor over an ingested table: its entries are stored at seqno 0, one per key, and all read as
 * written at the table's global seqno (the one its ingestion was installed with).
 *
 * @module
 */
import type { ValueKind } from "../key/value-kind.ts";
import type { EntryCursor } from "./cursor.ts";

export class GlobalSeqnoCursor implements EntryCursor {
  readonly #inner: EntryCursor;
  readonly #seqno: number;

  constructor(inner: EntryCursor, seqno: number) {
    this.#inner = inner;
    this.#seqno = seqno;
  }

  valid(): boolean {
    return this.#inner.valid();
  }

  key(): Uint8Array {
    return this.#inner.key();
  }

  seqno(): number {
    return this.#seqno;
  }

  kind(): ValueKind {
    return this.#inner.kind();
  }

  value(): Uint8Array {
    return this.#inner.value();
  }

  seekToFirst(): void {
    this.#inner.seekToFirst();
  }

  seekToLast(): void {
    this.#inner.seekToLast();
  }

  seek(key: Uint8Array, seqno?: number): void {
    this.#inner.seek(key);
    // (key, global) sorts before (key, seqno) when global is the larger: the first entry at or after
    // (key, seqno) is then the next key's.
    if (seqno !== undefined && this.#seqno > seqno && this.#inner.valid() && sameBytes(this.#inner.key(), key)) this.#inner.next();
  }

  seekForPrev(key: Uint8Array): void {
    this.#inner.seekForPrev(key);
  }

  next(): void {
    this.#inner.next();
  }

  prev(): void {
    this.#inner.prev();
  }

  close(): void {
    this.#inner.close();
  }
}

/** Byte equality (a comparator's "equal" is byte equality by contract). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
