/* gst-rnn: the bf16 GEMV with AVX512-BF16 (vdpbf16ps); compiled with
 * AVX-512 F/BW/DQ/VL, AVX512-BF16 and FMA.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * vdpbf16ps multiplies pairs of bfloat16 values (a weight pair of one row
 * by the input pair of the same two columns) and adds both products to a
 * float accumulator: half the bytes of float weights per multiply-add.
 */
#include "kernels-x86.h"

#include <string.h>

RNN_INLINE __m512bh
pair_at (const uint16_t *xh, int k)
{
  uint32_t pair;
  memcpy (&pair, xh + 2 * k, sizeof pair);
  return (__m512bh) _mm512_set1_epi32 ((int) pair);
}

RNN_INLINE __m512bh
weights (const uint16_t *g, __mmask16 m)
{
  return (__m512bh) _mm512_maskz_loadu_epi32 (m, g);
}

/* A panel of @width rows (32: two full zmm per pair; 8, 16, 24: masked),
 * four pairs per iteration on their own accumulators. */
RNN_INLINE void
panel_bf16_512 (const uint16_t *panel, const uint16_t *xh, int np,
    int width, __m512 *out)
{
  const __mmask16 m0 = rnn_rows_mask (width);
  const __mmask16 m1 = rnn_rows_mask (width - 16);
  const size_t step = (size_t) width * 2;
  __m512 a0 = _mm512_setzero_ps (), b0 = a0, a1 = a0, b1 = a0;
  __m512 a2 = a0, b2 = a0, a3 = a0, b3 = a0;
  int k = 0;

  for (; k + 3 < np; k += 4) {
    const uint16_t *g = panel + (size_t) k * step;
    a0 = _mm512_dpbf16_ps (a0, weights (g, m0), pair_at (xh, k));
    b0 = _mm512_dpbf16_ps (b0, weights (g + 32, m1), pair_at (xh, k));
    a1 = _mm512_dpbf16_ps (a1, weights (g + step, m0), pair_at (xh, k + 1));
    b1 = _mm512_dpbf16_ps (b1, weights (g + step + 32, m1), pair_at (xh,
            k + 1));
    a2 = _mm512_dpbf16_ps (a2, weights (g + 2 * step, m0), pair_at (xh,
            k + 2));
    b2 = _mm512_dpbf16_ps (b2, weights (g + 2 * step + 32, m1), pair_at (xh,
            k + 2));
    a3 = _mm512_dpbf16_ps (a3, weights (g + 3 * step, m0), pair_at (xh,
            k + 3));
    b3 = _mm512_dpbf16_ps (b3, weights (g + 3 * step + 32, m1), pair_at (xh,
            k + 3));
  }
  for (; k < np; k++) {
    const uint16_t *g = panel + (size_t) k * step;
    a0 = _mm512_dpbf16_ps (a0, weights (g, m0), pair_at (xh, k));
    b0 = _mm512_dpbf16_ps (b0, weights (g + 32, m1), pair_at (xh, k));
  }
  out[0] = _mm512_add_ps (_mm512_add_ps (a0, a1), _mm512_add_ps (a2, a3));
  out[1] = _mm512_add_ps (_mm512_add_ps (b0, b1), _mm512_add_ps (b2, b3));
}

void
rnn__gemv_bf16_avx512bf16 (const rnn_packed *p, const float *x,
    const float *add, float *y)
{
  const int rows = p->rows, cols = p->cols, kc = p->kc;
  uint16_t stack[RNN_SCRATCH_STACK / sizeof (uint16_t)], *xh = stack;
  int j = 0;

  if ((size_t) kc > G_N_ELEMENTS (stack))
    xh = g_malloc ((size_t) kc * sizeof (uint16_t));
  for (; j + 16 <= cols; j += 16)
    _mm256_storeu_si256 ((__m256i *) (xh + j),
        (__m256i) _mm512_cvtneps_pbh (_mm512_loadu_ps (x + j)));
  for (; j < cols; j++)
    xh[j] = rnn__bf16_from_f32 (x[j]);
  for (; j < kc; j++)
    xh[j] = 0;

  for (int r0 = 0; r0 < rows; r0 += RNN_PANEL_ROWS) {
    const int width = MIN (RNN_PANEL_ROWS, ((rows - r0) + 7) & ~7);
    const int valid = MIN (width, rows - r0);
    const uint16_t *panel = p->bf16 + (size_t) r0 * (size_t) kc;
    __m512 acc[2];

    if (width == 32)
      panel_bf16_512 (panel, xh, kc / 2, 32, acc);
    else
      panel_bf16_512 (panel, xh, kc / 2, width, acc);
    rnn_store_rows16 (y, add, r0, valid, acc);
  }
  if (xh != stack)
    g_free (xh);
}
