/* Forward engine against PyTorch 1.13 (fixtures from
 * tests/fixtures/gen_core.py), plus streaming, snapshot and error checks.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "testutil.h"
#include "kernels.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ATOL 1e-5
#define RTOL 1e-4

/* one fixture case */
typedef struct {
  char name[256];
  rnn_model *m;
  rnn_tensors *io;
  const float *x;       /* [T, F] or NULL */
  int32_t *ids;         /* [T] or NULL */
  size_t T;
  const rnn_tensor *y, *h_n, *c_n;
  size_t out_per_call;  /* floats y receives for the whole sequence */
} fcase;

/* the kernel sets this CPU runs (test-kernels checks the kernels one by
 * one; here each runs the whole parity suite) and the largest parity error
 * per cell type of each */
#define MAX_SETS 16
static double worst[MAX_SETS][4];
static const rnn_kernels *kern_sets[MAX_SETS];
static int n_sets;

static uint32_t rng_state = 12345;

static uint32_t
rng (void)
{
  rng_state = rng_state * 1664525u + 1013904223u;
  return rng_state >> 8;
}

static void
case_clear (fcase *c)
{
  rnn_model_free (c->m);
  rnn_tensors_free (c->io);
  free (c->ids);
  memset (c, 0, sizeof *c);
}

static int
case_load (fcase *c, const char *name)
{
  char path[600];
  rnn_error err = { 0 };
  const rnn_tensor *in;

  memset (c, 0, sizeof *c);
  snprintf (c->name, sizeof c->name, "%s", name);
  snprintf (path, sizeof path, "core/%s.safetensors", name);
  if (rnn_model_load (tu_fixture (path), &c->m, &err) != RNN_OK) {
    tu_check (0, "%s: load model: %s", name, err.msg);
    return 0;
  }
  snprintf (path, sizeof path, "core/%s.io.safetensors", name);
  if (rnn_tensors_load (tu_fixture (path), &c->io, &err) != RNN_OK) {
    tu_check (0, "%s: load io: %s", name, err.msg);
    return 0;
  }
  c->y = rnn_tensors_find (c->io, "y");
  c->h_n = rnn_tensors_find (c->io, "h_n");
  c->c_n = rnn_tensors_find (c->io, "c_n");
  if ((in = rnn_tensors_find (c->io, "x")) != NULL) {
    c->x = in->data;
    c->T = in->shape[0];
  } else if ((in = rnn_tensors_find (c->io, "ids")) != NULL) {
    c->T = in->numel;
    c->ids = malloc (c->T * sizeof (int32_t));
    for (size_t i = 0; i < c->T; i++)
      c->ids[i] = (int32_t) in->data[i];
  }
  if (in == NULL || c->y == NULL || c->h_n == NULL) {
    tu_check (0, "%s: io file lacks x/ids, y or h_n", name);
    return 0;
  }
  c->out_per_call = rnn_model_head_input (c->m) == RNN_HEAD_OUTPUT
      ? c->T * rnn_model_output_size (c->m) : (size_t) rnn_model_output_size (c->m);
  if (c->y->numel != c->out_per_call) {
    tu_check (0, "%s: expected %zu outputs, the model gives %zu", name,
        (size_t) c->y->numel, c->out_per_call);
    return 0;
  }
  return 1;
}

static size_t
out_size (const fcase *c, size_t n)
{
  size_t o = rnn_model_output_size (c->m);
  return rnn_model_head_input (c->m) == RNN_HEAD_OUTPUT ? n * o : o;
}

/* frames [t0, t0+n) of the case's input */
static rnn_status
run (rnn_state *s, const fcase *c, size_t t0, size_t n, float *y,
    rnn_error *err)
{
  if (c->ids != NULL)
    return rnn_state_forward_ids (s, c->ids + t0, n, y, err);
  return rnn_state_forward (s, c->x + t0 * rnn_model_input_size (c->m), n,
      y, err);
}

static int
is_lstm (const fcase *c)
{
  return rnn_model_cell (c->m) == RNN_CELL_LSTM;
}

