import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A directory on disk that exists until `remove()` (or `[Symbol.dispose]`). */
export interface TempDir {
  /** The directory's absolute path (`<parent>/talus-<label>-XXXXXX`). */
  readonly path: string;
  /** Removes the directory and everything in it; nothing happens if it is already gone. */
  remove(): void;
  /** {@link remove}, for `using dir = makeTempDir()`. */
  [Symbol.dispose](): void;
}

/**
 * Makes a fresh directory under the OS temp directory (or `parent`). Pair it with `afterEach` through
 * {@link useTempDirs}, or dispose it yourself.
 *
 * @example
 * ```ts
 * import { makeTempDir } from "@talus/testkit";
 * const dir = makeTempDir("tree");
 * // ... use dir.path ...
 * dir.remove();
 * ```
 */
export function makeTempDir(label = "test", parent: string = tmpdir()): TempDir {
  const path = mkdtempSync(join(parent, `talus-${label}-`));
  const remove = (): void => rmSync(path, { recursive: true, force: true });
  return { path, remove, [Symbol.dispose]: remove };
}

/**
 * A factory of temp directories that are all removed by one `cleanup()` call; register it once per
 * test file: `const dirs = useTempDirs(afterEach)`. Taking the hook as a parameter keeps testkit free of
 * any test-runner dependency.
 *
 * @example
 * ```ts
 * import { afterEach } from "vitest";
 * import { useTempDirs } from "@talus/testkit";
 * const dirs = useTempDirs(afterEach);
 * // in a test: const path = dirs.make("recovery");
 * ```
 */
export function useTempDirs(afterEach?: (fn: () => void) => void): {
  /** Makes a fresh temp directory (see {@link makeTempDir}) and returns its path. */
  make(label?: string, parent?: string): string;
  /** Removes every directory made so far (registered with `afterEach` when it was given). */
  cleanup(): void;
} {
  const made: TempDir[] = [];
  const cleanup = (): void => {
    for (const dir of made.splice(0)) dir.remove();
  };
  afterEach?.(cleanup);
  return {
    make(label = "test", parent?: string) {
      const dir = makeTempDir(label, parent);
      made.push(dir);
      return dir.path;
    },
    cleanup,
  };
}
