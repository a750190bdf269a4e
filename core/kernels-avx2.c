/* gst-rnn: AVX2 + FMA kernels (this file alone is compiled with -mavx2
 * -mfma; rnn__kernels_get only hands it out when the CPU has both).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "kernels.h"

#include <immintrin.h>
#include <string.h>

/* ------------------------------------------------------------ GEMV */

/* One panel of @nv x 8 rows: two accumulator sets (even and odd columns)
 * give eight independent FMA chains for a full panel, enough to hide the
 * FMA latency. */
static inline __attribute__ ((always_inline)) void
panel_avx2 (const float *panel, const float *x, int cols, int nv,
    __m256 *out)
{
  __m256 a0[4], a1[4];
  int j = 0;

  for (int v = 0; v < nv; v++) {
    a0[v] = _mm256_setzero_ps ();
    a1[v] = _mm256_setzero_ps ();
  }
  for (; j + 1 < cols; j += 2) {
    const float *c0 = panel + (size_t) j * nv * 8;
    const float *c1 = c0 + nv * 8;
    __m256 x0 = _mm256_broadcast_ss (x + j);
    __m256 x1 = _mm256_broadcast_ss (x + j + 1);
    for (int v = 0; v < nv; v++) {
      a0[v] = _mm256_fmadd_ps (_mm256_loadu_ps (c0 + 8 * v), x0, a0[v]);
      a1[v] = _mm256_fmadd_ps (_mm256_loadu_ps (c1 + 8 * v), x1, a1[v]);
    }
  }
  if (j < cols) {
    const float *c0 = panel + (size_t) j * nv * 8;
    __m256 x0 = _mm256_broadcast_ss (x + j);
    for (int v = 0; v < nv; v++)
      a0[v] = _mm256_fmadd_ps (_mm256_loadu_ps (c0 + 8 * v), x0, a0[v]);
  }
  for (int v = 0; v < nv; v++)
    out[v] = _mm256_add_ps (a0[v], a1[v]);
}

