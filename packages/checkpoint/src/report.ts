/**
 * The lines that tell what a checkpoint wrote, shared by the `talus-checkpoint` command of this package
 * and `talus checkpoint` of @talus/cli.
 *
 * @module
 */
import type { TreeKind } from "@talus/lsm-core";
import type { CheckpointInfo } from "./checkpoint.ts";

/**
 * What a checkpoint wrote, as the lines both `talus-checkpoint` and `talus checkpoint` print: where, the
 * tree's kind, the table and blob files, their size and the version.
 *
 * @example
 * ```ts
 * const info = await createCheckpoint(tree, "/backups/db-1");
 * for (const line of checkpointReport("/data/db", "/backups/db-1", "standard", info)) console.log(line);
 * ```
 */
export function checkpointReport(source: string, target: string, kind: TreeKind, info: CheckpointInfo): string[] {
  return [
    `checkpoint of ${source} written to ${target}`,
    `  tree:       ${kind}`,
    `  tables:     ${info.sstFiles}`,
    ...(kind === "blob" ? [`  blob files: ${info.blobFiles}`] : []),
    `  size:       ${formatBytes(info.totalBytes)}`,
    `  version:    v${info.versionId}`,
  ];
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
