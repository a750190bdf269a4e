/* gst-rnn benchmarks: the roofline of a recurrent step on this machine.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   bench-roofline DIR T[,T...] [MIN_TIME [REPS]]
 *
 * Measures, on one core and without the engine (machine.c), what bounds a
 * batch-1 recurrent step: the read bandwidth of a buffer the size of each
 * model's weights (the cache level holding them follows from the size) and
 * the peak rate of the multiply-add instructions of each precision. Prints
 * a human-readable block (lines starting with '#'), then, for every
 * forecast model of DIR/models.tsv, every T and every precision, one line
 *
 *   roof  NAME  T  PREC  BOUND_STEPS_PER_S  SGEMV_STEPS_PER_S  BYTES  GBS
 *
 * The bound is the machine's: every weight is read once per step (the
 * input projection's once per call of T frames, as the engine does it with
 * one GEMM), from the level that holds all of them (with T > 1 frames per
 * call, a stack runs layer after layer over the call: from the level that
 * holds the layer's weights), and every multiply-add
 * runs at the peak of its instruction, whichever takes longer. Summed over
 * the layers (input I_0 = I, I_l = H) and the head (O outputs),
 *
 *   time per step = max (e G H H / BW(S),     2 G H H / PEAK(prec))
 *                 + max (4 G H I_l / BW(S) / T, 2 G H I_l / PEAK(f32))
 *                 + max (4 O H / BW(S),       2 O H / PEAK(f32))
 *
 * with e the bytes per recurrent weight (4 f32, 2 bf16, 1 int8 plus a
 * 4-byte scale per row) and S the bytes of all weights. The precision is
 * that of the recurrent weights W_hh (what the `precision` property
 * converts); W_ih and the head stay float32 in every precision. The gate
 * nonlinearities and element-wise work are left out: a step can only
 * approach the bound, never reach it (at H = 64 they are about a third of
 * a step).
 *
 * SGEMV_STEPS_PER_S is a reference line, not a bound: the step if its
 * products ran at the rates OpenBLAS reaches on this machine (sgemv for the
 * recurrent product at G*H x H, sgemm at the call's shape T x G*H x I_l for
 * the input, sgemv for the head), f32 only.
 */
#include "benchutil.h"
#include "kernels.h"
#include "machine.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double min_time = 0.2;
static int reps = 3;

static float *
rand_floats (size_t n, unsigned seed)
{
  float *v = malloc ((n ? n : 1) * sizeof *v);
  size_t i;

  srand (seed);
  for (i = 0; i < n; i++)
    v[i] = 2.0f * rand () / RAND_MAX - 1.0f;
  return v;
}

/* ------------------------------------------------------------ sgemm */

typedef struct {
  int m, n, k;
  float *a, *b, *c;
} gemm_job;

static void
gemm_body (void *data, uint64_t iters)
{
  gemm_job *g = data;
  uint64_t i;

  /* C[m, n] = A[m, k] B[n, k]^T: X W^T as the engine's input projection. */
  for (i = 0; i < iters; i++)
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, g->m, g->n, g->k,
        1.0f, g->a, g->k, g->b, g->k, 0.0f, g->c, g->n);
}

/* GF/s of sgemm at m x n x k. */
static double
sgemm_rate (int m, int n, int k)
{
  gemm_job g = { m, n, k, rand_floats ((size_t) m * k, 1),
    rand_floats ((size_t) n * k, 2), rand_floats ((size_t) m * n, 3) };
  double r = bu_median_rate (gemm_body, &g, min_time, reps);

  free (g.a);
  free (g.b);
  free (g.c);
  return r * 2.0 * m * n * k * 1e-9;
}

/* ------------------------------------------------------------ GEMV */

typedef struct {
  int rows, cols;
  float *w, *x, *y;
} gemv_job;

static void
sgemv_body (void *data, uint64_t iters)
{
  gemv_job *g = data;
  uint64_t i;

  for (i = 0; i < iters; i++)
    cblas_sgemv (CblasRowMajor, CblasNoTrans, g->rows, g->cols, 1.0f, g->w,
        g->cols, g->x, 1, 0.0f, g->y, 1);
}

/* GF/s of OpenBLAS sgemv at rows x cols. */
static double
sgemv_rate (int rows, int cols)
{
  gemv_job g = { .rows = rows, .cols = cols,
    .w = rand_floats ((size_t) rows * cols, 4), .x = rand_floats (cols, 5),
    .y = rand_floats (rows, 6) };
  double r = bu_median_rate (sgemv_body, &g, min_time, reps);

  free (g.w);
  free (g.x);
  free (g.y);
  return r * 2.0 * rows * cols * 1e-9;
}

/* ------------------------------------------------------ activations */

