/**
 * The reference's `pick_minimal_compaction`: which tables of an over-target level Ln go to L(n+1).
 *
 * 1. A trivial move when possible: the largest window of consecutive tables of one Ln run (the
 *    leftmost among equals, first run that has one) that holds no busy table and whose key span
 *    overlaps no table of L(n+1). Moving it rewrites nothing.
 * 2. Otherwise a merge: among windows of consecutive tables of an L(n+1) run, no bigger than 50 table
 *    targets, each pulling in the Ln tables lying entirely inside its span (at least one), none busy,
 *    the one with the fewest total bytes (window + pull-in); ties go to the earlier run, then the
 *    narrower, then the leftmost window, the order in which the reference enumerates them.
 *
 * @module
 */
import { lowerBound, type Run, type TableHandle } from "../../version/run.ts";
import type { Level } from "../../version/level.ts";
import type { Comparator } from "../../key/comparator.ts";

/** How many table targets one merge window of L(n+1) may weigh at most (the reference's cap). */
export const MERGE_WINDOW_CAP_TABLES = 50;

export interface PickedTables {
  readonly ids: readonly number[];
  /** The tables can be relinked without rewriting (nothing of L(n+1) overlaps them). */
  readonly trivial: boolean;
}

export function pickMinimalCompaction<T extends TableHandle>(
  curr: Level<T>,
  next: Level<T>,
  busy: ReadonlySet<number>,
  tableTargetSize: number,
  comparator: Comparator,
): PickedTables | undefined {
  for (const run of curr.runs) {
    const window = largestMovableWindow(run, next, busy);
    if (window !== undefined) return { ids: window.map((table) => table.id), trivial: true };
  }
  if (next.isEmpty) return undefined;
  const ids = cheapestMergeWindow(curr, next, busy, MERGE_WINDOW_CAP_TABLES * tableTargetSize, comparator);
  return ids === undefined ? undefined : { ids, trivial: false };
}

/**
 * The first window of the reference's shrinking-window search, found in one pass: a window's span is
 * the union of its tables and of the gaps between them, so it misses L(n+1) exactly when each of its
 * tables and each inner gap does. The answer is then the longest (leftmost) chain of such tables.
 */
function largestMovableWindow<T extends TableHandle>(run: Run<T>, next: Level<T>, busy: ReadonlySet<number>): readonly T[] | undefined {
  const tables = run.tables;
  const free = (table: T): boolean => !busy.has(table.id) && !next.runs.some((r) => r.overlaps(table.minKey, table.maxKey));
  const gapFree = (left: T, right: T): boolean => !next.runs.some((r) => r.overlaps(left.maxKey, right.minKey));
  let bestStart = -1;
  let bestLength = 0;
  let start = -1;
  for (let i = 0; i < tables.length; i++) {
    const table = tables[i] as T;
    if (!free(table)) {
      start = -1;
      continue;
    }
    if (start < 0 || !gapFree(tables[i - 1] as T, table)) start = i;
    const length = i - start + 1;
    if (length > bestLength) {
      bestLength = length;
      bestStart = start;
    }
  }
  return bestStart < 0 ? undefined : tables.slice(bestStart, bestStart + bestLength);
}

/** Prefix sums over one run: sizes and busy counts of `tables[0..i)`, for O(1) window sums. */
interface RunSums<T extends TableHandle> {
  readonly run: Run<T>;
  readonly size: readonly number[];
  readonly busy: readonly number[];
}

function runSums<T extends TableHandle>(run: Run<T>, busy: ReadonlySet<number>): RunSums<T> {
  const size = [0];
  const busyCount = [0];
  for (const table of run.tables) {
    size.push((size[size.length - 1] as number) + table.size);
    busyCount.push((busyCount[busyCount.length - 1] as number) + (busy.has(table.id) ? 1 : 0));
  }
  return { run, size, busy: busyCount };
}

interface Candidate {
  readonly total: number;
  readonly run: number;
  readonly width: number;
  readonly start: number;
  readonly ids: () => number[];
}

function cheapestMergeWindow<T extends TableHandle>(
  curr: Level<T>,
  next: Level<T>,
  busy: ReadonlySet<number>,
  cap: number,
  comparator: Comparator,
): number[] | undefined {
  const currSums = curr.runs.map((run) => runSums(run, busy));
  let best: Candidate | undefined;
  for (const [runIndex, run] of next.runs.entries()) {
    const sums = runSums(run, busy);
    const tables = run.tables;
    // Windows are visited start by start, each grown until it outweighs the cap: a wider window
    // only weighs more, so nothing past that point can qualify.
    for (let start = 0; start < tables.length; start++) {
      for (let end = start + 1; end <= tables.length; end++) {
        const windowSize = (sums.size[end] as number) - (sums.size[start] as number);
        if (windowSize > cap) break;
        if ((sums.busy[end] as number) - (sums.busy[start] as number) > 0) continue;
        const min = (tables[start] as T).minKey;
        const max = (tables[end - 1] as T).maxKey;
        const pull = pullIn(currSums, min, max, comparator);
        if (pull === undefined) continue;
        const candidate: Candidate = {
          total: windowSize + pull.size,
          run: runIndex,
          width: end - start,
          start,
          ids: () => [...tables.slice(start, end).map((t) => t.id), ...pull.ids()],
        };
        if (best === undefined || cheaper(candidate, best)) best = candidate;
      }
    }
  }
  return best?.ids();
}

// The reference enumerates run by run, in each all windows of width 1, then of width 2, ..., and keeps
// the first minimum: (run, width, start) reproduces that order.
function cheaper(a: Candidate, b: Candidate): boolean {
  if (a.total !== b.total) return a.total < b.total;
  if (a.run !== b.run) return a.run < b.run;
  if (a.width !== b.width) return a.width < b.width;
  return a.start < b.start;
}

/** The Ln tables inside `[min, max]`, from every run; `undefined` when none, or when one is busy. */
function pullIn<T extends TableHandle>(
  runs: readonly RunSums<T>[],
  min: Uint8Array,
  max: Uint8Array,
  comparator: Comparator,
): { size: number; ids: () => number[] } | undefined {
  let size = 0;
  let count = 0;
  const slices: [Run<T>, number, number][] = [];
  for (const sums of runs) {
    const tables = sums.run.tables;
    const lo = lowerBound(tables, (t) => comparator.compare(t.minKey, min) < 0);
    const hi = lowerBound(tables, (t) => comparator.compare(t.maxKey, max) <= 0);
    if (lo >= hi) continue;
    if ((sums.busy[hi] as number) - (sums.busy[lo] as number) > 0) return undefined;
    size += (sums.size[hi] as number) - (sums.size[lo] as number);
    count += hi - lo;
    slices.push([sums.run, lo, hi]);
  }
  if (count === 0) return undefined;
  return { size, ids: () => slices.flatMap(([run, lo, hi]) => run.tables.slice(lo, hi).map((t) => t.id)) };
}
