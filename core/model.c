/* gst-rnn: the network description, inferred from PyTorch state_dict names
 * and shapes plus the file's metadata (SPEC section 4); model-write.c writes it.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Inference, for a recurrent module with prefix <p> (PyTorch 1.13 layout):
 *   <p>.weight_hh_l0   [G*H, Hout]     Hout = P with a projection, else H
 *   <p>.weight_hr_l0   [P, H]          LSTM projection only, P < H
 *   <p>.weight_ih_l0   [G*H, I]        I = input size (or embedding dim)
 *   <p>.weight_ih_lk   [G*H, D*Hout]   k > 0
 *   <p>.bias_ih_lk, <p>.bias_hh_lk     [G*H]  (all present or all absent)
 * and the same with suffix _reverse when bidirectional (D = 2). G = 4 is an
 * LSTM, 3 a GRU, 1 a vanilla RNN (tanh unless rnn.nonlinearity says relu).
 * H comes from weight_hh (or weight_hr when projecting), so it is never
 * ambiguous. The head reads a vector whose width depends on head.input:
 *   output, mean       D*Hout (top layer, both directions)
 *   final_hidden       Hout   (h_n[-1]: top layer, last direction)
 *   final_hidden_both  2*Hout (h_n[-2] ++ h_n[-1])
 * Every tensor of the file must be used: a stray one (e.g. a typo in a
 * module prefix) is refused rather than silently ignored.
 */
#include "rnn-private.h"
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const rnn_tensors *t;
  const char *file;
  GHashTable *used;             /* tensor names consumed (borrowed) */
  rnn_error *err;
} ctx;

char *
rnn__tensor_name (const char *prefix, const char *leaf)
{
  if (prefix == NULL || prefix[0] == '\0')
    return g_strdup (leaf);
  return g_strconcat (prefix, ".", leaf, NULL);
}

const char *
rnn__format_shape (const int64_t *shape, int ndim, char *buf, size_t len)
{
  size_t o = (size_t) snprintf (buf, len, "[");
  for (int i = 0; i < ndim && o < len; i++)
    o += (size_t) snprintf (buf + o, len - o, "%s%" G_GINT64_FORMAT,
        i ? "," : "", shape[i]);
  if (o < len)
    snprintf (buf + o, len - o, "]");
  return buf;
}

/* Finds @name, checks its rank and dims (-1 = any) and convertibility,
 * marks it used. @why says what the tensor is for (in messages). */
static rnn_status
take (ctx *c, const char *name, int ndim, int64_t d0, int64_t d1,
    const char *why, const rnn_tensor **out)
{
  const rnn_tensor *r = rnn_tensors_find (c->t, name);
  int64_t want[2] = { d0, d1 };
  bool ok;

  *out = NULL;
  if (r == NULL)
    return rnn__set_error (c->err, RNN_ERR_MODEL,
        "%s: tensor '%s' is missing (%s)", c->file, name, why);
  g_hash_table_add (c->used, (char *) r->name);
  ok = r->ndim == ndim;
  for (int i = 0; ok && i < ndim; i++)
    if (want[i] >= 0 && r->shape[i] != want[i])
      ok = false;
  if (!ok) {
    char got[96], exp[96];
    size_t o = (size_t) snprintf (exp, sizeof exp, "[");
    for (int i = 0; i < ndim; i++) {
      if (want[i] >= 0)
        o += (size_t) snprintf (exp + o, sizeof exp - o, "%s%" G_GINT64_FORMAT,
            i ? "," : "", want[i]);
      else
        o += (size_t) snprintf (exp + o, sizeof exp - o, "%s*", i ? "," : "");
    }
    snprintf (exp + o, sizeof exp - o, "]");
    return rnn__set_error (c->err, RNN_ERR_MODEL,
        "%s: tensor '%s': shape %s but expected %s (%s)", c->file, name,
        rnn__format_shape (r->shape, r->ndim, got, sizeof got), exp, why);
  }
  if (r->data == NULL)
    return rnn__set_error (c->err, RNN_ERR_UNSUPPORTED,
        "%s: tensor '%s': dtype %s not supported for model tensors", c->file,
        name, r->dtype);
  for (int i = 0; i < ndim; i++)
    if (r->shape[i] > G_MAXINT / 16)
      return rnn__set_error (c->err, RNN_ERR_MODEL,
          "%s: tensor '%s': dimension %" G_GINT64_FORMAT " is too large",
          c->file, name, r->shape[i]);
  *out = r;
  return RNN_OK;
}

static float *
copy_data (const rnn_tensor *r)
{
  return g_memdup2 (r->data, (r->numel > 0 ? r->numel : 1) * sizeof (float));
}

/* ---------------------------------------------------------------- metadata */

/* Parses metadata @key as JSON; NULL (with the error set) on failure. */
static rnn_json *
meta_json (ctx *c, const char *key, const char *value)
{
  char jerr[320];
  rnn_json *v = rnn__json_parse (value, strlen (value), jerr, sizeof jerr);
  if (v == NULL) {
    bool nonfinite = strstr (value, "NaN") != NULL
        || strstr (value, "Infinity") != NULL;
    rnn__set_error (c->err, RNN_ERR_MODEL,
        "%s: metadata '%s': not valid JSON (%s)%s", c->file, key, jerr,
        nonfinite ? ": NaN and Infinity are not allowed, write finite "
        "numbers" : "");
  }
  return v;
}

/* A JSON array of exactly @n finite numbers (also finite as float). With
 * @positive each must be > 0. */
