/* gst-rnn: gruanomaly through GstHarness against anomaly scores computed
 * in PyTorch (fixtures from tests/fixtures/gen_elements.py).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness-util.h"

#define T 40
#define HALF 20

static const guint chunkings[][4] = {
  {1, 1, 1, 1}, {7, 7, 7, 7}, {40, 40, 40, 40}, {3, 1, 11, 5},
};

static void
run_parity (const gchar * model, const gchar * xname, const gchar * sname,
    guint nf)
{
  const float *x = hu_expect (xname, NULL);
  const float *want = hu_expect (sname, NULL);
  float got[T];
  gchar *caps = hu_audio_caps (nf);
  guint c;

  for (c = 0; c < G_N_ELEMENTS (chunkings); c++) {
    GstHarness *h = hu_harness ("gruanomaly", model, "scoring=fixed post-messages=false",
        caps);
    gchar *what = g_strdup_printf ("%s chunks %u", sname, chunkings[c][0]);
    GstCaps *out;
    gint ch = 0;

    hu_run (h, x, nf, 0, T, chunkings[c], 4, 1, 0, got);
    fail_unless_equals_float (got[0], 0.0f);
    hu_assert_close (got, want, T, what);
    out = gst_pad_get_current_caps (h->sinkpad);
    fail_unless (gst_structure_get_int (gst_caps_get_structure (out, 0),
            "channels", &ch));
    fail_unless_equals_int (ch, 1);
    gst_caps_unref (out);
    g_free (what);
    gst_harness_teardown (h);
  }
  g_free (caps);
}

/* 2-layer GRU with input/output normalisation and error statistics */
GST_START_TEST (test_scores_normalised)
{
  run_parity ("an_gru.safetensors", "an_gru.x", "an_gru.score", 2);
}

GST_END_TEST;

/* LSTM without any statistics: plain units, error mean 0 and std 1;
 * 3 unpositioned channels */
GST_START_TEST (test_scores_plain)
{
  run_parity ("an_lstm.safetensors", "an_lstm.x", "an_lstm.score", 3);
}

GST_END_TEST;

GST_START_TEST (test_defaults)
{
  GstElement *e = gst_element_factory_make ("gruanomaly", NULL);
  gdouble thr;
  gboolean post, rod;
  gint scoring;

  g_object_get (e, "threshold", &thr, "post-messages", &post,
      "reset-on-discont", &rod, "scoring", &scoring, NULL);
  /* adaptive: a false-alarm probability of 1e-5 per frame */
  fail_unless_equals_int (scoring, 1);
  fail_unless_equals_float (thr, 5.0);
  /* fixed: the normative default */
  g_object_set (e, "scoring", 0, NULL);
  g_object_get (e, "threshold", &thr, NULL);
  fail_unless_equals_float (thr, 4.0);
  fail_unless (post == TRUE);
  fail_unless (rod == TRUE);
  gst_object_unref (e);
}

GST_END_TEST;

static void
run_tensors (const gchar * dims, const gchar * out_dims)
{
  const float *x = hu_expect ("an_gru.x", NULL);
  const float *want = hu_expect ("an_gru.score", NULL);
  float got[T];
  static const guint four[] = { 4 };
  gchar *caps = g_strdup_printf ("other/tensors,format=static,num_tensors=1,"
      "types=float32,dimensions=%s,framerate=%d/1", dims, HU_RATE);
  GstHarness *h = hu_harness ("gruanomaly", "an_gru.safetensors",
      "scoring=fixed post-messages=false", NULL);
  GstCaps *in = gst_caps_fixate (gst_caps_from_string (caps)), *out;
  const GstStructure *s;

  gst_harness_set_src_caps (h, in);
  hu_run (h, x, 2, 0, T, four, 1, 1, 0, got);
  hu_assert_close (got, want, T, dims);
  out = gst_pad_get_current_caps (h->sinkpad);
  s = gst_caps_get_structure (out, 0);
  fail_unless (gst_structure_has_name (s, "other/tensors"));
  fail_unless_equals_string (gst_structure_get_string (s, "dimensions"),
      out_dims);
  gst_caps_unref (out);
  gst_harness_teardown (h);
  g_free (caps);
}

GST_START_TEST (test_tensors)
{
  run_tensors ("(string)2:4", "1:4");
  run_tensors ("2:4", "1:1");
}

GST_END_TEST;

