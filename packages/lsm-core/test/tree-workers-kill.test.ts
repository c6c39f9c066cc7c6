// Worker threads killed at random points of flushes and compactions (the thread dies as in a crash:
// no cleanup of its own). Each failed job must leave the tree exactly as it was, with no file behind,
// and later jobs must succeed on fresh threads; the tree reopens to the same data.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { StdFs } from "@talus/fs";
import { Random } from "@talus/testkit";
import { Leveled, LsmError, SequenceNumberCounter, Tree } from "../src/index.ts";
import { entriesAt, tableFileIds, versionTableIds } from "./tree-test-support.ts";
import { dyingCounter, dyingKeeper, KILL_FILE } from "./fixtures/thread-callbacks.ts";

const dirs: string[] = [];
afterAll(() => {
  rmSync(KILL_FILE, { force: true });
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const le64 = (n: number): Uint8Array => {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt(n), true);
  return out;
};

describe("worker threads killed at random", () => {
  for (const seed of [1, 2]) {
    it(`leave the tree as it was, every time (seed ${seed})`, async () => {
      const rng = new Random(seed);
      const dir = mkdtempSync(join(tmpdir(), "talus-kill-"));
      dirs.push(dir);
      const seqno = new SequenceNumberCounter();
      const options = { path: dir, seqno, workers: 2, mergeOperator: dyingCounter, compactionFilter: dyingKeeper, flushTableSize: 4096, blockSize: 256 } as const;
      let tree = await Tree.open(options);
      const strategy = new Leveled({ l0Threshold: 2, tableTargetSize: 4096, levelRatio: [2] });
      let killed = 0;
      let succeeded = 0;
      let nonce = 0;
      // Every table a version has listed: a dead worker's outputs never are, so none may stay on disk.
      const listed = new Set<number>(versionTableIds(tree));
      const expectNoStrayFile = (): void => {
        for (const id of versionTableIds(tree)) listed.add(id);
        expect(tableFileIds(new StdFs(), dir).filter((id) => !listed.has(id))).toEqual([]);
      };
      for (let step = 0; step < 24; step++) {
        for (let i = 0; i < 150; i++) {
          const k = `key${String(rng.int(400)).padStart(4, "0")}`;
          const roll = rng.int(10);
          if (roll < 5) tree.insert(k, `v${step}-${i}`.repeat(1 + rng.int(4)), seqno.next());
          else if (roll < 6) tree.remove(k, seqno.next());
          else tree.merge(`count${rng.int(20)}`, le64(1 + rng.int(5)), seqno.next());
        }
        // Armed about half the time, to die after a random number of callbacks (possibly never reached).
        if (rng.int(2) === 0) writeFileSync(KILL_FILE, `${1 + rng.int(300)}:${nonce++}`);
        else rmSync(KILL_FILE, { force: true });
        const before = entriesAt(tree);
        try {
          // A watermark at the newest seqno: flushes collapse operands, so the merge operator runs there too.
          await tree.flushActiveMemtable(seqno.get());
          expectNoStrayFile();
          while ((await tree.compact(strategy, seqno.get())).action !== "nothing") expectNoStrayFile();
          succeeded++;
        } catch (error) {
          expect(error).toBeInstanceOf(LsmError);
          expect((error as LsmError).code).toBe("WORKER_FAILED");
          killed++;
          // What reads see never changes with a failed job.
          expect(entriesAt(tree)).toEqual(before);
        }
        expectNoStrayFile();
        if (step % 8 === 7) {
          const seen = entriesAt(tree);
          // Disarmed first: a clean close flushes what a killed flush left in the memtables.
          rmSync(KILL_FILE, { force: true });
          await tree.close();
          tree = await Tree.open(options);
          // Reopened, the directory holds exactly the version's tables.
          expect(tableFileIds(new StdFs(), dir)).toEqual(versionTableIds(tree));
          await tree.flushActiveMemtable(seqno.get());
          expect(entriesAt(tree)).toEqual(seen);
        }
      }
      rmSync(KILL_FILE, { force: true });
      const final = entriesAt(tree);
      await tree.majorCompact(1 << 20, seqno.get());
      expect(entriesAt(tree)).toEqual(final);
      await tree.close();
      expect(killed).toBeGreaterThan(3);
      expect(succeeded).toBeGreaterThan(3);
    });
  }
});
