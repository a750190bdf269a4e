/* gst-rnn: bad-input policy of every element, and model-file changes while
 * textsentiment runs (GstHarness).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each test feeds the input the documentation calls bad (docs/elements.md
 * "Bad input", docs/textsentiment.md, the csvparse/csvenc element docs) and
 * checks the documented outcome. Where the outcome is a recovery, the
 * oracle is a fresh element fed the same good input (the documented
 * meaning of "the state is reset"), or for textsentiment the PyTorch
 * probabilities of tests/fixtures/text/cases.safetensors.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gst/gst.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "harness-util.h"
#include "rnn.h"

/* ------------------------------------------------------------- helpers */

static gchar *
text_fixture (const gchar * name)
{
  const gchar *dir = g_getenv ("RNN_FIXTURES");
  gchar *file = g_strconcat (name, ".safetensors", NULL);
  gchar *path;

  fail_unless (dir != NULL, "RNN_FIXTURES is not set");
  path = g_build_filename (dir, "text", file, NULL);
  g_free (file);
  return path;
}

/* Pops every message of @type from @bus; returns how many there were and,
 * in @texts (when not NULL), their texts ("message | debug") joined with
 * newlines. */
static guint
pop_messages (GstBus * bus, GstMessageType type, gchar ** texts)
{
  GstMessage *m;
  GString *all = g_string_new (NULL);
  guint n = 0;

  while ((m = gst_bus_pop_filtered (bus, type))) {
    GError *e = NULL;
    gchar *dbg = NULL;

    if (type == GST_MESSAGE_WARNING)
      gst_message_parse_warning (m, &e, &dbg);
    else if (type == GST_MESSAGE_ERROR)
      gst_message_parse_error (m, &e, &dbg);
    else if (type == GST_MESSAGE_INFO)
      gst_message_parse_info (m, &e, &dbg);
    if (e)
      g_string_append_printf (all, "%s | %s\n", e->message, dbg ? dbg : "");
    g_clear_error (&e);
    g_free (dbg);
    gst_message_unref (m);
    n++;
  }
  if (texts)
    *texts = g_string_free (all, FALSE);
  else
    g_string_free (all, TRUE);
  return n;
}

/* The details structure of the next message of @type, which must exist
 * (caller frees); its text in *text. */
static GstStructure *
pop_details (GstBus * bus, GstMessageType type, gchar ** text)
{
  GstMessage *m = gst_bus_pop_filtered (bus, type);
  const GstStructure *d = NULL;
  GstStructure *ret;
  GError *e = NULL;
  gchar *dbg = NULL;

  fail_unless (m != NULL, "no %s message", gst_message_type_get_name (type));
  if (type == GST_MESSAGE_WARNING) {
    gst_message_parse_warning (m, &e, &dbg);
    gst_message_parse_warning_details (m, &d);
  } else {
    gst_message_parse_info (m, &e, &dbg);
    gst_message_parse_info_details (m, &d);
  }
  fail_unless (d != NULL, "%s message without details",
      gst_message_type_get_name (type));
  ret = gst_structure_copy (d);
  *text = g_strdup (e->message);
  g_clear_error (&e);
  g_free (dbg);
  gst_message_unref (m);
  return ret;
}

/* ------------------------------------------------ signal elements: setup */

typedef struct
{
  const gchar *factory;
  const gchar *model;           /* in tests/fixtures/elements */
  const gchar *props;
  guint in, out;                /* features per frame in and out */
} SignalCase;

static const SignalCase signal_cases[] = {
  {"lstmforecast", "fc_lstm.safetensors", "", 2, 2},
  {"lstmforecast", "fc_lstm2.safetensors", "", 3, 1},   /* window 5 */
  {"lstmforecast", "fc_gru.safetensors", "horizon=3", 3, 3},
  {"gruanomaly", "an_gru.safetensors", "", 2, 1},
  {"gruanomaly", "an_lstm.safetensors", "threshold=0.5", 3, 1},
  /* a univariate model on each of 4 channels */
  {"lstmforecast", "fc_uni.safetensors", "per-channel=true", 4, 4},
  {"gruanomaly", "an_uni.safetensors", "per-channel=true", 4, 4},
};

static gboolean
per_channel (const SignalCase * c)
{
  return strstr (c->props, "per-channel") != NULL;
}

/* Deterministic test signal: frame t, feature f. */
static float
sig (guint t, guint f)
{
  return (float) (sin (0.37 * t + 1.3 * f) * (1.0 + 0.2 * f) + 0.1 * f);
}

static float *
signal_frames (guint first, guint n, guint feat)
{
  float *x = g_new (float, (gsize) n * feat);
  guint t, f;

  for (t = 0; t < n; t++)
    for (f = 0; f < feat; f++)
      x[(gsize) t * feat + f] = sig (first + t, f);
  return x;
}

static GstHarness *
signal_harness (const SignalCase * c)
{
  gchar *caps = hu_audio_caps (c->in);
  GstHarness *h = hu_harness (c->factory, c->model, c->props, caps);

  g_free (caps);
  return h;
}

/* Pushes @n frames of @x as one buffer at frame position @pos. */
static void
push_frames (GstHarness * h, const float *x, guint n, guint feat, guint pos)
{
  fail_unless_equals_int (gst_harness_push (h, hu_buffer (x, n, feat, pos)),
      GST_FLOW_OK);
}

/* Pulls one output buffer of @n frames of @out floats each into @y. */
static void
pull_frames (GstHarness * h, guint n, guint out, float *y)
{
  GstBuffer *b = gst_harness_pull (h);

  fail_unless (b != NULL);
  fail_unless_equals_uint64 (gst_buffer_get_size (b),
      (guint64) n * out * sizeof (float));
  gst_buffer_extract (b, 0, y, (gsize) n * out * sizeof (float));
  gst_buffer_unref (b);
}

static void
assert_all_finite (const float *y, gsize n, const gchar * what)
{
  gsize i;

  for (i = 0; i < n; i++)
    fail_unless (isfinite (y[i]), "%s[%zu] = %g is not finite", what, i,
        y[i]);
}

/* What a fresh element outputs for @n frames of signal starting at frame
 * @first, pushed as buffers of @chunk frames at frame position @pos. */
static float *
fresh_run (const SignalCase * c, guint first, guint n, guint chunk, guint pos)
{
  GstHarness *h = signal_harness (c);
  float *x = signal_frames (first, n, c->in);
  float *y = g_new (float, (gsize) n * c->out);
  guint k;

  for (k = 0; k < n; k += chunk) {
    guint m = MIN (chunk, n - k);

    push_frames (h, x + (gsize) k * c->in, m, c->in, pos + k);
    pull_frames (h, m, c->out, y + (gsize) k * c->out);
  }
  gst_harness_teardown (h);
  g_free (x);
  return y;
}

/* ------------------------------------------- signal elements: NaN / Inf */

/* Good frames, then a buffer with one bad frame in the middle, good
 * frames, a buffer of bad frames only, good frames. After each bad frame
 * the outputs must be finite again and equal to a fresh element's on the
 * frames that follow; the bad frames' outputs are NaN; one warning in all
 * (the first bad frame after the stream start). */
