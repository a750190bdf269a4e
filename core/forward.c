/* gst-rnn: the forward engine (inference with PyTorch 1.13 semantics).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A call runs layer after layer over a block of frames:
 *  1. the input projection of the whole block for one layer and direction,
 *     Gx[t] = W_ih x_t + bias, is one GEMM (the register-tiled product of
 *     rnn__streams_product on the packed W_ih, or rnn__gemm_xwt);
 *  2. then the recurrence runs frame by frame: one packed GEMV W_hh h and a
 *     fused element-wise cell update (kernels.h);
 *  3. the layer's outputs, [T, D*Hout], are the next layer's input.
 * Unidirectional models process a long call in blocks of max_frames frames
 * with the state carried, which is the same computation. A bidirectional
 * layer needs the whole call before its reverse direction can start, so its
 * output buffers span the whole call (grown once when a call is longer than
 * any before; the GEMM blocks stay max_frames long).
 *
 * Cell equations (PyTorch 1.13, rows in this order in W_ih/W_hh/biases):
 *  RNN : h' = act(W_ih x + b_ih + W_hh h + b_hh), act = tanh or relu
 *  LSTM: [i f g o] = W_ih x + b_ih + W_hh h + b_hh
 *        c' = sigmoid(f) c + sigmoid(i) tanh(g), h' = sigmoid(o) tanh(c')
 *        with a projection h' <- W_hr h' (the state h has P values, c has H)
 *  GRU : [r z n] rows; r, z = sigmoid(W_i* x + b_i* + W_h* h + b_h*)
 *        n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h' = (1 - z) n + z h
 * Every bias pair is pre-summed into the input projection except b_hn,
 * which sits inside the product with r and stays separate.
 */
#include "engine.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------- engine data */

/* Blocks of at most this many frames compute their input projection with
 * the packed GEMV, frame by frame: a CBLAS call costs more than the work
 * for one or two frames (streaming one frame per call is the common
 * case). */
#define SMALL_BLOCK 2

static void
engine_free (rnn_engine *e)
{
  if (e == NULL)
    return;
  for (int i = 0; e->dirs != NULL && i < e->n_dirs; i++) {
    g_free (e->dirs[i].bias);
    rnn__packed_clear (&e->dirs[i].wih);
    rnn__packed_clear (&e->dirs[i].whh);
    rnn__packed_clear (&e->dirs[i].whr);
  }
  g_free (e->dirs);
  g_free (e);
}

void
rnn__engine_release (rnn_model *m)
{
  if (m == NULL)
    return;
  engine_free (m->engine);
  m->engine = NULL;
}

