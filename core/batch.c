/* gst-rnn: per-channel batching, one model run independently on several
 * streams at once.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A univariate model applied to every channel of a multi-channel signal is
 * N independent streams with the same weights. Run one after the other,
 * each recurrent step streams the whole W_hh from the cache for one vector;
 * here the N hidden vectors of a frame go through one multi-stream product
 * on the packed weights (batch-avx512.c, batch-avx2.c: register tiles of
 * 8 or 6 streams; elsewhere the kernel table's paired gemv_batch; bf16
 * and int8 weights through the kernel set's gemv_batch_bf16 / _int8), which
 * reads each weight panel once for a group of them. Nothing is repacked per
 * step. Per stream the arithmetic is that of the single-stream engine:
 *
 *   layer input projection, all frames and streams of the call in one
 *     GEMM:  GX[t, b] = W_ih x[t, b] + bias
 *   per frame t, for every stream b:
 *     LSTM / RNN:  G = GX[t, b] + W_hh h_b, then the fused cell
 *     GRU:         GH = W_hh h_b (no bias), then the fused cell with b_hn
 *
 * The weights are the model's own, prepared once at load (engine.h: folded
 * biases, packed W_hh), and the cell update is the single-stream engine's
 * (rnn__cell_update), as are the input normalisation and the output
 * de-normalisation (rnn_model_normalize_input, rnn_model_denormalize_output).
 *
 * With the AVX-512 or AVX2 product, an LSTM (without projection) or GRU,
 * whatever its weights' precision, runs the cells of all streams in one
 * loop instead (batch-cells.h,
 * the same arithmetic per value, several vectors interleaved): the product
 * writes W_hh h_b alone and the cells add the input pre-activations,
 * computed on the spot from the inputs for a layer of at most 4 inputs (a
 * univariate model then writes and reads no GX at all).
 *
 * Supported: unidirectional stacks, head `output` (or no head), signal
 * input. Anything else is RNN_ERR_UNSUPPORTED.
 */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

rnn_streams_fn
rnn__streams_product (const rnn_kernels *k, rnn_cells_fn *cells)
{
  rnn_streams_fn product = NULL;
  rnn_cells_fn cell = NULL;

#ifdef RNN_HAVE_BATCH_AVX512
  if (k->needs & RNN_CPU_AVX512) {
    product = rnn__gemm_streams_avx512;
    cell = rnn__cells_streams_avx512;
  }
#endif
#ifdef RNN_HAVE_BATCH_AVX2
  if (product == NULL && (k->needs & (RNN_CPU_AVX2 | RNN_CPU_FMA))
      == (RNN_CPU_AVX2 | RNN_CPU_FMA)) {
    product = rnn__gemm_streams_avx2;
    cell = rnn__cells_streams_avx2;
  }
#endif
  (void) k;
  if (cells != NULL)
    *cells = cell;
  return product;
}

/* The multi-stream product and cell update for @k: rnn__streams_product's
 * tiled pair, else @k's gemv_batch and @k's cell stream by stream (*cells
 * NULL; RNN_KERNELS=generic keeps everything portable). RNN_BATCH_GEMV=1
 * forces the portable pair (tests and benchmarks compare the two). The
 * table only offers sets the CPU supports. */
static void
pick_product (const rnn_kernels *k, rnn_streams_fn *product,
    rnn_cells_fn *cells)
{
  *product = k->gemv_batch;
  *cells = NULL;
  if (k != rnn__kernels_generic () && g_getenv ("RNN_BATCH_GEMV") == NULL) {
    rnn_streams_fn tiled = rnn__streams_product (k, cells);

    if (tiled != NULL)
      *product = tiled;
  }
}

struct rnn_batch_state {
  const rnn_model *m;
  const rnn_engine *e;        /* the model's prepared weights */
  size_t n_streams;
  size_t max_frames;
  size_t blk;                 /* floats of state per stream and layer: h
                               * (Hout) then, LSTM, c (H), as rnn_state */
  rnn_streams_fn product;     /* the recurrent product of all streams */
  rnn_cells_fn cells;         /* the cell update of all streams, or NULL:
                               * the kernels' cell stream by stream */
  rnn_streams_fn proj_in;     /* the kernel set's tiled product for the
                               * input projection, as the single-stream
                               * engine's (NULL for the portable set), so
                               * that every stream gets a single state's
                               * bits */
  float **wt;                 /* [layers]: W_ih transposed [in][G*H] for a
                               * layer of at most 4 inputs, else NULL */
  float *st;                  /* [layers][streams][blk] */
  float *xin;                 /* [max_frames * streams, input], normalised */
  float *gx;                  /* [max_frames * streams, G*H] */
  float *gh;                  /* [streams, G*H] (GRU) */
  float *hfull;               /* [H] LSTM projection scratch */
  float *seq[2];              /* [max_frames * streams, Hout] layer outputs */
};

