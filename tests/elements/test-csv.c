/* csvparse and csvenc with GstHarness.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/gst.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <math.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "rnn.h"

/* ---------------------------------------------------------------- helpers */

typedef struct
{
  GstHarness *h;
  GstBus *bus;
} Run;

static Run
run_new (const gchar * launch)
{
  Run r;
  r.h = gst_harness_new_parse (launch);
  r.bus = gst_bus_new ();
  gst_element_set_bus (r.h->element, r.bus);
  gst_harness_set_src_caps_str (r.h, "text/csv");
  return r;
}

static void
run_free (Run * r)
{
  gst_element_set_bus (r->h->element, NULL);
  gst_object_unref (r->bus);
  gst_harness_teardown (r->h);
}

static GstFlowReturn
push_text (Run * r, const gchar * text, gsize len)
{
  return gst_harness_push (r->h, gst_buffer_new_memdup (text, len));
}

static void
push_eos (Run * r)
{
  fail_unless (gst_harness_push_event (r->h, gst_event_new_eos ()));
}

/* Every frame pulled, and the PTS / duration of each buffer. */
typedef struct
{
  GArray *values;               /* gfloat */
  GArray *pts;                  /* GstClockTime per buffer */
  GArray *dur;
  GArray *frames;               /* guint per buffer */
  gint channels, rate;
  gchar *caps;
} Frames;

static Frames
pull_all (Run * r)
{
  Frames f;
  GstBuffer *b;
  GstCaps *caps;

  f.values = g_array_new (FALSE, FALSE, sizeof (gfloat));
  f.pts = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  f.dur = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  f.frames = g_array_new (FALSE, FALSE, sizeof (guint));
  f.channels = 0;
  f.rate = 0;
  f.caps = NULL;
  caps = gst_pad_get_current_caps (r->h->sinkpad);
  if (caps) {
    GstStructure *s = gst_caps_get_structure (caps, 0);
    gst_structure_get_int (s, "channels", &f.channels);
    gst_structure_get_int (s, "rate", &f.rate);
    f.caps = gst_caps_to_string (caps);
    gst_caps_unref (caps);
  }
  while ((b = gst_harness_try_pull (r->h))) {
    GstMapInfo map;
    GstClockTime t = GST_BUFFER_PTS (b), d = GST_BUFFER_DURATION (b);
    guint n;
    gst_buffer_map (b, &map, GST_MAP_READ);
    g_array_append_vals (f.values, map.data, map.size / sizeof (gfloat));
    n = f.channels ? map.size / sizeof (gfloat) / f.channels : 0;
    gst_buffer_unmap (b, &map);
    g_array_append_val (f.pts, t);
    g_array_append_val (f.dur, d);
    g_array_append_val (f.frames, n);
    gst_buffer_unref (b);
  }
  return f;
}

static void
frames_free (Frames * f)
{
  g_array_free (f->values, TRUE);
  g_array_free (f->pts, TRUE);
  g_array_free (f->dur, TRUE);
  g_array_free (f->frames, TRUE);
  g_free (f->caps);
}

#define VAL(f, i) g_array_index ((f).values, gfloat, (i))
#define PTS(f, i) g_array_index ((f).pts, GstClockTime, (i))

/* Parse @text in one buffer with @launch and return the frames. */
static Frames
parse_text (const gchar * launch, const gchar * text)
{
  Run r = run_new (launch);
  Frames f;
  fail_unless_equals_int (push_text (&r, text, strlen (text)), GST_FLOW_OK);
  push_eos (&r);
  f = pull_all (&r);
  run_free (&r);
  return f;
}

static void
assert_values (const Frames * f, const gfloat * want, guint n)
{
  guint i;
  fail_unless_equals_int (f->values->len, n);
  for (i = 0; i < n; i++)
    fail_unless (VAL (*f, i) == want[i] || (isnan (VAL (*f, i))
            && isnan (want[i])), "value %u: %g, expected %g", i,
        VAL (*f, i), want[i]);
}

/* All messages of @type on the bus, their debug/text strings joined. */
static gchar *
pop_messages (GstBus * bus, GstMessageType type, guint * count)
{
  GString *all = g_string_new (NULL);
  GstMessage *m;

  *count = 0;
  while ((m = gst_bus_pop_filtered (bus, type))) {
    GError *err = NULL;
    gchar *dbg = NULL;
    if (type == GST_MESSAGE_WARNING)
      gst_message_parse_warning (m, &err, &dbg);
    else
      gst_message_parse_error (m, &err, &dbg);
    g_string_append_printf (all, "%s|", err->message);
    g_clear_error (&err);
    g_free (dbg);
    gst_message_unref (m);
    (*count)++;
  }
  return g_string_free (all, FALSE);
}

/* Parse @text in one buffer with @launch: the frames, and the texts of the
 * warnings posted (joined by '|') in *warnings, their number in *n. */
static Frames
parse_warned (const gchar * launch, const gchar * text, gchar ** warnings,
    guint * n)
{
  Run r = run_new (launch);
  Frames f;

  fail_unless_equals_int (push_text (&r, text, strlen (text)), GST_FLOW_OK);
  push_eos (&r);
  f = pull_all (&r);
  *warnings = pop_messages (r.bus, GST_MESSAGE_WARNING, n);
  run_free (&r);
  return f;
}

/* ------------------------------------------------------------- csvparse */

GST_START_TEST (test_header_detection)
{
  Frames f;
  const gfloat w1[] = { 1, 2, 3, 4 };
  const gfloat w2[] = { 2, 4 };

  /* header auto-detected, every numeric column a feature */
  f = parse_text ("csvparse", "date,co2\n1,2\n3,4\n");
  fail_unless_equals_int (f.channels, 2);
  assert_values (&f, w1, 4);
  frames_free (&f);

  /* no header: the first row is data */
  f = parse_text ("csvparse", "1,2\n3,4\n");
  fail_unless_equals_int (f.channels, 2);
  assert_values (&f, w1, 4);
  frames_free (&f);

  /* header=present takes a numeric first row as names */
  f = parse_text ("csvparse header=present columns=1", "10,20\n1,2\n3,4\n");
  fail_unless_equals_int (f.channels, 1);
  assert_values (&f, w2, 2);
  frames_free (&f);

  /* comments and blank lines before the header are skipped */
  f = parse_text ("csvparse columns=co2",
      "# Mauna Loa\n\n# weekly\ndate,co2\n1,2\n\n3,4\n");
  assert_values (&f, w2, 2);
  frames_free (&f);
}

GST_END_TEST;

