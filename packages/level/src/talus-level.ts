/**
 * `TalusLevel`: an abstract-level database on a Talus tree, so code written for `level` / `classic-level`
 * runs on Talus.
 *
 * What maps to what:
 * - the tree is opened in the automatic mode: `journal: true` (every write is journaled) and
 *   `maintenance: true` (background flushes and compactions);
 * - sequence numbers are the adapter's: one `SequenceNumberCounter` per open; every write (put, del,
 *   batch, clear) takes `next()`, reads read at `get()`, at the seqno of a tree snapshot an iterator
 *   takes when it is created, or at an explicit snapshot's;
 * - `sync: true` on `put` / `del` / `batch` / `chainedBatch.write` awaits `tree.persist()` (journal group
 *   commit); `close()` closes the tree, which flushes;
 * - a batch is one `tree.applyBatch(WriteBatch)` at one seqno: atomic;
 * - `clear()` is one or two range tombstones; with a `limit` or an explicit `snapshot` it deletes the
 *   keys it finds instead;
 * - writers honour the tree's backpressure: a write made while `tree.writeStall` is true (and sealed
 *   memtables wait for a flush: see {@link stalled}) waits for `tree.drained()` first, in call order.
 *
 * @module
 */
import {
  AbstractLevel,
  type AbstractBatchOperation,
  type AbstractBatchOptions,
  type AbstractChainedBatch,
  type AbstractDatabaseOptions,
  type AbstractDelOptions,
  type AbstractOpenOptions,
  type AbstractPutOptions,
} from "abstract-level";
import { StdFs, type Fs } from "@talus/fs";
import {
  LsmError,
  MAX_TABLE_VALUE_BYTES,
  readTreeKind,
  SequenceNumberCounter,
  Tree,
  WriteBatch,
  type JournalOptions,
  type MaintenanceOptions,
  type TreeOptions,
} from "@talus/lsm-core";
import { BlobTree, MAX_BLOB_VALUE_BYTES, type KvSeparationOptions } from "@talus/vlog";
import { bufferView, format } from "./bytes.ts";
import { levelError, notOpen, toLevelError } from "./errors.ts";
import { Cursor, TalusIterator, TalusKeyIterator, TalusValueIterator, type PrivateIteratorOptions } from "./iterator.ts";
import { compareBytes, isEmptyRange, rangeOptions, toTreeKey, treeRange, treeSpan, type TreeRange } from "./keys.ts";
import { TalusSnapshot } from "./snapshot.ts";

/** Tree options a TalusLevel passes through to `Tree.open` as they are. */
const PASS_THROUGH = [
  "cacheBytes",
  "blockCache",
  "maxOpenFiles",
  "fileCache",
  "blockSize",
  "restartInterval",
  "filterBitsPerKey",
  "flushTableSize",
  "workers",
  "mapTables",
  "levelRoutes",
] as const;

type PassThrough = Pick<TreeOptions, (typeof PASS_THROUGH)[number]>;

/** The Talus options of a {@link TalusLevel} (constructor or `open()`). */
export interface TalusLevelTreeOptions extends PassThrough {
  /** The filesystem (default `StdFs`, the disk; `MemFs` from `@talus/fs` keeps everything in memory). */
  readonly fs?: Fs;
  /**
   * Key-value separation: `true` or `BlobTree`'s `kvSeparation` options open a `BlobTree` (`@talus/vlog`),
   * whose large values live in blob files. `false`: a plain tree. Default: whatever the directory holds,
   * a plain tree when it holds none.
   */
  readonly blob?: boolean | KvSeparationOptions;
  /** Tuning of the automatic maintenance, which is always on (`memtableBytes`, `strategy`, `l0SlowdownRuns`, `l0StopRuns`). */
  readonly maintenance?: MaintenanceOptions;
  /** The journal, which is always on: `{ sync: "none" }` makes `sync: true` hand writes to the OS without an fsync. */
  readonly journal?: JournalOptions;
  /** Table compression: as `Tree.open`'s, or classic-level's boolean (`false`: `"none"`; `true`: the default). */
  readonly compression?: TreeOptions["compression"] | boolean;
  /** classic-level's name for `cacheBytes`. */
  readonly cacheSize?: number;
  /** classic-level's name for `maintenance.memtableBytes`. */
  readonly writeBufferSize?: number;
  /** classic-level's name for `restartInterval`. */
  readonly blockRestartInterval?: number;
}

