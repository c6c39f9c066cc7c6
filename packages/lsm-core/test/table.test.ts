import { MemFs, StdFs, type Fs } from "@talus/fs";
import { Random, useTempDirs } from "@talus/testkit";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BLOCK_CACHE_ENTRY_OVERHEAD, newCacheNamespace } from "../src/cache/index.ts";
import { checksum } from "../src/coding/checksum.ts";
import { newPointLookup } from "../src/iter/cursor.ts";
import { BYTEWISE_COMPARATOR, type Comparator } from "../src/key/comparator.ts";
import { ValueKind } from "../src/key/value-kind.ts";
import { SEQNO_MAX } from "../src/seqno.ts";
import { DEFLATE_CODEC, FOOTER_SIZE, LZ4_CODEC, TableWriter, type PrefixExtractor, type Table, type TableOpenOptions, type TableWriterOptions } from "../src/table/index.ts";
import { READ_AHEAD_BYTES } from "../src/table/table.ts";
import {
  caches,
  enc,
  lastAtOrBefore,
  lowerBound,
  lsmErrorOf,
  modelGet,
  openTable,
  randomEntries,
  randomKey,
  readFile,
  REVERSE,
  scanAll,
  show,
  writeFile,
  writeTable,
  type ModelEntry,
} from "./table-support.ts";

const dirs = useTempDirs(afterEach);

interface Config {
  readonly name: string;
  readonly writer: Partial<TableWriterOptions>;
  readonly open?: Partial<TableOpenOptions>;
  readonly comparator?: Comparator;
  readonly cacheBytes?: number;
}

const CONFIGS: readonly Config[] = [
  { name: "64-byte blocks, restart interval 1", writer: { blockSize: 64, restartInterval: 1 } },
  { name: "64-byte blocks, restart interval 2", writer: { blockSize: 64, restartInterval: 2 } },
  { name: "64-byte blocks, restart interval 16", writer: { blockSize: 64, restartInterval: 16 } },
  { name: "defaults", writer: {} },
  { name: "lz4, 512-byte blocks", writer: { blockSize: 512, codec: LZ4_CODEC } },
  { name: "deflate, 1 KiB blocks", writer: { blockSize: 1024, codec: DEFLATE_CODEC } },
  { name: "no filter, 128-byte blocks", writer: { blockSize: 128, filterBitsPerKey: 0 } },
  { name: "reverse comparator, 64-byte blocks", writer: { blockSize: 64, restartInterval: 3 }, comparator: REVERSE },
  { name: "unpinned index and filter, 2 KB cache", writer: { blockSize: 100, codec: LZ4_CODEC }, open: { pinIndex: false, pinFilter: false }, cacheBytes: 2000 },
];

/** Checks every read path of `table` against `model`, with probes drawn from `rng`. */
function checkAgainstModel(table: Table, model: readonly ModelEntry[], cmp: Comparator, rng: Random, probes = 400): void {
  expect(show(scanAll(table))).toEqual(show(model));
  const reverse: ModelEntry[] = [];
  const c = table.cursor();
  for (c.seekToLast(); c.valid(); c.prev()) reverse.push({ key: c.key().slice(), seqno: c.seqno(), kind: c.kind(), value: c.value().slice() });
  expect(show(reverse)).toEqual(show([...model].reverse()));

  const probeKey = (): Uint8Array => (rng.chance(0.7) ? (rng.pick(model).key as Uint8Array) : randomKey(rng));
  const probeSeqno = (key: Uint8Array): number => {
    const versions = model.filter((e) => cmp.compare(e.key, key) === 0);
    const near = versions.length > 0 ? rng.pick(versions).seqno + rng.range(-1, 1) : rng.int(1000);
    return rng.pick([0, 1, SEQNO_MAX, rng.int(1000), Math.max(0, near)]);
  };
  const at = (i: number): string => (i >= 0 && i < model.length ? (show([model[i] as ModelEntry])[0] as string) : "invalid");
  const here = (): string => (c.valid() ? (show([{ key: c.key(), seqno: c.seqno(), kind: c.kind(), value: c.value() }])[0] as string) : "invalid");
  const walk = (start: number): void => {
    let i = start;
    for (let step = 0; step < 8 && c.valid(); step++) {
      if (rng.chance(0.5)) {
        c.next();
        i++;
      } else {
        c.prev();
        i--;
      }
      expect(here()).toBe(at(i));
    }
  };

  const out = newPointLookup();
  for (let p = 0; p < probes; p++) {
    const key = probeKey();
    const readSeqno = probeSeqno(key);
    const expected = modelGet(cmp, model, key, readSeqno);
    const found = table.get(key, readSeqno, out);
    expect(found ? show([{ key, ...out }]) : undefined).toEqual(expected === undefined ? undefined : show([expected]));

    const seekSeqno = probeSeqno(key);
    c.seek(key, seekSeqno);
    const i = lowerBound(cmp, model, key, seekSeqno);
    expect(here()).toBe(at(i));
    walk(i);

    c.seekForPrev(key);
    const j = lastAtOrBefore(cmp, model, key);
    expect(here()).toBe(at(j));
    walk(j);
  }
  c.seek(model[0]?.key as Uint8Array);
  expect(here()).toBe(at(0));
  c.close();
}

