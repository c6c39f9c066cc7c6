import { describe, expect, it } from "vitest";
import { Random } from "@talus/testkit";
import { BYTEWISE_COMPARATOR, type Comparator } from "../src/key/comparator.ts";
import { ArrayCursor, sortEntries, type Entry } from "../src/iter/array-cursor.ts";
import type { EntryCursor } from "../src/iter/cursor.ts";
import { MergingCursor } from "../src/iter/merging-cursor.ts";
import { randomEntries, REVERSE_COMPARATOR } from "./helpers.ts";

const fingerprint = (c: EntryCursor): string => `${new TextDecoder().decode(c.key())}#${c.seqno()}`;

function split(rng: Random, comparator: Comparator, entries: Entry[], parts: number): MergingCursor {
  const sources: Entry[][] = Array.from({ length: parts }, () => []);
  for (const e of entries) sources[rng.int(parts)]?.push(e);
  return new MergingCursor(comparator, sources.map((s) => new ArrayCursor(comparator, sortEntries(comparator, s))));
}

describe.each([
  ["bytewise", BYTEWISE_COMPARATOR],
  ["reverse", REVERSE_COMPARATOR],
])("MergingCursor (%s)", (_name, comparator) => {
  it("iterates the union in internal-key order both ways", () => {
    for (const seed of [1, 2, 3, 4]) {
      const rng = new Random(seed);
      const entries = randomEntries(rng, 300, 40, comparator);
      const merged = split(rng, comparator, entries, 1 + rng.int(6));
      const expected = entries.map((e) => `${new TextDecoder().decode(e.key)}#${e.seqno}`);
      const forward: string[] = [];
      for (merged.seekToFirst(); merged.valid(); merged.next()) forward.push(fingerprint(merged));
      expect(forward).toEqual(expected);
      const backward: string[] = [];
      for (merged.seekToLast(); merged.valid(); merged.prev()) backward.push(fingerprint(merged));
      expect(backward).toEqual([...expected].reverse());
    }
  });

  it("yields the newer source's entry first when sources hold the same internal key, whichever source led before", () => {
    const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
    const entry = (key: string, seqno: number, value: string): Entry => ({ key: enc(key), seqno, kind: 0, value: enc(value) });
    for (const seed of [20, 21, 22, 23]) {
      const rng = new Random(seed);
      // Every source holds some of a shared set of internal keys, each copy tagged with its source.
      const keys = Array.from({ length: 40 }, (_, i) => [`k${String(i % 12).padStart(2, "0")}`, 1 + (i % 5)] as const);
      const parts = 2 + rng.int(4);
      const sources = Array.from({ length: parts }, (_, source) =>
        sortEntries(
          comparator,
          [...new Map(keys.filter(() => rng.chance(0.6)).map(([k, s]) => [`${k}#${s}`, entry(k, s, `source${source}`)])).values()],
        ),
      );
      const expected = sources
        .flatMap((entries, source) => entries.map((e) => ({ e, source })))
        .sort((a, b) => {
          const byKey = comparator.compare(a.e.key, b.e.key);
          if (byKey !== 0) return byKey;
          return a.e.seqno !== b.e.seqno ? b.e.seqno - a.e.seqno : a.source - b.source;
        })
        .map(({ e }) => `${new TextDecoder().decode(e.key)}#${e.seqno}@${new TextDecoder().decode(e.value)}`);
      const merged = new MergingCursor(comparator, sources.map((entries) => new ArrayCursor(comparator, entries)));
      const forward: string[] = [];
      for (merged.seekToFirst(); merged.valid(); merged.next()) forward.push(`${fingerprint(merged)}@${new TextDecoder().decode(merged.value())}`);
      expect(forward).toEqual(expected);
    }
  });

  it("agrees with one cursor over everything under random seeks and direction changes", () => {
    for (const seed of [10, 11, 12, 13, 14]) {
      const rng = new Random(seed);
      const entries = randomEntries(rng, 200, 25, comparator);
      const merged = split(rng, comparator, entries, 2 + rng.int(4));
      const model = new ArrayCursor(comparator, entries);
      for (let step = 0; step < 400; step++) {
        const op = rng.int(6);
        const probe = entries[rng.int(entries.length)] as Entry;
        if (op === 0) {
          merged.seek(probe.key, probe.seqno);
          model.seek(probe.key, probe.seqno);
        } else if (op === 1) {
          merged.seekForPrev(probe.key);
          model.seekForPrev(probe.key);
        } else if (op === 2 && merged.valid()) {
          merged.next();
          model.next();
        } else if (op === 3 && merged.valid()) {
          merged.prev();
          model.prev();
        } else if (op === 4) {
          merged.seekToFirst();
          model.seekToFirst();
        } else if (op === 5) {
          merged.seekToLast();
          model.seekToLast();
        }
        expect(merged.valid(), `seed ${seed} step ${step}`).toBe(model.valid());
        if (model.valid()) expect(fingerprint(merged), `seed ${seed} step ${step}`).toBe(fingerprint(model));
      }
    }
  });

  it("puts the newer source first when two sources hold the same internal key", () => {
    const key = new TextEncoder().encode("k");
    const newer = new ArrayCursor(comparator, [{ key, seqno: 5, kind: 0, value: new TextEncoder().encode("new") }]);
    const older = new ArrayCursor(comparator, [{ key, seqno: 5, kind: 0, value: new TextEncoder().encode("old") }]);
    const merged = new MergingCursor(comparator, [newer, older]);
    merged.seekToFirst();
    expect(new TextDecoder().decode(merged.value())).toBe("new");
    merged.next();
    expect(new TextDecoder().decode(merged.value())).toBe("old");
    merged.prev();
    expect(new TextDecoder().decode(merged.value())).toBe("new");
  });

  it("is empty over no sources or empty sources", () => {
    const merged = new MergingCursor(comparator, [new ArrayCursor(comparator, [])]);
    merged.seekToFirst();
    expect(merged.valid()).toBe(false);
    merged.seekToLast();
    expect(merged.valid()).toBe(false);
  });
});

