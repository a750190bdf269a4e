/* gst-rnn: textsentiment element tests (GstHarness).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Expected probabilities come from PyTorch: tests/fixtures/gen_textsentiment.py
 * writes the models and tests/fixtures/text/cases.safetensors (the texts
 * and, per model, the probabilities per text from a zero state and with the
 * state carried from text to text).
 */
#include <math.h>
#include <string.h>

#include <gst/gst.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "rnn.h"
#include "harness-util.h"

#define TEXT_DURATION (500 * GST_MSECOND)
#define CAPS_UTF8 "text/x-raw, format=(string)utf8"
#define CAPS_MARKUP "text/x-raw, format=(string)pango-markup"

static const char *models[] = { "lstm2", "sigmoid", "gru_bi", "rnn_mean3" };
static const char *labels3[] = { "negative", "neutral", "positive" };

static rnn_tensors *cases;
static int n_texts;
static GBytes *texts[64];
static gboolean text_markup[64];
static int trunc_index, trunc_tokens;
static double max_err_seen;

static gchar *
fixture (const gchar * name)
{
  const gchar *dir = g_getenv ("RNN_FIXTURES");

  fail_unless (dir != NULL, "RNN_FIXTURES is not set");
  return g_build_filename (dir, "text", name, NULL);
}

static gchar *
model_path (const gchar * model)
{
  gchar *name = g_strconcat (model, ".safetensors", NULL);
  gchar *path = fixture (name);

  g_free (name);
  return path;
}

static void
load_cases (void)
{
  rnn_error err = { 0 };
  gchar *path;
  int i;

  if (cases)
    return;
  path = fixture ("cases.safetensors");
  fail_unless (rnn_tensors_load (path, &cases, &err) == RNN_OK,
      "cannot load %s: %s", path, err.msg);
  g_free (path);
  n_texts = atoi (rnn_tensors_meta (cases, "n_texts"));
  trunc_index = atoi (rnn_tensors_meta (cases, "trunc.index"));
  trunc_tokens = atoi (rnn_tensors_meta (cases, "trunc.tokens"));
  fail_unless (n_texts > 0 && n_texts <= 64);
  for (i = 0; i < n_texts; i++) {
    gchar key[64];
    const char *hex, *format;
    gsize n, j;
    guint8 *raw;

    g_snprintf (key, sizeof (key), "text.%d.hex", i);
    hex = rnn_tensors_meta (cases, key);
    g_snprintf (key, sizeof (key), "text.%d.format", i);
    format = rnn_tensors_meta (cases, key);
    fail_unless (hex != NULL && format != NULL, "text %d missing", i);
    n = strlen (hex) / 2;
    raw = g_malloc (n + 1);
    for (j = 0; j < n; j++)
      raw[j] = (g_ascii_xdigit_value (hex[2 * j]) << 4) |
          g_ascii_xdigit_value (hex[2 * j + 1]);
    texts[i] = g_bytes_new_take (raw, n);
    text_markup[i] = strcmp (format, "pango-markup") == 0;
  }
}

/* Row @row of the expected tensor @name ("lstm2.utterance", ...); the
 * number of classes in *n_classes. */
static const float *
expected (const gchar * name, int row, int *n_classes)
{
  const rnn_tensor *t = rnn_tensors_find (cases, name);

  fail_unless (t != NULL, "fixture tensor %s missing", name);
  if (t->ndim == 1) {
    *n_classes = (int) t->shape[0];
    return t->data;
  }
  fail_unless (t->ndim == 2 && row < t->shape[0]);
  *n_classes = (int) t->shape[1];
  return t->data + (gsize) row *t->shape[1];
}

static const float *
expected_for (const gchar * model, const gchar * mode, int row, int *n)
{
  gchar *name = g_strdup_printf ("%s.%s", model, mode);
  const float *e = expected (name, row, n);

  g_free (name);
  return e;
}

static int
ntokens (int i)
{
  int n = 0;

  return (int) expected ("ntokens", 0, &n)[i];
}

/* |a - e| <= 1e-5 + 1e-4 |e| for every class */
static void
check_probs (const float *got, const float *want, int n, const gchar * what)
{
  int i;
  double sum = 0.0;

  for (i = 0; i < n; i++) {
    double err = fabs ((double) got[i] - want[i]);

    if (err > max_err_seen)
      max_err_seen = err;
    fail_unless (err <= 1e-5 + 1e-4 * fabs (want[i]),
        "%s: class %d got %.7f expected %.7f (PyTorch)", what, i, got[i],
        want[i]);
    sum += got[i];
  }
  fail_unless (fabs (sum - 1.0) < 1e-5, "%s: probabilities sum to %f", what,
      sum);
}

