/* gst-rnn: csvparse, CSV text to signal buffers.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-csvparse
 * @title: csvparse
 * @short_description: turns CSV text into float signal frames
 *
 * csvparse reads comma-separated text from any byte stream (a file, a pipe,
 * a socket; split across buffers anywhere) and produces one signal frame per
 * data row: `audio/x-raw, format=F32LE, layout=interleaved` with one channel
 * per chosen column and #GstCsvParse:rate frames per second (the preferred
 * form), or `other/tensors, format=static, num_tensors=1, types=float32,
 * dimensions=(string)F:N, framerate=R/1` when downstream only accepts that,
 * with F chosen columns and N = #GstCsvParse:frames-per-buffer.
 *
 * The text (the project's one CSV dialect, also read by rnn-train and
 * rnn-eval): rows end with LF or CRLF; a UTF-8 byte-order mark at the start
 * is skipped; fields are separated by #GstCsvParse:delimiter and may be
 * quoted with `"` (a quoted field may hold delimiters, `""` and line
 * breaks; text after the closing quote is appended). Blank lines and lines
 * starting with `#` are skipped. The first remaining row is a header when
 * #GstCsvParse:header says so (by default: when one of its fields is not a
 * number). A row ending with the delimiter one field past the header's
 * width (`1,2,` under `a,b`) loses that empty field. Numbers are read in
 * the C locale (`.` as decimal point, exponents allowed).
 *
 * Columns: #GstCsvParse:columns chooses them by header name or 0-based
 * index; by default every column whose value in the first data row is a
 * number (or missing) becomes a feature, except the time column.
 *
 * Timestamps: with #GstCsvParse:time-column set, a frame's PTS is that
 * column's value in seconds (not negative, not before the previous frame's)
 * and the segment starts at the first frame's time, so running time starts
 * at 0 and stream time equals the column's value. Otherwise data row k
 * (counting every data row, kept or not) has PTS k / #GstCsvParse:rate
 * seconds, so a skipped row leaves its time empty; the buffer after such a
 * gap is DISCONT. A buffer's duration is its frame count divided by the
 * rate in both cases, its PTS that of its first frame, and its offsets
 * count frames. Fractional rates are allowed: the caps' audio rate is then
 * nominal (an integer), the timestamps carry the real spacing.
 *
 * Missing values (an empty field, or `NA`, `N/A`, `NaN`, `null`, `None` in
 * any case) follow #GstCsvParse:missing. A malformed row (too few fields for
 * a chosen column, more fields than the header, a value or time that is not
 * a number, a negative, too large or backwards time) is dropped with a
 * `GST_ELEMENT_WARNING` whose text names its line number (the first 16 such
 * rows; later ones are logged only), or fails the stream with a
 * `GST_ELEMENT_ERROR` naming the line when #GstCsvParse:strict is set. Line
 * numbers count every line of the input from 1, comments and the header
 * included. Rows dropped for want of a previous value are reported too (a
 * warning at the first), and at EOS a warning counts the dropped rows that
 * had no warning of their own.
 *
 * On a seekable upstream that offers pull mode (filesrc), csvparse reads
 * the input itself: it first notes where every data row starts and its
 * time, then answers DURATION and SEEKING queries and TIME seeks (from the
 * first row at or after the seek start, up to the stop).
 *
 * At EOS a last row without a line break is parsed and the frames held for
 * an incomplete buffer are pushed (a shorter buffer for audio caps; with
 * tensor caps, whose dimensions fix the frame count, they are dropped with
 * a warning). Empty input gives EOS and no buffer.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=examples/co2.csv ! csvparse columns=co2 ! csvenc ! fdsink
 * ]| Reads the CO2 column of the shipped example and writes it back as CSV
 * with a time column (one frame per second).
 * |[
 * printf 't,a,b\n0,1,2\n0.5,3,4\n' | gst-launch-1.0 fdsrc ! csvparse time-column=t rate=2 ! csvenc ! fdsink
 * ]| Two features from a pipe, timestamps from the `t` column.
 */
#include <math.h>
#include <string.h>

#include "gstcsvparse.h"
#include "gstcsvcommon.h"
#include "rnncsv.h"
#include "gstrnnelements.h"

GST_DEBUG_CATEGORY_STATIC (csvparse_debug);
#define GST_CAT_DEFAULT csvparse_debug

#define DEFAULT_COLUMNS NULL
#define DEFAULT_TIME_COLUMN NULL
#define DEFAULT_RATE 1.0
/* Slowest rate: one frame every 31.7 years. */
#define MIN_RATE 1e-9
#define DEFAULT_FRAMES_PER_BUFFER 1
/* Largest output buffer csvparse allocates (frames-per-buffer x columns). */
#define MAX_BUFFER_BYTES (256u << 20)
#define DEFAULT_HEADER GST_CSV_PARSE_HEADER_AUTO
#define DEFAULT_MISSING GST_CSV_PARSE_MISSING_PREVIOUS
#define DEFAULT_STRICT FALSE
#define DEFAULT_DELIMITER ","

/* Malformed rows reported as element warnings; later ones are logged. */
#define MAX_WARNINGS 16

enum
{
  PROP_0,
  PROP_COLUMNS,
  PROP_TIME_COLUMN,
  PROP_RATE,
  PROP_FRAMES_PER_BUFFER,
  PROP_HEADER,
  PROP_MISSING,
  PROP_STRICT,
  PROP_DELIMITER
};

struct _GstCsvParse
{
  GstElement parent;

  GstPad *sinkpad, *srcpad;

  /* properties (object lock) */
  gchar *columns;
  gchar *time_column;
  gdouble rate;
  guint frames_per_buffer;
  GstCsvParseHeader header;
  GstCsvParseMissing missing;
  gboolean strict;
  gchar delimiter;

  /* streaming thread: a copy of the properties taken at the first row */
  gint rate_n, rate_d;          /* the rate as a fraction */
  guint s_fpb;
  GstCsvParseMissing s_missing;
  gboolean s_strict;

  RnnCsvReader *reader;         /* NULL until the first bytes */
  gboolean configured;          /* columns chosen and caps sent */
  gint *cols;                   /* chosen field indices */
  guint n_cols;
  gint time_col;                /* -1: timestamps from the rate */
  gint max_col;                 /* largest index a row must hold */
  gfloat *last;                 /* last value of each column */
  gboolean *have_last;
  gboolean tensors;             /* negotiated other/tensors */

