/* gst-rnn: writing a model as safetensors with its metadata, in the
 * layout the loader (model.c) reads and PyTorch's state_dict uses.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rnn-private.h"
#include "json.h"

#include <stdio.h>
#include <string.h>

static void
append_floats_json (GString *s, const float *v, int n)
{
  g_string_append_c (s, '[');
  for (int i = 0; i < n; i++) {
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    /* %.9g round-trips every float */
    g_ascii_formatd (buf, sizeof buf, "%.9g", v[i]);
    g_string_append_printf (s, "%s%s", i ? ", " : "", buf);
  }
  g_string_append_c (s, ']');
}

static void
meta_default (GHashTable *meta, const char *key, char *value)
{
  if (value == NULL)
    return;
  if (g_hash_table_contains (meta, key))
    g_free (value);
  else
    g_hash_table_insert (meta, g_strdup (key), value);
}

static char *
floats_str (const float *v, int n)
{
  GString *s;
  if (v == NULL)
    return NULL;
  s = g_string_new (NULL);
  append_floats_json (s, v, n);
  return g_string_free (s, FALSE);
}

static bool
all_zero (const float *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (v[i] != 0.0f)
      return false;
  return true;
}

rnn_status
rnn_model_save (const rnn_model *m, const char *path, rnn_error *err)
{
  return rnn_model_save_precision (m, path, RNN_PRECISION_F32, err);
}

rnn_status
rnn_model_save_precision (const rnn_model *m, const char *path,
    rnn_precision precision, rnn_error *err)
{
  GHashTable *meta;
  GPtrArray *names, *keys, *values;
  GArray *ndims;
  GPtrArray *shapes, *datas;
  GArray *reduced;
  const char *rmod, *emod, *hmod;
  bool bias = false;
  rnn_status st;
  GHashTableIter it;
  gpointer k, v;
  int G;

  if (m == NULL || path == NULL)
    return rnn__set_error (err, RNN_ERR_ARG, "rnn_model_save: %s is NULL",
        m == NULL ? "model" : "path");
  if (m->params == NULL || m->num_layers < 1 || m->num_dirs < 1)
    return rnn__set_error (err, RNN_ERR_ARG, "%s: the model has no "
        "recurrent layers", path);
  if (precision == RNN_PRECISION_INT8)
    return rnn__set_error (err, RNN_ERR_ARG, "%s: int8 weights cannot be "
        "saved: the model file's dtypes are F32, F16, BF16 and F64 (load the "
        "f32 or bf16 file with precision int8 instead)", path);
  if (precision != RNN_PRECISION_F32 && precision != RNN_PRECISION_BF16)
    return rnn__set_error (err, RNN_ERR_ARG, "%s: unknown precision %d",
        path, (int) precision);

  /* metadata: what the trainer set in m->meta wins; typed fields fill the
   * keys it lacks; structure (cell, head input) always from the fields */
  meta = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (m->meta != NULL) {
    g_hash_table_iter_init (&it, m->meta);
    while (g_hash_table_iter_next (&it, &k, &v))
      g_hash_table_insert (meta, g_strdup (k), g_strdup (v));
  }
  if (m->cell == RNN_CELL_RNN_TANH || m->cell == RNN_CELL_RNN_RELU)
    g_hash_table_insert (meta, g_strdup ("rnn.nonlinearity"),
        g_strdup (m->cell == RNN_CELL_RNN_RELU ? "relu" : "tanh"));
  if (g_hash_table_contains (meta, "rnn.cell"))
    g_hash_table_insert (meta, g_strdup ("rnn.cell"),
        g_strdup (rnn_cell_name (m->cell)));
  g_hash_table_insert (meta, g_strdup ("head.input"),
      g_strdup (rnn__head_input_name (m->head_input)));
  if (m->task != RNN_TASK_NONE)
    meta_default (meta, "task", g_strdup (rnn_task_name (m->task)));
  meta_default (meta, "input.mean", floats_str (m->in_mean, m->input_size));
  meta_default (meta, "input.std", floats_str (m->in_std, m->input_size));
  meta_default (meta, "output.mean", floats_str (m->out_mean,
          m->output_size));
  meta_default (meta, "output.std", floats_str (m->out_std, m->output_size));
  if (m->window > 0)
    meta_default (meta, "window", g_strdup_printf ("%u", m->window));
  if (m->vocab > 0 && m->vocab_index != NULL
      && g_hash_table_size (m->vocab_index) == (guint) m->vocab) {
    const char **tok = g_new0 (const char *, m->vocab + 1);
    GString *s = g_string_new ("[");
    g_hash_table_iter_init (&it, m->vocab_index);
    while (g_hash_table_iter_next (&it, &k, &v)) {
      int id = GPOINTER_TO_INT (v) - 1;
      if (id >= 0 && id < m->vocab)
        tok[id] = k;
    }
    for (int i = 0; i < m->vocab; i++) {
      if (i)
        g_string_append (s, ", ");
      rnn__json_append_string (s, tok[i] != NULL ? tok[i] : "");
    }
    g_string_append_c (s, ']');
    meta_default (meta, "tokenizer.vocab", g_string_free (s, FALSE));
    g_free (tok);
    meta_default (meta, "tokenizer.unk_id", g_strdup_printf ("%d",
            m->unk_id));
    meta_default (meta, "tokenizer.pad_id", g_strdup_printf ("%d",
            m->pad_id));
  }

  rmod = g_hash_table_lookup (meta, "rnn.module");
  if (rmod == NULL)
    rmod = rnn__cell_module (m->cell);
  emod = g_hash_table_lookup (meta, "embedding.module");
  if (emod == NULL)
    emod = "embedding";
  hmod = g_hash_table_lookup (meta, "head.module");
  if (hmod == NULL)
    hmod = "fc";

  names = g_ptr_array_new_with_free_func (g_free);
  shapes = g_ptr_array_new_with_free_func (g_free);
  datas = g_ptr_array_new ();
  ndims = g_array_new (FALSE, FALSE, sizeof (int));
  reduced = g_array_new (FALSE, FALSE, sizeof (bool));

  /* a recurrent weight (W_hh, W_hr): held in the reduced precision, as
   * rnn_model_set_precision holds them and nothing else */
#define ADD_RECURRENT(nm, nd, d0, d1, ptr) do {                         \
    ADD (nm, nd, d0, d1, ptr);                                          \
    g_array_index (reduced, bool, reduced->len - 1) =                   \
        precision == RNN_PRECISION_BF16;                                \
  } while (0)
