/* Training against PyTorch 1.13: losses, every parameter's gradient, the
 * norm clip_grad_norm_ returns, SGD and Adam steps, truncated BPTT with the
 * state carried, packed (variable-length) batches, embeddings. The fixtures
 * come from tests/fixtures/gen_train.py. Also: PyTorch's default
 * initialisation (statistically: the RNGs differ), reproducibility from a
 * seed, dropout, and the errors bad input gets.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "testutil.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Gradient tolerance: |c - torch| <= GRAD_ATOL + GRAD_RTOL |torch|. The
 * "relative error" reported is |c - torch| / (|torch| + GRAD_ATOL/GRAD_RTOL),
 * which is <= GRAD_RTOL exactly when the check passes. */
#define GRAD_RTOL 1e-4
#define GRAD_ATOL 1e-6
/* Parameters after optimiser steps. */
#define PARAM_ATOL 1e-5
#define PARAM_RTOL 1e-4
/* below this first gradient, Adam's later moves are held to lr per step
 * (see the parameter check) */
#define ADAM_LOOSE (50 * GRAD_ATOL)

#define N_CASES 35

static const char *cell_names[] = { "rnn_tanh", "rnn_relu", "lstm", "gru" };
static double worst_rel[4];          /* per cell type, over all gradients */
static double worst_loss, worst_norm, worst_param;

static const char *
meta (const rnn_tensors *t, const char *key)
{
  const char *v = rnn_tensors_meta (t, key);
  if (v == NULL) {
    tu_check (0, "fixture metadata has %s", key);
    return "0";
  }
  return v;
}

static int
meta_int (const rnn_tensors *t, const char *key)
{
  return atoi (meta (t, key));
}

static double
meta_double (const rnn_tensors *t, const char *key)
{
  return g_ascii_strtod (meta (t, key), NULL);
}

static int
cell_index (const char *s)
{
  for (int i = 0; i < 4; i++)
    if (strcmp (s, cell_names[i]) == 0)
      return i;
  return -1;
}

static rnn_head_input
head_of (const char *s)
{
  if (strcmp (s, "final_hidden") == 0)
    return RNN_HEAD_FINAL_HIDDEN;
  if (strcmp (s, "final_hidden_both") == 0)
    return RNN_HEAD_FINAL_HIDDEN_BOTH;
  if (strcmp (s, "mean") == 0)
    return RNN_HEAD_MEAN;
  return RNN_HEAD_OUTPUT;
}

static const rnn_tensor *
need (const rnn_tensors *t, const char *case_name, const char *name)
{
  const rnn_tensor *x = rnn_tensors_find (t, name);
  if (x == NULL)
    tu_check (0, "%s: fixture has tensor %s", case_name, name);
  return x;
}

/* Largest |a-b| / (|b| + atol/rtol) over n values. */
static double
rel_err (const float *a, const float *b, size_t n, double atol, double rtol)
{
  double w = 0.0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs ((double) a[i] - b[i]) / (fabs ((double) b[i]) + atol / rtol);
    if (!(d <= w))
      w = isnan (d) ? INFINITY : d;
  }
  return w;
}

