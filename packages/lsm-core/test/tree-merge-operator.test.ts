// Merge operators: ports of the reference's tests (tests/merge_operator.rs, merge_point_read_coverage.rs,
// rt_merge_compaction.rs, the merge cases of write_batch.rs, multi_get.rs, partitioned_bloom_skip.rs,
// custom_comparator.rs and custom_comparator_compaction.rs) in Talus's terms, then Talus's own contract:
// the shipped operators, every read method both ways with bounds and limits over operands spread across
// memtables and levels, range tombstones as a boundary, collapse by flush and compaction below the GC
// watermark, failing operators, and the operator name recorded in tables.
//
// Upstream writes at literal seqnos; these ports take them from the tree's counter (flushes and
// compactions take one too), keeping every expected value. Upstream's blob-tree variants (kv separation)
// are left out: Talus has no blob tree yet.
import { describe, expect, it } from "vitest";
import { MemFs } from "@talus/fs";
import {
  appendMerge,
  counterMerge,
  Leveled,
  LsmError,
  SEQNO_MAX,
  SequenceNumberCounter,
  SizeTiered,
  Tree,
  WriteBatch,
  type Comparator,
  type MergeOperator,
  type TreeOptions,
} from "../src/index.ts";
import { REVERSE_COMPARATOR } from "./helpers.ts";
import { tableFiles } from "./tree-support.ts";
import {
  big,
  checkAllReads,
  checkPointAndScans,
  counting,
  expectMergeThrow,
  isMergeError,
  le64,
  num,
  OperatorBoom,
  pullDown,
  snapshotOf,
  str,
  te,
  WriteLog,
} from "./tree-merge-support.ts";

type Extra = Omit<TreeOptions, "path" | "fs" | "seqno">;

interface Opened {
  tree: Tree;
  fs: MemFs;
  seqno: SequenceNumberCounter;
  /** The next write seqno. */
  s: () => number;
  /** Closes and opens the tree again on the same filesystem and counter. */
  reopen: (extra?: Extra) => Promise<Tree>;
}

async function open(extra: Extra = { mergeOperator: counterMerge }, fs = new MemFs(), seqno = new SequenceNumberCounter()): Promise<Opened> {
  const opened: Opened = {
    tree: await Tree.open({ path: "/db", fs, seqno, ...extra }),
    fs,
    seqno,
    s: () => seqno.next(),
    reopen: async (next = extra) => {
      await opened.tree.close();
      opened.tree = await Tree.open({ path: "/db", fs, seqno, ...next });
      return opened.tree;
    },
  };
  return opened;
}

const counter = (tree: Tree, key: string | Uint8Array, readSeqno: number): number | undefined => num(tree.get(key, readSeqno));

/** The reference's ConcatMerge: base (or nothing) followed by the operands. */
const concat = appendMerge();

const U64_COMPARATOR: Comparator = {
  name: "u64-big-endian",
  compare: (a, b) => {
    const x = new DataView(a.buffer, a.byteOffset, a.byteLength).getBigUint64(0);
    const y = new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(0);
    return x < y ? -1 : x > y ? 1 : 0;
  },
};
const be64 = (n: number): Uint8Array => {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
};
const readBe64 = (b: Uint8Array): number => Number(new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0));

// ================================================================================================
// The shipped operators
// ================================================================================================

describe("counterMerge", () => {
  const k = te.encode("k");

  it("is named counter-le64 and adds the operands to the base, or to 0", () => {
    expect(counterMerge.name).toBe("counter-le64");
    expect(big(counterMerge.merge(k, undefined, [le64(1), le64(2), le64(3)]))).toBe(6n);
    expect(big(counterMerge.merge(k, le64(100), [le64(5), le64(10)]))).toBe(115n);
    expect(big(counterMerge.merge(k, le64(-7), [le64(2)]))).toBe(-5n);
    expect(big(counterMerge.merge(k, le64(42), []))).toBe(42n);
    expect(big(counterMerge.merge(k, undefined, []))).toBe(0n);
    expect(counterMerge.merge(k, undefined, [le64(1)])).toHaveLength(8);
  });

  it("wraps at 64 bits, both ways", () => {
    const max = (1n << 63n) - 1n;
    const min = -(1n << 63n);
    expect(big(counterMerge.merge(k, le64(max), [le64(1)]))).toBe(min);
    expect(big(counterMerge.merge(k, le64(min), [le64(-1)]))).toBe(max);
    expect(big(counterMerge.merge(k, undefined, [le64(max), le64(max), le64(2)]))).toBe(0n);
    // The bytes of -1 read as an unsigned 2^64 - 1: adding 1 wraps to 0.
    expect(big(counterMerge.merge(k, new Uint8Array(8).fill(0xff), [le64(1)]))).toBe(0n);
  });

  it("throws on a base or an operand that is not 8 bytes", () => {
    for (const bad of [new Uint8Array(0), new Uint8Array(7), new Uint8Array(9), te.encode("hello")]) {
      expect(() => counterMerge.merge(k, bad, [le64(1)])).toThrow();
      expect(() => counterMerge.merge(k, undefined, [bad])).toThrow();
      expect(() => counterMerge.merge(k, le64(1), [le64(1), bad, le64(1)])).toThrow();
    }
  });

  it("reads operands that are views into larger buffers, and changes none of its inputs", () => {
    const backing = new Uint8Array(24);
    backing.set(le64(5), 3);
    backing.set(le64(9), 13);
    const a = backing.subarray(3, 11);
    const b = backing.subarray(13, 21);
    const base = le64(100);
    const before = [...backing];
    expect(big(counterMerge.merge(k, base, [a, b]))).toBe(114n);
    expect([...backing]).toEqual(before);
    expect(big(base)).toBe(100n);
    const out = counterMerge.merge(k, base, []);
    out.fill(0);
    expect(big(base)).toBe(100n);
  });

  it("is stable under re-merging (a partial result merged again equals one merge)", () => {
    const ops = [7n, -3n, 1n << 62n, 1n << 62n, 5n, -(1n << 63n)].map((n) => le64(n));
    for (let cut = 0; cut <= ops.length; cut++) {
      const partial = counterMerge.merge(k, undefined, ops.slice(0, cut));
      expect(big(counterMerge.merge(k, le64(11), [partial, ...ops.slice(cut)]))).toBe(big(counterMerge.merge(k, le64(11), ops)));
      expect(big(counterMerge.merge(k, counterMerge.merge(k, le64(11), ops.slice(0, cut)), ops.slice(cut)))).toBe(big(counterMerge.merge(k, le64(11), ops)));
    }
  });
});

describe("appendMerge", () => {
  const k = te.encode("k");
  const m = (op: MergeOperator, base: string | undefined, operands: string[]): string =>
    str(op.merge(k, base === undefined ? undefined : te.encode(base), operands.map((o) => te.encode(o)))) as string;

  it("concatenates the base and the operands in order, with no separator by default", () => {
    const op = appendMerge();
    expect(m(op, "A", ["B", "C"])).toBe("ABC");
    expect(m(op, undefined, ["B", "C"])).toBe("BC");
    expect(m(op, "A", [])).toBe("A");
    expect(m(op, undefined, [])).toBe("");
    expect(m(op, "", ["", "x", ""])).toBe("x");
  });

  it("puts the separator between items, never at the ends", () => {
    const op = appendMerge({ separator: "," });
    expect(m(op, "v0", ["v1", "v2"])).toBe("v0,v1,v2");
    expect(m(op, undefined, ["v1", "v2"])).toBe("v1,v2");
    expect(m(op, undefined, ["v1"])).toBe("v1");
    expect(m(op, "v0", [])).toBe("v0");
    expect(m(op, undefined, [])).toBe("");
    // Empty items still get their separators.
    expect(m(op, "", ["", ""])).toBe(",,");
    expect(m(appendMerge({ separator: "::" }), "a", ["b", "c"])).toBe("a::b::c");
    expect(m(appendMerge({ separator: new Uint8Array([0]) }), "a", ["b"])).toBe("a\u0000b");
  });

  it("copies the separator when made, and changes none of its inputs", () => {
    const sep = te.encode(";");
    const op = appendMerge({ separator: sep });
    sep[0] = 0x2c;
    expect(m(op, "a", ["b"])).toBe("a;b");
    const base = te.encode("base");
    const operand = te.encode("op");
    op.merge(k, base, [operand]).fill(0);
    expect(str(base)).toBe("base");
    expect(str(operand)).toBe("op");
  });

  it("names itself by its separator", () => {
    expect(appendMerge().name).toBe(appendMerge().name);
    expect(appendMerge({ separator: "," }).name).toBe(appendMerge({ separator: te.encode(",") }).name);
    expect(appendMerge({ separator: "," }).name).not.toBe(appendMerge().name);
    expect(appendMerge({ separator: "," }).name).not.toBe(appendMerge({ separator: ";" }).name);
  });

  it("is stable under re-merging", () => {
    const op = appendMerge({ separator: "," });
    const ops = ["a", "bb", "", "c"];
    for (let cut = 1; cut <= ops.length; cut++) {
      const partial = m(op, undefined, ops.slice(0, cut));
      expect(m(op, "base", [partial, ...ops.slice(cut)])).toBe(m(op, "base", ops));
      expect(m(op, m(op, "base", ops.slice(0, cut)), ops.slice(cut))).toBe(m(op, "base", ops));
    }
  });
});

describe("the mergeOperator option", () => {
  it("refuses what is not an operator", async () => {
    const fs = new MemFs();
    for (const bad of [null, 5, "counter", {}, { name: "x" }, { merge: () => new Uint8Array(0) }, { name: 3, merge: () => new Uint8Array(0) }]) {
      await expect(Tree.open({ path: "/db", fs, mergeOperator: bad as unknown as MergeOperator })).rejects.toBeInstanceOf(TypeError);
    }
    await expect(Tree.open({ path: "/db", fs, mergeOperator: { name: "", merge: () => new Uint8Array(0) } })).rejects.toBeInstanceOf(RangeError);
    await expect(Tree.open({ path: "/db", fs, mergeOperator: { name: "x".repeat(257), merge: () => new Uint8Array(0) } })).rejects.toBeInstanceOf(RangeError);
    // A refused open leaves the directory openable.
    const tree = await Tree.open({ path: "/db", fs, mergeOperator: { name: "x".repeat(256), merge: () => new Uint8Array(0) } });
    await tree.close();
  });
});

// ================================================================================================
// Ports: tests/merge_operator.rs
// ================================================================================================