rnn_status
rnn__engine_prepare (rnn_model *m, rnn_error *err)
{
  rnn_engine *e;
  const int L = m->num_layers, D = m->num_dirs, H = m->hidden;
  const int G = m->gates, hout = m->hout;
  const char *name = m->name ? m->name : "model";
  rnn_status st;

  rnn__engine_release (m);

  if (L < 1 || (D != 1 && D != 2) || H < 1 || hout < 1 || m->input_size < 0
      || m->params == NULL)
    return rnn__set_error (err, RNN_ERR_MODEL,
        "%s: cannot run a network of %d layers, %d directions, hidden size "
        "%d", name, L, D, H);
  if ((m->cell == RNN_CELL_LSTM && G != 4) || (m->cell == RNN_CELL_GRU
          && G != 3) || ((m->cell == RNN_CELL_RNN_TANH
              || m->cell == RNN_CELL_RNN_RELU) && G != 1))
    return rnn__set_error (err, RNN_ERR_MODEL,
        "%s: %s cell with %d gate blocks", name, rnn_cell_name (m->cell), G);

  e = g_try_new0 (rnn_engine, 1);
  if (e == NULL)
    return rnn__set_error (err, RNN_ERR_NOMEM, "%s: out of memory", name);
  e->k = rnn__kernels_get ();
  e->n_dirs = L * D;
  e->dirs = g_try_new0 (rnn_eng_dir, (gsize) L * D);
  if (e->dirs == NULL) {
    engine_free (e);
    return rnn__set_error (err, RNN_ERR_NOMEM, "%s: out of memory", name);
  }

  switch (m->head_input) {
    case RNN_HEAD_FINAL_HIDDEN: e->vec_size = hout; break;
    case RNN_HEAD_FINAL_HIDDEN_BOTH: e->vec_size = 2 * hout; break;
    default: e->vec_size = D * hout; break;
  }
  if (m->head_input == RNN_HEAD_FINAL_HIDDEN_BOTH && L * D < 2) {
    engine_free (e);
    return rnn__set_error (err, RNN_ERR_MODEL,
        "%s: head input 'final_hidden_both' reads h_n[-2] and h_n[-1], but "
        "the network has a single layer and direction", name);
  }
  if (m->head_w != NULL ? m->head_in != e->vec_size
      : m->output_size != e->vec_size) {
    engine_free (e);
    return rnn__set_error (err, RNN_ERR_MODEL,
        "%s: head input '%s' gives %d values per row, but the %s expects %d",
        name, rnn__head_input_name (m->head_input), e->vec_size,
        m->head_w != NULL ? "head" : "output size", m->head_w != NULL
        ? m->head_in : m->output_size);
  }
  if (m->head_w != NULL && m->output_size != m->head_out) {
    engine_free (e);
    return rnn__set_error (err, RNN_ERR_MODEL,
        "%s: output size %d differs from the head's %d rows", name,
        m->output_size, m->head_out);
  }

  for (int l = 0; l < L; l++) {
    for (int d = 0; d < D; d++) {
      const rnn_dir_params *p = &m->params[l * D + d];
      rnn_eng_dir *ed = &e->dirs[l * D + d];
      int expect_in = l == 0 ? m->input_size : D * hout;

      if (p->in != expect_in || p->w_ih == NULL || p->w_hh == NULL
          || p->b_ih == NULL || p->b_hh == NULL
          || (m->proj > 0) != (p->w_hr != NULL)) {
        engine_free (e);
        return rnn__set_error (err, RNN_ERR_MODEL,
            "%s: layer %d%s: parameters missing or input size %d where %d "
            "is expected", name, l, d ? " (reverse)" : "", p->in, expect_in);
      }
      ed->w_ih = p->w_ih;
      ed->in = p->in;
      ed->bias = g_try_new (float, (gsize) G * H);
      if (ed->bias == NULL) {
        engine_free (e);
        return rnn__set_error (err, RNN_ERR_NOMEM, "%s: out of memory",
            name);
      }
      for (int r = 0; r < G * H; r++)
        ed->bias[r] = p->b_ih[r] + p->b_hh[r];
      if (m->cell == RNN_CELL_GRU) {
        /* n rows: b_hn is multiplied by r, it cannot be folded */
        memcpy (ed->bias + 2 * H, p->b_ih + 2 * H, H * sizeof (float));
        ed->b_hn = p->b_hh + 2 * H;
      }
      /* the input projection stays float32 (a GEMM over a block, or this
       * packed copy for short blocks: both give the same values); the
       * recurrent weights are held in the model's precision */
      st = rnn__packed_init (&ed->wih, p->w_ih, G * H, p->in, err);
      if (st == RNN_OK)
        st = rnn__packed_init_prec (&ed->whh, p->w_hh, G * H, hout,
            m->precision, err);
      if (st == RNN_OK && p->w_hr != NULL)
        st = rnn__packed_init_prec (&ed->whr, p->w_hr, m->proj, H,
            m->precision, err);
      if (st != RNN_OK) {
        engine_free (e);
        return st;
      }
    }
  }
  m->engine = e;
  return RNN_OK;
}

void
rnn__engine_use_kernels (rnn_model *m, const rnn_kernels *k)
{
  rnn_engine *e = m ? m->engine : NULL;
  if (e != NULL && k != NULL)
    e->k = k;
}

rnn_status
rnn_model_set_precision (rnn_model *m, rnn_precision p, rnn_error *err)
{
  const rnn_kernels *k;
  rnn_precision old;
  rnn_status st;

  if (m == NULL)
    return rnn__set_error (err, RNN_ERR_ARG,
        "rnn_model_set_precision: model must not be NULL");
  if (p != RNN_PRECISION_F32 && p != RNN_PRECISION_BF16
      && p != RNN_PRECISION_INT8)
    return rnn__set_error (err, RNN_ERR_ARG,
        "%s: precision %d is not one of f32, bf16, int8", m->name, (int) p);
  if (m->engine != NULL && m->precision == p)
    return RNN_OK;
  /* the engine is rebuilt: keep the kernel set it was told to use */
  k = m->engine != NULL ? ((rnn_engine *) m->engine)->k : NULL;
  old = m->precision;
  m->precision = p;
  st = rnn__engine_prepare (m, err);
  if (st != RNN_OK) {
    m->precision = old;
    rnn__engine_prepare (m, NULL);
  }
  rnn__engine_use_kernels (m, k);
  return st;
}

