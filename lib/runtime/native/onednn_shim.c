/*
 * The project's bridge to oneDNN 2.x (Debian libdnnl2: the library PyTorch runs its CPU
 * convolutions on) for Deno FFI. lib/runtime/onednn.ts loads it; lib/runtime/native/README.md
 * says how it is built and why it looks like this.
 *
 * Every tensor is a float32 array in TensorFlow.js's layout, handed over as a pointer into the
 * wasm backend's heap (zero copy): activations NHWC, convolution filters HWIO ([KH,KW,C,O]),
 * depthwise filters [KH,KW,C,M]. oneDNN picks its own weight layout ("any") and the shim
 * reorders the small filter in or out, because forcing HWIO selects a slow reference kernel.
 * Primitives are built once per shape and cached: a training step reuses every one.
 *
 * Geometry is passed as an int32 array (enum geom below) rather than 16 scalar parameters so
 * that the TypeScript side and this file name each field once.
 */
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

enum geom {
  G_N, G_H, G_W, G_C, G_OH, G_OW, G_O, G_KH, G_KW, G_SH, G_SW, G_DH, G_DW, G_PT, G_PL, G_GROUPS,
  G_COUNT
};

/* What the primitive computes: the forward convolution, the input gradient, the filter
 * gradient, and the two halves of training batch norm. */
enum kind { K_CONV_FWD, K_CONV_BWD_DATA, K_CONV_BWD_WEIGHTS, K_BN_FWD, K_BN_BWD };

extern void omp_set_num_threads(int);
extern int omp_get_max_threads(void);

/* Per calling thread: `deno test --parallel` runs test modules as isolates on several threads
 * of one process, each loading this library, so nothing here may be shared between them. */
static __thread dnnl_engine_t engine;
static __thread dnnl_stream_t stream;
/* Every primitive gets its own scratchpad (user mode): the library's default is a global one,
 * which is not safe when primitives run on several threads at once (this build of oneDNN has
 * DNNL_ENABLE_CONCURRENT_EXEC off). */
static __thread dnnl_primitive_attr_t attr;
static __thread char last_error[512];

static int fail(const char *what, dnnl_status_t status, int line) {
  snprintf(last_error, sizeof last_error, "%s failed with oneDNN status %d (onednn_shim.c:%d)",
           what, (int)status, line);
  return -1;
}

