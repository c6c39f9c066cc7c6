// readTreeKind: the kind of tree a directory holds, read from its current version without opening it.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ForwardingFs, MemFs, StdFs, type Fs, type FsFile, type FsOpenOptions } from "@talus/fs";
import { useTempDirs } from "@talus/testkit";
import { LsmError, readTreeKind, SequenceNumberCounter, Tree, type TreeKind } from "../src/index.ts";
import { loadLatestVersion, persistVersion, versionFileName } from "../src/version/persist.ts";
import { FakeValueLog } from "./value-log-support.ts";
import { thrownBy } from "./tree-test-support.ts";

const dirs = useTempDirs(afterEach);

const codeOf = (error: unknown): unknown => (error as { code?: unknown }).code;

/** Every path under `dir` with its bytes, to check that nothing was changed. */
function snapshot(fs: Fs, dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of fs.readDir(dir)) {
    if (entry.isDir) {
      out.set(`${entry.path}/`, "");
      for (const [path, bytes] of snapshot(fs, entry.path)) out.set(path, bytes);
    } else {
      const file = fs.open(entry.path, { read: true });
      const bytes = new Uint8Array(file.len());
      file.readAt(bytes, 0);
      file.close();
      out.set(entry.path, Buffer.from(bytes).toString("hex"));
    }
  }
  return out;
}

/** A tree with two flushed versions, closed: `"blob"` is opened with a value log. */
async function makeTree(fs: Fs, path: string, kind: TreeKind): Promise<void> {
  const seqno = new SequenceNumberCounter();
  const tree = await Tree.open({ path, fs, seqno, ...(kind === "blob" ? { valueLog: new FakeValueLog(fs, path, 64) } : {}) });
  for (let i = 0; i < 10; i++) tree.insert(`k${i}`, `${i}:`.padEnd(100, "x"), seqno.next());
  await tree.flushActiveMemtable(0);
  tree.insert("last", "v", seqno.next());
  await tree.flushActiveMemtable(0);
  if (kind === "blob") expect(tree.blobFileCount()).toBeGreaterThan(0);
  await tree.close();
}

describe("readTreeKind", () => {
  it.each(["standard", "blob"] as const)("reads %s from the current version and changes nothing", async (kind) => {
    const fs = new MemFs();
    await makeTree(fs, "/db", kind);
    const before = snapshot(fs, "/db");
    expect(readTreeKind(fs, "/db")).toBe(kind);
    expect(snapshot(fs, "/db")).toEqual(before);
  });

  it("answers on disk, also while the tree is open (it takes no lock)", async () => {
    const fs = new StdFs();
    const path = join(dirs.make("kind"), "db");
    await makeTree(fs, path, "blob");
    const tree = await Tree.open({ path, fs, valueLog: new FakeValueLog(fs, path, 64) });
    try {
      expect(readTreeKind(fs, path)).toBe("blob");
      // The trailing separator is accepted like any path.
      expect(readTreeKind(fs, `${path}/`)).toBe("blob");
    } finally {
      await tree.close();
    }
    // Opening as the other kind is what readTreeKind lets callers avoid.
    await expect(Tree.open({ path, fs })).rejects.toSatisfy((e) => e instanceof LsmError && e.code === "UNRECOVERABLE");
  });

  it("is undefined for a missing directory, an empty one and one with unrelated files, and creates nothing", () => {
    const fs = new MemFs();
    expect(readTreeKind(fs, "/nothing")).toBeUndefined();
    expect(fs.exists("/nothing")).toBe(false);
    fs.createDirAll("/empty");
    expect(readTreeKind(fs, "/empty")).toBeUndefined();
    expect(fs.readDir("/empty")).toEqual([]);
    fs.createDirAll("/other");
    const file = fs.open("/other/notes.txt", { write: true, createNew: true });
    file.write(new TextEncoder().encode("not a tree"));
    file.close();
    expect(readTreeKind(fs, "/other")).toBeUndefined();
    expect(fs.readDir("/other").map((e) => e.fileName)).toEqual(["notes.txt"]);
  });

  it("refuses a half-written directory with the INVALID_DATA open gives it, and a file with ENOTDIR", async () => {
    const fs = new MemFs();
    fs.createDirAll("/half/tables");
    const error = thrownBy(() => readTreeKind(fs, "/half"));
    expect(error).toBeInstanceOf(LsmError);
    expect(codeOf(error)).toBe("INVALID_DATA");
    await expect(Tree.open({ path: "/half", fs })).rejects.toThrow((error as Error).message);

    const std = new StdFs();
    const filePath = join(dirs.make("kind"), "a-file");
    const file = std.open(filePath, { write: true, createNew: true });
    file.close();
    expect(codeOf(thrownBy(() => readTreeKind(std, filePath)))).toBe("ENOTDIR");
  });

  it("reports a damaged current or version file as CORRUPTION naming it", async () => {
    const fs = new MemFs();
    await makeTree(fs, "/db", "standard");
    const { path } = loadLatestVersion(fs, "/db") as { path: string };
    const bytes = snapshot(fs, "/db").get(path) as string;
    const damaged = Buffer.from(bytes, "hex");
    damaged[14] = (damaged[14] as number) ^ 0xff;
    const file = fs.open(path, { write: true, truncate: true });
    file.write(damaged);
    file.close();
    const error = thrownBy(() => readTreeKind(fs, "/db"));
    expect(codeOf(error)).toBe("CORRUPTION");
    expect((error as Error).message).toContain(path);

    // A version file that is missing while `current` stays put is not retried forever.
    fs.removeFile(path);
    expect(codeOf(thrownBy(() => readTreeKind(fs, "/db")))).toBe("CORRUPTION");
  });

  it("reads again when a live tree replaces the version file between reading current and reading it", async () => {
    const mem = new MemFs();
    await makeTree(mem, "/db", "blob");
    let publications = 0;
    // What a tree open elsewhere does as it publishes: writes v<n+1> and `current`, then removes v<n>,
    // here just as readTreeKind is about to open v<n> (twice, so the second read races too).
    const racing = new (class extends ForwardingFs {
      override open(path: string, options: FsOpenOptions): FsFile {
        const loaded = loadLatestVersion(mem, "/db");
        if (loaded !== undefined && path === loaded.path && publications < 2) {
          publications++;
          persistVersion(mem, "/db", { ...loaded.record, id: loaded.record.id + 1 });
          mem.removeFile(loaded.path);
        }
        return super.open(path, options);
      }
    })(mem);
    expect(readTreeKind(racing, "/db")).toBe("blob");
    expect(publications).toBe(2);
    expect(mem.exists(`/db/${versionFileName((loadLatestVersion(mem, "/db") as { record: { id: number } }).record.id)}`)).toBe(true);
  });
});
