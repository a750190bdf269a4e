/* gst-rnn: GstRnnText, the base of the text elements.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gstrnntext.h"

GST_DEBUG_CATEGORY_STATIC (gst_rnn_text_debug);
#define GST_CAT_DEFAULT gst_rnn_text_debug

/* initial size of the token buffer; it grows up to max-tokens */
#define INITIAL_TOKENS 64
/* GEMM block length of a state when max-tokens is 0 or large */
#define MAX_BLOCK 4096

enum
{
  PROP_MODEL_FILE = GST_RNN_TEXT_PROP_FIRST,
  PROP_RESET_ON_DISCONT,
  PROP_POST_MESSAGES,
  PROP_MAX_TOKENS,
  PROP_STATE_FILE,
  PROP_PRECISION
};

typedef struct
{
  GstPad *sinkpad;
  GstPad *srcpad;

  /* properties, under the object lock */
  GstRnnModelSlot slot;         /* model-file and a change while running */
  gboolean reset_on_discont;
  gboolean post_messages;
  guint max_tokens;
  gchar *state_file;
  GstRnnLifecycle lc;           /* reset requests, flush seen */
  GstCaps *src_caps;            /* what the source pad can produce with the
                                 * loaded model; NULL when none is loaded */

  /* streaming thread only (and state changes while it is stopped) */
  rnn_model *model;
  rnn_state *state;
  GstCaps *sink_caps;
  gboolean markup;              /* sink format is pango-markup */
  /* during process() of a pango-markup text, when the class asks for it:
   * the markup and where each plain byte came from in it */
  const gchar *markup_text;
  gsize markup_len;
  const gsize *markup_from, *markup_to;
  gboolean negotiated;          /* caps_chosen was called for the caps */
  GstSegment segment;
  gboolean discont_pending;     /* mark the next output buffer DISCONT */
  gboolean truncation_warned;
  gboolean negotiation_failed;  /* error posted, not again until success */
  rnn_token *tokens;            /* token buffer */
  gsize tokens_size;
  rnn_tensors *restore;         /* state-file read at start, applied at the
                                 * first text */
  gboolean ran;                 /* a text went through (or a state was
                                 * restored): the state is worth saving */
} GstRnnTextPrivate;

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("text/x-raw, format = (string) { utf8, pango-markup }"));

#define gst_rnn_text_parent_class parent_class
G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (GstRnnText, gst_rnn_text,
    GST_TYPE_ELEMENT);

#define PRIV(self) \
  ((GstRnnTextPrivate *) gst_rnn_text_get_instance_private (GST_RNN_TEXT (self)))

static void gst_rnn_text_constructed (GObject * object);
static void gst_rnn_text_finalize (GObject * object);
static void gst_rnn_text_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_rnn_text_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_rnn_text_change_state (GstElement * element,
    GstStateChange transition);
static GstFlowReturn gst_rnn_text_chain (GstPad * pad, GstObject * parent,
    GstBuffer * buf);
static gboolean gst_rnn_text_sink_event (GstPad * pad, GstObject * parent,
    GstEvent * event);
static gboolean gst_rnn_text_src_query (GstPad * pad, GstObject * parent,
    GstQuery * query);
static void gst_rnn_text_change_model (GstRnnText * self,
    const gchar * path);

static void
gst_rnn_text_class_init (GstRnnTextClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_rnn_text_debug, "rnntext", 0,
      "Base of the recurrent text elements");

  gobject_class->constructed = gst_rnn_text_constructed;
  gobject_class->finalize = gst_rnn_text_finalize;
  gobject_class->set_property = gst_rnn_text_set_property;
  gobject_class->get_property = gst_rnn_text_get_property;
  element_class->change_state = gst_rnn_text_change_state;

  /* inherited by the subclasses, which add their source template */
  gst_element_class_add_static_pad_template (element_class, &sink_template);

  klass->post_messages_default = TRUE;
  klass->max_tokens_default = 512;
  gst_type_mark_as_plugin_api (GST_TYPE_RNN_TEXT, 0);
}

static void
gst_rnn_text_reset_action (GstRnnText * self)
{
  GST_DEBUG_OBJECT (self, "reset requested");
  gst_rnn_lifecycle_request_reset (&PRIV (self)->lc);
}

