/* gst-rnn: tests of the rnn-train command line on small data files.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * usage: test-rnn-train RNN_TRAIN DATA_DIR WORK_DIR
 */
#include "rnn.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *exe, *data_dir, *work_dir;
static const char *eval_exe;    /* rnn-eval, optional 4th argument */
static int n_checks, n_failed;

static void
check (int ok, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
check (int ok, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  printf ("%s: ", ok ? "ok" : "FAIL");
  vprintf (fmt, ap);
  printf ("\n");
  va_end (ap);
  n_checks++;
  n_failed += !ok;
}

static char *
data (const char *name)
{
  return g_build_filename (data_dir, name, NULL);
}

static char *
work (const char *name)
{
  return g_build_filename (work_dir, name, NULL);
}

/* Run rnn-train with a NULL-terminated list of arguments; returns the exit
 * status, stdout and stderr in *out / *errs (may be NULL). */
static int
run (char **out, char **errs, ...)
{
  GPtrArray *argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (char *) exe);
  va_list ap;
  va_start (ap, errs);
  const char *a;
  while ((a = va_arg (ap, const char *)))
    g_ptr_array_add (argv, (char *) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  char *o = NULL, *e = NULL;
  int status = -1;
  GError *gerr = NULL;
  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT,
          NULL, NULL, &o, &e, &status, &gerr)) {
    printf ("cannot run %s: %s\n", exe, gerr->message);
    g_error_free (gerr);
    exit (1);
  }
  g_ptr_array_free (argv, TRUE);
  int code = g_spawn_check_wait_status (status, NULL) ? 0 : 1;
  if (code)
    printf ("  (rnn-train exited with an error; stderr: %s)\n", e);
  if (out)
    *out = o;
  else
    g_free (o);
  if (errs)
    *errs = e;
  else
    g_free (e);
  return code;
}

static rnn_model *
load (const char *path)
{
  rnn_model *m = NULL;
  rnn_error err;
  if (rnn_model_load (path, &m, &err) != RNN_OK) {
    check (0, "load %s: %s", path, err.msg);
    return NULL;
  }
  return m;
}

/* The values of a metadata JSON array of numbers. */
static int
meta_floats (const rnn_model *m, const char *key, double *v, int max)
{
  const char *s = rnn_model_meta (m, key);
  if (!s || *s != '[')
    return -1;
  int n = 0;
  const char *p = s + 1;
  while (*p && *p != ']' && n < max) {
    char *end;
    v[n++] = g_ascii_strtod (p, &end);
    if (end == p)
      return -1;
    p = end;
    while (*p == ',' || *p == ' ')
      p++;
  }
  return n;
}

