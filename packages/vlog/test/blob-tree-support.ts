// Shared tools of the BlobTree suites (ported, crash, faults, bit flips, laziness): opening a blob tree,
// reading its contents in a comparable form, checking that its directory holds exactly what its version
// lists (tables and blob files), catching errors of a known kind, and counting blob file reads.
import { ForwardingFs, type Fs, type FsFile, type FsOpenOptions } from "@talus/fs";
import { BLOBS_DIR_NAME, LsmError, SEQNO_MAX, SequenceNumberCounter, type Tree, type TreeOptions } from "@talus/lsm-core";
import { expect } from "vitest";
import { BlobTree, type KvSeparationOptions } from "../src/index.ts";
import { fileIds } from "../../lsm-core/test/tree-test-support.ts";

export const PATH = "/db";
export const BLOBS = `${PATH}/${BLOBS_DIR_NAME}`;

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));

/** `key{i}` zero-padded, so that bytewise order is numeric order. */
export const k = (i: number, prefix = "key", width = 5): string => `${prefix}${String(i).padStart(width, "0")}`;

export type TreeExtras = Partial<Omit<TreeOptions, "path" | "fs" | "seqno" | "valueLog">>;

/** Opens the blob tree at {@link PATH} on `fs`. */
export function openBlobTree(fs: Fs, seqno: SequenceNumberCounter = new SequenceNumberCounter(), kvSeparation: KvSeparationOptions = {}, extra: TreeExtras = {}): Promise<Tree> {
  return BlobTree.open({ path: PATH, fs, seqno, kvSeparation, ...extra });
}

/** Every visible entry at `seqno` as `key=value` strings, in key order. */
export function entriesAt(tree: Tree, seqno: number = SEQNO_MAX): string[] {
  return [...tree.iter(seqno)].map(([key, value]) => `${dec(key)}=${dec(value)}`);
}

/** The contents at each of `readSeqnos` and at SEQNO_MAX. */
export function viewAt(tree: Tree, readSeqnos: readonly number[]): string[][] {
  return [...readSeqnos, SEQNO_MAX].map((s) => entriesAt(tree, s));
}

export function splitEntry(line: string): [string, string] {
  const i = line.indexOf("=");
  return [line.slice(0, i), line.slice(i + 1)];
}

/**
 * Every way of reading `keys` at `seqno` agrees with a forward scan: `get`, `multiGet`, `sizeOf` (from
 * the handle), `containsKey`, and the reverse scan.
 */
export function expectReadsAgree(tree: Tree, keys: readonly string[], seqno: number = SEQNO_MAX, context = ""): void {
  const forward = entriesAt(tree, seqno);
  const scanned = new Map(forward.map(splitEntry));
  const reverse = [...tree.iter(seqno, { reverse: true })].map(([key, value]) => `${dec(key)}=${dec(value)}`);
  expect(reverse, `${context}: reverse scan`).toEqual([...forward].reverse());
  const many = tree.multiGet(keys, seqno).map(dec);
  keys.forEach((key, i) => {
    const want = scanned.get(key);
    expect(dec(tree.get(key, seqno)), `${context}: get(${key})`).toBe(want);
    expect(many[i], `${context}: multiGet(${key})`).toBe(want);
    expect(tree.sizeOf(key, seqno), `${context}: sizeOf(${key})`).toBe(want === undefined ? undefined : enc(want).length);
    expect(tree.containsKey(key, seqno), `${context}: containsKey(${key})`).toBe(want !== undefined);
  });
  expect(tree.len(seqno), `${context}: len`).toBe(forward.length);
}

/** Ids of the blob files the tree's current version lists, ascending. */
export function versionBlobIds(tree: Tree): number[] {
  return tree
    .currentVersion()
    .blobFiles.map((b) => b.id)
    .sort((a, b) => a - b);
}

/** Ids of the tables the tree's current version lists, ascending. */
export function versionTableIds(tree: Tree): number[] {
  return [...tree.currentVersion().tables()].map((t) => t.id).sort((a, b) => a - b);
}

export const blobFileIds = (fs: Fs): number[] => fileIds(fs, BLOBS);
export const tableFileIds = (fs: Fs): number[] => fileIds(fs, `${PATH}/tables`);

/**
 * The tree directory holds exactly the tree's state: `LOCK`, `current`, one version file, `tables/`
 * with exactly the version's tables and `blobs/` with exactly its blob files (no orphans).
 */
export function expectCleanBlobTreeDir(fs: Fs, tree: Tree, context = ""): void {
  const id = tree.currentVersion().id;
  const root = fs
    .readDir(PATH)
    .map((e) => e.fileName)
    .sort();
  expect(root, `${context}: root of ${PATH}`).toEqual(["LOCK", BLOBS_DIR_NAME, "current", "tables", `v${id}`].sort());
  expect(tableFileIds(fs), `${context}: tables/`).toEqual(versionTableIds(tree));
  expect(blobFileIds(fs), `${context}: blobs/`).toEqual(versionBlobIds(tree));
}

