// Tree.scan on a blob tree: separated values reach the visitor as the values written (read from their
// blob files), not as the handles the tables hold, in both directions and alongside memtable values.
import { describe, expect, it } from "vitest";
import { MemFs } from "@talus/fs";
import { SEQNO_MAX, SequenceNumberCounter } from "@talus/lsm-core";
import { BlobTree } from "../src/index.ts";

const THRESHOLD = 64;
const key = (i: number): string => `key${String(i).padStart(5, "0")}`;
/** Every third value is large enough to be separated. */
const value = (i: number, tag = "v"): string => (i % 3 === 0 ? `${tag}${i}:`.padEnd(THRESHOLD + 10 + i, "x") : `${tag}${i}`);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

describe("BlobTree scan", () => {
  it("visits separated values resolved, as range yields them", async () => {
    const seqno = new SequenceNumberCounter();
    const tree = await BlobTree.open({ path: "/db", fs: new MemFs(), seqno, kvSeparation: { separationThreshold: THRESHOLD } });
    for (let i = 0; i < 90; i++) tree.insert(key(i), value(i), seqno.next());
    await tree.flushActiveMemtable(0);
    expect(tree.blobFileCount()).toBe(1);
    // Newer versions in the memtable, large ones too (not separated until flushed), and a deletion.
    for (let i = 0; i < 90; i += 10) tree.insert(key(i), value(i, "w"), seqno.next());
    tree.remove(key(3), seqno.next());
    const expected = Array.from({ length: 90 }, (_, i) => i)
      .filter((i) => i !== 3)
      .map((i) => `${key(i)}=${value(i, i % 10 === 0 ? "w" : "v")}`);
    for (const reverse of [false, true]) {
      const seen: string[] = [];
      const count = tree.scan({ reverse }, SEQNO_MAX, (k, v) => {
        seen.push(`${dec(k)}=${dec(v)}`);
      });
      expect(seen).toEqual(reverse ? [...expected].reverse() : expected);
      expect(count).toBe(89);
      expect(seen).toEqual([...tree.range({ reverse }, SEQNO_MAX)].map(([k, v]) => `${dec(k)}=${dec(v)}`));
    }
    // Before the overwrites: every separated value as first written.
    const before: string[] = [];
    tree.scan({ gte: key(30), lt: key(40) }, seqno.get() - 10, (k, v) => void before.push(`${dec(k)}=${dec(v)}`));
    expect(before).toEqual(Array.from({ length: 10 }, (_, j) => `${key(30 + j)}=${value(30 + j)}`));
    await tree.close();
  });
});
