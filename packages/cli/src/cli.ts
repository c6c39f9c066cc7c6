/**
 * The `talus` command: `info`, `verify`, `scan`, `get`, `compact` and `checkpoint` over Talus trees on disk.
 *
 * Commands that only read open the tree read-only (nothing in its directory is created, cleaned or
 * changed); every command refuses a tree that is open elsewhere (its `LOCK` is held) with `LOCKED` and
 * changes nothing. Exit codes: 0 ok, 1 failed (or `get` found nothing, or `verify` found broken files),
 * 2 a usage mistake.
 *
 * @module
 */
import { Command, CommanderError, Option } from "commander";
import { ENCODINGS } from "./format.ts";
import { MERGE_OPERATORS, UsageError } from "./open.ts";
import { progressBar } from "./progress.ts";
import type { CommandContext } from "./commands/context.ts";
import { info } from "./commands/info.ts";
import { checkpoint, compact } from "./commands/maintain.ts";
import { get, scan } from "./commands/scan.ts";
import { verify } from "./commands/verify.ts";

/** Where the command writes; `progress`: whether progress bars may be drawn (stderr is a terminal). */
export interface CliIo {
  /** Takes the output, one line or block at a time without its final newline: reports, `--json` documents, help. */
  readonly out: (text: string) => void;
  /** Takes error messages and usage errors, each without its final newline. */
  readonly err: (text: string) => void;
  /** Whether long commands may draw progress bars on stderr; default false (never with `--json`). */
  readonly progress?: boolean;
}

/**
 * Runs `talus` with `argv` (without the node and script paths); resolves to the exit code.
 *
 * @example
 * ```ts
 * import { runCli } from "@talus/cli";
 * const code = await runCli(["info", "/var/db/orders", "--json"], { out: console.log, err: console.error });
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const contextOf = (command: Command): CommandContext => {
    const json = command.optsWithGlobals<{ json?: boolean }>().json === true;
    return { out: io.out, err: io.err, json, progress: progressBar(io.progress === true && !json) };
  };
  const run =
    <A extends unknown[]>(action: (ctx: CommandContext, ...args: A) => Promise<number>) =>
    async (...args: unknown[]): Promise<void> => {
      const command = args.at(-1) as Command;
      exitCode = await action(contextOf(command), ...(args.slice(0, -1) as A));
    };
  const mergeOperator = new Option("--merge-operator <name>", "the tree's merge operator, when its tables hold merge operands").choices(Object.keys(MERGE_OPERATORS));
  const format = new Option("--format <encoding>", "how keys and values are printed").choices([...ENCODINGS]).default("utf8");
  const keyEncoding = new Option("--key-encoding <encoding>", "how keys given on the command line are read (json: a JSON string)").choices([...ENCODINGS]).default("utf8");

  const program = new Command("talus")
    .description("Inspect, verify, scan, compact and checkpoint Talus trees.")
    .option("--json", "machine-readable output (one JSON document; scan: one per entry)")
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.out(text.trimEnd()), writeErr: (text) => io.err(text.trimEnd()) })
    .showHelpAfterError();

  program
    .command("info")
    .description("kind of tree, version, seqno, tables and bytes per level, blob files, journal, disk use (read-only)")
    .argument("<dir>", "the tree's directory")
    .addOption(mergeOperator)
    .action(run((ctx, dir: string, options: { mergeOperator?: string }) => info(ctx, dir, options)));

  program
    .command("verify")
    .description("check every table and blob file end to end (read-only); exit code 1 and the broken files named on failure")
    .argument("<dir>", "the tree's directory")
    .addOption(mergeOperator)
    .action(run((ctx, dir: string, options: { mergeOperator?: string }) => verify(ctx, dir, options)));

  program
    .command("scan")
    .description("print the entries of a key range or prefix, one per line: key<TAB>value (read-only)")
    .argument("<dir>", "the tree's directory")
    .option("--prefix <key>", "only keys starting with this")
    .option("--gt <key>", "keys after this")
    .option("--gte <key>", "keys from this on")
    .option("--lt <key>", "keys before this")
    .option("--lte <key>", "keys up to this")
    .option("--limit <n>", "at most n entries")
    .option("--reverse", "from the last key down")
    .addOption(format)
    .addOption(keyEncoding)
    .addOption(mergeOperator)
    .action(run((ctx, dir: string, options: Parameters<typeof scan>[2]) => scan(ctx, dir, options)));

  program
    .command("get")
    .description("print the value of one key; exit code 1 if it has none (read-only)")
    .argument("<dir>", "the tree's directory")
    .argument("<key>", "the key (see --key-encoding)")
    .addOption(format)
    .addOption(keyEncoding)
    .addOption(mergeOperator)
    .action(run((ctx, dir: string, key: string, options: { format: string; keyEncoding: string; mergeOperator?: string }) => get(ctx, dir, key, options)));

  program
    .command("compact")
    .description("flush what the journal holds and compact every table into the last level")
    .argument("<dir>", "the tree's directory")
    .option("--target-size <bytes>", "target size of the output tables", String(64 * 1024 * 1024))
    .addOption(mergeOperator)
    .action(run((ctx, dir: string, options: { targetSize: string; mergeOperator?: string }) => compact(ctx, dir, options)));

  program
    .command("checkpoint")
    .description("write a consistent checkpoint of the tree to <target> (which must not exist): hard links where possible")
    .argument("<dir>", "the tree's directory")
    .argument("<target>", "where the checkpoint goes")
    .addOption(mergeOperator)
    .action(run((ctx, dir: string, target: string, options: { mergeOperator?: string }) => checkpoint(ctx, dir, target, options)));

  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof UsageError) {
      io.err(`talus: ${error.message}`);
      return 2;
    }
    const code = (error as { code?: unknown }).code;
    io.err(`talus: ${error instanceof Error ? error.message : String(error)}${typeof code === "string" ? ` [${code}]` : ""}`);
    return 1;
  }
}