GST_START_TEST (test_header_absent_text_is_malformed)
{
  guint n;
  gchar *w;
  const gfloat want[] = { 5 };
  Frames f = parse_warned ("csvparse header=absent columns=0", "a,b\n5,6\n",
      &w, &n);

  assert_values (&f, want, 1);
  fail_unless_equals_int (n, 1);
  fail_unless (strstr (w, "line 1") != NULL, "%s", w);
  g_free (w);
  frames_free (&f);
}

GST_END_TEST;

GST_START_TEST (test_column_choice)
{
  Frames f;
  const gfloat by_name[] = { 3, 1, 6, 4 };
  const gfloat by_index[] = { 2, 1, 5, 4 };
  const gfloat mixed[] = { 2, 3, 5, 6 };

  f = parse_text ("csvparse columns=c,a", "a,b,c\n1,2,3\n4,5,6\n");
  fail_unless_equals_int (f.channels, 2);
  assert_values (&f, by_name, 4);
  frames_free (&f);

  f = parse_text ("csvparse columns=1,0", "1,2,3\n4,5,6\n");
  assert_values (&f, by_index, 4);
  frames_free (&f);

  f = parse_text ("csvparse columns=\"b, 2\"", "a,b,c\n1,2,3\n4,5,6\n");
  assert_values (&f, mixed, 4);
  frames_free (&f);

  /* a text column is not a default feature */
  f = parse_text ("csvparse", "name,v\nx,1\ny,2\n");
  fail_unless_equals_int (f.channels, 1);
  fail_unless_equals_int (f.values->len, 2);
  frames_free (&f);
}

GST_END_TEST;

static void
expect_error (const gchar * launch, const gchar * text, const gchar * part1,
    const gchar * part2)
{
  Run r = run_new (launch);
  GstFlowReturn ret;
  guint n;
  gchar *e;

  ret = push_text (&r, text, strlen (text));
  fail_unless (ret == GST_FLOW_ERROR || ret == GST_FLOW_NOT_NEGOTIATED,
      "flow %s", gst_flow_get_name (ret));
  e = pop_messages (r.bus, GST_MESSAGE_ERROR, &n);
  fail_unless (n >= 1);
  fail_unless (strstr (e, part1) != NULL, "'%s' lacks '%s'", e, part1);
  if (part2)
    fail_unless (strstr (e, part2) != NULL, "'%s' lacks '%s'", e, part2);
  g_free (e);
  run_free (&r);
}

GST_START_TEST (test_column_errors)
{
  expect_error ("csvparse columns=zz", "a,b\n1,2\n", "'zz'", "a, b");
  expect_error ("csvparse columns=5", "a,b\n1,2\n", "5", "2 fields");
  expect_error ("csvparse columns=a", "1,2\n", "no header", NULL);
  expect_error ("csvparse time-column=when", "a,b\n1,2\n", "'when'", NULL);
  expect_error ("csvparse", "x,y\nfoo,bar\n", "no numeric column", NULL);
  {
    /* 2^20 frames x 3000 columns would be 12 GB per buffer: an error
     * naming the sizes, not an abort (found by fuzz/repro). */
    GString *wide = g_string_new (NULL);
    guint i;
    for (i = 0; i < 3000; i++)
      g_string_append_printf (wide, i ? ",%u" : "%u", i);
    g_string_append_c (wide, '\n');
    expect_error ("csvparse frames-per-buffer=1048576", wide->str,
        "1048576 frames of 3000 columns", "frames-per-buffer");
    g_string_free (wide, TRUE);
  }
}

GST_END_TEST;

GST_START_TEST (test_rate_timestamps)
{
  Frames f = parse_text ("csvparse rate=4", "v\n1\n2\n3\n");
  GstSegment seg;
  GstEvent *ev;

  fail_unless_equals_int (f.rate, 4);
  fail_unless_equals_int (f.pts->len, 3);
  fail_unless_equals_uint64 (PTS (f, 0), 0);
  fail_unless_equals_uint64 (PTS (f, 1), GST_SECOND / 4);
  fail_unless_equals_uint64 (PTS (f, 2), GST_SECOND / 2);
  fail_unless_equals_uint64 (g_array_index (f.dur, GstClockTime, 0),
      GST_SECOND / 4);
  frames_free (&f);

  /* frames-per-buffer groups rows; the buffer's PTS is its first frame's */
  {
    Run r = run_new ("csvparse rate=2 frames-per-buffer=2");
    const gchar *t = "v\n1\n2\n3\n4\n5\n";
    push_text (&r, t, strlen (t));
    push_eos (&r);
    f = pull_all (&r);
    fail_unless_equals_int (f.pts->len, 3);
    fail_unless_equals_int (g_array_index (f.frames, guint, 0), 2);
    fail_unless_equals_int (g_array_index (f.frames, guint, 2), 1);
    fail_unless_equals_uint64 (PTS (f, 1), GST_SECOND);
    fail_unless_equals_uint64 (PTS (f, 2), 2 * GST_SECOND);
    fail_unless_equals_uint64 (g_array_index (f.dur, GstClockTime, 0),
        GST_SECOND);
    /* TIME segment from 0 */
    while ((ev = gst_harness_try_pull_event (r.h))) {
      if (GST_EVENT_TYPE (ev) == GST_EVENT_SEGMENT) {
        gst_event_copy_segment (ev, &seg);
        fail_unless_equals_int (seg.format, GST_FORMAT_TIME);
        fail_unless_equals_uint64 (seg.start, 0);
      }
      gst_event_unref (ev);
    }
    frames_free (&f);
    run_free (&r);
  }
}

GST_END_TEST;

GST_START_TEST (test_time_column)
{
  Run r = run_new ("csvparse time-column=t rate=2");
  const gchar *t = "t,v\n10,1\n10.5,2\n11.25,3\n";
  const gfloat want[] = { 1, 2, 3 };
  Frames f;
  GstEvent *ev;
  gboolean seen = FALSE;

  push_text (&r, t, strlen (t));
  push_eos (&r);
  f = pull_all (&r);
  fail_unless_equals_int (f.channels, 1);       /* time is not a feature */
  assert_values (&f, want, 3);
  fail_unless_equals_uint64 (PTS (f, 0), 10 * GST_SECOND);
  fail_unless_equals_uint64 (PTS (f, 1), 10 * GST_SECOND + GST_SECOND / 2);
  fail_unless_equals_uint64 (PTS (f, 2), 11 * GST_SECOND + GST_SECOND / 4);
  while ((ev = gst_harness_try_pull_event (r.h))) {
    if (GST_EVENT_TYPE (ev) == GST_EVENT_SEGMENT) {
      GstSegment seg;
      gst_event_copy_segment (ev, &seg);
      /* running time starts at the first row, stream time = the column */
      fail_unless_equals_uint64 (seg.start, 10 * GST_SECOND);
      fail_unless_equals_uint64 (seg.time, 10 * GST_SECOND);
      seen = TRUE;
    }
    gst_event_unref (ev);
  }
  fail_unless (seen);
  frames_free (&f);
  run_free (&r);

  /* a negative or non-numeric time is a malformed line */
  {
    guint n;
    gchar *w;
    const gfloat want2[] = { 1, 4 };
    f = parse_warned ("csvparse time-column=0", "0,1\n-1,2\nnoon,3\n2,4\n",
        &w, &n);
    assert_values (&f, want2, 2);
    fail_unless_equals_int (n, 2);
    fail_unless (strstr (w, "line 2") && strstr (w, "line 3"), "%s", w);
    g_free (w);
    frames_free (&f);
  }
}

