/* gst-rnn: GstRnnSignal, the abstract base of the elements that run a model
 * over a signal (lstmforecast, gruanomaly).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The base owns what every signal element does the same way: the
 * `model-file`, `reset-on-discont` and `post-messages` properties and the
 * `reset` action signal, model loading in start(), the two signal caps
 * families (audio/x-raw F32LE and other/tensors float32) and their
 * negotiation, the reset triggers, GAP handling, non-finite input and the
 * latency query. A subclass sees only frames: runs of finite input frames of
 * `in_features` floats, for which it writes `out_features` floats per frame.
 */
#ifndef GST_RNN_SIGNAL_H
#define GST_RNN_SIGNAL_H

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>
#include "rnn.h"
#include "gstrnncommon.h"

G_BEGIN_DECLS

#define GST_TYPE_RNN_SIGNAL (gst_rnn_signal_get_type ())
G_DECLARE_DERIVABLE_TYPE (GstRnnSignal, gst_rnn_signal, GST, RNN_SIGNAL,
    GstBaseTransform)

/* The per-stream format, fixed by the caps (streaming thread only). */
typedef struct {
  gboolean tensors;      /* other/tensors (TRUE) or audio/x-raw (FALSE) */
  guint in_features;     /* floats per input frame */
  guint out_features;    /* floats per output frame */
  gint rate_n, rate_d;   /* frames per second, as a fraction */
  guint caps_frames;     /* frames per buffer from the tensor caps, 0 if unknown */
} GstRnnSignalFormat;

struct _GstRnnSignalClass {
  GstBaseTransformClass parent_class;

  /* set in class_init */
  rnn_task task;                   /* the model task this element runs */
  gboolean post_messages_default;

  /* Can the subclass run @model with its properties? No side effects, no
   * message: FALSE with a newly allocated reason in *why. @running: the
   * model is a change while running (called in the setting thread; the
   * settings fixed at start stay as they are), else it is being loaded by
   * start(). The base posts the error (start) or warning (running). */
  gboolean (*check_model) (GstRnnSignal * self, const rnn_model * model,
      gboolean running, gchar ** why);
  /* @model passed check_model and becomes the one in use (start(), or the
   * streaming thread at a change while running): take defaults from it.
   * setup() follows when the format is known. */
  void (*model_loaded) (GstRnnSignal * self, const rnn_model * model,
      gboolean running);
  /* Output floats per frame for this model (e.g. its output size). */
  guint (*output_features) (GstRnnSignal * self, const rnn_model * model);
  /* The format is known or changed: (re)allocate per-stream state for
   * @format (the state must end up zeroed). Return FALSE after posting
   * GST_ELEMENT_ERROR. */
  gboolean (*setup) (GstRnnSignal * self, const rnn_model * model,
      const GstRnnSignalFormat * format);
  /* Zero the per-stream state (a reset trigger fired). */
  void (*reset) (GstRnnSignal * self);
  /* Process @n_frames finite frames starting at frame @first of the
   * current input buffer: @in holds n_frames * in_features floats, @out
   * receives n_frames * out_features floats. Return FALSE after posting
   * GST_ELEMENT_ERROR. */
  gboolean (*process) (GstRnnSignal * self, const gfloat * in, gfloat * out,
      guint n_frames, guint first);
  /* Optional: called once the output buffer is complete (timestamps set). */
  void (*finish_buffer) (GstRnnSignal * self, GstBuffer * outbuf);
  /* Optional: the offset added to output timestamps (lstmforecast: the
   * horizon). Default 0. */
  GstClockTime (*output_offset) (GstRnnSignal * self);
  /* Free the per-stream state (stop()). */
  void (*release) (GstRnnSignal * self);
  /* Per-channel mode: zero the state of @channel only (it held NaN or
   * infinity). Without it a non-finite value resets every channel. */
  void (*reset_channel) (GstRnnSignal * self, guint channel);
  /* `state-file`: add the per-stream state (after setup(), streaming
   * stopped) to @w under names of the subclass's choice ... */
  void (*save_state) (GstRnnSignal * self, GstRnnStateWriter * w);
  /* ... and set it back from a file read at start, at the first buffer
   * (after setup()): FALSE with a newly allocated reason in *why when the
   * file does not fit the element as configured. */
  gboolean (*restore_state) (GstRnnSignal * self, const rnn_tensors * file,
      gchar ** why);

  gpointer _padding[3];
};

/* Property id the base uses for `post-messages`; subclasses number their
 * own properties below it and chain unknown ids to the parent's
 * set_property/get_property. */
#define GST_RNN_SIGNAL_PROP_POST_MESSAGES 100

/* Installs `post-messages` on the subclass @klass with its own default
 * and description (call from class_init). */
void gst_rnn_signal_class_install_post_messages (GstRnnSignalClass * klass,
    gboolean default_value, const gchar * blurb);

/* For subclasses, streaming thread only. */
const GstRnnSignalFormat *gst_rnn_signal_get_format (GstRnnSignal * self);
const rnn_model *gst_rnn_signal_get_model (GstRnnSignal * self);
/* Whether the element runs in per-channel mode (fixed when going to PAUSED):
 * a univariate model on each of the format's in_features channels, with
 * out_features == in_features. */
gboolean gst_rnn_signal_get_per_channel (GstRnnSignal * self);
/* Per-channel mode, inside process(): NULL, or for a frame where some
 * channels held NaN or infinity, one flag per channel, non-zero for those
 * (their input was replaced by 0 and their output will be NaN, then
 * reset_channel() is called for each: the subclass must not act on them,
 * e.g. post messages). */
const guint8 *gst_rnn_signal_get_bad_channels (GstRnnSignal * self);
/* Duration of @n frames: at the frame period of the input buffer being
 * processed (or the last one) when it has a duration (its duration / its
 * frames: timestamps are the truth, a caps rate may be nominal), else at
 * the negotiated rate. */
GstClockTime gst_rnn_signal_frames_to_time (GstRnnSignal * self, guint64 n);
/* PTS of frame @i of the input buffer being processed (NONE if unknown). */
GstClockTime gst_rnn_signal_frame_pts (GstRnnSignal * self, guint i);
/* The input segment (TIME) for running/stream time of messages. */
const GstSegment *gst_rnn_signal_get_segment (GstRnnSignal * self);
/* Whether `post-messages` is set (takes the object lock). */
gboolean gst_rnn_signal_post_messages (GstRnnSignal * self);

G_END_DECLS

#endif
