/*
 * tfbridge's native addon: the POSIX calls Node cannot make itself. Mostly mapping a file into memory
 * (the local link's shared regions); also pointing fd 2 elsewhere for a moment, because TensorFlow's C
 * library writes its load-time notices (oneDNN, cpu_feature_guard) straight to stderr, ignoring
 * TF_CPP_MIN_LOG_LEVEL, when tfjs-node loads it.
 *
 * map(fd, length)        -> a region handle (an External); the mapping outlives the fd.
 * slice(region, off, n)  -> an ArrayBuffer over bytes [off, off + n) of the mapping, no copy.
 * detach(arrayBuffer)    -> empties every view over that ArrayBuffer (its bytes are about to be reused).
 * muteStderr()           -> a duplicate of fd 2, which now points at /dev/null (-1 if that failed).
 * restoreStderr(saved)   -> fd 2 back to what `saved` duplicates; `saved` is closed.
 *
 * The mapping is counted: the handle holds one reference and every slice another, so munmap happens
 * only once the handle and every ArrayBuffer over the region have been collected. No JavaScript can
 * ever see unmapped memory, whatever order things are dropped in.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct {
  void *base;
  size_t length;
  int64_t refs;
} region_t;

static void unref(region_t *r) {
  if (__atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) == 0) {
    munmap(r->base, r->length);
    free(r);
  }
}

static void finalize_region(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  unref((region_t *)data);
}

static void finalize_slice(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  unref((region_t *)hint);
}

#define CHECK(call)                                             \
  do {                                                          \
    if ((call) != napi_ok) {                                    \
      napi_throw_error(env, "ERR_TFBRIDGE_SHM", #call " failed"); \
      return NULL;                                              \
    }                                                           \
  } while (0)

static napi_value map(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  int64_t length;
  if (argc != 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int64(env, argv[1], &length) != napi_ok || length <= 0) {
    napi_throw_type_error(env, "ERR_TFBRIDGE_SHM", "map(fd, length) needs a file descriptor and a positive length");
    return NULL;
  }
  void *base = mmap(NULL, (size_t)length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    napi_throw_error(env, "ERR_TFBRIDGE_SHM", "mmap failed");
    return NULL;
  }
  region_t *r = malloc(sizeof *r);
  if (!r) {
    munmap(base, (size_t)length);
    napi_throw_error(env, "ERR_TFBRIDGE_SHM", "out of memory");
    return NULL;
  }
  r->base = base;
  r->length = (size_t)length;
  r->refs = 1;
  napi_value handle;
  if (napi_create_external(env, r, finalize_region, NULL, &handle) != napi_ok) {
    finalize_region(env, r, NULL);
    napi_throw_error(env, "ERR_TFBRIDGE_SHM", "napi_create_external failed");
    return NULL;
  }
  return handle;
}

static napi_value slice(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_valuetype type = napi_undefined;
  if (argc == 3) napi_typeof(env, argv[0], &type);
  region_t *r = NULL;
  int64_t offset, length;
  if (type != napi_external || napi_get_value_external(env, argv[0], (void **)&r) != napi_ok ||
      napi_get_value_int64(env, argv[1], &offset) != napi_ok || napi_get_value_int64(env, argv[2], &length) != napi_ok ||
      offset < 0 || length < 0 || (uint64_t)offset + (uint64_t)length > r->length) {
    napi_throw_range_error(env, "ERR_TFBRIDGE_SHM", "slice(region, offset, length) must lie inside the region");
    return NULL;
  }
  __atomic_add_fetch(&r->refs, 1, __ATOMIC_ACQ_REL);
  napi_value buffer;
  if (napi_create_external_arraybuffer(env, (char *)r->base + offset, (size_t)length, finalize_slice, r, &buffer) != napi_ok) {
    unref(r);
    napi_throw_error(env, "ERR_TFBRIDGE_SHM", "napi_create_external_arraybuffer failed");
    return NULL;
  }
  return buffer;
}

static napi_value detach(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  bool is_buffer = false;
  if (argc != 1 || napi_is_arraybuffer(env, argv[0], &is_buffer) != napi_ok || !is_buffer) {
    napi_throw_type_error(env, "ERR_TFBRIDGE_SHM", "detach(arrayBuffer) needs an ArrayBuffer");
    return NULL;
  }
  CHECK(napi_detach_arraybuffer(env, argv[0]));
  return NULL;
}

static napi_value mute_stderr(napi_env env, napi_callback_info info) {
  (void)info;
  int saved = dup(2);
  int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (saved >= 0 && devnull >= 0 && dup2(devnull, 2) < 0) {
    close(saved);
    saved = -1;
  }
  if (devnull >= 0) close(devnull);
  if (devnull < 0 && saved >= 0) {
    close(saved);
    saved = -1;
  }
  napi_value result;
  CHECK(napi_create_int32(env, saved, &result));
  return result;
}

static napi_value restore_stderr(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t saved = -1;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 1 || napi_get_value_int32(env, argv[0], &saved) != napi_ok) {
    napi_throw_type_error(env, "ERR_TFBRIDGE_SHM", "restoreStderr(saved) needs the number muteStderr returned");
    return NULL;
  }
  if (saved >= 0) {
    dup2(saved, 2);
    close(saved);
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"map", NULL, map, NULL, NULL, NULL, napi_enumerable, NULL},
      {"slice", NULL, slice, NULL, NULL, NULL, napi_enumerable, NULL},
      {"detach", NULL, detach, NULL, NULL, NULL, napi_enumerable, NULL},
      {"muteStderr", NULL, mute_stderr, NULL, NULL, NULL, napi_enumerable, NULL},
      {"restoreStderr", NULL, restore_stderr, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, 5, props) != napi_ok) return NULL;
  return exports;
}
