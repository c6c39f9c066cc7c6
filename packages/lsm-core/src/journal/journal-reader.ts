/**
 * Replays a journal file (format in journal-format.ts): the write groups it holds, in file order, up
 * to the first record that a crash cut short or left damaged.
 *
 * The file is read in chunks of 1 MiB (more only for a bigger record), so replaying a long journal
 * holds one chunk, not the file. A group is checked whole (CRC, then structure) before the visitor
 * sees any of it, which is what makes a group all-or-nothing.
 *
 * @module
 */
import type { Fs, FsFile } from "@talus/fs";
import { checksum } from "../coding/checksum.ts";
import { corruption } from "../errors.ts";
import {
  checkJournalHeader,
  isZeroHeader,
  JOURNAL_HEADER_BYTES,
  type JournalOpTag,
  MIN_PAYLOAD_BYTES,
  PayloadReader,
  RECORD_HEADER_BYTES,
} from "./journal-format.ts";

const READ_CHUNK_BYTES = 1024 * 1024;

/** Receives one op of a group: views of the key and value, valid only during the call. */
export type JournalOpVisitor = (tag: JournalOpTag, key: Uint8Array, value: Uint8Array) => void;

/**
 * One write group as replay hands it to the visitor. The object and the views it gives out are reused
 * for the next group: read them during the visit, and copy what must outlive it.
 */
export interface JournalGroup {
  /** The seqno every op of the group was written at. */
  readonly seqno: number;
  /** How many ops {@link forEachOp} will call back with (0 for an empty group). */
  readonly opCount: number;
  /**
   * Calls `fn` for each op in the order they were appended (for `appendGroup`: the points, then the
   * ranges). A point's tag is its `ValueKind` (value, tombstone, weak tombstone, merge operand) with an
   * empty value for deletions; a range tombstone's tag is `RANGE_TAG`, its key the start and its value
   * the (exclusive) end. May be called more than once during the visit; throws after it.
   */
  forEachOp(fn: JournalOpVisitor): void;
}

/** What {@link replayJournal} found. `bytesReplayed + tornBytes` is the file's size. */
export interface ReplayResult {
  /** Groups handed to the visitor. */
  readonly groups: number;
  /** The size of the whole, checked part of the file: header and records (0 for a file shorter than the header). */
  readonly bytesReplayed: number;
  /** Bytes after it: a torn or damaged tail left by a crash, dropped. */
  readonly tornBytes: number;
  /** The highest seqno of a replayed group; undefined when there is none. */
  readonly maxSeqno: number | undefined;
  /**
   * The length the header says the journal before this one had when this one was started (0: it
   * follows none, or the file is empty or has a zero header). A replay of a chain stops before this
   * file when the previous one replayed fewer bytes.
   */
  readonly previousLength: number;
}

/**
 * Reads the journal `path`, which must be journal number `expectedNumber`, and calls `visit` for every
 * whole group in file order. Replay stops at the first record that is cut short or fails its CRC (what
 * a crash leaves after the last persisted record) and reports the rest as `tornBytes`; the file is not
 * changed.
 *
 * A file shorter than the 25-byte header (0 bytes included: a crash right after the file was created),
 * or whose header is all zeros (its first write never reached the disk), is an empty journal. Otherwise a header with another magic, a CRC mismatch or another journal number
 * is `LsmError("CORRUPTION")` naming the file, as is a record whose CRC matches but whose contents do
 * not parse; an intact header of another format version is `LsmError("UNSUPPORTED_FORMAT")`. A missing
 * file is the filesystem's `ENOENT`. An error thrown by `visit` stops the replay and is rethrown as is.
 *
 * @example
 * ```ts
 * import { RANGE_TAG, replayJournal } from "@talus/lsm-core";
 *
 * const writes: { seqno: number; range: boolean; key: Uint8Array; value: Uint8Array }[] = [];
 * const result = replayJournal(fs, "/db/journal/7", 7, (group) => {
 *   // The views die with the visit: keep copies.
 *   group.forEachOp((tag, key, value) => writes.push({ seqno: group.seqno, range: tag === RANGE_TAG, key: key.slice(), value: value.slice() }));
 * });
 * if (result.tornBytes > 0) console.log(`dropped a torn tail of ${result.tornBytes} bytes`);
 * ```
 */
export function replayJournal(fs: Fs, path: string, expectedNumber: number, visit: (group: JournalGroup) => void): ReplayResult {
  const file = fs.open(path, { read: true });
  try {
    return replayOpenFile(file, path, expectedNumber, visit);
  } finally {
    file.close();
  }
}

