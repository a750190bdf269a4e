/* gst-rnn: the anomaly detector's tail selection against a full sort.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rnn-private.h"
#include "testutil.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

static int
cmp_float (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return x < y ? -1 : x > y;
}

/* The m largest of windows of scores (continuous, with ties, runs of one
 * capped value, all equal), for every guess kind (below all, near the
 * answer, above all): the same bits as the end of a qsort of the window. */
int
main (void)
{
  GRand *rng = g_rand_new_with_seed (11);
  const size_t sizes[] = { 1, 2, 17, 100, 101, 400, 2000 };
  int kinds = 0, bad = 0;

  for (size_t si = 0; si < G_N_ELEMENTS (sizes); si++) {
    size_t n = sizes[si];
    float *src = g_new (float, n), *sorted = g_new (float, n);
    float *scratch = g_new (float, n);

    for (int kind = 0; kind < 4; kind++) {
      for (int rep = 0; rep < 20; rep++) {
        size_t m = 1 + (size_t) g_rand_int_range (rng, 0, (gint32) n);
        float guesses[3];

        for (size_t i = 0; i < n; i++) {
          float v = (float) g_rand_double_range (rng, 0, 4);
          if (kind == 1)        /* few distinct values */
            v = (float) g_rand_int_range (rng, 0, 5);
          else if (kind == 2)   /* a capped tail */
            v = MIN (v, 3.0f);
          else if (kind == 3)   /* all equal */
            v = 1.5f;
          src[i] = v;
        }
        memcpy (sorted, src, n * sizeof (float));
        qsort (sorted, n, sizeof (float), cmp_float);
        guesses[0] = -1.0f;
        guesses[1] = sorted[n - m] - 0.1f;
        guesses[2] = 10.0f;
        for (int gi = 0; gi < 3; gi++) {
          const float *top = rnn__largest_sorted (scratch, src, n, m,
              guesses[gi]);
          bad += memcmp (top, sorted + n - m, m * sizeof (float)) != 0;
        }
        kinds++;
      }
    }
    g_free (src);
    g_free (sorted);
    g_free (scratch);
  }
  tu_check (bad == 0, "tail selection: the m largest of %d windows (n 1..2000, "
      "ties, caps, all equal; 3 guesses each) equal a full sort's, bit for "
      "bit: %d differ", kinds, bad);
  g_rand_free (rng);
  return tu_finish ();
}
