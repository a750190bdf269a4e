/* gst-rnn engine example: forecasting with librnn alone, no GStreamer.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Reads one column of a CSV file, runs a forecasting model over it one frame
 * at a time and prints, for the last 20% of the rows, the mean absolute error
 * of the one-step forecast next to repeating the previous value.
 *
 *   cc forecast-engine.c $(pkg-config --cflags --libs rnn) -o forecast-engine
 *   ./forecast-engine /usr/share/gst-rnn/models/forecast.safetensors \
 *       /usr/share/gst-rnn/models/data/sunspots.csv sunactivity
 *
 * A model whose metadata holds a `window` of W frames was trained on
 * sequences of W frames starting from a zero state: each forecast is then the
 * last output of a pass over the W most recent frames (what lstmforecast does
 * with window=W). Without a window the state is carried from frame to frame.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rnn.h>

#define MAX_LINE 4096

/* The values of column @name of a CSV file with a header row (rows with an
 * empty or non-numeric field are skipped). Returns a malloc'ed array. */
static float *
read_column (const char *path, const char *name, size_t *n_out)
{
  char line[MAX_LINE];
  FILE *f = fopen (path, "r");
  float *v = NULL;
  size_t n = 0, cap = 0;
  int col = -1;

  if (f == NULL) {
    perror (path);
    return NULL;
  }
  if (fgets (line, sizeof line, f) != NULL) {
    int i = 0;
    for (char *tok = strtok (line, ",\r\n"); tok; tok = strtok (NULL, ",\r\n"), i++)
      if (strcmp (tok, name) == 0)
        col = i;
  }
  if (col < 0) {
    fprintf (stderr, "%s: no column '%s' in the header\n", path, name);
    fclose (f);
    return NULL;
  }
  while (fgets (line, sizeof line, f) != NULL) {
    char *p = line, *end;
    for (int i = 0; i < col && p; i++) {
      p = strchr (p, ',');
      if (p)
        p++;
    }
    if (p == NULL)
      continue;
    double x = strtod (p, &end);
    if (end == p || !isfinite (x))
      continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 256;
      v = realloc (v, cap * sizeof *v);
      if (v == NULL) {
        fclose (f);
        return NULL;
      }
    }
    v[n++] = (float) x;
  }
  fclose (f);
  *n_out = n;
  return v;
}

int
main (int argc, char **argv)
{
  rnn_error err;
  rnn_model *model = NULL;
  rnn_state *state = NULL;
  float *x, y;
  size_t n = 0, first, count = 0;
  double mae = 0, mae_last = 0;
  int ret = 1;

  if (argc != 4) {
    fprintf (stderr, "usage: %s MODEL CSV COLUMN\n", argv[0]);
    return 2;
  }
  x = read_column (argv[2], argv[3], &n);
  if (x == NULL)
    return 1;

  if (rnn_model_load (argv[1], &model, &err) != RNN_OK) {
    fprintf (stderr, "%s\n", err.msg);    /* names the file and the problem */
    goto out;
  }
  if (rnn_model_task (model) != RNN_TASK_FORECAST
      || rnn_model_input_size (model) != 1
      || rnn_model_output_size (model) != 1) {
    fprintf (stderr, "%s: expected a forecast model of one feature\n",
        argv[1]);
    goto out;
  }

  unsigned window = rnn_model_window (model);
  /* Work buffers for calls of up to max(window, 1) frames. */
  if (rnn_state_new (model, window ? window : 1, &state, &err) != RNN_OK) {
    fprintf (stderr, "%s\n", err.msg);
    goto out;
  }
  printf ("model %s: %s, %d layer(s) of %d, window %u; %zu values\n",
      argv[1], rnn_cell_name (rnn_model_cell (model)),
      rnn_model_num_layers (model), rnn_model_hidden_size (model), window, n);

  first = n - n / 5;
  for (size_t t = 0; t + 1 < n; t++) {
    rnn_status st;

    if (window == 0) {
      /* carried state: one frame in, the forecast of frame t + 1 out */
      st = rnn_state_forward (state, &x[t], 1, &y, &err);
    } else {
      /* a closed pass over the last `window` frames (fewer at the start);
       * the forecast is the output of the last frame */
      size_t len = t + 1 < window ? t + 1 : window;
      float out[len];

      rnn_state_reset (state);
      st = rnn_state_forward (state, &x[t + 1 - len], len, out, &err);
      y = out[len - 1];
    }
    if (st != RNN_OK) {
      fprintf (stderr, "forward: %s\n", err.msg);
      goto out;
    }
    if (t + 1 >= first) {
      mae += fabs (y - x[t + 1]);
      mae_last += fabs (x[t] - x[t + 1]);
      count++;
      if (t + 2 == n)
        printf ("last value %.2f, its forecast %.2f\n", x[t + 1], y);
    }
  }
  if (count == 0) {
    fprintf (stderr, "%s: too few rows\n", argv[2]);
    goto out;
  }
  printf ("last %zu values: mean absolute error %.3f (model), %.3f (repeat the "
      "previous value)\n", count, mae / count, mae_last / count);
  ret = 0;
out:
  rnn_state_free (state);
  rnn_model_free (model);
  free (x);
  return ret;
}
