/* gst-rnn: GstRnnSignal, the abstract base of the signal elements.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:gstrnnsignal
 * @title: GstRnnSignal
 * @short_description: base class of the elements that run a recurrent model
 * over a signal (lstmforecast, gruanomaly)
 *
 * #GstRnnSignal loads the model named by #GstRnnSignal:model-file when the
 * element goes from READY to PAUSED and owns the per-stream recurrent state.
 *
 * Caps, on both pads: `audio/x-raw, format=F32LE, layout=interleaved`
 * (channels = features per frame, rate = frames per second, any
 * channel-mask, including 0 for unpositioned channels) or
 * `other/tensors, format=static, num_tensors=1, types=float32,
 * dimensions=F:N, framerate=R/1` (F features by N frames per buffer,
 * innermost first; `dimensions=F` is one frame). An unquoted `3:1` in a
 * caps string parses as a #GstFlagSet whose flags are masked by the mask
 * (`3:1` becomes `1:1`), and fixating the caps then replaces the mask by
 * all ones (`1:ffffffff`), so neither F nor N survives. Such caps are
 * accepted: the feature count is taken from the model (refused when the
 * bits left contradict it), N from the mask while it is not yet fixed, else
 * the output says N = 1 and buffers may hold any whole number of frames.
 * Writing `dimensions=(string)3:1` avoids the ambiguity. The output keeps
 * the family, the rate and N, with the subclass's feature count. With a
 * model loaded, the sink pad's caps query offers only the model's input
 * size (channels or F), so a converter upstream (`audioconvert`) produces
 * it. A feature count that differs from the model's input size all the
 * same (caps forced upstream) fails negotiation with an error naming both
 * numbers. The grammar lives in gstrnnsignalcaps.c.
 *
 * The state is zeroed at the next buffer after: STREAM_START, FLUSH_STOP,
 * a SEGMENT after a seek (see below), a caps change, a DISCONT buffer (when
 * #GstRnnSignal:reset-on-discont is set), the #GstRnnSignal::reset action
 * signal, and a frame holding a non-finite value. A SEGMENT event resets
 * the state when it follows a FLUSH_STOP, or when no flush preceded it but
 * it differs from the current segment (position aside) in format or rate,
 * or its start is not within half a frame of the end of the last input
 * buffer (a seek or a loop); a re-sent identical segment, or one that
 * continues where the stream is, keeps the state.
 *
 * GAP buffers do not touch the state: they produce no output buffer but a
 * GAP event for the same time span (shifted like output buffers). Empty
 * buffers pass through as empty buffers. QoS never drops frames: QOS
 * events are passed upstream without being acted on. The element adds no
 * latency (each output is computed from the frames already received);
 * latency queries return upstream's figures.
 *
 * Bad input: a buffer whose size is not a whole number of frames is
 * dropped with a warning and resets the state (the stream lost
 * continuity). A frame holding NaN or infinity is not fed to the model: its
 * output frame is all NaN, the state is reset (the next frame starts from a
 * zero state) and a warning is posted for the first such frame after the
 * stream (re)starts. In per-channel mode (#GstRnnSignal:per-channel) this
 * applies to each channel on its own: only the channels holding NaN or
 * infinity get NaN and a reset.
 */
#include <math.h>
#include <string.h>
#include <stdlib.h>

#include "gstrnnsignal.h"
#include "gstrnncommon.h"
#include "gstrnnsignalcaps.h"

GST_DEBUG_CATEGORY_STATIC (gst_rnn_signal_debug);
#define GST_CAT_DEFAULT gst_rnn_signal_debug

enum
{
  PROP_0,
  PROP_MODEL_FILE,
  PROP_RESET_ON_DISCONT,
  PROP_PER_CHANNEL,
  PROP_STATE_FILE,
  PROP_PRECISION,
  /* installed per subclass by gst_rnn_signal_class_install_post_messages */
  PROP_POST_MESSAGES = GST_RNN_SIGNAL_PROP_POST_MESSAGES
};

enum
{
  SIGNAL_RESET,
  LAST_SIGNAL
};

static guint signals[LAST_SIGNAL];

typedef struct
{
  /* properties, object lock */
  GstRnnModelSlot slot;         /* model-file, and a model change in flight */
  gint reset_on_discont;        /* atomic (read per buffer) */
  gint post_messages;           /* atomic (read per buffer) */
  gboolean per_channel;
  gchar *state_file;
  GstRnnLifecycle lc;           /* reset requests (any thread), flush seen */

  /* set in start(), cleared in stop(); sizes also read by caps queries
   * under the object lock */
  rnn_model *model;
  guint model_in, model_out;    /* 0 when no model is loaded, or in
                                 * per-channel mode (any count, the same on
                                 * both sides) */
  guint run_in, run_out;        /* the model's input size and the subclass's
                                 * output features for it */
  gboolean cur_per_channel;     /* per-channel as fixed by start() */

  /* streaming thread */
  gboolean have_format;
  GstRnnSignalFormat format;
  gboolean need_reset;          /* zero the state before the next frame */
  gboolean dirty;               /* frames went through since the last reset */
  gboolean mark_discont;        /* DISCONT on the next output buffer */
  gboolean warned_nonfinite;
  GstClockTime last_end;        /* end of the last input buffer */
  GstClockTime cur_pts;         /* PTS of the buffer being processed */
  GstClockTime cur_dur;         /* its duration over cur_frames frames: the
                                 * frame period when cur_frames > 0 (a caps
                                 * rate may be nominal: an integer audio rate
                                 * for a 0.2 Hz sensor) */
  guint64 cur_frames;
  gfloat *aligned;              /* copy of unaligned input */
  gsize aligned_len;
  gfloat *fixed;                /* per channel: a frame, non-finite -> 0 */
  guint8 *bad;                  /* per channel: its non-finite channels */
  gboolean bad_active;          /* process() runs a frame with some */
  GstCaps *refused;             /* input caps refused (error posted once) */
  gboolean said_channels;       /* upstream's channel count refused in a
                                 * caps query (error posted once per run) */
  GstBufferPool *pool;          /* output buffers when downstream has none */
  gsize pool_size;              /* bytes per buffer of @pool */
  gboolean downstream_pool;     /* the allocation query gave a pool */
  gfloat *out_scratch;          /* output of an unaligned in-place buffer */
  gsize out_scratch_len;
  rnn_tensors *restore;         /* state-file read at start, applied at the
                                 * first buffer */
  gboolean restored;            /* the state came from the file (or frames
                                 * went through): worth saving at stop */
} GstRnnSignalPrivate;

/* Deactivate and release the element's own output pool, if any. */
static void
drop_pool (GstRnnSignalPrivate * priv)
{
  if (priv->pool) {
    gst_buffer_pool_set_active (priv->pool, FALSE);
    gst_clear_object (&priv->pool);
  }
  priv->pool_size = 0;
}

G_DEFINE_ABSTRACT_TYPE_WITH_CODE (GstRnnSignal, gst_rnn_signal,
    GST_TYPE_BASE_TRANSFORM, G_ADD_PRIVATE (GstRnnSignal)
    GST_DEBUG_CATEGORY_INIT (gst_rnn_signal_debug, "rnnsignal", 0,
        "base of the rnn signal elements"));

#define PRIV(self) \
  ((GstRnnSignalPrivate *) gst_rnn_signal_get_instance_private (self))

static void gst_rnn_signal_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static gboolean check_running_model (GstElement * element,
    const rnn_model * model, gpointer * data, gchar ** why);
static void gst_rnn_signal_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static void gst_rnn_signal_constructed (GObject * object);
static void gst_rnn_signal_finalize (GObject * object);
static gboolean gst_rnn_signal_start (GstBaseTransform * trans);
static gboolean gst_rnn_signal_stop (GstBaseTransform * trans);
static GstCaps *gst_rnn_signal_transform_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter);
static gboolean gst_rnn_signal_set_caps (GstBaseTransform * trans,
    GstCaps * incaps, GstCaps * outcaps);
static gboolean gst_rnn_signal_transform_size (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, gsize size, GstCaps * othercaps,
    gsize * othersize);
static gboolean gst_rnn_signal_sink_event (GstBaseTransform * trans,
    GstEvent * event);
