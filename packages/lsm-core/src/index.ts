/**
 * `@talus/lsm-core`: the Talus LSM-tree engine.
 *
 * @module
 */
export { LsmError, type LsmErrorCode } from "./errors.ts";
export { SEQNO_MAX, SequenceNumberCounter } from "./seqno.ts";
export { BYTEWISE_COMPARATOR, type Comparator } from "./key/comparator.ts";
export { MAX_KEY_BYTES, MAX_VALUE_BYTES, type Bytes } from "./key/validate.ts";
export { ValueKind } from "./key/value-kind.ts";
