// IoUringFs under load: many handles on one ring, async syncs in flight during sync reads, big readMany
// batches checked against StdFs, closing with work queued, two rings at once, worker threads, and the
// ring thread's lifetime (close, garbage collection, a worker's end).
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Worker } from "node:worker_threads";
import { afterEach, expect, it } from "vitest";
import { IoUringFs, KERNEL_BACKEND_ID, MemFs, StdFs, type FsFile, type FsReadRequest, type IoUringFile } from "../src/index.ts";
import { liveRingThreads } from "../src/iouring/ring.ts";
import { describeIoUring, eventually } from "./iouring-helpers.ts";
import { tempDirs } from "./helpers.ts";

const temp = tempDirs(afterEach);

const opened: IoUringFs[] = [];
afterEach(() => {
  for (const fs of opened.splice(0)) fs.close();
});

function ioUringFs(ringSize?: number): IoUringFs {
  const fs = ringSize === undefined ? new IoUringFs() : new IoUringFs({ ringSize });
  opened.push(fs);
  return fs;
}

/** Deterministic contents for file `seed`. */
function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describeIoUring("IoUringFs: many operations on one ring", () => {
  it("keeps 200 handles apart: interleaved writes and reads land in the right files", () => {
    const dir = temp();
    const fs = ioUringFs();
    const files: FsFile[] = [];
    for (let i = 0; i < 200; i++) files.push(fs.open(join(dir, `f${i}`), { read: true, write: true, createNew: true }));
    const contents = files.map((_, i) => pattern(5000 + i * 13, i));
    // Three rounds of interleaved chunks across every handle.
    for (let round = 0; round < 3; round++) {
      files.forEach((file, i) => {
        const data = contents[i] as Uint8Array;
        const third = Math.ceil(data.length / 3);
        file.write(data.subarray(round * third, Math.min(data.length, (round + 1) * third)));
      });
    }
    files.forEach((file, i) => {
      const data = contents[i] as Uint8Array;
      const back = new Uint8Array(data.length + 10);
      expect(file.readAt(back, 0)).toBe(data.length);
      expect(same(back.subarray(0, data.length), data)).toBe(true);
      expect(file.len()).toBe(data.length);
    });
    for (const file of files) file.close();
    files.forEach((_, i) => expect(same(readFileSync(join(dir, `f${i}`)), contents[i] as Uint8Array)).toBe(true));
  });

  it("reads correctly while async syncs are in flight", async () => {
    const dir = temp();
    const fs = ioUringFs();
    const data = pattern(1 << 20, 7);
    writeFileSync(join(dir, "data"), data);
    const reader = fs.open(join(dir, "data"), { read: true });
    const writers = Array.from({ length: 32 }, (_, i) => {
      const file = fs.open(join(dir, `w${i}`), { write: true, createNew: true });
      file.write(pattern(64 * 1024, 100 + i));
      return file;
    });
    const syncs: Promise<void>[] = [];
    for (const writer of writers) syncs.push(writer.syncAsync());
    syncs.push(fs.syncDirectoryAsync(dir));
    // Synchronous reads go through the same ring while those syncs are queued or running.
    const buffer = new Uint8Array(4096);
    for (let i = 0; i < 500; i++) {
      const position = ((i * 7919) % 256) * 4096;
      expect(reader.readAt(buffer, position)).toBe(4096);
      expect(same(buffer, data.subarray(position, position + 4096))).toBe(true);
    }
    await Promise.all(syncs);
    for (const writer of writers) writer.close();
    reader.close();
    writers.forEach((_, i) => expect(same(readFileSync(join(dir, `w${i}`)), pattern(64 * 1024, 100 + i))).toBe(true));
  });

  it("runs readMany of hundreds of requests across files as batches, with StdFs's bytes", () => {
    const dir = temp();
    const sizes = [0, 1, 4095, 4096, 70_000, 300_000, 1_000_003];
    sizes.forEach((size, i) => writeFileSync(join(dir, `t${i}`), pattern(size, i)));
    const std = new StdFs();
    for (const ringSize of [256, 8]) {
      const fs = ioUringFs(ringSize);
      const files = sizes.map((_, i) => fs.open(join(dir, `t${i}`), { read: true }));
      const stdFiles = sizes.map((_, i) => std.open(join(dir, `t${i}`), { read: true }));
      const requests: FsReadRequest[] = [];
      const expected: Uint8Array[] = [];
      for (let k = 0; k < 600; k++) {
        const i = (k * 5) % sizes.length;
        const size = sizes[i] as number;
        const position = size === 0 ? (k % 3) * 10 : (k * 104_729) % (size + 100); // some past the end
        const length = [1, 100, 4096, 16_384, 65_536][k % 5] as number;
        requests.push({ file: files[i] as FsFile, position, buffer: new Uint8Array(length).fill(0xee) });
        const want = new Uint8Array(length);
        const n = (stdFiles[i] as FsFile).readAt(want, position);
        expected.push(want.subarray(0, n));
      }
      const before = fs.ringStats();
      const counts = fs.readMany(requests);
      const after = fs.ringStats();
      requests.forEach((request, k) => {
        const want = expected[k] as Uint8Array;
        expect(counts[k]).toBe(want.length);
        expect(same(request.buffer.subarray(0, want.length), want)).toBe(true);
      });
      // Queued together: the first io_uring_enter takes as many as the ring holds (one entry is the
      // thread's wake-up read), not one read per system call.
      expect(after.maxBatch).toBeGreaterThanOrEqual(Math.min(600, fs.ringSize - 1));
      expect(after.submits - before.submits).toBeLessThan(600 / 2);
      for (const file of [...files, ...stdFiles]) file.close();
    }
  });

  it("mixes handles of other backends into readMany (read one by one)", () => {
    const dir = temp();
    writeFileSync(join(dir, "a"), "disk bytes");
    const fs = ioUringFs();
    const mem = new MemFs();
    const memFile = mem.open("/m", { read: true, write: true, create: true });
    memFile.write(new TextEncoder().encode("memory bytes"));
    const diskFile = fs.open(join(dir, "a"), { read: true });
    const other = new IoUringFs();
    opened.push(other);
    const otherFile = other.open(join(dir, "a"), { read: true });
    const requests = [
      { file: diskFile, position: 5, buffer: new Uint8Array(5) },
      { file: memFile, position: 7, buffer: new Uint8Array(10) },
      { file: otherFile, position: 0, buffer: new Uint8Array(4) },
    ];
    expect(fs.readMany(requests)).toEqual([5, 5, 4]);
    expect(requests.map((r) => Buffer.from(r.buffer).toString("latin1").replace(/\0+$/, ""))).toEqual(["bytes", "bytes", "disk"]);
    diskFile.close();
    otherFile.close();
  });
});

