/* gst-rnn: the signal caps grammar of the signal elements (lstmforecast,
 * gruanomaly): pure functions on caps, no element state, unit-tested on
 * their own (tests/elements/test-signalcaps.c).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Two families: `audio/x-raw, format=F32LE, layout=interleaved` (channels =
 * features, rate = frames per second) and `other/tensors, format=static,
 * num_tensors=1, types=float32, dimensions=F:N, framerate=R` (F features by
 * N frames per buffer). An unquoted `F:N` in a caps string parses as a
 * GstFlagSet (flags F masked by N, both read as hex), which loses bits of F,
 * and fixating it sets the mask to all ones, losing N: see
 * gst_rnn_signal_caps_parse.
 */
#ifndef GST_RNN_SIGNAL_CAPS_H
#define GST_RNN_SIGNAL_CAPS_H

#include <gst/gst.h>

G_BEGIN_DECLS

/* The pad template caps of both pads. */
#define GST_RNN_SIGNAL_CAPS \
  "audio/x-raw, format=(string)F32LE, layout=(string)interleaved, " \
  "rate=(int)[1,MAX], channels=(int)[1,MAX]; " \
  "other/tensors, format=(string)static, num_tensors=(int)1, " \
  "types=(string)float32, framerate=(fraction)[1/2147483647,MAX]"

/* What one caps structure says. */
typedef struct {
  gboolean tensors;      /* other/tensors, else audio/x-raw */
  guint features;        /* 0: unknown (a flag-set) */
  guint frames;          /* tensors: N, 0 when unknown */
  gboolean flagset;      /* dimensions came as a flag-set */
  guint flags, mask;     /* the flag-set as parsed */
  gint rate_n, rate_d;   /* frames per second */
} GstRnnSignalCaps;

/* Parse "F", "F:N" or "F:N:1:..." (trailing 1s ignored, as NNStreamer
 * does); both > 0. */
gboolean gst_rnn_signal_caps_parse_dims (const gchar * str, guint * features,
    guint * frames);

/* Fill @sc from a fixed caps structure; FALSE with a newly allocated
 * reason in *why when it cannot be used. */
gboolean gst_rnn_signal_caps_parse (const GstStructure * s,
    GstRnnSignalCaps * sc, gchar ** why);

/* Whether a flag-set @sc (flagset TRUE) can be the unquoted form of
 * @features:N: the bits that survived agree with @features. */
gboolean gst_rnn_signal_caps_flagset_fits (const GstRnnSignalCaps * sc,
    guint features);

/* The caps on the other pad for @caps on the @direction pad (sink: what
 * the src pad can give; src: what the sink pad takes). @model_in /
 * @model_out: the loaded model's sizes, 0 when unknown (no model: any
 * count). With a model, the sink side offers only @model_in channels or
 * features, so converters upstream adapt to the model. @per_channel: the
 * caps carry over as they are (one output per input channel). Returns new
 * caps (not intersected with any filter). */
GstCaps *gst_rnn_signal_caps_transform (GstPadDirection direction,
    const GstCaps * caps, guint model_in, guint model_out,
    gboolean per_channel);

/* A caps query on the sink pad with @filter (what upstream can give) was
 * answered with @result. When @result is empty only because of the channel
 * count (the filter is F32LE interleaved audio otherwise acceptable),
 * returns the channel count upstream offers as text ("5", "[ 3, 4 ]"),
 * newly allocated; else NULL. */
gchar *gst_rnn_signal_caps_refused_channels (const GstCaps * filter,
    const GstCaps * result);

G_END_DECLS

#endif /* GST_RNN_SIGNAL_CAPS_H */
