/* Tests of the model loader: structure inferred from real PyTorch
 * state_dict()s (tests/fixtures/models/, written by gen_models.py, which also
 * writes expected.txt from the PyTorch modules' own attributes), parameters
 * copied exactly, metadata, save/load round trips, and every model-level
 * rejection (tests/fixtures/bad/, written by gen_bad_models.py with the
 * words each message must contain in bad/models.txt).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "testutil.h"
#include "rnn-private.h"
#include "kernels.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int
same_floats (const float *a, const float *b, size_t n)
{
  if (a == NULL || b == NULL)
    return a == b;
  return memcmp (a, b, n * sizeof (float)) == 0;
}

/* The loaded parameters equal the file's tensors, name by name. */
static int
params_match_file (const rnn_model *m, const rnn_tensors *t,
    const char *prefix)
{
  int G = m->gates, H = m->hidden;
  for (int k = 0; k < m->num_layers; k++) {
    for (int d = 0; d < m->num_dirs; d++) {
      const rnn_dir_params *p = &m->params[k * m->num_dirs + d];
      const char *sfx = d ? "_reverse" : "";
      char n[128];
      const rnn_tensor *r;
#define PN(leaf) (snprintf (n, sizeof n, "%s%s" leaf "_l%d%s", prefix, \
          prefix[0] ? "." : "", k, sfx), n)
      r = rnn_tensors_find (t, PN ("weight_ih"));
      if (r == NULL || !same_floats (p->w_ih, r->data, r->numel))
        return 0;
      r = rnn_tensors_find (t, PN ("weight_hh"));
      if (r == NULL || !same_floats (p->w_hh, r->data, r->numel))
        return 0;
      r = rnn_tensors_find (t, PN ("bias_ih"));
      if (r != NULL ? !same_floats (p->b_ih, r->data, r->numel)
          : !(p->b_ih != NULL && p->b_ih[0] == 0.0f
              && p->b_ih[G * H - 1] == 0.0f))
        return 0;
      r = rnn_tensors_find (t, PN ("bias_hh"));
      if (r != NULL ? !same_floats (p->b_hh, r->data, r->numel)
          : !(p->b_hh != NULL && p->b_hh[G * H - 1] == 0.0f))
        return 0;
      r = rnn_tensors_find (t, PN ("weight_hr"));
      if (r != NULL ? !same_floats (p->w_hr, r->data, r->numel)
          : p->w_hr != NULL)
        return 0;
#undef PN
    }
  }
  return 1;
}

