import type { Fs } from "@talus/fs";
import { CrashFs, PowerCutError, Random, type CrashOptions } from "@talus/testkit";
import { describe, expect, it } from "vitest";
import { BlobFile, blobFilePath, BlobFileWriter, RotatingBlobWriter, type BlobHandle } from "../src/index.ts";
import { enc, expectBlobError, lsmErrorOf, valueOf } from "./blob-support.ts";

const DIR = "/db/blobs";

/** A CrashFs whose blob directory (and every parent) is durable. */
function volume(): CrashFs {
  const fs = new CrashFs();
  fs.createDirAll(DIR);
  for (const dir of ["/", "/db", DIR]) fs.syncDirectory(dir);
  return fs;
}

interface Written {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly handle: BlobHandle;
}

describe("blob files and power loss", () => {
  it("a file whose writer never finished is refused as torn, however much of it reached the disk", () => {
    const fs = volume();
    const writer = new BlobFileWriter(fs, `${DIR}/1`, { blobFileId: 1, codec: "lz4" });
    const rng = new Random(1);
    for (let i = 0; i < 40; i++) writer.add(enc(`k${i}`), i, valueOf(rng, 20_000, i % 2 === 0));
    // Its name is durable, as if a blob tree had synced the directory for another file meanwhile.
    fs.syncDirectory(DIR);
    const crashes: CrashOptions[] = [{}, { keepUnsyncedWrites: 1 }, { keepUnsyncedWrites: 1, tearLastWrite: true }];
    for (let seed = 0; seed < 20; seed++) crashes.push({ seed, keepUnsyncedWrites: 0.7, tearLastWrite: seed % 2 === 0 });
    for (const options of crashes) {
      const image = fs.crash(options);
      expect(image.exists(`${DIR}/1`)).toBe(true);
      const error = lsmErrorOf(() => BlobFile.open(image, `${DIR}/1`));
      expectBlobError(error, `${DIR}/1`);
      expect(error?.message).toMatch(/torn/);
    }
    writer.abort();
  });

  it("a finished file in a synced directory survives power loss whole", () => {
    const fs = volume();
    const writer = new BlobFileWriter(fs, `${DIR}/1`, { blobFileId: 1, codec: "lz4" });
    const rng = new Random(2);
    const written: Written[] = [];
    for (let i = 0; i < 40; i++) {
      const key = enc(`k${i}`);
      const value = valueOf(rng, 20_000, i % 2 === 0);
      written.push({ key, value, handle: writer.add(key, i, value) });
    }
    const meta = writer.finish();
    // Before the directory sync, the name may be lost (making it durable is the caller's job)...
    expect(fs.crash().exists(`${DIR}/1`)).toBe(false);
    fs.syncDirectory(DIR);
    // ...after it, nothing a power cut may keep or drop changes the file.
    for (const options of [{}, { seed: 3, keepUnsyncedWrites: 1, keepUnsyncedEntries: 1 }]) {
      const image = fs.crash(options);
      const file = BlobFile.open(image, `${DIR}/1`, { expectedId: 1, expectedFileSize: meta.fileSize, expectedFileChecksum: meta.fileChecksum });
      file.verify();
      for (const w of written) expect(Buffer.from(file.read(w.handle, w.key)).equals(w.value)).toBe(true);
      file.close();
    }
  });

  it("a power cut at any sync of a rotating writer: finished files read back whole, others are refused or fail their reads, never wrong bytes", () => {
    // One run without a cut counts the syncs; then a cut at each of them, with and without unsynced luck.
    const workload = (fs: Fs, written: Written[]): void => {
      let id = 0;
      const writer = new RotatingBlobWriter(fs, DIR, { nextId: () => ++id, targetFileSize: 100_000, codec: "lz4" });
      const rng = new Random(3);
      for (let i = 0; i < 60; i++) {
        const key = enc(`user:${i}`);
        const value = valueOf(rng, 10_000 + rng.int(20_000), i % 3 !== 0);
        written.push({ key, value, handle: writer.write(key, i, value) });
      }
      writer.finish();
    };
    const full = volume();
    const before = full.syncCount;
    workload(full, []);
    const syncs = full.syncCount - before;
    expect(syncs).toBeGreaterThan(4);

    for (let n = 0; n <= syncs; n++) {
      for (const options of [{}, { seed: n, keepUnsyncedWrites: 0.5, tearLastWrite: true, keepUnsyncedEntries: 0.5 }] as CrashOptions[]) {
        const fs = volume().cutPowerAtSync(n, options);
        const written: Written[] = [];
        let completed = false;
        try {
          workload(fs, written);
          completed = true;
        } catch (error) {
          if (!(error instanceof PowerCutError)) throw error;
        }
        expect(completed).toBe(n === syncs);
        const image = fs.powerCutImage ?? fs.crash(options);
        checkImage(image, written, completed);
      }
    }
  });
});

/** Every file in the image either reads back exactly or fails with CORRUPTION naming it; after finish() every file is there and whole. */
function checkImage(image: CrashFs, written: readonly Written[], completed: boolean): void {
  const byFile = new Map<number, Written[]>();
  for (const w of written) byFile.set(w.handle.blobFileId, [...(byFile.get(w.handle.blobFileId) ?? []), w]);
  for (const [id, records] of byFile) {
    const path = blobFilePath(DIR, id);
    if (!image.exists(path)) {
      expect(completed).toBe(false);
      continue;
    }
    let file: BlobFile | undefined;
    const openError = lsmErrorOf(() => (file = BlobFile.open(image, path)));
    if (openError !== undefined) {
      expect(completed).toBe(false);
      expectBlobError(openError, path);
      continue;
    }
    let damaged = false;
    for (const w of records) {
      let value: Uint8Array | undefined;
      const error = lsmErrorOf(() => (value = file!.read(w.handle, w.key)));
      if (error === undefined) expect(Buffer.from(value!).equals(w.value)).toBe(true);
      else {
        expectBlobError(error, path);
        damaged = true;
      }
    }
    const verifyError = lsmErrorOf(() => file!.verify());
    if (damaged) expectBlobError(verifyError, path);
    if (completed) expect(verifyError).toBeUndefined();
    file!.close();
  }
}
