/* gst-rnn: csvparse, CSV text to signal buffers.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef GST_CSV_PARSE_H
#define GST_CSV_PARSE_H

#include <gst/gst.h>

G_BEGIN_DECLS

/**
 * GstCsvParseHeader:
 * @GST_CSV_PARSE_HEADER_AUTO: the first row is a header when one of its
 *   fields is neither a number nor a missing-value marker.
 * @GST_CSV_PARSE_HEADER_PRESENT: the first row is a header.
 * @GST_CSV_PARSE_HEADER_ABSENT: the first row is data.
 *
 * Whether the first (non-comment, non-blank) row names the columns.
 */
typedef enum
{
  GST_CSV_PARSE_HEADER_AUTO,
  GST_CSV_PARSE_HEADER_PRESENT,
  GST_CSV_PARSE_HEADER_ABSENT
} GstCsvParseHeader;

/**
 * GstCsvParseMissing:
 * @GST_CSV_PARSE_MISSING_PREVIOUS: repeat the column's last value (rows
 *   before the column's first value are dropped).
 * @GST_CSV_PARSE_MISSING_ZERO: use 0.
 * @GST_CSV_PARSE_MISSING_NAN: use NaN (the model elements reset their state
 *   on a non-finite frame).
 * @GST_CSV_PARSE_MISSING_SKIP: drop the row.
 * @GST_CSV_PARSE_MISSING_ERROR: fail the stream with an error naming the
 *   line.
 *
 * What a blank (or `NA`, `NaN`, `null`...) value in a chosen column becomes.
 */
typedef enum
{
  GST_CSV_PARSE_MISSING_PREVIOUS,
  GST_CSV_PARSE_MISSING_ZERO,
  GST_CSV_PARSE_MISSING_NAN,
  GST_CSV_PARSE_MISSING_SKIP,
  GST_CSV_PARSE_MISSING_ERROR
} GstCsvParseMissing;

#define GST_TYPE_CSV_PARSE_HEADER (gst_csv_parse_header_get_type ())
GType gst_csv_parse_header_get_type (void);
#define GST_TYPE_CSV_PARSE_MISSING (gst_csv_parse_missing_get_type ())
GType gst_csv_parse_missing_get_type (void);

#define GST_TYPE_CSV_PARSE (gst_csv_parse_get_type ())
G_DECLARE_FINAL_TYPE (GstCsvParse, gst_csv_parse, GST, CSV_PARSE, GstElement)


G_END_DECLS

#endif
