/* gst-rnn: lstmforecast, forecasts a signal with a recurrent model.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-lstmforecast
 * @title: lstmforecast
 * @short_description: forecast a sensor or audio-rate signal with an
 * LSTM/GRU/RNN model, carrying the state across buffers
 *
 * lstmforecast runs a forecasting model (a safetensors file whose `task`
 * metadata is `forecast`) over every frame of a signal and outputs, for
 * each input frame t, the model's forecast of the frame #GstLstmForecast:horizon
 * frames ahead, y(t + horizon). The output has the same caps family and
 * rate as the input with as many features as the model has outputs; its
 * PTS is the input PTS plus `horizon` frame periods (the time being
 * forecast), its duration the input's. The input normalisation and output
 * de-normalisation stored in the model's metadata are applied on the way in
 * and out.
 *
 * With #GstLstmForecast:window at 0 the recurrent state is carried from
 * frame to frame for the whole stream. With a window of N frames each
 * forecast is computed from a zero state over the last N input frames (the
 * sliding windows a model trained on windows expects; fewer frames at the
 * start of a stream and after a reset); a bidirectional model runs only this
 * way, each window being the closed sequence it reads both ways. A horizon
 * above 1 rolls the model
 * forward on its own forecasts from a copy of the state, so the carried
 * state only ever sees real input.
 *
 * The state is reset as described for the base class: on STREAM_START,
 * FLUSH_STOP, a SEGMENT after a seek, a caps change, a DISCONT buffer
 * (#GstRnnSignal:reset-on-discont), the `reset` action signal, and at a
 * frame holding NaN or infinity (whose output frame is NaN). GAP buffers
 * leave the state alone and become GAP events shifted by the horizon.
 * The element adds no latency.
 *
 * With #GstRnnSignal:per-channel set, a univariate model (one input, one
 * output) forecasts every channel of the input on its own, each channel
 * with its own state (window 0 and horizon 1 only): C channels in, C
 * forecasts out per frame, computed together in one batched pass.
 *
 * With #GstRnnSignal:post-messages enabled, an element message named
 * `lstmforecast` is posted for every output buffer:
 *
 * - `timestamp` (guint64): the PTS of the output buffer, i.e. of the first
 *   forecast frame in it (input PTS + horizon frame periods).
 * - `stream-time` (guint64): the stream time of `timestamp`.
 * - `running-time` (guint64): the running time of `timestamp`.
 * - `duration` (guint64): the duration of the output buffer.
 * - `forecast` (GstValueArray of gdouble): the last output frame's values,
 *   one per model output, in the model's (de-normalised) units.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 audiotestsrc wave=sine freq=0.5 samplesperbuffer=10 num-buffers=5 ! \
 *   audio/x-raw,format=F32LE,rate=10,channels=2 ! \
 *   lstmforecast model-file=tests/fixtures/elements/fc_lstm.safetensors horizon=3 ! \
 *   csvenc ! fdsink
 * ]| forecasts a 2-feature signal at 10 frames per second 3 frames (0.3 s)
 * ahead and prints the forecasts as CSV (run from the source tree; the
 * model is a test fixture).
 * |[
 * gst-launch-1.0 -m filesrc location=sensors.csv ! csvparse rate=1 ! \
 *   lstmforecast model-file=forecast.safetensors post-messages=true ! \
 *   csvenc ! filesink location=forecast.csv
 * ]| one forecast per row of a CSV file, with a message per buffer. With a
 * capsfilter in between, write the tensor dimensions as a string:
 * `other/tensors,dimensions=(string)3:1,...`.
 * |[
 * gst-launch-1.0 audiotestsrc wave=sine samplesperbuffer=160 num-buffers=100 ! \
 *   audio/x-raw,format=F32LE,rate=16000,channels=16 ! \
 *   lstmforecast model-file=tests/fixtures/elements/fc_uni.safetensors per-channel=true ! \
 *   fakesink
 * ]| forecasts each of 16 channels with a univariate model, one state per
 * channel, all channels in one batched pass (run from the source tree).
 */
#include <string.h>

#include "gstlstmforecast.h"
#include "gstrnncommon.h"
#include "gstrnnelements.h"

