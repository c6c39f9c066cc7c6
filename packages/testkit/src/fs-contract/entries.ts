/**
 * Contract cases for operations on names: `removeFile`, `rename`, `exists` and `metadata`, and what
 * every operation does with a path that runs through a file.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Fs } from "@talus/fs";
import { bytes, childNames, expectCode, expectRejection, readSome, text, type CaseContext, type Suite } from "./harness.ts";

/** Registers the name-level cases. */
export function defineEntryCases(s: Suite): void {
  s.describe("removeFile", () => {
    s.case("removes a file and nothing beside it", ({ fs, path, writeFile }) => {
      writeFile(path("a"), "1");
      writeFile(path("b"), "2");
      fs.removeFile(path("a"));
      assert.equal(fs.exists(path("a")), false);
      assert.deepEqual(childNames(fs, path()), ["b"]);
    });

    s.case("fails with ENOENT for a missing file", ({ fs, path }) => {
      expectCode(() => fs.removeFile(path("missing")), "ENOENT", "removeFile(missing)");
    });

    s.case("fails with EISDIR for a directory and keeps it", ({ fs, path, makeDir }) => {
      makeDir(path("d"));
      expectCode(() => fs.removeFile(path("d")), "EISDIR", "removeFile(dir)");
      assert.equal(fs.metadata(path("d")).isDir, true);
    });

    // Obsolete tables are deleted while readers may still hold them open; those reads must not break.
    s.case("a handle open on a removed file keeps reading and writing it", ({ fs, path, open, writeFile }) => {
      writeFile(path("a"), "still here");
      const file = open(path("a"), { read: true, write: true });
      fs.removeFile(path("a"));
      assert.equal(fs.exists(path("a")), false);
      assert.equal(text(readSome(file, 0, 100)), "still here");
      file.write(bytes("STILL"));
      assert.equal(text(readSome(file, 0, 100)), "STILL here");
      assert.equal(file.len(), 10);
    });
  });

  // removeFileAsync is optional: a backend (or wrapper) without it passes these cases by not having it.
  s.describe("removeFileAsync", () => {
    s.case("where offered, removes a file and nothing beside it, even with a handle open on it", async ({ fs, path, open, writeFile }) => {
      if (fs.removeFileAsync === undefined) return;
      writeFile(path("a"), "still here");
      writeFile(path("b"), "2");
      const file = open(path("a"), { read: true });
      await fs.removeFileAsync(path("a"));
      assert.equal(fs.exists(path("a")), false);
      assert.deepEqual(childNames(fs, path()), ["b"]);
      assert.equal(text(readSome(file, 0, 100)), "still here");
    });

    s.case("where offered, rejects with ENOENT for a missing file and EISDIR for a directory", async ({ fs, path, makeDir }) => {
      if (fs.removeFileAsync === undefined) return;
      makeDir(path("d"));
      let missing: Promise<void> | undefined;
      let dir: Promise<void> | undefined;
      assert.doesNotThrow(() => {
        missing = fs.removeFileAsync?.(path("missing"));
        dir = fs.removeFileAsync?.(path("d"));
      }, "removeFileAsync must report through its promise");
      await expectRejection(missing as Promise<void>, "ENOENT", "removeFileAsync(missing)");
      await expectRejection(dir as Promise<void>, "EISDIR", "removeFileAsync(dir)");
      assert.equal(fs.metadata(path("d")).isDir, true);
    });
  });

  s.describe("rename", () => {
    // The kernel checks conflicts in a fixed order; these pin the order down where two rules apply.
    s.case("checks 'into itself' before the target's type (EINVAL for a directory onto its own child)", ({ fs, path, makeDir, writeFile }) => {
      makeDir(path("db"));
      writeFile(path("db", "file"), "x");
      expectCode(() => fs.rename(path("db"), path("db", "file")), "EINVAL", "rename(dir, its child)");
    });

    s.case("checks a non-empty target before the type mismatch (ENOTEMPTY for a file onto its own parent)", ({ fs, path, makeDir, writeFile }) => {
      makeDir(path("db"));
      writeFile(path("db", "file"), "x");
      expectCode(() => fs.rename(path("db", "file"), path("db")), "ENOTEMPTY", "rename(file, its parent)");
      assert.deepEqual(childNames(fs, path("db")), ["file"]);
    });

    s.case("does nothing between two names of one file", ({ fs, path, writeFile }) => {
      writeFile(path("a"), "x");
      fs.hardLink(path("a"), path("b"));
      fs.rename(path("a"), path("b"));
      assert.deepEqual(childNames(fs, path()), ["a", "b"]);
    });

    s.case("moves a file: the new name has the contents and the old name is gone", ({ fs, path, writeFile, readFile }) => {
      writeFile(path("a"), "payload");
      fs.rename(path("a"), path("b"));
      assert.equal(fs.exists(path("a")), false);
      assert.equal(text(readFile(path("b"))), "payload");
      assert.deepEqual(childNames(fs, path()), ["b"]);
    });

    s.case("replaces an existing file: the target holds the source contents and the source is gone", ({ fs, path, writeFile, readFile }) => {
      writeFile(path("current"), "old pointer, longer than the new one");
      writeFile(path("current.tmp"), "new pointer");
      fs.rename(path("current.tmp"), path("current"));
      assert.equal(text(readFile(path("current"))), "new pointer");
      assert.equal(fs.metadata(path("current")).len, 11);
      assert.equal(fs.exists(path("current.tmp")), false);
      assert.deepEqual(childNames(fs, path()), ["current"]);
    });

    // Replacing publishes a new version; a reader of the old one must keep seeing it whole.
    s.case("a handle open on the replaced file keeps its old contents", ({ fs, path, open, writeFile }) => {
      writeFile(path("target"), "old");
      writeFile(path("source"), "new!");
      const old = open(path("target"), { read: true });
      fs.rename(path("source"), path("target"));
      assert.equal(text(readSome(old, 0, 10)), "old");
      assert.equal(old.len(), 3);
    });

    s.case("an open handle follows its file to the new name", ({ fs, path, open, readFile }) => {
      const file = open(path("a"), { write: true, create: true });
      file.write(bytes("before"));
      fs.rename(path("a"), path("b"));
      file.write(bytes("-after"));
      file.close();
      assert.equal(text(readFile(path("b"))), "before-after");
      assert.equal(fs.exists(path("a")), false);
    });

    s.case("renames a directory with its contents", ({ fs, path, makeDir, writeFile, readFile }) => {
      makeDir(path("d", "sub"));
      writeFile(path("d", "f"), "1");
      writeFile(path("d", "sub", "g"), "2");
      fs.rename(path("d"), path("e"));
      assert.equal(fs.exists(path("d")), false);
      assert.deepEqual(childNames(fs, path("e")), ["f", "sub"]);
      assert.equal(text(readFile(path("e", "sub", "g"))), "2");
    });

    s.case("moves a file into another directory", ({ fs, path, makeDir, writeFile, readFile }) => {
      makeDir(path("x"));
      makeDir(path("y"));
      writeFile(path("x", "a"), "moved");
      fs.rename(path("x", "a"), path("y", "b"));
      assert.deepEqual(childNames(fs, path("x")), []);
      assert.equal(text(readFile(path("y", "b"))), "moved");
    });

    s.case("a directory replaces an empty directory", ({ fs, path, makeDir, writeFile }) => {
      makeDir(path("d"));
      writeFile(path("d", "f"), "1");
      makeDir(path("empty"));
      fs.rename(path("d"), path("empty"));
      assert.equal(fs.exists(path("d")), false);
      assert.deepEqual(childNames(fs, path("empty")), ["f"]);
    });

    s.case("renaming a path onto itself changes nothing", ({ fs, path, makeDir, writeFile, readFile }) => {
      writeFile(path("a"), "same");
      fs.rename(path("a"), path("a"));
      assert.equal(text(readFile(path("a"))), "same");
      makeDir(path("d"));
      fs.rename(path("d"), path("d"));
      assert.equal(fs.metadata(path("d")).isDir, true);
    });

    s.case("fails with ENOENT for a missing source and leaves the target alone", ({ fs, path, writeFile, readFile }) => {
      expectCode(() => fs.rename(path("missing"), path("b")), "ENOENT", "rename(missing, new)");
      assert.equal(fs.exists(path("b")), false);
      writeFile(path("c"), "keep");
      expectCode(() => fs.rename(path("missing"), path("c")), "ENOENT", "rename(missing, existing)");
      assert.equal(text(readFile(path("c"))), "keep");
    });

    s.case("fails with ENOENT when the target's parent is missing and keeps the source", ({ fs, path, writeFile, readFile }) => {
      writeFile(path("a"), "keep");
      expectCode(() => fs.rename(path("a"), path("no", "b")), "ENOENT", "rename into a missing directory");
      assert.equal(text(readFile(path("a"))), "keep");
    });

    s.case("fails with EISDIR renaming a file onto a directory", ({ fs, path, makeDir, writeFile, readFile }) => {
      writeFile(path("a"), "keep");
      makeDir(path("d"));
      expectCode(() => fs.rename(path("a"), path("d")), "EISDIR", "rename(file, dir)");
      assert.equal(text(readFile(path("a"))), "keep");
      assert.equal(fs.metadata(path("d")).isDir, true);
    });

    s.case("fails with ENOTDIR renaming a directory onto a file", ({ fs, path, makeDir, writeFile, readFile }) => {
      makeDir(path("d"));
      writeFile(path("f"), "keep");
      expectCode(() => fs.rename(path("d"), path("f")), "ENOTDIR", "rename(dir, file)");
      assert.equal(text(readFile(path("f"))), "keep");
      assert.equal(fs.metadata(path("d")).isDir, true);
    });

    s.case("fails with ENOTEMPTY renaming a directory onto a non-empty directory", ({ fs, path, makeDir, writeFile }) => {
      makeDir(path("d"));
      writeFile(path("d", "x"), "1");
      makeDir(path("full"));
      writeFile(path("full", "y"), "2");
      expectCode(() => fs.rename(path("d"), path("full")), "ENOTEMPTY", "rename(dir, non-empty dir)");
      assert.deepEqual(childNames(fs, path("d")), ["x"]);
      assert.deepEqual(childNames(fs, path("full")), ["y"]);
    });

    s.case("fails with EINVAL moving a directory into itself", ({ fs, path, makeDir }) => {
      makeDir(path("d", "sub"));
      expectCode(() => fs.rename(path("d"), path("d", "sub", "d")), "EINVAL", "rename(dir, dir/sub/dir)");
      assert.deepEqual(childNames(fs, path("d")), ["sub"]);
    });
  });

  s.describe("exists", () => {
    s.case("is true for a file and a directory, false for a missing path", ({ fs, path, makeDir, writeFile }) => {
      writeFile(path("f"), "x");
      makeDir(path("d"));
      assert.equal(fs.exists(path("f")), true);
      assert.equal(fs.exists(path("d")), true);
      assert.equal(fs.exists(path()), true);
      assert.equal(fs.exists(path("missing")), false);
      assert.equal(fs.exists(path("no", "such", "path")), false);
    });

    // Asking "is this there" about a name under a file has a clear answer: no.
    s.case("is false for a path under a file", ({ fs, path, writeFile }) => {
      writeFile(path("f"), "x");
      assert.equal(fs.exists(path("f", "child")), false);
      assert.equal(fs.exists(path("f", "child", "deeper")), false);
    });
  });

  s.describe("metadata", () => {
    s.case("reports len and kind of a file", ({ fs, path, writeFile }) => {
      writeFile(path("f"), "12345");
      assert.deepEqual(fs.metadata(path("f")), { len: 5, isDir: false, isFile: true });
      writeFile(path("empty"), "");
      assert.deepEqual(fs.metadata(path("empty")), { len: 0, isDir: false, isFile: true });
    });

    s.case("reports a directory as a directory", ({ fs, path, makeDir }) => {
      makeDir(path("d"));
      const meta = fs.metadata(path("d"));
      assert.equal(meta.isDir, true);
      assert.equal(meta.isFile, false);
      assert.equal(typeof meta.len, "number");
    });

    s.case("fails with ENOENT for a missing path", ({ fs, path }) => {
      expectCode(() => fs.metadata(path("missing")), "ENOENT", "metadata(missing)");
      expectCode(() => fs.metadata(path("no", "such")), "ENOENT", "metadata(missing/child)");
    });
  });

  s.describe("paths that run through a file", () => {
    // Linux resolves every component but the last as a directory and answers ENOTDIR when one is a
    // file; a backend that says ENOENT instead would let "missing" checks pass on a corrupted tree.
    const throughFile: ReadonlyArray<readonly [string, (fs: Fs, under: string, ctx: CaseContext) => unknown]> = [
      ["open (read)", (fs, under) => fs.open(under, { read: true })],
      ["open (create)", (fs, under) => fs.open(under, { write: true, create: true })],
      ["createDir", (fs, under) => fs.createDir(under)],
      ["createDirAll", (fs, under) => fs.createDirAll(`${under}/deeper`)],
      ["readDir", (fs, under) => fs.readDir(under)],
      ["removeFile", (fs, under) => fs.removeFile(under)],
      ["removeDirAll", (fs, under) => fs.removeDirAll(under)],
      ["rename (from)", (fs, under, ctx) => fs.rename(under, ctx.path("elsewhere"))],
      ["rename (to)", (fs, under, ctx) => fs.rename(ctx.path("other"), under)],
      ["metadata", (fs, under) => fs.metadata(under)],
      ["syncDirectory", (fs, under) => fs.syncDirectory(under)],
      ["hardLink (src)", (fs, under, ctx) => fs.hardLink(under, ctx.path("elsewhere"))],
      ["hardLink (dst)", (fs, under, ctx) => fs.hardLink(ctx.path("other"), under)],
    ];
    for (const [name, call] of throughFile) {
      s.case(`${name} fails with ENOTDIR`, (ctx) => {
        const { fs, path, writeFile, readFile } = ctx;
        writeFile(path("f"), "file");
        writeFile(path("other"), "other");
        const unsupported = (name === "createDir" && !ctx.caps.createDir) || (name.startsWith("hardLink") && !ctx.caps.hardLink);
        expectCode(() => call(fs, path("f", "x"), ctx), unsupported ? "ENOTSUP" : "ENOTDIR", `${name}(file/x)`);
        assert.equal(text(readFile(path("f"))), "file");
        assert.equal(text(readFile(path("other"))), "other");
        assert.deepEqual(childNames(fs, path()), ["f", "other"]);
      });
    }
  });
}
