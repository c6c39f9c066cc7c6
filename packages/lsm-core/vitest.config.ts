import { defineConfig, mergeConfig } from "vitest/config";
import { talusVitestConfig } from "../../vitest.shared.ts";

// --expose-gc lets a test prove that an iterator dropped without return() stops pinning files once it
// is garbage-collected.
export default mergeConfig(talusVitestConfig, defineConfig({ test: { execArgv: ["--expose-gc"] } }));