GST_DEBUG_CATEGORY_STATIC (gst_lstm_forecast_debug);
#define GST_CAT_DEFAULT gst_lstm_forecast_debug

#define DEFAULT_HORIZON 1
#define MAX_HORIZON 100000
#define MAX_WINDOW 1000000

enum
{
  PROP_0,
  PROP_HORIZON,
  PROP_WINDOW
};

struct _GstLstmForecast
{
  GstRnnSignal parent;

  /* properties, object lock */
  guint horizon;
  guint window;
  gboolean window_set;          /* window set by the user, else the model's */

  /* fixed at start() */
  guint cur_horizon;
  guint cur_window;

  /* streaming thread */
  guint fin, fout;
  rnn_state *state;             /* the carried state (window 0) */
  rnn_batch_state *batch;       /* per-channel mode: one state per channel */
  rnn_state *scratch;           /* roll-forward and window state */
  gfloat *ring;                 /* the last cur_window input frames, oldest first */
  guint ring_len;               /* frames in ring */
  gfloat *wout;                 /* outputs of one window pass */
  gfloat *roll_a, *roll_b;      /* one frame each, for the roll-forward */
};

G_DEFINE_TYPE (GstLstmForecast, gst_lstm_forecast, GST_TYPE_RNN_SIGNAL);
GST_ELEMENT_REGISTER_DEFINE (lstmforecast, "lstmforecast", GST_RANK_NONE,
    GST_TYPE_LSTM_FORECAST);

static void
gst_lstm_forecast_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstLstmForecast *self = GST_LSTM_FORECAST (object);

  switch (prop_id) {
    case PROP_HORIZON:
      GST_OBJECT_LOCK (self);
      self->horizon = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_WINDOW:
      GST_OBJECT_LOCK (self);
      self->window = g_value_get_uint (value);
      self->window_set = TRUE;
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_CLASS (gst_lstm_forecast_parent_class)->set_property (object,
          prop_id, value, pspec);
      break;
  }
}

static void
gst_lstm_forecast_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstLstmForecast *self = GST_LSTM_FORECAST (object);

  switch (prop_id) {
    case PROP_HORIZON:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->horizon);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_WINDOW:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->window);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_CLASS (gst_lstm_forecast_parent_class)->get_property (object,
          prop_id, value, pspec);
      break;
  }
}

static void
free_stream (GstLstmForecast * self)
{
  rnn_state_free (self->state);
  rnn_state_free (self->scratch);
  rnn_batch_state_free (self->batch);
  self->state = self->scratch = NULL;
  self->batch = NULL;
  g_clear_pointer (&self->ring, g_free);
  g_clear_pointer (&self->wout, g_free);
  g_clear_pointer (&self->roll_a, g_free);
  g_clear_pointer (&self->roll_b, g_free);
  self->ring_len = 0;
}

static void
gst_lstm_forecast_finalize (GObject * object)
{
  free_stream (GST_LSTM_FORECAST (object));
  G_OBJECT_CLASS (gst_lstm_forecast_parent_class)->finalize (object);
}

/* At start the window comes from the property or the model's metadata;
 * for a change while running the settings in use stay. */
