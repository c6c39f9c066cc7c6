/**
 * A filesystem that fails on purpose, in the spirit of Pebble's vfs/errorfs: every call on a
 * {@link FaultFs} (and on every file it opened) becomes an operation `{ kind, path }`, and a list of
 * rules decides whether it fails. It exists so tests can prove that the engine survives the errors real
 * disks give (EIO on fsync, ENOSPC mid-write, a torn write) at exactly the point a test chooses, and
 * can replay the same schedule from a seed.
 *
 * Rule semantics, in short (see {@link FaultRule}):
 * - a call matches a rule when its kind is in `ops` (default all) and its path passes `path` (a glob, a
 *   RegExp or a predicate; file operations use the path the file was opened with, `rename`/`hardLink`
 *   match on either path);
 * - rules are asked in order and the first that fires wins; later rules do not see that call;
 * - a rule lets its first `after` matching calls through, then fires `times` times (default 1,
 *   `Infinity` for always), each with chance `probability` drawn from its `seed`;
 * - a fired fault throws an `fsError` with the rule's code, the operation's syscall and path, marked
 *   `injected: true`, and the inner operation is not performed; a torn write first writes a prefix.
 *
 * @example
 * ```ts
 * import { MemFs } from "@talus/fs";
 * import { FaultFs } from "@talus/testkit";
 * // The first two syncs of table files pass; the third fails with EIO (once: `times` defaults to 1).
 * const fs = new FaultFs(new MemFs(), [{ ops: "sync", path: "**\/tables/*", after: 2, error: "EIO" }]);
 * ```
 *
 * @module
 */
import type { Fs, FsDirEntry, FsFile, FsLock, FsMetadata, FsOpenOptions, FsReadRequest } from "@talus/fs";
import { FaultFile } from "./fault-file.ts";
import { FaultInjector, type InjectedFault } from "./injector.ts";
import type { FsOpKind } from "./ops.ts";
import type { FaultRule } from "./rules.ts";

/**
 * Wraps any {@link Fs} and injects the failures its rules describe. With no rules (or when disabled) it
 * is a transparent pass-through that still counts calls, which is how a test learns how many syncs a
 * workload does before sweeping a fault over each of them.
 *
 * @example
 * ```ts
 * import { MemFs } from "@talus/fs";
 * import { FaultFs, isInjected } from "@talus/testkit";
 *
 * // Fail the third sync of any table file with EIO.
 * const fs = new FaultFs(new MemFs(), [{ ops: "sync", path: "**\/tables/*", after: 2, error: "EIO" }]);
 * fs.createDirAll("/db/tables");
 * const file = fs.open("/db/tables/1", { write: true, createNew: true });
 * file.sync();
 * file.sync();
 * try {
 *   file.sync();
 * } catch (error) {
 *   isInjected(error); // true
 *   fs.injected; // [{ rule: 0, op: "sync", path: "/db/tables/1", code: "EIO", call: 5 }]
 * }
 * ```
 */
export class FaultFs implements Fs {
  /** The filesystem underneath, for seeding or inspecting state behind the rules' back. */
  readonly inner: Fs;
  /** Every fault injected so far, oldest first. */
  readonly injected: InjectedFault[];
  /** Operations seen so far by kind, failed or not, counted even while disabled. */
  readonly calls: Readonly<Record<FsOpKind, number>>;
  readonly #injector: FaultInjector;

  constructor(inner: Fs, plan: readonly FaultRule[] = []) {
    this.inner = inner;
    this.#injector = new FaultInjector(plan);
    this.injected = this.#injector.injected;
    this.calls = this.#injector.calls;
  }

  /** Operations seen so far, of every kind; the `call` of the next one is this plus one. */
  get callCount(): number {
    return this.#injector.callCount;
  }

  /** The current rules, in the order they are asked. */
  get rules(): readonly FaultRule[] {
    return this.#injector.rules;
  }

  /** Whether rules are applied; while not, every call passes and no rule counts it. */
  get enabled(): boolean {
    return this.#injector.enabled;
  }

  /** Appends a rule with fresh counters (also for files already open) and returns its index. */
  addRule(rule: FaultRule): number {
    return this.#injector.addRule(rule);
  }

  /** Drops every rule; indices of rules added afterwards start again at 0. */
  clearRules(): void {
    this.#injector.clearRules();
  }

  /** Turns injection on or off, e.g. off while a test sets up state and on for the part under test. */
  setEnabled(enabled: boolean): void {
    this.#injector.enabled = enabled;
  }

  /** Empties `injected` and zeroes `calls` and `callCount`; rules keep their counters. */
  resetHistory(): void {
    this.#injector.resetHistory();
  }

  open(path: string, options: FsOpenOptions): FsFile {
    this.#injector.guard("open", [path]);
    return new FaultFile(this.inner.open(path, options), path, this.#injector);
  }

  createDir(path: string): void {
    this.#injector.guard("createDir", [path]);
    this.inner.createDir(path);
  }

  createDirAll(path: string): void {
    this.#injector.guard("createDirAll", [path]);
    this.inner.createDirAll(path);
  }

  readDir(path: string): FsDirEntry[] {
    this.#injector.guard("readDir", [path]);
    return this.inner.readDir(path);
  }

  removeFile(path: string): void {
    this.#injector.guard("removeFile", [path]);
    this.inner.removeFile(path);
  }

  removeDirAll(path: string): void {
    this.#injector.guard("removeDirAll", [path]);
    this.inner.removeDirAll(path);
  }

  rename(from: string, to: string): void {
    this.#injector.guard("rename", [from, to]);
    this.inner.rename(from, to);
  }

  exists(path: string): boolean {
    this.#injector.guard("exists", [path]);
    return this.inner.exists(path);
  }

  metadata(path: string): FsMetadata {
    this.#injector.guard("metadata", [path]);
    return this.inner.metadata(path);
  }

  syncDirectory(path: string): void {
    this.#injector.guard("syncDirectory", [path]);
    this.inner.syncDirectory(path);
  }

  hardLink(src: string, dst: string): void {
    this.#injector.guard("hardLink", [src, dst]);
    this.inner.hardLink(src, dst);
  }

  /** A FaultFs over a backend names the same files as that backend, so links between them stay possible. */
  backendId(): string | undefined {
    return this.inner.backendId();
  }

  /**
   * The operation `tryLock` on `path`: a rule can fail it like any other (the lock is then not taken);
   * otherwise the inner backend's lock, whose `release()` is not an operation (it never fails).
   */
  tryLock(path: string): FsLock | undefined {
    this.#injector.guard("tryLock", [path]);
    return this.inner.tryLock(path);
  }

  /**
   * One operation for the whole batch, matching on the paths of its files. The inner backend gets its
   * own handles back, because a batching backend (io_uring) can only submit reads on files it opened.
   */
  readMany(requests: readonly FsReadRequest[]): number[] {
    const paths = requests.flatMap((request) => (request.file instanceof FaultFile ? [request.file.path] : []));
    this.#injector.guard("readMany", paths);
    return this.inner.readMany(
      requests.map((request) =>
        request.file instanceof FaultFile ? { file: request.file.inner, position: request.position, buffer: request.buffer } : request,
      ),
    );
  }
}
