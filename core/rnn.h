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
  const float *data;      /* numel floats, owned by the rnn_tensors; NULL
                           * for dtypes not converted (BOOL, C64, F8, F4/F6) */
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
  RNN_TASK_CLASSIFY,
  RNN_TASK_TAG          /* a label per token (head input `output`) */
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
/* Values per output: the head's rows or, without a head, the width the head
 * would read (D*H_out; H_out for final_hidden, 2*H_out for final_hidden_both). */
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

/* Precision of the recurrent weights at run time (W_hh, and W_hr of an
 * LSTM projection; the input projections stay float32):
 * - RNN_PRECISION_F32: float32, PyTorch parity (the default);
 * - RNN_PRECISION_BF16: weights rounded to bfloat16 (8 significant bits),
 *   and the recurrent input vector too at each step; products summed in
 *   float32;
 * - RNN_PRECISION_INT8: weights as int8 with one symmetric scale per row
 *   (max |W_r| / 127); at each step the recurrent input vector is quantised
 *   to int8 with one scale (max |h| / 127); the dot products are exact in
 *   int32, then scaled back to float32.
 * Reduced precision trades a small, measured accuracy loss (docs/engine.md)
 * for fewer bytes of weights per step. Every value works on every CPU: the
 * kernels use AVX512-BF16 / AVX512-VNNI / AVX-VNNI where present, AVX2 or
 * portable C otherwise. */
typedef enum {
  RNN_PRECISION_F32,
  RNN_PRECISION_BF16,
  RNN_PRECISION_INT8
} rnn_precision;

/* "f32", "bf16", "int8". */
const char *rnn_precision_name (rnn_precision p);
/* Parse one of the names above; false (and *out untouched) otherwise. */
bool rnn_precision_from_name (const char *name, rnn_precision *out);

/* Convert @m's recurrent weights to @p (from the float32 parameters, so
 * switching back to f32 restores parity exactly). Rebuilds the engine's
 * prepared weights: call it before creating states of @m (existing states
 * must be freed first) and not while another thread uses @m. */
rnn_status rnn_model_set_precision (rnn_model *m, rnn_precision p,
    rnn_error *err);
rnn_precision rnn_model_precision (const rnn_model *m);

/* rnn_model_save with the recurrent weights (weight_hh, weight_hr) stored in
 * @precision: RNN_PRECISION_BF16 writes them as BF16, rounded exactly as
 * rnn_model_set_precision (BF16) rounds them, so the file is smaller and,
 * loaded with precision bf16, gives the same outputs as the f32 file;
 * RNN_PRECISION_F32 is rnn_model_save. RNN_PRECISION_INT8 is refused
 * (RNN_ERR_ARG): the model format has no int8 dtype. */
rnn_status rnn_model_save_precision (const rnn_model *m, const char *path,
    rnn_precision precision, rnn_error *err);

/* The name of the kernel set the engine uses on this CPU ("avx512-vnni-bf16",
 * "avx2", "generic", ...; see docs/engine.md). The environment variable
 * RNN_KERNELS=<name> forces a set the CPU supports. */
const char *rnn_kernels_name (void);

/* Normalisation from the metadata, in place allowed (@in may equal @out):
 * x' = (x - input.mean) / input.std and y' = y * output.std + output.mean,
 * each statistic applied on its own (an absent mean counts as 0, an absent
 * std as 1; without statistics these copy). n_frames frames of input_size
 * (resp. output_size) values. rnn_state_forward and rnn_state_forward_batch
 * apply exactly these. */
void rnn_model_normalize_input (const rnn_model *m, const float *in,
    float *out, size_t n_frames);
void rnn_model_denormalize_output (const rnn_model *m, const float *in,
    float *out, size_t n_frames);
/* The inverse of rnn_model_normalize_input: x = x' * std + mean. */
void rnn_model_denormalize_input (const rnn_model *m, const float *in,
    float *out, size_t n_frames);

/* ------------------------------------------------------ anomaly detector
 * Adaptive scoring of a one-step forecaster's prediction errors (the
 * `adaptive` scoring of gruanomaly; maths in docs/anomaly-scoring.md). The
 * caller runs the model; the detector judges each frame against the recent
 * distribution of errors, says what to feed the model instead of the frame
 * (anomalous frames are shrunk so the state is not poisoned; a level shift
 * is absorbed by an offset) and tracks anomaly start and end. One detector
 * serves @groups independent streams of @per features (a multivariate
 * frame: 1 group of output-size features; a univariate model run per
 * channel: one group per channel, 1 feature each). */
