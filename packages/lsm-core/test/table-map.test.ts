// Tables read through memory maps (Fs.mapReadOnly, StdFs with its addon): block-cache misses make no
// positional reads, answers are the same as with pread, and a damaged block is reported on every load.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { StdFs, type FsFile, type FsOpenOptions } from "@talus/fs";
import { LsmError, SEQNO_MAX, SequenceNumberCounter, Tree } from "../src/index.ts";
import { dec } from "./helpers.ts";
import { entriesAt, thrownBy } from "./tree-test-support.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "talus-map-"));
  dirs.push(dir);
  return dir;
}

/** StdFs (maps included) that counts positional reads. */
class ReadCountingFs extends StdFs {
  reads = 0;
  override open(path: string, options: FsOpenOptions): FsFile {
    const file = super.open(path, options);
    const readAt = file.readAt.bind(file);
    file.readAt = (buffer, position) => {
      this.reads++;
      return readAt(buffer, position);
    };
    return file;
  }
}

const key = (i: number): string => `key${String(i).padStart(6, "0")}`;

async function filledTree(dir: string): Promise<void> {
  const seqno = new SequenceNumberCounter();
  // Uncompressed everywhere, so that data blocks are views of the map; a tiny cache, so that gets miss.
  const tree = await Tree.open({ path: dir, seqno, compression: "none", workers: false });
  for (let i = 0; i < 5000; i++) tree.insert(key(i), `value ${i} `.repeat(3), seqno.next());
  await tree.flushActiveMemtable(0);
  await tree.close();
}

describe("tables read through memory maps", () => {
  it("answer block-cache misses without a positional read", async () => {
    const dir = tempDir();
    await filledTree(dir);
    const counts: Record<string, number> = {};
    const answers: Record<string, (string | undefined)[]> = {};
    for (const mapTables of [true, false]) {
      const fs = new ReadCountingFs();
      const tree = await Tree.open({ path: dir, fs, mapTables, cacheBytes: 0, workers: false });
      const before = fs.reads;
      answers[String(mapTables)] = Array.from({ length: 500 }, (_, n) => dec(tree.get(key((n * 7919) % 5200), SEQNO_MAX)));
      counts[String(mapTables)] = fs.reads - before;
      await tree.close();
    }
    expect(counts["true"]).toBe(0);
    expect(counts["false"]).toBeGreaterThan(100);
    expect(answers["true"]).toEqual(answers["false"]);
    expect(answers["true"]?.filter((v) => v !== undefined).length).toBeGreaterThan(400);
  });

  it("scan like pread does, forward and backward", async () => {
    const dir = tempDir();
    await filledTree(dir);
    const seen: string[][] = [];
    for (const mapTables of [true, false]) {
      const tree = await Tree.open({ path: dir, mapTables, cacheBytes: 0, workers: false });
      seen.push([...entriesAt(tree), ...[...tree.range({ gte: key(100), lt: key(900), reverse: true }, SEQNO_MAX)].map(([k]) => dec(k) as string)]);
      await tree.close();
    }
    expect(seen[0]).toEqual(seen[1]);
    expect(seen[0]?.length).toBe(5000 + 800);
  });

  it("report a damaged data block as CORRUPTION at every load, never a wrong answer", async () => {
    const dir = tempDir();
    await filledTree(dir);
    const tables = join(dir, "tables");
    const [name] = (await import("node:fs")).readdirSync(tables);
    const path = join(tables, name as string);
    const bytes = readFileSync(path);
    // A byte in the middle of the first data block (just past the file header).
    bytes[100] = (bytes[100] as number) ^ 0x40;
    writeFileSync(path, bytes);
    const tree = await Tree.open({ path: dir, cacheBytes: 0, workers: false });
    for (let attempt = 0; attempt < 2; attempt++) {
      const error = thrownBy(() => tree.get(key(0), SEQNO_MAX));
      expect(error).toBeInstanceOf(LsmError);
      expect((error as LsmError).code).toBe("CORRUPTION");
      expect((error as LsmError).message).toContain(path);
    }
    // Blocks past the damage read fine.
    expect(dec(tree.get(key(4999), SEQNO_MAX))).toBe("value 4999 ".repeat(3));
    await tree.close();
  });

  it("check the option", async () => {
    await expect(Tree.open({ path: tempDir(), mapTables: "yes" as unknown as boolean })).rejects.toThrow(TypeError);
  });
});