rnn_precision
rnn_model_precision (const rnn_model *m)
{
  return m != NULL ? m->precision : RNN_PRECISION_F32;
}

/* ------------------------------------------------------------- state */

struct rnn_state {
  const rnn_model *m;
  const rnn_engine *e;
  size_t chunk;         /* max_frames: GEMM block length */
  size_t blk;           /* floats per layer/direction: Hout (+ H for c) */
  size_t st_size;
  float *st;            /* the snapshot, in rnn_state_get order */

  float *xin;           /* [chunk, input_size]: normalised or embedded */
  float *gx;            /* [chunk, G*H] input projections */
  float *seq[2];        /* [seq_cap, D*Hout] layer outputs, ping-pong */
  size_t seq_cap;
  float *gh;            /* [G*H] GRU recurrent products */
  float *ptop;          /* [G*H] the top layer's W_hh h at a one-frame call
                         * (top_first) */
  float *hfull;         /* [H] LSTM output before the projection */
  double *sum;          /* [D*Hout] running sum for the `mean` head */
  float *vec;           /* [vec_size] the head's input row */
  guint8 *rev;          /* [L*D] run W_hh's panels last to first at the
                         * next step (RNN_GEMV_REVERSE; same results
                         * either way) */
  unsigned pf_step;     /* RNN_GEMV_PREFETCH when the weights one step of
                         * every layer reads stream from L3, else 0 */
};

/* Bytes of weights a one-frame step of every layer reads (the packed W_ih
 * and W_hh of every layer and direction). */
static size_t
step_bytes (const rnn_engine *e)
{
  size_t b = 0;

  for (int i = 0; i < e->n_dirs; i++) {
    const rnn_packed *ih = &e->dirs[i].wih, *hh = &e->dirs[i].whh;
    const size_t es = hh->prec == RNN_PRECISION_INT8 ? 1
        : hh->prec == RNN_PRECISION_BF16 ? 2 : sizeof (float);
    b += (size_t) ih->rows * (size_t) ih->cols * sizeof (float)
        + (size_t) hh->rows * (size_t) hh->kc * es;
  }
  return b;
}

void
rnn_state_free (rnn_state *s)
{
  if (s == NULL)
    return;
  g_free (s->st);
  g_free (s->xin);
  g_free (s->gx);
  g_free (s->seq[0]);
  g_free (s->seq[1]);
  g_free (s->gh);
  g_free (s->ptop);
  g_free (s->hfull);
  g_free (s->sum);
  g_free (s->vec);
  g_free (s->rev);
  g_free (s);
}

rnn_status
rnn_state_new (const rnn_model *m, size_t max_frames, rnn_state **out,
    rnn_error *err)
{
  rnn_state *s;
  const rnn_engine *e;
  size_t width, GH, ld;

  if (out != NULL)
    *out = NULL;
  if (m == NULL || out == NULL)
    return rnn__set_error (err, RNN_ERR_ARG,
        "rnn_state_new: model and out must not be NULL");
  e = m->engine;
  if (e == NULL)
    return rnn__set_error (err, RNN_ERR_ARG,
        "%s: the model's engine data is not prepared", m->name);
  GH = (size_t) m->gates * m->hidden;
  ld = (size_t) m->num_dirs * m->hout;
  width = MAX (MAX (GH, ld), (size_t) MAX (m->input_size, 1));
  if (max_frames == 0 || max_frames > G_MAXSIZE / sizeof (float) / width
      / 4)
    return rnn__set_error (err, RNN_ERR_ARG,
        "%s: max_frames %zu is out of range (1 .. %zu)", m->name, max_frames,
        G_MAXSIZE / sizeof (float) / width / 4);

  s = g_try_new0 (rnn_state, 1);
  if (s == NULL)
    goto nomem;
  s->m = m;
  s->e = e;
  s->chunk = max_frames;
  s->blk = m->hout + (m->cell == RNN_CELL_LSTM ? m->hidden : 0);
  s->st_size = (size_t) m->num_layers * m->num_dirs * s->blk;
  s->st = g_try_new0 (float, s->st_size);
  s->xin = g_try_new0 (float, max_frames * MAX (m->input_size, 1));
  s->gx = g_try_new0 (float, max_frames * GH);
  s->seq_cap = max_frames;
  s->seq[0] = g_try_new0 (float, max_frames * ld);
  s->seq[1] = g_try_new0 (float, max_frames * ld);
  s->gh = g_try_new0 (float, GH);
  s->ptop = g_try_new0 (float, GH);
  s->hfull = g_try_new0 (float, m->hidden);
  s->sum = g_try_new0 (double, ld);
  s->vec = g_try_new0 (float, e->vec_size);
  s->rev = g_try_new0 (guint8, (gsize) m->num_layers * m->num_dirs);
  if (!s->st || !s->xin || !s->gx || !s->seq[0] || !s->seq[1] || !s->gh
      || !s->ptop || !s->hfull || !s->sum || !s->vec || !s->rev)
    goto nomem;
  s->pf_step = step_bytes (e) > rnn__stream_bytes () ? RNN_GEMV_PREFETCH : 0;
  *out = s;
  return RNN_OK;

nomem:
  rnn_state_free (s);
  return rnn__set_error (err, RNN_ERR_NOMEM,
      "%s: out of memory allocating a state for %zu frames", m->name,
      max_frames);
}

