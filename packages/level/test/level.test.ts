import { MemFs, StdFs } from "@talus/fs";
import { Leveled } from "@talus/lsm-core";
import { Random, useTempDirs } from "@talus/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { TalusLevel } from "../src/index.ts";

const dirs = useTempDirs(afterEach);

function memDb<K = string, V = string>(options: ConstructorParameters<typeof TalusLevel<K, V>>[1] = {}): TalusLevel<K, V> {
  return new TalusLevel<K, V>("/db", { fs: new MemFs(), ...options });
}

/** abstract-level errors carry a code and, for open failures, a cause. */
function codeOf(error: unknown): { code?: string; cause?: { code?: string } } {
  return error as { code?: string; cause?: { code?: string } };
}

describe("batches", () => {
  it("collapse the operations on one key: the last one wins (put then del, del then put)", async () => {
    const db = memDb();
    await db.put("gone", "old");
    await db.batch([
      { type: "put", key: "gone", value: "1" },
      { type: "del", key: "gone" },
      { type: "del", key: "back" },
      { type: "put", key: "back", value: "2" },
      { type: "put", key: "twice", value: "3" },
      { type: "put", key: "twice", value: "4" },
      { type: "del", key: "flip" },
      { type: "put", key: "flip", value: "5" },
      { type: "del", key: "flip" },
    ]);
    expect(await db.iterator().all()).toEqual([
      ["back", "2"],
      ["twice", "4"],
    ]);
    await db.batch().put("x", "1").del("x").put("y", "1").del("y").put("y", "2").write();
    expect(await db.getMany(["x", "y"])).toEqual([undefined, "2"]);
    await db.close();
  });

  it("are atomic: an iterator or snapshot sees all of a batch or none", async () => {
    const db = memDb();
    await db.open();
    const before = db.snapshot();
    const iterator = db.keys();
    const write = db.batch(Array.from({ length: 50 }, (_, i) => ({ type: "put" as const, key: `k${i}`, value: "v" })));
    expect(await iterator.all()).toEqual([]);
    await write;
    expect(await db.keys({ snapshot: before }).all()).toEqual([]);
    expect((await db.keys().all()).length).toBe(50);
    await before.close();
    await db.close();
  });
});

