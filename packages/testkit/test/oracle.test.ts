import { describe, expect, it } from "vitest";
import { bytewiseCompare, bytewiseSuccessor, MvccOracle, type OracleBatchOp, type OracleKind, type OracleMergeOperator, type OracleRange } from "../src/oracle/index.ts";
import { Random } from "../src/random.ts";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));
const pairs = (entries: Array<[Uint8Array, Uint8Array]>): string[] => entries.map(([k, v]) => `${dec(k)}=${dec(v)}`);
const reverse = (a: Uint8Array, b: Uint8Array): number => Buffer.compare(b, a);

describe("MvccOracle: point reads", () => {
  it("sees exactly the versions below the read seqno, newest first", () => {
    const o = new MvccOracle();
    o.insert(enc("a"), enc("1"), 5);
    expect(o.get(enc("a"), 5)).toBeUndefined();
    expect(dec(o.get(enc("a"), 6))).toBe("1");
    expect(o.get(enc("a"), 0)).toBeUndefined();
    o.insert(enc("a"), enc("2"), 7);
    expect(dec(o.get(enc("a"), 7))).toBe("1");
    expect(dec(o.get(enc("a"), 8))).toBe("2");
    expect(dec(o.get(enc("a"), Number.MAX_SAFE_INTEGER))).toBe("2");
    expect(o.get(enc("b"), 100)).toBeUndefined();
  });

  it("accepts versions out of seqno order", () => {
    const o = new MvccOracle();
    o.insert(enc("a"), enc("new"), 9);
    o.insert(enc("a"), enc("old"), 3);
    o.remove(enc("a"), 6);
    expect(dec(o.get(enc("a"), 4))).toBe("old");
    expect(o.get(enc("a"), 7)).toBeUndefined();
    expect(dec(o.get(enc("a"), 10))).toBe("new");
    expect(o.versionsOf(enc("a")).map((v) => v.seqno)).toEqual([9, 6, 3]);
  });

  it("reads tombstones and weak tombstones as deletions, merge operands as their own bytes", () => {
    const o = new MvccOracle();
    o.insert(enc("a"), enc("1"), 1);
    o.remove(enc("a"), 2);
    o.insert(enc("b"), enc("1"), 3);
    o.removeWeak(enc("b"), 4);
    o.merge(enc("c"), enc("+1"), 5);
    o.merge(enc("c"), enc("+2"), 6);
    o.insert(enc("d"), enc("base"), 7);
    o.merge(enc("d"), enc("+3"), 8);
    o.remove(enc("e"), 9);
    o.merge(enc("e"), enc("+4"), 10);
    const s = 100;
    expect(o.get(enc("a"), s)).toBeUndefined();
    expect(o.get(enc("b"), s)).toBeUndefined();
    expect(dec(o.get(enc("b"), 4))).toBe("1");
    expect(dec(o.get(enc("c"), s))).toBe("+2");
    expect(dec(o.get(enc("c"), 6))).toBe("+1");
    expect(dec(o.get(enc("d"), s))).toBe("+3");
    expect(dec(o.get(enc("e"), s))).toBe("+4");
    expect(o.get(enc("e"), 10)).toBeUndefined();
    expect(o.find(enc("a"), s)?.kind).toBe("tombstone");
    expect(o.find(enc("b"), s)?.kind).toBe("weakTombstone");
    expect(o.len(s)).toBe(3);
    expect(pairs(o.range({}, s))).toEqual(["c=+2", "d=+3", "e=+4"]);
  });

  it("tells an empty value from a missing one", () => {
    const o = new MvccOracle();
    o.insert(enc("a"), new Uint8Array(0), 1);
    expect(o.get(enc("a"), 2)).toEqual(new Uint8Array(0));
    expect(o.len(2)).toBe(1);
  });

  it("rejects a second version at the same seqno, and bad arguments", () => {
    const o = new MvccOracle();
    o.insert(enc("a"), enc("1"), 1);
    expect(() => o.insert(enc("a"), enc("2"), 1)).toThrow(RangeError);
    expect(() => o.remove(enc("a"), -1)).toThrow(RangeError);
    expect(() => o.remove(enc("a"), 1.5)).toThrow(RangeError);
    expect(() => o.insert("a" as unknown as Uint8Array, enc("1"), 2)).toThrow(TypeError);
    expect(() => o.range({ limit: -2 }, 5)).toThrow(RangeError);
    expect(o.versionCount).toBe(1);
    o.insert(enc("b"), enc("1"), 1);
    expect(o.versionCount).toBe(2);
  });

  it("keeps its own copies of inputs and hands out copies", () => {
    const o = new MvccOracle();
    const key = enc("k");
    const value = enc("value");
    o.insert(key, value, 1);
    key[0] = 0x7a;
    value[0] = 0x58;
    const got = o.get(enc("k"), 2) as Uint8Array;
    got[0] = 0;
    for (const [k, v] of o.range({}, 2)) {
      k[0] = 0;
      v[0] = 0;
    }
    expect(dec(o.get(enc("k"), 2))).toBe("value");
    expect(o.keys().map(dec)).toEqual(["k"]);
  });

  it("copies Buffers too (Buffer#slice would share memory)", () => {
    const o = new MvccOracle();
    const key = Buffer.from("k");
    const value = Buffer.from("value");
    o.insert(key, value, 1);
    key.fill(0x7a);
    value.fill(0x58);
    const got = o.get(Buffer.from("k"), 2) as Uint8Array;
    got.fill(0);
    const [[k, v] = [new Uint8Array(0), new Uint8Array(0)]] = o.range({}, 2);
    k.fill(0);
    v.fill(0);
    expect(dec(o.get(Buffer.from("k"), 2))).toBe("value");
    expect(o.keys().map(dec)).toEqual(["k"]);
  });
});