static void
gemv_avx2 (const rnn_packed *p, const float *x, const float *add, float *y)
{
  const int rows = p->rows, cols = p->cols;

  for (int r0 = 0; r0 < rows; r0 += RNN_PANEL_ROWS) {
    int width = MIN (RNN_PANEL_ROWS, ((rows - r0) + 7) & ~7);
    int valid = MIN (width, rows - r0);
    int nv = width / 8;
    const float *panel = p->data + (size_t) r0 * cols;
    __m256 acc[4];

    switch (nv) {
      case 4: panel_avx2 (panel, x, cols, 4, acc); break;
      case 3: panel_avx2 (panel, x, cols, 3, acc); break;
      case 2: panel_avx2 (panel, x, cols, 2, acc); break;
      default: panel_avx2 (panel, x, cols, 1, acc); break;
    }
    if (valid == width) {
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
      for (int r = 0; r < valid; r++)
        y[r0 + r] = add ? add[r0 + r] + tmp[r] : tmp[r];
    }
  }
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

  for (int v = 0; v < nv; v++) {
    a0[v] = a1[v] = b0[v] = b1[v] = _mm256_setzero_ps ();
  }
  for (; j + 1 < cols; j += 2) {
    const float *c0 = panel + (size_t) j * width;
    const float *c1 = c0 + width;
    __m256 xa0 = _mm256_broadcast_ss (xa + j);
    __m256 xa1 = _mm256_broadcast_ss (xa + j + 1);
    __m256 xb0 = _mm256_broadcast_ss (xb + j);
    __m256 xb1 = _mm256_broadcast_ss (xb + j + 1);
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
    const float *c0 = panel + (size_t) j * width;
    __m256 xa0 = _mm256_broadcast_ss (xa + j);
    __m256 xb0 = _mm256_broadcast_ss (xb + j);
    for (int v = 0; v < nv; v++) {
      __m256 w0 = _mm256_loadu_ps (c0 + 8 * v);
      a0[v] = _mm256_fmadd_ps (w0, xa0, a0[v]);
      b0[v] = _mm256_fmadd_ps (w0, xb0, b0[v]);
    }
  }
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

static void
gemv_batch_avx2 (const rnn_packed *p, int nb, const float *x, int ldx,
    const float *add, int ldadd, float *y, int ldy)
{
  const int rows = p->rows, cols = p->cols;
  int b = 0;

  for (; b + 1 < nb; b += 2) {
    const float *xa = x + (size_t) b * ldx, *xb = xa + ldx;
    const float *adda = add ? add + (size_t) b * ldadd : NULL;
    const float *addb = add ? adda + ldadd : NULL;
    float *ya = y + (size_t) b * ldy, *yb = ya + ldy;

    for (int r0 = 0; r0 < rows; r0 += RNN_PANEL_ROWS) {
      int width = MIN (RNN_PANEL_ROWS, ((rows - r0) + 7) & ~7);
      int valid = MIN (width, rows - r0);
      const float *panel = p->data + (size_t) r0 * cols;

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
    gemv_avx2 (p, x + (size_t) b * ldx, add ? add + (size_t) b * ldadd :
        NULL, y + (size_t) b * ldy);
}

/* ------------------------------------------------------ activations */

/* exp(x) for 8 floats, within 2 ulp over the clamped range.
 * x = n ln2 + r with n = round(x / ln2), |r| <= ln2 / 2; ln2 is split into
 * a high part exact in float and a low correction (Cody-Waite) so r keeps
 * full precision; exp(r) by its Taylor polynomial of degree 7 (truncation
 * below 1e-8 relative on that interval), then scaled by 2^n built directly
 * in the exponent bits. Inputs are clamped to [-87.3, 88.3] so 2^n stays a
 * normal float: below, the result is ~1e-38 instead of smaller, which no
 * caller here can tell from 0. */
static inline __m256
exp8 (__m256 x)
{
  const __m256 ln2_hi = _mm256_set1_ps (0.693359375f);
  const __m256 ln2_lo = _mm256_set1_ps (-2.12194440e-4f);
  __m256 n, r, p;
  __m256i e;

  x = _mm256_min_ps (_mm256_max_ps (x, _mm256_set1_ps (-87.3f)),
      _mm256_set1_ps (88.3f));
  n = _mm256_round_ps (_mm256_mul_ps (x, _mm256_set1_ps (1.44269504089f)),
      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  r = _mm256_fnmadd_ps (n, ln2_hi, x);
  r = _mm256_fnmadd_ps (n, ln2_lo, r);

  p = _mm256_set1_ps (1.0f / 5040.0f);
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.0f / 720.0f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.0f / 120.0f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.0f / 24.0f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.0f / 6.0f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (0.5f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.0f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.0f));

  e = _mm256_slli_epi32 (_mm256_add_epi32 (_mm256_cvtps_epi32 (n),
          _mm256_set1_epi32 (127)), 23);
  return _mm256_mul_ps (p, _mm256_castsi256_ps (e));
}

/* sigmoid(x) = 1 / (1 + exp(-x)), with a true division. */
static inline __m256
sigmoid8 (__m256 x)
{
  const __m256 one = _mm256_set1_ps (1.0f);
  return _mm256_div_ps (one, _mm256_add_ps (one, exp8 (_mm256_sub_ps (
                  _mm256_setzero_ps (), x))));
}

/* tanh(x), odd, computed on a = |x| and given x's sign back.
 * a >= 0.55: tanh a = 1 - 2 / (exp(2a) + 1), whose cancellation costs at
 *   most about one bit there.
 * a < 0.55: the Taylor series of tanh up to a^19, whose next term is below
 *   4e-10 on that interval; the exp form would lose relative precision as
 *   a -> 0. */
static inline __m256
tanh8 (__m256 x)
{
  const __m256 sign_mask = _mm256_set1_ps (-0.0f);
  const __m256 one = _mm256_set1_ps (1.0f);
  __m256 a = _mm256_andnot_ps (sign_mask, x);
  __m256 sign = _mm256_and_ps (sign_mask, x);
  __m256 big, small, a2, p, res;

  big = _mm256_sub_ps (one, _mm256_div_ps (_mm256_set1_ps (2.0f),
          _mm256_add_ps (exp8 (_mm256_add_ps (a, a)), one)));

  a2 = _mm256_mul_ps (a, a);
  p = _mm256_set1_ps ((float) (-443861162.0 / 1856156927625.0));
  p = _mm256_fmadd_ps (p, a2, _mm256_set1_ps ((float) (6404582.0 / 10854718875.0)));
  p = _mm256_fmadd_ps (p, a2, _mm256_set1_ps ((float) (-929569.0 / 638512875.0)));
  p = _mm256_fmadd_ps (p, a2, _mm256_set1_ps ((float) (21844.0 / 6081075.0)));
  p = _mm256_fmadd_ps (p, a2, _mm256_set1_ps ((float) (-1382.0 / 155925.0)));
  p = _mm256_fmadd_ps (p, a2, _mm256_set1_ps ((float) (62.0 / 2835.0)));
  p = _mm256_fmadd_ps (p, a2, _mm256_set1_ps ((float) (-17.0 / 315.0)));
  p = _mm256_fmadd_ps (p, a2, _mm256_set1_ps ((float) (2.0 / 15.0)));
  p = _mm256_fmadd_ps (p, a2, _mm256_set1_ps ((float) (-1.0 / 3.0)));
  small = _mm256_fmadd_ps (_mm256_mul_ps (a, a2), p, a);

  res = _mm256_blendv_ps (big, small, _mm256_cmp_ps (a,
          _mm256_set1_ps (0.55f), _CMP_LT_OQ));
  return _mm256_or_ps (res, sign);
}

static void
sigmoid_avx2 (const float *x, float *y, size_t n)
{
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps (y + i, sigmoid8 (_mm256_loadu_ps (x + i)));
  if (i < n) {
    float tmp[8] = { 0 };
    memcpy (tmp, x + i, (n - i) * sizeof (float));
    _mm256_storeu_ps (tmp, sigmoid8 (_mm256_loadu_ps (tmp)));
    memcpy (y + i, tmp, (n - i) * sizeof (float));
  }
}

static void
tanh_avx2 (const float *x, float *y, size_t n)
{
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps (y + i, tanh8 (_mm256_loadu_ps (x + i)));
  if (i < n) {
    float tmp[8] = { 0 };
    memcpy (tmp, x + i, (n - i) * sizeof (float));
    _mm256_storeu_ps (tmp, tanh8 (_mm256_loadu_ps (tmp)));
    memcpy (y + i, tmp, (n - i) * sizeof (float));
  }
}

/* ---------------------------------------------------- fused cells */

static inline void
lstm8 (const float *gi, const float *gf, const float *gg, const float *go,
    float *c, float *h)
{
  __m256 i = sigmoid8 (_mm256_loadu_ps (gi));
  __m256 f = sigmoid8 (_mm256_loadu_ps (gf));
  __m256 g = tanh8 (_mm256_loadu_ps (gg));
  __m256 o = sigmoid8 (_mm256_loadu_ps (go));
  __m256 cn = _mm256_add_ps (_mm256_mul_ps (f, _mm256_loadu_ps (c)),
      _mm256_mul_ps (i, g));
  _mm256_storeu_ps (c, cn);
  _mm256_storeu_ps (h, _mm256_mul_ps (o, tanh8 (cn)));
}

static void
lstm_cell_avx2 (const float *g, float *c, float *h, int H)
{
  int k = 0;
  for (; k + 8 <= H; k += 8)
    lstm8 (g + k, g + H + k, g + 2 * H + k, g + 3 * H + k, c + k, h + k);
  if (k < H) {
    /* the tail goes through the same vector code on padded copies, so
     * every unit gets the same arithmetic */
    float t[6][8] = { { 0 } };
    size_t nb = (size_t) (H - k) * sizeof (float);
    for (int q = 0; q < 4; q++)
      memcpy (t[q], g + q * H + k, nb);
    memcpy (t[4], c + k, nb);
    lstm8 (t[0], t[1], t[2], t[3], t[4], t[5]);
    memcpy (c + k, t[4], nb);
    memcpy (h + k, t[5], nb);
  }
}

static inline void
gru8 (const float *xr, const float *xz, const float *xn, const float *hr,
    const float *hz, const float *hn, const float *bhn, float *h)
{
  __m256 r = sigmoid8 (_mm256_add_ps (_mm256_loadu_ps (xr),
          _mm256_loadu_ps (hr)));
  __m256 z = sigmoid8 (_mm256_add_ps (_mm256_loadu_ps (xz),
          _mm256_loadu_ps (hz)));
  __m256 n = tanh8 (_mm256_add_ps (_mm256_loadu_ps (xn),
          _mm256_mul_ps (r, _mm256_add_ps (_mm256_loadu_ps (hn),
                  _mm256_loadu_ps (bhn)))));
  __m256 hv = _mm256_loadu_ps (h);
  _mm256_storeu_ps (h, _mm256_add_ps (n, _mm256_mul_ps (z,
              _mm256_sub_ps (hv, n))));
}

static void
gru_cell_avx2 (const float *gx, const float *gh, const float *b_hn, float *h,
    int H)
{
  int k = 0;
  for (; k + 8 <= H; k += 8)
    gru8 (gx + k, gx + H + k, gx + 2 * H + k, gh + k, gh + H + k,
        gh + 2 * H + k, b_hn + k, h + k);
  if (k < H) {
    float t[8][8] = { { 0 } };
    size_t nb = (size_t) (H - k) * sizeof (float);
    for (int q = 0; q < 3; q++) {
      memcpy (t[q], gx + q * H + k, nb);
      memcpy (t[3 + q], gh + q * H + k, nb);
    }
    memcpy (t[6], b_hn + k, nb);
    memcpy (t[7], h + k, nb);
    gru8 (t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]);
    memcpy (h + k, t[7], nb);
  }
}

static const rnn_kernels kernels_avx2 = {
  "avx2-fma",
  gemv_avx2,
  sigmoid_avx2,
  tanh_avx2,
  lstm_cell_avx2,
  gru_cell_avx2,
  gemv_batch_avx2,
};

const rnn_kernels *
rnn__kernels_avx2 (void)
{
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"))
    return &kernels_avx2;
  return NULL;
}
