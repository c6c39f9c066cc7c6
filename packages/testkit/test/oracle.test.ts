import { describe, expect, it } from "vitest";
import { bytewiseCompare, MvccOracle, type OracleKind, type OracleRange } from "../src/oracle/index.ts";
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
