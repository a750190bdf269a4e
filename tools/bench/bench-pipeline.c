/* gst-rnn benchmarks: a model through a real pipeline.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   bench-pipeline ELEMENT MODEL SAMPLES_PER_BUFFER [MIN_TIME [REPS]]
 *
 * Runs
 *   audiotestsrc samplesperbuffer=S num-buffers=N wave=sine
 *     ! audio/x-raw,format=F32LE,channels=1,rate=16000
 *     ! ELEMENT model-file=MODEL ! fakesink sync=false
 * (ELEMENT "none": identity instead, to show what source and sink cost;
 * "control": audioconvert to S16LE, an element that allocates its output
 * buffers, to show that the allocation count sees it) as fast as
 * it goes, N chosen so that a run lasts about MIN_TIME seconds (default
 * 0.3), REPS times (default 3), and prints the medians:
 *
 *   pipe  ELEMENT  MODEL  S  PIPE_FPS  ELEM_FPS  ELEM_ALLOCS  THREAD_ALLOCS
 *         PEAK_RSS_KIB  ENGINE_FPS  OVERHEAD  PRECISION
 *
 * The environment variable BENCH_PRECISION (f32, bf16, int8; default f32)
 * sets the element's `precision` property and the engine's precision.
 *
 * PIPE_FPS: frames per second through the whole pipeline (measured at the
 * element's sink pad between the first steady buffer and the last one);
 * ELEM_FPS: frames per second of the time spent inside the element (from a
 * buffer entering its sink pad to the result leaving its source pad; the
 * element's own work including the engine). The first tenth of the buffers
 * (at least 10) is warm-up and not counted. ELEM_ALLOCS: allocator calls
 * made inside the element per buffer in that steady state; THREAD_ALLOCS:
 * the same for the whole streaming thread (source and sink included);
 * both from a separate run of 400 buffers in a child process whose GLib
 * slice allocator is routed to malloc (G_SLICE=always-malloc), so that
 * GstBuffer/GstMemory allocations are counted too.
 * PEAK_RSS_KIB: VmHWM of this process at the end (engine runs included,
 * which add one more state of the model). ENGINE_FPS: the engine alone on
 * the same model and calls of S frames, timed after each pipeline run.
 * OVERHEAD: the element's cost on top of the engine, the median over the
 * runs of (engine rate / element rate) - 1, each ratio taken from a
 * pipeline run and the engine run right after it.
 */
#include "benchutil.h"
#include "rnn.h"

#include <gst/gst.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  guint n_buffers, warm;
  guint n_in;              /* buffers seen at the sink pad */
  gboolean open;           /* a buffer is inside the element */
  double t_in_open;
  uint64_t a_in_open;
  double t_first, t_last;  /* sink-pad time of buffer `warm` and the last */
  double elem_time;        /* steady-state time inside the element */
  uint64_t elem_allocs;
  uint64_t a_first, a_last;
  guint n_steady_out;      /* steady buffers that left the element */
} probe_data;

static GstPadProbeReturn
sink_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user)
{
  probe_data *p = user;
  double t = bu_now ();
  uint64_t a = bu_alloc_count ();

  if (p->n_in == p->warm) {
    p->t_first = t;
    p->a_first = a;
  }
  p->t_last = t;
  p->a_last = a;
  p->n_in++;
  p->open = TRUE;
  p->t_in_open = t;
  p->a_in_open = a;
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
src_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user)
{
  probe_data *p = user;
  double t = bu_now ();
  uint64_t a = bu_alloc_count ();

  if (p->open && p->n_in > p->warm) {
    p->elem_time += t - p->t_in_open;
    p->elem_allocs += a - p->a_in_open;
    p->n_steady_out++;
  }
  p->open = FALSE;
  return GST_PAD_PROBE_OK;
}

typedef struct {
  double pipe_fps, elem_fps, elem_allocs, thread_allocs, wall;
} run_result;

/* BENCH_PRECISION, "f32" when unset. */
static const char *
precision (void)
{
  const char *p = g_getenv ("BENCH_PRECISION");
  return p != NULL && *p != '\0' ? p : "f32";
}

