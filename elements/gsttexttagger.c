/* gst-rnn: texttagger, a label for every token of a text.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-texttagger
 * @title: texttagger
 *
 * Labels every token of every text buffer (a subtitle, a chat line, a
 * transcript segment) with a recurrent sequence tagger: parts of speech
 * (`NOUN`, `VERB`, ...) or named entities (`O`, `B-PER`, `I-PER`, ...).
 * The text is tokenized with the model's vocabulary (markup removed for
 * `pango-markup` input), the token ids go through the embedding and the
 * recurrent layers as one closed sequence (with a bidirectional stack,
 * every token sees the whole text on both sides), and the head's outputs
 * at each token become tag probabilities (softmax); the tag of a token is
 * the most probable one.
 *
 * The model is a safetensors file with `task=tag`, an embedding, a
 * recurrent stack (LSTM, GRU or RNN, stacked and bidirectional allowed)
 * and a linear head read at every token (`head.input=output`, the
 * default). A PyTorch `state_dict()` of the tutorial's `BiLSTMTagger`
 * saves directly to it; its `labels` metadata names the tags. With
 * `tokenizer.lowercase=false` the tokens are looked up with their case.
 *
 * The source pad produces, depending on what downstream accepts, in this
 * order of preference:
 *
 * * `text/x-raw, format=pango-markup`: the text with the tokens whose tag
 *   is in #GstTextTagger:highlight-tags wrapped in `<span>` elements
 *   carrying #GstTextTagger:span-attributes, for `textoverlay`. With a
 *   BIO/IOB2 tag set, whole entities are wrapped (`<span ...>New
 *   York</span>`). Well-formed pango-markup input keeps its own markup
 *   (spans go only around stretches without its tags: an entity crossing
 *   one is wrapped token by token, a token crossing one is left alone);
 *   other input is escaped, invalid UTF-8 becoming U+FFFD.
 * * `text/x-raw, format=utf8`: `token/TAG token/TAG ...` and a newline
 *   (one line per text, for `fdsink`), each token as written in the
 *   input.
 * * `other/tensors, format=static, num_tensors=1, types=float32,
 *   dimensions=(string)C:T, framerate=0/1`: the C tag probabilities of
 *   each of the T tokens, token after token. T changes from text to text,
 *   so the caps are updated before a buffer whose token count differs.
 *
 * Output buffers keep the PTS and duration of their text. A text without
 * any token (empty, only punctuation or markup) produces no buffer and no
 * message: a GAP event with its PTS and duration is pushed instead.
 *
 * With #GstTextTagger:post-messages (default %TRUE) the element posts one
 * element message named `texttagger` per tagged text, with these fields:
 *
 * * `timestamp` (#guint64): the PTS of the text, in ns
 *   (%GST_CLOCK_TIME_NONE when the buffer has none).
 * * `stream-time` (#guint64): the stream time of the text.
 * * `running-time` (#guint64): the running time of the text.
 * * `duration` (#guint64): the duration of the text buffer.
 * * `tokens` (#GstValueArray of strings): each token as written in the
 *   input (original case, even when the model lower-cases).
 * * `tags` (#GstValueArray of strings): the tag of each token.
 * * `starts`, `ends` (#GstValueArray of #guint): byte offsets of each
 *   token in the text with markup removed (entities unescaped): the token
 *   is bytes [start, end).
 * * `confidences` (#GstValueArray of #gdouble): the probability of each
 *   chosen tag.
 * * `entities` (#GstValueArray of #GstStructure, only for BIO/IOB2 tag
 *   sets, where every tag is `O`, `B-X` or `I-X`): the merged spans, each
 *   a structure `entity` with `label` (string, e.g. `PER`), `text`
 *   (string: the text from its first token to its last), `start` and `end`
 *   (#guint byte offsets as above). A `B-X` starts an entity; an `I-X`
 *   continues an entity of label X and starts one otherwise.
 *
 * Every text is tagged from a zero state, so the reset triggers shared by
 * the model elements (#GstTextTagger::reset, DISCONT, FLUSH_STOP, a new
 * SEGMENT, STREAM_START, a caps change) change nothing in the output.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 filesrc location=subtitles.srt ! subparse ! texttagger model-file=pos-tagger.safetensors ! text/x-raw,format=utf8 ! fdsink
 * ]| writes every subtitle as `token/TAG` pairs to stdout.
 * |[
 * gst-launch-1.0 videotestsrc ! textoverlay name=o ! autovideosink filesrc location=subtitles.srt ! subparse ! texttagger model-file=pos-tagger.safetensors highlight-tags=NOUN ! o.text_sink
 * ]| shows the subtitles over the video with their nouns in yellow (the shipped
 * part-of-speech tagger uses the 12 universal tags: NOUN, VERB, ADJ, ...).
 * |[
 * gst-launch-1.0 -m filesrc location=subtitles.srt ! subparse ! texttagger model-file=pos-tagger.safetensors ! fakesink
 * ]| prints one `texttagger` message per subtitle.
 */

