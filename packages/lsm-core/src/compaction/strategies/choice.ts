/**
 * The vocabulary shared by every compaction strategy: what a strategy sees (a {@link Version} of
 * {@link CompactionTable}s plus a {@link CompactionContext}) and what it answers (a
 * {@link CompactionChoice}). A strategy is a pure decision, like the reference's
 * `CompactionStrategy::choose`: it reads, performs no I/O and changes nothing; the engine executes the
 * choice (and turns a move across level routes into a merge).
 *
 * Every choice lists table ids in ascending order without duplicates, so that equal situations give
 * equal answers and callers can compare choices structurally.
 *
 * @module
 */
import type { Level } from "../../version/level.ts";
import type { TableHandle } from "../../version/run.ts";
import type { Version } from "../../version/version.ts";

/** A table as strategies see it: the version model's handle plus its creation time (FIFO ages by it). */
export interface CompactionTable extends TableHandle {
  /** Wall-clock time the table's data was written, in ms since the epoch. */
  readonly createdAtMs: number;
  /** Range tombstone fragments the table holds (absent: none). */
  readonly rangeTombstoneCount?: number;
  /** Stored bytes in blob files that the table's indirections reference (a blob tree's; absent: 0). */
  readonly referencedBlobBytes?: number;
}

/** What the engine tells a strategy besides the version. */
export interface CompactionContext {
  /** Ids of tables another compaction is working on: never chosen again until it ends. */
  readonly busy: ReadonlySet<number>;
  /** The current time in ms since the epoch, injected so that TTL decisions are reproducible. */
  readonly nowMs: number;
  /** Bytes held by blob files; FIFO counts them toward its limit. Absent means 0. */
  readonly blobBytes?: number;
}

/** Leave the tree as it is. */
export interface NothingChoice {
  /** Discriminant of {@link CompactionChoice}: no job. */
  readonly kind: "nothing";
}

/** Relink `tableIds` unchanged into `destLevel`. */
export interface MoveChoice {
  /** Discriminant of {@link CompactionChoice}: a move, which relinks files and rewrites no data. */
  readonly kind: "move";
  /** Ids of the tables to move, ascending and without duplicates; none may be busy. */
  readonly tableIds: readonly number[];
  /**
   * The level (0 = L0, up to {@link LEVEL_COUNT} - 1) the tables are listed in afterwards. Where level
   * routes give it another folder than a table's, the engine rewrites the tables into that folder instead.
   */
  readonly destLevel: number;
}

/**
 * Rewrite `tableIds` into one new run at `destLevel`, cutting output tables at `targetSize` bytes.
 * `canonicalLevel` is the level the output plays the role of once empty top levels are skipped (L1 may
 * physically be L4 in a young tree); the engine picks per-level policies by it.
 */
export interface MergeChoice {
  /** Discriminant of {@link CompactionChoice}: a merge, which reads the input tables and writes new ones. */
  readonly kind: "merge";
  /**
   * Ids of the input tables, ascending and without duplicates; none may be busy. They leave the tree once the
   * output is installed.
   */
  readonly tableIds: readonly number[];
  /** The level (0 = L0, up to {@link LEVEL_COUNT} - 1) the output run is installed in, in that level's folder. */
  readonly destLevel: number;
  /**
   * Size in bytes at which an output table is finished and the next one begun, at the next change of user
   * key (every version of a key stays in one table), so an output may be somewhat larger.
   */
  readonly targetSize: number;
  /**
   * The level whose per-level options (`compression`, `blockSize`, `filterBitsPerKey`, ...) the output is
   * written with: the level `destLevel` stands in for once empty top levels are skipped (equal to
   * `destLevel` in a full tree).
   */
  readonly canonicalLevel: number;
  /** A blob tree relocates every stale blob file it can (not just the oldest `ageCutoff` of them): a major compaction. */
  readonly relocateAllStale?: boolean;
}

/** Remove `tableIds` from the tree, data and all. */
export interface DropChoice {
  /** Discriminant of {@link CompactionChoice}: a drop, which deletes tables without reading them. */
  readonly kind: "drop";
  /**
   * Ids of the tables to remove, ascending and without duplicates (never empty); their entries are gone for
   * every later read.
   */
  readonly tableIds: readonly number[];
}

/** What a strategy decides, by `kind`: leave the tree alone, move tables down, merge them, or drop them. */
export type CompactionChoice = NothingChoice | MoveChoice | MergeChoice | DropChoice;

/** A compaction policy: looks at a version and decides the next job, without performing it. */
export interface CompactionStrategy {
  /** "LeveledCompaction", "SizeTieredCompaction", "FifoCompaction", "MajorCompaction", ... */
  readonly name: string;
  /**
   * The next job for `version`, never involving a table in `context.busy`, or `{ kind: "nothing" }`. Reads
   * only: the engine performs the choice.
   */
  choose(version: Version<CompactionTable>, context: CompactionContext): CompactionChoice;
}

/** The one "nothing" value; frozen so that no caller can turn it into something. */
export const NOTHING: NothingChoice = Object.freeze({ kind: "nothing" });

/** Table target size the reference uses for leveled and tiered outputs. */
export const DEFAULT_TABLE_TARGET_SIZE = 64 * 1024 * 1024;

/** Ascending, deduplicated ids: the canonical form of every choice's `tableIds`. */
export function sortedIds(ids: Iterable<number>): number[] {
  return [...new Set(ids)].sort((a, b) => a - b);
}

export function moveChoice(ids: Iterable<number>, destLevel: number): MoveChoice {
  return { kind: "move", tableIds: sortedIds(ids), destLevel };
}

export function mergeChoice(ids: Iterable<number>, destLevel: number, targetSize: number, canonicalLevel: number): MergeChoice {
  return { kind: "merge", tableIds: sortedIds(ids), destLevel, targetSize, canonicalLevel };
}

/** A drop of `ids`, or nothing when there is nothing to drop (a drop of no table is no job). */
export function dropChoice(ids: Iterable<number>): DropChoice | NothingChoice {
  const tableIds = sortedIds(ids);
  return tableIds.length === 0 ? NOTHING : { kind: "drop", tableIds };
}

/** Whether any of `tables` is in the busy set. */
export function anyBusy(tables: Iterable<TableHandle>, busy: ReadonlySet<number>): boolean {
  if (busy.size === 0) return false;
  for (const table of tables) if (busy.has(table.id)) return true;
  return false;
}

/** Whether any table of `level` is busy (the reference's `level_is_busy`). */
export function levelIsBusy(level: Level<TableHandle>, busy: ReadonlySet<number>): boolean {
  return anyBusy(level.tables(), busy);
}

/** Sum of the sizes of the tables of `level` that are not busy: bytes already on their way out do not count. */
export function freeLevelSize(level: Level<TableHandle>, busy: ReadonlySet<number>): number {
  if (busy.size === 0) return level.size;
  let size = 0;
  for (const table of level.tables()) if (!busy.has(table.id)) size += table.size;
  return size;
}