static int
models_equal (const rnn_model *a, const rnn_model *b)
{
  int G = a->gates, H = a->hidden;
  GHashTableIter it;
  gpointer k, v;

  if (a->cell != b->cell || a->task != b->task || a->num_layers
      != b->num_layers || a->num_dirs != b->num_dirs || a->hidden
      != b->hidden || a->proj != b->proj || a->input_size != b->input_size
      || a->output_size != b->output_size || a->head_input != b->head_input
      || a->vocab != b->vocab || a->window != b->window
      || a->head_out != b->head_out || a->num_labels != b->num_labels
      || a->unk_id != b->unk_id || a->pad_id != b->pad_id
      || a->anom_threshold != b->anom_threshold)
    return 0;
  for (int i = 0; i < a->num_layers * a->num_dirs; i++) {
    const rnn_dir_params *p = &a->params[i], *q = &b->params[i];
    if (p->in != q->in
        || !same_floats (p->w_ih, q->w_ih, (size_t) G * H * p->in)
        || !same_floats (p->w_hh, q->w_hh, (size_t) G * H * a->hout)
        || !same_floats (p->b_ih, q->b_ih, (size_t) G * H)
        || !same_floats (p->b_hh, q->b_hh, (size_t) G * H)
        || !same_floats (p->w_hr, q->w_hr, (size_t) a->proj * H))
      return 0;
  }
  if (!same_floats (a->emb, b->emb, (size_t) a->vocab * a->input_size)
      || !same_floats (a->head_w, b->head_w, (size_t) a->head_out * a->head_in)
      || !same_floats (a->head_b, b->head_b, (size_t) a->head_out)
      || !same_floats (a->in_mean, b->in_mean, a->input_size)
      || !same_floats (a->in_std, b->in_std, a->input_size)
      || !same_floats (a->out_mean, b->out_mean, a->output_size)
      || !same_floats (a->out_std, b->out_std, a->output_size)
      || !same_floats (a->anom_mean, b->anom_mean, a->output_size)
      || !same_floats (a->anom_std, b->anom_std, a->output_size))
    return 0;
  for (int i = 0; i < a->num_labels; i++)
    if (strcmp (a->labels[i], b->labels[i]) != 0)
      return 0;
  if (g_hash_table_size (a->vocab_index) != g_hash_table_size (b->vocab_index))
    return 0;
  g_hash_table_iter_init (&it, a->vocab_index);
  while (g_hash_table_iter_next (&it, &k, &v))
    if (g_hash_table_lookup (b->vocab_index, k) != v)
      return 0;
  /* every metadata key of a is in b with the same value */
  g_hash_table_iter_init (&it, a->meta);
  while (g_hash_table_iter_next (&it, &k, &v)) {
    const char *w = g_hash_table_lookup (b->meta, k);
    if (w == NULL || strcmp (w, v) != 0)
      return 0;
  }
  return 1;
}

/* Same tensor names, shapes and (converted) values in both files. */
/* @bf16_path is @f32_path saved with rnn_model_save_precision (BF16): the
 * recurrent weights (weight_hh*, weight_hr*) are BF16 holding the float32
 * values rounded to nearest even, everything else the same F32 bytes. */
static int
bf16_file_matches (const char *f32_path, const char *bf16_path,
    int *n_reduced)
{
  rnn_tensors *a = NULL, *b = NULL;
  int ok = rnn_tensors_load (f32_path, &a, NULL) == RNN_OK
      && rnn_tensors_load (bf16_path, &b, NULL) == RNN_OK
      && rnn_tensors_count (a) == rnn_tensors_count (b);

  *n_reduced = 0;
  for (size_t i = 0; ok && i < rnn_tensors_count (a); i++) {
    const rnn_tensor *x = rnn_tensors_get (a, i);
    const rnn_tensor *y = rnn_tensors_find (b, x->name);
    const char *leaf;
    int low;

    ok = y != NULL && y->numel == x->numel;
    if (!ok)
      break;
    leaf = strrchr (x->name, '.');
    leaf = leaf != NULL ? leaf + 1 : x->name;
    low = g_str_has_prefix (leaf, "weight_hh_l")
        || g_str_has_prefix (leaf, "weight_hr_l");
    ok = strcmp (y->dtype, low ? "BF16" : "F32") == 0;
    for (size_t j = 0; ok && j < x->numel; j++) {
      float r = low ? rnn__f32_from_bf16 (rnn__bf16_from_f32 (x->data[j]))
          : x->data[j];
      ok = memcmp (&r, &y->data[j], sizeof r) == 0;
    }
    *n_reduced += low;
  }
  rnn_tensors_free (a);
  rnn_tensors_free (b);
  return ok;
}

/* Both models at precision bf16 on the same 20 frames of a signal: the same
 * output bytes. @a is switched back to f32. */
