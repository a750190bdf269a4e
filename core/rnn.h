/* gst-rnn: the recurrent engine.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The one public header of core/. Nothing here knows about GStreamer.
 *
 * Conventions
 * - Every function that can fail returns an #rnn_status and, when the caller
 *   passes a non-NULL #rnn_error, fills it with a message that names the
 *   problem (file, tensor or key, expected versus found). Nothing prints,
 *   nothing aborts.
 * - Every `_new`/`_load` is paired with a `_free` that accepts NULL.
 * - Ownership: pointers returned by accessors of an object stay owned by that
 *   object and live as long as it; out-parameters of `_new`/`_load` are owned
 *   by the caller.
 * - Matrices are row-major float32; a buffer of T frames of F features is
 *   T*F floats, frame after frame.
 *
 * Two kinds of objects: an #rnn_model is read-only once loaded and may be
 * shared by any number of threads and streams; an #rnn_state belongs to one
 * stream (hidden state, work buffers) and must not be used by two threads at
 * once.
 */
#ifndef RNN_H
#define RNN_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ errors */

typedef enum {
  RNN_OK = 0,
  RNN_ERR_IO,          /* a file could not be opened, read or written */
  RNN_ERR_FORMAT,      /* a file is not valid safetensors / JSON / UTF-8 */
  RNN_ERR_MODEL,       /* valid file, but not a network we can run */
  RNN_ERR_ARG,         /* the caller passed something invalid */
  RNN_ERR_NOMEM,       /* an allocation failed */
  RNN_ERR_UNSUPPORTED  /* valid request we do not implement */
} rnn_status;

#define RNN_ERROR_MSG_MAX 512

typedef struct {
  rnn_status code;
  char msg[RNN_ERROR_MSG_MAX];  /* NUL-terminated, human readable */
} rnn_error;

/* A static string naming @status ("ok", "I/O error", ...). */
const char *rnn_status_str (rnn_status status);

/* ------------------------------------------------------------- safetensors
 * Low-level access to a safetensors file, validated as strictly as the
 * reference implementation (see SPEC section 4). Every tensor is converted to
 * float32 at load (F16, BF16, F64, integer types); the original dtype is kept
 * for information. */

typedef struct rnn_tensors rnn_tensors;

typedef struct {
  const char *name;
  const char *dtype;      /* "F32", "F16", ... as in the file */
  int ndim;               /* 0 .. RNN_MAX_DIMS */
  int64_t shape[8];
  size_t numel;           /* product of shape (1 for a scalar) */
  const float *data;      /* numel floats, owned by the rnn_tensors */
} rnn_tensor;

#define RNN_MAX_DIMS 8

/* Parse a whole file held in memory. @name is used in messages only. */
rnn_status rnn_tensors_parse (const void *data, size_t size, const char *name,
    rnn_tensors **out, rnn_error *err);
rnn_status rnn_tensors_load (const char *path, rnn_tensors **out,
    rnn_error *err);
void rnn_tensors_free (rnn_tensors *t);

size_t rnn_tensors_count (const rnn_tensors *t);
/* The i-th tensor in file order of data offsets; NULL when out of range. */
const rnn_tensor *rnn_tensors_get (const rnn_tensors *t, size_t i);
/* NULL when absent. */
const rnn_tensor *rnn_tensors_find (const rnn_tensors *t, const char *name);
/* The metadata value for @key, or NULL. */
const char *rnn_tensors_meta (const rnn_tensors *t, const char *key);
size_t rnn_tensors_meta_count (const rnn_tensors *t);
/* Key and value of the i-th metadata entry (sorted by key). */
bool rnn_tensors_meta_at (const rnn_tensors *t, size_t i, const char **key,
    const char **value);

/* Write an F32 safetensors file (header padded to 8 bytes, tensors sorted by
 * name, so the same input gives the same bytes). @meta_keys/@meta_values may
 * be NULL when @n_meta is 0. */
