// Consumers import the built dist/ with plain node (no TypeScript, no source condition). This proves it
// works for every package: each one's main entry imports and exposes the names its README promises.
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { spawnSync } from "node:child_process";

const expected = {
  "@talus/fs": ["StdFs", "MemFs", "IoUringFs", "isIoUringAvailable", "KERNEL_BACKEND_ID", "copyFileAcross"],
  "@talus/testkit": ["CrashFs", "FaultFs", "fsContract", "Random", "useTempDirs"],
  "@talus/checkpoint": ["createCheckpoint", "linkOrCopy"],
  "@talus/lsm-core": ["Tree", "SequenceNumberCounter", "Leveled", "SizeTiered", "Fifo", "LsmError", "DeletionPause", "JournalWriter", "replayJournal"],
  "@talus/cli": ["runCli"],
};
let failed = 0;
for (const dir of readdirSync("packages")) {
  const manifest = JSON.parse(readFileSync(join("packages", dir, "package.json"), "utf8"));
  if (manifest.private) continue;
  const entry = resolve("packages", dir, manifest.exports["."].default);
  try {
    const mod = await import(pathToFileURL(entry).href);
    const missing = (expected[manifest.name] ?? []).filter((name) => !(name in mod));
    if (missing.length > 0) throw new Error(`missing exports: ${missing.join(", ")}`);
    console.log(`ok ${manifest.name} (${Object.keys(mod).length} exports)`);
  } catch (error) {
    failed += 1;
    console.log(`FAIL ${manifest.name}: ${error.message}`);
  }
}
// Flushes and compactions on worker threads load the built worker entry (dist/executor/worker-main.js).
{
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const lsm = await import(pathToFileURL(resolve("packages/lsm-core/dist/index.js")).href);
  const dir = mkdtempSync(join(tmpdir(), "talus-smoke-"));
  try {
    const seqno = new lsm.SequenceNumberCounter();
    const tree = await lsm.Tree.open({ path: dir, seqno, workers: 1, mergeOperator: lsm.counterMerge });
    const one = new Uint8Array(8);
    one[0] = 1;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 1000; i++) tree.merge(`k${i}`, one, seqno.next());
      await tree.flushActiveMemtable(0);
    }
    await tree.majorCompact(1 << 20, seqno.get());
    const value = tree.get("k7", seqno.get());
    const tables = tree.tableCount();
    await tree.close();
    if (tables !== 1 || value?.[0] !== 3) throw new Error(`unexpected tree after a worker compaction: ${tables} tables, k7 = ${value}`);
    console.log("ok @talus/lsm-core flush and compaction on a worker thread");
  } catch (error) {
    failed += 1;
    console.log(`FAIL worker compaction from dist: ${error.stack ?? error}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
// The installed command runs from dist/ too.
const help = spawnSync(process.execPath, ["packages/checkpoint/bin/talus-checkpoint.mjs", "--help"], { encoding: "utf8" });
if (help.status === 0 && help.stdout.includes("usage: talus-checkpoint")) console.log("ok talus-checkpoint --help");
else {
  failed += 1;
  console.log(`FAIL talus-checkpoint --help: exit ${help.status} ${help.stderr}`);
}
const talus = spawnSync(process.execPath, ["packages/cli/bin/talus.mjs", "--help"], { encoding: "utf8" });
if (talus.status === 0 && talus.stdout.includes("Usage: talus")) console.log("ok talus --help");
else {
  failed += 1;
  console.log(`FAIL talus --help: exit ${talus.status} ${talus.stderr}`);
}
process.exit(failed > 0 ? 1 : 0);
