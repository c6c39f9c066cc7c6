// Shared tools of the tree-level crash, fault and corruption tests: reading a tree's whole contents in
// a comparable form, checking that a tree directory holds exactly what its version names, and catching
// errors of a known kind.
import { expect } from "vitest";
import type { Fs } from "@talus/fs";
import { LsmError, SEQNO_MAX, type Tree } from "../src/index.ts";
import { readCurrent } from "../src/version/current.ts";
import { dec } from "./helpers.ts";
export { readFileBytes as readBytes, writeFileBytes as writeBytes } from "@talus/fs";

export { dec, enc } from "./helpers.ts";

/** Every visible entry at `seqno` as `key=value` strings, in key order. */
export function entriesAt(tree: Tree, seqno: number = SEQNO_MAX): string[] {
  return [...tree.iter(seqno)].map(([k, v]) => `${dec(k)}=${dec(v)}`);
}

/** A tree's contents seen at several read seqnos (the last one SEQNO_MAX): what MVCC reads must keep. */
export function viewAt(tree: Tree, readSeqnos: readonly number[]): string[][] {
  return [...readSeqnos, SEQNO_MAX].map((s) => entriesAt(tree, s));
}

/** Checks that point reads agree with a scan at SEQNO_MAX for every key in `keys` (present or not). */
export function expectPointReadsMatch(tree: Tree, keys: Iterable<string>, context = ""): void {
  const scanned = new Map(entriesAt(tree).map((line) => splitEntry(line)));
  for (const key of keys) {
    expect(dec(tree.get(key, SEQNO_MAX)), `${context} get(${key})`).toBe(scanned.get(key));
  }
}

export function splitEntry(line: string): [string, string] {
  const i = line.indexOf("=");
  return [line.slice(0, i), line.slice(i + 1)];
}

/** Ids of the tables the tree's current version lists, ascending. */
export function versionTableIds(tree: Tree): number[] {
  return [...tree.currentVersion().tables()].map((t) => t.id).sort((a, b) => a - b);
}

/** Numeric file names in `dir` (table, journal or blob file ids), ascending; every name there must be an id. */
export function fileIds(fs: Fs, dir: string): number[] {
  if (!fs.exists(dir)) return [];
  return fs
    .readDir(dir)
    .map((entry) => {
      expect(entry.isDir, `${entry.path} is a directory`).toBe(false);
      expect(entry.fileName, `unexpected file ${entry.path}`).toMatch(/^(0|[1-9][0-9]*)$/);
      return Number(entry.fileName);
    })
    .sort((a, b) => a - b);
}

/** Table ids present as files in `<path>/tables`, ascending (every name there must be a table id). */
export function tableFileIds(fs: Fs, path: string): number[] {
  return fileIds(fs, `${path}/tables`);
}

/** The names in the tree's root directory, sorted. */
export function rootNames(fs: Fs, path: string): string[] {
  return fs
    .readDir(path)
    .map((entry) => entry.fileName)
    .sort();
}

/**
 * The directory holds exactly the tree's state: `current`, the one version file it names,
 * `tables/`, whose files are exactly the tables of the tree's current version (no orphans, no temp
 * pointers, no stale versions), and the `LOCK` file the open tree holds.
 *
 * `olderVersions: "ignore"` tolerates superseded `v<id>` files with a lower id than the current one:
 * a running tree does not delete them yet (see the test "deletes superseded version files while
 * running" in tree-faults.test.ts); a freshly opened tree must not have any.
 */
export function expectCleanTreeDir(fs: Fs, path: string, tree: Tree, context = "", olderVersions: "forbid" | "ignore" = "forbid"): void {
  const pointer = readCurrent(fs, path);
  expect(pointer, `${context} current exists`).toBeDefined();
  const id = pointer?.versionId ?? -1;
  expect(id, `${context} current names the tree's version`).toBe(tree.currentVersion().id);
  const names = rootNames(fs, path).filter((name) => {
    const older = /^v(0|[1-9][0-9]*)$/.test(name) && Number(name.slice(1)) < id;
    return !(older && olderVersions === "ignore");
  });
  expect(names, `${context} root of ${path}`).toEqual(["LOCK", "current", "tables", `v${id}`].sort());
  expect(tableFileIds(fs, path), `${context} tables/ of ${path}`).toEqual(versionTableIds(tree));
}

/** Awaits `promise` and returns what it rejected with; fails the test if it resolved. */
export async function rejectionOf(promise: Promise<unknown>, context = ""): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error(`${context}: expected a rejection, but the promise resolved`);
}

/** Runs `fn` and returns what it threw (undefined if it returned). */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
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
  if (file !== undefined) expect(error.message, `${context}: message names the file`).toContain(file);
}

/** The `code` of an error (node's errno code or an LsmError code), or undefined. */
export function codeOf(error: unknown): unknown {
  return typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
}


