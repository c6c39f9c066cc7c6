// The io_uring part of the @talus/fs addon (Node-API, C, liburing linked statically): the data path of
// IoUringFs. Compiled only where the build found liburing (binding.gyp sets TALUS_HAVE_LIBURING); talus_fs.c
// calls talus_iouring_init() to add these functions to the module's exports.
//
// One Ring per IoUringFs. A ring is owned by one thread of this addon, the ring thread, which is the only
// thread that touches the submission and completion queues:
//
//   callers (the JS thread)                      ring thread
//   ---------------------------------------     -----------------------------------------------------------
//   build Op(s), lock, append to the queue,  -> loop: move queued ops into SQEs (up to the ring's size),
//   write the eventfd if the thread sleeps      unlock, io_uring_submit_and_wait(1) (one io_uring_enter
//                                               submits everything queued since the last one), lock,
//   sync:  wait on the op's condition        <- reap CQEs by user_data (the Op): a short read or write or
//          variable until it completes          EINTR/EAGAIN goes back to the head of the queue for the rest;
//   async: a promise; the ring thread puts  <- a finished op wakes its sync waiter, or goes to the done list
//          the op on the done list and calls    and the threadsafe function runs deliver() on the JS thread,
//          the threadsafe function; deliver()   which resolves the promises (never libuv's threadpool).
//          resolves with the result
//
// The thread sleeps only inside io_uring_enter. A read of an eventfd is always armed in the ring, so a
// caller that queues work while the thread sleeps writes the eventfd and the thread wakes. With nothing
// to submit, the thread first polls the queue and the completion queue for spinMicros (default 10 µs),
// and a blocked synchronous caller polls for its completion as long before it waits on its condition
// variable: a page-cache read completes within microseconds, so back-to-back synchronous calls then cost
// one io_uring_enter and no thread wake-ups (each wake-up is ~20 µs).
//
// Results are numbers: >= 0 (bytes, or 0 for fsync/unlink), or -errno; the JS side turns -errno into
// node-style errors. Reads are fill-or-EOF (short reads are continued), writes write everything.
//
// Lifetime: close() (iouringClose), the garbage collector (the external's finalizer) or the environment's
// teardown (a cleanup hook, e.g. a worker thread ending) stop the thread: it stops taking work, completes
// everything queued or in flight, and is joined before the ring is torn down, so no thread outlives its
// ring and no promise is left pending by close(). While async operations are pending, the ring keeps a
// strong reference to its JS object (it cannot be collected) and keeps the event loop alive.
#define _GNU_SOURCE /* pthread_setname_np */
#define NAPI_VERSION 8
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define WAKE_TAG UINT64_MAX
/* Largest length one SQE asks for; longer reads and writes continue like short ones. */
#define MAX_CHUNK (1u << 30)
/* EINTR/EAGAIN (and writes of 0 bytes) are retried this many times in a row before the error is reported. */
#define MAX_RETRIES 10000
/* Consecutive failing io_uring_enter calls before the ring is declared broken. */
#define MAX_ENTER_FAILURES 64

enum OpKind { OP_READ, OP_WRITE, OP_FSYNC, OP_UNLINK };

typedef struct Waiter {
  pthread_cond_t cv;
  size_t remaining;
} Waiter;

typedef struct Op {
  struct Op* next;   /* queue or done list */
  struct Op* inext;  /* in-flight list */
  struct Op* iprev;
  int kind;
  int fd;
  int datasync;
  int retries;
  uint8_t* buf;
  uint64_t len;
  uint64_t done;
  int64_t offset;    /* -1: append (the file's O_APPEND decides) */
  char* path;        /* unlink */
  int64_t result;
  Waiter* waiter;    /* sync callers */
  napi_deferred deferred; /* async callers */
} Op;

typedef struct Ring {
  struct io_uring ring;
  int ring_ready;
  unsigned entries;
  unsigned max_inflight;
  int cur_pos;
  int can_unlink;
  uint64_t spin_ns;    /* how long the ring thread and a blocked caller poll before sleeping */
  int wake_fd;
  uint64_t wake_buf;
  pthread_t thread;
  int thread_started;
  int thread_joined;

  pthread_mutex_t mu;
  pthread_cond_t stop_cv; /* signalled by shutdown_ring, for a thread whose ring broke */
  Op* queue_head;
  Op* queue_tail;
  Op* inflight_head;
  unsigned inflight;
  int stopping;
  int sleeping;
  int wake_sent;
  int broken;          /* errno of a fatal ring failure */
  Op* done_head;
  Op* done_tail;
  int notify_pending;
  /* statistics (under mu) */
  double stat_submits;
  double stat_sqes;
  double stat_max_batch;
  double stat_completions;

  /* JS thread only */
  napi_threadsafe_function tsfn;
  int tsfn_released;
  int tsfn_finalized;
  napi_ref self;
  size_t async_pending;
  int owners;
  int hook_registered;
} Ring;

static volatile int live_threads = 0;

