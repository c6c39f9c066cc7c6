// Power cuts at every sync point of the very first Tree.open of a fresh directory (which creates the
// directory, writes version file v0 and publishes it through `current`). Tree.open never resolved, so
// no write of the user's can be in the image: reopening must give an empty tree, every time, and a tree
// recovered that way must work like any other (writes, flush, clean close, reopen with the data).
// Interrupted creations are told apart from directories that may hold data, which stay refused: see
// the last describe block and the classifyTreeDir tests in version-persist.test.ts.
import { describe, expect, it } from "vitest";
import { MemFs, type Fs } from "@talus/fs";
import { CrashFs, PowerCutError, type CrashOptions } from "@talus/testkit";
import { checksum } from "../src/coding/checksum.ts";
import { readTreeKind, SequenceNumberCounter, Tree, type TreeOptions } from "../src/index.ts";
import { encodeVersionRecord, type VersionRecord } from "../src/version/version-record.ts";
import { entriesAt, expectLsmError, rootNames, tableFileIds, versionTableIds } from "./tree-test-support.ts";

const PATH = "/db";
const ROUTE = "/cold";

interface Config {
  readonly name: string;
  readonly options: Omit<TreeOptions, "path" | "fs" | "seqno">;
}

const CONFIGS: readonly Config[] = [
  { name: "standard", options: {} },
  { name: "journal: true", options: { journal: true } },
  { name: "journal sync none", options: { journal: { sync: "none" } } },
  // Creation also makes the route's tables folder: more sync points, and a second directory.
  { name: "level route", options: { levelRoutes: [{ levels: [1, 7], path: ROUTE }] } },
];

/** Only durable state; all pending entries; all pending entries and writes, the last one torn; and seeded luck in between. */
const CRASHES: readonly CrashOptions[] = [
  {},
  { keepUnsyncedEntries: 1 },
  { keepUnsyncedEntries: 1, keepUnsyncedWrites: 1, tearLastWrite: true },
  ...[1, 2, 3, 4].map((seed) => ({ seed, keepUnsyncedEntries: 0.6, keepUnsyncedWrites: 0.5, tearLastWrite: seed % 2 === 0 })),
];

function open(fs: Fs, config: Config, seqno = new SequenceNumberCounter()): Promise<Tree> {
  return Tree.open({ path: PATH, fs, seqno, ...config.options });
}

/** The root names a clean open tree has, given its config (a journaled tree adds `journal/`). */
function expectedRoot(tree: Tree, config: Config): string[] {
  const names = ["LOCK", "current", "tables", `v${tree.currentVersion().id}`];
  if (config.options.journal !== undefined) names.push("journal");
  return names.sort();
}

/** The image of a cut at sync `n` of a first open, or undefined when the open made fewer syncs. */
async function cutFirstOpen(n: number, config: Config, crash: CrashOptions): Promise<CrashFs | undefined> {
  const fs = new CrashFs().cutPowerAtSync(n, crash);
  let failure: unknown;
  try {
    const tree = await open(fs, config);
    await tree.close();
  } catch (error) {
    failure = error;
  }
  if (!fs.powerWasCut) {
    expect(failure, `run ${n} completed`).toBeUndefined();
    return undefined;
  }
  expect(failure, `cut at sync ${n}: the open rejects with the power cut`).toBeInstanceOf(PowerCutError);
  return fs.powerCutImage as CrashFs;
}

/** Reopens `image`: it must open as an empty, clean tree, then take writes that survive a close. */
async function expectRecovers(image: CrashFs, config: Config, context: string): Promise<void> {
  let tree: Tree;
  try {
    tree = await open(image, config);
  } catch (error) {
    const names = image.exists(PATH) ? rootNames(image, PATH).join(", ") : "(no directory)";
    throw new Error(`${context}: reopening failed (${String(error)}); root: ${names}`, { cause: error });
  }
  expect(entriesAt(tree), `${context}: empty`).toEqual([]);
  expect(tree.currentVersion().id, `${context}: a fresh version`).toBe(0);
  expect(rootNames(image, PATH), `${context}: nothing of the interrupted creation is left`).toEqual(expectedRoot(tree, config));
  tree.verify();
  await tree.close();

  // A tree recovered from an interrupted creation is a tree like any other.
  const seqno = new SequenceNumberCounter();
  tree = await open(image, config, seqno);
  for (let i = 0; i < 20; i++) tree.insert(`k${String(i).padStart(2, "0")}`, `v${i}`, seqno.next());
  await tree.flushActiveMemtable(0);
  tree.insert("late", "unflushed", seqno.next());
  await tree.close();
  tree = await open(image, config);
  const expected = [...Array.from({ length: 20 }, (_, i) => `k${String(i).padStart(2, "0")}=v${i}`), "late=unflushed"].sort();
  expect(entriesAt(tree), `${context}: the writes made after recovery`).toEqual(expected);
  expect(tableFileIds(image, PATH), `${context}: tables/`).toEqual(versionTableIds(tree));
  tree.verify();
  await tree.close();
}