static gboolean gst_rnn_signal_src_event (GstBaseTransform * trans,
    GstEvent * event);
static gboolean gst_rnn_signal_query (GstBaseTransform * trans,
    GstPadDirection direction, GstQuery * query);
static GstFlowReturn gst_rnn_signal_prepare_output_buffer (GstBaseTransform *
    trans, GstBuffer * inbuf, GstBuffer ** outbuf);
static gboolean gst_rnn_signal_decide_allocation (GstBaseTransform * trans,
    GstQuery * query);
static GstFlowReturn gst_rnn_signal_transform (GstBaseTransform * trans,
    GstBuffer * inbuf, GstBuffer * outbuf);

static void
gst_rnn_signal_reset_action (GstRnnSignal * self)
{
  GST_DEBUG_OBJECT (self, "reset requested");
  gst_rnn_lifecycle_request_reset (&PRIV (self)->lc);
}

static void
gst_rnn_signal_class_init (GstRnnSignalClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstCaps *caps;

  gobject_class->set_property = gst_rnn_signal_set_property;
  gobject_class->get_property = gst_rnn_signal_get_property;
  gobject_class->constructed = gst_rnn_signal_constructed;
  gobject_class->finalize = gst_rnn_signal_finalize;

  /**
   * GstRnnSignal:model-file:
   *
   * Path of the model, a safetensors file (PyTorch state_dict names plus
   * metadata). Read when the element goes from READY to PAUSED; a missing
   * or invalid file, or a model made for another task, fails that state
   * change with an error naming the file and the problem.
   *
   * May be set in PAUSED and PLAYING: the new file is loaded and checked in
   * the setting thread (the stream goes on meanwhile), then swapped in at
   * the next buffer, with the state starting from zero, the next output
   * buffer flagged DISCONT and an INFO message naming the file (details
   * field `model-file`). A file that cannot be used (missing, invalid,
   * another task, refused by the element's settings, or another input size
   * or output count than the stream in progress) posts a WARNING naming
   * it and the problem, and the old model keeps running; the property
   * then still reads the file in use. When several sets race, the last one
   * wins.
   */
  gst_rnn_install_model_file (gobject_class, PROP_MODEL_FILE,
      "Path of the safetensors model to run (read when going to PAUSED; "
      "its `task` metadata must match the element; a change while playing "
      "is swapped in at the next buffer)");

  /**
   * GstRnnSignal:reset-on-discont:
   *
   * Zero the recurrent state when a buffer flagged DISCONT arrives (lost
   * data makes the carried state stale). When false the state is carried
   * across discontinuities.
   */
  gst_rnn_install_reset_on_discont (gobject_class, PROP_RESET_ON_DISCONT,
      TRUE, "Zero the recurrent state when a DISCONT buffer arrives");

  /**
   * GstRnnSignal:per-channel:
   *
   * Run a univariate model (input size 1, output size 1) on every channel
   * of the input independently, each channel with its own recurrent state.
   * The input may then have any number of channels C (audio channels, or
   * tensor dimensions C:N), and the output has C channels too: one
   * forecast (lstmforecast) or one anomaly score (gruanomaly) per channel
   * and frame. The C streams are run together, each recurrent step reading
   * the weights once for all channels, so one element costs far less than
   * C elements. A model with more than one input or output, or a
   * bidirectional one, is refused when going to PAUSED. A reset trigger
   * resets every channel; a NaN or infinity in one channel gives NaN for
   * that channel of that frame and resets that channel only, the others
   * going on untouched. Read when the element goes to PAUSED.
   */
  g_object_class_install_property (gobject_class, PROP_PER_CHANNEL,
      g_param_spec_boolean ("per-channel", "Per channel",
          "Run a univariate model (1 input, 1 output) on every channel "
          "independently, one state per channel, batched (C channels in, "
          "C out)", FALSE,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));

  /**
   * GstRnnSignal::reset:
   * @self: the element
   *
   * Action signal: zero the recurrent state before the next buffer is
   * processed. Safe to emit from any thread.
   */
  /**
   * GstRnnSignal:state-file:
   *
   * Path of a file holding the element's per-stream state, so that a
   * stream continues across a restart of the application (or moves to
   * another host) where it was instead of from a zero state. When the
   * element starts (READY to PAUSED) and the file exists, it is read and
   * checked: a file written by another element or with another model (the
   * SHA-256 of the model file's bytes is stored in it) fails the start with
   * an error that says so. The state it holds replaces the zero state at
   * the first buffer. When the element stops (PAUSED to READY) after frames
   * went through, the state is written to the file (through a temporary
   * file renamed over it). The recurrent state and what else the element
   * carries (lstmforecast: the window's frames; gruanomaly: the pending
   * prediction and the anomaly in progress) are saved; per-channel mode is
   * not supported. Settable in NULL and READY.
   */
  gst_rnn_install_state_file (gobject_class, PROP_STATE_FILE,
      "File the per-stream state is read from at start (if it exists) and "
      "written to at stop, so a stream continues across restarts; refused "
      "when saved with another model");

  /**
   * GstRnnSignal:precision:
   *
   * The precision the model's recurrent weights are held in while it
   * runs, converted when the model is loaded: `f32` (float32, PyTorch
   * parity), `bf16` (bfloat16 weights, half the bytes per step) or `int8`
   * (int8 weights with one scale per row, a quarter of the bytes; the
   * hidden state is quantised at each step). Reduced precision changes the
   * outputs a little (measured on the shipped models in docs/engine.md)
   * and runs faster where the weights' trip from memory is what limits the
   * step. Every value works on every x86-64 CPU, fastest with AVX512-BF16
   * or AVX512-VNNI / AVX-VNNI. Settable in NULL and READY; also applies to
   * a model-file changed while playing.
   */
  gst_rnn_install_precision (gobject_class, PROP_PRECISION,
      "Precision of the recurrent weights at run time: f32 (PyTorch "
      "parity), bf16 or int8 (smaller, faster, a measured accuracy cost)");

  signals[SIGNAL_RESET] = gst_rnn_install_reset_signal (gobject_class,
      G_CALLBACK (gst_rnn_signal_reset_action));

  caps = gst_caps_from_string (GST_RNN_SIGNAL_CAPS);
  gst_element_class_add_pad_template (element_class,
      gst_pad_template_new ("sink", GST_PAD_SINK, GST_PAD_ALWAYS, caps));
  gst_element_class_add_pad_template (element_class,
      gst_pad_template_new ("src", GST_PAD_SRC, GST_PAD_ALWAYS, caps));
  gst_caps_unref (caps);

  trans_class->start = GST_DEBUG_FUNCPTR (gst_rnn_signal_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_rnn_signal_stop);
  trans_class->transform_caps =
      GST_DEBUG_FUNCPTR (gst_rnn_signal_transform_caps);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_rnn_signal_set_caps);
  trans_class->transform_size =
      GST_DEBUG_FUNCPTR (gst_rnn_signal_transform_size);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_rnn_signal_sink_event);
  trans_class->src_event = GST_DEBUG_FUNCPTR (gst_rnn_signal_src_event);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_rnn_signal_query);
  trans_class->transform = GST_DEBUG_FUNCPTR (gst_rnn_signal_transform);
  trans_class->prepare_output_buffer =
      GST_DEBUG_FUNCPTR (gst_rnn_signal_prepare_output_buffer);
  trans_class->decide_allocation =
      GST_DEBUG_FUNCPTR (gst_rnn_signal_decide_allocation);
  trans_class->passthrough_on_same_caps = FALSE;

  klass->task = RNN_TASK_NONE;
  klass->post_messages_default = FALSE;

  gst_type_mark_as_plugin_api (GST_TYPE_RNN_SIGNAL, 0);
}

void
gst_rnn_signal_class_install_post_messages (GstRnnSignalClass * klass,
    gboolean default_value, const gchar * blurb)
{
  klass->post_messages_default = default_value;
  gst_rnn_install_post_messages (G_OBJECT_CLASS (klass), PROP_POST_MESSAGES,
      default_value, blurb);
}