const rnn_model *
rnn_state_model (const rnn_state *s)
{
  return s ? s->m : NULL;
}

void
rnn_state_reset (rnn_state *s)
{
  if (s != NULL)
    memset (s->st, 0, s->st_size * sizeof (float));
}

size_t
rnn_state_size (const rnn_state *s)
{
  return s ? s->st_size : 0;
}

rnn_status
rnn_state_get (const rnn_state *s, float *buf, size_t n, rnn_error *err)
{
  if (s == NULL || (buf == NULL && n > 0))
    return rnn__set_error (err, RNN_ERR_ARG,
        "rnn_state_get: state and buffer must not be NULL");
  if (n != s->st_size)
    return rnn__set_error (err, RNN_ERR_ARG,
        "%s: state snapshot buffer holds %zu floats, the state has %zu",
        s->m->name, n, s->st_size);
  memcpy (buf, s->st, n * sizeof (float));
  return RNN_OK;
}

rnn_status
rnn_state_set (rnn_state *s, const float *buf, size_t n, rnn_error *err)
{
  if (s == NULL || (buf == NULL && n > 0))
    return rnn__set_error (err, RNN_ERR_ARG,
        "rnn_state_set: state and buffer must not be NULL");
  if (n != s->st_size)
    return rnn__set_error (err, RNN_ERR_ARG,
        "%s: state snapshot has %zu floats, the state needs %zu",
        s->m->name, n, s->st_size);
  memcpy (s->st, buf, n * sizeof (float));
  return RNN_OK;
}

rnn_status
rnn_state_copy (rnn_state *dst, const rnn_state *src, rnn_error *err)
{
  if (dst == NULL || src == NULL)
    return rnn__set_error (err, RNN_ERR_ARG,
        "rnn_state_copy: states must not be NULL");
  if (dst->m != src->m)
    return rnn__set_error (err, RNN_ERR_ARG,
        "rnn_state_copy: states belong to different models (%s, %s)",
        dst->m->name, src->m->name);
  if (dst != src)
    memcpy (dst->st, src->st, src->st_size * sizeof (float));
  return RNN_OK;
}

/* ----------------------------------------------------------- forward */

/* Where layer 0 reads its frames: raw signal (normalised on the way in) or
 * token ids (embedding rows). Pointers are at the first frame of the
 * block being run. */
typedef struct {
  const float *x;
  const int32_t *ids;
  const rnn_token *tokens;
} source;

/* Layer-0 input rows [t0, t0+n) of @src into s->xin. */
static void
fill_input (rnn_state *s, const source *src, size_t t0, size_t n)
{
  const rnn_model *m = s->m;
  const size_t n_in = m->input_size;

  if (src->ids != NULL || src->tokens != NULL) {
    for (size_t t = 0; t < n; t++) {
      int32_t id = src->ids ? src->ids[t0 + t] : src->tokens[t0 + t].id;
      memcpy (s->xin + t * n_in, m->emb + (size_t) id * n_in,
          n_in * sizeof (float));
    }
    return;
  }
  rnn_model_normalize_input (m, src->x + t0 * n_in, s->xin, n);
}

