// Fragment lists (src/range-tombstone/fragments.ts), the scan cover and the table block, against a
// brute-force model: a list of tombstones, and "the newest one below S covering k".
import { describe, expect, it } from "vitest";
import { Random } from "@talus/testkit";
import { BYTEWISE_COMPARATOR, type Comparator } from "../src/key/comparator.ts";
import {
  coverSeqno,
  insertTombstone,
  mergeFragmentLists,
  pruneFragments,
  UNBOUNDED,
  type Fragment,
  type RangeTombstone,
} from "../src/range-tombstone/fragments.ts";
import { ScanCover } from "../src/range-tombstone/scan-cover.ts";
import { decodeFragments, encodeFragments } from "../src/range-tombstone/block.ts";
import { LsmError } from "../src/errors.ts";
import { REVERSE_COMPARATOR } from "./helpers.ts";

const key = (i: number): Uint8Array => Uint8Array.of(i);
const KEYS = 12;

function modelCover(cmp: Comparator, tombstones: readonly RangeTombstone[], k: Uint8Array, readSeqno: number): number {
  let best = -1;
  for (const t of tombstones) {
    const inside = cmp.compare(t.start, k) <= 0 && (t.end.length === 0 || cmp.compare(k, t.end) < 0);
    if (inside && t.seqno < readSeqno) best = Math.max(best, t.seqno);
  }
  return best;
}

function randomTombstones(rng: Random, cmp: Comparator, count: number): RangeTombstone[] {
  const out: RangeTombstone[] = [];
  while (out.length < count) {
    const a = key(rng.int(KEYS));
    const b = key(rng.int(KEYS + 1));
    if (rng.chance(0.1)) out.push({ start: a, end: UNBOUNDED, seqno: rng.int(20) });
    else if (cmp.compare(a, b) < 0) out.push({ start: a, end: b, seqno: rng.int(20) });
    else if (cmp.compare(b, a) < 0) out.push({ start: b, end: a, seqno: rng.int(20) });
  }
  return out;
}

function build(cmp: Comparator, tombstones: readonly RangeTombstone[]): Fragment[] {
  const list: Fragment[] = [];
  for (const t of tombstones) insertTombstone(cmp, list, t.start, t.end, t.seqno);
  return list;
}

function expectWellFormed(cmp: Comparator, list: readonly Fragment[]): void {
  for (let i = 0; i < list.length; i++) {
    const f = list[i] as Fragment;
    expect(f.seqnos.length).toBeGreaterThan(0);
    for (let j = 1; j < f.seqnos.length; j++) expect(f.seqnos[j]).toBeLessThan(f.seqnos[j - 1] as number);
    if (f.end.length !== 0) expect(cmp.compare(f.start, f.end)).toBeLessThan(0);
    const next = list[i + 1];
    if (next !== undefined) {
      expect(f.end.length).toBeGreaterThan(0);
      expect(cmp.compare(f.end, next.start)).toBeLessThanOrEqual(0);
    }
  }
}