static gboolean
gst_lstm_forecast_check_model (GstRnnSignal * base, const rnn_model * model,
    gboolean running, gchar ** why)
{
  GstLstmForecast *self = GST_LSTM_FORECAST (base);
  int in = rnn_model_input_size (model), out = rnn_model_output_size (model);
  guint window, horizon;

  if (rnn_model_head_input (model) != RNN_HEAD_OUTPUT) {
    *why = g_strdup_printf ("model '%s' has no per-frame output (head.input "
        "is not 'output'); lstmforecast needs one forecast per frame",
        rnn_model_name (model));
    return FALSE;
  }

  GST_OBJECT_LOCK (self);
  if (running) {
    window = self->cur_window;
    horizon = self->cur_horizon;
  } else {
    window = self->window_set ? self->window : rnn_model_window (model);
    horizon = self->horizon;
  }
  GST_OBJECT_UNLOCK (self);

  if (window > MAX_WINDOW) {
    *why = g_strdup_printf ("model '%s' has window %u, more than the %u "
        "frames lstmforecast supports", rnn_model_name (model), window,
        MAX_WINDOW);
    return FALSE;
  }
  if (rnn_model_num_directions (model) == 2 && window == 0) {
    /* the reverse direction needs the end of the sequence: only a closed
     * window has one */
    *why = g_strdup_printf ("model '%s' is bidirectional and can only run "
        "on closed windows; set window=N (N > 0)", rnn_model_name (model));
    return FALSE;
  }
  if (gst_rnn_signal_get_per_channel (base) && (window > 0 || horizon > 1)) {
    *why = g_strdup_printf ("per-channel=true runs with window=0 and "
        "horizon=1 only, but window is %u and horizon %u (model '%s'); set "
        "window=0 (the model's `window` metadata sets the default) and "
        "horizon=1, or run one element per channel", window, horizon,
        rnn_model_name (model));
    return FALSE;
  }
  if (horizon > 1 && in != out) {
    *why = g_strdup_printf ("horizon=%u needs a model whose output size "
        "equals its input size, but model '%s' has input size %d and output "
        "size %d; forecasts are fed back as inputs to look more than one "
        "frame ahead: use horizon=1 with this model", horizon,
        rnn_model_name (model), in, out);
    return FALSE;
  }
  return TRUE;
}

static void
gst_lstm_forecast_model_loaded (GstRnnSignal * base, const rnn_model * model,
    gboolean running)
{
  GstLstmForecast *self = GST_LSTM_FORECAST (base);
  gboolean from_model;

  if (running)
    return;
  GST_OBJECT_LOCK (self);
  from_model = !self->window_set;
  if (from_model)
    self->window = rnn_model_window (model);
  self->cur_horizon = self->horizon;
  self->cur_window = self->window;
  GST_OBJECT_UNLOCK (self);
  GST_INFO_OBJECT (self, "horizon %u, window %u%s", self->cur_horizon,
      self->cur_window, from_model ? " (the model's)" : "");
  /* A window costs `window` steps per frame and changes what the forecasts
   * mean: say so when it came silently from the model. */
  if (from_model && self->cur_window > 0) {
    gchar *text = g_strdup_printf ("Using the window of %u frames stored in "
        "model '%s': each forecast runs the last %u frames from a zero state "
        "(%u steps per frame); set window=0 to carry the state instead.",
        self->cur_window, rnn_model_name (model), self->cur_window,
        self->cur_window);

    /* in the debug string too: gst-launch-1.0 prints only that of an INFO */
    GST_ELEMENT_INFO_WITH_DETAILS (self, RESOURCE, SETTINGS, ("%s", text),
        ("%s", text), ("window", G_TYPE_UINT, self->cur_window, NULL));
    g_free (text);
  }
}

static guint
gst_lstm_forecast_output_features (GstRnnSignal * base,
    const rnn_model * model)
{
  return rnn_model_output_size (model);
}

static gboolean
gst_lstm_forecast_setup (GstRnnSignal * base, const rnn_model * model,
    const GstRnnSignalFormat * format)
{
  GstLstmForecast *self = GST_LSTM_FORECAST (base);
  rnn_error err;
  size_t max_frames;

  free_stream (self);
  self->fin = format->in_features;
  self->fout = format->out_features;

  /* the carried state takes whole buffers in one call when horizon is 1 */
  max_frames = format->caps_frames > 0 ? format->caps_frames : 1024;
  if (self->cur_horizon > 1)
    max_frames = 1;
  if (self->cur_window > 0)
    max_frames = self->cur_window;

  memset (&err, 0, sizeof (err));
  if (gst_rnn_signal_get_per_channel (base)) {
    /* the channels of a frame are the batch's streams, interleaved as the
     * batched state wants them */
    if (rnn_batch_state_new (model, format->in_features, max_frames,
            &self->batch, &err) != RNN_OK) {
      GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
          ("Could not create the per-channel state for %u channels: %s",
              format->in_features, err.msg), (NULL));
      free_stream (self);
      return FALSE;
    }
    return TRUE;
  }
  if (rnn_state_new (model, max_frames, &self->state, &err) != RNN_OK
      || rnn_state_new (model, MAX (self->cur_window, 1), &self->scratch,
          &err) != RNN_OK) {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
        ("Could not create the recurrent state: %s", err.msg), (NULL));
    free_stream (self);
    return FALSE;
  }
  if (self->cur_window > 0) {
    self->ring = g_new0 (gfloat, (gsize) self->cur_window * self->fin);
    self->wout = g_new0 (gfloat, (gsize) self->cur_window * self->fout);
  }
  self->roll_a = g_new0 (gfloat, MAX (self->fin, self->fout));
  self->roll_b = g_new0 (gfloat, MAX (self->fin, self->fout));
  self->ring_len = 0;
  return TRUE;
}

