/* gst-rnn: training. A minibatch forward pass that keeps what backward
 * needs, backpropagation through time for every cell, head mode and loss,
 * gradient clipping, SGD and Adam with PyTorch 1.13's formulas. (Models to
 * train are made in model-new.c.)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Layout. Inside a call everything is time-major: row t*B + b of a matrix is
 * frame t of sequence b, so the B rows of one time step are contiguous and a
 * step of the whole minibatch is one GEMM. The caller's batch is batch-first
 * ([B, T, F], like PyTorch's batch_first=True) and is transposed on entry.
 *
 * Per layer and direction the forward pass keeps:
 *   hbuf  [(T+1)*B, H]  the hidden states. The forward direction writes the
 *         output of time t to block t+1 (block 0 is the initial state); the
 *         reverse direction writes it to block t (block T is the initial
 *         state). Either way the states *entering* times 0..T-1 form one
 *         contiguous [T*B, H] matrix aligned with the gate rows, so
 *         dW_hh = dG^T H_prev is a single GEMM over the whole sequence.
 *   cbuf  the same for the LSTM cell state.
 *   acts  [T*B, W] post-activation gates: LSTM i, f, g, o (+ tanh(c') in a
 *         fifth block); GRU r, z, n, and hn = W_hn h + b_hn (needed for
 *         dr); RNN h'.
 * Padded frames (t >= length) carry the state through unchanged, so the
 * final state is the one after the last valid frame and the reverse
 * direction effectively starts there, as with pack_padded_sequence.
 */
#include "rnn-private.h"
#include "kernels.h"
#include "rng.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <string.h>

/* --------------------------------------------------------------- trainer */

typedef struct {
  float *hbuf;      /* [(T+1)*B, H] */
  float *cbuf;      /* LSTM: [(T+1)*B, H] */
  float *acts;      /* [T*B, aw] */
} dir_work;

struct rnn_trainer {
  rnn_model *m;
  rnn_train_config cfg;
  int L, D, H, G;
  int aw;             /* width of the kept activations per row */
  rng_t rng;

  rnn_param *params;
  size_t n_params;
  float **opt_m;      /* Adam first moment / SGD momentum buffer */
  float **opt_v;      /* Adam second moment */
  int64_t step;

  /* carried state (stateful), [L*D][B*H] each */
  float *h0, *c0;
  size_t state_batch;

  /* work buffers, valid for up to cap_rows = T*B rows and cap_b batch */
  size_t cap_rows, cap_b, cap_t;
  dir_work *dw;       /* [L*D] */
  float **x;          /* [L] layer inputs, [T*B, in_l] (x[l] may alias y[l-1]) */
  float **y;          /* [L] layer outputs, [T*B, D*H] */
  float **mask;       /* [L-1] dropout masks (0 or 1/(1-p)) */
  float *dx;          /* [T*B, max in] */
  float *dy;          /* [T*B, D*H] */
  float *dg_ih, *dg_hh;  /* [T*B, G*H] */
  float *hh;          /* GRU: [B, 3H] */
  float *dh, *dh2, *dc;  /* [B, H] */
  float *dhn;         /* [L*D][B*H] gradient arriving at the final states */
  float *feat, *dfeat;   /* [rows, head_in] */
  float *z, *dz;      /* [rows, out] */
  int32_t *ids_t;     /* [T*B] */
  size_t *len;        /* [B] */
  size_t *rows_idx;   /* [rows] time-major row of each loss row */
  float *ones;        /* [rows] ones (column sums as GEMV) */
  float *bias;        /* [G*H] */
};

void
rnn_train_config_init (rnn_train_config *cfg)
{
  memset (cfg, 0, sizeof *cfg);
  cfg->optimizer = RNN_OPTIM_ADAM;
  cfg->lr = 1e-3;
  cfg->beta1 = 0.9;
  cfg->beta2 = 0.999;
  cfg->eps = 1e-8;
  cfg->loss = RNN_LOSS_MSE;
  cfg->target = RNN_TARGET_ALL;
}

static void
add_param (rnn_trainer *t, char *name, int ndim, int64_t r, int64_t c,
    float *value)
{
  rnn_param *p = &t->params[t->n_params++];
  p->name = name;
  p->ndim = ndim;
  p->shape[0] = r;
  p->shape[1] = ndim == 2 ? c : 0;
  p->numel = (size_t) r * (ndim == 2 ? (size_t) c : 1);
  p->value = value;
  p->grad = g_try_new0 (float, p->numel);
}

static const char *
module_prefix (const rnn_model *m, const char *key, const char *def)
{
  const char *v = g_hash_table_lookup (m->meta, key);
  return v && *v ? v : def;
}

