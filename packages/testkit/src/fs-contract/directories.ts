/**
 * Contract cases for directories: `createDir`, `createDirAll`, `readDir`, `removeDirAll` and
 * `syncDirectory`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { childNames, expectCode, expectRejection, sortedEntries, text, type CaseContext, type Suite } from "./harness.ts";

/** Registers the directory cases. */
export function defineDirectoryCases(s: Suite): void {
  // A backend without createDir must answer ENOTSUP to every call, so each createDir case turns into
  // that check instead of being skipped: the engine needs the refusal to be precise.
  const createDirCase = (name: string, body: (ctx: CaseContext) => void): void =>
    s.case(name, (ctx) => {
      if (ctx.caps.createDir) {
        body(ctx);
        return;
      }
      ctx.writeFile(ctx.path("file"), "x");
      for (const target of [ctx.path("new"), ctx.path("file"), ctx.path("no", "parent")]) {
        expectCode(() => ctx.fs.createDir(target), "ENOTSUP", `createDir(${target}) without the capability`);
      }
      assert.deepEqual(childNames(ctx.fs, ctx.root), ["file"]);
    });

  s.describe("createDir", () => {
    createDirCase("creates one empty directory", ({ fs, path }) => {
      fs.createDir(path("d"));
      const meta = fs.metadata(path("d"));
      assert.equal(meta.isDir, true);
      assert.equal(meta.isFile, false);
      assert.deepEqual(fs.readDir(path("d")), []);
    });

    createDirCase("fails with EEXIST over an existing directory and keeps its contents", ({ fs, path, makeDir, writeFile }) => {
      makeDir(path("d"));
      writeFile(path("d", "f"), "x");
      expectCode(() => fs.createDir(path("d")), "EEXIST", "createDir over a directory");
      assert.deepEqual(childNames(fs, path("d")), ["f"]);
    });

    createDirCase("fails with EEXIST over an existing file and keeps it", ({ fs, path, writeFile, readFile }) => {
      writeFile(path("f"), "content");
      expectCode(() => fs.createDir(path("f")), "EEXIST", "createDir over a file");
      assert.equal(text(readFile(path("f"))), "content");
    });

    createDirCase("fails with ENOENT when the parent is missing", ({ fs, path }) => {
      expectCode(() => fs.createDir(path("no", "d")), "ENOENT", "createDir under a missing parent");
      assert.equal(fs.exists(path("no")), false);
    });
  });

  s.describe("createDirAll", () => {
    s.case("creates every missing ancestor", ({ fs, path }) => {
      fs.createDirAll(path("a", "b", "c"));
      assert.equal(fs.metadata(path("a")).isDir, true);
      assert.equal(fs.metadata(path("a", "b")).isDir, true);
      assert.equal(fs.metadata(path("a", "b", "c")).isDir, true);
      assert.deepEqual(fs.readDir(path("a", "b", "c")), []);
    });

    s.case("is idempotent on an existing directory and keeps its contents", ({ fs, path, writeFile }) => {
      fs.createDirAll(path("a", "b"));
      writeFile(path("a", "b", "f"), "x");
      fs.createDirAll(path("a", "b"));
      fs.createDirAll(path("a"));
      fs.createDirAll(path("a", "b", "c"));
      fs.createDirAll(path());
      assert.deepEqual(childNames(fs, path("a", "b")), ["c", "f"]);
    });

    s.case("fails with EEXIST over a file and keeps it", ({ fs, path, writeFile, readFile }) => {
      writeFile(path("f"), "content");
      expectCode(() => fs.createDirAll(path("f")), "EEXIST", "createDirAll over a file");
      assert.equal(text(readFile(path("f"))), "content");
    });
  });

  s.describe("readDir", () => {
    s.case("lists names, full paths and kinds of the direct children only", ({ fs, path, makeDir, writeFile }) => {
      makeDir(path("d", "sub", "deeper"));
      writeFile(path("d", "file"), "x");
      writeFile(path("d", "sub", "hidden-below"), "y");
      assert.deepEqual(sortedEntries(fs.readDir(path("d"))), [
        { path: path("d", "file"), fileName: "file", isDir: false },
        { path: path("d", "sub"), fileName: "sub", isDir: true },
      ]);
    });

    s.case("an empty directory lists nothing", ({ fs, path, makeDir }) => {
      assert.deepEqual(fs.readDir(path()), []);
      makeDir(path("d"));
      assert.deepEqual(fs.readDir(path("d")), []);
    });

    s.case("reflects creations, renames and removals", ({ fs, path, writeFile }) => {
      writeFile(path("a"), "1");
      writeFile(path("b"), "2");
      assert.deepEqual(childNames(fs, path()), ["a", "b"]);
      fs.rename(path("a"), path("c"));
      fs.removeFile(path("b"));
      assert.deepEqual(childNames(fs, path()), ["c"]);
    });

    s.case("fails with ENOENT for a missing directory", ({ fs, path }) => {
      expectCode(() => fs.readDir(path("missing")), "ENOENT", "readDir(missing)");
    });

    s.case("fails with ENOTDIR for a file", ({ fs, path, writeFile }) => {
      writeFile(path("f"), "x");
      expectCode(() => fs.readDir(path("f")), "ENOTDIR", "readDir(file)");
    });
  });

  s.describe("removeDirAll", () => {
    s.case("removes a directory with everything below it and nothing beside it", ({ fs, path, makeDir, writeFile }) => {
      makeDir(path("d", "a", "b"));
      makeDir(path("d", "empty"));
      writeFile(path("d", "f"), "1");
      writeFile(path("d", "a", "g"), "2");
      writeFile(path("d", "a", "b", "h"), "3");
      writeFile(path("sibling"), "4");
      makeDir(path("d2"));
      fs.removeDirAll(path("d"));
      assert.equal(fs.exists(path("d")), false);
      assert.deepEqual(childNames(fs, path()), ["d2", "sibling"]);
    });

    s.case("removes an empty directory", ({ fs, path, makeDir }) => {
      makeDir(path("d"));
      fs.removeDirAll(path("d"));
      assert.equal(fs.exists(path("d")), false);
    });

    s.case("fails with ENOENT for a missing directory", ({ fs, path }) => {
      expectCode(() => fs.removeDirAll(path("missing")), "ENOENT", "removeDirAll(missing)");
    });

    s.case("fails with ENOTDIR for a file and keeps it", ({ fs, path, writeFile, readFile }) => {
      writeFile(path("f"), "content");
      expectCode(() => fs.removeDirAll(path("f")), "ENOTDIR", "removeDirAll(file)");
      assert.equal(text(readFile(path("f"))), "content");
    });
  });

  s.describe("syncDirectory", () => {
    s.case("succeeds on a directory after creations, renames and removals", ({ fs, path, makeDir, writeFile }) => {
      fs.syncDirectory(path());
      makeDir(path("d"));
      writeFile(path("d", "a"), "x");
      fs.syncDirectory(path("d"));
      fs.rename(path("d", "a"), path("d", "b"));
      fs.syncDirectory(path("d"));
      fs.removeFile(path("d", "b"));
      fs.syncDirectory(path("d"));
      fs.syncDirectory(path());
    });

    s.case("fails with ENOENT for a missing directory", ({ fs, path }) => {
      expectCode(() => fs.syncDirectory(path("missing")), "ENOENT", "syncDirectory(missing)");
    });

    s.case("fails with ENOTDIR for a file", ({ fs, path, writeFile }) => {
      writeFile(path("f"), "x");
      expectCode(() => fs.syncDirectory(path("f")), "ENOTDIR", "syncDirectory(file)");
    });
  });

  // syncDirectoryAsync is optional: a backend (or wrapper) without it passes these cases by not having it.
  s.describe("syncDirectoryAsync", () => {
    s.case("where offered, resolves on a directory after creations, renames and removals", async ({ fs, path, makeDir, writeFile }) => {
      if (fs.syncDirectoryAsync === undefined) return;
      await fs.syncDirectoryAsync(path());
      makeDir(path("d"));
      writeFile(path("d", "a"), "x");
      await fs.syncDirectoryAsync(path("d"));
      fs.rename(path("d", "a"), path("d", "b"));
      await Promise.all([fs.syncDirectoryAsync(path("d")), fs.syncDirectoryAsync(path())]);
      assert.deepEqual(childNames(fs, path("d")), ["b"]);
    });

    s.case("where offered, rejects with ENOENT for a missing directory and ENOTDIR for a file", async ({ fs, path, writeFile }) => {
      if (fs.syncDirectoryAsync === undefined) return;
      writeFile(path("f"), "x");
      let missing: Promise<void> | undefined;
      let file: Promise<void> | undefined;
      assert.doesNotThrow(() => {
        missing = fs.syncDirectoryAsync?.(path("missing"));
        file = fs.syncDirectoryAsync?.(path("f"));
      }, "syncDirectoryAsync must report through its promise");
      await expectRejection(missing as Promise<void>, "ENOENT", "syncDirectoryAsync(missing)");
      await expectRejection(file as Promise<void>, "ENOTDIR", "syncDirectoryAsync(file)");
    });
  });
}
