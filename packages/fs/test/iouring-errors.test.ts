// IoUringFs errors: node's codes (and errno/syscall fields) for closed handles, missing files, access
// modes and bad readMany requests, as StdFs reports them.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { IoUringFs, StdFs, type FsFile } from "../src/index.ts";
import { tempDirs } from "./helpers.ts";
import { describeIoUring } from "./iouring-helpers.ts";

const temp = tempDirs(afterEach);

const opened: IoUringFs[] = [];
afterEach(() => {
  for (const fs of opened.splice(0)) fs.close();
});
function ioUringFs(): IoUringFs {
  const fs = new IoUringFs();
  opened.push(fs);
  return fs;
}

/** What `fn` throws, for comparing two backends' errors. */
function thrown(fn: () => unknown): { code?: unknown; errno?: unknown; syscall?: unknown } {
  try {
    fn();
  } catch (error) {
    const { code, errno, syscall } = error as { code?: unknown; errno?: unknown; syscall?: unknown };
    return { code, errno, syscall };
  }
  throw new Error("did not throw");
}

describeIoUring("IoUringFs errors", () => {
  it("fails every call on a closed handle with EBADF (syncAsync as a rejection)", async () => {
    const dir = temp();
    const fs = ioUringFs();
    const file = fs.open(join(dir, "f"), { read: true, write: true, createNew: true });
    file.write(new Uint8Array([1, 2, 3]));
    file.close();
    file.close(); // twice is a no-op
    expect(() => file.readAt(new Uint8Array(3), 0)).toThrow(expect.objectContaining({ code: "EBADF" }));
    expect(() => file.write(new Uint8Array(1))).toThrow(expect.objectContaining({ code: "EBADF" }));
    expect(() => file.sync()).toThrow(expect.objectContaining({ code: "EBADF" }));
    expect(() => file.syncData()).toThrow(expect.objectContaining({ code: "EBADF" }));
    expect(() => file.len()).toThrow(expect.objectContaining({ code: "EBADF" }));
    await expect(file.syncAsync()).rejects.toMatchObject({ code: "EBADF" });
  });

  it("reports ENOENT, EEXIST and EISDIR on open like StdFs", () => {
    const dir = temp();
    const fs = ioUringFs();
    const std = new StdFs();
    writeFileSync(join(dir, "exists"), "x");
    const cases: Array<[string, Parameters<StdFs["open"]>[1]]> = [
      [join(dir, "missing"), { read: true }],
      [join(dir, "no", "parent"), { write: true, create: true }],
      [join(dir, "exists"), { write: true, createNew: true }],
      [dir, { read: true }],
    ];
    for (const [path, options] of cases) expect(thrown(() => fs.open(path, options))).toEqual(thrown(() => std.open(path, options)));
    expect(thrown(() => fs.open(join(dir, "missing"), { read: true })).code).toBe("ENOENT");
  });

  it("lets the kernel enforce access modes: EBADF with node's errno and syscall", () => {
    const dir = temp();
    const fs = ioUringFs();
    const std = new StdFs();
    writeFileSync(join(dir, "f"), "abc");
    const readOnly = fs.open(join(dir, "f"), { read: true });
    const writeOnly = fs.open(join(dir, "f"), { write: true });
    const stdReadOnly = std.open(join(dir, "f"), { read: true });
    const stdWriteOnly = std.open(join(dir, "f"), { write: true });
    expect(thrown(() => readOnly.write(new Uint8Array(1)))).toEqual(thrown(() => stdReadOnly.write(new Uint8Array(1))));
    expect(thrown(() => writeOnly.readAt(new Uint8Array(1), 0))).toEqual(thrown(() => stdWriteOnly.readAt(new Uint8Array(1), 0)));
    expect(thrown(() => writeOnly.readAt(new Uint8Array(1), 0))).toEqual({ code: "EBADF", errno: -9, syscall: "read" });
    for (const file of [readOnly, writeOnly, stdReadOnly, stdWriteOnly]) file.close();
  });

  it("rejects positions that are not byte offsets with EINVAL", () => {
    const dir = temp();
    const fs = ioUringFs();
    const file = fs.open(join(dir, "f"), { read: true, write: true, createNew: true });
    for (const position of [-1, 1.5, Number.NaN, 2 ** 60]) {
      expect(() => file.readAt(new Uint8Array(1), position)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    }
    file.close();
  });

  it("fails readMany with a bad request: nothing read for a closed handle or a bad position, the first failure in order otherwise", () => {
    const dir = temp();
    const fs = ioUringFs();
    writeFileSync(join(dir, "f"), "0123456789");
    const good = fs.open(join(dir, "f"), { read: true });
    const closed = fs.open(join(dir, "f"), { read: true });
    closed.close();
    const writeOnly = fs.open(join(dir, "f"), { write: true });
    const request = (file: FsFile, position = 0) => ({ file, position, buffer: new Uint8Array(4) });

    const first = request(good);
    expect(() => fs.readMany([first, request(closed)])).toThrow(expect.objectContaining({ code: "EBADF" }));
    expect([...first.buffer]).toEqual([0, 0, 0, 0]); // checked before anything was submitted
    expect(() => fs.readMany([request(good), request(good, -5)])).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => fs.readMany([{ file: good, position: 0, buffer: [1, 2] as unknown as Uint8Array }])).toThrow(TypeError);

    // The kernel refuses a read of a write-only handle: every read still completes, then EBADF is thrown.
    const before = request(good, 0);
    const after = request(good, 6);
    expect(() => fs.readMany([before, request(writeOnly), after])).toThrow(expect.objectContaining({ code: "EBADF", syscall: "read" }));
    expect(Buffer.from(before.buffer).toString()).toBe("0123");
    expect(Buffer.from(after.buffer).toString()).toBe("6789");

    // The ring is fine afterwards.
    expect(fs.readMany([request(good, 8), request(good, 20)])).toEqual([2, 0]);
    good.close();
    writeOnly.close();
  });

  it("reports async errors as rejections with node's codes", async () => {
    const dir = temp();
    const fs = ioUringFs();
    writeFileSync(join(dir, "file"), "x");
    await expect(fs.syncDirectoryAsync(join(dir, "missing"))).rejects.toMatchObject({ code: "ENOENT" });
    await expect(fs.syncDirectoryAsync(join(dir, "file"))).rejects.toMatchObject({ code: "ENOTDIR" });
    await expect(fs.removeFileAsync(join(dir, "missing"))).rejects.toMatchObject({ code: "ENOENT", syscall: "unlink", path: join(dir, "missing") });
    await expect(fs.removeFileAsync(dir)).rejects.toMatchObject({ code: "EISDIR" });
    expect(() => fs.syncDirectory(join(dir, "missing"))).toThrow(expect.objectContaining({ code: "ENOENT" }));
  });

  it("checks its options", () => {
    for (const ringSize of [0, 1, 1.5, 40_000]) expect(() => new IoUringFs({ ringSize })).toThrow(RangeError);
    for (const spinMicros of [-1, 0.5, 2_000_000]) expect(() => new IoUringFs({ spinMicros })).toThrow(RangeError);
  });
});
