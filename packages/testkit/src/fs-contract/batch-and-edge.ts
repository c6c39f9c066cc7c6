/**
 * Contract cases for `readMany` and for the edges engines hit in practice: multi-MiB files written
 * and read in pieces that do not line up, hundreds of open handles, and file names that are legal on
 * Linux but easy to mangle.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { FsFile, FsReadRequest } from "@talus/fs";
import { Random } from "../random.ts";
import { bytes, childNames, expectCode, readSome, text, type CaseContext, type Suite } from "./harness.ts";

/** Chunk sizes that straddle every power-of-two block a backend might use internally. */
const ODD_CHUNKS = [1, 4093, 65537, 7, 131071, 333, 262147, 4096, 65536, 1048573];
const LARGE_FILE_BYTES = 3 * 1024 * 1024 + 12345;
const MANY_HANDLES = 300;

/** Legal on Linux, and each one has broken a path join, a URL parser or a flag parser somewhere. */
const UNUSUAL_NAMES: readonly string[] = [
  "with space",
  " leading and trailing ",
  "ünïcødé-ñame",
  "日本語のファイル",
  "emoji 😀🎉",
  "-leading-dash",
  "--",
  "..x",
  "x..",
  ".hidden",
  "...",
  "quote'double\"",
  "percent%20#hash?q=1&x",
  "back\\slash",
  "colon:star*pipe|<>",
  "tab\there",
  "n".repeat(200),
  "é".repeat(100),
];

