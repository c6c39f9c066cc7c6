/**
 * What an entry says about its key. These numbers are written into every table: DO NOT CHANGE THEM.
 *
 * @module
 */
/**
 * The kinds of entry, by name: `ValueKind.Value`, `ValueKind.Tombstone`, ... (the numbers are the on-disk encoding).
 */
export const ValueKind = {
  /** A value. */
  Value: 0,
  /** A deletion: hides every older version of the key. */
  Tombstone: 1,
  /** A single deletion: hides like a tombstone; in compaction it annihilates with the value directly under it. */
  WeakTombstone: 2,
  /** A merge operand, resolved by the merge operator against older versions. */
  MergeOperand: 3,
  /** A pointer into a blob file (key-value separation); the value bytes are the encoded pointer. */
  Indirection: 4,
} as const;

/** One of the {@link ValueKind} numbers: the kind of an entry. */
export type ValueKind = (typeof ValueKind)[keyof typeof ValueKind];

/** Whether `kind` hides older versions the way a deletion does. */
export function isTombstone(kind: number): boolean {
  return kind === ValueKind.Tombstone || kind === ValueKind.WeakTombstone;
}

/** The largest kind this build knows: kinds are the integers 0 to this. */
export const MAX_VALUE_KIND: number = ValueKind.Indirection;

/** Whether `kind` is one this build knows; decoders call it on every byte read from disk. */
export function isValueKind(kind: number): kind is ValueKind {
  return kind >= 0 && kind <= MAX_VALUE_KIND && Number.isInteger(kind);
}