void
gst_rnn_text_class_install_properties (GstRnnTextClass * klass,
    const gchar * model_file_blurb, gboolean post_messages_default,
    const gchar * post_messages_blurb, guint max_tokens_default,
    const gchar * max_tokens_blurb)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  klass->post_messages_default = post_messages_default;
  klass->max_tokens_default = max_tokens_default;
  gst_rnn_install_model_file (gobject_class, PROP_MODEL_FILE,
      model_file_blurb);
  gst_rnn_install_reset_on_discont (gobject_class, PROP_RESET_ON_DISCONT,
      TRUE, "Zero the hidden state on a DISCONT buffer");
  gst_rnn_install_post_messages (gobject_class, PROP_POST_MESSAGES,
      post_messages_default, post_messages_blurb);
  g_object_class_install_property (gobject_class, PROP_MAX_TOKENS,
      g_param_spec_uint ("max-tokens", "Maximum tokens", max_tokens_blurb,
          0, G_MAXINT32, max_tokens_default,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /* the same as the signal elements' (see GstRnnSignal:state-file) */
  gst_rnn_install_state_file (gobject_class, PROP_STATE_FILE,
      "File the hidden state is read from at start (if it exists) and "
      "written to at stop, so a stream continues across restarts (matters "
      "when the state is carried from text to text); refused when saved "
      "with another model");
  /**
   * GstRnnText:precision:
   *
   * The precision the model's recurrent weights are held in while it
   * runs, converted when the model is loaded: `f32` (float32, PyTorch
   * parity), `bf16` or `int8` (smaller weights, faster steps, a small
   * measured accuracy cost: docs/engine.md). The same property as the
   * signal elements' (see GstRnnSignal:precision). Settable in NULL and
   * READY.
   */
  gst_rnn_install_precision (gobject_class, PROP_PRECISION,
      "Precision of the recurrent weights at run time: f32 (PyTorch "
      "parity), bf16 or int8 (smaller, faster, a measured accuracy cost)");
  gst_rnn_install_reset_signal (gobject_class,
      G_CALLBACK (gst_rnn_text_reset_action));
}

static void
gst_rnn_text_init (GstRnnText * self)
{
  GstRnnTextPrivate *priv = PRIV (self);

  priv->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (priv->sinkpad,
      GST_DEBUG_FUNCPTR (gst_rnn_text_chain));
  gst_pad_set_event_function (priv->sinkpad,
      GST_DEBUG_FUNCPTR (gst_rnn_text_sink_event));
  gst_element_add_pad (GST_ELEMENT (self), priv->sinkpad);

  priv->reset_on_discont = TRUE;
  gst_segment_init (&priv->segment, GST_FORMAT_TIME);
}

/* The source pad comes from the subclass' template and the defaults from
 * its class: both are known once every instance init has run. */
static void
gst_rnn_text_constructed (GObject * object)
{
  GstRnnText *self = GST_RNN_TEXT (object);
  GstRnnTextPrivate *priv = PRIV (self);
  GstRnnTextClass *klass = GST_RNN_TEXT_GET_CLASS (self);
  GstPadTemplate *templ;

  G_OBJECT_CLASS (parent_class)->constructed (object);

  templ = gst_element_class_get_pad_template (GST_ELEMENT_CLASS (klass),
      "src");
  g_assert (templ != NULL);
  priv->srcpad = gst_pad_new_from_template (templ, "src");
  gst_pad_set_query_function (priv->srcpad,
      GST_DEBUG_FUNCPTR (gst_rnn_text_src_query));
  gst_element_add_pad (GST_ELEMENT (self), priv->srcpad);

  priv->post_messages = klass->post_messages_default;
  priv->max_tokens = klass->max_tokens_default;
}

static void
gst_rnn_text_finalize (GObject * object)
{
  gst_rnn_model_slot_clear (&PRIV (object)->slot);
  g_free (PRIV (object)->state_file);
  rnn_tensors_free (PRIV (object)->restore);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_rnn_text_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstRnnText *self = GST_RNN_TEXT (object);
  GstRnnTextPrivate *priv = PRIV (self);

  if (prop_id == PROP_MODEL_FILE) {
    gst_rnn_text_change_model (self, g_value_get_string (value));
    return;
  }

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_RESET_ON_DISCONT:
      priv->reset_on_discont = g_value_get_boolean (value);
      break;
    case PROP_POST_MESSAGES:
      priv->post_messages = g_value_get_boolean (value);
      break;
    case PROP_MAX_TOKENS:
      priv->max_tokens = g_value_get_uint (value);
      break;
    case PROP_STATE_FILE:
      g_free (priv->state_file);
      priv->state_file = g_value_dup_string (value);
      break;
    case PROP_PRECISION:
      priv->slot.precision = (rnn_precision) g_value_get_enum (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_rnn_text_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstRnnText *self = GST_RNN_TEXT (object);
  GstRnnTextPrivate *priv = PRIV (self);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL_FILE:
      g_value_set_string (value, priv->slot.path);
      break;
    case PROP_RESET_ON_DISCONT:
      g_value_set_boolean (value, priv->reset_on_discont);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, priv->post_messages);
      break;
    case PROP_MAX_TOKENS:
      g_value_set_uint (value, priv->max_tokens);
      break;
    case PROP_STATE_FILE:
      g_value_set_string (value, priv->state_file);
      break;
    case PROP_PRECISION:
      g_value_set_enum (value, (gint) priv->slot.precision);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* ------------------------------------------------------- for subclasses */

rnn_model *
gst_rnn_text_get_model (GstRnnText * self)
{
  return PRIV (self)->model;
}

rnn_state *
gst_rnn_text_get_state (GstRnnText * self)
{
  return PRIV (self)->state;
}

const GstSegment *
gst_rnn_text_get_segment (GstRnnText * self)
{
  return &PRIV (self)->segment;
}

GstPad *
gst_rnn_text_get_srcpad (GstRnnText * self)
{
  return PRIV (self)->srcpad;
}

gboolean
gst_rnn_text_post_messages (GstRnnText * self)
{
  gboolean post;

  GST_OBJECT_LOCK (self);
  post = PRIV (self)->post_messages;
  GST_OBJECT_UNLOCK (self);
  return post;
}

GstFlowReturn
gst_rnn_text_push (GstRnnText * self, GstBuffer * inbuf, GstBuffer * out)
{
  GstRnnTextPrivate *priv = PRIV (self);

  GST_BUFFER_PTS (out) = GST_BUFFER_PTS (inbuf);
  GST_BUFFER_DTS (out) = GST_BUFFER_DTS (inbuf);
  GST_BUFFER_DURATION (out) = GST_BUFFER_DURATION (inbuf);
  if (priv->discont_pending) {
    GST_BUFFER_FLAG_SET (out, GST_BUFFER_FLAG_DISCONT);
    priv->discont_pending = FALSE;
  }
  return gst_pad_push (priv->srcpad, out);
}

GstBuffer *
gst_rnn_text_buffer_from_string (GString * s)
{
  gsize len = s->len;

  return gst_buffer_new_wrapped (g_string_free (s, FALSE), len);
}

void
gst_rnn_text_softmax (const float *z, int n, float *p)
{
  double max = z[0], sum = 0.0;
  int i;

  for (i = 1; i < n; i++)
    if (z[i] > max)
      max = z[i];
  for (i = 0; i < n; i++)
    sum += exp ((double) z[i] - max);
  for (i = 0; i < n; i++)
    p[i] = (float) (exp ((double) z[i] - max) / sum);
}

/* ------------------------------------------------------------- models */

static void
gst_rnn_text_reset_state (GstRnnText * self, const gchar * why)
{
  GstRnnTextPrivate *priv = PRIV (self);

  GST_DEBUG_OBJECT (self, "state reset: %s", why);
  if (priv->state)
    rnn_state_reset (priv->state);
}

static void
gst_rnn_text_release (GstRnnText * self)
{
  GstRnnTextPrivate *priv = PRIV (self);
  GstRnnTextClass *klass = GST_RNN_TEXT_GET_CLASS (self);

  /* a next model not yet taken is freed */
  gst_rnn_model_slot_stopped (&priv->slot, GST_ELEMENT (self));
  GST_OBJECT_LOCK (self);
  gst_caps_replace (&priv->src_caps, NULL);
  GST_OBJECT_UNLOCK (self);
  if (klass->release)
    klass->release (self);
  rnn_state_free (priv->state);
  priv->state = NULL;
  rnn_model_free (priv->model);
  priv->model = NULL;
  g_free (priv->tokens);
  priv->tokens = NULL;
  priv->tokens_size = 0;
  gst_caps_replace (&priv->sink_caps, NULL);
  priv->negotiated = FALSE;
}

/* Checks that @model (loaded from @path) is a text model this element can
 * run and makes a state for it, with work buffers for a text of
 * @max_tokens tokens (longer calls, after max-tokens is raised while
 * playing or set to 0, are split by the engine). Returns NULL when it
 * cannot be used, with *why (newly allocated) naming the file and the
 * problem. */
static rnn_state *
gst_rnn_text_check_model (GstRnnText * self, const rnn_model * model,
    const gchar * path, guint max_tokens, gchar ** why)
{
  GstRnnTextClass *klass = GST_RNN_TEXT_GET_CLASS (self);
  const gchar *ename = gst_rnn_element_name (GST_ELEMENT (self));
  rnn_error err = { 0 };
  rnn_state *state = NULL;

  if (rnn_model_vocab_size (model) <= 0) {
    *why = g_strdup_printf ("Model file \"%s\" has no embedding: "
        "%s needs a text model (embedding + tokenizer.vocab)", path, ename);
    return NULL;
  }
  if (!rnn_model_has_head (model)) {
    *why = g_strdup_printf ("Model file \"%s\" has no linear head: "
        "%s needs one that outputs %s", path, ename,
        klass->task == RNN_TASK_TAG ? "tag scores" : "class scores");
    return NULL;
  }
  if (klass->check_model && !klass->check_model (self, model, path, why))
    return NULL;
  if (rnn_state_new (model, max_tokens > 0 ? MIN (max_tokens, MAX_BLOCK) :
          512, &state, &err) != RNN_OK) {
    *why = g_strdup_printf ("Could not create the state for model \"%s\": "
        "%s", path, err.msg);
    return NULL;
  }
  return state;
}

static void
gst_rnn_text_log_model (GstRnnText * self, const gchar * path)
{
  rnn_model *m = PRIV (self)->model;

  GST_INFO_OBJECT (self, "model \"%s\": %s, %d layer(s) x %d direction(s), "
      "hidden %d, vocabulary %d, %d outputs", path,
      rnn_cell_name (rnn_model_cell (m)), rnn_model_num_layers (m),
      rnn_model_num_directions (m), rnn_model_hidden_size (m),
      rnn_model_vocab_size (m), rnn_model_output_size (m));
}

/* Load the model and check that this element can run it: posts an element
 * error and returns FALSE otherwise. */
static gboolean
gst_rnn_text_start (GstRnnText * self)
{
  GstRnnTextPrivate *priv = PRIV (self);
  GstRnnTextClass *klass = GST_RNN_TEXT_GET_CLASS (self);
  gchar *path, *why = NULL, *changed = NULL, *state_file;
  guint max_tokens, seq;
  rnn_precision precision;

  path = gst_rnn_model_slot_begin (&priv->slot, GST_ELEMENT (self), &seq);
  GST_OBJECT_LOCK (self);
  max_tokens = priv->max_tokens;
  precision = priv->slot.precision;
  GST_OBJECT_UNLOCK (self);
  gst_rnn_lifecycle_init (&priv->lc);

  priv->model = gst_rnn_load_model (GST_ELEMENT (self), path, klass->task,
      precision);
  if (priv->model == NULL)
    goto failed;

  priv->state = gst_rnn_text_check_model (self, priv->model, path,
      max_tokens, &why);
  if (priv->state == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", why), (NULL));
    g_free (why);
    goto failed;
  }

  GST_OBJECT_LOCK (self);
  state_file = g_strdup (priv->state_file);
  GST_OBJECT_UNLOCK (self);
  priv->ran = FALSE;
  g_clear_pointer (&priv->restore, rnn_tensors_free);
  if (!gst_rnn_state_file_start (GST_ELEMENT (self), priv->model, state_file,
          &priv->restore)) {
    g_free (state_file);
    goto failed;
  }
  g_free (state_file);

  priv->tokens_size = INITIAL_TOKENS;
  priv->tokens = g_new (rnn_token, priv->tokens_size);
  if (klass->model_loaded)
    klass->model_loaded (self, priv->model);
  priv->negotiated = FALSE;
  priv->markup = FALSE;
  priv->discont_pending = TRUE;
  priv->truncation_warned = FALSE;
  priv->negotiation_failed = FALSE;
  gst_segment_init (&priv->segment, GST_FORMAT_TIME);

  GST_OBJECT_LOCK (self);
  gst_caps_take (&priv->src_caps, klass->make_src_caps (self, priv->model));
  GST_OBJECT_UNLOCK (self);
  /* model-file set while this model was loading: it was only stored, as
   * no model was loaded yet; treat it as a change while running */
  changed = gst_rnn_model_slot_started (&priv->slot, GST_ELEMENT (self), seq,
      path);

  gst_rnn_text_log_model (self, path);
  if (changed) {
    gst_rnn_text_change_model (self, changed);
    g_free (changed);
  }
  g_free (path);
  return TRUE;

failed:
  g_free (path);
  gst_rnn_text_release (self);
  return FALSE;
}

/* What a model-file set while running hands to the streaming thread
 * besides the model. */
typedef struct
{
  rnn_state *state;
  GstCaps *caps;                /* the source caps it implies */
} GstRnnTextNext;

static void
gst_rnn_text_next_free (gpointer data)
{
  GstRnnTextNext *next = data;

  rnn_state_free (next->state);
  gst_caps_unref (next->caps);
  g_free (next);
}

/* GstRnnModelCheck: the checks of start, and a state for the model. */
static gboolean
gst_rnn_text_check_next (GstElement * element, const rnn_model * model,
    gpointer * data, gchar ** why)
{
  GstRnnText *self = GST_RNN_TEXT (element);
  GstRnnTextNext *next;
  rnn_state *state;
  guint max_tokens;

  GST_OBJECT_LOCK (self);
  max_tokens = PRIV (self)->max_tokens;
  GST_OBJECT_UNLOCK (self);
  state = gst_rnn_text_check_model (self, model, rnn_model_name (model),
      max_tokens, why);
  if (state == NULL)
    return FALSE;
  next = g_new0 (GstRnnTextNext, 1);
  next->state = state;
  next->caps = GST_RNN_TEXT_GET_CLASS (self)->make_src_caps (self, model);
  *data = next;
  return TRUE;
}

/* model-file set. Without a loaded model (NULL or READY) the path is only
 * stored, for the next start. With one (PAUSED, PLAYING), the new file is
 * loaded and checked here, in the caller's thread and without any lock
 * held, so streaming goes on meanwhile; then, under the object lock, it
 * becomes the next model, which the streaming thread swaps in at its next
 * buffer (gst_rnn_text_take_next_model). A file that cannot be used posts
 * a warning and changes nothing. The last set wins. The mechanism is the
 * one all model-running elements share (GstRnnModelSlot). */
static void
gst_rnn_text_change_model (GstRnnText * self, const gchar * path)
{
  gst_rnn_model_slot_set (&PRIV (self)->slot, GST_ELEMENT (self), path,
      GST_RNN_TEXT_GET_CLASS (self)->task, gst_rnn_text_check_next,
      gst_rnn_text_next_free);
}

/* Streaming thread: switch to the model loaded by a model-file set while
 * running, if there is one. The old model and state are freed here (the
 * streaming thread is their only user), the state starts from zero, the
 * source caps are renegotiated before the next output, and an INFO message
 * names the new file. */
static void
gst_rnn_text_take_next_model (GstRnnText * self)
{
  GstRnnTextPrivate *priv = PRIV (self);
  GstRnnTextClass *klass = GST_RNN_TEXT_GET_CLASS (self);
  rnn_model *model;
  gpointer data = NULL;
  GstRnnTextNext *next;
  gchar *path, *detail;

  model = gst_rnn_model_slot_take (&priv->slot, GST_ELEMENT (self), &data);
  if (model == NULL)
    return;
  next = data;

  GST_OBJECT_LOCK (self);
  gst_caps_replace (&priv->src_caps, next->caps);
  GST_OBJECT_UNLOCK (self);

  if (klass->release)
    klass->release (self);
  rnn_state_free (priv->state);
  rnn_model_free (priv->model);
  priv->model = model;
  priv->state = next->state;
  next->state = NULL;
  /* a state saved with the previous model means nothing to this one */
  g_clear_pointer (&priv->restore, rnn_tensors_free);
  gst_rnn_text_next_free (next);
  if (klass->model_loaded)
    klass->model_loaded (self, model);
  /* renegotiate: the label count, hence the tensor caps, may differ */
  priv->negotiated = FALSE;
  priv->negotiation_failed = FALSE;
  priv->truncation_warned = FALSE;
  priv->discont_pending = TRUE;

  path = g_strdup (rnn_model_name (model));
  gst_rnn_text_log_model (self, path);
  detail = g_strdup_printf ("%s, %d labels; the state starts from zero",
      rnn_cell_name (rnn_model_cell (model)), rnn_model_num_labels (model));
  gst_rnn_model_slot_post_switched (GST_ELEMENT (self), model, detail);
  g_free (detail);
  g_free (path);
}

/* PAUSED to READY: write `state-file` when a text went through since the
 * start or a state was restored (a restore never applied leaves the file
 * as it was). */
static void
gst_rnn_text_write_state_file (GstRnnText * self)
{
  GstRnnTextPrivate *priv = PRIV (self);
  GstRnnStateWriter *w;
  gchar *path;

  GST_OBJECT_LOCK (self);
  path = g_strdup (priv->state_file);
  GST_OBJECT_UNLOCK (self);
  if (path && path[0] && priv->model && priv->state && priv->ran
      && priv->restore == NULL) {
    w = gst_rnn_state_writer_new ();
    gst_rnn_state_writer_add_state (w, "state", priv->state);
    gst_rnn_state_file_stop (GST_ELEMENT (self), priv->model, path, w);
  }
  g_clear_pointer (&priv->restore, rnn_tensors_free);
  g_free (path);
}

static GstStateChangeReturn
gst_rnn_text_change_state (GstElement * element, GstStateChange transition)
{
  GstRnnText *self = GST_RNN_TEXT (element);
  GstStateChangeReturn ret;

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    if (!gst_rnn_text_start (self))
      return GST_STATE_CHANGE_FAILURE;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    if (transition == GST_STATE_CHANGE_READY_TO_PAUSED)
      gst_rnn_text_release (self);
    return ret;
  }

  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    gst_rnn_text_write_state_file (self);
    gst_rnn_text_release (self);
  }

  return ret;
}