rnn_status
rnn_trainer_new (rnn_model *m, const rnn_train_config *cfg,
    rnn_trainer **out, rnn_error *err)
{
  rnn_trainer *t;
  const char *rp, *hp, *ep;

  if (out == NULL || m == NULL || cfg == NULL)
    return rnn__set_error (err, RNN_ERR_ARG,
        "rnn_trainer_new: NULL argument");
  *out = NULL;
  if (m->proj > 0)
    return rnn__set_error (err, RNN_ERR_UNSUPPORTED,
        "%s: LSTM projection (proj_size %d) trains only in PyTorch", m->name,
        m->proj);
  if (!(cfg->lr >= 0) || !(cfg->dropout >= 0 && cfg->dropout < 1)
      || !(cfg->weight_decay >= 0) || !(cfg->momentum >= 0)
      || !(cfg->beta1 >= 0 && cfg->beta1 < 1)
      || !(cfg->beta2 >= 0 && cfg->beta2 < 1) || !(cfg->eps >= 0))
    return rnn__set_error (err, RNN_ERR_ARG,
        "rnn_trainer_new: invalid hyper-parameter (lr %g, dropout %g, weight "
        "decay %g, momentum %g, betas %g %g, eps %g)", cfg->lr, cfg->dropout,
        cfg->weight_decay, cfg->momentum, cfg->beta1, cfg->beta2, cfg->eps);
  if (cfg->loss < RNN_LOSS_MSE || cfg->loss > RNN_LOSS_BCE_LOGITS)
    return rnn__set_error (err, RNN_ERR_ARG, "rnn_trainer_new: unknown loss %d",
        (int) cfg->loss);
  if (cfg->target == RNN_TARGET_LAST && m->head_input != RNN_HEAD_OUTPUT)
    return rnn__set_error (err, RNN_ERR_ARG,
        "rnn_trainer_new: target `last frame` needs head input `output`, "
        "the model's is `%s`", rnn__head_input_name (m->head_input));
  if (m->head_input == RNN_HEAD_FINAL_HIDDEN_BOTH
      && m->num_layers * m->num_dirs < 2)
    return rnn__set_error (err, RNN_ERR_MODEL,
        "%s: head input final_hidden_both needs two final states", m->name);

  t = g_new0 (rnn_trainer, 1);
  t->m = m;
  t->cfg = *cfg;
  t->L = m->num_layers;
  t->D = m->num_dirs;
  t->H = m->hidden;
  t->G = m->gates;
  t->aw = m->cell == RNN_CELL_LSTM ? 5 * t->H : m->cell == RNN_CELL_GRU
      ? 4 * t->H : t->H;
  rng_seed (&t->rng, cfg->seed);

  rp = module_prefix (m, "rnn.module", rnn__cell_module (m->cell));
  hp = module_prefix (m, "head.module", "fc");
  ep = module_prefix (m, "embedding.module", "embedding");
  t->params = g_new0 (rnn_param, 3 + 4 * t->L * t->D);
  if (m->emb)
    add_param (t, g_strdup_printf ("%s.weight", ep), 2, m->vocab,
        m->input_size, m->emb);
  for (int l = 0; l < t->L; l++) {
    for (int d = 0; d < t->D; d++) {
      rnn_dir_params *p = &m->params[l * t->D + d];
      const char *sfx = d ? "_reverse" : "";
      int gh = t->G * t->H;
      add_param (t, g_strdup_printf ("%s.weight_ih_l%d%s", rp, l, sfx), 2, gh,
          p->in, p->w_ih);
      add_param (t, g_strdup_printf ("%s.weight_hh_l%d%s", rp, l, sfx), 2, gh,
          t->H, p->w_hh);
      add_param (t, g_strdup_printf ("%s.bias_ih_l%d%s", rp, l, sfx), 1, gh, 0,
          p->b_ih);
      add_param (t, g_strdup_printf ("%s.bias_hh_l%d%s", rp, l, sfx), 1, gh, 0,
          p->b_hh);
    }
  }
  if (m->head_w) {
    add_param (t, g_strdup_printf ("%s.weight", hp), 2, m->head_out,
        m->head_in, m->head_w);
    add_param (t, g_strdup_printf ("%s.bias", hp), 1, m->head_out, 0,
        m->head_b);
  }
  t->opt_m = g_new0 (float *, t->n_params);
  t->opt_v = g_new0 (float *, t->n_params);
  t->dw = g_new0 (dir_work, t->L * t->D);
  t->x = g_new0 (float *, t->L);
  t->y = g_new0 (float *, t->L);
  t->mask = g_new0 (float *, t->L);
  for (size_t i = 0; i < t->n_params; i++) {
    if (t->params[i].grad == NULL) {
      rnn_trainer_free (t);
      return rnn__set_error (err, RNN_ERR_NOMEM,
          "rnn_trainer_new: out of memory for the gradients");
    }
  }
  *out = t;
  return RNN_OK;
}

static void
free_work (rnn_trainer *t)
{
  for (int i = 0; i < t->L * t->D; i++) {
    g_free (t->dw[i].hbuf);
    g_free (t->dw[i].cbuf);
    g_free (t->dw[i].acts);
  }
  memset (t->dw, 0, sizeof (dir_work) * t->L * t->D);
  for (int l = 0; l < t->L; l++)
    if (l == 0 || t->x[l] != t->y[l - 1])
      g_free (t->x[l]);      /* x[l] aliases y[l-1] without dropout */
  for (int l = 0; l < t->L; l++) {
    g_free (t->y[l]);
    g_free (t->mask[l]);
    t->x[l] = t->y[l] = t->mask[l] = NULL;
  }
  g_clear_pointer (&t->dx, g_free);
  g_clear_pointer (&t->dy, g_free);
  g_clear_pointer (&t->dg_ih, g_free);
  g_clear_pointer (&t->dg_hh, g_free);
  g_clear_pointer (&t->hh, g_free);
  g_clear_pointer (&t->dh, g_free);
  g_clear_pointer (&t->dh2, g_free);
  g_clear_pointer (&t->dc, g_free);
  g_clear_pointer (&t->dhn, g_free);
  g_clear_pointer (&t->feat, g_free);
  g_clear_pointer (&t->dfeat, g_free);
  g_clear_pointer (&t->z, g_free);
  g_clear_pointer (&t->dz, g_free);
  g_clear_pointer (&t->ids_t, g_free);
  g_clear_pointer (&t->len, g_free);
  g_clear_pointer (&t->rows_idx, g_free);
  g_clear_pointer (&t->ones, g_free);
  g_clear_pointer (&t->bias, g_free);
  t->cap_rows = t->cap_b = t->cap_t = 0;
}

void
rnn_trainer_free (rnn_trainer *t)
{
  if (t == NULL)
    return;
  free_work (t);
  for (size_t i = 0; i < t->n_params; i++) {
    g_free ((char *) t->params[i].name);
    g_free (t->params[i].grad);
    g_free (t->opt_m[i]);
    g_free (t->opt_v[i]);
  }
  g_free (t->params);
  g_free (t->opt_m);
  g_free (t->opt_v);
  g_free (t->h0);
  g_free (t->c0);
  g_free (t->dw);
  g_free (t->x);
  g_free (t->y);
  g_free (t->mask);
  g_free (t);
}

/* Make room for a call of @T frames of @B sequences. Grows only. false when
 * memory ran out (the work buffers are then all freed). */
