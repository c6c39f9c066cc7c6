/**
 * Range tombstones as the engine keeps them: *fragmented*. A range tombstone `[start, end) @ T` deletes
 * every version with seqno `< T` of every key in `[start, end)`, for reads at `S > T`. Tombstones may
 * overlap; a fragment list cuts them at every start and end into disjoint pieces, each carrying the
 * seqnos of every tombstone that covers it:
 *
 * ```
 *   tombstones      [a ........ f) @7      [d ....... k) @9
 *   fragments       [a, d) {7}   [d, f) {9, 7}   [f, k) {9}
 * ```
 *
 * Invariants of a fragment list (every function here keeps them; the table block decoder checks them):
 * - fragments are sorted by start and disjoint: `fragment.end <= next.start` (by the comparator);
 * - every fragment is non-empty (`start < end`) and has at least one seqno;
 * - a fragment's seqnos are strictly descending (the same seqno twice adds nothing).
 *
 * An empty `end` means "unbounded": past every key (the all-0xff prefix deletes to the end of the key
 * space). Keys are never empty, so the empty array is free for this.
 *
 * Why fragments: the question every read asks is "what is the newest tombstone visible at `S` that
 * covers `key`", and with disjoint fragments that is one binary search (point reads) or one forward
 * step (scans), however many tombstones overlap.
 *
 * @module
 */
import type { Comparator } from "../key/comparator.ts";

/** A piece of key space `[start, end)` and the seqnos of the tombstones covering it, newest first. */
export interface Fragment {
  /** Inclusive; a user key, never empty. The next fragment of the list starts at or after this one's `end`. */
  readonly start: Uint8Array;
  /** Exclusive; empty = unbounded. */
  readonly end: Uint8Array;
  /** Strictly descending. */
  readonly seqnos: readonly number[];
}

/** A range tombstone as written: `[start, end) @ seqno`. */
export interface RangeTombstone {
  readonly start: Uint8Array;
  /** Exclusive; empty = unbounded. */
  readonly end: Uint8Array;
  readonly seqno: number;
}

/** The unbounded end. */
export const UNBOUNDED: Uint8Array = new Uint8Array(0);

/** `end` compared with `key`: positive when the end lies after the key (the key is below the end). */
export function compareEnd(cmp: Comparator, end: Uint8Array, key: Uint8Array): number {
  return end.length === 0 ? 1 : cmp.compare(end, key);
}

/** Two ends compared (unbounded is the largest). */
export function compareEnds(cmp: Comparator, a: Uint8Array, b: Uint8Array): number {
  if (a.length === 0) return b.length === 0 ? 0 : 1;
  if (b.length === 0) return -1;
  return cmp.compare(a, b);
}

/** The newest of `seqnos` (descending) below `readSeqno`, or -1. */
export function visibleSeqno(seqnos: readonly number[], readSeqno: number): number {
  for (let i = 0; i < seqnos.length; i++) {
    const s = seqnos[i] as number;
    if (s < readSeqno) return s;
  }
  return -1;
}

