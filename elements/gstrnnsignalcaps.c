/* gst-rnn: the signal caps grammar (see gstrnnsignalcaps.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdlib.h>
#include <string.h>

#include "gstrnnsignalcaps.h"

/* Read a decimal number written with hex digits back: a flag-set keeps
 * "10" as 0x10. Returns FALSE when the hex form has a letter. */
static gboolean
hex_as_decimal (guint v, guint * out)
{
  gchar buf[16];
  guint i;

  g_snprintf (buf, sizeof (buf), "%x", v);
  for (i = 0; buf[i]; i++)
    if (!g_ascii_isdigit (buf[i]))
      return FALSE;
  *out = (guint) strtoul (buf, NULL, 10);
  return TRUE;
}

/* The reverse: the flag-set an unquoted decimal @v would parse into. */
static gboolean
decimal_as_hex (guint v, guint * out)
{
  gchar buf[16];
  guint64 r;

  g_snprintf (buf, sizeof (buf), "%u", v);
  r = g_ascii_strtoull (buf, NULL, 16);
  if (r > G_MAXUINT32)
    return FALSE;
  *out = (guint) r;
  return TRUE;
}

gboolean
gst_rnn_signal_caps_parse_dims (const gchar * str, guint * features, guint * frames)
{
  gchar **parts;
  guint n, i;
  gboolean ok = TRUE;
  guint64 v[16];

  if (str == NULL || *str == '\0')
    return FALSE;
  parts = g_strsplit (str, ":", -1);
  n = g_strv_length (parts);
  if (n == 0 || n > 16)
    ok = FALSE;
  for (i = 0; ok && i < n; i++) {
    gchar *end = NULL;
    const gchar *p = g_strstrip (parts[i]);

    if (!g_ascii_isdigit (*p)) {
      ok = FALSE;
      break;
    }
    v[i] = g_ascii_strtoull (p, &end, 10);
    if (*end != '\0' || v[i] == 0 || v[i] > G_MAXINT)
      ok = FALSE;
  }
  for (i = 2; ok && i < n; i++)
    if (v[i] != 1)
      ok = FALSE;
  if (ok) {
    *features = (guint) v[0];
    *frames = n >= 2 ? (guint) v[1] : 1;
  }
  g_strfreev (parts);
  return ok;
}

gboolean
gst_rnn_signal_caps_parse (const GstStructure * s, GstRnnSignalCaps * sc, gchar ** why)
{
  memset (sc, 0, sizeof (*sc));

  if (gst_structure_has_name (s, "audio/x-raw")) {
    gint ch = 0, rate = 0;

    if (!gst_structure_get_int (s, "channels", &ch) || ch <= 0
        || !gst_structure_get_int (s, "rate", &rate) || rate <= 0) {
      *why = g_strdup ("audio caps without a fixed channels and rate");
      return FALSE;
    }
    sc->features = ch;
    sc->rate_n = rate;
    sc->rate_d = 1;
    return TRUE;
  }

  if (gst_structure_has_name (s, "other/tensors")) {
    const GValue *dims = gst_structure_get_value (s, "dimensions");

    sc->tensors = TRUE;
    if (!gst_structure_get_fraction (s, "framerate", &sc->rate_n, &sc->rate_d)
        || sc->rate_n <= 0 || sc->rate_d <= 0) {
      *why = g_strdup ("other/tensors caps need a framerate > 0 "
          "(frames per second)");
      return FALSE;
    }
    if (dims == NULL) {
      *why = g_strdup ("other/tensors caps without dimensions (F:N)");
      return FALSE;
    }
    if (G_VALUE_HOLDS_STRING (dims)) {
      if (!gst_rnn_signal_caps_parse_dims (g_value_get_string (dims), &sc->features,
              &sc->frames)) {
        *why = g_strdup_printf ("other/tensors dimensions '%s' are not F:N "
            "(features:frames, both > 0)", g_value_get_string (dims));
        return FALSE;
      }
    } else if (G_VALUE_HOLDS_INT (dims)) {
      if (g_value_get_int (dims) <= 0) {
        *why = g_strdup ("other/tensors dimensions must be > 0");
        return FALSE;
      }
      sc->features = g_value_get_int (dims);
      sc->frames = 1;
    } else if (GST_VALUE_HOLDS_FLAG_SET (dims)) {
      /* An unquoted F:N parsed as flags F, mask N (hex digits), flags
       * masked; fixating then sets the mask to all ones. What is left:
       * some bits of F, and N while the mask is not exact. */
      sc->flagset = TRUE;
      sc->flags = gst_value_get_flagset_flags (dims);
      sc->mask = gst_value_get_flagset_mask (dims);
      if (sc->mask == GST_FLAG_SET_MASK_EXACT
          || !hex_as_decimal (sc->mask, &sc->frames))
        sc->frames = 0;
    } else {
      *why = g_strdup_printf ("other/tensors dimensions of type %s; expected "
          "a string F:N", G_VALUE_TYPE_NAME (dims));
      return FALSE;
    }
    return TRUE;
  }

  *why = g_strdup_printf ("unsupported caps '%s'", gst_structure_get_name (s));
  return FALSE;
}

