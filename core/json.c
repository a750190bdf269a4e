/* gst-rnn: a small strict JSON parser (see json.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "json.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nesting deeper than this is refused instead of risking the stack; a
 * safetensors header needs depth 3. */
#define JSON_MAX_DEPTH 64

typedef struct {
  const char *s;
  size_t len;
  size_t pos;
  char *errbuf;
  size_t errlen;
  bool failed;
} parser;

static void
fail (parser *p, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
fail (parser *p, const char *fmt, ...)
{
  if (p->failed)
    return;
  p->failed = true;
  if (p->errbuf != NULL && p->errlen > 0) {
    char tmp[256];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (tmp, sizeof tmp, fmt, ap);
    va_end (ap);
    snprintf (p->errbuf, p->errlen, "%s at byte %zu", tmp, p->pos);
  }
}

const char *
rnn__json_type_name (rnn_json_type t)
{
  switch (t) {
    case RNN_JSON_NULL: return "null";
    case RNN_JSON_BOOL: return "boolean";
    case RNN_JSON_NUMBER: return "number";
    case RNN_JSON_STRING: return "string";
    case RNN_JSON_ARRAY: return "array";
    case RNN_JSON_OBJECT: return "object";
  }
  return "?";
}

void
rnn__json_free (rnn_json *v)
{
  if (v == NULL)
    return;
  for (size_t i = 0; i < v->n; i++) {
    rnn__json_free (v->items[i]);
    if (v->keys != NULL)
      g_free (v->keys[i]);
  }
  g_free (v->items);
  g_free (v->keys);
  g_free (v->str);
  g_free (v);
}

const rnn_json *
rnn__json_member (const rnn_json *obj, const char *key)
{
  if (obj == NULL || obj->type != RNN_JSON_OBJECT)
    return NULL;
  for (size_t i = 0; i < obj->n; i++)
    if (strcmp (obj->keys[i], key) == 0)
      return obj->items[i];
  return NULL;
}

static void
skip_ws (parser *p)
{
  while (p->pos < p->len) {
    char c = p->s[p->pos];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
      p->pos++;
    else
      break;
  }
}

static bool
match_word (parser *p, const char *w)
{
  size_t n = strlen (w);
  if (p->len - p->pos >= n && memcmp (p->s + p->pos, w, n) == 0) {
    p->pos += n;
    return true;
  }
  return false;
}

static int
hex4 (parser *p)
{
  int v = 0;
  if (p->len - p->pos < 4) {
    fail (p, "truncated \\u escape");
    return -1;
  }
  for (int i = 0; i < 4; i++) {
    int d = g_ascii_xdigit_value (p->s[p->pos + i]);
    if (d < 0) {
      fail (p, "invalid \\u escape");
      return -1;
    }
    v = v * 16 + d;
  }
  p->pos += 4;
  return v;
}

/* Parses a string starting at the opening quote; returns the decoded bytes.
 * The input was validated as UTF-8 by the caller, so raw bytes >= 0x80 are
 * copied as they are. */
static char *
parse_string (parser *p, size_t *out_len)
{
  GString *b = g_string_new (NULL);
  p->pos++;                     /* opening quote */
  while (true) {
    if (p->pos >= p->len) {
      fail (p, "unterminated string");
      break;
    }
    unsigned char c = (unsigned char) p->s[p->pos];
    if (c == '"') {
      p->pos++;
      *out_len = b->len;
      return g_string_free (b, FALSE);
    }
    if (c < 0x20) {
      fail (p, "control character 0x%02x in string", c);
      break;
    }
    if (c != '\\') {
      g_string_append_c (b, (char) c);
      p->pos++;
      continue;
    }
    p->pos++;
    if (p->pos >= p->len) {
      fail (p, "unterminated string");
      break;
    }
    char e = p->s[p->pos++];
    switch (e) {
      case '"': g_string_append_c (b, '"'); break;
      case '\\': g_string_append_c (b, '\\'); break;
      case '/': g_string_append_c (b, '/'); break;
      case 'b': g_string_append_c (b, '\b'); break;
      case 'f': g_string_append_c (b, '\f'); break;
      case 'n': g_string_append_c (b, '\n'); break;
      case 'r': g_string_append_c (b, '\r'); break;
      case 't': g_string_append_c (b, '\t'); break;
      case 'u': {
        int u = hex4 (p);
        gunichar cp;
        if (u < 0)
          goto error;
        if (u >= 0xD800 && u <= 0xDBFF) {
          /* a high surrogate must be followed by an escaped low one */
          int lo;
          if (!(p->len - p->pos >= 2 && p->s[p->pos] == '\\'
                  && p->s[p->pos + 1] == 'u')) {
            fail (p, "lone surrogate \\u%04X in string", u);
            goto error;
          }
          p->pos += 2;
          lo = hex4 (p);
          if (lo < 0)
            goto error;
          if (lo < 0xDC00 || lo > 0xDFFF) {
            fail (p, "lone surrogate \\u%04X in string", u);
            goto error;
          }
          cp = 0x10000 + (((gunichar) u - 0xD800) << 10) + ((gunichar) lo - 0xDC00);
        } else if (u >= 0xDC00 && u <= 0xDFFF) {
          fail (p, "lone surrogate \\u%04X in string", u);
          goto error;
        } else if (u == 0) {
          fail (p, "\\u0000 (NUL) in string");
          goto error;
        } else {
          cp = (gunichar) u;
        }
        g_string_append_unichar (b, cp);
        break;
      }
      default:
        p->pos--;
        fail (p, "invalid escape '\\%c'", e);
        goto error;
    }
  }
error:
  g_string_free (b, TRUE);
  return NULL;
}

static rnn_json *
new_value (rnn_json_type t)
{
  rnn_json *v = g_new0 (rnn_json, 1);
  v->type = t;
  return v;
}

static rnn_json *
parse_number (parser *p)
{
  size_t start = p->pos;
  bool neg = false, frac = false, expo = false;
  rnn_json *v;

  if (p->s[p->pos] == '-') {
    neg = true;
    p->pos++;
  }
  if (p->pos >= p->len || !g_ascii_isdigit (p->s[p->pos])) {
    fail (p, "invalid number");
    return NULL;
  }
  if (p->s[p->pos] == '0') {
    p->pos++;
    if (p->pos < p->len && g_ascii_isdigit (p->s[p->pos])) {
      fail (p, "number with a leading zero");
      return NULL;
    }
  } else {
    while (p->pos < p->len && g_ascii_isdigit (p->s[p->pos]))
      p->pos++;
  }
  if (p->pos < p->len && p->s[p->pos] == '.') {
    frac = true;
    p->pos++;
    if (p->pos >= p->len || !g_ascii_isdigit (p->s[p->pos])) {
      fail (p, "invalid number: no digit after '.'");
      return NULL;
    }
    while (p->pos < p->len && g_ascii_isdigit (p->s[p->pos]))
      p->pos++;
  }
  if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
    expo = true;
    p->pos++;
    if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
      p->pos++;
    if (p->pos >= p->len || !g_ascii_isdigit (p->s[p->pos])) {
      fail (p, "invalid number: no digit in exponent");
      return NULL;
    }
    while (p->pos < p->len && g_ascii_isdigit (p->s[p->pos]))
      p->pos++;
  }

  v = new_value (RNN_JSON_NUMBER);
  v->len = p->pos - start;
  v->str = g_strndup (p->s + start, v->len);
  v->negative = neg;
  v->is_integer = !frac && !expo;
  v->dbl = g_ascii_strtod (v->str, NULL);
  if (v->is_integer && !neg) {
    /* exact u64 with overflow detection */
    uint64_t acc = 0;
    bool ok = true;
    for (size_t i = 0; i < v->len; i++) {
      unsigned d = (unsigned) (v->str[i] - '0');
      if (acc > (UINT64_MAX - d) / 10) {
        ok = false;
        break;
      }
      acc = acc * 10 + d;
    }
    v->u64_ok = ok;
    v->u64 = ok ? acc : 0;
  }
  return v;
}

