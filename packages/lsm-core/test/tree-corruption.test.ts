// Damaged files under a tree (DESIGN.md section 4, docs/FORMAT.md): a flipped byte in each region of a
// table (data block, index, filter, meta, metaindex, header, footer), in the version file and in
// `current`; truncated files; random garbage in place of each file kind. Open, or the first read that
// touches the damage, must throw an LsmError CORRUPTION (UNSUPPORTED_FORMAT only where a format version
// field itself is hit) naming the file; no read may return wrong data; verify() must find every damaged
// table; what is undamaged must still read correctly.
import { describe, expect, it } from "vitest";
import { MemFs } from "@talus/fs";
import { Random } from "@talus/testkit";
import { LsmError, SEQNO_MAX, SequenceNumberCounter, Tree } from "../src/index.ts";
import { checksum } from "../src/coding/checksum.ts";
import { decodeFooter, FOOTER_SIZE, type Footer } from "../src/table/footer.ts";
import { encodeCurrent } from "../src/version/current.ts";
import { versionFileChecksum } from "../src/version/persist.ts";
import {
  dec,
  entriesAt,
  expectLsmError,
  readBytes,
  splitEntry,
  tableFileIds,
  thrownBy,
  versionTableIds,
  writeBytes,
} from "./tree-test-support.ts";

const PATH = "/db";
const CURRENT = `${PATH}/current`;
const TREE_OPTIONS = { blockSize: 128, flushTableSize: 900 } as const;

/** A closed tree's files, to copy into a fresh volume for each case. */
interface Pristine {
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** The contents at SEQNO_MAX. */
  readonly expected: ReadonlyMap<string, string>;
  readonly versionPath: string;
  /** Per table file: its level and key range. */
  readonly tables: ReadonlyArray<{ id: number; path: string; level: number; minKey: string; maxKey: string }>;
}

const pad = (s: string): string => `${s}:${"v".repeat(16)}`;
const keys = (prefix: string, from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => `${prefix}${String(from + i).padStart(3, "0")}`);

async function buildPristine(build: (tree: Tree, seqno: SequenceNumberCounter) => Promise<void>, options: object = TREE_OPTIONS): Promise<Pristine> {
  const fs = new MemFs();
  const seqno = new SequenceNumberCounter();
  const tree = await Tree.open({ path: PATH, fs, seqno, ...options });
  await build(tree, seqno);
  const expected = new Map(entriesAt(tree).map(splitEntry));
  const version = tree.currentVersion();
  const tables = [...version.tables()].map((t) => ({
    id: t.id,
    path: t.path,
    level: version.levelOf(t.id) as number,
    minKey: dec(t.minKey) as string,
    maxKey: dec(t.maxKey) as string,
  }));
  await tree.close();
  // A reopen leaves only the live files (a running tree keeps superseded version files until then).
  await (await Tree.open({ path: PATH, fs, ...options })).close();
  const files = new Map<string, Uint8Array>();
  const collect = (dir: string): void => {
    for (const entry of fs.readDir(dir)) {
      if (entry.isDir) collect(entry.path);
      else files.set(entry.path, readBytes(fs, entry.path));
    }
  };
  collect(PATH);
  const versionPath = [...files.keys()].find((p) => /\/v\d+$/.test(p)) as string;
  return { files, expected, versionPath, tables };
}

/** The standard tree: several L6 tables from a major compaction, two L0 runs on top, keys overwritten across levels. */
async function standardTree(): Promise<Pristine> {
  return buildPristine(async (tree, seqno) => {
    const put = (ks: readonly string[], tag: string): void => {
      for (const k of ks) tree.insert(k, pad(`${tag}${k}`), seqno.next());
    };
    put(keys("a", 0, 60), "1");
    await tree.flushActiveMemtable(0);
    put(keys("b", 0, 40), "2");
    for (const k of keys("a", 50, 55)) tree.remove(k, seqno.next());
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(900, 0);
    put(keys("a", 10, 20), "3");
    put(keys("c", 0, 20), "3");
    await tree.flushActiveMemtable(0);
    put(keys("d", 0, 10), "4");
    put(["a012"], "4");
    await tree.flushActiveMemtable(0);
    expect(tree.levelTableCount(6)).toBeGreaterThanOrEqual(3);
    expect(tree.levelTableCount(0)).toBeGreaterThanOrEqual(2);
    expect(tree.l0RunCount()).toBe(2);
  });
}