  gfloat *frames;               /* s_fpb * n_cols floats being filled */
  guint n_frames;
  GstClockTime first_pts;       /* PTS of frames[0] */
  guint64 frames_out;           /* frames produced so far */
  guint64 next_index;           /* data row index that follows the last
                                 * frame kept (a gap: rows were dropped) */
  GstClockTime last_time;       /* time-column: the last frame's time */
  gboolean need_segment;
  gboolean discont;
  guint warnings;               /* malformed rows */
  guint64 n_rows;               /* data rows read */
  guint64 n_unfilled;           /* rows dropped: missing=previous without a
                                 * previous value */

  /* pull mode (a seekable upstream such as filesrc): the loop reads the
   * input itself, after indexing every data row once */
  gboolean pull;
  gboolean sent_stream_start;
  guint64 offset;               /* next byte to read */
  GArray *index;                /* IndexRow per data row, NULL until built */
  GstClockTime duration;        /* end of the last frame (stream time) */
  gboolean seeked;              /* a seek set the segment below */
  GstSegment segment;
  guint32 seqnum;               /* of the last seek */
};

/* Where a data row is in the input, and its time. */
typedef struct
{
  guint64 offset, line;
  GstClockTime pts;             /* NONE when its time is malformed */
} IndexRow;

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("text/csv; application/x-csv; "
        "text/x-raw, format=(string)utf8; text/plain; "
        "application/octet-stream"));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("audio/x-raw, format=(string)F32LE, "
        "layout=(string)interleaved, rate=(int)[1,MAX], "
        "channels=(int)[1,MAX]; "
        "other/tensors, format=(string)static, num_tensors=(int)1, "
        "types=(string)float32, framerate=(fraction)[1/2147483647,MAX]"));

#define gst_csv_parse_parent_class parent_class
G_DEFINE_TYPE (GstCsvParse, gst_csv_parse, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (csvparse, "csvparse", GST_RANK_NONE,
    GST_TYPE_CSV_PARSE);

GType
gst_csv_parse_header_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_CSV_PARSE_HEADER_AUTO, "First row is a header if not numeric",
        "auto"},
    {GST_CSV_PARSE_HEADER_PRESENT, "First row is a header", "present"},
    {GST_CSV_PARSE_HEADER_ABSENT, "No header row", "absent"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstCsvParseHeader", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_csv_parse_missing_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_CSV_PARSE_MISSING_PREVIOUS, "Repeat the column's last value",
        "previous"},
    {GST_CSV_PARSE_MISSING_ZERO, "Use 0", "zero"},
    {GST_CSV_PARSE_MISSING_NAN, "Use NaN", "nan"},
    {GST_CSV_PARSE_MISSING_SKIP, "Drop the row", "skip"},
    {GST_CSV_PARSE_MISSING_ERROR, "Fail with an error", "error"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstCsvParseMissing", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* ------------------------------------------------------------ configuring */

/* The caps' audio rate: an integer, so nominal for fractional rates (the
 * timestamps carry the real spacing). */
static gint
audio_rate (GstCsvParse * self)
{
  gint r = (gint) ((gint64) self->rate_n / self->rate_d);
  return MAX (r, 1);
}

static GstCaps *
make_caps (GstCsvParse * self, gboolean tensors)
{
  GstCaps *caps;

  if (!tensors) {
    caps = gst_caps_new_simple ("audio/x-raw",
        "format", G_TYPE_STRING, "F32LE",
        "layout", G_TYPE_STRING, "interleaved",
        "rate", G_TYPE_INT, audio_rate (self),
        "channels", G_TYPE_INT, (gint) self->n_cols, NULL);
    if (self->n_cols > 1)
      gst_caps_set_simple (caps, "channel-mask", GST_TYPE_BITMASK,
          (guint64) 0, NULL);
  } else {
    gchar *dims = g_strdup_printf ("%u:%u", self->n_cols, self->s_fpb);
    caps = gst_caps_new_simple ("other/tensors",
        "format", G_TYPE_STRING, "static",
        "num_tensors", G_TYPE_INT, 1,
        "types", G_TYPE_STRING, "float32",
        "dimensions", G_TYPE_STRING, dims,
        "framerate", GST_TYPE_FRACTION, self->rate_n, self->rate_d, NULL);
    g_free (dims);
  }
  return caps;
}

/* Choose audio (preferred) or tensors from what downstream accepts. */
static gboolean
negotiate (GstCsvParse * self)
{
  GstCaps *audio = make_caps (self, FALSE);
  GstCaps *tensor = make_caps (self, TRUE);
  GstCaps *peer, *caps = NULL;
  gboolean ok;

  peer = gst_pad_peer_query_caps (self->srcpad, NULL);
  if (peer == NULL || gst_caps_can_intersect (peer, audio)) {
    caps = gst_caps_ref (audio);
    self->tensors = FALSE;
  } else if (gst_caps_can_intersect (peer, tensor)) {
    caps = gst_caps_ref (tensor);
    self->tensors = TRUE;
  }
  if (caps == NULL) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("Downstream accepts neither audio/x-raw F32LE nor other/tensors "
            "float32 with %u channels at %d/%d frames per second.",
            self->n_cols, self->rate_n, self->rate_d),
        ("downstream caps: %" GST_PTR_FORMAT, peer));
    ok = FALSE;
  } else {
    GST_DEBUG_OBJECT (self, "output caps %" GST_PTR_FORMAT, caps);
    ok = gst_pad_set_caps (self->srcpad, caps);
    if (!ok)
      GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
          ("could not set caps %" GST_PTR_FORMAT, caps));
  }
  if (peer)
    gst_caps_unref (peer);
  if (caps)
    gst_caps_unref (caps);
  gst_caps_unref (audio);
  gst_caps_unref (tensor);
  return ok;
}

static void
set_rate (GstCsvParse * self, gdouble rate)
{
  gst_util_double_to_fraction (rate, &self->rate_n, &self->rate_d);
  if (self->rate_n <= 0 || self->rate_d <= 0) {
    self->rate_n = 1;
    self->rate_d = 1;
  }
}

