/* gst-rnn: AVX2 + FMA kernels (this file alone is compiled with -mavx2
 * -mfma; the table in kernels.c only hands them out when the CPU has both).
 * Also the bf16 and int8 fallbacks of CPUs without AVX512-BF16 or VNNI.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Accumulators are named variables or arrays indexed in loops that
 * `#pragma GCC unroll` fully unrolls, so that they live in registers at
 * any optimisation level (gcc 12 at -O2 kept such arrays on the stack, a
 * load and a store per multiply-add); the build also compiles this file
 * with -O3.
 */
#include "kernels-x86.h"

#include <string.h>

/* ------------------------------------------------------------ GEMV */

/* One panel of @nv blocks of 8 rows (nv = 4 for a full 32-row panel, 1-3
 * for the last one; a constant after inlining, the loops over it fully
 * unrolled): two sets of accumulators, even columns into a, odd ones into
 * b, each summed in column order; with nv = 4 that is eight independent
 * FMA chains to hide the FMA latency.
 *
 * The main loop takes 8 columns at a time and gets x[j..j+3] from one
 * 16-byte broadcast load, spread to the four column values by in-lane
 * permutes (vpermilps), instead of one vbroadcastss load per column: every
 * multiply-add already loads a weight vector, and a core that loads two
 * vectors a cycle (Intel Haswell to Skylake; the AMD EPYC this was
 * measured on behaves so) otherwise spends 5 loads per 4 multiply-adds of
 * a full panel, capping the FMAs at 80 % of their peak. The permutes run
 * beside the FMAs. 768 x 256 from L2: 71-75 -> 80-84 GF/s, against 82-89
 * GF/s for a loop of the weight loads and FMAs alone. Same values, same
 * order per accumulator as the column pair loop after it, so the result is
 * the same bits. (A
 * software prefetch of the weights ahead, as in the AVX-512 GEMV, measured
 * neutral to 20 % slower here, from L2 and from L3.) */
RNN_INLINE void
panel_avx2 (const float *panel, const float *x, int cols, int nv,
    __m256 *out)
{
  const size_t w = (size_t) nv * 8;
  __m256 a[4], b[4];
  int j = 0;

#pragma GCC unroll 4
  for (int v = 0; v < nv; v++)
    a[v] = b[v] = _mm256_setzero_ps ();
  for (; j + 7 < cols; j += 8) {
    const float *c = panel + (size_t) j * w;
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++, c += 4 * w) {
      const __m256 xq = _mm256_broadcast_ps ((const __m128 *) (x + j + 4 * h));
      const __m256 x0 = _mm256_permute_ps (xq, 0x00);
      const __m256 x1 = _mm256_permute_ps (xq, 0x55);
      const __m256 x2 = _mm256_permute_ps (xq, 0xaa);
      const __m256 x3 = _mm256_permute_ps (xq, 0xff);
      /* column after column in the source: interleaving a and b here
       * made gcc schedule the permutes later, 5-10 % slower */
#pragma GCC unroll 4
      for (int v = 0; v < nv; v++)
        a[v] = _mm256_fmadd_ps (_mm256_loadu_ps (c + 8 * v), x0, a[v]);
#pragma GCC unroll 4
      for (int v = 0; v < nv; v++)
        b[v] = _mm256_fmadd_ps (_mm256_loadu_ps (c + w + 8 * v), x1, b[v]);
#pragma GCC unroll 4
      for (int v = 0; v < nv; v++)
        a[v] = _mm256_fmadd_ps (_mm256_loadu_ps (c + 2 * w + 8 * v), x2,
            a[v]);
#pragma GCC unroll 4
      for (int v = 0; v < nv; v++)
        b[v] = _mm256_fmadd_ps (_mm256_loadu_ps (c + 3 * w + 8 * v), x3,
            b[v]);
    }
  }
  for (; j + 1 < cols; j += 2) {
    const float *c = panel + (size_t) j * w;
    const __m256 x0 = _mm256_broadcast_ss (x + j);
    const __m256 x1 = _mm256_broadcast_ss (x + j + 1);
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) {
      a[v] = _mm256_fmadd_ps (_mm256_loadu_ps (c + 8 * v), x0, a[v]);
      b[v] = _mm256_fmadd_ps (_mm256_loadu_ps (c + w + 8 * v), x1, b[v]);
    }
  }
  if (j < cols) {
    const float *c = panel + (size_t) j * w;
    const __m256 x0 = _mm256_broadcast_ss (x + j);
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++)
      a[v] = _mm256_fmadd_ps (_mm256_loadu_ps (c + 8 * v), x0, a[v]);
  }
