// Checkpoints across filesystems: a MemFs tree to disk and a disk tree to MemFs (streamed copies that are
// independent of the source), the same disk (hard links: one inode), and two devices (StdFs falls back to a
// copy on EXDEV). Each checkpoint is opened as a tree of its own. IoUringFs names the same files as StdFs
// (KERNEL_BACKEND_ID): between the two, checkpoints link; from or to a MemFs they copy.
import { existsSync, openSync, statSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { fsError, IoUringFs, ioUringUnavailableReason, isIoUringAvailable, KERNEL_BACKEND_ID, MemFs, StdFs, type Fs } from "@talus/fs";
import { SEQNO_MAX, SequenceNumberCounter, Tree } from "@talus/lsm-core";
import { useTempDirs } from "@talus/testkit";
import { createCheckpoint, linkOrCopy } from "../src/index.ts";
import {
  contents,
  DelegatingFs,
  diffMaps,
  dirBytes,
  openSource,
  readBytes,
  readTree,
  RecordingFs,
  tableFiles,
  writeBytes,
  type Source,
} from "./support.ts";

const dirs = useTempDirs(afterEach);
const std = new StdFs();

/** Why io_uring cannot be used here (the IoUringFs tests are skipped then), or undefined. */
const IOURING_UNAVAILABLE = isIoUringAvailable() ? undefined : (ioUringUnavailableReason() ?? "unknown reason");
const rings: IoUringFs[] = [];
afterAll(() => {
  for (const ring of rings.splice(0)) ring.close();
});
/** An IoUringFs closed after the file's tests (each owns a ring and a thread). */
function ioUringFs(): IoUringFs {
  const fs = new IoUringFs();
  rings.push(fs);
  return fs;
}

/** Three flushed tables plus a memtable the checkpoint flushes: four tables in all. */
async function populate(src: Source): Promise<void> {
  for (let t = 0; t < 3; t++) {
    src.fill(t * 500, (t + 1) * 500);
    await src.tree.flushActiveMemtable(0);
  }
  src.fill(1500, 1700);
  src.remove("key000007");
}

/** The source's table files by id, as [path on the source fs, size]. */
function sourceTables(tree: Tree): Map<string, { path: string; fs: Fs; size: number }> {
  const out = new Map<string, { path: string; fs: Fs; size: number }>();
  for (const t of tree.currentVersion().tables()) out.set(String(t.id), { path: t.path, fs: t.fs, size: t.fs.metadata(t.path).len });
  return out;
}

/** StdFs whose link(2) always fails with EXDEV, as it does across devices (the seam StdFs provides for this). */
class CrossDeviceStdFs extends StdFs {
  protected override linkFile(src: string, dst: string): void {
    throw fsError("EXDEV", "link", src, dst);
  }
}

/** Zeroes a disk file in place (same inode): a change every hard link would see. */
function zeroInPlace(path: string): void {
  const size = statSync(path).size;
  const fd = openSync(path, "r+");
  try {
    writeSync(fd, new Uint8Array(size), 0, size, 0);
  } finally {
    closeSync(fd);
  }
}

describe("cross-backend checkpoints copy", () => {
  it("MemFs tree → disk (opts.fs = new StdFs()): copies, independent files, opens on its own", async () => {
    const mem = new MemFs();
    const src = await openSource({ path: "/db", fs: mem });
    await populate(src);
    const target = join(dirs.make("cross"), "ck");
    const targetFs = new RecordingFs(new StdFs());
    const info = await createCheckpoint(src.tree, target, { fs: targetFs });
    expect(targetFs.links).toEqual([]); // never a link across namespaces
    const tables = sourceTables(src.tree);
    expect(info.sstFiles).toBe(4);
    expect(tableFiles(std, join(target, "tables"))).toEqual([...tables.keys()].sort((a, b) => Number(a) - Number(b)));
    expect(info.totalBytes).toBe(dirBytes(std, join(target, "tables")));
    expect(info.totalBytes).toBe([...tables.values()].reduce((sum, t) => sum + t.size, 0));
    for (const [id, t] of tables) expect(readBytes(std, join(target, "tables", id))).toEqual(readBytes(mem, t.path));

    const expected = src.model.at();
    expect(diffMaps(await readTree(std, target), expected)).toEqual([]);
    // Independent: damaging the source's files leaves the copies as they were.
    const originals = new Map([...tables].map(([id, t]) => [id, readBytes(mem, t.path)] as const));
    await src.tree.close();
    for (const t of tables.values()) writeBytes(mem, t.path, new Uint8Array(t.size));
    for (const [id, bytes] of originals) expect(readBytes(std, join(target, "tables", id))).toEqual(bytes);
    mem.removeDirAll("/db");
    expect(diffMaps(await readTree(std, target), expected)).toEqual([]);
  });

  it("disk tree → MemFs: copies, independent files, opens on its own", async () => {
    const dbPath = join(dirs.make("cross"), "db");
    const src = await openSource({ path: dbPath });
    await populate(src);
    const mem = new MemFs();
    const info = await createCheckpoint(src.tree, "/ck", { fs: mem });
    const tables = sourceTables(src.tree);
    expect(info.sstFiles).toBe(4);
    expect(tableFiles(mem, "/ck/tables")).toEqual([...tables.keys()].sort((a, b) => Number(a) - Number(b)));
    expect(info.totalBytes).toBe(dirBytes(mem, "/ck/tables"));
    const originals = new Map([...tables].map(([id, t]) => [id, readBytes(std, t.path)] as const));
    for (const [id, bytes] of originals) expect(readBytes(mem, `/ck/tables/${id}`)).toEqual(bytes);

    const expected = src.model.at();
    // Both sides go on independently: a write to each is invisible to the other.
    const ckSeqno = new SequenceNumberCounter();
    const ck = await Tree.open({ path: "/ck", fs: mem, seqno: ckSeqno });
    expect(diffMaps(contents(ck), expected)).toEqual([]);
    ck.insert("checkpoint-only", "c", ckSeqno.next());
    await ck.flushActiveMemtable(0);
    src.write("source-only", "s");
    await src.tree.flushActiveMemtable(0);
    expect(src.tree.get("checkpoint-only", SEQNO_MAX)).toBeUndefined();
    expect(ck.get("source-only", SEQNO_MAX)).toBeUndefined();
    await ck.close();
    await src.tree.close();

    for (const t of tables.values()) zeroInPlace(t.path);
    for (const [id, bytes] of originals) expect(readBytes(mem, `/ck/tables/${id}`)).toEqual(bytes);
    const reopened = await readTree(mem, "/ck");
    expect(reopened.get("checkpoint-only")).toBe("c");
    reopened.delete("checkpoint-only");
    expect(diffMaps(reopened, expected)).toEqual([]);
  });

  it("two MemFs volumes never link, even through wrappers that forward backendId", async () => {
    const mem = new MemFs();
    const src = await openSource({ path: "/db", fs: mem });
    await populate(src);
    const other = new RecordingFs(new MemFs());
    const info = await createCheckpoint(src.tree, "/ck", { fs: other });
    expect(other.links).toEqual([]);
    expect(info.totalBytes).toBe(dirBytes(other, "/ck/tables"));
    expect(diffMaps(await readTree(other, "/ck"), src.model.at())).toEqual([]);
    await src.tree.close();
  });

  it("a target fs without a backendId is always copied to, even over the very same volume", async () => {
    const mem = new MemFs();
    const src = await openSource({ path: "/db", fs: mem });
    await populate(src);
    class Anonymous extends DelegatingFs {
      override backendId(): string | undefined {
        return undefined;
      }
      override hardLink(src: string, dst: string): void {
        throw new Error(`hardLink(${src}, ${dst}) must not be called`);
      }
    }
    const info = await createCheckpoint(src.tree, "/ck", { fs: new Anonymous(mem) });
    expect(info.totalBytes).toBe(dirBytes(mem, "/ck/tables"));
    const t = [...sourceTables(src.tree)][0];
    if (t === undefined) throw new Error("no tables");
    const [id, { path, size }] = t;
    writeBytes(mem, path, new Uint8Array(size));
    expect(readBytes(mem, `/ck/tables/${id}`)).not.toEqual(new Uint8Array(size));
    await src.tree.close();
  });

  it("a backend that cannot link (ENOTSUP) falls back to a copy", async () => {
    const mem = new MemFs();
    const src = await openSource({ path: "/db", fs: mem });
    await populate(src);
    let attempts = 0;
    class NoLinks extends DelegatingFs {
      override hardLink(src: string, dst: string): void {
        attempts++;
        throw fsError("ENOTSUP", "link", src, dst);
      }
    }
    const fs = new NoLinks(mem);
    expect(fs.backendId()).toBe(mem.backendId());
    const info = await createCheckpoint(src.tree, "/ck", { fs });
    expect(attempts).toBe(4);
    expect(info.totalBytes).toBe(dirBytes(mem, "/ck/tables"));
    const expected = src.model.at();
    const tables = sourceTables(src.tree);
    await src.tree.close();
    for (const t of tables.values()) writeBytes(mem, t.path, new Uint8Array(t.size));
    expect(diffMaps(await readTree(mem, "/ck"), expected)).toEqual([]);
  });

  it("linkOrCopy reports a copy and its size", () => {
    const a = new MemFs();
    const b = new MemFs();
    writeBytes(a, "/f", new Uint8Array([1, 2, 3]));
    expect(linkOrCopy(a, "/f", b, "/g")).toEqual({ bytes: 3, linked: false });
    expect(linkOrCopy(a, "/f", a, "/h")).toEqual({ bytes: 3, linked: true });
    expect(readBytes(b, "/g")).toEqual(new Uint8Array([1, 2, 3]));
  });
});

describe("level routes on another backend", () => {
  it("a disk tree whose hot levels live on a MemFs: routed tables are copied, primary ones linked, all into tables/", async () => {
    const base = dirs.make("routes");
    const hotFs = new MemFs();
    const src = await openSource({ path: join(base, "db"), levelRoutes: [{ levels: [0, 2], path: "/hot", fs: hotFs }] });
    src.fill(0, 300);
    await src.tree.flushActiveMemtable(0);
    await src.tree.majorCompact(Number.POSITIVE_INFINITY, 0); // L6: on disk
    src.fill(300, 600);
    await src.tree.flushActiveMemtable(0); // L0: on the MemFs
    src.fill(600, 700); // flushed by the checkpoint into L0, on the MemFs
    const target = join(base, "ck");
    const recording = new RecordingFs(new StdFs());
    const info = await createCheckpoint(src.tree, target, { fs: recording });
    const tables = sourceTables(src.tree);
    expect(info.sstFiles).toBe(3);
    const onDisk = [...tables].filter(([, t]) => t.fs !== hotFs);
    expect(onDisk).toHaveLength(1);
    expect(recording.links.map(([, dst]) => dst)).toEqual(onDisk.map(([id]) => `${target}/tables/${id}`));
    for (const [id, t] of tables) {
      expect(readBytes(std, join(target, "tables", id))).toEqual(readBytes(t.fs, t.path));
      if (t.fs !== hotFs) expect(statSync(join(target, "tables", id)).ino).toBe(statSync(t.path).ino);
    }
    expect(info.totalBytes).toBe(dirBytes(std, join(target, "tables")));
    const expected = src.model.at();
    await src.tree.close();
    hotFs.removeDirAll("/hot");
    expect(diffMaps(await readTree(std, target), expected)).toEqual([]);
  });
});

describe("same backend on disk: hard links", () => {
  it("every table is a hard link (same inode), and totalBytes is the real file sizes", async () => {
    const base = dirs.make("links");
    const src = await openSource({ path: join(base, "db") });
    await populate(src);
    const info = await createCheckpoint(src.tree, join(base, "ck"));
    const tables = sourceTables(src.tree);
    expect(info.sstFiles).toBe(tables.size);
    for (const [id, t] of tables) {
      const linked = statSync(join(base, "ck", "tables", id));
      expect(linked.ino).toBe(statSync(t.path).ino);
      expect(linked.nlink).toBe(2);
    }
    expect(info.totalBytes).toBe(dirBytes(std, join(base, "ck", "tables")));
    expect(info.totalBytes).toBe(src.tree.diskSpace());
    await src.tree.close();
    expect(diffMaps(await readTree(std, join(base, "ck")), src.model.at())).toEqual([]);
  });
});

describe("across devices: StdFs falls back to copying", () => {
  /** /dev/shm is a tmpfs on most Linux machines: another device than the temp dir. */
  const shmIsAnotherDevice = ((): boolean => {
    try {
      return existsSync("/dev/shm") && statSync("/dev/shm").dev !== statSync(tmpdir()).dev;
    } catch {
      return false;
    }
  })();

  async function checkCopied(targetFs: Fs, targetParent: string): Promise<void> {
    const src = await openSource({ path: join(dirs.make("xdev"), "db") });
    await populate(src);
    const target = join(targetParent, "ck");
    const info = await createCheckpoint(src.tree, target, { fs: targetFs });
    const tables = sourceTables(src.tree);
    expect(info.sstFiles).toBe(tables.size);
    for (const [id, t] of tables) {
      const copy = statSync(join(target, "tables", id));
      expect(copy.ino === statSync(t.path).ino && copy.dev === statSync(t.path).dev).toBe(false);
      expect(copy.nlink).toBe(1);
      expect(copy.size).toBe(t.size);
    }
    expect(info.totalBytes).toBe(dirBytes(std, join(target, "tables")));
    const expected = src.model.at();
    await src.tree.close();
    for (const t of tables.values()) zeroInPlace(t.path);
    expect(diffMaps(await readTree(std, target), expected)).toEqual([]);
  }

  it(`a target on another device (${shmIsAnotherDevice ? "/dev/shm" : "simulated: /dev/shm is not another device here"}) gets copies`, async () => {
    if (shmIsAnotherDevice) await checkCopied(new StdFs(), dirs.make("xdev", "/dev/shm"));
    else await checkCopied(new CrossDeviceStdFs(), dirs.make("xdev"));
  });

  it("an EXDEV from link(2) (the StdFs seam) makes a durable copy", async () => {
    await checkCopied(new CrossDeviceStdFs(), dirs.make("xdev"));
  });
});

describe.skipIf(IOURING_UNAVAILABLE !== undefined)(
  `IoUringFs on either side${IOURING_UNAVAILABLE === undefined ? "" : ` (skipped: io_uring is unavailable, ${IOURING_UNAVAILABLE})`}`,
  () => {
    it("a tree on IoUringFs checkpoints with hard links, to its own fs or to a StdFs (one backend id), and each opens on the other", async () => {
      const base = dirs.make("iouring");
      const ring = ioUringFs();
      expect(ring.backendId()).toBe(KERNEL_BACKEND_ID);
      expect(std.backendId()).toBe(KERNEL_BACKEND_ID);
      const src = await openSource({ path: join(base, "db"), fs: ring });
      await populate(src);
      const toRing = new RecordingFs(ioUringFs());
      const toStd = new RecordingFs(new StdFs());
      const infoRing = await createCheckpoint(src.tree, join(base, "ck-ring"), { fs: toRing });
      const infoStd = await createCheckpoint(src.tree, join(base, "ck-std"), { fs: toStd });
      const tables = sourceTables(src.tree);
      for (const [info, recording, target] of [
        [infoRing, toRing, "ck-ring"],
        [infoStd, toStd, "ck-std"],
      ] as const) {
        expect(info.sstFiles).toBe(tables.size);
        expect(recording.links).toHaveLength(tables.size);
        for (const [id, t] of tables) expect(statSync(join(base, target, "tables", id)).ino).toBe(statSync(t.path).ino);
      }
      const expected = src.model.at();
      await src.tree.close();
      expect(diffMaps(await readTree(std, join(base, "ck-ring")), expected)).toEqual([]);
      expect(diffMaps(await readTree(ioUringFs(), join(base, "ck-std")), expected)).toEqual([]);
    });

    it("a StdFs tree checkpoints into an IoUringFs target with hard links", async () => {
      const base = dirs.make("iouring");
      const src = await openSource({ path: join(base, "db") });
      await populate(src);
      const target = new RecordingFs(ioUringFs());
      const info = await createCheckpoint(src.tree, join(base, "ck"), { fs: target });
      const tables = sourceTables(src.tree);
      expect(target.links).toHaveLength(tables.size);
      expect(info.totalBytes).toBe(dirBytes(std, join(base, "ck", "tables")));
      const expected = src.model.at();
      await src.tree.close();
      expect(diffMaps(await readTree(ioUringFs(), join(base, "ck")), expected)).toEqual([]);
    });

    it("MemFs tree → IoUringFs and IoUringFs tree → MemFs copy, and the copies are independent", async () => {
      const mem = new MemFs();
      const src = await openSource({ path: "/db", fs: mem });
      await populate(src);
      const target = join(dirs.make("iouring"), "ck");
      const ring = new RecordingFs(ioUringFs());
      const info = await createCheckpoint(src.tree, target, { fs: ring });
      expect(ring.links).toEqual([]);
      const tables = sourceTables(src.tree);
      for (const [id, t] of tables) expect(readBytes(std, join(target, "tables", id))).toEqual(readBytes(mem, t.path));
      expect(info.totalBytes).toBe(dirBytes(std, join(target, "tables")));
      const expected = src.model.at();
      await src.tree.close();
      for (const t of tables.values()) writeBytes(mem, t.path, new Uint8Array(t.size));
      expect(diffMaps(await readTree(ioUringFs(), target), expected)).toEqual([]);

      // And back: a tree on IoUringFs into a fresh MemFs.
      const back = await openSource({ path: join(dirs.make("iouring"), "db"), fs: ioUringFs() });
      await populate(back);
      const mem2 = new MemFs();
      await createCheckpoint(back.tree, "/ck", { fs: mem2 });
      const backExpected = back.model.at();
      const backTables = sourceTables(back.tree);
      await back.tree.close();
      for (const t of backTables.values()) zeroInPlace(t.path);
      expect(diffMaps(await readTree(mem2, "/ck"), backExpected)).toEqual([]);
    });
  },
);
