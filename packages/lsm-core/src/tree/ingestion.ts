/**
 * Bulk ingestion: sorted entries written straight into new table files, never through the memtable, and
 * made visible all at once by `finish()` with one new seqno (the tables' *global seqno*: their entries
 * are stored at seqno 0 and read as written at it; the version file records it per table).
 *
 * `finish()` first flushes the memtables (so everything written before lies in tables), then takes the
 * seqno (which is also the version change's stamp: an ingestion consumes one seqno) and publishes the tables as the newest L0 run in one version change: every read at a seqno above
 * it sees all of them, no read sees part of them. Nothing is visible before; `abort()`, a failure or a
 * crash before `finish()` leaves only orphan files, which the next open removes.
 *
 * @module
 */
import { LsmError } from "../errors.ts";
import { toKey, toValue, type Bytes } from "../key/validate.ts";
import { ValueKind } from "../key/value-kind.ts";
import type { TableWriter } from "../table/table-writer.ts";
import { flush, withBlobFiles } from "./jobs.ts";
import type { BlobFile } from "./blob-file.ts";
import type { BlobStore } from "./blob-store.ts";
import type { BlobWriter } from "../separation/value-log.ts";
import type { TableFile } from "./table-file.ts";
import type { TreeState } from "./tree-state.ts";

const EMPTY = new Uint8Array(0);
/**
 * Ingested tables land in L0 and are written with L0's options, like a flush's (the reference uses L1's):
 * measured with `pnpm bench -- --workloads fillseq,ingest --num 1000000`, L1's LZ4 took ~39% of an
 * ingestion and made it no faster than inserting and flushing (1.03x); L0's default (uncompressed) gave
 * 2.4x. Compaction compresses the data when it moves it down.
 */
const POLICY_LEVEL = 0;

/** What `finish()` installed. */
export interface IngestionResult {
  /** Tables added to L0, as one new run (0 when nothing was ingested). */
  readonly tables: number;
  /** Entries those tables hold. */
  readonly entries: number;
}

/**
 * A bulk load in progress; see `Tree.ingestion()`.
 *
 * @example
 * ```ts
 * const ingestion = tree.ingestion();
 * for (let i = 0; i < 1_000_000; i++) ingestion.write(`key${String(i).padStart(8, "0")}`, "value");
 * const { tables, entries } = await ingestion.finish(); // all visible now, at one seqno
 * ```
 */
export class Ingestion {
  readonly #state: TreeState;
  readonly #checkValue: (value: Uint8Array) => void;
  #writer: TableWriter | undefined;
  /** Writers that reached the target size, finished at `finish()`. */
  readonly #full: TableWriter[] = [];
  #entries = 0;
  /** A blob tree's blob files for the separated values, started at the first one. */
  #blobs: BlobWriter | undefined;
  /** The current writer's data block count when its size was last checked against the target. */
  #blocksAtSizeCheck = 0;
  #status: "open" | "finishing" | "finished" | "aborted" = "open";

  /**
   * Made by `Tree.ingestion()`, over the tree's state.
   *
   * @internal
   */
  constructor(state: TreeState, checkValue: (value: Uint8Array) => void) {
    this.#state = state;
    this.#checkValue = checkValue;
  }

  /** Adds `value` under `key`. Keys must come strictly increasing by the tree's comparator (else `RangeError`). */
  write(key: Bytes, value: Bytes): void {
    const v = toValue(value);
    this.#checkValue(v);
    this.#add(toKey(key), ValueKind.Value, v);
  }

  /** Adds a deletion of `key` (hides what was there before the ingestion). */
  writeTombstone(key: Bytes): void {
    this.#add(toKey(key), ValueKind.Tombstone, EMPTY);
  }

  /** Adds a weak deletion of `key` (see `Tree.removeWeak`). */
  writeWeakTombstone(key: Bytes): void {
    this.#add(toKey(key), ValueKind.WeakTombstone, EMPTY);
  }

  /** Entries written so far. */
  get entries(): number {
    return this.#entries;
  }