static int
same_bf16_outputs (rnn_model *a, rnn_model *b)
{
  enum { T = 20 };
  int in = rnn_model_input_size (a), out = rnn_model_output_size (a);
  float *x = g_new (float, (size_t) T * (size_t) in);
  float *ya = g_new0 (float, (size_t) T * (size_t) out);
  float *yb = g_new0 (float, (size_t) T * (size_t) out);
  rnn_state *sa = NULL, *sb = NULL;
  int ok;

  for (int i = 0; i < T * in; i++)
    x[i] = sinf (0.37f * (float) i);
  ok = rnn_model_set_precision (a, RNN_PRECISION_BF16, NULL) == RNN_OK
      && rnn_model_set_precision (b, RNN_PRECISION_BF16, NULL) == RNN_OK
      && rnn_state_new (a, T, &sa, NULL) == RNN_OK
      && rnn_state_new (b, T, &sb, NULL) == RNN_OK
      && rnn_state_forward (sa, x, T, ya, NULL) == RNN_OK
      && rnn_state_forward (sb, x, T, yb, NULL) == RNN_OK
      && memcmp (ya, yb, sizeof (float) * (size_t) T * (size_t) out) == 0;
  rnn_state_free (sa);
  rnn_state_free (sb);
  rnn_model_set_precision (a, RNN_PRECISION_F32, NULL);
  g_free (x);
  g_free (ya);
  g_free (yb);
  return ok;
}

static int
same_tensors (const char *a_path, const char *b_path)
{
  rnn_tensors *a = NULL, *b = NULL;
  int ok = rnn_tensors_load (a_path, &a, NULL) == RNN_OK
      && rnn_tensors_load (b_path, &b, NULL) == RNN_OK
      && rnn_tensors_count (a) == rnn_tensors_count (b);
  for (size_t i = 0; ok && i < rnn_tensors_count (a); i++) {
    const rnn_tensor *x = rnn_tensors_get (a, i);
    const rnn_tensor *y = rnn_tensors_find (b, x->name);
    ok = y != NULL && y->ndim == x->ndim && y->numel == x->numel
        && memcmp (x->shape, y->shape, sizeof (int64_t) * x->ndim) == 0
        && same_floats (x->data, y->data, x->numel)
        && strcmp (y->dtype, "F32") == 0;
  }
  rnn_tensors_free (a);
  rnn_tensors_free (b);
  return ok;
}