#define ADD(nm, nd, d0, d1, ptr) do {                                   \
    int64_t *sh_ = g_new0 (int64_t, 2);                                 \
    int nd_ = (nd);                                                     \
    bool f32_ = false;                                                  \
    sh_[0] = (d0);                                                      \
    sh_[1] = (d1);                                                      \
    g_ptr_array_add (names, (nm));                                      \
    g_ptr_array_add (shapes, sh_);                                      \
    g_ptr_array_add (datas, (gpointer) (ptr));                          \
    g_array_append_val (ndims, nd_);                                    \
    g_array_append_val (reduced, f32_);                                 \
  } while (0)

  /* a bias-free network (every bias exactly zero) is saved without biases,
   * as PyTorch's bias=False module expects */
  G = m->gates;
  for (int i = 0; i < m->num_layers * m->num_dirs; i++)
    if (!all_zero (m->params[i].b_ih, (size_t) G * m->hidden)
        || !all_zero (m->params[i].b_hh, (size_t) G * m->hidden))
      bias = true;
  for (int kk = 0; kk < m->num_layers; kk++) {
    for (int d = 0; d < m->num_dirs; d++) {
      const rnn_dir_params *p = &m->params[kk * m->num_dirs + d];
      const char *sfx = d ? "_reverse" : "";
      char leaf[80];
      snprintf (leaf, sizeof leaf, "weight_ih_l%d%s", kk, sfx);
      ADD (rnn__tensor_name (rmod, leaf), 2, (int64_t) G * m->hidden, p->in, p->w_ih);
      snprintf (leaf, sizeof leaf, "weight_hh_l%d%s", kk, sfx);
      ADD_RECURRENT (rnn__tensor_name (rmod, leaf), 2, (int64_t) G * m->hidden, m->hout, p->w_hh);
      if (bias) {
        snprintf (leaf, sizeof leaf, "bias_ih_l%d%s", kk, sfx);
        ADD (rnn__tensor_name (rmod, leaf), 1, (int64_t) G * m->hidden, 0, p->b_ih);
        snprintf (leaf, sizeof leaf, "bias_hh_l%d%s", kk, sfx);
        ADD (rnn__tensor_name (rmod, leaf), 1, (int64_t) G * m->hidden, 0, p->b_hh);
      }
      if (m->proj > 0) {
        snprintf (leaf, sizeof leaf, "weight_hr_l%d%s", kk, sfx);
        ADD_RECURRENT (rnn__tensor_name (rmod, leaf), 2, m->proj, m->hidden, p->w_hr);
      }
    }
  }
  if (m->emb != NULL)
    ADD (rnn__tensor_name (emod, "weight"), 2, m->vocab, m->input_size, m->emb);
  if (m->head_w != NULL) {
    ADD (rnn__tensor_name (hmod, "weight"), 2, m->head_out, m->head_in, m->head_w);
    if (m->head_b != NULL && !all_zero (m->head_b, (size_t) m->head_out))
      ADD (rnn__tensor_name (hmod, "bias"), 1, m->head_out, 0, m->head_b);
  }
#undef ADD
#undef ADD_RECURRENT

  keys = g_ptr_array_new ();
  values = g_ptr_array_new ();
  g_hash_table_iter_init (&it, meta);
  while (g_hash_table_iter_next (&it, &k, &v)) {
    g_ptr_array_add (keys, k);
    g_ptr_array_add (values, v);
  }
  st = rnn__tensors_write (path, names->len,
      (const char *const *) names->pdata, (const int *) (void *) ndims->data,
      (const int64_t *const *) shapes->pdata,
      (const float *const *) datas->pdata,
      (const bool *) (void *) reduced->data, keys->len,
      (const char *const *) keys->pdata, (const char *const *) values->pdata,
      err);

  g_ptr_array_free (keys, TRUE);
  g_ptr_array_free (values, TRUE);
  g_ptr_array_free (names, TRUE);
  g_ptr_array_free (shapes, TRUE);
  g_ptr_array_free (datas, TRUE);
  g_array_free (ndims, TRUE);
  g_array_free (reduced, TRUE);
  g_hash_table_destroy (meta);
  return st;
}
