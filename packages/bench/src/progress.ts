/**
 * The progress line: rewritten in place with `\r` on a terminal, one plain line per finished job
 * otherwise (CI logs, turbo's streamed output, pipes).
 *
 * @module
 */

export interface ProgressSink {
  write(text: string): void;
  readonly isTTY: boolean;
}

export class Progress {
  readonly #out: ProgressSink;
  readonly #total: number;
  #index = 0;
  #label = "";
  #lastLength = 0;

  constructor(total: number, out: ProgressSink = process.stderr) {
    this.#total = total;
    this.#out = out;
  }

  start(label: string): void {
    this.#index++;
    this.#label = `[${String(this.#index).padStart(String(this.#total).length)}/${this.#total}] ${label}`;
    if (this.#out.isTTY) this.#redraw(`${this.#label} ${bar(0)}`);
  }

  update(done: number, total: number): void {
    if (!this.#out.isTTY || total <= 0) return;
    this.#redraw(`${this.#label} ${bar(done / total)} ${Math.floor((100 * done) / total)}%`);
  }

  finish(summary: string): void {
    const line = `${this.#label}  ${summary}`;
    if (this.#out.isTTY) {
      this.#redraw(line);
      this.#out.write("\n");
      this.#lastLength = 0;
    } else {
      this.#out.write(`${line}\n`);
    }
  }

  #redraw(line: string): void {
    const pad = Math.max(0, this.#lastLength - line.length);
    this.#out.write(`\r${line}${" ".repeat(pad)}`);
    this.#lastLength = line.length;
  }
}

export function bar(fraction: number, width = 24): string {
  const f = Math.min(1, Math.max(0, fraction));
  const filled = Math.round(f * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
}
