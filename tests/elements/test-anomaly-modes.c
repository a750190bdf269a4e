/* gst-rnn: gruanomaly's default scoring on the failure modes of a fixed
 * threshold on real streams: a level shift must not latch the alarm on, a
 * 200-sigma spike must not poison the state, a score hovering near the
 * threshold must not post a storm of events, the start and a reset must
 * not post a false event, and a slow growth of the error scale must not
 * fire all the time. Model: an_sine.safetensors (tests/fixtures/
 * gen_anomaly_sine.py: a GRU trained on a noisy sine of period 24 frames).
 * Each test runs the element with its default properties, as a new user
 * would.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness-util.h"

#define PERIOD 24.0
#define NOISE 0.05

typedef struct {
  guint n;
  float *score;
  guint starts, ends;
  guint first_start;            /* G_MAXUINT: none */
  guint last_start;
  guint starts_in[2];           /* starts in [from, to) of run_window () */
  gboolean open_at_end;         /* an anomaly still open at the last frame */
  guint frames_on;              /* frames in an anomaly */
} Run;

/* The noisy sine the model learnt, seeded. */
static float *
sine (guint n, guint32 seed)
{
  GRand *r = g_rand_new_with_seed (seed);
  float *x = g_new (float, n);
  guint t;

  for (t = 0; t < n; t++) {
    /* Box-Muller */
    double u = g_rand_double_range (r, 1e-12, 1.0), v = g_rand_double (r);
    double g = sqrt (-2 * log (u)) * cos (2 * G_PI * v);

    x[t] = (float) (sin (2 * G_PI * t / PERIOD) + NOISE * g);
  }
  g_rand_free (r);
  return x;
}

/* 2000 frames of the sine, 3 higher from frame 1000 on. */
static float *
shifted_sine (void)
{
  float *x = sine (2000, 11);
  guint t;

  for (t = 1000; t < 2000; t++)
    x[t] += 3.0f;
  return x;
}

/* @x through gruanomaly with @props (NULL: defaults) in 50-frame buffers;
 * a `reset` action at frame @reset_at (0: none). */
static guint win_from, win_to;

static Run
run (const float *x, guint n, const gchar * props, guint reset_at)
{
  static const guint fifty[] = { 50 };
  gchar *caps = hu_audio_caps (1);
  GstBus *bus;
  GstHarness *h = hu_harness_bus ("gruanomaly", "an_sine.safetensors",
      props ? props : "", caps, &bus);
  GList *msgs, *l;
  Run r = { n, g_new0 (float, n), 0, 0, G_MAXUINT, 0, {0, 0}, FALSE, 0 };
  gdouble thr = 0;
  gboolean on = FALSE;
  guint t;

  if (reset_at > 0) {
    hu_run (h, x, 1, 0, reset_at, fifty, 1, 1, 0, r.score);
    g_signal_emit_by_name (h->element, "reset");
    hu_run (h, x, 1, reset_at, n, fifty, 1, 1, 0, r.score + reset_at);
  } else {
    hu_run (h, x, 1, 0, n, fifty, 1, 1, 0, r.score);
  }
  g_object_get (h->element, "threshold", &thr, NULL);
  msgs = hu_element_messages (bus, "gruanomaly");
  for (l = msgs; l; l = l->next) {
    const GstStructure *s = gst_message_get_structure (l->data);
    guint64 ts;
    guint frame;

    fail_unless (gst_structure_get_uint64 (s, "timestamp", &ts));
    frame = (guint) gst_util_uint64_scale_round (ts, HU_RATE, GST_SECOND);
    if (g_str_equal (gst_structure_get_string (s, "event"), "start")) {
      r.starts++;
      if (frame >= win_from && frame < win_to)
        r.starts_in[0]++;
      else if (frame < win_from)
        r.starts_in[1]++;
      if (r.first_start == G_MAXUINT)
        r.first_start = frame;
      r.last_start = frame;
      /* the events follow the output score: a start is an up-crossing */
      fail_unless (r.score[frame] >= thr && (frame == 0
              || r.score[frame - 1] < thr), "start at frame %u is not an "
          "up-crossing of %g in the output (%g after %g)", frame, thr,
          r.score[frame], frame ? r.score[frame - 1] : 0.0);
    } else {
      r.ends++;
    }
  }
  for (t = 0; t < n; t++) {
    if (!on && r.score[t] >= thr)
      on = TRUE;
    else if (on && r.score[t] < thr)
      on = FALSE;
    r.frames_on += on;
  }
  r.open_at_end = on;
  g_list_free_full (msgs, (GDestroyNotify) gst_message_unref);
  hu_release_bus (h, bus);
  gst_harness_teardown (h);
  g_free (caps);
  return r;
}

static void
run_clear (Run * r)
{
  g_free (r->score);
}

/* Level shift: from frame 1000 the sine sits 3 above where it was, outside
 * everything the model saw. It is an anomaly, and it ends: the new level
 * becomes normal. */