describe("merge_operator.rs", () => {
  it("merge_counter_increment: three operands, no base: 6", async () => {
    const { tree, s, seqno } = await open();
    tree.merge("counter", le64(1), s());
    tree.merge("counter", le64(2), s());
    tree.merge("counter", le64(3), s());
    expect(counter(tree, "counter", seqno.get())).toBe(6);
  });

  it("merge_with_base_value: 100 + 5 + 10 = 115", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("counter", le64(100), s());
    tree.merge("counter", le64(5), s());
    tree.merge("counter", le64(10), s());
    expect(counter(tree, "counter", seqno.get())).toBe(115);
  });

  it("merge_after_tombstone: a deletion ends the operands, base none: 7", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("counter", le64(50), s());
    tree.remove("counter", s());
    tree.merge("counter", le64(7), s());
    expect(counter(tree, "counter", seqno.get())).toBe(7);
  });

  it("merge_mvcc_snapshot: 100 / 110 / 130 / 160 at successive snapshots", async () => {
    const { tree, s } = await open();
    tree.insert("counter", le64(100), s());
    const s1 = s();
    tree.merge("counter", le64(10), s1);
    const s2 = s();
    tree.merge("counter", le64(20), s2);
    const s3 = s();
    tree.merge("counter", le64(30), s3);
    expect(counter(tree, "counter", s1)).toBe(100);
    expect(counter(tree, "counter", s2)).toBe(110);
    expect(counter(tree, "counter", s3)).toBe(130);
    expect(counter(tree, "counter", s3 + 1)).toBe(160);
  });

  it("merge_no_operator_returns_raw: without an operator a read returns the operand's bytes", async () => {
    const { tree, s, seqno } = await open({});
    tree.merge("key", le64(42), s());
    expect([...(tree.get("key", seqno.get()) as Uint8Array)]).toEqual([...le64(42)]);
  });

  it("merge_mixed_keys: plain values and counters side by side", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("regular", "hello", s());
    tree.merge("counter", le64(5), s());
    tree.merge("counter", le64(3), s());
    expect(str(tree.get("regular", seqno.get()))).toBe("hello");
    expect(counter(tree, "counter", seqno.get())).toBe(8);
  });

  it("merge_flush_and_compaction: 130 after a flush", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("counter", le64(100), s());
    tree.merge("counter", le64(10), s());
    tree.merge("counter", le64(20), s());
    await tree.flushActiveMemtable(seqno.get());
    expect(counter(tree, "counter", seqno.get())).toBe(130);
  });

  it("merge_across_memtable_and_tables: 160", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("counter", le64(100), s());
    tree.merge("counter", le64(10), s());
    await tree.flushActiveMemtable(seqno.get());
    tree.merge("counter", le64(20), s());
    tree.merge("counter", le64(30), s());
    expect(counter(tree, "counter", seqno.get())).toBe(160);
  });

  it("merge_range_scan and merge_reverse_range_scan: a=10, b=1+2, c=30 both ways", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("a", le64(10), s());
    tree.merge("b", le64(1), s());
    tree.merge("b", le64(2), s());
    tree.insert("c", le64(30), s());
    const items = (reverse: boolean) => [...tree.iter(seqno.get(), { reverse })].map(([k, v]) => [str(k), num(v)]);
    expect(items(false)).toEqual([
      ["a", 10],
      ["b", 3],
      ["c", 30],
    ]);
    expect(items(true)).toEqual([
      ["c", 30],
      ["b", 3],
      ["a", 10],
    ]);
  });

  it("merge_multiple_operands_only: 0+1+2+3+4 = 10", async () => {
    const { tree, s, seqno } = await open();
    for (let i = 0; i < 5; i++) tree.merge("sum", le64(i), s());
    expect(counter(tree, "sum", seqno.get())).toBe(10);
  });

  it("merge_key_not_found: another key reads nothing", async () => {
    const { tree, s, seqno } = await open();
    tree.merge("a", le64(1), s());
    expect(tree.get("b", seqno.get())).toBeUndefined();
  });

  it("merge_after_weak_tombstone: a weak tombstone ends the operands too: 7", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("counter", le64(50), s());
    tree.removeWeak("counter", s());
    tree.merge("counter", le64(7), s());
    expect(counter(tree, "counter", seqno.get())).toBe(7);
  });

  it("merge_error_propagation: a failing operator fails the read with MERGE_OPERATOR", async () => {
    const boom = new OperatorBoom();
    const { tree, s, seqno } = await open({
      mergeOperator: {
        name: "failing",
        merge: () => {
          throw boom;
        },
      },
    });
    tree.merge("key", "op1", s());
    expectMergeThrow(() => tree.get("key", seqno.get()), boom);
  });

  it("merge_multi_get: 10, 3, 30, none", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("a", le64(10), s());
    tree.merge("b", le64(1), s());
    tree.merge("b", le64(2), s());
    tree.insert("c", le64(30), s());
    expect(tree.multiGet(["a", "b", "c", "missing"], seqno.get()).map(num)).toEqual([10, 3, 30, undefined]);
  });

  it("merge_prefix_scan: user:1:score = 30, user:2:score = 5", async () => {
    const { tree, s, seqno } = await open();
    tree.merge("user:1:score", le64(10), s());
    tree.merge("user:1:score", le64(20), s());
    tree.merge("user:2:score", le64(5), s());
    tree.insert("other", le64(99), s());
    expect([...tree.prefix("user:", seqno.get())].map(([k, v]) => [str(k), num(v)])).toEqual([
      ["user:1:score", 30],
      ["user:2:score", 5],
    ]);
  });

  it("merge_contains_key: a key with operands only exists", async () => {
    const { tree, s, seqno } = await open();
    tree.merge("exists", le64(1), s());
    expect(tree.containsKey("exists", seqno.get())).toBe(true);
    expect(tree.containsKey("missing", seqno.get())).toBe(false);
  });

  it("merge_major_compaction: 130 before and after, one table", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("counter", le64(100), s());
    await tree.flushActiveMemtable(0);
    tree.merge("counter", le64(10), s());
    await tree.flushActiveMemtable(0);
    tree.merge("counter", le64(20), s());
    await tree.flushActiveMemtable(0);
    expect(tree.tableCount()).toBe(3);
    expect(counter(tree, "counter", seqno.get())).toBe(130);
    await tree.majorCompact(64_000_000, seqno.get());
    expect(counter(tree, "counter", seqno.get())).toBe(130);
    expect(tree.tableCount()).toBe(1);
    expect(tree.approximateLen()).toBe(1);
  });

  it("merge_overwrite_then_merge: the newest base counts: 25", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("key", le64(10), s());
    tree.insert("key", le64(20), s());
    tree.merge("key", le64(5), s());
    expect(counter(tree, "key", seqno.get())).toBe(25);
  });

  it("merge_sealed_memtable_resolution: base in a table, operand in the memtable: 110", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("key", le64(100), s());
    await tree.flushActiveMemtable(0);
    tree.merge("key", le64(10), s());
    expect(counter(tree, "key", seqno.get())).toBe(110);
    tree.rotateMemtable();
    expect(counter(tree, "key", seqno.get())).toBe(110);
  });

  it("merge_empty_operands_after_base: a plain value reads as itself", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("key", le64(42), s());
    expect(counter(tree, "key", seqno.get())).toBe(42);
  });

  it("merge_size_of: the merged value's length", async () => {
    const { tree, s, seqno } = await open();
    tree.merge("key", le64(1), s());
    expect(tree.sizeOf("key", seqno.get())).toBe(8);
    const a = await open({ mergeOperator: appendMerge({ separator: "--" }) });
    a.tree.insert("key", "abc", a.s());
    a.tree.merge("key", "de", a.s());
    a.tree.merge("key", "f", a.s());
    expect(a.tree.sizeOf("key", a.seqno.get())).toBe("abc--de--f".length);
  });

  it("merge_is_empty_and_len: operand-only keys count", async () => {
    const { tree, s, seqno } = await open();
    expect(tree.isEmpty(0)).toBe(true);
    tree.merge("a", le64(1), s());
    tree.merge("b", le64(2), s());
    expect(tree.isEmpty(seqno.get())).toBe(false);
    expect(tree.len(seqno.get())).toBe(2);
  });

  it("merge_first_last_key_value: a and e, with their values", async () => {
    const { tree, s, seqno } = await open();
    tree.merge("b", le64(1), s());
    tree.merge("d", le64(2), s());
    tree.insert("a", le64(10), s());
    tree.insert("e", le64(20), s());
    const first = tree.firstKeyValue(seqno.get());
    const last = tree.lastKeyValue(seqno.get());
    expect([str(first?.[0]), num(first?.[1])]).toEqual(["a", 10]);
    expect([str(last?.[0]), num(last?.[1])]).toEqual(["e", 20]);
    // And when the ends are operand-only keys.
    tree.remove("a", s());
    tree.remove("e", s());
    expect([str(tree.firstKeyValue(seqno.get())?.[0]), num(tree.firstKeyValue(seqno.get())?.[1])]).toEqual(["b", 1]);
    expect([str(tree.lastKeyValue(seqno.get())?.[0]), num(tree.lastKeyValue(seqno.get())?.[1])]).toEqual(["d", 2]);
  });

  it("merge_multiple_operands_in_single_table: base and three operands in one table: 160", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("counter", le64(100), s());
    tree.merge("counter", le64(10), s());
    tree.merge("counter", le64(20), s());
    tree.merge("counter", le64(30), s());
    await tree.flushActiveMemtable(0);
    expect(tree.approximateLen()).toBe(4);
    expect(counter(tree, "counter", seqno.get())).toBe(160);
  });

  it("merge_operand_above_watermark_preserves_tail: a flush at W between operands keeps 130", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("counter", le64(100), s());
    tree.merge("counter", le64(10), s());
    const w = seqno.get();
    tree.merge("counter", le64(20), s());
    await tree.flushActiveMemtable(w);
    expect(counter(tree, "counter", seqno.get())).toBe(130);
    // The base and the operand below W became one value; the operand above W stayed.
    expect(tree.approximateLen()).toBe(2);
    expect(counter(tree, "counter", w)).toBe(110);
  });

  it("merge_persists_after_reopen: 115, then 135 with another operand", async () => {
    const o = await open();
    o.tree.insert("counter", le64(100), o.s());
    o.tree.merge("counter", le64(5), o.s());
    o.tree.merge("counter", le64(10), o.s());
    await o.tree.flushActiveMemtable(0);
    const tree = await o.reopen();
    expect(counter(tree, "counter", o.seqno.get())).toBe(115);
    tree.merge("counter", le64(20), o.s());
    expect(counter(tree, "counter", o.seqno.get())).toBe(135);
  });

  it("merge_major_compaction_resolves_all: 18 after compaction, then 20", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("counter", le64(10), s());
    tree.merge("counter", le64(5), s());
    tree.merge("counter", le64(3), s());
    await tree.flushActiveMemtable(0);
    expect(counter(tree, "counter", seqno.get())).toBe(18);
    await tree.majorCompact(64_000_000, seqno.get());
    expect(counter(tree, "counter", seqno.get())).toBe(18);
    expect(tree.approximateLen()).toBe(1);
    tree.merge("counter", le64(2), s());
    expect(counter(tree, "counter", seqno.get())).toBe(20);
  });

  it("merge_rt_kills_base_preserves_operand: 7", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("counter", le64(100), s());
    tree.removeRange("counter", "counter\u0000", s());
    tree.merge("counter", le64(7), s());
    expect(counter(tree, "counter", seqno.get())).toBe(7);
  });

  it("merge_rt_kills_all: a newer range tombstone deletes base and operands", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("counter", le64(100), s());
    tree.merge("counter", le64(5), s());
    tree.removeRange("counter", "counter\u0000", s());
    expect(tree.get("counter", seqno.get())).toBeUndefined();
  });

  it("merge_rt_in_range_scan: a=10, b=7", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("a", le64(10), s());
    tree.insert("b", le64(100), s());
    tree.merge("b", le64(5), s());
    tree.removeRange("b", "b\u0000", s());
    tree.merge("b", le64(7), s());
    expect([...tree.iter(seqno.get())].map(([, v]) => num(v))).toEqual([10, 7]);
    expect([...tree.iter(seqno.get(), { reverse: true })].map(([, v]) => num(v))).toEqual([7, 10]);
  });

  it("merge_range_with_snapshot_isolation: 15, 20 then 15, 23", async () => {
    const { tree, s } = await open();
    tree.insert("a", le64(10), s());
    tree.merge("a", le64(5), s());
    tree.insert("b", le64(20), s());
    const s3 = s();
    tree.merge("b", le64(3), s3);
    expect([...tree.iter(s3)].map(([, v]) => num(v))).toEqual([15, 20]);
    expect([...tree.iter(s3 + 1)].map(([, v]) => num(v))).toEqual([15, 23]);
  });

  it("merge_read_at_seqno_zero: nothing is visible at 0", async () => {
    const { tree, s } = await open();
    tree.merge("counter", le64(5), s());
    expect(tree.get("counter", 0)).toBeUndefined();
  });

  it("merge_rt_across_flush_boundary: base on disk, range tombstone and operand in memory: 42", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("counter", le64(100), s());
    await tree.flushActiveMemtable(0);
    tree.removeRange("counter", "counter\u0000", s());
    tree.merge("counter", le64(42), s());
    expect(counter(tree, "counter", seqno.get())).toBe(42);
  });

  it("merge_rt_across_multiple_flushes: 33", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("counter", le64(100), s());
    await tree.flushActiveMemtable(0);
    tree.merge("counter", le64(10), s());
    await tree.flushActiveMemtable(0);
    tree.removeRange("counter", "counter\u0000", s());
    tree.merge("counter", le64(33), s());
    expect(counter(tree, "counter", seqno.get())).toBe(33);
  });

  it("merge_rt_partial_suppression_across_layers: 20 + 30 = 50", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("counter", le64(100), s());
    tree.merge("counter", le64(10), s());
    await tree.flushActiveMemtable(0);
    tree.removeRange("counter", "counter\u0000", s());
    tree.merge("counter", le64(20), s());
    tree.merge("counter", le64(30), s());
    expect(counter(tree, "counter", seqno.get())).toBe(50);
  });

  it("merge_rt_no_operator_get_and_multi_get_agree", async () => {
    const { tree, s, seqno } = await open({});
    const s0 = s();
    tree.merge("key", "operand_bytes", s0);
    tree.removeRange("key", "key\u0000", s());
    expect(tree.get("key", seqno.get())).toBeUndefined();
    expect(tree.multiGet(["key"], seqno.get())).toEqual([undefined]);
    expect(str(tree.get("key", s0 + 1))).toBe("operand_bytes");
  });

  it("merge_rt_suppresses_operand_in_disk_range_scan: 20", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("counter", le64(100), s());
    tree.merge("counter", le64(10), s());
    await tree.flushActiveMemtable(0);
    tree.removeRange("counter", "counter\u0000", s());
    tree.merge("counter", le64(20), s());
    expect(counter(tree, "counter", seqno.get())).toBe(20);
    expect([...tree.range({ gte: "c", lt: "d" }, seqno.get())].map(([, v]) => num(v))).toEqual([20]);
  });

  it("merge_disk_base_via_point_lookup: 130", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("counter", le64(100), s());
    await tree.flushActiveMemtable(0);
    tree.merge("counter", le64(10), s());
    tree.merge("counter", le64(20), s());
    expect(counter(tree, "counter", seqno.get())).toBe(130);
  });

  it("merge_tombstone_in_sealed_memtable: tombstone on disk ends the operands: 42", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("counter", le64(100), s());
    tree.remove("counter", s());
    await tree.flushActiveMemtable(0);
    tree.merge("counter", le64(42), s());
    expect(counter(tree, "counter", seqno.get())).toBe(42);
  });

  it("merge_operands_across_active_and_disk: 100 + 5 + 10 + 15 = 130", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("counter", le64(100), s());
    tree.merge("counter", le64(5), s());
    await tree.flushActiveMemtable(0);
    tree.merge("counter", le64(10), s());
    await tree.flushActiveMemtable(0);
    tree.merge("counter", le64(15), s());
    expect(counter(tree, "counter", seqno.get())).toBe(130);
  });

  it("merge_bloom_with_overlapping_non_matching_table: 110", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("aaa", le64(0), s());
    tree.insert("zzz", le64(0), s());
    await tree.flushActiveMemtable(0);
    tree.insert("counter", le64(100), s());
    await tree.flushActiveMemtable(0);
    tree.merge("counter", le64(10), s());
    expect(counter(tree, "counter", seqno.get())).toBe(110);
  });

  it("merge_only_key_folds_operands_after_major_compaction: 100 ones read with at most one operand", async () => {
    const op = counting(counterMerge);
    const { tree, s, seqno } = await open({ mergeOperator: op });
    for (let i = 0; i < 100; i++) tree.merge("k", le64(1), s());
    await tree.flushActiveMemtable(seqno.get());
    await tree.majorCompact(Number.POSITIVE_INFINITY, seqno.get());
    op.maxOperands = 0;
    op.calls = 0;
    expect(counter(tree, "k", SEQNO_MAX)).toBe(100);
    expect(op.maxOperands).toBeLessThanOrEqual(1);
    // At the bottom of the tree the operands became a value: reads do not merge at all.
    expect(op.calls).toBe(0);
    expect(tree.approximateLen()).toBe(1);
  });
});

