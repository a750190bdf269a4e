/* gst-rnn: texttagger, a label for every token of a text (parts of speech,
 * named entities) with an embedding + bidirectional RNN.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef GST_TEXT_TAGGER_H
#define GST_TEXT_TAGGER_H

#include <gst/gst.h>
#include "gstrnntext.h"

G_BEGIN_DECLS

#define GST_TYPE_TEXT_TAGGER (gst_text_tagger_get_type ())
G_DECLARE_FINAL_TYPE (GstTextTagger, gst_text_tagger, GST, TEXT_TAGGER,
    GstRnnText)

/* Which caps the source pad produces. */
typedef enum
{
  GST_TEXT_TAGGER_OUT_MARKUP,
  GST_TEXT_TAGGER_OUT_TEXT,
  GST_TEXT_TAGGER_OUT_TENSOR
} GstTextTaggerOutput;

struct _GstTextTagger
{
  GstRnnText parent;

  /* properties, under the object lock */
  gchar *highlight_tags;        /* comma-separated; NULL or "": all but O */
  gchar *span_attributes;

  /* streaming thread only (and state changes while it is stopped) */
  GstTextTaggerOutput output;
  gsize caps_tokens;            /* T of the tensor caps set, 0: none yet */
  gboolean bio;                 /* the labels are a BIO/IOB2 set */
  int n_tags;
  float *logits;                /* [T, n_tags], grown with T */
  float *probs;                 /* [T, n_tags] */
  int *best;                    /* [T] */
  gsize cap;                    /* tokens the three buffers hold */
};

G_END_DECLS

#endif /* GST_TEXT_TAGGER_H */
