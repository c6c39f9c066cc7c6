import { describe, expect, it } from "vitest";
import { readFileBytes, type Fs } from "@talus/fs";
import { CrashFs, PowerCutError } from "../src/crash/index.ts";
import { Random } from "../src/random.ts";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array): string => new TextDecoder().decode(data);


const readText = (fs: Fs, path: string): string => text(readFileBytes(fs, path));

/** Creates (or replaces the contents of) `path`, optionally syncing the file. */
function writeFile(fs: Fs, path: string, contents: string, sync = true): void {
  const file = fs.open(path, { write: true, create: true, truncate: true });
  file.write(bytes(contents));
  if (sync) file.sync();
  file.close();
}

const powerCut = expect.objectContaining({ code: "EPOWERCUT" });

describe("CrashFs durability", () => {
  it("keeps a synced write whose name is durable", () => {
    const fs = new CrashFs();
    writeFile(fs, "/data", "hello");
    fs.syncDirectory("/");
    expect(readText(fs.crash(), "/data")).toBe("hello");
  });

  it("drops unsynced writes and keeps the last durable bytes", () => {
    const fs = new CrashFs();
    writeFile(fs, "/data", "old");
    fs.syncDirectory("/");
    const file = fs.open("/data", { write: true });
    file.write(bytes("NEW-AND-LONGER"));
    file.setLen(20);
    expect(readText(fs, "/data")).toBe("NEW-AND-LONGER\0\0\0\0\0\0");
    expect(readText(fs.crash(), "/data")).toBe("old");
    file.syncData();
    expect(readText(fs.crash(), "/data")).toBe("NEW-AND-LONGER\0\0\0\0\0\0");
  });

  it("loses a file created in a directory whose own entry was never synced", () => {
    const fs = new CrashFs();
    fs.createDirAll("/db/tables");
    writeFile(fs, "/db/tables/1", "sst");
    fs.syncDirectory("/db/tables");
    fs.syncDirectory("/db");
    expect(fs.crash().exists("/db")).toBe(false);
    fs.syncDirectory("/");
    expect(readText(fs.crash(), "/db/tables/1")).toBe("sst");
  });

  it("keeps a created directory only if its parent was synced after the creation", () => {
    const fs = new CrashFs();
    fs.createDir("/a");
    fs.syncDirectory("/");
    fs.createDir("/a/b");
    fs.syncDirectory("/a/b");
    expect(fs.crash().exists("/a")).toBe(true);
    expect(fs.crash().exists("/a/b")).toBe(false);
    fs.syncDirectory("/a");
    expect(fs.crash().metadata("/a/b").isDir).toBe(true);
  });

  it("loses a file whose data was synced but whose directory was not", () => {
    const fs = new CrashFs();
    fs.createDir("/db");
    fs.syncDirectory("/");
    writeFile(fs, "/db/000001.log", "records");
    const image = fs.crash();
    expect(image.exists("/db")).toBe(true);
    expect(image.exists("/db/000001.log")).toBe(false);
    expect(image.readDir("/db")).toEqual([]);
  });

  it("keeps a file whose name was synced but whose data was not, empty", () => {
    const fs = new CrashFs();
    writeFile(fs, "/f", "unsynced", false);
    fs.syncDirectory("/");
    expect(fs.crash().metadata("/f")).toEqual({ len: 0, isDir: false, isFile: true });
  });

  it("publishes by rename atomically: new content with the directory sync, old content without", () => {
    const setUp = (): CrashFs => {
      const fs = new CrashFs();
      writeFile(fs, "/current", "version-1");
      fs.syncDirectory("/");
      writeFile(fs, "/current.tmp", "version-2");
      fs.rename("/current.tmp", "/current");
      return fs;
    };
    const unsynced = setUp();
    expect(readText(unsynced, "/current")).toBe("version-2");
    const before = unsynced.crash();
    expect(readText(before, "/current")).toBe("version-1");
    expect(before.exists("/current.tmp")).toBe(false);
    for (let seed = 0; seed < 50; seed++) {
      const image = unsynced.crash({ seed, keepUnsyncedEntries: 0.5, keepUnsyncedWrites: 0.5 });
      expect(["version-1", "version-2"]).toContain(readText(image, "/current"));
    }
    const synced = setUp();
    synced.syncDirectory("/");
    const after = synced.crash();
    expect(readText(after, "/current")).toBe("version-2");
    expect(after.readDir("/").map((entry) => entry.fileName)).toEqual(["current"]);
  });

  it("keeps hard links as one shared inode in the image", () => {
    const fs = new CrashFs();
    fs.createDir("/checkpoint");
    writeFile(fs, "/000001.sst", "table");
    fs.hardLink("/000001.sst", "/checkpoint/000001.sst");
    fs.syncDirectory("/");
    fs.syncDirectory("/checkpoint");
    const image = fs.crash();
    expect(readText(image, "/checkpoint/000001.sst")).toBe("table");
    const file = image.open("/000001.sst", { append: true });
    file.write(bytes("+more"));
    file.close();
    expect(readText(image, "/checkpoint/000001.sst")).toBe("table+more");
    expect(image.dump()["/000001.sst"]?.ino).toBe(image.dump()["/checkpoint/000001.sst"]?.ino);
    expect(readText(fs, "/checkpoint/000001.sst")).toBe("table");
  });

  it("drops a hard link whose directory was not synced", () => {
    const fs = new CrashFs();
    writeFile(fs, "/a", "x");
    fs.syncDirectory("/");
    fs.hardLink("/a", "/b");
    expect(fs.crash().exists("/b")).toBe(false);
    expect(fs.crash().exists("/a")).toBe(true);
  });

  it("brings back a removed file or directory tree unless the directory was synced", () => {
    const fs = new CrashFs();
    fs.createDirAll("/db/sub");
    writeFile(fs, "/db/sub/f", "kept");
    writeFile(fs, "/old.log", "log");
    for (const dir of ["/", "/db", "/db/sub"]) fs.syncDirectory(dir);
    fs.removeFile("/old.log");
    fs.removeDirAll("/db");
    expect(fs.exists("/old.log")).toBe(false);
    const image = fs.crash();
    expect(readText(image, "/old.log")).toBe("log");
    expect(readText(image, "/db/sub/f")).toBe("kept");
    fs.syncDirectory("/");
    expect(fs.crash().readDir("/")).toEqual([]);
  });

  it("never loses a file renamed across directories, whichever directory is synced", () => {
    const setUp = (): CrashFs => {
      const fs = new CrashFs();
      fs.createDir("/a");
      fs.createDir("/b");
      writeFile(fs, "/a/f", "payload");
      for (const dir of ["/", "/a", "/b"]) fs.syncDirectory(dir);
      fs.rename("/a/f", "/b/g");
      return fs;
    };
    expect(setUp().crash().exists("/a/f")).toBe(true);
    for (const synced of ["/a", "/b"]) {
      const fs = setUp();
      fs.syncDirectory(synced);
      const image = fs.crash();
      expect(image.exists("/a/f")).toBe(false);
      expect(readText(image, "/b/g")).toBe("payload");
    }
  });
});

