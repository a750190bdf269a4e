/* gst-rnn: GstRnnText, the abstract base of the elements that run a text
 * model on every text buffer (textsentiment, texttagger).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The base owns what both do the same way: the sink pad (`text/x-raw`,
 * utf8 or pango-markup; one buffer is one text), the `model-file`,
 * `reset-on-discont`, `post-messages` and `max-tokens` properties and the
 * `reset` action signal, loading and checking the model in start() and
 * switching to a new one set while running, stripping the markup,
 * tokenizing with the model's vocabulary (invalid UTF-8 separates tokens)
 * under the max-tokens limit, the reset triggers, source caps negotiation
 * among the caps the subclass can produce, GAP events for texts without
 * tokens, and pushing outputs with the input's timestamps. A subclass sees
 * texts that hold at least one token.
 */
#ifndef GST_RNN_TEXT_H
#define GST_RNN_TEXT_H

#include <gst/gst.h>
#include "rnn.h"
#include "gstrnncommon.h"

G_BEGIN_DECLS

#define GST_TYPE_RNN_TEXT (gst_rnn_text_get_type ())
G_DECLARE_DERIVABLE_TYPE (GstRnnText, gst_rnn_text, GST, RNN_TEXT,
    GstElement)

struct _GstRnnTextClass
{
  GstElementClass parent_class;

  /* set in class_init */
  rnn_task task;                /* the model task this element runs */

  /* The element's own checks of a text model (the base has checked the
   * task, the embedding, the vocabulary and the head): FALSE with a newly
   * allocated reason naming @path in *why. No side effects; may run in
   * the thread that sets model-file. */
  gboolean (*check_model) (GstRnnText * self, const rnn_model * model,
      const gchar * path, gchar ** why);
  /* The caps the source pad can produce with @model, in order of
   * preference (a new reference); negotiation picks the first structure
   * downstream accepts. May run in the thread that sets model-file. */
  GstCaps *(*make_src_caps) (GstRnnText * self, const rnn_model * model);
  /* Streaming thread (or start()): @model is now the one in use; size the
   * element's buffers for it. */
  void (*model_loaded) (GstRnnText * self, const rnn_model * model);
  /* Streaming thread: downstream accepted @s (fixed), the output format
   * until the next negotiation. */
  void (*caps_chosen) (GstRnnText * self, const GstStructure * s);
  /* Streaming thread: run the model on a text of @n_tokens >= 1 tokens
   * (@text, @len: the text with markup removed; the spans index it) and
   * push the output with gst_rnn_text_push(). @inbuf stays owned by the
   * base. The state is as the reset triggers left it. */
  GstFlowReturn (*process) (GstRnnText * self, GstBuffer * inbuf,
      const gchar * text, gsize len, const rnn_token * tokens,
      gsize n_tokens);
  /* stop(): free what model_loaded allocated. */
  void (*release) (GstRnnText * self);

  /* set in class_init: keep, for pango-markup texts, where each byte of
   * the plain text came from (gst_rnn_text_get_markup) */
  gboolean markup_origins;

  /* defaults of the properties (set by
   * gst_rnn_text_class_install_properties) */
  gboolean post_messages_default;
  guint max_tokens_default;

  gpointer _padding[3];
};

/* Installs `model-file`, `reset-on-discont`, `post-messages` (whose
 * default and description are the element's) and `max-tokens` on @klass
 * and the `reset` action signal (call from class_init; keep one doc block
 * per property in the element). Subclasses number their own properties
 * below GST_RNN_TEXT_PROP_FIRST and chain unknown ids to the parent's
 * set_property/get_property. */
#define GST_RNN_TEXT_PROP_FIRST 100
void gst_rnn_text_class_install_properties (GstRnnTextClass * klass,
    const gchar * model_file_blurb, gboolean post_messages_default,
    const gchar * post_messages_blurb, guint max_tokens_default,
    const gchar * max_tokens_blurb);

/* For subclasses, streaming thread only (and start/stop). */
rnn_model *gst_rnn_text_get_model (GstRnnText * self);
rnn_state *gst_rnn_text_get_state (GstRnnText * self);
const GstSegment *gst_rnn_text_get_segment (GstRnnText * self);
/* The source pad. */
GstPad *gst_rnn_text_get_srcpad (GstRnnText * self);
/* Whether `post-messages` is set (takes the object lock). */
gboolean gst_rnn_text_post_messages (GstRnnText * self);
/* Push @out (ownership taken) for the text @inbuf: the input's PTS, DTS
 * and duration, DISCONT on the first output after a discontinuity. */
GstFlowReturn gst_rnn_text_push (GstRnnText * self, GstBuffer * inbuf,
    GstBuffer * out);

/* Inside process(), for a pango-markup text when the class set
 * markup_origins: the markup as received and, for each byte of the plain
 * text process() got, the markup bytes [from[i], to[i]) it came from (see
 * rnn_markup_strip_map). FALSE for utf8 input. Valid during process(). */
gboolean gst_rnn_text_get_markup (GstRnnText * self, const gchar ** markup,
    gsize * len, const gsize ** from, const gsize ** to);

/* A buffer holding the text of @s (taken and freed). */
GstBuffer *gst_rnn_text_buffer_from_string (GString * s);

/* Numerically safe softmax of @n values in double precision (the maximum
 * subtracted before exp()). */
void gst_rnn_text_softmax (const float *z, int n, float *p);

G_END_DECLS

#endif