#include <string.h>

#include "gsttexttagger.h"
#include "gstrnnelements.h"

GST_DEBUG_CATEGORY_STATIC (gst_text_tagger_debug);
#define GST_CAT_DEFAULT gst_text_tagger_debug

#define DEFAULT_POST_MESSAGES TRUE
#define DEFAULT_MAX_TOKENS 4096
#define DEFAULT_HIGHLIGHT_TAGS NULL
#define DEFAULT_SPAN_ATTRIBUTES "foreground=\"yellow\""

enum
{
  PROP_0,
  PROP_HIGHLIGHT_TAGS,
  PROP_SPAN_ATTRIBUTES
};

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("text/x-raw, format = (string) { pango-markup, utf8 }; "
        "other/tensors, format = (string) static, num_tensors = (int) 1, "
        "types = (string) float32, framerate = (fraction) 0/1"));

#define gst_text_tagger_parent_class parent_class
G_DEFINE_TYPE (GstTextTagger, gst_text_tagger, GST_TYPE_RNN_TEXT);
GST_ELEMENT_REGISTER_DEFINE (texttagger, "texttagger", GST_RANK_NONE,
    GST_TYPE_TEXT_TAGGER);

static void gst_text_tagger_finalize (GObject * object);
static void gst_text_tagger_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_text_tagger_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_text_tagger_check_model (GstRnnText * base,
    const rnn_model * model, const gchar * path, gchar ** why);
static GstCaps *gst_text_tagger_make_src_caps (GstRnnText * base,
    const rnn_model * model);
static void gst_text_tagger_model_loaded (GstRnnText * base,
    const rnn_model * model);
static void gst_text_tagger_caps_chosen (GstRnnText * base,
    const GstStructure * s);
static GstFlowReturn gst_text_tagger_process (GstRnnText * base,
    GstBuffer * inbuf, const gchar * text, gsize len,
    const rnn_token * tokens, gsize n_tokens);
static void gst_text_tagger_release (GstRnnText * base);