#pragma GCC unroll 4
  for (int v = 0; v < nv; v++)
    out[v] = _mm256_add_ps (a[v], b[v]);
}

/* y rows [r0, r0 + valid) from the @nv accumulators of a panel
 * (valid <= 8 nv). */
RNN_INLINE void
store_panel (float *y, const float *add, int r0, int nv, int valid,
    const __m256 *acc)
{
  if (valid == nv * 8) {
    for (int v = 0; v < nv; v++) {
      __m256 s = acc[v];
      if (add)
        s = _mm256_add_ps (_mm256_loadu_ps (add + r0 + 8 * v), s);
      _mm256_storeu_ps (y + r0 + 8 * v, s);
    }
  } else {
    float tmp[RNN_PANEL_ROWS];
    for (int v = 0; v < nv; v++)
      _mm256_storeu_ps (tmp + 8 * v, acc[v]);
    for (int r = 0; r < MIN (valid, nv * 8); r++)
      y[r0 + r] = add ? add[r0 + r] + tmp[r] : tmp[r];
  }
}

/* y rows [r0, r0 + valid) from the panel at row r0 (@nv a constant after
 * inlining, so that the accumulators stay in registers up to the store). */
RNN_INLINE void
panel_rows_avx2 (const rnn_packed *p, const float *x, const float *add,
    float *y, int r0, int nv, int valid)
{
  __m256 acc[4];

  panel_avx2 (p->data + (size_t) r0 * (size_t) p->cols, x, p->cols, nv, acc);
  store_panel (y, add, r0, nv, valid, acc);
}

/* A single column (the input projection of a univariate signal): the
 * panels' arithmetic (a = w x + 0, then a + b with b = 0, then add + that)
 * 8 rows at a time without their per-panel loops, which cost more than the
 * product here. The packed column is the rows in order, zero-padded to a
 * multiple of 8. */
RNN_INLINE void
gemv_col1_avx2 (const rnn_packed *p, const float *x, const float *add,
    float *y)
{
  const int rows = p->rows;
  const __m256 x0 = _mm256_broadcast_ss (x), zero = _mm256_setzero_ps ();
  int r = 0;

  if (add != NULL) {
    for (; r + 8 <= rows; r += 8) {
      __m256 acc = _mm256_add_ps (_mm256_fmadd_ps (_mm256_loadu_ps (p->data
                  + r), x0, zero), zero);
      _mm256_storeu_ps (y + r, _mm256_add_ps (_mm256_loadu_ps (add + r),
              acc));
    }
  } else {
    for (; r + 8 <= rows; r += 8)
      _mm256_storeu_ps (y + r, _mm256_add_ps (_mm256_fmadd_ps
              (_mm256_loadu_ps (p->data + r), x0, zero), zero));
  }
  if (r < rows) {
    __m256 acc = _mm256_add_ps (_mm256_fmadd_ps (_mm256_loadu_ps (p->data
                + r), x0, zero), zero);
    store_panel (y, add, r, 1, rows - r, &acc);
  }
}

/* The panels in storage order, or last to first with @rev (kernels.h,
 * gemv_ex). Full 32-row panels take one path; only the last panel of a
 * matrix whose rows are not a multiple of 32 picks its width. */
RNN_INLINE void
gemv_avx2 (const rnn_packed *p, const float *x, const float *add, float *y,
    int rev)
{
  const int rows = p->rows;
  const int full = rows / RNN_PANEL_ROWS;
  const int np = (rows + RNN_PANEL_ROWS - 1) / RNN_PANEL_ROWS;

  if (p->cols == 1) {
    gemv_col1_avx2 (p, x, add, y);
    return;
  }
  for (int q = 0; q < np; q++) {
    const int i = rev ? np - 1 - q : q;
    const int r0 = i * RNN_PANEL_ROWS, valid = rows - r0;

    if (i < full) {
      panel_rows_avx2 (p, x, add, y, r0, 4, RNN_PANEL_ROWS);
      continue;
    }
    switch ((valid + 7) / 8) {
      case 4: panel_rows_avx2 (p, x, add, y, r0, 4, valid); break;
      case 3: panel_rows_avx2 (p, x, add, y, r0, 3, valid); break;
      case 2: panel_rows_avx2 (p, x, add, y, r0, 2, valid); break;
      default: panel_rows_avx2 (p, x, add, y, r0, 1, valid); break;
    }
  }
}