// ================================================================================================
// Ports: tests/merge_point_read_coverage.rs
// ================================================================================================

describe("merge_point_read_coverage.rs", () => {
  it("point_read_merge_single_table: base on disk + operand in the memtable: 105", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("counter", le64(100), s());
    await tree.flushActiveMemtable(0);
    tree.merge("counter", le64(5), s());
    expect(counter(tree, "counter", seqno.get())).toBe(105);
  });

  it("point_read_merge_bloom_filters_unrelated_tables: 57", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("counter", le64(50), s());
    await tree.flushActiveMemtable(0);
    for (let i = 0; i < 5; i++) {
      tree.insert(`other_${i}`, new Uint8Array(8), s());
      await tree.flushActiveMemtable(0);
    }
    tree.merge("counter", le64(7), s());
    expect(counter(tree, "counter", seqno.get())).toBe(57);
  });

  it("point_read_merge_sealed_memtable: 10 + 3 + 2 = 15", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("counter", le64(10), s());
    await tree.flushActiveMemtable(0);
    tree.merge("counter", le64(3), s());
    tree.rotateMemtable();
    tree.merge("counter", le64(2), s());
    expect(counter(tree, "counter", seqno.get())).toBe(15);
  });

  it("point_read_merge_with_range_tombstone_suppression: range tombstone in a table: 42", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("counter", le64(100), s());
    await tree.flushActiveMemtable(0);
    tree.removeRange("c", "d", s());
    await tree.flushActiveMemtable(0);
    tree.merge("counter", le64(42), s());
    expect(counter(tree, "counter", seqno.get())).toBe(42);
  });

  it("point_read_merge_multiple_operands_on_disk: 10 + 1 + 2 + 3 = 16", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("counter", le64(10), s());
    await tree.flushActiveMemtable(0);
    tree.merge("counter", le64(1), s());
    await tree.flushActiveMemtable(0);
    tree.merge("counter", le64(2), s());
    await tree.flushActiveMemtable(0);
    tree.merge("counter", le64(3), s());
    expect(counter(tree, "counter", seqno.get())).toBe(16);
  });

  it("point_read_merge_no_base_value: 5 + 3 = 8", async () => {
    const { tree, s, seqno } = await open();
    tree.merge("counter", le64(5), s());
    await tree.flushActiveMemtable(0);
    tree.merge("counter", le64(3), s());
    expect(counter(tree, "counter", seqno.get())).toBe(8);
  });

  it("point_read_merge_nonexistent_key: none", async () => {
    const { tree, s, seqno } = await open();
    tree.merge("counter", le64(5), s());
    await tree.flushActiveMemtable(0);
    expect(tree.get("missing", seqno.get())).toBeUndefined();
  });

  it("point_read_merge_rt_in_active_memtable: 42", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("counter", le64(100), s());
    await tree.flushActiveMemtable(0);
    tree.removeRange("c", "d", s());
    tree.merge("counter", le64(42), s());
    expect(counter(tree, "counter", seqno.get())).toBe(42);
  });

  it("point_read_merge_rt_in_sealed_memtable: 42", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("counter", le64(100), s());
    await tree.flushActiveMemtable(0);
    tree.removeRange("c", "d", s());
    tree.rotateMemtable();
    tree.merge("counter", le64(42), s());
    expect(counter(tree, "counter", seqno.get())).toBe(42);
  });

  it("point_read_merge_non_overlapping_tables_skipped: 60", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("zzz_far_away", new Uint8Array(8), s());
    await tree.flushActiveMemtable(0);
    tree.insert("yyy_also_far", new Uint8Array(8), s());
    await tree.flushActiveMemtable(0);
    tree.insert("counter", le64(50), s());
    await tree.flushActiveMemtable(0);
    tree.merge("counter", le64(10), s());
    expect(counter(tree, "counter", seqno.get())).toBe(60);
  });
});

// ================================================================================================
// Ports: rt_merge_compaction.rs, write_batch.rs, multi_get.rs, partitioned_bloom_skip.rs,
// custom_comparator.rs, custom_comparator_compaction.rs
// ================================================================================================

