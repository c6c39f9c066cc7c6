/**
 * Contract cases for `tryLock`: the exclusive file lock engines take to keep a second writer out of a
 * directory. Only what one process can observe is checked here (a second `tryLock` of the same file is
 * refused until the first is released); whether other processes are kept out is each backend's own
 * test.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { FsLock } from "@talus/fs";
import { childNames, expectCode, text, type Suite } from "./harness.ts";

/** Registers the lock cases. */
export function defineLockCases(s: Suite): void {
  s.describe("tryLock", () => {
    s.case("a second tryLock of the same path is refused until the first is released", ({ fs, path }) => {
      const first = held(fs.tryLock(path("LOCK")), "first tryLock");
      try {
        assert.equal(fs.tryLock(path("LOCK")), undefined, "second tryLock while held");
        assert.equal(fs.tryLock(path("LOCK")), undefined, "third tryLock while held");
      } finally {
        first.release();
      }
      const again = held(fs.tryLock(path("LOCK")), "tryLock after release");
      again.release();
    });

    s.case("release is idempotent and a stale release does not free the next holder", ({ fs, path }) => {
      const first = held(fs.tryLock(path("LOCK")), "first tryLock");
      first.release();
      first.release();
      const second = held(fs.tryLock(path("LOCK")), "tryLock after release");
      try {
        first.release();
        assert.equal(fs.tryLock(path("LOCK")), undefined, "tryLock after a stale release of the first lock");
      } finally {
        second.release();
      }
      second.release();
    });

    s.case("creates a missing file, empty, and leaves it after release", ({ fs, path, root }) => {
      const lock = held(fs.tryLock(path("LOCK")), "tryLock");
      try {
        assert.deepEqual(fs.metadata(path("LOCK")), { len: 0, isDir: false, isFile: true });
      } finally {
        lock.release();
      }
      assert.deepEqual(childNames(fs, root), ["LOCK"]);
    });

    s.case("never truncates an existing file", ({ fs, path, writeFile, readFile }) => {
      writeFile(path("LOCK"), "pid 42");
      const lock = held(fs.tryLock(path("LOCK")), "tryLock");
      try {
        assert.equal(text(readFile(path("LOCK"))), "pid 42");
      } finally {
        lock.release();
      }
      assert.equal(text(readFile(path("LOCK"))), "pid 42");
    });

    s.case("locks on different paths are independent", ({ fs, path, makeDir }) => {
      makeDir(path("a"));
      makeDir(path("b"));
      const locks = [path("a", "LOCK"), path("b", "LOCK"), path("LOCK"), path("other")].map((p) => held(fs.tryLock(p), `tryLock(${p})`));
      try {
        assert.equal(fs.tryLock(path("a", "LOCK")), undefined, "a/LOCK is still held");
        locks[0]?.release();
        assert.equal(fs.tryLock(path("b", "LOCK")), undefined, "releasing a/LOCK leaves b/LOCK held");
        const a = held(fs.tryLock(path("a", "LOCK")), "a/LOCK after its release");
        locks[0] = a;
      } finally {
        for (const lock of locks) lock?.release();
      }
    });

    s.case("fails with ENOENT when the parent is missing and EISDIR on a directory", ({ fs, path, makeDir }) => {
      expectCode(() => fs.tryLock(path("no", "LOCK")), "ENOENT", "tryLock under a missing parent");
      assert.equal(fs.exists(path("no")), false);
      makeDir(path("d"));
      expectCode(() => fs.tryLock(path("d")), "EISDIR", "tryLock of a directory");
    });
  });
}

/** The lock `tryLock` returned, or an assertion failure naming the call. */
function held(lock: FsLock | undefined, what: string): FsLock {
  assert.ok(lock !== undefined, `${what}: expected the lock, got undefined (held elsewhere)`);
  return lock;
}