void
rnn__gemv_avx2 (const rnn_packed *p, const float *x, const float *add,
    float *y)
{
  gemv_avx2 (p, x, add, y, 0);
}

void
rnn__gemv_ex_avx2 (const rnn_packed *p, const float *x, const float *add,
    float *y, unsigned flags)
{
  gemv_avx2 (p, x, add, y, (flags & RNN_GEMV_REVERSE) != 0);
}

/* ------------------------------------------------------- bf16 GEMV */

/* bf16 weights widened to float by a shift (the even column of a pair)
 * or a mask (the odd one); products of bf16 values are exact in float.
 * Two accumulator sets (even and odd pairs) for @nv blocks of 8 rows. */
RNN_INLINE void
panel_bf16_avx2 (const uint16_t *panel, const float *xb, int np, int nv,
    __m256 *out)
{
  const __m256i hi = _mm256_set1_epi32 ((int) 0xffff0000u);
  __m256 a[4], b[4];
  int k = 0;

#pragma GCC unroll 4
  for (int v = 0; v < nv; v++)
    a[v] = b[v] = _mm256_setzero_ps ();
  for (; k + 1 < np; k += 2) {
    const uint16_t *g0 = panel + (size_t) k * (size_t) nv * 16;
    const uint16_t *g1 = g0 + nv * 16;
    const __m256 x0 = _mm256_broadcast_ss (xb + 2 * k);
    const __m256 x1 = _mm256_broadcast_ss (xb + 2 * k + 1);
    const __m256 x2 = _mm256_broadcast_ss (xb + 2 * k + 2);
    const __m256 x3 = _mm256_broadcast_ss (xb + 2 * k + 3);
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) {
      __m256i w0 = _mm256_loadu_si256 ((const __m256i *) (g0 + 16 * v));
      __m256i w1 = _mm256_loadu_si256 ((const __m256i *) (g1 + 16 * v));
      a[v] = _mm256_fmadd_ps (_mm256_castsi256_ps (_mm256_and_si256 (w0,
                  hi)), x1, a[v]);
      a[v] = _mm256_fmadd_ps (_mm256_castsi256_ps (_mm256_slli_epi32 (w0,
                  16)), x0, a[v]);
      b[v] = _mm256_fmadd_ps (_mm256_castsi256_ps (_mm256_and_si256 (w1,
                  hi)), x3, b[v]);
      b[v] = _mm256_fmadd_ps (_mm256_castsi256_ps (_mm256_slli_epi32 (w1,
                  16)), x2, b[v]);
    }
  }
  if (k < np) {
    const uint16_t *g0 = panel + (size_t) k * (size_t) nv * 16;
    const __m256 x0 = _mm256_broadcast_ss (xb + 2 * k);
    const __m256 x1 = _mm256_broadcast_ss (xb + 2 * k + 1);
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) {
      __m256i w0 = _mm256_loadu_si256 ((const __m256i *) (g0 + 16 * v));
      a[v] = _mm256_fmadd_ps (_mm256_castsi256_ps (_mm256_and_si256 (w0,
                  hi)), x1, a[v]);
      a[v] = _mm256_fmadd_ps (_mm256_castsi256_ps (_mm256_slli_epi32 (w0,
                  16)), x0, a[v]);
    }
  }
#pragma GCC unroll 4
  for (int v = 0; v < nv; v++)
    out[v] = _mm256_add_ps (a[v], b[v]);
}

