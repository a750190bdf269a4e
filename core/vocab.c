/* gst-rnn: token -> id, the one vocabulary lookup of the tokenizer, the text
 * elements and the trainer, with the optional unknown-word classes.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A token missing from the vocabulary is `tokenizer.unk_id` unless the model
 * has `tokenizer.unk_classes` = "shape-suffix". Then it is looked up again
 *   1. lower-cased (only when the tokenizer keeps case), then
 *   2. as the vocabulary entries of its class, most specific first:
 *      "<unk:SHAPE:abc>", "<unk:SHAPE:bc>", "<unk:SHAPE:c>" (its last three,
 *      two, one characters lower-cased, only when the token is longer than
 *      that and SHAPE is a letter shape) and "<unk:SHAPE>",
 * and the first entry found wins (unk_id when none is). SHAPE is "d" (no
 * letter: digits and other numbers only), "dA" (letters and digits), "A"
 * (two or more letters, all upper case), "Aa" (first character upper or
 * title case) or "a" (anything else). The keys hold '<' and ':', which
 * never occur in a token (tokens are runs of letters and digits), so they
 * cannot collide with a word. Which classes exist is the trainer's choice:
 * it puts the frequent ones in the vocabulary, so a plain model needs
 * nothing of this and a model with classes is still a plain embedding.
 */
#include "rnn-private.h"
#include "json.h"

#include <string.h>

static const char *
shape_of (const char *tok, size_t len, size_t *n_chars)
{
  size_t n = 0, n_alpha = 0, n_upper = 0, n_digit = 0;
  bool first_upper = false;
  const char *p = tok, *end = tok + len;

  while (p < end) {
    gunichar c = g_utf8_get_char_validated (p, end - p);
    if (c == (gunichar) - 1 || c == (gunichar) - 2)
      break;
    switch (g_unichar_type (c)) {
      case G_UNICODE_UPPERCASE_LETTER:
      case G_UNICODE_TITLECASE_LETTER:
        n_upper++;
        n_alpha++;
        if (n == 0)
          first_upper = true;
        break;
      case G_UNICODE_DECIMAL_NUMBER:
      case G_UNICODE_LETTER_NUMBER:
      case G_UNICODE_OTHER_NUMBER:
        n_digit++;
        break;
      default:
        n_alpha++;
        break;
    }
    n++;
    p = g_utf8_next_char (p);
  }
  *n_chars = n;
  if (n_alpha == 0)
    return "d";
  if (n_digit > 0)
    return "dA";
  if (n >= 2 && n_upper == n)
    return "A";
  if (first_upper)
    return "Aa";
  return "a";
}

/* Simple per-character lower case of @n code points starting at @p into
 * @out (at most @cap bytes with the NUL); returns the bytes written. */
static size_t
lower_chars (const char *p, const char *end, size_t n, char *out, size_t cap)
{
  size_t o = 0;
  for (size_t i = 0; i < n && p < end; i++) {
    gunichar c = g_unichar_tolower (g_utf8_get_char (p));
    char buf[6];
    int k = g_unichar_to_utf8 (c, buf);
    if (o + (size_t) k + 1 > cap)
      break;
    memcpy (out + o, buf, (size_t) k);
    o += (size_t) k;
    p = g_utf8_next_char (p);
  }
  out[o] = '\0';
  return o;
}

int
rnn_unk_class_keys (const char *token, size_t len,
    char keys[RNN_UNK_KEYS][RNN_UNK_KEY_MAX])
{
  size_t n_chars;
  const char *shape;
  int n = 0;

  if (token == NULL || len == 0 || !g_utf8_validate (token, (gssize) len,
          NULL))
    return 0;
  shape = shape_of (token, len, &n_chars);
  if (shape[0] != 'd') {
    for (size_t k = 3; k >= 1; k--) {
      const char *p = token + len;
      char suf[4 * 6 + 1];
      if (n_chars <= k)
        continue;
      for (size_t i = 0; i < k; i++)
        p = g_utf8_prev_char (p);
      lower_chars (p, token + len, k, suf, sizeof suf);
      g_snprintf (keys[n++], RNN_UNK_KEY_MAX, "<unk:%s:%s>", shape, suf);
    }
  }
  g_snprintf (keys[n++], RNN_UNK_KEY_MAX, "<unk:%s>", shape);
  return n;
}

static int32_t
find (const rnn_model *m, const char *key)
{
  gpointer v = g_hash_table_lookup (m->vocab_index, key);
  return v ? GPOINTER_TO_INT (v) - 1 : -1;
}

