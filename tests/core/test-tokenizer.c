/* Tokenizer and markup stripper against Python's oracle.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Fixtures (tests/fixtures/gen_tokenizer.py): corpus.tsv holds texts and the
 * tokens of re.findall (r"[^\W_]+", text.lower ()); unicode.tsv holds the
 * per-code-point facts of Python's Unicode database (lower case, word
 * characters, the two Final_Sigma classes), checked here for every code
 * point Python knows; spans.tsv the byte spans of the tokens with and
 * without lower case.
 */
#include "testutil.h"
#include "rnn-private.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- helpers */

static int
join_cb (const char *token, size_t len, void *user)
{
  GString *s = user;
  if (strlen (token) != len)
    g_string_append (s, "<LEN MISMATCH>");
  if (s->len > 0)
    g_string_append_c (s, ' ');
  g_string_append_len (s, token, (gssize) len);
  return 0;
}

/* Tokens of @text joined by spaces (new string). */
static char *
tokens_of (const char *text, size_t len)
{
  GString *s = g_string_new (NULL);
  rnn_tokenize_foreach (text, len, join_cb, s);
  return g_string_free (s, FALSE);
}

static int
stop_cb (const char *token, size_t len, void *user)
{
  int *count = user;
  return ++(*count) == 2 ? 42 : 0;
}

/* A fixture line's escaped text (g_strcompress escapes) as raw bytes: a
 * new string and its length (it may hold NUL bytes). */
static char *
unescape (const char *esc, size_t *len)
{
  char *raw = g_strcompress (esc);
  size_t n = strlen (raw);

  /* g_strcompress stops at an escaped NUL: count bytes by hand */
  if (strstr (esc, "\\000")) {
    n = 0;
    for (const char *p = esc; *p; n++) {
      if (p[0] == '\\' && p[1] >= '0' && p[1] <= '7') {
        raw[n] = (char) (((p[1] - '0') << 6) | ((p[2] - '0') << 3)
            | (p[3] - '0'));
        p += 4;
      } else if (p[0] == '\\') {
        raw[n] = p[1];
        p += 2;
      } else {
        raw[n] = *p++;
      }
    }
  }
  *len = n;
  return raw;
}

typedef struct
{
  GString *tokens, *spans, *written;
  const char *text;
} SpanJoin;

static int
span_cb (const char *token, size_t len, size_t start, size_t end, void *user)
{
  SpanJoin *j = user;

  if (j->tokens->len > 0) {
    g_string_append_c (j->tokens, ' ');
    g_string_append_c (j->spans, ' ');
    g_string_append_c (j->written, ' ');
  }
  g_string_append_len (j->tokens, token, (gssize) len);
  g_string_append_printf (j->spans, "%zu:%zu", start, end);
  g_string_append_len (j->written, j->text + start, (gssize) (end - start));
  return 0;
}

/* -------------------------------------------------------- unicode tables */

#define NCP 0x110000

typedef gunichar Lower[3];

typedef struct
{
  guint8 *assigned, *word, *ign, *cased;
  Lower *lower;         /* 0-terminated lower-case string, or all 0 */
  char version[32];
} Tables;

static void
mark (guint8 * set, gunichar a, gunichar b)
{
  for (gunichar c = a; c <= b && c < NCP; c++)
    set[c] = 1;
}

