import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEFAULT_DOCS_PATH, replaceResultsSection, RESULTS_END, RESULTS_START, resultsSection, sectionMarkers } from "../src/docs.ts";
import { loadReport } from "../src/compare.ts";
import { fileURLToPath } from "node:url";

const doc = `# Title\n\nintro\n\n${RESULTS_START}\nold table\n${RESULTS_END}\n\nafter\n`;

describe("the docs results section", () => {
  it("replaces only what lies between the markers", () => {
    const out = replaceResultsSection(doc, "new table\n");
    expect(out).toBe(`# Title\n\nintro\n\n${RESULTS_START}\nnew table\n${RESULTS_END}\n\nafter\n`);
  });

  it("is idempotent", () => {
    const once = replaceResultsSection(doc, "x");
    expect(replaceResultsSection(once, "x")).toBe(once);
  });

  it("refuses documents without a well-formed section", () => {
    expect(() => replaceResultsSection("# nothing here", "x")).toThrow("has no");
    expect(() => replaceResultsSection(`${RESULTS_END}\n${RESULTS_START}`, "x")).toThrow("comes before");
    expect(() => replaceResultsSection(`${RESULTS_START}${RESULTS_END}${RESULTS_START}${RESULTS_END}`, "x")).toThrow("more than once");
  });

  it("renders machine, date and tables from a report", () => {
    const report = loadReport(fileURLToPath(new URL("./fixtures/a.json", import.meta.url)));
    const section = resultsSection(report);
    expect(section).toContain("Date: 2025-01-01");
    expect(section).toContain("Machine: test cpu, 2 cores, 16.0 GiB memory");
    expect(section).toContain("Node v20.0.0");
    expect(section).toContain("| engine | ops/s |");
    expect(section).toContain("Talus / best peer (lmdb): talus 0.50x");
  });

  it("rewrites a named section and leaves the others alone", () => {
    const blob = sectionMarkers("blob-4k");
    expect(blob).toEqual({ start: "<!-- results:blob-4k:start -->", end: "<!-- results:blob-4k:end -->" });
    const two = `${doc}\n${blob.start}\nold blob\n${blob.end}\n`;
    const out = replaceResultsSection(two, "new blob", "blob-4k");
    expect(out).toBe(`${doc}\n${blob.start}\nnew blob\n${blob.end}\n`);
    expect(() => replaceResultsSection(doc, "x", "blob-16k")).toThrow("has no");
    expect(() => sectionMarkers("Bad Name")).toThrow(RangeError);
    const report = loadReport(fileURLToPath(new URL("./fixtures/a.json", import.meta.url)));
    expect(resultsSection(report, "blob-4k")).toContain("--write-docs --docs-section blob-4k");
  });

  it("the repository's docs/BENCHMARKS.md has the markers of every section", () => {
    const text = readFileSync(DEFAULT_DOCS_PATH, "utf8");
    for (const section of ["results", "blob-4k", "blob-16k"]) expect(() => replaceResultsSection(text, "x", section), section).not.toThrow();
  });
});
