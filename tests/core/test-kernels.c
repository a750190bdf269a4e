/* The kernel sets one by one: every set this CPU supports against double
 * precision and against the portable set (GEMV in f32, bf16 and int8,
 * activations, fused cells); the precision API on fixture models.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "testutil.h"
#include "kernels.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rng_state = 2024;

static uint32_t
rng (void)
{
  rng_state = rng_state * 1664525u + 1013904223u;
  return rng_state >> 8;
}

/* uniform in [-scale, scale], 2001 levels */
static float
urand (float scale)
{
  return (float) ((int) (rng () % 2001) - 1000) / 1000.0f * scale;
}

static double
sigmoid_d (double x)
{
  return 1.0 / (1.0 + exp (-x));
}

/* -------------------------------------------------- activations, cells */

static void
test_activations (const rnn_kernels *k)
{
  static float xs[40010], ys[40010], yt[40010];
  const double lim = k == rnn__kernels_generic () ? 2e-7 : 4e-7;
  double es = 0, et = 0;
  size_t n = 0;

  for (int i = -20000; i <= 20000; i++)
    xs[n++] = (float) i * 1e-3f * (abs (i) < 1000 ? 0.1f : 1.0f);
  /* far outside the clamps, and the odd lengths of the tails */
  xs[n++] = 95.0f;
  xs[n++] = -95.0f;
  xs[n++] = 3e38f;
  xs[n++] = -3e38f;
  xs[n++] = 1e-30f;
  for (size_t len = n - 9; len <= n; len++) {
    k->sigmoid (xs, ys, len);
    k->tanh (xs, yt, len);
  }
  for (size_t i = 0; i < n; i++) {
    es = fmax (es, fabs (ys[i] - sigmoid_d (xs[i])));
    et = fmax (et, fabs (yt[i] - tanh ((double) xs[i])));
  }
  tu_check (es < lim && et < lim, "%s: sigmoid and tanh within %.0e of "
      "double on [-20, 20] and beyond: %.3g, %.3g", k->name, lim, es, et);
  tu_check (fabsf (yt[n - 1] - 1e-30f) < 1e-37f,
      "%s: tanh of a tiny value is that value: %g", k->name,
      (double) yt[n - 1]);

  /* relative error near 0, where tanh(x) ~ x: no cancellation of the
   * form 1 - 2 / (exp(2x) + 1) */
  {
    float xr[64], yr[64];
    double er = 0;
    int m = 0;

    for (double v = 1e-30; v < 1.0 && m < 62; v *= 3.7) {
      xr[m++] = (float) v;
      xr[m++] = (float) -v;
    }
    k->tanh (xr, yr, (size_t) m);
    for (int i = 0; i < m; i++) {
      double t = tanh ((double) xr[i]);
      er = fmax (er, fabs (yr[i] - t) / fabs (t));
    }
    tu_check (er < 5e-7, "%s: tanh within %.0e relative of double on "
        "1e-30 <= |x| < 1: %.3g", k->name, 5e-7, er);
  }
}

static void
test_cells (const rnn_kernels *k)
{
  double el = 0, eru = 0;

  for (int H = 1; H <= 37; H += 3) {
    float g[160], c[40], h[40], gx[120], gh[120], bhn[40], hg[40], h0[40];
    float c0[40];
    for (int i = 0; i < 4 * H; i++)
      g[i] = urand (3.3f);
    for (int i = 0; i < 3 * H; i++) {
      gx[i] = urand (3.3f);
      gh[i] = urand (3.3f);
    }
    for (int i = 0; i < H; i++) {
      c[i] = urand (2.0f);
      bhn[i] = urand (1.0f);
      h0[i] = hg[i] = urand (1.0f);
    }
    memcpy (c0, c, sizeof c);
    k->lstm_cell (g, c, h, H);
    k->gru_cell (gx, gh, bhn, hg, H);
    for (int i = 0; i < H; i++) {
      double cn = sigmoid_d (g[H + i]) * c0[i] + sigmoid_d (g[i])
          * tanh (g[2 * H + i]);
      double hn = sigmoid_d (g[3 * H + i]) * tanh (cn);
      double r = sigmoid_d (gx[i] + (double) gh[i]);
      double z = sigmoid_d (gx[H + i] + (double) gh[H + i]);
      double nn = tanh (gx[2 * H + i] + r * (gh[2 * H + i] + (double) bhn[i]));
      double hr = (1 - z) * nn + z * h0[i];
      el = fmax (el, fmax (fabs (c[i] - cn), fabs (h[i] - hn)));
      eru = fmax (eru, fabs (hg[i] - hr));
    }
  }
  tu_check (el < 1e-6 && eru < 1e-6, "%s: fused LSTM / GRU cells match "
      "double: %.3g, %.3g", k->name, el, eru);
}

