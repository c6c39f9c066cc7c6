/**
 * Thrown by every call on a {@link CrashFs} (and its handles) once its power was cut, so a workload
 * stops at the sync point being tested instead of running on into a state no machine could reach.
 *
 * @example
 * ```ts
 * import { CrashFs, PowerCutError } from "@talus/testkit";
 * const fs = new CrashFs().cutPowerAtSync(0);
 * try {
 *   fs.syncDirectory("/");
 * } catch (error) {
 *   console.log(error instanceof PowerCutError, (error as PowerCutError).code); // true "EPOWERCUT"
 * }
 * ```
 */
export class PowerCutError extends Error {
  /** Shaped like an errno code so that code branching on `err.code` sees something it does not handle. */
  readonly code = "EPOWERCUT";

  constructor(message: string) {
    super(message);
    this.name = "PowerCutError";
  }
}

/** What a handle needs from its volume: to refuse work after a power cut and to report sync points. */
export interface PowerSupply {
  /** Throws {@link PowerCutError} once the power is off. */
  assertPowered(): void;
  /** Called by every sync before it takes effect; may cut the power (and throw). */
  syncPoint(): void;
}
