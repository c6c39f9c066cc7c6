// The child process of tree-lock.test.ts: `node --conditions talus-source --import tsx tree-lock-child.ts
// <path> <count>` opens the tree at <path> on the real disk, writes <count> keys and flushes them, writes
// one more key it never flushes, prints "ready" and waits to be killed. When the open fails it prints
// "error <code>" and exits.
import { SequenceNumberCounter, Tree } from "../src/index.ts";

const [path, countArg] = process.argv.slice(2);
if (path === undefined || countArg === undefined) throw new Error("usage: tree-lock-child.ts <path> <count>");
const seqno = new SequenceNumberCounter();
let tree: Tree;
try {
  tree = await Tree.open({ path, seqno });
} catch (error) {
  console.log(`error ${String((error as { code?: unknown }).code)}`);
  process.exit(0);
}
for (let i = 0; i < Number(countArg); i++) tree.insert(`key${String(i).padStart(5, "0")}`, `value${i}`, seqno.next());
await tree.flushActiveMemtable(0);
tree.insert("unflushed", "lost with the process", seqno.next());
console.log("ready");
setInterval(() => {}, 60_000);
