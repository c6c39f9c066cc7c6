/**
 * Contract cases for `hardLink` and `backendId`, the pair the engine uses to decide between linking
 * table files into a checkpoint and copying them.
 *
 * @module
 */
import assert from "node:assert/strict";
import { bytes, childNames, expectCode, readSome, text, type CaseContext, type Suite } from "./harness.ts";

/** Registers the hard-link and backend-identity cases. */
export function defineLinkCases(s: Suite): void {
  // Without the capability every hardLink must refuse with ENOTSUP and leave no trace; the case then
  // checks that instead of its own body.
  const linkCase = (name: string, body: (ctx: CaseContext) => void): void =>
    s.case(name, (ctx) => {
      if (ctx.caps.hardLink) {
        body(ctx);
        return;
      }
      ctx.writeFile(ctx.path("src"), "x");
      expectCode(() => ctx.fs.hardLink(ctx.path("src"), ctx.path("dst")), "ENOTSUP", "hardLink without the capability");
      assert.deepEqual(childNames(ctx.fs, ctx.root), ["src"]);
    });

  s.describe("hardLink", () => {
    linkCase("checks an existing destination before the source's type (EEXIST for a directory onto a taken name)", ({ fs, path, makeDir, writeFile }) => {
      makeDir(path("d"));
      writeFile(path("taken"), "x");
      expectCode(() => fs.hardLink(path("d"), path("taken")), "EEXIST", "hardLink(dir, existing)");
    });

    linkCase("the new name has the same contents and the old name stays", ({ fs, path, writeFile, readFile }) => {
      writeFile(path("src"), "table bytes");
      fs.hardLink(path("src"), path("dst"));
      assert.equal(text(readFile(path("dst"))), "table bytes");
      assert.equal(text(readFile(path("src"))), "table bytes");
      assert.deepEqual(fs.metadata(path("dst")), { len: 11, isDir: false, isFile: true });
    });

    linkCase("links into another directory", ({ fs, path, makeDir, writeFile, readFile }) => {
      makeDir(path("tables"));
      makeDir(path("checkpoint"));
      writeFile(path("tables", "1"), "one");
      fs.hardLink(path("tables", "1"), path("checkpoint", "1"));
      assert.equal(text(readFile(path("checkpoint", "1"))), "one");
    });

    linkCase("writes through either name after linking are seen through the other", ({ fs, path, open, writeFile, caps }) => {
      writeFile(path("src"), "base;");
      fs.hardLink(path("src"), path("dst"));
      const viaSrc = open(path("src"), { read: true, append: true });
      const viaDst = open(path("dst"), { read: true, append: true });
      viaSrc.write(bytes("from-src;"));
      viaDst.write(bytes("from-dst;"));
      if (caps.sharedHardLinks) {
        assert.equal(text(readSome(viaSrc, 0, 100)), "base;from-src;from-dst;");
        assert.equal(text(readSome(viaDst, 0, 100)), "base;from-src;from-dst;");
        assert.equal(fs.metadata(path("src")).len, fs.metadata(path("dst")).len);
      } else {
        // A copying backend still has to make an independent, complete copy at link time.
        assert.equal(text(readSome(viaSrc, 0, 100)), "base;from-src;");
        assert.equal(text(readSome(viaDst, 0, 100)), "base;from-dst;");
      }
    });

    linkCase("removing one name keeps the contents under the other", ({ fs, path, writeFile, readFile }) => {
      writeFile(path("src"), "survivor");
      fs.hardLink(path("src"), path("dst"));
      fs.removeFile(path("src"));
      assert.equal(text(readFile(path("dst"))), "survivor");
      fs.hardLink(path("dst"), path("src"));
      fs.removeFile(path("dst"));
      assert.equal(text(readFile(path("src"))), "survivor");
      assert.deepEqual(childNames(fs, path()), ["src"]);
    });

    linkCase("fails with EEXIST when the new name exists and keeps both", ({ fs, path, makeDir, writeFile, readFile }) => {
      writeFile(path("src"), "source");
      writeFile(path("dst"), "target");
      expectCode(() => fs.hardLink(path("src"), path("dst")), "EEXIST", "hardLink onto a file");
      assert.equal(text(readFile(path("dst"))), "target");
      makeDir(path("dir"));
      expectCode(() => fs.hardLink(path("src"), path("dir")), "EEXIST", "hardLink onto a directory");
      assert.equal(fs.metadata(path("dir")).isDir, true);
      expectCode(() => fs.hardLink(path("src"), path("src")), "EEXIST", "hardLink onto itself");
      assert.equal(text(readFile(path("src"))), "source");
    });

    linkCase("fails with ENOENT when the source is missing", ({ fs, path }) => {
      expectCode(() => fs.hardLink(path("missing"), path("dst")), "ENOENT", "hardLink(missing, dst)");
      assert.equal(fs.exists(path("dst")), false);
    });

    linkCase("fails with ENOENT when the new name's parent is missing", ({ fs, path, writeFile }) => {
      writeFile(path("src"), "x");
      expectCode(() => fs.hardLink(path("src"), path("no", "dst")), "ENOENT", "hardLink(src, missing/dst)");
      assert.equal(fs.exists(path("no")), false);
    });

    linkCase("fails with EPERM for a directory", ({ fs, path, makeDir }) => {
      makeDir(path("d"));
      expectCode(() => fs.hardLink(path("d"), path("d2")), "EPERM", "hardLink(dir, new)");
      assert.equal(fs.exists(path("d2")), false);
    });
  });

  s.describe("backendId", () => {
    s.case("is stable across calls and either undefined or a non-empty string", ({ fs, caps }) => {
      const first = fs.backendId();
      assert.ok(first === undefined || (typeof first === "string" && first.length > 0), `backendId() = ${JSON.stringify(first)}`);
      for (let i = 0; i < 3; i++) assert.equal(fs.backendId(), first);
      // Callers link only when both sides name the same namespace, so a backend that cannot link
      // must not claim one.
      if (!caps.hardLink) assert.equal(first, undefined, "a backend without hardLink must have no backendId");
    });

    s.case("does not change as the tree changes", ({ fs, path, writeFile }) => {
      const before = fs.backendId();
      writeFile(path("a"), "x");
      fs.createDirAll(path("d"));
      fs.removeDirAll(path("d"));
      assert.equal(fs.backendId(), before);
    });
  });
}