int32_t
rnn__vocab_unknown_id (const rnn_model *m, const char *token, size_t len)
{
  char keys[RNN_UNK_KEYS][RNN_UNK_KEY_MAX];
  int n;

  if (!m->unk_classes)
    return m->unk_id;
  n = rnn_unk_class_keys (token, len, keys);
  for (int i = 0; i < n; i++) {
    int32_t id = find (m, keys[i]);
    if (id >= 0)
      return id;
  }
  return m->unk_id;
}

int32_t
rnn__vocab_id (const rnn_model *m, const char *token, size_t len)
{
  int32_t id = find (m, token);

  if (id >= 0 || !m->unk_classes)
    return id >= 0 ? id : m->unk_id;
  if (m->keep_case) {
    char *lo = g_malloc (len * 3 + 1);
    lower_chars (token, token + len, len, lo, len * 3 + 1);
    id = find (m, lo);
    g_free (lo);
    if (id >= 0)
      return id;
  }
  return rnn__vocab_unknown_id (m, token, len);
}

int32_t
rnn_model_token_id (const rnn_model *m, const char *token, size_t len)
{
  if (m == NULL || token == NULL || m->vocab_index == NULL
      || !g_utf8_validate (token, (gssize) len, NULL))
    return -1;
  return rnn__vocab_id (m, token, len);
}

int32_t
rnn_model_unknown_token_id (const rnn_model *m, const char *token,
    size_t len)
{
  if (m == NULL || token == NULL || m->vocab_index == NULL
      || !g_utf8_validate (token, (gssize) len, NULL))
    return -1;
  return rnn__vocab_unknown_id (m, token, len);
}

rnn_status
rnn__vocab_set (rnn_model *m, const char *value, const char *name,
    rnn_error *err)
{
  char why[256];
  rnn_json *j;
  GHashTable *index;
  rnn_status st = RNN_OK;

  if (value == NULL) {
    g_clear_pointer (&m->vocab_index, g_hash_table_destroy);
    m->vocab_index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
        NULL);
    return RNN_OK;
  }
  j = rnn__json_parse (value, strlen (value), why, sizeof why);
  if (j == NULL)
    return rnn__set_error (err, RNN_ERR_FORMAT,
        "%s: metadata tokenizer.vocab: %s", name, why);
  if (j->type != RNN_JSON_ARRAY) {
    rnn__json_free (j);
    return rnn__set_error (err, RNN_ERR_FORMAT,
        "%s: metadata tokenizer.vocab: expected a JSON array of strings",
        name);
  }
  if ((int64_t) j->n != (int64_t) m->vocab) {
    st = rnn__set_error (err, RNN_ERR_MODEL,
        "%s: metadata tokenizer.vocab has %zu tokens but the embedding has "
        "%d rows", name, j->n, m->vocab);
    rnn__json_free (j);
    return st;
  }
  index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (size_t i = 0; i < j->n && st == RNN_OK; i++) {
    const rnn_json *e = j->items[i];
    if (e->type != RNN_JSON_STRING)
      st = rnn__set_error (err, RNN_ERR_FORMAT,
          "%s: metadata tokenizer.vocab: item %zu is a %s, not a string",
          name, i, rnn__json_type_name (e->type));
    else if (g_hash_table_contains (index, e->str))
      st = rnn__set_error (err, RNN_ERR_MODEL,
          "%s: metadata tokenizer.vocab: duplicate token '%s' (ids %d and "
          "%zu)", name, e->str,
          GPOINTER_TO_INT (g_hash_table_lookup (index, e->str)) - 1, i);
    else
      g_hash_table_insert (index, g_strdup (e->str),
          GINT_TO_POINTER ((int) i + 1));
  }
  rnn__json_free (j);
  if (st != RNN_OK) {
    g_hash_table_destroy (index);
    return st;
  }
  if (m->vocab_index)
    g_hash_table_destroy (m->vocab_index);
  m->vocab_index = index;
  return RNN_OK;
}

rnn_status
rnn__unk_classes_parse (const char *value, const char *name, bool *out,
    rnn_error *err)
{
  if (value == NULL) {
    *out = false;
    return RNN_OK;
  }
  if (strcmp (value, "shape-suffix") != 0)
    return rnn__set_error (err, RNN_ERR_MODEL,
        "%s: metadata tokenizer.unk_classes: '%s' is not a known scheme "
        "(expected shape-suffix)", name, value);
  *out = true;
  return RNN_OK;
}
