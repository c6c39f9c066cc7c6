// Range iterators leave out runs whose key range lies outside the range (src/tree/reads.ts): bounds on
// and around the runs' first and last keys must still see every key a full scan sees.
import { MemFs } from "@talus/fs";
import { describe, expect, it } from "vitest";
import { SEQNO_MAX, SequenceNumberCounter, Tree } from "../src/index.ts";
import type { RangeOptions } from "../src/iter/bounds.ts";
import { keysOf } from "./tree-support.ts";

describe("Tree range reads over runs with disjoint key ranges", () => {
  it("answers every bound on and around the runs' edges like a filtered full scan", async () => {
    const seqno = new SequenceNumberCounter();
    const tree = await Tree.open({ path: "/db", fs: new MemFs(), seqno });
    // Tables b..d, f..h, j..l (in one run or several), then a run that overlaps them, deleting an edge
    // key and adding one between tables.
    for (const group of [["b", "c", "d"], ["f", "g", "h"], ["j", "k", "l"]]) {
      for (const key of group) tree.insert(key, key, seqno.next());
      await tree.flushActiveMemtable(0);
    }
    tree.remove("f", seqno.next());
    tree.insert("e", "e", seqno.next());
    await tree.flushActiveMemtable(0);
    expect(tree.l0RunCount()).toBeGreaterThanOrEqual(2);
    const all = keysOf(tree.range({}, SEQNO_MAX));
    expect(all).toEqual(["b", "c", "d", "e", "g", "h", "j", "k", "l"]);
    const bounds = ["a", "b", "c", "d", "dd", "e", "f", "g", "h", "i", "j", "l", "m"];
    let checked = 0;
    for (const lo of [undefined, ...bounds]) {
      for (const hi of [undefined, ...bounds]) {
        for (const [loKind, hiKind] of [["gte", "lte"], ["gt", "lt"], ["gte", "lt"], ["gt", "lte"]] as const) {
          for (const reverse of [false, true]) {
            const options: RangeOptions = { ...(lo === undefined ? {} : { [loKind]: lo }), ...(hi === undefined ? {} : { [hiKind]: hi }), reverse, limit: 3 };
            const inRange = all.filter(
              (key) =>
                (lo === undefined || (loKind === "gte" ? key >= lo : key > lo)) && (hi === undefined || (hiKind === "lte" ? key <= hi : key < hi)),
            );
            const expected = (reverse ? inRange.reverse() : inRange).slice(0, 3);
            expect(keysOf(tree.range(options, SEQNO_MAX)), JSON.stringify(options)).toEqual(expected);
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
    expect(keysOf(tree.prefix("d", SEQNO_MAX))).toEqual(["d"]);
    await tree.close();
  });
});
