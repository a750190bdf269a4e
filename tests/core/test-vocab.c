/* The vocabulary lookup: plain models (unknown tokens are unk_id), the
 * unknown-word classes of `tokenizer.unk_classes` = shape-suffix (lower-case
 * fallback, suffix and shape classes, their order), the same ids through
 * rnn_model_tokenize, rnn_model_tokenize_spans and rnn_model_token_id, the
 * tokenizer metadata taking effect at once through rnn_model_set_meta and
 * after a save and load, and bad metadata refused.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "testutil.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

static const char *vocab_json =
    "[\"<pad>\", \"<unk>\", \"<unk:a:ing>\", \"<unk:a:ng>\", \"<unk:a>\", "
    "\"<unk:Aa>\", \"<unk:A>\", \"<unk:d>\", \"<unk:dA>\", \"<unk:Aa:son>\", "
    "\"the\", \"The\", \"dog\", \"running\", \"s\", \"\xc3\xa9t\xc3\xa9\"]";

enum { PAD, UNK, A_ING, A_NG, A, AA, AU, D, DA, AA_SON, THE, THE_CAP, DOG,
  RUNNING, S, ETE, V };

static rnn_model *
make (bool classes, bool keep_case)
{
  rnn_model_config c;
  rnn_model *m = NULL;
  rnn_error err;
  rnn_model_config_init (&c);
  c.vocab_size = V;
  c.embed_dim = 3;
  c.padding_idx = 0;
  c.hidden_size = 4;
  c.bidirectional = true;
  c.head_out = 3;
  c.task = RNN_TASK_TAG;
  if (rnn_model_new (&c, 1, &m, &err) != RNN_OK) {
    tu_check (0, "rnn_model_new: %s", err.msg);
    return NULL;
  }
  tu_check (rnn_model_set_meta (m, "tokenizer.vocab", vocab_json, &err)
      == RNN_OK, "set_meta tokenizer.vocab");
  if (keep_case)
    rnn_model_set_meta (m, "tokenizer.lowercase", "false", &err);
  if (classes)
    tu_check (rnn_model_set_meta (m, "tokenizer.unk_classes", "shape-suffix",
            &err) == RNN_OK, "set_meta tokenizer.unk_classes");
  return m;
}

static int32_t
id_of (const rnn_model *m, const char *tok)
{
  return rnn_model_token_id (m, tok, strlen (tok));
}

/* Every path from text to ids gives the same ids. */
static void
check_paths (const rnn_model *m, const char *text, const int32_t *want,
    size_t n_want, const char *what)
{
  int32_t ids[32];
  rnn_token toks[32];
  size_t n = 0, ns = 0;
  rnn_error err;
  bool ok;
  rnn_model_tokenize (m, text, strlen (text), ids, 32, &n, &err);
  rnn_model_tokenize_spans (m, text, strlen (text), toks, 32, &ns, &err);
  ok = n == n_want && ns == n_want;
  for (size_t i = 0; ok && i < n; i++) {
    char *tok = g_strndup (text + toks[i].start, toks[i].end - toks[i].start);
    /* with case kept, the token is its span */
    ok = ids[i] == want[i] && toks[i].id == want[i]
        && (!g_str_equal (rnn_model_meta (m, "tokenizer.lowercase") ?
                rnn_model_meta (m, "tokenizer.lowercase") : "", "false")
            || id_of (m, tok) == want[i]);
    g_free (tok);
  }
  {
    GString *got = g_string_new (NULL);
    for (size_t i = 0; i < n && i < 32; i++)
      g_string_append_printf (got, " %d", ids[i]);
    tu_check (ok, "%s: \"%s\" -> ids%s", what, text, got->str);
    g_string_free (got, TRUE);
  }
}

static void
test_plain (void)
{
  rnn_model *m = make (false, true);
  int32_t want[] = { THE_CAP, UNK, UNK, DOG };
  if (!m)
    return;
  /* no classes: only exact matches, everything else unk_id */
  tu_check (id_of (m, "The") == THE_CAP && id_of (m, "the") == THE
      && id_of (m, "Dog") == UNK && id_of (m, "jumping") == UNK
      && id_of (m, "1961") == UNK, "plain model: exact matches, else unk_id");
  tu_check (rnn_model_unknown_token_id (m, "jumping", 7) == UNK,
      "plain model: the unknown id of a word is unk_id");
  check_paths (m, "The Dog jumping, dog.", want, 4, "plain model");
  rnn_model_free (m);
}