static void
gst_lstm_forecast_reset (GstRnnSignal * base)
{
  GstLstmForecast *self = GST_LSTM_FORECAST (base);

  if (self->state)
    rnn_state_reset (self->state);
  if (self->batch)
    rnn_batch_state_reset (self->batch);
  if (self->scratch)
    rnn_state_reset (self->scratch);
  self->ring_len = 0;
}

/* state-file: the carried state, or with a window the frames it holds
 * (what the next forecasts are computed from). */
static void
gst_lstm_forecast_save_state (GstRnnSignal * base, GstRnnStateWriter * w)
{
  GstLstmForecast *self = GST_LSTM_FORECAST (base);
  gfloat len = (gfloat) self->ring_len;

  if (self->cur_window > 0) {
    gst_rnn_state_writer_add (w, "window-frames", self->ring,
        (gsize) self->cur_window * self->fin);
    gst_rnn_state_writer_add (w, "window-length", &len, 1);
  } else if (self->state) {
    gst_rnn_state_writer_add_state (w, "state", self->state);
  }
}

static gboolean
gst_lstm_forecast_restore_state (GstRnnSignal * base,
    const rnn_tensors * file, gchar ** why)
{
  GstLstmForecast *self = GST_LSTM_FORECAST (base);
  const gfloat *frames, *len;

  if (self->cur_window == 0)
    return self->state != NULL
        && gst_rnn_state_file_get_state (file, "state", self->state, why);
  frames = gst_rnn_state_file_get (file, "window-frames",
      (gsize) self->cur_window * self->fin, why);
  len = frames ? gst_rnn_state_file_get (file, "window-length", 1, why) :
      NULL;
  if (len == NULL)
    return FALSE;
  if (!(len[0] >= 0 && len[0] <= (gfloat) self->cur_window)) {
    *why = g_strdup_printf ("window-length %g is not within 0..%u", len[0],
        self->cur_window);
    return FALSE;
  }
  memcpy (self->ring, frames, (gsize) self->cur_window * self->fin *
      sizeof (gfloat));
  self->ring_len = (guint) len[0];
  return TRUE;
}

/* Per-channel mode: @channel held NaN or infinity. */
static void
gst_lstm_forecast_reset_channel (GstRnnSignal * base, guint channel)
{
  GstLstmForecast *self = GST_LSTM_FORECAST (base);

  if (self->batch)
    rnn_batch_state_reset_stream (self->batch, channel, NULL);
}

static void
gst_lstm_forecast_release (GstRnnSignal * base)
{
  free_stream (GST_LSTM_FORECAST (base));
}

static gboolean
forward_failed (GstLstmForecast * self, const rnn_error * err)
{
  GST_ELEMENT_ERROR (self, STREAM, FAILED,
      ("The model failed on a frame: %s", err->msg), (NULL));
  return FALSE;
}

/* @out holds the one-step forecast y(t+1) made with @self->scratch holding
 * the state after frame t (or after y(t+1) was computed from it); roll
 * forward horizon-1 more steps on the forecasts themselves and leave
 * y(t+horizon) in @out. rnn_state_forward de-normalises its outputs and
 * normalises its inputs, so feeding a raw forecast back applies the output
 * statistics, then the input statistics, as the model expects. */
static gboolean
roll_forward (GstLstmForecast * self, gfloat * out)
{
  rnn_error err;
  guint k;

  memcpy (self->roll_a, out, self->fout * sizeof (gfloat));
  for (k = 1; k < self->cur_horizon; k++) {
    if (rnn_state_forward (self->scratch, self->roll_a, 1, self->roll_b,
            &err) != RNN_OK)
      return forward_failed (self, &err);
    memcpy (self->roll_a, self->roll_b, self->fout * sizeof (gfloat));
  }
  memcpy (out, self->roll_a, self->fout * sizeof (gfloat));
  return TRUE;
}

