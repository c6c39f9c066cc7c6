import { describe, expect, it } from "vitest";
import { MemFs, type Fs } from "@talus/fs";
import { FaultFs } from "@talus/testkit";
import { DeletionPause, type PauseGuard } from "../src/version/deletion-pause.ts";
import { SlowAsyncFs } from "./async-io-support.ts";

function volume(...paths: string[]): MemFs {
  const fs = new MemFs();
  fs.createDirAll("/db/tables");
  for (const path of paths) fs.open(path, { write: true, createNew: true }).close();
  return fs;
}

/** A MemFs that runs `hook` before each removal, to re-enter the pause from inside a drain. */
class HookFs extends MemFs {
  hook: (path: string) => void = () => {};
  override removeFile(path: string): void {
    this.hook(path);
    super.removeFile(path);
  }
}

describe("DeletionPause", () => {
  it("deletes at once while no pause is held", () => {
    const fs = volume("/db/tables/1");
    const pause = new DeletionPause();
    expect(pause.isActive()).toBe(false);
    expect(pause.deleteOrDefer(fs, "/db/tables/1")).toBe("deleted");
    expect(fs.exists("/db/tables/1")).toBe(false);
    // Already gone: fine.
    expect(pause.deleteOrDefer(fs, "/db/tables/1")).toBe("deleted");
    expect(pause.pendingCount()).toBe(0);
  });

  it("throws an immediate removal's error to the caller", () => {
    const fs = new FaultFs(volume("/db/tables/1"), [{ ops: "removeFile", error: "EACCES" }]);
    expect(() => new DeletionPause().deleteOrDefer(fs, "/db/tables/1")).toThrow(expect.objectContaining({ code: "EACCES" }));
  });

  it("defers while held and deletes at the last release, each through its own fs", () => {
    const a = volume("/db/tables/1");
    const b = volume("/db/tables/2");
    const pause = new DeletionPause();
    const guard = pause.acquire();
    expect(pause.isActive()).toBe(true);
    expect(pause.deleteOrDefer(a, "/db/tables/1")).toBe("deferred");
    expect(pause.deleteOrDefer(b, "/db/tables/2")).toBe("deferred");
    expect(pause.pendingCount()).toBe(2);
    expect(a.exists("/db/tables/1") && b.exists("/db/tables/2")).toBe(true);
    guard.release();
    expect(guard.released).toBe(true);
    expect(pause.isActive()).toBe(false);
    expect(a.exists("/db/tables/1") || b.exists("/db/tables/2")).toBe(false);
    expect(pause.pendingCount()).toBe(0);
  });

  it("releases only at the last of nested pauses; release is idempotent; dispose releases", () => {
    const fs = volume("/db/tables/1");
    const pause = new DeletionPause();
    const outer = pause.acquire();
    const inner = pause.acquire();
    pause.deleteOrDefer(fs, "/db/tables/1");
    inner.release();
    inner.release();
    expect(pause.isActive()).toBe(true);
    expect(fs.exists("/db/tables/1")).toBe(true);
    outer[Symbol.dispose]();
    expect(fs.exists("/db/tables/1")).toBe(false);
    outer.release();
    expect(pause.isActive()).toBe(false);
  });

  it("leaves the rest of the queue to a pause acquired during the drain", () => {
    const fs = new HookFs();
    fs.createDirAll("/db");
    for (const n of [1, 2, 3]) fs.open(`/db/${n}`, { write: true, createNew: true }).close();
    const pause = new DeletionPause();
    let second: PauseGuard | undefined;
    fs.hook = (path) => {
      if (path === "/db/1") second = pause.acquire();
    };
    const first = pause.acquire();
    for (const n of [1, 2, 3]) pause.deleteOrDefer(fs, `/db/${n}`);
    first.release();
    // /db/1 was removed (its removal was under way); the new generation holds the rest.
    expect(fs.exists("/db/1")).toBe(false);
    expect(fs.exists("/db/2") && fs.exists("/db/3")).toBe(true);
    expect(pause.pendingCount()).toBe(2);
    expect(pause.isActive()).toBe(true);
    fs.hook = () => {};
    (second as PauseGuard).release();
    expect(fs.exists("/db/2") || fs.exists("/db/3")).toBe(false);
    expect(pause.pendingCount()).toBe(0);
  });

  it("keeps draining after a pause taken and released inside the drain", () => {
    const fs = new HookFs();
    fs.createDirAll("/db");
    for (const n of [1, 2, 3]) fs.open(`/db/${n}`, { write: true, createNew: true }).close();
    const pause = new DeletionPause();
    const removed: string[] = [];
    fs.hook = (path) => {
      removed.push(path);
      const nested = pause.acquire();
      // Deferred into this generation, drained by the outer loop once the count is back to zero.
      if (path === "/db/1") pause.deleteOrDefer(fs, "/db/3");
      nested.release();
    };
    const guard = pause.acquire();
    pause.deleteOrDefer(fs, "/db/1");
    pause.deleteOrDefer(fs, "/db/2");
    guard.release();
    expect(removed).toEqual(["/db/1", "/db/2", "/db/3"]);
    expect(pause.pendingCount()).toBe(0);
  });

  it("reports removal errors to onError and never throws from release; ENOENT is ignored", () => {
    const inner = volume("/db/tables/1", "/db/tables/2");
    const fs = new FaultFs(inner, [{ ops: "removeFile", path: "/db/tables/1", error: "EIO" }]);
    const errors: { code: unknown; path: string }[] = [];
    const pause = new DeletionPause({
      onError: (error, path) => {
        errors.push({ code: (error as { code?: unknown }).code, path });
        throw new Error("a throwing callback must not escape release");
      },
    });
    const guard = pause.acquire();
    pause.deleteOrDefer(fs, "/db/tables/1");
    pause.deleteOrDefer(fs, "/db/tables/missing");
    pause.deleteOrDefer(fs, "/db/tables/2");
    expect(() => guard.release()).not.toThrow();
    expect(errors).toEqual([{ code: "EIO", path: "/db/tables/1" }]);
    expect(inner.exists("/db/tables/1")).toBe(true);
    expect(inner.exists("/db/tables/2")).toBe(false);
    expect(pause.pendingCount()).toBe(0);
  });

  it("works without an onError callback", () => {
    const fs: Fs = new FaultFs(volume("/db/tables/1"), [{ ops: "removeFile", error: "EIO" }]);
    const pause = new DeletionPause();
    const guard = pause.acquire();
    pause.deleteOrDefer(fs, "/db/tables/1");
    expect(() => guard.release()).not.toThrow();
  });
});