describeIoUring("IoUringFs: closing and lifetime", () => {
  it("settles every queued async operation when closed, and stops its thread", async () => {
    const dir = temp();
    const base = liveRingThreads();
    const fs = new IoUringFs({ ringSize: 4 });
    expect(liveRingThreads()).toBe(base + 1);
    const files = Array.from({ length: 40 }, (_, i) => {
      const file = fs.open(join(dir, `f${i}`), { write: true, createNew: true });
      file.write(pattern(32 * 1024, i));
      return file;
    });
    for (let i = 0; i < 10; i++) writeFileSync(join(dir, `gone${i}`), "x");
    // Far more than a ring of 4 holds: most are still queued when close() is called.
    const pending: Promise<unknown>[] = [
      ...files.map((file) => file.syncAsync()),
      ...files.map((file) => file.syncAsync()),
      fs.syncDirectoryAsync(dir),
      ...Array.from({ length: 10 }, (_, i) => fs.removeFileAsync(join(dir, `gone${i}`))),
      fs.removeFileAsync(join(dir, "missing")),
    ];
    // A handle closed with its sync pending keeps the descriptor until the sync is done.
    (files[0] as FsFile).close();
    fs.close();
    expect(liveRingThreads()).toBe(base);
    const settled = await Promise.race([Promise.allSettled(pending), new Promise((resolve) => setTimeout(() => resolve("hang"), 10_000))]);
    expect(settled).not.toBe("hang");
    const outcomes = settled as PromiseSettledResult<unknown>[];
    // Everything queued before close completed; only the unlink of a missing file failed, with its own error.
    expect(outcomes.slice(0, -1).every((outcome) => outcome.status === "fulfilled")).toBe(true);
    expect(outcomes.at(-1)).toMatchObject({ status: "rejected", reason: { code: "ENOENT" } });
    for (let i = 0; i < 10; i++) expect(() => statSync(join(dir, `gone${i}`))).toThrow();
    // Afterwards the data path fails with EBADF, handles still close, metadata still works.
    const file = files[1] as IoUringFile;
    expect(() => file.readAt(new Uint8Array(1), 0)).toThrow(expect.objectContaining({ code: "EBADF" }));
    expect(() => file.write(new Uint8Array(1))).toThrow(expect.objectContaining({ code: "EBADF" }));
    expect(() => file.sync()).toThrow(expect.objectContaining({ code: "EBADF" }));
    await expect(file.syncAsync()).rejects.toMatchObject({ code: "EBADF" });
    await expect(fs.syncDirectoryAsync(dir)).rejects.toMatchObject({ code: "EBADF" });
    expect(() => fs.open(join(dir, "f1"), { read: true })).toThrow(expect.objectContaining({ code: "EBADF" }));
    expect(() => fs.readMany([{ file, position: 0, buffer: new Uint8Array(1) }])).toThrow(expect.objectContaining({ code: "EBADF" }));
    expect(fs.metadata(join(dir, "f1")).len).toBe(32 * 1024);
    for (const f of files) f.close();
    fs.close();
    expect(fs.closed).toBe(true);
  });

  it("runs two instances at once, each with its own ring and thread", async () => {
    const dir = temp();
    const base = liveRingThreads();
    const a = ioUringFs();
    const b = ioUringFs(16);
    expect(liveRingThreads()).toBe(base + 2);
    expect(b.ringSize).toBe(16);
    const fa = a.open(join(dir, "a"), { read: true, write: true, createNew: true });
    const fb = b.open(join(dir, "b"), { read: true, write: true, createNew: true });
    for (let i = 0; i < 50; i++) {
      fa.write(pattern(1000, i));
      fb.write(pattern(1000, 1000 + i));
    }
    await Promise.all([fa.syncAsync(), fb.syncAsync(), a.syncDirectoryAsync(dir), b.syncDirectoryAsync(dir)]);
    // Each reads the other's file too: the same kernel files.
    const fromB = a.open(join(dir, "b"), { read: true });
    const fromA = b.open(join(dir, "a"), { read: true });
    const readA = new Uint8Array(50_000);
    const readB = new Uint8Array(50_000);
    expect(a.readMany([{ file: fromB, position: 0, buffer: readB }])).toEqual([50_000]);
    expect(b.readMany([{ file: fromA, position: 0, buffer: readA }])).toEqual([50_000]);
    for (let i = 0; i < 50; i++) {
      expect(same(readA.subarray(i * 1000, (i + 1) * 1000), pattern(1000, i))).toBe(true);
      expect(same(readB.subarray(i * 1000, (i + 1) * 1000), pattern(1000, 1000 + i))).toBe(true);
    }
    a.close();
    expect(liveRingThreads()).toBe(base + 1);
    // The other keeps working.
    expect(fromA.readAt(new Uint8Array(10), 0)).toBe(10);
    for (const file of [fa, fb, fromA, fromB]) file.close();
    b.close();
    expect(liveRingThreads()).toBe(base);
  });

  it("stops the ring thread when the instance and its handles are garbage-collected", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const dir = temp();
    writeFileSync(join(dir, "a"), "abc");
    const base = liveRingThreads();
    (() => {
      const fs = new IoUringFs();
      const file = fs.open(join(dir, "a"), { read: true });
      file.readAt(new Uint8Array(3), 0);
      file.close();
    })();
    expect(liveRingThreads()).toBe(base + 1);
    await eventually(() => {
      gc();
      return liveRingThreads() === base;
    });
  });

  it("shares the kernel's files with StdFs: same backendId, hard links both ways, maps", () => {
    const dir = temp();
    const fs = ioUringFs();
    const std = new StdFs();
    expect(fs.backendId()).toBe(KERNEL_BACKEND_ID);
    expect(fs.backendId()).toBe(std.backendId());
    writeFileSync(join(dir, "src"), "linked");
    fs.hardLink(join(dir, "src"), join(dir, "by-iouring"));
    std.hardLink(join(dir, "by-iouring"), join(dir, "by-std"));
    expect(statSync(join(dir, "by-std")).ino).toBe(statSync(join(dir, "src")).ino);
    const mapped = fs.mapReadOnly(join(dir, "by-std"));
    expect(mapped === undefined ? undefined : Buffer.from(mapped).toString()).toBe(StdFs.mapsFiles() ? "linked" : undefined);
  });
});

