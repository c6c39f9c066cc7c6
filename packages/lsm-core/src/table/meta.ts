/**
 * The meta block: what a table holds and how it was written, as tagged fields so that later writers can
 * add fields older readers skip.
 *
 * ```
 * meta  := field*
 * field := tag: varint | length: varint | bytes[length]
 *
 * tag  name                 bytes                              required
 *  1   table id             varint                             yes
 *  2   created at           varint, ms since the Unix epoch    yes
 *  3   entry count          varint                             yes
 *  4   distinct key count   varint                             yes
 *  5   tombstone count      varint                             yes
 *  6   weak tombstone count varint                             yes
 *  7   merge operand count  varint                             yes
 *  8   indirection count    varint                             yes
 *  9   min seqno            varint                             yes
 * 10   max seqno            varint                             yes
 * 11   min key              raw user key (first key)           yes
 * 12   max key              raw user key (last key)            yes
 * 13   key bytes            varint, sum of user key lengths    yes
 * 14   value bytes          varint, sum of value lengths       yes
 * 15   data size            varint, sum of decoded data block sizes   yes
 * 16   data block count     varint                             yes
 * 17   restart interval     varint                             yes
 * 18   block size           varint, the writer's target        yes
 * 19   codec                varint, codec id tried on data and index blocks   yes
 * 20   filter bits per key  varint, 0 = no filter              yes
 * 21   prefix extractor     UTF-8 name                         no (absent = none)
 * 22   comparator           UTF-8 name                         yes
 * 23   range tombstone count varint, fragments in the          no (absent = 0)
 *                           `!range-tombstones` block
 * 24   merge operator       UTF-8 name of the tree's operator   no (absent = none configured)
 *                           when the table was written
 * 25   blob references      count: varint, then per blob file   no (absent = none)
 *                           its indirections point into, by id:
 *                           id | entries | value bytes | stored bytes, all varints
 * ```
 *
 * Blob references are what a blob tree's garbage accounting sums up: a blob file's live bytes are the
 * references of the tables in the current version, everything else in it is garbage.
 *
 * With range tombstones, min key and max key are the table's key range, widened to cover its
 * tombstones (see ../tree/table-store.ts), and min / max seqno include the tombstones' seqnos.
 *
 * Fields may come in any order; a tag seen twice, a missing required tag or a field whose bytes do not
 * parse is CORRUPTION. Unknown tags are skipped: never reuse a retired tag number.
 *
 * @module
 */
import { ByteReader, DecodeError } from "../coding/byte-reader.ts";
import { ByteWriter } from "../coding/byte-writer.ts";
import { corruption } from "../errors.ts";
import { copyBytes } from "../key/copy.ts";

