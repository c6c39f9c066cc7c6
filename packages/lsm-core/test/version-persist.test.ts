import { afterEach, describe, expect, it } from "vitest";
import { MemFs, StdFs, type Fs } from "@talus/fs";
import { CrashFs, FaultFs, PowerCutError, isInjected, useTempDirs, type FsOpKind } from "@talus/testkit";
import { LsmError } from "../src/errors.ts";
import { readCurrent, writeCurrent } from "../src/version/current.ts";
import { loadLatestVersion, persistVersion, persistVersionAsync, versionFileName } from "../src/version/persist.ts";
import { classifyTreeDir, listVersionFiles, removeStaleVersionFiles } from "../src/version/tree-dir.ts";
import { readWholeFile } from "../src/version/file-io.ts";
import { decodeVersionRecord, encodeVersionRecord, type VersionRecord } from "../src/version/version-record.ts";
import { SlowAsyncFs } from "./async-io-support.ts";
import { caught } from "./helpers.ts";

const dirs = useTempDirs(afterEach);
const DIR = "/db";

function record(id: number, tables = id): VersionRecord {
  const run = Array.from({ length: tables }, (_, i) => ({ id: id * 100 + i, globalSeqno: 0, fileSize: 1000 + i, fileChecksum: 0xabc0 + i }));
  return { id, treeKind: "standard", comparatorName: "bytewise", levels: [run.length > 0 ? [run] : [], [], [], [], [], [], []], blobFiles: [] };
}

function freshDir(fs: Fs, dir = DIR): void {
  fs.createDirAll(dir);
  fs.syncDirectory("/");
}

function writeRaw(fs: Fs, path: string, bytes: Uint8Array): void {
  const file = fs.open(path, { write: true, create: true, truncate: true });
  file.write(bytes);
  file.close();
}

function names(fs: Fs, dir = DIR): string[] {
  return fs
    .readDir(dir)
    .map((e) => e.fileName)
    .sort();
}

describe("persistVersion / loadLatestVersion", () => {
  it("publishes versions and loads the latest", () => {
    const fs = new MemFs();
    freshDir(fs);
    expect(loadLatestVersion(fs, DIR)).toBeUndefined();
    const v0 = persistVersion(fs, DIR, record(0));
    expect(v0.path).toBe("/db/v0");
    expect(readCurrent(fs, DIR)).toEqual({ versionId: 0, versionChecksum: v0.checksum });
    const v1 = persistVersion(fs, DIR, record(1));
    // Regression: a CRC over a whole file that ends in its own CRC is one constant for every file.
    expect(v1.checksum).not.toBe(v0.checksum);
    const loaded = loadLatestVersion(fs, DIR);
    expect(loaded?.record).toEqual(record(1));
    expect(loaded?.path).toBe("/db/v1");
    expect(names(fs)).toEqual(["current", "v0", "v1"]);
  });

  it("refuses to overwrite an existing version file", () => {
    const fs = new MemFs();
    freshDir(fs);
    persistVersion(fs, DIR, record(0));
    persistVersion(fs, DIR, record(1));
    const before = fs.open("/db/v1", { read: true });
    const len = before.len();
    before.close();
    expect(caught(() => persistVersion(fs, DIR, record(1, 5)))).toMatchObject({ code: "EEXIST" });
    expect(fs.metadata("/db/v1").len).toBe(len);
    expect(loadLatestVersion(fs, DIR)?.record).toEqual(record(1));
  });

  it("reports a missing, swapped or mislabelled version file as CORRUPTION naming it", () => {
    const fs = new MemFs();
    freshDir(fs);
    persistVersion(fs, DIR, record(0));
    const v1 = persistVersion(fs, DIR, record(1));

    writeRaw(fs, "/db/v1", encodeVersionRecord(record(1, 3)));
    expect(caught(() => loadLatestVersion(fs, DIR))).toMatchObject({ code: "CORRUPTION", message: expect.stringContaining("/db/v1") });

    // A valid file under the wrong name, with a pointer that records its checksum.
    const bytes = encodeVersionRecord(record(0));
    writeRaw(fs, "/db/v1", bytes);
    const sum = persistVersion(new MemFs(), "/", record(0)).checksum;
    writeCurrent(fs, DIR, 1, sum);
    expect(caught(() => loadLatestVersion(fs, DIR))).toMatchObject({ code: "CORRUPTION", message: expect.stringContaining("current names 1") });

    writeCurrent(fs, DIR, 1, v1.checksum);
    fs.removeFile("/db/v1");
    expect(caught(() => loadLatestVersion(fs, DIR))).toMatchObject({ code: "CORRUPTION", message: expect.stringContaining("/db/v1") });
  });

  it("works on StdFs and steps over leftover temp pointers", () => {
    const fs = new StdFs();
    const dir = dirs.make("version");
    writeRaw(fs, `${dir}/current.tmp-0`, Uint8Array.of(1, 2, 3));
    persistVersion(fs, dir, record(0));
    persistVersion(fs, dir, record(1));
    expect(loadLatestVersion(fs, dir)?.record).toEqual(record(1));
    expect(names(fs, dir)).toEqual(["current", "current.tmp-0", "v0", "v1"]);
    expect(removeStaleVersionFiles(fs, dir, 1)).toEqual(["current.tmp-0", "v0"]);
    expect(names(fs, dir)).toEqual(["current", "v1"]);
    expect(classifyTreeDir(fs, dir)).toBe("tree");
  });
});

