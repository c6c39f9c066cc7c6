/**
 * FIFO compaction: keeps the tree under a size limit (and optionally a TTL) by dropping whole L0
 * tables, oldest first. It never rewrites anything. Only for data that is inserted once, in key
 * order, and may be lost when old (logs, metrics): an update or delete of an old key can resurface the
 * older value or be dropped with its table.
 *
 * @module
 */
import type { Version } from "../../version/version.ts";
import {
  NOTHING,
  anyBusy,
  dropChoice,
  type CompactionChoice,
  type CompactionContext,
  type CompactionStrategy,
  type CompactionTable,
} from "./choice.ts";
import { nonNegativeBytes, nonNegativeFinite, optionsObject } from "./options.ts";

export interface FifoOptions {
  /**
   * Most bytes the tree may hold: L0 table sizes plus `context.blobBytes`. Dropping a table frees its
   * own size and the blob bytes it references (`referencedBlobBytes`).
   */
  readonly limitBytes: number;
  /** Tables created at least this long ago are dropped; absent or 0 disables the TTL. */
  readonly ttlSeconds?: number;
}

/**
 * FIFO compaction, as the reference's `Fifo` ("FifoCompaction").
 *
 * Decisions are taken over every L0 table, across all runs (oldest `createdAtMs` first, then lowest
 * `maxSeqno`, then lowest id), so an L0 of several runs is handled rather than refused. While any L0
 * table is busy nothing is chosen: dropping newer tables around one that is being compacted would
 * lose recent data while older data stays. Tables below L0 (left by another strategy) are neither
 * counted nor dropped.
 *
 * @example
 * ```ts
 * import { Fifo } from "@talus/lsm-core";
 * const strategy = new Fifo({ limitBytes: 1024 * 1024 * 1024, ttlSeconds: 7 * 24 * 3600 });
 * const choice = strategy.choose(version, { busy: new Set(), nowMs: Date.now() });
 * if (choice.kind === "drop") console.log(`dropping tables ${choice.tableIds.join(", ")}`);
 * ```
 */
export class Fifo implements CompactionStrategy {
  readonly name = "FifoCompaction";
  /** Most bytes the tree may hold (L0 tables plus blob files) before its oldest tables are dropped. */
  readonly limitBytes: number;
  /** `undefined` when the TTL is off. */
  readonly ttlSeconds: number | undefined;

  constructor(options: FifoOptions) {
    const o = optionsObject(options, "Fifo");
    if (o.limitBytes === undefined) throw new RangeError("Fifo needs limitBytes");
    this.limitBytes = nonNegativeBytes(o.limitBytes, "limitBytes");
    const ttl = o.ttlSeconds === undefined ? 0 : nonNegativeFinite(o.ttlSeconds, "ttlSeconds");
    this.ttlSeconds = ttl === 0 ? undefined : ttl;
  }

  choose(version: Version<CompactionTable>, context: CompactionContext): CompactionChoice {
    const tables = [...version.level(0).tables()];
    if (tables.length === 0 || anyBusy(tables, context.busy)) return NOTHING;
    const blobBytes = context.blobBytes ?? 0;
    if (!Number.isFinite(blobBytes) || blobBytes < 0) throw new RangeError(`blobBytes must be a finite number >= 0, got ${blobBytes}`);

    let size = blobBytes;
    for (const table of tables) size += table.size;

    const dropped: number[] = [];
    let alive = tables;
    if (this.ttlSeconds !== undefined) {
      const cutoff = context.nowMs - this.ttlSeconds * 1000;
      alive = [];
      for (const table of tables) {
        if (table.createdAtMs <= cutoff) {
          dropped.push(table.id);
          size -= freed(table);
        } else {
          alive.push(table);
        }
      }
    }

    if (size > this.limitBytes) {
      alive.sort((a, b) => a.createdAtMs - b.createdAtMs || a.maxSeqno - b.maxSeqno || a.id - b.id);
      for (const table of alive) {
        if (size <= this.limitBytes) break;
        dropped.push(table.id);
        size -= freed(table);
      }
    }
    return dropped.length === 0 ? NOTHING : dropChoice(dropped);
  }
}

/**
 * What dropping `table` frees: its file and the blob bytes it references (a blob file goes once no
 * table references it; blob bytes no table references are not credited to any table).
 */
function freed(table: CompactionTable): number {
  return table.size + (table.referencedBlobBytes ?? 0);
}
