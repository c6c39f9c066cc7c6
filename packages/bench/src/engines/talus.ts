/**
 * Talus through its synchronous API, driven the way an application drives it: writes go to the
 * memtable; when the memtable passes `--memtable-mb` the bench starts a flush without waiting for it
 * (waiting only when the previous flush is still running, a write stall); the `talus+compaction`
 * variant also runs Leveled compaction steps after each flush, stalls when L0 runs pile up, and
 * compacts until nothing is left to do when the writes end.
 *
 * mergerandom opens the tree with `counterMerge` and writes `tree.merge()` operands, with the same flush
 * and compaction upkeep as writes (flush and compaction collapse operands below the watermark). The
 * other workloads open it without a merge operator.
 *
 * ingest loads through `tree.ingestion()`: `write(key, value)` per op in key order (straight into table
 * files, no memtable), then `finish()` installs the tables as one L0 run at one new seqno. `talus:prefix`
 * (and Talus' prefix prefill) opens the tree with prefixscan's 2-byte prefix extractor. `talus:blob` opens
 * a BlobTree (default kvSeparation: values of 1 KiB and more in blob files) and runs `talus+compaction`'s
 * compaction.
 *
 * `talus+journal` opens the tree as `talus+compaction` does plus `journal: true`: every write is also
 * appended to the write-ahead journal (its cost on the fills), and fillsync awaits `tree.persist()` after
 * each insert, the journal's group commit (one fsync shared by every writer waiting at that moment).
 *
 * readseq reads the data set twice: with the copying iterator (`tree.iter`), then with the zero-copy
 * `tree.scan` (`scanViews`), whose visitor gets views of the engine's memory.
 *
 * The filesystem is `StdFs`, or `IoUringFs` with `--fs iouring` and always for `talus@iouring` (an error
 * naming the reason where io_uring is unavailable); the instance is closed with the tree. multiget calls
 * `tree.multiGet` (the child opens the tree without a block cache and with `mapTables: false` for it).
 *
 * @module
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { IoUringFs, ioUringUnavailableReason, isIoUringAvailable, StdFs, type Fs } from "@talus/fs";
import { counterMerge, Leveled, SequenceNumberCounter, Tree, type EntryIterator, type Ingestion, type TreeOptions } from "@talus/lsm-core";
import { BlobTree } from "@talus/vlog";
import { CountingFs } from "../counting-fs.ts";
import type { KeyStream, MergeStream, RangeStream, ValuePool } from "../data.ts";
import type { LatencyRecorder } from "../stats.ts";
import { PREFIX_EXTRACTOR } from "../workloads/prefix-blocks.ts";
import { SAMPLE_MASK, type BenchDb, type ColdCalls, type EngineConfig, type PrefixStream, type Scanner, type Tally } from "./types.ts";

/** L0 runs at which writers wait for compaction to catch up (the variant with compaction only). */
const L0_STALL_RUNS = 20;

/** An IoUringFs for `--fs iouring` and `talus@iouring`, or an error saying why this machine has none. */
export function openIoUringFs(): IoUringFs {
  if (!isIoUringAvailable()) {
    throw new Error(`IoUringFs (--fs iouring, talus@iouring) is unavailable here: ${ioUringUnavailableReason() ?? "unknown reason"}; run with --fs std and without talus@iouring`);
  }
  return new IoUringFs();
}

export async function openTalus(config: EngineConfig, compaction: boolean, blob = false): Promise<BenchDb> {
  const ring = config.fs === undefined && config.talusFs === "iouring" ? openIoUringFs() : undefined;
  const base: Fs = config.fs ?? ring ?? new StdFs();
  const fs: Fs = config.countIo ? new CountingFs(base) : base;
  const seqno = new SequenceNumberCounter();
  const open = blob ? (o: TreeOptions) => BlobTree.open(o) : (o: TreeOptions) => Tree.open(o);
  const tree = await open({
    path: config.dir,
    fs,
    seqno,
    ...(config.talusCompression === "default" ? {} : { compression: config.talusCompression }),
    cacheBytes: Math.round((config.talusCacheMb ?? config.cacheMb) * 1024 * 1024),
    ...(config.mergeOperator === true ? { mergeOperator: counterMerge } : {}),
    ...(config.prefixExtractor === true ? { prefixExtractor: PREFIX_EXTRACTOR } : {}),
    ...(config.journal === true ? { journal: true } : {}),
    ...(config.mapTables === false ? { mapTables: false } : {}),
  }).catch((error: unknown) => {
    ring?.close();
    throw error;
  });
  return new TalusDb(tree, seqno, fs, config, compaction, ring);
}

