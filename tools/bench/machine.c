/* gst-rnn benchmarks: what the machine can do, measured without the engine.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Read bandwidth over a buffer of a given size (which cache level holds it
 * follows from the size) and the peak rate of the multiply-add
 * instructions a recurrent step needs (fp32 FMA, bf16 pair dot products,
 * u8 x s8 quad dot products). The loops are written here with intrinsics,
 * one function per instruction set (target attributes), and chosen from the
 * CPU at run time: the roofline must not depend on how well the engine's
 * own kernels are written.
 */
#include "machine.h"
#include "benchutil.h"

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

/* BENCH_ISA=avx2 measures the machine as a CPU with AVX2 and FMA only
 * would be (no AVX-512, no AVX-VNNI): with RNN_KERNELS=avx2 on the engine
 * side, an AVX-512 machine then stands in for an AVX2-only one (same
 * caches and clock, half the vector width). */
static int
avx2_only (void)
{
  const char *isa = getenv ("BENCH_ISA");

  return isa != NULL && strcmp (isa, "avx2") == 0;
}

#define HAS(feature) (__builtin_cpu_supports (feature) && \
    (!avx2_only () || strncmp (feature, "avx512", 6) != 0) && \
    (!avx2_only () || strcmp (feature, "avxvnni") != 0))

/* ------------------------------------------------------ read bandwidth */

typedef struct {
  const float *buf;
  size_t n;            /* floats, a multiple of 128 */
  int alternate;       /* every other pass runs from the end to the start */
  uint64_t pass;
  float sink;
} read_job;

/* The offset of the k-th block of @block floats in this pass: a buffer
 * about the size of a cache level loses its oldest lines in a one-way
 * sweep just before they are read again (LRU), while a sweep back starts on
 * the lines still there; the bandwidth at a size is the better of both. */
#define READ_AT(r, rev, k, block) ((rev) ? (r)->n - (block) - (k) : (k))

/* Eight independent sums, one 64-byte load each per step: enough in flight
 * for two loads per cycle with the add latency of current cores. */
__attribute__ ((target ("avx512f"))) static void
read_avx512 (void *data, uint64_t iters)
{
  read_job *r = data;

  for (uint64_t it = 0; it < iters; it++) {
    __m512 s[8];
    for (int k = 0; k < 8; k++)
      s[k] = _mm512_setzero_ps ();
    int rev = r->alternate && (r->pass++ & 1);
    for (size_t k = 0; k < r->n; k += 128) {
      size_t i = READ_AT (r, rev, k, 128);
      s[0] = _mm512_add_ps (s[0], _mm512_load_ps (r->buf + i));
      s[1] = _mm512_add_ps (s[1], _mm512_load_ps (r->buf + i + 16));
      s[2] = _mm512_add_ps (s[2], _mm512_load_ps (r->buf + i + 32));
      s[3] = _mm512_add_ps (s[3], _mm512_load_ps (r->buf + i + 48));
      s[4] = _mm512_add_ps (s[4], _mm512_load_ps (r->buf + i + 64));
      s[5] = _mm512_add_ps (s[5], _mm512_load_ps (r->buf + i + 80));
      s[6] = _mm512_add_ps (s[6], _mm512_load_ps (r->buf + i + 96));
      s[7] = _mm512_add_ps (s[7], _mm512_load_ps (r->buf + i + 112));
    }
    for (int k = 1; k < 8; k++)
      s[0] = _mm512_add_ps (s[0], s[k]);
    r->sink += _mm512_reduce_add_ps (s[0]);
  }
}

__attribute__ ((target ("avx2"))) static void
read_avx2 (void *data, uint64_t iters)
{
  read_job *r = data;

  for (uint64_t it = 0; it < iters; it++) {
    __m256 s[8];
    for (int k = 0; k < 8; k++)
      s[k] = _mm256_setzero_ps ();
    int rev = r->alternate && (r->pass++ & 1);
    for (size_t k = 0; k < r->n; k += 64) {
      size_t i = READ_AT (r, rev, k, 64);
      s[0] = _mm256_add_ps (s[0], _mm256_load_ps (r->buf + i));
      s[1] = _mm256_add_ps (s[1], _mm256_load_ps (r->buf + i + 8));
      s[2] = _mm256_add_ps (s[2], _mm256_load_ps (r->buf + i + 16));
      s[3] = _mm256_add_ps (s[3], _mm256_load_ps (r->buf + i + 24));
      s[4] = _mm256_add_ps (s[4], _mm256_load_ps (r->buf + i + 32));
      s[5] = _mm256_add_ps (s[5], _mm256_load_ps (r->buf + i + 40));
      s[6] = _mm256_add_ps (s[6], _mm256_load_ps (r->buf + i + 48));
      s[7] = _mm256_add_ps (s[7], _mm256_load_ps (r->buf + i + 56));
    }
    for (int k = 1; k < 8; k++)
      s[0] = _mm256_add_ps (s[0], s[k]);
    float t[8];
    _mm256_storeu_ps (t, s[0]);
    r->sink += t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
  }
}