function volumeOf(pristine: Pristine, edit?: (fs: MemFs) => void): MemFs {
  const fs = new MemFs();
  for (const [path, bytes] of pristine.files) {
    fs.createDirAll(path.slice(0, path.lastIndexOf("/")));
    writeBytes(fs, path, bytes);
  }
  edit?.(fs);
  return fs;
}

function flipped(bytes: Uint8Array, offset: number, mask = 0xff): Uint8Array {
  const copy = bytes.slice();
  copy[offset] = (copy[offset] as number) ^ mask;
  return copy;
}

function footerOf(bytes: Uint8Array, path: string): Footer {
  return decodeFooter(bytes.subarray(bytes.length - FOOTER_SIZE), bytes.length, path);
}

async function openTree(fs: MemFs): Promise<Tree> {
  return Tree.open({ path: PATH, fs, ...TREE_OPTIONS });
}

/** Opens expecting refusal: an LsmError with one of `codes` naming `file`. */
async function expectOpenRefused(fs: MemFs, codes: readonly string[], file: string, context: string): Promise<void> {
  let tree: Tree | undefined;
  let error: unknown;
  try {
    tree = await openTree(fs);
  } catch (e) {
    error = e;
  }
  if (tree !== undefined) {
    await tree.close();
    throw new Error(`${context}: the tree opened`);
  }
  expectLsmError(error, codes, file, context);
}

/**
 * Reads every key and scans: each answer is the right one or an LsmError CORRUPTION naming `damaged`
 * (only for keys whose lookup may reach the damaged table: inside its key range). Returns how many
 * reads reported the damage.
 */
function readAllChecked(tree: Tree, pristine: Pristine, damaged: Pristine["tables"][number], context: string): number {
  let reported = 0;
  const allKeys = [...pristine.expected.keys(), ...keys("a", 50, 55), "a", "zzz", "c0105"];
  for (const key of allKeys) {
    const error = thrownBy(() => {
      expect(dec(tree.get(key, SEQNO_MAX)), `${context}: get(${key})`).toBe(pristine.expected.get(key));
    });
    if (error === undefined) continue;
    if (!(error instanceof LsmError)) throw error;
    expectLsmError(error, ["CORRUPTION"], damaged.path, `${context}: get(${key})`);
    expect(key >= damaged.minKey && key <= damaged.maxKey, `${context}: get(${key}) reached ${damaged.path} (${damaged.minKey}..${damaged.maxKey})`).toBe(true);
    reported++;
  }
  return reported;
}

