/* gst-rnn: data readers of the trainer and evaluator.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "train-data.h"
#include "rnncsv.h"

#include <json-glib/json-glib.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *td_tool_name = "rnn-tool";

void
td_die (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fprintf (stderr, "%s: ", td_tool_name);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
  exit (1);
}

void
td_check (rnn_status st, const rnn_error *err)
{
  if (st != RNN_OK)
    td_die ("%s", err->msg);
}

static rnn_status
set_err (rnn_error *err, rnn_status code, const char *fmt, ...)
    G_GNUC_PRINTF (3, 4);

static rnn_status
set_err (rnn_error *err, rnn_status code, const char *fmt, ...)
{
  if (err) {
    va_list ap;
    va_start (ap, fmt);
    err->code = code;
    g_vsnprintf (err->msg, sizeof err->msg, fmt, ap);
    va_end (ap);
  }
  return code;
}

/* ------------------------------------------------------------------ CSV */

void
td_signal_free (td_signal *s)
{
  if (!s)
    return;
  if (s->names)
    g_strfreev (s->names);
  g_free (s->x);
  g_free (s->label);
  g_free (s->line);
  if (s->time)
    g_strfreev (s->time);
  if (s->segments)
    g_array_unref (s->segments);
  g_free (s->path);
  g_free (s);
}

char
td_delimiter (const char *option)
{
  char d = ',';
  if (option && !rnn_csv_delimiter_parse (option, NULL, &d))
    td_die ("--delimiter must be one character (or tab), not '%s'", option);
  return d;
}

/* The special columns and the features, from the first data row. */
static rnn_status
choose_columns (RnnCsvReader *rd, const td_csv_options *opt,
    const RnnCsvRow *row, const char *path, int special[3], GArray **cols,
    rnn_error *err)
{
  char **names = rnn_csv_reader_names (rd);
  guint width = rnn_csv_reader_width (rd);
  const char *spec[3] = { opt->time_column, opt->group_column,
    opt->label_column };
  const char *what[3] = { "--time-column", "--group-column",
    "--label-column" };
  char *why = NULL;
  rnn_status st;

  for (int k = 0; k < 3; k++) {
    special[k] = -1;
    if (!spec[k])
      continue;
    special[k] = rnn_csv_find_column (names, width, spec[k], &why);
    if (special[k] < 0) {
      st = set_err (err, RNN_ERR_ARG, "%s:%" G_GUINT64_FORMAT ": %s: %s",
          path, row->line, what[k], why);
      g_free (why);
      return st;
    }
  }
  *cols = rnn_csv_choose_columns (names, width, opt->columns, row->fields,
      row->n_fields, special, 3, &why);
  if (*cols == NULL) {
    st = set_err (err, RNN_ERR_ARG, "%s:%" G_GUINT64_FORMAT ": %s%s", path,
        row->line, opt->columns ? "--columns: " : "", why);
    g_free (why);
    return st;
  }
  return RNN_OK;
}

