/* gst-rnn: numeric kernels of the forward engine (internal to core/).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The cell logic in forward.c only talks to this interface, so the kernels
 * can be replaced (another instruction set, another layout) without touching
 * it. Kernel sets live in a candidate table (kernels.c), best first:
 * AVX-512 with VNNI and BF16, AVX-512 with VNNI, AVX-512, AVX-VNNI, AVX2+FMA
 * and portable C. Each x86 set is compiled in its own file with only the
 * instructions it needs (kernels-avx2.c, kernels-avxvnni.c,
 * kernels-avx512*.c); rnn__kernels_get() hands out the first one the CPU
 * supports, or the one RNN_KERNELS names. Every kernel is deterministic: the
 * same inputs give the same bits, whatever the call history, which the
 * snapshot/restore guarantee relies on.
 */
#ifndef RNN_KERNELS_H
#define RNN_KERNELS_H

#include "rnn-private.h"

/* Width of a panel of the packed GEMV layout, in rows. */
#define RNN_PANEL_ROWS 32

/* A row-major matrix W [rows, cols] repacked for y = W x, in one of three
 * precisions.
 *
 * Rows are cut into panels of RNN_PANEL_ROWS rows (the last one narrower:
 * its width w rounded up to a multiple of 8, the padding rows being zero).
 * A panel is stored group of columns after group of columns; inside a group,
 * row after row, the group's columns of that row contiguous. A GEMV then
 * broadcasts one group of x and accumulates w contiguous rows, with no
 * horizontal sum (the "axpy form"). The group is
 *  - f32:  1 column  (float):        (r, j) at f32[r0*cols + j*w + (r-r0)]
 *  - bf16: 2 columns (a 32-bit pair, column 2k in the low half, as
 *          vdpbf16ps pairs them):   (r, j) at bf16[r0*kc + ((j/2)*w + r-r0)*2
 *          + j%2]
 *  - int8: 4 columns (a 32-bit quad, as vpdpbusd groups them):
 *                                    (r, j) at i8[r0*kc + ((j/4)*w + r-r0)*4
 *          + j%4]
 * with kc = cols rounded up to the group (the padding columns zero). */
typedef struct {
  int rows;
  int cols;
  int kc;                 /* cols rounded up to the group size */
  rnn_precision prec;
  /* Exactly one of the three is set (64-byte aligned, posix_memalign,
   * freed by rnn__packed_clear); all NULL when the matrix is empty. */
  float *data;            /* f32: round8(rows) * cols floats */
  uint16_t *bf16;         /* bf16: round8(rows) * kc values */
  int8_t *i8;             /* int8: round8(rows) * kc values */
  /* int8 only, round8(rows) values each (padding rows 0): */
  float *scale;           /* per-row scale s_r = max_j |W[r,j]| / 127 */
  int32_t *off128;        /* 128 * sum_j Wq[r,j]: the correction of the
                           * unsigned (offset by 128) input form */
} rnn_packed;

/* Pack @w into @p (which is overwritten) in precision @prec.
 * RNN_ERR_NOMEM on failure. */
rnn_status rnn__packed_init_prec (rnn_packed *p, const float *w, int rows,
    int cols, rnn_precision prec, rnn_error *err);
/* The same in float32. */
rnn_status rnn__packed_init (rnn_packed *p, const float *w, int rows, int cols,
    rnn_error *err);
void rnn__packed_clear (rnn_packed *p);

/* Scalar reference conversions shared by every kernel set (the SIMD code
 * computes the same values):
 * - bfloat16 of a float: round to nearest even on the top 16 bits; NaN
 *   stays a (quiet) NaN; subnormals become a signed zero, as the AVX512-BF16
 *   conversion does. */
uint16_t rnn__bf16_from_f32 (float f);
float rnn__f32_from_bf16 (uint16_t b);

/* The int8 input quantisation of one GEMV: with a = max_j |x_j|,
 * sx = a / 127 and, for a > 0, q_j = rint (x_j * (127 / a)) in [-127, 127]
 * (q = 0 when a == 0). y_r = add_r + (float) acc_r * (s_r * sx) where
 * acc_r = sum_j Wq[r,j] q_j exactly in int32. Every int8 kernel gives the
 * same bits. This helper returns sx and the divisor 127 / a (0 when a == 0)
 * from a (inline: the GEMVs call it once per input vector). */
