// Consumers import the built dist/ with plain node (no TypeScript, no source condition). This proves it
// works for every package: each one's main entry imports and exposes the names its README promises.
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { spawnSync } from "node:child_process";

const expected = {
  "@talus/fs": ["StdFs", "MemFs", "KERNEL_BACKEND_ID", "copyFileAcross"],
  "@talus/testkit": ["CrashFs", "FaultFs", "fsContract", "Random", "useTempDirs"],
  "@talus/checkpoint": ["createCheckpoint", "linkOrCopy"],
  "@talus/lsm-core": ["Tree", "SequenceNumberCounter", "Leveled", "SizeTiered", "Fifo", "LsmError", "DeletionPause"],
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
// The installed command runs from dist/ too.
const help = spawnSync(process.execPath, ["packages/checkpoint/bin/talus-checkpoint.mjs", "--help"], { encoding: "utf8" });
if (help.status === 0 && help.stdout.includes("usage: talus-checkpoint")) console.log("ok talus-checkpoint --help");
else {
  failed += 1;
  console.log(`FAIL talus-checkpoint --help: exit ${help.status} ${help.stderr}`);
}
process.exit(failed > 0 ? 1 : 0);
