// Checkpoints and the directory lock: an open tree holds `<path>/LOCK`, a checkpoint never copies it (it
// copies tables, the version and `current` only), so the checkpoint opens as its own tree while the source
// is still open; and the command line tool, which opens the tree itself, is refused while it is open.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MemFs } from "@talus/fs";
import { useTempDirs } from "@talus/testkit";
import { Tree } from "@talus/lsm-core";
import { createCheckpoint } from "../src/index.ts";
import { runCli } from "../src/cli.ts";
import { contents, diffMaps, isLsmError, openSource, TREE_KINDS } from "./support.ts";

const dirs = useTempDirs(afterEach);

describe("checkpoints of a locked tree", () => {
  it("hold no LOCK file and open while the source is open (real disk)", async () => {
    const base = dirs.make("ck-lock");
    const src = await openSource({ path: join(base, "db") });
    src.fill(0, 200);
    expect(readdirSync(join(base, "db"))).toContain("LOCK");

    const target = join(base, "ck");
    const info = await createCheckpoint(src.tree, target);
    expect(readdirSync(target).sort()).toEqual(["current", "tables", `v${info.versionId}`]);
    expect(await Tree.open({ path: join(base, "db") }).catch((e: unknown) => e)).toSatisfy(isLsmError("LOCKED"));

    const copy = await Tree.open({ path: target });
    expect(diffMaps(contents(copy), src.model.at())).toEqual([]);
    // Each holds its own lock: the checkpoint is an independent tree.
    expect(await Tree.open({ path: target }).catch((e: unknown) => e)).toSatisfy(isLsmError("LOCKED"));
    await copy.close();
    await src.tree.close();
  });

  it("of a tree with level routes open beside it on one MemFs volume", async () => {
    const fs = new MemFs();
    const src = await openSource({ path: "/db", fs, levelRoutes: [{ levels: [0, 3], path: "/hot" }] });
    src.fill(0, 50);
    await src.tree.flushActiveMemtable(0);
    const info = await createCheckpoint(src.tree, "/ck");
    expect(fs.readDir("/ck").map((e) => e.fileName).sort()).toEqual(["current", "tables", `v${info.versionId}`]);
    const copy = await Tree.open({ path: "/ck", fs });
    expect(diffMaps(contents(copy), src.model.at())).toEqual([]);
    await copy.close();
    await src.tree.close();
  });
});

describe("talus-checkpoint and an open tree", () => {
  it.each(TREE_KINDS)("is refused with LOCKED while the %s tree is open, and creates nothing", async (kind) => {
    const base = dirs.make("ck-lock-cli");
    const src = await openSource({ path: join(base, "db") }, undefined, kind);
    src.fill(0, 10);
    const err: string[] = [];
    expect(await runCli([join(base, "db"), join(base, "backup")], { out: () => {}, err: (l) => err.push(l) })).toBe(1);
    expect(err.join("\n")).toContain("[LOCKED]");
    expect(readdirSync(base)).toEqual(["db"]);
    await src.tree.close();
    expect(await runCli([join(base, "db"), join(base, "backup")], { out: () => {}, err: (l) => err.push(l) })).toBe(0);
  });
});
