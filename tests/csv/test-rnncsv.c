/* Unit tests of the CSV reader shared by csvparse and the tools.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "rnncsv.h"

/* Reads @text fed in pieces of @step bytes (0: whole) and describes what
 * came out: "H[a|b]" for a header, "3:[1|2]" for a data row starting on
 * line 3, rows separated by spaces. */
static char *
read_all (const char *text, gsize len, char delim, RnnCsvHeader header,
    gsize step)
{
  RnnCsvReader *r = rnn_csv_reader_new (delim, header);
  GString *out = g_string_new (NULL);
  gsize fed = 0;
  gboolean done = FALSE;
  guint64 expect_index = 0;

  while (!done) {
    RnnCsvRow row;
    RnnCsvStatus st = rnn_csv_reader_next (r, &row);
    switch (st) {
      case RNN_CSV_NEED_MORE:
        if (fed == len) {
          rnn_csv_reader_finish (r);
        } else {
          gsize n = step == 0 ? len - fed : MIN (step, len - fed);
          rnn_csv_reader_feed (r, text + fed, n);
          fed += n;
        }
        break;
      case RNN_CSV_HEADER:{
        char **names = rnn_csv_reader_names (r);
        g_string_append (out, out->len ? " H[" : "H[");
        for (guint i = 0; names[i]; i++)
          g_string_append_printf (out, "%s%s", i ? "|" : "", names[i]);
        g_string_append_c (out, ']');
        break;
      }
      case RNN_CSV_ROW:
        g_assert_cmpuint (row.index, ==, expect_index);
        expect_index++;
        g_string_append_printf (out, "%s%" G_GUINT64_FORMAT ":[",
            out->len ? " " : "", row.line);
        for (guint i = 0; i < row.n_fields; i++)
          g_string_append_printf (out, "%s%s", i ? "|" : "", row.fields[i]);
        g_string_append_c (out, ']');
        break;
      case RNN_CSV_END:
        done = TRUE;
        break;
    }
  }
  rnn_csv_reader_free (r);
  return g_string_free (out, FALSE);
}

/* The same text whole, in pieces of every size up to 7, and byte by byte
 * must give @want. */
static void
check_read (const char *text, char delim, RnnCsvHeader header,
    const char *want)
{
  gsize len = strlen (text);
  for (gsize step = 0; step <= 7; step++) {
    char *got = read_all (text, len, delim, header, step);
    if (strcmp (got, want) != 0)
      g_error ("text '%s' in pieces of %zu: got '%s', want '%s'", text, step,
          got, want);
    g_free (got);
  }
}

static void
test_basic (void)
{
  check_read ("a,b\n1,2\n3,4\n", ',', RNN_CSV_HEADER_AUTO,
      "H[a|b] 2:[1|2] 3:[3|4]");
  /* no final line break, CRLF, spaces around fields */
  check_read ("a,b\r\n 1 , 2\r\n3,4", ',', RNN_CSV_HEADER_AUTO,
      "H[a|b] 2:[1|2] 3:[3|4]");
  /* comments and blank lines count as lines but give no row */
  check_read ("# about\n\na,b\n\n# mid\n1,2\n", ',', RNN_CSV_HEADER_AUTO,
      "H[a|b] 6:[1|2]");
  /* header decision */
  check_read ("1,2\n3,4\n", ',', RNN_CSV_HEADER_AUTO, "1:[1|2] 2:[3|4]");
  check_read ("NA,2\n3,4\n", ',', RNN_CSV_HEADER_AUTO, "1:[NA|2] 2:[3|4]");
  check_read ("1,2\n3,4\n", ',', RNN_CSV_HEADER_PRESENT, "H[1|2] 2:[3|4]");
  check_read ("a,b\n3,4\n", ',', RNN_CSV_HEADER_ABSENT, "1:[a|b] 2:[3|4]");
  /* other delimiters */
  check_read ("a;b\n1,5;2\n", ';', RNN_CSV_HEADER_AUTO, "H[a|b] 2:[1,5|2]");
  check_read ("a\tb\n1\t2\n", '\t', RNN_CSV_HEADER_AUTO, "H[a|b] 2:[1|2]");
  /* empty input, header alone */
  check_read ("", ',', RNN_CSV_HEADER_AUTO, "");
  check_read ("a,b\n", ',', RNN_CSV_HEADER_AUTO, "H[a|b]");
}

