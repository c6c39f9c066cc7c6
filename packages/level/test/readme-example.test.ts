// The README's example runs as written: the first ```ts block of README.md is compiled to JavaScript,
// run with its imports resolved here ("@talus/level" is this package's source) and "./db" replaced by a
// temporary directory, and every `console.log(...); // output` line must print exactly what its comment says.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { format } from "node:util";
import { useTempDirs } from "@talus/testkit";
import ts from "typescript";
import { afterEach, describe, expect, it, vi } from "vitest";

const README = join(dirname(fileURLToPath(import.meta.url)), "..", "README.md");
const dirs = useTempDirs(afterEach);

function firstTsBlock(markdown: string): string {
  const match = /^```ts\n([\s\S]*?)^```$/m.exec(markdown);
  if (match === null) throw new Error("README.md has no ```ts code block");
  return match[1] as string;
}

function expectedOutput(code: string): string[] {
  const out: string[] = [];
  for (const line of code.split("\n")) {
    const match = /^\s*console\.log\(.*\);\s*\/\/ (.*)$/.exec(line);
    if (match !== null) out.push((match[1] as string).trimEnd());
  }
  return out;
}

async function run(code: string): Promise<void> {
  const { outputText } = ts.transpileModule(code, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: false },
    reportDiagnostics: false,
  });
  const level = await import("../src/index.ts");
  const require = (id: string): unknown => {
    if (id !== "@talus/level") throw new Error(`the README example imports ${id}`);
    return level;
  };
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...args: unknown[]) => Promise<void>;
  const module = { exports: {} };
  await new AsyncFunction("require", "module", "exports", outputText)(require, module, module.exports);
}

describe("README example", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("runs and prints what its comments say", async () => {
    const readme = firstTsBlock(readFileSync(README, "utf8"));
    expect(readme).toContain('new TalusLevel<string, { name: string }>("./db"');
    const code = readme.replaceAll('"./db"', JSON.stringify(join(dirs.make("level-readme"), "db")));
    const printed: string[] = [];
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
      printed.push(format(...args));
    });
    await run(code);
    const expected = expectedOutput(readme);
    expect(expected.length).toBeGreaterThan(5);
    expect(printed).toEqual(expected);
  });
});