static gboolean
run_once (const char *element, const char *model, guint spb, guint n_buffers,
    run_result *r)
{
  char desc[2048];
  GError *error = NULL;
  GstElement *pipeline, *el;
  GstBus *bus;
  GstMessage *msg;
  probe_data p = { 0 };
  gboolean ok = TRUE;
  double t0;

  p.n_buffers = n_buffers;
  p.warm = MAX (10, n_buffers / 10);
  if (strcmp (element, "none") == 0)
    snprintf (desc, sizeof desc, "audiotestsrc samplesperbuffer=%u "
        "num-buffers=%u wave=sine ! audio/x-raw,format=F32LE,channels=1,"
        "rate=16000 ! identity name=el ! fakesink sync=false", spb,
        n_buffers);
  else if (strcmp (element, "control") == 0)
    /* an element known to allocate its output buffers: shows that the
     * allocation count works */
    snprintf (desc, sizeof desc, "audiotestsrc samplesperbuffer=%u "
        "num-buffers=%u wave=sine ! audio/x-raw,format=F32LE,channels=1,"
        "rate=16000 ! audioconvert name=el ! audio/x-raw,format=S16LE "
        "! fakesink sync=false", spb, n_buffers);
  else
    snprintf (desc, sizeof desc, "audiotestsrc samplesperbuffer=%u "
        "num-buffers=%u wave=sine ! audio/x-raw,format=F32LE,channels=1,"
        "rate=16000 ! %s name=el model-file=\"%s\"%s%s ! fakesink "
        "sync=false", spb, n_buffers, element, model,
        strcmp (precision (), "f32") != 0 ? " precision=" : "",
        strcmp (precision (), "f32") != 0 ? precision () : "");
  pipeline = gst_parse_launch (desc, &error);
  if (pipeline == NULL) {
    fprintf (stderr, "bench-pipeline: %s\n", error->message);
    g_error_free (error);
    return FALSE;
  }
  el = gst_bin_get_by_name (GST_BIN (pipeline), "el");
  {
    GstPad *sink = gst_element_get_static_pad (el, "sink");
    GstPad *src = gst_element_get_static_pad (el, "src");

    gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_BUFFER, sink_probe, &p, NULL);
    gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER, src_probe, &p, NULL);
    gst_object_unref (sink);
    gst_object_unref (src);
  }
  gst_object_unref (el);

  bus = gst_element_get_bus (pipeline);
  t0 = bu_now ();
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  r->wall = bu_now () - t0;
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *e = NULL;
    gchar *dbg = NULL;

    gst_message_parse_error (msg, &e, &dbg);
    fprintf (stderr, "bench-pipeline: %s (%s)\n", e->message,
        dbg ? dbg : "");
    g_error_free (e);
    g_free (dbg);
    ok = FALSE;
  }
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  if (!ok)
    return FALSE;
  if (p.n_in < p.warm + 2 || p.n_steady_out == 0) {
    fprintf (stderr, "bench-pipeline: only %u buffers reached the element, "
        "%u left it\n", p.n_in, p.n_steady_out);
    return FALSE;
  }
  r->pipe_fps = (double) (p.n_in - 1 - p.warm) * spb / (p.t_last - p.t_first);
  r->elem_fps = (double) p.n_steady_out * spb / p.elem_time;
  r->elem_allocs = (double) p.elem_allocs / p.n_steady_out;
  r->thread_allocs = (double) (p.a_last - p.a_first) / (p.n_in - 1 - p.warm);
  return TRUE;
}

/* The engine alone on @model, calls of @spb frames with the state carried,
 * @frames frames in all: frames per second (the same work as the element's
 * engine calls, timed in the same process between the pipeline runs, so
 * that the overhead estimate does not mix two moments of a noisy machine).
 * 0 on error. */
static gboolean
set_precision (rnn_model *m, rnn_error *err)
{
  rnn_precision p;

  if (!rnn_precision_from_name (precision (), &p)) {
    snprintf (err->msg, sizeof err->msg, "unknown precision '%s'",
        precision ());
    return FALSE;
  }
  return rnn_model_set_precision (m, p, err) == RNN_OK;
}