/** What the meta block records. */
export interface TableProperties {
  /** The table's id, unique in its tree (the file is named after it); checked against the id the version lists. */
  readonly tableId: number;
  /**
   * When the table's data was written, in ms since the Unix epoch (a flush or compaction stamps all its
   * outputs with one time); FIFO's TTL ages tables by it.
   */
  readonly createdAtMs: number;
  /**
   * Entries the data blocks hold: every version of every key, tombstones and merge operands included (range
   * tombstones not).
   */
  readonly entryCount: number;
  /** Different user keys among the entries (at most `entryCount`). */
  readonly distinctKeyCount: number;
  /** Point deletions (`Tombstone` entries) among the entries. */
  readonly tombstoneCount: number;
  /** Weak deletions (`WeakTombstone` entries, see `Tree.removeWeak`) among the entries. */
  readonly weakTombstoneCount: number;
  /** Merge operands among the entries, not yet folded into a value. */
  readonly mergeOperandCount: number;
  /** Entries whose value was separated into a blob file (`Indirection` entries holding a handle). */
  readonly indirectionCount: number;
  /**
   * The lowest seqno among the entries and range tombstones. An ingested table's entries are stored at
   * seqno 0 and read at the global seqno its version lists (`TableFile.minSeqno` reports that one).
   */
  readonly minSeqno: number;
  /** The highest seqno among the entries and range tombstones (0 for an ingested table, as `minSeqno`). */
  readonly maxSeqno: number;
  /** The smallest user key: the first entry's, or a range tombstone's start if that sorts before it. Inclusive. */
  readonly minKey: Uint8Array;
  /** The largest user key the table covers: its last entry's, or further where a range tombstone reaches. Inclusive. */
  readonly maxKey: Uint8Array;
  /** Sum of the user key lengths of all entries, in bytes (a key counts once per version). */
  readonly keyBytes: number;
  /**
   * Sum of the value lengths the entries store, in bytes, before compression: 0 for a tombstone, the
   * handle's length (not the value's) for an indirection.
   */
  readonly valueBytes: number;
  /** Sum of the decoded (uncompressed) sizes of the data blocks. */
  readonly dataSize: number;
  /** Data blocks in the file (the index has one entry per block). */
  readonly dataBlockCount: number;
  /** Entries between restart points (full, unshared keys a block search starts from) in the data blocks. */
  readonly restartInterval: number;
  /** The writer's target data block size in bytes, before compression: a block is cut once it reaches it. */
  readonly blockSize: number;
  /** Id of the codec the writer tried on data and index blocks (each block says what it used). */
  readonly codec: number;
  /** 0 when the table has no filter. */
  readonly filterBitsPerKey: number;
  /** Name of the prefix extractor whose prefixes are in the filter, or null. */
  readonly prefixExtractor: string | null;
  /**
   * Name of the comparator that ordered the keys; a table opened with a comparator of another name is
   * COMPARATOR_MISMATCH.
   */
  readonly comparator: string;
  /** Fragments in the range tombstone block (0 when the table has none). */
  readonly rangeTombstoneCount: number;
  /** Name of the merge operator configured when the table was written, or null. */
  readonly mergeOperator: string | null;
  /** Per blob file, what this table's indirections reference there, by id (empty for most tables). */
  readonly blobReferences: readonly TableBlobReference[];
}

/** Everything known about a table file: its properties plus what the footer says. */
export interface TableMeta extends TableProperties {
  /**
   * The table file format version, from the file header and footer (this build reads and writes 1; another is
   * UNSUPPORTED_FORMAT).
   */
  readonly formatVersion: number;
  /** The file's length in bytes, footer included: what it takes on disk. */
  readonly fileSize: number;
  /** CRC-32 of every byte before the footer (see `Table.verify()`). */
  readonly fileChecksum: number;
  /** Bytes the data blocks take on disk, trailers included. */
  readonly storedDataSize: number;
  /** On-disk payload size of the index block. */
  readonly indexSize: number;
  /** On-disk payload size of the filter block; 0 without a filter. */
  readonly filterSize: number;
}

type NumericField = { [K in keyof TableProperties]: TableProperties[K] extends number ? K : never }[keyof TableProperties];

/** Numeric fields by tag. DO NOT RENUMBER: the tags are on disk. */
const NUMERIC_TAGS: ReadonlyArray<readonly [number, NumericField]> = [
  [1, "tableId"],
  [2, "createdAtMs"],
  [3, "entryCount"],
  [4, "distinctKeyCount"],
  [5, "tombstoneCount"],
  [6, "weakTombstoneCount"],
  [7, "mergeOperandCount"],
  [8, "indirectionCount"],
  [9, "minSeqno"],
  [10, "maxSeqno"],
  [13, "keyBytes"],
  [14, "valueBytes"],
  [15, "dataSize"],
  [16, "dataBlockCount"],
  [17, "restartInterval"],
  [18, "blockSize"],
  [19, "codec"],
  [20, "filterBitsPerKey"],
];
const NUMERIC_TAG_OF = Object.fromEntries(NUMERIC_TAGS.map(([tag, name]) => [name, tag])) as Record<NumericField, number>;
const NUMERIC_TAG_SET = new Set(NUMERIC_TAGS.map(([tag]) => tag));
const TAG_MIN_KEY = 11;
const TAG_MAX_KEY = 12;
const TAG_PREFIX_EXTRACTOR = 21;
const TAG_COMPARATOR = 22;
const TAG_RANGE_TOMBSTONE_COUNT = 23;
const TAG_MERGE_OPERATOR = 24;
const TAG_BLOB_REFERENCES = 25;

/** The indirections of one table into one blob file. */
export interface TableBlobReference {
  /** Id of the blob file the indirections point into. */
  readonly blobFileId: number;
  /** Indirections of the table into that file (one per separated value). */
  readonly count: number;
  /** Sum of the referenced values' lengths in bytes, uncompressed. */
  readonly valueBytes: number;
  /** Sum of the bytes those values take in the blob file (maybe compressed): the live bytes this table keeps there. */
  readonly storedBytes: number;
}

