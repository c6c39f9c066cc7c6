/**
 * classic-level (LevelDB). The fast path is what its docs recommend for throughput: `batch()` of
 * `--batch` puts, `getSync()` for point reads (no thread-pool round trip), `nextv()` with a raised
 * `highWaterMarkBytes` for scans, and one long-lived iterator re-`seek()`ed for seeks. The plain path is
 * what most code does: `await put()`, `await get()`, `for await` over a fresh iterator.
 *
 * An iterator reads the snapshot taken when it was created, so the long-lived seek iterator is replaced
 * (inside the timed seek) by the first seek after a write: seeks see what was written, as Talus' do.
 *
 * Range deletes are `await db.clear({ gte, lt })` on both paths, abstract-level's range delete. LevelDB
 * has no range tombstone: classic-level's native `clear()` iterates the range on its thread pool and
 * writes a point delete per key it finds, in batches.
 *
 * LevelDB has no merge operator, so mergerandom **emulates** one with a read-modify-write per merge: the
 * fast path reads each counter with `getSync()` and writes the new totals in `batch()`es of `--batch`
 * puts (a counter already changed by the pending batch is taken from the batch, as an application would,
 * since `getSync()` cannot see it yet); the plain path is `await get()` then `await put()` per merge.
 *
 * fillsync's durable write is `await put(key, value, { sync: true })`, the same on both paths.
 *
 * LevelDB has no bulk ingestion (no external table files; classic-level exposes none), so ingest loads the
 * sorted keys the way fillseq writes them: `batch()`es of `--batch` puts (plain: `await put()` each).
 *
 * `talus-level` runs this same code over `TalusLevel` (@talus/level): the abstract-level calls are the
 * same, so the difference is what the adapter and the Talus tree under it cost.
 *
 * @module
 */
import { ClassicLevel, type Iterator } from "classic-level";
import { TalusLevel } from "@talus/level";
import { counterInto, COUNTER_BYTES, readCounter, type KeyStream, type MergeStream, type RangeStream, type ValuePool } from "../data.ts";
import type { LatencyRecorder } from "../stats.ts";
import { SAMPLE_MASK, type BenchDb, type EngineConfig, type PrefixStream, type Scanner, type Tally } from "./types.ts";

type Db = ClassicLevel<Uint8Array, Uint8Array>;

/** A write LevelDB fsyncs (its log) before it reports it done. */
const SYNC = { sync: true } as const;

export async function openClassicLevel(config: EngineConfig, fast: boolean, library: "classic-level" | "talus-level" = "classic-level"): Promise<BenchDb> {
  const options = { keyEncoding: "view", valueEncoding: "view", cacheSize: Math.round(config.cacheMb * 1024 * 1024) } as const;
  // Both are abstract-level 3 databases: the code below calls only abstract-level's API on either.
  // TalusLevel is a Talus engine, so it opens on `config.fs` when one is given, as the others do: the tests
  // open every Talus engine at one path on a MemFs of its own, and on the disk that path would be one
  // database shared by all of them (#15: a counter read back as another test's 16-byte value).
  const db: Db =
    library === "classic-level"
      ? new ClassicLevel<Uint8Array, Uint8Array>(config.dir, options)
      : (new TalusLevel<Uint8Array, Uint8Array>(config.dir, config.fs === undefined ? options : { ...options, fs: config.fs }) as unknown as Db);
  await db.open();
  return new ClassicLevelDb(db, config, fast);
}

class ClassicLevelDb implements BenchDb {
  readonly #db: Db;
  readonly #fast: boolean;
  readonly #keySize: number;
  readonly #batch: number;
  readonly #key: Uint8Array;
  #seekIterator: Iterator<Db, Uint8Array, Uint8Array> | undefined;
  /** Writes completed so far, and how many the seek iterator's snapshot has seen. */
  #writes = 0;
  #seekIteratorWrites = 0;
  /** Closes of replaced seek iterators, awaited by `close()`. */
  #retired: Promise<void>[] = [];

  constructor(db: Db, config: EngineConfig, fast: boolean) {
    this.#db = db;
    this.#fast = fast;
    this.#keySize = config.keySize;
    this.#batch = config.batch;
    this.#key = new Uint8Array(config.keySize);
  }

  write(keys: KeyStream, values: ValuePool, from: number, to: number, rec: LatencyRecorder): Promise<void> {
    return this.#fast ? this.#writeBatched(keys, values, from, to, rec) : this.#writePlain(keys, values, from, to, rec);
  }