void
rnn__cell_update (const rnn_model *m, const rnn_kernels *k,
    const rnn_eng_dir *ed, float *g, const float *gh, float *h, float *hfull)
{
  const int H = m->hidden;

  switch (m->cell) {
    case RNN_CELL_LSTM:
      if (m->proj > 0) {
        k->lstm_cell (g, h + m->hout, hfull, H);
        rnn__kernels_gemv (k, &ed->whr, hfull, NULL, h);
      } else {
        k->lstm_cell (g, h + m->hout, h, H);
      }
      break;
    case RNN_CELL_GRU:
      k->gru_cell (g, gh, ed->b_hn, h, H);
      break;
    case RNN_CELL_RNN_TANH:
      k->tanh (g, h, (size_t) H);
      break;
    case RNN_CELL_RNN_RELU:
      for (int i = 0; i < H; i++)
        h[i] = g[i] > 0.0f ? g[i] : 0.0f;
      break;
  }
}

/* One recurrent step of layer/direction @ed on the pre-activations @g
 * (G*H values, overwritten): the product W_hh h, then the cell update of
 * the state block @h (and c after it), leaving the new h in @h. A float32
 * W_hh is swept in alternate directions, step after step (*@rev flips):
 * each step then starts on the panels the previous one read last, still in
 * the cache, where a sweep in one direction over a matrix about as large as
 * the L2 (an LSTM with H = 256 has 1 MB) or larger misses on every line.
 * Both directions give the same bits. @pf: RNN_GEMV_PREFETCH when the
 * weights of the step stream from L3. */
static inline void
cell_step (rnn_state *s, const rnn_eng_dir *ed, float *g, float *h,
    guint8 *rev, unsigned pf)
{
  const rnn_model *m = s->m;
  const rnn_kernels *k = s->e->k;
  float *y = rnn__cell_adds_product (m) ? g : s->gh;
  const float *add = rnn__cell_adds_product (m) ? g : NULL;

  if (ed->whh.prec == RNN_PRECISION_F32 && k->gemv_ex != NULL) {
    k->gemv_ex (&ed->whh, h, add, y, pf | (*rev ? RNN_GEMV_REVERSE : 0));
    *rev ^= 1;
  } else {
    rnn__kernels_gemv (k, &ed->whh, h, add, y);
  }
  rnn__cell_update (m, k, ed, g, s->gh, h, s->hfull);
}

/* A one-frame call of a unidirectional stack with a float32 top layer runs
 * in an order that keeps weights in the L2 from one call to the next. A
 * step reads every layer's W_ih and W_hh once (a 2x256 LSTM: three 1 MB
 * matrices where the L2 holds one), so in layer order nothing a step reads
 * is still cached at the next. The top layer's W_hh h depends only on the
 * state, so half of its panels run first in the step and the other half
 * last, and the halves swap places at every step (s->rev of the top layer):
 * each step starts, sweeping backwards, on the panels the previous one read
 * last. (Only the top layer's W_hh can end a step and start the next: a
 * lower layer's W_hh must run before the W_ih of the layer above, which
 * needs this step's output of the layer below.) The product goes to
 * s->ptop without bias and is added to W_ih x + b afterwards, as the GEMV
 * adds its product to `add`: fl(gx + W_hh h), the same bits. */
static gboolean
top_first (const rnn_state *s, size_t T)
{
  const rnn_model *m = s->m;
  const rnn_eng_dir *top = &s->e->dirs[m->num_layers - 1];

  return T == 1 && m->num_dirs == 1 && m->num_layers >= 2
      && s->e->k->gemv_ex != NULL && top->whh.prec == RNN_PRECISION_F32;
}

/* The top layer's W_hh h over half of its panels (@end: the half that
 * ends this step, else the one that starts it) into s->ptop. The starting
 * half is mostly in the L2: no prefetch there. */
