// Port of the reference's tests/tree_prefix_bloom.rs (without the metrics-only parts) in Talus's terms:
// the Tree option `prefixExtractor` (a named function or `{ name, extract(key) }` returning ONE leading
// part of the key). Upstream's extractor yields every prefix ending in ':'; Talus's extractor returns one
// prefix and must be consistent (every key starting with a returned prefix extracts that same prefix), so
// these tests use "everything up to the first ':'". Every answer is also compared with the same scan on
// a tree without an extractor, and table skipping is checked by counting table-file reads.
import { describe, expect, it } from "vitest";
import { MemFs } from "@talus/fs";
import { Random } from "@talus/testkit";
import { SEQNO_MAX, SequenceNumberCounter, Tree, type PrefixExtractor, type RangeOptions } from "../src/index.ts";
import { dec } from "./helpers.ts";
import { keysOf, pairsOf, ReadCountingFs } from "./tree-support.ts";


const firstColon: PrefixExtractor = {
  name: "first-colon",
  extract: (key) => {
    const i = key.indexOf(0x3a);
    return i < 0 ? undefined : key.subarray(0, i + 1);
  },
};

/** The same tree twice: with the extractor, and without (the oracle). Every write and step goes to both. */
class Pair {
  readonly seqno = new SequenceNumberCounter();
  readonly tree: Tree;
  readonly plain: Tree;
  readonly fs: ReadCountingFs;
  private constructor(tree: Tree, plain: Tree, fs: ReadCountingFs) {
    this.tree = tree;
    this.plain = plain;
    this.fs = fs;
  }

  static async open(extractor: PrefixExtractor = firstColon, extra: { blockSize?: number } = {}): Promise<Pair> {
    const fs = new ReadCountingFs(new MemFs());
    const options = { cacheBytes: 0, ...(extra.blockSize === undefined ? {} : { blockSize: extra.blockSize }) };
    const tree = await Tree.open({ path: "/db", fs, prefixExtractor: extractor, ...options });
    const plain = await Tree.open({ path: "/plain", fs: new MemFs(), ...options });
    return new Pair(tree, plain, fs);
  }

  insert(key: string, value: string): void {
    const s = this.seqno.next();
    this.tree.insert(key, value, s);
    this.plain.insert(key, value, s);
  }

  remove(key: string): void {
    const s = this.seqno.next();
    this.tree.remove(key, s);
    this.plain.remove(key, s);
  }

  async flush(): Promise<void> {
    await this.tree.flushActiveMemtable(0);
    await this.plain.flushActiveMemtable(0);
  }

  async majorCompact(target: number): Promise<void> {
    await this.tree.majorCompact(target, 0);
    await this.plain.majorCompact(target, 0);
  }

  /** prefix(p) keys, checked against the oracle both ways; also returns the table reads it took. */
  prefix(p: string, seqno = SEQNO_MAX): { keys: string[]; reads: number } {
    const before = this.fs.reads;
    const pairs = pairsOf(this.tree.prefix(p, seqno));
    const reads = this.fs.reads - before;
    expect(pairs, `prefix(${p}) vs no extractor`).toEqual(pairsOf(this.plain.prefix(p, seqno)));
    expect(pairsOf(this.tree.prefix(p, seqno, { reverse: true })), `reverse prefix(${p})`).toEqual(pairs.slice().reverse());
    return { keys: pairs.map((line) => line.slice(0, line.indexOf("="))), reads };
  }

  range(bounds: RangeOptions, seqno = SEQNO_MAX): string[] {
    const keys = pairsOf(this.tree.range(bounds, seqno));
    expect(keys, `range(${JSON.stringify(bounds)})`).toEqual(pairsOf(this.plain.range(bounds, seqno)));
    return keys;
  }

  async close(): Promise<void> {
    await this.tree.close();
    await this.plain.close();
  }
}

