// The native part of @talus/fs (Node-API, C): read-only memory maps of whole files, for StdFs.mapReadOnly.
//
// map(path) -> ArrayBuffer | undefined
//   Opens `path` read-only, maps all of it (PROT_READ, MAP_SHARED) and closes the descriptor: the mapping
//   keeps the file (even an unlinked one) until it is unmapped. The ArrayBuffer is external: its finalizer,
//   run when the garbage collector frees the last view, unmaps. An empty file gives undefined (nothing to
//   map). Errors throw with node's errno code ("ENOENT", ...), message "<code>: map '<path>'".
//
// The mapped size is reported to V8 as external memory, so that a process holding many maps of deleted
// files collects them (and gives the disk space back) without waiting for unrelated garbage.
//
// evict(path) -> undefined
//   Asks the kernel to drop the file's clean pages from the page cache (posix_fadvise POSIX_FADV_DONTNEED on
//   the whole file), so the next read of them goes to the device: how benchmarks measure cold reads without
//   the privilege /proc/sys/vm/drop_caches needs. Dirty pages stay until written back. Errors throw as map's do.
//
// Where the build found liburing (TALUS_HAVE_LIBURING), the io_uring functions of native/talus_iouring.c
// are exported too (iouringProbe, iouringCreate, ...: the data path of IoUringFs).
#define NAPI_VERSION 8
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char* errno_code(int err) {
  switch (err) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EISDIR: return "EISDIR";
    case ENOMEM: return "ENOMEM";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENODEV: return "ENODEV";
    case EINVAL: return "EINVAL";
    case EPERM: return "EPERM";
    case EOVERFLOW: return "EOVERFLOW";
    default: return "EIO";
  }
}

static napi_value throw_errno(napi_env env, int err, const char* path) {
  char message[4200];
  snprintf(message, sizeof message, "%s: map '%s' (%s)", errno_code(err), path, strerror(err));
  napi_throw_error(env, errno_code(err), message);
  return NULL;
}

typedef struct {
  size_t length;
} Mapping;

static void unmap(napi_env env, void* data, void* hint) {
  Mapping* mapping = (Mapping*)hint;
  int64_t adjusted;
  munmap(data, mapping->length);
  napi_adjust_external_memory(env, -(int64_t)mapping->length, &adjusted);
  free(mapping);
}

/* The call's path argument into path (PATH_BYTES): 1, or 0 with a TypeError thrown (`missing` without an
 * argument, `bad` when it is not a string shorter than PATH_BYTES - 1 bytes). */
#define PATH_BYTES 4096
static int get_path(napi_env env, napi_callback_info info, char* path, const char* missing, const char* bad) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) {
    napi_throw_type_error(env, NULL, missing);
    return 0;
  }
  size_t path_length;
  if (napi_get_value_string_utf8(env, argv[0], path, PATH_BYTES, &path_length) != napi_ok || path_length >= PATH_BYTES - 1) {
    napi_throw_type_error(env, NULL, bad);
    return 0;
  }
  return 1;
}

/* open(path, O_RDONLY | O_CLOEXEC), again when a signal interrupts it: the descriptor, or -1 with errno. */
static int open_read_only(const char* path) {
  int fd;
  do fd = open(path, O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  return fd;
}

static napi_value map(napi_env env, napi_callback_info info) {
  char path[PATH_BYTES];
  if (!get_path(env, info, path, "map(path) needs a path", "map(path): the path must be a string shorter than 4095 bytes")) return NULL;
  int fd = open_read_only(path);
  if (fd < 0) return throw_errno(env, errno, path);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, path);
  }
  if (S_ISDIR(st.st_mode)) {
    close(fd);
    return throw_errno(env, EISDIR, path);
  }
  napi_value result;
  if (st.st_size == 0) {
    close(fd);
    napi_get_undefined(env, &result);
    return result;
  }
  size_t length = (size_t)st.st_size;
  void* data = mmap(NULL, length, PROT_READ, MAP_SHARED, fd, 0);
  int err = errno;
  close(fd);
  if (data == MAP_FAILED) return throw_errno(env, err, path);
  Mapping* mapping = malloc(sizeof *mapping);
  if (mapping == NULL) {
    munmap(data, length);
    return throw_errno(env, ENOMEM, path);
  }
  mapping->length = length;
  if (napi_create_external_arraybuffer(env, data, length, unmap, mapping, &result) != napi_ok) {
    munmap(data, length);
    free(mapping);
    napi_throw_error(env, "ENOTSUP", "ENOTSUP: this runtime does not allow external ArrayBuffers");
    return NULL;
  }
  int64_t adjusted;
  napi_adjust_external_memory(env, (int64_t)length, &adjusted);
  return result;
}

static napi_value evict(napi_env env, napi_callback_info info) {
  const char* usage = "evict(path): the path must be a string shorter than 4095 bytes";
  char path[PATH_BYTES];
  if (!get_path(env, info, path, usage, usage)) return NULL;
  int fd = open_read_only(path);
  if (fd < 0) return throw_errno(env, errno, path);
  int err = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  close(fd);
  if (err != 0) return throw_errno(env, err, path);
  napi_value result;
  napi_get_undefined(env, &result);
  return result;
}

#ifdef TALUS_HAVE_LIBURING
__attribute__((visibility("hidden"))) void talus_iouring_init(napi_env env, napi_value exports);
#endif

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "map", NAPI_AUTO_LENGTH, map, NULL, &fn);
  napi_set_named_property(env, exports, "map", fn);
  napi_create_function(env, "evict", NAPI_AUTO_LENGTH, evict, NULL, &fn);
  napi_set_named_property(env, exports, "evict", fn);
#ifdef TALUS_HAVE_LIBURING
  talus_iouring_init(env, exports);
#endif
  return exports;
}
