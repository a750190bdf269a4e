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
 * label and its confidence, such as `positive (0.93)`, that `textoverlay`
 * can render. Output buffers keep the PTS and duration of their text. A text
 * without any token (empty, only punctuation or markup) produces no buffer:
 * a GAP event with its PTS and duration is pushed instead.
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
#include <stdlib.h>
#include <string.h>

#include "gsttextsentiment.h"
#include "gstrnncommon.h"
#include "gstrnnelements.h"

GST_DEBUG_CATEGORY_STATIC (gst_text_sentiment_debug);
#define GST_CAT_DEFAULT gst_text_sentiment_debug

#define DEFAULT_RESET_ON_DISCONT TRUE
#define DEFAULT_POST_MESSAGES TRUE
#define DEFAULT_CONTEXT GST_TEXT_SENTIMENT_CONTEXT_UTTERANCE
#define DEFAULT_MAX_TOKENS 512

/* initial size of the token buffer; it grows up to max-tokens */
#define INITIAL_IDS 64

enum
{
  PROP_0,
  PROP_MODEL_FILE,
  PROP_RESET_ON_DISCONT,
  PROP_POST_MESSAGES,
  PROP_CONTEXT,
  PROP_MAX_TOKENS
};

enum
{
  SIGNAL_RESET,
  LAST_SIGNAL
};

static guint gst_text_sentiment_signals[LAST_SIGNAL];

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("text/x-raw, format = (string) { utf8, pango-markup }"));

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
G_DEFINE_TYPE (GstTextSentiment, gst_text_sentiment, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (textsentiment, "textsentiment", GST_RANK_NONE,
    GST_TYPE_TEXT_SENTIMENT);

static void gst_text_sentiment_finalize (GObject * object);
static void gst_text_sentiment_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_text_sentiment_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_text_sentiment_change_state (GstElement *
    element, GstStateChange transition);
static GstFlowReturn gst_text_sentiment_chain (GstPad * pad,
    GstObject * parent, GstBuffer * buf);
static gboolean gst_text_sentiment_sink_event (GstPad * pad,
    GstObject * parent, GstEvent * event);
static gboolean gst_text_sentiment_src_query (GstPad * pad,
    GstObject * parent, GstQuery * query);
static void gst_text_sentiment_reset_action (GstTextSentiment * self);

static void
gst_text_sentiment_class_init (GstTextSentimentClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_text_sentiment_debug, "textsentiment", 0,
      "Text classification with a recurrent network");

  gobject_class->set_property = gst_text_sentiment_set_property;
  gobject_class->get_property = gst_text_sentiment_get_property;
  gobject_class->finalize = gst_text_sentiment_finalize;

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
  gst_rnn_install_model_file (gobject_class, PROP_MODEL_FILE,
      "Path of the safetensors text classifier (task=classify); when set "
      "while running, the element switches to it at the next text");

  /**
   * GstTextSentiment:reset-on-discont:
   *
   * Zero the hidden state when a buffer carries the DISCONT flag (only
   * matters with `context=stream`).
   */
  gst_rnn_install_reset_on_discont (gobject_class, PROP_RESET_ON_DISCONT,
      DEFAULT_RESET_ON_DISCONT, "Zero the hidden state on a DISCONT buffer");

  /**
   * GstTextSentiment:post-messages:
   *
   * Post one `textsentiment` element message per classified text, with the
   * fields `timestamp`, `stream-time`, `running-time`, `duration` (#guint64
   * ns), `label` (string), `confidence` (#gdouble), `class-index` (#gint)
   * and `probabilities` (#GstValueArray of #gdouble).
   */
  gst_rnn_install_post_messages (gobject_class, PROP_POST_MESSAGES,
      DEFAULT_POST_MESSAGES, "Post a 'textsentiment' element message per "
      "text with fields timestamp, stream-time, running-time, duration "
      "(guint64 ns), label (string), confidence (double), class-index (int) "
      "and probabilities (array of doubles)");

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

  /**
   * GstTextSentiment:max-tokens:
   *
   * Largest number of tokens classified per text; 0 means no limit. Only
   * the first max-tokens tokens of a longer text are fed to the model (the
   * way classifiers are usually trained on truncated texts) and a warning
   * is posted the first time this happens.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_TOKENS,
      g_param_spec_uint ("max-tokens", "Maximum tokens",
          "Tokens kept per text, the first ones; longer texts are truncated "
          "(0 = no limit)", 0, G_MAXINT32, DEFAULT_MAX_TOKENS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstTextSentiment::reset:
   * @textsentiment: the element
   *
   * Action signal: zero the hidden state before the next text.
   */
  gst_text_sentiment_signals[SIGNAL_RESET] =
      gst_rnn_install_reset_signal (gobject_class,
      G_CALLBACK (gst_text_sentiment_reset_action));

  element_class->change_state = gst_text_sentiment_change_state;

  gst_element_class_add_static_pad_template (element_class, &sink_template);
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
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_text_sentiment_chain));
  gst_pad_set_event_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_text_sentiment_sink_event));
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_query_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_text_sentiment_src_query));
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  self->reset_on_discont = DEFAULT_RESET_ON_DISCONT;
  self->post_messages = DEFAULT_POST_MESSAGES;
  self->context = DEFAULT_CONTEXT;
  self->max_tokens = DEFAULT_MAX_TOKENS;
  gst_segment_init (&self->segment, GST_FORMAT_TIME);
}

