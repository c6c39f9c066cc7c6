// The README's examples run as written: the first two ```ts blocks of README.md (the automatic and the
// caller-driven tree; the second uses the first one's imports and counter) are compiled to JavaScript as
// one program, run with their imports resolved here ("@talus/lsm-core" is this package's source), and
// every `console.log(...); // output` line must print exactly what its comment says.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expectedOutput, importedSpecifiers, runExample, tsBlocks } from "@talus/testkit";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const README = join(dirname(fileURLToPath(import.meta.url)), "..", "README.md");

describe("README example", () => {
  it("runs and prints what its comments say", async () => {
    const blocks = tsBlocks(readFileSync(README, "utf8"));
    const code = `${blocks[0] ?? ""}\n${blocks[1] ?? ""}`;
    expect(code).toContain('from "@talus/lsm-core"');
    const modules = new Map<string, unknown>();
    for (const id of importedSpecifiers(code)) modules.set(id, id === "@talus/lsm-core" ? await import("../src/index.ts") : await import(/* @vite-ignore */ id));
    const { outputText } = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });
    const expected = expectedOutput(code);
    expect(expected.length).toBeGreaterThan(4);
    expect(await runExample({ commonJs: outputText, modules })).toEqual(expected);
  });
});