static rnn_status
meta_floats (ctx *c, const char *key, int n, bool positive, float **out)
{
  const char *value = rnn_tensors_meta (c->t, key);
  rnn_json *v;
  float *f;

  *out = NULL;
  if (value == NULL)
    return RNN_OK;
  v = meta_json (c, key, value);
  if (v == NULL)
    return RNN_ERR_MODEL;
  if (v->type != RNN_JSON_ARRAY || v->n != (size_t) n) {
    rnn_status st;
    if (v->type != RNN_JSON_ARRAY)
      st = rnn__set_error (c->err, RNN_ERR_MODEL,
          "%s: metadata '%s': expected a JSON array of %d numbers, found a "
          "JSON %s", c->file, key, n, rnn__json_type_name (v->type));
    else
      st = rnn__set_error (c->err, RNN_ERR_MODEL,
          "%s: metadata '%s': expected %d value%s, found %zu", c->file, key,
          n, n == 1 ? "" : "s", v->n);
    rnn__json_free (v);
    return st;
  }
  f = g_new (float, n > 0 ? n : 1);
  for (int i = 0; i < n; i++) {
    const rnn_json *x = v->items[i];
    rnn_status st = RNN_OK;
    if (x->type != RNN_JSON_NUMBER)
      st = rnn__set_error (c->err, RNN_ERR_MODEL,
          "%s: metadata '%s': element %d is a JSON %s, expected a number",
          c->file, key, i, rnn__json_type_name (x->type));
    else if (!isfinite ((float) x->dbl))
      st = rnn__set_error (c->err, RNN_ERR_MODEL,
          "%s: metadata '%s': element %d = %s is outside the float range",
          c->file, key, i, x->str);
    else if (positive && !((float) x->dbl > 0.0f))
      st = rnn__set_error (c->err, RNN_ERR_MODEL,
          "%s: metadata '%s': element %d = %s must be > 0", c->file, key, i,
          x->str);
    if (st != RNN_OK) {
      g_free (f);
      rnn__json_free (v);
      return st;
    }
    f[i] = (float) x->dbl;
  }
  rnn__json_free (v);
  *out = f;
  return RNN_OK;
}

/* A JSON array of exactly @n strings (n < 0: any length, returned in
 * *n_out). */
static rnn_status
meta_strings (ctx *c, const char *key, int n, char ***out, int *n_out)
{
  const char *value = rnn_tensors_meta (c->t, key);
  rnn_json *v;
  char **s;

  *out = NULL;
  if (value == NULL)
    return RNN_OK;
  v = meta_json (c, key, value);
  if (v == NULL)
    return RNN_ERR_MODEL;
  if (v->type != RNN_JSON_ARRAY) {
    rnn_status st = rnn__set_error (c->err, RNN_ERR_MODEL,
        "%s: metadata '%s': expected a JSON array of strings, found a JSON "
        "%s", c->file, key, rnn__json_type_name (v->type));
    rnn__json_free (v);
    return st;
  }
  if (n >= 0 && v->n != (size_t) n) {
    rnn_status st = rnn__set_error (c->err, RNN_ERR_MODEL,
        "%s: metadata '%s': expected %d entr%s, found %zu", c->file, key, n,
        n == 1 ? "y" : "ies", v->n);
    rnn__json_free (v);
    return st;
  }
  if (v->n > (size_t) G_MAXINT / 2) {
    rnn__json_free (v);
    return rnn__set_error (c->err, RNN_ERR_MODEL,
        "%s: metadata '%s': too many entries", c->file, key);
  }
  s = g_new0 (char *, v->n + 1);
  for (size_t i = 0; i < v->n; i++) {
    if (v->items[i]->type != RNN_JSON_STRING) {
      rnn_status st = rnn__set_error (c->err, RNN_ERR_MODEL,
          "%s: metadata '%s': entry %zu is a JSON %s, expected a string",
          c->file, key, i, rnn__json_type_name (v->items[i]->type));
      g_strfreev (s);
      rnn__json_free (v);
      return st;
    }
    s[i] = g_strdup (v->items[i]->str);
  }
  if (n_out != NULL)
    *n_out = (int) v->n;
  rnn__json_free (v);
  *out = s;
  return RNN_OK;
}

/* A JSON integer in [lo, hi]; *out untouched when the key is absent. */
static rnn_status
meta_int (ctx *c, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
  const char *value = rnn_tensors_meta (c->t, key);
  rnn_json *v;
  rnn_status st = RNN_OK;

  if (value == NULL)
    return RNN_OK;
  v = meta_json (c, key, value);
  if (v == NULL)
    return RNN_ERR_MODEL;
  if (v->type != RNN_JSON_NUMBER || !v->is_integer)
    st = rnn__set_error (c->err, RNN_ERR_MODEL,
        "%s: metadata '%s': '%s' is not an integer", c->file, key, value);
  else if (v->negative ? (lo >= 0 || v->dbl < (double) lo)
      : (!v->u64_ok || v->u64 > (uint64_t) hi))
    st = rnn__set_error (c->err, RNN_ERR_MODEL,
        "%s: metadata '%s': %s is out of range [%" G_GINT64_FORMAT ", %"
        G_GINT64_FORMAT "]", c->file, key, v->str, lo, hi);
  else
    *out = v->negative ? (int64_t) v->dbl : (int64_t) v->u64;
  rnn__json_free (v);
  return st;
}

/* ------------------------------------------------------------------- names */

const char *
rnn_cell_name (rnn_cell cell)
{
  switch (cell) {
    case RNN_CELL_RNN_TANH: return "rnn_tanh";
    case RNN_CELL_RNN_RELU: return "rnn_relu";
    case RNN_CELL_LSTM: return "lstm";
    case RNN_CELL_GRU: return "gru";
  }
  return "unknown";
}

bool
rnn__cell_parse (const char *name, rnn_cell *out)
{
  for (int c = RNN_CELL_RNN_TANH; c <= RNN_CELL_GRU; c++)
    if (strcmp (name, rnn_cell_name ((rnn_cell) c)) == 0) {
      *out = (rnn_cell) c;
      return true;
    }
  return false;
}