static rnn_json *parse_value (parser *p, int depth);

static rnn_json *
parse_array (parser *p, int depth)
{
  rnn_json *v = new_value (RNN_JSON_ARRAY);
  GPtrArray *items = g_ptr_array_new ();

  p->pos++;                     /* '[' */
  skip_ws (p);
  if (p->pos < p->len && p->s[p->pos] == ']') {
    p->pos++;
    goto done;
  }
  while (true) {
    rnn_json *item = parse_value (p, depth + 1);
    if (item == NULL)
      goto error;
    g_ptr_array_add (items, item);
    skip_ws (p);
    if (p->pos >= p->len) {
      fail (p, "unterminated array");
      goto error;
    }
    if (p->s[p->pos] == ',') {
      p->pos++;
      continue;
    }
    if (p->s[p->pos] == ']') {
      p->pos++;
      break;
    }
    fail (p, "expected ',' or ']' in array");
    goto error;
  }
done:
  v->n = items->len;
  v->items = (rnn_json **) g_ptr_array_free (items, FALSE);
  return v;
error:
  g_ptr_array_set_free_func (items, (GDestroyNotify) rnn__json_free);
  g_ptr_array_free (items, TRUE);
  rnn__json_free (v);
  return NULL;
}

static rnn_json *
parse_object (parser *p, int depth)
{
  rnn_json *v = new_value (RNN_JSON_OBJECT);
  GPtrArray *items = g_ptr_array_new ();
  GPtrArray *keys = g_ptr_array_new ();
  GHashTable *seen = g_hash_table_new (g_str_hash, g_str_equal);

  p->pos++;                     /* '{' */
  skip_ws (p);
  if (p->pos < p->len && p->s[p->pos] == '}') {
    p->pos++;
    goto done;
  }
  while (true) {
    char *key;
    size_t klen;
    rnn_json *item;

    skip_ws (p);
    if (p->pos >= p->len || p->s[p->pos] != '"') {
      fail (p, "expected a string key in object");
      goto error;
    }
    key = parse_string (p, &klen);
    if (key == NULL)
      goto error;
    if (g_hash_table_contains (seen, key)) {
      fail (p, "duplicate key '%s'", key);
      g_free (key);
      goto error;
    }
    g_ptr_array_add (keys, key);
    g_hash_table_add (seen, key);
    skip_ws (p);
    if (p->pos >= p->len || p->s[p->pos] != ':') {
      fail (p, "expected ':' after key '%s'", key);
      goto error;
    }
    p->pos++;
    item = parse_value (p, depth + 1);
    if (item == NULL)
      goto error;
    g_ptr_array_add (items, item);
    skip_ws (p);
    if (p->pos >= p->len) {
      fail (p, "unterminated object");
      goto error;
    }
    if (p->s[p->pos] == ',') {
      p->pos++;
      continue;
    }
    if (p->s[p->pos] == '}') {
      p->pos++;
      break;
    }
    fail (p, "expected ',' or '}' in object");
    goto error;
  }
done:
  g_hash_table_destroy (seen);
  v->n = items->len;
  v->items = (rnn_json **) g_ptr_array_free (items, FALSE);
  v->keys = (char **) g_ptr_array_free (keys, FALSE);
  return v;
error:
  g_hash_table_destroy (seen);
  g_ptr_array_set_free_func (items, (GDestroyNotify) rnn__json_free);
  g_ptr_array_free (items, TRUE);
  g_ptr_array_set_free_func (keys, g_free);
  g_ptr_array_free (keys, TRUE);
  rnn__json_free (v);
  return NULL;
}