static void
check_buffer_probs (GstBuffer * buf, const float *want, int n,
    const gchar * what)
{
  GstMapInfo map;

  fail_unless (buf != NULL, "%s: no output buffer", what);
  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  fail_unless_equals_int ((int) map.size, n * (int) sizeof (float));
  check_probs ((const float *) map.data, want, n, what);
  gst_buffer_unmap (buf, &map);
}

/* @out against row @row of the expected tensor @name */
static void
check_out (GstBuffer * out, const gchar * name, int row, const gchar * what)
{
  int n = 0;
  const float *want = expected (name, row, &n);

  check_buffer_probs (out, want, n, what);
}

/* A harness around a textsentiment with @model loaded and the properties
 * given as NULL-terminated name/value pairs. @sink_caps: what the harness
 * sink accepts (NULL: anything). A bus is attached for the messages. */
static GstHarness *
new_harness (const gchar * model, const gchar * sink_caps,
    const gchar * first_prop, ...)
{
  GstElement *e;
  GstHarness *h;
  GstBus *bus;
  gchar *path = model_path (model);
  va_list ap;

  e = gst_element_factory_make ("textsentiment", NULL);
  fail_unless (e != NULL, "textsentiment not found");
  g_object_set (e, "model-file", path, NULL);
  g_free (path);
  if (first_prop) {
    va_start (ap, first_prop);
    g_object_set_valist (G_OBJECT (e), first_prop, ap);
    va_end (ap);
  }
  bus = gst_bus_new ();
  gst_element_set_bus (e, bus);
  gst_object_unref (bus);

  h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  if (sink_caps)
    gst_harness_set_sink_caps_str (h, sink_caps);
  return h;
}

static GstBus *
harness_bus (GstHarness * h)
{
  return gst_element_get_bus (h->element);
}

/* Messages left on the bus hold the element: drop them first. */
static void
teardown (GstHarness * h)
{
  GstBus *bus = gst_element_get_bus (h->element);

  gst_harness_teardown (h);
  if (bus) {
    gst_bus_set_flushing (bus, TRUE);
    gst_object_unref (bus);
  }
}

static GstFlowReturn
push_text (GstHarness * h, int i, GstClockTime pts)
{
  gsize size;
  const void *data = g_bytes_get_data (texts[i], &size);

  return gst_harness_push (h, hu_text_buffer (data, size, pts, TEXT_DURATION));
}

static void
push_caps (GstHarness * h, gboolean markup)
{
  GstCaps *caps = gst_caps_from_string (markup ? CAPS_MARKUP : CAPS_UTF8);

  fail_unless (gst_harness_push_event (h, gst_event_new_caps (caps)));
  gst_caps_unref (caps);
}

/* Drains the harness' event queue; returns the first GAP event (or NULL). */
static GstEvent *
pull_gap (GstHarness * h)
{
  GstEvent *ev, *gap = NULL;

  while ((ev = gst_harness_try_pull_event (h)) != NULL) {
    if (GST_EVENT_TYPE (ev) == GST_EVENT_GAP && gap == NULL)
      gap = ev;
    else
      gst_event_unref (ev);
  }
  return gap;
}

static void
check_gap (GstHarness * h, GstClockTime pts, GstClockTime dur)
{
  GstEvent *gap = pull_gap (h);
  GstClockTime t, d;

  fail_unless (gap != NULL, "no GAP event");
  gst_event_parse_gap (gap, &t, &d);
  fail_unless_equals_uint64 (t, pts);
  fail_unless_equals_uint64 (d, dur);
  gst_event_unref (gap);
}

static GstStructure *
pop_message (GstBus * bus)
{
  GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT);
  GstStructure *s;

  if (m == NULL)
    return NULL;
  s = gst_structure_copy (gst_message_get_structure (m));
  gst_message_unref (m);
  return s;
}

/* Pushes every text of the fixtures through @model in @mode ("utterance"
 * or "stream") and compares with PyTorch. In stream mode every text goes in
 * as pango-markup so that no caps change resets the state (the utf8 texts
 * hold no markup characters; the generator checks this). */
static void
run_parity (const gchar * model, const gchar * mode)
{
  gboolean stream = strcmp (mode, "stream") == 0;
  GstHarness *h;
  int i, n = 0;
  gboolean markup = stream ? TRUE : text_markup[0];

  h = new_harness (model, NULL, "context", stream ? 1 : 0, NULL);
  gst_harness_set_src_caps_str (h, markup ? CAPS_MARKUP : CAPS_UTF8);

  for (i = 0; i < n_texts; i++) {
    GstClockTime pts = i * GST_SECOND;
    gchar *what = g_strdup_printf ("%s %s text %d", model, mode, i);
    const float *want = expected_for (model, mode, i, &n);

    if (!stream && text_markup[i] != markup) {
      markup = text_markup[i];
      push_caps (h, markup);
    }
    pull_gap (h);
    fail_unless_equals_int (push_text (h, i, pts), GST_FLOW_OK);
    if (ntokens (i) == 0) {
      fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
      check_gap (h, pts, TEXT_DURATION);
    } else {
      GstBuffer *out = gst_harness_pull (h);

      check_buffer_probs (out, want, n, what);
      fail_unless_equals_uint64 (GST_BUFFER_PTS (out), pts);
      fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), TEXT_DURATION);
      gst_buffer_unref (out);
    }
    g_free (what);
  }
  teardown (h);
}