static void
test_quotes (void)
{
  /* quoted delimiters, "" and line breaks; line numbers count the breaks
   * inside quotes */
  check_read ("\"a,1\",\"say \"\"hi\"\"\"\n\"x\ny\",2\n3,4\n", ',',
      RNN_CSV_HEADER_AUTO, "H[a,1|say \"hi\"] 2:[x\ny|2] 4:[3|4]");
  /* text after a closing quote is appended */
  check_read ("a,b\n\"1\"2,3\n", ',', RNN_CSV_HEADER_AUTO, "H[a|b] 2:[12|3]");
  /* a quote inside an unquoted field is a character */
  check_read ("a,b\nx\"y,3\n", ',', RNN_CSV_HEADER_AUTO, "H[a|b] 2:[x\"y|3]");
  /* a comment line's quotes do not open a field */
  check_read ("# \"open\na\n1\n", ',', RNN_CSV_HEADER_AUTO, "H[a] 3:[1]");
}

static void
test_long_quoted_record (void)
{
  /* a stray quote cannot hold the reader for more than 64 KiB */
  GString *t = g_string_new ("a,b\n\"1,2\n");
  for (guint i = 0; i < 70000 / 4; i++)
    g_string_append (t, "3,4\n");
  RnnCsvReader *r = rnn_csv_reader_new (',', RNN_CSV_HEADER_AUTO);
  RnnCsvRow row;
  guint rows = 0;
  rnn_csv_reader_feed (r, t->str, t->len);
  while (rnn_csv_reader_next (r, &row) != RNN_CSV_NEED_MORE)
    rows += 1;
  /* the header, the runaway record, then plain rows again */
  g_assert_cmpuint (rows, >, 100);
  rnn_csv_reader_free (r);
  g_string_free (t, TRUE);
}

static void
test_bom (void)
{
  check_read ("\xEF\xBB\xBF" "a,b\n1,2\n", ',', RNN_CSV_HEADER_AUTO,
      "H[a|b] 2:[1|2]");
  check_read ("\xEF\xBB\xBF" "1,2\n", ',', RNN_CSV_HEADER_AUTO, "1:[1|2]");
  /* only at the start */
  check_read ("a\n\xEF\xBB\xBF" "1\n", ',', RNN_CSV_HEADER_AUTO,
      "H[a] 2:[\xEF\xBB\xBF" "1]");
  /* a prefix of a BOM is text (a header name is made valid UTF-8) */
  check_read ("\xEF\xBB", ',', RNN_CSV_HEADER_AUTO,
      "H[\xEF\xBF\xBD\xEF\xBF\xBD]");
}

static void
test_trailing_empty_column (void)
{
  /* rows ending with the delimiter under a header without it */
  check_read ("a,b\n1,2,\n3,4,\n", ',', RNN_CSV_HEADER_AUTO,
      "H[a|b] 2:[1|2] 3:[3|4]");
  /* the header too */
  check_read ("a,b,\n1,2,\n3,4\n", ',', RNN_CSV_HEADER_AUTO,
      "H[a|b] 2:[1|2] 3:[3|4]");
  /* no header: the first row sets the width */
  check_read ("1,2,\n3,4,\n", ',', RNN_CSV_HEADER_AUTO, "1:[1|2] 2:[3|4]");
  /* within the width an empty last field is a missing value */
  check_read ("a,b,c\n1,2,\n", ',', RNN_CSV_HEADER_AUTO, "H[a|b|c] 2:[1|2|]");
  /* a quoted empty field is a field */
  check_read ("a,b\n1,2,\"\"\n", ',', RNN_CSV_HEADER_AUTO,
      "H[a|b] 2:[1|2|]");
  /* only one trailing field goes */
  check_read ("a,b\n1,2,,\n", ',', RNN_CSV_HEADER_AUTO, "H[a|b] 2:[1|2|]");
  /* a single column: an empty row is not trimmed to nothing */
  check_read ("a\n1\n,\n", ',', RNN_CSV_HEADER_AUTO, "H[a] 2:[1] 3:[]");
}

