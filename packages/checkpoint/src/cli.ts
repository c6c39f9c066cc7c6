/**
 * `talus-checkpoint <tree-dir> <target-dir>`: checkpoint a tree from the command line.
 *
 * The tool opens the tree itself, so the tree must not be open in another process at the same time:
 * if it is, the open is refused with `LOCKED` (the tree's `LOCK` file is held) and nothing is written.
 * To checkpoint a tree your application has open, call `createCheckpoint` from the application.
 *
 * @module
 */
import { pathToFileURL } from "node:url";
import { Tree } from "@talus/lsm-core";
import { createCheckpoint } from "./checkpoint.ts";

const USAGE = `usage: talus-checkpoint <tree-dir> <target-dir>

Creates a consistent checkpoint of the Talus tree in <tree-dir> at <target-dir> (which must not exist;
its parent must). Table files are hard-linked when both are on one filesystem, copied otherwise. The
checkpoint opens as an independent tree.

The tree must not be open in another process while this runs (it is refused
with LOCKED if it is).`;

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

/** Runs the CLI; resolves to the process exit code (0 ok, 1 failed, 2 usage). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.out(USAGE);
    return 0;
  }
  const [source, target, ...extra] = argv;
  if (source === undefined || target === undefined || extra.length > 0) {
    io.err(USAGE);
    return 2;
  }
  let tree: Tree | undefined;
  try {
    const started = performance.now();
    tree = await Tree.open({ path: source });
    const info = await createCheckpoint(tree, target);
    const ms = performance.now() - started;
    io.out(`checkpoint of ${source} written to ${target}`);
    io.out(`  tables:   ${info.sstFiles} (${formatBytes(info.totalBytes)})`);
    io.out(`  version:  v${info.versionId}`);
    io.out(`  seqno:    every record below ${info.seqno} is included`);
    io.out(`  took:     ${ms.toFixed(1)} ms`);
    return 0;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    io.err(`talus-checkpoint: ${error instanceof Error ? error.message : String(error)}${typeof code === "string" ? ` [${code}]` : ""}`);
    return 1;
  } finally {
    await tree?.close();
  }
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runCli(process.argv.slice(2), { out: (l) => console.log(l), err: (l) => console.error(l) });
}
