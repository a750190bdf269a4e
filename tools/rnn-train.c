/* gst-rnn: rnn-train, the trainer command line.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   rnn-train forecast|anomaly|classify --data FILE --output MODEL.safetensors
 *
 * Signals (forecast, anomaly): a one-step forecaster, output frame t is the
 * prediction of input frame t+1, trained either on windows (--window N: each
 * sample is N frames from a zero state, the loss reads the last frame) or
 * statefully with truncated BPTT (--bptt K: the series is cut into
 * --batch-size parallel streams fed K frames per step, state carried and
 * detached between steps, the loss reads every frame). Texts (classify): an
 * embedding + recurrent stack + linear head over whole sentences.
 * See docs/rnn-train.md.
 */
#include "rnn.h"
#include "train-data.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- options */

static char *opt_data, *opt_output, *opt_columns, *opt_time_column;
static char *opt_group_column, *opt_label_column, *opt_delimiter;
static char *opt_cell, *opt_optimizer, *opt_pooling, *opt_label_names;
/* Options left unset keep these values, replaced by per-task defaults. */
#define UNSET_I G_MININT
#define UNSET_D (-G_MAXDOUBLE)
static int opt_hidden = UNSET_I, opt_layers = UNSET_I, opt_window = UNSET_I;
static int opt_bptt = UNSET_I, opt_epochs = UNSET_I, opt_batch = UNSET_I;
static int opt_patience = UNSET_I, opt_embed = UNSET_I, opt_vocab = UNSET_I;
static int opt_min_count = UNSET_I;
static double opt_lr = UNSET_D, opt_clip = UNSET_D, opt_val = UNSET_D;
static double opt_wd = UNSET_D, opt_dropout = UNSET_D;
static double opt_word_dropout = UNSET_D;
static char *opt_lowercase, *opt_unk_classes, *opt_save_precision;
static gint64 opt_seed = 1;
static gboolean opt_bidir, opt_quiet;

static GOptionEntry entries[] = {
  { "data", 'd', 0, G_OPTION_ARG_FILENAME, &opt_data,
    "Training data: CSV (forecast, anomaly); JSON array, JSON lines or TSV "
    "(classify); word/TAG sentences or CoNLL token<TAB>tag, a file or a "
    "directory of them (tag)", "FILE" },
  { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_output,
    "Model file to write (safetensors)", "MODEL" },
  { "save-precision", 0, 0, G_OPTION_ARG_STRING, &opt_save_precision,
    "Store the recurrent weights (weight_hh, weight_hr) as f32 (default) or "
    "bf16: half their bytes, exactly what the elements' precision=bf16 "
    "computes with; training, validation and anomaly calibration use "
    "float32", "f32|bf16" },
  { "columns", 'c', 0, G_OPTION_ARG_STRING, &opt_columns,
    "Feature columns by name or 0-based index, comma separated "
    "(default: every column whose first data row holds a number or a "
    "missing value, but the time, group and label columns)", "LIST" },
  { "delimiter", 0, 0, G_OPTION_ARG_STRING, &opt_delimiter,
    "CSV field separator: one character, or tab (default ,)", "CHAR" },
  { "time-column", 0, 0, G_OPTION_ARG_STRING, &opt_time_column,
    "Column holding time stamps, excluded from the features", "COL" },
  { "group-column", 0, 0, G_OPTION_ARG_STRING, &opt_group_column,
    "Column whose changes of value start a new sequence (e.g. a sensor id)",
    "COL" },
  { "label-column", 0, 0, G_OPTION_ARG_STRING, &opt_label_column,
    "anomaly: column of labels; rows not 0 are left out of training",
    "COL" },
  { "cell", 0, 0, G_OPTION_ARG_STRING, &opt_cell,
    "lstm, gru or rnn (default: lstm; gru for anomaly)", "CELL" },
  { "hidden", 0, 0, G_OPTION_ARG_INT, &opt_hidden,
    "Hidden size (default 64; anomaly 32)", "H" },
  { "layers", 0, 0, G_OPTION_ARG_INT, &opt_layers,
    "Stacked layers (default 2; anomaly 1)", "N" },
  { "bidirectional", 0, 0, G_OPTION_ARG_NONE, &opt_bidir,
    "Bidirectional layers (classify; tag always is: a live signal has no "
    "future)",
    NULL },
  { "window", 0, 0, G_OPTION_ARG_INT, &opt_window,
    "Train on windows of N frames, recorded as `window` metadata "
    "(forecast default: 32)", "N" },
  { "bptt", 0, 0, G_OPTION_ARG_INT, &opt_bptt,
    "Train statefully, truncated BPTT over K frames (anomaly default: "
    "32)", "K" },
  { "epochs", 'e', 0, G_OPTION_ARG_INT, &opt_epochs,
    "Most epochs (default 100; classify 30)", "N" },
  { "batch-size", 'b', 0, G_OPTION_ARG_INT, &opt_batch,
    "Sequences per step; for --bptt the most parallel streams (default "
    "16; classify 32)", "B" },
  { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &opt_lr,
    "Learning rate (default 0.003; classify 0.001)", "LR" },
  { "clip", 0, 0, G_OPTION_ARG_DOUBLE, &opt_clip,
    "Clip the global gradient norm to this (0: no clipping; default 1)",
    "NORM" },
  { "val-split", 0, 0, G_OPTION_ARG_DOUBLE, &opt_val,
    "Fraction held out for validation: the end of every sequence (default "
    "0.2), or a seeded random subset of the texts (default 0.15)", "F" },
  { "seed", 0, 0, G_OPTION_ARG_INT64, &opt_seed,
    "Random seed (initialisation, split, shuffling, dropout; default 1)",
    "S" },
  { "patience", 0, 0, G_OPTION_ARG_INT, &opt_patience,
    "Stop after N epochs without a better validation loss (0: never; "
    "default 20, classify 6); the best parameters are kept", "N" },
  { "embed-dim", 0, 0, G_OPTION_ARG_INT, &opt_embed,
    "classify: embedding size (default 64)", "E" },
  { "vocab-size", 0, 0, G_OPTION_ARG_INT, &opt_vocab,
    "classify: largest vocabulary, <pad> and <unk> included (default "
    "20000)", "N" },
  { "min-count", 0, 0, G_OPTION_ARG_INT, &opt_min_count,
    "classify: keep tokens seen at least N times (default 2)", "N" },
  { "label-names", 0, 0, G_OPTION_ARG_STRING, &opt_label_names,
    "classify: names written as the `labels` metadata, one per class in "
    "class-index order, comma separated (default: the class values of the "
    "data)", "LIST" },
  { "pooling", 0, 0, G_OPTION_ARG_STRING, &opt_pooling,
    "classify: what the head reads, last (final hidden state) or mean "
    "(mean of the outputs); default last", "last|mean" },
  { "word-dropout", 0, 0, G_OPTION_ARG_DOUBLE, &opt_word_dropout,
    "classify: replace each training token by <unk> with this "
    "probability (default 0.3); tag: a token seen c times in training "
    "becomes its unknown-word id with probability P/(P+c) (default 0.25)",
    "P" },
  { "lowercase", 0, 0, G_OPTION_ARG_STRING, &opt_lowercase,
    "tag: lower-case tokens before the vocabulary lookup "
    "(tokenizer.lowercase; default false: case tells names apart)",
    "true|false" },
  { "unk-classes", 0, 0, G_OPTION_ARG_STRING, &opt_unk_classes,
    "tag: unknown words map to classes by shape and suffix "
    "(tokenizer.unk_classes; default shape-suffix)", "shape-suffix|none" },
  { "optimizer", 0, 0, G_OPTION_ARG_STRING, &opt_optimizer,
    "adam (default) or sgd", "OPT" },
  { "weight-decay", 0, 0, G_OPTION_ARG_DOUBLE, &opt_wd,
    "L2 weight decay (default 0)", "WD" },
  { "dropout", 0, 0, G_OPTION_ARG_DOUBLE, &opt_dropout,
    "Dropout between stacked layers (default 0; classify 0.3)", "P" },
  { "quiet", 'q', 0, G_OPTION_ARG_NONE, &opt_quiet,
    "Print only errors", NULL },
  { NULL }
};

/* ------------------------------------------------------------- utilities */

/* A JSON array of numbers, shortest round-trip float formatting. */
static char *
json_floats (const float *v, int n)
{
  GString *s = g_string_new ("[");
  for (int i = 0; i < n; i++) {
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd (buf, sizeof buf, "%.9g", v[i]);
    g_string_append_printf (s, "%s%s", i ? ", " : "", buf);
  }
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

static char *
json_strings (char **v, int n)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_array (b);
  for (int i = 0; i < n; i++)
    json_builder_add_string_value (b, v[i]);
  json_builder_end_array (b);
  JsonGenerator *g = json_generator_new ();
  JsonNode *root = json_builder_get_root (b);
  json_generator_set_root (g, root);
  char *s = json_generator_to_data (g, NULL);
  json_node_unref (root);
  g_object_unref (g);
  g_object_unref (b);
  return s;
}

