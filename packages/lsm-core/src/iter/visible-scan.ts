/**
 * The zero-copy form of {@link VisibleRangeIterator}: the same entries in the same order, handed to a
 * callback as views instead of yielded as copies.
 *
 * A copying iterator must copy each key and value before it returns them, because the cursor moves on
 * before the caller looks. Here the callback runs while the cursor still stands on the entry, so a
 * forward scan passes the cursor's own value view (memtable arena, or the data block the table cursor
 * holds, which the block cache does not recycle while a cursor is on it). The key is copied into one
 * buffer reused for the whole scan: the scan compares later versions against it after the cursor moved,
 * and a table cursor rebuilds its key in place. A reverse scan learns which version of a key is the
 * newest only after stepping past the key, so it copies that value into a reused buffer too. Merged
 * values (a merge operand's result, a blob tree's resolved value) are fresh buffers either way.
 *
 * @module
 */
import type { Comparator } from "../key/comparator.ts";
import { isTombstone, ValueKind } from "../key/value-kind.ts";
import type { MergeOperator } from "../merge/merge-operator.ts";
import type { ScanCover } from "../range-tombstone/scan-cover.ts";
import { aboveLower, belowUpper, type KeyRange } from "./bounds.ts";
import type { EntryCursor } from "./cursor.ts";
import { mergeBackward, mergeForward, skipForward, toNewestVisible, type ValueResolver, type VisibleRangeIterator } from "./visible-range.ts";

/**
 * Called once per visible entry. `key` and `value` are views of engine memory, valid only until it
 * returns; returning `false` ends the scan.
 */
export type ScanVisitor = (key: Uint8Array, value: Uint8Array) => boolean | void;

/** What a scan reads: the same as a {@link VisibleRangeIterator}'s options, minus ownership and prefetch. */
export interface VisibleScan {
  readonly comparator: Comparator;
  /** Positioned by the scan; closing it is the caller's. */
  readonly cursor: EntryCursor;
  readonly readSeqno: number;
  readonly range: KeyRange;
  readonly resolver: ValueResolver;
  readonly keyFilter?: ((key: Uint8Array) => boolean) | undefined;
  readonly cover?: ScanCover | undefined;
  readonly skipCovered?: ((seqno: number, to: Uint8Array) => void) | undefined;
  readonly mergeOperator?: MergeOperator | undefined;
}

/** Calls `visit` with each visible entry of `scan.range`, in its direction, up to its limit. Returns the entries visited. */
export function scanVisible(scan: VisibleScan, visit: ScanVisitor): number {
  if (scan.range.limit === 0) return 0;
  return scan.range.reverse ? backward(scan, visit) : forward(scan, visit);
}

/**
 * A buffer that bytes are copied into, again and again, without allocating: it grows to the largest
 * copy, and the view over it is remade only when the length changes.
 */
class ReusedBytes {
  #buffer = new Uint8Array(64);
  #view = this.#buffer.subarray(0, 0);

  /** `bytes` copied into the buffer: a view valid until the next call. */
  copy(bytes: Uint8Array): Uint8Array {
    const length = bytes.length;
    if (length > this.#buffer.length) {
      this.#buffer = new Uint8Array(Math.max(length, this.#buffer.length * 2));
      this.#view = this.#buffer.subarray(0, length);
    } else if (length !== this.#view.length) {
      this.#view = this.#buffer.subarray(0, length);
    }
    this.#view.set(bytes);
    return this.#view;
  }
}

