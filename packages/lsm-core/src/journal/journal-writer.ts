/**
 * Appends write groups to one journal file (format in journal-format.ts) and makes them durable by
 * group commit.
 *
 * Appends are synchronous and only encode into one reusable buffer; the buffer reaches the file in
 * one `FsFile.write` when it passes 64 KiB, on `writeOut()`, and on `persist()`, the only durability
 * point, whose syncs are shared between concurrent callers (group-commit.ts).
 *
 * @module
 */
import { dirname } from "node:path";
import type { Fs, FsFile } from "@talus/fs";
import { checksum } from "../coding/checksum.ts";
import { LsmError } from "../errors.ts";
import { syncDirectory, syncFile } from "../io/async-sync.ts";
import type { ValueKind } from "../key/value-kind.ts";
import { GroupCommit } from "./group-commit.ts";
import {
  checkJournalNumber,
  encodeJournalHeader,
  isJournalOpTag,
  MAX_PAYLOAD_BYTES,
  putVarint,
  RANGE_TAG,
  RECORD_HEADER_BYTES,
} from "./journal-format.ts";

/** Buffered bytes past which an append writes the buffer out. */
export const JOURNAL_WRITE_OUT_BYTES = 64 * 1024;
// Room for a nearly full buffer plus one more record of up to 64 KiB, so only bigger records grow it.
const INITIAL_CAPACITY = 2 * JOURNAL_WRITE_OUT_BYTES;
// A buffer grown for one huge batch is dropped once written, so the journal does not pin its size.
const MAX_KEPT_CAPACITY = 1024 * 1024;
/** Most bytes a varint of a seqno (< 2^53) takes. */
const MAX_SEQNO_VARINT = 8;
/** Most bytes a varint of a length or count (< 2^32) takes. */
const MAX_LENGTH_VARINT = 5;
/** Most bytes of an op besides its key and value: the tag and two length varints. */
const MAX_OP_OVERHEAD = 1 + 2 * MAX_LENGTH_VARINT;
/** Copies below this many bytes go through a byte loop: TypedArray#set costs more than the loop for them. */
const SMALL_COPY_BYTES = 16;

/** How a {@link JournalWriter} makes appends durable. */
export interface JournalWriterOptions {
  /**
   * `"full"` (default): `persist()` writes out and fsyncs, so persisted groups survive a power cut.
   * `"none"`: `persist()` only writes out: persisted groups survive the process dying, not the machine.
   */
  readonly sync?: "full" | "none";
  /**
   * The length of the journal before this one (numbered one less) once everything appended to it is
   * written, recorded in this file's header so that a replay never applies this file's writes after a
   * loss in that one (see journal-format.ts). Default 0: this journal follows none.
   */
  readonly previousLength?: number;
  /**
   * Settles once the journal before this one is durable (its final sync): this file's syncs wait for it,
   * so a write here is never durable while an older one may still be lost; if it rejects, this writer
   * fails with its error. Default: none to wait for.
   */
  readonly after?: Promise<unknown>;
}

/** A point write of a group. The shape of a write batch's planned points, so a plan is passed as is. */
export interface JournalPoint {
  /** Value, Tombstone, WeakTombstone or MergeOperand; an Indirection is refused. */
  readonly kind: ValueKind;
  /** The key written. */
  readonly key: Uint8Array;
  /** Empty for deletions. */
  readonly value: Uint8Array;
}