/* The first data row is known: choose the columns, set the caps. */
static gboolean
configure (GstCsvParse * self, const RnnCsvRow * row)
{
  gchar *columns, *time_column, *why = NULL;
  char **names = rnn_csv_reader_names (self->reader);
  guint width = rnn_csv_reader_width (self->reader);
  GArray *cols = NULL;
  gdouble rate;
  guint i;

  GST_OBJECT_LOCK (self);
  columns = g_strdup (self->columns);
  time_column = g_strdup (self->time_column);
  rate = self->rate;
  self->s_fpb = self->frames_per_buffer;
  self->s_missing = self->missing;
  self->s_strict = self->strict;
  GST_OBJECT_UNLOCK (self);

  set_rate (self, rate);

  self->time_col = -1;
  if (time_column && *time_column)
    self->time_col = rnn_csv_find_column (names, width, time_column, &why);
  if (!time_column || !*time_column || self->time_col >= 0)
    cols = rnn_csv_choose_columns (names, width, columns, row->fields,
        row->n_fields, &self->time_col, 1, &why);
  g_free (columns);
  g_free (time_column);

  if (cols == NULL) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("Cannot choose the CSV columns: %s (first data row: line %"
            G_GUINT64_FORMAT ").", why, row->line), (NULL));
    g_free (why);
    return FALSE;
  }

  self->n_cols = cols->len;
  self->cols = (gint *) g_array_free (cols, FALSE);
  self->max_col = self->time_col;
  for (i = 0; i < self->n_cols; i++)
    self->max_col = MAX (self->max_col, self->cols[i]);
  self->last = g_new0 (gfloat, self->n_cols);
  self->have_last = g_new0 (gboolean, self->n_cols);
  /* One output buffer's worth of frames; refuse rather than abort when
   * frames-per-buffer x columns is more than a buffer may hold. */
  if ((guint64) self->s_fpb * self->n_cols * sizeof (gfloat) >
      MAX_BUFFER_BYTES
      || !(self->frames = g_try_new0 (gfloat,
              (gsize) self->s_fpb * self->n_cols))) {
    GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT,
        ("Cannot hold %u frames of %u columns in one buffer (%"
            G_GUINT64_FORMAT " bytes, at most %u MiB): lower "
            "frames-per-buffer.", self->s_fpb, self->n_cols,
            (guint64) self->s_fpb * self->n_cols * sizeof (gfloat),
            MAX_BUFFER_BYTES >> 20), (NULL));
    return FALSE;
  }
  self->n_frames = 0;
  GST_INFO_OBJECT (self, "%u columns, time column %d, rate %d/%d, %u frames "
      "per buffer", self->n_cols, self->time_col, self->rate_n, self->rate_d,
      self->s_fpb);

  if (!negotiate (self))
    return FALSE;
  self->configured = TRUE;
  return TRUE;
}

/* ------------------------------------------------------------- streaming */

/* Time of @n frames at the rate. */
static GstClockTime
frames_to_time (GstCsvParse * self, guint64 n)
{
  return gst_util_uint64_scale (n, GST_SECOND * (guint64) self->rate_d,
      (guint64) self->rate_n);
}

/* The TIME segment before the first buffer: after a seek, the seek's;
 * with a time column, running time from 0 at the first frame (@first) and
 * stream time = the column; else from 0. */
static void
push_segment (GstCsvParse * self, GstClockTime first)
{
  GstSegment seg;
  GstEvent *ev;

  if (self->seeked) {
    seg = self->segment;
  } else {
    gst_segment_init (&seg, GST_FORMAT_TIME);
    if (self->time_col >= 0 && GST_CLOCK_TIME_IS_VALID (first)) {
      seg.start = first;
      seg.time = first;
      seg.position = first;
    }
  }
  ev = gst_event_new_segment (&seg);
  if (self->seeked)
    gst_event_set_seqnum (ev, self->seqnum);
  gst_pad_push_event (self->srcpad, ev);
  self->need_segment = FALSE;
}

static GstFlowReturn
push_frames (GstCsvParse * self)
{
  GstBuffer *buf;
  gsize size = (gsize) self->n_frames * self->n_cols * sizeof (gfloat);

  if (self->n_frames == 0)
    return GST_FLOW_OK;
  if (self->tensors && self->n_frames < self->s_fpb) {
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("Dropped the last %u frames: the tensor caps hold %u frames per "
            "buffer.", self->n_frames, self->s_fpb), (NULL));
    self->n_frames = 0;
    return GST_FLOW_OK;
  }

  if (self->need_segment)
    push_segment (self, self->first_pts);

  buf = gst_buffer_new_memdup (self->frames, size);
  GST_BUFFER_PTS (buf) = self->first_pts;
  GST_BUFFER_DURATION (buf) = frames_to_time (self, self->n_frames);
  GST_BUFFER_OFFSET (buf) = self->frames_out;
  GST_BUFFER_OFFSET_END (buf) = self->frames_out + self->n_frames;
  if (self->discont) {
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
    self->discont = FALSE;
  }
  self->frames_out += self->n_frames;
  self->n_frames = 0;
  return gst_pad_push (self->srcpad, buf);
}

/* Report a malformed row: a warning (row dropped, OK returned) or, when
 * strict, an error. */
static GstFlowReturn
malformed (GstCsvParse * self, guint64 line, const gchar * why)
{
  if (self->s_strict) {
    GST_ELEMENT_ERROR (self, STREAM, DECODE,
        ("Malformed CSV at line %" G_GUINT64_FORMAT ": %s.", line, why),
        (NULL));
    return GST_FLOW_ERROR;
  }
  if (self->warnings < MAX_WARNINGS) {
    GST_ELEMENT_WARNING (self, STREAM, DECODE,
        ("Malformed CSV at line %" G_GUINT64_FORMAT ": %s; the line is "
            "skipped.", line, why), ("%s", self->warnings + 1 == MAX_WARNINGS
            ? "further malformed lines are only logged" : ""));
  } else {
    GST_WARNING_OBJECT (self, "malformed line %" G_GUINT64_FORMAT ": %s",
        line, why);
  }
  self->warnings++;
  return GST_FLOW_OK;
}

static GstFlowReturn
malformed_free (GstCsvParse * self, guint64 line, gchar * why)
{
  GstFlowReturn ret = malformed (self, line, why);
  g_free (why);
  return ret;
}

