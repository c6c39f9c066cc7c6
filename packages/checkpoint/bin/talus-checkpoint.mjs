#!/usr/bin/env node
// The installed command: runs the built CLI (dist/). In the workspace, `pnpm --filter @talus/checkpoint checkpoint` runs the sources.
import { runCli } from "../dist/cli.js";

process.exitCode = await runCli(process.argv.slice(2), { out: (line) => console.log(line), err: (line) => console.error(line) });
