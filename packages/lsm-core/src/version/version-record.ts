/**
 * The version file `v<id>`: one version of the tree, written once with exclusive create and never
 * changed. Talus' own format (docs/FORMAT.md has the byte-by-byte description). All integers
 * little-endian.
 *
 * ```
 *  offset  size  field
 *  0       4     magic "TLVF" (54 4C 56 46)
 *  4       1     format version: 1, or 2 when a journal floor follows the blob files
 *  5       8     version id (u64, < 2^53)
 *  13      1     tree kind: 0 standard, 1 blob
 *  14      2     comparator name length n (u16, <= 256)
 *  16      n     comparator name, UTF-8
 *  16+n    1     level count = 7
 *  then, for each of the 7 levels (L0 first):
 *          4     run count (u32)                  L0: newest run first
 *          for each run:
 *          4     table count (u32, >= 1)
 *          28    per table, in key order:  id u64 | global seqno u64 | file size u64 | file CRC-32 u32
 *  then
 *          4     blob file count (u32)
 *          20    per blob file, by id:     id u64 | file size u64 | file CRC-32 u32
 *  format 2 only:
 *          8     journal floor (u64): journal files numbered below it are flushed into this version
 *  end-4   4     CRC-32 of bytes [0, end-4)
 * ```
 *
 * A version without a journal floor (0: the tree never had a journal, or every journal is still needed)
 * is written as format 1, so trees without a journal stay readable by builds that predate journals.
 *
 * ```
 * ```
 *
 * Compatibility rule frozen for every future format version: the file starts with the magic and a
 * one-byte format version and ends with a CRC-32 of everything before it. Readers check magic, then
 * that CRC, then the format byte, so a damaged file reads as `CORRUPTION` (a flipped format byte fails
 * the CRC) and only an intact file from another build reads as `UNSUPPORTED_FORMAT`.
 *
 * Every count is checked against the bytes left before anything is allocated for it, so garbage cannot
 * make the decoder allocate more than the file's own size.
 *
 * @module
 */
import { ByteReader, DecodeError } from "../coding/byte-reader.ts";
import { ByteWriter } from "../coding/byte-writer.ts";
import { checksum } from "../coding/checksum.ts";
import { corruption, LsmError } from "../errors.ts";
import { MAX_COMPARATOR_NAME_BYTES } from "../key/comparator.ts";
import { LEVEL_COUNT, type TreeKind } from "./version.ts";

/** "TLVF": Talus version file. */
export const VERSION_FILE_MAGIC: Uint8Array = Uint8Array.of(0x54, 0x4c, 0x56, 0x46);
/** The version-file format this build writes for versions without a journal floor; it reads it and {@link VERSION_FILE_FORMAT_JOURNAL}. */
export const VERSION_FILE_FORMAT = 1;
/** The format of versions that carry a journal floor. */
export const VERSION_FILE_FORMAT_JOURNAL = 2;

const TABLE_RECORD_BYTES = 28;
const BLOB_RECORD_BYTES = 20;
const CRC_BYTES = 4;
// magic + format byte, followed at least by the trailer.
const PREFIX_BYTES = VERSION_FILE_MAGIC.length + 1;

/** One table as the version file lists it. */
export interface VersionTableRecord {
  /** The table's id, unique in its tree: the table file in its level's folder is named after it. */
  readonly id: number;
  /** Seqno every entry of an ingested table reads as (0 when the table carries its own seqnos). */
  readonly globalSeqno: number;
  /** Length of the table file in bytes. */
  readonly fileSize: number;
  /**
   * CRC-32 of the table file, so recovery can tell a swapped or damaged file. If the table format ends in
   * a CRC of everything before it, this must leave that trailer out: a CRC-32 over data followed by its
   * own CRC is the same constant for every file.
   */
  readonly fileChecksum: number;
}

/** One blob (value-log) file as the version file lists it. */
export interface BlobFileRecord {
  /** The blob file's id, unique in its tree: the file in the blobs folder is named after it. */
  readonly id: number;
  /** Length of the blob file in bytes; recovery fails (CORRUPTION) when the file on disk has another. */
  readonly fileSize: number;
  /**
   * The checksum the value log reported for the file's contents (`BlobFileInfo.fileChecksum`); recovery
   * checks the file against it.
   */
  readonly fileChecksum: number;
}

