import type { FsFile } from "@talus/fs";
import type { FaultInjector } from "./injector.ts";

/**
 * A file opened through a {@link FaultFs}: each call is an operation on the path the file was opened
 * with, so a rule can fail, say, only the syncs of table files. Calls no rule fails go to the inner file.
 */
export class FaultFile implements FsFile {
  /** The file of the inner filesystem, which `readMany` hands down unwrapped. */
  readonly inner: FsFile;
  /** The path this file was opened with. */
  readonly path: string;
  readonly #injector: FaultInjector;
  readonly #paths: readonly string[];

  /**
   * Made by {@link FaultFs}'s `open`, which shares its fault plan with every file it opens.
   *
   * @internal
   */
  constructor(inner: FsFile, path: string, injector: FaultInjector) {
    this.inner = inner;
    this.path = path;
    this.#injector = injector;
    this.#paths = [path];
  }

  readAt(buffer: Uint8Array, position: number): number {
    this.#injector.guard("read", this.#paths);
    return this.inner.readAt(buffer, position);
  }

  write(buffer: Uint8Array): void {
    const decision = this.#injector.decide("write", this.#paths);
    if (decision === undefined) {
      this.inner.write(buffer);
      return;
    }
    if (decision.state.torn === undefined) throw this.#injector.raise(decision);
    const written = decision.state.tornLength(buffer.length);
    // A real torn write leaves whatever prefix reached the device; a failure writing it is a real error and wins.
    if (written > 0) this.inner.write(buffer.subarray(0, written));
    throw this.#injector.raise(decision, { written, of: buffer.length });
  }

  sync(): void {
    this.#injector.guard("sync", this.#paths);
    this.inner.sync();
  }

  syncData(): void {
    this.#injector.guard("syncData", this.#paths);
    this.inner.syncData();
  }

  len(): number {
    this.#injector.guard("len", this.#paths);
    return this.inner.len();
  }

  setLen(length: number): void {
    this.#injector.guard("setLen", this.#paths);
    this.inner.setLen(length);
  }

  close(): void {
    // A failed close leaves the inner handle open (the operation was not performed), so a retry can close it.
    this.#injector.guard("close", this.#paths);
    this.inner.close();
  }
}
