/**
 * The one loop that turns a compaction stream into tables, shared by every executor: the main thread's
 * (which yields to the event loop and may separate values into blob files) and a worker thread's. Both
 * cut tables at the same keys and share range tombstones out the same way, so for the same input they
 * write the same bytes.
 *
 * @module
 */
import type { CompactionStream } from "./compaction-stream.ts";
import type { Comparator } from "../key/comparator.ts";
import type { TableWriter } from "../table/index.ts";
import type { PausePoint } from "../table/table-writer.ts";
import type { Fragment } from "../range-tombstone/fragments.ts";
import { TombstoneShare } from "../range-tombstone/tombstone-share.ts";
import { ValueKind } from "../key/value-kind.ts";

const EMPTY = new Uint8Array(0);

/** How a job paces itself: a `Slice` on the main thread, {@link UNPACED} where nothing else needs the thread. */
export interface Pacer {
  /** Counts an entry; true when the job should pause. */
  tick(): boolean;
  pause(): Promise<void>;
  /** The same, in the shape `TableWriter.finishAsync` takes. */
  readonly pausePoint: PausePoint;
}

/** Never pauses: a worker thread has nothing else to run. */
export const UNPACED: Pacer = {
  tick: () => false,
  pause: () => Promise.resolve(),
  pausePoint: () => undefined,
};

/** Where the loop's tables go and what they become. */
export interface OutputSink<T> {
  /** A writer for the next table (a fresh id). */
  newWriter(): TableWriter;
  /** Finishes (and syncs) the writer; on failure no file of it remains. */
  finish(writer: TableWriter): Promise<T>;
  /** Removes a finished table because a later one failed. */
  discard(table: T): void;
  /** Adds the stream's current entry; absent: as it is (a blob tree separates large values here). */
  readonly add?: (writer: TableWriter, stream: CompactionStream) => void;
}

/**
 * Writes `stream` into tables, starting a new one once the current one reaches `targetSize`, only
 * between two user keys (every version of a key stays in one table, so a level's tables never
 * overlap), and shares `tombstones` out between them (see `TableStore.write` for the rule). Returns the
 * finished tables in key order; on failure every table it wrote is discarded and the error rethrown.
 * The caller syncs the folder.
 */
export async function writeOutputTables<T>(
  stream: CompactionStream,
  comparator: Comparator,
  targetSize: number,
  tombstones: readonly Fragment[],
  sink: OutputSink<T>,
  pacer: Pacer,
): Promise<T[]> {
  const written: T[] = [];
  const share = new TombstoneShare(comparator, tombstones);
  const add = sink.add;
  let writer: TableWriter | undefined;
  try {
    while (stream.next()) {
      const key = stream.key();
      if (writer !== undefined && writer.estimatedSize >= targetSize) {
        const last = writer.lastKeyView();
        const cut = last !== undefined && comparator.compare(key, last) !== 0 ? share.cutBetween(last, key) : undefined;
        if (cut !== undefined) {
          const full = writer;
          writer = undefined;
          share.giveUpTo(full, cut);
          // Nothing moves the stream while the finish awaits, so `key` and the entry stay valid.
          written.push(await sink.finish(full));
        }
      }
      writer ??= sink.newWriter();
      if (add === undefined) writer.add(key, stream.seqno(), stream.kind(), stream.value());
      else add(writer, stream);
      if (pacer.tick()) await pacer.pause();
    }
    if (writer === undefined && written.length === 0 && tombstones.length > 0) {
      // Tombstones and no entry: one table holding a sentinel that deletes what the first fragment does at its start.
      const first = tombstones[0] as Fragment;
      writer = sink.newWriter();
      writer.add(first.start, first.seqnos[0] as number, ValueKind.Tombstone, EMPTY);
    }
    if (writer !== undefined) {
      const last = writer;
      writer = undefined;
      share.giveRest(last);
      written.push(await sink.finish(last));
    }
    return written;
  } catch (error) {
    writer?.abort();
    for (const table of written) sink.discard(table);
    throw error;
  }
}