/* Compare the state snapshot with PyTorch's h_n (and c_n). */
static int
check_state (const fcase *c, const float *st, double *err_out)
{
  const int nb = rnn_model_num_layers (c->m) * rnn_model_num_directions (c->m);
  const int hout = c->h_n->shape[1];
  const int H = rnn_model_hidden_size (c->m);
  const size_t blk = hout + (is_lstm (c) ? H : 0);
  int ok = 1;
  double e, w = 0;

  for (int b = 0; b < nb; b++) {
    ok &= tu_close (st + b * blk, c->h_n->data + b * hout, hout, ATOL, RTOL,
        &e);
    w = fmax (w, e);
    if (is_lstm (c)) {
      ok &= c->c_n != NULL && tu_close (st + b * blk + hout,
          c->c_n->data + (size_t) b * H, H, ATOL, RTOL, &e);
      w = fmax (w, e);
    }
  }
  *err_out = w;
  return ok;
}

static void
test_parity (const fcase *c, int kset)
{
  static const size_t chunks[] = { 64, 7 };
  rnn_error err = { 0 };

  for (size_t ci = 0; ci < G_N_ELEMENTS (chunks); ci++) {
    rnn_state *s = NULL;
    size_t n = rnn_state_size (NULL);
    float *y = calloc (c->out_per_call, sizeof (float));
    float *st;
    double ey = INFINITY, es = INFINITY;
    int oky = 0, oks = 0;

    if (rnn_state_new (c->m, chunks[ci], &s, &err) == RNN_OK
        && run (s, c, 0, c->T, y, &err) == RNN_OK) {
      oky = tu_close (y, c->y->data, c->out_per_call, ATOL, RTOL, &ey);
      n = rnn_state_size (s);
      st = malloc (n * sizeof (float));
      if (rnn_state_get (s, st, n, &err) == RNN_OK)
        oks = check_state (c, st, &es);
      free (st);
    }
    tu_check (oky && oks, "%s [%s, max_frames %zu]: parity with PyTorch, "
        "largest error output %.3g, state %.3g %s", c->name,
        kern_sets[kset]->name, chunks[ci], ey, es, err.msg);
    worst[kset][rnn_model_cell (c->m)] =
        fmax (worst[kset][rnn_model_cell (c->m)], fmax (ey, es));
    rnn_state_free (s);
    free (y);
  }
}

/* Calls of one frame (a unidirectional stack runs its top layer's W_hh
 * product first and last in the step, forward.c top_first) against calls
 * of two frames (layer after layer): the same bits of the state after every
 * two frames, and PyTorch's outputs and h_n at one frame per call. */
static void
test_one_frame (const fcase *c, int kset)
{
  rnn_state *a = NULL, *b = NULL;
  const size_t O = out_size (c, 1);
  const int head_out = rnn_model_head_input (c->m) == RNN_HEAD_OUTPUT;
  float *ya = calloc (c->out_per_call + 2 * O, sizeof (float));
  float *yb = calloc (c->out_per_call + O, sizeof (float));
  float *sa, *sb;
  size_t n;
  int ok = 1, same = 1, oks;
  double ey = 0, es = 0;
  rnn_error err = { 0 };

  if (rnn_model_num_directions (c->m) != 1
      || rnn_model_head_input (c->m) == RNN_HEAD_MEAN) {
    free (ya);
    free (yb);
    return;
  }
  ok &= rnn_state_new (c->m, 2, &a, &err) == RNN_OK;
  ok &= rnn_state_new (c->m, 1, &b, &err) == RNN_OK;
  n = rnn_state_size (a);
  sa = malloc (n * sizeof (float));
  sb = malloc (n * sizeof (float));
  for (size_t t = 0; t < c->T && ok; t += 2) {
    size_t k = MIN (2, c->T - t);
    ok &= run (a, c, t, k, ya + (head_out ? t * O : 0), &err) == RNN_OK;
    for (size_t i = 0; i < k; i++)
      ok &= run (b, c, t + i, 1, yb + (head_out ? (t + i) * O : 0), &err)
          == RNN_OK;
    rnn_state_get (a, sa, n, NULL);
    rnn_state_get (b, sb, n, NULL);
    same &= memcmp (sa, sb, n * sizeof (float)) == 0;
  }
  oks = ok && check_state (c, sb, &es);
  ok &= tu_close (yb, c->y->data, c->out_per_call, ATOL, RTOL, &ey);
  tu_check (ok && oks && same, "%s [%s]: one frame per call: the same "
      "state bits as two frames per call%s, parity with PyTorch, largest "
      "error output %.3g, state %.3g %s", c->name, kern_sets[kset]->name,
      same ? "" : " (DIFFERENT)", ey, es, err.msg);
  free (sa);
  free (sb);
  free (ya);
  free (yb);
  rnn_state_free (a);
  rnn_state_free (b);
}

