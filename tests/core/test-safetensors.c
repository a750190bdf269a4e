/* Tests of the safetensors reader and writer: dtype conversion against
 * PyTorch's own (models/dtypes.safetensors), the writer against the
 * reference layout (models/writer_ref.safetensors), valid corner cases, and
 * every rejection of the reference implementation, each built in memory.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "testutil.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* u64 LE @hlen, @header (hlen bytes, may differ from strlen), @data */
static GByteArray *
build_raw (uint64_t hlen, const char *header, size_t header_bytes,
    const void *data, size_t data_len)
{
  GByteArray *b = g_byte_array_new ();
  uint8_t le[8];
  for (int i = 0; i < 8; i++)
    le[i] = (uint8_t) (hlen >> (8 * i));
  g_byte_array_append (b, le, 8);
  if (header_bytes > 0)
    g_byte_array_append (b, (const guint8 *) header, (guint) header_bytes);
  if (data_len > 0)
    g_byte_array_append (b, data, (guint) data_len);
  return b;
}

static GByteArray *
build (const char *header, const void *data, size_t data_len)
{
  return build_raw (strlen (header), header, strlen (header), data, data_len);
}

static rnn_status
parse (GByteArray *b, rnn_tensors **t, rnn_error *err)
{
  rnn_status st = rnn_tensors_parse (b->data, b->len, "mem.safetensors", t,
      err);
  g_byte_array_free (b, TRUE);
  return st;
}

/* Expect a rejection with @code whose message names the file and contains
 * @word (and @word2 when not NULL). */
static void
expect_reject (const char *what, GByteArray *b, rnn_status code,
    const char *word, const char *word2)
{
  rnn_tensors *t = (rnn_tensors *) 1;
  rnn_error err = { 0 };
  rnn_status st = parse (b, &t, &err);
  tu_check (st == code && t == NULL && err.code == code
      && strstr (err.msg, "mem.safetensors") != NULL
      && strstr (err.msg, word) != NULL
      && (word2 == NULL || strstr (err.msg, word2) != NULL),
      "rejects %s [%s]: %s", what, rnn_status_str (st), err.msg);
}

static float zeros[64];

#define T1(name, dt, shape, b, e) \
  "\"" name "\":{\"dtype\":\"" dt "\",\"shape\":" shape \
  ",\"data_offsets\":[" #b "," #e "]}"

