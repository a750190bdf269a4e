/* gst-rnn: packing, the kernel sets' candidate table, dispatch and the
 * CBLAS input GEMM.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "kernels.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline int
round_up (int n, int to)
{
  return (n + to - 1) / to * to;
}

uint16_t
rnn__bf16_from_f32 (float f)
{
  uint32_t u;

  memcpy (&u, &f, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u)  /* NaN: keep it a quiet NaN */
    return (uint16_t) ((u >> 16) | 0x40u);
  if ((u & 0x7f800000u) == 0)   /* zero or subnormal: signed zero */
    return (uint16_t) ((u >> 16) & 0x8000u);
  /* round to nearest, ties to even, on the 16 bits dropped */
  u += 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t) (u >> 16);
}

float
rnn__f32_from_bf16 (uint16_t b)
{
  uint32_t u = (uint32_t) b << 16;
  float f;

  memcpy (&f, &u, sizeof f);
  return f;
}

size_t
rnn__stream_bytes (void)
{
  static gsize bytes;

  if (g_once_init_enter (&bytes)) {
    long l2 = -1;
#ifdef _SC_LEVEL2_CACHE_SIZE
    l2 = sysconf (_SC_LEVEL2_CACHE_SIZE);
#endif
    g_once_init_leave (&bytes, (gsize) (l2 > 0 ? l2 : 1 << 20) * 3 / 2);
  }
  return bytes;
}

static void *
aligned_zero (size_t bytes)
{
  void *p = NULL;

  if (posix_memalign (&p, 64, MAX (bytes, 64)) != 0)
    return NULL;
  memset (p, 0, MAX (bytes, 64));
  return p;
}

rnn_status
rnn__packed_init_prec (rnn_packed *p, const float *w, int rows, int cols,
    rnn_precision prec, rnn_error *err)
{
  const int group = prec == RNN_PRECISION_INT8 ? 4
      : prec == RNN_PRECISION_BF16 ? 2 : 1;
  const int kc = round_up (cols, group);
  const size_t prow = (size_t) round_up (rows, 8);
  const size_t total = prow * (size_t) kc;
  const size_t esize = prec == RNN_PRECISION_INT8 ? 1
      : prec == RNN_PRECISION_BF16 ? 2 : sizeof (float);

  memset (p, 0, sizeof *p);
  p->rows = rows;
  p->cols = cols;
  p->kc = kc;
  p->prec = prec;
  if (rows <= 0 || cols <= 0)
    return RNN_OK;
  /* 64-byte aligned: with the panel widths used (multiples of 8 floats)
   * no 32-byte load of the GEMV then straddles two cache lines; from the
   * 16-byte alignment of malloc, about 10 % of the GEMV rate was lost at
   * H = 128. */
  if (total > G_MAXSIZE / esize / 2)
    goto nomem;

  switch (prec) {
    case RNN_PRECISION_F32:
      if ((p->data = aligned_zero (total * esize)) == NULL)
        goto nomem;
      break;
    case RNN_PRECISION_BF16:
      if ((p->bf16 = aligned_zero (total * esize)) == NULL)
        goto nomem;
      break;
    case RNN_PRECISION_INT8:
      p->i8 = aligned_zero (total);
      p->scale = aligned_zero (prow * sizeof (float));
      p->off128 = aligned_zero (prow * sizeof (int32_t));
      if (p->i8 == NULL || p->scale == NULL || p->off128 == NULL)
        goto nomem;
      break;
  }

  for (int r0 = 0; r0 < rows; r0 += RNN_PANEL_ROWS) {
    const int width = MIN (RNN_PANEL_ROWS, round_up (rows - r0, 8));
    const size_t base = (size_t) r0 * (size_t) kc;

    for (int r = r0; r < MIN (rows, r0 + width); r++) {
      const float *wr = w + (size_t) r * (size_t) cols;
      const size_t rr = (size_t) (r - r0);

      if (prec == RNN_PRECISION_F32) {
        for (int j = 0; j < cols; j++)
          p->data[base + (size_t) j * (size_t) width + rr] = wr[j];
      } else if (prec == RNN_PRECISION_BF16) {
        for (int j = 0; j < cols; j++)
          p->bf16[base + ((size_t) (j / 2) * (size_t) width + rr) * 2
              + (size_t) (j % 2)] = rnn__bf16_from_f32 (wr[j]);
      } else {
        /* symmetric per-row scale: Wq = rint (W * 127 / max |W_r|) */
        float amax = 0.0f, s, inv;
        int32_t sum = 0;

        for (int j = 0; j < cols; j++)
          amax = fmaxf (amax, fabsf (wr[j]));
        rnn__quant_scales (amax, &s, &inv);
        for (int j = 0; j < cols; j++) {
          float q = rintf (wr[j] * inv);
          int8_t qi = (int8_t) (q > 127.0f ? 127 : q < -127.0f ? -127
              : (int) q);
          p->i8[base + ((size_t) (j / 4) * (size_t) width + rr) * 4
              + (size_t) (j % 4)] = qi;
          sum += qi;
        }
        p->scale[r] = s;
        p->off128[r] = 128 * sum;
      }
    }
  }
  return RNN_OK;

nomem:
  rnn__packed_clear (p);
  return rnn__set_error (err, RNN_ERR_NOMEM,
      "out of memory packing a %d x %d weight matrix (%s)", rows, cols,
      rnn_precision_name (prec));
}