static bool
ensure_work (rnn_trainer *t, size_t T, size_t B)
{
  const rnn_model *m = t->m;
  size_t rows = T * B, H = t->H, D = t->D, GH = (size_t) t->G * H;
  size_t maxin = MAX ((size_t) m->input_size, D * H);
  size_t frows;

  bool ok = true;

  if (rows <= t->cap_rows && B <= t->cap_b && T <= t->cap_t)
    return true;
  T = MAX (T, t->cap_t);
  B = MAX (B, t->cap_b);
  free_work (t);
  rows = T * B;
  frows = rows;   /* at most one loss row per frame */
  for (int i = 0; i < t->L * t->D; i++) {
    t->dw[i].hbuf = g_try_new0 (float, (rows + B) * H);
    if (m->cell == RNN_CELL_LSTM)
      t->dw[i].cbuf = g_try_new0 (float, (rows + B) * H);
    t->dw[i].acts = g_try_new0 (float, rows * t->aw);
  }
  for (int l = 0; l < t->L; l++) {
    t->y[l] = g_try_new0 (float, rows * D * H);
    if (l == 0)
      t->x[l] = g_try_new0 (float, rows * m->input_size);
    if (l + 1 < t->L && t->cfg.dropout > 0) {
      t->mask[l] = g_try_new0 (float, rows * D * H);
      t->x[l + 1] = g_try_new0 (float, rows * D * H);
    } else if (l + 1 < t->L) {
      t->x[l + 1] = t->y[l];
    }
  }
  t->dx = g_try_new0 (float, rows * maxin);
  t->dy = g_try_new0 (float, rows * D * H);
  t->dg_ih = g_try_new0 (float, rows * GH);
  t->dg_hh = g_try_new0 (float, rows * GH);
  t->hh = g_try_new0 (float, B * GH);
  t->dh = g_try_new0 (float, B * H);
  t->dh2 = g_try_new0 (float, B * H);
  t->dc = g_try_new0 (float, B * H);
  t->dhn = g_try_new0 (float, (size_t) t->L * D * B * H);
  t->feat = g_try_new0 (float, frows * m->head_in);
  t->dfeat = g_try_new0 (float, frows * m->head_in);
  t->z = g_try_new0 (float, frows * m->output_size);
  t->dz = g_try_new0 (float, frows * m->output_size);
  t->ids_t = g_try_new0 (int32_t, rows);
  t->len = g_try_new0 (size_t, B);
  t->rows_idx = g_try_new0 (size_t, frows);
  t->ones = g_try_new (float, rows);
  t->bias = g_try_new0 (float, GH);
  for (int i = 0; i < t->L * t->D; i++)
    ok = ok && t->dw[i].hbuf && t->dw[i].acts
        && (m->cell != RNN_CELL_LSTM || t->dw[i].cbuf);
  for (int l = 0; l < t->L; l++)
    ok = ok && t->y[l] && t->x[l] && (l + 1 == t->L || t->x[l + 1])
        && (l + 1 == t->L || t->cfg.dropout <= 0 || t->mask[l]);
  ok = ok && t->dx && t->dy && t->dg_ih && t->dg_hh && t->hh && t->dh
      && t->dh2 && t->dc && t->dhn && t->feat && t->dfeat && t->z && t->dz
      && t->ids_t && t->len && t->rows_idx && t->ones && t->bias;
  if (!ok) {
    free_work (t);
    return false;
  }
  for (size_t i = 0; i < rows; i++)
    t->ones[i] = 1.0f;
  t->cap_rows = rows;
  t->cap_b = B;
  t->cap_t = T;
  return true;
}

/* ------------------------------------------------------------ kernels */

static inline float
sigmoidf (float x)
{
  return 1.0f / (1.0f + expf (-x));
}

/* C[M, N] (ldc) = beta C + A[M, K] (lda) B[N, K]^T (ldb): rows of A times
 * rows of B, i.e. x W^T with W row-major. sgemv for one row (OpenBLAS
 * 0.3.21's sgemm is several times slower at M = 1). */
static void
mm_abt (int M, int N, int K, const float *A, int lda, const float *B, int ldb,
    float beta, float *C, int ldc)
{
  if (M == 1)
    cblas_sgemv (CblasRowMajor, CblasNoTrans, N, K, 1.0f, B, ldb, A, 1, beta,
        C, 1);
  else
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, A,
        lda, B, ldb, beta, C, ldc);
}

/* C[M, N] (ldc) = beta C + A[M, K] (lda) B[K, N] (ldb). */
static void
mm_ab (int M, int N, int K, const float *A, int lda, const float *B, int ldb,
    float beta, float *C, int ldc)
{
  if (M == 1)
    cblas_sgemv (CblasRowMajor, CblasTrans, K, N, 1.0f, B, ldb, A, 1, beta, C,
        1);
  else
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, A,
        lda, B, ldb, beta, C, ldc);
}

/* C[M, N] (ldc) += A[K, M]^T (lda) B[K, N] (ldb): the weight gradients,
 * summed over the K = T*B rows of the sequence. */
static void
mm_atb_acc (int M, int N, int K, const float *A, int lda, const float *B,
    int ldb, float *C, int ldc)
{
  cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, M, N, K, 1.0f, A, lda,
      B, ldb, 1.0f, C, ldc);
}

/* dst[j] += sum over @rows rows of src (ld); @ones holds @rows ones */
static void
colsum_acc (const float *ones, const float *src, size_t rows, int n, int ld,
    float *dst)
{
  cblas_sgemv (CblasRowMajor, CblasTrans, (int) rows, n, 1.0f, src, ld, ones,
      1, 1.0f, dst, 1);
}

/* --------------------------------------------------------- forward pass */


/* Is frame @ti of sequence @b a real (not padded) frame? */
#define VALID(t, ti, b) ((size_t) (ti) < (t)->len[b])

static rnn_param *
find_grad (rnn_trainer *t, const float *value)
{
  for (size_t i = 0; i < t->n_params; i++)
    if (t->params[i].value == value)
      return &t->params[i];
  return NULL;
}

