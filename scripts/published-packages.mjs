// The workspace's published packages (every packages/* whose package.json is not "private"), and how to pack one
// the way `pnpm publish` would: shared by typedoc.config.mjs, lint-packages.mjs and check-pack-contents.mjs so
// that a new package is documented and checked without being listed anywhere.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** The repository root (this file lives in <root>/scripts/). */
export const ROOT = join(import.meta.dirname, "..");

/**
 * Every non-private workspace package, in directory order.
 *
 * @returns {{ dir: string, manifest: Record<string, any> }[]} `dir` is relative to the root ("packages/fs").
 */
export function publishedPackages() {
  const packages = [];
  for (const entry of readdirSync(join(ROOT, "packages"), { withFileTypes: true })) {
    const dir = `packages/${entry.name}`;
    const manifestPath = join(ROOT, dir, "package.json");
    if (!entry.isDirectory() || !existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
    if (manifest.private !== true) packages.push({ dir, manifest });
  }
  return packages;
}

/**
 * Packs the package in `dir` into `destination` with `pnpm pack` (workspace: ranges rewritten to versions, as
 * published) and returns the tarball's path. Lifecycle scripts are skipped unless `scripts` is true: @talus/fs's
 * `prepack` compiles the native prebuilds a release ships, which needs a C compiler and takes a while.
 *
 * @param {string} dir package directory, relative to the root
 * @param {string} destination an existing directory
 * @param {{ scripts?: boolean }} [options]
 * @returns {string} absolute path of the .tgz
 */
export function packPackage(dir, destination, options = {}) {
  const ignoreScripts = options.scripts === true ? [] : ["--config.ignore-scripts=true"];
  const result = spawnSync("pnpm", [...ignoreScripts, "pack", "--json", "--pack-destination", destination], {
    cwd: join(ROOT, dir),
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`pnpm pack failed in ${dir}: ${result.stderr || result.stdout}`);
  // Lifecycle scripts print to stdout too: the JSON report is the last thing there, from a line holding "{".
  const start = result.stdout.lastIndexOf("\n{\n") + 1;
  return JSON.parse(result.stdout.slice(start)).filename;
}
