/**
 * The operations a {@link FaultFs} can fail, named after the `Fs`/`FsFile` method that performs them,
 * with the groups rules usually want and the syscall each one stands for in an injected error.
 *
 * @module
 */

/** Operations on the filesystem itself; their path is the argument given. */
export const FS_OPS = [
  "open",
  "createDir",
  "createDirAll",
  "readDir",
  "removeFile",
  "removeDirAll",
  "rename",
  "exists",
  "metadata",
  "syncDirectory",
  "hardLink",
  "readMany",
  "tryLock",
] as const;

/** Operations on an open file; their path is the one the file was opened with. */
export const FILE_OPS = ["read", "write", "sync", "syncData", "len", "setLen", "close"] as const;

/** Every operation kind, fs-level ones first. */
export const ALL_OPS = [...FS_OPS, ...FILE_OPS] as const;

/**
 * One operation a {@link FaultFs} sees: an `Fs` method, or an `FsFile` method (`read` is `readAt`) on a
 * file the FaultFs opened.
 */
export type FsOpKind = (typeof ALL_OPS)[number];

/** Operations that read contents: of files (`read`, `readMany`) or of directories (`readDir`). */
export const READ_OPS = ["read", "readMany", "readDir"] as const satisfies readonly FsOpKind[];

/**
 * Operations that change what is stored, apart from syncs. `open` is left out because most opens only
 * read, and `tryLock` because its file is a lock, not data; name them explicitly to fail them.
 */
export const WRITE_OPS = [
  "write",
  "setLen",
  "createDir",
  "createDirAll",
  "removeFile",
  "removeDirAll",
  "rename",
  "hardLink",
] as const satisfies readonly FsOpKind[];

/** Operations that make earlier changes durable. */
export const SYNC_OPS = ["sync", "syncData", "syncDirectory"] as const satisfies readonly FsOpKind[];

/** Operations that only ask about sizes and existence. */
export const METADATA_OPS = ["exists", "metadata", "len"] as const satisfies readonly FsOpKind[];

/** Operations whose second path is a destination; a rule's path filter may match either. */
export const TWO_PATH_OPS: ReadonlySet<FsOpKind> = new Set<FsOpKind>(["rename", "hardLink"]);

/**
 * The syscall node would name in the error of each operation, so an injected error reads like a real one
 * (`EIO: i/o error, fsync '/db/000001.sst'`).
 */
export const OP_SYSCALLS: Readonly<Record<FsOpKind, string>> = {
  open: "open",
  createDir: "mkdir",
  createDirAll: "mkdir",
  readDir: "scandir",
  removeFile: "unlink",
  removeDirAll: "rmdir",
  rename: "rename",
  exists: "stat",
  metadata: "stat",
  syncDirectory: "fsync",
  hardLink: "link",
  readMany: "read",
  tryLock: "flock",
  read: "read",
  write: "write",
  sync: "fsync",
  syncData: "fdatasync",
  len: "fstat",
  setLen: "ftruncate",
  close: "close",
};

const KNOWN: ReadonlySet<string> = new Set<string>(ALL_OPS);

/** Whether `value` names an operation kind (for validating rules built outside the type checker). */
export function isFsOpKind(value: string): value is FsOpKind {
  return KNOWN.has(value);
}
