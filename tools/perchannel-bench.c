/* gst-rnn: per-channel batching benchmark (prints figures, asserts nothing).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A univariate model run on C channels: one rnn_batch_state (each recurrent
 * step reads the weights once for all channels) against C rnn_state objects
 * fed one after the other, as C separate elements would. Prints frames per
 * second (a frame being one value on every channel) for each cell type.
 *
 *   perchannel-bench [channels] [hidden] [seconds]   (default 16 64 1)
 */
#include <stdio.h>
#include <stdlib.h>
#include <glib.h>

#include "rnn.h"

#define BLOCK 160               /* frames per call, e.g. 10 ms at 16 kHz */

static double
bench_batch (const rnn_model *m, int C, const float *x, float *y,
    double seconds)
{
  rnn_batch_state *s = NULL;
  rnn_error err;
  gint64 t0, t;
  long frames = 0;

  if (rnn_batch_state_new (m, C, BLOCK, &s, &err) != RNN_OK) {
    fprintf (stderr, "batch state: %s\n", err.msg);
    exit (1);
  }
  rnn_batch_state_forward (s, x, BLOCK, y, &err);    /* warm-up */
  t0 = g_get_monotonic_time ();
  do {
    rnn_batch_state_forward (s, x, BLOCK, y, &err);
    frames += BLOCK;
    t = g_get_monotonic_time ();
  } while (t - t0 < seconds * 1e6);
  rnn_batch_state_free (s);
  return frames / ((t - t0) / 1e6);
}

static double
bench_separate (const rnn_model *m, int C, const float *x, float *y,
    double seconds)
{
  rnn_state **s = g_new0 (rnn_state *, C);
  float *xc = g_new (float, BLOCK);
  rnn_error err;
  gint64 t0, t;
  long frames = 0;
  int c, f;

  for (c = 0; c < C; c++)
    if (rnn_state_new (m, BLOCK, &s[c], &err) != RNN_OK) {
      fprintf (stderr, "state: %s\n", err.msg);
      exit (1);
    }
  t0 = g_get_monotonic_time ();
  do {
    for (c = 0; c < C; c++) {
      /* de-interleave channel c, as an element after a deinterleave
       * would receive it */
      for (f = 0; f < BLOCK; f++)
        xc[f] = x[f * C + c];
      rnn_state_forward (s[c], xc, BLOCK, y + (size_t) c * BLOCK, &err);
    }
    frames += BLOCK;
    t = g_get_monotonic_time ();
  } while (t - t0 < seconds * 1e6);
  for (c = 0; c < C; c++)
    rnn_state_free (s[c]);
  g_free (s);
  g_free (xc);
  return frames / ((t - t0) / 1e6);
}

int
main (int argc, char **argv)
{
  int C = argc > 1 ? atoi (argv[1]) : 16;
  int H = argc > 2 ? atoi (argv[2]) : 64;
  double seconds = argc > 3 ? atof (argv[3]) : 1.0;
  static const rnn_cell cells[] = { RNN_CELL_LSTM, RNN_CELL_GRU,
    RNN_CELL_RNN_TANH
  };
  float *x, *y;
  size_t i;

  if (C < 1 || H < 1 || seconds <= 0) {
    fprintf (stderr, "usage: %s [channels] [hidden] [seconds]\n", argv[0]);
    return 2;
  }
  x = g_new (float, (size_t) BLOCK * C);
  y = g_new (float, (size_t) BLOCK * C);
  for (i = 0; i < (size_t) BLOCK * C; i++)
    x[i] = (float) ((i * 7919) % 1000) / 500.0f - 1.0f;

  printf ("per-channel batching: %d channels, hidden %d, 1 layer, %d-frame "
      "calls\n", C, H, BLOCK);
  printf ("%-9s %16s %16s %8s\n", "cell", "batched fr/s", "separate fr/s",
      "speedup");
  for (i = 0; i < G_N_ELEMENTS (cells); i++) {
    rnn_model_config cfg;
    rnn_model *m = NULL;
    rnn_error err;
    double b, s;

    rnn_model_config_init (&cfg);
    cfg.cell = cells[i];
    cfg.hidden_size = H;
    if (rnn_model_new (&cfg, 1, &m, &err) != RNN_OK) {
      fprintf (stderr, "model: %s\n", err.msg);
      return 1;
    }
    b = bench_batch (m, C, x, y, seconds);
    s = bench_separate (m, C, x, y, seconds);
    printf ("%-9s %16.0f %16.0f %7.2fx\n", rnn_cell_name (cells[i]), b, s,
        b / s);
    rnn_model_free (m);
  }
  g_free (x);
  g_free (y);
  return 0;
}
