/* gst-rnn benchmarks: timing, allocation counting and the model manifest.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "benchutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Allocation counting. The benchmark executable defines the allocator entry
 * points itself; the dynamic linker binds every library of the process
 * (GLib, GStreamer, OpenBLAS, the engine) to these, and they forward to
 * glibc's own implementations. The count is per thread, so a measurement in
 * a streaming thread is not disturbed by the main loop. */
extern void *__libc_malloc (size_t size);
extern void *__libc_calloc (size_t n, size_t size);
extern void *__libc_realloc (void *p, size_t size);
extern void *__libc_memalign (size_t align, size_t size);
extern void __libc_free (void *p);

static __thread uint64_t n_allocs;

void *
malloc (size_t size)
{
  n_allocs++;
  return __libc_malloc (size);
}

void *
calloc (size_t n, size_t size)
{
  n_allocs++;
  return __libc_calloc (n, size);
}

void *
realloc (void *p, size_t size)
{
  n_allocs++;
  return __libc_realloc (p, size);
}

void
free (void *p)
{
  __libc_free (p);
}

void *
memalign (size_t align, size_t size)
{
  n_allocs++;
  return __libc_memalign (align, size);
}

void *
aligned_alloc (size_t align, size_t size)
{
  n_allocs++;
  return __libc_memalign (align, size);
}

int
posix_memalign (void **out, size_t align, size_t size)
{
  void *p;

  n_allocs++;
  p = __libc_memalign (align, size);
  if (p == NULL)
    return 12;                  /* ENOMEM */
  *out = p;
  return 0;
}

uint64_t
bu_alloc_count (void)
{
  return n_allocs;
}

/* The benchmark's clock: the calling thread's CPU time, unless
 * BENCH_CLOCK=wall. On a machine shared with other work, the time a thread
 * spends descheduled is not the code's; what the other work does to the
 * caches still shows (the run header prints the load). Every timed
 * section runs in one thread: the engine calls, and a pipeline whose
 * source, element and sink share the streaming thread. */
static clockid_t
bench_clock (void)
{
  static int which = -1;

  if (which < 0) {
    const char *e = getenv ("BENCH_CLOCK");
    which = e != NULL && strcmp (e, "wall") == 0;
  }
  return which ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID;
}

double
bu_now (void)
{
  struct timespec ts;

  clock_gettime (bench_clock (), &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

const char *
bu_clock_name (void)
{
  return bench_clock () == CLOCK_MONOTONIC ? "wall" : "thread-cpu";
}

long
bu_peak_rss_kib (void)
{
  FILE *f = fopen ("/proc/self/status", "r");
  char line[256];
  long kib = -1;

  if (f == NULL)
    return -1;
  while (fgets (line, sizeof line, f))
    if (strncmp (line, "VmHWM:", 6) == 0)
      kib = strtol (line + 6, NULL, 10);
  fclose (f);
  return kib;
}

static double
time_run (bu_body fn, void *data, uint64_t iters)
{
  double t0 = bu_now ();

  fn (data, iters);
  return bu_now () - t0;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double rate_of (bu_body fn, void *data, double min_time, int reps,
    int best);

double
bu_median_rate (bu_body fn, void *data, double min_time, int reps)
{
  return rate_of (fn, data, min_time, reps, 0);
}

double
bu_best_rate (bu_body fn, void *data, double min_time, int reps)
{
  return rate_of (fn, data, min_time, reps, 1);
}

static double
rate_of (bu_body fn, void *data, double min_time, int reps, int best)
{
  uint64_t iters = 1;
  double dt, rates[31];
  int i;

  if (reps < 1)
    reps = 1;
  if (reps > 31)
    reps = 31;
  /* Warm-up (first calls pay for page faults, lazy binding, library
   * initialisation), then calibration: double until a run lasts
   * min_time / 8. */
  time_run (fn, data, 1);
  for (;;) {
    dt = time_run (fn, data, iters);
    if (dt >= min_time / 8 || iters >= ((uint64_t) 1 << 40))
      break;
    iters *= 2;
  }
  iters = (uint64_t) (iters * min_time / (dt > 1e-9 ? dt : 1e-9));
  if (iters < 1)
    iters = 1;
  for (i = 0; i < reps; i++)
    rates[i] = iters / time_run (fn, data, iters);
  qsort (rates, reps, sizeof rates[0], cmp_double);
  return best ? rates[reps - 1] : rates[reps / 2];
}

int
bu_read_manifest (const char *dir, bu_model_entry *out, int max)
{
  char path[1024], line[512];
  FILE *f;
  int n = 0;

  snprintf (path, sizeof path, "%s/models.tsv", dir);
  f = fopen (path, "r");
  if (f == NULL) {
    fprintf (stderr, "%s: cannot open (run bench_torch.py models %s)\n",
        path, dir);
    return -1;
  }
  while (n < max && fgets (line, sizeof line, f)) {
    bu_model_entry *e = &out[n];

    if (sscanf (line, "%127s %15s %d %d %d %15s", e->name, e->cell,
            &e->layers, &e->hidden, &e->input, e->task) == 6)
      n++;
  }
  fclose (f);
  return n;
}

int
bu_parse_list (const char *s, int *out, int max)
{
  int n = 0;

  while (*s && n < max) {
    char *end;
    long v = strtol (s, &end, 10);

    if (end == s || v <= 0)
      break;
    out[n++] = (int) v;
    s = *end == ',' ? end + 1 : end;
  }
  return n;
}
