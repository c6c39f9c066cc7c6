/**
 * An {@link EntryCursor} that forwards every call to another one: the base for cursors that change a
 * few calls of the cursor they wrap (the seqno an ingested table's entries read at, the reads a seek
 * makes first) and leave the rest as they are.
 *
 * @module
 */
import type { ValueKind } from "../key/value-kind.ts";
import type { EntryCursor } from "./cursor.ts";

export class ForwardingCursor implements EntryCursor {
  /** The cursor every call not overridden goes to. */
  protected readonly inner: EntryCursor;

  constructor(inner: EntryCursor) {
    this.inner = inner;
  }

  valid(): boolean {
    return this.inner.valid();
  }

  key(): Uint8Array {
    return this.inner.key();
  }

  seqno(): number {
    return this.inner.seqno();
  }

  kind(): ValueKind {
    return this.inner.kind();
  }

  value(): Uint8Array {
    return this.inner.value();
  }

  seekToFirst(): void {
    this.inner.seekToFirst();
  }

  seekToLast(): void {
    this.inner.seekToLast();
  }

  seek(key: Uint8Array, seqno?: number): void {
    this.inner.seek(key, seqno);
  }

  seekForPrev(key: Uint8Array): void {
    this.inner.seekForPrev(key);
  }

  next(): void {
    this.inner.next();
  }

  prev(): void {
    this.inner.prev();
  }

  close(): void {
    this.inner.close();
  }
}
