// The tree model test's compaction filter (tree-model.test.ts, configurations with `filter`). Its verdict
// depends on a value's first two bytes only ("X" and a verdict letter: "doomed" values, which the
// generator writes now and then), and it records everything it is asked: the model checks each item
// against the oracle (the filter must see exactly the values and operands the tree holds, never a
// tombstone, and only in merge compactions), checks that a major compaction showed it every version it
// must have, and then tells the oracle which versions changed (MvccOracle.filterAt) at the seqno the
// compaction installed at. Reads at every seqno are then compared as for any other operation: below
// that seqno the tree must still answer from before the compaction, above it with the verdicts applied.
import type { MvccOracle, OracleFilterVerdict, OracleVersion } from "@talus/testkit";
import { SEQNO_MAX, type CompactionFilter, type CompactionFilterItem, type CompactionVerdict } from "../src/index.ts";
import { COUNTER_SET, latin1, show } from "./tree-model-support.ts";

/** "all": every verdict (GC watermark 0); "gc": remove and replace only, which garbage collection keeps exact. */
export type FilterMode = "all" | "gc";

/** The doomed prefixes the generator writes in each mode (see {@link doomVerdict}). */
export const DOOM_PREFIXES: Readonly<Record<FilterMode, readonly string[]>> = {
  all: ["Xr", "Xw", "Xd", "Xp", "Xq", "Xl"],
  gc: ["Xr", "Xp", "Xq", "Xl"],
};

const X = 0x58;
const REPLACED_P = 0x59; // "Y"
const LETTER = { r: 0x72, w: 0x77, d: 0x64, p: 0x70, q: 0x71, l: 0x6c } as const;

/**
 * The filter's verdict on a value or operand, by its first two bytes:
 * - "Xr": remove; "Xw": removeWeak; "Xd": destroy (the last two in mode "all" only: under garbage
 *   collection the older version a destroy lets show again may be gone already, and a weak tombstone
 *   pairs with whatever lies below it);
 * - "Xp": replaced by the same bytes starting "Yp" (no longer doomed); "Xq": replaced by "Xr…" (removed
 *   by the next compaction that sees it);
 * - "Xl": at the last level destroyed (mode "all") or removed (mode "gc"), elsewhere kept.
 * Anything else is kept.
 */
export function doomVerdict(value: Uint8Array, isLastLevel: boolean, mode: FilterMode): CompactionVerdict {
  if (value.length < 2 || value[0] !== X) return "keep";
  switch (value[1]) {
    case LETTER.r:
      return "remove";
    case LETTER.w:
      return mode === "all" ? "removeWeak" : "keep";
    case LETTER.d:
      return mode === "all" ? "destroy" : "keep";
    case LETTER.p:
      return { replace: withFirstBytes(value, REPLACED_P, LETTER.p) };
    case LETTER.q:
      return { replace: withFirstBytes(value, X, LETTER.r) };
    case LETTER.l:
      return !isLastLevel ? "keep" : mode === "all" ? "destroy" : "remove";
    default:
      return "keep";
  }
}

function withFirstBytes(value: Uint8Array, first: number, second: number): Uint8Array {
  const out = new Uint8Array(value);
  out[0] = first;
  out[1] = second;
  return out;
}

/** How the model names one version (a key and a seqno) of the oracle or of a filter item. */
export const versionId = (key: Uint8Array, seqno: number): string => `${latin1(key)}\u0001${seqno}`;

/** What the filter was asked in one compaction. */
export interface FilterRun {
  readonly isLastLevel: boolean;
  /** Every version the filter saw. */
  readonly seen: Set<string>;
  /** The versions it gave another verdict than "keep", with the verdict. */
  readonly changes: Map<string, OracleFilterVerdict>;
  asked: number;
  finished: boolean;
}

/**
 * The compaction filter of one model run, and what it saw. The model calls {@link begin} before a
 * compaction step and {@link end} after it; a filter made outside that window is an error (reported by
 * {@link takeError}), and so is every item that does not match a value or operand the oracle holds.
 */
export class ModelFilter {
  readonly mode: FilterMode;
  readonly filter: CompactionFilter;
  readonly #oracle: MvccOracle;
  readonly #counters: boolean;
  #compacting = false;
  #run: FilterRun | undefined;
  #error: string | undefined;

  constructor(mode: FilterMode, oracle: MvccOracle, counters: boolean) {
    this.mode = mode;
    this.#oracle = oracle;
    this.#counters = counters;
    this.filter = {
      name: `model-doom-${mode}`,
      create: (context) => this.#create(context.isLastLevel),
    };
  }