static GstFlowReturn
handle_data_row (GstCsvParse * self, const RnnCsvRow * row)
{
  char **names = rnn_csv_reader_names (self->reader);
  guint width = rnn_csv_reader_width (self->reader);
  gfloat *frame = self->frames + (gsize) self->n_frames * self->n_cols;
  GstClockTime pts;
  gchar *why = NULL, lab[80];
  guint i;

  self->n_rows++;
  if (row->n_fields > width)
    return malformed_free (self, row->line, g_strdup_printf ("%u fields, "
            "but the %s has %u", row->n_fields, names ? "header" :
            "first row", width));
  if ((gint) row->n_fields <= self->max_col)
    return malformed_free (self, row->line, g_strdup_printf ("%u fields, "
            "but column %s is needed", row->n_fields,
            rnn_csv_column_label (names, self->max_col, lab, sizeof lab)));

  if (self->time_col >= 0) {
    guint64 ns;
    if (!rnn_csv_parse_seconds (row->fields[self->time_col], &ns, &why))
      return malformed_free (self, row->line, why);
    pts = ns;
    if (GST_CLOCK_TIME_IS_VALID (self->last_time) && pts < self->last_time)
      return malformed_free (self, row->line, g_strdup_printf ("time %s s "
              "is before the previous row's %.9g s (times must not go "
              "backwards)", row->fields[self->time_col],
              (gdouble) self->last_time / GST_SECOND));
  } else {
    /* the row's place in the input: dropped rows leave their time empty */
    pts = frames_to_time (self, row->index);
  }
  if (self->seeked) {
    /* after a seek: rows before its start are passed over, its stop ends
     * the stream */
    if (GST_CLOCK_TIME_IS_VALID (self->segment.stop)
        && pts >= self->segment.stop)
      return GST_FLOW_EOS;
    if (pts < self->segment.start) {
      self->next_index = row->index + 1;
      return GST_FLOW_OK;
    }
  }

  /* values first into the frame slot; committed only when the row is kept */
  for (i = 0; i < self->n_cols; i++) {
    switch (rnn_csv_parse_float (row->fields[self->cols[i]], &frame[i],
            &why)) {
      case RNN_CSV_VALUE_OK:
        break;
      case RNN_CSV_VALUE_BAD:{
        gchar *w = g_strdup_printf ("column %s: %s", rnn_csv_column_label
            (names, self->cols[i], lab, sizeof lab), why);
        g_free (why);
        return malformed_free (self, row->line, w);
      }
      case RNN_CSV_VALUE_MISSING:
        switch (self->s_missing) {
          case GST_CSV_PARSE_MISSING_PREVIOUS:
            if (!self->have_last[i]) {
              if (self->n_unfilled++ == 0)
                GST_ELEMENT_WARNING (self, STREAM, DECODE,
                    ("Line %" G_GUINT64_FORMAT " is dropped: column %s has no "
                        "value yet to repeat (missing=previous); rows are "
                        "dropped until it has one.", row->line,
                        rnn_csv_column_label (names, self->cols[i], lab,
                            sizeof lab)), (NULL));
              return GST_FLOW_OK;
            }
            frame[i] = self->last[i];
            break;
          case GST_CSV_PARSE_MISSING_ZERO:
            frame[i] = 0.0f;
            break;
          case GST_CSV_PARSE_MISSING_NAN:
            frame[i] = NAN;
            break;
          case GST_CSV_PARSE_MISSING_SKIP:
            return GST_FLOW_OK;
          case GST_CSV_PARSE_MISSING_ERROR:
          default:
            GST_ELEMENT_ERROR (self, STREAM, DECODE,
                ("Missing value at line %" G_GUINT64_FORMAT ", column %s "
                    "(missing=error).", row->line, rnn_csv_column_label (names,
                        self->cols[i], lab, sizeof lab)), (NULL));
            return GST_FLOW_ERROR;
        }
        break;
    }
  }
  for (i = 0; i < self->n_cols; i++) {
    if (!isnan (frame[i])) {
      self->last[i] = frame[i];
      self->have_last[i] = TRUE;
    }
  }

  /* Rows were dropped since the last frame: the stream has a gap. The
   * frames before it go out (audio caps allow a shorter buffer; tensor
   * caps fix the count, so there the buffer being filled goes on) and the
   * next buffer is DISCONT. */
  if (row->index != self->next_index && self->frames_out + self->n_frames > 0) {
    if (self->n_frames > 0 && !self->tensors) {
      GstFlowReturn ret;
      gfloat *held = g_memdup2 (frame, self->n_cols * sizeof (gfloat));
      ret = push_frames (self);
      frame = self->frames;
      memcpy (frame, held, self->n_cols * sizeof (gfloat));
      g_free (held);
      if (ret != GST_FLOW_OK)
        return ret;
    }
    self->discont = TRUE;
  }
  self->next_index = row->index + 1;
  self->last_time = self->time_col >= 0 ? pts : GST_CLOCK_TIME_NONE;

  if (self->n_frames == 0)
    self->first_pts = pts;
  self->n_frames++;
  if (self->n_frames == self->s_fpb)
    return push_frames (self);
  return GST_FLOW_OK;
}

static RnnCsvReader *
new_reader (GstCsvParse * self)
{
  gchar delim;
  GstCsvParseHeader header;

  GST_OBJECT_LOCK (self);
  delim = self->delimiter;
  header = self->header;
  GST_OBJECT_UNLOCK (self);
  return rnn_csv_reader_new (delim, header == GST_CSV_PARSE_HEADER_PRESENT ?
      RNN_CSV_HEADER_PRESENT : header == GST_CSV_PARSE_HEADER_ABSENT ?
      RNN_CSV_HEADER_ABSENT : RNN_CSV_HEADER_AUTO);
}

/* Parse every complete record read so far. */
static GstFlowReturn
drain (GstCsvParse * self)
{
  GstFlowReturn ret = GST_FLOW_OK;
  RnnCsvStatus st;
  RnnCsvRow row;

  if (self->reader == NULL)
    return GST_FLOW_OK;
  while (ret == GST_FLOW_OK
      && (st = rnn_csv_reader_next (self->reader, &row)) != RNN_CSV_NEED_MORE
      && st != RNN_CSV_END) {
    if (st == RNN_CSV_HEADER) {
      GST_DEBUG_OBJECT (self, "header at line %" G_GUINT64_FORMAT " with %u "
          "fields", row.line, rnn_csv_reader_width (self->reader));
      continue;
    }
    if (!self->configured && !configure (self, &row))
      ret = GST_FLOW_ERROR;
    else
      ret = handle_data_row (self, &row);
  }
  return ret;
}

