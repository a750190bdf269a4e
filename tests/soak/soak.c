/* gst-rnn: soak program. Pushes many frames through lstmforecast and
 * gruanomaly and many texts through textsentiment in real pipelines
 * (appsrc ! element ! fakesink), with some bad input mixed in, and samples
 * the process's resident memory (VmRSS) as it goes.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: soak [FRAMES [TEXTS]]   (defaults 10000000 and 100000)
 * Needs GST_PLUGIN_PATH_1_0 to hold the built plugin and RNN_FIXTURES the
 * tests/fixtures directory (tests/soak/soak.sh sets both).
 *
 * Prints one line per RSS sample and a summary per pipeline; exits 1 when
 * the RSS grew by more than SOAK_MAX_GROWTH_KB between the end of the
 * warm-up (the first tenth of the run) and the end, or on any error.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gst/gst.h>
#include <gst/app/gstappsrc.h>

#define SOAK_MAX_GROWTH_KB 4096
#define FRAMES_PER_BUFFER 100
#define RATE 100
#define N_SAMPLES 10

static long
rss_kb (void)
{
  FILE *f = fopen ("/proc/self/status", "r");
  char line[256];
  long kb = -1;

  if (f == NULL)
    return -1;
  while (fgets (line, sizeof (line), f))
    if (strncmp (line, "VmRSS:", 6) == 0)
      kb = strtol (line + 6, NULL, 10);
  fclose (f);
  return kb;
}

typedef struct
{
  const char *name;
  GstElement *pipe;
  GstAppSrc *src;
  GstBus *bus;
  guint64 messages, warnings, infos;
  long rss_start, rss_warm, rss_end, rss_max;
} Soak;

/* Counts @m (and unrefs it); returns FALSE for an error message. */
static gboolean
count_message (Soak * s, GstMessage * m)
{
  gboolean ok = TRUE;

  switch (GST_MESSAGE_TYPE (m)) {
    case GST_MESSAGE_ERROR:{
      GError *e = NULL;
      gchar *dbg = NULL;

      gst_message_parse_error (m, &e, &dbg);
      fprintf (stderr, "%s: error: %s (%s)\n", s->name, e->message,
          dbg ? dbg : "");
      g_clear_error (&e);
      g_free (dbg);
      ok = FALSE;
      break;
    }
    case GST_MESSAGE_WARNING:
      s->warnings++;
      break;
    case GST_MESSAGE_INFO:
      s->infos++;
      break;
    case GST_MESSAGE_ELEMENT:
      s->messages++;
      break;
    default:
      break;
  }
  gst_message_unref (m);
  return ok;
}

/* Drains the bus; returns FALSE on an error message. */
static gboolean
drain (Soak * s)
{
  GstMessage *m;
  gboolean ok = TRUE;

  while ((m = gst_bus_pop (s->bus)))
    ok &= count_message (s, m);
  return ok;
}

static gboolean
start (Soak * s, const char *desc)
{
  GError *e = NULL;

  s->pipe = gst_parse_launch (desc, &e);
  if (s->pipe == NULL) {
    fprintf (stderr, "%s: %s\n", s->name, e->message);
    g_clear_error (&e);
    return FALSE;
  }
  s->src = GST_APP_SRC (gst_bin_get_by_name (GST_BIN (s->pipe), "src"));
  s->bus = gst_element_get_bus (s->pipe);
  if (gst_element_set_state (s->pipe, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    drain (s);
    fprintf (stderr, "%s: cannot go to PLAYING\n", s->name);
    return FALSE;
  }
  return TRUE;
}

static gboolean
finish (Soak * s)
{
  GstMessage *m;
  gboolean ok;

  gst_app_src_end_of_stream (s->src);
  /* wait for EOS, counting what comes before it */
  ok = TRUE;
  while ((m = gst_bus_timed_pop (s->bus, 60 * GST_SECOND))) {
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS) {
      gst_message_unref (m);
      break;
    }
    if (!count_message (s, m)) {
      ok = FALSE;
      break;
    }
  }
  if (m == NULL) {
    fprintf (stderr, "%s: no EOS within 60 s\n", s->name);
    ok = FALSE;
  }
  gst_element_set_state (s->pipe, GST_STATE_NULL);
  gst_object_unref (s->src);
  gst_object_unref (s->bus);
  gst_object_unref (s->pipe);
  return ok;
}

static void
sample (Soak * s, guint64 done, guint64 total)
{
  long kb = rss_kb ();

  if (kb > s->rss_max)
    s->rss_max = kb;
  printf ("%-14s %12" G_GUINT64_FORMAT " / %" G_GUINT64_FORMAT
      "  VmRSS %7ld kB\n", s->name, done, total, kb);
  fflush (stdout);
}