rnn_status
rnn__packed_init (rnn_packed *p, const float *w, int rows, int cols,
    rnn_error *err)
{
  return rnn__packed_init_prec (p, w, rows, cols, RNN_PRECISION_F32, err);
}

void
rnn__packed_clear (rnn_packed *p)
{
  free (p->data);
  free (p->bf16);
  free (p->i8);
  free (p->scale);
  free (p->off128);
  memset (p, 0, sizeof *p);
}

void
rnn__kernels_gemv_batch (const rnn_kernels *k, const rnn_packed *p, int nb,
    const float *x, int ldx, const float *add, int ldadd, float *y, int ldy)
{
  void (*batch) (const rnn_packed *, int, const float *, int, const float *,
      int, float *, int) = p->prec == RNN_PRECISION_BF16 ? k->gemv_batch_bf16
      : p->prec == RNN_PRECISION_INT8 ? k->gemv_batch_int8 : k->gemv_batch;

  if (batch != NULL)
    batch (p, nb, x, ldx, add, ldadd, y, ldy);
  else
    rnn__gemv_each (p->prec == RNN_PRECISION_BF16 ? k->gemv_bf16
        : p->prec == RNN_PRECISION_INT8 ? k->gemv_int8 : k->gemv, p, nb, x,
        ldx, add, ldadd, y, ldy);
}

const char *
rnn_precision_name (rnn_precision p)
{
  switch (p) {
    case RNN_PRECISION_F32: return "f32";
    case RNN_PRECISION_BF16: return "bf16";
    case RNN_PRECISION_INT8: return "int8";
  }
  return "unknown";
}

bool
rnn_precision_from_name (const char *name, rnn_precision *out)
{
  static const rnn_precision all[] = { RNN_PRECISION_F32,
    RNN_PRECISION_BF16, RNN_PRECISION_INT8 };

  for (size_t i = 0; name != NULL && i < G_N_ELEMENTS (all); i++)
    if (strcmp (name, rnn_precision_name (all[i])) == 0) {
      *out = all[i];
      return true;
    }
  return false;
}

/* ------------------------------------------------------ the candidates */

#define AVX512_ALL (RNN_CPU_AVX512 | RNN_CPU_AVX2 | RNN_CPU_FMA)

/* Best first. A set whose instructions the compiler cannot emit is left
 * out; the rest are filtered at run time by rnn__kernels_supported. The
 * reduced-precision GEMVs fall back to the best instructions the set's
 * features allow (AVX2 for a CPU without BF16 or VNNI). */