static void
test_good_models (const char *tmpdir)
{
  char *text = NULL;
  char **lines;
  int n_models = 0;

  if (!g_file_get_contents (tu_fixture ("models/expected.txt"), &text, NULL,
          NULL)) {
    tu_check (0, "read models/expected.txt");
    return;
  }
  lines = g_strsplit (text, "\n", -1);
  for (int li = 0; lines[li] != NULL; li++) {
    char name[64], cell[16], head[32], first_label[64], task[16];
    int layers, dirs, hidden, proj, input, output, vocab, has_head, window,
        nlabels;
    char file[128], *path, *saved, *saved2;
    rnn_model *m = NULL, *m2 = NULL;
    rnn_tensors *t = NULL;
    rnn_error err = { 0 };
    rnn_status st;
    int exp_labels;

    if (lines[li][0] == '#' || lines[li][0] == '\0')
      continue;
    if (sscanf (lines[li], "%63s %15s %d %d %d %d %d %d %31s %d %d %d %d "
            "%63s %15s", name, cell, &layers, &dirs, &hidden, &proj, &input,
            &output, head, &vocab, &has_head, &window, &nlabels, first_label,
            task) != 15) {
      tu_check (0, "parse expected.txt line %d", li + 1);
      continue;
    }
    n_models++;
    snprintf (file, sizeof file, "models/%s.safetensors", name);
    path = g_strdup (tu_fixture (file));
    st = rnn_model_load (path, &m, &err);
    tu_check (st == RNN_OK && m != NULL, "%s: loads (%s)", name,
        st == RNN_OK ? "ok" : err.msg);
    if (m == NULL) {
      g_free (path);
      continue;
    }
    tu_check (strcmp (rnn_cell_name (rnn_model_cell (m)), cell) == 0,
        "%s: cell %s (got %s)", name, cell,
        rnn_cell_name (rnn_model_cell (m)));
    tu_check (rnn_model_num_layers (m) == layers, "%s: %d layers (got %d)",
        name, layers, rnn_model_num_layers (m));
    tu_check (rnn_model_num_directions (m) == dirs,
        "%s: %d directions (got %d)", name, dirs,
        rnn_model_num_directions (m));
    tu_check (rnn_model_hidden_size (m) == hidden, "%s: hidden %d (got %d)",
        name, hidden, rnn_model_hidden_size (m));
    tu_check (rnn_model_proj_size (m) == proj, "%s: proj %d (got %d)", name,
        proj, rnn_model_proj_size (m));
    tu_check (rnn_model_input_size (m) == input, "%s: input size %d (got %d)",
        name, input, rnn_model_input_size (m));
    tu_check (rnn_model_output_size (m) == output,
        "%s: output size %d (got %d)", name, output,
        rnn_model_output_size (m));
    tu_check (rnn_model_head_input (m) == (strcmp (head, "output") == 0
            ? RNN_HEAD_OUTPUT : strcmp (head, "final_hidden") == 0
            ? RNN_HEAD_FINAL_HIDDEN : strcmp (head, "mean") == 0
            ? RNN_HEAD_MEAN : RNN_HEAD_FINAL_HIDDEN_BOTH),
        "%s: head input %s", name, head);
    tu_check (rnn_model_vocab_size (m) == vocab, "%s: vocab %d (got %d)",
        name, vocab, rnn_model_vocab_size (m));
    tu_check (rnn_model_has_head (m) == (has_head != 0), "%s: has head %d",
        name, has_head);
    tu_check (rnn_model_window (m) == (unsigned) window,
        "%s: window %d (got %u)", name, window, rnn_model_window (m));
    tu_check (strcmp (rnn_task_name (rnn_model_task (m)), task) == 0,
        "%s: task %s (got %s)", name, task,
        rnn_task_name (rnn_model_task (m)));
    exp_labels = nlabels > 0 ? nlabels : (strcmp (task, "classify") == 0
        && output == 1 ? 2 : output);
    tu_check (rnn_model_num_labels (m) == exp_labels,
        "%s: %d labels (got %d)", name, exp_labels, rnn_model_num_labels (m));
    if (nlabels > 0)
      tu_check (rnn_model_label (m, 0) != NULL
          && strcmp (rnn_model_label (m, 0), first_label) == 0,
          "%s: first label '%s'", name, first_label);
    else
      tu_check (rnn_model_label (m, 0) != NULL
          && strcmp (rnn_model_label (m, 0), "class0") == 0
          && rnn_model_label (m, exp_labels) == NULL,
          "%s: default labels class0..", name);
    tu_check (strcmp (rnn_model_name (m), path) == 0, "%s: name is the path",
        name);
    if (vocab > 0)
      tu_check (g_hash_table_size (m->vocab_index) == (guint) vocab
          && GPOINTER_TO_INT (g_hash_table_lookup (m->vocab_index, "<unk>"))
          == 2 && GPOINTER_TO_INT (g_hash_table_lookup (m->vocab_index,
                  "w0")) == 3 && m->unk_id == 1 && m->pad_id == 0,
          "%s: vocab_index maps token -> id+1, unk 1, pad 0", name);

    /* parameters are the file's tensors */
    if (rnn_tensors_load (path, &t, &err) == RNN_OK) {
      const char *pfx = rnn_model_meta (m, "rnn.module");
      if (pfx == NULL)
        pfx = strcmp (name, "rnn_bare") == 0 ? "" : m->cell == RNN_CELL_LSTM
            ? "lstm" : m->cell == RNN_CELL_GRU ? "gru" : "rnn";
      tu_check (params_match_file (m, t, pfx),
          "%s: recurrent parameters equal the file's tensors", name);
      if (has_head) {
        const rnn_tensor *w = rnn_tensors_find (t,
            rnn_model_meta (m, "head.module") ? "classifier.weight"
            : "fc.weight");
        tu_check (w != NULL && same_floats (m->head_w, w->data, w->numel)
            && m->head_in * m->head_out == (int) w->numel,
            "%s: head weights equal the file's", name);
      }
    } else {
      tu_check (0, "%s: the file's tensors load: %s", name, err.msg);
    }
    rnn_tensors_free (t);

    /* save, reload: same model; saving twice gives the same bytes */
    saved = g_build_filename (tmpdir, "a.safetensors", NULL);
    saved2 = g_build_filename (tmpdir, "b.safetensors", NULL);
    st = rnn_model_save (m, saved, &err);
    tu_check (st == RNN_OK, "%s: saves (%s)", name,
        st == RNN_OK ? "ok" : err.msg);
    tu_check (st == RNN_OK && same_tensors (path, saved),
        "%s: the saved file has the original state_dict names, shapes and "
        "values (PyTorch loads it strictly)", name);
    st = rnn_model_load (saved, &m2, &err);
    tu_check (st == RNN_OK && models_equal (m, m2),
        "%s: saved then loaded gives identical parameters and metadata (%s)",
        name, st == RNN_OK ? "ok" : err.msg);
    if (m2 != NULL) {
      gsize l1 = 0, l2 = 0;
      char *d1, *d2;
      rnn_model_save (m2, saved2, NULL);
      d1 = tu_read_all (saved, &l1);
      d2 = tu_read_all (saved2, &l2);
      tu_check (d1 != NULL && d2 != NULL && l1 == l2
          && memcmp (d1, d2, l1) == 0,
          "%s: a re-saved model has the same bytes (%zu)", name,
          (size_t) l1);
      g_free (d1);
      g_free (d2);
    }
    rnn_model_free (m2);
    m2 = NULL;

    /* the recurrent weights in bf16: a smaller file that holds exactly what
     * precision=bf16 computes with, so at that precision its outputs equal
     * the f32 file's (rnn_model_set_precision's rounding is idempotent) */
    st = rnn_model_save_precision (m, saved2, RNN_PRECISION_BF16, &err);
    tu_check (st == RNN_OK, "%s: saves with bf16 recurrent weights (%s)",
        name, st == RNN_OK ? "ok" : err.msg);
    if (st == RNN_OK) {
      int n_low = 0;
      gsize l1 = 0, l2 = 0;
      char *d1 = tu_read_all (saved, &l1), *d2 = tu_read_all (saved2, &l2);
      int same = bf16_file_matches (saved, saved2, &n_low);
      tu_check (same && n_low == layers * dirs * (proj > 0 ? 2 : 1),
          "%s: the bf16 file holds %d recurrent weights as rounded BF16 and "
          "every other tensor unchanged", name, n_low);
      tu_check (d1 != NULL && d2 != NULL && l2 < l1,
          "%s: the bf16 file is smaller (%zu < %zu bytes)", name,
          (size_t) l2, (size_t) l1);
      g_free (d1);
      g_free (d2);
      st = rnn_model_load (saved2, &m2, &err);
      tu_check (st == RNN_OK, "%s: the bf16 file loads (%s)", name,
          st == RNN_OK ? "ok" : err.msg);
      if (m2 != NULL && rnn_model_input_size (m) > 0
          && rnn_model_vocab_size (m) == 0) {
        tu_check (same_bf16_outputs (m, m2), "%s: at precision bf16 the "
            "bf16 file gives the f32 file's outputs bit for bit", name);
      }
    }
    st = rnn_model_save_precision (m, saved2, RNN_PRECISION_INT8, &err);
    tu_check (st == RNN_ERR_ARG && strstr (err.msg, "int8") != NULL,
        "%s: int8 weights are refused with a reason: %s", name, err.msg);
    rnn_model_free (m2);
    g_unlink (saved);
    g_unlink (saved2);
    g_free (saved);
    g_free (saved2);
    rnn_model_free (m);
    g_free (path);
  }
  tu_check (n_models >= 14, "expected.txt lists %d models", n_models);
  g_strfreev (lines);
  g_free (text);
}

