// Install step of @talus/fs: makes sure the native addon (memory-mapped reads, and IoUringFs's io_uring
// data path) can load. A prebuilt binary for this platform (prebuilds/<platform>-<arch>/, shipped in the
// package) is used as is; otherwise the addon is compiled with node-gyp against the running node's own
// headers (they cannot be downloaded everywhere). Nothing here may fail the install: without the addon
// StdFs reads with pread and IoUringFs is unavailable.
//
// The io_uring part is compiled in only where liburing-dev is installed (find-liburing.mjs); liburing is
// linked statically (liburing.a), so the addon never needs liburing.so at run time. Where it is missing the
// addon is built without that part: memory maps work, isIoUringAvailable() is false.
//
// With --prebuild (run before packing), builds the binary the package ships instead, with prebuildify
// (one N-API build serves every Node version), and fails if it cannot.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { findLiburing } from "./find-liburing.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const prefix = dirname(dirname(process.execPath));
const headers = existsSync(join(prefix, "include", "node", "node_api.h"));

/** The gyp variable binding.gyp links the io_uring part with ("" leaves it out). */
function liburing() {
  try {
    return findLiburing();
  } catch {
    return "";
  }
}

if (process.argv.includes("--prebuild")) {
  const prebuildify = createRequire(join(root, "package.json")).resolve("prebuildify/bin.js");
  // node-gyp (run by prebuildify) takes npm_config_* variables as options and unknown options as gyp variables.
  const env = { ...process.env, npm_config_talus_liburing: liburing(), ...(headers ? { npm_config_nodedir: prefix } : {}) };
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
const library = liburing();
if (library === "") console.log("@talus/fs: liburing-dev not found; building the addon without io_uring (IoUringFs unavailable)");
const result = spawnSync(process.execPath, [nodeGyp, "rebuild", ...nodedir, `--talus_liburing=${library}`], { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
if (result.status !== 0) console.log("@talus/fs: building the native addon failed; StdFs reads with pread, IoUringFs is unavailable");
