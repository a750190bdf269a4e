/* gst-rnn: model creation with PyTorch's default initialisation, and
 * metadata set on a model.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rnn-private.h"
#include "rng.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------ model new */

void
rnn_model_config_init (rnn_model_config *cfg)
{
  memset (cfg, 0, sizeof *cfg);
  cfg->cell = RNN_CELL_LSTM;
  cfg->input_size = 1;
  cfg->padding_idx = -1;
  cfg->hidden_size = 64;
  cfg->num_layers = 1;
  cfg->head_out = 1;
  cfg->head_input = RNN_HEAD_OUTPUT;
  cfg->task = RNN_TASK_NONE;
}

static int
cell_gates (rnn_cell c)
{
  return c == RNN_CELL_LSTM ? 4 : c == RNN_CELL_GRU ? 3 : 1;
}

static void
meta_set (rnn_model *m, const char *key, const char *value)
{
  if (value)
    g_hash_table_replace (m->meta, g_strdup (key), g_strdup (value));
  else
    g_hash_table_remove (m->meta, key);
}

rnn_status
rnn_model_new (const rnn_model_config *cfg, uint64_t seed, rnn_model **out,
    rnn_error *err)
{
  rnn_model *m;
  rng_t rng;
  int H, D, L, G, NI;

  if (out == NULL || cfg == NULL)
    return rnn__set_error (err, RNN_ERR_ARG, "rnn_model_new: NULL argument");
  *out = NULL;
  H = cfg->hidden_size;
  L = cfg->num_layers;
  D = cfg->bidirectional ? 2 : 1;
  NI = cfg->vocab_size > 0 ? cfg->embed_dim : cfg->input_size;
  if (cfg->cell < RNN_CELL_RNN_TANH || cfg->cell > RNN_CELL_GRU)
    return rnn__set_error (err, RNN_ERR_ARG, "rnn_model_new: unknown cell %d",
        (int) cfg->cell);
  if (cfg->proj_size != 0)
    return rnn__set_error (err, RNN_ERR_UNSUPPORTED,
        "rnn_model_new: proj_size %d: LSTM projection trains only in PyTorch",
        cfg->proj_size);
  if (H < 1 || L < 1 || NI < 1 || cfg->head_out < 0 || cfg->vocab_size < 0)
    return rnn__set_error (err, RNN_ERR_ARG,
        "rnn_model_new: sizes must be positive (hidden %d, layers %d, "
        "%s %d, head outputs %d)", H, L,
        cfg->vocab_size > 0 ? "embedding dim" : "input size", NI,
        cfg->head_out);
  if (cfg->vocab_size > 0 && cfg->padding_idx >= cfg->vocab_size)
    return rnn__set_error (err, RNN_ERR_ARG,
        "rnn_model_new: padding_idx %d outside the vocabulary of %d",
        cfg->padding_idx, cfg->vocab_size);
  if (cfg->head_input < RNN_HEAD_OUTPUT || cfg->head_input > RNN_HEAD_MEAN)
    return rnn__set_error (err, RNN_ERR_ARG,
        "rnn_model_new: unknown head input %d", (int) cfg->head_input);
  if (cfg->head_input == RNN_HEAD_FINAL_HIDDEN_BOTH && L * D < 2)
    return rnn__set_error (err, RNN_ERR_ARG,
        "rnn_model_new: head input final_hidden_both needs two final states "
        "(bidirectional or 2 layers), the network has %d", L * D);

  G = cell_gates (cfg->cell);
  {
    /* every parameter count, in double so nothing overflows */
    double hin = cfg->head_input == RNN_HEAD_FINAL_HIDDEN ? H
        : cfg->head_input == RNN_HEAD_FINAL_HIDDEN_BOTH ? 2.0 * H
        : (double) D * H;
    double total = (double) cfg->vocab_size * NI
        + (double) D * G * H * ((double) NI + H + 2)
        + (double) (L - 1) * D * G * H * ((double) D * H + H + 2)
        + (double) cfg->head_out * (hin + 1);
    if (total > 1073741824.0)
      return rnn__set_error (err, RNN_ERR_ARG,
          "rnn_model_new: %.3g parameters is more than the 2^30 supported",
          total);
  }
  rng_seed (&rng, seed);
  m = g_new0 (rnn_model, 1);
  m->name = g_strdup ("(new model)");
  m->cell = cfg->cell;
  m->task = cfg->task;
  m->gates = G;
  m->num_layers = L;
  m->num_dirs = D;
  m->hidden = H;
  m->proj = 0;
  m->hout = H;
  m->input_size = NI;
  m->meta = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  m->unk_id = 1;
  m->pad_id = 0;
  m->anom_threshold = 4.0;

  /* Embedding first, then the stack, then the head: the state_dict order of
   * the tutorial's modules. */
  if (cfg->vocab_size > 0) {
    size_t n = (size_t) cfg->vocab_size * NI;
    m->vocab = cfg->vocab_size;
    m->emb = g_try_new (float, n);
    if (m->emb == NULL)
      goto nomem;
    for (size_t i = 0; i < n; i++)
      m->emb[i] = (float) rng_normal (&rng);
    if (cfg->padding_idx >= 0) {
      memset (m->emb + (size_t) cfg->padding_idx * NI, 0, NI * sizeof (float));
      m->pad_id = cfg->padding_idx;
    }
  }

  m->params = g_new0 (rnn_dir_params, L * D);
  for (int l = 0; l < L; l++) {
    for (int d = 0; d < D; d++) {
      rnn_dir_params *p = &m->params[l * D + d];
      double k = 1.0 / sqrt ((double) H);
      p->in = l == 0 ? NI : D * H;
      p->w_ih = g_try_new (float, (size_t) G * H * p->in);
      p->w_hh = g_try_new (float, (size_t) G * H * H);
      p->b_ih = g_try_new (float, (size_t) G * H);
      p->b_hh = g_try_new (float, (size_t) G * H);
      if (!p->w_ih || !p->w_hh || !p->b_ih || !p->b_hh)
        goto nomem;
      fill_uniform (&rng, p->w_ih, (size_t) G * H * p->in, k);
      fill_uniform (&rng, p->w_hh, (size_t) G * H * H, k);
      fill_uniform (&rng, p->b_ih, (size_t) G * H, k);
      fill_uniform (&rng, p->b_hh, (size_t) G * H, k);
    }
  }

  switch (cfg->head_input) {
    case RNN_HEAD_FINAL_HIDDEN: m->head_in = H; break;
    case RNN_HEAD_FINAL_HIDDEN_BOTH: m->head_in = 2 * H; break;
    default: m->head_in = D * H; break;
  }
  m->head_input = cfg->head_input;
  if (cfg->head_out > 0) {
    /* kaiming_uniform(a = sqrt 5) gives bound sqrt(6 / ((1 + 5) in)) =
     * 1/sqrt(in) for the weight, and the bias uses 1/sqrt(in) too. */
    double k = 1.0 / sqrt ((double) m->head_in);
    m->head_out = cfg->head_out;
    m->head_w = g_try_new (float, (size_t) m->head_out * m->head_in);
    m->head_b = g_try_new (float, m->head_out);
    if (!m->head_w || !m->head_b)
      goto nomem;
    fill_uniform (&rng, m->head_w, (size_t) m->head_out * m->head_in, k);
    fill_uniform (&rng, m->head_b, m->head_out, k);
    m->output_size = m->head_out;
  } else {
    m->output_size = m->head_in;
  }

  m->anom_mean = g_new0 (float, m->output_size);
  m->anom_std = g_new (float, m->output_size);
  for (int i = 0; i < m->output_size; i++)
    m->anom_std[i] = 1.0f;
  m->num_labels = m->output_size >= 2 ? m->output_size : 2;
  m->labels = g_new0 (char *, m->num_labels + 1);
  for (int i = 0; i < m->num_labels; i++)
    m->labels[i] = g_strdup_printf ("class%d", i);
  m->vocab_index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);

  if (cfg->task != RNN_TASK_NONE)
    meta_set (m, "task", rnn_task_name (cfg->task));
  meta_set (m, "head.input", rnn__head_input_name (cfg->head_input));
  if (cfg->cell == RNN_CELL_RNN_RELU)
    meta_set (m, "rnn.nonlinearity", "relu");
  if (cfg->vocab_size > 0 && cfg->padding_idx >= 0) {
    char buf[32];
    g_snprintf (buf, sizeof buf, "%d", cfg->padding_idx);
    meta_set (m, "tokenizer.pad_id", buf);
  }

  {
    rnn_status st = rnn__engine_prepare (m, err);
    if (st != RNN_OK) {
      rnn_model_free (m);
      return st;
    }
  }
  *out = m;
  return RNN_OK;

