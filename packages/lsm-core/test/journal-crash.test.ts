import { describe, expect, it } from "vitest";
import { CrashFs, PowerCutError, Random, type CrashOptions } from "@talus/testkit";
import { JournalWriter } from "../src/journal/journal-writer.ts";
import { appendModel, randomGroup, replayAll, summarize, type ModelGroup } from "./journal-support.ts";

const PATH = "/db/journal/5";

interface Run {
  /** Every group appended, in order. */
  readonly appended: ModelGroup[];
  /** How many of them a resolved persist() covered (the most over all resolutions). */
  persisted: number;
}

/**
 * Appends random groups to a journal on `fs`, persisting now and then (awaited, or several unawaited
 * persists in flight at once), until `stopAfter` groups or a power cut, then closes or abandons the
 * writer, or leaves it as it is for a crash in the middle of the work. A `PowerCutError` ends the run
 * quietly wherever it surfaces: an append that writes out, a persist, close.
 */
async function workload(fs: CrashFs, seed: number, stopAfter: number, finish: "close or abandon" | "leave open"): Promise<Run> {
  const rng = new Random(seed);
  const run: Run = { appended: [], persisted: 0 };
  const pending: Promise<void>[] = [];
  const persist = (): Promise<void> => {
    const covered = run.appended.length;
    return writer.persist().then(() => {
      run.persisted = Math.max(run.persisted, covered);
    });
  };
  const writer = JournalWriter.create(fs, PATH, 5);
  try {
    for (let i = 0; i < stopAfter; i++) {
      const group = randomGroup(rng, 100 + i, { bigValues: 0.01 });
      // Appended once the call returns without throwing: an append whose write-out hit the cut may
      // or may not have reached the file.
      run.appended.push(group);
      appendModel(writer, group, rng);
      const dice = rng.int(10);
      if (dice === 0) await persist();
      else if (dice === 1) pending.push(persist().catch(ignorePowerCut));
      else if (dice === 2) writer.writeOut();
      else if (dice === 3) await Promise.resolve();
    }
    if (finish === "leave open") return run;
    await Promise.all(pending);
    if (rng.chance(0.5)) await writer.close();
    else writer.abandon();
  } catch (error) {
    ignorePowerCut(error);
    await Promise.all(pending);
    writer.abandon();
  }
  return run;
}

function ignorePowerCut(error: unknown): void {
  if (!(error instanceof PowerCutError)) throw error;
}

/** The journal in `image` must hold a prefix of what was appended, at least every persisted group. */
function checkImage(image: CrashFs, run: Run, label: string): void {
  if (!image.exists(PATH)) {
    expect(run.persisted, `${label}: the journal's name was lost after a persist resolved`).toBe(0);
    return;
  }
  const { groups, result } = replayAll(image, PATH, 5);
  expect(groups.length, `${label}: persisted groups lost`).toBeGreaterThanOrEqual(run.persisted);
  expect(summarize(groups), `${label}: replay is not a prefix of what was appended`).toEqual(summarize(run.appended.slice(0, groups.length)));
  expect(result.bytesReplayed + result.tornBytes).toBe(image.metadata(PATH).len);
}

function freshVolume(): CrashFs {
  const fs = new CrashFs();
  fs.createDirAll("/db/journal");
  fs.syncDirectory("/db");
  fs.syncDirectory("/");
  return fs;
}

const LUCK: readonly CrashOptions[] = [
  {},
  { keepUnsyncedWrites: 0.5, tearLastWrite: true, seed: 1 },
  { keepUnsyncedWrites: 1, tearLastWrite: true, keepUnsyncedEntries: 1, seed: 2 },
  { keepUnsyncedWrites: 0.8, keepUnsyncedEntries: 0.5, seed: 3 },
];

describe("journal power cuts", () => {
  it("keeps every persisted group and invents none, with the power cut at every sync point", async () => {
    for (const seed of [1, 2]) {
      for (const [option, options] of LUCK.entries()) {
        for (let n = 0; ; n++) {
          const fs = freshVolume().cutPowerAtSync(n, options);
          const run = await workload(fs, seed, 120, "close or abandon");
          const image = fs.powerCutImage ?? fs.crash(options);
          checkImage(image, run, `seed ${seed}, options ${option}, cut at sync ${n}`);
          if (!fs.powerWasCut) {
            // The run finished: a clean close made everything durable, an abandon what was persisted.
            expect(n).toBeGreaterThan(1);
            break;
          }
        }
      }
    }
  });

  it("keeps every persisted group and invents none, with the power cut after random operations", async () => {
    for (let seed = 10; seed < 90; seed++) {
      const rng = new Random(seed);
      const options = rng.pick(LUCK);
      const fs = freshVolume();
      const run = await workload(fs, seed, rng.range(0, 150), "leave open");
      checkImage(fs.crash({ ...options, seed }), run, `seed ${seed}`);
    }
  });
});