void
rnn__gemv_bf16_avx2 (const rnn_packed *p, const float *x, const float *add,
    float *y)
{
  const int rows = p->rows, kc = p->kc, np = kc / 2;
  float stack[RNN_SCRATCH_STACK / sizeof (float)], *xb = stack;

  if ((size_t) kc > G_N_ELEMENTS (stack))
    xb = g_malloc ((size_t) kc * sizeof (float));
  rnn_round_bf16 (x, p->cols, kc, xb);
  for (int r0 = 0; r0 < rows; r0 += RNN_PANEL_ROWS) {
    const int width = MIN (RNN_PANEL_ROWS, ((rows - r0) + 7) & ~7);
    const int valid = MIN (width, rows - r0);
    const int nv = width / 8;
    const uint16_t *panel = p->bf16 + (size_t) r0 * (size_t) kc;
    __m256 acc[4];

    switch (nv) {
      case 4: panel_bf16_avx2 (panel, xb, np, 4, acc); break;
      case 3: panel_bf16_avx2 (panel, xb, np, 3, acc); break;
      case 2: panel_bf16_avx2 (panel, xb, np, 2, acc); break;
      default: panel_bf16_avx2 (panel, xb, np, 1, acc); break;
    }
    store_panel (y, add, r0, nv, valid, acc);
  }
  if (xb != stack)
    g_free (xb);
}

/* ------------------------------------------------------- int8 GEMV */

/* Without VNNI: per quad of columns, |q| (unsigned) times the weights with
 * q's sign applied (vpsignb), summed in pairs to 16 bits by vpmaddubsw
 * (at most 2 * 127 * 127 = 32258: no saturation) and to 32 bits by
 * vpmaddwd. The int32 sums are exact, so the result is bit for bit the
 * portable kernel's. */
RNN_INLINE void
panel_int8_avx2 (const int8_t *panel, const int8_t *q, int nq, int nv,
    __m256i *out)
{
  const __m256i ones = _mm256_set1_epi16 (1);
  __m256i a[4];

#pragma GCC unroll 4
  for (int v = 0; v < nv; v++)
    a[v] = _mm256_setzero_si256 ();
  for (int k = 0; k < nq; k++) {
    const int8_t *g = panel + (size_t) k * (size_t) nv * 32;
    int32_t quad;
    memcpy (&quad, q + 4 * k, sizeof quad);
    const __m256i xs = _mm256_set1_epi32 (quad);
    const __m256i xa = _mm256_abs_epi8 (xs);
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) {
      __m256i w = _mm256_loadu_si256 ((const __m256i *) (g + 32 * v));
      __m256i p16 = _mm256_maddubs_epi16 (xa, _mm256_sign_epi8 (w, xs));
      a[v] = _mm256_add_epi32 (a[v], _mm256_madd_epi16 (p16, ones));
    }
  }
#pragma GCC unroll 4
  for (int v = 0; v < nv; v++)
    out[v] = a[v];
}

void
rnn__gemv_int8_avx2 (const rnn_packed *p, const float *x, const float *add,
    float *y)
{
  /* the signed form needs no offset correction */
  rnn_int8_gemv8 (p, x, add, y, 0, panel_int8_avx2);
}

/* The int8 multi-stream form: per stream the operations of
 * panel_int8_avx2 (the sign of the stream's quad applied to the weights,
 * so nothing but the weight loads is shared between streams); tiles of 4
 * streams x 16 rows, which leave registers for the temporaries. */
RNN_INLINE __m256i
dot_int8_avx2 (__m256i acc, __m256i xs, __m256i w)
{
  return _mm256_add_epi32 (acc, _mm256_madd_epi16 (_mm256_maddubs_epi16
          (_mm256_abs_epi8 (xs), _mm256_sign_epi8 (w, xs)),
          _mm256_set1_epi16 (1)));
}

void
rnn__gemv_batch_int8_avx2 (const rnn_packed *p, int nb, const float *x,
    int ldx, const float *add, int ldadd, float *y, int ldy)
{
  rnn_int8_gemv8_batch (p, nb, x, ldx, add, ldadd, y, ldy, 0, 4,
      dot_int8_avx2);
}

/* The batched GEMV: vectors two at a time, each half panel (up to 16 rows)
 * loaded once per column for both. Per vector the arithmetic is exactly
 * panel_avx2's (the same even/odd accumulator split, the same order), so a
 * batched row equals the single GEMV bit for bit. */