describe("Tree: a flipped byte in a table", () => {
  it("in a data block: open succeeds, reads that touch it report CORRUPTION, others read correctly, verify finds it", async () => {
    const pristine = await standardTree();
    // One table of each level (in L6 one that no L0 table shadows, so that its blocks are read); in
    // each, damage the first block's payload and the last block's checksum.
    const targets = [pristine.tables.find((t) => t.level === 0), pristine.tables.find((t) => t.level === 6 && t.minKey >= "b")];
    for (const table of targets) {
      if (table === undefined) throw new Error("missing a level");
      const bytes = pristine.files.get(table.path) as Uint8Array;
      const footer = footerOf(bytes, table.path);
      for (const offset of [12 + 3, footer.dataEnd - 3]) {
        const context = `${table.path} (L${table.level}) byte ${offset}`;
        const fs = volumeOf(pristine, (v) => writeBytes(v, table.path, flipped(bytes, offset)));
        const tree = await openTree(fs);
        expect(readAllChecked(tree, pristine, table, context), `${context}: some read reports the damage`).toBeGreaterThan(0);
        // Scans: everything crosses the damage; a range beside the table does not.
        expectLsmError(thrownBy(() => entriesAt(tree)), ["CORRUPTION"], table.path, `${context}: full scan`);
        // (Not `gt: maxKey`: seeking to the max key itself reads the table's last block.)
        const past = `${table.maxKey}~`;
        const beside = [...tree.range({ gte: past }, SEQNO_MAX)].map(([k, v]) => `${dec(k)}=${dec(v)}`);
        const expectedBeside = [...pristine.expected].filter(([k]) => k >= past).map(([k, v]) => `${k}=${v}`);
        expect(beside, `${context}: scan past the damaged table`).toEqual(expectedBeside);
        expectLsmError(thrownBy(() => tree.verify()), ["CORRUPTION"], table.path, `${context}: verify`);
        // A compaction over the damaged table fails the same way and leaves nothing behind.
        const tables = versionTableIds(tree);
        const failure = await tree.majorCompact(900, 0).then(
          () => undefined,
          (e: unknown) => e,
        );
        expectLsmError(failure, ["CORRUPTION"], table.path, `${context}: majorCompact`);
        expect(versionTableIds(tree), context).toEqual(tables);
        expect(tableFileIds(fs, PATH), `${context}: no partial compaction output`).toEqual(tables);
        // The tree still serves what is undamaged after all these errors.
        const other = [...pristine.expected].find(([k]) => k < table.minKey || k > table.maxKey);
        if (other !== undefined) expect(dec(tree.get(other[0], SEQNO_MAX)), context).toBe(other[1]);
        await tree.close();
      }
    }
  });

  it("a newer version in a damaged block is reported, never answered by an older version below it", async () => {
    const pristine = await standardTree();
    // a012 was rewritten in the newest L0 run; older versions live in the other L0 run and in L6.
    const newest = pristine.tables.filter((t) => t.level === 0 && "a012" >= t.minKey && "a012" <= t.maxKey);
    expect(newest.length).toBe(2);
    for (const table of newest) {
      const bytes = pristine.files.get(table.path) as Uint8Array;
      const footer = footerOf(bytes, table.path);
      // Flip a byte in every data block payload area: a012's block is among them.
      const damaged = bytes.slice();
      for (let offset = 12 + 2; offset < footer.dataEnd - 5; offset += 60) damaged[offset] = (damaged[offset] as number) ^ 0x20;
      const tree = await openTree(volumeOf(pristine, (v) => writeBytes(v, table.path, damaged)));
      const context = `${table.path} damaged`;
      const error = thrownBy(() => tree.get("a012", SEQNO_MAX));
      if (error === undefined) {
        // Only possible when this run's version is not the newest one: then the answer must still be right.
        expect(dec(tree.get("a012", SEQNO_MAX)), context).toBe(pristine.expected.get("a012"));
      } else {
        expectLsmError(error, ["CORRUPTION"], table.path, context);
      }
      await tree.close();
    }
  });

  const regions: ReadonlyArray<{ name: string; offsets: (footer: Footer, size: number) => number[]; codes: (offset: number, size: number) => string[] }> = [
    { name: "index block", offsets: (f) => [f.index.offset + 1, f.index.offset + f.index.size - 1, f.index.offset + f.index.size + 2], codes: () => ["CORRUPTION"] },
    { name: "filter block", offsets: (f) => (f.filter === null ? [] : [f.filter.offset + 3, f.filter.offset + f.filter.size - 1]), codes: () => ["CORRUPTION"] },
    { name: "meta block", offsets: (f) => [f.meta.offset, f.meta.offset + Math.floor(f.meta.size / 2)], codes: () => ["CORRUPTION"] },
    { name: "metaindex block", offsets: (f) => [f.metaindex.offset, f.metaindex.offset + f.metaindex.size + 1], codes: () => ["CORRUPTION"] },
    { name: "file header", offsets: () => [0, 7, 8, 11], codes: () => ["CORRUPTION"] },
    {
      name: "footer",
      // data end, filter/index/meta handles, file checksum, footer checksum, format version, magic.
      offsets: (_f, size) => [0, 8, 16, 20, 28, 32, 44, 56, 60, 64, 65, 67, 68, 75].map((o) => size - FOOTER_SIZE + o),
      codes: (offset, size) => (offset - (size - FOOTER_SIZE) >= 64 && offset - (size - FOOTER_SIZE) < 68 ? ["UNSUPPORTED_FORMAT"] : ["CORRUPTION"]),
    },
  ];

  for (const region of regions) {
    it(`in the ${region.name}: open reports it naming the table`, async () => {
      const pristine = await standardTree();
      let cases = 0;
      for (const table of pristine.tables) {
        const bytes = pristine.files.get(table.path) as Uint8Array;
        const footer = footerOf(bytes, table.path);
        for (const offset of region.offsets(footer, bytes.length)) {
          for (const mask of [0x01, 0x80, 0xff]) {
            const fs = volumeOf(pristine, (v) => writeBytes(v, table.path, flipped(bytes, offset, mask)));
            await expectOpenRefused(fs, region.codes(offset, bytes.length), table.path, `${region.name} of ${table.path}, byte ${offset} ^ ${mask}`);
            cases++;
          }
        }
      }
      expect(cases).toBeGreaterThan(0);
    });
  }

  it("verify() finds damage a running tree's reads never touch (index and filter are pinned in memory)", async () => {
    const pristine = await standardTree();
    for (const table of pristine.tables) {
      const bytes = pristine.files.get(table.path) as Uint8Array;
      const footer = footerOf(bytes, table.path);
      for (const offset of [footer.index.offset + 1, (footer.filter?.offset ?? footer.meta.offset) + 1, footer.meta.offset + 2, 12 + 5]) {
        const context = `${table.path} byte ${offset} damaged while open`;
        const fs = volumeOf(pristine);
        const tree = await openTree(fs);
        // Warm every block, then damage the file under the running tree.
        expect(entriesAt(tree).length).toBe(pristine.expected.size);
        writeBytes(fs, table.path, flipped(bytes, offset));
        expectLsmError(thrownBy(() => tree.verify()), ["CORRUPTION"], table.path, context);
        // Reads are served from what was checked when it was loaded: still right.
        expect(new Map(entriesAt(tree).map(splitEntry)), context).toEqual(pristine.expected);
        await tree.close();
      }
    }
  });

  it("an intact table of another format version is refused as UNSUPPORTED_FORMAT", async () => {
    const pristine = await standardTree();
    const table = pristine.tables[0];
    if (table === undefined) throw new Error("no table");
    const bytes = (pristine.files.get(table.path) as Uint8Array).slice();
    const view = new DataView(bytes.buffer);
    const footerAt = bytes.length - FOOTER_SIZE;
    view.setUint32(footerAt + 64, 2, true);
    view.setUint32(8, 2, true);
    const footerSum = checksum(bytes.subarray(footerAt + 64, bytes.length), checksum(bytes.subarray(footerAt, footerAt + 60)));
    view.setUint32(footerAt + 60, footerSum, true);
    await expectOpenRefused(volumeOf(pristine, (v) => writeBytes(v, table.path, bytes)), ["UNSUPPORTED_FORMAT"], table.path, "table format 2");
  });
});

