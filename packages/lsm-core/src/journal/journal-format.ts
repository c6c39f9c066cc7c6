/**
 * The journal file: a write-ahead log of the writes a tree has taken since its last flush, so that a
 * crash loses only what was never persisted. Talus' own format (docs/FORMAT.md, "Journal files", has
 * the byte-by-byte description). All integers little-endian.
 *
 * ```
 *  file     := header (25 B) | record*
 *
 *  header:
 *  offset  size  field
 *  0       4     magic "TLJN" (54 4C 4A 4E)
 *  4       1     format version = 2
 *  5       8     journal number (u64, < 2^53): the number in the file's name
 *  13      8     previous length (u64): the length journal `number - 1` has once everything appended
 *                to it before this file was started is written; 0 when this file follows no journal
 *  21      4     CRC-32 of bytes [0, 21)
 *
 *  record   := payload length L (u32, >= 2) | CRC-32 of payload (u32) | payload (L bytes)
 *  payload  := seqno (varint, < 2^53) | op count (varint) | op*         one write group, all at seqno
 *  op       := tag (u8) | key length (varint) | key | value length (varint) | value
 *  tag      := 0 value | 1 tombstone | 2 weak tombstone | 3 merge operand      (the ValueKind numbers)
 *            | 0x80 range tombstone: the key is its start, the value its end (exclusive)
 * ```
 *
 * A record is the unit of atomicity: a single write is a group of one op, a write batch one group, so
 * replay applies a batch whole or not at all. The file is only ever appended to, and a crash can leave
 * any prefix of the unsynced appends (or garbage past them): a reader keeps the records up to the
 * first one that is cut short or fails its CRC and drops the rest as a torn tail. A payload is never
 * empty (its two varints take 2 bytes), so zeros where records should be (a file extended but never
 * written) read as a torn tail, not as empty records.
 *
 * The previous length chains a tree's journal files: the writes of journal `n + 1` all came after those
 * of journal `n`, but the operating system may write a newer file's pages out before an older file's
 * when neither was synced. A replay that finds journal `n` shorter than journal `n + 1` says stops at
 * `n`: the later files hold only writes made after ones that were lost, so replaying them would apply
 * writes out of order. (Persisted writes are never behind such a gap: a file is synced only after the
 * one before it was.) A header of zeros (the file's first write never reached the disk) reads as an
 * empty journal, which the chain then ends at if a later file had expected more.
 *
 * Compatibility rule, as in every Talus file: magic, then the header CRC, then the format byte, so a
 * flipped format byte reads as damage (`CORRUPTION`) and only an intact header from another build as
 * `UNSUPPORTED_FORMAT`. Anything an old reader would misread (a new tag, a new field) bumps the format.
 *
 * @module
 */
import { checksum } from "../coding/checksum.ts";
import { corruption, LsmError } from "../errors.ts";
import { ValueKind } from "../key/value-kind.ts";

/** "TLJN": Talus journal. */
export const JOURNAL_MAGIC: Uint8Array = Uint8Array.of(0x54, 0x4c, 0x4a, 0x4e);
/** The journal format this build writes and reads. */
export const JOURNAL_FORMAT = 2;
/** Bytes of the file header. */
export const JOURNAL_HEADER_BYTES = 25;
/** Bytes in front of every payload: its length and its CRC. */
export const RECORD_HEADER_BYTES = 8;
/** The smallest payload: a one-byte seqno and a one-byte op count. */
export const MIN_PAYLOAD_BYTES = 2;
/** The largest payload a record's u32 length can say. */
export const MAX_PAYLOAD_BYTES = 0xffff_ffff;
/** The op tag of a range tombstone; point ops use their ValueKind number. */
export const RANGE_TAG = 0x80;

/**
 * What an op of a journal group is: a point write of one of the kinds a journal holds (`Indirection`
 * never appears: a value goes to the journal before any value log sees it), or {@link RANGE_TAG}.
 */
export type JournalOpTag =
  | typeof ValueKind.Value
  | typeof ValueKind.Tombstone
  | typeof ValueKind.WeakTombstone
  | typeof ValueKind.MergeOperand
  | typeof RANGE_TAG;

/** Whether `tag` may start an op; decoders ask it of every tag byte. */
export function isJournalOpTag(tag: number): tag is JournalOpTag {
  return (tag >= ValueKind.Value && tag <= ValueKind.MergeOperand) || tag === RANGE_TAG;
}

const NUMBER_OFFSET = 5;
const PREVIOUS_LENGTH_OFFSET = 13;
const HEADER_CRC_OFFSET = 21;

/**
 * The header bytes of journal `number`, which follows a journal of `previousLength` bytes (0: none).
 * Throws `RangeError` unless both are safe non-negative integers.
 */
export function encodeJournalHeader(number: number, previousLength = 0): Uint8Array {
  checkJournalNumber(number);
  if (!Number.isSafeInteger(previousLength) || previousLength < 0) throw new RangeError(`a previous journal length is a safe non-negative integer, got ${previousLength}`);
  const out = new Uint8Array(JOURNAL_HEADER_BYTES);
  const view = new DataView(out.buffer);
  out.set(JOURNAL_MAGIC, 0);
  out[JOURNAL_MAGIC.length] = JOURNAL_FORMAT;
  view.setUint32(NUMBER_OFFSET, number % 0x1_0000_0000, true);
  view.setUint32(NUMBER_OFFSET + 4, Math.floor(number / 0x1_0000_0000), true);
  view.setUint32(PREVIOUS_LENGTH_OFFSET, previousLength % 0x1_0000_0000, true);
  view.setUint32(PREVIOUS_LENGTH_OFFSET + 4, Math.floor(previousLength / 0x1_0000_0000), true);
  view.setUint32(HEADER_CRC_OFFSET, checksum(out.subarray(0, HEADER_CRC_OFFSET)), true);
  return out;
}

