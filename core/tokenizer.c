/* gst-rnn: text to token ids (SPEC section 4, normative).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The reference is Python's
 *     re.findall (r"[^\W_]+", text.lower ())
 * on text whose invalid UTF-8 was replaced by U+FFFD. Two facts make that
 * exact in C:
 *
 * - str.lower () applies the *full* lower-case mapping with the only context
 *   rule Python implements, Final_Sigma (Unicode 3.13), and no locale rule.
 *   GLib's g_utf8_strdown () differs on both counts: it follows the process
 *   locale (Turkish, Lithuanian) and calls a capital sigma final whenever the
 *   next character is not a letter (a lone "Σ" becomes "ς", Python gives
 *   "σ"). So we lower-case one character at a time with g_unichar_tolower ()
 *   (the simple mapping), add the single unconditional multi-character
 *   lower-case mapping of SpecialCasing.txt (U+0130 -> U+0069 U+0307) and
 *   the mappings of non-letters GLib skips (Roman numerals, circled
 *   letters), and
 *   implement Final_Sigma with Python's definitions of "cased" and
 *   "case-ignorable".
 * - [^\W_] matches exactly the general categories L* and N* (measured over
 *   every code point of Python's Unicode database: marks Mn/Mc/Me, connector
 *   punctuation and symbols are all outside it), which is the SPEC's rule.
 *
 * tests/core/test-tokenizer.c compares every assigned code point with
 * Python's tables (tests/fixtures/tokenizer/unicode.tsv) and a corpus.
 */
#include "rnn-private.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ code points */

static gboolean
is_word_char (gunichar c)
{
  switch (g_unichar_type (c)) {
    case G_UNICODE_UPPERCASE_LETTER:
    case G_UNICODE_LOWERCASE_LETTER:
    case G_UNICODE_TITLECASE_LETTER:
    case G_UNICODE_MODIFIER_LETTER:
    case G_UNICODE_OTHER_LETTER:
    case G_UNICODE_DECIMAL_NUMBER:
    case G_UNICODE_LETTER_NUMBER:
    case G_UNICODE_OTHER_NUMBER:
      return TRUE;
    default:
      return FALSE;
  }
}

/* Case_Ignorable (Unicode 3.13): categories Mn, Me, Cf, Lm, Sk plus the
 * Word_Break classes MidLetter, MidNumLet and Single_Quote, listed here. */
static gboolean
is_case_ignorable (gunichar c)
{
  static const gunichar mid[] = {
    0x0027, 0x002e, 0x003a, 0x00b7, 0x0387, 0x055f, 0x05f4, 0x2018, 0x2019,
    0x2024, 0x2027, 0xfe13, 0xfe52, 0xfe55, 0xff07, 0xff0e, 0xff1a
  };
  guint i;

  switch (g_unichar_type (c)) {
    case G_UNICODE_NON_SPACING_MARK:
    case G_UNICODE_ENCLOSING_MARK:
    case G_UNICODE_FORMAT:
    case G_UNICODE_MODIFIER_LETTER:
    case G_UNICODE_MODIFIER_SYMBOL:
      return TRUE;
    default:
      break;
  }
  for (i = 0; i < G_N_ELEMENTS (mid); i++)
    if (c == mid[i])
      return TRUE;
  return FALSE;
}

/* Cased (Unicode 3.13): Lu, Ll, Lt, Other_Lowercase, Other_Uppercase. The
 * Other_* code points that are not also case-ignorable (which the sigma
 * rule skips before asking) are the ranges below. */
static gboolean
is_cased (gunichar c)
{
  static const gunichar other[][2] = {
    {0x00aa, 0x00aa}, {0x00ba, 0x00ba}, {0x2160, 0x217f}, {0x24b6, 0x24e9},
    {0x1f130, 0x1f149}, {0x1f150, 0x1f169}, {0x1f170, 0x1f189}
  };
  guint i;

  switch (g_unichar_type (c)) {
    case G_UNICODE_UPPERCASE_LETTER:
    case G_UNICODE_LOWERCASE_LETTER:
    case G_UNICODE_TITLECASE_LETTER:
      return TRUE;
    default:
      break;
  }
  for (i = 0; i < G_N_ELEMENTS (other); i++)
    if (c >= other[i][0] && c <= other[i][1])
      return TRUE;
  return FALSE;
}