static void
top_half (rnn_state *s, gboolean end)
{
  const rnn_model *m = s->m;
  const rnn_kernels *k = s->e->k;
  const int top = m->num_layers - 1;
  const rnn_packed *w = &s->e->dirs[top].whh;
  const int np = (w->rows + RNN_PANEL_ROWS - 1) / RNN_PANEL_ROWS;
  const int mid = np / 2;
  /* phase 0 starts on panels [mid, np) backwards and ends on [0, mid)
   * forwards; phase 1 starts on [0, mid) backwards, ends on [mid, np) */
  const gboolean upper = (s->rev[top] == 0) != end;
  const int r0 = upper ? mid * RNN_PANEL_ROWS : 0;
  const int r1 = upper ? w->rows : mid * RNN_PANEL_ROWS;
  rnn_packed v = *w;

  if (r1 <= r0)
    return;
  v.rows = r1 - r0;
  v.data = w->data + (size_t) r0 * (size_t) w->cols;
  k->gemv_ex (&v, s->st + (size_t) top * s->blk, NULL, s->ptop + r0,
      end ? s->pf_step : RNN_GEMV_REVERSE);
}

/* The top layer's step of a top_first call, after the product's second
 * half: the new state from the pre-activations @g (W_ih x + b). */
static void
top_step (rnn_state *s, float *g, float *h)
{
  const rnn_model *m = s->m;
  const int top = m->num_layers - 1;
  const size_t GH = (size_t) m->gates * m->hidden;

  top_half (s, TRUE);
  s->rev[top] ^= 1;
  if (rnn__cell_adds_product (m))
    for (size_t i = 0; i < GH; i++)
      g[i] = g[i] + s->ptop[i];
  rnn__cell_update (m, s->e->k, &s->e->dirs[top], g, s->ptop, h, s->hfull);
}

/* Run every layer over frames [0, T) of @src (T <= s->seq_cap), leaving the
 * top layer's outputs in the returned buffer ([T, D*Hout]). */
static const float *
run_block (rnn_state *s, const source *src, size_t T)
{
  const rnn_model *m = s->m;
  const int L = m->num_layers, D = m->num_dirs, hout = m->hout;
  const size_t GH = (size_t) m->gates * m->hidden, ld = (size_t) D * hout;
  const size_t chunk = s->chunk;
  const size_t n_blocks = (T + chunk - 1) / chunk;
  const rnn_kernels *k = s->e->k;
  /* the input projection of a block of n > SMALL_BLOCK frames with more
   * than 4 inputs (layer 2 of a stack, a multivariate signal, an
   * embedding): the per-stream batch's register-tiled product on the packed
   * W_ih, frames taking the place of streams, with the kernel set's
   * instructions. It reads each panel of W_ih once per 8 frames (AVX-512; 6
   * with AVX2). Measured at T = 100, 256..1024 x 256: AVX-512 180-200 GF/s
   * (near the FMA peak), AVX2 95-100, OpenBLAS sgemm 85-92. NULL: the
   * portable set, which keeps CBLAS. */
  const rnn_streams_fn product = rnn__streams_product (k, NULL);
  const gboolean tf = top_first (s, T);
  float *out = NULL;

  if (tf)
    top_half (s, FALSE);
  for (int l = 0; l < L; l++) {
    const float *in = l > 0 ? s->seq[(l - 1) & 1] : NULL;
    out = s->seq[l & 1];

    for (int d = 0; d < D; d++) {
      const rnn_eng_dir *ed = &s->e->dirs[l * D + d];
      float *h = s->st + (size_t) (l * D + d) * s->blk;

      /* The reverse direction sees the call as a closed sequence: it
       * starts from zero at the call's last frame (PyTorch's h0 = 0). */
      if (d == 1)
        memset (h, 0, s->blk * sizeof (float));

      for (size_t bi = 0; bi < n_blocks; bi++) {
        size_t b = d == 0 ? bi : n_blocks - 1 - bi;
        size_t t0 = b * chunk, n = MIN (chunk, T - t0);
        unsigned pf;

        const float *rows = s->xin;
        size_t ldr = ed->in;
        if (l == 0) {
          fill_input (s, src, t0, n);
        } else {
          rows = in + t0 * ld;
          ldr = ld;
        }
        /* the weights a step reads: every layer's for short blocks (run
         * frame after frame through all layers), this layer's W_hh for
         * long ones */
        pf = n <= SMALL_BLOCK ? s->pf_step : (size_t) ed->whh.rows
            * (size_t) ed->whh.kc * sizeof (float) > rnn__stream_bytes ()
            ? RNN_GEMV_PREFETCH : 0;
        if (n <= SMALL_BLOCK) {
          for (size_t i = 0; i < n; i++) {
            if (k->gemv_ex != NULL)
              k->gemv_ex (&ed->wih, rows + i * ldr, ed->bias, s->gx + i * GH,
                  pf);
            else
              k->gemv (&ed->wih, rows + i * ldr, ed->bias, s->gx + i * GH);
          }
        } else if (ed->in > 4 && product != NULL) {
          product (&ed->wih, (int) n, rows, (int) ldr, ed->bias, 0, s->gx,
              (int) GH);
        } else {
          rnn__gemm_xwt (n, (int) GH, ed->in, rows, (int) ldr, ed->w_ih,
              ed->bias, s->gx, (int) GH);
        }
        for (size_t i = 0; i < n; i++) {
          size_t tt = d == 0 ? i : n - 1 - i;
          if (tf && l == L - 1)
            top_step (s, s->gx + tt * GH, h);
          else
            cell_step (s, ed, s->gx + tt * GH, h, &s->rev[l * D + d], pf);
          memcpy (out + (t0 + tt) * ld + (size_t) d * hout, h,
              hout * sizeof (float));
        }
      }
    }
  }
  return out;
}

