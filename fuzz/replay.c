/* gst-rnn: replays fuzz corpora through a fuzz target without libFuzzer.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: replay-<target> DIR_OR_FILE...
 * Every regular file (directories are walked one level, in name order) is
 * read whole and passed to LLVMFuzzerTestOneInput. Exits 0 when all files
 * ran (a crash or abort in the target fails the test), 1 when a path cannot
 * be read or no input was found.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "fuzz-common.h"

static int
run_file (const char *path)
{
  gchar *data = NULL;
  gsize len = 0;
  GError *e = NULL;

  if (!g_file_get_contents (path, &data, &len, &e)) {
    fprintf (stderr, "replay: %s\n", e->message);
    g_error_free (e);
    return -1;
  }
  /* a copy of exactly len bytes, so ASan sees reads past the input */
  {
    uint8_t *copy = malloc (len ? len : 1);

    memcpy (copy, data, len);
    LLVMFuzzerTestOneInput (copy, len);
    free (copy);
  }
  g_free (data);
  return 0;
}

static gint
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar * const *) a, *(const gchar * const *) b);
}

int
main (int argc, char **argv)
{
  int i, n_run = 0, failed = 0;

  for (i = 1; i < argc; i++) {
    if (g_file_test (argv[i], G_FILE_TEST_IS_DIR)) {
      GDir *d = g_dir_open (argv[i], 0, NULL);
      GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
      const gchar *n;
      guint k;

      if (d == NULL) {
        fprintf (stderr, "replay: cannot open %s\n", argv[i]);
        failed = 1;
        continue;
      }
      while ((n = g_dir_read_name (d)))
        g_ptr_array_add (names, g_build_filename (argv[i], n, NULL));
      g_dir_close (d);
      g_ptr_array_sort (names, cmp_str);
      for (k = 0; k < names->len; k++) {
        const gchar *p = g_ptr_array_index (names, k);

        if (!g_file_test (p, G_FILE_TEST_IS_REGULAR))
          continue;
        if (run_file (p) == 0)
          n_run++;
        else
          failed = 1;
      }
      g_ptr_array_free (names, TRUE);
    } else if (run_file (argv[i]) == 0) {
      n_run++;
    } else {
      failed = 1;
    }
  }
  printf ("replayed %d input(s)\n", n_run);
  return failed || n_run == 0;
}
