/* gst-rnn: csvenc, signal buffers to CSV text.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-csvenc
 * @title: csvenc
 * @short_description: writes float signal frames as CSV text
 *
 * csvenc turns signal buffers (`audio/x-raw, format=F32LE,
 * layout=interleaved`, or `other/tensors, format=static, num_tensors=1,
 * types=float32, dimensions=F:N, framerate=R/1`) into CSV text: a header row
 * (`time`, then one name per feature: #GstCsvEnc:column-names or `f0`,
 * `f1`, ...) before the first frame of each stream (and again when the
 * caps change the feature count), then one row per frame: the frame's time,
 * then its values.
 *
 * The time column is the frame's stream time in seconds (the buffer's PTS
 * mapped through the segment; frame i of a buffer is i / frames of the
 * buffer's duration after its PTS, or i frame periods of the caps rate
 * when the buffer has no duration), written exactly to the nanosecond with trailing zeros
 * removed (`12`, `0.25`). In the usual segment starting at 0 this equals the
 * PTS; with a PTS outside the segment the PTS itself is written, and
 * without a PTS the frame count since the stream start divided by the rate.
 * For `lstmforecast` output the time is the instant being forecast.
 *
 * Values are written in the C locale with the fewest significant digits
 * (6 to 9, `%g` style) that read back to the same float32 (`316.1`, not
 * `316.100006`); NaN is written as an empty field
 * (a missing value for csvparse), infinities as `inf` / `-inf`.
 *
 * Output caps: `text/x-raw, format=utf8` (preferred) or `text/csv`; each
 * output buffer holds the rows of one input buffer and keeps its PTS and
 * duration. In other/tensors caps the dimensions must be a string
 * (`dimensions=(string)3:1`): an unquoted `3:1` is parsed as a flag set
 * that has lost the feature count by the time caps are fixed, and is
 * refused with an error saying so.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 audiotestsrc wave=sine freq=1 num-buffers=2 samplesperbuffer=4 ! audio/x-raw,format=F32LE,rate=8 ! csvenc ! fdsink
 * ]| Writes eight frames of a 1 Hz sine wave sampled 8 times a second, with
 * their times (0, 0.125, ...).
 * |[
 * gst-launch-1.0 filesrc location=examples/co2.csv ! csvparse columns=co2 ! lstmforecast model-file=models/co2-forecast.safetensors ! csvenc column-names=co2_forecast ! filesink location=forecast.csv
 * ]| Forecasts of the shipped CO2 series, one row per week.
 */
#include <math.h>
#include <string.h>

#include "gstcsvenc.h"
#include "gstcsvcommon.h"
#include "rnncsv.h"
#include "gstrnnsignalcaps.h"
#include "gstrnnelements.h"

GST_DEBUG_CATEGORY_STATIC (csvenc_debug);
#define GST_CAT_DEFAULT csvenc_debug

#define DEFAULT_HEADER TRUE
#define DEFAULT_COLUMN_NAMES NULL
#define DEFAULT_DELIMITER ","

enum
{
  PROP_0,
  PROP_HEADER,
  PROP_COLUMN_NAMES,
  PROP_DELIMITER
};

struct _GstCsvEnc
{
  GstElement parent;

  GstPad *sinkpad, *srcpad;

  /* properties (object lock) */
  gboolean header;
  gchar *column_names;
  gchar delimiter;

  /* streaming thread */
  guint features;               /* 0: not known yet (flag-set caps) */
  guint caps_frames;            /* N of the tensor dimensions, 0 if none */
  gint rate_n, rate_d;
  GstSegment segment;
  gboolean header_pending;
  guint header_features;        /* features of the last header written */
  guint64 frames_in;
};

#define SINK_CAPS \
  "audio/x-raw, format=(string)F32LE, layout=(string)interleaved, " \
  "rate=(int)[1,MAX], channels=(int)[1,MAX]; " \
  "other/tensors, format=(string)static, num_tensors=(int)1, " \
  "types=(string)float32, framerate=(fraction)[0/1,MAX]"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (SINK_CAPS));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("text/x-raw, format=(string)utf8; text/csv"));

