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

/* @x (@cols values) rounded to bfloat16 into @xh, the padding up to @kc
 * zero */
RNN_INLINE void
to_bf16 (const float *x, int cols, int kc, uint16_t *xh)
{
  int j = 0;

  for (; j + 16 <= cols; j += 16)
    _mm256_storeu_si256 ((__m256i *) (xh + j),
        (__m256i) _mm512_cvtneps_pbh (_mm512_loadu_ps (x + j)));
  for (; j < cols; j++)
    xh[j] = rnn__bf16_from_f32 (x[j]);
  for (; j < kc; j++)
    xh[j] = 0;
}

void
rnn__gemv_bf16_avx512bf16 (const rnn_packed *p, const float *x,
    const float *add, float *y)
{
  const int rows = p->rows, kc = p->kc;
  uint16_t stack[RNN_SCRATCH_STACK / sizeof (uint16_t)], *xh = stack;

  if ((size_t) kc > G_N_ELEMENTS (stack))
    xh = g_malloc ((size_t) kc * sizeof (uint16_t));
  to_bf16 (x, p->cols, kc, xh);

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

/* ------------------------------------------------ several input vectors */

/* Streams per register tile (four accumulator chains each for 16 rows:
 * 24 of the 32 zmm registers) and per block of converted inputs. */
#define BF_TILE 6
#define BF_BLOCK 32
/* Weights this many bytes ahead are prefetched into L1 (the first stream
 * group of a panel reads it from L2 or L3) */
#define BF_PF 2048

/* acc += the pair products of @a and @b, in place (gcc 12 wraps the
 * intrinsic in register copies inside a loop of many accumulators) */
#define DPBF16(acc, a, b) \
  __asm__ ("vdpbf16ps %2, %1, %0" : "+v" (acc) : "v" (a), "v" (b))

/* Rows [r0 + h, r0 + h + 16) of the panel at @panel (width @w, @valid
 * rows from r0) for @nb streams, their bf16 inputs @ldx apart: each weight
 * vector loaded once for the streams, and per stream the arithmetic of
 * panel_bf16_512 on these rows (pair k on chain k mod 4 up to the last
 * multiple of 4, the rest on chain 0, then (c0 + c1) + (c2 + c3)), then
 * y = add + that, as rnn_store_rows16. @nb is a constant at every call
 * site. */
RNN_INLINE void
tile_bf16_512 (const uint16_t *panel, int np, int w, int h, int r0,
    int valid, int nb, const uint16_t *xh, int ldx, const float *add,
    int ldadd, float *y, int ldy)
{
  const __mmask16 m = rnn_rows_mask (w - h);
  const size_t step = (size_t) w * 2;
  __m512 c0[BF_TILE], c1[BF_TILE], c2[BF_TILE], c3[BF_TILE];
  int k = 0;

  panel += h * 2;
#pragma GCC unroll 6
  for (int b = 0; b < nb; b++)
    c0[b] = c1[b] = c2[b] = c3[b] = _mm512_setzero_ps ();
  for (; k + 3 < np; k += 4) {
    const uint16_t *g = panel + (size_t) k * step;
    const __m512bh w0 = weights (g, m), w1 = weights (g + step, m);
    const __m512bh w2 = weights (g + 2 * step, m);
    const __m512bh w3 = weights (g + 3 * step, m);

    _mm_prefetch ((const char *) g + BF_PF, _MM_HINT_T0);
    _mm_prefetch ((const char *) g + BF_PF + 64, _MM_HINT_T0);
    _mm_prefetch ((const char *) g + BF_PF + 128, _MM_HINT_T0);
    _mm_prefetch ((const char *) g + BF_PF + 192, _MM_HINT_T0);
#pragma GCC unroll 6
    for (int b = 0; b < nb; b++) {
      const uint16_t *xb = xh + (size_t) b * (size_t) ldx;
      DPBF16 (c0[b], w0, pair_at (xb, k));
      DPBF16 (c1[b], w1, pair_at (xb, k + 1));
      DPBF16 (c2[b], w2, pair_at (xb, k + 2));
      DPBF16 (c3[b], w3, pair_at (xb, k + 3));
    }
  }
  for (; k < np; k++) {
    const __m512bh w0 = weights (panel + (size_t) k * step, m);
#pragma GCC unroll 6
    for (int b = 0; b < nb; b++)
      DPBF16 (c0[b], w0, pair_at (xh + (size_t) b * (size_t) ldx, k));
  }
  {
    const __mmask16 s = rnn_rows_mask (valid - h);
#pragma GCC unroll 6
    for (int b = 0; b < nb; b++) {
      __m512 t = _mm512_add_ps (_mm512_add_ps (c0[b], c1[b]),
          _mm512_add_ps (c2[b], c3[b]));
      if (add != NULL)
        t = _mm512_add_ps (_mm512_maskz_loadu_ps (s, add + (size_t) b
                * (size_t) ldadd + r0 + h), t);
      _mm512_mask_storeu_ps (y + (size_t) b * (size_t) ldy + r0 + h, s, t);
    }
  }
}

#define BF_CASE(NB) \
  case NB: \
    tile_bf16_512 (panel, np, w, h, r0, valid, NB, xg, kc, ag, ldadd, yg, \
        ldy); \
    break

/* rnn_kernels.gemv_batch_bf16: the inputs of a block of streams rounded
 * to bfloat16 once, then panel after panel, 16 rows at a time, register
 * tiles of 6 streams; every y row gets the bits of
 * rnn__gemv_bf16_avx512bf16 on its vector. */
void
rnn__gemv_batch_bf16_avx512bf16 (const rnn_packed *p, int nb,
    const float *x, int ldx, const float *add, int ldadd, float *y, int ldy)
{
  const int rows = p->rows, kc = p->kc, np = kc / 2;
  uint16_t xh[RNN_SCRATCH_STACK / sizeof (uint16_t)];
  const int blk = MIN (BF_BLOCK, (int) G_N_ELEMENTS (xh) / MAX (kc, 1));

  if (blk < 2) {         /* a huge matrix: vector by vector */
    rnn__gemv_each (rnn__gemv_bf16_avx512bf16, p, nb, x, ldx, add, ldadd, y,
        ldy);
    return;
  }
  for (int s0 = 0; s0 < nb; s0 += blk) {
    const int ns = MIN (blk, nb - s0);

    for (int b = 0; b < ns; b++)
      to_bf16 (x + (size_t) (s0 + b) * (size_t) ldx, p->cols, kc,
          xh + (size_t) b * (size_t) kc);
    for (int r0 = 0; r0 < rows; r0 += RNN_PANEL_ROWS) {
      const int w = MIN (RNN_PANEL_ROWS, ((rows - r0) + 7) & ~7);
      const int valid = MIN (w, rows - r0);
      const uint16_t *panel = p->bf16 + (size_t) r0 * (size_t) kc;

      for (int h = 0; h < w; h += 16)
        for (int g0 = 0; g0 < ns; g0 += BF_TILE) {
          const uint16_t *xg = xh + (size_t) g0 * (size_t) kc;
          const size_t sb = (size_t) (s0 + g0);
          const float *ag = add ? add + sb * (size_t) ldadd : NULL;
          float *yg = y + sb * (size_t) ldy;

          switch (MIN (BF_TILE, ns - g0)) {
            BF_CASE (6);
            BF_CASE (5);
            BF_CASE (4);
            BF_CASE (3);
            BF_CASE (2);
            BF_CASE (1);
            default: break;
          }
        }
    }
  }
}