describe("table round trips against a model", () => {
  for (const [n, config] of CONFIGS.entries()) {
    it(config.name, () => {
      const rng = new Random(1000 + n);
      const cmp = config.comparator ?? BYTEWISE_COMPARATOR;
      const fs = new MemFs();
      const model = randomEntries(rng, cmp, 3000);
      const meta = writeTable(fs, "/t.sst", model, { ...config.writer, comparator: cmp });
      const table = openTable(fs, "/t.sst", { comparator: cmp, ...caches(config.cacheBytes ?? 1 << 20), ...config.open });
      expect(meta).toEqual(table.meta);
      expect(meta.entryCount).toBe(model.length);
      expect(meta.minKey).toEqual(model[0]?.key);
      expect(meta.maxKey).toEqual(model[model.length - 1]?.key);
      if (config.writer.codec !== undefined) expect(meta.storedDataSize).toBeLessThan(meta.dataSize);
      checkAgainstModel(table, model, cmp, rng);
      table.verify();
      table.close();
    });
  }
});

describe("table edge cases", () => {
  it("finds every version of one key spread over many blocks, at every read seqno", () => {
    const fs = new MemFs();
    const model: ModelEntry[] = [{ key: enc("j"), seqno: 7, kind: ValueKind.Value, value: enc("before") }];
    for (let s = 1000; s >= 1; s--) model.push({ key: enc("k"), seqno: s, kind: s % 10 === 0 ? ValueKind.Tombstone : ValueKind.Value, value: s % 10 === 0 ? new Uint8Array(0) : enc(`v${s}`) });
    model.push({ key: enc("l"), seqno: 3, kind: ValueKind.Value, value: enc("after") });
    const meta = writeTable(fs, "/t.sst", model, { blockSize: 64, restartInterval: 4 });
    expect(meta.dataBlockCount).toBeGreaterThan(50);
    const table = openTable(fs, "/t.sst");
    const out = newPointLookup();
    for (let read = 0; read <= 1002; read++) {
      const found = table.get(enc("k"), read, out);
      if (read <= 1) expect(found).toBe(false);
      else {
        expect(found).toBe(true);
        expect(out.seqno).toBe(Math.min(read - 1, 1000));
        expect(out.kind).toBe(out.seqno % 10 === 0 ? ValueKind.Tombstone : ValueKind.Value);
      }
    }
    const c = table.cursor();
    for (let s = 0; s <= 1001; s++) {
      c.seek(enc("k"), s);
      if (s === 0) expect(new TextDecoder().decode(c.key())).toBe("l");
      else expect(c.seqno()).toBe(Math.min(s, 1000));
    }
    c.seekForPrev(enc("k"));
    expect([new TextDecoder().decode(c.key()), c.seqno()]).toEqual(["k", 1]);
    c.prev();
    expect([new TextDecoder().decode(c.key()), c.seqno()]).toEqual(["k", 2]);
    c.seekForPrev(enc("j~"));
    expect([new TextDecoder().decode(c.key()), c.seqno()]).toEqual(["j", 7]);
    c.next();
    expect([new TextDecoder().decode(c.key()), c.seqno()]).toEqual(["k", 1000]);
    checkAgainstModel(table, model, BYTEWISE_COMPARATOR, new Random(5));
  });

  it("searches index and blocks right when every key shares a long prefix", () => {
    // The index compares 4 bytes after the shared prefix as an integer and the block seek skips bytes
    // known equal: keys that tie there (zero padding, one key a prefix of another) and probes that
    // leave the prefix early must still land where a plain comparison would.
    const rng = new Random(77);
    const prefix = enc("tenant-0042/orders/");
    const suffixes = new Map<string, Uint8Array>();
    for (const fixed of [[], [0], [0, 0], [0, 0, 0, 0], [0, 0, 0, 0, 0], [1], [0, 1], [0xff], [0xff, 0xff, 0xff, 0xff, 0]]) suffixes.set(String(fixed), Uint8Array.from(fixed));
    while (suffixes.size < 600) {
      const suffix = rng.bytes(1 + rng.int(7)).map((b) => (rng.chance(0.5) ? b & 3 : b));
      suffixes.set(String([...suffix]), suffix);
    }
    const keys = [...suffixes.values()].map((suffix) => Uint8Array.from([...prefix, ...suffix])).sort((a, b) => Buffer.compare(a, b));
    const model: ModelEntry[] = [];
    for (const key of keys) {
      const versions = 1 + rng.int(3);
      for (let v = versions; v >= 1; v--) model.push({ key, seqno: v * 10, kind: ValueKind.Value, value: rng.bytes(rng.int(20)) });
    }
    const fs = new MemFs();
    const meta = writeTable(fs, "/t.sst", model, { blockSize: 128, restartInterval: 3 });
    expect(meta.dataBlockCount).toBeGreaterThan(100);
    const table = openTable(fs, "/t.sst");
    const probes = [
      ...keys,
      ...keys.map((k) => Uint8Array.from([...k, 0])),
      ...keys.map((k) => k.subarray(0, k.length - 1)),
      prefix.subarray(0, 5),
      enc("tenant-0042/orders"),
      enc("tenant-0042/orderz"),
      enc("tenant-0041/zzz"),
      enc("u"),
      enc("a"),
    ];
    const out = newPointLookup();
    const cursor = table.cursor();
    const index = table.index();
    for (const probe of probes) {
      for (const read of [1, 11, 21, 25, SEQNO_MAX]) {
        const expected = modelGet(BYTEWISE_COMPARATOR, model, probe, read);
        const found = table.get(probe, read, out);
        expect(found, Buffer.from(probe).toString("hex")).toBe(expected !== undefined);
        if (expected !== undefined) expect([out.seqno, out.value]).toEqual([expected.seqno, expected.value]);
        const at = lowerBound(BYTEWISE_COMPARATOR, model, probe, read - 1);
        cursor.seek(probe, read - 1);
        expect(cursor.valid(), Buffer.from(probe).toString("hex")).toBe(at < model.length);
        if (at < model.length) expect([cursor.key(), cursor.seqno()]).toEqual([(model[at] as ModelEntry).key, (model[at] as ModelEntry).seqno]);
        let block = 0;
        while (block < index.count && BYTEWISE_COMPARATOR.compare(index.lastKey(block), probe) < 0) block++;
        while (block < index.count && BYTEWISE_COMPARATOR.compare(index.lastKey(block), probe) === 0 && index.lastSeqno(block) > read - 1) block++;
        expect(index.lowerBound(probe, read - 1), Buffer.from(probe).toString("hex")).toBe(block);
      }
    }
    cursor.close();
  });

  it("hands a closed reader cursor out again, unpositioned and working, and never an open one", () => {
    const rng = new Random(12);
    const fs = new MemFs();
    const model = randomEntries(rng, BYTEWISE_COMPARATOR, 500);
    writeTable(fs, "/t.sst", model, { blockSize: 256 });
    const table = openTable(fs, "/t.sst");
    const first = table.cursor();
    const second = table.cursor();
    expect(second).not.toBe(first);
    first.seekToLast();
    first.close();
    const reused = table.cursor();
    expect(reused).toBe(first);
    expect(reused.valid()).toBe(false);
    for (let i = 0; i < 50; i++) {
      const probe = model[rng.int(model.length)] as ModelEntry;
      const at = lowerBound(BYTEWISE_COMPARATOR, model, probe.key, probe.seqno);
      reused.seek(probe.key, probe.seqno);
      expect([reused.key(), reused.seqno()]).toEqual([(model[at] as ModelEntry).key, (model[at] as ModelEntry).seqno]);
    }
    expect(table.cursor()).not.toBe(reused);
    // Compaction scans keep the cache clean, so theirs are never handed to readers.
    const scan = table.cursor({ fillCache: false });
    scan.close();
    expect(table.cursor()).not.toBe(scan);
    reused.close();
    second.close();
    table.close();
  });

  it("keeps empty values apart from missing ones", () => {
    const fs = new MemFs();
    const model: ModelEntry[] = ["a", "b", "c"].map((k, i) => ({ key: enc(k), seqno: i, kind: ValueKind.Value, value: new Uint8Array(0) }));
    writeTable(fs, "/t.sst", model);
    const table = openTable(fs, "/t.sst");
    const out = newPointLookup();
    expect(table.get(enc("b"), SEQNO_MAX, out)).toBe(true);
    expect(out.value.length).toBe(0);
    expect(table.get(enc("bb"), SEQNO_MAX, out)).toBe(false);
    expect(show(scanAll(table))).toEqual(show(model));
  });

  for (const restartInterval of [1, 16]) {
    it(`stores 65535-byte keys (restart interval ${restartInterval})`, () => {
      const rng = new Random(77);
      const fs = new MemFs();
      const base = rng.bytes(65_535);
      const keys: Uint8Array[] = [];
      for (let i = 0; i < 20; i++) {
        const key = base.slice();
        key[60_000 + i * 10] = i;
        key[65_534] = i;
        keys.push(key);
      }
      keys.push(enc("short"), new Uint8Array(65_535).fill(0xff));
      keys.sort((a, b) => Buffer.compare(a, b));
      const model = keys.map((key, i) => ({ key, seqno: i, kind: ValueKind.Value, value: enc(`v${i}`) }));
      writeTable(fs, "/t.sst", model, { restartInterval, blockSize: 1024 });
      const table = openTable(fs, "/t.sst");
      checkAgainstModel(table, model, BYTEWISE_COMPARATOR, rng, 30);
      table.verify();
    });
  }

  for (const codec of [undefined, LZ4_CODEC]) {
    it(`stores a 10 MB value (${codec?.name ?? "uncompressed"})`, () => {
      const rng = new Random(10);
      const fs = new MemFs();
      const big = codec === undefined ? rng.bytes(10 * 1024 * 1024) : new Uint8Array(10 * 1024 * 1024).map((_, i) => (i * 7) % 251);
      const model: ModelEntry[] = [
        { key: enc("a"), seqno: 1, kind: ValueKind.Value, value: enc("small") },
        { key: enc("big"), seqno: 2, kind: ValueKind.Value, value: big },
        { key: enc("c"), seqno: 3, kind: ValueKind.Value, value: enc("small") },
      ];
      const meta = writeTable(fs, "/t.sst", model, codec === undefined ? {} : { codec });
      if (codec !== undefined) expect(meta.fileSize).toBeLessThan(big.length / 10);
      const table = openTable(fs, "/t.sst");
      const out = newPointLookup();
      expect(table.get(enc("big"), SEQNO_MAX, out)).toBe(true);
      expect(Buffer.compare(out.value, big)).toBe(0);
      expect(show(scanAll(table))).toEqual(show(model));
      table.verify();
    });
  }

  it("records every meta field", () => {
    const fs = new MemFs();
    const model: ModelEntry[] = [
      { key: enc("apple"), seqno: 9, kind: ValueKind.Value, value: enc("red") },
      { key: enc("apple"), seqno: 4, kind: ValueKind.Tombstone, value: new Uint8Array(0) },
      { key: enc("banana"), seqno: 12, kind: ValueKind.WeakTombstone, value: new Uint8Array(0) },
      { key: enc("cherry"), seqno: 2, kind: ValueKind.MergeOperand, value: enc("+1") },
      { key: enc("date"), seqno: 30, kind: ValueKind.Indirection, value: enc("blob-ptr") },
    ];
    const prefix3: PrefixExtractor = { name: "first-3", prefixes: (key) => [key.subarray(0, 3)] };
    const meta = writeTable(fs, "/t.sst", model, { tableId: 42, blockSize: 32, restartInterval: 2, codec: LZ4_CODEC, filterBitsPerKey: 12, prefixExtractor: prefix3, createdAtMs: 1234 });
    const table = openTable(fs, "/t.sst", { tableId: 42 });
    const bytes = readFile(fs, "/t.sst");
    expect(table.meta).toEqual(meta);
    expect(meta).toMatchObject({
      tableId: 42,
      createdAtMs: 1234,
      entryCount: 5,
      distinctKeyCount: 4,
      tombstoneCount: 1,
      weakTombstoneCount: 1,
      mergeOperandCount: 1,
      indirectionCount: 1,
      minSeqno: 2,
      maxSeqno: 30,
      minKey: enc("apple"),
      maxKey: enc("date"),
      keyBytes: 5 + 5 + 6 + 6 + 4,
      valueBytes: 3 + 2 + 8,
      restartInterval: 2,
      blockSize: 32,
      codec: LZ4_CODEC.id,
      filterBitsPerKey: 12,
      prefixExtractor: "first-3",
      comparator: "bytewise",
      formatVersion: 1,
      fileSize: bytes.length,
      fileChecksum: checksum(bytes.subarray(0, bytes.length - FOOTER_SIZE)),
    });
    expect(meta.dataBlockCount).toBeGreaterThan(1);
    expect(meta.dataSize).toBeGreaterThan(meta.keyBytes);
    expect(meta.filterSize).toBeGreaterThan(0);
    expect(meta.indexSize).toBeGreaterThan(0);
  });

  it("skips the file for old snapshots, keys out of range and filter misses", () => {
    const fs = new MemFs();
    const model: ModelEntry[] = [];
    for (let i = 100; i < 600; i++) model.push({ key: enc(`key${i}`), seqno: 50 + i, kind: ValueKind.Value, value: enc("v") });
    writeTable(fs, "/t.sst", model, { blockSize: 128 });
    const c = caches();
    const table = openTable(fs, "/t.sst", c);
    const out = newPointLookup();
    const lookups = (): number => c.blockCache.hits + c.blockCache.misses;
    const before = lookups();
    expect(table.get(enc("key300"), 150, out)).toBe(false);
    expect(table.get(enc("key099"), SEQNO_MAX, out)).toBe(false);
    expect(table.get(enc("key700"), SEQNO_MAX, out)).toBe(false);
    const absent = Array.from({ length: 200 }, (_, i) => enc(`key${100 + i}x`)).filter((k) => !table.mayContain(k));
    expect(absent.length).toBeGreaterThan(190);
    for (const key of absent) expect(table.get(key, SEQNO_MAX, out)).toBe(false);
    expect(lookups()).toBe(before);
    expect(table.get(enc("key300"), SEQNO_MAX, out)).toBe(true);
    expect(lookups()).toBe(before + 1);
    for (const e of model) expect(table.mayContain(e.key)).toBe(true);
  });

  it("probes key prefixes only with the extractor the table was written with", () => {
    const fs = new MemFs();
    const prefix3: PrefixExtractor = { name: "first-3", prefixes: (key) => (key.length >= 3 ? [key.subarray(0, 3)] : []) };
    const model = ["aaa1", "aaa2", "abc9", "zzz0"].map((k, i) => ({ key: enc(k), seqno: i, kind: ValueKind.Value, value: enc("v") }));
    writeTable(fs, "/t.sst", model, { prefixExtractor: prefix3 });
    const table = openTable(fs, "/t.sst", { prefixExtractor: prefix3 });
    for (const p of ["aaa", "abc", "zzz"]) expect(table.mayContainPrefix(enc(p))).toBe(true);
    const misses = Array.from({ length: 100 }, (_, i) => enc(`q${String(i).padStart(2, "0")}`)).filter((p) => table.mayContainPrefix(p));
    expect(misses.length).toBeLessThan(10);
    const other = openTable(fs, "/t.sst", { prefixExtractor: { ...prefix3, name: "other" } });
    expect(other.mayContainPrefix(enc("q00"))).toBe(true);
  });

  it("works on the real disk", () => {
    const fs = new StdFs();
    const path = join(dirs.make("table"), "1.sst");
    const rng = new Random(3);
    const model = randomEntries(rng, BYTEWISE_COMPARATOR, 2000);
    writeTable(fs, path, model, { blockSize: 256, codec: LZ4_CODEC });
    const table = openTable(fs, path);
    checkAgainstModel(table, model, BYTEWISE_COMPARATOR, rng);
    table.verify();
    table.close();
    const bytes = readFile(fs, path);
    bytes[100] = (bytes[100] as number) ^ 0x10;
    writeFile(fs, path, bytes);
    const reopened = openTable(fs, path);
    const error = lsmErrorOf(() => reopened.verify());
    expect(error?.code).toBe("CORRUPTION");
    expect(error?.message).toContain(path);
  });

  it("reads blocks lazily and caches them unless told not to", () => {
    const fs = new MemFs();
    const model = randomEntries(new Random(8), BYTEWISE_COMPARATOR, 2000);
    const meta = writeTable(fs, "/t.sst", model, { blockSize: 256 });
    const c = caches();
    const table = openTable(fs, "/t.sst", c);
    expect(c.blockCache.count).toBe(0);
    const scan = table.cursor({ fillCache: false });
    for (scan.seekToFirst(); scan.valid(); scan.next());
    expect(c.blockCache.count).toBe(0);
    const cursor = table.cursor();
    cursor.seek(model[0]?.key as Uint8Array);
    // The cache has room: the miss read the blocks after the first too (up to READ_AHEAD_BYTES), not all of them.
    expect(c.blockCache.count).toBeGreaterThan(1);
    expect(c.blockCache.count).toBeLessThan(meta.dataBlockCount);
    // Charged at pool-piece capacity (a little over each block's size), for at most READ_AHEAD_BYTES of file.
    expect(c.blockCache.size - c.blockCache.count * BLOCK_CACHE_ENTRY_OVERHEAD).toBeLessThanOrEqual(2 * READ_AHEAD_BYTES);
    for (; cursor.valid(); cursor.next());
    expect(c.blockCache.count).toBe(meta.dataBlockCount);
    cursor.close();
    expect(() => cursor.next()).toThrow(expect.objectContaining({ code: "CLOSED" }));
  });

  it("shares one block cache between trees through namespaces", () => {
    const fs = new MemFs();
    const rng = new Random(12);
    const first = randomEntries(rng, BYTEWISE_COMPARATOR, 500);
    const second = randomEntries(rng, BYTEWISE_COMPARATOR, 500);
    writeTable(fs, "/a.sst", first, { blockSize: 128 });
    writeTable(fs, "/b.sst", second, { blockSize: 128 });
    const shared = caches();
    const a = openTable(fs, "/a.sst", { ...shared, cacheNamespace: newCacheNamespace() });
    const b = openTable(fs, "/b.sst", { ...shared, cacheNamespace: newCacheNamespace() });
    for (let round = 0; round < 2; round++) {
      expect(show(scanAll(a))).toEqual(show(first));
      expect(show(scanAll(b))).toEqual(show(second));
    }
    expect(shared.blockCache.hits).toBeGreaterThan(0);
  });

  it("checks the comparator and the table id, and refuses reads once closed", () => {
    const fs = new MemFs();
    writeTable(fs, "/t.sst", [{ key: enc("a"), seqno: 1, kind: ValueKind.Value, value: enc("1") }]);
    expect(lsmErrorOf(() => openTable(fs, "/t.sst", { comparator: REVERSE }))?.code).toBe("COMPARATOR_MISMATCH");
    expect(() => openTable(fs, "/missing.sst")).toThrow(expect.objectContaining({ code: "ENOENT" }));
    const wrongId = lsmErrorOf(() => openTable(fs, "/t.sst", { tableId: 2 }));
    expect(wrongId?.code).toBe("CORRUPTION");
    expect(wrongId?.message).toContain("/t.sst");
    const c = caches();
    const table = openTable(fs, "/t.sst", c);
    table.get(enc("a"), SEQNO_MAX, newPointLookup());
    expect(c.fileCache.size).toBe(1);
    table.close();
    table.close();
    expect(c.fileCache.size).toBe(0);
    expect(lsmErrorOf(() => table.get(enc("a"), SEQNO_MAX, newPointLookup()))?.code).toBe("CLOSED");
  });
});