describe("DeletionPause.deleteInBackgroundOrDefer", () => {
  it("removes through removeFileAsync when offered, and idle() waits for it", async () => {
    const fs = new SlowAsyncFs();
    fs.createDirAll("/db/tables");
    fs.open("/db/tables/1", { write: true, createNew: true }).close();
    const pause = new DeletionPause();
    expect(pause.deleteInBackgroundOrDefer(fs, "/db/tables/1")).toBe("deleting");
    expect(fs.counts.asyncRemovals).toBe(1);
    // Started, not done: the removal settles on the filesystem's own time.
    expect(fs.exists("/db/tables/1")).toBe(true);
    await pause.idle();
    expect(fs.exists("/db/tables/1")).toBe(false);
  });

  it("falls back to removeFile, defers while paused, and reports failures other than ENOENT to onError", async () => {
    const errors: string[] = [];
    const fs = new FaultFs(volume("/db/tables/1", "/db/tables/2"), [{ ops: "removeFile", path: "/db/tables/2", error: "EIO" }]);
    const pause = new DeletionPause({ onError: (error, path) => errors.push(`${(error as { code?: string }).code} ${path}`) });
    expect(pause.deleteInBackgroundOrDefer(fs, "/db/tables/1")).toBe("deleting");
    expect(fs.exists("/db/tables/1")).toBe(false);
    expect(pause.deleteInBackgroundOrDefer(fs, "/db/tables/1")).toBe("deleting"); // already gone: fine
    const guard = pause.acquire();
    expect(pause.deleteInBackgroundOrDefer(fs, "/db/tables/2")).toBe("deferred");
    await pause.idle();
    expect(errors).toEqual([]);
    guard.release();
    expect(errors).toEqual(["EIO /db/tables/2"]);
    expect(pause.deleteInBackgroundOrDefer(fs, "/db/tables/2")).toBe("deleting");
    await pause.idle();
    expect(fs.exists("/db/tables/2")).toBe(false);
  });
});