static void
run_case (const char *file)
{
  rnn_error err = { 0 };
  rnn_tensors *ts = NULL;
  rnn_model *m = NULL;
  rnn_trainer *tr = NULL;
  rnn_model_config mc;
  rnn_train_config tc;
  char *name = g_strndup (file, strlen (file) - strlen (".safetensors"));
  char *path = g_strdup_printf ("train/%s", file);
  int ci, steps, chunks, B, T, vocab, n_fixture_params = 0;
  const rnn_tensor *tx, *tids, *tlen, *ty, *tcls, *tz;
  float *x = NULL, *y = NULL;
  int32_t *ids = NULL, *cls = NULL;
  size_t *lengths = NULL;
  double max_norm;
  bool grads_ok = true;
  double case_rel = 0.0;

  if (rnn_tensors_load (tu_fixture (path), &ts, &err) != RNN_OK) {
    tu_check (0, "%s: load fixture: %s", name, err.msg);
    goto out;
  }
  ci = cell_index (meta (ts, "cell"));
  rnn_model_config_init (&mc);
  mc.cell = ci == 0 ? RNN_CELL_RNN_TANH : ci == 1 ? RNN_CELL_RNN_RELU
      : ci == 2 ? RNN_CELL_LSTM : RNN_CELL_GRU;
  mc.input_size = meta_int (ts, "input_size");
  vocab = mc.vocab_size = meta_int (ts, "vocab");
  mc.embed_dim = meta_int (ts, "embed_dim");
  mc.padding_idx = meta_int (ts, "padding_idx");
  mc.hidden_size = meta_int (ts, "hidden");
  mc.num_layers = meta_int (ts, "layers");
  mc.bidirectional = meta_int (ts, "bidirectional") != 0;
  mc.head_out = meta_int (ts, "head_out");
  mc.head_input = head_of (meta (ts, "head_input"));
  if (rnn_model_new (&mc, 7, &m, &err) != RNN_OK) {
    tu_check (0, "%s: rnn_model_new: %s", name, err.msg);
    goto out;
  }

  rnn_train_config_init (&tc);
  tc.optimizer = strcmp (meta (ts, "optimizer"), "sgd") == 0
      ? RNN_OPTIM_SGD : RNN_OPTIM_ADAM;
  tc.lr = meta_double (ts, "lr");
  tc.momentum = meta_double (ts, "momentum");
  tc.nesterov = meta_int (ts, "nesterov") != 0;
  tc.weight_decay = meta_double (ts, "weight_decay");
  tc.loss = strcmp (meta (ts, "loss"), "ce") == 0 ? RNN_LOSS_CROSS_ENTROPY
      : strcmp (meta (ts, "loss"), "bce") == 0 ? RNN_LOSS_BCE_LOGITS
      : RNN_LOSS_MSE;
  tc.target = strcmp (meta (ts, "target"), "last") == 0 ? RNN_TARGET_LAST
      : RNN_TARGET_ALL;
  chunks = meta_int (ts, "chunks");
  steps = chunks > 0 ? chunks : meta_int (ts, "steps");
  tc.stateful = chunks > 0;
  max_norm = meta_double (ts, "max_norm");
  if (rnn_trainer_new (m, &tc, &tr, &err) != RNN_OK) {
    tu_check (0, "%s: rnn_trainer_new: %s", name, err.msg);
    goto out;
  }

  /* PyTorch's initial parameters, by state_dict name. */
  for (size_t i = 0; i < rnn_tensors_count (ts); i++) {
    const char *n = rnn_tensors_get (ts, i)->name;
    if (!g_str_has_prefix (n, "in.") && !g_str_has_prefix (n, "out.")
        && !g_str_has_prefix (n, "grad.") && !g_str_has_prefix (n, "after."))
      n_fixture_params++;
  }
  tu_check (rnn_trainer_num_params (tr) == (size_t) n_fixture_params,
      "%s: trainer has the %d parameters of the PyTorch module (%zu)", name,
      n_fixture_params, rnn_trainer_num_params (tr));
  for (size_t i = 0; i < rnn_trainer_num_params (tr); i++) {
    const rnn_param *p = rnn_trainer_param (tr, i);
    const rnn_tensor *src = need (ts, name, p->name);
    if (src == NULL || src->numel != p->numel) {
      tu_check (0, "%s: parameter %s has PyTorch's shape", name, p->name);
      goto out;
    }
    memcpy (p->value, src->data, p->numel * sizeof (float));
  }

  /* The batch. */
  tx = rnn_tensors_find (ts, "in.x");
  tids = rnn_tensors_find (ts, "in.ids");
  tlen = rnn_tensors_find (ts, "in.lengths");
  ty = rnn_tensors_find (ts, "in.y");
  tcls = rnn_tensors_find (ts, "in.classes");
  B = meta_int (ts, "batch");
  T = meta_int (ts, "frames");
  if (tx)
    x = g_memdup2 (tx->data, tx->numel * sizeof (float));
  if (tids) {
    ids = g_new (int32_t, tids->numel);
    for (size_t i = 0; i < tids->numel; i++)
      ids[i] = (int32_t) tids->data[i];
  }
  if (tlen) {
    lengths = g_new (size_t, tlen->numel);
    for (size_t i = 0; i < tlen->numel; i++)
      lengths[i] = (size_t) tlen->data[i];
  }
  if (ty)
    y = g_memdup2 (ty->data, ty->numel * sizeof (float));
  if (tcls) {
    cls = g_new (int32_t, tcls->numel);
    for (size_t i = 0; i < tcls->numel; i++)
      cls[i] = (int32_t) tcls->data[i];
  }
  if ((tx == NULL) == (tids == NULL) || (ty == NULL) == (tcls == NULL)) {
    tu_check (0, "%s: fixture has one input and one target", name);
    goto out;
  }

  if (chunks == 0 && (tz = need (ts, name, "out.z")) != NULL) {
    /* Eval-mode outputs before training (no dropout in these cases) against
     * the outputs of PyTorch's first pass, in the documented row layout. */
    bool per_frame = mc.head_input == RNN_HEAD_OUTPUT
        && tc.target == RNN_TARGET_ALL;
    int O = mc.head_out;
    size_t rows = 0;
    float *want = g_new (float, tz->numel), *got = g_new (float, tz->numel);
    rnn_minibatch b = { .batch = B, .frames = T, .x = x, .ids = ids,
      .lengths = lengths, .y = y, .classes = cls };
    double loss = 0, e = 0;
    for (int s = 0; s < B; s++) {
      int len = lengths ? (int) lengths[s] : T;
      for (int f = 0; f < (per_frame ? len : 1); f++, rows++)
        memcpy (want + rows * O, tz->data + ((size_t) s * (per_frame ? T : 1)
                + f) * O, O * sizeof (float));
    }
    if (rnn_trainer_evaluate (tr, &b, &loss, got, &err) != RNN_OK)
      tu_check (0, "%s: evaluate: %s", name, err.msg);
    else {
      int ok = tu_close (got, want, rows * O, 1e-6, 1e-5, &e);
      tu_check (ok, "%s: evaluate gives PyTorch's %zu output rows (largest "
          "error %.3g)", name, rows, e);
    }
    g_free (want);
    g_free (got);
  }

  for (int k = 0; k < steps; k++) {
    rnn_minibatch b = { 0 };
    double loss = 0, norm;
    char key[64];
    const rnn_tensor *want;
    float *xc = NULL, *yc = NULL;

    b.batch = B;
    b.frames = T;
    b.x = x;
    b.ids = ids;
    b.lengths = lengths;
    b.y = y;
    b.classes = cls;
    if (chunks > 0) {
      /* chunk k of the stream: frames k*T .. k*T+T-1 of every sequence */
      int F = mc.input_size, O = mc.head_out, TT = T * chunks;
      xc = g_new (float, (size_t) B * T * F);
      yc = g_new (float, (size_t) B * T * O);
      for (int s = 0; s < B; s++) {
        memcpy (xc + (size_t) s * T * F, x + ((size_t) s * TT + k * T) * F,
            (size_t) T * F * sizeof (float));
        memcpy (yc + (size_t) s * T * O, y + ((size_t) s * TT + k * T) * O,
            (size_t) T * O * sizeof (float));
      }
      b.x = xc;
      b.y = yc;
    }
    rnn_trainer_zero_grad (tr);
    if (rnn_trainer_backward (tr, &b, &loss, NULL, &err) != RNN_OK) {
      tu_check (0, "%s: backward %d: %s", name, k + 1, err.msg);
      g_free (xc);
      g_free (yc);
      goto out;
    }
    g_snprintf (key, sizeof key, "out.loss%d", k + 1);
    if ((want = need (ts, name, key)) != NULL) {
      double d = fabs (loss - want->data[0]);
      worst_loss = MAX (worst_loss, d / (fabs (want->data[0]) + 1e-6));
      tu_check (d <= 1e-6 + 1e-5 * fabs (want->data[0]),
          "%s: loss %d %.8g equals PyTorch's %.8g", name, k + 1, loss,
          want->data[0]);
    }
    if (k == 0) {
      for (size_t i = 0; i < rnn_trainer_num_params (tr); i++) {
        const rnn_param *p = rnn_trainer_param (tr, i);
        char gk[256];
        const rnn_tensor *g;
        double r;
        g_snprintf (gk, sizeof gk, "grad.%s", p->name);
        if ((g = need (ts, name, gk)) == NULL || g->numel != p->numel) {
          grads_ok = false;
          continue;
        }
        r = rel_err (p->grad, g->data, p->numel, GRAD_ATOL, GRAD_RTOL);
        case_rel = MAX (case_rel, r);
        if (!tu_close (p->grad, g->data, p->numel, GRAD_ATOL, GRAD_RTOL,
                NULL)) {
          grads_ok = false;
          tu_check (0, "%s: gradient of %s (relative error %.3g)", name,
              p->name, r);
        }
      }
      worst_rel[ci] = MAX (worst_rel[ci], case_rel);
      tu_check (grads_ok, "%s: all %zu gradients within %g relative (largest "
          "%.3g)", name, rnn_trainer_num_params (tr), GRAD_RTOL, case_rel);
    }
    norm = rnn_trainer_clip_grad_norm (tr, max_norm);
    g_snprintf (key, sizeof key, "out.norm%d", k + 1);
    if ((want = need (ts, name, key)) != NULL) {
      double d = fabs (norm - want->data[0]);
      worst_norm = MAX (worst_norm, d / (fabs (want->data[0]) + 1e-6));
      tu_check (d <= 1e-6 + 1e-5 * fabs (want->data[0]),
          "%s: clip_grad_norm %d returns %.8g, PyTorch %.8g (max_norm %g)",
          name, k + 1, norm, want->data[0], max_norm);
    }
    if (rnn_trainer_step (tr, &err) != RNN_OK)
      tu_check (0, "%s: step: %s", name, err.msg);
    g_free (xc);
    g_free (yc);
  }

  {
    /* Adam divides m by sqrt(v) + 1e-8, so from its second step the move
     * of an element depends on the ratio of its successive gradients, not
     * on their size: a small gradient element's update swings with its
     * last digits, which differ between GEMM orders and between the
     * activation kernels (both sides are right within the gradient
     * tolerance above, whose absolute floor GRAD_ATOL is 2 % or more of a
     * gradient below ADAM_LOOSE; measured: moves of up to 3e-5 with lr 0.01
     * for gradients of 2e-6 .. 3e-5 from activations that differ by 1e-7).
     * Elements whose first gradient is non-zero but below ADAM_LOOSE are
     * held only to Adam's largest possible move, lr per step; every other
     * element to PARAM_ATOL + PARAM_RTOL |p|. */
    bool ok = true;
    double worst = 0;
    size_t loose = 0;
    for (size_t i = 0; i < rnn_trainer_num_params (tr); i++) {
      const rnn_param *p = rnn_trainer_param (tr, i);
      char ak[256], gk[256];
      const rnn_tensor *a, *g;
      double e = 0;
      bool pok = true;
      g_snprintf (ak, sizeof ak, "after.%s", p->name);
      g_snprintf (gk, sizeof gk, "grad.%s", p->name);
      a = need (ts, name, ak);
      g = rnn_tensors_find (ts, gk);
      if (a == NULL || a->numel != p->numel || g == NULL
          || g->numel != p->numel) {
        ok = false;
        continue;
      }
      for (size_t j = 0; j < p->numel; j++) {
        double d = fabs ((double) p->value[j] - a->data[j]);
        if (tc.optimizer == RNN_OPTIM_ADAM && chunks == 0
            && g->data[j] != 0.0f && fabs (g->data[j]) < ADAM_LOOSE) {
          loose++;
          pok = pok && d <= tc.lr * steps;
          continue;
        }
        pok = pok && d <= PARAM_ATOL + PARAM_RTOL * fabs (a->data[j]);
        e = MAX (e, d);
      }
      if (!pok) {
        ok = false;
        tu_check (0, "%s: %s after the steps (largest error %.3g)", name,
            p->name, e);
      }
      worst = MAX (worst, e);
    }
    if (loose)
      printf ("# %s: %zu element(s) with 0 < |gradient| < %g held to lr per "
          "step\n", name, loose, ADAM_LOOSE);
    worst_param = MAX (worst_param, worst);
    tu_check (ok, "%s: parameters after %d %s step%s equal PyTorch's "
        "(largest error %.3g)", name, steps,
        tc.optimizer == RNN_OPTIM_SGD ? "SGD" : "Adam", steps > 1 ? "s" : "",
        worst);
  }
  (void) vocab;

out:
  rnn_trainer_free (tr);
  rnn_model_free (m);
  rnn_tensors_free (ts);
  g_free (x);
  g_free (y);
  g_free (ids);
  g_free (cls);
  g_free (lengths);
  g_free (path);
  g_free (name);
}