static gboolean
load_tables (Tables * t)
{
  gchar *contents = NULL, **lines;
  gboolean ok;

  ok = g_file_get_contents (tu_fixture ("tokenizer/unicode.tsv"), &contents,
      NULL, NULL);
  tu_check (ok, "unicode.tsv read (%s)", tu_fixture ("tokenizer/unicode.tsv"));
  if (!ok)
    return FALSE;
  t->assigned = g_new0 (guint8, NCP);
  t->word = g_new0 (guint8, NCP);
  t->ign = g_new0 (guint8, NCP);
  t->cased = g_new0 (guint8, NCP);
  t->lower = g_new0 (Lower, NCP);
  lines = g_strsplit (contents, "\n", -1);
  for (gchar ** l = lines; *l; l++) {
    char kind[16];
    unsigned a, b, c;
    int n;

    if (**l == '\0')
      continue;
    if (sscanf (*l, "version %31s", t->version) == 1)
      continue;
    n = sscanf (*l, "%15s %x %x %x", kind, &a, &b, &c);
    if (strcmp (kind, "lower") == 0 && n >= 3 && a < NCP) {
      t->lower[a][0] = b;
      t->lower[a][1] = n == 4 ? c : 0;
    } else if (n == 3 && strcmp (kind, "assigned") == 0) {
      mark (t->assigned, a, b);
    } else if (n == 3 && strcmp (kind, "word") == 0) {
      mark (t->word, a, b);
    } else if (n == 3 && strcmp (kind, "ignorable") == 0) {
      mark (t->ign, a, b);
    } else if (n == 3 && strcmp (kind, "cased") == 0) {
      mark (t->cased, a, b);
    } else {
      tu_check (0, "unicode.tsv: unreadable line '%s'", *l);
    }
  }
  g_strfreev (lines);
  g_free (contents);
  return TRUE;
}

static void
free_tables (Tables * t)
{
  g_free (t->assigned);
  g_free (t->word);
  g_free (t->ign);
  g_free (t->cased);
  g_free (t->lower);
}

/* Python's tokens of chr(c) from the tables. */
static char *
expected_single (const Tables * t, gunichar c)
{
  gunichar lo[3] = { c, 0, 0 };
  GString *s = g_string_new (NULL);
  gboolean in_tok = FALSE;

  if (t->lower[c][0])
    memcpy (lo, t->lower[c], sizeof lo);
  for (int k = 0; k < 2 && lo[k]; k++) {
    if (lo[k] < NCP && t->word[lo[k]]) {
      g_string_append_unichar (s, lo[k]);
      in_tok = TRUE;
    } else if (in_tok) {
      g_string_append_c (s, ' ');
      in_tok = FALSE;
    }
  }
  if (s->len > 0 && s->str[s->len - 1] == ' ')
    g_string_truncate (s, s->len - 1);
  return g_string_free (s, FALSE);
}

/* Does the capital sigma at the end of prefix+c+"Σ" lower to final sigma? */
static gboolean
sigma_final_after (const char *prefix, gunichar c)
{
  char buf[32];
  int n = (int) strlen (prefix);
  char *tok;
  gboolean final;

  memcpy (buf, prefix, (size_t) n);
  n += g_unichar_to_utf8 (c, buf + n);
  n += g_unichar_to_utf8 (0x03a3, buf + n);
  tok = tokens_of (buf, (size_t) n);
  final = g_str_has_suffix (tok, "\xcf\x82");   /* ς */
  g_free (tok);
  return final;
}

static void
test_unicode (void)
{
  Tables t = { 0 };
  unsigned n = 0, bad_tok = 0, bad_ign = 0, bad_cased = 0;
  GString *first = g_string_new (NULL);

  if (!load_tables (&t))
    return;
  for (gunichar c = 1; c < NCP; c++) {
    char buf[8];
    int len;
    char *got, *want;
    gboolean any, cased;

    if (!t.assigned[c] || (c >= 0xd800 && c <= 0xdfff))
      continue;
    n++;
    len = g_unichar_to_utf8 (c, buf);
    got = tokens_of (buf, (size_t) len);
    want = expected_single (&t, c);
    if (strcmp (got, want) != 0) {
      if (bad_tok++ < 5)
        g_string_append_printf (first, " U+%04X:'%s'!='%s'", c, got, want);
    }
    g_free (got);
    g_free (want);

    /* "A"+c+"Σ" is final iff c is ignorable or cased; "1"+c+"Σ" iff cased
     * and not ignorable (see gen_tokenizer.py) */
    any = sigma_final_after ("A", c);
    cased = sigma_final_after ("1", c);
    if ((any && !cased) != (t.ign[c] != 0) && bad_ign++ < 5)
      g_string_append_printf (first, " ign:U+%04X", c);
    if (cased != (t.cased[c] != 0) && bad_cased++ < 5)
      g_string_append_printf (first, " cased:U+%04X", c);
  }
  tu_check (n > 250000, "unicode: %u assigned code points of Python's "
      "Unicode %s compared", n, t.version);
  tu_check (bad_tok == 0, "unicode: lower case + word class of every code "
      "point matches Python (%u differ)%s", bad_tok, bad_tok ? first->str : "");
  tu_check (bad_ign == 0, "unicode: case-ignorable class (Final_Sigma) "
      "matches Python (%u differ)", bad_ign);
  tu_check (bad_cased == 0, "unicode: cased class (Final_Sigma) matches "
      "Python (%u differ)", bad_cased);
  g_string_free (first, TRUE);
  free_tables (&t);
}