rnn_status rnn_tensors_write (const char *path, size_t n,
    const char *const *names, const int *ndims, const int64_t *const *shapes,
    const float *const *data, size_t n_meta, const char *const *meta_keys,
    const char *const *meta_values, rnn_error *err);

/* ------------------------------------------------------------------- model */

typedef struct rnn_model rnn_model;

typedef enum {
  RNN_CELL_RNN_TANH,
  RNN_CELL_RNN_RELU,
  RNN_CELL_LSTM,
  RNN_CELL_GRU
} rnn_cell;

typedef enum {
  RNN_TASK_NONE,        /* no `task` metadata */
  RNN_TASK_FORECAST,
  RNN_TASK_ANOMALY,
  RNN_TASK_CLASSIFY
} rnn_task;

typedef enum {
  RNN_HEAD_OUTPUT,            /* head reads the top layer output of every frame */
  RNN_HEAD_FINAL_HIDDEN,      /* h_n[-1] */
  RNN_HEAD_FINAL_HIDDEN_BOTH, /* concat(h_n[-2], h_n[-1]) */
  RNN_HEAD_MEAN               /* mean of top-layer outputs over the call */
} rnn_head_input;

/* Load and validate a model (SPEC section 4). On failure *out is NULL and the
 * message names @path. */
rnn_status rnn_model_load (const char *path, rnn_model **out, rnn_error *err);
/* Same from parsed tensors; @name is used in messages. @t may be freed after. */
rnn_status rnn_model_from_tensors (const rnn_tensors *t, const char *name,
    rnn_model **out, rnn_error *err);
void rnn_model_free (rnn_model *m);
/* Write @m (parameters under PyTorch state_dict names, all metadata) as an
 * F32 safetensors file that rnn_model_load and PyTorch both read back. */
rnn_status rnn_model_save (const rnn_model *m, const char *path,
    rnn_error *err);

rnn_cell rnn_model_cell (const rnn_model *m);
rnn_task rnn_model_task (const rnn_model *m);
rnn_head_input rnn_model_head_input (const rnn_model *m);
const char *rnn_cell_name (rnn_cell c);      /* "lstm", "gru", "rnn_tanh", "rnn_relu" */
const char *rnn_task_name (rnn_task t);      /* "forecast", ... , "none" */
int rnn_model_num_layers (const rnn_model *m);
int rnn_model_num_directions (const rnn_model *m);   /* 1 or 2 */
int rnn_model_hidden_size (const rnn_model *m);
int rnn_model_proj_size (const rnn_model *m);        /* 0 when none */
/* Features per input frame (for a text model: the embedding dimension). */
int rnn_model_input_size (const rnn_model *m);
/* Values per output: the head's rows, or D*H_out when the model has no head. */
int rnn_model_output_size (const rnn_model *m);
bool rnn_model_has_head (const rnn_model *m);
/* Embedding rows; 0 when the model has no embedding (signal model). */
int rnn_model_vocab_size (const rnn_model *m);
/* Value of the `window` metadata, 0 when absent. */
unsigned rnn_model_window (const rnn_model *m);
/* The path or name the model was loaded from. */
const char *rnn_model_name (const rnn_model *m);

/* Any metadata value, or NULL. */
const char *rnn_model_meta (const rnn_model *m, const char *key);
/* Labels: `labels` metadata or "class0", ...; count == output size for
 * classify models with >= 2 outputs, 2 for a 1-output (sigmoid) model. */
int rnn_model_num_labels (const rnn_model *m);
const char *rnn_model_label (const rnn_model *m, int i);
/* Anomaly statistics (length output size; defaults 0 and 1) and threshold
 * (default 4.0). */
const float *rnn_model_anomaly_error_mean (const rnn_model *m);
const float *rnn_model_anomaly_error_std (const rnn_model *m);
double rnn_model_anomaly_threshold (const rnn_model *m);

