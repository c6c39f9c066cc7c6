import { ByteBuffer } from "./bytes.ts";

/** One change made to a file since it was last synced, replayed on top of its durable bytes. */
export type FileOp =
  | { readonly kind: "write"; readonly offset: number; readonly bytes: Uint8Array }
  | { readonly kind: "setLen"; readonly length: number };

/**
 * A regular file: what readers see now (`data`) and what a power cut leaves (`durable`, plus any
 * `pending` changes a crash option lets through). Hard links are several entries naming one inode.
 */
export class FileInode {
  readonly kind = "file";
  readonly ino: number;
  readonly data: ByteBuffer;
  readonly durable: ByteBuffer;
  /** Writes and resizes since the last sync, in order, each with its own copy of the bytes. */
  pending: FileOp[] = [];

  constructor(ino: number, contents?: Uint8Array) {
    this.ino = ino;
    this.data = new ByteBuffer(contents);
    this.durable = new ByteBuffer(contents);
  }

  write(offset: number, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.data.write(offset, bytes);
    this.pending.push({ kind: "write", offset, bytes: bytes.slice() });
  }

  setLen(length: number): void {
    this.data.setLen(length);
    this.pending.push({ kind: "setLen", length });
  }

  /**
   * Replays the pending log onto the durable copy rather than copying `data`, so that syncing a long
   * log after every small append costs what was appended, not the file's size.
   */
  sync(): void {
    for (const op of this.pending) applyFileOp(this.durable, op);
    this.pending = [];
  }
}

export function applyFileOp(target: ByteBuffer, op: FileOp): void {
  if (op.kind === "write") target.write(op.offset, op.bytes);
  else target.setLen(op.length);
}

/** One name of a directory set to an inode, or removed (`inode` undefined). */
export interface EntryChange {
  readonly name: string;
  readonly inode: Inode | undefined;
}

/** Where an {@link EntryOp} lives: its directory and the op itself. */
export interface EntryRef {
  readonly dir: DirInode;
  readonly op: EntryOp;
}

/**
 * One atomic change to a directory's entries. A rename inside one directory is a single op (both
 * names change together); a rename across directories is two ops, one per directory, that name each
 * other as `peer` so that neither half can outlive the other in a crash image.
 */
export interface EntryOp {
  /** Position in the directory's whole history of ops; stable while earlier ops are committed. */
  readonly seq: number;
  readonly changes: readonly EntryChange[];
  peer: EntryRef | undefined;
}

/**
 * A directory: its entries now, the entries a power cut leaves, and the ops that lead from the
 * latter to the former. Invariant: `durableEntries` with every op of `log` applied equals `entries`.
 */
export class DirInode {
  readonly kind = "dir";
  readonly ino: number;
  readonly entries: Map<string, Inode>;
  readonly durableEntries: Map<string, Inode>;
  /** Ops not yet durable, oldest first. */
  log: EntryOp[] = [];
  /** How many ops were ever committed (dropped from the front of `log`). */
  #committed = 0;

  constructor(ino: number, entries?: Map<string, Inode>) {
    this.ino = ino;
    this.entries = new Map(entries);
    this.durableEntries = new Map(entries);
  }

  /** Applies `changes` now and logs them as one op that is not durable yet. */
  record(changes: readonly EntryChange[]): EntryOp {
    applyChanges(this.entries, changes);
    const op: EntryOp = { seq: this.#committed + this.log.length, changes, peer: undefined };
    this.log.push(op);
    return op;
  }

  /** Index of `op` in `log`; negative when it is already durable. */
  pendingIndex(op: EntryOp): number {
    return op.seq - this.#committed;
  }

  /** Makes the first `count` logged ops durable. */
  commit(count: number): void {
    for (const op of this.log.slice(0, count)) applyChanges(this.durableEntries, op.changes);
    this.log.splice(0, count);
    this.#committed += count;
  }
}

export type Inode = FileInode | DirInode;

export function applyChanges(entries: Map<string, Inode>, changes: readonly EntryChange[]): void {
  for (const change of changes) {
    if (change.inode === undefined) entries.delete(change.name);
    else entries.set(change.name, change.inode);
  }
}
