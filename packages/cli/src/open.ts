/**
 * How the command opens a tree: as the kind its current version records (a blob tree with
 * `BlobTree.open`), read-only for commands that only read (nothing in the directory is created, cleaned
 * or changed), and never in a directory that holds no tree (opening one would create a tree there).
 *
 * @module
 */
import { StdFs } from "@talus/fs";
import { appendMerge, counterMerge, LsmError, readTreeKind, Tree, type MergeOperator, type TreeKind } from "@talus/lsm-core";
import { BlobTree } from "@talus/vlog";

/** The merge operators a command can open a tree with (trees whose tables hold operands need theirs). */
export const MERGE_OPERATORS: Readonly<Record<string, MergeOperator>> = { counter: counterMerge, append: appendMerge() };

export interface OpenOptions {
  readonly readOnly: boolean;
  /** A name of {@link MERGE_OPERATORS}. */
  readonly mergeOperator?: string | undefined;
}

export interface OpenedTree {
  readonly tree: Tree;
  readonly kind: TreeKind;
  readonly fs: StdFs;
}

export async function openTree(path: string, options: OpenOptions): Promise<OpenedTree> {
  const fs = new StdFs();
  const kind = readTreeKind(fs, path);
  if (kind === undefined) throw noTree(fs, path);
  let mergeOperator: MergeOperator | undefined;
  if (options.mergeOperator !== undefined) {
    mergeOperator = MERGE_OPERATORS[options.mergeOperator];
    if (mergeOperator === undefined) throw new UsageError(`unknown merge operator "${options.mergeOperator}" (known: ${Object.keys(MERGE_OPERATORS).join(", ")})`);
  }
  const treeOptions = { path, fs, readOnly: options.readOnly, workers: false as const, ...(mergeOperator === undefined ? {} : { mergeOperator }) };
  const tree = kind === "blob" ? await BlobTree.open(treeOptions) : await Tree.open(treeOptions);
  return { tree, kind, fs };
}

/** A mistake on the command line: exit code 2 and the usage. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

function noTree(fs: StdFs, path: string): Error {
  if (!fs.exists(path)) return Object.assign(new Error(`${path}: no Talus tree there (the directory does not exist)`), { code: "ENOENT" });
  return new LsmError("INVALID_DATA", `${path}: no Talus tree there (the directory has no \`current\` pointer)`);
}