static void
test_forecast (void)
{
  char *d = data ("tiny-forecast.csv"), *o = work ("forecast.safetensors");
  char *out = NULL;
  int rc = run (&out, NULL, "forecast", "--data", d, "--output", o,
      "--columns", "value", "--time-column", "t", "--hidden", "8",
      "--epochs", "3", "--bptt", "16", "--seed", "5", NULL);
  check (rc == 0, "forecast with blanks trains");
  check (out && strstr (out, "3 blank values filled") != NULL,
      "the 3 blank values are reported as filled");
  check (out && strstr (out, "epoch   1/3") && strstr (out, "grad-norm"),
      "one line per epoch with the gradient norm");
  rnn_model *m = load (o);
  if (m) {
    check (rnn_model_task (m) == RNN_TASK_FORECAST, "task is forecast");
    check (rnn_model_cell (m) == RNN_CELL_LSTM, "default cell is lstm");
    check (rnn_model_input_size (m) == 1 && rnn_model_output_size (m) == 1,
        "one feature in, one out (got %d, %d)", rnn_model_input_size (m),
        rnn_model_output_size (m));
    check (rnn_model_hidden_size (m) == 8, "hidden size 8");
    check (rnn_model_window (m) == 0, "stateful model has no window");
    double mean[4] = { 0 }, sd[4] = { 0 };
    check (meta_floats (m, "input.mean", mean, 4) == 1
        && meta_floats (m, "input.std", sd, 4) == 1 && fabs (mean[0]) < 0.3
        && sd[0] > 0.5 && sd[0] < 1.0, "input.mean/std of a sine (%g, %g)",
        mean[0], sd[0]);
    check (rnn_model_meta (m, "output.mean") != NULL
        && rnn_model_meta (m, "output.std") != NULL, "output.mean/std set");
    rnn_model_free (m);
  }
  /* Window training records the window. */
  rc = run (NULL, NULL, "forecast", "--data", d, "--output", o,
      "--columns", "value,other", "--time-column", "t", "--hidden", "8",
      "--epochs", "2", "--window", "12", "--cell", "gru", "--quiet", NULL);
  check (rc == 0, "forecast --window trains");
  m = load (o);
  if (m) {
    check (rnn_model_window (m) == 12, "window metadata 12 (got %u)",
        rnn_model_window (m));
    check (rnn_model_cell (m) == RNN_CELL_GRU, "--cell gru");
    check (rnn_model_input_size (m) == 2, "--columns value,other: 2 "
        "features");
    rnn_model_free (m);
  }
  /* SGD with weight decay. */
  rc = run (NULL, NULL, "forecast", "--data", d, "--output", o,
      "--columns", "value", "--time-column", "t", "--hidden", "8",
      "--epochs", "2", "--optimizer", "sgd", "--lr", "0.05",
      "--weight-decay", "1e-4", "--layers", "1", "--quiet", NULL);
  m = rc == 0 ? load (o) : NULL;
  check (m != NULL && rnn_model_num_layers (m) == 1,
      "--optimizer sgd --weight-decay trains a 1-layer model");
  rnn_model_free (m);
  /* bf16 recurrent weights in the file; int8 has no dtype there */
  rc = run (NULL, NULL, "forecast", "--data", d, "--output", o,
      "--columns", "value", "--time-column", "t", "--hidden", "8",
      "--epochs", "1", "--save-precision", "bf16", "--quiet", NULL);
  {
    rnn_tensors *t = NULL;
    const rnn_tensor *hh = NULL, *ih = NULL;
    if (rc == 0 && rnn_tensors_load (o, &t, NULL) == RNN_OK) {
      hh = rnn_tensors_find (t, "lstm.weight_hh_l0");
      ih = rnn_tensors_find (t, "lstm.weight_ih_l0");
    }
    check (hh != NULL && ih != NULL && strcmp (hh->dtype, "BF16") == 0
        && strcmp (ih->dtype, "F32") == 0, "--save-precision bf16: "
        "weight_hh_l0 is %s, weight_ih_l0 %s", hh ? hh->dtype : "missing",
        ih ? ih->dtype : "missing");
    rnn_tensors_free (t);
  }
  {
    char *errs = NULL;
    rc = run (NULL, &errs, "forecast", "--data", d, "--output", o,
        "--columns", "value", "--epochs", "1", "--save-precision", "int8",
        "--quiet", NULL);
    check (rc != 0 && errs != NULL && strstr (errs, "--save-precision: "
            "'int8' is not f32 or bf16") != NULL,
        "--save-precision int8 is refused with a reason: %s", errs);
    g_free (errs);
  }
  g_free (out);
  g_free (d);
  g_free (o);
}

/* Normalisation statistics from the first 80% of the rows (val-split 0.2):
 * recomputed here from the file. */
