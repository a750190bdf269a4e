/* gst-rnn: helpers shared by the signal element tests (header only, so the
 * per-element test executables need no extra source).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef RNN_HARNESS_UTIL_H
#define RNN_HARNESS_UTIL_H

#include <math.h>
#include <string.h>
#include <stdio.h>
#include <gst/gst.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "rnn.h"

#define HU_ATOL 1e-5
#define HU_RTOL 1e-4
#define HU_RATE 10              /* frames per second of the test streams */

/* Largest parity error seen against PyTorch, printed at the end. */
static double hu_max_err G_GNUC_UNUSED = 0.0;

static G_GNUC_UNUSED gchar *
hu_fixture (const gchar * name)
{
  const gchar *dir = g_getenv ("RNN_FIXTURES");

  fail_unless (dir != NULL, "RNN_FIXTURES is not set");
  return g_build_filename (dir, "elements", name, NULL);
}

/* The expected outputs written by gen_elements.py (loaded once). */
static G_GNUC_UNUSED const float *
hu_expect (const gchar * name, size_t * numel)
{
  static rnn_tensors *t = NULL;
  const rnn_tensor *e;

  if (t == NULL) {
    gchar *path = hu_fixture ("expect.safetensors");
    rnn_error err;

    fail_unless (rnn_tensors_load (path, &t, &err) == RNN_OK,
        "cannot load %s: %s", path, err.msg);
    g_free (path);
  }
  e = rnn_tensors_find (t, name);
  fail_unless (e != NULL, "fixture tensor %s missing", name);
  if (numel)
    *numel = e->numel;
  return e->data;
}

/* A new element with "k=v k=v" properties applied. */
static G_GNUC_UNUSED GstElement *
hu_element (const gchar * factory, const gchar * model, const gchar * props)
{
  GstElement *e = gst_element_factory_make (factory, NULL);

  fail_unless (e != NULL, "no element %s (GST_PLUGIN_PATH?)", factory);
  if (model) {
    gchar *path = hu_fixture (model);

    g_object_set (e, "model-file", path, NULL);
    g_free (path);
  }
  if (props && *props) {
    gchar **kv = g_strsplit (props, " ", -1);
    guint i;

    for (i = 0; kv[i]; i++) {
      gchar **p = g_strsplit (kv[i], "=", 2);

      if (p[0] && p[1])
        gst_util_set_object_arg (G_OBJECT (e), p[0], p[1]);
      g_strfreev (p);
    }
    g_strfreev (kv);
  }
  return e;
}

/* A harness around @e; the harness keeps the element alive until its
 * teardown. */
static G_GNUC_UNUSED GstHarness *
hu_harness_with (GstElement * e)
{
  GstHarness *h = gst_harness_new_with_element (e, "sink", "src");

  gst_object_unref (e);
  return h;
}

static G_GNUC_UNUSED GstHarness *
hu_harness (const gchar * factory, const gchar * model, const gchar * props,
    const gchar * caps)
{
  GstHarness *h;

  h = hu_harness_with (hu_element (factory, model, props));
  if (caps)
    gst_harness_set_src_caps_str (h, caps);
  return h;
}

static G_GNUC_UNUSED gchar *
hu_audio_caps (guint channels)
{
  if (channels > 1)
    return g_strdup_printf ("audio/x-raw,format=F32LE,layout=interleaved,"
        "rate=%d,channels=%u,channel-mask=(bitmask)0", HU_RATE, channels);
  return g_strdup_printf ("audio/x-raw,format=F32LE,layout=interleaved,"
      "rate=%d,channels=1", HU_RATE);
}

static G_GNUC_UNUSED GstClockTime
hu_frame_time (guint64 frame)
{
  return gst_util_uint64_scale (frame, GST_SECOND, HU_RATE);
}

static G_GNUC_UNUSED GstBuffer *
hu_buffer (const float *x, guint n, guint feat, guint64 first_frame)
{
  GstBuffer *b = gst_buffer_new_allocate (NULL, (gsize) n * feat * 4, NULL);

  if (n > 0)
    gst_buffer_fill (b, 0, x, (gsize) n * feat * 4);
  GST_BUFFER_PTS (b) = hu_frame_time (first_frame);
  GST_BUFFER_DURATION (b) = hu_frame_time (first_frame + n) -
      hu_frame_time (first_frame);
  return b;
}

/* Pull one output buffer for @n input frames starting at @first, check its
 * size and timestamps (PTS shifted by @shift frames), copy its floats to
 * @out. */
static G_GNUC_UNUSED void
hu_pull_check (GstHarness * h, guint n, guint out_feat, guint64 f0,
    guint shift, float *out)
{
  GstBuffer *o = gst_harness_pull (h);
  guint64 want_pts = hu_frame_time (f0 + shift);
  guint64 want_dur = hu_frame_time (f0 + n) - hu_frame_time (f0);
  guint64 want_size = (guint64) n * out_feat * 4;

  fail_unless (o != NULL, "no output buffer");
  fail_unless_equals_uint64 (gst_buffer_get_size (o), want_size);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (o), want_pts);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (o), want_dur);
  if (out)
    gst_buffer_extract (o, 0, out, (gsize) n * out_feat * 4);
  gst_buffer_unref (o);
}

/* Push frames [start, end) of @x in chunks cycling through @chunks, pulling
 * the output of each; output frames go to @out (frame start at out[0]). */
