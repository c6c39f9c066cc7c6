import { describe, expect, it } from "vitest";
import { COPY_CHUNK_BYTES, MemFs, copyFileAcross } from "@talus/fs";

describe("copyFileAcross", () => {
  it("copies between two backends byte for byte, for sizes around the chunk size", () => {
    for (const size of [0, 1, COPY_CHUNK_BYTES - 1, COPY_CHUNK_BYTES, COPY_CHUNK_BYTES + 1, 3 * COPY_CHUNK_BYTES + 5]) {
      const from = new MemFs();
      const to = new MemFs();
      const payload = new Uint8Array(size).map((_, i) => (i * 7 + size) & 0xff);
      const f = from.open("/src", { write: true, createNew: true });
      f.write(payload);
      f.close();
      expect(copyFileAcross(from, "/src", to, "/dst")).toBe(size);
      const out = new Uint8Array(size);
      const g = to.open("/dst", { read: true });
      expect(g.readAt(out, 0)).toBe(size);
      expect(g.len()).toBe(size);
      g.close();
      expect(out).toEqual(payload);
    }
  });

  it("fails with ENOENT for a missing source and creates nothing", () => {
    const to = new MemFs();
    expect(() => copyFileAcross(new MemFs(), "/missing", to, "/dst")).toThrow(expect.objectContaining({ code: "ENOENT" }));
    expect(to.exists("/dst")).toBe(false);
  });
});