/* Random chunk sizes (including 1) against one call, for unidirectional
 * models; for bidirectional models a call is a closed sequence, so only the
 * snapshot checks apply. */
static void
test_chunks (const fcase *c)
{
  rnn_error err = { 0 };
  rnn_state *one = NULL, *ch = NULL;
  const size_t ns = c->out_per_call;
  const rnn_head_input hi = rnn_model_head_input (c->m);
  float *y1 = calloc (ns, sizeof (float)), *y2 = calloc (ns, sizeof (float));
  size_t n;
  float *s1, *s2;
  int ok = 1, nchunks = 0, saw1 = 0;
  double e = 0, es = 0;

  if (rnn_model_num_directions (c->m) != 1 || hi == RNN_HEAD_MEAN) {
    free (y1);
    free (y2);
    return;
  }
  rnn_state_new (c->m, 5, &one, NULL);
  rnn_state_new (c->m, 3, &ch, NULL);
  ok &= run (one, c, 0, c->T, y1, &err) == RNN_OK;
  for (size_t t = 0; t < c->T && ok;) {
    size_t k = 1 + rng () % 9;
    if (nchunks == 0)
      k = 1;
    if (k > c->T - t)
      k = c->T - t;
    saw1 |= k == 1;
    ok &= run (ch, c, t, k, hi == RNN_HEAD_OUTPUT ? y2 + out_size (c, t)
        : y2, &err) == RNN_OK;
    t += k;
    nchunks++;
  }
  /* head output: every frame; final hidden heads: the last call's value */
  ok &= tu_close (y2, y1, ns, ATOL, RTOL, &e);
  n = rnn_state_size (one);
  s1 = malloc (n * sizeof (float));
  s2 = malloc (n * sizeof (float));
  rnn_state_get (one, s1, n, NULL);
  rnn_state_get (ch, s2, n, NULL);
  ok &= tu_close (s2, s1, n, ATOL, RTOL, &es);
  tu_check (ok && saw1, "%s: %d random chunks (first of 1 frame) equal one "
      "call: largest difference output %.3g, state %.3g", c->name, nchunks,
      e, es);
  free (s1);
  free (s2);
  free (y1);
  free (y2);
  rnn_state_free (one);
  rnn_state_free (ch);
}

/* Snapshot mid-sequence, run on, restore, run again: bit-exact. Also
 * rnn_state_copy, and reset against a fresh state. */