  /** A compaction step starts: one filter may be made until {@link end}. */
  begin(): void {
    this.#compacting = true;
    this.#run = undefined;
  }

  /** The step ended: what the filter saw, or undefined if none was made. */
  end(): FilterRun | undefined {
    this.#compacting = false;
    const run = this.#run;
    this.#run = undefined;
    return run;
  }

  /** The first error found since the last call, if any. */
  takeError(): string | undefined {
    const error = this.#error;
    this.#error = undefined;
    return error;
  }

  #fail(message: string): void {
    this.#error ??= `compaction filter: ${message}`;
  }

  #create(isLastLevel: boolean): { filter(item: CompactionFilterItem): CompactionVerdict; finish(): void } {
    if (!this.#compacting) {
      this.#fail("a filter was made outside a compaction step (flushes, moves, drops and ingestions must not filter)");
      return { filter: () => "keep", finish: () => {} };
    }
    if (this.#run !== undefined) this.#fail("two filters were made in one compaction step");
    const run: FilterRun = { isLastLevel, seen: new Set(), changes: new Map(), asked: 0, finished: false };
    this.#run = run;
    return {
      filter: (item) => {
        run.asked++;
        if (run.finished) this.#fail("asked about an entry after finish()");
        const value = new Uint8Array(item.value());
        const id = versionId(item.key, item.seqno);
        run.seen.add(id);
        // Counter keys hold merge results the filter may see collapsed: it leaves them alone.
        if (this.#counters && COUNTER_SET.has(latin1(item.key))) {
          this.#check(item, value, false);
          return "keep";
        }
        this.#check(item, value, true);
        const verdict = doomVerdict(value, isLastLevel, this.mode);
        if (verdict !== "keep") {
          if (run.changes.has(id)) this.#fail(`two verdicts for ${show(item.key)} at seqno ${item.seqno}`);
          run.changes.set(id, verdict);
        }
        return verdict;
      },
      finish: () => {
        if (run.finished) this.#fail("finish() was called twice");
        run.finished = true;
      },
    };
  }

  /** The item must be a value or operand the oracle holds at that seqno (with those bytes when `exact`). */
  #check(item: CompactionFilterItem, value: Uint8Array, exact: boolean): void {
    const version = this.#oracle.versionsOf(item.key).find((v) => v.seqno === item.seqno);
    const what = `${show(item.key)} at seqno ${item.seqno} (${item.isMergeOperand ? "operand" : "value"} ${show(value)})`;
    if (version === undefined) {
      this.#fail(`asked about ${what}, which the tree should not hold (never written, cleared, dropped or destroyed)`);
    } else if (version.kind === "tombstone" || version.kind === "weakTombstone") {
      this.#fail(`asked about ${what}, but that version is a ${version.kind} (filters never see deletions)`);
    } else if (exact && item.isMergeOperand !== (version.kind === "merge")) {
      this.#fail(`asked about ${what}, but that version is a ${version.kind}`);
    } else if (exact && !(version.operands ?? [version.value]).some((v) => Buffer.compare(v, value) === 0)) {
      this.#fail(`asked about ${what}, but the oracle holds ${show(version.value)}`);
    }
  }
}

/**
 * After a major compaction (every table merged into the last level) with `run` as its filter's record:
 * the first version the filter must have seen but did not, described, or undefined. In mode "all"
 * (nothing is garbage-collected) that is every value and operand in the tables, i.e. written below
 * `flushedBelow`; under garbage collection only the newest version of a key is sure to be there, when it
 * is a live value or operand in the tables. Counter keys are left out.
 */
export function missedByMajor(run: FilterRun, oracle: MvccOracle, flushedBelow: number, mode: FilterMode, counters: boolean): string | undefined {
  const isData = (v: OracleVersion | undefined): v is OracleVersion => v !== undefined && (v.kind === "value" || v.kind === "merge") && v.seqno < flushedBelow;
  for (const key of oracle.keys()) {
    if (counters && COUNTER_SET.has(latin1(key))) continue;
    const expected = mode === "all" ? oracle.versionsOf(key).filter(isData) : [oracle.find(key, SEQNO_MAX)].filter(isData);
    for (const v of expected) {
      if (!run.seen.has(versionId(key, v.seqno))) return `${show(key)} at seqno ${v.seqno} (${v.kind} ${show(v.value)})`;
    }
  }
  return undefined;
}
