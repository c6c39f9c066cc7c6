import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { MemFs } from "@talus/fs";
import type { EngineName } from "../src/catalog.ts";
import { openEngine } from "../src/engines/index.ts";
import type { BenchDb, EngineConfig } from "../src/engines/types.ts";

/** A fresh temp directory per test, removed afterwards. Call at describe level; use the getter inside tests. */
export function useTempDir(): () => string {
  let current: string | undefined;
  afterEach(() => {
    if (current !== undefined) rmSync(current, { recursive: true, force: true });
    current = undefined;
  });
  return () => (current ??= mkdtempSync(join(tmpdir(), "talus-bench-test-")));
}

/**
 * Opens `engine` as the workload tests do: Talus engines on a fresh MemFs at `/db`, the peers in the
 * test's temp directory (`dir()`), with small test settings that `over` adjusts.
 */
export function openTestEngine(engine: EngineName, dir: () => string, over: Partial<EngineConfig> = {}): Promise<BenchDb> {
  const talus = engine.startsWith("talus");
  return openEngine({
    engine,
    dir: talus ? "/db" : dir(),
    keySize: 16,
    batch: 1000,
    memtableBytes: 1 << 20,
    talusCompression: "default",
    cacheMb: 8,
    talusCacheMb: undefined,
    countIo: false,
    ...(talus ? { fs: new MemFs() } : {}),
    ...over,
  });
}

/**
 * A database whose every call does nothing (reads find nothing, scans end at once): the base of the
 * workload tests' in-memory fakes, which override the calls they are about.
 */
export function idleDb(): BenchDb {
  return {
    write: () => {},
    writeDurable: async () => {},
    settle: async () => {},
    get: () => {},
    scanner: () => ({ next: () => false, close: () => {} }),
    seek: () => {},
    deleteRange: () => {},
    merge: () => {},
    ingest: () => {},
    finishIngest: async () => undefined,
    read: () => undefined,
    prefix: () => {},
    stats: () => ({}),
    close: async () => {},
  };
}