static int
cmp_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static void
test_parity (void)
{
  GDir *dir;
  const char *f;
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
  char *dirpath = g_strdup (tu_fixture ("train"));

  dir = g_dir_open (dirpath, 0, NULL);
  tu_check (dir != NULL, "fixture directory %s", dirpath);
  if (dir) {
    while ((f = g_dir_read_name (dir)) != NULL)
      if (g_str_has_suffix (f, ".safetensors"))
        g_ptr_array_add (files, g_strdup (f));
    g_dir_close (dir);
  }
  g_ptr_array_sort (files, cmp_names);
  tu_check (files->len == N_CASES, "%d parity cases found (%u)", N_CASES,
      files->len);
  for (guint i = 0; i < files->len; i++)
    run_case (g_ptr_array_index (files, i));
  for (int c = 0; c < 4; c++)
    printf ("# largest gradient relative error, %s: %.3g\n", cell_names[c],
        worst_rel[c]);
  printf ("# largest loss relative error %.3g, clip norm relative error "
      "%.3g, parameter error after steps %.3g\n", worst_loss, worst_norm,
      worst_param);
  g_ptr_array_unref (files);
  g_free (dirpath);
}

/* ----------------------------------------------------------- init */

static void
stats (const float *p, size_t n, double *mean, double *var, double *amax)
{
  double s = 0, s2 = 0, mx = 0;
  for (size_t i = 0; i < n; i++) {
    s += p[i];
    mx = MAX (mx, fabs (p[i]));
  }
  s /= n;
  for (size_t i = 0; i < n; i++)
    s2 += (p[i] - s) * (p[i] - s);
  *mean = s;
  *var = s2 / n;
  *amax = mx;
}