/** The forward loop of `VisibleRangeIterator` (see its `#forward`), visiting before the cursor leaves an entry. */
function forward(scan: VisibleScan, visit: ScanVisitor): number {
  const { comparator: cmp, cursor: c, range, readSeqno, resolver, keyFilter, cover, skipCovered, mergeOperator } = scan;
  const limit = range.limit;
  const held = new ReusedBytes();
  if (range.lower === undefined) c.seekToFirst();
  else c.seek(range.lower);
  // The seek landed at or after the lower bound, so only keys before the first one above it (an
  // exclusive bound's own key) need the check.
  let pastLower = range.lower === undefined;
  let visited = 0;
  while (c.valid()) {
    const key = held.copy(c.key());
    if (range.upper !== undefined && !belowUpper(cmp, range, key)) break;
    if (!pastLower) {
      if (!aboveLower(cmp, range, key)) {
        skipForward(cmp, c, key);
        continue;
      }
      pastLower = true;
    }
    if (keyFilter !== undefined && !keyFilter(key)) {
      skipForward(cmp, c, key);
      continue;
    }
    if (!toNewestVisible(cmp, c, key, readSeqno)) continue;
    const kind = c.kind();
    const covered = cover === undefined ? -1 : cover.forward(key);
    let value: Uint8Array | undefined;
    // Whether `c` is still on a version of `key` (collecting merge operands may have moved it on).
    let onKey = true;
    if (!isTombstone(kind) && c.seqno() >= covered) {
      if (kind === ValueKind.MergeOperand && mergeOperator !== undefined) {
        value = mergeForward(mergeOperator, cmp, c, key, covered, resolver);
        onKey = c.valid() && cmp.compare(c.key(), key) === 0;
      } else {
        value = resolver.resolve(key, kind, c.value());
      }
    }
    if (value !== undefined) {
      visited++;
      // Before the cursor moves: the value may be a view of the entry it stands on.
      if (visit(key, value) === false || visited >= limit) return visited;
    }
    if (onKey) skipForward(cmp, c, key);
    // A deleted stretch: sources holding nothing newer than the tombstone jump past it.
    if (value === undefined && covered >= 0 && skipCovered !== undefined && cover !== undefined) {
      const end = cover.coverEnd();
      if (end.length > 0) skipCovered(covered, end);
    }
  }
  return visited;
}

/** The backward loop of `VisibleRangeIterator` (see its `#backward`). */
function backward(scan: VisibleScan, visit: ScanVisitor): number {
  const { comparator: cmp, cursor: c, range, readSeqno, resolver, keyFilter, cover, mergeOperator } = scan;
  const limit = range.limit;
  const heldKey = new ReusedBytes();
  const heldValue = new ReusedBytes();
  if (range.upper === undefined) c.seekToLast();
  else c.seekForPrev(range.upper);
  let visited = 0;
  while (c.valid()) {
    const key = heldKey.copy(c.key());
    if (!aboveLower(cmp, range, key)) break;
    const inRange = belowUpper(cmp, range, key) && (keyFilter === undefined || keyFilter(key));
    let value: Uint8Array | undefined;
    if (mergeOperator !== undefined) {
      const covered = inRange && cover !== undefined ? cover.backward(key) : -1;
      // A key outside the range is only stepped over: at read seqno 0 none of its versions is visible.
      value = mergeBackward(mergeOperator, cmp, c, key, inRange ? readSeqno : 0, covered, resolver);
    } else {
      // Versions arrive oldest first; the last visible one is the newest. The cursor leaves the key
      // before that is known, so each candidate value is copied while its view is still valid.
      let newestKind = -1;
      let newestSeqno = -1;
      let newestValue: Uint8Array | undefined;
      while (c.valid() && cmp.compare(c.key(), key) === 0) {
        if (inRange && c.seqno() < readSeqno) {
          newestKind = c.kind();
          newestSeqno = c.seqno();
          newestValue = isTombstone(newestKind) ? undefined : heldValue.copy(c.value());
        }
        c.prev();
      }
      if (newestValue !== undefined && cover !== undefined && newestSeqno < cover.backward(key)) newestValue = undefined;
      if (newestValue !== undefined) value = resolver.resolve(key, newestKind as ValueKind, newestValue);
    }
    if (value !== undefined) {
      visited++;
      if (visit(key, value) === false || visited >= limit) return visited;
    }
  }
  return visited;
}
