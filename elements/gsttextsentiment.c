/* gst-rnn: textsentiment, classifies text buffers with an embedding + RNN.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-textsentiment
 * @title: textsentiment
 *
 * Classifies every text buffer (a subtitle, a chat line, a transcript
 * segment) with a recurrent text classifier: the text is tokenized with the
 * model's vocabulary, the token ids go through the embedding and the
 * recurrent layers, and the head's outputs become class probabilities
 * (softmax for two or more outputs; for a single output p = sigmoid(z) and
 * the probabilities are [1 - p, p]).
 *
 * The model is a safetensors file with `task=classify`, an embedding, a
 * recurrent stack (LSTM, GRU or RNN, stacked and bidirectional allowed) and
 * a linear head that reads `h_n[-1]` (`head.input=final_hidden`, the
 * default), both directions of the top layer (`final_hidden_both`) or the
 * mean of the top-layer outputs over the text (`mean`). A PyTorch
 * `state_dict()` of the tutorial's `LSTMClassifier` saves directly to it.
 *
 * The source pad produces, depending on what downstream accepts, either
 * `other/tensors, format=static, num_tensors=1, types=float32,
 * dimensions=(string)C:1, framerate=0/1` (C = number of classes; one float32
 * probability per class) or `text/x-raw, format=utf8` holding the winning
 * label and its confidence as one line, such as `positive (0.93)` and a
 * newline, that `textoverlay` can render (it ignores the trailing newline)
 * and `fdsink` writes one line per text. Output buffers keep the PTS and
 * duration of their text. A text without any token (empty, only punctuation
 * or markup) produces no buffer: a GAP event with its PTS and duration is
 * pushed instead.
 *
 * With #GstTextSentiment:post-messages (default %TRUE) the element posts
 * one element message named `textsentiment` per classified text, with these
 * fields:
 *
 * * `timestamp` (#guint64): the PTS of the text, in ns
 *   (%GST_CLOCK_TIME_NONE when the buffer has none).
 * * `stream-time` (#guint64): the stream time of the text.
 * * `running-time` (#guint64): the running time of the text.
 * * `duration` (#guint64): the duration of the text buffer.
 * * `label` (#gchararray): the name of the most probable class.
 * * `confidence` (#gdouble): its probability.
 * * `class-index` (#gint): its index, counting from 0.
 * * `probabilities` (#GstValueArray of #gdouble): every class probability,
 *   in label order.
 *
 * The hidden state is zeroed before each text with
 * #GstTextSentiment:context=utterance (the default) and carried from text
 * to text with `context=stream`. In both modes it is also zeroed on
 * STREAM_START, FLUSH_STOP, a new SEGMENT (one that differs from the
 * current segment, as after a seek), a change of input caps, a
 * DISCONT buffer (when #GstTextSentiment:reset-on-discont is set) and the
 * #GstTextSentiment::reset action signal.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m filesrc location=subtitles.srt ! subparse ! textsentiment model-file=sentiment.safetensors ! fakesink
 * ]| prints one `textsentiment` message per subtitle.
 * |[
 * gst-launch-1.0 filesrc location=subtitles.srt ! subparse ! textsentiment model-file=sentiment.safetensors ! text/x-raw ! fdsink
 * ]| writes the label and confidence of each subtitle to stdout.
 */

#include <math.h>
#include <string.h>

#include "gsttextsentiment.h"
#include "gstrnnelements.h"

GST_DEBUG_CATEGORY_STATIC (gst_text_sentiment_debug);
#define GST_CAT_DEFAULT gst_text_sentiment_debug

#define DEFAULT_POST_MESSAGES TRUE
#define DEFAULT_CONTEXT GST_TEXT_SENTIMENT_CONTEXT_UTTERANCE
#define DEFAULT_MAX_TOKENS 512

enum
{
  PROP_0,
  PROP_CONTEXT
};

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("other/tensors, format = (string) static, "
        "num_tensors = (int) 1, types = (string) float32, "
        "framerate = (fraction) 0/1; " "text/x-raw, format = (string) utf8"));

