/**
 * The plumbing shared by the contract's case files: the public shapes an implementor passes in, and a
 * per-case context that owns the backend under test for exactly one case.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Fs, FsDirEntry, FsFile, FsOpenOptions } from "@talus/fs";

/**
 * The two functions of a test runner the suite needs. vitest's, jest's, mocha's and node:test's
 * `describe`/`it` all fit, so testkit depends on none of them.
 */
export interface ContractTestApi {
  /** Declares a group of cases; `fn` declares them synchronously. */
  describe(name: string, fn: () => void): void;
  /** Declares one case; `fn` may return a promise, which the runner awaits. */
  it(name: string, fn: () => void | Promise<void>): void;
}

/**
 * Behaviour a backend may lack. Every flag defaults to `true`; a backend that sets one to `false`
 * is held to the stated fallback instead, so the engine can still rely on a precise answer.
 */
export interface FsCapabilities {
  /**
   * `false`: `createDir` always throws `ENOTSUP` and creates nothing (the reference engine's rule for
   * stores without atomic directory creation; checkpoints then refuse instead of racing).
   */
  readonly createDir?: boolean;
  /**
   * `false`: `hardLink` always throws `ENOTSUP` and creates nothing, and `backendId()` is `undefined`
   * so that callers copy instead of linking.
   */
  readonly hardLink?: boolean;
  /**
   * `false`: `hardLink` makes an independent copy (as the `EXDEV` fallback does), so the two names
   * have equal contents when linked but later writes through one are not seen through the other.
   */
  readonly sharedHardLinks?: boolean;
}

/** One fresh instance of the backend under test, as a factory returns it for a single case. */
export interface FsUnderTest {
  /** The backend instance the case runs against. */
  readonly fs: Fs;
  /** An existing, empty directory the case may fill as it likes. */
  readonly root: string;
  /** Called once the case has finished, pass or fail (e.g. to remove a temp directory). */
  cleanup?(): void;
  /** What the backend lacks, if anything; every capability defaults to present. */
  readonly capabilities?: FsCapabilities;
}

/** What a single case works with; everything it opens through `open` is closed after it. */
export interface CaseContext {
  readonly fs: Fs;
  readonly root: string;
  readonly caps: Readonly<Required<FsCapabilities>>;
  /** `root` joined with `parts` by `/`, left unnormalised so unusual names reach the backend verbatim. */
  readonly path: (...parts: string[]) => string;
  /** `fs.open`, with the handle remembered so a failing case does not leak descriptors. */
  readonly open: (path: string, options: FsOpenOptions) => FsFile;
  /** Creates or replaces a file with `data`. */
  readonly writeFile: (path: string, data: Uint8Array | string) => void;
  /** The whole contents of a file. */
  readonly readFile: (path: string) => Uint8Array;
  /** Creates a directory and its ancestors without depending on the optional `createDir`. */
  readonly makeDir: (path: string) => void;
}

/** How the case files register their cases: `describe` for grouping, `case` for one isolated case. */
export interface Suite {
  describe(name: string, fn: () => void): void;
  /** A case whose body may be async (for the optional async syncs); it is awaited before cleanup. */
  case(name: string, body: (ctx: CaseContext) => void | Promise<void>): void;
}

const DEFAULT_CAPABILITIES: Readonly<Required<FsCapabilities>> = { createDir: true, hardLink: true, sharedHardLinks: true };

/** Binds a test API to a factory: every case gets its own backend instance and tears it down itself. */
export function makeSuite(api: ContractTestApi, factory: () => FsUnderTest): Suite {
  return {
    describe: (name, fn) => api.describe(name, fn),
    case: (name, body) => api.it(name, () => runCase(factory, body)),
  };
}

async function runCase(factory: () => FsUnderTest, body: (ctx: CaseContext) => void | Promise<void>): Promise<void> {
  const under = factory();
  const handles: FsFile[] = [];
  const { fs, root } = under;
  const open = (path: string, options: FsOpenOptions): FsFile => {
    const file = fs.open(path, options);
    handles.push(file);
    return file;
  };
  const ctx: CaseContext = {
    fs,
    root,
    caps: { ...DEFAULT_CAPABILITIES, ...under.capabilities },
    path: (...parts) => [root, ...parts].join("/"),
    open,
    writeFile: (path, data) => {
      const file = open(path, { write: true, create: true, truncate: true });
      file.write(typeof data === "string" ? bytes(data) : data);
      file.close();
    },
    readFile: (path) => {
      const file = open(path, { read: true });
      const out = new Uint8Array(file.len());
      const n = file.readAt(out, 0);
      file.close();
      return out.subarray(0, n);
    },
    makeDir: (path) => fs.createDirAll(path),
  };
  try {
    await body(ctx);
  } finally {
    // Close before cleanup: a temp directory cannot always be removed while descriptors are open in it,
    // and a backend whose close is broken must not hide the case's own failure.
    for (const file of handles) {
      try {
        file.close();
      } catch {
        // ignored on purpose, see above
      }
    }
    under.cleanup?.();
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of `text`. */
export function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** `data` decoded as UTF-8, for readable assertion messages. */
export function text(data: Uint8Array): string {
  return decoder.decode(data);
}

/**
 * Asserts that `fn` throws an `Error` whose errno `code` is `code`; `what` names the call so a
 * failure says which of several calls in a case went wrong and what it threw instead.
 */
export function expectCode(fn: () => unknown, code: string, what: string): void {
  assert.throws(
    fn,
    (error: unknown) => {
      assert.ok(error instanceof Error, `${what}: expected an Error with code ${code}, got ${String(error)}`);
      const actual = (error as { code?: unknown }).code;
      assert.equal(actual, code, `${what}: expected ${code}, got ${String(actual)} (${error.message})`);
      return true;
    },
    `${what}: expected ${code}`,
  );
}

/**
 * Asserts that `promise` rejects with an `Error` whose errno `code` is `code` (the async twin of
 * {@link expectCode}).
 */
export async function expectRejection(promise: Promise<unknown>, code: string, what: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof Error, `${what}: expected an Error with code ${code}, got ${String(error)}`);
    const actual = (error as { code?: unknown }).code;
    assert.equal(actual, code, `${what}: expected ${code}, got ${String(actual)} (${error.message})`);
    return true;
  });
}

/** `readAt` into a fresh buffer of `length` bytes; returns only the bytes read. */
export function readSome(file: FsFile, position: number, length: number): Uint8Array {
  const buffer = new Uint8Array(length);
  const n = file.readAt(buffer, position);
  return buffer.subarray(0, n);
}

/** Entries sorted by name, since `readDir` promises no order. */
export function sortedEntries(entries: readonly FsDirEntry[]): FsDirEntry[] {
  return [...entries].sort((a, b) => (a.fileName < b.fileName ? -1 : a.fileName > b.fileName ? 1 : 0));
}

/** Sorted child names of `dir`. */
export function childNames(fs: Fs, dir: string): string[] {
  return sortedEntries(fs.readDir(dir)).map((entry) => entry.fileName);
}
