import { MemFs } from "@talus/fs";
import { FaultFs, isInjected, Random, useTempDirs } from "@talus/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { BlobFile, blobFilePath, RotatingBlobWriter, type BlobHandle } from "../src/index.ts";
import { backends, enc, valueOf } from "./blob-support.ts";

const dirs = useTempDirs(afterEach);

function counter(start = 0): { nextId: () => number; readonly calls: number } {
  let id = start;
  let calls = 0;
  return {
    nextId: () => {
      calls++;
      return ++id;
    },
    get calls() {
      return calls;
    },
  };
}

describe.each(backends(dirs))("rotating blob writer on $name", (backend) => {
  it("rotates to a new file at the target size; every value reads back from the file its handle names", () => {
    const { fs, dir } = backend.make();
    const ids = counter(10);
    const writer = new RotatingBlobWriter(fs, dir, { nextId: ids.nextId, targetFileSize: 64 * 1024, codec: "lz4" });
    const rng = new Random(1);
    const written: { key: Uint8Array; value: Uint8Array; handle: BlobHandle }[] = [];
    for (let i = 0; i < 400; i++) {
      const key = enc(`user:${i}`);
      const value = valueOf(rng, rng.int(2000), i % 2 === 0);
      written.push({ key, value, handle: writer.write(key, i, value) });
    }
    // One huge value (records are never split: it overfills the file it lands in, which then rotates), then one more.
    const huge = valueOf(rng, 1_000_000, false);
    written.push({ key: enc("big"), value: huge, handle: writer.write(enc("big"), 400, huge) });
    written.push({ key: enc("after"), value: enc("v"), handle: writer.write(enc("after"), 401, enc("v")) });
    const before = writer.bytesWritten;
    const files = writer.finish();

    expect(before).toBeGreaterThan(huge.length);
    expect(writer.bytesWritten).toBe(files.reduce((sum, f) => sum + f.fileSize, 0));
    expect(files.length).toBeGreaterThan(3);
    expect(files.map((f) => f.id)).toEqual(Array.from({ length: files.length }, (_, i) => 11 + i));
    expect(ids.calls).toBe(files.length);
    expect(fs.readDir(dir).map((e) => e.fileName).sort()).toEqual(files.map((f) => String(f.id)).sort());
    for (const meta of files.slice(0, -1)) {
      expect(meta.fileSize).toBeGreaterThanOrEqual(64 * 1024);
      expect(meta.fileSize).toBeLessThan(64 * 1024 + 1_100_000);
    }
    expect(files.reduce((n, f) => n + f.recordCount, 0)).toBe(written.length);
    const bigHandle = written.at(-2)!.handle;
    const afterHandle = written.at(-1)!.handle;
    expect(afterHandle.blobFileId).toBe(bigHandle.blobFileId + 1);
    expect(afterHandle.offset).toBe(12);
    expect(files.find((f) => f.id === bigHandle.blobFileId)!.uncompressedBytes).toBeGreaterThan(huge.length);

    const open = new Map(files.map((meta) => [meta.id, BlobFile.open(fs, blobFilePath(dir, meta.id), { expectedId: meta.id, expectedFileSize: meta.fileSize })]));
    try {
      for (const w of written) {
        const file = open.get(w.handle.blobFileId)!;
        expect(Buffer.from(file.read(w.handle, w.key)).equals(w.value)).toBe(true);
      }
      for (const file of open.values()) file.verify();
    } finally {
      for (const file of open.values()) file.close();
    }
  });

  it("writes nothing and takes no id when given no values", () => {
    const { fs, dir } = backend.make();
    const ids = counter();
    const writer = new RotatingBlobWriter(fs, dir, { nextId: ids.nextId });
    expect(writer.finish()).toEqual([]);
    expect(ids.calls).toBe(0);
    expect(fs.readDir(dir)).toEqual([]);
  });

  it("a value refused for its arguments starts no file and does not fail the writer", () => {
    const { fs, dir } = backend.make();
    const ids = counter();
    const writer = new RotatingBlobWriter(fs, dir, { nextId: ids.nextId });
    expect(() => writer.write(new Uint8Array(0), 1, enc("v"))).toThrow(RangeError);
    expect(() => writer.copyRecord({ key: enc("k"), seqno: 1, codecId: 1, stored: enc("vvv"), uncompressedSize: 2 })).toThrow(RangeError);
    expect(ids.calls).toBe(0);
    expect(fs.readDir(dir)).toEqual([]);
    writer.write(enc("k"), 1, enc("v"));
    expect(writer.finish().map((f) => f.recordCount)).toEqual([1]);
  });

  it("abort() removes every file it wrote, finished or not", () => {
    const { fs, dir } = backend.make();
    const writer = new RotatingBlobWriter(fs, dir, { nextId: counter().nextId, targetFileSize: 10_000 });
    for (let i = 0; i < 55; i++) writer.write(enc(`k${i}`), i, new Uint8Array(1000).fill(i));
    expect(writer.finishedFiles.length).toBeGreaterThan(2);
    expect(fs.readDir(dir).length).toBe(writer.finishedFiles.length + 1);
    writer.abort();
    expect(fs.readDir(dir)).toEqual([]);
    expect(() => writer.write(enc("k"), 1, enc("v"))).toThrow(/aborted/);
  });

  it("finishAsync() finishes like finish()", async () => {
    const { fs, dir } = backend.make();
    const writer = new RotatingBlobWriter(fs, dir, { nextId: counter().nextId, targetFileSize: 10_000 });
    const handles = Array.from({ length: 30 }, (_, i) => writer.write(enc(`k${i}`), i, new Uint8Array(1000).fill(i)));
    const files = await writer.finishAsync();
    expect(files.length).toBe(new Set(handles.map((h) => h.blobFileId)).size);
    const file = BlobFile.open(fs, blobFilePath(dir, handles[29]!.blobFileId));
    expect(file.read(handles[29]!, enc("k29"))).toEqual(new Uint8Array(1000).fill(29));
    file.close();
    expect(() => writer.write(enc("k"), 1, enc("v"))).toThrow(/finished/);
  });
});

