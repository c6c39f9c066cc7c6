// One writer per directory: Tree.open locks `<path>/LOCK` (and `<route>/LOCK` of every level route)
// before it reads or cleans anything, refuses a directory open elsewhere with LOCKED, and close()
// releases the locks. Across processes on the real disk the lock is the kernel's, so a holder killed
// with SIGKILL leaves the directory openable at once.
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { MemFs, StdFs, type Fs } from "@talus/fs";
import { FaultFs, useTempDirs } from "@talus/testkit";
import { LsmError, SEQNO_MAX, SequenceNumberCounter, Tree, type TreeOptions } from "../src/index.ts";
import { LOCK_FILE_NAME } from "../src/tree/dir-lock.ts";
import { dec } from "./helpers.ts";
import { isLsmError, k, tableFiles } from "./tree-support.ts";
import { rejectionOf } from "./tree-test-support.ts";

const dirs = useTempDirs(afterEach);
const std = new StdFs();

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

/** Every file and directory below `dir` with its size: what "nothing changed on disk" compares. */
function snapshot(fs: Fs, dir: string): string[] {
  const out: string[] = [];
  const walk = (path: string): void => {
    for (const entry of fs.readDir(path)) {
      if (entry.isDir) {
        out.push(`${entry.path}/`);
        walk(entry.path);
      } else {
        out.push(`${entry.path} ${fs.metadata(entry.path).len}`);
      }
    }
  };
  walk(dir);
  return out.sort();
}

function plant(fs: Fs, path: string, contents = "planted"): void {
  const file = fs.open(path, { write: true, createNew: true });
  file.write(new TextEncoder().encode(contents));
  file.close();
}

/** Opens a tree, writes `count` keys and flushes them. */
async function filled(options: TreeOptions, count: number): Promise<Tree> {
  const seqno = options.seqno ?? new SequenceNumberCounter();
  const tree = await Tree.open({ ...options, seqno });
  for (let i = 0; i < count; i++) tree.insert(k(i), `v${i}`, seqno.next());
  await tree.flushActiveMemtable(0);
  return tree;
}

async function expectLocked(options: TreeOptions, dir: string): Promise<LsmError> {
  const error = await rejectionOf(Tree.open(options), `open of ${options.path}`);
  expect(error).toSatisfy(isLsmError("LOCKED"));
  expect((error as LsmError).message).toContain(dir);
  return error as LsmError;
}

describe("Tree.open locks the tree directory", () => {
  it("refuses a second open in the same process with LOCKED and changes nothing on disk", async () => {
    const path = join(dirs.make("lock"), "db");
    const first = await filled({ path }, 50);
    // Leftovers a (wrongly) admitted second open would read and clean: an orphan table, a temp pointer.
    plant(std, join(path, "tables", "987654"));
    plant(std, join(path, "current.tmp-5"));
    const before = snapshot(std, path);
    expect(before).toContain(`${join(path, LOCK_FILE_NAME)} 0`);

    await expectLocked({ path }, path);
    await expectLocked({ path, fs: new StdFs() }, path);
    expect(snapshot(std, path)).toEqual(before);
    expect(first.get(k(7), SEQNO_MAX)).toBeDefined();

    await first.close();
    expect(snapshot(std, path)).toEqual(before);
    const second = await Tree.open({ path });
    expect(tableFiles(std, join(path, "tables"))).not.toContain("987654");
    expect(std.exists(join(path, "current.tmp-5"))).toBe(false);
    expect(std.exists(join(path, LOCK_FILE_NAME))).toBe(true);
    expect(second.len(SEQNO_MAX)).toBe(50);
    await second.close();
  });

  it("opens again after close, and close releases the lock only once it is done", async () => {
    const path = join(dirs.make("lock"), "db");
    for (let round = 0; round < 3; round++) {
      const tree = await filled({ path }, 10);
      expect(tree.len(SEQNO_MAX)).toBe(10);
      const closing = tree.close();
      await expectLocked({ path }, path);
      await closing;
    }
    const tree = await Tree.open({ path });
    expect(tree.len(SEQNO_MAX)).toBe(10);
    await tree.close();
    await tree.close();
  });

  it("creates a missing directory to lock it, and the LOCK file does not stop a new tree from being created", async () => {
    const fs = new MemFs();
    const tree = await Tree.open({ path: "/a/b/db", fs });
    expect(fs.readDir("/a/b/db").map((e) => e.fileName).sort()).toEqual(["LOCK", "current", "tables", "v0"]);
    await tree.close();
    // A directory holding only a LOCK (a tree creation that failed after locking) is still "empty".
    fs.createDirAll("/other");
    plant(fs, "/other/LOCK", "");
    const created = await Tree.open({ path: "/other", fs });
    expect(created.isEmpty(SEQNO_MAX)).toBe(true);
    await created.close();
  });

  it("releases the locks when open fails after taking them", async () => {
    const fs = new MemFs();
    await (await filled({ path: "/db", fs }, 5)).close();
    const wrong = await rejectionOf(Tree.open({ path: "/db", fs, comparator: { name: "other", compare: (a, b) => Buffer.compare(a, b) } }));
    expect(wrong).toSatisfy(isLsmError("COMPARATOR_MISMATCH"));
    // An I/O error while locking is reported as it is, and leaves nothing held either.
    const faulty = new FaultFs(fs, [{ ops: "tryLock", error: "EIO" }]);
    expect(await rejectionOf(Tree.open({ path: "/db", fs: faulty }))).toMatchObject({ code: "EIO", injected: true });
    const tree = await Tree.open({ path: "/db", fs });
    expect(tree.len(SEQNO_MAX)).toBe(5);
    await tree.close();
  });
});