GST_END_TEST;

static const gchar *BLANKS = "a,b\n1,2\n,3\n4,\nNA,n/a\n5,6\n";

GST_START_TEST (test_missing_policies)
{
  Frames f;
  const gfloat prev[] = { 1, 2, 1, 3, 4, 3, 4, 3, 5, 6 };
  const gfloat zero[] = { 1, 2, 0, 3, 4, 0, 0, 0, 5, 6 };
  const gfloat skip[] = { 1, 2, 5, 6 };
  const gfloat nanv[] = { 1, 2, NAN, 3, 4, NAN, NAN, NAN, 5, 6 };
  const gfloat late[] = { 2, 7, 3, 8 };

  f = parse_text ("csvparse", BLANKS);  /* default: previous */
  assert_values (&f, prev, 10);
  frames_free (&f);
  f = parse_text ("csvparse missing=zero", BLANKS);
  assert_values (&f, zero, 10);
  frames_free (&f);
  f = parse_text ("csvparse missing=skip", BLANKS);
  assert_values (&f, skip, 4);
  frames_free (&f);
  f = parse_text ("csvparse missing=nan", BLANKS);
  assert_values (&f, nanv, 10);
  frames_free (&f);
  /* previous: rows before a column's first value are dropped */
  f = parse_text ("csvparse", "a,b\n1,\n2,7\n3,8\n");
  assert_values (&f, late, 4);
  frames_free (&f);

  expect_error ("csvparse missing=error", BLANKS, "line 3", "'a'");
}

GST_END_TEST;

GST_START_TEST (test_malformed_lines)
{
  const gchar *t = "a,b\n1,2\n1,zz\n3\n\"4\",\"5\"\n";
  const gfloat want[] = { 1, 2, 4, 5 };
  guint n;
  gchar *w;
  Frames f = parse_warned ("csvparse", t, &w, &n);

  assert_values (&f, want, 4);
  fail_unless_equals_int (n, 2);
  fail_unless (strstr (w, "line 3") != NULL, "%s", w);
  fail_unless (strstr (w, "'zz'") != NULL, "%s", w);
  fail_unless (strstr (w, "line 4") != NULL, "%s", w);
  g_free (w);
  frames_free (&f);

  expect_error ("csvparse strict=true", t, "line 3", "'zz'");
}

GST_END_TEST;

GST_START_TEST (test_warning_flood_capped)
{
  Run r = run_new ("csvparse columns=a");
  GString *t = g_string_new ("a\n");
  guint n, i;
  gchar *w;
  Frames f;

  for (i = 0; i < 100; i++)
    g_string_append (t, "x\n");
  g_string_append (t, "7\n");
  push_text (&r, t->str, t->len);
  push_eos (&r);
  f = pull_all (&r);
  fail_unless_equals_int (f.values->len, 1);
  w = pop_messages (r.bus, GST_MESSAGE_WARNING, &n);
  fail_unless (n >= 1 && n <= 20, "%u warnings", n);
  g_free (w);
  frames_free (&f);
  run_free (&r);
  g_string_free (t, TRUE);
}

GST_END_TEST;

/* A text with every feature of the format, whole. */
static const gchar *RICH =
    "# comment, with \"quo,tes\r\n"
    "time,\"name, with comma\",\"say \"\"hi\"\"\",\"multi\nline\"\r\n"
    "0,1.5,-2e3,7\r\n"
    "\r\n"
    "0.25,\"3\",  4  ,\"8\"\r\n"
    "0.5,,5,9\r\n" "0.75,1e-3,6,10";     /* no final line break */

static Frames
parse_split (const gchar * launch, const gchar * text, gsize len,
    const gsize * cuts, guint n_cuts)
{
  Run r = run_new (launch);
  Frames f;
  gsize prev = 0;
  guint i;

  for (i = 0; i <= n_cuts; i++) {
    gsize end = i < n_cuts ? cuts[i] : len;
    fail_unless_equals_int (push_text (&r, text + prev, end - prev),
        GST_FLOW_OK);
    prev = end;
  }
  push_eos (&r);
  f = pull_all (&r);
  run_free (&r);
  return f;
}

GST_START_TEST (test_split_every_byte)
{
  const gchar *launch = "csvparse time-column=time";
  gsize len = strlen (RICH), k;
  Frames whole, f;
  const gfloat want[] = { 1.5f, -2000, 7, 3, 4, 8, 3, 5, 9, 1e-3f, 6, 10 };

  whole = parse_split (launch, RICH, len, NULL, 0);
  fail_unless_equals_int (whole.channels, 3);
  assert_values (&whole, want, 12);
  fail_unless_equals_uint64 (PTS (whole, 3), 3 * GST_SECOND / 4);

  for (k = 1; k < len; k++) {
    f = parse_split (launch, RICH, len, &k, 1);
    fail_unless_equals_int (f.values->len, whole.values->len);
    fail_unless (memcmp (f.values->data, whole.values->data,
            whole.values->len * sizeof (gfloat)) == 0, "split at %zu", k);
    fail_unless (memcmp (f.pts->data, whole.pts->data,
            whole.pts->len * sizeof (GstClockTime)) == 0, "pts split %zu", k);
    frames_free (&f);
  }
  /* one byte per buffer */
  {
    gsize *cuts = g_new (gsize, len - 1);
    for (k = 1; k < len; k++)
      cuts[k - 1] = k;
    f = parse_split (launch, RICH, len, cuts, (guint) len - 1);
    fail_unless (memcmp (f.values->data, whole.values->data,
            whole.values->len * sizeof (gfloat)) == 0);
    frames_free (&f);
    g_free (cuts);
  }
  frames_free (&whole);
}

