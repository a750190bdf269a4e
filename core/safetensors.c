/* gst-rnn: the safetensors file format, read and written.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Layout: u64 little-endian N, N bytes of UTF-8 JSON (an object mapping
 * tensor names to {dtype, shape, data_offsets} plus an optional
 * "__metadata__" string->string map), then the data buffer; data_offsets
 * are [begin, end) byte offsets into that buffer.
 *
 * Validation follows the reference implementation (huggingface/safetensors):
 * the ranges, sorted by (begin, end), must tile the buffer exactly from 0 to
 * its end; each range must hold exactly numel * bits / 8 bytes with every
 * multiplication checked for overflow. Rules that the reference leaves open
 * are ours:
 * - unknown keys inside a tensor entry are ignored (as the reference does),
 *   but dtype, shape and data_offsets are required;
 * - "__metadata__": null is the same as no metadata;
 * - rank above 8 is refused (rnn_tensor holds 8 dims);
 * - the data need not be aligned: it is copied (converted) with memcpy.
 *
 * Every tensor of a convertible dtype is converted to float32 at load: F32,
 * F16 and BF16 exactly (subnormals, infinities and NaN kept), F64 rounded to
 * nearest, integers to the nearest float. BOOL, C64, the F8 types and the
 * sub-byte F4/F6 types are validated but not converted: their data pointer is
 * NULL and the model loader refuses them when a model asks for one.
 */
#include "rnn-private.h"
#include "json.h"
#include "kernels.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER_MAX 100000000ULL

struct rnn_tensors {
  char *name;
  rnn_tensor *tensors;          /* file order (sorted by data offsets) */
  size_t n;
  GHashTable *by_name;          /* name -> GSIZE_TO_POINTER (index + 1) */
  char **meta_keys;             /* sorted */
  char **meta_values;
  size_t n_meta;
};

typedef enum {
  CONV_NONE, CONV_F32, CONV_F16, CONV_BF16, CONV_F64,
  CONV_I8, CONV_U8, CONV_I16, CONV_U16, CONV_I32, CONV_U32, CONV_I64,
  CONV_U64
} conv_kind;

typedef struct {
  const char *name;
  unsigned bits;
  conv_kind conv;
} dtype_info;

static const dtype_info dtypes[] = {
  { "BOOL", 8, CONV_NONE },
  { "U8", 8, CONV_U8 },
  { "I8", 8, CONV_I8 },
  { "F8_E5M2", 8, CONV_NONE },
  { "F8_E4M3", 8, CONV_NONE },
  { "F8_E8M0", 8, CONV_NONE },
  { "F8_E4M3FNUZ", 8, CONV_NONE },
  { "F8_E5M2FNUZ", 8, CONV_NONE },
  { "I16", 16, CONV_I16 },
  { "U16", 16, CONV_U16 },
  { "F16", 16, CONV_F16 },
  { "BF16", 16, CONV_BF16 },
  { "I32", 32, CONV_I32 },
  { "U32", 32, CONV_U32 },
  { "F32", 32, CONV_F32 },
  { "F64", 64, CONV_F64 },
  { "I64", 64, CONV_I64 },
  { "U64", 64, CONV_U64 },
  { "C64", 64, CONV_NONE },
  { "F4", 4, CONV_NONE },
  { "F6_E2M3", 6, CONV_NONE },
  { "F6_E3M2", 6, CONV_NONE },
};

static const dtype_info *
find_dtype (const char *s)
{
  for (size_t i = 0; i < G_N_ELEMENTS (dtypes); i++)
    if (strcmp (dtypes[i].name, s) == 0)
      return &dtypes[i];
  return NULL;
}

/* IEEE half -> float, exact for every input. */
static float
half_to_float (uint16_t h)
{
  uint32_t sign = (uint32_t) (h >> 15) << 31;
  uint32_t e = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  float f;

  if (e == 0) {
    /* zero or subnormal: mant * 2^-24, exactly representable in float */
    f = ldexpf ((float) mant, -24);
    return sign ? -f : f;
  }
  if (e == 31)
    bits = sign | 0x7f800000u | (mant << 13);   /* inf, NaN (payload kept) */
  else
    bits = sign | ((e - 15 + 127) << 23) | (mant << 13);
  memcpy (&f, &bits, 4);
  return f;
}

