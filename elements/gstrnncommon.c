/* gst-rnn: behaviour shared by every model-running element.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>

#include "gstrnncommon.h"

const gchar *
gst_rnn_element_for_task (rnn_task task)
{
  switch (task) {
    case RNN_TASK_FORECAST:
      return "lstmforecast";
    case RNN_TASK_ANOMALY:
      return "gruanomaly";
    case RNN_TASK_CLASSIFY:
      return "textsentiment";
    case RNN_TASK_TAG:
      return "texttagger";
    case RNN_TASK_NONE:
    default:
      return NULL;
  }
}

gchar *
gst_rnn_task_mismatch (GstElement * element, const rnn_model * model,
    rnn_task task)
{
  rnn_task has = rnn_model_task (model);
  const gchar *other = gst_rnn_element_for_task (has);

  if (has == RNN_TASK_NONE)
    return g_strdup_printf ("model '%s' has no `task` metadata but %s needs "
        "task '%s': set the model's `task` metadata to '%s'",
        rnn_model_name (model), gst_rnn_element_name (element),
        rnn_task_name (task), rnn_task_name (task));
  return g_strdup_printf ("model '%s' has task '%s' but %s needs '%s': use "
      "%s for this model", rnn_model_name (model), rnn_task_name (has),
      gst_rnn_element_name (element), rnn_task_name (task),
      other ? other : "another element");
}

rnn_model *
gst_rnn_load_model (GstElement * element, const gchar * path, rnn_task task,
    rnn_precision precision)
{
  rnn_model *model = NULL;
  rnn_error err;
  rnn_status st;
  const gchar *ename;

  ename = gst_rnn_element_name (element);

  /* The cause goes in the message itself: applications often show only
   * the GError's message, not the debug string. */
  if (path == NULL || path[0] == '\0') {
    GST_ELEMENT_ERROR (element, RESOURCE, NOT_FOUND,
        ("No model file set on %s: set the model-file property to a "
            ".safetensors model.", ename), (NULL));
    return NULL;
  }

  if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
    GST_ELEMENT_ERROR (element, RESOURCE, NOT_FOUND,
        ("Model file '%s' not found: no such file.", path), (NULL));
    return NULL;
  }

  memset (&err, 0, sizeof (err));
  st = rnn_model_load (path, &model, &err);
  if (st != RNN_OK || model == NULL) {
    const gchar *msg = err.msg[0] ? err.msg : rnn_status_str (st);

    /* the engine's message starts with the path already */
    if (st == RNN_ERR_IO) {
      GST_ELEMENT_ERROR (element, RESOURCE, OPEN_READ,
          ("Could not read model file: %s", msg), (NULL));
    } else {
      GST_ELEMENT_ERROR (element, RESOURCE, SETTINGS,
          ("Invalid model file: %s", msg), (NULL));
    }
    rnn_model_free (model);
    return NULL;
  }

  if (task != RNN_TASK_NONE && rnn_model_task (model) != task) {
    gchar *why = gst_rnn_task_mismatch (element, model, task);

    GST_ELEMENT_ERROR (element, RESOURCE, SETTINGS, ("%s.", why), (NULL));
    g_free (why);
    rnn_model_free (model);
    return NULL;
  }

  if (rnn_model_set_precision (model, precision, &err) != RNN_OK) {
    GST_ELEMENT_ERROR (element, RESOURCE, SETTINGS,
        ("Could not convert model '%s' to precision %s: %s", path,
            rnn_precision_name (precision), err.msg), (NULL));
    rnn_model_free (model);
    return NULL;
  }
  GST_DEBUG_OBJECT (element, "model '%s': %s weights, %s kernels", path,
      rnn_precision_name (precision), rnn_kernels_name ());
  return model;
}

