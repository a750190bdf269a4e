/* The signal caps grammar (elements/gstrnnsignalcaps.c) as pure functions,
 * and the channel negotiation it gives the signal elements in a pipeline.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness-util.h"
#include "gstrnnsignalcaps.h"

static GstRnnSignalCaps
parse_ok (const gchar * caps_str)
{
  GstCaps *caps = gst_caps_from_string (caps_str);
  GstRnnSignalCaps sc;
  gchar *why = NULL;

  fail_unless (caps != NULL, "%s", caps_str);
  fail_unless (gst_rnn_signal_caps_parse (gst_caps_get_structure (caps, 0),
          &sc, &why), "%s: %s", caps_str, why);
  gst_caps_unref (caps);
  return sc;
}

static void
parse_bad (const gchar * caps_str, const gchar * part)
{
  GstCaps *caps = gst_caps_from_string (caps_str);
  GstRnnSignalCaps sc;
  gchar *why = NULL;

  fail_unless (caps != NULL, "%s", caps_str);
  fail_if (gst_rnn_signal_caps_parse (gst_caps_get_structure (caps, 0), &sc,
          &why), "%s parsed", caps_str);
  fail_unless (why && strstr (why, part), "%s: '%s' lacks '%s'", caps_str,
      why, part);
  g_free (why);
  gst_caps_unref (caps);
}

GST_START_TEST (test_parse)
{
  GstRnnSignalCaps sc;
  guint f = 0, n = 0;

  sc = parse_ok ("audio/x-raw, format=F32LE, layout=interleaved, rate=16000, "
      "channels=3");
  fail_unless (!sc.tensors && sc.features == 3 && sc.rate_n == 16000
      && sc.rate_d == 1);
  sc = parse_ok ("other/tensors, format=static, num_tensors=1, "
      "types=float32, dimensions=(string)12:8, framerate=1/5");
  fail_unless (sc.tensors && !sc.flagset && sc.features == 12
      && sc.frames == 8 && sc.rate_n == 1 && sc.rate_d == 5);
  sc = parse_ok ("other/tensors, dimensions=(int)4, framerate=10/1");
  fail_unless (sc.features == 4 && sc.frames == 1);
  /* unquoted 3:1 is a flag-set: flags 3 masked by 1 */
  sc = parse_ok ("other/tensors, dimensions=3:1, framerate=10/1");
  fail_unless (sc.flagset && sc.features == 0 && sc.flags == 1
      && sc.mask == 1 && sc.frames == 1);
  fail_unless (gst_rnn_signal_caps_flagset_fits (&sc, 3));
  fail_unless (gst_rnn_signal_caps_flagset_fits (&sc, 1));
  fail_if (gst_rnn_signal_caps_flagset_fits (&sc, 2));

  parse_bad ("audio/x-raw, rate=10", "channels and rate");
  parse_bad ("other/tensors, dimensions=(string)3:1", "framerate");
  parse_bad ("other/tensors, framerate=1/1", "without dimensions");
  parse_bad ("other/tensors, dimensions=(string)0:1, framerate=1/1",
      "are not F:N");
  parse_bad ("video/x-raw", "unsupported");

  fail_unless (gst_rnn_signal_caps_parse_dims ("5", &f, &n) && f == 5
      && n == 1);
  fail_unless (gst_rnn_signal_caps_parse_dims ("5:7:1:1", &f, &n) && f == 5
      && n == 7);
  fail_if (gst_rnn_signal_caps_parse_dims ("5:7:2", &f, &n));
  fail_if (gst_rnn_signal_caps_parse_dims ("a:1", &f, &n));
  fail_if (gst_rnn_signal_caps_parse_dims ("", &f, &n));
}

GST_END_TEST;

static gchar *
transform (GstPadDirection dir, const gchar * caps_str, guint in, guint out,
    gboolean per_channel)
{
  GstCaps *caps = gst_caps_from_string (caps_str);
  GstCaps *res = gst_rnn_signal_caps_transform (dir, caps, in, out,
      per_channel);
  gchar *s = gst_caps_to_string (res);

  gst_caps_unref (caps);
  gst_caps_unref (res);
  return s;
}

GST_START_TEST (test_transform)
{
  gchar *s;
  GstCaps *c, *want;

  /* src -> sink with a 2-input model: only 2 channels, no range besides */
  s = transform (GST_PAD_SRC, "audio/x-raw, format=F32LE, "
      "layout=interleaved, rate=10, channels=1", 2, 1, FALSE);
  c = gst_caps_from_string (s);
  want = gst_caps_from_string ("audio/x-raw, format=F32LE, "
      "layout=interleaved, rate=10, channels=2");
  fail_unless (gst_caps_is_equal (c, want), "%s", s);
  gst_caps_unref (c);
  gst_caps_unref (want);
  g_free (s);

  /* sink -> src: the output count, channel-mask 0 for more than one */
  s = transform (GST_PAD_SINK, "audio/x-raw, format=F32LE, "
      "layout=interleaved, rate=10, channels=2", 2, 3, FALSE);
  fail_unless (strstr (s, "channels=(int)3") && strstr (s, "channel-mask"),
      "%s", s);
  g_free (s);

  /* no model: any count */
  s = transform (GST_PAD_SRC, "audio/x-raw, rate=10, channels=1", 0, 0,
      FALSE);
  fail_unless (strstr (s, "channels=(int)[ 1, 2147483647 ]"), "%s", s);
  g_free (s);

  /* per-channel: as they are */
  s = transform (GST_PAD_SRC, "audio/x-raw, rate=10, channels=4", 1, 1, TRUE);
  fail_unless (strstr (s, "channels=(int)4"), "%s", s);
  g_free (s);

  /* tensors sink -> src: F replaced, N kept, the flag-set form offered too */
  s = transform (GST_PAD_SINK, "other/tensors, dimensions=(string)2:8, "
      "framerate=10/1", 2, 1, FALSE);
  fail_unless (strstr (s, "dimensions=(string)1:8"), "%s", s);
  fail_unless (strstr (s, "(flagset)"), "%s", s);
  g_free (s);
}

