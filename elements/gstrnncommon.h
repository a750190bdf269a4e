/* gst-rnn: behaviour shared by every model-running element
 * (lstmforecast, gruanomaly, textsentiment).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef GST_RNN_COMMON_H
#define GST_RNN_COMMON_H

#include <gst/gst.h>
#include "rnn.h"

G_BEGIN_DECLS

/* Load @path and check that its task is @task (RNN_TASK_NONE: any). On
 * failure posts GST_ELEMENT_ERROR (RESOURCE, NOT_FOUND / SETTINGS) whose
 * message names the file and the problem, and returns NULL. @path NULL or
 * empty is an error too ("no model-file set"). */
rnn_model *gst_rnn_load_model (GstElement * element, const gchar * path,
    rnn_task task);

/* A new element message structure named after @element's factory
 * ("lstmforecast", ...) holding `timestamp`, `stream-time`, `running-time`
 * and `duration` (guint64 ns, GST_CLOCK_TIME_NONE when unknown) for the
 * frame at @ts in @segment, like `level`'s. The caller adds its fields and
 * posts it with gst_rnn_post_message(). */
GstStructure *gst_rnn_message_new (GstElement * element,
    const GstSegment * segment, GstClockTime ts, GstClockTime duration);
/* Posts @s (ownership taken) as an element message, outside any lock. */
void gst_rnn_post_message (GstElement * element, GstStructure * s);

/* The element's factory name ("lstmforecast", ...), or its type name when it
 * was not made by a factory. Owned by the factory; do not free. */
const gchar *gst_rnn_element_name (GstElement * element);

/* A GST_TYPE_ARRAY GValue of doubles from @n floats (caller unsets). */
void gst_rnn_value_set_double_array (GValue * value, const float *v, guint n);

G_END_DECLS

#endif
