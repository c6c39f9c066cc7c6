/**
 * lmdb-js. The fast path writes `--batch` `putSync()`s inside one `transactionSync()` (one commit per
 * batch); the plain path is `await put()`, the write lmdb-js recommends for one-off writes (queued to
 * its write thread, committed in the background). Reads are `get()` on both paths: it is synchronous,
 * returns a copy the caller owns (as Talus' `get` does) and is the only single-key read lmdb-js has
 * besides `getBinaryFast()`, whose buffer is overwritten by the next read. Scans are `getRange()`.
 *
 * LMDB has no range delete, so deleterange emulates one: a `removeSync()` of each key of the range in one
 * transaction, `transactionSync()` on the fast path and an awaited `transaction()` on the plain one. The
 * emulation is told the range's keys (the bench knows them); a general range delete would first have to
 * find them with `getKeys()`, which this spares lmdb.
 *
 * LMDB has no merge operator either, so mergerandom **emulates** one with a read-modify-write inside a
 * transaction: `get()` and `putSync()` of `--batch` merges in one `transactionSync()` on the fast path
 * (reads inside it see its own writes), one awaited `transaction()` per merge on the plain path (lmdb-js'
 * documented way to update a value atomically).
 *
 * fillsync's durable write, the same on both paths, is `put()` followed by `db.flushed`: with lmdb-js'
 * default `overlappingSync` a put resolves when its transaction commits, and the commit is synced after
 * that (see `writeDurable`).
 *
 * LMDB has no table files to ingest, but it has a sorted bulk-load path: `MDB_APPEND`, which appends each
 * key at the end of the B-tree without a search. ingest's fast path writes every key with
 * `putSync(key, value, { append: true })` inside **one** `transactionSync()` run by `finishIngest()`, so
 * the load becomes visible at one commit, as a Talus ingestion does at `finish()` (`ingest()` only
 * notes the ops; an event-loop pause as long as the load is the price). The plain path writes as fillseq's
 * does (`await put()` each).
 *
 * @module
 */
import { join } from "node:path";
import { open, type RootDatabase } from "lmdb";
import { counterInto, COUNTER_BYTES, readCounter, type KeyStream, type MergeStream, type RangeStream, type ValuePool } from "../data.ts";
import type { LatencyRecorder } from "../stats.ts";
import { SAMPLE_MASK, type BenchDb, type EngineConfig, type PrefixStream, type Scanner, type Tally } from "./types.ts";

type Db = RootDatabase<Uint8Array, Uint8Array>;

export function openLmdb(config: EngineConfig, fast: boolean): Promise<BenchDb> {
  const db: Db = open<Uint8Array, Uint8Array>({ path: join(config.dir, "data.mdb"), keyEncoding: "binary", encoding: "binary" });
  return Promise.resolve(new LmdbDb(db, config, fast));
}

class LmdbDb implements BenchDb {
  readonly #db: Db;
  readonly #fast: boolean;
  readonly #batch: number;
  readonly #key: Uint8Array;
  readonly #keySize: number;
  /** The new counter value of a fast-path merge (putSync copies it into the transaction). */
  readonly #counter = new Uint8Array(COUNTER_BYTES);
  /** The ops ingested so far, written by `finishIngest()` in one transaction. */
  #ingest: { keys: KeyStream; values: ValuePool; to: number; rec: LatencyRecorder } | undefined;
  /** The keys of the range being deleted, made before the timed transaction. */
  #rangeKeys: Uint8Array[] = [];

  constructor(db: Db, config: EngineConfig, fast: boolean) {
    this.#db = db;
    this.#fast = fast;
    this.#batch = config.batch;
    this.#key = new Uint8Array(config.keySize);
    this.#keySize = config.keySize;
  }