  /** No bulk path in LevelDB: the sorted keys go through fillseq's writes. */
  ingest(keys: KeyStream, values: ValuePool, from: number, to: number, rec: LatencyRecorder): Promise<void> {
    return this.write(keys, values, from, to, rec);
  }

  finishIngest(): Promise<number | undefined> {
    return Promise.resolve(undefined);
  }

  async #writeBatched(keys: KeyStream, values: ValuePool, from: number, to: number, rec: LatencyRecorder): Promise<void> {
    for (let start = from; start < to; start += this.#batch) {
      const end = Math.min(to, start + this.#batch);
      const ops: Array<{ type: "put"; key: Uint8Array; value: Uint8Array }> = [];
      // The batch keeps references until it is written, so every key gets its own buffer.
      for (let i = start; i < end; i++) {
        const key = new Uint8Array(this.#keySize);
        keys.keyInto(i, key);
        ops.push({ type: "put", key, value: values.value(i) });
      }
      const t0 = performance.now();
      await this.#db.batch(ops);
      this.#writes++;
      rec.addBatch((performance.now() - t0) * 1000, end - start);
    }
  }

  async #writePlain(keys: KeyStream, values: ValuePool, from: number, to: number, rec: LatencyRecorder): Promise<void> {
    for (let i = from; i < to; i++) {
      const key = new Uint8Array(this.#keySize);
      keys.keyInto(i, key);
      const t0 = performance.now();
      await this.#db.put(key, values.value(i));
      this.#writes++;
      rec.add((performance.now() - t0) * 1000);
    }
  }

  /**
   * `await put(key, value, { sync: true })`: LevelDB appends the write to its log and fsyncs it before the
   * put resolves. Puts run on libuv's thread pool (4 threads unless UV_THREADPOOL_SIZE says otherwise), so
   * at most that many writers are inside LevelDB at once; LevelDB's own group commit joins the writes
   * queued behind its writer lock into one log write and one fsync.
   */
  async writeDurable(keys: KeyStream, values: ValuePool, index: number, rec: LatencyRecorder): Promise<void> {
    const key = new Uint8Array(this.#keySize);
    keys.keyInto(index, key);
    const t0 = performance.now();
    await this.#db.put(key, values.value(index), SYNC);
    this.#writes++;
    rec.add((performance.now() - t0) * 1000);
  }

  async deleteRange(ranges: RangeStream, from: number, to: number, rec: LatencyRecorder): Promise<void> {
    for (let i = from; i < to; i++) {
      // clear() encodes its bounds before it returns, but fresh buffers cost nothing next to it.
      const gte = new Uint8Array(this.#keySize);
      const lt = new Uint8Array(this.#keySize);
      ranges.startInto(i, gte);
      ranges.endInto(i, lt);
      const t0 = performance.now();
      await this.#db.clear({ gte, lt });
      this.#writes++;
      rec.add((performance.now() - t0) * 1000);
    }
  }

  merge(merges: MergeStream, from: number, to: number, rec: LatencyRecorder): Promise<void> {
    return this.#fast ? this.#mergeBatched(merges, from, to, rec) : this.#mergePlain(merges, from, to, rec);
  }

  async #mergeBatched(merges: MergeStream, from: number, to: number, rec: LatencyRecorder): Promise<void> {
    const db = this.#db;
    /** The totals the pending batch writes, by key index. */
    const pending = new Map<number, number>();
    for (let start = from; start < to; start += this.#batch) {
      const end = Math.min(to, start + this.#batch);
      const ops: Array<{ type: "put"; key: Uint8Array; value: Uint8Array }> = [];
      pending.clear();
      const t0 = performance.now();
      for (let i = start; i < end; i++) {
        const key = new Uint8Array(this.#keySize);
        merges.keyInto(i, key);
        const index = merges.keyIndex(i);
        let base = pending.get(index);
        if (base === undefined) {
          const current = db.getSync(key);
          base = current === undefined ? 0 : readCounter(current);
        }
        const total = base + merges.delta(i);
        pending.set(index, total);
        const value = new Uint8Array(COUNTER_BYTES);
        counterInto(total, value);
        ops.push({ type: "put", key, value });
      }
      await db.batch(ops);
      this.#writes++;
      rec.addBatch((performance.now() - t0) * 1000, end - start);
    }
  }

  async #mergePlain(merges: MergeStream, from: number, to: number, rec: LatencyRecorder): Promise<void> {
    const db = this.#db;
    for (let i = from; i < to; i++) {
      const key = new Uint8Array(this.#keySize);
      merges.keyInto(i, key);
      const t0 = performance.now();
      const current = await db.get(key);
      const value = new Uint8Array(COUNTER_BYTES);
      counterInto((current === undefined ? 0 : readCounter(current)) + merges.delta(i), value);
      await db.put(key, value);
      this.#writes++;
      rec.add((performance.now() - t0) * 1000);
    }
  }

  read(key: Uint8Array): Uint8Array | undefined {
    return this.#db.getSync(key);
  }

  /** LevelDB has the data once `batch()`/`put()` resolved (in its log, like its default `sync: false`). */
  async settle(): Promise<void> {}

  get(keys: KeyStream, from: number, to: number, rec: LatencyRecorder, tally: Tally): void | Promise<void> {
    if (!this.#fast) return this.#getPlain(keys, from, to, rec, tally);
    const key = this.#key;
    for (let i = from; i < to; i++) {
      keys.keyInto(i, key);
      let value: Uint8Array | undefined;
      if ((i & SAMPLE_MASK) === 0) {
        const t0 = performance.now();
        value = this.#db.getSync(key);
        rec.add((performance.now() - t0) * 1000);
      } else {
        value = this.#db.getSync(key);
      }
      if (value !== undefined) hit(tally, key, value);
    }
  }

  async #getPlain(keys: KeyStream, from: number, to: number, rec: LatencyRecorder, tally: Tally): Promise<void> {
    const key = this.#key;
    for (let i = from; i < to; i++) {
      keys.keyInto(i, key);
      const t0 = performance.now();
      const value = await this.#db.get(key);
      rec.add((performance.now() - t0) * 1000);
      if (value !== undefined) hit(tally, key, value);
    }
  }

  scanner(): Scanner {
    const fast = this.#fast;
    const it = this.#db.iterator(fast ? { highWaterMarkBytes: this.#batch * (this.#keySize + 256) } : {});
    return {
      async next(max: number, tally: Tally): Promise<boolean> {
        if (fast) {
          const entries = await it.nextv(max);
          for (const [k, v] of entries) {
            tally.items++;
            tally.bytes += k.length + v.length;
          }
          return entries.length > 0;
        }
        for (let n = 0; n < max; n++) {
          const entry = await it.next();
          if (entry === undefined) return false;
          tally.items++;
          tally.bytes += entry[0].length + entry[1].length;
        }
        return true;
      },
      close(): Promise<void> {
        return it.close();
      },
    };
  }

  async seek(keys: KeyStream, from: number, to: number, nexts: number, rec: LatencyRecorder, tally: Tally): Promise<void> {
    const key = this.#key;
    for (let i = from; i < to; i++) {
      keys.keyInto(i, key);
      const t0 = performance.now();
      if (this.#fast) {
        const it = this.#freshSeekIterator();
        it.seek(key);
        for (let n = 0; n <= nexts; n++) {
          const entry = await it.next();
          if (entry === undefined) break;
          count(tally, entry[0], entry[1]);
        }
      } else {
        for await (const [k, v] of this.#db.iterator({ gte: key, limit: 1 + nexts })) count(tally, k, v);
      }
      rec.add((performance.now() - t0) * 1000);
    }
  }

  async prefix(prefixes: PrefixStream, from: number, to: number, limit: number, rec: LatencyRecorder, tally: Tally): Promise<void> {
    for (let i = from; i < to; i++) {
      const p = prefixes.prefix(i);
      const end = prefixes.end(i);
      const range = end === undefined ? { gte: p, limit } : { gte: p, lt: end, limit };
      const t0 = performance.now();
      if (this.#fast) {
        for (const [k, v] of await this.#db.iterator(range).all()) count(tally, k, v);
      } else {
        for await (const [k, v] of this.#db.iterator(range)) count(tally, k, v);
      }
      rec.add((performance.now() - t0) * 1000);
    }
  }

  /** The long-lived seek iterator, replaced when writes happened since it was created (it reads its snapshot). */
  #freshSeekIterator(): Iterator<Db, Uint8Array, Uint8Array> {
    const current = this.#seekIterator;
    if (current !== undefined && this.#seekIteratorWrites === this.#writes) return current;
    if (current !== undefined) this.#retired.push(current.close());
    this.#seekIteratorWrites = this.#writes;
    return (this.#seekIterator = this.#db.iterator());
  }

  stats(): Record<string, number | number[]> {
    return {};
  }

  async close(): Promise<void> {
    await Promise.all(this.#retired);
    await this.#seekIterator?.close();
    await this.#db.close();
  }
}

function count(tally: Tally, key: Uint8Array, value: Uint8Array): void {
  tally.items++;
  tally.bytes += key.length + value.length;
}

function hit(tally: Tally, key: Uint8Array, value: Uint8Array): void {
  tally.hits++;
  count(tally, key, value);
}
