import { Random } from "@talus/testkit";
import { BYTEWISE_COMPARATOR, type Comparator } from "../src/key/comparator.ts";
import { ValueKind } from "../src/key/value-kind.ts";
import { sortEntries, type Entry } from "../src/iter/array-cursor.ts";

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));

/** Runs `fn` and returns what it threw; fails the test (throws "expected a throw") if it returned. */
export function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

export const REVERSE_COMPARATOR: Comparator = { name: "reverse-bytewise", compare: (a, b) => Buffer.compare(b, a) };

/** Random entries over a small key space with many versions, unique seqnos, sorted. */
export function randomEntries(rng: Random, count: number, keySpace = 30, comparator: Comparator = BYTEWISE_COMPARATOR): Entry[] {
  const seqnos = rng.shuffle(Array.from({ length: count }, (_, i) => i + 1));
  const kinds = [ValueKind.Value, ValueKind.Value, ValueKind.Value, ValueKind.Tombstone, ValueKind.WeakTombstone, ValueKind.MergeOperand] as const;
  const entries = seqnos.map((seqno) => {
    const kind = rng.pick(kinds);
    const key = enc(`k${String(rng.int(keySpace)).padStart(3, "0")}`);
    const value = kind === ValueKind.Tombstone || kind === ValueKind.WeakTombstone ? new Uint8Array(0) : enc(`v${seqno}`);
    return { key, seqno, kind, value } as Entry;
  });
  return sortEntries(comparator, entries);
}

/** The newest entry of `key` visible at `readSeqno`, per the model. */
export function visibleAt(entries: readonly Entry[], comparator: Comparator, key: Uint8Array, readSeqno: number): Entry | undefined {
  let best: Entry | undefined;
  for (const e of entries) {
    if (comparator.compare(e.key, key) === 0 && e.seqno < readSeqno && (best === undefined || e.seqno > best.seqno)) best = e;
  }
  return best;
}
