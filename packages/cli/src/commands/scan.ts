/**
 * `talus scan <dir>` and `talus get <dir> <key>`: read entries, read-only, at the newest seqno.
 *
 * @module
 */
import { SEQNO_MAX } from "@talus/lsm-core";
import { checkEncoding, formatBytes, parseKey, type Encoding } from "../format.ts";
import { openTree, UsageError } from "../open.ts";
import type { CommandContext } from "./context.ts";

export interface ScanOptions {
  readonly prefix?: string;
  readonly gt?: string;
  readonly gte?: string;
  readonly lt?: string;
  readonly lte?: string;
  readonly limit?: string;
  readonly reverse?: boolean;
  readonly format: string;
  readonly keyEncoding: string;
  readonly mergeOperator?: string;
}

export async function scan(ctx: CommandContext, path: string, options: ScanOptions): Promise<number> {
  const format = checkEncoding(options.format, "--format");
  const keyEncoding = checkEncoding(options.keyEncoding, "--key-encoding");
  const limit = options.limit === undefined ? undefined : Number(options.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw new UsageError(`--limit must be a non-negative integer, got "${options.limit}"`);
  const bounds = { gt: options.gt, gte: options.gte, lt: options.lt, lte: options.lte };
  const hasBounds = Object.values(bounds).some((b) => b !== undefined);
  if (options.prefix !== undefined && hasBounds) throw new UsageError("--prefix cannot be combined with --gt/--gte/--lt/--lte");
  const { tree } = await openTree(path, { readOnly: true, mergeOperator: options.mergeOperator });
  try {
    const range: Record<string, Uint8Array | boolean | number> = {};
    for (const [name, value] of Object.entries(bounds)) if (value !== undefined) range[name] = parseKey(value, keyEncoding);
    if (options.reverse === true) range.reverse = true;
    if (limit !== undefined) range.limit = limit;
    const iterator =
      options.prefix !== undefined
        ? tree.prefix(parseKey(options.prefix, keyEncoding), SEQNO_MAX, { ...(options.reverse === true ? { reverse: true } : {}), ...(limit === undefined ? {} : { limit }) })
        : tree.range(range, SEQNO_MAX);
    let count = 0;
    for (const [key, value] of iterator) {
      ctx.out(line(key, value, format, ctx.json));
      count++;
    }
    if (!ctx.json) ctx.err(`${count} entries`);
    return 0;
  } finally {
    await tree.close();
  }
}

export async function get(ctx: CommandContext, path: string, key: string, options: { format: string; keyEncoding: string; mergeOperator?: string }): Promise<number> {
  const format = checkEncoding(options.format, "--format");
  const k = parseKey(key, checkEncoding(options.keyEncoding, "--key-encoding"));
  const { tree } = await openTree(path, { readOnly: true, mergeOperator: options.mergeOperator });
  try {
    const value = tree.get(k, SEQNO_MAX);
    if (ctx.json) ctx.out(JSON.stringify({ key: formatBytes(k, format === "hex" ? "hex" : "utf8"), found: value !== undefined, value: value === undefined ? null : formatBytes(value, format === "hex" ? "hex" : "utf8") }));
    else if (value === undefined) ctx.err(`not found: ${formatBytes(k, "utf8")}`);
    else ctx.out(formatBytes(value, format));
    return value === undefined ? 1 : 0;
  } finally {
    await tree.close();
  }
}

function line(key: Uint8Array, value: Uint8Array, format: Encoding, json: boolean): string {
  if (json) {
    const as = format === "hex" ? "hex" : "utf8";
    return JSON.stringify({ key: formatBytes(key, as), value: formatBytes(value, as) });
  }
  return `${formatBytes(key, format)}\t${formatBytes(value, format)}`;
}