/** Everything a version file holds: enough to rebuild the {@link Version} with the tables opened. */
export interface VersionRecord {
  /** The version's number: its file is `v<id>`, and the `current` pointer names the live one. */
  readonly id: number;
  /** A plain tree or a blob tree: opening it as the other kind fails. */
  readonly treeKind: TreeKind;
  /** The name of the comparator the tables are sorted by; reopening with another fails. */
  readonly comparatorName: string;
  /** Exactly {@link LEVEL_COUNT} levels → runs (L0 newest first) → tables in key order. Runs are never empty. */
  readonly levels: readonly (readonly (readonly VersionTableRecord[])[])[];
  /** The blob files of a blob tree (empty for a plain tree). */
  readonly blobFiles: readonly BlobFileRecord[];
  /**
   * Journal files numbered below this hold only writes that are in this version's tables (they may be
   * deleted; recovery replays the others). Absent or 0: no journal file is known to be flushed.
   */
  readonly journalFloor?: number;
}

const TREE_KIND_CODES: Readonly<Record<TreeKind, number>> = { standard: 0, blob: 1 };
const TREE_KINDS: readonly TreeKind[] = ["standard", "blob"];
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

/** Serialises a version record. Throws `RangeError` on a record no reader would accept. */
export function encodeVersionRecord(record: VersionRecord): Uint8Array {
  const name = utf8Encoder.encode(record.comparatorName);
  if (name.length > MAX_COMPARATOR_NAME_BYTES) {
    throw new RangeError(`comparator name is ${name.length} bytes of UTF-8, at most ${MAX_COMPARATOR_NAME_BYTES} allowed`);
  }
  if (record.levels.length !== LEVEL_COUNT) throw new RangeError(`a version record has ${LEVEL_COUNT} levels, got ${record.levels.length}`);
  const kind = TREE_KIND_CODES[record.treeKind];
  if (kind === undefined) throw new RangeError(`unknown tree kind ${String(record.treeKind)}`);
  const out = new ByteWriter(64 + name.length);
  const floor = record.journalFloor === undefined ? 0 : safeU64(record.journalFloor, "journal floor");
  out.raw(VERSION_FILE_MAGIC).u8(floor === 0 ? VERSION_FILE_FORMAT : VERSION_FILE_FORMAT_JOURNAL).u64(safeU64(record.id, "version id")).u8(kind);
  out.u16(name.length).raw(name).u8(LEVEL_COUNT);
  record.levels.forEach((runs, level) => {
    out.u32(u32Count(runs.length, `runs in level ${level}`));
    for (const tables of runs) {
      if (tables.length === 0) throw new RangeError(`empty run in level ${level}`);
      out.u32(u32Count(tables.length, `tables in a run of level ${level}`));
      for (const table of tables) {
        out.u64(safeU64(table.id, "table id")).u64(safeU64(table.globalSeqno, "global seqno"));
        out.u64(safeU64(table.fileSize, "table file size")).u32(crcValue(table.fileChecksum));
      }
    }
  });
  out.u32(u32Count(record.blobFiles.length, "blob files"));
  for (const blob of record.blobFiles) {
    out.u64(safeU64(blob.id, "blob file id")).u64(safeU64(blob.fileSize, "blob file size")).u32(crcValue(blob.fileChecksum));
  }
  if (floor !== 0) out.u64(floor);
  out.u32(checksum(out.bytes()));
  return out.toBytes();
}

/**
 * Parses a version file. `fileName` is put in every error. Damage of any kind (truncation, flipped
 * bits, impossible counts, trailing bytes) is `LsmError("CORRUPTION")`; an intact file of another
 * format version is `LsmError("UNSUPPORTED_FORMAT")`.
 */
export function decodeVersionRecord(bytes: Uint8Array, fileName: string): VersionRecord {
  if (bytes.length < PREFIX_BYTES + CRC_BYTES) throw corruption(fileName, `truncated version file (${bytes.length} bytes)`);
  for (let i = 0; i < VERSION_FILE_MAGIC.length; i++) {
    if (bytes[i] !== VERSION_FILE_MAGIC[i]) throw corruption(fileName, "not a Talus version file (bad magic)");
  }
  const body = bytes.length - CRC_BYTES;
  const stored = new DataView(bytes.buffer, bytes.byteOffset + body, CRC_BYTES).getUint32(0, true);
  const actual = checksum(bytes.subarray(0, body));
  if (stored !== actual) throw corruption(fileName, `checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)})`);
  const format = bytes[VERSION_FILE_MAGIC.length] as number;
  if (format !== VERSION_FILE_FORMAT && format !== VERSION_FILE_FORMAT_JOURNAL) {
    throw new LsmError("UNSUPPORTED_FORMAT", `${fileName} is version-file format ${format}; this build reads formats ${VERSION_FILE_FORMAT} and ${VERSION_FILE_FORMAT_JOURNAL}`);
  }
  try {
    return parseBody(new ByteReader(bytes, PREFIX_BYTES, body), fileName, format === VERSION_FILE_FORMAT_JOURNAL);
  } catch (error) {
    if (error instanceof DecodeError) throw new LsmError("CORRUPTION", `corrupt file ${fileName}: ${error.message}`, { cause: error });
    throw error;
  }
}

