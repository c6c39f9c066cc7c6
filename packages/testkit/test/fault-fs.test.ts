import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { constants } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { KERNEL_BACKEND_ID, MemFs, StdFs, type Fs, type FsFile, type FsReadRequest } from "@talus/fs";
import {
  ALL_OPS,
  FaultFile,
  FaultFs,
  FILE_OPS,
  FS_OPS,
  globToRegExp,
  isInjected,
  METADATA_OPS,
  READ_OPS,
  SYNC_OPS,
  WRITE_OPS,
  type FaultCode,
  type FaultRule,
  type FsOpKind,
} from "../src/fault/index.ts";
import { useTempDirs } from "../src/temp-dir.ts";

const dirs = useTempDirs(afterEach);
const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Runs `fn`, expecting it to throw, and returns what it threw. */
function thrown(fn: () => unknown): Record<string, unknown> {
  try {
    fn();
  } catch (error) {
    return error as Record<string, unknown>;
  }
  throw new Error("expected the call to throw");
}

/** A MemFs with /db/a (bytes 1..5) and /db/tables/{1,2}. */
function seeded(): MemFs {
  const mem = new MemFs();
  mem.createDirAll("/db/tables");
  const a = mem.open("/db/a", { write: true, createNew: true });
  a.write(bytes(1, 2, 3, 4, 5));
  a.close();
  for (const name of ["1", "2"]) mem.open(`/db/tables/${name}`, { write: true, createNew: true }).close();
  return mem;
}

function readAll(fs: Fs, path: string): number[] {
  const file = fs.open(path, { read: true });
  const out = new Uint8Array(file.len());
  file.readAt(out, 0);
  file.close();
  return [...out];
}

describe("FaultFs without rules", () => {
  it("passes every operation through and counts it", () => {
    const mem = new MemFs();
    const fs = new FaultFs(mem);
    fs.createDirAll("/db/tables");
    fs.createDir("/db/wal");
    const f = fs.open("/db/tables/1", { read: true, write: true, createNew: true });
    expect(f).toBeInstanceOf(FaultFile);
    f.write(bytes(1, 2, 3, 4));
    f.sync();
    f.syncData();
    f.setLen(3);
    expect(f.len()).toBe(3);
    const out = new Uint8Array(3);
    expect(f.readAt(out, 0)).toBe(3);
    expect([...out]).toEqual([1, 2, 3]);
    const many = [new Uint8Array(2), new Uint8Array(5)];
    expect(fs.readMany([{ file: f, position: 1, buffer: many[0]! }, { file: f, position: 0, buffer: many[1]! }])).toEqual([2, 3]);
    expect([...many[0]!]).toEqual([2, 3]);
    f.close();
    fs.hardLink("/db/tables/1", "/db/tables/2");
    fs.rename("/db/tables/2", "/db/tables/3");
    expect(fs.readDir("/db/tables").map((e) => e.fileName).sort()).toEqual(["1", "3"]);
    expect(fs.metadata("/db/tables/3")).toEqual({ len: 3, isDir: false, isFile: true });
    expect(fs.exists("/db/tables/1")).toBe(true);
    fs.syncDirectory("/db/tables");
    fs.removeFile("/db/tables/1");
    fs.removeDirAll("/db/wal");
    expect(mem.exists("/db/tables/1")).toBe(false);
    expect(mem.exists("/db/wal")).toBe(false);
    expect(readAll(mem, "/db/tables/3")).toEqual([1, 2, 3]);
    expect(fs.backendId()).toBe(mem.backendId());
    expect(fs.injected).toEqual([]);
    const expected: Partial<Record<FsOpKind, number>> = {
      createDirAll: 1, createDir: 1, open: 1, write: 1, sync: 1, syncData: 1, setLen: 1, len: 1, read: 1, readMany: 1,
      close: 1, hardLink: 1, rename: 1, readDir: 1, metadata: 1, exists: 1, syncDirectory: 1, removeFile: 1, removeDirAll: 1,
    };
    for (const kind of ALL_OPS) expect(fs.calls[kind], kind).toBe(expected[kind] ?? 0);
    expect(fs.callCount).toBe(19);
  });

  it("lets real errors through unmarked", () => {
    const fs = new FaultFs(new MemFs());
    const error = thrown(() => fs.removeFile("/missing"));
    expect(error["code"]).toBe("ENOENT");
    expect(isInjected(error)).toBe(false);
    expect(error["injected"]).toBeUndefined();
  });

  it("exports operation groups that only name known kinds", () => {
    expect([...FS_OPS, ...FILE_OPS].sort()).toEqual([...ALL_OPS].sort());
    for (const group of [READ_OPS, WRITE_OPS, SYNC_OPS, METADATA_OPS]) for (const op of group) expect(ALL_OPS).toContain(op);
    expect([...SYNC_OPS].sort()).toEqual(["sync", "syncData", "syncDirectory"]);
    expect(WRITE_OPS).toContain("write");
    expect(WRITE_OPS).not.toContain("sync");
  });
});