bool
rnn__task_parse (const char *name, rnn_task *out)
{
  static const rnn_task tasks[] = { RNN_TASK_FORECAST, RNN_TASK_ANOMALY,
    RNN_TASK_CLASSIFY, RNN_TASK_TAG };

  for (size_t i = 0; i < G_N_ELEMENTS (tasks); i++)
    if (strcmp (name, rnn_task_name (tasks[i])) == 0) {
      *out = tasks[i];
      return true;
    }
  return false;
}

const char *
rnn_task_name (rnn_task t)
{
  switch (t) {
    case RNN_TASK_NONE: return "none";
    case RNN_TASK_FORECAST: return "forecast";
    case RNN_TASK_ANOMALY: return "anomaly";
    case RNN_TASK_CLASSIFY: return "classify";
    case RNN_TASK_TAG: return "tag";
  }
  return "unknown";
}

const char *
rnn__head_input_name (rnn_head_input h)
{
  switch (h) {
    case RNN_HEAD_OUTPUT: return "output";
    case RNN_HEAD_FINAL_HIDDEN: return "final_hidden";
    case RNN_HEAD_FINAL_HIDDEN_BOTH: return "final_hidden_both";
    case RNN_HEAD_MEAN: return "mean";
  }
  return "output";
}

bool
rnn__head_input_parse (const char *name, rnn_head_input *out)
{
  for (int h = RNN_HEAD_OUTPUT; h <= RNN_HEAD_MEAN; h++)
    if (strcmp (name, rnn__head_input_name ((rnn_head_input) h)) == 0) {
      *out = (rnn_head_input) h;
      return true;
    }
  return false;
}

/* ------------------------------------------------------------------- model */

/* the recurrent prefix rnn_model_save writes when rnn.module is absent */
const char *
rnn__cell_module (rnn_cell cell)
{
  return cell == RNN_CELL_LSTM ? "lstm" : cell == RNN_CELL_GRU ? "gru"
      : "rnn";
}

void
rnn_model_free (rnn_model *m)
{
  if (m == NULL)
    return;
  if (m->engine != NULL)
    rnn__engine_release (m);
  if (m->params != NULL) {
    for (int i = 0; i < m->num_layers * m->num_dirs; i++) {
      rnn_dir_params *p = &m->params[i];
      g_free (p->w_ih);
      g_free (p->w_hh);
      g_free (p->b_ih);
      g_free (p->b_hh);
      g_free (p->w_hr);
    }
    g_free (m->params);
  }
  g_free (m->emb);
  g_free (m->head_w);
  g_free (m->head_b);
  g_free (m->in_mean);
  g_free (m->in_std);
  g_free (m->out_mean);
  g_free (m->out_std);
  if (m->meta != NULL)
    g_hash_table_destroy (m->meta);
  if (m->labels != NULL) {
    for (int i = 0; i < m->num_labels; i++)
      g_free (m->labels[i]);
    g_free (m->labels);
  }
  if (m->vocab_index != NULL)
    g_hash_table_destroy (m->vocab_index);
  g_free (m->anom_mean);
  g_free (m->anom_std);
  g_free (m->name);
  g_free (m);
}

/* The recurrent prefix: metadata rnn.module, else the one module that has
 * weight_ih_l0. */
static rnn_status
find_rnn_prefix (ctx *c, char **out)
{
  const char *mod = rnn_tensors_meta (c->t, "rnn.module");
  GPtrArray *found;
  const char *leaf = "weight_ih_l0";
  size_t leaf_len = strlen (leaf);

  *out = NULL;
  if (mod != NULL) {
    char *n = rnn__tensor_name (mod, leaf);
    bool ok = rnn_tensors_find (c->t, n) != NULL;
    if (!ok) {
      rnn_status st = rnn__set_error (c->err, RNN_ERR_MODEL,
          "%s: metadata rnn.module is '%s' but tensor '%s' is missing",
          c->file, mod, n);
      g_free (n);
      return st;
    }
    g_free (n);
    *out = g_strdup (mod);
    return RNN_OK;
  }
  found = g_ptr_array_new_with_free_func (g_free);
  for (size_t i = 0; i < rnn_tensors_count (c->t); i++) {
    const char *n = rnn_tensors_get (c->t, i)->name;
    size_t len = strlen (n);
    if (len == leaf_len && strcmp (n, leaf) == 0)
      g_ptr_array_add (found, g_strdup (""));
    else if (len > leaf_len + 1 && strcmp (n + len - leaf_len, leaf) == 0
        && n[len - leaf_len - 1] == '.')
      g_ptr_array_add (found, g_strndup (n, len - leaf_len - 1));
  }
  if (found->len == 1) {
    *out = g_strdup (g_ptr_array_index (found, 0));
    g_ptr_array_free (found, TRUE);
    return RNN_OK;
  }
  if (found->len == 0) {
    g_ptr_array_free (found, TRUE);
    return rnn__set_error (c->err, RNN_ERR_MODEL,
        "%s: no recurrent layer: no tensor named '<module>.weight_ih_l0' "
        "(the first layer of an nn.RNN, nn.LSTM or nn.GRU)", c->file);
  }
  {
    rnn_status st = rnn__set_error (c->err, RNN_ERR_MODEL,
        "%s: %u recurrent modules ('%s' and '%s' have weight_ih_l0): set "
        "metadata rnn.module to the one to run", c->file, found->len,
        (char *) g_ptr_array_index (found, 0),
        (char *) g_ptr_array_index (found, 1));
    g_ptr_array_free (found, TRUE);
    return st;
  }
}

