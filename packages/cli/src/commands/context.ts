/**
 * What every command gets: where its output goes and how it should look.
 *
 * @module
 */
import type { Progress } from "../progress.ts";

export interface CommandContext {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Machine-readable output: one JSON document (or one per line for scans), no progress bar. */
  readonly json: boolean;
  readonly progress: Progress;
}