describe("Tree: a flipped byte in the version file or `current`", () => {
  it("every byte of the version file: open reports CORRUPTION naming it", async () => {
    const pristine = await standardTree();
    const bytes = pristine.files.get(pristine.versionPath) as Uint8Array;
    for (let offset = 0; offset < bytes.length; offset++) {
      const fs = volumeOf(pristine, (v) => writeBytes(v, pristine.versionPath, flipped(bytes, offset, 1 << (offset % 8))));
      await expectOpenRefused(fs, ["CORRUPTION"], pristine.versionPath, `version file byte ${offset}`);
    }
  });

  it("every byte of `current`: open reports CORRUPTION naming it", async () => {
    const pristine = await standardTree();
    const bytes = pristine.files.get(CURRENT) as Uint8Array;
    expect(bytes.length).toBe(21);
    for (let offset = 0; offset < bytes.length; offset++) {
      for (const mask of [0x01, 0x80]) {
        const fs = volumeOf(pristine, (v) => writeBytes(v, CURRENT, flipped(bytes, offset, mask)));
        await expectOpenRefused(fs, ["CORRUPTION"], CURRENT, `current byte ${offset} ^ ${mask}`);
      }
    }
  });

  it("an intact `current` or version file of another format version is refused as UNSUPPORTED_FORMAT", async () => {
    const pristine = await standardTree();
    const pointer = (pristine.files.get(CURRENT) as Uint8Array).slice();
    pointer[4] = 2;
    new DataView(pointer.buffer).setUint32(17, checksum(pointer.subarray(0, 17)), true);
    await expectOpenRefused(volumeOf(pristine, (v) => writeBytes(v, CURRENT, pointer)), ["UNSUPPORTED_FORMAT"], CURRENT, "current format 2");

    const version = (pristine.files.get(pristine.versionPath) as Uint8Array).slice();
    version[4] = 3;
    new DataView(version.buffer).setUint32(version.length - 4, checksum(version.subarray(0, version.length - 4)), true);
    const id = Number(/v(\d+)$/.exec(pristine.versionPath)?.[1]);
    const repointed = encodeCurrent({ versionId: id, versionChecksum: versionFileChecksum(version) });
    const fs = volumeOf(pristine, (v) => {
      writeBytes(v, pristine.versionPath, version);
      writeBytes(v, CURRENT, repointed);
    });
    await expectOpenRefused(fs, ["UNSUPPORTED_FORMAT"], pristine.versionPath, "version file format 3");
  });
});

