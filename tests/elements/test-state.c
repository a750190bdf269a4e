/* gst-rnn: `state-file`, the per-stream state across restarts. A stream
 * stopped half-way (the element saves its state at stop) and continued by a
 * new element reading the file gives the same outputs, bit for bit, as one
 * element that saw the whole stream; a file from another model or another
 * element is refused with an error saying so.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness-util.h"

#include <glib/gstdio.h>

#define T 40
/* Stopped after HALF frames. A multiple of the 5-frame buffers, so that
 * both runs hand the engine the same calls: a different split of the frames
 * into calls changes the floats' rounding (input projections are computed
 * per call), and the comparison below is exact. */
#define HALF 20

static gchar *tmpdir;
static const guint chunk5[] = { 5 };

static gchar *
tmp_path (const gchar * name)
{
  return g_build_filename (tmpdir, name, NULL);
}

/* @factory on frames [start, end) of @x with "props" (and state-file=@state
 * unless NULL); the outputs of those frames go to @out. The harness
 * teardown stops the element, which writes the state file. */
static void
run_part (const gchar * factory, const gchar * model, const gchar * props,
    const gchar * state, const float *x, guint fin, guint fout, guint shift,
    guint start, guint end, float *out)
{
  GstElement *e = hu_element (factory, model, props);
  gchar *caps = hu_audio_caps (fin);
  GstHarness *h;

  if (state)
    g_object_set (e, "state-file", state, NULL);
  h = hu_harness_with (e);
  gst_harness_set_src_caps_str (h, caps);
  hu_run (h, x, fin, start, end, chunk5, 1, fout, shift, out);
  gst_harness_teardown (h);
  g_free (caps);
}

/* Whole stream in one element, versus stopped at @half and continued from
 * the state file; and, to show that the file is what carries it, versus
 * the second half from a zero state (which differs). @x holds @n frames. */
static void
round_trip (const gchar * factory, const gchar * model, const gchar * props,
    const float *x, guint n, guint half, guint fin, guint fout, guint shift)
{
  float *whole = g_new0 (float, n * fout), *parts = g_new0 (float, n * fout);
  float *fresh = g_new0 (float, n * fout);
  gchar *state = tmp_path ("round-trip.state");

  g_unlink (state);
  run_part (factory, model, props, NULL, x, fin, fout, shift, 0, n, whole);
  /* no file yet: starts from zero, and writes one at stop */
  run_part (factory, model, props, state, x, fin, fout, shift, 0, half,
      parts);
  fail_unless (g_file_test (state, G_FILE_TEST_EXISTS),
      "%s: no state file written at stop", factory);
  run_part (factory, model, props, state, x, fin, fout, shift, half, n,
      parts + half * fout);
  for (guint i = 0; i < n * fout; i++)
    fail_unless (memcmp (&parts[i], &whole[i], sizeof (float)) == 0,
        "%s %s: stopped and restored differs from never stopped at frame %u "
        "(%.9g, not %.9g)", factory, props, i / fout, parts[i], whole[i]);

  run_part (factory, model, props, NULL, x, fin, fout, shift, half, n,
      fresh + half * fout);
  fail_unless (memcmp (fresh + half * fout, whole + half * fout,
          sizeof (float) * (n - half) * fout) != 0,
      "%s %s: the second half does not depend on the state: the test "
      "proves nothing", factory, props);
  g_unlink (state);
  g_free (state);
  g_free (whole);
  g_free (parts);
  g_free (fresh);
}

static void
check_round_trip (const gchar * factory, const gchar * model,
    const gchar * props, const gchar * xname, guint fin, guint fout,
    guint shift)
{
  round_trip (factory, model, props, hu_expect (xname, NULL), T, HALF, fin,
      fout, shift);
}

GST_START_TEST (test_forecast_state)
{
  check_round_trip ("lstmforecast", "fc_lstm.safetensors", "", "fc_lstm.x",
      2, 2, 1);
  /* roll-forward from a copy of the restored state */
  check_round_trip ("lstmforecast", "fc_lstm.safetensors", "horizon=3",
      "fc_lstm.x", 2, 2, 3);
}

GST_END_TEST;

/* With a window the forecasts come from the window's frames, not from a
 * carried state: those are saved. */
GST_START_TEST (test_forecast_window_state)
{
  check_round_trip ("lstmforecast", "fc_lstm.safetensors", "window=6",
      "fc_lstm.x", 2, 2, 1);
}

GST_END_TEST;

/* gruanomaly: the state and the pending prediction (the first frame after
 * a restart is scored, not 0), and an anomaly in progress. */
GST_START_TEST (test_anomaly_state)
{
  check_round_trip ("gruanomaly", "an_gru.safetensors",
      "scoring=fixed post-messages=false", "an_gru.x", 2, 1, 0);
}

