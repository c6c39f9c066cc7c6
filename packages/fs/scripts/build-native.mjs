// Install step of @talus/fs: makes sure the native addon (memory-mapped reads) can load. A prebuilt binary
// for this platform (prebuilds/<platform>-<arch>/, shipped in the package) is used as is; otherwise the
// addon is compiled with node-gyp against the running node's own headers (they cannot be downloaded
// everywhere). Nothing here may fail the install: without the addon StdFs reads with pread.
//
// With --prebuild (run before packing), builds the binary the package ships instead, with prebuildify
// (one N-API build serves every Node version), and fails if it cannot.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const prefix = dirname(dirname(process.execPath));
const headers = existsSync(join(prefix, "include", "node", "node_api.h"));

if (process.argv.includes("--prebuild")) {
  const prebuildify = createRequire(join(root, "package.json")).resolve("prebuildify/bin.js");
  const env = headers ? { ...process.env, npm_config_nodedir: prefix } : process.env;
  const result = spawnSync(process.execPath, [prebuildify, "--napi", "--strip"], { cwd: root, env, stdio: "inherit" });
  process.exit(result.status ?? 1);
}

const prebuilds = join(root, "prebuilds", `${process.platform}-${process.arch}`);
if (existsSync(prebuilds) && readdirSync(prebuilds).some((name) => name.endsWith(".node"))) process.exit(0);
if (process.platform === "win32") {
  console.log("@talus/fs: no native addon on Windows; StdFs reads with pread");
  process.exit(0);
}
let nodeGyp;
try {
  nodeGyp = createRequire(join(root, "package.json")).resolve("node-gyp/bin/node-gyp.js");
} catch {
  console.log("@talus/fs: no prebuilt addon for this platform and no node-gyp to build one; StdFs reads with pread");
  process.exit(0);
}
const nodedir = headers ? ["--nodedir", prefix] : [];
const result = spawnSync(process.execPath, [nodeGyp, "rebuild", ...nodedir], { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
if (result.status !== 0) console.log("@talus/fs: building the native addon failed; StdFs reads with pread");