static inline void
rnn__quant_scales (float amax, float *sx, float *inv)
{
  if (amax > 0.0f) {
    *sx = amax / 127.0f;
    *inv = 127.0f / amax;
  } else {
    *sx = 0.0f;
    *inv = 0.0f;
  }
}

/* y[r] = sum_j W[r,j] x[j] (+ add[r] when @add is not NULL), for the
 * p->rows rows exactly. @y must not alias @x; it may alias @add. */
typedef void (*rnn_gemv_fn) (const rnn_packed *p, const float *x,
    const float *add, float *y);

typedef struct {
  const char *name;
  /* CPU features the set needs (RNN_CPU_* bits) and their names for
   * messages. */
  unsigned needs;
  const char *needs_text;

  /* The GEMV of each precision (p->prec must match). */
  rnn_gemv_fn gemv;             /* f32 */
  /* The f32 GEMV with options, RNN_GEMV_* bits; the same bits as gemv()
   * whatever they are (every panel's rows are computed on their own):
   * - RNN_GEMV_REVERSE runs the panels last to first. A recurrence
   *   alternating the two directions step after step starts each step on
   *   the panels the previous one read last, which are still in the cache
   *   when the matrix is about as large as the L2 or larger (a plain cyclic
   *   sweep of a matrix larger than the cache misses on every line);
   * - RNN_GEMV_PREFETCH asks for the weights ahead in software, for a
   *   matrix the caller knows streams from L3 (sets without a prefetch
   *   ignore it). gemv() itself prefetches a matrix larger than
   *   rnn__stream_bytes (). */
  void (*gemv_ex) (const rnn_packed *p, const float *x, const float *add,
      float *y, unsigned flags);
  rnn_gemv_fn gemv_bf16;
  rnn_gemv_fn gemv_int8;

  /* Element-wise, in place allowed: sigmoid(x) = 1 / (1 + exp(-x)).
   * Within 4e-7 of double (the parity tests rely on it). */
  void (*sigmoid) (const float *x, float *y, size_t n);
  void (*tanh) (const float *x, float *y, size_t n);

  /* One LSTM step after the matrix products. @g holds the 4H summed
   * pre-activations in PyTorch row order i, f, g, o; @c (H values) is
   * updated in place and @h (H values) receives the unprojected output:
   *   c' = sigmoid(f) * c + sigmoid(i) * tanh(g),  h = sigmoid(o) * tanh(c'). */
  void (*lstm_cell) (const float *g, float *c, float *h, int H);

  /* One GRU step after the matrix products. @gx: 3H input pre-activations,
   * rows r, z, n, where the r and z rows already hold b_ih + b_hh and the n
   * row holds b_in only; @gh: 3H products W_hh h without bias; @b_hn: the H
   * values of b_hn; @h (H values) is updated in place:
   *   r = sigmoid(gx_r + gh_r), z = sigmoid(gx_z + gh_z),
   *   n = tanh(gx_n + r * (gh_n + b_hn)),  h' = n + z * (h - n). */
  void (*gru_cell) (const float *gx, const float *gh, const float *b_hn,
      float *h, int H);

  /* The f32 GEMV of @nb independent vectors with the same weights (the
   * per-channel batch): for b < nb,
   *   y[b * ldy + r] = sum_j W[r,j] x[b * ldx + j] (+ add[b * ldadd + r]),
   * @ldadd 0 adding the same vector to all. Each weight panel is read once
   * for a group of vectors, so the weights' trip from L2 is shared. Every
   * y row gets the same arithmetic as gemv() on that vector alone. @y must
   * not alias @x; it may alias @add when ldadd == ldy. */
  void (*gemv_batch) (const rnn_packed *p, int nb, const float *x, int ldx,
      const float *add, int ldadd, float *y, int ldy);
  /* The same for bf16 and int8 weights: each y row the same bits as
   * gemv_bf16 / gemv_int8 on that vector alone, each weight loaded once for
   * a register tile of vectors. NULL: vector by vector (the AVX2 sets'
   * bf16, whose GEMV spends an 8-lane FMA per multiply-add as a batch
   * would: a tile measured no faster). */
  void (*gemv_batch_bf16) (const rnn_packed *p, int nb, const float *x,
      int ldx, const float *add, int ldadd, float *y, int ldy);
  void (*gemv_batch_int8) (const rnn_packed *p, int nb, const float *x,
      int ldx, const float *add, int ldadd, float *y, int ldy);
} rnn_kernels;

