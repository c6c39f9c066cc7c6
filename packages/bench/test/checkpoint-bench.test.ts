import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ioUringUnavailableReason, isIoUringAvailable } from "@talus/fs";
import { runCheckpointBench } from "../src/checkpoint-bench.ts";

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "talus-ckpt-bench-test-"));
  made.push(dir);
  return dir;
};

describe("pnpm bench checkpoint", () => {
  it("measures a checkpoint and a directory copy of the same tree and prints a table", async () => {
    const lines: string[] = [];
    const rows = await runCheckpointBench(["--sizes", "2", "--dir", tempDir()], (l) => lines.push(l));
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row?.tableFiles).toBeGreaterThanOrEqual(1);
    expect(row?.treeBytes).toBeGreaterThan(2 * 1024 * 1024);
    expect(row?.checkpointBytes).toBe(row?.treeBytes);
    expect(row?.checkpointMs).toBeGreaterThan(0);
    expect(row?.fs).toBe("std");
    expect(lines.join("\n")).toContain("| fs | tree | table files | checkpoint |");
  });

  it.skipIf(!isIoUringAvailable())(`with --fs iouring, builds and checkpoints the tree on IoUringFs${isIoUringAvailable() ? "" : ` (skipped: ${ioUringUnavailableReason() ?? ""})`}`, async () => {
    const lines: string[] = [];
    const rows = await runCheckpointBench(["--sizes", "2", "--fs", "iouring", "--dir", tempDir()], (l) => lines.push(l));
    expect(rows.map((r) => r.fs)).toEqual(["iouring"]);
    expect(rows[0]?.checkpointBytes).toBe(rows[0]?.treeBytes);
    expect(lines.join("\n")).toMatch(/\| iouring \| \d+ MiB \|/);
  });

  it("rejects an unknown --fs", async () => {
    await expect(runCheckpointBench(["--sizes", "1", "--fs", "zfs"], () => undefined)).rejects.toThrow("--fs takes std or iouring");
  });

  it("rejects sizes that are not positive whole MiB", async () => {
    await expect(runCheckpointBench(["--sizes", "0"], () => undefined)).rejects.toThrow(/--sizes/);
  });
});
