// MvccOracle: bulk ingestion (ingest) and compaction filters (filterAt), against hand-worked histories and a
// brute-force model.
import { describe, expect, it } from "vitest";
import { MvccOracle, type OracleFilterVerdict, type OracleMergeOperator, type OracleVersion } from "../src/oracle/index.ts";
import { Random } from "../src/random.ts";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));
const pairs = (entries: Array<[Uint8Array, Uint8Array]>): string[] => entries.map(([k, v]) => `${dec(k)}=${dec(v)}`);
const reverse = (a: Uint8Array, b: Uint8Array): number => Buffer.compare(b, a);
/** Operands are decimal integers; the base (if any) too. */
const sum: OracleMergeOperator = {
  merge: (_key, base, operands) => enc(String([base, ...operands].reduce((total, b) => total + (b === undefined ? 0 : Number(dec(b))), 0))),
};

describe("MvccOracle: ingestion", () => {
  it("writes every entry at one seqno: reads at or below it see none of them", () => {
    const o = new MvccOracle();
    o.insert(enc("a"), enc("old"), 1);
    o.insert(enc("b"), enc("old"), 2);
    o.insert(enc("d"), enc("old"), 3);
    expect(
      o.ingest(
        [
          { kind: "value", key: enc("a"), value: enc("new") },
          { kind: "tombstone", key: enc("b") },
          { kind: "value", key: enc("c"), value: enc("") },
          { kind: "weakTombstone", key: enc("d") },
        ],
        5,
      ),
    ).toBe(4);
    expect(pairs(o.range({}, 5))).toEqual(["a=old", "b=old", "d=old"]);
    expect(pairs(o.range({}, 6))).toEqual(["a=new", "c="]);
    expect(o.find(enc("d"), 6)?.kind).toBe("weakTombstone");
    expect(o.versionsOf(enc("a")).map((v) => v.seqno)).toEqual([5, 1]);
    expect(o.highestSeqno()).toBe(5);
  });

  it("refuses keys out of the comparator's order, a repeated key or a taken seqno, writing nothing", () => {
    const o = new MvccOracle();
    o.insert(enc("b"), enc("1"), 4);
    expect(() => o.ingest([{ kind: "value", key: enc("b"), value: enc("x") }, { kind: "value", key: enc("a"), value: enc("x") }], 7)).toThrow(RangeError);
    expect(() => o.ingest([{ kind: "tombstone", key: enc("a") }, { kind: "tombstone", key: enc("a") }], 7)).toThrow(RangeError);
    expect(() => o.ingest([{ kind: "value", key: enc("a"), value: enc("x") }, { kind: "value", key: enc("b"), value: enc("x") }], 4)).toThrow(RangeError);
    expect(() => o.ingest([{ kind: "merge" as "tombstone", key: enc("a") }], 7)).toThrow(TypeError);
    expect(o.versionCount).toBe(1);
    const r = new MvccOracle(reverse);
    r.ingest([{ kind: "value", key: enc("b"), value: enc("1") }, { kind: "value", key: enc("a"), value: enc("2") }], 0);
    expect(pairs(r.range({}, 1))).toEqual(["b=1", "a=2"]);
    expect(r.len(0)).toBe(0);
    expect(o.ingest([], 9)).toBe(0);
  });

  it("is a base for later merge operands and hides earlier ones, range tombstones below it do not cover it", () => {
    const o = new MvccOracle(undefined, { mergeOperator: sum });
    o.merge(enc("c"), enc("5"), 1);
    o.removeRange(enc("a"), enc("z"), 2);
    o.ingest([{ kind: "value", key: enc("c"), value: enc("100") }], 3);
    o.merge(enc("c"), enc("1"), 4);
    expect(dec(o.get(enc("c"), 2))).toBe("5");
    expect(o.get(enc("c"), 3)).toBeUndefined();
    expect(dec(o.get(enc("c"), 4))).toBe("100");
    expect(dec(o.get(enc("c"), 5))).toBe("101");
  });
});

