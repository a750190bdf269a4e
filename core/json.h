/* gst-rnn: a small strict JSON parser for safetensors headers and metadata
 * values (internal to core/, not installed).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Why our own: the header needs exact unsigned 64-bit integers (offsets),
 * must refuse duplicate object keys, and must tell an integer written "1"
 * from "1.0". The grammar is RFC 8259 exactly: no NaN/Infinity, no comments,
 * no trailing commas, no leading zeros; strings must be valid UTF-8 and
 * escapes may not produce lone surrogates or U+0000.
 */
#ifndef RNN_JSON_H
#define RNN_JSON_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
  RNN_JSON_NULL,
  RNN_JSON_BOOL,
  RNN_JSON_NUMBER,
  RNN_JSON_STRING,
  RNN_JSON_ARRAY,
  RNN_JSON_OBJECT
} rnn_json_type;

typedef struct rnn_json rnn_json;

struct rnn_json {
  rnn_json_type type;
  bool boolean;
  /* STRING: the decoded value (NUL-terminated, never contains NUL).
   * NUMBER: the literal text as written. */
  char *str;
  size_t len;
  /* NUMBER only */
  bool is_integer;     /* no fraction and no exponent in the literal */
  bool negative;
  bool u64_ok;         /* is_integer, not negative, fits in uint64_t */
  uint64_t u64;
  double dbl;          /* strtod of the literal (may be +-inf on overflow) */
  /* ARRAY and OBJECT: n children; OBJECT also keys[i] (decoded, in order) */
  size_t n;
  rnn_json **items;
  char **keys;
};

/* Parse @len bytes at @text as one JSON value (surrounding whitespace
 * allowed). Returns NULL on error with a message (including the byte offset
 * of the problem) written to @errbuf. The result is freed with
 * rnn__json_free(). */
rnn_json *rnn__json_parse (const char *text, size_t len, char *errbuf,
    size_t errlen);
void rnn__json_free (rnn_json *v);

/* Member @key of an object, or NULL (also when @obj is not an object). */
const rnn_json *rnn__json_member (const rnn_json *obj, const char *key);

/* "null", "boolean", "number", "string", "array", "object" */
const char *rnn__json_type_name (rnn_json_type t);

/* Append @s (NUL-terminated UTF-8) to @b as a JSON string literal, quotes
 * included: '"' and '\\' escaped, \n \r \t short, other control bytes as
 * \u00XX. */
void rnn__json_append_string (GString *b, const char *s);

#endif /* RNN_JSON_H */