describeIoUring("IoUringFs: worker threads", () => {
  it("lets a worker make its own IoUringFs from threadShare; its ring thread ends with the worker", async () => {
    const dir = temp();
    const fs = ioUringFs(64);
    const share = fs.threadShare();
    expect(share.exportName).toBe("IoUringFs");
    expect(share.args).toEqual([{ ringSize: 64, spinMicros: 10 }]);
    expect(ioUringFs().threadShare().args).toBeUndefined();
    const base = liveRingThreads();
    const data = pattern(200_000, 3);
    writeFileSync(join(dir, "input"), data);
    // The worker loads the module the share names (TypeScript sources here, through tsx), writes a file,
    // batch-reads the input, and leaves without closing its IoUringFs.
    const worker = new Worker(
      `const { register } = await import("tsx/esm/api"); register();
       const { workerData, parentPort } = await import("node:worker_threads");
       const { join } = await import("node:path");
       const module = await import(workerData.share.module);
       const fs = new module[workerData.share.exportName](...(workerData.share.args ?? []));
       const out = fs.open(join(workerData.dir, "from-worker"), { write: true, createNew: true });
       out.write(new TextEncoder().encode("written by a worker through io_uring"));
       await out.syncAsync();
       out.close();
       await fs.syncDirectoryAsync(workerData.dir);
       const input = fs.open(join(workerData.dir, "input"), { read: true });
       const requests = [];
       for (let position = 0; position < 200_000; position += 10_000) requests.push({ file: input, position, buffer: new Uint8Array(10_000) });
       const counts = fs.readMany(requests);
       const joined = new Uint8Array(200_000);
       requests.forEach((request, i) => joined.set(request.buffer, request.position));
       parentPort.postMessage({ counts, joined, ringSize: fs.ringSize });
       await new Promise(() => {}); // stays alive until terminated`,
      { eval: true, type: "module", workerData: { share, dir } } as ConstructorParameters<typeof Worker>[1],
    );
    const message = await new Promise<{ counts: number[]; joined: Uint8Array; ringSize: number }>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    expect(message.ringSize).toBe(64);
    expect(message.counts).toEqual(new Array(20).fill(10_000));
    expect(same(message.joined, data)).toBe(true);
    expect(readFileSync(join(dir, "from-worker"), "utf8")).toBe("written by a worker through io_uring");
    expect(liveRingThreads()).toBe(base + 1);
    await worker.terminate();
    // The environment's cleanup hook joined the worker's ring thread.
    await eventually(() => liveRingThreads() === base);
  });
});
