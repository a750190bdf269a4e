/* gst-rnn: lstmforecast through GstHarness against PyTorch's forecasts
 * (fixtures from tests/fixtures/gen_elements.py).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness-util.h"

#define T 40
#define HALF 20

static const guint chunkings[][4] = {
  {1, 1, 1, 1}, {7, 7, 7, 7}, {40, 40, 40, 40}, {3, 1, 11, 5},
};

static void
run_parity (const gchar * model, const gchar * props, const gchar * xname,
    const gchar * yname, guint fin, guint fout, guint shift)
{
  const float *x = hu_expect (xname, NULL);
  const float *want = hu_expect (yname, NULL);
  float *got = g_new0 (float, T * fout);
  gchar *caps = hu_audio_caps (fin);
  guint c;

  for (c = 0; c < G_N_ELEMENTS (chunkings); c++) {
    GstHarness *h = hu_harness ("lstmforecast", model, props, caps);
    gchar *what = g_strdup_printf ("%s %s chunks %u", yname, props,
        chunkings[c][0]);

    hu_run (h, x, fin, 0, T, chunkings[c], 4, fout, shift, got);
    hu_assert_close (got, want, T * fout, what);
    g_free (what);
    gst_harness_teardown (h);
  }
  g_free (caps);
  g_free (got);
}

GST_START_TEST (test_horizon1)
{
  run_parity ("fc_lstm.safetensors", "", "fc_lstm.x", "fc_lstm.h1", 2, 2, 1);
}

GST_END_TEST;

GST_START_TEST (test_horizon3)
{
  run_parity ("fc_lstm.safetensors", "horizon=3", "fc_lstm.x", "fc_lstm.h3",
      2, 2, 3);
}

GST_END_TEST;

GST_START_TEST (test_window_property)
{
  run_parity ("fc_lstm.safetensors", "window=4 horizon=2", "fc_lstm.x",
      "fc_lstm.w4h2", 2, 2, 2);
}

GST_END_TEST;

/* fc_lstm2 has window=5 metadata, 3 input features (unpositioned
 * channel-mask=0), 2 layers and one output. */
/* precision=bf16 / int8: the forecasts move a little from PyTorch's
 * (float32) ones, and by more than float rounding (the weights did
 * change); the property reads back. */
GST_START_TEST (test_precision)
{
  static const gchar *precs[] = { "bf16", "int8" };
  const float *x = hu_expect ("fc_lstm.x", NULL);
  const float *want = hu_expect ("fc_lstm.h1", NULL);
  float got[T * 2];
  gchar *caps = hu_audio_caps (2);
  const guint chunks[] = { 7 };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (precs); i++) {
    gchar *props = g_strdup_printf ("precision=%s", precs[i]);
    GstElement *e = hu_element ("lstmforecast", "fc_lstm.safetensors", props);
    gint val = -1;
    GEnumValue *ev;
    double d, scale = 0;
    guint k;

    g_object_get (e, "precision", &val, NULL);
    ev = g_enum_get_value (G_ENUM_CLASS (g_type_class_peek
            (G_PARAM_SPEC_VALUE_TYPE (g_object_class_find_property
                    (G_OBJECT_GET_CLASS (e), "precision")))), val);
    fail_unless (ev != NULL);
    fail_unless_equals_string (ev->value_nick, precs[i]);
    gst_object_unref (e);

    hu_run_fresh ("lstmforecast", "fc_lstm.safetensors", props, caps, x, 2,
        0, T, chunks, 1, 2, 1, got);
    d = hu_max_abs_diff (got, want, T * 2);
    for (k = 0; k < T * 2; k++)
      scale = MAX (scale, fabs (want[k]));
    fail_unless (d > 1e-6 && d < 0.05 * (1 + scale),
        "precision=%s: largest difference from PyTorch %g (outputs up to %g)",
        precs[i], d, scale);
    g_free (props);
  }
  g_free (caps);
}

GST_END_TEST;

GST_START_TEST (test_window_from_model)
{
  guint window = 99;
  GstHarness *h;
  gchar *caps = hu_audio_caps (3);

  run_parity ("fc_lstm2.safetensors", "", "fc_lstm2.x", "fc_lstm2.w5", 3, 1,
      1);
  /* window=0 overrides the metadata: the state is carried */
  run_parity ("fc_lstm2.safetensors", "window=0", "fc_lstm2.x", "fc_lstm2.w0",
      3, 1, 1);

  h = hu_harness ("lstmforecast", "fc_lstm2.safetensors", "", caps);
  g_object_get (h->element, "window", &window, NULL);
  fail_unless_equals_int (window, 5);
  gst_harness_teardown (h);
  g_free (caps);
}

GST_END_TEST;

/* A bidirectional model runs on closed windows (each window read both
 * ways, as PyTorch does on the window); without a window it is refused. */
GST_START_TEST (test_bidirectional_window)
{
  gchar *model = hu_fixture ("fc_bilstm.safetensors");
  gchar *d = g_strdup_printf ("audiotestsrc num-buffers=1 ! lstmforecast "
      "model-file=%s ! fakesink", model);
  const gchar *n[] = { "fc_bilstm.safetensors", "bidirectional", "window",
    NULL
  };

  run_parity ("fc_bilstm.safetensors", "window=6", "fc_lstm.x",
      "fc_bilstm.w6", 2, 2, 1);
  hu_expect_error (d, n, TRUE);
  g_free (d);
  g_free (model);
}

GST_END_TEST;

GST_START_TEST (test_defaults)
{
  GstElement *e = gst_element_factory_make ("lstmforecast", NULL);
  guint horizon, window;
  gboolean post, rod;
  gchar *file = (gchar *) "x";

  g_object_get (e, "horizon", &horizon, "window", &window, "post-messages",
      &post, "reset-on-discont", &rod, "model-file", &file, NULL);
  fail_unless_equals_int (horizon, 1);
  fail_unless_equals_int (window, 0);
  fail_unless (post == FALSE);
  fail_unless (rod == TRUE);
  fail_unless (file == NULL);
  gst_object_unref (e);
}

GST_END_TEST;

/* other/tensors with dimensions as a string and as the flag-set an
 * unquoted 3:5 parses into; output keeps the family, F = outputs. */
