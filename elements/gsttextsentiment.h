/* gst-rnn: textsentiment, classifies text buffers with an embedding + RNN.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef GST_TEXT_SENTIMENT_H
#define GST_TEXT_SENTIMENT_H

#include <gst/gst.h>
#include "gstrnntext.h"

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
    TEXT_SENTIMENT, GstRnnText)

/* Which caps the source pad produces. */
typedef enum
{
  GST_TEXT_SENTIMENT_OUT_TENSOR,
  GST_TEXT_SENTIMENT_OUT_TEXT
} GstTextSentimentOutput;

struct _GstTextSentiment
{
  GstRnnText parent;

  /* property, under the object lock */
  GstTextSentimentContext context;

  /* streaming thread only (and state changes while it is stopped) */
  GstTextSentimentOutput output;
  float *logits;                /* model output size */
  float *probs;                 /* number of labels */
};

G_END_DECLS

#endif /* GST_TEXT_SENTIMENT_H */