static void
check_nonfinite (const SignalCase * c, float bad, guint bad_feature)
{
  GstHarness *h = signal_harness (c);
  GstBus *bus = hu_attach_bus (h);
  guint fin = c->in, fout = c->out, i;
  float *x, *y, *want;
  gchar *texts = NULL;

  /* frames 0-5: good, two buffers of 3 */
  x = signal_frames (0, 6, fin);
  y = g_new (float, 16 * fout);
  push_frames (h, x, 3, fin, 0);
  pull_frames (h, 3, fout, y);
  push_frames (h, x + 3 * fin, 3, fin, 3);
  pull_frames (h, 3, fout, y);
  assert_all_finite (y, 3 * fout, "before");
  g_free (x);

  /* frames 6-12 in one buffer, frame 8 bad; 9-12 good; then 13-20 good */
  x = signal_frames (6, 15, fin);
  x[2 * fin + bad_feature] = bad;
  push_frames (h, x, 7, fin, 6);
  pull_frames (h, 7, fout, y);
  for (i = 0; i < fout; i++)
    fail_unless (isnan (y[2 * fout + i]), "bad frame output %u is %g", i,
        y[2 * fout + i]);
  push_frames (h, x + 7 * fin, 4, fin, 13);
  pull_frames (h, 4, fout, y + 7 * fout);
  push_frames (h, x + 11 * fin, 4, fin, 17);
  pull_frames (h, 4, fout, y + 11 * fout);
  assert_all_finite (y + 3 * fout, 12 * fout, "after the bad frame");
  want = fresh_run (c, 9, 12, 4, 9);
  hu_assert_same (y + 3 * fout, want, 12 * fout, "after the bad frame");
  if (strcmp (c->factory, "gruanomaly") == 0)
    fail_unless (y[3 * fout] == 0.0f, "first score after the reset is %g",
        y[3 * fout]);
  g_free (want);
  g_free (x);

  /* a buffer of two bad frames (both features bad), then good frames */
  x = signal_frames (21, 10, fin);
  for (i = 0; i < 2 * fin; i++)
    x[i] = bad;
  push_frames (h, x, 2, fin, 21);
  pull_frames (h, 2, fout, y);
  for (i = 0; i < 2 * fout; i++)
    fail_unless (isnan (y[i]));
  push_frames (h, x + 2 * fin, 4, fin, 23);
  pull_frames (h, 4, fout, y);
  push_frames (h, x + 6 * fin, 4, fin, 27);
  pull_frames (h, 4, fout, y + 4 * fout);
  assert_all_finite (y, 8 * fout, "after the bad buffer");
  want = fresh_run (c, 23, 8, 4, 23);
  hu_assert_same (y, want, 8 * fout, "after the bad buffer");
  g_free (want);
  g_free (x);

  fail_unless_equals_int (pop_messages (bus, GST_MESSAGE_WARNING, &texts), 1);
  fail_unless (strstr (texts, "NaN or infinity") != NULL, "warning: %s",
      texts);
  fail_unless_equals_int (pop_messages (bus, GST_MESSAGE_ERROR, NULL), 0);
  g_free (texts);
  g_free (y);
  hu_release_bus (h, bus);
  gst_harness_teardown (h);
}

GST_START_TEST (test_signal_nonfinite)
{
  guint k;

  for (k = 0; k < G_N_ELEMENTS (signal_cases); k++) {
    const SignalCase *c = &signal_cases[k];

    if (per_channel (c))
      continue;                 /* test_signal_nonfinite_per_channel */
    GST_INFO ("%s %s", c->factory, c->model);
    check_nonfinite (c, NAN, 0);
    check_nonfinite (c, INFINITY, c->in - 1);
    check_nonfinite (c, -INFINITY, c->in / 2);
  }
}

GST_END_TEST;

/* per-channel=true: a NaN or inf in channel k makes that channel's output
 * NaN at that frame and resets that channel alone. The other channels
 * equal a run without the bad value; channel k after it equals a fresh
 * one-channel element fed channel k from the next frame. One warning. */
GST_START_TEST (test_signal_nonfinite_per_channel)
{
  static const float bad[] = { NAN, INFINITY, -INFINITY };
  guint k, b;

  for (k = 0; k < G_N_ELEMENTS (signal_cases); k++) {
    const SignalCase *c = &signal_cases[k];
    SignalCase one = *c;

    if (!per_channel (c))
      continue;
    one.in = one.out = 1;
    for (b = 0; b < G_N_ELEMENTS (bad); b++) {
      guint ch = (b + 1) % c->in, n = 16, t, i;
      GstHarness *h = signal_harness (c);
      GstBus *bus = hu_attach_bus (h);
      float *x = signal_frames (0, n, c->in), *clean, *y, *want, *fresh;
      gchar *texts = NULL;

      clean = fresh_run (c, 0, n, 4, 0);
      x[5 * c->in + ch] = bad[b];
      y = g_new (float, (gsize) n * c->out);
      for (t = 0; t < n; t += 4) {
        push_frames (h, x + (gsize) t * c->in, 4, c->in, t);
        pull_frames (h, 4, c->out, y + (gsize) t * c->out);
      }
      /* channel ch of frames 6.. from a fresh one-channel element */
      {
        GstHarness *h1 = signal_harness (&one);
        float *x1 = g_new (float, n), *y1 = g_new (float, n);

        for (t = 6; t < n; t++)
          x1[t - 6] = x[t * c->in + ch];
        push_frames (h1, x1, n - 6, 1, 6);
        pull_frames (h1, n - 6, 1, y1);
        fresh = y1;
        g_free (x1);
        gst_harness_teardown (h1);
      }
      for (t = 0; t < n; t++)
        for (i = 0; i < c->out; i++) {
          float got = y[t * c->out + i];

          if (i == ch && t == 5)
            fail_unless (isnan (got), "bad frame: %g", got);
          else if (i == ch && t > 5)
            want = &fresh[t - 6];
          else
            want = &clean[t * c->out + i];
          if (!(i == ch && t == 5)) {
            fail_unless (isfinite (got), "frame %u channel %u: %g", t, i, got);
            fail_unless (fabsf (got - *want) <= 1e-5f * (1.0f + fabsf (*want)),
                "%s frame %u channel %u: %g, want %g", c->factory, t, i, got,
                *want);
          }
        }
      if (strcmp (c->factory, "gruanomaly") == 0)
        fail_unless (y[6 * c->out + ch] == 0.0f);
      fail_unless_equals_int (pop_messages (bus, GST_MESSAGE_WARNING, &texts),
          1);
      fail_unless_equals_int (pop_messages (bus, GST_MESSAGE_ERROR, NULL), 0);
      g_free (texts);
      g_free (fresh);
      g_free (clean);
      g_free (y);
      g_free (x);
      hu_release_bus (h, bus);
      gst_harness_teardown (h);
    }
  }
}

GST_END_TEST;

/* ----------------------------- signal elements: partial and empty buffers */

/* A buffer that is not a whole number of frames: dropped (no output), a
 * warning naming its size, the state reset (the outputs that follow equal
 * a fresh element's). */
