// The README's example runs as written: the first ```ts block of README.md is compiled to JavaScript,
// run with its imports resolved here ("@talus/level" is this package's source) and "./db" replaced by a
// temporary directory, and every `console.log(...); // output` line must print exactly what its comment says.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expectedOutput, runExample, tsBlocks, useTempDirs } from "@talus/testkit";
import ts from "typescript";
import { afterEach, describe, expect, it } from "vitest";

const README = join(dirname(fileURLToPath(import.meta.url)), "..", "README.md");
const dirs = useTempDirs(afterEach);

describe("README example", () => {
  it("runs and prints what its comments say", async () => {
    const readme = tsBlocks(readFileSync(README, "utf8"))[0] ?? "";
    expect(readme).toContain('new TalusLevel<string, { name: string }>("./db"');
    const code = readme.replaceAll('"./db"', JSON.stringify(join(dirs.make("level-readme"), "db")));
    const { outputText } = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });
    const expected = expectedOutput(readme);
    expect(expected.length).toBeGreaterThan(5);
    expect(await runExample({ commonJs: outputText, modules: new Map([["@talus/level", await import("../src/index.ts")]]) })).toEqual(expected);
  });
});