static void
gst_rnn_signal_init (GstRnnSignal * self)
{
  GstRnnSignalPrivate *priv = PRIV (self);

  priv->reset_on_discont = TRUE;
  priv->last_end = GST_CLOCK_TIME_NONE;
  priv->cur_pts = GST_CLOCK_TIME_NONE;

  /* an analysis element: never drop a frame for QoS, and keep GAP flags
   * visible to transform() */
  gst_base_transform_set_qos_enabled (GST_BASE_TRANSFORM (self), FALSE);
  gst_base_transform_set_gap_aware (GST_BASE_TRANSFORM (self), TRUE);
}

static void
gst_rnn_signal_constructed (GObject * object)
{
  GstRnnSignal *self = GST_RNN_SIGNAL (object);

  /* the subclass's default, known only once the real class is */
  PRIV (self)->post_messages =
      GST_RNN_SIGNAL_GET_CLASS (self)->post_messages_default;
  G_OBJECT_CLASS (gst_rnn_signal_parent_class)->constructed (object);
}

static void
gst_rnn_signal_finalize (GObject * object)
{
  GstRnnSignalPrivate *priv = PRIV (GST_RNN_SIGNAL (object));

  gst_rnn_model_slot_clear (&priv->slot);
  g_free (priv->state_file);
  rnn_tensors_free (priv->restore);
  g_free (priv->aligned);
  g_free (priv->out_scratch);
  g_free (priv->fixed);
  g_free (priv->bad);
  gst_caps_replace (&priv->refused, NULL);
  rnn_model_free (priv->model);
  G_OBJECT_CLASS (gst_rnn_signal_parent_class)->finalize (object);
}

static void
gst_rnn_signal_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstRnnSignal *self = GST_RNN_SIGNAL (object);
  GstRnnSignalPrivate *priv = PRIV (self);

  switch (prop_id) {
    case PROP_MODEL_FILE:
      gst_rnn_model_slot_set (&priv->slot, GST_ELEMENT (self),
          g_value_get_string (value), GST_RNN_SIGNAL_GET_CLASS (self)->task,
          check_running_model, NULL);
      break;
    case PROP_RESET_ON_DISCONT:
      g_atomic_int_set (&priv->reset_on_discont, g_value_get_boolean (value));
      break;
    case PROP_POST_MESSAGES:
      g_atomic_int_set (&priv->post_messages, g_value_get_boolean (value));
      break;
    case PROP_PER_CHANNEL:
      GST_OBJECT_LOCK (self);
      priv->per_channel = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_STATE_FILE:
      GST_OBJECT_LOCK (self);
      g_free (priv->state_file);
      priv->state_file = g_value_dup_string (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_PRECISION:
      GST_OBJECT_LOCK (self);
      priv->slot.precision = (rnn_precision) g_value_get_enum (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_rnn_signal_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstRnnSignal *self = GST_RNN_SIGNAL (object);
  GstRnnSignalPrivate *priv = PRIV (self);

  switch (prop_id) {
    case PROP_MODEL_FILE:
      g_value_take_string (value,
          gst_rnn_model_slot_dup_path (&priv->slot, GST_ELEMENT (self)));
      break;
    case PROP_RESET_ON_DISCONT:
      g_value_set_boolean (value, g_atomic_int_get (&priv->reset_on_discont));
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, g_atomic_int_get (&priv->post_messages));
      break;
    case PROP_PER_CHANNEL:
      GST_OBJECT_LOCK (self);
      g_value_set_boolean (value, priv->per_channel);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_STATE_FILE:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, priv->state_file);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_PRECISION:
      GST_OBJECT_LOCK (self);
      g_value_set_enum (value, (gint) priv->slot.precision);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

/* ------------------------------------------------------------ accessors */

const GstRnnSignalFormat *
gst_rnn_signal_get_format (GstRnnSignal * self)
{
  return &PRIV (self)->format;
}

const rnn_model *
gst_rnn_signal_get_model (GstRnnSignal * self)
{
  return PRIV (self)->model;
}

gboolean
gst_rnn_signal_get_per_channel (GstRnnSignal * self)
{
  return PRIV (self)->cur_per_channel;
}

const guint8 *
gst_rnn_signal_get_bad_channels (GstRnnSignal * self)
{
  return PRIV (self)->bad_active ? PRIV (self)->bad : NULL;
}

GstClockTime
gst_rnn_signal_frames_to_time (GstRnnSignal * self, guint64 n)
{
  GstRnnSignalPrivate *priv = PRIV (self);

  if (priv->cur_frames > 0)
    return gst_util_uint64_scale (n, priv->cur_dur, priv->cur_frames);
  if (!priv->have_format || priv->format.rate_n <= 0)
    return GST_CLOCK_TIME_NONE;
  /* n frames of rate_d / rate_n seconds each */
  return gst_util_uint64_scale (n, (guint64) priv->format.rate_d * GST_SECOND,
      (guint64) priv->format.rate_n);
}

GstClockTime
gst_rnn_signal_frame_pts (GstRnnSignal * self, guint i)
{
  GstRnnSignalPrivate *priv = PRIV (self);

  if (!GST_CLOCK_TIME_IS_VALID (priv->cur_pts))
    return GST_CLOCK_TIME_NONE;
  return priv->cur_pts + gst_rnn_signal_frames_to_time (self, i);
}

const GstSegment *
gst_rnn_signal_get_segment (GstRnnSignal * self)
{
  return &GST_BASE_TRANSFORM (self)->segment;
}

gboolean
gst_rnn_signal_post_messages (GstRnnSignal * self)
{
  return g_atomic_int_get (&PRIV (self)->post_messages);
}

/* ------------------------------------------------------------ start/stop */

/* The checks a model passes before it runs, at start and for a change
 * while running: per-channel mode, the subclass's, and for a change the
 * sizes in use (fixed by the negotiated caps). FALSE with *why set. */
static gboolean
check_model (GstRnnSignal * self, const rnn_model * model, gboolean running,
    gchar ** why)
{
  GstRnnSignalClass *klass = GST_RNN_SIGNAL_GET_CLASS (self);
  GstRnnSignalPrivate *priv = PRIV (self);
  gboolean per_channel;
  guint run_in, run_out, in, out;

  GST_OBJECT_LOCK (self);
  per_channel = priv->cur_per_channel;
  run_in = priv->run_in;
  run_out = priv->run_out;
  GST_OBJECT_UNLOCK (self);

  if (per_channel && (rnn_model_input_size (model) != 1
          || rnn_model_output_size (model) != 1
          || rnn_model_num_directions (model) != 1)) {
    *why = g_strdup_printf ("per-channel=true needs a unidirectional "
        "univariate model (input size 1, output size 1) but model '%s' has "
        "input size %d, output size %d and %d direction(s); set "
        "per-channel=false to run a multivariate model on all the channels "
        "together", rnn_model_name (model), rnn_model_input_size (model),
        rnn_model_output_size (model), rnn_model_num_directions (model));
    return FALSE;
  }
  if (klass->check_model && !klass->check_model (self, model, running, why))
    return FALSE;
  if (running) {
    in = rnn_model_input_size (model);
    out = klass->output_features ? klass->output_features (self, model) :
        (guint) rnn_model_output_size (model);
    if (in != run_in || out != run_out) {
      *why = g_strdup_printf ("model '%s' takes %u features per frame and "
          "gives %u, but the stream in progress has %u in and %u out (the "
          "negotiated caps); a model with other sizes needs a restart "
          "(READY, then PAUSED)", rnn_model_name (model), in, out, run_in,
          run_out);
      return FALSE;
    }
  }
  return TRUE;
}

/* GstRnnModelCheck for a model-file set while running. */
static gboolean
check_running_model (GstElement * element, const rnn_model * model,
    gpointer * data, gchar ** why)
{
  return check_model (GST_RNN_SIGNAL (element), model, TRUE, why);
}

/* Under the object lock: @model is the one in use. */
static void
set_model_locked (GstRnnSignal * self, rnn_model * model, guint out)
{
  GstRnnSignalPrivate *priv = PRIV (self);

  priv->model = model;
  priv->run_in = rnn_model_input_size (model);
  priv->run_out = out;
  priv->model_in = priv->cur_per_channel ? 0 : priv->run_in;
  priv->model_out = priv->cur_per_channel ? 0 : out;
}

/* start(): read `state-file` if set and present, for the first buffer.
 * FALSE after posting an error (the model is released by stop()). */
static gboolean
read_state_file (GstRnnSignal * self, const rnn_model * model)
{
  GstRnnSignalClass *klass = GST_RNN_SIGNAL_GET_CLASS (self);
  GstRnnSignalPrivate *priv = PRIV (self);
  gchar *path;
  gboolean ok = TRUE;

  g_clear_pointer (&priv->restore, rnn_tensors_free);
  priv->restored = FALSE;
  GST_OBJECT_LOCK (self);
  path = g_strdup (priv->state_file);
  GST_OBJECT_UNLOCK (self);
  if (path && path[0] && g_file_test (path, G_FILE_TEST_EXISTS)
      && (priv->cur_per_channel || klass->restore_state == NULL)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Cannot restore state file '%s': %s.", path,
            priv->cur_per_channel ? "per-channel mode does not save or "
            "restore its state" : "this element does not restore a state"),
        (NULL));
    ok = FALSE;
  } else {
    ok = gst_rnn_state_file_start (GST_ELEMENT (self), model, path,
        &priv->restore);
  }
  g_free (path);
  return ok;
}

