/**
 * Where a tree's tables live and how they come to be: the folder of each level (level routes put some
 * levels under other directories, on other filesystems), table ids, opening a table file as a
 * {@link TableFile}, and writing a stream of entries into new tables.
 *
 * New tables are written whole and synced, then their folder is synced, before any version may name
 * them (DESIGN.md section 4). A failed write removes every table it created.
 *
 * @module
 */
import type { Fs } from "@talus/fs";
import { LsmError } from "../errors.ts";
import { newCacheNamespace } from "../cache/index.ts";
import { Table, TableWriter, type TableOpenOptions, type TableWriterOptions, type WrittenTable } from "../table/index.ts";
import { SharedIdCounter } from "../executor/shared-ids.ts";
import { tableFormatOf, writerOptionsOf } from "../executor/table-format.ts";
import { DeletionPause, joinPath, LEVEL_COUNT, removeQuietly, TABLES_DIR_NAME } from "../version/index.ts";
import type { CompactionStream } from "../compaction/compaction-stream.ts";
import type { ResolvedOptions } from "./options.ts";
import { TableFile } from "./table-file.ts";
import { syncDirectory } from "../io/async-sync.ts";
import { Slice } from "../sched/turns.ts";
import { ValueKind } from "../key/value-kind.ts";
import type { Fragment } from "../range-tombstone/fragments.ts";
import { writeOutputTables, type OutputSink } from "../compaction/output-tables.ts";
import { BlobStore } from "./blob-store.ts";
import type { BlobReference, BlobWriter, ValueLog } from "../separation/value-log.ts";

const NO_RELOCATION: ReadonlySet<number> = new Set();

/** A directory that holds table files, and the filesystem it is on. */
export interface TablesFolder {
  readonly fs: Fs;
  readonly dir: string;
}

/**
 * A blob tree job's way of adding an entry: a large value goes to the blob writer and the table keeps
 * its handle; an indirection into a blob file being relocated is copied to the new file.
 */
function separatingAdd(log: ValueLog, blobs: BlobWriter, relocate: ReadonlySet<number>): (writer: TableWriter, stream: CompactionStream) => void {
  return (writer, stream) => {
    const key = stream.key();
    const kind = stream.kind();
    const value = stream.value();
    if (kind === ValueKind.Value && value.length >= log.separationThreshold) {
      const seqno = stream.seqno();
      writer.add(key, seqno, ValueKind.Indirection, blobs.add(key, seqno, value));
    } else if (kind === ValueKind.Indirection && relocate.size > 0 && relocate.has(log.reference(value).blobFileId)) {
      // Out of a stale blob file: the value moves to a new file, the entry gets the new handle.
      const seqno = stream.seqno();
      writer.add(key, seqno, ValueKind.Indirection, blobs.relocate(key, seqno, value));
    } else {
      writer.add(key, stream.seqno(), kind, value);
    }
  };
}

function blobReferenceOf(log: ValueLog): (handle: Uint8Array) => BlobReference {
  return (handle) => log.reference(handle);
}

export class TableStore {
  readonly options: ResolvedOptions;
  readonly pause: DeletionPause;
  readonly cacheNamespace = newCacheNamespace();
  /** A blob tree's blob files (undefined for a standard tree). */
  readonly blobs: BlobStore | undefined;
  /** Shared with worker threads, which name their jobs' tables from the same sequence. */
  readonly ids = new SharedIdCounter();

  constructor(options: ResolvedOptions, pause: DeletionPause) {
    this.options = options;
    this.pause = pause;
    this.blobs = options.valueLog === undefined ? undefined : new BlobStore(options, pause, options.valueLog);
  }

  /** The next id `allocateId()` returns; recovery sets it past every id seen. */
  get nextTableId(): number {
    return this.ids.next;
  }

  set nextTableId(id: number) {
    this.ids.next = id;
  }

  allocateId(): number {
    return this.ids.take();
  }