static void
set_meta (rnn_model *m, const char *key, char *value_take)
{
  rnn_error err;
  rnn_status st = rnn_model_set_meta (m, key, value_take, &err);
  g_free (value_take);
  td_check (st, &err);
}

/* --label-names split at commas, each name stripped of spaces; NULL when
 * the option is absent. */
static char **label_names;
static int n_label_names;

static void
parse_label_names (void)
{
  if (!opt_label_names)
    return;
  label_names = g_strsplit (opt_label_names, ",", -1);
  n_label_names = g_strv_length (label_names);
  if (n_label_names == 0)
    td_die ("--label-names: the list is empty; give one name per class");
  for (int i = 0; i < n_label_names; i++) {
    g_strstrip (label_names[i]);
    if (!*label_names[i])
      td_die ("--label-names '%s': name %d is empty", opt_label_names, i + 1);
    for (int j = 0; j < i; j++)
      if (strcmp (label_names[i], label_names[j]) == 0)
        td_die ("--label-names '%s': '%s' is given twice (names %d and %d)",
            opt_label_names, label_names[i], j + 1, i + 1);
  }
}

static double
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

/* Fisher-Yates with the trainer's seeded generator. */
static void
shuffle (GRand *r, size_t *v, size_t n)
{
  for (size_t i = n; i > 1; i--) {
    size_t j = g_rand_int_range (r, 0, (gint32) i);
    size_t t = v[i - 1];
    v[i - 1] = v[j];
    v[j] = t;
  }
}

/* ----------------------------------------------------- progress and epochs */

typedef struct {
  gboolean bar;              /* stdout is a terminal and not --quiet */
  size_t steps, done;
  double loss_sum;
  double gnorm_sum, gnorm_max;
  size_t n_gnorm;
} progress;

static void
progress_step (progress *p, double loss, double gnorm)
{
  p->done++;
  p->loss_sum += loss;
  p->gnorm_sum += gnorm;
  p->n_gnorm++;
  if (gnorm > p->gnorm_max)
    p->gnorm_max = gnorm;
  if (!p->bar)
    return;
  int width = 30;
  int fill = p->steps ? (int) (width * p->done / p->steps) : width;
  char bar[64];
  for (int i = 0; i < width; i++)
    bar[i] = i < fill ? '#' : '.';
  bar[width] = '\0';
  printf ("\r  [%s] %zu/%zu loss %.5f", bar, p->done, p->steps,
      p->loss_sum / p->done);
  fflush (stdout);
}

static void
progress_clear (progress *p)
{
  if (p->bar) {
    printf ("\r%*s\r", 72, "");
    fflush (stdout);
  }
}

/* ------------------------------------------------------- parameter copies */

typedef struct {
  float **v;
  size_t n;
} snapshot;

static void
snapshot_take (snapshot *s, rnn_trainer *t)
{
  if (!s->v) {
    s->n = rnn_trainer_num_params (t);
    s->v = g_new0 (float *, s->n);
  }
  for (size_t i = 0; i < s->n; i++) {
    const rnn_param *p = rnn_trainer_param (t, i);
    if (!s->v[i])
      s->v[i] = g_new (float, p->numel);
    memcpy (s->v[i], p->value, p->numel * sizeof (float));
  }
}

static void
snapshot_restore (snapshot *s, rnn_trainer *t)
{
  for (size_t i = 0; s->v && i < s->n; i++) {
    const rnn_param *p = rnn_trainer_param (t, i);
    memcpy (p->value, s->v[i], p->numel * sizeof (float));
  }
}

static void
snapshot_clear (snapshot *s)
{
  for (size_t i = 0; s->v && i < s->n; i++)
    g_free (s->v[i]);
  g_free (s->v);
}

/* One optimisation step on @b; returns the pre-clip gradient norm. */
static double
train_step (rnn_trainer *t, const rnn_minibatch *b, double clip, double *loss)
{
  rnn_error err;
  rnn_trainer_zero_grad (t);
  td_check (rnn_trainer_backward (t, b, loss, NULL, &err), &err);
  double gn = rnn_trainer_clip_grad_norm (t, clip);
  td_check (rnn_trainer_step (t, &err), &err);
  if (!isfinite (*loss))
    td_die ("the training loss diverged (%g); try a smaller --lr or --clip",
        *loss);
  return gn;
}

/* Early stopping bookkeeping shared by the tasks. */
typedef struct {
  double best;
  int best_epoch;
  int since;
  snapshot snap;
} stopper;

/* Record the epoch; returns TRUE when training should stop. */
static gboolean
epoch_end (stopper *s, rnn_trainer *t, int epoch, int epochs, progress *p,
    double val_loss, double t0, const char *extra)
{
  double train_loss = p->done ? p->loss_sum / p->done : NAN;
  gboolean better = val_loss < s->best;
  if (better) {
    s->best = val_loss;
    s->best_epoch = epoch;
    s->since = 0;
    snapshot_take (&s->snap, t);
  } else {
    s->since++;
  }
  progress_clear (p);
  if (!opt_quiet) {
    printf ("epoch %3d/%d  train %.5f  val %.5f%s  grad-norm mean %.3f max "
        "%.3f  %.2f s%s\n", epoch, epochs, train_loss, val_loss,
        extra ? extra : "", p->n_gnorm ? p->gnorm_sum / p->n_gnorm : 0.0,
        p->gnorm_max, now_s () - t0, better ? "  *" : "");
    fflush (stdout);
  }
  return opt_patience > 0 && s->since >= opt_patience;
}

/* After the last epoch: the parameters of the best epoch, synchronised. */
static void
stopper_finish (stopper *s, rnn_trainer *t)
{
  rnn_error err;
  snapshot_restore (&s->snap, t);
  snapshot_clear (&s->snap);
  td_check (rnn_trainer_sync (t, &err), &err);
}

/* --------------------------------------------------------------- signals */

/* A contiguous run of usable frames: the first n_train train, the next
 * n_val validate. */
typedef struct {
  size_t start, n_train, n_val;
} run;

typedef struct {
  td_signal *sig;
  float *xn;                 /* normalised frames */
  int F;
  GArray *runs;
  float *mean, *std;
} signal_set;

static void
signal_prepare (signal_set *d, gboolean anomaly)
{
  td_csv_options co = { opt_columns, opt_time_column, opt_group_column,
    opt_label_column, td_delimiter (opt_delimiter) };
  rnn_error err;
  td_check (td_signal_read (opt_data, &co, &d->sig, &err), &err);
  td_signal *s = d->sig;
  d->F = s->n_features;
  d->runs = g_array_new (FALSE, FALSE, sizeof (run));

  /* Runs: segments cut at labelled (anomalous) rows. */
  for (guint g = 0; g < s->segments->len; g++) {
    td_segment *seg = &g_array_index (s->segments, td_segment, g);
    size_t a = seg->start, end = seg->start + seg->length;
    while (a < end) {
      while (a < end && s->label && s->label[a])
        a++;
      size_t b = a;
      while (b < end && !(s->label && s->label[b]))
        b++;
      if (b - a >= 4) {
        run r = { a, 0, 0 };
        r.n_val = (size_t) floor ((b - a) * opt_val);
        r.n_train = (b - a) - r.n_val;
        g_array_append_val (d->runs, r);
      }
      a = b;
    }
  }
  if (d->runs->len == 0)
    td_die ("%s: no usable sequence of at least 4 frames", opt_data);

  /* Normalisation statistics on the training part only. */
  int F = d->F;
  double *sum = g_new0 (double, F), *sq = g_new0 (double, F);
  size_t n = 0;
  for (guint i = 0; i < d->runs->len; i++) {
    run *r = &g_array_index (d->runs, run, i);
    for (size_t t = r->start; t < r->start + r->n_train; t++, n++)
      for (int k = 0; k < F; k++) {
        sum[k] += s->x[t * F + k];
        sq[k] += (double) s->x[t * F + k] * s->x[t * F + k];
      }
  }
  d->mean = g_new (float, F);
  d->std = g_new (float, F);
  for (int k = 0; k < F; k++) {
    double m = sum[k] / n;
    double v = sq[k] / n - m * m;
    d->mean[k] = (float) m;
    d->std[k] = (float) (v > 1e-12 ? sqrt (v) : 1.0);
  }
  g_free (sum);
  g_free (sq);
  d->xn = g_new (float, s->n_frames * F);
  for (size_t t = 0; t < s->n_frames; t++)
    for (int k = 0; k < F; k++)
      d->xn[t * F + k] = (s->x[t * F + k] - d->mean[k]) / d->std[k];

  if (!opt_quiet) {
    size_t ntr = 0, nva = 0;
    for (guint i = 0; i < d->runs->len; i++) {
      ntr += g_array_index (d->runs, run, i).n_train;
      nva += g_array_index (d->runs, run, i).n_val;
    }
    printf ("%s: %zu frames of %d features (%zu blank values filled), %u "
        "sequence(s)%s; train %zu frames, validation %zu\n", opt_data,
        s->n_frames, F, s->n_blank, d->runs->len,
        anomaly && s->label ? " of normal rows" : "", ntr, nva);
  }
}

