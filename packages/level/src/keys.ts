/**
 * Level keys in a Talus tree.
 *
 * abstract-level allows every byte string as a key, the empty one included; a Talus tree takes keys of
 * 1..65535 bytes. The adapter maps a level key `k` to a tree key by an order-preserving escape:
 *
 * - a key that is empty or starts with `0x00` is stored as `0x00 ‖ k`;
 * - every other key is stored as it is (no copy: the common case of text keys costs nothing).
 *
 * The map is injective and keeps bytewise order: escaped keys are exactly the tree keys starting with
 * `0x00`, and they come first, as their level keys (empty, or starting with `0x00`) do. So range bounds
 * map the same way, and `""` becomes `[0x00]`, the smallest tree key. A level key may be 65535 bytes
 * long, 65534 when its first byte is `0x00`.
 *
 * @module
 */
import { BYTEWISE_COMPARATOR, MAX_KEY_BYTES, type RangeOptions } from "@talus/lsm-core";
import { levelError } from "./errors.ts";

const ESCAPE = 0x00;

/** The tree key of a level key (`TypeError`-free: abstract-level hands over encoded bytes). */
export function toTreeKey(key: Uint8Array): Uint8Array {
  const escaped = key.length === 0 || key[0] === ESCAPE;
  if (key.length + (escaped ? 1 : 0) > MAX_KEY_BYTES) throw tooLong(key.length);
  return escaped ? escape(key) : key;
}

/** `0x00 ‖ key`. */
function escape(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out.set(key, 1);
  return out;
}

/** The level key of a tree key (a view of it, no copy). */
export function fromTreeKey(key: Uint8Array): Uint8Array {
  return key[0] === ESCAPE ? key.subarray(1) : key;
}

function tooLong(length: number): Error {
  return levelError(
    `a key of ${length} bytes is longer than a Talus key can be (${MAX_KEY_BYTES} bytes, ${MAX_KEY_BYTES - 1} when it starts with 0x00)`,
    "LEVEL_INVALID_KEY",
  );
}

/** A range of tree keys: each bound optional, inclusive or not, at most `MAX_KEY_BYTES` long. */
export interface TreeRange {
  readonly lower: Uint8Array | undefined;
  readonly lowerInclusive: boolean;
  readonly upper: Uint8Array | undefined;
  readonly upperInclusive: boolean;
}

/** The range options abstract-level hands to the private API, encoded. */
export interface LevelRangeOptions {
  readonly gt?: unknown;
  readonly gte?: unknown;
  readonly lt?: unknown;
  readonly lte?: unknown;
}

/**
 * The tree range of abstract-level range options (`gte` wins over `gt`, `lte` over `lt`, as
 * abstract-level documents), each bound clamped to a tree key by {@link treeBound}.
 */
export function treeRange(options: LevelRangeOptions): TreeRange {
  let lower = NO_BOUND;
  if (options.gte !== undefined) lower = treeBound(options.gte, "gte", true, false);
  else if (options.gt !== undefined) lower = treeBound(options.gt, "gt", false, false);
  let upper = NO_BOUND;
  if (options.lte !== undefined) upper = treeBound(options.lte, "lte", true, true);
  else if (options.lt !== undefined) upper = treeBound(options.lt, "lt", false, true);
  return { lower: lower.key, lowerInclusive: lower.inclusive, upper: upper.key, upperInclusive: upper.inclusive };
}

/** One side of a {@link TreeRange}. */
interface TreeBound {
  readonly key: Uint8Array | undefined;
  readonly inclusive: boolean;
}

const NO_BOUND: TreeBound = { key: undefined, inclusive: true };

/**
 * A lower (or, `upper`, upper) bound or seek target in tree space. Unlike a key it may be longer than a
 * tree key: then it is clamped to its first `MAX_KEY_BYTES` bytes `p` with the same meaning for keys of
 * at most that length, exclusive below (`k >= b` and `k > b` become `k > p`) and inclusive above (`k <= b`
 * and `k < b` become `k <= p`).
 */
function treeBound(bound: unknown, name: string, inclusive: boolean, upper: boolean): TreeBound & { readonly key: Uint8Array } {
  if (!(bound instanceof Uint8Array)) {
    throw new TypeError(`range option '${name}' must encode to a Uint8Array or Buffer, got ${bound === null ? "null" : typeof bound}`);
  }
  const key = bound.length !== 0 && bound[0] !== ESCAPE ? bound : escape(bound);
  return key.length > MAX_KEY_BYTES ? { key: key.subarray(0, MAX_KEY_BYTES), inclusive: upper } : { key, inclusive };
}

/** `range` narrowed to the keys at or after `target` (or at or before it, `reverse`): a seek. */
export function seekRange(range: TreeRange, target: Uint8Array, reverse: boolean): TreeRange {
  const { key: bound, inclusive } = treeBound(target, "target", true, reverse);
  if (!reverse) {
    if (range.lower !== undefined) {
      const c = compareBytes(bound, range.lower);
      if (c < 0 || (c === 0 && !range.lowerInclusive)) return range;
    }
    return { ...range, lower: bound, lowerInclusive: inclusive };
  }
  if (range.upper !== undefined) {
    const c = compareBytes(bound, range.upper);
    if (c > 0 || (c === 0 && !range.upperInclusive)) return range;
  }
  return { ...range, upper: bound, upperInclusive: inclusive };
}

/** Whether no key can lie in `range`. */
export function isEmptyRange(range: TreeRange): boolean {
  if (range.lower === undefined || range.upper === undefined) return false;
  const c = compareBytes(range.lower, range.upper);
  return c > 0 || (c === 0 && !(range.lowerInclusive && range.upperInclusive));
}

/** `Tree.range`'s options for `range`, in that order, at most `limit` entries (`Infinity`: all). */
export function rangeOptions(range: TreeRange, reverse: boolean, limit: number): RangeOptions {
  const options: { -readonly [K in keyof RangeOptions]: RangeOptions[K] } = { reverse, limit };
  if (range.lower !== undefined) {
    if (range.lowerInclusive) options.gte = range.lower;
    else options.gt = range.lower;
  }
  if (range.upper !== undefined) {
    if (range.upperInclusive) options.lte = range.upper;
    else options.lt = range.upper;
  }
  return options;
}

/** A half-open span `[start, end)` of tree keys (`end` undefined: to the end of the key space). */
export interface TreeSpan {
  readonly start: Uint8Array;
  readonly end: Uint8Array | undefined;
}

/**
 * `range` as a half-open span `[start, end)` for range tombstones, or undefined when a bound's
 * successor would be longer than a key (the caller then deletes key by key). The successor of `b`
 * among byte strings is `b ‖ 0x00`.
 */
export function treeSpan(range: TreeRange): TreeSpan | undefined {
  let start: Uint8Array;
  if (range.lower === undefined) start = SMALLEST_KEY;
  else if (range.lowerInclusive) start = range.lower;
  else if (range.lower.length < MAX_KEY_BYTES) start = successor(range.lower);
  else return undefined;
  let end: Uint8Array | undefined;
  if (range.upper === undefined) end = undefined;
  else if (!range.upperInclusive) end = range.upper;
  else if (range.upper.length < MAX_KEY_BYTES) end = successor(range.upper);
  else return undefined;
  return { start, end };
}

/** The smallest tree key: every tree key is at least this (it is the empty level key's). */
const SMALLEST_KEY = new Uint8Array([ESCAPE]);

function successor(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out.set(key, 0);
  return out;
}

/** Bytewise comparison (lsm-core's, the tree's order). */
export const compareBytes = BYTEWISE_COMPARATOR.compare;
