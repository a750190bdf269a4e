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

/* ------------------------------------------------ several input vectors */

/* Streams per register tile (two accumulators each for 32 rows) and per
 * block of quantised inputs kept in L1. */
#define I8_TILE 8
#define I8_BLOCK 32
/* Weights this many bytes ahead are prefetched into L1 (the first stream
 * group of a panel reads it from L2 or L3) */
#define I8_PF 2048

/* acc += the u8 x s8 quad products of @x and @w, in place. (gcc 12 wraps
 * _mm512_dpbusd_epi32 in two register copies per call inside a loop of
 * many accumulators, one instruction in three of the tile's loop.) */
#define DPBUSD(acc, x, w) \
  __asm__ ("vpdpbusd %2, %1, %0" : "+v" (acc) : "v" (x), "v" (w))

/* y rows [r, r + 16) (@m the valid ones) from the int32 sums, with the
 * rows' scales @sc and offsets @off, as rnn__gemv_int8_avx512vnni stores
 * them: add + (float) (acc - off128) * (s_r * sx) */
RNN_INLINE void
store_int8_16 (int r, __mmask16 m, __m512i acc, __m512 sc, __m512i off,
    float sx, const float *add, float *y)
{
  __m512 t = _mm512_mul_ps (_mm512_cvtepi32_ps (_mm512_sub_epi32 (acc, off)),
      _mm512_mul_ps (sc, _mm512_set1_ps (sx)));

  if (add != NULL)
    t = _mm512_add_ps (_mm512_maskz_loadu_ps (m, add + r), t);
  _mm512_mask_storeu_ps (y + r, m, t);
}

/* Rows [r0, r0 + 16 nv) of the panel @panel (width @w, @valid rows) for
 * @nb streams: their inputs quantised (unsigned form) @ldq bytes apart,
 * their scales @sx, add and y rows @ldadd and @ldy apart. Each weight
 * vector is loaded once for the @nb streams. @nv and @nb are constants at
 * every call site, so the accumulators stay in registers. */
RNN_INLINE void
tile_int8_512 (const rnn_packed *p, const int8_t *panel, int r0, int w,
    int valid, int nv, int nb, const int8_t *q, int ldq, const float *sx,
    const float *add, int ldadd, float *y, int ldy)
{
  const __mmask16 m0 = rnn_rows_mask (w), m1 = rnn_rows_mask (w - 16);
  const size_t step = (size_t) w * 4;
  const int nq = p->kc / 4;
  __m512i a0[I8_TILE], a1[I8_TILE];

#pragma GCC unroll 8
  for (int b = 0; b < nb; b++)
    a0[b] = a1[b] = _mm512_setzero_si512 ();
  for (int k = 0; k < nq; k++) {
    const int8_t *g = panel + (size_t) k * step;
    const __m512i w0 = _mm512_maskz_loadu_epi32 (m0, g);
    _mm_prefetch ((const char *) g + I8_PF, _MM_HINT_T0);
    _mm_prefetch ((const char *) g + I8_PF + 64, _MM_HINT_T0);
    const __m512i w1 = nv == 2 ? _mm512_maskz_loadu_epi32 (m1, g + 64)
        : _mm512_setzero_si512 ();

#pragma GCC unroll 8
    for (int b = 0; b < nb; b++) {
      const __m512i xq = quad_at (q + (size_t) b * (size_t) ldq, k);
      DPBUSD (a0[b], xq, w0);
      if (nv == 2)
        DPBUSD (a1[b], xq, w1);
    }
  }
  {
    const __mmask16 s0 = rnn_rows_mask (valid), s1 = rnn_rows_mask (valid
        - 16);
    const __m512 sc0 = _mm512_maskz_loadu_ps (s0, p->scale + r0);
    const __m512 sc1 = _mm512_maskz_loadu_ps (s1, p->scale + r0 + 16);
    const __m512i of0 = _mm512_maskz_loadu_epi32 (s0, p->off128 + r0);
    const __m512i of1 = _mm512_maskz_loadu_epi32 (s1, p->off128 + r0 + 16);

#pragma GCC unroll 8
    for (int b = 0; b < nb; b++) {
      const float *ab = add ? add + (size_t) b * (size_t) ldadd : NULL;
      float *yb = y + (size_t) b * (size_t) ldy;

      store_int8_16 (r0, s0, a0[b], sc0, of0, sx[b], ab, yb);
      if (nv == 2)
        store_int8_16 (r0 + 16, s1, a1[b], sc1, of1, sx[b], ab, yb);
    }
  }
}

#define I8_CASE(NB) \
  case NB: \
    if (nv == 2) \
      tile_int8_512 (p, panel, r0, w, valid, 2, NB, qg, kc, sx + g0, ag, \
          ldadd, yg, ldy); \
    else \
      tile_int8_512 (p, panel, r0, w, valid, 1, NB, qg, kc, sx + g0, ag, \
          ldadd, yg, ldy); \
    break

/* rnn_kernels.gemv_batch_int8: the inputs of a block of streams quantised
 * once (each exactly as the one-vector GEMV quantises it), then panel after
 * panel a register tile of 32 rows x 8 streams; the int32 sums are exact,
 * and each row is finished with the one-vector GEMV's operations, so every
 * y row has its bits. */
void
rnn__gemv_batch_int8_avx512vnni (const rnn_packed *p, int nb,
    const float *x, int ldx, const float *add, int ldadd, float *y, int ldy)
{
  const int rows = p->rows, kc = p->kc;
  int8_t q[RNN_SCRATCH_STACK];
  float sx[I8_BLOCK];
  const int blk = MIN (I8_BLOCK, (int) sizeof q / MAX (kc, 1));

  if (blk < 2) {         /* a huge matrix: vector by vector */
    rnn__gemv_each (rnn__gemv_int8_avx512vnni, p, nb, x, ldx, add, ldadd, y,
        ldy);
    return;
  }
  for (int s0 = 0; s0 < nb; s0 += blk) {
    const int ns = MIN (blk, nb - s0);

    for (int b = 0; b < ns; b++)
      sx[b] = rnn_quantise_x (x + (size_t) (s0 + b) * (size_t) ldx, p->cols,
          kc, q + (size_t) b * (size_t) kc, 0x80);
    for (int r0 = 0; r0 < rows; r0 += RNN_PANEL_ROWS) {
      const int w = MIN (RNN_PANEL_ROWS, ((rows - r0) + 7) & ~7);
      const int valid = MIN (w, rows - r0);
      const int nv = w > 16 ? 2 : 1;
      const int8_t *panel = p->i8 + (size_t) r0 * (size_t) kc;

      for (int g0 = 0; g0 < ns; g0 += I8_TILE) {
        const int8_t *qg = q + (size_t) g0 * (size_t) kc;
        const size_t sb = (size_t) (s0 + g0);
        const float *ag = add ? add + sb * (size_t) ldadd : NULL;
        float *yg = y + sb * (size_t) ldy;

        switch (MIN (I8_TILE, ns - g0)) {
          I8_CASE (8);
          I8_CASE (7);
          I8_CASE (6);
          I8_CASE (5);
          I8_CASE (4);
          I8_CASE (3);
          I8_CASE (2);
          I8_CASE (1);
          default: break;
        }
      }
    }
  }
}
