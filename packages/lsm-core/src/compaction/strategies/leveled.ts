/**
 * Leveled compaction (LCS), the reference's default strategy: L0 collects flushes; each deeper level
 * holds one run about `levelRatio` times larger than the one above; a level over its target size
 * pushes a slice of itself into the next one. Low read and space amplification, higher write
 * amplification than size-tiered.
 *
 * A young tree fills from the bottom: flushed data that overlaps nothing below is moved straight to
 * the last level, and the first non-empty level below L0 plays the role of L1 ("canonical L1"), so
 * level targets are counted from there.
 *
 * `choose` follows the reference's steps in order, the first that applies deciding:
 * 1. L0 is one run, L1..L5 are empty and L6's span misses L0's: move L0 to L6;
 * 2. canonical L1 = first non-empty level below L0 (L6 if none), one level higher when every
 *    non-empty level is over its target;
 * 3. L0 is one run that misses the single run of canonical L1: move L0 there;
 * 4. L0 has several runs but fewer tables than `l0Threshold`: merge L0 within L0;
 * 5–6. score L0 (tables / threshold, once at threshold) and every Ln but the last (free bytes / target
 *    when over, 99.99 when L(n+1) is empty); nothing when the best score is below 1;
 * 7. L0 wins: all of L0 and what it overlaps in canonical L1 (move when that is nothing and L0 is one
 *    run), or with `multiLevel` and an over-target L1 all of L0 and L1 and what they overlap in L2;
 * 8. Ln wins: see {@link pickMinimalCompaction}.
 * 9. (not in the reference) when nothing scores, a table of L1..L5 holding range tombstones whose key
 *    range meets a deeper level is pushed one level down, merged with what it overlaps there (moved
 *    when that is nothing). A range tombstone is collected, with what it deletes, only by a compaction
 *    into the last level holding its range; a tree that keeps deleting ranges leaves small tables of
 *    tombstones that no size score would ever push down, above the data they delete, and would grow
 *    without bound. Each push moves a tombstone one level, so this ends at the bottom.
 *
 * Deliberate differences: step 1 is skipped while an L0 table is busy (the reference does not look);
 * the merge-window search of step 8 skips over-cap windows instead of ending at the first one; level
 * targets are computed in double rather than single precision.
 *
 * @module
 */
import type { Level } from "../../version/level.ts";
import { LEVEL_COUNT, type Version } from "../../version/version.ts";
import {
  DEFAULT_TABLE_TARGET_SIZE,
  NOTHING,
  freeLevelSize,
  levelIsBusy,
  mergeChoice,
  moveChoice,
  type CompactionChoice,
  type CompactionContext,
  type CompactionStrategy,
  type CompactionTable,
} from "./choice.ts";
import { levelOverlaps, levelSpan, overlappingTables, spansOverlap } from "./key-span.ts";
import { pickMinimalCompaction } from "./leveled-picker.ts";
import { boolean, integerAtLeast, optionsObject, positiveFinite, positiveSize } from "./options.ts";

export interface LeveledOptions {
  /** L0 table count at which L0 is merged into L1 (also sizes L1: `tableTargetSize × l0Threshold`). Default 4. */
  readonly l0Threshold?: number;
  /** Output table size in bytes. Default 64 MiB. */
  readonly tableTargetSize?: number;
  /** Growth factor from L(n) to L(n+1), listed from L1→L2 on; the last value repeats. Default `[10]`. */
  readonly levelRatio?: readonly number[];
  /** Size levels from the actual size of the last one (RocksDB's `level_compaction_dynamic_level_bytes`). Default false. */
  readonly dynamicLevelBytes?: boolean;
  /** Merge L0 and an over-target L1 straight into L2 in one job. Default false. */
  readonly multiLevel?: boolean;
}

export interface ResolvedLeveledOptions {
  readonly l0Threshold: number;
  readonly tableTargetSize: number;
  readonly levelRatio: readonly number[];
  readonly dynamicLevelBytes: boolean;
  readonly multiLevel: boolean;
}