describe("MvccOracle: ranges", () => {
  const o = new MvccOracle();
  ["a", "b", "c", "d", "e"].forEach((k, i) => o.insert(enc(k), enc(String(i)), i + 1));
  o.remove(enc("c"), 10);
  const s = 11;

  it("applies every bound given, inclusive or not", () => {
    expect(pairs(o.range({ gte: enc("b"), lte: enc("d") }, s))).toEqual(["b=1", "d=3"]);
    expect(pairs(o.range({ gt: enc("b"), lt: enc("e") }, s))).toEqual(["d=3"]);
    expect(pairs(o.range({ gte: enc("b"), gt: enc("b") }, s))).toEqual(["d=3", "e=4"]);
    expect(pairs(o.range({ lte: enc("d"), lt: enc("b") }, s))).toEqual(["a=0"]);
    expect(pairs(o.range({ gte: enc("bb"), lte: enc("dd") }, s))).toEqual(["d=3"]);
    expect(pairs(o.range({ gt: enc("d"), lt: enc("b") }, s))).toEqual([]);
  });

  it("reverses and limits", () => {
    expect(pairs(o.range({ reverse: true }, s))).toEqual(["e=4", "d=3", "b=1", "a=0"]);
    expect(pairs(o.range({ reverse: true, limit: 2 }, s))).toEqual(["e=4", "d=3"]);
    expect(pairs(o.range({ limit: 1, gt: enc("a") }, s))).toEqual(["b=1"]);
    expect(pairs(o.range({ limit: 0 }, s))).toEqual([]);
    expect(pairs(o.range({ limit: -1 }, s))).toHaveLength(4);
    expect(pairs(o.range({ limit: Infinity }, s))).toHaveLength(4);
  });

  it("answers at old snapshots", () => {
    expect(pairs(o.range({}, 3))).toEqual(["a=0", "b=1"]);
    expect(pairs(o.range({}, 10))).toEqual(["a=0", "b=1", "c=2", "d=3", "e=4"]);
    expect(o.len(0)).toBe(0);
    expect(o.len(10)).toBe(5);
    expect(o.len(s)).toBe(4);
  });

  it("scans prefixes byte for byte", () => {
    const p = new MvccOracle();
    for (const [i, k] of ["a", "ab", "abc", "abd", "ac", "b"].entries()) p.insert(enc(k), enc(String(i)), i + 1);
    expect(pairs(p.prefix(enc("ab"), 100))).toEqual(["ab=1", "abc=2", "abd=3"]);
    expect(pairs(p.prefix(enc("ab"), 100, { reverse: true, limit: 2 }))).toEqual(["abd=3", "abc=2"]);
    expect(pairs(p.prefix(new Uint8Array(0), 100))).toHaveLength(6);
    expect(pairs(p.prefix(enc("x"), 100))).toEqual([]);
  });

  it("orders keys by the comparator it was given", () => {
    const r = new MvccOracle(reverse);
    for (const [i, k] of ["a", "b", "c", "ab"].entries()) r.insert(enc(k), enc(String(i)), i + 1);
    expect(r.keys().map(dec)).toEqual(["c", "b", "ab", "a"]);
    expect(pairs(r.range({ gte: enc("b") }, 100))).toEqual(["b=1", "ab=3", "a=0"]);
    expect(pairs(r.range({ lt: enc("b"), reverse: true }, 100))).toEqual(["c=2"]);
    expect(pairs(r.prefix(enc("a"), 100))).toEqual(["ab=3", "a=0"]);
  });

  it("matches a brute-force model on random histories", () => {
    const rng = new Random(1234);
    for (const compare of [bytewiseCompare, reverse]) {
      const o2 = new MvccOracle(compare);
      const naive: Array<{ key: string; seqno: number; kind: OracleKind; value: string }> = [];
      const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
      const kinds: OracleKind[] = ["value", "value", "tombstone", "weakTombstone", "merge"];
      const seqnos = rng.shuffle(Array.from({ length: 150 }, (_, i) => i));
      for (const seqno of seqnos) {
        const key = rng.pick(keys);
        const kind = rng.pick(kinds);
        const value = kind === "value" || kind === "merge" ? `v${seqno}` : "";
        o2.write(enc(key), seqno, kind, enc(value));
        naive.push({ key, seqno, kind, value });
      }
      const cmp = (a: string, b: string): number => compare(enc(a), enc(b));
      const expected = (bounds: OracleRange, s: number): string[] => {
        const out: string[] = [];
        const sorted = [...new Set(naive.map((v) => v.key))].sort(cmp);
        if (bounds.reverse === true) sorted.reverse();
        for (const key of sorted) {
          if (bounds.gte !== undefined && cmp(key, dec(bounds.gte) as string) < 0) continue;
          if (bounds.gt !== undefined && cmp(key, dec(bounds.gt) as string) <= 0) continue;
          if (bounds.lte !== undefined && cmp(key, dec(bounds.lte) as string) > 0) continue;
          if (bounds.lt !== undefined && cmp(key, dec(bounds.lt) as string) >= 0) continue;
          const newest = naive.filter((v) => v.key === key && v.seqno < s).sort((a, b) => b.seqno - a.seqno)[0];
          if (newest === undefined || newest.kind === "tombstone" || newest.kind === "weakTombstone") continue;
          out.push(`${key}=${newest.value}`);
        }
        return bounds.limit === undefined ? out : out.slice(0, bounds.limit);
      };
      for (let i = 0; i < 300; i++) {
        const s = rng.int(160);
        const bounds: { -readonly [K in keyof OracleRange]: OracleRange[K] } = {};
        if (rng.chance(0.5)) bounds[rng.pick(["gt", "gte"] as const)] = enc(rng.pick(keys));
        if (rng.chance(0.5)) bounds[rng.pick(["lt", "lte"] as const)] = enc(rng.pick(keys));
        if (rng.chance(0.5)) bounds.reverse = true;
        if (rng.chance(0.3)) bounds.limit = rng.int(4);
        expect(pairs(o2.range(bounds, s))).toEqual(expected(bounds, s));
        const key = rng.pick(keys);
        const want = expected({ gte: enc(key), lte: enc(key) }, s)[0];
        expect(dec(o2.get(enc(key), s))).toBe(want?.slice(want.indexOf("=") + 1));
        expect(o2.len(s)).toBe(expected({}, s).length);
      }
    }
  });
});

