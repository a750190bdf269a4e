/* gst-rnn: gruanomaly, scores every frame of a signal for anomaly.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-gruanomaly
 * @title: gruanomaly
 * @short_description: score every frame of a signal for anomaly with a
 * recurrent one-step forecaster and post anomaly start/end messages
 *
 * gruanomaly runs a one-step forecasting model (a safetensors file whose
 * `task` metadata is `anomaly`, output size equal to its input size; GRU is
 * what the trainer makes, any cell works) over a signal. For each frame t
 * it compares the frame x(t) with the model's prediction p(t) of it, made
 * after frame t-1, in normalised units (the model's input normalisation
 * applied to both; plain units when it has none):
 *
 *   e(t) = x(t) - p(t),
 *   score(t) = sqrt (mean_i (((e(t)_i - error_mean_i) / error_std_i)^2))
 *
 * with `error_mean` and `error_std` from the model's `anomaly.error_mean`
 * and `anomaly.error_std` metadata (0 and 1 by default). The first frame
 * after a reset has no prediction and scores 0.
 *
 * That is the `fixed` #GstGruAnomaly:scoring. The default, `adaptive`,
 * judges the same error against the recent errors of the stream: the
 * output is the surprise -log10 Q((m - mu) / sigma) of the mean m of the
 * last 10 frames' scores, mu and sigma those of m over the last
 * #GstGruAnomaly:error-window frames, so #GstGruAnomaly:threshold T is a
 * false-alarm probability of 10^-T per frame (default 5). It also moves a
 * level outside the training range back into it, feeds the model a frame
 * far beyond the threshold shrunk (at most 3 in a row, so a spike does
 * not poison the state), scores 0 during a warm-up after a reset and for
 * #GstGruAnomaly:hold - 1 frames after an anomaly starts (docs/
 * anomaly-scoring.md).
 *
 * The output has the input's caps family and rate with a single feature
 * (1 channel, or dimensions 1:N): the score of every input frame, with the
 * input buffer's timestamps.
 *
 * An anomaly starts at the first frame whose output score is >=
 * #GstGruAnomaly:threshold and ends at the first frame whose output score
 * is back below it. With
 * #GstRnnSignal:post-messages (the default) an element message named
 * `gruanomaly` is posted at each start and each end, with fields:
 *
 * - `timestamp` (guint64): PTS of the frame where the anomaly starts or
 *   ends (the buffer's PTS plus the frame's offset in it).
 * - `stream-time` (guint64): stream time of that frame.
 * - `running-time` (guint64): running time of that frame.
 * - `duration` (guint64): one frame period.
 * - `event` (string): `"start"` or `"end"`.
 * - `score` (gdouble): the peak score of the anomaly so far (at `start`,
 *   the score of the starting frame).
 * - `threshold` (gdouble): the threshold in use.
 * - `channel` (guint): only with #GstRnnSignal:per-channel, the channel
 *   (0-based) the anomaly is in.
 *
 * With #GstRnnSignal:per-channel set, a univariate model (one input, one
 * output) scores every channel of the input on its own, each channel with
 * its own state: C channels in, C scores out per frame (1 feature each,
 * so score(t)_c = |(e(t)_c - error_mean) / error_std|), computed together
 * in one batched pass. Anomalies start and end per channel, each message
 * naming its `channel`.
 *
 * The state is reset as described for the base class (STREAM_START,
 * FLUSH_STOP, a SEGMENT after a seek, a caps change, a DISCONT buffer when
 * #GstRnnSignal:reset-on-discont is set, the `reset` action signal, a
 * non-finite frame); the frame after a reset scores 0, which ends an
 * anomaly in progress. A frame holding NaN or infinity outputs a NaN score
 * and neither starts nor ends an anomaly. An anomaly still open at EOS gets
 * no `end` message. GAP buffers leave the state alone and become GAP
 * events. The element adds no latency.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -m audiotestsrc wave=sine freq=0.5 samplesperbuffer=10 num-buffers=10 ! \
 *   audio/x-raw,format=F32LE,rate=10,channels=2 ! \
 *   gruanomaly model-file=tests/fixtures/elements/an_gru.safetensors threshold=2 ! \
 *   fakesink
 * ]| prints a `gruanomaly` message at each anomaly start and end of a
 * 2-channel signal at 10 frames per second (run from the source tree; the
 * model is a test fixture).
 * |[
 * gst-launch-1.0 -m filesrc location=machine.csv ! csvparse rate=10 ! \
 *   gruanomaly model-file=anomaly.safetensors ! csvenc ! filesink location=scores.csv
 * ]| writes the score of every CSV row and posts anomaly messages.
 * |[
 * gst-launch-1.0 -m audiotestsrc wave=sine freq=0.5 samplesperbuffer=10 num-buffers=10 ! \
 *   audio/x-raw,format=F32LE,rate=10,channels=4 ! \
 *   gruanomaly model-file=tests/fixtures/elements/an_uni.safetensors per-channel=true ! \
 *   fakesink
 * ]| scores each of 4 channels with a univariate model, one state per
 * channel, posting anomaly messages that name the channel.
 */