/* -------------------------------------------------------------- GEMV */

/* The reference of each precision in double, from its definition
 * (kernels.h): bf16 rounds W and x; int8 quantises W per row and x per
 * call. Returns sum |terms| in *mag (the scale of rounding errors). */
static double
gemv_ref (rnn_precision prec, const float *w, int rows, int cols,
    const float *x, int r, double *mag)
{
  double acc = 0, m = 0;

  if (prec == RNN_PRECISION_F32) {
    for (int j = 0; j < cols; j++) {
      acc += (double) w[(size_t) r * cols + j] * x[j];
      m += fabs ((double) w[(size_t) r * cols + j] * x[j]);
    }
  } else if (prec == RNN_PRECISION_BF16) {
    for (int j = 0; j < cols; j++) {
      double t = (double) rnn__f32_from_bf16 (rnn__bf16_from_f32 (w[(size_t)
                  r * cols + j])) * rnn__f32_from_bf16 (rnn__bf16_from_f32
          (x[j]));
      acc += t;
      m += fabs (t);
    }
  } else {
    float aw = 0, ax = 0, sw, iw, sx, ix;
    for (int j = 0; j < cols; j++) {
      aw = fmaxf (aw, fabsf (w[(size_t) r * cols + j]));
      ax = fmaxf (ax, fabsf (x[j]));
    }
    sw = aw / 127.0f;
    iw = aw > 0 ? 127.0f / aw : 0;
    sx = ax / 127.0f;
    ix = ax > 0 ? 127.0f / ax : 0;
    for (int j = 0; j < cols; j++) {
      double t = (double) rintf (w[(size_t) r * cols + j] * iw)
          * rintf (x[j] * ix);
      acc += t;
      m += fabs (t);
    }
    acc *= (double) sw * sx;
    m *= (double) sw * sx;
  }
  *mag = m;
  return acc;
}

/* One shape in one precision: the set's GEMV against the reference (and,
 * for int8, bit for bit against the portable kernel, as every int8 kernel
 * computes exact int32 sums; for f32, gemv_ex with every combination of
 * its options (panels in reverse order, prefetch) bit for bit against
 * gemv). Returns the largest error relative to the magnitude of the
 * terms, or INFINITY on a mismatch that must not be. */
static double
gemv_case (const rnn_kernels *k, rnn_precision prec, int rows, int cols,
    bool zero_x, bool *exact_ok)
{
  const rnn_kernels *gen = rnn__kernels_generic ();
  float *w = malloc (sizeof (float) * (size_t) rows * cols);
  float *x = malloc (sizeof (float) * (size_t) cols);
  float *add = malloc (sizeof (float) * (size_t) rows);
  float *y = malloc (sizeof (float) * (size_t) rows);
  float *yg = malloc (sizeof (float) * (size_t) rows);
  rnn_packed p;
  double worst = 0;

  for (size_t i = 0; i < (size_t) rows * cols; i++)
    w[i] = urand (1.0f) * (i % 7 == 3 ? 0.01f : 1.0f);
  /* one all-zero row (scale 0 in int8) */
  if (rows > 2)
    memset (w + (size_t) 2 * cols, 0, sizeof (float) * cols);
  for (int j = 0; j < cols; j++)
    x[j] = zero_x ? 0.0f : urand (1.4f);
  for (int r = 0; r < rows; r++)
    add[r] = (float) r * 0.01f - 0.2f;
  if (rnn__packed_init_prec (&p, w, rows, cols, prec, NULL) != RNN_OK) {
    worst = INFINITY;
    goto out;
  }
  for (int with_add = 0; with_add < 2; with_add++) {
    const float *a = with_add ? add : NULL;
    rnn__kernels_gemv (k, &p, x, a, y);
    rnn__kernels_gemv (gen, &p, x, a, yg);
    if (prec == RNN_PRECISION_INT8 && memcmp (y, yg, sizeof (float) * rows))
      *exact_ok = false;
    if (prec == RNN_PRECISION_F32) {
      for (unsigned f = 0; f < 4; f++) {
        memset (yg, 0, sizeof (float) * rows);
        k->gemv_ex (&p, x, a, yg, f);
        if (memcmp (y, yg, sizeof (float) * rows))
          *exact_ok = false;
      }
    }
    for (int r = 0; r < rows; r++) {
      double mag, ref = gemv_ref (prec, w, rows, cols, x, r, &mag);
      if (a != NULL)
        ref += a[r];
      worst = fmax (worst, fabs (y[r] - ref) / (mag + fabs (ref) + 1e-3));
    }
  }
  rnn__packed_clear (&p);
out:
  free (w);
  free (x);
  free (add);
  free (y);
  free (yg);
  return worst;
}