describe("injected errors", () => {
  it.each(["EIO", "ENOSPC", "EACCES", "EINTR"] as const)("%s carries code, errno, syscall, path and the marker", (code: FaultCode) => {
    const fs = new FaultFs(seeded(), [{ ops: "metadata", error: code }]);
    const error = thrown(() => fs.metadata("/db/a"));
    expect(error).toBeInstanceOf(Error);
    expect(error["code"]).toBe(code);
    expect(error["errno"]).toBe(-(constants.errno as Record<string, number>)[code]!);
    expect(error["syscall"]).toBe("stat");
    expect(error["path"]).toBe("/db/a");
    expect(error["injected"]).toBe(true);
    expect(isInjected(error)).toBe(true);
    expect(String(error["message"])).toMatch(new RegExp(`^${code}: .*stat '/db/a'`));
    expect(fs.metadata("/db/a").len).toBe(5); // times defaults to 1
  });

  it("names the syscall and paths of each fs-level operation", () => {
    const cases: [FsOpKind, (fs: Fs) => unknown, string, string, string?][] = [
      ["open", (fs) => fs.open("/db/a", { read: true }), "open", "/db/a"],
      ["createDir", (fs) => fs.createDir("/db/new"), "mkdir", "/db/new"],
      ["createDirAll", (fs) => fs.createDirAll("/db/x/y"), "mkdir", "/db/x/y"],
      ["readDir", (fs) => fs.readDir("/db"), "scandir", "/db"],
      ["removeFile", (fs) => fs.removeFile("/db/a"), "unlink", "/db/a"],
      ["removeDirAll", (fs) => fs.removeDirAll("/db/tables"), "rmdir", "/db/tables"],
      ["rename", (fs) => fs.rename("/db/a", "/db/b"), "rename", "/db/a", "/db/b"],
      ["exists", (fs) => fs.exists("/db/a"), "stat", "/db/a"],
      ["syncDirectory", (fs) => fs.syncDirectory("/db"), "fsync", "/db"],
      ["hardLink", (fs) => fs.hardLink("/db/a", "/db/b"), "link", "/db/a", "/db/b"],
    ];
    for (const [op, call, syscall, path, dest] of cases) {
      const fs = new FaultFs(seeded(), [{ ops: op, error: "EIO" }]);
      const error = thrown(() => call(fs));
      expect({ op, code: error["code"], syscall: error["syscall"], path: error["path"], dest: error["dest"] }).toEqual({ op, code: "EIO", syscall, path, dest });
    }
  });
});

describe("operation filters", () => {
  it("fails only the named kinds", () => {
    const fs = new FaultFs(seeded(), [{ ops: "sync", times: Infinity, error: "EIO" }]);
    const f = fs.open("/db/a", { write: true });
    f.write(bytes(9));
    f.syncData();
    fs.syncDirectory("/db");
    expect(thrown(() => f.sync())["syscall"]).toBe("fsync");
    expect(thrown(() => f.sync())["code"]).toBe("EIO");
    expect(fs.injected.map((fault) => fault.op)).toEqual(["sync", "sync"]);
  });

  it("takes a list of kinds, such as a group", () => {
    const fs = new FaultFs(seeded(), [{ ops: SYNC_OPS, times: Infinity, error: "EIO" }]);
    const f = fs.open("/db/a", { write: true });
    f.write(bytes(9));
    expect(thrown(() => f.sync())["syscall"]).toBe("fsync");
    expect(thrown(() => f.syncData())["syscall"]).toBe("fdatasync");
    expect(thrown(() => fs.syncDirectory("/db"))["syscall"]).toBe("fsync");
    expect(f.len()).toBe(5);
  });

  it("applies to every kind when ops is left out", () => {
    const fs = new FaultFs(seeded(), [{ times: Infinity, error: "EACCES" }]);
    expect(thrown(() => fs.exists("/db"))["code"]).toBe("EACCES");
    expect(thrown(() => fs.readDir("/db"))["code"]).toBe("EACCES");
  });
});