describe("rotating blob writer failures", () => {
  it("a failed write fails the writer; abort() then removes every file", () => {
    const fs = new FaultFs(new MemFs(), [{ ops: "write", after: 3, error: "ENOSPC" }]);
    fs.inner.createDirAll("/blobs");
    const writer = new RotatingBlobWriter(fs, "/blobs", { nextId: counter().nextId, targetFileSize: 200_000 });
    let failure: unknown;
    try {
      for (let i = 0; i < 100; i++) writer.write(enc(`k${i}`), i, new Uint8Array(150_000).fill(i));
    } catch (error) {
      failure = error;
    }
    expect(isInjected(failure)).toBe(true);
    expect(fs.inner.readDir("/blobs").length).toBeGreaterThan(0);
    expect(() => writer.write(enc("k"), 1, enc("v"))).toThrow(/failed/);
    expect(() => writer.finish()).toThrow(/failed/);
    writer.abort();
    expect(fs.inner.readDir("/blobs")).toEqual([]);
  });

  it("a failed sync at finish fails the writer, and abort() cleans up", () => {
    const fs = new FaultFs(new MemFs(), [{ ops: "sync", error: "EIO" }]);
    fs.inner.createDirAll("/blobs");
    const writer = new RotatingBlobWriter(fs, "/blobs", { nextId: counter().nextId });
    writer.write(enc("k"), 1, enc("v"));
    expect(() => writer.finish()).toThrow(expect.objectContaining({ code: "EIO" }));
    writer.abort();
    expect(fs.inner.readDir("/blobs")).toEqual([]);
  });

  it("an id already taken fails with EEXIST and leaves the other file alone", () => {
    const fs = new MemFs();
    fs.createDirAll("/blobs");
    const first = new RotatingBlobWriter(fs, "/blobs", { nextId: () => 1 });
    first.write(enc("k"), 1, enc("v"));
    first.finish();
    const second = new RotatingBlobWriter(fs, "/blobs", { nextId: () => 1 });
    expect(() => second.write(enc("k"), 2, enc("w"))).toThrow(expect.objectContaining({ code: "EEXIST" }));
    second.abort();
    expect(BlobFile.open(fs, "/blobs/1").meta.recordCount).toBe(1);
  });

  it("checks its options", () => {
    const fs = new MemFs();
    expect(() => new RotatingBlobWriter(fs, "/", { nextId: () => 1, targetFileSize: 0 })).toThrow(RangeError);
    expect(() => new RotatingBlobWriter(fs, "/", { nextId: 5 as unknown as () => number })).toThrow(TypeError);
  });
});