describe("current", () => {
  it("is undefined when missing and CORRUPTION naming current when damaged", () => {
    const fs = new MemFs();
    freshDir(fs);
    expect(readCurrent(fs, DIR)).toBeUndefined();
    writeCurrent(fs, DIR, 3, 0xfeed);
    expect(readCurrent(fs, DIR)).toEqual({ versionId: 3, versionChecksum: 0xfeed });
    expect(names(fs)).toEqual(["current"]);
    writeRaw(fs, "/db/current", new TextEncoder().encode("garbage that is not a pointer"));
    expect(caught(() => readCurrent(fs, DIR))).toMatchObject({ code: "CORRUPTION", message: expect.stringContaining("current") });
    writeRaw(fs, "/db/current", new Uint8Array(0));
    expect(caught(() => loadLatestVersion(fs, DIR))).toMatchObject({ code: "CORRUPTION", message: expect.stringContaining("current") });
    writeRaw(fs, "/db/current", new Uint8Array(1 << 20));
    expect(caught(() => readCurrent(fs, DIR))).toMatchObject({ code: "CORRUPTION", message: expect.stringContaining("current") });
  });
});

describe("crash safety", () => {
  /** Persists v0 durably, then runs `persist v1; persist v2` with the power cut at sync point n. */
  function scenario(n: number, options = {}): { fs: CrashFs; phase: number } {
    const fs = new CrashFs();
    freshDir(fs);
    persistVersion(fs, DIR, record(0));
    fs.cutPowerAtSync(n, options);
    let phase = 1;
    try {
      persistVersion(fs, DIR, record(1));
      phase = 2;
      persistVersion(fs, DIR, record(2));
      phase = 3;
    } catch (error) {
      if (!(error instanceof PowerCutError)) throw error;
    }
    return { fs, phase };
  }

  for (const [label, options] of [
    ["strict", {}],
    ["keeping unsynced state", { keepUnsyncedWrites: 0.5, keepUnsyncedEntries: 0.5, tearLastWrite: true, seed: 3 }],
    ["keeping all unsynced entries", { keepUnsyncedWrites: 1, keepUnsyncedEntries: 1 }],
  ] as const) {
    it(`finds the old or the new version after a cut at every sync point (${label})`, () => {
      let cuts = 0;
      for (let n = 0; ; n++) {
        const { fs, phase } = scenario(n, options);
        if (!fs.powerWasCut) {
          expect(phase).toBe(3);
          break;
        }
        cuts++;
        const image = fs.powerCutImage as CrashFs;
        expect(classifyTreeDir(image, DIR)).toBe("tree");
        const loaded = loadLatestVersion(image, DIR);
        expect(loaded).toBeDefined();
        const id = loaded?.record.id as number;
        expect([phase - 1, phase]).toContain(id);
        expect(loaded?.record).toEqual(record(id));
        // Cleanup leaves only the live version; the next id can then be persisted.
        removeStaleVersionFiles(image, DIR, id);
        expect(listVersionFiles(image, DIR).map((v) => v.id)).toEqual([id]);
        persistVersion(image, DIR, record(id + 1));
        expect(loadLatestVersion(image, DIR)?.record).toEqual(record(id + 1));
      }
      // Each persist syncs the version file, the directory, the temp pointer and the directory again.
      expect(cuts).toBe(8);
    });
  }

  // Creation's v0 lists nothing: a cut before its `current` is durable is an interrupted creation, to
  // be created again. A whole v0 that lists tables (no creation writes one) is never taken for one; a
  // torn one is (there is no tables/ beside it, so nothing it could have listed holds data).
  for (const [tables, halfDone] of [[0, "interrupted"], [2, "refused"]] as const) {
    it(`a cut while publishing v0 with ${tables} tables leaves the tree, nothing, or "${halfDone}"`, () => {
      const seen = new Set<string>();
      for (const crash of [{ keepUnsyncedEntries: 1 }, { keepUnsyncedEntries: 1, keepUnsyncedWrites: 1, tearLastWrite: true }]) {
        for (let n = 0; ; n++) {
          const fs = new CrashFs();
          freshDir(fs);
          fs.cutPowerAtSync(n, crash);
          try {
            persistVersion(fs, DIR, record(0, tables));
          } catch (error) {
            if (!(error instanceof PowerCutError)) throw error;
          }
          if (!fs.powerWasCut) break;
          const image = fs.powerCutImage as CrashFs;
          const state = (() => {
            try {
              return classifyTreeDir(image, DIR);
            } catch (error) {
              expect(error).toMatchObject({ code: "INVALID_DATA" });
              return "refused";
            }
          })();
          seen.add(state);
          if (state === "tree") expect(loadLatestVersion(image, DIR)?.record).toEqual(record(0, tables));
          else if (state === "interrupted" && tables > 0) expect(caught(() => decodeVersionRecord(readWholeFile(image, `${DIR}/v0`), "v0"))).toMatchObject({ code: "CORRUPTION" });
          else expect(["empty", halfDone]).toContain(state);
        }
      }
      expect(seen).toContain(halfDone);
    });
  }
});