class TalusDb implements BenchDb {
  readonly #tree: Tree;
  readonly #seqno: SequenceNumberCounter;
  readonly #fs: Fs;
  readonly #memtableBytes: number;
  readonly #strategy: Leveled | undefined;
  readonly #key: Uint8Array;
  readonly #end: Uint8Array;
  #flushing: Promise<void> | undefined;
  #compacting: Promise<void> | undefined;
  #compactAgain = false;
  #closing = false;
  #flushes = 0;
  #stalls = 0;
  #ingestion: Ingestion | undefined;
  #ingestedTables = 0;
  readonly #journal: boolean;
  #persists = 0;
  /** The IoUringFs the engine made (closed after the tree), if any. */
  readonly #ring: IoUringFs | undefined;
  readonly #dir: string;
  /** The tree's files on disk, listed once by the first {@link #evictFiles} (read workloads change none). */
  #files: string[] | undefined;

  constructor(tree: Tree, seqno: SequenceNumberCounter, fs: Fs, config: EngineConfig, compaction: boolean, ring: IoUringFs | undefined) {
    this.#dir = config.dir;
    this.#ring = ring;
    this.#tree = tree;
    this.#seqno = seqno;
    this.#fs = fs;
    this.#memtableBytes = config.memtableBytes;
    this.#strategy = compaction ? new Leveled() : undefined;
    this.#journal = config.journal === true;
    this.#key = new Uint8Array(config.keySize);
    this.#end = new Uint8Array(config.keySize);
  }

  write(keys: KeyStream, values: ValuePool, from: number, to: number, rec: LatencyRecorder): void | Promise<void> {
    const tree = this.#tree;
    const seqno = this.#seqno;
    const key = this.#key;
    let size = 0;
    for (let i = from; i < to; i++) {
      keys.keyInto(i, key);
      if ((i & SAMPLE_MASK) === 0) {
        const t0 = performance.now();
        size = tree.insert(key, values.value(i), seqno.next());
        rec.add((performance.now() - t0) * 1000);
      } else {
        size = tree.insert(key, values.value(i), seqno.next());
      }
    }
    return this.#afterWrites(size);
  }

