/* gst-rnn: what the elements tell the user. Error messages carry their
 * cause in the message itself (applications often show only that, not the
 * debug string): a file that is not safetensors (torch.save), a missing
 * file, a model of another task (naming the element to use), a feature
 * count that does not match (suggesting csvparse columns= from the model's
 * input.names); and lstmforecast says when it uses a window stored in the
 * model.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness-util.h"

#include <glib/gstdio.h>

static gchar *tmpdir;

/* The error message alone (hu_pipeline_error gives "message | debug"). */
static gchar *
error_message (const gchar * desc)
{
  gchar *both = hu_pipeline_error (desc, NULL), *bar;

  fail_unless (both != NULL, "no error from: %s", desc);
  bar = strstr (both, " | ");
  if (bar)
    *bar = '\0';
  return both;
}

/* Fails unless the error MESSAGE of @desc holds every string of @needles. */
static void
expect_message (const gchar * desc, const gchar * const *needles)
{
  gchar *msg = error_message (desc);

  hu_assert_mentions (msg, needles);
  g_free (msg);
}

/* A copy of fixture @fixture (under RNN_FIXTURES) with metadata @key set to
 * @value (NULL: removed), saved in the temporary directory as @name. */
static gchar *
model_with_meta (const gchar * fixture, const gchar * key,
    const gchar * value, const gchar * name)
{
  gchar *src = g_build_filename (g_getenv ("RNN_FIXTURES"), fixture, NULL);
  gchar *dst = g_build_filename (tmpdir, name, NULL);
  rnn_model *m = NULL;
  rnn_error err;

  fail_unless (rnn_model_load (src, &m, &err) == RNN_OK, "%s", err.msg);
  fail_unless (rnn_model_set_meta (m, key, value, &err) == RNN_OK, "%s",
      err.msg);
  fail_unless (rnn_model_save (m, dst, &err) == RNN_OK, "%s", err.msg);
  rnn_model_free (m);
  g_free (src);
  return dst;
}