describe("merge cases of other reference files", () => {
  it("rt_merge_compaction.rs: a range delete keeps deleting the base across compaction (MaxMerge gives [0])", async () => {
    const maxMerge: MergeOperator = {
      name: "max",
      merge: (_k, base, ops) => {
        let best = base ?? new Uint8Array(0);
        for (const op of ops) if (Buffer.compare(op, best) > 0) best = op;
        return new Uint8Array(best);
      },
    };
    const { tree, s, seqno } = await open({ mergeOperator: maxMerge });
    const key = new Uint8Array([6]);
    tree.insert(key, new Uint8Array([54]), s());
    tree.removeRange(new Uint8Array([0]), new Uint8Array([7]), s());
    tree.merge(key, new Uint8Array([0]), s());
    await tree.flushActiveMemtable(0);
    expect([...(tree.get(key, seqno.get()) as Uint8Array)]).toEqual([0]);
    await tree.majorCompact(64 << 20, seqno.get());
    expect([...(tree.get(key, seqno.get()) as Uint8Array)]).toEqual([0]);
    expect([...(tree.get(key, SEQNO_MAX) as Uint8Array)]).toEqual([0]);
  });

  it("write_batch_with_merge_operand: A, then a batch merging B and C: ABC", async () => {
    const { tree, s, seqno } = await open({ mergeOperator: concat });
    tree.insert("counter", "A", s());
    tree.applyBatch(new WriteBatch().merge("counter", "B").merge("counter", "C"), s());
    expect(str(tree.get("counter", seqno.get()))).toBe("ABC");
  });

  it("write_batch_repeated_merge_accepted: two merges of one key in a batch are fine", async () => {
    const { tree, s, seqno } = await open({ mergeOperator: concat });
    expect(() => tree.applyBatch(new WriteBatch().merge("k", "A").merge("k", "B"), s())).not.toThrow();
    expect(str(tree.get("k", seqno.get()))).toBe("AB");
  });

  it("multi_get_with_merge_operands: base_a_merged, val_b, none", async () => {
    const { tree, s, seqno } = await open({ mergeOperator: concat });
    tree.insert("a", "base_a", s());
    tree.merge("a", "_merged", s());
    tree.insert("b", "val_b", s());
    expect(tree.multiGet(["a", "b", "c"], seqno.get()).map(str)).toEqual(["base_a_merged", "val_b", undefined]);
  });

  it("multi_get_with_merge_operands_on_disk: AB, plain, none", async () => {
    const { tree, s } = await open({ mergeOperator: concat });
    tree.insert("k1", "A", s());
    tree.merge("k1", "B", s());
    tree.insert("k2", "plain", s());
    await tree.flushActiveMemtable(0);
    expect(tree.multiGet(["k1", "k2", "missing"], SEQNO_MAX).map(str)).toEqual(["AB", "plain", undefined]);
  });

  for (const filterBitsPerKey of [10, 0]) {
    it(`partitioned_bloom_skip.rs: 100 + 10 = 110 through the merge pipeline (filterBitsPerKey ${filterBitsPerKey})`, async () => {
      const { tree, s } = await open({ mergeOperator: counterMerge, filterBitsPerKey });
      tree.insert("a", le64(1), s());
      tree.insert("counter", le64(100), s());
      tree.insert("z", le64(1), s());
      await tree.flushActiveMemtable(0);
      tree.merge("counter", le64(10), s());
      expect(tree.get("b", SEQNO_MAX)).toBeUndefined();
      expect(tree.get("zz", SEQNO_MAX)).toBeUndefined();
      expect(counter(tree, "counter", SEQNO_MAX)).toBe(110);
    });
  }

  it('custom_comparator.rs reverse_comparator_compaction_with_merge_operator: "v1,v2" after major compaction', async () => {
    const { tree, s } = await open({ comparator: REVERSE_COMPARATOR, mergeOperator: appendMerge({ separator: "," }) });
    tree.merge("key", "v1", s());
    await tree.flushActiveMemtable(1);
    tree.merge("key", "v2", s());
    await tree.flushActiveMemtable(3);
    await tree.majorCompact(Number.POSITIVE_INFINITY, 4);
    expect(str(tree.get("key", SEQNO_MAX))).toBe("v1,v2");
    await tree.majorCompact(Number.POSITIVE_INFINITY, SEQNO_MAX);
    expect(str(tree.get("key", SEQNO_MAX))).toBe("v1,v2");
    expect(tree.approximateLen()).toBe(1);
  });

  describe("custom_comparator_compaction.rs, u64 big-endian keys", () => {
    const u64Open = () => open({ comparator: U64_COMPARATOR, mergeOperator: counterMerge });

    it("u64_comparator_merge_after_flush: 15", async () => {
      const { tree, s } = await u64Open();
      tree.insert(be64(100), le64(10), s());
      tree.merge(be64(100), le64(5), s());
      await tree.flushActiveMemtable(0);
      expect(counter(tree, be64(100), SEQNO_MAX)).toBe(15);
    });

    it("u64_comparator_merge_across_flush_boundary: 160", async () => {
      const { tree, s } = await u64Open();
      tree.insert(be64(100), le64(100), s());
      tree.merge(be64(100), le64(10), s());
      await tree.flushActiveMemtable(0);
      tree.merge(be64(100), le64(20), s());
      tree.merge(be64(100), le64(30), s());
      expect(counter(tree, be64(100), SEQNO_MAX)).toBe(160);
    });

    it("u64_comparator_merge_after_compaction: 110, 510, 1010 in numeric order", async () => {
      const { tree, s } = await u64Open();
      const keys = [500, 100, 1000];
      for (const k of keys) tree.insert(be64(k), le64(10), s());
      await tree.flushActiveMemtable(0);
      for (const k of keys) tree.merge(be64(k), le64(k), s());
      await tree.flushActiveMemtable(0);
      await tree.majorCompact(Number.POSITIVE_INFINITY, SEQNO_MAX);
      expect([100, 500, 1000].map((k) => counter(tree, be64(k), SEQNO_MAX))).toEqual([110, 510, 1010]);
      expect([...tree.iter(SEQNO_MAX)].map(([k, v]) => [readBe64(k), num(v)])).toEqual([
        [100, 110],
        [500, 510],
        [1000, 1010],
      ]);
    });

    it("u64_comparator_merge_with_tombstone_and_compaction: 7 before and after", async () => {
      const { tree, s } = await u64Open();
      tree.insert(be64(100), le64(50), s());
      await tree.flushActiveMemtable(0);
      tree.remove(be64(100), s());
      tree.merge(be64(100), le64(7), s());
      await tree.flushActiveMemtable(0);
      expect(counter(tree, be64(100), SEQNO_MAX)).toBe(7);
      await tree.majorCompact(Number.POSITIVE_INFINITY, SEQNO_MAX);
      expect(counter(tree, be64(100), SEQNO_MAX)).toBe(7);
    });

    it("u64_comparator_merge_multiple_keys_compaction: (10,103), (20,200), (30,303)", async () => {
      const { tree, s } = await u64Open();
      tree.insert(be64(10), le64(100), s());
      tree.insert(be64(30), le64(300), s());
      tree.merge(be64(10), le64(1), s());
      await tree.flushActiveMemtable(0);
      tree.merge(be64(10), le64(2), s());
      tree.merge(be64(30), le64(3), s());
      tree.insert(be64(20), le64(200), s());
      await tree.flushActiveMemtable(0);
      await tree.majorCompact(Number.POSITIVE_INFINITY, SEQNO_MAX);
      expect([...tree.iter(SEQNO_MAX)].map(([k, v]) => [readBe64(k), num(v)])).toEqual([
        [10, 103],
        [20, 200],
        [30, 303],
      ]);
    });
  });

  describe("custom_comparator_compaction.rs, reverse keys", () => {
    const revOpen = () => open({ comparator: REVERSE_COMPARATOR, mergeOperator: counterMerge });

    it("reverse_comparator_merge_operands_in_memtable: 15, 23, 30; iteration c, b, a", async () => {
      const { tree, s, seqno } = await revOpen();
      tree.insert("a", le64(10), s());
      tree.merge("a", le64(5), s());
      tree.insert("b", le64(20), s());
      tree.merge("b", le64(3), s());
      tree.insert("c", le64(30), s());
      expect(["a", "b", "c"].map((k) => counter(tree, k, seqno.get()))).toEqual([15, 23, 30]);
      expect([...tree.iter(seqno.get())].map(([k, v]) => [str(k), num(v)])).toEqual([
        ["c", 30],
        ["b", 23],
        ["a", 15],
      ]);
    });

    it("reverse_comparator_merge_after_single_flush: 110", async () => {
      const { tree, s } = await revOpen();
      tree.insert("x", le64(100), s());
      tree.merge("x", le64(10), s());
      await tree.flushActiveMemtable(0);
      expect(counter(tree, "x", SEQNO_MAX)).toBe(110);
    });

    it("reverse_comparator_merge_across_flush_boundary: 160", async () => {
      const { tree, s } = await revOpen();
      tree.insert("counter", le64(100), s());
      tree.merge("counter", le64(10), s());
      await tree.flushActiveMemtable(0);
      tree.merge("counter", le64(20), s());
      tree.merge("counter", le64(30), s());
      expect(counter(tree, "counter", SEQNO_MAX)).toBe(160);
    });

    it("reverse_comparator_merge_after_compaction: 15, 27, 33; iteration c, b, a", async () => {
      const { tree, s } = await revOpen();
      tree.insert("a", le64(10), s());
      tree.insert("b", le64(20), s());
      tree.insert("c", le64(30), s());
      await tree.flushActiveMemtable(0);
      tree.merge("a", le64(5), s());
      tree.merge("b", le64(7), s());
      tree.merge("c", le64(3), s());
      await tree.flushActiveMemtable(0);
      await tree.majorCompact(Number.POSITIVE_INFINITY, SEQNO_MAX);
      expect(["a", "b", "c"].map((k) => counter(tree, k, SEQNO_MAX))).toEqual([15, 27, 33]);
      expect([...tree.iter(SEQNO_MAX)].map(([k, v]) => [str(k), num(v)])).toEqual([
        ["c", 33],
        ["b", 27],
        ["a", 15],
      ]);
    });

    it('reverse_comparator_merge_range_scan_after_compaction: range "d"..="b" gives d=18, c=10, b=15', async () => {
      const { tree, s } = await revOpen();
      for (const c of "abcde") tree.insert(c, le64(10), s());
      await tree.flushActiveMemtable(0);
      tree.merge("b", le64(5), s());
      tree.merge("d", le64(8), s());
      await tree.flushActiveMemtable(0);
      await tree.majorCompact(Number.POSITIVE_INFINITY, SEQNO_MAX);
      expect([...tree.range({ gte: "d", lte: "b" }, SEQNO_MAX)].map(([k, v]) => [str(k), num(v)])).toEqual([
        ["d", 18],
        ["c", 10],
        ["b", 15],
      ]);
      expect([...tree.range({ gte: "d", lte: "b", reverse: true }, SEQNO_MAX)].map(([k, v]) => [str(k), num(v)])).toEqual([
        ["b", 15],
        ["c", 10],
        ["d", 18],
      ]);
    });
  });
});

// ================================================================================================
// Every read method, both ways, over operands spread across the tree
// ================================================================================================

/** Where the writes of each phase end up before the next phase is written. */
type Layout = {
  readonly name: string;
  /** Run after phases 0, 1 and 2 (phase 3 stays in the active memtable). */
  readonly after: readonly ((o: Opened) => Promise<unknown>)[];
};

const LAYOUTS: readonly Layout[] = [
  { name: "all in the active memtable", after: [async () => {}, async () => {}, async () => {}] },
  {
    name: "the deepest level, L0, a sealed memtable and the active memtable",
    after: [(o) => o.tree.flushActiveMemtable(0).then(() => o.tree.majorCompact(1 << 20, 0)), (o) => o.tree.flushActiveMemtable(0), async (o) => o.tree.rotateMemtable()],
  },
  {
    name: "three L0 tables and the active memtable",
    after: [(o) => o.tree.flushActiveMemtable(0), (o) => o.tree.flushActiveMemtable(0), (o) => o.tree.flushActiveMemtable(0)],
  },
  {
    name: "L6, L1, L0 and the active memtable (tiny blocks)",
    after: [
      (o) => o.tree.flushActiveMemtable(0).then(() => o.tree.majorCompact(1 << 20, 0)),
      (o) => o.tree.flushActiveMemtable(0).then(() => o.tree.compact(pullDown(0, 1), 0)),
      (o) => o.tree.flushActiveMemtable(0),
    ],
  },
  { name: "three sealed memtables and the active memtable", after: [async (o) => o.tree.rotateMemtable(), async (o) => o.tree.rotateMemtable(), async (o) => o.tree.rotateMemtable()] },
];

/**
 * Four phases of writes over keys that end on every kind of history: values, operands on values,
 * operands alone, operands on deletions, on weak deletions and on range-deleted versions, deleted
 * operands, operands cut by a range tombstone in the middle, and keys at range-tombstone bounds.
 */