#define CHECK(x)                                   \
  do {                                             \
    dnnl_status_t s_ = (x);                        \
    if (s_ != dnnl_success) return fail(#x, s_, __LINE__); \
  } while (0)

/* One cached primitive with the user-side memory objects it runs on. Up to 9 arguments; the
 * ones whose layout oneDNN chose differently from ours go through a reorder into buf. */
#define MAX_ARGS 9
typedef struct {
  int kind, threads;
  int key[G_COUNT];
  dnnl_primitive_t prim;
  int nargs;
  int arg[MAX_ARGS];
  int is_output[MAX_ARGS];
  dnnl_memory_t user[MAX_ARGS];    /* our layout, handle set per call */
  dnnl_memory_t inner[MAX_ARGS];   /* oneDNN's layout when it differs, else NULL */
  dnnl_primitive_t reorder[MAX_ARGS];
  dnnl_memory_t reorder_scratch[MAX_ARGS];
  dnnl_memory_t scratch; /* the primitive's scratchpad, NULL when it needs none */
  /* Bytes of argument 0 to zero before running (0: none). See build_conv. */
  size_t zero_first;
} entry;

static __thread entry *cache;
static __thread int ncache, capacity;

EXPORT const char *reid_onednn_last_error(void) { return last_error; }

EXPORT int reid_onednn_version(void) {
  const dnnl_version_t *v = dnnl_version();
  return v->major * 10000 + v->minor * 100 + v->patch;
}

EXPORT void reid_onednn_set_threads(int n) { omp_set_num_threads(n > 0 ? n : 1); }

EXPORT int reid_onednn_threads(void) { return omp_get_max_threads(); }

static int init(void) {
  if (engine) return 0;
  CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
  CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
  CHECK(dnnl_primitive_attr_create(&attr));
  CHECK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
  return 0;
}

/* The scratchpad memory `pd` asks for, or NULL when it needs none. */
static int make_scratch(const_dnnl_primitive_desc_t pd, dnnl_memory_t *out) {
  *out = NULL;
  const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
  if (md && dnnl_memory_desc_get_size(md) > 0) {
    CHECK(dnnl_memory_create(out, md, engine, DNNL_MEMORY_ALLOCATE));
  }
  return 0;
}

static entry *lookup(int kind, const int *g) {
  int threads = omp_get_max_threads();
  for (int i = 0; i < ncache; i++) {
    entry *e = &cache[i];
    if (e->kind == kind && e->threads == threads && !memcmp(e->key, g, sizeof e->key)) return e;
  }
  return NULL;
}

static entry *add_entry(int kind, const int *g) {
  if (ncache == capacity) {
    int grown = capacity ? capacity * 2 : 64;
    entry *more = realloc(cache, (size_t)grown * sizeof *cache);
    if (!more) return NULL;
    cache = more;
    capacity = grown;
  }
  entry *e = &cache[ncache];
  memset(e, 0, sizeof *e);
  e->kind = kind;
  e->threads = omp_get_max_threads();
  memcpy(e->key, g, sizeof e->key);
  return e;
}

/* Binds argument `slot` of `e`: `user_md` is our layout, `query` asks the primitive for its own;
 * a reorder between them is built once when they differ. */
static int bind(entry *e, dnnl_primitive_desc_t pd, int slot, int arg, int is_output,
                const dnnl_memory_desc_t *user_md, dnnl_query_t query) {
  e->arg[slot] = arg;
  e->is_output[slot] = is_output;
  CHECK(dnnl_memory_create(&e->user[slot], user_md, engine, DNNL_MEMORY_NONE));
  const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, query, 0);
  if (md && !dnnl_memory_desc_equal(md, user_md)) {
    CHECK(dnnl_memory_create(&e->inner[slot], md, engine, DNNL_MEMORY_ALLOCATE));
    dnnl_primitive_desc_t rpd;
    if (is_output) {
      CHECK(dnnl_reorder_primitive_desc_create(&rpd, md, engine, user_md, engine, attr));
    } else {
      CHECK(dnnl_reorder_primitive_desc_create(&rpd, user_md, engine, md, engine, attr));
    }
    if (make_scratch(rpd, &e->reorder_scratch[slot])) return -1;
    CHECK(dnnl_primitive_create(&e->reorder[slot], rpd));
    dnnl_primitive_desc_destroy(rpd);
  }
  if (slot + 1 > e->nargs) e->nargs = slot + 1;
  return 0;
}

static int reorder(entry *e, int slot, dnnl_memory_t from, dnnl_memory_t to) {
  dnnl_exec_arg_t ra[3] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}, {DNNL_ARG_SCRATCHPAD, NULL}};
  int n = 2;
  if (e->reorder_scratch[slot]) ra[n++].memory = e->reorder_scratch[slot];
  CHECK(dnnl_primitive_execute(e->reorder[slot], stream, n, ra));
  return 0;
}

static int run(entry *e, void **ptr) {
  dnnl_exec_arg_t args[MAX_ARGS + 1];
  if (e->zero_first && ptr[0]) memset(ptr[0], 0, e->zero_first);
  for (int i = 0; i < e->nargs; i++) {
    if (!ptr[i]) {
      snprintf(last_error, sizeof last_error, "argument %d (oneDNN arg %d) is a null pointer", i,
               e->arg[i]);
      return -1;
    }
    CHECK(dnnl_memory_set_data_handle(e->user[i], ptr[i]));
    args[i].arg = e->arg[i];
    args[i].memory = e->inner[i] ? e->inner[i] : e->user[i];
    if (e->inner[i] && !e->is_output[i]) {
      if (reorder(e, i, e->user[i], e->inner[i])) return -1;
    }
  }
  int nargs = e->nargs;
  if (e->scratch) {
    args[nargs].arg = DNNL_ARG_SCRATCHPAD;
    args[nargs++].memory = e->scratch;
  }
  CHECK(dnnl_primitive_execute(e->prim, stream, nargs, args));
  for (int i = 0; i < e->nargs; i++) {
    if (e->inner[i] && e->is_output[i]) {
      if (reorder(e, i, e->inner[i], e->user[i])) return -1;
    }
  }
  CHECK(dnnl_stream_wait(stream));
  return 0;
}