rnn_status
td_signal_read (const char *path, const td_csv_options *opt,
    td_signal **out, rnn_error *err)
{
  char *contents = NULL;
  gsize len;
  GError *gerr = NULL;
  rnn_status st = RNN_OK;
  td_signal *s = NULL;
  GArray *cols = NULL, *xs = NULL, *labels = NULL, *lines = NULL;
  GArray *blank = NULL;
  GPtrArray *times = NULL;
  char *prev_group = NULL, *why = NULL, lab[80];
  int special[3] = { -1, -1, -1 }, max_col = -1;
  RnnCsvReader *rd;
  RnnCsvRow row;
  RnnCsvStatus rs;
  double prev_time = NAN;
  guint64 back_line = 0;
  char *back_what = NULL;

  *out = NULL;
  if (!g_file_get_contents (path, &contents, &len, &gerr)) {
    st = set_err (err, RNN_ERR_IO, "%s: cannot read: %s", path,
        gerr->message);
    g_error_free (gerr);
    return st;
  }

  s = g_new0 (td_signal, 1);
  s->path = g_strdup (path);
  s->segments = g_array_new (FALSE, FALSE, sizeof (td_segment));
  xs = g_array_new (FALSE, FALSE, sizeof (float));
  blank = g_array_new (FALSE, FALSE, sizeof (guint8));
  labels = g_array_new (FALSE, FALSE, sizeof (guint8));
  lines = g_array_new (FALSE, FALSE, sizeof (guint));

  rd = rnn_csv_reader_new (opt->delimiter ? opt->delimiter : ',',
      RNN_CSV_HEADER_AUTO);
  rnn_csv_reader_feed (rd, contents, len);
  rnn_csv_reader_finish (rd);
  while ((rs = rnn_csv_reader_next (rd, &row)) != RNN_CSV_END) {
    char **names = rnn_csv_reader_names (rd);
    guint width = rnn_csv_reader_width (rd);

    if (rs != RNN_CSV_ROW)
      continue;                 /* the header */
    if (cols == NULL) {
      st = choose_columns (rd, opt, &row, path, special, &cols, err);
      if (st != RNN_OK)
        goto done;
      s->n_features = cols->len;
      s->names = g_new0 (char *, cols->len + 1);
      for (guint k = 0; k < cols->len; k++) {
        int c = g_array_index (cols, int, k);
        s->names[k] = names ? g_strdup (names[c])
            : g_strdup_printf ("column%d", c);
        max_col = MAX (max_col, c);
      }
      for (int k = 0; k < 3; k++)
        max_col = MAX (max_col, special[k]);
      if (special[0] >= 0)
        times = g_ptr_array_new_with_free_func (g_free);
    }
    const int tc = special[0], gc = special[1], lc = special[2];

    if (row.n_fields > width) {
      st = set_err (err, RNN_ERR_FORMAT, "%s:%" G_GUINT64_FORMAT ": %u "
          "fields, but the %s has %u", path, row.line, row.n_fields,
          names ? "header" : "first row", width);
      goto done;
    }
    if ((int) row.n_fields <= max_col) {
      st = set_err (err, RNN_ERR_FORMAT, "%s:%" G_GUINT64_FORMAT ": %u "
          "fields, but column %s is needed", path, row.line, row.n_fields,
          rnn_csv_column_label (names, max_col, lab, sizeof lab));
      goto done;
    }
    /* Sequence boundaries. */
    gboolean new_seq = FALSE;
    if (gc >= 0) {
      const char *g = row.fields[gc];
      if (!prev_group || strcmp (prev_group, g) != 0) {
        td_segment seg = { xs->len / cols->len, 0 };
        g_array_append_val (s->segments, seg);
        g_free (prev_group);
        prev_group = g_strdup (g);
        new_seq = TRUE;
      }
    } else if (s->segments->len == 0) {
      td_segment seg = { 0, 0 };
      g_array_append_val (s->segments, seg);
    }
    g_array_index (s->segments, td_segment, s->segments->len - 1).length++;

    for (guint k = 0; k < cols->len; k++) {
      int c = g_array_index (cols, int, k);
      float v = 0;
      guint8 b = 0;
      switch (rnn_csv_parse_float (row.fields[c], &v, &why)) {
        case RNN_CSV_VALUE_OK:
          break;
        case RNN_CSV_VALUE_MISSING:
          b = 1;
          s->n_blank++;
          break;
        case RNN_CSV_VALUE_BAD:
          st = set_err (err, RNN_ERR_FORMAT, "%s:%" G_GUINT64_FORMAT ": "
              "column '%s': %s", path, row.line, s->names[k], why);
          g_free (why);
          goto done;
      }
      g_array_append_val (xs, v);
      g_array_append_val (blank, b);
    }
    if (lc >= 0) {
      double v;
      if (!rnn_csv_parse_number (row.fields[lc], &v)) {
        st = set_err (err, RNN_ERR_FORMAT, "%s:%" G_GUINT64_FORMAT ": label "
            "column: '%s' is not a number", path, row.line, row.fields[lc]);
        goto done;
      }
      guint8 l = v != 0;
      g_array_append_val (labels, l);
    }
    if (tc >= 0) {
      /* numeric times must not go backwards inside a sequence (the rows
       * are used in file order; a date column is not checked) */
      double t;
      const char *tf = row.fields[tc];
      if (new_seq)
        prev_time = NAN;
      if (rnn_csv_parse_number (tf, &t)) {
        if (!isnan (prev_time) && t < prev_time && back_line == 0) {
          back_line = row.line;
          back_what = g_strdup_printf ("%s after %.10g", tf, prev_time);
        }
        prev_time = t;
      }
      g_ptr_array_add (times, g_strdup (tf));
    }
    guint l1 = (guint) row.line;
    g_array_append_val (lines, l1);
  }

  if (cols == NULL || xs->len == 0) {
    st = set_err (err, RNN_ERR_FORMAT, "%s: no data rows", path);
    goto done;
  }
  if (back_line > 0)
    fprintf (stderr, "%s: warning: %s:%" G_GUINT64_FORMAT ": the time column "
        "goes backwards (%s); the rows are used in file order (a "
        "--group-column starts a new sequence)\n", td_tool_name, path,
        back_line, back_what);

  s->n_frames = xs->len / cols->len;
  int F = s->n_features;
  float *x = (float *) xs->data;
  guint8 *b = (guint8 *) blank->data;

  /* Fill blanks: linear interpolation inside each sequence and column. */
  for (guint g = 0; g < s->segments->len; g++) {
    td_segment *seg = &g_array_index (s->segments, td_segment, g);
    for (int k = 0; k < F; k++) {
      long prev = -1;
      for (size_t t = 0; t <= seg->length; t++) {
        size_t r = seg->start + t;
        if (t < seg->length && b[r * F + k])
          continue;
        /* r is a valid frame (or the end): fill (prev, r). */
        size_t from = prev < 0 ? seg->start : (size_t) prev + 1;
        if (prev < 0 && t == seg->length) {
          st = set_err (err, RNN_ERR_FORMAT, "%s: column '%s' has no value "
              "in the sequence starting at line %u", path, s->names[k],
              g_array_index (lines, guint, seg->start));
          goto done;
        }
        for (size_t q = from; q < r; q++) {
          float v;
          if (prev < 0)
            v = x[r * F + k];
          else if (t == seg->length)
            v = x[prev * F + k];
          else {
            float a = (float) (q - prev) / (float) (r - prev);
            v = x[prev * F + k] * (1 - a) + x[r * F + k] * a;
          }
          x[q * F + k] = v;
        }
        prev = (long) r;
      }
    }
  }

  s->x = (float *) g_array_free (xs, FALSE);
  xs = NULL;
  if (special[2] >= 0)
    s->label = (guint8 *) g_array_free (labels, FALSE);
  else
    g_array_free (labels, TRUE);
  labels = NULL;
  s->line = (guint *) g_array_free (lines, FALSE);
  lines = NULL;

done:
  g_free (prev_group);
  g_free (back_what);
  rnn_csv_reader_free (rd);
  g_free (contents);
  if (times) {
    if (st == RNN_OK) {
      g_ptr_array_add (times, NULL);
      s->time = (char **) g_ptr_array_free (times, FALSE);
    } else {
      g_ptr_array_unref (times);
    }
  }
  if (cols)
    g_array_free (cols, TRUE);
  if (xs)
    g_array_free (xs, TRUE);
  if (blank)
    g_array_free (blank, TRUE);
  if (labels)
    g_array_free (labels, TRUE);
  if (lines)
    g_array_free (lines, TRUE);
  if (st != RNN_OK) {
    td_signal_free (s);
    return st;
  }
  *out = s;
  return RNN_OK;
}