/* ------------------------------------------------------------------------------------------------ */
/* Queues (callers hold r->mu)                                                                      */

/* queue_head is also read without the lock (atomically, as a hint) by the polling ring thread. */
static void queue_push_back(Ring* r, Op* first, Op* last) {
  last->next = NULL;
  if (r->queue_tail == NULL) __atomic_store_n(&r->queue_head, first, __ATOMIC_RELEASE);
  else r->queue_tail->next = first;
  r->queue_tail = last;
}

static void queue_push_front(Ring* r, Op* op) {
  op->next = r->queue_head;
  __atomic_store_n(&r->queue_head, op, __ATOMIC_RELEASE);
  if (r->queue_tail == NULL) r->queue_tail = op;
}

static Op* queue_pop(Ring* r) {
  Op* op = r->queue_head;
  if (op == NULL) return NULL;
  __atomic_store_n(&r->queue_head, op->next, __ATOMIC_RELEASE);
  if (r->queue_head == NULL) r->queue_tail = NULL;
  op->next = NULL;
  return op;
}

static void inflight_add(Ring* r, Op* op) {
  op->iprev = NULL;
  op->inext = r->inflight_head;
  if (r->inflight_head != NULL) r->inflight_head->iprev = op;
  r->inflight_head = op;
  r->inflight++;
}

static void inflight_remove(Ring* r, Op* op) {
  if (op->iprev != NULL) op->iprev->inext = op->inext;
  else r->inflight_head = op->inext;
  if (op->inext != NULL) op->inext->iprev = op->iprev;
  op->inext = op->iprev = NULL;
  r->inflight--;
}

static void wake_thread(Ring* r) {
  if (!r->sleeping || r->wake_sent) return;
  r->wake_sent = 1;
  uint64_t one = 1;
  ssize_t n;
  do n = write(r->wake_fd, &one, sizeof one);
  while (n < 0 && errno == EINTR);
}

/* A finished op: wakes its sync waiter or hands it to the JS thread. */
static void complete(Ring* r, Op* op, int64_t result) {
  op->result = result;
  r->stat_completions++;
  if (op->waiter != NULL) {
    if (__atomic_sub_fetch(&op->waiter->remaining, 1, __ATOMIC_RELEASE) == 0) pthread_cond_signal(&op->waiter->cv);
    return;
  }
  op->next = NULL;
  if (r->done_tail == NULL) r->done_head = op;
  else r->done_tail->next = op;
  r->done_tail = op;
  if (!r->notify_pending) {
    r->notify_pending = 1;
    /* Fails only while the environment is being torn down; the op is then freed with the ring. */
    napi_call_threadsafe_function(r->tsfn, NULL, napi_tsfn_nonblocking);
  }
}

/* ------------------------------------------------------------------------------------------------ */
/* Spinning                                                                                         */

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* ------------------------------------------------------------------------------------------------ */
/* The ring thread                                                                                  */

static void prep_op(Ring* r, struct io_uring_sqe* sqe, Op* op) {
  switch (op->kind) {
    case OP_READ:
    case OP_WRITE: {
      uint64_t left = op->len - op->done;
      unsigned n = left > MAX_CHUNK ? MAX_CHUNK : (unsigned)left;
      uint64_t offset;
      if (op->offset < 0) offset = r->cur_pos ? (uint64_t)-1 : 0; /* O_APPEND writes at the end either way */
      else offset = (uint64_t)op->offset + op->done;
      if (op->kind == OP_READ) io_uring_prep_read(sqe, op->fd, op->buf + op->done, n, offset);
      else io_uring_prep_write(sqe, op->fd, op->buf + op->done, n, offset);
      break;
    }
    case OP_FSYNC:
      io_uring_prep_fsync(sqe, op->fd, op->datasync ? IORING_FSYNC_DATASYNC : 0);
      break;
    case OP_UNLINK:
      io_uring_prep_unlinkat(sqe, AT_FDCWD, op->path, 0);
      break;
  }
  io_uring_sqe_set_data(sqe, op);
}

static void retry_or_fail(Ring* r, Op* op, int64_t error) {
  if (++op->retries < MAX_RETRIES) queue_push_front(r, op);
  else complete(r, op, error);
}

/* One CQE of an op (r->mu held). */
static void on_completion(Ring* r, Op* op, int res) {
  inflight_remove(r, op);
  if (res == -EINTR || res == -EAGAIN) {
    retry_or_fail(r, op, res);
    return;
  }
  if (res < 0) {
    complete(r, op, res);
    return;
  }
  switch (op->kind) {
    case OP_READ:
      if (res == 0) {
        complete(r, op, (int64_t)op->done); /* end of file */
        return;
      }
      break;
    case OP_WRITE:
      if (res == 0) {
        retry_or_fail(r, op, -EIO);
        return;
      }
      break;
    default:
      complete(r, op, res);
      return;
  }
  op->done += (uint64_t)res;
  op->retries = 0;
  if (op->done < op->len) queue_push_front(r, op); /* short: the rest goes next */
  else complete(r, op, (int64_t)op->done);
}