#define gst_csv_enc_parent_class parent_class
G_DEFINE_TYPE (GstCsvEnc, gst_csv_enc, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (csvenc, "csvenc", GST_RANK_NONE,
    GST_TYPE_CSV_ENC);

/* ------------------------------------------------------------------ caps */

static gboolean
set_sink_caps (GstCsvEnc * self, GstCaps * caps)
{
  GstStructure *s = gst_caps_get_structure (caps, 0);
  guint features = 0, frames = 0;
  gint rn = 0, rd = 1;
  GstCaps *peer, *out;

  if (gst_structure_has_name (s, "audio/x-raw")) {
    gint ch = 0, rate = 0;
    if (!gst_structure_get_int (s, "channels", &ch)
        || !gst_structure_get_int (s, "rate", &rate) || ch <= 0 || rate <= 0)
      goto bad;
    features = (guint) ch;
    rn = rate;
  } else {
    const GValue *d = gst_structure_get_value (s, "dimensions");
    if (d && G_VALUE_HOLDS_STRING (d)) {
      if (!gst_rnn_signal_caps_parse_dims (g_value_get_string (d), &features,
              &frames))
        goto bad;
    } else if (d && GST_VALUE_HOLDS_FLAG_SET (d)) {
      GST_ELEMENT_ERROR (self, STREAM, FORMAT,
          ("other/tensors dimensions arrived as a flag set (an unquoted F:N "
              "in a caps string), which does not keep the feature count; "
              "write dimensions=(string)F:N."),
          ("caps: %" GST_PTR_FORMAT, caps));
      return FALSE;
    } else if (d && G_VALUE_HOLDS_INT (d) && g_value_get_int (d) > 0) {
      features = (guint) g_value_get_int (d);
      frames = 1;
    } else {
      goto bad;
    }
    if (!gst_structure_get_fraction (s, "framerate", &rn, &rd))
      rn = 0, rd = 1;
  }

  if (features != self->features && self->header_features != 0)
    self->header_pending = TRUE;
  self->features = features;
  self->caps_frames = frames;
  self->rate_n = rn;
  self->rate_d = rd;
  GST_DEBUG_OBJECT (self, "%u features, %u frames per buffer, %d/%d fps",
      features, frames, rn, rd);

  /* text/x-raw preferred, text/csv if that is all downstream takes */
  peer = gst_pad_peer_query_caps (self->srcpad, NULL);
  out = gst_caps_from_string ("text/x-raw, format=(string)utf8");
  if (peer && !gst_caps_can_intersect (peer, out)) {
    gst_caps_unref (out);
    out = gst_caps_new_empty_simple ("text/csv");
  }
  if (peer)
    gst_caps_unref (peer);
  gst_pad_set_caps (self->srcpad, out);
  gst_caps_unref (out);
  return TRUE;

bad:
  GST_ELEMENT_ERROR (self, STREAM, FORMAT,
      ("Unusable input caps: expected audio/x-raw with channels and rate, "
          "or other/tensors with dimensions=(string)F:N."),
      ("caps: %" GST_PTR_FORMAT, caps));
  return FALSE;
}

/* ---------------------------------------------------------------- writing */

/* @ns nanoseconds as decimal seconds, exact, trailing zeros dropped. */
static void
append_seconds (GString * s, GstClockTime ns)
{
  guint64 sec = ns / GST_SECOND, frac = ns % GST_SECOND;
  gchar buf[16];
  gint len;

  g_string_append_printf (s, "%" G_GUINT64_FORMAT, sec);
  if (frac == 0)
    return;
  len = g_snprintf (buf, sizeof buf, "%09" G_GUINT64_FORMAT, frac);
  while (len > 0 && buf[len - 1] == '0')
    buf[--len] = '\0';
  g_string_append_printf (s, ".%s", buf);
}

/* The shortest of %.6g .. %.9g (C locale) that reads back as @x: 9
 * significant digits always identify a float32, fewer usually do
 * (316.1 rather than 316.100006). */
static const gchar *
format_float (gchar * buf, gsize size, gfloat x)
{
  static const gchar *const fmts[] = { "%.6g", "%.7g", "%.8g" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (fmts); i++) {
    g_ascii_formatd (buf, (gint) size, fmts[i], x);
    if ((gfloat) g_ascii_strtod (buf, NULL) == x)
      return buf;
  }
  return g_ascii_formatd (buf, (gint) size, "%.9g", x);
}

static void
append_field (GString * s, const gchar * field, gchar delim)
{
  if (strchr (field, delim) || strchr (field, '"') || strchr (field, '\n')
      || strchr (field, '\r')) {
    const gchar *p;
    g_string_append_c (s, '"');
    for (p = field; *p; p++) {
      if (*p == '"')
        g_string_append_c (s, '"');
      g_string_append_c (s, *p);
    }
    g_string_append_c (s, '"');
  } else {
    g_string_append (s, field);
  }
}

static void
append_header (GstCsvEnc * self, GString * s)
{
  gchar **names = NULL;
  gchar delim;
  guint i, n_names = 0;

  GST_OBJECT_LOCK (self);
  if (self->column_names && *self->column_names)
    names = g_strsplit (self->column_names, ",", -1);
  delim = self->delimiter;
  GST_OBJECT_UNLOCK (self);
  if (names)
    n_names = g_strv_length (names);
  if (names && n_names != self->features)
    GST_WARNING_OBJECT (self, "column-names has %u names for %u features",
        n_names, self->features);

  g_string_append (s, "time");
  for (i = 0; i < self->features; i++) {
    g_string_append_c (s, delim);
    if (i < n_names) {
      append_field (s, g_strstrip (names[i]), delim);
    } else {
      g_string_append_printf (s, "f%u", i);
    }
  }
  g_string_append_c (s, '\n');
  g_strfreev (names);
  self->header_features = self->features;
}

static GstFlowReturn
gst_csv_enc_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  GstCsvEnc *self = GST_CSV_ENC (parent);
  GstMapInfo map;
  GString *s;
  GstBuffer *out;
  GstClockTime pts = GST_BUFFER_PTS (buf), frame_dur = 0;
  guint n_frames, f, i;
  gboolean header;
  gchar delim;
  const gfloat *v;

  if (!gst_buffer_map (buf, &map, GST_MAP_READ)) {
    gst_buffer_unref (buf);
    GST_ELEMENT_ERROR (self, STREAM, FAILED, (NULL), ("could not map"));
    return GST_FLOW_ERROR;
  }

  if (self->features == 0) {
    gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
        ("buffer before caps"));
    return GST_FLOW_NOT_NEGOTIATED;
  }

  f = self->features;
  if (map.size % (f * sizeof (gfloat)) != 0) {
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("Dropped a buffer of %" G_GSIZE_FORMAT " bytes: not a whole number "
            "of %u-float frames.", map.size, f), (NULL));
    gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);
    return GST_FLOW_OK;
  }
  n_frames = (guint) (map.size / (f * sizeof (gfloat)));

  if (self->rate_n > 0)
    frame_dur = gst_util_uint64_scale_int (GST_SECOND, self->rate_d,
        self->rate_n);
  else if (GST_BUFFER_DURATION_IS_VALID (buf) && n_frames > 0)
    frame_dur = GST_BUFFER_DURATION (buf) / n_frames;

  GST_OBJECT_LOCK (self);
  header = self->header;
  delim = self->delimiter;
  GST_OBJECT_UNLOCK (self);

  s = g_string_sized_new (32 + (gsize) n_frames * (f + 1) * 16);
  if (header && self->header_pending)
    append_header (self, s);
  self->header_pending = FALSE;

  v = (const gfloat *) map.data;
  for (i = 0; i < n_frames; i++) {
    GstClockTime t, st;
    guint k;

    if (GST_CLOCK_TIME_IS_VALID (pts) && GST_BUFFER_DURATION_IS_VALID (buf))
      /* timestamps are the truth: the buffer's span, not the caps rate
       * (nominal for an integer audio rate below 1 Hz) */
      t = pts + gst_util_uint64_scale (GST_BUFFER_DURATION (buf), i,
          n_frames);
    else if (GST_CLOCK_TIME_IS_VALID (pts))
      t = pts + i * frame_dur;
    else
      t = (self->frames_in + i) * frame_dur;
    st = self->segment.format == GST_FORMAT_TIME ?
        gst_segment_to_stream_time (&self->segment, GST_FORMAT_TIME, t) :
        GST_CLOCK_TIME_NONE;
    append_seconds (s, GST_CLOCK_TIME_IS_VALID (st) ? st : t);
    for (k = 0; k < f; k++) {
      gchar num[G_ASCII_DTOSTR_BUF_SIZE];
      const gfloat x = v[(gsize) i * f + k];

      g_string_append_c (s, delim);
      if (isnan (x))
        continue;
      if (isinf (x))
        g_string_append (s, x > 0 ? "inf" : "-inf");
      else
        g_string_append (s, format_float (num, sizeof num, x));
    }
    g_string_append_c (s, '\n');
  }
  self->frames_in += n_frames;
  gst_buffer_unmap (buf, &map);

  out = gst_buffer_new_wrapped (g_strdup (s->str), s->len);
  g_string_free (s, TRUE);
  gst_buffer_copy_into (out, buf, GST_BUFFER_COPY_TIMESTAMPS |
      GST_BUFFER_COPY_FLAGS, 0, -1);
  gst_buffer_unref (buf);
  return gst_pad_push (self->srcpad, out);
}