GST_START_TEST (test_parity_utterance)
{
  guint m;

  load_cases ();
  max_err_seen = 0.0;
  for (m = 0; m < G_N_ELEMENTS (models); m++)
    run_parity (models[m], "utterance");
  g_print ("textsentiment utterance: largest |error| vs PyTorch %.3g\n",
      max_err_seen);
}

GST_END_TEST;

GST_START_TEST (test_parity_stream)
{
  guint m;
  int i, n = 0;

  load_cases ();
  max_err_seen = 0.0;
  for (m = 0; m < G_N_ELEMENTS (models); m++) {
    double diff = 0.0;

    run_parity (models[m], "stream");
    /* the two modes must really differ for the test to mean something */
    for (i = 0; i < n_texts; i++) {
      const float *u = expected_for (models[m], "utterance", i, &n);
      const float *s = expected_for (models[m], "stream", i, &n);

      diff = MAX (diff, fabs (u[0] - s[0]));
    }
    fail_unless (diff > 1e-2, "%s: stream and utterance agree", models[m]);
  }
  g_print ("textsentiment stream: largest |error| vs PyTorch %.3g\n",
      max_err_seen);
}

GST_END_TEST;

/* utf8 and pango-markup input of the same words give the same result */
GST_START_TEST (test_utf8_and_markup)
{
  static const char plain[] = "Loved this place & the food";
  static const char markup[] =
      "<b>Loved</b> this <span weight=\"bold\">place</span> &amp; the food";
  GstHarness *h;
  GstBuffer *a, *b;
  GstMapInfo ma, mb;
  int n = 0;
  const float *want;

  load_cases ();
  h = new_harness ("lstm2", NULL, NULL);
  gst_harness_set_src_caps_str (h, CAPS_UTF8);
  gst_harness_push (h, hu_text_buffer (plain, strlen (plain), 0,
      TEXT_DURATION));
  a = gst_harness_pull (h);
  push_caps (h, TRUE);
  gst_harness_push (h, hu_text_buffer (markup, strlen (markup), GST_SECOND,
      TEXT_DURATION));
  b = gst_harness_pull (h);
  fail_unless (a && b);
  gst_buffer_map (a, &ma, GST_MAP_READ);
  gst_buffer_map (b, &mb, GST_MAP_READ);
  fail_unless_equals_int ((int) ma.size, (int) mb.size);
  fail_unless (memcmp (ma.data, mb.data, ma.size) == 0,
      "markup and plain text differ");
  gst_buffer_unmap (a, &ma);
  gst_buffer_unmap (b, &mb);
  /* and it is the fixture's text 4 (same tokens) */
  want = expected ("lstm2.utterance", 4, &n);
  check_buffer_probs (b, want, n, "markup text");
  gst_buffer_unref (a);
  gst_buffer_unref (b);

  /* markup text sent as utf8 keeps the tags as words: different result */
  push_caps (h, FALSE);
  gst_harness_push (h, hu_text_buffer (markup, strlen (markup),
      2 * GST_SECOND, TEXT_DURATION));
  b = gst_harness_pull (h);
  gst_buffer_map (b, &mb, GST_MAP_READ);
  fail_unless (fabs (((float *) mb.data)[0] - want[0]) > 1e-4);
  gst_buffer_unmap (b, &mb);
  gst_buffer_unref (b);
  teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_malformed_markup)
{
  static const char *bad[] = { "<b>unclosed tag and good value",
    "stray < and > and & signs, very good", "<i>bad</b> nesting &bogus; wow",
    "<span foo=\"x>broken attr movie"
  };
  GstHarness *h;
  GstBus *bus;
  GstMessage *err;
  guint i;

  h = new_harness ("lstm2", NULL, NULL);
  gst_harness_set_src_caps_str (h, CAPS_MARKUP);
  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    GstBuffer *out;
    GstMapInfo map;

    fail_unless_equals_int (gst_harness_push (h, hu_text_buffer (bad[i],
                strlen (bad[i]), i * GST_SECOND, TEXT_DURATION)), GST_FLOW_OK);
    out = gst_harness_pull (h);
    fail_unless (out != NULL, "no output for \"%s\"", bad[i]);
    gst_buffer_map (out, &map, GST_MAP_READ);
    fail_unless_equals_int ((int) map.size, 2 * (int) sizeof (float));
    fail_unless (fabs (((float *) map.data)[0] + ((float *) map.data)[1] -
            1.0) < 1e-5);
    gst_buffer_unmap (out, &map);
    gst_buffer_unref (out);
  }
  bus = harness_bus (h);
  err = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR | GST_MESSAGE_WARNING);
  fail_unless (err == NULL, "malformed markup raised an error or warning");
  gst_object_unref (bus);
  teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_invalid_utf8)
{
  static const char only_bad[] = "\xff\xfe\xc3";
  GstHarness *h;
  GstBus *bus;
  GstMessage *err;
  int i = 7;                    /* the fixture text with invalid bytes */

  load_cases ();
  fail_if (g_utf8_validate (g_bytes_get_data (texts[i], NULL),
          g_bytes_get_size (texts[i]), NULL));
  h = new_harness ("lstm2", NULL, NULL);
  gst_harness_set_src_caps_str (h, CAPS_UTF8);
  fail_unless_equals_int (push_text (h, i, 0), GST_FLOW_OK);
  {
    GstBuffer *out = gst_harness_pull (h);

    check_out (out, "lstm2.utterance", i,
        "invalid utf-8");
    gst_buffer_unref (out);
  }
  /* nothing but invalid bytes: no token, a GAP */
  pull_gap (h);
  fail_unless_equals_int (gst_harness_push (h, hu_text_buffer (only_bad,
              strlen (only_bad), GST_SECOND, TEXT_DURATION)), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  check_gap (h, GST_SECOND, TEXT_DURATION);
  bus = harness_bus (h);
  err = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (err == NULL, "invalid UTF-8 raised an error");
  gst_object_unref (bus);
  teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_text_output)
{
  GstHarness *h;
  GstCaps *caps;
  int i, n = 0, c, best;

  load_cases ();
  h = new_harness ("rnn_mean3", "text/x-raw, format=(string)utf8", NULL);
  gst_harness_set_src_caps_str (h, CAPS_UTF8);
  for (i = 0; i < n_texts; i++) {
    GstBuffer *out;
    GstMapInfo map;
    const float *want;
    gchar *str, conf[G_ASCII_DTOSTR_BUF_SIZE];

    if (text_markup[i] || ntokens (i) == 0)
      continue;
    want = expected ("rnn_mean3.utterance", i, &n);
    best = 0;
    for (c = 1; c < n; c++)
      if (want[c] > want[best])
        best = c;
    push_text (h, i, i * GST_SECOND);
    out = gst_harness_pull (h);
    fail_unless (out != NULL);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), i * GST_SECOND);
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), TEXT_DURATION);
    gst_buffer_map (out, &map, GST_MAP_READ);
    g_ascii_formatd (conf, sizeof (conf), "%.2f", want[best]);
    /* one line per text: label, confidence, newline */
    str = g_strdup_printf ("%s (%s)\n", labels3[best], conf);
    fail_unless_equals_int ((int) map.size, (int) strlen (str));
    fail_unless (memcmp (map.data, str, map.size) == 0,
        "got \"%.*s\" expected \"%s\"", (int) map.size, map.data, str);
    g_free (str);
    gst_buffer_unmap (out, &map);
    gst_buffer_unref (out);
  }
  caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (gst_structure_has_name (gst_caps_get_structure (caps, 0),
          "text/x-raw"));
  fail_unless_equals_string (gst_structure_get_string
      (gst_caps_get_structure (caps, 0), "format"), "utf8");
  gst_caps_unref (caps);
  teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_tensor_caps)
{
  static const struct
  {
    const char *model, *sink_caps;
    gboolean flagset;
    int classes;
  } cases_[] = {
    {"lstm2", NULL, FALSE, 2},
    {"sigmoid", NULL, FALSE, 2},
    {"rnn_mean3", "other/tensors, dimensions=(string)3:1", FALSE, 3},
    /* unquoted: a GstFlagSet in the caps string */
    {"lstm2", "other/tensors, dimensions=2:1", TRUE, 2},
  };
  guint k;

  for (k = 0; k < G_N_ELEMENTS (cases_); k++) {
    GstHarness *h = new_harness (cases_[k].model, cases_[k].sink_caps, NULL);
    GstCaps *caps;
    GstStructure *s;
    gint num, den, nt;
    const GValue *dims;
    gchar *want = g_strdup_printf ("%d:1", cases_[k].classes);

    gst_harness_set_src_caps_str (h, CAPS_UTF8);
    caps = gst_pad_get_current_caps (h->sinkpad);
    fail_unless (caps != NULL);
    s = gst_caps_get_structure (caps, 0);
    fail_unless (gst_structure_has_name (s, "other/tensors"));
    fail_unless_equals_string (gst_structure_get_string (s, "format"),
        "static");
    fail_unless_equals_string (gst_structure_get_string (s, "types"),
        "float32");
    fail_unless (gst_structure_get_int (s, "num_tensors", &nt));
    fail_unless_equals_int (nt, 1);
    fail_unless (gst_structure_get_fraction (s, "framerate", &num, &den));
    fail_unless (num == 0 && den == 1);
    dims = gst_structure_get_value (s, "dimensions");
    if (cases_[k].flagset) {
      fail_unless (GST_VALUE_HOLDS_FLAG_SET (dims));
    } else {
      fail_unless (G_VALUE_HOLDS_STRING (dims));
      fail_unless_equals_string (g_value_get_string (dims), want);
    }
    g_free (want);
    gst_caps_unref (caps);
    teardown (h);
  }
}