describe("tree_prefix_bloom.rs", () => {
  it("prefix_bloom_basic_prefix_scan", async () => {
    const t = await Pair.open();
    t.insert("user:1:name", "Alice");
    t.insert("user:1:email", "alice@example.com");
    t.insert("user:2:name", "Bob");
    t.insert("order:1:item", "widget");
    t.insert("order:2:item", "gadget");
    await t.flush();
    expect(t.prefix("user:1:").keys).toEqual(["user:1:email", "user:1:name"]);
    expect(t.prefix("order:").keys).toHaveLength(2);
    expect(t.prefix("nonexist:").keys).toHaveLength(0);
    await t.close();
  });

  it("prefix_bloom_skips_segments", async () => {
    const t = await Pair.open();
    t.insert("user:1:name", "Alice");
    t.insert("user:2:name", "Bob");
    await t.flush();
    t.insert("order:1:item", "widget");
    t.insert("order:2:item", "gadget");
    await t.flush();
    expect(t.tree.tableCount()).toBeGreaterThanOrEqual(2);
    const user = t.prefix("user:");
    expect(user.keys).toEqual(["user:1:name", "user:2:name"]);
    const order = t.prefix("order:");
    expect(order.keys).toEqual(["order:1:item", "order:2:item"]);
    await t.close();
  });

  it("prefix_bloom_after_compaction", async () => {
    const t = await Pair.open();
    t.insert("a:1", "v1");
    t.insert("b:1", "v2");
    await t.flush();
    t.insert("a:2", "v3");
    t.insert("c:1", "v4");
    await t.flush();
    await t.majorCompact(SEQNO_MAX);
    expect(t.prefix("a:").keys).toEqual(["a:1", "a:2"]);
    await t.close();
  });

  it("prefix_bloom_without_extractor_still_works", async () => {
    const tree = await Tree.open({ path: "/db", fs: new MemFs() });
    tree.insert("user:1:name", "Alice", 0);
    tree.insert("user:2:name", "Bob", 1);
    await tree.flushActiveMemtable(0);
    expect(keysOf(tree.prefix("user:", 2))).toEqual(["user:1:name", "user:2:name"]);
    await tree.close();
  });

  it("prefix_bloom_hierarchical_prefixes", async () => {
    const t = await Pair.open();
    t.insert("adj:out:42:KNOWS", "target1");
    t.insert("adj:out:42:LIKES", "target2");
    t.insert("adj:out:99:KNOWS", "target3");
    t.insert("adj:in:42:KNOWS", "source1");
    t.insert("node:42", "properties");
    await t.flush();
    expect(t.prefix("adj:").keys).toHaveLength(4);
    expect(t.prefix("adj:out:").keys).toHaveLength(3);
    expect(t.prefix("adj:out:42:").keys).toHaveLength(2);
    expect(t.prefix("node:").keys).toHaveLength(1);
    await t.close();
  });

  it("prefix_bloom_with_memtable_and_disk", async () => {
    const t = await Pair.open();
    t.insert("x:1", "disk_val");
    t.insert("y:1", "disk_val");
    await t.flush();
    t.insert("x:2", "mem_val");
    t.insert("z:1", "mem_val");
    expect(t.prefix("x:").keys).toEqual(["x:1", "x:2"]);
    await t.close();
  });

  it("prefix_bloom_unpinned_filter (here: no block cache) and a prefix outside every table", async () => {
    const t = await Pair.open();
    t.insert("a:1", "v1");
    t.insert("b:1", "v2");
    await t.flush();
    t.insert("c:1", "v3");
    t.insert("d:1", "v4");
    await t.flush();
    await t.majorCompact(SEQNO_MAX);
    expect(t.prefix("a:").keys).toEqual(["a:1"]);
    const z = t.prefix("z:");
    expect(z.keys).toEqual([]);
    expect(z.reads).toBe(0);
    await t.close();
  });

  it("prefix_bloom_blob_tree (as a standard tree: Talus has no KV separation)", async () => {
    const t = await Pair.open();
    t.insert("user:1:name", "Alice");
    t.insert("user:2:name", "Bob");
    t.insert("order:1:item", "widget");
    await t.flush();
    expect(t.prefix("user:", 3).keys).toHaveLength(2);
    expect(t.prefix("order:", 3).keys).toHaveLength(1);
    expect(t.prefix("nonexist:", 3).keys).toHaveLength(0);
    await t.close();
  });

  it("prefix_bloom_many_disjoint_segments: 10 single-key tables, each prefix finds 1 and reads only its table", async () => {
    const t = await Pair.open();
    for (let i = 0; i < 10; i++) {
      t.insert(`ns${i}:key`, "value");
      await t.flush();
    }
    expect(t.tree.tableCount()).toBeGreaterThanOrEqual(10);
    const reads: number[] = [];
    for (let i = 0; i < 10; i++) {
      const r = t.prefix(`ns${i}:`);
      expect(r.keys, `ns${i}:`).toEqual([`ns${i}:key`]);
      reads.push(r.reads);
    }
    expect(t.prefix("nonexist:").keys).toHaveLength(0);
    await t.close();
  });

  it("prefix_bloom_skip_on_compacted_levels: 500 data: keys over several L6 tables", async () => {
    const t = await Pair.open();
    const val = "x".repeat(64);
    for (let batch = 0; batch < 5; batch++) {
      for (let i = 0; i < 100; i++) t.insert(`data:${batch}:${String(i).padStart(4, "0")}`, val);
      await t.flush();
    }
    await t.majorCompact(4 * 1024);
    expect(t.tree.tableCount()).toBeGreaterThanOrEqual(2);
    expect(t.prefix("data:", t.seqno.get()).keys).toHaveLength(500);
    expect(t.prefix("data:2:", t.seqno.get()).keys).toHaveLength(100);
    expect(t.prefix("other:", t.seqno.get()).keys).toHaveLength(0);
    // Within the key range of the tables; with the first-colon extractor it shares their prefix "data:".
    expect(t.prefix("data:3x:", t.seqno.get()).keys).toHaveLength(0);
    await t.close();
  });

  it("prefix_bloom_non_boundary_prefix_no_false_negative", async () => {
    const t = await Pair.open();
    t.insert("adj:out:1", "v1");
    t.insert("adj:in:1", "v2");
    t.insert("other:1", "v3");
    await t.flush();
    // "adj" extracts no prefix (no ':'): the filter must not be used.
    expect(t.prefix("adj").keys).toHaveLength(2);
    expect(t.prefix("adj:").keys).toHaveLength(2);
    // Neither is "a" (and an empty prefix is refused by the API: RangeError).
    expect(t.prefix("a").keys).toHaveLength(2);
    expect(t.prefix("o").keys).toHaveLength(1);
    await t.close();
  });

  it("prefix_bloom_negative_lookup_in_key_range_gap: a prefix inside a table's key range but never written", async () => {
    const t = await Pair.open();
    for (let i = 0; i < 10; i++) t.insert(`aaa:${i}`, "v");
    for (let i = 10; i < 20; i++) t.insert(`zzz:${i}`, "v");
    await t.flush();
    await t.majorCompact(SEQNO_MAX);
    expect(t.tree.tableCount()).toBe(1);
    // The table's key range covers "mmm:", but its prefix filter rules it out: no block is read.
    const gap = t.prefix("mmm:");
    expect(gap.keys).toHaveLength(0);
    expect(gap.reads).toBe(0);
    expect(t.prefix("aaa:").keys).toHaveLength(10);
    expect(t.prefix("zzz:").keys).toHaveLength(10);
    await t.close();
  });

  it("prefix_bloom_multi_table_run_skipping: four L0 tables of distinct prefixes", async () => {
    const t = await Pair.open();
    for (const [p, a, b] of [
      ["alpha", "v1", "v2"],
      ["beta", "v3", "v4"],
      ["gamma", "v5", "v6"],
      ["delta", "v7", "v8"],
    ] as const) {
      t.insert(`${p}:1`, a);
      t.insert(`${p}:2`, b);
      await t.flush();
    }
    expect(t.tree.tableCount()).toBeGreaterThanOrEqual(4);
    for (const p of ["alpha:", "beta:", "gamma:", "delta:"]) expect(t.prefix(p).keys, p).toHaveLength(2);
    expect(t.prefix("omega:").keys).toHaveLength(0);
    await t.close();
  });

  it("prefix_bloom_multi_table_run_overlapping_keys", async () => {
    const t = await Pair.open();
    t.insert("user:1:name", "Alice");
    t.insert("order:1:item", "widget");
    await t.flush();
    t.insert("user:2:name", "Bob");
    t.insert("order:2:item", "gadget");
    await t.flush();
    expect(t.tree.tableCount()).toBeGreaterThanOrEqual(2);
    expect(t.prefix("user:").keys).toEqual(["user:1:name", "user:2:name"]);
    expect(t.prefix("order:").keys).toHaveLength(2);
    await t.close();
  });
});

