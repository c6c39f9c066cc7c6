/**
 * Major compaction: every table of the tree merged into one sorted run in the last level, where
 * tombstones can be evicted. Used by `majorCompact` and by tests that need a known shape.
 *
 * @module
 */
import { LEVEL_COUNT, type Version } from "../../version/version.ts";
import {
  NOTHING,
  anyBusy,
  mergeChoice,
  type CompactionChoice,
  type CompactionContext,
  type CompactionStrategy,
  type CompactionTable,
} from "./choice.ts";
import { integerAtLeast } from "./options.ts";

/**
 * A strategy ("MajorCompaction") that merges all tables into the last level, cutting output tables at
 * `targetSize` bytes (`Infinity`: one table). Chooses nothing on an empty tree, or while any table is
 * busy: a partial major compaction would not give the single bottom run callers rely on.
 *
 * @example
 * ```ts
 * import { majorCompaction } from "@talus/lsm-core";
 * const choice = majorCompaction(64 * 1024 * 1024).choose(version, { busy: new Set(), nowMs: Date.now() });
 * // { kind: "merge", tableIds: [...every id...], destLevel: 6, canonicalLevel: 6, targetSize: 67108864 }
 * ```
 */
export function majorCompaction(targetSize: number): CompactionStrategy {
  integerAtLeast(targetSize, 1, "targetSize", true);
  const lastLevel = LEVEL_COUNT - 1;
  return Object.freeze({
    name: "MajorCompaction",
    choose(version: Version<CompactionTable>, context: CompactionContext): CompactionChoice {
      const tables = [...version.tables()];
      if (tables.length === 0 || anyBusy(tables, context.busy)) return NOTHING;
      const choice = mergeChoice(
        tables.map((table) => table.id),
        lastLevel,
        targetSize,
        lastLevel,
      );
      return choice.kind === "merge" ? { ...choice, relocateAllStale: true } : choice;
    },
  });
}
