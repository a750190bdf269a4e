/* gst-rnn: the one CSV dialect of the project, read the same way by the
 * csvparse element, the trainer (rnn-train), the evaluator (rnn-eval) and
 * the fuzz targets. GLib only (no GStreamer), so tools link it without the
 * plugin.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The dialect (docs/csv.md is the user-facing description):
 * - records end with LF or CRLF; a UTF-8 byte-order mark at the very start
 *   of the input is skipped;
 * - fields are separated by one delimiter character; a field may be quoted
 *   with `"` (it may then hold delimiters, line breaks and `""` for a
 *   quote); text between a closing quote and the next delimiter is appended
 *   to the field (`"ab"c` reads `abc`); white space around a field is
 *   dropped;
 * - blank lines and lines whose first non-blank character is `#` are
 *   skipped; line numbers count every line of the input from 1;
 * - a record longer than RNN_CSV_MAX_RECORD bytes ends at the next line
 *   break even inside quotes;
 * - the first remaining record is the header when asked for, or (auto) when
 *   one of its fields is neither a number nor a missing-value marker;
 * - the table's width is the header's field count, else the first data
 *   row's; a row that ends with the delimiter (an unquoted empty last field)
 *   beyond that width has that field removed, so `1,2,` under `a,b` has two
 *   fields (spreadsheet exports); the header or first row loses such a last
 *   empty field too;
 * - missing values: an empty field, or NA, N/A, NaN, null, None in any case;
 * - numbers: C locale, `.` decimal point, exponents allowed, the number must
 *   fill its field and be finite.
 */
#ifndef RNN_CSV_H
#define RNN_CSV_H

#include <glib.h>

G_BEGIN_DECLS

#define RNN_CSV_MAX_RECORD (64 * 1024)

typedef enum {
  RNN_CSV_HEADER_AUTO,
  RNN_CSV_HEADER_PRESENT,
  RNN_CSV_HEADER_ABSENT
} RnnCsvHeader;

typedef enum {
  RNN_CSV_NEED_MORE,     /* no complete record in the bytes fed so far */
  RNN_CSV_HEADER,        /* the header was read: rnn_csv_reader_names() */
  RNN_CSV_ROW,           /* a data row in *row */
  RNN_CSV_END            /* rnn_csv_reader_finish() was called, all read */
} RnnCsvStatus;

typedef struct {
  char **fields;         /* n_fields strings, owned by the reader, valid
                          * until the next call on it */
  guint n_fields;        /* after the trailing empty field rule */
  guint64 line;          /* line where the record starts (from 1) */
  guint64 offset;        /* byte offset of the record in the input */
  guint64 index;         /* data rows before this one (from 0) */
} RnnCsvRow;

typedef struct _RnnCsvReader RnnCsvReader;

/* A reader of @delimiter-separated text. Free with rnn_csv_reader_free. */
RnnCsvReader *rnn_csv_reader_new (char delimiter, RnnCsvHeader header);
void rnn_csv_reader_free (RnnCsvReader *r);

/* Append @len bytes of input (copied). Input may be split anywhere. */
void rnn_csv_reader_feed (RnnCsvReader *r, const char *data, gsize len);
/* No more input: a last record without a line break becomes complete. */
void rnn_csv_reader_finish (RnnCsvReader *r);
/* The next header or data row (blank lines and comments are skipped). */
RnnCsvStatus rnn_csv_reader_next (RnnCsvReader *r, RnnCsvRow *row);

/* Header names (NULL-terminated, owned by the reader), NULL without one or
 * before it is read. */
char **rnn_csv_reader_names (RnnCsvReader *r);
/* The table's width (0 until the header or first data row is read). */
guint rnn_csv_reader_width (RnnCsvReader *r);
/* Lines consumed so far. */
guint64 rnn_csv_reader_lines (RnnCsvReader *r);
/* Data rows returned so far. */
guint64 rnn_csv_reader_rows (RnnCsvReader *r);
/* Bytes of input consumed so far (complete records and skipped lines). */
guint64 rnn_csv_reader_offset (RnnCsvReader *r);

/* Drop the buffered input and go on reading at byte @offset of the input,
 * which starts a record on line @line that is data row @index (a seek);
 * the header and width are kept. */
void rnn_csv_reader_restart_at (RnnCsvReader *r, guint64 offset,
    guint64 line, guint64 index);

/* ------------------------------------------------------------- fields */

/* An empty field or a missing-value marker (NA, N/A, NaN, null, None). */
gboolean rnn_csv_is_missing (const char *field);
/* A finite number filling the whole field (C locale). */
gboolean rnn_csv_parse_number (const char *field, double *v);

typedef enum {
  RNN_CSV_VALUE_OK,
  RNN_CSV_VALUE_MISSING,
  RNN_CSV_VALUE_BAD      /* *why says why */
} RnnCsvValue;

/* A field as a float: a number within the float range, or missing. BAD
 * with a newly allocated reason (e.g. "'abc' is not a number") in *why. */
RnnCsvValue rnn_csv_parse_float (const char *field, float *v, char **why);

/* A field as a time in seconds >= 0, in nanoseconds (*ns) up to G_MAXINT64
 * (292 years). FALSE with a newly allocated reason in *why (not a number,
 * negative, too large). */
gboolean rnn_csv_parse_seconds (const char *field, guint64 *ns, char **why);

/* ------------------------------------------------------------ columns */

/* Parses a delimiter option: "tab" (any case) or "\t" for a tab, else
 * exactly one character that is neither a double quote nor a line break
 * nor in @refused (may be NULL). FALSE and *out untouched otherwise. */
gboolean rnn_csv_delimiter_parse (const char *s, const char *refused,
    char *out);

/* The column named by @item: digits are a 0-based index (< @width), else a
 * header name (needs @names). -1 with a newly allocated reason in *why. */
int rnn_csv_find_column (char **names, guint width, const char *item,
    char **why);

/* The feature columns. @columns: comma-separated names or indices (NULL or
 * empty: every column whose field in @first (the first data row, @n_first
 * fields) is a number or missing, except those in @exclude (@n_exclude
 * indices, -1 entries ignored)). NULL with a newly allocated reason in
 * *why. The array holds ints. */
GArray *rnn_csv_choose_columns (char **names, guint width,
    const char *columns, char **first, guint n_first, const int *exclude,
    guint n_exclude, char **why);

/* "'name'" when @names has column @c, else its index; into @buf. */
const char *rnn_csv_column_label (char **names, int c, char *buf,
    gsize size);

G_END_DECLS

#endif /* RNN_CSV_H */
