/**
 * A level: a list of runs. L0 takes one new run per flush, so it holds several, newest first; L1 and
 * deeper hold one run (transiently more when a transition lands tables that overlap what is there).
 * {@link optimizeRuns} re-packs the runs after each transition so that disjoint data shares a run and
 * point reads probe as few runs as possible.
 *
 * Invariants: no run is empty (a {@link Run} cannot be), and a table id appears at most once (the
 * {@link Version} checks this across all levels).
 *
 * @module
 */
import type { Comparator } from "../key/comparator.ts";
import { lowerBound, Run, type TableHandle } from "./run.ts";

/** An immutable list of runs; for L0 the newest run comes first. */
export class Level<T extends TableHandle> {
  /** The level's runs, none empty; in L0 the newest run first (L1 and deeper hold one, transiently more). */
  readonly runs: readonly Run<T>[];
  /** How many tables the runs hold together. */
  readonly tableCount: number;
  /** Sum of the table sizes over all runs. */
  readonly size: number;

  constructor(runs: readonly Run<T>[]) {
    this.runs = runs;
    let count = 0;
    let size = 0;
    for (const run of runs) {
      count += run.length;
      size += run.size;
    }
    this.tableCount = count;
    this.size = size;
  }

  static empty<T extends TableHandle>(): Level<T> {
    return new Level<T>([]);
  }

  /** Whether the level holds no table (no run). */
  get isEmpty(): boolean {
    return this.runs.length === 0;
  }

  /** At most one run: a point read needs one binary search in this level. */
  get isDisjoint(): boolean {
    return this.runs.length <= 1;
  }

  /** Every table, run by run (newest run first), in key order within a run. */
  *tables(): IterableIterator<T> {
    for (const run of this.runs) yield* run.tables;
  }

  /** The tables that may hold `key`: at most one per run, newest run first. */
  tablesForKey(key: Uint8Array): T[] {
    const out: T[] = [];
    for (const run of this.runs) {
      const table = run.getForKey(key);
      if (table !== undefined) out.push(table);
    }
    return out;
  }

  /** Tables intersecting `[min, max]`, run by run. */
  overlapping(min: Uint8Array, max: Uint8Array): T[] {
    const out: T[] = [];
    for (const run of this.runs) out.push(...run.overlapping(min, max));
    return out;
  }

  /** This level without the tables whose id is in `ids` (runs left empty disappear). */
  without(ids: ReadonlySet<number>): Level<T> {
    let changed = false;
    const runs: Run<T>[] = [];
    for (const run of this.runs) {
      const kept = run.without(ids);
      if (kept !== run) changed = true;
      if (kept !== undefined) runs.push(kept);
    }
    return changed ? new Level(runs) : this;
  }
}

/**
 * Re-packs runs (given newest first) into as few runs as a greedy pass finds, newest first, as the
 * reference does: runs are visited oldest to newest, and each table goes into the first already-built
 * run, looking from the oldest, that none of its tables overlaps; a table that fits nowhere starts a new
 * run in front (as the newest). Disjoint data thus collapses into one run, and overlapping tables stay
 * in separate runs. Point reads in L0 check every run and keep the highest seqno, so moving a table to
 * an older run never changes an answer.
 */
export function optimizeRuns<T extends TableHandle>(runs: readonly Run<T>[], comparator: Comparator): Run<T>[] {
  if (runs.length <= 1) return [...runs];
  // Each built run is kept sorted by min key as tables are inserted, so the overlap test is a binary search.
  const built: T[][] = [];
  for (let r = runs.length - 1; r >= 0; r--) {
    for (const table of (runs[r] as Run<T>).tables) {
      let placed = false;
      for (let b = built.length - 1; b >= 0; b--) {
        const candidate = built[b] as T[];
        const at = lowerBound(candidate, (t) => comparator.compare(t.maxKey, table.minKey) < 0);
        const next = candidate[at];
        if (next === undefined || comparator.compare(next.minKey, table.maxKey) > 0) {
          candidate.splice(at, 0, table);
          placed = true;
          break;
        }
      }
      if (!placed) built.unshift([table]);
    }
  }
  return built.map((tables) => Run.trusted(tables, comparator));
}
