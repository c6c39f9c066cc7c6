// Compaction inputs are read through read-ahead windows (src/table/read-ahead-window.ts): many consecutive
// data blocks per read instead of one read per block, the first window of every input run read together
// with one Fs.readMany. The window itself (spans, truncation), a table cursor through one (same entries as
// a plain cursor, one read per window), and whole compactions: inline on MemFs (reads counted), on a
// worker thread over StdFs without memory maps, and on IoUringFs (same contents as without read-ahead).
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ForwardingFs, MemFs, StdFs, type Fs, type FsReadRequest } from "@talus/fs";
import { FaultFs, Random, useTempDirs } from "@talus/testkit";
import { LsmError, SEQNO_MAX, SequenceNumberCounter, Tree, type TreeOptions } from "../src/index.ts";
import { ValueKind } from "../src/key/value-kind.ts";
import { ReadAheadWindow } from "../src/table/read-ahead-window.ts";
import { Table } from "../src/table/table.ts";
import { BLOCK_TRAILER_SIZE } from "../src/table/format.ts";
import { caches, enc, openTable, readFile, scanAll, show, writeFile, writeTable, type ModelEntry } from "./table-support.ts";
import { IOURING_UNAVAILABLE, useIoUringFs } from "./backends.ts";

const dirs = useTempDirs(afterEach);
const ioUringFs = useIoUringFs(afterAll);

function model(count: number, seed = 5): ModelEntry[] {
  const rng = new Random(seed);
  return Array.from({ length: count }, (_, i) => ({ key: enc(`k${String(i).padStart(6, "0")}`), seqno: i + 1, kind: ValueKind.Value, value: rng.bytes(60) }));
}

/** Counts the requests of every readMany that reaches it. */
class RequestCountingFs extends ForwardingFs {
  readonly batches: number[] = [];

  override readMany(requests: readonly FsReadRequest[]): number[] {
    this.batches.push(requests.length);
    return super.readMany(requests);
  }
}

describe("ReadAheadWindow", () => {
  it("spans the blocks from a given one that fit in its limit, at least that block", () => {
    const fs = new MemFs();
    writeTable(fs, "/t.sst", model(3000), { blockSize: 1024 });
    const table = openTable(fs, "/t.sst", caches(0));
    const index = table.index();
    const window = new ReadAheadWindow(8 * 1024);
    const span = window.spanFrom(index, 3);
    expect(span.first).toBe(3);
    expect(span.start).toBe(index.blockOffset(3));
    const last = span.end - 1;
    expect(span.length).toBe(index.blockOffset(last) + index.blockSize(last) + BLOCK_TRAILER_SIZE - span.start);
    expect(span.length).toBeLessThanOrEqual(8 * 1024);
    // One more block would not have fitted.
    expect(index.blockOffset(span.end) + index.blockSize(span.end) + BLOCK_TRAILER_SIZE - span.start).toBeGreaterThan(8 * 1024);
    // A limit below one block still reads that block.
    const tiny = new ReadAheadWindow(16).spanFrom(index, 0);
    expect([tiny.first, tiny.end]).toEqual([0, 1]);
    // The last block's span ends at the table's last block.
    expect(window.spanFrom(index, index.count - 1).end).toBe(index.count);
    table.close();
  });

  it("refuses a limit that is not a positive integer", () => {
    expect(() => new ReadAheadWindow(0)).toThrow(RangeError);
    expect(() => new ReadAheadWindow(1.5)).toThrow(RangeError);
  });
});