#include <math.h>
#include <string.h>

#include "gstgruanomaly.h"
#include "gstrnncommon.h"
#include "gstrnnelements.h"

GST_DEBUG_CATEGORY_STATIC (gst_gru_anomaly_debug);
#define GST_CAT_DEFAULT gst_gru_anomaly_debug

#define DEFAULT_THRESHOLD 4.0
#define DEFAULT_ADAPTIVE_THRESHOLD 5.0
#define DEFAULT_SCORING GST_GRU_ANOMALY_SCORING_ADAPTIVE
#define DEFAULT_HOLD -1
#define DEFAULT_ERROR_WINDOW 8640
#define DEFAULT_WARMUP -1
#define CHUNK_FRAMES 256
/* 2^-20: the error x - p of a normalised value x at least this large and
 * a prediction p below 2^9 is exact in double (exponents at most 28
 * apart), so the detector's feed p + (x - p) is x again */
#define TINY_FEED 9.5367431640625e-07f

enum
{
  PROP_0,
  PROP_THRESHOLD,
  PROP_SCORING,
  PROP_HOLD,
  PROP_ERROR_WINDOW,
  PROP_WARMUP
};

typedef enum
{
  GST_GRU_ANOMALY_SCORING_FIXED,
  GST_GRU_ANOMALY_SCORING_ADAPTIVE
} GstGruAnomalyScoring;

#define GST_TYPE_GRU_ANOMALY_SCORING (gst_gru_anomaly_scoring_get_type ())
static GType
gst_gru_anomaly_scoring_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_GRU_ANOMALY_SCORING_FIXED, "The normative score: the prediction "
          "error standardised with the model's error statistics, against a "
          "fixed threshold", "fixed"},
    {GST_GRU_ANOMALY_SCORING_ADAPTIVE, "Surprise (-log10 of the tail "
          "probability) of the error under the recent error distribution, "
          "with level tracking, anomalous frames kept out of the state, "
          "warm-up and hold", "adaptive"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstGruAnomalyScoring", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

struct _GstGruAnomaly
{
  GstRnnSignal parent;

  /* properties, object lock */
  gdouble threshold;
  gboolean threshold_set;       /* set by the user, else the model's */
  gint threshold_changes;       /* atomic: bumped at each threshold write */
  gdouble model_threshold;      /* the model's anomaly.threshold */
  GstGruAnomalyScoring scoring;
  gint hold;
  guint error_window;
  gint warmup;

  /* streaming thread */
  guint nf;                     /* features (input = output size) */
  guint groups;                 /* scores per frame: 1, or the channels in
                                 * per-channel mode (one feature each) */
  const rnn_model *model;
  rnn_state *state;
  rnn_batch_state *batch;       /* per-channel mode */
  gfloat *pred;                 /* CHUNK_FRAMES predictions, then normalised */
  gfloat *xn;                   /* CHUNK_FRAMES normalised inputs */
  gfloat *prev;                 /* normalised prediction of the next frame */
  gboolean *have_prev;          /* [groups]: a prediction of this frame */
  const float *err_mean, *err_std;
  gboolean *in_anomaly;          /* [groups] */
  gdouble *peak;                /* [groups] */
  rnn_detector *det;            /* adaptive scoring */
  gdouble cur_threshold;        /* the threshold in use, read when */
  gint threshold_seen;          /* threshold_changes moves past this */
  gfloat *feed;                 /* [nf] normalised, then raw, frame fed */
  gboolean chunked;             /* adaptive scoring over runs of frames */
  guint run_len;                /* frames of the next run */
  gfloat *guess, *guess_raw;    /* [CHUNK_FRAMES] feeds guessed for a run */
  gfloat *snap;                 /* the state at the run's start */
};

G_DEFINE_TYPE (GstGruAnomaly, gst_gru_anomaly, GST_TYPE_RNN_SIGNAL);
GST_ELEMENT_REGISTER_DEFINE (gruanomaly, "gruanomaly", GST_RANK_NONE,
    GST_TYPE_GRU_ANOMALY);

/* The threshold when the user set none (object lock held). */
static gdouble
default_threshold (GstGruAnomaly * self)
{
  return self->scoring == GST_GRU_ANOMALY_SCORING_FIXED ?
      self->model_threshold : DEFAULT_ADAPTIVE_THRESHOLD;
}

static void
gst_gru_anomaly_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstGruAnomaly *self = GST_GRU_ANOMALY (object);

  switch (prop_id) {
    case PROP_THRESHOLD:
      GST_OBJECT_LOCK (self);
      self->threshold = g_value_get_double (value);
      self->threshold_set = TRUE;
      g_atomic_int_inc (&self->threshold_changes);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_SCORING:
      GST_OBJECT_LOCK (self);
      self->scoring = (GstGruAnomalyScoring) g_value_get_enum (value);
      if (!self->threshold_set)
        self->threshold = default_threshold (self);
      g_atomic_int_inc (&self->threshold_changes);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_HOLD:
      GST_OBJECT_LOCK (self);
      self->hold = g_value_get_int (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_ERROR_WINDOW:
      GST_OBJECT_LOCK (self);
      self->error_window = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_WARMUP:
      GST_OBJECT_LOCK (self);
      self->warmup = g_value_get_int (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_CLASS (gst_gru_anomaly_parent_class)->set_property (object,
          prop_id, value, pspec);
      break;
  }
}

static void
gst_gru_anomaly_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstGruAnomaly *self = GST_GRU_ANOMALY (object);

  switch (prop_id) {
    case PROP_THRESHOLD:
      GST_OBJECT_LOCK (self);
      g_value_set_double (value, self->threshold);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_SCORING:
      GST_OBJECT_LOCK (self);
      g_value_set_enum (value, self->scoring);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_HOLD:
      GST_OBJECT_LOCK (self);
      g_value_set_int (value, self->hold);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_ERROR_WINDOW:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->error_window);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_WARMUP:
      GST_OBJECT_LOCK (self);
      g_value_set_int (value, self->warmup);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_CLASS (gst_gru_anomaly_parent_class)->get_property (object,
          prop_id, value, pspec);
      break;
  }
}