static void
test_init (void)
{
  rnn_model_config mc;
  rnn_train_config tc;
  rnn_model *m = NULL;
  rnn_trainer *tr = NULL;
  rnn_error err = { 0 };
  int bad = 0;

  rnn_model_config_init (&mc);
  mc.cell = RNN_CELL_LSTM;
  mc.vocab_size = 500;
  mc.embed_dim = 16;
  mc.padding_idx = 0;
  mc.hidden_size = 64;
  mc.num_layers = 2;
  mc.bidirectional = true;
  mc.head_out = 3;
  mc.head_input = RNN_HEAD_FINAL_HIDDEN_BOTH;
  mc.task = RNN_TASK_CLASSIFY;
  if (rnn_model_new (&mc, 123, &m, &err) != RNN_OK) {
    tu_check (0, "init: rnn_model_new: %s", err.msg);
    return;
  }
  tu_check (rnn_model_num_layers (m) == 2 && rnn_model_num_directions (m) == 2
      && rnn_model_hidden_size (m) == 64 && rnn_model_input_size (m) == 16
      && rnn_model_output_size (m) == 3 && rnn_model_vocab_size (m) == 500
      && rnn_model_task (m) == RNN_TASK_CLASSIFY
      && rnn_model_head_input (m) == RNN_HEAD_FINAL_HIDDEN_BOTH,
      "init: the new model reports its configuration");
  rnn_train_config_init (&tc);
  if (rnn_trainer_new (m, &tc, &tr, &err) != RNN_OK) {
    tu_check (0, "init: rnn_trainer_new: %s", err.msg);
    rnn_model_free (m);
    return;
  }
  /* 1 embedding + 2 layers x 2 directions x 4 + head 2 */
  tu_check (rnn_trainer_num_params (tr) == 19, "init: 19 parameters (%zu)",
      rnn_trainer_num_params (tr));
  for (size_t i = 0; i < rnn_trainer_num_params (tr); i++) {
    const rnn_param *p = rnn_trainer_param (tr, i);
    double mean, var, amax, bound;
    stats (p->value, p->numel, &mean, &var, &amax);
    if (strcmp (p->name, "embedding.weight") == 0) {
      bool pad_zero = true;
      for (int k = 0; k < 16; k++)
        pad_zero = pad_zero && p->value[k] == 0.0f;
      tu_check (pad_zero, "init: embedding padding row is zero");
      /* N(0,1): 8000 values, the padding row included */
      tu_check (fabs (mean) < 0.05 && fabs (var - 1.0) < 0.08 && amax > 3.0,
          "init: embedding ~ N(0,1) (mean %.3f, var %.3f, max |x| %.2f)",
          mean, var, amax);
      continue;
    }
    bound = g_str_has_prefix (p->name, "fc.") ? 1.0 / sqrt (128.0)
        : 1.0 / sqrt (64.0);
    /* U(-b, b): variance b^2/3, every value inside, the edges reached */
    if (!(amax <= bound && (p->numel < 100 || amax > 0.97 * bound)
            && fabs (mean) < 5.0 * bound / sqrt (3.0 * p->numel) + 1e-9
            && (p->numel < 100 || fabs (var / (bound * bound / 3.0) - 1.0)
                < 0.15))) {
      bad++;
      tu_check (0, "init: %s ~ U(-%.4f, %.4f) (mean %.4f, var %.3g, max "
          "%.4f)", p->name, bound, bound, mean, var, amax);
    }
  }
  tu_check (bad == 0, "init: every recurrent and head parameter follows "
      "PyTorch's default U(-1/sqrt(fan), 1/sqrt(fan))");

  /* The same network initialised by PyTorch (summary statistics from
   * gen_train.py): same largest |value| (within the sampling spread near the
   * bound), same variance, mean near zero, parameter by parameter. */
  {
    rnn_tensors *ts = NULL;
    int compared = 0;
    bad = 0;
    if (rnn_tensors_load (tu_fixture ("train/init/pytorch-init-stats."
                "safetensors"), &ts, &err) != RNN_OK) {
      tu_check (0, "init: PyTorch statistics: %s", err.msg);
    } else {
      for (size_t i = 0; i < rnn_trainer_num_params (tr); i++) {
        const rnn_param *p = rnn_trainer_param (tr, i);
        char k1[256], k2[256];
        const rnn_tensor *tmax, *tvar;
        double mean, var, amax;
        g_snprintf (k1, sizeof k1, "absmax.%s", p->name);
        g_snprintf (k2, sizeof k2, "var.%s", p->name);
        tmax = rnn_tensors_find (ts, k1);
        tvar = rnn_tensors_find (ts, k2);
        if (tmax == NULL || tvar == NULL) {
          bad++;
          tu_check (0, "init: PyTorch statistics for %s", p->name);
          continue;
        }
        stats (p->value, p->numel, &mean, &var, &amax);
        compared++;
        if (p->numel >= 100 && !(fabs (var / tvar->data[0] - 1.0) < 0.2
                && (g_str_has_prefix (p->name, "embedding")
                    ? fabs (amax / tmax->data[0] - 1.0) < 0.35
                    : fabs (amax / tmax->data[0] - 1.0) < 0.03))) {
          bad++;
          tu_check (0, "init: %s: variance %.4g vs PyTorch %.4g, max |x| "
              "%.4g vs %.4g", p->name, var, tvar->data[0], amax,
              tmax->data[0]);
        }
      }
      tu_check (bad == 0 && compared == 19, "init: %d parameters distributed "
          "like PyTorch's own initialisation of the same network", compared);
    }
    rnn_tensors_free (ts);
  }
  rnn_trainer_free (tr);
  rnn_model_free (m);
}