void
rnn_batch_state_free (rnn_batch_state *s)
{
  if (s == NULL)
    return;
  for (int l = 0; s->wt != NULL && l < s->m->num_layers; l++)
    g_free (s->wt[l]);
  g_free (s->wt);
  g_free (s->st);
  g_free (s->xin);
  g_free (s->gx);
  g_free (s->gh);
  g_free (s->hfull);
  g_free (s->seq[0]);
  g_free (s->seq[1]);
  g_free (s);
}

static float *
try_floats (size_t a, size_t b)
{
  if (b != 0 && a > G_MAXSIZE / sizeof (float) / b)
    return NULL;
  return g_try_new0 (float, MAX (a * b, 1));
}

rnn_status
rnn_batch_state_new (const rnn_model *m, size_t n_streams, size_t max_frames,
    rnn_batch_state **out, rnn_error *err)
{
  rnn_batch_state *s;
  size_t GH, rows;

  if (out == NULL)
    return rnn__set_error (err, RNN_ERR_ARG,
        "rnn_batch_state_new: out must not be NULL");
  *out = NULL;
  if (m == NULL)
    return rnn__set_error (err, RNN_ERR_ARG,
        "rnn_batch_state_new: model must not be NULL");
  if (n_streams < 1 || n_streams > 65536)
    return rnn__set_error (err, RNN_ERR_ARG, "%s: %zu streams is out of "
        "range (1 .. 65536)", m->name, n_streams);
  if (max_frames < 1 || max_frames > (1u << 20))
    return rnn__set_error (err, RNN_ERR_ARG, "%s: max_frames %zu is out of "
        "range (1 .. %u)", m->name, max_frames, 1u << 20);
  if (m->emb != NULL)
    return rnn__set_error (err, RNN_ERR_UNSUPPORTED, "%s: per-stream "
        "batching runs signal models only, this one has an embedding",
        m->name);
  if (m->num_dirs != 1)
    return rnn__set_error (err, RNN_ERR_UNSUPPORTED, "%s: per-stream "
        "batching runs unidirectional models only (found %d directions)",
        m->name, m->num_dirs);
  if (m->engine == NULL)
    return rnn__set_error (err, RNN_ERR_ARG,
        "%s: the model's engine data is not prepared", m->name);
  if (m->head_w != NULL && m->head_input != RNN_HEAD_OUTPUT)
    return rnn__set_error (err, RNN_ERR_UNSUPPORTED, "%s: per-stream "
        "batching needs head input 'output'", m->name);

  GH = (size_t) m->gates * (size_t) m->hidden;
  rows = max_frames * n_streams;

  s = g_try_new0 (rnn_batch_state, 1);
  if (s == NULL)
    return rnn__set_error (err, RNN_ERR_NOMEM, "%s: out of memory for a "
        "batched state", m->name);
  s->m = m;
  s->e = m->engine;
  s->n_streams = n_streams;
  s->max_frames = max_frames;
  pick_product (s->e->k, &s->product, &s->cells);
  s->proj_in = rnn__streams_product (s->e->k, NULL);
  /* the fused cells: LSTM (no projection) and GRU, whatever the weights'
   * precision (the cell arithmetic is float32 in every case) */
  if ((m->cell != RNN_CELL_LSTM && m->cell != RNN_CELL_GRU) || m->proj > 0)
    s->cells = NULL;
  s->blk = (size_t) m->hout
      + (size_t) (m->cell == RNN_CELL_LSTM ? m->hidden : 0);
  s->st = try_floats ((size_t) m->num_layers * n_streams, s->blk);
  s->xin = try_floats (rows, (size_t) m->input_size);
  s->gx = try_floats (rows, GH);
  s->gh = try_floats (n_streams, GH);
  s->hfull = try_floats ((size_t) m->hidden, 1);
  s->seq[0] = try_floats (rows, (size_t) m->hout);
  s->seq[1] = try_floats (rows, (size_t) m->hout);
  if (s->st == NULL || s->xin == NULL || s->gx == NULL || s->gh == NULL
      || s->hfull == NULL || s->seq[0] == NULL || s->seq[1] == NULL) {
    rnn_batch_state_free (s);
    return rnn__set_error (err, RNN_ERR_NOMEM, "%s: out of memory for a "
        "batched state of %zu streams x %zu frames", m->name, n_streams,
        max_frames);
  }
  /* a narrow layer input goes into the fused cells (no pre-activations of
   * the whole chunk to write and read back): its W_ih by columns */
  if (s->cells != NULL) {
    bool ok = (s->wt = g_try_new0 (float *, (gsize) m->num_layers)) != NULL;

    for (int l = 0; ok && l < m->num_layers; l++) {
      const rnn_eng_dir *ed = &s->e->dirs[l];
      if (ed->in > 4)
        continue;
      ok = (s->wt[l] = try_floats ((size_t) ed->in, GH)) != NULL;
      for (size_t r = 0; ok && r < GH; r++)
        for (int j = 0; j < ed->in; j++)
          s->wt[l][(size_t) j * GH + r] = ed->w_ih[r * (size_t) ed->in + j];
    }
    if (!ok) {
      rnn_batch_state_free (s);
      return rnn__set_error (err, RNN_ERR_NOMEM, "%s: out of memory for a "
          "batched state", m->name);
    }
  }

  *out = s;
  return RNN_OK;
}

