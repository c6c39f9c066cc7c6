/**
 * Aggregate key ranges ("spans") of runs, levels and windows, with inclusive bounds, as the reference's
 * `aggregate_key_range`: the smallest range covering every table, gaps included.
 *
 * @module
 */
import type { Comparator } from "../../key/comparator.ts";
import type { Level } from "../../version/level.ts";
import type { TableHandle } from "../../version/run.ts";

/** An inclusive key range `[min, max]`. */
export interface KeySpan {
  readonly min: Uint8Array;
  readonly max: Uint8Array;
}

/** The span of a window of one run (tables in key order, so first min and last max bound it). */
export function windowSpan(window: readonly TableHandle[]): KeySpan {
  const first = window[0];
  const last = window[window.length - 1];
  if (first === undefined || last === undefined) throw new RangeError("a window needs at least one table");
  return { min: first.minKey, max: last.maxKey };
}

/** The span of a whole level (all runs), or `undefined` when it is empty. */
export function levelSpan(level: Level<TableHandle>, comparator: Comparator): KeySpan | undefined {
  let min: Uint8Array | undefined;
  let max: Uint8Array | undefined;
  for (const run of level.runs) {
    if (min === undefined || comparator.compare(run.minKey, min) < 0) min = run.minKey;
    if (max === undefined || comparator.compare(run.maxKey, max) > 0) max = run.maxKey;
  }
  return min === undefined || max === undefined ? undefined : { min, max };
}

export function spansOverlap(a: KeySpan, b: KeySpan, comparator: Comparator): boolean {
  return comparator.compare(a.min, b.max) <= 0 && comparator.compare(b.min, a.max) <= 0;
}

/** Tables of `level` (any run) intersecting `span`. */
export function overlappingTables<T extends TableHandle>(level: Level<T>, span: KeySpan): T[] {
  return level.overlapping(span.min, span.max);
}

/** Whether any table of `level` intersects `span`. */
export function levelOverlaps(level: Level<TableHandle>, span: KeySpan): boolean {
  return level.runs.some((run) => run.overlaps(span.min, span.max));
}