GST_END_TEST;

GST_START_TEST (test_crlf_quotes_names)
{
  /* header names with quotes and delimiters are matched unquoted */
  Frames f = parse_text ("csvparse columns=\"say \\\"hi\\\"\"", RICH);
  const gfloat want[] = { -2000, 4, 5, 6 };
  assert_values (&f, want, 4);
  frames_free (&f);

  f = parse_text ("csvparse delimiter=; columns=b", "a;b\r\n1,5;2\r\n3;4");
  {
    const gfloat w2[] = { 2, 4 };
    assert_values (&f, w2, 2);
  }
  frames_free (&f);

  f = parse_text ("csvparse delimiter=tab", "a\tb\n1\t2\n");
  {
    const gfloat w3[] = { 1, 2 };
    assert_values (&f, w3, 2);
  }
  frames_free (&f);
}

GST_END_TEST;

GST_START_TEST (test_eos_and_empty)
{
  Frames f;
  Run r;
  GstEvent *ev;
  gboolean eos = FALSE;

  /* empty input: EOS, no buffer */
  r = run_new ("csvparse");
  push_eos (&r);
  f = pull_all (&r);
  fail_unless_equals_int (f.values->len, 0);
  while ((ev = gst_harness_try_pull_event (r.h))) {
    eos |= GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
  }
  fail_unless (eos);
  frames_free (&f);
  run_free (&r);

  /* a header alone */
  f = parse_text ("csvparse", "a,b\n");
  fail_unless_equals_int (f.values->len, 0);
  frames_free (&f);

  /* a last line without line break is parsed at EOS, and the partial
   * buffer is pushed */
  r = run_new ("csvparse frames-per-buffer=4");
  push_text (&r, "v\n1\n2\n3\n4\n5\n6", 13);
  f = pull_all (&r);
  fail_unless_equals_int (f.values->len, 4);    /* before EOS: one buffer */
  frames_free (&f);
  push_eos (&r);
  f = pull_all (&r);
  fail_unless_equals_int (f.values->len, 2);
  fail_unless_equals_int (VAL (f, 1), 6);
  fail_unless_equals_uint64 (PTS (f, 0), 4 * GST_SECOND);
  frames_free (&f);
  run_free (&r);
}

GST_END_TEST;

GST_START_TEST (test_tensor_caps)
{
  Run r = run_new ("csvparse frames-per-buffer=2 rate=5");
  Frames f;
  GstStructure *s;
  GstCaps *caps;
  const gchar *t = "a,b\n1,2\n3,4\n5,6\n";

  gst_harness_set_sink_caps_str (r.h, "other/tensors");
  push_text (&r, t, strlen (t));
  push_eos (&r);
  caps = gst_pad_get_current_caps (r.h->sinkpad);
  fail_unless (caps != NULL);
  s = gst_caps_get_structure (caps, 0);
  fail_unless (gst_structure_has_name (s, "other/tensors"));
  fail_unless_equals_string (gst_structure_get_string (s, "dimensions"),
      "2:2");
  fail_unless_equals_string (gst_structure_get_string (s, "types"),
      "float32");
  gst_caps_unref (caps);
  f = pull_all (&r);
  /* 3 rows: one full buffer; the partial one cannot have these caps */
  fail_unless_equals_int (f.values->len, 4);
  frames_free (&f);
  run_free (&r);

  /* audio is preferred when downstream takes both */
  f = parse_text ("csvparse", "a,b\n1,2\n");
  fail_unless (g_str_has_prefix (f.caps, "audio/x-raw"), "%s", f.caps);
  fail_unless (strstr (f.caps, "channel-mask") != NULL, "%s", f.caps);
  frames_free (&f);
}

GST_END_TEST;

/* --------------------------------------------------------------- csvenc */

static gchar *
pull_text (GstHarness * h)
{
  GString *s = g_string_new (NULL);
  GstBuffer *b;
  while ((b = gst_harness_try_pull (h))) {
    GstMapInfo map;
    gst_buffer_map (b, &map, GST_MAP_READ);
    g_string_append_len (s, (const gchar *) map.data, map.size);
    gst_buffer_unmap (b, &map);
    gst_buffer_unref (b);
  }
  return g_string_free (s, FALSE);
}

static GstBuffer *
float_buffer (const gfloat * v, guint n, GstClockTime pts)
{
  GstBuffer *b = gst_buffer_new_memdup (v, n * sizeof (gfloat));
  GST_BUFFER_PTS (b) = pts;
  return b;
}