/* Final_Sigma at u[i]: some cased letter before it, with only
 * case-ignorable characters in between, and no cased letter after it
 * unless a non-ignorable character comes first. */
static gboolean
is_final_sigma (const gunichar * u, size_t n, size_t i)
{
  size_t j;

  for (j = i; j > 0 && is_case_ignorable (u[j - 1]); j--);
  if (j == 0 || !is_cased (u[j - 1]))
    return FALSE;
  for (j = i + 1; j < n && is_case_ignorable (u[j]); j++);
  return j == n || !is_cased (u[j]);
}

/* Lower case of u[i] in context: 1 or 2 code points written to @out. */
static int
lower_at (const gunichar * u, size_t n, size_t i, gunichar out[2])
{
  gunichar c = u[i];

  if (c == 0x0130) {            /* LATIN CAPITAL LETTER I WITH DOT ABOVE */
    out[0] = 0x0069;
    out[1] = 0x0307;
    return 2;
  }
  if (c == 0x03a3) {            /* GREEK CAPITAL LETTER SIGMA */
    out[0] = is_final_sigma (u, n, i) ? 0x03c2 : 0x03c3;
    return 1;
  }
  /* g_unichar_tolower maps letters only; UnicodeData also lower-cases the
   * Roman numerals (Nl) and the circled Latin capitals (So) */
  if (c >= 0x2160 && c <= 0x216f)
    out[0] = c + 0x10;
  else if (c >= 0x24b6 && c <= 0x24cf)
    out[0] = c + 26;
  else
    out[0] = g_unichar_tolower (c);
  return 1;
}

/* Decode @len bytes of UTF-8 into a new array of code points; each byte
 * that does not start a valid sequence becomes one U+FFFD. When @offs is
 * not NULL it receives a new array of n + 1 byte offsets: code point i
 * came from bytes [offs[i], offs[i + 1]) of @text. */
static gunichar *
decode (const char *text, size_t len, size_t * n_out, size_t ** offs)
{
  gunichar *u = g_new (gunichar, len + 1);
  size_t *o = offs ? g_new (size_t, len + 1) : NULL;
  size_t i = 0, n = 0;

  while (i < len) {
    const guchar b = (guchar) text[i];
    gunichar c;

    if (o)
      o[n] = i;
    if (b < 0x80) {
      u[n++] = b;
      i++;
      continue;
    }
    c = g_utf8_get_char_validated (text + i, (gssize) (len - i));
    if (c == (gunichar) - 1 || c == (gunichar) - 2) {
      u[n++] = 0xfffd;
      i++;
    } else {
      u[n++] = c;
      i += (size_t) g_utf8_skip[b];
    }
  }
  if (o)
    o[n] = len;
  *n_out = n;
  if (offs)
    *offs = o;
  return u;
}

/* -------------------------------------------------------------- tokenizer */

/* The one tokenizer walk: calls @cb with each token (lower-cased when
 * @lowercase), NUL-terminated, and the bytes [start, end) of @text it came
 * from: from the first byte of the character that gave its first code
 * point to the last byte of the character that gave its last one. (A
 * lower-case mapping to two code points can split one character between a
 * token and a separator: U+0130 gives "i" + U+0307, so "İstanbul" is the
 * tokens "i" (the bytes of "İ") and "stanbul".) */