/* One direction of one layer over the whole call. @in: [T*B, in]. */
static void
forward_dir (rnn_trainer *t, int l, int d, const float *in, size_t T,
    size_t B)
{
  const rnn_model *m = t->m;
  const rnn_dir_params *p = &m->params[l * t->D + d];
  dir_work *w = &t->dw[l * t->D + d];
  const int H = t->H, D = t->D, GH = t->G * H, aw = t->aw;
  const size_t rows = T * B;
  const int off = d == 0 ? 1 : 0;   /* output of time ti is block ti+off */
  float *y = t->y[l];
  const rnn_kernels *K = rnn__kernels_get ();

  /* Initial state into its block. */
  {
    size_t blk = d == 0 ? 0 : T;
    float *h = w->hbuf + blk * B * H;
    if (t->cfg.stateful && t->h0)
      memcpy (h, t->h0 + (size_t) (l * D + d) * B * H, B * H * sizeof (float));
    else
      memset (h, 0, B * H * sizeof (float));
    if (w->cbuf) {
      float *c = w->cbuf + blk * B * H;
      if (t->cfg.stateful && t->c0)
        memcpy (c, t->c0 + (size_t) (l * D + d) * B * H,
            B * H * sizeof (float));
      else
        memset (c, 0, B * H * sizeof (float));
    }
  }

  /* Input projections of all frames at once: acts[:, :GH] = X W_ih^T + b_ih
   * (+ b_hh folded in, except for the GRU whose b_hn must stay inside
   * r * (W_hn h + b_hn)). */
  for (int j = 0; j < GH; j++)
    t->bias[j] = p->b_ih[j] + (m->cell == RNN_CELL_GRU ? 0.0f : p->b_hh[j]);
  for (size_t r = 0; r < rows; r++)
    memcpy (w->acts + r * aw, t->bias, GH * sizeof (float));
  mm_abt ((int) rows, GH, p->in, in, p->in, p->w_ih, p->in, 1.0f, w->acts,
      aw);

  for (size_t s = 0; s < T; s++) {
    size_t ti = d == 0 ? s : T - 1 - s;
    const float *hprev = w->hbuf + (ti + 1 - off) * B * H;
    float *hout = w->hbuf + (ti + off) * B * H;
    const float *cprev = w->cbuf ? w->cbuf + (ti + 1 - off) * B * H : NULL;
    float *cout = w->cbuf ? w->cbuf + (ti + off) * B * H : NULL;
    float *a = w->acts + ti * B * aw;

    if (m->cell == RNN_CELL_GRU) {
      for (size_t b = 0; b < B; b++)
        memcpy (t->hh + b * GH, p->b_hh, GH * sizeof (float));
      mm_abt ((int) B, GH, H, hprev, H, p->w_hh, H, 1.0f, t->hh, GH);
    } else {
      mm_abt ((int) B, GH, H, hprev, H, p->w_hh, H, 1.0f, a, aw);
    }

    for (size_t b = 0; b < B; b++) {
      float *ab = a + b * aw;
      const float *hp = hprev + b * H;
      float *ho = hout + b * H;
      float *yo = y + (ti * B + b) * (size_t) (D * H) + d * H;
      if (!VALID (t, ti, b)) {
        memcpy (ho, hp, H * sizeof (float));
        if (cout)
          memcpy (cout + b * H, cprev + b * H, H * sizeof (float));
        memset (yo, 0, H * sizeof (float));
        continue;
      }
      switch (m->cell) {
        case RNN_CELL_LSTM: {
          /* c' = f c + i g,  h' = o tanh(c'); acts keeps i f g o tanh(c') */
          const float *cp = cprev + b * H;
          float *co = cout + b * H;
          K->sigmoid (ab, ab, 2 * H);
          K->tanh (ab + 2 * H, ab + 2 * H, H);
          K->sigmoid (ab + 3 * H, ab + 3 * H, H);
          #pragma GCC ivdep
          for (int k = 0; k < H; k++)
            co[k] = ab[H + k] * cp[k] + ab[k] * ab[2 * H + k];
          K->tanh (co, ab + 4 * H, H);
          #pragma GCC ivdep
          for (int k = 0; k < H; k++)
            ho[k] = ab[3 * H + k] * ab[4 * H + k];
          break;
        }
        case RNN_CELL_GRU: {
          /* r, z, n = tanh(a_n + r hn), h' = (1 - z) n + z h; acts keeps
           * r z n hn */
          const float *hb = t->hh + b * GH;
          for (int k = 0; k < 2 * H; k++)
            ab[k] += hb[k];
          K->sigmoid (ab, ab, 2 * H);
          for (int k = 0; k < H; k++) {
            ab[3 * H + k] = hb[2 * H + k];
            ab[2 * H + k] += ab[k] * hb[2 * H + k];
          }
          K->tanh (ab + 2 * H, ab + 2 * H, H);
          for (int k = 0; k < H; k++) {
            float z = ab[H + k], n = ab[2 * H + k];
            ho[k] = (1.0f - z) * n + z * hp[k];
          }
          break;
        }
        case RNN_CELL_RNN_TANH:
          K->tanh (ab, ab, H);
          memcpy (ho, ab, H * sizeof (float));
          break;
        case RNN_CELL_RNN_RELU:
          for (int k = 0; k < H; k++)
            ho[k] = ab[k] = ab[k] > 0.0f ? ab[k] : 0.0f;
          break;
      }
      memcpy (yo, ho, H * sizeof (float));
    }
  }

  /* Carry the final state (detached) for the next call. */
  if (t->cfg.stateful) {
    size_t blk = d == 0 ? T : 0;
    memcpy (t->h0 + (size_t) (l * D + d) * B * H, w->hbuf + blk * B * H,
        B * H * sizeof (float));
    if (w->cbuf)
      memcpy (t->c0 + (size_t) (l * D + d) * B * H, w->cbuf + blk * B * H,
          B * H * sizeof (float));
  }
}

/* The rows the head reads, as feature vectors in t->feat ([rows, head_in]);
 * returns the number of rows and fills t->rows_idx (for `output` heads: the
 * time-major row each loss row comes from). Rows are in batch-first order
 * (sequence b, then frame), matching the caller's targets. */
static size_t
gather_features (rnn_trainer *t, size_t T, size_t B)
{
  const rnn_model *m = t->m;
  const int H = t->H, D = t->D, DH = D * H, hin = m->head_in;
  const float *top = t->y[t->L - 1];
  size_t n = 0;

  switch (m->head_input) {
    case RNN_HEAD_OUTPUT:
      for (size_t b = 0; b < B; b++) {
        if (t->cfg.target == RNN_TARGET_LAST) {
          size_t r = (t->len[b] - 1) * B + b;
          t->rows_idx[n] = r;
          memcpy (t->feat + n * hin, top + r * DH, DH * sizeof (float));
          n++;
        } else {
          for (size_t ti = 0; ti < t->len[b]; ti++) {
            size_t r = ti * B + b;
            t->rows_idx[n] = r;
            memcpy (t->feat + n * hin, top + r * DH, DH * sizeof (float));
            n++;
          }
        }
      }
      break;
    case RNN_HEAD_MEAN:
      for (size_t b = 0; b < B; b++) {
        float *f = t->feat + b * hin;
        memset (f, 0, hin * sizeof (float));
        for (size_t ti = 0; ti < t->len[b]; ti++) {
          const float *yr = top + (ti * B + b) * DH;
          for (int k = 0; k < DH; k++)
            f[k] += yr[k];
        }
        for (int k = 0; k < DH; k++)
          f[k] /= (float) t->len[b];
      }
      n = B;
      break;
    case RNN_HEAD_FINAL_HIDDEN:
    case RNN_HEAD_FINAL_HIDDEN_BOTH: {
      /* h_n[-1] (and h_n[-2]): state index layer*D + dir */
      int nst = m->head_input == RNN_HEAD_FINAL_HIDDEN ? 1 : 2;
      for (int j = 0; j < nst; j++) {
        int k = t->L * D - nst + j;
        int d = k % D;
        const dir_work *w = &t->dw[k];
        const float *hf = w->hbuf + (d == 0 ? T : 0) * B * H;
        for (size_t b = 0; b < B; b++)
          memcpy (t->feat + b * hin + j * H, hf + b * H, H * sizeof (float));
      }
      n = B;
      break;
    }
  }
  return n;
}

