// Finds liburing for the addon's io_uring part: the path of liburing.a (the static library) when
// liburing-dev is installed and a program using it compiles and links here, "" otherwise (the addon is
// then built without its io_uring part: IoUringFs unavailable, memory maps still there).
// TALUS_FS_BUILD_IOURING=0 leaves io_uring out on purpose (to check that build).
//
// build-native.mjs imports it and hands the answer to node-gyp as the gyp variable talus_liburing;
// run directly, it prints the answer.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

/** The absolute path of a usable liburing.a, or "". */
export function findLiburing() {
  if (process.platform !== "linux" || process.env.TALUS_FS_BUILD_IOURING === "0") return "";
  const cc = process.env.CC || "cc";
  const located = spawnSync(cc, ["-print-file-name=liburing.a"], { encoding: "utf8" });
  const printed = located.status === 0 ? located.stdout.trim() : "";
  // An unknown library comes back as its bare name.
  if (!isAbsolute(printed)) return "";
  const library = resolve(printed);
  // What native/talus_iouring.c needs of liburing (2.2 or newer): a program that uses it must link.
  const program = `#include <fcntl.h>
#include <liburing.h>
int main(void) {
  struct io_uring ring;
  struct io_uring_sqe sqe;
  io_uring_prep_unlinkat(&sqe, AT_FDCWD, "x", 0);
  io_uring_sqe_set_data64(&sqe, 1);
  if (io_uring_queue_init(2, &ring, 0) < 0) return 0;
  struct io_uring_probe* probe = io_uring_get_probe_ring(&ring);
  if (probe != 0) io_uring_free_probe(probe);
  io_uring_submit_and_wait(&ring, 0);
  io_uring_queue_exit(&ring);
  return 0;
}
`;
  const dir = mkdtempSync(join(tmpdir(), "talus-liburing-"));
  try {
    const built = spawnSync(cc, ["-x", "c", "-", "-x", "none", "-o", join(dir, "probe"), library, "-pthread"], { input: program, encoding: "utf8" });
    return built.status === 0 ? library : "";
  } catch {
    return "";
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) process.stdout.write(findLiburing());