/* --------------------------------------------------- reproducibility */

/* Make a 2-layer GRU from @seed, train it 3 steps with dropout (the trainer
 * seeded with @seed too), save it to @path. */
static bool
train_and_save (uint64_t seed, const char *path, double *final_loss)
{
  rnn_model_config mc;
  rnn_train_config tc;
  rnn_model *m = NULL;
  rnn_trainer *tr = NULL;
  rnn_error err = { 0 };
  float x[2 * 8 * 2], y[2 * 8 * 2];
  rnn_minibatch b = { .batch = 2, .frames = 8, .x = x, .y = y };
  bool ok = true;

  for (int i = 0; i < 32; i++) {
    x[i] = (float) sin (0.3 * i);
    y[i] = (float) cos (0.2 * i);
  }
  rnn_model_config_init (&mc);
  mc.cell = RNN_CELL_GRU;
  mc.input_size = 2;
  mc.hidden_size = 8;
  mc.num_layers = 2;
  mc.head_out = 2;
  mc.task = RNN_TASK_FORECAST;
  rnn_train_config_init (&tc);
  tc.dropout = 0.3;
  tc.seed = seed;
  if (rnn_model_new (&mc, seed, &m, &err) != RNN_OK
      || rnn_trainer_new (m, &tc, &tr, &err) != RNN_OK) {
    tu_check (0, "reproducible: setup: %s", err.msg);
    ok = false;
    goto out;
  }
  for (int k = 0; k < 3 && ok; k++) {
    rnn_trainer_zero_grad (tr);
    ok = rnn_trainer_backward (tr, &b, final_loss, NULL, &err) == RNN_OK
        && rnn_trainer_step (tr, &err) == RNN_OK;
  }
  ok = ok && rnn_model_set_meta (m, "window", "8", &err) == RNN_OK
      && rnn_model_save (m, path, &err) == RNN_OK;
  if (!ok)
    tu_check (0, "reproducible: train and save: %s", err.msg);
out:
  rnn_trainer_free (tr);
  rnn_model_free (m);
  return ok;
}