/* stop(): write `state-file` when there is a state worth keeping: frames
 * went through, or a state was restored (a restore never applied leaves
 * the file as it was). */
static void
write_state_file (GstRnnSignal * self)
{
  GstRnnSignalClass *klass = GST_RNN_SIGNAL_GET_CLASS (self);
  GstRnnSignalPrivate *priv = PRIV (self);
  GstRnnStateWriter *w;
  gchar *path;

  GST_OBJECT_LOCK (self);
  path = g_strdup (priv->state_file);
  GST_OBJECT_UNLOCK (self);
  if (path && path[0] && priv->model && priv->have_format
      && priv->restore == NULL && (priv->dirty || priv->restored)
      && !priv->cur_per_channel && klass->save_state) {
    w = gst_rnn_state_writer_new ();
    klass->save_state (self, w);
    gst_rnn_state_file_stop (GST_ELEMENT (self), priv->model, path, w);
  }
  g_free (path);
}

static gboolean
gst_rnn_signal_start (GstBaseTransform * trans)
{
  GstRnnSignal *self = GST_RNN_SIGNAL (trans);
  GstRnnSignalClass *klass = GST_RNN_SIGNAL_GET_CLASS (self);
  GstRnnSignalPrivate *priv = PRIV (self);
  rnn_model *model;
  gchar *path, *why = NULL, *changed;
  guint out, seq;
  rnn_precision precision;

  path = gst_rnn_model_slot_begin (&priv->slot, GST_ELEMENT (self), &seq);
  GST_OBJECT_LOCK (self);
  priv->cur_per_channel = priv->per_channel;
  precision = priv->slot.precision;
  GST_OBJECT_UNLOCK (self);

  model = gst_rnn_load_model (GST_ELEMENT (self), path, klass->task,
      precision);
  if (model == NULL) {
    g_free (path);
    return FALSE;
  }

  if (!check_model (self, model, FALSE, &why)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", why), (NULL));
    g_free (why);
    g_free (path);
    rnn_model_free (model);
    return FALSE;
  }
  if (klass->model_loaded)
    klass->model_loaded (self, model, FALSE);
  out = klass->output_features ? klass->output_features (self, model) :
      (guint) rnn_model_output_size (model);

  GST_OBJECT_LOCK (self);
  set_model_locked (self, model, out);
  GST_OBJECT_UNLOCK (self);

  priv->have_format = FALSE;
  priv->need_reset = FALSE;
  priv->dirty = FALSE;
  priv->mark_discont = TRUE;
  priv->warned_nonfinite = FALSE;
  priv->last_end = GST_CLOCK_TIME_NONE;
  gst_rnn_lifecycle_init (&priv->lc);
  if (!read_state_file (self, model)) {
    g_free (path);
    return FALSE;
  }

  GST_INFO_OBJECT (self, "loaded %s: %s, input %d, output %u per frame%s",
      rnn_model_name (model), rnn_cell_name (rnn_model_cell (model)),
      rnn_model_input_size (model), out,
      priv->cur_per_channel ? ", per channel" : "");

  /* model-file set while this model loaded: a change while running */
  changed = gst_rnn_model_slot_started (&priv->slot, GST_ELEMENT (self), seq,
      path);
  if (changed)
    gst_rnn_model_slot_set (&priv->slot, GST_ELEMENT (self), changed,
        klass->task, check_running_model, NULL);
  g_free (changed);
  g_free (path);
  return TRUE;
}

/* Streaming thread, at a buffer boundary: switch to the model of a
 * model-file set while running, if there is one. The subclass makes its
 * state for it (zeroed), the old model is freed (this thread is its only
 * user), the next output is DISCONT and an INFO message names the file. */
static gboolean
take_next_model (GstRnnSignal * self)
{
  GstRnnSignalClass *klass = GST_RNN_SIGNAL_GET_CLASS (self);
  GstRnnSignalPrivate *priv = PRIV (self);
  rnn_model *model, *old;
  gchar *detail;

  model = gst_rnn_model_slot_take (&priv->slot, GST_ELEMENT (self), NULL);
  if (model == NULL)
    return TRUE;

  if (klass->model_loaded)
    klass->model_loaded (self, model, TRUE);
  GST_OBJECT_LOCK (self);
  old = priv->model;
  /* the sizes are those in use (checked) */
  set_model_locked (self, model, priv->run_out);
  GST_OBJECT_UNLOCK (self);

  if (priv->have_format && !klass->setup (self, model, &priv->format)) {
    rnn_model_free (old);
    priv->have_format = FALSE;
    return FALSE;
  }
  rnn_model_free (old);
  /* a state saved with the previous model means nothing to this one */
  g_clear_pointer (&priv->restore, rnn_tensors_free);
  priv->restored = FALSE;
  priv->need_reset = FALSE;
  priv->dirty = FALSE;
  priv->mark_discont = TRUE;
  priv->warned_nonfinite = FALSE;

  detail = g_strdup_printf ("%s, %d layer(s), hidden %d; the state starts "
      "from zero", rnn_cell_name (rnn_model_cell (model)),
      rnn_model_num_layers (model), rnn_model_hidden_size (model));
  GST_INFO_OBJECT (self, "switched to %s: %s", rnn_model_name (model),
      detail);
  gst_rnn_model_slot_post_switched (GST_ELEMENT (self), model, detail);
  g_free (detail);
  return TRUE;
}

static gboolean
gst_rnn_signal_stop (GstBaseTransform * trans)
{
  GstRnnSignal *self = GST_RNN_SIGNAL (trans);
  GstRnnSignalClass *klass = GST_RNN_SIGNAL_GET_CLASS (self);
  GstRnnSignalPrivate *priv = PRIV (self);
  rnn_model *model;

  write_state_file (self);
  g_clear_pointer (&priv->restore, rnn_tensors_free);
  if (klass->release)
    klass->release (self);

  gst_rnn_model_slot_stopped (&priv->slot, GST_ELEMENT (self));
  GST_OBJECT_LOCK (self);
  model = priv->model;
  priv->model = NULL;
  priv->model_in = priv->model_out = 0;
  priv->run_in = priv->run_out = 0;
  priv->said_channels = FALSE;
  GST_OBJECT_UNLOCK (self);
  rnn_model_free (model);

  priv->have_format = FALSE;
  gst_caps_replace (&priv->refused, NULL);
  drop_pool (priv);
  priv->downstream_pool = FALSE;
  g_free (priv->aligned);
  priv->aligned = NULL;
  priv->aligned_len = 0;
  g_clear_pointer (&priv->out_scratch, g_free);
  priv->out_scratch_len = 0;
  g_clear_pointer (&priv->fixed, g_free);
  g_clear_pointer (&priv->bad, g_free);
  return TRUE;
}

/* ------------------------------------------------------------------ caps */

