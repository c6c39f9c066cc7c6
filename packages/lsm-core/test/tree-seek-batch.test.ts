// Seeks over several runs of tables read from their files (mapTables: false) read the blocks they land
// in together: one Fs.readMany (src/tree/batched-seek.ts). The same scans on a tree of many overlapping L0
// runs, forward and reverse, bounded and not, on MemFs and IoUringFs: the answers equal those of the same
// tree read through maps (StdFs) or a model, the seek's blocks come in one readMany with one request per
// run, and a tree whose tables are mapped never calls readMany.
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ForwardingFs, MemFs, StdFs, type Fs, type FsReadRequest } from "@talus/fs";
import { useTempDirs } from "@talus/testkit";
import { SEQNO_MAX, SequenceNumberCounter, Tree, type RangeOptions } from "../src/index.ts";
import { dec } from "./helpers.ts";
import { IOURING_UNAVAILABLE, useIoUringFs } from "./backends.ts";

const dirs = useTempDirs(afterEach);
const ioUringFs = useIoUringFs(afterAll);

/** Counts the requests of every readMany that reaches it. */
class RequestCountingFs extends ForwardingFs {
  readonly batches: number[] = [];

  override readMany(requests: readonly FsReadRequest[]): number[] {
    this.batches.push(requests.length);
    return super.readMany(requests);
  }
}

/** Also hands out the inner filesystem's memory maps (ForwardingFs leaves optional capabilities out). */
class MappingCountingFs extends RequestCountingFs {
  mapReadOnly(path: string): Uint8Array | undefined {
    return (this.inner as StdFs).mapReadOnly(path);
  }
}

const RUNS = 5;
const KEYS_PER_RUN = 800;
const key = (i: number): string => `k${String(i).padStart(6, "0")}`;

/** RUNS L0 runs, each over the whole key space (every RUNS-th key, shifted), small blocks, no block cache. */
async function build(fs: Fs, path: string, mapTables: boolean): Promise<{ tree: Tree; model: Map<string, string> }> {
  const tree = await Tree.open({ fs, path, blockSize: 256, cacheBytes: 0, mapTables, workers: false });
  const seqno = new SequenceNumberCounter();
  const model = new Map<string, string>();
  for (let r = 0; r < RUNS; r++) {
    for (let i = 0; i < KEYS_PER_RUN; i++) {
      const k = key(i * RUNS + r);
      const v = `r${r}-${i}-${"x".repeat(i % 30)}`;
      tree.insert(k, v, seqno.next());
      model.set(k, v);
    }
    await tree.flushActiveMemtable(0);
  }
  expect(tree.l0RunCount()).toBe(RUNS);
  return { tree, model };
}

const SCANS: readonly RangeOptions[] = [
  { limit: 5 },
  { gte: key(1234), limit: 7 },
  { gt: key(2000), lt: key(2040) },
  { reverse: true, limit: 5 },
  { lte: key(3001), reverse: true, limit: 6 },
  { lt: key(10), reverse: true },
  { gte: key(RUNS * KEYS_PER_RUN + 5) },
];

function scan(tree: Tree, bounds: RangeOptions): string[] {
  return [...tree.range(bounds, SEQNO_MAX)].map(([k, v]) => `${dec(k)}=${dec(v)}`);
}

function expected(model: Map<string, string>, bounds: RangeOptions): string[] {
  let keys = [...model.keys()].sort();
  const { gt, gte, lt, lte } = bounds as { gt?: string; gte?: string; lt?: string; lte?: string };
  keys = keys.filter((k) => (gt === undefined || k > gt) && (gte === undefined || k >= gte) && (lt === undefined || k < lt) && (lte === undefined || k <= lte));
  if (bounds.reverse === true) keys.reverse();
  if (bounds.limit !== undefined) keys = keys.slice(0, bounds.limit);
  return keys.map((k) => `${k}=${model.get(k)}`);
}

const BACKENDS: ReadonlyArray<{ name: string; skip: string | undefined; make: () => { fs: Fs; path: string } }> = [
  { name: "MemFs", skip: undefined, make: () => ({ fs: new MemFs(), path: "/db" }) },
  {
    name: "IoUringFs",
    skip: IOURING_UNAVAILABLE,
    make: () => ({ fs: ioUringFs(), path: `${dirs.make("seek-batch")}/db` }),
  },
];

describe("seeks over runs read without maps: the blocks they land in come in one readMany", () => {
  for (const backend of BACKENDS) {
    it.skipIf(backend.skip !== undefined)(`${backend.name}: the same answers, one readMany of one block per run for each scan's seek`, async () => {
      const { fs: inner, path } = backend.make();
      const fs = new RequestCountingFs(inner);
      const { tree, model } = await build(fs, path, false);
      for (const bounds of SCANS) {
        fs.batches.length = 0;
        const context = JSON.stringify(bounds);
        expect(scan(tree, bounds), context).toEqual(expected(model, bounds));
        // The first batch is the seek's: every run has a table where the scan starts, except past the end.
        const pastEnd = bounds.gte === key(RUNS * KEYS_PER_RUN + 5);
        if (pastEnd) expect(fs.batches, context).toEqual([]);
        else expect(fs.batches[0], context).toBe(RUNS);
      }
      await tree.close();
    });
  }

  it("a tree read through memory maps never batches (nothing to read)", async () => {
    const fs = new MappingCountingFs(new StdFs());
    const { tree, model } = await build(fs, `${dirs.make("seek-batch-mapped")}/db`, true);
    expect([...tree.currentVersion().tables()].every((t) => t.table.mapped)).toBe(true);
    for (const bounds of SCANS) expect(scan(tree, bounds)).toEqual(expected(model, bounds));
    expect(fs.batches).toEqual([]);
    await tree.close();
  });

  it("a seek whose blocks are cached reads nothing together", async () => {
    const fs = new RequestCountingFs(new MemFs());
    const tree = await Tree.open({ fs, path: "/db", blockSize: 256, cacheBytes: 8 << 20, workers: false });
    const seqno = new SequenceNumberCounter();
    for (let r = 0; r < 3; r++) {
      for (let i = 0; i < 300; i++) tree.insert(key(i * 3 + r), `v${r}`, seqno.next());
      await tree.flushActiveMemtable(0);
    }
    const bounds = { gte: key(450), limit: 3 };
    const first = scan(tree, bounds);
    expect(fs.batches).toEqual([3]);
    fs.batches.length = 0;
    expect(scan(tree, bounds)).toEqual(first);
    expect(fs.batches).toEqual([]);
    await tree.close();
  });
});