/* ---------------------------------------------------------------- texts */

void
td_texts_free (td_texts *t)
{
  if (!t)
    return;
  for (size_t i = 0; i < t->n; i++) {
    g_free (t->text[i]);
    g_free (t->label[i]);
  }
  g_free (t->text);
  g_free (t->label);
  g_free (t->cls);
  if (t->classes)
    g_strfreev (t->classes);
  g_free (t->line);
  g_free (t->path);
  g_free (t);
}

/* Label of a JSON node: a string, an integer or a boolean. */
static char *
json_label (JsonNode *n)
{
  if (!n || !JSON_NODE_HOLDS_VALUE (n))
    return NULL;
  GType vt = json_node_get_value_type (n);
  if (vt == G_TYPE_STRING)
    return g_strdup (json_node_get_string (n));
  if (vt == G_TYPE_INT64)
    return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (n));
  if (vt == G_TYPE_BOOLEAN)
    return g_strdup (json_node_get_boolean (n) ? "1" : "0");
  if (vt == G_TYPE_DOUBLE) {
    double d = json_node_get_double (n);
    if (d == floor (d) && fabs (d) < 1e15)
      return g_strdup_printf ("%.0f", d);
  }
  return NULL;
}

/* Take one {text, class} object; @where names it in messages. */
static rnn_status
take_object (JsonNode *node, const char *path, const char *where,
    guint line, GPtrArray *texts, GPtrArray *labs, GArray *lines,
    rnn_error *err)
{
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return set_err (err, RNN_ERR_FORMAT, "%s:%s: expected an object "
        "{\"text\": ..., \"class\": ...}", path, where);
  JsonObject *o = json_node_get_object (node);
  JsonNode *tn = json_object_get_member (o, "text");
  if (!tn || !JSON_NODE_HOLDS_VALUE (tn)
      || json_node_get_value_type (tn) != G_TYPE_STRING)
    return set_err (err, RNN_ERR_FORMAT, "%s:%s: missing string member "
        "\"text\"", path, where);
  JsonNode *ln = json_object_get_member (o, "class");
  if (!ln)
    ln = json_object_get_member (o, "label");
  /* An unlabelled record (class null) is skipped, not an error. */
  if (ln && JSON_NODE_HOLDS_NULL (ln))
    return RNN_OK;
  char *lab = json_label (ln);
  if (!lab)
    return set_err (err, RNN_ERR_FORMAT, "%s:%s: missing \"class\" (or "
        "\"label\"): a string, integer or boolean", path, where);
  g_ptr_array_add (texts, g_strdup (json_node_get_string (tn)));
  g_ptr_array_add (labs, lab);
  g_array_append_val (lines, line);
  return RNN_OK;
}

