// Every Fs backend runs the same contract. Adding a backend is one entry in BACKENDS: a name and a
// factory that returns a fresh instance and an empty root directory for each case.
import { describe, it } from "vitest";
import { ForwardingFs, MemFs, StdFs } from "@talus/fs";
import { CrashFs } from "../src/crash/index.ts";
import { FaultFs } from "../src/fault/index.ts";
import { fsContract, type FsUnderTest } from "../src/fs-contract/index.ts";
import { makeTempDir } from "../src/temp-dir.ts";

function stdFs(): FsUnderTest {
  const dir = makeTempDir("fs-contract");
  return { fs: new StdFs(), root: dir.path, cleanup: () => dir.remove() };
}

function memFs(): FsUnderTest {
  const fs = new MemFs();
  fs.createDirAll("/contract");
  return { fs, root: "/contract" };
}

function crashFs(): FsUnderTest {
  const fs = new CrashFs();
  fs.createDirAll("/contract");
  return { fs, root: "/contract" };
}

/** What a machine finds after power loss is itself a filesystem that must keep the whole contract. */
function crashImage(): FsUnderTest {
  const fs = new CrashFs();
  fs.createDirAll("/contract");
  fs.syncDirectory("/");
  const image = fs.crash();
  return { fs: image, root: "/contract" };
}

/** The base of every wrapper must be invisible. */
function forwarded(make: () => FsUnderTest): () => FsUnderTest {
  return () => {
    const inner = make();
    return { ...inner, fs: new ForwardingFs(inner.fs) };
  };
}

/** A FaultFs with no rules must be indistinguishable from what it wraps. */
function faultFree(make: () => FsUnderTest): () => FsUnderTest {
  return () => {
    const inner = make();
    return { ...inner, fs: new FaultFs(inner.fs) };
  };
}

const BACKENDS: ReadonlyArray<readonly [string, () => FsUnderTest]> = [
  ["StdFs", stdFs],
  ["MemFs", memFs],
  ["FaultFs(MemFs), no faults planned", faultFree(memFs)],
  ["FaultFs(StdFs), no faults planned", faultFree(stdFs)],
  ["ForwardingFs(MemFs)", forwarded(memFs)],
  ["CrashFs", crashFs],
  ["CrashFs after a crash", crashImage],
];

for (const [name, factory] of BACKENDS) fsContract({ describe, it }, name, factory);