static void
gst_text_sentiment_finalize (GObject * object)
{
  GstTextSentiment *self = GST_TEXT_SENTIMENT (object);

  gst_rnn_model_slot_clear (&self->slot);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void gst_text_sentiment_change_model (GstTextSentiment * self,
    const gchar * path);

static void
gst_text_sentiment_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstTextSentiment *self = GST_TEXT_SENTIMENT (object);

  if (prop_id == PROP_MODEL_FILE) {
    gst_text_sentiment_change_model (self, g_value_get_string (value));
    return;
  }

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_RESET_ON_DISCONT:
      self->reset_on_discont = g_value_get_boolean (value);
      break;
    case PROP_POST_MESSAGES:
      self->post_messages = g_value_get_boolean (value);
      break;
    case PROP_CONTEXT:
      self->context = g_value_get_enum (value);
      break;
    case PROP_MAX_TOKENS:
      self->max_tokens = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_text_sentiment_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstTextSentiment *self = GST_TEXT_SENTIMENT (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL_FILE:
      g_value_set_string (value, self->slot.path);
      break;
    case PROP_RESET_ON_DISCONT:
      g_value_set_boolean (value, self->reset_on_discont);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, self->post_messages);
      break;
    case PROP_CONTEXT:
      g_value_set_enum (value, self->context);
      break;
    case PROP_MAX_TOKENS:
      g_value_set_uint (value, self->max_tokens);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_text_sentiment_reset_action (GstTextSentiment * self)
{
  GST_DEBUG_OBJECT (self, "reset requested");
  gst_rnn_lifecycle_request_reset (&self->lc);
}

/* Number of class probabilities: the head's outputs, or 2 for a single
 * sigmoid output. */
static int
gst_text_sentiment_num_classes (GstTextSentiment * self)
{
  int out = rnn_model_output_size (self->model);

  return out == 1 ? 2 : out;
}

static void
gst_text_sentiment_reset_state (GstTextSentiment * self, const gchar * why)
{
  GST_DEBUG_OBJECT (self, "state reset: %s", why);
  if (self->state)
    rnn_state_reset (self->state);
}

static GstCaps *gst_text_sentiment_make_src_caps (int n_classes);

static void
gst_text_sentiment_release (GstTextSentiment * self)
{
  /* a next model not yet taken is freed */
  gst_rnn_model_slot_stopped (&self->slot, GST_ELEMENT (self));
  GST_OBJECT_LOCK (self);
  gst_caps_replace (&self->src_caps, NULL);
  GST_OBJECT_UNLOCK (self);
  rnn_state_free (self->state);
  self->state = NULL;
  rnn_model_free (self->model);
  self->model = NULL;
  g_free (self->ids);
  self->ids = NULL;
  self->ids_size = 0;
  g_free (self->logits);
  self->logits = NULL;
  g_free (self->probs);
  self->probs = NULL;
  gst_caps_replace (&self->sink_caps, NULL);
  self->output = GST_TEXT_SENTIMENT_OUT_NONE;
}

/* Checks that @model (loaded from @path) is a text classifier this element
 * can run and makes a state for it, with work buffers for a text of
 * @max_tokens tokens (longer calls, after max-tokens is raised while
 * playing or set to 0, are split by the engine). Returns NULL when it
 * cannot be used, with *why (newly allocated) naming the file and the
 * problem. */
static rnn_state *
gst_text_sentiment_check_model (rnn_model * model, const gchar * path,
    guint max_tokens, gchar ** why)
{
  rnn_error err = { 0 };
  rnn_state *state = NULL;
  int out, n_classes, n_labels;

  if (rnn_model_vocab_size (model) <= 0) {
    *why = g_strdup_printf ("Model file \"%s\" has no embedding: "
        "textsentiment needs a text model (embedding + tokenizer.vocab)",
        path);
    return NULL;
  }
  if (!rnn_model_has_head (model)) {
    *why = g_strdup_printf ("Model file \"%s\" has no linear head: "
        "textsentiment needs one that outputs class scores", path);
    return NULL;
  }
  if (rnn_model_head_input (model) == RNN_HEAD_OUTPUT) {
    *why = g_strdup_printf ("Model file \"%s\" has head.input=output (one "
        "prediction per token); textsentiment needs final_hidden, "
        "final_hidden_both or mean", path);
    return NULL;
  }
  out = rnn_model_output_size (model);
  n_classes = out == 1 ? 2 : out;
  n_labels = rnn_model_num_labels (model);
  if (n_labels != n_classes) {
    *why = g_strdup_printf ("Model file \"%s\" has %d labels but its head "
        "gives %d class probabilities", path, n_labels, n_classes);
    return NULL;
  }
  if (rnn_state_new (model, max_tokens > 0 ? MIN (max_tokens, 4096) : 512,
          &state, &err) != RNN_OK) {
    *why = g_strdup_printf ("Could not create the state for model \"%s\": "
        "%s", path, err.msg);
    return NULL;
  }
  return state;
}

/* (Re)allocates the buffers sized by the model. Streaming thread, or while
 * it is stopped. */
static void
gst_text_sentiment_alloc_outputs (GstTextSentiment * self)
{
  g_free (self->logits);
  g_free (self->probs);
  self->logits = g_new0 (float, rnn_model_output_size (self->model));
  self->probs = g_new0 (float, gst_text_sentiment_num_classes (self));
}

static void
gst_text_sentiment_log_model (GstTextSentiment * self, const gchar * path)
{
  GST_INFO_OBJECT (self, "model \"%s\": %s, %d layer(s) x %d direction(s), "
      "hidden %d, vocabulary %d, %d classes", path,
      rnn_cell_name (rnn_model_cell (self->model)),
      rnn_model_num_layers (self->model),
      rnn_model_num_directions (self->model),
      rnn_model_hidden_size (self->model), rnn_model_vocab_size (self->model),
      gst_text_sentiment_num_classes (self));
}

/* Load the model and check that it is a text classifier this element can
 * run: posts an element error and returns FALSE otherwise. */
static gboolean
gst_text_sentiment_start (GstTextSentiment * self)
{
  gchar *path, *why = NULL, *changed = NULL;
  guint max_tokens, seq;

  path = gst_rnn_model_slot_begin (&self->slot, GST_ELEMENT (self), &seq);
  GST_OBJECT_LOCK (self);
  max_tokens = self->max_tokens;
  GST_OBJECT_UNLOCK (self);
  gst_rnn_lifecycle_init (&self->lc);

  self->model = gst_rnn_load_model (GST_ELEMENT (self), path,
      RNN_TASK_CLASSIFY);
  if (self->model == NULL)
    goto failed;

  self->state = gst_text_sentiment_check_model (self->model, path,
      max_tokens, &why);
  if (self->state == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", why), (NULL));
    g_free (why);
    goto failed;
  }

  self->ids_size = INITIAL_IDS;
  self->ids = g_new (int32_t, self->ids_size);
  gst_text_sentiment_alloc_outputs (self);
  self->output = GST_TEXT_SENTIMENT_OUT_NONE;
  self->markup = FALSE;
  self->discont_pending = TRUE;
  self->truncation_warned = FALSE;
  self->negotiation_failed = FALSE;
  gst_segment_init (&self->segment, GST_FORMAT_TIME);

  GST_OBJECT_LOCK (self);
  gst_caps_take (&self->src_caps,
      gst_text_sentiment_make_src_caps (gst_text_sentiment_num_classes
          (self)));
  GST_OBJECT_UNLOCK (self);
  /* model-file set while this model was loading: it was only stored, as
   * no model was loaded yet; treat it as a change while running */
  changed = gst_rnn_model_slot_started (&self->slot, GST_ELEMENT (self), seq,
      path);

  gst_text_sentiment_log_model (self, path);
  if (changed) {
    gst_text_sentiment_change_model (self, changed);
    g_free (changed);
  }
  g_free (path);
  return TRUE;

failed:
  g_free (path);
  gst_text_sentiment_release (self);
  return FALSE;
}

/* What a model-file set while running hands to the streaming thread
 * besides the model. */
typedef struct
{
  rnn_state *state;
  GstCaps *caps;                /* the source caps it implies */
} GstTextSentimentNext;

static void
gst_text_sentiment_next_free (gpointer data)
{
  GstTextSentimentNext *next = data;

  rnn_state_free (next->state);
  gst_caps_unref (next->caps);
  g_free (next);
}

/* GstRnnModelCheck: the checks of start, and a state for the model. */
static gboolean
gst_text_sentiment_check_next (GstElement * element, const rnn_model * model,
    gpointer * data, gchar ** why)
{
  GstTextSentiment *self = GST_TEXT_SENTIMENT (element);
  GstTextSentimentNext *next;
  rnn_state *state;
  guint max_tokens;
  int out = rnn_model_output_size (model);

  GST_OBJECT_LOCK (self);
  max_tokens = self->max_tokens;
  GST_OBJECT_UNLOCK (self);
  state = gst_text_sentiment_check_model ((rnn_model *) model,
      rnn_model_name (model), max_tokens, why);
  if (state == NULL)
    return FALSE;
  next = g_new0 (GstTextSentimentNext, 1);
  next->state = state;
  next->caps = gst_text_sentiment_make_src_caps (out == 1 ? 2 : out);
  *data = next;
  return TRUE;
}

/* model-file set. Without a loaded model (NULL or READY) the path is only
 * stored, for the next start. With one (PAUSED, PLAYING), the new file is
 * loaded and checked here, in the caller's thread and without any lock
 * held, so streaming goes on meanwhile; then, under the object lock, it
 * becomes the next model, which the streaming thread swaps in at its next
 * buffer (gst_text_sentiment_take_next_model). A file that cannot be used
 * posts a warning and changes nothing. The last set wins. The mechanism is
 * the one all model-running elements share (GstRnnModelSlot). */
static void
gst_text_sentiment_change_model (GstTextSentiment * self, const gchar * path)
{
  gst_rnn_model_slot_set (&self->slot, GST_ELEMENT (self), path,
      RNN_TASK_CLASSIFY, gst_text_sentiment_check_next,
      gst_text_sentiment_next_free);
}

/* Streaming thread: switch to the model loaded by a model-file set while
 * running, if there is one. The old model and state are freed here (the
 * streaming thread is their only user), the state starts from zero, the
 * source caps are renegotiated before the next output, and an INFO message
 * names the new file. */
static void
gst_text_sentiment_take_next_model (GstTextSentiment * self)
{
  rnn_model *model;
  gpointer data = NULL;
  GstTextSentimentNext *next;
  gchar *path, *detail;

  model = gst_rnn_model_slot_take (&self->slot, GST_ELEMENT (self), &data);
  if (model == NULL)
    return;
  next = data;

  GST_OBJECT_LOCK (self);
  gst_caps_replace (&self->src_caps, next->caps);
  GST_OBJECT_UNLOCK (self);

  rnn_state_free (self->state);
  rnn_model_free (self->model);
  self->model = model;
  self->state = next->state;
  next->state = NULL;
  gst_text_sentiment_next_free (next);
  gst_text_sentiment_alloc_outputs (self);
  /* renegotiate: the class count, hence the tensor caps, may differ */
  self->output = GST_TEXT_SENTIMENT_OUT_NONE;
  self->negotiation_failed = FALSE;
  self->truncation_warned = FALSE;
  self->discont_pending = TRUE;

  path = g_strdup (rnn_model_name (model));
  gst_text_sentiment_log_model (self, path);
  detail = g_strdup_printf ("%s, %d classes; the state starts from zero",
      rnn_cell_name (rnn_model_cell (model)),
      gst_text_sentiment_num_classes (self));
  gst_rnn_model_slot_post_switched (GST_ELEMENT (self), model, detail);
  g_free (detail);
  g_free (path);
}

static GstStateChangeReturn
gst_text_sentiment_change_state (GstElement * element,
    GstStateChange transition)
{
  GstTextSentiment *self = GST_TEXT_SENTIMENT (element);
  GstStateChangeReturn ret;

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    if (!gst_text_sentiment_start (self))
      return GST_STATE_CHANGE_FAILURE;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    if (transition == GST_STATE_CHANGE_READY_TO_PAUSED)
      gst_text_sentiment_release (self);
    return ret;
  }

  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    gst_text_sentiment_release (self);

  return ret;
}