/** Index of the first fragment that ends after `key` (`list.length` when none does). */
export function firstEndingAfter(cmp: Comparator, list: readonly Fragment[], key: Uint8Array): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareEnd(cmp, (list[mid] as Fragment).end, key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the last fragment that starts at or before `key` (-1 when none does). */
export function lastStartingAtOrBefore(cmp: Comparator, list: readonly Fragment[], key: Uint8Array): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cmp.compare((list[mid] as Fragment).start, key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Index of the fragment containing `key`, or -1. */
export function findFragment(cmp: Comparator, list: readonly Fragment[], key: Uint8Array): number {
  // The last fragment whose start is <= key is the only candidate.
  const i = lastStartingAtOrBefore(cmp, list, key);
  const candidate = list[i];
  return candidate !== undefined && compareEnd(cmp, candidate.end, key) > 0 ? i : -1;
}

/**
 * The newest tombstone seqno visible at `readSeqno` that covers `key`, or -1: a version of `key` with a
 * seqno below it is deleted for that read.
 */
export function coverSeqno(cmp: Comparator, list: readonly Fragment[], key: Uint8Array, readSeqno: number): number {
  if (list.length === 0) return -1;
  const i = findFragment(cmp, list, key);
  return i < 0 ? -1 : visibleSeqno((list[i] as Fragment).seqnos, readSeqno);
}

function withSeqno(seqnos: readonly number[], seqno: number): readonly number[] {
  let at = 0;
  while (at < seqnos.length && (seqnos[at] as number) > seqno) at++;
  if (seqnos[at] === seqno) return seqnos;
  return [...seqnos.slice(0, at), seqno, ...seqnos.slice(at)];
}

/**
 * Adds the tombstone `[start, end) @ seqno` to `list` in place (the array; fragment objects are never
 * changed, so a reader holding an earlier copy of the array is unaffected). REQUIRES `start < end`.
 * The bytes are kept, not copied.
 */
export function insertTombstone(cmp: Comparator, list: Fragment[], start: Uint8Array, end: Uint8Array, seqno: number): void {
  // First fragment that ends after `start`: everything before lies wholly below the new tombstone.
  const lo = firstEndingAfter(cmp, list, start);
  let i = lo;
  let from = start;
  let placed = false;
  const out: Fragment[] = [];
  while (i < list.length) {
    const f = list[i] as Fragment;
    // `from` is where the part of the new tombstone not placed yet begins.
    if (end.length !== 0 && cmp.compare(f.start, end) >= 0) break;
    if (cmp.compare(from, f.start) < 0) {
      out.push({ start: from, end: f.start, seqnos: [seqno] });
      from = f.start;
    } else if (cmp.compare(f.start, from) < 0) {
      out.push({ start: f.start, end: from, seqnos: f.seqnos });
    }
    // The overlap of f and the new tombstone starts at `from`.
    i++;
    if (compareEnds(cmp, f.end, end) <= 0) {
      out.push({ start: from, end: f.end, seqnos: withSeqno(f.seqnos, seqno) });
      from = f.end;
      if (f.end.length === 0) {
        placed = true;
        break;
      }
    } else {
      out.push({ start: from, end, seqnos: withSeqno(f.seqnos, seqno) }, { start: end, end: f.end, seqnos: f.seqnos });
      placed = true;
      break;
    }
  }
  // What is left reaches past every fragment it met.
  if (!placed && compareEnd(cmp, end, from) > 0) out.push({ start: from, end, seqnos: [seqno] });
  list.splice(lo, i - lo, ...out);
}

/** A fresh list holding every tombstone of every list given (flush and compaction inputs). */
export function mergeFragmentLists(cmp: Comparator, lists: readonly (readonly Fragment[])[]): Fragment[] {
  const nonEmpty = lists.filter((l) => l.length > 0);
  if (nonEmpty.length === 0) return [];
  if (nonEmpty.length === 1) return [...(nonEmpty[0] as readonly Fragment[])];
  const out: Fragment[] = [];
  for (const list of nonEmpty) {
    for (const f of list) for (const s of f.seqnos) insertTombstone(cmp, out, f.start, f.end, s);
  }
  return out;
}

/**
 * What of `list` a flush or compaction with GC watermark `watermark` must keep. Seqnos at or above the
 * watermark stay (a read at `S >= watermark` may see exactly that tombstone); of those below it only
 * the newest matters to such reads (it is visible to every one of them and hides everything older
 * ones hide), and with `evict` (nothing older lies below the output) not even that one. Touching
 * fragments left with equal seqnos are joined.
 */
export function pruneFragments(cmp: Comparator, list: readonly Fragment[], watermark: number, evict: boolean): Fragment[] {
  const out: Fragment[] = [];
  for (const f of list) {
    let keep = 0;
    while (keep < f.seqnos.length && (f.seqnos[keep] as number) >= watermark) keep++;
    const belowKept = !evict && keep < f.seqnos.length ? 1 : 0;
    const seqnos = keep + belowKept === f.seqnos.length ? f.seqnos : f.seqnos.slice(0, keep + belowKept);
    if (seqnos.length === 0) continue;
    const last = out[out.length - 1];
    if (last !== undefined && last.end.length !== 0 && cmp.compare(last.end, f.start) === 0 && sameSeqnos(last.seqnos, seqnos)) {
      out[out.length - 1] = { start: last.start, end: f.end, seqnos };
    } else {
      out.push(seqnos === f.seqnos ? f : { start: f.start, end: f.end, seqnos });
    }
  }
  return out;
}

function sameSeqnos(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The highest and lowest seqno in `list`, or undefined when empty. */
export function seqnoSpan(list: readonly Fragment[]): { min: number; max: number } | undefined {
  if (list.length === 0) return undefined;
  let min = Number.MAX_SAFE_INTEGER;
  let max = -1;
  for (const f of list) {
    max = Math.max(max, f.seqnos[0] as number);
    min = Math.min(min, f.seqnos[f.seqnos.length - 1] as number);
  }
  return { min, max };
}