static void
test_rejections (void)
{
  uint8_t small[5] = { 1, 2, 3, 4, 5 };
  GByteArray *b;
  char deep[400];

  b = g_byte_array_new ();
  g_byte_array_append (b, small, 5);
  expect_reject ("a file under 8 bytes", b, RNN_ERR_FORMAT, "too small",
      "5 bytes");
  expect_reject ("header length 100000001", build_raw (100000001ULL, "{}",
          2, NULL, 0), RNN_ERR_FORMAT, "too large", "100000001");
  expect_reject ("header length 2^64-1", build_raw (UINT64_MAX, "{}", 2,
          NULL, 0), RNN_ERR_FORMAT, "too large", NULL);
  expect_reject ("header length past the end", build_raw (100, "{}", 2, NULL,
          0), RNN_ERR_FORMAT, "past the end", "100");
  expect_reject ("header length 1e8 past the end", build_raw (100000000ULL,
          "{}", 2, NULL, 0), RNN_ERR_FORMAT, "past the end", NULL);
  expect_reject ("invalid UTF-8", build ("{\"\xc3\x28\":1}", NULL, 0),
      RNN_ERR_FORMAT, "UTF-8", NULL);
  expect_reject ("invalid JSON", build ("{\"a\":}", NULL, 0),
      RNN_ERR_FORMAT, "not valid JSON", NULL);
  expect_reject ("a trailing comma", build ("{\"a\":{},}", NULL, 0),
      RNN_ERR_FORMAT, "not valid JSON", NULL);
  expect_reject ("text after the object", build ("{} x", NULL, 0),
      RNN_ERR_FORMAT, "trailing characters", NULL);
  expect_reject ("a header that is an array", build ("[1,2]", NULL, 0),
      RNN_ERR_FORMAT, "not a JSON object", NULL);
  expect_reject ("an empty header", build ("", NULL, 0), RNN_ERR_FORMAT,
      "not a JSON object", NULL);
  expect_reject ("a NUL byte in the header", build_raw (3, "{\0}", 3, NULL,
          0), RNN_ERR_FORMAT, "UTF-8", NULL);
  expect_reject ("a lone surrogate", build ("{\"\\ud800x\":1}", NULL, 0),
      RNN_ERR_FORMAT, "surrogate", NULL);
  expect_reject ("a number with a leading zero",
      build ("{" T1 ("a", "F32", "[1]", 00, 4) "}", zeros, 4),
      RNN_ERR_FORMAT, "leading zero", NULL);
  memset (deep, '[', 200);
  memset (deep + 200, ']', 200);
  {
    char *h = g_strdup_printf ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
        "\"data_offsets\":[0,4],\"x\":%.*s}}", 400, deep);
    expect_reject ("nesting 200 deep", build (h, zeros, 4), RNN_ERR_FORMAT,
        "nesting deeper", NULL);
    g_free (h);
  }

  expect_reject ("an unknown dtype",
      build ("{" T1 ("w", "F128", "[1]", 0, 16) "}", zeros, 16),
      RNN_ERR_FORMAT, "unknown dtype 'F128'", "'w'");
  expect_reject ("a dtype that is not a string",
      build ("{\"w\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}",
          zeros, 4), RNN_ERR_FORMAT, "dtype is a JSON number", NULL);
  expect_reject ("a missing dtype",
      build ("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", zeros, 4),
      RNN_ERR_FORMAT, "missing \"dtype\"", "'w'");
  expect_reject ("missing data_offsets",
      build ("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", zeros, 4),
      RNN_ERR_FORMAT, "missing \"data_offsets\"", NULL);
  expect_reject ("a tensor entry that is not an object",
      build ("{\"w\":[1,2]}", NULL, 0), RNN_ERR_FORMAT,
      "entry is a JSON array", "'w'");
  expect_reject ("data_offsets with 3 entries",
      build ("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],"
          "\"data_offsets\":[0,4,8]}}", zeros, 4), RNN_ERR_FORMAT,
      "exactly 2", "'w'");
  expect_reject ("data_offsets with 1 entry",
      build ("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],"
          "\"data_offsets\":[4]}}", zeros, 4), RNN_ERR_FORMAT,
      "exactly 2", NULL);
  expect_reject ("a float offset 4.0",
      build ("{" T1 ("w", "F32", "[1]", 0, 4.0) "}", zeros, 4),
      RNN_ERR_FORMAT, "data_offsets[1] is 4.0", NULL);
  expect_reject ("an offset 4e0",
      build ("{" T1 ("w", "F32", "[1]", 0, 4e0) "}", zeros, 4),
      RNN_ERR_FORMAT, "data_offsets[1] is 4e0", NULL);
  expect_reject ("a negative offset",
      build ("{" T1 ("w", "F32", "[1]", -4, 0) "}", zeros, 4),
      RNN_ERR_FORMAT, "data_offsets[0] is -4", NULL);
  expect_reject ("a string offset",
      build ("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],"
          "\"data_offsets\":[\"0\",4]}}", zeros, 4), RNN_ERR_FORMAT,
      "data_offsets[0] is string", NULL);
  expect_reject ("an offset above 2^64",
      build ("{" T1 ("w", "F32", "[1]", 0, 18446744073709551616) "}", zeros,
          4), RNN_ERR_FORMAT, "data_offsets[1]", NULL);
  expect_reject ("a negative dimension",
      build ("{" T1 ("w", "F32", "[-1]", 0, 4) "}", zeros, 4),
      RNN_ERR_FORMAT, "shape[0] is -1", "'w'");
  expect_reject ("a float dimension",
      build ("{" T1 ("w", "F32", "[2.0]", 0, 8) "}", zeros, 8),
      RNN_ERR_FORMAT, "shape[0] is 2.0", NULL);
  expect_reject ("a shape that is not an array",
      build ("{" T1 ("w", "F32", "4", 0, 16) "}", zeros, 16),
      RNN_ERR_FORMAT, "shape is a JSON number", NULL);
  expect_reject ("rank 9",
      build ("{" T1 ("w", "F32", "[1,1,1,1,1,1,1,1,1]", 0, 4) "}", zeros, 4),
      RNN_ERR_FORMAT, "rank 9", NULL);
  expect_reject ("a shape whose element count overflows",
      build ("{" T1 ("w", "F32", "[4294967296,4294967296,16]", 0, 4) "}",
          zeros, 4), RNN_ERR_FORMAT, "overflow", "'w'");
  expect_reject ("a shape whose byte size overflows",
      build ("{" T1 ("w", "F32", "[2305843009213693952]", 0, 4) "}", zeros,
          4), RNN_ERR_FORMAT, "overflow", "'w'");

  /* the tiling of the data buffer */
  expect_reject ("overlapping ranges",
      build ("{" T1 ("a", "F32", "[2]", 0, 8) "," T1 ("b", "F32", "[2]", 4,
              12) "}", zeros, 12), RNN_ERR_FORMAT, "overlap", "'b'");
  expect_reject ("two tensors on the same bytes",
      build ("{" T1 ("a", "F32", "[2]", 0, 8) "," T1 ("b", "F32", "[2]", 0,
              8) "}", zeros, 8), RNN_ERR_FORMAT, "overlap", NULL);
  expect_reject ("a gap between ranges",
      build ("{" T1 ("a", "F32", "[1]", 0, 4) "," T1 ("b", "F32", "[1]", 8,
              12) "}", zeros, 12), RNN_ERR_FORMAT, "gap", "'b'");
  expect_reject ("data not starting at 0",
      build ("{" T1 ("a", "F32", "[1]", 4, 8) "}", zeros, 8),
      RNN_ERR_FORMAT, "gap", "expected begin 0");
  expect_reject ("end before begin",
      build ("{" T1 ("a", "F32", "[0]", 0, 0) "," T1 ("b", "F32", "[1]", 8,
              4) "}", zeros, 8), RNN_ERR_FORMAT, "end before begin", "'b'");
  expect_reject ("trailing bytes after the data",
      build ("{" T1 ("a", "F32", "[1]", 0, 4) "}", zeros, 8),
      RNN_ERR_FORMAT, "4 trailing bytes", NULL);
  expect_reject ("bytes but no tensors", build ("{}", zeros, 3),
      RNN_ERR_FORMAT, "3 trailing bytes", NULL);
  expect_reject ("a truncated file",
      build ("{" T1 ("a", "F32", "[4]", 0, 16) "}", zeros, 12),
      RNN_ERR_FORMAT, "truncated", "16");
  expect_reject ("a range of the wrong size",
      build ("{" T1 ("lstm.weight_hh_l0", "F32", "[4,8]", 0, 100) "}",
          zeros, 100), RNN_ERR_FORMAT,
      "tensor 'lstm.weight_hh_l0': data_offsets [0, 100] hold 100 bytes but "
      "F32 [4,8] needs 128", NULL);
  expect_reject ("an F16 range of the wrong size",
      build ("{" T1 ("h", "F16", "[3]", 0, 8) "}", zeros, 8),
      RNN_ERR_FORMAT, "F16 [3] needs 6", NULL);
  expect_reject ("a sub-byte tensor not ending on a byte",
      build ("{" T1 ("q", "F4", "[3]", 0, 2) "}", zeros, 2),
      RNN_ERR_FORMAT, "whole byte", "'q'");
  expect_reject ("a zero-size tensor claiming bytes",
      build ("{" T1 ("e", "F32", "[2,0]", 0, 4) "}", zeros, 4),
      RNN_ERR_FORMAT, "needs 0", NULL);

  /* duplicates and metadata */
  expect_reject ("a duplicate tensor name",
      build ("{" T1 ("a", "F32", "[1]", 0, 4) "," T1 ("a", "F32", "[1]", 4,
              8) "}", zeros, 8), RNN_ERR_FORMAT, "duplicate key 'a'", NULL);
  expect_reject ("a duplicate key inside an entry",
      build ("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],"
          "\"data_offsets\":[0,4]}}", zeros, 4), RNN_ERR_FORMAT,
      "duplicate key 'dtype'", NULL);
  expect_reject ("a duplicate metadata key",
      build ("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", NULL, 0),
      RNN_ERR_FORMAT, "duplicate key 'k'", NULL);
  expect_reject ("two __metadata__ entries",
      build ("{\"__metadata__\":{},\"__metadata__\":{}}", NULL, 0),
      RNN_ERR_FORMAT, "duplicate key '__metadata__'", NULL);
  expect_reject ("__metadata__ as an array",
      build ("{\"__metadata__\":[\"a\"]}", NULL, 0), RNN_ERR_FORMAT,
      "__metadata__ is a JSON array", NULL);
  expect_reject ("a metadata value that is a number",
      build ("{\"__metadata__\":{\"window\":48}}", NULL, 0), RNN_ERR_FORMAT,
      "'window' is a JSON number", NULL);
  expect_reject ("a metadata value that is an array",
      build ("{\"__metadata__\":{\"labels\":[\"a\"]}}", NULL, 0),
      RNN_ERR_FORMAT, "'labels' is a JSON array", NULL);
}