describe("MvccOracle: clears, drops and reopen helpers", () => {
  it("hides cleared versions from reads after the clear's stamp only", () => {
    const o = new MvccOracle();
    o.insert(enc("a"), enc("1"), 1);
    o.insert(enc("b"), enc("1"), 2);
    o.clearAt(3);
    o.insert(enc("b"), enc("2"), 4);
    expect(pairs(o.range({}, 3))).toEqual(["a=1", "b=1"]);
    expect(pairs(o.range({}, 4))).toEqual([]);
    expect(pairs(o.range({}, 5))).toEqual(["b=2"]);
    expect(o.get(enc("a"), 100)).toBeUndefined();
    expect(dec(o.get(enc("a"), 2))).toBe("1");
    expect(o.versionsOf(enc("b")).map((v) => v.seqno)).toEqual([4]);
    expect(o.versionsOf(enc("b"), 3).map((v) => v.seqno)).toEqual([2]);
    expect(o.len(3)).toBe(2);
    expect(o.len(10)).toBe(1);
  });

  it("hides only what a drop's predicate picks", () => {
    const o = new MvccOracle();
    o.insert(enc("a"), enc("flushed"), 1);
    o.insert(enc("b"), enc("flushed"), 2);
    o.insert(enc("b"), enc("memtable"), 3);
    // Tables held seqnos < 3; the drop took stamp 4.
    o.clearAt(4, (v) => v.seqno < 3);
    expect(pairs(o.range({}, 4))).toEqual(["a=flushed", "b=memtable"]);
    expect(pairs(o.range({}, 5))).toEqual(["b=memtable"]);
    // A reopen: old snapshots lose the dropped data too.
    o.applyClears();
    expect(pairs(o.range({}, 3))).toEqual([]);
    expect(pairs(o.range({}, 4))).toEqual(["b=memtable"]);
    expect(o.versionCount).toBe(1);
  });

  it("applies clears in stamp order whatever the call order", () => {
    const o = new MvccOracle();
    o.insert(enc("a"), enc("1"), 1);
    o.insert(enc("a"), enc("2"), 3);
    o.clearAt(4);
    o.clearAt(2);
    expect(dec(o.get(enc("a"), 2))).toBe("1");
    expect(o.get(enc("a"), 3)).toBeUndefined();
    expect(dec(o.get(enc("a"), 4))).toBe("2");
    expect(o.get(enc("a"), 5)).toBeUndefined();
  });

  it("keeps only flushed versions on retainOnly, and forgets everything on dropAll", () => {
    const o = new MvccOracle();
    o.insert(enc("a"), enc("1"), 1);
    o.insert(enc("a"), enc("2"), 5);
    o.insert(enc("b"), enc("1"), 6);
    o.retainOnly((v) => v.seqno < 4);
    expect(pairs(o.range({}, 100))).toEqual(["a=1"]);
    expect(o.keys().map(dec)).toEqual(["a"]);
    expect(o.versionCount).toBe(1);
    expect(o.highestSeqno()).toBe(1);
    const copy = o.clone();
    o.dropAll();
    expect(o.len(100)).toBe(0);
    expect(o.highestSeqno()).toBeUndefined();
    expect(o.versionCount).toBe(0);
    expect(copy.len(100)).toBe(1);
    copy.insert(enc("c"), enc("1"), 9);
    expect(copy.len(100)).toBe(2);
  });
});

