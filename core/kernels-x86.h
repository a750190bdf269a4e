/* gst-rnn: inline helpers shared by the x86 kernel files (each includes it
 * and compiles it with its own instruction set, at least AVX2 + FMA).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef RNN_KERNELS_X86_H
#define RNN_KERNELS_X86_H

#include "kernels.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

#define RNN_INLINE static inline __attribute__ ((always_inline))

/* exp(r) on |r| <= ln2 / 2: a degree-6 polynomial fitted for the smallest
 * largest relative error on that interval (1.9e-9 in exact arithmetic, so
 * float rounding dominates). */
#define RNN_EXP_C6 0.0013836828f
#define RNN_EXP_C5 0.008374815f
#define RNN_EXP_C4 0.041668225f
#define RNN_EXP_C3 0.1666642f
#define RNN_EXP_C2 0.4999999f
/* ln 2 = LN2_HI + LN2_LO, LN2_HI with few significant bits so that n LN2_HI
 * is exact for |n| <= 128 (Cody-Waite). */
#define RNN_LN2_HI 0.693359375f
#define RNN_LN2_LO (-2.12194440e-4f)
#define RNN_LOG2E 1.44269504089f

/* The nonlinearities below work on @n vectors at once (n is a constant at
 * every call site, so the loops unroll): the same operations on each
 * vector, interleaved. One exp is a chain of about 15 dependent
 * instructions; a single chain per step keeps the FP scheduler full of
 * waiting work, several independent ones keep the units busy (the
 * per-stream batch runs its cells 4 vectors at a time). The one-vector
 * forms (n = 1) are the same code. */
#define RNN_EACH(n) _Pragma ("GCC unroll 8") for (int u = 0; u < (n); u++)

/* The shared part of exp and expm1: for x already clamped, k = round(x
 * log2 e), r = x - k ln2 and p = 1 + r (C2 + r (C3 + ...)), so that
 * exp(r) = 1 + r p and exp(r) - 1 = r p. */
RNN_INLINE void
rnn_exp8_poly_n (const __m256 *x, __m256 *k, __m256 *r, __m256 *p, int n)
{
  RNN_EACH (n) k[u] = _mm256_round_ps (_mm256_mul_ps (x[u],
          _mm256_set1_ps (RNN_LOG2E)), _MM_FROUND_TO_NEAREST_INT
      | _MM_FROUND_NO_EXC);
  RNN_EACH (n) r[u] = _mm256_fnmadd_ps (k[u], _mm256_set1_ps (RNN_LN2_HI),
      x[u]);
  RNN_EACH (n) r[u] = _mm256_fnmadd_ps (k[u], _mm256_set1_ps (RNN_LN2_LO),
      r[u]);
  RNN_EACH (n) p[u] = _mm256_fmadd_ps (_mm256_set1_ps (RNN_EXP_C6), r[u],
      _mm256_set1_ps (RNN_EXP_C5));
  RNN_EACH (n) p[u] = _mm256_fmadd_ps (p[u], r[u],
      _mm256_set1_ps (RNN_EXP_C4));
  RNN_EACH (n) p[u] = _mm256_fmadd_ps (p[u], r[u],
      _mm256_set1_ps (RNN_EXP_C3));
  RNN_EACH (n) p[u] = _mm256_fmadd_ps (p[u], r[u],
      _mm256_set1_ps (RNN_EXP_C2));
  RNN_EACH (n) p[u] = _mm256_fmadd_ps (p[u], r[u], _mm256_set1_ps (1.0f));
}

/* 2^k for integral k in [-126, 127], built in the exponent bits */
RNN_INLINE __m256
rnn_pow2_8 (__m256 k)
{
  return _mm256_castsi256_ps (_mm256_slli_epi32 (_mm256_add_epi32
          (_mm256_cvtps_epi32 (k), _mm256_set1_epi32 (127)), 23));
}

/* exp(x) for n x 8 floats, in place: n = round(x log2 e), r = x - n ln2
 * (two steps), exp(x) = 2^n p(r), 2^n built in the exponent bits. x is
 * clamped to [-87.3, 88.3] so that 2^n stays a normal float. */
RNN_INLINE void
rnn_exp8_n (__m256 *x, int n)
{
  __m256 k[8], r[8], p[8];

  RNN_EACH (n) x[u] = _mm256_min_ps (_mm256_max_ps (x[u],
          _mm256_set1_ps (-87.3f)), _mm256_set1_ps (88.3f));
  rnn_exp8_poly_n (x, k, r, p, n);
  RNN_EACH (n) x[u] = _mm256_mul_ps (_mm256_fmadd_ps (p[u], r[u],
          _mm256_set1_ps (1.0f)), rnn_pow2_8 (k[u]));
}

