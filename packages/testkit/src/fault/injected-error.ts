import { fsError, type FsError } from "@talus/fs";

/** An error thrown by a {@link FaultFs} rule rather than by the filesystem underneath. */
export type InjectedFsError = FsError & {
  /** Marks the error as planned by a rule (real filesystem errors do not have it). */
  readonly injected: true;
};

/**
 * Builds the error a rule throws. It is shaped exactly like a real one (code, errno, syscall, path) so
 * the code under test takes its real error path; only the `injected` marker and the message suffix give
 * it away, which lets a test tell a planned fault from a genuine bug.
 */
export function injectedError(code: string, syscall: string, rule: number, path?: string, dest?: string): InjectedFsError {
  const error = fsError(code, syscall, path, dest);
  error.message += ` (injected by FaultFs rule ${rule})`;
  Object.defineProperty(error, "injected", { value: true, enumerable: true });
  return error as InjectedFsError;
}

/**
 * Whether `error` was injected by a {@link FaultFs}, as opposed to raised by a real filesystem.
 *
 * @example
 * ```ts
 * import { isInjected } from "@talus/testkit";
 * try {
 *   file.sync();
 * } catch (error) {
 *   if (!isInjected(error)) throw error; // only the planned fault is expected here
 * }
 * ```
 */
export function isInjected(error: unknown): error is InjectedFsError {
  return typeof error === "object" && error !== null && (error as { injected?: unknown }).injected === true;
}