/** Whether the header bytes are all zeros: the file's first write never reached the disk. */
export function isZeroHeader(bytes: Uint8Array): boolean {
  for (let i = 0; i < JOURNAL_HEADER_BYTES; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Throws `RangeError` unless `number` can name a journal. */
export function checkJournalNumber(number: number): void {
  if (!Number.isSafeInteger(number) || number < 0) throw new RangeError(`a journal number is a safe non-negative integer, got ${number}`);
}

/**
 * Checks the header `bytes` (at least {@link JOURNAL_HEADER_BYTES} long) of the journal `fileName`
 * that should be number `expectedNumber`: another magic, a CRC mismatch or another number is
 * `CORRUPTION`, an intact header of another format `UNSUPPORTED_FORMAT`. Returns the previous length
 * the header records.
 */
export function checkJournalHeader(bytes: Uint8Array, fileName: string, expectedNumber: number): number {
  for (let i = 0; i < JOURNAL_MAGIC.length; i++) {
    if (bytes[i] !== JOURNAL_MAGIC[i]) throw corruption(fileName, "not a Talus journal (bad magic)");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, JOURNAL_HEADER_BYTES);
  const stored = view.getUint32(HEADER_CRC_OFFSET, true);
  const actual = checksum(bytes.subarray(0, HEADER_CRC_OFFSET));
  if (stored !== actual) throw corruption(fileName, `journal header checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)})`);
  const format = bytes[JOURNAL_MAGIC.length] as number;
  if (format !== JOURNAL_FORMAT) {
    throw new LsmError("UNSUPPORTED_FORMAT", `${fileName} is journal format ${format}; this build reads format ${JOURNAL_FORMAT}`);
  }
  const high = view.getUint32(NUMBER_OFFSET + 4, true);
  const number = high * 0x1_0000_0000 + view.getUint32(NUMBER_OFFSET, true);
  // A file renamed or copied into the wrong place holds another tree's (or another era's) writes.
  if (high > 0x1f_ffff || number !== expectedNumber) throw corruption(fileName, `journal header names journal ${number}, expected ${expectedNumber}`);
  const previousHigh = view.getUint32(PREVIOUS_LENGTH_OFFSET + 4, true);
  if (previousHigh > 0x1f_ffff) throw corruption(fileName, "journal header: previous length out of range");
  return previousHigh * 0x1_0000_0000 + view.getUint32(PREVIOUS_LENGTH_OFFSET, true);
}

/**
 * Writes `value` (a safe non-negative integer) as a varint at `pos` of `buffer`, which must have room
 * (8 bytes at most); returns the position after it. Below 2^31 it runs on 32-bit operations, which is
 * every length and almost every seqno.
 */
export function putVarint(buffer: Uint8Array, pos: number, value: number): number {
  let v = value;
  let at = pos;
  while (v > 0x7fff_ffff) {
    buffer[at++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  while (v >= 0x80) {
    buffer[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buffer[at++] = v;
  return at;
}

/**
 * Reads payloads in place. One reader serves a whole replay, reset per record, so checking and walking
 * a group allocates nothing beyond the key and value views handed to the visitor.
 */
export class PayloadReader {
  bytes: Uint8Array = new Uint8Array(0);
  pos = 0;
  end = 0;
  /** Set by {@link check}. */
  seqno = 0;
  /** Set by {@link check}. */
  opCount = 0;
  /** Where the first op starts; set by {@link check}. */
  opsStart = 0;

  /** Points the reader at the payload `bytes[start, end)`. */
  reset(bytes: Uint8Array, start: number, end: number): void {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
  }

  /**
   * Checks that the payload is well-formed: a seqno below 2^53, an op count, and exactly that many ops
   * with known tags and lengths inside the payload. Sets {@link seqno}, {@link opCount} and
   * {@link opsStart} and returns `undefined`, or returns what is wrong. Asked only of payloads whose
   * CRC matched, so a failure means a writer bug or damage the CRC missed, never a torn write.
   */
  check(): string | undefined {
    const seqno = this.#checkedVarint();
    if (seqno < 0) return "bad seqno varint";
    const opCount = this.#checkedVarint();
    if (opCount < 0) return "bad op count varint";
    this.seqno = seqno;
    this.opCount = opCount;
    this.opsStart = this.pos;
    const bytes = this.bytes;
    const end = this.end;
    for (let op = 0; op < opCount; op++) {
      if (this.pos >= end) return `payload ends before op ${op} of ${opCount}`;
      const tag = bytes[this.pos++] as number;
      if (!isJournalOpTag(tag)) return `op ${op} has unknown tag ${tag}`;
      for (let field = 0; field < 2; field++) {
        const length = this.#checkedVarint();
        if (length < 0 || length > end - this.pos) return `op ${op} has a ${field === 0 ? "key" : "value"} length past the payload`;
        this.pos += length;
      }
    }
    return this.pos === end ? undefined : `${end - this.pos} bytes after the last op`;
  }

  /** The varint at `pos`; REQUIRES: {@link check} passed, so it is there and well-formed. */
  varint(): number {
    const bytes = this.bytes;
    let result = 0;
    let scale = 1;
    for (;;) {
      const byte = bytes[this.pos++] as number;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 0x80;
    }
  }

  /** A varint of at most 8 bytes, below 2^53 and inside the payload, or -1. */
  #checkedVarint(): number {
    const bytes = this.bytes;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8 && this.pos < this.end; i++) {
      const byte = bytes[this.pos++] as number;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result <= Number.MAX_SAFE_INTEGER ? result : -1;
      scale *= 0x80;
    }
    return -1;
  }
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}