static void
test_metadata_values (void)
{
  rnn_model *m = NULL;
  rnn_error err = { 0 };
  float x[3] = { 1e-05f, 10.0f, -5.0f }, y[3], z[3];

  /* forecaster: input.mean [1e-05] (json.dumps notation), std [2.5],
   * output mean 10.5 std 2.50001 */
  if (rnn_model_load (tu_fixture ("models/forecaster.safetensors"), &m,
          &err) != RNN_OK) {
    tu_check (0, "forecaster loads: %s", err.msg);
    return;
  }
  tu_check (m->in_mean != NULL && m->in_mean[0] == 1e-05f
      && m->in_std[0] == 2.5f, "input.mean [1e-05] and input.std parsed");
  rnn_model_normalize_input (m, x, y, 3);
  tu_check (y[0] == 0.0f && y[1] == (10.0f - 1e-05f) / 2.5f
      && y[2] == (-5.0f - 1e-05f) / 2.5f, "normalize_input: (x-mean)/std");
  rnn_model_denormalize_output (m, x, z, 3);
  tu_check (z[1] == 10.0f * 2.50001f + 10.5f,
      "denormalize_output: y*std+mean");
  memcpy (z, x, sizeof z);
  rnn_model_normalize_input (m, z, z, 3);
  tu_check (memcmp (z, y, sizeof z) == 0, "normalize_input in place");
  tu_check (rnn_model_anomaly_threshold (m) == 4.0
      && rnn_model_anomaly_error_mean (m)[0] == 0.0f
      && rnn_model_anomaly_error_std (m)[0] == 1.0f,
      "anomaly defaults 0, 1, 4.0");
  tu_check (rnn_model_meta (m, "window") != NULL
      && strcmp (rnn_model_meta (m, "window"), "48") == 0
      && rnn_model_meta (m, "nope") == NULL, "rnn_model_meta");
  rnn_model_free (m);

  m = NULL;
  if (rnn_model_load (tu_fixture ("models/gru_anomaly.safetensors"), &m,
          &err) != RNN_OK) {
    tu_check (0, "gru_anomaly loads: %s", err.msg);
    return;
  }
  tu_check (rnn_model_anomaly_threshold (m) == 3.5
      && rnn_model_anomaly_error_mean (m)[1] == -0.2f
      && rnn_model_anomaly_error_std (m)[2] == 2.0f,
      "anomaly statistics and threshold parsed");
  /* without statistics the normalisation copies */
  rnn_model_normalize_input (m, x, y, 1);
  tu_check (memcmp (x, y, sizeof y) == 0, "no statistics: normalize copies");
  rnn_model_free (m);

  rnn_model_free (NULL);
  tu_check (rnn_model_load (tu_fixture ("models/does-not-exist.safetensors"),
          &m, &err) == RNN_ERR_IO && m == NULL
      && strstr (err.msg, "does-not-exist.safetensors") != NULL,
      "missing file: I/O error naming it (%s)", err.msg);
}

