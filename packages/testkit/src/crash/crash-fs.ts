/**
 * `CrashFs`: an in-memory volume that knows what a power cut would leave behind.
 *
 * Durability model (the spec of the harness):
 * - A file has current bytes and durable bytes. `FsFile.sync()` and `syncData()` (treated alike: the
 *   model has no metadata that fdatasync could skip) make the current bytes durable. Writes and
 *   `setLen`s since the last sync are logged and, by default, lost.
 * - A directory has current entries and durable entries. `Fs.syncDirectory(dir)` makes its entries
 *   (names → inodes) durable: not its children's contents, not its own name in its parent. Every
 *   create, removal, rename and link is such an entry change, so a new file or directory survives only
 *   if its parent was synced after it was made, and only if that parent survives in turn; a removed
 *   file comes back unless its directory was synced after the removal.
 * - Entry changes of one directory become durable in the order they were made. A rename inside one
 *   directory is atomic; a rename across directories is too: syncing either directory makes both
 *   halves durable (with the changes that preceded them), so a crash never loses the file.
 * - Hard links are one inode under several names; the image keeps them one inode.
 * - `removeDirAll` removes a tree name by name, like `rm -r`: each removal is its own entry change.
 * - `crash()` builds a new volume from the durable state in which everything is durable, like a
 *   freshly booted disk, with its own backend id; the original volume is untouched and usable. Only
 *   what is reachable from `/` through surviving entries exists; pending writes of files that did not
 *   survive are irrelevant. {@link CrashOptions} let some unsynced state through, seeded:
 *   `keepUnsyncedWrites` keeps each pending write/setLen of a file with that probability (replayed in
 *   order on the durable bytes), `tearLastWrite` cuts the last kept write to a strict prefix, and
 *   `keepUnsyncedEntries` keeps, per directory, a prefix of its pending entry changes (each kept with
 *   that probability until the first that is not), widened so that no cross-directory rename is split.
 * - `cutPowerAtSync(n)` lets the next n sync calls through and, at the one after, before it acts,
 *   takes `crash(options)` as `powerCutImage` and throws {@link PowerCutError}, as does every later
 *   call on the volume or its handles. Syncs count when they reach the disk: a sync that fails its
 *   own checks (closed handle, missing directory) is not a sync point.
 *
 * - Locks (`tryLock`) are held by this volume's instance, on the file (an inode: a hard link to a locked
 *   file is locked too), and are not durable: a crash image starts with none held, as a rebooted
 *   machine does. Taking one creates the file like `open` with `create` (an entry change like any other).
 *
 * Deliberately strict, like POSIX rather than ext4: renaming into a directory whose own name is not
 * durable can lose the file, because only the synced chain of parents makes a path reachable.
 * Not modelled: reordering inside one write, metadata beyond sizes, and the dependency of moving a
 * directory into a directory that itself was just moved out of it (such a crash image may drop it).
 *
 * @module
 */
import { posix } from "node:path";
import {
  fsError,
  handleAccess,
  newMemoryBackendId,
  validateOpenOptions,
  type Fs,
  type FsDirEntry,
  type FsFile,
  type FsLock,
  type FsMetadata,
  type FsOpenOptions,
  type FsReadRequest,
} from "@talus/fs";
import { CrashFile } from "./crash-file.ts";
import { buildImage, type CrashOptions } from "./crash-image.ts";
import { describeTree, dumpTree, type CrashDumpEntry } from "./dump.ts";
import { DirInode, FileInode, type Inode } from "./inode.ts";
import { Journal } from "./journal.ts";
import { PowerCutError, type PowerSupply } from "./power-cut.ts";

/** Where a path leads: its parent directory (undefined for `/`), last name, and what is there. */
interface Location {
  readonly parent: DirInode | undefined;
  readonly name: string;
  readonly inode: Inode | undefined;
}