static rnn_status
check_batch (rnn_trainer *t, const rnn_minibatch *bt, bool need_targets,
    rnn_error *err)
{
  const rnn_model *m = t->m;
  if (bt == NULL || bt->batch < 1 || bt->frames < 1)
    return rnn__set_error (err, RNN_ERR_ARG,
        "training batch: needs at least 1 sequence of at least 1 frame");
  if (bt->batch > INT_MAX / MAX (bt->frames, 1) / 8)
    return rnn__set_error (err, RNN_ERR_ARG,
        "training batch: %zu sequences of %zu frames is too large",
        bt->batch, bt->frames);
  if (m->emb && bt->ids == NULL)
    return rnn__set_error (err, RNN_ERR_ARG,
        "training batch: %s is a text model: token ids needed", m->name);
  if (!m->emb && bt->x == NULL)
    return rnn__set_error (err, RNN_ERR_ARG,
        "training batch: %s is a signal model: input frames needed", m->name);
  if (need_targets) {
    if (t->cfg.loss == RNN_LOSS_CROSS_ENTROPY && bt->classes == NULL)
      return rnn__set_error (err, RNN_ERR_ARG,
          "training batch: cross-entropy needs class targets");
    if (t->cfg.loss != RNN_LOSS_CROSS_ENTROPY && bt->y == NULL)
      return rnn__set_error (err, RNN_ERR_ARG,
          "training batch: %s needs float targets",
          t->cfg.loss == RNN_LOSS_MSE ? "MSE" : "BCE");
  }
  if (bt->lengths) {
    for (size_t b = 0; b < bt->batch; b++)
      if (bt->lengths[b] < 1 || bt->lengths[b] > bt->frames)
        return rnn__set_error (err, RNN_ERR_ARG,
            "training batch: sequence %zu has length %zu, expected 1..%zu",
            b, bt->lengths[b], bt->frames);
  }
  if (t->cfg.stateful && t->h0 && t->state_batch != bt->batch)
    return rnn__set_error (err, RNN_ERR_ARG,
        "training batch: stateful trainer carries %zu sequences, got %zu "
        "(reset the state to change the batch size)", t->state_batch,
        bt->batch);
  if (m->emb) {
    size_t n = bt->batch * bt->frames;
    for (size_t i = 0; i < n; i++)
      if (bt->ids[i] < 0 || bt->ids[i] >= m->vocab)
        return rnn__set_error (err, RNN_ERR_ARG,
            "training batch: token id %d (sequence %zu, frame %zu) outside "
            "the vocabulary of %d", (int) bt->ids[i], i / bt->frames,
            i % bt->frames, m->vocab);
  }
  return RNN_OK;
}

/* Forward over the batch; the number of head rows into *n_rows. */
static rnn_status
forward (rnn_trainer *t, const rnn_minibatch *bt, bool train, size_t *n_rows,
    rnn_error *err)
{
  rnn_model *m = t->m;
  const size_t T = bt->frames, B = bt->batch, rows = T * B;
  const int NI = m->input_size, DH = t->D * t->H;
  size_t n;

  if (!ensure_work (t, T, B))
    return rnn__set_error (err, RNN_ERR_NOMEM,
        "training: out of memory for a batch of %zu sequences of %zu frames",
        B, T);
  if (t->cfg.stateful && t->h0 == NULL) {
    size_t sz = (size_t) t->L * t->D * B * t->H;
    t->h0 = g_try_new0 (float, sz);
    if (m->cell == RNN_CELL_LSTM)
      t->c0 = g_try_new0 (float, sz);
    if (t->h0 == NULL || (m->cell == RNN_CELL_LSTM && t->c0 == NULL)) {
      rnn_trainer_reset_state (t);
      return rnn__set_error (err, RNN_ERR_NOMEM,
          "training: out of memory for the carried state");
    }
    t->state_batch = B;
  }
  for (size_t b = 0; b < B; b++)
    t->len[b] = bt->lengths ? bt->lengths[b] : T;

  /* Batch-first input to time-major. */
  for (size_t b = 0; b < B; b++) {
    for (size_t ti = 0; ti < T; ti++) {
      float *dst = t->x[0] + (ti * B + b) * NI;
      if (m->emb) {
        int32_t id = bt->ids[b * T + ti];
        t->ids_t[ti * B + b] = id;
        memcpy (dst, m->emb + (size_t) id * NI, NI * sizeof (float));
      } else {
        memcpy (dst, bt->x + (b * T + ti) * NI, NI * sizeof (float));
      }
    }
  }

  for (int l = 0; l < t->L; l++) {
    for (int d = 0; d < t->D; d++)
      forward_dir (t, l, d, t->x[l], T, B);
    if (l + 1 < t->L && t->mask[l]) {
      /* Dropout between layers: Bernoulli(1 - p) mask scaled by 1/(1-p);
       * identity in eval mode. */
      float keep = (float) (1.0 / (1.0 - t->cfg.dropout));
      /* drop when a uniform 32-bit draw is below p * 2^32 */
      uint32_t thr = (uint32_t) MIN (t->cfg.dropout * 4294967296.0,
          4294967295.0);
      float *mk = t->mask[l], *xn = t->x[l + 1];
      const float *yl = t->y[l];
      if (!train) {
        for (size_t i = 0; i < rows * DH; i++)
          mk[i] = 1.0f;
      } else {
        for (size_t i = 0; i < rows * DH; i += 2) {
          uint64_t r = rng_next (&t->rng);
          mk[i] = (uint32_t) r >= thr ? keep : 0.0f;
          if (i + 1 < rows * DH)
            mk[i + 1] = (uint32_t) (r >> 32) >= thr ? keep : 0.0f;
        }
      }
      for (size_t i = 0; i < rows * DH; i++)
        xn[i] = yl[i] * mk[i];
    }
  }

  n = gather_features (t, T, B);
  if (m->head_w) {
    for (size_t r = 0; r < n; r++)
      memcpy (t->z + r * m->output_size, m->head_b,
          m->output_size * sizeof (float));
    mm_abt ((int) n, m->head_out, m->head_in, t->feat, m->head_in, m->head_w,
        m->head_in, 1.0f, t->z, m->output_size);
  } else {
    memcpy (t->z, t->feat, n * m->head_in * sizeof (float));
  }
  *n_rows = n;
  return RNN_OK;
}