static void
test_snapshot (const fcase *c)
{
  rnn_error err = { 0 };
  rnn_state *s = NULL, *s2 = NULL, *fresh = NULL;
  const size_t half = c->T / 2, rest = c->T - half;
  const size_t ny = c->out_per_call;
  size_t n;
  float *snap, *st1, *st2, *ya, *yb, *yc;
  int ok;

  rnn_state_new (c->m, 8, &s, NULL);
  rnn_state_new (c->m, 8, &s2, NULL);
  rnn_state_new (c->m, 8, &fresh, NULL);
  n = rnn_state_size (s);
  snap = malloc (n * sizeof (float));
  st1 = malloc (n * sizeof (float));
  st2 = malloc (n * sizeof (float));
  ya = calloc (ny, sizeof (float));
  yb = calloc (ny, sizeof (float));
  yc = calloc (ny, sizeof (float));

  ok = run (s, c, 0, half, ya, &err) == RNN_OK;
  ok &= rnn_state_get (s, snap, n, &err) == RNN_OK;
  ok &= run (s, c, half, rest, ya, &err) == RNN_OK;
  rnn_state_get (s, st1, n, NULL);
  ok &= rnn_state_set (s, snap, n, &err) == RNN_OK;
  ok &= run (s, c, half, rest, yb, &err) == RNN_OK;
  rnn_state_get (s, st2, n, NULL);
  tu_check (ok && memcmp (ya, yb, out_size (c, rest) * sizeof (float)) == 0
      && memcmp (st1, st2, n * sizeof (float)) == 0,
      "%s: restore a snapshot and rerun: bit-exact continuation %s", c->name,
      err.msg);

  /* copy: a second state continuing from the snapshot's copy */
  rnn_state_set (s, snap, n, NULL);
  ok = rnn_state_copy (s2, s, &err) == RNN_OK;
  ok &= run (s2, c, half, rest, yc, &err) == RNN_OK;
  rnn_state_get (s2, st2, n, NULL);
  tu_check (ok && memcmp (ya, yc, out_size (c, rest) * sizeof (float)) == 0
      && memcmp (st1, st2, n * sizeof (float)) == 0,
      "%s: rnn_state_copy continues identically %s", c->name, err.msg);

  /* reset: a used state, reset, equals a fresh one */
  rnn_state_reset (s);
  rnn_state_get (s, st1, n, NULL);
  ok = 1;
  for (size_t i = 0; i < n; i++)
    ok &= st1[i] == 0.0f;
  ok &= run (s, c, 0, c->T, ya, &err) == RNN_OK;
  ok &= run (fresh, c, 0, c->T, yb, &err) == RNN_OK;
  rnn_state_get (s, st1, n, NULL);
  rnn_state_get (fresh, st2, n, NULL);
  tu_check (ok && memcmp (ya, yb, ny * sizeof (float)) == 0
      && memcmp (st1, st2, n * sizeof (float)) == 0,
      "%s: reset zeroes the state and reruns like a fresh state %s", c->name,
      err.msg);

  free (snap);
  free (st1);
  free (st2);
  free (ya);
  free (yb);
  free (yc);
  rnn_state_free (s);
  rnn_state_free (s2);
  rnn_state_free (fresh);
}

static int
msg_has (const rnn_error *e, const char *what)
{
  return e->msg[0] != '\0' && strstr (e->msg, what) != NULL;
}

static void
test_errors (const fcase *sig, const fcase *txt)
{
  rnn_error err;
  rnn_state *ss = NULL, *ts = NULL;
  float buf[4096], y[4096];
  int32_t ids[3] = { 1, 0, 0 };
  float x[64] = { 0 };
  size_t n;
  rnn_status st;
  char vocab[32];

  rnn_state_new (sig->m, 8, &ss, NULL);
  rnn_state_new (txt->m, 8, &ts, NULL);
  n = rnn_state_size (ss);

  memset (&err, 0, sizeof err);
  st = rnn_state_get (ss, buf, n + 1, &err);
  tu_check (st == RNN_ERR_ARG && err.code == RNN_ERR_ARG && msg_has (&err, "floats"),
      "snapshot get of the wrong size: %s (%s)", rnn_status_str (st), err.msg);
  memset (&err, 0, sizeof err);
  st = rnn_state_set (ss, buf, n - 1, &err);
  tu_check (st == RNN_ERR_ARG && msg_has (&err, "floats"),
      "snapshot set of the wrong size: %s (%s)", rnn_status_str (st), err.msg);

  snprintf (vocab, sizeof vocab, "%d", rnn_model_vocab_size (txt->m));
  ids[1] = rnn_model_vocab_size (txt->m);
  memset (&err, 0, sizeof err);
  st = rnn_state_forward_ids (ts, ids, 3, y, &err);
  tu_check (st == RNN_ERR_ARG && msg_has (&err, vocab) && msg_has (&err,
          "position 1"), "id == vocab size is out of range: %s (%s)",
      rnn_status_str (st), err.msg);
  ids[1] = -3;
  memset (&err, 0, sizeof err);
  st = rnn_state_forward_ids (ts, ids, 3, y, &err);
  tu_check (st == RNN_ERR_ARG && msg_has (&err, "-3"),
      "negative id is out of range: %s (%s)", rnn_status_str (st), err.msg);
  {
    /* a rejected call leaves the state alone */
    size_t tn = rnn_state_size (ts);
    int zero = 1;
    rnn_state_get (ts, buf, tn, NULL);
    for (size_t i = 0; i < tn; i++)
      zero &= buf[i] == 0.0f;
    tu_check (zero, "rejected ids leave the state untouched");
  }

  memset (&err, 0, sizeof err);
  st = rnn_state_forward (ts, x, 1, y, &err);
  tu_check (st == RNN_ERR_ARG && msg_has (&err, "text model"),
      "signal call on a text model: %s (%s)", rnn_status_str (st), err.msg);
  ids[1] = 0;
  memset (&err, 0, sizeof err);
  st = rnn_state_forward_ids (ss, ids, 3, y, &err);
  tu_check (st == RNN_ERR_ARG && msg_has (&err, "signal model"),
      "ids call on a signal model: %s (%s)", rnn_status_str (st), err.msg);
  memset (&err, 0, sizeof err);
  st = rnn_state_forward (ss, x, 0, y, &err);
  tu_check (st == RNN_ERR_ARG && err.msg[0], "zero frames: %s (%s)",
      rnn_status_str (st), err.msg);
  memset (&err, 0, sizeof err);
  st = rnn_state_copy (ss, ts, &err);
  tu_check (st == RNN_ERR_ARG && msg_has (&err, "different models"),
      "copy between models: %s (%s)", rnn_status_str (st), err.msg);
  {
    rnn_state *z = NULL;
    memset (&err, 0, sizeof err);
    st = rnn_state_new (sig->m, 0, &z, &err);
    tu_check (st == RNN_ERR_ARG && z == NULL && msg_has (&err, "max_frames"),
        "max_frames 0: %s (%s)", rnn_status_str (st), err.msg);
  }
  rnn_state_free (ss);
  rnn_state_free (ts);
  rnn_state_free (NULL);
}

