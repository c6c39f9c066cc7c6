/**
 * The choice behind `dropRange(bounds)`: drop every table, in any level, whose whole key range lies
 * inside the bounds. Tables straddling a bound are kept whole: dropRange is a cheap bulk delete of
 * files, not a delete of keys (a range tombstone does that).
 *
 * @module
 */
import type { Comparator } from "../../key/comparator.ts";
import type { TableHandle } from "../../version/run.ts";
import type { Version } from "../../version/version.ts";
import { NOTHING, anyBusy, dropChoice, type CompactionChoice } from "./choice.ts";

/**
 * Key bounds; an absent side is unbounded. Structurally a subset of the iterators' `KeyRange`, so a
 * normalised range can be passed as is.
 */
export interface DropRangeBounds {
  readonly lower?: Uint8Array | undefined;
  readonly lowerInclusive: boolean;
  readonly upper?: Uint8Array | undefined;
  readonly upperInclusive: boolean;
}

/**
 * A drop of the tables of `version` lying entirely inside `range` under `comparator`; "nothing" when
 * there are none (inverted bounds included), or when any of them is in `busy` (the drop would race
 * the compaction rewriting it).
 *
 * @example
 * ```ts
 * import { BYTEWISE_COMPARATOR, dropRangeChoice } from "@talus/lsm-core";
 * const enc = (s: string) => new TextEncoder().encode(s);
 * const range = { lower: enc("a"), lowerInclusive: true, upper: enc("c"), upperInclusive: false };
 * const choice = dropRangeChoice(version, range, BYTEWISE_COMPARATOR, new Set());
 * ```
 */
export function dropRangeChoice<T extends TableHandle>(
  version: Version<T>,
  range: DropRangeBounds,
  comparator: Comparator,
  busy: ReadonlySet<number> = new Set(),
): CompactionChoice {
  const inside: T[] = [];
  // A linear scan keeps this independent of the comparator the runs were sorted with; dropRange is rare.
  for (const table of version.tables()) if (contains(range, table, comparator)) inside.push(table);
  if (anyBusy(inside, busy)) return NOTHING;
  return dropChoice(inside.map((table) => table.id));
}

function contains(range: DropRangeBounds, table: TableHandle, comparator: Comparator): boolean {
  const { lower, upper } = range;
  if (lower !== undefined) {
    const c = comparator.compare(table.minKey, lower);
    if (range.lowerInclusive ? c < 0 : c <= 0) return false;
  }
  if (upper !== undefined) {
    const c = comparator.compare(table.maxKey, upper);
    if (range.upperInclusive ? c > 0 : c >= 0) return false;
  }
  return true;
}
