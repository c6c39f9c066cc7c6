/**
 * What a {@link FaultFs} rule says, and the per-rule state that decides when it fires: which calls it
 * applies to (operation kinds and a path filter), how many of those it lets through first, how often it
 * fires, and with what seeded probability.
 *
 * @module
 */
import { Random } from "../random.ts";
import { isFsOpKind, type FsOpKind } from "./ops.ts";

/** The errno codes a rule can inject. */
export type FaultCode = "EIO" | "ENOSPC" | "EACCES" | "EINTR";

/**
 * A write that reaches the disk only in part: a prefix of the buffer is written through the inner file,
 * then the error is thrown. On any operation other than `write` it is a plain error with its `code`.
 */
export interface TornWriteFault {
  /** Marks the fault as a torn write (rather than a plain errno code). */
  readonly torn: true;
  /** The error thrown after the prefix; default `EIO`. */
  readonly code?: "EIO" | "ENOSPC";
  /** Bytes of the buffer that are written (capped at its length); default a seeded random length in [0, length). */
  readonly keepBytes?: number;
}

/** What a firing rule does: throw an errno error, or tear a write. */
export type FaultError = FaultCode | TornWriteFault;

/**
 * Which paths a rule applies to: a glob (`*` any run of characters except `/`, `**` anything including
 * `/`, `?` one character except `/`), a regular expression (unanchored unless it says so) or a predicate.
 */
export type PathFilter = string | RegExp | ((path: string) => boolean);

/**
 * One fault to inject. A call *matches* a rule when its kind is in `ops` and its path passes `path`; of
 * the matching calls that reach the rule, the first `after` pass, and then the rule fires on up to
 * `times` of them (each with chance `probability`, when given).
 */
export interface FaultRule {
  /** The operation kinds the rule applies to; default every kind. */
  readonly ops?: FsOpKind | readonly FsOpKind[];
  /**
   * The paths it applies to; default every path. File operations carry the path the file was opened
   * with; `rename` and `hardLink` match when either the source or the destination passes; `readMany`
   * when the path of any of its files does.
   */
  readonly path?: PathFilter;
  /** Matching calls let through before the rule may fire; default 0. */
  readonly after?: number;
  /** How many times the rule fires; default 1, `Infinity` for every matching call. */
  readonly times?: number;
  /** Chance in [0, 1] that a matching call (past `after`) fires; default 1. */
  readonly probability?: number;
  /** Seed of the rule's random choices (`probability`, torn lengths); default 0, so runs replay. */
  readonly seed?: number;
  /** What the rule does when it fires: the errno code to throw, or a {@link TornWriteFault}. */
  readonly error: FaultError;
}

const CODES: ReadonlySet<string> = new Set<FaultCode>(["EIO", "ENOSPC", "EACCES", "EINTR"]);
const TORN_CODES: ReadonlySet<string> = new Set(["EIO", "ENOSPC"]);

/**
 * Turns a glob into an anchored regular expression. `**` followed by `/` may also match nothing, so
 * `**\/tables/*` accepts `tables/1` as well as `/db/tables/1`.
 *
 * @example
 * ```ts
 * globToRegExp("**\/tables/*.sst").test("/db/tables/000001.sst"); // true
 * ```
 */
export function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i] as string;
    if (char === "*" && glob[i + 1] === "*") {
      i++;
      if (glob[i + 1] === "/") {
        i++;
        source += "(?:.*/)?";
      } else {
        source += ".*";
      }
    } else if (char === "*") {
      source += "[^/]*";
    } else if (char === "?") {
      source += "[^/]";
    } else {
      source += char.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    }
  }
  return new RegExp(`^${source}$`, "s");
}

function pathMatcher(filter: PathFilter): (path: string) => boolean {
  if (typeof filter === "function") return filter;
  const regex = typeof filter === "string" ? globToRegExp(filter) : filter;
  return (path) => {
    // A /g or /y expression keeps lastIndex between calls; without this reset it would skip every other match.
    regex.lastIndex = 0;
    return regex.test(path);
  };
}

function isCount(value: number): boolean {
  return value === Infinity || (Number.isInteger(value) && value >= 0);
}

