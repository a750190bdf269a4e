/* gst-rnn: rnn-eval, runs a trained model through the inference engine the
 * way the elements do and prints its outputs as CSV, for the evaluation in
 * tools/train_models.sh.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   rnn-eval signal --model M --data CSV [--window N] [column options]
 *     one row per data row: time, group, label, the actual values, the
 *     model's prediction of this row made after the previous row (empty at
 *     the start of a sequence) and the anomaly score (SPEC section 5).
 *     --window 0 carries the state (lstmforecast window=0, gruanomaly);
 *     N > 0 predicts from a zero state over the last N rows; default: the
 *     model's `window` metadata.
 *   rnn-eval classify --model M --data FILE
 *     one row per text: line, true label, predicted label, confidence.
 *   rnn-eval tag --model M --data FILE|DIR
 *     tagged sentences (rnn-train tag's formats); one TSV row per token:
 *     sentence, word, token, gold tag (its word's), predicted tag,
 *     confidence.
 *   rnn-eval anomaly --model M --data CSV [--label-column C] [--windows F]
 *       [--element-args 'scoring=fixed threshold=5'] [--probation N|nab]
 *     runs the series through gruanomaly (appsrc ! gruanomaly ! appsink)
 *     and scores its start events against the labelled windows next to a
 *     rolling z-score: event precision and recall, false alarms per 1,000
 *     frames, detection delay, NAB score (tools/eval-anomaly.c).
 */
#include "rnn.h"
#include "eval-anomaly.h"
#include "train-data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *opt_model, *opt_data, *opt_columns, *opt_time_column;
static char *opt_group_column, *opt_label_column, *opt_delimiter;
static char *opt_precision;
static int opt_window = -1;
static char *opt_windows, *opt_element_args, *opt_probation, *opt_output;
static char *opt_json;
static double opt_rate, opt_baseline_threshold = 4.0;
static int opt_baseline_window = 168;

static GOptionEntry entries[] = {
  { "model", 'm', 0, G_OPTION_ARG_FILENAME, &opt_model, "Model file",
    "MODEL" },
  { "data", 'd', 0, G_OPTION_ARG_FILENAME, &opt_data, "Data file", "FILE" },
  { "columns", 'c', 0, G_OPTION_ARG_STRING, &opt_columns,
    "Feature columns (default: the model's input.names metadata)", "LIST" },
  { "time-column", 0, 0, G_OPTION_ARG_STRING, &opt_time_column,
    "Column copied to the output as `time`", "COL" },
  { "group-column", 0, 0, G_OPTION_ARG_STRING, &opt_group_column,
    "Column whose changes start a new sequence (state reset)", "COL" },
  { "label-column", 0, 0, G_OPTION_ARG_STRING, &opt_label_column,
    "Column of anomaly labels copied to the output", "COL" },
  { "delimiter", 0, 0, G_OPTION_ARG_STRING, &opt_delimiter,
    "CSV field separator: one character, or tab (default ,)", "CHAR" },
  { "window", 'w', 0, G_OPTION_ARG_INT, &opt_window,
    "0: carry the state; N: zero state over the last N rows", "N" },
  { "precision", 0, 0, G_OPTION_ARG_STRING, &opt_precision,
    "Recurrent weights in f32 (default), bf16 or int8, as the elements' "
    "precision property", "P" },
  { "windows", 0, 0, G_OPTION_ARG_FILENAME, &opt_windows,
    "anomaly: labelled windows (start,end lines or JSON)", "FILE" },
  { "element-args", 'e', 0, G_OPTION_ARG_STRING, &opt_element_args,
    "anomaly: gruanomaly properties, e.g. 'scoring=fixed threshold=5'",
    "ARGS" },
  { "probation", 0, 0, G_OPTION_ARG_STRING, &opt_probation,
    "anomaly: first frames not scored (N, or nab: min(15%, 750))", "N" },
  { "rate", 0, 0, G_OPTION_ARG_DOUBLE, &opt_rate,
    "anomaly: frames per second for delays without a time column "
    "(default 1)", "R" },
  { "baseline-window", 0, 0, G_OPTION_ARG_INT, &opt_baseline_window,
    "anomaly: rolling z-score window in frames (default 168)", "N" },
  { "baseline-threshold", 0, 0, G_OPTION_ARG_DOUBLE, &opt_baseline_threshold,
    "anomaly: rolling z-score threshold on |z| (default 4)", "Z" },
  { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_output,
    "anomaly: per-frame CSV (NAB results columns, scores, starts)", "FILE" },
  { "json", 0, 0, G_OPTION_ARG_FILENAME, &opt_json,
    "anomaly: the figures as JSON", "FILE" },
  { NULL }
};

