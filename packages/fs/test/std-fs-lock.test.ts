// StdFs.tryLock against other processes: a child process that holds the lock keeps this one out, and
// once the child is killed with SIGKILL (no chance to release anything) the kernel has dropped the lock.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { StdFs } from "../src/index.ts";
import { ProcessLockRegistry } from "../src/std/std-lock.ts";
import { tempDirs } from "./helpers.ts";

const temp = tempDirs(afterEach);
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const sourceIndex = pathToFileURL(join(packageDir, "src", "index.ts")).href;
/** tsx as the workspace installed it, so the child runs the TypeScript sources like the tests do. */
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

/**
 * Starts `node` on an inline module that locks `path` through StdFs and reports on stdout: `ready` when
 * it holds the lock (then it waits to be killed), `refused` when someone else has it (then it exits).
 */
function lockInChild(path: string): { child: ChildProcess; answer: Promise<string> } {
  const script = [
    `import { StdFs } from ${JSON.stringify(sourceIndex)};`,
    `const lock = new StdFs().tryLock(${JSON.stringify(path)});`,
    `if (lock === undefined) { console.log("refused"); process.exit(0); }`,
    `console.log("ready");`,
    `setInterval(() => {}, 1000);`,
  ].join("\n");
  const child = spawn(process.execPath, ["--conditions", "talus-source", "--import", tsxLoader, "--input-type=module", "-e", script], {
    cwd: packageDir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const answer = new Promise<string>((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split("\n").find((l) => l === "ready" || l === "refused");
      if (line !== undefined) resolve(line);
    });
    child.stderr?.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code, signal) => reject(new Error(`child exited (${signal ?? code}) before answering: ${out}${err}`)));
  });
  return { child, answer };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

describe("StdFs.tryLock across processes", () => {
  it("takes operating-system locks where the addon has a prebuild", () => {
    if (["linux", "darwin", "win32"].includes(process.platform) && ["x64", "arm64"].includes(process.arch)) {
      expect(StdFs.lockScope()).toBe("system");
    } else {
      expect(["system", "process"]).toContain(StdFs.lockScope());
    }
  });

  it.skipIf(StdFs.lockScope() !== "system")("refuses a lock a child process holds until the child is killed with SIGKILL", async () => {
    const path = join(temp(), "LOCK");
    const { child, answer } = lockInChild(path);
    expect(await answer).toBe("ready");
    const fs = new StdFs();
    expect(fs.tryLock(path)).toBeUndefined();
    expect(fs.tryLock(path)).toBeUndefined();
    child.kill("SIGKILL");
    await exited(child);
    expect(child.signalCode).toBe("SIGKILL");
    const lock = fs.tryLock(path);
    expect(lock).toBeDefined();
    lock?.release();
  });

  it.skipIf(StdFs.lockScope() !== "system")("keeps a child process out while this process holds the lock, and lets it in after release", async () => {
    const path = join(temp(), "LOCK");
    const lock = new StdFs().tryLock(path);
    expect(lock).toBeDefined();
    expect(await lockInChild(path).answer).toBe("refused");
    lock?.release();
    const second = lockInChild(path);
    expect(await second.answer).toBe("ready");
    second.child.kill("SIGKILL");
    await exited(second.child);
  });
});

describe("StdFs.tryLock in one process", () => {
  it("refuses a second lock through another StdFs instance and another spelling of the path", () => {
    const dir = temp();
    const path = join(dir, "LOCK");
    const lock = new StdFs().tryLock(path);
    expect(lock).toBeDefined();
    expect(new StdFs().tryLock(path)).toBeUndefined();
    expect(new StdFs().tryLock(join(dir, ".", "LOCK"))).toBeUndefined();
    lock?.release();
    lock?.release();
    const again = new StdFs().tryLock(path);
    expect(again).toBeDefined();
    again?.release();
  });

  it("creates the file, never truncates it, and leaves it after release", () => {
    const dir = temp();
    const path = join(dir, "LOCK");
    writeFileSync(path, "keep me");
    const lock = new StdFs().tryLock(path);
    lock?.release();
    expect(readFileSync(path, "utf8")).toBe("keep me");
    const fresh = join(dir, "NEW");
    new StdFs().tryLock(fresh)?.release();
    expect(existsSync(fresh)).toBe(true);
  });
});

describe("the in-process fallback (platforms without the addon)", () => {
  it("refuses a second lock of one real path, under any name, until released", () => {
    const dir = temp();
    const registry = new ProcessLockRegistry();
    const lock = registry.take(join(dir, "LOCK"));
    expect(lock).toBeDefined();
    expect(existsSync(join(dir, "LOCK"))).toBe(true);
    expect(registry.take(join(dir, "LOCK"))).toBeUndefined();
    symlinkSync(join(dir, "LOCK"), join(dir, "alias"));
    expect(registry.take(join(dir, "alias"))).toBeUndefined();
    const other = registry.take(join(dir, "OTHER"));
    expect(other).toBeDefined();
    lock?.release();
    const again = registry.take(join(dir, "alias"));
    expect(again).toBeDefined();
    // A stale release of the first lock must not free the second holder.
    lock?.release();
    expect(registry.take(join(dir, "LOCK"))).toBeUndefined();
    again?.release();
    other?.release();
  });

  it("fails like open for a missing parent", () => {
    expect(() => new ProcessLockRegistry().take(join(temp(), "no", "LOCK"))).toThrow(expect.objectContaining({ code: "ENOENT" }));
  });
});