static void
test_normalisation (void)
{
  char *d = data ("tiny-noheader.csv"), *o = work ("noheader.safetensors");
  int rc = run (NULL, NULL, "forecast", "--data", d, "--output", o,
      "--columns", "0", "--hidden", "4", "--epochs", "1", "--quiet", NULL);
  check (rc == 0, "CSV without header, column by index");
  rnn_model *m = load (o);
  char *txt = NULL;
  g_file_get_contents (d, &txt, NULL, NULL);
  char **lines = g_strsplit (txt, "\n", -1);
  double sum = 0, sq = 0;
  int n = 80;
  for (int i = 0; i < n; i++) {
    double v = g_ascii_strtod (lines[i], NULL);
    sum += v;
    sq += v * v;
  }
  double em = sum / n, es = sqrt (sq / n - em * em);
  if (m) {
    double mean[2] = { 0 }, sd[2] = { 0 };
    int k = meta_floats (m, "input.mean", mean, 2);
    meta_floats (m, "input.std", sd, 2);
    check (k == 1 && fabs (mean[0] - em) < 1e-4 && fabs (sd[0] - es) < 1e-4,
        "input.mean/std = training-part statistics (%g, %g; expected %g, %g)",
        mean[0], sd[0], em, es);
    rnn_model_free (m);
  }
  g_strfreev (lines);
  g_free (txt);
  g_free (d);
  g_free (o);
}

/* Blank values: linear interpolation inside, the nearest value at the
 * start (blanks.csv: v = row index with blanks, rows 0 and 1 blank). */
static void
test_blanks (void)
{
  char *d = data ("blanks.csv"), *o = work ("blanks.safetensors");
  char *out = NULL;
  int rc = run (&out, NULL, "forecast", "--data", d, "--output", o,
      "--columns", "v", "--hidden", "4", "--epochs", "1", NULL);
  check (rc == 0 && out && strstr (out, "(16 blank values filled)"),
      "16 blank values (empty, NA, NaN) filled");
  rnn_model *m = rc == 0 ? load (o) : NULL;
  if (m) {
    /* Rows 0..79 train: 0..79 with rows 0 and 1 taking the value 2. */
    double expect = 0;
    for (int i = 0; i < 80; i++)
      expect += i < 2 ? 2 : i;
    expect /= 80;
    double mean[2] = { 0 };
    meta_floats (m, "input.mean", mean, 2);
    check (fabs (mean[0] - expect) < 1e-4, "mean of the filled training "
        "rows %g (expected %g)", mean[0], expect);
    rnn_model_free (m);
  }
  g_free (out);
  g_free (d);
  g_free (o);
}

static void
test_anomaly (void)
{
  char *d = data ("tiny-anomaly.csv"), *o = work ("anomaly.safetensors");
  char *out = NULL;
  int rc = run (&out, NULL, "anomaly", "--data", d, "--output", o,
      "--group-column", "sensor", "--label-column", "label", "--hidden", "8",
      "--epochs", "3", "--bptt", "20", NULL);
  check (rc == 0, "anomaly trains");
  check (out && strstr (out, "of 2 features") != NULL, "features: humidity and "
      "temperature (sensor and label excluded)");
  check (out && strstr (out, "3 sequence(s)") != NULL,
      "labelled rows cut sensor 2 into two normal runs (3 in all)");
  rnn_model *m = load (o);
  if (m) {
    check (rnn_model_task (m) == RNN_TASK_ANOMALY, "task is anomaly");
    check (rnn_model_cell (m) == RNN_CELL_GRU, "default anomaly cell is gru");
    check (rnn_model_output_size (m) == 2, "output size == input size 2");
    double em[3], es[3], thr;
    check (meta_floats (m, "anomaly.error_mean", em, 3) == 2
        && meta_floats (m, "anomaly.error_std", es, 3) == 2
        && es[0] > 0 && es[1] > 0, "anomaly.error_mean/std, 2 values");
    const char *ts = rnn_model_meta (m, "anomaly.threshold");
    thr = ts ? g_ascii_strtod (ts, NULL) : 0;
    check (thr >= 4.0 && thr == rnn_model_anomaly_threshold (m),
        "anomaly.threshold >= 4 and read by the loader (%g)", thr);
    rnn_model_free (m);
  }
  g_free (out);
  g_free (d);
  g_free (o);
}

