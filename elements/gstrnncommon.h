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
 * failure posts GST_ELEMENT_ERROR (RESOURCE, NOT_FOUND / OPEN_READ /
 * SETTINGS) whose message itself names the file and the problem (and, for
 * another task, the element to use), and returns NULL. @path NULL or
 * empty is an error too ("no model-file set"). */
rnn_model *gst_rnn_load_model (GstElement * element, const gchar * path,
    rnn_task task, rnn_precision precision);

/* The element made for models of @task ("lstmforecast", ...; "texttagger"
 * for tag), or NULL for RNN_TASK_NONE. */
const gchar *gst_rnn_element_for_task (rnn_task task);
/* Why @model (loaded) cannot run in @element, which needs @task: the
 * model's task and the element to use instead. Newly allocated. */
gchar *gst_rnn_task_mismatch (GstElement * element, const rnn_model * model,
    rnn_task task);

/* For a feature-count mismatch: the columns the model was trained on, from
 * its `input.names` metadata, as "its input.names: a,b; with csvparse, set
 * columns=a,b". NULL when the model has no usable names. Newly allocated. */
gchar *gst_rnn_columns_hint (const rnn_model * model);

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

/* ------------------------------------------------ common properties
 * Each element keeps its own doc block per property (named after its
 * type) and its blurb; the specs (names, types, flags) are made here. */

/* `model-file` (string): settable in every state; a set while running is a
 * model change (GstRnnModelSlot). */
void gst_rnn_install_model_file (GObjectClass * klass, guint prop_id,
    const gchar * blurb);
/* `reset-on-discont` (boolean), changeable while playing. */
void gst_rnn_install_reset_on_discont (GObjectClass * klass, guint prop_id,
    gboolean default_value, const gchar * blurb);
/* `post-messages` (boolean), changeable while playing. */
void gst_rnn_install_post_messages (GObjectClass * klass, guint prop_id,
    gboolean default_value, const gchar * blurb);
/* `precision` (enum GstRnnPrecision, nicks f32 | bf16 | int8, values the
 * rnn_precision ones, default f32), settable in NULL and READY: the
 * precision the model's recurrent weights are converted to when it is
 * loaded (kept in GstRnnModelSlot.precision, under the object lock). */
#define GST_TYPE_RNN_PRECISION (gst_rnn_precision_get_type ())
GType gst_rnn_precision_get_type (void);
void gst_rnn_install_precision (GObjectClass * klass, guint prop_id,
    const gchar * blurb);
/* The `reset` action signal (no arguments, no return), whose class handler
 * @handler (void (*) (GstElement *)) calls gst_rnn_lifecycle_request_reset
 * on the element's lifecycle. Returns the signal id. */
guint gst_rnn_install_reset_signal (GObjectClass * klass, GCallback handler);

/* ------------------------------------------------------ reset triggers
 * When the recurrent state of a model-running element is zeroed: the
 * events and buffer flags every such element treats the same way. What the
 * element does on a reset (at once or before the next frame) is its own. */
typedef struct {
  gint reset_requested;         /* atomic: the `reset` action signal */
  gboolean after_flush;         /* FLUSH_STOP seen, its SEGMENT not yet */
} GstRnnLifecycle;

/* Does a SEGMENT that arrives without a flush start somewhere else than
 * where the stream is (the element's rule)? */
typedef gboolean (*GstRnnSegmentJumps) (GstElement * element,
    const GstSegment * segment);

/* Streaming thread: is @event a reset trigger? STREAM_START and
 * FLUSH_STOP are; a SEGMENT is when it follows a FLUSH_STOP or when
 * @jumps says so. Returns a static string naming the trigger (for logs),
 * or NULL. The event is not consumed. */
const gchar *gst_rnn_lifecycle_sink_event (GstRnnLifecycle * lc,
    GstElement * element, GstEvent * event, GstRnnSegmentJumps jumps);
/* Any thread: ask for a reset before the next buffer. */
void gst_rnn_lifecycle_request_reset (GstRnnLifecycle * lc);
/* Streaming thread, at each buffer: a reset requested by the signal since
 * the last call, or a DISCONT @buf when @reset_on_discont (and @dirty:
 * frames went through since the last reset). Returns the trigger's name
 * or NULL; the request is consumed. */
const gchar *gst_rnn_lifecycle_check_buffer (GstRnnLifecycle * lc,
    GstBuffer * buf, gboolean reset_on_discont, gboolean dirty);
/* start(): no pending request, no flush. */
void gst_rnn_lifecycle_init (GstRnnLifecycle * lc);

/* ------------------------------------------- model changes while running
 *
 * The `model-file` property of an element whose model can change while it
 * runs. Without a model in use (NULL, READY) a set only stores the path for
 * the next start. With one (PAUSED, PLAYING) a set loads and checks the new
 * file in the setting thread with no lock held (the streaming thread never
 * waits for file I/O), then publishes it under the object lock as the
 * *next* model, which the streaming thread takes at its next buffer
 * (gst_rnn_model_slot_take). A file that cannot be used posts a WARNING
 * (RESOURCE/SETTINGS, details field `model-file`) naming it, the problem
 * and the model kept; nothing else changes. When sets race, the last set
 * wins: each takes a sequence number and a load overtaken by a newer set is
 * dropped. Every field is protected by the element's object lock. */
