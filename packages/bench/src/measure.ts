/**
 * What the operating system says about a process and a directory: bytes on disk, bytes written, peak
 * memory, the machine.
 *
 * @module
 */
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { cpus, loadavg, platform, release, totalmem } from "node:os";
import { join } from "node:path";
import type { Machine } from "./results.ts";

/** Bytes allocated on disk under `dir` (what `du` reports: sparse files count what they use). */
export function diskUsage(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += diskUsage(path);
    else {
      const st = lstatSync(path);
      total += Math.min(st.size, st.blocks * 512) || st.size;
    }
  }
  return total;
}

/** Bytes this process handed to write-type system calls so far (Linux); undefined elsewhere. */
export function bytesWrittenByProcess(): number | undefined {
  try {
    const match = /^wchar:\s*(\d+)$/m.exec(readFileSync("/proc/self/io", "utf8"));
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

export function machine(): Machine {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? "unknown",
    cores: list.length,
    memoryBytes: totalmem(),
    platform: `${platform()} ${release()}`,
    node: process.version,
    loadAverage: loadavg()[0] ?? 0,
  };
}