nomem:
  rnn_model_free (m);
  return rnn__set_error (err, RNN_ERR_NOMEM,
      "rnn_model_new: out of memory for the parameters");
}

rnn_status
rnn_model_set_meta (rnn_model *m, const char *key, const char *value,
    rnn_error *err)
{
  if (m == NULL || key == NULL || *key == '\0')
    return rnn__set_error (err, RNN_ERR_ARG,
        "rnn_model_set_meta: NULL model or empty key");
  if (strcmp (key, "task") == 0) {
    rnn_task t = RNN_TASK_NONE;
    if (value != NULL && !rnn__task_parse (value, &t))
      return rnn__set_error (err, RNN_ERR_ARG,
          "metadata task: expected forecast, anomaly, classify or tag, "
          "found \"%s\"", value);
    m->task = t;
  } else if (strcmp (key, "tokenizer.lowercase") == 0) {
    if (value != NULL && strcmp (value, "true") != 0
        && strcmp (value, "false") != 0)
      return rnn__set_error (err, RNN_ERR_ARG,
          "metadata tokenizer.lowercase: expected true or false, found "
          "\"%s\"", value);
    m->keep_case = value != NULL && strcmp (value, "false") == 0;
  } else if (strcmp (key, "tokenizer.vocab") == 0) {
    rnn_status st;
    if (m->vocab == 0)
      return rnn__set_error (err, RNN_ERR_ARG,
          "metadata tokenizer.vocab: the model has no embedding");
    if ((st = rnn__vocab_set (m, value, "rnn_model_set_meta", err)) != RNN_OK)
      return st;
  } else if (strcmp (key, "tokenizer.unk_id") == 0
      || strcmp (key, "tokenizer.pad_id") == 0) {
    bool unk = strcmp (key, "tokenizer.unk_id") == 0;
    int id = unk ? 1 : 0;
    if (value != NULL) {
      char *end = NULL;
      gint64 v = g_ascii_strtoll (value, &end, 10);
      if (end == value || *end != '\0' || v < 0 || v >= m->vocab)
        return rnn__set_error (err, RNN_ERR_ARG,
            "metadata %s: expected an id in 0..%d, found \"%s\"", key,
            m->vocab - 1, value);
      id = (int) v;
    }
    if (unk)
      m->unk_id = id;
    else
      m->pad_id = id;
  } else if (strcmp (key, "tokenizer.unk_classes") == 0) {
    rnn_status st = rnn__unk_classes_parse (value, "rnn_model_set_meta",
        &m->unk_classes, err);
    if (st != RNN_OK)
      return st;
  } else if (strcmp (key, "head.input") == 0) {
    rnn_head_input h = m->head_input;
    if (value != NULL) {
      if (!rnn__head_input_parse (value, &h))
        return rnn__set_error (err, RNN_ERR_ARG,
            "metadata head.input: expected output, final_hidden, "
            "final_hidden_both or mean, found \"%s\"", value);
      if (h != m->head_input)
        return rnn__set_error (err, RNN_ERR_ARG,
            "metadata head.input: the model was built for \"%s\", cannot "
            "change it to \"%s\"", rnn__head_input_name (m->head_input), value);
    }
  } else if (strcmp (key, "window") == 0) {
    unsigned w = 0;
    if (value != NULL) {
      char *end = NULL;
      guint64 v = g_ascii_strtoull (value, &end, 10);
      if (end == value || *end != '\0' || v > G_MAXUINT)
        return rnn__set_error (err, RNN_ERR_ARG,
            "metadata window: expected a frame count, found \"%s\"", value);
      w = (unsigned) v;
    }
    m->window = w;
  }
  meta_set (m, key, value);
  return RNN_OK;
}