describe("Tree: truncated and garbage files", () => {
  it("a truncated file of each kind is reported as CORRUPTION naming it", async () => {
    const pristine = await standardTree();
    const cases: Array<[string, number[]]> = [[CURRENT, [0, 1, 4, 5, 13, 17, 20]], [pristine.versionPath, []]];
    const versionLength = (pristine.files.get(pristine.versionPath) as Uint8Array).length;
    (cases[1] as [string, number[]])[1].push(0, 1, 4, 5, 8, 9, 16, Math.floor(versionLength / 2), versionLength - 4, versionLength - 1);
    for (const table of pristine.tables) {
      const size = (pristine.files.get(table.path) as Uint8Array).length;
      cases.push([table.path, [0, 1, 11, 12, 87, 88, Math.floor(size / 2), size - FOOTER_SIZE, size - FOOTER_SIZE + 1, size - 1]]);
    }
    for (const [path, lengths] of cases) {
      const bytes = pristine.files.get(path) as Uint8Array;
      for (const length of lengths) {
        const fs = volumeOf(pristine, (v) => writeBytes(v, path, bytes.subarray(0, length)));
        await expectOpenRefused(fs, ["CORRUPTION"], path, `${path} truncated to ${length} of ${bytes.length}`);
      }
      // One byte too many is damage as well.
      const longer = new Uint8Array(bytes.length + 1);
      longer.set(bytes);
      await expectOpenRefused(volumeOf(pristine, (v) => writeBytes(v, path, longer)), ["CORRUPTION"], path, `${path} with a byte appended`);
    }
  });

  it("random garbage in place of each file kind is reported as CORRUPTION naming it", async () => {
    const pristine = await standardTree();
    const rng = new Random(20_261_124);
    const paths = [CURRENT, pristine.versionPath, ...pristine.tables.map((t) => t.path)];
    for (const path of paths) {
      const size = (pristine.files.get(path) as Uint8Array).length;
      for (const length of [size, size, 1 + rng.int(2 * size), 21, 200]) {
        const garbage = rng.bytes(length);
        const fs = volumeOf(pristine, (v) => writeBytes(v, path, garbage));
        await expectOpenRefused(fs, ["CORRUPTION"], path, `${path} replaced by ${length} random bytes`);
      }
    }
  });

  it("a table the version lists that is missing is UNRECOVERABLE, naming it", async () => {
    const pristine = await standardTree();
    const table = pristine.tables[1];
    if (table === undefined) throw new Error("no table");
    await expectOpenRefused(
      volumeOf(pristine, (v) => v.removeFile(table.path)),
      ["UNRECOVERABLE"],
      `${table.id} (L${table.level})`,
      "missing table",
    );
  });
});

describe("Tree: every single byte of a small tree, flipped", () => {
  it("never returns wrong data, reports damage naming the file, and verify() always finds it", async () => {
    // One small table (several 64-byte blocks, a filter), so every byte can be tried.
    const options = { blockSize: 64 };
    const pristine = await buildPristine(async (tree, seqno) => {
      for (const k of keys("k", 0, 24)) tree.insert(k, `value of ${k}`, seqno.next());
      tree.remove("k005", seqno.next());
      await tree.flushActiveMemtable(0);
    }, options);
    const table = pristine.tables[0];
    if (table === undefined || pristine.tables.length !== 1) throw new Error("expected one table");
    const allKeys = [...keys("k", 0, 26), "a", "z"];
    let opened = 0;
    for (const path of [table.path, pristine.versionPath, CURRENT]) {
      const bytes = pristine.files.get(path) as Uint8Array;
      for (let offset = 0; offset < bytes.length; offset++) {
        const context = `${path} byte ${offset}`;
        const fs = volumeOf(pristine, (v) => writeBytes(v, path, flipped(bytes, offset, 1 << (offset % 8))));
        let tree: Tree;
        try {
          tree = await Tree.open({ path: PATH, fs, ...options });
        } catch (error) {
          expectLsmError(error, ["CORRUPTION", "UNSUPPORTED_FORMAT"], path, context);
          continue;
        }
        opened++;
        // Only data block damage gets past open.
        expect(path, context).toBe(table.path);
        for (const key of allKeys) {
          const error = thrownBy(() => expect(dec(tree.get(key, SEQNO_MAX)), `${context}: get(${key})`).toBe(pristine.expected.get(key)));
          if (error !== undefined) expectLsmError(error, ["CORRUPTION"], path, `${context}: get(${key})`);
        }
        const scan = thrownBy(() => expect(new Map(entriesAt(tree).map(splitEntry)), `${context}: scan`).toEqual(pristine.expected));
        if (scan !== undefined) expectLsmError(scan, ["CORRUPTION"], path, `${context}: scan`);
        expectLsmError(thrownBy(() => tree.verify()), ["CORRUPTION", "UNSUPPORTED_FORMAT"], path, `${context}: verify`);
        await tree.close();
      }
    }
    // The data blocks make up a good part of the table: many flips got past open.
    expect(opened).toBeGreaterThan(100);
  });
});