describe("MergingCursor.skipOlderThan", () => {
  const cmp = BYTEWISE_COMPARATOR;
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  const entry = (key: string, seqno: number): Entry => ({ key: enc(key), seqno, kind: 0, value: enc(`${key}@${seqno}`) });
  const cursorOf = (entries: Entry[]): ArrayCursor => new ArrayCursor(cmp, sortEntries(cmp, entries));

  it("moves only the sources whose seqnos all lie below the tombstone, and only forward", () => {
    const newer = cursorOf([entry("a", 20), entry("d", 21), entry("m", 22)]);
    const older = cursorOf([entry("b", 1), entry("c", 2), entry("e", 3), entry("k", 4), entry("n", 5)]);
    const merged = new MergingCursor(cmp, [newer, older], [() => 22, () => 5]);
    merged.seekToFirst();
    merged.next(); // on b (older)
    expect(fingerprint(merged)).toBe("b#1");
    merged.skipOlderThan(10, enc("k"));
    const rest: string[] = [];
    for (; merged.valid(); merged.next()) rest.push(fingerprint(merged));
    // The newer source keeps d and m; the older one resumes at k.
    expect(rest).toEqual(["d#21", "k#4", "m#22", "n#5"]);
  });

  it("leaves sources that may hold newer entries, and does nothing without seqno bounds", () => {
    const a = cursorOf([entry("b", 1), entry("c", 30)]);
    const merged = new MergingCursor(cmp, [a], [() => 30]);
    merged.seekToFirst();
    merged.skipOlderThan(10, enc("z"));
    expect(fingerprint(merged)).toBe("b#1");
    const plain = new MergingCursor(cmp, [cursorOf([entry("b", 1), entry("c", 2)])]);
    plain.seekToFirst();
    plain.skipOlderThan(10, enc("z"));
    expect(fingerprint(plain)).toBe("b#1");
  });
});
