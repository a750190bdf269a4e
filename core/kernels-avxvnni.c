/* gst-rnn: the int8 GEMV with AVX-VNNI (256-bit vpdpbusd), for CPUs that
 * have it without AVX-512 (compiled with -mavx2 -mfma -mavxvnni).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * vpdpbusd multiplies unsigned by signed bytes, four at a time, into int32
 * sums: the input is quantised to q + 128 (unsigned) and the sums corrected
 * by 128 sum_j Wq[r,j] (rnn_packed.off128). The int32 sums are exact, so
 * the result is bit for bit the portable kernel's.
 */
#include "kernels-x86.h"

#include <string.h>

/* @nv blocks of 8 rows, two quads of columns per iteration on separate
 * accumulators (up to eight independent chains). */
RNN_INLINE void
panel_int8_vnni256 (const int8_t *panel, const int8_t *qu, int nq, int nv,
    __m256i *out)
{
  __m256i a[4], b[4];
  int k = 0;

#pragma GCC unroll 4
  for (int v = 0; v < nv; v++)
    a[v] = b[v] = _mm256_setzero_si256 ();
  for (; k + 1 < nq; k += 2) {
    const int8_t *g0 = panel + (size_t) k * (size_t) nv * 32;
    const int8_t *g1 = g0 + nv * 32;
    int32_t q0, q1;
    memcpy (&q0, qu + 4 * k, sizeof q0);
    memcpy (&q1, qu + 4 * k + 4, sizeof q1);
    const __m256i x0 = _mm256_set1_epi32 (q0), x1 = _mm256_set1_epi32 (q1);
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) {
      a[v] = _mm256_dpbusd_avx_epi32 (a[v], x0, _mm256_loadu_si256 ((const
                  __m256i *) (g0 + 32 * v)));
      b[v] = _mm256_dpbusd_avx_epi32 (b[v], x1, _mm256_loadu_si256 ((const
                  __m256i *) (g1 + 32 * v)));
    }
  }
  if (k < nq) {
    const int8_t *g0 = panel + (size_t) k * (size_t) nv * 32;
    int32_t q0;
    memcpy (&q0, qu + 4 * k, sizeof q0);
    const __m256i x0 = _mm256_set1_epi32 (q0);
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++)
      a[v] = _mm256_dpbusd_avx_epi32 (a[v], x0, _mm256_loadu_si256 ((const
                  __m256i *) (g0 + 32 * v)));
  }
#pragma GCC unroll 4
  for (int v = 0; v < nv; v++)
    out[v] = _mm256_add_epi32 (a[v], b[v]);
}

void
rnn__gemv_int8_avxvnni (const rnn_packed *p, const float *x,
    const float *add, float *y)
{
  rnn_int8_gemv8 (p, x, add, y, 0x80, panel_int8_vnni256);
}

/* vpdpbusd on the unsigned input form */
RNN_INLINE __m256i
dot_vnni256 (__m256i acc, __m256i xq, __m256i w)
{
  return _mm256_dpbusd_avx_epi32 (acc, xq, w);
}

/* Tiles of 6 streams x 16 rows: 12 accumulators of the 16 ymm registers */
void
rnn__gemv_batch_int8_avxvnni (const rnn_packed *p, int nb, const float *x,
    int ldx, const float *add, int ldadd, float *y, int ldy)
{
  rnn_int8_gemv8_batch (p, nb, x, ldx, add, ldadd, y, ldy, 0x80, 6,
      dot_vnni256);
}