static void
read_scalar (void *data, uint64_t iters)
{
  read_job *r = data;

  for (uint64_t it = 0; it < iters; it++) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = 0; i < r->n; i += 4) {
      s0 += r->buf[i];
      s1 += r->buf[i + 1];
      s2 += r->buf[i + 2];
      s3 += r->buf[i + 3];
    }
    r->sink += s0 + s1 + s2 + s3;
  }
}

const char *
bm_isa (void)
{
  __builtin_cpu_init ();
  if (HAS ("avx512f"))
    return "avx512";
  if (HAS ("avx2"))
    return "avx2";
  return "scalar";
}

double
bm_read_gbs (size_t bytes, double min_time, int reps)
{
  read_job r = { 0 };
  size_t n = (bytes / sizeof (float) + 127) & ~(size_t) 127;
  float *buf = NULL;
  bu_body body;
  double rate, alt;

  if (n < 128)
    n = 128;
  if (posix_memalign ((void **) &buf, 64, n * sizeof (float)) != 0)
    return 0;
  for (size_t i = 0; i < n; i++)
    buf[i] = (float) (i & 7);
  r.buf = buf;
  r.n = n;
  body = strcmp (bm_isa (), "avx512") == 0 ? read_avx512
      : strcmp (bm_isa (), "avx2") == 0 ? read_avx2 : read_scalar;
  rate = bu_best_rate (body, &r, min_time, reps);
  r.alternate = 1;
  alt = bu_best_rate (body, &r, min_time, reps);
  if (alt > rate)
    rate = alt;
  free (buf);
  return rate * (double) (n * sizeof (float)) * 1e-9;
}

/* ------------------------------------------------------------- peaks */

/* Each body runs 1024 steps of 16 independent multiply-add chains (enough
 * to cover a 4-cycle latency on two pipes), on register operands only. */
#define CHAINS 16
#define STEPS 1024

typedef struct {
  float sink;
} peak_job;

__attribute__ ((target ("avx512f"))) static void
fma_avx512 (void *data, uint64_t iters)
{
  __m512 a[CHAINS], b = _mm512_set1_ps (0.999f), c = _mm512_set1_ps (1e-3f);

  for (int k = 0; k < CHAINS; k++)
    a[k] = _mm512_set1_ps ((float) k);
  for (uint64_t it = 0; it < iters; it++)
    for (int s = 0; s < STEPS; s++)
#pragma GCC unroll 16
      for (int k = 0; k < CHAINS; k++)
        a[k] = _mm512_fmadd_ps (a[k], b, c);
  for (int k = 1; k < CHAINS; k++)
    a[0] = _mm512_add_ps (a[0], a[k]);
  ((peak_job *) data)->sink += _mm512_reduce_add_ps (a[0]);
}

__attribute__ ((target ("avx2,fma"))) static void
fma_avx2 (void *data, uint64_t iters)
{
  __m256 a[CHAINS / 2], b = _mm256_set1_ps (0.999f), c =
      _mm256_set1_ps (1e-3f);

  for (int k = 0; k < CHAINS / 2; k++)
    a[k] = _mm256_set1_ps ((float) k);
  for (uint64_t it = 0; it < iters; it++)
    for (int s = 0; s < 2 * STEPS; s++)
#pragma GCC unroll 8
      for (int k = 0; k < CHAINS / 2; k++)
        a[k] = _mm256_fmadd_ps (a[k], b, c);
  float t[8];
  for (int k = 1; k < CHAINS / 2; k++)
    a[0] = _mm256_add_ps (a[0], a[k]);
  _mm256_storeu_ps (t, a[0]);
  ((peak_job *) data)->sink += t[0];
}