/* Memory descriptors of a convolution in TensorFlow.js's layouts. oneDNN's logical order is
 * NCHW / OIHW (GOIHW with groups); strides say where tfjs keeps each axis. */
static int conv_descs(const int *g, dnnl_memory_desc_t *x, dnnl_memory_desc_t *w,
                      dnnl_memory_desc_t *y, dnnl_memory_desc_t *w_any) {
  dnnl_dim_t N = g[G_N], H = g[G_H], W = g[G_W], C = g[G_C];
  dnnl_dim_t OH = g[G_OH], OW = g[G_OW], O = g[G_O], KH = g[G_KH], KW = g[G_KW];
  dnnl_dim_t G = g[G_GROUPS];
  dnnl_dims_t xd = {N, C, H, W}, yd = {N, O, OH, OW};
  dnnl_dims_t xs = {H * W * C, 1, W * C, C}, ys = {OH * OW * O, 1, OW * O, O};
  CHECK(dnnl_memory_desc_init_by_strides(x, 4, xd, dnnl_f32, xs));
  CHECK(dnnl_memory_desc_init_by_strides(y, 4, yd, dnnl_f32, ys));
  if (G == 1) {
    /* HWIO: element (kh, kw, c, o) at ((kh*KW + kw)*C + c)*O + o. */
    dnnl_dims_t wd = {O, C, KH, KW}, ws = {1, O, KW * C * O, C * O};
    CHECK(dnnl_memory_desc_init_by_strides(w, 4, wd, dnnl_f32, ws));
    CHECK(dnnl_memory_desc_init_by_tag(w_any, 4, wd, dnnl_f32, dnnl_format_tag_any));
  } else {
    /* Depthwise [KH,KW,C,M]: group g = channel c, its M outputs contiguous, one input each. */
    dnnl_dim_t M = O / G, I = C / G;
    dnnl_dims_t wd = {G, M, I, KH, KW}, ws = {M * I, 1, M, KW * C * M, C * M};
    CHECK(dnnl_memory_desc_init_by_strides(w, 5, wd, dnnl_f32, ws));
    CHECK(dnnl_memory_desc_init_by_tag(w_any, 5, wd, dnnl_f32, dnnl_format_tag_any));
  }
  return 0;
}