GST_END_TEST;

/* Adaptive scoring keeps more: the error history (its scores start after
 * 100 frames of it), the short mean, the range seen and an event's hold.
 * 400 frames of two waves, with a jump at frame 330, after the restart at
 * 200 (a fresh element there would still be learning). */
GST_START_TEST (test_anomaly_adaptive_state)
{
  enum { N = 400, RESTART = 200 };
  float *x = g_new (float, N * 2);
  guint nonzero = 0;

  for (guint i = 0; i < N; i++) {
    x[2 * i] = sinf (0.21f * (float) i) + (i >= 330 && i < 335 ? 4.0f : 0.0f);
    x[2 * i + 1] = 0.5f * cosf (0.13f * (float) i);
  }
  round_trip ("gruanomaly", "an_gru.safetensors",
      "scoring=adaptive warmup=4 hold=3 post-messages=false", x, N, RESTART,
      2, 1, 0);
  {
    /* and the scores compared there are not all zero */
    float *y = g_new0 (float, N);
    run_part ("gruanomaly", "an_gru.safetensors", "scoring=adaptive "
        "warmup=4 hold=3 post-messages=false", NULL, x, 2, 1, 0, 0, N, y);
    for (guint i = RESTART; i < N; i++)
      nonzero += y[i] != 0.0f;
    g_free (y);
  }
  fail_unless (nonzero > (N - RESTART) / 2, "adaptive scores after the "
      "restart: only %u of %u are not 0", nonzero, N - RESTART);
  g_free (x);
}

GST_END_TEST;

/* textsentiment with context=stream carries its state from text to text:
 * the probabilities of the texts after a restart from the file are those of
 * one element that saw every text. @out receives C floats per text. */
static const gchar *texts[] = { "what a lovely day", "the food was cold",
  "and the service slow", "but the view", "made up for it", "really",
};

static void
run_texts (const gchar * state, guint start, guint end, float *out)
{
  gchar *model = g_build_filename (g_getenv ("RNN_FIXTURES"), "text",
      "lstm2.safetensors", NULL);
  GstElement *e = gst_element_factory_make ("textsentiment", NULL);
  GstHarness *h;
  guint i;

  fail_unless (e != NULL);
  g_object_set (e, "model-file", model, "post-messages", FALSE, NULL);
  gst_util_set_object_arg (G_OBJECT (e), "context", "stream");
  if (state)
    g_object_set (e, "state-file", state, NULL);
  h = hu_harness_with (e);
  gst_harness_set_src_caps_str (h, "text/x-raw,format=utf8");
  gst_harness_set_sink_caps_str (h, "other/tensors,format=static,"
      "num_tensors=1,types=float32,dimensions=(string)2:1,framerate=0/1");
  for (i = start; i < end; i++) {
    GstBuffer *b = gst_buffer_new_memdup (texts[i], strlen (texts[i]));
    GstBuffer *o;

    GST_BUFFER_PTS (b) = i * GST_SECOND;
    GST_BUFFER_DURATION (b) = GST_SECOND;
    fail_unless_equals_int (gst_harness_push (h, b), GST_FLOW_OK);
    o = gst_harness_pull (h);
    fail_unless (o != NULL && gst_buffer_get_size (o) == 2 * sizeof (float));
    gst_buffer_extract (o, 0, out + 2 * (i - start), 2 * sizeof (float));
    gst_buffer_unref (o);
  }
  gst_harness_teardown (h);
  g_free (model);
}

GST_START_TEST (test_text_state)
{
  const guint n = G_N_ELEMENTS (texts), k = 3;
  float whole[2 * G_N_ELEMENTS (texts)], parts[2 * G_N_ELEMENTS (texts)];
  float fresh[2 * G_N_ELEMENTS (texts)];
  gchar *state = tmp_path ("text.state");

  g_unlink (state);
  run_texts (NULL, 0, n, whole);
  run_texts (state, 0, k, parts);
  fail_unless (g_file_test (state, G_FILE_TEST_EXISTS), "no state written");
  run_texts (state, k, n, parts + 2 * k);
  fail_unless (memcmp (parts, whole, sizeof (whole)) == 0,
      "textsentiment context=stream: restored differs from never stopped");
  run_texts (NULL, k, n, fresh + 2 * k);
  fail_unless (memcmp (fresh + 2 * k, whole + 2 * k,
          sizeof (float) * 2 * (n - k)) != 0,
      "the texts after the restart do not depend on the state");
  g_unlink (state);
  g_free (state);
}

GST_END_TEST;