static void
test_classify (void)
{
  const char *files[] = { "tiny-texts.json", "tiny-texts.jsonl",
    "tiny-texts.tsv" };
  const char *labels[][2] = { { "0", "1" }, { "neg", "pos" },
    { "neg", "pos" } };
  for (int f = 0; f < 3; f++) {
    char *d = data (files[f]), *o = work ("classify.safetensors");
    char *out = NULL;
    int rc = run (&out, NULL, "classify", "--data", d, "--output", o,
        "--hidden", "16", "--embed-dim", "8", "--epochs", "40",
        "--patience", "0", "--val-split", "0.25", "--lr", "0.02",
        "--layers", "1", "--min-count", "1", "--word-dropout", "0", NULL);
    check (rc == 0, "classify %s trains", files[f]);
    check (out && strstr (out, "80 texts, 2 classes") != NULL,
        "%s: 80 texts (the unlabelled record skipped), 2 classes", files[f]);
    rnn_model *m = load (o);
    if (m) {
      check (rnn_model_task (m) == RNN_TASK_CLASSIFY, "task is classify");
      check (rnn_model_num_labels (m) == 2
          && strcmp (rnn_model_label (m, 0), labels[f][0]) == 0
          && strcmp (rnn_model_label (m, 1), labels[f][1]) == 0,
          "labels [%s, %s]", labels[f][0], labels[f][1]);
      int32_t ids[8];
      size_t n = 0;
      rnn_error err;
      rnn_model_tokenize (m, "Great zzzunseen", 15, ids, 8, &n, &err);
      check (n == 2 && ids[0] > 1 && ids[1] == 1,
          "vocabulary maps a training word and <unk> (%d, %d)", ids[0],
          ids[1]);
      check (rnn_model_vocab_size (m) >= 15 && rnn_model_vocab_size (m) < 30,
          "vocabulary of the training words (%d)", rnn_model_vocab_size (m));
      /* The words decide the class: the validation texts are learnt. */
      const char *acc = out ? strstr (out, "accuracy ") : NULL;
      double a = acc ? g_ascii_strtod (acc + 9, NULL) : 0;
      check (a >= 0.9, "validation accuracy on a separable set >= 0.9 (%g)",
          a);
      rnn_model_free (m);
    }
    g_free (out);
    g_free (d);
    g_free (o);
  }
}

/* tag: Brown-style word/TAG lines and a directory of CoNLL files give a
 * bidirectional tagger (task tag, head on every token, the tags as labels,
 * case kept, unknown-word classes) that learns the context-dependent tags;
 * a word such as "isn't" becomes the tokenizer's tokens with its tag. */