GType
gst_text_sentiment_context_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_TEXT_SENTIMENT_CONTEXT_UTTERANCE,
        "Zero the state before every text", "utterance"},
    {GST_TEXT_SENTIMENT_CONTEXT_STREAM,
        "Carry the state from text to text", "stream"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstTextSentimentContext", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

#define gst_text_sentiment_parent_class parent_class
G_DEFINE_TYPE (GstTextSentiment, gst_text_sentiment, GST_TYPE_RNN_TEXT);
GST_ELEMENT_REGISTER_DEFINE (textsentiment, "textsentiment", GST_RANK_NONE,
    GST_TYPE_TEXT_SENTIMENT);

static void gst_text_sentiment_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_text_sentiment_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_text_sentiment_check_model (GstRnnText * base,
    const rnn_model * model, const gchar * path, gchar ** why);
static GstCaps *gst_text_sentiment_make_src_caps (GstRnnText * base,
    const rnn_model * model);
static void gst_text_sentiment_model_loaded (GstRnnText * base,
    const rnn_model * model);
static void gst_text_sentiment_caps_chosen (GstRnnText * base,
    const GstStructure * s);
static GstFlowReturn gst_text_sentiment_process (GstRnnText * base,
    GstBuffer * inbuf, const gchar * text, gsize len,
    const rnn_token * tokens, gsize n_tokens);
static void gst_text_sentiment_release (GstRnnText * base);

static void
gst_text_sentiment_class_init (GstTextSentimentClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstRnnTextClass *text_class = GST_RNN_TEXT_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_text_sentiment_debug, "textsentiment", 0,
      "Text classification with a recurrent network");

  gobject_class->set_property = gst_text_sentiment_set_property;
  gobject_class->get_property = gst_text_sentiment_get_property;

  text_class->task = RNN_TASK_CLASSIFY;
  text_class->check_model = gst_text_sentiment_check_model;
  text_class->make_src_caps = gst_text_sentiment_make_src_caps;
  text_class->model_loaded = gst_text_sentiment_model_loaded;
  text_class->caps_chosen = gst_text_sentiment_caps_chosen;
  text_class->process = gst_text_sentiment_process;
  text_class->release = gst_text_sentiment_release;

  /**
   * GstTextSentiment:model-file:
   *
   * Path of the safetensors model (`task=classify`, with an embedding and a
   * tokenizer vocabulary). Read when the element goes from READY to PAUSED;
   * a missing or invalid file fails that state change with an error that
   * names the file and the problem.
   *
   * It may also be set in PAUSED or PLAYING. The new file is then loaded
   * and checked in the thread that sets the property, without blocking the
   * stream, and the element switches to it at the next text buffer: the
   * state starts from zero, the source caps are renegotiated when the
   * number of classes changed, and an INFO message ("Switched to model
   * file ...", details field `model-file`) is posted. A file that cannot
   * be used is refused with a WARNING message naming it and the problem
   * (details field `model-file`); the element keeps running with the
   * current model and the property keeps naming the current file.
   */
  /**
   * GstTextSentiment:reset-on-discont:
   *
   * Zero the hidden state when a buffer carries the DISCONT flag (only
   * matters with `context=stream`).
   */
  /**
   * GstTextSentiment:post-messages:
   *
   * Post one `textsentiment` element message per classified text, with the
   * fields `timestamp`, `stream-time`, `running-time`, `duration` (#guint64
   * ns), `label` (string), `confidence` (#gdouble), `class-index` (#gint)
   * and `probabilities` (#GstValueArray of #gdouble).
   */
  /**
   * GstTextSentiment:max-tokens:
   *
   * Largest number of tokens classified per text; 0 means no limit. Only
   * the first max-tokens tokens of a longer text are fed to the model (the
   * way classifiers are usually trained on truncated texts) and a warning
   * is posted the first time this happens.
   */
  /**
   * GstTextSentiment::reset:
   * @textsentiment: the element
   *
   * Action signal: zero the hidden state before the next text.
   */
  gst_rnn_text_class_install_properties (text_class,
      "Path of the safetensors text classifier (task=classify); when set "
      "while running, the element switches to it at the next text",
      DEFAULT_POST_MESSAGES, "Post a 'textsentiment' element message per "
      "text with fields timestamp, stream-time, running-time, duration "
      "(guint64 ns), label (string), confidence (double), class-index (int) "
      "and probabilities (array of doubles)", DEFAULT_MAX_TOKENS,
      "Tokens kept per text, the first ones; longer texts are truncated "
      "(0 = no limit)");

  /**
   * GstTextSentiment:context:
   *
   * `utterance` classifies every text on its own, from a zero state;
   * `stream` carries the state from one text to the next, so a prediction
   * reflects the conversation so far. The reset triggers apply in both
   * modes.
   */
  g_object_class_install_property (gobject_class, PROP_CONTEXT,
      g_param_spec_enum ("context", "Context",
          "Zero the state before every text (utterance) or carry it "
          "across texts (stream)", GST_TYPE_TEXT_SENTIMENT_CONTEXT,
          DEFAULT_CONTEXT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Text sentiment classifier", "Filter/Analyzer/Text",
      "Classifies each text buffer with a recurrent network (embedding + "
      "LSTM/GRU/RNN) and outputs class probabilities as a tensor or a "
      "readable label; posts 'textsentiment' messages",
      "gst-rnn developers");

  gst_type_mark_as_plugin_api (GST_TYPE_TEXT_SENTIMENT_CONTEXT, 0);
}

static void
gst_text_sentiment_init (GstTextSentiment * self)
{
  self->context = DEFAULT_CONTEXT;
}

static void
gst_text_sentiment_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstTextSentiment *self = GST_TEXT_SENTIMENT (object);

  if (prop_id != PROP_CONTEXT) {
    G_OBJECT_CLASS (parent_class)->set_property (object, prop_id, value,
        pspec);
    return;
  }
  GST_OBJECT_LOCK (self);
  self->context = g_value_get_enum (value);
  GST_OBJECT_UNLOCK (self);
}

