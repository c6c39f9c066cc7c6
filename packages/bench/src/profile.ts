/**
 * `top file.cpuprofile`: the functions a V8 CPU profile (from `--cpu-prof`) spent its samples in, by
 * self time and by total time (each sample counted once per function on its stack).
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { fmtFixed, renderTable } from "./format.ts";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface Frame {
  readonly name: string;
  readonly selfMs: number;
  readonly totalMs: number;
}

function frameName(node: ProfileNode): string {
  const f = node.callFrame;
  const fn = f.functionName === "" ? "(anonymous)" : f.functionName;
  if (f.url === "") return fn;
  // tsx hands V8 each module on one line, so only built-ins have line numbers worth printing.
  return f.lineNumber > 0 ? `${fn} ${basename(f.url)}:${f.lineNumber + 1}` : `${fn} ${basename(f.url)}`;
}

/**
 * Samples spent loading and compiling modules (tsx's hooks, node's loaders) or idle say nothing about
 * the workload; they are left out unless `all` is set.
 */
function isNoise(node: ProfileNode): boolean {
  const { url, functionName } = node.callFrame;
  return url.includes("/tsx/dist/") || url.startsWith("node:internal/modules/") || functionName === "(idle)" || functionName === "(program)";
}

export function topFrames(profile: CpuProfile, all = false): Frame[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(id);
    if (node === undefined) return;
    if (!all) {
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const n = byId.get(cur);
        if (n !== undefined && isNoise(n)) return;
      }
    }
    const name = frameName(node);
    self.set(name, (self.get(name) ?? 0) + ms);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (n === undefined) break;
      const nm = frameName(n);
      if (seen.has(nm)) continue;
      seen.add(nm);
      total.set(nm, (total.get(nm) ?? 0) + ms);
    }
  });
  return [...total.entries()].map(([name, totalMs]) => ({ name, selfMs: self.get(name) ?? 0, totalMs }));
}

export function renderTop(path: string, count: number, all = false): string {
  const profile = JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
  const frames = topFrames(profile, all);
  const total = frames.reduce((sum, f) => sum + f.selfMs, 0);
  const pct = (ms: number): string => `${fmtFixed((100 * ms) / total, 1)}%`;
  const bySelf = [...frames].sort((a, b) => b.selfMs - a.selfMs).slice(0, count);
  const byTotal = [...frames].filter((f) => !f.name.startsWith("(")).sort((a, b) => b.totalMs - a.totalMs).slice(0, count);
  const columns = [{ title: "self", align: "right" as const }, { title: "total", align: "right" as const }, { title: "function", align: "left" as const }];
  return [
    `${path}: ${fmtFixed(total, 0)} ms sampled${all ? "" : " (module loading and idle time left out; --all keeps them)"}`,
    "",
    "By self time:",
    renderTable(columns, bySelf.map((f) => [pct(f.selfMs), pct(f.totalMs), f.name]), false),
    "",
    "By total time:",
    renderTable(columns, byTotal.map((f) => [pct(f.selfMs), pct(f.totalMs), f.name]), false),
  ].join("\n");
}
