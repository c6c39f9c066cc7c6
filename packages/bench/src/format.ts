/**
 * Number formatting and a table renderer that prints either aligned text (terminal) or Markdown (docs).
 *
 * @module
 */
import type { Spread } from "./stats.ts";

export function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-";
}

export function fmtFixed(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "-";
}

/** Microseconds with precision that matters at their scale. */
export function fmtUs(n: number): string {
  if (!Number.isFinite(n)) return "-";
  return n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : fmtInt(n);
}

export function fmtMiB(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / 1048576).toFixed(1)} MiB` : "-";
}

export function fmtRatio(r: number): string {
  return Number.isFinite(r) ? `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}x` : "-";
}

/** `median` alone for one repetition, `median (min–max)` for several. */
export function fmtSpread(s: Spread | undefined, fmt: (n: number) => string, reps: number): string {
  if (s === undefined) return "-";
  if (reps <= 1 || s.min === s.max) return fmt(s.median);
  return `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
}

export interface Column {
  readonly title: string;
  readonly align?: "left" | "right";
}

export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[], markdown: boolean): string {
  if (markdown) {
    const escape = (s: string): string => s.replaceAll("|", "\\|");
    const head = `| ${columns.map((c) => escape(c.title)).join(" | ")} |`;
    const rule = `|${columns.map((c) => (c.align === "left" ? "---|" : "---:|")).join("")}`;
    return [head, rule, ...rows.map((r) => `| ${r.map(escape).join(" | ")} |`)].join("\n");
  }
  const widths = columns.map((c, i) => Math.max(c.title.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => {
        const w = widths[i] ?? 0;
        return columns[i]?.align === "left" ? cell.padEnd(w) : cell.padStart(w);
      })
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.title)), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}
