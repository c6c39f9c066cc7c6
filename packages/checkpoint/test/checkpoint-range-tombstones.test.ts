// A checkpoint of a tree with range tombstones (in tables, in a tombstone-only table, and in the memtable
// the checkpoint flushes) opens with them: every read at the checkpoint's seqno and below answers as the
// source did. Tombstones live inside table files, so checkpoints need nothing of their own for them.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { useTempDirs } from "@talus/testkit";
import { SEQNO_MAX, SequenceNumberCounter, Tree } from "@talus/lsm-core";
import { createCheckpoint } from "../src/index.ts";
import { dec } from "./support.ts";

const dirs = useTempDirs(afterEach);
const k = (i: number): string => `k${String(i).padStart(2, "0")}`;

function view(tree: Tree, seqno: number): string[] {
  return [...tree.iter(seqno)].map(([key, value]) => `${dec(key)}=${dec(value)}`);
}

describe("checkpoints and range tombstones", () => {
  it("a checkpoint keeps the tombstones of tables and of the flushed memtable, and nothing written after it", async () => {
    const base = dirs.make("ck-rt");
    const seqno = new SequenceNumberCounter();
    const tree = await Tree.open({ path: join(base, "db"), seqno });
    for (let i = 0; i < 30; i++) tree.insert(k(i), `v${i}`, seqno.next());
    tree.removeRange(k(3), k(8), seqno.next());
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(1 << 20, 0);
    tree.removeRange(k(10), k(15), seqno.next()); // a tombstone-only table
    await tree.flushActiveMemtable(0);
    tree.removeRange(k(20), k(25), seqno.next()); // in the memtable: the checkpoint flushes it
    tree.insert(k(21), "again", seqno.next());
    const info = await createCheckpoint(tree, join(base, "ck"));
    tree.insert(k(4), "after", seqno.next());
    const expected = [info.seqno, info.seqno - 1, info.seqno - 3, 31, 30].map((s) => view(tree, s));
    await tree.close();

    const ck = await Tree.open({ path: join(base, "ck") });
    expect([info.seqno, info.seqno - 1, info.seqno - 3, 31, 30].map((s) => view(ck, s))).toEqual(expected);
    expect(view(ck, SEQNO_MAX)).toEqual(expected[0]);
    expect(view(ck, SEQNO_MAX)).toHaveLength(30 - 5 - 5 - 5 + 1);
    expect(ck.get(k(4), SEQNO_MAX)).toBeUndefined();
    expect(dec(ck.get(k(21), SEQNO_MAX))).toBe("again");
    ck.verify();
    await ck.close();
  });
});
