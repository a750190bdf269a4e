/* gst-rnn: fuzz target for csvparse, driven through GstHarness.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Input: three control bytes, then the CSV bytes, pushed as several
 * buffers split at sizes drawn from the third control byte (so rows, quotes
 * and CRLF pairs get cut at every place), then EOS.
 *   byte 0: bits 0-1 header (auto, present, absent), bits 2-4 missing
 *           (mod 5), bit 5 strict, bit 6 time-column "t", bit 7 other/tensors
 *           downstream instead of audio/x-raw;
 *   byte 1: bits 0-2 frames-per-buffer - 1, bits 3-4 delimiter
 *           (',' ';' tab space), bits 5-7 the columns property (none, "a",
 *           "0,2", "b,a", "1", "c", "a,a", "9");
 *   byte 2: seed of the buffer sizes.
 * Checks, beyond the sanitizers: every output buffer holds a whole number
 * of frames of the negotiated channel count, and output only follows caps;
 * and the shared reader (csv/rnncsv.h) gives the same rows, line numbers
 * and offsets for the whole text as for the text fed in those pieces.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gst/gst.h>
#include <gst/check/gstharness.h>

#include "gstcsvparse.h"
#include "rnncsv.h"
#include "fuzz-common.h"

static void
init_gst (void)
{
  /* no plugin but the element under test: fast and deterministic */
  g_setenv ("GST_PLUGIN_SYSTEM_PATH_1_0", "", TRUE);
  g_setenv ("GST_PLUGIN_PATH_1_0", "", TRUE);
  g_setenv ("GST_REGISTRY_FORK", "no", TRUE);
  g_setenv ("GST_REGISTRY_UPDATE", "no", TRUE);
  gst_init (NULL, NULL);
  if (!gst_element_register (NULL, "csvparse", GST_RANK_NONE,
          GST_TYPE_CSV_PARSE))
    abort ();
}

static guint
channels_of (GstCaps * caps)
{
  GstStructure *s = gst_caps_get_structure (caps, 0);
  gint ch = 0;
  const gchar *dims;

  if (gst_structure_get_int (s, "channels", &ch))
    return (guint) ch;
  /* other/tensors: dimensions F:N as a string (or a flag set: unknown) */
  dims = gst_structure_get_string (s, "dimensions");
  if (dims)
    return (guint) g_ascii_strtoull (dims, NULL, 10);
  return 0;
}

/* Every header and row the reader gives for @data fed in pieces whose
 * sizes come from @seed (0: whole), described in one string. */
static GString *
read_rows (const uint8_t * data, size_t size, char delim, RnnCsvHeader hdr,
    guint32 seed)
{
  RnnCsvReader *r = rnn_csv_reader_new (delim, hdr);
  GString *out = g_string_new (NULL);
  size_t off = 0;
  RnnCsvRow row;
  RnnCsvStatus st;

  for (;;) {
    st = rnn_csv_reader_next (r, &row);
    if (st == RNN_CSV_END)
      break;
    if (st == RNN_CSV_NEED_MORE) {
      size_t n = size - off;
      if (n == 0) {
        rnn_csv_reader_finish (r);
        continue;
      }
      if (seed) {
        seed = seed * 1103515245u + 12345u;
        n = MIN (n, 1 + (seed >> 16) % 97);
      }
      rnn_csv_reader_feed (r, (const char *) data + off, n);
      off += n;
      continue;
    }
    if (st == RNN_CSV_HEADER) {
      gchar *names = g_strjoinv ("\x1f", rnn_csv_reader_names (r));
      g_string_append_printf (out, "H%s\x1e", names);
      g_free (names);
      continue;
    }
    g_string_append_printf (out, "%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT
        ",%" G_GUINT64_FORMAT ":", row.line, row.offset, row.index);
    for (guint i = 0; i < row.n_fields; i++)
      g_string_append_printf (out, "%s\x1f", row.fields[i]);
    g_string_append_c (out, '\x1e');
  }
  rnn_csv_reader_free (r);
  return out;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static gboolean inited = FALSE;
  static const char *delims[] = { ",", ";", "\t", " " };
  static const char *columns[] = { NULL, "a", "0,2", "b,a", "1", "c", "a,a",
    "9"
  };
  GstHarness *h;
  GstBuffer *out;
  guint32 seed;
  size_t off;
  gboolean tensors;

  if (!inited) {
    init_gst ();
    inited = TRUE;
  }
  if (size < 3)
    return 0;

  h = gst_harness_new ("csvparse");
  tensors = (data[0] & 0x80) != 0;
  g_object_set (h->element, "header", (data[0] & 3) % 3,
      "missing", ((data[0] >> 2) & 7) % 5,
      "strict", (data[0] & 0x20) != 0,
      "frames-per-buffer", (guint) (data[1] & 7) + 1,
      "delimiter", delims[(data[1] >> 3) & 3], "rate", 10.0, NULL);
  if (data[0] & 0x40)
    g_object_set (h->element, "time-column", "t", NULL);
  if (columns[data[1] >> 5])
    g_object_set (h->element, "columns", columns[data[1] >> 5], NULL);
  gst_harness_set_sink_caps_str (h, tensors ?
      "other/tensors, format=static, num_tensors=1, types=float32" :
      "audio/x-raw, format=F32LE, layout=interleaved");
  gst_harness_set_src_caps_str (h, "text/csv");

  seed = data[2] * 2654435761u + 1;
  off = 3;
  while (off < size) {
    size_t n;
    GstBuffer *b;

    seed = seed * 1103515245u + 12345u;
    n = 1 + (seed >> 16) % 97;
    if (n > size - off)
      n = size - off;
    b = gst_buffer_new_allocate (NULL, n, NULL);
    gst_buffer_fill (b, 0, data + off, n);
    off += n;
    if (gst_harness_push (h, b) != GST_FLOW_OK)
      break;
  }
  gst_harness_push_event (h, gst_event_new_eos ());

  while ((out = gst_harness_try_pull (h))) {
    GstCaps *caps = gst_pad_get_current_caps (h->sinkpad);
    guint ch;

    if (caps == NULL)
      abort ();                 /* a buffer before caps */
    ch = channels_of (caps);
    if (ch > 0 && gst_buffer_get_size (out) % (ch * sizeof (float)) != 0)
      abort ();
    gst_caps_unref (caps);
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);

  {
    RnnCsvHeader hdr = (RnnCsvHeader) ((data[0] & 3) % 3);
    char delim = delims[(data[1] >> 3) & 3][0];
    GString *whole = read_rows (data + 3, size - 3, delim, hdr, 0);
    GString *split = read_rows (data + 3, size - 3, delim, hdr,
        data[2] * 2654435761u + 1);
    if (!g_string_equal (whole, split))
      abort ();
    g_string_free (whole, TRUE);
    g_string_free (split, TRUE);
  }
  return 0;
}