GType
gst_rnn_precision_get_type (void)
{
  static gsize type;
  static const GEnumValue values[] = {
    {RNN_PRECISION_F32, "float32 weights (PyTorch parity)", "f32"},
    {RNN_PRECISION_BF16, "bfloat16 recurrent weights", "bf16"},
    {RNN_PRECISION_INT8, "int8 recurrent weights, per-row scales", "int8"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstRnnPrecision", values);
    g_once_init_leave (&type, t);
  }
  return (GType) type;
}

void
gst_rnn_install_precision (GObjectClass * klass, guint prop_id,
    const gchar * blurb)
{
  g_object_class_install_property (klass, prop_id,
      g_param_spec_enum ("precision", "Precision", blurb,
          GST_TYPE_RNN_PRECISION, RNN_PRECISION_F32,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
}

gchar *
gst_rnn_columns_hint (const rnn_model * model)
{
  const gchar *names = rnn_model_meta (model, "input.names");
  GVariant *v;
  const gchar **strv;
  gsize n = 0;
  gchar *joined, *hint = NULL;

  if (names == NULL)
    return NULL;
  /* a JSON array of plain strings is also GVariant text of type "as" */
  v = g_variant_parse (G_VARIANT_TYPE_STRING_ARRAY, names, NULL, NULL, NULL);
  if (v == NULL)
    return NULL;
  strv = g_variant_get_strv (v, &n);
  if (n > 0 && n == (gsize) rnn_model_input_size (model)) {
    joined = g_strjoinv (",", (gchar **) strv);
    hint = g_strdup_printf ("its input.names: %s; with csvparse, set "
        "columns=%s", joined, joined);
    g_free (joined);
  }
  g_free (strv);
  g_variant_unref (v);
  return hint;
}

const gchar *
gst_rnn_element_name (GstElement * element)
{
  GstElementFactory *factory = gst_element_get_factory (element);

  if (factory)
    return gst_plugin_feature_get_name (GST_PLUGIN_FEATURE (factory));
  return G_OBJECT_TYPE_NAME (element);
}

static guint64
to_u64 (GstClockTime t)
{
  return GST_CLOCK_TIME_IS_VALID (t) ? (guint64) t : GST_CLOCK_TIME_NONE;
}

GstStructure *
gst_rnn_message_new (GstElement * element, const GstSegment * segment,
    GstClockTime ts, GstClockTime duration)
{
  GstClockTime stream_time = GST_CLOCK_TIME_NONE;
  GstClockTime running_time = GST_CLOCK_TIME_NONE;

  if (segment && segment->format == GST_FORMAT_TIME
      && GST_CLOCK_TIME_IS_VALID (ts)) {
    stream_time = gst_segment_to_stream_time (segment, GST_FORMAT_TIME, ts);
    running_time = gst_segment_to_running_time (segment, GST_FORMAT_TIME, ts);
  }

  return gst_structure_new (gst_rnn_element_name (element),
      "timestamp", G_TYPE_UINT64, to_u64 (ts),
      "stream-time", G_TYPE_UINT64, to_u64 (stream_time),
      "running-time", G_TYPE_UINT64, to_u64 (running_time),
      "duration", G_TYPE_UINT64, to_u64 (duration), NULL);
}

void
gst_rnn_post_message (GstElement * element, GstStructure * s)
{
  GstMessage *m;

  g_return_if_fail (s != NULL);

  /* Posted without holding the object lock: the bus may call back into
   * the application synchronously. */
  m = gst_message_new_element (GST_OBJECT (element), s);
  gst_element_post_message (element, m);
}

void
gst_rnn_value_set_double_array (GValue * value, const float *v, guint n)
{
  GValue item = G_VALUE_INIT;
  guint i;

  g_value_init (value, GST_TYPE_ARRAY);
  g_value_init (&item, G_TYPE_DOUBLE);
  for (i = 0; i < n; i++) {
    g_value_set_double (&item, (gdouble) v[i]);
    gst_value_array_append_value (value, &item);
  }
  g_value_unset (&item);
}

/* ------------------------------------------- model changes while running */

void
gst_rnn_model_slot_clear (GstRnnModelSlot * slot)
{
  g_clear_pointer (&slot->path, g_free);
  if (slot->next_data && slot->next_data_free)
    slot->next_data_free (slot->next_data);
  slot->next_data = NULL;
  g_clear_pointer (&slot->next, rnn_model_free);
}

/* Under the object lock: replace the next model (NULL to drop it); the old
 * one is returned through the out-parameters, to be freed unlocked. */
static void
slot_replace_next (GstRnnModelSlot * slot, rnn_model * model, gpointer data,
    GDestroyNotify data_free, rnn_model ** old_model, gpointer * old_data,
    GDestroyNotify * old_free)
{
  *old_model = slot->next;
  *old_data = slot->next_data;
  *old_free = slot->next_data_free;
  slot->next_data_free = data_free;
  /* atomic stores: gst_rnn_model_slot_take peeks without the lock */
  g_atomic_pointer_set (&slot->next_data, data);
  g_atomic_pointer_set (&slot->next, model);
}

static void
free_next (rnn_model * model, gpointer data, GDestroyNotify data_free)
{
  /* the data (e.g. a state) may point into its model: data first */
  if (data && data_free)
    data_free (data);
  rnn_model_free (model);
}

void
gst_rnn_model_slot_set (GstRnnModelSlot * slot, GstElement * element,
    const gchar * path, rnn_task task, GstRnnModelCheck check,
    GDestroyNotify data_free)
{
  rnn_model *model = NULL, *old_model;
  gpointer data = NULL, old_data;
  GDestroyNotify old_free;
  rnn_error err;
  gchar *why = NULL, *current;
  guint seq;
  rnn_precision precision;

  GST_OBJECT_LOCK (element);
  slot->seq++;
  precision = slot->precision;
  if (!slot->running) {
    g_free (slot->path);
    slot->path = g_strdup (path);
    GST_OBJECT_UNLOCK (element);
    return;
  }
  seq = slot->seq;
  GST_OBJECT_UNLOCK (element);

  GST_DEBUG_OBJECT (element, "loading model \"%s\" while running",
      GST_STR_NULL (path));
  memset (&err, 0, sizeof (err));
  if (path == NULL || path[0] == '\0') {
    why = g_strdup ("no model-file given");
  } else if (rnn_model_load (path, &model, &err) != RNN_OK
      || rnn_model_set_precision (model, precision, &err) != RNN_OK) {
    why = g_strdup (err.msg[0] ? err.msg : rnn_status_str (err.code));
  } else if (task != RNN_TASK_NONE && rnn_model_task (model) != task) {
    why = gst_rnn_task_mismatch (element, model, task);
  } else if (check != NULL && !check (element, model, &data, &why)) {
    if (why == NULL)
      why = g_strdup ("the model cannot be run by this element");
  }
  if (why != NULL) {
    free_next (model, data, data_free);
    model = NULL;
    data = NULL;
  }

  GST_OBJECT_LOCK (element);
  if (seq != slot->seq) {
    /* a newer set overtook this one: it decides */
    GST_OBJECT_UNLOCK (element);
    GST_DEBUG_OBJECT (element, "model \"%s\" superseded",
        GST_STR_NULL (path));
    free_next (model, data, data_free);
    g_free (why);
    return;
  }
  if (!slot->running) {
    /* stopped meanwhile: the file is used at the next start */
    g_free (slot->path);
    slot->path = g_strdup (path);
    GST_OBJECT_UNLOCK (element);
    free_next (model, data, data_free);
    g_free (why);
    return;
  }
  if (model != NULL) {
    /* a next model not yet taken is replaced */
    slot_replace_next (slot, model, data, data_free, &old_model, &old_data,
        &old_free);
    g_free (slot->path);
    slot->path = g_strdup (path);
    GST_OBJECT_UNLOCK (element);
    free_next (old_model, old_data, old_free);
  } else {
    current = g_strdup (slot->path);
    GST_OBJECT_UNLOCK (element);
    GST_ELEMENT_WARNING_WITH_DETAILS (element, RESOURCE, SETTINGS,
        ("Could not switch to model file \"%s\": %s. Still using \"%s\".",
            GST_STR_NULL (path), why, GST_STR_NULL (current)), (NULL),
        ("model-file", G_TYPE_STRING, path, NULL));
    g_free (current);
  }
  g_free (why);
}

gchar *
gst_rnn_model_slot_begin (GstRnnModelSlot * slot, GstElement * element,
    guint * seq)
{
  gchar *p;

  GST_OBJECT_LOCK (element);
  p = g_strdup (slot->path);
  *seq = slot->seq;
  GST_OBJECT_UNLOCK (element);
  return p;
}

gchar *
gst_rnn_model_slot_dup_path (GstRnnModelSlot * slot, GstElement * element)
{
  guint seq;

  return gst_rnn_model_slot_begin (slot, element, &seq);
}

gchar *
gst_rnn_model_slot_started (GstRnnModelSlot * slot, GstElement * element,
    guint seq, const gchar * loaded)
{
  gchar *changed = NULL;

  GST_OBJECT_LOCK (element);
  slot->running = TRUE;
  if (seq != slot->seq) {
    /* set while the model loaded: only stored; the property reads the
     * file in use until the change is applied */
    changed = slot->path;
    slot->path = g_strdup (loaded);
  }
  GST_OBJECT_UNLOCK (element);
  return changed;
}

void
gst_rnn_model_slot_stopped (GstRnnModelSlot * slot, GstElement * element)
{
  rnn_model *old_model;
  gpointer old_data;
  GDestroyNotify old_free;

  GST_OBJECT_LOCK (element);
  slot->running = FALSE;
  slot_replace_next (slot, NULL, NULL, NULL, &old_model, &old_data,
      &old_free);
  GST_OBJECT_UNLOCK (element);
  free_next (old_model, old_data, old_free);
}

rnn_model *
gst_rnn_model_slot_take (GstRnnModelSlot * slot, GstElement * element,
    gpointer * data)
{
  rnn_model *model;

  gpointer d;
  GDestroyNotify d_free;

  /* per buffer: nothing pending is the rule (a change set meanwhile is
   * taken at the next call) */
  if (g_atomic_pointer_get (&slot->next) == NULL
      && g_atomic_pointer_get (&slot->next_data) == NULL) {
    if (data)
      *data = NULL;
    return NULL;
  }
  GST_OBJECT_LOCK (element);
  model = slot->next;
  d = slot->next_data;
  d_free = slot->next_data_free;
  g_atomic_pointer_set (&slot->next, NULL);
  g_atomic_pointer_set (&slot->next_data, NULL);
  GST_OBJECT_UNLOCK (element);
  if (data)
    *data = d;
  else if (d && d_free)
    d_free (d);
  return model;
}

void
gst_rnn_model_slot_post_switched (GstElement * element,
    const rnn_model * model, const gchar * detail)
{
  const gchar *path = rnn_model_name (model);

  GST_ELEMENT_INFO_WITH_DETAILS (element, RESOURCE, SETTINGS,
      ("Switched to model file \"%s\".", path), ("%s", detail),
      ("model-file", G_TYPE_STRING, path, NULL));
}

/* ------------------------------------------------ common properties */

void
gst_rnn_install_model_file (GObjectClass * klass, guint prop_id,
    const gchar * blurb)
{
  g_object_class_install_property (klass, prop_id,
      g_param_spec_string ("model-file", "Model file", blurb, NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY | GST_PARAM_MUTABLE_PLAYING));
}

/* A boolean that may change while playing. @name and @nick are static. */
static void
install_boolean (GObjectClass * klass, guint prop_id, const gchar * name,
    const gchar * nick, gboolean default_value, const gchar * blurb)
{
  g_object_class_install_property (klass, prop_id,
      g_param_spec_boolean (name, nick, blurb, default_value,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
}

void
gst_rnn_install_reset_on_discont (GObjectClass * klass, guint prop_id,
    gboolean default_value, const gchar * blurb)
{
  install_boolean (klass, prop_id, "reset-on-discont", "Reset on discont",
      default_value, blurb);
}

void
gst_rnn_install_post_messages (GObjectClass * klass, guint prop_id,
    gboolean default_value, const gchar * blurb)
{
  install_boolean (klass, prop_id, "post-messages", "Post messages",
      default_value, blurb);
}

guint
gst_rnn_install_reset_signal (GObjectClass * klass, GCallback handler)
{
  return g_signal_new_class_handler ("reset", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION, handler, NULL, NULL, NULL,
      G_TYPE_NONE, 0);
}

/* ------------------------------------------------------ reset triggers */

void
gst_rnn_lifecycle_init (GstRnnLifecycle * lc)
{
  g_atomic_int_set (&lc->reset_requested, 0);
  lc->after_flush = FALSE;
}

const gchar *
gst_rnn_lifecycle_sink_event (GstRnnLifecycle * lc, GstElement * element,
    GstEvent * event, GstRnnSegmentJumps jumps)
{
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_STREAM_START:
      return "stream-start";
    case GST_EVENT_FLUSH_STOP:
      lc->after_flush = TRUE;
      return "flush-stop";
    case GST_EVENT_SEGMENT:{
      const GstSegment *seg;

      gst_event_parse_segment (event, &seg);
      if (lc->after_flush) {
        lc->after_flush = FALSE;
        return "segment after a flush";
      }
      if (jumps != NULL && jumps (element, seg))
        return "segment jumps";
      return NULL;
    }
    default:
      return NULL;
  }
}

void
gst_rnn_lifecycle_request_reset (GstRnnLifecycle * lc)
{
  g_atomic_int_set (&lc->reset_requested, 1);
}

const gchar *
gst_rnn_lifecycle_check_buffer (GstRnnLifecycle * lc, GstBuffer * buf,
    gboolean reset_on_discont, gboolean dirty)
{
  const gchar *why = NULL;

  if (g_atomic_int_get (&lc->reset_requested)
      && g_atomic_int_compare_and_exchange (&lc->reset_requested, 1, 0))
    why = "reset signal";
  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT)
      && reset_on_discont && dirty)
    why = why ? "reset signal and discont" : "discont";
  return why;
}

/* ------------------------------------------------ state across restarts */

#define STATE_FORMAT_KEY "gst-rnn.state"
#define STATE_FORMAT_VERSION "1"

void
gst_rnn_install_state_file (GObjectClass * klass, guint prop_id,
    const gchar * blurb)
{
  g_object_class_install_property (klass, prop_id,
      g_param_spec_string ("state-file", "State file", blurb, NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
}

/* SHA-256 of the bytes of the model's file (newly allocated), or NULL. */
static gchar *
model_fingerprint (const rnn_model * model, gchar ** why)
{
  gchar *bytes = NULL, *sum;
  gsize len = 0;
  GError *error = NULL;

  if (!g_file_get_contents (rnn_model_name (model), &bytes, &len, &error)) {
    *why = g_strdup_printf ("cannot read the model file to fingerprint it: "
        "%s", error->message);
    g_error_free (error);
    return NULL;
  }
  sum = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) bytes,
      len);
  g_free (bytes);
  return sum;
}

struct _GstRnnStateWriter
{
  GPtrArray *names;             /* gchar* */
  GPtrArray *values;            /* gfloat* */
  GArray *sizes;                /* gint64 */
};

GstRnnStateWriter *
gst_rnn_state_writer_new (void)
{
  GstRnnStateWriter *w = g_new0 (GstRnnStateWriter, 1);

  w->names = g_ptr_array_new_with_free_func (g_free);
  w->values = g_ptr_array_new_with_free_func (g_free);
  w->sizes = g_array_new (FALSE, FALSE, sizeof (gint64));
  return w;
}

void
gst_rnn_state_writer_free (GstRnnStateWriter * w)
{
  if (w == NULL)
    return;
  g_ptr_array_unref (w->names);
  g_ptr_array_unref (w->values);
  g_array_unref (w->sizes);
  g_free (w);
}

void
gst_rnn_state_writer_add (GstRnnStateWriter * w, const gchar * name,
    const gfloat * v, gsize n)
{
  gint64 n64 = (gint64) n;

  g_ptr_array_add (w->names, g_strdup (name));
  /* a zero-length array is kept as one unused float: safetensors allows
   * empty tensors but a NULL data pointer would be ambiguous */
  g_ptr_array_add (w->values, g_memdup2 (v, MAX (n, 1) * sizeof (gfloat)));
  g_array_append_val (w->sizes, n64);
}

void
gst_rnn_state_writer_add_state (GstRnnStateWriter * w, const gchar * name,
    const rnn_state * s)
{
  gsize n = rnn_state_size (s);
  gfloat *buf = g_new0 (gfloat, MAX (n, 1));
  rnn_error err;

  /* cannot fail: the buffer has exactly rnn_state_size floats */
  rnn_state_get (s, buf, n, &err);
  gst_rnn_state_writer_add (w, name, buf, n);
  g_free (buf);
}

gboolean
gst_rnn_state_writer_save (GstRnnStateWriter * w, GstElement * element,
    const rnn_model * model, const gchar * path, gchar ** why)
{
  const gchar *keys[] = { STATE_FORMAT_KEY, "element", "model.sha256",
    "model-file"
  };
  const gchar *vals[G_N_ELEMENTS (keys)];
  guint n = w->names->len, i;
  const gint64 **shapes = g_new (const gint64 *, MAX (n, 1));
  int *ndims = g_new (int, MAX (n, 1));
  gchar *sum, *tmp;
  rnn_error err;
  gboolean ok;

  sum = model_fingerprint (model, why);
  if (sum == NULL) {
    g_free (shapes);
    g_free (ndims);
    return FALSE;
  }
  for (i = 0; i < n; i++) {
    shapes[i] = &g_array_index (w->sizes, gint64, i);
    ndims[i] = 1;
  }
  vals[0] = STATE_FORMAT_VERSION;
  vals[1] = gst_rnn_element_name (element);
  vals[2] = sum;
  vals[3] = rnn_model_name (model);
  /* written beside the target and renamed over it: a crash while writing
   * leaves the previous state file whole */
  tmp = g_strdup_printf ("%s.tmp", path);
  ok = rnn_tensors_write (tmp, n, (const char *const *) w->names->pdata,
      ndims, (const int64_t * const *) shapes,
      (const float *const *) w->values->pdata, G_N_ELEMENTS (keys), keys,
      vals, &err) == RNN_OK;
  if (!ok) {
    *why = g_strdup (err.msg);
  } else if (g_rename (tmp, path) != 0) {
    *why = g_strdup_printf ("cannot rename '%s' to '%s': %s", tmp, path,
        g_strerror (errno));
    ok = FALSE;
  }
  if (!ok)
    g_unlink (tmp);
  g_free (tmp);
  g_free (sum);
  g_free (shapes);
  g_free (ndims);
  return ok;
}

rnn_tensors *
gst_rnn_state_file_read (GstElement * element, const rnn_model * model,
    const gchar * path, gchar ** why)
{
  rnn_tensors *t = NULL;
  rnn_error err;
  const gchar *version, *written_by, *saved_sum, *saved_model;
  const gchar *ename = gst_rnn_element_name (element);
  gchar *sum;

  if (rnn_tensors_load (path, &t, &err) != RNN_OK) {
    *why = g_strdup (err.msg);
    return NULL;
  }
  version = rnn_tensors_meta (t, STATE_FORMAT_KEY);
  written_by = rnn_tensors_meta (t, "element");
  saved_sum = rnn_tensors_meta (t, "model.sha256");
  saved_model = rnn_tensors_meta (t, "model-file");
  if (version == NULL || written_by == NULL || saved_sum == NULL) {
    *why = g_strdup_printf ("'%s' is not a gst-rnn state file (no %s, "
        "element and model.sha256 metadata)", path, STATE_FORMAT_KEY);
    goto fail;
  }
  if (strcmp (version, STATE_FORMAT_VERSION) != 0) {
    *why = g_strdup_printf ("state file '%s' has format version %s; this "
        "version reads %s", path, version, STATE_FORMAT_VERSION);
    goto fail;
  }
  if (strcmp (written_by, ename) != 0) {
    *why = g_strdup_printf ("state file '%s' was written by %s, not %s",
        path, written_by, ename);
    goto fail;
  }
  sum = model_fingerprint (model, why);
  if (sum == NULL)
    goto fail;
  if (strcmp (sum, saved_sum) != 0) {
    *why = g_strdup_printf ("state file '%s' was saved with another model "
        "('%s', SHA-256 %.12s...) than model-file '%s' (SHA-256 %.12s...): "
        "a state only means something to the model that made it; delete "
        "the file or set model-file to the model it was saved with", path,
        saved_model ? saved_model : "?", saved_sum, rnn_model_name (model),
        sum);
    g_free (sum);
    goto fail;
  }
  g_free (sum);
  return t;

fail:
  rnn_tensors_free (t);
  return NULL;
}

gboolean
gst_rnn_state_file_start (GstElement * element, const rnn_model * model,
    const gchar * path, rnn_tensors ** out)
{
  gchar *why = NULL;

  *out = NULL;
  if (path == NULL || path[0] == '\0')
    return TRUE;
  if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
    GST_INFO_OBJECT (element, "no state file '%s' yet: starting from zero",
        path);
    return TRUE;
  }
  *out = gst_rnn_state_file_read (element, model, path, &why);
  if (*out == NULL) {
    GST_ELEMENT_ERROR_WITH_DETAILS (element, RESOURCE, SETTINGS,
        ("Cannot restore the state: %s.", why), (NULL),
        ("state-file", G_TYPE_STRING, path, NULL));
    g_free (why);
    return FALSE;
  }
  GST_INFO_OBJECT (element, "state file '%s' read; restored at the first "
      "buffer", path);
  return TRUE;
}

void
gst_rnn_state_file_stop (GstElement * element, const rnn_model * model,
    const gchar * path, GstRnnStateWriter * w)
{
  gchar *why = NULL;

  if (!gst_rnn_state_writer_save (w, element, model, path, &why)) {
    GST_ELEMENT_WARNING_WITH_DETAILS (element, RESOURCE, WRITE,
        ("Could not save the state to '%s': %s.", path, why), (NULL),
        ("state-file", G_TYPE_STRING, path, NULL));
    g_free (why);
  } else {
    GST_INFO_OBJECT (element, "state saved to '%s'", path);
  }
  gst_rnn_state_writer_free (w);
}

const gfloat *
gst_rnn_state_file_get (const rnn_tensors * t, const gchar * name, gsize n,
    gchar ** why)
{
  const rnn_tensor *e = rnn_tensors_find (t, name);
  gsize have;

  if (e == NULL || (n > 0 && e->data == NULL)) {
    *why = g_strdup_printf ("the state file has no '%s'", name);
    return NULL;
  }
  /* an empty array was stored as one unused float */
  have = e->ndim == 1 ? (gsize) e->shape[0] : e->numel;
  if (have != n) {
    *why = g_strdup_printf ("the state file's '%s' has %" G_GSIZE_FORMAT
        " values where the element now needs %" G_GSIZE_FORMAT " (saved with "
        "another channel count, window or mode?)", name, have, n);
    return NULL;
  }
  return e->data;
}

gboolean
gst_rnn_state_file_get_state (const rnn_tensors * t, const gchar * name,
    rnn_state * s, gchar ** why)
{
  gsize n = rnn_state_size (s);
  const gfloat *v = gst_rnn_state_file_get (t, name, n, why);
  rnn_error err;

  if (v == NULL)
    return FALSE;
  if (rnn_state_set (s, v, n, &err) != RNN_OK) {
    *why = g_strdup (err.msg);
    return FALSE;
  }
  return TRUE;
}