/* y[n, out] = head(rows) then de-normalised; rows [n, m->head_in or the
 * output size when there is no head], @ld apart. */
static void
apply_head (const rnn_model *m, const float *rows, size_t n, size_t ld,
    float *y)
{
  const size_t O = m->output_size;

  if (m->head_w != NULL) {
    rnn__gemm_xwt (n, m->head_out, m->head_in, rows, (int) ld, m->head_w,
        m->head_b, y, (int) O);
  } else {
    for (size_t t = 0; t < n; t++)
      memcpy (y + t * O, rows + t * ld, O * sizeof (float));
  }
  rnn_model_denormalize_output (m, y, y, n);
}

static rnn_status
grow_seq (rnn_state *s, size_t T, rnn_error *err)
{
  const size_t ld = (size_t) s->m->num_dirs * s->m->hout;

  if (T <= s->seq_cap)
    return RNN_OK;
  if (T > G_MAXSIZE / sizeof (float) / ld)
    return rnn__set_error (err, RNN_ERR_ARG, "%s: call of %zu frames is too "
        "long", s->m->name, T);
  for (int i = 0; i < 2; i++) {
    float *p = g_try_realloc (s->seq[i], T * ld * sizeof (float));
    if (p == NULL)
      return rnn__set_error (err, RNN_ERR_NOMEM,
          "%s: out of memory for a bidirectional call of %zu frames",
          s->m->name, T);
    s->seq[i] = p;
  }
  s->seq_cap = T;
  return RNN_OK;
}

static rnn_status
forward (rnn_state *s, const source *src0, size_t T, float *y,
    rnn_error *err)
{
  const rnn_model *m = s->m;
  const int D = m->num_dirs, hout = m->hout;
  const size_t ld = (size_t) D * hout, O = m->output_size;
  const size_t n_in = m->input_size;
  const rnn_head_input hi = m->head_input;
  size_t seg;

  if (D == 2) {
    /* a bidirectional call is one sequence: one block spanning it */
    rnn_status st = grow_seq (s, T, err);
    if (st != RNN_OK)
      return st;
    seg = T;
  } else {
    seg = s->chunk;
  }
  if (hi == RNN_HEAD_MEAN)
    memset (s->sum, 0, ld * sizeof (double));

  for (size_t t0 = 0; t0 < T; t0 += seg) {
    size_t n = MIN (seg, T - t0);
    source src = { src0->x ? src0->x + t0 * n_in : NULL,
      src0->ids ? src0->ids + t0 : NULL,
      src0->tokens ? src0->tokens + t0 : NULL };
    const float *top = run_block (s, &src, n);

    if (hi == RNN_HEAD_OUTPUT) {
      apply_head (m, top, n, ld, y + t0 * O);
    } else if (hi == RNN_HEAD_MEAN) {
      for (size_t t = 0; t < n; t++)
        for (size_t k = 0; k < ld; k++)
          s->sum[k] += top[t * ld + k];
    }
  }

  if (hi == RNN_HEAD_OUTPUT)
    return RNN_OK;
  if (hi == RNN_HEAD_MEAN) {
    for (size_t k = 0; k < ld; k++)
      s->vec[k] = (float) (s->sum[k] / (double) T);
  } else {
    /* h_n[-1] (and h_n[-2]): the last blocks of the state, in PyTorch's
     * layer*D+dir order */
    const size_t nb = (size_t) m->num_layers * D;
    const float *last = s->st + (nb - 1) * s->blk;
    if (hi == RNN_HEAD_FINAL_HIDDEN_BOTH) {
      memcpy (s->vec, s->st + (nb - 2) * s->blk, hout * sizeof (float));
      memcpy (s->vec + hout, last, hout * sizeof (float));
    } else {
      memcpy (s->vec, last, hout * sizeof (float));
    }
  }
  apply_head (m, s->vec, 1, s->e->vec_size, y);
  return RNN_OK;
}

