import { existsSync, statSync, writeFileSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { StdFs, fsError, type FsFile, type FsOpenOptions } from "@talus/fs";
import { bytes, tempDirs } from "./helpers.ts";

const makeDir = tempDirs(afterEach);

/** A second device for the real EXDEV case: /dev/shm is a tmpfs on Linux, the OS temp dir usually is not. */
function secondDevice(first: string): string | undefined {
  const candidate = "/dev/shm";
  if (!existsSync(candidate)) return undefined;
  return statSync(candidate).dev === statSync(first).dev ? undefined : candidate;
}

/** A StdFs whose link(2) always reports a cross-device link, so the fallback runs on one device. */
class CrossDeviceFs extends StdFs {
  protected override linkFile(src: string, dst: string): void {
    throw fsError("EXDEV", "link", src, dst);
  }
}

/** A cross-device StdFs whose copy destination fails after `failAfterBytes` bytes were written. */
class FailingCopyFs extends CrossDeviceFs {
  readonly failingPath: string;
  readonly failAfterBytes: number;
  readonly failOn: "write" | "sync";

  constructor(failingPath: string, failAfterBytes: number, failOn: "write" | "sync") {
    super();
    this.failingPath = failingPath;
    this.failAfterBytes = failAfterBytes;
    this.failOn = failOn;
  }

  override open(path: string, options: FsOpenOptions): FsFile {
    const file = super.open(path, options);
    if (path !== this.failingPath) return file;
    let written = 0;
    const { failAfterBytes, failOn } = this;
    return {
      readAt: (b, p) => file.readAt(b, p),
      write(buffer) {
        if (failOn === "write" && written + buffer.length > failAfterBytes) throw fsError("ENOSPC", "write", path);
        written += buffer.length;
        file.write(buffer);
      },
      sync() {
        if (failOn === "sync") throw fsError("EIO", "fsync", path);
        file.sync();
      },
      syncData: () => file.syncData(),
      len: () => file.len(),
      setLen: (n) => file.setLen(n),
      close: () => file.close(),
    };
  }
}

describe("StdFs.hardLink", () => {
  it("makes a real link: one inode, writes through either name are shared", () => {
    const dir = makeDir();
    const fs = new StdFs();
    writeFileSync(join(dir, "a"), "abc");
    fs.hardLink(join(dir, "a"), join(dir, "b"));
    expect(statSync(join(dir, "a")).ino).toBe(statSync(join(dir, "b")).ino);
    const f = fs.open(join(dir, "a"), { write: true, append: true });
    f.write(bytes("def"));
    f.close();
    expect(readFileSync(join(dir, "b"), "utf8")).toBe("abcdef");
  });

  it("copies durably across real devices (EXDEV fallback)", (ctx) => {
    const first = makeDir();
    const other = secondDevice(first);
    if (other === undefined) {
      console.log(`skipped: no second device next to ${first} (need /dev/shm on another device)`);
      ctx.skip();
      return;
    }
    const second = makeDir(other);
    const payload = Buffer.alloc(200_000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
    writeFileSync(join(first, "table"), payload);
    new StdFs().hardLink(join(first, "table"), join(second, "table"));
    expect(statSync(join(second, "table")).ino).not.toBe(statSync(join(first, "table")).ino);
    expect(readFileSync(join(second, "table")).equals(payload)).toBe(true);
  });

  it("falls back to a copy when link(2) says EXDEV, with identical bytes and an independent file", () => {
    const dir = makeDir();
    const payload = Buffer.alloc(3 * 64 * 1024 + 17, 7);
    writeFileSync(join(dir, "src"), payload);
    const fs = new CrossDeviceFs();
    fs.hardLink(join(dir, "src"), join(dir, "dst"));
    expect(readFileSync(join(dir, "dst")).equals(payload)).toBe(true);
    expect(statSync(join(dir, "dst")).ino).not.toBe(statSync(join(dir, "src")).ino);
  });

  it("copies an empty file", () => {
    const dir = makeDir();
    writeFileSync(join(dir, "src"), "");
    new CrossDeviceFs().hardLink(join(dir, "src"), join(dir, "dst"));
    expect(statSync(join(dir, "dst")).size).toBe(0);
  });

  it.each(["write", "sync"] as const)("removes the partial copy when the copy's %s fails, so a retry works", (failOn) => {
    const dir = makeDir();
    const payload = Buffer.alloc(300_000, 1);
    writeFileSync(join(dir, "src"), payload);
    const failing = new FailingCopyFs(join(dir, "dst"), 100_000, failOn);
    expect(() => failing.hardLink(join(dir, "src"), join(dir, "dst"))).toThrow(expect.objectContaining({ code: failOn === "write" ? "ENOSPC" : "EIO" }));
    expect(readdirSync(dir)).toEqual(["src"]);
    new CrossDeviceFs().hardLink(join(dir, "src"), join(dir, "dst"));
    expect(readFileSync(join(dir, "dst")).equals(payload)).toBe(true);
  });

  it("never overwrites an existing destination, linked or copied", () => {
    const dir = makeDir();
    writeFileSync(join(dir, "src"), "new");
    writeFileSync(join(dir, "dst"), "old");
    expect(() => new StdFs().hardLink(join(dir, "src"), join(dir, "dst"))).toThrow(expect.objectContaining({ code: "EEXIST" }));
    expect(() => new CrossDeviceFs().hardLink(join(dir, "src"), join(dir, "dst"))).toThrow(expect.objectContaining({ code: "EEXIST" }));
    expect(readFileSync(join(dir, "dst"), "utf8")).toBe("old");
  });

  it("passes other link errors through without copying", () => {
    const dir = makeDir();
    expect(() => new StdFs().hardLink(join(dir, "missing"), join(dir, "dst"))).toThrow(expect.objectContaining({ code: "ENOENT" }));
    expect(existsSync(join(dir, "dst"))).toBe(false);
  });
});
