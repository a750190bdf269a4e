/* gst-rnn: AVX-512 kernels (F, BW, DQ, VL; compiled with those and FMA):
 * the fp32 GEMV and the gate nonlinearities, 16 lanes at a time.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "kernels-x86.h"

#include <string.h>

/* ------------------------------------------------------------ GEMV */

/* How far ahead of its loads the f32 GEMV asks for its weights
 * (prefetcht0), in floats (4 KB): one cache line in four, which is enough
 * to keep the hardware prefetchers streaming. Near the end of a panel the
 * prefetches go to the start of the panel that runs next (the following
 * one in memory, or the previous one in reverse order); past the end
 * of the weights they touch nothing (a prefetch never faults). Only for
 * weights that stream from L3 (RNN_GEMV_PREFETCH, or a matrix larger than
 * rnn__stream_bytes for gemv): measured
 * against no prefetch, interleaved runs, a 4 MB matrix ran 5-10 % faster
 * with it, a 0.75-1 MB one (L2) 5-10 % slower. Prefetching every line was
 * no better than one in four. */
#define PREFETCH_FLOATS 1024

/* A full 32-row panel (two zmm per column): four columns per iteration on
 * their own accumulators, eight independent FMA chains; with @pf (a
 * constant after inlining) two of the eight cache lines PREFETCH_FLOATS
 * ahead are prefetched, in the panel @next (the one that runs after this
 * one, NULL if none) once past this one. */
