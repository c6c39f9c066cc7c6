import { fstatSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ForwardingFs, MemFs, StdFs, type Fs } from "@talus/fs";
import { bytes, tempDirs } from "./helpers.ts";

const tempDir = tempDirs(afterEach);

/** A wrapper that intercepts directory syncs, like a counting or fault-injecting Fs. */
class CountingDirSyncs extends ForwardingFs {
  syncs = 0;
  override syncDirectory(path: string): void {
    this.syncs++;
    super.syncDirectory(path);
  }
}

/** Records which of the inner backend's directory syncs were used. */
class SpyFs extends MemFs {
  readonly calls: string[] = [];
  override syncDirectory(path: string): void {
    this.calls.push("sync");
    super.syncDirectory(path);
  }
  override syncDirectoryAsync(path: string): Promise<void> {
    this.calls.push("async");
    return path === "/" ? Promise.resolve() : Promise.reject(new Error("unexpected path"));
  }
}

describe("ForwardingFs.syncDirectoryAsync", () => {
  it("uses the inner backend's async sync when syncDirectory is not overridden", async () => {
    const inner = new SpyFs();
    const fs: Fs = new ForwardingFs(inner);
    await fs.syncDirectoryAsync?.("/");
    expect(inner.calls).toEqual(["async"]);
  });

  it("goes through an overridden syncDirectory, so a wrapper sees every directory sync", async () => {
    const inner = new SpyFs();
    const fs = new CountingDirSyncs(inner);
    await fs.syncDirectoryAsync("/");
    expect(fs.syncs).toBe(1);
    expect(inner.calls).toEqual(["sync"]);
    await expect(fs.syncDirectoryAsync("/missing")).rejects.toMatchObject({ code: "ENOENT" });
    expect(fs.syncs).toBe(2);
  });

  it("falls back to the inner syncDirectory when the inner backend has no async one", async () => {
    const calls: string[] = [];
    const inner = new MemFs();
    const bare: Fs = new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === "syncDirectoryAsync") return undefined;
        if (prop === "syncDirectory") return (path: string) => (calls.push(path), target.syncDirectory(path));
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    await new ForwardingFs(bare).syncDirectoryAsync("/");
    expect(calls).toEqual(["/"]);
  });
});

describe("ForwardingFs.removeFileAsync", () => {
  it("goes through an overridden removeFile, and to the inner async removal otherwise", async () => {
    const removed: string[] = [];
    class Recording extends ForwardingFs {
      override removeFile(path: string): void {
        removed.push(path);
        super.removeFile(path);
      }
    }
    const inner = new MemFs();
    for (const name of ["/a", "/b"]) inner.open(name, { write: true, createNew: true }).close();
    await new Recording(inner).removeFileAsync("/a");
    expect(removed).toEqual(["/a"]);
    await new ForwardingFs(inner).removeFileAsync("/b");
    expect(removed).toEqual(["/a"]);
    expect(inner.exists("/b")).toBe(false);
  });
});

describe("StdFile.syncAsync", () => {
  it("keeps the descriptor open until a pending sync is done, then releases it", async () => {
    const dir = tempDir();
    const fs = new StdFs();
    const file = fs.open(join(dir, "a"), { write: true, createNew: true });
    file.write(bytes("abc"));
    // The descriptor number is private; find it as the lowest one that stat's to this file.
    const ino = statSync(join(dir, "a")).ino;
    const fdOf = (): number | undefined => {
      for (let fd = 3; fd < 4096; fd++) {
        try {
          if (fstatSync(fd).ino === ino) return fd;
        } catch {
          // not open
        }
      }
      return undefined;
    };
    const fd = fdOf();
    expect(fd).toBeDefined();
    const pending = file.syncAsync?.();
    file.close();
    expect(fdOf()).toBe(fd);
    await pending;
    // The deferred close runs on the threadpool too; give it a moment.
    for (let i = 0; i < 100 && fdOf() !== undefined; i++) await new Promise((r) => setTimeout(r, 5));
    expect(fdOf()).toBeUndefined();
  });
});