static gboolean
gst_csv_enc_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstCsvEnc *self = GST_CSV_ENC (parent);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps;
      gboolean ok;
      gst_event_parse_caps (event, &caps);
      ok = set_sink_caps (self, caps);
      gst_event_unref (event);
      return ok;
    }
    case GST_EVENT_SEGMENT:
      gst_event_copy_segment (event, &self->segment);
      break;
    case GST_EVENT_STREAM_START:
      self->header_pending = TRUE;
      self->frames_in = 0;
      break;
    case GST_EVENT_EOS:{
      gboolean header;
      GST_OBJECT_LOCK (self);
      header = self->header;
      GST_OBJECT_UNLOCK (self);
      /* a stream without frames still gets its header row */
      if (header && self->header_pending && self->features > 0) {
        GString *s = g_string_new (NULL);
        GstBuffer *out;
        append_header (self, s);
        self->header_pending = FALSE;
        out = gst_buffer_new_wrapped (g_strdup (s->str), s->len);
        g_string_free (s, TRUE);
        gst_pad_push (self->srcpad, out);
      }
      break;
    }
    default:
      break;
  }
  return gst_pad_event_default (pad, parent, event);
}

static GstStateChangeReturn
gst_csv_enc_change_state (GstElement * element, GstStateChange transition)
{
  GstCsvEnc *self = GST_CSV_ENC (element);

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    self->features = 0;
    self->caps_frames = 0;
    self->header_pending = TRUE;
    self->header_features = 0;
    self->frames_in = 0;
    gst_segment_init (&self->segment, GST_FORMAT_TIME);
  }
  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
}