static gboolean
gst_lstm_forecast_process (GstRnnSignal * base, const gfloat * in,
    gfloat * out, guint n_frames, guint first)
{
  GstLstmForecast *self = GST_LSTM_FORECAST (base);
  rnn_error err;
  guint t;

  if (self->batch != NULL) {
    /* per channel: window 0, horizon 1 (checked at start) */
    if (rnn_batch_state_forward (self->batch, in, n_frames, out, &err)
        != RNN_OK)
      return forward_failed (self, &err);
    return TRUE;
  }

  if (self->cur_window == 0 && self->cur_horizon <= 1) {
    /* the whole run in one call: output frame t is y(t+1) */
    if (rnn_state_forward (self->state, in, n_frames, out, &err) != RNN_OK)
      return forward_failed (self, &err);
    return TRUE;
  }

  for (t = 0; t < n_frames; t++) {
    const gfloat *x = in + (gsize) t * self->fin;
    gfloat *y = out + (gsize) t * self->fout;

    if (self->cur_window == 0) {
      if (rnn_state_forward (self->state, x, 1, y, &err) != RNN_OK)
        return forward_failed (self, &err);
      if (rnn_state_copy (self->scratch, self->state, &err) != RNN_OK)
        return forward_failed (self, &err);
    } else {
      /* slide the window: drop the oldest frame when full */
      if (self->ring_len == self->cur_window) {
        memmove (self->ring, self->ring + self->fin,
            (gsize) (self->cur_window - 1) * self->fin * sizeof (gfloat));
        self->ring_len--;
      }
      memcpy (self->ring + (gsize) self->ring_len * self->fin, x,
          self->fin * sizeof (gfloat));
      self->ring_len++;
      /* a zero state over the window's frames; the last output forecasts
       * the next frame */
      rnn_state_reset (self->scratch);
      if (rnn_state_forward (self->scratch, self->ring, self->ring_len,
              self->wout, &err) != RNN_OK)
        return forward_failed (self, &err);
      memcpy (y, self->wout + (gsize) (self->ring_len - 1) * self->fout,
          self->fout * sizeof (gfloat));
    }
    if (self->cur_horizon > 1 && !roll_forward (self, y))
      return FALSE;
  }
  return TRUE;
}

static GstClockTime
gst_lstm_forecast_output_offset (GstRnnSignal * base)
{
  GstLstmForecast *self = GST_LSTM_FORECAST (base);

  return gst_rnn_signal_frames_to_time (base, self->cur_horizon);
}

static void
gst_lstm_forecast_finish_buffer (GstRnnSignal * base, GstBuffer * outbuf)
{
  GstLstmForecast *self = GST_LSTM_FORECAST (base);
  GstStructure *s;
  GstMapInfo map;
  GValue arr = G_VALUE_INIT;
  gsize n;

  if (!gst_rnn_signal_post_messages (base))
    return;
  if (!gst_buffer_map (outbuf, &map, GST_MAP_READ))
    return;
  n = map.size / (self->fout * sizeof (gfloat));
  if (n > 0) {
    GstClockTime pts = GST_BUFFER_PTS (outbuf);

    /* the message carries the last frame's forecast: its time, not the
     * buffer's first frame's */
    if (GST_CLOCK_TIME_IS_VALID (pts))
      pts += gst_rnn_signal_frames_to_time (base, n - 1);
    s = gst_rnn_message_new (GST_ELEMENT (self),
        gst_rnn_signal_get_segment (base), pts,
        gst_rnn_signal_frames_to_time (base, 1));
    gst_rnn_value_set_double_array (&arr,
        (const gfloat *) map.data + (n - 1) * self->fout, self->fout);
    gst_structure_take_value (s, "forecast", &arr);
    gst_buffer_unmap (outbuf, &map);
    gst_rnn_post_message (GST_ELEMENT (self), s);
    return;
  }
  gst_buffer_unmap (outbuf, &map);
}