/** Registers the batch-read and edge cases. */
export function defineBatchAndEdgeCases(s: Suite): void {
  s.describe("readMany", () => {
    s.case("an empty batch returns an empty array", ({ fs }) => {
      assert.deepEqual(fs.readMany([]), []);
    });

    s.case("returns each request's count with fill-or-EOF across files and positions", ({ path, open, writeFile, fs }) => {
      writeFile(path("a"), "0123456789");
      writeFile(path("b"), "xyz");
      writeFile(path("c"), "");
      const a = open(path("a"), { read: true });
      const b = open(path("b"), { read: true });
      const c = open(path("c"), { read: true });
      const plan: ReadonlyArray<readonly [FsFile, number, number, string]> = [
        [a, 0, 4, "0123"],
        [b, 1, 10, "yz"],
        [a, 8, 4, "89"],
        [c, 0, 5, ""],
        [a, 10, 4, ""],
        [b, 0, 3, "xyz"],
        [a, 50, 2, ""],
        [a, 3, 0, ""],
        [a, 2, 5, "23456"],
      ];
      const requests: FsReadRequest[] = plan.map(([file, position, length]) => ({ file, position, buffer: new Uint8Array(length).fill(0xee) }));
      const counts = fs.readMany(requests);
      assert.deepEqual(counts, plan.map(([, , , expected]) => expected.length));
      plan.forEach(([, position, length, expected], i) => {
        const buffer = requests[i]?.buffer ?? new Uint8Array(0);
        assert.equal(text(buffer.subarray(0, expected.length)), expected, `request ${i} at ${position}`);
        assert.ok(buffer.subarray(expected.length, length).every((byte) => byte === 0xee), `request ${i} wrote past its count`);
      });
    });

    s.case("reads many overlapping ranges of one file", ({ fs, path, open }) => {
      const data = new Random(11).bytes(10_000);
      const file = open(path("a"), { read: true, write: true, create: true });
      file.write(data);
      const requests: FsReadRequest[] = [];
      for (let position = 0; position < 10_500; position += 777) {
        requests.push({ file, position, buffer: new Uint8Array(1500) });
      }
      const counts = fs.readMany(requests);
      requests.forEach((request, i) => {
        const expected = data.subarray(request.position, request.position + 1500);
        assert.equal(counts[i], expected.length, `count of request ${i}`);
        assertSameBytes(request.buffer.subarray(0, expected.length), expected, `request ${i}`);
      });
    });

    s.case("fails with EBADF like readAt for a closed or write-only handle", ({ fs, path, open, writeFile }) => {
      writeFile(path("a"), "abc");
      const closed = open(path("a"), { read: true });
      closed.close();
      expectCode(() => fs.readMany([{ file: closed, position: 0, buffer: new Uint8Array(1) }]), "EBADF", "readMany(closed)");
      const writeOnly = open(path("a"), { write: true });
      expectCode(() => fs.readMany([{ file: writeOnly, position: 0, buffer: new Uint8Array(1) }]), "EBADF", "readMany(write-only)");
    });
  });

  s.describe("large files", () => {
    s.case("a file written in odd-sized chunks reads back byte for byte", (ctx) => {
      const { data, boundaries } = writeLargeFile(ctx);
      assert.equal(ctx.fs.metadata(ctx.path("big")).len, data.length);
      const file = ctx.open(ctx.path("big"), { read: true });
      assert.equal(file.len(), data.length);
      assertSameBytes(readSome(file, 0, data.length + 100), data, "one whole read");
      // Reads of other odd sizes, so that almost every read starts and ends inside a written chunk.
      const readSizes = [4099, 1, 65521, 100003, 3];
      let position = 0;
      for (let i = 0; position < data.length; i++) {
        const size = readSizes[i % readSizes.length] ?? 1;
        const got = readSome(file, position, size);
        assertSameBytes(got, data.subarray(position, position + size), `read of ${size} at ${position}`);
        position += size;
      }
      assert.ok(boundaries.length > 10);
    });

    s.case("reads straddling every chunk boundary see both sides", (ctx) => {
      const { data, boundaries } = writeLargeFile(ctx);
      const file = ctx.open(ctx.path("big"), { read: true });
      for (const boundary of boundaries) {
        const start = Math.max(0, boundary - 5);
        assertSameBytes(readSome(file, start, 11), data.subarray(start, start + 11), `window around ${boundary}`);
      }
      const requests: FsReadRequest[] = boundaries.map((boundary) => ({ file, position: Math.max(0, boundary - 3000), buffer: new Uint8Array(6007) }));
      const counts = ctx.fs.readMany(requests);
      requests.forEach((request, i) => {
        const expected = data.subarray(request.position, request.position + request.buffer.length);
        assert.equal(counts[i], expected.length);
        assertSameBytes(request.buffer.subarray(0, expected.length), expected, `readMany window ${i}`);
      });
    });

    s.case("a single multi-MiB write lands whole, and shrinking keeps the prefix", ({ path, open }) => {
      const data = new Random(5).bytes(5 * 1024 * 1024 + 3);
      const file = open(path("big"), { read: true, write: true, create: true });
      file.write(data);
      assert.equal(file.len(), data.length);
      assertSameBytes(readSome(file, 0, data.length), data, "after one write");
      file.setLen(1_000_001);
      assertSameBytes(readSome(file, 0, data.length), data.subarray(0, 1_000_001), "after shrinking");
    });
  });

  s.describe("many handles", () => {
    s.case(`${MANY_HANDLES} files open at once each keep their own contents`, ({ path, open, makeDir, fs }) => {
      makeDir(path("many"));
      const files = Array.from({ length: MANY_HANDLES }, (_, i) => open(path("many", `f${i}`), { read: true, write: true, createNew: true }));
      files.forEach((file, i) => file.write(bytes(`file ${i};`)));
      files.forEach((file, i) => file.write(bytes(`again ${i}`)));
      files.forEach((file, i) => assert.equal(text(readSome(file, 0, 100)), `file ${i};again ${i}`));
      for (const file of files) file.close();
      assert.equal(fs.readDir(path("many")).length, MANY_HANDLES);
    });

    s.case(`${MANY_HANDLES} handles on one file read it independently`, ({ path, open, writeFile }) => {
      writeFile(path("shared"), "0123456789");
      const files = Array.from({ length: MANY_HANDLES }, () => open(path("shared"), { read: true }));
      files.forEach((file, i) => assert.equal(text(readSome(file, i % 10, 3)), "0123456789".slice(i % 10, (i % 10) + 3)));
      files.forEach((file, i) => {
        if (i % 2 === 0) file.close();
      });
      files.forEach((file, i) => {
        if (i % 2 === 1) assert.equal(file.len(), 10);
      });
    });
  });

  s.describe("unusual names", () => {
    for (const name of UNUSUAL_NAMES) {
      const label = name.length > 40 ? `${name.slice(0, 12)}… (${bytes(name).length} bytes)` : JSON.stringify(name);
      s.case(`file and directory named ${label}`, (ctx) => exerciseName(ctx, name));
    }

    s.case("all unusual names side by side are listed exactly", ({ fs, path, writeFile }) => {
      for (const name of UNUSUAL_NAMES) writeFile(path(name), name);
      const listed = fs.readDir(path());
      assert.deepEqual(listed.map((entry) => entry.fileName).sort(), [...UNUSUAL_NAMES].sort());
      for (const entry of listed) assert.equal(entry.path, path(entry.fileName));
    });
  });
}

