/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "testutil.h"

#include <glib.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>

static int tu_run, tu_failed;

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
  printf ("# %d checks, %d failed\n", tu_run, tu_failed);
  return tu_failed == 0 && tu_run > 0 ? 0 : 1;
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