static inline __attribute__ ((always_inline)) void
panel_pair_avx2 (const float *panel, int width, const float *xa,
    const float *xb, int cols, int nv, __m256 *outa, __m256 *outb)
{
  __m256 a0[2], a1[2], b0[2], b1[2];
  int j = 0;

#pragma GCC unroll 2
  for (int v = 0; v < nv; v++) {
    a0[v] = a1[v] = b0[v] = b1[v] = _mm256_setzero_ps ();
  }
  for (; j + 1 < cols; j += 2) {
    const float *c0 = panel + (size_t) j * (size_t) width;
    const float *c1 = c0 + width;
    __m256 xa0 = _mm256_broadcast_ss (xa + j);
    __m256 xa1 = _mm256_broadcast_ss (xa + j + 1);
    __m256 xb0 = _mm256_broadcast_ss (xb + j);
    __m256 xb1 = _mm256_broadcast_ss (xb + j + 1);
#pragma GCC unroll 2
    for (int v = 0; v < nv; v++) {
      __m256 w0 = _mm256_loadu_ps (c0 + 8 * v);
      __m256 w1 = _mm256_loadu_ps (c1 + 8 * v);
      a0[v] = _mm256_fmadd_ps (w0, xa0, a0[v]);
      a1[v] = _mm256_fmadd_ps (w1, xa1, a1[v]);
      b0[v] = _mm256_fmadd_ps (w0, xb0, b0[v]);
      b1[v] = _mm256_fmadd_ps (w1, xb1, b1[v]);
    }
  }
  if (j < cols) {
    const float *c0 = panel + (size_t) j * (size_t) width;
    __m256 xa0 = _mm256_broadcast_ss (xa + j);
    __m256 xb0 = _mm256_broadcast_ss (xb + j);
#pragma GCC unroll 2
    for (int v = 0; v < nv; v++) {
      __m256 w0 = _mm256_loadu_ps (c0 + 8 * v);
      a0[v] = _mm256_fmadd_ps (w0, xa0, a0[v]);
      b0[v] = _mm256_fmadd_ps (w0, xb0, b0[v]);
    }
  }
#pragma GCC unroll 2
  for (int v = 0; v < nv; v++) {
    outa[v] = _mm256_add_ps (a0[v], a1[v]);
    outb[v] = _mm256_add_ps (b0[v], b1[v]);
  }
}

/* Stores the 8 rows from @r (of which @n < 8 may be valid) as gemv_avx2
 * does: y = add + acc. */
static inline void
store8 (float *y, const float *add, int r, int n, __m256 acc)
{
  if (n >= 8) {
    if (add)
      acc = _mm256_add_ps (_mm256_loadu_ps (add + r), acc);
    _mm256_storeu_ps (y + r, acc);
  } else if (n > 0) {
    float tmp[8];
    _mm256_storeu_ps (tmp, acc);
    for (int i = 0; i < n; i++)
      y[r + i] = add ? add[r + i] + tmp[i] : tmp[i];
  }
}

void
rnn__gemv_batch_avx2 (const rnn_packed *p, int nb, const float *x, int ldx,
    const float *add, int ldadd, float *y, int ldy)
{
  const int rows = p->rows, cols = p->cols;
  int b = 0;

  for (; b + 1 < nb; b += 2) {
    const float *xa = x + (size_t) b * (size_t) ldx, *xb = xa + ldx;
    const float *adda = add ? add + (size_t) b * (size_t) ldadd : NULL;
    const float *addb = add ? adda + ldadd : NULL;
    float *ya = y + (size_t) b * (size_t) ldy, *yb = ya + ldy;

    for (int r0 = 0; r0 < rows; r0 += RNN_PANEL_ROWS) {
      int width = MIN (RNN_PANEL_ROWS, ((rows - r0) + 7) & ~7);
      int valid = MIN (width, rows - r0);
      const float *panel = p->data + (size_t) r0 * (size_t) cols;

      for (int h0 = 0; h0 < width; h0 += 16) {
        int nv = MIN (2, (width - h0) / 8);
        __m256 acca[2], accb[2];

        if (nv == 2)
          panel_pair_avx2 (panel + h0, width, xa, xb, cols, 2, acca, accb);
        else
          panel_pair_avx2 (panel + h0, width, xa, xb, cols, 1, acca, accb);
        for (int v = 0; v < nv; v++) {
          int r = h0 + 8 * v;
          store8 (ya, adda, r0 + r, valid - r, acca[v]);
          store8 (yb, addb, r0 + r, valid - r, accb[v]);
        }
      }
    }
  }
  if (b < nb)
    rnn__gemv_avx2 (p, x + (size_t) b * (size_t) ldx,
        add ? add + (size_t) b * (size_t) ldadd : NULL,
        y + (size_t) b * (size_t) ldy);
}

/* ---------------------------------------------------- activations */