static void
test_load_errors (const char *tmpdir)
{
  rnn_tensors *t = (rnn_tensors *) 1;
  rnn_error err = { 0 };
  char *empty = g_build_filename (tmpdir, "empty.safetensors", NULL);
  rnn_status st;

  st = rnn_tensors_load ("/nonexistent/x.safetensors", &t, &err);
  tu_check (st == RNN_ERR_IO && t == NULL
      && strstr (err.msg, "/nonexistent/x.safetensors") != NULL
      && strstr (err.msg, "No such file") != NULL,
      "a missing file is an I/O error naming it: %s", err.msg);
  st = rnn_tensors_load (tmpdir, &t, &err);
  tu_check (st == RNN_ERR_IO && strstr (err.msg, "directory") != NULL,
      "a directory is refused: %s", err.msg);
  g_file_set_contents (empty, "", 0, NULL);
  st = rnn_tensors_load (empty, &t, &err);
  tu_check (st == RNN_ERR_FORMAT && strstr (err.msg, "too small") != NULL
      && strstr (err.msg, empty) != NULL, "an empty file: %s", err.msg);
  g_unlink (empty);
  g_free (empty);
  rnn_tensors_free (NULL);
  tu_check (rnn_tensors_count (NULL) == 0 && rnn_tensors_get (NULL, 0) == NULL
      && rnn_tensors_find (NULL, "a") == NULL
      && rnn_tensors_meta (NULL, "a") == NULL, "NULL tensors are empty");
}

