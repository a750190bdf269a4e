/* gst-rnn: the per-stream batch's fused cell update, written once for the
 * vector width of the file that includes it (batch-avx512.c: 16 lanes,
 * batch-avx2.c: 8), which defines CV (the vector type), CW (its lanes),
 * CMASK and the C_* operations, and C_FUNC (the function's name).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * C_FUNC (rnn_cells_args *a) updates every stream's h (and c) at one frame
 * (engine.h, rnn_cells_args): the arithmetic of the single-stream kernels'
 * lstm_cell / gru_cell on fl(gx + W_hh h), operation for operation, so a
 * stream of the batch gives what its own rnn_state gives. Vectors of CW
 * hidden units are taken in (stream, unit) order across all streams and run
 * CELL_VECS at a time, interleaved: one vector's exp chains alone leave the
 * FP units waiting on latency (measured on AVX-512: 4 beats 2 and 3; two
 * sigmoids of 4 vectors each as one set of 8 beat two sets of 4). The last
 * group is padded with empty-mask vectors, which load zeros and store
 * nothing.
 */
#define CELL_VECS 4

typedef struct {
  size_t g;             /* b * G*H + k: the stream's gate row, unit k */
  size_t st, out;       /* b * ldst + k, b * ldout + k */
  size_t x;             /* b * in */
  int k;                /* first unit */
  CMASK m;              /* units [k, min(k + CW, H)) */
} cell_item;

/* Where the input pre-activations come from (a constant at every call,
 * so that each case is its own loop): gx, one input, or 2..4 inputs. */
enum { FROM_GX, FROM_X1, FROM_XN };

/* The input pre-activations of gate rows @q (offset q*H) of every item:
 * from gx, or b + w0 x0 (+ w1 x1 ...) in rnn__gemm_xwt's order. */
RNN_INLINE void
input_gate (const rnn_cells_args *a, const cell_item *it, int q, int from,
    CV *v)
{
  const size_t GH = (size_t) (a->cell == RNN_CELL_LSTM ? 4 : 3)
      * (size_t) a->H;
  const size_t qo = (size_t) q * (size_t) a->H;
  const int in = from == FROM_X1 ? 1 : a->in;

  RNN_EACH (CELL_VECS) {
    if (from == FROM_GX) {
      v[u] = C_LOAD (it[u].m, a->gx + it[u].g + qo);
    } else {
      const size_t r = qo + (size_t) it[u].k;
      v[u] = C_LOAD (it[u].m, a->bias + r);
      for (int j = 0; j < in; j++)
        v[u] = C_ADD (v[u], C_MUL (C_LOAD (it[u].m, a->wt + (size_t) j * GH
                    + r), C_SET1 (a->x[it[u].x + (size_t) j])));
    }
  }
}

/* The pre-activation of gate rows @q: fl(gx + W_hh h), as the
 * single-stream GEMV adds its product to gx. */
RNN_INLINE void
load_gate (const rnn_cells_args *a, const cell_item *it, int q, int from,
    CV *v)
{
  const size_t qo = (size_t) q * (size_t) a->H;

  input_gate (a, it, q, from, v);
  RNN_EACH (CELL_VECS)
    v[u] = C_ADD (v[u], C_LOAD (it[u].m, a->p + it[u].g + qo));
}

/* LSTM: c' = f c + i g, h = o tanh(c') on the activated gates. The
 * sigmoids of i and f run as one interleaved set of 2 x CELL_VECS vectors,
 * and o's sigmoid right beside tanh(c'): the chains that do not depend on
 * each other overlap, and the group's critical path is sigmoid, tanh(g),
 * c', tanh(c'), h. */
RNN_INLINE void
lstm_group (const rnn_cells_args *a, const cell_item *it, int from)
{
  CV v[2 * CELL_VECS], g[CELL_VECS];
  CV *const i = v, *const f = v + CELL_VECS;

  load_gate (a, it, 0, from, i);
  load_gate (a, it, 1, from, f);
  C_SIGMOID_N (v, 2 * CELL_VECS);
  load_gate (a, it, 2, from, g);
  C_TANH_N (g, CELL_VECS);
  RNN_EACH (CELL_VECS) {
    float *c = a->st + it[u].st + a->H;
    i[u] = C_MUL (i[u], g[u]);
    f[u] = C_ADD (C_MUL (f[u], C_LOAD (it[u].m, c)), i[u]);
    C_STORE (c, it[u].m, f[u]);
  }
  load_gate (a, it, 3, from, g);
  C_SIGMOID_N (g, CELL_VECS);
  C_TANH_N (f, CELL_VECS);
  RNN_EACH (CELL_VECS) {
    const CV h = C_MUL (g[u], f[u]);
    C_STORE (a->st + it[u].st, it[u].m, h);
    C_STORE (a->out + it[u].out, it[u].m, h);
  }
}