function parseBody(reader: ByteReader, fileName: string, withJournalFloor: boolean): VersionRecord {
  const id = reader.u64();
  const kindCode = reader.u8();
  const treeKind = TREE_KINDS[kindCode];
  if (treeKind === undefined) throw corruption(fileName, `unknown tree kind ${kindCode}`);
  const nameLength = reader.u16();
  if (nameLength > MAX_COMPARATOR_NAME_BYTES) throw corruption(fileName, `comparator name of ${nameLength} bytes exceeds ${MAX_COMPARATOR_NAME_BYTES}`);
  let comparatorName: string;
  try {
    comparatorName = utf8Decoder.decode(reader.bytes(nameLength));
  } catch (error) {
    if (error instanceof DecodeError) throw error;
    throw corruption(fileName, "comparator name is not valid UTF-8");
  }
  const levelCount = reader.u8();
  if (levelCount !== LEVEL_COUNT) throw corruption(fileName, `level count ${levelCount}, expected ${LEVEL_COUNT}`);
  const seen = new Set<number>();
  const levels: VersionTableRecord[][][] = [];
  for (let level = 0; level < LEVEL_COUNT; level++) {
    // A run takes at least its count and one table record.
    const runCount = boundedCount(reader, 4 + TABLE_RECORD_BYTES, fileName, `run count of level ${level}`);
    const runs: VersionTableRecord[][] = [];
    for (let r = 0; r < runCount; r++) {
      const tableCount = boundedCount(reader, TABLE_RECORD_BYTES, fileName, `table count of a run in level ${level}`);
      if (tableCount === 0) throw corruption(fileName, `empty run in level ${level}`);
      const tables: VersionTableRecord[] = [];
      for (let t = 0; t < tableCount; t++) {
        const table = { id: reader.u64(), globalSeqno: reader.u64(), fileSize: reader.u64(), fileChecksum: reader.u32() };
        if (seen.has(table.id)) throw corruption(fileName, `table ${table.id} listed twice`);
        seen.add(table.id);
        tables.push(table);
      }
      runs.push(tables);
    }
    levels.push(runs);
  }
  const blobCount = boundedCount(reader, BLOB_RECORD_BYTES, fileName, "blob file count");
  const blobIds = new Set<number>();
  const blobFiles: BlobFileRecord[] = [];
  for (let b = 0; b < blobCount; b++) {
    const blob = { id: reader.u64(), fileSize: reader.u64(), fileChecksum: reader.u32() };
    if (blobIds.has(blob.id)) throw corruption(fileName, `blob file ${blob.id} listed twice`);
    blobIds.add(blob.id);
    blobFiles.push(blob);
  }
  const journalFloor = withJournalFloor ? reader.u64() : 0;
  if (withJournalFloor && journalFloor === 0) throw corruption(fileName, "format 2 with a journal floor of 0");
  if (!reader.atEnd()) throw corruption(fileName, `${reader.remaining} unexpected bytes before the checksum`);
  return journalFloor === 0 ? { id, treeKind, comparatorName, levels, blobFiles } : { id, treeKind, comparatorName, levels, blobFiles, journalFloor };
}

// Reads a u32 count and refuses it when that many items of `itemBytes` cannot fit in what is left.
function boundedCount(reader: ByteReader, itemBytes: number, fileName: string, what: string): number {
  const count = reader.u32();
  if (count * itemBytes > reader.remaining) throw corruption(fileName, `${what} ${count} does not fit in the ${reader.remaining} bytes left`);
  return count;
}

function safeU64(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} must be a non-negative safe integer, got ${value}`);
  return value;
}

function u32Count(value: number, what: string): number {
  if (value > 0xffff_ffff) throw new RangeError(`too many ${what}: ${value}`);
  return value;
}

function crcValue(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) throw new RangeError(`checksum must be a u32, got ${value}`);
  return value;
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, "0")}`;
}