static void
run_tensors (const gchar * dims, const gchar * out_dims)
{
  const float *x = hu_expect ("fc_gru.x", NULL);
  const float *want = hu_expect ("fc_gru.h1", NULL);
  float got[T * 3];
  static const guint five[] = { 5 };
  gchar *caps = g_strdup_printf ("other/tensors,format=static,num_tensors=1,"
      "types=float32,dimensions=%s,framerate=%d/1", dims, HU_RATE);
  GstHarness *h = hu_harness ("lstmforecast", "fc_gru.safetensors", "", NULL);
  GstCaps *in = gst_caps_from_string (caps), *out;
  const GstStructure *s;

  /* what a source does with caps from a gst-launch line: fixate them (a
   * flag-set's mask becomes exact) */
  in = gst_caps_fixate (in);
  gst_harness_set_src_caps (h, in);

  hu_run (h, x, 3, 0, T, five, 1, 3, 1, got);
  hu_assert_close (got, want, T * 3, dims);

  out = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (out != NULL);
  s = gst_caps_get_structure (out, 0);
  fail_unless (gst_structure_has_name (s, "other/tensors"));
  fail_unless_equals_string (gst_structure_get_string (s, "dimensions"),
      out_dims);
  fail_unless_equals_string (gst_structure_get_string (s, "types"),
      "float32");
  gst_caps_unref (out);
  gst_harness_teardown (h);
  g_free (caps);
}

GST_START_TEST (test_tensors_string_dims)
{
  run_tensors ("(string)3:5", "3:5");
}

GST_END_TEST;

GST_START_TEST (test_tensors_flagset_dims)
{
  GstCaps *c = gst_caps_from_string ("other/tensors,dimensions=3:5");

  /* the premise: an unquoted F:N is a flag-set in 1.22 */
  fail_unless (GST_VALUE_HOLDS_FLAG_SET (gst_structure_get_value
          (gst_caps_get_structure (c, 0), "dimensions")));
  gst_caps_unref (c);
  /* F and N are lost by fixation; F comes from the model, N = 1 */
  run_tensors ("3:5", "3:1");
}

GST_END_TEST;

GST_START_TEST (test_audio_output_caps)
{
  gchar *caps = hu_audio_caps (3);
  GstHarness *h = hu_harness ("lstmforecast", "fc_gru.safetensors", "", caps);
  const float *x = hu_expect ("fc_gru.x", NULL);
  static const guint four[] = { 4 };
  GstCaps *out;
  const GstStructure *s;
  gint ch = 0, rate = 0;

  hu_run (h, x, 3, 0, 8, four, 1, 3, 1, NULL);
  out = gst_pad_get_current_caps (h->sinkpad);
  s = gst_caps_get_structure (out, 0);
  fail_unless (gst_structure_has_name (s, "audio/x-raw"));
  fail_unless (gst_structure_get_int (s, "channels", &ch));
  fail_unless (gst_structure_get_int (s, "rate", &rate));
  fail_unless_equals_int (ch, 3);
  fail_unless_equals_int (rate, HU_RATE);
  fail_unless_equals_string (gst_structure_get_string (s, "format"), "F32LE");
  gst_caps_unref (out);
  gst_harness_teardown (h);
  g_free (caps);
}

GST_END_TEST;

/* ------------------------------------------------------------- resets */

/* Frames 0..19, the trigger, frames 20..39; the second half must equal a
 * fresh element's output on frames 20..39 when the trigger resets, and the
 * continuous PyTorch forecast when it does not. */
static void
check_trigger (HuTrigger trig, gboolean resets)
{
  const float *x = hu_expect ("fc_lstm.x", NULL);
  const float *want = hu_expect ("fc_lstm.h1", NULL);
  float got[HALF * 2], fresh[HALF * 2];
  static const guint seven[] = { 7 };
  gchar *caps = hu_audio_caps (2);
  GstHarness *h;
  guint f = HALF;
  double diff;

  h = hu_harness ("lstmforecast", "fc_lstm.safetensors",
      trig == HU_TRIG_DISCONT_KEEP ? "reset-on-discont=false" : "", caps);
  hu_run (h, x, 2, 0, HALF, seven, 1, 2, 1, NULL);

  if (trig == HU_TRIG_DISCONT || trig == HU_TRIG_DISCONT_KEEP) {
    hu_push_discont (h, x, 2, f, 7, 2, 1, got);
    f += 7;
  } else if (trig == HU_TRIG_SEEK_SEGMENT) {
    /* a non-flushing seek back to 0 (e.g. a segment seek loop) */
    hu_push_segment (h, 0);
    hu_push_segment (h, hu_frame_time (5));
  } else {
    fail_unless (hu_trigger (h, trig, x, 2, HALF, 2, 1, 5));
  }
  hu_run (h, x, 2, f, T, seven, 1, 2, 1, got + (f - HALF) * 2);
  gst_harness_teardown (h);

  hu_run_fresh ("lstmforecast", "fc_lstm.safetensors", "", caps, x, 2, HALF,
      T, seven, 1, 2, 1, fresh);

  diff = hu_max_abs_diff (fresh, want + HALF * 2, HALF * 2);
  /* the premise: a reset changes the forecasts measurably */
  fail_unless (diff > 1e-3, "fresh and carried forecasts too close (%g)",
      diff);

  if (resets)
    hu_assert_same (got, fresh, HALF * 2, "after reset");
  else
    hu_assert_close (got, want + HALF * 2, HALF * 2, "state carried");
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
  {HU_TRIG_SAME_SEGMENT, FALSE},
  {HU_TRIG_CONT_SEGMENT, FALSE},
  {HU_TRIG_CAPS, TRUE},
  {HU_TRIG_SIGNAL, TRUE},
  {HU_TRIG_EMPTY, FALSE},
  {HU_TRIG_GAP_BUFFER, FALSE},
  {HU_TRIG_GAP_EVENT, FALSE},
};

GST_START_TEST (test_reset_triggers)
{
  check_trigger (triggers[__i__].trig, triggers[__i__].resets);
}

GST_END_TEST;

