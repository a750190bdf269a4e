/* gst-rnn: training benchmark, C side. The tutorial's forecaster (2x64 LSTM,
 * dropout 0.2, windows of 50 frames, batch 64, input 1, Adam lr 1e-3,
 * gradient clipping 1.0) on the series of bench_series.py; prints the median
 * seconds per epoch. tools/bench/run-train-bench.sh runs it next to
 * bench_train_torch.py.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * usage: bench-train [EPOCHS]
 */
#include "rnn.h"

#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW 50
#define BATCH 64
#define N_FRAMES 1000

static void
check (rnn_status st, const rnn_error *err)
{
  if (st != RNN_OK) {
    fprintf (stderr, "bench-train: %s\n", err->msg);
    exit (1);
  }
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
  int epochs = argc > 1 ? atoi (argv[1]) : 5;
  if (epochs < 1)
    epochs = 1;
  rnn_error err;

  /* The series (bench_series.py): same formula, same LCG noise. */
  float s[N_FRAMES];
  uint32_t lcg = 12345;
  double mean = 0, var = 0;
  for (int i = 0; i < N_FRAMES; i++) {
    lcg = 1664525u * lcg + 1013904223u;
    double u = lcg / 4294967296.0;
    double t = 100.0 * i / (N_FRAMES - 1);
    s[i] = (float) (sin (0.1 * t) + 0.5 * sin (0.05 * t) + 0.3 * (u - 0.5));
    mean += s[i];
  }
  mean /= N_FRAMES;
  for (int i = 0; i < N_FRAMES; i++)
    var += (s[i] - mean) * (s[i] - mean);
  double sd = sqrt (var / N_FRAMES);
  for (int i = 0; i < N_FRAMES; i++)
    s[i] = (float) ((s[i] - mean) / sd);
  int n = N_FRAMES - WINDOW;

  rnn_model_config mc;
  rnn_model_config_init (&mc);
  mc.cell = RNN_CELL_LSTM;
  mc.input_size = 1;
  mc.hidden_size = 64;
  mc.num_layers = 2;
  mc.head_out = 1;
  mc.head_input = RNN_HEAD_OUTPUT;
  rnn_model *m;
  check (rnn_model_new (&mc, 0, &m, &err), &err);
  rnn_train_config tc;
  rnn_train_config_init (&tc);
  tc.lr = 1e-3;
  tc.dropout = 0.2;
  tc.loss = RNN_LOSS_MSE;
  tc.target = RNN_TARGET_LAST;
  rnn_trainer *t;
  check (rnn_trainer_new (m, &tc, &t, &err), &err);

  int *perm = g_new (int, n);
  for (int i = 0; i < n; i++)
    perm[i] = i;
  GRand *rng = g_rand_new_with_seed (0);
  float *x = g_new (float, BATCH * WINDOW), *y = g_new (float, BATCH);
  double *times = g_new (double, epochs), loss = NAN;
  for (int ep = 0; ep <= epochs; ep++) {     /* epoch 0 warms up */
    gint64 t0 = g_get_monotonic_time ();
    for (int i = n - 1; i > 0; i--) {
      int j = g_rand_int_range (rng, 0, i + 1), tmp = perm[i];
      perm[i] = perm[j];
      perm[j] = tmp;
    }
    for (int i = 0; i < n; i += BATCH) {
      int nb = MIN (BATCH, n - i);
      for (int b = 0; b < nb; b++) {
        memcpy (x + b * WINDOW, s + perm[i + b], WINDOW * sizeof (float));
        y[b] = s[perm[i + b] + WINDOW];
      }
      rnn_minibatch batch = { .batch = nb, .frames = WINDOW, .x = x, .y = y };
      rnn_trainer_zero_grad (t);
      check (rnn_trainer_backward (t, &batch, &loss, NULL, &err), &err);
      rnn_trainer_clip_grad_norm (t, 1.0);
      check (rnn_trainer_step (t, &err), &err);
    }
    if (ep)
      times[ep - 1] = (g_get_monotonic_time () - t0) / 1e6;
  }
  qsort (times, epochs, sizeof (double), cmp_double);
  printf ("rnn-train windows=%d epoch-seconds %.4f last-loss %.4f\n", n,
      times[epochs / 2], loss);
  g_free (perm);
  g_free (x);
  g_free (y);
  g_free (times);
  g_rand_free (rng);
  rnn_trainer_free (t);
  rnn_model_free (m);
  return 0;
}