GST_END_TEST;

GST_START_TEST (test_refused_channels)
{
  GstCaps *empty = gst_caps_new_empty ();
  GstCaps *some = gst_caps_from_string ("audio/x-raw, channels=2");
  GstCaps *f5 = gst_caps_from_string ("audio/x-raw, format=F32LE, "
      "layout=interleaved, rate=10, channels=5");
  GstCaps *s16 = gst_caps_from_string ("audio/x-raw, format=S16LE, "
      "layout=interleaved, rate=10, channels=5");
  gchar *got;

  got = gst_rnn_signal_caps_refused_channels (f5, empty);
  fail_unless_equals_string (got, "5");
  g_free (got);
  /* an answer, or another format: not a channel problem */
  fail_unless (gst_rnn_signal_caps_refused_channels (f5, some) == NULL);
  fail_unless (gst_rnn_signal_caps_refused_channels (s16, empty) == NULL);
  fail_unless (gst_rnn_signal_caps_refused_channels (NULL, empty) == NULL);
  gst_caps_unref (empty);
  gst_caps_unref (some);
  gst_caps_unref (f5);
  gst_caps_unref (s16);
}

GST_END_TEST;

/* A mono source through audioconvert into a 2-input model: the element
 * offers only 2 channels, so audioconvert makes 2 and the pipeline runs. */
GST_START_TEST (test_converter_adapts)
{
  gchar *model = hu_fixture ("an_gru.safetensors");
  gchar *desc = g_strdup_printf ("audiotestsrc num-buffers=3 "
      "samplesperbuffer=16 ! audio/x-raw,channels=1 ! audioconvert ! "
      "gruanomaly name=el model-file=\"%s\" ! fakesink", model);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *el;
  GstBus *bus;
  GstMessage *m;
  GstPad *pad;
  GstCaps *caps;
  gint ch = 0;

  fail_unless (p != NULL);
  el = gst_bin_get_by_name (GST_BIN (p), "el");
  bus = gst_element_get_bus (p);
  gst_element_set_state (p, GST_STATE_PLAYING);
  m = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND,
      GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  fail_unless (m != NULL);
  if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
    GError *e = NULL;
    gst_message_parse_error (m, &e, NULL);
    fail ("error: %s", e->message);
  }
  gst_message_unref (m);
  pad = gst_element_get_static_pad (el, "sink");
  caps = gst_pad_get_current_caps (pad);
  fail_unless (caps != NULL);
  fail_unless (gst_structure_get_int (gst_caps_get_structure (caps, 0),
          "channels", &ch));
  fail_unless_equals_int (ch, 2);
  gst_caps_unref (caps);
  gst_object_unref (pad);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (el);
  gst_object_unref (p);
  g_free (desc);
  g_free (model);
}

GST_END_TEST;

/* Caps forced upstream with another count still fail with an error that
 * names both numbers. */
GST_START_TEST (test_forced_count_error)
{
  gchar *model = hu_fixture ("an_gru.safetensors");
  gchar *desc = g_strdup_printf ("audiotestsrc num-buffers=2 "
      "samplesperbuffer=4 ! audio/x-raw,format=F32LE,rate=10,channels=3 ! "
      "gruanomaly model-file=\"%s\" ! fakesink", model);
  const gchar *n[] = { "3 features", "needs 2", NULL };

  hu_expect_error (desc, n, FALSE);
  g_free (desc);
  g_free (model);
}

GST_END_TEST;

/* The frame period is the buffers' (timestamps are the truth): a 0.2 Hz
 * sensor comes with a nominal audio rate of 1, and lstmforecast's output
 * time (input + horizon frames) is 5 s later, not 1 s. */
GST_START_TEST (test_frame_period_from_buffers)
{
  GstHarness *h = hu_harness ("lstmforecast", "fc_uni.safetensors", NULL,
      "audio/x-raw, format=F32LE, layout=interleaved, rate=1, channels=1");
  const gfloat x[] = { 0.5f, 0.25f };
  GstBuffer *b = gst_buffer_new_memdup (x, sizeof x), *out;

  GST_BUFFER_PTS (b) = 100 * GST_SECOND;
  GST_BUFFER_DURATION (b) = 10 * GST_SECOND;    /* two frames, 5 s each */
  fail_unless_equals_int (gst_harness_push (h, b), GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 105 * GST_SECOND);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
signalcaps_suite (void)
{
  Suite *s = suite_create ("signalcaps");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_parse);
  tcase_add_test (tc, test_transform);
  tcase_add_test (tc, test_refused_channels);
  tcase_add_test (tc, test_converter_adapts);
  tcase_add_test (tc, test_forced_count_error);
  tcase_add_test (tc, test_frame_period_from_buffers);
  return s;
}

GST_CHECK_MAIN (signalcaps);