static GstCaps *
gst_rnn_signal_transform_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter)
{
  GstRnnSignalPrivate *priv = PRIV (GST_RNN_SIGNAL (trans));
  GstCaps *res;
  guint model_in, model_out;
  gboolean per_channel;

  GST_OBJECT_LOCK (trans);
  model_in = priv->model_in;
  model_out = priv->model_out;
  per_channel = priv->model != NULL && priv->cur_per_channel;
  GST_OBJECT_UNLOCK (trans);

  res = gst_rnn_signal_caps_transform (direction, caps, model_in, model_out,
      per_channel);
  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, res,
        GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (res);
    res = tmp;
  }
  GST_DEBUG_OBJECT (trans, "%s %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
      direction == GST_PAD_SINK ? "sink" : "src", caps, res);
  return res;
}

/* set_caps() step: parse @incaps into @sc and check it against the model
 * (per channel: each channel is one univariate stream, so the channel count
 * is free). FALSE with an error posted when it does not fit. */
static gboolean
check_input_caps (GstRnnSignal * self, GstCaps * incaps,
    GstRnnSignalCaps * sc)
{
  GstRnnSignalPrivate *priv = PRIV (self);
  guint model_in = rnn_model_input_size (priv->model);
  gchar *why = NULL;

  if (!gst_rnn_signal_caps_parse (gst_caps_get_structure (incaps, 0), sc,
          &why)) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("Unusable input caps: %s.", why), ("%" GST_PTR_FORMAT, incaps));
    g_free (why);
    return FALSE;
  }

  if (priv->cur_per_channel) {
    if (sc->flagset) {
      GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
          ("per-channel mode cannot tell the channel count from tensor "
              "dimensions parsed as the flag-set %x:%x; write them as "
              "dimensions=(string)C:N.", sc->flags, sc->mask),
          ("%" GST_PTR_FORMAT, incaps));
      return FALSE;
    }
    model_in = sc->features;
  }

  if (sc->flagset) {
    if (!gst_rnn_signal_caps_flagset_fits (sc, model_in)) {
      GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
          ("Input dimensions do not match the model: the model '%s' needs %u "
              "features per frame but the caps' dimensions (parsed as the "
              "flag-set %x:%x, see dimensions=(string)F:N) cannot be %u:N.",
              rnn_model_name (priv->model), model_in, sc->flags, sc->mask,
              model_in), ("%" GST_PTR_FORMAT, incaps));
      return FALSE;
    }
    sc->features = model_in;
  }

  if (sc->features != model_in) {
    gchar *hint = priv->cur_per_channel ? NULL :
        gst_rnn_columns_hint (priv->model);

    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("Input has %u features per frame but the model '%s' needs %u%s%s%s.",
            sc->features, rnn_model_name (priv->model), model_in,
            hint ? " (" : "", hint ? hint : "", hint ? ")" : ""),
        ("input %s %u, model input size %u; caps %" GST_PTR_FORMAT,
            sc->tensors ? "dimensions F =" : "channels =", sc->features,
            model_in, incaps));
    g_free (hint);
    return FALSE;
  }
  return TRUE;
}

/* set_caps() step: @outcaps must carry what the element makes from input
 * @sc: *model_out features per frame, in the same media type. */
static gboolean
check_output_caps (GstRnnSignal * self, GstCaps * outcaps,
    const GstRnnSignalCaps * sc, guint * model_out)
{
  GstRnnSignalPrivate *priv = PRIV (self);
  GstRnnSignalCaps oc;
  gchar *why = NULL;

  memset (&oc, 0, sizeof (oc));
  if (!gst_rnn_signal_caps_parse (gst_caps_get_structure (outcaps, 0), &oc,
          &why)) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("Unusable output caps: %s.", why), ("%" GST_PTR_FORMAT, outcaps));
    g_free (why);
    return FALSE;
  }
  *model_out = priv->cur_per_channel ? sc->features : priv->model_out;
  if (oc.flagset)
    oc.features = *model_out;
  if (oc.features != *model_out || oc.tensors != sc->tensors) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("Output caps carry %u features per frame but the element makes %u.",
            oc.features, *model_out), ("%" GST_PTR_FORMAT, outcaps));
    return FALSE;
  }
  return TRUE;
}

/* set_caps() step: take @fmt as the stream's format and let the subclass
 * set up for it; a new format starts from a zero state. */
static gboolean
apply_format (GstRnnSignal * self, const GstRnnSignalFormat * fmt)
{
  GstRnnSignalClass *klass = GST_RNN_SIGNAL_GET_CLASS (self);
  GstRnnSignalPrivate *priv = PRIV (self);

  gst_caps_replace (&priv->refused, NULL);
  priv->format = *fmt;
  priv->cur_frames = 0;
  priv->have_format = TRUE;
  g_free (priv->fixed);
  g_free (priv->bad);
  priv->fixed = g_new0 (gfloat, fmt->in_features);
  priv->bad = g_new0 (guint8, fmt->in_features);
  if (!klass->setup (self, priv->model, &priv->format)) {
    priv->have_format = FALSE;
    return FALSE;
  }
  /* a caps change is a reset trigger: setup() left the state zeroed */
  priv->need_reset = FALSE;
  priv->dirty = FALSE;
  priv->mark_discont = TRUE;
  priv->warned_nonfinite = FALSE;
  GST_INFO_OBJECT (self, "format: %s, %u -> %u features, %d/%d frames/s",
      fmt->tensors ? "other/tensors" : "audio/x-raw", fmt->in_features,
      fmt->out_features, fmt->rate_n, fmt->rate_d);
  return TRUE;
}

static gboolean
gst_rnn_signal_set_caps (GstBaseTransform * trans, GstCaps * incaps,
    GstCaps * outcaps)
{
  GstRnnSignal *self = GST_RNN_SIGNAL (trans);
  GstRnnSignalPrivate *priv = PRIV (self);
  GstRnnSignalCaps sc;
  GstRnnSignalFormat fmt;
  guint model_out;

  if (priv->model == NULL) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("No model loaded."),
        ("caps arrived before a model was loaded"));
    return FALSE;
  }

  /* base transform retries refused caps at every buffer: one error is
   * enough */
  if (priv->refused && gst_caps_is_equal (priv->refused, incaps)) {
    GST_DEBUG_OBJECT (self, "caps refused again: %" GST_PTR_FORMAT, incaps);
    return FALSE;
  }
  gst_caps_replace (&priv->refused, incaps);

  if (!check_input_caps (self, incaps, &sc)
      || !check_output_caps (self, outcaps, &sc, &model_out))
    return FALSE;

  fmt.tensors = sc.tensors;
  fmt.in_features = sc.features;
  fmt.out_features = model_out;
  fmt.rate_n = sc.rate_n;
  fmt.rate_d = sc.rate_d;
  fmt.caps_frames = sc.tensors ? sc.frames : 0;
  return apply_format (self, &fmt);
}

static gboolean
gst_rnn_signal_transform_size (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, gsize size, GstCaps * othercaps,
    gsize * othersize)
{
  GstRnnSignalPrivate *priv = PRIV (GST_RNN_SIGNAL (trans));
  gsize in_bpf, out_bpf;

  if (!priv->have_format)
    return FALSE;
  in_bpf = priv->format.in_features * sizeof (gfloat);
  out_bpf = priv->format.out_features * sizeof (gfloat);
  if (direction == GST_PAD_SINK)
    *othersize = (size / in_bpf) * out_bpf;
  else
    *othersize = (size / out_bpf) * in_bpf;
  return TRUE;
}

/* ---------------------------------------------------------------- events */

/* Does @seg (arriving without a flush) start somewhere else than where the
 * stream is? */
static gboolean
segment_jumps (GstRnnSignal * self, const GstSegment * seg)
{
  GstRnnSignalPrivate *priv = PRIV (self);
  const GstSegment *cur = &GST_BASE_TRANSFORM (self)->segment;
  GstClockTime half;

  if (seg->format != cur->format || seg->rate != cur->rate
      || seg->applied_rate != cur->applied_rate)
    return TRUE;
  if (seg->start == cur->start && seg->stop == cur->stop
      && seg->time == cur->time && seg->base == cur->base
      && seg->offset == cur->offset)
    return FALSE;               /* the same segment again */
  if (seg->format != GST_FORMAT_TIME || !GST_CLOCK_TIME_IS_VALID (priv->last_end))
    return TRUE;
  half = gst_rnn_signal_frames_to_time (self, 1) / 2;
  if (!GST_CLOCK_TIME_IS_VALID (half))
    half = 0;
  return !(seg->start + half >= priv->last_end
      && seg->start <= priv->last_end + half);
}