static GstFlowReturn
gst_csv_parse_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  GstCsvParse *self = GST_CSV_PARSE (parent);
  GstMapInfo map;

  if (self->reader == NULL)
    self->reader = new_reader (self);
  if (gst_buffer_map (buf, &map, GST_MAP_READ)) {
    rnn_csv_reader_feed (self->reader, (const char *) map.data, map.size);
    gst_buffer_unmap (buf, &map);
  }
  gst_buffer_unref (buf);
  return drain (self);
}

/* At EOS: a summary of the rows dropped without a warning each. */
static void
report_dropped (GstCsvParse * self)
{
  guint64 unsaid = self->n_unfilled > 1 ? self->n_unfilled - 1 : 0;

  if (self->warnings > MAX_WARNINGS)
    unsaid += self->warnings - MAX_WARNINGS;
  if (unsaid == 0)
    return;
  GST_ELEMENT_WARNING (self, STREAM, DECODE,
      ("Dropped %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " data rows: %u "
          "malformed, %" G_GUINT64_FORMAT " before a chosen column had a value "
          "(missing=previous).", (guint64) self->warnings + self->n_unfilled,
          self->n_rows, self->warnings, self->n_unfilled), (NULL));
}

/* The end of the input (@rest: parse what is left; FALSE when the
 * segment's stop was reached): the last frames go out. */
static GstFlowReturn
finish_stream (GstCsvParse * self, gboolean rest)
{
  GstFlowReturn ret = GST_FLOW_OK;

  if (self->reader && rest) {
    rnn_csv_reader_finish (self->reader);
    ret = drain (self);
    if (ret == GST_FLOW_EOS)
      ret = GST_FLOW_OK;        /* the segment's stop */
  }
  if (ret == GST_FLOW_OK && self->configured)
    ret = push_frames (self);
  if (ret == GST_FLOW_OK)
    report_dropped (self);
  if (!self->configured)
    GST_DEBUG_OBJECT (self, "EOS before any data row");
  else if (self->need_segment)
    push_segment (self, GST_CLOCK_TIME_NONE);   /* every row was dropped */
  return ret;
}

static void
reset_stream (GstCsvParse * self, gboolean full)
{
  self->n_frames = 0;
  self->need_segment = TRUE;
  self->discont = TRUE;
  if (!full) {
    if (self->reader)
      rnn_csv_reader_restart_at (self->reader,
          rnn_csv_reader_offset (self->reader),
          rnn_csv_reader_lines (self->reader) + 1,
          rnn_csv_reader_rows (self->reader));
    return;
  }
  g_clear_pointer (&self->reader, rnn_csv_reader_free);
  GST_OBJECT_LOCK (self);
  g_clear_pointer (&self->index, g_array_unref);
  self->duration = GST_CLOCK_TIME_NONE;
  GST_OBJECT_UNLOCK (self);
  self->offset = 0;
  self->sent_stream_start = FALSE;
  self->configured = FALSE;
  g_clear_pointer (&self->cols, g_free);
  g_clear_pointer (&self->last, g_free);
  g_clear_pointer (&self->have_last, g_free);
  g_clear_pointer (&self->frames, g_free);
  self->n_cols = 0;
  self->frames_out = 0;
  self->next_index = 0;
  self->last_time = GST_CLOCK_TIME_NONE;
  self->warnings = 0;
  self->n_rows = 0;
  self->n_unfilled = 0;
  self->seeked = FALSE;
  gst_segment_init (&self->segment, GST_FORMAT_TIME);
}

static gboolean
gst_csv_parse_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstCsvParse *self = GST_CSV_PARSE (parent);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:
    case GST_EVENT_SEGMENT:
      /* bytes in; our own caps and TIME segment go out with the data */
      gst_event_unref (event);
      return TRUE;
    case GST_EVENT_STREAM_START:
      reset_stream (self, TRUE);
      break;
    case GST_EVENT_FLUSH_STOP:
      reset_stream (self, FALSE);
      break;
    case GST_EVENT_EOS:
      finish_stream (self, TRUE);
      break;
    default:
      break;
  }
  return gst_pad_event_default (pad, parent, event);
}

/* ------------------------------------------------ pull mode and seeking */

/* Bytes read per pull. */
#define PULL_CHUNK 65536

static GstFlowReturn
pull_chunk (GstCsvParse * self, guint64 offset, RnnCsvReader * r,
    guint64 * next)
{
  GstBuffer *buf = NULL;
  GstMapInfo map;
  GstFlowReturn ret = gst_pad_pull_range (self->sinkpad, offset, PULL_CHUNK,
      &buf);

  if (ret != GST_FLOW_OK)
    return ret;
  if (gst_buffer_get_size (buf) == 0) {
    gst_buffer_unref (buf);
    return GST_FLOW_EOS;
  }
  if (gst_buffer_map (buf, &map, GST_MAP_READ)) {
    rnn_csv_reader_feed (r, (const char *) map.data, map.size);
    *next = offset + map.size;
    gst_buffer_unmap (buf, &map);
  }
  gst_buffer_unref (buf);
  return GST_FLOW_OK;
}

/* Read the whole input once: where each data row starts and its time, and
 * the duration (the end of the last frame in stream time). The rows are
 * not interpreted beyond that; streaming reads them again from the index
 * position. */