static void
gst_text_tagger_class_init (GstTextTaggerClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstRnnTextClass *text_class = GST_RNN_TEXT_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_text_tagger_debug, "texttagger", 0,
      "Sequence tagging with a recurrent network");

  gobject_class->set_property = gst_text_tagger_set_property;
  gobject_class->get_property = gst_text_tagger_get_property;
  gobject_class->finalize = gst_text_tagger_finalize;

  text_class->task = RNN_TASK_TAG;
  text_class->check_model = gst_text_tagger_check_model;
  text_class->make_src_caps = gst_text_tagger_make_src_caps;
  text_class->model_loaded = gst_text_tagger_model_loaded;
  text_class->caps_chosen = gst_text_tagger_caps_chosen;
  text_class->process = gst_text_tagger_process;
  text_class->release = gst_text_tagger_release;
  text_class->markup_origins = TRUE;

  /**
   * GstTextTagger:model-file:
   *
   * Path of the safetensors model (`task=tag`, with an embedding, a
   * tokenizer vocabulary and a head read at every token). Read when the
   * element goes from READY to PAUSED; a missing or invalid file fails that
   * state change with an error that names the file and the problem.
   *
   * It may also be set in PAUSED or PLAYING. The new file is then loaded
   * and checked in the thread that sets the property, without blocking the
   * stream, and the element switches to it at the next text buffer: the
   * source caps are renegotiated (the tag count may differ) and an INFO
   * message ("Switched to model file ...", details field `model-file`) is
   * posted. A file that cannot be used is refused with a WARNING message
   * naming it and the problem (details field `model-file`); the element
   * keeps running with the current model and the property keeps naming the
   * current file.
   */
  /**
   * GstTextTagger:reset-on-discont:
   *
   * Zero the hidden state when a buffer carries the DISCONT flag. Every
   * text is tagged from a zero state anyway, so this changes nothing in
   * the output; the property exists like on every model element.
   */
  /**
   * GstTextTagger:post-messages:
   *
   * Post one `texttagger` element message per tagged text, with the fields
   * `timestamp`, `stream-time`, `running-time`, `duration` (#guint64 ns),
   * `tokens`, `tags` (arrays of strings), `starts`, `ends` (arrays of
   * #guint byte offsets in the text with markup removed), `confidences`
   * (array of #gdouble) and, for BIO/IOB2 tag sets, `entities` (array of
   * `entity` structures with `label`, `text`, `start`, `end`).
   */
  /**
   * GstTextTagger:max-tokens:
   *
   * Largest number of tokens tagged per text; 0 means no limit. The tokens
   * after the first max-tokens of a longer text are not tagged (they are
   * left out of the message, the `token/TAG` text and the tensor, and are
   * never highlighted) and a warning is posted the first time this
   * happens. The limit bounds the memory and time one text can take: the
   * reverse direction of a bidirectional layer needs the whole text at
   * once.
   */
  /**
   * GstTextTagger::reset:
   * @texttagger: the element
   *
   * Action signal: zero the hidden state before the next text (every text
   * starts from zero anyway).
   */
  gst_rnn_text_class_install_properties (text_class,
      "Path of the safetensors sequence tagger (task=tag); when set while "
      "running, the element switches to it at the next text",
      DEFAULT_POST_MESSAGES, "Post a 'texttagger' element message per text "
      "with fields timestamp, stream-time, running-time, duration (guint64 "
      "ns), tokens, tags (arrays of strings), starts, ends (arrays of uint "
      "byte offsets, markup removed), confidences (array of doubles) and, "
      "for BIO tag sets, entities (array of structures: label, text, start, "
      "end)", DEFAULT_MAX_TOKENS,
      "Tokens tagged per text, the first ones; the rest of a longer text "
      "is left untagged (0 = no limit)");

  /**
   * GstTextTagger:highlight-tags:
   *
   * Comma-separated tag names whose tokens are wrapped in a `<span>` in
   * the pango-markup output, e.g. `NOUN,VERB`. For a BIO/IOB2 tag set the
   * names are entity labels (`PER,LOC`; `B-PER` is accepted for `PER`) and
   * whole entities are wrapped. Unset or empty: every tag except `O`.
   * Names are compared exactly (case matters). Only the pango-markup
   * output uses it.
   */
  g_object_class_install_property (gobject_class, PROP_HIGHLIGHT_TAGS,
      g_param_spec_string ("highlight-tags", "Highlight tags",
          "Comma-separated tags (or entity labels of a BIO tag set) whose "
          "tokens are wrapped in a <span> in the pango-markup output; "
          "unset: every tag except O", DEFAULT_HIGHLIGHT_TAGS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstTextTagger:span-attributes:
   *
   * The pango attributes of the `<span>` around each highlighted token or
   * entity, as written inside the tag: `foreground="yellow"` (the
   * default), `weight="bold" underline="single"`, `background="#303030"`.
   * A value that does not make a well-formed `<span ...>` element is
   * refused with a warning in the debug log and the previous value kept.
   */
  g_object_class_install_property (gobject_class, PROP_SPAN_ATTRIBUTES,
      g_param_spec_string ("span-attributes", "Span attributes",
          "Pango attributes of the <span> around each highlighted token or "
          "entity, e.g. foreground=\"yellow\" weight=\"bold\"",
          DEFAULT_SPAN_ATTRIBUTES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Text sequence tagger", "Filter/Analyzer/Text",
      "Tags every token of each text buffer (parts of speech, named "
      "entities) with a recurrent network (embedding + bidirectional "
      "LSTM/GRU/RNN); outputs highlighted pango markup, token/TAG text or "
      "per-token probabilities; posts 'texttagger' messages",
      "gst-rnn developers");
}

static void
gst_text_tagger_init (GstTextTagger * self)
{
  self->highlight_tags = g_strdup (DEFAULT_HIGHLIGHT_TAGS);
  self->span_attributes = g_strdup (DEFAULT_SPAN_ATTRIBUTES);
}

static void
gst_text_tagger_finalize (GObject * object)
{
  GstTextTagger *self = GST_TEXT_TAGGER (object);

  g_free (self->highlight_tags);
  g_free (self->span_attributes);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* Whether `<span @attrs>x</span>` is well-formed markup. */
static gboolean
gst_text_tagger_attributes_valid (const gchar * attrs, GError ** error)
{
  static const GMarkupParser parser = { NULL, NULL, NULL, NULL, NULL };
  GMarkupParseContext *ctx;
  gchar *doc;
  gboolean ok;

  doc = g_strdup_printf ("<span %s>x</span>", attrs ? attrs : "");
  ctx = g_markup_parse_context_new (&parser, 0, NULL, NULL);
  ok = g_markup_parse_context_parse (ctx, doc, -1, error)
      && g_markup_parse_context_end_parse (ctx, error);
  g_markup_parse_context_free (ctx);
  g_free (doc);
  return ok;
}

static void
gst_text_tagger_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstTextTagger *self = GST_TEXT_TAGGER (object);

  switch (prop_id) {
    case PROP_HIGHLIGHT_TAGS:
      GST_OBJECT_LOCK (self);
      g_free (self->highlight_tags);
      self->highlight_tags = g_value_dup_string (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_SPAN_ATTRIBUTES:{
      const gchar *attrs = g_value_get_string (value);
      GError *error = NULL;

      if (!gst_text_tagger_attributes_valid (attrs, &error)) {
        GST_WARNING_OBJECT (self, "span-attributes '%s' refused: <span %s> "
            "is not well-formed markup (%s); the previous value stays",
            GST_STR_NULL (attrs), GST_STR_NULL (attrs), error->message);
        g_error_free (error);
        break;
      }
      GST_OBJECT_LOCK (self);
      g_free (self->span_attributes);
      self->span_attributes = g_strdup (attrs ? attrs : "");
      GST_OBJECT_UNLOCK (self);
      break;
    }
    default:
      G_OBJECT_CLASS (parent_class)->set_property (object, prop_id, value,
          pspec);
      break;
  }
}

static void
gst_text_tagger_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstTextTagger *self = GST_TEXT_TAGGER (object);

  switch (prop_id) {
    case PROP_HIGHLIGHT_TAGS:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->highlight_tags);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_SPAN_ATTRIBUTES:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->span_attributes);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_CLASS (parent_class)->get_property (object, prop_id, value,
          pspec);
      break;
  }
}