/* ---------------------------------------------------------------- caps */

/* A reference to the source caps of the loaded model, or the template
 * caps while none is loaded. Any thread. */
static GstCaps *
gst_rnn_text_src_caps (GstRnnText * self)
{
  GstRnnTextPrivate *priv = PRIV (self);
  GstCaps *caps = NULL;

  GST_OBJECT_LOCK (self);
  if (priv->src_caps)
    caps = gst_caps_ref (priv->src_caps);
  GST_OBJECT_UNLOCK (self);
  if (caps == NULL)
    caps = gst_pad_get_pad_template_caps (priv->srcpad);
  return caps;
}

static gboolean
gst_rnn_text_src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstRnnText *self = GST_RNN_TEXT (parent);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_CAPS:{
      GstCaps *filter, *caps;

      /* everything we can produce, so that downstream can renegotiate */
      caps = gst_rnn_text_src_caps (self);
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

/* The source caps as "A, B or C" for an error message (new string). */
static gchar *
gst_rnn_text_describe_caps (GstCaps * caps)
{
  GString *s = g_string_new (NULL);
  guint i, n = gst_caps_get_size (caps);

  for (i = 0; i < n; i++) {
    gchar *one = gst_structure_to_string (gst_caps_get_structure (caps, i));

    if (i > 0)
      g_string_append (s, i + 1 == n ? " nor " : ", ");
    g_string_append (s, one);
    g_free (one);
  }
  return g_string_free (s, FALSE);
}

/* Pick the first of our source caps downstream accepts and set it. */
static gboolean
gst_rnn_text_negotiate (GstRnnText * self)
{
  GstRnnTextPrivate *priv = PRIV (self);
  GstRnnTextClass *klass = GST_RNN_TEXT_GET_CLASS (self);
  GstCaps *ours, *peer, *chosen = NULL;
  guint i;
  gboolean ok = FALSE;

  if (priv->model == NULL)
    return FALSE;

  ours = gst_rnn_text_src_caps (self);
  peer = gst_pad_peer_query_caps (priv->srcpad, NULL);
  GST_DEBUG_OBJECT (self, "ours %" GST_PTR_FORMAT ", downstream %"
      GST_PTR_FORMAT, ours, peer);

  for (i = 0; i < gst_caps_get_size (ours) && chosen == NULL; i++) {
    GstCaps *c = gst_caps_copy_nth (ours, i);

    if (gst_caps_can_intersect (c, peer)) {
      /* a flag-set form is not fixed (its mask is partial): fixate */
      chosen = gst_caps_fixate (gst_caps_intersect_full (c, peer,
              GST_CAPS_INTERSECT_FIRST));
    }
    gst_caps_unref (c);
  }

  if (chosen == NULL && priv->negotiation_failed) {
    GST_DEBUG_OBJECT (self, "still not negotiated");
  } else if (chosen == NULL) {
    gchar *what = gst_rnn_text_describe_caps (ours);

    priv->negotiation_failed = TRUE;
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("Downstream accepts neither %s", what),
        ("downstream caps: %" GST_PTR_FORMAT, peer));
    g_free (what);
  } else {
    ok = gst_pad_set_caps (priv->srcpad, chosen);
    if (ok) {
      priv->negotiation_failed = FALSE;
      priv->negotiated = TRUE;
      klass->caps_chosen (self, gst_caps_get_structure (chosen, 0));
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
    priv->negotiated = FALSE;
  return ok;
}

static gboolean
gst_rnn_text_set_sink_caps (GstRnnText * self, GstCaps * caps)
{
  GstRnnTextPrivate *priv = PRIV (self);
  const gchar *format;

  format = gst_structure_get_string (gst_caps_get_structure (caps, 0),
      "format");
  priv->markup = g_strcmp0 (format, "pango-markup") == 0;

  if (priv->sink_caps == NULL || !gst_caps_is_equal (priv->sink_caps, caps)) {
    if (priv->sink_caps)
      gst_rnn_text_reset_state (self, "caps change");
    gst_caps_replace (&priv->sink_caps, caps);
  }

  if (!priv->negotiated || gst_pad_check_reconfigure (priv->srcpad))
    return gst_rnn_text_negotiate (self);
  return TRUE;
}

/* -------------------------------------------------------------- events */

/* GstRnnSegmentJumps: a new segment (after a seek, or a new stream)
 * starts a new timeline: what came before is no context for what follows.
 * The same segment sent again changes nothing. */
static gboolean
gst_rnn_text_segment_is_new (GstElement * element, const GstSegment * seg)
{
  return !gst_segment_is_equal (seg, &PRIV (element)->segment);
}

static gboolean
gst_rnn_text_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstRnnText *self = GST_RNN_TEXT (parent);
  GstRnnTextPrivate *priv = PRIV (self);
  const gchar *why;

  GST_LOG_OBJECT (self, "event %" GST_PTR_FORMAT, event);

  if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS) {
    GstCaps *caps;
    gboolean ret;

    gst_event_parse_caps (event, &caps);
    ret = gst_rnn_text_set_sink_caps (self, caps);
    gst_event_unref (event);
    return ret;
  }

  /* the reset triggers every model-running element shares */
  why = gst_rnn_lifecycle_sink_event (&priv->lc, GST_ELEMENT (self), event,
      gst_rnn_text_segment_is_new);
  if (why != NULL)
    gst_rnn_text_reset_state (self, why);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_STREAM_START:
      priv->discont_pending = TRUE;
      break;
    case GST_EVENT_FLUSH_STOP:
      gst_segment_init (&priv->segment, GST_FORMAT_TIME);
      priv->discont_pending = TRUE;
      break;
    case GST_EVENT_SEGMENT:
      gst_event_copy_segment (event, &priv->segment);
      break;
    default:
      break;
  }
  return gst_pad_event_default (pad, parent, event);
}