describe("path filters", () => {
  it("matches globs: * stays within a segment, ** crosses them, ? is one character", () => {
    const re = globToRegExp("**/tables/*");
    expect(re.test("/db/tables/1")).toBe(true);
    expect(re.test("tables/1")).toBe(true);
    expect(re.test("/db/tables/sub/1")).toBe(false);
    expect(re.test("/db/wal/1")).toBe(false);
    expect(globToRegExp("/db/**").test("/db/a/b/c")).toBe(true);
    expect(globToRegExp("/db/*.sst").test("/db/000001.sst")).toBe(true);
    expect(globToRegExp("/db/*.sst").test("/db/x/000001.sst")).toBe(false);
    expect(globToRegExp("/db/?").test("/db/a")).toBe(true);
    expect(globToRegExp("/db/?").test("/db/ab")).toBe(false);
    expect(globToRegExp("/db/a.b").test("/db/axb")).toBe(false); // regex characters are literal
    expect(globToRegExp("/db/(a)+").test("/db/(a)+")).toBe(true);
  });

  it("fails only operations whose path matches the glob", () => {
    const fs = new FaultFs(seeded(), [{ ops: "open", path: "**/tables/*", times: Infinity, error: "EIO" }]);
    fs.open("/db/a", { read: true }).close();
    expect(thrown(() => fs.open("/db/tables/1", { read: true }))["path"]).toBe("/db/tables/1");
    expect(thrown(() => fs.open("/db/tables/2", { read: true }))["path"]).toBe("/db/tables/2");
  });

  it("takes a RegExp, also a global one used repeatedly", () => {
    const fs = new FaultFs(seeded(), [{ ops: "metadata", path: /tables\/\d$/g, times: Infinity, error: "EIO" }]);
    expect(fs.metadata("/db/a").len).toBe(5);
    for (let i = 0; i < 3; i++) expect(thrown(() => fs.metadata("/db/tables/1"))["code"]).toBe("EIO");
    expect(fs.injected).toHaveLength(3);
  });

  it("takes a predicate", () => {
    const seen: string[] = [];
    const fs = new FaultFs(seeded(), [{ ops: "exists", path: (p) => (seen.push(p), p.endsWith("/2")), times: Infinity, error: "EIO" }]);
    expect(fs.exists("/db/tables/1")).toBe(true);
    expect(thrown(() => fs.exists("/db/tables/2"))["code"]).toBe("EIO");
    expect(seen).toEqual(["/db/tables/1", "/db/tables/2"]);
  });

  it("matches rename and hardLink on the source or the destination", () => {
    const mem = seeded();
    const fs = new FaultFs(mem, [{ ops: ["rename", "hardLink"], path: "/db/current", times: Infinity, error: "EIO" }]);
    const toCurrent = thrown(() => fs.rename("/db/a", "/db/current"));
    expect(toCurrent).toMatchObject({ code: "EIO", syscall: "rename", path: "/db/a", dest: "/db/current", injected: true });
    mem.open("/db/current", { write: true, createNew: true }).close();
    expect(thrown(() => fs.rename("/db/current", "/db/b"))["code"]).toBe("EIO");
    expect(thrown(() => fs.hardLink("/db/a", "/db/current"))["syscall"]).toBe("link");
    fs.rename("/db/a", "/db/b");
    fs.hardLink("/db/b", "/db/c");
    expect(fs.injected.map((f) => [f.op, f.path])).toEqual([
      ["rename", "/db/current"],
      ["rename", "/db/current"],
      ["hardLink", "/db/current"],
    ]);
  });

  it("records the source when both paths of a rename match", () => {
    const fs = new FaultFs(seeded(), [{ ops: "rename", path: "/db/*", error: "EIO" }]);
    thrown(() => fs.rename("/db/a", "/db/b"));
    expect(fs.injected[0]?.path).toBe("/db/a");
  });
});