  /**
   * One insert, then `persist()`: the journal's group commit, so the write is durable when it resolves.
   * The memtable upkeep of `write` follows (a flush started, or a stall awaited), inside the op's time.
   */
  async writeDurable(keys: KeyStream, values: ValuePool, index: number, rec: LatencyRecorder): Promise<void> {
    if (!this.#journal) throw new Error("fillsync needs Talus' journal (talus+journal): without one, persist() flushes the memtable into a table per write");
    const tree = this.#tree;
    const key = this.#key;
    keys.keyInto(index, key);
    const t0 = performance.now();
    // insert copies the key and value (into the memtable and the journal's buffer) before it returns.
    const size = tree.insert(key, values.value(index), this.#seqno.next());
    this.#persists++;
    await tree.persist();
    const stall = this.#afterWrites(size);
    if (stall !== undefined) await stall;
    rec.add((performance.now() - t0) * 1000);
  }

  /** One `ingestion.write` per op into the ingestion the first call starts. */
  ingest(keys: KeyStream, values: ValuePool, from: number, to: number, rec: LatencyRecorder): void {
    const ingestion = (this.#ingestion ??= this.#tree.ingestion());
    const key = this.#key;
    for (let i = from; i < to; i++) {
      keys.keyInto(i, key);
      if ((i & SAMPLE_MASK) === 0) {
        const t0 = performance.now();
        ingestion.write(key, values.value(i));
        rec.add((performance.now() - t0) * 1000);
      } else {
        ingestion.write(key, values.value(i));
      }
    }
  }

  async majorCompact(): Promise<void> {
    await this.settle();
    await this.#tree.majorCompact(64 * 1024 * 1024, this.#seqno.get());
  }

  /** `finish()`: flushes the memtables, then installs the ingested tables at one new seqno. */
  async finishIngest(): Promise<number | undefined> {
    const ingestion = (this.#ingestion ??= this.#tree.ingestion());
    this.#ingestion = undefined;
    const { tables, entries } = await ingestion.finish();
    this.#ingestedTables += tables;
    return entries;
  }

  /** One merge operand per op (`tree.merge`, a sequence number of its own); the upkeep of writes. */
  merge(merges: MergeStream, from: number, to: number, rec: LatencyRecorder): void | Promise<void> {
    const tree = this.#tree;
    const seqno = this.#seqno;
    const key = this.#key;
    let size = 0;
    for (let i = from; i < to; i++) {
      merges.keyInto(i, key);
      if ((i & SAMPLE_MASK) === 0) {
        const t0 = performance.now();
        size = tree.merge(key, merges.operand(i), seqno.next());
        rec.add((performance.now() - t0) * 1000);
      } else {
        size = tree.merge(key, merges.operand(i), seqno.next());
      }
    }
    return this.#afterWrites(size);
  }

  read(key: Uint8Array): Uint8Array | undefined {
    return this.#tree.get(key, this.#seqno.get());
  }

  /** One range tombstone per range (`removeRange`, a sequence number of its own), with the same flush and compaction upkeep as writes. */
  deleteRange(ranges: RangeStream, from: number, to: number, rec: LatencyRecorder): void | Promise<void> {
    const tree = this.#tree;
    const seqno = this.#seqno;
    const start = this.#key;
    const end = this.#end;
    let size = 0;
    for (let i = from; i < to; i++) {
      ranges.startInto(i, start);
      ranges.endInto(i, end);
      const t0 = performance.now();
      size = tree.removeRange(start, end, seqno.next());
      rec.add((performance.now() - t0) * 1000);
    }
    return this.#afterWrites(size);
  }

  #afterWrites(memtableSize: number): Promise<void> | undefined {
    const strategy = this.#strategy;
    if (strategy !== undefined && this.#compacting !== undefined && this.#tree.l0RunCount() >= L0_STALL_RUNS) {
      this.#stalls++;
      return this.#compacting;
    }
    if (memtableSize < this.#memtableBytes) return undefined;
    if (this.#flushing !== undefined) {
      this.#stalls++;
      return this.#flushing.then(() => this.#startFlush());
    }
    this.#startFlush();
    return undefined;
  }

  #startFlush(): void {
    if (this.#flushing !== undefined || this.#closing) return;
    this.#flushes++;
    this.#flushing = this.#tree.flushActiveMemtable(this.#watermark()).then(() => {
      this.#flushing = undefined;
      this.#kickCompaction();
    });
  }

  #kickCompaction(): void {
    const strategy = this.#strategy;
    if (strategy === undefined || this.#closing) return;
    if (this.#compacting !== undefined) {
      this.#compactAgain = true;
      return;
    }
    this.#compacting = (async () => {
      try {
        do {
          this.#compactAgain = false;
          while (!this.#closing && (await this.#tree.compact(strategy, this.#watermark())).action !== "nothing");
        } while (this.#compactAgain && !this.#closing);
      } finally {
        this.#compacting = undefined;
      }
    })();
  }

  /** No snapshot outlives a read in the bench, so every version older than the newest is garbage. */
  #watermark(): number {
    return this.#seqno.get();
  }

  async settle(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
    this.#flushes++;
    await this.#tree.flushActiveMemtable(this.#watermark());
    const strategy = this.#strategy;
    if (strategy === undefined) return;
    while (this.#compacting !== undefined) await this.#compacting;
    while ((await this.#tree.compact(strategy, this.#watermark())).action !== "nothing");
  }

  get(keys: KeyStream, from: number, to: number, rec: LatencyRecorder, tally: Tally): void {
    const tree = this.#tree;
    const key = this.#key;
    let hits = 0;
    let bytes = 0;
    for (let i = from; i < to; i++) {
      keys.keyInto(i, key);
      let value: Uint8Array | undefined;
      if ((i & SAMPLE_MASK) === 0) {
        const t0 = performance.now();
        value = tree.get(key, this.#seqno.get());
        rec.add((performance.now() - t0) * 1000);
      } else {
        value = tree.get(key, this.#seqno.get());
      }
      if (value !== undefined) {
        hits++;
        bytes += key.length + value.length;
      }
    }
    tally.hits += hits;
    tally.items += hits;
    tally.bytes += bytes;
  }

  /**
   * Drops every file of the tree's directory from the OS page cache (`StdFs.evictFromPageCache`), so the
   * next reads go to the device. Only for a tree on disk, and only where @talus/fs's addon is loaded.
   */
  #evictFiles(): void {
    if (this.#files === undefined) {
      if (!existsSync(this.#dir)) throw new Error(`multiget-cold needs a tree on disk (${this.#dir} is not a directory here)`);
      this.#files = readdirSync(this.#dir, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => join(entry.parentPath, entry.name));
    }
    for (const file of this.#files) {
      if (!StdFs.evictFromPageCache(file)) throw new Error("multiget-cold needs @talus/fs's native addon (StdFs.evictFromPageCache), which is not loaded here");
    }
  }

  /**
   * One `tree.multiGet` of `perOp` keys per op, each timed (an op is tens of microseconds or more). With
   * `cold`, each call is preceded by dropping the tree's files from the page cache ({@link #evictFiles}).
   */
  multiGet(keys: KeyStream, perOp: number, from: number, to: number, rec: LatencyRecorder, tally: Tally, cold?: ColdCalls): void {
    const tree = this.#tree;
    // Key buffers reused by every call of the slice: multiGet holds no reference to them once it returns.
    const batch: Uint8Array[] = Array.from({ length: perOp }, () => new Uint8Array(keys.keySize));
    let hits = 0;
    let bytes = 0;
    for (let i = from; i < to; i++) {
      for (let j = 0; j < perOp; j++) keys.keyInto(i * perOp + j, batch[j] as Uint8Array);
      if (cold !== undefined) this.#evictFiles();
      const t0 = performance.now();
      const values = tree.multiGet(batch, this.#seqno.get());
      const ms = performance.now() - t0;
      rec.add(ms * 1000);
      if (cold !== undefined) cold.timedMs += ms;
      for (let j = 0; j < perOp; j++) {
        const value = values[j];
        if (value === undefined) continue;
        hits++;
        bytes += keys.keySize + value.length;
      }
    }
    tally.hits += hits;
    tally.items += hits;
    tally.bytes += bytes;
  }

  scanner(): Scanner {
    const it: EntryIterator = this.#tree.iter(this.#seqno.get());
    return {
      next(max: number, tally: Tally): boolean {
        let bytes = 0;
        let n = 0;
        for (; n < max; n++) {
          const r = it.next();
          if (r.done === true) break;
          bytes += r.value[0].length + r.value[1].length;
        }
        tally.items += n;
        tally.bytes += bytes;
        return n === max;
      },
      close(): void {
        it.return();
      },
    };
  }

  /**
   * `tree.scan` in slices: each slice a scan of up to `max` entries after the last key of the one before
   * (a seek per slice, where the copying scanner keeps one iterator), reading one snapshot throughout.
   */
  scanViews(): Scanner {
    const tree = this.#tree;
    const seqno = this.#seqno.get();
    let after: Uint8Array | undefined;
    let limit = 0;
    let n = 0;
    let bytes = 0;
    // One visitor for the whole pass: a closure per slice would be the only allocation it makes.
    const visit = (key: Uint8Array, value: Uint8Array): void => {
      bytes += key.length + value.length;
      // The views die with the call: the next slice's bound must be a copy.
      if (++n === limit) after = key.slice();
    };
    return {
      next(max: number, tally: Tally): boolean {
        limit = max;
        n = 0;
        bytes = 0;
        tree.scan(after === undefined ? { limit: max } : { gt: after, limit: max }, seqno, visit);
        tally.items += n;
        tally.bytes += bytes;
        return n === max;
      },
      close(): void {},
    };
  }

  seek(keys: KeyStream, from: number, to: number, nexts: number, rec: LatencyRecorder, tally: Tally): void {
    const key = this.#key;
    for (let i = from; i < to; i++) {
      keys.keyInto(i, key);
      const t0 = performance.now();
      for (const [k, v] of this.#tree.range({ gte: key, limit: 1 + nexts }, this.#seqno.get())) {
        tally.items++;
        tally.bytes += k.length + v.length;
      }
      rec.add((performance.now() - t0) * 1000);
    }
  }

  prefix(prefixes: PrefixStream, from: number, to: number, limit: number, rec: LatencyRecorder, tally: Tally): void {
    for (let i = from; i < to; i++) {
      const t0 = performance.now();
      for (const [k, v] of this.#tree.prefix(prefixes.prefix(i), this.#seqno.get(), { limit })) {
        tally.items++;
        tally.bytes += k.length + v.length;
      }
      rec.add((performance.now() - t0) * 1000);
    }
  }

  stats(): Record<string, number | number[]> {
    const tree = this.#tree;
    const out: Record<string, number | number[]> = {
      tables: tree.tableCount(),
      tablesPerLevel: Array.from({ length: 7 }, (_, l) => tree.levelTableCount(l) ?? 0),
      l0Runs: tree.l0RunCount(),
      flushes: this.#flushes,
      writeStalls: this.#stalls,
      ...(this.#persists > 0 ? { persists: this.#persists } : {}),
      ...(this.#ingestedTables > 0 ? { ingestedTables: this.#ingestedTables } : {}),
    };
    if (this.#fs instanceof CountingFs) {
      const c = this.#fs.counts;
      out["fsBytesWritten"] = c.bytesWritten;
      out["fsBytesRead"] = c.bytesRead;
      out["fsReads"] = c.reads;
      out["fsFilesCreated"] = c.filesCreated;
      out["fsSyncs"] = c.syncs;
    }
    return out;
  }

  /** Lets a running flush or compaction step finish (readwhilewriting ends without settling), then closes. */
  async close(): Promise<void> {
    this.#closing = true;
    await this.#ingestion?.abort();
    while (this.#flushing !== undefined || this.#compacting !== undefined) await (this.#flushing ?? this.#compacting);
    try {
      await this.#tree.close();
    } finally {
      this.#ring?.close();
    }
  }
}