/* The caps the source pad can produce for @n_classes classes, in order of
 * preference: the tensor caps with `dimensions` as a string, the same with
 * `dimensions` as the GstFlagSet an unquoted `C:1` parses to in a caps
 * string (so that `textsentiment ! other/tensors,dimensions=2:1 ! ...`
 * negotiates; that form cannot tell 2:1 from 4:1, the string form can), and
 * the readable text. */
static GstCaps *
gst_text_sentiment_make_src_caps (int n_classes)
{
  GstCaps *caps;
  GstStructure *s;
  GValue flags = G_VALUE_INIT;
  gchar *dims;

  dims = g_strdup_printf ("%d:1", n_classes);
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

/* A reference to the source caps of the loaded model, or the template
 * caps while none is loaded. Any thread. */
static GstCaps *
gst_text_sentiment_src_caps (GstTextSentiment * self)
{
  GstCaps *caps = NULL;

  GST_OBJECT_LOCK (self);
  if (self->src_caps)
    caps = gst_caps_ref (self->src_caps);
  GST_OBJECT_UNLOCK (self);
  if (caps == NULL)
    caps = gst_pad_get_pad_template_caps (self->srcpad);
  return caps;
}

static gboolean
gst_text_sentiment_src_query (GstPad * pad, GstObject * parent,
    GstQuery * query)
{
  GstTextSentiment *self = GST_TEXT_SENTIMENT (parent);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_CAPS:{
      GstCaps *filter, *caps;

      /* everything we can produce, so that downstream can renegotiate */
      caps = gst_text_sentiment_src_caps (self);
      gst_query_parse_caps (query, &filter);
      if (filter) {
        GstCaps *tmp = gst_caps_intersect_full (filter, caps,
            GST_CAPS_INTERSECT_FIRST);
        gst_caps_unref (caps);
        caps = tmp;
      }
      gst_query_set_caps_result (query, caps);
      gst_caps_unref (caps);
      return TRUE;
    }
    default:
      /* latency: we add none, the default forwards upstream's */
      return gst_pad_query_default (pad, parent, query);
  }
}