static rnn_json *
parse_value (parser *p, int depth)
{
  char c;

  if (depth > JSON_MAX_DEPTH) {
    fail (p, "nesting deeper than %d", JSON_MAX_DEPTH);
    return NULL;
  }
  skip_ws (p);
  if (p->pos >= p->len) {
    fail (p, "unexpected end of JSON");
    return NULL;
  }
  c = p->s[p->pos];
  switch (c) {
    case '{':
      return parse_object (p, depth);
    case '[':
      return parse_array (p, depth);
    case '"': {
      size_t len;
      char *s = parse_string (p, &len);
      rnn_json *v;
      if (s == NULL)
        return NULL;
      v = new_value (RNN_JSON_STRING);
      v->str = s;
      v->len = len;
      return v;
    }
    case 't':
    case 'f':
    case 'n':
      if (match_word (p, "true")) {
        rnn_json *v = new_value (RNN_JSON_BOOL);
        v->boolean = true;
        return v;
      }
      if (match_word (p, "false"))
        return new_value (RNN_JSON_BOOL);
      if (match_word (p, "null"))
        return new_value (RNN_JSON_NULL);
      break;
    default:
      if (c == '-' || g_ascii_isdigit (c))
        return parse_number (p);
      break;
  }
  if (g_ascii_isprint (c))
    fail (p, "unexpected character '%c'", c);
  else
    fail (p, "unexpected byte 0x%02x", (unsigned char) c);
  return NULL;
}

rnn_json *
rnn__json_parse (const char *text, size_t len, char *errbuf, size_t errlen)
{
  parser p = { text, len, 0, errbuf, errlen, false };
  rnn_json *v;

  if (errbuf != NULL && errlen > 0)
    errbuf[0] = '\0';
  if (!g_utf8_validate_len (text, len, NULL)) {
    const char *end;
    g_utf8_validate_len (text, len, &end);
    p.pos = (size_t) (end - text);
    fail (&p, "invalid UTF-8");
    return NULL;
  }
  v = parse_value (&p, 0);
  if (v == NULL)
    return NULL;
  skip_ws (&p);
  if (p.pos != len) {
    fail (&p, "trailing characters after the JSON value");
    rnn__json_free (v);
    return NULL;
  }
  return v;
}

/* ------------------------------------------------------------------ writer */

void
rnn__json_append_string (GString *b, const char *s)
{
  g_string_append_c (b, '"');
  for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
    switch (*p) {
      case '"': g_string_append (b, "\\\""); break;
      case '\\': g_string_append (b, "\\\\"); break;
      case '\n': g_string_append (b, "\\n"); break;
      case '\r': g_string_append (b, "\\r"); break;
      case '\t': g_string_append (b, "\\t"); break;
      default:
        if (*p < 0x20)
          g_string_append_printf (b, "\\u%04x", *p);
        else
          g_string_append_c (b, (char) *p);
    }
  }
  g_string_append_c (b, '"');
}