static void
free_stream (GstGruAnomaly * self)
{
  rnn_state_free (self->state);
  rnn_batch_state_free (self->batch);
  self->state = NULL;
  self->batch = NULL;
  g_clear_pointer (&self->in_anomaly, g_free);
  g_clear_pointer (&self->peak, g_free);
  g_clear_pointer (&self->pred, g_free);
  g_clear_pointer (&self->xn, g_free);
  g_clear_pointer (&self->prev, g_free);
  g_clear_pointer (&self->have_prev, g_free);
  g_clear_pointer (&self->feed, g_free);
  g_clear_pointer (&self->guess, g_free);
  g_clear_pointer (&self->guess_raw, g_free);
  g_clear_pointer (&self->snap, g_free);
  self->chunked = FALSE;
  g_clear_pointer (&self->det, rnn_detector_free);
  self->model = NULL;
}

static void
gst_gru_anomaly_finalize (GObject * object)
{
  free_stream (GST_GRU_ANOMALY (object));
  G_OBJECT_CLASS (gst_gru_anomaly_parent_class)->finalize (object);
}

static gboolean
gst_gru_anomaly_check_model (GstRnnSignal * base, const rnn_model * model,
    gboolean running, gchar ** why)
{
  int in = rnn_model_input_size (model), out = rnn_model_output_size (model);

  if (in != out) {
    *why = g_strdup_printf ("model '%s' has input size %d but output size "
        "%d; gruanomaly needs a one-step forecaster whose output size equals "
        "its input size", rnn_model_name (model), in, out);
    return FALSE;
  }
  if (rnn_model_num_directions (model) == 2) {
    *why = g_strdup_printf ("model '%s' is bidirectional; gruanomaly needs a "
        "causal one-step forecaster (a prediction of frame t from frames "
        "before t)", rnn_model_name (model));
    return FALSE;
  }
  if (rnn_model_head_input (model) != RNN_HEAD_OUTPUT) {
    *why = g_strdup_printf ("model '%s' has no per-frame output (head.input "
        "is not 'output'); gruanomaly needs a prediction per frame",
        rnn_model_name (model));
    return FALSE;
  }
  return TRUE;
}

/* Unless set, the threshold follows the model in use (also after a change
 * while running). */
static void
gst_gru_anomaly_model_loaded (GstRnnSignal * base, const rnn_model * model,
    gboolean running)
{
  GstGruAnomaly *self = GST_GRU_ANOMALY (base);

  GST_OBJECT_LOCK (self);
  self->model_threshold = rnn_model_anomaly_threshold (model);
  if (!self->threshold_set)
    self->threshold = default_threshold (self);
  g_atomic_int_inc (&self->threshold_changes);
  GST_OBJECT_UNLOCK (self);
}

static guint
gst_gru_anomaly_output_features (GstRnnSignal * base, const rnn_model * model)
{
  /* per-channel mode: the base makes it one score per channel */
  return 1;
}