static void
signal_clear (signal_set *d)
{
  td_signal_free (d->sig);
  g_free (d->xn);
  g_free (d->mean);
  g_free (d->std);
  g_array_unref (d->runs);
}

/* Windowed samples: target frame index, window [target - len, target). */
typedef struct {
  size_t target;
  size_t len;
} wsample;

static void
window_samples (signal_set *d, int N, GArray *train, GArray *val)
{
  for (guint i = 0; i < d->runs->len; i++) {
    run *r = &g_array_index (d->runs, run, i);
    for (size_t t = 1; t < r->n_train + r->n_val; t++) {
      wsample w = { r->start + t, MIN ((size_t) N, t) };
      g_array_append_val (t < r->n_train ? train : val, w);
    }
  }
}

/* Fill a window batch (padding frames zero). */
static void
window_batch (signal_set *d, int N, const wsample *s, size_t B, float *x,
    float *y, size_t *lengths)
{
  int F = d->F;
  memset (x, 0, B * N * F * sizeof (float));
  for (size_t b = 0; b < B; b++) {
    lengths[b] = s[b].len;
    memcpy (x + b * N * F, d->xn + (s[b].target - s[b].len) * F,
        s[b].len * F * sizeof (float));
    memcpy (y + b * F, d->xn + s[b].target * F, F * sizeof (float));
  }
}

/* Mean-squared error of the eval forward over windowed samples. */
static double
window_eval (rnn_trainer *t, signal_set *d, int N, GArray *samples,
    size_t B, float *x, float *y, size_t *lengths)
{
  double sum = 0;
  size_t n = 0;
  rnn_error err;
  for (size_t i = 0; i < samples->len; i += B) {
    size_t nb = MIN (B, samples->len - i);
    window_batch (d, N, &g_array_index (samples, wsample, i), nb, x, y,
        lengths);
    rnn_minibatch b = { nb, N, x, NULL, lengths, y, NULL };
    double loss;
    td_check (rnn_trainer_evaluate (t, &b, &loss, NULL, &err), &err);
    sum += loss * nb;
    n += nb;
  }
  return n ? sum / n : NAN;
}

/* Stateful evaluation with outputs, attributing the squared error of each
 * frame to the training or validation part of its target. */
static double
bptt_eval_exact (rnn_trainer *t, signal_set *d, int K, float *x, float *y,
    float *out, gboolean on_train)
{
  double sum = 0;
  size_t n = 0;
  int F = d->F;
  rnn_error err;
  for (guint i = 0; i < d->runs->len; i++) {
    run *r = &g_array_index (d->runs, run, i);
    size_t total = r->n_train + r->n_val - 1;
    rnn_trainer_reset_state (t);
    for (size_t off = 0; off < total; off += K) {
      size_t T = MIN ((size_t) K, total - off);
      memcpy (x, d->xn + (r->start + off) * F, T * F * sizeof (float));
      rnn_minibatch b = { 1, T, x, NULL, NULL, NULL, NULL };
      td_check (rnn_trainer_evaluate (t, &b, NULL, out, &err), &err);
      for (size_t j = 0; j < T; j++) {
        size_t tgt = off + j + 1;
        if ((tgt < r->n_train) != on_train)
          continue;
        const float *target = d->xn + (r->start + tgt) * F;
        for (int k = 0; k < F; k++) {
          double e = out[j * F + k] - target[k];
          sum += e * e;
        }
        n += F;
      }
    }
  }
  return n ? sum / n : NAN;
}

/* Train a one-step forecaster on @d; returns the model (owned). */
static rnn_model *
train_signal (signal_set *d, rnn_task task, rnn_cell cell, int N, int K)
{
  rnn_error err;
  int F = d->F;
  rnn_model_config mc;
  rnn_model_config_init (&mc);
  mc.cell = cell;
  mc.input_size = F;
  mc.hidden_size = opt_hidden;
  mc.num_layers = opt_layers;
  mc.bidirectional = FALSE;
  mc.head_out = F;
  mc.head_input = RNN_HEAD_OUTPUT;
  mc.task = task;
  rnn_model *m;
  td_check (rnn_model_new (&mc, (uint64_t) opt_seed, &m, &err), &err);

  rnn_train_config tc;
  rnn_train_config_init (&tc);
  tc.optimizer = g_strcmp0 (opt_optimizer, "sgd") == 0 ? RNN_OPTIM_SGD
      : RNN_OPTIM_ADAM;
  tc.lr = opt_lr;
  tc.weight_decay = opt_wd;
  tc.dropout = opt_dropout;
  tc.loss = RNN_LOSS_MSE;
  tc.target = N > 0 ? RNN_TARGET_LAST : RNN_TARGET_ALL;
  tc.stateful = N == 0;
  tc.seed = (uint64_t) opt_seed;
  rnn_trainer *t;
  td_check (rnn_trainer_new (m, &tc, &t, &err), &err);

  GRand *rng = g_rand_new_with_seed ((guint32) opt_seed);
  size_t B = opt_batch;
  stopper st = { INFINITY, 0, 0, { NULL, 0 } };
  gboolean has_val = FALSE;
  for (guint i = 0; i < d->runs->len; i++)
    has_val |= g_array_index (d->runs, run, i).n_val > 0;

  if (N > 0) {
    GArray *tr = g_array_new (FALSE, FALSE, sizeof (wsample));
    GArray *va = g_array_new (FALSE, FALSE, sizeof (wsample));
    window_samples (d, N, tr, va);
    if (tr->len == 0)
      td_die ("%s: no training window", opt_data);
    size_t EB = MAX (B, 256);
    float *x = g_new (float, EB * N * F);
    float *y = g_new (float, EB * F);
    size_t *lengths = g_new (size_t, EB);
    size_t *order = g_new (size_t, tr->len);
    wsample *batch = g_new (wsample, B);
    for (size_t i = 0; i < tr->len; i++)
      order[i] = i;
    for (int ep = 1; ep <= opt_epochs; ep++) {
      double t0 = now_s ();
      progress p = { .bar = isatty (1) && !opt_quiet,
        .steps = (tr->len + B - 1) / B };
      shuffle (rng, order, tr->len);
      for (size_t i = 0; i < tr->len; i += B) {
        size_t nb = MIN (B, tr->len - i);
        for (size_t j = 0; j < nb; j++)
          batch[j] = g_array_index (tr, wsample, order[i + j]);
        window_batch (d, N, batch, nb, x, y, lengths);
        rnn_minibatch b = { nb, N, x, NULL, lengths, y, NULL };
        double loss;
        double gn = train_step (t, &b, opt_clip, &loss);
        progress_step (&p, loss, gn);
      }
      double vl = has_val ? window_eval (t, d, N, va, EB, x, y, lengths)
          : p.loss_sum / p.done;
      if (epoch_end (&st, t, ep, opt_epochs, &p, vl, t0, NULL))
        break;
    }
    g_free (x);
    g_free (y);
    g_free (lengths);
    g_free (order);
    g_free (batch);
    g_array_unref (tr);
    g_array_unref (va);
  } else {
    float *x = g_new (float, MAX (B, 1) * K * F);
    float *y = g_new (float, MAX (B, 1) * K * F);
    float *out = g_new (float, K * F);
    size_t *order = g_new (size_t, d->runs->len);
    for (size_t i = 0; i < d->runs->len; i++)
      order[i] = i;
    /* Steps per epoch, for the progress bar. */
    size_t steps = 0;
    for (guint i = 0; i < d->runs->len; i++) {
      run *r = &g_array_index (d->runs, run, i);
      if (r->n_train < 2)
        continue;
      size_t pairs = r->n_train - 1;
      size_t nb = CLAMP (pairs / (2 * (size_t) K), 1, B);
      size_t S = pairs / nb;
      steps += (S + K - 1) / K;
    }
    for (int ep = 1; ep <= opt_epochs; ep++) {
      double t0 = now_s ();
      progress p = { .bar = isatty (1) && !opt_quiet, .steps = steps };
      shuffle (rng, order, d->runs->len);
      for (guint i = 0; i < d->runs->len; i++) {
        run *r = &g_array_index (d->runs, run, order[i]);
        if (r->n_train < 2)
          continue;
        /* nb parallel streams of S consecutive input frames each, with a
         * random phase so block boundaries move between epochs. */
        size_t pairs = r->n_train - 1;
        size_t nb = CLAMP (pairs / (2 * (size_t) K), 1, B);
        size_t S = pairs / nb;
        size_t slack = pairs - S * nb;
        size_t phase = slack ? g_rand_int_range (rng, 0, slack + 1) : 0;
        rnn_trainer_reset_state (t);
        for (size_t off = 0; off < S; off += K) {
          size_t T = MIN ((size_t) K, S - off);
          for (size_t b = 0; b < nb; b++) {
            size_t s0 = r->start + phase + b * S + off;
            memcpy (x + b * T * F, d->xn + s0 * F, T * F * sizeof (float));
            memcpy (y + b * T * F, d->xn + (s0 + 1) * F,
                T * F * sizeof (float));
          }
          rnn_minibatch b = { nb, T, x, NULL, NULL, y, NULL };
          double loss;
          double gn = train_step (t, &b, opt_clip, &loss);
          progress_step (&p, loss, gn);
        }
      }
      double vl = bptt_eval_exact (t, d, K, x, y, out, !has_val);
      if (epoch_end (&st, t, ep, opt_epochs, &p, vl, t0, NULL))
        break;
    }
    g_free (x);
    g_free (y);
    g_free (out);
    g_free (order);
  }

  stopper_finish (&st, t);
  if (!opt_quiet)
    printf ("best epoch %d, validation loss %.5f\n", st.best_epoch, st.best);
  rnn_trainer_free (t);
  g_rand_free (rng);
  return m;
}