typedef struct rnn_detector rnn_detector;

typedef struct {
  /* Surprise at or above which a frame is anomalous: the output score is
   * -log10 of the probability of an error at least as large under the
   * recent distribution, so a threshold T is a false-alarm probability of
   * 10^-T per frame. */
  double threshold;
  unsigned window;   /* recent frames the error distribution is fitted on
                      * (>= 64) */
  int hold;          /* an anomaly lasts at least this many frames (the
                      * output holds the threshold after the start): -1
                      * the model's anomaly.hold, else 1 */
  int warmup;        /* frames after a reset that are not judged (score 0,
                      * no event); -1: the model's anomaly.warmup, else 16 */
} rnn_detector_config;

typedef enum {
  RNN_DETECTOR_NONE,
  RNN_DETECTOR_START,
  RNN_DETECTOR_END
} rnn_detector_event;

/* Defaults: threshold 5, window 8640, hold -1, warmup -1. */
void rnn_detector_config_init (rnn_detector_config *c);
/* A detector for @m (which must outlive it; @per must equal its output
 * size). Fails on invalid settings or anomaly.tail_* / anomaly.warmup
 * metadata that are not positive numbers. Caller owns *out. */
rnn_status rnn_detector_new (const rnn_model *m, size_t groups, size_t per,
    const rnn_detector_config *cfg, rnn_detector **out, rnn_error *err);
void rnn_detector_free (rnn_detector *d);
/* Forget a stream's history (all groups, or group @g): a new warm-up. An
 * anomaly in progress ends at the next frame. */
void rnn_detector_reset (rnn_detector *d);
void rnn_detector_reset_group (rnn_detector *d, size_t g);
void rnn_detector_set_threshold (rnn_detector *d, double threshold);
/* One frame of group @g: @xn its @per normalised values, @pn the model's
 * normalised prediction of them (NULL when there is none: the first frame
 * after a reset). Writes to @feed the @per normalised values to feed the
 * model for this frame, to *event what the frame did and to *peak the
 * highest output score of the current (or last) anomaly. Returns the
 * output score (>= 0; at or above the threshold while in an anomaly). */
double rnn_detector_step (rnn_detector *d, size_t g, const float *xn,
    const float *pn, float *feed, rnn_detector_event *event, double *peak);
/* What rnn_detector_step would feed the model for the next @n frames of
 * group @g (@xn: n * per normalised values) if none of them were shrunk
 * and each error were exact: per frame xn - b, b the level offset that
 * frame gets (it depends on the frames alone). The detector does not
 * change. A guess to run the model ahead on: rnn_detector_step still
 * decides each frame's feed, and a caller compares the two. */
void rnn_detector_guess_feed (rnn_detector *d, size_t g, const float *xn,
    size_t n, float *feed);
/* A snapshot of the whole history (to continue a stream after a restart
 * exactly): its size in floats, and copies out and in of exactly that many
 * (the floats hold bytes: store them bit for bit). */
size_t rnn_detector_state_size (const rnn_detector *d);
rnn_status rnn_detector_get_state (const rnn_detector *d, float *buf,
    size_t n, rnn_error *err);
rnn_status rnn_detector_set_state (rnn_detector *d, const float *buf,
    size_t n, rnn_error *err);

/* --------------------------------------------------------------- tokenizer
 * SPEC section 4: Unicode lower-case, maximal runs of letters and digits
 * (general categories L* and N*), vocabulary lookup with unk. */

/* Strip pango markup (tags removed, entities unescaped). Returns a newly
 * allocated NUL-terminated string (free with free()) in *out. Malformed
 * markup is not an error: what cannot be parsed is kept as text. */
rnn_status rnn_markup_strip (const char *text, size_t len, char **out,
    rnn_error *err);
/* The same, also saying where each byte of the plain text came from: plain
 * byte i was produced by markup bytes [(*from)[i], (*to)[i]) (a character
 * as is, an entity, or a whole CDATA section). Both arrays are newly
 * allocated (free with free()), one entry per plain byte. So a run of plain
 * bytes [s, e) is one stretch of the markup without tags exactly when every
 * (*to)[i] equals (*from)[i + 1] or the two bytes share their unit. */
rnn_status rnn_markup_strip_map (const char *text, size_t len, char **out,
    size_t **from, size_t **to, rnn_error *err);

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

/* The same walk, lower-casing only when @lowercase (the model's
 * `tokenizer.lowercase`), that also gives where each token is in @text:
 * bytes [start, end), original case. A token's bytes are those of the
 * characters it came from, so text[start, end) is the token as written
 * (lower-cased when @lowercase); invalid UTF-8 is never inside a token. */