/* ------------------------------------------------------------- model */

/* A BIO/IOB2 tag set: every label is `O`, `B-X` or `I-X` (X not empty),
 * with at least one `B-`. */
static gboolean
gst_text_tagger_is_bio (const rnn_model * model)
{
  int i, n = rnn_model_num_labels (model), n_begin = 0;

  for (i = 0; i < n; i++) {
    const char *l = rnn_model_label (model, i);

    if (strcmp (l, "O") == 0)
      continue;
    if ((l[0] != 'B' && l[0] != 'I') || l[1] != '-' || l[2] == '\0')
      return FALSE;
    if (l[0] == 'B')
      n_begin++;
  }
  return n_begin > 0;
}

static gboolean
gst_text_tagger_check_model (GstRnnText * base, const rnn_model * model,
    const gchar * path, gchar ** why)
{
  int n_out = rnn_model_output_size (model);

  if (rnn_model_head_input (model) != RNN_HEAD_OUTPUT) {
    *why = g_strdup_printf ("Model file \"%s\" has head.input=%s (one "
        "prediction per text); texttagger needs head.input=output, a "
        "prediction at every token (a text classifier runs in "
        "textsentiment)", path,
        GST_STR_NULL (rnn_model_meta (model, "head.input")));
    return FALSE;
  }
  if (n_out < 2) {
    *why = g_strdup_printf ("Model file \"%s\" has a head of %d output: "
        "texttagger needs one score per tag, at least 2", path, n_out);
    return FALSE;
  }
  if (rnn_model_num_labels (model) != n_out) {
    *why = g_strdup_printf ("Model file \"%s\" has %d labels but its head "
        "gives %d tag scores", path, rnn_model_num_labels (model), n_out);
    return FALSE;
  }
  return TRUE;
}

/* In order of preference: highlighted markup, token/TAG text, per-token
 * probabilities (T varies per text: `dimensions` is set per buffer). */
static GstCaps *
gst_text_tagger_make_src_caps (GstRnnText * base, const rnn_model * model)
{
  GstCaps *caps;

  caps = gst_caps_new_simple ("text/x-raw",
      "format", G_TYPE_STRING, "pango-markup", NULL);
  gst_caps_append_structure (caps, gst_structure_new ("text/x-raw",
          "format", G_TYPE_STRING, "utf8", NULL));
  gst_caps_append_structure (caps, gst_structure_new ("other/tensors",
          "format", G_TYPE_STRING, "static",
          "num_tensors", G_TYPE_INT, 1,
          "types", G_TYPE_STRING, "float32",
          "framerate", GST_TYPE_FRACTION, 0, 1, NULL));
  return caps;
}

static void
gst_text_tagger_release (GstRnnText * base)
{
  GstTextTagger *self = GST_TEXT_TAGGER (base);

  g_clear_pointer (&self->logits, g_free);
  g_clear_pointer (&self->probs, g_free);
  g_clear_pointer (&self->best, g_free);
  self->cap = 0;
}

static void
gst_text_tagger_model_loaded (GstRnnText * base, const rnn_model * model)
{
  GstTextTagger *self = GST_TEXT_TAGGER (base);

  gst_text_tagger_release (base);
  self->n_tags = rnn_model_output_size (model);
  self->bio = gst_text_tagger_is_bio (model);
  GST_INFO_OBJECT (self, "%d tags%s", self->n_tags,
      self->bio ? " (BIO: entities are merged)" : "");
}

static void
gst_text_tagger_caps_chosen (GstRnnText * base, const GstStructure * s)
{
  GstTextTagger *self = GST_TEXT_TAGGER (base);

  if (gst_structure_has_name (s, "other/tensors"))
    self->output = GST_TEXT_TAGGER_OUT_TENSOR;
  else if (g_strcmp0 (gst_structure_get_string (s, "format"), "utf8") == 0)
    self->output = GST_TEXT_TAGGER_OUT_TEXT;
  else
    self->output = GST_TEXT_TAGGER_OUT_MARKUP;
  self->caps_tokens = 0;
}