function writePhase(o: Opened, log: WriteLog, phase: number, v: (n: number) => Uint8Array): void {
  const { tree, s } = o;
  switch (phase) {
    case 0:
      log.insert(tree, "a", v(10), s());
      log.merge(tree, "b", v(1), s());
      log.insert(tree, "c", v(100), s());
      log.insert(tree, "d", v(7), s());
      log.merge(tree, "e", v(4), s());
      log.insert(tree, "f", v(50), s());
      log.insert(tree, "g", v(1), s());
      log.merge(tree, "h", v(1), s());
      log.insert(tree, "i", v(5), s());
      log.merge(tree, "j", v(1), s());
      log.merge(tree, "m1", v(3), s());
      log.merge(tree, "m2", v(3), s());
      break;
    case 1:
      log.merge(tree, "b", v(2), s());
      log.merge(tree, "c", v(5), s());
      log.remove(tree, "d", s());
      log.merge(tree, "f", v(1), s());
      log.insert(tree, "h", v(9), s());
      log.removeWeak(tree, "i", s());
      log.merge(tree, "j", v(1), s());
      log.merge(tree, "m1", v(4), s());
      log.merge(tree, "m2", v(4), s());
      break;
    case 2:
      log.merge(tree, "c", v(10), s());
      log.merge(tree, "d", v(3), s());
      log.remove(tree, "e", s());
      // [f, g): deletes f's base and operand, not g.
      log.removeRange(tree, "f", "g", s());
      log.merge(tree, "g", v(1), s());
      log.merge(tree, "i", v(6), s());
      // Cuts m1's operands in the middle: the newer ones count, the older not.
      log.removeRange(tree, "m1", "m2", s());
      log.merge(tree, "m1", v(5), s());
      log.merge(tree, "m2", v(5), s());
      break;
    case 3:
      log.merge(tree, "f", v(2), s());
      log.merge(tree, "c", v(20), s());
      log.merge(tree, "j", v(1), s());
      // Deletes j, operands and all.
      log.removeRange(tree, "j", "k", s());
      log.merge(tree, "m1", v(6), s());
      log.merge(tree, "m2", v(6), s());
      log.merge(tree, "n", v(1), s());
      log.insert(tree, "n0", v(2), s());
      break;
  }
}

const ABSENT = ["0", "a0", "bb", "k", "m", "m10", "z"];

describe("every read method over operands spread across the tree", () => {
  const operators: Array<{ name: string; operator: MergeOperator; v: (n: number) => Uint8Array }> = [
    { name: "counterMerge", operator: counterMerge, v: (n) => le64(n) },
    { name: 'appendMerge({ separator: "," })', operator: appendMerge({ separator: "," }), v: (n) => te.encode(`x${n}`) },
  ];
  for (const layout of LAYOUTS) {
    for (const { name, operator, v } of operators) {
      it(`${layout.name}, ${name}: every read at every snapshot agrees with the fold`, async () => {
        const o = await open({ mergeOperator: operator, blockSize: 64, restartInterval: 2 });
        const log = new WriteLog(operator);
        const phaseEnds: number[] = [];
        for (let phase = 0; phase < 4; phase++) {
          writePhase(o, log, phase, v);
          phaseEnds.push(o.seqno.get());
          if (phase < 3) await (layout.after[phase] as (o: Opened) => Promise<unknown>)(o);
        }
        // The final state, every read method; each phase end, thoroughly for the first and last.
        checkAllReads(o.tree, log, o.seqno.get(), { absent: ABSENT, thorough: true });
        for (const end of phaseEnds) checkAllReads(o.tree, log, end, { absent: ABSENT });
        for (let at = 0; at <= o.seqno.get() + 1; at++) checkPointAndScans(o.tree, log, at, ABSENT);
        checkPointAndScans(o.tree, log, SEQNO_MAX, ABSENT);
        // Hand-checked answers at the end, so the fold itself is checked too.
        if (operator === counterMerge) {
          const S = o.seqno.get();
          expect(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "m1", "m2", "n", "n0"].map((k) => counter(o.tree, k, S))).toEqual([
            10, 3, 135, 3, undefined, 2, 2, 9, 6, undefined, 11, 18, 1, 2,
          ]);
        } else {
          const S = o.seqno.get();
          expect(str(o.tree.get("c", S))).toBe("x100,x5,x10,x20");
          expect(str(o.tree.get("m1", S))).toBe("x5,x6");
          expect(str(o.tree.get("m2", S))).toBe("x3,x4,x5,x6");
          expect(str(o.tree.get("f", S))).toBe("x2");
        }
        // Reopen after a flush: the same answers at every snapshot from the flush on.
        await o.tree.flushActiveMemtable(0);
        const tree = await o.reopen();
        checkAllReads(tree, log, o.seqno.get(), { absent: ABSENT });
        await tree.close();
      });
    }
  }

  it("under a reverse comparator, every read method agrees with the fold", async () => {
    const o = await open({ mergeOperator: counterMerge, comparator: REVERSE_COMPARATOR, blockSize: 64 });
    const log = new WriteLog(counterMerge, REVERSE_COMPARATOR);
    // Range tombstones run from the larger key to the smaller under this order.
    const { tree, s } = o;
    log.insert(tree, "a", le64(1), s());
    log.merge(tree, "b", le64(2), s());
    log.insert(tree, "c", le64(3), s());
    await tree.flushActiveMemtable(0);
    log.merge(tree, "a", le64(10), s());
    log.merge(tree, "c", le64(30), s());
    log.removeRange(tree, "c", "b", s());
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(1 << 20, 0);
    log.merge(tree, "c", le64(300), s());
    log.merge(tree, "b", le64(20), s());
    tree.rotateMemtable();
    log.merge(tree, "d", le64(4), s());
    checkAllReads(tree, log, o.seqno.get(), { absent: ["bb", "e", "0"], comparator: REVERSE_COMPARATOR, thorough: true });
    for (let at = 0; at <= o.seqno.get(); at++) checkPointAndScans(tree, log, at, ["bb"]);
    expect([...tree.iter(SEQNO_MAX)].map(([k, v]) => [str(k), num(v)])).toEqual([
      ["d", 4],
      ["c", 300],
      ["b", 22],
      ["a", 11],
    ]);
  });

  it("without an operator every read returns the newest operand's bytes", async () => {
    const o = await open({});
    const log = new WriteLog(undefined);
    for (let phase = 0; phase < 4; phase++) {
      writePhase(o, log, phase, (n) => te.encode(`raw${n}`));
      if (phase === 1) await o.tree.flushActiveMemtable(0);
    }
    checkAllReads(o.tree, log, o.seqno.get(), { absent: ABSENT });
    expect(str(o.tree.get("c", o.seqno.get()))).toBe("raw20");
    expect(str(o.tree.get("b", o.seqno.get()))).toBe("raw2");
  });

  it("iterators hold their snapshot while a compaction collapses the operands under them", async () => {
    const { tree, s, seqno } = await open();
    for (let i = 0; i < 40; i++) tree.insert(`k${String(i).padStart(2, "0")}`, le64(i), s());
    await tree.flushActiveMemtable(0);
    for (let r = 0; r < 3; r++) for (let i = 0; i < 40; i += 2) tree.merge(`k${String(i).padStart(2, "0")}`, le64(1000), s());
    const S = seqno.get();
    const forward = tree.iter(S);
    const reverse = tree.iter(S, { reverse: true });
    const firstF = forward.next().value as [Uint8Array, Uint8Array];
    const firstR = reverse.next().value as [Uint8Array, Uint8Array];
    await tree.flushActiveMemtable(seqno.get());
    await tree.majorCompact(1 << 20, seqno.get());
    const expectedValue = (i: number) => (i % 2 === 0 ? i + 3000 : i);
    const restF = [...forward];
    const restR = [...reverse];
    expect([firstF, ...restF].map(([k, v]) => [str(k), num(v)])).toEqual(Array.from({ length: 40 }, (_, i) => [`k${String(i).padStart(2, "0")}`, expectedValue(i)]));
    expect([firstR, ...restR].map(([k, v]) => [str(k), num(v)])).toEqual(Array.from({ length: 40 }, (_, i) => [`k${String(39 - i).padStart(2, "0")}`, expectedValue(39 - i)]));
    expect(tree.approximateLen()).toBe(40);
  });
});

// ================================================================================================
// Range tombstones as a boundary
// ================================================================================================

describe("range tombstones end the operands", () => {
  it("in every layer: a range tombstone in the memtable, a sealed memtable, L0 or the last level", async () => {
    const places: Array<(o: Opened) => Promise<unknown>> = [
      async () => {},
      async (o) => o.tree.rotateMemtable(),
      (o) => o.tree.flushActiveMemtable(0),
      (o) => o.tree.flushActiveMemtable(0).then(() => o.tree.majorCompact(1 << 20, 0)),
    ];
    for (const [i, place] of places.entries()) {
      const o = await open();
      const log = new WriteLog(counterMerge);
      log.insert(o.tree, "k", le64(100), o.s());
      log.merge(o.tree, "k", le64(1), o.s());
      log.insert(o.tree, "k2", le64(100), o.s());
      await o.tree.flushActiveMemtable(0);
      log.merge(o.tree, "k", le64(2), o.s());
      log.merge(o.tree, "k2", le64(2), o.s());
      log.removeRange(o.tree, "k", "k2", o.s());
      await place(o);
      log.merge(o.tree, "k", le64(40), o.s());
      log.merge(o.tree, "k2", le64(40), o.s());
      log.merge(o.tree, "k", le64(2), o.s());
      expect(counter(o.tree, "k", o.seqno.get()), `place ${i}`).toBe(42);
      expect(counter(o.tree, "k2", o.seqno.get()), `place ${i}`).toBe(142);
      checkAllReads(o.tree, log, o.seqno.get(), { absent: ["j", "k1", "k3"] });
      for (let at = 0; at <= o.seqno.get(); at++) checkPointAndScans(o.tree, log, at);
    }
  });

  it("a range tombstone newer than every operand deletes the key; one between operands keeps the newer", async () => {
    const o = await open();
    const log = new WriteLog(counterMerge);
    for (let i = 0; i < 6; i++) {
      log.merge(o.tree, "k", le64(1 << i), o.s());
      if (i === 2) log.removeRange(o.tree, "a", "z", o.s());
      if (i % 2 === 1) await o.tree.flushActiveMemtable(0);
    }
    expect(counter(o.tree, "k", o.seqno.get())).toBe(8 + 16 + 32);
    log.removeRange(o.tree, "k", "l", o.s());
    expect(o.tree.get("k", o.seqno.get())).toBeUndefined();
    for (let at = 0; at <= o.seqno.get(); at++) checkPointAndScans(o.tree, log, at);
    // The same after compactions with watermark 0 and at the current seqno.
    await o.tree.flushActiveMemtable(0);
    await o.tree.majorCompact(1 << 20, 0);
    for (let at = 0; at <= o.seqno.get(); at++) checkPointAndScans(o.tree, log, at);
    const w = o.seqno.get();
    await o.tree.majorCompact(1 << 20, w);
    for (let at = w; at <= o.seqno.get(); at++) checkPointAndScans(o.tree, log, at);
  });

  it("a range tombstone at the same seqno as a batch's merges does not delete them", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("k", le64(100), s());
    tree.applyBatch(new WriteBatch().removeRange("a", "z").merge("k", le64(1)).merge("k", le64(2)), s());
    expect(counter(tree, "k", seqno.get())).toBe(3);
    await tree.flushActiveMemtable(seqno.get());
    expect(counter(tree, "k", seqno.get())).toBe(3);
    await tree.majorCompact(1 << 20, seqno.get());
    expect(counter(tree, "k", seqno.get())).toBe(3);
  });
});