/* 1 / d for d >= 1, in place: the hardware estimate (relative error
 * <= 1.5 2^-12) and one Newton step r' = r + r (1 - d r), which squares
 * the error. */
RNN_INLINE void
rnn_rcp8_n (__m256 *d, int n)
{
  __m256 r[8];

  RNN_EACH (n) r[u] = _mm256_rcp_ps (d[u]);
  RNN_EACH (n) d[u] = _mm256_fmadd_ps (r[u], _mm256_fnmadd_ps (d[u], r[u],
          _mm256_set1_ps (1.0f)), r[u]);
}

/* sigmoid(x) = 1 / (1 + exp(-x)), in place */
RNN_INLINE void
rnn_sigmoid8_n (__m256 *x, int n)
{
  RNN_EACH (n) x[u] = _mm256_sub_ps (_mm256_setzero_ps (), x[u]);
  rnn_exp8_n (x, n);
  RNN_EACH (n) x[u] = _mm256_add_ps (_mm256_set1_ps (1.0f), x[u]);
  rnn_rcp8_n (x, n);
}

/* tanh(x) = sign(x) m / (m + 2) with m = exp(2|x|) - 1, in place. m comes
 * from the exp polynomial without the cancellation of exp - 1: with
 * exp(2|x|) = 2^k (1 + r p), m = 2^k r p + (2^k - 1) (one rounding). So the
 * error stays relative for tiny x too (tanh(x) = x there) and near 1 for
 * large ones. 2|x| is clamped to 20, where tanh is 1 in float. */
RNN_INLINE void
rnn_tanh8_n (__m256 *x, int n)
{
  const __m256 sign_mask = _mm256_set1_ps (-0.0f);
  __m256 a[8], k[8], r[8], p[8];

  RNN_EACH (n) {
    a[u] = _mm256_andnot_ps (sign_mask, x[u]);
    a[u] = _mm256_min_ps (_mm256_add_ps (a[u], a[u]),
        _mm256_set1_ps (20.0f));
  }
  rnn_exp8_poly_n (a, k, r, p, n);
  RNN_EACH (n) {
    __m256 s = rnn_pow2_8 (k[u]);
    a[u] = _mm256_fmadd_ps (s, _mm256_mul_ps (r[u], p[u]),
        _mm256_sub_ps (s, _mm256_set1_ps (1.0f)));
    r[u] = _mm256_add_ps (a[u], _mm256_set1_ps (2.0f));
  }
  rnn_rcp8_n (r, n);
  RNN_EACH (n) x[u] = _mm256_or_ps (_mm256_mul_ps (a[u], r[u]),
      _mm256_and_ps (sign_mask, x[u]));
}

RNN_INLINE __m256
rnn_sigmoid8 (__m256 x)
{
  rnn_sigmoid8_n (&x, 1);
  return x;
}

RNN_INLINE __m256
rnn_tanh8 (__m256 x)
{
  rnn_tanh8_n (&x, 1);
  return x;
}

/* The int8 input quantisation (kernels.h, rnn__quant_scales) of @x
 * (@cols values) into @q (@kc >= cols bytes, the padding zero), each byte
 * XORed with @flip: 0 keeps the signed q, 0x80 gives the unsigned q + 128
 * that vpdpbusd multiplies. Returns sx. */
