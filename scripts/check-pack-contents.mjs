// `pnpm check:pack`: the tarball of every published package holds what its package.json and README promise, and
// no tests. Each non-private package is packed (pnpm pack, as published) and its file list checked:
//   - package.json, README.md and LICENSE;
//   - dist/, with every file `exports` (each condition), `main`, `types` and `module` name;
//   - every `bin` file;
//   - what an install runs: the file of each `node <file>` preinstall / install / postinstall script and the
//     relative modules it imports; for a package with a binding.gyp, the binding.gyp and every source it lists
//     (@talus/fs: native/*.c, scripts/build-native.mjs, scripts/find-liburing.mjs);
//   - no stale build output: every dist/ module has its src/ file (tsc -b never deletes the output of a removed one);
//   - dependency ranges rewritten from workspace:* to versions;
//   - no tests: no test/, tests/, __tests__/ or test-results/ directory, no *.test.* or *.spec.* file, no vitest
//     config.
// With --release, packs with lifecycle scripts as `pnpm publish` does (so @talus/fs's prepack builds its
// prebuilds, which needs a C compiler) and also requires a prebuilt addon for this platform in prebuilds/.
// Needs the packages built (dist/): the pnpm script builds first. Exit status 1 when any package fails.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { packPackage, publishedPackages, ROOT } from "./published-packages.mjs";

const release = process.argv.includes("--release");

/** The files of a tarball, relative to its package/ root. */
function tarballFiles(tarball) {
  const result = spawnSync("tar", ["-tzf", tarball], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`tar -tzf ${tarball} failed: ${result.stderr}`);
  return result.stdout
    .split("\n")
    .filter((line) => line !== "" && !line.endsWith("/"))
    .map((line) => line.replace(/^package\//, ""));
}

function packedManifest(tarball) {
  const result = spawnSync("tar", ["-xzOf", tarball, "package/package.json"], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`no package/package.json in ${tarball}`);
  return JSON.parse(result.stdout);
}

/** Every string leaf of an `exports` value (all conditions, all subpaths). */
function exportTargets(value) {
  if (typeof value === "string") return [value];
  if (value === null || typeof value !== "object") return [];
  return Object.values(value).flatMap(exportTargets);
}

const normalize = (path) => posix.normalize(path).replace(/^\.\//, "");

/** The file an install-time script runs (`node scripts/x.mjs ...`), and the relative modules it imports, recursively. */
function installFiles(packageDir, manifest) {
  const files = new Set();
  const visit = (file) => {
    if (files.has(file)) return;
    files.add(file);
    const source = join(ROOT, packageDir, file);
    if (!existsSync(source)) return;
    for (const match of readFileSync(source, "utf8").matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) {
      visit(normalize(posix.join(posix.dirname(file), match[1])));
    }
  };
  for (const hook of ["preinstall", "install", "postinstall"]) {
    const script = manifest.scripts?.[hook];
    const match = typeof script === "string" ? /^node\s+(\S+\.[cm]?js)\b/.exec(script) : null;
    if (match) visit(normalize(match[1]));
  }
  return [...files];
}

/** binding.gyp and every source it lists, when the package has one. */
function nativeFiles(packageDir) {
  const gypPath = join(ROOT, packageDir, "binding.gyp");
  if (!existsSync(gypPath)) return [];
  // gyp files are Python literals: strip comments and trailing commas to read them as JSON.
  const text = readFileSync(gypPath, "utf8").replace(/^\s*#.*$/gm, "").replace(/,(\s*[\]}])/g, "$1");
  const sources = [];
  const walk = (value) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value !== null && typeof value === "object") {
      for (const [key, child] of Object.entries(value)) {
        if (key === "sources" && Array.isArray(child)) sources.push(...child.filter((s) => typeof s === "string" && !s.includes("<(")));
        else walk(child);
      }
    }
  };
  walk(JSON.parse(text));
  return ["binding.gyp", ...sources.map(normalize)];
}

const TEST_DIRS = new Set(["test", "tests", "__tests__", "test-results"]);
function isTestFile(path) {
  const parts = path.split("/");
  const name = parts[parts.length - 1];
  return parts.slice(0, -1).some((part) => TEST_DIRS.has(part)) || /\.(test|spec)\./.test(name) || /^vitest\.config\./.test(name);
}

function check(dir, manifest, tarball) {
  const files = tarballFiles(tarball);
  const have = new Set(files);
  const problems = [];
  const required = new Map(); // file → why
  const need = (file, why) => required.has(normalize(file)) || required.set(normalize(file), why);
  need("package.json", "the manifest");
  need("README.md", "the README");
  need("LICENSE", "the license its manifest names");
  for (const target of exportTargets(manifest.exports)) need(target, "named by exports");
  for (const field of ["main", "types", "module"]) if (typeof manifest[field] === "string") need(manifest[field], `named by "${field}"`);
  const bins = typeof manifest.bin === "string" ? [manifest.bin] : Object.values(manifest.bin ?? {});
  for (const file of bins) need(file, "a bin");
  for (const file of installFiles(dir, manifest)) need(file, "run when the package is installed");
  for (const file of nativeFiles(dir)) need(file, "builds the native addon");
  for (const [file, why] of required) if (!have.has(file)) problems.push(`missing ${file} (${why})`);
  if (!files.some((file) => file.startsWith("dist/"))) problems.push("no dist/");
  if (release && existsSync(join(ROOT, dir, "binding.gyp"))) {
    const platform = `prebuilds/${process.platform}-${process.arch}/`;
    if (!files.some((file) => file.startsWith(platform) && file.endsWith(".node"))) problems.push(`missing ${platform}*.node (the prebuilt addon)`);
  }
  // A dist/ file whose source is gone is left over from an earlier build (tsc never deletes outputs).
  if (files.some((file) => file.startsWith("src/"))) {
    const stale = files.filter((file) => /^dist\/.*\.(js|d\.ts)$/.test(file) && !have.has(file.replace(/^dist\//, "src/").replace(/(\.d)?\.ts$|\.js$/, ".ts")));
    if (stale.length > 0) problems.push(`stale build output (no source): ${stale.slice(0, 5).join(", ")}${stale.length > 5 ? `, ... (${stale.length})` : ""}`);
  }
  const tests = files.filter(isTestFile);
  if (tests.length > 0) problems.push(`ships tests: ${tests.slice(0, 5).join(", ")}${tests.length > 5 ? `, ... (${tests.length})` : ""}`);
  const packed = packedManifest(tarball);
  for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
    for (const [name, range] of Object.entries(packed[field] ?? {})) {
      if (String(range).startsWith("workspace:")) problems.push(`${field}.${name} is still "${range}"`);
    }
  }
  return { problems, fileCount: files.length, required: [...required.keys()] };
}

const work = mkdtempSync(join(tmpdir(), "talus-check-pack-"));
let failed = 0;
try {
  for (const { dir, manifest } of publishedPackages()) {
    try {
      const tarball = packPackage(dir, work, { scripts: release });
      const { problems, fileCount, required } = check(dir, manifest, tarball);
      if (problems.length === 0) console.log(`ok ${manifest.name}: ${fileCount} files, no tests; has ${required.join(", ")}`);
      else {
        failed++;
        console.log(`FAIL ${manifest.name}:\n  ${problems.join("\n  ")}`);
      }
    } catch (error) {
      failed++;
      console.log(`FAIL ${manifest.name}: ${error.message}`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(failed === 0 ? "check:pack: every published tarball holds what it promises and no tests" : `check:pack: ${failed} package(s) failed`);
process.exit(failed === 0 ? 0 : 1);