/* ------------------------------------------------------------ properties */

static void
gst_csv_enc_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstCsvEnc *self = GST_CSV_ENC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_HEADER:
      self->header = g_value_get_boolean (value);
      break;
    case PROP_COLUMN_NAMES:
      g_free (self->column_names);
      self->column_names = g_value_dup_string (value);
      break;
    case PROP_DELIMITER:{
      const gchar *d = g_value_get_string (value);
      /* '.' and '-' would be read back as parts of the numbers */
      if (!rnn_csv_delimiter_parse (d, ".-", &self->delimiter))
        g_warning ("csvenc: delimiter must be one character (or \"tab\"), "
            "not '%s'; keeping '%c'", d ? d : "(null)", self->delimiter);
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_csv_enc_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstCsvEnc *self = GST_CSV_ENC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_HEADER:
      g_value_set_boolean (value, self->header);
      break;
    case PROP_COLUMN_NAMES:
      g_value_set_string (value, self->column_names);
      break;
    case PROP_DELIMITER:
      gst_csv_delimiter_to_value (self->delimiter, value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_csv_enc_finalize (GObject * object)
{
  GstCsvEnc *self = GST_CSV_ENC (object);

  g_free (self->column_names);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_csv_enc_class_init (GstCsvEncClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (csvenc_debug, "csvenc", 0,
      "signal frames to CSV text");

  gobject_class->set_property = gst_csv_enc_set_property;
  gobject_class->get_property = gst_csv_enc_get_property;
  gobject_class->finalize = gst_csv_enc_finalize;

  /**
   * GstCsvEnc:header:
   *
   * Write a header row (`time`, then the column names) before the first
   * frame of each stream.
   */
  g_object_class_install_property (gobject_class, PROP_HEADER,
      g_param_spec_boolean ("header", "Header", "Write a header row first",
          DEFAULT_HEADER, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  /**
   * GstCsvEnc:column-names:
   *
   * Comma-separated names of the feature columns for the header row.
   * Unset (or too few names): `f0`, `f1`, ...
   */
  g_object_class_install_property (gobject_class, PROP_COLUMN_NAMES,
      g_param_spec_string ("column-names", "Column names",
          "Comma-separated feature column names for the header (unset: f0, "
          "f1, ...)", DEFAULT_COLUMN_NAMES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  /**
   * GstCsvEnc:delimiter:
   *
   * The field separator: one character, or `tab`.
   */
  g_object_class_install_property (gobject_class, PROP_DELIMITER,
      g_param_spec_string ("delimiter", "Delimiter",
          "Field separator: one character, or \"tab\"", DEFAULT_DELIMITER,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "CSV encoder",
      "Codec/Encoder/Converter",
      "Writes float signal frames (audio/x-raw F32LE or other/tensors) as "
      "CSV text with a time column", "gst-rnn developers");
  element_class->change_state = GST_DEBUG_FUNCPTR (gst_csv_enc_change_state);
}

static void
gst_csv_enc_init (GstCsvEnc * self)
{
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_csv_enc_chain));
  gst_pad_set_event_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_csv_enc_sink_event));
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_use_fixed_caps (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  self->header = DEFAULT_HEADER;
  self->column_names = DEFAULT_COLUMN_NAMES;
  self->delimiter = DEFAULT_DELIMITER[0];
  self->header_pending = TRUE;
  gst_segment_init (&self->segment, GST_FORMAT_TIME);
}