/* Start/end messages at the frames PyTorch's scores cross the model's
 * threshold, stamped with the frame's time, not the buffer's. */
GST_START_TEST (test_messages)
{
  const float *x = hu_expect ("an_gru.x", NULL);
  const float *score = hu_expect ("an_gru.score", NULL);
  size_t n_ev;
  const float *ev = hu_expect ("an_gru.events", &n_ev);
  static const guint seven[] = { 7 };
  gchar *caps = hu_audio_caps (2);
  GstBus *bus;
  GstHarness *h;
  GList *msgs, *l;
  gdouble thr = 0.0, peak = 0.0;
  guint i = 0, f;

  n_ev /= 2;
  fail_unless (n_ev >= 4);
  h = hu_harness_bus ("gruanomaly", "an_gru.safetensors", "scoring=fixed",
      caps, &bus);
  /* not set: the model's anomaly.threshold */
  g_object_get (h->element, "threshold", &thr, NULL);
  fail_unless (fabs (thr - 7.243784) < 1e-9, "threshold %g", thr);

  hu_run (h, x, 2, 0, T, seven, 1, 1, 0, NULL);
  msgs = hu_element_messages (bus, "gruanomaly");
  fail_unless_equals_int (g_list_length (msgs), n_ev);
  for (l = msgs; l; l = l->next, i++) {
    const GstStructure *s = gst_message_get_structure (l->data);
    guint frame = (guint) ev[i * 2];
    gboolean start = ev[i * 2 + 1] > 0.5f;
    guint64 ts, st, rt, dur;
    gdouble sc, th;

    fail_unless (GST_MESSAGE_SRC (l->data) == GST_OBJECT (h->element));
    fail_unless (gst_structure_get_uint64 (s, "timestamp", &ts));
    fail_unless (gst_structure_get_uint64 (s, "stream-time", &st));
    fail_unless (gst_structure_get_uint64 (s, "running-time", &rt));
    fail_unless (gst_structure_get_uint64 (s, "duration", &dur));
    fail_unless (gst_structure_get_double (s, "score", &sc));
    fail_unless (gst_structure_get_double (s, "threshold", &th));
    fail_unless_equals_string (gst_structure_get_string (s, "event"),
        start ? "start" : "end");
    /* frame 17 is in the buffer of frames 14..20: the frame's time */
    fail_unless_equals_uint64 (ts, hu_frame_time (frame));
    fail_unless_equals_uint64 (st, ts);
    fail_unless_equals_uint64 (rt, ts);
    fail_unless_equals_uint64 (dur, hu_frame_time (1));
    fail_unless_equals_float (th, thr);
    if (start) {
      peak = score[frame];
      fail_unless (sc >= thr);
    } else {
      peak = 0.0;
      for (f = (guint) ev[(i - 1) * 2]; f < frame; f++)
        peak = MAX (peak, score[f]);
    }
    fail_unless (fabs (sc - peak) <= HU_ATOL + HU_RTOL * peak,
        "event %u: score %g, PyTorch peak %g", i, sc, peak);
  }
  g_list_free_full (msgs, (GDestroyNotify) gst_message_unref);

  hu_release_bus (h, bus);
  gst_harness_teardown (h);
  g_free (caps);
}

GST_END_TEST;

static guint
count_messages (const gchar * props)
{
  const float *x = hu_expect ("an_gru.x", NULL);
  static const guint seven[] = { 7 };
  gchar *caps = hu_audio_caps (2);
  GstBus *bus;
  GstHarness *h;
  GList *msgs;
  guint n;
  gchar *all = g_strconcat ("scoring=fixed ", props, NULL);

  h = hu_harness_bus ("gruanomaly", "an_gru.safetensors", all, caps, &bus);
  g_free (all);
  hu_run (h, x, 2, 0, T, seven, 1, 1, 0, NULL);
  msgs = hu_element_messages (bus, "gruanomaly");
  n = g_list_length (msgs);
  g_list_free_full (msgs, (GDestroyNotify) gst_message_unref);
  hu_release_bus (h, bus);
  gst_harness_teardown (h);
  g_free (caps);
  return n;
}