/* --precision: convert the model's recurrent weights as the elements'
 * `precision` property does. */
static void
apply_precision (rnn_model *m)
{
  rnn_precision p = RNN_PRECISION_F32;
  rnn_error err;

  if (opt_precision == NULL)
    return;
  if (!rnn_precision_from_name (opt_precision, &p)) {
    g_printerr ("rnn-eval: --precision %s: use f32, bf16 or int8\n",
        opt_precision);
    exit (2);
  }
  td_check (rnn_model_set_precision (m, p, &err), &err);
}

static int
eval_signal (void)
{
  rnn_error err;
  rnn_model *m;
  td_check (rnn_model_load (opt_model, &m, &err), &err);
  apply_precision (m);
  char *cols = opt_columns ? g_strdup (opt_columns) : td_model_columns (m);
  td_csv_options co = { cols, opt_time_column, opt_group_column,
    opt_label_column, td_delimiter (opt_delimiter) };
  td_signal *s;
  td_check (td_signal_read (opt_data, &co, &s, &err), &err);
  int F = s->n_features, O = rnn_model_output_size (m);
  if (F != rnn_model_input_size (m))
    td_die ("%s: %d feature columns, the model %s takes %d", opt_data, F,
        opt_model, rnn_model_input_size (m));
  if (O != F)
    td_die ("%s: output size %d differs from its input size %d: not a one-step "
        "forecaster", opt_model, O, F);
  int N = opt_window >= 0 ? opt_window : (int) rnn_model_window (m);
  char **times = s->time;

  rnn_state *st;
  td_check (rnn_state_new (m, MAX (N, 1), &st, &err), &err);
  const float *em = rnn_model_anomaly_error_mean (m);
  const float *es = rnn_model_anomaly_error_std (m);
  float *y = g_new (float, (size_t) MAX (N, 1) * O);
  float *pred = g_new (float, O);
  float *xn = g_new (float, F), *pn = g_new (float, F);

  printf ("time,group,label");
  for (int k = 0; k < F; k++)
    printf (",%s", s->names[k]);
  for (int k = 0; k < F; k++)
    printf (",pred_%s", s->names[k]);
  printf (",score\n");
  for (guint g = 0; g < s->segments->len; g++) {
    td_segment *seg = &g_array_index (s->segments, td_segment, g);
    gboolean have = FALSE;
    rnn_state_reset (st);
    for (size_t t = 0; t < seg->length; t++) {
      size_t r = seg->start + t;
      const float *x = s->x + r * F;
      double score = 0;
      if (times)
        printf ("%s", times[r]);
      else
        printf ("%u", s->line[r]);
      printf (",%u,%d", g, s->label ? s->label[r] : 0);
      for (int k = 0; k < F; k++)
        printf (",%.9g", x[k]);
      if (have) {
        /* The score of SPEC section 5: e = x - p in normalised units. */
        rnn_model_normalize_input (m, x, xn, 1);
        rnn_model_normalize_input (m, pred, pn, 1);
        double acc = 0;
        for (int k = 0; k < F; k++) {
          double z = ((xn[k] - pn[k]) - em[k]) / es[k];
          acc += z * z;
        }
        score = sqrt (acc / F);
        for (int k = 0; k < F; k++)
          printf (",%.9g", pred[k]);
      } else {
        for (int k = 0; k < F; k++)
          printf (",");
      }
      printf (",%.6g\n", score);

      /* The prediction of row t+1. */
      if (N == 0) {
        td_check (rnn_state_forward (st, x, 1, pred, &err), &err);
      } else {
        size_t len = MIN ((size_t) N, t + 1);
        rnn_state_reset (st);
        td_check (rnn_state_forward (st, s->x + (r + 1 - len) * F, len, y,
                &err), &err);
        memcpy (pred, y + (len - 1) * O, O * sizeof (float));
      }
      have = TRUE;
    }
  }
  g_free (y);
  g_free (pred);
  g_free (xn);
  g_free (pn);
  g_free (cols);
  rnn_state_free (st);
  td_signal_free (s);
  rnn_model_free (m);
  return 0;
}