static rnn_status
load_stack (ctx *c, rnn_model *m, const char *p)
{
  const rnn_tensor *whh, *whr = NULL, *r;
  char *n;
  int G, H, P = 0, hout;
  bool has_bias;
  const char *cell_meta = rnn_tensors_meta (c->t, "rnn.cell");
  const char *nonlin = rnn_tensors_meta (c->t, "rnn.nonlinearity");
  rnn_status st;

  /* hidden size, projection and gate count from layer 0 */
  n = rnn__tensor_name (p, "weight_hh_l0");
  st = take (c, n, 2, -1, -1, "recurrent weights of layer 0", &whh);
  g_free (n);
  if (st != RNN_OK)
    return st;
  n = rnn__tensor_name (p, "weight_hr_l0");
  if (rnn_tensors_find (c->t, n) != NULL) {
    st = take (c, n, 2, -1, -1, "LSTM projection of layer 0", &whr);
    if (st == RNN_OK && (whr->shape[0] < 1 || whr->shape[0] >= whr->shape[1]))
      st = rnn__set_error (c->err, RNN_ERR_MODEL,
          "%s: tensor '%s': projection size %" G_GINT64_FORMAT " must be "
          "between 1 and hidden size - 1 (%" G_GINT64_FORMAT ")", c->file, n,
          whr->shape[0], whr->shape[1] - 1);
    if (st != RNN_OK) {
      g_free (n);
      return st;
    }
    P = (int) whr->shape[0];
    H = (int) whr->shape[1];
    if (whh->shape[1] != P) {
      st = rnn__set_error (c->err, RNN_ERR_MODEL,
          "%s: tensor '%s': %" G_GINT64_FORMAT " columns but the projection "
          "'%s' has %d rows", c->file, whh->name, whh->shape[1], n, P);
      g_free (n);
      return st;
    }
  } else {
    H = (int) whh->shape[1];
  }
  g_free (n);
  if (H < 1)
    return rnn__set_error (c->err, RNN_ERR_MODEL,
        "%s: tensor '%s': hidden size 0", c->file, whh->name);
  if (whh->shape[0] % H != 0 || (whh->shape[0] / H != 1
          && whh->shape[0] / H != 3 && whh->shape[0] / H != 4))
    return rnn__set_error (c->err, RNN_ERR_MODEL,
        "%s: tensor '%s': %" G_GINT64_FORMAT " rows is not 1, 3 or 4 times "
        "the hidden size %d (RNN, GRU or LSTM gates)", c->file, whh->name,
        whh->shape[0], H);
  G = (int) (whh->shape[0] / H);
  hout = P > 0 ? P : H;
  if (P > 0 && G != 4)
    return rnn__set_error (c->err, RNN_ERR_MODEL,
        "%s: a projection (weight_hr_l0) needs an LSTM, but '%s' has %d "
        "gates", c->file, whh->name, G);

  if (nonlin != NULL && strcmp (nonlin, "tanh") != 0
      && strcmp (nonlin, "relu") != 0)
    return rnn__set_error (c->err, RNN_ERR_MODEL,
        "%s: metadata rnn.nonlinearity: '%s' is not 'tanh' or 'relu'",
        c->file, nonlin);
  if (G == 4)
    m->cell = RNN_CELL_LSTM;
  else if (G == 3)
    m->cell = RNN_CELL_GRU;
  else
    m->cell = nonlin != NULL && strcmp (nonlin, "relu") == 0
        ? RNN_CELL_RNN_RELU : RNN_CELL_RNN_TANH;
  if (G != 1 && nonlin != NULL && strcmp (nonlin, "relu") == 0)
    return rnn__set_error (c->err, RNN_ERR_MODEL,
        "%s: metadata rnn.nonlinearity is 'relu' but '%s' has %d gates: "
        "the network is a%s, not a vanilla RNN", c->file, whh->name, G,
        G == 4 ? "n LSTM" : " GRU");
  if (cell_meta != NULL) {
    rnn_cell want;
    if (!rnn__cell_parse (cell_meta, &want))
      return rnn__set_error (c->err, RNN_ERR_MODEL,
          "%s: metadata rnn.cell: unknown cell '%s' (expected lstm, gru, "
          "rnn_tanh or rnn_relu)", c->file, cell_meta);
    if (G == 1 && nonlin == NULL
        && (want == RNN_CELL_RNN_TANH || want == RNN_CELL_RNN_RELU))
      m->cell = want;
    if (want != m->cell)
      return rnn__set_error (c->err, RNN_ERR_MODEL,
          "%s: metadata rnn.cell is '%s' but the tensors describe a '%s' "
          "(%s has %d gate rows per hidden unit%s)", c->file, cell_meta,
          rnn_cell_name (m->cell), whh->name, G,
          G == 1 ? ", and rnn.nonlinearity disagrees" : "");
  }

  /* layers l0..lK contiguous, directions from _reverse */
  m->num_layers = 0;
  while (true) {
    char leaf[64];
    snprintf (leaf, sizeof leaf, "weight_ih_l%d", m->num_layers);
    n = rnn__tensor_name (p, leaf);
    r = rnn_tensors_find (c->t, n);
    g_free (n);
    if (r == NULL || m->num_layers >= 100000)
      break;
    m->num_layers++;
  }
  n = rnn__tensor_name (p, "weight_ih_l0_reverse");
  m->num_dirs = rnn_tensors_find (c->t, n) != NULL ? 2 : 1;
  g_free (n);
  n = rnn__tensor_name (p, "bias_ih_l0");
  has_bias = rnn_tensors_find (c->t, n) != NULL;
  g_free (n);
  n = rnn__tensor_name (p, "bias_hh_l0");
  has_bias = has_bias || rnn_tensors_find (c->t, n) != NULL;
  g_free (n);

  m->gates = G;
  m->hidden = H;
  m->proj = P;
  m->hout = hout;
  m->params = g_new0 (rnn_dir_params, m->num_layers * m->num_dirs);

  for (int k = 0; k < m->num_layers; k++) {
    for (int d = 0; d < m->num_dirs; d++) {
      rnn_dir_params *pp = &m->params[k * m->num_dirs + d];
      const char *sfx = d ? "_reverse" : "";
      char leaf[80], why[128];
      const rnn_tensor *t;
      int64_t in = k == 0 ? -1 : (int64_t) m->num_dirs * hout;

      snprintf (leaf, sizeof leaf, "weight_ih_l%d%s", k, sfx);
      if (k == 0)
        snprintf (why, sizeof why, "input weights of layer 0%s: %d gates x "
            "hidden %d rows", sfx, G, H);
      else
        snprintf (why, sizeof why, "input weights of layer %d%s: %d gates x "
            "hidden %d rows, %d direction%s x %d columns", k, sfx, G, H,
            m->num_dirs, m->num_dirs == 1 ? "" : "s", hout);
      n = rnn__tensor_name (p, leaf);
      st = take (c, n, 2, (int64_t) G * H, in, why, &t);
      g_free (n);
      if (st != RNN_OK)
        return st;
      if (k == 0 && d == 0) {
        m->input_size = (int) t->shape[1];
        if (m->input_size < 1)
          return rnn__set_error (c->err, RNN_ERR_MODEL,
              "%s: tensor '%s': input size 0", c->file, t->name);
      }
      if (k == 0 && d == 1 && t->shape[1] != m->input_size)
        return rnn__set_error (c->err, RNN_ERR_MODEL,
            "%s: tensor '%s': %" G_GINT64_FORMAT " columns but the forward "
            "direction has input size %d", c->file, t->name, t->shape[1],
            m->input_size);
      pp->in = (int) t->shape[1];
      pp->w_ih = copy_data (t);

      snprintf (leaf, sizeof leaf, "weight_hh_l%d%s", k, sfx);
      snprintf (why, sizeof why, "recurrent weights of layer %d%s: %d gates "
          "x hidden %d rows, %d columns", k, sfx, G, H, hout);
      n = rnn__tensor_name (p, leaf);
      st = take (c, n, 2, (int64_t) G * H, hout, why, &t);
      g_free (n);
      if (st != RNN_OK)
        return st;
      pp->w_hh = copy_data (t);

      for (int b = 0; b < 2; b++) {
        snprintf (leaf, sizeof leaf, "bias_%s_l%d%s", b ? "hh" : "ih", k, sfx);
        n = rnn__tensor_name (p, leaf);
        if (has_bias) {
          snprintf (why, sizeof why, "the network has biases (layer 0 has "
              "them); %d gates x hidden %d", G, H);
          st = take (c, n, 1, (int64_t) G * H, -1, why, &t);
          g_free (n);
          if (st != RNN_OK)
            return st;
          if (b)
            pp->b_hh = copy_data (t);
          else
            pp->b_ih = copy_data (t);
        } else {
          g_free (n);
          if (b)
            pp->b_hh = g_new0 (float, G * H);
          else
            pp->b_ih = g_new0 (float, G * H);
        }
      }

      if (P > 0) {
        snprintf (leaf, sizeof leaf, "weight_hr_l%d%s", k, sfx);
        snprintf (why, sizeof why, "LSTM projection of layer %d%s: %d x %d",
            k, sfx, P, H);
        n = rnn__tensor_name (p, leaf);
        st = take (c, n, 2, P, H, why, &t);
        g_free (n);
        if (st != RNN_OK)
          return st;
        pp->w_hr = copy_data (t);
      }
    }
  }
  return RNN_OK;
}