/* Pick the first of our source caps downstream accepts and set it. */
static gboolean
gst_text_sentiment_negotiate (GstTextSentiment * self)
{
  GstCaps *ours, *peer, *chosen = NULL;
  guint i;
  gboolean ok = FALSE;

  if (self->model == NULL)
    return FALSE;

  ours = gst_text_sentiment_src_caps (self);
  peer = gst_pad_peer_query_caps (self->srcpad, NULL);
  GST_DEBUG_OBJECT (self, "ours %" GST_PTR_FORMAT ", downstream %"
      GST_PTR_FORMAT, ours, peer);

  for (i = 0; i < gst_caps_get_size (ours) && chosen == NULL; i++) {
    GstCaps *c = gst_caps_copy_nth (ours, i);

    if (gst_caps_can_intersect (c, peer)) {
      /* the flag-set form is not fixed (its mask is partial): fixate */
      chosen = gst_caps_fixate (gst_caps_intersect_full (c, peer,
              GST_CAPS_INTERSECT_FIRST));
    }
    gst_caps_unref (c);
  }

  if (chosen == NULL && self->negotiation_failed) {
    GST_DEBUG_OBJECT (self, "still not negotiated");
  } else if (chosen == NULL) {
    self->negotiation_failed = TRUE;
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("Downstream accepts neither other/tensors with dimensions=%d:1 "
            "nor text/x-raw,format=utf8",
            gst_text_sentiment_num_classes (self)),
        ("downstream caps: %" GST_PTR_FORMAT, peer));
  } else {
    ok = gst_pad_set_caps (self->srcpad, chosen);
    if (ok) {
      self->negotiation_failed = FALSE;
      self->output =
          gst_structure_has_name (gst_caps_get_structure (chosen, 0),
          "text/x-raw") ? GST_TEXT_SENTIMENT_OUT_TEXT :
          GST_TEXT_SENTIMENT_OUT_TENSOR;
      GST_INFO_OBJECT (self, "output caps %" GST_PTR_FORMAT, chosen);
    } else {
      GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
          ("Downstream refused caps %" GST_PTR_FORMAT, chosen), (NULL));
    }
    gst_caps_unref (chosen);
  }

  gst_caps_unref (peer);
  gst_caps_unref (ours);
  if (!ok)
    self->output = GST_TEXT_SENTIMENT_OUT_NONE;
  return ok;
}