static void
put_f32 (uint8_t *p, float f)
{
  uint32_t u;
  memcpy (&u, &f, 4);
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t) (u >> (8 * i));
}

static void
test_valid (void)
{
  rnn_tensors *t = NULL;
  rnn_error err = { 0 };
  const rnn_tensor *r;
  rnn_status st;
  uint8_t data[64];
  const char *k, *v;

  st = parse (build ("{}", NULL, 0), &t, &err);
  tu_check (st == RNN_OK && rnn_tensors_count (t) == 0
      && rnn_tensors_meta_count (t) == 0, "{} is an empty file");
  rnn_tensors_free (t);
  t = NULL;

  /* F32 values including NaN/Inf, leading whitespace, extra keys ignored,
   * metadata sorted, __metadata__ last in the header */
  put_f32 (data, 1.5f);
  put_f32 (data + 4, -INFINITY);
  put_f32 (data + 8, NAN);
  put_f32 (data + 12, 1e-45f);
  st = parse (build (" \n\t{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],"
          "\"data_offsets\":[0,16],\"extra\":{\"any\":[1,null,true]}},"
          "\"__metadata__\":{\"z\":\"last\",\"a\":\"first\","
          "\"\\u00e9t\\u00e9\":\"\\\"q\\\"\"}}", data, 16), &t, &err);
  tu_check (st == RNN_OK, "leading whitespace, extra keys, metadata: %s",
      st == RNN_OK ? "ok" : err.msg);
  r = rnn_tensors_find (t, "w");
  tu_check (r != NULL && r->ndim == 2 && r->shape[0] == 2 && r->numel == 4
      && strcmp (r->dtype, "F32") == 0 && r->data[0] == 1.5f
      && isinf (r->data[1]) && r->data[1] < 0 && isnan (r->data[2])
      && r->data[3] == 1e-45f, "F32 values, -inf, NaN, subnormal kept");
  tu_check (rnn_tensors_meta_count (t) == 3
      && rnn_tensors_meta_at (t, 0, &k, &v) && strcmp (k, "a") == 0
      && strcmp (v, "first") == 0 && rnn_tensors_meta_at (t, 2, &k, &v)
      && strcmp (k, "\xc3\xa9t\xc3\xa9") == 0 && strcmp (v, "\"q\"") == 0
      && !rnn_tensors_meta_at (t, 3, &k, &v)
      && strcmp (rnn_tensors_meta (t, "z"), "last") == 0
      && rnn_tensors_meta (t, "y") == NULL,
      "metadata sorted by key, escapes decoded");
  rnn_tensors_free (t);
  t = NULL;

  st = parse (build ("{\"__metadata__\":null," T1 ("s", "F32", "[]", 0, 4)
          "}", data, 4), &t, &err);
  r = rnn_tensors_find (t, "s");
  tu_check (st == RNN_OK && rnn_tensors_meta_count (t) == 0 && r != NULL
      && r->ndim == 0 && r->numel == 1 && r->data[0] == 1.5f,
      "a scalar, __metadata__ null");
  rnn_tensors_free (t);
  t = NULL;

  /* zero-element tensors, two at the same offset, and file order */
  st = parse (build ("{" T1 ("b", "F32", "[1]", 0, 4) "," T1 ("z1", "F32",
              "[2,0]", 4, 4) "," T1 ("z0", "F16", "[0]", 4, 4) ","
          T1 ("a", "F32", "[1]", 4, 8) "}", data, 8), &t, &err);
  tu_check (st == RNN_OK && rnn_tensors_count (t) == 4, "zero-element "
      "tensors accepted: %s", st == RNN_OK ? "ok" : err.msg);
  tu_check (st == RNN_OK && strcmp (rnn_tensors_get (t, 0)->name, "b") == 0
      && strcmp (rnn_tensors_get (t, 1)->name, "z0") == 0
      && strcmp (rnn_tensors_get (t, 2)->name, "z1") == 0
      && strcmp (rnn_tensors_get (t, 3)->name, "a") == 0
      && rnn_tensors_get (t, 4) == NULL
      && rnn_tensors_find (t, "z1")->numel == 0
      && rnn_tensors_find (t, "z1")->shape[1] == 0
      && rnn_tensors_find (t, "a")->data[0] == -INFINITY,
      "tensors in data-offset order, zero-element ones included");
  rnn_tensors_free (t);
  t = NULL;

  /* unaligned data: 3-byte header, buffer starting at an odd address */
  {
    const char *h = "{" T1 ("u", "F32", "[3]", 0, 12) "," T1 ("v", "F64",
        "[1]", 12, 20) "}";
    GByteArray *b = g_byte_array_new ();
    uint8_t le[8] = { 0 };
    size_t hl = strlen (h);
    double dv = -2.75;
    uint8_t *buf;
    le[0] = (uint8_t) hl;
    g_byte_array_append (b, (guint8 *) "x", 1);     /* misalign */
    g_byte_array_append (b, le, 8);
    g_byte_array_append (b, (const guint8 *) h, (guint) hl);
    put_f32 (data, 0.25f);
    put_f32 (data + 4, -3.0f);
    put_f32 (data + 8, 7.0f);
    memcpy (data + 12, &dv, 8);
    g_byte_array_append (b, data, 20);
    buf = b->data + 1;
    tu_check (((uintptr_t) (buf + 8 + hl)) % 4 != 0,
        "test data is really unaligned");
    st = rnn_tensors_parse (buf, b->len - 1, "mem.safetensors", &t, &err);
    tu_check (st == RNN_OK && rnn_tensors_find (t, "u")->data[1] == -3.0f
        && rnn_tensors_find (t, "u")->data[2] == 7.0f
        && rnn_tensors_find (t, "v")->data[0] == -2.75f,
        "unaligned F32 and F64 data read");
    rnn_tensors_free (t);
    t = NULL;
    g_byte_array_free (b, TRUE);
  }

  /* dtypes that are validated but not converted */
  st = parse (build ("{" T1 ("b", "BOOL", "[2]", 0, 2) "," T1 ("e", "F8_E4M3",
              "[2]", 2, 4) "," T1 ("c", "C64", "[1]", 4, 12) "," T1 ("q",
              "F4", "[2]", 12, 13) "," T1 ("s", "F6_E2M3", "[4]", 13, 16)
          "}", zeros, 16), &t, &err);
  tu_check (st == RNN_OK && rnn_tensors_find (t, "b")->data == NULL
      && strcmp (rnn_tensors_find (t, "e")->dtype, "F8_E4M3") == 0
      && rnn_tensors_find (t, "c")->data == NULL
      && rnn_tensors_find (t, "q")->data == NULL
      && rnn_tensors_find (t, "s")->numel == 4,
      "BOOL, F8, C64, F4, F6 parse with sizes checked, data NULL: %s",
      st == RNN_OK ? "ok" : err.msg);
  rnn_tensors_free (t);
  t = NULL;

  /* unsigned integer types torch 1.13 cannot write */
  {
    uint8_t d[2 + 4 + 8] = { 0xff, 0xff, 0x01, 0x00, 0x00, 0x80,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01 };
    st = parse (build ("{" T1 ("a", "U16", "[1]", 0, 2) "," T1 ("b", "U32",
                "[1]", 2, 6) "," T1 ("c", "U64", "[1]", 6, 14) "}", d, 14),
        &t, &err);
    tu_check (st == RNN_OK && rnn_tensors_find (t, "a")->data[0] == 65535.0f
        && rnn_tensors_find (t, "b")->data[0] == 2147483649.0f
        && rnn_tensors_find (t, "c")->data[0] == 72057594037927936.0f,
        "U16, U32, U64 little-endian converted");
    rnn_tensors_free (t);
    t = NULL;
  }
}