typedef struct {
  gchar *path;                  /* the property: the file in use or to use */
  rnn_precision precision;      /* the `precision` property: applied to
                                 * every model loaded (rnn_model_set_precision) */
  guint seq;                    /* bumped by every set */
  gboolean running;             /* a model is in use */
  rnn_model *next;              /* loaded, checked, not yet taken */
  gpointer next_data;           /* the element's data for @next */
  GDestroyNotify next_data_free;
} GstRnnModelSlot;

/* Checks a loaded model (task already checked) in the setting thread, the
 * same checks as at start: TRUE, with optional data for the element in
 * *data (handed back by gst_rnn_model_slot_take, freed with the
 * @data_free given to gst_rnn_model_slot_set when dropped), or FALSE with
 * a newly allocated reason in *why. Called without any lock held. */
typedef gboolean (*GstRnnModelCheck) (GstElement * element,
    const rnn_model * model, gpointer * data, gchar ** why);

/* Finalize: frees the path and a next model. */
void gst_rnn_model_slot_clear (GstRnnModelSlot * slot);
/* set_property: store @path, or change the model while running as above
 * (@task: the task the element needs; @check may be NULL). */
void gst_rnn_model_slot_set (GstRnnModelSlot * slot, GstElement * element,
    const gchar * path, rnn_task task, GstRnnModelCheck check,
    GDestroyNotify data_free);
/* get_property. Newly allocated. */
gchar *gst_rnn_model_slot_dup_path (GstRnnModelSlot * slot,
    GstElement * element);
/* start(), before loading: the path to load (newly allocated) and the
 * sequence number to hand to gst_rnn_model_slot_started. */
gchar *gst_rnn_model_slot_begin (GstRnnModelSlot * slot,
    GstElement * element, guint * seq);
/* start() succeeded with the model from @loaded: the slot is running. A
 * model-file set while it loaded was only stored; it is returned (newly
 * allocated, NULL if none) for the caller to apply with
 * gst_rnn_model_slot_set once its model is installed. */
gchar *gst_rnn_model_slot_started (GstRnnModelSlot * slot,
    GstElement * element, guint seq, const gchar * loaded);
/* stop(): no model in use; a next model not yet taken is freed. */
void gst_rnn_model_slot_stopped (GstRnnModelSlot * slot,
    GstElement * element);
/* Streaming thread, at a buffer boundary: the next model (the caller owns
 * it and *data) or NULL. */
rnn_model *gst_rnn_model_slot_take (GstRnnModelSlot * slot,
    GstElement * element, gpointer * data);
/* Post the INFO message of a switch to @model (details field
 * `model-file`); @detail says what else changed. */
void gst_rnn_model_slot_post_switched (GstElement * element,
    const rnn_model * model, const gchar * detail);

/* ------------------------------------------------ state across restarts
 * The `state-file` property of every model element: a file read when the
 * element starts (if it exists) and written when it stops, so that an
 * application that restarts continues every stream where it was instead of
 * from a zero state. The file is a safetensors file of named float32
 * arrays (the element's per-stream state: the recurrent state through
 * rnn_state_get/set, plus whatever else the element carries) with metadata
 * binding it to the element and to the model: the SHA-256 of the model
 * file's bytes. A file from another model or element is refused with an
 * error that says so. */

/* `state-file` (string), settable in NULL and READY. */
void gst_rnn_install_state_file (GObjectClass * klass, guint prop_id,
    const gchar * blurb);

/* A state being written: named float arrays (copied). */
typedef struct _GstRnnStateWriter GstRnnStateWriter;
GstRnnStateWriter *gst_rnn_state_writer_new (void);
void gst_rnn_state_writer_free (GstRnnStateWriter * w);
void gst_rnn_state_writer_add (GstRnnStateWriter * w, const gchar * name,
    const gfloat * v, gsize n);
/* The hidden state of @s under @name. */
void gst_rnn_state_writer_add_state (GstRnnStateWriter * w,
    const gchar * name, const rnn_state * s);
/* Write @w to @path (through a temporary file, renamed) for @element and
 * @model. FALSE with a newly allocated reason in *why. */
gboolean gst_rnn_state_writer_save (GstRnnStateWriter * w,
    GstElement * element, const rnn_model * model, const gchar * path,
    gchar ** why);

/* Read the state file @path for @element running @model: NULL with *why
 * (newly allocated) when it cannot be read, is not a state file, or was
 * written by another element or with another model. The caller frees the
 * result with rnn_tensors_free. */
rnn_tensors *gst_rnn_state_file_read (GstElement * element,
    const rnn_model * model, const gchar * path, gchar ** why);
/* start(): @path (the property; NULL or empty: none) read for @model
 * when it exists. TRUE with *out the file (rnn_tensors_free) or NULL when
 * there is none yet; FALSE after posting an error that names the file and
 * the problem. */
gboolean gst_rnn_state_file_start (GstElement * element,
    const rnn_model * model, const gchar * path, rnn_tensors ** out);
/* stop(): write @w (taken) to @path for @model; a failure posts a
 * WARNING naming the file and the problem. */
void gst_rnn_state_file_stop (GstElement * element, const rnn_model * model,
    const gchar * path, GstRnnStateWriter * w);
/* The array @name of exactly @n floats from a state file, or NULL with
 * *why set (absent, or another size). */
const gfloat *gst_rnn_state_file_get (const rnn_tensors * t,
    const gchar * name, gsize n, gchar ** why);
/* Set @s from the array @name; FALSE with *why set. */
gboolean gst_rnn_state_file_get_state (const rnn_tensors * t,
    const gchar * name, rnn_state * s, gchar ** why);

G_END_DECLS

#endif
