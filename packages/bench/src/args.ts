/**
 * Command-line parsing and validation. Every bad value is an {@link ArgError} naming the flag and what
 * it got, raised before anything touches the disk.
 *
 * @module
 */
import { ENGINE_NAMES, ENGINES, runsOn, SKIPPED_WORKLOADS, WORKLOAD_NAMES, WORKLOADS, type EngineName, type TalusCompression, type TalusFsKind, type WorkloadName } from "./catalog.ts";
import { PREFIX_MAX_NUM } from "./data.ts";
import { isDocsSectionName } from "./docs.ts";

export class ArgError extends Error {
  override readonly name = "ArgError";
}

export interface RunOptions {
  readonly num: number;
  /** Ops of the read workloads with a per-op cost far above a get (seeks, prefix scans) and of point reads. */
  readonly reads: number;
  /** A timed loop stops after this many seconds and reports the ops it did (slow plain paths). */
  readonly maxSeconds: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly workloads: readonly WorkloadName[];
  readonly engines: readonly EngineName[];
  readonly reps: number;
  /** Parent directory for the run's databases (a fresh subdirectory is made and removed in it). */
  readonly dir: string | undefined;
  readonly json: string | undefined;
  readonly writeDocs: boolean;
  /** Which results section of docs/BENCHMARKS.md --write-docs rewrites ("results", the default, or a named one). */
  readonly docsSection: string;
  readonly seed: number;
  /** Ops per batch on batched paths, and ops between event-loop yields everywhere. */
  readonly batch: number;
  /** Talus memtable size that triggers a flush, MiB. */
  readonly memtableMb: number;
  /** Talus table compression; "default" leaves the engine's per-level default (L0 none, deeper LZ4). */
  readonly talusCompression: TalusCompression;
  /** The filesystem the Talus engines open their trees on (`talus@iouring` is on IoUringFs whatever this says). */
  readonly fs: TalusFsKind;
  /** Block cache of Talus and classic-level, MiB (lmdb reads through the OS page cache). */
  readonly cacheMb: number;
  /** Talus block cache, MiB, overriding `cacheMb` for Talus only. */
  readonly talusCacheMb: number | undefined;
  readonly seekNexts: number;
  /** Directory for `--cpu-prof` profiles of every child, or undefined for none. */
  readonly cpuProfDir: string | undefined;
  readonly keep: boolean;
}

/** The reference engine's db_bench default (`--cache-mb 64`). */
export const DEFAULT_CACHE_MB = 64;

export type Command =
  | { readonly kind: "run"; readonly options: RunOptions }
  | { readonly kind: "compare"; readonly a: string; readonly b: string }
  | { readonly kind: "top"; readonly file: string; readonly count: number; readonly all: boolean }
  | { readonly kind: "help" };

/** Sized so that the default run (every workload and engine, one repetition) takes about 5 minutes on 2 cores. */
export const DEFAULT_NUM = 400_000;
export const DEFAULT_READS = 200_000;
export const DEFAULT_MAX_SECONDS = 10;

export const DEFAULTS: RunOptions = {
  num: DEFAULT_NUM,
  reads: DEFAULT_READS,
  maxSeconds: DEFAULT_MAX_SECONDS,
  keySize: 16,
  valueSize: 100,
  workloads: WORKLOAD_NAMES,
  engines: ENGINE_NAMES,
  reps: 1,
  dir: undefined,
  json: undefined,
  writeDocs: false,
  docsSection: "results",
  seed: 1,
  batch: 1000,
  memtableMb: 16,
  talusCompression: "default",
  fs: "std",
  cacheMb: DEFAULT_CACHE_MB,
  talusCacheMb: undefined,
  seekNexts: 0,
  cpuProfDir: undefined,
  keep: false,
};