static const rnn_kernels candidates[] = {
#if defined(RNN_HAVE_AVX512_VNNI) && defined(RNN_HAVE_AVX512_BF16)
  {
    .name = "avx512-vnni-bf16",
    .needs = AVX512_ALL | RNN_CPU_AVX512_VNNI | RNN_CPU_AVX512_BF16,
    .needs_text = "AVX-512 F/BW/DQ/VL, AVX512-VNNI, AVX512-BF16, AVX2, FMA",
    .gemv = rnn__gemv_avx512,
    .gemv_ex = rnn__gemv_ex_avx512,
    .gemv_bf16 = rnn__gemv_bf16_avx512bf16,
    .gemv_batch_bf16 = rnn__gemv_batch_bf16_avx512bf16,
    .gemv_int8 = rnn__gemv_int8_avx512vnni,
    .gemv_batch_int8 = rnn__gemv_batch_int8_avx512vnni,
    .sigmoid = rnn__sigmoid_avx512,
    .tanh = rnn__tanh_avx512,
    .lstm_cell = rnn__lstm_cell_avx512,
    .gru_cell = rnn__gru_cell_avx512,
    .gemv_batch = rnn__gemv_batch_avx2,
  },
#endif
#ifdef RNN_HAVE_AVX512_VNNI
  {
    .name = "avx512-vnni",
    .needs = AVX512_ALL | RNN_CPU_AVX512_VNNI,
    .needs_text = "AVX-512 F/BW/DQ/VL, AVX512-VNNI, AVX2, FMA",
    .gemv = rnn__gemv_avx512,
    .gemv_ex = rnn__gemv_ex_avx512,
    .gemv_bf16 = rnn__gemv_bf16_avx2,
    .gemv_batch_bf16 = rnn__gemv_batch_bf16_avx512,
    .gemv_int8 = rnn__gemv_int8_avx512vnni,
    .gemv_batch_int8 = rnn__gemv_batch_int8_avx512vnni,
    .sigmoid = rnn__sigmoid_avx512,
    .tanh = rnn__tanh_avx512,
    .lstm_cell = rnn__lstm_cell_avx512,
    .gru_cell = rnn__gru_cell_avx512,
    .gemv_batch = rnn__gemv_batch_avx2,
  },
#endif
#ifdef RNN_HAVE_AVX512
  {
    .name = "avx512",
    .needs = AVX512_ALL,
    .needs_text = "AVX-512 F/BW/DQ/VL, AVX2, FMA",
    .gemv = rnn__gemv_avx512,
    .gemv_ex = rnn__gemv_ex_avx512,
    .gemv_bf16 = rnn__gemv_bf16_avx2,
    .gemv_batch_bf16 = rnn__gemv_batch_bf16_avx512,
    .gemv_int8 = rnn__gemv_int8_avx2,
    .gemv_batch_int8 = rnn__gemv_batch_int8_avx2,
    .sigmoid = rnn__sigmoid_avx512,
    .tanh = rnn__tanh_avx512,
    .lstm_cell = rnn__lstm_cell_avx512,
    .gru_cell = rnn__gru_cell_avx512,
    .gemv_batch = rnn__gemv_batch_avx2,
  },
#endif
#ifdef RNN_HAVE_AVXVNNI
  {
    .name = "avx-vnni",
    .needs = RNN_CPU_AVX2 | RNN_CPU_FMA | RNN_CPU_AVX_VNNI,
    .needs_text = "AVX2, FMA, AVX-VNNI",
    .gemv = rnn__gemv_avx2,
    .gemv_ex = rnn__gemv_ex_avx2,
    .gemv_bf16 = rnn__gemv_bf16_avx2,
    .gemv_int8 = rnn__gemv_int8_avxvnni,
    .gemv_batch_int8 = rnn__gemv_batch_int8_avxvnni,
    .sigmoid = rnn__sigmoid_avx2,
    .tanh = rnn__tanh_avx2,
    .lstm_cell = rnn__lstm_cell_avx2,
    .gru_cell = rnn__gru_cell_avx2,
    .gemv_batch = rnn__gemv_batch_avx2,
  },
#endif
#ifdef RNN_HAVE_AVX2
  {
    .name = "avx2",
    .needs = RNN_CPU_AVX2 | RNN_CPU_FMA,
    .needs_text = "AVX2, FMA",
    .gemv = rnn__gemv_avx2,
    .gemv_ex = rnn__gemv_ex_avx2,
    .gemv_bf16 = rnn__gemv_bf16_avx2,
    .gemv_int8 = rnn__gemv_int8_avx2,
    .gemv_batch_int8 = rnn__gemv_batch_int8_avx2,
    .sigmoid = rnn__sigmoid_avx2,
    .tanh = rnn__tanh_avx2,
    .lstm_cell = rnn__lstm_cell_avx2,
    .gru_cell = rnn__gru_cell_avx2,
    .gemv_batch = rnn__gemv_batch_avx2,
  },
#endif
  {
    .name = "generic",
    .needs = 0,
    .needs_text = "nothing",
    .gemv = rnn__gemv_generic,
    .gemv_ex = rnn__gemv_ex_generic,
    .gemv_bf16 = rnn__gemv_bf16_generic,
    .gemv_int8 = rnn__gemv_int8_generic,
    .sigmoid = rnn__sigmoid_generic,
    .tanh = rnn__tanh_generic,
    .lstm_cell = rnn__lstm_cell_generic,
    .gru_cell = rnn__gru_cell_generic,
    .gemv_batch = rnn__gemv_batch_generic,
  },
};

