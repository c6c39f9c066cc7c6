import { readdirSync } from "node:fs";
import { join } from "node:path";
import { MemFs } from "@talus/fs";
import { CrashFs, Random, useTempDirs } from "@talus/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { TalusLevel } from "../src/index.ts";

const dirs = useTempDirs(afterEach);

/** A value of `length` bytes that names its key and round (so a wrong one shows). */
function valueOf(key: string, round: number, length: number): Buffer {
  const out = Buffer.alloc(length, (round * 31 + key.length) & 0xff);
  out.write(`${key}@${round}`, 0, "latin1");
  return out;
}

describe("TalusLevel on a BlobTree", () => {
  it("iterators over a blob tree: values from memtables, tables and blob files, at their snapshot", async () => {
    const fs = new MemFs();
    const random = new Random(3);
    const options = { fs, keyEncoding: "utf8", valueEncoding: "buffer", blob: { separationThreshold: 64 }, maintenance: { memtableBytes: 16 * 1024 } } as const;
    const db = new TalusLevel<string, Buffer>("/db", options);
    const model = new Map<string, Buffer>();
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 80; i++) {
        const key = `key:${String(random.int(200)).padStart(3, "0")}`;
        if (random.chance(0.15)) {
          await db.del(key);
          model.delete(key);
        } else {
          // Half small (in the tables), half separated into blob files once flushed.
          const value = valueOf(key, round, random.chance(0.5) ? random.range(0, 63) : random.range(64, 3000));
          await db.put(key, value);
          model.set(key, value);
        }
      }
    }
    const sorted = [...model.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const check = async (level: TalusLevel<string, Buffer>): Promise<void> => {
      expect(await level.iterator().all()).toEqual(sorted);
      expect(await level.iterator({ reverse: true }).all()).toEqual([...sorted].reverse());
      expect(await level.keys({ gte: "key:050", lt: "key:100" }).all()).toEqual(sorted.map(([k]) => k).filter((k) => k >= "key:050" && k < "key:100"));
      expect(await level.values({ gt: "key:150", limit: 5 }).all()).toEqual(sorted.filter(([k]) => k > "key:150").slice(0, 5).map(([, v]) => v));
      const it = level.iterator({ reverse: true });
      it.seek("key:120");
      const seeked = await it.nextv(3);
      await it.close();
      expect(seeked).toEqual(sorted.filter(([k]) => k <= "key:120").reverse().slice(0, 3));
    };
    await check(db);

    // An iterator reads as of its creation: overwrites and deletions made afterwards (and the flushes
    // and compactions they cause) do not reach it.
    const before = db.iterator();
    const first = await before.next();
    for (const [key] of sorted) await db.put(key, valueOf(key, 99, 2000));
    await db.clear({ lt: "key:100" });
    expect([first, ...(await before.all())]).toEqual(sorted);

    await db.close();
    expect(fs.readDir("/db/blobs").length).toBeGreaterThan(0);
    // Reopened without the blob option: the directory says it is a blob tree.
    const reopened = new TalusLevel<string, Buffer>("/db", { fs, valueEncoding: "buffer" });
    const now = sorted.filter(([k]) => k >= "key:100").map(([k]): [string, Buffer] => [k, valueOf(k, 99, 2000)]);
    expect(await reopened.iterator().all()).toEqual(now);
    await reopened.close();
    // Asked for a plain tree, it refuses (the engine's UNRECOVERABLE).
    const plain = new TalusLevel("/db", { fs, blob: false });
    await expect(plain.open()).rejects.toMatchObject({ code: "LEVEL_DATABASE_NOT_OPEN", cause: { code: "UNRECOVERABLE" } });
  });

  it("large values on disk: megabytes each, in blob files, durable with sync and after reopen", async () => {
    const path = dirs.make("level-blob");
    const random = new Random(5);
    const db = new TalusLevel<string, Uint8Array>(path, { valueEncoding: "view", blob: true, maintenance: { memtableBytes: 4 * 1024 * 1024 } });
    const values = new Map<string, Uint8Array>();
    for (let i = 0; i < 12; i++) {
      const key = `photo:${i}`;
      const value = random.bytes(random.range(256 * 1024, 3 * 1024 * 1024));
      values.set(key, value);
      await db.put(key, value, { sync: i % 4 === 3 });
    }
    // A batch of large values, and an overwrite.
    await db.batch([
      { type: "put", key: "photo:0", value: values.get("photo:11") as Uint8Array },
      { type: "put", key: "video:0", value: new Uint8Array(8 * 1024 * 1024).fill(7) },
    ]);
    values.set("photo:0", values.get("photo:11") as Uint8Array);
    values.set("video:0", new Uint8Array(8 * 1024 * 1024).fill(7));
    for (const [key, value] of values) expect(Buffer.compare(Buffer.from((await db.get(key)) as Uint8Array), Buffer.from(value)), key).toBe(0);
    await db.close();

    expect(readdirSync(join(path, "blobs")).length).toBeGreaterThan(0);
    const reopened = new TalusLevel<string, Uint8Array>(path, { valueEncoding: "view" });
    const keys = [...values.keys()].sort();
    expect(await reopened.keys().all()).toEqual(keys);
    const read = await reopened.getMany(keys);
    keys.forEach((key, i) => expect(Buffer.compare(Buffer.from(read[i] as Uint8Array), Buffer.from(values.get(key) as Uint8Array)), key).toBe(0));
    let total = 0;
    for await (const value of reopened.values({ gte: "photo:", lt: "photo;" })) total += value.length;
    expect(total).toBe(keys.filter((k) => k.startsWith("photo:")).reduce((n, k) => n + (values.get(k) as Uint8Array).length, 0));
    await reopened.close();
  });

  it("a blob tree's sync writes survive a power cut through the journal, large values included", async () => {
    const fs = new CrashFs();
    const db = new TalusLevel<string, Uint8Array>("/db", { fs, valueEncoding: "view", blob: { separationThreshold: 128 } });
    const big = new Random(9).bytes(2 * 1024 * 1024);
    await db.put("big", big, { sync: true });
    await db.batch(
      [
        { type: "put", key: "small", value: Uint8Array.of(1, 2, 3) },
        { type: "put", key: "mid", value: new Uint8Array(4096).fill(5) },
      ],
      { sync: true },
    );
    await db.put("unsynced", new Uint8Array(10));
    const reopened = new TalusLevel<string, Uint8Array>("/db", { fs: fs.crash(), valueEncoding: "view" });
    expect(await reopened.keys().all()).toEqual(["big", "mid", "small"]);
    expect(Buffer.compare(Buffer.from((await reopened.get("big")) as Uint8Array), Buffer.from(big))).toBe(0);
    expect(await reopened.get("mid")).toEqual(new Uint8Array(4096).fill(5));
    await reopened.close();
    await db.close();
  });
});
