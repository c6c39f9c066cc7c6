/**
 * Runs abstract-level's published compliance suite (`abstract-level/test`, under tape) against
 * `TalusLevel`, once per configuration:
 *
 * - `memfs`: a plain tree on a fresh `MemFs` per database;
 * - `memfs-blob`: a blob tree (every value separated) with a 4 KiB memtable, so the suite's data is
 *   flushed, compacted and read back from tables and blob files, not only from the memtable;
 * - `stdfs`: a plain tree in a fresh directory on disk per database (worker threads, real locks).
 *
 * Each configuration runs the whole suite, which runs itself a second time on a sublevel. The TAP
 * output goes to `test-results/compliance-<config>.tap`, the counts to `test-results/compliance.json`;
 * the console gets the failing assertions and one summary line. Exit status 1 when an assertion
 * failed. `tsx --conditions talus-source test/compliance/run.ts [config ...]` runs some of them.
 *
 * @module
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import tape from "tape";
import { MemFs } from "@talus/fs";
import { TalusLevel } from "../../src/index.ts";

const require = createRequire(import.meta.url);
const suite = require("abstract-level/test") as typeof import("abstract-level/test");
const abstractLevelVersion = (require("abstract-level/package.json") as { version: string }).version;

const here = dirname(fileURLToPath(import.meta.url));
const results = join(here, "..", "..", "test-results");
/** A configuration that takes longer than this has hung (an unresolved promise in some test). */
const CONFIG_TIMEOUT_MS = 10 * 60 * 1000;

interface Config {
  readonly name: string;
  /** Makes a fresh, isolated database; `cleanup` runs once the configuration is done. */
  setup(): { factory: (options?: Record<string, unknown>) => TalusLevel; cleanup: () => void };
}

const CONFIGS: readonly Config[] = [
  {
    name: "memfs",
    setup: () => ({ factory: (options) => new TalusLevel("/db", { ...options, fs: new MemFs() }), cleanup: () => {} }),
  },
  {
    name: "memfs-blob",
    setup: () => ({
      factory: (options) =>
        new TalusLevel("/db", {
          ...options,
          fs: new MemFs(),
          blob: { separationThreshold: 1 },
          maintenance: { memtableBytes: 4096 },
        }),
      cleanup: () => {},
    }),
  },
  {
    name: "stdfs",
    setup: () => {
      const root = mkdtempSync(join(tmpdir(), "talus-level-compliance-"));
      let n = 0;
      return {
        factory: (options) => new TalusLevel(join(root, String(n++)), options),
        cleanup: () => rmSync(root, { recursive: true, force: true }),
      };
    },
  },
];

interface Outcome {
  readonly config: string;
  readonly passed: number;
  readonly failed: number;
  readonly tests: number;
  readonly failures: readonly string[];
  readonly ms: number;
}

/** A row of tape's object stream. */
interface Row {
  readonly type: "test" | "assert" | "end";
  readonly name?: string;
  readonly ok?: boolean;
  readonly skip?: boolean | string;
  readonly todo?: boolean | string;
  readonly id?: number;
  readonly test?: number;
  readonly operator?: string;
  readonly actual?: unknown;
  readonly expected?: unknown;
  readonly error?: unknown;
}

function show(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}${(value as { code?: string }).code ? ` (${(value as { code?: string }).code})` : ""}`;
  try {
    return JSON.stringify(value)?.slice(0, 200) ?? String(value);
  } catch {
    return String(value);
  }
}

async function run(config: Config): Promise<Outcome> {
  const started = Date.now();
  const { factory, cleanup } = config.setup();
  const harness = tape.createHarness();
  const tap: string[] = [];
  const failures: string[] = [];
  const names = new Map<number, string>();
  let passed = 0;
  let failed = 0;
  let tests = 0;
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${config.name}: the suite did not finish within ${CONFIG_TIMEOUT_MS / 1000} s`)), CONFIG_TIMEOUT_MS);
    const stream = harness.createStream({ objectMode: true }) as unknown as NodeJS.ReadableStream;
    stream.on("data", (row: Row) => {
      if (row.type === "test" && row.id !== undefined) {
        tests++;
        names.set(row.id, row.name ?? "");
        tap.push(`# ${row.name ?? ""}`);
      } else if (row.type === "assert") {
        const where = names.get(row.test ?? -1) ?? "?";
        if (row.ok === true || row.skip || row.todo) {
          passed++;
          tap.push(`ok ${passed + failed} ${row.name ?? ""}`);
        } else {
          failed++;
          const detail = row.error !== undefined ? show(row.error) : `${row.operator ?? ""}: expected ${show(row.expected)}, got ${show(row.actual)}`;
          failures.push(`[${config.name}] ${where} > ${row.name ?? ""}: ${detail}`);
          tap.push(`not ok ${passed + failed} ${row.name ?? ""}\n  # ${detail}`);
        }
      }
    });
    stream.on("end", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  suite({ test: harness, factory });
  try {
    await done;
  } finally {
    cleanup();
  }
  writeFileSync(join(results, `compliance-${config.name}.tap`), `TAP version 13\n${tap.join("\n")}\n1..${passed + failed}\n# pass ${passed}\n# fail ${failed}\n`);
  return { config: config.name, passed, failed, tests, failures, ms: Date.now() - started };
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !CONFIGS.some((c) => c.name === name));
  if (unknown.length > 0) throw new Error(`unknown configuration ${unknown.join(", ")}; known: ${CONFIGS.map((c) => c.name).join(", ")}`);
  const configs = wanted.length === 0 ? CONFIGS : CONFIGS.filter((c) => wanted.includes(c.name));
  mkdirSync(results, { recursive: true });
  const outcomes: Outcome[] = [];
  for (const config of configs) {
    const outcome = await run(config);
    outcomes.push(outcome);
    for (const failure of outcome.failures) console.log(`  FAILED ${failure}`);
    console.log(
      `compliance ${config.name}: ${outcome.passed} of ${outcome.passed + outcome.failed} assertions passed in ${outcome.tests} tests (${(outcome.ms / 1000).toFixed(1)} s)`,
    );
  }
  const passed = outcomes.reduce((n, o) => n + o.passed, 0);
  const total = outcomes.reduce((n, o) => n + o.passed + o.failed, 0);
  writeFileSync(
    join(results, "compliance.json"),
    `${JSON.stringify({ abstractLevel: abstractLevelVersion, passed, failed: total - passed, configs: outcomes }, null, 2)}\n`,
  );
  console.log(
    `abstract-level ${abstractLevelVersion} compliance: ${passed} of ${total} assertions passed (${outcomes.map((o) => `${o.config} ${o.passed}/${o.passed + o.failed}`).join(", ")})`,
  );
  process.exit(passed === total ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  console.log("abstract-level compliance: did not finish");
  process.exit(1);
});
