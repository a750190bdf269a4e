/* gst-rnn: the project's CSV reader (see rnncsv.h for the dialect).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rnncsv.h"

#include <float.h>
#include <math.h>
#include <string.h>

struct _RnnCsvReader
{
  char delim;
  RnnCsvHeader header;

  GByteArray *buf;              /* input not yet consumed starts at pos */
  gsize pos;
  guint64 base;                 /* input offset of buf->data[0] */
  gboolean eos;
  gboolean bom_checked;

  guint64 line;                 /* lines consumed */
  guint64 n_data;               /* data rows returned */
  gboolean seen_first;          /* header decision made */
  char **names;
  guint width;

  GString *store;               /* the last row's fields, each ending in
                                 * NUL, one after the other */
  GArray *starts;               /* offset of each field in store */
  GPtrArray *fields;            /* pointers into store (no copies) */
};

RnnCsvReader *
rnn_csv_reader_new (char delimiter, RnnCsvHeader header)
{
  RnnCsvReader *r = g_new0 (RnnCsvReader, 1);

  r->delim = delimiter;
  r->header = header;
  /* reserved, so buf->data is never NULL (no arithmetic on NULL) */
  r->buf = g_byte_array_sized_new (4096);
  r->store = g_string_new (NULL);
  r->starts = g_array_new (FALSE, FALSE, sizeof (gsize));
  r->fields = g_ptr_array_new ();
  return r;
}

void
rnn_csv_reader_free (RnnCsvReader *r)
{
  if (r == NULL)
    return;
  g_byte_array_unref (r->buf);
  g_ptr_array_unref (r->fields);
  g_array_unref (r->starts);
  g_string_free (r->store, TRUE);
  g_strfreev (r->names);
  g_free (r);
}

void
rnn_csv_reader_feed (RnnCsvReader *r, const char *data, gsize len)
{
  /* drop what was consumed before growing */
  if (r->pos > 0 && (r->pos >= r->buf->len / 2 || r->pos >= 65536)) {
    g_byte_array_remove_range (r->buf, 0, (guint) r->pos);
    r->base += r->pos;
    r->pos = 0;
  }
  g_byte_array_append (r->buf, (const guint8 *) data, (guint) len);
}

void
rnn_csv_reader_finish (RnnCsvReader *r)
{
  r->eos = TRUE;
}

char **
rnn_csv_reader_names (RnnCsvReader *r)
{
  return r->names;
}

guint
rnn_csv_reader_width (RnnCsvReader *r)
{
  return r->width;
}

guint64
rnn_csv_reader_lines (RnnCsvReader *r)
{
  return r->line;
}

guint64
rnn_csv_reader_rows (RnnCsvReader *r)
{
  return r->n_data;
}

guint64
rnn_csv_reader_offset (RnnCsvReader *r)
{
  return r->base + r->pos;
}

void
rnn_csv_reader_restart_at (RnnCsvReader *r, guint64 offset, guint64 line,
    guint64 index)
{
  g_byte_array_set_size (r->buf, 0);
  r->pos = 0;
  r->base = offset;
  r->eos = FALSE;
  r->bom_checked = TRUE;
  r->line = line > 0 ? line - 1 : 0;
  r->n_data = index;
}

/* Where the record starting at data[0] ends: the index of its terminating
 * line break, or -1 when @avail bytes hold no complete record. Line breaks
 * inside a quoted field belong to it (counted in *breaks). A quote opens a
 * quoted field only at the start of a field; `""` inside one is a quote. */
