/**
 * Percentiles, medians and the latency recorder.
 *
 * @module
 */

/** Nearest-rank percentile of an ascending array (p in [0, 100]); NaN for an empty array. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * n));
  return sorted[rank - 1] as number;
}

/** The median (mean of the middle two for an even count); NaN for no values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Median with the spread of the repetitions. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function spread(values: readonly number[]): Spread {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  return { median: median(finite), min: Math.min(...finite), max: Math.max(...finite) };
}

/** Latency samples in microseconds. */
export class LatencyRecorder {
  #samples = new Float64Array(1024);
  #count = 0;

  add(micros: number): void {
    if (this.#count === this.#samples.length) {
      const grown = new Float64Array(this.#samples.length * 2);
      grown.set(this.#samples);
      this.#samples = grown;
    }
    this.#samples[this.#count++] = micros;
  }

  /** Records one sample per op of a batch that took `micros` for `ops` ops. */
  addBatch(micros: number, ops: number): void {
    if (ops > 0) this.add(micros / ops);
  }

  get count(): number {
    return this.#count;
  }

  summary(): { p50: number; p99: number; max: number } {
    const sorted = this.#samples.slice(0, this.#count).sort();
    return { p50: percentileSorted(sorted, 50), p99: percentileSorted(sorted, 99), max: this.#count === 0 ? Number.NaN : (sorted[this.#count - 1] as number) };
  }
}

/**
 * Per-op latency is timed for one op in `SAMPLE_MASK + 1` on sync paths (timer calls would otherwise cost a few
 * percent of a microsecond-scale op and bias the throughput they sit in).
 */
export const SAMPLE_MASK = 7;