/** Throws on a rule that could never mean what its author wanted, instead of letting it silently never fire. */
export function validateRule(rule: FaultRule): void {
  const ops = rule.ops === undefined ? [] : typeof rule.ops === "string" ? [rule.ops] : rule.ops;
  if (rule.ops !== undefined && ops.length === 0) throw new RangeError("FaultRule.ops is empty: the rule could never fire");
  for (const op of ops) if (!isFsOpKind(op)) throw new TypeError(`FaultRule.ops: unknown operation kind "${String(op)}"`);
  if (rule.after !== undefined && !(Number.isInteger(rule.after) && rule.after >= 0)) {
    throw new RangeError(`FaultRule.after must be a non-negative integer, got ${rule.after}`);
  }
  if (rule.times !== undefined && !isCount(rule.times)) throw new RangeError(`FaultRule.times must be a non-negative integer or Infinity, got ${rule.times}`);
  if (rule.probability !== undefined && !(rule.probability >= 0 && rule.probability <= 1)) {
    throw new RangeError(`FaultRule.probability must be in [0, 1], got ${rule.probability}`);
  }
  if (rule.seed !== undefined && !Number.isInteger(rule.seed)) throw new RangeError(`FaultRule.seed must be an integer, got ${rule.seed}`);
  const error = rule.error;
  if (typeof error === "string") {
    if (!CODES.has(error)) throw new TypeError(`FaultRule.error: unsupported code "${error}"`);
  } else {
    if (error.code !== undefined && !TORN_CODES.has(error.code)) throw new TypeError(`FaultRule.error: unsupported torn-write code "${error.code}"`);
    if (error.keepBytes !== undefined && !(Number.isInteger(error.keepBytes) && error.keepBytes >= 0)) {
      throw new RangeError(`FaultRule.error.keepBytes must be a non-negative integer, got ${error.keepBytes}`);
    }
  }
}

/** A rule together with the counters and random streams that make its decisions reproducible. */
export class RuleState {
  readonly rule: FaultRule;
  readonly code: FaultCode;
  readonly torn: TornWriteFault | undefined;
  readonly #kinds: ReadonlySet<FsOpKind> | undefined;
  readonly #path: ((path: string) => boolean) | undefined;
  readonly #after: number;
  readonly #times: number;
  // Separate streams, so whether a torn length was drawn never shifts which later calls fire.
  readonly #fireRng: Random;
  readonly #tornRng: Random;
  #matched = 0;
  #fired = 0;

  constructor(rule: FaultRule) {
    validateRule(rule);
    this.rule = rule;
    this.code = typeof rule.error === "string" ? rule.error : (rule.error.code ?? "EIO");
    this.torn = typeof rule.error === "string" ? undefined : rule.error;
    this.#kinds = rule.ops === undefined ? undefined : new Set(typeof rule.ops === "string" ? [rule.ops] : rule.ops);
    this.#path = rule.path === undefined ? undefined : pathMatcher(rule.path);
    this.#after = rule.after ?? 0;
    this.#times = rule.times ?? 1;
    const base = new Random(rule.seed ?? 0);
    this.#fireRng = base.fork();
    this.#tornRng = base.fork();
  }

  /** Matching calls this rule has seen so far. */
  get matched(): number {
    return this.#matched;
  }

  /** Times this rule has fired so far. */
  get fired(): number {
    return this.#fired;
  }

  /**
   * The path by which a call of `kind` on `paths` matches this rule (the first path that passes the
   * filter, or the first path when there is no filter), or `undefined` when the rule does not apply.
   */
  match(kind: FsOpKind, paths: readonly string[]): string | undefined {
    if (this.#kinds !== undefined && !this.#kinds.has(kind)) return undefined;
    const filter = this.#path;
    if (filter === undefined) return paths[0] ?? "";
    return paths.find((path) => filter(path));
  }

  /** Counts one matching call and decides whether the rule fires on it. */
  fires(): boolean {
    this.#matched++;
    if (this.#matched <= this.#after || this.#fired >= this.#times) return false;
    if (this.rule.probability !== undefined && !this.#fireRng.chance(this.rule.probability)) return false;
    this.#fired++;
    return true;
  }

  /** How many bytes of a `length`-byte torn write reach the inner file. */
  tornLength(length: number): number {
    const keep = this.torn?.keepBytes;
    if (keep !== undefined) return Math.min(keep, length);
    return length > 0 ? this.#tornRng.int(length) : 0;
  }
}
