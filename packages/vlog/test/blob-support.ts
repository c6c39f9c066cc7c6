// Shared tools of the blob file tests: filesystems to run on, value generators, a writer that keeps a
// model of what it wrote, and file surgery (flip a bit, truncate).
import { MemFs, StdFs, type Fs } from "@talus/fs";
import { LsmError } from "@talus/lsm-core";
import { Random, useTempDirs } from "@talus/testkit";
import { expect } from "vitest";
import { BlobFile, BlobFileWriter, type BlobCodecName, type BlobFileMeta, type BlobHandle } from "../src/index.ts";
export { readFileBytes as readFile, writeFileBytes as writeFile } from "@talus/fs";

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A filesystem with an empty directory to write blob files into. */
export interface Place {
  readonly fs: Fs;
  readonly dir: string;
}

/** The two real backends every round trip runs on; `dirs` removes the StdFs temp dirs after each test. */
export function backends(dirs: ReturnType<typeof useTempDirs>): { readonly name: string; make(): Place }[] {
  return [
    {
      name: "MemFs",
      make: () => {
        const fs = new MemFs();
        fs.createDirAll("/db/blobs");
        return { fs, dir: "/db/blobs" };
      },
    },
    { name: "StdFs", make: () => ({ fs: new StdFs(), dir: dirs.make("vlog") }) },
  ];
}

/** `length` bytes that compress well (a short pattern repeated) or not at all (random). */
export function valueOf(rng: Random, length: number, compressible: boolean): Uint8Array {
  if (!compressible) return rng.bytes(length);
  const pattern = rng.bytes(1 + rng.int(16));
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = pattern[i % pattern.length] as number;
  return out;
}

export interface WrittenRecord {
  readonly key: Uint8Array;
  readonly seqno: number;
  readonly value: Uint8Array;
  readonly handle: BlobHandle;
}

/** Writes `values` (keyed "key-<i>", seqno 100 + i) into one finished blob file. */
export function writeBlobFile(
  place: Place,
  id: number,
  values: readonly Uint8Array[],
  codec: BlobCodecName = "none",
): { path: string; meta: BlobFileMeta; records: WrittenRecord[] } {
  const path = `${place.dir}/${id}`;
  const writer = new BlobFileWriter(place.fs, path, { blobFileId: id, codec, createdAtMs: 1_700_000_000_000 });
  const records = values.map((value, i) => {
    const key = enc(`key-${String(i).padStart(4, "0")}`);
    return { key, seqno: 100 + i, value, handle: writer.add(key, 100 + i, value) };
  });
  return { path, meta: writer.finish(), records };
}

/** A small file of mixed records (empty, tiny, compressible, random) and its bytes, for surgery. */
export function smallFixture(codec: BlobCodecName = "lz4"): { fs: MemFs; path: string; records: WrittenRecord[]; meta: BlobFileMeta } {
  const fs = new MemFs();
  fs.createDirAll("/db/blobs");
  const rng = new Random(7);
  const values = [new Uint8Array(0), enc("v"), valueOf(rng, 300, true), valueOf(rng, 200, false), valueOf(rng, 1000, true), valueOf(rng, 50, false)];
  const { path, meta, records } = writeBlobFile({ fs, dir: "/db/blobs" }, 7, values, codec);
  return { fs, path, meta, records };
}

export function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const copy = bytes.slice();
  copy[bit >>> 3] = (copy[bit >>> 3] as number) ^ (1 << (bit & 7));
  return copy;
}

/** Runs `fn`; returns the LsmError it threw, or undefined if it returned. Any other error fails the test. */
export function lsmErrorOf(fn: () => unknown): LsmError | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (error instanceof LsmError) return error;
    throw error;
  }
}

/** Asserts `error` is an LsmError with `code` whose message names `path`. */
export function expectBlobError(error: LsmError | undefined, path: string, code = "CORRUPTION"): void {
  expect(error, `expected ${code} naming ${path}`).toBeInstanceOf(LsmError);
  expect(error?.code).toBe(code);
  expect(error?.message).toContain(path);
}

/** Opens `path` and reads every record back, checking each value. */
export function expectReadsBack(fs: Fs, path: string, records: readonly WrittenRecord[]): void {
  const file = BlobFile.open(fs, path);
  try {
    for (const record of records) {
      expect(Buffer.from(file.read(record.handle, record.key)).equals(record.value)).toBe(true);
      expect(Buffer.from(file.read(record.handle)).equals(record.value)).toBe(true);
    }
  } finally {
    file.close();
  }
}
