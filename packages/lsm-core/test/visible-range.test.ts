import { describe, expect, it } from "vitest";
import { Random } from "@talus/testkit";
import { BYTEWISE_COMPARATOR, type Comparator } from "../src/key/comparator.ts";
import { isTombstone } from "../src/key/value-kind.ts";
import { ArrayCursor, type Entry } from "../src/iter/array-cursor.ts";
import type { EntryCursor } from "../src/iter/cursor.ts";
import { normalizeRange, prefixSuccessor, type RangeOptions } from "../src/iter/bounds.ts";
import { VisibleRangeIterator } from "../src/iter/visible-range.ts";
import { dec, enc, randomEntries, REVERSE_COMPARATOR, visibleAt } from "./helpers.ts";

function model(entries: Entry[], comparator: Comparator, s: number, options: RangeOptions): string[] {
  const keys = [...new Map(entries.map((e) => [dec(e.key), e.key])).values()].sort((a, b) => comparator.compare(a, b));
  const range = normalizeRange(comparator, options);
  const inRange = keys.filter((k) => {
    if (range.lower !== undefined) {
      const c = comparator.compare(k, range.lower);
      if (range.lowerInclusive ? c < 0 : c <= 0) return false;
    }
    if (range.upper !== undefined) {
      const c = comparator.compare(k, range.upper);
      if (range.upperInclusive ? c > 0 : c >= 0) return false;
    }
    return true;
  });
  const out = inRange.flatMap((k) => {
    const v = visibleAt(entries, comparator, k, s);
    return v === undefined || isTombstone(v.kind) ? [] : [`${dec(k)}=${dec(v.value)}`];
  });
  if (range.reverse) out.reverse();
  return out.slice(0, range.limit === Infinity ? undefined : range.limit);
}

function actual(entries: Entry[], comparator: Comparator, s: number, options: RangeOptions): string[] {
  const it = new VisibleRangeIterator({ comparator, cursor: new ArrayCursor(comparator, entries), readSeqno: s, range: normalizeRange(comparator, options) });
  return [...it].map(([k, v]) => `${dec(k)}=${dec(v)}`);
}

function randomBounds(rng: Random): RangeOptions {
  const key = (): string => `k${String(rng.int(32)).padStart(3, "0")}${rng.chance(0.3) ? "x" : ""}`;
  const options: { -readonly [K in keyof RangeOptions]: RangeOptions[K] } = {};
  if (rng.chance(0.5)) options[rng.chance(0.5) ? "gt" : "gte"] = key();
  if (rng.chance(0.5)) options[rng.chance(0.5) ? "lt" : "lte"] = key();
  if (rng.chance(0.5)) options.reverse = true;
  if (rng.chance(0.3)) options.limit = rng.int(5);
  return options;
}

describe.each([
  ["bytewise", BYTEWISE_COMPARATOR],
  ["reverse", REVERSE_COMPARATOR],
])("VisibleRangeIterator (%s)", (_name, comparator) => {
  it("yields the newest visible version of each key in range, forward and reverse, at every snapshot", () => {
    for (let seed = 1; seed <= 30; seed++) {
      const rng = new Random(seed);
      const entries = randomEntries(rng, 150, 30, comparator);
      for (let trial = 0; trial < 20; trial++) {
        const s = rng.int(160);
        const bounds = randomBounds(rng);
        expect(actual(entries, comparator, s, bounds), `seed ${seed} S ${s} ${JSON.stringify(bounds)}`).toEqual(model(entries, comparator, s, bounds));
      }
    }
  });

  it("sees nothing at seqno 0 and everything at SEQNO_MAX", () => {
    const entries = randomEntries(new Random(99), 50, 10, comparator);
    expect(actual(entries, comparator, 0, {})).toEqual([]);
    expect(actual(entries, comparator, Number.MAX_SAFE_INTEGER, {})).toEqual(model(entries, comparator, Number.MAX_SAFE_INTEGER, {}));
  });
});

