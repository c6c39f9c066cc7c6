// The one vitest configuration every package uses, so that tests run against sources (the
// "talus-source" export condition) and CI can count results from each package's JSON report.
import { defineConfig } from "vitest/config";

export const talusVitestConfig = defineConfig({
  resolve: { conditions: ["talus-source"] },
  ssr: { resolve: { conditions: ["talus-source"] } },
  test: {
    include: ["test/**/*.test.ts"],
    // Generous on purpose: timeouts here only catch hangs. CI runs every package's tests at once on two cores,
    // where the bench's end-to-end tests (whole benchmarks in child processes, 7 s alone) have taken over 60 s.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    reporters: ["default", "json"],
    outputFile: { json: "test-results/vitest.json" },
  },
});
