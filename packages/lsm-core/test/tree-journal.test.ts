import { MemFs, StdFs, type Fs } from "@talus/fs";
import { FaultFs, useTempDirs } from "@talus/testkit";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { counterMerge, JOURNAL_DIR_NAME, SEQNO_MAX, SequenceNumberCounter, Tree, WriteBatch } from "../src/index.ts";
import { codeOf, dec, entriesAt, rejectionOf } from "./tree-test-support.ts";
import { ioUringRows, noteIoUringSkipped, useIoUringFs } from "./backends.ts";

const dirs = useTempDirs(afterEach);
const ioUringFs = useIoUringFs(afterAll);

function le64(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  return out;
}

function journalFiles(fs: Fs, path: string): number[] {
  const dir = `${path}/${JOURNAL_DIR_NAME}`;
  if (!fs.exists(dir)) return [];
  return fs
    .readDir(dir)
    .map((e) => Number(e.fileName))
    .sort((a, b) => a - b);
}

/** Every kind of write, at fresh seqnos. */
function writeEverything(tree: Tree, seqno: SequenceNumberCounter, round: number): void {
  for (let i = 0; i < 50; i++) tree.insert(`k${String(i).padStart(3, "0")}`, `v${round}-${i}`, seqno.next());
  tree.remove("k007", seqno.next());
  tree.removeWeak("k008", seqno.next());
  tree.merge("counter", le64(round + 1), seqno.next());
  tree.removeRange("k020", "k025", seqno.next());
  tree.removePrefix("k04", seqno.next());
  const batch = new WriteBatch().insert(`batch${round}`, "b").remove("k001").merge("counter", le64(10));
  tree.applyBatch(batch, seqno.next());
}

noteIoUringSkipped("the journal tests");

describe.each([
  { name: "MemFs", make: (): { fs: Fs; path: string } => ({ fs: new MemFs(), path: "/db" }) },
  { name: "StdFs", make: (): { fs: Fs; path: string } => ({ fs: new StdFs(), path: dirs.make("journal") }) },
  ...ioUringRows(() => [{ name: "IoUringFs", make: (): { fs: Fs; path: string } => ({ fs: ioUringFs(), path: dirs.make("journal-iouring") }) }]),
])("the journal on $name", ({ make }) => {
  it("brings back every kind of write that was never flushed (a close that discards the memtables)", async () => {
    const { fs, path } = make();
    const seqno = new SequenceNumberCounter();
    const options = { path, fs, seqno, journal: true, mergeOperator: counterMerge } as const;
    let tree = await Tree.open(options);
    writeEverything(tree, seqno, 0);
    await tree.flushActiveMemtable(0);
    writeEverything(tree, seqno, 1);
    tree.rotateMemtable();
    writeEverything(tree, seqno, 2);
    const expected = entriesAt(tree);
    const snapshotSeqno = seqno.get();
    await tree.close({ discard: true });
    tree = await Tree.open(options);
    expect(entriesAt(tree)).toEqual(expected);
    expect(dec(tree.get("k010", SEQNO_MAX))).toBe("v2-10");
    expect(new DataView(tree.get("counter", SEQNO_MAX)!.buffer).getBigUint64(0, true)).toBe(36n);
    // The counters were raised past the replayed writes.
    expect(seqno.get()).toBeGreaterThanOrEqual(snapshotSeqno);
    await tree.close();
  });

  it("deletes journal files once their memtables are flushed, and a clean close leaves nothing to replay", async () => {
    const { fs, path } = make();
    const seqno = new SequenceNumberCounter();
    const tree = await Tree.open({ path, fs, seqno, journal: true });
    tree.insert("a", "1", seqno.next());
    tree.rotateMemtable();
    tree.insert("b", "2", seqno.next());
    expect(journalFiles(fs, path).length).toBe(2);
    await tree.flushActiveMemtable(0);
    // Only the new active memtable's file is left.
    expect(journalFiles(fs, path).length).toBe(1);
    tree.insert("c", "3", seqno.next());
    await tree.close();
    // The close flushed "c" and removed its journal file; the file it made for later writes was empty.
    expect(journalFiles(fs, path)).toEqual([]);
    const reopened = await Tree.open({ path, fs, journal: true });
    expect(reopened.approximateLen()).toBe(3);
    expect(reopened.sealedMemtableCount()).toBe(0);
    expect(dec(reopened.get("c", SEQNO_MAX))).toBe("3");
    await reopened.close();
  });

  it("a tree opened without a journal still replays what an earlier open journaled, and drops the files once flushed", async () => {
    const { fs, path } = make();
    const seqno = new SequenceNumberCounter();
    let tree = await Tree.open({ path, fs, seqno, journal: true });
    tree.insert("kept", "yes", seqno.next());
    await tree.close({ discard: true });
    tree = await Tree.open({ path, fs, seqno });
    expect(dec(tree.get("kept", SEQNO_MAX))).toBe("yes");
    tree.insert("unjournaled", "x", seqno.next());
    await tree.flushActiveMemtable(0);
    expect(journalFiles(fs, path)).toEqual([]);
    await tree.close();
    tree = await Tree.open({ path, fs });
    expect(dec(tree.get("kept", SEQNO_MAX))).toBe("yes");
    expect(dec(tree.get("unjournaled", SEQNO_MAX))).toBe("x");
    await tree.close();
  });

  it("cuts a torn tail at the last whole record", async () => {
    const { fs, path } = make();
    const seqno = new SequenceNumberCounter();
    const tree = await Tree.open({ path, fs, seqno, journal: true });
    for (let i = 0; i < 10; i++) tree.insert(`key${i}`, `value${i}`, seqno.next());
    await tree.persist();
    await tree.close({ discard: true });
    const [number] = journalFiles(fs, path);
    const file = `${path}/${JOURNAL_DIR_NAME}/${number}`;
    // Cut the last record in half.
    const size = fs.metadata(file).len;
    const handle = fs.open(file, { write: true });
    handle.setLen(size - 5);
    handle.close();
    const reopened = await Tree.open({ path, fs, journal: true });
    expect(reopened.len(SEQNO_MAX)).toBe(9);
    expect(reopened.get("key9", SEQNO_MAX)).toBeUndefined();
    expect(dec(reopened.get("key8", SEQNO_MAX))).toBe("value8");
    await reopened.close();
  });
});

