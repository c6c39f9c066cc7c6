// DESIGN.md section 1 as a test: dependencies point one way (fs ← lsm-core ← vlog ← checkpoint, testkit ←
// fs only), and only @talus/fs may touch node:fs, so MemFs, FaultFs and CrashFs see every engine byte.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const packagesDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Which workspace packages each package's sources may import. Unlisted packages (tools) may import any. */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  "@talus/fs": [],
  "@talus/testkit": ["@talus/fs"],
  "@talus/lsm-core": ["@talus/fs"],
  "@talus/vlog": ["@talus/fs", "@talus/lsm-core"],
  "@talus/checkpoint": ["@talus/fs", "@talus/lsm-core", "@talus/vlog"],
};

/** Packages whose sources may use node:fs directly: the fs layer itself, and harness code that makes temp dirs. */
const NODE_FS_ALLOWED = new Set(["@talus/fs", "@talus/testkit", "@talus/bench", "@talus/cli"]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|js|mjs)$/.test(name) ? [path] : [];
  });
}

function importsOf(source: string): string[] {
  const specifiers: string[] = [];
  const pattern = /(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|require\(\s*["']([^"']+)["']\s*\)/g;
  for (const match of source.matchAll(pattern)) specifiers.push((match[1] ?? match[2] ?? match[3]) as string);
  return specifiers;
}

const packages = readdirSync(packagesDir)
  .filter((name) => statSync(join(packagesDir, name, "src"), { throwIfNoEntry: false })?.isDirectory() === true)
  .map((name) => {
    const manifest = JSON.parse(readFileSync(join(packagesDir, name, "package.json"), "utf8")) as { name: string };
    return { name: manifest.name, dir: join(packagesDir, name) };
  });

describe("package layering", () => {
  it("finds the packages it guards", () => {
    expect(packages.map((p) => p.name)).toEqual(expect.arrayContaining(["@talus/fs", "@talus/testkit"]));
  });

  it.each(packages)("$name imports only the workspace packages below it", ({ name, dir }) => {
    const allowed = ALLOWED[name];
    const violations = sourceFiles(join(dir, "src")).flatMap((file) =>
      importsOf(readFileSync(file, "utf8"))
        .filter((spec) => spec.startsWith("@talus/"))
        .map((spec) => spec.split("/").slice(0, 2).join("/"))
        .filter((pkg) => pkg !== name && allowed !== undefined && !allowed.includes(pkg))
        .map((pkg) => `${relative(packagesDir, file)} imports ${pkg}`),
    );
    expect(violations).toEqual([]);
  });

  it.each(packages)("$name touches node:fs only if it is the fs layer or a harness", ({ name, dir }) => {
    if (NODE_FS_ALLOWED.has(name)) return;
    const violations = sourceFiles(join(dir, "src")).flatMap((file) =>
      importsOf(readFileSync(file, "utf8"))
        .filter((spec) => /^(node:)?fs(\/promises)?$/.test(spec))
        .map((spec) => `${relative(packagesDir, file)} imports ${spec}`),
    );
    expect(violations).toEqual([]);
  });

  it("spots a forbidden import when there is one (the scanner itself works)", () => {
    expect(importsOf(`import { x } from "@talus/vlog";\nconst f = await import("node:fs");\nexport * from "./a.ts";`)).toEqual([
      "@talus/vlog",
      "node:fs",
      "./a.ts",
    ]);
  });
});
