/* gst-rnn: textsentiment, classifies text buffers with an embedding + RNN.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef GST_TEXT_SENTIMENT_H
#define GST_TEXT_SENTIMENT_H

#include <gst/gst.h>
#include "rnn.h"
#include "gstrnncommon.h"

G_BEGIN_DECLS

/**
 * GstTextSentimentContext:
 * @GST_TEXT_SENTIMENT_CONTEXT_UTTERANCE: every text is classified from a
 *   zero state.
 * @GST_TEXT_SENTIMENT_CONTEXT_STREAM: the state is carried from one text to
 *   the next (the running sentiment of a conversation).
 *
 * How much of the stream one prediction sees.
 */
typedef enum
{
  GST_TEXT_SENTIMENT_CONTEXT_UTTERANCE,
  GST_TEXT_SENTIMENT_CONTEXT_STREAM
} GstTextSentimentContext;

#define GST_TYPE_TEXT_SENTIMENT_CONTEXT (gst_text_sentiment_context_get_type ())
GType gst_text_sentiment_context_get_type (void);

#define GST_TYPE_TEXT_SENTIMENT (gst_text_sentiment_get_type ())
G_DECLARE_FINAL_TYPE (GstTextSentiment, gst_text_sentiment, GST,
    TEXT_SENTIMENT, GstElement)

/* Which caps the source pad produces. */
typedef enum
{
  GST_TEXT_SENTIMENT_OUT_NONE,
  GST_TEXT_SENTIMENT_OUT_TENSOR,
  GST_TEXT_SENTIMENT_OUT_TEXT
} GstTextSentimentOutput;

struct _GstTextSentiment
{
  GstElement element;

  GstPad *sinkpad;
  GstPad *srcpad;

  /* properties, under the object lock */
  GstRnnModelSlot slot;         /* model-file and a change while running */
  gboolean reset_on_discont;
  gboolean post_messages;
  GstTextSentimentContext context;
  guint max_tokens;
  GstRnnLifecycle lc;           /* reset requests, flush seen */
  GstCaps *src_caps;            /* what the source pad can produce with the
                                 * loaded model; NULL when none is loaded */

  /* streaming thread only (and state changes while it is stopped) */
  rnn_model *model;
  rnn_state *state;
  GstCaps *sink_caps;
  gboolean markup;              /* sink format is pango-markup */
  GstTextSentimentOutput output;
  GstSegment segment;
  gboolean discont_pending;     /* mark the next output buffer DISCONT */
  gboolean truncation_warned;
  gboolean negotiation_failed;  /* error posted, not again until success */
  int32_t *ids;                 /* token buffer */
  gsize ids_size;
  float *logits;                /* model output size */
  float *probs;                 /* number of labels */
};

G_END_DECLS

#endif /* GST_TEXT_SENTIMENT_H */
