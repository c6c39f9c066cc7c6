/**
 * A tree's journal files (`<path>/journal/<number>`, format in ../journal/journal-format.ts): which
 * one takes the writes now, which memtable each covers, and which may go.
 *
 * Invariants, each enforced here:
 * - a memtable's writes are in journal files numbered at or above the number it was given when it was
 *   made (the one a tree opened with replayed journals made first covers every replayed file too);
 * - a new memtable gets a new journal file, so the files a flush makes obsolete are exactly those
 *   below the smallest number of the memtables still unflushed: the version's *journal floor*;
 * - a file is deleted only after a version recording a floor above it is durable (`current` names
 *   it), so recovery never misses a write and never replays one a table already holds;
 * - journal `n + 1` is synced only after journal `n` is (its writer waits for the previous file's final
 *   sync), and its header records `n`'s final length: a replay stops in front of the first file whose
 *   predecessor came back shorter, so writes are never replayed out of order (those files hold no
 *   persisted write, and a writable open deletes them).
 *
 * @module
 */
import { hasCode, type Fs } from "@talus/fs";
import { dirname } from "node:path";
import { JOURNAL_HEADER_BYTES, journalPreviousLength, RANGE_TAG, replayJournal, JournalWriter, type JournalWriterOptions } from "../journal/index.ts";
import type { ValueKind } from "../key/value-kind.ts";
import type { Memtable } from "../memtable/index.ts";
import { JOURNAL_DIR_NAME, joinPath, removeQuietly } from "../version/index.ts";

// Defined with the other tree-directory names: the open decision looks for it too.
export { JOURNAL_DIR_NAME };

/** What `journal` accepts besides `true`. */
export interface JournalOptions {
  /**
   * `"group"` (default): `persist()` fsyncs the journal, one sync shared by every caller waiting at
   * that moment (group commit): persisted writes survive a power cut. `"none"`: `persist()` only hands
   * the writes to the operating system: they survive the process dying, not the machine.
   */
  readonly sync?: "group" | "none";
}

/** `journal` resolved: the writer options, or undefined when writes are not journaled. */
export function resolveJournal(option: boolean | JournalOptions | undefined): JournalWriterOptions | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return { sync: "full" };
  if (typeof option !== "object" || option === null) throw new TypeError(`journal must be true, false or an options object, got ${String(option)}`);
  const sync = option.sync ?? "group";
  if (sync !== "group" && sync !== "none") throw new RangeError(`journal.sync must be "group" or "none", got ${String(sync)}`);
  return { sync: sync === "group" ? "full" : "none" };
}

/** What opening the journals replayed into the first memtable. */
export interface JournalReplay {
  readonly groups: number;
  /** The highest seqno replayed, or undefined when nothing was. */
  readonly maxSeqno: number | undefined;
}

export class JournalSet {
  readonly dir: string;
  readonly #fs: Fs;
  readonly #options: JournalWriterOptions | undefined;
  /** The file taking the writes now (undefined: the tree does not journal its writes). */
  #writer: JournalWriter | undefined;
  #nextNumber: number;
  /** The floor recorded last: it never goes down. */
  #floor: number;
  /** Journal files on disk, by number, with the close of their writer (rotated files) when it has one. */
  readonly #files = new Map<number, Promise<void> | undefined>();
  /** Unlinks of flushed journal files still running. */
  readonly #removals = new Set<Promise<unknown>>();
  /** The journal number each live memtable was given (memtables made without a journal have none). */
  readonly #memtables = new Map<number, number>();

  private constructor(fs: Fs, dir: string, options: JournalWriterOptions | undefined, floor: number, nextNumber: number) {
    this.#fs = fs;
    this.dir = dir;
    this.#options = options;
    this.#floor = floor;
    this.#nextNumber = nextNumber;
  }