GST_START_TEST (test_level_shift)
{
  guint n = 2000;
  float *x = shifted_sine ();
  Run r;

  win_from = 1000;
  win_to = 1010;
  r = run (x, n, NULL, 0);
  win_from = win_to = 0;
  fail_unless (r.starts_in[0] == 1, "the shift is not detected at once");
  /* a threshold of 4 is a false alarm per 10^4 frames: allow one */
  fail_unless (r.starts_in[1] <= 1, "%u false alarms before the shift",
      r.starts_in[1]);
  fail_unless (!r.open_at_end, "the alarm latches on after a level shift");
  fail_unless (r.frames_on < 200, "%u of the 1000 shifted frames in an "
      "anomaly", r.frames_on);
  fail_unless (r.last_start < 1100, "a start at %u, long after the shift",
      r.last_start);
  run_clear (&r);
  g_free (x);
}

GST_END_TEST;

/* A value never seen: from frame 990, a crest of the sine (1), the signal
 * holds 1.4, a little above its range. The forecast error of that frame is
 * small and takes several frames to stand out in the 10-frame mean; a value
 * beyond the range seen is the anomaly at its first frame. */
GST_START_TEST (test_new_value)
{
  guint n = 1400, t;
  float *x = sine (n, 11);
  Run r;

  for (t = 990; t < n; t++)
    x[t] = 1.4f;
  win_from = 990;
  win_to = 1000;
  r = run (x, n, NULL, 0);
  win_from = win_to = 0;
  fail_unless (r.first_start == 990, "a never-seen value at frame 990: "
      "first start at %u", r.first_start);
  fail_unless (!r.open_at_end, "the alarm latches on at the new value");
  run_clear (&r);
  g_free (x);
}

GST_END_TEST;

/* One frame 200 standard deviations of the signal away (about 140): found,
 * ended soon, and the frames after it are scored as before (the spike did
 * not poison the state). */
GST_START_TEST (test_spike)
{
  guint n = 1600, t;
  float *x = sine (n, 12), *clean = sine (n, 12);
  Run r, ref;
  double worst = 0;

  x[800] += 200.0f * (float) G_SQRT2 / 2;
  r = run (x, n, NULL, 0);
  ref = run (clean, n, NULL, 0);
  fail_unless_equals_int (r.first_start, 800);
  fail_unless_equals_int (r.starts, 1);
  fail_unless (!r.open_at_end, "the anomaly of a spike never ends");
  fail_unless (r.frames_on < 30, "%u frames in an anomaly for one spike",
      r.frames_on);
  /* 100 frames after the spike the scores are as low as the clean run's:
   * the state predicts the sine again */
  for (t = 900; t < n; t++)
    worst = MAX (worst, r.score[t] - ref.score[t]);
  fail_unless (worst < 1.0, "scores after the spike exceed the clean run's "
      "by up to %g", worst);
  run_clear (&r);
  run_clear (&ref);
  g_free (x);
  g_free (clean);
}

GST_END_TEST;

/* Scores and events ("frame event score" lines) of @x through the default
 * element in buffers cycling through @chunks. */
static float *
scores_in_chunks (const float *x, guint n, const guint * chunks, guint nc,
    GString * events)
{
  gchar *caps = hu_audio_caps (1);
  GstBus *bus;
  GstHarness *h = hu_harness_bus ("gruanomaly", "an_sine.safetensors", "",
      caps, &bus);
  float *score = g_new0 (float, n);
  GList *msgs, *l;

  hu_run (h, x, 1, 0, n, chunks, nc, 1, 0, score);
  msgs = hu_element_messages (bus, "gruanomaly");
  for (l = msgs; l; l = l->next) {
    const GstStructure *s = gst_message_get_structure (l->data);
    guint64 ts;
    gdouble sc;

    fail_unless (gst_structure_get_uint64 (s, "timestamp", &ts)
        && gst_structure_get_double (s, "score", &sc));
    g_string_append_printf (events, "%" G_GUINT64_FORMAT " %s %a\n", ts,
        gst_structure_get_string (s, "event"), sc);
  }
  g_list_free_full (msgs, (GDestroyNotify) gst_message_unref);
  hu_release_bus (h, bus);
  gst_harness_teardown (h);
  g_free (caps);
  return score;
}

/* The buffering does not change a bit of the output: one frame per buffer
 * (each frame scored before the model runs on it) against buffers of
 * various sizes (the model run over runs of frames ahead of the scoring),
 * on a stream with what makes the detector feed the model something else
 * than the frame: spikes (shrunk frames), a level shift out of the
 * training range (a level offset), frames at the model's input mean (a
 * feed of 0, where the error's rounding matters) and a NaN (a reset). */
