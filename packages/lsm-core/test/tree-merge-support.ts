/**
 * Helpers for tree-merge-operator.test.ts: le64 counters, a write log with its own (deliberately naive)
 * fold of merge operands, and a checker that compares every read method of a tree with that fold.
 */
import { expect } from "vitest";
import { LsmError, type Comparator, type CompactionChoice, type CompactionStrategy, type MergeOperator, type Tree } from "../src/index.ts";

export const te = new TextEncoder();
export const td = new TextDecoder();

/** `n` as 8 little-endian bytes (two's complement), what counterMerge adds. */
export function le64(n: number | bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt(n), true);
  return out;
}

/** The counter an 8-byte value holds (throws on any other length), as a bigint. */
export function big(b: Uint8Array): bigint {
  if (b.length !== 8) throw new Error(`not a counter: ${b.length} bytes`);
  return new DataView(b.buffer, b.byteOffset, 8).getBigInt64(0, true);
}

/** The counter as a number (small counters), undefined stays undefined. */
export function num(b: Uint8Array | undefined): number | undefined {
  return b === undefined ? undefined : Number(big(b));
}

export const str = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : td.decode(b));

/** A tagged error a throwing operator raises, to check it comes back as the `cause`. */
export class OperatorBoom extends Error {
  constructor(message = "boom") {
    super(message);
    this.name = "OperatorBoom";
  }
}

/** Whether `error` is `LsmError` MERGE_OPERATOR (and, when given, has `cause`). */
export function isMergeError(error: unknown, cause?: unknown): boolean {
  return error instanceof LsmError && error.code === "MERGE_OPERATOR" && (cause === undefined || error.cause === cause);
}