/* A GAP buffer becomes a GAP event shifted by the horizon. */
GST_START_TEST (test_gap_forwarded)
{
  const float *x = hu_expect ("fc_lstm.x", NULL);
  gchar *caps = hu_audio_caps (2);
  GstHarness *h = hu_harness ("lstmforecast", "fc_lstm.safetensors",
      "horizon=2", caps);
  GstBuffer *gap = hu_buffer (x, 4, 2, 10);
  GstEvent *ev;
  gboolean seen = FALSE;

  GST_BUFFER_FLAG_SET (gap, GST_BUFFER_FLAG_GAP);
  fail_unless_equals_int (gst_harness_push (h, gap), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  while ((ev = gst_harness_try_pull_event (h))) {
    if (GST_EVENT_TYPE (ev) == GST_EVENT_GAP) {
      GstClockTime ts, dur;

      gst_event_parse_gap (ev, &ts, &dur);
      fail_unless_equals_uint64 (ts, hu_frame_time (12));
      fail_unless_equals_uint64 (dur, hu_frame_time (4));
      seen = TRUE;
    }
    gst_event_unref (ev);
  }
  fail_unless (seen, "no GAP event downstream");
  gst_harness_teardown (h);
  g_free (caps);
}

GST_END_TEST;

/* A frame holding NaN: output NaN, state reset, a warning. */
GST_START_TEST (test_nan_frame)
{
  const float *x0 = hu_expect ("fc_lstm.x", NULL);
  float x[T * 2], got[T * 2], fresh[T * 2];
  static const guint seven[] = { 7 };
  gchar *caps = hu_audio_caps (2);
  GstBus *bus;
  GstHarness *h;
  GstMessage *m;

  memcpy (x, x0, sizeof (x));
  x[HALF * 2 + 1] = NAN;
  h = hu_harness_bus ("lstmforecast", "fc_lstm.safetensors", "", caps, &bus);
  hu_run (h, x, 2, 0, T, seven, 1, 2, 1, got);
  fail_unless (isnan (got[HALF * 2]) && isnan (got[HALF * 2 + 1]));
  hu_assert_close (got, hu_expect ("fc_lstm.h1", NULL), HALF * 2,
      "before NaN");

  hu_run_fresh ("lstmforecast", "fc_lstm.safetensors", "", caps, x, 2,
      HALF + 1, T, seven, 1, 2, 1, fresh);
  hu_assert_same (got + (HALF + 1) * 2, fresh, (T - HALF - 1) * 2,
      "after NaN");

  m = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (m != NULL, "no warning for a NaN frame");
  gst_message_unref (m);
  hu_release_bus (h, bus);
  gst_harness_teardown (h);
  g_free (caps);
}

GST_END_TEST;

/* Metas of the test's own, to see which ones reach the output: "plain"
 * has no tags (the base class copies such a meta to a new output buffer),
 * "tagged" has one (not copied). */
typedef struct
{
  GstMeta meta;
  gint value;
} TestMeta;

static gboolean
test_meta_init (GstMeta * meta, gpointer params, GstBuffer * buffer)
{
  ((TestMeta *) meta)->value = 0;
  return TRUE;
}

static gboolean
test_meta_transform (GstBuffer * dest, GstMeta * meta, GstBuffer * src,
    GQuark type, gpointer data)
{
  TestMeta *m = (TestMeta *) gst_buffer_add_meta (dest, meta->info, NULL);

  m->value = ((TestMeta *) meta)->value;
  return TRUE;
}

static const GstMetaInfo *
test_meta_info (gboolean tagged)
{
  static const GstMetaInfo *info[2];
  static const gchar *no_tags[] = { NULL };
  static const gchar *tags[] = { "test-tag", NULL };

  if (info[tagged] == NULL) {
    const gchar *api = tagged ? "TestTaggedMetaAPI" : "TestPlainMetaAPI";
    GType t = gst_meta_api_type_register (api, tagged ? tags : no_tags);

    info[tagged] = gst_meta_register (t, tagged ? "TestTaggedMeta" :
        "TestPlainMeta", sizeof (TestMeta), test_meta_init, NULL,
        test_meta_transform);
  }
  return info[tagged];
}

/* The output of frames 0..9 of fc_lstm.x in one buffer carrying a plain
 * meta (value 7) and, with @tagged, a tagged one; with @hold the test keeps
 * a reference to the input buffer (so the element may not write into it)
 * and checks that it is left as it was. */
static GstBuffer *
push_with_metas (gboolean tagged, gboolean hold, gboolean * same_buffer)
{
  const float *x = hu_expect ("fc_lstm.x", NULL);
  gchar *caps = hu_audio_caps (2);
  GstHarness *h = hu_harness ("lstmforecast", "fc_lstm.safetensors", "",
      caps);
  GstBuffer *in = hu_buffer (x, 10, 2, 0), *out;
  float back[20];

  ((TestMeta *) gst_buffer_add_meta (in, test_meta_info (FALSE),
          NULL))->value = 7;
  if (tagged)
    gst_buffer_add_meta (in, test_meta_info (TRUE), NULL);
  GST_BUFFER_FLAG_SET (in, GST_BUFFER_FLAG_DISCONT);
  GST_BUFFER_OFFSET (in) = 5;
  if (hold)
    gst_buffer_ref (in);
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless (out != NULL);
  *same_buffer = out == in;
  if (hold) {
    gst_buffer_extract (in, 0, back, sizeof (back));
    fail_unless (memcmp (back, x, sizeof (back)) == 0,
        "the element wrote into an input buffer someone else holds");
    gst_buffer_unref (in);
  }
  gst_harness_teardown (h);
  g_free (caps);
  return out;
}

static void
assert_same_output (GstBuffer * a, GstBuffer * b)
{
  float fa[20], fb[20];
  TestMeta *m;

  fail_unless_equals_uint64 (gst_buffer_get_size (a), sizeof (fa));
  fail_unless_equals_uint64 (gst_buffer_get_size (b), sizeof (fb));
  gst_buffer_extract (a, 0, fa, sizeof (fa));
  gst_buffer_extract (b, 0, fb, sizeof (fb));
  fail_unless (memcmp (fa, fb, sizeof (fa)) == 0, "outputs differ");
  fail_unless_equals_uint64 (GST_BUFFER_PTS (a), GST_BUFFER_PTS (b));
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (a),
      GST_BUFFER_DURATION (b));
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (a), GST_BUFFER_OFFSET (b));
  fail_unless (GST_BUFFER_FLAG_IS_SET (a, GST_BUFFER_FLAG_DISCONT)
      && GST_BUFFER_FLAG_IS_SET (b, GST_BUFFER_FLAG_DISCONT));
  m = (TestMeta *) gst_buffer_get_meta (a, test_meta_info (FALSE)->api);
  fail_unless (m != NULL && m->value == 7, "plain meta lost");
  m = (TestMeta *) gst_buffer_get_meta (b, test_meta_info (FALSE)->api);
  fail_unless (m != NULL && m->value == 7, "plain meta lost");
  fail_unless (gst_buffer_get_meta (a, test_meta_info (TRUE)->api) == NULL
      && gst_buffer_get_meta (b, test_meta_info (TRUE)->api) == NULL,
      "a tagged meta reached the output");
}