  /** Writes out the tables and makes every entry visible at once; resolves to what was installed. */
  finish(): Promise<IngestionResult> {
    try {
      this.#checkOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    this.#status = "finishing";
    return this.#state.track(this.#finish());
  }

  /** Drops everything written; the tree is as if the ingestion never began. Idempotent. */
  async abort(): Promise<void> {
    if (this.#status === "finished" || this.#status === "finishing") return;
    this.#status = "aborted";
    for (const writer of this.#writers()) writer.abort();
    this.#blobs?.abort();
    this.#full.length = 0;
    this.#writer = undefined;
  }

  async #finish(): Promise<IngestionResult> {
    const state = this.#state;
    const writers = this.#writers();
    this.#full.length = 0;
    this.#writer = undefined;
    const tables: TableFile[] = [];
    let blobs: BlobFile[] = [];
    try {
      for (const writer of writers) tables.push(await state.store.finishWriter(writer, 0));
      if (tables.length > 0) await state.store.syncFolder(0);
      if (this.#blobs !== undefined && state.store.blobs !== undefined) blobs = state.store.blobs.adopt(await this.#blobs.finish());
    } catch (error) {
      for (const writer of writers) writer.abort();
      this.#blobs?.abort();
      for (const table of tables) table.markObsolete();
      this.#status = "aborted";
      throw error;
    }
    try {
      // Everything written before the ingestion goes to tables first (an empty ingestion flushes too).
      state.rotate();
      await flush(state, 0);
      if (tables.length === 0) {
        this.#status = "finished";
        return { tables: 0, entries: 0 };
      }
      await state.commit(() => {
        // Above every write made so far: the ingested entries are the newest versions of their keys.
        const global = state.options.seqno.next();
        for (const table of tables) table.setGlobalSeqno(global);
        // The global seqno is the change's stamp too: an ingestion takes one seqno.
        const next = withBlobFiles(state.latest.version.withNewL0Run(tables), blobs);
        return { next, outputs: tables, blobOutputs: blobs, change: { preservesReads: true, gcWatermark: 0, stamp: global } };
      });
    } catch (error) {
      this.#status = "aborted";
      if (!tables.some((t) => state.latest.version.getTable(t.id) !== undefined)) {
        for (const table of tables) table.markObsolete();
        for (const blob of blobs) blob.markObsolete();
      }
      throw error;
    }
    this.#status = "finished";
    return { tables: tables.length, entries: this.#entries };
  }

  #add(key: Uint8Array, kind: ValueKind, value: Uint8Array): void {
    this.#checkOpen();
    let writer = this.#writer;
    const previous = writer?.lastKeyView();
    if (previous !== undefined && this.#state.options.comparator.compare(key, previous) <= 0) {
      throw new RangeError("ingestion keys must be strictly increasing by the tree's comparator");
    }
    // A table is cut at a block boundary: its size is checked when a block has been written since.
    if (writer !== undefined && writer.dataBlockCount !== this.#blocksAtSizeCheck) {
      this.#blocksAtSizeCheck = writer.dataBlockCount;
      if (writer.estimatedSize >= this.#state.options.flushTableSize) {
        // The next writer first: if creating its file fails, the full one stays current (in one place).
        const next = this.#state.store.newWriter(0, POLICY_LEVEL);
        this.#full.push(writer);
        writer = next;
        this.#blocksAtSizeCheck = 0;
      }
    }
    writer ??= this.#state.store.newWriter(0, POLICY_LEVEL);
    this.#writer = writer;
    const log = this.#state.options.valueLog;
    if (log !== undefined && kind === ValueKind.Value && value.length >= log.separationThreshold) {
      // Key-value separation, as a flush does: the blob gets the value, the table its handle.
      const blobs = (this.#blobs ??= (this.#state.store.blobs as BlobStore).newWriter());
      writer.add(key, 0, ValueKind.Indirection, blobs.add(key, 0, value));
    } else {
      writer.add(key, 0, kind, value);
    }
    this.#entries++;
  }

  #writers(): TableWriter[] {
    return this.#writer === undefined ? [...this.#full] : [...this.#full, this.#writer];
  }

  #checkOpen(): void {
    this.#state.checkOpen();
    if (this.#status !== "open") throw new LsmError("CLOSED", `the ingestion is ${this.#status}`);
  }
}
