/* gst-rnn benchmarks: the roofline of the engine on this machine.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   bench-roofline DIR T[,T...] [MIN_TIME [REPS]]
 *
 * Measures, single-threaded, the rates that bound a batch-1 recurrent step
 * and prints them as a human-readable block (lines starting with '#'):
 * sgemm 1024^3 (the machine's compute peak through OpenBLAS), a 256 MiB
 * read (DRAM bandwidth), OpenBLAS sgemv and the engine's own packed GEMV at
 * each model's G*H x H, sgemm at each call's input shape, and the engine's
 * activation cost per element. Then, for every forecast model of
 * DIR/models.tsv and every T, one machine-readable line
 *
 *   roof  NAME  T  BOUND_STEPS_PER_S  GEMV_GFS  SGEMM_GFS  T_ACT_NS
 *
 * where, summed over the layers (l = 0 .. L-1, input I_0 = I, I_l = H),
 *
 *   time per step = 2 G H H / gemv_rate(G H, H)          recurrent product
 *                 + 2 G H I_l / sgemm_rate(T, G H, I_l)   input projection
 *                 + A H t_act                             activations
 *
 * (at T = 1 the input rate is the best of sgemm with one row, OpenBLAS sgemv
 * and the engine's GEMV at G H x I_l: OpenBLAS 0.3.21's one-row sgemm is
 * several times slower than a GEMV, and the bound must not be beatable by
 * merely choosing the other routine)
 * with A the activations per unit and step: 5 for an LSTM (sigmoid i, f, o,
 * tanh g, tanh c), 3 for a GRU (sigmoid r, z, tanh n), 1 for an RNN. The
 * head (2 H FLOPs per frame) and element-wise adds are left out, so the
 * bound is slightly optimistic. GEMV_GFS and SGEMM_GFS are those of the
 * first layer.
 */
#include "benchutil.h"
#include "kernels.h"

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
  rnn_packed packed;
  const rnn_kernels *kern;
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

static void
engine_gemv_body (void *data, uint64_t iters)
{
  gemv_job *g = data;
  uint64_t i;

  for (i = 0; i < iters; i++)
    g->kern->gemv (&g->packed, g->x, NULL, g->y);
}

/* GF/s of OpenBLAS sgemv and of the engine's GEMV at rows x cols. */
static void
gemv_rates (int rows, int cols, double *blas, double *engine)
{
  gemv_job g = { .rows = rows, .cols = cols,
    .w = rand_floats ((size_t) rows * cols, 4), .x = rand_floats (cols, 5),
    .y = rand_floats (rows, 6) };
  rnn_error err;
  double flops = 2.0 * rows * cols * 1e-9;

  g.kern = rnn__kernels_get ();
  *blas = bu_median_rate (sgemv_body, &g, min_time, reps) * flops;
  if (rnn__packed_init (&g.packed, g.w, rows, cols, &err) != RNN_OK) {
    fprintf (stderr, "%s\n", err.msg);
    exit (1);
  }
  *engine = bu_median_rate (engine_gemv_body, &g, min_time, reps) * flops;
  rnn__packed_clear (&g.packed);
  free (g.w);
  free (g.x);
  free (g.y);
}

/* ------------------------------------------------------ activations */

typedef struct {
  float *x, *y;
  size_t n;
  const rnn_kernels *kern;
} act_job;

static void
act_body (void *data, uint64_t iters)
{
  act_job *a = data;
  uint64_t i;

  for (i = 0; i < iters; i++) {
    a->kern->sigmoid (a->x, a->y, a->n);
    a->kern->tanh (a->x, a->y + a->n, a->n);
  }
}

/* ns per element of the engine's activations (mean of sigmoid and tanh) on
 * cache-resident vectors of @n values in [-4, 4]. */
static double
act_cost_ns (size_t n)
{
  act_job a = { rand_floats (n, 7), malloc (2 * n * sizeof (float)), n,
    rnn__kernels_get () };
  size_t i;
  double r;

  for (i = 0; i < n; i++)
    a.x[i] *= 4.0f;
  r = bu_median_rate (act_body, &a, min_time, reps);
  free (a.x);
  free (a.y);
  return 1e9 / (r * 2.0 * n);
}

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

/* -------------------------------------------------------------- DRAM */

typedef struct {
  float *buf;
  size_t n;
  float sink;
} read_job;

static void
read_body (void *data, uint64_t iters)
{
  read_job *r = data;
  uint64_t it;

  for (it = 0; it < iters; it++) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i;

    for (i = 0; i + 4 <= r->n; i += 4) {
      s0 += r->buf[i];
      s1 += r->buf[i + 1];
      s2 += r->buf[i + 2];
      s3 += r->buf[i + 3];
    }
    r->sink += s0 + s1 + s2 + s3;
  }
}