static int
walk (const char *text, size_t len, bool lowercase, rnn_token_span_cb cb,
    void *user)
{
  gunichar *u;
  size_t n, i, *offs, start = 0, end = 0;
  GString *tok;
  int ret = 0;

  if (text == NULL || len == 0 || cb == NULL)
    return 0;

  u = decode (text, len, &n, &offs);
  tok = g_string_sized_new (64);
  for (i = 0; i < n && ret == 0; i++) {
    gunichar lo[2];
    int k, nl;

    if (lowercase) {
      nl = lower_at (u, n, i, lo);
    } else {
      lo[0] = u[i];
      nl = 1;
    }
    for (k = 0; k < nl && ret == 0; k++) {
      if (is_word_char (lo[k])) {
        if (tok->len == 0)
          start = offs[i];
        end = offs[i + 1];
        g_string_append_unichar (tok, lo[k]);
      } else if (tok->len > 0) {
        ret = cb (tok->str, tok->len, start, end, user);
        g_string_truncate (tok, 0);
      }
    }
  }
  if (ret == 0 && tok->len > 0)
    ret = cb (tok->str, tok->len, start, end, user);

  g_string_free (tok, TRUE);
  g_free (offs);
  g_free (u);
  return ret;
}

typedef struct
{
  rnn_token_cb cb;
  void *user;
} PlainCtx;

static int
plain_cb (const char *token, size_t len, size_t start, size_t end, void *user)
{
  PlainCtx *ctx = user;

  (void) start;
  (void) end;
  return ctx->cb (token, len, ctx->user);
}

int
rnn_tokenize_foreach (const char *text, size_t len, rnn_token_cb cb,
    void *user)
{
  PlainCtx ctx = { cb, user };

  if (cb == NULL)
    return 0;
  return walk (text, len, true, plain_cb, &ctx);
}

int
rnn_tokenize_spans_foreach (const char *text, size_t len, bool lowercase,
    rnn_token_span_cb cb, void *user)
{
  return walk (text, len, lowercase, cb, user);
}

typedef struct
{
  const rnn_model *m;
  int32_t *ids;
  rnn_token *tokens;
  size_t max;
  size_t n;
} TokenizeCtx;

static int
lookup_cb (const char *token, size_t len, size_t start, size_t end,
    void *user)
{
  TokenizeCtx *ctx = user;
  int32_t id = rnn__vocab_id (ctx->m, token, len);

  if (ctx->n < ctx->max) {
    if (ctx->ids)
      ctx->ids[ctx->n] = id;
    if (ctx->tokens) {
      ctx->tokens[ctx->n].start = start;
      ctx->tokens[ctx->n].end = end;
      ctx->tokens[ctx->n].id = id;
    }
  }
  ctx->n++;
  return 0;
}

/* The shared body of rnn_model_tokenize and rnn_model_tokenize_spans. */
static rnn_status
tokenize (const rnn_model * m, const char *text, size_t len, int32_t * ids,
    rnn_token * tokens, size_t max, size_t * n_out, const char *fn,
    rnn_error * err)
{
  TokenizeCtx ctx;

  if (n_out)
    *n_out = 0;
  if (m == NULL || n_out == NULL || (text == NULL && len > 0)
      || (ids == NULL && tokens == NULL && max > 0))
    return rnn__set_error (err, RNN_ERR_ARG,
        "%s: %s is NULL", fn, m == NULL ? "model" :
        n_out == NULL ? "the count" : text == NULL ? "text" : "the output");
  if (m->vocab_index == NULL)
    return rnn__set_error (err, RNN_ERR_MODEL,
        "%s: no tokenizer vocabulary (metadata key tokenizer.vocab)",
        m->name ? m->name : "model");

  ctx.m = m;
  ctx.ids = ids;
  ctx.tokens = tokens;
  ctx.max = max;
  ctx.n = 0;
  walk (text, len, !m->keep_case, lookup_cb, &ctx);
  *n_out = ctx.n;
  return RNN_OK;
}

rnn_status
rnn_model_tokenize (const rnn_model * m, const char *text, size_t len,
    int32_t * ids, size_t max_ids, size_t * n_ids, rnn_error * err)
{
  return tokenize (m, text, len, ids, NULL, max_ids, n_ids,
      "rnn_model_tokenize", err);
}