function replayOpenFile(file: FsFile, path: string, expectedNumber: number, visit: (group: JournalGroup) => void): ReplayResult {
  const size = file.len();
  const empty = { groups: 0, bytesReplayed: 0, tornBytes: size, maxSeqno: undefined, previousLength: 0 };
  if (size < JOURNAL_HEADER_BYTES) return empty;
  const source = new ChunkedSource(file, size);
  const headerAt = source.window(0, JOURNAL_HEADER_BYTES);
  // Fewer bytes than len() said: the file shrank while being opened, leaving less than a header.
  if (headerAt < 0) return empty;
  const headerBytes = source.buffer.subarray(headerAt, headerAt + JOURNAL_HEADER_BYTES);
  // The file grew but its first write never landed: nothing in it can be trusted to be whole or in order.
  if (isZeroHeader(headerBytes)) return empty;
  const previousLength = checkJournalHeader(headerBytes, path, expectedNumber);

  const reader = new PayloadReader();
  const group = new ReplayGroup(reader);
  let groups = 0;
  let maxSeqno: number | undefined;
  let offset = JOURNAL_HEADER_BYTES;
  while (size - offset >= RECORD_HEADER_BYTES) {
    let at = source.window(offset, RECORD_HEADER_BYTES);
    if (at < 0) break;
    const length = getU32(source.buffer, at);
    const storedCrc = getU32(source.buffer, at + 4);
    // A length past the end is a torn record (or garbage): never allocate for it.
    if (length < MIN_PAYLOAD_BYTES || length > size - offset - RECORD_HEADER_BYTES) break;
    at = source.window(offset, RECORD_HEADER_BYTES + length);
    if (at < 0) break;
    const buffer = source.buffer;
    const payloadStart = at + RECORD_HEADER_BYTES;
    const payloadEnd = payloadStart + length;
    if (checksum(buffer.subarray(payloadStart, payloadEnd)) !== storedCrc) break;
    reader.reset(buffer, payloadStart, payloadEnd);
    const problem = reader.check();
    if (problem !== undefined) throw corruption(path, `journal record at offset ${offset}: ${problem}`);
    group.begin();
    try {
      visit(group);
    } finally {
      group.end();
    }
    groups++;
    if (maxSeqno === undefined || reader.seqno > maxSeqno) maxSeqno = reader.seqno;
    offset += RECORD_HEADER_BYTES + length;
  }
  return { groups, bytesReplayed: offset, tornBytes: size - offset, maxSeqno, previousLength };
}

/**
 * The previous length the header of journal `path` (number `expectedNumber`) records, read before its
 * records are replayed so a chain can stop in front of the file; 0 for a file whose header is missing,
 * short or all zeros (an empty journal). Damage and other formats throw as {@link replayJournal} does.
 */
export function journalPreviousLength(fs: Fs, path: string, expectedNumber: number): number {
  const file = fs.open(path, { read: true });
  try {
    const header = new Uint8Array(JOURNAL_HEADER_BYTES);
    if (file.readAt(header, 0) < JOURNAL_HEADER_BYTES || isZeroHeader(header)) return 0;
    return checkJournalHeader(header, path, expectedNumber);
  } finally {
    file.close();
  }
}

/** The group handed to visitors: one per replay, pointed at each checked payload in turn. */
class ReplayGroup implements JournalGroup {
  readonly #reader: PayloadReader;
  #live = false;

  constructor(reader: PayloadReader) {
    this.#reader = reader;
  }

  get seqno(): number {
    return this.#reader.seqno;
  }

  get opCount(): number {
    return this.#reader.opCount;
  }

  begin(): void {
    this.#live = true;
  }

  end(): void {
    this.#live = false;
  }

  forEachOp(fn: JournalOpVisitor): void {
    // After the visit the views would show the next group's bytes: refuse rather than lie.
    if (!this.#live) throw new Error("a journal group's ops can only be read while it is being visited");
    const reader = this.#reader;
    const bytes = reader.bytes;
    reader.pos = reader.opsStart;
    for (let op = 0; op < reader.opCount; op++) {
      const tag = bytes[reader.pos++] as JournalOpTag;
      const keyLength = reader.varint();
      const keyStart = reader.pos;
      reader.pos += keyLength;
      const valueLength = reader.varint();
      const valueStart = reader.pos;
      const next = valueStart + valueLength;
      fn(tag, bytes.subarray(keyStart, keyStart + keyLength), bytes.subarray(valueStart, valueStart + valueLength));
      // The visitor may have walked the group again from inside the callback.
      reader.pos = next;
    }
  }
}

/** A window onto the file that moves forward: holds the bytes `[start, start + filled)`. */
class ChunkedSource {
  buffer: Uint8Array;
  readonly #file: FsFile;
  readonly #size: number;
  #start = 0;
  #filled = 0;

  constructor(file: FsFile, size: number) {
    this.#file = file;
    this.#size = size;
    this.buffer = new Uint8Array(Math.min(size, READ_CHUNK_BYTES));
  }

  /**
   * Makes the file bytes `[offset, offset + length)` readable in {@link buffer} and returns where they
   * start there, or -1 when the file ends before them. Invalidates earlier positions when it reads.
   */
  window(offset: number, length: number): number {
    if (offset >= this.#start && offset + length <= this.#start + this.#filled) return offset - this.#start;
    if (offset + length > this.#size) return -1;
    if (length > this.buffer.length) this.buffer = new Uint8Array(Math.max(length, READ_CHUNK_BYTES));
    const want = Math.min(this.buffer.length, this.#size - offset);
    this.#start = offset;
    this.#filled = this.#file.readAt(want === this.buffer.length ? this.buffer : this.buffer.subarray(0, want), offset);
    return length <= this.#filled ? 0 : -1;
  }
}

function getU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] as number) | ((bytes[at + 1] as number) << 8) | ((bytes[at + 2] as number) << 16) | ((bytes[at + 3] as number) << 24)) >>> 0;
}