static void
test_tag (void)
{
  const char *inputs[] = { "tiny-tagged.txt", "tiny-conll" };
  for (int f = 0; f < 2; f++) {
    char *d = data (inputs[f]), *o = work ("tag.safetensors");
    char *out = NULL;
    int rc = run (&out, NULL, "tag", "--data", d, "--output", o,
        "--hidden", "16", "--embed-dim", "8", "--epochs", "12",
        "--patience", "0", "--val-split", "0.25", "--lr", "0.02", NULL);
    check (rc == 0, "tag %s trains", inputs[f]);
    check (out && strstr (out, "240 sentences, ") != NULL
        && strstr (out, ", 6 tags;") != NULL,
        "%s: 240 sentences, 6 tags (the '.' tag included)", inputs[f]);
    check (out && strstr (out, "val-acc") != NULL
        && strstr (out, "grad-norm") != NULL,
        "%s: per-epoch validation accuracy and gradient norm", inputs[f]);
    rnn_model *m = load (o);
    if (m) {
      check (rnn_model_task (m) == RNN_TASK_TAG
          && rnn_model_head_input (m) == RNN_HEAD_OUTPUT
          && rnn_model_num_directions (m) == 2
          && rnn_model_output_size (m) == 6,
          "task tag, head on every token, bidirectional, 6 outputs");
      check (rnn_model_num_labels (m) == 6
          && strcmp (rnn_model_label (m, 0), ".") == 0
          && strcmp (rnn_model_label (m, 5), "VERB") == 0,
          "labels are the sorted tags (., ADJ, DET, NOUN, PRON, VERB)");
      check (g_strcmp0 (rnn_model_meta (m, "tokenizer.lowercase"), "false")
          == 0 && g_strcmp0 (rnn_model_meta (m, "tokenizer.unk_classes"),
              "shape-suffix") == 0, "case kept, unknown-word classes");
      /* "isn't" gave the tokens isn and t, both learnt */
      check (rnn_model_token_id (m, "isn", 3) > 1
          && rnn_model_token_id (m, "t", 1) > 1
          && rnn_model_token_id (m, "The", 3) > 1,
          "the tokenizer's tokens of the training words are in the "
          "vocabulary (isn, t, The)");
      check (rnn_model_token_id (m, "zebra", 5)
          == rnn_model_unknown_token_id (m, "zebra", 5)
          && rnn_model_token_id (m, "zebra", 5) != 1,
          "an unseen word maps to an unknown-word class, not <unk>");
      /* The engine tags ambiguous words by context. */
      const char *text = "They can the fish";
      rnn_token toks[8];
      size_t n = 0;
      rnn_error err;
      float y[8 * 6];
      rnn_state *s = NULL;
      rnn_model_tokenize_spans (m, text, strlen (text), toks, 8, &n, &err);
      if (n == 4 && rnn_state_new (m, 8, &s, &err) == RNN_OK
          && rnn_state_forward_tokens (s, text, strlen (text), toks, n, y,
              &err) == RNN_OK) {
        const char *want[] = { "PRON", "VERB", "DET", "NOUN" };
        int ok = 1;
        for (size_t k = 0; k < n; k++) {
          int best = 0;
          for (int c = 1; c < 6; c++)
            if (y[k * 6 + c] > y[k * 6 + best])
              best = c;
          ok &= strcmp (rnn_model_label (m, best), want[k]) == 0;
        }
        check (ok, "\"%s\" tagged PRON VERB DET NOUN (can: a verb after a "
            "pronoun, fish: a noun after a determiner)", text);
      } else {
        check (0, "tokenize and run \"%s\" (%zu tokens)", text, n);
      }
      rnn_state_free (s);
      const char *acc = out ? strstr (out, "token accuracy ") : NULL;
      double a = acc ? g_ascii_strtod (acc + 15, NULL) : 0;
      check (a >= 0.95, "validation token accuracy >= 0.95 (%g)", a);
      rnn_model_free (m);
    }
    g_free (out);
    g_free (d);
    g_free (o);
  }
  /* Options of the tag task. */
  char *d = data ("tiny-tagged.txt"), *o = work ("tag-lower.safetensors");
  int rc = run (NULL, NULL, "tag", "--data", d, "--output", o, "--epochs",
      "1", "--hidden", "4", "--embed-dim", "4", "--lowercase", "true",
      "--unk-classes", "none", "--cell", "gru", "--layers", "2", "--quiet",
      NULL);
  rnn_model *m = rc == 0 ? load (o) : NULL;
  check (m && rnn_model_cell (m) == RNN_CELL_GRU
      && rnn_model_num_layers (m) == 2
      && g_strcmp0 (rnn_model_meta (m, "tokenizer.lowercase"), "true") == 0
      && rnn_model_meta (m, "tokenizer.unk_classes") == NULL
      && rnn_model_token_id (m, "The", 3) == 1
      && rnn_model_token_id (m, "zebra", 5) == 1,
      "tag --lowercase true --unk-classes none --cell gru --layers 2: a "
      "plain lower-casing 2-layer BiGRU tagger");
  rnn_model_free (m);
  g_free (o);
  g_free (d);
}

/* --label-names: the names become the `labels` metadata in class-index
 * order; a count other than the number of classes, an empty or a repeated
 * name, and the option on a signal task are refused before training. */
