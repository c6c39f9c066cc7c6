import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SequenceNumberCounter, Tree } from "@talus/lsm-core";
import { useTempDirs } from "@talus/testkit";
import { runCli } from "../src/cli.ts";

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
    expect(out.join("\n")).toMatch(/tables: +1 \(/);
    expect(readdirSync(join(root, "backup", "tables"))).toHaveLength(1);
    const copy = await Tree.open({ path: join(root, "backup") });
    expect(copy.len(Number.MAX_SAFE_INTEGER)).toBe(100);
    await copy.close();
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
  });
});
