// `pnpm talus <args>` in the workspace: runs the CLI from its sources.
import { runCli } from "./cli.ts";

process.exitCode = await runCli(process.argv.slice(2), { out: (text) => process.stdout.write(`${text}\n`), err: (text) => process.stderr.write(`${text}\n`), progress: process.stderr.isTTY === true });