/** Blob references summed per blob file id, as a table writer and a version's garbage accounting keep them. */
export type BlobReferenceSums = Map<number, { blobFileId: number; count: number; valueBytes: number; storedBytes: number }>;

/** Adds `count` references of `valueBytes` (stored in `storedBytes`) into blob file `blobFileId` to `sums`. */
export function addBlobReference(sums: BlobReferenceSums, blobFileId: number, count: number, valueBytes: number, storedBytes: number): void {
  const sum = sums.get(blobFileId);
  if (sum === undefined) sums.set(blobFileId, { blobFileId, count, valueBytes, storedBytes });
  else {
    sum.count += count;
    sum.valueBytes += valueBytes;
    sum.storedBytes += storedBytes;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function encodeProperties(p: TableProperties): Uint8Array {
  const out = new ByteWriter(256 + p.minKey.length + p.maxKey.length);
  const scratch = new ByteWriter(16);
  for (const [tag, name] of NUMERIC_TAGS) {
    scratch.reset();
    scratch.varint(p[name]);
    out.varint(tag).lengthPrefixed(scratch.bytes());
  }
  out.varint(TAG_MIN_KEY).lengthPrefixed(p.minKey);
  out.varint(TAG_MAX_KEY).lengthPrefixed(p.maxKey);
  if (p.prefixExtractor !== null) out.varint(TAG_PREFIX_EXTRACTOR).lengthPrefixed(encoder.encode(p.prefixExtractor));
  out.varint(TAG_COMPARATOR).lengthPrefixed(encoder.encode(p.comparator));
  if (p.mergeOperator !== null) out.varint(TAG_MERGE_OPERATOR).lengthPrefixed(encoder.encode(p.mergeOperator));
  if (p.rangeTombstoneCount > 0) {
    scratch.reset();
    scratch.varint(p.rangeTombstoneCount);
    out.varint(TAG_RANGE_TOMBSTONE_COUNT).lengthPrefixed(scratch.bytes());
  }
  if (p.blobReferences.length > 0) {
    const refs = new ByteWriter(8 + 16 * p.blobReferences.length);
    refs.varint(p.blobReferences.length);
    for (const r of p.blobReferences) refs.varint(r.blobFileId).varint(r.count).varint(r.valueBytes).varint(r.storedBytes);
    out.varint(TAG_BLOB_REFERENCES).lengthPrefixed(refs.bytes());
  }
  return out.toBytes();
}

/** Decodes the meta block's contents; `file` and `offset` name it in errors. The keys are copies. */
export function decodeProperties(contents: Uint8Array, file: string, offset: number): TableProperties {
  const numbers = new Map<number, number>();
  const blobs = new Map<number, Uint8Array>();
  try {
    const reader = new ByteReader(contents);
    while (!reader.atEnd()) {
      const tag = reader.varint();
      const bytes = reader.lengthPrefixed();
      if (numbers.has(tag) || blobs.has(tag)) throw new DecodeError(`tag ${tag} appears twice`);
      if (NUMERIC_TAG_SET.has(tag) || tag === TAG_RANGE_TOMBSTONE_COUNT) {
        const field = new ByteReader(bytes);
        numbers.set(tag, field.varint());
        if (!field.atEnd()) throw new DecodeError(`tag ${tag} has trailing bytes`);
      } else {
        blobs.set(tag, bytes);
      }
    }
  } catch (error) {
    if (error instanceof DecodeError) throw corruption(file, `meta block at offset ${offset}: ${error.message}`);
    throw error;
  }
  const missing = (tag: number): never => {
    throw corruption(file, `meta block at offset ${offset}: required field ${tag} is missing`);
  };
  const text = (tag: number, bytes: Uint8Array): string => {
    try {
      return decoder.decode(bytes);
    } catch {
      throw corruption(file, `meta block at offset ${offset}: field ${tag} is not UTF-8`);
    }
  };
  const num = (name: NumericField): number => {
    const tag = NUMERIC_TAG_OF[name];
    return numbers.get(tag) ?? missing(tag);
  };
  const prefix = blobs.get(TAG_PREFIX_EXTRACTOR);
  const mergeName = blobs.get(TAG_MERGE_OPERATOR);
  const refBytes = blobs.get(TAG_BLOB_REFERENCES);
  const props: TableProperties = {
    tableId: num("tableId"),
    createdAtMs: num("createdAtMs"),
    entryCount: num("entryCount"),
    distinctKeyCount: num("distinctKeyCount"),
    tombstoneCount: num("tombstoneCount"),
    weakTombstoneCount: num("weakTombstoneCount"),
    mergeOperandCount: num("mergeOperandCount"),
    indirectionCount: num("indirectionCount"),
    minSeqno: num("minSeqno"),
    maxSeqno: num("maxSeqno"),
    minKey: copyBytes(blobs.get(TAG_MIN_KEY) ?? missing(TAG_MIN_KEY)),
    maxKey: copyBytes(blobs.get(TAG_MAX_KEY) ?? missing(TAG_MAX_KEY)),
    keyBytes: num("keyBytes"),
    valueBytes: num("valueBytes"),
    dataSize: num("dataSize"),
    dataBlockCount: num("dataBlockCount"),
    restartInterval: num("restartInterval"),
    blockSize: num("blockSize"),
    codec: num("codec"),
    filterBitsPerKey: num("filterBitsPerKey"),
    prefixExtractor: prefix === undefined ? null : text(TAG_PREFIX_EXTRACTOR, prefix),
    comparator: text(TAG_COMPARATOR, blobs.get(TAG_COMPARATOR) ?? missing(TAG_COMPARATOR)),
    rangeTombstoneCount: numbers.get(TAG_RANGE_TOMBSTONE_COUNT) ?? 0,
    mergeOperator: mergeName === undefined ? null : text(TAG_MERGE_OPERATOR, mergeName),
    blobReferences: refBytes === undefined ? [] : decodeBlobReferences(refBytes, file, offset),
  };
  checkConsistency(props, file, offset);
  return props;
}

function decodeBlobReferences(bytes: Uint8Array, file: string, offset: number): TableBlobReference[] {
  const out: TableBlobReference[] = [];
  try {
    const reader = new ByteReader(bytes);
    const count = reader.varint();
    // Each reference takes at least 4 bytes: a count the bytes cannot hold is garbage.
    if (count > bytes.length / 4) throw new DecodeError(`${count} blob references in ${bytes.length} bytes`);
    for (let i = 0; i < count; i++) {
      const ref = { blobFileId: reader.varint(), count: reader.varint(), valueBytes: reader.varint(), storedBytes: reader.varint() };
      if (i > 0 && ref.blobFileId <= (out[i - 1] as TableBlobReference).blobFileId) throw new DecodeError("blob references out of order");
      out.push(ref);
    }
    if (!reader.atEnd()) throw new DecodeError("blob references have trailing bytes");
  } catch (error) {
    if (error instanceof DecodeError) throw corruption(file, `meta block at offset ${offset}: field ${TAG_BLOB_REFERENCES}: ${error.message}`);
    throw error;
  }
  return out;
}

/** Cross-field checks that catch a meta block that parses but cannot describe a real table. */
function checkConsistency(p: TableProperties, file: string, offset: number): void {
  const bad = (what: string): never => {
    throw corruption(file, `meta block at offset ${offset}: ${what}`);
  };
  if (p.entryCount < 1) bad("a table has at least one entry");
  if (p.distinctKeyCount < 1 || p.distinctKeyCount > p.entryCount) bad(`${p.distinctKeyCount} distinct keys in ${p.entryCount} entries`);
  if (p.tombstoneCount + p.weakTombstoneCount + p.mergeOperandCount + p.indirectionCount > p.entryCount) bad("kind counts exceed the entry count");
  if (p.minSeqno > p.maxSeqno) bad(`min seqno ${p.minSeqno} > max seqno ${p.maxSeqno}`);
  if (p.dataBlockCount < 1 || p.dataBlockCount > p.entryCount) bad(`${p.dataBlockCount} data blocks for ${p.entryCount} entries`);
  if (p.restartInterval < 1) bad("restart interval 0");
  if (p.codec > 255) bad(`codec id ${p.codec}`);
  if (p.filterBitsPerKey > 64) bad(`${p.filterBitsPerKey} filter bits per key`);
  if (p.blobReferences.reduce((n, r) => n + r.count, 0) > p.indirectionCount) bad("blob references exceed the indirection count");
}
