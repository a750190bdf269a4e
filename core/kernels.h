/* gst-rnn: numeric kernels of the forward engine (internal to core/).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The cell logic in forward.c only talks to this interface, so the kernels
 * can be replaced (another instruction set, another layout) without touching
 * it. Two implementations exist: portable C (kernels.c) and AVX2+FMA
 * (kernels-avx2.c); rnn__kernels_get() picks one at run time from the CPU.
 * Every kernel is deterministic: the same inputs give the same bits, whatever
 * the call history, which the snapshot/restore guarantee relies on.
 */
#ifndef RNN_KERNELS_H
#define RNN_KERNELS_H

#include "rnn-private.h"

/* Width of a panel of the packed GEMV layout, in rows. */
#define RNN_PANEL_ROWS 32

/* A row-major matrix W [rows, cols] repacked for y = W x.
 *
 * Rows are cut into panels of RNN_PANEL_ROWS rows (the last one narrower:
 * its width rounded up to a multiple of 8, the padding rows being zero).
 * Inside a panel starting at row r0 with width w, the panel is stored column
 * after column: element (r, j) is at data[r0 * cols + j * w + (r - r0)]. A
 * GEMV then broadcasts x[j] and accumulates w contiguous rows with one
 * multiply-add per 8 rows, with no horizontal sum (the "axpy form"). */
typedef struct {
  int rows;
  int cols;
  float *data;    /* round8(rows) * cols floats, 64-byte aligned
                   * (posix_memalign, freed by rnn__packed_clear); NULL if
                   * empty */
} rnn_packed;

/* Pack @w into @p (which is overwritten). RNN_ERR_NOMEM on failure. */
rnn_status rnn__packed_init (rnn_packed *p, const float *w, int rows, int cols,
    rnn_error *err);
void rnn__packed_clear (rnn_packed *p);

typedef struct {
  const char *name;

  /* y[r] = sum_j W[r,j] x[j] (+ add[r] when @add is not NULL), for the
   * p->rows rows exactly. @y must not alias @x; it may alias @add. */
  void (*gemv) (const rnn_packed *p, const float *x, const float *add,
      float *y);

  /* Element-wise, in place allowed. Accurate to a few float ulps (the
   * parity tests rely on it): sigmoid(x) = 1 / (1 + exp(-x)). */
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

  /* The GEMV of @nb independent vectors with the same weights (the
   * per-channel batch): for b < nb,
   *   y[b * ldy + r] = sum_j W[r,j] x[b * ldx + j] (+ add[b * ldadd + r]),
   * @ldadd 0 adding the same vector to all. Each weight panel is read once
   * for a group of vectors, so the weights' trip from L2 is shared. Every
   * y row gets the same arithmetic as gemv() on that vector alone. @y must
   * not alias @x; it may alias @add when ldadd == ldy. */
  void (*gemv_batch) (const rnn_packed *p, int nb, const float *x, int ldx,
      const float *add, int ldadd, float *y, int ldy);
} rnn_kernels;

/* The best implementation for this CPU (AVX2+FMA when available, unless the
 * environment variable RNN_KERNELS is "generic"). Never NULL. */
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

#endif /* RNN_KERNELS_H */
