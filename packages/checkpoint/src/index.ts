/**
 * `@talus/checkpoint`: consistent hard-link checkpoints of an open tree.
 *
 * @module
 */
export { createCheckpoint, type CheckpointInfo, type CheckpointOptions } from "./checkpoint.ts";
export { linkOrCopy, type PlacedFile } from "./link-or-copy.ts";
export { checkpointReport } from "./report.ts";
