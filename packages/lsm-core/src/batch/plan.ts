/**
 * What applying a write batch inserts, worked out (and checked) before anything is inserted.
 *
 * @module
 */
import { LsmError } from "../errors.ts";
import type { Comparator } from "../key/comparator.ts";
import { ValueKind } from "../key/value-kind.ts";
import type { BatchOperation, WriteBatch } from "./write-batch.ts";

type PointOperation = Extract<BatchOperation, { readonly key: Uint8Array }>;
type RangeOperation = Extract<BatchOperation, { readonly kind: "range" }>;

export interface BatchPlan {
  /** In memtable insertion order. */
  readonly points: readonly PointOperation[];
  /** Non-empty ranges only. */
  readonly ranges: readonly RangeOperation[];
}

/**
 * The inserts of `batch`: for a key written several times with one kind, only the last write
 * (equal seqnos would leave the order to the memtable); merge operands all, the last one first
 * (the memtable puts an entry after the ones it repeats, and the entry found first counts as the
 * newest). Throws `MIXED_OPERATION_BATCH` when a key has two kinds.
 */
export function planBatch(batch: WriteBatch, comparator: Comparator): BatchPlan {
  const kinds = new Map<string, ValueKind>();
  const lastIndex = new Map<string, number>();
  const ops = batch.operations();
  const ranges: RangeOperation[] = [];
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as BatchOperation;
    if (op.kind === "range") {
      if (comparator.compare(op.start, op.end) < 0) ranges.push(op);
      continue;
    }
    const id = Buffer.from(op.key.buffer, op.key.byteOffset, op.key.length).toString("latin1");
    const seen = kinds.get(id);
    if (seen !== undefined && seen !== op.kind) {
      throw new LsmError("MIXED_OPERATION_BATCH", `the batch writes key ${describeKey(op.key)} with two kinds of operation (${kindName(seen)} and ${kindName(op.kind)})`);
    }
    kinds.set(id, op.kind);
    lastIndex.set(id, i);
  }
  const points: PointOperation[] = [];
  for (let i = ops.length - 1; i >= 0; i--) {
    const op = ops[i] as BatchOperation;
    if (op.kind === "range") continue;
    if (op.kind === ValueKind.MergeOperand || lastIndex.get(Buffer.from(op.key.buffer, op.key.byteOffset, op.key.length).toString("latin1")) === i) points.push(op);
  }
  return { points, ranges };
}

function kindName(kind: ValueKind): string {
  return ["insert", "remove", "removeWeak", "merge", "indirection"][kind] ?? String(kind);
}

function describeKey(key: Uint8Array): string {
  const shown = Buffer.from(key.subarray(0, 32)).toString("hex");
  return `0x${shown}${key.length > 32 ? "..." : ""} (${key.length} bytes)`;
}