typedef int (*rnn_token_span_cb) (const char *token, size_t len,
    size_t start, size_t end, void *user);
int rnn_tokenize_spans_foreach (const char *text, size_t len, bool lowercase,
    rnn_token_span_cb cb, void *user);

/* One token of a text: bytes [start, end) of the text it was found in, and
 * its vocabulary id. */
typedef struct {
  size_t start;
  size_t end;
  int32_t id;
} rnn_token;

/* rnn_model_tokenize with the position of every token: writes at most
 * @max_tokens tokens to @tokens and the total found to *n_tokens. A tagger
 * runs the tokens with rnn_state_forward_tokens and reports its labels at
 * these positions. */
rnn_status rnn_model_tokenize_spans (const rnn_model *m, const char *text,
    size_t len, rnn_token *tokens, size_t max_tokens, size_t *n_tokens,
    rnn_error *err);
/* The vocabulary id of one token (as the tokenizer gives it: lower-cased
 * unless the model keeps case), exactly as rnn_model_tokenize maps it,
 * unknown-word classes included (see docs/model-format.md); -1 when the
 * model has no vocabulary or @token is not UTF-8. */
int32_t rnn_model_token_id (const rnn_model *m, const char *token,
    size_t len);
/* The id @token gets when it is not in the vocabulary: its unknown-word
 * class (`tokenizer.unk_classes`) or tokenizer.unk_id. What a trainer
 * substitutes for word dropout. -1 as above. */
int32_t rnn_model_unknown_token_id (const rnn_model *m, const char *token,
    size_t len);

/* Unknown-word classes ("shape-suffix"): the vocabulary keys tried for an
 * unknown @token, most specific first ("<unk:Aa:ing>", ..., "<unk:Aa>"),
 * written NUL-terminated to @keys; returns how many (0 for an empty or
 * invalid UTF-8 token). A trainer counts these to choose the class entries
 * of its vocabulary. */
#define RNN_UNK_KEYS 4
#define RNN_UNK_KEY_MAX 40
int rnn_unk_class_keys (const char *token, size_t len,
    char keys[RNN_UNK_KEYS][RNN_UNK_KEY_MAX]);

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

/* The same for the tokens rnn_model_tokenize_spans found in @text (@len
 * bytes): what the text elements call, so that whatever a model derives
 * from a token (its id today) is computed here, in one place, for every
 * caller. Spans outside the text and ids out of range are an RNN_ERR_ARG.
 * For a tagger (head input `output`) @y receives n_tokens * output_size
 * values, one row per token; call rnn_state_reset first to run the text
 * as one closed sequence (both directions of a bidirectional stack then
 * see exactly this text, like PyTorch on the sentence alone). */
rnn_status rnn_state_forward_tokens (rnn_state *s, const char *text,
    size_t len, const rnn_token *tokens, size_t n_tokens, float *y,
    rnn_error *err);

/* ------------------------------------------------------ per-stream batch
 * One model run independently on N streams at once (e.g. a univariate
 * model on every channel of a multi-channel signal): the same results as N
 * rnn_state objects, each fed its own stream, but each recurrent step reads
 * the weights once for several streams. Unidirectional signal models (LSTM
 * projection included), head input `output` (or no head); others give
 * RNN_ERR_UNSUPPORTED. */
typedef struct rnn_batch_state rnn_batch_state;

/* A zeroed state for @n_streams streams of @m (which must outlive it), with
 * work buffers for calls of up to @max_frames frames (longer calls are
 * split), so rnn_batch_state_forward never allocates. Caller owns *out. */
rnn_status rnn_batch_state_new (const rnn_model *m, size_t n_streams,
    size_t max_frames, rnn_batch_state **out, rnn_error *err);
void rnn_batch_state_free (rnn_batch_state *s);
size_t rnn_batch_state_streams (const rnn_batch_state *s);
void rnn_batch_state_reset (rnn_batch_state *s);
/* Zero the state of stream @stream only (the others keep theirs);
 * RNN_ERR_ARG when out of range. */
rnn_status rnn_batch_state_reset_stream (rnn_batch_state *s, size_t stream,
    rnn_error *err);
/* Stream @stream's state, laid out as rnn_state_get's (@n must be what
 * rnn_state_size gives for the model). */
rnn_status rnn_batch_state_get_stream (const rnn_batch_state *s,
    size_t stream, float *buf, size_t n, rnn_error *err);
