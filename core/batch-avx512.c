/* gst-rnn: the per-stream batch's recurrent product with AVX-512F (this
 * file alone is compiled with -mavx512f; batch.c only calls it when the CPU
 * has AVX-512F).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * For nb streams, y_b = W h_b (+ add_b) on the model's packed W (kernels.h:
 * 32-row panels stored column after column). A GEMV reads every weight once
 * per stream; here a register tile of 32 rows x 8 streams (16 zmm
 * accumulators) reads each panel column once for 8 streams: per column j,
 * two loads of 16 weights, 8 broadcasts of h_b[j] and 16 multiply-adds. The
 * weights then cost a load per 8 multiply-adds instead of one per one, and
 * the step is bound by the FMA units instead of the cache that holds W.
 * Panels run in the outer loop, stream groups in the inner one, so a panel
 * stays in L1 between the groups.
 *
 * Each output row is one chain of multiply-adds in column order, then the
 * add: the same arithmetic for every stream, whatever the group size.
 */
#include "engine.h"
#include "kernels-x86.h"

#include <immintrin.h>

#define TILE_STREAMS 8
/* Weights this far ahead (2 KB, 16 columns of a full panel) are prefetched
 * into L1: W_hh of H >= 256 lives in L2 or L3, and without it the tile
 * waits on the panel's first pass (measured: LSTM 512 and the 2 x 256
 * stacks 20-30% faster, H = 256 a few %). Prefetches past the end of the
 * weights are harmless. */
#define PF_FLOATS 512



/* 32 (nv = 2) or 16 (nv = 1) rows of one panel of width @w, for @nb
 * streams; @mw masks the weights of the last vector (narrow panels), @s0 and
 * @s1 the rows written. @nb and @nv are constants at every call site, so the
 * accumulators stay in registers. */
static inline __attribute__ ((always_inline)) void
tile (const float *panel, int w, int cols, int nv, int nb, __mmask16 mw,
    const float *x, int ldx, const float *add, int ldadd, float *y, int ldy,
    __mmask16 s0, __mmask16 s1)
{
  __m512 a0[TILE_STREAMS], a1[TILE_STREAMS];

#pragma GCC unroll 8
  for (int b = 0; b < nb; b++) {
    a0[b] = _mm512_setzero_ps ();
    a1[b] = _mm512_setzero_ps ();
  }
  for (int j = 0; j < cols; j++) {
    const float *c = panel + (size_t) j * (size_t) w;
    __m512 w0, w1 = _mm512_setzero_ps ();

    _mm_prefetch ((const char *) (c + PF_FLOATS), _MM_HINT_T0);
    _mm_prefetch ((const char *) (c + PF_FLOATS + 16), _MM_HINT_T0);
    if (nv == 2) {
      w0 = _mm512_loadu_ps (c);
      w1 = _mm512_maskz_loadu_ps (mw, c + 16);
    } else {
      w0 = _mm512_maskz_loadu_ps (mw, c);
    }
#pragma GCC unroll 8
    for (int b = 0; b < nb; b++) {
      __m512 xb = _mm512_set1_ps (x[(size_t) b * (size_t) ldx + (size_t) j]);
      a0[b] = _mm512_fmadd_ps (w0, xb, a0[b]);
      if (nv == 2)
        a1[b] = _mm512_fmadd_ps (w1, xb, a1[b]);
    }
  }
#pragma GCC unroll 8
  for (int b = 0; b < nb; b++) {
    float *yb = y + (size_t) b * (size_t) ldy;
    __m512 v0 = a0[b], v1 = a1[b];

    if (add != NULL) {
      const float *ab = add + (size_t) b * (size_t) ldadd;
      v0 = _mm512_add_ps (_mm512_maskz_loadu_ps (s0, ab), v0);
      if (nv == 2)
        v1 = _mm512_add_ps (_mm512_maskz_loadu_ps (s1, ab + 16), v1);
    }
    _mm512_mask_storeu_ps (yb, s0, v0);
    if (nv == 2)
      _mm512_mask_storeu_ps (yb + 16, s1, v1);
  }
}

#define TILE_CASE(NB) \
  case NB: \
    if (nv == 2) \
      tile (panel, w, cols, 2, NB, mw, xg, ldx, ag, ldadd, yg, ldy, s0, s1); \
    else \
      tile (panel, w, cols, 1, NB, mw, xg, ldx, ag, ldadd, yg, ldy, s0, s1); \
    break

void
rnn__gemm_streams_avx512 (const rnn_packed *p, int nb, const float *x,
    int ldx, const float *add, int ldadd, float *y, int ldy)
{
  const int rows = p->rows, cols = p->cols;

  for (int r0 = 0; r0 < rows; r0 += RNN_PANEL_ROWS) {
    const int w = MIN (RNN_PANEL_ROWS, ((rows - r0) + 7) & ~7);
    const int valid = MIN (w, rows - r0);
    const int nv = w > 16 ? 2 : 1;
    const __mmask16 mw = rnn_rows_mask (w - 16 * (nv - 1));
    const __mmask16 s0 = rnn_rows_mask (valid);
    const __mmask16 s1 = rnn_rows_mask (valid - 16);
    const float *panel = p->data + (size_t) r0 * (size_t) cols;

    for (int b0 = 0; b0 < nb; b0 += TILE_STREAMS) {
      const float *xg = x + (size_t) b0 * (size_t) ldx;
      const float *ag = add != NULL ? add + (size_t) b0 * (size_t) ldadd
          + (size_t) r0 : NULL;
      float *yg = y + (size_t) b0 * (size_t) ldy + (size_t) r0;

      switch (MIN (TILE_STREAMS, nb - b0)) {
        TILE_CASE (8);
        TILE_CASE (7);
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

/* ------------------------------------------------------------- cells */

#define CV __m512
#define CW 16
#define CMASK __mmask16
/* a full mask known at compile time takes the plain load and store */
#define C_FULL ((__mmask16) 0xffff)
#define C_LOAD(m, p) (__builtin_constant_p (m) && (m) == C_FULL \
    ? _mm512_loadu_ps (p) : _mm512_maskz_loadu_ps ((m), (p)))
#define C_STORE(p, m, v) do { if (__builtin_constant_p (m) && (m) == C_FULL) \
      _mm512_storeu_ps ((p), (v)); \
    else _mm512_mask_storeu_ps ((p), (m), (v)); } while (0)
#define C_MASK(n) rnn_rows_mask (n)
#define C_NONE ((__mmask16) 0)
#define C_ADD _mm512_add_ps
#define C_SUB _mm512_sub_ps
#define C_MUL _mm512_mul_ps
#define C_SET1 _mm512_set1_ps
#define C_SIGMOID_N rnn_sigmoid16_n
#define C_TANH_N rnn_tanh16_n
#define C_FUNC rnn__cells_streams_avx512
#include "batch-cells.h"