/* GRU: r, z = sigmoid(gx + gh), n = tanh(gx_n + r (gh_n + b_hn)),
 * h' = n + z (h - n); r's and z's sigmoids as one interleaved set. */
RNN_INLINE void
gru_group (const rnn_cells_args *a, const cell_item *it, int from)
{
  CV v[2 * CELL_VECS], n[CELL_VECS];
  CV *const r = v, *const z = v + CELL_VECS;

  load_gate (a, it, 0, from, r);
  load_gate (a, it, 1, from, z);
  C_SIGMOID_N (v, 2 * CELL_VECS);
  RNN_EACH (CELL_VECS)
    r[u] = C_MUL (r[u], C_ADD (C_LOAD (it[u].m, a->p + it[u].g
                + 2 * (size_t) a->H), C_LOAD (it[u].m, a->b_hn + it[u].k)));
  input_gate (a, it, 2, from, n);
  RNN_EACH (CELL_VECS) n[u] = C_ADD (n[u], r[u]);
  C_TANH_N (n, CELL_VECS);
  RNN_EACH (CELL_VECS) {
    float *h = a->st + it[u].st;
    const CV hn = C_ADD (n[u], C_MUL (z[u], C_SUB (C_LOAD (it[u].m, h),
                n[u])));
    C_STORE (h, it[u].m, hn);
    C_STORE (a->out + it[u].out, it[u].m, hn);
  }
}

/* Every group of the frame, for a constant @cell and @from. */
RNN_INLINE void
run_groups (const rnn_cells_args *a, int cell, int from)
{
  const int H = a->H, nk = (H + CW - 1) / CW;
  const size_t GH = (size_t) (cell == RNN_CELL_LSTM ? 4 : 3) * (size_t) H;
  const int n = a->nb * nk;
  int b = 0, kk = 0;

  if (H % (CW * CELL_VECS) == 0) {
    /* every group is CELL_VECS full vectors of one stream: constant
     * offsets from one base and no masks */
    for (b = 0; b < a->nb; b++) {
      for (int k0 = 0; k0 < H; k0 += CW * CELL_VECS) {
        cell_item it[CELL_VECS];

        RNN_EACH (CELL_VECS) {
          const int k = k0 + u * CW;
          it[u].g = (size_t) b * GH + (size_t) k;
          it[u].st = (size_t) b * a->ldst + (size_t) k;
          it[u].out = (size_t) b * a->ldout + (size_t) k;
          it[u].x = (size_t) b * (size_t) a->in;
          it[u].k = k;
          it[u].m = C_FULL;
        }
        if (cell == RNN_CELL_LSTM)
          lstm_group (a, it, from);
        else
          gru_group (a, it, from);
      }
    }
    return;
  }
  for (int i0 = 0; i0 < n; i0 += CELL_VECS) {
    cell_item it[CELL_VECS];

    for (int u = 0; u < CELL_VECS; u++) {
      if (i0 + u < n) {
        const int k = kk * CW;
        it[u].g = (size_t) b * GH + (size_t) k;
        it[u].st = (size_t) b * a->ldst + (size_t) k;
        it[u].out = (size_t) b * a->ldout + (size_t) k;
        it[u].x = (size_t) b * (size_t) a->in;
        it[u].k = k;
        it[u].m = C_MASK (H - k);
        if (++kk == nk) {
          kk = 0;
          b++;
        }
      } else {
        it[u] = it[0];
        it[u].m = C_NONE;
      }
    }
    if (cell == RNN_CELL_LSTM)
      lstm_group (a, it, from);
    else
      gru_group (a, it, from);
  }
}

void
C_FUNC (const rnn_cells_args *a)
{
  const int from = a->gx != NULL ? FROM_GX : a->in == 1 ? FROM_X1 : FROM_XN;

  if (a->cell == RNN_CELL_LSTM) {
    if (from == FROM_GX)
      run_groups (a, RNN_CELL_LSTM, FROM_GX);
    else if (from == FROM_X1)
      run_groups (a, RNN_CELL_LSTM, FROM_X1);
    else
      run_groups (a, RNN_CELL_LSTM, FROM_XN);
  } else {
    if (from == FROM_GX)
      run_groups (a, RNN_CELL_GRU, FROM_GX);
    else if (from == FROM_X1)
      run_groups (a, RNN_CELL_GRU, FROM_X1);
    else
      run_groups (a, RNN_CELL_GRU, FROM_XN);
  }
}
