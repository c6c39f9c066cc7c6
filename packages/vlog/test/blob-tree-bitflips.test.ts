// Bit flips in the blob files of a closed blob tree, region by region (file header, each record's
// header, key and value, the footer's properties and tail), then a reopen. Damage to the header or the
// footer is refused at open with CORRUPTION naming the blob file (UNSUPPORTED_FORMAT for the tail's
// format version field); damage to a record lets the tree open, and then the read of that record's key
// throws CORRUPTION naming the file (get, multiGet, scans), never returns wrong bytes, sizeOf and len
// still answer from the handles, every other key reads right, and verify() reports CORRUPTION naming
// the file. Also: a truncated, extended or missing blob file.
import { describe, expect, it } from "vitest";
import { MemFs, readFileBytes, writeFileBytes } from "@talus/fs";
import { LsmError, SEQNO_MAX, SequenceNumberCounter, type Tree } from "@talus/lsm-core";
import { BLOB_FILE_HEADER_SIZE, BLOB_FOOTER_TAIL_SIZE, BlobFile, RECORD_HEADER_SIZE, type BlobCodecName, type KvSeparationOptions } from "../src/index.ts";
import { BLOBS, dec, entriesAt, expectLsmError, openBlobTree, rejectionOf, thrownBy, versionBlobIds } from "./blob-tree-support.ts";

interface Region {
  readonly name: string;
  readonly start: number;
  readonly end: number;
  /** The key whose record the region belongs to (undefined: file header or footer). */
  readonly key?: string;
}

interface Fixture {
  readonly fs: MemFs;
  readonly kv: KvSeparationOptions;
  /** key -> value of everything in the tree. */
  readonly contents: Map<string, string>;
  /** The damaged file's path, its clean bytes, and its regions. */
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly regions: Region[];
  /** Keys whose values live in the damaged file. */
  readonly keysInFile: string[];
}

/**
 * A closed blob tree with two blob files (one per flush) and inline values; the first blob file is the
 * one to damage. Values compress well, so with lz4 they are stored compressed.
 */
async function fixture(compression: BlobCodecName): Promise<Fixture> {
  const fs = new MemFs();
  const kv: KvSeparationOptions = { separationThreshold: 32, compression };
  const seqno = new SequenceNumberCounter();
  const tree = await openBlobTree(fs, seqno, kv);
  const contents = new Map<string, string>();
  const put = (key: string, value: string): void => {
    tree.insert(key, value, seqno.next());
    contents.set(key, value);
  };
  put("a1", "value of a1:".padEnd(54, "1"));
  put("a2", "x");
  put("a3", "third:".padEnd(45, "3"));
  put("a4", "value of a4:".padEnd(54, "4"));
  await tree.flushActiveMemtable(0);
  put("b1", "b1 lives in the second file ".repeat(2));
  put("b2", "small b2");
  put("b3", "b3:".padEnd(70, "b"));
  await tree.flushActiveMemtable(0);
  const [first, second] = versionBlobIds(tree);
  expect(second).toBeDefined();
  await tree.close();
  // One reopen first: whatever a first open tidies (version files) is done before the sweep.
  await (await openBlobTree(fs, new SequenceNumberCounter(), kv)).close();

  const path = `${BLOBS}/${first}`;
  const bytes = readFileBytes(fs, path);
  const file = BlobFile.open(fs, path);
  const regions: Region[] = [{ name: "file header", start: 0, end: BLOB_FILE_HEADER_SIZE }];
  const keysInFile: string[] = [];
  let recordsEnd = BLOB_FILE_HEADER_SIZE;
  try {
    for (const record of file.scan()) {
      const key = dec(record.key) as string;
      keysInFile.push(key);
      const at = record.handle.offset;
      const keyAt = at + RECORD_HEADER_SIZE;
      const valueAt = keyAt + record.key.length;
      regions.push({ name: `record ${key} header`, start: at, end: keyAt, key });
      regions.push({ name: `record ${key} key`, start: keyAt, end: valueAt, key });
      regions.push({ name: `record ${key} value`, start: valueAt, end: valueAt + record.stored.length, key });
      recordsEnd = valueAt + record.stored.length;
    }
    if (compression === "lz4") expect(file.meta.storedBytes).toBeLessThan(file.meta.uncompressedBytes);
  } finally {
    file.close();
  }
  expect(keysInFile).toEqual(["a1", "a3", "a4"]);
  regions.push({ name: "footer properties", start: recordsEnd, end: bytes.length - BLOB_FOOTER_TAIL_SIZE });
  regions.push({ name: "footer tail", start: bytes.length - BLOB_FOOTER_TAIL_SIZE, end: bytes.length });
  return { fs, kv, contents, path, bytes, regions, keysInFile };
}

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const copy = bytes.slice();
  copy[bit >>> 3] = (copy[bit >>> 3] as number) ^ (1 << (bit & 7));
  return copy;
}