static void
test_from_tensors (const char *tmpdir)
{
  rnn_tensors *t = NULL;
  rnn_model *m = NULL;
  rnn_error err = { 0 };
  char *data = NULL, *out;
  gsize len = 0;
  rnn_status st;
  float w0;

  /* a model built from tensors parsed in memory outlives them */
  if (!g_file_get_contents (tu_fixture ("models/classifier.safetensors"),
          &data, &len, NULL)
      || rnn_tensors_parse (data, len, "mem-model", &t, &err) != RNN_OK) {
    tu_check (0, "parse classifier in memory: %s", err.msg);
    g_free (data);
    return;
  }
  w0 = rnn_tensors_find (t, "lstm.weight_ih_l0")->data[0];
  st = rnn_model_from_tensors (t, "mem-model", &m, &err);
  rnn_tensors_free (t);
  g_free (data);
  tu_check (st == RNN_OK && strcmp (rnn_model_name (m), "mem-model") == 0
      && m->params[0].w_ih[0] == w0 && rnn_model_vocab_size (m) == 20,
      "rnn_model_from_tensors: model outlives the freed tensors");
  st = rnn_model_save (m, "/nonexistent/dir/m.safetensors", &err);
  tu_check (st == RNN_ERR_IO && strstr (err.msg, "/nonexistent/dir") != NULL,
      "rnn_model_save to an unwritable path: %s", err.msg);
  /* a trainer-style change: metadata set in m->meta is what gets saved */
  g_hash_table_insert (m->meta, g_strdup ("window"), g_strdup ("12"));
  out = g_build_filename (tmpdir, "meta.safetensors", NULL);
  st = rnn_model_save (m, out, &err);
  rnn_model_free (m);
  m = NULL;
  if (st == RNN_OK)
    st = rnn_model_load (out, &m, &err);
  tu_check (st == RNN_OK && rnn_model_window (m) == 12,
      "metadata changed in m->meta is saved and parsed back (window 12)");
  rnn_model_free (m);
  g_unlink (out);
  g_free (out);

  /* the name given is in messages */
  data = NULL;
  g_file_get_contents (tu_fixture ("bad/head_cols.safetensors"), &data, &len,
      NULL);
  t = NULL;
  m = (rnn_model *) 1;
  st = data != NULL ? rnn_tensors_parse (data, len, "given-name", &t, &err)
      : RNN_ERR_IO;
  if (st == RNN_OK)
    st = rnn_model_from_tensors (t, "given-name", &m, &err);
  tu_check (st == RNN_ERR_MODEL && m == NULL
      && strncmp (err.msg, "given-name: ", 12) == 0,
      "rnn_model_from_tensors names the given name: %s", err.msg);
  rnn_tensors_free (t);
  g_free (data);
}