static void
test_label_names (void)
{
  char *d = data ("tiny-texts.json"), *o = work ("named.safetensors");
  char *out = NULL, *errs = NULL;
  int rc = run (&out, NULL, "classify", "--data", d, "--output", o,
      "--hidden", "8", "--embed-dim", "4", "--epochs", "1",
      "--label-names", "negative,positive", NULL);
  check (rc == 0, "classify --label-names negative,positive trains");
  check (out && strstr (out, "class 0 = negative, class 1 = positive"),
      "the class names are printed with their classes");
  rnn_model *m = load (o);
  if (m) {
    check (rnn_model_num_labels (m) == 2
        && strcmp (rnn_model_label (m, 0), "negative") == 0
        && strcmp (rnn_model_label (m, 1), "positive") == 0,
        "labels [negative, positive] (got %d: %s, %s)",
        rnn_model_num_labels (m), rnn_model_label (m, 0),
        rnn_model_label (m, 1));
    rnn_model_free (m);
  }
  g_free (out);

  struct {
    const char *task, *file, *names, *needle, *what;
  } bad[] = {
    { "classify", "tiny-texts.json", "neg,neutral,pos",
      "--label-names gives 3 names but %s has 2 classes (0, 1)",
      "three names for two classes" },
    { "classify", "tiny-texts.json", "negative",
      "--label-names gives 1 name but %s has 2 classes (0, 1)",
      "one name for two classes" },
    { "classify", "tiny-texts.json", "neg,,pos", "name 2 is empty",
      "an empty name" },
    { "classify", "tiny-texts.json", "pos,pos", "'pos' is given twice",
      "a repeated name" },
    { "forecast", "tiny-forecast.csv", "a,b", "a forecast model has no "
      "classes", "--label-names on forecast" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (bad); i++) {
    char *f = data (bad[i].file), *never = work ("never.safetensors");
    g_remove (never);
    char *want = g_strdup_printf (bad[i].needle, f);
    rc = run (NULL, &errs, bad[i].task, "--data", f, "--output", never,
        "--epochs", "1", "--quiet", "--label-names", bad[i].names, NULL);
    check (rc != 0 && errs && strstr (errs, want)
        && !g_file_test (never, G_FILE_TEST_EXISTS),
        "%s refused (\"%s\" in: %s)", bad[i].what, want,
        errs ? g_strchomp (errs) : "");
    g_free (errs);
    g_free (want);
    g_free (never);
    g_free (f);
  }
  g_free (d);
  g_free (o);
}

static void
test_seed (void)
{
  char *d = data ("tiny-forecast.csv");
  char *paths[3] = { work ("seed-a.safetensors"),
    work ("seed-b.safetensors"), work ("seed-c.safetensors") };
  const char *seeds[3] = { "11", "11", "12" };
  char *bytes[3];
  gsize len[3];
  for (int i = 0; i < 3; i++) {
    run (NULL, NULL, "forecast", "--data", d, "--output", paths[i],
        "--columns", "value", "--time-column", "t", "--hidden", "8",
        "--epochs", "2", "--dropout", "0.3", "--layers", "2", "--seed",
        seeds[i], "--quiet", NULL);
    bytes[i] = NULL;
    len[i] = 0;
    g_file_get_contents (paths[i], &bytes[i], &len[i], NULL);
  }
  check (bytes[0] && bytes[1] && len[0] == len[1]
      && memcmp (bytes[0], bytes[1], len[0]) == 0,
      "--seed 11 twice: identical files (%zu bytes)", (size_t) len[0]);
  check (bytes[2] && (len[0] != len[2]
          || memcmp (bytes[0], bytes[2], len[0]) != 0),
      "--seed 12 gives a different model");
  /* The same for a text model (shuffling, split, vocabulary, dropout). */
  char *t = data ("tiny-texts.json");
  for (int i = 0; i < 2; i++) {
    g_free (bytes[i]);
    run (NULL, NULL, "classify", "--data", t, "--output", paths[i],
        "--hidden", "8", "--embed-dim", "4", "--epochs", "2", "--seed", "3",
        "--quiet", NULL);
    g_file_get_contents (paths[i], &bytes[i], &len[i], NULL);
  }
  check (bytes[0] && bytes[1] && len[0] == len[1]
      && memcmp (bytes[0], bytes[1], len[0]) == 0,
      "classify --seed 3 twice: identical files");
  char *tg = data ("tiny-tagged.txt");
  for (int i = 0; i < 2; i++) {
    g_free (bytes[i]);
    bytes[i] = NULL;
    g_remove (paths[i]);
    run (NULL, NULL, "tag", "--data", tg, "--output", paths[i], "--hidden",
        "8", "--embed-dim", "4", "--epochs", "2", "--layers", "2",
        "--dropout", "0.2", "--seed", "5", "--quiet", NULL);
    g_file_get_contents (paths[i], &bytes[i], &len[i], NULL);
  }
  check (bytes[0] && bytes[1] && len[0] == len[1]
      && memcmp (bytes[0], bytes[1], len[0]) == 0,
      "tag --seed 5 twice (word and layer dropout): identical files");
  g_free (tg);
  for (int i = 0; i < 3; i++) {
    g_free (bytes[i]);
    g_free (paths[i]);
  }
  g_free (t);
  g_free (d);
}

static void
expect_error (const char *task, const char *file, const char *needle,
    const char *what)
{
  char *d = data (file), *o = work ("never.safetensors");
  char *errs = NULL;
  g_remove (o);
  int rc = run (NULL, &errs, task, "--data", d, "--output", o, "--epochs",
      "1", "--quiet", NULL);
  char *want = g_strdup_printf ("%s%s", d, needle);
  check (rc != 0 && errs && strstr (errs, want) != NULL
      && !g_file_test (o, G_FILE_TEST_EXISTS),
      "%s: error names file and line (\"%s\" in: %s)", what, want,
      errs ? g_strchomp (errs) : "");
  g_free (want);
  g_free (errs);
  g_free (d);
  g_free (o);
}

/* The CSV dialect is csvparse's (one reader, csv/rnncsv.c): a byte-order
 * mark, comments, another delimiter, a trailing delimiter, a quoted line
 * break, text after a closing quote, n/a and none as missing values, a
 * non-numeric column left out by default. */
static void
test_dialect (void)
{
  const char *text = "\xEF\xBB\xBF# comment\nname;a;b;\n\"x\ny\";1;2;\n"
      "q\"r\"s;n/a;3;\nw;4;none;\nz;5;6;\nv;7;8;\nu;9;10;\n";
  char *d = work ("dialect.csv"), *o = work ("dialect.safetensors");
  char *out = NULL, *errs = NULL;
  int rc;

  g_file_set_contents (d, text, -1, NULL);
  rc = run (&out, NULL, "forecast", "--data", d, "--output", o,
      "--delimiter", ";", "--window", "2", "--hidden", "4", "--epochs", "1",
      NULL);
  check (rc == 0 && out && strstr (out, "6 frames of 2 features (2 blank "
          "values filled)"), "--delimiter ';' with BOM, quotes, trailing "
      "delimiter, n/a and none: %s", out ? out : "");
  g_free (out);
  if (eval_exe) {
    /* rnn-eval reads the same file the same way: a header and 6 rows */
    const char *train = exe;
    exe = eval_exe;
    rc = run (&out, NULL, "signal", "--model", o, "--data", d,
        "--delimiter", ";", NULL);
    exe = train;
    char **rows = out ? g_strsplit (out, "\n", -1) : NULL;
    check (rc == 0 && rows && g_strv_length (rows) == 8 && rows[7][0] == '\0'
        && g_str_has_prefix (rows[0], "time,group,label,a,b,"),
        "rnn-eval --delimiter ';' reads the 6 rows: %s", out ? out : "");
    g_strfreev (rows);
    g_free (out);
  }
  rc = run (NULL, &errs, "forecast", "--data", d, "--output", o,
      "--delimiter", ";;", NULL);
  check (rc != 0 && errs && strstr (errs, "--delimiter"), "a bad "
      "--delimiter is refused");
  g_free (errs);

  /* a comma file with a row ending in a comma and a time going backwards */
  g_file_set_contents (d, "t,v\n0,1,\n1,2,\n3,3,\n2,4,\n4,5,\n5,6,\n",
      -1, NULL);
  rc = run (&out, &errs, "forecast", "--data", d, "--output", o,
      "--time-column", "t", "--window", "2", "--hidden", "4", "--epochs", "1",
      NULL);
  check (rc == 0 && out && strstr (out, "6 frames of 1 features"),
      "trailing commas read as two columns: %s", out ? out : "");
  check (errs && strstr (errs, ":5: the time column goes backwards"),
      "a time going backwards is reported with its line: %s",
      errs ? errs : "");
  g_free (out);
  g_free (errs);
  g_free (d);
  g_free (o);
}

static void
test_errors (void)
{
  expect_error ("forecast", "bad-number.csv", ":4: column 'b': 'x7' is not "
      "a number", "non-numeric value");
  expect_error ("forecast", "bad-fields.csv", ":3: 1 fields, but column 1 "
      "is needed", "missing field");
  expect_error ("classify", "bad-texts.jsonl", ":3: invalid JSON",
      "broken JSON line");
  expect_error ("classify", "bad-texts.tsv", ":2: expected text<TAB>label",
      "TSV row without a tab");
  expect_error ("classify", "bad-texts.json", ": element 1: missing string "
      "member \"text\"", "JSON array element without text");
  expect_error ("forecast", "does-not-exist.csv", ": cannot read",
      "missing file");
  expect_error ("tag", "bad-tagged.txt", ":2: 'fast' is not word/TAG",
      "a Brown-style item without a tag");
  expect_error ("tag", "bad-conll.txt", ":4: expected token<TAB>tag",
      "a CoNLL line without a tab");

  char *errs = NULL;
  int rc = run (NULL, &errs, "regress", "--data", "x", "--output", "y",
      NULL);
  check (rc != 0 && errs && strstr (errs, "unknown task 'regress'"),
      "unknown task named");
  g_free (errs);
  char *d = data ("tiny-forecast.csv");
  rc = run (NULL, &errs, "forecast", "--data", d, "--output", "y",
      "--columns", "nope", NULL);
  check (rc != 0 && errs && strstr (errs, "no column named 'nope'"),
      "unknown column named");
  g_free (errs);
  rc = run (NULL, &errs, "forecast", "--data", d, "--output", "y",
      "--window", "5", "--bptt", "5", NULL);
  check (rc != 0 && errs && strstr (errs, "exclude each other"),
      "--window with --bptt refused");
  g_free (errs);
  rc = run (NULL, &errs, "forecast", "--data", d, "--output", "y",
      "--val-split", "1.5", NULL);
  check (rc != 0 && errs && strstr (errs, "--val-split 1.5"),
      "--val-split out of range refused");
  g_free (errs);
  char *a = data ("tiny-anomaly.csv");
  rc = run (NULL, &errs, "anomaly", "--data", a, "--output", "y",
      "--window", "8", NULL);
  check (rc != 0 && errs && strstr (errs, "carries its state"),
      "anomaly --window refused (gruanomaly carries its state)");
  g_free (errs);
  g_free (a);
  g_free (d);
  char *out = NULL;
  rc = run (&out, NULL, "--help", NULL);
  check (rc == 0 && out && strstr (out, "--bptt") && strstr (out,
          "--patience"), "--help lists the options");
  g_free (out);
}

int
main (int argc, char **argv)
{
  if (argc != 4 && argc != 5) {
    fprintf (stderr, "usage: %s RNN_TRAIN DATA_DIR WORK_DIR [RNN_EVAL]\n",
        argv[0]);
    return 2;
  }
  eval_exe = argc == 5 ? argv[4] : NULL;
  exe = argv[1];
  data_dir = argv[2];
  work_dir = argv[3];
  g_mkdir_with_parents (work_dir, 0755);
  test_forecast ();
  test_normalisation ();
  test_blanks ();
  test_dialect ();
  test_anomaly ();
  test_classify ();
  test_label_names ();
  test_tag ();
  test_seed ();
  test_errors ();
  printf ("%d checks, %d failed\n", n_checks, n_failed);
  return n_failed ? 1 : 0;
}
