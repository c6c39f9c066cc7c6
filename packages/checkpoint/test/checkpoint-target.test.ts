// The target path rules (reference spec 6.1 steps 1–2 and 6.4): `.` components are dropped, a path naming no
// component is EINVAL, an existing target (directory or file) is EEXIST and left untouched, a missing parent
// is ENOENT, and a backend that cannot create directories is ENOTSUP. A refused target changes nothing: no
// directory is created and the source is not even flushed.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fsError, MemFs, StdFs } from "@talus/fs";
import { useTempDirs } from "@talus/testkit";
import { createCheckpoint } from "../src/index.ts";
import { codeOf, DelegatingFs, diffMaps, listing, openSource, readTree, RecordingFs, type Source } from "./support.ts";

const dirs = useTempDirs(afterEach);
const std = new StdFs();

async function memSource(): Promise<{ mem: MemFs; src: Source }> {
  const mem = new MemFs();
  mem.createDir("/data");
  const src = await openSource({ path: "/data/db", fs: mem });
  src.fill(0, 50);
  return { mem, src };
}

/** The checkpoint was refused before doing anything: the memtable is still unflushed and no pause is held. */
function expectNothingDone(src: Source): void {
  expect(src.tree.tableCount()).toBe(0);
  expect(src.tree.deletionPause.isActive()).toBe(false);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected the checkpoint to be refused");
    },
    (error: unknown) => error,
  );
}

describe("normalisation", () => {
  it.each([
    ["./ck", "ck", "/ck"],
    ["ck/.", "ck", "/ck"],
    ["./ck/./", "ck", "/ck"],
    ["/data/./ck", "/data/ck", "/data/ck"],
    ["/data/ck/.", "/data/ck", "/data/ck"],
    ["/data//ck/", "/data/ck", "/data/ck"],
    ["/data/x/../ck", "/data/x/../ck", "/data/ck"],
  ])("%j claims %j", async (given, claimed, resolved) => {
    const { mem, src } = await memSource();
    mem.createDir("/data/x");
    const fs = new RecordingFs(mem);
    const info = await createCheckpoint(src.tree, given, { fs });
    // Prepared with its tables/ under a hidden name beside the target, then renamed into place.
    const hidden = fs.createdDirs[0] ?? "";
    const parent = claimed.slice(0, claimed.lastIndexOf("/") + 1);
    expect(hidden.startsWith(parent) && /^\.talus-checkpoint-[0-9a-f]{16}$/.test(hidden.slice(parent.length))).toBe(true);
    expect(fs.createdDirs).toEqual([hidden, `${hidden}/tables`]);
    expect(fs.renames[0]).toEqual([hidden, claimed]);
    expect(mem.exists(resolved)).toBe(true);
    expect(info.sstFiles).toBe(1);
    expect(diffMaps(await readTree(mem, resolved), src.model.at())).toEqual([]);
    await src.tree.close();
  });

  it("on disk: `<dir>/./ck/.` is `<dir>/ck`", async () => {
    const base = dirs.make("target");
    const src = await openSource({ path: join(base, "db") });
    src.fill(0, 50);
    await createCheckpoint(src.tree, `${base}/./ck/.`);
    expect(readdirSync(base).sort()).toEqual(["ck", "db"]);
    expect(diffMaps(await readTree(std, join(base, "ck")), src.model.at())).toEqual([]);
    await src.tree.close();
  });
});