/* ----------------------------------------------------------------- corpus */

static void
test_corpus (void)
{
  gchar *contents = NULL, **lines;
  unsigned n = 0, bad = 0, invalid = 0;
  gboolean ok;

  ok = g_file_get_contents (tu_fixture ("tokenizer/corpus.tsv"), &contents,
      NULL, NULL);
  tu_check (ok, "corpus.tsv read");
  if (!ok)
    return;
  lines = g_strsplit (contents, "\n", -1);
  for (gchar ** l = lines; *l; l++) {
    gchar *tab = strchr (*l, '\t'), *raw, *got;
    size_t rawlen;

    if (**l == '\0')
      continue;
    if (tab == NULL) {
      tu_check (0, "corpus.tsv: line without TAB '%s'", *l);
      continue;
    }
    *tab = '\0';
    raw = unescape (*l, &rawlen);
    if (!g_utf8_validate_len (raw, rawlen, NULL))
      invalid++;
    got = tokens_of (raw, rawlen);
    n++;
    if (strcmp (got, tab + 1) != 0) {
      bad++;
      tu_check (0, "corpus line %u '%s': got '%s', Python '%s'", n, *l, got,
          tab + 1);
    }
    g_free (got);
    g_free (raw);
  }
  tu_check (n >= 300 && invalid >= 10, "corpus: %u texts read (%u with "
      "invalid UTF-8)", n, invalid);
  tu_check (bad == 0, "corpus: tokens equal Python's re.findall on every "
      "text (%u differ)", bad);
  g_strfreev (lines);
  g_free (contents);
}

/* spans.tsv: positions of the tokens with and without lower case, and the
 * tokens with tokenizer.lowercase=false, against Python. */
static void
test_spans (void)
{
  gchar *contents = NULL, **lines;
  unsigned n = 0, bad = 0, bad_written = 0, differ = 0;
  gboolean ok;

  ok = g_file_get_contents (tu_fixture ("tokenizer/spans.tsv"), &contents,
      NULL, NULL);
  tu_check (ok, "spans.tsv read");
  if (!ok)
    return;
  lines = g_strsplit (contents, "\n", -1);
  for (gchar ** l = lines; *l; l++) {
    gchar **col;
    char *raw;
    size_t rawlen;

    if (**l == '\0')
      continue;
    col = g_strsplit (*l, "\t", -1);
    if (g_strv_length (col) != 5) {
      tu_check (0, "spans.tsv: line without 5 columns '%s'", *l);
      g_strfreev (col);
      continue;
    }
    raw = unescape (col[0], &rawlen);
    n++;
    for (int lower = 1; lower >= 0; lower--) {
      SpanJoin j = { g_string_new (NULL), g_string_new (NULL),
        g_string_new (NULL), raw
      };
      const char *want_tok = col[lower ? 1 : 3], *want_sp = col[lower ? 2 : 4];

      rnn_tokenize_spans_foreach (raw, rawlen, lower, span_cb, &j);
      if (strcmp (j.tokens->str, want_tok) != 0
          || strcmp (j.spans->str, want_sp) != 0) {
        bad++;
        tu_check (0, "spans line %u '%s' (lowercase %d): got '%s' [%s], "
            "Python '%s' [%s]", n, col[0], lower, j.tokens->str,
            j.spans->str, want_tok, want_sp);
      }
      /* without lower case the bytes at the span are the token itself */
      if (!lower && strcmp (j.written->str, j.tokens->str) != 0)
        bad_written++;
      if (!lower && strcmp (col[1], col[3]) != 0)
        differ++;
      g_string_free (j.tokens, TRUE);
      g_string_free (j.spans, TRUE);
      g_string_free (j.written, TRUE);
    }
    g_free (raw);
    g_strfreev (col);
  }
  tu_check (n >= 300 && differ >= 50, "spans: %u texts read (%u where case "
      "matters)", n, differ);
  tu_check (bad == 0, "spans: tokens and byte spans equal Python's, with "
      "and without lower case, on every text (%u differ)", bad);
  tu_check (bad_written == 0, "spans: without lower case each span holds "
      "its token exactly (%u differ)", bad_written);
  g_strfreev (lines);
  g_free (contents);
}