static gboolean
gst_gru_anomaly_setup (GstRnnSignal * base, const rnn_model * model,
    const GstRnnSignalFormat * format)
{
  GstGruAnomaly *self = GST_GRU_ANOMALY (base);
  rnn_error err;

  free_stream (self);
  self->nf = format->in_features;
  self->groups = gst_rnn_signal_get_per_channel (base) ? self->nf : 1;
  self->model = model;
  memset (&err, 0, sizeof (err));
  if (gst_rnn_signal_get_per_channel (base)) {
    if (rnn_batch_state_new (model, self->nf, CHUNK_FRAMES, &self->batch,
            &err) != RNN_OK) {
      GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
          ("Could not create the per-channel state for %u channels: %s",
              self->nf, err.msg), (NULL));
      return FALSE;
    }
  } else if (rnn_state_new (model, CHUNK_FRAMES, &self->state, &err)
      != RNN_OK) {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
        ("Could not create the recurrent state: %s", err.msg), (NULL));
    return FALSE;
  }
  self->pred = g_new0 (gfloat, (gsize) CHUNK_FRAMES * self->nf);
  self->xn = g_new0 (gfloat, (gsize) CHUNK_FRAMES * self->nf);
  self->prev = g_new0 (gfloat, self->nf);
  self->have_prev = g_new0 (gboolean, self->groups);
  self->err_mean = rnn_model_anomaly_error_mean (model);
  self->err_std = rnn_model_anomaly_error_std (model);
  self->in_anomaly = g_new0 (gboolean, self->groups);
  self->peak = g_new0 (gdouble, self->groups);
  self->feed = g_new0 (gfloat, self->nf);

  GST_OBJECT_LOCK (self);
  self->cur_threshold = self->threshold;
  self->threshold_seen = self->threshold_changes;
  if (self->scoring != GST_GRU_ANOMALY_SCORING_FIXED) {
    rnn_detector_config cfg;

    rnn_detector_config_init (&cfg);
    cfg.threshold = self->threshold;
    cfg.hold = self->hold;
    cfg.window = self->error_window;
    cfg.warmup = self->warmup;
    GST_OBJECT_UNLOCK (self);
    if (rnn_detector_new (model, self->groups, self->nf / self->groups, &cfg,
            &self->det, &err) != RNN_OK) {
      GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
          ("Could not set up adaptive scoring: %s", err.msg), (NULL));
      return FALSE;
    }
    /* runs of frames where the engine's results do not depend on how the
     * frames are split into calls: one input, one layer (a wider input or
     * a second layer goes through other products for runs of frames than
     * for one) */
    self->chunked = self->batch == NULL && rnn_model_input_size (model) == 1
        && rnn_model_num_layers (model) == 1;
    if (self->chunked) {
      self->run_len = CHUNK_FRAMES;
      self->guess = g_new0 (gfloat, CHUNK_FRAMES);
      self->guess_raw = g_new0 (gfloat, CHUNK_FRAMES);
      self->snap = g_new0 (gfloat, rnn_state_size (self->state));
    }
  } else {
    GST_OBJECT_UNLOCK (self);
  }
  return TRUE;
}

static void
gst_gru_anomaly_reset (GstRnnSignal * base)
{
  GstGruAnomaly *self = GST_GRU_ANOMALY (base);

  /* the anomaly tracking follows the scores: the next frame scores 0 and
   * ends an anomaly in progress */
  if (self->state)
    rnn_state_reset (self->state);
  if (self->batch)
    rnn_batch_state_reset (self->batch);
  if (self->have_prev)
    memset (self->have_prev, 0, self->groups * sizeof (gboolean));
  if (self->det)
    rnn_detector_reset (self->det);
}

/* state-file: the recurrent state, the prediction of the next frame and
 * the anomaly in progress (single-stream mode: one group). */
static void
gst_gru_anomaly_save_state (GstRnnSignal * base, GstRnnStateWriter * w)
{
  GstGruAnomaly *self = GST_GRU_ANOMALY (base);
  gfloat track[4];

  if (self->state == NULL)
    return;
  gst_rnn_state_writer_add_state (w, "state", self->state);
  gst_rnn_state_writer_add (w, "prediction", self->prev, self->nf);
  /* have a prediction, in an anomaly, and the anomaly's peak score: a
   * double, kept bit for bit in the last two floats so that the messages
   * after a restart report the same peak */
  track[0] = self->have_prev[0] ? 1.0f : 0.0f;
  track[1] = self->in_anomaly[0] ? 1.0f : 0.0f;
  memcpy (&track[2], &self->peak[0], sizeof (gdouble));
  gst_rnn_state_writer_add (w, "tracking", track, 4);
  if (self->det != NULL) {
    gsize n = rnn_detector_state_size (self->det);
    gfloat *buf = g_new (gfloat, n);

    rnn_detector_get_state (self->det, buf, n, NULL);
    gst_rnn_state_writer_add (w, "detector", buf, n);
    g_free (buf);
  }
}

static gboolean
gst_gru_anomaly_restore_state (GstRnnSignal * base,
    const rnn_tensors * file, gchar ** why)
{
  GstGruAnomaly *self = GST_GRU_ANOMALY (base);
  const gfloat *prev, *track;

  if (self->state == NULL
      || !gst_rnn_state_file_get_state (file, "state", self->state, why))
    return FALSE;
  prev = gst_rnn_state_file_get (file, "prediction", self->nf, why);
  track = prev ? gst_rnn_state_file_get (file, "tracking", 4, why) : NULL;
  if (track == NULL)
    return FALSE;
  memcpy (self->prev, prev, self->nf * sizeof (gfloat));
  self->have_prev[0] = track[0] != 0.0f;
  self->in_anomaly[0] = track[1] != 0.0f;
  memcpy (&self->peak[0], &track[2], sizeof (gdouble));
  if (self->det != NULL) {
    gsize n = rnn_detector_state_size (self->det);
    const gfloat *buf = gst_rnn_state_file_get (file, "detector", n, why);
    rnn_error err;

    if (buf == NULL)
      return FALSE;
    if (rnn_detector_set_state (self->det, buf, n, &err) != RNN_OK) {
      *why = g_strdup (err.msg);
      return FALSE;
    }
  }
  return TRUE;
}