describe("a table cursor reading ahead", () => {
  it("returns the entries a plain cursor returns, with one read per window rather than per block", () => {
    const inner = new MemFs();
    const entries = model(6000);
    writeTable(inner, "/t.sst", entries, { blockSize: 1024 });
    const fs = new FaultFs(inner);
    const table = openTable(fs, "/t.sst", caches(0));
    const blocks = table.index().count;
    fs.resetHistory();
    const window = new ReadAheadWindow(64 * 1024);
    const cursor = table.cursor({ fillCache: false, readAhead: window });
    const seen: ModelEntry[] = [];
    for (cursor.seekToFirst(); cursor.valid(); cursor.next()) seen.push({ key: cursor.key().slice(), seqno: cursor.seqno(), kind: cursor.kind(), value: cursor.value().slice() });
    cursor.close();
    expect(show(seen)).toEqual(show(entries));
    const reads = fs.calls.read;
    expect(blocks).toBeGreaterThan(200);
    // Each window holds at least 64 KiB minus one block.
    expect(reads).toBeLessThanOrEqual(Math.ceil((table.index().blockOffset(blocks - 1) + 2048) / (63 * 1024)));
    expect(reads).toBeGreaterThan(1);
    // A plain cursor without the cache reads once per block.
    fs.resetHistory();
    expect(show(scanAll(table))).toEqual(show(entries));
    expect(fs.calls.read).toBeGreaterThanOrEqual(blocks);
    table.close();
  });

  it("goes backwards and seeks, refilling the window from the block it enters", () => {
    const fs = new MemFs();
    const entries = model(3000);
    writeTable(fs, "/t.sst", entries, { blockSize: 512 });
    const table = openTable(fs, "/t.sst", caches(0));
    const cursor = table.cursor({ fillCache: false, readAhead: new ReadAheadWindow(4096) });
    const keys: string[] = [];
    for (cursor.seekToLast(); cursor.valid(); cursor.prev()) keys.push(new TextDecoder().decode(cursor.key()));
    expect(keys).toEqual(entries.map((e) => new TextDecoder().decode(e.key)).reverse());
    cursor.seek(enc("k001500"), SEQNO_MAX);
    expect(new TextDecoder().decode(cursor.key())).toBe("k001500");
    cursor.close();
    table.close();
  });

  it("reports a damaged block in a window as CORRUPTION naming the file", () => {
    const fs = new MemFs();
    writeTable(fs, "/t.sst", model(3000), { blockSize: 1024 });
    const probe = openTable(fs, "/t.sst", caches(0));
    const offset = probe.index().blockOffset(5) + 10;
    probe.close();
    const bytes = readFile(fs, "/t.sst");
    bytes[offset] = (bytes[offset] as number) ^ 0x40;
    writeFile(fs, "/t.sst", bytes);
    const table = openTable(fs, "/t.sst", caches(0));
    const cursor = table.cursor({ fillCache: false, readAhead: new ReadAheadWindow() });
    let failure: unknown;
    try {
      for (cursor.seekToFirst(); cursor.valid(); cursor.next());
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(LsmError);
    expect((failure as LsmError).code).toBe("CORRUPTION");
    expect((failure as LsmError).message).toContain("/t.sst");
    table.close();
  });

  it("lets go of its bytes when the cursor closes, and reads again when used again", () => {
    const inner = new MemFs();
    writeTable(inner, "/t.sst", model(2000), { blockSize: 1024 });
    const fs = new FaultFs(inner);
    const table = openTable(fs, "/t.sst", caches(0));
    const window = new ReadAheadWindow(16 * 1024);
    const cursor = table.cursor({ fillCache: false, readAhead: window });
    cursor.seekToFirst();
    expect(window.holds(0)).toBe(true);
    cursor.close();
    expect(window.holds(0)).toBe(false);
    fs.resetHistory();
    const again = table.cursor({ fillCache: false, readAhead: window });
    again.seekToFirst();
    expect(new TextDecoder().decode(again.key())).toBe("k000000");
    expect(fs.calls.read).toBe(1);
    again.close();
    table.close();
  });

  it("is refused for a cursor that fills the block cache", () => {
    const fs = new MemFs();
    writeTable(fs, "/t.sst", model(100));
    const table = openTable(fs, "/t.sst", caches(1 << 20));
    expect(() => table.cursor({ fillCache: true, readAhead: new ReadAheadWindow() })).toThrow(RangeError);
    table.close();
  });

  it("fills the first windows of many tables with one readMany", () => {
    const inner = new RequestCountingFs(new MemFs());
    for (let t = 0; t < 3; t++) writeTable(inner, `/t${t}.sst`, model(2000, t), { blockSize: 1024 });
    const fs = new FaultFs(inner);
    const tables = [0, 1, 2].map((t) => openTable(fs, `/t${t}.sst`, caches(0)));
    const windows = tables.map(() => new ReadAheadWindow(16 * 1024));
    fs.resetHistory();
    Table.fillReadAheadWindows(tables.map((table, k) => ({ table, window: windows[k] as ReadAheadWindow, block: 0 })));
    expect(inner.batches).toEqual([3]);
    expect(windows.every((w) => w.holds(0) && w.holds(1))).toBe(true);
    // The cursors find their first blocks there: no read until they pass the window.
    const cursors = tables.map((table, k) => table.cursor({ fillCache: false, readAhead: windows[k] as ReadAheadWindow }));
    for (const cursor of cursors) cursor.seekToFirst();
    expect(fs.calls.read).toBe(0);
    for (const cursor of cursors) cursor.close();
    for (const table of tables) table.close();
  });
});

const KEYS_PER_RUN = 6000;
const RUNS = 4;

/** RUNS overlapping L0 runs of KEYS_PER_RUN keys each (about 600 KiB per table, 1 KiB blocks), on `fs`. */
async function overlappingRuns(fs: Fs, path: string, options: Partial<TreeOptions>): Promise<{ tree: Tree; expected: Map<string, string> }> {
  const tree = await Tree.open({ fs, path, blockSize: 1024, flushTableSize: 64 << 20, ...options });
  const seqno = new SequenceNumberCounter();
  const expected = new Map<string, string>();
  for (let r = 0; r < RUNS; r++) {
    for (let i = 0; i < KEYS_PER_RUN; i++) {
      const key = `k${String(i * RUNS + r).padStart(7, "0")}`;
      const value = `run${r}-${i}-${"v".repeat(80)}`;
      tree.insert(key, value, seqno.next());
      expected.set(key, value);
    }
    await tree.flushActiveMemtable(0);
  }
  return { tree, expected };
}

function contents(tree: Tree): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of tree.range({}, SEQNO_MAX)) out.set(new TextDecoder().decode(k), new TextDecoder().decode(v));
  return out;
}