/* Room for @n tokens in the per-token buffers. */
static void
gst_text_tagger_ensure (GstTextTagger * self, gsize n)
{
  gsize cap;

  if (n <= self->cap)
    return;
  cap = MAX (n, self->cap * 2);
  g_free (self->logits);
  g_free (self->probs);
  g_free (self->best);
  self->logits = g_new (float, cap * (gsize) self->n_tags);
  self->probs = g_new (float, cap * (gsize) self->n_tags);
  self->best = g_new (int, cap);
  self->cap = cap;
}

/* ------------------------------------------------------------ output */

/* Appends @len bytes of @text to @out as valid UTF-8 (each byte that does
 * not start a valid sequence, and NUL, becomes U+FFFD), markup-escaped
 * when @escape. */
static void
append_text (GString * out, const gchar * text, gsize len, gboolean escape)
{
  gsize i = 0;

  while (i < len) {
    guchar b = (guchar) text[i];
    gunichar c;

    if (b >= 0x80) {
      c = g_utf8_get_char_validated (text + i, (gssize) (len - i));
      if (c == (gunichar) - 1 || c == (gunichar) - 2) {
        g_string_append (out, "\xef\xbf\xbd");
        i++;
      } else {
        gsize n = (gsize) g_utf8_skip[b];

        g_string_append_len (out, text + i, (gssize) n);
        i += n;
      }
      continue;
    }
    i++;
    if (b == '\0')
      g_string_append (out, "\xef\xbf\xbd");
    else if (escape && b == '&')
      g_string_append (out, "&amp;");
    else if (escape && b == '<')
      g_string_append (out, "&lt;");
    else if (escape && b == '>')
      g_string_append (out, "&gt;");
    else if (escape && b == '"')
      g_string_append (out, "&quot;");
    else if (escape && b == '\'')
      g_string_append (out, "&apos;");
    else
      g_string_append_c (out, (gchar) b);
  }
}

/* An entity of a BIO tag set: tokens [first, last]. */
typedef struct
{
  gsize first, last;
  const gchar *label;           /* after "B-" / "I-", in the model */
} Entity;

/* Merge the BIO tags of @n tokens into entities (appended to @ents). */
static void
gst_text_tagger_entities (GstTextTagger * self, const rnn_model * model,
    gsize n, GArray * ents)
{
  Entity cur = { 0, 0, NULL };
  gsize t;

  for (t = 0; t < n; t++) {
    const char *tag = rnn_model_label (model, self->best[t]);

    if (tag[0] == 'I' && cur.label != NULL && strcmp (tag + 2,
            cur.label) == 0) {
      cur.last = t;
      continue;
    }
    if (cur.label != NULL)
      g_array_append_val (ents, cur);
    cur.label = NULL;
    if (strcmp (tag, "O") != 0) {
      cur.first = cur.last = t;
      cur.label = tag + 2;
    }
  }
  if (cur.label != NULL)
    g_array_append_val (ents, cur);
}

/* Is @name one of the comma-separated @list (NULL or empty: every name but
 * "O")? */
static gboolean
tag_listed (const gchar * list, const gchar * name)
{
  const gchar *p;
  gsize n = strlen (name);

  if (list == NULL || list[0] == '\0')
    return strcmp (name, "O") != 0;
  for (p = list; *p;) {
    const gchar *end = strchr (p, ',');
    gsize len = end ? (gsize) (end - p) : strlen (p);

    /* spaces around the names are allowed */
    while (len > 0 && g_ascii_isspace (*p)) {
      p++;
      len--;
    }
    while (len > 0 && g_ascii_isspace (p[len - 1]))
      len--;
    if (len == n && strncmp (p, name, n) == 0)
      return TRUE;
    if (!end)
      break;
    p = end + 1;
  }
  return FALSE;
}

/* Is the entity label @label (a BIO set) chosen by @list? "PER" or
 * "B-PER" in the list choose label PER. */
static gboolean
label_listed (const gchar * list, const gchar * label)
{
  gchar *b;
  gboolean ok;

  if (list == NULL || list[0] == '\0' || tag_listed (list, label))
    return TRUE;
  b = g_strconcat ("B-", label, NULL);
  ok = tag_listed (list, b);
  g_free (b);
  return ok;
}

/* A run of tokens to highlight: tokens [first, last]. */
typedef struct
{
  gsize first, last;
} Highlight;