static rnn_status
load_embedding_and_head (ctx *c, rnn_model *m)
{
  const char *emod = rnn_tensors_meta (c->t, "embedding.module");
  const char *hmod = rnn_tensors_meta (c->t, "head.module");
  const char *hin = rnn_tensors_meta (c->t, "head.input");
  char *n, *nb;
  const rnn_tensor *t;
  rnn_status st;
  int width;

  /* embedding [vocab, embed]: embed must be the stack's input size */
  n = rnn__tensor_name (emod != NULL ? emod : "embedding", "weight");
  if (rnn_tensors_find (c->t, n) != NULL) {
    char why[96];
    snprintf (why, sizeof why, "embedding: vocabulary x %d (the input size "
        "of layer 0)", m->input_size);
    st = take (c, n, 2, -1, m->input_size, why, &t);
    if (st == RNN_OK && t->shape[0] < 1)
      st = rnn__set_error (c->err, RNN_ERR_MODEL,
          "%s: tensor '%s': empty vocabulary", c->file, n);
    if (st != RNN_OK) {
      g_free (n);
      return st;
    }
    m->vocab = (int) t->shape[0];
    m->emb = copy_data (t);
  } else if (emod != NULL) {
    st = rnn__set_error (c->err, RNN_ERR_MODEL,
        "%s: metadata embedding.module is '%s' but tensor '%s' is missing",
        c->file, emod, n);
    g_free (n);
    return st;
  }
  g_free (n);

  /* head input mode */
  if (hin == NULL)
    m->head_input = m->task == RNN_TASK_CLASSIFY ? RNN_HEAD_FINAL_HIDDEN
        : RNN_HEAD_OUTPUT;
  else if (!rnn__head_input_parse (hin, &m->head_input))
    return rnn__set_error (c->err, RNN_ERR_MODEL,
        "%s: metadata head.input: unknown value '%s' (expected output, "
        "final_hidden, final_hidden_both or mean)", c->file, hin);
  switch (m->head_input) {
    case RNN_HEAD_FINAL_HIDDEN:
      width = m->hout;
      break;
    case RNN_HEAD_FINAL_HIDDEN_BOTH:
      if (m->num_layers * m->num_dirs < 2)
        return rnn__set_error (c->err, RNN_ERR_MODEL,
            "%s: head.input final_hidden_both needs h_n[-2] and h_n[-1], but "
            "the network has 1 layer and 1 direction", c->file);
      width = 2 * m->hout;
      break;
    default:
      width = m->num_dirs * m->hout;
      break;
  }

  /* head [out, in] + [out] */
  n = rnn__tensor_name (hmod != NULL ? hmod : "fc", "weight");
  nb = rnn__tensor_name (hmod != NULL ? hmod : "fc", "bias");
  if (rnn_tensors_find (c->t, n) != NULL) {
    char why[160];
    snprintf (why, sizeof why, "head on %s: %d columns = %s", 
        rnn__head_input_name (m->head_input), width,
        m->head_input == RNN_HEAD_FINAL_HIDDEN ? "hidden output size"
        : m->head_input == RNN_HEAD_FINAL_HIDDEN_BOTH
        ? "2 x hidden output size" : "directions x hidden output size");
    st = take (c, n, 2, -1, width, why, &t);
    if (st == RNN_OK && t->shape[0] < 1)
      st = rnn__set_error (c->err, RNN_ERR_MODEL,
          "%s: tensor '%s': head with 0 outputs", c->file, n);
    if (st != RNN_OK)
      goto out;
    m->head_out = (int) t->shape[0];
    m->head_in = width;
    m->head_w = copy_data (t);
    if (rnn_tensors_find (c->t, nb) != NULL) {
      snprintf (why, sizeof why, "head bias: one per head output (%d)",
          m->head_out);
      st = take (c, nb, 1, m->head_out, -1, why, &t);
      if (st != RNN_OK)
        goto out;
      m->head_b = copy_data (t);
    } else {
      m->head_b = g_new0 (float, m->head_out);
    }
    m->output_size = m->head_out;
  } else if (hmod != NULL || rnn_tensors_find (c->t, nb) != NULL) {
    st = rnn__set_error (c->err, RNN_ERR_MODEL,
        "%s: tensor '%s' is missing (%s)", c->file, n, hmod != NULL
        ? "metadata head.module names it" : "the head has a bias");
    goto out;
  } else {
    m->head_in = width;
    m->output_size = width;
  }
  st = RNN_OK;
out:
  g_free (n);
  g_free (nb);
  return st;
}

