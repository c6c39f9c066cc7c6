/**
 * Durable writes written once, run two ways. A routine that creates and publishes files (a version
 * file, the `current` pointer) is a generator that yields a {@link SyncRequest} wherever it needs a
 * file or directory made durable; {@link runBlocking} carries those out with the blocking `sync()` /
 * `syncDirectory()`, {@link runAsync} with the non-blocking forms where the filesystem offers them. A
 * failed sync is thrown into the generator at the step that asked for it, so its cleanup code (remove
 * the partial file, keep `current` untouched) is the same in both modes.
 *
 * @module
 */
import type { Fs, FsFile } from "@talus/fs";
import { syncDirectory, syncFile } from "../io/async-sync.ts";

/** A sync a durable routine needs before it may go on. */
export type SyncRequest = { readonly file: FsFile } | { readonly dir: string };

/** A durable routine: yields sync requests, returns its result. */
export type DurableSteps<T> = Generator<SyncRequest, T, void>;

/** Runs `steps`, syncing through `fs` with the blocking calls. */
export function runBlocking<T>(fs: Fs, steps: DurableSteps<T>): T {
  let step = steps.next();
  while (step.done !== true) {
    const request = step.value;
    let failure: { error: unknown } | undefined;
    try {
      if ("file" in request) request.file.sync();
      else fs.syncDirectory(request.dir);
    } catch (error) {
      failure = { error };
    }
    step = resume(steps, failure);
  }
  return step.value;
}

/** Runs `steps`, syncing through `fs` without blocking the event loop where the filesystem can. */
export async function runAsync<T>(fs: Fs, steps: DurableSteps<T>): Promise<T> {
  let step = steps.next();
  while (step.done !== true) {
    const request = step.value;
    let failure: { error: unknown } | undefined;
    try {
      await ("file" in request ? syncFile(request.file) : syncDirectory(fs, request.dir));
    } catch (error) {
      failure = { error };
    }
    step = resume(steps, failure);
  }
  return step.value;
}

/** The routine's next step after a sync: a failed sync is thrown into it where it asked for the sync. */
function resume<T>(steps: DurableSteps<T>, failure: { error: unknown } | undefined): IteratorResult<SyncRequest, T> {
  return failure === undefined ? steps.next() : steps.throw(failure.error);
}