describe("after and times", () => {
  it("lets the first `after` matching calls through, then fires `times` times", () => {
    const fs = new FaultFs(seeded(), [{ ops: "exists", path: "/db/a", after: 2, times: 2, error: "EIO" }]);
    const outcomes: string[] = [];
    for (let i = 0; i < 6; i++) {
      fs.exists("/db/other"); // does not match the path, so it does not count toward `after`
      try {
        fs.exists("/db/a");
        outcomes.push("ok");
      } catch (error) {
        outcomes.push((error as { code: string }).code);
      }
    }
    expect(outcomes).toEqual(["ok", "ok", "EIO", "EIO", "ok", "ok"]);
    expect(fs.injected.map((f) => f.call)).toEqual([6, 8]);
  });

  it("fires on every matching call with times: Infinity and never with times: 0", () => {
    const fs = new FaultFs(seeded(), [{ ops: "len", times: 0, error: "EIO" }, { ops: "exists", times: Infinity, error: "EIO" }]);
    for (let i = 0; i < 50; i++) expect(isInjected(thrown(() => fs.exists("/db")))).toBe(true);
    const f = fs.open("/db/a", { read: true });
    expect(f.len()).toBe(5);
    expect(fs.injected).toHaveLength(50);
  });

  it("asks rules in order; the first that fires wins and later rules do not see the call", () => {
    const fs = new FaultFs(seeded(), [
      { ops: "exists", after: 1, error: "EACCES" },
      { ops: "exists", after: 1, error: "EIO" },
    ]);
    expect(fs.exists("/db")).toBe(true); // rule 0 lets it pass, rule 1 sees its first call and lets it pass too
    expect(thrown(() => fs.exists("/db"))["code"]).toBe("EACCES");
    expect(thrown(() => fs.exists("/db"))["code"]).toBe("EIO");
    expect(fs.exists("/db")).toBe(true);
    expect(fs.injected.map((f) => [f.rule, f.code])).toEqual([
      [0, "EACCES"],
      [1, "EIO"],
    ]);
  });
});

describe("seeded probability", () => {
  function pattern(seed: number, probability: number, n = 200): boolean[] {
    const fs = new FaultFs(new MemFs(), [{ ops: "exists", probability, seed, times: Infinity, error: "EIO" }]);
    return Array.from({ length: n }, () => {
      try {
        fs.exists("/");
        return false;
      } catch (error) {
        if (!isInjected(error)) throw error;
        return true;
      }
    });
  }

  it("is the same for the same seed and differs between seeds", () => {
    expect(pattern(7, 0.5)).toEqual(pattern(7, 0.5));
    expect(pattern(7, 0.5)).not.toEqual(pattern(8, 0.5));
  });

  it("fires at roughly the given rate, never at 0 and always at 1", () => {
    const rate = pattern(11, 0.3, 4000).filter(Boolean).length / 4000;
    expect(rate).toBeGreaterThan(0.27);
    expect(rate).toBeLessThan(0.33);
    expect(pattern(1, 0).some(Boolean)).toBe(false);
    expect(pattern(1, 1).every(Boolean)).toBe(true);
  });

  it("still counts `times`: a probabilistic rule with the default fires once", () => {
    const fs = new FaultFs(new MemFs(), [{ probability: 0.5, seed: 3, error: "EIO" }]);
    for (let i = 0; i < 100; i++) {
      try {
        fs.exists("/");
      } catch {
        // counted below
      }
    }
    expect(fs.injected).toHaveLength(1);
  });
});