static rnn_status
load_metadata (ctx *c, rnn_model *m)
{
  const char *v;
  rnn_status st;
  int64_t i64;
  char **vocab = NULL;
  int n_vocab = 0;

  /* normalisation */
  if ((st = meta_floats (c, "input.mean", m->input_size, false,
              &m->in_mean)) != RNN_OK
      || (st = meta_floats (c, "input.std", m->input_size, true,
              &m->in_std)) != RNN_OK
      || (st = meta_floats (c, "output.mean", m->output_size, false,
              &m->out_mean)) != RNN_OK
      || (st = meta_floats (c, "output.std", m->output_size, true,
              &m->out_std)) != RNN_OK
      || (st = meta_floats (c, "anomaly.error_mean", m->output_size, false,
              &m->anom_mean)) != RNN_OK
      || (st = meta_floats (c, "anomaly.error_std", m->output_size, true,
              &m->anom_std)) != RNN_OK)
    return st;
  if (m->anom_mean == NULL)
    m->anom_mean = g_new0 (float, m->output_size);
  if (m->anom_std == NULL) {
    m->anom_std = g_new (float, m->output_size);
    for (int i = 0; i < m->output_size; i++)
      m->anom_std[i] = 1.0f;
  }
  m->anom_threshold = 4.0;
  v = rnn_tensors_meta (c->t, "anomaly.threshold");
  if (v != NULL) {
    rnn_json *j = meta_json (c, "anomaly.threshold", v);
    if (j == NULL)
      return RNN_ERR_MODEL;
    if (j->type != RNN_JSON_NUMBER || !isfinite (j->dbl) || j->dbl <= 0) {
      st = rnn__set_error (c->err, RNN_ERR_MODEL,
          "%s: metadata anomaly.threshold: '%s' is not a positive number",
          c->file, v);
      rnn__json_free (j);
      return st;
    }
    m->anom_threshold = j->dbl;
    rnn__json_free (j);
  }
  if (m->task == RNN_TASK_ANOMALY && m->output_size != m->input_size)
    return rnn__set_error (c->err, RNN_ERR_MODEL,
        "%s: task 'anomaly' needs a one-step forecaster, but the output size "
        "%d differs from the input size %d", c->file, m->output_size,
        m->input_size);

  /* window */
  i64 = 0;
  if ((st = meta_int (c, "window", 0, G_MAXUINT, &i64)) != RNN_OK)
    return st;
  m->window = (unsigned) i64;

  /* labels */
  m->num_labels = m->task == RNN_TASK_CLASSIFY && m->output_size == 1 ? 2
      : m->output_size;
  if ((st = meta_strings (c, "labels", m->num_labels, &m->labels,
              NULL)) != RNN_OK) {
    if (m->task == RNN_TASK_CLASSIFY && m->output_size == 1
        && c->err != NULL) {
      size_t l = strlen (c->err->msg);
      snprintf (c->err->msg + l, sizeof c->err->msg - l,
          " (a 1-output classifier has 2 labels: negative, positive)");
    }
    m->num_labels = 0;
    return st;
  }
  if (m->labels == NULL) {
    m->labels = g_new0 (char *, m->num_labels + 1);
    for (int i = 0; i < m->num_labels; i++)
      m->labels[i] = g_strdup_printf ("class%d", i);
  }

  /* tokenizer */
  m->vocab_index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  v = rnn_tensors_meta (c->t, "tokenizer.vocab");
  if (v != NULL && m->vocab == 0)
    return rnn__set_error (c->err, RNN_ERR_MODEL,
        "%s: metadata tokenizer.vocab is set but the model has no embedding "
        "('%s.weight')", c->file,
        rnn_tensors_meta (c->t, "embedding.module") != NULL
        ? rnn_tensors_meta (c->t, "embedding.module") : "embedding");
  if (v != NULL) {
    if ((st = meta_strings (c, "tokenizer.vocab", -1, &vocab,
                &n_vocab)) != RNN_OK)
      return st;
    if (n_vocab != m->vocab) {
      g_strfreev (vocab);
      return rnn__set_error (c->err, RNN_ERR_MODEL,
          "%s: metadata tokenizer.vocab has %d tokens but the embedding has "
          "%d rows", c->file, n_vocab, m->vocab);
    }
    for (int i = 0; i < n_vocab; i++) {
      if (g_hash_table_contains (m->vocab_index, vocab[i])) {
        st = rnn__set_error (c->err, RNN_ERR_MODEL,
            "%s: metadata tokenizer.vocab: duplicate token '%s' (ids %d and "
            "%d)", c->file, vocab[i],
            GPOINTER_TO_INT (g_hash_table_lookup (m->vocab_index,
                    vocab[i])) - 1, i);
        g_strfreev (vocab);
        return st;
      }
      g_hash_table_insert (m->vocab_index, g_strdup (vocab[i]),
          GINT_TO_POINTER (i + 1));
    }
    g_strfreev (vocab);
  } else if (m->vocab > 0 && (m->task == RNN_TASK_CLASSIFY
          || m->task == RNN_TASK_TAG)) {
    return rnn__set_error (c->err, RNN_ERR_MODEL,
        "%s: metadata tokenizer.vocab is missing: a text %s needs its "
        "vocabulary (a JSON array of %d tokens, index = token id)",
        c->file, m->task == RNN_TASK_TAG ? "tagger" : "classifier",
        m->vocab);
  }
  v = rnn_tensors_meta (c->t, "tokenizer.lowercase");
  if (v != NULL && strcmp (v, "true") != 0 && strcmp (v, "false") != 0)
    return rnn__set_error (c->err, RNN_ERR_MODEL,
        "%s: metadata tokenizer.lowercase: '%s' is neither true nor false",
        c->file, v);
  m->keep_case = v != NULL && strcmp (v, "false") == 0;
  m->unk_id = 1;
  m->pad_id = 0;
  if (m->vocab > 0) {
    i64 = 1;
    if ((st = meta_int (c, "tokenizer.unk_id", 0, m->vocab - 1,
                &i64)) != RNN_OK)
      return st;
    m->unk_id = (int) i64;
    i64 = 0;
    if ((st = meta_int (c, "tokenizer.pad_id", 0, m->vocab - 1,
                &i64)) != RNN_OK)
      return st;
    m->pad_id = (int) i64;
    if (m->unk_id >= m->vocab)
      return rnn__set_error (c->err, RNN_ERR_MODEL,
          "%s: tokenizer.unk_id defaults to 1 but the vocabulary has only "
          "%d token; set metadata tokenizer.unk_id", c->file, m->vocab);
  } else if (rnn_tensors_meta (c->t, "tokenizer.unk_id") != NULL
      || rnn_tensors_meta (c->t, "tokenizer.pad_id") != NULL) {
    return rnn__set_error (c->err, RNN_ERR_MODEL,
        "%s: metadata tokenizer.unk_id/pad_id is set but the model has no "
        "embedding", c->file);
  }
  return rnn__unk_classes_parse (rnn_tensors_meta (c->t,
          "tokenizer.unk_classes"), c->file, &m->unk_classes, c->err);
}