/* ------------------------------------------------------------- vocabulary */

static void
test_vocab (void)
{
  rnn_model *m = g_new0 (rnn_model, 1);
  const char *vocab[] = { "<pad>", "<unk>", "the", "café", "σας", "3" };
  int32_t ids[8];
  size_t n = 99;
  rnn_error err = { 0 };
  rnn_status st;
  const char *text = "The CAFÉ, ΣΑΣ: 3 unknown the";
  int count = 0, ret;

  m->name = g_strdup ("vocab-test");
  m->unk_id = 1;
  m->pad_id = 0;

  st = rnn_model_tokenize (m, "x", 1, ids, 8, &n, &err);
  tu_check (st == RNN_ERR_MODEL && strstr (err.msg, "tokenizer.vocab")
      && strstr (err.msg, "vocab-test") && n == 0,
      "vocab: a model without vocabulary is an error naming the key (%s)",
      err.msg);

  m->vocab_index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  for (int i = 0; i < (int) G_N_ELEMENTS (vocab); i++)
    g_hash_table_insert (m->vocab_index, g_strdup (vocab[i]),
        GINT_TO_POINTER (i + 1));

  st = rnn_model_tokenize (m, text, strlen (text), ids, 8, &n, NULL);
  tu_check (st == RNN_OK && n == 6 && ids[0] == 2 && ids[1] == 3
      && ids[2] == 4 && ids[3] == 5 && ids[4] == 1 && ids[5] == 2,
      "vocab: ids through the vocabulary, unknown -> unk_id (n=%zu: %d %d %d "
      "%d %d %d)", n, ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]);

  memset (ids, 0x7f, sizeof ids);
  st = rnn_model_tokenize (m, text, strlen (text), ids, 2, &n, NULL);
  tu_check (st == RNN_OK && n == 6 && ids[0] == 2 && ids[1] == 3
      && ids[2] == 0x7f7f7f7f, "vocab: max_ids=2 writes 2 ids, reports 6");

  st = rnn_model_tokenize (m, text, strlen (text), NULL, 0, &n, NULL);
  tu_check (st == RNN_OK && n == 6, "vocab: counting only (ids NULL)");

  st = rnn_model_tokenize (m, "", 0, ids, 8, &n, NULL);
  tu_check (st == RNN_OK && n == 0, "vocab: empty text gives no ids");

  st = rnn_model_tokenize (m, " ,;!? 😀 ", strlen (" ,;!? 😀 "), ids, 8, &n,
      NULL);
  tu_check (st == RNN_OK && n == 0, "vocab: punctuation and emoji only "
      "give no ids");

  m->unk_id = 4;
  st = rnn_model_tokenize (m, "zzz", 3, ids, 8, &n, NULL);
  tu_check (st == RNN_OK && n == 1 && ids[0] == 4, "vocab: unk_id from the "
      "model is used");

  st = rnn_model_tokenize (m, NULL, 3, ids, 8, &n, &err);
  tu_check (st == RNN_ERR_ARG && strstr (err.msg, "text"),
      "vocab: NULL text is an argument error (%s)", err.msg);
  st = rnn_model_tokenize (NULL, "a", 1, ids, 8, &n, &err);
  tu_check (st == RNN_ERR_ARG, "vocab: NULL model is an argument error");

  {
    rnn_token tok[8];
    const char *t2 = "Zzz the CAFÉ";   /* unk_id is 4 here */

    st = rnn_model_tokenize_spans (m, t2, strlen (t2), tok, 8, &n, NULL);
    tu_check (st == RNN_OK && n == 3 && tok[0].id == 4 && tok[0].start == 0
        && tok[0].end == 3 && tok[1].id == 2 && tok[1].start == 4
        && tok[1].end == 7 && tok[2].id == 3 && tok[2].start == 8
        && tok[2].end == 13, "vocab: spans with ids (n=%zu)", n);
    st = rnn_model_tokenize_spans (m, t2, strlen (t2), tok, 1, &n, NULL);
    tu_check (st == RNN_OK && n == 3, "vocab: spans, max_tokens=1 "
        "reports 3");
    m->keep_case = true;
    st = rnn_model_tokenize_spans (m, t2, strlen (t2), tok, 8, &n, NULL);
    tu_check (st == RNN_OK && n == 3 && tok[0].id == 4 && tok[1].id == 2
        && tok[2].id == 4 && tok[2].end == 13, "vocab: tokenizer.lowercase="
        "false looks up \"CAFÉ\" as written (unknown)");
    m->keep_case = false;
  }

  ret = rnn_tokenize_foreach ("a b c d", 7, stop_cb, &count);
  tu_check (ret == 42 && count == 2, "foreach: a non-zero callback value stops the walk "
      "(after token %d) and is returned", count);

  g_hash_table_unref (m->vocab_index);
  g_free (m->name);
  g_free (m);
}