/** Runs `fn`; returns what it threw, or undefined if it returned. */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error;
  }
}

/** Awaits `promise`; returns what it rejected with, or undefined if it resolved. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error;
  }
}

/** Asserts `error` is an LsmError with one of `codes` whose message names `file`. */
export function expectLsmError(error: unknown, codes: readonly string[], file: string | undefined, context = ""): asserts error is LsmError {
  if (!(error instanceof LsmError)) {
    throw new Error(`${context}: expected an LsmError (${codes.join("/")}), got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  }
  expect(codes, `${context}: code of "${error.message}"`).toContain(error.code);
  if (file !== undefined) expect(error.message, `${context}: message names ${file}`).toContain(file);
}

/** The `code` of an error (node's errno code or an LsmError code), or undefined. */
export function codeOf(error: unknown): unknown {
  return typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
}

/** Counts positional reads (`readAt`, and `readMany` requests) of files whose path contains `/blobs/`. */
export class BlobReadCountingFs extends ForwardingFs {
  reads = 0;
  /** Paths of the blob files read, one entry per read. */
  readonly paths: string[] = [];
  readonly #blobFiles = new WeakMap<FsFile, string>();

  override open(path: string, options: FsOpenOptions): FsFile {
    const file = super.open(path, options);
    if (!path.includes(`/${BLOBS_DIR_NAME}/`)) return file;
    this.#blobFiles.set(file, path);
    const readAt = file.readAt.bind(file);
    file.readAt = (buffer, position) => {
      this.#count(path);
      return readAt(buffer, position);
    };
    return file;
  }

  override readMany(requests: Parameters<Fs["readMany"]>[0]): number[] {
    for (const request of requests) {
      const path = this.#blobFiles.get(request.file);
      if (path !== undefined) this.#count(path);
    }
    return super.readMany(requests);
  }

  reset(): void {
    this.reads = 0;
    this.paths.length = 0;
  }

  #count(path: string): void {
    this.reads++;
    this.paths.push(path);
  }
}

/**
 * Ids of the blob files of the current version that are stale at `threshold`: at least that fraction of
 * their value bytes is referenced by no table (and not all of it). Computed here from the tables' blob
 * references, independently of the engine's own accounting.
 */
export function staleBlobFileIds(tree: Tree, threshold: number): number[] {
  const version = tree.currentVersion();
  const live = new Map<number, number>();
  for (const table of version.tables()) {
    for (const ref of table.table.meta.blobReferences) live.set(ref.blobFileId, (live.get(ref.blobFileId) ?? 0) + ref.valueBytes);
  }
  return version.blobFiles
    .filter((blob) => {
      const total = blob.info.valueBytes;
      const garbage = total - (live.get(blob.id) ?? 0);
      return total > 0 && garbage < total && garbage / total >= threshold;
    })
    .map((blob) => blob.id)
    .sort((a, b) => a - b);
}

/**
 * A blob tree driven through phases of writes by a scenario test, with the contents it should hold:
 * `value(phase, key, small)` makes each value (large, so separated, unless `small`).
 */
export class ScriptedBlobTree {
  readonly fs: Fs;
  readonly seqno = new SequenceNumberCounter();
  tree!: Tree;
  /** seqno.get() at the end of each phase: reads there see one more phase each. */
  readonly boundaries: number[] = [];
  /** Every key written or deleted, plus the extra keys given (never written: reads must miss them). */
  readonly keys: Set<string>;
  /** Contents at SEQNO_MAX as the writes say. */
  readonly model = new Map<string, string>();
  readonly #kv: KvSeparationOptions;
  readonly #extra: TreeExtras;
  readonly #value: (phase: string, key: string, small: boolean) => string;

  constructor(fs: Fs, options: { kv: KvSeparationOptions; extra: TreeExtras; value: (phase: string, key: string, small: boolean) => string; missingKeys: readonly string[] }) {
    this.fs = fs;
    this.#kv = options.kv;
    this.#extra = options.extra;
    this.#value = options.value;
    this.keys = new Set(options.missingKeys);
  }

  async open(kv: KvSeparationOptions = this.#kv): Promise<void> {
    this.tree = await openBlobTree(this.fs, this.seqno, kv, this.#extra);
  }

  put(phase: string, keys: readonly string[], small = (_: string): boolean => false): void {
    for (const key of keys) {
      const v = this.#value(phase, key, small(key));
      this.tree.insert(key, v, this.seqno.next());
      this.model.set(key, v);
      this.keys.add(key);
    }
  }

  del(keys: readonly string[]): void {
    for (const key of keys) {
      this.tree.remove(key, this.seqno.next());
      this.model.delete(key);
      this.keys.add(key);
    }
  }

  endPhase(): void {
    this.boundaries.push(this.seqno.get());
  }

  /** The model's contents as `key=value` lines in key order. */
  modelLines(): string[] {
    return [...this.model].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, v]) => `${key}=${v}`);
  }
}
