// I/O errors injected at every call of a blob tree's jobs that write blob files (FaultFs over MemFs):
// each I/O call of a flush of large values and of a relocating major compaction fails once (EIO,
// ENOSPC, torn writes). The job must reject with that error (or succeed, when the failed call was
// cleanup after its result was durable), the tree must go on answering every read as before, leave no
// partial blob file or table behind, succeed when the job is retried, and after a reopen hold
// everything flushed with no orphan file in blobs/ or tables/.
import { describe, expect, it } from "vitest";
import { MemFs } from "@talus/fs";
import { FaultFs, isInjected, type FaultError, type FsOpKind } from "@talus/testkit";
import { SequenceNumberCounter, type Tree } from "@talus/lsm-core";
import type { KvSeparationOptions } from "../src/index.ts";
import {
  BlobReadCountingFs,
  blobFileIds,
  codeOf,
  entriesAt,
  expectCleanBlobTreeDir,
  expectReadsAgree,
  openBlobTree,
  rejectionOf,
  ScriptedBlobTree,
  staleBlobFileIds,
  tableFileIds,
  versionBlobIds,
  versionTableIds,
  viewAt,
} from "./blob-tree-support.ts";

const KV: KvSeparationOptions = { separationThreshold: 64, fileTargetSize: 1500 };
const EXTRA = { blockSize: 256, flushTableSize: 1500 } as const;
const TARGET = 1500;
const STALENESS = 0.25;

const keyRange = (prefix: string, from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => `${prefix}${String(from + i).padStart(3, "0")}`);
const value = (phase: string, key: string, small = false): string => (small ? `${phase}:${key}` : `${phase}:${key}:`.padEnd(90 + (key.charCodeAt(key.length - 1) % 5) * 13, phase.toLowerCase()));

/** A blob tree on a FaultFs, and what it should read. */
class Scenario extends ScriptedBlobTree {
  declare readonly fs: FaultFs;

  constructor() {
    super(new FaultFs(new MemFs()), { kv: KV, extra: EXTRA, value, missingKeys: ["absent"] });
  }
}

interface Job {
  readonly name: string;
  setup(): Promise<Scenario>;
  run(s: Scenario): Promise<unknown>;
  /** After a successful run, the tree shows the job is done. */
  done(s: Scenario): void;
}

const JOBS: readonly Job[] = [
  {
    name: "flush of large values",
    async setup() {
      const s = new Scenario();
      await s.open();
      s.put("A", keyRange("k", 0, 30), (key) => key.endsWith("3"));
      s.endPhase();
      await s.tree.flushActiveMemtable(0);
      s.put("B", keyRange("k", 10, 40), (key) => key.endsWith("5"));
      s.del(["k002"]);
      s.endPhase();
      await s.tree.flushActiveMemtable(0);
      // Unflushed: what the failing flush must keep serving from memory.
      s.put("C", keyRange("k", 20, 30));
      s.del(["k011"]);
      s.put("C", keyRange("m", 0, 20), (key) => key.endsWith("4"));
      s.endPhase();
      return s;
    },
    run: (s) => s.tree.flushActiveMemtable(0),
    done: (s) => {
      expect(s.tree.sealedMemtableCount()).toBe(0);
      expect(s.tree.blobFileCount()).toBeGreaterThanOrEqual(6);
    },
  },
  {
    name: "majorCompact relocating stale blob files",
    async setup() {
      const s = new Scenario();
      // Staleness 1 while the garbage is made (nothing relocated), then reopened with the default.
      await s.open({ ...KV, stalenessThreshold: 1 });
      s.put("A", keyRange("k", 0, 48));
      s.endPhase();
      await s.tree.flushActiveMemtable(0);
      s.put("B", keyRange("k", 0, 48).filter((_, i) => i % 4 !== 0), () => true);
      s.endPhase();
      await s.tree.flushActiveMemtable(0);
      await s.tree.majorCompact(TARGET, s.seqno.get());
      await s.tree.close();
      await s.open();
      expect(staleBlobFileIds(s.tree, STALENESS).length).toBeGreaterThanOrEqual(2);
      s.put("C", ["k100", "k101"]);
      s.endPhase();
      await s.tree.flushActiveMemtable(0);
      // Unflushed writes too.
      s.put("D", ["k004", "k200"]);
      s.endPhase();
      return s;
    },
    // Watermark 0: the job changes no answer whether it installs or not; the stale files go anyway.
    run: (s) => s.tree.majorCompact(TARGET, 0),
    done: (s) => {
      expect(staleBlobFileIds(s.tree, STALENESS)).toEqual([]);
      expect(s.tree.levelTableCount(0)).toBe(0);
    },
  },
];

