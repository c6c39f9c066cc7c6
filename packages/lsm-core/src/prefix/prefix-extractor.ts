/**
 * Prefix extractors: a tree option naming the part of a key that prefix scans ask about (a user id, a
 * table name). Tables record each key's extracted prefix in their filter, so a prefix scan skips the
 * tables that hold no key with that prefix.
 *
 * @module
 */
import type { PrefixExtractor as TablePrefixExtractor } from "../table/bloom-filter.ts";
import { startsWith } from "../key/bytewise.ts";

/**
 * The tree option: a named function (its `name` identifies it) or `{ name, extract }`. `extract(key)`
 * returns the key's prefix (a leading part of it), or undefined for a key without one.
 *
 * It must be consistent: every key that starts with a prefix `q` the extractor returned must extract
 * `q` too (true of "everything up to the first `:`" or "the first 8 bytes"). Its name is recorded in
 * each table; a table written under another extractor (or none) is scanned without its prefix filter,
 * so changing the extractor between opens is safe and only costs speed.
 *
 * @example
 * ```ts
 * const userPrefix = { name: "user-id", extract: (key: Uint8Array) => { const i = key.indexOf(0x3a); return i < 0 ? undefined : key.subarray(0, i + 1); } };
 * const tree = await Tree.open({ path: "/db", prefixExtractor: userPrefix });
 * for (const [k, v] of tree.prefix("user42:", seqno.get())) console.log(k, v); // skips tables without user42:
 * ```
 */
export type PrefixExtractor =
  | {
      /** Identifies the extractor in the tables it filtered (not empty). */
      readonly name: string;
      /** The key's prefix (a leading part of `key`), or undefined for a key without one. */
      extract(key: Uint8Array): Uint8Array | undefined;
    }
  | ((key: Uint8Array) => Uint8Array | undefined);

/** The option as the engine uses it: the table writer's form plus `extract`. */
export interface ResolvedPrefixExtractor extends TablePrefixExtractor {
  extract(key: Uint8Array): Uint8Array | undefined;
}

const NONE: readonly Uint8Array[] = [];

export function resolvePrefixExtractor(option: unknown): ResolvedPrefixExtractor | undefined {
  if (option === undefined) return undefined;
  const extract =
    typeof option === "function" ? (option as (key: Uint8Array) => Uint8Array | undefined) : (option as { extract?: unknown } | null)?.extract;
  const name = (option as { name?: unknown } | null)?.name;
  if (typeof extract !== "function" || typeof name !== "string" || name.length === 0) {
    throw new TypeError("prefixExtractor must be a named function or an object { name, extract(key) }");
  }
  const call = (key: Uint8Array): Uint8Array | undefined => {
    const prefix = (extract as (key: Uint8Array) => unknown).call(option, key);
    if (prefix === undefined) return undefined;
    if (!(prefix instanceof Uint8Array) || !startsWith(key, prefix)) throw new TypeError(`prefixExtractor "${name}" must return a leading part of the key or undefined`);
    return prefix;
  };
  return {
    name,
    extract: call,
    prefixes: (key) => {
      const prefix = call(key);
      return prefix === undefined ? NONE : [prefix];
    },
  };
}

/**
 * The prefix every key of a scan shares that the extractor would have recorded, or undefined when the
 * filter cannot help. A prefix scan for `p`: the extractor's prefix `q` of `p`, when `p` starts with it
 * (every key starting with `p` starts with `q`, so extracts `q`). A range scan: the same, for bounds that
 * extract one prefix (every key between them starts with it).
 */
export function scanPrefix(extractor: ResolvedPrefixExtractor, lower: Uint8Array | undefined, upper: Uint8Array | undefined): Uint8Array | undefined {
  if (lower === undefined) return undefined;
  const q = extractor.extract(lower);
  if (q === undefined) return undefined;
  if (upper === undefined) return undefined;
  const r = extractor.extract(upper);
  if (r === undefined || r.length !== q.length || !startsWith(r, q)) return undefined;
  return q;
}
