/* gst-rnn benchmarks: the engine alone.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   bench-engine DIR T[,T...] [MIN_TIME [REPS [batch|nobatch [PRECISIONS]]]]
 *
 * For every forecast model of DIR/models.tsv (see bench_torch.py), every
 * precision of the comma-separated PRECISIONS (default f32; "all" for
 * f32,bf16,int8) and every
 * T, streams calls of T frames of random input through rnn_state_forward
 * with the state carried, exactly as an element does, and prints
 *
 *   engine  NAME  T  STEPS_PER_S  ALLOCS_PER_CALL  PRECISION
 *
 * STEPS_PER_S is the median of REPS (default 3) timed runs of at least
 * MIN_TIME (default 0.2) seconds after a warm-up; ALLOCS_PER_CALL counts the
 * allocator calls made by rnn_state_forward over 1000 warm calls.
 *
 * With "batch", also times per-stream batching (rnn_batch_state_forward) of
 * the LSTM and GRU models of input 1 with 4 and 16 streams, at every
 * precision of PRECISIONS (see bench_batch), with the floating-point
 * operations of the products one stream's step needs (batch_flops), from
 * which report.py derives the machine's ceiling on the gain.
 */
#include "benchutil.h"
#include "rnn.h"

#include <glib.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  rnn_batch_state *state;
  const float *x;       /* 8 buffers of T frames x N streams */
  float *y;
  size_t frames, n;
  int failed;
} batch_job;

static void
run_batch_calls (void *data, uint64_t iters)
{
  batch_job *j = data;
  rnn_error err;
  uint64_t k;

  for (k = 0; k < iters; k++) {
    if (rnn_batch_state_forward (j->state, j->x + (k & 7) * j->frames * j->n,
            j->frames, j->y, &err) != RNN_OK) {
      if (!j->failed)
        fprintf (stderr, "rnn_batch_state_forward: %s\n", err.msg);
      j->failed = 1;
      return;
    }
  }
}

/* The multiply-adds of one frame of one stream, counted as 2 flops each,
 * over every product a step must do whether it runs alone or batched: per
 * layer the input projection W_ih x (G*H x in, in = the model's input for
 * layer 1, H_out above) and the recurrent W_hh h (G*H x H_out), the LSTM
 * projection W_hr (P x H) if any, and the head (O x H_out) if any.
 * G = 4 (LSTM), 3 (GRU), 1 (RNN); H_out = P with a projection, else H.
 * Biases, the cell update and the normalisation are not counted. */
static double
batch_flops (const rnn_model *m)
{
  const rnn_cell c = rnn_model_cell (m);
  const double H = rnn_model_hidden_size (m), P = rnn_model_proj_size (m);
  const double hout = P > 0 ? P : H;
  const double G = c == RNN_CELL_LSTM ? 4 : c == RNN_CELL_GRU ? 3 : 1;
  double in = rnn_model_input_size (m), madds = 0;

  for (int l = 0; l < rnn_model_num_layers (m); l++) {
    madds += G * H * (in + hout) + P * H;
    in = hout;
  }
  if (rnn_model_has_head (m))
    madds += rnn_model_output_size (m) * hout;
  return 2 * madds;
}

/* Per-stream batching: N streams of a univariate model through one
 * rnn_batch_state, T = 100, at the model's precision @prec; prints
 *   batch  NAME  T  N  STREAM_STEPS_PER_S  ALLOCS_PER_CALL  FLOPS_PER_STEP
 *     PRECISION
 * where STREAM_STEPS_PER_S counts the frames of all N streams and
 * FLOPS_PER_STEP is batch_flops (one stream, one frame). */
static int
bench_batch (const char *name, const rnn_model *m, const char *prec,
    double min_time, int reps)
{
  static const int ns[] = { 4, 16 };
  size_t i, q;

  for (i = 0; i < sizeof ns / sizeof ns[0]; i++) {
    batch_job j = { 0 };
    rnn_error err;
    float *x;
    uint64_t a0;
    double rate;

    j.frames = 100;
    j.n = ns[i];
    x = malloc (8 * j.frames * j.n * sizeof *x);
    j.y = malloc (j.frames * j.n * rnn_model_output_size (m) * sizeof *j.y);
    srand (7);
    for (q = 0; q < 8 * j.frames * j.n; q++)
      x[q] = 2.0f * rand () / RAND_MAX - 1.0f;
    j.x = x;
    if (rnn_batch_state_new (m, j.n, j.frames, &j.state, &err) != RNN_OK) {
      fprintf (stderr, "%s\n", err.msg);
      return 1;
    }
    run_batch_calls (&j, 10);
    a0 = bu_alloc_count ();
    run_batch_calls (&j, 100);
    a0 = bu_alloc_count () - a0;
    rate = bu_median_rate (run_batch_calls, &j, min_time, reps) * j.frames
        * j.n;
    if (j.failed)
      return 1;
    printf ("batch\t%s\t%zu\t%zu\t%.1f\t%.3f\t%.0f\t%s\n", name, j.frames,
        j.n, rate, a0 / 100.0, batch_flops (m), prec);
    fflush (stdout);
    rnn_batch_state_free (j.state);
    free (x);
    free (j.y);
  }
  return 0;
}

