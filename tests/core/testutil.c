/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "testutil.h"

#include <glib.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>

static int tu_run, tu_failed;
static GPtrArray *tu_skipped;

const char *
tu_fixture (const char *name)
{
  static char buf[4096];
  const char *dir = getenv ("RNN_FIXTURES");
  snprintf (buf, sizeof buf, "%s/%s", dir ? dir : "tests/fixtures", name);
  return buf;
}

void
tu_check (int ok, const char *fmt, ...)
{
  va_list ap;
  tu_run++;
  if (!ok)
    tu_failed++;
  printf ("%s - ", ok ? "ok" : "FAIL");
  va_start (ap, fmt);
  vprintf (fmt, ap);
  va_end (ap);
  printf ("\n");
  fflush (stdout);
}

void
tu_skip (const char *fmt, ...)
{
  va_list ap;
  char *msg;
  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  printf ("SKIP - %s\n", msg);
  fflush (stdout);
  if (tu_skipped == NULL)
    tu_skipped = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (tu_skipped, msg);
}

int
tu_load_model (const char *fixture, rnn_model **m)
{
  rnn_error err = { 0 };
  *m = NULL;
  if (rnn_model_load (tu_fixture (fixture), m, &err) == RNN_OK)
    return 1;
  tu_check (0, "fixture %s loads: %s", fixture, err.msg);
  return 0;
}

int
tu_close (const float *a, const float *b, size_t n, double atol, double rtol,
    double *max_err)
{
  double worst = 0.0;
  int ok = 1;
  for (size_t i = 0; i < n; i++) {
    double d = fabs ((double) a[i] - (double) b[i]);
    if (!(d <= atol + rtol * fabs ((double) b[i])))
      ok = 0;
    if (d > worst || isnan (d))
      worst = isnan (d) ? INFINITY : d;
  }
  if (max_err)
    *max_err = worst;
  return ok;
}

int
tu_finish (void)
{
  guint n_skip = tu_skipped != NULL ? tu_skipped->len : 0;
  int status;

  printf ("# %d checks, %d failed, %u skipped\n", tu_run, tu_failed, n_skip);
  for (guint i = 0; i < n_skip; i++)
    printf ("# skipped: %s\n", (const char *) g_ptr_array_index (tu_skipped, i));
  if (tu_failed > 0)
    status = 1;
  else if (tu_run == 0)
    status = n_skip > 0 ? 77 : 1;
  else
    status = 0;
  if (tu_skipped != NULL)
    g_ptr_array_free (tu_skipped, TRUE);
  tu_skipped = NULL;
  return status;
}

char *
tu_read_all (const char *path, size_t *len)
{
  char *data = NULL;
  gsize n = 0;

  if (!g_file_get_contents (path, &data, &n, NULL))
    return NULL;
  *len = n;
  return data;
}