/** Every name-taking operation, once with `name` as a file and once as a directory. */
function exerciseName(ctx: CaseContext, name: string): void {
  const { fs, path, open, makeDir, readFile } = ctx;
  const file = open(path(name), { write: true, createNew: true });
  file.write(bytes(`contents of ${name}`));
  file.close();
  assert.equal(fs.exists(path(name)), true);
  assert.deepEqual(fs.metadata(path(name)), { len: bytes(`contents of ${name}`).length, isDir: false, isFile: true });
  assert.deepEqual(fs.readDir(path()), [{ path: path(name), fileName: name, isDir: false }]);
  assert.equal(text(readFile(path(name))), `contents of ${name}`);

  fs.rename(path(name), path("plain"));
  assert.deepEqual(childNames(fs, path()), ["plain"]);
  fs.rename(path("plain"), path(name));
  if (ctx.caps.hardLink) {
    fs.hardLink(path(name), path(`${name}.link`));
    assert.equal(text(readFile(path(`${name}.link`))), `contents of ${name}`);
    fs.removeFile(path(`${name}.link`));
  }
  fs.removeFile(path(name));
  assert.equal(fs.exists(path(name)), false);

  makeDir(path(name, name));
  ctx.writeFile(path(name, name, "inner"), "x");
  assert.deepEqual(fs.readDir(path(name)), [{ path: path(name, name), fileName: name, isDir: true }]);
  assert.equal(fs.metadata(path(name, name)).isDir, true);
  fs.syncDirectory(path(name, name));
  fs.removeDirAll(path(name));
  assert.deepEqual(fs.readDir(path()), []);
}

/** Writes {@link LARGE_FILE_BYTES} of seeded bytes in {@link ODD_CHUNKS}; returns them and the chunk ends. */
function writeLargeFile(ctx: CaseContext): { data: Uint8Array; boundaries: number[] } {
  const data = new Random(1234).bytes(LARGE_FILE_BYTES);
  const file = ctx.open(ctx.path("big"), { write: true, createNew: true });
  const boundaries: number[] = [];
  let written = 0;
  for (let i = 0; written < data.length; i++) {
    const size = Math.min(ODD_CHUNKS[i % ODD_CHUNKS.length] ?? 1, data.length - written);
    file.write(data.subarray(written, written + size));
    written += size;
    boundaries.push(written);
  }
  file.close();
  return { data, boundaries };
}

/**
 * Byte-for-byte equality that names the first differing offset instead of printing megabytes of diff.
 */
function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) {
      assert.fail(`${what}: first difference at byte ${i}: got ${String(actual[i])}, expected ${String(expected[i])}`);
    }
  }
}