GST_START_TEST (test_signal_partial_frames)
{
  guint k;

  for (k = 0; k < G_N_ELEMENTS (signal_cases); k++) {
    const SignalCase *c = &signal_cases[k];
    GstHarness *h = signal_harness (c);
    GstBus *bus = hu_attach_bus (h);
    gsize bad_size = 2 * c->in * sizeof (float) + 3;
    float *x = signal_frames (0, 12, c->in), *y, *want;
    GstBuffer *b;
    gchar *texts = NULL, *size_str;

    y = g_new (float, 12 * c->out);
    push_frames (h, x, 4, c->in, 0);
    pull_frames (h, 4, c->out, y);

    b = gst_buffer_new_allocate (NULL, bad_size, NULL);
    gst_buffer_memset (b, 0, 0, bad_size);
    GST_BUFFER_PTS (b) = hu_frame_time (4);
    GST_BUFFER_DURATION (b) = hu_frame_time (2);
    fail_unless_equals_int (gst_harness_push (h, b), GST_FLOW_OK);
    fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);

    push_frames (h, x + 4 * c->in, 4, c->in, 6);
    pull_frames (h, 4, c->out, y);
    push_frames (h, x + 8 * c->in, 4, c->in, 10);
    pull_frames (h, 4, c->out, y + 4 * c->out);
    want = fresh_run (c, 4, 8, 4, 6);
    hu_assert_same (y, want, 8 * c->out, "after the partial buffer");

    fail_unless_equals_int (pop_messages (bus, GST_MESSAGE_WARNING, &texts),
        1);
    size_str = g_strdup_printf ("%" G_GSIZE_FORMAT " bytes", bad_size);
    fail_unless (strstr (texts, size_str) != NULL, "warning: %s", texts);
    fail_unless_equals_int (pop_messages (bus, GST_MESSAGE_ERROR, NULL), 0);

    g_free (size_str);
    g_free (texts);
    g_free (want);
    g_free (y);
    g_free (x);
    hu_release_bus (h, bus);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* An empty buffer passes through as an empty buffer and leaves the state
 * alone: the outputs around it equal an uninterrupted run. */
GST_START_TEST (test_signal_empty_buffer)
{
  guint k;

  for (k = 0; k < G_N_ELEMENTS (signal_cases); k++) {
    const SignalCase *c = &signal_cases[k];
    GstHarness *h = signal_harness (c);
    GstBus *bus = hu_attach_bus (h);
    float *x = signal_frames (0, 8, c->in), *y, *want;
    GstBuffer *b;

    y = g_new (float, 8 * c->out);
    push_frames (h, x, 4, c->in, 0);
    pull_frames (h, 4, c->out, y);
    b = gst_buffer_new ();
    GST_BUFFER_PTS (b) = hu_frame_time (4);
    GST_BUFFER_DURATION (b) = 0;
    fail_unless_equals_int (gst_harness_push (h, b), GST_FLOW_OK);
    b = gst_harness_pull (h);
    fail_unless (b != NULL);
    fail_unless_equals_uint64 (gst_buffer_get_size (b), 0);
    gst_buffer_unref (b);
    push_frames (h, x + 4 * c->in, 4, c->in, 4);
    pull_frames (h, 4, c->out, y + 4 * c->out);

    want = fresh_run (c, 0, 8, 4, 0);
    hu_assert_same (y, want, 8 * c->out, "around the empty buffer");
    fail_unless_equals_int (pop_messages (bus, GST_MESSAGE_WARNING, NULL), 0);
    fail_unless_equals_int (pop_messages (bus, GST_MESSAGE_ERROR, NULL), 0);
    g_free (want);
    g_free (y);
    g_free (x);
    hu_release_bus (h, bus);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* Buffers without PTS or duration: the same outputs as with timestamps,
 * output buffers without PTS, element messages with GST_CLOCK_TIME_NONE
 * timestamps, no warning or error. */
GST_START_TEST (test_signal_no_timestamps)
{
  guint k;

  for (k = 0; k < G_N_ELEMENTS (signal_cases); k++) {
    const SignalCase *c = &signal_cases[k];
    GstHarness *h = signal_harness (c);
    GstBus *bus = hu_attach_bus (h);
    float *x = signal_frames (0, 12, c->in), *y, *want;
    GstMessage *m;
    guint i, n_msg = 0;

    g_object_set (h->element, "post-messages", TRUE, NULL);
    y = g_new (float, 12 * c->out);
    for (i = 0; i < 3; i++) {
      GstBuffer *b = hu_buffer (x + 4 * i * c->in, 4, c->in, 4 * i), *o;

      GST_BUFFER_PTS (b) = GST_CLOCK_TIME_NONE;
      GST_BUFFER_DURATION (b) = GST_CLOCK_TIME_NONE;
      fail_unless_equals_int (gst_harness_push (h, b), GST_FLOW_OK);
      o = gst_harness_pull (h);
      fail_unless (o != NULL);
      fail_unless (!GST_BUFFER_PTS_IS_VALID (o), "output PTS %"
          GST_TIME_FORMAT, GST_TIME_ARGS (GST_BUFFER_PTS (o)));
      gst_buffer_extract (o, 0, y + 4 * i * c->out, 4 * c->out * 4);
      gst_buffer_unref (o);
    }
    want = fresh_run (c, 0, 12, 4, 0);
    hu_assert_same (y, want, 12 * c->out, "without timestamps");

    while ((m = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
      const GstStructure *s = gst_message_get_structure (m);
      guint64 ts = 0;

      fail_unless (gst_structure_get_uint64 (s, "timestamp", &ts));
      fail_unless (ts == GST_CLOCK_TIME_NONE, "%s message timestamp %"
          G_GUINT64_FORMAT, c->factory, ts);
      n_msg++;
      gst_message_unref (m);
    }
    /* lstmforecast: one per buffer; gruanomaly: start/end events, if any */
    if (strcmp (c->factory, "lstmforecast") == 0)
      fail_unless_equals_int (n_msg, 3);
    fail_unless_equals_int (pop_messages (bus, GST_MESSAGE_WARNING, NULL), 0);
    fail_unless_equals_int (pop_messages (bus, GST_MESSAGE_ERROR, NULL), 0);
    g_free (want);
    g_free (y);
    g_free (x);
    hu_release_bus (h, bus);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* Input memory that is not 4-byte aligned (a sub-buffer at an odd offset)
 * gives the same outputs; so does one buffer of 4000 frames versus buffers
 * of 40 (chunking only changes the rounding). */
GST_START_TEST (test_signal_unaligned_and_big)
{
  guint k;

  for (k = 0; k < G_N_ELEMENTS (signal_cases); k++) {
    const SignalCase *c = &signal_cases[k];
    GstHarness *h = signal_harness (c);
    guint n = 4000;
    gsize bytes = (gsize) n * c->in * sizeof (float);
    float *x = signal_frames (0, n, c->in), *y, *want;
    guint8 *raw = g_malloc (bytes + 1);
    GstBuffer *whole, *b;

    /* frames 0-7 from odd addresses, in two buffers */
    memcpy (raw + 1, x, bytes);
    whole = gst_buffer_new_wrapped (raw, bytes + 1);
    y = g_new (float, (gsize) n * c->out);
    b = gst_buffer_copy_region (whole, GST_BUFFER_COPY_MEMORY, 1,
        4 * c->in * sizeof (float));
    GST_BUFFER_PTS (b) = 0;
    fail_unless_equals_int (gst_harness_push (h, b), GST_FLOW_OK);
    pull_frames (h, 4, c->out, y);
    b = gst_buffer_copy_region (whole, GST_BUFFER_COPY_MEMORY,
        1 + 4 * c->in * sizeof (float), 4 * c->in * sizeof (float));
    GST_BUFFER_PTS (b) = hu_frame_time (4);
    fail_unless_equals_int (gst_harness_push (h, b), GST_FLOW_OK);
    pull_frames (h, 4, c->out, y + 4 * c->out);
    want = fresh_run (c, 0, 8, 4, 0);
    hu_assert_same (y, want, 8 * c->out, "unaligned input");
    g_free (want);
    gst_buffer_unref (whole);
    gst_harness_teardown (h);

    /* one big buffer */
    h = signal_harness (c);
    push_frames (h, x, n, c->in, 0);
    pull_frames (h, n, c->out, y);
    want = fresh_run (c, 0, n, 40, 0);
    assert_all_finite (y, (gsize) n * c->out, "big buffer");
    hu_assert_close (y, want, (gsize) n * c->out, "big buffer vs chunks");
    g_free (want);
    gst_harness_teardown (h);
    g_free (y);
    g_free (x);
  }
}

GST_END_TEST;

/* gruanomaly: a NaN frame in the middle of an anomaly neither starts nor
 * ends it; the frame after it scores 0 (reset), which ends it. The
 * expected start/end messages are derived from the output scores with the
 * documented rule and compared with the messages posted. */
GST_START_TEST (test_gruanomaly_nan_during_anomaly)
{
  const SignalCase *c = &signal_cases[3];
  GstHarness *h = hu_harness (c->factory, c->model,
      "scoring=fixed threshold=1.0", NULL);
  GstBus *bus = hu_attach_bus (h);
  gchar *caps = hu_audio_caps (c->in);
  guint n = 30, t, f, n_want = 0, n_got = 0;
  float *x = signal_frames (0, n, c->in), score[30];
  const gchar *want_event[30];
  guint64 want_ts[30];
  gboolean active = FALSE, active_at_nan = FALSE;
  GstMessage *m;

  gst_harness_set_src_caps_str (h, caps);
  g_free (caps);
  for (t = 8; t < 13; t++)
    for (f = 0; f < c->in; f++)
      x[t * c->in + f] += 20.0f;
  x[13 * c->in] = NAN;
  for (t = 0; t < n; t += 5) {
    push_frames (h, x + t * c->in, 5, c->in, t);
    pull_frames (h, 5, 1, score + t);
  }
  for (t = 0; t < n; t++) {
    if (isnan (score[t])) {
      fail_unless_equals_int (t, 13);
      active_at_nan = active;
      continue;
    }
    if (!active && score[t] >= 1.0) {
      active = TRUE;
      want_event[n_want] = "start";
      want_ts[n_want++] = hu_frame_time (t);
    } else if (active && score[t] < 1.0) {
      active = FALSE;
      want_event[n_want] = "end";
      want_ts[n_want++] = hu_frame_time (t);
    }
  }
  fail_unless (active_at_nan, "the test needs an anomaly open at frame 13");
  fail_unless (score[14] == 0.0f, "score after the NaN frame: %g", score[14]);
  for (t = 0; t < n_want; t++)
    if (want_ts[t] == hu_frame_time (14))
      break;
  fail_unless (t < n_want && strcmp (want_event[t], "end") == 0,
      "the anomaly should end at frame 14");

  while ((m = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *st = gst_message_get_structure (m);
    guint64 ts = 0;

    if (gst_structure_has_name (st, "gruanomaly")) {
      fail_unless (n_got < n_want, "more messages than expected");
      fail_unless_equals_string (gst_structure_get_string (st, "event"),
          want_event[n_got]);
      fail_unless (gst_structure_get_uint64 (st, "timestamp", &ts));
      fail_unless_equals_uint64 (ts, want_ts[n_got]);
      n_got++;
    }
    gst_message_unref (m);
  }
  fail_unless_equals_int (n_got, n_want);
  g_free (x);
  hu_release_bus (h, bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* -------------------------------------------------------- textsentiment */

#define CAPS_UTF8 "text/x-raw, format=(string)utf8"
#define CAPS_MARKUP "text/x-raw, format=(string)pango-markup"
#define CAPS_TENSORS "other/tensors, format=(string)static, " \
  "num_tensors=(int)1, types=(string)float32, framerate=(fraction)0/1"

static GstHarness *
text_harness (const gchar * model, const gchar * props, const gchar * caps)
{
  GstElement *e = gst_element_factory_make ("textsentiment", NULL);
  gchar *path = text_fixture (model);
  GstHarness *h;

  fail_unless (e != NULL);
  g_object_set (e, "model-file", path, NULL);
  g_free (path);
  hu_set_props (e, props);
  h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  gst_harness_set_sink_caps_str (h, CAPS_TENSORS);
  gst_harness_set_src_caps_str (h, caps);
  return h;
}

/* Pushes a text and returns the number of classes written to @p (0 when
 * the element produced no buffer). */
static guint
classify (GstHarness * h, const void *text, gsize len, GstClockTime pts,
    float *p)
{
  GstBuffer *o;
  gsize size;

  fail_unless_equals_int (gst_harness_push (h, hu_text_buffer (text, len, pts,
      GST_SECOND)),
      GST_FLOW_OK);
  o = gst_harness_try_pull (h);
  if (o == NULL)
    return 0;
  size = gst_buffer_get_size (o);
  fail_unless (size > 0 && size % 4 == 0 && size <= 16 * 4);
  gst_buffer_extract (o, 0, p, size);
  gst_buffer_unref (o);
  return (guint) (size / 4);
}

static void
assert_probabilities (const float *p, guint n)
{
  double sum = 0.0;
  guint i;

  fail_unless (n >= 2);
  for (i = 0; i < n; i++) {
    fail_unless (isfinite (p[i]) && p[i] >= 0.0f && p[i] <= 1.0f);
    sum += p[i];
  }
  fail_unless (fabs (sum - 1.0) < 1e-5, "probabilities sum to %g", sum);
}

/* Invalid UTF-8 is not rejected: each invalid sequence becomes U+FFFD,
 * which separates tokens, so the prediction equals that of the same text
 * with a space in place of the invalid bytes. */
GST_START_TEST (test_text_invalid_utf8)
{
  static const struct
  {
    const char *bad, *spaced;
  } cases[] = {
    {"not\xff\xfetasty and the texture was nasty", "not tasty and the texture "
          "was nasty"},
    {"wow loved th\x80is place", "wow loved th is place"},
    {"good \xc3", "good "},         /* truncated sequence at the end */
    {"\xe2\x82 very slow", " very slow"},
    {"over\xc0\xaflong good", "over long good"},
    {"surrogate\xed\xa0\x80 bad", "surrogate bad"},
    {"beyond\xf4\x90\x80\x80max", "beyond max"},
    {"\xf5\xf6\xf7\xf8\xf9\xfa\xfb\xfc\xfd excellent", " excellent"},
  };
  GstHarness *h = text_harness ("lstm2", NULL, CAPS_UTF8);
  GstHarness *ref = text_harness ("lstm2", NULL, CAPS_UTF8);
  GstBus *bus = hu_attach_bus (h);
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    float p[16], q[16];
    guint n, m;

    n = classify (h, cases[i].bad, strlen (cases[i].bad), i * GST_SECOND, p);
    m = classify (ref, cases[i].spaced, strlen (cases[i].spaced),
        i * GST_SECOND, q);
    fail_unless_equals_int (n, m);
    fail_unless (n == 2, "case %u gave no prediction", i);
    assert_probabilities (p, n);
    hu_assert_same (p, q, n, cases[i].spaced);
  }
  fail_unless_equals_int (pop_messages (bus, GST_MESSAGE_ERROR, NULL), 0);
  fail_unless_equals_int (pop_messages (bus, GST_MESSAGE_WARNING, NULL), 0);
  hu_release_bus (h, bus);
  gst_harness_teardown (h);
  gst_harness_teardown (ref);
}

GST_END_TEST;

static const char *words[] = { "the", "food", "was", "very", "slow", "and",
  "loved", "this", "place", "not", "tasty", "zorblax"
};

/* @n words separated by @sep. */
static GString *
many_words (guint n, const char *sep)
{
  GString *s = g_string_sized_new ((gsize) n * 6);
  guint i;

  for (i = 0; i < n; i++) {
    if (i)
      g_string_append (s, sep);
    g_string_append (s, words[(i * 7 + i / 3) % G_N_ELEMENTS (words)]);
  }
  return s;
}

/* A huge text is bounded by max-tokens: its prediction equals that of its
 * first max-tokens tokens, a warning is posted once; with max-tokens=0 it
 * is classified whole. A megabyte without separators is one (unknown)
 * token. */
GST_START_TEST (test_text_huge)
{
  GstHarness *h = text_harness ("lstm2", NULL, CAPS_UTF8);
  GstHarness *ref = text_harness ("lstm2", NULL, CAPS_UTF8);
  GstBus *bus = hu_attach_bus (h);
  GString *huge = many_words (200000, " ,\n "), *head = many_words (512, " ");
  gchar *blob, *texts = NULL;
  float p[16], q[16];
  guint n;

  n = classify (h, huge->str, huge->len, 0, p);
  fail_unless_equals_int (n, 2);
  fail_unless_equals_int (classify (ref, head->str, head->len, 0, q), 2);
  hu_assert_same (p, q, 2, "huge text vs its first 512 tokens");
  n = classify (h, huge->str, huge->len, GST_SECOND, p);
  hu_assert_same (p, q, 2, "huge text again");
  fail_unless_equals_int (pop_messages (bus, GST_MESSAGE_WARNING, &texts), 1);
  fail_unless (strstr (texts, "200000 tokens") != NULL, "%s", texts);
  g_free (texts);

  /* other bounds */
  g_object_set (h->element, "max-tokens", 3, NULL);
  n = classify (h, huge->str, huge->len, 2 * GST_SECOND, p);
  g_string_free (head, TRUE);
  head = many_words (3, " ");
  classify (ref, head->str, head->len, 2 * GST_SECOND, q);
  hu_assert_same (p, q, 2, "huge text vs its first 3 tokens");

  g_object_set (h->element, "max-tokens", 0, NULL);
  n = classify (h, huge->str, huge->len, 3 * GST_SECOND, p);
  fail_unless_equals_int (n, 2);
  assert_probabilities (p, n);

  blob = g_malloc (1 << 20);
  memset (blob, 'q', 1 << 20);
  n = classify (h, blob, 1 << 20, 4 * GST_SECOND, p);
  fail_unless_equals_int (n, 2);
  fail_unless_equals_int (classify (ref, "qqqq", 4, 4 * GST_SECOND, q), 2);
  hu_assert_same (p, q, 2, "one huge unknown token");
  g_free (blob);

  fail_unless_equals_int (pop_messages (bus, GST_MESSAGE_ERROR, NULL), 0);
  g_string_free (huge, TRUE);
  g_string_free (head, TRUE);
  hu_release_bus (h, bus);
  gst_harness_teardown (h);
  gst_harness_teardown (ref);
}

GST_END_TEST;

/* Malformed pango markup is never an error: the element classifies what
 * the markup stripper keeps, exactly as if that text came as utf8. */
GST_START_TEST (test_text_malformed_markup)
{
  static const char *cases[] = {
    "<b>loved</i> this place",
    "<<b>>wow<</b>>",
    "very slow &amp &bogus; &#xZZ; &#; &#99999999999; &#0; food",
    "<span foreground='red>not tasty",
    "good <b",
    "</></><//>the food was&",
    "<i>tasty</i></i></i></b></span>",
    "&lt;b&gt;slow&lt;/b&gt; &AMP; &Amp;",
    "<b>\xff\xfe</b> place <\xc3>",
    "<b>",
    "&#x1F600;&#128512; loved",
  };
  GstHarness *h = text_harness ("rnn_mean3", NULL, CAPS_MARKUP);
  GstHarness *ref = text_harness ("rnn_mean3", NULL, CAPS_UTF8);
  GstBus *bus = hu_attach_bus (h);
  guint i, n_pred = 0;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    float p[16], q[16];
    char *stripped = NULL;
    rnn_error err;
    guint n, m;

    fail_unless (rnn_markup_strip (cases[i], strlen (cases[i]), &stripped,
            &err) == RNN_OK);
    n = classify (h, cases[i], strlen (cases[i]), i * GST_SECOND, p);
    m = classify (ref, stripped, strlen (stripped), i * GST_SECOND, q);
    fail_unless_equals_int (n, m);
    if (n > 0) {
      assert_probabilities (p, n);
      hu_assert_same (p, q, n, cases[i]);
      n_pred++;
    }
    free (stripped);
  }
  fail_unless (n_pred >= G_N_ELEMENTS (cases) - 2, "only %u predictions",
      n_pred);
  fail_unless_equals_int (pop_messages (bus, GST_MESSAGE_ERROR, NULL), 0);
  fail_unless_equals_int (pop_messages (bus, GST_MESSAGE_WARNING, NULL), 0);
  hu_release_bus (h, bus);
  gst_harness_teardown (h);
  gst_harness_teardown (ref);
}

GST_END_TEST;

/* Empty buffers, texts without tokens and GAP buffers give a GAP event and
 * no buffer, and leave a carried (context=stream) state alone; without a
 * PTS they give nothing at all. Texts without PTS are classified, their
 * output has no PTS and their message a GST_CLOCK_TIME_NONE timestamp. */
GST_START_TEST (test_text_empty_gap_no_timestamps)
{
  GstHarness *h = text_harness ("gru_bi", "context=stream", CAPS_UTF8);
  GstHarness *ref = text_harness ("gru_bi", "context=stream", CAPS_UTF8);
  GstBus *bus = hu_attach_bus (h);
  const char *t0 = "loved this place", *t1 = "not tasty";
  float p[16], q[16];
  GstBuffer *b;
  GstEvent *ev;
  GstMessage *m;
  guint n_gaps = 0;
  guint64 ts;

  fail_unless_equals_int (classify (h, t0, strlen (t0), 0, p), 2);
  fail_unless_equals_int (classify (ref, t0, strlen (t0), 0, q), 2);
  hu_assert_same (p, q, 2, "first text");

  /* empty, token-less and GAP buffers with PTS: a GAP event each */
  fail_unless_equals_int (classify (h, "", 0, GST_SECOND, p), 0);
  fail_unless_equals_int (classify (h, " ...!! ", 7, 2 * GST_SECOND, p), 0);
  b = hu_text_buffer ("good", 4, 3 * GST_SECOND, GST_SECOND);
  GST_BUFFER_FLAG_SET (b, GST_BUFFER_FLAG_GAP);
  fail_unless_equals_int (gst_harness_push (h, b), GST_FLOW_OK);
  fail_unless (gst_harness_try_pull (h) == NULL);
  /* and without PTS: nothing */
  fail_unless_equals_int (classify (h, "", 0, GST_CLOCK_TIME_NONE, p), 0);
  while ((ev = gst_harness_try_pull_event (h))) {
    if (GST_EVENT_TYPE (ev) == GST_EVENT_GAP) {
      GstClockTime pts, dur;

      gst_event_parse_gap (ev, &pts, &dur);
      fail_unless_equals_uint64 (pts, (n_gaps + 1) * GST_SECOND);
      n_gaps++;
    }
    gst_event_unref (ev);
  }
  fail_unless_equals_int (n_gaps, 3);

  /* the carried state did not move: t1 after them equals t1 after t0 */
  fail_unless_equals_int (classify (h, t1, strlen (t1), GST_CLOCK_TIME_NONE,
          p), 2);
  fail_unless_equals_int (classify (ref, t1, strlen (t1), 4 * GST_SECOND, q),
      2);
  hu_assert_same (p, q, 2, "second text");

  /* the last output had no PTS; its message says so */
  gst_harness_push (h, hu_text_buffer (t0, strlen (t0), GST_CLOCK_TIME_NONE,
      GST_SECOND));
  b = gst_harness_pull (h);
  fail_unless (!GST_BUFFER_PTS_IS_VALID (b));
  gst_buffer_unref (b);
  m = NULL;
  {
    GstMessage *last = NULL;

    while ((m = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
      if (last)
        gst_message_unref (last);
      last = m;
    }
    fail_unless (last != NULL);
    fail_unless (gst_structure_get_uint64 (gst_message_get_structure (last),
            "timestamp", &ts));
    fail_unless (ts == GST_CLOCK_TIME_NONE);
    fail_unless (gst_structure_get_uint64 (gst_message_get_structure (last),
            "running-time", &ts));
    fail_unless (ts == GST_CLOCK_TIME_NONE);
    gst_message_unref (last);
  }
  fail_unless_equals_int (pop_messages (bus, GST_MESSAGE_ERROR, NULL), 0);
  fail_unless_equals_int (pop_messages (bus, GST_MESSAGE_WARNING, NULL), 0);
  hu_release_bus (h, bus);
  gst_harness_teardown (h);
  gst_harness_teardown (ref);
}

GST_END_TEST;

/* ------------------------------------- textsentiment: model-file changes */

static rnn_tensors *cases;
static GBytes *case_texts[64];
static int n_cases;

static void
load_cases (void)
{
  rnn_error err;
  gchar *path;
  int i;

  if (cases)
    return;
  path = text_fixture ("cases");
  fail_unless (rnn_tensors_load (path, &cases, &err) == RNN_OK, "%s",
      err.msg);
  g_free (path);
  n_cases = atoi (rnn_tensors_meta (cases, "n_texts"));
  fail_unless (n_cases > 0 && n_cases <= 64);
  for (i = 0; i < n_cases; i++) {
    gchar key[32], *raw;
    const char *hex, *format;
    gsize n, j;

    g_snprintf (key, sizeof (key), "text.%d.hex", i);
    hex = rnn_tensors_meta (cases, key);
    g_snprintf (key, sizeof (key), "text.%d.format", i);
    format = rnn_tensors_meta (cases, key);
    fail_unless (hex != NULL && format != NULL);
    n = strlen (hex) / 2;
    raw = g_malloc (n + 1);
    for (j = 0; j < n; j++)
      raw[j] = (gchar) ((g_ascii_xdigit_value (hex[2 * j]) << 4) |
          g_ascii_xdigit_value (hex[2 * j + 1]));
    /* only the utf8 texts are used here (the harness caps are utf8) */
    case_texts[i] = strcmp (format, "utf8") == 0 ?
        g_bytes_new_take (raw, n) : (g_free (raw), NULL);
  }
}

/* Row @i of the PyTorch probabilities "@model.@mode"; *n classes. */
static const float *
torch_probs (const gchar * model, const gchar * mode, int i, guint * n)
{
  gchar *name = g_strdup_printf ("%s.%s", model, mode);
  const rnn_tensor *t = rnn_tensors_find (cases, name);

  fail_unless (t != NULL && t->ndim == 2 && i < t->shape[0], "%s", name);
  g_free (name);
  *n = (guint) t->shape[1];
  return t->data + (gsize) i *t->shape[1];
}

/* The utf8 case texts that have tokens (a prediction). */
static gboolean
usable_case (int i)
{
  gchar key[32];
  const char *tok;

  g_snprintf (key, sizeof (key), "text.%d.tokens", i);
  tok = rnn_tensors_meta (cases, key);
  return case_texts[i] != NULL && tok != NULL && tok[0] != '\0'
      && i != atoi (rnn_tensors_meta (cases, "trunc.index"));
}

static guint
classify_case (GstHarness * h, int i, GstClockTime pts, float *p)
{
  gsize len;
  const void *d = g_bytes_get_data (case_texts[i], &len);

  return classify (h, d, len, pts, p);
}

static void
set_model (GstHarness * h, const gchar * model)
{
  gchar *path = model ? text_fixture (model) : NULL;

  g_object_set (h->element, "model-file", path, NULL);
  g_free (path);
}

static void
assert_model_file (GstHarness * h, const gchar * model)
{
  gchar *want = text_fixture (model), *got = NULL;

  g_object_get (h->element, "model-file", &got, NULL);
  fail_unless_equals_string (got, want);
  g_free (got);
  g_free (want);
}

/* Output caps dimensions on the harness sink ("2:1", ...). */
static gchar *
out_dimensions (GstHarness * h)
{
  GstCaps *caps = gst_pad_get_current_caps (h->sinkpad);
  gchar *d;

  fail_unless (caps != NULL);
  d = g_strdup (gst_structure_get_string (gst_caps_get_structure (caps, 0),
          "dimensions"));
  gst_caps_unref (caps);
  return d;
}

/* Switching models while PLAYING: at the next text the new model answers
 * (PyTorch's probabilities), the output caps follow its class count, the
 * first buffer is DISCONT, an INFO message names the file; a file that
 * cannot be used gives a WARNING naming it and changes nothing. */
GST_START_TEST (test_model_change_playing)
{
  static const char *bad[] = { "forecast", "noembed", "cases",
    "does-not-exist"
  };
  GstHarness *h;
  GstBus *bus;
  GstStructure *d;
  GstBuffer *o;
  gchar *text = NULL, *dims, *want;
  const float *e;
  float p[16];
  guint n, ne, k;
  int i;

  load_cases ();
  h = text_harness ("lstm2", NULL, CAPS_UTF8);
  bus = hu_attach_bus (h);

  for (i = 0; i < n_cases; i++) {
    if (!usable_case (i))
      continue;
    n = classify_case (h, i, i * GST_SECOND, p);
    e = torch_probs ("lstm2", "utterance", i, &ne);
    fail_unless_equals_int (n, ne);
    hu_assert_close (p, e, n, "lstm2 before the switch");
  }
  dims = out_dimensions (h);
  fail_unless_equals_string (dims, "2:1");
  g_free (dims);

  /* to a 3-class model */
  set_model (h, "rnn_mean3");
  assert_model_file (h, "rnn_mean3");
  fail_unless_equals_int (gst_harness_push (h, hu_text_buffer ("wow", 3,
              20 * GST_SECOND, GST_SECOND)), GST_FLOW_OK);
  o = gst_harness_pull (h);
  fail_unless (GST_BUFFER_FLAG_IS_SET (o, GST_BUFFER_FLAG_DISCONT));
  fail_unless_equals_uint64 (gst_buffer_get_size (o), 3 * sizeof (float));
  gst_buffer_unref (o);
  dims = out_dimensions (h);
  fail_unless_equals_string (dims, "3:1");
  g_free (dims);
  d = pop_details (bus, GST_MESSAGE_INFO, &text);
  want = text_fixture ("rnn_mean3");
  fail_unless (strstr (text, want) != NULL, "info: %s", text);
  fail_unless_equals_string (gst_structure_get_string (d, "model-file"),
      want);
  g_free (want);
  g_free (text);
  gst_structure_free (d);

  for (i = 0; i < n_cases; i++) {
    if (!usable_case (i))
      continue;
    n = classify_case (h, i, (30 + i) * GST_SECOND, p);
    e = torch_probs ("rnn_mean3", "utterance", i, &ne);
    fail_unless_equals_int (n, ne);
    hu_assert_close (p, e, n, "rnn_mean3 after the switch");
  }

  /* files that cannot be used: refused, the current model stays */
  for (k = 0; k < G_N_ELEMENTS (bad); k++) {
    set_model (h, bad[k]);
    d = pop_details (bus, GST_MESSAGE_WARNING, &text);
    want = text_fixture (bad[k]);
    fail_unless (strstr (text, want) != NULL, "warning: %s", text);
    fail_unless (strstr (text, "rnn_mean3") != NULL, "warning: %s", text);
    fail_unless_equals_string (gst_structure_get_string (d, "model-file"),
        want);
    g_free (want);
    g_free (text);
    gst_structure_free (d);
    assert_model_file (h, "rnn_mean3");
  }
  set_model (h, NULL);
  fail_unless_equals_int (pop_messages (bus, GST_MESSAGE_WARNING, NULL), 1);
  assert_model_file (h, "rnn_mean3");
  for (i = 0; i < n_cases; i++) {
    if (!usable_case (i))
      continue;
    n = classify_case (h, i, (50 + i) * GST_SECOND, p);
    e = torch_probs ("rnn_mean3", "utterance", i, &ne);
    fail_unless_equals_int (n, ne);
    hu_assert_close (p, e, n, "rnn_mean3 after refused files");
  }
  fail_unless_equals_int (pop_messages (bus, GST_MESSAGE_INFO, NULL), 0);
  fail_unless_equals_int (pop_messages (bus, GST_MESSAGE_ERROR, NULL), 0);
  hu_release_bus (h, bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* With context=stream, the state starts from zero with the new model: the
 * texts after the switch follow PyTorch's stream probabilities from text 0.
 * Two sets before a text: the last one is used. */
GST_START_TEST (test_model_change_stream_state)
{
  GstHarness *h;
  const float *e;
  float p[16];
  guint n, ne;
  int i;

  load_cases ();
  h = text_harness ("lstm2", "context=stream", CAPS_UTF8);
  for (i = 0; i < 3; i++)
    fail_unless (classify_case (h, i, i * GST_SECOND, p) == 2);
  set_model (h, "rnn_mean3");
  set_model (h, "gru_bi");
  assert_model_file (h, "gru_bi");
  /* texts 0-3: utf8 with tokens (text 4, markup, would need other caps) */
  for (i = 0; i < 4; i++) {
    fail_unless (usable_case (i));
    n = classify_case (h, i, (10 + i) * GST_SECOND, p);
    e = torch_probs ("gru_bi", "stream", i, &ne);
    fail_unless_equals_int (n, ne);
    hu_assert_close (p, e, n, "gru_bi stream after the switch");
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

typedef struct
{
  GstElement *e;
  gint stop;
  guint sets;
} Toggler;

static gpointer
toggle_models (gpointer data)
{
  Toggler *t = data;
  gchar *a = text_fixture ("lstm2"), *b = text_fixture ("sigmoid");
  gchar *bad = text_fixture ("forecast");

  while (!g_atomic_int_get (&t->stop)) {
    const gchar *path = t->sets % 5 == 4 ? bad : t->sets % 2 ? b : a;

    g_object_set (t->e, "model-file", path, NULL);
    t->sets++;
    g_usleep (200);
  }
  g_free (a);
  g_free (b);
  g_free (bad);
  return NULL;
}

/* Another thread switches between two models (and a bad file) while texts
 * flow: every output is exactly one of the two models' PyTorch answers. */
GST_START_TEST (test_model_change_concurrent)
{
  GstHarness *h;
  GstBus *bus;
  Toggler t = { NULL, 0, 0 };
  GThread *th;
  guint k, seen_a = 0, seen_b = 0;

  load_cases ();
  h = text_harness ("lstm2", NULL, CAPS_UTF8);
  bus = hu_attach_bus (h);
  gst_bus_set_flushing (bus, TRUE);     /* no need to keep the messages */
  t.e = h->element;
  th = g_thread_new ("toggle", toggle_models, &t);
  for (k = 0; k < 3000; k++) {
    int i = (int) (k % (guint) n_cases);
    const float *ea, *eb;
    float p[16];
    guint n, na, nb, c;
    gboolean is_a = TRUE, is_b = TRUE;

    if (!usable_case (i))
      continue;
    n = classify_case (h, i, k * GST_MSECOND, p);
    ea = torch_probs ("lstm2", "utterance", i, &na);
    eb = torch_probs ("sigmoid", "utterance", i, &nb);
    fail_unless (n == 2 && na == 2 && nb == 2);
    for (c = 0; c < n; c++) {
      is_a &= fabs (p[c] - ea[c]) <= HU_ATOL + HU_RTOL * fabs (ea[c]);
      is_b &= fabs (p[c] - eb[c]) <= HU_ATOL + HU_RTOL * fabs (eb[c]);
    }
    fail_unless (is_a || is_b, "text %d: %g %g is neither model's", i, p[0],
        p[1]);
    seen_a += is_a;
    seen_b += is_b;
  }
  g_atomic_int_set (&t.stop, 1);
  g_thread_join (th);
  GST_INFO ("%u sets; outputs from lstm2 %u, sigmoid %u", t.sets, seen_a,
      seen_b);
  fail_unless (t.sets > 10);
  fail_unless (seen_a > 0 && seen_b > 0);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

typedef struct
{
  GstElement *e;
  const gchar *const *paths;
  guint n_paths;
  gint stop;
  guint sets;
} SignalToggler;

static gpointer
toggle_signal_models (gpointer data)
{
  SignalToggler *t = data;

  while (!g_atomic_int_get (&t->stop)) {
    gchar *path = hu_fixture (t->paths[t->sets % t->n_paths]);

    g_object_set (t->e, "model-file", path, NULL);
    g_free (path);
    t->sets++;
    g_usleep (300);
  }
  return NULL;
}

/* Another thread sets model-file over and over (the same model again, a
 * model of other sizes, a model of the wrong task) while frames flow: no
 * crash, every push succeeds, every output is finite, and the element ends
 * on the usable model. */
GST_START_TEST (test_signal_model_change_concurrent)
{
  static const gchar *const fc_paths[] = { "fc_lstm.safetensors",
    "fc_gru.safetensors", "an_gru.safetensors"
  };
  static const gchar *const an_paths[] = { "an_gru.safetensors",
    "an_lstm.safetensors", "fc_lstm.safetensors"
  };
  guint k;

  for (k = 0; k < 2; k++) {
    const SignalCase *c = &signal_cases[k == 0 ? 0 : 3];
    GstHarness *h = signal_harness (c);
    GstBus *bus = hu_attach_bus (h);
    SignalToggler t = { h->element, k == 0 ? fc_paths : an_paths, 3, 0, 0 };
    float *x = signal_frames (0, 4 * 1500, c->in), *y;
    GThread *th;
    guint i;
    gchar *got, *want;

    gst_bus_set_flushing (bus, TRUE);
    y = g_new (float, 4 * c->out);
    th = g_thread_new ("toggle", toggle_signal_models, &t);
    for (i = 0; i < 1500; i++) {
      push_frames (h, x + (gsize) 4 * i * c->in, 4, c->in, 4 * i);
      pull_frames (h, 4, c->out, y);
      assert_all_finite (y, 4 * c->out, "output while switching");
    }
    g_atomic_int_set (&t.stop, 1);
    g_thread_join (th);
    fail_unless (t.sets > 3, "only %u sets", t.sets);
    /* the last usable file is the one in use */
    g_object_get (h->element, "model-file", &got, NULL);
    want = hu_fixture (c->model);
    fail_unless_equals_string (got, want);
    g_free (got);
    g_free (want);
    g_free (y);
    g_free (x);
    gst_object_unref (bus);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* ---------------------------------------------------------------- csv */

static GstHarness *
csvparse_harness (const gchar * props, const gchar * sink_caps)
{
  GstHarness *h = hu_harness ("csvparse", NULL, props, "text/csv");

  gst_harness_set_sink_caps_str (h, sink_caps ? sink_caps :
      "audio/x-raw, format=F32LE, layout=interleaved");
  return h;
}

/* Pushes @text split in buffers of @chunk bytes (0: one buffer), with an
 * empty buffer before each, then EOS; returns every float produced. */
static GArray *
csv_run (GstHarness * h, const gchar * text, gsize len, gsize chunk)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (float));
  GstBuffer *b;
  gsize off = 0;

  if (chunk == 0)
    chunk = len ? len : 1;
  while (off < len) {
    gsize n = MIN (chunk, len - off);

    fail_unless_equals_int (gst_harness_push (h, gst_buffer_new ()),
        GST_FLOW_OK);
    fail_unless_equals_int (gst_harness_push (h,
            gst_buffer_new_memdup (text + off, n)), GST_FLOW_OK);
    off += n;
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  while ((b = gst_harness_try_pull (h))) {
    GstMapInfo map;

    gst_buffer_map (b, &map, GST_MAP_READ);
    g_array_append_vals (a, map.data, map.size / sizeof (float));
    gst_buffer_unmap (b, &map);
    gst_buffer_unref (b);
  }
  return a;
}

static void
assert_floats (GArray * a, const float *want, guint n, const gchar * what)
{
  fail_unless_equals_int (a->len, n);
  hu_assert_same ((const float *) a->data, want, n, what);
}

/* Malformed rows (non-numbers, invalid UTF-8, too few fields) are dropped
 * with a warning naming their line; the good rows all come out, whatever
 * the buffer boundaries (empty buffers included). */
GST_START_TEST (test_csv_malformed_rows)
{
  static const char text[] = "a,b\n1,2\nfoo,3\n4\n\xff\xfe,5\n6,7\r\n"
      "\"8\",\"9\"\n1e3,-2.5e-1\n";
  static const float want[] = { 1, 2, 6, 7, 8, 9, 1000, -0.25 };
  static const gsize chunks[] = { 0, 1, 2, 3, 7 };
  guint k;

  for (k = 0; k < G_N_ELEMENTS (chunks); k++) {
    GstHarness *h = csvparse_harness ("frames-per-buffer=1", NULL);
    GstBus *bus = hu_attach_bus (h);
    gchar *texts = NULL;
    GArray *a = csv_run (h, text, sizeof (text) - 1, chunks[k]);

    assert_floats (a, want, G_N_ELEMENTS (want), "good rows");
    fail_unless_equals_int (pop_messages (bus, GST_MESSAGE_WARNING, &texts),
        3);
    fail_unless (strstr (texts, "line 3") && strstr (texts, "line 4")
        && strstr (texts, "line 5"), "warnings: %s", texts);
    fail_unless_equals_int (pop_messages (bus, GST_MESSAGE_ERROR, NULL), 0);
    g_free (texts);
    g_array_free (a, TRUE);
    hu_release_bus (h, bus);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* A stray quote cannot swallow the stream: a record longer than 64 KiB
 * ends at the next line break (dropped with a warning), later rows are
 * read. */
GST_START_TEST (test_csv_stray_quote)
{
  GString *s = g_string_new ("a\n1\n\"");
  static const float want[] = { 1, 2, 3 };
  GstHarness *h = csvparse_harness (NULL, NULL);
  GstBus *bus = hu_attach_bus (h);
  GArray *a;
  guint i;

  for (i = 0; i < 70000; i++)
    g_string_append_c (s, 'x');
  g_string_append (s, "\n2\n3\n");
  a = csv_run (h, s->str, s->len, 4096);
  assert_floats (a, want, 3, "rows around the long record");
  fail_unless_equals_int (pop_messages (bus, GST_MESSAGE_WARNING, NULL), 1);
  fail_unless_equals_int (pop_messages (bus, GST_MESSAGE_ERROR, NULL), 0);
  g_array_free (a, TRUE);
  g_string_free (s, TRUE);
  hu_release_bus (h, bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* missing=nan feeds NaN frames to gruanomaly: NaN scores for them, then
 * scores equal to a fresh pipeline's on the rows after, from 0. */
GST_START_TEST (test_csv_nan_into_gruanomaly)
{
  gchar *model = hu_fixture ("an_gru.safetensors");
  gchar *desc = g_strdup_printf ("csvparse missing=nan ! gruanomaly "
      "model-file=%s", model);
  GString *all = g_string_new ("a,b\n"), *after = g_string_new ("a,b\n");
  GstHarness *h, *ref;
  GArray *x, *y;
  guint i;

  for (i = 0; i < 30; i++) {
    gchar row[64];

    if (i == 10)
      g_snprintf (row, sizeof (row), "%s,\n", "0.5");
    else
      g_snprintf (row, sizeof (row), "%.6f,%.6f\n", sig (i, 0), sig (i, 1));
    g_string_append (all, row);
    if (i > 10)
      g_string_append (after, row);
  }
  h = gst_harness_new_parse (desc);
  gst_harness_set_src_caps_str (h, "text/csv");
  gst_harness_set_sink_caps_str (h, "audio/x-raw, format=F32LE, "
      "layout=interleaved");
  x = csv_run (h, all->str, all->len, 13);
  ref = gst_harness_new_parse (desc);
  gst_harness_set_src_caps_str (ref, "text/csv");
  gst_harness_set_sink_caps_str (ref, "audio/x-raw, format=F32LE, "
      "layout=interleaved");
  y = csv_run (ref, after->str, after->len, 0);

  fail_unless_equals_int (x->len, 30);
  fail_unless_equals_int (y->len, 19);
  fail_unless (isnan (g_array_index (x, float, 10)));
  fail_unless (g_array_index (x, float, 11) == 0.0f);
  assert_all_finite ((const float *) x->data, 10, "scores before");
  assert_all_finite ((const float *) x->data + 11, 19, "scores after");
  hu_assert_same ((const float *) x->data + 11, (const float *) y->data, 19,
      "scores after the NaN row");
  g_array_free (x, TRUE);
  g_array_free (y, TRUE);
  g_string_free (all, TRUE);
  g_string_free (after, TRUE);
  gst_harness_teardown (h);
  gst_harness_teardown (ref);
  g_free (desc);
  g_free (model);
}

GST_END_TEST;

static gchar *
csvenc_run (GstHarness * h, GstBuffer * b)
{
  GstBuffer *o;
  GString *s = g_string_new (NULL);

  fail_unless_equals_int (gst_harness_push (h, b), GST_FLOW_OK);
  while ((o = gst_harness_try_pull (h))) {
    GstMapInfo map;

    gst_buffer_map (o, &map, GST_MAP_READ);
    g_string_append_len (s, (const gchar *) map.data, map.size);
    gst_buffer_unmap (o, &map);
    gst_buffer_unref (o);
  }
  return g_string_free (s, FALSE);
}

/* csvenc: NaN is an empty field, infinities `inf`/`-inf`; a buffer that is
 * not a whole number of frames is dropped with a warning; an empty buffer
 * writes no row; without PTS the time is the frame count over the rate. */
GST_START_TEST (test_csvenc_bad_input)
{
  static const float v[] = { 1.5f, NAN, INFINITY, -INFINITY, 2.0f, 3.0f };
  GstHarness *h = hu_harness ("csvenc", NULL, NULL,
      "audio/x-raw, format=F32LE, layout=interleaved, rate=4, channels=2, "
      "channel-mask=(bitmask)0");
  GstBus *bus = hu_attach_bus (h);
  GstBuffer *b;
  gchar *out, *texts = NULL;

  gst_harness_set_sink_caps_str (h, "text/x-raw, format=utf8");
  b = gst_buffer_new_memdup (v, 4 * sizeof (float));
  GST_BUFFER_PTS (b) = 0;
  GST_BUFFER_DURATION (b) = GST_SECOND / 2;
  out = csvenc_run (h, b);
  fail_unless (strstr (out, "\n0,1.5,\n") != NULL, "%s", out);
  fail_unless (strstr (out, "\n0.25,inf,-inf\n") != NULL, "%s", out);
  g_free (out);

  b = gst_buffer_new_memdup (v, 5);
  GST_BUFFER_PTS (b) = GST_SECOND / 2;
  out = csvenc_run (h, b);
  fail_unless_equals_string (out, "");
  g_free (out);
  fail_unless_equals_int (pop_messages (bus, GST_MESSAGE_WARNING, &texts), 1);
  fail_unless (strstr (texts, "5 bytes") != NULL, "%s", texts);
  g_free (texts);

  b = gst_buffer_new ();
  GST_BUFFER_PTS (b) = GST_SECOND / 2;
  out = csvenc_run (h, b);
  fail_unless (strchr (out, ',') == NULL, "empty buffer wrote '%s'", out);
  g_free (out);

  b = gst_buffer_new_memdup (v + 4, 2 * sizeof (float));
  out = csvenc_run (h, b);
  fail_unless (g_str_has_suffix (out, ",2,3\n"), "%s", out);
  fail_unless (out[0] >= '0' && out[0] <= '9', "no time: %s", out);
  g_free (out);

  fail_unless_equals_int (pop_messages (bus, GST_MESSAGE_ERROR, NULL), 0);
  hu_release_bus (h, bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
robustness_suite (void)
{
  Suite *s = suite_create ("robustness");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 240);
  tcase_add_test (tc, test_signal_nonfinite);
  tcase_add_test (tc, test_signal_nonfinite_per_channel);
  tcase_add_test (tc, test_signal_partial_frames);
  tcase_add_test (tc, test_signal_empty_buffer);
  tcase_add_test (tc, test_signal_no_timestamps);
  tcase_add_test (tc, test_signal_unaligned_and_big);
  tcase_add_test (tc, test_gruanomaly_nan_during_anomaly);
  tcase_add_test (tc, test_text_invalid_utf8);
  tcase_add_test (tc, test_text_huge);
  tcase_add_test (tc, test_text_malformed_markup);
  tcase_add_test (tc, test_text_empty_gap_no_timestamps);
  tcase_add_test (tc, test_model_change_playing);
  tcase_add_test (tc, test_model_change_stream_state);
  tcase_add_test (tc, test_model_change_concurrent);
  tcase_add_test (tc, test_signal_model_change_concurrent);
  tcase_add_test (tc, test_csv_malformed_rows);
  tcase_add_test (tc, test_csv_stray_quote);
  tcase_add_test (tc, test_csv_nan_into_gruanomaly);
  tcase_add_test (tc, test_csvenc_bad_input);
  return s;
}

GST_CHECK_MAIN (robustness);
