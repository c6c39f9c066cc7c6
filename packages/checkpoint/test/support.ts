/**
 * Helpers shared by the checkpoint tests: a write model to check what a read at a seqno must return, tree
 * contents as plain maps, directory listings, a delegating `Fs` to override single operations, and the two
 * kinds of tree the sweeps run over (standard, and blob trees whose larger values live in blob files).
 */
import { ForwardingFs, readFileBytes, writeFileBytes, type Fs } from "@talus/fs";

export { readFileBytes as readBytes };
import { LsmError, SEQNO_MAX, SequenceNumberCounter, Tree, type LsmErrorCode, type TreeOptions } from "@talus/lsm-core";
import { BlobTree, type KvSeparationOptions } from "@talus/vlog";

/** The kinds of tree the checkpoint sweeps run over. */
export type TreeKind = "standard" | "blob";
export const TREE_KINDS: readonly TreeKind[] = ["standard", "blob"];

/**
 * The blob trees of the sweeps: values of 64 bytes or more go to blob files. With {@link sweepValue}'s values
 * about half of them are separated, so every flush writes a table and a blob file.
 */
export const BLOB_SEPARATION: KvSeparationOptions = { separationThreshold: 64, stalenessThreshold: 0.5, ageCutoff: 1 };

/** Opens (creating if needed) a tree of `kind` at `options.path`; a blob tree with {@link BLOB_SEPARATION}. */
export function openTree(kind: TreeKind, options: TreeOptions): Promise<Tree> {
  return kind === "blob" ? BlobTree.open({ ...options, kvSeparation: BLOB_SEPARATION }) : Tree.open(options);
}

/**
 * The value `fill` writes for record `i`: `${prefix}${i}` in a standard tree; in a blob tree every odd
 * record gets a few hundred bytes instead (separated into a blob file), the even ones stay short (inline).
 */
export function sweepValue(kind: TreeKind, i: number, prefix = "value-"): string {
  if (kind === "standard" || i % 2 === 0) return `${prefix}${i}`;
  return `${prefix}${i}:`.padEnd(200 + (i % 7) * 40, String.fromCharCode(97 + (i % 26)));
}

const decoder = new TextDecoder();

export const dec = (bytes: Uint8Array | undefined): string | undefined => (bytes === undefined ? undefined : decoder.decode(bytes));

/** `key000042`: zero-padded so that bytewise order is numeric order. */
export const key = (i: number, prefix = "key"): string => `${prefix}${String(i).padStart(6, "0")}`;

/** Lets queued setImmediate callbacks (and the engine jobs that yield through them) run. */
export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The `code` an error carries (node errno codes and LsmError codes alike). */
export function codeOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/** A predicate for `rejects.toSatisfy`: an LsmError with `code`. */
export const isLsmError =
  (code: LsmErrorCode) =>
  (error: unknown): boolean =>
    error instanceof LsmError && error.code === code;

/** A predicate for `rejects.toSatisfy`: any error carrying `code`. */
export const hasErrorCode =
  (code: string) =>
  (error: unknown): boolean =>
    codeOf(error) === code;

interface Write {
  readonly key: string;
  readonly value: string | undefined;
  readonly seqno: number;
}

/** Every write made to a tree, so that the state a read at any seqno must see can be computed. */
export class Model {
  readonly #writes: Write[] = [];

  record(k: string, value: string | undefined, seqno: number): void {
    this.#writes.push({ key: k, value, seqno });
  }

  /** What a read at `seqno` sees: for each key, its newest write with seqno `< seqno` (deleted keys absent). */
  at(seqno: number = SEQNO_MAX): Map<string, string> {
    const newest = new Map<string, Write>();
    for (const w of this.#writes) {
      if (w.seqno >= seqno) continue;
      const known = newest.get(w.key);
      if (known === undefined || known.seqno < w.seqno) newest.set(w.key, w);
    }
    const out = new Map<string, string>();
    for (const [k, w] of newest) if (w.value !== undefined) out.set(k, w.value);
    return out;
  }

  get writeCount(): number {
    return this.#writes.length;
  }
}

/** A tree with its counters and a model of everything written to it, following the README's writer convention. */
export interface Source {
  readonly kind: TreeKind;
  readonly tree: Tree;
  readonly seqno: SequenceNumberCounter;
  readonly visible: SequenceNumberCounter;
  readonly model: Model;
  /** `s = seqno.next(); insert(k, v, s); visible.fetchMax(s + 1)`; returns `s`. */
  write(k: string, value: string): number;
  remove(k: string): number;
  /** Writes `key(i, prefix)` = `sweepValue(kind, i, valuePrefix)` (`${valuePrefix}${i}` in a standard tree) for i in [from, to). */
  fill(from: number, to: number, prefix?: string, valuePrefix?: string): void;
}

