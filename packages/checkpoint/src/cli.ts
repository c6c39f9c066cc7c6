/**
 * `talus-checkpoint <tree-dir> <target-dir>`: checkpoint a tree from the command line.
 *
 * The tool opens the tree itself, so the tree must not be open in another process at the same time:
 * if it is, the open is refused with `LOCKED` (the tree's `LOCK` file is held) and nothing is written.
 * To checkpoint a tree your application has open, call `createCheckpoint` from the application.
 *
 * It reads the tree's kind from its current version first (`readTreeKind`) and opens a blob tree with
 * `BlobTree.open`, a standard tree with `Tree.open`. A directory that holds no tree is refused: opening
 * it would create an empty tree in it.
 *
 * @module
 */
import { pathToFileURL } from "node:url";
import { StdFs } from "@talus/fs";
import { LsmError, readTreeKind, Tree, type TreeKind } from "@talus/lsm-core";
import { BlobTree } from "@talus/vlog";
import { createCheckpoint } from "./checkpoint.ts";
import { checkpointReport } from "./report.ts";

const USAGE = `usage: talus-checkpoint <tree-dir> <target-dir>

Creates a consistent checkpoint of the Talus tree in <tree-dir> at <target-dir> (which must not exist;
its parent must). Table files, and the blob files of a blob tree (one created with BlobTree.open from
@talus/vlog), are hard-linked when both are on one filesystem, copied otherwise. The checkpoint opens
as an independent tree of the same kind.

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
    const fs = new StdFs();
    const kind = readTreeKind(fs, source);
    if (kind === undefined) throw noTree(fs, source);
    tree = await openTree(kind, fs, source);
    const info = await createCheckpoint(tree, target);
    const ms = performance.now() - started;
    for (const line of checkpointReport(source, target, kind, info)) io.out(line);
    io.out(`  seqno:      every record below ${info.seqno} is included`);
    io.out(`  took:       ${ms.toFixed(1)} ms`);
    return 0;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    io.err(`talus-checkpoint: ${error instanceof Error ? error.message : String(error)}${typeof code === "string" ? ` [${code}]` : ""}`);
    return 1;
  } finally {
    await tree?.close();
  }
}

/**
 * Opens the tree as the kind its version records. A blob tree gets the default `kvSeparation`: those
 * options only steer later writes and compactions, and the checkpoint does neither (its flush finds the
 * memtable of a tree just opened empty), so the tree's data and blob files stay as they are.
 */
function openTree(kind: TreeKind, fs: StdFs, path: string): Promise<Tree> {
  return kind === "blob" ? BlobTree.open({ path, fs }) : Tree.open({ path, fs });
}

/** The error for a path with no tree: opening it would create one, which is not a checkpoint's business. */
function noTree(fs: StdFs, path: string): Error {
  if (!fs.exists(path)) return Object.assign(new Error(`${path}: no Talus tree there (the directory does not exist); nothing was written`), { code: "ENOENT" });
  return new LsmError("INVALID_DATA", `${path}: no Talus tree there (the directory has no \`current\` pointer); nothing was written`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runCli(process.argv.slice(2), { out: (l) => console.log(l), err: (l) => console.error(l) });
}