GST_START_TEST (test_buffering_invariant)
{
  static const guint one[] = { 1 }, mixed[] = { 100, 7, 256, 3, 50, 1 };
  static const guint hundred[] = { 100 };
  const guint n = 3000;
  float *x = sine (n, 13), *ref, *got, zero = 0.0f, mean;
  GString *ev_ref = g_string_new (NULL), *ev = g_string_new (NULL);
  gchar *path = hu_fixture ("an_sine.safetensors");
  rnn_model *m = NULL;
  guint t, k;

  fail_unless (rnn_model_load (path, &m, NULL) == RNN_OK);
  rnn_model_denormalize_input (m, &zero, &mean, 1);
  rnn_model_free (m);
  g_free (path);
  for (t = 300; t < n; t += 97)
    x[t] += (t % 2 ? 1.0f : -1.0f) * (5.0f + (float) (t % 40));
  for (t = 1200; t < 1700; t++)
    x[t] += 3.0f;
  for (t = 40; t < n; t += 24)
    x[t] = mean;
  x[2100] = NAN;

  ref = scores_in_chunks (x, n, one, 1, ev_ref);
  fail_unless (ev_ref->len > 0, "no event to compare");
  for (k = 0; k < 2; k++) {
    g_string_truncate (ev, 0);
    got = k == 0 ? scores_in_chunks (x, n, hundred, 1, ev)
        : scores_in_chunks (x, n, mixed, G_N_ELEMENTS (mixed), ev);
    for (t = 0; t < n; t++)
      fail_unless (memcmp (&got[t], &ref[t], sizeof (float)) == 0,
          "frame %u scores %.9g in %s buffers, %.9g one frame at a time", t,
          got[t], k == 0 ? "100-frame" : "mixed", ref[t]);
    fail_unless_equals_string (ev->str, ev_ref->str);
    g_free (got);
  }
  g_free (ref);
  g_free (x);
  g_string_free (ev, TRUE);
  g_string_free (ev_ref, TRUE);
}

GST_END_TEST;

/* From frame 600 the noise is 6 times stronger: the errors hover around
 * any fixed threshold, crossing it every few frames. A few events, not a
 * storm. */
GST_START_TEST (test_flapping)
{
  guint n = 3000, t;
  float *x = sine (n, 13), *noise = sine (n, 113);
  Run r;

  /* noise[t] - sin(t) is the other seed's noise (std NOISE) */
  for (t = 600; t < n; t++)
    x[t] += 5.0f * (noise[t] - (float) sin (2 * G_PI * t / PERIOD));
  r = run (x, n, NULL, 0);
  fail_unless (r.starts >= 1, "the change of noise is not detected");
  fail_unless (r.starts <= 10, "%u starts in 2400 frames", r.starts);
  run_clear (&r);
  g_free (x);
  g_free (noise);
}

GST_END_TEST;

/* A clean sine, with a `reset` in the middle: the frames after the start
 * and after the reset (a zero state predicts badly) post nothing. */
GST_START_TEST (test_warmup_and_reset)
{
  guint n = 1000;
  float *x = sine (n, 14);
  Run r;

  r = run (x, n, NULL, 500);
  fail_unless_equals_int (r.starts, 0);
  fail_unless_equals_int (r.ends, 0);
  run_clear (&r);
  g_free (x);
}

GST_END_TEST;

/* Seasonal scale drift: the amplitude and the noise grow 3-fold over 6000
 * frames (season after season of more load). The errors grow with them; the
 * scoring follows their scale instead of firing all the time. */
GST_START_TEST (test_scale_drift)
{
  guint n = 6000, t;
  float *x = sine (n, 15);
  Run r;

  for (t = 0; t < n; t++)
    x[t] *= (float) (1.0 + 2.0 * t / n);
  r = run (x, n, NULL, 0);
  fail_unless (r.starts <= 5, "%u starts on a slowly growing sine",
      r.starts);
  fail_unless (r.frames_on < 60, "%u frames in an anomaly", r.frames_on);
  run_clear (&r);
  g_free (x);
}

GST_END_TEST;

/* scoring=fixed keeps the normative score: on the clean sine it is the
 * standardised error (what the other tests check against PyTorch), and the
 * failure modes are its own: the level shift latches it on. */
GST_START_TEST (test_fixed_kept)
{
  guint n = 2000;
  float *x = shifted_sine ();
  Run r;

  r = run (x, n, "scoring=fixed", 0);
  fail_unless_equals_float (r.score[0], 0.0f);
  fail_unless (r.open_at_end, "scoring=fixed no longer latches on a level "
      "shift: has the normative score changed?");
  run_clear (&r);
  g_free (x);
}

GST_END_TEST;

static Suite *
anomaly_modes_suite (void)
{
  Suite *s = suite_create ("anomaly-modes");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_level_shift);
  tcase_add_test (tc, test_new_value);
  tcase_add_test (tc, test_spike);
  tcase_add_test (tc, test_flapping);
  tcase_add_test (tc, test_warmup_and_reset);
  tcase_add_test (tc, test_scale_drift);
  tcase_add_test (tc, test_fixed_kept);
  tcase_add_test (tc, test_buffering_invariant);
  return s;
}

GST_CHECK_MAIN (anomaly_modes);