static void
gst_lstm_forecast_class_init (GstLstmForecastClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstRnnSignalClass *signal_class = GST_RNN_SIGNAL_CLASS (klass);

  gobject_class->set_property = gst_lstm_forecast_set_property;
  gobject_class->get_property = gst_lstm_forecast_get_property;
  gobject_class->finalize = gst_lstm_forecast_finalize;

  /**
   * GstLstmForecast:horizon:
   *
   * How many frames ahead to forecast: output frame t is y(t + horizon)
   * and output timestamps are shifted by horizon frame periods. Above 1
   * the model is rolled forward on its own forecasts from a copy of the
   * state, which needs a model whose output size equals its input size.
   * Read when the element goes to PAUSED. A synchronising sink holds each
   * forecast until the time it forecasts (horizon frame periods after its
   * input frame); to show forecasts as soon as they are made, give the
   * sink `ts-offset` = minus the horizon in ns, or `sync=false`.
   */
  g_object_class_install_property (gobject_class, PROP_HORIZON,
      g_param_spec_uint ("horizon", "Horizon",
          "Frames ahead to forecast (output PTS = input PTS + horizon frame "
          "periods, so a sync=true sink holds each forecast that long); "
          "above 1 the model is rolled forward on its own forecasts", 1,
          MAX_HORIZON, DEFAULT_HORIZON,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));

  /**
   * GstLstmForecast:window:
   *
   * 0: carry the recurrent state over the whole stream. N > 0: compute
   * each forecast from a zero state over the last N frames (fewer at the
   * start of the stream and after a reset), as a model trained on windows
   * of N frames expects. When not set, the model's `window` metadata is
   * used (0 when it has none); reading the property after the element
   * went to PAUSED gives the value in use. Read when going to PAUSED.
   */
  g_object_class_install_property (gobject_class, PROP_WINDOW,
      g_param_spec_uint ("window", "Window",
          "Frames per forecast window: 0 carries the state over the whole "
          "stream, N > 0 runs each forecast from a zero state over the last "
          "N frames (N steps per frame). Unset, it is the model's `window` "
          "metadata (the default shown here is 0 because no model is loaded "
          "yet; read the property after start for the window in use)",
          0, MAX_WINDOW, 0,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));

  /**
   * GstLstmForecast:post-messages:
   *
   * Post an element message named `lstmforecast` for every output buffer,
   * holding `forecast` (array of doubles: the buffer's last forecast frame)
   * and that frame's `timestamp`, `stream-time`, `running-time` and
   * `duration` (guint64, ns): the time being forecast, as on the output
   * buffer (the input frame it was made from is `horizon` frames earlier).
   */
  gst_rnn_signal_class_install_post_messages (signal_class, FALSE,
      "Post an element message named 'lstmforecast' per output buffer with "
      "the last forecast frame ('forecast', array of doubles) and that "
      "frame's timestamp (the time forecast), stream-time, running-time and "
      "duration");

  gst_element_class_set_static_metadata (element_class,
      "RNN signal forecaster", "Filter/Analyzer/Audio",
      "Forecasts the next frames of a sensor or audio-rate signal with a "
      "recurrent network (LSTM, GRU, RNN) carrying its state across buffers",
      "gst-rnn developers");

  signal_class->task = RNN_TASK_FORECAST;
  signal_class->check_model = gst_lstm_forecast_check_model;
  signal_class->model_loaded = gst_lstm_forecast_model_loaded;
  signal_class->output_features = gst_lstm_forecast_output_features;
  signal_class->setup = gst_lstm_forecast_setup;
  signal_class->reset = gst_lstm_forecast_reset;
  signal_class->process = gst_lstm_forecast_process;
  signal_class->finish_buffer = gst_lstm_forecast_finish_buffer;
  signal_class->output_offset = gst_lstm_forecast_output_offset;
  signal_class->release = gst_lstm_forecast_release;
  signal_class->reset_channel = gst_lstm_forecast_reset_channel;
  signal_class->save_state = gst_lstm_forecast_save_state;
  signal_class->restore_state = gst_lstm_forecast_restore_state;

  GST_DEBUG_CATEGORY_INIT (gst_lstm_forecast_debug, "lstmforecast", 0,
      "RNN signal forecaster");
}

static void
gst_lstm_forecast_init (GstLstmForecast * self)
{
  self->horizon = DEFAULT_HORIZON;
  self->window = 0;
  self->window_set = FALSE;
}