describe("VisibleRangeIterator resources", () => {
  it("releases once when exhausted, when a loop breaks, and on return()", () => {
    const entries = randomEntries(new Random(5), 40, 10);
    let released = 0;
    const make = (): VisibleRangeIterator =>
      new VisibleRangeIterator({
        comparator: BYTEWISE_COMPARATOR,
        cursor: new ArrayCursor(BYTEWISE_COMPARATOR, entries),
        readSeqno: 1000,
        range: normalizeRange(BYTEWISE_COMPARATOR, {}),
        release: () => released++,
      });
    [...make()];
    expect(released).toBe(1);
    for (const _ of make()) break;
    expect(released).toBe(2);
    const it = make();
    it.next();
    it.return();
    it.return();
    expect(released).toBe(3);
    expect(it.next().done).toBe(true);
  });

  it("prefetching reads every entry the limit allows, releases at once and yields what a lazy iterator does", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rng = new Random(seed);
      const entries = randomEntries(rng, 120, 30);
      for (let trial = 0; trial < 10; trial++) {
        const options: RangeOptions = { ...randomBounds(rng), limit: rng.int(17) };
        const s = rng.int(130);
        let released = 0;
        let steps = 0;
        const cursor = new ArrayCursor(BYTEWISE_COMPARATOR, entries);
        const counting = new Proxy(cursor, {
          get(target, name) {
            const member = Reflect.get(target, name) as unknown;
            if (typeof member !== "function") return member;
            return (...args: unknown[]) => {
              steps++;
              return (member as (...a: unknown[]) => unknown).apply(target, args);
            };
          },
        });
        const it = new VisibleRangeIterator({ comparator: BYTEWISE_COMPARATOR, cursor: counting, readSeqno: s, range: normalizeRange(BYTEWISE_COMPARATOR, options), release: () => released++, prefetch: true });
        expect(released).toBe(1);
        const before = steps;
        const got = [...it].map(([k, v]) => `${dec(k)}=${dec(v)}`);
        expect(steps, "no cursor use after construction").toBe(before);
        expect(got, `seed ${seed} S ${s} ${JSON.stringify(options)}`).toEqual(model(entries, BYTEWISE_COMPARATOR, s, options));
        expect(released).toBe(1);
      }
    }
  });

  it("a prefetch that fails throws from next() after the entries read before the failure, once", () => {
    const entries: Entry[] = ["a", "b", "c", "d"].map((k, i) => ({ key: enc(k), seqno: i + 1, kind: 0, value: enc(k.toUpperCase()) }));
    const cursor = new ArrayCursor(BYTEWISE_COMPARATOR, entries);
    const failing: EntryCursor = {
      valid: () => cursor.valid(),
      key(): Uint8Array {
        const key = cursor.key();
        if (dec(key) === "c") throw new Error("bad block");
        return key;
      },
      seqno: () => cursor.seqno(),
      kind: () => cursor.kind(),
      value: () => cursor.value(),
      seekToFirst: () => cursor.seekToFirst(),
      seekToLast: () => cursor.seekToLast(),
      seek: (key, seqno) => cursor.seek(key, seqno),
      seekForPrev: (key) => cursor.seekForPrev(key),
      next: () => cursor.next(),
      prev: () => cursor.prev(),
      close: () => cursor.close(),
    };
    // What each next() gives: a value, "done", or the error message.
    const outcomes = (prefetch: boolean): string[] => {
      cursor.close();
      const it = new VisibleRangeIterator({ comparator: BYTEWISE_COMPARATOR, cursor: failing, readSeqno: 10, range: normalizeRange(BYTEWISE_COMPARATOR, { limit: 5 }), prefetch });
      const out: string[] = [];
      for (let i = 0; i < 4; i++) {
        try {
          const r = it.next();
          out.push(r.done === true ? "done" : String(dec(r.value[1])));
        } catch (error) {
          out.push((error as Error).message);
        }
      }
      return out;
    };
    // Reading past "b" (to find where its versions end) meets the failure, so "b" is never yielded.
    expect(outcomes(false)).toEqual(["A", "bad block", "done", "done"]);
    expect(outcomes(true)).toEqual(outcomes(false));
    const early = new VisibleRangeIterator({ comparator: BYTEWISE_COMPARATOR, cursor: new ArrayCursor(BYTEWISE_COMPARATOR, entries), readSeqno: 10, range: normalizeRange(BYTEWISE_COMPARATOR, { limit: 3 }), prefetch: true });
    early.next();
    early.return();
    expect(early.next().done).toBe(true);
  });

  it("yields copies the caller owns", () => {
    const value = enc("value");
    const entries: Entry[] = [{ key: enc("a"), seqno: 1, kind: 0, value }];
    const [[, v]] = [...new VisibleRangeIterator({ comparator: BYTEWISE_COMPARATOR, cursor: new ArrayCursor(BYTEWISE_COMPARATOR, entries), readSeqno: 5, range: normalizeRange(BYTEWISE_COMPARATOR, {}) })] as [[Uint8Array, Uint8Array]];
    v[0] = 0;
    expect(dec(value)).toBe("value");
  });
});

describe("bounds", () => {
  it("rejects bad limits and bad bound types", () => {
    expect(() => normalizeRange(BYTEWISE_COMPARATOR, { limit: -2 })).toThrow(RangeError);
    expect(() => normalizeRange(BYTEWISE_COMPARATOR, { limit: 1.5 })).toThrow(RangeError);
    expect(() => normalizeRange(BYTEWISE_COMPARATOR, { gt: 5 as unknown as string })).toThrow(TypeError);
    expect(() => normalizeRange(BYTEWISE_COMPARATOR, { gte: "" })).toThrow(RangeError);
  });

  it("computes prefix successors bytewise", () => {
    expect(prefixSuccessor(enc("ab"))).toEqual(enc("ac"));
    expect(prefixSuccessor(new Uint8Array([1, 0xff]))).toEqual(new Uint8Array([2]));
    expect(prefixSuccessor(new Uint8Array([0xff, 0xff]))).toBeUndefined();
    expect(prefixSuccessor(new Uint8Array(0))).toBeUndefined();
  });
});