describe("CrashFs crash options", () => {
  /** A durable empty file followed by 32 unsynced one-byte writes of 1..32. */
  const pendingWrites = (): CrashFs => {
    const fs = new CrashFs();
    writeFile(fs, "/log", "");
    fs.syncDirectory("/");
    const file = fs.open("/log", { append: true });
    for (let i = 1; i <= 32; i++) file.write(new Uint8Array([i]));
    return fs;
  };

  it("keeps a seeded subset of unsynced writes, the same one for the same seed", () => {
    const fs = pendingWrites();
    const images = new Set<string>();
    for (let seed = 0; seed < 10; seed++) {
      const image = readFileBytes(fs.crash({ seed, keepUnsyncedWrites: 0.5 }), "/log");
      expect(readFileBytes(fs.crash({ seed, keepUnsyncedWrites: 0.5 }), "/log")).toEqual(image);
      // Each byte is its own write (kept) or a zero gap (an earlier write lost, a later one kept).
      image.forEach((value, index) => expect([0, index + 1]).toContain(value));
      const kept = image.filter((value) => value !== 0).length;
      expect(kept).toBeGreaterThan(0);
      expect(kept).toBeLessThan(32);
      images.add(image.join());
    }
    expect(images.size).toBeGreaterThan(5);
    expect(readFileBytes(fs.crash({ keepUnsyncedWrites: 1 }), "/log")).toEqual(Uint8Array.from({ length: 32 }, (_, i) => i + 1));
    expect(fs.crash({ keepUnsyncedWrites: 0 }).metadata("/log").len).toBe(0);
  });

  it("tears the last kept write to a seeded prefix", () => {
    const fs = new CrashFs();
    writeFile(fs, "/wal", "synced|");
    fs.syncDirectory("/");
    const file = fs.open("/wal", { append: true });
    file.write(bytes("first|"));
    const tail = "0123456789abcdefghijklmnopqrstuvwxyz";
    file.write(bytes(tail));
    const lengths = new Set<number>();
    for (let seed = 0; seed < 20; seed++) {
      const image = readText(fs.crash({ seed, keepUnsyncedWrites: 1, tearLastWrite: true }), "/wal");
      expect(image).toBe(readText(fs.crash({ seed, keepUnsyncedWrites: 1, tearLastWrite: true }), "/wal"));
      expect(image.startsWith("synced|first|")).toBe(true);
      const kept = image.slice("synced|first|".length);
      expect(tail.startsWith(kept)).toBe(true);
      expect(kept.length).toBeLessThan(tail.length);
      lengths.add(kept.length);
    }
    expect(lengths.size).toBeGreaterThan(5);
  });

  it("keeps a seeded prefix of unsynced entry changes without ever losing a renamed file", () => {
    const fs = new CrashFs();
    fs.createDir("/a");
    fs.createDir("/b");
    writeFile(fs, "/a/moving", "payload");
    for (const dir of ["/", "/a", "/b"]) fs.syncDirectory(dir);
    for (let i = 0; i < 4; i++) writeFile(fs, `/a/before-${i}`, "x");
    for (let i = 0; i < 4; i++) writeFile(fs, `/b/before-${i}`, "x");
    fs.rename("/a/moving", "/b/moved");
    for (let i = 0; i < 4; i++) writeFile(fs, `/a/after-${i}`, "x");
    const outcomes = new Set<string>();
    for (let seed = 0; seed < 200; seed++) {
      const image = fs.crash({ seed, keepUnsyncedEntries: 0.7 });
      const names = (dir: string): string[] => image.readDir(dir).map((entry) => entry.fileName);
      const inA = image.exists("/a/moving");
      const inB = image.exists("/b/moved");
      expect(inA !== inB).toBe(true);
      expect(readText(image, inA ? "/a/moving" : "/b/moved")).toBe("payload");
      // Prefixes: an entry only survives with every earlier change to its directory.
      const aNames = names("/a");
      for (let i = 1; i < 4; i++) if (aNames.includes(`before-${i}`)) expect(aNames).toContain(`before-${i - 1}`);
      if (aNames.includes("after-0")) expect(inB).toBe(true);
      if (inB) expect(names("/b")).toContain("before-3");
      outcomes.add(`${aNames.length}/${names("/b").length}`);
      expect(image.crash({ seed, keepUnsyncedEntries: 1 }).dump()).toEqual(image.dump());
    }
    expect(outcomes.size).toBeGreaterThan(5);
    expect(readText(fs.crash({ keepUnsyncedEntries: 1 }), "/b/moved")).toBe("payload");
  });

  it("may keep part of an unsynced removeDirAll, one name at a time", () => {
    const fs = new CrashFs();
    fs.createDir("/db");
    for (let i = 0; i < 6; i++) writeFile(fs, `/db/f${i}`, `${i}`);
    fs.syncDirectory("/db");
    fs.syncDirectory("/");
    fs.removeDirAll("/db");
    const survivors = new Set<string>();
    for (let seed = 0; seed < 100; seed++) {
      const image = fs.crash({ seed, keepUnsyncedEntries: 0.8 });
      if (!image.exists("/db")) continue;
      const names = image.readDir("/db").map((entry) => entry.fileName);
      // The removals ran f0..f5 in order; a kept prefix of them leaves a suffix of the files.
      expect(names).toEqual(["f0", "f1", "f2", "f3", "f4", "f5"].slice(6 - names.length));
      survivors.add(names.join());
    }
    expect(survivors.size).toBeGreaterThan(2);
  });

  it("rebuilds the current state exactly when every unsynced change is kept (random workloads)", () => {
    const contents = (fs: CrashFs): Record<string, string> => {
      const out: Record<string, string> = {};
      for (const [path, entry] of Object.entries(fs.dump())) {
        out[path] = entry.kind === "dir" ? `dir #${entry.ino}` : `#${entry.ino} ${readFileBytes(fs, path).join()}`;
      }
      return out;
    };
    for (let seed = 1; seed <= 30; seed++) {
      const rng = new Random(seed);
      const fs = new CrashFs();
      const dirs = ["/", "/a", "/b", "/a/c"];
      const path = (): string => `${rng.pick(dirs)}/${rng.pick(["x", "y", "z"])}`.replace("//", "/");
      for (let step = 0; step < 200; step++) {
        try {
          const kind = rng.int(9);
          if (kind === 0) fs.createDirAll(rng.pick(dirs));
          else if (kind === 1) writeFile(fs, path(), String(rng.int(1000)), rng.chance(0.5));
          else if (kind === 2) fs.rename(path(), path());
          else if (kind === 3) fs.removeFile(path());
          else if (kind === 4) fs.hardLink(path(), path());
          else if (kind === 5) fs.syncDirectory(rng.pick(dirs));
          else if (kind === 6 && rng.chance(0.2)) fs.removeDirAll(rng.pick(dirs.slice(1)));
          else if (kind === 7) fs.open(path(), { write: true }).setLen(rng.int(8));
          else if (kind === 8) fs.open(path(), { append: true }).write(rng.bytes(rng.int(5)));
        } catch (error) {
          if (!["ENOENT", "ENOTDIR", "EEXIST", "EISDIR", "ENOTEMPTY", "EPERM"].includes((error as { code?: string }).code ?? "")) throw error;
        }
      }
      const everything = fs.crash({ seed, keepUnsyncedEntries: 1, keepUnsyncedWrites: 1 });
      expect(contents(everything), `seed ${seed}\n${fs.toString()}`).toEqual(contents(fs));
    }
  });

  it("rejects options that are not probabilities", () => {
    const fs = new CrashFs();
    expect(() => fs.crash({ keepUnsyncedWrites: 1.5 })).toThrow(RangeError);
    expect(() => fs.crash({ keepUnsyncedEntries: Number.NaN })).toThrow(RangeError);
  });
});

