/**
 * `pnpm bench checkpoint [--sizes 100,1000] [--fs std|iouring] [--dir D] [--json F]`: how long a checkpoint
 * takes next to copying the tree's directory, for trees of the given sizes (MiB) on one filesystem, with the
 * tree (and the checkpoint's writes and syncs) on `StdFs` or `IoUringFs`.
 *
 * A checkpoint hard-links every table, so its time should follow the number of files, not the bytes;
 * the copy (node's recursive `cpSync`, which does not even fsync) follows the bytes. Values are random
 * (incompressible) 4 KiB so the tree reaches its size quickly; tables are compacted into 64 MiB files
 * first, as a long-running tree's would be.
 *
 * @module
 */
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomFillSync } from "node:crypto";
import { createCheckpoint } from "@talus/checkpoint";
import { IoUringFs, ioUringUnavailableReason, isIoUringAvailable, StdFs, type Fs } from "@talus/fs";
import { SequenceNumberCounter, Tree } from "@talus/lsm-core";

export interface CheckpointBenchRow {
  readonly sizeMiB: number;
  /** The filesystem the tree and its checkpoint were on. */
  readonly fs: "std" | "iouring";
  readonly treeBytes: number;
  readonly tableFiles: number;
  readonly checkpointMs: number;
  readonly checkpointBytes: number;
  readonly copyMs: number;
}

const VALUE_BYTES = 4096;
const TABLE_BYTES = 64 * 1024 * 1024;

export async function runCheckpointBench(argv: readonly string[], log: (line: string) => void): Promise<CheckpointBenchRow[]> {
  const sizes = option(argv, "--sizes", "100,1000")
    .split(",")
    .map((s) => Number(s));
  if (sizes.some((s) => !Number.isInteger(s) || s <= 0)) throw new Error("--sizes takes positive whole MiB, e.g. 100,1000");
  const parent = option(argv, "--dir", tmpdir());
  const fsKind = option(argv, "--fs", "std");
  if (fsKind !== "std" && fsKind !== "iouring") throw new Error(`--fs takes std or iouring, got ${fsKind}`);
  if (fsKind === "iouring" && !isIoUringAvailable()) throw new Error(`--fs iouring: io_uring is unavailable here (${ioUringUnavailableReason() ?? "unknown"})`);
  const rows: CheckpointBenchRow[] = [];
  for (const sizeMiB of sizes) {
    const root = mkdtempSync(join(parent, "talus-ckpt-bench-"));
    try {
      const fs = fsKind === "iouring" ? new IoUringFs() : new StdFs();
      try {
        rows.push(await measure(root, sizeMiB, fs, fsKind, log));
      } finally {
        if (fs instanceof IoUringFs) fs.close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  log("");
  log("| fs | tree | table files | checkpoint | copy of the directory | copy / checkpoint |");
  log("|---|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    log(`| ${r.fs} | ${(r.treeBytes / 1048576).toFixed(0)} MiB | ${r.tableFiles} | ${r.checkpointMs.toFixed(1)} ms | ${r.copyMs.toFixed(0)} ms | ${(r.copyMs / r.checkpointMs).toFixed(0)}x |`);
  }
  const json = argv.indexOf("--json");
  if (json >= 0 && argv[json + 1] !== undefined) writeFileSync(argv[json + 1] as string, `${JSON.stringify(rows, null, 2)}\n`);
  return rows;
}

async function measure(root: string, sizeMiB: number, fs: Fs, fsKind: "std" | "iouring", log: (line: string) => void): Promise<CheckpointBenchRow> {
  const path = join(root, "tree");
  const seqno = new SequenceNumberCounter();
  const tree = await Tree.open({ path, fs, seqno, flushTableSize: TABLE_BYTES });
  const count = Math.ceil((sizeMiB * 1024 * 1024) / VALUE_BYTES);
  const value = new Uint8Array(VALUE_BYTES);
  const key = new Uint8Array(16);
  const view = new DataView(key.buffer);
  for (let i = 0; i < count; i++) {
    view.setUint32(12, i);
    randomFillSync(value);
    tree.insert(key, value, seqno.next());
    if ((i + 1) % (TABLE_BYTES / VALUE_BYTES) === 0) await tree.flushActiveMemtable(0);
    if ((i + 1) % 25_000 === 0) log(`  ${sizeMiB} MiB tree: ${i + 1}/${count} values written`);
  }
  await tree.flushActiveMemtable(0);
  await tree.majorCompact(TABLE_BYTES, 0);
  const tableFiles = tree.tableCount();
  const treeBytes = tree.diskSpace();

  let started = performance.now();
  const info = await createCheckpoint(tree, join(root, "checkpoint"));
  const checkpointMs = performance.now() - started;
  await tree.close();

  started = performance.now();
  cpSync(path, join(root, "copy"), { recursive: true });
  const copyMs = performance.now() - started;
  const copied = readdirSync(join(root, "copy", "tables")).reduce((n, f) => n + statSync(join(root, "copy", "tables", f)).size, 0);
  if (copied !== treeBytes || info.sstFiles !== tableFiles) throw new Error("the copy or the checkpoint does not hold the whole tree");
  log(`  ${sizeMiB} MiB: ${tableFiles} tables, checkpoint ${checkpointMs.toFixed(1)} ms, copy ${copyMs.toFixed(0)} ms`);
  return { sizeMiB, fs: fsKind, treeBytes, tableFiles, checkpointMs, checkpointBytes: info.totalBytes, copyMs };
}

function option(argv: readonly string[], name: string, fallback: string): string {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? (argv[i + 1] as string) : fallback;
}