GST_START_TEST (test_threshold_property)
{
  const float *score = hu_expect ("an_gru.score", NULL);
  gdouble low = 1e30;
  guint f, crossings = 0;
  gchar *props;
  gboolean on = FALSE;

  fail_unless_equals_int (count_messages ("threshold=1e9"), 0);
  fail_unless_equals_int (count_messages ("scoring=fixed post-messages=false"), 0);
  /* a threshold just above the lowest nonzero score: count the crossings
   * PyTorch's scores make */
  for (f = 1; f < T; f++)
    low = MIN (low, score[f]);
  low *= 1.01;
  for (f = 0; f < T; f++) {
    if (!on && score[f] >= low) {
      on = TRUE;
      crossings++;
    } else if (on && score[f] < low) {
      on = FALSE;
      crossings++;
    }
  }
  props = g_strdup_printf ("threshold=%.9g", low);
  fail_unless_equals_int (count_messages (props), crossings);
  g_free (props);
}

GST_END_TEST;

/* A threshold set while playing applies from the next buffer on: none of
 * the first half's frames reaches 1e9; in the second half the messages are
 * PyTorch's crossings of the new threshold, and carry it. */
GST_START_TEST (test_threshold_while_playing)
{
  const float *x = hu_expect ("an_gru.x", NULL);
  const float *score = hu_expect ("an_gru.score", NULL);
  static const guint seven[] = { 7 };
  gchar *caps = hu_audio_caps (2);
  GstBus *bus;
  GstHarness *h;
  GList *msgs, *l;
  gdouble low = 1e30, th;
  guint f, crossings = 0;
  gboolean on = FALSE;

  for (f = 1; f < T; f++)
    low = MIN (low, score[f]);
  low *= 1.01;
  for (f = HALF; f < T; f++)
    if (on != (score[f] >= low)) {
      on = !on;
      crossings++;
    }
  fail_unless (crossings > 0);

  h = hu_harness_bus ("gruanomaly", "an_gru.safetensors",
      "scoring=fixed threshold=1e9", caps, &bus);
  hu_run (h, x, 2, 0, HALF, seven, 1, 1, 0, NULL);
  msgs = hu_element_messages (bus, "gruanomaly");
  fail_unless_equals_int (g_list_length (msgs), 0);
  g_object_set (h->element, "threshold", low, NULL);
  hu_run (h, x, 2, HALF, T, seven, 1, 1, 0, NULL);
  msgs = hu_element_messages (bus, "gruanomaly");
  fail_unless_equals_int (g_list_length (msgs), crossings);
  for (l = msgs; l; l = l->next) {
    fail_unless (gst_structure_get_double (gst_message_get_structure
            (l->data), "threshold", &th));
    fail_unless_equals_float (th, low);
  }
  g_list_free_full (msgs, (GDestroyNotify) gst_message_unref);
  hu_release_bus (h, bus);
  gst_harness_teardown (h);
  g_free (caps);
}

GST_END_TEST;

/* ------------------------------------------------------------- resets */

static void
check_trigger (HuTrigger trig, gboolean resets)
{
  const float *x = hu_expect ("an_gru.x", NULL);
  const float *want = hu_expect ("an_gru.score", NULL);
  float got[HALF], fresh[HALF];
  static const guint five[] = { 5 };
  gchar *caps = hu_audio_caps (2);
  GstHarness *h;
  guint f = HALF;

  h = hu_harness ("gruanomaly", "an_gru.safetensors",
      trig == HU_TRIG_DISCONT_KEEP ? "scoring=fixed reset-on-discont=false"
      : "scoring=fixed", caps);
  hu_run (h, x, 2, 0, HALF, five, 1, 1, 0, NULL);
  if (trig == HU_TRIG_DISCONT || trig == HU_TRIG_DISCONT_KEEP) {
    hu_push_discont (h, x, 2, f, 5, 1, 0, got);
    f += 5;
  } else if (trig == HU_TRIG_SEEK_SEGMENT) {
    hu_push_segment (h, hu_frame_time (3));
  } else {
    fail_unless (hu_trigger (h, trig, x, 2, HALF, 1, 0, 3));
  }
  hu_run (h, x, 2, f, T, five, 1, 1, 0, got + (f - HALF));
  gst_harness_teardown (h);

  hu_run_fresh ("gruanomaly", "an_gru.safetensors", "scoring=fixed", caps, x,
      2, HALF, T,
      five, 1, 1, 0, fresh);

  if (resets) {
    fail_unless_equals_float (got[0], 0.0f);
    hu_assert_same (got, fresh, HALF, "after reset");
  } else {
    hu_assert_close (got, want + HALF, HALF, "state carried");
  }
  /* the premise: the first frame after a reset scores 0, carried it does
   * not */
  fail_unless (want[HALF] > 1e-3);
  g_free (caps);
}