/* bfloat16 is the upper half of a float32. */
static float
bf16_to_float (uint16_t h)
{
  uint32_t bits = (uint32_t) h << 16;
  float f;
  memcpy (&f, &bits, 4);
  return f;
}

/* Convert @numel elements from unaligned little-endian @src. */
static void
convert (conv_kind k, const unsigned char *src, size_t numel, float *dst)
{
  for (size_t i = 0; i < numel; i++) {
    switch (k) {
      case CONV_F32: {
        uint32_t u;
        memcpy (&u, src + 4 * i, 4);
        u = GUINT32_FROM_LE (u);
        memcpy (&dst[i], &u, 4);
        break;
      }
      case CONV_F16: {
        uint16_t u;
        memcpy (&u, src + 2 * i, 2);
        dst[i] = half_to_float (GUINT16_FROM_LE (u));
        break;
      }
      case CONV_BF16: {
        uint16_t u;
        memcpy (&u, src + 2 * i, 2);
        dst[i] = bf16_to_float (GUINT16_FROM_LE (u));
        break;
      }
      case CONV_F64: {
        uint64_t u;
        double d;
        memcpy (&u, src + 8 * i, 8);
        u = GUINT64_FROM_LE (u);
        memcpy (&d, &u, 8);
        dst[i] = (float) d;
        break;
      }
      case CONV_I8:
        dst[i] = (float) (int8_t) src[i];
        break;
      case CONV_U8:
        dst[i] = (float) src[i];
        break;
      case CONV_I16:
      case CONV_U16: {
        uint16_t u;
        memcpy (&u, src + 2 * i, 2);
        u = GUINT16_FROM_LE (u);
        dst[i] = k == CONV_I16 ? (float) (int16_t) u : (float) u;
        break;
      }
      case CONV_I32:
      case CONV_U32: {
        uint32_t u;
        memcpy (&u, src + 4 * i, 4);
        u = GUINT32_FROM_LE (u);
        dst[i] = k == CONV_I32 ? (float) (int32_t) u : (float) u;
        break;
      }
      case CONV_I64:
      case CONV_U64: {
        uint64_t u;
        memcpy (&u, src + 8 * i, 8);
        u = GUINT64_FROM_LE (u);
        dst[i] = k == CONV_I64 ? (float) (int64_t) u : (float) u;
        break;
      }
      case CONV_NONE:
        return;
    }
  }
}

void
rnn_tensors_free (rnn_tensors *t)
{
  if (t == NULL)
    return;
  for (size_t i = 0; i < t->n; i++) {
    g_free ((char *) t->tensors[i].name);
    g_free ((float *) t->tensors[i].data);
  }
  g_free (t->tensors);
  if (t->by_name != NULL)
    g_hash_table_destroy (t->by_name);
  for (size_t i = 0; i < t->n_meta; i++) {
    g_free (t->meta_keys[i]);
    g_free (t->meta_values[i]);
  }
  g_free (t->meta_keys);
  g_free (t->meta_values);
  g_free (t->name);
  g_free (t);
}

/* A tensor entry while validating. */
typedef struct {
  const char *name;             /* borrowed from the JSON tree */
  const dtype_info *dt;
  int ndim;
  int64_t shape[RNN_MAX_DIMS];
  uint64_t numel;
  uint64_t begin, end;
} entry;

static int
entry_cmp (const void *a, const void *b)
{
  const entry *x = a, *y = b;
  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end)
    return x->end < y->end ? -1 : 1;
  return strcmp (x->name, y->name);
}

