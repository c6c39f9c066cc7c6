// Power cuts at every sync point of the very first BlobTree.open of a fresh directory: it publishes v0
// (a blob tree's) through `current`, then makes tables/ and blobs/. The open never resolved, so the
// image holds no write of the user's: reopening must give an empty blob tree every time, and that tree
// must work like any other (large values into blob files, a clean close, a reopen with the data).
import { describe, expect, it } from "vitest";
import { CrashFs, PowerCutError, type CrashOptions } from "@talus/testkit";
import { SequenceNumberCounter, type Tree } from "@talus/lsm-core";
import type { KvSeparationOptions } from "../src/index.ts";
import { blobFileIds, entriesAt, expectCleanBlobTreeDir, openBlobTree, PATH } from "./blob-tree-support.ts";

const KV: KvSeparationOptions = { separationThreshold: 64 };

const CRASHES: readonly CrashOptions[] = [
  {},
  { keepUnsyncedEntries: 1 },
  { keepUnsyncedEntries: 1, keepUnsyncedWrites: 1, tearLastWrite: true },
  ...[1, 2, 3].map((seed) => ({ seed, keepUnsyncedEntries: 0.6, keepUnsyncedWrites: 0.5, tearLastWrite: true })),
];

const big = (i: number): string => `value-${i}-`.padEnd(200, "x");

describe("BlobTree: a power cut during the first open of a fresh directory", () => {
  it("reopens as an empty blob tree after a cut at every sync point, and then works", async () => {
    let cuts = 0;
    let orphanVersion = 0;
    for (const crash of CRASHES) {
      for (let n = 0; ; n++) {
        const fs = new CrashFs().cutPowerAtSync(n, crash);
        let failure: unknown;
        try {
          await (await openBlobTree(fs, new SequenceNumberCounter(), KV)).close();
        } catch (error) {
          failure = error;
        }
        if (!fs.powerWasCut) {
          expect(failure, `run ${n} completed`).toBeUndefined();
          break;
        }
        const context = `cut at sync ${n}, options ${JSON.stringify(crash)}`;
        expect(failure, context).toBeInstanceOf(PowerCutError);
        const image = fs.powerCutImage as CrashFs;
        cuts++;
        if (image.exists(`${PATH}/v0`) && !image.exists(`${PATH}/current`)) orphanVersion++;

        let tree: Tree;
        try {
          tree = await openBlobTree(image, new SequenceNumberCounter(), KV);
        } catch (error) {
          throw new Error(`${context}: reopening failed (${String(error)})`, { cause: error });
        }
        expect(entriesAt(tree), context).toEqual([]);
        expect(tree.currentVersion().treeKind, context).toBe("blob");
        expectCleanBlobTreeDir(image, tree, context);
        await tree.close();

        const seqno = new SequenceNumberCounter();
        tree = await openBlobTree(image, seqno, KV);
        for (let i = 0; i < 10; i++) tree.insert(`k${i}`, big(i), seqno.next());
        await tree.flushActiveMemtable(0);
        await tree.close();
        tree = await openBlobTree(image, new SequenceNumberCounter(), KV);
        expect(entriesAt(tree), `${context}: after writes, close and reopen`).toEqual(Array.from({ length: 10 }, (_, i) => `k${i}=${big(i)}`));
        expect(blobFileIds(image).length, `${context}: the values are in blob files`).toBeGreaterThan(0);
        expectCleanBlobTreeDir(image, tree, context);
        tree.verify();
        await tree.close();
      }
    }
    expect(cuts).toBeGreaterThanOrEqual(5 * CRASHES.length);
    expect(orphanVersion, "some cuts left v0 without current").toBeGreaterThan(0);
  });
});
