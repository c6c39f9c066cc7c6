/**
 * The order of user keys. The default is bytewise (memcmp) order; a custom comparator must be a strict
 * total order in which "equal" means byte-equal (filters hash raw bytes). Its `name` is written into
 * the version file and checked on reopen (`COMPARATOR_MISMATCH`), because a tree read in another
 * order than it was written in returns wrong answers silently.
 *
 * @module
 */
import { compareBytewise } from "./bytewise.ts";

/**
 * A user-key order.
 *
 * @example
 * ```ts
 * import type { Comparator } from "@talus/lsm-core";
 * const reverse: Comparator = {
 *   name: "reverse-bytewise",
 *   compare: (a, b) => Buffer.compare(b, a),
 * };
 * ```
 */
export interface Comparator {
  /** Persisted with the tree; at most 256 bytes of UTF-8. */
  readonly name: string;
  /** Negative, zero or positive as `a` sorts before, with, or after `b`. */
  compare(a: Uint8Array, b: Uint8Array): number;
}

/** Longest comparator name the version file stores. */
export const MAX_COMPARATOR_NAME_BYTES = 256;

/** memcmp order (see ./bytewise.ts for why it is a byte loop and not `Buffer.compare`). */
export const BYTEWISE_COMPARATOR: Comparator = {
  name: "bytewise",
  compare: compareBytewise,
};

/** Whether `comparator` is the built-in bytewise order, so hot paths may use the allocation-free byte compare. */
export function isBytewise(comparator: Comparator): boolean {
  return comparator === BYTEWISE_COMPARATOR;
}