/* Bits equal, or both NaN. */
static int
same_value (float a, float b)
{
  if (isnan (a) || isnan (b))
    return isnan (a) && isnan (b);
  return memcmp (&a, &b, 4) == 0;
}

static void
test_dtypes (void)
{
  static const char *names[] = { "f32", "f16", "bf16", "f64", "i8", "u8",
    "i16", "i32", "i64" };
  rnn_tensors *t = NULL;
  rnn_error err = { 0 };

  if (rnn_tensors_load (tu_fixture ("models/dtypes.safetensors"), &t,
          &err) != RNN_OK) {
    tu_check (0, "dtypes.safetensors loads: %s", err.msg);
    return;
  }
  for (size_t i = 0; i < G_N_ELEMENTS (names); i++) {
    char ref[32];
    const rnn_tensor *a = rnn_tensors_find (t, names[i]), *b;
    size_t bad = 0, nan = 0, sub = 0;
    snprintf (ref, sizeof ref, "%s_f32", names[i]);
    b = rnn_tensors_find (t, ref);
    if (a == NULL || b == NULL || a->numel != b->numel) {
      tu_check (0, "%s and %s present", names[i], ref);
      continue;
    }
    for (size_t j = 0; j < a->numel; j++) {
      if (!same_value (a->data[j], b->data[j]))
        bad++;
      if (isnan (b->data[j]))
        nan++;
      /* subnormal in the source dtype: half below 2^-14, others below
       * float's 2^-126 */
      if (b->data[j] != 0 && fabsf (b->data[j])
          < (strcmp (a->dtype, "F16") == 0 ? 6.103515625e-05f
              : 1.17549435e-38f))
        sub++;
    }
    tu_check (bad == 0, "%s -> float32 equals PyTorch's conversion bit for "
        "bit on %zu values (%zu NaN, %zu subnormal; %zu differ)",
        a->dtype, a->numel, nan, sub, bad);
  }
  tu_check (strcmp (rnn_tensors_meta (t, "origin"), "torch") == 0,
      "dtypes.safetensors metadata");
  rnn_tensors_free (t);
}