describe("torn writes", () => {
  it("leaves exactly keepBytes of the buffer on the inner file and throws", () => {
    const mem = new MemFs();
    const fs = new FaultFs(mem, [{ ops: "write", error: { torn: true, keepBytes: 3 } }]);
    const f = fs.open("/log", { write: true, createNew: true });
    const error = thrown(() => f.write(bytes(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)));
    expect(error).toMatchObject({ code: "EIO", syscall: "write", path: "/log", injected: true });
    expect(readAll(mem, "/log")).toEqual([1, 2, 3]);
    expect(fs.injected).toEqual([{ rule: 0, op: "write", path: "/log", code: "EIO", call: 2, torn: { written: 3, of: 10 } }]);
    f.write(bytes(4)); // the handle carries on after the prefix, as a real one would
    expect(readAll(mem, "/log")).toEqual([1, 2, 3, 4]);
  });

  it("throws the given code, and caps keepBytes at the buffer", () => {
    const mem = new MemFs();
    const fs = new FaultFs(mem, [{ ops: "write", error: { torn: true, code: "ENOSPC", keepBytes: 99 } }]);
    const f = fs.open("/log", { write: true, createNew: true });
    expect(thrown(() => f.write(bytes(1, 2)))["code"]).toBe("ENOSPC");
    expect(readAll(mem, "/log")).toEqual([1, 2]);
    expect(fs.injected[0]?.torn).toEqual({ written: 2, of: 2 });
  });

  it("picks a seeded length in [0, length) when keepBytes is left out", () => {
    function tear(seed: number): number[] {
      const mem = new MemFs();
      const fs = new FaultFs(mem, [{ ops: "write", seed, times: Infinity, error: { torn: true } }]);
      return Array.from({ length: 20 }, (_, i) => {
        const f = fs.open(`/f${i}`, { write: true, createNew: true });
        thrown(() => f.write(new Uint8Array(100).fill(7)));
        const written = fs.injected[i]?.torn?.written ?? -1;
        expect(mem.metadata(`/f${i}`).len).toBe(written);
        return written;
      });
    }
    const lengths = tear(5);
    expect(lengths).toEqual(tear(5));
    expect(lengths).not.toEqual(tear(6));
    for (const n of lengths) expect(n >= 0 && n < 100).toBe(true);
    expect(new Set(lengths).size).toBeGreaterThan(5);
  });

  it("is a plain error on operations other than write", () => {
    const fs = new FaultFs(seeded(), [{ ops: "sync", error: { torn: true, keepBytes: 1 } }]);
    const f = fs.open("/db/a", { write: true });
    expect(thrown(() => f.sync())["code"]).toBe("EIO");
    expect(fs.injected[0]).toEqual({ rule: 0, op: "sync", path: "/db/a", code: "EIO", call: 2 });
  });
});

describe("a fired fault skips the inner operation", () => {
  it.each<[string, FsOpKind, (fs: Fs) => unknown, (mem: MemFs) => void]>([
    ["removeFile", "removeFile", (fs) => fs.removeFile("/db/a"), (mem) => expect(mem.exists("/db/a")).toBe(true)],
    ["removeDirAll", "removeDirAll", (fs) => fs.removeDirAll("/db/tables"), (mem) => expect(mem.exists("/db/tables/1")).toBe(true)],
    ["createDir", "createDir", (fs) => fs.createDir("/db/new"), (mem) => expect(mem.exists("/db/new")).toBe(false)],
    ["createDirAll", "createDirAll", (fs) => fs.createDirAll("/x/y"), (mem) => expect(mem.exists("/x")).toBe(false)],
    ["open with create", "open", (fs) => fs.open("/db/new", { write: true, create: true }), (mem) => expect(mem.exists("/db/new")).toBe(false)],
    ["rename", "rename", (fs) => fs.rename("/db/a", "/db/b"), (mem) => expect([mem.exists("/db/a"), mem.exists("/db/b")]).toEqual([true, false])],
    ["hardLink", "hardLink", (fs) => fs.hardLink("/db/a", "/db/b"), (mem) => expect(mem.exists("/db/b")).toBe(false)],
    [
      "write",
      "write",
      (fs) => fs.open("/db/a", { write: true, truncate: true }).write(bytes(9, 9)),
      (mem) => expect(mem.metadata("/db/a").len).toBe(0),
    ],
    ["setLen", "setLen", (fs) => fs.open("/db/a", { write: true }).setLen(1), (mem) => expect(mem.metadata("/db/a").len).toBe(5)],
  ])("%s", (_name, ops, call, check) => {
    const mem = seeded();
    const fs = new FaultFs(mem, [{ ops, error: "EIO" }]);
    expect(isInjected(thrown(() => call(fs)))).toBe(true);
    check(mem);
  });

  it("close: the inner handle stays open, so a retry closes it", () => {
    const fs = new FaultFs(seeded(), [{ ops: "close", error: "EIO" }]);
    const f = fs.open("/db/a", { read: true });
    expect(thrown(() => f.close())["syscall"]).toBe("close");
    expect(f.len()).toBe(5);
    f.close();
    expect(thrown(() => f.len())).toMatchObject({ code: "EBADF" });
    expect(isInjected(thrown(() => f.len()))).toBe(false);
  });
});

