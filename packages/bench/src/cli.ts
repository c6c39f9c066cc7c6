/**
 * `pnpm bench`: db_bench-style workloads on Talus, classic-level and lmdb, side by side.
 * Run with `--help` for the options; docs/BENCHMARKS.md explains the workloads and the numbers.
 *
 * @module
 */
import { writeFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { ArgError, parseArgs, USAGE, type RunOptions } from "./args.ts";
import type { Job } from "./results.ts";
import { CHILD_FLAG } from "./runner.ts";

/**
 * Relative paths are taken from where the user started `pnpm bench`, not from the package directory
 * the script runs in (turbo names its own start directory; pnpm alone names its in INIT_CWD).
 */
function userPath(path: string): string {
  const base = process.env["TURBO_INVOCATION_DIR"] ?? process.env["INIT_CWD"] ?? process.cwd();
  return isAbsolute(path) ? path : resolve(base, path);
}

/**
 * io_uring where the run needs it: `--fs iouring` or `talus@iouring` asked for on a machine without it is
 * an error naming the reason; `talus@iouring` in the default engine list is dropped there, with a note.
 */
async function checkIoUring(o: RunOptions, enginesGiven: boolean): Promise<RunOptions> {
  const wanted = o.fs === "iouring" || o.engines.includes("talus@iouring");
  if (!wanted) return o;
  const { ioUringUnavailableReason, isIoUringAvailable } = await import("@talus/fs");
  if (isIoUringAvailable()) return o;
  const reason = ioUringUnavailableReason() ?? "unknown reason";
  if (o.fs === "iouring") throw new ArgError(`--fs iouring: io_uring is unavailable here (${reason})`);
  if (enginesGiven) throw new ArgError(`talus@iouring: io_uring is unavailable here (${reason})`);
  console.error(`talus@iouring left out: io_uring is unavailable here (${reason})`);
  const engines = o.engines.filter((e) => e !== "talus@iouring");
  return { ...o, engines };
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === CHILD_FLAG) {
    const { runChild } = await import("./child.ts");
    await runChild(JSON.parse(argv[1] ?? "null") as Job);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  }
  const args = argv[0] === "--" ? argv.slice(1) : argv;
  if (args[0] === "checkpoint") {
    const { runCheckpointBench } = await import("./checkpoint-bench.ts");
    const rest = args.slice(1).map((a, i, all) => (all[i - 1] === "--dir" || all[i - 1] === "--json" ? userPath(a) : a));
    await runCheckpointBench(rest, (line) => console.log(line));
    return 0;
  }
  const command = parseArgs(args);
  switch (command.kind) {
    case "help":
      console.log(USAGE);
      return 0;
    case "compare": {
      const { compareReports, loadReport, renderComparison } = await import("./compare.ts");
      const a = userPath(command.a);
      const b = userPath(command.b);
      console.log(renderComparison(command.a, command.b, compareReports(loadReport(a), loadReport(b))));
      return 0;
    }
    case "top": {
      const { renderTop } = await import("./profile.ts");
      console.log(renderTop(userPath(command.file), command.count, command.all));
      return 0;
    }
    case "run": {
      const o = await checkIoUring(command.options, args.includes("--engines"));
      const options = {
        ...o,
        dir: o.dir === undefined ? undefined : userPath(o.dir),
        json: o.json === undefined ? undefined : userPath(o.json),
        cpuProfDir: o.cpuProfDir === undefined ? undefined : userPath(o.cpuProfDir),
      };
      const { runBench } = await import("./runner.ts");
      const { renderReport } = await import("./report.ts");
      const report = await runBench(options);
      console.log(`\n${renderReport(report, false)}`);
      if (options.json !== undefined) {
        writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
        console.log(`\nwrote ${options.json}`);
      }
      if (options.writeDocs) {
        const { DEFAULT_DOCS_PATH, writeDocs } = await import("./docs.ts");
        writeDocs(report, DEFAULT_DOCS_PATH, options.docsSection);
        console.log(`updated ${DEFAULT_DOCS_PATH} (section ${options.docsSection})`);
      }
      return report.failures.length > 0 ? 1 : 0;
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ArgError) console.error(`error: ${error.message}`);
    else console.error(error);
    process.exitCode = error instanceof ArgError ? 2 : 1;
  },
);