/* Per-channel mode: @channel held NaN or infinity; its next frame scores
 * 0 from a zero state. */
static void
gst_gru_anomaly_reset_channel (GstRnnSignal * base, guint channel)
{
  GstGruAnomaly *self = GST_GRU_ANOMALY (base);

  if (self->batch)
    rnn_batch_state_reset_stream (self->batch, channel, NULL);
  self->have_prev[channel] = FALSE;
  if (self->det)
    rnn_detector_reset_group (self->det, channel);
}

static void
gst_gru_anomaly_release (GstRnnSignal * base)
{
  free_stream (GST_GRU_ANOMALY (base));
}

static void
post_event (GstGruAnomaly * self, const gchar * event, guint frame,
    gint channel, gdouble peak, gdouble threshold)
{
  GstRnnSignal *base = GST_RNN_SIGNAL (self);
  GstStructure *s;

  s = gst_rnn_message_new (GST_ELEMENT (self),
      gst_rnn_signal_get_segment (base),
      gst_rnn_signal_frame_pts (base, frame),
      gst_rnn_signal_frames_to_time (base, 1));
  gst_structure_set (s, "event", G_TYPE_STRING, event,
      "score", G_TYPE_DOUBLE, peak, "threshold", G_TYPE_DOUBLE, threshold,
      NULL);
  if (channel >= 0)
    gst_structure_set (s, "channel", G_TYPE_UINT, (guint) channel, NULL);
  GST_DEBUG_OBJECT (self, "anomaly %s at frame %u, peak %g", event, frame,
      peak);
  gst_rnn_post_message (GST_ELEMENT (self), s);
}

/* Anomaly tracking of group @c (a channel in per-channel mode, else the
 * whole frame) for its score at @frame. */
static void
track (GstGruAnomaly * self, guint c, gdouble score, guint frame,
    gdouble threshold, gboolean post)
{
  gint channel = self->batch != NULL ? (gint) c : -1;

  if (!self->in_anomaly[c] && score >= threshold) {
    self->in_anomaly[c] = TRUE;
    self->peak[c] = score;
    if (post)
      post_event (self, "start", frame, channel, self->peak[c], threshold);
  } else if (self->in_anomaly[c] && score >= threshold) {
    self->peak[c] = MAX (self->peak[c], score);
  } else if (self->in_anomaly[c]) {
    self->in_anomaly[c] = FALSE;
    if (post)
      post_event (self, "end", frame, channel, self->peak[c], threshold);
  }
}

static gboolean
forward_failed (GstGruAnomaly * self, const rnn_error * err)
{
  GST_ELEMENT_ERROR (self, STREAM, FAILED,
      ("The model failed on a frame: %s", err->msg), (NULL));
  return FALSE;
}

/* Adaptive scoring: frame by frame, as what the model is fed depends on
 * the frame's score. */
static gboolean
adaptive_frames (GstGruAnomaly * self, const gfloat * in, gfloat * out,
    guint n_frames, guint first, gdouble threshold, gboolean post)
{
  const guint nf = self->nf, G = self->groups, per = nf / G;
  const guint8 *bad = gst_rnn_signal_get_bad_channels (GST_RNN_SIGNAL (self));
  gint chan_of_group = self->batch != NULL ? 0 : -1;
  rnn_error err;
  rnn_status st;
  guint j, c;

  for (j = 0; j < n_frames; j++) {
    const gfloat *x = in + (gsize) j * nf;

    /* G frames of per values: a univariate model's statistics apply to
     * every channel */
    rnn_model_normalize_input (self->model, x, self->xn, G);
    for (c = 0; c < G; c++) {
      rnn_detector_event ev;
      gdouble peak, score;

      if (bad != NULL && bad[c]) {
        /* NaN in this channel: its output is replaced and it is reset */
        memcpy (self->feed + c * per, self->xn + c * per,
            per * sizeof (gfloat));
        out[(gsize) j * G + c] = 0.0f;
        continue;
      }
      score = rnn_detector_step (self->det, c, self->xn + c * per,
          self->have_prev[c] ? self->prev + c * per : NULL,
          self->feed + c * per, &ev, &peak);
      out[(gsize) j * G + c] = (gfloat) score;
      if (post && ev != RNN_DETECTOR_NONE)
        post_event (self, ev == RNN_DETECTOR_START ? "start" : "end",
            first + j, chan_of_group < 0 ? -1 : (gint) c, peak, threshold);
      self->have_prev[c] = TRUE;
    }
    rnn_model_denormalize_input (self->model, self->feed, self->feed, G);
    if (self->batch != NULL)
      st = rnn_batch_state_forward (self->batch, self->feed, 1, self->pred,
          &err);
    else
      st = rnn_state_forward (self->state, self->feed, 1, self->pred, &err);
    if (st != RNN_OK)
      return forward_failed (self, &err);
    rnn_model_normalize_input (self->model, self->pred, self->prev, G);
  }
  return TRUE;
}