static char *
fmt_double (double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.6g", v));
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* Anomaly statistics with the inference engine, as gruanomaly computes
 * them: state carried from the start of each run, e_t = x_t - p_t in
 * normalised units over the validation frames (all frames when there is no
 * validation part). Sets the anomaly.* metadata. */
static void
anomaly_calibrate (rnn_model *m, signal_set *d)
{
  rnn_error err;
  int F = d->F;
  rnn_state *s;
  td_check (rnn_state_new (m, 1, &s, &err), &err);
  gboolean has_val = FALSE;
  for (guint i = 0; i < d->runs->len; i++)
    has_val |= g_array_index (d->runs, run, i).n_val > 0;

  GArray *errs = g_array_new (FALSE, FALSE, sizeof (float));
  float *pn = g_new (float, F);
  for (guint i = 0; i < d->runs->len; i++) {
    run *r = &g_array_index (d->runs, run, i);
    rnn_state_reset (s);
    size_t len = r->n_train + r->n_val;
    for (size_t t = 0; t + 1 < len; t++) {
      /* The in-memory model has no normalisation yet (the metadata takes
       * effect on load): feed normalised frames, read normalised
       * predictions. */
      td_check (rnn_state_forward (s, d->xn + (r->start + t) * F, 1, pn, &err),
          &err);
      size_t tgt = t + 1;
      if (has_val && tgt < r->n_train)
        continue;
      for (int k = 0; k < F; k++) {
        float e = d->xn[(r->start + tgt) * F + k] - pn[k];
        g_array_append_val (errs, e);
      }
    }
  }
  size_t n = errs->len / F;
  if (n < 2)
    td_die ("%s: too few frames to calibrate the anomaly statistics", opt_data);
  float *e = (float *) errs->data;
  float *mean = g_new0 (float, F), *std = g_new0 (float, F);
  for (int k = 0; k < F; k++) {
    double sm = 0, sq = 0;
    for (size_t t = 0; t < n; t++)
      sm += e[t * F + k];
    sm /= n;
    for (size_t t = 0; t < n; t++)
      sq += (e[t * F + k] - sm) * (e[t * F + k] - sm);
    mean[k] = (float) sm;
    std[k] = (float) MAX (sqrt (sq / (n - 1)), 1e-6);
  }
  /* Scores of those frames, the SPEC formula. Threshold rule
   * (docs/rnn-train.md): 1.25 x the largest score on these normal frames,
   * at least 4: no alarm on held-out normal data, with a margin. */
  double *sc = g_new (double, n);
  for (size_t t = 0; t < n; t++) {
    double acc = 0;
    for (int k = 0; k < F; k++) {
      double z = (e[t * F + k] - mean[k]) / std[k];
      acc += z * z;
    }
    sc[t] = sqrt (acc / F);
  }
  qsort (sc, n, sizeof (double), cmp_double);
  double q = sc[MIN (n - 1, (size_t) floor (0.999 * (n - 1)))];
  double thr = MAX (4.0, 1.25 * sc[n - 1]);

  set_meta (m, "anomaly.error_mean", json_floats (mean, F));
  set_meta (m, "anomaly.error_std", json_floats (std, F));
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd (buf, sizeof buf, "%.4g", thr);
  set_meta (m, "anomaly.threshold", g_strdup (buf));

  /* For the adaptive scoring (docs/anomaly-scoring.md): the exponential
   * tail of these held-out scores (its prior until the stream has its own
   * history), and the range of the normal frames in normalised units (a
   * level outside it is moved back in). */
  {
    size_t k = MAX ((size_t) ceil (0.05 * n), 1);
    double level = sc[n - 1 - MIN (k, n - 1)], ex = 0;
    for (size_t t = n - k; t < n; t++)
      ex += sc[t] - level;
    ex = MAX (ex / k, 0.05);
    set_meta (m, "anomaly.tail_level", fmt_double (MAX (level, 1e-3)));
    set_meta (m, "anomaly.tail_scale", fmt_double (ex));
    set_meta (m, "anomaly.tail_fraction", fmt_double ((double) k / n));
    float *lo = g_new (float, F), *hi = g_new (float, F);
    for (int j = 0; j < F; j++) {
      lo[j] = INFINITY;
      hi[j] = -INFINITY;
    }
    for (guint i = 0; i < d->runs->len; i++) {
      run *r = &g_array_index (d->runs, run, i);
      for (size_t t = r->start; t < r->start + r->n_train + r->n_val; t++)
        for (int j = 0; j < F; j++) {
          lo[j] = MIN (lo[j], d->xn[t * F + j]);
          hi[j] = MAX (hi[j], d->xn[t * F + j]);
        }
    }
    set_meta (m, "anomaly.input_min", json_floats (lo, F));
    set_meta (m, "anomaly.input_max", json_floats (hi, F));
    set_meta (m, "anomaly.warmup", g_strdup_printf ("%d", MAX (opt_bptt, 16)));
    /* hold: a fifth of the normal frames seen in training (10..150), the
     * time scale streaming detectors mute for after a detection */
    size_t frames = 0;
    for (guint i = 0; i < d->runs->len; i++)
      frames += g_array_index (d->runs, run, i).n_train
          + g_array_index (d->runs, run, i).n_val;
    set_meta (m, "anomaly.hold", g_strdup_printf ("%zu",
            CLAMP (frames / 5, (size_t) 10, (size_t) 150)));
    g_free (lo);
    g_free (hi);
  }
  if (!opt_quiet)
    printf ("anomaly calibration on %zu %s frames: max score %.3f, 99.9%% "
        "%.3f, threshold %s\n", n, has_val ? "validation" : "training",
        sc[n - 1], q, buf);
  g_free (sc);
  g_free (mean);
  g_free (std);
  g_free (pn);
  g_array_unref (errs);
  rnn_state_free (s);
}

/* ----------------------------------------------------------------- texts */

/* A padded batch of texts; with @rng (training) each token becomes <unk>
 * with probability opt_word_dropout. */
static void
text_batch (td_texts *tx, GArray **ids, const size_t *rows, size_t B,
    int32_t *buf, size_t *lengths, int32_t *classes, size_t *T, GRand *rng)
{
  size_t maxl = 1;
  for (size_t b = 0; b < B; b++)
    maxl = MAX (maxl, ids[rows[b]]->len);
  memset (buf, 0, B * maxl * sizeof (int32_t));
  for (size_t b = 0; b < B; b++) {
    GArray *a = ids[rows[b]];
    memcpy (buf + b * maxl, a->data, a->len * sizeof (int32_t));
    if (rng && opt_word_dropout > 0)
      for (guint j = 0; j < a->len; j++)
        if (g_rand_double (rng) < opt_word_dropout)
          buf[b * maxl + j] = 1;        /* <unk> */
    lengths[b] = a->len;
    classes[b] = tx->cls[rows[b]];
  }
  *T = maxl;
}

static double
text_eval (rnn_trainer *t, td_texts *tx, GArray **ids, const size_t *rows,
    size_t n, int C, int32_t *buf, size_t *lengths, int32_t *classes,
    float *out, double *acc)
{
  rnn_error err;
  double sum = 0;
  size_t correct = 0;
  const size_t EB = 64;
  for (size_t i = 0; i < n; i += EB) {
    size_t nb = MIN (EB, n - i), T;
    text_batch (tx, ids, rows + i, nb, buf, lengths, classes, &T, NULL);
    rnn_minibatch b = { nb, T, NULL, buf, lengths, NULL, classes };
    double loss;
    td_check (rnn_trainer_evaluate (t, &b, &loss, out, &err), &err);
    sum += loss * nb;
    for (size_t j = 0; j < nb; j++) {
      int best = 0;
      for (int c = 1; c < C; c++)
        if (out[j * C + c] > out[j * C + best])
          best = c;
      correct += best == classes[j];
    }
  }
  *acc = n ? (double) correct / n : NAN;
  return n ? sum / n : NAN;
}

static rnn_model *
train_classify (rnn_cell cell)
{
  rnn_error err;
  td_texts *tx;
  td_check (td_texts_read (opt_data, &tx, &err), &err);
  if (tx->n_classes < 2)
    td_die ("%s: found a single class ('%s'); a classifier needs two or more",
        opt_data, tx->classes[0]);
  if (label_names && n_label_names != tx->n_classes) {
    char *found = g_strjoinv (", ", tx->classes);
    td_die ("--label-names gives %d name%s but %s has %d classes (%s)",
        n_label_names, n_label_names == 1 ? "" : "s", opt_data,
        tx->n_classes, found);
  }

  /* Seeded split. */
  GRand *rng = g_rand_new_with_seed ((guint32) opt_seed);
  size_t *idx = g_new (size_t, tx->n);
  for (size_t i = 0; i < tx->n; i++)
    idx[i] = i;
  shuffle (rng, idx, tx->n);
  size_t n_val = (size_t) floor (tx->n * opt_val);
  size_t n_train = tx->n - n_val;

  char **vocab = td_vocab_build (tx, idx, n_train, opt_vocab, opt_min_count);
  int V = g_strv_length (vocab);
  GHashTable *vindex = g_hash_table_new (g_str_hash, g_str_equal);
  for (int i = 0; i < V; i++)
    g_hash_table_insert (vindex, vocab[i], GINT_TO_POINTER (i + 1));

  /* Token ids; texts without a token are left out (the element gives no
   * prediction for them). Long texts are cut at 256 tokens. */
  GArray **ids = g_new0 (GArray *, tx->n);
  size_t *tr = g_new (size_t, n_train), *va = g_new (size_t, MAX (n_val, 1));
  size_t ntr = 0, nva = 0, empty = 0, maxlen = 1;
  for (size_t i = 0; i < tx->n; i++) {
    size_t r = idx[i];
    ids[r] = td_text_ids (vindex, tx->text[r]);
    if (ids[r]->len == 0) {
      empty++;
      continue;
    }
    if (ids[r]->len > 256)
      g_array_set_size (ids[r], 256);
    maxlen = MAX (maxlen, ids[r]->len);
    if (i < n_train)
      tr[ntr++] = r;
    else
      va[nva++] = r;
  }
  if (ntr == 0)
    td_die ("%s: no training text has a token", opt_data);
  if (!opt_quiet)
    printf ("%s: %zu texts, %d classes, vocabulary %d (min count %d); train "
        "%zu, validation %zu, %zu without tokens left out\n", opt_data,
        tx->n, tx->n_classes, V, opt_min_count, ntr, nva, empty);
  if (!opt_quiet && label_names) {
    printf ("label names:");
    for (int c = 0; c < tx->n_classes; c++)
      printf ("%s class %s = %s", c ? "," : "", tx->classes[c],
          label_names[c]);
    printf ("\n");
  }

  int C = tx->n_classes;
  rnn_model_config mc;
  rnn_model_config_init (&mc);
  mc.cell = cell;
  mc.vocab_size = V;
  mc.embed_dim = opt_embed;
  mc.padding_idx = 0;
  mc.hidden_size = opt_hidden;
  mc.num_layers = opt_layers;
  mc.bidirectional = opt_bidir;
  mc.head_out = C;
  if (g_strcmp0 (opt_pooling, "mean") == 0)
    mc.head_input = RNN_HEAD_MEAN;
  else
    mc.head_input = opt_bidir ? RNN_HEAD_FINAL_HIDDEN_BOTH
        : RNN_HEAD_FINAL_HIDDEN;
  mc.task = RNN_TASK_CLASSIFY;
  rnn_model *m;
  td_check (rnn_model_new (&mc, (uint64_t) opt_seed, &m, &err), &err);

  rnn_train_config tc;
  rnn_train_config_init (&tc);
  tc.optimizer = g_strcmp0 (opt_optimizer, "sgd") == 0 ? RNN_OPTIM_SGD
      : RNN_OPTIM_ADAM;
  tc.lr = opt_lr;
  tc.weight_decay = opt_wd;
  tc.dropout = opt_dropout;
  tc.loss = RNN_LOSS_CROSS_ENTROPY;
  tc.target = RNN_TARGET_ALL;
  tc.seed = (uint64_t) opt_seed;
  rnn_trainer *t;
  td_check (rnn_trainer_new (m, &tc, &t, &err), &err);

  size_t B = opt_batch, EB = MAX (B, 64);
  int32_t *buf = g_new (int32_t, EB * maxlen);
  size_t *lengths = g_new (size_t, EB);
  int32_t *classes = g_new (int32_t, EB);
  float *out = g_new (float, EB * C);
  stopper st = { INFINITY, 0, 0, { NULL, 0 } };
  for (int ep = 1; ep <= opt_epochs; ep++) {
    double t0 = now_s ();
    progress p = { .bar = isatty (1) && !opt_quiet,
      .steps = (ntr + B - 1) / B };
    shuffle (rng, tr, ntr);
    for (size_t i = 0; i < ntr; i += B) {
      size_t nb = MIN (B, ntr - i), T;
      text_batch (tx, ids, tr + i, nb, buf, lengths, classes, &T, rng);
      rnn_minibatch b = { nb, T, NULL, buf, lengths, NULL, classes };
      double loss;
      double gn = train_step (t, &b, opt_clip, &loss);
      progress_step (&p, loss, gn);
    }
    double acc, vl;
    char extra[48];
    if (nva) {
      vl = text_eval (t, tx, ids, va, nva, C, buf, lengths, classes, out,
          &acc);
      g_snprintf (extra, sizeof extra, "  val-acc %.3f", acc);
    } else {
      vl = p.loss_sum / p.done;
      extra[0] = '\0';
    }
    if (epoch_end (&st, t, ep, opt_epochs, &p, vl, t0, extra))
      break;
  }
  stopper_finish (&st, t);
  if (!opt_quiet) {
    double acc = NAN;
    if (nva)
      text_eval (t, tx, ids, va, nva, C, buf, lengths, classes, out, &acc);
    printf ("best epoch %d, validation loss %.5f, accuracy %.4f\n",
        st.best_epoch, st.best, acc);
  }
  rnn_trainer_free (t);

  set_meta (m, "labels", json_strings (label_names ? label_names
          : tx->classes, C));
  set_meta (m, "tokenizer.vocab", json_strings (vocab, V));
  set_meta (m, "tokenizer.unk_id", g_strdup ("1"));
  set_meta (m, "tokenizer.pad_id", g_strdup ("0"));

  for (size_t i = 0; i < tx->n; i++)
    if (ids[i])
      g_array_unref (ids[i]);
  g_free (ids);
  g_free (buf);
  g_free (lengths);
  g_free (classes);
  g_free (out);
  g_free (tr);
  g_free (va);
  g_free (idx);
  g_hash_table_destroy (vindex);
  g_strfreev (vocab);
  g_rand_free (rng);
  td_texts_free (tx);
  return m;
}

/* ------------------------------------------------------------------ tags */

/* Tagged sentences as the model's tokenizer splits them: every token takes
 * the tag of the word it came from (a word such as "don't" gives two tokens
 * with its tag; a word without letters or digits, such as ",", gives none).
 * Flat arrays over all tokens, sentence s owning [off[s], off[s] + len[s]). */
typedef struct {
  td_tagged *tg;
  size_t *off, *len;         /* per sentence */
  size_t n_tok;
  int32_t *tag;              /* per token */
  int32_t *id, *unk_id;      /* per token, once the vocabulary exists */
  float *drop;               /* per token: word-dropout probability */
  char **tok;                /* per token, the tokenizer's string */
} tag_set;

typedef struct {
  tag_set *d;
  GArray *words;
  guint w;                   /* word index of the last token */
  GPtrArray *tok;
  GArray *tag;
} tag_split_ctx;

static int
tag_split_cb (const char *token, size_t len, size_t start, size_t end,
    void *user)
{
  tag_split_ctx *c = user;
  (void) len;
  (void) end;
  while (c->w + 1 < c->words->len
      && g_array_index (c->words, td_word, c->w + 1).start <= start)
    c->w++;
  int32_t tag = g_array_index (c->words, td_word, c->w).tag;
  g_ptr_array_add (c->tok, g_strdup (token));
  g_array_append_val (c->tag, tag);
  return 0;
}

static void
tag_set_tokenize (tag_set *d, gboolean lowercase)
{
  td_tagged *tg = d->tg;
  tag_split_ctx c = { d, NULL, 0, g_ptr_array_new (),
    g_array_new (FALSE, FALSE, sizeof (int32_t)) };
  d->off = g_new (size_t, tg->n);
  d->len = g_new (size_t, tg->n);
  for (size_t s = 0; s < tg->n; s++) {
    c.words = tg->words[s];
    c.w = 0;
    d->off[s] = c.tok->len;
    rnn_tokenize_spans_foreach (tg->text[s], strlen (tg->text[s]),
        lowercase, tag_split_cb, &c);
    d->len[s] = c.tok->len - d->off[s];
  }
  d->n_tok = c.tok->len;
  g_ptr_array_add (c.tok, NULL);
  d->tok = (char **) g_ptr_array_free (c.tok, FALSE);
  d->tag = (int32_t *) g_array_free (c.tag, FALSE);
}

static void
tag_set_clear (tag_set *d)
{
  g_strfreev (d->tok);
  g_free (d->off);
  g_free (d->len);
  g_free (d->tag);
  g_free (d->id);
  g_free (d->unk_id);
  g_free (d->drop);
  td_tagged_free (d->tg);
}

/* The vocabulary: "<pad>", "<unk>", the unknown-word classes (when on: a
 * suffix class when at least 5 rare training tokens, seen at most twice,
 * have it; every shape class that occurs), then the training tokens seen
 * at least --min-count times by descending count, --vocab-size in all. */
static char **
tag_vocab (tag_set *d, const size_t *rows, size_t n_rows, gboolean classes,
    GHashTable *counts, int *n_classes)
{
  for (size_t i = 0; i < n_rows; i++) {
    size_t s = rows[i];
    for (size_t k = d->off[s]; k < d->off[s] + d->len[s]; k++)
      td_count_add (counts, d->tok[k]);
  }
  GPtrArray *v = g_ptr_array_new ();
  g_ptr_array_add (v, g_strdup ("<pad>"));
  g_ptr_array_add (v, g_strdup ("<unk>"));
  *n_classes = 0;
  if (classes) {
    GHashTable *keys = g_hash_table_new_full (g_str_hash, g_str_equal,
        g_free, NULL);
    GHashTableIter it;
    gpointer k, c;
    g_hash_table_iter_init (&it, counts);
    while (g_hash_table_iter_next (&it, &k, &c)) {
      char kk[RNN_UNK_KEYS][RNN_UNK_KEY_MAX];
      if (GPOINTER_TO_INT (c) > 2)
        continue;
      int n = rnn_unk_class_keys (k, strlen (k), kk);
      for (int j = 0; j < n; j++)
        td_count_add (keys, kk[j]);
    }
    /* shape classes of every token, so that each shape has an entry */
    g_hash_table_iter_init (&it, counts);
    while (g_hash_table_iter_next (&it, &k, &c)) {
      char kk[RNN_UNK_KEYS][RNN_UNK_KEY_MAX];
      int n = rnn_unk_class_keys (k, strlen (k), kk);
      if (n > 0 && !g_hash_table_contains (keys, kk[n - 1]))
        g_hash_table_insert (keys, g_strdup (kk[n - 1]), GINT_TO_POINTER (5));
    }
    GArray *a = td_counts_sorted (keys, 5);
    for (guint i = 0; i < a->len && (int) v->len < opt_vocab / 2; i++) {
      g_ptr_array_add (v, g_strdup (g_array_index (a, td_count, i).tok));
      (*n_classes)++;
    }
    g_array_free (a, TRUE);
    g_hash_table_destroy (keys);
  }
  GArray *a = td_counts_sorted (counts, opt_min_count);
  for (guint i = 0; i < a->len && (int) v->len < opt_vocab; i++)
    g_ptr_array_add (v, g_strdup (g_array_index (a, td_count, i).tok));
  g_array_free (a, TRUE);
  g_ptr_array_add (v, NULL);
  return (char **) g_ptr_array_free (v, FALSE);
}

/* A padded batch of sentences @rows (ids 0 = <pad> after each end, classes
 * 0 there: ignored by the loss); with @rng, word dropout. */
static size_t
tag_batch (tag_set *d, const size_t *rows, size_t B, int32_t *ids,
    int32_t *cls, size_t *lengths, GRand *rng)
{
  size_t T = 1;
  for (size_t b = 0; b < B; b++)
    T = MAX (T, d->len[rows[b]]);
  memset (ids, 0, B * T * sizeof (int32_t));
  memset (cls, 0, B * T * sizeof (int32_t));
  for (size_t b = 0; b < B; b++) {
    size_t s = rows[b], o = d->off[s];
    lengths[b] = d->len[s];
    for (size_t k = 0; k < d->len[s]; k++) {
      int32_t id = d->id[o + k];
      if (rng && d->drop[o + k] > 0
          && g_rand_double (rng) < d->drop[o + k])
        id = d->unk_id[o + k];
      ids[b * T + k] = id;
      cls[b * T + k] = d->tag[o + k];
    }
  }
  return T;
}

/* Mean cross-entropy per token and token accuracy over @rows. */
static double
tag_eval (rnn_trainer *t, tag_set *d, const size_t *rows, size_t n, int C,
    double *acc)
{
  rnn_error err;
  const size_t EB = 64;
  size_t maxT = 1, tokens = 0, correct = 0;
  double sum = 0;
  for (size_t i = 0; i < n; i++)
    maxT = MAX (maxT, d->len[rows[i]]);
  int32_t *ids = g_new (int32_t, EB * maxT), *cls = g_new (int32_t, EB * maxT);
  size_t *lengths = g_new (size_t, EB);
  float *out = g_new (float, EB * maxT * C);
  for (size_t i = 0; i < n; i += EB) {
    size_t nb = MIN (EB, n - i);
    size_t T = tag_batch (d, rows + i, nb, ids, cls, lengths, NULL);
    rnn_minibatch b = { nb, T, NULL, ids, lengths, NULL, cls };
    double loss;
    td_check (rnn_trainer_evaluate (t, &b, &loss, out, &err), &err);
    /* outputs: the valid tokens of each sentence in turn */
    size_t r = 0;
    for (size_t j = 0; j < nb; j++) {
      for (size_t k = 0; k < lengths[j]; k++, r++) {
        const float *z = out + r * C;
        int best = 0;
        for (int c = 1; c < C; c++)
          if (z[c] > z[best])
            best = c;
        correct += best == cls[j * T + k];
      }
    }
    sum += loss * r;
    tokens += r;
  }
  g_free (ids);
  g_free (cls);
  g_free (lengths);
  g_free (out);
  *acc = tokens ? (double) correct / tokens : NAN;
  return tokens ? sum / tokens : NAN;
}

static int
cmp_len_desc (const void *a, const void *b, void *user)
{
  const size_t *len = user;
  size_t x = len[*(const size_t *) a], y = len[*(const size_t *) b];
  if (x != y)
    return x > y ? -1 : 1;
  return *(const size_t *) a < *(const size_t *) b ? -1
      : *(const size_t *) a > *(const size_t *) b;
}

static rnn_model *
train_tag (rnn_cell cell)
{
  rnn_error err;
  tag_set d = { 0 };
  gboolean lowercase = g_strcmp0 (opt_lowercase, "true") == 0;
  gboolean classes = g_strcmp0 (opt_unk_classes, "none") != 0;
  td_check (td_tagged_read (opt_data, &d.tg, &err), &err);
  td_tagged *tg = d.tg;
  if (tg->n_tags < 2)
    td_die ("%s: found a single tag ('%s'); a tagger needs two or more",
        opt_data, tg->tags[0]);
  tag_set_tokenize (&d, lowercase);

  /* Seeded split of the sentences that have a token. */
  GRand *rng = g_rand_new_with_seed ((guint32) opt_seed);
  size_t *idx = g_new (size_t, tg->n), n = 0, empty = 0;
  for (size_t s = 0; s < tg->n; s++) {
    if (d.len[s] > 0)
      idx[n++] = s;
    else
      empty++;
  }
  if (n == 0)
    td_die ("%s: no sentence has a token (letters or digits)", opt_data);
  shuffle (rng, idx, n);
  size_t nva = (size_t) floor (n * opt_val), ntr = n - nva;
  size_t *tr = idx, *va = idx + ntr;

  GHashTable *counts = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, NULL);
  int n_classes;
  char **vocab = tag_vocab (&d, tr, ntr, classes, counts, &n_classes);
  int V = (int) g_strv_length (vocab), C = tg->n_tags;
  size_t tr_tokens = 0;
  for (size_t i = 0; i < ntr; i++)
    tr_tokens += d.len[tr[i]];
  if (!opt_quiet)
    printf ("%s: %zu sentences, %zu words, %zu tokens, %d tags; vocabulary "
        "%d (%d unknown-word classes, %u distinct training tokens); train %zu "
        "sentences (%zu tokens), validation %zu, %zu without tokens left "
        "out\n", opt_data, tg->n, tg->n_words, d.n_tok, C, V, n_classes,
        g_hash_table_size (counts), ntr, tr_tokens, nva, empty);

  rnn_model_config mc;
  rnn_model_config_init (&mc);
  mc.cell = cell;
  mc.vocab_size = V;
  mc.embed_dim = opt_embed;
  mc.padding_idx = 0;
  mc.hidden_size = opt_hidden;
  mc.num_layers = opt_layers;
  mc.bidirectional = TRUE;
  mc.head_out = C;
  mc.head_input = RNN_HEAD_OUTPUT;
  mc.task = RNN_TASK_TAG;
  rnn_model *m;
  td_check (rnn_model_new (&mc, (uint64_t) opt_seed, &m, &err), &err);
  set_meta (m, "labels", json_strings (tg->tags, C));
  set_meta (m, "tokenizer.vocab", json_strings (vocab, V));
  set_meta (m, "tokenizer.unk_id", g_strdup ("1"));
  set_meta (m, "tokenizer.pad_id", g_strdup ("0"));
  set_meta (m, "tokenizer.lowercase", g_strdup (lowercase ? "true"
          : "false"));
  if (classes)
    set_meta (m, "tokenizer.unk_classes", g_strdup ("shape-suffix"));

  /* Ids through the model's own lookup (what the element computes), the
   * word-dropout id and probability P/(P + training count). */
  d.id = g_new (int32_t, d.n_tok);
  d.unk_id = g_new (int32_t, d.n_tok);
  d.drop = g_new (float, d.n_tok);
  size_t unknown = 0;
  for (size_t k = 0; k < d.n_tok; k++) {
    const char *tk = d.tok[k];
    int c = GPOINTER_TO_INT (g_hash_table_lookup (counts, tk));
    d.id[k] = rnn_model_token_id (m, tk, strlen (tk));
    d.unk_id[k] = rnn_model_unknown_token_id (m, tk, strlen (tk));
    d.drop[k] = c > 0 && d.unk_id[k] != d.id[k]
        ? (float) (opt_word_dropout / (opt_word_dropout + c)) : 0.0f;
    if (d.id[k] < 0 || d.unk_id[k] < 0)
      td_die ("%s: token '%s' has no id", opt_data, tk);
  }
  for (size_t i = 0; i < nva; i++)
    for (size_t k = d.off[va[i]]; k < d.off[va[i]] + d.len[va[i]]; k++)
      unknown += !g_hash_table_contains (counts, d.tok[k]);
  if (!opt_quiet && nva)
    printf ("validation tokens not seen in training: %zu\n", unknown);

  rnn_train_config tc;
  rnn_train_config_init (&tc);
  tc.optimizer = g_strcmp0 (opt_optimizer, "sgd") == 0 ? RNN_OPTIM_SGD
      : RNN_OPTIM_ADAM;
  tc.lr = opt_lr;
  tc.weight_decay = opt_wd;
  tc.dropout = opt_dropout;
  tc.loss = RNN_LOSS_CROSS_ENTROPY;
  tc.target = RNN_TARGET_ALL;
  tc.seed = (uint64_t) opt_seed;
  rnn_trainer *t;
  td_check (rnn_trainer_new (m, &tc, &t, &err), &err);

  /* Batches of similar lengths (little padding): the shuffled sentences in
   * pools of 50 batches, each pool sorted by length and cut into batches,
   * the batches visited in a shuffled order. */
  size_t B = opt_batch, maxT = 1;
  for (size_t i = 0; i < n; i++)
    maxT = MAX (maxT, d.len[idx[i]]);
  int32_t *ids = g_new (int32_t, B * maxT), *cls = g_new (int32_t, B * maxT);
  size_t *lengths = g_new (size_t, B);
  size_t nbatch = (ntr + B - 1) / B;
  size_t *border = g_new (size_t, nbatch);
  stopper st = { INFINITY, 0, 0, { NULL, 0 } };
  for (int ep = 1; ep <= opt_epochs; ep++) {
    double t0 = now_s ();
    progress p = { .bar = isatty (1) && !opt_quiet, .steps = nbatch };
    shuffle (rng, tr, ntr);
    for (size_t i = 0; i < ntr; i += 50 * B)
      g_qsort_with_data (tr + i, (gint) MIN (50 * B, ntr - i),
          sizeof (size_t), cmp_len_desc, d.len);
    for (size_t i = 0; i < nbatch; i++)
      border[i] = i;
    shuffle (rng, border, nbatch);
    for (size_t i = 0; i < nbatch; i++) {
      size_t first = border[i] * B, nb = MIN (B, ntr - first);
      size_t T = tag_batch (&d, tr + first, nb, ids, cls, lengths, rng);
      rnn_minibatch b = { nb, T, NULL, ids, lengths, NULL, cls };
      double loss;
      double gn = train_step (t, &b, opt_clip, &loss);
      progress_step (&p, loss, gn);
    }
    double acc = NAN, vl;
    char extra[48];
    if (nva) {
      vl = tag_eval (t, &d, va, nva, C, &acc);
      g_snprintf (extra, sizeof extra, "  val-acc %.4f", acc);
    } else {
      vl = p.loss_sum / p.done;
      extra[0] = '\0';
    }
    if (epoch_end (&st, t, ep, opt_epochs, &p, vl, t0, extra))
      break;
  }
  stopper_finish (&st, t);
  if (!opt_quiet) {
    double acc = NAN;
    if (nva)
      tag_eval (t, &d, va, nva, C, &acc);
    printf ("best epoch %d, validation loss %.5f, token accuracy %.4f\n",
        st.best_epoch, st.best, acc);
  }
  rnn_trainer_free (t);
  g_free (ids);
  g_free (cls);
  g_free (lengths);
  g_free (border);
  g_free (idx);
  g_strfreev (vocab);
  g_hash_table_destroy (counts);
  g_rand_free (rng);
  tag_set_clear (&d);
  return m;
}