describe("Tree: a power cut during the first open of a fresh directory", () => {
  for (const config of CONFIGS) {
    it(`reopens as an empty tree after a cut at every sync point (${config.name})`, async () => {
      let cuts = 0;
      // Images that showed the gap: a version file without `current`.
      let orphanVersion = 0;
      for (const crash of CRASHES) {
        for (let n = 0; ; n++) {
          const image = await cutFirstOpen(n, config, crash);
          if (image === undefined) break;
          cuts++;
          if (image.exists(`${PATH}/v0`) && !image.exists(`${PATH}/current`)) orphanVersion++;
          await expectRecovers(image, config, `${config.name}: cut at sync ${n}, options ${JSON.stringify(crash)}`);
        }
      }
      expect(cuts).toBeGreaterThanOrEqual(5 * CRASHES.length);
      expect(orphanVersion, "some cuts left v0 without current").toBeGreaterThan(0);
    });
  }

  it("recovers even when the power is cut again while the interrupted creation is being redone", async () => {
    const config = CONFIGS[1] as Config;
    let nested = 0;
    for (const crash of [{}, { keepUnsyncedEntries: 1, keepUnsyncedWrites: 1, tearLastWrite: true }] as const) {
      for (let n = 0; ; n++) {
        const first = await cutFirstOpen(n, config, crash);
        if (first === undefined) break;
        if (!first.exists(`${PATH}/v0`) || first.exists(`${PATH}/current`)) continue;
        for (let m = 0; ; m++) {
          const fs = first.crash().cutPowerAtSync(m, crash);
          try {
            await (await open(fs, config)).close();
          } catch (error) {
            if (!(error instanceof PowerCutError)) throw error;
          }
          if (!fs.powerWasCut) break;
          nested++;
          await expectRecovers(fs.powerCutImage as CrashFs, config, `cut at sync ${n}, then at sync ${m} of the reopen, options ${JSON.stringify(crash)}`);
        }
      }
    }
    expect(nested).toBeGreaterThan(5);
  });
});

// ---- what an interrupted creation is not --------------------------------------------------------

function writeRaw(fs: Fs, path: string, bytes: Uint8Array): void {
  const file = fs.open(path, { write: true, create: true, truncate: true });
  file.write(bytes);
  file.close();
}

function emptyRecord(overrides: Partial<VersionRecord> = {}): VersionRecord {
  return { id: 0, treeKind: "standard", comparatorName: "bytewise", levels: [[], [], [], [], [], [], []], blobFiles: [], ...overrides };
}

/** A directory as a cut first open leaves it: the lock file and an empty v0, no `current`. */
function interruptedCreation(fs: Fs): void {
  fs.createDirAll(PATH);
  writeRaw(fs, `${PATH}/LOCK`, new Uint8Array(0));
  writeRaw(fs, `${PATH}/v0`, encodeVersionRecord(emptyRecord()));
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );
}