describe("MvccOracle: compaction filters", () => {
  /** a: 1 "a1", 3 "a3"; b: 2 "b2"; c: 4 tombstone; d: 5 merge "7" over 1 "d1"... */
  const history = (): MvccOracle => {
    const o = new MvccOracle();
    o.insert(enc("a"), enc("a1"), 1);
    o.insert(enc("b"), enc("b2"), 2);
    o.insert(enc("a"), enc("a3"), 3);
    o.remove(enc("c"), 4);
    o.merge(enc("d"), enc("m5"), 5);
    return o;
  };
  const byValue =
    (verdicts: Record<string, OracleFilterVerdict>) =>
    (v: OracleVersion): OracleFilterVerdict =>
      verdicts[dec(v.value) as string] ?? "keep";

  it("applies each verdict for reads above the stamp only", () => {
    const o = history();
    const changed = o.filterAt(10, byValue({ a3: "destroy", b2: "remove", m5: { replace: enc("m5'") }, a1: { replace: enc("a1'") } }));
    expect(changed).toBe(4);
    for (const s of [6, 10]) expect(pairs(o.range({}, s))).toEqual(["a=a3", "b=b2", "d=m5"]);
    // Destroyed a3 lets the (replaced) a1 show again; b2 became a tombstone; d's operand stays an operand.
    expect(pairs(o.range({}, 11))).toEqual(["a=a1'", "d=m5'"]);
    expect(o.find(enc("b"), 11)).toMatchObject({ kind: "tombstone", seqno: 2 });
    expect(o.find(enc("d"), 11)).toMatchObject({ kind: "merge", seqno: 5 });
    expect(o.versionsOf(enc("a")).map((v) => `${v.seqno}:${dec(v.value)}`)).toEqual(["1:a1'"]);
    expect(o.versionsOf(enc("a"), 10).map((v) => `${v.seqno}:${dec(v.value)}`)).toEqual(["3:a3", "1:a1"]);
    expect(o.len(10)).toBe(3);
    expect(o.len(11)).toBe(2);
  });

  it("makes a weak tombstone of removeWeak, and replaces merge operands within a fold", () => {
    const o = new MvccOracle(undefined, { mergeOperator: sum });
    o.insert(enc("k"), enc("10"), 1);
    o.merge(enc("k"), enc("2"), 2);
    o.insert(enc("w"), enc("1"), 3);
    o.merge(enc("k"), enc("3"), 4);
    o.filterAt(5, (v) => (dec(v.key) === "w" ? "removeWeak" : v.seqno === 2 ? { replace: enc("20") } : "keep"));
    expect(dec(o.get(enc("k"), 5))).toBe("15");
    expect(dec(o.get(enc("k"), 6))).toBe("33");
    expect(o.mergeInputs(enc("k"), 6)?.operands.map(dec)).toEqual(["20", "3"]);
    expect(o.find(enc("w"), 6)?.kind).toBe("weakTombstone");
    o.filterAt(7, (v) => (v.seqno === 2 ? "destroy" : "keep"));
    expect(dec(o.get(enc("k"), 7))).toBe("33");
    expect(dec(o.get(enc("k"), 8))).toBe("13");
  });

  it("asks only about values and operands below the stamp that the newest reader sees", () => {
    const o = history();
    o.insert(enc("e"), enc("e6"), 6);
    o.clearAt(7, (v) => v.seqno === 2);
    o.insert(enc("f"), enc("f8"), 8);
    o.filterAt(8, (v) => (dec(v.key) === "a" && v.seqno === 3 ? "remove" : "keep"));
    const asked: string[] = [];
    o.filterAt(9, (v) => {
      asked.push(`${dec(v.key)}@${v.seqno}`);
      return "keep";
    });
    // b@2 is cleared, c@4 is a tombstone, a@3 was removed by the first filter (its tombstone is not asked).
    expect(asked.sort()).toEqual(["a@1", "d@5", "e@6", "f@8"]);
  });

  it("chains filters: a replacement can be filtered again, each from its own stamp", () => {
    const o = history();
    o.filterAt(10, byValue({ a3: { replace: enc("a3'") } }));
    o.filterAt(12, byValue({ "a3'": "remove" }));
    expect(dec(o.get(enc("a"), 10))).toBe("a3");
    expect(dec(o.get(enc("a"), 11))).toBe("a3'");
    expect(dec(o.get(enc("a"), 12))).toBe("a3'");
    expect(o.get(enc("a"), 13)).toBeUndefined();
    expect(() => o.filterAt(11, () => "keep")).toThrow(RangeError);
  });

  it("a reopen (applyClears) makes every snapshot see the filtered versions; clone and retainOnly keep them", () => {
    const o = history();
    o.filterAt(10, byValue({ a3: "destroy", b2: "remove", a1: { replace: enc("A") } }));
    const copy = o.clone();
    o.retainOnly((v) => v.seqno < 5);
    expect(pairs(o.range({}, 10))).toEqual(["a=a3", "b=b2"]);
    expect(pairs(o.range({}, 11))).toEqual(["a=A"]);
    o.applyClears();
    expect(pairs(o.range({}, 3))).toEqual(["a=A"]);
    expect(pairs(o.range({}, 11))).toEqual(["a=A"]);
    expect(o.versionCount).toBe(3); // a@1 replaced, b@2 now a tombstone, c@4 a tombstone
    expect(pairs(copy.range({}, 10))).toEqual(["a=a3", "b=b2", "d=m5"]);
    expect(pairs(copy.range({}, 11))).toEqual(["a=A", "d=m5"]);
  });

  it("changes nothing when the verdict function throws or returns nonsense", () => {
    const o = history();
    expect(() =>
      o.filterAt(10, (v) => {
        if (v.seqno === 5) throw new Error("boom");
        return "remove";
      }),
    ).toThrow("boom");
    expect(() => o.filterAt(10, () => "explode" as OracleFilterVerdict)).toThrow(TypeError);
    expect(pairs(o.range({}, 11))).toEqual(["a=a3", "b=b2", "d=m5"]);
    expect(o.versionCount).toBe(5);
  });
});

