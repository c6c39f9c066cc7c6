/**
 * Opens an engine by name. Only the child processes call this, so the parent never loads a native module.
 *
 * @module
 */
import { openClassicLevel } from "./classic-level.ts";
import { openLmdb } from "./lmdb.ts";
import { openTalus } from "./talus.ts";
import type { BenchDb, EngineConfig } from "./types.ts";

export function openEngine(config: EngineConfig): Promise<BenchDb> {
  switch (config.engine) {
    case "talus":
      return openTalus(config, false);
    case "talus@iouring":
      return openTalus({ ...config, talusFs: "iouring" }, false);
    case "talus+compaction":
      return openTalus(config, true);
    case "talus+journal":
      return openTalus({ ...config, journal: true }, true);
    case "talus:prefix":
      return openTalus({ ...config, prefixExtractor: true }, false);
    case "talus:blob":
      return openTalus(config, true, true);
    case "classic-level":
      return openClassicLevel(config, true);
    case "classic-level:plain":
      return openClassicLevel(config, false);
    case "talus-level":
      return openClassicLevel(config, true, "talus-level");
    case "lmdb":
      return openLmdb(config, true);
    case "lmdb:plain":
      return openLmdb(config, false);
  }
}
