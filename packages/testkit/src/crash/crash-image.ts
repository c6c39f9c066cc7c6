import { Random } from "../random.ts";
import { applyChanges, applyFileOp, DirInode, FileInode, type FileOp, type Inode } from "./inode.ts";
import { closePrefixes } from "./journal.ts";

/**
 * How much of what was never synced a power cut lets through. With no options only durable state
 * survives, which is what a correct engine must be able to recover from; the options add the
 * (legal) luck of a kernel that had already written some dirty pages or directory blocks back.
 */
export interface CrashOptions {
  /** Seeds every random choice below, so that an image can be rebuilt exactly. Default 0. */
  readonly seed?: number;
  /**
   * Probability (0..1) that each unsynced write or `setLen` of a surviving file is kept. Kept ones are
   * replayed in their original order on top of the file's durable bytes. Default 0.
   */
  readonly keepUnsyncedWrites?: number;
  /**
   * The last kept unsynced write of each file survives only as a random prefix (0 to length−1
   * bytes), like a sector-sized tear at the tail of a log. Default false.
   */
  readonly tearLastWrite?: boolean;
  /**
   * Per directory, the unsynced entry changes survive as a prefix of their history: each change, in
   * order, is kept with this probability until the first one that is not. A cross-directory rename
   * survives whole or not at all (it is never lost half-way). Default 0.
   */
  readonly keepUnsyncedEntries?: number;
}

/**
 * Builds the tree a machine would find after a power cut, as fresh inodes in which everything is
 * durable. Only what is reachable from the root through surviving entries is copied, once per inode,
 * so hard links stay shared and files whose names did not survive are gone with their pending writes.
 */
export function buildImage(root: DirInode, dirty: Iterable<DirInode>, options: CrashOptions): DirInode {
  const keepWrites = probability(options.keepUnsyncedWrites, "keepUnsyncedWrites");
  const keepEntries = probability(options.keepUnsyncedEntries, "keepUnsyncedEntries");
  const rng = new Random(options.seed ?? 0);
  // Independent streams, so that turning one knob does not reshuffle the choices of the other.
  const entryRng = rng.fork();
  const writeRng = rng.fork();

  const chosen = new Map<DirInode, number>();
  if (keepEntries > 0) {
    for (const dir of dirty) {
      let kept = 0;
      while (kept < dir.log.length && entryRng.chance(keepEntries)) kept++;
      if (kept > 0) chosen.set(dir, kept);
    }
  }
  const prefixes = closePrefixes(chosen);

  const copies = new Map<Inode, Inode>();
  const copyFile = (file: FileInode): FileInode => {
    const bytes = file.durable.clone();
    for (const op of survivingWrites(file.pending, keepWrites, options.tearLastWrite === true, writeRng)) {
      applyFileOp(bytes, op);
    }
    return new FileInode(file.ino, bytes.toBytes());
  };
  const copyDir = (dir: DirInode): DirInode => {
    const entries = new Map(dir.durableEntries);
    for (const op of dir.log.slice(0, prefixes.get(dir) ?? 0)) applyChanges(entries, op.changes);
    const copy = new DirInode(dir.ino);
    copies.set(dir, copy);
    for (const [name, child] of entries) {
      const known = copies.get(child);
      // A directory reached twice would make the image a cycle or a DAG; the rename rule keeps every
      // directory under one parent, so this only guards against a bug turning into a hang.
      if (known !== undefined && known.kind === "dir") continue;
      const childCopy = known ?? (child.kind === "file" ? copyFile(child) : copyDir(child));
      copies.set(child, childCopy);
      copy.entries.set(name, childCopy);
      copy.durableEntries.set(name, childCopy);
    }
    return copy;
  };
  return copyDir(root);
}

function survivingWrites(pending: readonly FileOp[], keep: number, tear: boolean, rng: Random): FileOp[] {
  if (keep === 0 || pending.length === 0) return [];
  const kept = pending.filter(() => rng.chance(keep));
  if (!tear) return kept;
  for (let i = kept.length - 1; i >= 0; i--) {
    const op = kept[i];
    if (op?.kind !== "write") continue;
    kept[i] = { kind: "write", offset: op.offset, bytes: op.bytes.subarray(0, rng.int(op.bytes.length)) };
    break;
  }
  return kept;
}

function probability(value: number | undefined, name: string): number {
  if (value === undefined) return 0;
  if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be a probability in [0, 1], got ${value}`);
  return value;
}
