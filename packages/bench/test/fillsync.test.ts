import { ForwardingFs, MemFs, type Fs, type FsFile, type FsOpenOptions } from "@talus/fs";
import { describe, expect, it } from "vitest";
import { ArgError, parseArgs } from "../src/args.ts";
import { ENGINES, isTalusTree, WORKLOADS, type EngineName } from "../src/catalog.ts";
import { ValuePool, type KeyStream } from "../src/data.ts";
import type { BenchDb } from "../src/engines/types.ts";
import { checkTargets, renderReport, summarize } from "../src/report.ts";
import type { RunResult } from "../src/results.ts";
import { plan } from "../src/runner.ts";
import type { LatencyRecorder } from "../src/stats.ts";
import type { WorkloadContext } from "../src/workloads/driver.ts";
import { fillSync, fillSyncKeys, FILLSYNC_WRITERS, VERIFY_SAMPLE } from "../src/workloads/fillsync.ts";
import { idleDb, openTestEngine, useTempDir } from "./helpers.ts";

const values = new ValuePool(32, 1, 64);

function context(db: BenchDb, num: number, over: Partial<WorkloadContext> = {}): WorkloadContext {
  return { db, values, num, reads: num, maxSeconds: 60, keySize: 16, valueSize: 32, seed: 1, batch: 1000, seekNexts: 0, progress: () => {}, ...over };
}

const hex = (key: Uint8Array): string => Buffer.from(key).toString("hex");

/**
 * An in-memory store whose durable write completes a turn of the event loop later, counting the writes
 * pending at once; `corrupt` stores a wrong value for that op, `failAt` rejects that op.
 */
function delayedDb(opts: { corrupt?: number; failAt?: number } = {}): BenchDb & { rows: Map<string, Uint8Array>; indexes: number[]; pending: number; maxPending: number } {
  const rows = new Map<string, Uint8Array>();
  const db = {
    ...idleDb(),
    rows,
    indexes: [] as number[],
    pending: 0,
    maxPending: 0,
    async writeDurable(keys: KeyStream, pool: ValuePool, index: number, rec: LatencyRecorder): Promise<void> {
      db.indexes.push(index);
      db.pending++;
      db.maxPending = Math.max(db.maxPending, db.pending);
      await new Promise((resolve) => setImmediate(resolve));
      db.pending--;
      if (index === opts.failAt) throw new Error(`disk full at op ${index}`);
      const key = new Uint8Array(keys.keySize);
      keys.keyInto(index, key);
      rows.set(hex(key), index === opts.corrupt ? new Uint8Array(pool.size) : pool.value(index));
      rec.add(1);
    },
    read: (key: Uint8Array) => rows.get(hex(key)),
  };
  return db;
}

/**
 * A filesystem that remembers how much of each file was synced, and makes a MemFs holding only that:
 * what a power cut would leave (directory operations are taken as durable; the tree syncs its
 * directories before it relies on them).
 */
class SyncedImageFs extends ForwardingFs {
  /** Path -> bytes made durable by the last sync of a handle on it. */
  readonly synced = new Map<string, number>();

  override open(path: string, options: FsOpenOptions): FsFile {
    const file = this.inner.open(path, options);
    if (options.truncate === true || options.createNew === true) this.synced.delete(path);
    return new SyncTrackingFile(file, () => this.#record(path, file.len()));
  }

  override rename(from: string, to: string): void {
    super.rename(from, to);
    const n = this.synced.get(from);
    this.synced.delete(from);
    if (n !== undefined) this.synced.set(to, n);
    else this.synced.delete(to);
  }

  override removeFile(path: string): void {
    super.removeFile(path);
    this.synced.delete(path);
  }

  override removeFileAsync(path: string): Promise<void> {
    this.synced.delete(path);
    return super.removeFileAsync(path);
  }

  #record(path: string, length: number): void {
    this.synced.set(path, Math.max(this.synced.get(path) ?? 0, length));
  }

  /** A fresh MemFs with every synced file cut to its synced length (`synced`: a copy taken earlier); files never synced are gone. */
  image(synced: ReadonlyMap<string, number> = this.synced): MemFs {
    const out = new MemFs();
    for (const [path, length] of synced) {
      if (!this.inner.exists(path)) continue;
      const bytes = new Uint8Array(length);
      const src = this.inner.open(path, { read: true });
      src.readAt(bytes, 0);
      src.close();
      out.createDirAll(path.slice(0, path.lastIndexOf("/")) || "/");
      const dst = out.open(path, { write: true, createNew: true });
      dst.write(bytes);
      dst.close();
    }
    return out;
  }
}