static GstFlowReturn
build_index (GstCsvParse * self)
{
  RnnCsvReader *r = new_reader (self);
  GArray *index = g_array_new (FALSE, FALSE, sizeof (IndexRow));
  GstFlowReturn ret = GST_FLOW_OK;
  gchar *time_column;
  gdouble rate;
  gint tcol = -1;
  gboolean resolved = FALSE, done = FALSE;
  guint64 off = 0;
  GstClockTime end = 0;

  GST_OBJECT_LOCK (self);
  time_column = g_strdup (self->time_column);
  rate = self->rate;
  GST_OBJECT_UNLOCK (self);
  set_rate (self, rate);

  while (!done) {
    RnnCsvRow row;
    RnnCsvStatus st;

    ret = pull_chunk (self, off, r, &off);
    if (ret == GST_FLOW_EOS) {
      rnn_csv_reader_finish (r);
      ret = GST_FLOW_OK;
    } else if (ret != GST_FLOW_OK) {
      break;
    }
    while ((st = rnn_csv_reader_next (r, &row)) != RNN_CSV_NEED_MORE) {
      IndexRow ir = { row.offset, row.line, GST_CLOCK_TIME_NONE };
      gchar *why = NULL;

      if (st == RNN_CSV_END) {
        done = TRUE;
        break;
      }
      if (st != RNN_CSV_ROW)
        continue;
      if (!resolved) {
        resolved = TRUE;
        if (time_column && *time_column)
          tcol = rnn_csv_find_column (rnn_csv_reader_names (r),
              rnn_csv_reader_width (r), time_column, &why);
        g_free (why);
        why = NULL;
      }
      if (!time_column || !*time_column) {
        ir.pts = frames_to_time (self, row.index);
      } else if (tcol >= 0 && (guint) tcol < row.n_fields) {
        guint64 ns;
        if (rnn_csv_parse_seconds (row.fields[tcol], &ns, &why))
          ir.pts = ns;
        g_free (why);
      }
      if (GST_CLOCK_TIME_IS_VALID (ir.pts))
        end = MAX (end, ir.pts + frames_to_time (self, 1));
      g_array_append_val (index, ir);
    }
  }
  rnn_csv_reader_free (r);
  g_free (time_column);
  if (ret != GST_FLOW_OK) {
    g_array_unref (index);
    return ret;
  }
  GST_OBJECT_LOCK (self);
  self->index = index;
  self->duration = end;
  GST_OBJECT_UNLOCK (self);
  GST_INFO_OBJECT (self, "indexed %u data rows in %" G_GUINT64_FORMAT
      " bytes, duration %" GST_TIME_FORMAT, index->len, off,
      GST_TIME_ARGS (end));
  return GST_FLOW_OK;
}

static void
gst_csv_parse_loop (GstPad * pad)
{
  GstCsvParse *self = GST_CSV_PARSE (GST_PAD_PARENT (pad));
  GstFlowReturn ret = GST_FLOW_OK;
  gboolean at_stop = FALSE;

  if (!self->sent_stream_start) {
    gchar *id = gst_pad_create_stream_id (self->srcpad, GST_ELEMENT (self),
        NULL);
    gst_pad_push_event (self->srcpad, gst_event_new_stream_start (id));
    g_free (id);
    self->sent_stream_start = TRUE;
  }
  if (self->index == NULL && (ret = build_index (self)) != GST_FLOW_OK)
    goto pause;
  if (self->reader == NULL)
    self->reader = new_reader (self);

  ret = pull_chunk (self, self->offset, self->reader, &self->offset);
  if (ret == GST_FLOW_OK) {
    ret = drain (self);
    at_stop = ret == GST_FLOW_EOS;
  }
  if (ret == GST_FLOW_EOS) {
    ret = finish_stream (self, !at_stop);
    if (ret == GST_FLOW_OK) {
      if (self->seeked && (self->segment.flags & GST_SEGMENT_FLAG_SEGMENT)) {
        GstClockTime stop = GST_CLOCK_TIME_IS_VALID (self->segment.stop) ?
            self->segment.stop : self->duration;
        gst_element_post_message (GST_ELEMENT (self),
            gst_message_new_segment_done (GST_OBJECT (self), GST_FORMAT_TIME,
                (gint64) stop));
        gst_pad_push_event (self->srcpad,
            gst_event_new_segment_done (GST_FORMAT_TIME, (gint64) stop));
      } else {
        GstEvent *eos = gst_event_new_eos ();
        if (self->seeked)
          gst_event_set_seqnum (eos, self->seqnum);
        gst_pad_push_event (self->srcpad, eos);
      }
      ret = GST_FLOW_EOS;
    }
  }
  if (ret == GST_FLOW_OK)
    return;

pause:
  GST_DEBUG_OBJECT (self, "pausing: %s", gst_flow_get_name (ret));
  gst_pad_pause_task (pad);
  if (ret == GST_FLOW_NOT_LINKED || ret < GST_FLOW_EOS) {
    /* GST_FLOW_ERROR comes with its own message already posted (ours:
     * strict, missing=error, columns; or downstream's) */
    if (ret != GST_FLOW_ERROR)
      GST_ELEMENT_FLOW_ERROR (self, ret);
    gst_pad_push_event (self->srcpad, gst_event_new_eos ());
  }
}

static gboolean
gst_csv_parse_sink_activate (GstPad * pad, GstObject * parent)
{
  GstQuery *q = gst_query_new_scheduling ();
  gboolean pull = FALSE;

  if (gst_pad_peer_query (pad, q))
    pull = gst_query_has_scheduling_mode_with_flags (q, GST_PAD_MODE_PULL,
        GST_SCHEDULING_FLAG_SEEKABLE);
  gst_query_unref (q);
  GST_DEBUG_OBJECT (parent, "activating in %s mode", pull ? "pull" : "push");
  return gst_pad_activate_mode (pad, pull ? GST_PAD_MODE_PULL :
      GST_PAD_MODE_PUSH, TRUE);
}

static gboolean
gst_csv_parse_sink_activate_mode (GstPad * pad, GstObject * parent,
    GstPadMode mode, gboolean active)
{
  GstCsvParse *self = GST_CSV_PARSE (parent);

  if (mode != GST_PAD_MODE_PULL) {
    self->pull = FALSE;
    return TRUE;
  }
  if (active) {
    self->pull = TRUE;
    self->offset = 0;
    return gst_pad_start_task (pad, (GstTaskFunction) gst_csv_parse_loop,
        pad, NULL);
  }
  return gst_pad_stop_task (pad);
}

/* A TIME seek in pull mode: streaming goes on from the first data row at
 * or after the start (a row's time: its column value, or its place /
 * rate), up to the stop. */