/* An input buffer nobody else holds carries its own output (in place); one
 * held elsewhere, or carrying a meta the output must not have, gets a new
 * buffer. All give the same output: data, timestamps, offset, flags and
 * metas. */
GST_START_TEST (test_output_buffer)
{
  gboolean same;
  GstBuffer *in_place, *held, *tagged;

  in_place = push_with_metas (FALSE, FALSE, &same);
  fail_unless (same, "a writable input of the output's size was not reused");
  held = push_with_metas (FALSE, TRUE, &same);
  fail_if (same, "a held input buffer was written");
  tagged = push_with_metas (TRUE, FALSE, &same);
  fail_if (same, "an input with a tagged meta was reused");
  assert_same_output (in_place, held);
  assert_same_output (in_place, tagged);

  /* a writable buffer whose floats start at an odd address: in place too,
   * the same output */
  {
    const float *x = hu_expect ("fc_lstm.x", NULL);
    gchar *caps = hu_audio_caps (2);
    GstHarness *h = hu_harness ("lstmforecast", "fc_lstm.safetensors", "",
        caps);
    guint8 *raw = g_malloc (20 * sizeof (float) + 1);
    GstBuffer *in, *out;
    float want[20], got[20];

    memcpy (raw + 1, x, 20 * sizeof (float));
    in = gst_buffer_new_wrapped_full (0, raw, 20 * sizeof (float) + 1, 1,
        20 * sizeof (float), raw, g_free);
    GST_BUFFER_PTS (in) = GST_BUFFER_PTS (in_place);
    GST_BUFFER_DURATION (in) = GST_BUFFER_DURATION (in_place);
    fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
    out = gst_harness_pull (h);
    fail_unless (out == in, "a writable unaligned input was not reused");
    gst_buffer_extract (in_place, 0, want, sizeof (want));
    gst_buffer_extract (out, 0, got, sizeof (got));
    fail_unless (memcmp (want, got, sizeof (got)) == 0,
        "unaligned in place: outputs differ");
    gst_buffer_unref (out);
    gst_harness_teardown (h);
    g_free (caps);
  }
  gst_buffer_unref (in_place);
  gst_buffer_unref (held);
  gst_buffer_unref (tagged);
}

GST_END_TEST;

/* A buffer that is not a whole number of frames: dropped with a warning,
 * and the state is reset. */
GST_START_TEST (test_partial_frame_buffer)
{
  const float *x = hu_expect ("fc_lstm.x", NULL);
  float got[HALF * 2], fresh[HALF * 2];
  static const guint seven[] = { 7 };
  gchar *caps = hu_audio_caps (2);
  GstBus *bus;
  GstHarness *h;
  GstBuffer *b;
  GstMessage *m;

  h = hu_harness_bus ("lstmforecast", "fc_lstm.safetensors", "", caps, &bus);
  hu_run (h, x, 2, 0, HALF, seven, 1, 2, 1, NULL);
  b = gst_buffer_new_allocate (NULL, 12, NULL);
  gst_buffer_memset (b, 0, 0, 12);
  fail_unless_equals_int (gst_harness_push (h, b), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  m = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (m != NULL, "no warning for a partial frame");
  gst_message_unref (m);
  hu_run (h, x, 2, HALF, T, seven, 1, 2, 1, got);

  hu_run_fresh ("lstmforecast", "fc_lstm.safetensors", "", caps, x, 2,
      HALF, T, seven, 1, 2, 1, fresh);
  hu_assert_same (got, fresh, HALF * 2, "after partial frame");

  hu_release_bus (h, bus);
  gst_harness_teardown (h);
  g_free (caps);
}

GST_END_TEST;

static GstPadProbeReturn
order_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user)
{
  GString *s = user;

  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER)
    g_string_append_c (s, 'B');
  else if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM
      && GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS)
    g_string_append_c (s, 'E');
  return GST_PAD_PROBE_OK;
}

GST_START_TEST (test_eos_after_output)
{
  const float *x = hu_expect ("fc_lstm.x", NULL);
  static const guint seven[] = { 7 };
  gchar *caps = hu_audio_caps (2);
  GstHarness *h = hu_harness ("lstmforecast", "fc_lstm.safetensors", "",
      caps);
  GString *order = g_string_new (NULL);
  GstEvent *ev;
  gboolean eos = FALSE;

  gst_pad_add_probe (h->sinkpad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, order_probe, order, NULL);
  hu_run (h, x, 2, 0, T, seven, 1, 2, 1, NULL);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  while ((ev = gst_harness_try_pull_event (h))) {
    eos |= GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
  }
  fail_unless (eos);
  /* 40 frames in chunks of 7: 6 buffers, then EOS */
  fail_unless_equals_string (order->str, "BBBBBBE");
  g_string_free (order, TRUE);
  gst_harness_teardown (h);
  g_free (caps);
}

GST_END_TEST;

GST_START_TEST (test_latency)
{
  gchar *caps = hu_audio_caps (2);
  GstHarness *h = hu_harness ("lstmforecast", "fc_lstm.safetensors",
      "horizon=3", caps);

  gst_harness_set_upstream_latency (h, 20 * GST_MSECOND);
  /* no latency of its own: upstream's figure */
  fail_unless_equals_uint64 (gst_harness_query_latency (h), 20 * GST_MSECOND);
  gst_harness_teardown (h);
  g_free (caps);
}