static int build_conv(entry *e, int kind, const int *g) {
  dnnl_memory_desc_t x, w, y, w_any;
  if (conv_descs(g, &x, &w, &y, &w_any)) return -1;
  dnnl_dims_t strides = {g[G_SH], g[G_SW]};
  dnnl_dims_t dilates = {g[G_DH] - 1, g[G_DW] - 1};
  /* oneDNN wants the padding after the last window too. Where strides leave the last input
   * rows unread (fewer than a stride's worth), 0 is what its floor division expects. */
  int eff_kh = (g[G_KH] - 1) * g[G_DH] + 1, eff_kw = (g[G_KW] - 1) * g[G_DW] + 1;
  int pb = (g[G_OH] - 1) * g[G_SH] + eff_kh - g[G_H] - g[G_PT];
  int pr = (g[G_OW] - 1) * g[G_SW] + eff_kw - g[G_W] - g[G_PL];
  dnnl_dims_t pad_l = {g[G_PT], g[G_PL]}, pad_r = {pb > 0 ? pb : 0, pr > 0 ? pr : 0};
  /* Those unread rows get no gradient, and oneDNN leaves them as it found them: the input
   * gradient is zeroed first (the wasm heap hands out reused memory). */
  if (kind == K_CONV_BWD_DATA && (pb < 0 || pr < 0)) {
    e->zero_first = (size_t)g[G_N] * g[G_H] * g[G_W] * g[G_C] * sizeof(float);
  }
  dnnl_convolution_desc_t fd;
  CHECK(dnnl_dilated_convolution_forward_desc_init(&fd, dnnl_forward_training,
                                                   dnnl_convolution_direct, &x, &w_any, NULL, &y,
                                                   strides, dilates, pad_l, pad_r));
  dnnl_primitive_desc_t fpd, pd;
  CHECK(dnnl_primitive_desc_create(&fpd, &fd, attr, engine, NULL));
  if (kind == K_CONV_FWD) {
    pd = fpd;
    if (bind(e, pd, 0, DNNL_ARG_SRC, 0, &x, dnnl_query_src_md)) return -1;
    if (bind(e, pd, 1, DNNL_ARG_WEIGHTS, 0, &w, dnnl_query_weights_md)) return -1;
    if (bind(e, pd, 2, DNNL_ARG_DST, 1, &y, dnnl_query_dst_md)) return -1;
  } else if (kind == K_CONV_BWD_DATA) {
    dnnl_convolution_desc_t bd;
    CHECK(dnnl_dilated_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct, &x,
                                                           &w_any, &y, strides, dilates, pad_l,
                                                           pad_r));
    CHECK(dnnl_primitive_desc_create(&pd, &bd, attr, engine, fpd));
    dnnl_primitive_desc_destroy(fpd);
    if (bind(e, pd, 0, DNNL_ARG_DIFF_SRC, 1, &x, dnnl_query_diff_src_md)) return -1;
    if (bind(e, pd, 1, DNNL_ARG_WEIGHTS, 0, &w, dnnl_query_weights_md)) return -1;
    if (bind(e, pd, 2, DNNL_ARG_DIFF_DST, 0, &y, dnnl_query_diff_dst_md)) return -1;
  } else {
    dnnl_convolution_desc_t bd;
    CHECK(dnnl_dilated_convolution_backward_weights_desc_init(&bd, dnnl_convolution_direct, &x,
                                                              &w_any, NULL, &y, strides, dilates,
                                                              pad_l, pad_r));
    CHECK(dnnl_primitive_desc_create(&pd, &bd, attr, engine, fpd));
    dnnl_primitive_desc_destroy(fpd);
    if (bind(e, pd, 0, DNNL_ARG_SRC, 0, &x, dnnl_query_src_md)) return -1;
    if (bind(e, pd, 1, DNNL_ARG_DIFF_WEIGHTS, 1, &w, dnnl_query_diff_weights_md)) return -1;
    if (bind(e, pd, 2, DNNL_ARG_DIFF_DST, 0, &y, dnnl_query_diff_dst_md)) return -1;
  }
  if (make_scratch(pd, &e->scratch)) return -1;
  CHECK(dnnl_primitive_create(&e->prim, pd));
  dnnl_primitive_desc_destroy(pd);
  return 0;
}

static int conv_direct(int kind, float *x, float *w, float *y, const int *g) {
  if (init()) return -1;
  entry *e = lookup(kind, g);
  if (!e) {
    e = add_entry(kind, g);
    if (!e) return fail("add_entry (out of memory)", dnnl_out_of_memory, __LINE__);
    if (build_conv(e, kind, g)) return -1;
    ncache++;
  }
  void *ptr[3] = {x, w, y};
  return run(e, ptr);
}

static __thread float *sampled;
static __thread size_t sampled_floats;

/*
 * A strided 1×1 convolution as a unit-stride one over the input positions it reads. oneDNN
 * 2.6's own route for these ("reduce to unit stride" inside jit_1x1) corrupts the native heap
 * in the filter gradient of some shapes (e.g. [3,32,16,4] → 8 channels, stride 2), so the
 * sampled positions are gathered (and the input gradient scattered back) here.
 */
