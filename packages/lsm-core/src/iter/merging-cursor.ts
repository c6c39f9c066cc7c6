/**
 * One cursor over many: the k-way merge of sources that each hold sorted entries (the active and sealed
 * memtables, every L0 run, every deeper level), in internal-key order.
 *
 * Sources are given newest first. When two sources hold the same internal key, the newer source's
 * entry comes first, so a reader that takes the first version of a key takes the newest.
 *
 * Like LevelDB's MergingIterator, the current entry is found by a linear scan of the children: an LSM
 * read merges a dozen sources at most, where a scan beats a heap's bookkeeping, and direction changes
 * (next after prev) only need the children repositioned around the current key. Going forward the scan
 * also remembers the runner-up, so while one source keeps supplying the smallest entries (as in a short
 * scan) each step costs one comparison instead of a scan.
 *
 * @module
 */
import type { Comparator } from "../key/comparator.ts";
import type { ValueKind } from "../key/value-kind.ts";
import type { EntryCursor } from "./cursor.ts";
import { compareInternal } from "./internal-key.ts";
import { copyBytes } from "../key/copy.ts";

const FORWARD = 0;
const BACKWARD = 1;

export class MergingCursor implements EntryCursor {
  readonly #children: EntryCursor[];
  readonly #comparator: Comparator;
  #current = -1;
  #direction = FORWARD;
  /**
   * Going forward: the smallest valid child other than the current one (-1 when none), as
   * {@link #findSmallest} left it. Only the current child moves on `next()`, so while it stays before
   * this one it stays the smallest, and one comparison replaces a scan of every child.
   */
  #runnerUp = -1;

  /** Per child, the largest seqno it can hold (for {@link skipOlderThan}); undefined: unknown. */
  readonly #maxSeqnos: readonly (() => number)[] | undefined;

  constructor(comparator: Comparator, children: EntryCursor[], maxSeqnos?: readonly (() => number)[]) {
    this.#comparator = comparator;
    this.#children = children;
    this.#maxSeqnos = maxSeqnos;
  }

  /**
   * Going forward: moves every child that holds only seqnos below `seqno` and is positioned before `to`
   * on to `to` (a range tombstone at `seqno` covering everything up to `to` deletes what it skips).
   * Children that may hold newer entries stay where they are. No-op going backward or without
   * `maxSeqnos`.
   */
  skipOlderThan(seqno: number, to: Uint8Array): void {
    const maxSeqnos = this.#maxSeqnos;
    if (this.#direction !== FORWARD || maxSeqnos === undefined) return;
    let moved = false;
    for (let i = 0; i < this.#children.length; i++) {
      const child = this.#children[i] as EntryCursor;
      if (!child.valid() || (maxSeqnos[i] as () => number)() >= seqno || this.#comparator.compare(child.key(), to) >= 0) continue;
      child.seek(to);
      moved = true;
    }
    if (moved) this.#findSmallest();
  }

  valid(): boolean {
    return this.#current >= 0;
  }

  key(): Uint8Array {
    return this.#child().key();
  }

  seqno(): number {
    return this.#child().seqno();
  }

  kind(): ValueKind {
    return this.#child().kind();
  }

  value(): Uint8Array {
    return this.#child().value();
  }

  seekToFirst(): void {
    for (const child of this.#children) child.seekToFirst();
    this.#direction = FORWARD;
    this.#findSmallest();
  }

  seekToLast(): void {
    for (const child of this.#children) child.seekToLast();
    this.#direction = BACKWARD;
    this.#findLargest();
  }

  seek(key: Uint8Array, seqno?: number): void {
    for (const child of this.#children) child.seek(key, seqno);
    this.#direction = FORWARD;
    this.#findSmallest();
  }

  seekForPrev(key: Uint8Array): void {
    for (const child of this.#children) child.seekForPrev(key);
    this.#direction = BACKWARD;
    this.#findLargest();
  }

  next(): void {
    const current = this.#child();
    if (this.#direction === FORWARD) {
      current.next();
      if (current.valid()) {
        const r = this.#runnerUp;
        if (r < 0) return;
        const runnerUp = this.#children[r] as EntryCursor;
        const c = compareInternal(this.#comparator, current.key(), current.seqno(), runnerUp.key(), runnerUp.seqno());
        // On a tie the earlier (newer) source comes first, as in #findSmallest.
        if (c < 0 || (c === 0 && this.#current < r)) return;
      }
      this.#findSmallest();
      return;
    }
    // Every other child must move to the first entry after the current one. Children were left
    // behind the current key while going backward.
    const key = copyBytes(current.key());
    const seqno = current.seqno();
    for (let i = 0; i < this.#children.length; i++) {
      if (i === this.#current) continue;
      const child = this.#children[i] as EntryCursor;
      child.seek(key, seqno);
      // A newer source (smaller index) holding the same internal key sorts before the current entry.
      if (i < this.#current && child.valid() && compareInternal(this.#comparator, child.key(), child.seqno(), key, seqno) === 0) child.next();
    }
    this.#direction = FORWARD;
    current.next();
    this.#findSmallest();
  }

  prev(): void {
    const current = this.#child();
    if (this.#direction !== BACKWARD) {
      const key = copyBytes(current.key());
      const seqno = current.seqno();
      for (let i = 0; i < this.#children.length; i++) {
        if (i === this.#current) continue;
        const child = this.#children[i] as EntryCursor;
        child.seek(key, seqno);
        if (child.valid()) {
          // Now on the first entry >= current: step back, unless it equals the current internal key and
          // comes from a newer source, in which case it already sorts before the current entry.
          const equal = compareInternal(this.#comparator, child.key(), child.seqno(), key, seqno) === 0;
          if (!(equal && i < this.#current)) child.prev();
        } else {
          child.seekToLast();
        }
      }
      this.#direction = BACKWARD;
    }
    current.prev();
    this.#findLargest();
  }

  close(): void {
    for (const child of this.#children) child.close();
    this.#current = -1;
  }

  #child(): EntryCursor {
    const child = this.#children[this.#current];
    if (child === undefined) throw new Error("cursor is not positioned on an entry");
    return child;
  }

  #findSmallest(): void {
    let best = -1;
    let bestCursor: EntryCursor | undefined;
    let second = -1;
    let secondCursor: EntryCursor | undefined;
    for (let i = 0; i < this.#children.length; i++) {
      const child = this.#children[i] as EntryCursor;
      if (!child.valid()) continue;
      // Strictly smaller only: on ties the earlier (newer) source wins.
      if (bestCursor === undefined || compareInternal(this.#comparator, child.key(), child.seqno(), bestCursor.key(), bestCursor.seqno()) < 0) {
        second = best;
        secondCursor = bestCursor;
        best = i;
        bestCursor = child;
      } else if (secondCursor === undefined || compareInternal(this.#comparator, child.key(), child.seqno(), secondCursor.key(), secondCursor.seqno()) < 0) {
        second = i;
        secondCursor = child;
      }
    }
    this.#current = best;
    this.#runnerUp = second;
  }

  #findLargest(): void {
    let best = -1;
    let bestCursor: EntryCursor | undefined;
    for (let i = this.#children.length - 1; i >= 0; i--) {
      const child = this.#children[i] as EntryCursor;
      if (!child.valid()) continue;
      // Going backward the older source (larger index) comes first on ties, mirroring #findSmallest.
      if (bestCursor === undefined || compareInternal(this.#comparator, child.key(), child.seqno(), bestCursor.key(), bestCursor.seqno()) > 0) {
        best = i;
        bestCursor = child;
      }
    }
    this.#current = best;
  }
}
