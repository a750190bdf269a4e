/* gst-rnn: fuzz target for the safetensors reader and the model loader.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The input is a whole model file. Whatever the bytes, parsing must either
 * fail with a message or give tensors and a model that can be queried and
 * run: every accessor is read, a state is made and a few frames (or token
 * ids) go through it, so a loader that accepts an inconsistent file shows up
 * as an out-of-bounds access under AddressSanitizer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include "rnn.h"
#include "fuzz-common.h"

/* Touch every float so a data pointer into freed or short memory is
 * caught; the sum is returned so the loop is not optimised away. */
static double
sum_floats (const float *p, size_t n)
{
  double s = 0.0;
  size_t i;

  for (i = 0; i < n; i++)
    s += p[i];
  return s;
}

static volatile double sink;

static void
exercise_model (const rnn_model *m)
{
  rnn_state *st = NULL;
  rnn_error err;
  int in = rnn_model_input_size (m), out = rnn_model_output_size (m);
  int i, n_labels;
  size_t frames = 3, ny, n_state;
  float *x, *y, *snap;
  double s = 0.0;

  s += rnn_model_num_layers (m) + rnn_model_num_directions (m) +
      rnn_model_hidden_size (m) + rnn_model_proj_size (m) +
      rnn_model_vocab_size (m) + rnn_model_window (m) +
      rnn_model_has_head (m) + rnn_model_anomaly_threshold (m);
  (void) rnn_cell_name (rnn_model_cell (m));
  (void) rnn_task_name (rnn_model_task (m));
  (void) strlen (rnn_model_name (m));
  n_labels = rnn_model_num_labels (m);
  for (i = 0; i < n_labels; i++)
    s += strlen (rnn_model_label (m, i));
  if (out > 0) {
    s += sum_floats (rnn_model_anomaly_error_mean (m), (size_t) out);
    s += sum_floats (rnn_model_anomaly_error_std (m), (size_t) out);
  }
  if (in <= 0 || out <= 0)
    goto done;

  if (rnn_state_new (m, 2, &st, &err) != RNN_OK)
    goto done;

  /* rnn_state_forward writes frames * out values for head input `output`,
   * out values otherwise */
  ny = frames * (size_t) out;
  y = calloc (ny, sizeof (float));
  n_state = rnn_state_size (st);
  snap = calloc (n_state ? n_state : 1, sizeof (float));
  if (rnn_model_vocab_size (m) > 0) {
    int32_t ids[3];
    int v = rnn_model_vocab_size (m);

    for (i = 0; i < 3; i++)
      ids[i] = (int32_t) ((i * 7 + 1) % v);
    (void) rnn_state_forward_ids (st, ids, 3, y, &err);
    /* out of range ids must be refused, not read */
    ids[1] = v;
    (void) rnn_state_forward_ids (st, ids, 3, y, &err);
    /* a text model must refuse signal input */
    x = calloc (frames * (size_t) in, sizeof (float));
    (void) rnn_state_forward (st, x, frames, y, &err);
    free (x);
  } else {
    x = malloc (frames * (size_t) in * sizeof (float));
    for (i = 0; i < (int) frames * in; i++)
      x[i] = (float) ((i % 5) - 2) * 0.5f;
    rnn_model_normalize_input (m, x, x, frames);
    (void) rnn_state_forward (st, x, frames, y, &err);
    rnn_model_denormalize_output (m, y, y, 1);
    free (x);
  }
  if (rnn_state_get (st, snap, n_state, &err) == RNN_OK)
    (void) rnn_state_set (st, snap, n_state, &err);
  rnn_state_reset (st);
  s += sum_floats (y, ny);
  free (snap);
  free (y);
  rnn_state_free (st);
done:
  sink = s;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  rnn_tensors *t = NULL;
  rnn_model *m = NULL;
  rnn_error err;
  size_t i, n;
  double s = 0.0;

  if (rnn_tensors_parse (data, size, "fuzz.safetensors", &t, &err) != RNN_OK) {
    /* a failure must come with a message */
    if (err.msg[0] == '\0')
      abort ();
    return 0;
  }

  n = rnn_tensors_count (t);
  for (i = 0; i < n; i++) {
    const rnn_tensor *r = rnn_tensors_get (t, i);

    s += strlen (r->name) + strlen (r->dtype) + r->ndim;
    if (rnn_tensors_find (t, r->name) == NULL)
      abort ();
    if (r->data)
      s += sum_floats (r->data, r->numel);
  }
  if (rnn_tensors_get (t, n) != NULL)
    abort ();
  n = rnn_tensors_meta_count (t);
  for (i = 0; i < n; i++) {
    const char *k, *v;

    if (rnn_tensors_meta_at (t, i, &k, &v))
      s += strlen (k) + strlen (v) + (rnn_tensors_meta (t, k) != NULL);
  }
  sink = s;

  if (rnn_model_from_tensors (t, "fuzz.safetensors", &m, &err) == RNN_OK)
    exercise_model (m);
  else if (err.msg[0] == '\0')
    abort ();
  rnn_model_free (m);
  rnn_tensors_free (t);
  return 0;
}