describe("level-route directories are locked too", () => {
  it("refuses a route directory another open tree routes to, and releases the tree directory it had locked", async () => {
    const base = dirs.make("lock-routes");
    const shared = join(base, "shared");
    const a = await filled({ path: join(base, "a"), levelRoutes: [{ levels: [0, 2], path: shared }] }, 20);
    const before = snapshot(std, base);

    const error = await expectLocked({ path: join(base, "b"), levelRoutes: [{ levels: [0, 2], path: shared, fs: new StdFs() }] }, shared);
    expect(error.message).toContain("level route");
    // The route directory is not a tree directory either while it is locked, nor is A's own directory.
    await expectLocked({ path: shared }, shared);
    await expectLocked({ path: join(base, "c"), levelRoutes: [{ levels: [3, 7], path: join(base, "a") }] }, join(base, "a"));
    // B's own LOCK was taken before the refusal and has been released: B opens without the shared route.
    const b = await Tree.open({ path: join(base, "b") });
    await b.close();
    expect(snapshot(std, base).filter((line) => !line.includes(`${join(base, "b")}`) && !line.includes(`${join(base, "c")}`))).toEqual(before);

    await a.close();
    const reopened = await Tree.open({ path: join(base, "b2"), levelRoutes: [{ levels: [0, 2], path: shared }] });
    await reopened.close();
  });

  it("locks a route that names the tree's own directory, or one route directory twice, once", async () => {
    const fs = new MemFs();
    const own = await Tree.open({ path: "/db", fs, levelRoutes: [{ levels: [0, 2], path: "/db" }] });
    await own.close();
    const twice = await Tree.open({
      path: "/db",
      fs,
      levelRoutes: [
        { levels: [0, 2], path: "/tier" },
        { levels: [2, 4], path: "/tier/" },
        { levels: [4, 7], path: "/tier", fs: new FaultFs(fs) },
      ],
    });
    expect(fs.exists("/tier/LOCK")).toBe(true);
    await twice.close();
  });
});

describe("MemFs volumes", () => {
  it("refuse two trees at one path on one volume, also through a wrapper, and allow them on two volumes", async () => {
    const volume = new MemFs();
    const first = await filled({ path: "/db", fs: volume }, 10);
    await expectLocked({ path: "/db", fs: volume }, "/db");
    await expectLocked({ path: "/db", fs: new FaultFs(volume) }, "/db");
    const other = await filled({ path: "/db", fs: new MemFs() }, 3);
    expect(other.len(SEQNO_MAX)).toBe(3);
    expect(first.len(SEQNO_MAX)).toBe(10);
    await other.close();
    await first.close();
    const again = await Tree.open({ path: "/db", fs: volume });
    expect(again.len(SEQNO_MAX)).toBe(10);
    await again.close();
  });
});

describe("another process", () => {
  const packageDir = fileURLToPath(new URL("..", import.meta.url));
  const childScript = fileURLToPath(new URL("./tree-lock-child.ts", import.meta.url));
  /** tsx as the workspace installed it, so the child runs the TypeScript sources like the tests do. */
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

  /** Starts the child on `path`; resolves to its first line ("ready", or "error <code>"). */
  function openInChild(path: string, count: number): { child: ChildProcess; answer: Promise<string> } {
    const child = spawn(process.execPath, ["--conditions", "talus-source", "--import", tsxLoader, childScript, path, String(count)], {
      cwd: packageDir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    const answer = new Promise<string>((resolve, reject) => {
      let out = "";
      let err = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split("\n").find((l) => l === "ready" || l.startsWith("error "));
        if (line !== undefined) resolve(line);
      });
      child.stderr?.on("data", (chunk: Buffer) => (err += chunk.toString()));
      child.on("error", reject);
      child.on("exit", (code, signal) => reject(new Error(`the child exited (${signal ?? code}) before answering: ${out}${err}`)));
    });
    return { child, answer };
  }

  const exited = (child: ChildProcess): Promise<void> =>
    child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once("exit", () => resolve()));

  it.skipIf(StdFs.lockScope() !== "system")(
    "a tree open in a child keeps the parent out until the child is killed with SIGKILL; then the parent sees all it flushed",
    async () => {
      const path = join(dirs.make("lock-child"), "db");
      const { child, answer } = openInChild(path, 300);
      expect(await answer).toBe("ready");
      await expectLocked({ path }, path);
      child.kill("SIGKILL");
      await exited(child);
      expect(child.signalCode).toBe("SIGKILL");

      const tree = await Tree.open({ path });
      expect(tree.len(SEQNO_MAX)).toBe(300);
      expect(dec(tree.get(k(299), SEQNO_MAX))).toBe("value299");
      expect(tree.get("unflushed", SEQNO_MAX)).toBeUndefined();
      tree.verify();
      await tree.close();
    },
  );

  it.skipIf(StdFs.lockScope() !== "system")("a tree open in this process keeps a child out", async () => {
    const path = join(dirs.make("lock-child"), "db");
    const tree = await filled({ path }, 10);
    const refused = openInChild(path, 1);
    expect(await refused.answer).toBe("error LOCKED");
    await exited(refused.child);
    await tree.close();
    const admitted = openInChild(path, 1);
    expect(await admitted.answer).toBe("ready");
    admitted.child.kill("SIGKILL");
    await exited(admitted.child);
  });
});
