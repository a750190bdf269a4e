/* gst-rnn benchmarks: timing, allocation counting and the model manifest.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef BENCHUTIL_H
#define BENCHUTIL_H

#include <stddef.h>
#include <stdint.h>

/* The benchmark clock in seconds: the calling thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID), or the monotonic wall clock when the
 * environment has BENCH_CLOCK=wall. bu_clock_name says which
 * ("thread-cpu" or "wall"). */
double bu_now (void);
const char *bu_clock_name (void);

/* Allocation calls (malloc, calloc, realloc, the aligned variants) made by
 * the calling thread so far. Counted by the malloc wrappers linked into the
 * benchmark programs (benchutil.c), which forward to glibc. */
uint64_t bu_alloc_count (void);

/* Peak resident set size of this process in KiB (VmHWM). */
long bu_peak_rss_kib (void);

/* Runs @fn(@data, @iters) and returns its duration in seconds. */
typedef void (*bu_body) (void *data, uint64_t iters);

/* Warm-up, then calibrates an iteration count for which one run of @fn lasts
 * about @min_time seconds, then returns the median rate (iterations per
 * second) of @reps such runs. */
double bu_median_rate (bu_body fn, void *data, double min_time, int reps);
/* The same, returning the fastest of the @reps runs: for what the machine
 * can do at best (bandwidth, peaks), where a slower run only means that
 * other work disturbed it. */
double bu_best_rate (bu_body fn, void *data, double min_time, int reps);

typedef struct {
  char name[128];
  char cell[16];
  int layers, hidden, input;
  char task[16];
} bu_model_entry;

/* Reads DIR/models.tsv (written by bench_torch.py models DIR). Returns the
 * number of entries (at most @max), -1 on error (message on stderr). */
int bu_read_manifest (const char *dir, bu_model_entry *out, int max);

/* Parses a comma-separated list of positive integers; returns the count. */
int bu_parse_list (const char *s, int *out, int max);

#endif