/* vdpbf16ps: per 32-bit lane, two bf16 products added to an fp32 sum. */
__attribute__ ((target ("avx512f,avx512bf16"))) static void
bf16_avx512 (void *data, uint64_t iters)
{
  __m512 a[CHAINS];
  __m512bh x = (__m512bh) _mm512_set1_epi16 (0x3f80);   /* 1.0 */
  __m512bh y = (__m512bh) _mm512_set1_epi16 (0x3a83);   /* ~1e-3 */

  for (int k = 0; k < CHAINS; k++)
    a[k] = _mm512_set1_ps ((float) k);
  for (uint64_t it = 0; it < iters; it++)
    for (int s = 0; s < STEPS; s++)
#pragma GCC unroll 16
      for (int k = 0; k < CHAINS; k++)
        a[k] = _mm512_dpbf16_ps (a[k], x, y);
  for (int k = 1; k < CHAINS; k++)
    a[0] = _mm512_add_ps (a[0], a[k]);
  ((peak_job *) data)->sink += _mm512_reduce_add_ps (a[0]);
}

/* vpdpbusd: per 32-bit lane, four u8 x s8 products added to an s32 sum. */
__attribute__ ((target ("avx512f,avx512vnni"))) static void
vnni_avx512 (void *data, uint64_t iters)
{
  __m512i a[CHAINS];
  __m512i x = _mm512_set1_epi8 (3), y = _mm512_set1_epi8 (-2);

  for (int k = 0; k < CHAINS; k++)
    a[k] = _mm512_set1_epi32 (k);
  for (uint64_t it = 0; it < iters; it++)
    for (int s = 0; s < STEPS; s++)
#pragma GCC unroll 16
      for (int k = 0; k < CHAINS; k++)
        a[k] = _mm512_dpbusd_epi32 (a[k], x, y);
  for (int k = 1; k < CHAINS; k++)
    a[0] = _mm512_add_epi32 (a[0], a[k]);
  ((peak_job *) data)->sink += (float) _mm512_reduce_add_epi32 (a[0]);
}

/* 256-bit AVX-VNNI (vpdpbusd with the VEX encoding). */
__attribute__ ((target ("avx2,avxvnni"))) static void
vnni_avx256 (void *data, uint64_t iters)
{
  __m256i a[CHAINS / 2];
  __m256i x = _mm256_set1_epi8 (3), y = _mm256_set1_epi8 (-2);

  for (int k = 0; k < CHAINS / 2; k++)
    a[k] = _mm256_set1_epi32 (k);
  for (uint64_t it = 0; it < iters; it++)
    for (int s = 0; s < 2 * STEPS; s++)
#pragma GCC unroll 8
      for (int k = 0; k < CHAINS / 2; k++)
        a[k] = _mm256_dpbusd_avx_epi32 (a[k], x, y);
  for (int k = 1; k < CHAINS / 2; k++)
    a[0] = _mm256_add_epi32 (a[0], a[k]);
  ((peak_job *) data)->sink += (float) _mm256_extract_epi32 (a[0], 0);
}

static double
peak (bu_body body, double ops_per_iter, double min_time, int reps)
{
  peak_job j = { 0 };

  return bu_best_rate (body, &j, min_time, reps) * ops_per_iter * 1e-9;
}

/* Operations counted as 2 per multiply-add (a bf16 pair or a u8 x s8 quad
 * is 2 or 4 multiply-adds per lane). */
void
bm_peaks (bm_peak_set *p, double min_time, int reps)
{
  memset (p, 0, sizeof *p);
  __builtin_cpu_init ();
  if (HAS ("avx512f")) {
    p->f32 = peak (fma_avx512, 2.0 * 16 * CHAINS * STEPS, min_time, reps);
    p->f32_isa = "avx512 vfmadd231ps";
  } else if (HAS ("avx2")
      && HAS ("fma")) {
    p->f32 = peak (fma_avx2, 2.0 * 8 * CHAINS * STEPS, min_time, reps);
    p->f32_isa = "avx2 vfmadd231ps";
  }
  if (HAS ("avx512bf16")) {
    p->bf16 = peak (bf16_avx512, 4.0 * 16 * CHAINS * STEPS, min_time, reps);
    p->bf16_isa = "avx512 vdpbf16ps";
  }
  if (HAS ("avx512vnni")) {
    p->int8 = peak (vnni_avx512, 8.0 * 16 * CHAINS * STEPS, min_time, reps);
    p->int8_isa = "avx512 vpdpbusd";
  } else if (HAS ("avxvnni")) {
    p->int8 = peak (vnni_avx256, 8.0 * 8 * CHAINS * STEPS, min_time, reps);
    p->int8_isa = "avx-vnni vpdpbusd";
  }
}