/* The tokens (BIO: entities) chosen by highlight-tags, in text order. */
static GArray *
gst_text_tagger_highlights (GstTextTagger * self, const rnn_model * model,
    gsize n, GArray * ents, const gchar * list)
{
  GArray *hl = g_array_new (FALSE, FALSE, sizeof (Highlight));
  gsize i;

  if (self->bio) {
    for (i = 0; i < ents->len; i++) {
      const Entity *e = &g_array_index (ents, Entity, i);
      Highlight h = { e->first, e->last };

      if (label_listed (list, e->label))
        g_array_append_val (hl, h);
    }
  } else {
    for (i = 0; i < n; i++) {
      Highlight h = { i, i };

      if (tag_listed (list, rnn_model_label (model, self->best[i])))
        g_array_append_val (hl, h);
    }
  }
  return hl;
}

/* Is `<markup>@text</markup>` well-formed (valid UTF-8 without NUL, tags
 * balanced, known entities), as pango needs? */
static gboolean
markup_well_formed (const gchar * text, gsize len)
{
  static const GMarkupParser parser = { NULL, NULL, NULL, NULL, NULL };
  GMarkupParseContext *ctx;
  gboolean ok;

  if (memchr (text, '\0', len) != NULL)
    return FALSE;
  ctx = g_markup_parse_context_new (&parser, 0, NULL, NULL);
  ok = g_markup_parse_context_parse (ctx, "<markup>", -1, NULL)
      && g_markup_parse_context_parse (ctx, text, (gssize) len, NULL)
      && g_markup_parse_context_parse (ctx, "</markup>", -1, NULL)
      && g_markup_parse_context_end_parse (ctx, NULL);
  g_markup_parse_context_free (ctx);
  return ok;
}

/* Plain bytes [s, e) as one stretch of the input markup without a tag,
 * made of whole units (characters, entities): its markup bytes in *ms,
 * *me. */
static gboolean
markup_stretch (const gsize * from, const gsize * to, gsize plain_len,
    gsize s, gsize e, gsize * ms, gsize * me)
{
  gsize i;

  if ((s > 0 && from[s - 1] == from[s])
      || (e < plain_len && from[e] == from[e - 1]))
    return FALSE;               /* starts or ends inside a unit */
  for (i = s; i + 1 < e; i++)
    if (to[i] != from[i + 1] && from[i] != from[i + 1])
      return FALSE;             /* a tag (or comment) in between */
  *ms = from[s];
  *me = to[e - 1];
  return TRUE;
}

/* Preserving mode: the input markup as received, with a span inserted
 * around each highlight that is one tag-free stretch of it (an entity
 * that crosses a tag falls back to its tokens one by one; a token that
 * crosses one is left as it is). */
static GstBuffer *
gst_text_tagger_markup_kept (const gchar * markup, gsize mlen,
    const gsize * from, const gsize * to, gsize plain_len,
    const rnn_token * tokens, GArray * hl, const gchar * attrs)
{
  GString *out = g_string_sized_new (mlen + 64);
  gsize pos = 0, i, t, ms, me;

  for (i = 0; i < hl->len; i++) {
    const Highlight *h = &g_array_index (hl, Highlight, i);
    gsize first = h->first, last = h->last;

    if (!markup_stretch (from, to, plain_len, tokens[first].start,
            tokens[last].end, &ms, &me)) {
      /* token by token */
      for (t = first; t <= last; t++) {
        if (!markup_stretch (from, to, plain_len, tokens[t].start,
                tokens[t].end, &ms, &me))
          continue;
        g_string_append_len (out, markup + pos, (gssize) (ms - pos));
        g_string_append_printf (out, "<span %s>", attrs);
        g_string_append_len (out, markup + ms, (gssize) (me - ms));
        g_string_append (out, "</span>");
        pos = me;
      }
      continue;
    }
    g_string_append_len (out, markup + pos, (gssize) (ms - pos));
    g_string_append_printf (out, "<span %s>", attrs);
    g_string_append_len (out, markup + ms, (gssize) (me - ms));
    g_string_append (out, "</span>");
    pos = me;
  }
  g_string_append_len (out, markup + pos, (gssize) (mlen - pos));
  return gst_rnn_text_buffer_from_string (out);
}

/* The pango markup output: for well-formed pango-markup input, that
 * markup with the highlights in spans; otherwise @text (markup removed)
 * escaped, with the highlights in spans. */
static GstBuffer *
gst_text_tagger_markup (GstTextTagger * self, const rnn_model * model,
    const gchar * text, gsize len, const rnn_token * tokens, gsize n,
    GArray * ents)
{
  GString *out;
  GstBuffer *buf;
  GArray *hl;
  gchar *list, *attrs;
  const gchar *markup;
  const gsize *from, *to;
  gsize mlen, pos = 0, i;

  GST_OBJECT_LOCK (self);
  list = g_strdup (self->highlight_tags);
  attrs = g_strdup (self->span_attributes);
  GST_OBJECT_UNLOCK (self);
  hl = gst_text_tagger_highlights (self, model, n, ents, list);

  if (gst_rnn_text_get_markup (GST_RNN_TEXT (self), &markup, &mlen, &from,
          &to) && markup_well_formed (markup, mlen)) {
    buf = gst_text_tagger_markup_kept (markup, mlen, from, to, len, tokens,
        hl, attrs);
  } else {
    out = g_string_sized_new (len + 64);
    for (i = 0; i < hl->len; i++) {
      const Highlight *h = &g_array_index (hl, Highlight, i);
      gsize start = tokens[h->first].start, end = tokens[h->last].end;

      append_text (out, text + pos, start - pos, TRUE);
      g_string_append_printf (out, "<span %s>", attrs);
      append_text (out, text + start, end - start, TRUE);
      g_string_append (out, "</span>");
      pos = end;
    }
    append_text (out, text + pos, len - pos, TRUE);
    buf = gst_rnn_text_buffer_from_string (out);
  }
  g_array_unref (hl);
  g_free (list);
  g_free (attrs);
  return buf;
}

