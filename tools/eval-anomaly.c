/* gst-rnn: rnn-eval anomaly. The series goes through
 * appsrc ! gruanomaly ! appsink (the element itself, with the properties
 * given), the start messages it posts are the detections, and they are
 * scored against labelled windows: event precision and recall, false alarms
 * per 1,000 clean frames, detection delay, and the Numenta Anomaly
 * Benchmark's windowed score (docs/rnn-train.md). A rolling z-score is
 * scored on the same frames with the same rules.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "eval-anomaly.h"

#include "gstrnnelements.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define PUSH_FRAMES 256

/* A labelled window: frames [a, b] (inclusive). */
typedef struct {
  size_t a, b;
} ea_window;

/* NAB's application profiles (tpWeight, fpWeight, fnWeight). */
typedef struct {
  const char *name;
  double tp, fp, fn;
} ea_profile;

static const ea_profile profiles[] = {
  { "standard", 1.0, 0.11, 1.0 },
  { "low_fp", 1.0, 0.22, 1.0 },
  { "low_fn", 1.0, 0.11, 2.0 },
};
#define N_PROFILES 3

/* One detector's start events and what they score. */
typedef struct {
  const char *key;              /* column prefix in --output */
  char *name;
  guint8 *start;                /* n frames: 1 where an anomaly started */
  float *score;                 /* n frames: the detector's score */
  size_t starts, hits, false_starts;
  size_t found;                 /* windows with a start */
  gssize *first;                /* per window: first start frame, or -1 */
  double delay_frames, delay_seconds;
  double raw[N_PROFILES], nothing[N_PROFILES], null_raw[N_PROFILES];
  double nab[N_PROFILES], nab_best[N_PROFILES];
} ea_detector;

/* ------------------------------------------------------------ windows */

static int
cmp_window (const void *x, const void *y)
{
  const ea_window *a = x, *b = y;
  return a->a < b->a ? -1 : a->a > b->a ? 1 : 0;
}

/* Seconds of a time text: a number, or an ISO 8601 date and time (a space
 * may separate them; UTC unless it names a zone); NAN otherwise. */
static double
time_seconds (const char *text)
{
  char *end;
  double v = g_ascii_strtod (text, &end);
  if (end != text && *end == '\0')
    return v;
  char *iso = g_strstrip (g_strdup (text));
  char *sp = strchr (iso, ' ');
  if (sp)
    *sp = 'T';
  GTimeZone *utc = g_time_zone_new_utc ();
  GDateTime *dt = g_date_time_new_from_iso8601 (iso, utc);
  g_time_zone_unref (utc);
  g_free (iso);
  if (!dt)
    return NAN;
  v = (double) g_date_time_to_unix (dt)
      + g_date_time_get_microsecond (dt) / 1e6;
  g_date_time_unref (dt);
  return v;
}

/* Frame of a window bound: with a time column, the first frame whose time
 * text is @bound, or whose time is the same instant or number; without
 * one, a 0-based frame number. */
static size_t
bound_frame (const td_signal *s, const double *secs, const char *bound,
    const char *file)
{
  if (!s->time) {
    guint64 v;
    if (!g_ascii_string_to_unsigned (bound, 10, 0, G_MAXUINT64, &v, NULL)
        || v >= s->n_frames) {
      td_die ("%s: window bound '%s' is not a frame number below %zu (give "
          "--time-column to use times)", file, bound, s->n_frames);
    }
    return (size_t) v;
  }
  for (size_t i = 0; i < s->n_frames; i++)
    if (strcmp (s->time[i], bound) == 0)
      return i;
  double t = time_seconds (bound);
  if (!isnan (t))
    for (size_t i = 0; i < s->n_frames; i++)
      if (secs[i] == t)
        return i;
  td_die ("%s: window bound '%s' is not a time of %s", file, bound, s->path);
}

static void
add_window (GArray *w, const td_signal *s, const double *secs,
    const char *a, const char *b, const char *file)
{
  ea_window win = { bound_frame (s, secs, a, file),
    bound_frame (s, secs, b, file) };
  if (win.b < win.a)
    td_die ("%s: window %s - %s ends before it starts", file, a, b);
  g_array_append_val (w, win);
}

/* A JSON node holding [start, end]: strings or numbers. */
static char *
json_bound (JsonArray *pair, guint i)
{
  JsonNode *n = json_array_get_element (pair, i);
  if (JSON_NODE_HOLDS_VALUE (n)) {
    GType t = json_node_get_value_type (n);
    if (t == G_TYPE_STRING)
      return g_strdup (json_node_get_string (n));
    if (t == G_TYPE_INT64)
      return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (n));
    if (t == G_TYPE_DOUBLE) {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      return g_strdup (g_ascii_dtostr (buf, sizeof buf,
              json_node_get_double (n)));
    }
  }
  return NULL;
}