/* Every reset trigger and every event that must not reset, one row each
 * (check runs a row per iteration: test_reset_triggers:N is row N). */
static const struct
{
  HuTrigger trig;
  gboolean resets;
} triggers[] = {
  {HU_TRIG_DISCONT, TRUE},
  {HU_TRIG_DISCONT_KEEP, FALSE},
  {HU_TRIG_FLUSH, TRUE},
  {HU_TRIG_STREAM_START, TRUE},
  {HU_TRIG_SEEK_SEGMENT, TRUE},
  {HU_TRIG_CAPS, TRUE},
  {HU_TRIG_SIGNAL, TRUE},
  {HU_TRIG_GAP_BUFFER, FALSE},
};

GST_START_TEST (test_reset_triggers)
{
  check_trigger (triggers[__i__].trig, triggers[__i__].resets);
}

GST_END_TEST;

/* NaN frame: NaN score, and the next frame is the first after a reset. */
GST_START_TEST (test_nan_frame)
{
  const float *x0 = hu_expect ("an_gru.x", NULL);
  float x[T * 2], got[T];
  static const guint six[] = { 6 };
  gchar *caps = hu_audio_caps (2);
  GstHarness *h = hu_harness ("gruanomaly", "an_gru.safetensors",
      "scoring=fixed post-messages=false", caps);

  memcpy (x, x0, sizeof (x));
  x[10 * 2] = INFINITY;
  hu_run (h, x, 2, 0, T, six, 1, 1, 0, got);
  fail_unless (isnan (got[10]));
  fail_unless_equals_float (got[11], 0.0f);
  hu_assert_close (got, hu_expect ("an_gru.score", NULL), 10, "before inf");
  gst_harness_teardown (h);
  g_free (caps);
}

GST_END_TEST;

GST_START_TEST (test_eos_and_latency)
{
  const float *x = hu_expect ("an_gru.x", NULL);
  static const guint eight[] = { 8 };
  gchar *caps = hu_audio_caps (2);
  GstHarness *h = hu_harness ("gruanomaly", "an_gru.safetensors",
      "scoring=fixed post-messages=false", caps);
  GstEvent *ev;
  gboolean eos = FALSE;

  gst_harness_set_upstream_latency (h, 30 * GST_MSECOND);
  fail_unless_equals_uint64 (gst_harness_query_latency (h), 30 * GST_MSECOND);
  hu_run (h, x, 2, 0, T, eight, 1, 1, 0, NULL);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  fail_unless_equals_int (gst_harness_buffers_received (h), 5);
  while ((ev = gst_harness_try_pull_event (h))) {
    eos |= GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
  }
  fail_unless (eos);
  gst_harness_teardown (h);
  g_free (caps);
}

GST_END_TEST;

/* ------------------------------------------------------------- errors */

static void
expect_error (const gchar * model, const gchar * const *needles)
{
  gchar *path = hu_fixture (model);
  gchar *d = g_strdup_printf ("audiotestsrc num-buffers=1 ! gruanomaly "
      "model-file=%s ! fakesink", path);

  hu_expect_error (d, needles, TRUE);
  g_free (d);
  g_free (path);
}

GST_START_TEST (test_wrong_task)
{
  const gchar *n[] = { "fc_gru.safetensors", "has task 'forecast'",
    "gruanomaly needs 'anomaly'", NULL
  };

  expect_error ("fc_gru.safetensors", n);
}

GST_END_TEST;

GST_START_TEST (test_output_size_mismatch)
{
  const gchar *n[] = { "an_bad.safetensors", "input size 3",
    "output size 1", NULL
  };

  expect_error ("an_bad.safetensors", n);
}

GST_END_TEST;

GST_START_TEST (test_missing_model)
{
  const gchar *n[] = { "no-such-anomaly.safetensors", NULL };

  expect_error ("no-such-anomaly.safetensors", n);
}

GST_END_TEST;

GST_START_TEST (test_caps_mismatch)
{
  gchar *path = hu_fixture ("an_gru.safetensors");
  gchar *d = g_strdup_printf ("audiotestsrc num-buffers=2 samplesperbuffer=4"
      " ! audio/x-raw,format=F32LE,rate=10,channels=5 ! gruanomaly "
      "model-file=%s ! fakesink", path);
  const gchar *n[] = { "5 features", "needs 2", NULL };

  hu_expect_error (d, n, FALSE);
  g_free (d);
  g_free (path);
}

