import { readdirSync, readFileSync, statSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { StdFs } from "@talus/fs";
import { SEQNO_MAX, SequenceNumberCounter, Tree } from "@talus/lsm-core";
import { useTempDirs } from "@talus/testkit";
import { BlobTree } from "@talus/vlog";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../src/index.ts";

const dirs = useTempDirs(afterEach);

interface Run {
  readonly code: number;
  readonly out: string[];
  readonly err: string[];
}

async function talus(...argv: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out, err };
}

const key = (i: number): string => `key${String(i).padStart(5, "0")}`;

/** A tree with tables in L0, a journal holding writes no table has, and an orphan table a writable open would remove. */
async function makeTree(): Promise<string> {
  const path = dirs.make("cli");
  const seqno = new SequenceNumberCounter();
  const tree = await Tree.open({ path, seqno, journal: true });
  for (let i = 0; i < 500; i++) tree.insert(key(i), `value ${i}`, seqno.next());
  await tree.flushActiveMemtable(0);
  for (let i = 500; i < 600; i++) tree.insert(key(i), `value ${i}`, seqno.next());
  await tree.flushActiveMemtable(0);
  tree.insert("journal-only", "from the journal", seqno.next());
  tree.insert(new Uint8Array([0xff, 0x00]), new Uint8Array([1, 2, 3]), seqno.next());
  await tree.close({ discard: true });
  writeFileSync(join(path, "tables", "999999"), "an orphan");
  return path;
}

/** Every file under `dir` with its bytes (LOCK aside: taking the lock may create it). */
function contents(dir: string, out = new Map<string, string>()): Map<string, string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) contents(path, out);
    else if (name !== "LOCK") out.set(path, readFileSync(path).toString("base64"));
  }
  return out;
}

describe("talus info / scan / get / verify (read-only)", () => {
  it("info describes the tree, in text and JSON", async () => {
    const path = await makeTree();
    const text = await talus("info", path);
    expect(text.code).toBe(0);
    expect(text.out.join("\n")).toContain("(standard)");
    expect(text.out.join("\n")).toMatch(/L0\s+2 tables\s+\d+ runs/);
    expect(text.out.join("\n")).toContain("2 entries not yet in tables");
    const json = await talus("--json", "info", path);
    const info = JSON.parse(json.out.join("")) as { kind: string; tables: number; levels: { tables: number }[]; unflushedEntries: number; journalFiles: number; highestSeqno: number };
    expect(info.kind).toBe("standard");
    expect(info.tables).toBe(2);
    expect(info.levels[0]?.tables).toBe(2);
    expect(info.unflushedEntries).toBe(2);
    expect(info.journalFiles).toBeGreaterThan(0);
    expect(info.highestSeqno).toBeGreaterThanOrEqual(601);
  });

  it("scan prints ranges and prefixes in every format; get prints one value", async () => {
    const path = await makeTree();
    const prefix = await talus("scan", path, "--prefix", "key0001", "--limit", "3");
    expect(prefix.out).toEqual(["key00010\tvalue 10", "key00011\tvalue 11", "key00012\tvalue 12"]);
    const range = await talus("scan", path, "--gte", "key00598", "--lt", "key99", "--reverse");
    expect(range.out).toEqual(["key00599\tvalue 599", "key00598\tvalue 598"]);
    const hex = await talus("scan", path, "--gte", "ff", "--key-encoding", "hex", "--format", "hex");
    expect(hex.out).toEqual(["ff00\t010203"]);
    const json = await talus("--json", "scan", path, "--prefix", "journal");
    expect(json.out.map((l) => JSON.parse(l))).toEqual([{ key: "journal-only", value: "from the journal" }]);
    expect((await talus("get", path, "key00042")).out).toEqual(["value 42"]);
    const missing = await talus("get", path, "nope");
    expect(missing.code).toBe(1);
    expect(missing.err.join("")).toContain("not found");
    expect(JSON.parse((await talus("--json", "get", path, "ff00", "--key-encoding", "hex", "--format", "hex")).out.join(""))).toEqual({ key: "ff00", found: true, value: "010203" });
  });

  it("verify passes a sound tree and names a damaged table with exit code 1", async () => {
    const path = await makeTree();
    const ok = await talus("verify", path);
    expect(ok.code).toBe(0);
    expect(ok.out.join("")).toContain("2 tables");
    // Flip a byte inside the first data block of one table (past its 12-byte header).
    const tables = readdirSync(join(path, "tables")).filter((n) => n !== "999999");
    const victim = join(path, "tables", tables[0] as string);
    const bytes = readFileSync(victim);
    bytes[40] = (bytes[40] as number) ^ 0x55;
    writeFileSync(victim, bytes);
    const bad = await talus("verify", path);
    expect(bad.code).toBe(1);
    expect(bad.err.join("\n")).toContain(victim);
    const json = JSON.parse((await talus("--json", "verify", path)).out.join("")) as { broken: { file: string; code: string }[] };
    expect(json.broken.map((b) => b.file)).toEqual([victim]);
    expect(json.broken[0]?.code).toBe("CORRUPTION");
  });

  it("reading commands change nothing in the directory (journal and orphans stay)", async () => {
    const path = await makeTree();
    const before = contents(path);
    for (const argv of [["info", path], ["verify", path], ["scan", path], ["get", path, "key00001"], ["--json", "info", path]]) {
      expect((await talus(...argv)).code, argv.join(" ")).toBe(0);
    }
    expect(contents(path)).toEqual(before);
  });

  it("info and verify know blob trees", async () => {
    const path = dirs.make("cli-blob");
    const seqno = new SequenceNumberCounter();
    const tree = await BlobTree.open({ path, seqno, kvSeparation: { separationThreshold: 100 } });
    for (let i = 0; i < 50; i++) tree.insert(key(i), "x".repeat(500), seqno.next());
    await tree.close();
    const info = JSON.parse((await talus("--json", "info", path)).out.join("")) as { kind: string; blobFiles: number };
    expect(info.kind).toBe("blob");
    expect(info.blobFiles).toBeGreaterThan(0);
    const verified = JSON.parse((await talus("--json", "verify", path)).out.join("")) as { blobFiles: number; broken: unknown[] };
    expect(verified.blobFiles).toBe(info.blobFiles);
    expect(verified.broken).toEqual([]);
    expect((await talus("get", path, key(7))).out).toEqual(["x".repeat(500)]);
  });
});