/* y = f(x) elementwise for one of the n-vector nonlinearities of
 * kernels-x86.h (@f a constant after inlining): 4 vectors at a time, their
 * exp chains interleaved, then single vectors; the tail goes through the
 * same code on a padded copy. */
RNN_INLINE void
map8 (const float *x, float *y, size_t n, void (*f) (__m256 *, int))
{
  size_t i = 0;

  for (; i + 32 <= n; i += 32) {
    __m256 v[4];
    for (int u = 0; u < 4; u++)
      v[u] = _mm256_loadu_ps (x + i + 8 * u);
    f (v, 4);
    for (int u = 0; u < 4; u++)
      _mm256_storeu_ps (y + i + 8 * u, v[u]);
  }
  for (; i < n; i += 8) {
    float tmp[8] = { 0 };
    const size_t k = MIN (n - i, 8);
    __m256 v;
    memcpy (tmp, x + i, k * sizeof (float));
    v = _mm256_loadu_ps (tmp);
    f (&v, 1);
    _mm256_storeu_ps (tmp, v);
    memcpy (y + i, tmp, k * sizeof (float));
  }
}

void
rnn__sigmoid_avx2 (const float *x, float *y, size_t n)
{
  map8 (x, y, n, rnn_sigmoid8_n);
}

void
rnn__tanh_avx2 (const float *x, float *y, size_t n)
{
  map8 (x, y, n, rnn_tanh8_n);
}

/* ---------------------------------------------------- fused cells */

/* Units per iteration of the cells: CELL_VECS vectors of 8, their exp
 * chains interleaved (the same operations on each lane as one vector at a
 * time). At most 2: the LSTM runs 3 CELL_VECS sigmoids at once and the
 * n-vector forms of kernels-x86.h take at most 8. */
#define CELL_VECS 2

/* The LSTM cell of @n vectors of 8 units (a constant after inlining): each
 * pointer holds 8 n consecutive values. */
RNN_INLINE void
lstm8_n (const float *gi, const float *gf, const float *gg, const float *go,
    float *c, float *h, int n)
{
  __m256 s[3 * CELL_VECS], t[CELL_VECS], cv[CELL_VECS];

  RNN_EACH (n) {
    s[u] = _mm256_loadu_ps (gi + 8 * u);
    s[n + u] = _mm256_loadu_ps (gf + 8 * u);
    s[2 * n + u] = _mm256_loadu_ps (go + 8 * u);
    t[u] = _mm256_loadu_ps (gg + 8 * u);
  }
  rnn_sigmoid8_n (s, 3 * n);
  rnn_tanh8_n (t, n);
  RNN_EACH (n) {
    cv[u] = _mm256_add_ps (_mm256_mul_ps (s[n + u], _mm256_loadu_ps (c
                + 8 * u)), _mm256_mul_ps (s[u], t[u]));
    _mm256_storeu_ps (c + 8 * u, cv[u]);
  }
  rnn_tanh8_n (cv, n);
  RNN_EACH (n) _mm256_storeu_ps (h + 8 * u, _mm256_mul_ps (s[2 * n + u],
          cv[u]));
}

void
rnn__lstm_cell_avx2 (const float *g, float *c, float *h, int H)
{
  int k = 0;
  for (; k + 8 * CELL_VECS <= H; k += 8 * CELL_VECS)
    lstm8_n (g + k, g + H + k, g + 2 * H + k, g + 3 * H + k, c + k, h + k,
        CELL_VECS);
  for (; k + 8 <= H; k += 8)
    lstm8_n (g + k, g + H + k, g + 2 * H + k, g + 3 * H + k, c + k, h + k,
        1);
  if (k < H) {
    /* the tail goes through the same vector code on padded copies, so
     * every unit gets the same arithmetic */
    float t[6][8] = { { 0 } };
    size_t nb = (size_t) (H - k) * sizeof (float);
    for (int q = 0; q < 4; q++)
      memcpy (t[q], g + q * H + k, nb);
    memcpy (t[4], c + k, nb);
    lstm8_n (t[0], t[1], t[2], t[3], t[4], t[5], 1);
    memcpy (c + k, t[4], nb);
    memcpy (h + k, t[5], nb);
  }
}