static void
set_tensor_dims (GstStructure * s, guint features, guint frames)
{
  gchar *d = g_strdup_printf ("%u:%u", features, frames);

  gst_structure_set (s, "dimensions", G_TYPE_STRING, d, NULL);
  g_free (d);
}

gboolean
gst_rnn_signal_caps_flagset_fits (const GstRnnSignalCaps * sc, guint features)
{
  guint hf;

  /* the flag-set lost the bits of F outside the mask: @features fits when
   * it agrees with what survived */
  return decimal_as_hex (features, &hf) && (sc->flags & ~hf) == 0
      && (sc->mask == GST_FLAG_SET_MASK_EXACT || (hf & sc->mask) == sc->flags);
}

GstCaps *
gst_rnn_signal_caps_transform (GstPadDirection direction,
    const GstCaps * caps, guint model_in, guint model_out,
    gboolean per_channel)
{
  GstCaps *res;
  guint i;

  if (per_channel) {
    /* one output channel per input channel: the caps carry over as they
     * are (set_caps refuses what cannot be used) */
    return gst_caps_copy (caps);
  }

  res = gst_caps_new_empty ();
  for (i = 0; i < gst_caps_get_size (caps); i++) {
    const GstStructure *in = gst_caps_get_structure (caps, i);
    GstStructure *s = gst_structure_copy (in);
    /* the feature count on the other side, 0 when any */
    guint other = direction == GST_PAD_SINK ? model_out : model_in;

    if (gst_structure_has_name (s, "audio/x-raw")) {
      gst_structure_remove_field (s, "channel-mask");
      if (other > 0) {
        /* only the model's count: a converter upstream (audioconvert)
         * then produces it; a source that cannot fails to negotiate, and
         * caps forced on the element anyway fail in set_caps with an
         * error naming both numbers */
        gst_structure_set (s, "channels", G_TYPE_INT, (gint) other, NULL);
        if (other > 1 && direction == GST_PAD_SINK)
          gst_structure_set (s, "channel-mask", GST_TYPE_BITMASK,
              (guint64) 0, NULL);
      } else {
        gst_structure_set (s, "channels", GST_TYPE_INT_RANGE, 1, G_MAXINT,
            NULL);
      }
      gst_caps_append_structure (res, s);
    } else if (gst_structure_has_name (s, "other/tensors")) {
      GstRnnSignalCaps sc;
      gchar *why = NULL;

      if (direction == GST_PAD_SINK && other > 0
          && gst_rnn_signal_caps_parse (in, &sc, &why)) {
        guint hf, hn;

        /* a fixated flag-set lost N: say one frame per buffer */
        if (sc.frames == 0)
          sc.frames = 1;

        set_tensor_dims (s, other, sc.frames);
        gst_caps_append_structure (res, s);
        /* also offer the flag-set an unquoted F:N downstream would be */
        if (decimal_as_hex (other, &hf) && decimal_as_hex (sc.frames, &hn)) {
          GstStructure *alt = gst_structure_copy (s);
          gst_structure_set (alt, "dimensions", GST_TYPE_FLAG_SET, hf & hn,
              hn, NULL);
          gst_caps_append_structure (res, alt);
        }
      } else {
        /* unknown on this side: any dimensions; set_caps checks them */
        gst_structure_remove_field (s, "dimensions");
        gst_caps_append_structure (res, s);
      }
      g_free (why);
    } else {
      gst_structure_free (s);
    }
  }
  return res;
}

gchar *
gst_rnn_signal_caps_refused_channels (const GstCaps * filter,
    const GstCaps * result)
{
  static GstStaticCaps templ = GST_STATIC_CAPS (GST_RNN_SIGNAL_CAPS);
  GstCaps *t;
  gchar *offered = NULL;
  guint i;

  if (filter == NULL || result == NULL || !gst_caps_is_empty (result)
      || gst_caps_is_any (filter))
    return NULL;
  t = gst_static_caps_get (&templ);
  for (i = 0; i < gst_caps_get_size (filter) && offered == NULL; i++) {
    const GstStructure *f = gst_caps_get_structure (filter, i);
    const GValue *ch = gst_structure_get_value (f, "channels");
    GstStructure *s;
    GstCaps *c;

    if (!gst_structure_has_name (f, "audio/x-raw") || ch == NULL)
      continue;
    s = gst_structure_copy (f);
    gst_structure_remove_fields (s, "channels", "channel-mask", NULL);
    c = gst_caps_new_full (s, NULL);
    if (gst_caps_can_intersect (c, t))
      offered = gst_value_serialize (ch);
    gst_caps_unref (c);
  }
  gst_caps_unref (t);
  return offered;
}