/* Loss over @n rows of t->z; gradient dL/dz into t->dz. The target row of
 * head row r: batch-first (sequence b, frame ti) for per-frame targets. */
static rnn_status
loss_fn (rnn_trainer *t, const rnn_minibatch *bt, size_t n, double *loss,
    rnn_error *err)
{
  const rnn_model *m = t->m;
  const int O = m->output_size;
  const bool per_frame = m->head_input == RNN_HEAD_OUTPUT
      && t->cfg.target == RNN_TARGET_ALL;
  double acc = 0.0;

  for (size_t r = 0; r < n; r++) {
    /* index of the target row in the caller's layout */
    size_t tr = r;
    const float *z = t->z + r * O;
    float *dz = t->dz + r * O;
    if (per_frame) {
      size_t row = t->rows_idx[r];
      tr = (row % bt->batch) * bt->frames + row / bt->batch;
    }
    switch (t->cfg.loss) {
      case RNN_LOSS_MSE: {
        const float *y = bt->y + tr * O;
        float s = 2.0f / (float) (n * O);
        for (int k = 0; k < O; k++) {
          float e = z[k] - y[k];
          acc += (double) e * e;
          dz[k] = s * e;
        }
        break;
      }
      case RNN_LOSS_BCE_LOGITS: {
        /* max(z,0) - z y + log(1 + exp(-|z|)); d/dz = sigmoid(z) - y */
        const float *y = bt->y + tr * O;
        float s = 1.0f / (float) (n * O);
        for (int k = 0; k < O; k++) {
          double zk = z[k];
          acc += (zk > 0 ? zk : 0) - zk * y[k] + log1p (exp (-fabs (zk)));
          dz[k] = s * (sigmoidf (z[k]) - y[k]);
        }
        break;
      }
      case RNN_LOSS_CROSS_ENTROPY: {
        /* logsumexp(z) - z[c]; d/dz = softmax(z) - onehot(c) */
        int32_t c = bt->classes[tr];
        double mx = z[0], se = 0.0;
        if (c < 0 || c >= O)
          return rnn__set_error (err, RNN_ERR_ARG,
              "training batch: class %d of row %zu outside 0..%d", (int) c,
              tr, O - 1);
        for (int k = 1; k < O; k++)
          mx = MAX (mx, (double) z[k]);
        for (int k = 0; k < O; k++)
          se += exp ((double) z[k] - mx);
        acc += mx + log (se) - z[c];
        for (int k = 0; k < O; k++)
          dz[k] = (float) (exp ((double) z[k] - mx) / se) / (float) n;
        dz[c] -= 1.0f / (float) n;
        break;
      }
    }
  }
  if (t->cfg.loss == RNN_LOSS_CROSS_ENTROPY)
    *loss = acc / (double) n;
  else
    *loss = acc / ((double) n * O);
  return RNN_OK;
}

/* -------------------------------------------------------------- backward */

static void
backward_dir (rnn_trainer *t, int l, int d, const float *in, size_t T,
    size_t B, float *dx)
{
  const rnn_model *m = t->m;
  const rnn_dir_params *p = &m->params[l * t->D + d];
  dir_work *w = &t->dw[l * t->D + d];
  const int H = t->H, D = t->D, GH = t->G * H, aw = t->aw;
  const size_t rows = T * B;
  const int off = d == 0 ? 1 : 0;
  const bool gru = m->cell == RNN_CELL_GRU;
  float *dgi = t->dg_ih, *dgh = gru ? t->dg_hh : t->dg_ih;
  float *dh = t->dh, *dhp = t->dh2, *dc = t->dc;
  const float *dy = t->dy;
  rnn_param *gwi = find_grad (t, p->w_ih), *gwh = find_grad (t, p->w_hh);
  rnn_param *gbi = find_grad (t, p->b_ih), *gbh = find_grad (t, p->b_hh);

  memcpy (dh, t->dhn + (size_t) (l * D + d) * B * H, B * H * sizeof (float));
  memset (dc, 0, B * H * sizeof (float));

  /* Walk the steps in the reverse of the order they were computed. */
  for (size_t s = T; s-- > 0;) {
    size_t ti = d == 0 ? s : T - 1 - s;
    const float *hprev = w->hbuf + (ti + 1 - off) * B * H;
    const float *cprev = w->cbuf ? w->cbuf + (ti + 1 - off) * B * H : NULL;
    const float *a = w->acts + ti * B * aw;
    float *gi = dgi + ti * B * GH, *gh = dgh + ti * B * GH;

    for (size_t b = 0; b < B; b++) {
      const float *ab = a + b * aw;
      float *dhb = dh + b * H, *dpb = dhp + b * H, *dcb = dc + b * H;
      float *gib = gi + b * GH, *ghb = gh + b * GH;
      if (!VALID (t, ti, b)) {
        /* padded frame: the state went through unchanged */
        memcpy (dpb, dhb, H * sizeof (float));
        memset (gib, 0, GH * sizeof (float));
        if (gru)
          memset (ghb, 0, GH * sizeof (float));
        continue;
      }
      {
        const float *dyb = dy + (ti * B + b) * (size_t) (D * H) + d * H;
        #pragma GCC ivdep
        for (int k = 0; k < H; k++)
          dhb[k] += dyb[k];
      }
      switch (m->cell) {
        case RNN_CELL_LSTM: {
          const float *cp = cprev + b * H;
          #pragma GCC ivdep
          for (int k = 0; k < H; k++) {
            float ig = ab[k], fg = ab[H + k], gg = ab[2 * H + k];
            float og = ab[3 * H + k], tc = ab[4 * H + k];
            float dcs = dcb[k] + dhb[k] * og * (1.0f - tc * tc);
            float dog = dhb[k] * tc;
            gib[k] = dcs * gg * ig * (1.0f - ig);
            gib[H + k] = dcs * cp[k] * fg * (1.0f - fg);
            gib[2 * H + k] = dcs * ig * (1.0f - gg * gg);
            gib[3 * H + k] = dog * og * (1.0f - og);
            dcb[k] = dcs * fg;
            dpb[k] = 0.0f;
          }
          break;
        }
        case RNN_CELL_GRU: {
          const float *hp = hprev + b * H;
          #pragma GCC ivdep
          for (int k = 0; k < H; k++) {
            float r = ab[k], z = ab[H + k], n = ab[2 * H + k];
            float hn = ab[3 * H + k];
            float g = dhb[k];
            float dn = g * (1.0f - z) * (1.0f - n * n);   /* d n_pre */
            float dz = g * (hp[k] - n) * z * (1.0f - z);
            float dr = dn * hn * r * (1.0f - r);
            gib[k] = ghb[k] = dr;
            gib[H + k] = ghb[H + k] = dz;
            gib[2 * H + k] = dn;
            ghb[2 * H + k] = dn * r;     /* dL/db_hn = r * dn_pre */
            dpb[k] = g * z;
          }
          break;
        }
        case RNN_CELL_RNN_TANH:
          for (int k = 0; k < H; k++) {
            gib[k] = dhb[k] * (1.0f - ab[k] * ab[k]);
            dpb[k] = 0.0f;
          }
          break;
        case RNN_CELL_RNN_RELU:
          for (int k = 0; k < H; k++) {
            gib[k] = ab[k] > 0.0f ? dhb[k] : 0.0f;
            dpb[k] = 0.0f;
          }
          break;
      }
    }
    /* dh_prev += dG_hh W_hh (padded rows have dG = 0) */
    mm_ab ((int) B, H, GH, gh, GH, p->w_hh, H, 1.0f, dhp, H);
    {
      float *tmp = dh;
      dh = dhp;
      dhp = tmp;
    }
  }

  /* Weight gradients over the whole sequence. */
  mm_atb_acc (GH, p->in, (int) rows, dgi, GH, in, p->in, gwi->grad, p->in);
  mm_atb_acc (GH, H, (int) rows, dgh, GH,
      w->hbuf + (size_t) (1 - off) * B * H, H, gwh->grad, H);
  colsum_acc (t->ones, dgi, rows, GH, GH, gbi->grad);
  colsum_acc (t->ones, dgh, rows, GH, GH, gbh->grad);
  if (dx)
    mm_ab ((int) rows, p->in, GH, dgi, GH, p->w_ih, p->in, 1.0f, dx, p->in);
}

