import { describe, expect, it } from "vitest";
import { MemFs, readFileBytes, writeFileBytes } from "@talus/fs";

describe("readFileBytes / writeFileBytes", () => {
  it("round-trips, replaces longer contents whole, and reads an empty file", () => {
    const fs = new MemFs();
    writeFileBytes(fs, "/f", new Uint8Array([1, 2, 3, 4, 5]));
    writeFileBytes(fs, "/f", new Uint8Array([9, 8]), { sync: true });
    expect(readFileBytes(fs, "/f")).toEqual(new Uint8Array([9, 8]));
    writeFileBytes(fs, "/empty", new Uint8Array(0));
    expect(readFileBytes(fs, "/empty")).toHaveLength(0);
  });

  it("reports a missing file with ENOENT", () => {
    expect(() => readFileBytes(new MemFs(), "/missing")).toThrow(expect.objectContaining({ code: "ENOENT" }));
  });
});