GST_END_TEST;

/* ------------------------------------------------------------ per-channel */

#define UNI_C 4

/* 4 channels scored by a univariate GRU: PyTorch's per-channel scores, the
 * same floats as a single-channel element on each channel, 4 output
 * channels. */
GST_START_TEST (test_per_channel_scores)
{
  const float *x = hu_expect ("uni.x", NULL);
  const float *want = hu_expect ("an_uni.score", NULL);
  float got[T * UNI_C];
  gchar *caps = hu_audio_caps (UNI_C);
  guint c;

  for (c = 0; c < G_N_ELEMENTS (chunkings); c++) {
    GstHarness *h = hu_harness ("gruanomaly", "an_uni.safetensors",
        "scoring=fixed per-channel=true post-messages=false", caps);
    gchar *what = g_strdup_printf ("per-channel chunks %u", chunkings[c][0]);
    GstCaps *out;
    gint ch = 0;

    hu_run (h, x, UNI_C, 0, T, chunkings[c], 4, UNI_C, 0, got);
    hu_assert_close (got, want, T * UNI_C, what);
    out = gst_pad_get_current_caps (h->sinkpad);
    fail_unless (gst_structure_get_int (gst_caps_get_structure (out, 0),
            "channels", &ch));
    fail_unless_equals_int (ch, UNI_C);
    gst_caps_unref (out);
    g_free (what);
    gst_harness_teardown (h);
  }
  hu_check_vs_single_channels ("gruanomaly", "an_uni.safetensors",
      "scoring=fixed post-messages=false", x, got, T, UNI_C, 0, NULL, 0);
  g_free (caps);
}

GST_END_TEST;

/* Anomalies start and end per channel; each message names its channel and
 * the frames are those PyTorch's scores cross the threshold (1.5, the
 * model's) at. */
GST_START_TEST (test_per_channel_messages)
{
  const float *x = hu_expect ("uni.x", NULL);
  const float *score = hu_expect ("an_uni.score", NULL);
  static const guint seven[] = { 7 };
  gchar *caps = hu_audio_caps (UNI_C);
  GstBus *bus;
  GstHarness *h;
  GList *msgs, *l;
  guint n_want[UNI_C] = { 0 }, n_got[UNI_C] = { 0 }, c, t, total = 0;
  gboolean on[UNI_C] = { FALSE };

  /* the events PyTorch's scores imply, per channel */
  for (t = 0; t < T; t++)
    for (c = 0; c < UNI_C; c++) {
      gboolean above = score[t * UNI_C + c] >= 1.5f;

      if (above != on[c]) {
        n_want[c]++;
        on[c] = above;
      }
    }
  for (c = 0; c < UNI_C; c++)
    total += n_want[c];
  fail_unless (total >= 2, "the fixture has no anomaly (%u events)", total);

  h = hu_harness_bus ("gruanomaly", "an_uni.safetensors",
      "scoring=fixed per-channel=true",

      caps, &bus);
  hu_run (h, x, UNI_C, 0, T, seven, 1, UNI_C, 0, NULL);
  msgs = hu_element_messages (bus, "gruanomaly");
  memset (on, 0, sizeof (on));
  for (l = msgs; l; l = l->next) {
    const GstStructure *s = gst_message_get_structure (l->data);
    guint64 ts;
    guint ch = 99, frame;
    gboolean start;

    fail_unless (gst_structure_get_uint (s, "channel", &ch));
    fail_unless (ch < UNI_C, "channel %u", ch);
    fail_unless (gst_structure_get_uint64 (s, "timestamp", &ts));
    frame = (guint) gst_util_uint64_scale_round (ts, HU_RATE, GST_SECOND);
    start = g_str_equal (gst_structure_get_string (s, "event"), "start");
    fail_unless (start != on[ch], "channel %u: two %s in a row", ch,
        start ? "starts" : "ends");
    on[ch] = start;
    /* the frame where PyTorch's score crosses the threshold */
    fail_unless ((score[frame * UNI_C + ch] >= 1.5f) == start,
        "channel %u frame %u: score %g", ch, frame,
        score[frame * UNI_C + ch]);
    fail_unless (frame == 0 || (score[(frame - 1) * UNI_C + ch] >= 1.5f)
        != start, "channel %u frame %u is not a crossing", ch, frame);
    n_got[ch]++;
  }
  for (c = 0; c < UNI_C; c++)
    fail_unless_equals_int (n_got[c], n_want[c]);
  g_list_free_full (msgs, (GDestroyNotify) gst_message_unref);

  hu_release_bus (h, bus);
  gst_harness_teardown (h);
  g_free (caps);
}