/* Reaps every available CQE (r->mu held); returns how many. Sets *wake_armed to 0 on the wake read. */
static unsigned reap(Ring* r, int* wake_armed) {
  unsigned head, seen = 0;
  struct io_uring_cqe* cqe;
  io_uring_for_each_cqe(&r->ring, head, cqe) {
    seen++;
    if (cqe->user_data == WAKE_TAG) {
      *wake_armed = 0;
      r->wake_sent = 0;
      continue;
    }
    on_completion(r, (Op*)(uintptr_t)cqe->user_data, cqe->res);
  }
  if (seen > 0) io_uring_cq_advance(&r->ring, seen);
  return seen;
}

/*
 * io_uring_enter keeps failing: fail what never reached the kernel; what did is waited for a while (the
 * kernel may still complete it into the caller's buffer, so it is not abandoned early), then failed too.
 */
static void give_up(Ring* r, int error, int* wake_armed) {
  r->broken = error;
  unsigned failed = 0;
  Op* op;
  while ((op = queue_pop(r)) != NULL) {
    complete(r, op, -EIO);
    failed++;
  }
  for (int i = 0; i < 2000 && r->inflight > 0; i++) {
    reap(r, wake_armed);
    while ((op = queue_pop(r)) != NULL) {
      complete(r, op, -EIO);
      failed++;
    }
    if (r->inflight == 0) break;
    pthread_mutex_unlock(&r->mu);
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
    pthread_mutex_lock(&r->mu);
  }
  while (r->inflight_head != NULL) {
    op = r->inflight_head;
    inflight_remove(r, op);
    complete(r, op, -EIO);
    failed++;
  }
  fprintf(stderr, "@talus/fs: io_uring failed (%s); %u operations failed with EIO, this IoUringFs now fails every read, write and sync\n",
          strerror(error), failed);
}

