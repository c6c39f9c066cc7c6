/**
 * Checks of strategy option values. A bad value throws a `RangeError` naming the option and the value
 * at construction, so that a misconfigured strategy fails where it is built instead of silently never
 * (or always) compacting later.
 *
 * @module
 */

/** A byte count that must be a positive safe integer (table target sizes). */
export function positiveSize(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive safe integer, got ${String(value)}`);
  return value;
}

/** A byte count that may be 0 or `Infinity` (limits). */
export function nonNegativeBytes(value: number, name: string): number {
  if (typeof value !== "number" || Number.isNaN(value) || value < 0 || (Number.isFinite(value) && !Number.isSafeInteger(value))) {
    throw new RangeError(`${name} must be a non-negative integer or Infinity, got ${String(value)}`);
  }
  return value;
}

/** A count that must be an integer >= `min`; `Infinity` only when `allowInfinity`. */
export function integerAtLeast(value: number, min: number, name: string, allowInfinity = false): number {
  const ok = Number.isSafeInteger(value) || (allowInfinity && value === Infinity);
  if (!ok || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}${allowInfinity ? " or Infinity" : ""}, got ${String(value)}`);
  }
  return value;
}

/** A number >= 0, `Infinity` included (a threshold that `Infinity` turns off). */
export function nonNegativeOrInfinity(value: number, name: string): number {
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
    throw new RangeError(`${name} must be a number >= 0 or Infinity, got ${String(value)}`);
  }
  return value;
}

/** A finite number >= 0 (a ratio where 0 is meaningful). */
export function nonNegativeFinite(value: number, name: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a finite number >= 0, got ${String(value)}`);
  }
  return value;
}

/** A finite number > 0. */
export function positiveFinite(value: number, name: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a finite number > 0, got ${String(value)}`);
  }
  return value;
}

export function boolean(value: boolean, name: string): boolean {
  if (typeof value !== "boolean") throw new TypeError(`${name} must be a boolean, got ${typeof value}`);
  return value;
}

/** The options argument itself: absent means all defaults; anything but an object is a caller bug. */
export function optionsObject<T extends object>(options: T | undefined, strategy: string): T | Record<string, never> {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null) throw new TypeError(`${strategy} options must be an object`);
  return options;
}