/** What a clean run of `job` does, by operation kind. */
async function callsOf(job: Job): Promise<Array<[FsOpKind, number]>> {
  const s = await job.setup();
  // As failOnce does before its job: the same reads leave the same blocks and blob files open.
  viewAt(s.tree, s.boundaries);
  s.fs.resetHistory();
  await job.run(s);
  job.done(s);
  const calls = Object.entries(s.fs.calls).filter(([, n]) => n > 0) as Array<[FsOpKind, number]>;
  await s.tree.close();
  return calls;
}

function faultsFor(kind: FsOpKind): FaultError[] {
  if (kind === "read" || kind === "len" || kind === "readDir" || kind === "exists" || kind === "metadata" || kind === "close") return ["EIO"];
  return kind === "write" ? ["EIO", { torn: true, code: "ENOSPC", keepBytes: 1 }] : ["EIO", "ENOSPC"];
}

function describeFault(error: FaultError): string {
  return typeof error === "string" ? error : `torn ${error.code ?? "EIO"}${error.keepBytes === undefined ? "" : ` keep ${error.keepBytes}`}`;
}

type Settled = { ok: true } | { ok: false; error: unknown };

async function settle(promise: Promise<unknown>): Promise<Settled> {
  try {
    await promise;
    return { ok: true };
  } catch (error) {
    return { ok: false, error };
  }
}

/** The id and kind of a table or blob file path, or undefined for another file. */
function fileOf(path: string): { dir: "tables" | "blobs"; id: number } | undefined {
  const match = /\/(tables|blobs)\/(0|[1-9][0-9]*)$/.exec(path);
  return match === null ? undefined : { dir: match[1] as "tables" | "blobs", id: Number(match[2]) };
}

async function failOnce(job: Job, kind: FsOpKind, after: number, error: FaultError): Promise<void> {
  const context = `${job.name}: ${describeFault(error)} on ${kind} #${after}`;
  const code = typeof error === "string" ? error : (error.code ?? "EIO");
  const s = await job.setup();
  const viewBefore = viewAt(s.tree, s.boundaries);
  const tablesBefore = versionTableIds(s.tree);
  const blobsBefore = versionBlobIds(s.tree);
  s.fs.addRule({ ops: kind, after, error });

  const outcome = await settle(job.run(s));
  expect(s.fs.injected.length, `${context}: the fault fired`).toBe(1);
  s.fs.clearRules();
  const fault = s.fs.injected[0];
  const faultFile = fileOf(fault?.path ?? "");
  const installed = JSON.stringify(versionTableIds(s.tree)) !== JSON.stringify(tablesBefore) || JSON.stringify(versionBlobIds(s.tree)) !== JSON.stringify(blobsBefore);
  // Cleanup after the result is durable: unlinking (or closing) a replaced input table, a relocated
  // blob file, or the superseded version file. The job may report it or not; only that file may stay.
  const replaced =
    faultFile !== undefined && (faultFile.dir === "tables" ? tablesBefore.includes(faultFile.id) && !versionTableIds(s.tree).includes(faultFile.id) : blobsBefore.includes(faultFile.id) && !versionBlobIds(s.tree).includes(faultFile.id));
  const cleanup = installed && (kind === "removeFile" || kind === "close") && (replaced || /\/v\d+$/.test(fault?.path ?? ""));
  if (!cleanup || !outcome.ok) {
    expect(outcome.ok, `${context}: the job rejects`).toBe(false);
    const failure = outcome.ok ? undefined : outcome.error;
    expect(isInjected(failure), `${context}: rejects with the injected error, got ${String(failure)}`).toBe(true);
    expect(codeOf(failure), context).toBe(code);
  }
  // Only the directory sync after `current` was renamed failed: installed, but the old version may be
  // what a crash brings back, so its files may stay until the next open.
  const unsureDurable = installed && kind === "syncDirectory";
  const mayRemain = (dir: "tables" | "blobs"): number[] => {
    if (cleanup && replaced && faultFile?.dir === dir) return [faultFile.id];
    if (unsureDurable) return dir === "tables" ? tablesBefore : blobsBefore;
    return [];
  };
  const expectNoOrphans = (stage: string): void => {
    const live = { tables: versionTableIds(s.tree), blobs: versionBlobIds(s.tree) };
    const onDisk = { tables: tableFileIds(s.fs), blobs: blobFileIds(s.fs) };
    for (const dir of ["tables", "blobs"] as const) {
      const extra = onDisk[dir].filter((id) => !live[dir].includes(id));
      expect(extra.filter((id) => !mayRemain(dir).includes(id)), `${context}: ${stage}: orphans in ${dir}/`).toEqual([]);
      expect(live[dir].filter((id) => !onDisk[dir].includes(id)), `${context}: ${stage}: listed files missing from ${dir}/`).toEqual([]);
    }
  };

  // Nothing read changed (watermark 0): unflushed data still served from memory, snapshots answer as before.
  expect(viewAt(s.tree, s.boundaries), `${context}: reads after the failure`).toEqual(viewBefore);
  expectReadsAgree(s.tree, [...s.keys], undefined, context);
  // No partial output: a failed job removes every blob file and table it started.
  expectNoOrphans("after the failure");
  s.tree.verify();

  // The tree takes writes, and the job succeeds when retried.
  s.put("R", ["k001", "z000"]);
  s.del(["k003"]);
  s.endPhase();
  await job.run(s);
  job.done(s);
  await s.tree.flushActiveMemtable(0);
  expect(entriesAt(s.tree), `${context}: after the retry`).toEqual(s.modelLines());
  const viewAfter = viewAt(s.tree, s.boundaries);
  expectNoOrphans("after the retry");
  s.tree.verify();
  await s.tree.close();

  // A reopen finds everything flushed, and nothing else in the directory.
  const tree = await openBlobTree(s.fs.inner, new SequenceNumberCounter(), KV, EXTRA);
  expect(viewAt(tree, s.boundaries), `${context}: after reopen`).toEqual(viewAfter);
  expectCleanBlobTreeDir(s.fs.inner, tree, `${context}, after reopen`);
  tree.verify();
  await tree.close();
}