describe("CrashFs power cuts", () => {
  /** Publishes `contents` as `/current` the safe way; 2 sync points. */
  const publish = (fs: Fs, contents: string): void => {
    writeFile(fs, "/current.tmp", contents);
    fs.rename("/current.tmp", "/current");
    fs.syncDirectory("/");
  };
  const freshVolume = (): CrashFs => {
    const fs = new CrashFs();
    publish(fs, "old");
    return fs;
  };

  it("cuts power at every sync point and leaves either the old or the new state", () => {
    const seen: string[] = [];
    let n = 0;
    for (; ; n++) {
      const fs = freshVolume();
      const handle = fs.open("/current", { read: true });
      fs.cutPowerAtSync(n);
      try {
        publish(fs, "new");
      } catch (error) {
        expect(error).toBeInstanceOf(PowerCutError);
      }
      if (!fs.powerWasCut) {
        expect(fs.syncCount).toBe(4);
        expect(fs.powerCutImage).toBeUndefined();
        seen.push(readText(fs.crash(), "/current"));
        break;
      }
      expect(fs.syncCount).toBe(2 + n);
      const image = fs.powerCutImage;
      if (image === undefined) throw new Error("no image after a power cut");
      seen.push(readText(image, "/current"));
      expect(image.readDir("/").map((entry) => entry.fileName)).toContain("current");
      expect(() => fs.exists("/current")).toThrow(powerCut);
      expect(() => fs.syncDirectory("/")).toThrow(powerCut);
      expect(() => handle.readAt(new Uint8Array(1), 0)).toThrow(powerCut);
      expect(() => handle.close()).toThrow(powerCut);
      expect(() => fs.crash()).not.toThrow();
    }
    expect(n).toBe(2);
    expect(seen).toEqual(["old", "old", "new"]);
  });

  it("builds the power-cut image with the armed options", () => {
    const fs = freshVolume();
    const file = fs.open("/current", { append: true });
    file.write(bytes("+unsynced"));
    fs.cutPowerAtSync(0, { keepUnsyncedWrites: 1 });
    expect(() => file.sync()).toThrow(PowerCutError);
    expect(fs.powerWasCut).toBe(true);
    expect(readText(fs.powerCutImage ?? fs, "/current")).toBe("old+unsynced");
    expect(readText(fs.crash(), "/current")).toBe("old");
  });
});

