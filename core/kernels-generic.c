/* gst-rnn: the portable kernels (any CPU), also the reference the other
 * kernel sets are tested against.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static inline int
panel_width (int rows, int r0)
{
  return MIN (RNN_PANEL_ROWS, (rows - r0 + 7) & ~7);
}

/* The panels in storage order, or last to first with @rev (kernels.h,
 * gemv_ex). */
static inline void
gemv_generic (const rnn_packed *p, const float *x, const float *add,
    float *y, int rev)
{
  const int rows = p->rows, cols = p->cols;
  const int np = (rows + RNN_PANEL_ROWS - 1) / RNN_PANEL_ROWS;

  for (int q = 0; q < np; q++) {
    const int r0 = (rev ? np - 1 - q : q) * RNN_PANEL_ROWS;
    const int width = panel_width (rows, r0);
    const int valid = MIN (width, rows - r0);
    const float *panel = p->data + (size_t) r0 * (size_t) cols;
    float acc[RNN_PANEL_ROWS];

    for (int r = 0; r < width; r++)
      acc[r] = 0.0f;
    for (int j = 0; j < cols; j++) {
      const float xj = x[j];
      const float *col = panel + (size_t) j * (size_t) width;
      for (int r = 0; r < width; r++)
        acc[r] += col[r] * xj;
    }
    for (int r = 0; r < valid; r++)
      y[r0 + r] = add ? add[r0 + r] + acc[r] : acc[r];
  }
}

void
rnn__gemv_generic (const rnn_packed *p, const float *x, const float *add,
    float *y)
{
  gemv_generic (p, x, add, y, 0);
}

void
rnn__gemv_ex_generic (const rnn_packed *p, const float *x,
    const float *add, float *y, unsigned flags)
{
  gemv_generic (p, x, add, y, (flags & RNN_GEMV_REVERSE) != 0);
}

/* bf16: both factors are bfloat16 values, so each product is exact in
 * float; per pair of columns the odd column is added first, then the even
 * one (vdpbf16ps's order). */
void
rnn__gemv_bf16_generic (const rnn_packed *p, const float *x,
    const float *add, float *y)
{
  const int rows = p->rows, np = p->kc / 2;
  float stack[RNN_SCRATCH_STACK / sizeof (float)], *xb = stack;

  /* x rounded to bfloat16 once (as floats; the padding column zero) */
  if ((size_t) p->kc > G_N_ELEMENTS (stack))
    xb = g_malloc ((size_t) p->kc * sizeof (float));
  for (int j = 0; j < p->kc; j++)
    xb[j] = j < p->cols ? rnn__f32_from_bf16 (rnn__bf16_from_f32 (x[j]))
        : 0.0f;

  for (int r0 = 0; r0 < rows; r0 += RNN_PANEL_ROWS) {
    const int width = panel_width (rows, r0);
    const int valid = MIN (width, rows - r0);
    const uint16_t *panel = p->bf16 + (size_t) r0 * (size_t) p->kc;
    float acc[RNN_PANEL_ROWS];

    for (int r = 0; r < width; r++)
      acc[r] = 0.0f;
    for (int k = 0; k < np; k++) {
      const float x0 = xb[2 * k], x1 = xb[2 * k + 1];
      const uint16_t *grp = panel + (size_t) k * (size_t) width * 2;
      for (int r = 0; r < width; r++) {
        /* bfloat16 widened by a shift, as rnn__f32_from_bf16 */
        uint32_t u0 = (uint32_t) grp[2 * r] << 16;
        uint32_t u1 = (uint32_t) grp[2 * r + 1] << 16;
        float w0, w1;
        memcpy (&w0, &u0, sizeof w0);
        memcpy (&w1, &u1, sizeof w1);
        acc[r] += w1 * x1;
        acc[r] += w0 * x0;
      }
    }
    for (int r = 0; r < valid; r++)
      y[r0 + r] = add ? add[r0 + r] + acc[r] : acc[r];
  }
  if (xb != stack)
    g_free (xb);
}

void
rnn__gemv_int8_generic (const rnn_packed *p, const float *x,
    const float *add, float *y)
{
  const int rows = p->rows, cols = p->cols, kc = p->kc;
  int8_t stack[RNN_SCRATCH_STACK], *q = stack;
  float amax = 0.0f, sx, inv;

  if ((size_t) kc > sizeof stack)
    q = g_malloc ((size_t) kc);
  for (int j = 0; j < cols; j++)
    amax = fmaxf (amax, fabsf (x[j]));
  rnn__quant_scales (amax, &sx, &inv);
  for (int j = 0; j < kc; j++)
    q[j] = j < cols ? (int8_t) lrintf (x[j] * inv) : 0;

  for (int r0 = 0; r0 < rows; r0 += RNN_PANEL_ROWS) {
    const int width = panel_width (rows, r0);
    const int valid = MIN (width, rows - r0);
    const int8_t *panel = p->i8 + (size_t) r0 * (size_t) kc;
    int32_t acc[RNN_PANEL_ROWS];

    for (int r = 0; r < width; r++)
      acc[r] = 0;
    for (int k = 0; k < kc / 4; k++) {
      const int8_t *grp = panel + (size_t) k * (size_t) width * 4;
      const int8_t *qk = q + 4 * k;
      for (int r = 0; r < width; r++)
        acc[r] += grp[4 * r] * qk[0] + grp[4 * r + 1] * qk[1]
            + grp[4 * r + 2] * qk[2] + grp[4 * r + 3] * qk[3];
    }
    for (int r = 0; r < valid; r++) {
      const float t = (float) acc[r] * (p->scale[r0 + r] * sx);
      y[r0 + r] = add ? add[r0 + r] + t : t;
    }
  }
  if (q != stack)
    g_free (q);
}

static inline float
sigmoidf (float x)
{
  return 1.0f / (1.0f + expf (-x));
}

void
rnn__sigmoid_generic (const float *x, float *y, size_t n)
{
  for (size_t i = 0; i < n; i++)
    y[i] = sigmoidf (x[i]);
}

void
rnn__tanh_generic (const float *x, float *y, size_t n)
{
  for (size_t i = 0; i < n; i++)
    y[i] = tanhf (x[i]);
}

void
rnn__lstm_cell_generic (const float *g, float *c, float *h, int H)
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

void
rnn__gru_cell_generic (const float *gx, const float *gh, const float *b_hn,
    float *h, int H)
{
  for (int k = 0; k < H; k++) {
    float r = sigmoidf (gx[k] + gh[k]);
    float z = sigmoidf (gx[H + k] + gh[H + k]);
    float n = tanhf (gx[2 * H + k] + r * (gh[2 * H + k] + b_hn[k]));
    h[k] = n + z * (h[k] - n);
  }
}

void
rnn__gemv_batch_generic (const rnn_packed *p, int nb, const float *x,
    int ldx, const float *add, int ldadd, float *y, int ldy)
{
  for (int b = 0; b < nb; b++)
    rnn__gemv_generic (p, x + (size_t) b * (size_t) ldx,
        add ? add + (size_t) b * (size_t) ldadd : NULL,
        y + (size_t) b * (size_t) ldy);
}