static void
test_gemv (const rnn_kernels *k)
{
  static const rnn_precision precs[] = { RNN_PRECISION_F32,
    RNN_PRECISION_BF16, RNN_PRECISION_INT8 };

  for (size_t pi = 0; pi < G_N_ELEMENTS (precs); pi++) {
    const rnn_precision prec = precs[pi];
    bool exact = true;
    double worst = 0;
    int n = 0;

    /* odd shapes: every panel width, every tail of the column groups */
    for (int rows = 1; rows <= 75; rows += 7)
      for (int cols = 1; cols <= 70; cols += 3, n++)
        worst = fmax (worst, gemv_case (k, prec, rows, cols, false, &exact));
    /* the hot shapes (4H x H), a zero input, and an input too long for
     * the kernels' stack scratch */
    worst = fmax (worst, gemv_case (k, prec, 256, 64, false, &exact));
    worst = fmax (worst, gemv_case (k, prec, 1024, 256, false, &exact));
    worst = fmax (worst, gemv_case (k, prec, 40, 33, true, &exact));
    worst = fmax (worst, gemv_case (k, prec, 9, RNN_SCRATCH_STACK + 5, false,
            &exact));
    /* float rounding of a sum of up to ~16k terms, relative to their
     * magnitude */
    tu_check (worst < 2e-6, "%s: %s GEMV matches its definition in double "
        "over %d shapes: largest error %.3g of the terms' magnitude",
        k->name, rnn_precision_name (prec), n + 4, worst);
    if (prec == RNN_PRECISION_INT8)
      tu_check (exact, "%s: int8 GEMV equals the portable one bit for bit",
          k->name);
    if (prec == RNN_PRECISION_F32)
      tu_check (exact, "%s: f32 gemv_ex (panels last to first, prefetch) "
          "equals gemv bit for bit", k->name);
  }
}

/* --------------------------------------------------- precision API */

/* The fixture's whole input through a fresh state of @m into @y. */
static bool
run_model (rnn_model *m, const rnn_tensor *x, const rnn_tensor *ids,
    float *y, rnn_error *err)
{
  rnn_state *s = NULL;
  bool ok = rnn_state_new (m, 16, &s, err) == RNN_OK;

  if (ok && x != NULL) {
    ok = rnn_state_forward (s, x->data, (size_t) x->shape[0], y, err)
        == RNN_OK;
  } else if (ok && ids != NULL) {
    int32_t *iv = malloc (sizeof (int32_t) * ids->numel);
    for (size_t i = 0; i < ids->numel; i++)
      iv[i] = (int32_t) ids->data[i];
    ok = rnn_state_forward_ids (s, iv, ids->numel, y, err) == RNN_OK;
    free (iv);
  } else {
    ok = false;
  }
  rnn_state_free (s);
  return ok;
}

