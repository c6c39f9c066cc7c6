/**
 * The power-loss simulator: {@link CrashFs} and what goes with it.
 *
 * @module
 */
export { CrashFs } from "./crash-fs.ts";
export type { CrashOptions } from "./crash-image.ts";
export type { CrashDumpEntry } from "./dump.ts";
export { PowerCutError } from "./power-cut.ts";
