/**
 * The mutable heart of a tree: its super-version history, the table store, the locks and the one way a
 * version change is made ({@link TreeState.commit}).
 *
 * Version changes are serialised by a lock from planning to swapping; publishing awaits its syncs, and
 * the swap of the in-memory super version after it is synchronous, so no read or write can observe a
 * half-installed change.
 *
 * @module
 */
import type { TreeVersion } from "./tree-version.ts";
import type { BlobFile } from "./blob-file.ts";
import { deadBlobFiles } from "./blob-usage.ts";
import { LsmError } from "../errors.ts";
import { ArenaChunkPool, MAX_CHUNK_BYTES, Memtable } from "../memtable/index.ts";
import {
  DeletionPause,
  joinPath,
  persistVersionAsync,
  readCurrent,
  removeQuietly,
  versionFileName,
  versionToRecord,
  type TreeKind,
  type Version,
} from "../version/index.ts";
import { AsyncMutex } from "./async-mutex.ts";
import type { ResolvedOptions } from "./options.ts";
import { blobFileRecord, tableRecord } from "./recovery.ts";
import { SuperVersion, SuperVersionHistory } from "./super-version.ts";
import type { TableFile } from "./table-file.ts";
import { TableStore } from "./table-store.ts";
import { workersCanWrite } from "./worker-merge.ts";
import type { JournalSet } from "./journal-set.ts";

/** How a version change relates to the reads that came before it. */
export interface ChangeOptions {
  /** Drop these sealed memtables (their data is in the new version's tables). */
  readonly flushedMemtables?: ReadonlySet<number>;
  /** Replace every memtable by one fresh active memtable (clear). */
  readonly freshMemtables?: boolean;
  /**
   * Whether every read at `S >= gcWatermark` answers the same after the change (flush, merge, move). A
   * drop or clear does not: old reads keep the super version from before it.
   */
  readonly preservesReads: boolean;
  /** The GC watermark the change ran with (0: none). Also prunes the history below it. */
  readonly gcWatermark: number;
  /** Tables the new version no longer lists. */
  readonly obsolete?: readonly TableFile[];
  /**
   * The change's stamp when the plan already took one from the counter (an ingestion's global seqno is
   * its stamp: one seqno per ingestion); otherwise one is taken when the change is installed.
   */
  readonly stamp?: number;
}

/** A version change as {@link TreeState.commit} takes it; jobs add what they need to report. */
export interface PlannedChange {
  readonly next: TreeVersion;
  readonly change: ChangeOptions;
  /** Tables written for this change: discarded if it never becomes current. */
  readonly outputs?: readonly TableFile[];
  /** Blob files written for this change: discarded with the tables. */
  readonly blobOutputs?: readonly BlobFile[];
}

export class TreeState {
  readonly options: ResolvedOptions;
  readonly treeKind: TreeKind;
  readonly pause: DeletionPause;
  readonly store: TableStore;
  readonly history: SuperVersionHistory;
  /** One flush (and clear) at a time: both rewrite the set of sealed memtables. */
  readonly flushLock = new AsyncMutex();
  /**
   * One version change at a time, from planning it against the current version to swapping it in:
   * publishing awaits its syncs, and a change planned meanwhile would be based on a stale version.
   */
  readonly versionLock = new AsyncMutex();
  /** Tables some compaction is rewriting: no other job may take them. */
  readonly busy = new Set<number>();
  /** Jobs in flight; close() waits for them. */
  readonly jobs = new Set<Promise<unknown>>();
  closing = false;
  closed = false;
  /** The tree's journal files; set once at open, right after the first memtable exists. */
  journal: JournalSet | undefined;
  #nextMemtableId = 1;
  /**
   * Arena chunks of retired memtables, for the next ones, so a steady write load stops paying
   * first-touch page faults. Up to 32 MiB idle per tree: two memtables of the common 16 MiB, one being
   * filled while the previous one flushes (16 MiB left a third of the chunks fresh in the 4 KiB
   * overwrite benchmark, 32 MiB a quarter). In shared memory when flushes run on worker threads, which
   * read sealed memtables in place.
   */
  readonly chunkPool: ArenaChunkPool;

  constructor(options: ResolvedOptions, treeKind: TreeKind, store: TableStore, pause: DeletionPause, version: TreeVersion) {
    this.options = options;
    this.chunkPool = new ArenaChunkPool(MAX_CHUNK_BYTES, 32, workersCanWrite(options, store, 0, 0));
    this.treeKind = treeKind;
    this.store = store;
    this.pause = pause;
    this.history = new SuperVersionHistory(new SuperVersion(new Memtable(options.comparator, 0, this.chunkPool), [], version, 0));
  }

  get latest(): SuperVersion {
    return this.history.latest;
  }

