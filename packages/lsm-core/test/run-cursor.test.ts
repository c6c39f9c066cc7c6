import { describe, expect, it } from "vitest";
import { Random } from "@talus/testkit";
import { BYTEWISE_COMPARATOR } from "../src/key/comparator.ts";
import { ArrayCursor, type Entry } from "../src/iter/array-cursor.ts";
import type { EntryCursor } from "../src/iter/cursor.ts";
import { RunCursor, type CursorSource } from "../src/iter/run-cursor.ts";
import { dec, randomEntries } from "./helpers.ts";

const cmp = BYTEWISE_COMPARATOR;
const fp = (c: EntryCursor): string => `${dec(c.key())}#${c.seqno()}`;

/** Splits sorted entries into tables at user-key boundaries, as a table writer rotates. */
function tables(rng: Random, entries: Entry[]): { sources: CursorSource[]; opened: () => number } {
  const groups: Entry[][] = [];
  let current: Entry[] = [];
  for (const [i, e] of entries.entries()) {
    current.push(e);
    const next = entries[i + 1];
    if (next !== undefined && cmp.compare(next.key, e.key) !== 0 && rng.chance(0.15)) {
      groups.push(current);
      current = [];
    }
  }
  if (current.length > 0) groups.push(current);
  let opened = 0;
  const sources = groups.map((g) => ({
    minKey: (g[0] as Entry).key,
    maxKey: (g[g.length - 1] as Entry).key,
    cursor: () => {
      opened++;
      return new ArrayCursor(cmp, g);
    },
  }));
  return { sources, opened: () => opened };
}

describe("RunCursor", () => {
  it("reads tables as one sequence under random seeks and steps", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rng = new Random(seed);
      const entries = randomEntries(rng, 200, 40);
      const run = new RunCursor(cmp, tables(rng, entries).sources);
      const model = new ArrayCursor(cmp, entries);
      for (let step = 0; step < 300; step++) {
        const probe = entries[rng.int(entries.length)] as Entry;
        const op = rng.int(6);
        if (op === 0) [run, model].forEach((c) => c.seek(probe.key, probe.seqno));
        else if (op === 1) [run, model].forEach((c) => c.seekForPrev(probe.key));
        else if (op === 2 && model.valid()) [run, model].forEach((c) => c.next());
        else if (op === 3 && model.valid()) [run, model].forEach((c) => c.prev());
        else if (op === 4) [run, model].forEach((c) => c.seekToFirst());
        else if (op === 5) [run, model].forEach((c) => c.seekToLast());
        expect(run.valid(), `seed ${seed} step ${step}`).toBe(model.valid());
        if (model.valid()) expect(fp(run)).toBe(fp(model));
      }
    }
  });

  it("opens only the table a point seek lands in", () => {
    const rng = new Random(3);
    const entries = randomEntries(rng, 300, 60);
    const t = tables(rng, entries);
    const run = new RunCursor(cmp, t.sources);
    run.seek((entries[150] as Entry).key);
    expect(t.opened()).toBe(1);
  });

  it("is invalid over an empty run", () => {
    const run = new RunCursor(cmp, []);
    run.seekToFirst();
    expect(run.valid()).toBe(false);
    run.seekForPrev(new Uint8Array([1]));
    expect(run.valid()).toBe(false);
  });
});
