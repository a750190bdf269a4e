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

/* Applies "k=v k=v" properties (@props may be NULL or empty) to @e. */
static G_GNUC_UNUSED void
hu_set_props (GstElement * e, const gchar * props)
{
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
  hu_set_props (e, props);
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

/* Fails unless @err (an error text) holds every string of the
 * NULL-terminated @needles. */
static G_GNUC_UNUSED void
hu_assert_mentions (const gchar * err, const gchar * const *needles)
{
  guint i;

  fail_unless (err != NULL, "no error");
  for (i = 0; needles[i]; i++)
    fail_unless (strstr (err, needles[i]) != NULL,
        "error '%s' does not mention '%s'", err, needles[i]);
}

/* Runs the pipeline @desc: it must post an ERROR mentioning every string
 * of @needles and, when @must_fail_start, its change to PLAYING must
 * fail. */
static G_GNUC_UNUSED void
hu_expect_error (const gchar * desc, const gchar * const *needles,
    gboolean must_fail_start)
{
  gboolean ok = TRUE;
  gchar *err = hu_pipeline_error (desc, &ok);

  if (must_fail_start)
    fail_unless (!ok, "state change succeeded: %s", desc);
  fail_unless (err != NULL, "no error from: %s", desc);
  hu_assert_mentions (err, needles);
  g_free (err);
}

/* A bus of our own on the harnessed element, so that its messages can be
 * counted (release with hu_release_bus). */
static G_GNUC_UNUSED GstBus *
hu_attach_bus (GstHarness * h)
{
  GstBus *bus = gst_bus_new ();

  gst_element_set_bus (h->element, bus);
  return bus;
}

/* hu_harness with a bus of our own set on the element before the
 * harness starts it (so that no message is lost); *bus receives it. */
static G_GNUC_UNUSED GstHarness *
hu_harness_bus (const gchar * factory, const gchar * model,
    const gchar * props, const gchar * caps, GstBus ** bus)
{
  GstElement *e = hu_element (factory, model, props);
  GstHarness *h;

  *bus = gst_bus_new ();
  gst_element_set_bus (e, *bus);
  h = hu_harness_with (e);
  if (caps)
    gst_harness_set_src_caps_str (h, caps);
  return h;
}

/* Takes @bus off the harnessed element, drops its messages, unrefs it. */
static G_GNUC_UNUSED void
hu_release_bus (GstHarness * h, GstBus * bus)
{
  gst_element_set_bus (h->element, NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
}

/* A text buffer holding @size bytes of @data (an empty buffer when @size
 * is 0), at @pts, lasting @duration when @pts is valid. */
static G_GNUC_UNUSED GstBuffer *
hu_text_buffer (const void *data, gsize size, GstClockTime pts,
    GstClockTime duration)
{
  GstBuffer *buf = size > 0 ? gst_buffer_new_memdup (data, size) :
      gst_buffer_new ();

  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = GST_CLOCK_TIME_IS_VALID (pts) ? duration :
      GST_CLOCK_TIME_NONE;
  return buf;
}

/* A (non-flushing) TIME segment starting at @start. */
static G_GNUC_UNUSED void
hu_push_segment (GstHarness * h, GstClockTime start)
{
  GstSegment seg;

  gst_segment_init (&seg, GST_FORMAT_TIME);
  seg.start = start;
  seg.time = start;
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
}

/* Things that happen to a stream between two runs of frames; the element
 * tests check which of them reset the recurrent state. */
typedef enum
{
  HU_TRIG_DISCONT,              /* a DISCONT buffer */
  HU_TRIG_DISCONT_KEEP,         /* the same with reset-on-discont=false */
  HU_TRIG_FLUSH,
  HU_TRIG_STREAM_START,
  HU_TRIG_SEEK_SEGMENT,
  HU_TRIG_SAME_SEGMENT,         /* not a reset */
  HU_TRIG_CONT_SEGMENT,         /* not a reset */
  HU_TRIG_CAPS,
  HU_TRIG_SIGNAL,
  HU_TRIG_EMPTY,                /* not a reset */
  HU_TRIG_GAP_BUFFER,           /* not a reset */
  HU_TRIG_GAP_EVENT,            /* not a reset */
} HuTrigger;

/* Makes @trig happen on @h, a stream of @feat-float frames (@x) at frame
 * @frame whose outputs are @out_feat floats with PTS shifted by @shift
 * frames; a GAP buffer holds @gap_frames frames. The DISCONT and seek
 * triggers depend on the test: they are not done here (returns FALSE). */
static G_GNUC_UNUSED gboolean
hu_trigger (GstHarness * h, HuTrigger trig, const float *x, guint feat,
    guint frame, guint out_feat, guint shift, guint gap_frames)
{
  switch (trig) {
    case HU_TRIG_FLUSH:
      fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
      fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
      hu_push_segment (h, 0);
      return TRUE;
    case HU_TRIG_STREAM_START:
      fail_unless (gst_harness_push_event (h,
              gst_event_new_stream_start ("second")));
      return TRUE;
    case HU_TRIG_SAME_SEGMENT:
      hu_push_segment (h, 0);
      return TRUE;
    case HU_TRIG_CONT_SEGMENT:
      hu_push_segment (h, hu_frame_time (frame));
      return TRUE;
    case HU_TRIG_CAPS:{
      gchar *c2 = g_strdup_printf ("audio/x-raw,format=F32LE,layout="
          "interleaved,rate=%d,channels=2,channel-mask=(bitmask)0x3", HU_RATE);
      gst_harness_set_src_caps_str (h, c2);
      g_free (c2);
      return TRUE;
    }
    case HU_TRIG_SIGNAL:
      g_signal_emit_by_name (h->element, "reset");
      return TRUE;
    case HU_TRIG_EMPTY:
      fail_unless_equals_int (gst_harness_push (h, hu_buffer (x, 0, feat,
                  frame)), GST_FLOW_OK);
      hu_pull_check (h, 0, out_feat, frame, shift, NULL);
      return TRUE;
    case HU_TRIG_GAP_BUFFER:{
      GstBuffer *gap = hu_buffer (x, gap_frames, feat, frame);

      GST_BUFFER_FLAG_SET (gap, GST_BUFFER_FLAG_GAP);
      fail_unless_equals_int (gst_harness_push (h, gap), GST_FLOW_OK);
      fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
      return TRUE;
    }
    case HU_TRIG_GAP_EVENT:
      fail_unless (gst_harness_push_event (h,
              gst_event_new_gap (hu_frame_time (frame), hu_frame_time (1))));
      return TRUE;
    case HU_TRIG_DISCONT:
    case HU_TRIG_DISCONT_KEEP:
    case HU_TRIG_SEEK_SEGMENT:
      break;
  }
  return FALSE;
}

/* A DISCONT buffer of @n frames of @x from frame @frame, its output
 * pulled and checked into @out. */
static G_GNUC_UNUSED void
hu_push_discont (GstHarness * h, const float *x, guint feat, guint frame,
    guint n, guint out_feat, guint shift, float *out)
{
  GstBuffer *b = hu_buffer (x + (gsize) frame * feat, n, feat, frame);

  GST_BUFFER_FLAG_SET (b, GST_BUFFER_FLAG_DISCONT);
  fail_unless_equals_int (gst_harness_push (h, b), GST_FLOW_OK);
  hu_pull_check (h, n, out_feat, frame, shift, out);
}

/* A fresh element (@factory, @model, @props, @caps) run on frames
 * [start, end) of @x, its outputs into @out. */
static G_GNUC_UNUSED void
hu_run_fresh (const gchar * factory, const gchar * model,
    const gchar * props, const gchar * caps, const float *x, guint feat,
    guint start, guint end, const guint * chunks, guint n_chunks,
    guint out_feat, guint shift, float *out)
{
  GstHarness *h = hu_harness (factory, model, props, caps);

  hu_run (h, x, feat, start, end, chunks, n_chunks, out_feat, shift, out);
  gst_harness_teardown (h);
}

/* Frames [0, @half) then, after the "reset" action signal, [@half, @n)
 * of @x through one element (outputs of all @n frames into @got), and
 * frames [@half, @n) through a fresh element (outputs into @fresh); in
 * buffers of @chunk frames. */
static G_GNUC_UNUSED void
hu_run_reset_and_fresh (const gchar * factory, const gchar * model,
    const gchar * props, const gchar * caps, const float *x, guint feat,
    guint half, guint n, guint chunk, guint out_feat, guint shift,
    float *got, float *fresh)
{
  GstHarness *h = hu_harness (factory, model, props, caps);
  const guint chunks[] = { chunk };

  hu_run (h, x, feat, 0, half, chunks, 1, out_feat, shift, got);
  g_signal_emit_by_name (h->element, "reset");
  hu_run (h, x, feat, half, n, chunks, 1, out_feat, shift,
      got + (gsize) half * out_feat);
  gst_harness_teardown (h);
  hu_run_fresh (factory, model, props, caps, x, feat, half, n, chunks, 1,
      out_feat, shift, fresh);
}

/* The largest |a[i] - b[i]| over @n floats. */
static G_GNUC_UNUSED double
hu_max_abs_diff (const float *a, const float *b, size_t n)
{
  double d = 0.0;
  size_t i;

  for (i = 0; i < n; i++)
    d = MAX (d, fabs ((double) a[i] - (double) b[i]));
  return d;
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