static gboolean
do_seek (GstCsvParse * self, GstEvent * event)
{
  gdouble rate;
  GstFormat format;
  GstSeekFlags flags;
  GstSeekType start_type, stop_type;
  gint64 start, stop;
  gboolean flush, update;
  guint k = 0;

  gst_event_parse_seek (event, &rate, &format, &flags, &start_type, &start,
      &stop_type, &stop);
  if (!self->pull || format != GST_FORMAT_TIME || rate <= 0.0) {
    GST_DEBUG_OBJECT (self, "cannot seek: %s", !self->pull ? "not in pull "
        "mode" : format != GST_FORMAT_TIME ? "not in TIME" : "rate <= 0");
    return FALSE;
  }
  flush = (flags & GST_SEEK_FLAG_FLUSH) != 0;
  if (flush)
    gst_pad_push_event (self->srcpad, gst_event_new_flush_start ());
  else
    gst_pad_pause_task (self->sinkpad);
  GST_PAD_STREAM_LOCK (self->sinkpad);

  if (self->index == NULL && build_index (self) != GST_FLOW_OK) {
    GST_PAD_STREAM_UNLOCK (self->sinkpad);
    return FALSE;
  }
  if (!self->seeked)
    gst_segment_init (&self->segment, GST_FORMAT_TIME);
  gst_segment_do_seek (&self->segment, rate, format, flags, start_type,
      (guint64) start, stop_type, (guint64) stop, &update);
  self->seqnum = gst_event_get_seqnum (event);
  if (flush) {
    GstEvent *fs = gst_event_new_flush_stop (TRUE);
    gst_event_set_seqnum (fs, self->seqnum);
    gst_pad_push_event (self->srcpad, fs);
  }

  /* the first row at or after the start */
  for (k = 0; k < self->index->len; k++) {
    GstClockTime t = g_array_index (self->index, IndexRow, k).pts;
    if (GST_CLOCK_TIME_IS_VALID (t) && t >= self->segment.start)
      break;
  }
  if (self->configured && k < self->index->len) {
    const IndexRow *ir = &g_array_index (self->index, IndexRow, k);
    rnn_csv_reader_restart_at (self->reader, ir->offset, ir->line, k);
    self->offset = ir->offset;
  } else if (self->configured) {
    /* past the last row: straight to EOS */
    rnn_csv_reader_restart_at (self->reader, G_MAXUINT64, 1, k);
    self->offset = G_MAXUINT64;
  } else {
    /* the header is not read yet: from the start, rows before the
     * segment start are passed over */
    g_clear_pointer (&self->reader, rnn_csv_reader_free);
    self->offset = 0;
  }
  self->seeked = TRUE;
  self->n_frames = 0;
  self->need_segment = TRUE;
  self->discont = TRUE;
  self->next_index = k;
  self->frames_out = k;
  self->last_time = GST_CLOCK_TIME_NONE;
  if (self->have_last)
    memset (self->have_last, 0, self->n_cols * sizeof (gboolean));
  GST_DEBUG_OBJECT (self, "seek to %" GST_TIME_FORMAT ": row %u, byte %"
      G_GUINT64_FORMAT, GST_TIME_ARGS (self->segment.start), k,
      self->offset);
  gst_pad_start_task (self->sinkpad, (GstTaskFunction) gst_csv_parse_loop,
      self->sinkpad, NULL);
  GST_PAD_STREAM_UNLOCK (self->sinkpad);
  return TRUE;
}

static gboolean
gst_csv_parse_src_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstCsvParse *self = GST_CSV_PARSE (parent);

  if (GST_EVENT_TYPE (event) == GST_EVENT_SEEK) {
    gboolean ok = do_seek (self, event);
    gst_event_unref (event);
    return ok;
  }
  return gst_pad_event_default (pad, parent, event);
}

static gboolean
gst_csv_parse_src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstCsvParse *self = GST_CSV_PARSE (parent);
  GstFormat fmt;
  GstClockTime dur;
  gboolean pull;

  GST_OBJECT_LOCK (self);
  dur = self->index ? self->duration : GST_CLOCK_TIME_NONE;
  pull = self->pull;
  GST_OBJECT_UNLOCK (self);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_DURATION:
      gst_query_parse_duration (query, &fmt, NULL);
      if (fmt != GST_FORMAT_TIME || !GST_CLOCK_TIME_IS_VALID (dur))
        return FALSE;
      gst_query_set_duration (query, GST_FORMAT_TIME, (gint64) dur);
      return TRUE;
    case GST_QUERY_SEEKING:
      gst_query_parse_seeking (query, &fmt, NULL, NULL, NULL);
      if (fmt != GST_FORMAT_TIME)
        return FALSE;
      gst_query_set_seeking (query, GST_FORMAT_TIME, pull, 0,
          GST_CLOCK_TIME_IS_VALID (dur) ? (gint64) dur : -1);
      return TRUE;
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

static GstStateChangeReturn
gst_csv_parse_change_state (GstElement * element, GstStateChange transition)
{
  GstCsvParse *self = GST_CSV_PARSE (element);
  GstStateChangeReturn ret;

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED)
    reset_stream (self, TRUE);
  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    reset_stream (self, TRUE);
  return ret;
}

/* ------------------------------------------------------------ properties */

