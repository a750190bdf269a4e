/* gst-rnn application example in C: an application feeds its own samples to
 * lstmforecast through appsrc and takes the forecasts back from appsink, then
 * runs gruanomaly and reads the anomaly start/end messages from the bus.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   cc forecast-app.c $(pkg-config --cflags --libs gstreamer-app-1.0) -o forecast-app
 *   ./forecast-app /usr/share/gst-rnn/models
 *
 * MODELS is the directory of the shipped models (models/ in the source tree);
 * the data comes from its data/ subdirectory. Exits non-zero when a pipeline
 * fails or produces fewer forecasts than frames pushed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gst/gst.h>
#include <gst/app/gstappsrc.h>
#include <gst/app/gstappsink.h>

/* Frames of the columns @names of a CSV file with a header row, interleaved
 * (frame after frame), keeping rows whose column @key_col (if not NULL)
 * equals @key. Returns the number of frames; *out is g_free'd by the caller. */
static gsize
read_csv (const gchar * path, const gchar * const *names, guint n_names,
    const gchar * key_col, const gchar * key, gfloat ** out)
{
  gchar *text = NULL, **lines;
  GError *error = NULL;
  GArray *v = g_array_new (FALSE, FALSE, sizeof (gfloat));
  gint col[8], kcol = -1;
  gsize frames = 0;

  if (!g_file_get_contents (path, &text, NULL, &error)) {
    g_printerr ("%s\n", error->message);
    g_error_free (error);
    *out = NULL;
    return 0;
  }
  lines = g_strsplit (text, "\n", -1);
  g_free (text);
  if (lines[0] != NULL) {
    gchar **head = g_strsplit (g_strstrip (lines[0]), ",", -1);
    for (guint j = 0; j < n_names; j++) {
      col[j] = -1;
      for (guint i = 0; head[i]; i++)
        if (strcmp (head[i], names[j]) == 0)
          col[j] = (gint) i;
    }
    for (guint i = 0; key_col && head[i]; i++)
      if (strcmp (head[i], key_col) == 0)
        kcol = (gint) i;
    g_strfreev (head);
  }
  for (guint i = 1; lines[0] && lines[i]; i++) {
    gchar **f = g_strsplit (g_strstrip (lines[i]), ",", -1);
    guint nf = g_strv_length (f);
    gboolean ok = nf > 0 && (kcol < 0 || ((guint) kcol < nf
            && strcmp (f[kcol], key) == 0));
    for (guint j = 0; ok && j < n_names; j++)
      ok = col[j] >= 0 && (guint) col[j] < nf && f[col[j]][0] != '\0';
    for (guint j = 0; ok && j < n_names; j++) {
      gfloat x = (gfloat) g_ascii_strtod (f[col[j]], NULL);
      g_array_append_val (v, x);
    }
    frames += ok;
    g_strfreev (f);
  }
  g_strfreev (lines);
  *out = (gfloat *) g_array_free (v, FALSE);
  return frames;
}

/* Push @frames frames of @channels floats at @rate frames per second into
 * @src, @chunk frames per buffer, each buffer stamped with the time of its
 * first frame, then end the stream. */
static void
push_frames (GstAppSrc * src, const gfloat * x, gsize frames, guint channels,
    gint rate, gsize chunk)
{
  for (gsize t = 0; t < frames; t += chunk) {
    gsize n = MIN (chunk, frames - t);
    GstBuffer *buf = gst_buffer_new_memdup (x + t * channels,
        n * channels * sizeof (gfloat));

    GST_BUFFER_PTS (buf) = gst_util_uint64_scale_int (t, GST_SECOND, rate);
    GST_BUFFER_DURATION (buf) = gst_util_uint64_scale_int (n, GST_SECOND, rate);
    gst_app_src_push_buffer (src, buf);       /* takes the buffer */
  }
  gst_app_src_end_of_stream (src);
}

/* Pops bus messages until EOS or ERROR; prints the gruanomaly events and
 * counts them. Returns FALSE on an error. */
static gboolean
run_bus (GstElement * pipeline, guint * starts, guint * ends)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  gboolean ok = TRUE, done = FALSE;

  while (!done) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
        GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
    const GstStructure *s = gst_message_get_structure (msg);

    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *err;
      gchar *dbg;

      gst_message_parse_error (msg, &err, &dbg);
      g_printerr ("error from %s: %s\n(%s)\n", GST_OBJECT_NAME (msg->src),
          err->message, dbg ? dbg : "");
      g_error_free (err);
      g_free (dbg);
      ok = FALSE;
      done = TRUE;
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
      done = TRUE;
    } else if (s && gst_structure_has_name (s, "gruanomaly")) {
      const gchar *event = gst_structure_get_string (s, "event");
      guint64 ts = GST_CLOCK_TIME_NONE;
      gdouble score = 0, threshold = 0;

      gst_structure_get_uint64 (s, "timestamp", &ts);
      gst_structure_get_double (s, "score", &score);
      gst_structure_get_double (s, "threshold", &threshold);
      g_print ("  anomaly %-5s at frame %" G_GUINT64_FORMAT
          " (peak score %.2f, threshold %.2f)\n", event,
          ts / GST_SECOND, score, threshold);
      if (g_strcmp0 (event, "start") == 0)
        (*starts)++;
      else if (g_strcmp0 (event, "end") == 0)
        (*ends)++;
    }
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  return ok;
}