static gboolean
gst_text_sentiment_set_sink_caps (GstTextSentiment * self, GstCaps * caps)
{
  const gchar *format;

  format = gst_structure_get_string (gst_caps_get_structure (caps, 0),
      "format");
  self->markup = g_strcmp0 (format, "pango-markup") == 0;

  if (self->sink_caps == NULL || !gst_caps_is_equal (self->sink_caps, caps)) {
    if (self->sink_caps)
      gst_text_sentiment_reset_state (self, "caps change");
    gst_caps_replace (&self->sink_caps, caps);
  }

  if (self->output == GST_TEXT_SENTIMENT_OUT_NONE
      || gst_pad_check_reconfigure (self->srcpad))
    return gst_text_sentiment_negotiate (self);
  return TRUE;
}

/* GstRnnSegmentJumps: a new segment (after a seek, or a new stream)
 * starts a new timeline: what came before is no context for what follows.
 * The same segment sent again changes nothing. */
static gboolean
gst_text_sentiment_segment_is_new (GstElement * element,
    const GstSegment * seg)
{
  return !gst_segment_is_equal (seg, &GST_TEXT_SENTIMENT (element)->segment);
}

static gboolean
gst_text_sentiment_sink_event (GstPad * pad, GstObject * parent,
    GstEvent * event)
{
  GstTextSentiment *self = GST_TEXT_SENTIMENT (parent);
  const gchar *why;

  GST_LOG_OBJECT (self, "event %" GST_PTR_FORMAT, event);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps;
      gboolean ret;

      gst_event_parse_caps (event, &caps);
      ret = gst_text_sentiment_set_sink_caps (self, caps);
      gst_event_unref (event);
      return ret;
    }
    default:
      break;
  }

  /* the reset triggers every model-running element shares */
  why = gst_rnn_lifecycle_sink_event (&self->lc, GST_ELEMENT (self), event,
      gst_text_sentiment_segment_is_new);
  if (why != NULL)
    gst_text_sentiment_reset_state (self, why);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_STREAM_START:
      self->discont_pending = TRUE;
      break;
    case GST_EVENT_FLUSH_STOP:
      gst_segment_init (&self->segment, GST_FORMAT_TIME);
      self->discont_pending = TRUE;
      break;
    case GST_EVENT_SEGMENT:
      gst_event_copy_segment (event, &self->segment);
      break;
    default:
      break;
  }
  return gst_pad_event_default (pad, parent, event);
}

