/**
 * A cursor over one run: tables sorted by key with disjoint key ranges, read as one sequence. Only one
 * table cursor is open at a time, and a table is opened only when the position reaches it, so a scan
 * over a deep level touches the tables it actually reads.
 *
 * @module
 */
import type { Comparator } from "../key/comparator.ts";
import type { ValueKind } from "../key/value-kind.ts";
import type { EntryCursor } from "./cursor.ts";

/**
 * What the run cursor needs of a table.
 *
 * @internal Exported from the package entry only so that the API reference can leave it out of
 * `TableFile`'s `implements` clause (TypeDoc drops implemented types it removed as internal).
 */
export interface CursorSource {
  readonly minKey: Uint8Array;
  readonly maxKey: Uint8Array;
  cursor(): EntryCursor;
}

export class RunCursor implements EntryCursor {
  readonly #comparator: Comparator;
  readonly #tables: readonly CursorSource[];
  #index = -1;
  #current: EntryCursor | undefined;

  constructor(comparator: Comparator, tables: readonly CursorSource[]) {
    this.#comparator = comparator;
    this.#tables = tables;
  }

  valid(): boolean {
    return this.#current !== undefined && this.#current.valid();
  }

  key(): Uint8Array {
    return this.#at().key();
  }

  seqno(): number {
    return this.#at().seqno();
  }

  kind(): ValueKind {
    return this.#at().kind();
  }

  value(): Uint8Array {
    return this.#at().value();
  }

  seekToFirst(): void {
    this.#open(0)?.seekToFirst();
    this.#skipEmptyForward();
  }

  seekToLast(): void {
    this.#open(this.#tables.length - 1)?.seekToLast();
    this.#skipEmptyBackward();
  }

  seek(key: Uint8Array, seqno?: number): void {
    // The first table whose max key is >= key holds the first candidate.
    const i = this.#firstWithMaxAtLeast(key);
    this.#open(i)?.seek(key, seqno);
    this.#skipEmptyForward();
  }

  seekForPrev(key: Uint8Array): void {
    // The last table whose min key is <= key holds the last candidate.
    let lo = 0;
    let hi = this.#tables.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#comparator.compare((this.#tables[mid] as CursorSource).minKey, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    this.#open(lo - 1)?.seekForPrev(key);
    this.#skipEmptyBackward();
  }

  next(): void {
    this.#at().next();
    this.#skipEmptyForward();
  }

  prev(): void {
    this.#at().prev();
    this.#skipEmptyBackward();
  }

  close(): void {
    this.#current?.close();
    this.#current = undefined;
    this.#index = -1;
  }

  #at(): EntryCursor {
    if (this.#current === undefined) throw new Error("cursor is not positioned on an entry");
    return this.#current;
  }

  #open(index: number): EntryCursor | undefined {
    if (index === this.#index && this.#current !== undefined) return this.#current;
    this.#current?.close();
    this.#current = undefined;
    this.#index = index;
    const table = this.#tables[index];
    if (table === undefined) return undefined;
    this.#current = table.cursor();
    return this.#current;
  }

  #skipEmptyForward(): void {
    while (this.#current !== undefined && !this.#current.valid()) {
      const next = this.#open(this.#index + 1);
      if (next === undefined) return;
      next.seekToFirst();
    }
  }

  #skipEmptyBackward(): void {
    while (this.#current !== undefined && !this.#current.valid()) {
      const prev = this.#open(this.#index - 1);
      if (prev === undefined) return;
      prev.seekToLast();
    }
  }

  #firstWithMaxAtLeast(key: Uint8Array): number {
    let lo = 0;
    let hi = this.#tables.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#comparator.compare((this.#tables[mid] as CursorSource).maxKey, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