static void
test_reproducible (void)
{
  char *dir = g_dir_make_tmp ("test-train-XXXXXX", NULL);
  char *p1 = g_build_filename (dir, "a.safetensors", NULL);
  char *p2 = g_build_filename (dir, "b.safetensors", NULL);
  char *p3 = g_build_filename (dir, "c.safetensors", NULL);
  double l1 = 0, l2 = 0, l3 = 0;

  if (train_and_save (42, p1, &l1) && train_and_save (42, p2, &l2)
      && train_and_save (43, p3, &l3)) {
    gsize n1 = 0, n2 = 0, n3 = 0;
    char *a = tu_read_all (p1, &n1), *b = tu_read_all (p2, &n2),
        *c = tu_read_all (p3, &n3);
    tu_check (a && b && n1 == n2 && n1 > 0 && memcmp (a, b, n1) == 0,
        "reproducible: same seed, same model bytes after training with "
        "dropout (%zu bytes)", (size_t) n1);
    tu_check (c && !(n1 == n3 && memcmp (a, c, n1) == 0) && l1 != l3,
        "reproducible: another seed gives another model");
    {
      rnn_model *m = NULL;
      rnn_error err = { 0 };
      tu_check (rnn_model_load (p1, &m, &err) == RNN_OK
          && rnn_model_window (m) == 8
          && rnn_model_task (m) == RNN_TASK_FORECAST
          && rnn_model_cell (m) == RNN_CELL_GRU
          && rnn_model_num_layers (m) == 2,
          "reproducible: the saved model loads back (%s)", err.msg);
      rnn_model_free (m);
    }
    g_free (a);
    g_free (b);
    g_free (c);
  }
  g_unlink (p1);
  g_unlink (p2);
  g_unlink (p3);
  g_rmdir (dir);
  g_free (p1);
  g_free (p2);
  g_free (p3);
  g_free (dir);
}

/* ------------------------------------------------------------- dropout */

static void
test_dropout (void)
{
  rnn_model_config mc;
  rnn_train_config tc;
  rnn_model *m = NULL;
  rnn_trainer *t0 = NULL, *t1 = NULL;
  rnn_error err = { 0 };
  float x[4 * 10 * 3], y[4 * 10];
  rnn_minibatch b = { .batch = 4, .frames = 10, .x = x, .y = y };
  double e0 = 0, e1 = 0, tr_loss = 0, tr_loss2 = 0;
  float *g1;
  size_t n;
  int differ = 0;

  for (int i = 0; i < 120; i++)
    x[i] = (float) sin (0.7 * i);
  for (int i = 0; i < 40; i++)
    y[i] = (float) cos (0.4 * i);
  rnn_model_config_init (&mc);
  mc.input_size = 3;
  mc.hidden_size = 16;
  mc.num_layers = 3;
  rnn_model_new (&mc, 5, &m, &err);
  rnn_train_config_init (&tc);
  rnn_trainer_new (m, &tc, &t0, &err);
  tc.dropout = 0.5;
  tc.seed = 9;
  if (m == NULL || t0 == NULL || rnn_trainer_new (m, &tc, &t1, &err)) {
    tu_check (0, "dropout: setup: %s", err.msg);
    goto out;
  }
  rnn_trainer_evaluate (t0, &b, &e0, NULL, &err);
  rnn_trainer_evaluate (t1, &b, &e1, NULL, &err);
  tu_check (e0 == e1, "dropout: evaluation does not drop (%.8g == %.8g)",
      e0, e1);
  rnn_trainer_zero_grad (t1);
  rnn_trainer_backward (t1, &b, &tr_loss, NULL, &err);
  tu_check (tr_loss != e1, "dropout: training mode drops (%.6g vs %.6g)",
      tr_loss, e1);
  /* same trainer seed again: identical masks, identical gradients */
  n = rnn_trainer_param (t1, 0)->numel;
  g1 = g_memdup2 (rnn_trainer_param (t1, 0)->grad, n * sizeof (float));
  rnn_trainer_free (t1);
  t1 = NULL;
  rnn_trainer_new (m, &tc, &t1, &err);
  rnn_trainer_backward (t1, &b, &tr_loss2, NULL, &err);
  tu_check (tr_loss2 == tr_loss && memcmp (g1, rnn_trainer_param (t1, 0)->grad,
          n * sizeof (float)) == 0,
      "dropout: the same seed gives the same masks and gradients");
  /* the next call draws new masks */
  rnn_trainer_zero_grad (t1);
  rnn_trainer_backward (t1, &b, &tr_loss2, NULL, &err);
  differ = tr_loss2 != tr_loss;
  tu_check (differ, "dropout: a new mask per call");
  g_free (g1);
out:
  rnn_trainer_free (t0);
  rnn_trainer_free (t1);
  rnn_model_free (m);
}

/* The mask itself, made visible: a 2-layer relu RNN without head whose first
 * layer outputs 1 everywhere (zero weights, bias 1) and whose second layer
 * copies its input (identity w_ih, zero w_hh and biases), so the outputs are
 * the dropout mask between the layers: 0 with probability p, else 1/(1-p). */
