// The README's example runs as written: the first ```ts block of README.md is compiled to JavaScript,
// run with its imports resolved here ("@talus/vlog" is this package's source), and every
// `console.log(...); // output` line must print exactly what its comment says.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { format } from "node:util";
import ts from "typescript";
import { afterEach, describe, expect, it, vi } from "vitest";

const README = join(dirname(fileURLToPath(import.meta.url)), "..", "README.md");

/** The first ```ts block of the README. */
function firstTsBlock(markdown: string): string {
  const match = /^```ts\n([\s\S]*?)^```$/m.exec(markdown);
  if (match === null) throw new Error("README.md has no ```ts code block");
  return match[1] as string;
}

/** What each `console.log(...); // text` line of the example must print, in order. */
function expectedOutput(code: string): string[] {
  const out: string[] = [];
  for (const line of code.split("\n")) {
    const match = /^\s*console\.log\(.*\);\s*\/\/ (.*)$/.exec(line);
    if (match !== null) out.push((match[1] as string).trimEnd());
  }
  return out;
}

/** The modules the example imports, by specifier. "@talus/vlog" is this package, as its users import it. */
async function loadImports(code: string): Promise<Map<string, unknown>> {
  const modules = new Map<string, unknown>();
  for (const [, specifier] of code.matchAll(/^import [^;]*? from "([^"]+)";$/gm)) {
    const id = specifier as string;
    modules.set(id, id === "@talus/vlog" ? await import("../src/index.ts") : await import(/* @vite-ignore */ id));
  }
  return modules;
}

/** Compiles the example to a CommonJS function body (top-level await included) and runs it. */
async function run(code: string, modules: Map<string, unknown>): Promise<void> {
  const { outputText } = ts.transpileModule(code, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: false },
    reportDiagnostics: false,
  });
  const require = (id: string): unknown => {
    if (!modules.has(id)) throw new Error(`the README example imports ${id}, which was not loaded`);
    return modules.get(id);
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
    const code = firstTsBlock(readFileSync(README, "utf8"));
    expect(code).toContain('from "@talus/vlog"');
    expect(code).not.toContain("../shared");
    const printed: string[] = [];
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
      printed.push(format(...args));
    });
    await run(code, await loadImports(code));
    const expected = expectedOutput(code);
    expect(expected.length).toBeGreaterThan(5);
    expect(printed).toEqual(expected);
  });
});