static void
windows_from_json_array (GArray *w, JsonArray *arr, const td_signal *s,
    const double *secs, const char *file)
{
  for (guint i = 0; i < json_array_get_length (arr); i++) {
    JsonNode *n = json_array_get_element (arr, i);
    JsonArray *pair = JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n)
        : NULL;
    char *a = pair && json_array_get_length (pair) == 2
        ? json_bound (pair, 0) : NULL;
    char *b = a ? json_bound (pair, 1) : NULL;
    if (!a || !b)
      td_die ("%s: window %u is not a pair [start, end]", file, i);
    add_window (w, s, secs, a, b, file);
    g_free (a);
    g_free (b);
  }
}

/* The windows file: JSON (an array of [start, end] pairs, or an object of
 * such arrays keyed by data file, as NAB's label files; the key naming the
 * data file's path or ending with its name is used) or text (one
 * `start,end` per line; blank lines and lines starting with '#' skipped). */
static void
windows_from_file (GArray *w, const char *file, const td_signal *s,
    const double *secs)
{
  char *text;
  gsize len;
  GError *gerr = NULL;
  if (!g_file_get_contents (file, &text, &len, &gerr))
    td_die ("%s", gerr->message);
  const char *p = text;
  while (*p && g_ascii_isspace (*p))
    p++;
  if (*p == '[' || *p == '{') {
    JsonParser *jp = json_parser_new ();
    if (!json_parser_load_from_data (jp, text, (gssize) len, &gerr))
      td_die ("%s: %s", file, gerr->message);
    JsonNode *root = json_parser_get_root (jp);
    if (JSON_NODE_HOLDS_ARRAY (root)) {
      windows_from_json_array (w, json_node_get_array (root), s, secs, file);
    } else {
      JsonObject *o = json_node_get_object (root);
      GList *keys = json_object_get_members (o);
      char *base = g_path_get_basename (s->path);
      const char *key = NULL;
      for (GList *k = keys; k && !key; k = k->next) {
        const char *name = k->data;
        size_t ln = strlen (name), lp = strlen (s->path);
        if (strcmp (name, s->path) == 0
            || (lp > ln && strcmp (s->path + lp - ln, name) == 0
                && s->path[lp - ln - 1] == '/'))
          key = name;
      }
      for (GList *k = keys; k && !key; k = k->next) {
        char *kb = g_path_get_basename (k->data);
        if (strcmp (kb, base) == 0)
          key = k->data;
        g_free (kb);
      }
      if (!key)
        td_die ("%s: no entry for %s (keys are data file paths)", file,
            s->path);
      JsonNode *n = json_object_get_member (o, key);
      if (!JSON_NODE_HOLDS_ARRAY (n))
        td_die ("%s: entry %s is not an array of windows", file, key);
      windows_from_json_array (w, json_node_get_array (n), s, secs, file);
      g_list_free (keys);
      g_free (base);
    }
    g_object_unref (jp);
  } else {
    char **lines = g_strsplit (text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
      char *l = g_strstrip (lines[i]);
      if (*l == '\0' || *l == '#')
        continue;
      char **f = g_strsplit (l, ",", -1);
      if (g_strv_length (f) != 2)
        td_die ("%s:%u: expected start,end", file, i + 1);
      add_window (w, s, secs, g_strstrip (f[0]), g_strstrip (f[1]), file);
      g_strfreev (f);
    }
    g_strfreev (lines);
  }
  g_free (text);
}

/* Runs of label rows (non-zero) inside each sequence, plus the file's
 * windows; sorted, overlapping or touching windows merged. */
static GArray *
collect_windows (const ea_options *o, const td_signal *s, const double *secs)
{
  GArray *w = g_array_new (FALSE, FALSE, sizeof (ea_window));
  if (s->label) {
    for (guint g = 0; g < s->segments->len; g++) {
      const td_segment *seg = &g_array_index (s->segments, td_segment, g);
      for (size_t i = seg->start; i < seg->start + seg->length; i++) {
        if (!s->label[i])
          continue;
        ea_window win = { i, i };
        while (win.b + 1 < seg->start + seg->length && s->label[win.b + 1])
          win.b++;
        g_array_append_val (w, win);
        i = win.b;
      }
    }
  }
  if (o->windows)
    windows_from_file (w, o->windows, s, secs);
  g_array_sort (w, cmp_window);
  GArray *m = g_array_new (FALSE, FALSE, sizeof (ea_window));
  for (guint i = 0; i < w->len; i++) {
    ea_window win = g_array_index (w, ea_window, i);
    if (m->len > 0) {
      ea_window *last = &g_array_index (m, ea_window, m->len - 1);
      if (win.a <= last->b + 1) {
        last->b = MAX (last->b, win.b);
        continue;
      }
    }
    g_array_append_val (m, win);
  }
  g_array_free (w, TRUE);
  return m;
}