GST_END_TEST;

GST_START_TEST (test_messages)
{
  const float *x = hu_expect ("fc_lstm.x", NULL);
  const float *want = hu_expect ("fc_lstm.h3", NULL);
  static const guint seven[] = { 7 };
  gchar *caps = hu_audio_caps (2);
  GstElement *e = hu_element ("lstmforecast", "fc_lstm.safetensors",
      "horizon=3 post-messages=true");
  GstBus *bus = gst_bus_new ();
  GstHarness *h;
  GList *msgs, *l;
  guint f = 0;

  gst_element_set_bus (e, bus);
  h = hu_harness_with (e);
  gst_harness_set_src_caps_str (h, caps);
  hu_run (h, x, 2, 0, T, seven, 1, 2, 3, NULL);
  msgs = hu_element_messages (bus, "lstmforecast");
  fail_unless_equals_int (g_list_length (msgs), 6);
  for (l = msgs; l; l = l->next) {
    const GstStructure *s = gst_message_get_structure (l->data);
    guint64 ts, st, rt, dur;
    guint n = MIN (7, T - f), last = f + n - 1;
    const GValue *arr;
    float v[2];

    fail_unless (GST_MESSAGE_SRC (l->data) == GST_OBJECT (e));
    fail_unless (gst_structure_get_uint64 (s, "timestamp", &ts));
    fail_unless (gst_structure_get_uint64 (s, "stream-time", &st));
    fail_unless (gst_structure_get_uint64 (s, "running-time", &rt));
    fail_unless (gst_structure_get_uint64 (s, "duration", &dur));
    /* the last frame's, whose forecast the message carries: the time
     * forecast from input frame `last`, horizon 3 frames later */
    fail_unless_equals_uint64 (ts, hu_frame_time (last + 3));
    fail_unless_equals_uint64 (st, ts);
    fail_unless_equals_uint64 (rt, ts);
    fail_unless_equals_uint64 (dur, hu_frame_time (1) - hu_frame_time (0));
    arr = gst_structure_get_value (s, "forecast");
    fail_unless (arr != NULL && GST_VALUE_HOLDS_ARRAY (arr));
    fail_unless_equals_int (gst_value_array_get_size (arr), 2);
    v[0] = g_value_get_double (gst_value_array_get_value (arr, 0));
    v[1] = g_value_get_double (gst_value_array_get_value (arr, 1));
    hu_assert_close (v, want + last * 2, 2, "message forecast");
    f += n;
  }
  g_list_free_full (msgs, (GDestroyNotify) gst_message_unref);

  /* post-messages=false (the default): none */
  gst_harness_teardown (h);
  e = hu_element ("lstmforecast", "fc_lstm.safetensors", "");
  gst_element_set_bus (e, bus);
  h = hu_harness_with (e);
  gst_harness_set_src_caps_str (h, caps);
  hu_run (h, x, 2, 0, T, seven, 1, 2, 1, NULL);
  msgs = hu_element_messages (bus, "lstmforecast");
  fail_unless_equals_int (g_list_length (msgs), 0);
  gst_harness_teardown (h);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
  g_free (caps);
}

GST_END_TEST;

/* ------------------------------------------------------------- errors */

GST_START_TEST (test_caps_mismatch)
{
  gchar *model = hu_fixture ("fc_lstm.safetensors");
  gchar *d = g_strdup_printf ("audiotestsrc num-buffers=2 samplesperbuffer=4"
      " ! audio/x-raw,format=F32LE,rate=10,channels=3 ! lstmforecast "
      "model-file=%s ! fakesink", model);
  const gchar *n1[] = { "3 features", "needs 2", NULL };

  hu_expect_error (d, n1, FALSE);
  g_free (d);
  /* a flag-set 3:1 (fixated to 1:ffffffff) cannot be the model's 2:N */
  {
    GstElement *e = hu_element ("lstmforecast", "fc_lstm.safetensors", "");
    GstBus *bus = gst_bus_new ();
    GstHarness *h;
    GstCaps *c = gst_caps_from_string ("other/tensors,format=static,"
        "num_tensors=1,types=float32,dimensions=3:1,framerate=10/1");
    GstMessage *m;
    GError *err = NULL;
    gchar *dbg = NULL;

    gst_element_set_bus (e, bus);
    h = hu_harness_with (e);
    c = gst_caps_fixate (c);
    gst_harness_set_src_caps (h, c);
    fail_if (gst_harness_push (h, gst_buffer_new_allocate (NULL, 8, NULL))
        == GST_FLOW_OK);
    m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    fail_unless (m != NULL, "no error for flag-set dimensions 3:1");
    gst_message_parse_error (m, &err, &dbg);
    fail_unless (strstr (err->message, "needs 2") != NULL, "%s", err->message);
    fail_unless (strstr (err->message, "(string)F:N") != NULL, "%s",
        err->message);
    g_clear_error (&err);
    g_free (dbg);
    gst_message_unref (m);
    gst_element_set_bus (e, NULL);
    gst_bus_set_flushing (bus, TRUE);
    gst_object_unref (bus);
    gst_harness_teardown (h);
  }
  g_free (model);
}

GST_END_TEST;

GST_START_TEST (test_wrong_task)
{
  gchar *model = hu_fixture ("an_gru.safetensors");
  gchar *d = g_strdup_printf ("audiotestsrc num-buffers=1 ! lstmforecast "
      "model-file=%s ! fakesink", model);
  const gchar *n[] = { "an_gru.safetensors", "has task 'anomaly'",
    "lstmforecast needs 'forecast'", NULL
  };

  hu_expect_error (d, n, TRUE);
  g_free (d);
  g_free (model);
}

GST_END_TEST;

GST_START_TEST (test_missing_model)
{
  const gchar *d = "audiotestsrc num-buffers=1 ! lstmforecast "
      "model-file=/nonexistent/forecast-model.safetensors ! fakesink";
  const gchar *n[] = { "/nonexistent/forecast-model.safetensors",
    "not found", NULL
  };
  const gchar *d2 = "audiotestsrc num-buffers=1 ! lstmforecast ! fakesink";
  const gchar *n2[] = { "model-file", NULL };

  hu_expect_error (d, n, TRUE);
  hu_expect_error (d2, n2, FALSE);
}