/* @x: n_frames x N x input_size floats (frame after frame, the streams
 * interleaved like the channels of an audio buffer), raw; @y receives
 * n_frames x N x output_size values, de-normalised. */
rnn_status rnn_batch_state_forward (rnn_batch_state *s, const float *x,
    size_t n_frames, float *y, rnn_error *err);

/* ---------------------------------------------------------------- training
 * (declarations added by the training work go below this line) */

/* Creating a model to train. PyTorch's default initialisation: every
 * recurrent parameter U(-1/sqrt(H), 1/sqrt(H)); head weight and bias
 * U(-1/sqrt(in), 1/sqrt(in)); embedding N(0, 1) with the padding row zeroed.
 * The numbers come from the project's own seeded generator, so they differ
 * from PyTorch's but have the same distributions; the same seed always gives
 * the same bytes. */
typedef struct {
  rnn_cell cell;
  int input_size;            /* features per frame (signal model) */
  int vocab_size;            /* > 0: text model, embedding [vocab, embed_dim] */
  int embed_dim;             /* input size of a text model */
  int padding_idx;           /* embedding row kept at zero; -1 for none */
  int hidden_size;           /* H */
  int num_layers;            /* >= 1 */
  bool bidirectional;
  int proj_size;             /* must be 0: LSTM projection trains only in PyTorch */
  int head_out;              /* rows of the linear head; 0: no head */
  rnn_head_input head_input;
  rnn_task task;             /* written as the `task` metadata (NONE: none) */
} rnn_model_config;

/* Fill @cfg with defaults: 1-layer unidirectional LSTM, H = 64,
 * input_size 1, no embedding (padding_idx -1), head of 1 output reading
 * `output`, task none. */
void rnn_model_config_init (rnn_model_config *cfg);

/* A new model from @cfg, initialised from @seed. The model's metadata holds
 * `task` (unless NONE), `head.input` and, for a relu RNN,
 * `rnn.nonlinearity`; module prefixes are the defaults (`lstm`, `gru` or
 * `rnn`; `fc`; `embedding`). The caller owns *out (rnn_model_free). */
rnn_status rnn_model_new (const rnn_model_config *cfg, uint64_t seed,
    rnn_model **out, rnn_error *err);

/* Set (or with @value NULL remove) a metadata entry of @m, written by
 * rnn_model_save. `task`, `head.input`, `window` and the tokenizer keys
 * (`tokenizer.vocab`, `.unk_id`, `.pad_id`, `.lowercase`, `.unk_classes`)
 * also take effect at once, so a trainer can tokenize with the model it
 * builds; the other typed keys (normalisation, labels, anomaly statistics)
 * take effect when the saved file is loaded again.
 * Do not call while another thread uses @m. */
rnn_status rnn_model_set_meta (rnn_model *m, const char *key,
    const char *value, rnn_error *err);

/* Training. A trainer updates the parameters of one model in place and owns
 * the gradients, the optimiser state, the activations kept for backward and
 * its random generator. While a trainer exists the model is not read-only:
 * do not run it in other threads. After steps, call rnn_trainer_sync before
 * running the model with rnn_state_* (states must be created after it). */
typedef struct rnn_trainer rnn_trainer;

typedef enum {
  RNN_OPTIM_ADAM,       /* torch.optim.Adam (amsgrad off) */
  RNN_OPTIM_SGD         /* torch.optim.SGD (dampening 0) */
} rnn_optimizer;

typedef enum {
  /* nn.MSELoss (mean over every element): float targets shaped like the
   * outputs the loss reads */
  RNN_LOSS_MSE,
  /* nn.CrossEntropyLoss (mean over rows): one int32 class per output row */
  RNN_LOSS_CROSS_ENTROPY,
  /* nn.BCEWithLogitsLoss (mean over every element): float 0/1 targets,
   * for a 1-output (sigmoid) classifier */
  RNN_LOSS_BCE_LOGITS
} rnn_loss;

typedef enum {
  /* Head `output`: every valid frame of every sequence ([B, T, out],
   * padded frames excluded); other heads: their one row per sequence. */
  RNN_TARGET_ALL,
  /* Head `output` only: the last valid frame of each sequence ([B, out]),
   * like `fc(out[:, -1, :])` in the tutorial's forecaster. */
  RNN_TARGET_LAST
} rnn_target;