/** The bits of a region to flip: every bit of small regions; of a value, its first and last 4 bytes and every 5th bit between. */
function bitsOf(region: Region): number[] {
  const bits: number[] = [];
  for (let bit = region.start * 8; bit < region.end * 8; bit++) {
    const byte = bit >>> 3;
    const edge = byte < region.start + 4 || byte >= region.end - 4;
    if (!region.name.endsWith("value") || edge || bit % 5 === 0) bits.push(bit);
  }
  return bits;
}

/** The tail's format version field: a reader tells "another format" (UNSUPPORTED_FORMAT) from damage by it. */
function inVersionField(f: Fixture, bit: number): boolean {
  const byte = bit >>> 3;
  return byte >= f.bytes.length - 12 && byte < f.bytes.length - 8;
}

const isCorruptionOf =
  (path: string) =>
  (error: unknown): boolean =>
    error instanceof LsmError && error.code === "CORRUPTION" && error.message.includes(path);

/** Checks a tree opened on a file with a damaged record of `key`. */
function checkDamagedRecord(f: Fixture, tree: Tree, key: string, context: string): void {
  const corrupt = isCorruptionOf(f.path);
  // The damaged record: CORRUPTION naming the file on every read that resolves it.
  expectLsmError(thrownBy(() => tree.get(key, SEQNO_MAX)), ["CORRUPTION"], f.path, `${context}: get(${key})`);
  expectLsmError(thrownBy(() => tree.multiGet(["b1", key], SEQNO_MAX)), ["CORRUPTION"], f.path, `${context}: multiGet`);
  expectLsmError(thrownBy(() => entriesAt(tree)), ["CORRUPTION"], f.path, `${context}: forward scan`);
  expectLsmError(thrownBy(() => [...tree.iter(SEQNO_MAX, { reverse: true })]), ["CORRUPTION"], f.path, `${context}: reverse scan`);
  // The handle is in the table: sizes and counts need no blob read.
  expect(tree.sizeOf(key, SEQNO_MAX), `${context}: sizeOf(${key})`).toBe((f.contents.get(key) as string).length);
  expect(tree.len(SEQNO_MAX), `${context}: len`).toBe(f.contents.size);
  // Every other key reads right: in the same file, in the other file, inline.
  for (const [other, value] of f.contents) {
    if (other !== key) expect(dec(tree.get(other, SEQNO_MAX)), `${context}: get(${other})`).toBe(value);
  }
  // A scan that stops short of the damaged key works.
  expect([...tree.range({ lt: key }, SEQNO_MAX)].map(([k]) => dec(k)), `${context}: scan before ${key}`).toEqual([...f.contents.keys()].filter((k) => k < key).sort());
  const verifyError = thrownBy(() => tree.verify());
  expect(corrupt(verifyError), `${context}: verify() reports CORRUPTION naming the file, got ${String(verifyError)}`).toBe(true);
}

