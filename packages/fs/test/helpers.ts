import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// @talus/fs cannot use testkit (testkit depends on it), so its tests keep this one tiny helper.
export function tempDirs(afterEach: (fn: () => void) => void): (parent?: string) => string {
  const made: string[] = [];
  afterEach(() => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return (parent = tmpdir()) => {
    const dir = mkdtempSync(join(parent, "talus-fs-"));
    made.push(dir);
    return dir;
  };
}

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (data: Uint8Array): string => new TextDecoder().decode(data);