size_t
rnn_batch_state_streams (const rnn_batch_state *s)
{
  return s != NULL ? s->n_streams : 0;
}

void
rnn_batch_state_reset (rnn_batch_state *s)
{
  if (s != NULL)
    memset (s->st, 0, (size_t) s->m->num_layers * s->n_streams * s->blk *
        sizeof (float));
}

rnn_status
rnn_batch_state_reset_stream (rnn_batch_state *s, size_t stream,
    rnn_error *err)
{
  if (s == NULL)
    return rnn__set_error (err, RNN_ERR_ARG,
        "rnn_batch_state_reset_stream: state must not be NULL");
  if (stream >= s->n_streams)
    return rnn__set_error (err, RNN_ERR_ARG, "%s: stream %zu of %zu",
        s->m->name, stream, s->n_streams);
  for (int l = 0; l < s->m->num_layers; l++)
    memset (s->st + ((size_t) l * s->n_streams + stream) * s->blk, 0,
        s->blk * sizeof (float));
  return RNN_OK;
}

rnn_status
rnn_batch_state_get_stream (const rnn_batch_state *s, size_t stream,
    float *buf, size_t n, rnn_error *err)
{
  if (s == NULL || buf == NULL)
    return rnn__set_error (err, RNN_ERR_ARG,
        "rnn_batch_state_get_stream: state and buffer must not be NULL");
  if (stream >= s->n_streams || n != (size_t) s->m->num_layers * s->blk)
    return rnn__set_error (err, RNN_ERR_ARG, "%s: stream %zu of %zu, "
        "snapshot of %zu floats (expected %zu)", s->m->name, stream,
        s->n_streams, n, (size_t) s->m->num_layers * s->blk);
  for (int l = 0; l < s->m->num_layers; l++)
    memcpy (buf + (size_t) l * s->blk,
        s->st + ((size_t) l * s->n_streams + stream) * s->blk,
        s->blk * sizeof (float));
  return RNN_OK;
}

/* Frames [0, T) of every stream (T <= max_frames); @x [T, N, I], @y
 * [T, N, O]. */
/* y_b (+ add_b) = W_hh h_b for every stream's h in @st: the tiled product
 * for float32 weights, the kernel set's multi-stream product for bf16 and
 * int8 ones. */
static void
recurrent_product (const rnn_batch_state *s, const rnn_eng_dir *ed,
    const float *st, const float *add, int ldadd, float *y, int ldy)
{
  if (ed->whh.prec == RNN_PRECISION_F32)
    s->product (&ed->whh, (int) s->n_streams, st, (int) s->blk, add, ldadd,
        y, ldy);
  else
    rnn__kernels_gemv_batch (s->e->k, &ed->whh, (int) s->n_streams, st,
        (int) s->blk, add, ldadd, y, ldy);
}