describe("CrashFs images", () => {
  it("leaves the original volume usable and independent of its image", () => {
    const fs = new CrashFs();
    writeFile(fs, "/a", "one");
    fs.syncDirectory("/");
    const handle = fs.open("/a", { read: true, write: true });
    const image = fs.crash();
    handle.write(bytes("ONE"));
    writeFile(fs, "/b", "two");
    expect(readText(fs, "/a")).toBe("ONE");
    expect(readText(image, "/a")).toBe("one");
    expect(image.exists("/b")).toBe(false);
    writeFile(image, "/c", "three");
    expect(fs.exists("/c")).toBe(false);
    expect(new Set([fs.backendId(), image.backendId(), fs.crash().backendId()]).size).toBe(3);
  });

  it("makes everything in an image durable", () => {
    const fs = new CrashFs();
    writeFile(fs, "/a", "data");
    fs.syncDirectory("/");
    const image = fs.crash();
    expect(readText(image.crash(), "/a")).toBe("data");
    expect(image.dump()).toEqual({ "/a": { kind: "file", ino: 2, size: 4, durable: true, synced: true } });
  });

  it("dumps which paths are durable and synced", () => {
    const fs = new CrashFs();
    fs.createDir("/d");
    fs.syncDirectory("/");
    writeFile(fs, "/d/f", "abc", false);
    expect(fs.dump()).toEqual({
      "/d": { kind: "dir", ino: 2, size: 0, durable: true, synced: false },
      "/d/f": { kind: "file", ino: 3, size: 3, durable: false, synced: false },
    });
    expect(fs.toString()).toContain("/d/f  file #3  3 B  volatile unsynced");
  });
});