/** `db.open(options)`: abstract-level's (`createIfMissing`, `errorIfExists`, `passive`) and the Talus ones. */
export interface TalusLevelOpenOptions extends AbstractOpenOptions, TalusLevelTreeOptions {}

/** `new TalusLevel(location, options)`: abstract-level's (`keyEncoding`, `valueEncoding`, ...) and the Talus ones. */
export interface TalusLevelOptions<K, V> extends AbstractDatabaseOptions<K, V>, TalusLevelTreeOptions {
  readonly createIfMissing?: boolean;
  readonly errorIfExists?: boolean;
}

/** `sync: true`: resolve once the write is durable (the journal's group commit, `tree.persist()`). */
export interface TalusWriteOptions {
  /** Resolve only once the write is durable (`tree.persist()`: one fsync shared by concurrent writers). */
  readonly sync?: boolean;
}

export interface TalusPutOptions<K, V> extends AbstractPutOptions<K, V>, TalusWriteOptions {}
export interface TalusDelOptions<K> extends AbstractDelOptions<K>, TalusWriteOptions {}
export interface TalusBatchOptions<K, V> extends AbstractBatchOptions<K, V>, TalusWriteOptions {}

/** What `_open` receives: the constructor's options merged with `open()`'s. */
interface PrivateOpenOptions extends TalusLevelTreeOptions {
  readonly createIfMissing: boolean;
  readonly errorIfExists: boolean;
}

interface PrivateReadOptions {
  readonly keyEncoding: string;
  readonly valueEncoding?: string;
  readonly snapshot?: unknown;
}

interface PrivateWriteOptions {
  readonly sync?: boolean;
}

interface PrivateClearOptions extends PrivateIteratorOptions {
  readonly snapshot?: unknown;
}

type PrivateOperation =
  | { readonly type: "put"; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly type: "del"; readonly key: Uint8Array };

/** Keys deleted per write batch when `clear()` deletes key by key. */
const CLEAR_BATCH_KEYS = 4096;

function manifest(): Record<string, unknown> {
  return {
    // Keys and values reach the private API as bytes; abstract-level transcodes every other encoding.
    encodings: { view: true, buffer: true },
    implicitSnapshots: true,
    explicitSnapshots: true,
    has: true,
    getSync: true,
    seek: true,
    createIfMissing: true,
    errorIfExists: true,
    permanence: true,
    signals: { iterators: true },
    additionalMethods: { persist: true },
  };
}

// The write methods' option types with `sync` (merged into the class's instance type, as classic-level's
// declarations do; `chainedBatch.write({ sync: true })` takes it too).
export interface TalusLevel<KDefault, VDefault> {
  /** Writes `value` under `key` (in the journal and the memtable; durable at the next persist or sync write). */
  put(key: KDefault, value: VDefault): Promise<void>;
  /** Writes `value` under `key`; with `sync: true`, resolves once it is durable. */
  put<K = KDefault, V = VDefault>(key: K, value: V, options: TalusPutOptions<K, V>): Promise<void>;
  /** Deletes `key`. */
  del(key: KDefault): Promise<void>;
  /** Deletes `key`; with `sync: true`, resolves once the deletion is durable. */
  del<K = KDefault>(key: K, options: TalusDelOptions<K>): Promise<void>;
  /** Applies every operation at once (one journal record, one seqno): all visible together, all or nothing after a crash. */
  batch(operations: Array<AbstractBatchOperation<this, KDefault, VDefault>>): Promise<void>;
  /** {@link TalusLevel.batch} with options; `sync: true` resolves once the batch is durable. */
  batch<K = KDefault, V = VDefault>(operations: Array<AbstractBatchOperation<this, K, V>>, options: TalusBatchOptions<K, V>): Promise<void>;
  /** A chained batch (`.put().del().write()`), applied atomically by `write()`. */
  batch(): AbstractChainedBatch<this, KDefault, VDefault>;
}

