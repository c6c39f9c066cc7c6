/**
 * Size-tiered compaction (STCS, RocksDB's "universal"): every run stays in L0, and runs of similar
 * size are merged into one larger run. Lowest write amplification, at the price of more runs to read
 * and up to twice the space while a merge runs. Suits write-heavy data (counters, time series).
 *
 * @module
 */
import type { Run } from "../../version/run.ts";
import type { Version } from "../../version/version.ts";
import {
  DEFAULT_TABLE_TARGET_SIZE,
  NOTHING,
  anyBusy,
  mergeChoice,
  type CompactionChoice,
  type CompactionContext,
  type CompactionStrategy,
  type CompactionTable,
} from "./choice.ts";
import { integerAtLeast, nonNegativeFinite, nonNegativeOrInfinity, optionsObject, positiveSize } from "./options.ts";

export interface SizeTieredOptions {
  /** Two runs are "similar" when `larger / smaller <= 1 + sizeRatio`. 0 means equal sizes only. Default 1. */
  readonly sizeRatio?: number;
  /** Fewest similar runs worth a merge; values below 2 are taken as 2. Default 4. */
  readonly minMergeWidth?: number;
  /** Most runs merged at once (>= minMergeWidth); `Infinity` for no cap. Default `Infinity`. */
  readonly maxMergeWidth?: number;
  /**
   * Merge every run once `(total / largest − 1) × 100` reaches this: the bytes outside the largest run
   * are mostly stale copies. `Infinity` turns the check off. Default 200.
   */
  readonly maxSpaceAmplificationPercent?: number;
  /** Output table size in bytes. Default 64 MiB. */
  readonly tableTargetSize?: number;
}

export interface ResolvedSizeTieredOptions {
  readonly sizeRatio: number;
  readonly minMergeWidth: number;
  readonly maxMergeWidth: number;
  readonly maxSpaceAmplificationPercent: number;
  readonly tableTargetSize: number;
}

/**
 * Size-tiered compaction over the L0 runs, as the reference's `SizeTiered` ("SizeTieredCompaction").
 * Output goes back to L0 (`destLevel` and `canonicalLevel` 0); runs holding a busy table are left out.
 *
 * @example
 * ```ts
 * import { SizeTiered } from "@talus/lsm-core";
 * const strategy = new SizeTiered({ minMergeWidth: 4, sizeRatio: 1 });
 * const choice = strategy.choose(version, { busy: new Set(), nowMs: Date.now() });
 * // e.g. { kind: "merge", tableIds: [3, 4, 5, 6], destLevel: 0, canonicalLevel: 0, targetSize: 67108864 }
 * ```
 */
export class SizeTiered implements CompactionStrategy {
  readonly name = "SizeTieredCompaction";
  /** The options given, with every default filled in (frozen). */
  readonly options: ResolvedSizeTieredOptions;

  constructor(options?: SizeTieredOptions) {
    const o = optionsObject(options, "SizeTiered");
    const minMergeWidth = Math.max(integerAtLeast(o.minMergeWidth ?? 4, 1, "minMergeWidth"), 2);
    const maxMergeWidth = Math.max(integerAtLeast(o.maxMergeWidth ?? Infinity, 1, "maxMergeWidth", true), 2);
    // The reference accepts max < min and then never merges by size; refuse it rather than surprise.
    if (maxMergeWidth < minMergeWidth) throw new RangeError(`maxMergeWidth (${maxMergeWidth}) must be >= minMergeWidth (${minMergeWidth})`);
    this.options = Object.freeze({
      sizeRatio: nonNegativeFinite(o.sizeRatio ?? 1, "sizeRatio"),
      minMergeWidth,
      maxMergeWidth,
      maxSpaceAmplificationPercent: nonNegativeOrInfinity(o.maxSpaceAmplificationPercent ?? 200, "maxSpaceAmplificationPercent"),
      tableTargetSize: positiveSize(o.tableTargetSize ?? DEFAULT_TABLE_TARGET_SIZE, "tableTargetSize"),
    });
  }

  choose(version: Version<CompactionTable>, context: CompactionContext): CompactionChoice {
    const { sizeRatio, minMergeWidth, maxMergeWidth, maxSpaceAmplificationPercent, tableTargetSize } = this.options;
    const runs = version.level(0).runs.filter((run) => !anyBusy(run.tables, context.busy));
    if (runs.length < 2) return NOTHING;

    let total = 0;
    let largest = 0;
    for (const run of runs) {
      total += run.size;
      largest = Math.max(largest, run.size);
    }
    // total / largest − 1 >= amp / 100, without the division.
    if (largest > 0 && total * 100 >= largest * (100 + maxSpaceAmplificationPercent)) {
      return mergeChoice(tableIds(runs), 0, tableTargetSize, 0);
    }

    // Stable: equally sized runs keep their L0 order (newest first), as in the reference.
    const sorted = [...runs].sort((a, b) => a.size - b.size);
    let similar = 1;
    for (let i = 1; i < sorted.length; i++) {
      const smaller = (sorted[i - 1] as Run<CompactionTable>).size;
      const larger = (sorted[i] as Run<CompactionTable>).size;
      // An empty run costs nothing to merge, whatever follows it.
      if (smaller !== 0 && larger / smaller > 1 + sizeRatio) break;
      similar++;
    }
    if (similar < minMergeWidth) return NOTHING;
    return mergeChoice(tableIds(sorted.slice(0, Math.min(similar, maxMergeWidth))), 0, tableTargetSize, 0);
  }
}

function tableIds(runs: readonly Run<CompactionTable>[]): number[] {
  return runs.flatMap((run) => run.tables.map((table) => table.id));
}