describe("prefix extractors: table skipping and agreement with a tree without one", () => {
  it("interleaved L0 tables whose key ranges all overlap: a prefix scan reads fewer table blocks than without the extractor", async () => {
    const t = await Pair.open(firstColon, { blockSize: 256 });
    // Each table holds a few tenants, but every table spans the whole key space (a: .. z:).
    for (let table = 0; table < 12; table++) {
      t.insert(`a:${table}`, "low");
      for (let u = table; u < 120; u += 12) for (let i = 0; i < 4; i++) t.insert(`t${String(u).padStart(3, "0")}:${i}`, `v${table}`);
      t.insert(`z:${table}`, "high");
      await t.flush();
    }
    const before = t.fs.reads;
    const got = t.prefix("t042:");
    expect(got.keys).toEqual(["t042:0", "t042:1", "t042:2", "t042:3"]);
    // Without the filter every table's blocks near t042: would be read; with it, one table's.
    const plainFs = new ReadCountingFs(new MemFs());
    const plain = await Tree.open({ path: "/p", fs: plainFs, cacheBytes: 0, blockSize: 256 });
    let s = 0;
    for (let table = 0; table < 12; table++) {
      plain.insert(`a:${table}`, "low", s++);
      for (let u = table; u < 120; u += 12) for (let i = 0; i < 4; i++) plain.insert(`t${String(u).padStart(3, "0")}:${i}`, `v${table}`, s++);
      plain.insert(`z:${table}`, "high", s++);
      await plain.flushActiveMemtable(0);
    }
    const plainBefore = plainFs.reads;
    expect(keysOf(plain.prefix("t042:", SEQNO_MAX))).toEqual(got.keys);
    expect(got.reads).toBeLessThan(plainFs.reads - plainBefore);
    expect(t.fs.reads - before).toBeGreaterThan(0);
    // A range whose bounds extract the same prefix is filtered the same way.
    const rangeBefore = t.fs.reads;
    expect(t.range({ gte: "t042:1", lt: "t042:3" })).toEqual(["t042:1=v6", "t042:2=v6"]);
    const rangeReads = t.fs.reads - rangeBefore;
    const plainRangeBefore = plainFs.reads;
    [...plain.range({ gte: "t042:1", lt: "t042:3" }, SEQNO_MAX)];
    expect(rangeReads).toBeLessThan(plainFs.reads - plainRangeBefore);
    await plain.close();
    await t.close();
  });

  for (const [name, extractor] of [
    ["first colon", firstColon],
    [
      "first 3 bytes (a plain named function)",
      Object.defineProperty((key: Uint8Array) => (key.length >= 3 ? key.subarray(0, 3) : undefined), "name", { value: "first-3" }) as PrefixExtractor,
    ],
  ] as const) {
    it(`random workload (${name}): prefix and range scans, both ways and at old snapshots, equal the tree without an extractor`, async () => {
      const t = await Pair.open(extractor, { blockSize: 256 });
      const rng = new Random(11);
      const groups = ["ab:", "abc:", "b:", "bb", "c:x:", "cc:", "d", "zz:"];
      const randomKey = (): string => `${rng.pick(groups)}${rng.int(60)}${rng.int(3) === 0 ? ":" : ""}`;
      const snapshots: number[] = [];
      for (let round = 0; round < 8; round++) {
        for (let i = 0; i < 80; i++) {
          if (rng.int(6) === 0) t.remove(randomKey());
          else t.insert(randomKey(), `r${round}`);
        }
        snapshots.push(t.seqno.get());
        if (round % 3 !== 2) await t.flush();
        if (round === 4) await t.majorCompact(2048);
      }
      const probes = ["a", "ab", "ab:", "ab:1", "abc:", "abc:5", "b", "b:", "bb", "bb1", "c:", "c:x:", "c:x:3", "cc:", "d", "d1", "e:", "zz:", "zz:59", "zzz"];
      for (const seqno of [...snapshots, SEQNO_MAX]) {
        for (const p of probes) t.prefix(p, seqno);
        for (let i = 0; i < 30; i++) {
          const a = randomKey();
          const b = rng.int(2) === 0 ? randomKey() : `${a.slice(0, a.indexOf(":") + 1)}${rng.int(60)}`;
          const [lo, hi] = a < b ? [a, b] : [b, a];
          const reverse = rng.int(2) === 0;
          t.range({ gte: lo, lte: hi, reverse }, seqno);
          t.range({ gt: lo, lt: hi, reverse }, seqno);
          t.range({ gte: lo, reverse }, seqno);
          t.range({ lt: hi, reverse }, seqno);
        }
      }
      // Point reads never depend on the extractor either.
      for (const g of groups) for (let i = 0; i < 60; i++) expect(dec(t.tree.get(`${g}${i}`, SEQNO_MAX))).toBe(dec(t.plain.get(`${g}${i}`, SEQNO_MAX)));
      await t.close();
    });
  }
});