/* `token/TAG token/TAG ...` and a newline, tokens as written. */
static GstBuffer *
gst_text_tagger_pairs (GstTextTagger * self, const rnn_model * model,
    const gchar * text, const rnn_token * tokens, gsize n)
{
  GString *out = g_string_sized_new (n * 12);
  gsize i;

  for (i = 0; i < n; i++) {
    if (i > 0)
      g_string_append_c (out, ' ');
    append_text (out, text + tokens[i].start, tokens[i].end - tokens[i].start,
        FALSE);
    g_string_append_c (out, '/');
    g_string_append (out, rnn_model_label (model, self->best[i]));
  }
  /* one line per text, like textsentiment's label */
  g_string_append_c (out, '\n');
  return gst_rnn_text_buffer_from_string (out);
}

/* The tensor of @n tokens' probabilities, after setting the caps for this
 * token count. NULL after posting an error when downstream refuses them. */
static GstBuffer *
gst_text_tagger_tensor (GstTextTagger * self, gsize n)
{
  gsize size = n * (gsize) self->n_tags * sizeof (float);
  GstBuffer *out;

  if (self->caps_tokens != n) {
    GstPad *src = gst_rnn_text_get_srcpad (GST_RNN_TEXT (self));
    gchar *dims = g_strdup_printf ("%d:%" G_GSIZE_FORMAT, self->n_tags, n);
    GstCaps *caps = gst_caps_new_simple ("other/tensors",
        "format", G_TYPE_STRING, "static",
        "num_tensors", G_TYPE_INT, 1,
        "types", G_TYPE_STRING, "float32",
        "dimensions", G_TYPE_STRING, dims,
        "framerate", GST_TYPE_FRACTION, 0, 1, NULL);
    /* a stored caps event would only fail at the buffer: ask first */
    gboolean ok = gst_pad_peer_query_accept_caps (src, caps)
        && gst_pad_set_caps (src, caps);

    if (!ok)
      GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
          ("Downstream refused %s for a text of %" G_GSIZE_FORMAT " tokens",
              dims, n), ("caps %" GST_PTR_FORMAT, caps));
    gst_caps_unref (caps);
    g_free (dims);
    if (!ok)
      return NULL;
    self->caps_tokens = n;
  }
  out = gst_buffer_new_allocate (NULL, size, NULL);
  gst_buffer_fill (out, 0, self->probs, size);
  return out;
}

/* A GST_TYPE_ARRAY of the strings text[start, end) of the tokens. */
static void
set_token_array (GValue * arr, const gchar * text, const rnn_token * tokens,
    gsize n)
{
  GValue item = G_VALUE_INIT;
  GString *tmp = g_string_new (NULL);
  gsize i;

  g_value_init (arr, GST_TYPE_ARRAY);
  g_value_init (&item, G_TYPE_STRING);
  for (i = 0; i < n; i++) {
    g_string_truncate (tmp, 0);
    append_text (tmp, text + tokens[i].start, tokens[i].end - tokens[i].start,
        FALSE);
    g_value_set_string (&item, tmp->str);
    gst_value_array_append_value (arr, &item);
  }
  g_value_unset (&item);
  g_string_free (tmp, TRUE);
}