GST_END_TEST;

GST_START_TEST (test_horizon_needs_square_model)
{
  gchar *model = hu_fixture ("fc_lstm2.safetensors");
  gchar *d = g_strdup_printf ("audiotestsrc num-buffers=1 ! lstmforecast "
      "model-file=%s horizon=2 ! fakesink", model);
  const gchar *n[] = { "horizon=2", "input size 3", "output size 1", NULL };

  hu_expect_error (d, n, FALSE);
  g_free (d);
  g_free (model);
}

GST_END_TEST;

/* ------------------------------------------------------------ per-channel */

#define UNI_C 4

/* Per-channel on 4 channels: PyTorch's forecasts of the channels run as a
 * batch of 4 univariate sequences, and the same floats as a single-channel
 * element on each channel alone. */
GST_START_TEST (test_per_channel_parity)
{
  const float *x = hu_expect ("uni.x", NULL);
  const float *want = hu_expect ("fc_uni.h1", NULL);
  float got[T * UNI_C];
  gchar *caps = hu_audio_caps (UNI_C);
  guint c;

  for (c = 0; c < G_N_ELEMENTS (chunkings); c++) {
    GstHarness *h = hu_harness ("lstmforecast", "fc_uni.safetensors",
        "per-channel=true", caps);
    gchar *what = g_strdup_printf ("per-channel chunks %u", chunkings[c][0]);

    hu_run (h, x, UNI_C, 0, T, chunkings[c], 4, UNI_C, 1, got);
    hu_assert_close (got, want, T * UNI_C, what);
    g_free (what);
    gst_harness_teardown (h);
  }
  hu_check_vs_single_channels ("lstmforecast", "fc_uni.safetensors", "", x,
      got, T, UNI_C, 1, NULL, 0);
  g_free (caps);
}

GST_END_TEST;

/* other/tensors C:N in, C:N out. */
GST_START_TEST (test_per_channel_tensors)
{
  const float *x = hu_expect ("uni.x", NULL);
  const float *want = hu_expect ("fc_uni.h1", NULL);
  float got[T * UNI_C];
  static const guint eight[] = { 8 };
  GstHarness *h = hu_harness ("lstmforecast", "fc_uni.safetensors",
      "per-channel=true", "other/tensors,format=static,num_tensors=1,"
      "types=float32,dimensions=(string)4:8,framerate=10/1");
  GstCaps *oc;
  const gchar *dims;

  hu_run (h, x, UNI_C, 0, T, eight, 1, UNI_C, 1, got);
  hu_assert_close (got, want, T * UNI_C, "per-channel tensors");
  oc = gst_pad_get_current_caps (h->sinkpad);
  dims = gst_structure_get_string (gst_caps_get_structure (oc, 0),
      "dimensions");
  fail_unless_equals_string (dims, "4:8");
  gst_caps_unref (oc);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* The reset signal resets every channel: the outputs after it are a fresh
 * element's. */
GST_START_TEST (test_per_channel_reset)
{
  const float *x = hu_expect ("uni.x", NULL);
  float got[T * UNI_C], fresh[T * UNI_C];
  gchar *caps = hu_audio_caps (UNI_C);
  double diff;

  hu_run_reset_and_fresh ("lstmforecast", "fc_uni.safetensors",
      "per-channel=true", caps, x, UNI_C, HALF, T, 7, UNI_C, 1, got, fresh);
  hu_assert_same (got + HALF * UNI_C, fresh, HALF * UNI_C,
      "per-channel after reset");
  /* the premise: a reset changes the forecasts measurably */
  diff = hu_max_abs_diff (fresh, hu_expect ("fc_uni.h1", NULL) + HALF * UNI_C,
      HALF * UNI_C);
  fail_unless (diff > 1e-3, "fresh and carried forecasts too close (%g)",
      diff);
  g_free (caps);
}

GST_END_TEST;

/* NaN in channel 2 at frame 20 and infinity in channel 0 at frame 30:
 * each channel gives exactly what a single-channel element gives on that
 * channel alone (NaN at the bad frame, then a fresh state); the other
 * channels are untouched (still PyTorch's uninterrupted forecasts). One
 * warning. */
GST_START_TEST (test_per_channel_nan)
{
  const float *x0 = hu_expect ("uni.x", NULL);
  float x[T * UNI_C], got[T * UNI_C];
  static const guint seven[] = { 7 };
  gchar *caps = hu_audio_caps (UNI_C);
  GstBus *bus;
  GstHarness *h;
  GstMessage *m;

  memcpy (x, x0, sizeof (x));
  x[HALF * UNI_C + 2] = NAN;
  x[30 * UNI_C + 0] = INFINITY;
  h = hu_harness_bus ("lstmforecast", "fc_uni.safetensors", "per-channel=true",
      caps, &bus);
  hu_run (h, x, UNI_C, 0, T, seven, 1, UNI_C, 1, got);
  fail_unless (isnan (got[HALF * UNI_C + 2]) && isnan (got[30 * UNI_C]));
  hu_check_vs_single_channels ("lstmforecast", "fc_uni.safetensors", "", x,
      got, T, UNI_C, 1, hu_expect ("fc_uni.h1", NULL), 1 << 0 | 1 << 2);

  m = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (m != NULL, "no warning for a NaN value");
  gst_message_unref (m);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING) == NULL,
      "more than one warning");
  hu_release_bus (h, bus);
  gst_harness_teardown (h);
  g_free (caps);
}

GST_END_TEST;

/* A multivariate model, a window or a horizon are refused with errors
 * naming the numbers; audio output caps keep the channel count. */