static int conv_1x1_strided(int kind, float *x, float *w, float *y, const int *g) {
  int u[G_COUNT];
  memcpy(u, g, sizeof u);
  u[G_H] = g[G_OH];
  u[G_W] = g[G_OW];
  u[G_SH] = u[G_SW] = 1;
  long N = g[G_N], H = g[G_H], W = g[G_W], C = g[G_C], OH = g[G_OH], OW = g[G_OW];
  size_t floats = (size_t)N * OH * OW * C;
  if (floats > sampled_floats) {
    float *grown = realloc(sampled, floats * sizeof *grown);
    if (!grown) return fail("realloc (out of memory)", dnnl_out_of_memory, __LINE__);
    sampled = grown;
    sampled_floats = floats;
  }
  size_t row = (size_t)C * sizeof(float);
  if (kind != K_CONV_BWD_DATA) {
    for (long n = 0; n < N; n++)
      for (long oh = 0; oh < OH; oh++)
        for (long ow = 0; ow < OW; ow++)
          memcpy(sampled + ((n * OH + oh) * OW + ow) * C,
                 x + ((n * H + oh * g[G_SH]) * W + ow * g[G_SW]) * C, row);
  }
  if (conv_direct(kind, sampled, w, y, u)) return -1;
  if (kind == K_CONV_BWD_DATA) {
    memset(x, 0, (size_t)N * H * W * row);
    for (long n = 0; n < N; n++)
      for (long oh = 0; oh < OH; oh++)
        for (long ow = 0; ow < OW; ow++)
          memcpy(x + ((n * H + oh * g[G_SH]) * W + ow * g[G_SW]) * C,
                 sampled + ((n * OH + oh) * OW + ow) * C, row);
  }
  return 0;
}

/*
 * One convolution. kind: 0 forward (x, w → y), 1 input gradient (dy, w → dx: `x` receives it),
 * 2 filter gradient (x, dy → dw: `w` receives it). Returns 0, or -1 with
 * reid_onednn_last_error() saying why.
 */
EXPORT int reid_onednn_conv(int kind, float *x, float *w, float *y, const int *g) {
  if (kind < K_CONV_FWD || kind > K_CONV_BWD_WEIGHTS) {
    snprintf(last_error, sizeof last_error, "reid_onednn_conv: unknown kind %d", kind);
    return -1;
  }
  int strided_1x1 = g[G_KH] == 1 && g[G_KW] == 1 && (g[G_SH] > 1 || g[G_SW] > 1) &&
                    g[G_PT] == 0 && g[G_PL] == 0;
  return strided_1x1 ? conv_1x1_strided(kind, x, w, y, g) : conv_direct(kind, x, w, y, g);
}

/* Batch norm over the channel axis of an [N,H,W,C] tensor (a vector batch is [M,1,1,C]). */
static int build_bn(entry *e, int kind, const int *g, float eps) {
  dnnl_dim_t N = g[G_N], H = g[G_H], W = g[G_W], C = g[G_C];
  dnnl_dims_t xd = {N, C, H, W}, xs = {H * W * C, 1, W * C, C};
  dnnl_dims_t vd = {C};
  dnnl_memory_desc_t x, v;
  CHECK(dnnl_memory_desc_init_by_strides(&x, 4, xd, dnnl_f32, xs));
  CHECK(dnnl_memory_desc_init_by_tag(&v, 1, vd, dnnl_f32, dnnl_a));
  unsigned flags = dnnl_use_scale | dnnl_use_shift;
  dnnl_batch_normalization_desc_t fd;
  CHECK(dnnl_batch_normalization_forward_desc_init(&fd, dnnl_forward_training, &x, eps, flags));
  dnnl_primitive_desc_t fpd, pd;
  CHECK(dnnl_primitive_desc_create(&fpd, &fd, attr, engine, NULL));
  if (kind == K_BN_FWD) {
    pd = fpd;
    if (bind(e, pd, 0, DNNL_ARG_SRC, 0, &x, dnnl_query_src_md)) return -1;
    if (bind(e, pd, 1, DNNL_ARG_SCALE, 0, &v, dnnl_query_undef)) return -1;
    if (bind(e, pd, 2, DNNL_ARG_SHIFT, 0, &v, dnnl_query_undef)) return -1;
    if (bind(e, pd, 3, DNNL_ARG_DST, 1, &x, dnnl_query_dst_md)) return -1;
    if (bind(e, pd, 4, DNNL_ARG_MEAN, 1, &v, dnnl_query_undef)) return -1;
    if (bind(e, pd, 5, DNNL_ARG_VARIANCE, 1, &v, dnnl_query_undef)) return -1;
  } else {
    dnnl_batch_normalization_desc_t bd;
    CHECK(dnnl_batch_normalization_backward_desc_init(&bd, dnnl_backward, &x, &x, eps, flags));
    CHECK(dnnl_primitive_desc_create(&pd, &bd, attr, engine, fpd));
    dnnl_primitive_desc_destroy(fpd);
    if (bind(e, pd, 0, DNNL_ARG_SRC, 0, &x, dnnl_query_src_md)) return -1;
    if (bind(e, pd, 1, DNNL_ARG_DIFF_DST, 0, &x, dnnl_query_diff_dst_md)) return -1;
    if (bind(e, pd, 2, DNNL_ARG_SCALE, 0, &v, dnnl_query_undef)) return -1;
    if (bind(e, pd, 3, DNNL_ARG_MEAN, 0, &v, dnnl_query_undef)) return -1;
    if (bind(e, pd, 4, DNNL_ARG_VARIANCE, 0, &v, dnnl_query_undef)) return -1;
    if (bind(e, pd, 5, DNNL_ARG_DIFF_SRC, 1, &x, dnnl_query_diff_src_md)) return -1;
    if (bind(e, pd, 6, DNNL_ARG_DIFF_SCALE, 1, &v, dnnl_query_undef)) return -1;
    if (bind(e, pd, 7, DNNL_ARG_DIFF_SHIFT, 1, &v, dnnl_query_undef)) return -1;
    /* oneDNN 2.6 lists the shift as an input of the backward pass whenever the forward had one,
     * though without a fused ReLU no gradient depends on it: it gets the scale's buffer. */
    if (bind(e, pd, 8, DNNL_ARG_SHIFT, 0, &v, dnnl_query_undef)) return -1;
  }
  if (make_scratch(pd, &e->scratch)) return -1;
  CHECK(dnnl_primitive_create(&e->prim, pd));
  dnnl_primitive_desc_destroy(pd);
  return 0;
}

