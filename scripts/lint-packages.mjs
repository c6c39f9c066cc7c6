// `pnpm lint:packages`: lints what each published package would put on npm. Every non-private package is packed
// (pnpm pack, as published) and its tarball checked by
//   - publint --strict: package.json fields against the files shipped (exports, types, bin, files, ...);
//   - @arethetypeswrong/cli with --profile esm-only: that TypeScript resolves the types of every export the way
//     node resolves the JavaScript, under node16 (from ESM) and bundler resolution.
// The packages are ESM only on purpose ("type": "module", one `exports` entry, node >= 20.15): `require()` of
// them is not supported, so attw's node10 and node16-from-CommonJS resolutions cannot succeed and are left
// out by the esm-only profile, and only them (ignoring rules instead would also hide those problems in the
// resolutions that matter).
// Needs the packages built (dist/): the pnpm script builds first. Exit status 1 when any package fails.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packPackage, publishedPackages, ROOT } from "./published-packages.mjs";

const bin = (name) => join(ROOT, "node_modules", ".bin", name);
const checks = [
  { tool: "publint", args: (tarball) => [bin("publint"), ["run", tarball, "--strict"]] },
  { tool: "attw", args: (tarball) => [bin("attw"), [tarball, "--profile", "esm-only", "--format", "ascii", "--no-emoji", "--no-color"]] },
];

const work = mkdtempSync(join(tmpdir(), "talus-lint-packages-"));
const failures = [];
try {
  for (const { dir, manifest } of publishedPackages()) {
    console.log(`\n--- ${manifest.name}`);
    let tarball;
    try {
      tarball = packPackage(dir, work);
    } catch (error) {
      failures.push(`${manifest.name}: ${error.message}`);
      console.log(`FAIL ${manifest.name}: ${error.message}`);
      continue;
    }
    for (const { tool, args } of checks) {
      const [command, argv] = args(tarball);
      const result = spawnSync(command, argv, { encoding: "utf8" });
      const output = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim();
      if (output !== "") console.log(output);
      // attw passes a package without types ("This package does not contain types."); every package here ships them.
      const untyped = tool === "attw" && output.includes("does not contain types");
      if (result.status === 0 && !untyped) console.log(`ok ${manifest.name}: ${tool}`);
      else {
        failures.push(`${manifest.name}: ${tool}`);
        console.log(`FAIL ${manifest.name}: ${tool} (${untyped ? "no types" : `exit ${result.status ?? result.signal}`})`);
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(failures.length === 0 ? "\nlint:packages: every published package passed publint and attw" : `\nlint:packages: ${failures.length} failed: ${failures.join("; ")}`);
process.exit(failures.length === 0 ? 0 : 1);
