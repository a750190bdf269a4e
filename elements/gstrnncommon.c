/* gst-rnn: behaviour shared by every model-running element.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>

#include "gstrnncommon.h"

rnn_model *
gst_rnn_load_model (GstElement * element, const gchar * path, rnn_task task)
{
  rnn_model *model = NULL;
  rnn_error err;
  rnn_status st;
  const gchar *ename;

  ename = gst_rnn_element_name (element);

  if (path == NULL || path[0] == '\0') {
    GST_ELEMENT_ERROR (element, RESOURCE, NOT_FOUND,
        ("No model file set on %s.", ename),
        ("no model-file set: set the model-file property to a .safetensors "
            "model"));
    return NULL;
  }

  if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
    GST_ELEMENT_ERROR (element, RESOURCE, NOT_FOUND,
        ("Model file '%s' not found.", path),
        ("model-file '%s': no such file", path));
    return NULL;
  }

  memset (&err, 0, sizeof (err));
  st = rnn_model_load (path, &model, &err);
  if (st != RNN_OK || model == NULL) {
    const gchar *msg = err.msg[0] ? err.msg : rnn_status_str (st);

    if (st == RNN_ERR_IO) {
      GST_ELEMENT_ERROR (element, RESOURCE, OPEN_READ,
          ("Could not read model file '%s'.", path),
          ("model-file '%s': %s", path, msg));
    } else {
      GST_ELEMENT_ERROR (element, RESOURCE, SETTINGS,
          ("Invalid model file '%s'.", path),
          ("model-file '%s': %s", path, msg));
    }
    rnn_model_free (model);
    return NULL;
  }

  if (task != RNN_TASK_NONE && rnn_model_task (model) != task) {
    GST_ELEMENT_ERROR (element, RESOURCE, SETTINGS,
        ("model '%s' has task '%s' but %s needs '%s'", path,
            rnn_task_name (rnn_model_task (model)), ename,
            rnn_task_name (task)),
        ("set the `task` metadata of the model to '%s' or use the element "
            "made for task '%s'", rnn_task_name (task),
            rnn_task_name (rnn_model_task (model))));
    rnn_model_free (model);
    return NULL;
  }

  return model;
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