/* ------------------------------------------------------------- the element */

typedef struct {
  GArray *scores;               /* floats, groups per frame */
  guint groups;
  gboolean bad;
} ea_sink;

static GstFlowReturn
on_sample (GstAppSink *sink, gpointer user)
{
  ea_sink *es = user;
  GstSample *sample = gst_app_sink_pull_sample (sink);
  if (!sample)
    return GST_FLOW_EOS;
  GstStructure *st = gst_caps_get_structure (gst_sample_get_caps (sample), 0);
  gint ch = 1;
  if (gst_structure_has_name (st, "audio/x-raw"))
    gst_structure_get_int (st, "channels", &ch);
  else
    es->bad = TRUE;
  es->groups = (guint) ch;
  GstBuffer *buf = gst_sample_get_buffer (sample);
  GstMapInfo map;
  if (buf && !GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP)
      && gst_buffer_map (buf, &map, GST_MAP_READ)) {
    g_array_append_vals (es->scores, map.data,
        (guint) (map.size / sizeof (float)));
    gst_buffer_unmap (buf, &map);
  }
  gst_sample_unref (sample);
  return GST_FLOW_OK;
}

/* Sets gruanomaly's properties from "name=value ..." (shell quoting). */
static void
apply_element_args (GstElement *el, const char *args)
{
  if (!args || !*args)
    return;
  int argc;
  char **argv;
  GError *gerr = NULL;
  if (!g_shell_parse_argv (args, &argc, &argv, &gerr))
    td_die ("--element-args: %s", gerr->message);
  for (int i = 0; i < argc; i++) {
    char *eq = strchr (argv[i], '=');
    if (!eq)
      td_die ("--element-args: '%s' is not name=value", argv[i]);
    *eq = '\0';
    GParamSpec *ps = g_object_class_find_property (G_OBJECT_GET_CLASS (el),
        argv[i]);
    if (!ps || !(ps->flags & G_PARAM_WRITABLE))
      td_die ("--element-args: gruanomaly has no property '%s' (see "
          "gst-inspect-1.0 gruanomaly)", argv[i]);
    if (strcmp (argv[i], "model-file") == 0)
      td_die ("--element-args: give the model with --model");
    GValue v = G_VALUE_INIT;
    g_value_init (&v, ps->value_type);
    if (!gst_value_deserialize (&v, eq + 1) || g_param_value_validate (ps, &v))
      td_die ("--element-args: '%s' is not a valid value of %s (%s)", eq + 1,
          argv[i], g_type_name (ps->value_type));
    g_object_set_property (G_OBJECT (el), argv[i], &v);
    g_value_unset (&v);
  }
  g_strfreev (argv);
}

/* The "name=value" of the element's non-default properties that scoring
 * depends on, for the report. */
static char *
describe_element (GstElement *el)
{
  static const char *names[] = { "scoring", "threshold", "hold",
    "error-window", "warmup", "per-channel", NULL };
  GString *d = g_string_new ("gruanomaly");
  for (int i = 0; names[i]; i++) {
    GParamSpec *ps = g_object_class_find_property (G_OBJECT_GET_CLASS (el),
        names[i]);
    if (!ps)
      continue;
    GValue v = G_VALUE_INIT;
    g_value_init (&v, ps->value_type);
    g_object_get_property (G_OBJECT (el), names[i], &v);
    char *txt;
    if (G_VALUE_HOLDS_DOUBLE (&v)) {
      txt = g_strdup_printf ("%g", g_value_get_double (&v));
    } else if (G_VALUE_HOLDS_ENUM (&v)) {
      GEnumValue *ev = g_enum_get_value (G_ENUM_CLASS (g_type_class_peek
              (ps->value_type)), g_value_get_enum (&v));
      txt = g_strdup (ev ? ev->value_nick : "?");
    } else {
      txt = gst_value_serialize (&v);
    }
    if (strcmp (names[i], "per-channel") != 0 || g_value_get_boolean (&v))
      g_string_append_printf (d, " %s=%s", names[i], txt);
    g_free (txt);
    g_value_unset (&v);
  }
  return g_string_free (d, FALSE);
}