describe("faults on file handles", () => {
  it("carry the path the file was opened with and the file operation's syscall", () => {
    const fs = new FaultFs(seeded(), [{ ops: FILE_OPS, path: "/db/tables/1", times: Infinity, error: "EIO" }]);
    const hit = fs.open("/db/tables/1", { read: true, write: true });
    const miss = fs.open("/db/tables/2", { read: true, write: true });
    const calls: [string, (f: FsFile) => unknown][] = [
      ["read", (f) => f.readAt(new Uint8Array(1), 0)],
      ["write", (f) => f.write(bytes(1))],
      ["fsync", (f) => f.sync()],
      ["fdatasync", (f) => f.syncData()],
      ["fstat", (f) => f.len()],
      ["ftruncate", (f) => f.setLen(0)],
      ["close", (f) => f.close()],
    ];
    for (const [syscall, call] of calls) {
      expect(thrown(() => call(hit))).toMatchObject({ code: "EIO", syscall, path: "/db/tables/1", injected: true });
      call(miss);
    }
    expect(fs.injected.map((f) => [f.op, f.path])).toEqual(FILE_OPS.map((op) => [op, "/db/tables/1"]));
  });

  it("apply to files opened before the rule was added", () => {
    const fs = new FaultFs(seeded());
    const f = fs.open("/db/a", { write: true });
    expect(fs.addRule({ ops: "sync", error: "EIO" })).toBe(0);
    expect(isInjected(thrown(() => f.sync()))).toBe(true);
  });
});

describe("readMany", () => {
  class SpyFs extends MemFs {
    readonly batches: FsReadRequest[][] = [];
    override readMany(requests: readonly FsReadRequest[]): number[] {
      this.batches.push([...requests]);
      return super.readMany(requests);
    }
  }

  it("hands the inner readMany its own file handles", () => {
    const spy = new SpyFs();
    spy.open("/a", { write: true, createNew: true }).write(bytes(1, 2, 3));
    const fs = new FaultFs(spy);
    const f = fs.open("/a", { read: true }) as FaultFile;
    const buffer = new Uint8Array(2);
    expect(fs.readMany([{ file: f, position: 1, buffer }])).toEqual([2]);
    expect(spy.batches).toHaveLength(1);
    expect(spy.batches[0]?.[0]?.file).toBe(f.inner);
    expect(spy.batches[0]?.[0]?.buffer).toBe(buffer);
    expect(fs.calls.read).toBe(0);
  });

  it("fails the batch when any of its files matches, without reading", () => {
    const spy = new SpyFs();
    spy.createDirAll("/db/tables");
    for (const p of ["/db/tables/1", "/db/wal"]) spy.open(p, { write: true, createNew: true }).write(bytes(1));
    const fs = new FaultFs(spy, [{ ops: READ_OPS, path: "**/tables/*", error: "EIO" }]);
    const wal = fs.open("/db/wal", { read: true });
    const table = fs.open("/db/tables/1", { read: true });
    const requests = [wal, table].map((file) => ({ file, position: 0, buffer: new Uint8Array(1) }));
    expect(thrown(() => fs.readMany(requests))).toMatchObject({ code: "EIO", syscall: "read", path: "/db/tables/1" });
    expect(spy.batches).toHaveLength(0);
    expect(fs.injected[0]).toMatchObject({ op: "readMany", path: "/db/tables/1" });
    expect(fs.readMany(requests)).toEqual([1, 1]);
  });
});