static void
test_restart (void)
{
  const char *t = "a,b\n1,2\n3,4\n5,6\n";
  RnnCsvReader *r = rnn_csv_reader_new (',', RNN_CSV_HEADER_AUTO);
  RnnCsvRow row;
  guint64 off3 = 0;

  rnn_csv_reader_feed (r, t, strlen (t));
  rnn_csv_reader_finish (r);
  g_assert_cmpint (rnn_csv_reader_next (r, &row), ==, RNN_CSV_HEADER);
  g_assert_cmpint (rnn_csv_reader_next (r, &row), ==, RNN_CSV_ROW);
  g_assert_cmpint (rnn_csv_reader_next (r, &row), ==, RNN_CSV_ROW);
  g_assert_cmpuint (row.offset, ==, 8);
  off3 = row.offset;
  g_assert_cmpint (rnn_csv_reader_next (r, &row), ==, RNN_CSV_ROW);
  g_assert_cmpint (rnn_csv_reader_next (r, &row), ==, RNN_CSV_END);
  g_assert_cmpuint (rnn_csv_reader_offset (r), ==, strlen (t));

  /* back to the row at line 3 */
  rnn_csv_reader_restart_at (r, off3, 3, 1);
  g_assert_cmpint (rnn_csv_reader_next (r, &row), ==, RNN_CSV_NEED_MORE);
  rnn_csv_reader_feed (r, t + off3, strlen (t) - off3);
  g_assert_cmpint (rnn_csv_reader_next (r, &row), ==, RNN_CSV_ROW);
  g_assert_cmpuint (row.line, ==, 3);
  g_assert_cmpuint (row.index, ==, 1);
  g_assert_cmpuint (row.offset, ==, off3);
  g_assert_cmpstr (row.fields[0], ==, "3");
  g_assert_nonnull (rnn_csv_reader_names (r));
  rnn_csv_reader_free (r);
}

static void
test_values (void)
{
  const char *missing[] = { "", "NA", "na", "N/A", "n/a", "NaN", "null",
    "NULL", "None", "none" };
  float v = 0;
  char *why = NULL;
  guint64 ns = 0;

  for (guint i = 0; i < G_N_ELEMENTS (missing); i++) {
    g_assert_true (rnn_csv_is_missing (missing[i]));
    g_assert_cmpint (rnn_csv_parse_float (missing[i], &v, &why), ==,
        RNN_CSV_VALUE_MISSING);
  }
  g_assert_false (rnn_csv_is_missing ("0"));
  g_assert_cmpint (rnn_csv_parse_float ("-2.5e3", &v, &why), ==,
      RNN_CSV_VALUE_OK);
  g_assert_cmpfloat (v, ==, -2500.0f);
  g_assert_cmpint (rnn_csv_parse_float ("12abc", &v, &why), ==,
      RNN_CSV_VALUE_BAD);
  g_assert_nonnull (strstr (why, "'12abc' is not a number"));
  g_clear_pointer (&why, g_free);
  g_assert_cmpint (rnn_csv_parse_float ("inf", &v, &why), ==,
      RNN_CSV_VALUE_BAD);
  g_clear_pointer (&why, g_free);
  g_assert_cmpint (rnn_csv_parse_float ("1e300", &v, &why), ==,
      RNN_CSV_VALUE_BAD);
  g_assert_nonnull (strstr (why, "float range"));
  g_clear_pointer (&why, g_free);

  g_assert_true (rnn_csv_parse_seconds ("1.5", &ns, &why));
  g_assert_cmpuint (ns, ==, 1500000000u);
  g_assert_false (rnn_csv_parse_seconds ("1e30", &ns, &why));
  g_assert_nonnull (strstr (why, "too large"));
  g_clear_pointer (&why, g_free);
  g_assert_false (rnn_csv_parse_seconds ("-1", &ns, &why));
  g_assert_nonnull (strstr (why, "negative"));
  g_clear_pointer (&why, g_free);
  g_assert_false (rnn_csv_parse_seconds ("noon", &ns, &why));
  g_assert_nonnull (strstr (why, "not a number"));
  g_clear_pointer (&why, g_free);
}

