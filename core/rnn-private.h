/* gst-rnn: definitions shared by the files of core/ (not installed).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef RNN_PRIVATE_H
#define RNN_PRIVATE_H

#include "rnn.h"
#include <glib.h>

/* Parameters of one direction of one layer, PyTorch layout.
 * G = 4 (LSTM rows i,f,g,o), 3 (GRU rows r,z,n) or 1 (RNN). */
typedef struct {
  int in;            /* columns of w_ih */
  float *w_ih;       /* [G*H, in] */
  float *w_hh;       /* [G*H, Hout] */
  float *b_ih;       /* [G*H], zeros when the file has none */
  float *b_hh;       /* [G*H], zeros when the file has none */
  float *w_hr;       /* [P, H] or NULL */
} rnn_dir_params;

/* Ownership inside a model: every pointer below is allocated with g_malloc
 * (or g_new/g_strdup) on its own and freed by rnn_model_free with g_free;
 * the hash tables own their keys and values (g_free). Module prefixes used
 * for saving are kept in meta ("rnn.module", "head.module",
 * "embedding.module"); when absent, rnn_model_save writes "rnn" (or the
 * cell's conventional name), "fc" and "embedding". */
struct rnn_model {
  char *name;                 /* path or name for messages */
  rnn_cell cell;
  rnn_task task;
  int gates;                  /* G */
  int num_layers;
  int num_dirs;
  int hidden;                 /* H */
  int proj;                   /* P, 0 if none */
  int hout;                   /* P if proj else H */
  int input_size;             /* features per frame, or embedding dim */
  rnn_dir_params *params;     /* [num_layers * num_dirs], index layer*D+dir */

  /* embedding: [vocab, embed] or NULL */
  float *emb;
  int vocab;

  /* head: [head_out, head_in] + [head_out], or NULL (no head) */
  float *head_w;
  float *head_b;
  int head_in;
  int head_out;
  rnn_head_input head_input;
  int output_size;            /* head_out, or D*hout without a head */

  /* normalisation, NULL when absent */
  float *in_mean, *in_std;    /* [input_size] */
  float *out_mean, *out_std;  /* [output_size] */

  /* metadata */
  GHashTable *meta;           /* char* -> char*, all metadata as read */
  char **labels;              /* num_labels strings */
  int num_labels;
  GHashTable *vocab_index;    /* token -> GINT_TO_POINTER(id + 1) */
  int unk_id, pad_id;
  bool keep_case;             /* tokenizer.lowercase=false */
  bool unk_classes;           /* tokenizer.unk_classes = shape-suffix */
  float *anom_mean, *anom_std;  /* [output_size] */
  double anom_threshold;
  unsigned window;

  /* Precision of the recurrent weights in the engine (rnn_model_set_precision). */
  rnn_precision precision;

  /* Engine-private data (packed weights), built by rnn__engine_prepare. */
  void *engine;
};

/* The @m largest of the @n values of @src (1 <= m <= n), ascending: the
 * last m entries of @src sorted, bit for bit (anomaly.c's tail fit). They
 * are left in @scratch (room for @n floats), at the returned address.
 * @guess only steers the work (a value near the m-th largest is fastest). */
const float *rnn__largest_sorted (float *scratch, const float *src, size_t n,
    size_t m, float guess);

/* Implemented by the forward engine: build/free model->engine after the
 * loader has filled the parameters. */
rnn_status rnn__engine_prepare (rnn_model *m, rnn_error *err);
void rnn__engine_release (rnn_model *m);

/* Fill @err (may be NULL) and return @code. printf-style. */
rnn_status rnn__set_error (rnn_error *err, rnn_status code, const char *fmt,
    ...) G_GNUC_PRINTF (3, 4);

/* Shared by the loader, the saver and the trainer (defined in model.c). */

/* The rnn.head.input metadata spelling of @h ("output", "final_hidden",
 * "final_hidden_both", "mean"). */
const char *rnn__head_input_name (rnn_head_input h);

/* rnn_tensors_write, with tensor i stored as BF16 (rounded to nearest even
 * like precision=bf16) where @bf16[i] is true; @bf16 NULL: all F32. */
rnn_status rnn__tensors_write (const char *path, size_t n,
    const char *const *names, const int *ndims, const int64_t *const *shapes,
    const float *const *data, const bool *bf16, size_t n_meta,
    const char *const *meta_keys, const char *const *meta_values,
    rnn_error *err);

/* The head input mode spelled @name (as rnn__head_input_name writes it):
 * true and *out set, or false for another name. */
bool rnn__head_input_parse (const char *name, rnn_head_input *out);

/* The cell named @name (as rnn_cell_name writes it: "lstm", "gru",
 * "rnn_tanh", "rnn_relu"): true and *out set, or false for another name. */
bool rnn__cell_parse (const char *name, rnn_cell *out);

/* The task named @name ("forecast", "anomaly", "classify", "tag"): true
 * and *out set, or false for another name. */
bool rnn__task_parse (const char *name, rnn_task *out);

/* The module prefix of the recurrent stack when rnn.module is absent
 * ("lstm", "gru" or "rnn"). */
const char *rnn__cell_module (rnn_cell cell);

/* "<prefix>.<leaf>", or @leaf alone for an empty or NULL prefix: the
 * state_dict name of a module's tensor (g_free). */
char *rnn__tensor_name (const char *prefix, const char *leaf);

/* Writes a shape as "[4,8]" into @buf (truncated to @len) and returns @buf. */
const char *rnn__format_shape (const int64_t *shape, int ndim, char *buf,
    size_t len);

/* The vocabulary lookup (vocab.c): the id of @token (after the
 * tokenizer's lower-casing), unknown-word classes included, and the id it
 * gets as an unknown word. */
int32_t rnn__vocab_id (const rnn_model *m, const char *token, size_t len);
int32_t rnn__vocab_unknown_id (const rnn_model *m, const char *token,
    size_t len);
/* Replace m->vocab_index from a tokenizer.vocab JSON array (NULL: empty);
 * its length must be the embedding's rows. @name is used in messages. */
rnn_status rnn__vocab_set (rnn_model *m, const char *value, const char *name,
    rnn_error *err);
/* tokenizer.unk_classes: NULL (none) or "shape-suffix". */
rnn_status rnn__unk_classes_parse (const char *value, const char *name,
    bool *out, rnn_error *err);

#endif /* RNN_PRIVATE_H */