// ================================================================================================
// Write batches
// ================================================================================================

describe("merges in write batches", () => {
  it("several merges of one key apply in batch order, later operands newer", async () => {
    const { tree, s, seqno } = await open({ mergeOperator: appendMerge({ separator: "," }) });
    tree.insert("k", "base", s());
    const at = s();
    tree.applyBatch(new WriteBatch().merge("k", "1").merge("other", "x").merge("k", "2").merge("k", "3"), at);
    expect(str(tree.get("k", at))).toBe("base");
    expect(str(tree.get("k", at + 1))).toBe("base,1,2,3");
    tree.merge("k", "4", s());
    tree.applyBatch(new WriteBatch().merge("k", "5").merge("k", "6"), s());
    expect(str(tree.get("k", seqno.get()))).toBe("base,1,2,3,4,5,6");
    // The order survives a flush (with tiny blocks splitting the batch), a compaction and a reopen.
    await tree.flushActiveMemtable(0);
    expect(str(tree.get("k", seqno.get()))).toBe("base,1,2,3,4,5,6");
    await tree.majorCompact(1 << 20, 0);
    expect(str(tree.get("k", seqno.get()))).toBe("base,1,2,3,4,5,6");
    expect([...tree.iter(seqno.get(), { reverse: true })].map(([k, v]) => `${str(k)}=${str(v)}`)).toEqual(["other=x", "k=base,1,2,3,4,5,6"]);
  });

  it("batch order survives collapse by flush and compaction at a watermark, and tiny blocks", async () => {
    for (const w of ["flush", "compact"] as const) {
      const { tree, s, seqno, reopen } = await open({ mergeOperator: appendMerge({ separator: "," }), blockSize: 32, restartInterval: 1 });
      tree.applyBatch(new WriteBatch().merge("k", "a".repeat(20)).merge("k", "b".repeat(20)).merge("k", "c".repeat(20)), s());
      tree.merge("k", "d", s());
      const want = `${"a".repeat(20)},${"b".repeat(20)},${"c".repeat(20)},d`;
      if (w === "flush") {
        await tree.flushActiveMemtable(seqno.get());
      } else {
        await tree.flushActiveMemtable(0);
        expect(tree.approximateLen()).toBe(4);
        await tree.majorCompact(1 << 20, seqno.get());
      }
      expect(str(tree.get("k", seqno.get())), w).toBe(want);
      expect(tree.approximateLen(), w).toBe(1);
      const again = await reopen();
      expect(str(again.get("k", seqno.get())), w).toBe(want);
      await again.close();
    }
  });

  it("without an operator, the later operand of a batch is the one read", async () => {
    const { tree, s, seqno } = await open({});
    tree.applyBatch(new WriteBatch().merge("k", "first").merge("k", "second"), s());
    expect(str(tree.get("k", seqno.get()))).toBe("second");
    await tree.flushActiveMemtable(0);
    expect(str(tree.get("k", seqno.get()))).toBe("second");
  });

  it("a batch mixing a merge with another kind on one key is refused whole", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("k", le64(1), s());
    expect(() => tree.applyBatch(new WriteBatch().merge("k", le64(1)).insert("k", le64(5)), s())).toThrow(LsmError);
    expect(() => tree.applyBatch(new WriteBatch().merge("j", le64(1)).remove("j"), s())).toThrow(LsmError);
    expect(counter(tree, "k", seqno.get())).toBe(1);
    expect(tree.get("j", seqno.get())).toBeUndefined();
  });
});

// ================================================================================================
// Collapse by flush and compaction below the watermark
// ================================================================================================

describe("flush and compaction collapse operands below the GC watermark, never above", () => {
  it("watermark 0 keeps every operand, through flush, compaction and major compaction", async () => {
    const op = counting(counterMerge);
    const { tree, s, seqno } = await open({ mergeOperator: op });
    tree.insert("k", le64(100), s());
    for (let i = 1; i <= 5; i++) tree.merge("k", le64(i), s());
    await tree.flushActiveMemtable(0);
    expect(tree.approximateLen()).toBe(6);
    await tree.compact(new Leveled({ l0Threshold: 1 }), 0);
    expect(tree.approximateLen()).toBe(6);
    await tree.majorCompact(1 << 20, 0);
    expect(tree.approximateLen()).toBe(6);
    expect(op.calls).toBe(0);
    for (let at = 1; at <= 6; at++) expect(counter(tree, "k", at)).toBe(100 + (at - 1) * at / 2);
    expect(counter(tree, "k", seqno.get())).toBe(115);
  });

  it("a flush at W above everything collapses each key to one value; reads at S >= W and old snapshots keep their answers", async () => {
    const o = await open({ mergeOperator: counterMerge });
    const log = new WriteLog(counterMerge);
    for (let phase = 0; phase < 4; phase++) writePhase(o, log, phase, (n) => le64(n));
    const before = o.tree.approximateLen();
    const W = o.seqno.get();
    await o.tree.flushActiveMemtable(W);
    expect(o.tree.approximateLen()).toBeLessThan(before);
    for (let at = 0; at <= o.seqno.get(); at++) checkPointAndScans(o.tree, log, at, ABSENT);
    checkAllReads(o.tree, log, o.seqno.get(), { absent: ABSENT });
    // Keys on a base or a deletion became values; operand-only keys (b, m2, n) keep at most one operand.
    const table = [...o.tree.currentVersion().tables()][0];
    expect(table?.table.meta.mergeOperandCount).toBeLessThanOrEqual(3);
    // Compacted to the bottom, none is left.
    await o.tree.majorCompact(1 << 20, o.seqno.get());
    expect([...o.tree.currentVersion().tables()].reduce((n, t) => n + t.table.meta.mergeOperandCount, 0)).toBe(0);
    for (let at = W; at <= o.seqno.get(); at++) checkPointAndScans(o.tree, log, at, ABSENT);
  });

  // The contract: a full merge "when the output is the bottom of the tree". A flush into a tree with no
  // tables writes the bottom, yet operand-only keys stay operands there (reads are right either way).
  it("a flush at W into a tree with no tables is the bottom: operand-only keys become values", async () => {
    const op = counting(counterMerge);
    const { tree, s, seqno } = await open({ mergeOperator: op });
    tree.merge("k", le64(1), s());
    tree.merge("k", le64(2), s());
    await tree.flushActiveMemtable(seqno.get());
    expect(tree.approximateLen()).toBe(1);
    expect([...tree.currentVersion().tables()][0]?.table.meta.mergeOperandCount).toBe(0);
    op.calls = 0;
    expect(counter(tree, "k", seqno.get())).toBe(3);
    expect(op.calls).toBe(0);
  });

  it("a flush at W in the middle: operands above W stay, those below collapse; reads at S >= W unchanged", async () => {
    const op = counting(counterMerge);
    const o = await open({ mergeOperator: op });
    const log = new WriteLog(counterMerge);
    log.insert(o.tree, "k", le64(100), o.s());
    for (let i = 1; i <= 4; i++) log.merge(o.tree, "k", le64(i), o.s());
    const W = o.seqno.get();
    for (let i = 5; i <= 7; i++) log.merge(o.tree, "k", le64(i), o.s());
    log.merge(o.tree, "only", le64(1), o.s());
    const W2 = o.seqno.get();
    log.merge(o.tree, "only", le64(2), o.s());
    await o.tree.flushActiveMemtable(W);
    // k: 100 + 1..4 collapsed into one value, 5..7 stay; only: both above W.
    expect(o.tree.approximateLen()).toBe(1 + 3 + 2);
    for (let at = 0; at <= o.seqno.get(); at++) checkPointAndScans(o.tree, log, at);
    // A compaction at W2 collapses k fully and `only`'s first operand (at the bottom: a value).
    await o.tree.majorCompact(1 << 20, W2);
    expect(o.tree.approximateLen()).toBe(1 + 2);
    for (let at = W2; at <= o.seqno.get(); at++) checkPointAndScans(o.tree, log, at);
    expect(counter(o.tree, "k", o.seqno.get())).toBe(128);
    expect(counter(o.tree, "only", o.seqno.get())).toBe(3);
    // The reads at S >= W2 from before the compaction still see the same; after a reopen too.
    await o.tree.majorCompact(1 << 20, o.seqno.get());
    expect(o.tree.approximateLen()).toBe(2);
    const tree = await o.reopen();
    checkPointAndScans(tree, log, o.seqno.get());
    expect(counter(tree, "k", SEQNO_MAX)).toBe(128);
  });

  it("reads at old snapshots below W stay right while the tree holds them", async () => {
    const o = await open();
    const log = new WriteLog(counterMerge);
    log.insert(o.tree, "k", le64(100), o.s());
    const snaps: number[] = [];
    for (let i = 1; i <= 6; i++) {
      log.merge(o.tree, "k", le64(i), o.s());
      log.merge(o.tree, "c", le64(i * 10), o.s());
      snaps.push(o.seqno.get());
    }
    // An iterator at an old snapshot, opened before the jobs and read after them.
    const held = o.tree.iter(snaps[2] as number);
    // The flush at W collapses everything; the snapshot from before it is still held (with the data
    // the flush sealed), so every old read still answers.
    await o.tree.flushActiveMemtable(o.seqno.get());
    expect(o.tree.approximateLen()).toBe(2);
    for (const at of snaps) checkPointAndScans(o.tree, log, at);
    expect([...o.tree.iter(snaps[2] as number)].map(([k, v]) => [str(k), num(v)])).toEqual([
      ["c", 60],
      ["k", 106],
    ]);
    // A second job at a higher W prunes the snapshots below it: only reads at S >= W are kept.
    const W = o.seqno.get();
    log.merge(o.tree, "k", le64(1000), o.s());
    await o.tree.flushActiveMemtable(0);
    await o.tree.majorCompact(1 << 20, W);
    for (let at = W; at <= o.seqno.get(); at++) checkPointAndScans(o.tree, log, at);
    // The held iterator kept its snapshot throughout.
    expect([...held].map(([k, v]) => [str(k), num(v)])).toEqual([
      ["c", 60],
      ["k", 106],
    ]);
  });

  it("operands on a base in a deeper level collapse into one partial operand, then into a value at the bottom", async () => {
    const op = counting(counterMerge);
    const { tree, s, seqno } = await open({ mergeOperator: op });
    tree.insert("k", le64(1000), s());
    tree.insert("z", le64(1), s());
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(1 << 20, 0);
    expect(tree.levelTableCount(6)).toBe(1);
    for (let i = 1; i <= 5; i++) tree.merge("k", le64(i), s());
    await tree.flushActiveMemtable(0);
    expect(tree.approximateLen()).toBe(2 + 5);
    op.log.length = 0;
    // L0 into L1: the base lies in L6, outside the compaction: one operand holds 1+..+5.
    const result = await tree.compact(pullDown(0, 1), seqno.get());
    expect(result.action).toBe("merged");
    expect(tree.levelTableCount(1)).toBe(1);
    expect(tree.approximateLen()).toBe(2 + 1);
    expect(op.log).toHaveLength(1);
    expect(op.log[0]?.base).toBeUndefined();
    expect(op.log[0]?.operands.map((b) => Number(big(b)))).toEqual([1, 2, 3, 4, 5]);
    const l1 = [...tree.currentVersion().level(1).tables()][0];
    expect(l1?.table.meta.mergeOperandCount).toBe(1);
    expect(counter(tree, "k", seqno.get())).toBe(1015);
    // More operands, then everything to the bottom: one value.
    tree.merge("k", le64(100), s());
    expect(counter(tree, "k", seqno.get())).toBe(1115);
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(1 << 20, seqno.get());
    expect(tree.approximateLen()).toBe(2);
    op.calls = 0;
    expect(counter(tree, "k", seqno.get())).toBe(1115);
    expect(op.calls).toBe(0);
  });

  it("a partial operand stays an operand when the compaction is not at the bottom: the base below is still used", async () => {
    const { tree, s, seqno } = await open({ mergeOperator: appendMerge({ separator: "," }) });
    tree.insert("k", "base", s());
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(1 << 20, 0);
    tree.merge("k", "a", s());
    tree.merge("k", "b", s());
    await tree.flushActiveMemtable(seqno.get());
    // The flush collapsed a and b (no base in the memtable): "a,b" as one operand.
    expect(tree.approximateLen()).toBe(2);
    expect(str(tree.get("k", seqno.get()))).toBe("base,a,b");
    tree.merge("k", "c", s());
    await tree.flushActiveMemtable(seqno.get());
    await tree.compact(pullDown(0, 1), seqno.get());
    expect(tree.approximateLen()).toBe(2);
    expect(str(tree.get("k", seqno.get()))).toBe("base,a,b,c");
    await tree.majorCompact(1 << 20, seqno.get());
    expect(tree.approximateLen()).toBe(1);
    expect(str(tree.get("k", seqno.get()))).toBe("base,a,b,c");
  });

  it("a tombstone, a weak tombstone or a covering range tombstone below W ends the collapse with no base", async () => {
    for (const kind of ["remove", "removeWeak", "removeRange"] as const) {
      const op = counting(counterMerge);
      const { tree, s, seqno } = await open({ mergeOperator: op });
      tree.insert("k", le64(1000), s());
      await tree.flushActiveMemtable(0);
      await tree.majorCompact(1 << 20, 0);
      if (kind === "remove") tree.remove("k", s());
      else if (kind === "removeWeak") tree.removeWeak("k", s());
      else tree.removeRange("j", "l", s());
      tree.merge("k", le64(1), s());
      tree.merge("k", le64(2), s());
      op.log.length = 0;
      // The flush is not at the bottom (the base is in L6), but the deletion bounds the operands.
      await tree.flushActiveMemtable(seqno.get());
      expect(counter(tree, "k", seqno.get()), kind).toBe(3);
      expect(op.log.some((call) => call.base === undefined && call.operands.length === 2), kind).toBe(true);
      const l0 = [...tree.currentVersion().level(0).tables()];
      expect(l0.reduce((n, t) => n + t.table.meta.mergeOperandCount, 0), kind).toBe(0);
      await tree.majorCompact(1 << 20, seqno.get());
      expect(counter(tree, "k", seqno.get()), kind).toBe(3);
      expect(tree.approximateLen(), kind).toBe(1);
    }
  });

  it("a range tombstone above W is not a boundary for the collapse below it", async () => {
    const o = await open();
    const log = new WriteLog(counterMerge);
    log.insert(o.tree, "k", le64(100), o.s());
    log.merge(o.tree, "k", le64(1), o.s());
    const W = o.seqno.get();
    log.removeRange(o.tree, "a", "z", o.s());
    log.merge(o.tree, "k", le64(5), o.s());
    await o.tree.flushActiveMemtable(W);
    for (let at = W; at <= o.seqno.get(); at++) checkPointAndScans(o.tree, log, at);
    expect(counter(o.tree, "k", W)).toBe(101);
    expect(counter(o.tree, "k", o.seqno.get())).toBe(5);
    await o.tree.majorCompact(1 << 20, W);
    for (let at = W; at <= o.seqno.get(); at++) checkPointAndScans(o.tree, log, at);
    await o.tree.majorCompact(1 << 20, o.seqno.get());
    expect(counter(o.tree, "k", o.seqno.get())).toBe(5);
    expect(o.tree.approximateLen()).toBe(1);
  });

  it("many flushes and compactions with a rising watermark keep a counter exact and its history small", async () => {
    const { tree, s, seqno } = await open({ mergeOperator: counterMerge, flushTableSize: 4096 });
    let expected = 0n;
    let w = 0;
    for (let round = 0; round < 30; round++) {
      for (let i = 0; i < 20; i++) {
        const inc = BigInt((round * 7 + i * 13) % 50) - 20n;
        expected += inc;
        tree.merge(`c${i % 4}`, le64(inc), s());
      }
      const snap = seqno.get();
      const snapValue = [0, 1, 2, 3].map((i) => counter(tree, `c${i}`, snap));
      if (round % 3 === 0) w = seqno.get();
      await tree.flushActiveMemtable(w);
      if (round % 4 === 3) await tree.compact(new Leveled({ l0Threshold: 2, tableTargetSize: 4096 }), w);
      if (round % 7 === 6) await tree.compact(new SizeTiered({ minMergeWidth: 2 }), w);
      if (snap >= w) expect([0, 1, 2, 3].map((i) => counter(tree, `c${i}`, snap))).toEqual(snapValue);
      const total = [0, 1, 2, 3].reduce((sum, i) => sum + BigInt(counter(tree, `c${i}`, seqno.get()) ?? 0), 0n);
      expect(total).toBe(expected);
    }
    await tree.majorCompact(1 << 20, seqno.get());
    expect(tree.approximateLen()).toBe(4);
    const total = [0, 1, 2, 3].reduce((sum, i) => sum + BigInt(counter(tree, `c${i}`, SEQNO_MAX) ?? 0), 0n);
    expect(total).toBe(expected);
  });

  it("without an operator nothing is collapsed, whatever the watermark", async () => {
    const { tree, s, seqno } = await open({});
    tree.insert("k", "base", s());
    tree.merge("k", "a", s());
    tree.merge("k", "b", s());
    await tree.flushActiveMemtable(seqno.get());
    await tree.majorCompact(1 << 20, seqno.get());
    expect(tree.approximateLen()).toBe(3);
    expect(str(tree.get("k", seqno.get()))).toBe("b");
  });
});

