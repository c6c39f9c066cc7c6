/**
 * README examples as tests: the ```ts blocks of a package's README are compiled and run as written, and
 * every `console.log(...); // output` line must print exactly what its comment says. The caller brings
 * the TypeScript compiler (testkit depends on `@talus/fs` only) and the modules the example imports.
 *
 * @module
 */
import { format } from "node:util";

/** The ```ts blocks of `markdown`, in order. */
export function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1] as string);
}

/** What each `console.log(...); // text` line of `code` must print, in order. */
export function expectedOutput(code: string): string[] {
  const out: string[] = [];
  for (const line of code.split("\n")) {
    const match = /^\s*console\.log\(.*\);\s*\/\/ (.*)$/.exec(line);
    if (match !== null) out.push((match[1] as string).trimEnd());
  }
  return out;
}

/** The specifiers `code` imports, in order of appearance. */
export function importedSpecifiers(code: string): string[] {
  return [...code.matchAll(/^import [^;]*? from "([^"]+)";$/gm)].map((match) => match[1] as string);
}

/** What {@link runExample} runs: a compiled README example and the modules its imports resolve to. */
export interface ExampleRun {
  /** `code` compiled to a CommonJS module body (e.g. with TypeScript's `transpileModule`). */
  readonly commonJs: string;
  /** The module each import specifier resolves to. */
  readonly modules: ReadonlyMap<string, unknown>;
}

/**
 * Runs a compiled example (top-level `await` included: the body runs as an async function) and returns
 * what it printed with `console.log`, one string per call. An import the map lacks throws.
 *
 * @example
 * ```ts
 * import ts from "typescript";
 * const code = tsBlocks(readme)[0];
 * const { outputText } = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });
 * const printed = await runExample({ commonJs: outputText, modules: new Map([["@talus/vlog", await import("../src/index.ts")]]) });
 * expect(printed).toEqual(expectedOutput(code));
 * ```
 */
export async function runExample(run: ExampleRun): Promise<string[]> {
  const require = (id: string): unknown => {
    if (!run.modules.has(id)) throw new Error(`the README example imports ${id}, which was not given`);
    return run.modules.get(id);
  };
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...args: unknown[]) => Promise<void>;
  const module = { exports: {} };
  const printed: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]): void => {
    printed.push(format(...args));
  };
  try {
    await new AsyncFunction("require", "module", "exports", run.commonJs)(require, module, module.exports);
  } finally {
    console.log = log;
  }
  return printed;
}