static int
eval_classify (void)
{
  rnn_error err;
  rnn_model *m;
  td_check (rnn_model_load (opt_model, &m, &err), &err);
  apply_precision (m);
  td_texts *tx;
  td_check (td_texts_read (opt_data, &tx, &err), &err);
  rnn_state *st;
  td_check (rnn_state_new (m, 256, &st, &err), &err);
  int C = rnn_model_output_size (m);
  float *y = g_new (float, C);
  size_t cap = 256, n_ok = 0, n_pred = 0;
  int32_t *ids = g_new (int32_t, cap);

  printf ("line,label,predicted,confidence\n");
  for (size_t i = 0; i < tx->n; i++) {
    size_t n;
    const char *text = tx->text[i];
    td_check (rnn_model_tokenize (m, text, strlen (text), ids, cap, &n, &err),
        &err);
    if (n > cap) {
      cap = n;
      ids = g_renew (int32_t, ids, cap);
      td_check (rnn_model_tokenize (m, text, strlen (text), ids, cap, &n, &err),
          &err);
    }
    if (n == 0) {
      printf ("%u,%s,,\n", tx->line[i], tx->label[i]);
      continue;
    }
    rnn_state_reset (st);
    td_check (rnn_state_forward_ids (st, ids, n, y, &err), &err);
    /* Softmax (C >= 2) or sigmoid (one output), as textsentiment. */
    int best = 0;
    double conf;
    if (C == 1) {
      double p = 1 / (1 + exp (-y[0]));
      best = p >= 0.5;
      conf = best ? p : 1 - p;
    } else {
      double mx = y[0], sum = 0;
      for (int c = 1; c < C; c++)
        if (y[c] > y[best]) {
          best = c;
          mx = y[c];
        }
      for (int c = 0; c < C; c++)
        sum += exp (y[c] - mx);
      conf = 1 / sum;
    }
    const char *lab = rnn_model_label (m, best);
    printf ("%u,%s,%s,%.6f\n", tx->line[i], tx->label[i], lab, conf);
    n_pred++;
    n_ok += strcmp (lab, tx->label[i]) == 0;
  }
  fprintf (stderr, "rnn-eval: %s on %s: accuracy %.4f over %zu texts with "
      "tokens (%zu without)\n", opt_model, opt_data,
      n_pred ? (double) n_ok / n_pred : NAN, n_pred, tx->n - n_pred);
  g_free (ids);
  g_free (y);
  rnn_state_free (st);
  td_texts_free (tx);
  rnn_model_free (m);
  return 0;
}

/* Tagged sentences: each sentence's words joined by spaces, tokenized and
 * run as one closed sequence exactly as texttagger does (the engine's own
 * rnn_model_tokenize_spans and rnn_state_forward_tokens); one TSV row per
 * token with the tag of the word it lies in, and one row with an empty
 * token for a word that gives none. */