/* Bidirectional: a call longer than max_frames is still one sequence (the
 * buffers grow); one call of the whole sequence through a state made for 3
 * frames equals PyTorch (done in test_parity with max_frames 7). Here: the
 * second call of a stream starts the reverse direction from zero again, so
 * two equal calls give equal outputs when the forward state is reset. */
static void
test_bidir_calls (const fcase *c)
{
  rnn_state *s = NULL;
  float *ya = calloc (c->out_per_call, sizeof (float));
  float *yb = calloc (c->out_per_call, sizeof (float));
  size_t n;
  float *st;
  int ok;

  if (rnn_model_num_directions (c->m) != 2) {
    free (ya);
    free (yb);
    return;
  }
  rnn_state_new (c->m, 3, &s, NULL);
  n = rnn_state_size (s);
  st = malloc (n * sizeof (float));
  ok = run (s, c, 0, c->T, ya, NULL) == RNN_OK;
  /* keep the reverse halves as they are (PyTorch's h_n), zero the forward
   * ones: the next call must ignore the reverse values */
  rnn_state_get (s, st, n, NULL);
  {
    const int L = rnn_model_num_layers (c->m);
    size_t blk = n / (2 * L);
    for (int l = 0; l < L; l++)
      memset (st + (size_t) (2 * l) * blk, 0, blk * sizeof (float));
  }
  rnn_state_set (s, st, n, NULL);
  ok &= run (s, c, 0, c->T, yb, NULL) == RNN_OK;
  tu_check (ok && memcmp (ya, yb, c->out_per_call * sizeof (float)) == 0,
      "%s: the reverse direction restarts from zero at each call", c->name);
  free (st);
  free (ya);
  free (yb);
  rnn_state_free (s);
}

/* rnn_state_forward_tokens runs the same computation as
 * rnn_state_forward_ids on the tokens' ids, and checks the spans. */