GST_START_TEST (test_csvenc_audio)
{
  GstHarness *h = gst_harness_new_parse ("csvenc column-names=x,y");
  const gfloat v[] = { 1.5f, -2, 0.1f, NAN, 3, INFINITY };
  gchar *t;

  gst_harness_set_src_caps_str (h, "audio/x-raw, format=F32LE, "
      "layout=interleaved, rate=4, channels=2, channel-mask=(bitmask)0");
  fail_unless_equals_int (gst_harness_push (h, float_buffer (v, 6,
              GST_SECOND)), GST_FLOW_OK);
  t = pull_text (h);
  fail_unless_equals_string (t, "time,x,y\n1,1.5,-2\n1.25,0.1,\n"
      "1.5,3,inf\n");
  g_free (t);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_csvenc_tensors_and_segment)
{
  GstHarness *h = gst_harness_new ("csvenc");
  const gfloat v[] = { 1, 2, 3, 4, 5, 6 };
  GstSegment seg;
  gchar *t;

  gst_harness_set_src_caps_str (h, "other/tensors, format=static, "
      "num_tensors=1, types=float32, dimensions=(string)3:2, "
      "framerate=2/1");
  gst_segment_init (&seg, GST_FORMAT_TIME);
  seg.start = 0;
  seg.time = 100 * GST_SECOND;  /* stream time = running + 100 s */
  gst_harness_push_event (h, gst_event_new_segment (&seg));
  fail_unless_equals_int (gst_harness_push (h, float_buffer (v, 6, 0)),
      GST_FLOW_OK);
  t = pull_text (h);
  fail_unless_equals_string (t, "time,f0,f1,f2\n100,1,2,3\n100.5,4,5,6\n");
  g_free (t);
  gst_harness_teardown (h);

  /* header only at EOS when no frame came */
  h = gst_harness_new ("csvenc");
  gst_harness_set_src_caps_str (h, "other/tensors, format=static, "
      "num_tensors=1, types=float32, dimensions=(string)2:1, "
      "framerate=1/1");
  gst_harness_push_event (h, gst_event_new_eos ());
  t = pull_text (h);
  fail_unless_equals_string (t, "time,f0,f1\n");
  g_free (t);
  gst_harness_teardown (h);

  /* a (fixed) flag-set dimensions is refused with a clear error */
  {
    GstBus *bus = gst_bus_new ();
    GstMessage *m;
    GError *err = NULL;
    GstCaps *caps = gst_caps_from_string ("other/tensors, format=static, "
        "num_tensors=1, types=float32, dimensions=3:1, framerate=1/1");
    h = gst_harness_new ("csvenc");
    gst_element_set_bus (h->element, bus);
    caps = gst_caps_fixate (caps);
    gst_harness_set_src_caps (h, caps);
    m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    fail_unless (m != NULL);
    gst_message_parse_error (m, &err, NULL);
    fail_unless (strstr (err->message, "(string)F:N") != NULL, "%s",
        err->message);
    g_error_free (err);
    gst_message_unref (m);
    gst_element_set_bus (h->element, NULL);
    gst_object_unref (bus);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

GST_START_TEST (test_round_trip)
{
  /* random floats through csvparse ! csvenc ! csvparse come back
   * bit-exact, with their times */
  GRand *rand = g_rand_new_with_seed (42);
  GString *in = g_string_new ("t,a,b,c\n");
  GArray *want = g_array_new (FALSE, FALSE, sizeof (gfloat));
  GstHarness *h;
  gchar *text;
  Frames f;
  guint i;

  for (i = 0; i < 200; i++) {
    gfloat v[3];
    gchar num[G_ASCII_DTOSTR_BUF_SIZE];
    guint k;
    g_string_append_printf (in, "%u.%02u", i / 4, (i % 4) * 25);
    for (k = 0; k < 3; k++) {
      v[k] = (gfloat) (g_rand_double_range (rand, -1, 1) *
          pow (10, g_rand_int_range (rand, -20, 20)));
      g_string_append_printf (in, ",%s", g_ascii_formatd (num, sizeof num,
              "%.12g", v[k]));
      v[k] = (gfloat) g_ascii_strtod (num, NULL);
    }
    g_string_append_c (in, '\n');
    g_array_append_vals (want, v, 3);
  }

  h = gst_harness_new_parse ("csvparse time-column=t rate=4 "
      "frames-per-buffer=7 ! csvenc column-names=a,b,c");
  gst_harness_set_src_caps_str (h, "text/csv");
  gst_harness_push (h, gst_buffer_new_memdup (in->str, in->len));
  gst_harness_push_event (h, gst_event_new_eos ());
  text = pull_text (h);
  gst_harness_teardown (h);
  fail_unless (g_str_has_prefix (text, "time,a,b,c\n0,"), "%.40s", text);

  f = parse_text ("csvparse time-column=time", text);
  fail_unless_equals_int (f.channels, 3);
  fail_unless_equals_int (f.values->len, want->len);
  fail_unless (memcmp (f.values->data, want->data,
          want->len * sizeof (gfloat)) == 0);
  /* the times came back too: frame 7 starts the second buffer */
  fail_unless_equals_uint64 (PTS (f, 7), 7 * GST_SECOND / 4);
  frames_free (&f);
  g_free (text);
  g_string_free (in, TRUE);
  g_array_free (want, TRUE);
  g_rand_free (rand);
}

GST_END_TEST;

/* ------------------------------------------- data that used to be lost */

/* Rows ending with the delimiter (spreadsheet exports): the empty last
 * column is not a feature, and every row comes out. */
GST_START_TEST (test_trailing_delimiter)
{
  GstHarness *h = gst_harness_new_parse ("csvparse ! csvenc");
  const gchar *t = "a,b\n1,2,\n3,4,\n";
  gchar *text;

  gst_harness_set_src_caps_str (h, "text/csv");
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_new_memdup (t,
              strlen (t))), GST_FLOW_OK);
  gst_harness_push_event (h, gst_event_new_eos ());
  text = pull_text (h);
  fail_unless_equals_string (text, "time,f0,f1\n0,1,2\n1,3,4\n");
  g_free (text);
  gst_harness_teardown (h);

  /* the same without a header, and with the header ending in one too */
  {
    const gfloat want[] = { 1, 2, 3, 4 };
    Frames f = parse_text ("csvparse", "1,2,\n3,4,\n");
    fail_unless_equals_int (f.channels, 2);
    assert_values (&f, want, 4);
    frames_free (&f);
    f = parse_text ("csvparse", "a,b,\n1,2,\n3,4,\n");
    fail_unless_equals_int (f.channels, 2);
    assert_values (&f, want, 4);
    frames_free (&f);
  }
}

GST_END_TEST;

/* A UTF-8 byte-order mark (as spreadsheets write) is not part of the first
 * header name. */
GST_START_TEST (test_bom)
{
  const gfloat want[] = { 1, 3 };
  Frames f = parse_text ("csvparse columns=a", "\xEF\xBB\xBF" "a,b\n1,2\n3,4\n");
  assert_values (&f, want, 2);
  frames_free (&f);

  /* split inside the mark */
  {
    const gchar *t = "\xEF\xBB\xBF" "a,b\n1,2\n3,4\n";
    const gsize cuts[] = { 1, 2 };
    f = parse_split ("csvparse columns=a", t, strlen (t), cuts, 2);
    assert_values (&f, want, 2);
    frames_free (&f);
  }
}

GST_END_TEST;

/* Each buffer of @r: its PTS, frame count (1 channel) and DISCONT flag, as
 * "pts_ms:frames[d]" joined by spaces. */
static gchar *
describe_buffers (Run * r)
{
  GString *s = g_string_new (NULL);
  GstBuffer *b;

  while ((b = gst_harness_try_pull (r->h))) {
    g_string_append_printf (s, "%s%" G_GUINT64_FORMAT ":%" G_GSIZE_FORMAT
        "%s", s->len ? " " : "", GST_BUFFER_PTS (b) / GST_MSECOND,
        gst_buffer_get_size (b) / sizeof (gfloat),
        GST_BUFFER_FLAG_IS_SET (b, GST_BUFFER_FLAG_DISCONT) ? "d" : "");
    gst_buffer_unref (b);
  }
  return g_string_free (s, FALSE);
}

/* @text through @launch in one buffer: its buffers must be @want (see
 * describe_buffers). */
static void
check_buffers (const gchar * launch, const gchar * text, const gchar * want)
{
  Run r = run_new (launch);
  gchar *d;

  push_text (&r, text, strlen (text));
  push_eos (&r);
  d = describe_buffers (&r);
  fail_unless_equals_string (d, want);
  g_free (d);
  run_free (&r);
}