static void
backward (rnn_trainer *t, size_t T, size_t B, size_t n)
{
  rnn_model *m = t->m;
  const int H = t->H, D = t->D, DH = D * H, hin = m->head_in;
  const size_t rows = T * B;

  /* Head: dW += dz^T feat, db += colsum dz, dfeat = dz W. */
  if (m->head_w) {
    rnn_param *gw = find_grad (t, m->head_w), *gb = find_grad (t, m->head_b);
    mm_atb_acc (m->head_out, hin, (int) n, t->dz, m->output_size, t->feat,
        hin, gw->grad, hin);
    colsum_acc (t->ones, t->dz, n, m->head_out, m->output_size, gb->grad);
    mm_ab ((int) n, hin, m->head_out, t->dz, m->output_size, m->head_w, hin,
        0.0f, t->dfeat, hin);
  } else {
    memcpy (t->dfeat, t->dz, n * hin * sizeof (float));
  }

  /* Head features back to the top layer's outputs or final states. */
  memset (t->dy, 0, rows * DH * sizeof (float));
  memset (t->dhn, 0, (size_t) t->L * D * B * H * sizeof (float));
  switch (m->head_input) {
    case RNN_HEAD_OUTPUT:
      for (size_t r = 0; r < n; r++) {
        float *dst = t->dy + t->rows_idx[r] * DH;
        const float *src = t->dfeat + r * hin;
        for (int k = 0; k < DH; k++)
          dst[k] += src[k];
      }
      break;
    case RNN_HEAD_MEAN:
      for (size_t b = 0; b < B; b++) {
        const float *src = t->dfeat + b * hin;
        float inv = 1.0f / (float) t->len[b];
        for (size_t ti = 0; ti < t->len[b]; ti++) {
          float *dst = t->dy + (ti * B + b) * DH;
          for (int k = 0; k < DH; k++)
            dst[k] = src[k] * inv;
        }
      }
      break;
    case RNN_HEAD_FINAL_HIDDEN:
    case RNN_HEAD_FINAL_HIDDEN_BOTH: {
      int nst = m->head_input == RNN_HEAD_FINAL_HIDDEN ? 1 : 2;
      for (int j = 0; j < nst; j++) {
        int k = t->L * D - nst + j;
        float *dst = t->dhn + (size_t) k * B * H;
        for (size_t b = 0; b < B; b++)
          memcpy (dst + b * H, t->dfeat + b * hin + j * H,
              H * sizeof (float));
      }
      break;
    }
  }

  for (int l = t->L - 1; l >= 0; l--) {
    const int in = m->params[l * D].in;
    bool need_dx = l > 0 || m->emb != NULL;
    float *dx = need_dx ? t->dx : NULL;
    if (dx)
      memset (dx, 0, rows * in * sizeof (float));
    for (int d = 0; d < D; d++)
      backward_dir (t, l, d, t->x[l], T, B, dx);
    if (l > 0) {
      /* dY of the layer below, through the dropout mask */
      const float *mk = t->mask[l - 1];
      for (size_t i = 0; i < rows * DH; i++)
        t->dy[i] = mk ? dx[i] * mk[i] : dx[i];
    } else if (m->emb) {
      /* Embedding: only the rows used, never the padding row. */
      rnn_param *ge = find_grad (t, m->emb);
      for (size_t r = 0; r < rows; r++) {
        int32_t id = t->ids_t[r];
        size_t b = r % B, ti = r / B;
        if (id == m->pad_id && g_hash_table_contains (m->meta,
                "tokenizer.pad_id"))
          continue;
        if (!VALID (t, ti, b))
          continue;
        for (int k = 0; k < in; k++)
          ge->grad[(size_t) id * in + k] += dx[r * in + k];
      }
    }
  }
}

