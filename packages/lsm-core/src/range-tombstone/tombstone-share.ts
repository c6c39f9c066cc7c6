/**
 * How the range tombstones of a flush or compaction are shared out between its output tables (the
 * rules are drawn in `TableStore.write`, ../tree/table-store.ts): a walk over the fragment list that
 * gives each finished table the fragments of its part of the key space, clipped to it.
 *
 * @module
 */
import { isBytewise, type Comparator } from "../key/comparator.ts";
import { MAX_KEY_BYTES } from "../key/validate.ts";
import { copyBytes } from "../key/copy.ts";
import type { TableWriter } from "../table/table-writer.ts";
import { compareEnd, type Fragment } from "./fragments.ts";

/** Larger than or equal to every key (bytewise): the max key of a table whose tombstone is unbounded. */
const LARGEST_KEY = new Uint8Array(MAX_KEY_BYTES).fill(0xff);

export class TombstoneShare {
  readonly #cmp: Comparator;
  readonly #fragments: readonly Fragment[];
  /** The first fragment not wholly given away yet. */
  #next = 0;
  /** Where the next table's part of the key space begins (undefined: the first table, from the start). */
  #from: Uint8Array | undefined;

  constructor(cmp: Comparator, fragments: readonly Fragment[]) {
    this.#cmp = cmp;
    this.#fragments = fragments;
  }

  /**
   * Where a table ending with key `last` may hand over to one starting with `next` (exclusive end of
   * the first table's part), or undefined when it may not be cut there.
   */
  cutBetween(last: Uint8Array, next: Uint8Array): Uint8Array | undefined {
    // With no fragment left the cut is never looked at: `next` (often a view that dies with the entry)
    // may stand for it uncopied.
    if (this.#next >= this.#fragments.length) return next;
    if (isBytewise(this.#cmp) && last.length < MAX_KEY_BYTES) {
      const after = new Uint8Array(last.length + 1);
      after.set(last);
      return after;
    }
    // No key between `last` and `next` can be named: refuse while a fragment reaches into the gap.
    for (let i = this.#next; i < this.#fragments.length; i++) {
      const f = this.#fragments[i] as Fragment;
      if (this.#cmp.compare(f.start, next) >= 0) break;
      if (compareEnd(this.#cmp, f.end, last) > 0) return undefined;
    }
    // A copy: fragments are clipped to it later, and `next` is a view valid only until the stream moves.
    return copyBytes(next);
  }

  /** Gives `writer` (a table that is not the last) its fragments below `cut`; its max key stays its last key. */
  giveUpTo(writer: TableWriter, cut: Uint8Array): void {
    const share = this.#take(cut);
    if (share.length > 0) writer.setRangeTombstones(share, undefined);
    this.#from = cut;
  }

  /** Gives `writer` (the last table) every fragment left, widening its max key to the farthest end. */
  giveRest(writer: TableWriter): void {
    const share = this.#take(undefined);
    if (share.length === 0) return;
    const end = (share[share.length - 1] as Fragment).end;
    const last = writer.lastKeyView() as Uint8Array;
    const maxKey = end.length === 0 ? LARGEST_KEY : this.#cmp.compare(end, last) > 0 ? this.#lastKeyBelow(end) : undefined;
    writer.setRangeTombstones(share, maxKey);
  }

  /**
   * The key range's inclusive end for a fragment ending (exclusively) at `end`. Bytewise, an end of the
   * form `k ‖ 0x00` (a cut made by an earlier flush or compaction, where the next table may begin) has
   * `k` as the last key below it: using `end` itself would make this table's range touch the next
   * one's. Otherwise `end` stands for it: wider than needed, never too narrow.
   */
  #lastKeyBelow(end: Uint8Array): Uint8Array {
    if (isBytewise(this.#cmp) && end[end.length - 1] === 0 && end.length > 1) return end.subarray(0, end.length - 1);
    return end;
  }

  #take(cut: Uint8Array | undefined): Fragment[] {
    const cmp = this.#cmp;
    const from = this.#from;
    const share: Fragment[] = [];
    while (this.#next < this.#fragments.length) {
      const f = this.#fragments[this.#next] as Fragment;
      if (cut !== undefined && cmp.compare(f.start, cut) >= 0) break;
      const start = from !== undefined && cmp.compare(f.start, from) < 0 ? from : f.start;
      const endsInside = cut === undefined || compareEnd(cmp, f.end, cut) <= 0;
      share.push(start === f.start && endsInside ? f : { start, end: endsInside ? f.end : (cut as Uint8Array), seqnos: f.seqnos });
      // A fragment reaching past the cut goes on into the next table's part.
      if (!endsInside) break;
      this.#next++;
    }
    return share;
  }
}