GST_START_TEST (test_torch_save_file)
{
  static const gchar *files[][2] = {
    {"torch_save_zip.pt", "zip"},
    {"torch_save_pickle.pt", "PyTorch pickle"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (files); i++) {
    gchar *path = g_build_filename (g_getenv ("RNN_FIXTURES"), "bad",
        files[i][0], NULL);
    gchar *d = g_strdup_printf ("audiotestsrc num-buffers=1 ! lstmforecast "
        "model-file=%s ! fakesink", path);
    const gchar *n[] = { path, "not a safetensors file", files[i][1],
      "torch.save", NULL
    };

    expect_message (d, n);
    g_free (d);
    g_free (path);
  }
}

GST_END_TEST;

GST_START_TEST (test_missing_file)
{
  const gchar *n[] = { "/nonexistent/m.safetensors", "no such file", NULL };
  const gchar *n2[] = { "No model file set", "model-file", NULL };

  expect_message ("audiotestsrc num-buffers=1 ! gruanomaly "
      "model-file=/nonexistent/m.safetensors ! fakesink", n);
  expect_message ("audiotestsrc num-buffers=1 ! gruanomaly ! fakesink", n2);
}

GST_END_TEST;

/* A malformed model: the loader's reason (tensor, expected, found) is in
 * the message, not only in the debug string. */
GST_START_TEST (test_invalid_model_cause)
{
  gchar *path = g_build_filename (g_getenv ("RNN_FIXTURES"), "bad",
      "gate_rows.safetensors", NULL);
  gchar *d = g_strdup_printf ("audiotestsrc num-buffers=1 ! lstmforecast "
      "model-file=%s ! fakesink", path);
  const gchar *n[] = { "Invalid model file", path, "lstm.weight_ih_l0",
    "[24,3]", NULL
  };

  expect_message (d, n);
  g_free (d);
  g_free (path);
}

GST_END_TEST;

/* Another task's model names the element made for it. */
GST_START_TEST (test_wrong_task_names_element)
{
  static const struct
  {
    const gchar *element, *fixture, *task, *use;
  } cases[] = {
    {"lstmforecast", "elements/an_gru.safetensors", NULL, "use gruanomaly"},
    {"gruanomaly", "elements/fc_gru.safetensors", NULL, "use lstmforecast"},
    {"textsentiment", "text/lstm2.safetensors", "tag", "use texttagger"},
    {"gruanomaly", "text/lstm2.safetensors", NULL, "use textsentiment"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    gchar *path = cases[i].task ? model_with_meta (cases[i].fixture, "task",
        cases[i].task, "task.safetensors") :
        g_build_filename (g_getenv ("RNN_FIXTURES"), cases[i].fixture, NULL);
    gchar *d = g_strdup_printf ("%s ! %s model-file=%s ! fakesink",
        g_str_equal (cases[i].element, "textsentiment") ?
        "fakesrc num-buffers=0" : "audiotestsrc num-buffers=1",
        cases[i].element, path);
    const gchar *n[] = { path, cases[i].use, NULL };

    expect_message (d, n);
    g_free (d);
    g_free (path);
  }
}

GST_END_TEST;

/* Two columns into a one-feature model whose input.names says which one it
 * wants: the message suggests columns=. */
GST_START_TEST (test_feature_mismatch_suggests_columns)
{
  gchar *model = model_with_meta ("elements/fc_uni.safetensors",
      "input.names", "[\"level\"]", "named.safetensors");
  gchar *d = g_strdup_printf ("audiotestsrc num-buffers=1 ! "
      "audio/x-raw,format=F32LE,channels=2,rate=10 ! lstmforecast "
      "model-file=%s ! fakesink", model);
  const gchar *n[] = { "2 features", "needs 1", "columns=level", NULL };
  gchar *plain, *d2;

  expect_message (d, n);
  g_free (d);
  g_free (model);

  /* without input.names: the numbers, and no made-up suggestion */
  plain = g_build_filename (g_getenv ("RNN_FIXTURES"), "elements",
      "fc_uni.safetensors", NULL);
  d2 = g_strdup_printf ("audiotestsrc num-buffers=1 ! "
      "audio/x-raw,format=F32LE,channels=2,rate=10 ! lstmforecast "
      "model-file=%s ! fakesink", plain);
  {
    gchar *msg = error_message (d2);

    fail_unless (strstr (msg, "needs 1") != NULL, "%s", msg);
    fail_unless (strstr (msg, "columns=") == NULL, "%s", msg);
    g_free (msg);
  }
  g_free (d2);
  g_free (plain);
}

GST_END_TEST;

/* A window stored in the model is announced at start (INFO message with a
 * `window` detail) and read back from the property; one set by the user is
 * not announced. */
GST_START_TEST (test_model_window_announced)
{
  gchar *model = model_with_meta ("elements/fc_lstm.safetensors", "window",
      "5", "window5.safetensors");
  guint pass;

  for (pass = 0; pass < 2; pass++) {
    GstElement *e = gst_element_factory_make ("lstmforecast", NULL);
    GstBus *bus = gst_bus_new ();
    GstHarness *h;
    GstMessage *m;
    guint window = 0;

    g_object_set (e, "model-file", model, NULL);
    if (pass == 1)
      g_object_set (e, "window", 3, NULL);
    gst_element_set_bus (e, bus);
    h = hu_harness_with (e);
    gst_harness_set_src_caps_str (h, "audio/x-raw,format=F32LE,"
        "layout=interleaved,channels=2,rate=10");
    g_object_get (e, "window", &window, NULL);
    m = gst_bus_pop_filtered (bus, GST_MESSAGE_INFO);
    if (pass == 0) {
      GError *err = NULL;
      gchar *dbg = NULL;
      const GstStructure *details = NULL;
      guint w = 0;

      fail_unless_equals_int (window, 5);
      fail_unless (m != NULL, "no INFO message for the model's window");
      gst_message_parse_info (m, &err, &dbg);
      fail_unless (strstr (err->message, "window of 5 frames") != NULL,
          "%s", err->message);
      fail_unless (strstr (err->message, "window=0") != NULL, "%s",
          err->message);
      gst_message_parse_info_details (m, &details);
      fail_unless (details != NULL
          && gst_structure_get_uint (details, "window", &w) && w == 5);
      g_clear_error (&err);
      g_free (dbg);
    } else {
      fail_unless_equals_int (window, 3);
      fail_unless (m == NULL, "INFO message for a window the user set");
    }
    if (m)
      gst_message_unref (m);
    gst_element_set_bus (e, NULL);
    gst_bus_set_flushing (bus, TRUE);
    gst_object_unref (bus);
    gst_harness_teardown (h);
  }
  g_free (model);
}

GST_END_TEST;

static Suite *
wording_suite (void)
{
  Suite *s = suite_create ("wording");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_torch_save_file);
  tcase_add_test (tc, test_missing_file);
  tcase_add_test (tc, test_invalid_model_cause);
  tcase_add_test (tc, test_wrong_task_names_element);
  tcase_add_test (tc, test_feature_mismatch_suggests_columns);
  tcase_add_test (tc, test_model_window_announced);
  return s;
}

int
main (int argc, char **argv)
{
  SRunner *sr;
  int failed;

  gst_check_init (&argc, &argv);
  tmpdir = g_dir_make_tmp ("rnn-wording-XXXXXX", NULL);
  g_assert (tmpdir != NULL);
  sr = srunner_create (wording_suite ());
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  {
    const gchar *names[] = { "task.safetensors", "named.safetensors",
      "window5.safetensors", NULL
    };
    for (guint i = 0; names[i]; i++) {
      gchar *p = g_build_filename (tmpdir, names[i], NULL);
      g_unlink (p);
      g_free (p);
    }
    g_rmdir (tmpdir);
    g_free (tmpdir);
  }
  return failed == 0 ? 0 : 1;
}