GST_START_TEST (test_per_channel_refused)
{
  gchar *m2 = hu_fixture ("fc_lstm.safetensors");
  gchar *m1 = hu_fixture ("fc_uni.safetensors");
  gchar *d = g_strdup_printf ("audiotestsrc num-buffers=1 ! audio/x-raw,"
      "format=F32LE,rate=10,channels=2 ! lstmforecast per-channel=true "
      "model-file=%s ! fakesink", m2);
  const gchar *n[] = { "per-channel=true", "input size 2", "output size 2",
    NULL
  };
  const gchar *nw[] = { "per-channel=true", "window is 3", "horizon 1",
    NULL
  };
  const gchar *nh[] = { "per-channel=true", "window is 0", "horizon 2",
    NULL
  };

  hu_expect_error (d, n, FALSE);
  g_free (d);
  d = g_strdup_printf ("audiotestsrc num-buffers=1 ! lstmforecast "
      "per-channel=true window=3 model-file=%s ! fakesink", m1);
  hu_expect_error (d, nw, FALSE);
  g_free (d);
  d = g_strdup_printf ("audiotestsrc num-buffers=1 ! lstmforecast "
      "per-channel=true horizon=2 model-file=%s ! fakesink", m1);
  hu_expect_error (d, nh, FALSE);
  g_free (d);
  g_free (m1);
  g_free (m2);
}

GST_END_TEST;

/* ------------------------------------------- model changes while running */

/* Pop the messages of @type from @bus that come from @e. */
static GList *
pop_messages (GstBus * bus, GstMessageType type)
{
  GList *l = NULL;
  GstMessage *m;

  while ((m = gst_bus_pop_filtered (bus, type)))
    l = g_list_append (l, m);
  return l;
}

/* The model-file detail of an INFO/WARNING message. */
static const gchar *
message_model_file (GstMessage * m)
{
  const GstStructure *d = NULL;

  if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_INFO)
    gst_message_parse_info_details (m, &d);
  else
    gst_message_parse_warning_details (m, &d);
  fail_unless (d != NULL, "no details");
  return gst_structure_get_string (d, "model-file");
}

/* Frames 0..19 with fc_lstm, then model-file=fc_gru2 while PLAYING: from
 * the next buffer on the outputs are those of a fresh element running
 * fc_gru2 (and PyTorch's for fc_gru2 from a zero state at frame 20), the
 * first one DISCONT, and one INFO names the file. */
GST_START_TEST (test_model_change_playing)
{
  const float *x = hu_expect ("fc_lstm.x", NULL);
  float got[HALF * 2], fresh[HALF * 2];
  static const guint seven[] = { 7 };
  gchar *caps = hu_audio_caps (2), *path = hu_fixture ("fc_gru2.safetensors");
  gchar *now = NULL;
  GstBus *bus;
  GstHarness *h;
  GstBuffer *o;
  GList *msgs;

  h = hu_harness_bus ("lstmforecast", "fc_lstm.safetensors", "", caps, &bus);
  hu_run (h, x, 2, 0, HALF, seven, 1, 2, 1, got);
  hu_assert_close (got, hu_expect ("fc_lstm.h1", NULL), HALF * 2,
      "before the change");

  g_object_set (h->element, "model-file", path, NULL);
  g_object_get (h->element, "model-file", &now, NULL);
  fail_unless_equals_string (now, path);
  g_free (now);
  /* nothing changes before the next buffer */
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_INFO) == NULL);

  fail_unless_equals_int (gst_harness_push (h, hu_buffer (x + HALF * 2, 7,
              2, HALF)), GST_FLOW_OK);
  o = gst_harness_pull (h);
  fail_unless (GST_BUFFER_FLAG_IS_SET (o, GST_BUFFER_FLAG_DISCONT),
      "first buffer after the change is not DISCONT");
  gst_buffer_extract (o, 0, got, 7 * 2 * 4);
  gst_buffer_unref (o);
  hu_run (h, x, 2, HALF + 7, T, seven, 1, 2, 1, got + 7 * 2);

  msgs = pop_messages (bus, GST_MESSAGE_INFO);
  fail_unless_equals_int (g_list_length (msgs), 1);
  fail_unless_equals_string (message_model_file (msgs->data), path);
  g_list_free_full (msgs, (GDestroyNotify) gst_message_unref);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING) == NULL);

  hu_run_fresh ("lstmforecast", "fc_gru2.safetensors", "", caps, x, 2, HALF, T,
      seven, 1, 2, 1, fresh);
  hu_assert_same (got, fresh, HALF * 2, "after the change vs fresh");

  hu_release_bus (h, bus);
  gst_harness_teardown (h);
  g_free (path);
  g_free (caps);
}

GST_END_TEST;

/* Files that cannot be used while PLAYING: one WARNING each naming the
 * file and the problem; the old model keeps running with its state (the
 * outputs stay PyTorch's carried forecasts) and model-file still reads it. */
GST_START_TEST (test_model_change_refused)
{
  const float *x = hu_expect ("fc_lstm.x", NULL);
  float got[T * 2];
  static const guint seven[] = { 7 };
  gchar *caps = hu_audio_caps (2), *old = hu_fixture ("fc_lstm.safetensors");
  gchar *f3 = hu_fixture ("fc_gru.safetensors");
  gchar *fa = hu_fixture ("an_gru.safetensors");
  gchar *fb = hu_fixture ("fc_bilstm.safetensors");
  const gchar *files[] = { "/nonexistent/model.safetensors", f3, fa, fb, "" };
  const gchar *needles[] = { "not", "3 features per frame", "task 'anomaly'",
    "bidirectional", "no model-file"
  };
  GstBus *bus;
  GstHarness *h;
  guint i;

  h = hu_harness_bus ("lstmforecast", "fc_lstm.safetensors", "", caps, &bus);
  hu_run (h, x, 2, 0, HALF, seven, 1, 2, 1, got);
  for (i = 0; i < G_N_ELEMENTS (files); i++) {
    GList *msgs;
    GError *err = NULL;
    gchar *now = NULL;

    g_object_set (h->element, "model-file", files[i], NULL);
    msgs = pop_messages (bus, GST_MESSAGE_WARNING);
    fail_unless_equals_int (g_list_length (msgs), 1);
    gst_message_parse_warning (msgs->data, &err, NULL);
    fail_unless (strstr (err->message, needles[i]) != NULL
        && strstr (err->message, "Still using") != NULL
        && strstr (err->message, old) != NULL, "'%s' for %s", err->message,
        files[i]);
    fail_unless_equals_string (message_model_file (msgs->data), files[i]);
    g_clear_error (&err);
    g_list_free_full (msgs, (GDestroyNotify) gst_message_unref);
    g_object_get (h->element, "model-file", &now, NULL);
    fail_unless_equals_string (now, old);
    g_free (now);
  }
  hu_run (h, x, 2, HALF, T, seven, 1, 2, 1, got + HALF * 2);
  hu_assert_close (got, hu_expect ("fc_lstm.h1", NULL), T * 2,
      "old model kept");
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_INFO) == NULL);

  hu_release_bus (h, bus);
  gst_harness_teardown (h);
  g_free (old);
  g_free (f3);
  g_free (fa);
  g_free (fb);
  g_free (caps);
}

