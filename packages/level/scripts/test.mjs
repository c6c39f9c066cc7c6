// `pnpm test` of @talus/level: the package's vitest tests, then abstract-level's compliance suite (under
// tape, test/compliance/run.ts), both run even when the first fails, and one closing summary line.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const results = join(root, "test-results");
for (const name of ["vitest.json", "compliance.json"]) rmSync(join(results, name), { force: true });

// The package's and the workspace root's binaries (vitest, tsx), also when run without pnpm.
const bins = [join(root, "node_modules", ".bin"), join(root, "..", "..", "node_modules", ".bin")];
const env = { ...process.env, PATH: [...bins, process.env.PATH].join(delimiter) };
const run = (command, args) => spawnSync(command, args, { cwd: root, env, stdio: "inherit" }).status ?? 1;
const vitestStatus = run("vitest", ["run"]);
const complianceStatus = run("tsx", ["--conditions", "talus-source", "test/compliance/run.ts"]);

const read = (name) => {
  const path = join(results, name);
  return existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : undefined;
};
const vitest = read("vitest.json");
const compliance = read("compliance.json");
const vitestPart = vitest === undefined ? "vitest: no report" : `vitest ${vitest.numPassedTests} passed, ${vitest.numFailedTests} failed`;
const compliancePart =
  compliance === undefined
    ? "compliance: no report"
    : `abstract-level ${compliance.abstractLevel} compliance ${compliance.passed} of ${compliance.passed + compliance.failed} assertions passed`;
console.log(`\n@talus/level: ${vitestPart}; ${compliancePart}`);
process.exit(vitestStatus === 0 && complianceStatus === 0 ? 0 : 1);