/* ------------------------------------------------------------------ main */

static rnn_cell
parse_cell (const char *s)
{
  if (g_strcmp0 (s, "lstm") == 0)
    return RNN_CELL_LSTM;
  if (g_strcmp0 (s, "gru") == 0)
    return RNN_CELL_GRU;
  if (g_strcmp0 (s, "rnn") == 0 || g_strcmp0 (s, "rnn_tanh") == 0)
    return RNN_CELL_RNN_TANH;
  if (g_strcmp0 (s, "rnn_relu") == 0)
    return RNN_CELL_RNN_RELU;
  td_die ("--cell: '%s' is not lstm, gru, rnn or rnn_relu", s);
}

#define IS_SET(v) ((v) != UNSET_I && (v) != UNSET_D)
#define DEFAULT(v, d) do { if (!IS_SET (v)) (v) = (d); } while (0)

int
main (int argc, char **argv)
{
  GError *gerr = NULL;
  GOptionContext *ctx;
  rnn_precision save_precision = RNN_PRECISION_F32;

  td_tool_name = "rnn-train";
  ctx = g_option_context_new ("forecast|anomaly|classify|tag");
  g_option_context_set_summary (ctx,
      "Train a recurrent model for the gst-rnn elements and write it as a "
      "safetensors file.\n\n"
      "  forecast   one-step forecaster of the CSV columns (lstmforecast)\n"
      "  anomaly    one-step forecaster of normal data plus error statistics "
      "(gruanomaly)\n"
      "  classify   text classifier on {text, class} records "
      "(textsentiment)\n"
      "  tag        tagger of tagged sentences, a tag per token "
      "(texttagger)");
  g_option_context_set_description (ctx,
      "Each epoch prints the mean training loss, the validation loss (MSE in "
      "normalised units, or cross-entropy; classify and tag add the "
      "validation accuracy), the mean and max pre-clip "
      "gradient norm over the steps and the time. --seed gives identical "
      "model files. See " RNN_DOCDIR "/rnn-train.md.\n\nExample:\n  rnn-train forecast "
      "--data sunspots.csv --columns sunactivity --time-column year "
      "--output forecast.safetensors");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &gerr))
    td_die ("%s (see --help)", gerr->message);
  g_option_context_free (ctx);

  if (argc != 2)
    td_die ("expected one task, forecast, anomaly, classify or tag (see "
        "--help)");
  const char *task_s = argv[1];
  rnn_task task;
  if (strcmp (task_s, "forecast") == 0)
    task = RNN_TASK_FORECAST;
  else if (strcmp (task_s, "anomaly") == 0)
    task = RNN_TASK_ANOMALY;
  else if (strcmp (task_s, "classify") == 0)
    task = RNN_TASK_CLASSIFY;
  else if (strcmp (task_s, "tag") == 0)
    task = RNN_TASK_TAG;
  else
    td_die ("unknown task '%s': expected forecast, anomaly, classify or tag",
        task_s);
  if (!opt_data || !opt_output)
    td_die ("--data and --output are required (see --help)");
  if (opt_save_precision != NULL
      && (!rnn_precision_from_name (opt_save_precision, &save_precision)
          || save_precision == RNN_PRECISION_INT8))
    td_die ("--save-precision: '%s' is not f32 or bf16 (the model file has "
        "no int8 dtype; load a file with precision=int8 instead)",
        opt_save_precision);
  if (opt_optimizer && strcmp (opt_optimizer, "adam") != 0
      && strcmp (opt_optimizer, "sgd") != 0)
    td_die ("--optimizer: '%s' is not adam or sgd", opt_optimizer);
  if (opt_pooling && strcmp (opt_pooling, "last") != 0
      && strcmp (opt_pooling, "mean") != 0)
    td_die ("--pooling: '%s' is not last or mean", opt_pooling);
  if (IS_SET (opt_window) && IS_SET (opt_bptt))
    td_die ("--window and --bptt exclude each other: windows from a zero "
        "state, or a carried state");

  /* Defaults per task (docs/rnn-train.md gives the reasons). */
  rnn_cell cell = parse_cell (opt_cell ? opt_cell
      : task == RNN_TASK_ANOMALY ? "gru" : "lstm");
  gboolean tagging = task == RNN_TASK_TAG;
  gboolean text = task == RNN_TASK_CLASSIFY || tagging;
  DEFAULT (opt_hidden, text ? 64 : task == RNN_TASK_ANOMALY ? 32 : 64);
  DEFAULT (opt_layers, task == RNN_TASK_ANOMALY || tagging ? 1 : 2);
  DEFAULT (opt_epochs, tagging ? 10 : text ? 30 : 100);
  DEFAULT (opt_batch, text ? 32 : 16);
  DEFAULT (opt_lr, tagging ? 2e-3 : text ? 1e-3 : 3e-3);
  DEFAULT (opt_clip, tagging ? 5.0 : 1.0);
  DEFAULT (opt_val, tagging ? 0.05 : text ? 0.15 : 0.2);
  DEFAULT (opt_patience, tagging ? 2 : text ? 6 : 20);
  DEFAULT (opt_embed, 64);
  DEFAULT (opt_vocab, 20000);
  DEFAULT (opt_min_count, tagging ? 1 : text ? 2 : 1);
  DEFAULT (opt_wd, 0.0);
  DEFAULT (opt_dropout, text && opt_layers > 1 ? 0.3 : 0.0);
  DEFAULT (opt_word_dropout, tagging ? 0.25 : text ? 0.3 : 0.0);
  if (!tagging && (opt_lowercase || opt_unk_classes))
    td_die ("--lowercase and --unk-classes apply to tag");
  if (opt_lowercase && strcmp (opt_lowercase, "true") != 0
      && strcmp (opt_lowercase, "false") != 0)
    td_die ("--lowercase: '%s' is not true or false", opt_lowercase);
  if (opt_unk_classes && strcmp (opt_unk_classes, "shape-suffix") != 0
      && strcmp (opt_unk_classes, "none") != 0)
    td_die ("--unk-classes: '%s' is not shape-suffix or none",
        opt_unk_classes);
  if (tagging && opt_pooling)
    td_die ("--pooling applies to classify: a tagger's head reads every "
        "token");
  /* Forecast: windows (measured better on held-out sunspots, see
   * docs/rnn-train.md); anomaly: stateful, as gruanomaly carries its state. */
  if (task == RNN_TASK_ANOMALY && IS_SET (opt_window))
    td_die ("--window: gruanomaly carries its state, so an anomaly model "
        "trains with --bptt");
  if (IS_SET (opt_window) && opt_window < 1)
    td_die ("--window %d: must be at least 1", opt_window);
  if (IS_SET (opt_bptt) && opt_bptt < 1)
    td_die ("--bptt %d: must be at least 1", opt_bptt);
  if (!text && !IS_SET (opt_window) && !IS_SET (opt_bptt)) {
    if (task == RNN_TASK_FORECAST)
      opt_window = 32;
    else
      opt_bptt = 32;
  }
  DEFAULT (opt_window, 0);
  DEFAULT (opt_bptt, 0);

  if (opt_hidden < 1 || opt_layers < 1 || opt_epochs < 1 || opt_batch < 1
      || opt_embed < 1 || opt_min_count < 1)
    td_die ("--hidden, --layers, --epochs, --batch-size, --embed-dim and "
        "--min-count must be at least 1");
  if (opt_val < 0 || opt_val >= 1.0)
    td_die ("--val-split %g: must be in [0, 1)", opt_val);
  if (opt_lr <= 0)
    td_die ("--lr %g: must be positive", opt_lr);
  if (opt_clip < 0 || opt_wd < 0 || opt_patience < 0)
    td_die ("--clip, --weight-decay and --patience cannot be negative");
  if (opt_dropout < 0 || opt_dropout >= 1.0 || opt_word_dropout < 0
      || opt_word_dropout >= 1.0)
    td_die ("--dropout and --word-dropout must be in [0, 1)");
  if (opt_vocab < 3)
    td_die ("--vocab-size %d: must be at least 3 (<pad>, <unk> and a word)",
        opt_vocab);
  if (!text && opt_bidir)
    td_die ("--bidirectional: a %s model runs on a live signal, whose future "
        "is unknown; only text models can be bidirectional", task_s);
  if (text && (opt_window > 0 || opt_bptt > 0))
    td_die ("--window and --bptt apply to signals, not to %s", task_s);
  if (text && (opt_columns || opt_time_column || opt_group_column
          || opt_label_column))
    td_die ("--columns, --time-column, --group-column and --label-column apply "
        "to CSV signals, not to %s", task_s);
  if (task == RNN_TASK_FORECAST && opt_label_column)
    td_die ("--label-column applies to anomaly");
  if (task != RNN_TASK_CLASSIFY && opt_label_names)
    td_die ("--label-names names the classes of a classify model; a %s model "
        "has %s", task_s, tagging ? "the tags of its data" : "no classes");
  parse_label_names ();

  rnn_model *m;
  rnn_error err;
  if (tagging) {
    m = train_tag (cell);
  } else if (text) {
    m = train_classify (cell);
  } else {
    signal_set d = { 0 };
    signal_prepare (&d, task == RNN_TASK_ANOMALY);
    m = train_signal (&d, task, cell, opt_window, opt_bptt);
    set_meta (m, "input.mean", json_floats (d.mean, d.F));
    set_meta (m, "input.std", json_floats (d.std, d.F));
    set_meta (m, "output.mean", json_floats (d.mean, d.F));
    set_meta (m, "output.std", json_floats (d.std, d.F));
    set_meta (m, "input.names", json_strings (d.sig->names, d.F));
    if (opt_window > 0)
      set_meta (m, "window", g_strdup_printf ("%d", opt_window));
    if (task == RNN_TASK_ANOMALY)
      anomaly_calibrate (m, &d);
    signal_clear (&d);
  }
  td_check (rnn_model_save_precision (m, opt_output, save_precision, &err),
      &err);
  if (!opt_quiet)
    printf ("wrote %s\n", opt_output);
  rnn_model_free (m);
  return 0;
}