export type SourceOptions = Omit<TreeOptions, "seqno" | "visibleSeqno">;

export async function openSource(options: SourceOptions, model = new Model(), kind: TreeKind = "standard"): Promise<Source> {
  const seqno = new SequenceNumberCounter();
  const visible = new SequenceNumberCounter();
  const tree = await openTree(kind, { ...options, seqno, visibleSeqno: visible });
  const write = (k: string, value: string): number => {
    const s = seqno.next();
    tree.insert(k, value, s);
    model.record(k, value, s);
    visible.fetchMax(s + 1);
    return s;
  };
  const remove = (k: string): number => {
    const s = seqno.next();
    tree.remove(k, s);
    model.record(k, undefined, s);
    visible.fetchMax(s + 1);
    return s;
  };
  const fill = (from: number, to: number, prefix = "key", valuePrefix = "value-"): void => {
    for (let i = from; i < to; i++) write(key(i, prefix), sweepValue(kind, i, valuePrefix));
  };
  return { kind, tree, seqno, visible, model, write, remove, fill };
}

/** Everything a read at `seqno` sees, decoded. */
export function contents(tree: Tree, seqno: number = SEQNO_MAX): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of tree.iter(seqno)) out.set(decoder.decode(k), decoder.decode(v));
  return out;
}

/** The differences between two maps (at most `limit`), readable in a failed `toEqual([])`. */
export function diffMaps(actual: ReadonlyMap<string, string>, expected: ReadonlyMap<string, string>, limit = 10): string[] {
  const out: string[] = [];
  for (const [k, v] of expected) {
    if (out.length >= limit) return out;
    const got = actual.get(k);
    if (got !== v) out.push(`${k}: expected ${v}, got ${got ?? "(missing)"}`);
  }
  for (const [k, v] of actual) {
    if (out.length >= limit) return out;
    if (!expected.has(k)) out.push(`${k}: unexpected ${v}`);
  }
  return out;
}

/**
 * Opens `path` as a standalone tree of `kind`, returns what a read at `seqno` sees, and closes it. A blob
 * tree is also verified end to end (every table and blob file), so every value it serves was readable.
 */
export async function readTree(fs: Fs, path: string, seqno: number = SEQNO_MAX, kind: TreeKind = "standard"): Promise<Map<string, string>> {
  const tree = await openTree(kind, { path, fs });
  try {
    if (kind === "blob") tree.verify();
    return contents(tree, seqno);
  } finally {
    await tree.close();
  }
}

/** Names of the table files (decimal ids) in `dir`, numerically sorted; none when the directory is missing. */
export function tableFiles(fs: Fs, dir: string): string[] {
  if (!fs.exists(dir)) return [];
  return fs
    .readDir(dir)
    .filter((e) => !e.isDir && /^\d+$/.test(e.fileName))
    .map((e) => e.fileName)
    .sort((a, b) => Number(a) - Number(b));
}

/** Sum of the sizes of the files in `dir`. */
export function dirBytes(fs: Fs, dir: string): number {
  let n = 0;
  for (const e of fs.readDir(dir)) if (!e.isDir) n += fs.metadata(e.path).len;
  return n;
}

/** Every file and directory below `dir`: relative path → size (directories: "dir"). For "untouched" checks. */
export function listing(fs: Fs, dir: string): Record<string, number | "dir"> {
  const out: Record<string, number | "dir"> = {};
  const walk = (abs: string, rel: string): void => {
    for (const e of fs.readDir(abs)) {
      const r = rel === "" ? e.fileName : `${rel}/${e.fileName}`;
      if (e.isDir) {
        out[r] = "dir";
        walk(e.path, r);
      } else {
        out[r] = fs.metadata(e.path).len;
      }
    }
  };
  walk(dir, "");
  return out;
}


/** Writes `bytes` as the whole, durable content of `path`. */
export function writeBytes(fs: Fs, path: string, bytes: Uint8Array): void {
  writeFileBytes(fs, path, bytes, { sync: true });
}

/** An `Fs` that forwards every call to `inner`; tests subclass it to change one operation. */
export class DelegatingFs extends ForwardingFs {}

/** A `DelegatingFs` that records the paths of every `createDir`, `rename` and `hardLink` call. */
export class RecordingFs extends DelegatingFs {
  readonly createdDirs: string[] = [];
  readonly renames: Array<[string, string]> = [];
  readonly links: Array<[string, string]> = [];

  override createDir(path: string): void {
    this.createdDirs.push(path);
    super.createDir(path);
  }

  override rename(from: string, to: string): void {
    this.renames.push([from, to]);
    super.rename(from, to);
  }

  override hardLink(src: string, dst: string): void {
    this.links.push([src, dst]);
    super.hardLink(src, dst);
  }
}