// ================================================================================================
// Failing operators
// ================================================================================================

/** An operator that throws `boom` while `fail` is set (or for the keys `failFor` accepts). */
function switchable(boom: unknown = new OperatorBoom()) {
  const op = {
    name: "counter-le64",
    fail: false,
    failFor: (_key: string): boolean => false,
    boom,
    merge(key: Uint8Array, base: Uint8Array | undefined, operands: readonly Uint8Array[]): Uint8Array {
      if (op.fail || op.failFor(Buffer.from(key).toString("latin1"))) throw op.boom;
      return counterMerge.merge(key, base, operands);
    },
  };
  return op;
}

describe("a failing operator", () => {
  it("fails every read that merges, with MERGE_OPERATOR and the error as cause; other reads work", async () => {
    const op = switchable();
    const { tree, s, seqno } = await open({ mergeOperator: op });
    tree.insert("a", le64(1), s());
    tree.merge("b", le64(2), s());
    tree.insert("c", le64(3), s());
    tree.merge("d", le64(4), s());
    tree.insert("d0", le64(5), s());
    op.failFor = (k) => k === "b" || k === "d";
    const S = seqno.get();
    expectMergeThrow(() => tree.get("b", S), op.boom);
    expectMergeThrow(() => tree.containsKey("b", S), op.boom);
    expectMergeThrow(() => tree.sizeOf("b", S), op.boom);
    expectMergeThrow(() => tree.multiGet(["a", "b"], S), op.boom);
    expectMergeThrow(() => [...tree.iter(S)], op.boom);
    expectMergeThrow(() => [...tree.iter(S, { reverse: true })], op.boom);
    expectMergeThrow(() => [...tree.range({ gte: "b", lt: "c" }, S)], op.boom);
    expectMergeThrow(() => [...tree.range({ gte: "b", lt: "c", reverse: true, limit: 1 }, S)], op.boom);
    expectMergeThrow(() => [...tree.prefix("d", S)], op.boom);
    expectMergeThrow(() => [...tree.prefix("d", S, { reverse: true })], op.boom);
    expectMergeThrow(() => tree.len(S), op.boom);
    tree.remove("a", s());
    tree.remove("d0", s());
    tree.remove("c", s());
    expectMergeThrow(() => tree.firstKeyValue(seqno.get()), op.boom);
    expectMergeThrow(() => tree.lastKeyValue(seqno.get()), op.boom);
    // Reads that need no merge still work.
    expect(counter(tree, "a", S)).toBe(1);
    expect(tree.multiGet(["a", "c"], S).map(num)).toEqual([1, 3]);
    expect([...tree.range({ gte: "c", lt: "d" }, S)].map(([, v]) => num(v))).toEqual([3]);
    expect(tree.get("b", 1)).toBeUndefined();
    // Before b's operand is visible, scans never merge it.
    expect([...tree.iter(1)].map(([k]) => str(k))).toEqual(["a"]);
    // Once fixed, the same reads answer.
    op.failFor = () => false;
    expect(counter(tree, "b", S)).toBe(2);
    expect(tree.len(S)).toBe(5);
  });

  it("an error's message names the operator; a non-Error throw is the cause too", async () => {
    const { tree, s, seqno } = await open({
      mergeOperator: {
        name: "grumpy",
        merge: () => {
          throw "nope";
        },
      },
    });
    tree.merge("k", "x", s());
    const error = expectMergeThrow(() => tree.get("k", seqno.get()), "nope");
    expect(error.message).toContain("grumpy");
  });

  it("an operator returning something other than bytes fails the read with MERGE_OPERATOR", async () => {
    for (const result of [undefined, "text", [1, 2], 42, null]) {
      const { tree, s, seqno } = await open({ mergeOperator: { name: "bad", merge: () => result as unknown as Uint8Array } });
      tree.merge("k", "x", s());
      expectMergeThrow(() => tree.get("k", seqno.get()));
      expectMergeThrow(() => [...tree.iter(seqno.get())]);
    }
  });

  it("counterMerge over a base that is not 8 bytes fails the read with MERGE_OPERATOR", async () => {
    const { tree, s, seqno } = await open();
    tree.insert("k", "hello", s());
    tree.merge("k", le64(1), s());
    const error = expectMergeThrow(() => tree.get("k", seqno.get()));
    expect(error.cause).toBeInstanceOf(Error);
    tree.merge("j", "short", s());
    expectMergeThrow(() => tree.get("j", seqno.get()));
    // A value newer than the bad operands reads without merging.
    tree.insert("k", le64(9), s());
    expect(counter(tree, "k", seqno.get())).toBe(9);
  });

  it("fails a flush with MERGE_OPERATOR; the tree is unchanged and still readable, and a later flush works", async () => {
    const op = switchable();
    const o = await open({ mergeOperator: op });
    const log = new WriteLog(counterMerge);
    log.insert(o.tree, "a", le64(1), o.s());
    await o.tree.flushActiveMemtable(0);
    log.insert(o.tree, "k", le64(100), o.s());
    log.merge(o.tree, "k", le64(1), o.s());
    log.merge(o.tree, "k", le64(2), o.s());
    log.merge(o.tree, "m", le64(7), o.s());
    const S = o.seqno.get();
    const before = snapshotOf(o.tree, ["a", "k", "m", "x"], S);
    const tables = tableFiles(o.fs, "/db/tables");
    op.fail = true;
    const error = await o.tree.flushActiveMemtable(o.seqno.get()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isMergeError(error, op.boom), String(error)).toBe(true);
    op.fail = false;
    expect(snapshotOf(o.tree, ["a", "k", "m", "x"], S)).toEqual(before);
    expect(o.tree.tableCount()).toBe(1);
    expect(tableFiles(o.fs, "/db/tables")).toEqual(tables);
    checkAllReads(o.tree, log, o.seqno.get());
    // Writes and a later flush work; nothing was lost.
    log.merge(o.tree, "k", le64(3), o.s());
    await o.tree.flushActiveMemtable(o.seqno.get());
    checkAllReads(o.tree, log, o.seqno.get());
    expect(counter(o.tree, "k", o.seqno.get())).toBe(106);
    const tree = await o.reopen();
    checkAllReads(tree, log, o.seqno.get());
  });

  it("fails a compaction with MERGE_OPERATOR; the tree, its files and every read stay as they were", async () => {
    const op = switchable();
    const o = await open({ mergeOperator: op });
    const log = new WriteLog(counterMerge);
    log.insert(o.tree, "k", le64(100), o.s());
    log.insert(o.tree, "z", le64(1), o.s());
    await o.tree.flushActiveMemtable(0);
    log.merge(o.tree, "k", le64(1), o.s());
    log.merge(o.tree, "k", le64(2), o.s());
    await o.tree.flushActiveMemtable(0);
    log.merge(o.tree, "k", le64(3), o.s());
    const keys = ["k", "z", "q"];
    const snaps = Array.from({ length: o.seqno.get() + 1 }, (_, i) => i);
    const before = snaps.map((at) => snapshotOf(o.tree, keys, at));
    const files = tableFiles(o.fs, "/db/tables");
    const tables = o.tree.tableCount();
    const levels = [0, 1, 6].map((l) => o.tree.levelTableCount(l));
    op.fail = true;
    for (const job of [() => o.tree.majorCompact(1 << 20, o.seqno.get()), () => o.tree.compact(new Leveled({ l0Threshold: 1 }), o.seqno.get())]) {
      const error = await job().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isMergeError(error, op.boom), String(error)).toBe(true);
    }
    op.fail = false;
    expect(snaps.map((at) => snapshotOf(o.tree, keys, at))).toEqual(before);
    expect(o.tree.tableCount()).toBe(tables);
    expect([0, 1, 6].map((l) => o.tree.levelTableCount(l))).toEqual(levels);
    expect(tableFiles(o.fs, "/db/tables")).toEqual(files);
    for (let at = 0; at <= o.seqno.get(); at++) checkPointAndScans(o.tree, log, at);
    o.tree.verify();
    // The tree works on: writes, flushes, and a compaction with the operator healthy again.
    log.merge(o.tree, "k", le64(4), o.s());
    await o.tree.flushActiveMemtable(0);
    await o.tree.majorCompact(1 << 20, o.seqno.get());
    expect(counter(o.tree, "k", o.seqno.get())).toBe(110);
    const tree = await o.reopen();
    checkAllReads(tree, log, o.seqno.get());
  });

  it("a compaction at watermark 0 does not call the operator, so a failing one does not fail it", async () => {
    const op = switchable();
    const { tree, s, seqno } = await open({ mergeOperator: op });
    tree.insert("k", le64(1), s());
    tree.merge("k", le64(1), s());
    await tree.flushActiveMemtable(0);
    op.fail = true;
    await tree.majorCompact(1 << 20, 0);
    op.fail = false;
    expect(counter(tree, "k", seqno.get())).toBe(2);
  });
});

