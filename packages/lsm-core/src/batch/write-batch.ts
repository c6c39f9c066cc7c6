/**
 * A write batch: writes collected first and applied together by `Tree.applyBatch(batch, seqno)`, all
 * at one seqno, so a read sees all of them or none (application is one synchronous step: no read,
 * rotation or flush can run in the middle of it).
 *
 * Rules, checked by `applyBatch` before anything is applied:
 * - one key may appear in several operations of the same kind; a later one is the newer (a second
 *   insert wins over the first; a later merge operand is newer than an earlier one);
 * - one key appearing in operations of different kinds is refused (`MIXED_OPERATION_BATCH`): at one
 *   seqno there would be no telling which came last;
 * - a range deletion in a batch deletes what was written before the batch, not the batch's own writes
 *   (they share its seqno, and a range tombstone at `T` deletes versions below `T`).
 *
 * Keys and values are checked (and copied) as they are added, so the caller may reuse its buffers.
 *
 * @module
 */
import { copyBytes } from "../key/copy.ts";
import { toKey, toValue, type Bytes } from "../key/validate.ts";
import { ValueKind } from "../key/value-kind.ts";

/** One operation of a batch: a point write, or a range deletion. */
export type BatchOperation =
  | {
      /** What the write is: a value, a (weak) tombstone or a merge operand. */
      readonly kind: ValueKind;
      /** The key written (a copy, owned by the batch). */
      readonly key: Uint8Array;
      /** The value or merge operand; empty for a deletion. */
      readonly value: Uint8Array;
    }
  | {
      /** Marks a range deletion. */
      readonly kind: "range";
      /** First key deleted (inclusive). */
      readonly start: Uint8Array;
      /** End of the deleted range (exclusive). */
      readonly end: Uint8Array;
    };

const EMPTY = new Uint8Array(0);

/**
 * Writes that become visible together.
 *
 * @example
 * ```ts
 * import { MemFs } from "@talus/fs";
 * import { SequenceNumberCounter, Tree, WriteBatch } from "@talus/lsm-core";
 *
 * const seqno = new SequenceNumberCounter();
 * const tree = await Tree.open({ path: "/db", fs: new MemFs(), seqno });
 * const batch = new WriteBatch()
 *   .insert("account:1", "90")
 *   .insert("account:2", "110")
 *   .removeRange("pending:", "pending;");
 * tree.applyBatch(batch, seqno.next()); // all three at one seqno, visible together
 * ```
 */
export class WriteBatch {
  readonly #ops: BatchOperation[] = [];

  /** Adds an insert of `value` under `key`. */
  insert(key: Bytes, value: Bytes): this {
    return this.#point(ValueKind.Value, key, copyBytes(toValue(value)));
  }

  /** Adds a deletion of `key`. */
  remove(key: Bytes): this {
    return this.#point(ValueKind.Tombstone, key, EMPTY);
  }

  /** Adds a weak deletion ("single delete") of `key`; see `Tree.removeWeak`. */
  removeWeak(key: Bytes): this {
    return this.#point(ValueKind.WeakTombstone, key, EMPTY);
  }

  /** Adds a merge operand for `key`. */
  merge(key: Bytes, operand: Bytes): this {
    return this.#point(ValueKind.MergeOperand, key, copyBytes(toValue(operand, "operand")));
  }

  /** Adds a deletion of every key `k` with `start <= k < end` (nothing when `start >= end`). */
  removeRange(start: Bytes, end: Bytes): this {
    const s = copyBytes(toKey(start, "start"));
    const e = copyBytes(toKey(end, "end"));
    this.#ops.push({ kind: "range", start: s, end: e });
    return this;
  }

  /** Operations added so far. */
  get len(): number {
    return this.#ops.length;
  }

  /** Whether nothing has been added (applying an empty batch writes nothing). */
  isEmpty(): boolean {
    return this.#ops.length === 0;
  }

  /** Removes every operation, so the batch can be filled again. */
  clear(): void {
    this.#ops.length = 0;
  }

  /** The operations in the order they were added. */
  operations(): readonly BatchOperation[] {
    return this.#ops;
  }

  #point(kind: ValueKind, key: Bytes, value: Uint8Array): this {
    this.#ops.push({ kind, key: copyBytes(toKey(key)), value });
    return this;
  }
}