static void
test_writer (const char *tmpdir)
{
  rnn_tensors *ref = NULL, *back = NULL;
  rnn_error err = { 0 };
  char *out = g_build_filename (tmpdir, "w.safetensors", NULL);
  char *out2 = g_build_filename (tmpdir, "w2.safetensors", NULL);
  const char *names[8], *mk[8], *mv[8];
  int ndims[8];
  const int64_t *shapes[8];
  const float *data[8];
  size_t n, nm;
  gsize l1 = 0, l2 = 0, l3 = 0;
  char *d1, *d2, *d3;
  rnn_status st;
  const char *bad_names[2] = { "a", "a" };
  int bad_ndims[2] = { 1, 1 };
  int64_t one[1] = { 1 }, neg[1] = { -2 };
  const int64_t *bad_shapes[2] = { one, one };
  float f[1] = { 0 };
  const float *bad_data[2] = { f, f };

  if (rnn_tensors_load (tu_fixture ("models/writer_ref.safetensors"), &ref,
          &err) != RNN_OK) {
    tu_check (0, "writer_ref.safetensors loads: %s", err.msg);
    return;
  }
  /* hand the tensors and metadata to the writer in reverse order */
  n = rnn_tensors_count (ref);
  for (size_t i = 0; i < n; i++) {
    const rnn_tensor *r = rnn_tensors_get (ref, n - 1 - i);
    names[i] = r->name;
    ndims[i] = r->ndim;
    shapes[i] = r->shape;
    data[i] = r->data;
  }
  nm = rnn_tensors_meta_count (ref);
  for (size_t i = 0; i < nm; i++)
    rnn_tensors_meta_at (ref, nm - 1 - i, &mk[i], &mv[i]);
  st = rnn_tensors_write (out, n, names, ndims, shapes, data, nm, mk, mv,
      &err);
  tu_check (st == RNN_OK, "write %zu tensors, %zu metadata: %s", n, nm,
      st == RNN_OK ? "ok" : err.msg);
  d1 = tu_read_all (out, &l1);
  d2 = tu_read_all (tu_fixture ("models/writer_ref.safetensors"), &l2);
  tu_check (d1 != NULL && d2 != NULL && l1 == l2 && memcmp (d1, d2, l1) == 0,
      "written bytes equal the reference layout from Python (%zu bytes)",
      (size_t) l1);
  tu_check (l1 >= 8 && ((uint8_t) d1[0] | ((uint8_t) d1[1] << 8)) % 8 == 0,
      "header length is a multiple of 8");
  st = rnn_tensors_write (out2, n, names, ndims, shapes, data, nm, mk, mv,
      &err);
  d3 = tu_read_all (out2, &l3);
  tu_check (st == RNN_OK && d3 != NULL && l3 == l1
      && memcmp (d1, d3, l1) == 0, "writing twice gives the same bytes");
  g_free (d1);
  g_free (d2);
  g_free (d3);

  st = rnn_tensors_load (out, &back, &err);
  tu_check (st == RNN_OK && rnn_tensors_count (back) == n
      && rnn_tensors_meta_count (back) == nm, "read back");
  if (st == RNN_OK) {
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
      const rnn_tensor *a = rnn_tensors_get (ref, i);
      const rnn_tensor *b = rnn_tensors_find (back, a->name);
      if (b == NULL || b->ndim != a->ndim || b->numel != a->numel
          || memcmp (b->shape, a->shape, sizeof (int64_t) * a->ndim) != 0
          || (a->numel > 0
              && memcmp (a->data, b->data, a->numel * 4) != 0))
        ok = 0;
    }
    tu_check (ok, "round trip keeps names, shapes (scalar, [2,0]) and "
        "values (inf) exactly");
  }
  rnn_tensors_free (back);

  st = rnn_tensors_write (out, 2, bad_names, bad_ndims, bad_shapes,
      bad_data, 0, NULL, NULL, &err);
  tu_check (st == RNN_ERR_ARG && strstr (err.msg, "duplicate tensor name "
          "'a'") != NULL, "writer refuses duplicate names: %s", err.msg);
  bad_names[1] = "b";
  bad_shapes[1] = neg;
  st = rnn_tensors_write (out, 2, bad_names, bad_ndims, bad_shapes,
      bad_data, 0, NULL, NULL, &err);
  tu_check (st == RNN_ERR_ARG && strstr (err.msg, "negative") != NULL,
      "writer refuses a negative dimension: %s", err.msg);
  bad_shapes[1] = one;
  bad_names[1] = "__metadata__";
  st = rnn_tensors_write (out, 2, bad_names, bad_ndims, bad_shapes,
      bad_data, 0, NULL, NULL, &err);
  tu_check (st == RNN_ERR_ARG && strstr (err.msg, "invalid name") != NULL,
      "writer refuses a tensor named __metadata__: %s", err.msg);
  mk[0] = mk[1] = "k";
  mv[0] = mv[1] = "v";
  st = rnn_tensors_write (out, 0, NULL, NULL, NULL, NULL, 2, mk, mv, &err);
  tu_check (st == RNN_ERR_ARG && strstr (err.msg, "duplicate metadata key "
          "'k'") != NULL, "writer refuses duplicate metadata keys: %s",
      err.msg);
  st = rnn_tensors_write ("/nonexistent/dir/x.safetensors", 0, NULL, NULL,
      NULL, NULL, 0, NULL, NULL, &err);
  tu_check (st == RNN_ERR_IO && strstr (err.msg, "/nonexistent/dir") != NULL,
      "writer reports an unwritable path: %s", err.msg);

  /* a name that needs escaping survives */
  {
    const char *qn[1] = { "we\"ird\\name\n\xc3\xa9" };
    int qd[1] = { 1 };
    const int64_t *qs[1] = { one };
    const float *qv[1] = { f };
    st = rnn_tensors_write (out, 1, qn, qd, qs, qv, 0, NULL, NULL, &err);
    back = NULL;
    tu_check (st == RNN_OK && rnn_tensors_load (out, &back, &err) == RNN_OK
        && rnn_tensors_find (back, qn[0]) != NULL,
        "a name with quotes, backslash, newline and UTF-8 round-trips");
    rnn_tensors_free (back);
  }

  g_unlink (out);
  g_unlink (out2);
  g_free (out);
  g_free (out2);
  rnn_tensors_free (ref);
}

int
main (void)
{
  char *tmpdir = g_dir_make_tmp ("test-st-XXXXXX", NULL);

  test_rejections ();
  test_load_errors (tmpdir);
  test_valid ();
  test_dtypes ();
  test_writer (tmpdir);
  g_rmdir (tmpdir);
  g_free (tmpdir);
  return tu_finish ();
}