GST_END_TEST;

typedef struct
{
  GstElement *e;
  gchar *files[3];
  gint stop;
  guint sets;
} Swapper;

static gpointer
swapper_thread (gpointer data)
{
  Swapper *sw = data;

  while (!g_atomic_int_get (&sw->stop)) {
    g_object_set (sw->e, "model-file", sw->files[sw->sets % 3], NULL);
    sw->sets++;
    g_usleep (200);
  }
  return NULL;
}

/* A thread switching between two models (and a bad file) every 200 us
 * while buffers flow: no crash, every output frame is one of the two
 * models' forecasts after some reset, i.e. finite, and the sizes hold. */
GST_START_TEST (test_model_change_threaded)
{
  const float *x = hu_expect ("fc_lstm.x", NULL);
  gchar *caps = hu_audio_caps (2);
  Swapper sw = { 0 };
  GstHarness *h;
  GThread *th;
  guint i, n = 1500, infos = 0, warnings = 0;
  gchar *now = NULL;
  GstBus *bus = gst_bus_new ();
  GstMessage *m;

  sw.e = hu_element ("lstmforecast", "fc_lstm.safetensors", "");
  sw.files[0] = hu_fixture ("fc_gru2.safetensors");
  sw.files[1] = hu_fixture ("fc_gru.safetensors");     /* refused: 3 in */
  sw.files[2] = hu_fixture ("fc_lstm.safetensors");
  gst_element_set_bus (sw.e, bus);
  h = hu_harness_with (sw.e);
  gst_harness_set_src_caps_str (h, caps);
  th = g_thread_new ("swapper", swapper_thread, &sw);
  for (i = 0; i < n; i++) {
    float y[2 * 2];
    guint f = i % (T - 2);

    fail_unless_equals_int (gst_harness_push (h, hu_buffer (x + f * 2, 2, 2,
                i * 2)), GST_FLOW_OK);
    hu_pull_check (h, 2, 2, i * 2, 1, y);
    fail_unless (isfinite (y[0]) && isfinite (y[1]) && isfinite (y[2])
        && isfinite (y[3]), "buffer %u not finite", i);
    /* count the switches and refusals, draining the bus */
    while ((m = gst_bus_pop (bus))) {
      infos += GST_MESSAGE_TYPE (m) == GST_MESSAGE_INFO;
      warnings += GST_MESSAGE_TYPE (m) == GST_MESSAGE_WARNING;
      gst_message_unref (m);
    }
  }
  g_atomic_int_set (&sw.stop, 1);
  g_thread_join (th);
  fail_unless (sw.sets > 10, "only %u sets", sw.sets);
  fail_unless (infos >= 2 && warnings >= 1, "%u switches, %u refusals for "
      "%u sets", infos, warnings, sw.sets);
  GST_INFO ("%u sets: %u switches, %u refusals", sw.sets, infos, warnings);
  gst_element_set_bus (sw.e, NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
  g_object_get (sw.e, "model-file", &now, NULL);
  fail_unless (g_str_equal (now, sw.files[0])
      || g_str_equal (now, sw.files[2]), "model-file %s", now);
  g_free (now);
  gst_harness_teardown (h);
  for (i = 0; i < 3; i++)
    g_free (sw.files[i]);
  g_free (caps);
}

GST_END_TEST;

static Suite *
lstmforecast_suite (void)
{
  Suite *s = suite_create ("lstmforecast");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_defaults);
  tcase_add_test (tc, test_horizon1);
  tcase_add_test (tc, test_horizon3);
  tcase_add_test (tc, test_window_property);
  tcase_add_test (tc, test_precision);
  tcase_add_test (tc, test_window_from_model);
  tcase_add_test (tc, test_bidirectional_window);
  tcase_add_test (tc, test_tensors_string_dims);
  tcase_add_test (tc, test_tensors_flagset_dims);
  tcase_add_test (tc, test_audio_output_caps);
  tcase_add_loop_test (tc, test_reset_triggers, 0,
      G_N_ELEMENTS (triggers));
  tcase_add_test (tc, test_gap_forwarded);
  tcase_add_test (tc, test_nan_frame);
  tcase_add_test (tc, test_output_buffer);
  tcase_add_test (tc, test_partial_frame_buffer);
  tcase_add_test (tc, test_eos_after_output);
  tcase_add_test (tc, test_latency);
  tcase_add_test (tc, test_messages);
  tcase_add_test (tc, test_caps_mismatch);
  tcase_add_test (tc, test_wrong_task);
  tcase_add_test (tc, test_missing_model);
  tcase_add_test (tc, test_horizon_needs_square_model);
  tcase_add_test (tc, test_per_channel_parity);
  tcase_add_test (tc, test_per_channel_tensors);
  tcase_add_test (tc, test_per_channel_reset);
  tcase_add_test (tc, test_per_channel_nan);
  tcase_add_test (tc, test_per_channel_refused);
  tcase_add_test (tc, test_model_change_playing);
  tcase_add_test (tc, test_model_change_refused);
  tcase_add_test (tc, test_model_change_threaded);
  return s;
}

int
main (int argc, char **argv)
{
  SRunner *sr;
  int failed;

  gst_check_init (&argc, &argv);
  sr = srunner_create (lstmforecast_suite ());
  /* no fork: the parity figure below is gathered across tests */
  srunner_set_fork_status (sr, CK_NOFORK);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  printf ("lstmforecast: largest error vs PyTorch %.3g (tolerance %g abs + "
      "%g rel)\n", hu_max_err, HU_ATOL, HU_RTOL);
  return failed == 0 ? 0 : 1;
}