RNN_INLINE float
rnn_quantise_x (const float *x, int cols, int kc, int8_t *q, int flip)
{
  const __m256 absmask = _mm256_castsi256_ps (_mm256_set1_epi32 (0x7fffffff));
  __m256 vmax = _mm256_setzero_ps ();
  __m128 m4;
  float amax, sx, inv;
  __m256 vinv;
  int j = 0;

  for (; j + 8 <= cols; j += 8)
    vmax = _mm256_max_ps (vmax, _mm256_and_ps (absmask, _mm256_loadu_ps (x
                + j)));
  /* the largest lane, a NaN lane ignored (as fmaxf ignores it; NaN
   * lanes to 0, which the lanes, all >= 0, never fall below): exact, so
   * the order does not matter */
  vmax = _mm256_andnot_ps (_mm256_cmp_ps (vmax, vmax, _CMP_UNORD_Q), vmax);
  m4 = _mm_max_ps (_mm256_castps256_ps128 (vmax),
      _mm256_extractf128_ps (vmax, 1));
  m4 = _mm_max_ps (m4, _mm_movehl_ps (m4, m4));
  m4 = _mm_max_ps (m4, _mm_shuffle_ps (m4, m4, 1));
  amax = _mm_cvtss_f32 (m4);
  for (; j < cols; j++) {
    const float a = fabsf (x[j]);
    if (a > amax)       /* fmaxf (amax, a): a NaN is ignored */
      amax = a;
  }
  rnn__quant_scales (amax, &sx, &inv);

  vinv = _mm256_set1_ps (inv);
  j = 0;
  for (; j + 8 <= cols; j += 8) {
    __m256i qi = _mm256_cvtps_epi32 (_mm256_mul_ps (_mm256_loadu_ps (x + j),
            vinv));
    __m128i w16 = _mm_packs_epi32 (_mm256_castsi256_si128 (qi),
        _mm256_extracti128_si256 (qi, 1));
    __m128i b8 = _mm_packs_epi16 (w16, w16);
    b8 = _mm_xor_si128 (b8, _mm_set1_epi8 ((char) flip));
    _mm_storel_epi64 ((__m128i *) (q + j), b8);
  }
  for (; j < cols; j++)
    q[j] = (int8_t) (lrintf (x[j] * inv) ^ flip);
  for (; j < kc; j++)
    q[j] = (int8_t) flip;
  return sx;
}

/* The bf16 input vector: x rounded to bfloat16 (as rnn__bf16_from_f32),
 * kept as floats; @kc - cols padding zeros. */
RNN_INLINE void
rnn_round_bf16 (const float *x, int cols, int kc, float *xb)
{
  const __m256i lsb = _mm256_set1_epi32 (1), bias = _mm256_set1_epi32 (0x7fff);
  const __m256i hi = _mm256_set1_epi32 ((int) 0xffff0000u);
  const __m256i expo = _mm256_set1_epi32 (0x7f800000);
  int j = 0;

  for (; j + 8 <= cols; j += 8) {
    __m256 v = _mm256_loadu_ps (x + j);
    __m256i u = _mm256_castps_si256 (v);
    __m256i r = _mm256_add_epi32 (u, _mm256_add_epi32 (bias,
            _mm256_and_si256 (_mm256_srli_epi32 (u, 16), lsb)));
    __m256i nan = _mm256_castps_si256 (_mm256_cmp_ps (v, v, _CMP_UNORD_Q));
    __m256i sub = _mm256_cmpeq_epi32 (_mm256_and_si256 (u, expo),
        _mm256_setzero_si256 ());
    /* NaN: the top half with the quiet bit; subnormal: the sign only */
    r = _mm256_blendv_epi8 (r, _mm256_or_si256 (u, _mm256_set1_epi32
            (0x400000)), nan);
    r = _mm256_blendv_epi8 (r, _mm256_and_si256 (u, _mm256_set1_epi32
            ((int) 0x80000000u)), sub);
    _mm256_storeu_ps (xb + j, _mm256_castsi256_ps (_mm256_and_si256 (r,
                hi)));
  }
  for (; j < cols; j++)
    xb[j] = rnn__f32_from_bf16 (rnn__bf16_from_f32 (x[j]));
  for (; j < kc; j++)
    xb[j] = 0.0f;
}

/* Rows [r, r + n) of an int8 GEMV's result from the int32 sums @acc (8
 * rows; n <= 8 valid): y = add + (float) (acc - off) * (s_r * sx), the
 * same operations as the portable kernel. */
RNN_INLINE void
rnn_int8_store8 (const rnn_packed *p, int r, int n, __m256i acc,
    __m256i off, float sx, const float *add, float *y)
{
  __m256 comb = _mm256_mul_ps (_mm256_loadu_ps (p->scale + r),
      _mm256_set1_ps (sx));
  __m256 t = _mm256_mul_ps (_mm256_cvtepi32_ps (_mm256_sub_epi32 (acc, off)),
      comb);

  if (n >= 8) {
    if (add != NULL)
      t = _mm256_add_ps (_mm256_loadu_ps (add + r), t);
    _mm256_storeu_ps (y + r, t);
  } else {
    float tmp[8];
    _mm256_storeu_ps (tmp, t);
    for (int i = 0; i < n; i++)
      y[r + i] = add != NULL ? add[r + i] + tmp[i] : tmp[i];
  }
}

