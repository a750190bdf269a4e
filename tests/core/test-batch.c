/* Per-stream batching (rnn_batch_state): every stream of a batch must give
 * what PyTorch gives on it (the fixtures of gen_core.py) and what a single
 * rnn_state gives; the batched GEMV must equal the single GEMV bit for bit.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "testutil.h"
#include "engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* two full tiles of 8 (AVX-512) or 6 + 6 + 5 (AVX2) streams and a
 * remainder; odd, so the paired GEMV also runs its single-vector one */
#define N_STREAMS 17

/* Unidirectional signal cases with head `output` (or none). */
static const char *cases[] = {
  "rnn_tanh_1l", "rnn_tanh_3l", "rnn_relu_1l", "lstm_1l", "lstm_2l_norm",
  "lstm_3l", "lstm_2l_nobias", "lstm_long", "lstm_proj2", "gru_1l", "gru_2l_nohead",
  "gru_3l_norm", "gru_1l_nobias", "lstm_mean_only", "gru_std_only",
};

static unsigned rng = 12345;

static float
frand (void)
{
  rng = rng * 1103515245u + 12345u;
  return ((rng >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static void
check_case (const char *name, const rnn_kernels *k, double *worst_torch,
    double *worst_single)
{
  char file[256];
  rnn_tensors *io = NULL;
  rnn_model *m = NULL;
  rnn_batch_state *bs = NULL;
  rnn_error err;
  const rnn_tensor *tx, *ty, *th, *tc;
  size_t T, n_in, O, S, N = N_STREAMS;
  float *x, *y, *ys, *snap, *want;
  double e_torch = 0, e_single = 0, e;
  int ok_torch = 1, ok_single = 1, ok_state = 1;

  snprintf (file, sizeof file, "core/%s.safetensors", name);
  if (rnn_model_load (tu_fixture (file), &m, &err) != RNN_OK) {
    tu_check (0, "%s: load: %s", name, err.msg);
    return;
  }
  snprintf (file, sizeof file, "core/%s.io.safetensors", name);
  if (rnn_tensors_load (tu_fixture (file), &io, &err) != RNN_OK) {
    tu_check (0, "%s: load io: %s", name, err.msg);
    rnn_model_free (m);
    return;
  }
  /* the batch and the single states of this check run with @k */
  rnn__engine_use_kernels (m, k);
  tx = rnn_tensors_find (io, "x");
  ty = rnn_tensors_find (io, "y");
  th = rnn_tensors_find (io, "h_n");
  tc = rnn_tensors_find (io, "c_n");
  n_in = rnn_model_input_size (m);
  O = rnn_model_output_size (m);
  T = tx->numel / n_in;

  /* Even streams get the fixture's input; odd ones their own random
   * signals, checked against a single-stream state. */
  x = malloc (T * N * n_in * sizeof *x);
  y = malloc (T * N * O * sizeof *y);
  ys = malloc (T * O * sizeof *ys);
  for (size_t t = 0; t < T; t++)
    for (size_t b = 0; b < N; b++)
      for (size_t i = 0; i < n_in; i++)
        x[(t * N + b) * n_in + i] = b % 2 == 0 ? tx->data[t * n_in + i]
            : 2.0f * frand ();

  /* max_frames 7, calls of 1, 10 and the rest: chunking inside and across
   * calls */
  if (rnn_batch_state_new (m, N, 7, &bs, &err) != RNN_OK) {
    tu_check (0, "%s: rnn_batch_state_new: %s", name, err.msg);
    goto out;
  }
  {
    size_t done = 0, sizes[3] = { 1, 10, T };

    for (int c = 0; c < 3 && done < T; c++) {
      size_t n = MIN (sizes[c], T - done);
      if (rnn_batch_state_forward (bs, x + done * N * n_in, n, y + done * N * O,
              &err) != RNN_OK) {
        tu_check (0, "%s: rnn_batch_state_forward: %s", name, err.msg);
        goto out;
      }
      done += n;
    }
  }

  S = 0;
  {
    rnn_state *tmp;
    if (rnn_state_new (m, 1, &tmp, &err) == RNN_OK) {
      S = rnn_state_size (tmp);
      rnn_state_free (tmp);
    } else {
      tu_check (0, "%s: a single-stream state for comparison: %s", name,
          err.msg);
    }
  }
  snap = malloc ((S + 1) * sizeof *snap);
  want = malloc ((S + 1) * sizeof *want);
  for (size_t b = 0; b < N; b++) {
    /* the stream's outputs */
    for (size_t t = 0; t < T; t++)
      memcpy (ys + t * O, y + (t * N + b) * O, O * sizeof *ys);
    if (b % 2 == 0) {
      ok_torch &= tu_close (ys, ty->data, T * O, 1e-5, 1e-4, &e);
      e_torch = MAX (e_torch, e);
      /* final state against h_n, c_n: per layer h then c */
      rnn_batch_state_get_stream (bs, b, snap, S, &err);
      {
        /* h has Hout values (P with a projection), c has H */
        size_t P = th->shape[th->ndim - 1], L = th->numel / P, q = 0;
        size_t H = tc != NULL ? tc->shape[tc->ndim - 1] : 0;
        for (size_t l = 0; l < L; l++) {
          memcpy (want + q, th->data + l * P, P * sizeof *want);
          q += P;
          if (tc != NULL) {
            memcpy (want + q, tc->data + l * H, H * sizeof *want);
            q += H;
          }
        }
        ok_state &= q == S && tu_close (snap, want, S, 1e-5, 1e-4, &e);
        e_torch = MAX (e_torch, e);
      }
    } else {
      rnn_state *st = NULL;
      float *xs = malloc (T * n_in * sizeof *xs), *yr = malloc (T * O *
          sizeof *yr);

      for (size_t t = 0; t < T; t++)
        memcpy (xs + t * n_in, x + (t * N + b) * n_in, n_in * sizeof *xs);
      if (rnn_state_new (m, T, &st, &err) != RNN_OK
          || rnn_state_forward (st, xs, T, yr, &err) != RNN_OK) {
        tu_check (0, "%s: single stream: %s", name, err.msg);
        ok_single = 0;
      } else {
        ok_single &= tu_close (ys, yr, T * O, 1e-6, 1e-5, &e);
        e_single = MAX (e_single, e);
      }
      rnn_state_free (st);
      free (xs);
      free (yr);
    }
  }
  tu_check (ok_torch, "%s [%s]: %zu streams, outputs of the fixture's "
      "streams match PyTorch (largest error %.2e)", name,
      k->name, N, e_torch);
  tu_check (ok_state, "%s: final state of each fixture stream matches "
      "PyTorch's h_n/c_n", name);
  tu_check (ok_single, "%s: the other streams equal a single rnn_state "
      "(largest difference %.2e)", name, e_single);
  *worst_torch = MAX (*worst_torch, e_torch);
  *worst_single = MAX (*worst_single, e_single);

  /* resetting one stream zeroes it and leaves the others alone */
  {
    float *before = malloc ((S + 1) * sizeof *before);
    int zero = 1, kept;

    rnn_batch_state_get_stream (bs, 0, before, S, &err);
    kept = rnn_batch_state_reset_stream (bs, 1, &err) == RNN_OK;
    rnn_batch_state_get_stream (bs, 1, snap, S, &err);
    for (size_t i = 0; i < S; i++)
      zero &= snap[i] == 0.0f;
    rnn_batch_state_get_stream (bs, 0, snap, S, &err);
    kept &= memcmp (before, snap, S * sizeof *snap) == 0;
    tu_check (zero && kept && rnn_batch_state_reset_stream (bs, N, &err)
        == RNN_ERR_ARG, "%s: reset_stream zeroes stream 1 only, refuses "
        "stream %zu", name, N);
    free (before);
  }

  /* reset: the batch starts over and gives the same outputs again */
  rnn_batch_state_reset (bs);
  {
    float *y2 = malloc (T * N * O * sizeof *y2);
    rnn_batch_state_forward (bs, x, T, y2, &err);
    tu_check (memcmp (y, y2, T * N * O * sizeof *y) == 0 || tu_close (y2, y,
            T * N * O, 1e-6, 1e-5, NULL), "%s: after reset the same input "
        "gives the same outputs", name);
    free (y2);
  }
  free (snap);
  free (want);

out:
  rnn_batch_state_free (bs);
  free (x);
  free (y);
  free (ys);
  rnn_tensors_free (io);
  rnn_model_free (m);
}

/* gemv_batch against gemv, bit for bit, for every kernel set, over shapes
 * that exercise narrow panels, odd column counts and odd batch sizes. */
static void
check_kernels (void)
{
  const rnn_kernels *sets[2] = { rnn__kernels_generic (), rnn__kernels_avx2 () };
  static const int rows_list[] = { 1, 7, 8, 13, 32, 40, 57, 96, 100 };
  static const int cols_list[] = { 1, 2, 5, 16, 33 };

  for (int ks = 0; ks < 2; ks++) {
    const rnn_kernels *k = sets[ks];
    int same = 1, shapes = 0;

    if (k == NULL) {
      tu_skip ("gemv_batch against gemv, kernel set %d: not available on "
          "this CPU", ks);
      continue;
    }
    for (size_t ri = 0; ri < G_N_ELEMENTS (rows_list); ri++)
      for (size_t ci = 0; ci < G_N_ELEMENTS (cols_list); ci++)
        for (int nb = 1; nb <= 5; nb++) {
          int rows = rows_list[ri], cols = cols_list[ci];
          float *w = malloc (rows * cols * sizeof *w);
          float *x = malloc (nb * (cols + 3) * sizeof *x);
          float *add = malloc (nb * (rows + 2) * sizeof *add);
          float *y = malloc (nb * (rows + 2) * sizeof *y);
          float *y1 = malloc ((rows + 2) * sizeof *y1);
          rnn_packed p;
          rnn_error err;

          for (int i = 0; i < rows * cols; i++)
            w[i] = frand ();
          for (int i = 0; i < nb * (cols + 3); i++)
            x[i] = frand ();
          for (int i = 0; i < nb * (rows + 2); i++)
            add[i] = frand ();
          rnn__packed_init (&p, w, rows, cols, &err);
          for (int with_add = 0; with_add < 2; with_add++) {
            k->gemv_batch (&p, nb, x, cols + 3, with_add ? add : NULL,
                rows + 2, y, rows + 2);
            for (int b = 0; b < nb; b++) {
              k->gemv (&p, x + b * (cols + 3),
                  with_add ? add + b * (rows + 2) : NULL, y1);
              same &= memcmp (y1, y + b * (rows + 2),
                  rows * sizeof *y1) == 0;
            }
          }
          shapes++;
          rnn__packed_clear (&p);
          free (w);
          free (x);
          free (add);
          free (y);
          free (y1);
        }
    tu_check (same, "%s: gemv_batch equals gemv bit for bit (%d shapes x "
        "batch sizes, with and without add)", k->name, shapes);
  }
}

/* The register-tiled multi-stream products (batch-avx512.c, batch-avx2.c)
 * against a double-precision product, on shapes with narrow last panels,
 * odd column counts and every group size up to 17 streams. Each row is one
 * chain of float multiply-adds, so the error stays within a few ulps of the
 * row's magnitude. */
static double
streams_error (void (*fn) (const rnn_packed *, int, const float *, int,
        const float *, int, float *, int), int *shapes)
{
  static const int rows_list[] = { 1, 8, 13, 24, 40, 57, 100, 256 };
  static const int cols_list[] = { 1, 3, 16, 33, 64 };
  double worst = 0;

  for (size_t ri = 0; ri < G_N_ELEMENTS (rows_list); ri++)
    for (size_t ci = 0; ci < G_N_ELEMENTS (cols_list); ci++)
      for (int nb = 1; nb <= 17; nb += (nb < 9 ? 1 : 8)) {
        int rows = rows_list[ri], cols = cols_list[ci];
        int ldx = cols + 3, ldy = rows + 2;
        float *w = malloc (rows * cols * sizeof *w);
        float *x = malloc (nb * ldx * sizeof *x);
        float *add = malloc (nb * ldy * sizeof *add);
        float *y = malloc (nb * ldy * sizeof *y);
        rnn_packed p;
        rnn_error err;

        for (int i = 0; i < rows * cols; i++)
          w[i] = frand ();
        for (int i = 0; i < nb * ldx; i++)
          x[i] = frand ();
        for (int i = 0; i < nb * ldy; i++)
          add[i] = frand ();
        rnn__packed_init (&p, w, rows, cols, &err);
        for (int with_add = 0; with_add < 2; with_add++) {
          /* rows past @rows must stay untouched */
          for (int i = 0; i < nb * ldy; i++)
            y[i] = 1234.0f;
          fn (&p, nb, x, ldx, with_add ? add : NULL, ldy, y, ldy);
          for (int b = 0; b < nb; b++) {
            for (int r = 0; r < rows; r++) {
              double ref = with_add ? add[b * ldy + r] : 0.0, mag = 1.0;
              for (int j = 0; j < cols; j++) {
                ref += (double) w[r * cols + j] * x[b * ldx + j];
                mag += fabs ((double) w[r * cols + j] * x[b * ldx + j]);
              }
              worst = MAX (worst, fabs (y[b * ldy + r] - ref) / mag);
            }
            for (int r = rows; r < ldy; r++)
              if (y[b * ldy + r] != 1234.0f)
                worst = INFINITY;
          }
        }
        (*shapes)++;
        rnn__packed_clear (&p);
        free (w);
        free (x);
        free (add);
        free (y);
      }
  return worst;
}

static void
check_streams_kernels (void)
{
#ifdef __x86_64__
  static const struct {
    const char *name, *feature;
    void (*fn) (const rnn_packed *, int, const float *, int, const float *,
        int, float *, int);
  } sets[] = {
    { "AVX-512", "AVX-512F", rnn__gemm_streams_avx512 },
    { "AVX2", "AVX2+FMA", rnn__gemm_streams_avx2 },
  };

  __builtin_cpu_init ();
  for (size_t i = 0; i < G_N_ELEMENTS (sets); i++) {
    int shapes = 0;
    double e;
    /* __builtin_cpu_supports wants a literal */
    int have = i == 0 ? __builtin_cpu_supports ("avx512f")
        : __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma");

    if (!have) {
      printf ("# %s multi-stream product not checked: this CPU has no %s\n",
          sets[i].name, sets[i].feature);
      continue;
    }
    e = streams_error (sets[i].fn, &shapes);
    tu_check (e < 1e-6, "%s multi-stream product against double: largest "
        "error %.2e of the row's magnitude (%d shapes x 2)", sets[i].name, e,
        shapes);
  }
#endif
}

/* bf16 and int8 weights: every stream of a batch must equal, bit for bit,
 * a single rnn_state of the same model at the same precision with the same
 * kernel set (outputs of every frame and the final state). Run on the
 * fixtures above (H 5..32) and on generated models large enough for full
 * 32-row panels, several column groups and a narrow last panel. */
static void
check_lowp_model (const char *name, rnn_model *m, const rnn_kernels *k,
    rnn_precision prec, size_t T)
{
  const size_t N = N_STREAMS, n_in = rnn_model_input_size (m);
  const size_t O = rnn_model_output_size (m);
  /* The reference: a single state fed the whole stream in one call, or
   * with the portable set one frame per call. (A single state's input
   * projection is a GEMV per frame in calls of up to two frames; in longer
   * calls it is the kernel set's tiled product, the batch's too, or with
   * the portable set CBLAS sgemm, whose bits depend on the block's shape;
   * the portable batch computes it as the GEMV.) The states must be the
   * same bits; so must the outputs, except with the portable set: a head
   * of several outputs goes through CBLAS there, sgemv for a one-frame call
   * and sgemm for the batch's block, so its outputs are held to the f32
   * check's tolerance. */
  const gboolean portable = k == rnn__kernels_generic ();
  const size_t per_call = portable ? 1 : T;
  rnn_batch_state *bs = NULL;
  rnn_state *st = NULL;
  rnn_error err;
  float *x, *y, *xs, *ys, *snap = NULL, *want = NULL;
  size_t S = 0;
  int same_y = 1, same_state = 1, ok = 1;
  double e_y = 0, e;

  if (rnn_model_set_precision (m, prec, &err) != RNN_OK) {
    tu_check (0, "%s: precision %s: %s", name, rnn_precision_name (prec),
        err.msg);
    return;
  }
  rnn__engine_use_kernels (m, k);
  x = malloc (T * N * n_in * sizeof *x);
  y = malloc (T * N * O * sizeof *y);
  xs = malloc (T * n_in * sizeof *xs);
  ys = malloc (T * O * sizeof *ys);
  for (size_t i = 0; i < T * N * n_in; i++)
    x[i] = 2.0f * frand ();

  /* max_frames 7, calls of 1, 10 and the rest, as check_case */
  ok = rnn_batch_state_new (m, N, 7, &bs, &err) == RNN_OK;
  for (size_t done = 0, c = 0; ok && done < T; c++) {
    size_t n = MIN (c == 0 ? 1 : c == 1 ? 10 : T, T - done);
    ok = rnn_batch_state_forward (bs, x + done * N * n_in, n,
        y + done * N * O, &err) == RNN_OK;
    done += n;
  }
  for (size_t b = 0; ok && b < N; b++) {
    for (size_t t = 0; t < T; t++)
      memcpy (xs + t * n_in, x + (t * N + b) * n_in, n_in * sizeof *xs);
    ok = rnn_state_new (m, T, &st, &err) == RNN_OK;
    for (size_t t = 0; ok && t < T; t += per_call)
      ok = rnn_state_forward (st, xs + t * n_in, MIN (per_call, T - t),
          ys + t * O, &err) == RNN_OK;
    if (ok && snap == NULL) {
      S = rnn_state_size (st);
      snap = malloc (S * sizeof *snap);
      want = malloc (S * sizeof *want);
    }
    ok = ok && rnn_state_get (st, want, S, &err) == RNN_OK
        && rnn_batch_state_get_stream (bs, b, snap, S, &err) == RNN_OK;
    for (size_t t = 0; ok && t < T; t++) {
      if (!portable)
        same_y &= memcmp (ys + t * O, y + (t * N + b) * O, O * sizeof *ys)
            == 0;
      else
        same_y &= tu_close (y + (t * N + b) * O, ys + t * O, O, 1e-6, 1e-5,
            &e);
      e_y = MAX (e_y, portable ? e : 0);
    }
    same_state &= ok && memcmp (snap, want, S * sizeof *snap) == 0;
    rnn_state_free (st);
    st = NULL;
  }
  tu_check (ok && same_y && same_state, "%s [%s, %s]: %zu streams x %zu "
      "frames: final states equal single states fed %s bit for bit (%s), "
      "outputs %s%s%s", name, rnn_precision_name (prec), k->name, N, T,
      portable ? "frame by frame" : "in one call", same_state ? "same"
      : "DIFFER", portable ? (same_y ? "within 1e-6 + 1e-5 rel" : "DIFFER")
      : (same_y ? "bit for bit" : "DIFFER"), ok ? "" : ": ",
      ok ? "" : err.msg);
  if (portable && e_y > 0)
    printf ("#   outputs through the portable head: largest difference "
        "%.2e\n", e_y);
  rnn_batch_state_free (bs);
  free (x);
  free (y);
  free (xs);
  free (ys);
  free (snap);
  free (want);
}

static void
check_lowp (const rnn_kernels *k)
{
  static const rnn_precision precs[] = { RNN_PRECISION_BF16,
    RNN_PRECISION_INT8 };
  /* cell, H, layers, inputs: full and narrow panels, H not a multiple of
   * 4 or 16, wide inputs (the W_ih product) and stacks */
  static const struct { rnn_cell cell; int H, layers, in; } gen[] = {
    { RNN_CELL_LSTM, 64, 1, 1 }, { RNN_CELL_GRU, 70, 2, 1 },
    { RNN_CELL_LSTM, 37, 2, 6 }, { RNN_CELL_GRU, 48, 1, 3 },
    { RNN_CELL_RNN_TANH, 40, 1, 1 },
  };

  for (size_t pi = 0; pi < G_N_ELEMENTS (precs); pi++) {
    for (size_t c = 0; c < G_N_ELEMENTS (cases); c++) {
      char file[256];
      rnn_model *m = NULL;

      snprintf (file, sizeof file, "core/%s.safetensors", cases[c]);
      if (tu_load_model (file, &m))
        check_lowp_model (cases[c], m, k, precs[pi], 23);
      rnn_model_free (m);
    }
    for (size_t g = 0; g < G_N_ELEMENTS (gen); g++) {
      rnn_model_config cfg;
      rnn_model *m = NULL;
      rnn_error err;
      char name[64];

      rnn_model_config_init (&cfg);
      cfg.cell = gen[g].cell;
      cfg.hidden_size = gen[g].H;
      cfg.num_layers = gen[g].layers;
      cfg.input_size = gen[g].in;
      snprintf (name, sizeof name, "generated %s %dx%d, %d inputs",
          gen[g].cell == RNN_CELL_LSTM ? "lstm" : gen[g].cell
          == RNN_CELL_GRU ? "gru" : "rnn", gen[g].layers, gen[g].H,
          gen[g].in);
      if (rnn_model_new (&cfg, 1000 + g, &m, &err) != RNN_OK) {
        tu_check (0, "%s: rnn_model_new: %s", name, err.msg);
        continue;
      }
      check_lowp_model (name, m, k, precs[pi], 30);
      rnn_model_free (m);
    }
  }
}

static void
check_errors (void)
{
  rnn_model *m = NULL;
  rnn_batch_state *bs = NULL;
  rnn_error err;
  rnn_status st;

  if (tu_load_model ("core/lstm_bi1.safetensors", &m)) {
    st = rnn_batch_state_new (m, 2, 8, &bs, &err);
    tu_check (st == RNN_ERR_UNSUPPORTED && bs == NULL
        && strstr (err.msg, "unidirectional") != NULL,
        "bidirectional model refused: %s", err.msg);
    rnn_model_free (m);
  }
  if (tu_load_model ("core/text_lstm_final.safetensors", &m)) {
    st = rnn_batch_state_new (m, 2, 8, &bs, &err);
    tu_check (st == RNN_ERR_UNSUPPORTED && bs == NULL,
        "text model refused: %s", err.msg);
    rnn_model_free (m);
  }
  if (tu_load_model ("core/lstm_1l.safetensors", &m)) {
    st = rnn_batch_state_new (m, 0, 8, &bs, &err);
    tu_check (st == RNN_ERR_ARG && bs == NULL, "0 streams refused: %s",
        err.msg);
    st = rnn_batch_state_new (m, 3, 8, &bs, &err);
    tu_check (st == RNN_OK && rnn_batch_state_streams (bs) == 3,
        "3 streams accepted");
    if (bs != NULL) {
      float buf[4];
      st = rnn_batch_state_forward (bs, buf, 0, buf, &err);
      tu_check (st == RNN_ERR_ARG, "0 frames refused: %s", err.msg);
      st = rnn_batch_state_get_stream (bs, 3, buf, 4, &err);
      tu_check (st == RNN_ERR_ARG, "stream out of range refused: %s",
          err.msg);
    }
    rnn_batch_state_free (bs);
    rnn_model_free (m);
  }
  rnn_batch_state_free (NULL);
}

int
main (void)
{
  double worst_torch = 0, worst_single = 0;

  check_kernels ();
  check_streams_kernels ();
  /* Every kernel set this CPU runs (the AVX-512 and AVX2 ones take their
   * multi-stream product and fused cells, the portable one its gemv_batch
   * and per-stream cells), then the kernel table's paired GEMV
   * (RNN_BATCH_GEMV) with the default set: all must pass */
  for (int i = 0; rnn__kernels_at (i) != NULL; i++) {
    const rnn_kernels *k = rnn__kernels_at (i);
    const char *missing;

    if (!rnn__kernels_supported (k, &missing)) {
      printf ("# %s not checked: this CPU lacks %s\n", k->name, missing);
      continue;
    }
    printf ("# recurrent step: kernel set %s\n", k->name);
    for (size_t c = 0; c < G_N_ELEMENTS (cases); c++)
      check_case (cases[c], k, &worst_torch, &worst_single);
    check_lowp (k);
  }
  g_setenv ("RNN_BATCH_GEMV", "1", TRUE);
  printf ("# recurrent step: paired GEMV (gemv_batch)\n");
  for (size_t c = 0; c < G_N_ELEMENTS (cases); c++)
    check_case (cases[c], rnn__kernels_get (), &worst_torch, &worst_single);
  check_lowp (rnn__kernels_get ());
  g_unsetenv ("RNN_BATCH_GEMV");
  check_errors ();
  printf ("# per-stream batch: largest error vs PyTorch %.2e, vs a single "
      "state %.2e\n", worst_torch, worst_single);
  return tu_finish ();
}