describe("MvccOracle: range tombstones", () => {
  const abc = (compare = bytewiseCompare): MvccOracle => {
    const o = new MvccOracle(compare);
    ["a", "b", "c", "d"].forEach((k, i) => o.insert(enc(k), enc(String(i + 1)), i + 1));
    return o;
  };

  it("deletes [start, end) for reads above its seqno only", () => {
    const o = abc();
    expect(o.removeRange(enc("b"), enc("d"), 6)).toBe(true);
    // Before and at the tombstone's seqno: not seen.
    expect(pairs(o.range({}, 5))).toEqual(["a=1", "b=2", "c=3", "d=4"]);
    expect(pairs(o.range({}, 6))).toEqual(["a=1", "b=2", "c=3", "d=4"]);
    expect(dec(o.get(enc("b"), 6))).toBe("2");
    // After: b and c are gone, the end bound d is not covered.
    expect(pairs(o.range({}, 7))).toEqual(["a=1", "d=4"]);
    expect(o.get(enc("b"), 7)).toBeUndefined();
    expect(o.find(enc("c"), 7)).toBeUndefined();
    expect(o.find(enc("c"), 6)?.kind).toBe("value");
    expect(o.coveringTombstone(enc("c"), 7)).toMatchObject({ kind: "rangeTombstone", seqno: 6 });
    expect(o.coveringTombstone(enc("c"), 6)).toBeUndefined();
    expect(o.coveringTombstone(enc("d"), 7)).toBeUndefined();
    expect(o.len(6)).toBe(4);
    expect(o.len(7)).toBe(2);
    expect(o.rangeTombstoneCount).toBe(1);
    expect(o.versionCount).toBe(4);
    // Versions stay listed: the history is not what reads see.
    expect(o.versionsOf(enc("b")).map((v) => v.seqno)).toEqual([2]);
    expect(o.highestSeqno()).toBe(6);
  });

  it("does not cover keys written again at or after its seqno", () => {
    const o = abc();
    o.removeRange(enc("a"), enc("z"), 6);
    o.insert(enc("b"), enc("new"), 8);
    o.merge(enc("c"), enc("+"), 9);
    expect(pairs(o.range({}, 7))).toEqual([]);
    expect(pairs(o.range({}, 8))).toEqual([]);
    expect(pairs(o.range({}, 9))).toEqual(["b=new"]);
    expect(pairs(o.range({}, 10))).toEqual(["b=new", "c=+"]);
    // A version at the tombstone's own seqno (a write batch) is not below it.
    o.applyBatch([{ op: "insert", key: enc("d"), value: enc("same") }], 6);
    expect(pairs(o.range({}, 7))).toEqual(["d=same"]);
    // An older tombstone written later (out of seqno order) cannot hide newer versions.
    o.removeRange(enc("a"), enc("z"), 7);
    expect(pairs(o.range({}, 8))).toEqual([]);
    expect(pairs(o.range({}, 10))).toEqual(["b=new", "c=+"]);
  });

  it("lets overlapping tombstones each hide what is older than itself", () => {
    const o = new MvccOracle();
    o.insert(enc("a"), enc("1"), 1);
    o.insert(enc("b"), enc("1"), 2);
    o.removeRange(enc("b"), enc("d"), 3); // hides b@2
    o.insert(enc("c"), enc("4"), 4);
    o.removeRange(enc("a"), enc("c"), 5); // hides a@1, b (already hidden)
    o.insert(enc("b"), enc("6"), 6);
    o.removeRange(enc("bb"), enc("e"), 7); // hides c@4, not b@6 (b < bb)
    expect(pairs(o.range({}, 3))).toEqual(["a=1", "b=1"]);
    expect(pairs(o.range({}, 4))).toEqual(["a=1"]);
    expect(pairs(o.range({}, 5))).toEqual(["a=1", "c=4"]);
    expect(pairs(o.range({}, 6))).toEqual(["c=4"]);
    expect(pairs(o.range({}, 7))).toEqual(["b=6", "c=4"]);
    expect(pairs(o.range({}, 8))).toEqual(["b=6"]);
    expect(o.coveringTombstone(enc("b"), 8)?.seqno).toBe(5);
    expect(o.coveringTombstone(enc("c"), 8)?.seqno).toBe(7);
    expect(o.rangeTombstones().map((t) => t.seqno)).toEqual([3, 5, 7]);
  });

  it("honours tombstones in bounded, reversed, limited and prefix scans", () => {
    const o = new MvccOracle();
    ["a", "ab", "abc", "b", "ba", "c"].forEach((k, i) => o.insert(enc(k), enc(String(i)), i + 1));
    o.removeRange(enc("ab"), enc("b"), 10); // ab, abc
    o.removeRange(enc("ba"), enc("bb"), 11); // ba
    const s = 12;
    expect(pairs(o.range({}, s))).toEqual(["a=0", "b=3", "c=5"]);
    expect(pairs(o.range({ reverse: true, limit: 2 }, s))).toEqual(["c=5", "b=3"]);
    expect(pairs(o.range({ gt: enc("a"), lte: enc("ba") }, s))).toEqual(["b=3"]);
    expect(pairs(o.prefix(enc("a"), s))).toEqual(["a=0"]);
    expect(pairs(o.prefix(enc("b"), s, { reverse: true }))).toEqual(["b=3"]);
    expect(pairs(o.range({ limit: 1 }, 11))).toEqual(["a=0"]);
    expect(pairs(o.range({ reverse: true }, 11))).toEqual(["c=5", "ba=4", "b=3", "a=0"]);
    expect(o.len(s)).toBe(3);
  });

  it("ignores an empty or inverted range, and validates its arguments", () => {
    const o = abc();
    expect(o.removeRange(enc("c"), enc("b"), 9)).toBe(false);
    expect(o.removeRange(enc("b"), enc("b"), 9)).toBe(false);
    expect(o.rangeTombstoneCount).toBe(0);
    expect(o.len(10)).toBe(4);
    expect(() => o.removeRange(enc("a"), enc("b"), -1)).toThrow(RangeError);
    expect(() => o.removeRange("a" as unknown as Uint8Array, enc("b"), 9)).toThrow(TypeError);
    expect(() => o.removeRange(enc("a"), "b" as unknown as Uint8Array, 9)).toThrow(TypeError);
  });

  it("keeps its own copies of the bounds", () => {
    const o = abc();
    const start = Buffer.from("b");
    const end = Buffer.from("c");
    o.removeRange(start, end, 9);
    start.fill(0x61);
    end.fill(0x7a);
    expect(pairs(o.range({}, 10))).toEqual(["a=1", "c=3", "d=4"]);
    const [tombstone] = o.rangeTombstones();
    expect(dec(tombstone?.start)).toBe("b");
    expect(dec(tombstone?.end)).toBe("c");
  });

  it("orders ranges by its comparator (reverse order)", () => {
    const o = abc(reverse);
    // Under the reverse order [b, a) is empty and [c, a) holds c and b.
    expect(o.removeRange(enc("a"), enc("c"), 9)).toBe(false);
    expect(o.removeRange(enc("c"), enc("a"), 9)).toBe(true);
    expect(pairs(o.range({}, 9))).toEqual(["d=4", "c=3", "b=2", "a=1"]);
    expect(pairs(o.range({}, 10))).toEqual(["d=4", "a=1"]);
    expect(pairs(o.range({ reverse: true }, 10))).toEqual(["a=1", "d=4"]);
    // An unbounded end runs to the last key in comparator order, here the smallest bytes.
    o.removeRange(enc("b"), undefined, 11);
    expect(pairs(o.range({}, 12))).toEqual(["d=4"]);
    expect(() => o.removePrefix(enc("a"), 13)).toThrow(TypeError);
  });

  it("removes prefixes up to their bytewise successor, to the end for 0xff prefixes", () => {
    expect(bytewiseSuccessor(enc("ab"))).toEqual(enc("ac"));
    expect(bytewiseSuccessor(Uint8Array.of(0x61, 0xff, 0xff))).toEqual(Uint8Array.of(0x62));
    expect(bytewiseSuccessor(Uint8Array.of(0xff, 0xff))).toBeUndefined();
    const o = new MvccOracle();
    const keys = [enc("a"), enc("ab"), enc("abc"), Uint8Array.of(0x61, 0xff), enc("b"), Uint8Array.of(0xfe), Uint8Array.of(0xff), Uint8Array.of(0xff, 0x00), Uint8Array.of(0xff, 0xff, 0xff)];
    keys.forEach((k, i) => o.insert(k, enc(String(i)), i + 1));
    o.removePrefix(enc("ab"), 20);
    expect(o.range({}, 21).map(([k]) => Buffer.from(k).toString("hex"))).toEqual(["61", "61ff", "62", "fe", "ff", "ff00", "ffffff"]);
    o.removePrefix(Uint8Array.of(0xff), 21);
    expect(o.range({}, 22).map(([k]) => Buffer.from(k).toString("hex"))).toEqual(["61", "61ff", "62", "fe"]);
    expect(o.rangeTombstones()[1]?.end).toBeUndefined();
    o.removePrefix(Uint8Array.of(0x61, 0xff), 22);
    expect(o.range({}, 23).map(([k]) => Buffer.from(k).toString("hex"))).toEqual(["61", "62", "fe"]);
  });

  it("hides tombstones with clears and drops, keeps them through clone and retainOnly", () => {
    const o = abc();
    o.removeRange(enc("a"), enc("c"), 6); // "flushed"
    o.insert(enc("a"), enc("mem"), 7);
    o.removeRange(enc("c"), enc("e"), 8); // "memtable"
    const copy = o.clone();
    // A reopen that kept what was below 7.
    o.retainOnly((entry) => entry.seqno < 7);
    expect(o.rangeTombstones().map((t) => t.seqno)).toEqual([6]);
    expect(pairs(o.range({}, 100))).toEqual(["c=3", "d=4"]);
    expect(pairs(copy.range({}, 100))).toEqual(["a=mem"]);
    expect(copy.rangeTombstoneCount).toBe(2);
    // A drop of what was in tables (seqnos < 7) at stamp 9: the tombstone goes with the versions.
    copy.clearAt(9, (entry) => entry.seqno < 7);
    expect(pairs(copy.range({}, 9))).toEqual(["a=mem"]);
    expect(pairs(copy.range({}, 10))).toEqual(["a=mem"]);
    copy.insert(enc("b"), enc("old"), 5); // below the tombstone at 6: covered by it
    expect(pairs(copy.range({}, 9))).toEqual(["a=mem"]);
    copy.applyClears();
    expect(copy.rangeTombstones().map((t) => t.seqno)).toEqual([8]);
    expect(pairs(copy.range({}, 100))).toEqual(["a=mem"]);
    // clear(): everything older than the stamp goes, range tombstones too.
    copy.clearAt(20);
    copy.applyClears();
    expect(copy.rangeTombstoneCount).toBe(0);
    copy.dropAll();
    o.dropAll();
    expect(o.rangeTombstoneCount).toBe(0);
    expect(o.highestSeqno()).toBeUndefined();
  });
});

