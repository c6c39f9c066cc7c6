/**
 * Progress bars for long commands, on stderr and only when it is a terminal (and not with `--json`):
 * a pipe or a script sees only the results.
 *
 * @module
 */
import { SingleBar } from "cli-progress";

export interface Progress {
  start(total: number, label: string): void;
  tick(detail?: string): void;
  stop(): void;
}

const SILENT: Progress = { start: () => undefined, tick: () => undefined, stop: () => undefined };

export function progressBar(enabled: boolean): Progress {
  if (!enabled) return SILENT;
  let bar: SingleBar | undefined;
  return {
    start(total, label) {
      bar = new SingleBar({ format: `${label} [{bar}] {value}/{total} {detail}`, hideCursor: true, stream: process.stderr, clearOnComplete: true });
      bar.start(total, 0, { detail: "" });
    },
    tick(detail = "") {
      bar?.increment(1, { detail });
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