static void
test_dropout_rate (void)
{
  const int H = 16, B = 8, T = 50;
  const double p = 0.3;
  rnn_model_config mc;
  rnn_train_config tc;
  rnn_model *m = NULL;
  rnn_trainer *tr = NULL;
  rnn_error err = { 0 };
  float *x = g_new0 (float, B * T), *y = g_new0 (float, B * T * H);
  float *out = g_new0 (float, B * T * H);
  rnn_minibatch b = { .batch = B, .frames = T, .x = x, .y = y };
  size_t zeros = 0, kept_ok = 0, n = (size_t) B * T * H;
  double loss;

  rnn_model_config_init (&mc);
  mc.cell = RNN_CELL_RNN_RELU;
  mc.hidden_size = H;
  mc.num_layers = 2;
  mc.head_out = 0;
  rnn_train_config_init (&tc);
  tc.dropout = p;
  tc.seed = 11;
  if (rnn_model_new (&mc, 1, &m, &err) || rnn_trainer_new (m, &tc, &tr, &err)) {
    tu_check (0, "dropout rate: setup: %s", err.msg);
    goto out;
  }
  for (size_t i = 0; i < rnn_trainer_num_params (tr); i++) {
    const rnn_param *q = rnn_trainer_param (tr, i);
    memset (q->value, 0, q->numel * sizeof (float));
    if (strcmp (q->name, "rnn.bias_ih_l0") == 0)
      for (size_t j = 0; j < q->numel; j++)
        q->value[j] = 1.0f;
    if (strcmp (q->name, "rnn.weight_ih_l1") == 0)
      for (int j = 0; j < H; j++)
        q->value[j * H + j] = 1.0f;
  }
  if (rnn_trainer_backward (tr, &b, &loss, out, &err) != RNN_OK) {
    tu_check (0, "dropout rate: backward: %s", err.msg);
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    if (out[i] == 0.0f)
      zeros++;
    else if (fabs (out[i] - 1.0 / (1.0 - p)) < 1e-6)
      kept_ok++;
  }
  /* 6400 Bernoulli(0.3) draws: standard deviation of the rate 0.0057 */
  tu_check (fabs ((double) zeros / n - p) < 0.03 && zeros + kept_ok == n,
      "dropout rate: %.4f of %zu elements dropped (p = %.1f), the others "
      "scaled to 1/(1-p)", (double) zeros / n, n, p);
  rnn_trainer_evaluate (tr, &b, NULL, out, &err);
  kept_ok = 0;
  for (size_t i = 0; i < n; i++)
    kept_ok += out[i] == 1.0f;
  tu_check (kept_ok == n, "dropout rate: eval mode passes everything");
out:
  rnn_trainer_free (tr);
  rnn_model_free (m);
  g_free (x);
  g_free (y);
  g_free (out);
}

/* ------------------------------------------- trained model runs in engine */

static void
test_sync_engine (void)
{
  rnn_model_config mc;
  rnn_train_config tc;
  rnn_model *m = NULL;
  rnn_trainer *tr = NULL;
  rnn_state *s = NULL;
  rnn_error err = { 0 };
  float x[12 * 2], y[12], out_t[12], out_e[12];
  rnn_minibatch b = { .batch = 1, .frames = 12, .x = x, .y = y };
  double e = 0;

  for (int i = 0; i < 24; i++)
    x[i] = (float) sin (0.5 * i);
  for (int i = 0; i < 12; i++)
    y[i] = (float) sin (0.5 * i + 0.5);
  rnn_model_config_init (&mc);
  mc.input_size = 2;
  mc.hidden_size = 8;
  mc.num_layers = 2;
  mc.task = RNN_TASK_FORECAST;
  rnn_train_config_init (&tc);
  tc.lr = 0.05;
  if (rnn_model_new (&mc, 3, &m, &err) || rnn_trainer_new (m, &tc, &tr, &err)) {
    tu_check (0, "sync: setup: %s", err.msg);
    goto out;
  }
  for (int k = 0; k < 5; k++) {
    rnn_trainer_zero_grad (tr);
    rnn_trainer_backward (tr, &b, &e, NULL, &err);
    rnn_trainer_step (tr, &err);
  }
  rnn_trainer_evaluate (tr, &b, NULL, out_t, &err);
  if (rnn_trainer_sync (tr, &err) != RNN_OK
      || rnn_state_new (m, 16, &s, &err) != RNN_OK
      || rnn_state_forward (s, x, 12, out_e, &err) != RNN_OK) {
    tu_check (0, "sync: run the trained model: %s", err.msg);
    goto out;
  }
  {
    double worst = 0;
    int ok = tu_close (out_e, out_t, 12, 1e-5, 1e-4, &worst);
    tu_check (ok,
        "sync: the inference engine runs the trained parameters (largest "
        "difference %.3g)", worst);
  }
out:
  rnn_state_free (s);
  rnn_trainer_free (tr);
  rnn_model_free (m);
}

/* -------------------------------------------------------------- errors */