static gboolean
report (Soak * s)
{
  long growth = s->rss_end - s->rss_warm;

  printf ("%-14s RSS start %ld kB, after warm-up %ld kB, end %ld kB, max %ld "
      "kB; growth after warm-up %+ld kB; %" G_GUINT64_FORMAT " element "
      "messages, %" G_GUINT64_FORMAT " warnings, %" G_GUINT64_FORMAT
      " infos\n", s->name, s->rss_start, s->rss_warm, s->rss_end, s->rss_max,
      growth, s->messages, s->warnings, s->infos);
  if (growth > SOAK_MAX_GROWTH_KB) {
    printf ("%-14s FAIL: RSS grew by more than %d kB\n", s->name,
        SOAK_MAX_GROWTH_KB);
    return FALSE;
  }
  return TRUE;
}

/* @frames frames of @channels features through @element. Every 100000th
 * frame holds a NaN and every 25000th buffer is cut short by one byte
 * (documented bad input: reset + warning), every 50000th is DISCONT. */
static gboolean
soak_signal (const char *name, const char *element_desc, guint channels,
    guint64 frames)
{
  Soak s = { .name = name };
  gchar *desc;
  guint64 f = 0, n_buf = 0, next_sample;
  gboolean ok;

  desc = g_strdup_printf ("appsrc name=src is-live=false block=true "
      "max-buffers=16 max-bytes=0 format=time caps=\"audio/x-raw,format=F32LE,"
      "layout=interleaved,rate=%d,channels=%u,channel-mask=(bitmask)0\" ! "
      "%s ! fakesink sync=false", RATE, channels, element_desc);
  s.rss_start = rss_kb ();
  ok = start (&s, desc);
  g_free (desc);
  if (!ok)
    return FALSE;
  sample (&s, 0, frames);
  next_sample = frames / N_SAMPLES;

  while (f < frames && ok) {
    guint n = (guint) MIN ((guint64) FRAMES_PER_BUFFER, frames - f);
    gsize size = (gsize) n * channels * sizeof (float);
    GstBuffer *b;
    GstMapInfo map;
    float *x;
    guint i, k;

    if (n_buf % 25000 == 24999)
      size--;
    b = gst_buffer_new_allocate (NULL, size, NULL);
    gst_buffer_map (b, &map, GST_MAP_WRITE);
    x = (float *) map.data;
    for (i = 0; i < n && (i + 1) * channels * sizeof (float) <= size; i++)
      for (k = 0; k < channels; k++)
        x[i * channels + k] = (float) (sin (0.01 * (double) (f + i) + k) +
            0.05 * ((f + i + k) % 7));
    if ((f / 100000) != ((f + n) / 100000) && size % (channels * 4) == 0)
      x[0] = NAN;
    gst_buffer_unmap (b, &map);
    GST_BUFFER_PTS (b) = gst_util_uint64_scale (f, GST_SECOND, RATE);
    GST_BUFFER_DURATION (b) = gst_util_uint64_scale (f + n, GST_SECOND, RATE)
        - GST_BUFFER_PTS (b);
    if (n_buf % 50000 == 49999)
      GST_BUFFER_FLAG_SET (b, GST_BUFFER_FLAG_DISCONT);
    if (gst_app_src_push_buffer (s.src, b) != GST_FLOW_OK)
      ok = FALSE;
    f += n;
    n_buf++;
    if (n_buf % 1000 == 0)
      ok &= drain (&s);
    if (f >= next_sample) {
      ok &= drain (&s);
      sample (&s, f, frames);
      if (next_sample == frames / N_SAMPLES)
        s.rss_warm = rss_kb ();
      next_sample += frames / N_SAMPLES;
    }
  }
  ok &= finish (&s);
  s.rss_end = rss_kb ();
  sample (&s, f, frames);
  return report (&s) && ok;
}

static const char *texts[] = {
  "Good case, Excellent value.",
  "Crust is not good.",
  "WOW... Loved this place!!!",
  "The food was very slow and the texture was nasty",
  "Café CAFÉ naïve überraschend",
  "not\xff\xfetasty and the texture\xc3 was nasty",
  "   ...!!! ---  ",
  "",
  "a very, very slow moving movie about nothing at all, 3 stars",
};

/* @n texts through textsentiment; the model changes every 10000 texts
 * (and a bad file is tried every 25000), the context every 30000. */