/* An int8 GEMV on 256-bit registers around @panel, which sums the int32
 * products of @nv blocks of 8 rows (a constant after inlining) over @nq
 * quads of columns with the input quantised and XORed with @flip (0x80:
 * the unsigned form, corrected by rnn_packed.off128). */
typedef void (*rnn_int8_panel8) (const int8_t *panel, const int8_t *q,
    int nq, int nv, __m256i *out);

RNN_INLINE void
rnn_int8_gemv8 (const rnn_packed *p, const float *x, const float *add,
    float *y, int flip, rnn_int8_panel8 panel_fn)
{
  const int rows = p->rows, kc = p->kc, nq = kc / 4;
  int8_t stack[RNN_SCRATCH_STACK], *q = stack;
  float sx;

  if ((size_t) kc > sizeof stack)
    q = g_malloc ((size_t) kc);
  sx = rnn_quantise_x (x, p->cols, kc, q, flip);
  for (int r0 = 0; r0 < rows; r0 += RNN_PANEL_ROWS) {
    const int width = MIN (RNN_PANEL_ROWS, ((rows - r0) + 7) & ~7);
    const int valid = MIN (width, rows - r0);
    const int nv = width / 8;
    const int8_t *panel = p->i8 + (size_t) r0 * (size_t) kc;
    __m256i acc[4];

    switch (nv) {
      case 4: panel_fn (panel, q, nq, 4, acc); break;
      case 3: panel_fn (panel, q, nq, 3, acc); break;
      case 2: panel_fn (panel, q, nq, 2, acc); break;
      default: panel_fn (panel, q, nq, 1, acc); break;
    }
    for (int v = 0; v < nv; v++)
      rnn_int8_store8 (p, r0 + 8 * v, valid - 8 * v, acc[v], flip
          ? _mm256_loadu_si256 ((const __m256i *) (p->off128 + r0 + 8 * v))
          : _mm256_setzero_si256 (), sx, add, y);
  }
  if (q != stack)
    g_free (q);
}

/* The multi-stream form (rnn_kernels.gemv_batch_int8) on 256-bit
 * registers. @dot adds to @acc the int32 sums of the quad products of the
 * broadcast quantised input quad @xq and the weights @w (8 rows x 4
 * columns), in the form the set's GEMV uses. */
typedef __m256i (*rnn_int8_dot8) (__m256i acc, __m256i xq, __m256i w);

/* Rows [0, 8 nv) (nv 1 or 2) of the panel at @panel (width @w) for @nb
 * <= 6 streams whose quantised inputs are @ldq bytes apart, into
 * out[2 b + v]: each weight vector loaded once for the streams. @nv and
 * @nb are constants after inlining, so the accumulators stay in
 * registers. */
RNN_INLINE void
rnn_int8_tile8 (const int8_t *panel, int w, const int8_t *q, int ldq,
    int nq, int nv, int nb, __m256i *out, rnn_int8_dot8 dot)
{
  __m256i a[12];

#pragma GCC unroll 12
  for (int i = 0; i < 2 * nb; i++)
    a[i] = _mm256_setzero_si256 ();
  for (int k = 0; k < nq; k++) {
    const int8_t *g = panel + (size_t) k * (size_t) w * 4;
    const __m256i w0 = _mm256_loadu_si256 ((const __m256i *) g);
    const __m256i w1 = nv == 2 ? _mm256_loadu_si256 ((const __m256i *) (g
            + 32)) : _mm256_setzero_si256 ();

#pragma GCC unroll 6
    for (int b = 0; b < nb; b++) {
      int32_t quad;
      memcpy (&quad, q + (size_t) b * (size_t) ldq + 4 * k, sizeof quad);
      const __m256i xq = _mm256_set1_epi32 (quad);
      a[2 * b] = dot (a[2 * b], xq, w0);
      if (nv == 2)
        a[2 * b + 1] = dot (a[2 * b + 1], xq, w1);
    }
  }
#pragma GCC unroll 12
  for (int i = 0; i < 2 * nb; i++)
    out[i] = a[i];
}

/* Streams whose quantised inputs are kept at once (in L1) */
#define RNN_I8_BLOCK 32

#define RNN_I8_TILE_CASE(NB) \
  case NB: \
    if (NB > tile) \
      break; \
    if (nv == 2) \
      rnn_int8_tile8 (panel + h0 * 4, w, qg, kc, nq, 2, NB, acc, dot); \
    else \
      rnn_int8_tile8 (panel + h0 * 4, w, qg, kc, nq, 1, NB, acc, dot); \
    break