describe("Tree.open: interrupted creation or possible data", () => {
  const config = CONFIGS[0] as Config;

  it("redoes an interrupted creation: v0 and leftover temp pointers are replaced, foreign files stay", async () => {
    const fs = new MemFs();
    interruptedCreation(fs);
    writeRaw(fs, `${PATH}/current.tmp-0`, Uint8Array.of(1, 2));
    writeRaw(fs, `${PATH}/notes.txt`, Uint8Array.of(1));
    expect(readTreeKind(fs, PATH), "no tree is there yet").toBeUndefined();
    const tree = await open(fs, config);
    expect(rootNames(fs, PATH)).toEqual(["LOCK", "current", "notes.txt", "tables", "v0"]);
    await tree.close();
    expect(readTreeKind(fs, PATH)).toBe("standard");
  });

  it("redoes a creation whose v0 is torn, or was of another kind or comparator (it never opened)", async () => {
    const whole = encodeVersionRecord(emptyRecord({ treeKind: "blob", comparatorName: "reverse" }));
    for (const bytes of [new Uint8Array(0), whole.subarray(0, 11), whole, new Uint8Array(whole.length)]) {
      const fs = new MemFs();
      interruptedCreation(fs);
      writeRaw(fs, `${PATH}/v0`, bytes);
      const tree = await open(fs, config);
      expect(tree.currentVersion().treeKind).toBe("standard");
      await tree.close();
    }
  });

  it("refuses a read-only open of an interrupted creation and changes nothing", async () => {
    const fs = new MemFs();
    interruptedCreation(fs);
    const error = await rejection(Tree.open({ path: PATH, fs, readOnly: true }));
    expectLsmError(error, ["INVALID_DATA"], PATH);
    expect(rootNames(fs, PATH)).toEqual(["LOCK", "v0"]);
  });

  const refused: ReadonlyArray<readonly [string, (fs: Fs) => void]> = [
    ["tables/ (a tree or a checkpoint whose current is missing)", (fs) => fs.createDir(`${PATH}/tables`)],
    ["blobs/", (fs) => fs.createDir(`${PATH}/blobs`)],
    ["journal/ (writes may be in it)", (fs) => fs.createDir(`${PATH}/journal`)],
    ["a version listing tables", (fs) => writeRaw(fs, `${PATH}/v0`, encodeVersionRecord(emptyRecord({ levels: [[[{ id: 4, globalSeqno: 0, fileSize: 100, fileChecksum: 1 }]], [], [], [], [], [], []] })))],
    ["a version listing blob files", (fs) => writeRaw(fs, `${PATH}/v0`, encodeVersionRecord(emptyRecord({ treeKind: "blob", blobFiles: [{ id: 2, fileSize: 100, fileChecksum: 1 }] })))],
    ["a version recording a journal floor", (fs) => writeRaw(fs, `${PATH}/v0`, encodeVersionRecord(emptyRecord({ journalFloor: 3 })))],
    ["a version other than v0 (creation writes only v0)", (fs) => writeRaw(fs, `${PATH}/v1`, encodeVersionRecord(emptyRecord({ id: 1 })))],
    ["v0 holding another id", (fs) => writeRaw(fs, `${PATH}/v0`, encodeVersionRecord(emptyRecord({ id: 5 })))],
    ["v0 of a format this build does not read", (fs) => {
      const bytes = encodeVersionRecord(emptyRecord());
      bytes[4] = 9;
      writeRaw(fs, `${PATH}/v0`, reseal(bytes));
    }],
    ["a v0 too large to be an empty version", (fs) => writeRaw(fs, `${PATH}/v0`, new Uint8Array(64 * 1024))],
    ["a table file in a level route's folder", (fs) => {
      fs.createDirAll(`${ROUTE}/tables`);
      writeRaw(fs, `${ROUTE}/tables/7`, Uint8Array.of(1));
    }],
  ];

  for (const [name, damage] of refused) {
    it(`refuses, and leaves as it is, a directory without current that has ${name}`, async () => {
      const fs = new MemFs();
      interruptedCreation(fs);
      damage(fs);
      const before = rootNames(fs, PATH);
      const routed = { ...config, options: { levelRoutes: [{ levels: [1, 7] as const, path: ROUTE }] } } satisfies Config;
      for (let attempt = 0; attempt < 2; attempt++) {
        expectLsmError(await rejection(open(fs, routed)), ["INVALID_DATA"], "current", name);
      }
      expect(rootNames(fs, PATH)).toEqual(before);
      expect(fs.exists(`${PATH}/current`)).toBe(false);
    });
  }

  it("keeps the data of a tree whose current was lost: refused, never recreated over its tables", async () => {
    const fs = new MemFs();
    const seqno = new SequenceNumberCounter();
    const tree = await open(fs, config, seqno);
    tree.insert("a", "1", seqno.next());
    await tree.flushActiveMemtable(0);
    await tree.close();
    fs.removeFile(`${PATH}/current`);
    // Even with only v0 and tables/ (the shape a creation also has, minus current), tables mean data.
    expect(rootNames(fs, PATH).filter((name) => name.startsWith("v"))).toEqual(["v1"]);
    expectLsmError(await rejection(open(fs, config)), ["INVALID_DATA"], "current");
    expect(tableFileIds(fs, PATH)).toHaveLength(1);
  });
});

/** Recomputes the trailing CRC-32 of a version file after a test changed a byte of it. */
function reseal(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(bytes.length - 4, checksum(bytes.subarray(0, bytes.length - 4)), true);
  return bytes;
}
