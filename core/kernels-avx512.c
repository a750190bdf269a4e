/* gst-rnn: AVX-512 kernels (F, BW, DQ, VL; compiled with those and FMA):
 * the fp32 GEMV and the gate nonlinearities, 16 lanes at a time.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "kernels-x86.h"

#include <string.h>

/* ------------------------------------------------------------ GEMV */

/* A full 32-row panel (two zmm per column): four columns per iteration on
 * their own accumulators, eight independent FMA chains; the 512 bytes of
 * weights RNN_PREFETCH_BYTES ahead are prefetched. */
RNN_INLINE void
panel32_avx512 (const float *panel, const float *x, int cols, __m512 *out)
{
  __m512 a0 = _mm512_setzero_ps (), b0 = a0, a1 = a0, b1 = a0;
  __m512 a2 = a0, b2 = a0, a3 = a0, b3 = a0;
  int j = 0;

  for (; j + 3 < cols; j += 4) {
    const float *c = panel + (size_t) j * 32;
    const __m512 x0 = _mm512_set1_ps (x[j]), x1 = _mm512_set1_ps (x[j + 1]);
    const __m512 x2 = _mm512_set1_ps (x[j + 2]);
    rnn_prefetch_lines (c, 8);
    const __m512 x3 = _mm512_set1_ps (x[j + 3]);
    a0 = _mm512_fmadd_ps (_mm512_load_ps (c), x0, a0);
    b0 = _mm512_fmadd_ps (_mm512_load_ps (c + 16), x0, b0);
    a1 = _mm512_fmadd_ps (_mm512_load_ps (c + 32), x1, a1);
    b1 = _mm512_fmadd_ps (_mm512_load_ps (c + 48), x1, b1);
    a2 = _mm512_fmadd_ps (_mm512_load_ps (c + 64), x2, a2);
    b2 = _mm512_fmadd_ps (_mm512_load_ps (c + 80), x2, b2);
    a3 = _mm512_fmadd_ps (_mm512_load_ps (c + 96), x3, a3);
    b3 = _mm512_fmadd_ps (_mm512_load_ps (c + 112), x3, b3);
  }
  for (; j < cols; j++) {
    const float *c = panel + (size_t) j * 32;
    const __m512 x0 = _mm512_set1_ps (x[j]);
    a0 = _mm512_fmadd_ps (_mm512_load_ps (c), x0, a0);
    b0 = _mm512_fmadd_ps (_mm512_load_ps (c + 16), x0, b0);
  }
  out[0] = _mm512_add_ps (_mm512_add_ps (a0, a1), _mm512_add_ps (a2, a3));
  out[1] = _mm512_add_ps (_mm512_add_ps (b0, b1), _mm512_add_ps (b2, b3));
}

/* The last, narrower panel (@width 8, 16 or 24 rows): masked loads, two
 * columns per iteration. */
static void
panel_tail_avx512 (const float *panel, const float *x, int cols, int width,
    __m512 *out)
{
  const __mmask16 m0 = rnn_rows_mask (width);
  const __mmask16 m1 = rnn_rows_mask (width - 16);
  __m512 a0 = _mm512_setzero_ps (), b0 = a0, a1 = a0, b1 = a0;
  int j = 0;

  for (; j + 1 < cols; j += 2) {
    const float *c = panel + (size_t) j * (size_t) width;
    const __m512 x0 = _mm512_set1_ps (x[j]), x1 = _mm512_set1_ps (x[j + 1]);
    a0 = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (m0, c), x0, a0);
    b0 = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (m1, c + 16), x0, b0);
    a1 = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (m0, c + width), x1, a1);
    b1 = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (m1, c + width + 16), x1,
        b1);
  }
  if (j < cols) {
    const float *c = panel + (size_t) j * (size_t) width;
    const __m512 x0 = _mm512_set1_ps (x[j]);
    a0 = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (m0, c), x0, a0);
    b0 = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (m1, c + 16), x0, b0);
  }
  out[0] = _mm512_add_ps (a0, a1);
  out[1] = _mm512_add_ps (b0, b1);
}