describe("keys", () => {
  it("takes every byte string: the empty key and keys starting with 0x00 sort as in LevelDB", async () => {
    const random = new Random(7);
    const db = memDb<Uint8Array, Uint8Array>({ keyEncoding: "view", valueEncoding: "view" });
    const model = new Map<string, Uint8Array>();
    const pick = (): Uint8Array => {
      const length = random.range(0, 4);
      const bytes = new Uint8Array(length);
      for (let i = 0; i < length; i++) bytes[i] = random.pick([0x00, 0x01, 0x7f, 0xfe, 0xff]);
      return bytes;
    };
    for (let i = 0; i < 400; i++) {
      const key = pick();
      if (random.chance(0.2)) {
        await db.del(key);
        model.delete(Buffer.from(key).toString("hex"));
      } else {
        const value = Uint8Array.of(i & 0xff);
        await db.put(key, value);
        model.set(Buffer.from(key).toString("hex"), value);
      }
    }
    const expected = [...model.entries()]
      .map(([hex, value]): [Buffer, Uint8Array] => [Buffer.from(hex, "hex"), value])
      .sort((a, b) => Buffer.compare(a[0], b[0]));
    const toHex = (entries: Array<[Uint8Array, Uint8Array]>): string[][] =>
      entries.map(([k, v]) => [Buffer.from(k).toString("hex"), Buffer.from(v).toString("hex")]);
    expect(toHex(await db.iterator().all())).toEqual(toHex(expected));
    expect(toHex(await db.iterator({ reverse: true }).all())).toEqual(toHex(expected).reverse());
    // Ranges with bounds of every shape, including the empty key and 0x00 / 0xff edges.
    for (let i = 0; i < 100; i++) {
      const lo = pick();
      const hi = pick();
      const options = { [random.chance(0.5) ? "gt" : "gte"]: lo, [random.chance(0.5) ? "lt" : "lte"]: hi, reverse: random.chance(0.5) };
      const inRange = expected.filter(([k]) => {
        const a = Buffer.compare(k, lo);
        const b = Buffer.compare(k, hi);
        return ("gt" in options ? a > 0 : a >= 0) && ("lt" in options ? b < 0 : b <= 0);
      });
      const want = toHex(options.reverse ? [...inRange].reverse() : inRange);
      expect(toHex(await db.iterator(options).all()), JSON.stringify(options)).toEqual(want);
    }
    await db.close();
  });

  it("clear() with range tombstones deletes exactly the range, to the end of the key space too (0xff keys)", async () => {
    const random = new Random(11);
    const keys = ["", "00", "0000", "01", "7f", "fe", "feff", "ff", "ff00", "ffff", "ffff00", "ffffff", "fffffe", "ff7f"].map((hex) => Buffer.from(hex, "hex"));
    const bounds = ["", "00", "01", "fe", "ff", "ff00", "ffff", "ffffff", "ff7f", "fffe"].map((hex) => Buffer.from(hex, "hex"));
    for (let round = 0; round < 150; round++) {
      const db = memDb<Buffer, string>({ keyEncoding: "buffer" });
      await db.batch(keys.map((key) => ({ type: "put" as const, key, value: "v" })));
      const options: Record<string, Buffer> = {};
      if (random.chance(0.7)) options[random.chance(0.5) ? "gt" : "gte"] = random.pick(bounds);
      if (random.chance(0.5)) options[random.chance(0.5) ? "lt" : "lte"] = random.pick(bounds);
      const inRange = (k: Buffer): boolean =>
        (options["gt"] === undefined || Buffer.compare(k, options["gt"]) > 0) &&
        (options["gte"] === undefined || Buffer.compare(k, options["gte"]) >= 0) &&
        (options["lt"] === undefined || Buffer.compare(k, options["lt"]) < 0) &&
        (options["lte"] === undefined || Buffer.compare(k, options["lte"]) <= 0);
      await db.clear(options);
      const left = (await db.keys().all()).map((k) => k.toString("hex"));
      const want = [...keys].sort(Buffer.compare).filter((k) => !inRange(k)).map((k) => k.toString("hex"));
      expect(left, JSON.stringify(Object.fromEntries(Object.entries(options).map(([n, b]) => [n, b.toString("hex")])))).toEqual(want);
      await db.close();
    }
  });

  it("clear() with a limit deletes the first (or, reversed, the last) keys of the range", async () => {
    const db = memDb();
    await db.batch(Array.from({ length: 10 }, (_, i) => ({ type: "put" as const, key: `k${i}`, value: "v" })));
    await db.clear({ gte: "k2", limit: 3 });
    await db.clear({ lt: "k9", reverse: true, limit: 2 });
    expect(await db.keys().all()).toEqual(["k0", "k1", "k5", "k6", "k9"]);
    await db.close();
  });

  it("refuses a key too long for a tree with LEVEL_INVALID_KEY", async () => {
    const db = memDb<Uint8Array, string>({ keyEncoding: "view" });
    await db.put(new Uint8Array(65_535).fill(1), "longest");
    expect(await db.get(new Uint8Array(65_535).fill(1))).toBe("longest");
    await expect(db.put(new Uint8Array(65_536).fill(1), "x")).rejects.toMatchObject({ code: "LEVEL_INVALID_KEY" });
    await expect(db.put(new Uint8Array(65_535), "x")).rejects.toMatchObject({ code: "LEVEL_INVALID_KEY" }); // 0x00 first: escaped
    // Range bounds may be longer: they are clamped.
    expect(await db.keys({ gte: new Uint8Array(70_000).fill(1) }).all()).toEqual([]);
    expect((await db.keys({ lte: new Uint8Array(70_000).fill(1) }).all()).length).toBe(1);
    await db.close();
  });
});