typedef struct {
  rnn_state *state;
  const float *x;       /* 8 buffers of T frames */
  float *y;
  size_t frames, in;
  int failed;
} job;

static void
run_calls (void *data, uint64_t iters)
{
  job *j = data;
  rnn_error err;
  uint64_t k;

  for (k = 0; k < iters; k++) {
    if (rnn_state_forward (j->state, j->x + (k & 7) * j->frames * j->in,
            j->frames, j->y, &err) != RNN_OK) {
      if (!j->failed)
        fprintf (stderr, "rnn_state_forward: %s\n", err.msg);
      j->failed = 1;
      return;
    }
  }
}

int
main (int argc, char **argv)
{
  bu_model_entry models[256];
  int ts[16], n_models, n_ts, i, k;
  double min_time = 0.2;
  int reps = 3, batch = 0;
  const char *precs[3] = { "f32" };
  int n_precs = 1;

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
  if (argc > 5)
    batch = strcmp (argv[5], "batch") == 0;
  if (argc > 6) {
    static const char *all[3] = { "f32", "bf16", "int8" };
    if (strcmp (argv[6], "all") == 0) {
      n_precs = 3;
      for (int q = 0; q < 3; q++)
        precs[q] = all[q];
    } else {
      gchar **v = g_strsplit (argv[6], ",", 3);
      n_precs = 0;
      for (int q = 0; v[q] != NULL && q < 3; q++)
        precs[n_precs++] = g_intern_string (v[q]);
      g_strfreev (v);
    }
  }
  if (n_models < 0 || n_ts < 1)
    return 2;
  printf ("kernels\t%s\n", rnn_kernels_name ());

  for (i = 0; i < n_models; i++) {
    char path[1024];
    rnn_model *m = NULL;
    rnn_error err;

    if (strcmp (models[i].task, "forecast") != 0)
      continue;
    snprintf (path, sizeof path, "%s/%s.safetensors", argv[1], models[i].name);
    if (rnn_model_load (path, &m, &err) != RNN_OK) {
      fprintf (stderr, "%s\n", err.msg);
      return 1;
    }
    for (int pi = 0; pi < n_precs; pi++) {
      for (k = 0; k < n_ts; k++) {
        job j = { 0 };
        float *x;
        size_t n, q;
        uint64_t a0;
        double rate;

        if (k == 0) {
          rnn_precision pr;
          if (!rnn_precision_from_name (precs[pi], &pr)
              || rnn_model_set_precision (m, pr, &err) != RNN_OK) {
            fprintf (stderr, "bench-engine: precision %s: %s\n", precs[pi],
                err.msg);
            return 1;
          }
        }
        j.frames = ts[k];
        j.in = rnn_model_input_size (m);
        n = 8 * j.frames * j.in;
        x = malloc (n * sizeof *x);
        j.y = malloc (j.frames * rnn_model_output_size (m) * sizeof *j.y);
        srand (7);
        for (q = 0; q < n; q++)
          x[q] = 2.0f * rand () / RAND_MAX - 1.0f;
        j.x = x;
        if (rnn_state_new (m, j.frames, &j.state, &err) != RNN_OK) {
          fprintf (stderr, "%s\n", err.msg);
          return 1;
        }
        run_calls (&j, 100);
        a0 = bu_alloc_count ();
        run_calls (&j, 1000);
        a0 = bu_alloc_count () - a0;
        rate = bu_median_rate (run_calls, &j, min_time, reps) * j.frames;
        if (j.failed)
          return 1;
        printf ("engine\t%s\t%d\t%.1f\t%.3f\t%s\n", models[i].name, ts[k],
            rate, a0 / 1000.0, precs[pi]);
        fflush (stdout);
        rnn_state_free (j.state);
        free (x);
        free (j.y);
      }
      /* the batch at the precision just timed single */
      if (batch && models[i].input == 1 && strcmp (models[i].cell, "rnn") != 0
          && bench_batch (models[i].name, m, precs[pi], min_time, reps) != 0)
        return 1;
    }
    rnn_model_free (m);
  }
  return 0;
}