GST_END_TEST;

/* The reset signal resets every channel: the next frame scores 0 on all,
 * then the scores are a fresh element's. */
GST_START_TEST (test_per_channel_reset)
{
  const float *x = hu_expect ("uni.x", NULL);
  float got[T * UNI_C], fresh[T * UNI_C];
  gchar *caps = hu_audio_caps (UNI_C);
  guint c;

  hu_run_reset_and_fresh ("gruanomaly", "an_uni.safetensors",
      "scoring=fixed per-channel=true post-messages=false", caps, x, UNI_C, HALF, T, 7,
      UNI_C, 0, got, fresh);
  for (c = 0; c < UNI_C; c++)
    fail_unless_equals_float (got[HALF * UNI_C + c], 0.0f);
  hu_assert_same (got + HALF * UNI_C, fresh, HALF * UNI_C,
      "per-channel after reset");
  g_free (caps);
}

GST_END_TEST;

/* NaN in channel 1 at frame 20: channel 1 scores NaN there and 0 at the
 * next frame (a fresh state), the other channels go on untouched; each
 * channel equals a single-channel element on it alone. */
GST_START_TEST (test_per_channel_nan)
{
  const float *x0 = hu_expect ("uni.x", NULL);
  float x[T * UNI_C], got[T * UNI_C];
  static const guint seven[] = { 7 };
  gchar *caps = hu_audio_caps (UNI_C);
  GstHarness *h;

  memcpy (x, x0, sizeof (x));
  x[HALF * UNI_C + 1] = NAN;
  h = hu_harness ("gruanomaly", "an_uni.safetensors",
      "scoring=fixed per-channel=true post-messages=false", caps);
  hu_run (h, x, UNI_C, 0, T, seven, 1, UNI_C, 0, got);
  gst_harness_teardown (h);
  fail_unless (isnan (got[HALF * UNI_C + 1]));
  fail_unless_equals_float (got[(HALF + 1) * UNI_C + 1], 0.0f);
  hu_check_vs_single_channels ("gruanomaly", "an_uni.safetensors",
      "scoring=fixed post-messages=false", x, got, T, UNI_C, 0,
      hu_expect ("an_uni.score", NULL), 1 << 1);
  g_free (caps);
}

GST_END_TEST;

GST_START_TEST (test_per_channel_refused)
{
  gchar *path = hu_fixture ("an_gru.safetensors");
  gchar *d = g_strdup_printf ("audiotestsrc num-buffers=1 ! audio/x-raw,"
      "format=F32LE,rate=10,channels=2 ! gruanomaly per-channel=true "
      "model-file=%s ! fakesink", path);
  const gchar *n[] = { "input size 2", "per-channel=true", NULL };

  hu_expect_error (d, n, TRUE);
  g_free (d);
  g_free (path);
}

GST_END_TEST;

/* ------------------------------------------- model changes while running */

/* Per-channel an_uni, then model-file=an_uni2 while PLAYING: from the next
 * buffer the scores are a fresh element's with an_uni2 (the first frame
 * scores 0 on every channel), the threshold follows the new model's, one
 * INFO names the file. Then an_lstm (3 features, not univariate) is
 * refused with a WARNING and an_uni2 keeps running. */
