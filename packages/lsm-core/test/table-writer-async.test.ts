import { MemFs, readFileBytes } from "@talus/fs";
import { Random } from "@talus/testkit";
import { describe, expect, it } from "vitest";
import { BYTEWISE_COMPARATOR } from "../src/key/comparator.ts";
import { BloomFilterBuilder } from "../src/table/bloom-filter.ts";
import { LZ4_CODEC, TableWriter, type TableWriterOptions } from "../src/table/index.ts";
import { SlowAsyncFs } from "./async-io-support.ts";
import { openTable, randomEntries, scanAll, show, type ModelEntry } from "./table-support.ts";

const OPTIONS: TableWriterOptions = { tableId: 7, createdAtMs: 1234, codec: LZ4_CODEC, blockSize: 512 };

function fill(writer: TableWriter, entries: readonly ModelEntry[]): void {
  for (const e of entries) writer.add(e.key, e.seqno, e.kind, e.value);
}

describe("TableWriter.finishAsync", () => {
  const entries = randomEntries(new Random(3), BYTEWISE_COMPARATOR, 40_000);

  it("writes the same file as finish(), pausing between pieces when asked to", async () => {
    const fs = new MemFs();
    const blocking = new TableWriter(fs, "/a", OPTIONS);
    fill(blocking, entries);
    const metaA = blocking.finish();
    const async = new TableWriter(fs, "/b", OPTIONS);
    fill(async, entries);
    let asked = 0;
    let paused = 0;
    const metaB = await async.finishAsync(() => {
      asked++;
      // Pause at every other point: both answers must be handled.
      if (asked % 2 === 0) return undefined;
      paused++;
      return new Promise((resolve) => setImmediate(resolve));
    });
    expect(metaB).toEqual(metaA);
    expect(Buffer.compare(readFileBytes(fs, "/b"), readFileBytes(fs, "/a"))).toBe(0);
    // Before the filter, before the index, before the tail (and between filter pieces for big tables).
    expect(asked).toBeGreaterThanOrEqual(3);
    expect(paused).toBeGreaterThanOrEqual(2);
    expect(show(scanAll(openTable(fs, "/b", { tableId: 7 })))).toEqual(show(entries));
  });

  it("syncs through syncAsync when the filesystem offers it, and through sync() otherwise", async () => {
    const fs = new SlowAsyncFs();
    const writer = new TableWriter(fs, "/t", OPTIONS);
    fill(writer, entries.slice(0, 100));
    await writer.finishAsync(() => undefined);
    expect(fs.counts).toMatchObject({ asyncSyncs: 1, syncs: 0 });
    const blocking = new TableWriter(fs, "/u", OPTIONS);
    fill(blocking, entries.slice(0, 100));
    blocking.finish();
    expect(fs.counts).toMatchObject({ asyncSyncs: 1, syncs: 1 });
  });

  it("on a failed sync rejects and leaves the writer to abort(), which removes the file", async () => {
    const fs = new SlowAsyncFs();
    fs.failAsyncSync = true;
    const writer = new TableWriter(fs, "/t", OPTIONS);
    fill(writer, entries.slice(0, 100));
    await expect(writer.finishAsync(() => undefined)).rejects.toMatchObject({ code: "EIO" });
    expect(() => writer.add(new Uint8Array([0xff]), 1, 0, new Uint8Array(0))).toThrow(/being finished/);
    expect(() => writer.finish()).toThrow(/being finished/);
    writer.abort();
    expect(fs.exists("/t")).toBe(false);
  });
});

describe("TableWriter backgroundSyncBytes", () => {
  // 20k entries of ~300 bytes: some 6 MB, drained to the file every 256 KiB.
  const entries: ModelEntry[] = Array.from({ length: 20_000 }, (_, i) => ({
    key: new TextEncoder().encode(`key${String(i).padStart(6, "0")}`),
    seqno: i,
    kind: 0,
    value: new Uint8Array(300).fill(i % 251),
  }));
  const options: TableWriterOptions = { tableId: 7, createdAtMs: 1234, backgroundSyncBytes: 64 * 1024 };
  const wait = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

  it("syncs in the background while writing, one sync at a time, and still syncs at the end", async () => {
    const fs = new SlowAsyncFs(1);
    const writer = new TableWriter(fs, "/t", options);
    for (const [i, e] of entries.entries()) {
      writer.add(e.key, e.seqno, e.kind, e.value);
      // Give the background syncs time to finish now and then, so that more than one starts.
      if (i % 2000 === 1999) await wait();
    }
    expect(fs.counts.asyncSyncs).toBeGreaterThan(3);
    // One at a time: with no waits in between, a whole table's worth of drains starts at most one.
    const started = fs.counts.asyncSyncs;
    await writer.finishAsync(() => undefined);
    expect(fs.counts.asyncSyncs).toBe(started + 1);
    expect(fs.counts.syncs).toBe(0);
    expect(show(scanAll(openTable(fs, "/t", { tableId: 7 })))).toEqual(show(entries));
  });

  it("starts at most one background sync at a time", () => {
    const fs = new SlowAsyncFs(1);
    const writer = new TableWriter(fs, "/t", options);
    fill(writer, entries);
    expect(fs.counts.asyncSyncs).toBe(1);
    writer.abort();
  });

  it("fails the table when a background sync failed, even if the final sync succeeds", async () => {
    const fs = new SlowAsyncFs(1);
    const writer = new TableWriter(fs, "/t", options);
    fs.failAsyncSync = true;
    fill(writer, entries.slice(0, 10_000));
    fs.failAsyncSync = false;
    fill(writer, entries.slice(10_000));
    await expect(writer.finishAsync(() => undefined)).rejects.toMatchObject({ code: "EIO" });
    writer.abort();
    expect(fs.exists("/t")).toBe(false);
  });

  it("is refused by the blocking finish(), and must be a positive integer", () => {
    const fs = new MemFs();
    const writer = new TableWriter(fs, "/t", options);
    fill(writer, entries.slice(0, 10));
    expect(() => writer.finish()).toThrow(/finishAsync/);
    expect(() => new TableWriter(fs, "/u", { ...options, backgroundSyncBytes: 0 })).toThrow(RangeError);
  });
});

describe("BloomFilterBuilder.finishInSteps", () => {
  it("yields between pieces and returns what finish() returns", () => {
    const rng = new Random(5);
    const a = new BloomFilterBuilder(10);
    const b = new BloomFilterBuilder(10);
    for (let i = 0; i < 50_000; i++) {
      const key = rng.bytes(16);
      a.addKey(key);
      b.addKey(key);
    }
    const steps = b.finishInSteps();
    let pauses = 0;
    let step = steps.next();
    while (step.done !== true) {
      pauses++;
      step = steps.next();
    }
    expect(pauses).toBe(3); // 50k items in pieces of 16384
    expect(Buffer.compare(step.value, a.finish())).toBe(0);
  });
});