describe("persist()", () => {
  it("group commit: 64 concurrent persists after their writes share a couple of syncs", async () => {
    const fs = new FaultFs(new MemFs());
    const seqno = new SequenceNumberCounter();
    const tree = await Tree.open({ path: "/db", fs, seqno, journal: true });
    tree.insert("warm", "up", seqno.next());
    await tree.persist();
    const syncsBefore = fs.calls.sync;
    const persists: Promise<void>[] = [];
    for (let i = 0; i < 64; i++) {
      tree.insert(`writer${i}`, "v", seqno.next());
      persists.push(tree.persist());
    }
    await Promise.all(persists);
    expect(fs.calls.sync - syncsBefore).toBeLessThanOrEqual(2);
    await tree.close();
  });

  it("without a journal, persist() flushes", async () => {
    const fs = new MemFs();
    const seqno = new SequenceNumberCounter();
    const tree = await Tree.open({ path: "/db", fs, seqno });
    tree.insert("a", "1", seqno.next());
    await tree.persist();
    expect(tree.tableCount()).toBe(1);
    await tree.close({ discard: true });
    const reopened = await Tree.open({ path: "/db", fs });
    expect(dec(reopened.get("a", SEQNO_MAX))).toBe("1");
    await reopened.close();
  });

  it("a failed journal sync rejects persist() with its code, and later writes are refused", async () => {
    const fs = new FaultFs(new MemFs());
    const seqno = new SequenceNumberCounter();
    const tree = await Tree.open({ path: "/db", fs, seqno, journal: true });
    tree.insert("before", "1", seqno.next());
    await tree.persist();
    fs.addRule({ ops: "sync", path: `**/${JOURNAL_DIR_NAME}/*`, error: "EIO" });
    tree.insert("lost", "2", seqno.next());
    expect(codeOf(await rejectionOf(tree.persist()))).toBe("EIO");
    expect(() => tree.insert("after", "3", seqno.next())).toThrow();
    expect(tree.get("after", SEQNO_MAX)).toBeUndefined();
    fs.clearRules();
    await tree.close().catch(() => undefined);
    const reopened = await Tree.open({ path: "/db", fs });
    expect(dec(reopened.get("before", SEQNO_MAX))).toBe("1");
    await reopened.close();
  });

  it("checks the journal option", async () => {
    await expect(Tree.open({ path: "/x", fs: new MemFs(), journal: "yes" as unknown as boolean })).rejects.toThrow(TypeError);
    await expect(Tree.open({ path: "/x", fs: new MemFs(), journal: { sync: "always" as "group" } })).rejects.toThrow(RangeError);
  });
});
