import { CrashFs } from "@talus/testkit";
import { describe, expect, it } from "vitest";
import { TalusLevel } from "../src/index.ts";

/** Opens the database a machine would boot after losing power now, and reads `keys` from it. */
async function afterPowerCut(fs: CrashFs, keys: string[]): Promise<Array<string | undefined>> {
  const image = fs.crash();
  const db = new TalusLevel("/db", { fs: image });
  try {
    return await db.getMany(keys);
  } finally {
    await db.close();
  }
}

describe("durability (CrashFs power cuts)", () => {
  it("a put with sync: true survives a power cut; one without is only as durable as the next persist", async () => {
    const fs = new CrashFs();
    const db = new TalusLevel("/db", { fs });
    await db.put("durable", "1", { sync: true });
    await db.put("volatile", "2");
    expect(await afterPowerCut(fs, ["durable", "volatile"])).toEqual(["1", undefined]);

    // A later sync write (or persist()) makes every earlier write durable too: one group commit.
    await db.del("durable", { sync: true });
    expect(await afterPowerCut(fs, ["durable", "volatile"])).toEqual([undefined, "2"]);

    await db.put("late", "3");
    await db.persist();
    expect(await afterPowerCut(fs, ["late"])).toEqual(["3"]);
    await db.close();
  });

  it("writes without sync: a process that dies loses those still in the journal's buffer (difference from LevelDB)", async () => {
    const fs = new CrashFs();
    const db = new TalusLevel("/db", { fs });
    const keys = Array.from({ length: 200 }, (_, i) => `k${String(i).padStart(3, "0")}`);
    for (const key of keys) await db.put(key, "v".repeat(1000));
    // The process dying keeps everything the OS was handed (all unsynced writes and entries), not what
    // the journal still buffers: the buffer goes to the file when it passes 64 KiB.
    const processDeath = { keepUnsyncedWrites: 1, keepUnsyncedEntries: 1 };
    const survived = async (image: CrashFs): Promise<number> => {
      const reopened = new TalusLevel("/db", { fs: image });
      const n = (await reopened.keys().all()).length;
      await reopened.close();
      return n;
    };
    const before = await survived(fs.crash(processDeath));
    expect(before).toBeGreaterThan(100); // the written-out part
    expect(before).toBeLessThan(keys.length); // the buffered tail is gone
    await db.persist();
    expect(await survived(fs.crash(processDeath))).toBe(keys.length);
    await db.close();
  });

  it("batch and chained batch with sync: true survive whole", async () => {
    const fs = new CrashFs();
    const db = new TalusLevel<string, { n: number }>("/db", { fs, valueEncoding: "json" });
    await db.batch(
      [
        { type: "put", key: "a", value: { n: 1 } },
        { type: "put", key: "b", value: { n: 2 } },
      ],
      { sync: true },
    );
    await db.batch().put("c", { n: 3 }).del("a").write({ sync: true });
    const image = new TalusLevel<string, { n: number }>("/db", { fs: fs.crash(), valueEncoding: "json" });
    expect(await image.iterator().all()).toEqual([
      ["b", { n: 2 }],
      ["c", { n: 3 }],
    ]);
    await image.close();
    await db.close();
  });

  it("a clean close loses nothing, without any sync", async () => {
    const fs = new CrashFs();
    const db = new TalusLevel("/db", { fs });
    for (let i = 0; i < 100; i++) await db.put(`k${String(i).padStart(3, "0")}`, `v${i}`);
    await db.clear({ gte: "k050", lt: "k060" });
    await db.close();
    const image = new TalusLevel("/db", { fs: fs.crash() });
    const keys = await image.keys().all();
    expect(keys.length).toBe(90);
    expect(keys).not.toContain("k055");
    await image.close();
  });

  it("every acknowledged sync write survives a power cut at any sync point", async () => {
    const keys = Array.from({ length: 6 }, (_, i) => `key${i}`);
    let cuts = 0;
    for (let n = 0; ; n++) {
      const fs = new CrashFs();
      // Created first: a power cut during the very first open is the next test's subject.
      const creator = new TalusLevel("/db", { fs });
      await creator.open();
      await creator.close();
      fs.cutPowerAtSync(n);
      const acked: string[] = [];
      const db = new TalusLevel("/db", { fs });
      try {
        await db.open();
        for (const [i, key] of keys.entries()) {
          if (i % 2 === 0) await db.put(key, `v${i}`, { sync: true });
          else await db.batch([{ type: "put", key, value: `v${i}` }], { sync: true });
          acked.push(key);
        }
        await db.close();
      } catch {
        // The power went out under the database; what it acknowledged must be there.
      }
      if (!fs.powerWasCut) break;
      cuts++;
      const image = fs.powerCutImage as CrashFs;
      const reopened = new TalusLevel("/db", { fs: image });
      const values = await reopened.getMany(keys);
      await reopened.close();
      for (const key of acked) expect(values[keys.indexOf(key)], `${key} after a cut at sync ${n}`).toBe(`v${keys.indexOf(key)}`);
    }
    expect(cuts).toBeGreaterThan(keys.length);
  });

  // Tree.open creates a new tree by writing its first version file `v0` and then `current`. A power cut
  // between the two leaves `v0` without `current`; the engine (@talus/lsm-core) recognises that as an
  // interrupted creation, which holds no data, and creates the tree again, as LevelDB starts a fresh
  // database over a directory without CURRENT.
  it("a power cut during the very first open leaves a database that opens again", async () => {
    for (let n = 0; ; n++) {
      const fs = new CrashFs().cutPowerAtSync(n);
      try {
        await new TalusLevel("/db", { fs }).open();
      } catch {
        // power cut
      }
      if (!fs.powerWasCut) break;
      const reopened = new TalusLevel("/db", { fs: fs.powerCutImage as CrashFs });
      await reopened.open();
      await reopened.close();
    }
  });
});
