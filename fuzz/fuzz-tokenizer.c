/* gst-rnn: fuzz target for the markup stripper and the tokenizer.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Input: one control byte, then the text (any bytes: invalid UTF-8 is
 * part of the contract). Bit 0 of the control byte strips pango markup
 * first; the rest sets how many ids the caller's buffer holds. Checks,
 * beyond the sanitizers: the stripped text is no longer than its input;
 * every token is non-empty valid UTF-8 of the announced length;
 * rnn_model_tokenize counts as many tokens as rnn_tokenize_foreach, writes
 * no more than asked and only ids inside the vocabulary; and the ids run
 * through a small text model.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "rnn.h"
#include "fuzz-common.h"

static rnn_model *model;
static rnn_state *state;

/* A 2-layer GRU text classifier over a 12-word vocabulary, written to a
 * temporary file and loaded back (the vocabulary metadata only takes
 * effect through a load). */
static void
init_model (void)
{
  static const char *vocab =
      "[\"<pad>\", \"<unk>\", \"good\", \"bad\", \"the\", \"café\", "
      "\"straße\", \"ǆ\", \"١٢٣\", \"日本\", \"x\", \"42\"]";
  rnn_model_config cfg;
  rnn_model *m = NULL;
  rnn_error err;
  gchar *path;
  int fd;

  rnn_model_config_init (&cfg);
  cfg.cell = RNN_CELL_GRU;
  cfg.vocab_size = 12;
  cfg.embed_dim = 4;
  cfg.padding_idx = 0;
  cfg.hidden_size = 5;
  cfg.num_layers = 2;
  cfg.head_out = 3;
  cfg.head_input = RNN_HEAD_FINAL_HIDDEN;
  cfg.task = RNN_TASK_CLASSIFY;
  fd = g_file_open_tmp ("fuzz-tokenizer-XXXXXX.safetensors", &path, NULL);
  if (fd < 0)
    abort ();
  close (fd);
  if (rnn_model_new (&cfg, 1, &m, &err) != RNN_OK
      || rnn_model_set_meta (m, "tokenizer.vocab", vocab, &err) != RNN_OK
      || rnn_model_save (m, path, &err) != RNN_OK
      || rnn_model_load (path, &model, &err) != RNN_OK
      || rnn_state_new (model, 32, &state, &err) != RNN_OK)
    abort ();
  rnn_model_free (m);
  g_unlink (path);
  g_free (path);
}

static int
count_cb (const char *token, size_t len, void *user)
{
  size_t *n = user;

  if (len == 0 || strlen (token) != len || !g_utf8_validate (token, len, NULL))
    abort ();
  (*n)++;
  return 0;
}

static int
stop_cb (const char *token, size_t len, void *user)
{
  return 7;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *text;
  char *stripped = NULL;
  size_t len, n_foreach = 0, n_found = 0, max_ids, i;
  int32_t ids[64];
  float y[3];
  rnn_error err;
  int vocab;

  if (model == NULL)
    init_model ();
  if (size < 1)
    return 0;

  text = (const char *) data + 1;
  len = size - 1;
  max_ids = (data[0] >> 1) % 65;        /* 0 .. 64 */

  if (data[0] & 1) {
    if (rnn_markup_strip (text, len, &stripped, &err) != RNN_OK)
      abort ();                 /* malformed markup is not an error */
    if (strlen (stripped) > len)
      abort ();
    text = stripped;
    len = strlen (stripped);
  }

  rnn_tokenize_foreach (text, len, count_cb, &n_foreach);
  if (n_foreach > 0 && rnn_tokenize_foreach (text, len, stop_cb, NULL) != 7)
    abort ();

  /* a canary past max_ids catches a write beyond what was asked */
  for (i = 0; i < G_N_ELEMENTS (ids); i++)
    ids[i] = -12345;
  if (rnn_model_tokenize (model, text, len, ids, max_ids, &n_found, &err)
      != RNN_OK)
    abort ();
  if (n_found != n_foreach)
    abort ();
  vocab = rnn_model_vocab_size (model);
  for (i = 0; i < G_N_ELEMENTS (ids); i++) {
    if (i < MIN (n_found, max_ids)) {
      if (ids[i] < 0 || ids[i] >= vocab)
        abort ();
    } else if (ids[i] != -12345) {
      abort ();
    }
  }

  if (MIN (n_found, max_ids) > 0) {
    rnn_state_reset (state);
    if (rnn_state_forward_ids (state, ids, MIN (n_found, max_ids), y, &err)
        != RNN_OK)
      abort ();
  }

  free (stripped);
  return 0;
}