static gboolean
same_float (gfloat a, gfloat b)
{
  return memcmp (&a, &b, sizeof a) == 0;
}

/* Adaptive scoring of a univariate single-layer model (self->chunked), the
 * same floats as adaptive_frames() but with the model run over runs of
 * frames: each run is fed what the detector would feed if no frame were
 * shrunk (rnn_detector_guess_feed), then the detector steps through the
 * run on the predictions that gave, and where a frame's real feed differs
 * from the guess (bit for bit: a shrunk frame, or a rounding of the guess)
 * the state goes back to the run's start and runs the frames up to that
 * one with their real feeds; the next run starts after it. The engine runs
 * such a model bit for bit the same over a run as frame by frame, so the
 * results are those of adaptive_frames(). A frame whose guess is tiny
 * (TINY_FEED: the guess may be off by a rounding there) ends the run before
 * it and goes alone. Runs start at one frame after a mismatch and double up
 * to CHUNK_FRAMES (a stretch of shrunk frames costs at most about twice the
 * model); a run of one frame is adaptive_frames(). */
static gboolean
adaptive_runs (GstGruAnomaly * self, const gfloat * in, gfloat * out,
    guint n_frames, guint first, gdouble threshold, gboolean post)
{
  const gsize n_snap = rnn_state_size (self->state);
  rnn_error err;
  guint pos = 0;

  while (pos < n_frames) {
    guint m = MIN (n_frames - pos, self->run_len), j;

    if (m == 1) {
      if (!adaptive_frames (self, in + pos, out + pos, 1, first + pos,
              threshold, post))
        return FALSE;
      pos++;
      self->run_len = MIN (CHUNK_FRAMES, 2 * self->run_len);
      continue;
    }
    rnn_model_normalize_input (self->model, in + pos, self->xn, m);
    rnn_detector_guess_feed (self->det, 0, self->xn, m, self->guess);
    /* the guess is the feed when the error x - b - p is exact in double,
     * which holds unless x - b is tiny next to the prediction p (a zero
     * crossing): the run stops before such a frame, which goes alone */
    for (j = 0; j < m && fabsf (self->guess[j]) >= TINY_FEED; j++);
    if (j == 0) {
      if (!adaptive_frames (self, in + pos, out + pos, 1, first + pos,
              threshold, post))
        return FALSE;
      pos++;
      continue;
    }
    m = j;
    rnn_model_denormalize_input (self->model, self->guess, self->guess_raw,
        m);
    rnn_state_get (self->state, self->snap, n_snap, NULL);
    if (rnn_state_forward (self->state, self->guess_raw, m, self->pred, &err)
        != RNN_OK)
      return forward_failed (self, &err);
    rnn_model_normalize_input (self->model, self->pred, self->pred, m);

    for (j = 0; j < m; j++) {
      rnn_detector_event ev;
      gdouble peak, score;

      score = rnn_detector_step (self->det, 0, self->xn + j,
          j > 0 ? self->pred + j - 1 : (self->have_prev[0] ? self->prev :
              NULL), self->feed, &ev, &peak);
      out[pos + j] = (gfloat) score;
      if (post && ev != RNN_DETECTOR_NONE)
        post_event (self, ev == RNN_DETECTOR_START ? "start" : "end",
            first + pos + j, -1, peak, threshold);
      self->have_prev[0] = TRUE;
      if (!same_float (self->feed[0], self->guess[j]))
        break;
    }
    if (j < m) {
      /* frame j is fed otherwise: redo frames 0..j from the run's start */
      GST_LOG_OBJECT (self, "frame %u fed otherwise than guessed: %u "
          "frames run again", first + pos + j, j + 1);
      rnn_model_denormalize_input (self->model, self->feed,
          self->guess_raw + j, 1);
      rnn_state_set (self->state, self->snap, n_snap, NULL);
      if (rnn_state_forward (self->state, self->guess_raw, j + 1, self->pred,
              &err) != RNN_OK)
        return forward_failed (self, &err);
      rnn_model_normalize_input (self->model, self->pred + j, self->prev, 1);
      pos += j + 1;
      self->run_len = 1;
    } else {
      self->prev[0] = self->pred[m - 1];
      pos += m;
      self->run_len = MIN (CHUNK_FRAMES, 2 * self->run_len);
    }
  }
  return TRUE;
}