/* Sort class names: all integers numerically, else alphabetically. */
static int
cmp_class (gconstpointer a, gconstpointer b)
{
  const char *x = *(const char **) a, *y = *(const char **) b;
  char *ex, *ey;
  long vx = strtol (x, &ex, 10), vy = strtol (y, &ey, 10);
  if (*x && *y && *ex == '\0' && *ey == '\0')
    return vx < vy ? -1 : vx > vy;
  return strcmp (x, y);
}

rnn_status
td_texts_read (const char *path, td_texts **out, rnn_error *err)
{
  char *contents = NULL;
  gsize len;
  GError *gerr = NULL;
  rnn_status st = RNN_OK;
  GPtrArray *texts = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *labs = g_ptr_array_new_with_free_func (g_free);
  GArray *lines = g_array_new (FALSE, FALSE, sizeof (guint));
  JsonParser *parser = NULL;

  *out = NULL;
  if (!g_file_get_contents (path, &contents, &len, &gerr)) {
    st = set_err (err, RNN_ERR_IO, "%s: cannot read: %s", path,
        gerr->message);
    g_error_free (gerr);
    goto done;
  }
  if (!g_utf8_validate (contents, len, NULL)) {
    st = set_err (err, RNN_ERR_FORMAT, "%s: not UTF-8 text", path);
    goto done;
  }
  const char *p = contents;
  while (*p && g_ascii_isspace (*p))
    p++;

  if (*p == '[') {
    /* One JSON array of objects. */
    parser = json_parser_new ();
    if (!json_parser_load_from_data (parser, contents, len, &gerr)) {
      st = set_err (err, RNN_ERR_FORMAT, "%s: invalid JSON: %s", path,
          gerr->message);
      g_error_free (gerr);
      goto done;
    }
    JsonNode *root = json_parser_get_root (parser);
    if (!JSON_NODE_HOLDS_ARRAY (root)) {
      st = set_err (err, RNN_ERR_FORMAT, "%s: expected a JSON array", path);
      goto done;
    }
    JsonArray *a = json_node_get_array (root);
    for (guint i = 0; i < json_array_get_length (a); i++) {
      char where[48];
      g_snprintf (where, sizeof where, " element %u", i);
      st = take_object (json_array_get_element (a, i), path, where, i,
          texts, labs, lines, err);
      if (st != RNN_OK)
        goto done;
    }
  } else {
    char **rows = g_strsplit (contents, "\n", -1);
    gboolean jsonl = (*p == '{');
    for (guint ln = 0; rows[ln]; ln++) {
      char *row = rows[ln];
      char where[32];
      g_strchomp (row);
      if (row[0] == '\0')
        continue;
      g_snprintf (where, sizeof where, "%u", ln + 1);
      if (jsonl) {
        if (!parser)
          parser = json_parser_new ();
        if (!json_parser_load_from_data (parser, row, -1, &gerr)) {
          st = set_err (err, RNN_ERR_FORMAT, "%s:%u: invalid JSON: %s", path,
              ln + 1, gerr->message);
          g_error_free (gerr);
          break;
        }
        st = take_object (json_parser_get_root (parser), path, where, ln + 1,
            texts, labs, lines, err);
        if (st != RNN_OK)
          break;
      } else {
        char *tab = strrchr (row, '\t');
        if (!tab) {
          st = set_err (err, RNN_ERR_FORMAT, "%s:%u: expected "
              "text<TAB>label", path, ln + 1);
          break;
        }
        *tab = '\0';
        char *lab = g_strstrip (g_strdup (tab + 1));
        if (lab[0] == '\0') {
          g_free (lab);
          st = set_err (err, RNN_ERR_FORMAT, "%s:%u: empty label", path,
              ln + 1);
          break;
        }
        /* A first row labelled "label"/"class" is a header. */
        if (texts->len == 0 && (strcmp (lab, "label") == 0
                || strcmp (lab, "class") == 0)) {
          g_free (lab);
          continue;
        }
        g_ptr_array_add (texts, g_strdup (row));
        g_ptr_array_add (labs, lab);
        guint l1 = ln + 1;
        g_array_append_val (lines, l1);
      }
    }
    g_strfreev (rows);
    if (st != RNN_OK)
      goto done;
  }

  if (texts->len == 0) {
    st = set_err (err, RNN_ERR_FORMAT, "%s: no labelled texts", path);
    goto done;
  }

  td_texts *t = g_new0 (td_texts, 1);
  t->path = g_strdup (path);
  t->n = texts->len;
  t->text = g_new0 (char *, t->n);
  t->label = g_new0 (char *, t->n);
  t->cls = g_new0 (int, t->n);
  t->line = g_new0 (guint, t->n);
  GPtrArray *names = g_ptr_array_new ();
  GHashTable *seen = g_hash_table_new (g_str_hash, g_str_equal);
  for (size_t i = 0; i < t->n; i++) {
    t->text[i] = g_strdup (g_ptr_array_index (texts, i));
    t->label[i] = g_strdup (g_ptr_array_index (labs, i));
    t->line[i] = g_array_index (lines, guint, i);
    if (!g_hash_table_contains (seen, t->label[i])) {
      g_hash_table_add (seen, t->label[i]);
      g_ptr_array_add (names, t->label[i]);
    }
  }
  g_ptr_array_sort (names, cmp_class);
  t->n_classes = names->len;
  t->classes = g_new0 (char *, names->len + 1);
  for (guint k = 0; k < names->len; k++)
    t->classes[k] = g_strdup (g_ptr_array_index (names, k));
  for (size_t i = 0; i < t->n; i++)
    for (int k = 0; k < t->n_classes; k++)
      if (strcmp (t->classes[k], t->label[i]) == 0)
        t->cls[i] = k;
  g_ptr_array_free (names, TRUE);
  g_hash_table_destroy (seen);
  *out = t;

done:
  if (parser)
    g_object_unref (parser);
  g_ptr_array_unref (texts);
  g_ptr_array_unref (labs);
  g_array_free (lines, TRUE);
  g_free (contents);
  return st;
}