describe("bookkeeping", () => {
  it("records injected faults exactly, with global call numbers", () => {
    const fs = new FaultFs(seeded(), [
      { ops: "sync", path: "**/tables/*", after: 1, error: "EIO" },
      { ops: "rename", path: "/db/b", error: "ENOSPC" },
    ]);
    const t = fs.open("/db/tables/1", { write: true }); // 1
    t.sync(); // 2
    fs.exists("/db"); // 3
    thrown(() => t.sync()); // 4
    t.sync(); // 5
    thrown(() => fs.rename("/db/a", "/db/b")); // 6
    fs.rename("/db/a", "/db/b"); // 7
    expect(fs.injected).toEqual([
      { rule: 0, op: "sync", path: "/db/tables/1", code: "EIO", call: 4 },
      { rule: 1, op: "rename", path: "/db/b", code: "ENOSPC", call: 6 },
    ]);
    expect(fs.callCount).toBe(7);
    expect([fs.calls.sync, fs.calls.rename, fs.calls.open, fs.calls.exists, fs.calls.write]).toEqual([3, 2, 1, 1, 0]);
  });

  it("counts calls while disabled but applies no rules and advances no rule counters", () => {
    const fs = new FaultFs(seeded(), [{ ops: "exists", after: 1, error: "EIO" }]);
    fs.setEnabled(false);
    expect(fs.enabled).toBe(false);
    for (let i = 0; i < 3; i++) expect(fs.exists("/db")).toBe(true);
    fs.setEnabled(true);
    expect(fs.exists("/db")).toBe(true); // the rule's first matching call: let through
    expect(thrown(() => fs.exists("/db"))["code"]).toBe("EIO");
    expect(fs.calls.exists).toBe(5);
    expect(fs.injected[0]?.call).toBe(5);
  });

  it("clears rules and history", () => {
    const fs = new FaultFs(seeded(), [{ ops: "exists", times: Infinity, error: "EIO" }]);
    thrown(() => fs.exists("/db"));
    fs.clearRules();
    expect(fs.rules).toEqual([]);
    expect(fs.exists("/db")).toBe(true);
    expect(fs.addRule({ ops: "metadata", error: "EINTR" })).toBe(0);
    fs.resetHistory();
    expect([fs.injected.length, fs.callCount, fs.calls.exists]).toEqual([0, 0, 0]);
    thrown(() => fs.metadata("/db"));
    expect(fs.injected).toEqual([{ rule: 0, op: "metadata", path: "/db", code: "EINTR", call: 1 }]);
  });

  it("rejects rules that could not mean what they say", () => {
    const bad: FaultRule[] = [
      { after: -1, error: "EIO" },
      { after: 1.5, error: "EIO" },
      { times: -1, error: "EIO" },
      { probability: 2, error: "EIO" },
      { seed: 0.5, probability: 0.5, error: "EIO" },
      { ops: [], error: "EIO" },
      { ops: "fsync" as FsOpKind, error: "EIO" },
      { error: "ENOENT" as FaultCode },
      { error: { torn: true, keepBytes: -1 } },
    ];
    for (const rule of bad) expect(() => new FaultFs(new MemFs(), [rule]), JSON.stringify(rule)).toThrow();
  });
});

describe("failing the Nth sync", () => {
  /** Writes three records, syncing after each; returns how many were written before a failure. */
  function workload(fs: Fs): number {
    fs.createDirAll("/db");
    const log = fs.open("/db/log", { write: true, create: true });
    let done = 0;
    try {
      for (let i = 0; i < 3; i++) {
        log.write(bytes(i + 1));
        log.sync();
        done++;
      }
    } finally {
      log.close();
    }
    return done;
  }

  it("sweeps a fault over every sync the workload does", () => {
    const probe = new FaultFs(new MemFs());
    expect(workload(probe)).toBe(3);
    const syncs = probe.calls.sync;
    expect(syncs).toBe(3);
    for (let n = 0; n < syncs; n++) {
      const mem = new MemFs();
      const fs = new FaultFs(mem, [{ ops: "sync", after: n, error: "EIO" }]);
      const error = thrown(() => workload(fs));
      expect(isInjected(error)).toBe(true);
      // Calls: createDirAll, open, then write+sync per record, so the (n+1)th sync is call 4 + 2n.
      expect(fs.injected).toEqual([{ rule: 0, op: "sync", path: "/db/log", code: "EIO", call: 4 + 2 * n }]);
      expect(readAll(mem, "/db/log")).toEqual(Array.from({ length: n + 1 }, (_, i) => i + 1));
    }
  });
});

