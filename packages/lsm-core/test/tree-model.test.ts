// The tree model test (DESIGN.md section 6): seeded random operation sequences applied to a Tree and to
// the testkit MVCC oracle, compared after every step at many snapshots, across configurations. A
// failing sequence is shrunk (operations dropped while it still fails) and printed in a replayable form
// for test/model-regressions.ts. Range tombstones (removeRange, removePrefix) and write batches are
// checked at the seqno just below, at and just above each one. Merge operands: every configuration but
// one runs with `mergeOperator: counterMerge`, merging small le64 increments into a set of counter keys
// (COUNTER_KEYS) that only ever hold 8-byte values; the oracle folds them the same way. The "raw-merge"
// configuration has no operator: operands read as their own bytes.
//
// Bulk ingestion (`ingest`, every configuration): sorted entries through `tree.ingestion()`, visible at
// the one seqno G finish() takes (checked just below, at and just above G); sometimes with writes made
// while the ingestion is open, a key given twice (refused), or aborted. Compaction filters (the "filter-"
// configurations, tree-model-filter.ts): the tree runs with a filter that removes, destroys or replaces
// "doomed" values the generator writes; what the filter is asked is checked against the oracle, and the
// oracle then applies the same verdicts from the seqno the compaction installed at (MvccOracle.filterAt),
// so reads at every seqno stay exact: older snapshots see the data from before the compaction.
// Configurations, keys, values and queries are in tree-model-support.ts; the model itself (applying
// operations, checking reads, generating, shrinking) is tree-model-driver.ts, which the blob tree model
// test (packages/vlog/test/blob-tree-model.test.ts) runs too.
//
// Environment: TALUS_MODEL_SEEDS (seeds per configuration), TALUS_MODEL_STEPS (operations per seed),
// TALUS_MODEL_SEED (first seed; seeds are consecutive from it), TALUS_MODEL_CONFIG (only configurations
// whose name contains it), TALUS_MODEL_STATS=1 (print what each run exercised).
import { describe, expect, it } from "vitest";
import { MemFs } from "@talus/fs";
import { SequenceNumberCounter, Tree } from "../src/index.ts";
import { MODEL_REGRESSIONS } from "./model-regressions.ts";
import { EVERY_OPERATION, LONG, replayRegression, runConfig, skipped, unavailableReason } from "./tree-model-driver.ts";
import { CONFIG_BY_NAME, CONFIGS, latin1 } from "./tree-model-support.ts";

describe("Tree model test: random operations against the MVCC oracle", () => {
  for (const config of CONFIGS) {
    if (config.watermark) continue;
    const unavailable = unavailableReason(config);
    const note = unavailable === undefined ? "" : ` (skipped: ${unavailable})`;
    it.skipIf(skipped(config))(`${config.name}: every read at every snapshot matches, GC watermark 0${note}`, { timeout: LONG }, async () => {
      await runConfig(config);
    });
  }
});

describe("Tree model test with a rising GC watermark W: reads at S >= W stay exact", () => {
  for (const config of CONFIGS) {
    if (!config.watermark) continue;
    const unavailable = unavailableReason(config);
    const note = unavailable === undefined ? "" : ` (skipped: ${unavailable})`;
    it.skipIf(skipped(config))(`${config.name}: reads at S >= W match${note}`, { timeout: LONG }, async () => {
      await runConfig(config);
    });
  }
});

describe("Tree model test: kept regression sequences", () => {
  it("has a known configuration for every case", () => {
    for (const case_ of MODEL_REGRESSIONS) expect(CONFIG_BY_NAME.has(case_.config), case_.name).toBe(true);
  });

  for (const case_ of MODEL_REGRESSIONS) {
    it(`replays "${case_.name}" with exhaustive checks`, { timeout: LONG }, async () => {
      await replayRegression(case_, CONFIG_BY_NAME);
    });
  }

  // Found by the model test (every configuration, first prefix query): `prefixSuccessor` copied with
  // `prefix.slice(0, i + 1)`, which for a Buffer is a view, so incrementing its last byte rewrote the
  // caller's prefix, which was also the `gte` bound: the scan became [succ, succ), empty.
  it("prefix() with a Buffer prefix finds the keys and leaves the caller's prefix alone", async () => {
    const seqno = new SequenceNumberCounter();
    const tree = await Tree.open({ path: "/db", fs: new MemFs(), seqno });
    tree.insert("ab", "1", seqno.next());
    tree.insert("b", "2", seqno.next());
    const prefix = Buffer.from("a");
    const found = [...tree.prefix(prefix, seqno.get())].map(([k, v]) => `${latin1(k)}=${latin1(v)}`);
    expect(latin1(prefix)).toBe("a");
    expect(found).toEqual(["ab=1"]);
    await tree.close();
  });

  it("replays a hand-written sequence through every operation kind", { timeout: LONG }, async () => {
    // Every configuration this machine can run (an IoUringFs one needs io_uring).
    for (const config of CONFIGS) {
      if (unavailableReason(config) === undefined) await replayRegression({ name: "every operation", config: config.name, ops: EVERY_OPERATION }, CONFIG_BY_NAME);
    }
  });
});