describe("refused targets change nothing", () => {
  it.each(["", ".", "./", "././.", "/", "/."])("%j names no directory: EINVAL", async (given) => {
    const { mem, src } = await memSource();
    const fs = new RecordingFs(mem);
    const before = listing(mem, "/");
    const error = await rejection(createCheckpoint(src.tree, given, { fs }));
    expect(codeOf(error)).toBe("EINVAL");
    expect(String(error)).toMatch(/at least one path component/);
    expect(fs.createdDirs).toEqual([]);
    expect(listing(mem, "/")).toEqual(before);
    expectNothingDone(src);
    await src.tree.close();
  });

  it("a target that is not a string: TypeError", async () => {
    const { src } = await memSource();
    const target: unknown = 42;
    await expect(createCheckpoint(src.tree, target as string)).rejects.toThrow(TypeError);
    expectNothingDone(src);
    await src.tree.close();
  });

  it("an existing directory: EEXIST, its contents untouched", async () => {
    const base = dirs.make("target");
    const src = await openSource({ path: join(base, "db") });
    src.fill(0, 50);
    mkdirSync(join(base, "ck"));
    writeFileSync(join(base, "ck", "notes.txt"), "keep me");
    mkdirSync(join(base, "ck", "tables"));
    const error = await rejection(createCheckpoint(src.tree, join(base, "ck")));
    expect(codeOf(error)).toBe("EEXIST");
    expect(String(error)).toMatch(/already exists; refusing to overwrite/);
    expect(listing(std, join(base, "ck"))).toEqual({ "notes.txt": 7, tables: "dir" });
    expect(readFileSync(join(base, "ck", "notes.txt"), "utf8")).toBe("keep me");
    expectNothingDone(src);
    await src.tree.close();
  });

  it("an existing empty directory: EEXIST, left as it was (a rename into place would replace it)", async () => {
    const { mem, src } = await memSource();
    mem.createDir("/data/ck");
    const error = await rejection(createCheckpoint(src.tree, "/data/ck"));
    expect(codeOf(error)).toBe("EEXIST");
    expect(mem.readDir("/data").map((e) => e.fileName).sort()).toEqual(["ck", "db"]);
    expect(mem.readDir("/data/ck")).toEqual([]);
    expectNothingDone(src);
    await src.tree.close();
  });

  it.each(["a file", "a non-empty directory"])("%s that appears at the target while it is claimed: EEXIST, it is untouched, nothing else is left", async (what) => {
    const { mem, src } = await memSource();
    class Racing extends DelegatingFs {
      override rename(from: string, to: string): void {
        if (to === "/data/ck" && !mem.exists(to)) {
          if (what === "a file") mem.open(to, { write: true, createNew: true }).close();
          else {
            mem.createDir(to);
            mem.open(`${to}/mine`, { write: true, createNew: true }).close();
          }
        }
        super.rename(from, to);
      }
    }
    const before = listing(mem, "/data/db");
    const error = await rejection(createCheckpoint(src.tree, "/data/ck", { fs: new Racing(mem) }));
    expect(codeOf(error)).toBe("EEXIST");
    expect(mem.readDir("/data").map((e) => e.fileName).sort()).toEqual(["ck", "db"]);
    if (what === "a file") expect(mem.metadata("/data/ck")).toMatchObject({ isFile: true, len: 0 });
    else expect(listing(mem, "/data/ck")).toEqual({ mine: 0 });
    expect(listing(mem, "/data/db")).toEqual(before);
    expectNothingDone(src);
    await src.tree.close();
  });

  it("an existing file: EEXIST, the file untouched", async () => {
    const base = dirs.make("target");
    const src = await openSource({ path: join(base, "db") });
    src.fill(0, 50);
    writeFileSync(join(base, "ck"), "a file");
    const error = await rejection(createCheckpoint(src.tree, `${base}/./ck`));
    expect(codeOf(error)).toBe("EEXIST");
    expect(readFileSync(join(base, "ck"), "utf8")).toBe("a file");
    expectNothingDone(src);
    await src.tree.close();
  });

  it("an existing checkpoint (MemFs): EEXIST, left as it was", async () => {
    const { mem, src } = await memSource();
    await createCheckpoint(src.tree, "/data/ck");
    const before = listing(mem, "/data/ck");
    src.fill(50, 100);
    const error = await rejection(createCheckpoint(src.tree, "/data/ck"));
    expect(codeOf(error)).toBe("EEXIST");
    expect(listing(mem, "/data/ck")).toEqual(before);
    expect(src.tree.tableCount()).toBe(1); // the second checkpoint did not flush
    await src.tree.close();
  });

  it("a missing parent: ENOENT, nothing created (disk and MemFs)", async () => {
    const base = dirs.make("target");
    const src = await openSource({ path: join(base, "db") });
    src.fill(0, 50);
    const error = await rejection(createCheckpoint(src.tree, join(base, "missing", "ck")));
    expect(codeOf(error)).toBe("ENOENT");
    expect(readdirSync(base)).toEqual(["db"]);
    expectNothingDone(src);
    await src.tree.close();

    const { mem, src: memSrc } = await memSource();
    const before = listing(mem, "/");
    expect(codeOf(await rejection(createCheckpoint(memSrc.tree, "/nowhere/ck")))).toBe("ENOENT");
    expect(listing(mem, "/")).toEqual(before);
    expectNothingDone(memSrc);
    await memSrc.tree.close();
  });

  it("a parent that is a file: ENOTDIR, nothing created", async () => {
    const { mem, src } = await memSource();
    const f = mem.open("/data/plain", { write: true, createNew: true });
    f.close();
    const before = listing(mem, "/");
    expect(codeOf(await rejection(createCheckpoint(src.tree, "/data/plain/ck")))).toBe("ENOTDIR");
    expect(listing(mem, "/")).toEqual(before);
    expectNothingDone(src);
    await src.tree.close();
  });

  it("a target backend that cannot create directories: ENOTSUP, nothing created", async () => {
    const { mem, src } = await memSource();
    class NoDirectories extends DelegatingFs {
      override createDir(path: string): void {
        throw fsError("ENOTSUP", "mkdir", path);
      }
      override createDirAll(path: string): void {
        throw fsError("ENOTSUP", "mkdir", path);
      }
    }
    const target = new MemFs();
    const before = listing(target, "/");
    expect(codeOf(await rejection(createCheckpoint(src.tree, "/ck", { fs: new NoDirectories(target) })))).toBe("ENOTSUP");
    expect(listing(target, "/")).toEqual(before);
    expect(mem.exists("/ck")).toBe(false);
    expectNothingDone(src);
    await src.tree.close();
  });

  it("a closed tree: CLOSED, and the claimed target is removed again", async () => {
    const { mem, src } = await memSource();
    await src.tree.close();
    const error = await rejection(createCheckpoint(src.tree, "/data/ck"));
    expect(codeOf(error)).toBe("CLOSED");
    expect(mem.exists("/data/ck")).toBe(false);
  });
});