static void* ring_main(void* arg) {
  Ring* r = (Ring*)arg;
#ifdef __linux__
  pthread_setname_np(pthread_self(), "talus-uring");
#endif
  int wake_armed = 0;
  int failures = 0;
  pthread_mutex_lock(&r->mu);
  for (;;) {
    if (!wake_armed && !r->stopping) {
      struct io_uring_sqe* sqe = io_uring_get_sqe(&r->ring);
      if (sqe != NULL) {
        io_uring_prep_read(sqe, r->wake_fd, &r->wake_buf, sizeof r->wake_buf, 0);
        io_uring_sqe_set_data64(sqe, WAKE_TAG);
        wake_armed = 1;
      }
    }
    unsigned fed = 0;
    while (r->queue_head != NULL && r->inflight < r->max_inflight) {
      struct io_uring_sqe* sqe = io_uring_get_sqe(&r->ring);
      if (sqe == NULL) break;
      Op* op = queue_pop(r);
      prep_op(r, sqe, op);
      inflight_add(r, op);
      fed++;
    }
    if (fed > 0) {
      r->stat_submits++;
      r->stat_sqes += fed;
      if (fed > r->stat_max_batch) r->stat_max_batch = fed;
    }
    if (r->stopping && r->queue_head == NULL && r->inflight == 0) break;
    if (fed == 0 && r->spin_ns > 0 && !r->stopping) {
      /*
       * Nothing new to submit: poll the queue (and the completions of what is in flight) for a moment
       * before sleeping in the kernel, so that back-to-back synchronous calls need no wake-up.
       */
      pthread_mutex_unlock(&r->mu);
      uint64_t until = now_ns() + r->spin_ns;
      int found = 0;
      do {
        for (int k = 0; k < 64; k++) {
          if (__atomic_load_n(&r->queue_head, __ATOMIC_RELAXED) != NULL || __atomic_load_n(&r->stopping, __ATOMIC_RELAXED) ||
              io_uring_cq_ready(&r->ring) > 0) {
            found = 1;
            break;
          }
          cpu_relax();
        }
      } while (!found && now_ns() < until);
      pthread_mutex_lock(&r->mu);
      if (io_uring_cq_ready(&r->ring) > 0) {
        reap(r, &wake_armed);
        continue;
      }
      /* Re-checked under the lock: a caller that queued after the last poll saw the thread awake and wrote no wake-up. */
      if (found || r->queue_head != NULL || r->stopping) continue;
    }
    r->sleeping = 1;
    pthread_mutex_unlock(&r->mu);
    int ret = io_uring_submit_and_wait(&r->ring, 1);
    pthread_mutex_lock(&r->mu);
    r->sleeping = 0;
    unsigned seen = reap(r, &wake_armed);
    if (ret >= 0 || ret == -EINTR || ret == -ETIME) {
      failures = 0;
      continue;
    }
    /* -EAGAIN / -EBUSY: the kernel is short of resources or the CQ overflowed; reaping makes room. */
    if (seen > 0 && (ret == -EAGAIN || ret == -EBUSY)) continue;
    if (++failures >= MAX_ENTER_FAILURES) {
      give_up(r, -ret, &wake_armed);
      /* Nothing can be submitted any more (enqueue_locked refuses work with EIO): wait to be stopped. */
      while (!r->stopping) pthread_cond_wait(&r->stop_cv, &r->mu);
      break;
    }
    pthread_mutex_unlock(&r->mu);
    struct timespec pause = {0, 100000L * failures};
    nanosleep(&pause, NULL);
    pthread_mutex_lock(&r->mu);
  }
  pthread_mutex_unlock(&r->mu);
  __atomic_sub_fetch(&live_threads, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

/* Stops the ring thread after it completed everything queued or in flight, then tears the ring down. */
static void shutdown_ring(Ring* r) {
  if (r->thread_started && !r->thread_joined) {
    pthread_mutex_lock(&r->mu);
    __atomic_store_n(&r->stopping, 1, __ATOMIC_RELEASE);
    wake_thread(r);
    pthread_cond_signal(&r->stop_cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    r->thread_joined = 1;
  }
  pthread_mutex_lock(&r->mu);
  __atomic_store_n(&r->stopping, 1, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&r->mu);
  if (r->ring_ready) {
    io_uring_queue_exit(&r->ring);
    r->ring_ready = 0;
  }
  if (r->wake_fd >= 0) {
    close(r->wake_fd);
    r->wake_fd = -1;
  }
}

/* ------------------------------------------------------------------------------------------------ */
/* JS-thread side                                                                                   */

static void drop_owner(Ring* r) {
  if (--r->owners > 0) return;
  pthread_mutex_destroy(&r->mu);
  pthread_cond_destroy(&r->stop_cv);
  free(r);
}

static void free_op(Op* op) {
  free(op->path);
  free(op);
}

static void async_started(Ring* r, napi_env env) {
  if (r->async_pending++ == 0) {
    napi_ref_threadsafe_function(env, r->tsfn);
    napi_reference_ref(env, r->self, NULL);
  }
}

static void async_finished(Ring* r, napi_env env) {
  if (--r->async_pending == 0) {
    napi_unref_threadsafe_function(env, r->tsfn);
    napi_reference_unref(env, r->self, NULL);
  }
}

/* Resolves the promises of finished async ops (env NULL: the environment is gone, just free them). */
static void settle(Ring* r, napi_env env, Op* list) {
  while (list != NULL) {
    Op* op = list;
    list = op->next;
    if (env != NULL) {
      napi_value value;
      napi_create_double(env, (double)op->result, &value);
      napi_resolve_deferred(env, op->deferred, value);
      async_finished(r, env);
    }
    free_op(op);
  }
}

static Op* take_done(Ring* r) {
  pthread_mutex_lock(&r->mu);
  Op* list = r->done_head;
  r->done_head = r->done_tail = NULL;
  r->notify_pending = 0;
  pthread_mutex_unlock(&r->mu);
  return list;
}

static void deliver(napi_env env, napi_value js_cb, void* context, void* data) {
  Ring* r = (Ring*)context;
  settle(r, env, take_done(r));
}

static void release_tsfn(Ring* r) {
  if (r->tsfn_released || r->tsfn_finalized) return;
  r->tsfn_released = 1;
  napi_release_threadsafe_function(r->tsfn, napi_tsfn_release);
}

static void tsfn_finalized(napi_env env, void* data, void* hint) {
  Ring* r = (Ring*)data;
  r->tsfn_finalized = 1;
  drop_owner(r);
}

static void cleanup_hook(void* arg) {
  Ring* r = (Ring*)arg;
  r->hook_registered = 0;
  shutdown_ring(r);
}

static void ring_finalize(napi_env env, void* data, void* hint) {
  Ring* r = (Ring*)data;
  shutdown_ring(r);
  settle(r, NULL, take_done(r));
  if (r->hook_registered) {
    r->hook_registered = 0;
    napi_remove_env_cleanup_hook(env, cleanup_hook, r);
  }
  if (r->self != NULL) {
    napi_delete_reference(env, r->self);
    r->self = NULL;
  }
  release_tsfn(r);
  drop_owner(r);
}

/* ------------------------------------------------------------------------------------------------ */
/* Argument helpers                                                                                 */

static napi_value throw_type(napi_env env, const char* message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static napi_value number(napi_env env, double value) {
  napi_value result;
  napi_create_double(env, value, &result);
  return result;
}

static Ring* get_ring(napi_env env, napi_value value) {
  napi_valuetype type;
  void* data = NULL;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external || napi_get_value_external(env, value, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "not an io_uring ring");
    return NULL;
  }
  return (Ring*)data;
}

static int get_bytes(napi_env env, napi_value value, uint8_t** data, size_t* length) {
  napi_typedarray_type type;
  size_t count;
  void* raw;
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  if (napi_get_typedarray_info(env, value, &type, &count, &raw, NULL, NULL) != napi_ok) return 0;
  if (type != napi_uint8_array && type != napi_uint8_clamped_array) return 0;
  *data = (uint8_t*)raw;
  *length = count;
  return 1;
}

static int get_int64(napi_env env, napi_value value, int64_t* out) {
  return napi_get_value_int64(env, value, out) == napi_ok;
}

static int get_int32(napi_env env, napi_value value, int32_t* out) {
  return napi_get_value_int32(env, value, out) == napi_ok;
}

/* The call's first n arguments into argv[0..n), argv[0] a ring: the ring, or NULL with a TypeError thrown
 * (`usage` when there are fewer than n arguments). */
static Ring* ring_call(napi_env env, napi_callback_info info, size_t n, napi_value* argv, const char* usage) {
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < n) {
    throw_type(env, usage);
    return NULL;
  }
  return get_ring(env, argv[0]);
}

/* Queues ops first..last (r->mu held); -errno when the ring takes no more work. */
static int enqueue_locked(Ring* r, Op* first, Op* last) {
  if (r->stopping) return -EBADF;
  if (r->broken) return -EIO;
  queue_push_back(r, first, last);
  wake_thread(r);
  return 0;
}

/* Runs ops[0..n) and blocks the caller until all of them completed. */
static int run_sync(Ring* r, Op* ops, size_t n) {
  Waiter waiter;
  pthread_cond_init(&waiter.cv, NULL);
  waiter.remaining = n;
  for (size_t i = 0; i < n; i++) {
    ops[i].waiter = &waiter;
    ops[i].next = i + 1 < n ? &ops[i + 1] : NULL;
  }
  pthread_mutex_lock(&r->mu);
  int err = enqueue_locked(r, &ops[0], &ops[n - 1]);
  pthread_mutex_unlock(&r->mu);
  if (err == 0 && r->spin_ns > 0) {
    /* Most reads come from the page cache within microseconds: poll before sleeping on the condition. */
    uint64_t until = now_ns() + r->spin_ns;
    while (__atomic_load_n(&waiter.remaining, __ATOMIC_ACQUIRE) > 0 && now_ns() < until)
      for (int k = 0; k < 64 && __atomic_load_n(&waiter.remaining, __ATOMIC_ACQUIRE) > 0; k++) cpu_relax();
  }
  pthread_mutex_lock(&r->mu);
  if (err == 0)
    while (__atomic_load_n(&waiter.remaining, __ATOMIC_ACQUIRE) > 0) pthread_cond_wait(&waiter.cv, &r->mu);
  pthread_mutex_unlock(&r->mu);
  pthread_cond_destroy(&waiter.cv);
  return err;
}

/* ------------------------------------------------------------------------------------------------ */
/* Exported functions                                                                               */

static const char* errno_name(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case ENOSYS: return "ENOSYS";
    case ENOMEM: return "ENOMEM";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return "EIO";
  }
}

/* iouringProbe() -> undefined when io_uring works here, else a sentence saying why not. */
static napi_value probe(napi_env env, napi_callback_info info) {
  char reason[256] = "";
  struct io_uring ring;
  int ret = io_uring_queue_init(4, &ring, 0);
  if (ret < 0) {
    snprintf(reason, sizeof reason, "io_uring_setup failed with %s (%s)%s", errno_name(-ret), strerror(-ret),
             -ret == ENOSYS || -ret == EPERM ? ": io_uring is missing, disabled or filtered (seccomp) here" : "");
  } else {
    struct io_uring_probe* p = io_uring_get_probe_ring(&ring);
    if (p == NULL) {
      snprintf(reason, sizeof reason, "the kernel cannot list its io_uring operations (Linux 5.6 or newer is needed)");
    } else {
      if (!io_uring_opcode_supported(p, IORING_OP_READ) || !io_uring_opcode_supported(p, IORING_OP_WRITE) ||
          !io_uring_opcode_supported(p, IORING_OP_FSYNC))
        snprintf(reason, sizeof reason, "the kernel's io_uring has no read, write or fsync operation (Linux 5.6 or newer is needed)");
      io_uring_free_probe(p);
    }
    if (reason[0] == '\0') {
      /* A no-op round trip: io_uring_setup may be allowed where io_uring_enter is not. */
      struct io_uring_sqe* sqe = io_uring_get_sqe(&ring);
      io_uring_prep_nop(sqe);
      struct io_uring_cqe* cqe = NULL;
      ret = io_uring_submit_and_wait(&ring, 1);
      if (ret >= 0) ret = io_uring_peek_cqe(&ring, &cqe);
      if (ret < 0 || cqe == NULL)
        snprintf(reason, sizeof reason, "io_uring_enter failed with %s (%s)", errno_name(ret < 0 ? -ret : EIO), strerror(ret < 0 ? -ret : EIO));
      else io_uring_cqe_seen(&ring, cqe);
    }
    io_uring_queue_exit(&ring);
  }
  napi_value result;
  if (reason[0] == '\0') napi_get_undefined(env, &result);
  else napi_create_string_utf8(env, reason, NAPI_AUTO_LENGTH, &result);
  return result;
}

static napi_value throw_errno(napi_env env, int err, const char* what) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s (%s)", errno_name(err), what, strerror(err));
  napi_throw_error(env, errno_name(err), message);
  return NULL;
}