static void
gst_text_tagger_post (GstTextTagger * self, const rnn_model * model,
    GstBuffer * inbuf, const gchar * text, const rnn_token * tokens,
    gsize n, GArray * ents)
{
  GstRnnText *base = GST_RNN_TEXT (self);
  GstStructure *s;
  GValue tags = G_VALUE_INIT, starts = G_VALUE_INIT, ends = G_VALUE_INIT;
  GValue conf = G_VALUE_INIT, arr = G_VALUE_INIT, item = G_VALUE_INIT;
  gsize i;

  s = gst_rnn_message_new (GST_ELEMENT (self), gst_rnn_text_get_segment (base),
      GST_BUFFER_PTS (inbuf), GST_BUFFER_DURATION (inbuf));

  set_token_array (&arr, text, tokens, n);
  gst_structure_take_value (s, "tokens", &arr);

  g_value_init (&tags, GST_TYPE_ARRAY);
  g_value_init (&starts, GST_TYPE_ARRAY);
  g_value_init (&ends, GST_TYPE_ARRAY);
  g_value_init (&conf, GST_TYPE_ARRAY);
  for (i = 0; i < n; i++) {
    int b = self->best[i];

    g_value_init (&item, G_TYPE_STRING);
    g_value_set_string (&item, rnn_model_label (model, b));
    gst_value_array_append_and_take_value (&tags, &item);
    g_value_init (&item, G_TYPE_UINT);
    g_value_set_uint (&item, (guint) tokens[i].start);
    gst_value_array_append_and_take_value (&starts, &item);
    g_value_init (&item, G_TYPE_UINT);
    g_value_set_uint (&item, (guint) tokens[i].end);
    gst_value_array_append_and_take_value (&ends, &item);
    g_value_init (&item, G_TYPE_DOUBLE);
    g_value_set_double (&item,
        (gdouble) self->probs[i * (gsize) self->n_tags + (gsize) b]);
    gst_value_array_append_and_take_value (&conf, &item);
  }
  gst_structure_take_value (s, "tags", &tags);
  gst_structure_take_value (s, "starts", &starts);
  gst_structure_take_value (s, "ends", &ends);
  gst_structure_take_value (s, "confidences", &conf);

  if (self->bio) {
    GString *tmp = g_string_new (NULL);

    g_value_init (&arr, GST_TYPE_ARRAY);
    for (i = 0; i < ents->len; i++) {
      const Entity *e = &g_array_index (ents, Entity, i);
      gsize start = tokens[e->first].start, end = tokens[e->last].end;
      GstStructure *es;

      g_string_truncate (tmp, 0);
      append_text (tmp, text + start, end - start, FALSE);
      es = gst_structure_new ("entity", "label", G_TYPE_STRING, e->label,
          "text", G_TYPE_STRING, tmp->str, "start", G_TYPE_UINT,
          (guint) start, "end", G_TYPE_UINT, (guint) end, NULL);
      g_value_init (&item, GST_TYPE_STRUCTURE);
      g_value_take_boxed (&item, es);
      gst_value_array_append_and_take_value (&arr, &item);
    }
    gst_structure_take_value (s, "entities", &arr);
    g_string_free (tmp, TRUE);
  }
  gst_rnn_post_message (GST_ELEMENT (self), s);
}

static GstFlowReturn
gst_text_tagger_process (GstRnnText * base, GstBuffer * inbuf,
    const gchar * text, gsize len, const rnn_token * tokens, gsize n)
{
  GstTextTagger *self = GST_TEXT_TAGGER (base);
  rnn_model *model = gst_rnn_text_get_model (base);
  rnn_state *state = gst_rnn_text_get_state (base);
  const gsize C = (gsize) self->n_tags;
  rnn_error err = { 0 };
  GArray *ents = NULL;
  GstBuffer *out = NULL;
  gsize t;

  gst_text_tagger_ensure (self, n);

  /* one closed sequence: both directions see exactly this text */
  rnn_state_reset (state);
  if (rnn_state_forward_tokens (state, text, len, tokens, n, self->logits,
          &err) != RNN_OK) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Model \"%s\" failed on a text of %" G_GSIZE_FORMAT " tokens: %s",
            rnn_model_name (model), n, err.msg), (NULL));
    return GST_FLOW_ERROR;
  }

  for (t = 0; t < n; t++) {
    float *p = self->probs + t * C;
    gsize c;
    int best = 0;

    gst_rnn_text_softmax (self->logits + t * C, self->n_tags, p);
    for (c = 1; c < C; c++)
      if (p[c] > p[best])
        best = (int) c;
    self->best[t] = best;
  }
  GST_LOG_OBJECT (self, "%" G_GSIZE_FORMAT " tokens tagged", n);

  if (self->bio) {
    ents = g_array_new (FALSE, FALSE, sizeof (Entity));
    gst_text_tagger_entities (self, model, n, ents);
  }

  if (gst_rnn_text_post_messages (base))
    gst_text_tagger_post (self, model, inbuf, text, tokens, n, ents);

  switch (self->output) {
    case GST_TEXT_TAGGER_OUT_MARKUP:
      out = gst_text_tagger_markup (self, model, text, len, tokens, n, ents);
      break;
    case GST_TEXT_TAGGER_OUT_TEXT:
      out = gst_text_tagger_pairs (self, model, text, tokens, n);
      break;
    case GST_TEXT_TAGGER_OUT_TENSOR:
      out = gst_text_tagger_tensor (self, n);
      break;
  }
  if (ents)
    g_array_unref (ents);
  if (out == NULL)
    return GST_FLOW_NOT_NEGOTIATED;
  return gst_rnn_text_push (base, inbuf, out);
}