static gssize
record_end (const char *data, gsize avail, char delim, guint64 *breaks)
{
  enum
  { START, PLAIN, QUOTED, QUOTE_SEEN } st = START;
  gsize i;

  *breaks = 0;
  /* a comment line holds no fields (nor quotes) */
  for (i = 0; i < avail && (data[i] == ' ' || data[i] == '\t'); i++);
  if (i < avail && data[i] == '#') {
    const char *nl = memchr (data + i, '\n', avail - i);
    return nl ? nl - data : -1;
  }
  for (i = 0; i < avail; i++) {
    const char c = data[i];

    if (c == '\n' && (st != QUOTED || i > RNN_CSV_MAX_RECORD))
      return (gssize) i;
    switch (st) {
      case START:
        if (c == '"')
          st = QUOTED;
        else if (c != delim && c != ' ' && c != '\t')
          st = PLAIN;
        break;
      case PLAIN:
        if (c == delim)
          st = START;
        break;
      case QUOTED:
        if (c == '"')
          st = QUOTE_SEEN;
        else if (c == '\n')
          (*breaks)++;
        break;
      case QUOTE_SEEN:
        st = c == '"' ? QUOTED : c == delim ? START : PLAIN;
        break;
    }
  }
  return -1;
}

/* Split one record (no line break at the end) into r->fields: each field
 * unquoted and stripped of surrounding white space, written into r->store
 * (no allocation per field). Returns whether the last field is empty and
 * was not quoted. */
static gboolean
split_record (RnnCsvReader *r, const char *rec, gsize len)
{
  GString *st = r->store;
  const char delim = r->delim;
  gboolean quoted = FALSE;
  gsize i = 0;

  g_string_truncate (st, 0);
  g_array_set_size (r->starts, 0);
  for (;;) {
    gsize start = i, from = st->len, end;
    quoted = FALSE;
    while (i < len && (rec[i] == ' ' || rec[i] == '\t') && rec[i] != delim)
      i++;
    if (i < len && rec[i] == '"') {
      quoted = TRUE;
      i++;
      while (i < len) {
        const char *q = memchr (rec + i, '"', len - i);
        gsize run = q ? (gsize) (q - (rec + i)) : len - i;
        g_string_append_len (st, rec + i, (gssize) run);
        i += run;
        if (i >= len)
          break;
        if (i + 1 < len && rec[i + 1] == '"') {
          g_string_append_c (st, '"');        /* "" inside quotes */
          i += 2;
          continue;
        }
        i++;                    /* the closing quote */
        break;
      }
    } else {
      i = start;
    }
    /* up to the delimiter; text after a closing quote is kept: "ab"c
     * reads abc */
    {
      const char *d = memchr (rec + i, delim, len - i);
      gsize run = d ? (gsize) (d - (rec + i)) : len - i;
      g_string_append_len (st, rec + i, (gssize) run);
      i += run;
    }
    /* strip: leading white space by the start offset, trailing by
     * truncation */
    end = st->len;
    while (from < end && g_ascii_isspace (st->str[from]))
      from++;
    while (end > from && g_ascii_isspace (st->str[end - 1]))
      end--;
    g_string_truncate (st, end);
    g_string_append_c (st, '\0');
    g_array_append_val (r->starts, from);
    if (i >= len)
      break;
    i++;                        /* the delimiter */
  }
  g_ptr_array_set_size (r->fields, 0);
  for (guint k = 0; k < r->starts->len; k++)
    g_ptr_array_add (r->fields, st->str + g_array_index (r->starts, gsize, k));
  return !quoted && r->fields->len > 1
      && *(char *) g_ptr_array_index (r->fields, r->fields->len - 1) == '\0';
}

static gboolean
row_is_header (GPtrArray *fields)
{
  for (guint i = 0; i < fields->len; i++) {
    const char *f = g_ptr_array_index (fields, i);
    double v;
    if (!rnn_csv_is_missing (f) && !rnn_csv_parse_number (f, &v))
      return TRUE;
  }
  return FALSE;
}

static const guint8 BOM[3] = { 0xEF, 0xBB, 0xBF };

