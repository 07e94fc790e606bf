/*
 * Training kernels of the wasm backend's fallback path (lib/runtime/wasm_simd.ts): the two
 * gradients of a 2-D convolution and training-mode batch norm, for WebAssembly SIMD128. Used
 * where oneDNN through Deno FFI is not available (lib/runtime/native/README.md).
 *
 * Layouts are TensorFlow.js's: activations NHWC, filters HWIO [KH, KW, C, O], depthwise filters
 * [KH, KW, C, M] (output channel c·M + m). Every pointer is a byte offset into the tfjs wasm
 * backend's own heap: the module imports that WebAssembly.Memory, so nothing is copied.
 *
 * Memory safety on a borrowed heap. The module has no data segment and no libc, and its code
 * must not use the C stack: with `--import-memory` the linker's stack would lie at low addresses
 * of tfjs's heap, and a function with a stack frame would silently overwrite tfjs data there.
 * So every helper is `always_inline`, accumulator arrays have constant sizes and constant
 * indices after unrolling (clang keeps them in wasm locals), and geometry travels as scalar
 * arguments. As a guard, build.ts links with `--stack-first -z stack-size=0`: the stack pointer
 * starts at address 0, so a stack frame (sp − n wraps to ~4 GiB) traps with "memory access out
 * of bounds" instead of corrupting anything; wasm_simd_test.ts also checks the disassembly has
 * no `global.get` (the only global is the stack pointer). `-fno-builtin` keeps clang from
 * turning zeroing loops into calls to a `memset` that does not exist here.
 *
 * Accuracy: convolution sums are plain float32 (same order of error as XNNPACK or the tfjs cpu
 * backend); batch-norm statistics are summed in float over chunks of BN_CHUNK rows and the
 * chunk sums in double, so a mean over a million elements keeps ~1e-7 relative accuracy.
 */
#include <wasm_simd128.h>

typedef __SIZE_TYPE__ size_t;
typedef __UINTPTR_TYPE__ uintptr_t;

#define EXPORT __attribute__((visibility("default")))
#define INLINE static inline __attribute__((always_inline))

