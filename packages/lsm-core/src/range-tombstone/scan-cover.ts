/**
 * Range tombstones as a scan meets them: the fragment lists of every source a range iterator reads
 * (memtables, tables), each with a position that only moves one way, so finding what covers the next
 * key costs a step, not a search. Forward scans ask with ascending keys, reverse scans with descending
 * ones; the first question positions each list with a binary search.
 *
 * @module
 */
import type { Comparator } from "../key/comparator.ts";
import { compareEnd, firstEndingAfter, lastStartingAtOrBefore, visibleSeqno, type Fragment } from "./fragments.ts";

export class ScanCover {
  readonly #cmp: Comparator;
  readonly #lists: readonly (readonly Fragment[])[];
  readonly #readSeqno: number;
  /** Per list: the fragment the last key fell in or before (forward), or at or after (reverse); -2 = not positioned. */
  readonly #at: number[];
  /** Where the fragment that gave the last forward answer ends (empty: unbounded or no cover). */
  #coverEnd: Uint8Array = new Uint8Array(0);

  /** REQUIRES: every list non-empty. */
  constructor(cmp: Comparator, lists: readonly (readonly Fragment[])[], readSeqno: number) {
    this.#cmp = cmp;
    this.#lists = lists;
    this.#readSeqno = readSeqno;
    this.#at = lists.map(() => -2);
  }

  /** The newest tombstone seqno visible to the scan covering `key` (-1: none). Keys must ascend between calls. */
  forward(key: Uint8Array): number {
    const cmp = this.#cmp;
    let cover = -1;
    for (let i = 0; i < this.#lists.length; i++) {
      const list = this.#lists[i] as readonly Fragment[];
      let at = this.#at[i] as number;
      if (at === -2) at = firstEndingAfter(cmp, list, key);
      while (at < list.length && compareEnd(cmp, (list[at] as Fragment).end, key) <= 0) at++;
      this.#at[i] = at;
      const f = list[at];
      if (f !== undefined && cmp.compare(f.start, key) <= 0) {
        const seen = visibleSeqno(f.seqnos, this.#readSeqno);
        if (seen > cover) {
          cover = seen;
          this.#coverEnd = f.end;
        }
      }
    }
    return cover;
  }

  /**
   * After a {@link forward} that found a cover: the end of the fragment it came from. Every key from the
   * one asked about up to (excluding) this end is covered at least as much. Empty when unbounded.
   */
  coverEnd(): Uint8Array {
    return this.#coverEnd;
  }

  /** As {@link forward}, for keys that descend between calls. */
  backward(key: Uint8Array): number {
    const cmp = this.#cmp;
    let cover = -1;
    for (let i = 0; i < this.#lists.length; i++) {
      const list = this.#lists[i] as readonly Fragment[];
      let at = this.#at[i] as number;
      if (at === -2) at = lastStartingAtOrBefore(cmp, list, key);
      while (at >= 0 && cmp.compare((list[at] as Fragment).start, key) > 0) at--;
      this.#at[i] = at;
      const f = list[at];
      if (f !== undefined && compareEnd(cmp, f.end, key) > 0) cover = Math.max(cover, visibleSeqno(f.seqnos, this.#readSeqno));
    }
    return cover;
  }
}