class SyncTrackingFile implements FsFile {
  readonly #inner: FsFile;
  readonly #synced: () => void;

  constructor(inner: FsFile, synced: () => void) {
    this.#inner = inner;
    this.#synced = synced;
  }

  readAt(buffer: Uint8Array, position: number): number {
    return this.#inner.readAt(buffer, position);
  }

  write(buffer: Uint8Array): void {
    this.#inner.write(buffer);
  }

  sync(): void {
    this.#inner.sync();
    this.#synced();
  }

  syncData(): void {
    this.#inner.syncData();
    this.#synced();
  }

  len(): number {
    return this.#inner.len();
  }

  setLen(length: number): void {
    this.#inner.setLen(length);
  }

  close(): void {
    this.#inner.close();
  }
}

describe("fillsync", () => {
  it("is a fill on an empty database, one with 1 writer and one with 64, on one engine per library", () => {
    expect(FILLSYNC_WRITERS).toEqual({ fillsync: 1, fillsync64: 64 });
    for (const w of ["fillsync", "fillsync64"] as const) {
      expect(WORKLOADS[w]).toMatchObject({ dataset: "none", writes: true, fill: true, engines: ["talus+journal", "classic-level", "talus-level", "lmdb"] });
    }
  });

  it.each([1, 64])("shares the --num ops among %i writers, each op written once, at most that many pending at once", async (writers) => {
    const db = delayedDb();
    const num = 500;
    const m = await fillSync(context(db, num), writers);
    expect(m).toMatchObject({ ops: num, plannedOps: num, bytes: num * 48, userBytesWritten: num * 48, fillSync: { writers, verified: VERIFY_SAMPLE < num ? VERIFY_SAMPLE : num } });
    expect([...db.indexes].sort((a, b) => a - b)).toEqual(Array.from({ length: num }, (_, i) => i));
    expect(db.maxPending).toBe(writers);
    expect(db.rows.size).toBe(num);
    expect(m.eventLoop?.maxMs).toBeGreaterThanOrEqual(0);
  });

  it("writes fillrandom's keys", () => {
    const keys = fillSyncKeys({ keySize: 16, seed: 1, num: 10 });
    const a = new Uint8Array(16);
    keys.keyInto(3, a);
    expect(a.some((b) => b !== 0)).toBe(true);
  });

  it("stops at --max-seconds, and counts only the writes that finished", async () => {
    const db = delayedDb();
    const m = await fillSync(context(db, 1000, { maxSeconds: 0 }), 64);
    expect(m).toMatchObject({ ops: 0, plannedOps: 1000 });
    expect(db.indexes).toEqual([]);
  });

  it("fails loudly when a key reads back another value", async () => {
    await expect(fillSync(context(delayedDb({ corrupt: 77 }), 300), 64)).rejects.toThrow(/fillsync: the key of op #77 reads a value of 32 bytes that is not the one written/);
  });

  it("fails with a writer's error, and the other writers stop", async () => {
    const db = delayedDb({ failAt: 100 });
    await expect(fillSync(context(db, 10_000), 64)).rejects.toThrow("disk full at op 100");
    // The writers stop once one failed: far fewer ops than --num were started.
    expect(db.indexes.length).toBeLessThan(400);
  });

  it("refuses no writers", async () => {
    await expect(fillSync(context(delayedDb(), 10), 0)).rejects.toThrow(RangeError);
  });
});

describe("fillsync on every engine that runs it", () => {
  const dir = useTempDir();
  const engines = WORKLOADS.fillsync.engines ?? [];

  it.each(engines.flatMap((e) => [1, 64].map((w) => [e, w] as const)))("%s with %i writers: every write reads back after a reopen", async (engine: EngineName, writers: number) => {
    // Every Talus engine on a MemFs; only the tree engines report the persists and syncs (not the adapter, talus-level).
    const talus = isTalusTree(engine);
    const num = 400;
    const fs: Fs | undefined = ENGINES[engine].talus ? new MemFs() : undefined;
    const db = await openTestEngine(engine, dir, { countIo: talus, ...(fs === undefined ? {} : { fs }) });
    let m;
    try {
      m = await fillSync(context(db, num), writers);
      expect(m).toMatchObject({ ops: num, plannedOps: num, fillSync: { writers, verified: num } });
      expect(m.latencyUs.p99).toBeGreaterThanOrEqual(m.latencyUs.p50);
      if (talus) {
        const stats = db.stats();
        expect(stats["persists"]).toBe(num);
        const syncs = stats["fsSyncs"] as number;
        // One writer waits for a sync of its own per write; 64 share them (group commit).
        if (writers === 1) expect(syncs).toBeGreaterThanOrEqual(num);
        else expect(syncs).toBeLessThan(num / 8);
      }
    } finally {
      await db.close();
    }
    const again = await openTestEngine(engine, dir, fs === undefined ? {} : { fs });
    try {
      const keys = fillSyncKeys({ keySize: 16, seed: 1, num });
      const key = new Uint8Array(16);
      for (let i = 0; i < num; i++) {
        keys.keyInto(i, key);
        const r = again.read(key);
        const got = r instanceof Promise ? await r : r;
        expect(got === undefined ? undefined : Uint8Array.from(got), `op ${i}`).toEqual(values.value(i));
      }
    } finally {
      await again.close();
    }
  });

  it.each([1, 64])("talus+journal with %i writers: a write is durable when its op resolves (a power cut then loses none)", async (writers) => {
    const fs = new SyncedImageFs(new MemFs());
    // A large memtable: nothing is flushed, the writes live in the memtable and the journal alone.
    const db = await openTestEngine("talus+journal", dir, { fs, memtableBytes: 64 << 20 });
    const num = 300;
    // At some resolutions, what was synced then and which ops had resolved: a power cut at that moment.
    const cuts: { synced: Map<string, number>; ops: number[] }[] = [];
    const resolved: number[] = [];
    const durable = db.writeDurable.bind(db);
    db.writeDurable = async (keys, pool, index, rec) => {
      await durable(keys, pool, index, rec);
      resolved.push(index);
      if (resolved.length % 60 === 1 || resolved.length === num) cuts.push({ synced: new Map(fs.synced), ops: [...resolved] });
    };
    let images: { image: MemFs; ops: number[] }[];
    try {
      const m = await fillSync(context(db, num), writers);
      expect(m.ops).toBe(num);
      expect(db.stats()["flushes"]).toBe(0);
      // Before close (which flushes and deletes the journal): the journal is append-only, so its bytes up
      // to a cut's synced length are what it held then.
      images = cuts.map((c) => ({ image: fs.image(c.synced), ops: c.ops }));
    } finally {
      await db.close();
    }
    expect(images.length).toBe(6);
    const keys = fillSyncKeys({ keySize: 16, seed: 1, num });
    const key = new Uint8Array(16);
    for (const { image, ops } of images) {
      const after = await openTestEngine("talus+journal", dir, { fs: image });
      try {
        const lost = ops.filter((i) => {
          keys.keyInto(i, key);
          const got = after.read(key);
          return !(got instanceof Uint8Array && Buffer.from(got).equals(Buffer.from(values.value(i))));
        });
        expect(lost, `a cut after ${ops.length} ops`).toEqual([]);
      } finally {
        await after.close();
      }
    }
  });

  it("talus+compaction refuses durable writes without a journal", async () => {
    const db = await openTestEngine("talus+compaction", dir);
    try {
      await expect(fillSync(context(db, 10), 1)).rejects.toThrow(/fillsync needs Talus' journal/);
    } finally {
      await db.close();
    }
  });
});

describe("fillsync and talus+journal in the plan, the arguments and the report", () => {
  it("runs fillsync on talus+journal, classic-level and lmdb only, and talus+journal on the write workloads only", () => {
    const jobs = plan({
      workloads: ["fillrandom", "fillsync", "fillsync64", "readrandom"],
      engines: ["talus", "talus+compaction", "talus+journal", "classic-level", "classic-level:plain", "lmdb", "lmdb:plain"],
      reps: 1,
    });
    const of = (w: string): string[] => jobs.filter((j) => j.workload === w).map((j) => j.engine);
    expect(of("fillsync")).toEqual(["talus+journal", "classic-level", "lmdb"]);
    expect(of("fillsync64")).toEqual(["talus+journal", "classic-level", "lmdb"]);
    expect(of("fillrandom")).toEqual(["talus", "talus+compaction", "talus+journal", "classic-level", "classic-level:plain", "lmdb", "lmdb:plain"]);
    expect(of("readrandom")).not.toContain("talus+journal");
    // It reads (and copies) talus+compaction's prefill.
    expect(ENGINES["talus+journal"].store).toBe("talus+compaction");
  });

  it("says why nothing would run", () => {
    expect(() => parseArgs(["--workloads", "fillsync", "--engines", "talus"])).toThrow(ArgError);
    expect(() => parseArgs(["--workloads", "fillsync", "--engines", "talus"])).toThrow("no run: fillsync runs only on talus+journal, classic-level, talus-level, lmdb");
    expect(() => parseArgs(["--workloads", "readseq", "--engines", "talus+journal"])).toThrow(/no run: talus\+journal run only fillseq, fillrandom/);
    const run = parseArgs(["--workloads", "fillsync,fillsync64", "--engines", "talus+journal,lmdb"]);
    expect(run.kind === "run" && run.options.workloads).toEqual(["fillsync", "fillsync64"]);
  });

  const run = (workload: "fillrandom" | "fillsync" | "fillsync64", engine: EngineName, opsPerSec: number, capped = false): RunResult => ({
    workload, engine, rep: 1, ops: capped ? 500 : 1000, plannedOps: 1000, seconds: 1000 / opsPerSec, opsPerSec, mbPerSec: 1, p50Us: 100, p99Us: 200, maxUs: 300,
    diskBytes: 1, peakRssBytes: 1, baseRssBytes: 1, openMs: 1, closeMs: 1, engineStats: {}, eventLoop: { p50Ms: 0, p99Ms: 1, maxMs: 2 },
    ...(workload === "fillrandom" ? {} : { fillSync: { writers: FILLSYNC_WRITERS[workload], verified: 1000 } }),
  });

  it("holds talus+journal to 10x classic-level's synced puts at 64 writers, and to 0.85x talus+compaction on fillrandom", () => {
    const summaries = summarize([
      run("fillsync", "talus+journal", 2_000, true),
      run("fillsync", "classic-level", 1_800, true),
      run("fillsync", "lmdb", 1_500, true),
      run("fillsync64", "talus+journal", 40_000),
      run("fillsync64", "classic-level", 3_000),
      run("fillsync64", "lmdb", 15_000),
      run("fillrandom", "talus+compaction", 100_000),
      run("fillrandom", "talus+journal", 80_000),
      run("fillrandom", "classic-level", 200_000),
    ]);
    const targets = checkTargets(summaries).filter((t) => t.target.startsWith("fillsync64") || t.target.includes("journal cost"));
    expect(targets).toEqual([
      { target: "fillsync64: 64 writers awaiting durability vs classic-level sync: true", workload: "fillsync64", engine: "talus+journal", peer: "classic-level", measured: 40_000 / 3_000, goal: ">= 10x", met: true },
      { target: "fillrandom journal cost: talus+journal vs talus+compaction", workload: "fillrandom", engine: "talus+journal", peer: "talus+compaction", measured: 0.8, goal: ">= 0.85x", met: false },
    ]);
    const text = renderReport(
      {
        tool: "@talus/bench", formatVersion: 1, date: "", machine: { cpu: "", cores: 1, memoryBytes: 1, platform: "", node: "" }, options: {}, totalSeconds: 1,
        skipped: {}, prefills: [], runs: [], failures: [], summaries, ratios: [], targets: checkTargets(summaries),
      },
      false,
    );
    expect(text.indexOf("== fillrandom")).toBeLessThan(text.indexOf("== fillsync:"));
    expect(text.indexOf("== fillsync:")).toBeLessThan(text.indexOf("== fillsync64:"));
    expect(text).toContain("== fillsync: 1 writer");
    expect(text).toContain("== fillsync64: 64 concurrent writers");
    expect(text).toContain("talus+journal *");
    expect(text).toContain("lmdb: await db.put(key, value), then await db.flushed");
    expect(text).toContain("{ sync: true }");
    expect(text).toMatch(/fillsync64: 64 writers awaiting durability vs classic-level sync: true\s+talus\+journal\s+classic-level\s+13\.3x\s+>= 10x\s+yes/);
  });
});
