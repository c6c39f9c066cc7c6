/**
 * Contract cases for `Fs.open` and every `FsFile` method: flag validation, the per-handle write
 * cursor, append mode, fill-or-EOF reads, access modes, length changes, syncs and closing.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { FsOpenOptions } from "@talus/fs";
import { bytes, expectCode, expectRejection, readSome, text, type Suite } from "./harness.ts";

/** Flag sets POSIX and the reference engine reject; each must fail before the path is touched. */
const CONTRADICTORY_FLAGS: readonly FsOpenOptions[] = [
  {},
  { create: true },
  { createNew: true },
  { truncate: true },
  { read: true, create: true },
  { read: true, createNew: true },
  { read: true, truncate: true },
  { read: true, truncate: true, create: true },
  { append: true, truncate: true },
  { write: true, append: true, truncate: true },
  { write: true, append: true, truncate: true, create: true },
];

/** Registers the open and file-handle cases. */
export function defineFileCases(s: Suite): void {
  s.describe("open", () => {
    s.case("create + write makes an empty file", ({ fs, path, open }) => {
      const file = open(path("a"), { write: true, create: true });
      assert.equal(file.len(), 0);
      file.close();
      assert.deepEqual(fs.metadata(path("a")), { len: 0, isDir: false, isFile: true });
    });

    s.case("contradictory flag sets fail with EINVAL and create nothing", ({ fs, path }) => {
      for (const options of CONTRADICTORY_FLAGS) {
        expectCode(() => fs.open(path("missing"), options), "EINVAL", `open(missing, ${JSON.stringify(options)})`);
        assert.equal(fs.exists(path("missing")), false, `open(${JSON.stringify(options)}) created the file`);
      }
    });

    s.case("contradictory flag sets fail with EINVAL and leave an existing file intact", ({ fs, path, writeFile, readFile }) => {
      writeFile(path("a"), "keep me");
      for (const options of CONTRADICTORY_FLAGS) {
        expectCode(() => fs.open(path("a"), options), "EINVAL", `open(a, ${JSON.stringify(options)})`);
        assert.equal(text(readFile(path("a"))), "keep me", `open(${JSON.stringify(options)}) touched the file`);
      }
    });

    s.case("opening a missing file without create fails with ENOENT", ({ fs, path }) => {
      expectCode(() => fs.open(path("missing"), { read: true }), "ENOENT", "open read");
      expectCode(() => fs.open(path("missing"), { write: true }), "ENOENT", "open write");
      expectCode(() => fs.open(path("missing"), { append: true }), "ENOENT", "open append");
      expectCode(() => fs.open(path("missing"), { write: true, truncate: true }), "ENOENT", "open write+truncate");
      assert.equal(fs.exists(path("missing")), false);
    });

    s.case("creating under a missing parent fails with ENOENT", ({ fs, path }) => {
      expectCode(() => fs.open(path("no", "a"), { write: true, create: true }), "ENOENT", "create");
      expectCode(() => fs.open(path("no", "a"), { write: true, createNew: true }), "ENOENT", "createNew");
      expectCode(() => fs.open(path("no", "a"), { append: true, create: true }), "ENOENT", "append+create");
      assert.equal(fs.exists(path("no")), false);
    });

    s.case("createNew makes a file that did not exist", ({ fs, path, open }) => {
      open(path("a"), { write: true, createNew: true }).close();
      assert.equal(fs.metadata(path("a")).isFile, true);
    });

    s.case("createNew fails with EEXIST on an existing file and leaves it intact", ({ fs, path, writeFile, readFile }) => {
      writeFile(path("a"), "old");
      expectCode(() => fs.open(path("a"), { write: true, createNew: true }), "EEXIST", "createNew write");
      expectCode(() => fs.open(path("a"), { read: true, append: true, createNew: true }), "EEXIST", "createNew append");
      assert.equal(text(readFile(path("a"))), "old");
    });

    // O_CREAT|O_EXCL reports that the name is taken before it looks at what took it.
    s.case("createNew fails with EEXIST on an existing directory", ({ fs, path, makeDir }) => {
      makeDir(path("d"));
      expectCode(() => fs.open(path("d"), { write: true, createNew: true }), "EEXIST", "createNew on a directory");
      assert.equal(fs.metadata(path("d")).isDir, true);
    });

    s.case("opening a directory fails with EISDIR for every access mode", ({ fs, path, makeDir }) => {
      makeDir(path("d"));
      const modes: readonly FsOpenOptions[] = [
        { read: true },
        { write: true },
        { read: true, write: true },
        { append: true },
        { write: true, create: true },
        { write: true, truncate: true },
      ];
      for (const options of modes) {
        expectCode(() => fs.open(path("d"), options), "EISDIR", `open(dir, ${JSON.stringify(options)})`);
      }
      assert.equal(fs.metadata(path("d")).isDir, true);
    });

    s.case("create on an existing file keeps its contents", ({ path, open, writeFile, readFile }) => {
      writeFile(path("a"), "hello");
      open(path("a"), { write: true, create: true }).close();
      open(path("a"), { append: true, create: true }).close();
      assert.equal(text(readFile(path("a"))), "hello");
    });

    s.case("truncate cuts an existing file to zero", ({ fs, path, open, writeFile }) => {
      writeFile(path("a"), "hello");
      const file = open(path("a"), { read: true, write: true, truncate: true });
      assert.equal(file.len(), 0);
      file.close();
      assert.equal(fs.metadata(path("a")).len, 0);
      writeFile(path("b"), "hello");
      open(path("b"), { write: true, create: true, truncate: true }).close();
      assert.equal(fs.metadata(path("b")).len, 0);
    });
  });

  s.describe("write cursor", () => {
    s.case("two writes on one handle land back to back", ({ path, open, readFile }) => {
      const file = open(path("a"), { write: true, create: true });
      file.write(bytes("abc"));
      file.write(bytes("defg"));
      assert.equal(file.len(), 7);
      file.close();
      assert.equal(text(readFile(path("a"))), "abcdefg");
    });

    s.case("a fresh non-append handle over an existing file starts at offset 0", ({ path, open, writeFile, readFile }) => {
      writeFile(path("a"), "0123456789");
      const file = open(path("a"), { write: true });
      file.write(bytes("ab"));
      file.write(bytes("c"));
      assert.equal(file.len(), 10, "overwriting must not cut the tail");
      file.close();
      assert.equal(text(readFile(path("a"))), "abc3456789");
    });

    s.case("two handles on one file keep separate cursors", ({ path, open, readFile }) => {
      const first = open(path("a"), { write: true, create: true });
      const second = open(path("a"), { write: true });
      first.write(bytes("aaaa"));
      second.write(bytes("bb"));
      first.write(bytes("cc"));
      second.write(bytes("d"));
      assert.equal(text(readFile(path("a"))), "bbdacc");
    });

    // The cursor is the handle's own count of bytes written, like a file offset: shrinking the file
    // does not pull it back, so the next write leaves a hole that reads as zeros.
    s.case("setLen does not move the cursor; a write past the end leaves zeros", ({ path, open }) => {
      const file = open(path("a"), { read: true, write: true, create: true });
      file.write(new Uint8Array(10).fill(1));
      file.setLen(4);
      file.write(new Uint8Array([9]));
      assert.equal(file.len(), 11);
      assert.deepEqual([...readSome(file, 0, 20)], [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 9]);
    });

    s.case("readAt does not move the cursor", ({ path, open }) => {
      const file = open(path("a"), { read: true, write: true, create: true });
      file.write(bytes("abc"));
      readSome(file, 0, 2);
      readSome(file, 100, 2);
      file.write(bytes("d"));
      assert.equal(text(readSome(file, 0, 10)), "abcd");
    });

    s.case("an empty write changes nothing", ({ path, open }) => {
      const file = open(path("a"), { read: true, write: true, create: true });
      file.write(new Uint8Array(0));
      assert.equal(file.len(), 0);
      file.write(bytes("xy"));
      file.write(new Uint8Array(0));
      file.write(bytes("z"));
      assert.equal(text(readSome(file, 0, 10)), "xyz");
    });
  });

  s.describe("append", () => {
    s.case("append writes go after the existing contents", ({ path, open, writeFile, readFile }) => {
      writeFile(path("a"), "head");
      const file = open(path("a"), { append: true });
      file.write(bytes("-1"));
      file.write(bytes("-2"));
      file.close();
      assert.equal(text(readFile(path("a"))), "head-1-2");
    });

    s.case("two append handles interleave at the end", ({ path, open, writeFile, readFile }) => {
      writeFile(path("a"), "x");
      const first = open(path("a"), { append: true });
      const second = open(path("a"), { write: true, append: true });
      first.write(bytes("1"));
      second.write(bytes("22"));
      first.write(bytes("333"));
      second.write(bytes("4"));
      assert.equal(text(readFile(path("a"))), "x1223334");
    });

    s.case("append follows the end when another handle extends or shrinks the file", ({ path, open, readFile }) => {
      const appender = open(path("a"), { read: true, append: true, create: true });
      const writer = open(path("a"), { write: true });
      appender.write(bytes("ab"));
      writer.write(bytes("WXYZ"));
      appender.write(bytes("c"));
      assert.equal(text(readFile(path("a"))), "WXYZc");
      writer.setLen(2);
      appender.write(bytes("d"));
      assert.equal(text(readFile(path("a"))), "WXd");
    });

    s.case("an append-only handle may setLen, and appends after it at the new end", ({ path, open, readFile }) => {
      const file = open(path("a"), { append: true, create: true });
      file.write(bytes("hello"));
      file.setLen(2);
      file.write(bytes("!"));
      assert.equal(file.len(), 3);
      file.close();
      assert.equal(text(readFile(path("a"))), "he!");
    });
  });

  s.describe("readAt", () => {
    s.case("fills the buffer, reads short at the end and 0 at or past the end", ({ path, open, writeFile }) => {
      writeFile(path("a"), "0123456789");
      const file = open(path("a"), { read: true });
      assert.equal(text(readSome(file, 0, 4)), "0123");
      assert.equal(text(readSome(file, 3, 4)), "3456");
      assert.equal(text(readSome(file, 0, 10)), "0123456789");
      assert.equal(text(readSome(file, 7, 10)), "789", "partial at the end");
      assert.equal(text(readSome(file, 9, 1)), "9");
      assert.equal(readSome(file, 10, 4).length, 0, "at the end");
      assert.equal(readSome(file, 11, 4).length, 0, "past the end");
      assert.equal(readSome(file, 1 << 30, 4).length, 0, "far past the end");
    });

    s.case("reads only into the first n bytes of the buffer", ({ path, open, writeFile }) => {
      writeFile(path("a"), "ab");
      const file = open(path("a"), { read: true });
      const buffer = new Uint8Array(5).fill(0xee);
      assert.equal(file.readAt(buffer, 0), 2);
      assert.deepEqual([...buffer], [0x61, 0x62, 0xee, 0xee, 0xee]);
    });

    s.case("an empty file and an empty buffer read 0", ({ path, open, writeFile }) => {
      const empty = open(path("a"), { read: true, write: true, create: true });
      assert.equal(empty.readAt(new Uint8Array(8), 0), 0);
      writeFile(path("b"), "abc");
      const file = open(path("b"), { read: true });
      assert.equal(file.readAt(new Uint8Array(0), 0), 0);
      assert.equal(file.readAt(new Uint8Array(0), 2), 0);
    });

    s.case("reads into a view at an offset of a larger buffer", ({ path, open, writeFile }) => {
      writeFile(path("a"), "abcdef");
      const file = open(path("a"), { read: true });
      const backing = new Uint8Array(10);
      assert.equal(file.readAt(backing.subarray(3, 7), 1), 4);
      assert.deepEqual([...backing], [0, 0, 0, 0x62, 0x63, 0x64, 0x65, 0, 0, 0]);
    });

    s.case("a handle sees writes made through another handle at once", ({ path, open }) => {
      const writer = open(path("a"), { write: true, create: true });
      const reader = open(path("a"), { read: true });
      writer.write(bytes("one"));
      assert.equal(text(readSome(reader, 0, 10)), "one");
      assert.equal(reader.len(), 3);
      writer.write(bytes("two"));
      assert.equal(text(readSome(reader, 0, 10)), "onetwo");
    });
  });

  s.describe("access modes", () => {
    s.case("write through a read-only handle fails with EBADF and changes nothing", ({ path, open, writeFile, readFile }) => {
      writeFile(path("a"), "abc");
      const file = open(path("a"), { read: true });
      expectCode(() => file.write(bytes("x")), "EBADF", "write on read-only");
      assert.equal(text(readFile(path("a"))), "abc");
    });

    s.case("readAt through write-only and append-only handles fails with EBADF", ({ path, open, writeFile }) => {
      writeFile(path("a"), "abc");
      const writeOnly = open(path("a"), { write: true });
      expectCode(() => writeOnly.readAt(new Uint8Array(2), 0), "EBADF", "readAt on write-only");
      const appendOnly = open(path("a"), { append: true });
      expectCode(() => appendOnly.readAt(new Uint8Array(2), 0), "EBADF", "readAt on append-only");
      const created = open(path("b"), { write: true, create: true });
      expectCode(() => created.readAt(new Uint8Array(2), 0), "EBADF", "readAt on create+write");
    });

    s.case("setLen on a read-only handle fails with EINVAL and changes nothing", ({ fs, path, open, writeFile }) => {
      writeFile(path("a"), "abc");
      const file = open(path("a"), { read: true });
      expectCode(() => file.setLen(1), "EINVAL", "setLen on read-only");
      expectCode(() => file.setLen(10), "EINVAL", "setLen(extend) on read-only");
      assert.equal(fs.metadata(path("a")).len, 3);
    });

    s.case("a read+write handle both reads and writes", ({ path, open }) => {
      const file = open(path("a"), { read: true, write: true, create: true });
      file.write(bytes("hello"));
      assert.equal(text(readSome(file, 1, 3)), "ell");
    });
  });

  s.describe("len and setLen", () => {
    s.case("len tracks writes and agrees with metadata", ({ fs, path, open }) => {
      const file = open(path("a"), { read: true, write: true, create: true });
      assert.equal(file.len(), 0);
      file.write(new Uint8Array(1000));
      assert.equal(file.len(), 1000);
      assert.equal(fs.metadata(path("a")).len, 1000);
      const other = open(path("a"), { read: true });
      assert.equal(other.len(), 1000);
    });

    s.case("setLen extends with zeros", ({ fs, path, open }) => {
      const file = open(path("a"), { read: true, write: true, create: true });
      file.write(bytes("ab"));
      file.setLen(6);
      assert.equal(file.len(), 6);
      assert.equal(fs.metadata(path("a")).len, 6);
      assert.deepEqual([...readSome(file, 0, 10)], [0x61, 0x62, 0, 0, 0, 0]);
    });

    s.case("setLen shrinks, and a later extension reads zeros rather than the old bytes", ({ path, open }) => {
      const file = open(path("a"), { read: true, write: true, create: true });
      file.write(bytes("abcdef"));
      file.setLen(2);
      assert.equal(file.len(), 2);
      assert.equal(text(readSome(file, 0, 10)), "ab");
      file.setLen(5);
      assert.deepEqual([...readSome(file, 0, 10)], [0x61, 0x62, 0, 0, 0]);
      file.setLen(0);
      assert.equal(file.len(), 0);
      assert.equal(readSome(file, 0, 10).length, 0);
    });

    s.case("setLen to the current length changes nothing", ({ path, open }) => {
      const file = open(path("a"), { read: true, write: true, create: true });
      file.write(bytes("abc"));
      file.setLen(3);
      assert.equal(text(readSome(file, 0, 10)), "abc");
    });
  });

  s.describe("sync", () => {
    s.case("sync and syncData succeed on every kind of open handle", ({ path, open }) => {
      const writer = open(path("a"), { write: true, create: true });
      writer.sync();
      writer.write(bytes("data"));
      writer.syncData();
      writer.sync();
      const reader = open(path("a"), { read: true });
      reader.sync();
      reader.syncData();
      const appender = open(path("a"), { append: true });
      appender.write(bytes("more"));
      appender.syncData();
      appender.sync();
      assert.equal(reader.len(), 8);
    });

    // syncAsync is optional: a backend (or wrapper) without it passes these cases by not having it.
    s.case("syncAsync, where offered, resolves on every kind of open handle", async ({ path, open, readFile }) => {
      const writer = open(path("a"), { write: true, create: true });
      if (writer.syncAsync === undefined) return;
      await writer.syncAsync();
      writer.write(bytes("data"));
      await writer.syncAsync();
      const reader = open(path("a"), { read: true });
      await reader.syncAsync?.();
      const appender = open(path("a"), { append: true });
      appender.write(bytes("more"));
      await Promise.all([appender.syncAsync?.(), writer.syncAsync()]);
      assert.equal(text(readFile(path("a"))), "datamore");
    });

    s.case("syncAsync, where offered, rejects with EBADF after close and never throws", async ({ path, open }) => {
      const file = open(path("a"), { write: true, create: true });
      if (file.syncAsync === undefined) return;
      file.close();
      let pending: Promise<void> | undefined;
      assert.doesNotThrow(() => {
        pending = file.syncAsync?.();
      }, "syncAsync after close must report through its promise");
      await expectRejection(pending as Promise<void>, "EBADF", "syncAsync after close");
    });

    s.case("closing a handle while its syncAsync is pending lets the sync finish", async ({ path, open, readFile }) => {
      const file = open(path("a"), { write: true, create: true });
      if (file.syncAsync === undefined) return;
      file.write(bytes("abc"));
      const pending = file.syncAsync();
      file.close();
      expectCode(() => file.write(bytes("x")), "EBADF", "write after close");
      await pending;
      // The descriptor is released only now; new handles must not be confused with it.
      const again = open(path("b"), { write: true, create: true });
      again.write(bytes("other"));
      assert.equal(text(readFile(path("a"))), "abc");
      assert.equal(text(readFile(path("b"))), "other");
    });
  });

  s.describe("close", () => {
    s.case("after close every call throws EBADF", ({ path, open }) => {
      const file = open(path("a"), { read: true, write: true, create: true });
      file.write(bytes("abc"));
      file.close();
      expectCode(() => file.readAt(new Uint8Array(1), 0), "EBADF", "readAt after close");
      expectCode(() => file.write(bytes("x")), "EBADF", "write after close");
      expectCode(() => file.sync(), "EBADF", "sync after close");
      expectCode(() => file.syncData(), "EBADF", "syncData after close");
      expectCode(() => file.len(), "EBADF", "len after close");
      expectCode(() => file.setLen(0), "EBADF", "setLen after close");
    });

    s.case("a second close is a no-op and the contents survive", ({ path, open, readFile }) => {
      const file = open(path("a"), { write: true, create: true });
      file.write(bytes("kept"));
      file.close();
      file.close();
      assert.equal(text(readFile(path("a"))), "kept");
    });

    s.case("closing one handle leaves other handles on the file usable", ({ path, open }) => {
      const first = open(path("a"), { read: true, write: true, create: true });
      const second = open(path("a"), { read: true, write: true });
      first.write(bytes("abc"));
      first.close();
      assert.equal(text(readSome(second, 0, 10)), "abc");
      second.write(bytes("X"));
      assert.equal(text(readSome(second, 0, 10)), "Xbc");
    });
  });
}