static void
run_block (rnn_batch_state *s, const float *x, size_t T, float *y)
{
  const rnn_model *m = s->m;
  const rnn_kernels *k = s->e->k;
  const size_t N = s->n_streams, rows = T * N;
  const int L = m->num_layers;
  const size_t hout = (size_t) m->hout;
  const size_t GH = (size_t) m->gates * (size_t) m->hidden;
  const bool adds = rnn__cell_adds_product (m);
  const float *in = s->xin;
  float *out = NULL;

  rnn_model_normalize_input (m, x, s->xin, rows);
  for (int l = 0; l < L; l++) {
    const rnn_eng_dir *ed = &s->e->dirs[l];
    float *st = s->st + (size_t) l * N * s->blk;

    out = s->seq[l & 1];
    if (s->cells != NULL) {
      /* the product of every stream's h, then the cells of all streams in
       * one loop, which also add the input pre-activations: from the
       * inputs themselves for a narrow input, else from the chunk's
       * product on the packed W_ih */
      rnn_cells_args a = { m->cell, m->hidden, (int) N, s->gh, NULL, NULL,
        ed->in, s->wt[l], ed->bias, ed->b_hn, st, s->blk, NULL, hout };

      if (s->wt[l] == NULL)
        s->product (&ed->wih, (int) rows, in, ed->in, ed->bias, 0, s->gx,
            (int) GH);
      for (size_t t = 0; t < T; t++) {
        recurrent_product (s, ed, st, NULL, 0, s->gh, (int) GH);
        if (s->wt[l] == NULL)
          a.gx = s->gx + t * N * GH;
        a.x = in + t * N * (size_t) ed->in;
        a.out = out + t * N * hout;
        s->cells (&a);
      }
      in = out;
      continue;
    }
    /* the input projection of every frame and stream, as a single state
     * computes it: a narrow input inline (rnn__gemm_xwt), a wider one
     * through the kernel set's tiled product on the packed W_ih, as for a
     * block of more than two frames (a BLAS sgemm would repack W_ih at
     * every call, and a call is one frame when 16 streams fill the
     * chunk); the portable set has no tiled product: its GEMV row by row,
     * as a single state fed frame by frame */
    if (s->proj_in == NULL)
      s->product (&ed->wih, (int) rows, in, ed->in, ed->bias, 0, s->gx,
          (int) GH);
    else if (ed->in <= 4)
      rnn__gemm_xwt (rows, (int) GH, ed->in, in, ed->in, ed->w_ih, ed->bias,
          s->gx, (int) GH);
    else
      s->proj_in (&ed->wih, (int) rows, in, ed->in, ed->bias, 0, s->gx,
          (int) GH);
    for (size_t t = 0; t < T; t++) {
      float *gx = s->gx + t * N * GH;
      float *ot = out + t * N * hout;
      float *prod = adds ? gx : s->gh;

      /* the recurrent product of all streams' h, then each stream's cell */
      recurrent_product (s, ed, st, adds ? gx : NULL, adds ? (int) GH : 0,
          prod, (int) GH);
      for (size_t b = 0; b < N; b++) {
        float *h = st + b * s->blk;

        rnn__cell_update (m, k, ed, gx + b * GH, s->gh + b * GH, h,
            s->hfull);
        memcpy (ot + b * hout, h, hout * sizeof (float));
      }
    }
    in = out;
  }

  if (m->head_w != NULL)
    rnn__gemm_xwt (rows, m->head_out, m->head_in, out, m->hout, m->head_w,
        m->head_b, y, m->output_size);
  else
    memcpy (y, out, rows * hout * sizeof (float));
  rnn_model_denormalize_output (m, y, y, rows);
}

rnn_status
rnn_batch_state_forward (rnn_batch_state *s, const float *x, size_t n_frames,
    float *y, rnn_error *err)
{
  size_t done = 0;

  if (s == NULL || x == NULL || y == NULL)
    return rnn__set_error (err, RNN_ERR_ARG,
        "rnn_batch_state_forward: state, input and output must not be NULL");
  if (n_frames == 0)
    return rnn__set_error (err, RNN_ERR_ARG,
        "%s: rnn_batch_state_forward needs at least one frame", s->m->name);
  /* Unidirectional: chunks carry the state exactly. A chunk is at most
   * max_frames, and short enough that its pre-activations (frames x
   * streams x G*H floats) stay within 64 KiB: they are written by the GEMM
   * and read back frame by frame, which must not evict the weights. */
  const size_t per_frame = s->n_streams * (size_t) s->m->gates
      * (size_t) s->m->hidden * sizeof (float);
  const size_t chunk = MAX (1, MIN (s->max_frames, 65536 / per_frame));

  while (done < n_frames) {
    size_t T = MIN (chunk, n_frames - done);

    run_block (s, x + done * s->n_streams * (size_t) s->m->input_size, T,
        y + done * s->n_streams * (size_t) s->m->output_size);
    done += T;
  }
  return RNN_OK;
}
