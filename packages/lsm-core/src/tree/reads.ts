/**
 * The read path: point lookups and range iterators over one super version.
 *
 * Point reads search newest to oldest and stop at the first source that holds the key: the active
 * memtable, sealed memtables (newest first), every L0 run (keeping the highest seqno: L0 runs overlap),
 * then each deeper level, where at most one table per run can hold the key (binary search on key
 * ranges) and the first level with a hit ends the search.
 *
 * @module
 */
import { isTombstone } from "../key/value-kind.ts";
import { newPointLookup, type EntryCursor, type PointLookup } from "../iter/cursor.ts";
import { MergingCursor } from "../iter/merging-cursor.ts";
import { RunCursor } from "../iter/run-cursor.ts";
import { VisibleRangeIterator } from "../iter/visible-range.ts";
import type { KeyRange } from "../iter/bounds.ts";
import type { Comparator } from "../key/comparator.ts";
import type { SuperVersion } from "./super-version.ts";
import { copyBytes } from "../key/copy.ts";

/** A reusable pair of lookup slots, so a point read allocates nothing but its result copy. */
export class PointReader {
  readonly #hit: PointLookup = newPointLookup();
  readonly #probe: PointLookup = newPointLookup();

  /** The newest entry of `key` visible at `readSeqno` (tombstones included), or undefined. */
  find(sv: SuperVersion, key: Uint8Array, readSeqno: number): PointLookup | undefined {
    const hit = this.#hit;
    if (sv.active.get(key, readSeqno, hit)) return hit;
    for (let i = sv.sealed.length - 1; i >= 0; i--) if (sv.sealed[i]?.get(key, readSeqno, hit) === true) return hit;
    const probe = this.#probe;
    const levels = sv.version.levels;
    for (let l = 0; l < levels.length; l++) {
      let found = false;
      const runs = (levels[l] as (typeof levels)[number]).runs;
      for (let r = 0; r < runs.length; r++) {
        const table = (runs[r] as (typeof runs)[number]).getForKey(key);
        if (table === undefined || !table.get(key, readSeqno, probe)) continue;
        if (!found || probe.seqno > hit.seqno) {
          hit.kind = probe.kind;
          hit.seqno = probe.seqno;
          hit.value = probe.value;
          found = true;
        }
        // Runs of one level may overlap (L0), so the newest hit across them wins; a hit just below the
        // read seqno cannot be beaten.
        if (hit.seqno + 1 === readSeqno) break;
      }
      if (found) return hit;
    }
    return undefined;
  }

  /** The value of `key` at `readSeqno` (a copy the caller owns), or undefined when absent or deleted. */
  get(sv: SuperVersion, key: Uint8Array, readSeqno: number): Uint8Array | undefined {
    const hit = this.find(sv, key, readSeqno);
    if (hit === undefined || isTombstone(hit.kind)) return undefined;
    return copyBytes(hit.value);
  }
}

/** One cursor over every source of `sv`, newest source first. */
export function mergedCursor(comparator: Comparator, sv: SuperVersion): EntryCursor {
  const children: EntryCursor[] = [sv.active.cursor()];
  for (let i = sv.sealed.length - 1; i >= 0; i--) children.push((sv.sealed[i] as SuperVersion["active"]).cursor());
  for (const level of sv.version.levels) {
    for (const run of level.runs) children.push(new RunCursor(comparator, run.tables));
  }
  return new MergingCursor(comparator, children);
}

/** An iterator over `range` at `readSeqno` that pins `sv` until it ends. */
export function rangeIterator(
  comparator: Comparator,
  sv: SuperVersion,
  range: KeyRange,
  readSeqno: number,
  keyFilter?: (key: Uint8Array) => boolean,
): VisibleRangeIterator {
  const release = sv.pin();
  try {
    return new VisibleRangeIterator({ comparator, cursor: mergedCursor(comparator, sv), readSeqno, range, release, ...(keyFilter === undefined ? {} : { keyFilter }) });
  } catch (error) {
    release();
    throw error;
  }
}