describe("MvccOracle: filters and ingestions against a brute-force model", () => {
  interface BruteVersion {
    key: string;
    seqno: number;
    kind: "value" | "tombstone" | "weakTombstone" | "merge";
    value: string;
  }
  type Event = { type: "write"; version: BruteVersion } | { type: "filter"; stamp: number; decisions: Map<string, OracleFilterVerdict> } | { type: "reopen" };

  /**
   * What a read at `s` sees of every key: replays the writes, the filters with stamps below `s`, and
   * reopens (which make every filter so far count).
   */
  function bruteView(events: readonly Event[], keys: readonly string[], s: number): Array<string | undefined> {
    let versions: BruteVersion[] = [];
    let pendingFilters: Array<Extract<Event, { type: "filter" }>> = [];
    const apply = (filter: Extract<Event, { type: "filter" }>): void => {
      const next: BruteVersion[] = [];
      for (const v of versions) {
        const verdict = filter.decisions.get(`${v.key}@${v.seqno}`);
        if (verdict === undefined || verdict === "keep") next.push(v);
        else if (verdict === "destroy") continue;
        else if (verdict === "remove") next.push({ ...v, kind: "tombstone", value: "" });
        else if (verdict === "removeWeak") next.push({ ...v, kind: "weakTombstone", value: "" });
        else next.push({ ...v, value: dec(verdict.replace) as string });
      }
      versions = next;
    };
    for (const e of events) {
      if (e.type === "write") versions.push(e.version);
      else if (e.type === "filter") {
        if (e.stamp < s) apply(e);
        else pendingFilters.push(e);
      } else {
        for (const f of pendingFilters) apply(f);
        pendingFilters = [];
      }
    }
    return keys.map((key) => {
      const newest = versions.filter((v) => v.key === key && v.seqno < s).sort((a, b) => b.seqno - a.seqno)[0];
      return newest === undefined || newest.kind === "tombstone" || newest.kind === "weakTombstone" ? undefined : newest.value;
    });
  }

  it("matches on random histories of writes, ingestions, filters and reopens", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rng = new Random(seed);
      const o = new MvccOracle();
      const events: Event[] = [];
      const keys = ["a", "b", "c", "d", "e", "f"];
      let seqno = 0;
      for (let step = 0; step < 60; step++) {
        const r = rng.float();
        if (r < 0.5) {
          const key = rng.pick(keys);
          const kind = rng.pick(["value", "value", "merge", "tombstone", "weakTombstone"] as const);
          const version: BruteVersion = { key, seqno: seqno++, kind, value: kind === "value" || kind === "merge" ? `${key}${step}` : "" };
          o.write(enc(key), version.seqno, kind, enc(version.value));
          events.push({ type: "write", version });
        } else if (r < 0.65) {
          const chosen = keys.filter(() => rng.chance(0.4));
          const s = seqno++;
          const entries = chosen.map((key) => (rng.chance(0.8) ? { kind: "value" as const, key, value: `i${key}${step}` } : { kind: rng.pick(["tombstone", "weakTombstone"] as const), key, value: "" }));
          o.ingest(entries.map((e) => (e.kind === "value" ? { kind: e.kind, key: enc(e.key), value: enc(e.value) } : { kind: e.kind, key: enc(e.key) })), s);
          for (const e of entries) events.push({ type: "write", version: { key: e.key, seqno: s, kind: e.kind, value: e.value } });
        } else if (r < 0.9) {
          const stamp = seqno++;
          const decisions = new Map<string, OracleFilterVerdict>();
          o.filterAt(stamp, (v) => {
            const verdict: OracleFilterVerdict = rng.chance(0.5) ? "keep" : rng.pick(["remove", "removeWeak", "destroy", { replace: enc(`${dec(v.value)}'`) }]);
            decisions.set(`${dec(v.key)}@${v.seqno}`, verdict);
            return verdict;
          });
          events.push({ type: "filter", stamp, decisions });
        } else {
          o.applyClears();
          events.push({ type: "reopen" });
        }
        for (let s = 0; s <= seqno + 1; s++) {
          const want = bruteView(events, keys, s);
          const got = keys.map((key) => dec(o.get(enc(key), s)));
          if (got.some((g, i) => g !== want[i])) expect(got, `seed ${seed} step ${step}: keys ${keys.join()} at ${s}`).toEqual(want);
        }
      }
    }
  });
});