/* Runs one sequence (frames [first, first + n)) through a new pipeline:
 * F32LE frames at 1 frame per second in PUSH_FRAMES-frame buffers. Scores
 * go to @score (the largest over channels in per-channel mode), start
 * messages to @start. Returns the element's description. */
static char *
run_sequence (const ea_options *o, const td_signal *s, size_t first,
    size_t n, float *score, guint8 *start)
{
  const int F = s->n_features;
  GstElement *pipe = gst_pipeline_new (NULL);
  GstElement *src = g_object_new (GST_TYPE_APP_SRC, NULL);
  GstElement *det = gst_element_factory_make ("gruanomaly", NULL);
  GstElement *sink = g_object_new (GST_TYPE_APP_SINK, NULL);
  GstCaps *caps = gst_caps_new_simple ("audio/x-raw",
      "format", G_TYPE_STRING, "F32LE", "layout", G_TYPE_STRING,
      "interleaved", "rate", G_TYPE_INT, 1, "channels", G_TYPE_INT, F, NULL);
  g_object_set (src, "caps", caps, "format", GST_FORMAT_TIME,
      "block", FALSE, "max-bytes", (guint64) G_MAXUINT64, NULL);
  gst_caps_unref (caps);
  g_object_set (det, "model-file", o->model, NULL);
  apply_element_args (det, o->element_args);
  g_object_set (sink, "sync", FALSE, NULL);
  ea_sink es = { g_array_new (FALSE, FALSE, sizeof (float)), 1, FALSE };
  GstAppSinkCallbacks cb = { .new_sample = on_sample };
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &cb, &es, NULL);
  gst_bin_add_many (GST_BIN (pipe), src, det, sink, NULL);
  if (!gst_element_link_many (src, det, sink, NULL))
    td_die ("could not link appsrc ! gruanomaly ! appsink");

  GstBus *bus = gst_element_get_bus (pipe);
  char *error = NULL;
  if (gst_element_set_state (pipe, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    if (m) {
      GError *e;
      gst_message_parse_error (m, &e, NULL);
      error = g_strdup (e->message);
      g_error_free (e);
      gst_message_unref (m);
    }
    td_die ("gruanomaly would not start: %s", error ? error : "unknown");
  }
  char *desc = describe_element (det);
  for (size_t done = 0; done < n; done += PUSH_FRAMES) {
    size_t m = MIN ((size_t) PUSH_FRAMES, n - done);
    GstBuffer *b = gst_buffer_new_memdup (s->x + (first + done) * F,
        m * F * sizeof (float));
    GST_BUFFER_PTS (b) = done * GST_SECOND;
    GST_BUFFER_DURATION (b) = m * GST_SECOND;
    if (gst_app_src_push_buffer (GST_APP_SRC (src), b) != GST_FLOW_OK)
      break;
  }
  gst_app_src_end_of_stream (GST_APP_SRC (src));

  for (;;) {
    GstMessage *m = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT);
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS) {
      gst_message_unref (m);
      break;
    }
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
      GError *e;
      char *dbg;
      gst_message_parse_error (m, &e, &dbg);
      td_die ("gruanomaly on %s: %s", s->path, e->message);
    }
    const GstStructure *st = gst_message_get_structure (m);
    const char *ev = st ? gst_structure_get_string (st, "event") : NULL;
    guint64 ts;
    if (st && gst_structure_has_name (st, "gruanomaly") && ev
        && strcmp (ev, "start") == 0
        && gst_structure_get_uint64 (st, "timestamp", &ts)) {
      guint64 f = gst_util_uint64_scale_round (ts, 1, GST_SECOND);
      if (f < n)
        start[first + f] = 1;
    }
    gst_message_unref (m);
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipe);

  if (es.bad || es.scores->len != n * es.groups)
    td_die ("gruanomaly gave %u scores for %zu frames", es.scores->len, n);
  const float *sc = (const float *) es.scores->data;
  for (size_t i = 0; i < n; i++) {
    float v = sc[i * es.groups];
    for (guint c = 1; c < es.groups; c++)
      v = MAX (v, sc[i * es.groups + c]);
    score[first + i] = v;
  }
  g_array_free (es.scores, TRUE);
  return desc;
}

/* ------------------------------------------------------------ the baseline */

/* Rolling z-score: per feature, |x - mean| / std over the previous W frames
 * of the sequence (0 until W frames are there); the frame's score is the
 * largest. An anomaly starts where the score reaches the threshold and ends
 * where it falls below, as gruanomaly's fixed scoring. */