export const USAGE = `Usage: pnpm bench [-- options]            (from the repository root)
       pnpm bench -- compare <a.json> <b.json>
       pnpm bench -- top <file.cpuprofile> [--count N] [--all]

Options:
  --num N               entries per data set, ops of the fills (fillsync: of all writers) and ingest, of readseq and merges of mergerandom (default ${DEFAULT_NUM.toLocaleString("en-US")})
  --reads N             ops of readrandom, seekrandom, prefixscan, readwhilewriting, deleterange, mergerandom (default ${DEFAULT_READS.toLocaleString("en-US")}, at most --num)
  --max-seconds S       stop a timed loop after S seconds and report the ops done (default ${DEFAULT_MAX_SECONDS})
  --key-size N          key bytes, 8..1024 (default 16)
  --value-size N        value bytes, 1..1048576 (default 100; half random, half repeated)
  --workloads a,b       ${WORKLOAD_NAMES.join(",")}
                        (mergerandom: Talus merges with counterMerge; classic-level and lmdb emulate a merge
                        with a read-modify-write; ingest: Talus bulk ingestion beside fillseq, classic-level
                        fillseq's batches, lmdb appends in one transaction; fillsync, fillsync64: 1 and 64
                        writers each awaiting durability per write, on talus+journal, classic-level and lmdb)
  --engines a,b         ${ENGINE_NAMES.join(",")}
                        (talus:prefix: Talus with prefixscan's prefix extractor; prefixscan only;
                        talus+journal: talus+compaction with the write-ahead journal; write workloads only;
                        talus@iouring: talus on IoUringFs)
  --reps N              repetitions; tables show median (min-max) (default 1)
  --dir PATH            where the databases go (default the OS temp dir)
  --json FILE           write every measurement as JSON
  --write-docs          rewrite the results section of docs/BENCHMARKS.md
  --docs-section NAME   the section --write-docs rewrites: between <!-- results:NAME:start --> and
                        <!-- results:NAME:end --> (default: the main one, <!-- results:start -->)
  --seed N              key/value seed (default 1)
  --batch N             ops per batch on batched paths and between event-loop yields (default 1000)
  --memtable-mb N       Talus flush threshold in MiB (default 16)
  --talus-compression default|none|lz4
                        Talus table compression (default: the engine's, L0 none and deeper levels lz4)
  --fs std|iouring      the filesystem of the Talus engines: StdFs, or IoUringFs (io_uring; refused where it is
                        unavailable) (default std; talus@iouring is on IoUringFs either way)
  --cache-mb N          block cache of Talus and classic-level in MiB (default ${DEFAULT_CACHE_MB}, as the reference's db_bench)
  --talus-cache-mb N    Talus block cache in MiB, overriding --cache-mb for Talus only
  --seek-nexts N        entries read after each seek in seekrandom (default 0)
  --cpu-prof [DIR]      write a V8 CPU profile of every child into DIR (default ./profiles)
  --keep                keep the databases after the run
${Object.entries(SKIPPED_WORKLOADS)
  .map(([name, why]) => `\n${name}: ${why}`)
  .join("")}`;