static void
test_tokens (const fcase *c)
{
  rnn_state *a = NULL, *b = NULL;
  float *ya = calloc (c->out_per_call, sizeof (float));
  float *yb = calloc (c->out_per_call, sizeof (float));
  rnn_token *tok = calloc (c->T, sizeof (rnn_token));
  char *text = malloc (2 * c->T);
  rnn_error err = { 0 };
  rnn_status st;
  int ok;

  /* a text "a a a ..." with one token per letter */
  for (size_t i = 0; i < c->T; i++) {
    text[2 * i] = 'a';
    text[2 * i + 1] = ' ';
    tok[i].start = 2 * i;
    tok[i].end = 2 * i + 1;
    tok[i].id = c->ids[i];
  }
  rnn_state_new (c->m, 4, &a, NULL);
  rnn_state_new (c->m, 4, &b, NULL);
  ok = rnn_state_forward_ids (a, c->ids, c->T, ya, NULL) == RNN_OK;
  ok &= rnn_state_forward_tokens (b, text, 2 * c->T, tok, c->T, yb,
      NULL) == RNN_OK;
  tu_check (ok && memcmp (ya, yb, c->out_per_call * sizeof (float)) == 0,
      "%s: forward_tokens gives forward_ids' outputs", c->name);

  tok[c->T - 1].end = 2 * c->T + 1;
  st = rnn_state_forward_tokens (b, text, 2 * c->T, tok, c->T, yb, &err);
  tu_check (st == RNN_ERR_ARG && msg_has (&err, "outside the text"),
      "%s: a span past the text is refused (%s)", c->name, err.msg);
  tok[c->T - 1].end = 2 * c->T - 1;
  tok[0].id = rnn_model_vocab_size (c->m);
  st = rnn_state_forward_tokens (b, text, 2 * c->T, tok, c->T, yb, &err);
  tu_check (st == RNN_ERR_ARG && msg_has (&err, "out of range"),
      "%s: an id out of range is refused (%s)", c->name, err.msg);
  st = rnn_state_forward_tokens (b, text, 2 * c->T, tok, 0, yb, &err);
  tu_check (st == RNN_ERR_ARG, "%s: no tokens is refused (%s)", c->name,
      err.msg);
  rnn_state_free (a);
  rnn_state_free (b);
  free (text);
  free (tok);
  free (ya);
  free (yb);
}

int
main (void)
{
  char line[256];
  FILE *f = fopen (tu_fixture ("core/cases.txt"), "r");
  fcase sig = { 0 }, txt = { 0 };
  int ncases = 0;
  static const char *cells[4] = { "rnn_tanh", "rnn_relu", "lstm", "gru" };

  printf ("# kernels: default %s\n", rnn__kernels_get ()->name);
  for (int i = 0; rnn__kernels_at (i) != NULL && n_sets < MAX_SETS; i++) {
    const rnn_kernels *k = rnn__kernels_at (i);
    const char *missing;
    if (rnn__kernels_supported (k, &missing))
      kern_sets[n_sets++] = k;
    else
      tu_skip ("parity of the %s kernels: this CPU lacks some of %s",
          k->name, missing);
  }
  tu_check (n_sets >= 1 && kern_sets[n_sets - 1] == rnn__kernels_generic (),
      "%d kernel set(s) to test, the portable one included", n_sets);

  tu_check (f != NULL, "open %s", tu_fixture ("core/cases.txt"));
  while (f != NULL && fgets (line, sizeof line, f)) {
    fcase c;
    line[strcspn (line, "\r\n")] = '\0';
    if (line[0] == '\0')
      continue;
    ncases++;
    if (!case_load (&c, line)) {
      case_clear (&c);
      continue;
    }
    for (int ks = 0; ks < n_sets; ks++) {
      rnn__engine_use_kernels (c.m, kern_sets[ks]);
      test_parity (&c, ks);
      test_one_frame (&c, ks);
    }
    rnn__engine_use_kernels (c.m, rnn__kernels_get ());
    test_chunks (&c);
    test_snapshot (&c);
    test_bidir_calls (&c);
    if (c.ids != NULL)
      test_tokens (&c);
    if (sig.m == NULL && c.ids == NULL)
      sig = c;
    else if (txt.m == NULL && c.ids != NULL)
      txt = c;
    else
      case_clear (&c);
  }
  if (f)
    fclose (f);
  tu_check (ncases >= 20, "%d fixture cases", ncases);
  tu_check (sig.m != NULL && txt.m != NULL, "a signal and a text case");
  if (sig.m != NULL && txt.m != NULL)
    test_errors (&sig, &txt);
  case_clear (&sig);
  case_clear (&txt);

  for (int ks = 0; ks < n_sets; ks++) {
    printf ("# largest parity error vs PyTorch 1.13 [%s]:", kern_sets[ks]->name);
    for (int cl = 0; cl < 4; cl++)
      printf (" %s %.2e%s", cells[cl], worst[ks][cl], cl < 3 ? "," : "\n");
  }
  return tu_finish ();
}
