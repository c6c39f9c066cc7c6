import { describe, expect, it } from "vitest";
import { KERNEL_BACKEND_ID, MemFs, StdFs } from "@talus/fs";
import { bytes, text } from "./helpers.ts";

// What MemFs adds over memfs: memfs alone accepts each of these, Linux refuses them.
describe("MemFs is as strict as Linux where memfs is not", () => {
  const setup = (): MemFs => {
    const fs = new MemFs();
    fs.createDirAll("/db/dir");
    const f = fs.open("/db/file", { write: true, createNew: true });
    f.write(bytes("data"));
    f.close();
    return fs;
  };

  it("refuses to rename a file onto a directory (EISDIR) and keeps both", () => {
    const fs = setup();
    expect(() => fs.rename("/db/file", "/db/dir")).toThrow(expect.objectContaining({ code: "EISDIR" }));
    expect(fs.metadata("/db/dir").isDir).toBe(true);
    expect(fs.metadata("/db/file").len).toBe(4);
  });

  it("refuses to rename a directory onto a file (ENOTDIR) or a non-empty directory (ENOTEMPTY)", () => {
    const fs = setup();
    expect(() => fs.rename("/db/dir", "/db/file")).toThrow(expect.objectContaining({ code: "ENOTDIR" }));
    fs.createDir("/db/full");
    fs.open("/db/full/x", { write: true, create: true }).close();
    expect(() => fs.rename("/db/dir", "/db/full")).toThrow(expect.objectContaining({ code: "ENOTEMPTY" }));
    expect(() => fs.rename("/db", "/db/dir/inside")).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });

  it("refuses to hard-link or unlink a directory (EPERM, EISDIR)", () => {
    const fs = setup();
    expect(() => fs.hardLink("/db/dir", "/db/dir2")).toThrow(expect.objectContaining({ code: "EPERM" }));
    expect(() => fs.removeFile("/db/dir")).toThrow(expect.objectContaining({ code: "EISDIR" }));
    expect(fs.exists("/db/dir2")).toBe(false);
    expect(fs.exists("/db/dir")).toBe(true);
  });

  it("refuses writes and truncation through a read-only handle and reads through a write-only one", () => {
    const fs = setup();
    const ro = fs.open("/db/file", { read: true });
    expect(() => ro.write(bytes("xx"))).toThrow(expect.objectContaining({ code: "EBADF" }));
    expect(() => ro.setLen(0)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    ro.close();
    const wo = fs.open("/db/file", { write: true });
    expect(() => wo.readAt(new Uint8Array(2), 0)).toThrow(expect.objectContaining({ code: "EBADF" }));
    wo.close();
    const out = new Uint8Array(4);
    fs.open("/db/file", { read: true }).readAt(out, 0);
    expect(text(out)).toBe("data");
  });

  it("refuses createDirAll over a file (EEXIST)", () => {
    const fs = setup();
    expect(() => fs.createDirAll("/db/file")).toThrow(expect.objectContaining({ code: "EEXIST" }));
  });

  it("keeps real hard-link semantics: one set of bytes behind both names", () => {
    const fs = setup();
    fs.hardLink("/db/file", "/db/link");
    const f = fs.open("/db/link", { write: true, append: true });
    f.write(bytes("more"));
    f.close();
    expect(fs.metadata("/db/file").len).toBe(8);
    fs.removeFile("/db/file");
    expect(fs.metadata("/db/link").len).toBe(8);
  });

  it("gives every volume its own backend id, distinct from the kernel's", () => {
    const a = new MemFs();
    const b = new MemFs();
    expect(a.backendId()).not.toBe(b.backendId());
    expect(a.backendId()).toBe(a.backendId());
    expect(a.backendId()).not.toBe(KERNEL_BACKEND_ID);
    expect(new StdFs().backendId()).toBe(KERNEL_BACKEND_ID);
  });

  it("keeps volumes apart", () => {
    const a = new MemFs();
    const b = new MemFs();
    a.createDir("/only-in-a");
    expect(b.exists("/only-in-a")).toBe(false);
  });
});

describe("MemFs locks", () => {
  it("are per volume: a lock on one MemFs never refuses one on another", () => {
    const a = new MemFs();
    const b = new MemFs();
    for (const fs of [a, b]) fs.createDirAll("/db");
    const lockA = a.tryLock("/db/LOCK");
    expect(lockA).toBeDefined();
    expect(a.tryLock("/db/LOCK")).toBeUndefined();
    expect(a.tryLock("db/../db/LOCK")).toBeUndefined();
    const lockB = b.tryLock("/db/LOCK");
    expect(lockB).toBeDefined();
    lockA?.release();
    expect(b.tryLock("/db/LOCK")).toBeUndefined();
    lockB?.release();
    expect(() => a.tryLock("/missing/LOCK")).toThrow(expect.objectContaining({ code: "ENOENT" }));
  });
});