/* The epsilon is part of the primitive: it goes into the cache key through an unused field. */
static int bn_key(int *key, int n, int h, int w, int c, float eps) {
  memset(key, 0, G_COUNT * sizeof *key);
  key[G_N] = n;
  key[G_H] = h;
  key[G_W] = w;
  key[G_C] = c;
  memcpy(&key[G_KH], &eps, sizeof eps);
  return 0;
}

/*
 * Training batch norm, forward: y = γ (x − μ) / √(σ² + ε) + β with the batch's mean μ and
 * biased variance σ² (as tf.moments), both written out for the moving averages and the
 * backward pass.
 */
EXPORT int reid_onednn_bn_forward(float *x, float *gamma, float *beta, float *y, float *mean,
                                  float *variance, int n, int h, int w, int c, float eps) {
  if (init()) return -1;
  int key[G_COUNT];
  bn_key(key, n, h, w, c, eps);
  entry *e = lookup(K_BN_FWD, key);
  if (!e) {
    e = add_entry(K_BN_FWD, key);
    if (!e) return fail("add_entry (out of memory)", dnnl_out_of_memory, __LINE__);
    if (build_bn(e, K_BN_FWD, key, eps)) return -1;
    ncache++;
  }
  void *ptr[6] = {x, gamma, beta, y, mean, variance};
  return run(e, ptr);
}

/* Training batch norm, backward: dx, dγ, dβ from x, dy and the forward pass's μ and σ². */
EXPORT int reid_onednn_bn_backward(float *x, float *dy, float *gamma, float *mean,
                                   float *variance, float *dx, float *dgamma, float *dbeta, int n,
                                   int h, int w, int c, float eps) {
  if (init()) return -1;
  int key[G_COUNT];
  bn_key(key, n, h, w, c, eps);
  entry *e = lookup(K_BN_BWD, key);
  if (!e) {
    e = add_entry(K_BN_BWD, key);
    if (!e) return fail("add_entry (out of memory)", dnnl_out_of_memory, __LINE__);
    if (build_bn(e, K_BN_BWD, key, eps)) return -1;
    ncache++;
  }
  void *ptr[9] = {x, dy, gamma, mean, variance, dx, dgamma, dbeta, gamma};
  return run(e, ptr);
}

/* Implementation names of the cached primitives, for the doctor and the benchmark. */
EXPORT const char *reid_onednn_impl(int kind, const int *g) {
  entry *e = lookup(kind, g);
  if (!e) return "";
  const_dnnl_primitive_desc_t pd;
  if (dnnl_primitive_get_primitive_desc(e->prim, &pd) != dnnl_success) return "";
  const char *impl = NULL;
  dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
  return impl ? impl : "";
}