  /**
   * Opens the journal directory of the tree at `treePath`: deletes the files below `floor` (flushed),
   * replays the others in order into `first` (the tree's first memtable), and, when `options` is
   * given, starts a new journal file for the writes to come. A torn tail of a file is cut at its last
   * whole record (it is never replayed). A tree opened without a journal still replays what an earlier
   * open journaled: those writes stay in their files until their memtable is flushed.
   */
  static open(fs: Fs, treePath: string, floor: number, options: JournalWriterOptions | undefined, first: Memtable, readOnly = false): { journal: JournalSet; replay: JournalReplay } {
    const dir = joinPath(treePath, JOURNAL_DIR_NAME);
    const numbers: number[] = [];
    if (fs.exists(dir)) {
      for (const entry of fs.readDir(dir)) {
        const number = parseJournalName(entry.fileName);
        if (entry.isDir || number === undefined) continue;
        if (number >= floor) numbers.push(number);
        else if (!readOnly) removeQuietly(fs, joinPath(dir, entry.fileName));
      }
    } else if (options !== undefined) {
      fs.createDirAll(dir);
      syncDirectoryQuietly(fs, dirname(dir));
    }
    numbers.sort((a, b) => a - b);
    let groups = 0;
    let maxSeqno: number | undefined;
    // The chain: each file may be replayed only if the one before it came back whole.
    const replayed: number[] = [];
    let previous: { number: number; bytes: number } | undefined;
    for (const number of numbers) {
      const path = joinPath(dir, String(number));
      const expected = journalPreviousLength(fs, path, number);
      const before = previous !== undefined && previous.number === number - 1 ? previous.bytes : number - 1 < floor ? Number.POSITIVE_INFINITY : 0;
      if (expected > before) break;
      const result = replayJournal(fs, path, number, (group) => {
        const seqno = group.seqno;
        group.forEachOp((tag, key, value) => {
          // The memtable copies what it keeps: the views are the reader's, reused for the next group.
          if (tag === RANGE_TAG) first.insertRangeTombstone(key, value, seqno);
          else first.insert(key, seqno, tag as ValueKind, value);
        });
      });
      groups += result.groups;
      if (result.maxSeqno !== undefined) maxSeqno = Math.max(maxSeqno ?? 0, result.maxSeqno);
      replayed.push(number);
      previous = { number, bytes: result.bytesReplayed };
    }
    // Files past a break in the chain hold only writes made after lost ones (never persisted ones):
    // not replayed, and gone before a new file could follow them.
    if (!readOnly) for (const number of numbers.slice(replayed.length)) removeQuietly(fs, joinPath(dir, String(number)));
    const last = numbers.at(-1);
    const journal = new JournalSet(fs, dir, options, floor, Math.max(floor, last === undefined ? 0 : last + 1));
    for (const number of replayed) journal.#files.set(number, undefined);
    // The first memtable covers the replayed files and the one its new writes go to.
    const firstNumber = replayed[0] ?? (options === undefined ? undefined : journal.#nextNumber);
    if (options !== undefined) {
      // The new file follows the last replayed one only when it is numbered right after it.
      const follows = previous !== undefined && previous.number === journal.#nextNumber - 1 ? previous.bytes : 0;
      journal.#startWriter(follows, undefined);
    }
    if (firstNumber !== undefined) journal.#memtables.set(first.id, firstNumber);
    return { journal, replay: { groups, maxSeqno } };
  }

  /** The writer the tree appends its writes to, or undefined when it does not journal them. */
  get writer(): JournalWriter | undefined {
    return this.#writer;
  }

  /** A new memtable: with a journal, its writes go to a new file (the old one is written out and synced in the background). */
  onNewMemtable(memtable: Memtable): void {
    if (this.#writer === undefined) return;
    const old = this.#writer;
    const closing = old.close();
    // Observed by persist() and at deletion; never an unhandled rejection.
    closing.catch(() => undefined);
    this.#files.set(old.number, closing);
    // Everything appended to the old file is in its buffer or written: its final length.
    this.#startWriter(old.appendedBytes, closing);
    this.#memtables.set(memtable.id, (this.#writer as JournalWriter).number);
  }

  /**
   * The floor a version may record once only `live` memtables remain: the smallest journal number of
   * those that have one, else every file so far. Never below the floor recorded before.
   */
  floorFor(live: readonly Memtable[]): number {
    let floor: number | undefined;
    for (const memtable of live) {
      const number = this.#memtables.get(memtable.id);
      if (number !== undefined && (floor === undefined || number < floor)) floor = number;
    }
    return Math.max(this.#floor, floor ?? this.#nextNumber);
  }

  /** After a version recording `floor` became durable: the files below it, and their memtables' entries, go. */
  dropBelow(floor: number, live: readonly Memtable[]): void {
    if (floor > this.#floor) this.#floor = floor;
    for (const number of [...this.#files.keys()]) {
      if (number >= this.#floor) continue;
      this.#files.delete(number);
      // An open writer (a file still closing) is fine to unlink: its handle keeps the inode until closed.
      // Off the event loop where the filesystem can (a 64 MiB unlink is not free); a failure leaves an
      // orphan the next open removes (it lies below the floor).
      const path = joinPath(this.dir, String(number));
      if (this.#fs.removeFileAsync === undefined) removeQuietly(this.#fs, path);
      else {
        const removal = this.#fs.removeFileAsync(path).catch(() => undefined);
        this.#removals.add(removal);
        void removal.then(() => this.#removals.delete(removal));
      }
    }
    const ids = new Set(live.map((m) => m.id));
    for (const id of [...this.#memtables.keys()]) if (!ids.has(id)) this.#memtables.delete(id);
  }

  /** Resolves when the removals of flushed journal files started so far are done. */
  async idle(): Promise<void> {
    while (this.#removals.size > 0) await Promise.all([...this.#removals]);
  }

  /**
   * Resolves when every write appended before the call is durable (written and, with sync `"group"`,
   * fsynced): the current file's group commit, and the final syncs of rotated files not yet flushed.
   */
  persist(): Promise<void> {
    let waits: Promise<void>[] | undefined;
    for (const closing of this.#files.values()) if (closing !== undefined) (waits ??= []).push(closing);
    const current = this.#writer?.persist();
    // Usually no rotated file is still closing: every caller of a round then shares the round's promise.
    if (waits === undefined) return current ?? Promise.resolve();
    if (current !== undefined) waits.push(current);
    return Promise.all(waits).then(() => undefined);
  }

  /**
   * Closes the current file: written out and synced (`discard` or not: the journal is what keeps a
   * discarded memtable's writes), and waits for rotated files to close. `flushed`: every memtable was
   * flushed, so an empty current file (no write since the flush) is removed rather than left for every
   * later open to skip.
   */
  async close(flushed: boolean): Promise<void> {
    const writer = this.#writer;
    this.#writer = undefined;
    const closes: Promise<void>[] = [];
    for (const closing of this.#files.values()) if (closing !== undefined) closes.push(closing);
    if (writer !== undefined) closes.push(writer.close());
    const outcomes = await Promise.allSettled(closes);
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
    if (failed !== undefined) throw failed.reason;
    if (flushed && writer !== undefined && writer.appendedBytes === JOURNAL_HEADER_BYTES) {
      // No successor can name it (it is the newest file), and it holds no write: safe to go, synced or not.
      this.#files.delete(writer.number);
      removeQuietly(this.#fs, writer.path);
    }
  }

  /** Closes the current file without writing what it buffered (a tree whose close failed before). */
  abandon(): void {
    this.#writer?.abandon();
    this.#writer = undefined;
  }

  #startWriter(previousLength: number, after: Promise<unknown> | undefined): void {
    const number = this.#nextNumber++;
    this.#writer = JournalWriter.create(this.#fs, joinPath(this.dir, String(number)), number, {
      ...this.#options,
      previousLength,
      ...(after === undefined ? {} : { after }),
    });
    this.#files.set(number, undefined);
  }
}

/** Journal files are named by their decimal number, nothing else. */
function parseJournalName(name: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(name)) return undefined;
  const number = Number(name);
  return Number.isSafeInteger(number) ? number : undefined;
}

function syncDirectoryQuietly(fs: Fs, dir: string): void {
  try {
    fs.syncDirectory(dir);
  } catch (error) {
    if (!hasCode(error, "EACCES") && !hasCode(error, "EPERM")) throw error;
  }
}