  /** A fresh memtable; with a journal, its writes go to a journal file of their own. */
  newMemtable(): Memtable {
    const memtable = new Memtable(this.options.comparator, this.#nextMemtableId++, this.chunkPool);
    this.journal?.onNewMemtable(memtable);
    return memtable;
  }

  /** Seals the active memtable (if it holds anything) behind a fresh one. Consumes no seqno. */
  rotate(): boolean {
    const latest = this.latest;
    if (latest.active.isEmpty()) return false;
    this.history.replaceLatest(new SuperVersion(this.newMemtable(), [...latest.sealed, latest.active], latest.version, latest.stamp));
    return true;
  }

  /**
   * Makes one version change. Under {@link versionLock}, asks `plan` for the change against the version
   * that is current now (`undefined`: nothing to do, returned as is), publishes the planned version
   * (version file, then `current`, with its syncs off the event loop where the filesystem can), then
   * makes it the tree's state: takes a seqno as the change's stamp, raises the visible watermark past
   * it, swaps the super version, and retires what is no longer needed.
   *
   * If publishing fails before `current` names the new version, nothing changes, the plan's `outputs`
   * (tables written for it) are discarded, and the error is rethrown; if only the final directory sync
   * failed, the change is installed and the error still reported.
   */
  async commit<P extends PlannedChange>(plan: () => P | undefined): Promise<P | undefined> {
    return this.versionLock.run(async () => {
      const planned = plan();
      if (planned === undefined) return undefined;
      const { change } = planned;
      // Blob files no table references any more leave the version in the same change (they are
      // deleted once no snapshot reaches them).
      const dead = this.treeKind === "blob" ? deadBlobFiles(planned.next) : [];
      const next = dead.length === 0 ? planned.next : planned.next.withBlobFiles([], dead.map((b) => b.id));
      try {
        await this.#install(next, change, dead);
      } catch (error) {
        if (this.latest.version.id !== next.id) {
          for (const table of planned.outputs ?? []) table.markObsolete();
          for (const blob of planned.blobOutputs ?? []) blob.markObsolete();
        }
        throw error;
      }
      return planned;
    });
  }

  async #install(next: TreeVersion, change: ChangeOptions, deadBlobs: readonly BlobFile[]): Promise<void> {
    const { fs, path } = this.options;
    const previousId = this.latest.version.id;
    // The journal files the memtables left after this change do not need: below the floor it records.
    const before = this.latest;
    const flushedIds = change.flushedMemtables;
    const remaining = change.freshMemtables === true ? [] : [...before.sealed.filter((m) => flushedIds?.has(m.id) !== true), before.active];
    const journalFloor = this.journal?.floorFor(remaining) ?? 0;
    let publishError: unknown;
    try {
      await persistVersionAsync(fs, path, { ...versionToRecord(next, tableRecord, blobFileRecord), journalFloor });
    } catch (error) {
      if (readCurrent(fs, path)?.versionId !== next.id) throw error;
      publishError = error;
    }
    // From here to the end nothing awaits: no read or write can observe a half-installed change.
    const stamp = change.stamp ?? this.options.seqno.next();
    this.options.visibleSeqno.fetchMax(stamp + 1);
    const latest = this.latest;
    const flushed = change.flushedMemtables;
    const sealed = change.freshMemtables === true ? [] : flushed === undefined ? latest.sealed : latest.sealed.filter((m) => !flushed.has(m.id));
    const active = change.freshMemtables === true ? this.newMemtable() : latest.active;
    // A change every read after the previous stamp can be served by replaces the newest entry.
    const collapse = change.preservesReads && change.gcWatermark <= latest.stamp + 1;
    const entry = new SuperVersion(active, sealed, next, collapse ? latest.stamp : stamp);
    if (collapse) this.history.replaceLatest(entry);
    else this.history.push(entry);
    if (publishError !== undefined) {
      // `current` names the new version, but its directory sync failed: after a crash the old version
      // may be the durable one, so nothing it references may go. Recovery removes what is left over.
      throw publishError;
    }
    for (const table of change.obsolete ?? []) table.markObsolete();
    for (const blob of deadBlobs) blob.markObsolete();
    this.journal?.dropBelow(journalFloor, [...entry.sealed, entry.active]);
    this.history.prune(change.gcWatermark);
    // The superseded version file is garbage now that `current` durably names its successor (old
    // snapshots live in memory, and checkpoints write versions from memory).
    removeQuietly(fs, joinPath(path, versionFileName(previousId)));
  }

  /** For new work: refused once close() has begun. */
  checkOpen(): void {
    if (this.closed || this.closing) throw new LsmError("CLOSED", "the tree is closed");
  }

  /** For work accepted before close() began (it runs to completion) and for introspection. */
  checkNotClosed(): void {
    if (this.closed) throw new LsmError("CLOSED", "the tree is closed");
  }

  /** Runs an async job, tracked so close() can wait for it. */
  track<T>(job: Promise<T>): Promise<T> {
    // Many callers share one promise (every persist() of a group-commit round): it is tracked once.
    if (this.jobs.has(job)) return job;
    this.jobs.add(job);
    const done = (): void => {
      this.jobs.delete(job);
    };
    job.then(done, done);
    return job;
  }
}
