/**
 * `@talus/cli`: the `talus` command. Its one export runs it in-process (tests, other tools).
 *
 * @module
 */
export { runCli, type CliIo } from "./cli.ts";