describe("compaction inputs read ahead", () => {
  it("inline on MemFs: the first windows of all runs in one readMany, then a read per window, not per block", async () => {
    const counting = new RequestCountingFs(new MemFs());
    const fs = new FaultFs(counting);
    const { tree, expected } = await overlappingRuns(fs, "/db", { workers: false });
    const inputBytes = tree.diskSpace();
    fs.resetHistory();
    counting.batches.length = 0;
    await tree.majorCompact(64 << 20, 0);
    expect(counting.batches).toEqual([RUNS]);
    // Each window after the first reads at least 256 KiB minus one block.
    const windows = Math.ceil(inputBytes / (255 * 1024)) + RUNS;
    expect(fs.calls.read).toBeLessThanOrEqual(windows);
    // One read per 1 KiB block would be hundreds.
    expect(inputBytes / 1024).toBeGreaterThan(20 * windows);
    expect(contents(tree)).toEqual(expected);
    await tree.close();
  });

  it("on a worker thread over StdFs without memory maps: the same contents", async () => {
    const { tree, expected } = await overlappingRuns(new StdFs(), `${dirs.make("read-ahead-worker")}/db`, { workers: 1, mapTables: false });
    await tree.majorCompact(64 << 20, 0);
    expect(contents(tree)).toEqual(expected);
    expect(tree.tableCount()).toBeGreaterThan(0);
    await tree.close();
  });

  it.skipIf(IOURING_UNAVAILABLE !== undefined)("on IoUringFs without memory maps: the same contents", async () => {
    const { tree, expected } = await overlappingRuns(ioUringFs(), `${dirs.make("read-ahead-iouring")}/db`, { workers: false, mapTables: false });
    await tree.majorCompact(64 << 20, 0);
    expect(contents(tree)).toEqual(expected);
    await tree.close();
  });
});