/** Parses argv (without node and the script). */
export function parseArgs(argv: readonly string[]): Command {
  if (argv[0] === "compare") {
    const [a, b, ...rest] = argv.slice(1);
    if (a === undefined || b === undefined || a.startsWith("--") || b.startsWith("--")) throw new ArgError("compare needs two JSON files: compare <a.json> <b.json>");
    if (rest.length > 0) throw new ArgError(`compare takes two files, got extra: ${rest.join(" ")}`);
    return { kind: "compare", a, b };
  }
  if (argv[0] === "top") {
    const file = argv[1];
    if (file === undefined || file.startsWith("--")) throw new ArgError("top needs a .cpuprofile file: top <file.cpuprofile> [--count N] [--all]");
    let count = 25;
    let all = false;
    for (let i = 2; i < argv.length; i++) {
      if (argv[i] === "--count") count = integer("--count", argv[++i], 1, 10_000);
      else if (argv[i] === "--all") all = true;
      else throw new ArgError(`unknown argument to top: ${argv[i]}`);
    }
    return { kind: "top", file, count, all };
  }
  const o: { -readonly [K in keyof RunOptions]: RunOptions[K] } = { ...DEFAULTS };
  let readsGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new ArgError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--help":
      case "-h":
        return { kind: "help" };
      case "--num":
        o.num = integer(flag, value(), 1, 1e9);
        break;
      case "--reads":
        o.reads = integer(flag, value(), 1, 1e9);
        readsGiven = true;
        break;
      case "--max-seconds":
        o.maxSeconds = number(flag, value(), 0.1, 86_400);
        break;
      case "--key-size":
        o.keySize = integer(flag, value(), 8, 1024);
        break;
      case "--value-size":
        o.valueSize = integer(flag, value(), 1, 1 << 20);
        break;
      case "--workloads":
        o.workloads = names(flag, value(), WORKLOAD_NAMES);
        break;
      case "--engines":
        o.engines = names(flag, value(), ENGINE_NAMES);
        break;
      case "--reps":
        o.reps = integer(flag, value(), 1, 100);
        break;
      case "--dir":
        o.dir = value();
        break;
      case "--json":
        o.json = value();
        break;
      case "--write-docs":
        o.writeDocs = true;
        break;
      case "--docs-section": {
        const name = value();
        if (!isDocsSectionName(name)) throw new ArgError(`--docs-section takes lower-case letters, digits and dashes, got ${JSON.stringify(name)}`);
        o.docsSection = name;
        break;
      }
      case "--seed":
        o.seed = integer(flag, value(), 0, 0xffffffff);
        break;
      case "--batch":
        o.batch = integer(flag, value(), 1, 1_000_000);
        break;
      case "--memtable-mb":
        o.memtableMb = number(flag, value(), 0.0625, 4096);
        break;
      case "--talus-compression": {
        const v = value();
        if (v !== "default" && v !== "none" && v !== "lz4") throw new ArgError(`--talus-compression must be default, none or lz4, got '${v}'`);
        o.talusCompression = v;
        break;
      }
      case "--fs": {
        const v = value();
        if (v !== "std" && v !== "iouring") throw new ArgError(`--fs must be std or iouring, got '${v}'`);
        o.fs = v;
        break;
      }
      case "--cache-mb":
        o.cacheMb = number(flag, value(), 0, 1 << 20);
        break;
      case "--talus-cache-mb":
        o.talusCacheMb = number(flag, value(), 0, 1 << 20);
        break;
      case "--seek-nexts":
        o.seekNexts = integer(flag, value(), 0, 1_000_000);
        break;
      case "--cpu-prof": {
        const next = argv[i + 1];
        o.cpuProfDir = next !== undefined && !next.startsWith("--") ? value() : "profiles";
        break;
      }
      case "--keep":
        o.keep = true;
        break;
      default:
        if (flag in SKIPPED_WORKLOADS) throw new ArgError(`${flag}: ${SKIPPED_WORKLOADS[flag]}`);
        throw new ArgError(`unknown argument '${flag}' (try --help)`);
    }
  }
  if (readsGiven && o.reads > o.num) throw new ArgError(`--reads (${o.reads}) must not exceed --num (${o.num})`);
  if (!readsGiven) o.reads = Math.min(o.num, DEFAULT_READS);
  if (!o.engines.some((e) => o.workloads.some((w) => runsOn(w, e)))) {
    const engines = o.engines.filter((e) => ENGINES[e].workloads !== undefined);
    const why = [
      ...(engines.length > 0 ? [`${engines.join(", ")} run only ${[...new Set(engines.flatMap((e) => ENGINES[e].workloads ?? []))].join(", ")}`] : []),
      ...o.workloads.filter((w) => WORKLOADS[w].engines !== undefined).map((w) => `${w} runs only on ${(WORKLOADS[w].engines ?? []).join(", ")}`),
    ];
    throw new ArgError(`no run: ${why.join("; ")}`);
  }
  if (o.workloads.includes("prefixscan") && o.num > PREFIX_MAX_NUM) {
    throw new ArgError(`prefixscan addresses at most ${PREFIX_MAX_NUM} keys (256 prefixes x 65536 suffixes); lower --num or drop prefixscan`);
  }
  return { kind: "run", options: o };
}

function number(flag: string, raw: string, min: number, max: number): number {
  const n = raw.trim() === "" ? Number.NaN : Number(raw.replaceAll("_", ""));
  if (!Number.isFinite(n)) throw new ArgError(`${flag} must be a number, got '${raw}'`);
  if (n < min || n > max) throw new ArgError(`${flag} must be between ${min} and ${max}, got ${raw}`);
  return n;
}

function integer(flag: string, raw: string | undefined, min: number, max: number): number {
  if (raw === undefined) throw new ArgError(`${flag} needs a value`);
  const n = number(flag, raw, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
  if (!Number.isInteger(n)) throw new ArgError(`${flag} must be an integer, got '${raw}'`);
  if (n < min || n > max) throw new ArgError(`${flag} must be between ${min.toLocaleString("en-US")} and ${max.toLocaleString("en-US")}, got ${raw}`);
  return n;
}

function names<T extends string>(flag: string, raw: string, known: readonly T[]): T[] {
  const list = raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  if (list.length === 0) throw new ArgError(`${flag} needs at least one name`);
  for (const name of list) {
    if (name in SKIPPED_WORKLOADS) throw new ArgError(`${name}: ${SKIPPED_WORKLOADS[name]}`);
    if (!(known as readonly string[]).includes(name)) throw new ArgError(`${flag}: unknown name '${name}' (known: ${known.join(", ")})`);
  }
  return [...new Set(list)] as T[];
}