  /** The folder of `level`: the first route covering it, else the tree's own `tables/`. */
  folderFor(level: number): TablesFolder {
    for (const route of this.options.routes) {
      if (level >= route.levels[0] && level < route.levels[1]) return { fs: route.fs, dir: joinPath(route.path, TABLES_DIR_NAME) };
    }
    return { fs: this.options.fs, dir: joinPath(this.options.path, TABLES_DIR_NAME) };
  }

  /** Every distinct tables folder (the tree's own first), for recovery and creation. */
  allFolders(): TablesFolder[] {
    const out: TablesFolder[] = [{ fs: this.options.fs, dir: joinPath(this.options.path, TABLES_DIR_NAME) }];
    for (let level = 0; level < LEVEL_COUNT; level++) {
      const folder = this.folderFor(level);
      if (!out.some((known) => known.fs === folder.fs && known.dir === folder.dir)) out.push(folder);
    }
    return out;
  }

  /** Opens an existing table file. */
  open(id: number, folder: TablesFolder, folderLevel: number): TableFile {
    const path = joinPath(folder.dir, String(id));
    const table = Table.open(folder.fs, path, this.#openOptions(id));
    const written = table.meta.mergeOperator;
    const configured = this.options.mergeOperator?.name;
    // Operands merged (or meant to be merged) by one operator must not be read by another.
    if (table.meta.mergeOperandCount > 0 && written !== null && written !== configured) {
      table.close();
      throw new LsmError(
        "MERGE_OPERATOR",
        `table ${path} holds merge operands of operator "${written}", but the tree was opened ${configured === undefined ? "without a merge operator" : `with "${configured}"`}`,
      );
    }
    return new TableFile(table, folder.fs, path, folderLevel, this.pause);
  }

  #openOptions(tableId: number): TableOpenOptions {
    const o = this.options;
    return {
      tableId,
      comparator: o.comparator,
      blockCache: o.blockCache,
      fileCache: o.fileCache,
      cacheNamespace: this.cacheNamespace,
      mapFile: o.mapTables,
      ...(o.prefixExtractor === undefined ? {} : { prefixExtractor: o.prefixExtractor }),
    };
  }

  /**
   * Writes the stream into new tables for `level`, starting a new table once one reaches `targetSize`
   * (only between two user keys: every version of a key stays in one table, so a level's tables never
   * overlap). Yields to the event loop whenever the engine's budget for the turn is spent (see
   * sched/turns.ts), also while finishing each table, and syncs without blocking where the filesystem
   * can. Returns the opened tables, synced and with their folder synced, in key order.
   *
   * With `blobs` (a blob tree's job), values of at least the value log's separation threshold are
   * appended there and written as `Indirection` entries holding the handle, and indirections into the
   * blob files `relocate` names are copied there (a relocating compaction); the caller finishes the
   * blob writer and installs its files with the tables.
   *
   * `tombstones` (a fragment list) are shared out between the tables, each clipped to the part of the
   * key space its table is responsible for, so the tables' key ranges, widened to cover their
   * tombstones, stay disjoint:
   * - a table that is not the last owns the key space up to just past its last key. Bytewise, that is
   *   `last ‖ 0x00`, the smallest key after it: its tombstones end there and its max key stays its last
   *   key, and the next table's share starts there (its min key may be that key). Under a custom
   *   comparator no key between two keys can be named, so a table is only cut between `last` and `next`
   *   where no tombstone reaches into `(last, next)`: big tombstones make bigger tables, never wrong ones;
   * - the last table takes every tombstone left, and its max key reaches the farthest end (inclusive,
   *   which only makes its range wider than needed; an unbounded end makes it the largest key);
   * - tombstones and no entry at all give one table holding a sentinel: a tombstone at the first
   *   fragment's start with that fragment's newest seqno, which deletes exactly what the fragment
   *   deletes at that key (tables hold at least one entry).
   */
  async write(
    stream: CompactionStream,
    level: number,
    targetSize: number,
    policyLevel = level,
    tombstones: readonly Fragment[] = [],
    blobs: BlobWriter | undefined = undefined,
    relocate: ReadonlySet<number> = NO_RELOCATION,
  ): Promise<TableFile[]> {
    const folder = this.folderFor(level);
    const slice = new Slice();
    // One creation time for the job's tables, as a worker's job carries it.
    const createdAtMs = Date.now();
    const sink: OutputSink<TableFile> = {
      newWriter: () => this.#newWriter(folder, policyLevel, createdAtMs),
      finish: (writer) => this.#finish(writer, folder, level, slice),
      discard: (table) => {
        table.closeReader();
        removeQuietly(table.fs, table.path);
      },
      ...(blobs === undefined ? {} : { add: separatingAdd(this.options.valueLog as ValueLog, blobs, relocate) }),
    };
    const written = await writeOutputTables(stream, this.options.comparator, targetSize, tombstones, sink, slice);
    if (written.length > 0) {
      try {
        await syncDirectory(folder.fs, folder.dir);
      } catch (error) {
        for (const table of written) sink.discard(table);
        throw error;
      }
    }
    return written;
  }

