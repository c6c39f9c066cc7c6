// Without io_uring: TALUS_NO_IOURING turns it off (the whole suite also runs in that mode: the IoUringFs
// suites then skip and say why), and an addon built without liburing keeps its memory maps.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { IoUringFs, NO_IOURING_ENV, StdFs, ioUringUnavailableReason, isIoUringAvailable } from "../src/index.ts";
import { tempDirs } from "./helpers.ts";

const temp = tempDirs(afterEach);

describe(`${NO_IOURING_ENV}`, () => {
  const saved = process.env[NO_IOURING_ENV];
  afterEach(() => {
    if (saved === undefined) delete process.env[NO_IOURING_ENV];
    else process.env[NO_IOURING_ENV] = saved;
  });

  it("makes isIoUringAvailable() false and the constructor throw ENOTSUP with the reason", () => {
    process.env[NO_IOURING_ENV] = "1";
    expect(isIoUringAvailable()).toBe(false);
    expect(ioUringUnavailableReason()).toBe(`io_uring is turned off by ${NO_IOURING_ENV}=1`);
    expect(() => new IoUringFs()).toThrow(expect.objectContaining({ code: "ENOTSUP", message: expect.stringContaining(NO_IOURING_ENV) }));
    // StdFs, the fallback, is untouched.
    const dir = temp();
    const fs = new StdFs();
    fs.createDir(join(dir, "d"));
    expect(fs.exists(join(dir, "d"))).toBe(true);
  });

  it("is not set by an empty value or 0", () => {
    for (const value of ["", "0"]) {
      process.env[NO_IOURING_ENV] = value;
      expect(ioUringUnavailableReason() ?? "").not.toContain(NO_IOURING_ENV);
    }
  });
});

describe("the addon built without liburing", () => {
  it("installs, still maps files and has no io_uring functions", (ctx) => {
    const root = join(dirname(fileURLToPath(import.meta.url)), "..");
    if (!StdFs.mapsFiles() || !existsSync(join(root, "node_modules", "node-gyp"))) {
      console.log("skipped: no native build here (no compiler or no node-gyp at install)");
      ctx.skip();
      return;
    }
    // Run the install step on a copy of the package's native part, as on a machine without liburing-dev.
    const copy = temp();
    for (const part of ["native", "scripts", "binding.gyp", "package.json"]) cpSync(join(root, part), join(copy, part), { recursive: true });
    symlinkSync(join(root, "node_modules"), join(copy, "node_modules"));
    const built = spawnSync(process.execPath, [join(copy, "scripts", "build-native.mjs")], {
      cwd: copy,
      env: { ...process.env, TALUS_FS_BUILD_IOURING: "0" },
      encoding: "utf8",
    });
    expect(built.status, built.stderr).toBe(0);
    expect(built.stdout).toContain("liburing-dev not found");
    const addon = createRequire(join(copy, "package.json"))(join(copy, "build", "Release", "talus_fs.node")) as Record<string, unknown>;
    expect(typeof addon.map).toBe("function");
    expect(addon.iouringCreate).toBeUndefined();
  });
});