static rnn_status
run (rnn_trainer *t, const rnn_minibatch *b, bool train, double *loss,
    float *outputs, rnn_error *err)
{
  rnn_status st;
  size_t n = 0;
  double l = 0.0;

  if (t == NULL)
    return rnn__set_error (err, RNN_ERR_ARG, "trainer is NULL");
  st = check_batch (t, b, train || loss != NULL, err);
  if (st != RNN_OK)
    return st;
  st = forward (t, b, train, &n, err);
  if (st != RNN_OK)
    return st;
  if (outputs)
    memcpy (outputs, t->z, n * t->m->output_size * sizeof (float));
  if (train || loss) {
    st = loss_fn (t, b, n, &l, err);
    if (st != RNN_OK)
      return st;
    if (loss)
      *loss = l;
  }
  if (train)
    backward (t, b->frames, b->batch, n);
  return RNN_OK;
}

rnn_status
rnn_trainer_backward (rnn_trainer *t, const rnn_minibatch *b, double *loss,
    float *outputs, rnn_error *err)
{
  return run (t, b, true, loss, outputs, err);
}

rnn_status
rnn_trainer_evaluate (rnn_trainer *t, const rnn_minibatch *b, double *loss,
    float *outputs, rnn_error *err)
{
  return run (t, b, false, loss, outputs, err);
}

void
rnn_trainer_zero_grad (rnn_trainer *t)
{
  if (t == NULL)
    return;
  for (size_t i = 0; i < t->n_params; i++)
    memset (t->params[i].grad, 0, t->params[i].numel * sizeof (float));
}

void
rnn_trainer_reset_state (rnn_trainer *t)
{
  if (t == NULL)
    return;
  g_clear_pointer (&t->h0, g_free);
  g_clear_pointer (&t->c0, g_free);
  t->state_batch = 0;
}

double
rnn_trainer_clip_grad_norm (rnn_trainer *t, double max_norm)
{
  double total = 0.0;
  float coef;

  if (t == NULL)
    return 0.0;
  /* sqrt of the sum of squared per-parameter norms (what torch computes as
   * the norm of the stacked norms), accumulated in double */
  for (size_t i = 0; i < t->n_params; i++) {
    const float *g = t->params[i].grad;
    double s = 0.0;
    for (size_t j = 0; j < t->params[i].numel; j++)
      s += (double) g[j] * g[j];
    total += s;
  }
  total = sqrt (total);
  total = (float) total;  /* torch returns a float32 tensor */
  if (max_norm <= 0)
    return total;
  coef = (float) (max_norm / (total + 1e-6));
  if (coef < 1.0f) {
    for (size_t i = 0; i < t->n_params; i++) {
      float *g = t->params[i].grad;
      for (size_t j = 0; j < t->params[i].numel; j++)
        g[j] *= coef;
    }
  }
  return total;
}

rnn_status
rnn_trainer_step (rnn_trainer *t, rnn_error *err)
{
  const rnn_train_config *c;
  bool adam, first;
  if (t == NULL)
    return rnn__set_error (err, RNN_ERR_ARG, "trainer is NULL");
  c = &t->cfg;
  adam = c->optimizer == RNN_OPTIM_ADAM;

  /* Optimiser state first, so that running out of memory changes nothing. */
  for (size_t i = 0; i < t->n_params; i++) {
    size_t n = t->params[i].numel;
    if ((adam || c->momentum != 0) && t->opt_m[i] == NULL)
      t->opt_m[i] = g_try_new0 (float, n);
    if (adam && t->opt_v[i] == NULL)
      t->opt_v[i] = g_try_new0 (float, n);
    if (((adam || c->momentum != 0) && t->opt_m[i] == NULL)
        || (adam && t->opt_v[i] == NULL))
      return rnn__set_error (err, RNN_ERR_NOMEM,
          "optimiser: out of memory for the state of %s", t->params[i].name);
  }
  t->step++;
  first = t->step == 1;

  for (size_t i = 0; i < t->n_params; i++) {
    rnn_param *p = &t->params[i];
    float *v = p->value;
    const float *g = p->grad;
    const float wd = (float) c->weight_decay;
    size_t n = p->numel;

    if (adam) {
      /* m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
       * p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps),
       * the bias corrections in double as torch does. */
      const float b1 = (float) c->beta1, b2 = (float) c->beta2;
      const float a1 = (float) (1.0 - c->beta1), a2 = (float) (1.0 - c->beta2);
      double bc1 = 1.0 - pow (c->beta1, (double) t->step);
      double bc2 = 1.0 - pow (c->beta2, (double) t->step);
      const float step_size = (float) (c->lr / bc1);
      const float bc2s = (float) sqrt (bc2);
      const float eps = (float) c->eps;
      float *mo = t->opt_m[i], *vo = t->opt_v[i];
      for (size_t j = 0; j < n; j++) {
        float gj = wd != 0.0f ? g[j] + wd * v[j] : g[j];
        mo[j] = mo[j] * b1 + a1 * gj;
        vo[j] = vo[j] * b2 + a2 * gj * gj;
        v[j] -= step_size * (mo[j] / (sqrtf (vo[j]) / bc2s + eps));
      }
    } else {
      /* SGD: d = g + wd p; buf = d (first step) or momentum buf + d;
       * nesterov: d += momentum buf, else d = buf; p -= lr d */
      const float mu = (float) c->momentum, lr = (float) c->lr;
      float *buf = mu != 0.0f ? t->opt_m[i] : NULL;
      for (size_t j = 0; j < n; j++) {
        float dj = wd != 0.0f ? g[j] + wd * v[j] : g[j];
        if (buf) {
          buf[j] = first ? dj : buf[j] * mu + dj;
          dj = c->nesterov ? dj + mu * buf[j] : buf[j];
        }
        v[j] -= lr * dj;
      }
    }
  }
  return RNN_OK;
}

void
rnn_trainer_set_lr (rnn_trainer *t, double lr)
{
  if (t)
    t->cfg.lr = lr;
}

rnn_status
rnn_trainer_sync (rnn_trainer *t, rnn_error *err)
{
  if (t == NULL)
    return rnn__set_error (err, RNN_ERR_ARG, "trainer is NULL");
  rnn__engine_release (t->m);
  return rnn__engine_prepare (t->m, err);
}

size_t
rnn_trainer_num_params (const rnn_trainer *t)
{
  return t ? t->n_params : 0;
}

const rnn_param *
rnn_trainer_param (const rnn_trainer *t, size_t i)
{
  return t && i < t->n_params ? &t->params[i] : NULL;
}
