/**
 * `talus compact <dir>` and `talus checkpoint <dir> <target>`: the commands that write (the tree must not
 * be open elsewhere: the directory lock refuses it with `LOCKED`, and nothing is changed).
 *
 * @module
 */
import { checkpointReport, createCheckpoint } from "@talus/checkpoint";
import { formatSize } from "../format.ts";
import { openTree, UsageError } from "../open.ts";
import type { CommandContext } from "./context.ts";

export async function compact(ctx: CommandContext, path: string, options: { targetSize: string; mergeOperator?: string }): Promise<number> {
  const targetSize = Number(options.targetSize);
  if (!Number.isInteger(targetSize) || targetSize < 1) throw new UsageError(`--target-size must be a positive integer (bytes), got "${options.targetSize}"`);
  const { tree } = await openTree(path, { readOnly: false, mergeOperator: options.mergeOperator });
  try {
    const before = { tables: tree.tableCount(), bytes: tree.diskSpace() };
    const started = performance.now();
    // What a journal held goes into tables first, so the major compaction covers it.
    await tree.flushActiveMemtable(0);
    const seqno = (tree.highestSeqno() ?? 0) + 1;
    const result = await tree.majorCompact(targetSize, seqno);
    const after = { tables: tree.tableCount(), bytes: tree.diskSpace() };
    const ms = performance.now() - started;
    if (ctx.json) ctx.out(JSON.stringify({ path, action: result.action, before, after, ms: Math.round(ms) }));
    else ctx.out(`compacted ${path}: ${before.tables} tables (${formatSize(before.bytes)}) -> ${after.tables} tables (${formatSize(after.bytes)}) in ${ms.toFixed(0)} ms`);
    return 0;
  } finally {
    await tree.close();
  }
}

export async function checkpoint(ctx: CommandContext, path: string, target: string, options: { mergeOperator?: string }): Promise<number> {
  const { tree, kind } = await openTree(path, { readOnly: false, mergeOperator: options.mergeOperator });
  try {
    const started = performance.now();
    const info = await createCheckpoint(tree, target);
    const ms = performance.now() - started;
    if (ctx.json) ctx.out(JSON.stringify({ path, target, kind, ...info, ms: Math.round(ms) }));
    else for (const line of checkpointReport(path, target, kind, info)) ctx.out(line);
    return 0;
  } finally {
    await tree.close();
  }
}