RnnCsvStatus
rnn_csv_reader_next (RnnCsvReader *r, RnnCsvRow *row)
{
  for (;;) {
    const char *data = (const char *) r->buf->data + r->pos;
    gsize avail = r->buf->len - r->pos, len;
    guint64 breaks, offset;
    gssize end;
    gboolean trailing_empty;

    if (!r->bom_checked) {
      gsize n = MIN (avail, 3);
      /* data may be NULL when nothing has arrived yet (n == 0) */
      if (n < 3 && !r->eos && (n == 0 || memcmp (data, BOM, n) == 0))
        return RNN_CSV_NEED_MORE;       /* could still be a BOM */
      if (n == 3 && memcmp (data, BOM, 3) == 0) {
        r->pos += 3;
        continue;
      }
      r->bom_checked = TRUE;
    }
    end = record_end (data, avail, r->delim, &breaks);
    if (end < 0 && (!r->eos || avail == 0))
      return r->eos ? RNN_CSV_END : RNN_CSV_NEED_MORE;
    len = end < 0 ? avail : (gsize) end;
    offset = r->base + r->pos;
    r->pos += end < 0 ? len : len + 1;
    row->line = r->line + 1;
    row->offset = offset;
    r->line += breaks + 1;

    if (len > 0 && data[len - 1] == '\r')
      len--;
    {
      gsize i;
      for (i = 0; i < len && g_ascii_isspace (data[i]); i++);
      if (i == len || data[i] == '#')
        continue;               /* blank line or comment */
    }
    trailing_empty = split_record (r, data, len);

    if (!r->seen_first) {
      gboolean is_header = r->header == RNN_CSV_HEADER_PRESENT
          || (r->header == RNN_CSV_HEADER_AUTO && row_is_header (r->fields));

      r->seen_first = TRUE;
      if (trailing_empty)
        g_ptr_array_set_size (r->fields, r->fields->len - 1);
      r->width = r->fields->len;
      if (is_header) {
        r->names = g_new0 (char *, r->fields->len + 1);
        for (guint i = 0; i < r->fields->len; i++)
          r->names[i] = g_utf8_make_valid (g_ptr_array_index (r->fields, i),
              -1);
        return RNN_CSV_HEADER;
      }
    } else if (trailing_empty && r->fields->len > r->width) {
      g_ptr_array_set_size (r->fields, r->fields->len - 1);
    }
    row->fields = (char **) r->fields->pdata;
    row->n_fields = r->fields->len;
    row->index = r->n_data++;
    return RNN_CSV_ROW;
  }
}

/* ------------------------------------------------------------- fields */

gboolean
rnn_csv_is_missing (const char *s)
{
  static const char *const marks[] = { "na", "n/a", "nan", "null", "none" };

  if (*s == '\0')
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (marks); i++)
    if (g_ascii_strcasecmp (s, marks[i]) == 0)
      return TRUE;
  return FALSE;
}

gboolean
rnn_csv_parse_number (const char *s, double *v)
{
  char *end = NULL;

  if (*s == '\0')
    return FALSE;
  *v = g_ascii_strtod (s, &end);
  return end != s && *end == '\0' && isfinite (*v);
}

/* A field quoted for a message, made valid UTF-8 and cut at 40 bytes. */
static char *
shown (const char *field)
{
  char *v = g_utf8_make_valid (field, -1);
  if (strlen (v) > 40) {
    const char *cut = g_utf8_find_prev_char (v, v + 37);
    char *s = g_strdup_printf ("%.*s...", (int) (cut ? cut - v : 0), v);
    g_free (v);
    return s;
  }
  return v;
}

RnnCsvValue
rnn_csv_parse_float (const char *field, float *v, char **why)
{
  double d = 0.0;
  gboolean number;

  if (rnn_csv_is_missing (field))
    return RNN_CSV_VALUE_MISSING;
  number = rnn_csv_parse_number (field, &d);
  if (!number || fabs (d) > FLT_MAX) {
    char *s = shown (field);
    *why = g_strdup_printf ("'%s' %s", s, number ? "is beyond the float "
        "range (+-3.4e38)" : "is not a number");
    g_free (s);
    return RNN_CSV_VALUE_BAD;
  }
  *v = (float) d;
  return RNN_CSV_VALUE_OK;
}