describe("MvccOracle: write batches", () => {
  it("writes every operation at one seqno, the later of two on a key winning", () => {
    const o = new MvccOracle();
    o.insert(enc("x"), enc("old"), 1);
    o.insert(enc("y"), enc("old"), 2);
    o.applyBatch(
      [
        { op: "insert", key: enc("a"), value: enc("first") },
        { op: "merge", key: enc("m"), value: enc("+1") },
        { op: "insert", key: enc("a"), value: enc("second") },
        { op: "remove", key: enc("x") },
        { op: "merge", key: enc("m"), value: enc("+2") },
        { op: "removeWeak", key: enc("w") },
      ],
      5,
    );
    expect(pairs(o.range({}, 5))).toEqual(["x=old", "y=old"]);
    expect(pairs(o.range({}, 6))).toEqual(["a=second", "m=+2", "y=old"]);
    expect(o.versionsOf(enc("a")).map((v) => dec(v.value))).toEqual(["second"]);
    expect(o.find(enc("w"), 6)?.kind).toBe("weakTombstone");
  });

  it("does not let the batch's own range tombstone hide its writes", () => {
    const o = new MvccOracle();
    ["a", "b", "c"].forEach((k, i) => o.insert(enc(k), enc("old"), i + 1));
    o.applyBatch(
      [
        { op: "insert", key: enc("b"), value: enc("new") },
        { op: "removeRange", start: enc("a"), end: enc("z") },
        { op: "insert", key: enc("d"), value: enc("new") },
        { op: "removeRange", start: enc("q"), end: enc("b") },
      ],
      7,
    );
    expect(pairs(o.range({}, 7))).toEqual(["a=old", "b=old", "c=old"]);
    expect(pairs(o.range({}, 8))).toEqual(["b=new", "d=new"]);
    expect(o.rangeTombstoneCount).toBe(1);
  });

  it("refuses a batch naming a key with two kinds of operation, changing nothing", () => {
    const o = new MvccOracle();
    const mixed: OracleBatchOp[] = [
      { op: "insert", key: enc("a"), value: enc("1") },
      { op: "removeRange", start: enc("a"), end: enc("c") },
      { op: "insert", key: enc("b"), value: enc("1") },
      { op: "remove", key: enc("b") },
    ];
    expect(dec(o.batchConflict(mixed))).toBe("b");
    expect(() => o.applyBatch(mixed, 3)).toThrow(RangeError);
    expect(o.versionCount).toBe(0);
    expect(o.rangeTombstoneCount).toBe(0);
    expect(o.batchConflict([{ op: "remove", key: enc("a") }, { op: "removeWeak", key: enc("a") }])).toBeDefined();
    expect(o.batchConflict([{ op: "merge", key: enc("a"), value: enc("1") }, { op: "merge", key: enc("a"), value: enc("2") }])).toBeUndefined();
    // A key that already has a version at the batch's seqno: nothing is written either.
    o.insert(enc("b"), enc("1"), 4);
    expect(() => o.applyBatch([{ op: "insert", key: enc("a"), value: enc("1") }, { op: "insert", key: enc("b"), value: enc("2") }], 4)).toThrow(RangeError);
    expect(o.versionCount).toBe(1);
    o.applyBatch([], 9);
    expect(o.versionCount).toBe(1);
  });
});