/* ----------------------------------------------------------------- markup */

static void
check_strip (const char *name, const char *in, size_t len, const char *want)
{
  char *out = NULL;
  rnn_status st = rnn_markup_strip (in, len, &out, NULL);
  tu_check (st == RNN_OK && out && strcmp (out, want) == 0,
      "markup: %s ('%s' -> '%s')", name, out ? out : "(null)", want);
  free (out);
}

#define STRIP(name, in, want) check_strip (name, in, strlen (in), want)

/* rnn_markup_strip_map: where each plain byte came from */
static void
test_markup_map (void)
{
  /* plain "a&é x<y": a from <b>a, & from &amp;, é (2 bytes) from &#233;,
   * the space as is, x<y from one CDATA section */
  const char *m = "<b>a&amp;</b>&#233; <![CDATA[x<y]]>";
  static const size_t want_from[] = { 3, 4, 13, 13, 19, 20, 20, 20 };
  static const size_t want_to[] = { 4, 9, 19, 19, 20, 35, 35, 35 };
  char *plain = NULL, *plain2 = NULL;
  size_t *from = NULL, *to = NULL;
  int ok;

  ok = rnn_markup_strip_map (m, strlen (m), &plain, &from, &to, NULL) ==
      RNN_OK && rnn_markup_strip (m, strlen (m), &plain2, NULL) == RNN_OK;
  tu_check (ok && strcmp (plain, "a&\xc3\xa9 x<y") == 0
      && strcmp (plain, plain2) == 0, "markup map: the same plain text as "
      "rnn_markup_strip (%s)", plain ? plain : "?");
  ok = ok && memcmp (from, want_from, sizeof want_from) == 0
      && memcmp (to, want_to, sizeof want_to) == 0;
  tu_check (ok, "markup map: each plain byte's origin (character, entity, "
      "CDATA section)");
  free (plain);
  free (plain2);
  free (from);
  free (to);
  tu_check (rnn_markup_strip_map (m, 3, &plain, &from, NULL, NULL) ==
      RNN_ERR_ARG, "markup map: from without to is an argument error");
}