/* The error of starting @factory on @model with state-file @state. */
static gchar *
start_error (const gchar * factory, const gchar * model, const gchar * state)
{
  gchar *path = g_build_filename (g_getenv ("RNN_FIXTURES"), "elements",
      model, NULL);
  gchar *d = g_strdup_printf ("audiotestsrc num-buffers=1 ! "
      "audio/x-raw,channels=2 ! %s model-file=%s state-file=%s ! fakesink",
      factory, path, state);
  gboolean ok = TRUE;
  gchar *err = hu_pipeline_error (d, &ok);

  fail_unless (!ok, "%s started with a state file it must refuse", factory);
  g_free (d);
  g_free (path);
  return err;
}

GST_START_TEST (test_refused_files)
{
  const float *x = hu_expect ("fc_lstm.x", NULL);
  gchar *state = tmp_path ("refused.state");
  gchar *other = tmp_path ("other.safetensors");
  gchar *src = hu_fixture ("fc_lstm.safetensors");
  gchar *err;
  rnn_model *m = NULL;
  rnn_error rerr;

  run_part ("lstmforecast", "fc_lstm.safetensors", "", state, x, 2, 2, 1, 0,
      HALF, NULL);

  /* the same network with other bytes (one more metadata entry) */
  fail_unless (rnn_model_load (src, &m, &rerr) == RNN_OK, "%s", rerr.msg);
  fail_unless (rnn_model_set_meta (m, "note", "retrained", &rerr) == RNN_OK);
  fail_unless (rnn_model_save (m, other, &rerr) == RNN_OK, "%s", rerr.msg);
  rnn_model_free (m);
  {
    gchar *d = g_strdup_printf ("audiotestsrc num-buffers=1 ! "
        "audio/x-raw,channels=2 ! lstmforecast model-file=%s state-file=%s "
        "! fakesink", other, state);
    gboolean ok = TRUE;

    err = hu_pipeline_error (d, &ok);
    fail_unless (!ok, "started with another model's state");
    fail_unless (err && strstr (err, "saved with another model") != NULL,
        "%s", err);
    fail_unless (strstr (err, "fc_lstm.safetensors") != NULL, "%s", err);
    g_free (err);
    g_free (d);
  }

  /* another element */
  err = start_error ("gruanomaly", "an_gru.safetensors", state);
  fail_unless (err && strstr (err, "written by lstmforecast, not "
          "gruanomaly") != NULL, "%s", err);
  g_free (err);

  /* not a state file: a model */
  err = start_error ("lstmforecast", "fc_lstm.safetensors", src);
  fail_unless (err && strstr (err, "not a gst-rnn state file") != NULL, "%s",
      err);
  g_free (err);

  /* the same model with another window: the sizes say so at the first
   * buffer */
  {
    GstElement *e = hu_element ("lstmforecast", "fc_lstm.safetensors",
        "window=6");
    GstBus *bus = gst_bus_new ();
    GstHarness *h;
    GstMessage *msg;
    GError *gerr = NULL;

    g_object_set (e, "state-file", state, NULL);
    gst_element_set_bus (e, bus);
    h = hu_harness_with (e);
    gst_harness_set_src_caps_str (h, "audio/x-raw,format=F32LE,"
        "layout=interleaved,channels=2,rate=10");
    fail_if (gst_harness_push (h, hu_buffer (x, 5, 2, 0)) == GST_FLOW_OK);
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    fail_unless (msg != NULL, "no error for a state of another window");
    gst_message_parse_error (msg, &gerr, NULL);
    fail_unless (strstr (gerr->message, "window-frames") != NULL, "%s",
        gerr->message);
    g_clear_error (&gerr);
    gst_message_unref (msg);
    gst_element_set_bus (e, NULL);
    gst_bus_set_flushing (bus, TRUE);
    gst_object_unref (bus);
    gst_harness_teardown (h);
  }

  g_unlink (state);
  g_unlink (other);
  g_free (state);
  g_free (other);
  g_free (src);
}

GST_END_TEST;

static Suite *
state_suite (void)
{
  Suite *s = suite_create ("state-file");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_forecast_state);
  tcase_add_test (tc, test_forecast_window_state);
  tcase_add_test (tc, test_anomaly_state);
  tcase_add_test (tc, test_anomaly_adaptive_state);
  tcase_add_test (tc, test_text_state);
  tcase_add_test (tc, test_refused_files);
  return s;
}

int
main (int argc, char **argv)
{
  SRunner *sr;
  int failed;

  gst_check_init (&argc, &argv);
  tmpdir = g_dir_make_tmp ("rnn-state-XXXXXX", NULL);
  g_assert (tmpdir != NULL);
  sr = srunner_create (state_suite ());
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  g_rmdir (tmpdir);
  g_free (tmpdir);
  return failed == 0 ? 0 : 1;
}