/* ------------------------------------------------------------ vocabulary */

void
td_count_add (GHashTable *h, const char *key)
{
  gpointer v = g_hash_table_lookup (h, key);
  g_hash_table_replace (h, g_strdup (key),
      GINT_TO_POINTER (GPOINTER_TO_INT (v) + 1));
}

static int
count_token (const char *token, size_t len, void *user)
{
  td_count_add (user, token);
  return 0;
}

static int
cmp_count (gconstpointer a, gconstpointer b)
{
  const td_count *x = a, *y = b;
  if (x->count != y->count)
    return x->count > y->count ? -1 : 1;
  return strcmp (x->tok, y->tok);
}

GArray *
td_counts_sorted (GHashTable *h, int min_count)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (td_count));
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, h);
  while (g_hash_table_iter_next (&it, &k, &v)) {
    td_count tc = { k, GPOINTER_TO_INT (v) };
    if (tc.count >= min_count)
      g_array_append_val (a, tc);
  }
  g_array_sort (a, cmp_count);
  return a;
}

char **
td_vocab_build (const td_texts *t, const size_t *rows, size_t n_rows,
    int max_size, int min_count)
{
  GHashTable *h = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  for (size_t i = 0; i < n_rows; i++) {
    const char *s = t->text[rows[i]];
    rnn_tokenize_foreach (s, strlen (s), count_token, h);
  }
  GArray *all = td_counts_sorted (h, min_count);
  if (max_size < 2)
    max_size = 2;
  guint n = MIN (all->len, (guint) max_size - 2);
  char **vocab = g_new0 (char *, n + 3);
  vocab[0] = g_strdup ("<pad>");
  vocab[1] = g_strdup ("<unk>");
  for (guint i = 0; i < n; i++)
    vocab[i + 2] = g_strdup (g_array_index (all, td_count, i).tok);
  g_array_free (all, TRUE);
  g_hash_table_destroy (h);
  return vocab;
}

