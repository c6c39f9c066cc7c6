#!/usr/bin/env node
// The installed command: runs the built CLI (dist/). In the workspace, `pnpm talus <args>` runs the sources.
import { runCli } from "../dist/cli.js";

process.exitCode = await runCli(process.argv.slice(2), { out: (text) => process.stdout.write(`${text}\n`), err: (text) => process.stderr.write(`${text}\n`), progress: process.stderr.isTTY === true });