describe("BlobTree: an I/O error at each call of a job that writes blob files", () => {
  for (const job of JOBS) {
    it(`${job.name}: every failing call rejects the job (or is harmless cleanup), loses nothing, and a retry succeeds`, async () => {
      const calls = await callsOf(job);
      const kinds = calls.map(([kind]) => kind);
      expect(kinds).toEqual(expect.arrayContaining(["open", "write", "sync", "close", "syncDirectory", "rename"]));
      if (job.name.startsWith("majorCompact")) expect(kinds).toEqual(expect.arrayContaining(["read", "removeFile"]));
      let cases = 0;
      const problems: string[] = [];
      for (const [kind, count] of calls) {
        for (let after = 0; after < count; after++) {
          for (const error of faultsFor(kind)) {
            await failOnce(job, kind, after, error).catch((e: unknown) => problems.push((e instanceof Error ? e.message : String(e)).split("\n")[0] as string));
            cases++;
          }
        }
      }
      expect(problems).toEqual([]);
      expect(cases).toBeGreaterThan(40);
    });
  }

  it("opening a blob tree: an error at each call is reported as it is (not as corruption), and a later open finds everything", async () => {
    const job = JOBS[1] as Job;
    const s = await job.setup();
    await s.tree.flushActiveMemtable(0);
    const expected = entriesAt(s.tree);
    const versionBlobCount = s.tree.blobFileCount();
    await s.tree.close();
    const inner = s.fs.inner;
    // The first open tidies what the session left; count the calls of a steady open.
    await (await openBlobTree(inner, new SequenceNumberCounter(), KV, EXTRA)).close();
    const counter = new FaultFs(inner);
    const counted = await openBlobTree(counter, new SequenceNumberCounter(), KV, EXTRA);
    // The calls of the open alone (not of the close after it).
    const calls = Object.entries({ ...counter.calls }).filter(([, n]) => n > 0) as Array<[FsOpKind, number]>;
    await counted.close();
    expect(calls.map(([kind]) => kind)).toEqual(expect.arrayContaining(["open", "read", "readDir"]));
    const reads = new BlobReadCountingFs(inner);
    await (await openBlobTree(reads, new SequenceNumberCounter(), KV, EXTRA)).close();
    // Recovery reads each listed blob file's footer and header: those reads are in the sweep too.
    expect(new Set(reads.paths).size, "blob files read at open").toBe(versionBlobCount);
    let cases = 0;
    const problems: string[] = [];
    for (const [kind, count] of calls) {
      for (let after = 0; after < count; after++) {
        const context = `open: EIO on ${kind} #${after}`;
        try {
          const fs = new FaultFs(inner, [{ ops: kind, after, error: "EIO" }]);
          let failure: unknown;
          try {
            const opened = await openBlobTree(fs, new SequenceNumberCounter(), KV, EXTRA);
            // Only releasing a handle it had finished with may fail quietly; the tree is whole then.
            expect(kind, `${context}: the open succeeded`).toBe("close");
            expect(entriesAt(opened), context).toEqual(expected);
            await opened.close();
          } catch (error) {
            failure = error;
          }
          if (failure !== undefined) {
            expect(isInjected(failure), `${context}: ${String(failure)}`).toBe(true);
            expect(codeOf(failure), context).toBe("EIO");
          }
          const tree = await openBlobTree(inner, new SequenceNumberCounter(), KV, EXTRA);
          expect(entriesAt(tree), context).toEqual(expected);
          expectCleanBlobTreeDir(inner, tree, context);
          await tree.close();
        } catch (error) {
          problems.push((error instanceof Error ? error.message : String(error)).split("\n")[0] as string);
        }
        cases++;
      }
    }
    expect(problems).toEqual([]);
    expect(cases).toBeGreaterThan(20);
  });
});
