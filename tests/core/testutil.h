/* Small helpers shared by the plain C tests of core/.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef RNN_TESTUTIL_H
#define RNN_TESTUTIL_H

#include "rnn.h"
#include <stdio.h>

/* Absolute path of a file under tests/fixtures (env RNN_FIXTURES); static
 * buffer, valid until the next call. */
const char *tu_fixture (const char *name);

/* Record one named check; prints "ok"/"FAIL" with the name. */
void tu_check (int ok, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

/* Compare @n floats: |a-b| <= atol + rtol*|b|. Returns the largest absolute
 * error in *max_err (may be NULL) and 1 when all pass. */
int tu_close (const float *a, const float *b, size_t n, double atol,
    double rtol, double *max_err);

/* The whole contents of @path (g_free), its size in *len; NULL when it
 * cannot be read. */
char *tu_read_all (const char *path, size_t *len);

/* Exit status for main: 0 when every check passed, 1 otherwise; prints the
 * totals. */
int tu_finish (void);

#endif
