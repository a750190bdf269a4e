/* gst-rnn: portable kernels, packing, dispatch and the CBLAS input GEMM.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "kernels.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static inline int
round8 (int n)
{
  return (n + 7) & ~7;
}

rnn_status
rnn__packed_init (rnn_packed *p, const float *w, int rows, int cols,
    rnn_error *err)
{
  size_t total = (size_t) round8 (rows) * (size_t) cols;

  p->rows = rows;
  p->cols = cols;
  p->data = NULL;
  if (total == 0)
    return RNN_OK;
  /* 64-byte aligned: with the panel widths used (multiples of 8 floats)
   * no 32-byte load of the GEMV then straddles two cache lines; from the
   * 16-byte alignment of malloc, about 10 % of the GEMV rate was lost at
   * H = 128. */
  if (total > G_MAXSIZE / sizeof (float)
      || posix_memalign ((void **) &p->data, 64, total * sizeof (float)) != 0) {
    p->data = NULL;
    return rnn__set_error (err, RNN_ERR_NOMEM,
        "out of memory packing a %d x %d weight matrix", rows, cols);
  }
  memset (p->data, 0, total * sizeof (float));

  for (int r0 = 0; r0 < rows; r0 += RNN_PANEL_ROWS) {
    int width = MIN (RNN_PANEL_ROWS, round8 (rows - r0));
    float *panel = p->data + (size_t) r0 * cols;
    for (int r = r0; r < MIN (rows, r0 + width); r++)
      for (int j = 0; j < cols; j++)
        panel[(size_t) j * width + (r - r0)] = w[(size_t) r * cols + j];
  }
  return RNN_OK;
}

void
rnn__packed_clear (rnn_packed *p)
{
  free (p->data);
  p->data = NULL;
  p->rows = p->cols = 0;
}

/* ---------------------------------------------------------- portable C */

static void
gemv_generic (const rnn_packed *p, const float *x, const float *add, float *y)
{
  const int rows = p->rows, cols = p->cols;

  for (int r0 = 0; r0 < rows; r0 += RNN_PANEL_ROWS) {
    int width = MIN (RNN_PANEL_ROWS, round8 (rows - r0));
    int valid = MIN (width, rows - r0);
    const float *panel = p->data + (size_t) r0 * cols;
    float acc[RNN_PANEL_ROWS];

    for (int r = 0; r < width; r++)
      acc[r] = 0.0f;
    for (int j = 0; j < cols; j++) {
      const float xj = x[j];
      const float *col = panel + (size_t) j * width;
      for (int r = 0; r < width; r++)
        acc[r] += col[r] * xj;
    }
    for (int r = 0; r < valid; r++)
      y[r0 + r] = add ? add[r0 + r] + acc[r] : acc[r];
  }
}

static inline float
sigmoidf (float x)
{
  return 1.0f / (1.0f + expf (-x));
}

static void
sigmoid_generic (const float *x, float *y, size_t n)
{
  for (size_t i = 0; i < n; i++)
    y[i] = sigmoidf (x[i]);
}

static void
tanh_generic (const float *x, float *y, size_t n)
{
  for (size_t i = 0; i < n; i++)
    y[i] = tanhf (x[i]);
}

static void
lstm_cell_generic (const float *g, float *c, float *h, int H)
{
  for (int k = 0; k < H; k++) {
    float i = sigmoidf (g[k]);
    float f = sigmoidf (g[H + k]);
    float gg = tanhf (g[2 * H + k]);
    float o = sigmoidf (g[3 * H + k]);
    float cn = f * c[k] + i * gg;
    c[k] = cn;
    h[k] = o * tanhf (cn);
  }
}

static void
gru_cell_generic (const float *gx, const float *gh, const float *b_hn,
    float *h, int H)
{
  for (int k = 0; k < H; k++) {
    float r = sigmoidf (gx[k] + gh[k]);
    float z = sigmoidf (gx[H + k] + gh[H + k]);
    float n = tanhf (gx[2 * H + k] + r * (gh[2 * H + k] + b_hn[k]));
    h[k] = n + z * (h[k] - n);
  }
}

static void
gemv_batch_generic (const rnn_packed *p, int nb, const float *x, int ldx,
    const float *add, int ldadd, float *y, int ldy)
{
  for (int b = 0; b < nb; b++)
    gemv_generic (p, x + (size_t) b * ldx,
        add ? add + (size_t) b * ldadd : NULL, y + (size_t) b * ldy);
}

