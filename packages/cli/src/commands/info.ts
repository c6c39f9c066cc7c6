/**
 * `talus info <dir>`: what a tree is made of, read-only.
 *
 * @module
 */
import { JOURNAL_DIR_NAME, LEVEL_COUNT } from "@talus/lsm-core";
import { formatSize } from "../format.ts";
import { openTree } from "../open.ts";
import type { CommandContext } from "./context.ts";

export interface TreeInfo {
  readonly path: string;
  readonly kind: string;
  readonly version: number;
  /** The highest seqno in the tree (memtables replayed from a journal included), or null when empty. */
  readonly highestSeqno: number | null;
  readonly levels: readonly { readonly level: number; readonly runs: number; readonly tables: number; readonly bytes: number }[];
  readonly tables: number;
  readonly blobFiles: number;
  readonly blobBytes: number;
  readonly staleBlobBytes: number;
  /** Entries the tree's journal held that no table has yet (replayed into memory). */
  readonly unflushedEntries: number;
  readonly journalFiles: number;
  /** Table and blob files of the current version plus journal files. */
  readonly diskBytes: number;
}

export async function info(ctx: CommandContext, path: string, options: { mergeOperator?: string }): Promise<number> {
  const { tree, kind, fs } = await openTree(path, { readOnly: true, mergeOperator: options.mergeOperator });
  try {
    const version = tree.currentVersion();
    const levels = [];
    for (let level = 0; level < LEVEL_COUNT; level++) {
      const runs = version.levels[level]?.runs ?? [];
      let tables = 0;
      let bytes = 0;
      for (const run of runs) for (const table of run.tables) {
        tables++;
        bytes += table.size;
      }
      levels.push({ level, runs: runs.length, tables, bytes });
    }
    const journalDir = `${path}/${JOURNAL_DIR_NAME}`;
    let journalFiles = 0;
    let journalBytes = 0;
    if (fs.exists(journalDir)) {
      for (const entry of fs.readDir(journalDir)) {
        if (entry.isDir) continue;
        journalFiles++;
        journalBytes += fs.metadata(`${journalDir}/${entry.fileName}`).len;
      }
    }
    let unflushed = tree.approximateLen();
    for (const table of version.tables()) unflushed -= table.table.meta.entryCount;
    const blobBytes = version.blobFiles.reduce((sum, blob) => sum + blob.size, 0);
    const result: TreeInfo = {
      path,
      kind,
      version: version.id,
      highestSeqno: tree.highestSeqno() ?? null,
      levels,
      tables: version.tableCount,
      blobFiles: version.blobFiles.length,
      blobBytes,
      staleBlobBytes: tree.staleBlobBytes(),
      unflushedEntries: unflushed,
      journalFiles,
      diskBytes: tree.diskSpace() + journalBytes,
    };
    if (ctx.json) {
      ctx.out(JSON.stringify(result));
      return 0;
    }
    ctx.out(`tree:        ${path} (${kind})`);
    ctx.out(`version:     v${result.version}`);
    ctx.out(`seqno:       ${result.highestSeqno === null ? "empty" : `highest ${result.highestSeqno}`}`);
    ctx.out("levels:");
    for (const l of levels) ctx.out(`  L${l.level}  ${String(l.tables).padStart(5)} tables  ${String(l.runs).padStart(3)} runs  ${formatSize(l.bytes).padStart(10)}`);
    if (kind === "blob") ctx.out(`blob files:  ${result.blobFiles} (${formatSize(blobBytes)}, ${formatSize(result.staleBlobBytes)} stale)`);
    if (journalFiles > 0 || unflushed > 0) ctx.out(`journal:     ${journalFiles} files, ${unflushed} entries not yet in tables`);
    ctx.out(`disk:        ${formatSize(result.diskBytes)}`);
    return 0;
  } finally {
    await tree.close();
  }
}