/* Runs one op and blocks until it completed: its result (bytes, 0) or -errno, as a number. */
static napi_value run_one(napi_env env, Ring* r, Op* op) {
  int err = run_sync(r, op, 1);
  return number(env, err != 0 ? err : (double)op->result);
}

/* fsync's and fsyncAsync's (ring, fd, datasync): the ring, or NULL with a TypeError thrown (`usage` when
 * an argument is missing, `bad` when one does not parse). */
static Ring* fsync_args(napi_env env, napi_callback_info info, const char* usage, const char* bad, int32_t* fd, bool* datasync) {
  napi_value argv[3];
  Ring* r = ring_call(env, info, 3, argv, usage);
  if (r == NULL) return NULL;
  if (!get_int32(env, argv[1], fd) || napi_get_value_bool(env, argv[2], datasync) != napi_ok) {
    throw_type(env, bad);
    return NULL;
  }
  return r;
}

/* iouringCreate(entries, spinMicros) -> ring (an external). */
static napi_value create(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t entries, spin_us;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || !get_int32(env, argv[0], &entries) || entries < 2 || entries > 32768 ||
      !get_int32(env, argv[1], &spin_us) || spin_us < 0 || spin_us > 1000000)
    return throw_type(env, "iouringCreate(entries, spinMicros): entries from 2 to 32768, spinMicros from 0 to 1000000");
  Ring* r = calloc(1, sizeof *r);
  if (r == NULL) return throw_errno(env, ENOMEM, "io_uring ring");
  r->wake_fd = -1;
  r->spin_ns = (uint64_t)spin_us * 1000u;
  struct io_uring_params params;
  memset(&params, 0, sizeof params);
  params.flags = IORING_SETUP_CLAMP;
  int ret = io_uring_queue_init_params((unsigned)entries, &r->ring, &params);
  if (ret < 0) {
    free(r);
    return throw_errno(env, -ret, "io_uring_queue_init");
  }
  r->ring_ready = 1;
  r->entries = params.sq_entries;
  r->max_inflight = params.sq_entries - 1; /* one SQE for the wake read; the CQ holds twice as many */
  r->cur_pos = (params.features & IORING_FEAT_RW_CUR_POS) != 0;
  struct io_uring_probe* p = io_uring_get_probe_ring(&r->ring);
  if (p != NULL) {
    r->can_unlink = io_uring_opcode_supported(p, IORING_OP_UNLINKAT);
    io_uring_free_probe(p);
  }
  r->wake_fd = eventfd(0, EFD_CLOEXEC);
  if (r->wake_fd < 0) {
    int err = errno;
    io_uring_queue_exit(&r->ring);
    free(r);
    return throw_errno(env, err, "eventfd");
  }
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->stop_cv, NULL);
  napi_value name;
  napi_create_string_utf8(env, "talus-iouring", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, r, tsfn_finalized, r, deliver, &r->tsfn) != napi_ok) {
    shutdown_ring(r);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->stop_cv);
    free(r);
    napi_throw_error(env, "EIO", "EIO: cannot create a threadsafe function for io_uring completions");
    return NULL;
  }
  r->owners = 1; /* the threadsafe function */
  napi_unref_threadsafe_function(env, r->tsfn);
  napi_value external;
  if (napi_create_external(env, r, ring_finalize, NULL, &external) != napi_ok) {
    shutdown_ring(r);
    release_tsfn(r);
    napi_throw_error(env, "EIO", "EIO: cannot create the ring object");
    return NULL;
  }
  r->owners++; /* the external */
  napi_create_reference(env, external, 0, &r->self);
  /* Every signal blocked in the ring thread: signals go to node's own threads. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  __atomic_add_fetch(&live_threads, 1, __ATOMIC_SEQ_CST);
  int err = pthread_create(&r->thread, &attr, ring_main, r);
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (err != 0) {
    __atomic_sub_fetch(&live_threads, 1, __ATOMIC_SEQ_CST);
    shutdown_ring(r); /* the external's finalizer frees the rest */
    return throw_errno(env, err, "pthread_create");
  }
  r->thread_started = 1;
  r->hook_registered = 1;
  napi_add_env_cleanup_hook(env, cleanup_hook, r);
  return external;
}