static void
gst_text_sentiment_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstTextSentiment *self = GST_TEXT_SENTIMENT (object);

  if (prop_id != PROP_CONTEXT) {
    G_OBJECT_CLASS (parent_class)->get_property (object, prop_id, value,
        pspec);
    return;
  }
  GST_OBJECT_LOCK (self);
  g_value_set_enum (value, self->context);
  GST_OBJECT_UNLOCK (self);
}

/* Number of class probabilities: the head's outputs, or 2 for a single
 * sigmoid output. */
static int
gst_text_sentiment_num_classes (const rnn_model * model)
{
  int out = rnn_model_output_size (model);

  return out == 1 ? 2 : out;
}

static gboolean
gst_text_sentiment_check_model (GstRnnText * base, const rnn_model * model,
    const gchar * path, gchar ** why)
{
  int n_classes, n_labels;

  if (rnn_model_head_input (model) == RNN_HEAD_OUTPUT) {
    *why = g_strdup_printf ("Model file \"%s\" has head.input=output (one "
        "prediction per token); textsentiment needs final_hidden, "
        "final_hidden_both or mean (a tagger runs in texttagger)", path);
    return FALSE;
  }
  n_classes = gst_text_sentiment_num_classes (model);
  n_labels = rnn_model_num_labels (model);
  if (n_labels != n_classes) {
    *why = g_strdup_printf ("Model file \"%s\" has %d labels but its head "
        "gives %d class probabilities", path, n_labels, n_classes);
    return FALSE;
  }
  return TRUE;
}

/* The caps the source pad can produce for the model's classes, in order of
 * preference: the tensor caps with `dimensions` as a string, the same with
 * `dimensions` as the GstFlagSet an unquoted `C:1` parses to in a caps
 * string (so that `textsentiment ! other/tensors,dimensions=2:1 ! ...`
 * negotiates; that form cannot tell 2:1 from 4:1, the string form can), and
 * the readable text. */
static GstCaps *
gst_text_sentiment_make_src_caps (GstRnnText * base, const rnn_model * model)
{
  GstCaps *caps;
  GstStructure *s;
  GValue flags = G_VALUE_INIT;
  gchar *dims;

  dims = g_strdup_printf ("%d:1", gst_text_sentiment_num_classes (model));
  caps = gst_caps_new_simple ("other/tensors",
      "format", G_TYPE_STRING, "static",
      "num_tensors", G_TYPE_INT, 1,
      "types", G_TYPE_STRING, "float32",
      "dimensions", G_TYPE_STRING, dims,
      "framerate", GST_TYPE_FRACTION, 0, 1, NULL);

  g_value_init (&flags, GST_TYPE_FLAG_SET);
  if (gst_value_deserialize (&flags, dims)) {
    s = gst_structure_copy (gst_caps_get_structure (caps, 0));
    gst_structure_set_value (s, "dimensions", &flags);
    gst_caps_append_structure (caps, s);
  }
  g_value_unset (&flags);
  g_free (dims);

  gst_caps_append_structure (caps, gst_structure_new ("text/x-raw",
          "format", G_TYPE_STRING, "utf8", NULL));
  return caps;
}

/* (Re)allocates the buffers sized by the model. */
static void
gst_text_sentiment_model_loaded (GstRnnText * base, const rnn_model * model)
{
  GstTextSentiment *self = GST_TEXT_SENTIMENT (base);

  g_free (self->logits);
  g_free (self->probs);
  self->logits = g_new0 (float, rnn_model_output_size (model));
  self->probs = g_new0 (float, gst_text_sentiment_num_classes (model));
}