typedef struct {
  GHashTable *index;
  GArray *ids;
} ids_ctx;

static int
map_token (const char *token, size_t len, void *user)
{
  ids_ctx *c = user;
  gpointer v = g_hash_table_lookup (c->index, token);
  gint32 id = v ? GPOINTER_TO_INT (v) - 1 : 1;
  g_array_append_val (c->ids, id);
  return 0;
}

GArray *
td_text_ids (GHashTable *vocab_index, const char *text)
{
  ids_ctx c = { vocab_index, g_array_new (FALSE, FALSE, sizeof (gint32)) };
  rnn_tokenize_foreach (text, strlen (text), map_token, &c);
  return c.ids;
}

/* ------------------------------------------------------- tagged sentences */

void
td_tagged_free (td_tagged *t)
{
  if (!t)
    return;
  for (size_t i = 0; i < t->n; i++) {
    g_free (t->text[i]);
    g_array_unref (t->words[i]);
  }
  g_free (t->text);
  g_free (t->words);
  g_free (t->file);
  g_free (t->line);
  g_strfreev (t->tags);
  g_strfreev (t->files);
  g_free (t);
}

typedef struct {
  GPtrArray *text;           /* char* */
  GPtrArray *words;          /* GArray* of td_word, tag = index in tag_names */
  GArray *line;
  GPtrArray *file;
  GHashTable *tag_index;     /* name -> index + 1 into tag_names */
  GPtrArray *tag_names;
  GString *cur;              /* the sentence being built */
  GArray *cur_words;
  guint cur_line;
} tagged_ctx;

static void
tagged_add_word (tagged_ctx *c, const char *word, size_t wlen,
    const char *tag, guint line)
{
  gpointer v = g_hash_table_lookup (c->tag_index, tag);
  int idx;
  if (v) {
    idx = GPOINTER_TO_INT (v) - 1;
  } else {
    idx = (int) c->tag_names->len;
    g_ptr_array_add (c->tag_names, g_strdup (tag));
    g_hash_table_insert (c->tag_index, g_ptr_array_index (c->tag_names, idx),
        GINT_TO_POINTER (idx + 1));
  }
  if (c->cur_words->len == 0)
    c->cur_line = line;
  else
    g_string_append_c (c->cur, ' ');
  td_word w = { c->cur->len, c->cur->len + wlen, idx };
  g_string_append_len (c->cur, word, (gssize) wlen);
  g_array_append_val (c->cur_words, w);
}

static void
tagged_end_sentence (tagged_ctx *c, const char *file)
{
  if (c->cur_words->len == 0)
    return;
  g_ptr_array_add (c->text, g_strdup (c->cur->str));
  g_ptr_array_add (c->words, c->cur_words);
  g_array_append_val (c->line, c->cur_line);
  g_ptr_array_add (c->file, (gpointer) file);
  g_string_truncate (c->cur, 0);
  c->cur_words = g_array_new (FALSE, FALSE, sizeof (td_word));
}