/* -------------------------------------------------------- memo tables */

#define MAX_SHAPES 256

typedef struct {
  int a, b, c;
  double v1, v2;
} memo;

static memo gemv_memo[MAX_SHAPES], gemm_memo[MAX_SHAPES];
static int n_gemv_memo, n_gemm_memo;

static void
gemv_lookup (int rows, int cols, double *blas, double *engine)
{
  int i;

  for (i = 0; i < n_gemv_memo; i++)
    if (gemv_memo[i].a == rows && gemv_memo[i].b == cols)
      break;
  if (i == n_gemv_memo) {
    gemv_memo[i].a = rows;
    gemv_memo[i].b = cols;
    gemv_rates (rows, cols, &gemv_memo[i].v1, &gemv_memo[i].v2);
    printf ("# gemv %5d x %-4d  OpenBLAS sgemv %6.1f GF/s   engine %6.1f "
        "GF/s (%s)\n", rows, cols, gemv_memo[i].v1, gemv_memo[i].v2,
        rnn__kernels_get ()->name);
    fflush (stdout);
    n_gemv_memo++;
  }
  *blas = gemv_memo[i].v1;
  *engine = gemv_memo[i].v2;
}

static double
gemm_lookup (int m, int n, int k)
{
  int i;

  for (i = 0; i < n_gemm_memo; i++)
    if (gemm_memo[i].a == m && gemm_memo[i].b == n && gemm_memo[i].c == k)
      return gemm_memo[i].v1;
  gemm_memo[i].a = m;
  gemm_memo[i].b = n;
  gemm_memo[i].c = k;
  gemm_memo[i].v1 = sgemm_rate (m, n, k);
  printf ("# sgemm T=%-4d x %-4d x K=%-4d %6.1f GF/s\n", m, n, k,
      gemm_memo[i].v1);
  fflush (stdout);
  n_gemm_memo++;
  return gemm_memo[i].v1;
}

static int
cell_gates (const char *cell, int *acts)
{
  if (strcmp (cell, "lstm") == 0) {
    *acts = 5;
    return 4;
  }
  if (strcmp (cell, "gru") == 0) {
    *acts = 3;
    return 3;
  }
  *acts = 1;
  return 1;
}

int
main (int argc, char **argv)
{
  bu_model_entry models[256];
  int ts[16], n_models, n_ts, i, k, l;
  double t_act;

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

  printf ("# engine kernels: %s\n", rnn__kernels_get ()->name);
  printf ("# sgemm 1024^3: %.1f GF/s\n", sgemm_rate (1024, 1024, 1024));
  {
    read_job r = { .buf = rand_floats ((size_t) 64 << 20, 8),
      .n = (size_t) 64 << 20 };
    double rate = bu_median_rate (read_body, &r, min_time, reps);

    printf ("# read 256 MiB: %.1f GB/s\n", rate * 256.0 * 1048576 * 1e-9);
    free (r.buf);
  }
  act_accuracy (rnn__kernels_generic ());
  if (rnn__kernels_get () != rnn__kernels_generic ())
    act_accuracy (rnn__kernels_get ());
  t_act = act_cost_ns (512);
  printf ("# activations (engine sigmoid/tanh, 512 values): %.2f ns per "
      "element\n", t_act);
  fflush (stdout);

  for (i = 0; i < n_models; i++) {
    bu_model_entry *e = &models[i];
    int acts, G = cell_gates (e->cell, &acts), H = e->hidden;

    if (strcmp (e->task, "forecast") != 0)
      continue;
    for (k = 0; k < n_ts; k++) {
      double t_step = 0, gemv0 = 0, gemm0 = 0;

      for (l = 0; l < e->layers; l++) {
        int in = l == 0 ? e->input : H;
        double blas, eng, gemm;

        gemv_lookup (G * H, H, &blas, &eng);
        gemm = gemm_lookup (ts[k], G * H, in);
        if (ts[k] == 1) {
          /* one frame: a GEMV is the faster route for the input too */
          double b1, e1;

          gemv_lookup (G * H, in, &b1, &e1);
          gemm = MAX (gemm, MAX (b1, e1));
        }
        t_step += 2.0 * G * H * H / (eng * 1e9)
            + 2.0 * G * H * in / (gemm * 1e9) + acts * H * t_act * 1e-9;
        if (l == 0) {
          gemv0 = eng;
          gemm0 = gemm;
        }
      }
      printf ("roof\t%s\t%d\t%.1f\t%.2f\t%.2f\t%.3f\n", e->name, ts[k],
          1.0 / t_step, gemv0, gemm0, t_act);
      fflush (stdout);
    }
  }
  return 0;
}