/* The RNN_CPU_* bits of this CPU (the compiler's cpuid and XGETBV checks:
 * a feature the OS does not save the registers of counts as absent). */
static unsigned
cpu_features (void)
{
  static gsize cached;

  if (g_once_init_enter (&cached)) {
    unsigned f = 0;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init ();
    if (__builtin_cpu_supports ("avx2"))
      f |= RNN_CPU_AVX2;
    if (__builtin_cpu_supports ("fma"))
      f |= RNN_CPU_FMA;
    if (__builtin_cpu_supports ("avx512f")
        && __builtin_cpu_supports ("avx512bw")
        && __builtin_cpu_supports ("avx512dq")
        && __builtin_cpu_supports ("avx512vl"))
      f |= RNN_CPU_AVX512;
    if (__builtin_cpu_supports ("avx512vnni"))
      f |= RNN_CPU_AVX512_VNNI;
    if (__builtin_cpu_supports ("avx512bf16"))
      f |= RNN_CPU_AVX512_BF16;
    if (__builtin_cpu_supports ("avxvnni"))
      f |= RNN_CPU_AVX_VNNI;
#endif
    /* 1 << 31 marks "computed", so a CPU without any feature is cached */
    g_once_init_leave (&cached, (gsize) (f | (1u << 31)));
  }
  return (unsigned) cached & ~(1u << 31);
}

const rnn_kernels *
rnn__kernels_at (int i)
{
  if (i < 0 || (size_t) i >= G_N_ELEMENTS (candidates))
    return NULL;
  return &candidates[i];
}

const rnn_kernels *
rnn__kernels_find (const char *name)
{
  for (size_t i = 0; name != NULL && i < G_N_ELEMENTS (candidates); i++)
    if (strcmp (candidates[i].name, name) == 0)
      return &candidates[i];
  return NULL;
}

bool
rnn__kernels_supported (const rnn_kernels *k, const char **missing)
{
  unsigned lack = k->needs & ~cpu_features ();

  if (missing != NULL)
    *missing = lack == 0 ? "" : k->needs_text;
  return lack == 0;
}

const rnn_kernels *
rnn__kernels_generic (void)
{
  return rnn__kernels_find ("generic");
}

const rnn_kernels *
rnn__kernels_avx2 (void)
{
  const rnn_kernels *k = rnn__kernels_find ("avx2");

  return k != NULL && rnn__kernels_supported (k, NULL) ? k : NULL;
}

static const rnn_kernels *
best_supported (void)
{
  for (size_t i = 0; i < G_N_ELEMENTS (candidates); i++)
    if (rnn__kernels_supported (&candidates[i], NULL))
      return &candidates[i];
  return rnn__kernels_generic ();
}

const rnn_kernels *
rnn__kernels_get (void)
{
  static gsize chosen;

  if (g_once_init_enter (&chosen)) {
    const rnn_kernels *k = best_supported ();
    const char *force = g_getenv ("RNN_KERNELS");

    if (force != NULL && force[0] != '\0') {
      const rnn_kernels *f = rnn__kernels_find (force);
      const char *missing = NULL;

      if (f == NULL) {
        GString *names = g_string_new (NULL);
        for (size_t i = 0; i < G_N_ELEMENTS (candidates); i++)
          g_string_append_printf (names, "%s%s", i ? ", " : "",
              candidates[i].name);
        g_warning ("RNN_KERNELS=%s: no such kernel set (this build has %s); "
            "using %s", force, names->str, k->name);
        g_string_free (names, TRUE);
      } else if (!rnn__kernels_supported (f, &missing)) {
        g_warning ("RNN_KERNELS=%s: the set needs %s, which this CPU does "
            "not all have; using %s", force, missing, k->name);
      } else {
        k = f;
      }
    }
    g_once_init_leave (&chosen, (gsize) k);
  }
  return (const rnn_kernels *) chosen;
}