describe("over StdFs", () => {
  it("injects on a real directory and leaves real state as the rules say", () => {
    const root = dirs.make("fault-fs");
    const fs = new FaultFs(new StdFs(), [
      { ops: "sync", path: "**/tables/*", error: "EIO" },
      { ops: "write", path: "**/wal", error: { torn: true, keepBytes: 2 } },
      { ops: "removeFile", error: "EACCES" },
    ]);
    expect(fs.backendId()).toBe(KERNEL_BACKEND_ID);
    fs.createDirAll(join(root, "tables"));
    const table = fs.open(join(root, "tables", "1"), { write: true, createNew: true });
    table.write(text("sst"));
    expect(thrown(() => table.sync())).toMatchObject({ code: "EIO", syscall: "fsync", path: join(root, "tables", "1"), injected: true });
    table.sync();
    table.close();
    const wal = fs.open(join(root, "wal"), { write: true, createNew: true });
    expect(thrown(() => wal.write(text("hello")))).toMatchObject({ code: "EIO", injected: true });
    wal.close();
    expect(readFileSync(join(root, "wal"), "utf8")).toBe("he");
    writeFileSync(join(root, "victim"), "x");
    expect(thrown(() => fs.removeFile(join(root, "victim")))).toMatchObject({ code: "EACCES", syscall: "unlink" });
    expect(existsSync(join(root, "victim"))).toBe(true);
    fs.removeFile(join(root, "victim"));
    expect(existsSync(join(root, "victim"))).toBe(false);
    expect(fs.injected.map((f) => f.rule)).toEqual([0, 1, 2]);
  });
});

describe("async syncs and removals", () => {
  it("are not offered, so callers fall back to the blocking calls and every one meets the rules", () => {
    const fs: Fs = new FaultFs(new StdFs());
    const mem: Fs = new FaultFs(new MemFs());
    mem.createDirAll("/d");
    const file = mem.open("/d/f", { write: true, createNew: true });
    expect(file.syncAsync).toBeUndefined();
    for (const wrapper of [fs, mem]) {
      expect(wrapper.syncDirectoryAsync).toBeUndefined();
      expect(wrapper.removeFileAsync).toBeUndefined();
    }
  });
});

describe("tryLock", () => {
  it("is an operation rules can fail (the lock is then not taken) and passes through otherwise", () => {
    const mem = seeded();
    const fs = new FaultFs(mem, [{ ops: "tryLock", path: "**/LOCK", error: "EIO" }]);
    expect(thrown(() => fs.tryLock("/db/LOCK"))).toMatchObject({ code: "EIO", syscall: "flock", path: "/db/LOCK", injected: true });
    expect(fs.injected).toEqual([{ rule: 0, op: "tryLock", path: "/db/LOCK", code: "EIO", call: 1 }]);
    const lock = fs.tryLock("/db/LOCK");
    expect(lock).toBeDefined();
    // The lock is the inner volume's: the FaultFs and what it wraps see one lock.
    expect(mem.tryLock("/db/LOCK")).toBeUndefined();
    expect(fs.tryLock("/db/LOCK")).toBeUndefined();
    lock?.release();
    const direct = mem.tryLock("/db/LOCK");
    expect(direct).toBeDefined();
    direct?.release();
    expect(fs.calls.tryLock).toBe(3);
  });

  it("is in no operation group, so write-fault sweeps leave locks alone", () => {
    for (const group of [READ_OPS, WRITE_OPS, SYNC_OPS, METADATA_OPS]) expect(group).not.toContain("tryLock");
    expect(FS_OPS).toContain("tryLock");
  });
});