/* No prediction for this buffer: let downstream time advance. */
static GstFlowReturn
gst_text_sentiment_push_gap (GstTextSentiment * self, GstBuffer * buf)
{
  GstClockTime pts = GST_BUFFER_PTS (buf);
  GstClockTime dur = GST_BUFFER_DURATION (buf);

  if (GST_CLOCK_TIME_IS_VALID (pts)) {
    GST_LOG_OBJECT (self, "gap %" GST_TIME_FORMAT " + %" GST_TIME_FORMAT,
        GST_TIME_ARGS (pts), GST_TIME_ARGS (dur));
    gst_pad_push_event (self->srcpad, gst_event_new_gap (pts, dur));
  }
  return GST_FLOW_OK;
}

/* Class probabilities from the head's outputs: softmax for C >= 2 outputs,
 * [1 - p, p] with p = 1 / (1 + exp(-z)) for a single output. Computed in
 * double, with the maximum subtracted before exp() so nothing overflows. */
static void
gst_text_sentiment_probabilities (const float *z, int n_out, float *p)
{
  int i;

  if (n_out == 1) {
    double s = 1.0 / (1.0 + exp (-(double) z[0]));

    p[0] = (float) (1.0 - s);
    p[1] = (float) s;
    return;
  } else {
    double max = z[0], sum = 0.0;

    for (i = 1; i < n_out; i++)
      if (z[i] > max)
        max = z[i];
    for (i = 0; i < n_out; i++)
      sum += exp ((double) z[i] - max);
    for (i = 0; i < n_out; i++)
      p[i] = (float) (exp ((double) z[i] - max) / sum);
  }
}

