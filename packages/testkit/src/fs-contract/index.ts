/**
 * The Fs contract suite: one set of cases that every `Fs` backend of Talus runs, so that code written
 * and tested against one backend behaves the same on the others.
 *
 * What a backend that passes guarantees: the errno `code` of every documented failure (the ones
 * Linux gives, since `StdFs` is the reference), `open`'s flag validation, the per-handle write
 * cursor and append mode, fill-or-EOF reads (also through `readMany`), access-mode enforcement,
 * `setLen` zero-filling, `EBADF` after `close`, POSIX rename and unlink semantics (atomic replace,
 * open handles outliving their names), hard links sharing contents, a stable `backendId`, exclusive
 * `tryLock` within one process (refused until released, idempotent release, the file created and never
 * truncated), and
 * correctness with multi-MiB files, hundreds of open handles and unusual file names. It does not
 * test durability (syncs only have to succeed); power loss is `CrashFs`'s business. The optional async
 * syncs (`FsFile.syncAsync`, `Fs.syncDirectoryAsync`) are held to the same rules where offered, with
 * errors as rejections.
 *
 * Every case calls the factory itself and cleans up in `finally`, so cases are independent and may
 * run in any order. The suite depends on no test runner: pass the runner's `describe` and `it`.
 *
 * @example
 * ```ts
 * // packages/<your-backend>/test/fs-contract.test.ts
 * import { describe, it } from "vitest";
 * import { fsContract } from "@talus/testkit";
 * import { MyFs } from "../src/my-fs.ts";
 *
 * fsContract({ describe, it }, "MyFs", () => {
 *   const fs = new MyFs();
 *   fs.createDirAll("/contract");
 *   return { fs, root: "/contract", cleanup: () => fs.dispose(), capabilities: { createDir: true } };
 * });
 * ```
 *
 * @module
 */
import { defineBatchAndEdgeCases } from "./batch-and-edge.ts";
import { defineDirectoryCases } from "./directories.ts";
import { defineEntryCases } from "./entries.ts";
import { defineFileCases } from "./files.ts";
import { makeSuite, type ContractTestApi, type FsUnderTest } from "./harness.ts";
import { defineLinkCases } from "./links.ts";
import { defineLockCases } from "./locks.ts";

export type { ContractTestApi, FsCapabilities, FsUnderTest } from "./harness.ts";

/**
 * Registers the whole contract as one `describe` block named after the backend.
 *
 * @param api - the test runner's `describe` and `it`.
 * @param name - how the backend appears in test names.
 * @param factory - called once per case: a fresh backend and an empty directory in it.
 */
export function fsContract(api: ContractTestApi, name: string, factory: () => FsUnderTest): void {
  api.describe(`Fs contract: ${name}`, () => {
    const suite = makeSuite(api, factory);
    defineFileCases(suite);
    defineDirectoryCases(suite);
    defineEntryCases(suite);
    defineLinkCases(suite);
    defineLockCases(suite);
    defineBatchAndEdgeCases(suite);
  });
}