describe("BlobTree: bit flips in a closed tree's blob file", () => {
  for (const compression of ["none", "lz4"] as const) {
    it(`every flipped bit is caught at open (header, footer) or when its record is read (${compression})`, async () => {
      const f = await fixture(compression);
      const counts = { refused: 0, record: 0 };
      const problems: string[] = [];
      for (const region of f.regions) {
        for (const bit of bitsOf(region)) {
          const context = `${compression}: ${region.name}, bit ${bit}`;
          writeFileBytes(f.fs, f.path, flipBit(f.bytes, bit));
          try {
            if (region.key === undefined) {
              const error = await rejectionOf(openBlobTree(f.fs, new SequenceNumberCounter(), f.kv));
              expectLsmError(error, inVersionField(f, bit) ? ["CORRUPTION", "UNSUPPORTED_FORMAT"] : ["CORRUPTION"], f.path, `${context}: open`);
              counts.refused++;
            } else {
              const tree = await openBlobTree(f.fs, new SequenceNumberCounter(), f.kv);
              try {
                checkDamagedRecord(f, tree, region.key, context);
              } finally {
                await tree.close();
              }
              counts.record++;
            }
          } catch (error) {
            problems.push(`${context}: ${(error instanceof Error ? error.message : String(error)).split("\n")[0]}`);
          }
        }
      }
      expect(problems).toEqual([]);
      expect(counts.refused).toBeGreaterThan(400);
      expect(counts.record).toBeGreaterThan(600);
      // Restored, the tree reads everything again.
      writeFileBytes(f.fs, f.path, f.bytes);
      const tree = await openBlobTree(f.fs, new SequenceNumberCounter(), f.kv);
      expect(entriesAt(tree)).toEqual([...f.contents].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`));
      tree.verify();
      await tree.close();
    });
  }

  it("a truncated or extended blob file is refused at open with CORRUPTION naming it; a missing one with UNRECOVERABLE", async () => {
    const f = await fixture("none");
    const firstRecordEnd = (f.regions.find((r) => r.name.endsWith("value")) as Region).end;
    const variants: Array<[string, Uint8Array]> = [
      ["empty", new Uint8Array(0)],
      ["header only", f.bytes.subarray(0, BLOB_FILE_HEADER_SIZE)],
      ["one record, no footer", f.bytes.subarray(0, firstRecordEnd)],
      ["footer tail cut", f.bytes.subarray(0, f.bytes.length - 1)],
      ["a byte appended", new Uint8Array([...f.bytes, 0])],
      ["a byte inserted in a record", new Uint8Array([...f.bytes.subarray(0, 20), 0, ...f.bytes.subarray(20)])],
    ];
    for (const [name, bytes] of variants) {
      writeFileBytes(f.fs, f.path, bytes);
      const error = await rejectionOf(openBlobTree(f.fs, new SequenceNumberCounter(), f.kv));
      expectLsmError(error, ["CORRUPTION"], f.path, name);
    }
    f.fs.removeFile(f.path);
    const missing = await rejectionOf(openBlobTree(f.fs, new SequenceNumberCounter(), f.kv));
    // Named by its path ("the current version lists a blob file that is missing: /db/blobs/0").
    expectLsmError(missing, ["UNRECOVERABLE"], BLOBS, "missing");
    expect(missing.message).toContain(f.path);
    // Nothing was tidied away meanwhile: put back, the tree opens whole.
    writeFileBytes(f.fs, f.path, f.bytes);
    const tree = await openBlobTree(f.fs, new SequenceNumberCounter(), f.kv);
    expect(tree.len(SEQNO_MAX)).toBe(f.contents.size);
    tree.verify();
    await tree.close();
  });

  it("a record swapped for another valid record of the file is caught by the key check, never read as the other value", async () => {
    // Two records of the same size: swap their bytes. Each CRC still holds, but the handle leads to a
    // record of another key.
    const f = await fixture("none");
    const a1 = f.regions.filter((r) => r.key === "a1");
    const a4 = f.regions.filter((r) => r.key === "a4");
    const span = (rs: Region[]): [number, number] => [Math.min(...rs.map((r) => r.start)), Math.max(...rs.map((r) => r.end))];
    const [s1, e1] = span(a1);
    const [s4, e4] = span(a4);
    expect(e1 - s1).toBe(e4 - s4);
    const swapped = f.bytes.slice();
    swapped.set(f.bytes.subarray(s4, e4), s1);
    swapped.set(f.bytes.subarray(s1, e1), s4);
    writeFileBytes(f.fs, f.path, swapped);
    // The file checksum in the footer no longer matches its bytes: only verify() rereads them all.
    const tree = await openBlobTree(f.fs, new SequenceNumberCounter(), f.kv);
    for (const key of ["a1", "a4"]) expectLsmError(thrownBy(() => tree.get(key, SEQNO_MAX)), ["CORRUPTION"], f.path, `get(${key})`);
    expect(dec(tree.get("a3", SEQNO_MAX))).toBe(f.contents.get("a3"));
    expectLsmError(thrownBy(() => tree.verify()), ["CORRUPTION"], f.path, "verify");
    await tree.close();
  });

  it("a relocating compaction that reads a damaged record fails with CORRUPTION naming the file, and changes nothing", async () => {
    const fs = new MemFs();
    const seqno = new SequenceNumberCounter();
    const v = (i: number): string => `v${i}:`.padEnd(100, "z");
    // Staleness 1 while the garbage is made; then the file is stale at the default threshold.
    let tree = await openBlobTree(fs, seqno, { separationThreshold: 32, stalenessThreshold: 1 });
    for (let i = 0; i < 10; i++) tree.insert(`k${i}`, v(i), seqno.next());
    await tree.flushActiveMemtable(0);
    for (let i = 0; i < 7; i++) tree.insert(`k${i}`, `w${i}`, seqno.next());
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(1 << 20, seqno.get());
    const [id] = versionBlobIds(tree);
    await tree.close();
    const path = `${BLOBS}/${id}`;
    const clean = readFileBytes(fs, path);
    // One byte of k8's value (a live record the relocation must copy).
    const at = Buffer.from(clean).indexOf("v8:");
    expect(at).toBeGreaterThan(0);
    const damaged = clean.slice();
    damaged[at + 20] = (damaged[at + 20] as number) ^ 0x10;
    writeFileBytes(fs, path, damaged);

    tree = await openBlobTree(fs, seqno, { separationThreshold: 32 });
    const tables = [...tree.currentVersion().tables()].map((t) => t.id);
    const expected = (i: number): string => (i < 7 ? `w${i}` : v(i));
    expectLsmError(await rejectionOf(tree.majorCompact(1 << 20, seqno.get())), ["CORRUPTION"], path, "majorCompact");
    // Nothing changed: same tables and blob file, no output left behind, undamaged values read.
    expect([...tree.currentVersion().tables()].map((t) => t.id)).toEqual(tables);
    expect(versionBlobIds(tree)).toEqual([id]);
    expect(fs.readDir(BLOBS).map((e) => e.fileName)).toEqual([String(id)]);
    for (const i of [0, 6, 7, 9]) expect(dec(tree.get(`k${i}`, SEQNO_MAX))).toBe(expected(i));
    expectLsmError(thrownBy(() => tree.get("k8", SEQNO_MAX)), ["CORRUPTION"], path, "get(k8)");
    await tree.close();
    // Repaired (restored from a backup, say), the same compaction relocates and the file goes.
    writeFileBytes(fs, path, clean);
    tree = await openBlobTree(fs, seqno, { separationThreshold: 32 });
    await tree.majorCompact(1 << 20, seqno.get());
    expect(versionBlobIds(tree)).not.toContain(id);
    expect(entriesAt(tree)).toEqual(Array.from({ length: 10 }, (_, i) => `k${i}=${expected(i)}`));
    await tree.close();
  });
});