static void
test_classes (void)
{
  rnn_model *m = make (true, true);
  if (!m)
    return;
  struct {
    const char *tok;
    int32_t id;
    const char *why;
  } cases[] = {
    { "the", THE, "in the vocabulary" },
    { "The", THE_CAP, "in the vocabulary with its case" },
    { "Dog", DOG, "lower-case fallback" },
    { "RUNNING", RUNNING, "lower-case fallback of an all-capital word" },
    { "jumping", A_ING, "suffix class of three letters" },
    { "Jumping", AA, "another shape: no Aa suffix class, the Aa shape" },
    { "sing", A_ING, "the last three of four letters" },
    { "ang", A_NG, "three letters: suffix classes of up to two" },
    { "Jackson", AA_SON, "suffix class of a capitalised word" },
    { "cat", A, "shape class a" },
    { "NASA", AU, "shape class A" },
    { "X", AA, "one capital letter: shape Aa" },
    { "1961", D, "digits: shape d" },
    { "\xd9\xa3", D, "an Arabic-Indic digit: shape d" },
    { "B52", DA, "letters and digits: shape dA" },
    { "\xc3\x89T\xc3\x89", ETE, "non-ASCII lower-case fallback" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++) {
    int32_t id = id_of (m, cases[i].tok);
    tu_check (id == cases[i].id, "classes: '%s' -> %d (%s), got %d",
        cases[i].tok, cases[i].id, cases[i].why, id);
  }
  tu_check (rnn_model_unknown_token_id (m, "the", 3) == A
      && rnn_model_unknown_token_id (m, "running", 7) == A_ING,
      "the unknown id of a known word is its class (word dropout)");
  {
    int32_t want[] = { THE_CAP, DOG, A_ING, D, S, AA_SON };
    check_paths (m, "The Dog jumping 1961's Jackson", want, 6,
        "classes, lowercase=false");
  }
  {
    char keys[RNN_UNK_KEYS][RNN_UNK_KEY_MAX];
    int n = rnn_unk_class_keys ("Walking", 7, keys);
    tu_check (n == 4 && strcmp (keys[0], "<unk:Aa:ing>") == 0
        && strcmp (keys[1], "<unk:Aa:ng>") == 0
        && strcmp (keys[2], "<unk:Aa:g>") == 0
        && strcmp (keys[3], "<unk:Aa>") == 0,
        "class keys of 'Walking', most specific first");
    tu_check (rnn_unk_class_keys ("\xff", 1, keys) == 0
        && rnn_unk_class_keys ("", 0, keys) == 0
        && rnn_model_token_id (m, "\xc3", 1) == -1,
        "invalid UTF-8 or empty: no class, id -1");
  }
  rnn_model_free (m);

  /* Lower-casing tokenizer: classes see lower-case tokens only. */
  m = make (true, false);
  if (m) {
    int32_t want[] = { THE, DOG, A_ING, D };
    check_paths (m, "The DOG Jumping 1961", want, 4,
        "classes, lowercase=true");
    rnn_model_free (m);
  }
}

static void
test_save_load (void)
{
  rnn_model *m = make (true, true), *back = NULL;
  char *dir = g_dir_make_tmp ("test-vocab-XXXXXX", NULL);
  char *path = g_build_filename (dir, "m.safetensors", NULL);
  rnn_error err;
  if (!m)
    return;
  tu_check (rnn_model_save (m, path, &err) == RNN_OK, "save");
  if (rnn_model_load (path, &back, &err) != RNN_OK) {
    tu_check (0, "load back: %s", err.msg);
  } else {
    const char *toks[] = { "The", "Dog", "jumping", "Jackson", "NASA",
      "B52", "cat" };
    bool ok = true;
    for (size_t i = 0; i < G_N_ELEMENTS (toks); i++)
      ok = ok && id_of (back, toks[i]) == id_of (m, toks[i]);
    tu_check (ok, "the loaded model maps tokens as the one it was saved from");
    tu_check (g_strcmp0 (rnn_model_meta (back, "tokenizer.unk_classes"),
            "shape-suffix") == 0, "tokenizer.unk_classes saved");
  }
  rnn_model_free (back);
  g_remove (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);

  /* bad values */
  tu_check (rnn_model_set_meta (m, "tokenizer.unk_classes", "suffix", &err)
      == RNN_ERR_MODEL && strstr (err.msg, "'suffix' is not a known scheme"),
      "an unknown class scheme is refused (%s)", err.msg);
  tu_check (rnn_model_set_meta (m, "tokenizer.vocab", "[\"a\", \"b\"]", &err)
      != RNN_OK && strstr (err.msg, "has 2 tokens but the embedding has 16"),
      "a vocabulary of the wrong size is refused (%s)", err.msg);
  tu_check (rnn_model_set_meta (m, "tokenizer.vocab", "[\"a\", \"a\", \"b\", "
          "\"c\", \"d\", \"e\", \"f\", \"g\", \"h\", \"i\", \"j\", \"k\", "
          "\"l\", \"m\", \"n\", \"o\"]", &err) != RNN_OK
      && strstr (err.msg, "duplicate token 'a'"),
      "a duplicate token is refused (%s)", err.msg);
  tu_check (rnn_model_set_meta (m, "tokenizer.unk_id", "16", &err)
      == RNN_ERR_ARG, "unk_id outside the vocabulary refused (%s)", err.msg);
  tu_check (id_of (m, "jumping") == A_ING,
      "refused changes leave the lookup as it was");
  rnn_model_free (m);
}

static void
test_load_refuses (void)
{
  /* A saved file whose unk_classes value is unknown does not load. */
  rnn_model *m = make (false, false), *back = NULL;
  char *dir = g_dir_make_tmp ("test-vocab-XXXXXX", NULL);
  char *path = g_build_filename (dir, "bad.safetensors", NULL);
  rnn_error err;
  rnn_status st;
  if (!m)
    return;
  /* set_meta refuses the value, so write it as a plain entry */
  {
    rnn_tensors *t = NULL;
    size_t n;
    rnn_model_save (m, path, &err);
    rnn_tensors_load (path, &t, &err);
    n = rnn_tensors_count (t);
    {
      const char **names = g_new (const char *, n);
      int *ndims = g_new (int, n);
      const int64_t **shapes = g_new (const int64_t *, n);
      const float **data = g_new (const float *, n);
      size_t nm = rnn_tensors_meta_count (t) + 1;
      const char **mk = g_new (const char *, nm), **mv = g_new (const char *,
          nm);
      for (size_t i = 0; i < n; i++) {
        const rnn_tensor *x = rnn_tensors_get (t, i);
        names[i] = x->name;
        ndims[i] = x->ndim;
        shapes[i] = x->shape;
        data[i] = x->data;
      }
      for (size_t i = 0; i + 1 < nm; i++)
        rnn_tensors_meta_at (t, i, &mk[i], &mv[i]);
      mk[nm - 1] = "tokenizer.unk_classes";
      mv[nm - 1] = "shape";
      rnn_tensors_write (path, n, names, ndims, shapes, data, nm, mk, mv,
          &err);
      g_free (names);
      g_free (ndims);
      g_free (shapes);
      g_free (data);
      g_free (mk);
      g_free (mv);
    }
    rnn_tensors_free (t);
  }
  st = rnn_model_load (path, &back, &err);
  tu_check (st == RNN_ERR_MODEL && back == NULL
      && strstr (err.msg, "tokenizer.unk_classes: 'shape' is not a known")
      && strstr (err.msg, path),
      "loading a model with an unknown class scheme fails naming the file "
      "(%s)", err.msg);
  rnn_model_free (m);
  g_remove (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
}

int
main (void)
{
  test_plain ();
  test_classes ();
  test_save_load ();
  test_load_refuses ();
  return tu_finish ();
}
