/**
 * Merge operators: read-modify-write without the read. `tree.merge(key, operand, seqno)` stores an
 * operand; reads (and, below the GC watermark, flush and compaction) combine the operands of a key with
 * the value under them through the tree's operator.
 *
 * @module
 */
import { fromModule } from "../executor/worker-export.ts";
import { LsmError } from "../errors.ts";
import { toValue, type Bytes } from "../key/validate.ts";

/**
 * How a key's merge operands combine with the value under them.
 *
 * `merge` is called with the key, the base value (`undefined` when the operands lie on a deletion or
 * on nothing) and the operands, OLDEST FIRST, and returns the merged value. It must be:
 * - deterministic: the same inputs give the same bytes, on every run and every machine;
 * - stable under re-merging: flush and compaction store partial results (the merge of some operands
 *   with no base) as a new operand, and later merge it again, as an operand or as a base. So
 *   `merge(k, b, [...a, merge(k, undefined, c), ...d])` must equal `merge(k, b, [...a, ...c, ...d])`, and
 *   `merge(k, merge(k, b, a), c)` must equal `merge(k, b, [...a, ...c])`.
 *
 * The key, base and operands it is given are views of the engine's memory, valid during the call: copy
 * any it keeps; returning one of them is fine.
 *
 * Its `name` is written into the tables that hold its results: a tree whose tables hold operands
 * written under one operator refuses to open with another (or none), with `MERGE_OPERATOR`. A throwing
 * operator fails the read or the compaction that called it, with `MERGE_OPERATOR` (the error as cause).
 *
 * @example
 * ```ts
 * import { MemFs } from "@talus/fs";
 * import { counterMerge, SequenceNumberCounter, Tree } from "@talus/lsm-core";
 *
 * const seqno = new SequenceNumberCounter();
 * const tree = await Tree.open({ path: "/db", fs: new MemFs(), seqno, mergeOperator: counterMerge });
 * const one = new Uint8Array(8);
 * new DataView(one.buffer).setBigInt64(0, 1n, true);
 * tree.merge("visits", one, seqno.next());
 * tree.merge("visits", one, seqno.next());
 * new DataView(tree.get("visits", seqno.get())!.buffer).getBigInt64(0, true); // 2n
 * ```
 */
export interface MergeOperator {
  /** Identifies the operator on disk (UTF-8, at most 256 bytes). */
  readonly name: string;
  /** Combines `operands` (oldest first) with `base` (`undefined`: no value under them) into the merged value. */
  merge(key: Uint8Array, base: Uint8Array | undefined, operands: readonly Uint8Array[]): Uint8Array;
}

/** Longest operator name tables store. */
export const MAX_MERGE_OPERATOR_NAME_BYTES = 256;

/** Checks an operator given as a tree option. */
export function checkMergeOperator(operator: unknown): MergeOperator | undefined {
  if (operator === undefined) return undefined;
  const op = operator as Partial<MergeOperator> | null;
  if (op === null || typeof op !== "object" || typeof op.merge !== "function" || typeof op.name !== "string") {
    throw new TypeError("mergeOperator must be an object with a name (string) and a merge(key, base, operands) function");
  }
  const bytes = new TextEncoder().encode(op.name).length;
  if (bytes === 0 || bytes > MAX_MERGE_OPERATOR_NAME_BYTES) throw new RangeError(`mergeOperator.name must be 1..${MAX_MERGE_OPERATOR_NAME_BYTES} bytes of UTF-8`);
  return op as MergeOperator;
}

/** Runs the operator; any failure (a throw, a result that is not bytes) becomes `MERGE_OPERATOR`. */
export function runMerge(operator: MergeOperator, key: Uint8Array, base: Uint8Array | undefined, operands: readonly Uint8Array[]): Uint8Array {
  let result: unknown;
  try {
    result = operator.merge(key, base, operands);
  } catch (error) {
    throw new LsmError("MERGE_OPERATOR", `merge operator "${operator.name}" failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (!(result instanceof Uint8Array)) throw new LsmError("MERGE_OPERATOR", `merge operator "${operator.name}" returned ${typeof result}, not a Uint8Array`);
  return result;
}

function le64(bytes: Uint8Array, what: string): bigint {
  if (bytes.length !== 8) throw new RangeError(`counterMerge: ${what} is ${bytes.length} bytes, not 8 (a little-endian 64-bit integer)`);
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigInt64(0, true);
}

/**
 * A 64-bit counter: values and operands are 8-byte little-endian signed integers, and the result is the
 * base (0 without one) plus every operand, wrapping at 64 bits. Any other length fails the merge.
 *
 * @example
 * ```ts
 * const inc = new Uint8Array(8);
 * new DataView(inc.buffer).setBigInt64(0, 5n, true);
 * tree.merge("count", inc, seqno.next());
 * ```
 */
export const counterMerge: MergeOperator = fromModule({
  name: "counter-le64",
  merge(_key, base, operands) {
    let sum = base === undefined ? 0n : le64(base, "the base value");
    for (const operand of operands) sum += le64(operand, "an operand");
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigInt64(0, BigInt.asIntN(64, sum), true);
    return out;
  },
}, import.meta.url, "counterMerge");

/**
 * Concatenation: the base (if any) and then every operand, oldest first, with `separator` between two
 * items (not at either end). The separator is part of the name, so a tree reopened with another
 * separator is refused.
 *
 * @example
 * ```ts
 * const tree = await Tree.open({ path: "/db", fs, seqno, mergeOperator: appendMerge({ separator: "," }) });
 * tree.insert("tags", "a", seqno.next());
 * tree.merge("tags", "b", seqno.next());
 * tree.get("tags", seqno.get()); // "a,b"
 * ```
 */
export function appendMerge(options: { separator?: Bytes } = {}): MergeOperator {
  const separator = options.separator === undefined ? new Uint8Array(0) : new Uint8Array(toValue(options.separator, "separator"));
  const name = separator.length === 0 ? "append" : `append:${Buffer.from(separator).toString("hex")}`;
  return fromModule({
    name,
    merge(_key, base, operands) {
      const items = base === undefined ? operands : [base, ...operands];
      let length = separator.length * Math.max(0, items.length - 1);
      for (const item of items) length += item.length;
      const out = new Uint8Array(length);
      let at = 0;
      items.forEach((item, i) => {
        if (i > 0) {
          out.set(separator, at);
          at += separator.length;
        }
        out.set(item, at);
        at += item.length;
      });
      return out;
    },
  }, import.meta.url, "appendMerge", [{ separator }]);
}