GST_START_TEST (test_model_change_playing)
{
  const float *x = hu_expect ("uni.x", NULL);
  float got[HALF * UNI_C], fresh[HALF * UNI_C], more[7 * UNI_C];
  static const guint seven[] = { 7 };
  gchar *caps = hu_audio_caps (UNI_C);
  gchar *p2 = hu_fixture ("an_uni2.safetensors");
  gchar *p3 = hu_fixture ("an_lstm.safetensors");
  GstBus *bus;
  GstHarness *h, *hf;
  GstMessage *m;
  const GstStructure *d = NULL;
  GError *err = NULL;
  gdouble thr = 0.0;
  gchar *now = NULL;
  guint c;

  h = hu_harness_bus ("gruanomaly", "an_uni.safetensors",

      "scoring=fixed per-channel=true post-messages=false", caps, &bus);
  hu_run (h, x, UNI_C, 0, HALF, seven, 1, UNI_C, 0, NULL);
  g_object_get (h->element, "threshold", &thr, NULL);
  fail_unless_equals_float (thr, 1.5);

  g_object_set (h->element, "model-file", p2, NULL);
  hu_run (h, x, UNI_C, HALF, T, seven, 1, UNI_C, 0, got);
  for (c = 0; c < UNI_C; c++)
    fail_unless_equals_float (got[c], 0.0f);
  g_object_get (h->element, "threshold", &thr, NULL);
  fail_unless_equals_float (thr, 2.5);
  m = gst_bus_pop_filtered (bus, GST_MESSAGE_INFO);
  fail_unless (m != NULL, "no INFO for the change");
  gst_message_parse_info_details (m, &d);
  fail_unless (d != NULL);
  fail_unless_equals_string (gst_structure_get_string (d, "model-file"), p2);
  gst_message_unref (m);

  hu_run_fresh ("gruanomaly", "an_uni2.safetensors",
      "scoring=fixed per-channel=true post-messages=false", caps, x, UNI_C, HALF, T, seven,
      1, UNI_C, 0, fresh);
  hu_assert_same (got, fresh, HALF * UNI_C, "after the change vs fresh");

  /* refused: not univariate; the per-channel stream goes on with an_uni2 */
  g_object_set (h->element, "model-file", p3, NULL);
  m = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (m != NULL, "no WARNING for a 3-feature model");
  gst_message_parse_warning (m, &err, NULL);
  fail_unless (strstr (err->message, "input size 3") != NULL
      && strstr (err->message, p2) != NULL, "%s", err->message);
  g_clear_error (&err);
  gst_message_unref (m);
  g_object_get (h->element, "model-file", &now, NULL);
  fail_unless_equals_string (now, p2);
  g_free (now);
  hu_run (h, x, UNI_C, 0, 7, seven, 1, UNI_C, 0, more);
  hf = hu_harness ("gruanomaly", "an_uni2.safetensors",
      "scoring=fixed per-channel=true post-messages=false", caps);
  hu_run (hf, x, UNI_C, HALF, T, seven, 1, UNI_C, 0, fresh);
  hu_run (hf, x, UNI_C, 0, 7, seven, 1, UNI_C, 0, fresh);
  gst_harness_teardown (hf);
  hu_assert_same (more, fresh, 7 * UNI_C, "old model kept");

  hu_release_bus (h, bus);
  gst_harness_teardown (h);
  g_free (p2);
  g_free (p3);
  g_free (caps);
}

GST_END_TEST;

static Suite *
gruanomaly_suite (void)
{
  Suite *s = suite_create ("gruanomaly");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_defaults);
  tcase_add_test (tc, test_scores_normalised);
  tcase_add_test (tc, test_scores_plain);
  tcase_add_test (tc, test_tensors);
  tcase_add_test (tc, test_messages);
  tcase_add_test (tc, test_threshold_property);
  tcase_add_test (tc, test_threshold_while_playing);
  tcase_add_loop_test (tc, test_reset_triggers, 0,
      G_N_ELEMENTS (triggers));
  tcase_add_test (tc, test_nan_frame);
  tcase_add_test (tc, test_eos_and_latency);
  tcase_add_test (tc, test_wrong_task);
  tcase_add_test (tc, test_output_size_mismatch);
  tcase_add_test (tc, test_missing_model);
  tcase_add_test (tc, test_caps_mismatch);
  tcase_add_test (tc, test_per_channel_scores);
  tcase_add_test (tc, test_per_channel_messages);
  tcase_add_test (tc, test_per_channel_reset);
  tcase_add_test (tc, test_per_channel_nan);
  tcase_add_test (tc, test_per_channel_refused);
  tcase_add_test (tc, test_model_change_playing);
  return s;
}

int
main (int argc, char **argv)
{
  SRunner *sr;
  int failed;

  gst_check_init (&argc, &argv);
  sr = srunner_create (gruanomaly_suite ());
  /* no fork: the parity figure below is gathered across tests */
  srunner_set_fork_status (sr, CK_NOFORK);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  printf ("gruanomaly: largest error vs PyTorch %.3g (tolerance %g abs + "
      "%g rel)\n", hu_max_err, HU_ATOL, HU_RTOL);
  return failed == 0 ? 0 : 1;
}