rnn_status
rnn_model_tokenize_spans (const rnn_model * m, const char *text, size_t len,
    rnn_token * tokens, size_t max_tokens, size_t * n_tokens,
    rnn_error * err)
{
  return tokenize (m, text, len, NULL, tokens, max_tokens, n_tokens,
      "rnn_model_tokenize_spans", err);
}

/* ----------------------------------------------------------------- markup */

static gboolean
is_name_start (guchar c)
{
  return g_ascii_isalpha (c) || c == '_' || c == ':' || c >= 0x80;
}

static gboolean
is_name_char (guchar c)
{
  return is_name_start (c) || g_ascii_isdigit (c) || c == '-' || c == '.';
}

/* Index of the first byte of @needle in text[from, len), or -1. */
static gssize
find (const char *text, size_t len, size_t from, const char *needle)
{
  size_t nl = strlen (needle), i;

  for (i = from; i + nl <= len; i++)
    if (memcmp (text + i, needle, nl) == 0)
      return (gssize) i;
  return -1;
}

/* A well-formed start or end tag at text[i] == '<': returns the index just
 * past its '>', or 0 when it is not one (the '<' is then kept as text).
 *   tag  := '<' '/'? name (S+ name S* '=' S* quoted)* S* '/'? '>'   */
static size_t
tag_end (const char *text, size_t len, size_t i)
{
  size_t j = i + 1;

  if (j < len && text[j] == '/')
    j++;
  if (j >= len || !is_name_start ((guchar) text[j]))
    return 0;
  while (j < len && is_name_char ((guchar) text[j]))
    j++;

  for (;;) {
    gboolean space = FALSE;
    char q;

    while (j < len && g_ascii_isspace (text[j])) {
      j++;
      space = TRUE;
    }
    if (j >= len)
      return 0;
    if (text[j] == '>')
      return j + 1;
    if (text[j] == '/' && j + 1 < len && text[j + 1] == '>')
      return j + 2;
    /* an attribute: name = "value" */
    if (!space || !is_name_start ((guchar) text[j]))
      return 0;
    while (j < len && is_name_char ((guchar) text[j]))
      j++;
    while (j < len && g_ascii_isspace (text[j]))
      j++;
    if (j >= len || text[j] != '=')
      return 0;
    j++;
    while (j < len && g_ascii_isspace (text[j]))
      j++;
    if (j >= len || (text[j] != '"' && text[j] != '\''))
      return 0;
    q = text[j++];
    while (j < len && text[j] != q && text[j] != '<')
      j++;
    if (j >= len || text[j] != q)
      return 0;
    j++;
  }
}

/* An entity at text[i] == '&': returns the index past its ';' and the code
 * point in *c, or 0 when it is not a known, valid one. */