static rnn_status
tagged_read_file (tagged_ctx *c, const char *path, rnn_error *err)
{
  char *contents = NULL;
  gsize size = 0;
  GError *ge = NULL;
  rnn_status st = RNN_OK;
  if (!g_file_get_contents (path, &contents, &size, &ge)) {
    st = set_err (err, RNN_ERR_IO, "%s: cannot read: %s", path,
        ge->message);
    g_error_free (ge);
    return st;
  }
  if (!g_utf8_validate (contents, (gssize) size, NULL)
      || memchr (contents, '\0', size) != NULL) {
    g_free (contents);
    return set_err (err, RNN_ERR_FORMAT, "%s: not UTF-8 text", path);
  }
  /* CoNLL when the first non-blank line holds a tab between its first and
   * last non-blank characters (Brown lines start with a tab). */
  gboolean conll = FALSE;
  char **rows = g_strsplit (contents, "\n", -1);
  for (guint i = 0; rows[i]; i++) {
    char *r = g_strstrip (g_strdup (rows[i]));
    gboolean blank = r[0] == '\0';
    conll = strchr (r, '\t') != NULL;
    g_free (r);
    if (!blank)
      break;
  }
  for (guint i = 0; rows[i] && st == RNN_OK; i++) {
    char *row = rows[i];
    size_t rl = strlen (row);
    if (rl && row[rl - 1] == '\r')
      row[--rl] = '\0';
    if (conll) {
      char *s = g_strstrip (g_strdup (row));
      if (s[0] == '\0' || g_str_has_prefix (s, "-DOCSTART-")) {
        tagged_end_sentence (c, path);
        g_free (s);
        continue;
      }
      g_free (s);
      char **cols = g_strsplit (row, "\t", -1);
      guint nc = g_strv_length (cols);
      char *tok = nc >= 2 ? g_strstrip (cols[0]) : NULL;
      char *tag = nc >= 2 ? g_strstrip (cols[nc - 1]) : NULL;
      if (nc < 2 || !*tok || !*tag)
        st = set_err (err, RNN_ERR_FORMAT, "%s:%u: expected token<TAB>tag, "
            "found '%.60s'", path, i + 1, row);
      else if (strpbrk (tok, " \t") != NULL)
        st = set_err (err, RNN_ERR_FORMAT, "%s:%u: token '%s' holds a space",
            path, i + 1, tok);
      else
        tagged_add_word (c, tok, strlen (tok), tag, i + 1);
      g_strfreev (cols);
    } else {
      char **items = g_strsplit_set (row, " \t\v\f", -1);
      for (guint k = 0; items[k] && st == RNN_OK; k++) {
        const char *it = items[k];
        if (!*it)
          continue;
        const char *slash = strrchr (it, '/');
        if (slash == NULL || slash == it || slash[1] == '\0')
          st = set_err (err, RNN_ERR_FORMAT, "%s:%u: '%.60s' is not "
              "word/TAG", path, i + 1, it);
        else
          tagged_add_word (c, it, (size_t) (slash - it), slash + 1, i + 1);
      }
      g_strfreev (items);
      tagged_end_sentence (c, path);
    }
  }
  if (st == RNN_OK)
    tagged_end_sentence (c, path);
  g_strfreev (rows);
  g_free (contents);
  return st;
}

static int
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

