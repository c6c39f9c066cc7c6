// The README's example runs as written: the first ```ts block of README.md is compiled to JavaScript,
// run with its imports resolved here ("@talus/vlog" is this package's source), and every
// `console.log(...); // output` line must print exactly what its comment says.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expectedOutput, importedSpecifiers, runExample, tsBlocks } from "@talus/testkit";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const README = join(dirname(fileURLToPath(import.meta.url)), "..", "README.md");

describe("README example", () => {
  it("runs and prints what its comments say", async () => {
    const code = tsBlocks(readFileSync(README, "utf8"))[0] ?? "";
    expect(code).toContain('from "@talus/vlog"');
    expect(code).not.toContain("../shared");
    const modules = new Map<string, unknown>();
    for (const id of importedSpecifiers(code)) modules.set(id, id === "@talus/vlog" ? await import("../src/index.ts") : await import(/* @vite-ignore */ id));
    const { outputText } = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });
    const expected = expectedOutput(code);
    expect(expected.length).toBeGreaterThan(5);
    expect(await runExample({ commonJs: outputText, modules })).toEqual(expected);
  });
});