/* iouringInfo(ring) -> { entries, unlinkAt } */
static napi_value ring_info(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  Ring* r = ring_call(env, info, 1, argv, "iouringInfo(ring)");
  if (r == NULL) return NULL;
  napi_value result, flag;
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "entries", number(env, r->entries));
  napi_get_boolean(env, r->can_unlink != 0, &flag);
  napi_set_named_property(env, result, "unlinkAt", flag);
  return result;
}

/* iouringStats(ring) -> { submits, sqes, maxBatch, completions } */
static napi_value ring_stats(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  Ring* r = ring_call(env, info, 1, argv, "iouringStats(ring)");
  if (r == NULL) return NULL;
  pthread_mutex_lock(&r->mu);
  double submits = r->stat_submits, sqes = r->stat_sqes, max_batch = r->stat_max_batch, completions = r->stat_completions;
  pthread_mutex_unlock(&r->mu);
  napi_value result;
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "submits", number(env, submits));
  napi_set_named_property(env, result, "sqes", number(env, sqes));
  napi_set_named_property(env, result, "maxBatch", number(env, max_batch));
  napi_set_named_property(env, result, "completions", number(env, completions));
  return result;
}

/* iouringRead(ring, fd, buffer, position) / iouringWrite(ring, fd, buffer, position | -1) -> bytes or -errno */
static napi_value read_write(napi_env env, napi_callback_info info, int kind) {
  napi_value argv[4];
  int32_t fd;
  int64_t position;
  uint8_t* data = NULL;
  size_t length = 0;
  Ring* r = ring_call(env, info, 4, argv, "read/write(ring, fd, buffer, position)");
  if (r == NULL) return NULL;
  if (!get_int32(env, argv[1], &fd) || !get_bytes(env, argv[2], &data, &length) || !get_int64(env, argv[3], &position) || position < -1 ||
      (position == -1 && kind == OP_READ))
    return throw_type(env, "read/write(ring, fd, buffer, position): bad argument");
  if (length == 0) return number(env, 0);
  Op op;
  memset(&op, 0, sizeof op);
  op.kind = kind;
  op.fd = fd;
  op.buf = data;
  op.len = length;
  op.offset = position;
  return run_one(env, r, &op);
}