/** A range tombstone of a group: deletes the keys `start <= k < end` written below the group's seqno. */
export interface JournalRange {
  /** First key deleted (inclusive). */
  readonly start: Uint8Array;
  /** End of the deleted range (exclusive). */
  readonly end: Uint8Array;
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * The writer of one journal file. Not thread-safe; one writer per file, and a file is never reopened
 * for appending (a new journal gets a new number).
 *
 * Failure is final: when a write or a sync fails, every waiting `persist()` rejects with the
 * filesystem's error, and every later append, `writeOut()` and `persist()` throws or rejects with
 * it. After a failed fsync the kernel may have dropped the dirty pages, so no later sync could prove
 * anything; the owner must stop taking writes or move to a new journal.
 *
 * @example
 * ```ts
 * import { MemFs } from "@talus/fs";
 * import { JournalWriter, ValueKind } from "@talus/lsm-core";
 *
 * const fs = new MemFs();
 * fs.createDirAll("/db/journal");
 * const journal = JournalWriter.create(fs, "/db/journal/7", 7);
 * const utf8 = new TextEncoder();
 * journal.appendPoint(1, ValueKind.Value, utf8.encode("user:1"), utf8.encode("ada"));
 * journal.appendGroup(2, [{ kind: ValueKind.Tombstone, key: utf8.encode("user:1"), value: new Uint8Array(0) }], [
 *   { start: utf8.encode("tmp:"), end: utf8.encode("tmp;") },
 * ]);
 * await journal.persist(); // both groups are on disk, and so is the file's name
 * await journal.close();
 * ```
 */
export class JournalWriter {
  /** The file's path. */
  readonly path: string;
  /** The journal number its header carries. */
  readonly number: number;
  readonly #fs: Fs;
  readonly #file: FsFile;
  readonly #syncs: boolean;
  #buffer = new Uint8Array(INITIAL_CAPACITY);
  /** Bytes in `#buffer` not yet written to the file. */
  #buffered = 0;
  #appended: number;
  #written = 0;
  /** Written bytes a resolved `persist()` covers when persist does not sync. */
  #persistedUnsynced = 0;
  /** A new file's name is durable only once its directory is synced: the first sync does it too. */
  #directorySynced = false;
  #failure: unknown;
  #state: "open" | "closing" | "closed" = "open";
  #closing: Promise<void> | undefined;
  /** The previous journal's final sync, which this file's first sync waits for. */
  #after: Promise<unknown> | undefined;
  readonly #commit: GroupCommit;