/**
 * An [abstract-level](https://github.com/Level/abstract-level) database stored in a Talus tree.
 *
 * @example
 * ```ts
 * import { TalusLevel } from "@talus/level";
 *
 * const db = new TalusLevel<string, { name: string }>("./db", { valueEncoding: "json" });
 * await db.put("user:1", { name: "ada" }, { sync: true }); // durable once it resolves
 * console.log(await db.get("user:1")); // { name: 'ada' }
 * for await (const [key, value] of db.iterator({ gte: "user:", lt: "user;" })) console.log(key, value.name);
 * await db.close(); // flushes: a clean close loses nothing
 * ```
 */
export class TalusLevel<KDefault = string, VDefault = string> extends AbstractLevel<Uint8Array, KDefault, VDefault> {
  readonly #location: string;
  /** The Talus options given to the constructor. */
  readonly #options: TalusLevelTreeOptions;
  #tree: Tree | undefined;
  #seqno = new SequenceNumberCounter();
  /** The largest value the open tree takes: a table's, or a blob file's for a blob tree. */
  #maxValueBytes = MAX_TABLE_VALUE_BYTES;
  /** Writers waiting for the tree's backpressure to end, so that they write in call order. */
  #gate: Promise<void> | undefined;

  /**
   * @param location the database's directory (on `options.fs`, default the disk), created if missing
   *   unless `createIfMissing` is false.
   */
  constructor(location: string, options?: TalusLevelOptions<KDefault, VDefault>) {
    if (typeof location !== "string" || location === "") {
      throw new TypeError("The first argument 'location' must be a non-empty string");
    }
    // The Talus options stay here rather than travel with abstract-level's open options (which
    // postopen hooks see); `open(options)` may still override them.
    const { forward, talus } = splitOptions(options);
    super(manifest(), forward as AbstractDatabaseOptions<KDefault, VDefault> | undefined);
    this.#location = location;
    this.#options = talus;
  }

  /** The `location` given to the constructor. */
  get location(): string {
    return this.#location;
  }

  /**
   * Makes every write made before the call durable (the journal's group commit), as a `sync: true`
   * write would. Waits for a database that is opening.
   */
  async persist(): Promise<void> {
    if (this.status === "opening") return this.deferAsync(() => this.persist());
    const tree = this.#tree;
    if (this.status !== "open" || tree === undefined) throw notOpen("Database is not open: cannot call persist()");
    await persist(tree);
  }

  // ---- open and close -------------------------------------------------------------------------