static void
test_precision_api (const rnn_kernels *const *sets, int n_sets)
{
  static const char *cases[] = { "lstm_2l_norm", "gru_3l_norm", "lstm_proj2",
    "rnn_tanh_3l", "text_bilstm_output"
  };
  rnn_precision p;
  rnn_error err = { 0 };

  tu_check (rnn_precision_from_name ("int8", &p) && p == RNN_PRECISION_INT8
      && rnn_precision_from_name ("bf16", &p) && p == RNN_PRECISION_BF16
      && rnn_precision_from_name ("f32", &p) && p == RNN_PRECISION_F32
      && !rnn_precision_from_name ("fp16", &p)
      && strcmp (rnn_precision_name (RNN_PRECISION_BF16), "bf16") == 0,
      "precision names");
  tu_check (rnn_model_set_precision (NULL, RNN_PRECISION_INT8, &err)
      == RNN_ERR_ARG, "set_precision on NULL: %s", err.msg);

  for (size_t ci = 0; ci < G_N_ELEMENTS (cases); ci++) {
    char path[300];
    rnn_model *m = NULL;
    rnn_tensors *io = NULL;
    const rnn_tensor *x, *ids, *yt;
    float *yg[3], *y;
    size_t ny;
    double err_p[3] = { 0 }, spread[3] = { 0 }, yscale = 0;
    bool ok = true;

    snprintf (path, sizeof path, "core/%s.safetensors", cases[ci]);
    if (rnn_model_load (tu_fixture (path), &m, &err) != RNN_OK) {
      tu_check (0, "load %s: %s", path, err.msg);
      continue;
    }
    snprintf (path, sizeof path, "core/%s.io.safetensors", cases[ci]);
    if (rnn_tensors_load (tu_fixture (path), &io, &err) != RNN_OK) {
      tu_check (0, "load %s: %s", path, err.msg);
      rnn_model_free (m);
      continue;
    }
    x = rnn_tensors_find (io, "x");
    ids = rnn_tensors_find (io, "ids");
    yt = rnn_tensors_find (io, "y");
    ny = yt->numel;
    for (size_t i = 0; i < ny; i++)
      yscale = fmax (yscale, fabs (yt->data[i]));
    tu_check (rnn_model_set_precision (m, (rnn_precision) 7, &err)
        == RNN_ERR_ARG && rnn_model_precision (m) == RNN_PRECISION_F32,
        "%s: an invalid precision is refused (%s)", cases[ci], err.msg);

    y = calloc (ny, sizeof (float));
    /* each precision: the portable set first, then every other set
     * against it, all against PyTorch (float32) */
    for (int pi = 0; pi < 3; pi++) {
      yg[pi] = calloc (ny, sizeof (float));
      ok &= rnn_model_set_precision (m, (rnn_precision) pi, &err) == RNN_OK
          && rnn_model_precision (m) == (rnn_precision) pi;
      rnn__engine_use_kernels (m, rnn__kernels_generic ());
      ok &= run_model (m, x, ids, yg[pi], &err);
      for (int ks = 0; ks < n_sets; ks++) {
        rnn__engine_use_kernels (m, sets[ks]);
        ok &= run_model (m, x, ids, y, &err);
        for (size_t i = 0; i < ny; i++) {
          err_p[pi] = fmax (err_p[pi], fabs (y[i] - yt->data[i]));
          spread[pi] = fmax (spread[pi], fabs (y[i] - yg[pi][i]));
        }
      }
    }
    tu_check (ok, "%s: runs in every precision with every set %s", cases[ci],
        err.msg);
    tu_check (err_p[0] < 1e-5 + 1e-4 * yscale, "%s: f32 keeps PyTorch "
        "parity: %.3g", cases[ci], err_p[0]);
    /* Reduced precision: a small, bounded change (these random models
     * have weights of U(-1/sqrt H, 1/sqrt H), outputs of order 1), and a
     * real one: the weights did change. */
    tu_check (err_p[1] > 1e-6 && err_p[1] < 0.02 * (1 + yscale),
        "%s: bf16 output within 2%% of PyTorch's f32, and not equal: %.3g "
        "(outputs up to %.3g)", cases[ci], err_p[1], yscale);
    tu_check (err_p[2] > 1e-6 && err_p[2] < 0.05 * (1 + yscale),
        "%s: int8 output within 5%% of PyTorch's f32, and not equal: %.3g",
        cases[ci], err_p[2]);
    tu_check (spread[1] < 1e-3 * (1 + yscale) && spread[2] < 1e-2 * (1
            + yscale), "%s: every kernel set agrees with the portable one "
        "in reduced precision (largest difference: f32 %.3g, bf16 %.3g, "
        "int8 %.3g)", cases[ci], spread[0], spread[1], spread[2]);

    /* back to f32: exactly the f32 results again */
    rnn__engine_use_kernels (m, rnn__kernels_generic ());
    ok = rnn_model_set_precision (m, RNN_PRECISION_F32, &err) == RNN_OK
        && run_model (m, x, ids, y, &err)
        && memcmp (y, yg[0], sizeof (float) * ny) == 0;
    tu_check (ok, "%s: back to f32 gives the f32 outputs bit for bit",
        cases[ci]);

    free (y);
    for (int pi = 0; pi < 3; pi++)
      free (yg[pi]);
    rnn_tensors_free (io);
    rnn_model_free (m);
  }
}

int
main (void)
{
  const rnn_kernels *sets[16];
  int n = 0;

  printf ("# default kernel set on this CPU: %s\n", rnn_kernels_name ());
  for (int i = 0; rnn__kernels_at (i) != NULL; i++) {
    const rnn_kernels *k = rnn__kernels_at (i);
    const char *missing;
    if (!rnn__kernels_supported (k, &missing)) {
      tu_skip ("the %s kernels: this CPU lacks some of %s", k->name,
          missing);
      continue;
    }
    printf ("# kernel set %s: testing\n", k->name);
    if (n < 16)
      sets[n++] = k;
  }
  tu_check (n >= 1 && sets[n - 1] == rnn__kernels_generic (),
      "%d kernel set(s) supported, the portable one last", n);
  tu_check (rnn__kernels_find ("generic") == rnn__kernels_generic ()
      && rnn__kernels_find ("no-such-set") == NULL, "kernel sets by name");

  for (int i = 0; i < n; i++) {
    test_activations (sets[i]);
    test_cells (sets[i]);
    test_gemv (sets[i]);
  }
  test_precision_api (sets, n);
  return tu_finish ();
}