/* A skipped row leaves its time empty: the rows after it keep theirs, and
 * the buffer after the gap is DISCONT. */
GST_START_TEST (test_skipped_row_keeps_time)
{
  const gchar *t = "v\n1\nx\n3\n4\n";
  const gfloat want[] = { 1, 3, 4 };
  Frames f;

  check_buffers ("csvparse rate=2", t, "0:1d 1000:1d 1500:1");
  f = parse_text ("csvparse rate=2", t);
  assert_values (&f, want, 3);
  frames_free (&f);

  /* several frames per buffer: the frames before the gap go out first */
  check_buffers ("csvparse frames-per-buffer=2", "v\n1\nx\n3\n4\n5\n",
      "0:1d 2000:2d 4000:1");
  /* missing=skip drops rows the same way */
  check_buffers ("csvparse missing=skip", "v\n1\n\n\nNA\n4\n", "0:1d 2000:1d");
}

GST_END_TEST;

/* A time column going backwards: the row is malformed (skipped with a
 * warning, or the error under strict); equal times are fine. Absurd times
 * say so. */
GST_START_TEST (test_time_backwards)
{
  const gchar *t = "t,v\n0,1\n2,2\n2,3\n1,4\n3,5\n";
  const gfloat want[] = { 1, 2, 3, 5 };
  guint n;
  gchar *w;
  Frames f = parse_warned ("csvparse time-column=t", t, &w, &n);

  assert_values (&f, want, 4);
  fail_unless_equals_uint64 (PTS (f, 3), 3 * GST_SECOND);
  fail_unless_equals_int (n, 1);
  fail_unless (strstr (w, "line 5") && strstr (w, "backwards"), "%s", w);
  g_free (w);
  frames_free (&f);

  expect_error ("csvparse time-column=t strict=true", t, "line 5",
      "backwards");
  expect_error ("csvparse time-column=t strict=true", "t,v\n1e30,1\n",
      "line 2", "too large");
}

GST_END_TEST;

/* More fields than the header: a stray delimiter would shift the values,
 * so the row is malformed rather than read. */
GST_START_TEST (test_extra_fields)
{
  const gfloat want[] = { 1, 2, 6, 7 };
  guint n;
  gchar *w;
  Frames f = parse_warned ("csvparse", "a,b\n1,2\n3,4,5\n6,7\n", &w, &n);

  assert_values (&f, want, 4);
  fail_unless_equals_int (n, 1);
  fail_unless (strstr (w, "line 3") && strstr (w, "3 fields"), "%s", w);
  g_free (w);
  frames_free (&f);
}

GST_END_TEST;

/* Rows dropped because a column has no value to repeat yet are said: a
 * warning at the first, a summary at EOS when there were more. */
GST_START_TEST (test_dropped_rows_said)
{
  guint n;
  gchar *w;
  Frames f = parse_warned ("csvparse", "a,b,c\n1,2,\n3,4,\n5,6,\n", &w, &n);

  fail_unless_equals_int (f.values->len, 0);
  fail_unless_equals_int (n, 2);
  fail_unless (strstr (w, "Line 2") && strstr (w, "'c'"), "%s", w);
  fail_unless (strstr (w, "Dropped 3 of 3 data rows"), "%s", w);
  g_free (w);
  frames_free (&f);
}

GST_END_TEST;

/* rate below 1 Hz: timestamps 5 s apart; the audio rate is nominal (1),
 * the tensor framerate exact (1/5). */
