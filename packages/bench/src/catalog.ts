/**
 * The names the tool knows: workloads and engines, with the one-line descriptions the report and the
 * docs print. Pure data, so argument parsing needs no native module loaded.
 *
 * @module
 */

export const WORKLOAD_NAMES = ["fillseq", "ingest", "fillrandom", "fillsync", "fillsync64", "overwrite", "readrandom", "multiget", "multiget-cold", "readseq", "seekrandom", "prefixscan", "readwhilewriting", "deleterange", "mergerandom"] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

/** Which prefilled data set a workload starts from ("none": an empty database). */
export type Dataset = "none" | "seq" | "prefix";

export interface WorkloadInfo {
  readonly name: WorkloadName;
  readonly dataset: Dataset;
  /** Writes to its database (so it gets a private copy of the prefill). */
  readonly writes: boolean;
  /** Event-loop delay and write/space amplification are reported for it. */
  readonly fill: boolean;
  readonly measures: string;
  /** The only engines it runs on (the plan leaves the others out); undefined: every engine. */
  readonly engines?: readonly EngineName[];
}

/**
 * fillsync and fillsync64 run once per library and API: each has one durable write, the same on its fast and
 * plain paths, and Talus' needs a journal (without one `persist()` flushes the memtable into a table per
 * write); `talus-level` is Talus through classic-level's `put(..., { sync: true })`, on TalusLevel's journal.
 */
const FILLSYNC_ENGINES: readonly EngineName[] = ["talus+journal", "classic-level", "talus-level", "lmdb"];

/** Keys per multiGet call of the multiget workload. */
export const MULTIGET_KEYS = 64;

export const WORKLOADS: Readonly<Record<WorkloadName, WorkloadInfo>> = {
  fillseq: { name: "fillseq", dataset: "none", writes: true, fill: true, measures: "inserts --num sequential keys into an empty database, until persisted" },
  ingest: {
    name: "ingest",
    dataset: "none",
    writes: true,
    fill: true,
    measures:
      "loads fillseq's --num sequential keys into an empty database through the bulk path, until persisted (Talus: tree.ingestion() and finish(); classic-level: fillseq's batches, LevelDB has no ingestion; lmdb: putSync with append in one transaction), then reads a sample back",
  },
  fillrandom: { name: "fillrandom", dataset: "none", writes: true, fill: true, measures: "inserts --num random keys into an empty database, until persisted" },
  fillsync: {
    name: "fillsync",
    dataset: "none",
    writes: true,
    fill: true,
    measures:
      "one writer inserting random keys into an empty database, each write awaited until durable (Talus: insert then persist() on the journal; classic-level: put with sync: true; lmdb: put, then its commit's flush); ops/s counts durable writes",
    engines: FILLSYNC_ENGINES,
  },
  fillsync64: {
    name: "fillsync64",
    dataset: "none",
    writes: true,
    fill: true,
    measures: "fillsync with 64 concurrent writers on the event loop, each awaiting durability per write: what group commit buys; ops/s counts durable writes of all writers",
    engines: FILLSYNC_ENGINES,
  },
  overwrite: { name: "overwrite", dataset: "seq", writes: true, fill: true, measures: "rewrites --num uniformly chosen existing keys of the prefill, until persisted" },
  readrandom: { name: "readrandom", dataset: "seq", writes: false, fill: false, measures: "point reads of --num uniformly chosen existing keys on the reopened prefill" },
  multiget: {
    name: "multiget",
    dataset: "seq",
    writes: false,
    fill: false,
    measures:
      `--reads multiGet calls of ${MULTIGET_KEYS} uniformly chosen existing keys each on the reopened prefill, with a cold block cache (Talus opened with no block cache, so every data block a call needs is read from its file, and mapTables: false, so that read goes through the Fs: one Fs.readMany per call); an op is one call of ${MULTIGET_KEYS} keys`,
    engines: ["talus", "talus+compaction", "talus@iouring"],
  },
  "multiget-cold": {
    name: "multiget-cold",
    dataset: "seq",
    writes: false,
    fill: false,
    measures:
      `multiget with the OS page cache cold too: before each call (untimed) the tree's files are dropped from the page cache (posix_fadvise DONTNEED), so the call's block reads go to the device; an op is one call of ${MULTIGET_KEYS} keys, ops/s counts the calls' own time`,
    engines: ["talus", "talus+compaction", "talus@iouring"],
  },
  readseq: { name: "readseq", dataset: "seq", writes: false, fill: false, measures: "one forward scan over the reopened prefill, key and value of every entry" },
  seekrandom: { name: "seekrandom", dataset: "seq", writes: false, fill: false, measures: "seek to a random existing key and read the first entry (plus --seek-nexts more)" },
  prefixscan: { name: "prefixscan", dataset: "prefix", writes: false, fill: false, measures: "up to 10 entries under a random 2-byte prefix of 256 (own prefill with prefix-shaped keys, written prefix by prefix; Talus' in many tables)" },
  readwhilewriting: {
    name: "readwhilewriting",
    dataset: "seq",
    writes: true,
    fill: false,
    measures: "random point reads while one writer inserts random new keys on the same event loop; ops/s counts reads, writes/s is shown beside",
  },
  deleterange: {
    name: "deleterange",
    dataset: "seq",
    writes: true,
    fill: false,
    measures:
      "a fixed mix of point gets, seeks + 10 nexts and range deletes of 100 consecutive existing keys; ops/s counts reads, deletes/s is shown beside, and a full scan is timed before the deletes and after them",
  },
  mergerandom: {
    name: "mergerandom",
    dataset: "none",
    writes: true,
    fill: false,
    measures:
      "--num merges of 8-byte little-endian increments to random keys of a key space of --num / 8, until persisted (Talus: merge operands with counterMerge; classic-level and lmdb: an emulated read-modify-write); ops/s counts merges, then --reads random gets of the counters (reads/s), checked against a model of the sums",
  },
};

