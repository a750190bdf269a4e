/* gst-rnn: the int8 GEMV with AVX512-VNNI (512-bit vpdpbusd); compiled with
 * AVX-512 F/BW/DQ/VL, AVX512-VNNI and FMA.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * As kernels-avxvnni.c, 16 rows per instruction: the input quantised to
 * q + 128 (unsigned), the int32 sums corrected by rnn_packed.off128; the
 * sums are exact, so the result is bit for bit the portable kernel's.
 */
#include "kernels-x86.h"

#include <string.h>

RNN_INLINE __m512i
quad_at (const int8_t *qu, int k)
{
  int32_t quad;
  memcpy (&quad, qu + 4 * k, sizeof quad);
  return _mm512_set1_epi32 (quad);
}

/* A panel of @width rows (32: two zmm per quad; 8, 16, 24: masked), four
 * quads per iteration on their own accumulators. */
RNN_INLINE void
panel_int8_512 (const int8_t *panel, const int8_t *qu, int nq, int width,
    __m512i *out)
{
  const __mmask16 m0 = rnn_rows_mask (width);
  const __mmask16 m1 = rnn_rows_mask (width - 16);
  const size_t step = (size_t) width * 4;
  __m512i a0 = _mm512_setzero_si512 (), b0 = a0, a1 = a0, b1 = a0;
  __m512i a2 = a0, b2 = a0, a3 = a0, b3 = a0;
  int k = 0;

  for (; k + 3 < nq; k += 4) {
    const int8_t *g = panel + (size_t) k * step;
    const __m512i x0 = quad_at (qu, k), x1 = quad_at (qu, k + 1);
    const __m512i x2 = quad_at (qu, k + 2), x3 = quad_at (qu, k + 3);
    a0 = _mm512_dpbusd_epi32 (a0, x0, _mm512_maskz_loadu_epi32 (m0, g));
    b0 = _mm512_dpbusd_epi32 (b0, x0, _mm512_maskz_loadu_epi32 (m1, g + 64));
    a1 = _mm512_dpbusd_epi32 (a1, x1, _mm512_maskz_loadu_epi32 (m0,
            g + step));
    b1 = _mm512_dpbusd_epi32 (b1, x1, _mm512_maskz_loadu_epi32 (m1,
            g + step + 64));
    a2 = _mm512_dpbusd_epi32 (a2, x2, _mm512_maskz_loadu_epi32 (m0,
            g + 2 * step));
    b2 = _mm512_dpbusd_epi32 (b2, x2, _mm512_maskz_loadu_epi32 (m1,
            g + 2 * step + 64));
    a3 = _mm512_dpbusd_epi32 (a3, x3, _mm512_maskz_loadu_epi32 (m0,
            g + 3 * step));
    b3 = _mm512_dpbusd_epi32 (b3, x3, _mm512_maskz_loadu_epi32 (m1,
            g + 3 * step + 64));
  }
  for (; k < nq; k++) {
    const int8_t *g = panel + (size_t) k * step;
    const __m512i x0 = quad_at (qu, k);
    a0 = _mm512_dpbusd_epi32 (a0, x0, _mm512_maskz_loadu_epi32 (m0, g));
    b0 = _mm512_dpbusd_epi32 (b0, x0, _mm512_maskz_loadu_epi32 (m1, g + 64));
  }
  out[0] = _mm512_add_epi32 (_mm512_add_epi32 (a0, a1),
      _mm512_add_epi32 (a2, a3));
  out[1] = _mm512_add_epi32 (_mm512_add_epi32 (b0, b1),
      _mm512_add_epi32 (b2, b3));
}

void
rnn__gemv_int8_avx512vnni (const rnn_packed *p, const float *x,
    const float *add, float *y)
{
  const int rows = p->rows, kc = p->kc;
  int8_t stack[RNN_SCRATCH_STACK], *qu = stack;
  float sx;
  __m512 vsx;

  if ((size_t) kc > sizeof stack)
    qu = g_malloc ((size_t) kc);
  sx = rnn_quantise_x (x, p->cols, kc, qu, 0x80);
  vsx = _mm512_set1_ps (sx);
  for (int r0 = 0; r0 < rows; r0 += RNN_PANEL_ROWS) {
    const int width = MIN (RNN_PANEL_ROWS, ((rows - r0) + 7) & ~7);
    const int valid = MIN (width, rows - r0);
    const int8_t *panel = p->i8 + (size_t) r0 * (size_t) kc;
    __m512i acc[2];

    if (width == 32)
      panel_int8_512 (panel, qu, kc / 4, 32, acc);
    else
      panel_int8_512 (panel, qu, kc / 4, width, acc);
    /* y = add + (float) (acc - off128) * (s_r * sx), as the portable
     * kernel */
    for (int g = 0; g < 2; g++) {
      const int r = r0 + 16 * g;
      const __mmask16 m = rnn_rows_mask (valid - 16 * g);
      __m512 comb, t;
      if (m == 0)
        break;
      comb = _mm512_mul_ps (_mm512_maskz_loadu_ps (m, p->scale + r), vsx);
      t = _mm512_mul_ps (_mm512_cvtepi32_ps (_mm512_sub_epi32 (acc[g],
                  _mm512_maskz_loadu_epi32 (m, p->off128 + r))), comb);
      if (add != NULL)
        t = _mm512_add_ps (_mm512_maskz_loadu_ps (m, add + r), t);
      _mm512_mask_storeu_ps (y + r, m, t);
    }
  }
  if (qu != stack)
    g_free (qu);
}