rnn_status
rnn_state_forward (rnn_state *s, const float *x, size_t n_frames, float *y,
    rnn_error *err)
{
  source src = { x, NULL, NULL };

  if (s == NULL || x == NULL || y == NULL)
    return rnn__set_error (err, RNN_ERR_ARG,
        "rnn_state_forward: state, input and output must not be NULL");
  if (n_frames == 0)
    return rnn__set_error (err, RNN_ERR_ARG,
        "%s: rnn_state_forward needs at least one frame", s->m->name);
  if (s->m->emb != NULL)
    return rnn__set_error (err, RNN_ERR_ARG,
        "%s: a text model (embedding of %d tokens) takes token ids: use "
        "rnn_state_forward_ids", s->m->name, s->m->vocab);
  return forward (s, &src, n_frames, y, err);
}

rnn_status
rnn_state_forward_ids (rnn_state *s, const int32_t *ids, size_t n_ids,
    float *y, rnn_error *err)
{
  source src = { NULL, ids, NULL };

  if (s == NULL || ids == NULL || y == NULL)
    return rnn__set_error (err, RNN_ERR_ARG,
        "rnn_state_forward_ids: state, ids and output must not be NULL");
  if (n_ids == 0)
    return rnn__set_error (err, RNN_ERR_ARG,
        "%s: rnn_state_forward_ids needs at least one token", s->m->name);
  if (s->m->emb == NULL)
    return rnn__set_error (err, RNN_ERR_ARG,
        "%s: a signal model (%d features per frame, no embedding) cannot "
        "take token ids: use rnn_state_forward", s->m->name,
        s->m->input_size);
  for (size_t i = 0; i < n_ids; i++)
    if (ids[i] < 0 || ids[i] >= s->m->vocab)
      return rnn__set_error (err, RNN_ERR_ARG,
          "%s: token id %d at position %zu is out of range: the vocabulary "
          "has %d entries (0 .. %d)", s->m->name, (int) ids[i], i,
          s->m->vocab, s->m->vocab - 1);
  return forward (s, &src, n_ids, y, err);
}

rnn_status
rnn_state_forward_tokens (rnn_state *s, const char *text, size_t len,
    const rnn_token *tokens, size_t n_tokens, float *y, rnn_error *err)
{
  source src = { NULL, NULL, tokens };

  if (s == NULL || tokens == NULL || y == NULL || (text == NULL && len > 0))
    return rnn__set_error (err, RNN_ERR_ARG,
        "rnn_state_forward_tokens: state, text, tokens and output must not "
        "be NULL");
  if (n_tokens == 0)
    return rnn__set_error (err, RNN_ERR_ARG,
        "%s: rnn_state_forward_tokens needs at least one token", s->m->name);
  if (s->m->emb == NULL)
    return rnn__set_error (err, RNN_ERR_ARG,
        "%s: a signal model (%d features per frame, no embedding) cannot "
        "take tokens: use rnn_state_forward", s->m->name, s->m->input_size);
  for (size_t i = 0; i < n_tokens; i++) {
    const rnn_token *t = &tokens[i];
    if (t->start >= t->end || t->end > len)
      return rnn__set_error (err, RNN_ERR_ARG,
          "%s: token %zu spans bytes [%zu, %zu) outside the text of %zu "
          "bytes", s->m->name, i, t->start, t->end, len);
    if (t->id < 0 || t->id >= s->m->vocab)
      return rnn__set_error (err, RNN_ERR_ARG,
          "%s: token id %d at position %zu is out of range: the vocabulary "
          "has %d entries (0 .. %d)", s->m->name, (int) t->id, i,
          s->m->vocab, s->m->vocab - 1);
  }
  return forward (s, &src, n_tokens, y, err);
}