const char *
rnn_kernels_name (void)
{
  return rnn__kernels_get ()->name;
}

/* ---------------------------------------------------------- input GEMM */

/* Y[n, rows] = X[n, cols] W^T + b for a few columns (a univariate signal
 * has one): per frame a handful of axpys over the rows, cheaper inline than
 * the set-up of any BLAS call (OpenBLAS's sgemm with K = 1 runs at about
 * 2 GF/s). y_r = b_r + sum_j w_rj x_j, summed in column order. */
static void
gemm_xwt_narrow (size_t n, int rows, int cols, const float *x, int ldx,
    const float *w, const float *b, float *y, int ldy)
{
  for (size_t t = 0; t < n; t++) {
    const float *xt = x + t * (size_t) ldx;
    float *yt = y + t * (size_t) ldy;

    if (cols == 1) {
      const float x0 = xt[0];
      if (b != NULL)
        for (int r = 0; r < rows; r++)
          yt[r] = b[r] + w[r] * x0;
      else
        for (int r = 0; r < rows; r++)
          yt[r] = w[r] * x0;
      continue;
    }
    for (int r = 0; r < rows; r++) {
      const float *wr = w + (size_t) r * (size_t) cols;
      float acc = b != NULL ? b[r] : 0.0f;
      for (int j = 0; j < cols; j++)
        acc += wr[j] * xt[j];
      yt[r] = acc;
    }
  }
}

/* The same for one row of W (a head with one output): a dot product per
 * frame, over eight partial sums so that it vectorises. */
static void
gemm_xwt_one_row (size_t n, int cols, const float *x, int ldx,
    const float *w, const float *b, float *y, int ldy)
{
  for (size_t t = 0; t < n; t++) {
    const float *xt = x + t * (size_t) ldx;
    float part[8] = { 0 }, acc;
    int j = 0;

    for (; j + 8 <= cols; j += 8)
      for (int q = 0; q < 8; q++)
        part[q] += w[j + q] * xt[j + q];
    acc = ((part[0] + part[4]) + (part[1] + part[5]))
        + ((part[2] + part[6]) + (part[3] + part[7]));
    for (; j < cols; j++)
      acc += w[j] * xt[j];
    y[t * (size_t) ldy] = b != NULL ? b[0] + acc : acc;
  }
}

void
rnn__gemm_xwt (size_t n, int rows, int cols, const float *x, int ldx,
    const float *w, const float *b, float *y, int ldy)
{
  float beta = 0.0f;

  if (n == 0 || rows == 0)
    return;
  if (cols > 0 && cols <= 4) {
    gemm_xwt_narrow (n, rows, cols, x, ldx, w, b, y, ldy);
    return;
  }
  if (rows == 1 && cols > 0) {
    gemm_xwt_one_row (n, cols, x, ldx, w, b, y, ldy);
    return;
  }
  if (b != NULL) {
    for (size_t t = 0; t < n; t++)
      memcpy (y + t * (size_t) ldy, b, (size_t) rows * sizeof (float));
    beta = 1.0f;
  }
  if (cols == 0) {
    if (b == NULL)
      for (size_t t = 0; t < n; t++)
        memset (y + t * (size_t) ldy, 0, (size_t) rows * sizeof (float));
    return;
  }
  if (n == 1)
    /* OpenBLAS 0.3.21's sgemm with one row is several times slower than
     * its sgemv. */
    cblas_sgemv (CblasRowMajor, CblasNoTrans, rows, cols, 1.0f, w, cols,
        x, 1, beta, y, 1);
  else
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) n, rows,
        cols, 1.0f, x, ldx, w, cols, beta, y, ldy);
}
