/**
 * A cursor over an ingested table: its entries are stored at seqno 0, one per key, and all read as
 * written at the table's global seqno (the one its ingestion was installed with).
 *
 * @module
 */
import type { EntryCursor } from "./cursor.ts";
import { ForwardingCursor } from "./forwarding-cursor.ts";

export class GlobalSeqnoCursor extends ForwardingCursor {
  readonly #seqno: number;

  constructor(inner: EntryCursor, seqno: number) {
    super(inner);
    this.#seqno = seqno;
  }

  override seqno(): number {
    return this.#seqno;
  }

  override seek(key: Uint8Array, seqno?: number): void {
    this.inner.seek(key);
    // (key, global) sorts before (key, seqno) when global is the larger: the first entry at or after
    // (key, seqno) is then the next key's.
    if (seqno !== undefined && this.#seqno > seqno && this.inner.valid() && sameBytes(this.inner.key(), key)) this.inner.next();
  }
}

/** Byte equality (a comparator's "equal" is byte equality by contract). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
