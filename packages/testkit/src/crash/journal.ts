import type { DirInode, EntryChange, Inode } from "./inode.ts";

/**
 * Records every directory change of one volume and decides which of them are durable.
 *
 * A directory's ops become durable in the order they were made (a later change to a name must never
 * survive without the earlier one, or a crash could resurrect a removed entry over a newer one). The
 * two halves of a cross-directory rename are tied: committing either one commits the other, together
 * with whatever precedes it in its directory. That is what a journaling file system does, and the
 * only way to promise that a rename never loses the file whichever directory the caller synced.
 */
export class Journal {
  /** Directories with a non-empty log, in the order they first got one (deterministic for seeds). */
  readonly dirty = new Set<DirInode>();

  record(dir: DirInode, changes: readonly EntryChange[]): void {
    dir.record(changes);
    this.dirty.add(dir);
  }

  /** Moves `inode` from `from/fromName` to `to/toName`, replacing whatever `toName` named. */
  rename(from: DirInode, fromName: string, to: DirInode, toName: string, inode: Inode): void {
    if (from === to) {
      this.record(from, [
        { name: fromName, inode: undefined },
        { name: toName, inode },
      ]);
      return;
    }
    const removal = from.record([{ name: fromName, inode: undefined }]);
    const addition = to.record([{ name: toName, inode }]);
    removal.peer = { dir: to, op: addition };
    addition.peer = { dir: from, op: removal };
    this.dirty.add(from);
    this.dirty.add(to);
  }

  /** Makes every pending change of `dir` durable (and what the rename rule drags along). */
  sync(dir: DirInode): void {
    if (dir.log.length === 0) return;
    for (const [target, count] of closePrefixes(new Map([[dir, dir.log.length]]))) {
      target.commit(count);
      if (target.log.length === 0) this.dirty.delete(target);
    }
  }
}

/**
 * Extends a choice of log prefixes (directory → number of leading ops) until no kept op has its
 * rename peer outside the chosen prefix of the peer's directory. Prefixes only grow, so this ends.
 */
export function closePrefixes(initial: ReadonlyMap<DirInode, number>): Map<DirInode, number> {
  const prefixes = new Map(initial);
  const work: Array<{ dir: DirInode; from: number; to: number }> = [];
  for (const [dir, count] of initial) work.push({ dir, from: 0, to: count });
  for (let item = work.pop(); item !== undefined; item = work.pop()) {
    for (const op of item.dir.log.slice(item.from, item.to)) {
      if (op.peer === undefined) continue;
      const { dir: peerDir, op: peerOp } = op.peer;
      const needed = peerDir.pendingIndex(peerOp) + 1;
      const current = prefixes.get(peerDir) ?? 0;
      if (needed <= current) continue;
      prefixes.set(peerDir, needed);
      work.push({ dir: peerDir, from: current, to: needed });
    }
  }
  return prefixes;
}