INLINE int imax(int a, int b) { return a > b ? a : b; }
INLINE int imin(int a, int b) { return a < b ? a : b; }
/* Floor and ceiling division for any sign of a (b > 0). */
INLINE int fdiv(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
INLINE int cdiv(int a, int b) { return -fdiv(-a, b); }
/* a mod b in [0, b). */
INLINE int pmod(int a, int b) { int r = a % b; return r < 0 ? r + b : r; }

INLINE v128_t ld(const float *p) { return wasm_v128_load(p); }
INLINE void st(float *p, v128_t v) { wasm_v128_store(p, v); }
INLINE v128_t madd(v128_t a, v128_t b, v128_t c) {
  return wasm_f32x4_add(wasm_f32x4_mul(a, b), c);
}

/* Stores the first n (0..4) lanes of v (lane numbers must be constants). */
INLINE void st_lanes(float *p, v128_t v, int n) {
  if (n >= 4) { st(p, v); return; }
  if (n > 0) p[0] = wasm_f32x4_extract_lane(v, 0);
  if (n > 1) p[1] = wasm_f32x4_extract_lane(v, 1);
  if (n > 2) p[2] = wasm_f32x4_extract_lane(v, 2);
}

INLINE void zero_floats(float *p, size_t n) {
  size_t i = 0;
  v128_t z = wasm_f32x4_splat(0.f);
  for (; i + 4 <= n; i += 4) st(p + i, z);
  for (; i < n; i++) p[i] = 0.f;
}

/* ---------------------------------------------------------------------------------------------
 * Filter gradient, groups = 1:
 *   dW[kh][kw][c][o] = Σ_{n,oh,ow} x[n][oh·SH + kh·DH − PT][ow·SW + kw·DW − PL][c] · dy[n][oh][ow][o]
 * (positions outside x are the zero padding and contribute nothing).
 *
 * Per tap this is X_tapᵀ·dY over the N·OH·OW output positions. A tile is CB (≤ 4) input
 * channels × NV vectors (4 or 8) of output channels: per position it loads NV vectors of dy and
 * CB scalars of x and does CB·NV vector multiply-adds, with CB·NV accumulators in registers
 * (4 × 2 = 8 plus 3 temporaries fits x86-64's 16 vector registers). Output rows go in chunks of
 * about 64 positions, every tile of every tap over one chunk before the next: the chunk's x and
 * dy stay in L1 while dW (small) is loaded and stored once per chunk and tile. Output channels
 * that do not fill a vector go through a scalar tile.
 * ------------------------------------------------------------------------------------------- */

INLINE void dw_tile_vec(const float *x, const float *dy, float *d, int CB, int NV, int r0, int r1,
                        int lo, int hi, int H, int W, int C, int OH, int OW, int O, int SH, int SW,
                        int ihOff, int iwOff) {
  v128_t a[4][2];
  for (int i = 0; i < CB; i++)
    for (int v = 0; v < NV; v++) a[i][v] = ld(d + (size_t)i * O + 4 * v);
  for (int r = r0; r < r1; r++) {
    int n = r / OH, oh = r - n * OH;
    int ih = oh * SH + ihOff;
    if (ih < 0 || ih >= H) continue;
    const float *xp = x + ((size_t)(n * H + ih) * W + (lo * SW + iwOff)) * C;
    const float *gp = dy + ((size_t)r * OW + lo) * O;
    for (int ow = lo; ow < hi; ow++, xp += (size_t)SW * C, gp += O) {
      v128_t g0 = ld(gp), g1 = NV > 1 ? ld(gp + 4) : g0;
      for (int i = 0; i < CB; i++) {
        v128_t xv = wasm_f32x4_splat(xp[i]);
        a[i][0] = madd(xv, g0, a[i][0]);
        if (NV > 1) a[i][1] = madd(xv, g1, a[i][1]);
      }
    }
  }
  for (int i = 0; i < CB; i++)
    for (int v = 0; v < NV; v++) st(d + (size_t)i * O + 4 * v, a[i][v]);
}

/* CB (≤ 4) input channels × OT (≤ 3) output channels, scalar. */
INLINE void dw_tile_scalar(const float *x, const float *dy, float *d, int CB, int OT, int r0,
                           int r1, int lo, int hi, int H, int W, int C, int OH, int OW, int O,
                           int SH, int SW, int ihOff, int iwOff) {
  float a[4][3];
  for (int i = 0; i < CB; i++)
    for (int j = 0; j < OT; j++) a[i][j] = d[(size_t)i * O + j];
  for (int r = r0; r < r1; r++) {
    int n = r / OH, oh = r - n * OH;
    int ih = oh * SH + ihOff;
    if (ih < 0 || ih >= H) continue;
    const float *xp = x + ((size_t)(n * H + ih) * W + (lo * SW + iwOff)) * C;
    const float *gp = dy + ((size_t)r * OW + lo) * O;
    for (int ow = lo; ow < hi; ow++, xp += (size_t)SW * C, gp += O) {
      for (int i = 0; i < CB; i++)
        for (int j = 0; j < OT; j++) a[i][j] += xp[i] * gp[j];
    }
  }
  for (int i = 0; i < CB; i++)
    for (int j = 0; j < OT; j++) d[(size_t)i * O + j] = a[i][j];
}

/* Runs the tile for a runtime cb (1..4) with a constant CB, so its loops unroll. */
#define DW_REST r0, r1, lo, hi, H, W, C, OH, OW, O, SH, SW, ihOff, iwOff
#define DW_BY_CB(TILE, SIZE)                                    \
  switch (cb) {                                                 \
    case 4: TILE(xc, dyo, d, 4, SIZE, DW_REST); break;          \
    case 3: TILE(xc, dyo, d, 3, SIZE, DW_REST); break;          \
    case 2: TILE(xc, dyo, d, 2, SIZE, DW_REST); break;          \
    default: TILE(xc, dyo, d, 1, SIZE, DW_REST); break;         \
  }

EXPORT void conv2d_filter_grad(const float *x, const float *dy, float *dw, int N, int H, int W,
                               int C, int OH, int OW, int O, int KH, int KW, int SH, int SW,
                               int DH, int DW, int PT, int PL) {
  zero_floats(dw, (size_t)KH * KW * C * O);
  int rows = N * OH;
  int chunk = imax(1, 64 / imax(OW, 1));
  for (int r0 = 0; r0 < rows; r0 += chunk) {
    int r1 = imin(rows, r0 + chunk);
    for (int kh = 0; kh < KH; kh++) {
      int ihOff = kh * DH - PT;
      for (int kw = 0; kw < KW; kw++) {
        int iwOff = kw * DW - PL;
        /* Output columns whose input column is inside x: 0 <= ow*SW + iwOff < W. */
        int lo = imax(0, cdiv(-iwOff, SW));
        int hi = imin(OW, fdiv(W - 1 - iwOff, SW) + 1);
        if (lo >= hi) continue;
        for (int c0 = 0; c0 < C; c0 += 4) {
          int cb = imin(4, C - c0);
          const float *xc = x + c0;
          float *dtap = dw + ((size_t)(kh * KW + kw) * C + c0) * O;
          int o0 = 0;
          for (; o0 + 8 <= O; o0 += 8) {
            float *d = dtap + o0;
            const float *dyo = dy + o0;
            DW_BY_CB(dw_tile_vec, 2)
          }
          if (o0 + 4 <= O) {
            float *d = dtap + o0;
            const float *dyo = dy + o0;
            DW_BY_CB(dw_tile_vec, 1)
            o0 += 4;
          }
          int ot = O - o0;
          if (ot > 0) {
            float *d = dtap + o0;
            const float *dyo = dy + o0;
            if (ot == 3) {
              DW_BY_CB(dw_tile_scalar, 3)
            } else if (ot == 2) {
              DW_BY_CB(dw_tile_scalar, 2)
            } else {
              DW_BY_CB(dw_tile_scalar, 1)
            }
          }
        }
      }
    }
  }
}

/* ---------------------------------------------------------------------------------------------
 * Input gradient, groups = 1:
 *   dX[n][ih][iw][c] = Σ_{kh,kw,o} dy[n][oh][ow][o] · W[kh][kw][c][o]
 *   over the taps with ih = oh·SH + kh·DH − PT and iw = ow·SW + kw·DW − PL.
 *
 * W is first transposed into scratch as Wt[kh][kw][o][Cp] (Cp = C rounded up to 4, the extra
 * lanes zero), so a vector of input channels is one unaligned load for any C. A tile is DX_P
 * input positions of one row that share a column phase (iw = rw + SW·t, consecutive t), so for
 * every tap they read DX_P consecutive columns of dy (or none: wrong phase); × NV vectors of c.
 * Per output channel: NV loads of Wt, DX_P splats of dy, DX_P·NV multiply-adds. Every dX
 * element is written exactly once (positions no tap reaches get 0), so dX needs no clearing.
 * Scratch: KH·KW·O·Cp floats for Wt, then O floats of zeros, + 3 for aligning Wt.
 * ------------------------------------------------------------------------------------------- */

#define DX_P 4 /* positions per tile; the dispatch below has cases 1..3 for short tiles */

INLINE void dx_tile(const float *dy, const float *wt, const float *zero, float *dxr, int NV,
                    int PP, int valid, int t,
                    int n, int ih, int rw, int c0, int C, int Cp, int OH, int OW,
                    int O, int KH, int KW, int SH, int SW, int DH, int DW, int PT, int PL) {
  v128_t a[DX_P][2];
  for (int p = 0; p < PP; p++)
    for (int v = 0; v < NV; v++) a[p][v] = wasm_f32x4_splat(0.f);
  for (int kh = 0; kh < KH; kh++) {
    int oy = ih + PT - kh * DH;
    if (oy < 0 || oy % SH) continue;
    int oh = oy / SH;
    if (oh >= OH) continue;
    const float *gr = dy + (size_t)(n * OH + oh) * OW * O;
    for (int kw = 0; kw < KW; kw++) {
      int ox = rw + PL - kw * DW; /* ow of position p is (ox + SW·(t+p)) / SW */
      if (pmod(ox, SW)) continue;
      int owb = fdiv(ox, SW) + t;
      const float *wk = wt + (size_t)(kh * KW + kw) * O * Cp + c0;
      if (owb >= 0 && owb + PP <= OW) {
        const float *g = gr + (size_t)owb * O;
        for (int o = 0; o < O; o++) {
          v128_t w0 = ld(wk + (size_t)o * Cp);
          v128_t w1 = NV > 1 ? ld(wk + (size_t)o * Cp + 4) : w0;
          for (int p = 0; p < PP; p++) {
            v128_t gv = wasm_f32x4_splat(g[(size_t)p * O + o]);
            a[p][0] = madd(gv, w0, a[p][0]);
            if (NV > 1) a[p][1] = madd(gv, w1, a[p][1]);
          }
        }
      } else {
        /*
         * At the row's ends some positions have no dy column for this
         * tap: they read a row of zeros instead, so the tile still runs one pass over o with
         * DX_P·NV accumulators (per-position passes reloaded Wt DX_P times: 2× slower on the
         * 4- and 8-wide maps of the last stages).
         */
        const float *g[DX_P];
        for (int p = 0; p < PP; p++) {
          int ow = owb + p;
          g[p] = ow >= 0 && ow < OW ? gr + (size_t)ow * O : zero;
        }
        for (int o = 0; o < O; o++) {
          v128_t w0 = ld(wk + (size_t)o * Cp);
          v128_t w1 = NV > 1 ? ld(wk + (size_t)o * Cp + 4) : w0;
          for (int p = 0; p < PP; p++) {
            v128_t gv = wasm_f32x4_splat(g[p][o]);
            a[p][0] = madd(gv, w0, a[p][0]);
            if (NV > 1) a[p][1] = madd(gv, w1, a[p][1]);
          }
        }
      }
    }
  }
  for (int p = 0; p < PP; p++) {
    float *d = dxr + (size_t)(rw + SW * (t + p)) * C + c0;
    if (valid == 4 * NV) {
      for (int v = 0; v < NV; v++) st(d + 4 * v, a[p][v]);
    } else if (NV > 1) {
      st_lanes(d, a[p][0], valid);
      st_lanes(d + 4, a[p][1], valid - 4);
    } else {
      st_lanes(d, a[p][0], valid);
    }
  }
}

EXPORT void conv2d_input_grad(const float *dy, const float *w, float *dx, float *scratch, int N,
                              int H, int W, int C, int OH, int OW, int O, int KH, int KW, int SH,
                              int SW, int DH, int DW, int PT, int PL) {
  int Cp = (C + 3) & ~3;
  /* Wt on a 16-byte boundary: its vector loads then never straddle cache lines (tfjs's heap
   * hands out 8-byte-aligned blocks; misaligned Wt cost ~25 % on 128-channel layers). */
  float *wt = (float *)(((uintptr_t)scratch + 15) & ~(uintptr_t)15);
  float *zero = wt + (size_t)KH * KW * O * Cp;
  for (int k = 0; k < KH * KW; k++)
    for (int o = 0; o < O; o++) {
      float *dst = wt + ((size_t)k * O + o) * Cp;
      const float *src = w + (size_t)k * C * O + o;
      int c = 0;
      for (; c < C; c++) dst[c] = src[(size_t)c * O];
      for (; c < Cp; c++) dst[c] = 0.f;
    }
  zero_floats(zero, (size_t)O);
  for (int row = 0; row < N * H; row++) {
    int n = row / H, ih = row - n * H;
    float *dxr = dx + (size_t)row * W * C;
    for (int rw = 0; rw < SW && rw < W; rw++) {
      int count = (W - rw + SW - 1) / SW; /* iw = rw + SW·t for t in [0, count) */
      for (int c0 = 0; c0 < C; c0 += 8) {
        int valid = imin(8, C - c0);
        for (int t = 0; t < count; t += DX_P) {
          /* A short last tile runs with fewer positions (constant, so still unrolled). */
          int np = imin(DX_P, count - t);
#define DX_TILE(NV, PP)                                                                         \
  dx_tile(dy, wt, zero, dxr, NV, PP, valid, t, n, ih, rw, c0, C, Cp, OH, OW, O, KH, KW, SH, SW, \
          DH, DW, PT, PL)
#define DX_BY_NP(NV)                              \
  switch (np) {                                   \
    case DX_P: DX_TILE(NV, DX_P); break;          \
    case 3: DX_TILE(NV, 3); break;                \
    case 2: DX_TILE(NV, 2); break;                \
    default: DX_TILE(NV, 1); break;               \
  }
          if (valid > 4) {
            DX_BY_NP(2)
          } else {
            DX_BY_NP(1)
          }
#undef DX_BY_NP
#undef DX_TILE
        }
      }
    }
  }
}

/* ---------------------------------------------------------------------------------------------
 * Depthwise convolution (groups = C, multiplier M, filter [KH, KW, C, M], output channel c·M+m).
 *   dW[kh][kw][c][m] = Σ_{n,oh,ow} x[n][ih][iw][c] · dy[n][oh][ow][c·M + m]
 *   dX[n][ih][iw][c] = Σ_{kh,kw,m}  dy[n][oh][ow][c·M + m] · W[kh][kw][c][m]
 * For M = 1 both run 4 channels per vector (x, dy and W rows are all contiguous in c); for
 * M > 1 the channel stride of dy is M, so they run scalar (tfjs models here use M = 1).
 * No scratch.
 * ------------------------------------------------------------------------------------------- */

EXPORT void depthwise_filter_grad(const float *x, const float *dy, float *dw, int N, int H, int W,
                                  int C, int OH, int OW, int M, int KH, int KW, int SH, int SW,
                                  int DH, int DW, int PT, int PL) {
  int O = C * M;
  zero_floats(dw, (size_t)KH * KW * O);
  for (int kh = 0; kh < KH; kh++) {
    int ihOff = kh * DH - PT;
    for (int kw = 0; kw < KW; kw++) {
      int iwOff = kw * DW - PL;
      int lo = imax(0, cdiv(-iwOff, SW));
      int hi = imin(OW, fdiv(W - 1 - iwOff, SW) + 1);
      if (lo >= hi) continue;
      float *d = dw + (size_t)(kh * KW + kw) * O;
      for (int r = 0; r < N * OH; r++) {
        int n = r / OH, oh = r - n * OH;
        int ih = oh * SH + ihOff;
        if (ih < 0 || ih >= H) continue;
        const float *xr = x + ((size_t)(n * H + ih) * W + (lo * SW + iwOff)) * C;
        const float *gr = dy + ((size_t)r * OW + lo) * O;
        if (M == 1) {
          int c = 0;
          for (; c + 8 <= C; c += 8) {
            v128_t a0 = ld(d + c), a1 = ld(d + c + 4);
            const float *xp = xr + c, *gp = gr + c;
            for (int ow = lo; ow < hi; ow++, xp += (size_t)SW * C, gp += O) {
              a0 = madd(ld(xp), ld(gp), a0);
              a1 = madd(ld(xp + 4), ld(gp + 4), a1);
            }
            st(d + c, a0);
            st(d + c + 4, a1);
          }
          for (; c + 4 <= C; c += 4) {
            v128_t a0 = ld(d + c);
            const float *xp = xr + c, *gp = gr + c;
            for (int ow = lo; ow < hi; ow++, xp += (size_t)SW * C, gp += O)
              a0 = madd(ld(xp), ld(gp), a0);
            st(d + c, a0);
          }
          for (; c < C; c++) {
            float s = d[c];
            const float *xp = xr + c, *gp = gr + c;
            for (int ow = lo; ow < hi; ow++, xp += (size_t)SW * C, gp += O) s += *xp * *gp;
            d[c] = s;
          }
        } else {
          for (int c = 0; c < C; c++)
            for (int m = 0; m < M; m++) {
              float s = d[c * M + m];
              const float *xp = xr + c, *gp = gr + c * M + m;
              for (int ow = lo; ow < hi; ow++, xp += (size_t)SW * C, gp += O) s += *xp * *gp;
              d[c * M + m] = s;
            }
        }
      }
    }
  }
}

EXPORT void depthwise_input_grad(const float *dy, const float *w, float *dx, int N, int H, int W,
                                 int C, int OH, int OW, int M, int KH, int KW, int SH, int SW,
                                 int DH, int DW, int PT, int PL) {
  int O = C * M;
  for (int row = 0; row < N * H; row++) {
    int n = row / H, ih = row - n * H;
    for (int iw = 0; iw < W; iw++) {
      float *d = dx + ((size_t)row * W + iw) * C;
      zero_floats(d, (size_t)C);
      for (int kh = 0; kh < KH; kh++) {
        int oy = ih + PT - kh * DH;
        if (oy < 0 || oy % SH) continue;
        int oh = oy / SH;
        if (oh >= OH) continue;
        for (int kw = 0; kw < KW; kw++) {
          int ox = iw + PL - kw * DW;
          if (ox < 0 || ox % SW) continue;
          int ow = ox / SW;
          if (ow >= OW) continue;
          const float *g = dy + ((size_t)(n * OH + oh) * OW + ow) * O;
          const float *wk = w + (size_t)(kh * KW + kw) * O;
          if (M == 1) {
            int c = 0;
            for (; c + 4 <= C; c += 4) st(d + c, madd(ld(g + c), ld(wk + c), ld(d + c)));
            for (; c < C; c++) d[c] += g[c] * wk[c];
          } else {
            for (int c = 0; c < C; c++) {
              float s = d[c];
              for (int m = 0; m < M; m++) s += g[c * M + m] * wk[c * M + m];
              d[c] = s;
            }
          }
        }
      }
    }
  }
}

/* ---------------------------------------------------------------------------------------------
 * Training batch norm over the last axis of x seen as [R, C] (R = N·H·W rows).
 *
 * Forward (3 passes): mean, then the biased variance as the mean of (x − mean)² (two passes:
 * no cancellation of E[x²] − mean²), then y = (x − mean)·scale + β with scale = γ/√(σ² + ε).
 * Backward (2 passes): s0 = Σ dy, s1 = Σ dy·(x − mean); dβ = s0, dγ = s1/√(σ² + ε),
 *   dx = γ/√(σ² + ε) · (dy − s0/R − (x − mean)·s1/(R·(σ² + ε))).
 * Sums run in float vectors over chunks of BN_CHUNK rows (in registers, 16 channels at a time)
 * and are added into double accumulators per chunk.
 *
 * Scratch (caller's, floats): 7·C + 2. Doubles acc[2C] at the first 8-byte-aligned address,
 * then floats tmp[3C]. No alignment is needed of the scratch pointer.
 * ------------------------------------------------------------------------------------------- */

#define BN_CHUNK 64

INLINE double *bn_acc(float *scratch) {
  return (double *)(((uintptr_t)scratch + 7) & ~(uintptr_t)7);
}

/*
 * acc0[c] += Σ_rows (x[r][c] − sub[c])^POW (POW = 1 or 2; sub null: 0), one column block
 * [c0, c0 + 4·NV) of a chunk of rows. With dy: acc0 += Σ dy, acc1 += Σ dy·(x − sub).
 */
INLINE void bn_block(const float *x, const float *dy, const float *sub, double *acc0,
                     double *acc1, int NV, int square, int m0, int m1, int c0, int C) {
  v128_t s0[4], s1[4], mu[4];
  for (int v = 0; v < NV; v++) {
    s0[v] = wasm_f32x4_splat(0.f);
    s1[v] = wasm_f32x4_splat(0.f);
    mu[v] = sub ? ld(sub + c0 + 4 * v) : wasm_f32x4_splat(0.f);
  }
  for (int m = m0; m < m1; m++) {
    const float *r = x + (size_t)m * C + c0;
    if (dy) {
      const float *g = dy + (size_t)m * C + c0;
      for (int v = 0; v < NV; v++) {
        v128_t gv = ld(g + 4 * v);
        s0[v] = wasm_f32x4_add(s0[v], gv);
        s1[v] = madd(gv, wasm_f32x4_sub(ld(r + 4 * v), mu[v]), s1[v]);
      }
    } else {
      for (int v = 0; v < NV; v++) {
        v128_t d = wasm_f32x4_sub(ld(r + 4 * v), mu[v]);
        s0[v] = square ? madd(d, d, s0[v]) : wasm_f32x4_add(s0[v], d);
      }
    }
  }
  for (int v = 0; v < NV; v++) {
    double *a = acc0 + c0 + 4 * v;
    a[0] += wasm_f32x4_extract_lane(s0[v], 0);
    a[1] += wasm_f32x4_extract_lane(s0[v], 1);
    a[2] += wasm_f32x4_extract_lane(s0[v], 2);
    a[3] += wasm_f32x4_extract_lane(s0[v], 3);
    if (dy) {
      double *b = acc1 + c0 + 4 * v;
      b[0] += wasm_f32x4_extract_lane(s1[v], 0);
      b[1] += wasm_f32x4_extract_lane(s1[v], 1);
      b[2] += wasm_f32x4_extract_lane(s1[v], 2);
      b[3] += wasm_f32x4_extract_lane(s1[v], 3);
    }
  }
}

/* The column sums of bn_block over all R rows, every channel (scalar for the last C mod 4). */
INLINE void bn_sums(const float *x, const float *dy, const float *sub, double *acc0,
                    double *acc1, int square, int R, int C) {
  for (int c = 0; c < C; c++) {
    acc0[c] = 0;
    if (dy) acc1[c] = 0;
  }
  for (int m0 = 0; m0 < R; m0 += BN_CHUNK) {
    int m1 = imin(R, m0 + BN_CHUNK);
    int c = 0;
    for (; c + 16 <= C; c += 16) bn_block(x, dy, sub, acc0, acc1, 4, square, m0, m1, c, C);
    for (; c + 4 <= C; c += 4) bn_block(x, dy, sub, acc0, acc1, 1, square, m0, m1, c, C);
    for (; c < C; c++) {
      float s0 = 0.f, s1 = 0.f, mu = sub ? sub[c] : 0.f;
      for (int m = m0; m < m1; m++) {
        float d = x[(size_t)m * C + c] - mu;
        if (dy) {
          float g = dy[(size_t)m * C + c];
          s0 += g;
          s1 += g * d;
        } else {
          s0 += square ? d * d : d;
        }
      }
      acc0[c] += s0;
      if (dy) acc1[c] += s1;
    }
  }
}

EXPORT void batch_norm_forward(const float *x, const float *gamma, const float *beta, float *y,
                               float *mean, float *variance, float *scratch, int R, int C,
                               float epsilon) {
  double *acc = bn_acc(scratch);
  float *scale = (float *)(acc + 2 * C);
  bn_sums(x, 0, 0, acc, 0, 0, R, C);
  for (int c = 0; c < C; c++) mean[c] = (float)(acc[c] / R);
  bn_sums(x, 0, mean, acc, 0, 1, R, C);
  for (int c = 0; c < C; c++) {
    double var = acc[c] / R;
    variance[c] = (float)var;
    scale[c] = (float)(gamma[c] / __builtin_sqrt((double)(float)var + epsilon));
  }
  for (int m = 0; m < R; m++) {
    const float *r = x + (size_t)m * C;
    float *o = y + (size_t)m * C;
    int c = 0;
    for (; c + 4 <= C; c += 4)
      st(o + c, madd(wasm_f32x4_sub(ld(r + c), ld(mean + c)), ld(scale + c), ld(beta + c)));
    for (; c < C; c++) o[c] = (r[c] - mean[c]) * scale[c] + beta[c];
  }
}

EXPORT void batch_norm_backward(const float *x, const float *dy, const float *gamma,
                                const float *mean, const float *variance, float *dx,
                                float *dgamma, float *dbeta, float *scratch, int R, int C,
                                float epsilon) {
  double *s0 = bn_acc(scratch), *s1 = s0 + C;
  float *a = (float *)(s0 + 2 * C), *b = a + C, *k = b + C;
  bn_sums(x, dy, mean, s0, s1, 0, R, C);
  for (int c = 0; c < C; c++) {
    double istd = 1.0 / __builtin_sqrt((double)variance[c] + epsilon);
    dbeta[c] = (float)s0[c];
    dgamma[c] = (float)(s1[c] * istd);
    a[c] = (float)(gamma[c] * istd);
    b[c] = (float)(s0[c] / R);
    k[c] = (float)(s1[c] / R * istd * istd);
  }
  for (int m = 0; m < R; m++) {
    const float *r = x + (size_t)m * C, *g = dy + (size_t)m * C;
    float *o = dx + (size_t)m * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      v128_t centred = wasm_f32x4_sub(ld(r + c), ld(mean + c));
      v128_t inner = wasm_f32x4_sub(wasm_f32x4_sub(ld(g + c), ld(b + c)),
                                    wasm_f32x4_mul(centred, ld(k + c)));
      st(o + c, wasm_f32x4_mul(ld(a + c), inner));
    }
    for (; c < C; c++) o[c] = a[c] * (g[c] - b[c] - (r[c] - mean[c]) * k[c]);
  }
}