/** Score that makes a level whose next level is empty win: moving it down is free. */
const FORCED_MOVE_SCORE = 99.99;
const LAST_LEVEL = LEVEL_COUNT - 1;

/**
 * Leveled compaction, as the reference's `Leveled` strategy ("LeveledCompaction").
 *
 * @example
 * ```ts
 * import { Leveled } from "@talus/lsm-core";
 * const strategy = new Leveled({ l0Threshold: 4, tableTargetSize: 32 * 1024 * 1024 });
 * const choice = strategy.choose(version, { busy: new Set(), nowMs: Date.now() });
 * if (choice.kind === "merge") console.log(`merge ${choice.tableIds.length} tables into L${choice.destLevel}`);
 * ```
 */
export class Leveled implements CompactionStrategy {
  readonly name = "LeveledCompaction";
  /** The options given, with every default filled in (frozen). */
  readonly options: ResolvedLeveledOptions;

  constructor(options?: LeveledOptions) {
    const o = optionsObject(options, "Leveled");
    const levelRatio = o.levelRatio ?? [10];
    if (!Array.isArray(levelRatio) || levelRatio.length === 0) throw new RangeError("levelRatio must be a non-empty array of ratios > 0");
    levelRatio.forEach((ratio, i) => positiveFinite(ratio, `levelRatio[${i}]`));
    this.options = Object.freeze({
      l0Threshold: integerAtLeast(o.l0Threshold ?? 4, 1, "l0Threshold"),
      tableTargetSize: positiveSize(o.tableTargetSize ?? DEFAULT_TABLE_TARGET_SIZE, "tableTargetSize"),
      levelRatio: Object.freeze([...levelRatio]),
      dynamicLevelBytes: boolean(o.dynamicLevelBytes ?? false, "dynamicLevelBytes"),
      multiLevel: boolean(o.multiLevel ?? false, "multiLevel"),
    });
  }

  /** Target size in bytes of canonical level `canonicalLevel` (>= 1) under static sizing. */
  levelTargetSize(canonicalLevel: number): number {
    if (!Number.isInteger(canonicalLevel) || canonicalLevel < 1) throw new RangeError(`level targets start at L1, got ${canonicalLevel}`);
    let size = this.#baseSize();
    for (let i = 0; i + 2 <= canonicalLevel; i++) size *= this.#ratio(i);
    return Math.floor(size);
  }

  choose(version: Version<CompactionTable>, context: CompactionContext): CompactionChoice {
    const { busy } = context;
    const { tableTargetSize, l0Threshold } = this.options;
    const l0 = version.level(0);

    const toLast = this.#trivialMoveToLast(version, busy);
    if (toLast !== undefined) return toLast;

    // Canonical L1: the first non-empty level, or one above it once every level is over target, so
    // that a growing tree gains a level on top instead of overfilling the ones it has.
    const firstNonEmpty = firstNonEmptyLevel(version);
    let canonicalL1 = firstNonEmpty ?? LAST_LEVEL;
    let levelShift = canonicalL1 - 1;
    if (firstNonEmpty !== undefined && canonicalL1 > 1) {
      let allOver = true;
      for (let i = 1; i < LEVEL_COUNT && allOver; i++) {
        const level = version.level(i);
        if (!level.isEmpty && freeLevelSize(level, busy) <= this.levelTargetSize(i - levelShift)) allOver = false;
      }
      if (allOver) {
        canonicalL1--;
        levelShift--;
      }
    }

    const intoL1 = this.#trivialMoveIntoL1(version, canonicalL1, busy);
    if (intoL1 !== undefined) return intoL1;

    // A few overlapping flushes: merging them within L0 keeps point reads cheap without touching L1.
    if (l0.runs.length > 1 && l0.tableCount < l0Threshold && !levelIsBusy(l0, busy)) {
      return mergeChoice(ids(l0), 0, tableTargetSize, 0);
    }

    const scores = this.#scores(version, this.#targets(version, levelShift, busy), busy);
    let winner = 0;
    // Ties go to the deeper level, as Rust's `max_by` keeps the last maximum.
    for (let i = 1; i < scores.length; i++) if ((scores[i] as number) >= (scores[winner] as number)) winner = i;
    if ((scores[winner] as number) < 1) return this.#pushTombstonesDown(version, levelShift, busy) ?? NOTHING;

    if (winner === 0) return this.#l0IntoL1(version, canonicalL1, scores, busy);

    const curr = version.level(winner);
    const picked = pickMinimalCompaction(curr, version.level(winner + 1), busy, tableTargetSize, version.comparator);
    if (picked === undefined) return NOTHING;
    const dest = winner + 1;
    if (picked.trivial && curr.isDisjoint) return moveChoice(picked.ids, dest);
    return mergeChoice(picked.ids, dest, tableTargetSize, dest - levelShift);
  }