static void
test_columns (void)
{
  char *names[] = { "t", "a", "b, c", NULL };
  char *first[] = { "0", "1", "x" };
  char *why = NULL;
  const int excl[] = { 0, -1 };
  GArray *cols;
  char d = 0, buf[32];

  g_assert_cmpint (rnn_csv_find_column (names, 3, "a", &why), ==, 1);
  g_assert_cmpint (rnn_csv_find_column (names, 3, "2", &why), ==, 2);
  g_assert_cmpint (rnn_csv_find_column (names, 3, "3", &why), ==, -1);
  g_assert_nonnull (strstr (why, "out of range"));
  g_clear_pointer (&why, g_free);
  g_assert_cmpint (rnn_csv_find_column (names, 3, "zz", &why), ==, -1);
  g_assert_nonnull (strstr (why, "(t, a, b, c)"));
  g_clear_pointer (&why, g_free);
  g_assert_cmpint (rnn_csv_find_column (NULL, 3, "a", &why), ==, -1);
  g_assert_nonnull (strstr (why, "no header"));
  g_clear_pointer (&why, g_free);

  /* default: numeric or missing first-row fields but the excluded */
  cols = rnn_csv_choose_columns (names, 3, NULL, first, 3, excl, 2, &why);
  g_assert_nonnull (cols);
  g_assert_cmpuint (cols->len, ==, 1);
  g_assert_cmpint (g_array_index (cols, int, 0), ==, 1);
  g_array_free (cols, TRUE);
  cols = rnn_csv_choose_columns (names, 3, "2, t", first, 3, NULL, 0, &why);
  g_assert_cmpuint (cols->len, ==, 2);
  g_assert_cmpint (g_array_index (cols, int, 0), ==, 2);
  g_assert_cmpint (g_array_index (cols, int, 1), ==, 0);
  g_array_free (cols, TRUE);
  g_assert_null (rnn_csv_choose_columns (names, 3, "a,q", first, 3, NULL, 0,
          &why));
  g_assert_nonnull (strstr (why, "'q'"));
  g_clear_pointer (&why, g_free);
  g_assert_null (rnn_csv_choose_columns (names, 3, NULL, first, 1, excl, 1,
          &why));
  g_assert_nonnull (strstr (why, "no numeric column"));
  g_clear_pointer (&why, g_free);

  g_assert_cmpstr (rnn_csv_column_label (names, 1, buf, sizeof buf), ==,
      "'a'");
  g_assert_cmpstr (rnn_csv_column_label (NULL, 1, buf, sizeof buf), ==, "1");

  g_assert_true (rnn_csv_delimiter_parse ("tab", NULL, &d) && d == '\t');
  g_assert_true (rnn_csv_delimiter_parse ("\\t", NULL, &d) && d == '\t');
  g_assert_true (rnn_csv_delimiter_parse (";", NULL, &d) && d == ';');
  g_assert_false (rnn_csv_delimiter_parse ("\"", NULL, &d));
  g_assert_false (rnn_csv_delimiter_parse (";;", NULL, &d));
  g_assert_false (rnn_csv_delimiter_parse (".", ".-", &d));
  g_assert_false (rnn_csv_delimiter_parse (NULL, NULL, &d));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/csv/basic", test_basic);
  g_test_add_func ("/csv/quotes", test_quotes);
  g_test_add_func ("/csv/long-quoted-record", test_long_quoted_record);
  g_test_add_func ("/csv/bom", test_bom);
  g_test_add_func ("/csv/trailing-empty-column", test_trailing_empty_column);
  g_test_add_func ("/csv/restart", test_restart);
  g_test_add_func ("/csv/values", test_values);
  g_test_add_func ("/csv/columns", test_columns);
  return g_test_run ();
}