static void
run_baseline (const ea_options *o, const td_signal *s, ea_detector *d)
{
  const int F = s->n_features, W = o->baseline_window;
  for (guint g = 0; g < s->segments->len; g++) {
    const td_segment *seg = &g_array_index (s->segments, td_segment, g);
    gboolean on = FALSE;
    for (size_t t = 0; t < seg->length; t++) {
      size_t r = seg->start + t;
      double z = 0;
      if (t >= (size_t) W) {
        for (int k = 0; k < F; k++) {
          double sum = 0, sq = 0;
          for (size_t j = r - W; j < r; j++)
            sum += s->x[j * F + k];
          double mean = sum / W;
          for (size_t j = r - W; j < r; j++) {
            double e = s->x[j * F + k] - mean;
            sq += e * e;
          }
          double sd = sqrt (sq / W);
          double e = fabs (s->x[r * F + k] - mean);
          double zk = sd > 0 ? e / sd : e > 0 ? INFINITY : 0;
          z = MAX (z, zk);
        }
      }
      d->score[r] = (float) z;
      if (!on && z >= o->baseline_threshold) {
        d->start[r] = 1;
        on = TRUE;
      } else if (on && z < o->baseline_threshold) {
        on = FALSE;
      }
    }
  }
}

/* ------------------------------------------------------------ scoring */

/* NAB's scaled sigmoid: 2 / (1 + exp(5 y)) - 1, and -1 past y = 3. */
static double
scaled_sigmoid (double y)
{
  if (y > 3.0)
    return -1.0;
  return 2.0 / (1.0 + exp (5.0 * y)) - 1.0;
}

/* NAB's reward of a detection at each frame (unweighted) and whether the
 * frame lies in a window (-1: outside, else the window). Inside window
 * [a, b] of width w = b - a + 1 it is sigma(-(b - i + 1) / w): sigma(-1) at
 * the first frame, about 0 at the last. Outside, sigma(|i - b'| / (w' - 1))
 * after window [a', b'] of width w' (-1 when w' is 1), -1 before the first
 * window. */
static void
row_rewards (size_t n, const GArray *w, double *reward, gssize *in)
{
  guint next = 0;
  gssize cur = -1;
  gssize last_right = -1;
  double last_width = 0;
  for (size_t i = 0; i < n; i++) {
    if (next < w->len && i == g_array_index (w, ea_window, next).a)
      cur = next++;
    if (cur >= 0) {
      const ea_window *win = &g_array_index (w, ea_window, cur);
      double width = (double) (win->b - win->a + 1);
      reward[i] = scaled_sigmoid (-((double) win->b - (double) i + 1) / width);
      in[i] = cur;
      if (i == win->b) {
        last_right = (gssize) i;
        last_width = width;
        cur = -1;
      }
    } else {
      in[i] = -1;
      if (last_right < 0)
        reward[i] = -1.0;
      else if (last_width <= 1)
        reward[i] = -1.0;
      else
        reward[i] = scaled_sigmoid (fabs ((double) last_right - (double) i)
            / (last_width - 1));
    }
  }
}

/* The NAB raw score of detections @det (frames from @prob on): each
 * window's earliest detection earns tp * reward / sigma(-1), a window
 * without one -fn; each detection outside windows adds fp * reward. A
 * window wholly in the probation period counts neither way. */
static double
nab_raw (size_t n, size_t prob, const GArray *w, const double *reward,
    const gssize *in, const guint8 *det, const ea_profile *p)
{
  const double top = scaled_sigmoid (-1.0);
  double s = 0;
  double *best = g_new (double, w->len + 1);
  gboolean *scorable = g_new0 (gboolean, w->len + 1);
  for (guint k = 0; k < w->len; k++)
    best[k] = -p->fn;
  for (size_t i = prob; i < n; i++) {
    if (in[i] >= 0)
      scorable[in[i]] = TRUE;
    if (!det[i])
      continue;
    if (in[i] >= 0)
      best[in[i]] = MAX (best[in[i]], reward[i] * p->tp / top);
    else
      s += reward[i] * p->fp;
  }
  for (guint k = 0; k < w->len; k++)
    if (scorable[k])
      s += best[k];
  g_free (best);
  g_free (scorable);
  return s;
}

