/**
 * Seeks over several runs whose tables are read from their files (not memory-mapped) read the data
 * blocks the seek lands in together: one `Fs.readMany` per filesystem (one io_uring submission on
 * `IoUringFs`) instead of one read per run, one after the other.
 *
 * A merged cursor's seek positions every child: in each run, the table that holds the first candidate
 * and, in it, the block the index names for the target. {@link BatchedSeekCursor} works those blocks out
 * first, with the same searches the children are about to make (a run's table by its max or min key, the
 * block by the table's index), fetches the ones the block cache lacks with `Table.fetchBlocks`, holds them
 * while the merged cursor seeks, and lets them go: the children find them without a read. Everything
 * after the seek (next, prev) reads as before, each table cursor reading ahead on its own.
 *
 * Only a hint: a block guessed wrong (a table whose first candidate lies in the next block) costs one read
 * that the seek did not need; the seek itself reads whatever it needs, so answers never depend on it.
 *
 * @module
 */
import type { EntryCursor } from "../iter/cursor.ts";
import { ForwardingCursor } from "../iter/forwarding-cursor.ts";
import type { Comparator } from "../key/comparator.ts";
import { SEQNO_MAX } from "../seqno.ts";
import { Table } from "../table/table.ts";
import { lowerBound } from "../version/index.ts";
import type { TableFile } from "./table-file.ts";

/** A data block a seek will read: table and block number. */
interface WantedBlock {
  readonly table: Table;
  readonly block: number;
}

export class BatchedSeekCursor extends ForwardingCursor {
  readonly #comparator: Comparator;
  /** Each run's tables (key order), as the merged cursor's run children hold them. */
  readonly #runs: readonly (readonly TableFile[])[];

  constructor(inner: EntryCursor, comparator: Comparator, runs: readonly (readonly TableFile[])[]) {
    super(inner);
    this.#comparator = comparator;
    this.#runs = runs;
  }

  override seekToFirst(): void {
    this.#batched(
      (tables) => tables[0],
      () => 0,
      () => this.inner.seekToFirst(),
    );
  }

  override seekToLast(): void {
    this.#batched(
      (tables) => tables[tables.length - 1],
      (table) => table.index().count - 1,
      () => this.inner.seekToLast(),
    );
  }

  override seek(key: Uint8Array, seqno: number = SEQNO_MAX): void {
    this.#batched(
      (tables) => tables[this.#firstWithMaxAtLeast(tables, key)],
      (table) => table.index().lowerBound(key, seqno),
      () => this.inner.seek(key, seqno),
    );
  }

  override seekForPrev(key: Uint8Array): void {
    this.#batched(
      (tables) => tables[this.#lastWithMinAtMost(tables, key)],
      (table) => {
        const index = table.index();
        return Math.min(index.upperBound(key), index.count - 1);
      },
      () => this.inner.seekForPrev(key),
    );
  }

  /**
   * Runs `seek` with the blocks it will land in held: per run, the table `pick` names and the block
   * `blockOf` names in it. Fetched only when at least two of them must be read (one read gains nothing
   * from a batch); blocks past a table's end, and mapped tables, are left to the seek.
   */
  #batched(pick: (tables: readonly TableFile[]) => TableFile | undefined, blockOf: (table: Table) => number, seek: () => void): void {
    const wanted: WantedBlock[] = [];
    let reads = 0;
    for (const tables of this.#runs) {
      const file = pick(tables);
      if (file === undefined || file.table.mapped) continue;
      const table = file.table;
      const block = blockOf(table);
      if (block < 0 || block >= table.index().count) continue;
      wanted.push({ table, block });
      if (!table.hasBlock(block)) reads++;
    }
    const fetched = reads >= 2 ? Table.fetchBlocks(wanted) : undefined;
    try {
      seek();
    } finally {
      fetched?.release();
    }
  }

  /** Index of the first table whose max key is at or after `key` (`tables.length` when none). */
  #firstWithMaxAtLeast(tables: readonly TableFile[], key: Uint8Array): number {
    const cmp = this.#comparator;
    return lowerBound(tables, (t) => cmp.compare(t.maxKey, key) < 0);
  }

  /** Index of the last table whose min key is at or before `key` (-1 when none). */
  #lastWithMinAtMost(tables: readonly TableFile[], key: Uint8Array): number {
    const cmp = this.#comparator;
    return lowerBound(tables, (t) => cmp.compare(t.minKey, key) <= 0) - 1;
  }
}
