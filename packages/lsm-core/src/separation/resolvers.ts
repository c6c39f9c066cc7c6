/**
 * How reads of a blob tree turn stored entries into values: an `Indirection` entry holds a handle that
 * the value log resolves; everything else passes through.
 *
 * @module
 */
import { ValueKind } from "../key/value-kind.ts";
import type { ValueResolver } from "../iter/visible-range.ts";
import type { ValueLog } from "./value-log.ts";

const NO_VALUE = new Uint8Array(0);

/** Resolves indirections by reading their blobs. */
export function blobResolver(log: ValueLog): ValueResolver {
  return { resolve: (key, kind, value) => (kind === ValueKind.Indirection ? log.read(key, value) : value) };
}

/** For scans that only count or look at keys: an indirection yields an empty value, no blob is read. */
export const KEYS_ONLY: ValueResolver = {
  resolve: (_key, kind, value) => (kind === ValueKind.Indirection ? NO_VALUE : value),
};