describe("opening", () => {
  it("a directory open in another TalusLevel fails with LEVEL_DATABASE_NOT_OPEN, cause LEVEL_LOCKED", async () => {
    const path = dirs.make("level-lock");
    const first = new TalusLevel(path);
    await first.open();
    const second = new TalusLevel(path);
    const error = await second.open().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(codeOf(error).code).toBe("LEVEL_DATABASE_NOT_OPEN");
    expect(codeOf(error).cause?.code).toBe("LEVEL_LOCKED");
    expect(second.status).toBe("closed");
    await first.close();
    await second.open(); // free now
    await second.close();
  });

  it("createIfMissing and errorIfExists", async () => {
    const fs = new MemFs();
    const missing = new TalusLevel("/nothing", { fs, createIfMissing: false });
    await expect(missing.open()).rejects.toMatchObject({ code: "LEVEL_DATABASE_NOT_OPEN", cause: { message: expect.stringMatching(/does not exist/) } });
    expect(fs.exists("/nothing")).toBe(false);
    const db = new TalusLevel("/db", { fs });
    await db.put("k", "v");
    await db.close();
    await expect(db.open({ errorIfExists: true })).rejects.toMatchObject({ cause: { message: expect.stringMatching(/exists/) } });
    await db.open({ createIfMissing: false });
    expect(await db.get("k")).toBe("v");
    await db.close();
  });

  it("reopens with everything, and the seqnos go on from the disk (no write is shadowed)", async () => {
    const path = dirs.make("level-reopen");
    const db = new TalusLevel<string, { i: number }>(path, { valueEncoding: "json" });
    for (let i = 0; i < 20; i++) await db.put(`k${i}`, { i });
    await db.close();
    await db.open();
    await db.put("k3", { i: 33 });
    expect(await db.get("k3")).toEqual({ i: 33 });
    await db.close();
    const again = new TalusLevel<string, { i: number }>(path, { fs: new StdFs(), valueEncoding: "json" });
    expect(await again.get("k3")).toEqual({ i: 33 });
    expect((await again.keys().all()).length).toBe(20);
    await again.close();
  });

  it("refuses maintenance: false and journal: false (the adapter needs the automatic tree)", async () => {
    const db = new TalusLevel("/db", { fs: new MemFs(), maintenance: false as never });
    await expect(db.open()).rejects.toMatchObject({ code: "LEVEL_DATABASE_NOT_OPEN", cause: expect.any(TypeError) });
  });
});

describe("automatic maintenance under the adapter", () => {
  it("un-awaited writes land in call order through write stalls, and snapshots keep their view through compactions", async () => {
    const db = memDb<string, number>({
      valueEncoding: "json",
      maintenance: { memtableBytes: 2048, l0SlowdownRuns: 2, l0StopRuns: 2, strategy: new Leveled({ l0Threshold: 2 }) },
    });
    await db.open();
    await db.batch(Array.from({ length: 30 }, (_, i) => ({ type: "put" as const, key: `k${String(i).padStart(2, "0")}`, value: -1 })));
    const snapshot = db.snapshot();
    const writes: Promise<void>[] = [];
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 30; i++) writes.push(db.put(`k${String(i).padStart(2, "0")}`, round));
    }
    await Promise.all(writes);
    expect(new Set(await db.values().all())).toEqual(new Set([39]));
    expect(new Set(await db.values({ snapshot }).all())).toEqual(new Set([-1]));
    await snapshot.close();
    await db.close();
  });
});

describe("iterators", () => {
  it("seek within and outside the range, forwards and in reverse, with a limit across seeks", async () => {
    const db = memDb();
    await db.batch(["a", "b", "c", "d", "e", "f"].map((key) => ({ type: "put" as const, key, value: key.toUpperCase() })));
    const it = db.keys({ gte: "b", lt: "f", limit: 4 });
    it.seek("d");
    expect(await it.next()).toBe("d");
    it.seek("a"); // before the range: from its start
    expect(await it.nextv(10)).toEqual(["b", "c", "d"]); // the limit (4) counts across seeks
    await it.close();
    const reverse = db.iterator({ reverse: true });
    reverse.seek("c");
    expect(await reverse.all()).toEqual([
      ["c", "C"],
      ["b", "B"],
      ["a", "A"],
    ]);
    await db.close();
  });

  it("an iterator reads as of its creation, whatever is written or cleared after", async () => {
    const db = memDb();
    await db.batch(["a", "b", "c"].map((key) => ({ type: "put" as const, key, value: "1" })));
    const it = db.iterator();
    await db.clear();
    await db.put("d", "2");
    expect(await it.all()).toEqual([
      ["a", "1"],
      ["b", "1"],
      ["c", "1"],
    ]);
    expect(await db.iterator().all()).toEqual([["d", "2"]]);
    await db.close();
  });
});