enum {
  RNN_GEMV_REVERSE = 1u << 0,
  RNN_GEMV_PREFETCH = 1u << 1
};

/* Weights touched per step beyond this many bytes stream from L3 rather
 * than staying in L2: 1.5 times the L2 (sysconf; 1 MB when the system
 * does not say). */
size_t rnn__stream_bytes (void);

/* CPU features (rnn_kernels.needs). */
enum {
  RNN_CPU_AVX2 = 1u << 0,
  RNN_CPU_FMA = 1u << 1,
  RNN_CPU_AVX512 = 1u << 2,     /* F, BW, DQ and VL */
  RNN_CPU_AVX512_VNNI = 1u << 3,
  RNN_CPU_AVX512_BF16 = 1u << 4,
  RNN_CPU_AVX_VNNI = 1u << 5
};

/* The GEMV of p->prec with the kernels @k. */
static inline void
rnn__kernels_gemv (const rnn_kernels *k, const rnn_packed *p, const float *x,
    const float *add, float *y)
{
  switch (p->prec) {
    case RNN_PRECISION_BF16: k->gemv_bf16 (p, x, add, y); break;
    case RNN_PRECISION_INT8: k->gemv_int8 (p, x, add, y); break;
    default: k->gemv (p, x, add, y); break;
  }
}

/* The batched GEMV's contract (rnn_kernels.gemv_batch) met vector by
 * vector through @gemv. */
static inline void
rnn__gemv_each (rnn_gemv_fn gemv, const rnn_packed *p, int nb,
    const float *x, int ldx, const float *add, int ldadd, float *y, int ldy)
{
  for (int b = 0; b < nb; b++)
    gemv (p, x + (size_t) b * (size_t) ldx,
        add ? add + (size_t) b * (size_t) ldadd : NULL,
        y + (size_t) b * (size_t) ldy);
}

/* The batched GEMV of any precision: gemv_batch, gemv_batch_bf16 or
 * gemv_batch_int8, vector by vector through the GEMV when the set has
 * none. Same contract as rnn_kernels.gemv_batch. */
void rnn__kernels_gemv_batch (const rnn_kernels *k, const rnn_packed *p,
    int nb, const float *x, int ldx, const float *add, int ldadd, float *y,
    int ldy);

/* The candidate table, best first: every set compiled in (whether the CPU
 * supports it or not). NULL past the end. */
const rnn_kernels *rnn__kernels_at (int i);
/* The set named @name (NULL if none is compiled in under that name). */
const rnn_kernels *rnn__kernels_find (const char *name);
/* Does this CPU have what @k needs? When not, *missing (may be NULL)
 * receives a static string naming everything the set needs. */
bool rnn__kernels_supported (const rnn_kernels *k, const char **missing);

/* The set the engine uses: RNN_KERNELS=<name> when the CPU supports it
 * (otherwise a warning naming the problem and the default), else the first
 * supported set of the table. Never NULL. */
const rnn_kernels *rnn__kernels_get (void);
/* The portable implementation, always available. */
const rnn_kernels *rnn__kernels_generic (void);
/* The AVX2+FMA implementation, or NULL when the build or the CPU lacks it. */
const rnn_kernels *rnn__kernels_avx2 (void);

/* Make @m's engine use @k from now on (tests and benchmarks compare the
 * implementations; not while a state of @m is running). */
void rnn__engine_use_kernels (rnn_model *m, const rnn_kernels *k);

/* Y[n, rows] = X[n, cols] W^T + b, with W row-major [rows, cols], X rows
 * @ldx apart and Y rows @ldy apart; @b (rows values) may be NULL. Goes
 * through CBLAS (one sgemm for the whole block; sgemv when n == 1), except
 * for shapes where a BLAS call costs more than the work: at most 4 columns
 * (a univariate input) and a single row (a one-output head) run inline. */
void rnn__gemm_xwt (size_t n, int rows, int cols, const float *x, int ldx,
    const float *w, const float *b, float *y, int ldy);

/* ------------------------------------------------ the sets' functions
 * Defined in the file of each instruction set, referenced by the table in
 * kernels.c (only those compiled in: RNN_HAVE_AVX2, RNN_HAVE_AVXVNNI,
 * RNN_HAVE_AVX512, RNN_HAVE_AVX512_VNNI, RNN_HAVE_AVX512_BF16). */

