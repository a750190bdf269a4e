/* gst-rnn: the forward engine's prepared weights and its cell update,
 * shared by the single-stream engine (forward.c) and the per-stream batch
 * (batch.c). Internal to core/.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * rnn__engine_prepare (forward.c) builds one rnn_engine per model, once at
 * load: biases folded, W_ih, W_hh and W_hr packed for the GEMV. Every state,
 * single or batched, reads these and never rebuilds them.
 */
#ifndef RNN_ENGINE_H
#define RNN_ENGINE_H

#include "kernels.h"

/* One direction of one layer, ready to run. */
typedef struct {
  const float *w_ih;    /* the model's [G*H, in] */
  int in;
  float *bias;          /* [G*H] folded: b_ih + b_hh, except the GRU n rows
                         * (b_in only) */
  const float *b_hn;    /* GRU: the model's b_hh + 2H (kept apart: it is
                         * multiplied by r); else NULL */
  rnn_packed wih;       /* W_ih packed, for short blocks */
  rnn_packed whh;       /* [G*H, Hout] */
  rnn_packed whr;       /* [P, H] with a projection */
} rnn_eng_dir;

typedef struct {
  const rnn_kernels *k;
  rnn_eng_dir *dirs;    /* [num_layers * num_dirs], index layer*D+dir */
  int n_dirs;
  int vec_size;         /* values the head reads per output row */
} rnn_engine;

/* The recurrent product's destination for @m's cell: LSTM and RNN add
 * W_hh h into the pre-activations themselves (@g += W_hh h), a GRU keeps
 * W_hh h apart (@gh = W_hh h) because its n row multiplies it by r. */
static inline gboolean
rnn__cell_adds_product (const rnn_model *m)
{
  return m->cell != RNN_CELL_GRU;
}

/* The cell update of one step of one stream, after the recurrent product:
 *  @g    G*H pre-activations: W_ih x + folded bias, plus W_hh h for LSTM
 *        and RNN (overwritten);
 *  @gh   GRU: the G*H products W_hh h without bias; else unused;
 *  @h    the state block of this layer/direction: h (Hout values) then, for
 *        an LSTM, c (H values); updated in place;
 *  @hfull LSTM with a projection: H floats of scratch; else unused.
 * LSTM: c' = sigmoid(f) c + sigmoid(i) tanh(g), h' = sigmoid(o) tanh(c')
 *       (then h' <- W_hr h' with a projection); GRU: see kernels.h;
 * RNN: h' = tanh(g) or max(g, 0). */
void rnn__cell_update (const rnn_model *m, const rnn_kernels *k,
    const rnn_eng_dir *ed, float *g, const float *gh, float *h,
    float *hfull);

/* The per-stream batch's recurrent product (batch-avx512.c, batch-avx2.c):
 * the same contract as rnn_kernels.gemv_batch, y[b * ldy + r] =
 * sum_j W[r,j] x[b * ldx + j] (+ add[b * ldadd + r]) for b < nb, on the
 * model's packed W, with register tiles over several streams. Only call the
 * AVX-512 one when the CPU has AVX-512F, the AVX2 one with AVX2 and FMA. */
void rnn__gemm_streams_avx512 (const rnn_packed *p, int nb, const float *x,
    int ldx, const float *add, int ldadd, float *y, int ldy);
void rnn__gemm_streams_avx2 (const rnn_packed *p, int nb, const float *x,
    int ldx, const float *add, int ldadd, float *y, int ldy);

/* The cell update of every stream of a per-stream batch at one frame,
 * after the recurrent product (batch-avx512.c, batch-avx2.c): an LSTM or
 * GRU without projection, the same arithmetic as rnn__cell_update on each
 * stream, run over all streams in one loop. */
typedef struct {
  rnn_cell cell;        /* RNN_CELL_LSTM or RNN_CELL_GRU */
  int H;                /* hidden size */
  int nb;               /* streams */
  const float *p;       /* [nb][G*H] W_hh h of each stream (no bias) */
  /* The input pre-activations W_ih x + folded bias: gx [nb][G*H], or when
   * gx is NULL computed here from the inputs x [nb][in] (in <= 4) as
   * rnn__gemm_xwt does it, with wt [in][G*H] = W_ih transposed and bias */
  const float *gx;
  const float *x;
  int in;
  const float *wt;
  const float *bias;
  const float *b_hn;    /* GRU: b_hh of the n rows */
  float *st;            /* stream b's h at st + b * ldst, c (LSTM) after it */
  size_t ldst;
  float *out;           /* stream b's new h also at out + b * ldout */
  size_t ldout;
} rnn_cells_args;

void rnn__cells_streams_avx512 (const rnn_cells_args *a);
void rnn__cells_streams_avx2 (const rnn_cells_args *a);

typedef void (*rnn_streams_fn) (const rnn_packed *p, int nb, const float *x,
    int ldx, const float *add, int ldadd, float *y, int ldy);
typedef void (*rnn_cells_fn) (const rnn_cells_args *a);

/* The register-tiled multi-stream product of the widest instruction set @k
 * itself needs (so RNN_KERNELS=avx2 on an AVX-512 CPU runs the AVX2 code, as
 * a CPU without AVX-512 would), and in *@cells (when not NULL) its fused
 * cell update; NULL (and *@cells NULL) for a set without AVX2 and FMA (the
 * portable one). batch.c. */
rnn_streams_fn rnn__streams_product (const rnn_kernels *k,
    rnn_cells_fn *cells);

#endif /* RNN_ENGINE_H */