gboolean
rnn_csv_parse_seconds (const char *field, guint64 *ns, char **why)
{
  double secs;
  char *s;

  if (rnn_csv_parse_number (field, &secs) && secs >= 0.0
      && secs * 1e9 < (double) G_MAXINT64) {
    *ns = (guint64) llround (secs * 1e9);
    return TRUE;
  }
  s = shown (field);
  if (!rnn_csv_parse_number (field, &secs))
    *why = g_strdup_printf ("time '%s' is not a number of seconds", s);
  else if (secs < 0.0)
    *why = g_strdup_printf ("time '%s' is negative", s);
  else
    *why = g_strdup_printf ("time '%s' s is too large: times stop at %"
        G_GINT64_FORMAT " s (292 years)", s, G_MAXINT64 / 1000000000);
  g_free (s);
  return FALSE;
}

/* ------------------------------------------------------------ columns */

gboolean
rnn_csv_delimiter_parse (const char *s, const char *refused, char *out)
{
  if (s == NULL)
    return FALSE;
  if (strcmp (s, "\\t") == 0 || g_ascii_strcasecmp (s, "tab") == 0) {
    *out = '\t';
    return TRUE;
  }
  if (strlen (s) == 1 && s[0] != '"' && s[0] != '\n' && s[0] != '\r'
      && (refused == NULL || strchr (refused, s[0]) == NULL)) {
    *out = s[0];
    return TRUE;
  }
  return FALSE;
}

int
rnn_csv_find_column (char **names, guint width, const char *item,
    char **why)
{
  if (*item != '\0' && g_ascii_isdigit (*item)) {
    char *end = NULL;
    guint64 idx = g_ascii_strtoull (item, &end, 10);
    if (*end == '\0') {
      if (idx >= width) {
        *why = g_strdup_printf ("column index %s is out of range: the table "
            "has %u fields (indices start at 0)", item, width);
        return -1;
      }
      return (int) idx;
    }
  }
  if (names == NULL) {
    *why = g_strdup_printf ("column '%s' is given by name but the input has "
        "no header row (use 0-based indices)", item);
    return -1;
  }
  for (int i = 0; names[i]; i++)
    if (strcmp (names[i], item) == 0)
      return i;
  {
    char *all = g_strjoinv (", ", names);
    *why = g_strdup_printf ("no column named '%s' in the header (%s)", item,
        all);
    g_free (all);
  }
  return -1;
}

GArray *
rnn_csv_choose_columns (char **names, guint width, const char *columns,
    char **first, guint n_first, const int *exclude, guint n_exclude,
    char **why)
{
  GArray *cols = g_array_new (FALSE, FALSE, sizeof (int));
  gboolean excluded = FALSE;

  if (columns && *columns) {
    char **items = g_strsplit (columns, ",", -1);
    for (guint i = 0; items[i]; i++) {
      char *item = g_strstrip (items[i]);
      int c;
      if (*item == '\0')
        continue;
      c = rnn_csv_find_column (names, width, item, why);
      if (c < 0) {
        g_strfreev (items);
        g_array_free (cols, TRUE);
        return NULL;
      }
      g_array_append_val (cols, c);
    }
    g_strfreev (items);
    if (cols->len == 0) {
      *why = g_strdup_printf ("columns '%s' names no column", columns);
      g_array_free (cols, TRUE);
      return NULL;
    }
    return cols;
  }
  for (guint i = 0; i < n_first && i < width; i++) {
    double v;
    gboolean skip = FALSE;
    int c = (int) i;
    for (guint k = 0; k < n_exclude; k++)
      skip |= exclude[k] == c;
    excluded |= skip;
    if (!skip && (rnn_csv_is_missing (first[i])
            || rnn_csv_parse_number (first[i], &v)))
      g_array_append_val (cols, c);
  }
  if (cols->len == 0) {
    *why = g_strdup_printf ("the first data row has no numeric column%s",
        excluded ? " besides the time (or other special) columns" : "");
    g_array_free (cols, TRUE);
    return NULL;
  }
  return cols;
}

const char *
rnn_csv_column_label (char **names, int c, char *buf, gsize size)
{
  if (names && c >= 0 && (guint) c < g_strv_length (names))
    g_snprintf (buf, size, "'%s'", names[c]);
  else
    g_snprintf (buf, size, "%d", c);
  return buf;
}