describe("talus compact / checkpoint", () => {
  it("compact moves everything, journal included, into the last level", async () => {
    const path = await makeTree();
    const result = await talus("--json", "compact", path);
    expect(result.code).toBe(0);
    const tree = await Tree.open({ path, readOnly: true });
    expect(tree.levelTableCount(0)).toBe(0);
    expect(tree.levelTableCount(6)).toBeGreaterThan(0);
    expect(new TextDecoder().decode(tree.get("journal-only", SEQNO_MAX))).toBe("from the journal");
    expect(tree.len(SEQNO_MAX)).toBe(602);
    await tree.close();
    expect(existsSync(join(path, "tables", "999999"))).toBe(false);
  });

  it("checkpoint writes a tree that opens on its own; an existing target is refused", async () => {
    const path = await makeTree();
    const target = join(dirs.make("cli-target"), "copy");
    const result = await talus("checkpoint", path, target);
    expect(result.code).toBe(0);
    const copy = await Tree.open({ path: target, readOnly: true });
    expect(copy.len(SEQNO_MAX)).toBe(602);
    await copy.close();
    expect((await talus("checkpoint", path, target)).code).toBe(1);
  });
});

describe("talus refuses", () => {
  it("a tree open elsewhere (LOCKED), changing nothing", async () => {
    const path = await makeTree();
    const open = await Tree.open({ path, fs: new StdFs() });
    const before = contents(path);
    for (const argv of [["info", path], ["verify", path], ["scan", path], ["compact", path]]) {
      const run = await talus(...argv);
      expect(run.code, argv.join(" ")).toBe(1);
      expect(run.err.join(""), argv.join(" ")).toContain("LOCKED");
    }
    expect(contents(path)).toEqual(before);
    await open.close();
  });

  it("a directory without a tree, creating nothing", async () => {
    const missing = join(dirs.make("cli-none"), "absent");
    const run = await talus("info", missing);
    expect(run.code).toBe(1);
    expect(run.err.join("")).toContain("no Talus tree");
    expect(existsSync(missing)).toBe(false);
  });

  it("usage mistakes with exit code 2; --help with 0", async () => {
    expect((await talus("--help")).code).toBe(0);
    expect((await talus("scan")).code).toBe(2);
    expect((await talus("frobnicate", "/x")).code).toBe(2);
    const path = await makeTree();
    expect((await talus("scan", path, "--prefix", "a", "--gte", "b")).code).toBe(2);
    expect((await talus("scan", path, "--limit", "-1")).code).toBe(2);
    expect((await talus("get", path, "zz", "--key-encoding", "hex")).code).toBe(2);
    expect((await talus("scan", path, "--format", "xml")).code).toBe(2);
  });
});