describe("failures", () => {
  function setup(plan: ConstructorParameters<typeof FaultFs>[1] = []): { inner: MemFs; fs: FaultFs } {
    const inner = new MemFs();
    freshDir(inner);
    persistVersion(inner, DIR, record(0));
    return { inner, fs: new FaultFs(inner, plan) };
  }

  it("leaves current on the old version and no partial file when any step fails once", () => {
    const clean = setup();
    persistVersion(clean.fs, DIR, record(1));
    const kinds = (Object.entries(clean.fs.calls) as [FsOpKind, number][]).filter(([, count]) => count > 0);
    expect(kinds.map(([kind]) => kind).sort()).toEqual(["close", "open", "rename", "sync", "syncDirectory", "write"]);
    const last = clean.fs.callCount;
    let swept = 0;
    for (const [kind, count] of kinds) {
      for (let i = 0; i < count; i++) {
        for (const error of ["EIO", { torn: true }] as const) {
          if (typeof error !== "string" && kind !== "write") continue;
          const { inner, fs } = setup([{ ops: kind, after: i, error }]);
          const thrown = caught(() => persistVersion(fs, DIR, record(1)));
          expect(isInjected(thrown)).toBe(true);
          swept++;
          const failedCall = fs.injected[0]?.call;
          if (failedCall === last) {
            // The rename happened; only its directory sync failed: v1 is complete and named.
            expect(kind).toBe("syncDirectory");
            expect(loadLatestVersion(inner, DIR)?.record).toEqual(record(1));
            expect(names(inner)).toEqual(["current", "v0", "v1"]);
            continue;
          }
          expect(loadLatestVersion(inner, DIR)?.record).toEqual(record(0));
          expect(names(inner)).toEqual(["current", "v0"]);
          // Nothing is left in the way of a retry.
          persistVersion(inner, DIR, record(1));
          expect(loadLatestVersion(inner, DIR)?.record).toEqual(record(1));
        }
      }
    }
    expect(swept).toBe(last + clean.fs.calls.write);
  });

  it("keeps the same failure contract when the syncs are awaited (persistVersionAsync)", async () => {
    const clean = setup();
    await persistVersionAsync(clean.fs, DIR, record(1));
    const last = clean.fs.callCount;
    for (const kind of ["sync", "syncDirectory", "write", "rename"] as const) {
      for (let i = 0; i < clean.fs.calls[kind]; i++) {
        const { inner, fs } = setup([{ ops: kind, after: i, error: "EIO" }]);
        const thrown = await persistVersionAsync(fs, DIR, record(1)).then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(isInjected(thrown)).toBe(true);
        if (fs.injected[0]?.call === last) {
          expect(loadLatestVersion(inner, DIR)?.record).toEqual(record(1));
          continue;
        }
        expect(loadLatestVersion(inner, DIR)?.record).toEqual(record(0));
        expect(names(inner)).toEqual(["current", "v0"]);
      }
    }
  });

  it("awaits the filesystem's async syncs when offered, in the same order as the blocking ones", async () => {
    const fs = new SlowAsyncFs();
    freshDir(fs);
    await persistVersionAsync(fs, DIR, record(0));
    // Version file, its directory entry, the temp pointer, the directory after the rename.
    expect(fs.counts).toMatchObject({ syncs: 0, asyncSyncs: 2, asyncDirSyncs: 2 });
    expect(loadLatestVersion(fs, DIR)?.record).toEqual(record(0));
    expect(names(fs)).toEqual(["current", "v0"]);
  });

  it("keeps the old version when even the cleanup of the partial file fails", () => {
    const { inner, fs } = setup([
      { ops: "sync", path: "/db/v1", error: "EIO" },
      { ops: "removeFile", error: "EACCES" },
    ]);
    expect(caught(() => persistVersion(fs, DIR, record(1)))).toMatchObject({ code: "EIO" });
    expect(loadLatestVersion(inner, DIR)?.record).toEqual(record(0));
    expect(names(inner)).toEqual(["current", "v0", "v1"]);
    expect(removeStaleVersionFiles(inner, DIR, 0)).toEqual(["v1"]);
    persistVersion(inner, DIR, record(1));
    expect(loadLatestVersion(inner, DIR)?.record).toEqual(record(1));
  });

  it("gives up on temp names only after many leftovers", () => {
    const fs = new MemFs();
    freshDir(fs);
    for (let n = 0; n < 1000; n++) writeRaw(fs, `/db/current.tmp-${n}`, Uint8Array.of(n & 0xff));
    expect(caught(() => writeCurrent(fs, DIR, 1, 1))).toMatchObject({ code: "EEXIST" });
    fs.removeFile("/db/current.tmp-999");
    writeCurrent(fs, DIR, 1, 1);
    expect(readCurrent(fs, DIR)).toEqual({ versionId: 1, versionChecksum: 1 });
    expect(removeStaleVersionFiles(fs, DIR, 1)).toHaveLength(999);
  });
});