static int
str_ptr_cmp (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static rnn_status
parse_entry (const char *file, const char *name, const rnn_json *v,
    entry *e, rnn_error *err)
{
  const rnn_json *dt, *shape, *offs;

  e->name = name;
  if (v->type != RNN_JSON_OBJECT)
    return rnn__set_error (err, RNN_ERR_FORMAT,
        "%s: tensor '%s': entry is a JSON %s, expected an object with "
        "dtype, shape and data_offsets", file, name,
        rnn__json_type_name (v->type));
  dt = rnn__json_member (v, "dtype");
  shape = rnn__json_member (v, "shape");
  offs = rnn__json_member (v, "data_offsets");
  if (dt == NULL || shape == NULL || offs == NULL)
    return rnn__set_error (err, RNN_ERR_FORMAT,
        "%s: tensor '%s': missing \"%s\"", file, name,
        dt == NULL ? "dtype" : shape == NULL ? "shape" : "data_offsets");
  if (dt->type != RNN_JSON_STRING)
    return rnn__set_error (err, RNN_ERR_FORMAT,
        "%s: tensor '%s': dtype is a JSON %s, expected a string", file, name,
        rnn__json_type_name (dt->type));
  e->dt = find_dtype (dt->str);
  if (e->dt == NULL)
    return rnn__set_error (err, RNN_ERR_FORMAT,
        "%s: tensor '%s': unknown dtype '%s'", file, name, dt->str);

  if (shape->type != RNN_JSON_ARRAY)
    return rnn__set_error (err, RNN_ERR_FORMAT,
        "%s: tensor '%s': shape is a JSON %s, expected an array of "
        "non-negative integers", file, name, rnn__json_type_name (shape->type));
  if (shape->n > RNN_MAX_DIMS)
    return rnn__set_error (err, RNN_ERR_FORMAT,
        "%s: tensor '%s': rank %zu is above the supported maximum of %d",
        file, name, shape->n, RNN_MAX_DIMS);
  e->ndim = (int) shape->n;
  e->numel = 1;
  for (size_t i = 0; i < shape->n; i++) {
    const rnn_json *d = shape->items[i];
    if (d->type != RNN_JSON_NUMBER || !d->is_integer || d->negative)
      return rnn__set_error (err, RNN_ERR_FORMAT,
          "%s: tensor '%s': shape[%zu] is %s, expected a non-negative integer",
          file, name, i, d->type == RNN_JSON_NUMBER ? d->str
          : rnn__json_type_name (d->type));
    if (!d->u64_ok || d->u64 > (uint64_t) INT64_MAX)
      return rnn__set_error (err, RNN_ERR_FORMAT,
          "%s: tensor '%s': shape[%zu] = %s overflows", file, name, i, d->str);
    e->shape[i] = (int64_t) d->u64;
  }
  /* numel with overflow checks (done before the range comparison, like the
   * reference, so a huge shape reports an overflow) */
  for (int i = 0; i < e->ndim; i++) {
    uint64_t d = (uint64_t) e->shape[i];
    if (d != 0 && e->numel > UINT64_MAX / d)
      return rnn__set_error (err, RNN_ERR_FORMAT,
          "%s: tensor '%s': element count of the shape overflows", file, name);
    e->numel *= d;
  }

  if (offs->type != RNN_JSON_ARRAY || offs->n != 2)
    return rnn__set_error (err, RNN_ERR_FORMAT,
        "%s: tensor '%s': data_offsets must be an array of exactly 2 "
        "non-negative integers", file, name);
  for (int i = 0; i < 2; i++) {
    const rnn_json *o = offs->items[i];
    if (o->type != RNN_JSON_NUMBER || !o->is_integer || o->negative
        || !o->u64_ok)
      return rnn__set_error (err, RNN_ERR_FORMAT,
          "%s: tensor '%s': data_offsets[%d] is %s, expected a non-negative "
          "integer", file, name, i, o->type == RNN_JSON_NUMBER ? o->str
          : rnn__json_type_name (o->type));
  }
  e->begin = offs->items[0]->u64;
  e->end = offs->items[1]->u64;
  return RNN_OK;
}

/* Files people pass by mistake, recognised by their first bytes so the
 * message says what the file is rather than which safetensors field it
 * breaks. Only consulted once the file has failed as safetensors: a valid
 * header length may begin with any byte. NULL when not recognised. */
static const char *
foreign_format (const unsigned char *b, size_t size)
{
  if (size >= 4 && memcmp (b, "PK\x03\x04", 4) == 0)
    return "looks like a PyTorch zip archive, as torch.save writes by "
        "default";
  /* pickle protocol 2..5 opcode PROTO; torch.save's legacy format starts
   * with a pickled magic number */
  if (size >= 2 && b[0] == 0x80 && b[1] >= 2 && b[1] <= 5)
    return "looks like a PyTorch pickle, as torch.save writes with "
        "_use_new_zipfile_serialization=False, or another Python pickle";
  if (size >= 6 && memcmp (b, "\x93NUMPY", 6) == 0)
    return "looks like a NumPy .npy array";
  if (size >= 8 && memcmp (b, "\x89HDF\r\n\x1a\n", 8) == 0)
    return "looks like an HDF5 file (Keras?)";
  return NULL;
}

rnn_status
rnn_tensors_parse (const void *data, size_t size, const char *name,
    rnn_tensors **out, rnn_error *err)
{
  const unsigned char *bytes = data;
  const char *file = name != NULL ? name : "(memory)";
  uint64_t n_header, data_size;
  const char *hdr;
  size_t hdr_len, ws = 0;
  char jerr[320];
  rnn_json *root = NULL;
  const rnn_json *meta = NULL;
  entry *entries = NULL;
  size_t n_entries = 0;
  rnn_tensors *t = NULL;
  rnn_status st = RNN_OK;
  uint64_t pos;

  if (out == NULL)
    return rnn__set_error (err, RNN_ERR_ARG, "%s: no output pointer", file);
  *out = NULL;
  if (data == NULL && size > 0)
    return rnn__set_error (err, RNN_ERR_ARG, "%s: no data", file);

  if (size < 8)
    return rnn__set_error (err, RNN_ERR_FORMAT,
        "%s: header too small: the file has %zu bytes, fewer than the 8 of "
        "the header length", file, size);
  memcpy (&n_header, bytes, 8);
  n_header = GUINT64_FROM_LE (n_header);
  if (n_header > HEADER_MAX || n_header + 8 > (uint64_t) size) {
    const char *what = foreign_format (bytes, size);

    if (what != NULL)
      return rnn__set_error (err, RNN_ERR_FORMAT,
          "%s: not a safetensors file (%s); save the state_dict with "
          "safetensors.torch.save_file and the metadata the model needs "
          "(see docs/model-format.md)", file, what);
  }
  if (n_header > HEADER_MAX)
    return rnn__set_error (err, RNN_ERR_FORMAT,
        "%s: header too large: length %" G_GUINT64_FORMAT " is above the "
        "limit of %llu bytes", file, n_header, HEADER_MAX);
  /* n_header <= 1e8, so the addition cannot overflow u64 */
  if (n_header + 8 > (uint64_t) size)
    return rnn__set_error (err, RNN_ERR_FORMAT,
        "%s: invalid header length %" G_GUINT64_FORMAT ": header ends past "
        "the end of the file (%zu bytes)", file, n_header, size);
  hdr = (const char *) bytes + 8;
  hdr_len = (size_t) n_header;
  data_size = (uint64_t) size - 8 - n_header;

  /* leading whitespace is accepted before the opening brace */
  while (ws < hdr_len && (hdr[ws] == ' ' || hdr[ws] == '\t'
          || hdr[ws] == '\n' || hdr[ws] == '\r'))
    ws++;
  if (!g_utf8_validate_len (hdr, hdr_len, NULL))
    return rnn__set_error (err, RNN_ERR_FORMAT,
        "%s: header is not valid UTF-8", file);
  if (ws == hdr_len || hdr[ws] != '{')
    return rnn__set_error (err, RNN_ERR_FORMAT,
        "%s: header does not start with '{': not a JSON object", file);
  root = rnn__json_parse (hdr, hdr_len, jerr, sizeof jerr);
  if (root == NULL)
    return rnn__set_error (err, RNN_ERR_FORMAT,
        "%s: header is not valid JSON: %s", file, jerr);
  if (root->type != RNN_JSON_OBJECT) {
    st = rnn__set_error (err, RNN_ERR_FORMAT,
        "%s: header is a JSON %s, expected an object", file,
        rnn__json_type_name (root->type));
    goto out;
  }

  entries = g_new0 (entry, root->n + 1);
  for (size_t i = 0; i < root->n; i++) {
    if (strcmp (root->keys[i], "__metadata__") == 0) {
      meta = root->items[i];
      continue;
    }
    st = parse_entry (file, root->keys[i], root->items[i],
        &entries[n_entries], err);
    if (st != RNN_OK)
      goto out;
    n_entries++;
  }

  /* metadata: string -> string (duplicate keys were refused by the JSON
   * parser) */
  if (meta != NULL && meta->type != RNN_JSON_NULL) {
    if (meta->type != RNN_JSON_OBJECT) {
      st = rnn__set_error (err, RNN_ERR_FORMAT,
          "%s: __metadata__ is a JSON %s, expected an object of strings",
          file, rnn__json_type_name (meta->type));
      goto out;
    }
    for (size_t i = 0; i < meta->n; i++) {
      if (meta->items[i]->type != RNN_JSON_STRING) {
        st = rnn__set_error (err, RNN_ERR_FORMAT,
            "%s: __metadata__ value of '%s' is a JSON %s, expected a string "
            "(encode lists as JSON text)", file, meta->keys[i],
            rnn__json_type_name (meta->items[i]->type));
        goto out;
      }
    }
  } else {
    meta = NULL;
  }

  /* ranges sorted by (begin, end) must tile [0, data_size) exactly */
  qsort (entries, n_entries, sizeof (entry), entry_cmp);
  pos = 0;
  for (size_t i = 0; i < n_entries; i++) {
    entry *e = &entries[i];
    uint64_t bits, need;
    char sb[160];

    if (e->end < e->begin) {
      st = rnn__set_error (err, RNN_ERR_FORMAT,
          "%s: tensor '%s': invalid data_offsets [%" G_GUINT64_FORMAT ", %"
          G_GUINT64_FORMAT "]: end before begin", file, e->name, e->begin,
          e->end);
      goto out;
    }
    if (e->begin < pos) {
      st = rnn__set_error (err, RNN_ERR_FORMAT,
          "%s: tensor '%s': data_offsets [%" G_GUINT64_FORMAT ", %"
          G_GUINT64_FORMAT "] overlap the previous tensor '%s' (which ends "
          "at %" G_GUINT64_FORMAT ")", file, e->name, e->begin, e->end,
          i > 0 ? entries[i - 1].name : "", pos);
      goto out;
    }
    if (e->begin > pos) {
      st = rnn__set_error (err, RNN_ERR_FORMAT,
          "%s: tensor '%s': data_offsets [%" G_GUINT64_FORMAT ", %"
          G_GUINT64_FORMAT "] leave a gap: expected begin %" G_GUINT64_FORMAT,
          file, e->name, e->begin, e->end, pos);
      goto out;
    }
    if (e->numel > UINT64_MAX / e->dt->bits) {
      st = rnn__set_error (err, RNN_ERR_FORMAT,
          "%s: tensor '%s': byte size of %s %s overflows", file, e->name,
          e->dt->name, rnn__format_shape (e->shape, e->ndim, sb, sizeof sb));
      goto out;
    }
    bits = e->numel * e->dt->bits;
    if (bits % 8 != 0) {
      st = rnn__set_error (err, RNN_ERR_FORMAT,
          "%s: tensor '%s': %s %s does not end on a whole byte (%"
          G_GUINT64_FORMAT " bits)", file, e->name, e->dt->name,
          rnn__format_shape (e->shape, e->ndim, sb, sizeof sb), bits);
      goto out;
    }
    need = bits / 8;
    if (e->end - e->begin != need) {
      st = rnn__set_error (err, RNN_ERR_FORMAT,
          "%s: tensor '%s': data_offsets [%" G_GUINT64_FORMAT ", %"
          G_GUINT64_FORMAT "] hold %" G_GUINT64_FORMAT " bytes but %s %s "
          "needs %" G_GUINT64_FORMAT, file, e->name, e->begin, e->end,
          e->end - e->begin, e->dt->name,
          rnn__format_shape (e->shape, e->ndim, sb, sizeof sb), need);
      goto out;
    }
    pos = e->end;
  }
  if (pos != data_size) {
    if (pos < data_size)
      st = rnn__set_error (err, RNN_ERR_FORMAT,
          "%s: %" G_GUINT64_FORMAT " trailing bytes after the tensor data: "
          "the tensors cover %" G_GUINT64_FORMAT " bytes of a %"
          G_GUINT64_FORMAT "-byte data buffer", file, data_size - pos, pos,
          data_size);
    else
      st = rnn__set_error (err, RNN_ERR_FORMAT,
          "%s: file truncated: the tensors need %" G_GUINT64_FORMAT
          " data bytes but only %" G_GUINT64_FORMAT " are present", file,
          pos, data_size);
    goto out;
  }

  /* build the result */
  t = g_new0 (rnn_tensors, 1);
  t->name = g_strdup (file);
  t->tensors = g_new0 (rnn_tensor, n_entries + 1);
  t->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  for (size_t i = 0; i < n_entries; i++) {
    const entry *e = &entries[i];
    rnn_tensor *r = &t->tensors[i];

    if ((uint64_t) (size_t) e->numel != e->numel
        || e->numel > G_MAXSIZE / sizeof (float)) {
      st = rnn__set_error (err, RNN_ERR_FORMAT,
          "%s: tensor '%s': too many elements", file, e->name);
      goto out;
    }
    r->name = g_strdup (e->name);
    r->dtype = e->dt->name;
    r->ndim = e->ndim;
    memcpy (r->shape, e->shape, sizeof r->shape);
    r->numel = (size_t) e->numel;
    if (e->dt->conv != CONV_NONE) {
      float *f = g_try_new (float, r->numel > 0 ? r->numel : 1);
      if (f == NULL) {
        st = rnn__set_error (err, RNN_ERR_NOMEM,
            "%s: tensor '%s': out of memory for %zu floats", file, e->name,
            r->numel);
        t->n = i + 1;
        goto out;
      }
      convert (e->dt->conv, bytes + 8 + n_header + e->begin, r->numel, f);
      r->data = f;
    }
    t->n = i + 1;
    g_hash_table_insert (t->by_name, (char *) r->name,
        GSIZE_TO_POINTER (i + 1));
  }
  if (meta != NULL) {
    t->n_meta = meta->n;
    t->meta_keys = g_new0 (char *, meta->n + 1);
    t->meta_values = g_new0 (char *, meta->n + 1);
    for (size_t i = 0; i < meta->n; i++)
      t->meta_keys[i] = g_strdup (meta->keys[i]);
    qsort (t->meta_keys, meta->n, sizeof (char *), str_ptr_cmp);
    for (size_t i = 0; i < meta->n; i++)
      t->meta_values[i] = g_strdup (rnn__json_member (meta,
              t->meta_keys[i])->str);
  }
  *out = t;
  t = NULL;

out:
  rnn_tensors_free (t);
  g_free (entries);
  rnn__json_free (root);
  return st;
}

rnn_status
rnn_tensors_load (const char *path, rnn_tensors **out, rnn_error *err)
{
  int fd;
  struct stat sb;
  void *map = NULL;
  rnn_status st;

  if (out == NULL || path == NULL)
    return rnn__set_error (err, RNN_ERR_ARG, "rnn_tensors_load: %s is NULL",
        path == NULL ? "path" : "out");
  *out = NULL;
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return rnn__set_error (err, RNN_ERR_IO, "%s: cannot open: %s", path,
        g_strerror (errno));
  if (fstat (fd, &sb) != 0) {
    int e = errno;
    close (fd);
    return rnn__set_error (err, RNN_ERR_IO, "%s: cannot stat: %s", path,
        g_strerror (e));
  }
  if (S_ISDIR (sb.st_mode)) {
    close (fd);
    return rnn__set_error (err, RNN_ERR_IO, "%s: is a directory, not a "
        "model file", path);
  }
  if (sb.st_size > 0) {
    map = mmap (NULL, (size_t) sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
      int e = errno;
      close (fd);
      return rnn__set_error (err, RNN_ERR_IO, "%s: cannot read: %s", path,
          g_strerror (e));
    }
  }
  close (fd);
  st = rnn_tensors_parse (map != NULL ? map : "", (size_t) sb.st_size, path,
      out, err);
  if (map != NULL)
    munmap (map, (size_t) sb.st_size);
  return st;
}

size_t
rnn_tensors_count (const rnn_tensors *t)
{
  return t != NULL ? t->n : 0;
}

const rnn_tensor *
rnn_tensors_get (const rnn_tensors *t, size_t i)
{
  if (t == NULL || i >= t->n)
    return NULL;
  return &t->tensors[i];
}

const rnn_tensor *
rnn_tensors_find (const rnn_tensors *t, const char *name)
{
  gsize idx;
  if (t == NULL || name == NULL)
    return NULL;
  idx = GPOINTER_TO_SIZE (g_hash_table_lookup (t->by_name, name));
  return idx > 0 ? &t->tensors[idx - 1] : NULL;
}

const char *
rnn_tensors_meta (const rnn_tensors *t, const char *key)
{
  size_t lo = 0, hi;
  if (t == NULL || key == NULL)
    return NULL;
  hi = t->n_meta;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcmp (t->meta_keys[mid], key);
    if (c == 0)
      return t->meta_values[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

size_t
rnn_tensors_meta_count (const rnn_tensors *t)
{
  return t != NULL ? t->n_meta : 0;
}

bool
rnn_tensors_meta_at (const rnn_tensors *t, size_t i, const char **key,
    const char **value)
{
  if (t == NULL || i >= t->n_meta)
    return false;
  if (key != NULL)
    *key = t->meta_keys[i];
  if (value != NULL)
    *value = t->meta_values[i];
  return true;
}

/* ------------------------------------------------------------------ writer */

/* sorts indices into the string array @user */
static gint
index_by_name_cmp (gconstpointer a, gconstpointer b, gpointer user)
{
  const char *const *names = user;
  return strcmp (names[*(const size_t *) a], names[*(const size_t *) b]);
}

rnn_status
rnn_tensors_write (const char *path, size_t n, const char *const *names,
    const int *ndims, const int64_t *const *shapes, const float *const *data,
    size_t n_meta, const char *const *meta_keys,
    const char *const *meta_values, rnn_error *err)
{
  return rnn__tensors_write (path, n, names, ndims, shapes, data, NULL,
      n_meta, meta_keys, meta_values, err);
}

rnn_status
rnn__tensors_write (const char *path, size_t n, const char *const *names,
    const int *ndims, const int64_t *const *shapes, const float *const *data,
    const bool *bf16, size_t n_meta, const char *const *meta_keys,
    const char *const *meta_values, rnn_error *err)
{
  GString *h = NULL;
  size_t *order = NULL, *morder = NULL, *numels = NULL;
  uint64_t off = 0, len_le;
  char *tmp = NULL;
  FILE *f = NULL;
  int fd = -1;
  rnn_status st = RNN_OK;

  if (path == NULL)
    return rnn__set_error (err, RNN_ERR_ARG, "rnn_tensors_write: path is "
        "NULL");
  if (n > 0 && (names == NULL || ndims == NULL || shapes == NULL
          || data == NULL))
    return rnn__set_error (err, RNN_ERR_ARG, "%s: tensor arrays are NULL",
        path);
  if (n_meta > 0 && (meta_keys == NULL || meta_values == NULL))
    return rnn__set_error (err, RNN_ERR_ARG, "%s: metadata arrays are NULL",
        path);

  order = g_new (size_t, n + 1);
  numels = g_new (size_t, n + 1);
  for (size_t i = 0; i < n; i++) {
    size_t numel = 1;
    order[i] = i;
    if (names[i] == NULL || strcmp (names[i], "__metadata__") == 0
        || !g_utf8_validate (names[i], -1, NULL)) {
      st = rnn__set_error (err, RNN_ERR_ARG, "%s: tensor %zu has an invalid "
          "name", path, i);
      goto out;
    }
    if (ndims[i] < 0 || ndims[i] > RNN_MAX_DIMS
        || (ndims[i] > 0 && shapes[i] == NULL)) {
      st = rnn__set_error (err, RNN_ERR_ARG, "%s: tensor '%s': invalid rank "
          "%d", path, names[i], ndims[i]);
      goto out;
    }
    for (int d = 0; d < ndims[i]; d++) {
      if (shapes[i][d] < 0) {
        st = rnn__set_error (err, RNN_ERR_ARG, "%s: tensor '%s': negative "
            "dimension %" G_GINT64_FORMAT, path, names[i], shapes[i][d]);
        goto out;
      }
      if (shapes[i][d] != 0 && numel > G_MAXSIZE / 4 / (size_t) shapes[i][d]) {
        st = rnn__set_error (err, RNN_ERR_ARG, "%s: tensor '%s': too many "
            "elements", path, names[i]);
        goto out;
      }
      numel *= (size_t) shapes[i][d];
    }
    if (numel > 0 && data[i] == NULL) {
      st = rnn__set_error (err, RNN_ERR_ARG, "%s: tensor '%s': no data",
          path, names[i]);
      goto out;
    }
    numels[i] = numel;
  }
  g_qsort_with_data (order, (gint) n, sizeof (size_t), index_by_name_cmp,
      (gpointer) names);
  for (size_t i = 1; i < n; i++)
    if (strcmp (names[order[i]], names[order[i - 1]]) == 0) {
      st = rnn__set_error (err, RNN_ERR_ARG, "%s: duplicate tensor name "
          "'%s'", path, names[order[i]]);
      goto out;
    }

  morder = g_new (size_t, n_meta + 1);
  for (size_t i = 0; i < n_meta; i++) {
    morder[i] = i;
    if (meta_keys[i] == NULL || meta_values[i] == NULL
        || !g_utf8_validate (meta_keys[i], -1, NULL)
        || !g_utf8_validate (meta_values[i], -1, NULL)) {
      st = rnn__set_error (err, RNN_ERR_ARG, "%s: metadata entry %zu is "
          "NULL or not UTF-8", path, i);
      goto out;
    }
  }
  g_qsort_with_data (morder, (gint) n_meta, sizeof (size_t),
      index_by_name_cmp, (gpointer) meta_keys);
  for (size_t i = 1; i < n_meta; i++)
    if (strcmp (meta_keys[morder[i]], meta_keys[morder[i - 1]]) == 0) {
      st = rnn__set_error (err, RNN_ERR_ARG, "%s: duplicate metadata key "
          "'%s'", path, meta_keys[morder[i]]);
      goto out;
    }

  h = g_string_new ("{");
  if (n_meta > 0) {
    g_string_append (h, "\"__metadata__\":{");
    for (size_t i = 0; i < n_meta; i++) {
      if (i > 0)
        g_string_append_c (h, ',');
      rnn__json_append_string (h, meta_keys[morder[i]]);
      g_string_append_c (h, ':');
      rnn__json_append_string (h, meta_values[morder[i]]);
    }
    g_string_append_c (h, '}');
  }
  for (size_t k = 0; k < n; k++) {
    size_t i = order[k];
    uint64_t esize = bf16 != NULL && bf16[i] ? 2 : 4;
    if (k > 0 || n_meta > 0)
      g_string_append_c (h, ',');
    rnn__json_append_string (h, names[i]);
    g_string_append_printf (h, ":{\"dtype\":\"%s\",\"shape\":[",
        esize == 2 ? "BF16" : "F32");
    for (int d = 0; d < ndims[i]; d++)
      g_string_append_printf (h, "%s%" G_GINT64_FORMAT, d ? "," : "",
          shapes[i][d]);
    g_string_append_printf (h, "],\"data_offsets\":[%" G_GUINT64_FORMAT ",%"
        G_GUINT64_FORMAT "]}", off, off + (uint64_t) numels[i] * esize);
    off += (uint64_t) numels[i] * esize;
  }
  g_string_append_c (h, '}');
  while (h->len % 8 != 0)
    g_string_append_c (h, ' ');

  /* write to a temporary file next to @path, then rename: a reader never
   * sees half a model */
  tmp = g_strdup_printf ("%s.XXXXXX", path);
  fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0) {
    st = rnn__set_error (err, RNN_ERR_IO, "%s: cannot create: %s", path,
        g_strerror (errno));
    goto out;
  }
  f = fdopen (fd, "wb");
  if (f == NULL) {
    st = rnn__set_error (err, RNN_ERR_IO, "%s: cannot write: %s", path,
        g_strerror (errno));
    close (fd);
    goto out_unlink;
  }
  len_le = GUINT64_TO_LE ((uint64_t) h->len);
  fwrite (&len_le, 8, 1, f);
  fwrite (h->str, 1, h->len, f);
  for (size_t k = 0; k < n; k++) {
    size_t i = order[k];
    if (bf16 != NULL && bf16[i]) {
      /* rounded as precision=bf16 rounds (rnn__bf16_from_f32), so such a
       * file holds exactly the weights that precision computes with */
      for (size_t j = 0; j < numels[i]; j++) {
        uint16_t u = GUINT16_TO_LE (rnn__bf16_from_f32 (data[i][j]));
        fwrite (&u, 2, 1, f);
      }
      continue;
    }
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
    if (numels[i] > 0)
      fwrite (data[i], 4, numels[i], f);
#else
    for (size_t j = 0; j < numels[i]; j++) {
      uint32_t u;
      memcpy (&u, &data[i][j], 4);
      u = GUINT32_TO_LE (u);
      fwrite (&u, 4, 1, f);
    }
#endif
  }
  if (ferror (f) | (fclose (f) != 0)) {
    st = rnn__set_error (err, RNN_ERR_IO, "%s: write failed: %s", path,
        g_strerror (errno));
    goto out_unlink;
  }
  if (rename (tmp, path) != 0) {
    st = rnn__set_error (err, RNN_ERR_IO, "%s: cannot write: %s", path,
        g_strerror (errno));
    goto out_unlink;
  }
  goto out;

out_unlink:
  unlink (tmp);
out:
  g_free (tmp);
  if (h != NULL)
    g_string_free (h, TRUE);
  g_free (order);
  g_free (morder);
  g_free (numels);
  return st;
}
