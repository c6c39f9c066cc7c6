/**
 * Range bounds in the abstract-level convention: `{ gt, gte, lt, lte, reverse, limit }`. Normalised once
 * at the public boundary into a {@link KeyRange}, so cursors never look at user option objects.
 *
 * @module
 */
import type { Comparator } from "../key/comparator.ts";
import { toKey, type Bytes } from "../key/validate.ts";
import { copyBytes } from "../key/copy.ts";

/**
 * What `range()` accepts. Bounds compare in the tree's key order (its comparator); when both `gt` and `gte`
 * (or `lt` and `lte`) are given, the stricter one wins.
 */
export interface RangeOptions {
  /** Only keys greater than this. */
  readonly gt?: Bytes;
  /** Only keys greater than or equal to this. */
  readonly gte?: Bytes;
  /** Only keys less than this. */
  readonly lt?: Bytes;
  /** Only keys less than or equal to this. */
  readonly lte?: Bytes;
  /** Iterate from the largest key down. */
  readonly reverse?: boolean;
  /** Stop after this many entries; `-1` or `Infinity` (the default) means no limit. */
  readonly limit?: number;
}

/** A normalised range: optional lower/upper bound with inclusiveness. */
export interface KeyRange {
  readonly lower: Uint8Array | undefined;
  readonly lowerInclusive: boolean;
  readonly upper: Uint8Array | undefined;
  readonly upperInclusive: boolean;
  readonly reverse: boolean;
  readonly limit: number;
}

export const FULL_RANGE: KeyRange = {
  lower: undefined,
  lowerInclusive: true,
  upper: undefined,
  upperInclusive: true,
  reverse: false,
  limit: Infinity,
};

export function normalizeRange(comparator: Comparator, options: RangeOptions | undefined): KeyRange {
  if (options === undefined) return FULL_RANGE;
  if (typeof options !== "object" || options === null) throw new TypeError("range options must be an object");
  let lower: Uint8Array | undefined;
  let lowerInclusive = true;
  let upper: Uint8Array | undefined;
  let upperInclusive = true;
  // Bounds are copied: the caller may reuse its buffers while the iterator is still running.
  if (options.gte !== undefined) lower = copyBytes(toKey(options.gte, "gte"));
  if (options.gt !== undefined) {
    const gt = copyBytes(toKey(options.gt, "gt"));
    if (lower === undefined || comparator.compare(gt, lower) >= 0) {
      lower = gt;
      lowerInclusive = false;
    }
  }
  if (options.lte !== undefined) upper = copyBytes(toKey(options.lte, "lte"));
  if (options.lt !== undefined) {
    const lt = copyBytes(toKey(options.lt, "lt"));
    if (upper === undefined || comparator.compare(lt, upper) <= 0) {
      upper = lt;
      upperInclusive = false;
    }
  }
  return { lower, lowerInclusive, upper, upperInclusive, reverse: options.reverse === true, limit: normalizeLimit(options.limit) };
}

function normalizeLimit(limit: number | undefined): number {
  if (limit === undefined || limit === -1 || limit === Infinity) return Infinity;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 0) {
    throw new RangeError(`limit must be a non-negative integer, -1 or Infinity, got ${String(limit)}`);
  }
  return limit;
}

/** Whether `key` is at or above the lower bound. */
export function aboveLower(comparator: Comparator, range: KeyRange, key: Uint8Array): boolean {
  if (range.lower === undefined) return true;
  const c = comparator.compare(key, range.lower);
  return range.lowerInclusive ? c >= 0 : c > 0;
}

/** Whether `key` is at or below the upper bound. */
export function belowUpper(comparator: Comparator, range: KeyRange, key: Uint8Array): boolean {
  if (range.upper === undefined) return true;
  const c = comparator.compare(key, range.upper);
  return range.upperInclusive ? c <= 0 : c < 0;
}

/**
 * The smallest byte string greater than every key starting with `prefix` (bytewise): increment the
 * last byte that is not 0xff and cut after it. `undefined` when there is none (empty or all 0xff).
 */
export function prefixSuccessor(prefix: Uint8Array): Uint8Array | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if ((prefix[i] as number) !== 0xff) {
      const out = copyBytes(prefix.subarray(0, i + 1));
      out[i] = (out[i] as number) + 1;
      return out;
    }
  }
  return undefined;
}
