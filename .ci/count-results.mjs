// Sums the vitest JSON reports of every package into the one closing line CI reads: "N passed, N failed".
// A suite that failed to load counts as one failure, and so does a package whose tests ran but left
// no report, so a crash can never look like success. Exit status: non-zero when anything failed.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const [smokePassed = "0", otherFailures = "0", testStatus = "0"] = process.argv.slice(2);
let passed = Number(smokePassed);
let failed = Number(otherFailures);

for (const pkg of readdirSync("packages")) {
  const dir = join("packages", pkg);
  if (!existsSync(join(dir, "vitest.config.ts"))) continue;
  const report = join(dir, "test-results", "vitest.json");
  if (!existsSync(report)) {
    console.log(`${pkg}: no test report`);
    failed += 1;
    continue;
  }
  const r = JSON.parse(readFileSync(report, "utf8"));
  const brokenSuites = r.testResults.filter((s) => s.status === "failed" && s.assertionResults.length === 0).length;
  console.log(`${pkg}: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped, ${brokenSuites} suites failed to load`);
  // Named here, next to the closing line, because a long log is often read from its tail only.
  for (const suite of r.testResults) {
    for (const test of suite.assertionResults) {
      if (test.status !== "failed") continue;
      const reason = String(test.failureMessages?.[0] ?? "").split("\n")[0].slice(0, 300);
      console.log(`  FAILED ${suite.name.replace(process.cwd() + "/", "")} > ${test.fullName}: ${reason}`);
    }
    if (suite.status === "failed" && suite.assertionResults.length === 0) {
      console.log(`  FAILED TO LOAD ${suite.name.replace(process.cwd() + "/", "")}: ${String(suite.message ?? "").split("\n")[0].slice(0, 300)}`);
    }
  }
  passed += r.numPassedTests;
  failed += r.numFailedTests + brokenSuites;
  // Suites run outside vitest (abstract-level's compliance suite under tape, in @talus/level) leave a
  // compliance.json: its assertions count like tests.
  const compliance = join(dir, "test-results", "compliance.json");
  if (existsSync(compliance)) {
    const c = JSON.parse(readFileSync(compliance, "utf8"));
    console.log(`${pkg}: compliance suite ${c.passed} passed, ${c.failed} failed`);
    for (const config of c.configs ?? []) for (const f of config.failures ?? []) console.log(`  FAILED compliance ${config.config}: ${String(f).split("\n")[0].slice(0, 300)}`);
    passed += Number(c.passed);
    failed += Number(c.failed);
  }
}
if (testStatus !== "0" && failed === 0) failed = 1; // the runner failed in a way no report shows
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