describe("CrashFs async syncs and removals", () => {
  it("are not offered, so every sync is a sync point of the power-cut model and every removal a journaled change", () => {
    const fs: Fs = new CrashFs();
    const file = fs.open("/f", { write: true, createNew: true });
    expect(file.syncAsync).toBeUndefined();
    expect(fs.syncDirectoryAsync).toBeUndefined();
    expect(fs.removeFileAsync).toBeUndefined();
  });
});

describe("CrashFs locks", () => {
  it("are held per volume on the file, and a crash image starts with none", () => {
    const fs = new CrashFs();
    fs.createDirAll("/db");
    fs.syncDirectory("/");
    const lock = fs.tryLock("/db/LOCK");
    expect(lock).toBeDefined();
    expect(fs.tryLock("/db/LOCK")).toBeUndefined();
    // The lock is on the file: another name of it is locked too.
    fs.hardLink("/db/LOCK", "/db/LOCK2");
    expect(fs.tryLock("/db/LOCK2")).toBeUndefined();
    fs.syncDirectory("/db");
    const image = fs.crash();
    expect(image.exists("/db/LOCK")).toBe(true);
    const imageLock = image.tryLock("/db/LOCK");
    expect(imageLock).toBeDefined();
    // Locks of the image and of the original volume are independent.
    expect(fs.tryLock("/db/LOCK")).toBeUndefined();
    imageLock?.release();
    lock?.release();
    lock?.release();
    fs.tryLock("/db/LOCK")?.release();
  });

  it("create the file as an entry change, durable only once its directory is synced", () => {
    const fs = new CrashFs();
    fs.createDirAll("/db");
    fs.syncDirectory("/");
    fs.tryLock("/db/LOCK")?.release();
    expect(fs.exists("/db/LOCK")).toBe(true);
    expect(fs.crash().exists("/db/LOCK")).toBe(false);
  });

  it("can be released after a power cut", () => {
    const fs = new CrashFs();
    fs.createDirAll("/db");
    const lock = fs.tryLock("/db/LOCK");
    fs.cutPowerAtSync(0);
    expect(() => fs.syncDirectory("/db")).toThrow(PowerCutError);
    expect(() => fs.tryLock("/db/other")).toThrow(PowerCutError);
    expect(() => lock?.release()).not.toThrow();
  });
});
