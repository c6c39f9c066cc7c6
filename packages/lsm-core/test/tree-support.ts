/** Small helpers shared by the tree-level test files (ports of the reference integration tests). */
import { ForwardingFs, type Fs, type FsFile, type FsOpenOptions } from "@talus/fs";
import type { EntryIterator, LsmErrorCode } from "../src/index.ts";
import { LsmError } from "../src/index.ts";
import { dec } from "./helpers.ts";

/** `key{i}` zero-padded to `width` digits, so that bytewise order is numeric order. */
export const k = (i: number, prefix = "key", width = 5): string => `${prefix}${String(i).padStart(width, "0")}`;

/** The keys an iterator yields, decoded (the iterator is exhausted). */
export const keysOf = (it: EntryIterator): string[] => [...it].map(([key]) => dec(key) as string);

/** The `key=value` pairs an iterator yields, decoded. */
export const pairsOf = (it: EntryIterator): string[] => [...it].map(([key, value]) => `${dec(key)}=${dec(value)}`);

/** Names of the table files (decimal ids) in `dir` on `fs`; none when the directory is missing. */
export function tableFiles(fs: Fs, dir: string): string[] {
  if (!fs.exists(dir)) return [];
  return fs
    .readDir(dir)
    .filter((e) => !e.isDir && /^\d+$/.test(e.fileName))
    .map((e) => e.fileName)
    .sort((a, b) => Number(a) - Number(b));
}

/** A predicate for `rejects.toSatisfy` / `toThrow`: an LsmError with `code`. */
export const isLsmError =
  (code: LsmErrorCode) =>
  (error: unknown): boolean =>
    error instanceof LsmError && error.code === code;

/** Lets queued setImmediate callbacks (and the jobs that yield through them) run. */
export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Counts positional reads of table files (with no block cache, every block read is one). */
export class ReadCountingFs extends ForwardingFs {
  reads = 0;
  override open(path: string, options: FsOpenOptions): FsFile {
    const file = super.open(path, options);
    const readAt = file.readAt.bind(file);
    file.readAt = (buffer, position) => {
      if (path.includes("/tables/")) this.reads++;
      return readAt(buffer, position);
    };
    return file;
  }
}