static G_GNUC_UNUSED void
hu_run (GstHarness * h, const float *x, guint feat, guint start, guint end,
    const guint * chunks, guint n_chunks, guint out_feat, guint shift,
    float *out)
{
  guint f = start, c = 0;

  while (f < end) {
    guint n = MIN (chunks[c % n_chunks], end - f);

    fail_unless_equals_int (gst_harness_push (h,
            hu_buffer (x + (gsize) f * feat, n, feat, f)), GST_FLOW_OK);
    hu_pull_check (h, n, out_feat, f, shift,
        out ? out + (gsize) (f - start) * out_feat : NULL);
    f += n;
    c++;
  }
}

/* |a-b| <= atol + rtol*|b| for all; tracks the largest absolute error. */
static G_GNUC_UNUSED void
hu_assert_close (const float *got, const float *want, size_t n,
    const gchar * what)
{
  size_t i;
  double worst = 0.0;
  size_t worst_i = 0;

  for (i = 0; i < n; i++) {
    double d = fabs ((double) got[i] - (double) want[i]);

    fail_unless (isfinite (got[i]), "%s[%zu] is not finite", what, i);
    if (d > worst) {
      worst = d;
      worst_i = i;
    }
    fail_unless (d <= HU_ATOL + HU_RTOL * fabs ((double) want[i]),
        "%s[%zu]: got %.8g, PyTorch %.8g (error %.3g)", what, i, got[i],
        want[i], d);
  }
  if (worst > hu_max_err)
    hu_max_err = worst;
  GST_INFO ("%s: largest error %.3g at %zu", what, worst, worst_i);
}

/* Exactly equal (the same computation must give the same floats). */
static G_GNUC_UNUSED void
hu_assert_same (const float *got, const float *want, size_t n,
    const gchar * what)
{
  size_t i;

  for (i = 0; i < n; i++)
    fail_unless (fabsf (got[i] - want[i]) <= 1e-6f * (1.0f + fabsf (want[i])),
        "%s[%zu]: %.9g != %.9g", what, i, got[i], want[i]);
}

/* Per-channel mode: @got [n, C] (one output per channel and frame) must
 * be, channel by channel, what a single-channel @factory element with
 * @model and @props gives on that channel of @x [n, C] alone, fed in
 * buffers of 7 frames (output PTS shifted by @shift frames): the same
 * floats, NaN exactly where it gives NaN. When @want is not NULL, the
 * channels not in @touched (a C-bit mask) must also match @want [n, C]
 * (PyTorch) within the parity tolerance. */
static G_GNUC_UNUSED void
hu_check_vs_single_channels (const gchar * factory, const gchar * model,
    const gchar * props, const float *x, const float *got, guint n, guint C,
    guint shift, const float *want, guint touched)
{
  static const guint seven[] = { 7 };
  gchar *caps1 = hu_audio_caps (1);
  float *xc = g_new (float, n), *one = g_new (float, n);
  float *gk = g_new (float, n), *wk = g_new (float, n);
  guint k, t;

  for (k = 0; k < C; k++) {
    GstHarness *h1 = hu_harness (factory, model, props, caps1);

    for (t = 0; t < n; t++) {
      xc[t] = x[(gsize) t * C + k];
      gk[t] = got[(gsize) t * C + k];
    }
    hu_run (h1, xc, 1, 0, n, seven, 1, 1, shift, one);
    gst_harness_teardown (h1);
    for (t = 0; t < n; t++) {
      fail_unless (!isnan (gk[t]) == !isnan (one[t]), "channel %u frame %u: "
          "%g, alone %g", k, t, gk[t], one[t]);
      if (isnan (one[t]))
        gk[t] = one[t] = 0.0f;
    }
    hu_assert_same (gk, one, n, "per-channel vs the channel alone");
    if (want != NULL && !(touched & (1u << k))) {
      for (t = 0; t < n; t++)
        wk[t] = want[(gsize) t * C + k];
      hu_assert_close (gk, wk, n, "per-channel vs PyTorch");
    }
  }
  g_free (xc);
  g_free (one);
  g_free (gk);
  g_free (wk);
  g_free (caps1);
}

/* Run a pipeline description until an ERROR (or EOS / timeout), return the
 * error's message + debug text (NULL if none). @state_ok receives whether
 * the change to PLAYING succeeded. */
static G_GNUC_UNUSED gchar *
hu_pipeline_error (const gchar * desc, gboolean * state_ok)
{
  GError *gerr = NULL;
  GstElement *p = gst_parse_launch (desc, &gerr);
  GstBus *bus;
  GstMessage *m;
  gchar *ret = NULL;
  GstStateChangeReturn sr;

  fail_unless (p != NULL, "cannot parse %s: %s", desc,
      gerr ? gerr->message : "?");
  g_clear_error (&gerr);
  bus = gst_element_get_bus (p);
  sr = gst_element_set_state (p, GST_STATE_PLAYING);
  if (sr == GST_STATE_CHANGE_ASYNC)
    sr = gst_element_get_state (p, NULL, NULL, 5 * GST_SECOND);
  if (state_ok)
    *state_ok = sr != GST_STATE_CHANGE_FAILURE;
  m = gst_bus_timed_pop_filtered (bus, 5 * GST_SECOND,
      GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  if (m && GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
    GError *e = NULL;
    gchar *dbg = NULL;

    gst_message_parse_error (m, &e, &dbg);
    ret = g_strdup_printf ("%s | %s", e->message, dbg ? dbg : "");
    g_clear_error (&e);
    g_free (dbg);
  }
  if (m)
    gst_message_unref (m);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
  return ret;
}

/* Collect the element messages named @name posted on @bus so far. */
static G_GNUC_UNUSED GList *
hu_element_messages (GstBus * bus, const gchar * name)
{
  GList *l = NULL;
  GstMessage *m;

  while ((m = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (m);

    if (s && gst_structure_has_name (s, name))
      l = g_list_append (l, m);
    else
      gst_message_unref (m);
  }
  return l;
}

#endif