static void
test_errors (void)
{
  rnn_model_config mc;
  rnn_train_config tc;
  rnn_model *m = NULL, *tm = NULL;
  rnn_trainer *tr = NULL;
  rnn_error err = { 0 };
  float x[2 * 3 * 1] = { 0 }, y[2 * 3] = { 0 };
  int32_t ids[6] = { 1, 2, 3, 4, 5, 99 };
  int32_t cls[2] = { 0, 7 };
  size_t lens[2] = { 3, 0 };
  rnn_minibatch b = { .batch = 2, .frames = 3, .x = x, .y = y };
  rnn_status st;

  rnn_model_config_init (&mc);
  mc.proj_size = 2;
  st = rnn_model_new (&mc, 1, &m, &err);
  tu_check (st == RNN_ERR_UNSUPPORTED && m == NULL
      && strstr (err.msg, "projection"), "errors: proj_size refused: %s",
      err.msg);
  rnn_model_config_init (&mc);
  mc.head_input = RNN_HEAD_FINAL_HIDDEN_BOTH;
  st = rnn_model_new (&mc, 1, &m, &err);
  tu_check (st == RNN_ERR_ARG && m == NULL,
      "errors: final_hidden_both on one state refused: %s", err.msg);
  rnn_model_config_init (&mc);
  mc.hidden_size = 0;
  st = rnn_model_new (&mc, 1, &m, &err);
  tu_check (st == RNN_ERR_ARG && strstr (err.msg, "hidden 0"),
      "errors: hidden size 0 refused: %s", err.msg);
  rnn_model_config_init (&mc);
  mc.hidden_size = 100000;
  mc.num_layers = 4;
  st = rnn_model_new (&mc, 1, &m, &err);
  tu_check (st == RNN_ERR_ARG && m == NULL && strstr (err.msg, "parameters"),
      "errors: a model too large refused: %s", err.msg);
  /* 2^21 tokens x 1024 dims is 2^31 parameters in the embedding alone, with
   * a tiny stack: the count must include vocabulary x embedding dim.  (A
   * count that drops the embedding lets this through to an 8 GiB
   * allocation, so a regression shows as NOMEM, a slow pass to the check
   * below, or an OOM; never as a silent pass.) */
  rnn_model_config_init (&mc);
  mc.vocab_size = 1 << 21;
  mc.embed_dim = 1024;
  mc.hidden_size = 4;
  st = rnn_model_new (&mc, 1, &m, &err);
  tu_check (st == RNN_ERR_ARG && m == NULL && strstr (err.msg, "2.15e+09"),
      "errors: a 2.1e9-parameter embedding refused: %s", err.msg);
  rnn_model_free (m);
  m = NULL;

  rnn_model_config_init (&mc);
  rnn_model_new (&mc, 1, &m, &err);
  rnn_train_config_init (&tc);
  tc.dropout = 1.0;
  st = rnn_trainer_new (m, &tc, &tr, &err);
  tu_check (st == RNN_ERR_ARG && tr == NULL && strstr (err.msg, "dropout 1"),
      "errors: dropout 1 refused: %s", err.msg);
  rnn_train_config_init (&tc);
  tc.target = RNN_TARGET_LAST;
  tc.stateful = true;
  rnn_trainer_new (m, &tc, &tr, &err);
  b.lengths = lens;
  st = rnn_trainer_backward (tr, &b, NULL, NULL, &err);
  tu_check (st == RNN_ERR_ARG && strstr (err.msg, "sequence 1 has length 0"),
      "errors: a zero length refused: %s", err.msg);
  b.lengths = NULL;
  b.y = NULL;
  st = rnn_trainer_backward (tr, &b, NULL, NULL, &err);
  tu_check (st == RNN_ERR_ARG && strstr (err.msg, "targets"),
      "errors: missing targets refused: %s", err.msg);
  b.y = y;
  rnn_trainer_backward (tr, &b, NULL, NULL, &err);
  b.batch = 1;
  st = rnn_trainer_backward (tr, &b, NULL, NULL, &err);
  tu_check (st == RNN_ERR_ARG && strstr (err.msg, "carries 2"),
      "errors: stateful batch size change refused: %s", err.msg);
  rnn_trainer_reset_state (tr);
  st = rnn_trainer_backward (tr, &b, NULL, NULL, &err);
  tu_check (st == RNN_OK, "errors: accepted after reset_state");
  b.batch = 2;
  b.x = NULL;
  b.ids = ids;
  st = rnn_trainer_backward (tr, &b, NULL, NULL, &err);
  tu_check (st == RNN_ERR_ARG && strstr (err.msg, "signal model"),
      "errors: ids for a signal model refused: %s", err.msg);
  rnn_trainer_free (tr);
  tr = NULL;

  rnn_model_config_init (&mc);
  mc.vocab_size = 50;
  mc.embed_dim = 4;
  mc.head_out = 3;
  mc.head_input = RNN_HEAD_FINAL_HIDDEN;
  rnn_model_new (&mc, 1, &tm, &err);
  rnn_train_config_init (&tc);
  tc.loss = RNN_LOSS_CROSS_ENTROPY;
  rnn_trainer_new (tm, &tc, &tr, &err);
  b.classes = cls;
  st = rnn_trainer_backward (tr, &b, NULL, NULL, &err);
  tu_check (st == RNN_ERR_ARG && strstr (err.msg, "token id 99"),
      "errors: token id out of range refused: %s", err.msg);
  ids[5] = 9;
  st = rnn_trainer_backward (tr, &b, NULL, NULL, &err);
  tu_check (st == RNN_ERR_ARG && strstr (err.msg, "class 7"),
      "errors: class out of range refused: %s", err.msg);
  b.ids = NULL;
  b.x = x;
  st = rnn_trainer_backward (tr, &b, NULL, NULL, &err);
  tu_check (st == RNN_ERR_ARG && strstr (err.msg, "token ids"),
      "errors: frames for a text model refused: %s", err.msg);
  tu_check (rnn_model_set_meta (tm, "task", "dance", &err) == RNN_ERR_ARG
      && strstr (err.msg, "dance"), "errors: bad task metadata refused: %s",
      err.msg);
  rnn_trainer_free (tr);
  rnn_model_free (tm);
  rnn_model_free (m);
}

int
main (void)
{
  test_parity ();
  test_init ();
  test_reproducible ();
  test_dropout ();
  test_dropout_rate ();
  test_sync_engine ();
  test_errors ();
  return tu_finish ();
}