/* GstRnnSegmentJumps: only a stream that moved can jump. */
static gboolean
segment_jumps_cb (GstElement * element, const GstSegment * seg)
{
  GstRnnSignal *self = GST_RNN_SIGNAL (element);

  return PRIV (self)->dirty && segment_jumps (self, seg);
}

static gboolean
gst_rnn_signal_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstRnnSignal *self = GST_RNN_SIGNAL (trans);
  GstRnnSignalClass *klass = GST_RNN_SIGNAL_GET_CLASS (self);
  GstRnnSignalPrivate *priv = PRIV (self);
  const gchar *why;

  why = gst_rnn_lifecycle_sink_event (&priv->lc, GST_ELEMENT (self), event,
      segment_jumps_cb);
  if (why != NULL) {
    GST_DEBUG_OBJECT (self, "%s: reset", why);
    priv->need_reset = TRUE;
  }

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_STREAM_START:
    case GST_EVENT_FLUSH_STOP:
      /* a new stream, or a new position in it */
      priv->warned_nonfinite = FALSE;
      priv->last_end = GST_CLOCK_TIME_NONE;
      break;
    case GST_EVENT_GAP:{
      GstClockTime off = klass->output_offset ? klass->output_offset (self) : 0;
      GstClockTime ts, dur;

      /* the state does not move; shift the gap like output buffers */
      if (off > 0 && GST_CLOCK_TIME_IS_VALID (off)) {
        gst_event_parse_gap (event, &ts, &dur);
        if (GST_CLOCK_TIME_IS_VALID (ts)) {
          GstEvent *gap = gst_event_new_gap (ts + off, dur);

          gst_event_set_seqnum (gap, gst_event_get_seqnum (event));
          gst_event_unref (event);
          event = gap;
        }
      }
      break;
    }
    default:
      break;
  }

  return GST_BASE_TRANSFORM_CLASS (gst_rnn_signal_parent_class)->sink_event
      (trans, event);
}

static gboolean
gst_rnn_signal_src_event (GstBaseTransform * trans, GstEvent * event)
{
  if (GST_EVENT_TYPE (event) == GST_EVENT_QOS) {
    /* Never act on QoS: a dropped frame would corrupt the state. */
    return gst_pad_push_event (trans->sinkpad, event);
  }
  return GST_BASE_TRANSFORM_CLASS (gst_rnn_signal_parent_class)->src_event
      (trans, event);
}

/* The sink pad offers only the model's input size. When upstream can give
 * only another count (caps forced before the element, no converter),
 * negotiation is bound to fail in upstream's thread with a bare
 * not-negotiated: say which numbers disagree, once per run. */
static gboolean
query_sink_caps (GstBaseTransform * trans, GstQuery * query)
{
  GstRnnSignalPrivate *priv = PRIV (GST_RNN_SIGNAL (trans));
  GstCaps *filter = NULL, *result = NULL;
  gchar *offered;
  guint model_in;
  gboolean per_channel, said;

  if (!GST_BASE_TRANSFORM_CLASS (gst_rnn_signal_parent_class)->query (trans,
          GST_PAD_SINK, query))
    return FALSE;
  gst_query_parse_caps (query, &filter);
  gst_query_parse_caps_result (query, &result);
  GST_OBJECT_LOCK (trans);
  model_in = priv->model_in;
  per_channel = priv->cur_per_channel;
  said = priv->said_channels;
  GST_OBJECT_UNLOCK (trans);
  if (model_in == 0 || per_channel || said)
    return TRUE;
  offered = gst_rnn_signal_caps_refused_channels (filter, result);
  if (offered) {
    gchar *hint = gst_rnn_columns_hint (priv->model);

    GST_OBJECT_LOCK (trans);
    priv->said_channels = TRUE;
    GST_OBJECT_UNLOCK (trans);
    /* the wording of set_caps' error, plus what fixes a channel count */
    GST_ELEMENT_ERROR (trans, CORE, NEGOTIATION,
        ("Input has %s features per frame but the model '%s' needs %u (%s%s"
            "an audioconvert before the element converts a channel count).",
            offered, rnn_model_name (priv->model), model_in,
            hint ? hint : "", hint ? "; " : ""),
        ("upstream cannot give %u channels; caps query filter %"
            GST_PTR_FORMAT, model_in, filter));
    g_free (hint);
    g_free (offered);
  }
  return TRUE;
}

static gboolean
gst_rnn_signal_query (GstBaseTransform * trans, GstPadDirection direction,
    GstQuery * query)
{
  if (direction == GST_PAD_SRC && GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    gboolean live;
    GstClockTime min, max;

    /* Outputs are computed from frames already received: no latency of our
     * own, so upstream's figures stand. Without a peer, answer 0. */
    if (gst_pad_peer_query (trans->sinkpad, query)) {
      gst_query_parse_latency (query, &live, &min, &max);
      GST_DEBUG_OBJECT (trans, "latency: live %d, min %" GST_TIME_FORMAT
          ", max %" GST_TIME_FORMAT " (nothing added)", live,
          GST_TIME_ARGS (min), GST_TIME_ARGS (max));
      return TRUE;
    }
    if (!gst_pad_is_linked (trans->sinkpad)) {
      gst_query_set_latency (query, FALSE, 0, GST_CLOCK_TIME_NONE);
      return TRUE;
    }
    return FALSE;
  }
  if (direction == GST_PAD_SINK && GST_QUERY_TYPE (query) == GST_QUERY_CAPS)
    return query_sink_caps (trans, query);
  return GST_BASE_TRANSFORM_CLASS (gst_rnn_signal_parent_class)->query
      (trans, direction, query);
}

/* ------------------------------------------------------------- transform */

static void
do_reset (GstRnnSignal * self)
{
  GstRnnSignalPrivate *priv = PRIV (self);

  GST_LOG_OBJECT (self, "state reset");
  GST_RNN_SIGNAL_GET_CLASS (self)->reset (self);
  priv->need_reset = FALSE;
  priv->dirty = FALSE;
  priv->mark_discont = TRUE;
}

static gboolean
frame_is_finite (const gfloat * x, guint n)
{
  guint i;

  for (i = 0; i < n; i++)
    if (!isfinite (x[i]))
      return FALSE;
  return TRUE;
}

/* Per-channel mode: frame @i (@x, @y) holds NaN or infinity in some
 * channels. The others go on as if nothing happened: the frame runs with
 * the bad values replaced by 0 (the subclass told not to act on those
 * channels), then each bad channel's output is NaN and its state zeroed. */
static gboolean
process_bad_channels (GstRnnSignal * self, const gfloat * x, gfloat * y,
    guint i, GstClockTime pts)
{
  GstRnnSignalClass *klass = GST_RNN_SIGNAL_GET_CLASS (self);
  GstRnnSignalPrivate *priv = PRIV (self);
  guint k, fin = priv->format.in_features, first = G_MAXUINT;
  gboolean ok;

  for (k = 0; k < fin; k++) {
    priv->bad[k] = !isfinite (x[k]);
    priv->fixed[k] = priv->bad[k] ? 0.0f : x[k];
    if (priv->bad[k] && first == G_MAXUINT)
      first = k;
  }
  if (!priv->warned_nonfinite) {
    priv->warned_nonfinite = TRUE;
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("Input frame holds NaN or infinity in channel %u; that channel's "
            "state is reset and its output is NaN.", first),
        ("frame %u of buffer at %" GST_TIME_FORMAT " (further ones are "
            "only logged)", i, GST_TIME_ARGS (pts)));
  } else {
    GST_DEBUG_OBJECT (self, "non-finite value in frame %u, channel %u", i,
        first);
  }
  priv->bad_active = TRUE;
  ok = klass->process (self, priv->fixed, y, 1, i);
  priv->bad_active = FALSE;
  for (k = 0; k < fin; k++)
    if (priv->bad[k]) {
      /* per channel, out_features == in_features */
      y[k] = NAN;
      klass->reset_channel (self, k);
    }
  return ok;
}