/* The GRU cell in two passes over chunks of GRU_CHUNK units: first
 * r = sigmoid(gx_r + gh_r) and z = sigmoid(gx_z + gh_z) of the chunk into a
 * scratch, then n = tanh(gx_n + r (gh_n + b_hn)) and h' = n + z (h - n).
 * Fused per unit, the tanh waits on its unit's sigmoid (two exp chains of
 * about 15 dependent instructions each, one after the other); in passes,
 * every vector of a pass is independent and they run GRU_VECS at a time.
 * H = 256: 410 -> 320 ns. The same operations on each lane as one unit at
 * a time (and as the per-stream batch's cell). */
#define GRU_CHUNK 128
#define GRU_VECS 4

/* out = sigmoid(a + b) for @n vectors (a constant after inlining) */
RNN_INLINE void
gru_gate8_n (const float *a, const float *b, float *out, int n)
{
  __m256 v[GRU_VECS];

  RNN_EACH (n) v[u] = _mm256_add_ps (_mm256_loadu_ps (a + 8 * u),
      _mm256_loadu_ps (b + 8 * u));
  rnn_sigmoid8_n (v, n);
  RNN_EACH (n) _mm256_storeu_ps (out + 8 * u, v[u]);
}

/* h = n + z (h - n), n = tanh(xn + r (hn + bhn)), for @n vectors */
RNN_INLINE void
gru_new8_n (const float *xn, const float *hn, const float *bhn,
    const float *r, const float *z, float *h, int n)
{
  __m256 v[GRU_VECS];

  RNN_EACH (n) v[u] = _mm256_add_ps (_mm256_loadu_ps (xn + 8 * u),
      _mm256_mul_ps (_mm256_loadu_ps (r + 8 * u), _mm256_add_ps
          (_mm256_loadu_ps (hn + 8 * u), _mm256_loadu_ps (bhn + 8 * u))));
  rnn_tanh8_n (v, n);
  RNN_EACH (n) {
    __m256 hv = _mm256_loadu_ps (h + 8 * u);
    _mm256_storeu_ps (h + 8 * u, _mm256_add_ps (v[u], _mm256_mul_ps
            (_mm256_loadu_ps (z + 8 * u), _mm256_sub_ps (hv, v[u]))));
  }
}

/* The cell on @n units (a multiple of 8, <= GRU_CHUNK); each gate pointer
 * at the chunk's first unit, @ld apart (gate q at q ld). */
RNN_INLINE void
gru_chunk (const float *gx, const float *gh, size_t ld, const float *b_hn,
    float *h, int n)
{
  float rz[2 * GRU_CHUNK];
  int i;

  for (int q = 0; q < 2; q++) {
    const float *a = gx + q * ld, *b = gh + q * ld;
    float *o = rz + q * GRU_CHUNK;
    for (i = 0; i + 8 * GRU_VECS <= n; i += 8 * GRU_VECS)
      gru_gate8_n (a + i, b + i, o + i, GRU_VECS);
    for (; i < n; i += 8)
      gru_gate8_n (a + i, b + i, o + i, 1);
  }
  gx += 2 * ld;
  gh += 2 * ld;
  for (i = 0; i + 8 * GRU_VECS <= n; i += 8 * GRU_VECS)
    gru_new8_n (gx + i, gh + i, b_hn + i, rz + i, rz + GRU_CHUNK + i, h + i,
        GRU_VECS);
  for (; i < n; i += 8)
    gru_new8_n (gx + i, gh + i, b_hn + i, rz + i, rz + GRU_CHUNK + i, h + i,
        1);
}

void
rnn__gru_cell_avx2 (const float *gx, const float *gh, const float *b_hn,
    float *h, int H)
{
  const int H8 = H & ~7;

  for (int k = 0; k < H8; k += GRU_CHUNK)
    gru_chunk (gx + k, gh + k, (size_t) H, b_hn + k, h + k,
        MIN (GRU_CHUNK, H8 - k));
  if (H8 < H) {
    /* the last units go through the same vector code on padded copies,
     * so that every unit gets the same arithmetic */
    float t[8][8] = { { 0 } };
    size_t nb = (size_t) (H - H8) * sizeof (float);
    for (int q = 0; q < 3; q++) {
      memcpy (t[q], gx + q * H + H8, nb);
      memcpy (t[3 + q], gh + q * H + H8, nb);
    }
    memcpy (t[6], b_hn + H8, nb);
    memcpy (t[7], h + H8, nb);
    gru_chunk (t[0], t[3], 8, t[6], t[7], 8);
    memcpy (h + H8, t[7], nb);
  }
}
