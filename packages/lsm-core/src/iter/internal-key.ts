/**
 * The internal-key order shared by every cursor: user key ascending by the comparator, then seqno
 * descending (newest version first).
 *
 * @module
 */
import type { Comparator } from "../key/comparator.ts";

/** Negative when `(aKey, aSeqno)` sorts before `(bKey, bSeqno)`. */
export function compareInternal(comparator: Comparator, aKey: Uint8Array, aSeqno: number, bKey: Uint8Array, bSeqno: number): number {
  const byKey = comparator.compare(aKey, bKey);
  if (byKey !== 0) return byKey;
  return aSeqno > bSeqno ? -1 : aSeqno < bSeqno ? 1 : 0;
}