/* A pool of buffers of @size bytes (or NULL after an error). */
static GstBufferPool *
make_pool (GstRnnSignal * self, gsize size)
{
  GstBufferPool *pool = gst_buffer_pool_new ();
  GstStructure *config = gst_buffer_pool_get_config (pool);

  gst_buffer_pool_config_set_params (config, NULL, size, 0, 0);
  if (!gst_buffer_pool_set_config (pool, config)
      || !gst_buffer_pool_set_active (pool, TRUE)) {
    GST_WARNING_OBJECT (self, "cannot set up a pool of %" G_GSIZE_FORMAT
        "-byte buffers", size);
    gst_object_unref (pool);
    return NULL;
  }
  return pool;
}

/* Whether the allocation query gave a pool (downstream's, or one the base
 * class chose): read per buffer without taking the object lock. */
static gboolean
gst_rnn_signal_decide_allocation (GstBaseTransform * trans, GstQuery * query)
{
  GstRnnSignalPrivate *priv = PRIV (GST_RNN_SIGNAL (trans));
  GstBufferPool *pool = NULL;
  gboolean ok;

  ok = GST_BASE_TRANSFORM_CLASS (gst_rnn_signal_parent_class)->decide_allocation
      (trans, query);
  if (ok && gst_query_get_n_allocation_pools (query) > 0)
    gst_query_parse_nth_allocation_pool (query, 0, &pool, NULL, NULL, NULL);
  priv->downstream_pool = pool != NULL;
  if (pool)
    gst_object_unref (pool);
  return ok;
}

/* gst_buffer_foreach_meta() callback: clears *user_data when the base
 * class's copy of the metadata (default_copy_metadata) would leave @meta
 * behind: it copies a meta that has a transform function and either no
 * tags or the subclass's transform_meta() consent. */
static gboolean
meta_would_be_copied (GstBuffer * buf, GstMeta ** meta, gpointer user_data)
{
  gpointer *d = user_data;
  GstBaseTransform *trans = d[0];
  GstBaseTransformClass *klass = GST_BASE_TRANSFORM_GET_CLASS (trans);
  const GstMetaInfo *info = (*meta)->info;

  if (info->transform_func == NULL
      || (gst_meta_api_type_get_tags (info->api) != NULL
          && (klass->transform_meta == NULL
              || !klass->transform_meta (trans, buf, *meta, buf)))) {
    d[1] = NULL;
    return FALSE;
  }
  return TRUE;
}

/* Whether @inbuf can carry the output itself: same size, writable, and
 * every meta on it one the base class would have copied to a new buffer
 * (so the output looks the same either way). */
static gboolean
can_run_in_place (GstBaseTransform * trans, GstBuffer * inbuf, gsize outsize)
{
  gpointer d[2] = { trans, trans };

  if (outsize == 0 || outsize != gst_buffer_get_size (inbuf)
      || !gst_buffer_is_writable (inbuf)
      || !gst_buffer_is_all_memory_writable (inbuf))
    return FALSE;
  gst_buffer_foreach_meta (inbuf, meta_would_be_copied, d);
  return d[1] != NULL;
}

/* Output buffers: without a pool from the allocation query, the input
 * buffer itself when it can take the output (the same size, and writable:
 * nothing else holds it), else the element's own pool, which holds buffers
 * of the largest output size seen so far (replaced once when a larger
 * buffer arrives), each trimmed to the buffer at hand; a pool buffer gets
 * its full size back when it returns. With a pool from the query, the base
 * class's buffer from it. So a steady stream allocates nothing per
 * buffer. */
static GstFlowReturn
gst_rnn_signal_prepare_output_buffer (GstBaseTransform * trans,
    GstBuffer * inbuf, GstBuffer ** outbuf)
{
  GstRnnSignal *self = GST_RNN_SIGNAL (trans);
  GstRnnSignalPrivate *priv = PRIV (self);
  GstBaseTransformClass *bclass =
      GST_BASE_TRANSFORM_CLASS (gst_rnn_signal_parent_class);
  gsize outsize;
  GstFlowReturn ret;

  if (priv->downstream_pool || !priv->have_format
      || !gst_rnn_signal_transform_size (trans, GST_PAD_SINK, NULL,
          gst_buffer_get_size (inbuf), NULL, &outsize) || outsize == 0)
    return bclass->prepare_output_buffer (trans, inbuf, outbuf);

  if (can_run_in_place (trans, inbuf, outsize)) {
    /* the base class takes an output equal to the input as in place */
    *outbuf = inbuf;
    return GST_FLOW_OK;
  }

  if (priv->pool == NULL || outsize > priv->pool_size) {
    drop_pool (priv);
    priv->pool = make_pool (self, outsize);
    priv->pool_size = priv->pool ? outsize : 0;
    if (priv->pool == NULL)
      return bclass->prepare_output_buffer (trans, inbuf, outbuf);
  }

  ret = gst_buffer_pool_acquire_buffer (priv->pool, outbuf, NULL);
  if (ret != GST_FLOW_OK)
    return ret;
  if (outsize < priv->pool_size)
    gst_buffer_resize (*outbuf, 0, outsize);
  if (bclass->copy_metadata && !bclass->copy_metadata (trans, inbuf, *outbuf))
    GST_DEBUG_OBJECT (self, "could not copy all metadata");
  return GST_FLOW_OK;
}

/* transform() step: a GAP buffer carries no data, so the state does not
 * move; downstream hears of the span through a GAP event. */
static void
forward_gap (GstRnnSignal * self, GstBuffer * inbuf, GstClockTime off)
{
  GstRnnSignalPrivate *priv = PRIV (self);
  GstClockTime pts = GST_BUFFER_PTS (inbuf), dur = GST_BUFFER_DURATION (inbuf);
  gsize in_bpf = priv->format.in_features * sizeof (gfloat);

  if (!GST_CLOCK_TIME_IS_VALID (pts))
    return;
  if (!GST_CLOCK_TIME_IS_VALID (dur))
    dur = gst_rnn_signal_frames_to_time (self,
        gst_buffer_get_size (inbuf) / in_bpf);
  gst_pad_push_event (GST_BASE_TRANSFORM_SRC_PAD (self),
      gst_event_new_gap (pts + off, dur));
}

/* transform() step: a state read from `state-file` at start is applied
 * before the first frames run. FALSE (error posted) when it does not fit. */
static gboolean
apply_restored_state (GstRnnSignal * self)
{
  GstRnnSignalClass *klass = GST_RNN_SIGNAL_GET_CLASS (self);
  GstRnnSignalPrivate *priv = PRIV (self);
  gchar *rwhy = NULL;
  gboolean restored;

  if (priv->restore == NULL)
    return TRUE;
  restored = klass->restore_state (self, priv->restore, &rwhy);
  g_clear_pointer (&priv->restore, rnn_tensors_free);
  if (!restored) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Cannot restore the state file: %s.", rwhy), (NULL));
    g_free (rwhy);
    return FALSE;
  }
  GST_INFO_OBJECT (self, "state restored from the state file");
  priv->restored = TRUE;
  priv->dirty = TRUE;
  return TRUE;
}

/* A float scratch buffer of at least @len floats (grown, never shrunk, so
 * a steady stream allocates nothing). */
static gfloat *
scratch (gfloat ** buf, gsize * have, gsize len)
{
  if (*have < len) {
    g_free (*buf);
    *buf = g_new (gfloat, len);
    *have = len;
  }
  return *buf;
}

/* transform() step: @n frames of input as aligned floats: the mapped data
 * itself, or a copy in the element's scratch buffer when it is not
 * float-aligned or @copy (the output goes to the same memory). */
static const gfloat *
aligned_input (GstRnnSignalPrivate * priv, const guint8 * data, guint n,
    gboolean copy)
{
  gsize len = (gsize) n * priv->format.in_features;

  if (!copy && ((guintptr) data) % sizeof (gfloat) == 0)
    return (const gfloat *) data;
  memcpy (scratch (&priv->aligned, &priv->aligned_len, len), data,
      len * sizeof (gfloat));
  return priv->aligned;
}

/* A non-finite input frame @i (not per channel): NaN outputs and a reset;
 * the first one of a stream is a warning, later ones are logged. */