static void
score_detector (ea_detector *d, size_t n, size_t prob, const GArray *w,
    const double *reward, const gssize *in, const double *secs, double rate)
{
  guint8 *none = g_new0 (guint8, n), *all = g_new (guint8, n);
  memset (all, 1, n);
  d->first = g_new (gssize, w->len + 1);
  for (guint k = 0; k < w->len; k++)
    d->first[k] = -1;
  for (size_t i = prob; i < n; i++) {
    if (!d->start[i])
      continue;
    d->starts++;
    if (in[i] < 0) {
      d->false_starts++;
    } else {
      d->hits++;
      if (d->first[in[i]] < 0)
        d->first[in[i]] = (gssize) i;
    }
  }
  double df = 0, ds = 0;
  for (guint k = 0; k < w->len; k++) {
    if (d->first[k] < 0)
      continue;
    const ea_window *win = &g_array_index (w, ea_window, k);
    size_t from = MAX (win->a, prob);
    d->found++;
    df += (double) ((size_t) d->first[k] - from);
    ds += secs ? secs[d->first[k]] - secs[from]
        : (double) ((size_t) d->first[k] - from) / rate;
  }
  d->delay_frames = d->found ? df / d->found : NAN;
  d->delay_seconds = d->found ? ds / d->found : NAN;
  for (int p = 0; p < N_PROFILES; p++) {
    const ea_profile *pr = &profiles[p];
    double perfect = w->len * pr->tp;
    d->raw[p] = nab_raw (n, prob, w, reward, in, d->start, pr);
    d->nothing[p] = nab_raw (n, prob, w, reward, in, none, pr);
    /* the null detector (a constant score) detects nothing or everything,
     * whichever scores better */
    d->null_raw[p] = MAX (d->nothing[p],
        nab_raw (n, prob, w, reward, in, all, pr));
    double span = perfect - d->null_raw[p];
    d->nab[p] = span != 0 ? 100 * (d->raw[p] - d->null_raw[p]) / span : NAN;
    d->nab_best[p] = span != 0 ? 100 * (MAX (d->raw[p], d->nothing[p])
        - d->null_raw[p]) / span : NAN;
  }
  g_free (none);
  g_free (all);
}

/* ------------------------------------------------------------ report */

/* Windows with a frame after the probation period (the ones recall counts). */
static size_t
scored_windows (const GArray *w, size_t prob)
{
  size_t c = 0;
  for (guint k = 0; k < w->len; k++)
    c += g_array_index (w, ea_window, k).b >= prob;
  return c;
}

static double
ratio (size_t a, size_t b)
{
  return b ? (double) a / (double) b : NAN;
}

static void
add_double (JsonBuilder *b, const char *name, double v)
{
  json_builder_set_member_name (b, name);
  if (isfinite (v))
    json_builder_add_double_value (b, v);
  else
    json_builder_add_null_value (b);
}

static void
add_int (JsonBuilder *b, const char *name, gint64 v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, v);
}

static void
write_json (const ea_options *o, const td_signal *s, size_t prob,
    size_t clean, const GArray *w, ea_detector *dets, int nd)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "data");
  json_builder_add_string_value (b, s->path);
  add_int (b, "frames", (gint64) s->n_frames);
  add_int (b, "probation", (gint64) prob);
  add_int (b, "clean_frames", (gint64) clean);
  json_builder_set_member_name (b, "windows");
  json_builder_begin_array (b);
  for (guint k = 0; k < w->len; k++) {
    const ea_window *win = &g_array_index (w, ea_window, k);
    json_builder_begin_array (b);
    json_builder_add_int_value (b, (gint64) win->a);
    json_builder_add_int_value (b, (gint64) win->b);
    json_builder_end_array (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "detectors");
  json_builder_begin_array (b);
  for (int i = 0; i < nd; i++) {
    ea_detector *d = &dets[i];
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, d->name);
    add_int (b, "starts", (gint64) d->starts);
    add_int (b, "true_starts", (gint64) d->hits);
    add_int (b, "false_alarms", (gint64) d->false_starts);
    add_double (b, "false_alarms_per_1000", 1000 * ratio (d->false_starts,
            clean));
    add_double (b, "precision", ratio (d->hits, d->starts));
    add_int (b, "windows_found", (gint64) d->found);
    add_double (b, "recall", ratio (d->found, scored_windows (w, prob)));
    add_double (b, "delay_frames", d->delay_frames);
    add_double (b, "delay_seconds", d->delay_seconds);
    json_builder_set_member_name (b, "first_start");
    json_builder_begin_array (b);
    for (guint k = 0; k < w->len; k++)
      json_builder_add_int_value (b, d->first[k]);
    json_builder_end_array (b);
    const char *groups[] = { "nab", "nab_best", "raw", "null_raw" };
    for (int g = 0; g < 4; g++) {
      const double *v = g == 0 ? d->nab : g == 1 ? d->nab_best
          : g == 2 ? d->raw : d->null_raw;
      json_builder_set_member_name (b, groups[g]);
      json_builder_begin_object (b);
      for (int p = 0; p < N_PROFILES; p++)
        add_double (b, profiles[p].name, v[p]);
      json_builder_end_object (b);
    }
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  JsonGenerator *gen = json_generator_new ();
  json_generator_set_pretty (gen, TRUE);
  JsonNode *root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  GError *gerr = NULL;
  if (!json_generator_to_file (gen, o->json, &gerr))
    td_die ("%s", gerr->message);
  json_node_unref (root);
  g_object_unref (gen);
  g_object_unref (b);
}