static gboolean
process_adaptive (GstGruAnomaly * self, const gfloat * in, gfloat * out,
    guint n_frames, guint first, gdouble threshold, gboolean post)
{
  rnn_detector_set_threshold (self->det, threshold);
  if (self->chunked)
    return adaptive_runs (self, in, out, n_frames, first, threshold, post);
  return adaptive_frames (self, in, out, n_frames, first, threshold, post);
}

static gboolean
gst_gru_anomaly_process (GstRnnSignal * base, const gfloat * in,
    gfloat * out, guint n_frames, guint first)
{
  GstGruAnomaly *self = GST_GRU_ANOMALY (base);
  const guint nf = self->nf, G = self->groups, per = nf / G;
  gdouble threshold;
  gboolean post;
  rnn_error err;
  rnn_status st;
  guint done = 0;
  const guint8 *bad = gst_rnn_signal_get_bad_channels (base);

  /* the object lock only when the property changed since the last read */
  if (g_atomic_int_get (&self->threshold_changes) != self->threshold_seen) {
    GST_OBJECT_LOCK (self);
    self->cur_threshold = self->threshold;
    self->threshold_seen = self->threshold_changes;
    GST_OBJECT_UNLOCK (self);
  }
  threshold = self->cur_threshold;
  post = gst_rnn_signal_post_messages (base);
  if (self->det != NULL)
    return process_adaptive (self, in, out, n_frames, first, threshold, post);

  while (done < n_frames) {
    guint m = MIN (n_frames - done, CHUNK_FRAMES), j, i, c;
    const gfloat *x = in + (gsize) done * nf;

    /* pred row j: the de-normalised prediction of frame j+1 (per channel:
     * nf univariate predictions) */
    if (self->batch != NULL)
      st = rnn_batch_state_forward (self->batch, x, m, self->pred, &err);
    else
      st = rnn_state_forward (self->state, x, m, self->pred, &err);
    if (st != RNN_OK)
      return forward_failed (self, &err);
    /* compare in normalised units: the input statistics applied to both
     * the frames and the predictions (copies without statistics); a
     * univariate model's statistics apply to every channel's value */
    rnn_model_normalize_input (self->model, x, self->xn, (gsize) m * G);
    rnn_model_normalize_input (self->model, self->pred, self->pred,
        (gsize) m * G);

    for (j = 0; j < m; j++) {
      guint frame = first + done + j;

      /* group c covers features [c*per, (c+1)*per): its score is the RMS
       * of the standardised errors over them */
      for (c = 0; c < G; c++) {
        gdouble score = 0.0;

        if (self->have_prev[c]) {
          gdouble acc = 0.0;

          for (i = 0; i < per; i++) {
            guint f = c * per + i, k = G > 1 ? 0 : f;
            gdouble e = (gdouble) self->xn[(gsize) j * nf + f] - self->prev[f];
            gdouble z = (e - self->err_mean[k]) / self->err_std[k];

            acc += z * z;
          }
          score = sqrt (acc / per);
        }
        out[(gsize) (done + j) * G + c] = (gfloat) score;
        /* a channel holding NaN (its output becomes NaN) neither starts
         * nor ends an anomaly */
        if (bad == NULL || !bad[c])
          track (self, c, score, frame, threshold, post);
        self->have_prev[c] = TRUE;
      }
      memcpy (self->prev, self->pred + (gsize) j * nf, nf * sizeof (gfloat));
    }
    done += m;
  }
  return TRUE;
}

