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

/* Record a check that could not run here (e.g. kernels the CPU lacks):
 * prints "SKIP - <reason>" and is counted and listed by tu_finish, so it
 * never vanishes silently. */
void tu_skip (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* Load a fixture model (path under tests/fixtures) into *m. On failure
 * records a failed check naming the file and the error, and returns 0, so
 * checks guarded by it fail rather than disappear. */
int tu_load_model (const char *fixture, rnn_model **m);

/* Compare @n floats: |a-b| <= atol + rtol*|b|. Returns the largest absolute
 * error in *max_err (may be NULL) and 1 when all pass. */
int tu_close (const float *a, const float *b, size_t n, double atol,
    double rtol, double *max_err);

/* The whole contents of @path (g_free), its size in *len; NULL when it
 * cannot be read. */
char *tu_read_all (const char *path, size_t *len);

/* Exit status for main: 0 when every check passed, 1 when one failed or
 * none ran, 77 (meson's "skipped") when every check was skipped; prints
 * the totals and the skipped checks. */
int tu_finish (void);

#endif
