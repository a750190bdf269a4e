/* gst-rnn: data readers of the trainer and evaluator (CSV signals, labelled
 * texts). Tool code: errors are GError-free rnn_error messages that name the
 * file and line.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef TRAIN_DATA_H
#define TRAIN_DATA_H

#include "rnn.h"
#include <glib.h>

/* ------------------------------------------------------------ failures */

/* The program name td_die prefixes its messages with (set first in main). */
extern const char *td_tool_name;

/* Prints "<td_tool_name>: <message>" to stderr and exits with status 1. */
void td_die (const char *fmt, ...) G_GNUC_PRINTF (1, 2) G_GNUC_NORETURN;

/* td_die with @err's message unless @st is RNN_OK. */
void td_check (rnn_status st, const rnn_error *err);

/* ------------------------------------------------------------------ CSV */

/* The --delimiter option: NULL gives ','; one character or "tab", else
 * td_die. */
char td_delimiter (const char *option);

typedef struct {
  const char *columns;       /* "a,b" names or 0-based indices; NULL: all */
  const char *time_column;   /* excluded from features; NULL: none */
  const char *group_column;  /* a change of value starts a new sequence */
  const char *label_column;  /* anomaly labels (0 normal, else anomalous) */
  char delimiter;            /* field separator; 0: ',' */
} td_csv_options;

/* One continuous sequence of frames (a group, or the whole file). */
typedef struct {
  size_t start;              /* first row (index into td_signal.x frames) */
  size_t length;             /* frames */
} td_segment;

typedef struct {
  int n_features;
  char **names;              /* n_features feature names */
  size_t n_frames;
  float *x;                  /* n_frames * n_features, blanks filled */
  guint8 *label;             /* n_frames, or NULL without label column */
  guint *line;               /* source line of each frame */
  char **time;               /* time column's text per frame (NULL-ended),
                              * or NULL without a time column */
  GArray *segments;          /* of td_segment, in file order */
  size_t n_blank;            /* blank values filled in */
  char *path;
} td_signal;

/* Read a CSV file of numeric columns with the project's CSV reader
 * (csv/rnncsv.h: the dialect csvparse reads: header detection, quotes, BOM,
 * comments, a trailing delimiter, missing-value markers). Without
 * opt->columns the features are the columns whose first data row holds a
 * number or a missing value, except the time, group and label columns. A
 * row with more fields than the header, too few for a chosen column, or a
 * value that is not a number is an error naming the file and line. Missing
 * values (empty, NA, N/A, NaN, null, None) are filled by linear
 * interpolation between the nearest values of the same column in the same
 * sequence (the nearest value at the ends). A numeric time column going
 * backwards inside a sequence is reported on stderr (once). */
rnn_status td_signal_read (const char *path, const td_csv_options *opt,
    td_signal **out, rnn_error *err);
void td_signal_free (td_signal *s);

/* The model's `input.names` metadata (a JSON array of column names) as a
 * comma-separated column list (g_free), or NULL without it. */
char *td_model_columns (const rnn_model *m);

/* ---------------------------------------------------------------- texts */

typedef struct {
  size_t n;
  char **text;
  char **label;              /* label as written in the file */
  int *cls;                  /* index into classes */
  char **classes;            /* sorted class names (numbers numerically) */
  int n_classes;
  guint *line;               /* line (or JSON array element) of each text */
  char *path;
} td_texts;

/* JSON array of {text, class|label}, JSON lines, or TSV text<TAB>label
 * (chosen from the first non-blank character: '[' array, '{' JSON lines,
 * else TSV). Records whose class is null are unlabelled and skipped. */
rnn_status td_texts_read (const char *path, td_texts **out, rnn_error *err);
void td_texts_free (td_texts *t);

/* Vocabulary: index 0 "<pad>", 1 "<unk>", then tokens by descending count
 * (ties alphabetical), at most @max_size entries in all, tokens seen at
 * least @min_count times. Only texts with indices in @rows (n_rows) are
 * counted. Returns a NULL-terminated array (g_strfreev). */
char **td_vocab_build (const td_texts *t, const size_t *rows, size_t n_rows,
    int max_size, int min_count);

/* Counting tokens: @h maps g_strdup'ed keys (freed by @h) to counts
 * (GINT_TO_POINTER). */
void td_count_add (GHashTable *h, const char *key);

typedef struct {
  const char *tok;           /* owned by the table */
  int count;
} td_count;

/* The entries of @h counted at least @min_count times, by descending count
 * (ties alphabetical), as an array of td_count. */
GArray *td_counts_sorted (GHashTable *h, int min_count);

/* Token ids of @text under @vocab (hash token -> id+1). */
GArray *td_text_ids (GHashTable *vocab_index, const char *text);

/* ------------------------------------------------------- tagged sentences */

/* One word of a tagged sentence: bytes [start, end) of the sentence's text
 * and its tag (index into td_tagged.tags). */
typedef struct {
  size_t start, end;
  int tag;
} td_word;

typedef struct {
  size_t n;                  /* sentences */
  char **text;               /* the words of each sentence joined by spaces */
  GArray **words;            /* of td_word, per sentence */
  char **tags;               /* sorted tag names (NULL-terminated) */
  int n_tags;
  const char **file;         /* file of each sentence (owned by @files) */
  guint *line;               /* its first line in that file */
  char **files;              /* the files read, in order (NULL-terminated) */
  size_t n_words;
} td_tagged;

/* Read tagged sentences from a file, or from every file of a directory
 * (sorted by name; hidden files skipped). Each file is either one sentence
 * per line as `word/TAG word/TAG ...` (split at the last '/'; the Brown
 * corpus format) or CoNLL columns: `token<TAB>...<TAB>tag` lines with a
 * blank line between sentences (chosen per file: CoNLL when its first
 * non-blank line holds a tab after its first non-blank character). Blank lines are skipped; `-DOCSTART-` lines
 * of CoNLL files too. */
rnn_status td_tagged_read (const char *path, td_tagged **out, rnn_error *err);
void td_tagged_free (td_tagged *t);

#endif
