import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { StdFs } from "@talus/fs";
import { SEQNO_MAX, SequenceNumberCounter, Tree } from "@talus/lsm-core";
import { BlobTree } from "@talus/vlog";
import { useTempDirs } from "@talus/testkit";
import { runCli } from "../src/cli.ts";
import { BLOB_SEPARATION, contents, key, listing, sweepValue } from "./support.ts";

const dirs = useTempDirs(afterEach);

function capture(): { out: string[]; err: string[]; io: { out: (l: string) => void; err: (l: string) => void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l) => out.push(l), err: (l) => err.push(l) } };
}

describe("talus-checkpoint CLI", () => {
  it("checkpoints a tree directory and reports what it captured", async () => {
    const root = dirs.make("cli");
    const source = join(root, "live");
    const seqno = new SequenceNumberCounter();
    const tree = await Tree.open({ path: source, seqno });
    for (let i = 0; i < 100; i++) tree.insert(`k${i}`, `v${i}`, seqno.next());
    await tree.flushActiveMemtable(0);
    await tree.close();

    const { out, err, io } = capture();
    expect(await runCli([source, join(root, "backup")], io)).toBe(0);
    expect(err).toEqual([]);
    expect(out.join("\n")).toMatch(/^ +tree: +standard$/m);
    expect(out.join("\n")).toMatch(/^ +tables: +1$/m);
    expect(out.join("\n")).not.toMatch(/blob/);
    expect(readdirSync(join(root, "backup", "tables"))).toHaveLength(1);
    expect(existsSync(join(root, "backup", "blobs"))).toBe(false);
    const copy = await Tree.open({ path: join(root, "backup") });
    expect(copy.len(Number.MAX_SAFE_INTEGER)).toBe(100);
    await copy.close();
  });

  it("checkpoints a blob tree: blob files are reported and linked, and the checkpoint reads back through BlobTree.open", async () => {
    const root = dirs.make("cli");
    const source = join(root, "live");
    const seqno = new SequenceNumberCounter();
    // Separated at 64 bytes, below the CLI's default threshold: the CLI writes nothing, so its own
    // kvSeparation options cannot matter.
    const tree = await BlobTree.open({ path: source, seqno, kvSeparation: BLOB_SEPARATION });
    const expected = new Map<string, string>();
    for (let round = 0; round < 2; round++) {
      for (let i = round * 50; i < round * 50 + 100; i++) {
        tree.insert(key(i), sweepValue("blob", i, `r${round}-`), seqno.next());
        expected.set(key(i), sweepValue("blob", i, `r${round}-`));
      }
      await tree.flushActiveMemtable(0);
    }
    const blobFiles = tree.blobFileCount();
    const tables = tree.tableCount();
    expect(blobFiles).toBeGreaterThanOrEqual(2);
    await tree.close();
    const std = new StdFs();
    const sourceBefore = listing(std, source);
    const currentBefore = readFileSync(join(source, "current"));

    const { out, err, io } = capture();
    expect(await runCli([source, join(root, "backup")], io)).toBe(0);
    expect(err).toEqual([]);
    const text = out.join("\n");
    expect(text).toMatch(/^ +tree: +blob$/m);
    expect(text).toMatch(new RegExp(`^ +tables: +${tables}$`, "m"));
    expect(text).toMatch(new RegExp(`^ +blob files: +${blobFiles}$`, "m"));
    expect(readdirSync(join(root, "backup", "blobs"))).toHaveLength(blobFiles);
    // The source is as it was: no version published, no blob file written or removed.
    expect(listing(std, source)).toEqual(sourceBefore);
    expect(readFileSync(join(source, "current"))).toEqual(currentBefore);

    const copy = await BlobTree.open({ path: join(root, "backup") });
    try {
      copy.verify();
      expect(copy.blobFileCount()).toBe(blobFiles);
      expect(contents(copy, SEQNO_MAX)).toEqual(expected);
    } finally {
      await copy.close();
    }
  });

  it("refuses a directory that holds no tree, creating nothing in it or at the target", async () => {
    const root = dirs.make("cli");
    mkdirSync(join(root, "empty"));
    mkdirSync(join(root, "other"));
    writeFileSync(join(root, "other", "notes.txt"), "not a tree");
    for (const [name, code] of [
      ["empty", "INVALID_DATA"],
      ["other", "INVALID_DATA"],
      ["missing", "ENOENT"],
    ] as const) {
      const { out, err, io } = capture();
      expect(await runCli([join(root, name), join(root, `backup-${name}`)], io)).toBe(1);
      expect(out).toEqual([]);
      expect(err.join("\n")).toContain(`[${code}]`);
      expect(err.join("\n")).toContain("no Talus tree");
      expect(existsSync(join(root, `backup-${name}`))).toBe(false);
    }
    expect(readdirSync(join(root, "empty"))).toEqual([]);
    expect(readdirSync(join(root, "other"))).toEqual(["notes.txt"]);
    expect(existsSync(join(root, "missing"))).toBe(false);
  });

  it("still refuses a half-written tree directory with INVALID_DATA", async () => {
    const root = dirs.make("cli");
    mkdirSync(join(root, "half", "tables"), { recursive: true });
    const { err, io } = capture();
    expect(await runCli([join(root, "half"), join(root, "backup")], io)).toBe(1);
    expect(err.join("\n")).toContain("the `current` pointer is missing");
    expect(err.join("\n")).toContain("[INVALID_DATA]");
    expect(existsSync(join(root, "backup"))).toBe(false);
  });

  it("fails with the error code when the target exists, leaving it untouched", async () => {
    const root = dirs.make("cli");
    await (await Tree.open({ path: join(root, "live") })).close();
    const { err, io } = capture();
    expect(await runCli([join(root, "live"), root], io)).toBe(1);
    expect(err.join("\n")).toContain("[EEXIST]");
    expect(existsSync(join(root, "live", "current"))).toBe(true);
  });

  it("prints usage for missing arguments (exit 2) and for --help (exit 0)", async () => {
    const bad = capture();
    expect(await runCli(["only-one"], bad.io)).toBe(2);
    expect(bad.err.join("\n")).toContain("usage: talus-checkpoint");
    const help = capture();
    expect(await runCli(["--help"], help.io)).toBe(0);
    expect(help.out.join("\n")).toContain("must not be open in another process");
    expect(help.out.join("\n")).toContain("blob tree");
  });
});