/* timestamp,value,anomaly_score as NAB's results files (anomaly_score 1 at
 * the element's start events, else 0), then the scores, the baseline's
 * starts and whether the frame lies in a window. */
static void
write_output (const ea_options *o, const td_signal *s, const gssize *in,
    ea_detector *dets, int nd)
{
  FILE *f = fopen (o->output, "w");
  if (!f)
    td_die ("%s: %s", o->output, g_strerror (errno));
  fprintf (f, "timestamp,value,anomaly_score");
  for (int i = 0; i < nd; i++)
    fprintf (f, ",%s_score,%s_start", dets[i].key, dets[i].key);
  fprintf (f, ",window\n");
  for (size_t r = 0; r < s->n_frames; r++) {
    if (s->time)
      fprintf (f, "%s", s->time[r]);
    else
      fprintf (f, "%zu", r);
    fprintf (f, ",%.9g,%d", s->x[r * s->n_features], dets[0].start[r]);
    for (int i = 0; i < nd; i++)
      fprintf (f, ",%.9g,%d", dets[i].score[r], dets[i].start[r]);
    fprintf (f, ",%d\n", in[r] >= 0 ? (int) in[r] + 1 : 0);
  }
  if (fclose (f) != 0)
    td_die ("%s: write failed", o->output);
}

static void
print_report (const ea_options *o, const td_signal *s, size_t prob,
    size_t clean, const GArray *w, ea_detector *dets, int nd, double rate,
    gboolean have_secs)
{
  size_t wf = 0;
  for (guint k = 0; k < w->len; k++) {
    const ea_window *win = &g_array_index (w, ea_window, k);
    wf += win->b - win->a + 1;
  }
  printf ("%s: %zu frames, the first %zu not scored; %u windows (%zu "
      "frames), %zu clean frames scored\n", s->path, s->n_frames, prob,
      w->len, wf, clean);
  printf ("%-44s %6s %6s %6s %7s %9s %8s %10s %10s %9s %9s %9s\n",
      "detector (start events)", "starts", "in win", "false", "FA/1k",
      "precision", "recall", "delay (fr)", "delay (s)", "NAB std", "low FP",
      "low FN");
  for (int i = 0; i < nd; i++) {
    ea_detector *d = &dets[i];
    char rec[32];
    g_snprintf (rec, sizeof rec, "%zu/%zu", d->found,
        scored_windows (w, prob));
    printf ("%-44s %6zu %6zu %6zu %7.3f %9.3f %8s %10.1f %10.1f %9.2f %9.2f "
        "%9.2f\n", d->name, d->starts, d->hits, d->false_starts,
        1000 * ratio (d->false_starts, clean), ratio (d->hits, d->starts),
        rec, d->delay_frames, d->delay_seconds, d->nab[0], d->nab[1],
        d->nab[2]);
  }
  if (w->len > 0) {
    printf ("%-6s %-26s %-26s %7s", "window", "first frame", "last frame",
        "frames");
    for (int i = 0; i < nd; i++)
      printf (" %16s delay", dets[i].key);
    printf ("\n");
    for (guint k = 0; k < w->len; k++) {
      const ea_window *win = &g_array_index (w, ea_window, k);
      char a[64], b[64];
      g_snprintf (a, sizeof a, "%zu%s%s%s", win->a, s->time ? " (" : "",
          s->time ? s->time[win->a] : "", s->time ? ")" : "");
      g_snprintf (b, sizeof b, "%zu%s%s%s", win->b, s->time ? " (" : "",
          s->time ? s->time[win->b] : "", s->time ? ")" : "");
      printf ("%-6u %-26s %-26s %7zu", k + 1, a, b, win->b - win->a + 1);
      for (int i = 0; i < nd; i++) {
        char dl[40];
        if (win->b < prob)
          g_snprintf (dl, sizeof dl, "not scored");
        else if (dets[i].first[k] < 0)
          g_snprintf (dl, sizeof dl, "missed");
        else
          g_snprintf (dl, sizeof dl, "%zu fr",
              (size_t) dets[i].first[k] - MAX (win->a, prob));
        printf (" %22s", dl);
      }
      printf ("\n");
    }
  }
  printf ("(a start inside a window is a hit, outside it a false alarm; "
      "FA/1k per 1,000 scored frames outside windows; delay from the "
      "window's first scored frame to its first start, seconds %s; NAB: "
      "the start events as posted, 100 = every window at its first frame, "
      "0 = the null detector)\n", have_secs ? "from the time column"
      : rate == 1 ? "at 1 frame per second (--rate)" : "at --rate");
}

