/**
 * `talus verify <dir>`: every table and blob file of the current version checked end to end (checksums,
 * structure), read-only, with a progress bar. Every broken file is named; exit code 1 if there is one.
 *
 * @module
 */
import { BLOBS_DIR_NAME } from "@talus/lsm-core";
import { BlobFile } from "@talus/vlog";
import { openTree } from "../open.ts";
import type { CommandContext } from "./context.ts";

export interface VerifyReport {
  readonly path: string;
  readonly tables: number;
  readonly blobFiles: number;
  readonly broken: readonly { readonly file: string; readonly code: string | null; readonly message: string }[];
}

export async function verify(ctx: CommandContext, path: string, options: { mergeOperator?: string }): Promise<number> {
  const broken: { file: string; code: string | null; message: string }[] = [];
  let opened;
  try {
    opened = await openTree(path, { readOnly: true, mergeOperator: options.mergeOperator });
  } catch (error) {
    // A damaged footer or version is found at open already: that file is the broken one.
    if ((error as { code?: unknown }).code !== "CORRUPTION") throw error;
    broken.push({ file: fileNamedBy(error), code: "CORRUPTION", message: (error as Error).message });
    return report(ctx, { path, tables: 0, blobFiles: 0, broken });
  }
  const { tree, fs } = opened;
  try {
    const version = tree.currentVersion();
    const tables = [...version.tables()];
    const blobs = version.blobFiles;
    ctx.progress.start(tables.length + blobs.length, "verify");
    for (const table of tables) {
      try {
        table.table.verify();
      } catch (error) {
        broken.push(describe(table.path, error));
      }
      ctx.progress.tick(`table ${table.id}`);
    }
    for (const blob of blobs) {
      const file = `${path}/${BLOBS_DIR_NAME}/${blob.id}`;
      try {
        const reader = BlobFile.open(fs, file, { expectedId: blob.id });
        try {
          reader.verify();
        } finally {
          reader.close();
        }
      } catch (error) {
        broken.push(describe(file, error));
      }
      ctx.progress.tick(`blob file ${blob.id}`);
    }
    ctx.progress.stop();
    return report(ctx, { path, tables: tables.length, blobFiles: blobs.length, broken });
  } finally {
    ctx.progress.stop();
    await tree.close();
  }
}

function report(ctx: CommandContext, result: VerifyReport): number {
  if (ctx.json) ctx.out(JSON.stringify(result));
  else {
    for (const b of result.broken) ctx.err(`BROKEN ${b.file}: ${b.message}${b.code === null ? "" : ` [${b.code}]`}`);
    const checked = `${result.tables} tables${result.blobFiles > 0 ? ` and ${result.blobFiles} blob files` : ""}`;
    ctx.out(result.broken.length === 0 ? `ok: ${checked} of ${result.path} verified` : `FAILED: ${result.broken.length} broken file(s) among ${checked} of ${result.path}`);
  }
  return result.broken.length === 0 ? 0 : 1;
}

function describe(file: string, error: unknown): { file: string; code: string | null; message: string } {
  const code = (error as { code?: unknown }).code;
  return { file, code: typeof code === "string" ? code : null, message: error instanceof Error ? error.message : String(error) };
}

/** The file an engine error names (its messages start with or contain the path), else "(open)". */
function fileNamedBy(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const match = /(\/[^\s:,()]+)/.exec(message);
  return match?.[1] ?? "(open)";
}