GST_END_TEST;

GST_START_TEST (test_no_tokens_gap)
{
  static const char punct[] = " ... !!! -- ";
  GstHarness *h;
  GstBus *bus;
  GstBuffer *gapbuf;
  GstStructure *s;

  load_cases ();
  h = new_harness ("lstm2", NULL, "context", 1, NULL);
  bus = harness_bus (h);
  gst_harness_set_src_caps_str (h, CAPS_UTF8);

  /* text 0, then texts without tokens of every kind, then text 1: the state
   * carried to text 1 is the one after text 0 (nothing advanced it) */
  push_text (h, 0, 0);
  gst_buffer_unref (gst_harness_pull (h));
  s = pop_message (bus);
  fail_unless (s != NULL, "no message for text 0");
  gst_structure_free (s);
  pull_gap (h);

  gst_harness_push (h, hu_text_buffer (punct, strlen (punct), GST_SECOND,
      TEXT_DURATION));
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  check_gap (h, GST_SECOND, TEXT_DURATION);

  /* an empty buffer */
  gst_harness_push (h, hu_text_buffer ("", 0, 2 * GST_SECOND, TEXT_DURATION));
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  check_gap (h, 2 * GST_SECOND, TEXT_DURATION);

  /* a GAP buffer (even with words in it) */
  gapbuf = hu_text_buffer ("good", 4, 3 * GST_SECOND, TEXT_DURATION);
  GST_BUFFER_FLAG_SET (gapbuf, GST_BUFFER_FLAG_GAP);
  gst_harness_push (h, gapbuf);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  check_gap (h, 3 * GST_SECOND, TEXT_DURATION);

  fail_unless (pop_message (bus) == NULL,
      "a text without tokens posted a message");
  push_text (h, 1, 4 * GST_SECOND);
  {
    GstBuffer *out = gst_harness_pull (h);

    check_out (out, "lstm2.stream", 1,
        "after texts without tokens");
    gst_buffer_unref (out);
  }

  /* the same with markup input (the caps change resets): text 0, a text
   * that is only markup, one without timestamp (no GAP can be sent), then
   * text 1 */
  push_caps (h, TRUE);
  push_text (h, 0, 5 * GST_SECOND);
  gst_buffer_unref (gst_harness_pull (h));
  pull_gap (h);
  push_text (h, 10, 6 * GST_SECOND);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  check_gap (h, 6 * GST_SECOND, TEXT_DURATION);
  gst_harness_push (h, hu_text_buffer ("<i> </i>", 8, GST_CLOCK_TIME_NONE,
      TEXT_DURATION));
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  fail_unless (pull_gap (h) == NULL, "GAP without a timestamp");
  push_text (h, 1, 7 * GST_SECOND);
  {
    GstBuffer *out = gst_harness_pull (h);

    check_out (out, "lstm2.stream", 1,
        "after texts without tokens");
    gst_buffer_unref (out);
  }
  gst_object_unref (bus);
  teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_messages)
{
  GstHarness *h;
  GstBus *bus;
  GstStructure *s;
  GstSegment seg;
  guint64 v;
  gint idx, c;
  gdouble conf;
  const GValue *arr;
  const float *want;
  int n = 0, i;

  load_cases ();
  h = new_harness ("rnn_mean3", NULL, NULL);
  bus = harness_bus (h);
  gst_harness_set_src_caps_str (h, CAPS_UTF8);
  gst_segment_init (&seg, GST_FORMAT_TIME);
  seg.base = 10 * GST_SECOND;
  seg.start = GST_SECOND;
  seg.time = 100 * GST_SECOND;
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));

  for (i = 0; i < n_texts; i++) {
    GstClockTime pts = (i + 2) * GST_SECOND;

    if (text_markup[i])
      continue;
    push_text (h, i, pts);
    {
      GstBuffer *out = gst_harness_try_pull (h);

      if (out)
        gst_buffer_unref (out);
    }
    s = pop_message (bus);
    if (ntokens (i) == 0) {
      fail_unless (s == NULL, "message for a text without tokens");
      continue;
    }
    fail_unless (s != NULL, "no message for text %d", i);
    fail_unless (gst_structure_has_name (s, "textsentiment"));
    fail_unless (gst_structure_get_uint64 (s, "timestamp", &v));
    fail_unless_equals_uint64 (v, pts);
    fail_unless (gst_structure_get_uint64 (s, "stream-time", &v));
    fail_unless_equals_uint64 (v, pts - GST_SECOND + 100 * GST_SECOND);
    fail_unless (gst_structure_get_uint64 (s, "running-time", &v));
    fail_unless_equals_uint64 (v, pts - GST_SECOND + 10 * GST_SECOND);
    fail_unless (gst_structure_get_uint64 (s, "duration", &v));
    fail_unless_equals_uint64 (v, TEXT_DURATION);

    want = expected ("rnn_mean3.utterance", i, &n);
    arr = gst_structure_get_value (s, "probabilities");
    fail_unless (arr != NULL && GST_VALUE_HOLDS_ARRAY (arr));
    fail_unless_equals_int (gst_value_array_get_size (arr), n);
    {
      float got[8];

      for (c = 0; c < n; c++) {
        const GValue *e = gst_value_array_get_value (arr, c);

        fail_unless (G_VALUE_HOLDS_DOUBLE (e));
        got[c] = (float) g_value_get_double (e);
      }
      check_probs (got, want, n, "message probabilities");
    }
    fail_unless (gst_structure_get_int (s, "class-index", &idx));
    for (c = 0; c < n; c++)
      fail_unless (want[idx] >= want[c] - 1e-6);
    fail_unless (gst_structure_get_double (s, "confidence", &conf));
    fail_unless (fabs (conf - want[idx]) <= 1e-5);
    fail_unless_equals_string (gst_structure_get_string (s, "label"),
        labels3[idx]);
    gst_structure_free (s);
  }

  /* no timestamp: output without PTS, message times NONE */
  push_text (h, 0, GST_CLOCK_TIME_NONE);
  {
    GstBuffer *out = gst_harness_pull (h);

    fail_unless (!GST_BUFFER_PTS_IS_VALID (out));
    gst_buffer_unref (out);
  }
  s = pop_message (bus);
  fail_unless (s != NULL);
  fail_unless (gst_structure_get_uint64 (s, "timestamp", &v));
  fail_unless_equals_uint64 (v, GST_CLOCK_TIME_NONE);
  fail_unless (gst_structure_get_uint64 (s, "running-time", &v));
  fail_unless_equals_uint64 (v, GST_CLOCK_TIME_NONE);
  gst_structure_free (s);

  /* post-messages=false */
  g_object_set (h->element, "post-messages", FALSE, NULL);
  push_text (h, 0, 20 * GST_SECOND);
  gst_buffer_unref (gst_harness_pull (h));
  fail_unless (pop_message (bus) == NULL, "message despite post-messages=0");

  gst_object_unref (bus);
  teardown (h);
}

