/**
 * `@talus/testkit`: the harnesses every Talus package tests with.
 *
 * - {@link FaultFs}: wraps any `Fs` and fails chosen operations (errors, torn writes), recording each fault.
 * - {@link CrashFs}: an in-memory volume that models what survives a power cut, with sync-point cuts.
 * - {@link fsContract}: the compliance suite every `Fs` backend runs.
 * - {@link ForwardingFile}: the base of `FsFile` wrappers that observe or slow down a few calls.
 * - {@link Random}, {@link makeTempDir}, {@link useTempDirs}: seeded randomness and temp directories.
 * - {@link runExample}, {@link tsBlocks}, {@link expectedOutput}: README examples run as tests.
 *
 * Tree-level harnesses take an `open` function as a parameter, so testkit depends on `@talus/fs` only.
 *
 * @module
 */
export * from "./crash/index.ts";
export * from "./fault/index.ts";
export * from "./fs-contract/index.ts";
export { ForwardingFile } from "./forwarding-file.ts";
export * from "./oracle/index.ts";
export { Random } from "./random.ts";
export { expectedOutput, importedSpecifiers, runExample, tsBlocks, type ExampleRun } from "./readme-example.ts";
export { makeTempDir, useTempDirs, type TempDir } from "./temp-dir.ts";