/** Listed in db_bench but not run yet, with the reason printed in every report (none at present). */
export const SKIPPED_WORKLOADS: Readonly<Record<string, string>> = {};

export const ENGINE_NAMES = ["talus", "talus@iouring", "talus+compaction", "talus+journal", "talus:prefix", "talus:blob", "classic-level", "classic-level:plain", "talus-level", "lmdb", "lmdb:plain"] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** The on-disk database an engine reads: the fast and plain paths of one library share their prefill. */
export type StoreKind = "talus" | "talus+compaction" | "talus:blob" | "classic-level" | "talus-level" | "lmdb";

export interface EngineInfo {
  readonly name: EngineName;
  readonly store: StoreKind;
  readonly talus: boolean;
  /**
   * An adapter over Talus measured against a peer through the same API (`talus-level` against
   * classic-level): it gets only the targets that name it, not every Talus target.
   */
  readonly adapter?: boolean;
  readonly path: string;
  /** The only workloads it runs (the plan leaves it out of the others); undefined: every workload. */
  readonly workloads?: readonly WorkloadName[];
}

export const ENGINES: Readonly<Record<EngineName, EngineInfo>> = {
  talus: { name: "talus", store: "talus", talus: true, path: "sync insert/get/range; the bench flushes every --memtable-mb like an application, no compaction" },
  "talus@iouring": {
    name: "talus@iouring",
    store: "talus",
    talus: true,
    path: "as talus, on IoUringFs (reads, writes and syncs through io_uring; multiGet's block reads one readMany submission) whatever --fs says; reads talus' prefill",
  },
  "talus+compaction": {
    name: "talus+compaction",
    store: "talus+compaction",
    talus: true,
    path: "as talus, plus compact(new Leveled()) after each flush and a final full compaction inside the timed fill",
  },
  "talus+journal": {
    name: "talus+journal",
    store: "talus+compaction",
    talus: true,
    path: "as talus+compaction, opened with journal: true (every write also appended to the write-ahead journal, no persist() calls; fillsync: persist() after each write); reads talus+compaction's prefill",
    workloads: ["fillseq", "fillrandom", "fillsync", "fillsync64", "overwrite", "readwhilewriting", "deleterange", "mergerandom"],
  },
  "talus:prefix": {
    name: "talus:prefix",
    store: "talus",
    talus: true,
    path: "as talus, with prefixscan's 2-byte prefix extractor: prefix scans skip tables whose filter rules the prefix out (prefixscan only; reads talus' prefill)",
    workloads: ["prefixscan"],
  },
  "talus:blob": {
    name: "talus:blob",
    store: "talus:blob",
    talus: true,
    path: "BlobTree (key-value separation, values >= 1 KiB in blob files, the default kvSeparation) with talus+compaction's Leveled compaction",
  },
  "classic-level": { name: "classic-level", store: "classic-level", talus: false, path: "fastest documented: batch() chunks, getSync(), iterator nextv() and seek()" },
  "classic-level:plain": { name: "classic-level:plain", store: "classic-level", talus: false, path: "plain: await put(), await get(), for await over iterator()" },
  "talus-level": {
    name: "talus-level",
    store: "talus-level",
    talus: true,
    adapter: true,
    path: "TalusLevel (@talus/level: a Talus tree with journal and automatic maintenance) through classic-level's fast path, the same abstract-level calls: batch() chunks, getSync(), iterator nextv() and seek()",
  },
  lmdb: { name: "lmdb", store: "lmdb", talus: false, path: "fastest documented: putSync() inside transactionSync() chunks, get() (sync), getRange()" },
  "lmdb:plain": { name: "lmdb:plain", store: "lmdb", talus: false, path: "plain: await put(), get(), getRange()" },
};

/**
 * Whether `engine` is one of the bench's own Talus tree engines (engines/talus.ts): it reports the tree's
 * stats (flushes, tables, the counting Fs's reads and writes) and writes Talus' prefix prefill. The
 * adapter (`talus-level`) is a Talus engine too, but runs classic-level's code and reports none of that.
 */
export function isTalusTree(engine: EngineName): boolean {
  return ENGINES[engine].talus && ENGINES[engine].adapter !== true;
}

/** Whether the plan runs `workload` on `engine` (each may be limited to some of the other's). */
export function runsOn(workload: WorkloadName, engine: EngineName): boolean {
  return (ENGINES[engine].workloads?.includes(workload) ?? true) && (WORKLOADS[workload].engines?.includes(engine) ?? true);
}

/** The filesystem Talus engines open their trees on (`--fs`): `StdFs` or `IoUringFs`. `talus@iouring` is always on IoUringFs. */
export type TalusFsKind = "std" | "iouring";

/** Talus table compression in a run; "default" leaves the engine's per-level default (L0 none, deeper LZ4). */
export type TalusCompression = "default" | "none" | "lz4";