/* The pipeline "appsrc name=src (@channels channels, one frame a second) !
 * @rest", set to PLAYING, and its appsrc in *src; NULL after printing the
 * parse error. */
static GstElement *
start_pipeline (guint channels, const gchar * rest, GstElement ** src)
{
  GError *error = NULL;
  gchar *desc = g_strdup_printf ("appsrc name=src format=time "
      "caps=audio/x-raw,format=F32LE,layout=interleaved,channels=%u,rate=1 ! "
      "%s", channels, rest);
  GstElement *pipeline = gst_parse_launch (desc, &error);

  g_free (desc);
  if (pipeline == NULL) {
    g_printerr ("%s\n", error->message);
    g_error_free (error);
    return NULL;
  }
  *src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  return pipeline;
}

/* appsrc ! lstmforecast ! appsink over the yearly sunspot numbers. */
static gboolean
forecast (const gchar * models)
{
  const gchar *cols[] = { "sunactivity" };
  gchar *data = g_build_filename (models, "data", "sunspots.csv", NULL);
  gchar *model = g_build_filename (models, "forecast.safetensors", NULL);
  gchar *desc;
  gfloat *x;
  gsize frames = read_csv (data, cols, 1, NULL, NULL, &x), got = 0;
  GstElement *pipeline = NULL, *src = NULL, *sink;
  gboolean ok = FALSE;
  guint starts = 0, ends = 0;

  /* One frame per year, played as one frame per second (rate=1). */
  desc = g_strdup_printf ("lstmforecast model-file=\"%s\" ! "
      "appsink name=sink sync=false", model);
  if (frames > 0)
    pipeline = start_pipeline (1, desc, &src);
  if (pipeline == NULL)
    goto out;
  ok = TRUE;
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  push_frames (GST_APP_SRC (src), x, frames, 1, 1, 16);

  g_print ("lstmforecast on %" G_GSIZE_FORMAT " years of sunspot numbers "
      "(year 1700 = 0 s):\n", frames);
  for (;;) {
    GstSample *sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
    GstBuffer *buf;
    GstMapInfo map;

    if (sample == NULL)         /* EOS (or an error, reported on the bus) */
      break;
    buf = gst_sample_get_buffer (sample);
    if (gst_buffer_map (buf, &map, GST_MAP_READ)) {
      const gfloat *y = (const gfloat *) map.data;
      gsize n = map.size / sizeof (gfloat);

      for (gsize i = 0; i < n; i++) {
        if (!isfinite (y[i]))
          ok = FALSE;
        /* the buffer is stamped with the time the first value forecasts */
        if (got + i + 3 >= frames) {
          gchar measured[32] = "not yet";

          if (got + i + 1 < frames)
            g_snprintf (measured, sizeof measured, "%.1f", x[got + i + 1]);
          g_print ("  forecast for %.0f: %6.1f (measured: %s)\n",
              1700 + GST_BUFFER_PTS (buf) / (double) GST_SECOND + i, y[i],
              measured);
        }
      }
      got += n;
      gst_buffer_unmap (buf, &map);
    }
    gst_sample_unref (sample);
  }
  ok = run_bus (pipeline, &starts, &ends) && ok;
  if (got != frames) {
    g_printerr ("expected %" G_GSIZE_FORMAT " forecasts, got %" G_GSIZE_FORMAT
        "\n", frames, got);
    ok = FALSE;
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
out:
  g_free (x);
  g_free (desc);
  g_free (data);
  g_free (model);
  return ok;
}

/* appsrc ! gruanomaly ! fakesink over one sensor mote's humidity and
 * temperature, reading the start/end messages. */
static gboolean
anomaly (const gchar * models)
{
  const gchar *cols[] = { "humidity", "temperature" };
  gchar *data = g_build_filename (models, "data", "sensors-test.csv", NULL);
  gchar *model = g_build_filename (models, "anomaly.safetensors", NULL);
  gchar *desc;
  gfloat *x;
  gsize frames = read_csv (data, cols, 2, "sensor", "s1", &x);
  GstElement *pipeline = NULL, *src = NULL;
  gboolean ok;
  guint starts = 0, ends = 0;

  desc = g_strdup_printf ("gruanomaly model-file=\"%s\" ! fakesink", model);
  if (frames > 0)
    pipeline = start_pipeline (2, desc, &src);
  if (pipeline == NULL) {
    ok = FALSE;
    goto out;
  }
  g_print ("gruanomaly on %" G_GSIZE_FORMAT " readings of mote s1:\n", frames);
  push_frames (GST_APP_SRC (src), x, frames, 2, 1, 64);
  ok = run_bus (pipeline, &starts, &ends);
  g_print ("  %u start and %u end messages\n", starts, ends);
  /* each anomaly that ended had started; one may still be open at EOS */
  if (ends > starts || starts > ends + 1)
    ok = FALSE;
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (pipeline);
out:
  g_free (x);
  g_free (desc);
  g_free (data);
  g_free (model);
  return ok;
}

int
main (int argc, char **argv)
{
  const gchar *models = argc > 1 ? argv[1] : "models";
  gboolean ok;

  gst_init (&argc, &argv);
  ok = forecast (models);
  ok = anomaly (models) && ok;
  return ok ? 0 : 1;
}