// ================================================================================================
// The operator's name on disk
// ================================================================================================

describe("the operator's name is recorded in tables, and reopening with another is refused", () => {
  async function withOperands(mergeOperator: MergeOperator | undefined, operand: Uint8Array = le64(5)) {
    const o = await open(mergeOperator === undefined ? {} : { mergeOperator });
    o.tree.insert("plain", le64(1), o.s());
    o.tree.merge("k", operand, o.s());
    await o.tree.flushActiveMemtable(0);
    await o.tree.close();
    return o;
  }

  const reopenError = (o: Opened, mergeOperator: MergeOperator | undefined) =>
    Tree.open({ path: "/db", fs: o.fs, seqno: o.seqno, ...(mergeOperator === undefined ? {} : { mergeOperator }) }).then(
      async (tree) => {
        await tree.close();
        return undefined;
      },
      (e: unknown) => e,
    );

  it("tables written with an operator carry its name", async () => {
    const o = await open({ mergeOperator: appendMerge({ separator: "," }) });
    o.tree.merge("k", "x", o.s());
    await o.tree.flushActiveMemtable(0);
    const [table] = [...o.tree.currentVersion().tables()];
    expect(table?.table.meta.mergeOperator).toBe(appendMerge({ separator: "," }).name);
    expect(table?.table.meta.mergeOperandCount).toBe(1);
    const plain = await open({});
    plain.tree.merge("k", "x", plain.s());
    await plain.tree.flushActiveMemtable(0);
    expect([...plain.tree.currentVersion().tables()][0]?.table.meta.mergeOperator).toBeNull();
  });

  it("operands written under counter-le64: reopening with another operator or none fails with MERGE_OPERATOR", async () => {
    const o = await withOperands(counterMerge);
    for (const other of [appendMerge(), appendMerge({ separator: "," }), undefined, { name: "counter-le64-v2", merge: counterMerge.merge }]) {
      const error = await reopenError(o, other);
      expect(error, other?.name ?? "none").toBeInstanceOf(LsmError);
      expect((error as LsmError).code).toBe("MERGE_OPERATOR");
      expect((error as LsmError).message).toContain("counter-le64");
    }
    // The refusals left the tree alone: it opens with its operator and reads as before.
    const tree = await Tree.open({ path: "/db", fs: o.fs, seqno: o.seqno, mergeOperator: counterMerge });
    expect(counter(tree, "k", SEQNO_MAX)).toBe(5);
    expect(counter(tree, "plain", SEQNO_MAX)).toBe(1);
    await tree.close();
  });

  it("an operator of the same name (another object) is accepted", async () => {
    const o = await withOperands(counterMerge);
    const lookalike = counting(counterMerge, "counter-le64");
    const tree = await Tree.open({ path: "/db", fs: o.fs, seqno: o.seqno, mergeOperator: lookalike });
    expect(counter(tree, "k", SEQNO_MAX)).toBe(5);
    expect(lookalike.calls).toBe(1);
    await tree.close();
  });

  it("appendMerge with another separator is another operator", async () => {
    const o = await withOperands(appendMerge({ separator: "," }), te.encode("x"));
    const error = await reopenError(o, appendMerge({ separator: ";" }));
    expect(isMergeError(error)).toBe(true);
    expect(await reopenError(o, appendMerge({ separator: "," }))).toBeUndefined();
  });

  it("operands written with no operator may be reopened with one, which then merges them", async () => {
    const o = await withOperands(undefined);
    const tree = await Tree.open({ path: "/db", fs: o.fs, seqno: o.seqno, mergeOperator: counterMerge });
    tree.merge("k", le64(10), o.seqno.next());
    expect(counter(tree, "k", SEQNO_MAX)).toBe(15);
    await tree.flushActiveMemtable(0);
    await tree.close();
    // Now a table names counter-le64: reopening without an operator is refused.
    expect(isMergeError(await reopenError(o, undefined))).toBe(true);
    expect(isMergeError(await reopenError(o, appendMerge()))).toBe(true);
    expect(await reopenError(o, counterMerge)).toBeUndefined();
  });

  it("tables without operands do not bind the tree to an operator", async () => {
    const o = await open({ mergeOperator: counterMerge });
    o.tree.insert("k", le64(1), o.s());
    await o.tree.flushActiveMemtable(0);
    await o.tree.close();
    expect(await reopenError(o, undefined)).toBeUndefined();
    expect(await reopenError(o, appendMerge())).toBeUndefined();
  });

  it("operands collapsed into values at the bottom no longer bind the tree", async () => {
    const o = await open({ mergeOperator: counterMerge });
    o.tree.insert("k", le64(1), o.s());
    o.tree.merge("k", le64(1), o.s());
    o.tree.merge("j", le64(1), o.s());
    await o.tree.flushActiveMemtable(0);
    await o.tree.close();
    expect(isMergeError(await reopenError(o, undefined))).toBe(true);
    const tree = await Tree.open({ path: "/db", fs: o.fs, seqno: o.seqno, mergeOperator: counterMerge });
    await tree.majorCompact(1 << 20, o.seqno.get());
    await tree.close();
    const plain = await Tree.open({ path: "/db", fs: o.fs, seqno: o.seqno });
    expect(num(plain.get("k", SEQNO_MAX))).toBe(2);
    expect(num(plain.get("j", SEQNO_MAX))).toBe(1);
    await plain.close();
  });

  it("a refused open releases the directory lock", async () => {
    const o = await withOperands(counterMerge);
    expect(isMergeError(await reopenError(o, undefined))).toBe(true);
    expect(isMergeError(await reopenError(o, appendMerge()))).toBe(true);
    const tree = await Tree.open({ path: "/db", fs: o.fs, seqno: o.seqno, mergeOperator: counterMerge });
    await tree.close();
  });
});

// ================================================================================================
// Reopen keeps the answers
// ================================================================================================

describe("a reopened tree answers as before", () => {
  for (const layout of LAYOUTS.slice(1)) {
    it(`${layout.name}, flushed and reopened`, async () => {
      const o = await open({ mergeOperator: counterMerge, blockSize: 64 });
      const log = new WriteLog(counterMerge);
      for (let phase = 0; phase < 4; phase++) {
        writePhase(o, log, phase, (n) => le64(n));
        if (phase < 3) await (layout.after[phase] as (o: Opened) => Promise<unknown>)(o);
      }
      await o.tree.flushActiveMemtable(0);
      const S = o.seqno.get();
      const keys = [...log.keys(), ...ABSENT];
      const before = snapshotOf(o.tree, keys, S);
      const tree = await o.reopen();
      expect(snapshotOf(tree, keys, S)).toEqual(before);
      checkAllReads(tree, log, S, { absent: ABSENT });
      // And after compacting everything at the current watermark, reopened once more.
      await tree.majorCompact(1 << 20, o.seqno.get());
      const again = await o.reopen();
      expect(snapshotOf(again, keys, o.seqno.get())).toEqual(before);
      await again.close();
    });
  }
});
