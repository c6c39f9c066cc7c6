import type { DirInode, Inode } from "./inode.ts";

/** One path of {@link CrashFs.dump}. */
export interface CrashDumpEntry {
  /** Whether the path is a file or a directory. */
  readonly kind: "file" | "dir";
  /** Inode number: hard links show the same one. */
  readonly ino: number;
  /** Current length of a file (0 for a directory). */
  readonly size: number;
  /** The name and every ancestor's name are durable: a plain `crash()` keeps this path. */
  readonly durable: boolean;
  /** No unsynced writes (file) or entry changes (directory) are pending. */
  readonly synced: boolean;
}

/** Lists the current tree below `root`, depth first, names sorted. */
export function dumpTree(root: DirInode): Record<string, CrashDumpEntry> {
  const out: Record<string, CrashDumpEntry> = {};
  const visit = (dir: DirInode, dirPath: string, dirDurable: boolean): void => {
    for (const name of [...dir.entries.keys()].sort()) {
      const inode = dir.entries.get(name) as Inode;
      const path = `${dirPath}/${name}`;
      const durable = dirDurable && dir.durableEntries.get(name) === inode;
      if (inode.kind === "file") {
        out[path] = { kind: "file", ino: inode.ino, size: inode.data.size, durable, synced: inode.pending.length === 0 };
      } else {
        out[path] = { kind: "dir", ino: inode.ino, size: 0, durable, synced: inode.log.length === 0 };
        visit(inode, path, durable);
      }
    }
  };
  visit(root, "", true);
  return out;
}

/** One line per path, for failure messages: `/db/current  file #7  12 B  durable synced`. */
export function describeTree(root: DirInode): string {
  const lines = [`/  dir #${root.ino}  ${root.log.length === 0 ? "synced" : "unsynced"}`];
  for (const [path, entry] of Object.entries(dumpTree(root))) {
    const size = entry.kind === "file" ? `  ${entry.size} B` : "";
    const state = `${entry.durable ? "durable" : "volatile"} ${entry.synced ? "synced" : "unsynced"}`;
    lines.push(`${path}  ${entry.kind} #${entry.ino}${size}  ${state}`);
  }
  return lines.join("\n");
}