GST_START_TEST (test_fractional_rate)
{
  Frames f = parse_text ("csvparse rate=0.2", "v\n1\n2\n3\n");
  Run r;
  GstCaps *caps;
  gint n = 0, d = 0;

  fail_unless_equals_int (f.rate, 1);
  fail_unless_equals_int (f.pts->len, 3);
  fail_unless_equals_uint64 (PTS (f, 1), 5 * GST_SECOND);
  fail_unless_equals_uint64 (PTS (f, 2), 10 * GST_SECOND);
  fail_unless_equals_uint64 (g_array_index (f.dur, GstClockTime, 0),
      5 * GST_SECOND);
  frames_free (&f);

  r = run_new ("csvparse rate=2.5");
  gst_harness_set_sink_caps_str (r.h, "other/tensors");
  push_text (&r, "v\n1\n2\n", 6);
  push_eos (&r);
  caps = gst_pad_get_current_caps (r.h->sinkpad);
  fail_unless (caps != NULL);
  fail_unless (gst_structure_get_fraction (gst_caps_get_structure (caps, 0),
          "framerate", &n, &d));
  fail_unless_equals_int (n, 5);
  fail_unless_equals_int (d, 2);
  gst_caps_unref (caps);
  f = pull_all (&r);
  fail_unless_equals_uint64 (PTS (f, 1), 400 * GST_MSECOND);
  frames_free (&f);
  run_free (&r);

  /* csvenc spaces the frames of a buffer by its duration, not by the
   * nominal audio rate */
  {
    GstHarness *h = gst_harness_new_parse ("csvparse rate=0.2 "
        "frames-per-buffer=2 ! csvenc");
    gchar *text;
    gst_harness_set_src_caps_str (h, "text/csv");
    gst_harness_push (h, gst_buffer_new_memdup ("v\n1\n2\n3\n", 8));
    gst_harness_push_event (h, gst_event_new_eos ());
    text = pull_text (h);
    fail_unless_equals_string (text, "time,f0\n0,1\n5,2\n10,3\n");
    g_free (text);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* --------------------------------------------- seeking a file (pull mode) */

typedef struct
{
  GArray *pts;                  /* GstClockTime of each frame */
  GArray *vals;                 /* its first value */
} Seen;

static void
on_handoff (GstElement * sink, GstBuffer * buf, GstPad * pad, gpointer data)
{
  Seen *seen = data;
  GstMapInfo map;
  GstClockTime dur = GST_BUFFER_DURATION (buf);

  gst_buffer_map (buf, &map, GST_MAP_READ);
  for (gsize i = 0; i < map.size / sizeof (gfloat); i++) {
    GstClockTime t = GST_BUFFER_PTS (buf) + dur * i / (map.size /
        sizeof (gfloat));
    gfloat v = ((const gfloat *) map.data)[i];
    g_array_append_val (seen->pts, t);
    g_array_append_val (seen->vals, v);
  }
  gst_buffer_unmap (buf, &map);
}

/* Runs filesrc ! @parse ! fakesink over @text in a file: prerolls, checks
 * the duration (@want_dur), seeks to [@start, @stop) (NONE: no seek) with
 * FLUSH | ACCURATE | @flags, plays until EOS (or SEGMENT_DONE for a segment
 * seek) and returns the frames (one column) seen after the seek. */
static Seen
run_file_seek (const gchar * text, const gchar * parse,
    GstClockTime want_dur, GstClockTime start, GstClockTime stop,
    GstSeekFlags flags)
{
  GstMessageType end = (flags & GST_SEEK_FLAG_SEGMENT) ?
      GST_MESSAGE_SEGMENT_DONE : GST_MESSAGE_EOS;
  gchar *path = NULL, *desc;
  gint fd = g_file_open_tmp ("csvparse-XXXXXX.csv", &path, NULL);
  GstElement *p, *sink;
  GstBus *bus;
  GstMessage *m;
  gint64 dur = -1;
  Seen seen = { g_array_new (FALSE, FALSE, sizeof (GstClockTime)),
    g_array_new (FALSE, FALSE, sizeof (gfloat))
  };

  fail_unless (fd >= 0);
  close (fd);
  fail_unless (g_file_set_contents (path, text, -1, NULL));
  desc = g_strdup_printf ("filesrc location=\"%s\" ! %s ! fakesink name=out "
      "sync=false signal-handoffs=true", path, parse);
  p = gst_parse_launch (desc, NULL);
  fail_unless (p != NULL, "%s", desc);
  sink = gst_bin_get_by_name (GST_BIN (p), "out");
  bus = gst_element_get_bus (p);

  fail_unless (gst_element_set_state (p, GST_STATE_PAUSED) !=
      GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int (gst_element_get_state (p, NULL, NULL,
          10 * GST_SECOND), GST_STATE_CHANGE_SUCCESS);
  fail_unless (gst_element_query_duration (p, GST_FORMAT_TIME, &dur));
  fail_unless_equals_uint64 ((guint64) dur, want_dur);
  {
    GstQuery *q = gst_query_new_seeking (GST_FORMAT_TIME);
    gboolean seekable = FALSE;
    fail_unless (gst_element_query (p, q));
    gst_query_parse_seeking (q, NULL, &seekable, NULL, NULL);
    fail_unless (seekable);
    gst_query_unref (q);
  }
  if (GST_CLOCK_TIME_IS_VALID (start)) {
    fail_unless (gst_element_seek (p, 1.0, GST_FORMAT_TIME,
            GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE | flags,
            GST_SEEK_TYPE_SET,
            (gint64) start, GST_CLOCK_TIME_IS_VALID (stop) ?
            GST_SEEK_TYPE_SET : GST_SEEK_TYPE_NONE,
            GST_CLOCK_TIME_IS_VALID (stop) ? (gint64) stop : -1));
    fail_unless_equals_int (gst_element_get_state (p, NULL, NULL,
            10 * GST_SECOND), GST_STATE_CHANGE_SUCCESS);
  }
  /* fakesink hands buffers off when it renders them (PLAYING), the
   * prerolled one included */
  g_signal_connect (sink, "handoff", G_CALLBACK (on_handoff), &seen);
  gst_element_set_state (p, GST_STATE_PLAYING);
  m = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND,
      GST_MESSAGE_ERROR | end);
  fail_unless (m != NULL && GST_MESSAGE_TYPE (m) == end, "no %s",
      gst_message_type_get_name (end));
  if (end == GST_MESSAGE_SEGMENT_DONE) {
    GstFormat fmt;
    gint64 pos;
    gst_message_parse_segment_done (m, &fmt, &pos);
    fail_unless_equals_int64 (pos, (gint64) stop);
  }
  gst_message_unref (m);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (sink);
  gst_object_unref (p);
  g_unlink (path);
  g_free (path);
  g_free (desc);
  return seen;
}

static Seen
run_file (const gchar * text, const gchar * parse, GstClockTime want_dur,
    GstClockTime start, GstClockTime stop)
{
  return run_file_seek (text, parse, want_dur, start, stop, 0);
}

static void
seen_free (Seen * s)
{
  g_array_free (s->pts, TRUE);
  g_array_free (s->vals, TRUE);
}

#define SEEN_PTS(s, i) g_array_index ((s).pts, GstClockTime, (i))
#define SEEN_VAL(s, i) g_array_index ((s).vals, gfloat, (i))

GST_START_TEST (test_file_duration_and_seek)
{
  GString *t = g_string_new ("v\n");
  Seen s;
  guint i;

  for (i = 0; i < 100; i++)
    g_string_append_printf (t, "%u\n", i);

  /* 100 rows at 10 per second: 10 s; the whole file without a seek */
  s = run_file (t->str, "csvparse rate=10", 10 * GST_SECOND,
      GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE);
  fail_unless_equals_int (s.vals->len, 100);
  fail_unless_equals_uint64 (SEEN_PTS (s, 99), 9900 * GST_MSECOND);
  fail_unless_equals_float (SEEN_VAL (s, 99), 99);
  seen_free (&s);

  /* a seek to [2.5 s, 5 s): rows 25 to 49 with their own times */
  s = run_file (t->str, "csvparse rate=10", 10 * GST_SECOND,
      2500 * GST_MSECOND, 5 * GST_SECOND);
  fail_unless_equals_int (s.vals->len, 25);
  fail_unless_equals_uint64 (SEEN_PTS (s, 0), 2500 * GST_MSECOND);
  fail_unless_equals_float (SEEN_VAL (s, 0), 25);
  fail_unless_equals_float (SEEN_VAL (s, 24), 49);
  seen_free (&s);

  /* a time column (with a comment and a skipped row): the first row at or
   * after the seek time; the duration ends one frame after the last row */
  g_string_assign (t, "# sensor\nt,v\n");
  for (i = 0; i < 40; i++)
    g_string_append_printf (t, i == 30 ? "%g,x\n" : "%g,%u\n", 100 + 0.5 * i,
        i);
  s = run_file (t->str, "csvparse time-column=t rate=2", 120 * GST_SECOND,
      110200 * GST_MSECOND, GST_CLOCK_TIME_NONE);
  fail_unless_equals_int (s.vals->len, 18);     /* rows 21..39 but 30 */
  fail_unless_equals_uint64 (SEEN_PTS (s, 0), 110500 * GST_MSECOND);
  fail_unless_equals_float (SEEN_VAL (s, 0), 21);
  fail_unless_equals_uint64 (SEEN_PTS (s, 9), 115500 * GST_MSECOND);
  fail_unless_equals_float (SEEN_VAL (s, 9), 31);
  seen_free (&s);

  /* a segment seek ends with SEGMENT_DONE at its stop */
  s = run_file_seek (t->str, "csvparse time-column=t rate=2",
      120 * GST_SECOND, 101 * GST_SECOND, 103 * GST_SECOND,
      GST_SEEK_FLAG_SEGMENT);
  fail_unless_equals_int (s.vals->len, 4);      /* 101, 101.5, 102, 102.5 */
  fail_unless_equals_float (SEEN_VAL (s, 3), 5);
  seen_free (&s);

  /* a seek past the end: EOS, no frame */
  s = run_file (t->str, "csvparse time-column=t rate=2", 120 * GST_SECOND,
      500 * GST_SECOND, GST_CLOCK_TIME_NONE);
  fail_unless_equals_int (s.vals->len, 0);
  seen_free (&s);
  g_string_free (t, TRUE);
}

GST_END_TEST;

/* ----------------------------------------------------------------- demo */

/* The demo pipeline on the shipped data and model reproduces the held-out
 * MAE that PyTorch measured when the model was trained (tools/
 * train_demo_forecaster.py stores it as eval.mae). */
GST_START_TEST (test_demo_pipeline)
{
  const gchar *fix = g_getenv ("RNN_FIXTURES");
  gchar *root = g_build_filename (fix ? fix : "tests/fixtures", "..", "..",
      NULL);
  gchar *model = g_build_filename (root, "models", "co2-forecast.safetensors",
      NULL);
  gchar *data = g_build_filename (root, "examples", "co2.csv", NULL);
  gchar *launch, *csv = NULL, *text, **lines;
  gsize len;
  GstHarness *h;
  rnn_tensors *t = NULL;
  const gchar *mae_s, *first_s;
  GArray *act = g_array_new (FALSE, FALSE, sizeof (gdouble));
  GHashTable *fc = g_hash_table_new_full (g_int64_hash, g_int64_equal,
      g_free, g_free);
  gdouble sum = 0.0, want;
  guint i, n = 0, first;
  gboolean header = FALSE;

  fail_unless (rnn_tensors_load (model, &t, NULL) == RNN_OK, "%s", model);
  mae_s = rnn_tensors_meta (t, "eval.mae");
  first_s = rnn_tensors_meta (t, "eval.heldout_first_row");
  fail_unless (mae_s && first_s);
  want = g_ascii_strtod (mae_s, NULL);
  first = (guint) g_ascii_strtoull (first_s, NULL, 10) - 1;

  fail_unless (g_file_get_contents (data, &csv, &len, NULL), "%s", data);
  launch = g_strdup_printf ("csvparse columns=co2 missing=previous ! "
      "lstmforecast model-file=\"%s\" ! csvenc", model);
  h = gst_harness_new_parse (launch);
  gst_harness_set_src_caps_str (h, "text/csv");
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_new_memdup (csv,
              len)), GST_FLOW_OK);
  gst_harness_push_event (h, gst_event_new_eos ());
  text = pull_text (h);
  gst_harness_teardown (h);

  /* measured values, row k from 0 (NaN when blank) */
  lines = g_strsplit (csv, "\n", -1);
  for (i = 0; lines[i]; i++) {
    gchar **f;
    gdouble v;
    if (lines[i][0] == '#' || lines[i][0] == '\0')
      continue;
    if (!header) {
      header = TRUE;
      continue;
    }
    f = g_strsplit (lines[i], ",", -1);
    v = f[1] && f[1][0] ? g_ascii_strtod (f[1], NULL) : NAN;
    g_array_append_val (act, v);
    g_strfreev (f);
  }
  g_strfreev (lines);
  /* forecasts: time in seconds = the row forecast */
  lines = g_strsplit (text, "\n", -1);
  for (i = 1; lines[i]; i++) {
    gchar **f = g_strsplit (lines[i], ",", -1);
    if (f[0] && f[1]) {
      gint64 *k = g_new (gint64, 1);
      gdouble *v = g_new (gdouble, 1);
      *k = g_ascii_strtoll (f[0], NULL, 10);
      *v = g_ascii_strtod (f[1], NULL);
      g_hash_table_insert (fc, k, v);
    }
    g_strfreev (f);
  }
  g_strfreev (lines);

  fail_unless_equals_int (g_hash_table_size (fc), act->len);
  for (i = first; i < act->len; i++) {
    gint64 k = i;
    gdouble *v = g_hash_table_lookup (fc, &k);
    gdouble a = g_array_index (act, gdouble, i);
    if (isnan (a))
      continue;
    fail_unless (v != NULL, "no forecast for row %u", i);
    sum += fabs (*v - a);
    n++;
  }
  fail_unless (n > 400);
  fail_unless (fabs (sum / n - want) < 2e-4, "pipeline MAE %.5f, PyTorch "
      "%.5f", sum / n, want);

  rnn_tensors_free (t);
  g_hash_table_unref (fc);
  g_array_free (act, TRUE);
  g_free (text);
  g_free (launch);
  g_free (csv);
  g_free (data);
  g_free (model);
  g_free (root);
}