/* Tokenize the text into self->ids, at most @max_tokens of them (0: all).
 * Returns the number of ids kept and the total found in *n_found. */
static gboolean
gst_text_sentiment_tokenize (GstTextSentiment * self, const gchar * text,
    gsize len, guint max_tokens, gsize * n_kept, gsize * n_found)
{
  rnn_error err = { 0 };
  gsize want;

  if (rnn_model_tokenize (self->model, text, len, self->ids, self->ids_size,
          n_found, &err) != RNN_OK)
    goto error;

  want = max_tokens > 0 ? MIN (*n_found, (gsize) max_tokens) : *n_found;
  if (want > self->ids_size) {
    self->ids_size = MAX (want, self->ids_size * 2);
    if (max_tokens > 0)
      self->ids_size = MIN (self->ids_size, (gsize) max_tokens);
    g_free (self->ids);
    self->ids = g_new (int32_t, self->ids_size);
    if (rnn_model_tokenize (self->model, text, len, self->ids,
            self->ids_size, n_found, &err) != RNN_OK)
      goto error;
  }
  *n_kept = want;
  return TRUE;

error:
  GST_ELEMENT_ERROR (self, STREAM, FAILED,
      ("Could not tokenize the text: %s", err.msg), (NULL));
  return FALSE;
}