typedef struct {
  rnn_optimizer optimizer;
  double lr;                 /* learning rate */
  double beta1, beta2, eps;  /* Adam */
  double momentum;           /* SGD */
  bool nesterov;             /* SGD */
  double weight_decay;       /* L2 added to the gradient, both optimisers */
  double dropout;            /* between stacked layers, training calls only */
  rnn_loss loss;
  rnn_target target;
  /* Stateful (truncated BPTT over a continuous stream): the final state of
   * each call becomes the initial state of the next (detached: gradients
   * stop at the call boundary), so a call of T frames is one truncation
   * window. Needs the same batch size on every call until
   * rnn_trainer_reset_state. false: every call starts from zero state. */
  bool stateful;
  uint64_t seed;             /* dropout masks */
} rnn_train_config;

/* Defaults: Adam, lr 1e-3, betas (0.9, 0.999), eps 1e-8, momentum 0,
 * weight decay 0, dropout 0, MSE on every frame, not stateful, seed 0. */
void rnn_train_config_init (rnn_train_config *cfg);

/* A trainer for @m (which must outlive it and must have no LSTM projection).
 * Gradients start at zero. The caller owns *out (rnn_trainer_free). */
rnn_status rnn_trainer_new (rnn_model *m, const rnn_train_config *cfg,
    rnn_trainer **out, rnn_error *err);
void rnn_trainer_free (rnn_trainer *t);

/* A minibatch of B sequences padded to T frames, batch-first. */
typedef struct {
  size_t batch;              /* B >= 1 */
  size_t frames;             /* T >= 1 */
  const float *x;            /* signal model: [B, T, input_size], normalised */
  const int32_t *ids;        /* text model: [B, T] token ids */
  /* [B] valid frames per sequence (1 .. T) or NULL for all T. Like
   * pack_padded_sequence: the state stops at a sequence's last valid frame,
   * the reverse direction starts there, padded outputs are zero. */
  const size_t *lengths;
  /* Targets for the configured loss and target (see rnn_loss, rnn_target):
   * float [rows, out] for MSE/BCE, int32 [rows] classes for cross-entropy,
   * where rows is B (sequence heads or RNN_TARGET_LAST) or the B*T frames in
   * batch-first order (RNN_TARGET_ALL with head `output`; padded frames are
   * ignored but must be present). */
  const float *y;
  const int32_t *classes;
} rnn_minibatch;

/* Training-mode forward (dropout on) over @b, loss, and backward: ADDS the
 * loss's gradients to the trainer's gradients (call rnn_trainer_zero_grad
 * before each minibatch, as with PyTorch). *loss receives the mean loss.
 * When @outputs is not NULL it receives the model outputs the loss reads
 * (rows x output_size floats, see rnn_minibatch.y). */
rnn_status rnn_trainer_backward (rnn_trainer *t, const rnn_minibatch *b,
    double *loss, float *outputs, rnn_error *err);

/* Eval-mode forward (no dropout, gradients untouched) and loss; the same
 * outputs as rnn_trainer_backward. A stateful trainer carries its state
 * through this call too. @loss may be NULL, and the targets then too. */
rnn_status rnn_trainer_evaluate (rnn_trainer *t, const rnn_minibatch *b,
    double *loss, float *outputs, rnn_error *err);

void rnn_trainer_zero_grad (rnn_trainer *t);
/* Zero the carried state of a stateful trainer. */
void rnn_trainer_reset_state (rnn_trainer *t);

/* torch.nn.utils.clip_grad_norm_: the L2 norm over all gradients; when
 * max_norm / (norm + 1e-6) < 1 every gradient is scaled by it. Returns the
 * norm before clipping (max_norm <= 0: only measures). */
double rnn_trainer_clip_grad_norm (rnn_trainer *t, double max_norm);

/* One optimiser step with the current gradients (PyTorch formulas). */
rnn_status rnn_trainer_step (rnn_trainer *t, rnn_error *err);

/* Set the learning rate (schedules). */
void rnn_trainer_set_lr (rnn_trainer *t, double lr);

/* Rebuild the model's inference engine from the updated parameters. */
rnn_status rnn_trainer_sync (rnn_trainer *t, rnn_error *err);

/* The trained parameters, in PyTorch state_dict order. */
typedef struct {
  const char *name;          /* state_dict name, e.g. "lstm.weight_ih_l0" */
  int ndim;                  /* 1 or 2 */
  int64_t shape[2];
  size_t numel;
  float *value;              /* the model's array (owned by the model) */
  float *grad;               /* its gradient (owned by the trainer) */
} rnn_param;

size_t rnn_trainer_num_params (const rnn_trainer *t);
/* The i-th parameter, NULL when out of range; valid while @t lives. */
const rnn_param *rnn_trainer_param (const rnn_trainer *t, size_t i);

#ifdef __cplusplus
}
#endif
#endif /* RNN_H */