GST_END_TEST;

static Suite *
csv_suite (void)
{
  Suite *s = suite_create ("csv");
  TCase *tc = tcase_create ("csvparse");
  TCase *te = tcase_create ("csvenc");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_header_detection);
  tcase_add_test (tc, test_header_absent_text_is_malformed);
  tcase_add_test (tc, test_column_choice);
  tcase_add_test (tc, test_column_errors);
  tcase_add_test (tc, test_rate_timestamps);
  tcase_add_test (tc, test_time_column);
  tcase_add_test (tc, test_missing_policies);
  tcase_add_test (tc, test_malformed_lines);
  tcase_add_test (tc, test_warning_flood_capped);
  tcase_add_test (tc, test_split_every_byte);
  tcase_add_test (tc, test_crlf_quotes_names);
  tcase_add_test (tc, test_eos_and_empty);
  tcase_add_test (tc, test_tensor_caps);
  tcase_add_test (tc, test_trailing_delimiter);
  tcase_add_test (tc, test_bom);
  tcase_add_test (tc, test_skipped_row_keeps_time);
  tcase_add_test (tc, test_time_backwards);
  tcase_add_test (tc, test_extra_fields);
  tcase_add_test (tc, test_dropped_rows_said);
  tcase_add_test (tc, test_fractional_rate);
  tcase_add_test (tc, test_file_duration_and_seek);
  suite_add_tcase (s, te);
  tcase_add_test (te, test_csvenc_audio);
  tcase_add_test (te, test_csvenc_tensors_and_segment);
  tcase_add_test (te, test_round_trip);
  tcase_add_test (te, test_demo_pipeline);
  return s;
}

GST_CHECK_MAIN (csv);