void
rnn__gemv_avx512 (const rnn_packed *p, const float *x, const float *add,
    float *y)
{
  const int rows = p->rows, cols = p->cols;

  for (int r0 = 0; r0 < rows; r0 += RNN_PANEL_ROWS) {
    const int width = MIN (RNN_PANEL_ROWS, ((rows - r0) + 7) & ~7);
    const float *panel = p->data + (size_t) r0 * (size_t) cols;
    __m512 acc[2];

    if (width == 32)
      panel32_avx512 (panel, x, cols, acc);
    else
      panel_tail_avx512 (panel, x, cols, width, acc);
    rnn_store_rows16 (y, add, r0, MIN (width, rows - r0), acc);
  }
}

/* ---------------------------------------------------- activations */

/* One vector of the nonlinearities of kernels-x86.h. */
RNN_INLINE __m512
sigmoid16 (__m512 x)
{
  rnn_sigmoid16_n (&x, 1);
  return x;
}

RNN_INLINE __m512
tanh16 (__m512 x)
{
  rnn_tanh16_n (&x, 1);
  return x;
}

void
rnn__sigmoid_avx512 (const float *x, float *y, size_t n)
{
  for (size_t i = 0; i < n; i += 16) {
    const __mmask16 m = rnn_rows_mask ((int) MIN (n - i, 16));
    _mm512_mask_storeu_ps (y + i, m, sigmoid16 (_mm512_maskz_loadu_ps (m,
                x + i)));
  }
}

void
rnn__tanh_avx512 (const float *x, float *y, size_t n)
{
  for (size_t i = 0; i < n; i += 16) {
    const __mmask16 m = rnn_rows_mask ((int) MIN (n - i, 16));
    _mm512_mask_storeu_ps (y + i, m, tanh16 (_mm512_maskz_loadu_ps (m,
                x + i)));
  }
}

/* ---------------------------------------------------- fused cells */

void
rnn__lstm_cell_avx512 (const float *g, float *c, float *h, int H)
{
  for (int k = 0; k < H; k += 16) {
    const __mmask16 m = rnn_rows_mask (H - k);
    __m512 i = sigmoid16 (_mm512_maskz_loadu_ps (m, g + k));
    __m512 f = sigmoid16 (_mm512_maskz_loadu_ps (m, g + H + k));
    __m512 gg = tanh16 (_mm512_maskz_loadu_ps (m, g + 2 * H + k));
    __m512 o = sigmoid16 (_mm512_maskz_loadu_ps (m, g + 3 * H + k));
    __m512 cn = _mm512_add_ps (_mm512_mul_ps (f, _mm512_maskz_loadu_ps (m,
                c + k)), _mm512_mul_ps (i, gg));
    _mm512_mask_storeu_ps (c + k, m, cn);
    _mm512_mask_storeu_ps (h + k, m, _mm512_mul_ps (o, tanh16 (cn)));
  }
}

void
rnn__gru_cell_avx512 (const float *gx, const float *gh, const float *b_hn,
    float *h, int H)
{
  for (int k = 0; k < H; k += 16) {
    const __mmask16 m = rnn_rows_mask (H - k);
    __m512 r = sigmoid16 (_mm512_add_ps (_mm512_maskz_loadu_ps (m, gx + k),
            _mm512_maskz_loadu_ps (m, gh + k)));
    __m512 z = sigmoid16 (_mm512_add_ps (_mm512_maskz_loadu_ps (m,
                gx + H + k), _mm512_maskz_loadu_ps (m, gh + H + k)));
    __m512 n = tanh16 (_mm512_add_ps (_mm512_maskz_loadu_ps (m,
                gx + 2 * H + k), _mm512_mul_ps (r, _mm512_add_ps
                (_mm512_maskz_loadu_ps (m, gh + 2 * H + k),
                    _mm512_maskz_loadu_ps (m, b_hn + k)))));
    __m512 hv = _mm512_maskz_loadu_ps (m, h + k);
    _mm512_mask_storeu_ps (h + k, m, _mm512_add_ps (n, _mm512_mul_ps (z,
                _mm512_sub_ps (hv, n))));
  }
}