describe("MvccOracle: range tombstones against a brute-force model", () => {
  it("matches on random histories with both orders", () => {
    const rng = new Random(4321);
    for (const compare of [bytewiseCompare, reverse]) {
      const o = new MvccOracle(compare);
      const points: Array<{ key: string; seqno: number; kind: OracleKind; value: string }> = [];
      const ranges: Array<{ start: string; end: string | undefined; seqno: number }> = [];
      const keys = Array.from({ length: 12 }, (_, i) => `k${i.toString(16)}`);
      const cmp = (a: string, b: string): number => compare(enc(a), enc(b));
      const seqnos = rng.shuffle(Array.from({ length: 200 }, (_, i) => i));
      for (const seqno of seqnos) {
        if (rng.chance(0.15)) {
          const start = rng.pick(keys);
          const end = rng.chance(0.1) ? undefined : rng.pick([...keys, "k", "l", "k55"]);
          const stored = o.removeRange(enc(start), end === undefined ? undefined : enc(end), seqno);
          expect(stored).toBe(end === undefined || cmp(start, end) < 0);
          ranges.push({ start, end, seqno });
          continue;
        }
        const key = rng.pick(keys);
        const kind = rng.pick<OracleKind>(["value", "value", "tombstone", "merge"]);
        const value = kind === "tombstone" ? "" : `v${seqno}`;
        o.write(enc(key), seqno, kind, enc(value));
        points.push({ key, seqno, kind, value });
      }
      const visible = (key: string, s: number): string | undefined => {
        const newest = points.filter((v) => v.key === key && v.seqno < s).sort((a, b) => b.seqno - a.seqno)[0];
        if (newest === undefined || newest.kind === "tombstone") return undefined;
        const covered = ranges.some((r) => r.seqno < s && r.seqno > newest.seqno && cmp(r.start, key) <= 0 && (r.end === undefined || cmp(key, r.end) < 0));
        return covered ? undefined : newest.value;
      };
      const sorted = [...keys].sort(cmp);
      for (let s = 0; s <= 201; s += rng.range(1, 4)) {
        const want = sorted.flatMap((k) => {
          const v = visible(k, s);
          return v === undefined ? [] : [`${k}=${v}`];
        });
        expect(pairs(o.range({}, s))).toEqual(want);
        expect(pairs(o.range({ reverse: true }, s))).toEqual([...want].reverse());
        expect(o.len(s)).toBe(want.length);
        for (const k of keys) expect(dec(o.get(enc(k), s))).toBe(visible(k, s));
      }
    }
  });
});

// ---- merge operators ---------------------------------------------------------------------------

/** An 8-byte little-endian counter, as the engine's counterMerge (defined here: testkit depends on fs only). */
const counterOp: OracleMergeOperator = {
  name: "counter-le64",
  merge(_key, base, operands) {
    const read = (b: Uint8Array): bigint => {
      if (b.length !== 8) throw new RangeError(`not 8 bytes: ${b.length}`);
      return new DataView(b.buffer, b.byteOffset, 8).getBigInt64(0, true);
    };
    let sum = base === undefined ? 0n : read(base);
    for (const op of operands) sum += read(op);
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigInt64(0, BigInt.asIntN(64, sum), true);
    return out;
  },
};
const le64 = (n: number): Uint8Array => {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt(n), true);
  return out;
};
const ctr = (b: Uint8Array | undefined): number | undefined => (b === undefined ? undefined : Number(new DataView(b.buffer, b.byteOffset, 8).getBigInt64(0, true)));
/** Concatenation with "," between items, to see the order of the operands. */
const joinOp: OracleMergeOperator = {
  name: "join",
  merge: (_key, base, operands) => enc([...(base === undefined ? [] : [base]), ...operands].map((b) => dec(b)).join(",")),
};