static void
gst_gru_anomaly_class_init (GstGruAnomalyClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstRnnSignalClass *signal_class = GST_RNN_SIGNAL_CLASS (klass);

  gobject_class->set_property = gst_gru_anomaly_set_property;
  gobject_class->get_property = gst_gru_anomaly_get_property;
  gobject_class->finalize = gst_gru_anomaly_finalize;

  /**
   * GstGruAnomaly:threshold:
   *
   * Score at or above which a frame is anomalous: an anomaly starts at the
   * first frame whose score reaches it and ends at the first frame back
   * below it. When not set: with adaptive scoring 5.0 (a false alarm per
   * 10^5 normal frames); with fixed scoring the model's `anomaly.threshold`
   * metadata (4.0 when it has none). Reading the property after the
   * element went to PAUSED gives the value in use. May be changed while
   * playing.
   */
  g_object_class_install_property (gobject_class, PROP_THRESHOLD,
      g_param_spec_double ("threshold", "Threshold",
          "Anomaly score at or above which a frame is anomalous (default: 5 for "
          "adaptive scoring; for fixed, "
          "the model's anomaly.threshold metadata, else 4.0)", 0.0,
          G_MAXDOUBLE, DEFAULT_ADAPTIVE_THRESHOLD,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING |
          G_PARAM_STATIC_STRINGS));

  /**
   * GstGruAnomaly:scoring:
   *
   * How frames are scored. `fixed` is the normative score (the prediction
   * error standardised with the model's error statistics, against a fixed
   * threshold). `adaptive` (the default) outputs the surprise of each
   * frame's error under the recent error distribution, -log10 of its tail
   * probability, so that #GstGruAnomaly:threshold T means a false-alarm
   * probability of 10^-T per frame; it also follows level shifts, keeps
   * anomalous frames out of the recurrent state, posts nothing during a
   * warm-up after a reset and holds an anomaly for
   * #GstGruAnomaly:hold frames (docs/anomaly-scoring.md). Fixed when the
   * element goes to PAUSED.
   */
  g_object_class_install_property (gobject_class, PROP_SCORING,
      g_param_spec_enum ("scoring", "Scoring",
          "How frames are scored: fixed (the normative standardised error) "
          "or adaptive (surprise under the recent error distribution)",
          GST_TYPE_GRU_ANOMALY_SCORING, DEFAULT_SCORING,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));

  /**
   * GstGruAnomaly:hold:
   *
   * Adaptive scoring: an anomaly lasts at least this many frames: after a
   * start the output score holds the threshold value for the following
   * hold - 1 frames (then follows the surprise again, and the anomaly ends
   * at the first frame below the threshold), so one event is posted per
   * incident, not a storm of start/end pairs. -1 takes the model's
   * `anomaly.hold` metadata (1 when it has none: no hold).
   */
  g_object_class_install_property (gobject_class, PROP_HOLD,
      g_param_spec_int ("hold", "Hold",
          "Adaptive scoring: least frames an anomaly lasts (the output holds "
          "the threshold after a start; -1: the model's anomaly.hold, else 1)",
          -1, G_MAXINT, DEFAULT_HOLD, G_PARAM_READWRITE |
          GST_PARAM_MUTABLE_READY | G_PARAM_STATIC_STRINGS));

  /**
   * GstGruAnomaly:error-window:
   *
   * Adaptive scoring: how many recent frames the distribution of
   * prediction errors is estimated from.
   */
  g_object_class_install_property (gobject_class, PROP_ERROR_WINDOW,
      g_param_spec_uint ("error-window", "Error window",
          "Adaptive scoring: recent frames the error distribution is "
          "estimated from", 100, 10000000, DEFAULT_ERROR_WINDOW,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));

  /**
   * GstGruAnomaly:warmup:
   *
   * Adaptive scoring: frames after a start or reset that are not judged
   * (score 0, no event) while the recurrent state settles; -1 takes the
   * model's `anomaly.warmup` metadata (16 when it has none).
   */
  g_object_class_install_property (gobject_class, PROP_WARMUP,
      g_param_spec_int ("warmup", "Warm-up",
          "Adaptive scoring: frames after a reset with score 0 and no event "
          "(-1: the model's anomaly.warmup, else 16)", -1, G_MAXINT,
          DEFAULT_WARMUP, G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));

  /**
   * GstGruAnomaly:post-messages:
   *
   * Post an element message named `gruanomaly` at each anomaly start and
   * end, holding `timestamp`, `stream-time`, `running-time`, `duration`
   * (guint64, ns, of the frame where it starts or ends), `event`
   * ("start"/"end"), `score` (peak score so far) and `threshold`.
   */
  gst_rnn_signal_class_install_post_messages (signal_class, TRUE,
      "Post an element message named 'gruanomaly' at each anomaly start and "
      "end with event ('start'/'end'), score (peak so far), threshold and "
      "the frame's timestamp, stream-time, running-time and duration");

  gst_element_class_set_static_metadata (element_class,
      "RNN anomaly detector", "Filter/Analyzer/Audio",
      "Scores every frame of a sensor or audio-rate signal for anomaly with "
      "a recurrent one-step forecaster and posts anomaly start/end messages",
      "gst-rnn developers");

  signal_class->task = RNN_TASK_ANOMALY;
  signal_class->check_model = gst_gru_anomaly_check_model;
  signal_class->model_loaded = gst_gru_anomaly_model_loaded;
  signal_class->output_features = gst_gru_anomaly_output_features;
  signal_class->setup = gst_gru_anomaly_setup;
  signal_class->reset = gst_gru_anomaly_reset;
  signal_class->process = gst_gru_anomaly_process;
  signal_class->release = gst_gru_anomaly_release;
  signal_class->reset_channel = gst_gru_anomaly_reset_channel;
  signal_class->save_state = gst_gru_anomaly_save_state;
  signal_class->restore_state = gst_gru_anomaly_restore_state;

  gst_type_mark_as_plugin_api (GST_TYPE_GRU_ANOMALY_SCORING, 0);

  GST_DEBUG_CATEGORY_INIT (gst_gru_anomaly_debug, "gruanomaly", 0,
      "RNN anomaly detector");
}

static void
gst_gru_anomaly_init (GstGruAnomaly * self)
{
  self->scoring = DEFAULT_SCORING;
  self->model_threshold = DEFAULT_THRESHOLD;
  self->threshold = default_threshold (self);
  self->threshold_set = FALSE;
  self->hold = DEFAULT_HOLD;
  self->error_window = DEFAULT_ERROR_WINDOW;
  self->warmup = DEFAULT_WARMUP;
}
