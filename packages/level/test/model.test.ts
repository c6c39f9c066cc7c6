// TalusLevel against a model (a sorted map, copied for each snapshot): random puts, dels, batches,
// clears (ranges and limits), snapshots, iterators and reopens, on trees small enough that the automatic
// maintenance flushes and compacts all along, plain and blob.
import { join } from "node:path";
import { MemFs, StdFs, type Fs } from "@talus/fs";
import { Leveled } from "@talus/lsm-core";
import { Random, useTempDirs } from "@talus/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { TalusLevel } from "../src/index.ts";

const dirs = useTempDirs(afterEach);

type Model = Map<string, string>; // hex key -> value

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

function sortedEntries(model: Model): Array<[string, string]> {
  return [...model.entries()].sort(([a], [b]) => Buffer.compare(Buffer.from(a, "hex"), Buffer.from(b, "hex")));
}

interface Bounds {
  gt?: Buffer;
  gte?: Buffer;
  lt?: Buffer;
  lte?: Buffer;
}

function inBounds(key: Buffer, b: Bounds): boolean {
  if (b.gte !== undefined) {
    if (Buffer.compare(key, b.gte) < 0) return false;
  } else if (b.gt !== undefined && Buffer.compare(key, b.gt) <= 0) return false;
  if (b.lte !== undefined) {
    if (Buffer.compare(key, b.lte) > 0) return false;
  } else if (b.lt !== undefined && Buffer.compare(key, b.lt) >= 0) return false;
  return true;
}

/** What an iteration of `model` over `b` finds: its entries in bounds, in that order, the first `limit` (`-1`: all). */
function expectedRange(model: Model, b: Bounds, reverse: boolean, limit: number): Array<[string, string]> {
  let entries = sortedEntries(model).filter(([k]) => inBounds(Buffer.from(k, "hex"), b));
  if (reverse) entries.reverse();
  if (limit >= 0) entries = entries.slice(0, limit);
  return entries;
}

async function runModel(seed: number, blob: boolean, disk = false): Promise<void> {
  const random = new Random(seed);
  const fs: Fs = disk ? new StdFs() : new MemFs();
  const path = disk ? join(dirs.make("level-model"), "db") : "/db";
  const options = {
    fs,
    keyEncoding: "buffer",
    valueEncoding: "utf8",
    ...(blob ? { blob: { separationThreshold: 24 } } : {}),
    maintenance: { memtableBytes: 3000, strategy: new Leveled({ l0Threshold: 2, tableTargetSize: 4096 }) },
  } as const;
  let db = new TalusLevel<Buffer, string>(path, options);
  await db.open();
  const model: Model = new Map();
  const snapshots: Array<{ snapshot: ReturnType<typeof db.snapshot>; model: Model }> = [];
  const alphabet = [0x00, 0x01, 0x61, 0x62, 0xfe, 0xff];
  const key = (): Buffer => Buffer.from(Array.from({ length: random.range(0, 3) }, () => random.pick(alphabet)));
  const value = (): string => `v${random.int(1_000_000)}`.padEnd(random.chance(0.5) ? 40 : 4, "x");
  const bounds = (): Bounds => {
    const b: Bounds = {};
    if (random.chance(0.6)) b[random.chance(0.5) ? "gt" : "gte"] = key();
    if (random.chance(0.6)) b[random.chance(0.5) ? "lt" : "lte"] = key();
    return b;
  };
  const check = async (snapshotIndex: number | undefined): Promise<void> => {
    const held = snapshotIndex === undefined ? undefined : snapshots[snapshotIndex];
    const m = held?.model ?? model;
    const readOptions = held === undefined ? {} : { snapshot: held.snapshot };
    const b = bounds();
    const reverse = random.chance(0.5);
    const limit = random.chance(0.3) ? random.int(5) : -1;
    const want = expectedRange(m, b, reverse, limit);
    const got = await db.iterator({ ...b, reverse, limit, ...readOptions }).all();
    expect(got.map(([k, v]) => [hex(k), v]), `seed ${seed} range ${JSON.stringify(b)} reverse ${reverse} limit ${limit}`).toEqual(want);
    const probe = key();
    expect(await db.get(probe, readOptions), `seed ${seed} get ${hex(probe)}`).toBe(m.get(hex(probe)));
  };

  for (let step = 0; step < 600; step++) {
    const roll = random.float();
    if (roll < 0.35) {
      const k = key();
      const v = value();
      await db.put(k, v);
      model.set(hex(k), v);
    } else if (roll < 0.45) {
      const k = key();
      await db.del(k);
      model.delete(hex(k));
    } else if (roll < 0.6) {
      const ops = Array.from({ length: random.range(1, 6) }, () =>
        random.chance(0.7) ? { type: "put" as const, key: key(), value: value() } : { type: "del" as const, key: key() },
      );
      await db.batch(ops);
      for (const op of ops) {
        if (op.type === "put") model.set(hex(op.key), op.value);
        else model.delete(hex(op.key));
      }
    } else if (roll < 0.67) {
      const b = bounds();
      const reverse = random.chance(0.5);
      const limit = random.chance(0.4) ? random.int(4) : -1;
      const doomed = expectedRange(model, b, reverse, limit);
      await db.clear({ ...b, reverse, limit });
      for (const [k] of doomed) model.delete(k);
    } else if (roll < 0.72 && snapshots.length < 4) {
      snapshots.push({ snapshot: db.snapshot(), model: new Map(model) });
    } else if (roll < 0.75 && snapshots.length > 0) {
      const [gone] = snapshots.splice(random.int(snapshots.length), 1);
      await gone?.snapshot.close();
    } else if (roll < 0.77) {
      // Reopen: snapshots end with the database.
      await db.close();
      snapshots.length = 0;
      db = new TalusLevel<Buffer, string>(path, options);
      await db.open();
    } else {
      await check(snapshots.length > 0 && random.chance(0.5) ? random.int(snapshots.length) : undefined);
    }
  }
  for (let i = 0; i < snapshots.length; i++) await check(i);
  await check(undefined);
  await db.close();
}

describe("TalusLevel against a model", () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`plain tree, seed ${seed}`, async () => {
      await runModel(seed, false);
    });
    it(`blob tree, seed ${seed}`, async () => {
      await runModel(seed, true);
    });
  }
  // On disk: flushes and compactions on worker threads, real locks.
  it("plain tree on StdFs, seed 7", async () => {
    await runModel(7, false, true);
  });
});