static napi_value read_fn(napi_env env, napi_callback_info info) {
  return read_write(env, info, OP_READ);
}

static napi_value write_fn(napi_env env, napi_callback_info info) {
  return read_write(env, info, OP_WRITE);
}

/* iouringFsync(ring, fd, datasync) -> 0 or -errno */
static napi_value fsync_fn(napi_env env, napi_callback_info info) {
  int32_t fd;
  bool datasync = false;
  Ring* r = fsync_args(env, info, "fsync(ring, fd, datasync)", "fsync(ring, fd, datasync): bad argument", &fd, &datasync);
  if (r == NULL) return NULL;
  Op op;
  memset(&op, 0, sizeof op);
  op.kind = OP_FSYNC;
  op.fd = fd;
  op.datasync = datasync;
  return run_one(env, r, &op);
}

static napi_value start_async(napi_env env, Ring* r, Op* op) {
  napi_value promise;
  if (napi_create_promise(env, &op->deferred, &promise) != napi_ok) {
    free_op(op);
    return NULL;
  }
  async_started(r, env);
  pthread_mutex_lock(&r->mu);
  int err = enqueue_locked(r, op, op);
  pthread_mutex_unlock(&r->mu);
  if (err != 0) {
    op->result = err;
    op->next = NULL;
    settle(r, env, op);
  }
  return promise;
}

/* iouringFsyncAsync(ring, fd, datasync) -> Promise<0 | -errno> */
static napi_value fsync_async_fn(napi_env env, napi_callback_info info) {
  int32_t fd;
  bool datasync = false;
  Ring* r = fsync_args(env, info, "fsyncAsync(ring, fd, datasync)", "fsyncAsync(ring, fd, datasync): bad argument", &fd, &datasync);
  if (r == NULL) return NULL;
  Op* op = calloc(1, sizeof *op);
  if (op == NULL) return throw_errno(env, ENOMEM, "fsync");
  op->kind = OP_FSYNC;
  op->fd = fd;
  op->datasync = datasync;
  return start_async(env, r, op);
}

/* iouringUnlinkAsync(ring, path) -> Promise<0 | -errno> (only where iouringInfo says unlinkAt) */
static napi_value unlink_async_fn(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  Ring* r = ring_call(env, info, 2, argv, "unlinkAsync(ring, path)");
  if (r == NULL) return NULL;
  size_t length;
  if (napi_get_value_string_utf8(env, argv[1], NULL, 0, &length) != napi_ok) return throw_type(env, "unlinkAsync(ring, path): the path must be a string");
  Op* op = calloc(1, sizeof *op);
  char* path = malloc(length + 1);
  if (op == NULL || path == NULL) {
    free(op);
    free(path);
    return throw_errno(env, ENOMEM, "unlink");
  }
  napi_get_value_string_utf8(env, argv[1], path, length + 1, &length);
  op->kind = OP_UNLINK;
  op->path = path;
  if (!r->can_unlink || strlen(path) != length) {
    /* Never submitted: an embedded NUL would unlink another name. */
    napi_value promise;
    napi_deferred deferred;
    napi_create_promise(env, &deferred, &promise);
    napi_resolve_deferred(env, deferred, number(env, r->can_unlink ? -EINVAL : -EOPNOTSUPP));
    free_op(op);
    return promise;
  }
  return start_async(env, r, op);
}