rnn_status
td_tagged_read (const char *path, td_tagged **out, rnn_error *err)
{
  rnn_status st = RNN_OK;
  GPtrArray *files = g_ptr_array_new ();
  *out = NULL;
  if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
    GError *ge = NULL;
    GDir *d = g_dir_open (path, 0, &ge);
    if (!d) {
      st = set_err (err, RNN_ERR_IO, "%s: %s", path, ge->message);
      g_error_free (ge);
      g_ptr_array_free (files, TRUE);
      return st;
    }
    const char *f;
    while ((f = g_dir_read_name (d)) != NULL) {
      char *full = g_build_filename (path, f, NULL);
      if (f[0] != '.' && g_file_test (full, G_FILE_TEST_IS_REGULAR))
        g_ptr_array_add (files, full);
      else
        g_free (full);
    }
    g_dir_close (d);
    g_ptr_array_sort (files, cmp_str);
    if (files->len == 0) {
      g_ptr_array_free (files, TRUE);
      return set_err (err, RNN_ERR_IO, "%s: the directory has no file",
          path);
    }
  } else {
    g_ptr_array_add (files, g_strdup (path));
  }
  g_ptr_array_add (files, NULL);

  tagged_ctx c;
  c.text = g_ptr_array_new ();
  c.words = g_ptr_array_new ();
  c.line = g_array_new (FALSE, FALSE, sizeof (guint));
  c.file = g_ptr_array_new ();
  c.tag_index = g_hash_table_new (g_str_hash, g_str_equal);
  c.tag_names = g_ptr_array_new ();
  c.cur = g_string_new (NULL);
  c.cur_words = g_array_new (FALSE, FALSE, sizeof (td_word));
  c.cur_line = 0;
  for (guint i = 0; i + 1 < files->len && st == RNN_OK; i++)
    st = tagged_read_file (&c, g_ptr_array_index (files, i), err);
  if (st == RNN_OK && c.text->len == 0)
    st = set_err (err, RNN_ERR_FORMAT, "%s: no tagged sentence", path);

  td_tagged *t = NULL;
  if (st == RNN_OK) {
    t = g_new0 (td_tagged, 1);
    t->files = (char **) g_ptr_array_free (files, FALSE);
    files = NULL;
    t->n = c.text->len;
    t->text = (char **) g_ptr_array_free (c.text, FALSE);
    t->words = (GArray **) g_ptr_array_free (c.words, FALSE);
    t->file = (const char **) g_ptr_array_free (c.file, FALSE);
    t->line = (guint *) g_array_free (c.line, FALSE);
    c.text = c.words = c.file = NULL;
    c.line = NULL;
    /* Tags sorted by name, indices remapped. */
    guint nt = c.tag_names->len;
    char **sorted = g_new0 (char *, nt + 1);
    for (guint k = 0; k < nt; k++)
      sorted[k] = g_strdup (g_ptr_array_index (c.tag_names, k));
    qsort (sorted, nt, sizeof (char *), cmp_str);
    int *remap = g_new (int, nt);
    for (guint k = 0; k < nt; k++)
      for (guint j = 0; j < nt; j++)
        if (strcmp (g_ptr_array_index (c.tag_names, k), sorted[j]) == 0)
          remap[k] = (int) j;
    for (size_t s = 0; s < t->n; s++) {
      GArray *w = t->words[s];
      t->n_words += w->len;
      for (guint k = 0; k < w->len; k++)
        g_array_index (w, td_word, k).tag =
            remap[g_array_index (w, td_word, k).tag];
    }
    g_free (remap);
    t->tags = sorted;
    t->n_tags = (int) nt;
    /* t->file[s] point at the strings now owned by t->files */
  }
  if (c.text) {
    for (guint i = 0; i < c.text->len; i++)
      g_free (g_ptr_array_index (c.text, i));
    g_ptr_array_free (c.text, TRUE);
  }
  if (c.words) {
    for (guint i = 0; i < c.words->len; i++)
      g_array_unref (g_ptr_array_index (c.words, i));
    g_ptr_array_free (c.words, TRUE);
  }
  if (c.file)
    g_ptr_array_free (c.file, TRUE);
  if (c.line)
    g_array_free (c.line, TRUE);
  g_hash_table_destroy (c.tag_index);
  g_ptr_array_set_free_func (c.tag_names, g_free);
  g_ptr_array_free (c.tag_names, TRUE);
  g_string_free (c.cur, TRUE);
  g_array_unref (c.cur_words);
  if (files) {
    for (guint i = 0; i < files->len; i++)
      g_free (g_ptr_array_index (files, i));
    g_ptr_array_free (files, TRUE);
  }
  *out = t;
  return st;
}

char *
td_model_columns (const rnn_model *m)
{
  const char *names = rnn_model_meta (m, "input.names");
  if (!names)
    return NULL;
  JsonParser *p = json_parser_new ();
  char *res = NULL;
  if (json_parser_load_from_data (p, names, -1, NULL)
      && JSON_NODE_HOLDS_ARRAY (json_parser_get_root (p))) {
    JsonArray *a = json_node_get_array (json_parser_get_root (p));
    GString *s = g_string_new (NULL);
    for (guint i = 0; i < json_array_get_length (a); i++)
      g_string_append_printf (s, "%s%s", i ? "," : "",
          json_array_get_string_element (a, i));
    res = g_string_free (s, FALSE);
  }
  g_object_unref (p);
  return res;
}