static gboolean
soak_text (guint64 n)
{
  Soak s = { .name = "textsentiment" };
  const gchar *fix = g_getenv ("RNN_FIXTURES");
  gchar *a = g_build_filename (fix, "text", "lstm2.safetensors", NULL);
  gchar *b = g_build_filename (fix, "text", "gru_bi.safetensors", NULL);
  gchar *bad = g_build_filename (fix, "text", "forecast.safetensors", NULL);
  gchar *desc;
  GstElement *ts;
  guint64 i, next_sample;
  gboolean ok;

  desc = g_strdup_printf ("appsrc name=src block=true max-buffers=16 max-bytes=0 "
      "format=time caps=\"text/x-raw,format=utf8\" ! textsentiment name=ts "
      "model-file=\"%s\" ! fakesink sync=false", a);
  s.rss_start = rss_kb ();
  ok = start (&s, desc);
  g_free (desc);
  if (!ok)
    return FALSE;
  ts = gst_bin_get_by_name (GST_BIN (s.pipe), "ts");
  sample (&s, 0, n);
  next_sample = n / N_SAMPLES;

  for (i = 0; i < n && ok; i++) {
    const char *t = texts[i % G_N_ELEMENTS (texts)];
    GstBuffer *buf = strlen (t) ? gst_buffer_new_memdup (t, strlen (t)) :
        gst_buffer_new ();

    GST_BUFFER_PTS (buf) = i * GST_SECOND;
    GST_BUFFER_DURATION (buf) = GST_SECOND;
    if (gst_app_src_push_buffer (s.src, buf) != GST_FLOW_OK)
      ok = FALSE;
    if (i % 10000 == 9999)
      g_object_set (ts, "model-file", (i / 10000) % 2 ? a : b, NULL);
    if (i % 25000 == 24999)
      g_object_set (ts, "model-file", bad, NULL);
    if (i % 30000 == 29999)
      gst_util_set_object_arg (G_OBJECT (ts), "context",
          (i / 30000) % 2 ? "utterance" : "stream");
    if (i % 1000 == 999)
      ok &= drain (&s);
    if (i + 1 >= next_sample) {
      ok &= drain (&s);
      sample (&s, i + 1, n);
      if (next_sample == n / N_SAMPLES)
        s.rss_warm = rss_kb ();
      next_sample += n / N_SAMPLES;
    }
  }
  gst_object_unref (ts);
  ok &= finish (&s);
  s.rss_end = rss_kb ();
  sample (&s, i, n);
  g_free (a);
  g_free (b);
  g_free (bad);
  return report (&s) && ok;
}

int
main (int argc, char **argv)
{
  guint64 frames = argc > 1 ? g_ascii_strtoull (argv[1], NULL, 10) : 10000000;
  guint64 n_texts = argc > 2 ? g_ascii_strtoull (argv[2], NULL, 10) : 100000;
  const gchar *fix;
  gchar *fc, *an, *desc;
  gboolean ok = TRUE;
  gint64 t0;

  gst_init (&argc, &argv);
  fix = g_getenv ("RNN_FIXTURES");
  if (fix == NULL || frames < N_SAMPLES || n_texts < N_SAMPLES) {
    fprintf (stderr, "usage: RNN_FIXTURES=DIR soak [FRAMES [TEXTS]] "
        "(each >= %d)\n", N_SAMPLES);
    return 2;
  }
  fc = g_build_filename (fix, "elements", "fc_lstm.safetensors", NULL);
  an = g_build_filename (fix, "elements", "an_gru.safetensors", NULL);
  printf ("VmRSS at start: %ld kB\n", rss_kb ());

  t0 = g_get_monotonic_time ();
  desc = g_strdup_printf ("lstmforecast model-file=\"%s\" horizon=2 "
      "post-messages=true", fc);
  ok &= soak_signal ("lstmforecast", desc, 2, frames);
  g_free (desc);
  printf ("lstmforecast   %.1f s\n", (g_get_monotonic_time () - t0) / 1e6);

  t0 = g_get_monotonic_time ();
  desc = g_strdup_printf ("gruanomaly model-file=\"%s\" threshold=1.5", an);
  ok &= soak_signal ("gruanomaly", desc, 2, frames);
  g_free (desc);
  printf ("gruanomaly     %.1f s\n", (g_get_monotonic_time () - t0) / 1e6);

  t0 = g_get_monotonic_time ();
  ok &= soak_text (n_texts);
  printf ("textsentiment  %.1f s\n", (g_get_monotonic_time () - t0) / 1e6);

  printf ("VmRSS at end: %ld kB\n%s\n", rss_kb (), ok ? "PASS" : "FAIL");
  g_free (fc);
  g_free (an);
  return ok ? 0 : 1;
}
