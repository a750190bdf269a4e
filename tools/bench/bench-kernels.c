/* gst-rnn: the kernel sets side by side, one recurrent step's pieces at a
 * time: the GEMV of a 4H x H recurrent matrix in each precision and the
 * fused LSTM cell (gate nonlinearities), for every set this CPU supports.
 * Run pinned to one core: taskset -c 1 build/tools/bench/bench-kernels
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/* ns per call of @fn, the median of 5 runs of at least 20 ms each */
typedef void (*call_fn) (void *ctx);

static double
time_ns (call_fn fn, void *ctx)
{
  double runs[5];

  for (int r = 0; r < 5; r++) {
    long n = 0;
    double t0 = now (), t;
    do {
      for (int i = 0; i < 64; i++)
        fn (ctx);
      n += 64;
      t = now () - t0;
    } while (t < 0.02);
    runs[r] = t / (double) n * 1e9;
  }
  for (int i = 0; i < 5; i++)
    for (int j = i + 1; j < 5; j++)
      if (runs[j] < runs[i]) {
        double s = runs[i];
        runs[i] = runs[j];
        runs[j] = s;
      }
  return runs[2];
}

typedef struct {
  const rnn_kernels *k;
  rnn_packed *p;
  float *x, *y, *g, *c, *h;
  int H;
} ctx_t;

static void
call_gemv (void *v)
{
  ctx_t *c = v;
  rnn__kernels_gemv (c->k, c->p, c->x, c->y, c->y);
}

static void
call_cell (void *v)
{
  ctx_t *c = v;
  memcpy (c->g, c->y, sizeof (float) * 4 * (size_t) c->H);
  c->k->lstm_cell (c->g, c->c, c->h, c->H);
}

int
main (void)
{
  static const int Hs[] = { 64, 128, 256, 512 };
  static const rnn_precision precs[] = { RNN_PRECISION_F32,
    RNN_PRECISION_BF16, RNN_PRECISION_INT8 };

  printf ("# kernel sets: GEMV 4H x H (ns per call, and Gop/s counting "
      "2 rows x cols) and the fused LSTM cell (ns per step)\n");
  printf ("%-18s %5s %14s %14s %14s %10s\n", "set", "H", "f32", "bf16",
      "int8", "lstm cell");
  for (int i = 0; rnn__kernels_at (i) != NULL; i++) {
    const rnn_kernels *k = rnn__kernels_at (i);
    const char *missing;

    if (!rnn__kernels_supported (k, &missing)) {
      printf ("%-18s skipped: this CPU lacks some of %s\n", k->name,
          missing);
      continue;
    }
    for (size_t hi = 0; hi < G_N_ELEMENTS (Hs); hi++) {
      const int H = Hs[hi], R = 4 * H;
      float *w = malloc (sizeof (float) * (size_t) R * (size_t) H);
      ctx_t c = { k, NULL, NULL, NULL, NULL, NULL, NULL, H };
      double ns[3], cell;

      c.x = calloc ((size_t) H, sizeof (float));
      c.y = calloc ((size_t) R, sizeof (float));
      c.g = calloc ((size_t) R, sizeof (float));
      c.c = calloc ((size_t) H, sizeof (float));
      c.h = calloc ((size_t) H, sizeof (float));
      for (size_t j = 0; j < (size_t) R * (size_t) H; j++)
        w[j] = (float) ((int) (j * 2654435761u % 2001) - 1000) * 1e-4f;
      for (int j = 0; j < H; j++)
        c.x[j] = (float) ((j * 37) % 200 - 100) * 0.01f;
      for (size_t pi = 0; pi < G_N_ELEMENTS (precs); pi++) {
        rnn_packed p;
        rnn__packed_init_prec (&p, w, R, H, precs[pi], NULL);
        c.p = &p;
        memset (c.y, 0, sizeof (float) * (size_t) R);
        ns[pi] = time_ns (call_gemv, &c);
        rnn__packed_clear (&p);
      }
      cell = time_ns (call_cell, &c);
      printf ("%-18s %5d", k->name, H);
      for (int pi = 0; pi < 3; pi++)
        printf (" %7.0f (%4.0f)", ns[pi], 2.0 * R * H / ns[pi]);
      printf (" %10.0f\n", cell);
      free (w);
      free (c.x);
      free (c.y);
      free (c.g);
      free (c.c);
      free (c.h);
    }
  }
  return 0;
}