/* Largest absolute and relative errors of @k's sigmoid and tanh against
 * double precision, over 2^22 points evenly spread on [-20, 20] (the whole
 * range where neither function is saturated in float) plus 0 and +-inf-like
 * extremes. The parity tests need about 1e-7. */
static void
act_accuracy (const rnn_kernels *k)
{
  const size_t n = (size_t) 1 << 22;
  float *x = malloc ((n + 4) * sizeof *x), *y = malloc ((n + 4) * sizeof *y);
  double abs_s = 0, rel_s = 0, abs_t = 0, rel_t = 0;
  size_t i;

  for (i = 0; i < n; i++)
    x[i] = (float) (-20.0 + 40.0 * i / (n - 1));
  x[n] = 0.0f;
  x[n + 1] = 1e-30f;
  x[n + 2] = 100.0f;
  x[n + 3] = -100.0f;
  k->sigmoid (x, y, n + 4);
  for (i = 0; i < n + 4; i++) {
    double ref = 1.0 / (1.0 + exp (-(double) x[i]));
    double e = fabs (y[i] - ref);
    abs_s = MAX (abs_s, e);
    rel_s = MAX (rel_s, e / MAX (fabs (ref), 1e-30));
  }
  k->tanh (x, y, n + 4);
  for (i = 0; i < n + 4; i++) {
    double ref = tanh ((double) x[i]);
    double e = fabs (y[i] - ref);
    abs_t = MAX (abs_t, e);
    rel_t = MAX (rel_t, ref != 0 ? e / fabs (ref) : e);
  }
  printf ("# accuracy of the %s activations against double on [-20, 20]: "
      "sigmoid max abs %.2e rel %.2e, tanh max abs %.2e rel %.2e\n",
      k->name, abs_s, rel_s, abs_t, rel_t);
  free (x);
  free (y);
}

/* -------------------------------------------------------- memo tables */

#define MAX_SHAPES 512

typedef struct {
  double a, b, c;
  double v;
} memo;

static memo memos[3][MAX_SHAPES];
static int n_memos[3];

enum { M_SGEMV, M_SGEMM, M_READ };

static double *
memo_find (int table, double a, double b, double c, int *fresh)
{
  memo *t = memos[table];
  int i;

  for (i = 0; i < n_memos[table]; i++)
    if (t[i].a == a && t[i].b == b && t[i].c == c) {
      *fresh = 0;
      return &t[i].v;
    }
  if (i == MAX_SHAPES) {
    fprintf (stderr, "bench-roofline: too many shapes\n");
    exit (1);
  }
  t[i].a = a;
  t[i].b = b;
  t[i].c = c;
  n_memos[table]++;
  *fresh = 1;
  return &t[i].v;
}

static double
sgemv_lookup (int rows, int cols)
{
  int fresh;
  double *v = memo_find (M_SGEMV, rows, cols, 0, &fresh);

  if (fresh) {
    *v = sgemv_rate (rows, cols);
    printf ("# OpenBLAS sgemv %5d x %-4d %6.1f GF/s\n", rows, cols, *v);
    fflush (stdout);
  }
  return *v;
}

static double
sgemm_lookup (int m, int n, int k)
{
  int fresh;
  double *v = memo_find (M_SGEMM, m, n, k, &fresh);

  if (fresh) {
    *v = sgemm_rate (m, n, k);
    printf ("# OpenBLAS sgemm T=%-4d x %-4d x K=%-4d %6.1f GF/s\n", m, n, k,
        *v);
    fflush (stdout);
  }
  return *v;
}

static double
read_lookup (size_t bytes)
{
  int fresh;
  double *v = memo_find (M_READ, (double) bytes, 0, 0, &fresh);

  if (fresh) {
    *v = bm_read_gbs (bytes, min_time, reps);
    printf ("# read %9zu bytes: %6.1f GB/s\n", bytes, *v);
    fflush (stdout);
  }
  return *v;
}

static int
cell_gates (const char *cell)
{
  if (strcmp (cell, "lstm") == 0)
    return 4;
  if (strcmp (cell, "gru") == 0)
    return 3;
  return 1;
}

/* Bytes of a rows x cols matrix in precision @prec (see the header). */
static double
matrix_bytes (int prec, double rows, double cols)
{
  static const double per[3] = { 4, 2, 1 };
  return per[prec] * rows * cols + (prec == 2 ? 4 * rows : 0);
}

static const char *const prec_names[3] = { "f32", "bf16", "int8" };