RNN_INLINE void
panel32_avx512 (const float *panel, const float *next, const float *x,
    int cols, int pf, __m512 *out)
{
  __m512 a0 = _mm512_setzero_ps (), b0 = a0, a1 = a0, b1 = a0;
  __m512 a2 = a0, b2 = a0, a3 = a0, b3 = a0;
  const size_t size = (size_t) cols * 32;
  /* what to add to a prefetch address past this panel's end */
  const ptrdiff_t jump = next != NULL ? next - (panel + size) : 0;
  int j = 0;

  for (; j + 3 < cols; j += 4) {
    const float *c = panel + (size_t) j * 32;
    const __m512 x0 = _mm512_set1_ps (x[j]), x1 = _mm512_set1_ps (x[j + 1]);
    const __m512 x2 = _mm512_set1_ps (x[j + 2]);
    if (pf) {
      const float *a = c + PREFETCH_FLOATS
          + ((size_t) j * 32 + PREFETCH_FLOATS >= size ? jump : 0);
      _mm_prefetch ((const char *) a, _MM_HINT_T0);
      _mm_prefetch ((const char *) (a + 64), _MM_HINT_T0);
    }
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

/* A single column (the input projection of a univariate signal): the
 * arithmetic of panel32_avx512's one-column loop and its final sums
 * ((a0 + a1) + (a2 + a3) with a1 = a2 = a3 = 0), 16 rows at a time
 * without the per-panel loops, which cost more than the product here. The
 * packed column is the rows in order, zero-padded to a multiple of 8. */
RNN_INLINE void
gemv_col1_avx512 (const rnn_packed *p, const float *x, const float *add,
    float *y)
{
  const int rows = p->rows;
  const __m512 x0 = _mm512_set1_ps (x[0]), zero = _mm512_setzero_ps ();
  int r = 0;

  for (; r + 16 <= rows; r += 16) {
    __m512 s = _mm512_fmadd_ps (_mm512_loadu_ps (p->data + r), x0, zero);
    s = _mm512_add_ps (_mm512_add_ps (s, zero), _mm512_add_ps (zero, zero));
    if (add != NULL)
      s = _mm512_add_ps (_mm512_loadu_ps (add + r), s);
    _mm512_storeu_ps (y + r, s);
  }
  if (r < rows) {
    const __mmask16 m = rnn_rows_mask (rows - r);
    __m512 s = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (m, p->data + r), x0,
        zero);
    s = _mm512_add_ps (_mm512_add_ps (s, zero), _mm512_add_ps (zero, zero));
    if (add != NULL)
      s = _mm512_add_ps (_mm512_maskz_loadu_ps (m, add + r), s);
    _mm512_mask_storeu_ps (y + r, m, s);
  }
}

/* The panels in storage order, or last to first with @rev (kernels.h,
 * RNN_GEMV_REVERSE), prefetched with @pf: each panel's rows are computed
 * on their own, the same way in both orders. */
RNN_INLINE void
gemv_avx512 (const rnn_packed *p, const float *x, const float *add,
    float *y, int rev, int pf)
{
  const int rows = p->rows, cols = p->cols;
  const int np = (rows + RNN_PANEL_ROWS - 1) / RNN_PANEL_ROWS;

  if (cols == 1) {
    gemv_col1_avx512 (p, x, add, y);
    return;
  }
  for (int q = 0; q < np; q++) {
    const int r0 = (rev ? np - 1 - q : q) * RNN_PANEL_ROWS;
    const int width = MIN (RNN_PANEL_ROWS, ((rows - r0) + 7) & ~7);
    const float *panel = p->data + (size_t) r0 * (size_t) cols;
    const int rn = r0 + (rev ? -RNN_PANEL_ROWS : RNN_PANEL_ROWS);
    const float *next = rn >= 0 && rn < rows ? p->data + (size_t) rn
        * (size_t) cols : NULL;
    __m512 acc[2];

    if (width == 32 && pf)
      panel32_avx512 (panel, next, x, cols, 1, acc);
    else if (width == 32)
      panel32_avx512 (panel, next, x, cols, 0, acc);
    else
      panel_tail_avx512 (panel, x, cols, width, acc);
    rnn_store_rows16 (y, add, r0, MIN (width, rows - r0), acc);
  }
}

void
rnn__gemv_avx512 (const rnn_packed *p, const float *x, const float *add,
    float *y)
{
  gemv_avx512 (p, x, add, y, 0, (size_t) p->rows * (size_t) p->cols
      * sizeof (float) > rnn__stream_bytes ());
}

void
rnn__gemv_ex_avx512 (const rnn_packed *p, const float *x,
    const float *add, float *y, unsigned flags)
{
  gemv_avx512 (p, x, add, y, (flags & RNN_GEMV_REVERSE) != 0,
      (flags & RNN_GEMV_PREFETCH) != 0);
}

/* ---------------------------------------------------- activations */

/* y = f(x) elementwise for one of the n-vector nonlinearities of
 * kernels-x86.h (@f a constant after inlining): 4 vectors at a time, their
 * exp chains interleaved, then masked single vectors. */
RNN_INLINE void
map16 (const float *x, float *y, size_t n, void (*f) (__m512 *, int))
{
  size_t i = 0;

  for (; i + 64 <= n; i += 64) {
    __m512 v[4];
    for (int u = 0; u < 4; u++)
      v[u] = _mm512_loadu_ps (x + i + 16 * u);
    f (v, 4);
    for (int u = 0; u < 4; u++)
      _mm512_storeu_ps (y + i + 16 * u, v[u]);
  }
  for (; i < n; i += 16) {
    const __mmask16 m = rnn_rows_mask ((int) MIN (n - i, 16));
    __m512 v = _mm512_maskz_loadu_ps (m, x + i);
    f (&v, 1);
    _mm512_mask_storeu_ps (y + i, m, v);
  }
}

void
rnn__sigmoid_avx512 (const float *x, float *y, size_t n)
{
  map16 (x, y, n, rnn_sigmoid16_n);
}

void
rnn__tanh_avx512 (const float *x, float *y, size_t n)
{
  map16 (x, y, n, rnn_tanh16_n);
}

/* ---------------------------------------------------- fused cells */

/* The LSTM cell of @n (1 or 2, a constant after inlining) vectors of 16
 * units, their exp chains interleaved: @s holds the pre-activations i
 * [0, n), f [n, 2n) and o [2n, 3n), @gg those of g, @c the cell state
 * (updated); @h receives the output. The same operations on each lane as
 * one vector at a time:
 *   c' = sigmoid(f) c + sigmoid(i) tanh(g),  h = sigmoid(o) tanh(c'). */
RNN_INLINE void
lstm16_n (__m512 *s, __m512 *gg, __m512 *c, __m512 *h, int n)
{
  rnn_sigmoid16_n (s, 3 * n);
  rnn_tanh16_n (gg, n);
  RNN_EACH (n) {
    c[u] = _mm512_add_ps (_mm512_mul_ps (s[n + u], c[u]),
        _mm512_mul_ps (s[u], gg[u]));
    h[u] = c[u];
  }
  rnn_tanh16_n (h, n);
  RNN_EACH (n) h[u] = _mm512_mul_ps (s[2 * n + u], h[u]);
}

/* The GRU cell of @n (1 or 2) vectors of 16 units: @rz holds the summed
 * pre-activations of r [0, n) and z [n, 2n), @xn the input part of n,
 * @hn the product W_hn h (without bias), @bn b_hn, @h the state (updated):
 *   n = tanh(xn + sigmoid(r) (hn + b_hn)),  h' = n + sigmoid(z) (h - n). */
RNN_INLINE void
gru16_n (__m512 *rz, __m512 *xn, const __m512 *hn, const __m512 *bn,
    __m512 *h, int n)
{
  rnn_sigmoid16_n (rz, 2 * n);
  RNN_EACH (n) xn[u] = _mm512_add_ps (xn[u], _mm512_mul_ps (rz[u],
          _mm512_add_ps (hn[u], bn[u])));
  rnn_tanh16_n (xn, n);
  RNN_EACH (n) h[u] = _mm512_add_ps (xn[u], _mm512_mul_ps (rz[n + u],
          _mm512_sub_ps (h[u], xn[u])));
}

void
rnn__lstm_cell_avx512 (const float *g, float *c, float *h, int H)
{
  int k = 0;

  for (; k + 32 <= H; k += 32) {
    __m512 s[6], gg[2], cv[2], hv[2];
    for (int v = 0; v < 2; v++) {
      s[v] = _mm512_loadu_ps (g + k + 16 * v);
      s[2 + v] = _mm512_loadu_ps (g + H + k + 16 * v);
      gg[v] = _mm512_loadu_ps (g + 2 * H + k + 16 * v);
      s[4 + v] = _mm512_loadu_ps (g + 3 * H + k + 16 * v);
      cv[v] = _mm512_loadu_ps (c + k + 16 * v);
    }
    lstm16_n (s, gg, cv, hv, 2);
    for (int v = 0; v < 2; v++) {
      _mm512_storeu_ps (c + k + 16 * v, cv[v]);
      _mm512_storeu_ps (h + k + 16 * v, hv[v]);
    }
  }
  for (; k < H; k += 16) {
    const __mmask16 m = rnn_rows_mask (H - k);
    __m512 s[3], gg, cv, hv;
    s[0] = _mm512_maskz_loadu_ps (m, g + k);
    s[1] = _mm512_maskz_loadu_ps (m, g + H + k);
    gg = _mm512_maskz_loadu_ps (m, g + 2 * H + k);
    s[2] = _mm512_maskz_loadu_ps (m, g + 3 * H + k);
    cv = _mm512_maskz_loadu_ps (m, c + k);
    lstm16_n (s, &gg, &cv, &hv, 1);
    _mm512_mask_storeu_ps (c + k, m, cv);
    _mm512_mask_storeu_ps (h + k, m, hv);
  }
}

void
rnn__gru_cell_avx512 (const float *gx, const float *gh, const float *b_hn,
    float *h, int H)
{
  int k = 0;

  for (; k + 32 <= H; k += 32) {
    __m512 rz[4], xn[2], hn[2], bn[2], hv[2];
    for (int v = 0; v < 2; v++) {
      const int o = k + 16 * v;
      rz[v] = _mm512_add_ps (_mm512_loadu_ps (gx + o),
          _mm512_loadu_ps (gh + o));
      rz[2 + v] = _mm512_add_ps (_mm512_loadu_ps (gx + H + o),
          _mm512_loadu_ps (gh + H + o));
      xn[v] = _mm512_loadu_ps (gx + 2 * H + o);
      hn[v] = _mm512_loadu_ps (gh + 2 * H + o);
      bn[v] = _mm512_loadu_ps (b_hn + o);
      hv[v] = _mm512_loadu_ps (h + o);
    }
    gru16_n (rz, xn, hn, bn, hv, 2);
    for (int v = 0; v < 2; v++)
      _mm512_storeu_ps (h + k + 16 * v, hv[v]);
  }
  for (; k < H; k += 16) {
    const __mmask16 m = rnn_rows_mask (H - k);
    __m512 rz[2], xn, hn, bn, hv;
    rz[0] = _mm512_add_ps (_mm512_maskz_loadu_ps (m, gx + k),
        _mm512_maskz_loadu_ps (m, gh + k));
    rz[1] = _mm512_add_ps (_mm512_maskz_loadu_ps (m, gx + H + k),
        _mm512_maskz_loadu_ps (m, gh + H + k));
    xn = _mm512_maskz_loadu_ps (m, gx + 2 * H + k);
    hn = _mm512_maskz_loadu_ps (m, gh + 2 * H + k);
    bn = _mm512_maskz_loadu_ps (m, b_hn + k);
    hv = _mm512_maskz_loadu_ps (m, h + k);
    gru16_n (rz, &xn, &hn, &bn, &hv, 1);
    _mm512_mask_storeu_ps (h + k, m, hv);
  }
}

/* ---------------------------------- bf16 weights, several input vectors */

/* The multi-stream form of rnn__gemv_bf16_avx2 (the bf16 GEMV of the sets
 * without AVX512-BF16) on 16-row vectors: the same arithmetic per row, so
 * the same bits. Per pair of columns k the weights are widened to float
 * once (the odd column by a mask, the even one by a shift) for all the
 * streams; each stream adds odd then even product by FMA on chain k mod 2
 * (the last pair of an odd count on chain 0), and the row is chain 0 +
 * chain 1, then add + that. 8 streams per tile: 16 accumulators. */
#define BFW_TILE 8
#define BFW_BLOCK 16
#define BFW_PF 2048

RNN_INLINE void
tile_bf16w_512 (const uint16_t *panel, int np, int w, int h, int r0,
    int valid, int nb, const float *xb, int ldx, const float *add,
    int ldadd, float *y, int ldy)
{
  const __mmask16 m = rnn_rows_mask (w - h);
  const __m512i hi = _mm512_set1_epi32 ((int) 0xffff0000u);
  const size_t step = (size_t) w * 2;
  __m512 a[BFW_TILE], b[BFW_TILE];
  int k = 0;

  panel += h * 2;
#pragma GCC unroll 8
  for (int s = 0; s < nb; s++)
    a[s] = b[s] = _mm512_setzero_ps ();
  for (; k + 1 < np; k += 2) {
    const uint16_t *g = panel + (size_t) k * step;
    const __m512i u0 = _mm512_maskz_loadu_epi32 (m, g);
    const __m512i u1 = _mm512_maskz_loadu_epi32 (m, g + step);
    const __m512 o0 = _mm512_castsi512_ps (_mm512_and_si512 (u0, hi));
    const __m512 e0 = _mm512_castsi512_ps (_mm512_slli_epi32 (u0, 16));
    const __m512 o1 = _mm512_castsi512_ps (_mm512_and_si512 (u1, hi));
    const __m512 e1 = _mm512_castsi512_ps (_mm512_slli_epi32 (u1, 16));

    _mm_prefetch ((const char *) g + BFW_PF, _MM_HINT_T0);
    _mm_prefetch ((const char *) g + BFW_PF + 64, _MM_HINT_T0);
#pragma GCC unroll 8
    for (int s = 0; s < nb; s++) {
      const float *x = xb + (size_t) s * (size_t) ldx + 2 * k;
      a[s] = _mm512_fmadd_ps (o0, _mm512_set1_ps (x[1]), a[s]);
      a[s] = _mm512_fmadd_ps (e0, _mm512_set1_ps (x[0]), a[s]);
      b[s] = _mm512_fmadd_ps (o1, _mm512_set1_ps (x[3]), b[s]);
      b[s] = _mm512_fmadd_ps (e1, _mm512_set1_ps (x[2]), b[s]);
    }
  }
  if (k < np) {
    const __m512i u0 = _mm512_maskz_loadu_epi32 (m, panel + (size_t) k
        * step);
    const __m512 o0 = _mm512_castsi512_ps (_mm512_and_si512 (u0, hi));
    const __m512 e0 = _mm512_castsi512_ps (_mm512_slli_epi32 (u0, 16));
#pragma GCC unroll 8
    for (int s = 0; s < nb; s++) {
      const float *x = xb + (size_t) s * (size_t) ldx + 2 * k;
      a[s] = _mm512_fmadd_ps (o0, _mm512_set1_ps (x[1]), a[s]);
      a[s] = _mm512_fmadd_ps (e0, _mm512_set1_ps (x[0]), a[s]);
    }
  }
  {
    const __mmask16 sm = rnn_rows_mask (valid - h);
#pragma GCC unroll 8
    for (int s = 0; s < nb; s++) {
      __m512 t = _mm512_add_ps (a[s], b[s]);
      if (add != NULL)
        t = _mm512_add_ps (_mm512_maskz_loadu_ps (sm, add + (size_t) s
                * (size_t) ldadd + r0 + h), t);
      _mm512_mask_storeu_ps (y + (size_t) s * (size_t) ldy + r0 + h, sm, t);
    }
  }
}

#define BFW_CASE(NB) \
  case NB: \
    tile_bf16w_512 (panel, np, w, h, r0, valid, NB, xg, kc, ag, ldadd, yg, \
        ldy); \
    break

void
rnn__gemv_batch_bf16_avx512 (const rnn_packed *p, int nb, const float *x,
    int ldx, const float *add, int ldadd, float *y, int ldy)
{
  const int rows = p->rows, kc = p->kc, np = kc / 2;
  float xb[RNN_SCRATCH_STACK / sizeof (float)];
  const int blk = MIN (BFW_BLOCK, (int) G_N_ELEMENTS (xb) / MAX (kc, 1));

  if (blk < 2) {         /* a huge matrix: vector by vector */
    rnn__gemv_each (rnn__gemv_bf16_avx2, p, nb, x, ldx, add, ldadd, y, ldy);
    return;
  }
  for (int s0 = 0; s0 < nb; s0 += blk) {
    const int ns = MIN (blk, nb - s0);

    for (int s = 0; s < ns; s++)
      rnn_round_bf16 (x + (size_t) (s0 + s) * (size_t) ldx, p->cols, kc,
          xb + (size_t) s * (size_t) kc);
    for (int r0 = 0; r0 < rows; r0 += RNN_PANEL_ROWS) {
      const int w = MIN (RNN_PANEL_ROWS, ((rows - r0) + 7) & ~7);
      const int valid = MIN (w, rows - r0);
      const uint16_t *panel = p->bf16 + (size_t) r0 * (size_t) kc;

      for (int h = 0; h < w; h += 16)
        for (int g0 = 0; g0 < ns; g0 += BFW_TILE) {
          const float *xg = xb + (size_t) g0 * (size_t) kc;
          const size_t sb = (size_t) (s0 + g0);
          const float *ag = add ? add + sb * (size_t) ldadd : NULL;
          float *yg = y + sb * (size_t) ldy;

          switch (MIN (BFW_TILE, ns - g0)) {
            BFW_CASE (8);
            BFW_CASE (7);
            BFW_CASE (6);
            BFW_CASE (5);
            BFW_CASE (4);
            BFW_CASE (3);
            BFW_CASE (2);
            BFW_CASE (1);
            default: break;
          }
        }
    }
  }
}