GST_END_TEST;

enum
{
  TRIGGER_NONE,
  TRIGGER_SIGNAL,
  TRIGGER_DISCONT,
  TRIGGER_DISCONT_IGNORED,
  TRIGGER_FLUSH,
  TRIGGER_SEGMENT,
  TRIGGER_STREAM_START,
  TRIGGER_CAPS,
  TRIGGER_SAME_CAPS,
  TRIGGER_UTTERANCE,
  TRIGGER_SAME_SEGMENT
};

/* context=stream: text 0, the trigger, text 1; text 1 must see a zero state
 * (PyTorch's utterance probabilities) or the state after text 0 (PyTorch's
 * stream probabilities). */
static void
run_trigger (int trigger, gboolean expect_reset)
{
  GstHarness *h;
  GstBuffer *buf, *out;
  gsize size;
  const void *data;
  const gchar *names[] = { "none", "signal", "discont", "discont ignored",
    "flush", "segment", "stream-start", "caps", "same caps", "utterance",
    "same segment"
  };

  h = new_harness ("lstm2", NULL, "context",
      trigger == TRIGGER_UTTERANCE ? 0 : 1, "reset-on-discont",
      trigger != TRIGGER_DISCONT_IGNORED, NULL);
  gst_harness_set_src_caps_str (h, CAPS_UTF8);
  push_text (h, 0, 0);
  gst_buffer_unref (gst_harness_pull (h));

  data = g_bytes_get_data (texts[1], &size);
  buf = hu_text_buffer (data, size, GST_SECOND, TEXT_DURATION);
  switch (trigger) {
    case TRIGGER_SIGNAL:
      g_signal_emit_by_name (h->element, "reset");
      break;
    case TRIGGER_DISCONT:
    case TRIGGER_DISCONT_IGNORED:
      GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
      break;
    case TRIGGER_FLUSH:{
      GstSegment seg;

      fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
      fail_unless (gst_harness_push_event (h,
              gst_event_new_flush_stop (TRUE)));
      /* data needs a segment after a flush: the default one, equal to what
       * the element falls back to on FLUSH_STOP, so that it does not reset
       * by itself */
      gst_segment_init (&seg, GST_FORMAT_TIME);
      fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
      break;
    }
    case TRIGGER_SEGMENT:
    case TRIGGER_SAME_SEGMENT:{
      GstSegment seg;

      gst_segment_init (&seg, GST_FORMAT_TIME);
      if (trigger == TRIGGER_SEGMENT) {
        /* as after a seek to 0.5 s */
        seg.start = seg.time = GST_SECOND / 2;
        seg.base = GST_SECOND;
      }
      fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
      break;
    }
    case TRIGGER_STREAM_START:
      fail_unless (gst_harness_push_event (h,
              gst_event_new_stream_start ("again")));
      break;
    case TRIGGER_CAPS:
      push_caps (h, TRUE);
      break;
    case TRIGGER_SAME_CAPS:
      push_caps (h, FALSE);
      break;
    default:
      break;
  }
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  out = gst_harness_pull (h);
  check_out (out, expect_reset ? "lstm2.utterance" :
          "lstm2.stream", 1, names[trigger]);
  gst_buffer_unref (out);
  teardown (h);
}