/* ----------------------------------------------------------- streaming */

/* No output for this buffer: let downstream time advance. */
static GstFlowReturn
gst_rnn_text_push_gap (GstRnnText * self, GstBuffer * buf)
{
  GstClockTime pts = GST_BUFFER_PTS (buf);
  GstClockTime dur = GST_BUFFER_DURATION (buf);

  if (GST_CLOCK_TIME_IS_VALID (pts)) {
    GST_LOG_OBJECT (self, "gap %" GST_TIME_FORMAT " + %" GST_TIME_FORMAT,
        GST_TIME_ARGS (pts), GST_TIME_ARGS (dur));
    gst_pad_push_event (PRIV (self)->srcpad, gst_event_new_gap (pts, dur));
  }
  return GST_FLOW_OK;
}

/* Tokenize the text into the token buffer, at most @max_tokens of them (0:
 * all). Returns the number kept in *n_kept and the total found in
 * *n_found. */
static gboolean
gst_rnn_text_tokenize (GstRnnText * self, const gchar * text, gsize len,
    guint max_tokens, gsize * n_kept, gsize * n_found)
{
  GstRnnTextPrivate *priv = PRIV (self);
  rnn_error err = { 0 };
  gsize want;

  if (rnn_model_tokenize_spans (priv->model, text, len, priv->tokens,
          priv->tokens_size, n_found, &err) != RNN_OK)
    goto error;

  want = max_tokens > 0 ? MIN (*n_found, (gsize) max_tokens) : *n_found;
  if (want > priv->tokens_size) {
    priv->tokens_size = MAX (want, priv->tokens_size * 2);
    if (max_tokens > 0)
      priv->tokens_size = MIN (priv->tokens_size, (gsize) max_tokens);
    g_free (priv->tokens);
    priv->tokens = g_new (rnn_token, priv->tokens_size);
    if (rnn_model_tokenize_spans (priv->model, text, len, priv->tokens,
            priv->tokens_size, n_found, &err) != RNN_OK)
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
gst_rnn_text_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  GstRnnText *self = GST_RNN_TEXT (parent);
  GstRnnTextPrivate *priv = PRIV (self);
  GstRnnTextClass *klass = GST_RNN_TEXT_GET_CLASS (self);
  GstFlowReturn flow = GST_FLOW_OK;
  gboolean reset_on_discont;
  const gchar *reset_why;
  guint max_tokens;
  GstMapInfo map;
  gchar *stripped = NULL;
  size_t *from = NULL, *to = NULL;
  const gchar *text;
  gsize len, n_tokens = 0, n_found = 0;
  rnn_error err = { 0 };

  if (priv->model == NULL) {
    gst_buffer_unref (buf);
    return GST_FLOW_FLUSHING;
  }

  gst_rnn_text_take_next_model (self);

  GST_OBJECT_LOCK (self);
  reset_on_discont = priv->reset_on_discont;
  max_tokens = priv->max_tokens;
  GST_OBJECT_UNLOCK (self);
  /* the reset signal, or a DISCONT buffer when reset-on-discont */
  reset_why = gst_rnn_lifecycle_check_buffer (&priv->lc, buf,
      reset_on_discont, TRUE);

  if (!priv->negotiated || gst_pad_check_reconfigure (priv->srcpad)) {
    if (!gst_rnn_text_negotiate (self)) {
      gst_buffer_unref (buf);
      return GST_FLOW_NOT_NEGOTIATED;
    }
  }

  if (reset_why != NULL)
    gst_rnn_text_reset_state (self, reset_why);
  if (priv->restore != NULL) {
    gchar *why = NULL;
    gboolean ok = gst_rnn_state_file_get_state (priv->restore, "state",
        priv->state, &why);

    g_clear_pointer (&priv->restore, rnn_tensors_free);
    if (!ok) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("Cannot restore the state file: %s.", why), (NULL));
      g_free (why);
      gst_buffer_unref (buf);
      return GST_FLOW_ERROR;
    }
    GST_INFO_OBJECT (self, "state restored from the state file");
    priv->ran = TRUE;
  }
  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT))
    priv->discont_pending = TRUE;

  /* GAP buffers and empty texts: nothing to run, state untouched */
  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP)
      || gst_buffer_get_size (buf) == 0) {
    flow = gst_rnn_text_push_gap (self, buf);
    gst_buffer_unref (buf);
    return flow;
  }
  priv->ran = TRUE;

  if (!gst_buffer_map (buf, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Could not map the text buffer"),
        (NULL));
    gst_buffer_unref (buf);
    return GST_FLOW_ERROR;
  }
  text = (const gchar *) map.data;
  len = map.size;
  if (priv->markup) {
    if (rnn_markup_strip_map (text, len, &stripped, klass->markup_origins ?
            &from : NULL, klass->markup_origins ? &to : NULL,
            &err) != RNN_OK) {
      GST_ELEMENT_ERROR (self, STREAM, FAILED,
          ("Could not read the pango markup: %s", err.msg), (NULL));
      flow = GST_FLOW_ERROR;
      goto done;
    }
    priv->markup_text = text;
    priv->markup_len = len;
    priv->markup_from = from;
    priv->markup_to = to;
    text = stripped;
    len = strlen (stripped);
  }

  if (!gst_rnn_text_tokenize (self, text, len, max_tokens, &n_tokens,
          &n_found)) {
    flow = GST_FLOW_ERROR;
    goto done;
  }
  if (n_tokens < n_found) {
    GST_DEBUG_OBJECT (self, "text of %" G_GSIZE_FORMAT " tokens truncated to "
        "the first %" G_GSIZE_FORMAT, n_found, n_tokens);
    if (!priv->truncation_warned) {
      priv->truncation_warned = TRUE;
      GST_ELEMENT_WARNING (self, STREAM, FORMAT,
          ("A text of %" G_GSIZE_FORMAT " tokens was truncated to its first "
              "%u tokens (max-tokens); this warning is posted once",
              n_found, max_tokens), (NULL));
    }
  }

  if (n_tokens == 0) {
    GST_LOG_OBJECT (self, "text without tokens");
    flow = gst_rnn_text_push_gap (self, buf);
    goto done;
  }

  flow = klass->process (self, buf, text, len, priv->tokens, n_tokens);

done:
  gst_buffer_unmap (buf, &map);
  gst_buffer_unref (buf);
  free (stripped);
  free (from);
  free (to);
  priv->markup_text = NULL;
  priv->markup_from = priv->markup_to = NULL;
  return flow;
}

gboolean
gst_rnn_text_get_markup (GstRnnText * self, const gchar ** markup,
    gsize * len, const gsize ** from, const gsize ** to)
{
  GstRnnTextPrivate *priv = PRIV (self);

  if (priv->markup_text == NULL || priv->markup_from == NULL)
    return FALSE;
  *markup = priv->markup_text;
  *len = priv->markup_len;
  *from = priv->markup_from;
  *to = priv->markup_to;
  return TRUE;
}