  private constructor(fs: Fs, file: FsFile, path: string, number: number, options: JournalWriterOptions) {
    this.#fs = fs;
    this.#file = file;
    this.path = path;
    this.number = number;
    this.#syncs = (options.sync ?? "full") === "full";
    // The header travels with the first records: a crash before then leaves an empty file, which
    // replays as an empty journal.
    const header = encodeJournalHeader(number, options.previousLength ?? 0);
    this.#after = options.after;
    this.#buffer.set(header, 0);
    this.#buffered = header.length;
    this.#appended = header.length;
    this.#commit = new GroupCommit({
      writeOut: () => {
        // Throws the writer's failure, or CLOSED after an abandon, as well as a new write error.
        this.writeOut();
        return this.#written;
      },
      sync: () => this.#sync(),
      syncFailed: (error) => this.#fail(error),
    });
  }

  /**
   * Creates the journal file `path` (exclusively: `EEXIST` if anything is there) for journal
   * `number`. Nothing is synced, not even the directory, until the first {@link persist}.
   */
  static create(fs: Fs, path: string, number: number, options: JournalWriterOptions = {}): JournalWriter {
    checkJournalNumber(number);
    const mode = options.sync ?? "full";
    if (mode !== "full" && mode !== "none") throw new RangeError(`journal sync mode is "full" or "none", got ${String(mode)}`);
    const file = fs.open(path, { write: true, createNew: true });
    return new JournalWriter(fs, file, path, number, options);
  }

  /** The file's size once everything appended so far is written: header and records. */
  get appendedBytes(): number {
    return this.#appended;
  }

  /** Bytes handed to the file so far (durable or not). */
  get writtenBytes(): number {
    return this.#written;
  }

  /** Bytes covered by a resolved {@link persist}: fsynced, or with sync `"none"` written. */
  get persistedBytes(): number {
    return this.#syncs ? this.#commit.durable : this.#persistedUnsynced;
  }

  /** The error that failed the writer, or `undefined` while it works. */
  get failure(): unknown {
    return this.#failure;
  }

  /**
   * Appends a group of one point write at `seqno`. Throws `RangeError` for a seqno that is not a safe
   * non-negative integer or a kind a journal does not hold; the error that failed the writer if it has
   * failed; `LsmError("CLOSED")` once closing.
   */
  appendPoint(seqno: number, kind: ValueKind, key: Uint8Array, value: Uint8Array): void {
    this.#checkAppend(seqno);
    checkPointKind(kind);
    const keyLength = key.length;
    const valueLength = value.length;
    const start = this.#reserve(RECORD_HEADER_BYTES + MAX_SEQNO_VARINT + 1 + MAX_OP_OVERHEAD + keyLength + valueLength);
    const buffer = this.#buffer;
    let pos = putVarint(buffer, start + RECORD_HEADER_BYTES, seqno);
    buffer[pos++] = 1;
    pos = putOp(buffer, pos, kind, key, value);
    this.#finishRecord(start, pos);
  }

  /** Appends a group of one range tombstone `[start, end)` at `seqno`; throws as {@link appendPoint}. */
  appendRange(seqno: number, start: Uint8Array, end: Uint8Array): void {
    this.#checkAppend(seqno);
    const at = this.#reserve(RECORD_HEADER_BYTES + MAX_SEQNO_VARINT + 1 + MAX_OP_OVERHEAD + start.length + end.length);
    const buffer = this.#buffer;
    let pos = putVarint(buffer, at + RECORD_HEADER_BYTES, seqno);
    buffer[pos++] = 1;
    pos = putOp(buffer, pos, RANGE_TAG, start, end);
    this.#finishRecord(at, pos);
  }

  /**
   * Appends one group at `seqno`: the points in order, then the ranges. Replay returns it whole or not
   * at all, which is what makes a write batch atomic across a crash. Throws as {@link appendPoint},
   * before anything is appended.
   */
  appendGroup(seqno: number, points: readonly JournalPoint[], ranges: readonly JournalRange[]): void {
    this.#checkAppend(seqno);
    let size = RECORD_HEADER_BYTES + MAX_SEQNO_VARINT + MAX_LENGTH_VARINT;
    for (let i = 0; i < points.length; i++) {
      const point = points[i] as JournalPoint;
      checkPointKind(point.kind);
      size += MAX_OP_OVERHEAD + point.key.length + point.value.length;
    }
    for (let i = 0; i < ranges.length; i++) {
      const range = ranges[i] as JournalRange;
      size += MAX_OP_OVERHEAD + range.start.length + range.end.length;
    }
    const start = this.#reserve(size);
    const buffer = this.#buffer;
    let pos = putVarint(buffer, start + RECORD_HEADER_BYTES, seqno);
    pos = putVarint(buffer, pos, points.length + ranges.length);
    for (let i = 0; i < points.length; i++) {
      const point = points[i] as JournalPoint;
      pos = putOp(buffer, pos, point.kind, point.key, point.value);
    }
    for (let i = 0; i < ranges.length; i++) {
      const range = ranges[i] as JournalRange;
      pos = putOp(buffer, pos, RANGE_TAG, range.start, range.end);
    }
    this.#finishRecord(start, pos);
  }

  /**
   * Writes the buffered records to the file, without syncing: they survive the process dying, not a
   * power cut. A write error fails the writer and is thrown.
   */
  writeOut(): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#state === "closed") throw closedError(this.path);
    if (this.#buffered === 0) return;
    try {
      this.#file.write(this.#buffer.subarray(0, this.#buffered));
    } catch (error) {
      this.#fail(error);
      throw error;
    }
    this.#written += this.#buffered;
    this.#buffered = 0;
    if (this.#buffer.length > MAX_KEPT_CAPACITY) this.#buffer = new Uint8Array(INITIAL_CAPACITY);
  }

  /**
   * Group commit: resolves once every record appended before the call is written and fsynced (and, the
   * first time, the file's directory too, so the file's name survives a power cut). With sync `"none"`
   * it writes out and resolves. Calls made while a sync is in flight share the one sync after it, and
   * calls made in one synchronous run share one sync (it starts in a microtask). Rejects with the
   * filesystem's error when a write or sync fails, with the writer's failure once it has failed, and
   * with `LsmError("CLOSED")` after close.
   */
  persist(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#state === "closed") return Promise.reject(closedError(this.path));
    if (!this.#syncs) {
      try {
        this.writeOut();
      } catch (error) {
        return Promise.reject(error);
      }
      this.#persistedUnsynced = this.#written;
      return RESOLVED;
    }
    return this.#commit.commit(this.#appended);
  }

  /**
   * Writes out, syncs (unless sync `"none"`) and closes the file. Rejects, after closing the handle,
   * with the writer's failure or the one the last sync hit. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    if (this.#state === "closed") return RESOLVED;
    this.#state = "closing";
    this.#closing = this.#finishAndClose();
    return this.#closing;
  }

  /**
   * Closes the file without writing what is buffered: what a crash would leave, for tests and for an
   * owner that discards the journal anyway. Waiting `persist()` calls that no sync in flight covers
   * reject with `LsmError("CLOSED")`. Never throws: a handle that cannot even be closed (a volume
   * whose power was cut) has nothing left to lose.
   */
  abandon(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#buffered = 0;
    this.#commit.rejectWaiting(closedError(this.path));
    try {
      this.#file.close();
    } catch {
      // Nothing to do: see above.
    }
  }

  async #finishAndClose(): Promise<void> {
    let failure: unknown;
    try {
      await this.persist();
    } catch (error) {
      failure = error;
    }
    this.#state = "closed";
    try {
      this.#file.close();
    } catch (error) {
      failure ??= error;
    }
    if (failure !== undefined) throw failure;
  }

  async #sync(): Promise<void> {
    const after = this.#after;
    if (after !== undefined) {
      // A write of this file durable while an older one, in the previous file, is not: never.
      await after;
      this.#after = undefined;
    }
    await syncFile(this.#file);
    if (!this.#directorySynced) {
      await syncDirectory(this.#fs, dirname(this.path));
      this.#directorySynced = true;
    }
  }

  #fail(error: unknown): void {
    this.#failure ??= error;
    this.#commit.rejectWaiting(error);
  }

  #checkAppend(seqno: number): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#state !== "open") throw closedError(this.path);
    if (!Number.isSafeInteger(seqno) || seqno < 0) throw new RangeError(`a journal seqno is a safe non-negative integer, got ${seqno}`);
  }

  /** Makes room for a record of at most `bytes` bytes and returns where it starts. */
  #reserve(bytes: number): number {
    if (bytes - RECORD_HEADER_BYTES > MAX_PAYLOAD_BYTES) {
      throw new RangeError(`a journal group holds at most ${MAX_PAYLOAD_BYTES} bytes, got ${bytes}`);
    }
    const needed = this.#buffered + bytes;
    if (needed > this.#buffer.length) {
      let capacity = this.#buffer.length * 2;
      while (capacity < needed) capacity *= 2;
      const next = new Uint8Array(capacity);
      next.set(this.#buffer.subarray(0, this.#buffered));
      this.#buffer = next;
    }
    return this.#buffered;
  }

  /** Fills in the length and CRC of the record whose payload is `[start + 8, end)` and commits it. */
  #finishRecord(start: number, end: number): void {
    const buffer = this.#buffer;
    const payloadStart = start + RECORD_HEADER_BYTES;
    putU32(buffer, start, end - payloadStart);
    putU32(buffer, start + 4, checksum(buffer.subarray(payloadStart, end)));
    this.#buffered = end;
    this.#appended += end - start;
    if (end >= JOURNAL_WRITE_OUT_BYTES) this.writeOut();
  }
}

