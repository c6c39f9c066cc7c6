// StdFs.mapReadOnly: whole files as read-only views through the package's addon (built at install), and
// StdFs.threadShare: what a worker thread needs to make the same filesystem.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { ForwardingFs, MemFs, StdFs, type Fs } from "../src/index.ts";
import { tempDirs } from "./helpers.ts";

const temp = tempDirs(afterEach);

describe("StdFs.mapReadOnly", () => {
  it("is available here: the addon was built when the workspace was installed", () => {
    expect(StdFs.mapsFiles()).toBe(true);
  });

  it("maps a whole file read-only, the same bytes readAt reads", () => {
    const dir = temp();
    const path = join(dir, "table");
    const bytes = new Uint8Array(3 * 4096 + 17).map((_, i) => (i * 7) & 0xff);
    writeFileSync(path, bytes);
    const fs = new StdFs();
    const map = fs.mapReadOnly(path);
    expect(map).toBeInstanceOf(Uint8Array);
    expect(map?.length).toBe(bytes.length);
    expect(Buffer.from(map as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
    const file = fs.open(path, { read: true });
    const read = new Uint8Array(100);
    file.readAt(read, 5000);
    file.close();
    expect([...read]).toEqual([...(map as Uint8Array).subarray(5000, 5100)]);
  });

  it("keeps a removed file readable through the map", () => {
    const dir = temp();
    const path = join(dir, "gone");
    writeFileSync(path, "still here");
    const map = new StdFs().mapReadOnly(path);
    rmSync(path);
    expect(Buffer.from(map as Uint8Array).toString()).toBe("still here");
  });

  it("gives undefined for an empty file and node-style errors for a missing file or a directory", () => {
    const dir = temp();
    writeFileSync(join(dir, "empty"), "");
    const fs = new StdFs();
    expect(fs.mapReadOnly(join(dir, "empty"))).toBeUndefined();
    expect(() => fs.mapReadOnly(join(dir, "missing"))).toThrow(expect.objectContaining({ code: "ENOENT" }));
    expect(() => fs.mapReadOnly(dir)).toThrow(expect.objectContaining({ code: "EISDIR" }));
  });

  it("is not offered by in-memory volumes or by wrappers that must see every read", () => {
    expect((new MemFs() as Fs).mapReadOnly).toBeUndefined();
    expect((new ForwardingFs(new StdFs()) as { mapReadOnly?: unknown }).mapReadOnly).toBeUndefined();
  });
});

describe("StdFs.evictFromPageCache", () => {
  /** Bytes of the file the page cache holds, as util-linux's fincore(1) reports them (mincore under the hood). */
  function cachedBytes(path: string): number {
    const result = spawnSync("fincore", ["--bytes", "--noheadings", "--output", "RES", path], { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`fincore failed: ${result.stderr}`);
    return Number(result.stdout.trim());
  }

  it("drops a file's clean pages from the page cache and leaves its contents as they were", () => {
    const path = join(temp(), "cold");
    const bytes = new Uint8Array(64 * 4096).map((_, i) => (i * 13) & 0xff);
    const fs = new StdFs();
    const file = fs.open(path, { write: true, createNew: true });
    file.write(bytes);
    file.sync(); // written back: DONTNEED leaves dirty pages alone
    file.close();
    readFileSync(path);
    expect(cachedBytes(path)).toBe(bytes.length);
    expect(StdFs.evictFromPageCache(path)).toBe(true);
    expect(cachedBytes(path)).toBe(0);
    expect(Buffer.from(readFileSync(path)).equals(Buffer.from(bytes))).toBe(true);
  });

  it("throws ENOENT for a missing file", () => {
    expect(() => StdFs.evictFromPageCache(join(temp(), "missing"))).toThrow(expect.objectContaining({ code: "ENOENT" }));
  });
});

describe("StdFs.threadShare", () => {
  it("lets a worker thread make a StdFs that sees the same files", async () => {
    const dir = temp();
    const share = new StdFs().threadShare();
    expect(share.exportName).toBe("StdFs");
    const path = join(dir, "from-worker");
    // The worker loads the module the share names (TypeScript sources here, through tsx) and writes a file.
    const worker = new Worker(
      `const { register } = await import("tsx/esm/api"); register();
       const { workerData, parentPort } = await import("node:worker_threads");
       const module = await import(workerData.share.module);
       const fs = new module[workerData.share.exportName]();
       const file = fs.open(workerData.path, { write: true, createNew: true });
       file.write(new TextEncoder().encode("written by a worker"));
       file.sync();
       file.close();
       parentPort.postMessage("done");`,
      { eval: true, type: "module", workerData: { share, path } } as ConstructorParameters<typeof Worker>[1],
    );
    const message = await new Promise((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    await worker.terminate();
    expect(message).toBe("done");
    expect(new TextDecoder().decode(new StdFs().mapReadOnly(path))).toBe("written by a worker");
    expect((new MemFs() as Fs).threadShare).toBeUndefined();
  });
});