static int
eval_tag (void)
{
  rnn_error err;
  rnn_model *m;
  td_check (rnn_model_load (opt_model, &m, &err), &err);
  apply_precision (m);
  if (rnn_model_task (m) != RNN_TASK_TAG)
    td_die ("%s: a %s model, not a tagger (task tag)", opt_model,
        rnn_task_name (rnn_model_task (m)));
  td_tagged *tg;
  td_check (td_tagged_read (opt_data, &tg, &err), &err);
  rnn_state *st;
  td_check (rnn_state_new (m, 256, &st, &err), &err);
  int C = rnn_model_output_size (m);
  size_t cap = 256, n_tok = 0, n_ok = 0;
  rnn_token *toks = g_new (rnn_token, cap);
  float *y = g_new (float, cap * C);

  printf ("sentence\tword\ttoken\tgold\tpredicted\tconfidence\n");
  for (size_t s = 0; s < tg->n; s++) {
    const char *text = tg->text[s];
    size_t len = strlen (text), n;
    GArray *words = tg->words[s];
    td_check (rnn_model_tokenize_spans (m, text, len, toks, cap, &n, &err),
        &err);
    if (n > cap) {
      cap = n;
      toks = g_renew (rnn_token, toks, cap);
      y = g_renew (float, y, cap * C);
      td_check (rnn_model_tokenize_spans (m, text, len, toks, cap, &n, &err),
          &err);
    }
    if (n > 0) {
      rnn_state_reset (st);
      td_check (rnn_state_forward_tokens (st, text, len, toks, n, y, &err),
          &err);
    }
    size_t k = 0;
    for (guint w = 0; w < words->len; w++) {
      const td_word *wd = &g_array_index (words, td_word, w);
      const char *gold = tg->tags[wd->tag];
      gboolean any = FALSE;
      for (; k < n && toks[k].start < wd->end; k++) {
        const float *z = y + k * C;
        int best = 0;
        double sum = 0;
        for (int c = 1; c < C; c++)
          if (z[c] > z[best])
            best = c;
        for (int c = 0; c < C; c++)
          sum += exp ((double) z[c] - z[best]);
        const char *pred = rnn_model_label (m, best);
        printf ("%zu\t%u\t%.*s\t%s\t%s\t%.7f\n", s, w,
            (int) (toks[k].end - toks[k].start), text + toks[k].start, gold,
            pred, 1 / sum);
        n_tok++;
        n_ok += strcmp (pred, gold) == 0;
        any = TRUE;
      }
      if (!any)
        printf ("%zu\t%u\t\t%s\t\t\n", s, w, gold);
    }
  }
  fprintf (stderr, "rnn-eval: %s on %s: token accuracy %.4f over %zu tokens "
      "of %zu sentences\n", opt_model, opt_data,
      n_tok ? (double) n_ok / n_tok : NAN, n_tok, tg->n);
  g_free (toks);
  g_free (y);
  rnn_state_free (st);
  td_tagged_free (tg);
  rnn_model_free (m);
  return 0;
}

int
main (int argc, char **argv)
{
  GError *gerr = NULL;
  GOptionContext *ctx;

  td_tool_name = "rnn-eval";
  ctx = g_option_context_new ("signal|classify|tag|anomaly");
  g_option_context_set_summary (ctx, "Run a model through the gst-rnn "
      "engine as the elements do and print its outputs as CSV.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &gerr))
    td_die ("%s (see --help)", gerr->message);
  g_option_context_free (ctx);
  if (argc == 2 && strcmp (argv[1], "anomaly") == 0 && opt_data) {
    /* --precision is the element's precision property here */
    char *eargs = opt_precision ? g_strdup_printf ("%s precision=%s",
        opt_element_args ? opt_element_args : "", opt_precision)
        : g_strdup (opt_element_args);
    ea_options o = { opt_model, opt_data, { opt_columns, opt_time_column,
        opt_group_column, opt_label_column, td_delimiter (opt_delimiter) },
      opt_windows, eargs, opt_probation, opt_rate,
      opt_baseline_window, opt_baseline_threshold, opt_output, opt_json };
    if (!opt_label_column && !opt_windows)
      td_die ("anomaly: give the labelled windows with --label-column "
          "and/or --windows");
    return eval_anomaly (&o);
  }
  if (argc != 2 || !opt_model || !opt_data)
    td_die ("usage: rnn-eval signal|classify|tag|anomaly --model MODEL "
        "--data FILE");
  if (strcmp (argv[1], "signal") == 0)
    return eval_signal ();
  if (strcmp (argv[1], "classify") == 0)
    return eval_classify ();
  if (strcmp (argv[1], "tag") == 0)
    return eval_tag ();
  td_die ("unknown mode '%s': expected signal, classify, tag or anomaly",
      argv[1]);
}
