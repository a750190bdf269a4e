/* gst-rnn: rnn-eval anomaly, scores gruanomaly (run as a pipeline) and a
 * rolling z-score baseline on a CSV series with labelled anomaly windows.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef EVAL_ANOMALY_H
#define EVAL_ANOMALY_H

#include "train-data.h"

typedef struct {
  const char *model;            /* NULL: the baseline alone */
  const char *data;
  td_csv_options csv;           /* label_column: 0/1 rows -> windows */
  const char *windows;          /* windows file, or NULL */
  const char *element_args;     /* "name=value ..." for gruanomaly */
  const char *probation;        /* frames not scored: N or "nab"; NULL 0 */
  double rate;                  /* frames per second for delays; 0: from
                                 * the time column, else 1 */
  int baseline_window;          /* rolling z-score: previous frames */
  double baseline_threshold;    /* its |z| threshold */
  const char *output;           /* per-frame CSV, or NULL */
  const char *json;             /* figures as JSON, or NULL */
} ea_options;

/* Runs the evaluation and prints the report on stdout; td_die on errors.
 * Returns the exit status. */
int eval_anomaly (const ea_options *o);

#endif