describe("TableWriter", () => {
  const open = (fs: Fs): TableWriter => new TableWriter(fs, "/w.sst", { tableId: 1 });

  it("refuses entries out of internal-key order", () => {
    const fs = new MemFs();
    const w = open(fs);
    w.add(enc("b"), 5, ValueKind.Value, enc("x"));
    expect(() => w.add(enc("a"), 9, ValueKind.Value, enc("x"))).toThrow(/internal-key order/);
    expect(() => w.add(enc("b"), 5, ValueKind.Value, enc("x"))).toThrow(/internal-key order/);
    expect(() => w.add(enc("b"), 6, ValueKind.Value, enc("x"))).toThrow(/internal-key order/);
    w.add(enc("b"), 4, ValueKind.Value, enc("x"));
    w.add(enc("c"), 100, ValueKind.Value, enc("x"));
    expect(w.finish().entryCount).toBe(3);
  });

  it("refuses an existing file, bad arguments and use after finish", () => {
    const fs = new MemFs();
    writeTable(fs, "/w.sst", [{ key: enc("a"), seqno: 1, kind: ValueKind.Value, value: enc("1") }]);
    expect(() => open(fs)).toThrow(expect.objectContaining({ code: "EEXIST" }));
    const w = new TableWriter(fs, "/w2.sst", { tableId: 1 });
    expect(() => w.finish()).toThrow(/no entries/);
    expect(() => w.add(new Uint8Array(65_536), 1, ValueKind.Value, enc("x"))).toThrow(RangeError);
    expect(() => w.add(enc("a"), -1, ValueKind.Value, enc("x"))).toThrow(RangeError);
    expect(() => w.add(enc("a"), 2 ** 53, ValueKind.Value, enc("x"))).toThrow(RangeError);
    expect(() => w.add(enc("a"), 1, ValueKind.Tombstone, enc("x"))).toThrow(RangeError);
    w.add(enc("a"), 2 ** 53 - 1, ValueKind.Value, enc("x"));
    w.finish();
    expect(() => w.add(enc("b"), 1, ValueKind.Value, enc("x"))).toThrow(/finished/);
    expect(() => new TableWriter(fs, "/w3.sst", { tableId: 1, filterBitsPerKey: 65 })).toThrow(RangeError);
    expect(fs.exists("/w3.sst")).toBe(false);
  });

  it("abort removes the partial file", () => {
    const fs = new MemFs();
    const w = open(fs);
    for (let i = 0; i < 10_000; i++) w.add(enc(`k${String(i).padStart(6, "0")}`), 1, ValueKind.Value, enc("value"));
    expect(fs.exists("/w.sst")).toBe(true);
    w.abort();
    w.abort();
    expect(fs.exists("/w.sst")).toBe(false);
    expect(() => w.add(enc("z"), 1, ValueKind.Value, enc("x"))).toThrow(/aborted/);
  });

  it("estimates its size and remembers the last key", () => {
    const fs = new MemFs();
    const w = new TableWriter(fs, "/w.sst", { tableId: 1, codec: LZ4_CODEC });
    expect(w.lastKey()).toBeUndefined();
    expect(w.lastKeyView()).toBeUndefined();
    const start = w.estimatedSize;
    const rng = new Random(4);
    for (let i = 0; i < 20_000; i++) w.add(enc(`key${String(i).padStart(8, "0")}`), i, ValueKind.Value, rng.bytes(50));
    // The pending block counts uncompressed until it is written, so the estimate may dip at a block cut.
    const estimate = w.estimatedSize;
    expect(estimate).toBeGreaterThan(start + 1_000_000);
    expect(w.lastKey()).toEqual(enc("key00019999"));
    expect(w.lastKeyView()).toEqual(enc("key00019999"));
    const meta = w.finish();
    expect(Math.abs(estimate - meta.fileSize) / meta.fileSize).toBeLessThan(0.05);
  });
});
