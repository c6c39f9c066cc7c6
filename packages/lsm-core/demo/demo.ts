/**
 * The Talus demo: `pnpm demo [directory] [--keys N]`.
 *
 * Opens a tree (in a fresh temp directory unless one is given) that runs itself: a journal makes writes
 * durable on `persist()`, automatic maintenance flushes and compacts in the background, and the write
 * loop only honours `writeStall`. Writes keys with a progress bar, reads everything back, closes,
 * reopens, verifies every key again, and prints what the tree looks like on disk.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Leveled, SequenceNumberCounter, Tree } from "@talus/lsm-core";

const args = process.argv.slice(2);
const keysFlag = args.indexOf("--keys");
const total = keysFlag >= 0 ? Number(args[keysFlag + 1]) : 300_000;
const given = args.find((a, i) => !a.startsWith("--") && args[i - 1] !== "--keys");
if (!Number.isInteger(total) || total <= 0) throw new Error(`--keys needs a positive integer, got ${args[keysFlag + 1]}`);
const path = given ?? mkdtempSync(join(tmpdir(), "talus-demo-"));
const isTty = process.stdout.isTTY === true;

const key = (i: number): string => `user:${String(i).padStart(9, "0")}`;
const value = (i: number): string => `{"id":${i},"name":"user ${i}","score":${(i * 7919) % 1000}}`;

function progress(label: string, done: number, of: number, started: number): void {
  const width = 30;
  const filled = Math.round((done / of) * width);
  const rate = done / Math.max((performance.now() - started) / 1000, 1e-9);
  const line = `${label.padEnd(8)} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(done).padStart(String(of).length)}/${of}  ${Math.round(rate).toLocaleString("en-US")} ops/s`;
  if (isTty) process.stdout.write(`\r${line}`);
  else if (done === of || done % Math.ceil(of / 4) === 0) console.log(line);
  if (isTty && done === of) process.stdout.write("\n");
}

function summary(tree: Tree): string {
  const levels = Array.from({ length: 7 }, (_, l) => tree.levelTableCount(l) ?? 0);
  return `tables per level L0..L6: ${levels.join(" ")}  (${tree.tableCount()} tables, ${(tree.diskSpace() / 1048576).toFixed(1)} MiB on disk)`;
}

const seqno = new SequenceNumberCounter();
console.log(`Talus demo: ${total.toLocaleString("en-US")} keys in ${path}`);
// A journal (durable writes on persist()) and automatic maintenance (flushes every 4 MiB of memtable,
// compacts with Leveled in the background): the write loop needs no flush or compaction of its own.
const options = {
  path,
  seqno,
  journal: true,
  maintenance: { memtableBytes: 4 * 1024 * 1024, strategy: new Leveled({ tableTargetSize: 4 * 1024 * 1024 }) },
} as const;
let tree = await Tree.open(options);

let started = performance.now();
for (let i = 0; i < total; i++) {
  tree.insert(key(i), value(i), seqno.next());
  // Backpressure, as with a stream's write()/'drain': wait when flushes or L0 fall behind.
  if (tree.writeStall) await tree.drained();
  if ((i + 1) % 5000 === 0 || i + 1 === total) progress("write", i + 1, total, started);
}
await tree.persist(); // every write is durable (in the journal) from here on
const persistedSeconds = (performance.now() - started) / 1000;
await tree.settle(); // and every flush and compaction is done
const writeSeconds = (performance.now() - started) / 1000;
console.log(summary(tree));

function verify(label: string): number {
  const t0 = performance.now();
  const decoder = new TextDecoder();
  for (let i = 0; i < total; i++) {
    const got = tree.get(key(i), seqno.get());
    if (got === undefined || decoder.decode(got) !== value(i)) throw new Error(`${label}: key ${key(i)} read back wrong`);
    if ((i + 1) % 5000 === 0 || i + 1 === total) progress(label, i + 1, total, t0);
  }
  let scanned = 0;
  for (const _ of tree.iter(seqno.get())) scanned++;
  if (scanned !== total) throw new Error(`${label}: a full scan found ${scanned} keys, expected ${total}`);
  return (performance.now() - t0) / 1000;
}

const readSeconds = verify("read");
await tree.close();
started = performance.now();
tree = await Tree.open(options);
const reopenMs = performance.now() - started;
const verifySeconds = verify("verify");
tree.verify();
console.log(summary(tree));
await tree.close();

const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");
console.log(`writes:  ${fmt(total / persistedSeconds)} keys/s durable in the journal, ${fmt(total / writeSeconds)} keys/s with every flush and compaction done`);
console.log(`reads:   ${fmt(total / readSeconds)} keys/s (point gets plus a full scan), after reopen ${fmt(total / verifySeconds)} keys/s`);
console.log(`reopen:  ${reopenMs.toFixed(1)} ms; every key verified and every table's checksums checked`);
if (given === undefined) {
  rmSync(path, { recursive: true, force: true });
  console.log("(temp directory removed; pass a directory to keep the tree)");
}