static void
output_nonfinite_frame (GstRnnSignal * self, gfloat * y, guint i,
    GstClockTime pts)
{
  GstRnnSignalPrivate *priv = PRIV (self);
  guint fout = priv->format.out_features, k;

  if (!priv->warned_nonfinite) {
    priv->warned_nonfinite = TRUE;
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("Input frame holds NaN or infinity; the state is reset and the "
            "frame's output is NaN."),
        ("frame %u of buffer at %" GST_TIME_FORMAT
            " (further ones are only logged)", i, GST_TIME_ARGS (pts)));
  } else {
    GST_DEBUG_OBJECT (self, "non-finite frame %u: reset", i);
  }
  for (k = 0; k < fout; k++)
    y[(gsize) i * fout + k] = NAN;
  do_reset (self);
}

/* transform() step: @n frames @x -> outputs @y. Runs of finite frames go to
 * the subclass; a non-finite frame resets the state and gets NaN outputs
 * (per channel: only the channels holding one). FALSE when the subclass
 * failed (it posted the error). */
static gboolean
process_frames (GstRnnSignal * self, const gfloat * x, gfloat * y, guint n,
    GstClockTime pts)
{
  GstRnnSignalClass *klass = GST_RNN_SIGNAL_GET_CLASS (self);
  GstRnnSignalPrivate *priv = PRIV (self);
  guint fin = priv->format.in_features, fout = priv->format.out_features;
  guint i = 0, run;
  gboolean ok = TRUE;

  while (i < n && ok) {
    if (!frame_is_finite (x + (gsize) i * fin, fin) && priv->cur_per_channel
        && klass->reset_channel) {
      ok = process_bad_channels (self, x + (gsize) i * fin,
          y + (gsize) i * fout, i, pts);
      priv->dirty = TRUE;
      i++;
      continue;
    }
    if (!frame_is_finite (x + (gsize) i * fin, fin)) {
      output_nonfinite_frame (self, y, i, pts);
      i++;
      continue;
    }
    run = 1;
    while (i + run < n && frame_is_finite (x + (gsize) (i + run) * fin, fin))
      run++;
    ok = klass->process (self, x + (gsize) i * fin, y + (gsize) i * fout, run,
        i);
    priv->dirty = TRUE;
    i += run;
  }
  return ok;
}

/* transform() step: the output's timestamp (input's shifted by @off), the
 * stream end reached, a pending DISCONT mark, then the subclass's touch. */
static void
stamp_output (GstRnnSignal * self, GstBuffer * outbuf, GstClockTime pts,
    GstClockTime dur, GstClockTime off, guint n)
{
  GstRnnSignalClass *klass = GST_RNN_SIGNAL_GET_CLASS (self);
  GstRnnSignalPrivate *priv = PRIV (self);

  if (GST_CLOCK_TIME_IS_VALID (pts)) {
    GST_BUFFER_PTS (outbuf) = pts + off;
    if (!GST_CLOCK_TIME_IS_VALID (dur))
      dur = gst_rnn_signal_frames_to_time (self, n);
    priv->last_end = pts + dur;
  }
  if (priv->mark_discont) {
    GST_BUFFER_FLAG_SET (outbuf, GST_BUFFER_FLAG_DISCONT);
    priv->mark_discont = FALSE;
  }
  if (klass->finish_buffer)
    klass->finish_buffer (self, outbuf);
}

static GstFlowReturn
gst_rnn_signal_transform (GstBaseTransform * trans, GstBuffer * inbuf,
    GstBuffer * outbuf)
{
  GstRnnSignal *self = GST_RNN_SIGNAL (trans);
  GstRnnSignalClass *klass = GST_RNN_SIGNAL_GET_CLASS (self);
  GstRnnSignalPrivate *priv = PRIV (self);
  GstMapInfo inmap, outmap;
  gsize in_bpf, size, out_len;
  guint n, fin;
  gboolean reset_on_discont, ok, aligned;
  gfloat *y;
  GstClockTime off, pts, dur;
  const gchar *why;

  if (!priv->have_format) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("No format negotiated."),
        ("a buffer arrived before caps"));
    return GST_FLOW_NOT_NEGOTIATED;
  }

  fin = priv->format.in_features;
  in_bpf = fin * sizeof (gfloat);
  pts = GST_BUFFER_PTS (inbuf);
  dur = GST_BUFFER_DURATION (inbuf);
  /* timestamps are the truth: the buffer's own frame period */
  priv->cur_frames = GST_CLOCK_TIME_IS_VALID (dur) && dur > 0 ?
      gst_buffer_get_size (inbuf) / in_bpf : 0;
  priv->cur_dur = dur;
  off = klass->output_offset ? klass->output_offset (self) : 0;
  if (!GST_CLOCK_TIME_IS_VALID (off))
    off = 0;

  reset_on_discont = g_atomic_int_get (&priv->reset_on_discont);

  if (!take_next_model (self))
    return GST_FLOW_ERROR;

  why = gst_rnn_lifecycle_check_buffer (&priv->lc, inbuf, reset_on_discont,
      priv->dirty);
  if (why != NULL) {
    GST_DEBUG_OBJECT (self, "%s: reset", why);
    priv->need_reset = TRUE;
  }

  size = gst_buffer_get_size (inbuf);

  if (GST_BUFFER_FLAG_IS_SET (inbuf, GST_BUFFER_FLAG_GAP)) {
    forward_gap (self, inbuf, off);
    return GST_BASE_TRANSFORM_FLOW_DROPPED;
  }

  if (size % in_bpf != 0) {
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("Dropped a buffer of %" G_GSIZE_FORMAT " bytes: not a whole number "
            "of frames of %u float32 features (%" G_GSIZE_FORMAT " bytes).",
            size, fin, in_bpf),
        ("buffer %" GST_PTR_FORMAT "; the state is reset", inbuf));
    priv->need_reset = TRUE;
    return GST_BASE_TRANSFORM_FLOW_DROPPED;
  }
  n = size / in_bpf;
  if (n == 0) {
    /* empty buffer: passed on (timestamps shifted) without touching the
     * state */
    if (GST_CLOCK_TIME_IS_VALID (pts))
      GST_BUFFER_PTS (outbuf) = pts + off;
    return GST_FLOW_OK;
  }

  if (priv->need_reset)
    do_reset (self);
  if (!apply_restored_state (self))
    return GST_FLOW_ERROR;

  priv->cur_pts = pts;
  out_len = (gsize) n * priv->format.out_features;
  if (inbuf == outbuf) {
    /* in place (prepare_output_buffer): one mapping, the input copied out
     * first; an unaligned buffer gets its output through a scratch */
    if (!gst_buffer_map (outbuf, &outmap, GST_MAP_READWRITE))
      goto map_failed;
    g_assert (outmap.size >= out_len * sizeof (gfloat));
    aligned = ((guintptr) outmap.data) % sizeof (gfloat) == 0;
    y = aligned ? (gfloat *) outmap.data : scratch (&priv->out_scratch,
        &priv->out_scratch_len, out_len);
    ok = process_frames (self, aligned_input (priv, outmap.data, n, TRUE), y,
        n, pts);
    if (!aligned)
      memcpy (outmap.data, y, out_len * sizeof (gfloat));
    gst_buffer_unmap (outbuf, &outmap);
  } else {
    if (!gst_buffer_map (inbuf, &inmap, GST_MAP_READ))
      goto map_failed;
    if (!gst_buffer_map (outbuf, &outmap, GST_MAP_WRITE)) {
      gst_buffer_unmap (inbuf, &inmap);
      goto map_failed;
    }
    g_assert (outmap.size >= out_len * sizeof (gfloat));
    ok = process_frames (self, aligned_input (priv, inmap.data, n, FALSE),
        (gfloat *) outmap.data, n, pts);
    gst_buffer_unmap (outbuf, &outmap);
    gst_buffer_unmap (inbuf, &inmap);
  }
  if (!ok)
    return GST_FLOW_ERROR;

  stamp_output (self, outbuf, pts, dur, off, n);
  return GST_FLOW_OK;

map_failed:
  GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Could not map a buffer."),
      (NULL));
  return GST_FLOW_ERROR;
}