static GstFlowReturn
gst_text_sentiment_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  GstTextSentiment *self = GST_TEXT_SENTIMENT (parent);
  GstFlowReturn flow = GST_FLOW_OK;
  gboolean reset_on_discont, post_messages;
  const gchar *reset_why;
  GstTextSentimentContext context;
  guint max_tokens;
  GstMapInfo map;
  gchar *stripped = NULL;
  const gchar *text;
  gsize len, n_ids = 0, n_found = 0;
  rnn_error err = { 0 };
  int n_out, n_classes, i, best;
  GstBuffer *out;
  GstClockTime pts, duration;

  if (self->model == NULL) {
    gst_buffer_unref (buf);
    return GST_FLOW_FLUSHING;
  }

  gst_text_sentiment_take_next_model (self);

  GST_OBJECT_LOCK (self);
  reset_on_discont = self->reset_on_discont;
  post_messages = self->post_messages;
  context = self->context;
  max_tokens = self->max_tokens;
  GST_OBJECT_UNLOCK (self);
  /* the reset signal, or a DISCONT buffer when reset-on-discont */
  reset_why = gst_rnn_lifecycle_check_buffer (&self->lc, buf,
      reset_on_discont, TRUE);

  if (self->output == GST_TEXT_SENTIMENT_OUT_NONE
      || gst_pad_check_reconfigure (self->srcpad)) {
    if (!gst_text_sentiment_negotiate (self)) {
      gst_buffer_unref (buf);
      return GST_FLOW_NOT_NEGOTIATED;
    }
  }

  if (reset_why != NULL)
    gst_text_sentiment_reset_state (self, reset_why);
  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT))
    self->discont_pending = TRUE;

  pts = GST_BUFFER_PTS (buf);
  duration = GST_BUFFER_DURATION (buf);

  /* GAP buffers and empty texts: nothing to classify, state untouched */
  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP)
      || gst_buffer_get_size (buf) == 0) {
    flow = gst_text_sentiment_push_gap (self, buf);
    gst_buffer_unref (buf);
    return flow;
  }

  if (!gst_buffer_map (buf, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Could not map the text buffer"),
        (NULL));
    gst_buffer_unref (buf);
    return GST_FLOW_ERROR;
  }
  text = (const gchar *) map.data;
  len = map.size;
  if (self->markup) {
    if (rnn_markup_strip (text, len, &stripped, &err) != RNN_OK) {
      GST_ELEMENT_ERROR (self, STREAM, FAILED,
          ("Could not read the pango markup: %s", err.msg), (NULL));
      flow = GST_FLOW_ERROR;
      goto done;
    }
    text = stripped;
    len = strlen (stripped);
  }

  if (!gst_text_sentiment_tokenize (self, text, len, max_tokens, &n_ids,
          &n_found)) {
    flow = GST_FLOW_ERROR;
    goto done;
  }
  if (n_ids < n_found) {
    GST_DEBUG_OBJECT (self, "text of %" G_GSIZE_FORMAT " tokens truncated to "
        "the first %" G_GSIZE_FORMAT, n_found, n_ids);
    if (!self->truncation_warned) {
      self->truncation_warned = TRUE;
      GST_ELEMENT_WARNING (self, STREAM, FORMAT,
          ("A text of %" G_GSIZE_FORMAT " tokens was truncated to its first "
              "%u tokens (max-tokens); this warning is posted once",
              n_found, max_tokens), (NULL));
    }
  }

  if (n_ids == 0) {
    GST_LOG_OBJECT (self, "text without tokens");
    flow = gst_text_sentiment_push_gap (self, buf);
    goto done;
  }

  if (context == GST_TEXT_SENTIMENT_CONTEXT_UTTERANCE)
    rnn_state_reset (self->state);
  if (rnn_state_forward_ids (self->state, self->ids, n_ids, self->logits,
          &err) != RNN_OK) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Model \"%s\" failed on a text of %" G_GSIZE_FORMAT " tokens: %s",
            rnn_model_name (self->model), n_ids, err.msg), (NULL));
    flow = GST_FLOW_ERROR;
    goto done;
  }

  n_out = rnn_model_output_size (self->model);
  n_classes = gst_text_sentiment_num_classes (self);
  gst_text_sentiment_probabilities (self->logits, n_out, self->probs);
  best = 0;
  for (i = 1; i < n_classes; i++)
    if (self->probs[i] > self->probs[best])
      best = i;

  GST_LOG_OBJECT (self, "%" G_GSIZE_FORMAT " tokens -> %s (%.4f)", n_ids,
      rnn_model_label (self->model, best), self->probs[best]);

  if (post_messages) {
    GstStructure *s;
    GValue arr = G_VALUE_INIT;

    s = gst_rnn_message_new (GST_ELEMENT (self), &self->segment, pts,
        duration);
    gst_structure_set (s, "label", G_TYPE_STRING,
        rnn_model_label (self->model, best), "confidence", G_TYPE_DOUBLE,
        (gdouble) self->probs[best], "class-index", G_TYPE_INT, best, NULL);
    gst_rnn_value_set_double_array (&arr, self->probs, n_classes);
    gst_structure_take_value (s, "probabilities", &arr);
    gst_rnn_post_message (GST_ELEMENT (self), s);
  }

  if (self->output == GST_TEXT_SENTIMENT_OUT_TEXT) {
    gchar conf[G_ASCII_DTOSTR_BUF_SIZE];
    gchar *str;

    g_ascii_formatd (conf, sizeof (conf), "%.2f", self->probs[best]);
    str = g_strdup_printf ("%s (%s)", rnn_model_label (self->model, best),
        conf);
    out = gst_buffer_new_wrapped (str, strlen (str));
  } else {
    out = gst_buffer_new_allocate (NULL, n_classes * sizeof (float), NULL);
    gst_buffer_fill (out, 0, self->probs, n_classes * sizeof (float));
  }
  GST_BUFFER_PTS (out) = pts;
  GST_BUFFER_DTS (out) = GST_BUFFER_DTS (buf);
  GST_BUFFER_DURATION (out) = duration;
  if (self->discont_pending) {
    GST_BUFFER_FLAG_SET (out, GST_BUFFER_FLAG_DISCONT);
    self->discont_pending = FALSE;
  }

  gst_buffer_unmap (buf, &map);
  gst_buffer_unref (buf);
  free (stripped);
  return gst_pad_push (self->srcpad, out);

done:
  gst_buffer_unmap (buf, &map);
  gst_buffer_unref (buf);
  free (stripped);
  return flow;
}