/* Normalisation from the metadata, in place allowed (@in may equal @out).
 * Without statistics these copy. n_frames frames of input_size (resp.
 * output_size) values. */
void rnn_model_normalize_input (const rnn_model *m, const float *in,
    float *out, size_t n_frames);
void rnn_model_denormalize_output (const rnn_model *m, const float *in,
    float *out, size_t n_frames);

/* --------------------------------------------------------------- tokenizer
 * SPEC section 4: Unicode lower-case, maximal runs of letters and digits
 * (general categories L* and N*), vocabulary lookup with unk. */

/* Strip pango markup (tags removed, entities unescaped). Returns a newly
 * allocated NUL-terminated string (free with free()) in *out. Malformed
 * markup is not an error: what cannot be parsed is kept as text. */
rnn_status rnn_markup_strip (const char *text, size_t len, char **out,
    rnn_error *err);

/* Tokenize @text (UTF-8, @len bytes; invalid sequences are replaced by
 * U+FFFD, which separates tokens) with the model's vocabulary. Writes at
 * most @max_ids ids to @ids and the total count of tokens found to *n_ids
 * (which may exceed @max_ids: the caller then truncates or grows). */
rnn_status rnn_model_tokenize (const rnn_model *m, const char *text,
    size_t len, int32_t *ids, size_t max_ids, size_t *n_ids, rnn_error *err);

/* Split @text into tokens without a vocabulary (for the trainer): calls
 * @cb with each lower-cased token (NUL-terminated, valid during the call).
 * Stops and returns the callback's non-zero value if it returns one. */
typedef int (*rnn_token_cb) (const char *token, size_t len, void *user);
int rnn_tokenize_foreach (const char *text, size_t len, rnn_token_cb cb,
    void *user);

/* ------------------------------------------------------------------- state */

typedef struct rnn_state rnn_state;

/* A stream's state for @m, zeroed. @m must outlive the state. Work buffers
 * are allocated here for calls of up to @max_frames frames (longer calls are
 * split internally), so rnn_state_forward never allocates. */
rnn_status rnn_state_new (const rnn_model *m, size_t max_frames,
    rnn_state **out, rnn_error *err);
void rnn_state_free (rnn_state *s);
const rnn_model *rnn_state_model (const rnn_state *s);

void rnn_state_reset (rnn_state *s);
/* Snapshot size in floats: h (and c for LSTM) of every layer and direction. */
size_t rnn_state_size (const rnn_state *s);
/* Copy the state out to / in from @buf of exactly rnn_state_size() floats. */
rnn_status rnn_state_get (const rnn_state *s, float *buf, size_t n,
    rnn_error *err);
rnn_status rnn_state_set (rnn_state *s, const float *buf, size_t n,
    rnn_error *err);
/* Copy the hidden state (not the work buffers) of @src into @dst; both must
 * belong to the same model. */
rnn_status rnn_state_copy (rnn_state *dst, const rnn_state *src,
    rnn_error *err);

/* Streaming forward over @n_frames >= 1 frames of raw (un-normalised)
 * signal input, carrying the state.
 * - head input `output`: @y receives n_frames * output_size values,
 *   de-normalised;
 * - other head inputs: @y receives output_size values computed over this
 *   call's frames (final hidden state after the call, or the mean).
 * A bidirectional layer treats each call as one closed sequence (its reverse
 * direction cannot run ahead of the stream), so chunking changes its result.
 * Fails with RNN_ERR_ARG on a text model. */
rnn_status rnn_state_forward (rnn_state *s, const float *x, size_t n_frames,
    float *y, rnn_error *err);

/* The same for a text model: token ids through the embedding. Ids out of
 * range are an RNN_ERR_ARG. */
rnn_status rnn_state_forward_ids (rnn_state *s, const int32_t *ids,
    size_t n_ids, float *y, rnn_error *err);

/* ---------------------------------------------------------------- training
 * (declarations added by the training work go below this line) */

#ifdef __cplusplus
}
#endif
#endif /* RNN_H */
