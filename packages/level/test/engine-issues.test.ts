// Engine behaviour found while building the adapter, since fixed in lsm-core (its own tests pin the fixes
// down: packages/lsm-core/test/tree-maintenance.test.ts). What stays here is the adapter's side: TalusLevel
// keeps writing through a database reopened with an L0 pile-up (see README, "Engine issues").
import { MemFs } from "@talus/fs";
import { SequenceNumberCounter, Tree } from "@talus/lsm-core";
import { describe, expect, it } from "vitest";
import { TalusLevel } from "../src/index.ts";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("engine issues (fixed in lsm-core; the adapter keeps working through them)", () => {
  it("TalusLevel keeps writing through both (it waits only while sealed memtables wait for a flush)", async () => {
    const fs = new MemFs();
    for (let session = 0; session < 14; session++) {
      const db = new TalusLevel("/db", { fs });
      await db.batch([
        { type: "put", key: "a", value: `v${session}` },
        { type: "put", key: "z", value: `v${session}` },
      ]);
      await db.close();
    }
    const db = new TalusLevel("/db", { fs, maintenance: { memtableBytes: 1024 } });
    const writes = (async () => {
      for (let i = 0; i < 200; i++) await db.put(`m${String(i).padStart(3, "0")}`, "v".repeat(100));
      return "written";
    })();
    expect(await Promise.race([writes, sleep(20_000).then(() => "hung")])).toBe("written");
    expect((await db.keys().all()).length).toBe(202);
    expect(await db.get("a")).toBe("v13");
    await db.close();
  });
});
