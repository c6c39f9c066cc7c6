/**
 * The decision point shared by a {@link FaultFs} and every file it opened: it counts each operation,
 * asks the rules in order and records what fired. Files share it with their filesystem so that a rule
 * added later also applies to files already open.
 *
 * @module
 */
import { injectedError, type InjectedFsError } from "./injected-error.ts";
import { ALL_OPS, OP_SYSCALLS, TWO_PATH_OPS, type FsOpKind } from "./ops.ts";
import { RuleState, type FaultCode, type FaultRule } from "./rules.ts";

/** One fault a {@link FaultFs} injected, in the order they happened. */
export interface InjectedFault {
  /** Index of the rule that fired, in the FaultFs's current rule list. */
  readonly rule: number;
  /** The kind of operation that failed. */
  readonly op: FsOpKind;
  /** The path the rule matched: for `rename`/`hardLink` the source if it matched, else the destination. */
  readonly path: string;
  /** The errno code of the error thrown. */
  readonly code: FaultCode;
  /** The global number of the failed operation: the first operation the FaultFs saw is call 1. */
  readonly call: number;
  /** For a torn write: bytes that reached the inner file, of the buffer's length. */
  readonly torn?: {
    /** Bytes written through to the inner file. */
    readonly written: number;
    /** The length of the buffer the write was given. */
    readonly of: number;
  };
}

/** A rule that fired on a call that has not been failed yet (a torn write still has its prefix to write). */
export interface FaultDecision {
  readonly index: number;
  readonly state: RuleState;
  readonly kind: FsOpKind;
  readonly paths: readonly string[];
  readonly path: string;
  readonly call: number;
}

function zeroCounts(): Record<FsOpKind, number> {
  const counts = {} as Record<FsOpKind, number>;
  for (const kind of ALL_OPS) counts[kind] = 0;
  return counts;
}

/** Counts operations, applies the rules and keeps the log of injected faults. */
export class FaultInjector {
  readonly injected: InjectedFault[] = [];
  readonly calls: Record<FsOpKind, number> = zeroCounts();
  enabled = true;
  #states: RuleState[] = [];
  #callCount = 0;

  constructor(plan: readonly FaultRule[]) {
    for (const rule of plan) this.addRule(rule);
  }

  get callCount(): number {
    return this.#callCount;
  }

  get rules(): readonly FaultRule[] {
    return this.#states.map((state) => state.rule);
  }

  addRule(rule: FaultRule): number {
    this.#states.push(new RuleState(rule));
    return this.#states.length - 1;
  }

  clearRules(): void {
    this.#states = [];
  }

  resetHistory(): void {
    this.injected.length = 0;
    Object.assign(this.calls, zeroCounts());
    this.#callCount = 0;
  }

  /**
   * Counts one operation and returns the rule that fires on it, or `undefined` to let it through. The
   * first rule that fires wins and the rules after it never see the call, so their `after` counts only
   * calls that would otherwise have reached the inner filesystem.
   */
  decide(kind: FsOpKind, paths: readonly string[]): FaultDecision | undefined {
    this.calls[kind]++;
    const call = ++this.#callCount;
    if (!this.enabled) return undefined;
    for (const [index, state] of this.#states.entries()) {
      const path = state.match(kind, paths);
      if (path !== undefined && state.fires()) return { index, state, kind, paths, path, call };
    }
    return undefined;
  }

  /** Records a fired decision and returns the error to throw for it. */
  raise(decision: FaultDecision, torn?: { readonly written: number; readonly of: number }): InjectedFsError {
    const { index, state, kind, paths, path, call } = decision;
    const fault: InjectedFault = { rule: index, op: kind, path, code: state.code, call };
    this.injected.push(torn === undefined ? fault : { ...fault, torn });
    // rename and link errors name both paths, as node's do; everything else names the path that matched.
    return TWO_PATH_OPS.has(kind)
      ? injectedError(state.code, OP_SYSCALLS[kind], index, paths[0], paths[1])
      : injectedError(state.code, OP_SYSCALLS[kind], index, path);
  }

  /** Throws the injected error if a rule fires on this call; otherwise returns and the caller goes ahead. */
  guard(kind: FsOpKind, paths: readonly string[]): void {
    const decision = this.decide(kind, paths);
    if (decision !== undefined) throw this.raise(decision);
  }
}