/* Every tensor must belong to a module we used. */
static rnn_status
check_stray (ctx *c, const rnn_model *m, const char *prefix)
{
  for (size_t i = 0; i < rnn_tensors_count (c->t); i++) {
    const rnn_tensor *r = rnn_tensors_get (c->t, i);
    size_t pl = strlen (prefix);
    if (g_hash_table_contains (c->used, r->name))
      continue;
    if (pl == 0 || (strncmp (r->name, prefix, pl) == 0 && r->name[pl] == '.'))
      return rnn__set_error (c->err, RNN_ERR_MODEL,
          "%s: tensor '%s' is not a parameter of the %d-layer%s %s%s%s%s "
          "(layers must be numbered from l0 without gaps; a bias-free "
          "network has no bias; a projection is LSTM-only)", c->file,
          r->name, m->num_layers, m->num_dirs == 2 ? " bidirectional" : "",
          rnn_cell_name (m->cell), pl ? " '" : "", prefix, pl ? "'" : "");
    return rnn__set_error (c->err, RNN_ERR_MODEL,
        "%s: tensor '%s' belongs to no known module (recurrent '%s', "
        "embedding '%s', head '%s'); set rnn.module, embedding.module or "
        "head.module metadata if a prefix differs", c->file, r->name,
        prefix, rnn_tensors_meta (c->t, "embedding.module") != NULL
        ? rnn_tensors_meta (c->t, "embedding.module") : "embedding",
        rnn_tensors_meta (c->t, "head.module") != NULL
        ? rnn_tensors_meta (c->t, "head.module") : "fc");
  }
  return RNN_OK;
}