/* The inputs of a block of streams quantised once each (exactly as the
 * one-vector GEMV does), then panel after panel, 16 rows at a time, tiles
 * of @tile (<= 6) streams (rnn_int8_tile8 with @dot); each row finished as
 * rnn_int8_gemv8 finishes it, so every y row has the one-vector GEMV's
 * bits. */
RNN_INLINE void
rnn_int8_gemv8_batch (const rnn_packed *p, int nb, const float *x, int ldx,
    const float *add, int ldadd, float *y, int ldy, int flip, int tile,
    rnn_int8_dot8 dot)
{
  const int rows = p->rows, kc = p->kc, nq = kc / 4;
  int8_t stack[RNN_SCRATCH_STACK], *q = stack;
  float sx[RNN_I8_BLOCK];
  const int blk = MAX (1, MIN (RNN_I8_BLOCK, (int) sizeof stack
          / MAX (kc, 1)));

  if ((size_t) kc > sizeof stack)
    q = g_malloc ((size_t) kc);
  for (int s0 = 0; s0 < nb; s0 += blk) {
    const int ns = MIN (blk, nb - s0);

    for (int b = 0; b < ns; b++)
      sx[b] = rnn_quantise_x (x + (size_t) (s0 + b) * (size_t) ldx, p->cols,
          kc, q + (size_t) b * (size_t) kc, flip);
    for (int r0 = 0; r0 < rows; r0 += RNN_PANEL_ROWS) {
      const int w = MIN (RNN_PANEL_ROWS, ((rows - r0) + 7) & ~7);
      const int valid = MIN (w, rows - r0);
      const int8_t *panel = p->i8 + (size_t) r0 * (size_t) kc;

      for (int h0 = 0; h0 < w; h0 += 16) {
        const int nv = MIN (2, (w - h0) / 8);

        for (int g0 = 0; g0 < ns; g0 += tile) {
          const int8_t *qg = q + (size_t) g0 * (size_t) kc;
          const int ng = MIN (tile, ns - g0);
          __m256i acc[12];

          switch (ng) {
            RNN_I8_TILE_CASE (6);
            RNN_I8_TILE_CASE (5);
            RNN_I8_TILE_CASE (4);
            RNN_I8_TILE_CASE (3);
            RNN_I8_TILE_CASE (2);
            RNN_I8_TILE_CASE (1);
            default: break;
          }
          for (int b = 0; b < ng; b++) {
            const size_t sb = (size_t) (s0 + g0 + b);
            for (int v = 0; v < nv; v++) {
              const int r = r0 + h0 + 8 * v;
              rnn_int8_store8 (p, r, valid - h0 - 8 * v, acc[2 * b + v],
                  flip ? _mm256_loadu_si256 ((const __m256i *) (p->off128
                          + r)) : _mm256_setzero_si256 (), sx[b + g0],
                  add ? add + sb * (size_t) ldadd : NULL,
                  y + sb * (size_t) ldy);
            }
          }
        }
      }
    }
  }
  if (q != stack)
    g_free (q);
}

#ifdef __AVX512F__
/* The rows [0, n) of a 16-row group as a mask. */
RNN_INLINE __mmask16
rnn_rows_mask (int n)
{
  /* no ?: chain: its int result trips -Wconversion at some levels */
  if (n >= 16)
    return (__mmask16) 0xffff;
  if (n <= 0)
    return (__mmask16) 0;
  return (__mmask16) ((1u << n) - 1u);
}

/* The AVX-512 forms of the nonlinearities above, n x 16 floats in place.
 * exp: vscalefps for 2^n. */