static size_t
entity_end (const char *text, size_t len, size_t i, gunichar * c)
{
  static const struct
  {
    const char *name;
    gunichar c;
  } named[] = {
    {"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'},
    {"apos;", '\''}
  };
  size_t j = i + 1;
  guint k;

  if (j < len && text[j] == '#') {
    gboolean hex = j + 1 < len && text[j + 1] == 'x';
    guint64 v = 0;
    size_t digits = 0;

    j += hex ? 2 : 1;
    for (; j < len && v <= 0x10ffff; j++, digits++) {
      int d = hex ? g_ascii_xdigit_value (text[j]) :
          g_ascii_digit_value (text[j]);
      if (d < 0)
        break;
      v = v * (hex ? 16 : 10) + (guint) d;
    }
    if (digits == 0 || j >= len || text[j] != ';' || v == 0 || v > 0x10ffff
        || (v >= 0xd800 && v <= 0xdfff))
      return 0;
    *c = (gunichar) v;
    return j + 1;
  }
  for (k = 0; k < G_N_ELEMENTS (named); k++) {
    size_t nl = strlen (named[k].name);
    if (j + nl <= len && memcmp (text + j, named[k].name, nl) == 0) {
      *c = named[k].c;
      return j + nl;
    }
  }
  return 0;
}

/* Records that plain bytes [n0, n) came from markup bytes [a, b). */
static void
set_origin (size_t * from, size_t * to, size_t n0, size_t n, size_t a,
    size_t b)
{
  if (from == NULL)
    return;
  for (size_t j = n0; j < n; j++) {
    from[j] = a;
    to[j] = b;
  }
}

/* Every rule below produces at most as many bytes as it consumes (an entity
 * of n bytes decodes to at most 4 <= n, a tag to nothing), so the result
 * fits in @len + 1 bytes. */
rnn_status
rnn_markup_strip_map (const char *text, size_t len, char **out,
    size_t ** from_out, size_t ** to_out, rnn_error * err)
{
  char *o;
  size_t i = 0, n = 0, *from = NULL, *to = NULL;

  if (out == NULL || (text == NULL && len > 0)
      || (from_out == NULL) != (to_out == NULL))
    return rnn__set_error (err, RNN_ERR_ARG, "rnn_markup_strip: %s is NULL",
        out == NULL ? "out" : text == NULL && len > 0 ? "text" :
        "one of from/to");
  *out = NULL;
  o = malloc (len + 1);
  if (from_out) {
    *from_out = *to_out = NULL;
    from = malloc ((len + 1) * sizeof (size_t));
    to = malloc ((len + 1) * sizeof (size_t));
  }
  if (o == NULL || (from_out && (from == NULL || to == NULL))) {
    free (o);
    free (from);
    free (to);
    return rnn__set_error (err, RNN_ERR_NOMEM,
        "rnn_markup_strip: cannot allocate %zu bytes", len + 1);
  }

  while (i < len) {
    const char ch = text[i];
    size_t end, n0 = n;
    gunichar c;
    gssize k;

    if (ch == '<') {
      if (len - i >= 4 && memcmp (text + i, "<!--", 4) == 0
          && (k = find (text, len, i + 4, "-->")) >= 0) {
        i = (size_t) k + 3;     /* comment: dropped */
        continue;
      }
      if (len - i >= 9 && memcmp (text + i, "<![CDATA[", 9) == 0
          && (k = find (text, len, i + 9, "]]>")) >= 0) {
        /* CDATA: its content is literal text; one unit, so that nothing
         * is ever inserted inside it */
        memcpy (o + n, text + i + 9, (size_t) k - (i + 9));
        n += (size_t) k - (i + 9);
        set_origin (from, to, n0, n, i, (size_t) k + 3);
        i = (size_t) k + 3;
        continue;
      }
      if (len - i >= 2 && text[i + 1] == '?'
          && (k = find (text, len, i + 2, "?>")) >= 0) {
        i = (size_t) k + 2;     /* processing instruction: dropped */
        continue;
      }
      if ((end = tag_end (text, len, i)) > 0) {
        i = end;
        continue;
      }
    } else if (ch == '&' && (end = entity_end (text, len, i, &c)) > 0) {
      n += (size_t) g_unichar_to_utf8 (c, o + n);
      set_origin (from, to, n0, n, i, end);
      i = end;
      continue;
    }
    /* a NUL would end the C string early; it separates tokens anyway */
    o[n++] = ch == '\0' ? ' ' : ch;
    set_origin (from, to, n0, n, i, i + 1);
    i++;
  }
  o[n] = '\0';
  /* NUL bytes from the CDATA copy */
  for (i = 0; i < n; i++)
    if (o[i] == '\0')
      o[i] = ' ';
  *out = o;
  if (from_out) {
    *from_out = from;
    *to_out = to;
  }
  return RNN_OK;
}

rnn_status
rnn_markup_strip (const char *text, size_t len, char **out, rnn_error * err)
{
  return rnn_markup_strip_map (text, len, out, NULL, NULL, err);
}