/* ------------------------------------------------------------ entry */

int
eval_anomaly (const ea_options *o)
{
  rnn_error err;
  char *cols = NULL;
  if (o->model) {
    rnn_model *m;
    td_check (rnn_model_load (o->model, &m, &err), &err);
    if (rnn_model_task (m) != RNN_TASK_ANOMALY)
      td_die ("%s: a %s model, not an anomaly model (task anomaly)",
          o->model, rnn_task_name (rnn_model_task (m)));
    if (!o->csv.columns)
      cols = td_model_columns (m);
    rnn_model_free (m);
  }
  if (o->baseline_window < 2)
    td_die ("--baseline-window must be at least 2");
  td_csv_options co = o->csv;
  if (cols)
    co.columns = cols;
  td_signal *s;
  td_check (td_signal_read (o->data, &co, &s, &err), &err);
  const size_t n = s->n_frames;
  if (n == 0)
    td_die ("%s: no frames", o->data);

  /* times in seconds, when every frame's time parses */
  double *secs = NULL;
  if (s->time) {
    secs = g_new (double, n);
    for (size_t i = 0; i < n && secs; i++) {
      secs[i] = time_seconds (s->time[i]);
      if (isnan (secs[i]))
        g_clear_pointer (&secs, g_free);
    }
  }
  double rate = o->rate > 0 ? o->rate : 1;

  size_t prob = 0;
  if (o->probation && strcmp (o->probation, "nab") == 0) {
    prob = MIN ((size_t) floor (0.15 * (double) n), 750);
  } else if (o->probation) {
    guint64 v;
    if (!g_ascii_string_to_unsigned (o->probation, 10, 0, G_MAXUINT64, &v,
            NULL))
      td_die ("--probation '%s': a number of frames or 'nab'", o->probation);
    prob = (size_t) MIN (v, (guint64) n);
  }

  GArray *w = collect_windows (o, s, secs);
  double *reward = g_new (double, n);
  gssize *in = g_new (gssize, n);
  row_rewards (n, w, reward, in);
  size_t clean = 0;
  for (size_t i = prob; i < n; i++)
    clean += in[i] < 0;

  ea_detector dets[2];
  int nd = 0;
  memset (dets, 0, sizeof dets);
  if (o->model) {
    ea_detector *d = &dets[nd++];
    d->key = "gruanomaly";
    d->start = g_new0 (guint8, n);
    d->score = g_new0 (float, n);
    gst_init (NULL, NULL);
    /* the element linked into this program, whatever plugins are installed */
    if (!GST_ELEMENT_REGISTER (gruanomaly, NULL))
      td_die ("could not register gruanomaly");
    for (guint g = 0; g < s->segments->len; g++) {
      const td_segment *seg = &g_array_index (s->segments, td_segment, g);
      char *desc = run_sequence (o, s, seg->start, seg->length, d->score,
          d->start);
      if (!d->name)
        d->name = desc;
      else
        g_free (desc);
    }
  }
  {
    ea_detector *d = &dets[nd++];
    d->start = g_new0 (guint8, n);
    d->score = g_new0 (float, n);
    d->key = "baseline";
    d->name = g_strdup_printf ("rolling z-score, window %d, |z| >= %g",
        o->baseline_window, o->baseline_threshold);
    run_baseline (o, s, d);
  }
  for (int i = 0; i < nd; i++)
    score_detector (&dets[i], n, prob, w, reward, in, secs, rate);

  print_report (o, s, prob, clean, w, dets, nd, rate, secs != NULL);
  if (o->output)
    write_output (o, s, in, dets, nd);
  if (o->json)
    write_json (o, s, prob, clean, w, dets, nd);

  for (int i = 0; i < nd; i++) {
    g_free (dets[i].name);
    g_free (dets[i].start);
    g_free (dets[i].score);
    g_free (dets[i].first);
  }
  g_free (reward);
  g_free (in);
  g_free (secs);
  g_array_free (w, TRUE);
  g_free (cols);
  td_signal_free (s);
  return 0;
}