describe("classifyTreeDir", () => {
  const invalid = (fs: Fs): LsmError => {
    const error = caught(() => classifyTreeDir(fs, DIR));
    expect(error).toBeInstanceOf(LsmError);
    expect((error as LsmError).code).toBe("INVALID_DATA");
    expect((error as LsmError).message).toContain("current");
    return error as LsmError;
  };

  it("tells missing, empty, refused and tree directories apart", () => {
    const fs = new MemFs();
    expect(classifyTreeDir(fs, DIR)).toBe("missing");
    fs.createDirAll(DIR);
    expect(classifyTreeDir(fs, DIR)).toBe("empty");
    writeRaw(fs, "/db/vault.txt", Uint8Array.of(1));
    writeRaw(fs, "/db/v007", Uint8Array.of(1));
    writeRaw(fs, "/db/current.tmp-0", Uint8Array.of(1));
    expect(classifyTreeDir(fs, DIR)).toBe("empty");

    fs.createDir("/db/tables");
    expect(invalid(fs).message).toContain("tables/");
    fs.removeDirAll("/db/tables");
    fs.createDir("/db/blobs");
    expect(invalid(fs).message).toContain("blobs/");
    fs.removeDirAll("/db/blobs");
    writeRaw(fs, "/db/v3", Uint8Array.of(1));
    expect(invalid(fs).message).toContain("v3");

    writeCurrent(fs, DIR, 3, 0);
    expect(classifyTreeDir(fs, DIR)).toBe("tree");
  });

  it("tells an interrupted creation (an empty or torn v0, nothing else of ours) from a directory that may hold data", () => {
    const fs = new MemFs();
    fs.createDirAll(DIR);
    writeRaw(fs, "/db/notes.txt", Uint8Array.of(1));
    writeRaw(fs, "/db/current.tmp-0", Uint8Array.of(1));
    const v0 = encodeVersionRecord(record(0));
    for (const bytes of [v0, v0.subarray(0, v0.length - 1), new Uint8Array(0), new Uint8Array(v0.length)]) {
      writeRaw(fs, "/db/v0", bytes);
      expect(classifyTreeDir(fs, DIR)).toBe("interrupted");
    }
    writeRaw(fs, "/db/v0", v0);
    for (const dir of ["tables", "blobs", "journal"]) {
      fs.createDir(`/db/${dir}`);
      expect(invalid(fs).message).toContain(`${dir}/`);
      fs.removeDirAll(`/db/${dir}`);
    }
    writeRaw(fs, "/db/v1", encodeVersionRecord(record(1, 0)));
    expect(invalid(fs).message).toContain("v0, v1");
    fs.removeFile("/db/v1");
    for (const other of [record(0, 1), { ...record(0), journalFloor: 2 }, { ...record(0), id: 4 }]) {
      writeRaw(fs, "/db/v0", encodeVersionRecord(other));
      invalid(fs);
    }
    fs.removeFile("/db/v0");
    expect(classifyTreeDir(fs, DIR)).toBe("empty");
    // A journal alone is what it was before: no version artifact, a new tree replays it.
    fs.createDir("/db/journal");
    expect(classifyTreeDir(fs, DIR)).toBe("empty");
  });

  it("throws the filesystem's error when the path is a file", () => {
    const fs = new MemFs();
    writeRaw(fs, "/db", Uint8Array.of(1));
    expect(caught(() => classifyTreeDir(fs, DIR))).toMatchObject({ code: "ENOTDIR" });
  });
});

describe("removeStaleVersionFiles", () => {
  it("removes only other v<digits> files and temp pointers", () => {
    const fs = new MemFs();
    freshDir(fs);
    for (const id of [0, 1, 2, 10]) writeRaw(fs, `/db/${versionFileName(id)}`, Uint8Array.of(id));
    for (const name of ["vault.txt", "v1.bak", "v", "v01", "version", "current.tmp-3"]) writeRaw(fs, `/db/${name}`, Uint8Array.of(0));
    fs.createDir("/db/tables");
    fs.createDir("/db/v9");
    writeCurrent(fs, DIR, 1, 0);
    expect(listVersionFiles(fs, DIR).map((v) => v.fileName)).toEqual(["v0", "v1", "v2", "v10"]);
    expect(removeStaleVersionFiles(fs, DIR, 1)).toEqual(["current.tmp-3", "v0", "v10", "v2"]);
    expect(names(fs)).toEqual(["current", "tables", "v", "v01", "v1", "v1.bak", "v9", "vault.txt", "version"]);
  });
});