rnn_status
rnn_model_from_tensors (const rnn_tensors *t, const char *name,
    rnn_model **out, rnn_error *err)
{
  ctx c;
  rnn_model *m;
  char *prefix = NULL;
  const char *task;
  rnn_status st;

  if (out == NULL || t == NULL)
    return rnn__set_error (err, RNN_ERR_ARG, "rnn_model_from_tensors: %s is "
        "NULL", t == NULL ? "tensors" : "out");
  *out = NULL;
  if (name == NULL)
    name = "(model)";
  c.t = t;
  c.file = name;
  c.used = g_hash_table_new (g_str_hash, g_str_equal);
  c.err = err;

  m = g_new0 (rnn_model, 1);
  m->name = g_strdup (name);
  m->meta = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (size_t i = 0; i < rnn_tensors_meta_count (t); i++) {
    const char *k, *v;
    rnn_tensors_meta_at (t, i, &k, &v);
    g_hash_table_insert (m->meta, g_strdup (k), g_strdup (v));
  }

  task = rnn_tensors_meta (t, "task");
  if (task == NULL)
    m->task = RNN_TASK_NONE;
  else if (!rnn__task_parse (task, &m->task)) {
    st = rnn__set_error (err, RNN_ERR_MODEL, "%s: metadata task: unknown "
        "task '%s' (expected forecast, anomaly, classify or tag)", name,
        task);
    goto fail;
  }

  if ((st = find_rnn_prefix (&c, &prefix)) != RNN_OK
      || (st = load_stack (&c, m, prefix)) != RNN_OK
      || (st = load_embedding_and_head (&c, m)) != RNN_OK
      || (st = check_stray (&c, m, prefix)) != RNN_OK
      || (st = load_metadata (&c, m)) != RNN_OK)
    goto fail;
  /* an autodetected prefix that rnn_model_save would not write by default
   * (e.g. "" for a bare nn.LSTM, "encoder") is remembered in the metadata,
   * so a saved model keeps PyTorch's names */
  if (!g_hash_table_contains (m->meta, "rnn.module")
      && strcmp (prefix, rnn__cell_module (m->cell)) != 0)
    g_hash_table_insert (m->meta, g_strdup ("rnn.module"), g_strdup (prefix));
  if ((st = rnn__engine_prepare (m, err)) != RNN_OK)
    goto fail;

  g_free (prefix);
  g_hash_table_destroy (c.used);
  *out = m;
  return RNN_OK;

fail:
  g_free (prefix);
  g_hash_table_destroy (c.used);
  rnn_model_free (m);
  return st;
}

rnn_status
rnn_model_load (const char *path, rnn_model **out, rnn_error *err)
{
  rnn_tensors *t = NULL;
  rnn_status st;

  if (out == NULL)
    return rnn__set_error (err, RNN_ERR_ARG, "rnn_model_load: out is NULL");
  *out = NULL;
  st = rnn_tensors_load (path, &t, err);
  if (st != RNN_OK)
    return st;
  st = rnn_model_from_tensors (t, path, out, err);
  rnn_tensors_free (t);
  return st;
}

/* --------------------------------------------------------------- accessors */

rnn_cell rnn_model_cell (const rnn_model *m) { return m->cell; }
rnn_task rnn_model_task (const rnn_model *m) { return m->task; }
rnn_head_input rnn_model_head_input (const rnn_model *m)
{
  return m->head_input;
}
int rnn_model_num_layers (const rnn_model *m) { return m->num_layers; }
int rnn_model_num_directions (const rnn_model *m) { return m->num_dirs; }
int rnn_model_hidden_size (const rnn_model *m) { return m->hidden; }
int rnn_model_proj_size (const rnn_model *m) { return m->proj; }
int rnn_model_input_size (const rnn_model *m) { return m->input_size; }
int rnn_model_output_size (const rnn_model *m) { return m->output_size; }
bool rnn_model_has_head (const rnn_model *m) { return m->head_w != NULL; }
int rnn_model_vocab_size (const rnn_model *m) { return m->vocab; }
unsigned rnn_model_window (const rnn_model *m) { return m->window; }
const char *rnn_model_name (const rnn_model *m) { return m->name; }

const char *
rnn_model_meta (const rnn_model *m, const char *key)
{
  if (m == NULL || m->meta == NULL || key == NULL)
    return NULL;
  return g_hash_table_lookup (m->meta, key);
}

int
rnn_model_num_labels (const rnn_model *m)
{
  return m->num_labels;
}

const char *
rnn_model_label (const rnn_model *m, int i)
{
  if (m->labels == NULL || i < 0 || i >= m->num_labels)
    return NULL;
  return m->labels[i];
}

const float *
rnn_model_anomaly_error_mean (const rnn_model *m)
{
  return m->anom_mean;
}

const float *
rnn_model_anomaly_error_std (const rnn_model *m)
{
  return m->anom_std;
}

double
rnn_model_anomaly_threshold (const rnn_model *m)
{
  return m->anom_threshold;
}

/* x' = (x - mean) / std per feature; a missing mean is 0, a missing std 1.
 * Division (not multiplication by 1/std) so the result is the same float
 * PyTorch computes from the same statistics. */
void
rnn_model_normalize_input (const rnn_model *m, const float *in, float *out,
    size_t n_frames)
{
  size_t F = (size_t) m->input_size;
  for (size_t t = 0; t < n_frames; t++) {
    for (size_t i = 0; i < F; i++) {
      float x = in[t * F + i];
      if (m->in_mean != NULL)
        x -= m->in_mean[i];
      if (m->in_std != NULL)
        x /= m->in_std[i];
      out[t * F + i] = x;
    }
  }
}

/* x = x' * std + mean per input feature (the inverse of the above) */
void
rnn_model_denormalize_input (const rnn_model *m, const float *in, float *out,
    size_t n_frames)
{
  size_t F = (size_t) m->input_size;
  for (size_t t = 0; t < n_frames; t++) {
    for (size_t i = 0; i < F; i++) {
      float x = in[t * F + i];
      if (m->in_std != NULL)
        x *= m->in_std[i];
      if (m->in_mean != NULL)
        x += m->in_mean[i];
      out[t * F + i] = x;
    }
  }
}

/* y' = y * std + mean per output */
void
rnn_model_denormalize_output (const rnn_model *m, const float *in,
    float *out, size_t n_frames)
{
  size_t F = (size_t) m->output_size;
  for (size_t t = 0; t < n_frames; t++) {
    for (size_t i = 0; i < F; i++) {
      float y = in[t * F + i];
      if (m->out_std != NULL)
        y *= m->out_std[i];
      if (m->out_mean != NULL)
        y += m->out_mean[i];
      out[t * F + i] = y;
    }
  }
}