GST_START_TEST (test_reset_triggers)
{
  load_cases ();
  run_trigger (TRIGGER_NONE, FALSE);
  run_trigger (TRIGGER_SAME_CAPS, FALSE);
  run_trigger (TRIGGER_DISCONT_IGNORED, FALSE);
  run_trigger (TRIGGER_SAME_SEGMENT, FALSE);
  run_trigger (TRIGGER_SIGNAL, TRUE);
  run_trigger (TRIGGER_DISCONT, TRUE);
  run_trigger (TRIGGER_FLUSH, TRUE);
  run_trigger (TRIGGER_SEGMENT, TRUE);
  run_trigger (TRIGGER_STREAM_START, TRUE);
  run_trigger (TRIGGER_CAPS, TRUE);
  run_trigger (TRIGGER_UTTERANCE, TRUE);
}

GST_END_TEST;

/* the element refuses to start; the error message must contain @needle */
static void
expect_start_error (const gchar * path, const gchar * needle)
{
  GstElement *e = gst_element_factory_make ("textsentiment", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *m;
  GError *gerr = NULL;
  gchar *dbg = NULL, *all;

  gst_element_set_bus (e, bus);
  if (path)
    g_object_set (e, "model-file", path, NULL);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (m != NULL, "no error message for %s", path);
  gst_message_parse_error (m, &gerr, &dbg);
  all = g_strdup_printf ("%s | %s", gerr->message, dbg ? dbg : "");
  fail_unless (strstr (all, needle) != NULL, "error \"%s\" lacks \"%s\"",
      all, needle);
  g_free (all);
  g_free (dbg);
  g_error_free (gerr);
  gst_message_unref (m);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (e);
  gst_object_unref (bus);
}

GST_START_TEST (test_bad_models)
{
  gchar *forecast = model_path ("forecast");
  gchar *noembed = model_path ("noembed");
  gchar *missing = model_path ("does-not-exist");
  gchar *cases_file = fixture ("cases.safetensors");

  expect_start_error (forecast, "forecast");
  expect_start_error (forecast, "classify");
  expect_start_error (forecast, "forecast.safetensors");
  expect_start_error (missing, "does-not-exist.safetensors");
  expect_start_error (noembed, "embedding");
  expect_start_error (noembed, "noembed.safetensors");
  /* a valid safetensors file that is no model */
  expect_start_error (cases_file, "cases.safetensors");
  expect_start_error (NULL, "model");
  g_free (forecast);
  g_free (noembed);
  g_free (missing);
  g_free (cases_file);
}

GST_END_TEST;

GST_START_TEST (test_model_file_ready)
{
  GstElement *e = gst_element_factory_make ("textsentiment", NULL);
  gchar *a = model_path ("lstm2"), *b = model_path ("rnn_mean3"), *got;
  GParamSpec *ps;

  ps = g_object_class_find_property (G_OBJECT_GET_CLASS (e), "model-file");
  fail_unless (ps->flags & GST_PARAM_MUTABLE_READY);
  g_object_set (e, "model-file", a, NULL);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
  g_object_set (e, "model-file", b, NULL);
  g_object_get (e, "model-file", &got, NULL);
  fail_unless_equals_string (got, b);
  g_free (got);
  fail_unless (gst_element_set_state (e, GST_STATE_PAUSED) !=
      GST_STATE_CHANGE_FAILURE);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_object_unref (e);
  g_free (a);
  g_free (b);
}

GST_END_TEST;

GST_START_TEST (test_eos)
{
  GstHarness *h;
  GstEvent *ev;
  gboolean seen_eos = FALSE;

  load_cases ();
  h = new_harness ("lstm2", NULL, NULL);
  gst_harness_set_src_caps_str (h, CAPS_UTF8);
  push_text (h, 0, 0);
  push_text (h, 1, GST_SECOND);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 2);
  while ((ev = gst_harness_try_pull_event (h)) != NULL) {
    if (GST_EVENT_TYPE (ev) == GST_EVENT_EOS)
      seen_eos = TRUE;
    gst_event_unref (ev);
  }
  fail_unless (seen_eos, "EOS not forwarded");
  teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_max_tokens)
{
  GstHarness *h;
  GstBus *bus;
  GstMessage *m;
  GstBuffer *out;
  int warnings = 0;
  guint def;

  load_cases ();
  fail_unless (ntokens (trunc_index) > trunc_tokens);

  h = new_harness ("lstm2", NULL, "max-tokens", trunc_tokens, NULL);
  bus = harness_bus (h);
  gst_harness_set_src_caps_str (h, CAPS_UTF8);
  push_text (h, trunc_index, 0);
  out = gst_harness_pull (h);
  check_out (out, "lstm2.trunc", 0,
      "first max-tokens tokens");
  gst_buffer_unref (out);
  push_text (h, trunc_index, GST_SECOND);
  gst_buffer_unref (gst_harness_pull (h));
  /* short texts are untouched */
  push_text (h, 0, 2 * GST_SECOND);
  out = gst_harness_pull (h);
  check_out (out, "lstm2.utterance", 0,
      "short text under max-tokens");
  gst_buffer_unref (out);
  while ((m = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING)) != NULL) {
    GError *gerr = NULL;

    gst_message_parse_warning (m, &gerr, NULL);
    fail_unless (strstr (gerr->message, "max-tokens") != NULL);
    g_error_free (gerr);
    gst_message_unref (m);
    warnings++;
  }
  fail_unless_equals_int (warnings, 1);

  /* 0: no limit */
  g_object_set (h->element, "max-tokens", 0, NULL);
  push_text (h, trunc_index, 3 * GST_SECOND);
  out = gst_harness_pull (h);
  check_out (out, "lstm2.utterance", trunc_index,
      "max-tokens=0");
  gst_buffer_unref (out);
  gst_object_unref (bus);
  teardown (h);

  /* the default (512) keeps the whole text */
  h = new_harness ("lstm2", NULL, NULL);
  g_object_get (h->element, "max-tokens", &def, NULL);
  fail_unless_equals_int (def, 512);
  gst_harness_set_src_caps_str (h, CAPS_UTF8);
  push_text (h, trunc_index, 0);
  out = gst_harness_pull (h);
  check_out (out, "lstm2.utterance", trunc_index,
      "default max-tokens");
  gst_buffer_unref (out);
  teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_latency)
{
  GstHarness *h = new_harness ("lstm2", NULL, NULL);

  gst_harness_set_src_caps_str (h, CAPS_UTF8);
  gst_harness_set_upstream_latency (h, 40 * GST_MSECOND);
  fail_unless_equals_uint64 (gst_harness_query_latency (h), 40 * GST_MSECOND);
  teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_properties)
{
  GstElement *e = gst_element_factory_make ("textsentiment", NULL);
  gboolean b;
  gint ctx;
  GParamSpec *ps;
  GEnumClass *ec;

  g_object_get (e, "reset-on-discont", &b, NULL);
  fail_unless (b);
  g_object_get (e, "post-messages", &b, NULL);
  fail_unless (b);
  g_object_get (e, "context", &ctx, NULL);
  fail_unless_equals_int (ctx, 0);
  ps = g_object_class_find_property (G_OBJECT_GET_CLASS (e), "context");
  ec = g_type_class_ref (ps->value_type);
  fail_unless (g_enum_get_value_by_nick (ec, "utterance")->value == 0);
  fail_unless (g_enum_get_value_by_nick (ec, "stream")->value == 1);
  g_type_class_unref (ec);
  gst_util_set_object_arg (G_OBJECT (e), "context", "stream");
  g_object_get (e, "context", &ctx, NULL);
  fail_unless_equals_int (ctx, 1);
  gst_object_unref (e);
}

GST_END_TEST;

static Suite *
textsentiment_suite (void)
{
  Suite *s = suite_create ("textsentiment");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_parity_utterance);
  tcase_add_test (tc, test_parity_stream);
  tcase_add_test (tc, test_utf8_and_markup);
  tcase_add_test (tc, test_malformed_markup);
  tcase_add_test (tc, test_invalid_utf8);
  tcase_add_test (tc, test_text_output);
  tcase_add_test (tc, test_tensor_caps);
  tcase_add_test (tc, test_no_tokens_gap);
  tcase_add_test (tc, test_messages);
  tcase_add_test (tc, test_reset_triggers);
  tcase_add_test (tc, test_bad_models);
  tcase_add_test (tc, test_model_file_ready);
  tcase_add_test (tc, test_eos);
  tcase_add_test (tc, test_max_tokens);
  tcase_add_test (tc, test_latency);
  return s;
}

GST_CHECK_MAIN (textsentiment);