/* kernels-generic.c */
void rnn__gemv_generic (const rnn_packed *p, const float *x,
    const float *add, float *y);
void rnn__gemv_ex_generic (const rnn_packed *p, const float *x,
    const float *add, float *y, unsigned flags);
void rnn__gemv_bf16_generic (const rnn_packed *p, const float *x,
    const float *add, float *y);
void rnn__gemv_int8_generic (const rnn_packed *p, const float *x,
    const float *add, float *y);
void rnn__sigmoid_generic (const float *x, float *y, size_t n);
void rnn__tanh_generic (const float *x, float *y, size_t n);
void rnn__lstm_cell_generic (const float *g, float *c, float *h, int H);
void rnn__gru_cell_generic (const float *gx, const float *gh,
    const float *b_hn, float *h, int H);
void rnn__gemv_batch_generic (const rnn_packed *p, int nb, const float *x,
    int ldx, const float *add, int ldadd, float *y, int ldy);

/* kernels-avx2.c (AVX2 + FMA) */
void rnn__gemv_avx2 (const rnn_packed *p, const float *x, const float *add,
    float *y);
void rnn__gemv_ex_avx2 (const rnn_packed *p, const float *x,
    const float *add, float *y, unsigned flags);
void rnn__gemv_bf16_avx2 (const rnn_packed *p, const float *x,
    const float *add, float *y);
void rnn__gemv_int8_avx2 (const rnn_packed *p, const float *x,
    const float *add, float *y);
void rnn__sigmoid_avx2 (const float *x, float *y, size_t n);
void rnn__tanh_avx2 (const float *x, float *y, size_t n);
void rnn__lstm_cell_avx2 (const float *g, float *c, float *h, int H);
void rnn__gru_cell_avx2 (const float *gx, const float *gh, const float *b_hn,
    float *h, int H);
void rnn__gemv_batch_avx2 (const rnn_packed *p, int nb, const float *x,
    int ldx, const float *add, int ldadd, float *y, int ldy);
void rnn__gemv_batch_int8_avx2 (const rnn_packed *p, int nb,
    const float *x, int ldx, const float *add, int ldadd, float *y, int ldy);

/* kernels-avxvnni.c (AVX2 + FMA + AVX-VNNI) */
void rnn__gemv_int8_avxvnni (const rnn_packed *p, const float *x,
    const float *add, float *y);
void rnn__gemv_batch_int8_avxvnni (const rnn_packed *p, int nb,
    const float *x, int ldx, const float *add, int ldadd, float *y, int ldy);

/* kernels-avx512.c (AVX-512 F/BW/DQ/VL + FMA) */
void rnn__gemv_avx512 (const rnn_packed *p, const float *x,
    const float *add, float *y);
void rnn__gemv_ex_avx512 (const rnn_packed *p, const float *x,
    const float *add, float *y, unsigned flags);
void rnn__sigmoid_avx512 (const float *x, float *y, size_t n);
void rnn__tanh_avx512 (const float *x, float *y, size_t n);
void rnn__lstm_cell_avx512 (const float *g, float *c, float *h, int H);
void rnn__gru_cell_avx512 (const float *gx, const float *gh,
    const float *b_hn, float *h, int H);
void rnn__gemv_batch_bf16_avx512 (const rnn_packed *p, int nb,
    const float *x, int ldx, const float *add, int ldadd, float *y, int ldy);

/* kernels-avx512-vnni.c (+ AVX512-VNNI), kernels-avx512-bf16.c
 * (+ AVX512-BF16) */
void rnn__gemv_int8_avx512vnni (const rnn_packed *p, const float *x,
    const float *add, float *y);
void rnn__gemv_batch_int8_avx512vnni (const rnn_packed *p, int nb,
    const float *x, int ldx, const float *add, int ldadd, float *y, int ldy);
void rnn__gemv_bf16_avx512bf16 (const rnn_packed *p, const float *x,
    const float *add, float *y);
void rnn__gemv_batch_bf16_avx512bf16 (const rnn_packed *p, int nb,
    const float *x, int ldx, const float *add, int ldadd, float *y, int ldy);

/* Scratch for an int8 or bf16 GEMV's converted input: on the stack up to
 * this many bytes, else from the heap (a call on a huge model). */
#define RNN_SCRATCH_STACK 16384

#endif /* RNN_KERNELS_H */