function putOp(buffer: Uint8Array, at: number, tag: number, key: Uint8Array, value: Uint8Array): number {
  buffer[at] = tag;
  let pos = putBytes(buffer, at + 1, key);
  pos = putBytes(buffer, pos, value);
  return pos;
}

/** A varint length, then the bytes. */
function putBytes(buffer: Uint8Array, at: number, bytes: Uint8Array): number {
  const length = bytes.length;
  const pos = putVarint(buffer, at, length);
  if (length < SMALL_COPY_BYTES) {
    for (let i = 0; i < length; i++) buffer[pos + i] = bytes[i] as number;
  } else {
    buffer.set(bytes, pos);
  }
  return pos + length;
}

function putU32(buffer: Uint8Array, at: number, value: number): void {
  buffer[at] = value & 0xff;
  buffer[at + 1] = (value >>> 8) & 0xff;
  buffer[at + 2] = (value >>> 16) & 0xff;
  buffer[at + 3] = value >>> 24;
}

function checkPointKind(kind: number): void {
  // Indirections are made when tables are written (flush, compaction), long after the journal saw the value.
  if (kind === RANGE_TAG || !isJournalOpTag(kind)) {
    throw new RangeError(`a journal point is a Value, Tombstone, WeakTombstone or MergeOperand, got kind ${kind}`);
  }
}

function closedError(path: string): LsmError {
  return new LsmError("CLOSED", `journal ${path} is closed`);
}