RNN_INLINE void
rnn_exp16_poly_n (const __m512 *x, __m512 *k, __m512 *r, __m512 *p, int n)
{
  RNN_EACH (n) k[u] = _mm512_roundscale_ps (_mm512_mul_ps (x[u],
          _mm512_set1_ps (RNN_LOG2E)), _MM_FROUND_TO_NEAREST_INT
      | _MM_FROUND_NO_EXC);
  RNN_EACH (n) r[u] = _mm512_fnmadd_ps (k[u], _mm512_set1_ps (RNN_LN2_HI),
      x[u]);
  RNN_EACH (n) r[u] = _mm512_fnmadd_ps (k[u], _mm512_set1_ps (RNN_LN2_LO),
      r[u]);
  RNN_EACH (n) p[u] = _mm512_fmadd_ps (_mm512_set1_ps (RNN_EXP_C6), r[u],
      _mm512_set1_ps (RNN_EXP_C5));
  RNN_EACH (n) p[u] = _mm512_fmadd_ps (p[u], r[u],
      _mm512_set1_ps (RNN_EXP_C4));
  RNN_EACH (n) p[u] = _mm512_fmadd_ps (p[u], r[u],
      _mm512_set1_ps (RNN_EXP_C3));
  RNN_EACH (n) p[u] = _mm512_fmadd_ps (p[u], r[u],
      _mm512_set1_ps (RNN_EXP_C2));
  RNN_EACH (n) p[u] = _mm512_fmadd_ps (p[u], r[u], _mm512_set1_ps (1.0f));
}

RNN_INLINE void
rnn_exp16_n (__m512 *x, int n)
{
  __m512 k[8], r[8], p[8];

  RNN_EACH (n) x[u] = _mm512_min_ps (_mm512_max_ps (x[u],
          _mm512_set1_ps (-87.3f)), _mm512_set1_ps (88.3f));
  rnn_exp16_poly_n (x, k, r, p, n);
  RNN_EACH (n) x[u] = _mm512_scalef_ps (_mm512_fmadd_ps (p[u], r[u],
          _mm512_set1_ps (1.0f)), k[u]);
}

/* 1 / d for d >= 1: vrcp14ps (relative error < 2^-14) and one Newton step
 * r' = r + r (1 - d r). */
RNN_INLINE void
rnn_rcp16_n (__m512 *d, int n)
{
  __m512 r[8];

  RNN_EACH (n) r[u] = _mm512_rcp14_ps (d[u]);
  RNN_EACH (n) d[u] = _mm512_fmadd_ps (r[u], _mm512_fnmadd_ps (d[u], r[u],
          _mm512_set1_ps (1.0f)), r[u]);
}

RNN_INLINE void
rnn_sigmoid16_n (__m512 *x, int n)
{
  RNN_EACH (n) x[u] = _mm512_sub_ps (_mm512_setzero_ps (), x[u]);
  rnn_exp16_n (x, n);
  RNN_EACH (n) x[u] = _mm512_add_ps (_mm512_set1_ps (1.0f), x[u]);
  rnn_rcp16_n (x, n);
}

RNN_INLINE void
rnn_tanh16_n (__m512 *x, int n)
{
  const __m512i sign_mask = _mm512_set1_epi32 ((int) 0x80000000u);
  __m512 a[8], k[8], r[8], p[8];

  RNN_EACH (n) {
    a[u] = _mm512_castsi512_ps (_mm512_andnot_si512 (sign_mask,
            _mm512_castps_si512 (x[u])));
    a[u] = _mm512_min_ps (_mm512_add_ps (a[u], a[u]),
        _mm512_set1_ps (20.0f));
  }
  rnn_exp16_poly_n (a, k, r, p, n);
  RNN_EACH (n) {
    __m512 s = _mm512_scalef_ps (_mm512_set1_ps (1.0f), k[u]);
    a[u] = _mm512_fmadd_ps (s, _mm512_mul_ps (r[u], p[u]),
        _mm512_sub_ps (s, _mm512_set1_ps (1.0f)));
    r[u] = _mm512_add_ps (a[u], _mm512_set1_ps (2.0f));
  }
  rnn_rcp16_n (r, n);
  RNN_EACH (n) x[u] = _mm512_castsi512_ps (_mm512_or_si512
      (_mm512_castps_si512 (_mm512_mul_ps (a[u], r[u])), _mm512_and_si512
          (sign_mask, _mm512_castps_si512 (x[u]))));
}

/* y rows [r0, r0 + valid) (+ add) from a panel's two 16-row float
 * accumulators. */
RNN_INLINE void
rnn_store_rows16 (float *y, const float *add, int r0, int valid,
    const __m512 *acc)
{
  for (int g = 0; g < 2; g++) {
    const __mmask16 m = rnn_rows_mask (valid - 16 * g);
    __m512 s = acc[g];
    if (m == 0)
      break;
    if (add != NULL)
      s = _mm512_add_ps (_mm512_maskz_loadu_ps (m, add + r0 + 16 * g), s);
    _mm512_mask_storeu_ps (y + r0 + 16 * g, m, s);
  }
}
#endif

#endif /* RNN_KERNELS_X86_H */