  /** A writer for a new table in `level`'s folder, written with the options of `policyLevel`. */
  newWriter(level: number, policyLevel = level): TableWriter {
    return this.#newWriter(this.folderFor(level), policyLevel);
  }

  /** Finishes (syncs) and opens a table from {@link newWriter}; its folder still needs {@link syncFolder}. */
  finishWriter(writer: TableWriter, level: number): Promise<TableFile> {
    return this.#finish(writer, this.folderFor(level), level, new Slice());
  }

  /**
   * Opens a table another thread wrote (and synced, with its folder) into `level`'s folder, from the
   * index and filter it handed back.
   */
  adopt(written: WrittenTable, level: number): TableFile {
    const folder = this.folderFor(level);
    const table = Table.fromWriter(folder.fs, written, this.#openOptions(written.meta.tableId));
    return new TableFile(table, folder.fs, written.path, level, this.pause);
  }

  /** Makes the entries of `level`'s folder durable (after new tables were written into it). */
  async syncFolder(level: number): Promise<void> {
    const folder = this.folderFor(level);
    await syncDirectory(folder.fs, folder.dir);
  }

  /** A writer in `folder` with the options of `level` (the policy level, which may differ from the physical one). */
  #newWriter(folder: TablesFolder, level: number, createdAtMs?: number): TableWriter {
    const id = this.allocateId();
    const o = this.options;
    return new TableWriter(folder.fs, joinPath(folder.dir, String(id)), {
      ...writerOptionsOf(tableFormatOf(o, level, createdAtMs), id, {
        comparator: o.comparator,
        mergeOperatorName: o.mergeOperator?.name,
        prefixExtractor: o.prefixExtractor,
      }),
      ...(o.valueLog === undefined ? {} : { blobReference: blobReferenceOf(o.valueLog) }),
    });
  }

  /** Finishes and opens a table; on any failure no file of it remains. */
  async #finish(writer: TableWriter, folder: TablesFolder, level: number, slice: Slice): Promise<TableFile> {
    let tableId: number;
    try {
      tableId = (await writer.finishAsync(slice.pausePoint)).tableId;
    } catch (error) {
      writer.abort();
      throw error;
    }
    // Decoding the index and filter is a piece of work of its own.
    const wait = slice.pausePoint();
    if (wait !== undefined) await wait;
    try {
      // From the writer's own index and filter: reading them back would only re-check what it just synced.
      const table = Table.fromWriter(folder.fs, writer.written(), this.#openOptions(tableId));
      return new TableFile(table, folder.fs, writer.path, level, this.pause);
    } catch (error) {
      removeQuietly(folder.fs, writer.path);
      throw error;
    }
  }
}