/*
 * iouringReadMany(ring, fds: Int32Array, buffers: Uint8Array[], positions: Float64Array, results: Float64Array)
 * All reads are queued at once (one io_uring_enter submits as many as the ring holds); results[i] is the
 * byte count of read i (fill-or-EOF) or -errno.
 */
static napi_value read_many_fn(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  Ring* r = ring_call(env, info, 5, argv, "readMany(ring, fds, buffers, positions, results)");
  if (r == NULL) return NULL;
  napi_typedarray_type type;
  size_t n_fds, n_positions, n_results;
  void *fds_raw, *positions_raw, *results_raw;
  bool is_array = false;
  if (napi_get_typedarray_info(env, argv[1], &type, &n_fds, &fds_raw, NULL, NULL) != napi_ok || type != napi_int32_array ||
      napi_get_typedarray_info(env, argv[3], &type, &n_positions, &positions_raw, NULL, NULL) != napi_ok || type != napi_float64_array ||
      napi_get_typedarray_info(env, argv[4], &type, &n_results, &results_raw, NULL, NULL) != napi_ok || type != napi_float64_array ||
      napi_is_array(env, argv[2], &is_array) != napi_ok || !is_array)
    return throw_type(env, "readMany(ring, fds, buffers, positions, results): bad argument");
  uint32_t n_buffers;
  napi_get_array_length(env, argv[2], &n_buffers);
  size_t n = n_fds;
  if (n_positions != n || n_results != n || n_buffers != n) return throw_type(env, "readMany: the arrays differ in length");
  int32_t* fds = (int32_t*)fds_raw;
  double* positions = (double*)positions_raw;
  double* results = (double*)results_raw;
  if (n == 0) return NULL;
  Op* ops = calloc(n, sizeof *ops);
  size_t* index = malloc(n * sizeof *index);
  if (ops == NULL || index == NULL) {
    free(ops);
    free(index);
    return throw_errno(env, ENOMEM, "readMany");
  }
  size_t queued = 0;
  for (size_t i = 0; i < n; i++) {
    napi_value element;
    uint8_t* data = NULL;
    size_t length = 0;
    if (napi_get_element(env, argv[2], (uint32_t)i, &element) != napi_ok || !get_bytes(env, element, &data, &length)) {
      free(ops);
      free(index);
      return throw_type(env, "readMany: every buffer must be a Uint8Array");
    }
    double position = positions[i];
    if (!(position >= 0 && position <= 9007199254740991.0) || position != (double)(int64_t)position) {
      results[i] = -EINVAL;
      continue;
    }
    if (length == 0) {
      results[i] = 0;
      continue;
    }
    Op* op = &ops[queued];
    op->kind = OP_READ;
    op->fd = fds[i];
    op->buf = data;
    op->len = length;
    op->offset = (int64_t)position;
    index[queued++] = i;
  }
  if (queued > 0) {
    int err = run_sync(r, ops, queued);
    for (size_t k = 0; k < queued; k++) results[index[k]] = err != 0 ? err : (double)ops[k].result;
  }
  free(ops);
  free(index);
  return NULL;
}

/* iouringClose(ring): completes everything queued, joins the thread, settles every promise. Idempotent. */
static napi_value close_fn(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  Ring* r = ring_call(env, info, 1, argv, "close(ring)");
  if (r == NULL) return NULL;
  shutdown_ring(r);
  settle(r, env, take_done(r));
  if (r->hook_registered) {
    r->hook_registered = 0;
    napi_remove_env_cleanup_hook(env, cleanup_hook, r);
  }
  release_tsfn(r);
  return NULL;
}

/* iouringLiveThreads() -> ring threads running in this process (all rings, all threads). */
static napi_value live_threads_fn(napi_env env, napi_callback_info info) {
  return number(env, __atomic_load_n(&live_threads, __ATOMIC_SEQ_CST));
}

__attribute__((visibility("hidden"))) void talus_iouring_init(napi_env env, napi_value exports) {
  static const struct {
    const char* name;
    napi_callback fn;
  } functions[] = {
      {"iouringProbe", probe},
      {"iouringCreate", create},
      {"iouringInfo", ring_info},
      {"iouringStats", ring_stats},
      {"iouringRead", read_fn},
      {"iouringWrite", write_fn},
      {"iouringFsync", fsync_fn},
      {"iouringFsyncAsync", fsync_async_fn},
      {"iouringUnlinkAsync", unlink_async_fn},
      {"iouringReadMany", read_many_fn},
      {"iouringClose", close_fn},
      {"iouringLiveThreads", live_threads_fn},
  };
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
    napi_value fn;
    napi_create_function(env, functions[i].name, NAPI_AUTO_LENGTH, functions[i].fn, NULL, &fn);
    napi_set_named_property(env, exports, functions[i].name, fn);
  }
}