static const rnn_kernels kernels_generic = {
  "generic",
  gemv_generic,
  sigmoid_generic,
  tanh_generic,
  lstm_cell_generic,
  gru_cell_generic,
  gemv_batch_generic,
};

const rnn_kernels *
rnn__kernels_generic (void)
{
  return &kernels_generic;
}

#ifndef RNN_HAVE_AVX2
const rnn_kernels *
rnn__kernels_avx2 (void)
{
  return NULL;
}
#endif

const rnn_kernels *
rnn__kernels_get (void)
{
  static gsize chosen;

  if (g_once_init_enter (&chosen)) {
    const rnn_kernels *k = NULL;
    const char *force = g_getenv ("RNN_KERNELS");
    if (force == NULL || strcmp (force, "generic") != 0)
      k = rnn__kernels_avx2 ();
    if (k == NULL)
      k = &kernels_generic;
    g_once_init_leave (&chosen, (gsize) k);
  }
  return (const rnn_kernels *) chosen;
}

/* ---------------------------------------------------------- input GEMM */

/* Y[n, rows] = X[n, cols] W^T + b for a few columns (a univariate signal
 * has one): per frame a handful of axpys over the rows, cheaper inline than
 * the set-up of any BLAS call (OpenBLAS's sgemm with K = 1 runs at about
 * 2 GF/s). y_r = b_r + sum_j w_rj x_j, summed in column order. */
static void
gemm_xwt_narrow (size_t n, int rows, int cols, const float *x, int ldx,
    const float *w, const float *b, float *y, int ldy)
{
  for (size_t t = 0; t < n; t++) {
    const float *xt = x + t * (size_t) ldx;
    float *yt = y + t * (size_t) ldy;

    if (cols == 1) {
      const float x0 = xt[0];
      if (b != NULL)
        for (int r = 0; r < rows; r++)
          yt[r] = b[r] + w[r] * x0;
      else
        for (int r = 0; r < rows; r++)
          yt[r] = w[r] * x0;
      continue;
    }
    for (int r = 0; r < rows; r++) {
      const float *wr = w + (size_t) r * cols;
      float acc = b != NULL ? b[r] : 0.0f;
      for (int j = 0; j < cols; j++)
        acc += wr[j] * xt[j];
      yt[r] = acc;
    }
  }
}

/* The same for one row of W (a head with one output): a dot product per
 * frame, over eight partial sums so that it vectorises. */
static void
gemm_xwt_one_row (size_t n, int cols, const float *x, int ldx,
    const float *w, const float *b, float *y, int ldy)
{
  for (size_t t = 0; t < n; t++) {
    const float *xt = x + t * (size_t) ldx;
    float part[8] = { 0 }, acc;
    int j = 0;

    for (; j + 8 <= cols; j += 8)
      for (int q = 0; q < 8; q++)
        part[q] += w[j + q] * xt[j + q];
    acc = ((part[0] + part[4]) + (part[1] + part[5]))
        + ((part[2] + part[6]) + (part[3] + part[7]));
    for (; j < cols; j++)
      acc += w[j] * xt[j];
    y[t * (size_t) ldy] = b != NULL ? b[0] + acc : acc;
  }
}

void
rnn__gemm_xwt (size_t n, int rows, int cols, const float *x, int ldx,
    const float *w, const float *b, float *y, int ldy)
{
  float beta = 0.0f;

  if (n == 0 || rows == 0)
    return;
  if (cols > 0 && cols <= 4) {
    gemm_xwt_narrow (n, rows, cols, x, ldx, w, b, y, ldy);
    return;
  }
  if (rows == 1 && cols > 0) {
    gemm_xwt_one_row (n, cols, x, ldx, w, b, y, ldy);
    return;
  }
  if (b != NULL) {
    for (size_t t = 0; t < n; t++)
      memcpy (y + t * (size_t) ldy, b, (size_t) rows * sizeof (float));
    beta = 1.0f;
  }
  if (cols == 0) {
    if (b == NULL)
      for (size_t t = 0; t < n; t++)
        memset (y + t * (size_t) ldy, 0, (size_t) rows * sizeof (float));
    return;
  }
  if (n == 1)
    /* OpenBLAS 0.3.21's sgemm with one row is several times slower than
     * its sgemv. */
    cblas_sgemv (CblasRowMajor, CblasNoTrans, rows, cols, 1.0f, w, cols,
        x, 1, beta, y, 1);
  else
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) n, rows,
        cols, 1.0f, x, ldx, w, cols, beta, y, ldy);
}