static void
test_markup (void)
{
  GRand *rand = g_rand_new_with_seed (1128);
  const char alphabet[] = "<>&;#x/=\"' ab!-[]?";
  unsigned bad = 0, grown = 0;
  char *out = NULL;

  STRIP ("tags removed", "<b>bold</b> and <i>italic</i>", "bold and italic");
  STRIP ("entities unescaped", "&amp; &lt; &gt; &quot; &apos;", "& < > \" '");
  STRIP ("numeric entities", "&#65;&#x42;&#x1F600;&#233;", "AB😀é");
  STRIP ("span with attributes",
      "<span foreground=\"red\" font_desc='Sans 12'>red</span>", "red");
  STRIP ("'>' inside a quoted attribute", "<span title=\"a>b\">x</span>", "x");
  STRIP ("self-closing tag", "a<br/>b<br />c", "abc");
  STRIP ("unclosed element keeps its text", "<b>bold and more", "bold and more");
  STRIP ("stray '<' kept", "a < b and c<d", "a < b and c<d");
  STRIP ("'<' then unterminated tag kept", "x <b", "x <b");
  STRIP ("not a tag: '<b and c>'", "a <b and c> d", "a <b and c> d");
  STRIP ("unterminated attribute kept", "<span a=\"x>y", "<span a=\"x>y");
  STRIP ("unknown entity kept", "&foo; &nbsp;", "&foo; &nbsp;");
  STRIP ("entity without ';' kept", "fish &amp chips", "fish &amp chips");
  STRIP ("bad numeric entities kept", "&#; &#xZZ; &#0; &#x110000; &#55296; "
      "&#99999999999999999999;",
      "&#; &#xZZ; &#0; &#x110000; &#55296; &#99999999999999999999;");
  STRIP ("lone ampersand kept", "R & D", "R & D");
  STRIP ("comment dropped", "a<!-- hidden <b> -->b", "ab");
  STRIP ("unterminated comment kept", "a<!-- b", "a<!-- b");
  STRIP ("CDATA is literal text", "<![CDATA[<b>&amp;]]>!", "<b>&amp;!");
  STRIP ("processing instruction dropped", "<?xml version='1.0'?>t", "t");
  STRIP ("empty text", "", "");
  STRIP ("escaped markup is text", "&lt;b&gt;", "<b>");
  STRIP ("non-ASCII tag content", "<i>ΣΑΣ café</i>", "ΣΑΣ café");
  check_strip ("embedded NUL becomes a space", "a\0<b>b</b>", 10, "a b");
  check_strip ("length honoured (no read past len)", "<b>x</b>yz", 8, "x");
  STRIP ("invalid UTF-8 passed through", "\xff<b>x</b>", "\xffx");

  tu_check (rnn_markup_strip ("x", 1, NULL, NULL) == RNN_ERR_ARG,
      "markup: NULL out is an argument error");
  tu_check (rnn_markup_strip (NULL, 0, &out, NULL) == RNN_OK && out
      && *out == '\0', "markup: NULL text of length 0 is empty");
  free (out);

  /* robustness: random markup-like strings never crash, never grow, and a
   * string without '<' or '&' is unchanged */
  for (int it = 0; it < 20000; it++) {
    char in[80];
    int len = g_rand_int_range (rand, 0, (int) sizeof in);
    gboolean plain = TRUE;

    for (int i = 0; i < len; i++) {
      in[i] = alphabet[g_rand_int_range (rand, 0, sizeof alphabet - 1)];
      plain = plain && in[i] != '<' && in[i] != '&';
    }
    if (rnn_markup_strip (in, (size_t) len, &out, NULL) != RNN_OK || !out) {
      bad++;
      continue;
    }
    if (strlen (out) > (size_t) len)
      grown++;
    if (plain && (strlen (out) != (size_t) len
            || memcmp (out, in, (size_t) len) != 0))
      bad++;
    free (out);
  }
  tu_check (bad == 0 && grown == 0, "markup: 20000 random markup-like "
      "strings stripped without growth or change of plain text (%u bad, "
      "%u grown)", bad, grown);
  g_rand_free (rand);

  /* the element's path: strip, then tokenize */
  {
    const char *pango = "<b>Don&apos;t</b> <span size=\"large\">LOVE</span> "
        "it &amp; ΟΔΟΣ";
    char *txt = NULL, *tok;
    rnn_markup_strip (pango, strlen (pango), &txt, NULL);
    tok = tokens_of (txt, strlen (txt));
    tu_check (strcmp (tok, "don t love it οδος") == 0,
        "markup + tokenize: '%s'", tok);
    g_free (tok);
    free (txt);
  }
}

int
main (void)
{
  test_unicode ();
  test_corpus ();
  test_spans ();
  test_vocab ();
  test_markup ();
  test_markup_map ();
  return tu_finish ();
}