static void
gst_csv_parse_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstCsvParse *self = GST_CSV_PARSE (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_COLUMNS:
      g_free (self->columns);
      self->columns = g_value_dup_string (value);
      break;
    case PROP_TIME_COLUMN:
      g_free (self->time_column);
      self->time_column = g_value_dup_string (value);
      break;
    case PROP_RATE:
      self->rate = g_value_get_double (value);
      break;
    case PROP_FRAMES_PER_BUFFER:
      self->frames_per_buffer = g_value_get_uint (value);
      break;
    case PROP_HEADER:
      self->header = g_value_get_enum (value);
      break;
    case PROP_MISSING:
      self->missing = g_value_get_enum (value);
      break;
    case PROP_STRICT:
      self->strict = g_value_get_boolean (value);
      break;
    case PROP_DELIMITER:{
      const gchar *d = g_value_get_string (value);
      if (!rnn_csv_delimiter_parse (d, NULL, &self->delimiter))
        g_warning ("csvparse: delimiter must be one character (or \"tab\"), "
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
gst_csv_parse_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstCsvParse *self = GST_CSV_PARSE (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_COLUMNS:
      g_value_set_string (value, self->columns);
      break;
    case PROP_TIME_COLUMN:
      g_value_set_string (value, self->time_column);
      break;
    case PROP_RATE:
      g_value_set_double (value, self->rate);
      break;
    case PROP_FRAMES_PER_BUFFER:
      g_value_set_uint (value, self->frames_per_buffer);
      break;
    case PROP_HEADER:
      g_value_set_enum (value, self->header);
      break;
    case PROP_MISSING:
      g_value_set_enum (value, self->missing);
      break;
    case PROP_STRICT:
      g_value_set_boolean (value, self->strict);
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
gst_csv_parse_finalize (GObject * object)
{
  GstCsvParse *self = GST_CSV_PARSE (object);

  reset_stream (self, TRUE);
  g_free (self->columns);
  g_free (self->time_column);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_csv_parse_class_init (GstCsvParseClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  GST_DEBUG_CATEGORY_INIT (csvparse_debug, "csvparse", 0,
      "CSV text to signal frames");

  gobject_class->set_property = gst_csv_parse_set_property;
  gobject_class->get_property = gst_csv_parse_get_property;
  gobject_class->finalize = gst_csv_parse_finalize;

  /**
   * GstCsvParse:columns:
   *
   * The columns that become features, in order: a comma-separated list of
   * header names or 0-based indices (e.g. `co2` or `1,3`). Unset: every
   * column whose value in the first data row is a number or missing,
   * except the time column.
   */
  g_object_class_install_property (gobject_class, PROP_COLUMNS,
      g_param_spec_string ("columns", "Columns",
          "Comma-separated header names or 0-based indices of the feature "
          "columns (unset: every numeric column but the time column)",
          DEFAULT_COLUMNS, flags));
  /**
   * GstCsvParse:time-column:
   *
   * The column (header name or 0-based index) holding each row's time in
   * seconds, used as PTS. Unset: timestamps come from #GstCsvParse:rate.
   */
  g_object_class_install_property (gobject_class, PROP_TIME_COLUMN,
      g_param_spec_string ("time-column", "Time column",
          "Header name or 0-based index of the column holding the time in "
          "seconds (unset: timestamps from the rate)", DEFAULT_TIME_COLUMN,
          flags));
  /**
   * GstCsvParse:rate:
   *
   * Frames per second, fractional rates allowed (0.2: one row every 5
   * seconds): the spacing of the timestamps without
   * #GstCsvParse:time-column and the buffer duration. The caps carry it as
   * the tensor framerate (a fraction) or as the audio rate, which is an
   * integer and so only nominal below 1 Hz or between integers (at least
   * 1, the integer part otherwise): the buffers' timestamps and durations
   * carry the real spacing.
   */
  g_object_class_install_property (gobject_class, PROP_RATE,
      g_param_spec_double ("rate", "Rate", "Frames (rows) per second, "
          "fractional allowed", MIN_RATE, G_MAXINT, DEFAULT_RATE, flags));
  /**
   * GstCsvParse:frames-per-buffer:
   *
   * Rows per output buffer (the N of the tensor dimensions F:N). The last
   * buffer at EOS may hold fewer with audio caps. A buffer holds at most
   * 256 MiB: more rows x columns than that is an error naming the sizes.
   */
  g_object_class_install_property (gobject_class, PROP_FRAMES_PER_BUFFER,
      g_param_spec_uint ("frames-per-buffer", "Frames per buffer",
          "Rows per output buffer", 1, 1 << 20, DEFAULT_FRAMES_PER_BUFFER,
          flags));
  /**
   * GstCsvParse:header:
   *
   * Whether the first row (blank lines and `#` comments aside) is a header
   * naming the columns.
   */
  g_object_class_install_property (gobject_class, PROP_HEADER,
      g_param_spec_enum ("header", "Header", "Whether the first row is a "
          "header", GST_TYPE_CSV_PARSE_HEADER, DEFAULT_HEADER, flags));
  /**
   * GstCsvParse:missing:
   *
   * What a missing value (empty, `NA`, `N/A`, `NaN`, `null`, `None`) in a
   * chosen column becomes.
   */
  g_object_class_install_property (gobject_class, PROP_MISSING,
      g_param_spec_enum ("missing", "Missing values",
          "What a blank or NA value in a chosen column becomes",
          GST_TYPE_CSV_PARSE_MISSING, DEFAULT_MISSING, flags));
  /**
   * GstCsvParse:strict:
   *
   * When set, a malformed row fails the stream with an error naming its
   * line; otherwise it is skipped with a warning naming its line.
   */
  g_object_class_install_property (gobject_class, PROP_STRICT,
      g_param_spec_boolean ("strict", "Strict",
          "A malformed row is an error (else a warning and the row is "
          "skipped)", DEFAULT_STRICT, flags));
  /**
   * GstCsvParse:delimiter:
   *
   * The field separator: one character, or `tab`.
   */
  g_object_class_install_property (gobject_class, PROP_DELIMITER,
      g_param_spec_string ("delimiter", "Delimiter",
          "Field separator: one character, or \"tab\"", DEFAULT_DELIMITER,
          flags));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "CSV parser",
      "Codec/Parser/Converter",
      "Turns CSV text into float signal frames (audio/x-raw F32LE or "
      "other/tensors), choosing columns and timestamps",
      "gst-rnn developers");
  element_class->change_state = GST_DEBUG_FUNCPTR (gst_csv_parse_change_state);

  gst_type_mark_as_plugin_api (GST_TYPE_CSV_PARSE_HEADER, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_CSV_PARSE_MISSING, 0);
}

static void
gst_csv_parse_init (GstCsvParse * self)
{
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_csv_parse_chain));
  gst_pad_set_event_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_csv_parse_sink_event));
  gst_pad_set_activate_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_csv_parse_sink_activate));
  gst_pad_set_activatemode_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_csv_parse_sink_activate_mode));
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_use_fixed_caps (self->srcpad);
  gst_pad_set_event_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_csv_parse_src_event));
  gst_pad_set_query_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_csv_parse_src_query));
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  self->columns = DEFAULT_COLUMNS;
  self->time_column = DEFAULT_TIME_COLUMN;
  self->rate = DEFAULT_RATE;
  self->frames_per_buffer = DEFAULT_FRAMES_PER_BUFFER;
  self->header = DEFAULT_HEADER;
  self->missing = DEFAULT_MISSING;
  self->strict = DEFAULT_STRICT;
  self->delimiter = DEFAULT_DELIMITER[0];
  self->time_col = -1;
  self->last_time = GST_CLOCK_TIME_NONE;
  self->duration = GST_CLOCK_TIME_NONE;
  gst_segment_init (&self->segment, GST_FORMAT_TIME);
}
