/**
 * An {@link EntryCursor} over an array of entries already in internal-key order. For small in-memory
 * sources and for tests of everything that consumes cursors; the engine's bulk sources are the
 * memtable and tables.
 *
 * @module
 */
import type { Comparator } from "../key/comparator.ts";
import type { ValueKind } from "../key/value-kind.ts";
import type { EntryCursor } from "./cursor.ts";
import { compareInternal } from "./internal-key.ts";

export interface Entry {
  readonly key: Uint8Array;
  readonly seqno: number;
  readonly kind: ValueKind;
  readonly value: Uint8Array;
}

export class ArrayCursor implements EntryCursor {
  readonly #entries: readonly Entry[];
  readonly #comparator: Comparator;
  #index = -1;

  /** `entries` must be sorted by internal key; {@link sortEntries} does that. */
  constructor(comparator: Comparator, entries: readonly Entry[]) {
    this.#comparator = comparator;
    this.#entries = entries;
  }

  valid(): boolean {
    return this.#index >= 0 && this.#index < this.#entries.length;
  }

  key(): Uint8Array {
    return this.#entry().key;
  }

  seqno(): number {
    return this.#entry().seqno;
  }

  kind(): ValueKind {
    return this.#entry().kind;
  }

  value(): Uint8Array {
    return this.#entry().value;
  }

  seekToFirst(): void {
    this.#index = 0;
  }

  seekToLast(): void {
    this.#index = this.#entries.length - 1;
  }

  seek(key: Uint8Array, seqno = Number.MAX_SAFE_INTEGER): void {
    // First entry >= (key, seqno), by binary search.
    let lo = 0;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.#entries[mid] as Entry;
      if (compareInternal(this.#comparator, e.key, e.seqno, key, seqno) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.#index = lo;
  }

  seekForPrev(key: Uint8Array): void {
    // Last entry whose user key <= key: one before the first entry whose user key > key.
    let lo = 0;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#comparator.compare((this.#entries[mid] as Entry).key, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    this.#index = lo - 1;
  }

  next(): void {
    this.#index++;
  }

  prev(): void {
    this.#index--;
  }

  close(): void {
    this.#index = -1;
  }

  #entry(): Entry {
    const entry = this.#entries[this.#index];
    if (entry === undefined) throw new Error("cursor is not positioned on an entry");
    return entry;
  }
}

/** Sorts entries into internal-key order (stable, so equal internal keys keep their insertion order). */
export function sortEntries(comparator: Comparator, entries: Entry[]): Entry[] {
  return entries.sort((a, b) => compareInternal(comparator, a.key, a.seqno, b.key, b.seqno));
}