  /** @internal abstract-level\'s implementation hook; call the public method without the underscore. */
  async _open(openOptions: PrivateOpenOptions): Promise<void> {
    const options: PrivateOpenOptions = { ...this.#options, ...openOptions };
    const fs = options.fs ?? new StdFs();
    const path = this.#location;
    let kind: "standard" | "blob" | undefined;
    try {
      kind = readTreeKind(fs, path);
    } catch (error) {
      throw toLevelError(error);
    }
    if (kind === undefined && !options.createIfMissing) {
      throw new Error(`${path} does not exist (createIfMissing is false)`);
    }
    if (kind !== undefined && options.errorIfExists) {
      throw new Error(`${path} exists (errorIfExists is true)`);
    }
    const seqno = new SequenceNumberCounter();
    const base = { ...treeOptions(options), path, fs, seqno };
    const blob = options.blob ?? kind === "blob";
    let tree: Tree;
    try {
      tree = blob === false ? await Tree.open(base) : await BlobTree.open(blob === true ? base : { ...base, kvSeparation: blob });
    } catch (error) {
      throw toLevelError(error);
    }
    this.#tree = tree;
    this.#seqno = seqno;
    this.#maxValueBytes = blob === false ? MAX_TABLE_VALUE_BYTES : MAX_BLOB_VALUE_BYTES;
  }

  /** @internal abstract-level\'s implementation hook; call the public method without the underscore. */
  async _close(): Promise<void> {
    const tree = this.#tree;
    this.#tree = undefined;
    this.#gate = undefined;
    try {
      await tree?.close();
    } catch (error) {
      // The tree is closed all the same (the journal keeps what the final flush could not write).
      throw toLevelError(error);
    }
  }

  // ---- reads ----------------------------------------------------------------------------------

  /** @internal abstract-level\'s implementation hook; call the public method without the underscore. */
  async _get(key: Uint8Array, options: PrivateReadOptions): Promise<Uint8Array | undefined> {
    return this._getSync(key, options);
  }

  /** @internal abstract-level\'s implementation hook; call the public method without the underscore. */
  _getSync(key: Uint8Array, options: PrivateReadOptions): Uint8Array | undefined {
    const tree = this.#openTree();
    let value: Uint8Array | undefined;
    try {
      value = tree.get(toTreeKey(key), this.#readSeqno(tree, options.snapshot));
    } catch (error) {
      throw toLevelError(error);
    }
    return value === undefined ? undefined : format(value, options.valueEncoding === "buffer");
  }

  /** @internal abstract-level\'s implementation hook; call the public method without the underscore. */
  async _getMany(keys: Uint8Array[], options: PrivateReadOptions): Promise<Array<Uint8Array | undefined>> {
    const tree = this.#openTree();
    let values: Array<Uint8Array | undefined>;
    try {
      values = tree.multiGet(keys.map(toTreeKey), this.#readSeqno(tree, options.snapshot));
    } catch (error) {
      throw toLevelError(error);
    }
    // multiGet's array is the caller's: Buffers replace the values in place, and other encodings take it as it is.
    if (options.valueEncoding === "buffer") {
      for (let i = 0; i < values.length; i++) {
        const value = values[i];
        if (value !== undefined) values[i] = bufferView(value);
      }
    }
    return values;
  }

  /** @internal abstract-level\'s implementation hook; call the public method without the underscore. */
  async _has(key: Uint8Array, options: PrivateReadOptions): Promise<boolean> {
    const tree = this.#openTree();
    try {
      return tree.containsKey(toTreeKey(key), this.#readSeqno(tree, options.snapshot));
    } catch (error) {
      throw toLevelError(error);
    }
  }

  /** @internal abstract-level\'s implementation hook; call the public method without the underscore. */
  async _hasMany(keys: Uint8Array[], options: PrivateReadOptions): Promise<boolean[]> {
    const tree = this.#openTree();
    try {
      const seqno = this.#readSeqno(tree, options.snapshot);
      return keys.map((key) => tree.containsKey(toTreeKey(key), seqno));
    } catch (error) {
      throw toLevelError(error);
    }
  }

  /** @internal abstract-level\'s implementation hook; call the public method without the underscore. */
  _iterator(options: PrivateIteratorOptions): TalusIterator {
    return new TalusIterator(this as never, options, this.#cursor(options));
  }

  /** @internal abstract-level\'s implementation hook; call the public method without the underscore. */
  _keys(options: PrivateIteratorOptions): TalusKeyIterator {
    return new TalusKeyIterator(this as never, options, this.#cursor(options));
  }

  /** @internal abstract-level\'s implementation hook; call the public method without the underscore. */
  _values(options: PrivateIteratorOptions): TalusValueIterator {
    return new TalusValueIterator(this as never, options, this.#cursor(options));
  }

  /** @internal abstract-level\'s implementation hook; call the public method without the underscore. */
  _snapshot(options: object): TalusSnapshot {
    try {
      return new TalusSnapshot(options, this.#openTree());
    } catch (error) {
      throw toLevelError(error);
    }
  }

  // ---- writes ---------------------------------------------------------------------------------

  /** @internal abstract-level\'s implementation hook; call the public method without the underscore. */
  async _put(key: Uint8Array, value: Uint8Array, options: PrivateWriteOptions): Promise<void> {
    if (this.#gate !== undefined || stalled(this.#tree)) await this.#admit();
    const tree = this.#openTree();
    this.#checkValue(value);
    try {
      tree.insert(toTreeKey(key), value, this.#seqno.next());
    } catch (error) {
      throw toLevelError(error);
    }
    if (options.sync === true) await persist(tree);
  }

  /** @internal abstract-level\'s implementation hook; call the public method without the underscore. */
  async _del(key: Uint8Array, options: PrivateWriteOptions): Promise<void> {
    if (this.#gate !== undefined || stalled(this.#tree)) await this.#admit();
    const tree = this.#openTree();
    try {
      tree.remove(toTreeKey(key), this.#seqno.next());
    } catch (error) {
      throw toLevelError(error);
    }
    if (options.sync === true) await persist(tree);
  }

  /** @internal abstract-level\'s implementation hook; call the public method without the underscore. */
  async _batch(operations: readonly PrivateOperation[], options: PrivateWriteOptions): Promise<void> {
    if (this.#gate !== undefined || stalled(this.#tree)) await this.#admit();
    const tree = this.#openTree();
    for (const op of operations) if (op.type === "put") this.#checkValue(op.value);
    try {
      const keys = operations.map((op) => toTreeKey(op.key));
      try {
        tree.applyBatch(writeBatch(operations, keys), this.#seqno.next());
      } catch (error) {
        // A WriteBatch refuses one key with operations of different kinds (they would share one
        // seqno). abstract-level runs a batch's operations in order, so the last one on a key wins:
        // collapse and apply that. Checked before anything is applied, so nothing landed yet.
        if (!(error instanceof LsmError && error.code === "MIXED_OPERATION_BATCH")) throw error;
        const last = lastPerKey(keys);
        tree.applyBatch(
          writeBatch(
            operations.filter((_, i) => last.has(i)),
            keys.filter((_, i) => last.has(i)),
          ),
          this.#seqno.next(),
        );
      }
    } catch (error) {
      throw toLevelError(error);
    }
    if (options.sync === true) await persist(tree);
  }

  /** @internal abstract-level\'s implementation hook; call the public method without the underscore. */
  async _clear(options: PrivateClearOptions): Promise<void> {
    if (this.#gate !== undefined || stalled(this.#tree)) await this.#admit();
    const tree = this.#openTree();
    try {
      const range = treeRange(options);
      if (isEmptyRange(range)) return;
      const span = options.limit < 0 && options.snapshot == null ? treeSpan(range) : undefined;
      if (span !== undefined) this.#removeSpan(tree, span.start, span.end);
      else this.#clearKeyByKey(tree, range, options);
    } catch (error) {
      throw toLevelError(error);
    }
  }

  /** Deletes `[start, end)` (to the end of the key space when `end` is undefined) with range tombstones. */
  #removeSpan(tree: Tree, start: Uint8Array, end: Uint8Array | undefined): void {
    if (end !== undefined) {
      if (compareBytes(start, end) < 0) tree.removeRange(start, end, this.#seqno.next());
      return;
    }
    // A range tombstone needs a finite end; removePrefix of an all-0xff prefix deletes to the end of
    // the key space. With m = the 0xff bytes start begins with: [start, ff*(m+1)) and then every key
    // from ff*(m+1) on (or, for a start that is all 0xff, removePrefix(start) alone).
    let m = 0;
    while (m < start.length && start[m] === 0xff) m++;
    if (m === start.length) {
      tree.removePrefix(start, this.#seqno.next());
      return;
    }
    const top = new Uint8Array(m + 1).fill(0xff);
    tree.removeRange(start, top, this.#seqno.next());
    tree.removePrefix(top, this.#seqno.next());
  }

  /**
   * `clear()` with a `limit` or an explicit snapshot: deletes the keys an iteration at that snapshot (or
   * now) finds, in write batches of {@link CLEAR_BATCH_KEYS}. Synchronous, so no write lands in between.
   */
  #clearKeyByKey(tree: Tree, range: TreeRange, options: PrivateClearOptions): void {
    const seqno = this.#readSeqno(tree, options.snapshot);
    const limit = options.limit >= 0 ? options.limit : Infinity;
    const batch = new WriteBatch();
    // Our own deletions take seqnos at or above `seqno`: the iteration at `seqno` does not see them.
    for (const [key] of tree.range(rangeOptions(range, options.reverse, limit), seqno)) {
      batch.remove(key);
      if (batch.len >= CLEAR_BATCH_KEYS) {
        tree.applyBatch(batch, this.#seqno.next());
        batch.clear();
      }
    }
    if (!batch.isEmpty()) tree.applyBatch(batch, this.#seqno.next());
  }

  // ---- internals ------------------------------------------------------------------------------

  /** A value larger than the tree takes is refused before anything is written. */
  #checkValue(value: Uint8Array): void {
    if (value.length > this.#maxValueBytes) {
      throw levelError(`a value of ${value.length} bytes is larger than this database takes (${this.#maxValueBytes} bytes)`, "LEVEL_INVALID_VALUE");
    }
  }

  #openTree(): Tree {
    const tree = this.#tree;
    if (tree === undefined) throw notOpen();
    return tree;
  }

  /** The seqno a read reads at: an explicit snapshot's, or now. */
  #readSeqno(tree: Tree, snapshot: unknown): number {
    return this.#snapshotSeqno(tree, snapshot) ?? this.#seqno.get();
  }

  /** An explicit snapshot's seqno, or undefined without one (`snapshot` undefined or null). */
  #snapshotSeqno(tree: Tree, snapshot: unknown): number | undefined {
    if (snapshot === undefined || snapshot === null) return undefined;
    const seqno = TalusSnapshot.seqnoOf(snapshot, tree);
    if (seqno === undefined) throw new TypeError("The 'snapshot' option must be a snapshot of this database (taken since it was last opened)");
    return seqno;
  }

  #cursor(options: PrivateIteratorOptions): Cursor {
    const tree = this.#openTree();
    const seqno = this.#snapshotSeqno(tree, options.snapshot);
    try {
      return new Cursor(tree, seqno, options);
    } catch (error) {
      throw toLevelError(error);
    }
  }

  /**
   * Waits until the tree's write stall is over, behind every writer already waiting (so writes land in
   * the order they were made). Rejects with a background flush's or compaction's error.
   */
  async #admit(): Promise<void> {
    for (;;) {
      const tree = this.#tree;
      if (tree === undefined) return; // closed meanwhile: the write itself reports it
      if (this.#gate === undefined) {
        if (!stalled(tree)) return;
        const gate: Promise<void> = tree.drained().finally(() => {
          if (this.#gate === gate) this.#gate = undefined;
        });
        this.#gate = gate;
      }
      await this.#gate;
    }
  }
}

/**
 * Whether writers wait for `tree.drained()`: the tree's `writeStall`, but only while sealed memtables
 * wait for a flush. A stall of L0 runs alone is not waited for, because of two engine bugs (see the
 * README, "Engine issues", and test/engine-issues.test.ts): `drained()` called while nothing is sealed
 * leaves the maintenance's flusher marked as running forever (no memtable is flushed again), and an L0
 * pile-up nothing is compacting (one inherited at open) is only worked off after the next flush. While
 * something is sealed, `drained()` starts the flusher for real, each flush starts the compactor, and
 * the stall ends. Memory stays bounded by the sealed-memtable stall; L0 then drains behind it.
 */
function stalled(tree: Tree | undefined): boolean {
  return tree !== undefined && tree.writeStall && tree.sealedMemtableCount() > 0;
}

async function persist(tree: Tree): Promise<void> {
  try {
    await tree.persist();
  } catch (error) {
    throw toLevelError(error);
  }
}

/** A WriteBatch of `operations` on `keys` (their tree keys). */
function writeBatch(operations: readonly PrivateOperation[], keys: readonly Uint8Array[]): WriteBatch {
  const batch = new WriteBatch();
  operations.forEach((op, i) => {
    const key = keys[i] as Uint8Array;
    if (op.type === "put") batch.insert(key, op.value);
    else batch.remove(key);
  });
  return batch;
}

/** The indexes of the last operation on each key. */
function lastPerKey(keys: readonly Uint8Array[]): Set<number> {
  const last = new Map<string, number>();
  keys.forEach((key, i) => last.set(bufferView(key).toString("latin1"), i));
  return new Set(last.values());
}

/** The names of {@link TalusLevelTreeOptions}. */
const TALUS_OPTIONS: ReadonlySet<string> = new Set<string>([
  ...PASS_THROUGH,
  "fs",
  "blob",
  "maintenance",
  "journal",
  "compression",
  "cacheSize",
  "writeBufferSize",
  "blockRestartInterval",
]);

/** The constructor's options split into abstract-level's (and userland) and the Talus ones. */
function splitOptions(options: object | undefined): { forward: Record<string, unknown> | undefined; talus: TalusLevelTreeOptions } {
  if (typeof options !== "object" || options === null) return { forward: undefined, talus: {} };
  const forward: Record<string, unknown> = {};
  const talus: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options)) {
    if (TALUS_OPTIONS.has(name)) talus[name] = value;
    else forward[name] = value;
  }
  return { forward, talus: talus as TalusLevelTreeOptions };
}

/** The tree options of a TalusLevel: its pass-through options, classic-level's names, journal and maintenance on. */
function treeOptions(options: TalusLevelTreeOptions): Omit<TreeOptions, "path"> {
  const out: Record<string, unknown> = {};
  for (const name of PASS_THROUGH) if (options[name] !== undefined) out[name] = options[name];
  if (out["cacheBytes"] === undefined && options.cacheSize !== undefined) out["cacheBytes"] = options.cacheSize;
  if (out["restartInterval"] === undefined && options.blockRestartInterval !== undefined) out["restartInterval"] = options.blockRestartInterval;
  if (typeof options.compression === "boolean") {
    if (!options.compression) out["compression"] = "none";
  } else if (options.compression !== undefined) out["compression"] = options.compression;

  const maintenance: unknown = options.maintenance;
  if (maintenance !== undefined && maintenance !== true && (typeof maintenance !== "object" || maintenance === null)) {
    throw new TypeError("TalusLevel always runs automatic maintenance: 'maintenance' takes its options ({ memtableBytes, strategy, l0SlowdownRuns, l0StopRuns })");
  }
  const tuning: MaintenanceOptions = typeof maintenance === "object" ? (maintenance as MaintenanceOptions) : {};
  const memtableBytes = tuning.memtableBytes ?? options.writeBufferSize;
  out["maintenance"] = memtableBytes === undefined ? { ...tuning } : { ...tuning, memtableBytes };

  const journal: unknown = options.journal;
  if (journal !== undefined && journal !== true && (typeof journal !== "object" || journal === null)) {
    throw new TypeError("TalusLevel always journals its writes: 'journal' takes its options ({ sync: \"group\" | \"none\" })");
  }
  out["journal"] = typeof journal === "object" ? journal : true;
  return out as Omit<TreeOptions, "path">;
}