describe("MvccOracle: merge operators", () => {
  it("folds the operands above the newest value, tombstone or weak tombstone; no base counts as nothing", () => {
    const o = new MvccOracle(bytewiseCompare, { mergeOperator: counterOp });
    expect(o.mergeOperator).toBe(counterOp);
    o.insert(enc("a"), le64(100), 1);
    o.merge(enc("a"), le64(5), 2);
    o.merge(enc("a"), le64(10), 3);
    o.merge(enc("b"), le64(1), 4);
    o.merge(enc("b"), le64(2), 5);
    o.insert(enc("c"), le64(50), 6);
    o.remove(enc("c"), 7);
    o.merge(enc("c"), le64(7), 8);
    o.insert(enc("d"), le64(50), 9);
    o.removeWeak(enc("d"), 10);
    o.merge(enc("d"), le64(3), 11);
    o.merge(enc("e"), le64(1), 12);
    o.insert(enc("e"), le64(9), 13);
    expect([1, 2, 3, 4].map((s) => ctr(o.get(enc("a"), s)))).toEqual([undefined, 100, 105, 115]);
    expect(ctr(o.get(enc("b"), 100))).toBe(3);
    expect(ctr(o.get(enc("b"), 5))).toBe(1);
    expect(ctr(o.get(enc("c"), 8))).toBeUndefined();
    expect(ctr(o.get(enc("c"), 9))).toBe(7);
    expect(ctr(o.get(enc("d"), 12))).toBe(3);
    expect(ctr(o.get(enc("e"), 13))).toBe(1);
    expect(ctr(o.get(enc("e"), 14))).toBe(9);
    expect(o.range({}, 100).map(([k, v]) => `${dec(k)}=${ctr(v)}`)).toEqual(["a=115", "b=3", "c=7", "d=3", "e=9"]);
    expect(o.range({ reverse: true, limit: 2 }, 100).map(([k, v]) => `${dec(k)}=${ctr(v)}`)).toEqual(["e=9", "d=3"]);
    expect(o.prefix(enc("b"), 100).map(([k, v]) => `${dec(k)}=${ctr(v)}`)).toEqual(["b=3"]);
    expect(o.len(100)).toBe(5);
    // find still names the newest version; mergeInputs what the fold uses.
    expect(o.find(enc("a"), 100)?.kind).toBe("merge");
    const inputs = o.mergeInputs(enc("a"), 100);
    expect(ctr(inputs?.base)).toBe(100);
    expect(inputs?.operands.map(ctr)).toEqual([5, 10]);
    expect(o.mergeInputs(enc("c"), 100)?.base).toBeUndefined();
  });

  it("stops at a version a visible range tombstone covers: it and older versions do not count", () => {
    const o = new MvccOracle(bytewiseCompare, { mergeOperator: counterOp });
    o.insert(enc("k"), le64(100), 1);
    o.merge(enc("k"), le64(1), 2);
    o.removeRange(enc("k"), enc("l"), 3);
    o.merge(enc("k"), le64(20), 4);
    o.merge(enc("k"), le64(30), 5);
    o.removeRange(enc("a"), enc("k"), 6); // ends before k: no effect
    expect(ctr(o.get(enc("k"), 3))).toBe(101);
    expect(ctr(o.get(enc("k"), 4))).toBeUndefined();
    expect(ctr(o.get(enc("k"), 5))).toBe(20);
    expect(ctr(o.get(enc("k"), 100))).toBe(50);
    expect(o.mergeInputs(enc("k"), 100)?.operands.map(ctr)).toEqual([20, 30]);
    // A tombstone newer than every operand deletes the key.
    o.removeRange(enc("j"), enc("z"), 7);
    expect(o.get(enc("k"), 8)).toBeUndefined();
    expect(o.len(8)).toBe(0);
    o.merge(enc("k"), le64(4), 9);
    expect(ctr(o.get(enc("k"), 10))).toBe(4);
  });

  it("without an operator a merge operand reads as its own bytes", () => {
    const o = new MvccOracle();
    expect(o.mergeOperator).toBeUndefined();
    o.insert(enc("k"), enc("base"), 1);
    o.merge(enc("k"), enc("+1"), 2);
    o.merge(enc("k"), enc("+2"), 3);
    expect(dec(o.get(enc("k"), 10))).toBe("+2");
    expect(o.mergeInputs(enc("k"), 10)).toBeUndefined();
  });

  it("folds every merge of one key in a batch, in batch order; without an operator the later is read", () => {
    for (const operator of [joinOp, undefined]) {
      const o = new MvccOracle(bytewiseCompare, operator === undefined ? {} : { mergeOperator: operator });
      o.insert(enc("k"), enc("base"), 1);
      o.applyBatch(
        [
          { op: "merge", key: enc("k"), value: enc("1") },
          { op: "merge", key: enc("j"), value: enc("x") },
          { op: "merge", key: enc("k"), value: enc("2") },
          { op: "merge", key: enc("k"), value: enc("3") },
        ],
        2,
      );
      o.merge(enc("k"), enc("4"), 3);
      expect(dec(o.get(enc("k"), 2))).toBe("base");
      expect(dec(o.get(enc("k"), 3))).toBe(operator === undefined ? "3" : "base,1,2,3");
      expect(dec(o.get(enc("k"), 4))).toBe(operator === undefined ? "4" : "base,1,2,3,4");
      expect(dec(o.get(enc("j"), 4))).toBe("x");
      const [, batchVersion] = o.versionsOf(enc("k"));
      expect(batchVersion?.operands?.map((b) => dec(b))).toEqual(["1", "2", "3"]);
      expect(dec(batchVersion?.value)).toBe("3");
      expect(o.versionsOf(enc("j"))[0]?.operands).toBeUndefined();
      // A clone folds the same way.
      expect(dec(o.clone().get(enc("k"), 4))).toBe(dec(o.get(enc("k"), 4)));
    }
  });

  it("skips versions a clear hides, and lets the operator's errors through", () => {
    const o = new MvccOracle(bytewiseCompare, { mergeOperator: counterOp });
    o.insert(enc("k"), le64(100), 1);
    o.merge(enc("k"), le64(1), 2);
    o.clearAt(3);
    o.merge(enc("k"), le64(5), 4);
    expect(ctr(o.get(enc("k"), 3))).toBe(101);
    expect(ctr(o.get(enc("k"), 5))).toBe(5);
    // A drop hiding only the base: the operand under the clear point stays (as a table-drop model wants).
    const p = new MvccOracle(bytewiseCompare, { mergeOperator: counterOp });
    p.insert(enc("k"), le64(100), 1);
    p.merge(enc("k"), le64(1), 2);
    p.merge(enc("k"), le64(2), 4);
    p.clearAt(3, (entry) => entry.kind !== "rangeTombstone" && entry.kind === "value");
    expect(ctr(p.get(enc("k"), 5))).toBe(3);
    p.insert(enc("bad"), enc("not 8 bytes"), 6);
    p.merge(enc("bad"), le64(1), 7);
    expect(() => p.get(enc("bad"), 8)).toThrow(RangeError);
    expect(() => p.range({}, 8)).toThrow(RangeError);
    expect(() => new MvccOracle(bytewiseCompare, { mergeOperator: {} as OracleMergeOperator })).toThrow(TypeError);
  });

  it("matches a brute-force fold on random histories with range tombstones and batches, both orders", () => {
    const rng = new Random(97);
    for (const compare of [bytewiseCompare, reverse]) {
      const o = new MvccOracle(compare, { mergeOperator: counterOp });
      type Point = { key: string; seqno: number; order: number; kind: OracleKind; value: number };
      const points: Point[] = [];
      const ranges: Array<{ start: string; end: string | undefined; seqno: number }> = [];
      const keys = Array.from({ length: 8 }, (_, i) => `k${i}`);
      const cmp = (a: string, b: string): number => compare(enc(a), enc(b));
      for (let seqno = 0; seqno < 250; seqno++) {
        const r = rng.float();
        if (r < 0.1) {
          const start = rng.pick(keys);
          const end = rng.chance(0.1) ? undefined : rng.pick(keys);
          if (o.removeRange(enc(start), end === undefined ? undefined : enc(end), seqno)) ranges.push({ start, end, seqno });
        } else if (r < 0.2) {
          // A batch of merges (some keys twice) at one seqno.
          const ops: OracleBatchOp[] = [];
          for (let i = rng.range(1, 5); i > 0; i--) {
            const key = rng.pick(keys);
            const value = rng.range(-50, 50);
            ops.push({ op: "merge", key: enc(key), value: le64(value) });
            points.push({ key, seqno, order: points.length, kind: "merge", value });
          }
          o.applyBatch(ops, seqno);
        } else {
          const key = rng.pick(keys);
          const kind = rng.pick<OracleKind>(["value", "tombstone", "weakTombstone", "merge", "merge", "merge"]);
          const value = rng.range(-1000, 1000);
          o.write(enc(key), seqno, kind, kind === "value" || kind === "merge" ? le64(value) : new Uint8Array(0));
          points.push({ key, seqno, order: points.length, kind, value });
        }
      }
      const fold = (key: string, s: number): number | undefined => {
        const versions = points.filter((v) => v.key === key && v.seqno < s).sort((a, b) => b.seqno - a.seqno || b.order - a.order);
        let sum = 0;
        let operands = 0;
        for (const v of versions) {
          const covered = ranges.some((t) => t.seqno < s && t.seqno > v.seqno && cmp(t.start, key) <= 0 && (t.end === undefined || cmp(key, t.end) < 0));
          if (covered) break;
          if (v.kind === "merge") {
            sum += v.value;
            operands++;
            continue;
          }
          if (operands === 0) return v.kind === "value" ? v.value : undefined;
          if (v.kind === "value") sum += v.value;
          break;
        }
        return operands === 0 ? undefined : sum;
      };
      const sorted = [...keys].sort(cmp);
      for (let s = 0; s <= 251; s += rng.range(1, 4)) {
        const want = sorted.flatMap((k) => {
          const v = fold(k, s);
          return v === undefined ? [] : [`${k}=${v}`];
        });
        expect(o.range({}, s).map(([k, v]) => `${dec(k)}=${ctr(v)}`)).toEqual(want);
        expect(o.range({ reverse: true }, s).map(([k, v]) => `${dec(k)}=${ctr(v)}`)).toEqual([...want].reverse());
        expect(o.len(s)).toBe(want.length);
        for (const k of keys) expect(ctr(o.get(enc(k), s))).toBe(fold(k, s));
      }
    }
  });
});