/**
 * An in-memory {@link Fs} that models durability like a kernel, for power-loss tests: see the module
 * comment for exactly what survives a crash. Errors match `MemFs` and Linux.
 *
 * @example
 * ```ts
 * import { CrashFs } from "@talus/testkit";
 * const fs = new CrashFs();
 * const f = fs.open("/current", { write: true, createNew: true });
 * f.write(new Uint8Array([1, 2, 3]));
 * f.sync();
 * f.close();
 * fs.crash().exists("/current"); // false: "/" was never synced after the create
 * fs.syncDirectory("/");
 * fs.crash().metadata("/current").len; // 3
 * ```
 */
export class CrashFs implements Fs {
  #root = new DirInode(1);
  #nextIno = 2;
  readonly #journal = new Journal();
  readonly #backendId = newMemoryBackendId("crashfs");
  #syncCount = 0;
  #armed: { remaining: number; options: CrashOptions } | undefined;
  #powerCutImage: CrashFs | undefined;
  #powerWasCut = false;
  /** Files locked through {@link tryLock}; never part of a crash image. */
  readonly #locks = new Set<FileInode>();
  readonly #power: PowerSupply = {
    assertPowered: () => this.#assertPowered(),
    syncPoint: () => this.#syncPoint(),
  };

  /** Sync calls (`FsFile.sync`, `FsFile.syncData`, `Fs.syncDirectory`) that took effect so far. */
  get syncCount(): number {
    return this.#syncCount;
  }

  /** Whether an armed {@link cutPowerAtSync} has fired. */
  get powerWasCut(): boolean {
    return this.#powerWasCut;
  }

  /** The crash image taken when the power was cut; undefined until then. */
  get powerCutImage(): CrashFs | undefined {
    return this.#powerCutImage;
  }

  /**
   * Arms a power cut: the next `n` sync calls (counted from now) complete, and the one after throws
   * {@link PowerCutError} before taking effect, recording `crash(options)` as {@link powerCutImage}.
   * Re-arming replaces the previous setting.
   *
   * @example
   * ```ts
   * for (let n = 0; ; n++) {
   *   const fs = new CrashFs().cutPowerAtSync(n);
   *   try { workload(fs); } catch (e) { if (!(e instanceof PowerCutError)) throw e; }
   *   check(fs.powerCutImage ?? fs.crash());
   *   if (!fs.powerWasCut) break;
   * }
   * ```
   */
  cutPowerAtSync(n: number, options: CrashOptions = {}): this {
    this.#assertPowered();
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`sync count must be a non-negative integer, got ${n}`);
    this.#armed = { remaining: n, options };
    return this;
  }

  /**
   * The volume a machine would boot after losing power now: a new, independent `CrashFs` (with its
   * own backend id) holding only what survives. This volume stays usable. Also works after a power
   * cut, to look at the frozen state with other options.
   */
  crash(options: CrashOptions = {}): CrashFs {
    const image = new CrashFs();
    image.#root = buildImage(this.#root, this.#journal.dirty, options);
    image.#nextIno = this.#nextIno;
    return image;
  }

  /** Every path below `/` with its kind, size, whether its name is durable and whether its content is synced. */
  dump(): Record<string, CrashDumpEntry> {
    return dumpTree(this.#root);
  }

  toString(): string {
    const state = this.#powerWasCut ? ", power cut" : "";
    return `CrashFs(${this.#backendId}, ${this.#syncCount} syncs${state})\n${describeTree(this.#root)}`;
  }

  open(path: string, options: FsOpenOptions): FsFile {
    this.#assertPowered();
    validateOpenOptions(path, options);
    const { parent, name, inode } = this.#locate(path, "open");
    let file: FileInode;
    if (inode !== undefined) {
      if (options.createNew === true) throw fsError("EEXIST", "open", path);
      if (inode.kind === "dir") throw fsError("EISDIR", "open", path);
      file = inode;
      if (options.truncate === true && file.data.size > 0) file.setLen(0);
    } else {
      if (options.create !== true && options.createNew !== true) throw fsError("ENOENT", "open", path);
      file = new FileInode(this.#nextIno++);
      this.#journal.record(parentOf(parent), [{ name, inode: file }]);
    }
    return new CrashFile(file, handleAccess(options), this.#power);
  }

  createDir(path: string): void {
    this.#assertPowered();
    const { parent, name, inode } = this.#locate(path, "mkdir");
    if (inode !== undefined) throw fsError("EEXIST", "mkdir", path);
    this.#journal.record(parentOf(parent), [{ name, inode: new DirInode(this.#nextIno++) }]);
  }

  createDirAll(path: string): void {
    this.#assertPowered();
    const names = components(path);
    let dir = this.#root;
    names.forEach((name, i) => {
      let child = dir.entries.get(name);
      if (child === undefined) {
        child = new DirInode(this.#nextIno++);
        this.#journal.record(dir, [{ name, inode: child }]);
      }
      if (child.kind === "file") throw fsError(i === names.length - 1 ? "EEXIST" : "ENOTDIR", "mkdir", path);
      dir = child;
    });
  }

  readDir(path: string): FsDirEntry[] {
    this.#assertPowered();
    const dir = this.#directory(path, "scandir");
    return [...dir.entries].map(([fileName, inode]) => ({
      path: posix.join(path, fileName),
      fileName,
      isDir: inode.kind === "dir",
    }));
  }

  removeFile(path: string): void {
    this.#assertPowered();
    const { parent, name, inode } = this.#locate(path, "unlink");
    if (inode === undefined) throw fsError("ENOENT", "unlink", path);
    if (inode.kind === "dir" || parent === undefined) throw fsError("EISDIR", "unlink", path);
    this.#journal.record(parent, [{ name, inode: undefined }]);
  }

  removeDirAll(path: string): void {
    this.#assertPowered();
    const { parent, name, inode } = this.#locate(path, "rmdir");
    if (inode === undefined) throw fsError("ENOENT", "rmdir", path);
    if (inode.kind === "file") throw fsError("ENOTDIR", "rmdir", path);
    if (parent === undefined) throw fsError("EBUSY", "rmdir", path);
    this.#removeTree(inode);
    this.#journal.record(parent, [{ name, inode: undefined }]);
  }

  rename(from: string, to: string): void {
    this.#assertPowered();
    const source = this.#locate(from, "rename", from, to);
    const target = this.#locate(to, "rename", from, to);
    const fail = (code: string): Error => fsError(code, "rename", from, to);
    if (source.inode === undefined) throw fail("ENOENT");
    if (source.parent === undefined || target.parent === undefined) throw fail("EBUSY");
    // Linux checks ancestry before kinds: moving a directory below itself, or onto its own ancestor.
    const sourcePath = posix.resolve("/", from);
    const targetPath = posix.resolve("/", to);
    if (source.inode.kind === "dir" && targetPath.startsWith(`${sourcePath}/`)) throw fail("EINVAL");
    if (sourcePath.startsWith(`${targetPath}/`)) throw fail("ENOTEMPTY");
    // Two names of one inode: rename(2) does nothing and leaves both.
    if (target.inode === source.inode) return;
    if (target.inode !== undefined) {
      if (source.inode.kind === "file" && target.inode.kind === "dir") throw fail("EISDIR");
      if (source.inode.kind === "dir" && target.inode.kind === "file") throw fail("ENOTDIR");
      if (target.inode.kind === "dir" && target.inode.entries.size > 0) throw fail("ENOTEMPTY");
    }
    this.#journal.rename(source.parent, source.name, target.parent, target.name, source.inode);
  }

  exists(path: string): boolean {
    this.#assertPowered();
    let inode: Inode | undefined = this.#root;
    for (const name of components(path)) {
      if (inode?.kind !== "dir") return false;
      inode = inode.entries.get(name);
    }
    return inode !== undefined;
  }

  metadata(path: string): FsMetadata {
    this.#assertPowered();
    const { inode } = this.#locate(path, "stat");
    if (inode === undefined) throw fsError("ENOENT", "stat", path);
    const isFile = inode.kind === "file";
    return { len: isFile ? inode.data.size : 0, isDir: !isFile, isFile };
  }

  syncDirectory(path: string): void {
    this.#assertPowered();
    const dir = this.#directory(path, "open");
    this.#syncPoint();
    this.#journal.sync(dir);
  }

  hardLink(src: string, dst: string): void {
    this.#assertPowered();
    const source = this.#locate(src, "link", src, dst);
    if (source.inode === undefined) throw fsError("ENOENT", "link", src, dst);
    const target = this.#locate(dst, "link", src, dst);
    if (target.inode !== undefined) throw fsError("EEXIST", "link", src, dst);
    if (source.inode.kind === "dir") throw fsError("EPERM", "link", src, dst);
    this.#journal.record(parentOf(target.parent), [{ name: target.name, inode: source.inode }]);
  }

  backendId(): string | undefined {
    this.#assertPowered();
    return this.#backendId;
  }

  readMany(requests: readonly FsReadRequest[]): number[] {
    this.#assertPowered();
    return requests.map((request) => request.file.readAt(request.buffer, request.position));
  }

  /**
   * Locks the file at `path` (created like `open` with `create` would) for this instance, or returns
   * `undefined` while a lock on that file is held. `release()` is bookkeeping, not I/O: it works after
   * a power cut too, so an engine's close path can always give its locks up.
   */
  tryLock(path: string): FsLock | undefined {
    this.#assertPowered();
    this.open(path, { write: true, create: true }).close();
    const { inode } = this.#locate(path, "open");
    if (inode?.kind !== "file") throw new Error(`unreachable: ${path} was just opened as a file`);
    if (this.#locks.has(inode)) return undefined;
    this.#locks.add(inode);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#locks.delete(inode);
      },
    };
  }

  /** Walks to the parent of `path`: `ENOENT` for a missing component, `ENOTDIR` for a file on the way. */
  #locate(path: string, syscall: string, errorPath = path, dest?: string): Location {
    const names = components(path);
    const last = names.pop();
    if (last === undefined) return { parent: undefined, name: "", inode: this.#root };
    let dir = this.#root;
    for (const name of names) {
      const child = dir.entries.get(name);
      if (child === undefined) throw fsError("ENOENT", syscall, errorPath, dest);
      if (child.kind === "file") throw fsError("ENOTDIR", syscall, errorPath, dest);
      dir = child;
    }
    return { parent: dir, name: last, inode: dir.entries.get(last) };
  }

  #directory(path: string, syscall: string): DirInode {
    const { inode } = this.#locate(path, syscall);
    if (inode === undefined) throw fsError("ENOENT", syscall, path);
    if (inode.kind === "file") throw fsError("ENOTDIR", syscall, path);
    return inode;
  }

  /** Empties `dir` name by name, as `rm -r` does, so that a crash may keep any prefix of the removals. */
  #removeTree(dir: DirInode): void {
    for (const [name, child] of [...dir.entries]) {
      if (child.kind === "dir") this.#removeTree(child);
      this.#journal.record(dir, [{ name, inode: undefined }]);
    }
  }

  #assertPowered(): void {
    if (this.#powerWasCut) throw new PowerCutError(`power was cut at sync #${this.#syncCount + 1} of ${this.#backendId}`);
  }

  #syncPoint(): void {
    this.#assertPowered();
    const armed = this.#armed;
    if (armed !== undefined) {
      if (armed.remaining === 0) {
        this.#armed = undefined;
        this.#powerCutImage = this.crash(armed.options);
        this.#powerWasCut = true;
        this.#assertPowered();
      }
      armed.remaining--;
    }
    this.#syncCount++;
  }
}

function components(path: string): string[] {
  return posix
    .resolve("/", path)
    .split("/")
    .filter((name) => name !== "");
}

/** The parent of a location that is not `/` (callers have ruled `/` out by finding an inode there). */
function parentOf(parent: DirInode | undefined): DirInode {
  if (parent === undefined) throw new Error("unreachable: '/' has no parent");
  return parent;
}

export type { CrashOptions };