  // Step 9: the deepest table with range tombstones above data its range meets goes one level down.
  #pushTombstonesDown(version: Version<CompactionTable>, levelShift: number, busy: ReadonlySet<number>): CompactionChoice | undefined {
    for (let n = LAST_LEVEL - 1; n >= 1; n--) {
      for (const table of version.level(n).tables()) {
        if ((table.rangeTombstoneCount ?? 0) === 0 || busy.has(table.id)) continue;
        let below = false;
        for (let m = n + 1; m < LEVEL_COUNT && !below; m++) below = version.level(m).overlapping(table.minKey, table.maxKey).length > 0;
        if (!below) continue;
        const next = version.level(n + 1).overlapping(table.minKey, table.maxKey);
        if (next.some((t) => busy.has(t.id))) continue;
        if (next.length === 0) return moveChoice([table.id], n + 1);
        return mergeChoice([table.id, ...next.map((t) => t.id)], n + 1, this.options.tableTargetSize, Math.max(1, n + 1 - levelShift));
      }
    }
    return undefined;
  }

  // Step 1: with nothing between L0 and the last level, disjoint L0 data that misses the last level's
  // span goes straight there (sequential inserts then never get rewritten).
  #trivialMoveToLast(version: Version<CompactionTable>, busy: ReadonlySet<number>): CompactionChoice | undefined {
    const l0 = version.level(0);
    if (l0.runs.length !== 1 || levelIsBusy(l0, busy)) return undefined;
    for (let i = 1; i < LAST_LEVEL; i++) if (!version.level(i).isEmpty) return undefined;
    const cmp = version.comparator;
    const l0Span = levelSpan(l0, cmp);
    const lastSpan = levelSpan(version.level(LAST_LEVEL), cmp);
    if (l0Span === undefined || (lastSpan !== undefined && spansOverlap(l0Span, lastSpan, cmp))) return undefined;
    return moveChoice(ids(l0), LAST_LEVEL);
  }

  // Step 3: one disjoint L0 run that misses the single run of canonical L1 is relinked there.
  #trivialMoveIntoL1(version: Version<CompactionTable>, canonicalL1: number, busy: ReadonlySet<number>): CompactionChoice | undefined {
    const l0 = version.level(0);
    const target = version.level(canonicalL1);
    if (l0.runs.length !== 1 || target.runs.length !== 1) return undefined;
    if (levelIsBusy(l0, busy) || levelIsBusy(target, busy)) return undefined;
    const span = levelSpan(l0, version.comparator);
    if (span === undefined || levelOverlaps(target, span)) return undefined;
    return moveChoice(ids(l0), canonicalL1);
  }

  // Step 7: all of L0 plus what it overlaps in canonical L1 (and, with multiLevel and an over-target
  // L1, all of L1 plus what they overlap in L2).
  #l0IntoL1(version: Version<CompactionTable>, canonicalL1: number, scores: readonly number[], busy: ReadonlySet<number>): CompactionChoice {
    const { tableTargetSize, multiLevel } = this.options;
    const l0 = version.level(0);
    const l1 = version.level(canonicalL1);
    if (levelIsBusy(l0, busy) || levelIsBusy(l1, busy)) return NOTHING;
    const span = levelSpan(l0, version.comparator);
    if (span === undefined) return NOTHING;
    const overlapped = overlappingTables(l1, span);
    const chosen = [...ids(l0), ...overlapped.map((t) => t.id)];

    const l2Index = canonicalL1 + 1;
    if (multiLevel && (scores[canonicalL1] ?? 0) > 1 && l2Index < LEVEL_COUNT) {
      const l2 = version.level(l2Index);
      if (!levelIsBusy(l2, busy)) {
        chosen.push(...ids(l1));
        // Per input table rather than one aggregate span: an aggregate covers the gaps between
        // tables and would drag in L2 tables that overlap no input.
        for (const table of [...l0.tables(), ...l1.tables()]) {
          for (const hit of l2.overlapping(table.minKey, table.maxKey)) chosen.push(hit.id);
        }
        return mergeChoice(chosen, l2Index, tableTargetSize, 2);
      }
    }
    if (overlapped.length === 0 && l0.isDisjoint) return moveChoice(chosen, canonicalL1);
    return mergeChoice(chosen, canonicalL1, tableTargetSize, 1);
  }

  // Step 6: L0 scores by table count once at threshold; Ln by free size over target, forced to win
  // when L(n+1) is empty (the move is free); the last level is never scored.
  #scores(version: Version<CompactionTable>, targets: readonly number[], busy: ReadonlySet<number>): number[] {
    const scores = Array.from({ length: LEVEL_COUNT }, () => 0);
    const l0Tables = version.level(0).tableCount;
    if (l0Tables >= this.options.l0Threshold) scores[0] = l0Tables / this.options.l0Threshold;
    for (let i = 1; i < LAST_LEVEL; i++) {
      const level = version.level(i);
      if (level.isEmpty) continue;
      const size = freeLevelSize(level, busy);
      const target = targets[i] as number;
      if (size > target) scores[i] = version.level(i + 1).isEmpty ? FORCED_MOVE_SCORE : size / target;
    }
    return scores;
  }

  // Step 5: per physical level; levels above canonical L1 get no target (Infinity, never scored).
  #targets(version: Version<CompactionTable>, levelShift: number, busy: ReadonlySet<number>): number[] {
    if (this.options.dynamicLevelBytes) {
      const dynamic = this.#dynamicTargets(version, levelShift, busy);
      if (dynamic !== undefined) return dynamic;
    }
    return Array.from({ length: LEVEL_COUNT }, (_, i) => (i <= levelShift ? Infinity : this.levelTargetSize(i - levelShift)));
  }

  // From the free size of the last non-empty level, divided back level by level; `undefined` (use
  // static targets) when the tree is empty or so small that L1's dynamic target falls below its static one.
  #dynamicTargets(version: Version<CompactionTable>, levelShift: number, busy: ReadonlySet<number>): number[] | undefined {
    let lmax: number | undefined;
    for (let i = 1; i < LEVEL_COUNT; i++) if (!version.level(i).isEmpty) lmax = i;
    if (lmax === undefined) return undefined;
    const targets: number[] = Array.from({ length: LEVEL_COUNT }, () => Infinity);
    let current = freeLevelSize(version.level(lmax), busy);
    targets[lmax] = current;
    const dynamicL1 = levelShift + 1;
    for (let i = lmax - 1; i >= dynamicL1; i--) {
      current /= this.#ratio(Math.max(i - levelShift - 1, 0));
      targets[i] = Math.floor(current);
    }
    return (targets[dynamicL1] as number) < this.#baseSize() ? undefined : targets;
  }

  #baseSize(): number {
    return this.options.tableTargetSize * this.options.l0Threshold;
  }

  #ratio(index: number): number {
    const ratios = this.options.levelRatio;
    return (ratios[index] ?? ratios[ratios.length - 1]) as number;
  }
}

function firstNonEmptyLevel(version: Version<CompactionTable>): number | undefined {
  for (let i = 1; i < LEVEL_COUNT; i++) if (!version.level(i).isEmpty) return i;
  return undefined;
}

function ids(level: Level<CompactionTable>): number[] {
  return [...level.tables()].map((table) => table.id);
}