static double
engine_fps (const char *model, guint spb, guint frames)
{
  rnn_model *m = NULL;
  rnn_state *st = NULL;
  rnn_error err;
  float *x, *y;
  guint i, calls = MAX (1, frames / spb);
  double t0, dt;

  if (rnn_model_load (model, &m, &err) != RNN_OK
      || !set_precision (m, &err)
      || rnn_state_new (m, spb, &st, &err) != RNN_OK) {
    fprintf (stderr, "bench-pipeline: %s\n", err.msg);
    rnn_model_free (m);
    return 0;
  }
  x = g_new (float, (gsize) spb * rnn_model_input_size (m));
  y = g_new (float, (gsize) spb * rnn_model_output_size (m));
  for (i = 0; i < spb * (guint) rnn_model_input_size (m); i++)
    x[i] = sinf (0.1f * i);
  for (i = 0; i < MIN (calls, 10); i++)
    rnn_state_forward (st, x, spb, y, &err);
  t0 = bu_now ();
  for (i = 0; i < calls; i++)
    rnn_state_forward (st, x, spb, y, &err);
  dt = bu_now () - t0;
  g_free (x);
  g_free (y);
  rnn_state_free (st);
  rnn_model_free (m);
  return (double) calls * spb / dt;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median (double *v, int n)
{
  qsort (v, n, sizeof *v, cmp_double);
  return v[n / 2];
}

/* Allocation counting runs in a child process started with
 * G_SLICE=always-malloc, so that GLib's slice allocator (which GStreamer
 * uses for buffers, memories and events) goes through malloc and is seen;
 * the timed runs keep the allocator users get. The child prints
 * "ELEM_ALLOCS THREAD_ALLOCS" for a run of 400 buffers. */
static gboolean
count_allocs (char **argv, double *elem, double *thread)
{
  gchar **envp = g_get_environ ();
  gchar *out = NULL;
  gint status = 0;
  GError *error = NULL;
  gboolean ok;

  envp = g_environ_setenv (envp, "G_SLICE", "always-malloc", TRUE);
  envp = g_environ_setenv (envp, "BENCH_PIPELINE_COUNT", "1", TRUE);
  ok = g_spawn_sync (NULL, argv, envp, G_SPAWN_DEFAULT, NULL, NULL, &out,
      NULL, &status, &error)
      && g_spawn_check_wait_status (status, &error)
      && sscanf (out, "%lf %lf", elem, thread) == 2;
  if (!ok)
    fprintf (stderr, "bench-pipeline: allocation count failed: %s\n",
        error ? error->message : (out ? out : ""));
  g_clear_error (&error);
  g_free (out);
  g_strfreev (envp);
  return ok;
}

int
main (int argc, char **argv)
{
  const char *element, *model;
  guint spb, n;
  double min_time = 0.3;
  int reps = 3, i;
  run_result r;
  double pipe[16], elem[16], eng[16], ratio[16], ea = -1, ta = -1;
  gboolean with_engine;
  gchar **argv_copy = g_strdupv (argv);

  gst_init (&argc, &argv);
  if (argc < 4) {
    fprintf (stderr, "usage: %s ELEMENT MODEL SAMPLES_PER_BUFFER "
        "[MIN_TIME [REPS]]\n", argv[0]);
    return 2;
  }
  element = argv[1];
  model = argv[2];
  spb = atoi (argv[3]);
  if (argc > 4)
    min_time = atof (argv[4]);
  if (argc > 5)
    reps = CLAMP (atoi (argv[5]), 1, 16);

  if (g_getenv ("BENCH_PIPELINE_COUNT") != NULL) {
    if (!run_once (element, model, spb, 400, &r))
      return 1;
    printf ("%.3f %.3f\n", r.elem_allocs, r.thread_allocs);
    return 0;
  }

  with_engine = strcmp (element, "none") != 0
      && strcmp (element, "control") != 0;

  /* Calibration (also the warm-up): 60 buffers, then size the runs. */
  if (!run_once (element, model, spb, 60, &r))
    return 1;
  n = (guint) CLAMP (min_time * r.pipe_fps / spb, 60, 5e6);
  for (i = 0; i < reps; i++) {
    if (!run_once (element, model, spb, n, &r))
      return 1;
    pipe[i] = r.pipe_fps;
    elem[i] = r.elem_fps;
    eng[i] = with_engine ? engine_fps (model, spb, n * spb) : 0;
    ratio[i] = eng[i] / elem[i];
  }
  if (!count_allocs (argv_copy, &ea, &ta))
    return 1;
  printf ("pipe\t%s\t%s\t%u\t%.1f\t%.1f\t%.3f\t%.3f\t%ld\t%.1f\t%.4f\t%s\n",
      element, model, spb, median (pipe, reps), median (elem, reps), ea, ta,
      bu_peak_rss_kib (), median (eng, reps), median (ratio, reps) - 1,
      precision ());
  g_strfreev (argv_copy);
  return 0;
}
