/**
 * Compaction strategies: pure decisions over a {@link Version}, executed by the engine.
 *
 * @module
 */
export {
  DEFAULT_TABLE_TARGET_SIZE,
  NOTHING,
  type CompactionChoice,
  type CompactionContext,
  type CompactionStrategy,
  type CompactionTable,
  type DropChoice,
  type MergeChoice,
  type MoveChoice,
  type NothingChoice,
} from "./choice.ts";
export { Leveled, type LeveledOptions, type ResolvedLeveledOptions } from "./leveled.ts";
export { SizeTiered, type ResolvedSizeTieredOptions, type SizeTieredOptions } from "./size-tiered.ts";
export { Fifo, type FifoOptions } from "./fifo.ts";
export { majorCompaction } from "./major.ts";
export { dropRangeChoice, type DropRangeBounds } from "./drop-range.ts";