static void
gst_text_sentiment_release (GstRnnText * base)
{
  GstTextSentiment *self = GST_TEXT_SENTIMENT (base);

  g_clear_pointer (&self->logits, g_free);
  g_clear_pointer (&self->probs, g_free);
}

static void
gst_text_sentiment_caps_chosen (GstRnnText * base, const GstStructure * s)
{
  GST_TEXT_SENTIMENT (base)->output = gst_structure_has_name (s, "text/x-raw")
      ? GST_TEXT_SENTIMENT_OUT_TEXT : GST_TEXT_SENTIMENT_OUT_TENSOR;
}

/* Class probabilities from the head's outputs: softmax for C >= 2 outputs,
 * [1 - p, p] with p = 1 / (1 + exp(-z)) for a single output. Computed in
 * double, so nothing overflows. */
static void
gst_text_sentiment_probabilities (const float *z, int n_out, float *p)
{
  if (n_out == 1) {
    double s = 1.0 / (1.0 + exp (-(double) z[0]));

    p[0] = (float) (1.0 - s);
    p[1] = (float) s;
  } else {
    gst_rnn_text_softmax (z, n_out, p);
  }
}

static GstFlowReturn
gst_text_sentiment_process (GstRnnText * base, GstBuffer * inbuf,
    const gchar * text, gsize len, const rnn_token * tokens, gsize n_tokens)
{
  GstTextSentiment *self = GST_TEXT_SENTIMENT (base);
  rnn_model *model = gst_rnn_text_get_model (base);
  rnn_state *state = gst_rnn_text_get_state (base);
  GstTextSentimentContext context;
  rnn_error err = { 0 };
  int n_out, n_classes, i, best;
  GstBuffer *out;

  GST_OBJECT_LOCK (self);
  context = self->context;
  GST_OBJECT_UNLOCK (self);

  if (context == GST_TEXT_SENTIMENT_CONTEXT_UTTERANCE)
    rnn_state_reset (state);
  if (rnn_state_forward_tokens (state, text, len, tokens, n_tokens,
          self->logits, &err) != RNN_OK) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Model \"%s\" failed on a text of %" G_GSIZE_FORMAT " tokens: %s",
            rnn_model_name (model), n_tokens, err.msg), (NULL));
    return GST_FLOW_ERROR;
  }

  n_out = rnn_model_output_size (model);
  n_classes = gst_text_sentiment_num_classes (model);
  gst_text_sentiment_probabilities (self->logits, n_out, self->probs);
  best = 0;
  for (i = 1; i < n_classes; i++)
    if (self->probs[i] > self->probs[best])
      best = i;

  GST_LOG_OBJECT (self, "%" G_GSIZE_FORMAT " tokens -> %s (%.4f)", n_tokens,
      rnn_model_label (model, best), self->probs[best]);

  if (gst_rnn_text_post_messages (base)) {
    GstStructure *s;
    GValue arr = G_VALUE_INIT;

    s = gst_rnn_message_new (GST_ELEMENT (self),
        gst_rnn_text_get_segment (base), GST_BUFFER_PTS (inbuf),
        GST_BUFFER_DURATION (inbuf));
    gst_structure_set (s, "label", G_TYPE_STRING,
        rnn_model_label (model, best), "confidence", G_TYPE_DOUBLE,
        (gdouble) self->probs[best], "class-index", G_TYPE_INT, best, NULL);
    gst_rnn_value_set_double_array (&arr, self->probs, (guint) n_classes);
    gst_structure_take_value (s, "probabilities", &arr);
    gst_rnn_post_message (GST_ELEMENT (self), s);
  }

  if (self->output == GST_TEXT_SENTIMENT_OUT_TEXT) {
    gchar conf[G_ASCII_DTOSTR_BUF_SIZE];
    gchar *str;

    g_ascii_formatd (conf, sizeof (conf), "%.2f", self->probs[best]);
    /* one line per text, so that a file or a terminal shows one label a
     * line; textoverlay drops the trailing newline */
    str = g_strdup_printf ("%s (%s)\n", rnn_model_label (model, best), conf);
    out = gst_buffer_new_wrapped (str, strlen (str));
  } else {
    gsize size = (gsize) n_classes * sizeof (float);

    out = gst_buffer_new_allocate (NULL, size, NULL);
    gst_buffer_fill (out, 0, self->probs, size);
  }
  return gst_rnn_text_push (base, inbuf, out);
}