  write(keys: KeyStream, values: ValuePool, from: number, to: number, rec: LatencyRecorder): void | Promise<void> {
    if (!this.#fast) return this.#writePlain(keys, values, from, to, rec);
    const db = this.#db;
    const key = this.#key;
    for (let start = from; start < to; start += this.#batch) {
      const end = Math.min(to, start + this.#batch);
      const t0 = performance.now();
      db.transactionSync(() => {
        for (let i = start; i < end; i++) {
          keys.keyInto(i, key);
          db.putSync(key, values.value(i));
        }
      });
      rec.addBatch((performance.now() - t0) * 1000, end - start);
    }
  }

  /**
   * `put()`, then the flush of the commit it joined. lmdb-js opens with `overlappingSync` on Linux (its
   * default off Windows): a transaction commits under the write lock without a sync, and the sync follows
   * outside the lock, overlapping the next commit. `put()`'s promise is documented to resolve at the commit
   * (visible to readers), `db.flushed` once the commit is synced to disk; the write is durable only then, so
   * both are awaited. `db.flushed` is read right after `put()`, before anything else can write: it then
   * follows this put's transaction rather than a later one. The writes one event turn queues share a
   * transaction (lmdb-js' batching), so concurrent writers share its commit and its sync.
   */
  async writeDurable(keys: KeyStream, values: ValuePool, index: number, rec: LatencyRecorder): Promise<void> {
    const db = this.#db;
    // Its own buffer: other writers run while this put is pending.
    const key = new Uint8Array(this.#keySize);
    keys.keyInto(index, key);
    const t0 = performance.now();
    const committed = db.put(key, values.value(index));
    // `flushed` is a thenable whose then() picks the transaction pending at the call: call it now.
    const flushed = new Promise<unknown>((resolve, reject) => {
      db.flushed.then(resolve, reject);
    });
    await committed;
    await flushed;
    rec.add((performance.now() - t0) * 1000);
  }

  ingest(keys: KeyStream, values: ValuePool, from: number, to: number, rec: LatencyRecorder): void | Promise<void> {
    if (!this.#fast) return this.#writePlain(keys, values, from, to, rec);
    if (from !== (this.#ingest?.to ?? 0)) throw new Error(`lmdb ingest: ops must come in order, got ${from} after ${this.#ingest?.to ?? 0}`);
    this.#ingest = { keys, values, to, rec };
  }

  /** One transaction of appends over every op ingested; one latency sample per `--batch` of them. */
  finishIngest(): Promise<number | undefined> {
    const pending = this.#ingest;
    this.#ingest = undefined;
    if (pending === undefined) return Promise.resolve(undefined);
    const { keys, values, to, rec } = pending;
    const db = this.#db;
    const key = this.#key;
    const append = { append: true };
    db.transactionSync(() => {
      for (let start = 0; start < to; start += this.#batch) {
        const end = Math.min(to, start + this.#batch);
        const t0 = performance.now();
        for (let i = start; i < end; i++) {
          keys.keyInto(i, key);
          db.putSync(key, values.value(i), append);
        }
        rec.addBatch((performance.now() - t0) * 1000, end - start);
      }
    });
    return Promise.resolve(undefined);
  }

  async #writePlain(keys: KeyStream, values: ValuePool, from: number, to: number, rec: LatencyRecorder): Promise<void> {
    const key = this.#key;
    for (let i = from; i < to; i++) {
      keys.keyInto(i, key);
      const t0 = performance.now();
      await this.#db.put(key, values.value(i));
      rec.add((performance.now() - t0) * 1000);
    }
  }

  deleteRange(ranges: RangeStream, from: number, to: number, rec: LatencyRecorder): void | Promise<void> {
    if (!this.#fast) return this.#deleteRangePlain(ranges, from, to, rec);
    const db = this.#db;
    for (let i = from; i < to; i++) {
      const keys = this.#keysOf(ranges, i);
      const t0 = performance.now();
      db.transactionSync(() => {
        for (const key of keys) db.removeSync(key);
      });
      rec.add((performance.now() - t0) * 1000);
    }
  }

  async #deleteRangePlain(ranges: RangeStream, from: number, to: number, rec: LatencyRecorder): Promise<void> {
    const db = this.#db;
    for (let i = from; i < to; i++) {
      const keys = this.#keysOf(ranges, i);
      const t0 = performance.now();
      await db.transaction(() => {
        for (const key of keys) db.removeSync(key);
      });
      rec.add((performance.now() - t0) * 1000);
    }
  }

  #keysOf(ranges: RangeStream, i: number): Uint8Array[] {
    const keys = this.#rangeKeys;
    while (keys.length < ranges.width) keys.push(new Uint8Array(this.#keySize));
    keys.length = ranges.width;
    for (let k = 0; k < ranges.width; k++) ranges.keyInto(i, k, keys[k] as Uint8Array);
    return keys;
  }

  merge(merges: MergeStream, from: number, to: number, rec: LatencyRecorder): void | Promise<void> {
    if (!this.#fast) return this.#mergePlain(merges, from, to, rec);
    const db = this.#db;
    const key = this.#key;
    const value = this.#counter;
    for (let start = from; start < to; start += this.#batch) {
      const end = Math.min(to, start + this.#batch);
      const t0 = performance.now();
      db.transactionSync(() => {
        for (let i = start; i < end; i++) {
          merges.keyInto(i, key);
          const current = db.get(key);
          counterInto((current === undefined ? 0 : readCounter(current)) + merges.delta(i), value);
          db.putSync(key, value);
        }
      });
      rec.addBatch((performance.now() - t0) * 1000, end - start);
    }
  }

  async #mergePlain(merges: MergeStream, from: number, to: number, rec: LatencyRecorder): Promise<void> {
    const db = this.#db;
    for (let i = from; i < to; i++) {
      const key = new Uint8Array(this.#keySize);
      merges.keyInto(i, key);
      const delta = merges.delta(i);
      const t0 = performance.now();
      await db.transaction(() => {
        const current = db.get(key);
        const value = new Uint8Array(COUNTER_BYTES);
        counterInto((current === undefined ? 0 : readCounter(current)) + delta, value);
        db.putSync(key, value);
      });
      rec.add((performance.now() - t0) * 1000);
    }
  }

  read(key: Uint8Array): Uint8Array | undefined {
    return this.#db.get(key);
  }

  /** Waits until the last commits are flushed to disk (lmdb-js syncs after commit by default). */
  async settle(): Promise<void> {
    await this.#db.flushed;
  }

  get(keys: KeyStream, from: number, to: number, rec: LatencyRecorder, tally: Tally): void {
    const db = this.#db;
    const key = this.#key;
    for (let i = from; i < to; i++) {
      keys.keyInto(i, key);
      let value: Uint8Array | undefined;
      if ((i & SAMPLE_MASK) === 0) {
        const t0 = performance.now();
        value = db.get(key);
        rec.add((performance.now() - t0) * 1000);
      } else {
        value = db.get(key);
      }
      if (value !== undefined) {
        tally.hits++;
        tally.items++;
        tally.bytes += key.length + value.length;
      }
    }
  }

  scanner(): Scanner {
    const it = this.#db.getRange({})[Symbol.iterator]();
    return {
      next(max: number, tally: Tally): boolean {
        for (let n = 0; n < max; n++) {
          const r = it.next();
          if (r.done === true) return false;
          tally.items++;
          tally.bytes += r.value.key.length + r.value.value.length;
        }
        return true;
      },
      close(): void {
        it.return?.();
      },
    };
  }

  seek(keys: KeyStream, from: number, to: number, nexts: number, rec: LatencyRecorder, tally: Tally): void {
    const key = this.#key;
    for (let i = from; i < to; i++) {
      keys.keyInto(i, key);
      const t0 = performance.now();
      for (const { key: k, value: v } of this.#db.getRange({ start: key, limit: 1 + nexts })) {
        tally.items++;
        tally.bytes += k.length + v.length;
      }
      rec.add((performance.now() - t0) * 1000);
    }
  }

  prefix(prefixes: PrefixStream, from: number, to: number, limit: number, rec: LatencyRecorder, tally: Tally): void {
    for (let i = from; i < to; i++) {
      const end = prefixes.end(i);
      const range = end === undefined ? { start: prefixes.prefix(i), limit } : { start: prefixes.prefix(i), end, limit };
      const t0 = performance.now();
      for (const { key: k, value: v } of this.#db.getRange(range)) {
        tally.items++;
        tally.bytes += k.length + v.length;
      }
      rec.add((performance.now() - t0) * 1000);
    }
  }

  stats(): Record<string, number | number[]> {
    return {};
  }

  close(): Promise<void> {
    return this.#db.close();
  }
}
