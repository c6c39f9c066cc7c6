// The one vitest configuration every package uses, so that tests run against sources (the
// "talus-source" export condition) and CI can count results from each package's JSON report.
import { defineConfig } from "vitest/config";

export const talusVitestConfig = defineConfig({
  resolve: { conditions: ["talus-source"] },
  ssr: { resolve: { conditions: ["talus-source"] } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ["default", "json"],
    outputFile: { json: "test-results/vitest.json" },
  },
});
