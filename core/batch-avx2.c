/* gst-rnn: the per-stream batch's recurrent product with AVX2 + FMA (this
 * file alone is compiled with -mavx2 -mfma; batch.c only calls it when the
 * CPU has both).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The same product as batch-avx512.c, y_b = W h_b (+ add_b) for nb streams
 * on the packed 32-row panels, with 16 ymm registers: a tile of 16 rows (two
 * vectors of 8) x 6 streams holds 12 accumulators, and each 16-row half of
 * a panel column is loaded once for 6 streams (two loads, six broadcasts,
 * twelve multiply-adds). Each output row is one chain of multiply-adds in
 * column order, then the add.
 */
#include "engine.h"
#include "kernels-x86.h"

#include <immintrin.h>

#define TILE_STREAMS 6
/* Weights this far ahead (2 KB) are prefetched into L1, as in
 * batch-avx512.c; a tile reads one 64-byte line per column. */
#define PF_FLOATS 512

/* Rows [h0, h0 + 8 nv) of a panel of width @w, for @nb streams; @valid
 * rows of the panel are written. Constant @nv and @nb at every call site. */
static inline __attribute__ ((always_inline)) void
tile (const float *panel, int w, int cols, int nv, int nb, const float *x,
    int ldx, const float *add, int ldadd, float *y, int ldy, int valid)
{
  __m256 a0[TILE_STREAMS], a1[TILE_STREAMS];

#pragma GCC unroll 6
  for (int b = 0; b < nb; b++) {
    a0[b] = _mm256_setzero_ps ();
    a1[b] = _mm256_setzero_ps ();
  }
  for (int j = 0; j < cols; j++) {
    const float *c = panel + (size_t) j * (size_t) w;
    __m256 w0;

    _mm_prefetch ((const char *) (c + PF_FLOATS), _MM_HINT_T0);
    w0 = _mm256_loadu_ps (c);
    __m256 w1 = nv == 2 ? _mm256_loadu_ps (c + 8) : _mm256_setzero_ps ();

#pragma GCC unroll 6
    for (int b = 0; b < nb; b++) {
      __m256 xb = _mm256_broadcast_ss (x + (size_t) b * (size_t) ldx
          + (size_t) j);
      a0[b] = _mm256_fmadd_ps (w0, xb, a0[b]);
      if (nv == 2)
        a1[b] = _mm256_fmadd_ps (w1, xb, a1[b]);
    }
  }
#pragma GCC unroll 6
  for (int b = 0; b < nb; b++) {
    float *yb = y + (size_t) b * (size_t) ldy;
    const float *ab = add != NULL ? add + (size_t) b * (size_t) ldadd : NULL;
    float tmp[16];

    if (valid >= 8 * nv) {
      __m256 v0 = a0[b], v1 = a1[b];
      if (ab != NULL) {
        v0 = _mm256_add_ps (_mm256_loadu_ps (ab), v0);
        if (nv == 2)
          v1 = _mm256_add_ps (_mm256_loadu_ps (ab + 8), v1);
      }
      _mm256_storeu_ps (yb, v0);
      if (nv == 2)
        _mm256_storeu_ps (yb + 8, v1);
    } else {
      /* the padding rows of the last panel are not written */
      _mm256_storeu_ps (tmp, a0[b]);
      _mm256_storeu_ps (tmp + 8, a1[b]);
      for (int r = 0; r < valid; r++)
        yb[r] = ab != NULL ? ab[r] + tmp[r] : tmp[r];
    }
  }
}

#define TILE_CASE(NB) \
  case NB: \
    if (nv == 2) \
      tile (panel + h0, w, cols, 2, NB, xg, ldx, ag, ldadd, yg, ldy, valid); \
    else \
      tile (panel + h0, w, cols, 1, NB, xg, ldx, ag, ldadd, yg, ldy, valid); \
    break

void
rnn__gemm_streams_avx2 (const rnn_packed *p, int nb, const float *x,
    int ldx, const float *add, int ldadd, float *y, int ldy)
{
  const int rows = p->rows, cols = p->cols;

  for (int r0 = 0; r0 < rows; r0 += RNN_PANEL_ROWS) {
    const int w = MIN (RNN_PANEL_ROWS, ((rows - r0) + 7) & ~7);
    const float *panel = p->data + (size_t) r0 * (size_t) cols;

    for (int h0 = 0; h0 < w; h0 += 16) {
      const int nv = MIN (2, (w - h0) / 8);
      const int valid = MIN (8 * nv, rows - r0 - h0);

      for (int b0 = 0; b0 < nb; b0 += TILE_STREAMS) {
        const float *xg = x + (size_t) b0 * (size_t) ldx;
        const float *ag = add != NULL ? add + (size_t) b0 * (size_t) ldadd
            + (size_t) (r0 + h0) : NULL;
        float *yg = y + (size_t) b0 * (size_t) ldy + (size_t) (r0 + h0);

        switch (MIN (TILE_STREAMS, nb - b0)) {
          TILE_CASE (6);
          TILE_CASE (5);
          TILE_CASE (4);
          TILE_CASE (3);
          TILE_CASE (2);
          TILE_CASE (1);
          default: break;
        }
      }
    }
  }
}

/* ------------------------------------------------------------- cells */

/* Lanes [0, n) of 8; full vectors take the plain load and store (a masked
 * store is slow on some CPUs). */
RNN_INLINE __m256i
lanes8 (int n)
{
  return _mm256_cmpgt_epi32 (_mm256_set1_epi32 (n),
      _mm256_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7));
}

RNN_INLINE __m256
load8 (int n, const float *p)
{
  return n >= 8 ? _mm256_loadu_ps (p) : _mm256_maskload_ps (p, lanes8 (n));
}

RNN_INLINE void
store8 (float *p, int n, __m256 v)
{
  if (n >= 8)
    _mm256_storeu_ps (p, v);
  else
    _mm256_maskstore_ps (p, lanes8 (n), v);
}

#define CV __m256
#define CW 8
#define CMASK int
#define C_LOAD(m, p) load8 ((m), (p))
#define C_STORE(p, m, v) store8 ((p), (m), (v))
#define C_MASK(n) MIN ((n), 8)
#define C_NONE 0
#define C_FULL 8
#define C_ADD _mm256_add_ps
#define C_SUB _mm256_sub_ps
#define C_MUL _mm256_mul_ps
#define C_SET1 _mm256_set1_ps
#define C_SIGMOID_N rnn_sigmoid8_n
#define C_TANH_N rnn_tanh8_n
#define C_FUNC rnn__cells_streams_avx2
#include "batch-cells.h"
