// The README's examples run as written: the first two ```ts blocks of README.md (the automatic and the
// caller-driven tree; the second uses the first one's imports and counter) are compiled to JavaScript as
// one program, run with their imports resolved here ("@talus/lsm-core" is this package's source), and
// every `console.log(...); // output` line must print exactly what its comment says.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { format } from "node:util";
import ts from "typescript";
import { afterEach, describe, expect, it, vi } from "vitest";

const README = join(dirname(fileURLToPath(import.meta.url)), "..", "README.md");

/** The first two ```ts blocks of the README, as one program. */
function usageBlocks(markdown: string): string {
  const blocks = [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1] as string);
  if (blocks.length < 2) throw new Error("README.md has fewer than two ```ts code blocks");
  return `${blocks[0]}\n${blocks[1]}`;
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

/** The modules the example imports, by specifier. "@talus/lsm-core" is this package, as its users import it. */
async function loadImports(code: string): Promise<Map<string, unknown>> {
  const modules = new Map<string, unknown>();
  for (const [, specifier] of code.matchAll(/^import [^;]*? from "([^"]+)";$/gm)) {
    const id = specifier as string;
    modules.set(id, id === "@talus/lsm-core" ? await import("../src/index.ts") : await import(/* @vite-ignore */ id));
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
    const code = usageBlocks(readFileSync(README, "utf8"));
    expect(code).toContain('from "@talus/lsm-core"');
    expect(code).not.toContain("../shared");
    const printed: string[] = [];
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
      printed.push(format(...args));
    });
    await run(code, await loadImports(code));
    const expected = expectedOutput(code);
    expect(expected.length).toBeGreaterThan(4);
    expect(printed).toEqual(expected);
  });
});