int
main (int argc, char **argv)
{
  bu_model_entry models[256];
  int ts[16], n_models, n_ts, i, k, l;
  bm_peak_set pk;
  double peaks[3];

  if (argc < 3) {
    fprintf (stderr, "usage: %s DIR T[,T...] [MIN_TIME [REPS]]\n", argv[0]);
    return 2;
  }
  n_models = bu_read_manifest (argv[1], models, 256);
  n_ts = bu_parse_list (argv[2], ts, 16);
  if (argc > 3)
    min_time = atof (argv[3]);
  if (argc > 4)
    reps = atoi (argv[4]);
  if (n_models < 0 || n_ts < 1)
    return 2;

  printf ("# clock: %s; measuring loops: %s\n", bu_clock_name (), bm_isa ());
  bm_peaks (&pk, min_time, reps);
  printf ("# peak f32 multiply-add: %.1f GF/s (%s)\n", pk.f32,
      pk.f32_isa ? pk.f32_isa : "-");
  printf ("# peak bf16 pair dot product: %.1f G op/s (%s)\n", pk.bf16,
      pk.bf16_isa ? pk.bf16_isa : "not on this CPU");
  printf ("# peak u8 x s8 quad dot product: %.1f G op/s (%s)\n", pk.int8,
      pk.int8_isa ? pk.int8_isa : "not on this CPU");
  printf ("mach\tpeak\tf32\t%.2f\nmach\tpeak\tbf16\t%.2f\n"
      "mach\tpeak\tint8\t%.2f\n", pk.f32, pk.bf16, pk.int8);
  /* without the instruction, the reduced precisions are bound by the f32
   * units (the kernels widen to f32 or use 16-bit products) */
  peaks[0] = pk.f32;
  peaks[1] = pk.bf16 > 0 ? pk.bf16 : pk.f32;
  peaks[2] = pk.int8 > 0 ? pk.int8 : pk.f32;
  {
    static const size_t levels[] = { 32 << 10, 256 << 10, 1 << 20, 4 << 20,
      32 << 20, 256 << 20 };
    for (size_t q = 0; q < sizeof levels / sizeof levels[0]; q++)
      printf ("mach\tread\t%zu\t%.2f\n", levels[q], read_lookup (levels[q]));
  }
  printf ("# OpenBLAS sgemm 1024^3: %.1f GF/s\n", sgemm_rate (1024, 1024,
          1024));
  act_accuracy (rnn__kernels_generic ());
  if (rnn__kernels_get () != rnn__kernels_generic ())
    act_accuracy (rnn__kernels_get ());
  fflush (stdout);

  for (i = 0; i < n_models; i++) {
    bu_model_entry *e = &models[i];
    int G = cell_gates (e->cell), H = e->hidden, O = 1;

    if (strcmp (e->task, "forecast") != 0)
      continue;
    for (int p = 0; p < 3; p++) {
      double S = matrix_bytes (0, O, H), bw;

      for (l = 0; l < e->layers; l++)
        S += matrix_bytes (p, (double) G * H, H)
            + matrix_bytes (0, (double) G * H, l == 0 ? e->input : H);
      bw = read_lookup ((size_t) S);
      for (k = 0; k < n_ts; k++) {
        double t_step = 0, t_blas = 0;

        for (l = 0; l < e->layers; l++) {
          int in = l == 0 ? e->input : H;
          double f_hh = 2.0 * G * H * H, f_ih = 2.0 * G * H * in;
          /* a call of T > 1 frames runs layer after layer over the block:
           * then only that layer's weights cycle through the cache */
          if (ts[k] > 1 && e->layers > 1)
            bw = read_lookup ((size_t) (matrix_bytes (p, (double) G * H, H)
                    + matrix_bytes (0, (double) G * H, in)));

          t_step += MAX (matrix_bytes (p, (double) G * H, H) / (bw * 1e9),
              f_hh / (peaks[p] * 1e9));
          t_step += MAX (matrix_bytes (0, (double) G * H, in) / (bw * 1e9)
              / ts[k], f_ih / (peaks[0] * 1e9));
          if (p == 0)
            t_blas += f_hh / (sgemv_lookup (G * H, H) * 1e9)
                + f_ih / ((ts[k] == 1 ? sgemv_lookup (G * H, in)
                        : sgemm_lookup (ts[k], G * H, in)) * 1e9);
        }
        t_step += MAX (matrix_bytes (0, O, H) / (bw * 1e9),
            2.0 * O * H / (peaks[0] * 1e9));
        bw = read_lookup ((size_t) S);
        if (p == 0)
          t_blas += 2.0 * O * H / (sgemv_lookup (O, H) * 1e9);
        printf ("roof\t%s\t%d\t%s\t%.1f\t%.1f\t%.0f\t%.2f\n", e->name,
            ts[k], prec_names[p], 1.0 / t_step, p == 0 ? 1.0 / t_blas : 0.0,
            S, bw);
        fflush (stdout);
      }
    }
  }
  return 0;
}