static void
test_bad_models (void)
{
  char *text = NULL;
  char **lines;
  int n = 0;

  if (!g_file_get_contents (tu_fixture ("bad/models.txt"), &text, NULL,
          NULL)) {
    tu_check (0, "read bad/models.txt");
    return;
  }
  lines = g_strsplit (text, "\n", -1);
  for (int li = 0; lines[li] != NULL; li++) {
    char **f;
    char file[160];
    rnn_model *m = (rnn_model *) 1;
    rnn_error err = { 0 };
    rnn_status st;
    int ok;

    if (lines[li][0] == '#' || lines[li][0] == '\0')
      continue;
    f = g_strsplit (lines[li], "\t", -1);
    if (g_strv_length (f) < 2) {
      tu_check (0, "bad/models.txt line %d", li + 1);
      g_strfreev (f);
      continue;
    }
    n++;
    snprintf (file, sizeof file, "bad/%s", f[0]);
    st = rnn_model_load (tu_fixture (file), &m, &err);
    ok = st != RNN_OK && m == NULL && err.code == st
        && strstr (err.msg, f[0]) != NULL;
    for (int i = 1; f[i] != NULL; i++)
      if (f[i][0] && strstr (err.msg, f[i]) == NULL)
        ok = 0;
    tu_check (ok, "refused %s [%s]: %s", f[0], rnn_status_str (st), err.msg);
    g_strfreev (f);
  }
  tu_check (n >= 20, "bad/models.txt lists %d models", n);
  g_strfreev (lines);
  g_free (text);
}

int
main (void)
{
  char *tmpdir = g_dir_make_tmp ("test-model-XXXXXX", NULL);

  test_good_models (tmpdir);
  test_metadata_values ();
  test_from_tensors (tmpdir);
  test_bad_models ();
  g_rmdir (tmpdir);
  g_free (tmpdir);
  return tu_finish ();
}