describe.each([
  ["bytewise", BYTEWISE_COMPARATOR],
  ["reverse", REVERSE_COMPARATOR],
])("fragments (%s)", (_name, cmp) => {
  it("answer like the tombstones they were built from, for every key and read seqno", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rng = new Random(seed);
      // Unbounded ends only mean "past every key" in bytewise order, where the reverse keys would break it.
      const tombstones = randomTombstones(rng, cmp, 1 + rng.int(8)).filter((t) => cmp === BYTEWISE_COMPARATOR || t.end.length > 0);
      const list = build(cmp, tombstones);
      expectWellFormed(cmp, list);
      for (let k = 0; k < KEYS + 1; k++) {
        for (let s = 0; s <= 21; s++) expect(coverSeqno(cmp, list, key(k), s), `seed ${seed} key ${k} at ${s}`).toBe(modelCover(cmp, tombstones, key(k), s));
      }
    }
  });

  it("leave a list handed out earlier untouched (inserts replace fragments, never change them)", () => {
    const rng = new Random(7);
    const tombstones = randomTombstones(rng, cmp, 6).filter((t) => t.end.length > 0);
    const list = build(cmp, tombstones.slice(0, 3));
    const before = [...list];
    const snapshot = JSON.stringify(before.map((f) => [[...f.start], [...f.end], f.seqnos]));
    for (const t of tombstones.slice(3)) insertTombstone(cmp, list, t.start, t.end, t.seqno);
    expect(JSON.stringify(before.map((f) => [[...f.start], [...f.end], f.seqnos]))).toBe(snapshot);
  });

  it("merge several lists into one that answers like all of them", () => {
    for (let seed = 1; seed <= 100; seed++) {
      const rng = new Random(seed);
      const groups = [0, 1, 2].map(() => randomTombstones(rng, cmp, rng.int(5)).filter((t) => t.end.length > 0));
      const merged = mergeFragmentLists(cmp, groups.map((g) => build(cmp, g)));
      expectWellFormed(cmp, merged);
      const all = groups.flat();
      for (let k = 0; k < KEYS; k++) for (let s = 0; s <= 21; s++) expect(coverSeqno(cmp, merged, key(k), s)).toBe(modelCover(cmp, all, key(k), s));
    }
  });

  it("prune to what reads at or above the watermark need; evicting drops everything below it", () => {
    for (let seed = 1; seed <= 100; seed++) {
      const rng = new Random(seed);
      const tombstones = randomTombstones(rng, cmp, 1 + rng.int(8)).filter((t) => t.end.length > 0);
      const list = build(cmp, tombstones);
      const watermark = rng.int(22);
      const kept = pruneFragments(cmp, list, watermark, false);
      const evicted = pruneFragments(cmp, list, watermark, true);
      expectWellFormed(cmp, kept);
      expectWellFormed(cmp, evicted);
      for (let k = 0; k < KEYS; k++) {
        for (let s = watermark; s <= 21; s++) expect(coverSeqno(cmp, kept, key(k), s)).toBe(modelCover(cmp, tombstones, key(k), s));
        const above = tombstones.filter((t) => t.seqno >= watermark);
        for (let s = 0; s <= 21; s++) expect(coverSeqno(cmp, evicted, key(k), s)).toBe(modelCover(cmp, above, key(k), s));
      }
      expect(kept.length).toBeLessThanOrEqual(list.length);
    }
  });

  it("scan covers give what point lookups give, forward and backward", () => {
    for (let seed = 1; seed <= 100; seed++) {
      const rng = new Random(seed);
      const lists = [0, 1].map(() => build(cmp, randomTombstones(rng, cmp, 1 + rng.int(5)).filter((t) => t.end.length > 0)));
      const readSeqno = rng.int(22);
      const keys = Array.from({ length: KEYS }, (_, i) => key(i)).sort((a, b) => cmp.compare(a, b));
      const expected = keys.map((k) => Math.max(...lists.map((l) => coverSeqno(cmp, l, k, readSeqno))));
      const picked = keys.map((_, i) => i).filter(() => rng.chance(0.6));
      const forward = new ScanCover(cmp, lists, readSeqno);
      for (const i of picked) expect(forward.forward(keys[i] as Uint8Array)).toBe(expected[i]);
      const backward = new ScanCover(cmp, lists, readSeqno);
      for (const i of [...picked].reverse()) expect(backward.backward(keys[i] as Uint8Array)).toBe(expected[i]);
    }
  });
});

describe("range tombstone block", () => {
  const cmp = BYTEWISE_COMPARATOR;
  const list = build(cmp, [
    { start: key(1), end: key(5), seqno: 7 },
    { start: key(3), end: key(9), seqno: 9 },
    { start: key(10), end: UNBOUNDED, seqno: 2 },
  ]);

  it("round-trips a fragment list", () => {
    const decoded = decodeFragments(encodeFragments(list), cmp, "t", 0);
    expect(decoded).toEqual(list);
  });

  it("reports every malformed list as CORRUPTION naming the file", () => {
    const bad: Fragment[][] = [
      [{ start: key(5), end: key(3), seqnos: [1] }],
      [{ start: key(1), end: key(3), seqnos: [1, 4] }],
      [{ start: key(1), end: key(3), seqnos: [2, 2] }],
      [{ start: key(1), end: key(3), seqnos: [] }],
      [
        { start: key(1), end: key(4), seqnos: [1] },
        { start: key(3), end: key(6), seqnos: [1] },
      ],
      [
        { start: key(1), end: UNBOUNDED, seqnos: [1] },
        { start: key(3), end: key(6), seqnos: [1] },
      ],
    ];
    for (const fragments of bad) {
      expect(() => decodeFragments(encodeFragments(fragments), cmp, "tables/9", 40)).toThrow(LsmError);
      expect(() => decodeFragments(encodeFragments(fragments), cmp, "tables/9", 40)).toThrow(/tables\/9/);
    }
    const bytes = encodeFragments(list);
    for (let cut = 0; cut < bytes.length; cut++) expect(() => decodeFragments(bytes.subarray(0, cut), cmp, "t", 0)).toThrow(LsmError);
    const rng = new Random(3);
    for (let i = 0; i < 300; i++) {
      const noise = rng.bytes(1 + rng.int(40));
      try {
        const decoded = decodeFragments(noise, cmp, "t", 0);
        expectWellFormed(cmp, decoded);
      } catch (error) {
        expect(error).toBeInstanceOf(LsmError);
      }
    }
  });
});