/** Runs `fn`, expecting it to throw LsmError MERGE_OPERATOR (with `cause` when given). */
export function expectMergeThrow(fn: () => unknown, cause?: unknown): LsmError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected MERGE_OPERATOR, got ${String(thrown)}`).toBeInstanceOf(LsmError);
  expect((thrown as LsmError).code).toBe("MERGE_OPERATOR");
  if (cause !== undefined) expect((thrown as LsmError).cause).toBe(cause);
  return thrown as LsmError;
}

/** An operator wrapping another that counts its calls and records the largest operand list. */
export function counting(inner: MergeOperator, name = inner.name): MergeOperator & { calls: number; maxOperands: number; log: Array<{ base: Uint8Array | undefined; operands: Uint8Array[] }> } {
  const op = {
    name,
    calls: 0,
    maxOperands: 0,
    log: [] as Array<{ base: Uint8Array | undefined; operands: Uint8Array[] }>,
    merge(key: Uint8Array, base: Uint8Array | undefined, operands: readonly Uint8Array[]): Uint8Array {
      op.calls++;
      op.maxOperands = Math.max(op.maxOperands, operands.length);
      op.log.push({ base: base === undefined ? undefined : new Uint8Array(base), operands: operands.map((o) => new Uint8Array(o)) });
      return inner.merge(key, base, operands);
    },
  };
  return op;
}

/** The reference's test-only PullDown(src, dst): merge every table of `src` with what it overlaps in `dst` into `dst`. */
export function pullDown(src: number, dst: number): CompactionStrategy {
  return {
    name: "PullDown",
    choose(version): CompactionChoice {
      const ids = [...version.level(src).tables()].map((t) => t.id);
      if (ids.length === 0) return { kind: "nothing" };
      for (const t of version.level(dst).tables()) ids.push(t.id);
      return { kind: "merge", tableIds: [...new Set(ids)].sort((a, b) => a - b), destLevel: dst, targetSize: 64 << 20, canonicalLevel: dst };
    },
  };
}

// ---- a write log and its fold ------------------------------------------------------------------

type Write =
  | { readonly kind: "value" | "merge"; readonly key: string; readonly value: Uint8Array; readonly seqno: number; readonly order: number }
  | { readonly kind: "remove" | "weak"; readonly key: string; readonly seqno: number; readonly order: number }
  | { readonly kind: "range"; readonly start: string; readonly end: string; readonly seqno: number; readonly order: number };

const bytewise = (a: Uint8Array, b: Uint8Array): number => Buffer.compare(a, b);

/**
 * Every write made to a tree, mirrored; `expected(S)` folds them the slow, obvious way: per key, the
 * versions below S newest first (within one seqno, the later write is newer), collecting operands until
 * a value (the base), a deletion, or a version a visible range tombstone newer than it covers.
 */
export class WriteLog {
  readonly writes: Write[] = [];
  readonly #compare: (a: Uint8Array, b: Uint8Array) => number;
  readonly #operator: MergeOperator | undefined;

  constructor(operator: MergeOperator | undefined, comparator?: Comparator) {
    this.#operator = operator;
    this.#compare = comparator === undefined ? bytewise : (a, b) => comparator.compare(a, b);
  }

  insert(tree: Tree, key: string, value: Uint8Array, seqno: number): void {
    tree.insert(key, value, seqno);
    this.writes.push({ kind: "value", key, value, seqno, order: this.writes.length });
  }

  merge(tree: Tree, key: string, value: Uint8Array, seqno: number): void {
    tree.merge(key, value, seqno);
    this.writes.push({ kind: "merge", key, value, seqno, order: this.writes.length });
  }

  remove(tree: Tree, key: string, seqno: number): void {
    tree.remove(key, seqno);
    this.writes.push({ kind: "remove", key, seqno, order: this.writes.length });
  }

  removeWeak(tree: Tree, key: string, seqno: number): void {
    tree.removeWeak(key, seqno);
    this.writes.push({ kind: "weak", key, seqno, order: this.writes.length });
  }

  removeRange(tree: Tree, start: string, end: string, seqno: number): void {
    tree.removeRange(start, end, seqno);
    this.writes.push({ kind: "range", start, end, seqno, order: this.writes.length });
  }

  /** Records a batch's merges (the tree got them through applyBatch). */
  recordMerge(key: string, value: Uint8Array, seqno: number): void {
    this.writes.push({ kind: "merge", key, value, seqno, order: this.writes.length });
  }

  keys(): string[] {
    const keys = new Set<string>();
    for (const w of this.writes) if (w.kind !== "range") keys.add(w.key);
    return [...keys].sort((a, b) => this.#compare(te.encode(a), te.encode(b)));
  }

  #covered(key: string, seqno: number, readSeqno: number): boolean {
    const k = te.encode(key);
    return this.writes.some(
      (w) => w.kind === "range" && w.seqno < readSeqno && w.seqno > seqno && this.#compare(te.encode(w.start), k) <= 0 && this.#compare(k, te.encode(w.end)) < 0,
    );
  }

  /** The value of `key` at `readSeqno`, by the fold. */
  get(key: string, readSeqno: number): Uint8Array | undefined {
    const versions = this.writes
      .filter((w): w is Exclude<Write, { kind: "range" }> => w.kind !== "range" && w.key === key && w.seqno < readSeqno)
      .sort((a, b) => b.seqno - a.seqno || b.order - a.order);
    const operands: Uint8Array[] = [];
    let base: Uint8Array | undefined;
    for (const v of versions) {
      if (this.#covered(key, v.seqno, readSeqno)) break;
      if (v.kind === "merge") {
        operands.push(v.value);
        continue;
      }
      if (v.kind === "value") base = v.value;
      if (operands.length === 0) return base;
      break;
    }
    if (operands.length === 0) return undefined;
    operands.reverse();
    if (this.#operator === undefined) return operands[operands.length - 1];
    return this.#operator.merge(te.encode(key), base, operands);
  }

  /** Every visible `[key, value]` at `readSeqno`, in key order. */
  entries(readSeqno: number): Array<[string, Uint8Array]> {
    const out: Array<[string, Uint8Array]> = [];
    for (const key of this.keys()) {
      const value = this.get(key, readSeqno);
      if (value !== undefined) out.push([key, value]);
    }
    return out;
  }
}

// ---- comparing every read method ---------------------------------------------------------------

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const renderPairs = (pairs: Iterable<readonly [Uint8Array | string, Uint8Array]>): string[] =>
  [...pairs].map(([k, v]) => `${typeof k === "string" ? k : td.decode(k)}=${hex(v)}`);

interface Bounds {
  gt?: string;
  gte?: string;
  lt?: string;
  lte?: string;
  reverse?: boolean;
  limit?: number;
}

function inBounds(compare: (a: Uint8Array, b: Uint8Array) => number, key: string, b: Bounds): boolean {
  const k = te.encode(key);
  if (b.gt !== undefined && compare(k, te.encode(b.gt)) <= 0) return false;
  if (b.gte !== undefined && compare(k, te.encode(b.gte)) < 0) return false;
  if (b.lt !== undefined && compare(k, te.encode(b.lt)) >= 0) return false;
  if (b.lte !== undefined && compare(k, te.encode(b.lte)) > 0) return false;
  return true;
}

/**
 * Compares every read method of `tree` at `readSeqno` with the log's fold: get, containsKey, sizeOf,
 * multiGet (duplicates and absent keys), iter both ways, len, isEmpty, first/last, ranges over bound
 * pairs (both ways, with limits) and prefixes (both ways, with limits). `thorough` adds every bound pair.
 */
export function checkAllReads(tree: Tree, log: WriteLog, readSeqno: number, options: { absent?: readonly string[]; comparator?: Comparator; thorough?: boolean } = {}): void {
  const compare = options.comparator === undefined ? bytewise : (a: Uint8Array, b: Uint8Array) => options.comparator!.compare(a, b);
  const at = `at seqno ${readSeqno}`;
  const expected = log.entries(readSeqno);
  const keys = log.keys();
  const absent = options.absent ?? [];
  for (const key of [...keys, ...absent]) {
    const want = log.get(key, readSeqno);
    const got = tree.get(key, readSeqno);
    expect(got === undefined ? undefined : hex(got), `get(${key}) ${at}`).toBe(want === undefined ? undefined : hex(want));
    expect(tree.containsKey(key, readSeqno), `containsKey(${key}) ${at}`).toBe(want !== undefined);
    expect(tree.sizeOf(key, readSeqno), `sizeOf(${key}) ${at}`).toBe(want?.length);
  }
  const probe = [...keys, ...absent, ...keys.slice().reverse(), keys[0] ?? "x"];
  expect(tree.multiGet(probe, readSeqno).map((v) => (v === undefined ? undefined : hex(v))), `multiGet ${at}`).toEqual(
    probe.map((k) => {
      const v = log.get(k, readSeqno);
      return v === undefined ? undefined : hex(v);
    }),
  );
  const forward = renderPairs(expected);
  expect(renderPairs(tree.iter(readSeqno)), `iter ${at}`).toEqual(forward);
  expect(renderPairs(tree.iter(readSeqno, { reverse: true })), `iter reverse ${at}`).toEqual(forward.slice().reverse());
  expect(tree.len(readSeqno), `len ${at}`).toBe(expected.length);
  expect(tree.isEmpty(readSeqno), `isEmpty ${at}`).toBe(expected.length === 0);
  const first = tree.firstKeyValue(readSeqno);
  const last = tree.lastKeyValue(readSeqno);
  expect(first === undefined ? undefined : renderPairs([first])[0], `firstKeyValue ${at}`).toBe(forward[0]);
  expect(last === undefined ? undefined : renderPairs([last])[0], `lastKeyValue ${at}`).toBe(forward[forward.length - 1]);
  for (const limit of [1, 2, 3]) {
    expect(renderPairs(tree.iter(readSeqno, { limit })), `iter limit ${limit} ${at}`).toEqual(forward.slice(0, limit));
    expect(renderPairs(tree.iter(readSeqno, { reverse: true, limit })), `iter reverse limit ${limit} ${at}`).toEqual(forward.slice().reverse().slice(0, limit));
  }
  // Ranges: bounds on written keys and on keys between them.
  const boundKeys = [...new Set([...keys, ...absent])].sort((a, b) => compare(te.encode(a), te.encode(b)));
  const picks = options.thorough === true ? boundKeys : boundKeys.filter((_, i) => i % 2 === 0 || i === boundKeys.length - 1);
  const lowers: Bounds[] = [{}, ...picks.flatMap((k): Bounds[] => [{ gt: k }, { gte: k }])];
  const uppers: Bounds[] = [{}, ...picks.flatMap((k): Bounds[] => [{ lt: k }, { lte: k }])];
  for (const lower of lowers) {
    for (const upper of uppers) {
      const bounds = { ...lower, ...upper };
      const want = renderPairs(expected.filter(([k]) => inBounds(compare, k, bounds)));
      expect(renderPairs(tree.range(bounds, readSeqno)), `range ${JSON.stringify(bounds)} ${at}`).toEqual(want);
      expect(renderPairs(tree.range({ ...bounds, reverse: true }, readSeqno)), `range reverse ${JSON.stringify(bounds)} ${at}`).toEqual(want.slice().reverse());
      const limit = 1 + ((lowers.indexOf(lower) + uppers.indexOf(upper)) % 3);
      expect(renderPairs(tree.range({ ...bounds, limit }, readSeqno)), `range limit ${limit} ${JSON.stringify(bounds)} ${at}`).toEqual(want.slice(0, limit));
      expect(renderPairs(tree.range({ ...bounds, reverse: true, limit }, readSeqno)), `range reverse limit ${limit} ${JSON.stringify(bounds)} ${at}`).toEqual(
        want.slice().reverse().slice(0, limit),
      );
    }
  }
  // Prefixes: every leading part of every key, and the empty prefix.
  const prefixes = new Set<string>([""]);
  for (const k of [...keys, ...absent]) for (let i = 1; i <= k.length; i++) prefixes.add(k.slice(0, i));
  for (const p of prefixes) {
    if (p === "") continue; // keys are 1+ bytes; prefix() needs one too
    const want = renderPairs(expected.filter(([k]) => k.startsWith(p)));
    expect(renderPairs(tree.prefix(p, readSeqno)), `prefix(${p}) ${at}`).toEqual(want);
    expect(renderPairs(tree.prefix(p, readSeqno, { reverse: true })), `prefix(${p}) reverse ${at}`).toEqual(want.slice().reverse());
    expect(renderPairs(tree.prefix(p, readSeqno, { limit: 1 })), `prefix(${p}) limit 1 ${at}`).toEqual(want.slice(0, 1));
    expect(renderPairs(tree.prefix(p, readSeqno, { reverse: true, limit: 2 })), `prefix(${p}) reverse limit 2 ${at}`).toEqual(want.slice().reverse().slice(0, 2));
  }
}

/** A quicker comparison for many snapshots: get of every key, and both full scans. */
export function checkPointAndScans(tree: Tree, log: WriteLog, readSeqno: number, absent: readonly string[] = []): void {
  const at = `at seqno ${readSeqno}`;
  for (const key of [...log.keys(), ...absent]) {
    const want = log.get(key, readSeqno);
    const got = tree.get(key, readSeqno);
    expect(got === undefined ? undefined : hex(got), `get(${key}) ${at}`).toBe(want === undefined ? undefined : hex(want));
  }
  const forward = renderPairs(log.entries(readSeqno));
  expect(renderPairs(tree.iter(readSeqno)), `iter ${at}`).toEqual(forward);
  expect(renderPairs(tree.iter(readSeqno, { reverse: true })), `iter reverse ${at}`).toEqual(forward.slice().reverse());
}

/** Every answer a tree gives at `readSeqno` over `keys`, as one comparable snapshot. */
export function snapshotOf(tree: Tree, keys: readonly string[], readSeqno: number): { gets: Array<string | undefined>; forward: string[]; reverse: string[] } {
  return {
    gets: keys.map((k) => {
      const v = tree.get(k, readSeqno);
      return v === undefined ? undefined : hex(v);
    }),
    forward: renderPairs(tree.iter(readSeqno)),
    reverse: renderPairs(tree.iter(readSeqno, { reverse: true })),
  };
}
